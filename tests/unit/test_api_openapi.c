/* Unit tests for apiserver/openapi: the /openapi/v3 index, the per-group-version v3 documents
 * and the v2 document, parsed back with lib/json and checked for what kubectl relies on
 * (PATCH operations with fieldValidation and a GVK, schemas with GVK lists, properties and
 * references that resolve) and for the JSON the codec speaks (special types, inline fields).
 *
 * `test_api_openapi --dump DIR` writes the documents and a discovery summary into DIR for the
 * kubectl integration test (tests/integration/apiserver_openapi). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "codec.h"
#include "error.h"
#include "json.h"
#include "openapi.h"
#include "resources.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */

struct doc {
    struct k8c_arena *a;
    char *text;
    struct k8c_json *root;
};

static void doc_parse(struct doc *d, char *text)
{
    char err[K8C_ERRMSG_SIZE] = "";

    d->a = k8c_arena_new(0);
    d->text = text;
    d->root = NULL;
    if (k8c_json_parse(d->a, text, strlen(text), NULL, &d->root, err) != 0)
        fail_msg("generated document is not JSON: %s", err);
    assert_int_equal(d->root->type, K8C_JSON_OBJECT);
}

static void doc_free(struct doc *d)
{
    k8c_arena_del(d->a);
    k8c_free(d->text);
}

static void load_v3(struct doc *d, const char *path)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    assert_int_equal(api_openapi_v3_doc(path, &sb), 0);
    doc_parse(d, k8c_sbuf_detach(&sb));
}

static void load_v2(struct doc *d)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    assert_int_equal(api_openapi_v2(&sb), 0);
    doc_parse(d, k8c_sbuf_detach(&sb));
}

/* Follows a path of object keys separated by '|' (keys contain '/' and '.'); fails the test
 * when a key is missing. */
static struct k8c_json *at(const struct k8c_json *v, const char *path)
{
    char buf[512], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok_r(buf, "|", &save); k != NULL; k = strtok_r(NULL, "|", &save)) {
        if (v == NULL || v->type != K8C_JSON_OBJECT)
            fail_msg("%s: \"%s\" is not inside an object", path, k);
        v = k8c_json_get(v, k);
        if (v == NULL)
            fail_msg("%s: no member \"%s\"", path, k);
    }
    return (struct k8c_json *)v;
}

static const char *str_at(const struct k8c_json *v, const char *path)
{
    const struct k8c_json *s = at(v, path);

    if (s->type != K8C_JSON_STRING)
        fail_msg("%s is not a string", path);
    return s->u.str;
}

static struct k8c_json *schema(const struct doc *d, const char *name)
{
    const struct k8c_json *schemas = k8c_json_get(d->root, "components");

    schemas =
        schemas != NULL ? k8c_json_get(schemas, "schemas") : k8c_json_get(d->root, "definitions");
    assert_non_null(schemas);
    struct k8c_json *s = k8c_json_get(schemas, name);
    if (s == NULL)
        fail_msg("no schema %s", name);
    return s;
}

/* The reference of a field schema: "$ref" directly or in a one-element "allOf". */
static const char *ref_of(const struct k8c_json *field)
{
    const struct k8c_json *r = k8c_json_get(field, "$ref"), *all;

    if (r == NULL && (all = k8c_json_get(field, "allOf")) != NULL && all->len == 1)
        r = k8c_json_get(k8c_json_array_get(all, 0), "$ref");
    if (r == NULL || r->type != K8C_JSON_STRING)
        fail_msg("field schema has no reference");
    return r->u.str;
}

static bool array_has_string(const struct k8c_json *arr, const char *s)
{
    if (arr == NULL || arr->type != K8C_JSON_ARRAY)
        return false;
    for (uint32_t i = 0; i < arr->len; i++) {
        const struct k8c_json *e = k8c_json_array_get(arr, i);
        if (e->type == K8C_JSON_STRING && strcmp(e->u.str, s) == 0)
            return true;
    }
    return false;
}

/* The operation's parameter named name (in the operation or its path item), or NULL. */
static const struct k8c_json *find_param(const struct k8c_json *params, const char *name)
{
    if (params == NULL)
        return NULL;
    for (uint32_t i = 0; i < params->len; i++) {
        const struct k8c_json *p = k8c_json_array_get(params, i);
        const struct k8c_json *n = k8c_json_get(p, "name");
        if (n != NULL && n->type == K8C_JSON_STRING && strcmp(n->u.str, name) == 0)
            return p;
    }
    return NULL;
}

/* Checks that every "$ref" in v names a schema of the document; counts them. */
static void check_refs(const struct k8c_json *v, const struct k8c_json *schemas, const char *prefix,
                       size_t *n_refs)
{
    if (v->type == K8C_JSON_OBJECT) {
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            if (strcmp(m->key, "$ref") == 0) {
                assert_int_equal(m->value->type, K8C_JSON_STRING);
                if (strncmp(m->value->u.str, prefix, strlen(prefix)) != 0)
                    fail_msg("reference %s does not start with %s", m->value->u.str, prefix);
                if (k8c_json_get(schemas, m->value->u.str + strlen(prefix)) == NULL)
                    fail_msg("reference %s does not resolve", m->value->u.str);
                (*n_refs)++;
            } else {
                check_refs(m->value, schemas, prefix, n_refs);
            }
        }
    } else if (v->type == K8C_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            check_refs(k8c_json_array_get(v, i), schemas, prefix, n_refs);
    }
}

static void group_version_path(const char *gv, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", strchr(gv, '/') != NULL ? "apis" : "api", gv);
}

static int setup(void **state)
{
    char err[K8C_ERRMSG_SIZE] = "";

    (void)state;
    if (api_resources_init(err) != 0) {
        fprintf(stderr, "api_resources_init: %s\n", err);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */

static void test_index_lists_every_group_version(void **state)
{
    struct k8c_sbuf sb;
    struct doc d;
    size_t n_gv;
    const char *const *gvs = api_group_versions(&n_gv);

    (void)state;
    k8c_sbuf_init(&sb);
    assert_int_equal(api_openapi_v3_index(&sb), 0);
    doc_parse(&d, k8c_sbuf_detach(&sb));
    const struct k8c_json *paths = at(d.root, "paths");
    assert_true(n_gv >= 10);
    assert_int_equal(paths->len, n_gv);
    for (size_t i = 0; i < n_gv; i++) {
        char path[256], url[512];
        group_version_path(gvs[i], path, sizeof(path));
        const struct k8c_json *e = k8c_json_get(paths, path);
        if (e == NULL)
            fail_msg("index lacks %s", path);
        const char *hash = api_openapi_v3_hash(path);
        assert_non_null(hash);
        assert_int_equal(strlen(hash), 16);
        snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%s", path, hash);
        assert_string_equal(str_at(e, "serverRelativeURL"), url);
    }
    assert_non_null(k8c_json_get(paths, "api/v1"));
    assert_non_null(k8c_json_get(paths, "apis/apps/v1"));
    doc_free(&d);
}

static void test_unknown_and_spelled_paths(void **state)
{
    struct k8c_sbuf a, b;

    (void)state;
    k8c_sbuf_init(&a);
    k8c_sbuf_init(&b);
    assert_int_equal(api_openapi_v3_doc("apis/nosuch.example.com/v1", &a), K8C_ENOTFOUND);
    assert_int_equal(api_openapi_v3_doc("api/v2", &a), K8C_ENOTFOUND);
    assert_int_equal(api_openapi_v3_doc("", &a), K8C_ENOTFOUND);
    assert_int_equal(api_openapi_v3_doc("apis/apps", &a), K8C_ENOTFOUND);
    assert_int_equal(api_openapi_v3_doc("apis/apps/v1x", &a), K8C_ENOTFOUND);
    assert_null(api_openapi_v3_hash("apis/apps/v2"));
    assert_int_equal(a.len, 0);
    /* A leading slash and the ?hash= query are ignored; the text is the same every time. */
    assert_int_equal(api_openapi_v3_doc("apis/apps/v1", &a), 0);
    assert_int_equal(api_openapi_v3_doc("/apis/apps/v1?hash=0123", &b), 0);
    assert_int_equal(a.len, b.len);
    assert_true(a.len > 1000);
    assert_memory_equal(a.data, b.data, a.len);
    assert_string_equal(api_openapi_v3_hash("apis/apps/v1"), api_openapi_v3_hash("/apis/apps/v1"));
    assert_string_not_equal(api_openapi_v3_hash("apis/apps/v1"), api_openapi_v3_hash("api/v1"));
    k8c_sbuf_free(&a);
    k8c_sbuf_free(&b);
}

static void test_pod_schema(void **state)
{
    struct doc d;

    (void)state;
    load_v3(&d, "api/v1");
    assert_string_equal(str_at(d.root, "openapi"), "3.0.0");
    const struct k8c_json *pod = schema(&d, "io.k8s.api.core.v1.Pod");
    assert_string_equal(str_at(pod, "type"), "object");
    assert_non_null(k8c_json_get(pod, "description"));
    const struct k8c_json *gvk = at(pod, "x-kubernetes-group-version-kind");
    assert_int_equal(gvk->type, K8C_JSON_ARRAY);
    assert_int_equal(gvk->len, 1);
    assert_string_equal(str_at(k8c_json_array_get(gvk, 0), "group"), "");
    assert_string_equal(str_at(k8c_json_array_get(gvk, 0), "version"), "v1");
    assert_string_equal(str_at(k8c_json_array_get(gvk, 0), "kind"), "Pod");
    assert_string_equal(str_at(pod, "properties|apiVersion|type"), "string");
    assert_string_equal(str_at(pod, "properties|kind|type"), "string");
    assert_string_equal(ref_of(at(pod, "properties|metadata")),
                        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_string_equal(ref_of(at(pod, "properties|spec")),
                        "#/components/schemas/io.k8s.api.core.v1.PodSpec");

    const struct k8c_json *spec = schema(&d, "io.k8s.api.core.v1.PodSpec");
    assert_string_equal(str_at(spec, "properties|containers|type"), "array");
    assert_string_equal(ref_of(at(spec, "properties|containers|items")),
                        "#/components/schemas/io.k8s.api.core.v1.Container");
    assert_true(array_has_string(at(spec, "required"), "containers"));
    /* No merge keys: kubectl must use its compiled-in strategic merge metadata. */
    assert_null(k8c_json_get(at(spec, "properties|containers"), "x-kubernetes-patch-merge-key"));
    /* map<string,string> -> object with string values; int64, bool, int32 formats */
    assert_string_equal(str_at(spec, "properties|nodeSelector|type"), "object");
    assert_string_equal(str_at(spec, "properties|nodeSelector|additionalProperties|type"),
                        "string");
    assert_string_equal(str_at(spec, "properties|terminationGracePeriodSeconds|type"), "integer");
    assert_string_equal(str_at(spec, "properties|terminationGracePeriodSeconds|format"), "int64");
    assert_string_equal(str_at(spec, "properties|hostNetwork|type"), "boolean");

    const struct k8c_json *c = schema(&d, "io.k8s.api.core.v1.Container");
    assert_true(array_has_string(at(c, "required"), "name"));
    assert_string_equal(str_at(c, "properties|image|type"), "string");
    assert_string_equal(str_at(c, "properties|args|type"), "array");
    assert_string_equal(str_at(c, "properties|args|items|type"), "string");
    assert_string_equal(
        str_at(schema(&d, "io.k8s.api.core.v1.ContainerPort"), "properties|containerPort|format"),
        "int32");
    /* The list kind */
    const struct k8c_json *list = schema(&d, "io.k8s.api.core.v1.PodList");
    assert_string_equal(
        str_at(k8c_json_array_get(at(list, "x-kubernetes-group-version-kind"), 0), "kind"),
        "PodList");
    assert_string_equal(ref_of(at(list, "properties|items|items")),
                        "#/components/schemas/io.k8s.api.core.v1.Pod");
    /* ConfigMap binaryData is map<string, bytes> */
    assert_string_equal(str_at(schema(&d, "io.k8s.api.core.v1.ConfigMap"),
                               "properties|binaryData|additionalProperties|format"),
                        "byte");
    doc_free(&d);
}

static void test_special_types(void **state)
{
    struct doc d;

    (void)state;
    load_v3(&d, "api/v1");
    /* IntOrString: upstream v3 form, no "type" */
    assert_string_equal(
        ref_of(at(schema(&d, "io.k8s.api.core.v1.ServicePort"), "properties|targetPort")),
        "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    const struct k8c_json *ios = schema(&d, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_null(k8c_json_get(ios, "type"));
    assert_string_equal(str_at(ios, "format"), "int-or-string");
    const struct k8c_json *one_of = at(ios, "oneOf");
    assert_int_equal(one_of->len, 2);
    assert_string_equal(str_at(k8c_json_array_get(one_of, 0), "type"), "integer");
    assert_string_equal(str_at(k8c_json_array_get(one_of, 1), "type"), "string");
    /* Quantity: oneOf string/number, used as map values of limits */
    assert_string_equal(ref_of(at(schema(&d, "io.k8s.api.core.v1.ResourceRequirements"),
                                  "properties|limits|additionalProperties")),
                        "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity");
    const struct k8c_json *q = schema(&d, "io.k8s.apimachinery.pkg.api.resource.Quantity");
    assert_null(k8c_json_get(q, "type"));
    assert_string_equal(str_at(k8c_json_array_get(at(q, "oneOf"), 0), "type"), "string");
    assert_string_equal(str_at(k8c_json_array_get(at(q, "oneOf"), 1), "type"), "number");
    /* Time and MicroTime */
    const struct k8c_json *meta = schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_string_equal(ref_of(at(meta, "properties|creationTimestamp")),
                        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time");
    const struct k8c_json *t = schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
    assert_string_equal(str_at(t, "type"), "string");
    assert_string_equal(str_at(t, "format"), "date-time");
    assert_null(k8c_json_get(t, "properties"));
    const struct k8c_json *mt = schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime");
    assert_string_equal(str_at(mt, "format"), "date-time");
    /* FieldsV1 and RawExtension are free-form objects */
    assert_string_equal(str_at(schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"), "type"),
                        "object");
    assert_null(
        k8c_json_get(schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"), "properties"));
    assert_string_equal(
        str_at(schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"),
               "properties|fieldsV1|$ref"),
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1");
    /* labels and annotations: described maps of strings */
    assert_string_equal(str_at(meta, "properties|labels|type"), "object");
    assert_non_null(k8c_json_get(at(meta, "properties|labels"), "description"));
    doc_free(&d);

    /* Duration is a string; ExtraValue a list of strings (authentication UserInfo.extra). */
    load_v3(&d, "apis/authentication.k8s.io/v1");
    const struct k8c_json *ui = schema(&d, "io.k8s.api.authentication.v1.UserInfo");
    assert_string_equal(str_at(ui, "properties|extra|type"), "object");
    assert_string_equal(str_at(ui, "properties|extra|additionalProperties|type"), "array");
    assert_string_equal(str_at(ui, "properties|extra|additionalProperties|items|type"), "string");
    doc_free(&d);
}

static void test_inline_fields(void **state)
{
    struct doc d;

    (void)state;
    load_v3(&d, "api/v1");
    const struct k8c_json *vol = at(schema(&d, "io.k8s.api.core.v1.Volume"), "properties");
    assert_non_null(k8c_json_get(vol, "name"));
    assert_non_null(k8c_json_get(vol, "configMap"));
    assert_non_null(k8c_json_get(vol, "emptyDir"));
    assert_null(k8c_json_get(vol, "volumeSource"));
    const struct k8c_json *probe = at(schema(&d, "io.k8s.api.core.v1.Probe"), "properties");
    assert_non_null(k8c_json_get(probe, "httpGet"));
    assert_non_null(k8c_json_get(probe, "exec"));
    assert_non_null(k8c_json_get(probe, "periodSeconds"));
    assert_null(k8c_json_get(probe, "handler"));
    const struct k8c_json *ks = schema(&d, "io.k8s.api.core.v1.ConfigMapKeySelector");
    assert_non_null(k8c_json_get(at(ks, "properties"), "name"));
    assert_null(k8c_json_get(at(ks, "properties"), "localObjectReference"));
    assert_true(array_has_string(at(ks, "required"), "key"));
    const struct k8c_json *eph = schema(&d, "io.k8s.api.core.v1.EphemeralContainer");
    assert_non_null(k8c_json_get(at(eph, "properties"), "image"));
    assert_non_null(k8c_json_get(at(eph, "properties"), "targetContainerName"));
    assert_true(array_has_string(at(eph, "required"), "name"));
    doc_free(&d);

    load_v3(&d, "apis/networking.k8s.io/v1");
    const struct k8c_json *rule =
        at(schema(&d, "io.k8s.api.networking.v1.IngressRule"), "properties");
    assert_non_null(k8c_json_get(rule, "host"));
    assert_non_null(k8c_json_get(rule, "http"));
    assert_null(k8c_json_get(rule, "ingressRuleValue"));
    const struct k8c_json *pr =
        at(schema(&d, "io.k8s.api.networking.v1.IngressClassParametersReference"), "properties");
    assert_non_null(k8c_json_get(pr, "apiGroup"));
    assert_null(k8c_json_get(pr, "aPIGroup"));
    doc_free(&d);
}

static void test_deployment_paths(void **state)
{
    struct doc d;

    (void)state;
    load_v3(&d, "apis/apps/v1");
    const struct k8c_json *paths = at(d.root, "paths");
    const struct k8c_json *item =
        at(paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
    const struct k8c_json *patch = at(item, "patch");
    assert_string_equal(str_at(patch, "x-kubernetes-group-version-kind|group"), "apps");
    assert_string_equal(str_at(patch, "x-kubernetes-group-version-kind|version"), "v1");
    assert_string_equal(str_at(patch, "x-kubernetes-group-version-kind|kind"), "Deployment");
    assert_string_equal(str_at(patch, "x-kubernetes-action"), "patch");
    assert_string_equal(str_at(patch, "operationId"), "patchAppsV1NamespacedDeployment");
    const struct k8c_json *fv = find_param(at(patch, "parameters"), "fieldValidation");
    assert_non_null(fv);
    assert_string_equal(str_at(fv, "in"), "query");
    assert_string_equal(str_at(fv, "schema|type"), "string");
    assert_non_null(find_param(at(patch, "parameters"), "force"));
    assert_null(k8c_json_get(patch, "requestBody"));
    assert_string_equal(str_at(patch, "responses|200|content|application/json|schema|$ref"),
                        "#/components/schemas/io.k8s.api.apps.v1.Deployment");
    /* path parameters live on the path item */
    assert_non_null(find_param(at(item, "parameters"), "name"));
    assert_non_null(find_param(at(item, "parameters"), "namespace"));
    assert_non_null(k8c_json_get(item, "get"));
    assert_non_null(k8c_json_get(item, "put"));
    assert_non_null(k8c_json_get(item, "delete"));
    assert_non_null(at(item, "put|requestBody|content|*/*|schema|$ref"));

    const struct k8c_json *coll = at(paths, "/apis/apps/v1/namespaces/{namespace}/deployments");
    assert_string_equal(str_at(coll, "get|x-kubernetes-action"), "list");
    assert_non_null(find_param(at(coll, "get|parameters"), "labelSelector"));
    assert_string_equal(str_at(coll, "get|responses|200|content|application/json|schema|$ref"),
                        "#/components/schemas/io.k8s.api.apps.v1.DeploymentList");
    assert_string_equal(str_at(coll, "post|operationId"), "createAppsV1NamespacedDeployment");
    assert_non_null(find_param(at(coll, "post|parameters"), "fieldValidation"));
    assert_string_equal(str_at(coll, "delete|x-kubernetes-action"), "deletecollection");
    assert_string_equal(str_at(at(paths, "/apis/apps/v1/deployments"), "get|operationId"),
                        "listAppsV1DeploymentForAllNamespaces");

    /* scale: autoscaling/v1 Scale, status: the kind itself */
    const struct k8c_json *scale =
        at(paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale|patch");
    assert_string_equal(str_at(scale, "x-kubernetes-group-version-kind|group"), "autoscaling");
    assert_string_equal(str_at(scale, "x-kubernetes-group-version-kind|kind"), "Scale");
    assert_non_null(find_param(at(scale, "parameters"), "fieldValidation"));
    assert_string_equal(
        ref_of(at(schema(&d, "io.k8s.api.autoscaling.v1.Scale"), "properties|spec")),
        "#/components/schemas/io.k8s.api.autoscaling.v1.ScaleSpec");
    const struct k8c_json *st =
        at(paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status|patch");
    assert_string_equal(str_at(st, "x-kubernetes-group-version-kind|kind"), "Deployment");
    assert_string_equal(str_at(st, "operationId"), "patchAppsV1NamespacedDeploymentStatus");

    /* The Deployment schema reaches the pod template in core/v1 */
    assert_true(array_has_string(at(schema(&d, "io.k8s.api.apps.v1.DeploymentSpec"), "required"),
                                 "selector"));
    assert_non_null(schema(&d, "io.k8s.api.core.v1.PodSpec"));
    assert_string_equal(
        ref_of(at(schema(&d, "io.k8s.api.apps.v1.RollingUpdateDeployment"), "properties|maxSurge")),
        "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    doc_free(&d);
}

static void test_core_paths(void **state)
{
    struct doc d;

    (void)state;
    load_v3(&d, "api/v1");
    const struct k8c_json *paths = at(d.root, "paths");
    /* cluster-scoped */
    assert_string_equal(str_at(paths, "/api/v1/nodes/{name}|patch|operationId"), "patchCoreV1Node");
    assert_null(k8c_json_get(paths, "/api/v1/namespaces/{namespace}/nodes"));
    assert_string_equal(str_at(paths, "/api/v1/namespaces/{name}|get|operationId"),
                        "readCoreV1Namespace");
    /* pods and their subresources */
    assert_string_equal(str_at(paths, "/api/v1/namespaces/{namespace}/pods/{name}|patch|"
                                      "x-kubernetes-group-version-kind|kind"),
                        "Pod");
    assert_string_equal(str_at(paths, "/api/v1/namespaces/{namespace}/pods/{name}/log|get|"
                                      "operationId"),
                        "readCoreV1NamespacedPodLog");
    assert_string_equal(str_at(paths, "/api/v1/namespaces/{namespace}/pods/{name}/exec|post|"
                                      "operationId"),
                        "connectCoreV1PostNamespacedPodExec");
    assert_string_equal(str_at(paths, "/api/v1/namespaces/{namespace}/pods/{name}/eviction|post|"
                                      "x-kubernetes-group-version-kind|group"),
                        "policy");
    assert_non_null(schema(&d, "io.k8s.api.policy.v1.Eviction"));
    /* create-only resources have no item path */
    assert_non_null(at(paths, "/api/v1/namespaces/{namespace}/bindings|post"));
    assert_null(k8c_json_get(paths, "/api/v1/namespaces/{namespace}/bindings/{name}"));
    /* deletes take DeleteOptions and answer Status (collections) */
    assert_string_equal(
        str_at(paths, "/api/v1/namespaces/{namespace}/configmaps|delete|responses|200|content|"
                      "application/json|schema|$ref"),
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status");
    assert_non_null(
        find_param(at(paths, "/api/v1/namespaces/{namespace}/configmaps/{name}|delete|parameters"),
                   "propagationPolicy"));
    assert_null(
        find_param(at(paths, "/api/v1/namespaces/{namespace}/configmaps/{name}|delete|parameters"),
                   "labelSelector"));
    doc_free(&d);
}

/* For every document: every PATCH has a GVK and fieldValidation (kubectl checks the first it
 * finds for the kind), every reference resolves, every served kind has a schema with its GVK. */
static void test_every_document(void **state)
{
    size_t n_gv, n_res;
    const char *const *gvs = api_group_versions(&n_gv);
    const struct api_resource *rs = api_resources(&n_res);
    size_t patches = 0;

    (void)state;
    for (size_t i = 0; i < n_gv; i++) {
        char path[256];
        struct doc d;
        size_t n_refs = 0;
        group_version_path(gvs[i], path, sizeof(path));
        load_v3(&d, path);
        const struct k8c_json *paths = at(d.root, "paths");
        const struct k8c_json *schemas = at(d.root, "components|schemas");
        assert_true(paths->len > 0);
        for (uint32_t p = 0; p < paths->len; p++) {
            const struct k8c_json *item = paths->u.members[p].value;
            const struct k8c_json *patch = k8c_json_get(item, "patch");
            if (strncmp(paths->u.members[p].key, "/api/v1", 7) != 0 &&
                strncmp(paths->u.members[p].key, "/apis/", 6) != 0)
                fail_msg("odd path %s", paths->u.members[p].key);
            if (patch == NULL)
                continue;
            patches++;
            at(patch, "x-kubernetes-group-version-kind|kind");
            const struct k8c_json *fv = find_param(at(patch, "parameters"), "fieldValidation");
            if (fv == NULL)
                fail_msg("PATCH %s lacks fieldValidation", paths->u.members[p].key);
            assert_string_equal(str_at(fv, "in"), "query");
            assert_null(k8c_json_get(patch, "requestBody"));
        }
        check_refs(d.root, schemas, "#/components/schemas/", &n_refs);
        assert_true(n_refs > 0);
        for (size_t r = 0; r < n_res; r++) {
            if (strcmp(rs[r].api_version, gvs[i]) != 0)
                continue;
            char name[256];
            snprintf(name, sizeof(name), "io.k8s.%s", rs[r].desc->name + 7);
            const struct k8c_json *gvk = at(schema(&d, name), "x-kubernetes-group-version-kind");
            bool found = false;
            for (uint32_t k = 0; k < gvk->len; k++)
                found |= strcmp(str_at(k8c_json_array_get(gvk, k), "kind"), rs[r].kind) == 0 &&
                         strcmp(str_at(k8c_json_array_get(gvk, k), "group"), rs[r].group) == 0;
            if (!found)
                fail_msg("schema %s lacks its GVK", name);
        }
        doc_free(&d);
    }
    assert_true(patches > 30);
}

static void test_v2(void **state)
{
    struct doc d;
    size_t n_refs = 0;

    (void)state;
    load_v2(&d);
    assert_string_equal(str_at(d.root, "swagger"), "2.0");
    const struct k8c_json *defs = at(d.root, "definitions");
    check_refs(d.root, defs, "#/definitions/", &n_refs);
    assert_true(n_refs > 100);
    assert_null(k8c_json_get(d.root, "components"));
    const struct k8c_json *ios = schema(&d, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_string_equal(str_at(ios, "type"), "string");
    assert_string_equal(str_at(ios, "format"), "int-or-string");
    assert_null(k8c_json_get(ios, "oneOf"));
    assert_string_equal(str_at(schema(&d, "io.k8s.apimachinery.pkg.api.resource.Quantity"), "type"),
                        "string");
    /* references with descriptions keep "$ref" directly in v2 */
    const struct k8c_json *spec =
        at(schema(&d, "io.k8s.api.apps.v1.Deployment"), "properties|spec");
    assert_string_equal(str_at(spec, "$ref"), "#/definitions/io.k8s.api.apps.v1.DeploymentSpec");
    assert_non_null(k8c_json_get(spec, "description"));
    /* every group's paths are in the one document */
    const struct k8c_json *paths = at(d.root, "paths");
    const struct k8c_json *patch =
        at(paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}|patch");
    const struct k8c_json *fv = find_param(at(patch, "parameters"), "fieldValidation");
    assert_non_null(fv);
    assert_string_equal(str_at(fv, "type"), "string");
    assert_null(find_param(at(patch, "parameters"), "body"));
    const struct k8c_json *post = at(paths, "/api/v1/namespaces/{namespace}/pods|post");
    const struct k8c_json *body = find_param(at(post, "parameters"), "body");
    assert_non_null(body);
    assert_string_equal(str_at(body, "schema|$ref"), "#/definitions/io.k8s.api.core.v1.Pod");
    assert_string_equal(str_at(post, "responses|201|schema|$ref"),
                        "#/definitions/io.k8s.api.core.v1.Pod");
    assert_non_null(k8c_json_get(paths, "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"));
    assert_string_equal(
        str_at(paths, "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}|get|operationId"),
        "readRbacAuthorizationV1ClusterRole");
    doc_free(&d);
}

/* ------------------------------------------------------------------------------------------ */
/* --dump DIR: files for the kubectl integration test                                         */

static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* Writes index.json, v2.json, v2.pb (its protobuf form), one v3 file per group-version
 * ("apis_apps_v1.json") and resources.json (what legacy discovery needs: one entry per resource).
 */
static int dump(const char *dir)
{
    struct k8c_sbuf sb;
    size_t n_gv, n_res;
    const char *const *gvs;
    const struct api_resource *rs;
    int bad = 0;
    char err[K8C_ERRMSG_SIZE] = "";

    if (api_resources_init(err) != 0) {
        fprintf(stderr, "api_resources_init: %s\n", err);
        return 1;
    }
    gvs = api_group_versions(&n_gv);
    rs = api_resources(&n_res);
    k8c_sbuf_init(&sb);
    bad |= api_openapi_v3_index(&sb) != 0 || write_file(dir, "index.json", sb.data, sb.len);
    k8c_sbuf_reset(&sb);
    bad |= api_openapi_v2(&sb) != 0 || write_file(dir, "v2.json", sb.data, sb.len);
    k8c_sbuf_reset(&sb);
    bad |= api_openapi_v2_proto(&sb) != 0 || write_file(dir, "v2.pb", sb.data, sb.len);
    for (size_t i = 0; i < n_gv; i++) {
        char path[256], name[300];
        group_version_path(gvs[i], path, sizeof(path));
        snprintf(name, sizeof(name), "%s.json", path);
        for (char *p = name; *p != '\0'; p++)
            if (*p == '/')
                *p = '_';
        k8c_sbuf_reset(&sb);
        bad |= api_openapi_v3_doc(path, &sb) != 0 || write_file(dir, name, sb.data, sb.len);
    }
    k8c_sbuf_reset(&sb);
    k8c_sbuf_puts(&sb, "[");
    for (size_t i = 0; i < n_res; i++) {
        k8c_sbuf_printf(&sb,
                        "%s{\"group\":\"%s\",\"version\":\"%s\",\"name\":\"%s\","
                        "\"singularName\":\"%s\",\"kind\":\"%s\",\"namespaced\":%s,"
                        "\"shortNames\":\"%s\",\"verbs\":[",
                        i > 0 ? "," : "", rs[i].group, rs[i].version, rs[i].resource,
                        rs[i].singular, rs[i].kind, rs[i].namespaced ? "true" : "false",
                        rs[i].short_names);
        bool first = true;
        for (unsigned b = 0; b < API_VERBS_N; b++) {
            if (rs[i].verbs & (1u << b)) {
                k8c_sbuf_printf(&sb, "%s\"%s\"", first ? "" : ",", api_verb_names[b]);
                first = false;
            }
        }
        k8c_sbuf_puts(&sb, "]}");
    }
    k8c_sbuf_puts(&sb, "]");
    bad |= write_file(dir, "resources.json", sb.data, sb.len);
    k8c_sbuf_free(&sb);
    return bad;
}

/* The fields of one protobuf message: calls fn for each (number, wire type, bytes of a
 * length-delimited one); fails the test on a malformed message. */
static void pb_walk(const uint8_t *p, const uint8_t *end,
                    void (*fn)(void *arg, unsigned field, const uint8_t *data, size_t len),
                    void *arg)
{
    while (p < end) {
        uint64_t key, v;
        assert_int_equal(k8c_codec_varint_get(&p, end, &key), 0);
        unsigned wire = (unsigned)(key & 7), field = (unsigned)(key >> 3);
        assert_true(field > 0);
        if (wire == 0) {
            assert_int_equal(k8c_codec_varint_get(&p, end, &v), 0);
            fn(arg, field, NULL, (size_t)v);
        } else {
            assert_int_equal(wire, 2); /* no fixed-size fields in what we write */
            assert_int_equal(k8c_codec_varint_get(&p, end, &v), 0);
            assert_true(v <= (uint64_t)(end - p));
            fn(arg, field, p, (size_t)v);
            p += v;
        }
    }
}

struct pb_seen {
    unsigned counts[40];
    const uint8_t *data[40]; /* the last of each field */
    size_t len[40];
};

static void pb_count(void *arg, unsigned field, const uint8_t *data, size_t len)
{
    struct pb_seen *s = arg;
    if (field < 40) {
        s->counts[field]++;
        s->data[field] = data;
        s->len[field] = len;
    }
}

static void pb_fields(const uint8_t *p, size_t len, struct pb_seen *s)
{
    memset(s, 0, sizeof(*s));
    pb_walk(p, p + len, pb_count, s);
}

/* The NamedSchema of Definitions named name, or fails. */
struct pb_find {
    const char *name;
    const uint8_t *value;
    size_t len;
};

static void pb_find_named(void *arg, unsigned field, const uint8_t *data, size_t len)
{
    struct pb_find *f = arg;
    struct pb_seen named;
    (void)field;
    pb_fields(data, len, &named);
    if (named.len[1] == strlen(f->name) && memcmp(named.data[1], f->name, named.len[1]) == 0) {
        f->value = named.data[2];
        f->len = named.len[2];
    }
}

/* /openapi/v2 as protobuf: a gnostic openapi.v2.Document with the same content */
static void test_v2_protobuf(void **state)
{
    struct k8c_sbuf sb;
    struct pb_seen doc, info, sch, type, props;

    (void)state;
    k8c_sbuf_init(&sb);
    assert_int_equal(api_openapi_v2_proto(&sb), 0);
    pb_fields((const uint8_t *)sb.data, sb.len, &doc);
    /* swagger 1, info 2, paths 8, definitions 9 */
    assert_int_equal(doc.counts[1], 1);
    assert_int_equal(doc.len[1], 3);
    assert_memory_equal(doc.data[1], "2.0", 3);
    pb_fields(doc.data[2], doc.len[2], &info);
    assert_int_equal(info.len[1], strlen("Kubernetes"));
    assert_int_equal(doc.counts[8], 1);
    assert_int_equal(doc.counts[9], 1);
    struct pb_find f = {"io.k8s.api.core.v1.Pod", NULL, 0};
    pb_walk(doc.data[9], doc.data[9] + doc.len[9], pb_find_named, &f);
    assert_non_null(f.value);
    /* Schema: description 4, type 22 (TypeItem.value 1 = "object"), properties 25, the GVK
     * vendor extension 31 */
    pb_fields(f.value, f.len, &sch);
    assert_int_equal(sch.counts[4], 1);
    pb_fields(sch.data[22], sch.len[22], &type);
    assert_int_equal(type.len[1], 6);
    assert_memory_equal(type.data[1], "object", 6);
    pb_fields(sch.data[25], sch.len[25], &props);
    assert_true(props.counts[1] >= 5); /* apiVersion kind metadata spec status */
    assert_int_equal(sch.counts[31], 1);
    struct pb_seen ext, any;
    pb_fields(sch.data[31], sch.len[31], &ext);
    assert_int_equal(ext.len[1], strlen("x-kubernetes-group-version-kind"));
    pb_fields(ext.data[2], ext.len[2], &any);
    assert_int_equal(any.counts[2], 1); /* Any.yaml */
    const char *want = "[{\"group\":\"\",\"kind\":\"Pod\",\"version\":\"v1\"}]";
    assert_int_equal(any.len[2], strlen(want));
    assert_memory_equal(any.data[2], want, strlen(want));
    /* the paths: one NamedPathItem per path of the JSON document */
    struct pb_seen paths;
    pb_fields(doc.data[8], doc.len[8], &paths);
    struct doc d;
    load_v2(&d);
    assert_int_equal(paths.counts[2], at(d.root, "paths")->len);
    doc_free(&d);
    k8c_sbuf_free(&sb);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_lists_every_group_version),
        cmocka_unit_test(test_unknown_and_spelled_paths),
        cmocka_unit_test(test_pod_schema),
        cmocka_unit_test(test_special_types),
        cmocka_unit_test(test_inline_fields),
        cmocka_unit_test(test_deployment_paths),
        cmocka_unit_test(test_core_paths),
        cmocka_unit_test(test_every_document),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_v2_protobuf),
    };

    if (argc == 3 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2]);
    return cmocka_run_group_tests(tests, setup, NULL);
}
