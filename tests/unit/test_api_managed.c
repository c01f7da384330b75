/* Unit tests for apiserver/managed: FieldsV1 encoding, Update ownership and server-side apply
 * (conflicts, force, pruning, shared lists) on realistic Deployments. Expected field sets are
 * what an upstream API server (1.3x) stores for the same requests. Objects are written with
 * single quotes for legibility; q() turns them into JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json.h"
#include "managed.h"
#include "patch.h"

#define T0 "2024-05-01T10:00:00Z"
#define T1 "2024-05-01T10:01:00Z"
#define T2 "2024-05-01T10:02:00Z"
#define T3 "2024-05-01T10:03:00Z"

static struct k8c_arena *A;

static int setup(void **state)
{
    (void)state;
    A = k8c_arena_new(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    k8c_arena_del(A);
    return 0;
}

/* Parses text with ' standing for " (so \\' is an escaped quote inside a string). */
static struct k8c_json *q(const char *text)
{
    size_t n = strlen(text);
    char *s = k8c_arena_strndup(A, text, n);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\'')
            s[i] = '"';
    struct k8c_json *v = NULL;
    char err[K8C_ERRMSG_SIZE] = "";
    if (k8c_json_parse(A, s, n, NULL, &v, err) != 0)
        fail_msg("parse of %s failed: %s", s, err);
    return v;
}

/* Compact JSON with " shown as ' (so expectations read like the inputs). */
static const char *w(const struct k8c_json *v)
{
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, v, 0, K8C_JSON_W_NO_HTML_ESCAPE);
    for (size_t i = 0; i < sb.len; i++)
        if (sb.data[i] == '"')
            sb.data[i] = '\'';
    char *s = k8c_arena_strndup(A, sb.data, sb.len);
    k8c_sbuf_free(&sb);
    return s;
}

static struct api_managed_op op_of(const char *manager, const char *subresource, const char *time)
{
    struct api_managed_op op = {manager, "apps/v1", "Deployment", subresource, time};
    return op;
}

static struct k8c_json *update(const struct k8c_json *live, struct k8c_json *obj,
                               const char *manager, const char *subresource, const char *time)
{
    struct api_managed_op op = op_of(manager, subresource, time);
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = api_managed_update(A, live, obj, &op, err);
    if (rc != 0)
        fail_msg("update by %s failed: %d %s", manager, rc, err);
    return obj;
}

static struct k8c_json *apply(const struct k8c_json *live, const struct k8c_json *config,
                              const char *manager, bool force, const char *time)
{
    struct api_managed_op op = op_of(manager, NULL, time);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = api_managed_apply(A, live, config, force, &op, &res, err);
    if (rc != 0)
        fail_msg("apply by %s failed: %d %s", manager, rc, err);
    return res.object;
}

static const struct k8c_json *managed(const struct k8c_json *obj)
{
    const struct k8c_json *meta = k8c_json_get(obj, "metadata");
    return meta ? k8c_json_get(meta, "managedFields") : NULL;
}

/* The managedFields entry of manager with operation, or NULL. */
static const struct k8c_json *entry(const struct k8c_json *obj, const char *manager,
                                    const char *operation)
{
    const struct k8c_json *mf = managed(obj);
    for (uint32_t i = 0; mf != NULL && i < mf->len; i++) {
        const struct k8c_json *e = mf->u.items[i];
        const struct k8c_json *m = k8c_json_get(e, "manager"), *o = k8c_json_get(e, "operation");
        if (m && o && strcmp(m->u.str, manager) == 0 && strcmp(o->u.str, operation) == 0)
            return e;
    }
    return NULL;
}

static const char *fields(const struct k8c_json *obj, const char *manager, const char *operation)
{
    const struct k8c_json *e = entry(obj, manager, operation);
    if (e == NULL)
        fail_msg("no %s entry for %s in %s", operation, manager, w(managed(obj)));
    return w(k8c_json_get(e, "fieldsV1"));
}

static const char *get_path(const struct k8c_json *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *tok = strtok(buf, "."); tok != NULL && v != NULL; tok = strtok(NULL, ".")) {
        if (v->type == K8C_JSON_ARRAY)
            v = atoi(tok) < (int)v->len ? v->u.items[atoi(tok)] : NULL;
        else
            v = k8c_json_get(v, tok);
    }
    return v ? w(v) : NULL;
}

/* What kubectl's client-side apply sends to create a Deployment, after the server's defaulting:
 * the last-applied annotation holds the configuration. */
static const char *const CSA_CONFIG =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'labels':{'app':'web'},"
    "'name':'web','namespace':'default'},'spec':{'replicas':3,'selector':{'matchLabels':"
    "{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':"
    "[{'image':'nginx:1.25','name':'nginx','ports':[{'containerPort':80}]}]}}}}";

static struct k8c_json *csa_created(void)
{
    struct k8c_json *config = q(CSA_CONFIG);
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, config, 0, 0);
    k8c_sbuf_putc(&sb, '\n');
    struct k8c_json *obj =
        q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':"
          "'default','uid':'u-1','resourceVersion':'10','generation':1,'creationTimestamp':'" T0
          "','labels':{'app':'web'},'annotations':{}},'spec':{'replicas':3,'selector':"
          "{'matchLabels':{'app':'web'}},'strategy':{'type':'RollingUpdate','rollingUpdate':"
          "{'maxSurge':'25%','maxUnavailable':'25%'}},'revisionHistoryLimit':10,"
          "'progressDeadlineSeconds':600,'template':{'metadata':{'labels':{'app':'web'}},'spec':"
          "{'containers':[{'name':'nginx','image':'nginx:1.25','ports':[{'containerPort':80,"
          "'protocol':'TCP'}],'resources':{},'terminationMessagePath':'/dev/termination-log',"
          "'terminationMessagePolicy':'File','imagePullPolicy':'IfNotPresent'}],"
          "'restartPolicy':'Always','terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst',"
          "'securityContext':{},'schedulerName':'default-scheduler'}}},'status':{}}");
    struct k8c_json *ann = k8c_json_get(k8c_json_get(obj, "metadata"), "annotations");
    k8c_json_set(A, ann, API_MANAGED_LAST_APPLIED, k8c_json_new_stringn(A, sb.data, sb.len));
    k8c_sbuf_free(&sb);
    return update(NULL, obj, "kubectl-client-side-apply", NULL, T0);
}

/* ---- FieldsV1 -------------------------------------------------------------------------------- */

static void test_fieldset_encoding(void **state)
{
    (void)state;
    struct k8c_json *fs = NULL;
    char err[K8C_ERRMSG_SIZE] = "";
    struct k8c_json *obj =
        q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'ns',"
          "'uid':'x','resourceVersion':'5','labels':{'app':'web'},'finalizers':['example.com/a',"
          "'example.com/b']},'spec':{'replicas':3,'selector':{'matchLabels':{'app':'web'}},"
          "'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx',"
          "'image':'nginx:1.25','args':['--a','--b'],'env':[{'name':'A','value':'1'}],"
          "'ports':[{'containerPort':80}],'resources':{'limits':{'cpu':'1'}}}],"
          "'nodeSelector':{'disk':'ssd'}}}},'status':{'replicas':3}}");

    assert_int_equal(
        api_managed_fieldset(A, obj, api_patch_schema_for_kind("apps", "Deployment"), &fs, err), 0);
    assert_string_equal(
        w(fs),
        "{'f:metadata':{'f:finalizers':{'v:\\'example.com/a\\'':{},'v:\\'example.com/b\\'':{}},"
        "'f:labels':{'f:app':{}}},"
        "'f:spec':{'f:replicas':{},'f:selector':{},'f:template':{'f:metadata':{'f:labels':"
        "{'f:app':{}}},'f:spec':{'f:containers':{'k:{\\'name\\':\\'nginx\\'}':{'.':{},"
        "'f:args':{},'f:env':{'k:{\\'name\\':\\'A\\'}':{'.':{},'f:name':{},'f:value':{}}},"
        "'f:image':{},'f:name':{},'f:ports':{'k:{\\'containerPort\\':80,\\'protocol\\':"
        "\\'TCP\\'}':{'.':{},'f:containerPort':{}}},'f:resources':{'f:limits':{'f:cpu':{}}}}},"
        "'f:nodeSelector':{'f:disk':{}}}}}}");

    /* The text form escapes the keys as Go does. */
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, k8c_json_get(k8c_json_get(fs, "f:metadata"), "f:finalizers"), 0, 0);
    assert_string_equal(sb.data, "{\"v:\\\"example.com/a\\\"\":{},\"v:\\\"example.com/b\\\"\":{}}");
    k8c_sbuf_free(&sb);

    /* A Service's selector is a map; its ports are keyed by port and protocol. */
    obj = q("{'apiVersion':'v1','kind':'Service','metadata':{'name':'s'},'spec':{'selector':"
            "{'app':'web'},'ports':[{'port':80,'targetPort':8080},{'port':53,'protocol':'UDP'}]}}");
    assert_int_equal(
        api_managed_fieldset(A, obj, api_patch_schema_for_kind("", "Service"), &fs, err), 0);
    assert_string_equal(
        w(fs), "{'f:spec':{'f:ports':{'k:{\\'port\\':53,\\'protocol\\':\\'UDP\\'}':{'.':{},"
               "'f:port':{},'f:protocol':{}},'k:{\\'port\\':80,\\'protocol\\':\\'TCP\\'}':"
               "{'.':{},'f:port':{},'f:targetPort':{}}},'f:selector':{'f:app':{}}}}");

    /* A list item without its merge key is an error. */
    obj = q("{'spec':{'template':{'spec':{'containers':[{'image':'x'}]}}}}");
    assert_int_equal(
        api_managed_fieldset(A, obj, api_patch_schema_for_kind("apps", "Deployment"), &fs, err),
        K8C_EINVAL);
    assert_non_null(strstr(err, "omits all key fields [\"name\"]"));
}

/* ---- Update ---------------------------------------------------------------------------------- */

static void test_update_create_by_client_side_apply(void **state)
{
    (void)state;
    struct k8c_json *obj = csa_created();
    const struct k8c_json *mf = managed(obj);

    assert_non_null(mf);
    assert_int_equal(mf->len, 1);
    /* Exactly the entry upstream stores, in Go's field order. */
    const char *e = w(mf->u.items[0]);
    const char *want_head = "{'manager':'kubectl-client-side-apply','operation':'Update',"
                            "'apiVersion':'apps/v1','time':'" T0 "','fieldsType':'FieldsV1',"
                            "'fieldsV1':";
    assert_memory_equal(e, want_head, strlen(want_head));
    assert_string_equal(
        fields(obj, "kubectl-client-side-apply", "Update"),
        "{'f:metadata':{'f:annotations':{'.':{},"
        "'f:kubectl.kubernetes.io/last-applied-configuration':{}},'f:labels':{'.':{},'f:app':{}}},"
        "'f:spec':{'f:progressDeadlineSeconds':{},'f:replicas':{},'f:revisionHistoryLimit':{},"
        "'f:selector':{},'f:strategy':{'f:rollingUpdate':{'.':{},'f:maxSurge':{},"
        "'f:maxUnavailable':{}},'f:type':{}},'f:template':{'f:metadata':{'f:labels':{'.':{},"
        "'f:app':{}}},'f:spec':{'f:containers':{'k:{\\'name\\':\\'nginx\\'}':{'.':{},"
        "'f:image':{},'f:imagePullPolicy':{},'f:name':{},'f:ports':{'.':{},"
        "'k:{\\'containerPort\\':80,\\'protocol\\':\\'TCP\\'}':{'.':{},'f:containerPort':{},"
        "'f:protocol':{}}},'f:resources':{},'f:terminationMessagePath':{},"
        "'f:terminationMessagePolicy':{}}},'f:dnsPolicy':{},'f:restartPolicy':{},"
        "'f:schedulerName':{},'f:securityContext':{},'f:terminationGracePeriodSeconds':{}}}}}");
}

static void test_update_moves_changed_fields(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    struct k8c_json *obj = k8c_json_copy(A, live);

    /* An editor changes the image and adds an env var (patch, update...). */
    struct k8c_json *c0 = q("{'name':'nginx','image':'nginx:1.26','ports':[{'containerPort':80,"
                            "'protocol':'TCP'}],'env':[{'name':'MODE','value':'prod'}]}");
    struct k8c_json *containers = k8c_json_get(
        k8c_json_get(k8c_json_get(k8c_json_get(obj, "spec"), "template"), "spec"), "containers");
    containers->u.items[0] = c0;
    update(live, obj, "editor", NULL, T1);

    assert_string_equal(fields(obj, "editor", "Update"),
                        "{'f:spec':{'f:template':{'f:spec':{'f:containers':{'k:{\\'name\\':"
                        "\\'nginx\\'}':{'f:env':{'.':{},'k:{\\'name\\':\\'MODE\\'}':{'.':{},"
                        "'f:name':{},'f:value':{}}},'f:image':{}}}}}}}");
    /* The creator lost the image and the fields the editor dropped from the container. */
    const char *csa = fields(obj, "kubectl-client-side-apply", "Update");
    assert_null(strstr(csa, "f:image'"));
    assert_null(strstr(csa, "f:imagePullPolicy"));
    assert_null(strstr(csa, "f:resources"));
    assert_non_null(strstr(csa, "f:replicas"));
    assert_non_null(strstr(csa, "'f:containerPort':{},'f:protocol':{}"));
    /* Updaters sort by time. */
    assert_string_equal(get_path(obj, "metadata.managedFields.0.manager"),
                        "'kubectl-client-side-apply'");
    assert_string_equal(get_path(obj, "metadata.managedFields.1.manager"), "'editor'");
    assert_string_equal(get_path(obj, "metadata.managedFields.1.time"), "'" T1 "'");

    /* The same manager changing again keeps one entry holding both changes; a write that
     * changes nothing leaves the time alone. */
    struct k8c_json *obj2 = k8c_json_copy(A, obj);
    k8c_json_set(A, k8c_json_get(obj2, "spec"), "minReadySeconds", k8c_json_new_int(A, 5));
    update(obj, obj2, "editor", NULL, T2);
    assert_non_null(strstr(fields(obj2, "editor", "Update"), "f:minReadySeconds"));
    assert_non_null(strstr(fields(obj2, "editor", "Update"), "f:image"));
    struct k8c_json *obj3 = k8c_json_copy(A, obj2);
    update(obj2, obj3, "editor", NULL, T3);
    assert_string_equal(w(k8c_json_get(entry(obj3, "editor", "Update"), "time")), "'" T2 "'");
}

static void test_update_status_subresource(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    struct k8c_json *obj = k8c_json_copy(A, live);

    k8c_json_set(A, obj, "status",
                 q("{'replicas':3,'conditions':[{'type':'Available','status':'True'}]}"));
    /* A status write cannot change the spec; upstream's reset fields keep it unowned. */
    k8c_json_set(A, k8c_json_get(obj, "spec"), "replicas", k8c_json_new_int(A, 7));
    update(live, obj, "kube-controller-manager", "status", T1);
    const struct k8c_json *e = entry(obj, "kube-controller-manager", "Update");
    assert_non_null(e);
    assert_string_equal(w(k8c_json_get(e, "subresource")), "'status'");
    assert_string_equal(w(k8c_json_get(e, "fieldsV1")),
                        "{'f:status':{'f:conditions':{'.':{},'k:{\\'type\\':\\'Available\\'}':"
                        "{'.':{},'f:status':{},'f:type':{}}},'f:replicas':{}}}");
    /* The entry is written last, with subresource after the fields as Go orders it. */
    const char *text = w(e);
    assert_non_null(strstr(text, "}}},'subresource':'status'}"));

    /* A main-resource write never owns status. */
    struct k8c_json *obj2 = k8c_json_copy(A, obj);
    k8c_json_set(A, k8c_json_get(obj2, "status"), "replicas", k8c_json_new_int(A, 4));
    k8c_json_set(A, k8c_json_get(obj2, "metadata"), "annotations", q("{'note':'x'}"));
    update(obj, obj2, "writer", NULL, T2);
    assert_string_equal(fields(obj2, "writer", "Update"),
                        "{'f:metadata':{'f:annotations':{'f:note':{}}}}");
}

static void test_update_reset_and_untracked(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    struct k8c_json *obj = k8c_json_copy(A, live);

    /* managedFields: [] in the request clears them ... */
    k8c_json_set(A, k8c_json_get(obj, "metadata"), "managedFields", k8c_json_new_array(A));
    k8c_json_set(A, k8c_json_get(obj, "spec"), "replicas", k8c_json_new_int(A, 4));
    update(live, obj, "editor", NULL, T1);
    assert_null(managed(obj));
    /* ... and an object that tracks nothing stays untracked. */
    struct k8c_json *obj2 = k8c_json_copy(A, obj);
    k8c_json_set(A, k8c_json_get(obj2, "spec"), "replicas", k8c_json_new_int(A, 5));
    update(obj, obj2, "editor", NULL, T2);
    assert_null(managed(obj2));

    /* Managed fields sent in a request replace the stored ones. */
    struct k8c_json *obj3 = k8c_json_copy(A, live);
    k8c_json_set(A, k8c_json_get(obj3, "metadata"), "managedFields",
                 q("[{'manager':'someone','operation':'Update','apiVersion':'apps/v1','time':'" T0
                   "','fieldsType':'FieldsV1','fieldsV1':{'f:spec':{'f:replicas':{}}}}]"));
    update(live, obj3, "editor", NULL, T1);
    assert_int_equal(managed(obj3)->len, 1);
    assert_string_equal(fields(obj3, "someone", "Update"), "{'f:spec':{'f:replicas':{}}}");
}

static void test_update_caps_managers(void **state)
{
    (void)state;
    struct k8c_json *obj = csa_created();
    char name[32], ts[32], key[32];

    for (int i = 0; i < 11; i++) {
        struct k8c_json *next = k8c_json_copy(A, obj);
        snprintf(name, sizeof(name), "writer-%02d", i);
        snprintf(ts, sizeof(ts), "2024-05-01T11:%02d:00Z", i);
        snprintf(key, sizeof(key), "k%02d", i);
        struct k8c_json *ann = k8c_json_get(k8c_json_get(next, "metadata"), "annotations");
        k8c_json_set(A, ann, key, k8c_json_new_string(A, "v"));
        obj = update(obj, next, name, NULL, ts);
    }
    /* 12 updaters: the two oldest fold into ancient-changes. */
    assert_int_equal(managed(obj)->len, 10);
    assert_null(entry(obj, "kubectl-client-side-apply", "Update"));
    assert_null(entry(obj, "writer-00", "Update"));
    const char *ancient = fields(obj, "ancient-changes", "Update");
    assert_non_null(strstr(ancient, "f:replicas"));
    assert_non_null(strstr(ancient, "f:k00"));
    assert_non_null(entry(obj, "writer-10", "Update"));
}

/* ---- Apply ----------------------------------------------------------------------------------- */

static const char *const SSA_CONFIG =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'default'},"
    "'spec':{'replicas':5,'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
    "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx','image':'nginx:1.25'}]}}}}";

static void test_apply_conflict_after_client_side_apply(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    struct api_managed_op op = op_of("ssa-tool", NULL, T1);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";

    int rc = api_managed_apply(A, live, q(SSA_CONFIG), false, &op, &res, err);
    assert_int_equal(rc, K8C_ECONFLICT);
    assert_string_equal(res.conflict_message,
                        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\""
                        " using apps/v1: .spec.replicas");
    assert_string_equal(err, res.conflict_message);
    assert_int_equal(res.n_conflicts, 1);
    assert_string_equal(res.conflicts[0].field, ".spec.replicas");
    assert_string_equal(res.conflicts[0].message,
                        "conflict with \"kubectl-client-side-apply\" using apps/v1");
    assert_null(res.object);

    /* The same values as live are no conflict: shared ownership. */
    struct k8c_json *same = q(SSA_CONFIG);
    k8c_json_set(A, k8c_json_get(same, "spec"), "replicas", k8c_json_new_int(A, 3));
    struct k8c_json *obj = apply(live, same, "ssa-tool", false, T1);
    assert_non_null(strstr(fields(obj, "kubectl-client-side-apply", "Update"), "f:replicas"));
    assert_non_null(strstr(fields(obj, "ssa-tool", "Apply"), "f:replicas"));
}

static void test_apply_force_takes_ownership(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    struct k8c_json *obj = apply(live, q(SSA_CONFIG), "ssa-tool", true, T1);

    assert_string_equal(get_path(obj, "spec.replicas"), "5");
    /* The live fields nobody applied are kept. */
    assert_string_equal(get_path(obj, "spec.progressDeadlineSeconds"), "600");
    assert_string_equal(get_path(obj, "metadata.uid"), "'u-1'");
    assert_string_equal(get_path(obj, "spec.template.spec.containers.0.imagePullPolicy"),
                        "'IfNotPresent'");
    /* The Apply entry is exactly the applied field set; it sorts first. */
    assert_string_equal(get_path(obj, "metadata.managedFields.0.manager"), "'ssa-tool'");
    assert_string_equal(
        w(managed(obj)->u.items[0]),
        "{'manager':'ssa-tool','operation':'Apply','apiVersion':'apps/v1','time':'" T1
        "','fieldsType':'FieldsV1','fieldsV1':{'f:spec':{'f:replicas':{},'f:selector':{},"
        "'f:template':{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:containers':"
        "{'k:{\\'name\\':\\'nginx\\'}':{'.':{},'f:image':{},'f:name':{}}}}}}}}");
    const char *csa = fields(obj, "kubectl-client-side-apply", "Update");
    assert_null(strstr(csa, "f:replicas"));
    assert_non_null(strstr(csa, "f:progressDeadlineSeconds"));
    assert_non_null(strstr(csa, "f:image"));

    /* Applying the same configuration again changes nothing and keeps the time. */
    struct api_managed_op op = op_of("ssa-tool", NULL, T2);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";
    assert_int_equal(api_managed_apply(A, obj, q(SSA_CONFIG), false, &op, &res, err), 0);
    assert_false(res.changed);
    assert_string_equal(w(k8c_json_get(entry(res.object, "ssa-tool", "Apply"), "time")),
                        "'" T1 "'");
}

static void test_apply_several_conflicts(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    struct k8c_json *edited = k8c_json_copy(A, live);
    struct k8c_json *c0 =
        k8c_json_get(k8c_json_get(k8c_json_get(k8c_json_get(edited, "spec"), "template"), "spec"),
                     "containers")
            ->u.items[0];
    k8c_json_set(A, c0, "image", k8c_json_new_string(A, "nginx:1.26"));
    update(live, edited, "editor", NULL, T1);

    struct k8c_json *config = q(SSA_CONFIG);
    struct api_managed_op op = op_of("ssa-tool", NULL, T2);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";
    assert_int_equal(api_managed_apply(A, edited, config, false, &op, &res, err), K8C_ECONFLICT);
    assert_string_equal(res.conflict_message,
                        "Apply failed with 2 conflicts: conflicts with \"editor\" using apps/v1:\n"
                        "- .spec.template.spec.containers[name=\"nginx\"].image\n"
                        "conflicts with \"kubectl-client-side-apply\" using apps/v1:\n"
                        "- .spec.replicas");
    assert_int_equal(res.n_conflicts, 2);
    assert_string_equal(res.conflicts[0].field,
                        ".spec.template.spec.containers[name=\"nginx\"].image");
    assert_string_equal(res.conflicts[1].manager, "\"kubectl-client-side-apply\" using apps/v1");
}

/* A Thing's spec.target at example.com/v1 is spec.goal at example.com/v2; example.com/v0 does
 * not convert. */
static int convert_thing(void *arg, struct k8c_arena *a, const struct k8c_json *obj, const char *to,
                         struct k8c_json **out)
{
    (void)arg;
    const char *from = strcmp(to, "example.com/v1") == 0 ? "goal" : "target";
    if (strcmp(to, "example.com/v1") != 0 && strcmp(to, "example.com/v2") != 0)
        return K8C_EUNSUPPORTED;
    *out = k8c_json_copy(a, obj);
    k8c_json_set(a, *out, "apiVersion", k8c_json_new_string(a, to));
    struct k8c_json *spec = k8c_json_get(*out, "spec"), *v;
    if (spec != NULL && (v = k8c_json_get(spec, from)) != NULL) {
        k8c_json_remove(spec, from);
        k8c_json_set(a, spec, strcmp(from, "goal") == 0 ? "target" : "goal", v);
    }
    return 0;
}

static void test_apply_conflicts_in_the_managers_version(void **state)
{
    (void)state;
    struct api_managed_op op = {"scaler", "example.com/v1", "Thing", NULL, T1, convert_thing, NULL};
    char err[K8C_ERRMSG_SIZE] = "";
    struct k8c_json *obj = q("{'apiVersion':'example.com/v1','kind':'Thing','metadata':"
                             "{'name':'x'},'spec':{'target':5,'size':1,'color':'red'}}");
    assert_int_equal(api_managed_update(A, NULL, obj, &op, err), 0);
    op.manager = "painter";
    op.api_version = "example.com/v0";
    struct k8c_json *painted = k8c_json_copy(A, obj);
    k8c_json_set(A, k8c_json_get(painted, "spec"), "color", k8c_json_new_string(A, "blue"));
    assert_int_equal(api_managed_update(A, obj, painted, &op, err), 0);

    /* the stored object as the v2 request sees it, with the v1 and v0 entries */
    struct k8c_json *live = k8c_json_copy(A, painted);
    k8c_json_set(A, live, "apiVersion", k8c_json_new_string(A, "example.com/v2"));
    struct k8c_json *spec = k8c_json_get(live, "spec");
    k8c_json_set(A, spec, "goal", k8c_json_get(spec, "target"));
    k8c_json_remove(spec, "target");

    op.manager = "tool";
    op.api_version = "example.com/v2";
    op.time = T2;
    struct api_managed_apply_result res;
    struct k8c_json *config = q("{'apiVersion':'example.com/v2','kind':'Thing','metadata':"
                                "{'name':'x'},'spec':{'goal':7,'color':'green'}}");
    assert_int_equal(api_managed_apply(A, live, config, false, &op, &res, err), K8C_ECONFLICT);
    /* scaler's field is .spec.target in its v1; painter's v0 does not convert: its
     * .spec.color is compared as it is */
    assert_string_equal(res.conflict_message,
                        "Apply failed with 2 conflicts: conflicts with \"painter\" using "
                        "example.com/v0:\n- .spec.color\n"
                        "conflicts with \"scaler\" using example.com/v1:\n- .spec.target");
    assert_int_equal(api_managed_apply(A, live, config, true, &op, &res, err), 0);
    struct k8c_json *out = res.object;
    assert_string_equal(fields(out, "scaler", "Update"), "{'f:spec':{'.':{},'f:size':{}}}");
    assert_null(entry(out, "painter", "Update"));
    assert_string_equal(fields(out, "tool", "Apply"), "{'f:spec':{'f:color':{},'f:goal':{}}}");
}

static void test_apply_removes_dropped_fields(void **state)
{
    (void)state;
    struct k8c_json *v1 =
        q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':"
          "{'app':'web','tier':'fe'}},'spec':{'replicas':2,'selector':{'matchLabels':{'app':"
          "'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':"
          "'nginx','image':'nginx:1.25','env':[{'name':'A','value':'1'},{'name':'B','value':"
          "'2'}]}]}}}}");
    struct k8c_json *obj = apply(NULL, v1, "ssa-tool", false, T0);
    assert_string_equal(get_path(obj, "metadata.labels"), "{'app':'web','tier':'fe'}");
    assert_null(entry(obj, "before-first-apply", "Update"));

    /* Another manager adds an annotation and an env var of its own. */
    struct k8c_json *edited = k8c_json_copy(A, obj);
    k8c_json_set(A, k8c_json_get(edited, "metadata"), "annotations", q("{'owner':'team-a'}"));
    struct k8c_json *env = k8c_json_get(
        k8c_json_get(k8c_json_get(k8c_json_get(k8c_json_get(edited, "spec"), "template"), "spec"),
                     "containers")
            ->u.items[0],
        "env");
    k8c_json_array_append(A, env, q("{'name':'C','value':'3'}"));
    update(obj, edited, "editor", NULL, T1);

    /* The applier drops the tier label, env var B and replicas. */
    struct k8c_json *v2 =
        q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':"
          "{'app':'web'}},'spec':{'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
          "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx','image':'nginx:1.25',"
          "'env':[{'name':'A','value':'1'}]}]}}}}");
    struct k8c_json *obj2 = apply(edited, v2, "ssa-tool", false, T2);
    assert_string_equal(get_path(obj2, "metadata.labels"), "{'app':'web'}");
    assert_null(get_path(obj2, "spec.replicas"));
    assert_string_equal(get_path(obj2, "spec.template.spec.containers.0.env"),
                        "[{'name':'A','value':'1'},{'name':'C','value':'3'}]");
    /* What others own stays, and so does what the server set. */
    assert_string_equal(get_path(obj2, "metadata.annotations"), "{'owner':'team-a'}");
    assert_string_equal(get_path(obj2, "metadata.name"), "'web'");
    assert_string_equal(fields(obj2, "ssa-tool", "Apply"),
                        "{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:selector':{},"
                        "'f:template':{'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':"
                        "{'f:containers':{'k:{\\'name\\':\\'nginx\\'}':{'.':{},'f:env':"
                        "{'k:{\\'name\\':\\'A\\'}':{'.':{},'f:name':{},'f:value':{}}},"
                        "'f:image':{},'f:name':{}}}}}}}");

    /* A field another applier also owns survives when this one drops it. */
    struct k8c_json *other = q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':"
                               "'web','labels':{'app':'web'}}}");
    struct k8c_json *obj3 = apply(obj2, other, "other-tool", false, T2);
    struct k8c_json *v3 = q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':"
                            "'web'},'spec':{'selector':{'matchLabels':{'app':'web'}},'template':"
                            "{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':"
                            "'nginx','image':'nginx:1.25'}]}}}}");
    struct k8c_json *obj4 = apply(obj3, v3, "ssa-tool", false, T3);
    assert_string_equal(get_path(obj4, "metadata.labels"), "{'app':'web'}");
    assert_string_equal(get_path(obj4, "spec.template.spec.containers.0.env"),
                        "[{'name':'C','value':'3'}]");
}

static void test_apply_two_managers_own_containers(void **state)
{
    (void)state;
    struct k8c_json *app = q(
        "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'selector':"
        "{'matchLabels':{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':"
        "{'containers':[{'name':'app','image':'app:1','args':['serve']}]}}}}");
    struct k8c_json *sidecar = q(
        "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':"
        "{'spec':{'containers':[{'name':'proxy','image':'envoy:1','ports':[{'containerPort':"
        "9901}]}]}}}}");
    struct k8c_json *obj = apply(NULL, app, "team-app", false, T0);
    obj = apply(obj, sidecar, "mesh-injector", false, T1);

    assert_string_equal(get_path(obj, "spec.template.spec.containers"),
                        "[{'name':'app','image':'app:1','args':['serve']},{'name':'proxy',"
                        "'image':'envoy:1','ports':[{'containerPort':9901}]}]");
    assert_string_equal(fields(obj, "mesh-injector", "Apply"),
                        "{'f:spec':{'f:template':{'f:spec':{'f:containers':{'k:{\\'name\\':"
                        "\\'proxy\\'}':{'.':{},'f:image':{},'f:name':{},'f:ports':"
                        "{'k:{\\'containerPort\\':9901,\\'protocol\\':\\'TCP\\'}':{'.':{},"
                        "'f:containerPort':{}}}}}}}}}");
    assert_null(strstr(fields(obj, "team-app", "Apply"), "proxy"));

    /* The app team updates its container: the sidecar is untouched. */
    struct k8c_json *app2 = q(
        "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'selector':"
        "{'matchLabels':{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':"
        "{'containers':[{'name':'app','image':'app:2'}]}}}}");
    obj = apply(obj, app2, "team-app", false, T2);
    assert_string_equal(get_path(obj, "spec.template.spec.containers"),
                        "[{'name':'app','image':'app:2'},{'name':'proxy','image':'envoy:1',"
                        "'ports':[{'containerPort':9901}]}]");

    /* The injector changing the app's image conflicts with the app team. */
    struct k8c_json *steal = q(
        "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':"
        "{'spec':{'containers':[{'name':'app','image':'app:3'}]}}}}");
    struct api_managed_op op = op_of("mesh-injector", NULL, T3);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";
    assert_int_equal(api_managed_apply(A, obj, steal, false, &op, &res, err), K8C_ECONFLICT);
    assert_string_equal(res.conflict_message,
                        "Apply failed with 1 conflict: conflict with \"team-app\": "
                        ".spec.template.spec.containers[name=\"app\"].image");

    /* The injector withdraws: its container goes, the app's stays. */
    struct k8c_json *none =
        q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'}}");
    obj = apply(obj, none, "mesh-injector", false, T3);
    assert_string_equal(get_path(obj, "spec.template.spec.containers"),
                        "[{'name':'app','image':'app:2'}]");
    assert_null(entry(obj, "mesh-injector", "Apply"));
}

static void test_apply_kubectl_migrates_from_client_side(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    /* kubectl apply --server-side (manager "kubectl") with the configuration's replicas changed:
     * live still has what the client-side apply configured, so kubectl takes it over. */
    struct k8c_json *config = q(CSA_CONFIG);
    k8c_json_set(A, k8c_json_get(config, "spec"), "replicas", k8c_json_new_int(A, 4));
    struct k8c_json *obj = apply(live, config, "kubectl", false, T1);
    assert_string_equal(get_path(obj, "spec.replicas"), "4");
    assert_null(strstr(fields(obj, "kubectl-client-side-apply", "Update"), "f:replicas"));
    /* The annotation follows the new configuration (keys sorted, as Go writes maps). */
    const char *ann = get_path(obj, "metadata.annotations");
    assert_non_null(strstr(ann, "\\'replicas\\':4,"));

    /* After a scale by someone else, live no longer matches: a real conflict. */
    struct k8c_json *scaled = k8c_json_copy(A, live);
    k8c_json_set(A, k8c_json_get(scaled, "spec"), "replicas", k8c_json_new_int(A, 9));
    update(live, scaled, "autoscaler", NULL, T1);
    struct api_managed_op op = op_of("kubectl", NULL, T2);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";
    assert_int_equal(api_managed_apply(A, scaled, config, false, &op, &res, err), K8C_ECONFLICT);
    assert_string_equal(res.conflict_message, "Apply failed with 1 conflict: conflict with "
                                              "\"autoscaler\" using apps/v1: .spec.replicas");
}

static void test_apply_create_and_scaler_takes_replicas(void **state)
{
    (void)state;
    /* kubectl apply --server-side creating the object: the result is the configuration plus its
     * managedFields (the server then sets uid, defaults...). */
    struct k8c_json *obj = apply(NULL, q(SSA_CONFIG), "kubectl", false, T0);
    assert_string_equal(
        w(obj), "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':"
                "'default','managedFields':[{'manager':'kubectl','operation':'Apply','apiVersion':"
                "'apps/v1','time':'" T0 "','fieldsType':'FieldsV1','fieldsV1':{'f:spec':"
                "{'f:replicas':{},'f:selector':{},'f:template':{'f:metadata':{'f:labels':"
                "{'f:app':{}}},'f:spec':{'f:containers':{'k:{\\'name\\':\\'nginx\\'}':"
                "{'.':{},'f:image':{},'f:name':{}}}}}}}}]},'spec':{'replicas':5,'selector':"
                "{'matchLabels':{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'}},"
                "'spec':{'containers':[{'name':'nginx','image':'nginx:1.25'}]}}}}");

    /* An autoscaler writes replicas through an update: the applier loses that field ... */
    struct k8c_json *scaled = k8c_json_copy(A, obj);
    k8c_json_set(A, k8c_json_get(scaled, "spec"), "replicas", k8c_json_new_int(A, 8));
    update(obj, scaled, "horizontal-pod-autoscaler", NULL, T1);
    assert_null(strstr(fields(scaled, "kubectl", "Apply"), "f:replicas"));
    assert_string_equal(fields(scaled, "horizontal-pod-autoscaler", "Update"),
                        "{'f:spec':{'f:replicas':{}}}");
    /* ... so re-applying the old count conflicts, and dropping replicas from the configuration
     * leaves the autoscaler's value in place. */
    struct api_managed_op op = op_of("kubectl", NULL, T2);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";
    assert_int_equal(api_managed_apply(A, scaled, q(SSA_CONFIG), false, &op, &res, err),
                     K8C_ECONFLICT);
    assert_string_equal(res.conflict_message,
                        "Apply failed with 1 conflict: conflict with \"horizontal-pod-autoscaler\""
                        " using apps/v1: .spec.replicas");
    struct k8c_json *config = q(SSA_CONFIG);
    k8c_json_remove(k8c_json_get(config, "spec"), "replicas");
    struct k8c_json *obj2 = apply(scaled, config, "kubectl", false, T2);
    assert_string_equal(get_path(obj2, "spec.replicas"), "8");
}

static void test_apply_untracked_object_and_errors(void **state)
{
    (void)state;
    struct k8c_json *live = csa_created();
    k8c_json_remove(k8c_json_get(live, "metadata"), "managedFields");
    struct api_managed_op op = op_of("ssa-tool", NULL, T1);
    struct api_managed_apply_result res;
    char err[K8C_ERRMSG_SIZE] = "";

    /* Existing fields belong to "before-first-apply". */
    assert_int_equal(api_managed_apply(A, live, q(SSA_CONFIG), false, &op, &res, err),
                     K8C_ECONFLICT);
    assert_string_equal(res.conflict_message, "Apply failed with 1 conflict: conflict with "
                                              "\"before-first-apply\" using apps/v1: "
                                              ".spec.replicas");

    struct k8c_json *bad = q(SSA_CONFIG);
    k8c_json_set(A, k8c_json_get(bad, "metadata"), "managedFields", k8c_json_new_array(A));
    assert_int_equal(api_managed_apply(A, live, bad, false, &op, &res, err), K8C_EINVAL);
    assert_string_equal(err, "metadata.managedFields must be nil");

    bad = q(SSA_CONFIG);
    k8c_json_set(A, bad, "apiVersion", k8c_json_new_string(A, "apps/v1beta1"));
    assert_int_equal(api_managed_apply(A, live, bad, false, &op, &res, err), K8C_EINVAL);
    assert_string_equal(err, "Incorrect version specified in apply patch. Specified patch "
                             "version: apps/v1beta1, expected: apps/v1");

    bad = q("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':"
            "{'template':{'spec':{'containers':[{'name':'a'},{'name':'a'}]}}}}");
    assert_int_equal(api_managed_apply(A, NULL, bad, false, &op, &res, err), K8C_EINVAL);
    assert_non_null(strstr(err, "duplicate entries for key [name=\"a\"]"));

    struct k8c_json *broken = k8c_json_copy(A, csa_created());
    k8c_json_set(A, k8c_json_get(broken, "metadata"), "managedFields",
                 q("[{'manager':'x','operation':'Delete','apiVersion':'v1','fieldsType':"
                   "'FieldsV1'}]"));
    assert_int_equal(api_managed_apply(A, broken, q(SSA_CONFIG), false, &op, &res, err),
                     K8C_EINVAL);
    assert_string_equal(err, "failed to decode managed fields: operation must be `Apply` or "
                             "`Update`");

    op.manager = "";
    assert_int_equal(api_managed_apply(A, NULL, q(SSA_CONFIG), false, &op, &res, err), K8C_EINVAL);
}

static void test_fieldsv1_roundtrip(void **state)
{
    (void)state;
    /* Entries written by an upstream server decode and re-encode unchanged. */
    struct k8c_json *live = csa_created();
    const char *stored =
        "[{'manager':'kube-controller-manager','operation':'Update','apiVersion':'apps/v1',"
        "'time':'" T0 "','fieldsType':'FieldsV1','fieldsV1':{'f:metadata':{'f:annotations':"
        "{'.':{},'f:deployment.kubernetes.io/revision':{}}},'f:status':{'f:conditions':{'.':{},"
        "'k:{\\'type\\':\\'Available\\'}':{'.':{},'f:lastTransitionTime':{},'f:status':{},"
        "'f:type':{}}},'f:observedGeneration':{}}},'subresource':'status'}]";
    k8c_json_set(A, k8c_json_get(live, "metadata"), "managedFields", q(stored));
    struct k8c_json *obj = k8c_json_copy(A, live);
    k8c_json_remove(k8c_json_get(obj, "metadata"), "managedFields");
    /* A status write that changes nothing keeps the entries as they were. */
    update(live, obj, "kube-controller-manager", "status", T1);
    assert_non_null(managed(obj));
    assert_string_equal(w(managed(obj)), w(q(stored)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fieldset_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_create_by_client_side_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_moves_changed_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_status_subresource, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_reset_and_untracked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_caps_managers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_conflict_after_client_side_apply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_force_takes_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_several_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_removes_dropped_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_two_managers_own_containers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_kubectl_migrates_from_client_side, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_create_and_scaler_takes_replicas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_untracked_object_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fieldsv1_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_conflicts_in_the_managers_version, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
