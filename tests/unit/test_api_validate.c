/* Unit tests for apiserver/validate: objects as kubectl sends them (kubectl create ...
 * --dry-run=client -o json), decoded, defaulted as on create and put in namespace "default" as
 * the server does, then validated; each test lists the exact errors (reason, field path,
 * message) upstream 1.32 gives for them. JSON in this file is written with ' for " and
 * expected messages (which contain upstream's own ') with ~ for ", to stay readable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "defaults.h"
#include "error.h"
#include "podsecurity.h"
#include "resources.h"
#include "validate.h"

#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta meta_t;

/* ' -> " (tests never need a literal ') */
static char *dq(const char *s)
{
    char *out = k8c_strdup(s);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static const struct api_resource *resource_of(const ProtobufCMessage *m)
{
    const struct k8c_codec_kind *k = k8c_codec_lookup_desc(m->descriptor);
    assert_non_null(k);
    return api_resource_by_kind(k->api_version, k->kind);
}

static meta_t *meta_of(ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "metadata");
    assert_non_null(f);
    return *(meta_t **)((char *)m + f->offset);
}

/* Decodes, defaults as on create and sets the namespace of namespaced kinds. */
static ProtobufCMessage *object(const char *json_sq)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m = NULL;
    char *json = dq(json_sq);
    const struct api_resource *r;
    meta_t *meta;

    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(NULL, json, strlen(json), NULL, &d, &m) != 0)
        fail_msg("decode failed: %s", d.errmsg);
    k8c_codec_diag_free(&d);
    k8c_free(json);
    r = resource_of(m);
    assert_non_null(r);
    api_defaults_apply_create(r, m);
    meta = meta_of(m);
    if (r->namespaced && meta != NULL && (meta->namespace_ == NULL || !meta->namespace_[0])) {
        free(meta->namespace_);
        meta->namespace_ = strdup("default");
    }
    return m;
}

/* Validates obj (against old unless NULL) and returns the errors as lines
 * "<reason> <field>: <message>"; the caller frees. */
static bool g_ephemeral; /* validate as the pods/ephemeralcontainers subresource */
static bool g_status;    /* validate as a status subresource update */

static char *validate(ProtobufCMessage *obj, ProtobufCMessage *old)
{
    struct api_field_errors errs;
    struct k8c_sbuf sb;
    int rc;

    api_field_errors_init(&errs);
    rc = g_ephemeral ? api_validate_pod_ephemeral_update(obj, old, &errs)
         : g_status  ? api_validate_status_update(resource_of(obj), obj, old, &errs)
                     : api_validate(resource_of(obj), obj, old, &errs);
    assert_int_equal(rc, errs.n == 0 ? 0 : K8C_EINVAL);
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb, "");
    for (size_t i = 0; i < errs.n; i++) {
        char *s = api_validate_error_string(&errs.items[i]);
        k8c_sbuf_printf(&sb, "%s %s\n", errs.items[i].type, s);
        k8c_free(s);
    }
    api_field_errors_free(&errs);
    assert_int_equal(errs.n, 0);
    return k8c_sbuf_detach(&sb);
}

/* Expected texts keep upstream's ' and write " as ~. */
static char *tq(const char *s)
{
    char *out = k8c_strdup(s);
    for (char *p = out; *p; p++)
        if (*p == '~')
            *p = '"';
    return out;
}

static void expect_update(const char *json_sq, const char *old_sq, const char *want_tq)
{
    ProtobufCMessage *m = object(json_sq);
    ProtobufCMessage *o = old_sq != NULL ? object(old_sq) : NULL;
    char *got = validate(m, o);
    char *want = tq(want_tq);

    if (strcmp(got, want) != 0) {
        print_message("got:\n%s\nwant:\n%s\n", got, want);
        fail();
    }
    k8c_free(got);
    k8c_free(want);
    protobuf_c_message_free_unpacked(m, NULL);
    if (o != NULL)
        protobuf_c_message_free_unpacked(o, NULL);
}

static void expect(const char *json_sq, const char *want_tq)
{
    expect_update(json_sq, NULL, want_tq);
}

/* The 422 message for the object's errors. */
static void expect_message(const char *json_sq, const char *want_tq)
{
    ProtobufCMessage *m = object(json_sq);
    const struct api_resource *r = resource_of(m);
    struct api_field_errors errs;
    struct k8c_sbuf sb;
    char *want = tq(want_tq);

    api_field_errors_init(&errs);
    api_validate(NULL, m, NULL, &errs);
    k8c_sbuf_init(&sb);
    api_validate_format_message(r->kind, r->group, meta_of(m)->name, &errs, &sb);
    if (strcmp(sb.data, want) != 0) {
        print_message("got:  %s\nwant: %s\n", sb.data, want);
        fail();
    }
    k8c_sbuf_free(&sb);
    k8c_free(want);
    api_field_errors_free(&errs);
    protobuf_c_message_free_unpacked(m, NULL);
}

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    (void)state;
    return api_resources_init(errmsg);
}

/* ---- objects ------------------------------------------------------------------------------- */

#define DEPLOYMENT(meta, spec)                                                                     \
    "{'kind':'Deployment','apiVersion':'apps/v1','metadata':{" meta "},'spec':{" spec "}}"
/* kubectl create deployment web --image=nginx --replicas=2 --port=80 */
#define WEB_META "'name':'web','creationTimestamp':null,'labels':{'app':'web'}"
#define WEB_TEMPLATE                                                                               \
    "'template':{'metadata':{'creationTimestamp':null,'labels':{'app':'web'}},'spec':{"            \
    "'containers':[{'name':'nginx','image':'nginx','ports':[{'containerPort':80}],"                \
    "'resources':{}}]}},'strategy':{}"
#define WEB                                                                                        \
    DEPLOYMENT(WEB_META, "'replicas':2,'selector':{'matchLabels':{'app':'web'}}," WEB_TEMPLATE)

#define POD(spec)                                                                                  \
    "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'nginx','creationTimestamp':null,"         \
    "'labels':{'run':'nginx'}},'spec':{" spec "},'status':{}}"
#define NGINX "{'name':'nginx','image':'nginx','ports':[{'containerPort':80}],'resources':{}}"

#define CM(meta, rest) "{'kind':'ConfigMap','apiVersion':'v1','metadata':{" meta "}" rest "}"

#define SVC(meta, spec)                                                                            \
    "{'kind':'Service','apiVersion':'v1','metadata':{" meta "},'spec':{" spec "}}"
/* kubectl create service clusterip my-svc --tcp=5678:8080 */
#define MY_SVC_META "'name':'my-svc','creationTimestamp':null,'labels':{'app':'my-svc'}"
#define MY_SVC_PORT "{'name':'5678-8080','protocol':'TCP','port':5678,'targetPort':8080}"

/* kubectl create job pi --image=perl, with the selector the registry generates */
#define JOB(spec)                                                                                  \
    "{'kind':'Job','apiVersion':'batch/v1','metadata':{'name':'pi'},'spec':{" spec "}}"
#define PI_SELECTOR "'selector':{'matchLabels':{'batch.kubernetes.io/controller-uid':'u1'}},"
#define PI_TEMPLATE(labels, restart)                                                               \
    "'template':{'metadata':{" labels "},'spec':{'containers':[{'name':'pi','image':'perl',"       \
    "'resources':{}}]" restart "}}"
#define PI_LABELS "'labels':{'batch.kubernetes.io/controller-uid':'u1'}"

/* ---- tests --------------------------------------------------------------------------------- */

static void test_valid_objects(void **state)
{
    (void)state;
    expect(WEB, "");
    expect(POD("'containers':[" NGINX "],'restartPolicy':'Always','dnsPolicy':'ClusterFirst'"), "");
    expect(CM("'name':'cfg','creationTimestamp':null", ",'data':{'a':'1'}"), "");
    expect(SVC(MY_SVC_META, "'ports':[" MY_SVC_PORT "],'selector':{'app':'my-svc'},"
                            "'type':'ClusterIP'"),
           "");
    expect(JOB(PI_SELECTOR PI_TEMPLATE(PI_LABELS, ",'restartPolicy':'Never'")), "");
    /* kubectl create cronjob cj --image=busybox --schedule='*\/1 * * * *' */
    expect("{'kind':'CronJob','apiVersion':'batch/v1','metadata':{'name':'cj',"
           "'creationTimestamp':null},'spec':{'schedule':'*/1 * * * *','jobTemplate':{"
           "'metadata':{'name':'cj','creationTimestamp':null},'spec':{'template':{'metadata':{"
           "'creationTimestamp':null},'spec':{'containers':[{'name':'cj','image':'busybox',"
           "'resources':{}}],'restartPolicy':'OnFailure'}}}}},'status':{}}",
           "");
    /* kubectl create namespace dev; kubectl create secret tls */
    expect("{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev'}}", "");
    expect("{'kind':'Secret','apiVersion':'v1','metadata':{'name':'tls'},'type':"
           "'kubernetes.io/tls','data':{'tls.crt':'YQ==','tls.key':'Yg=='}}",
           "");
    expect("{'kind':'ClusterRole','apiVersion':'rbac.authorization.k8s.io/v1','metadata':{"
           "'name':'system:aggregate-to-view'}}",
           "");
}

static void test_metadata(void **state)
{
    (void)state;
    expect(CM("'creationTimestamp':null", ""),
           "FieldValueRequired metadata.name: Required value: name or generateName is required\n");
    expect(CM("'name':'Web_1'", ""),
           "FieldValueInvalid metadata.name: Invalid value: ~Web_1~: a lowercase RFC 1123 "
           "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n");
    /* generateName: a trailing '-' is fine, the rest is checked as a name */
    expect(CM("'name':'cfg-x1','generateName':'cfg-'", ""), "");
    expect(CM("'name':'cfg-x1','generateName':'Cfg-'", ""),
           "FieldValueInvalid metadata.generateName: Invalid value: ~Cfg-~: a lowercase RFC 1123 "
           "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n");
    /* Services: DNS-1035 labels */
    expect(SVC("'name':'1svc'", "'ports':[" MY_SVC_PORT "]"),
           "FieldValueInvalid metadata.name: Invalid value: ~1svc~: a DNS-1035 label must consist "
           "of lower case alphanumeric characters or '-', start with an alphabetic character, and "
           "end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
           "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')\n");
    /* Namespaces: DNS-1123 labels; no namespace of their own */
    expect("{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'a.b'}}",
           "FieldValueInvalid metadata.name: Invalid value: ~a.b~: must not contain dots\n");
    expect("{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev','namespace':'x'}}",
           "FieldValueForbidden metadata.namespace: Forbidden: not allowed on this type\n");
    /* RBAC: path segments */
    expect("{'kind':'Role','apiVersion':'rbac.authorization.k8s.io/v1','metadata':{"
           "'name':'a/b%c'}}",
           "FieldValueInvalid metadata.name: Invalid value: ~a/b%c~: may not contain '/'\n"
           "FieldValueInvalid metadata.name: Invalid value: ~a/b%c~: may not contain '%'\n");
    /* labels (sorted by key) and annotations */
    expect(CM("'name':'c','labels':{'z':'ok','-bad':'x y'},'annotations':{'A/b':'1'}", ""),
           "FieldValueInvalid metadata.labels: Invalid value: ~-bad~: name part must consist of "
           "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
           "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
           "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
           "FieldValueInvalid metadata.labels: Invalid value: ~x y~: a valid label must be an "
           "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
           "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
           "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n");
    expect(CM("'name':'c','finalizers':['orphan','foregroundDeletion']", ""),
           "FieldValueInvalid metadata.finalizers: Invalid value: []string{~orphan~, "
           "~foregroundDeletion~}: finalizer orphan and foregroundDeletion cannot be both set\n");
    expect(CM("'name':'c','ownerReferences':[{'apiVersion':'apps/','kind':'','name':'n',"
              "'uid':'u'}]",
              ""),
           "FieldValueInvalid metadata.ownerReferences.apiVersion: Invalid value: ~apps/~: "
           "version must not be empty\n"
           "FieldValueInvalid metadata.ownerReferences.kind: Invalid value: ~~: must not be "
           "empty\n");
}

static void test_annotation_size(void **state)
{
    size_t n = 256 * 1024;
    char *big = k8c_malloc(n + 200);
    char *json;
    (void)state;

    strcpy(big,
           "{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'c','annotations':{'a':'");
    memset(big + strlen(big), 'x', n);
    big[strlen(
            "{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'c','annotations':{'a':'") +
        n] = '\0';
    strcat(big, "'}}}");
    json = big;
    expect(json, "FieldValueTooLong metadata.annotations: Too long: may not be more than 262144 "
                 "bytes\n");
    k8c_free(big);
}

static void test_metadata_update(void **state)
{
    (void)state;
    expect_update(CM("'name':'b','resourceVersion':'5','uid':'u2'", ""),
                  CM("'name':'a','resourceVersion':'5','uid':'u1'", ""),
                  "FieldValueInvalid metadata.name: Invalid value: ~b~: field is immutable\n"
                  "FieldValueInvalid metadata.uid: Invalid value: ~u2~: field is immutable\n");
    expect_update(CM("'name':'a','creationTimestamp':'2024-01-02T03:04:05Z'", ""),
                  CM("'name':'a','creationTimestamp':'2024-01-02T03:04:06Z'", ""),
                  "FieldValueInvalid metadata.resourceVersion: Invalid value: ~~: must be "
                  "specified for an update\n"
                  "FieldValueInvalid metadata.creationTimestamp: Invalid value: 2024-01-02 "
                  "03:04:05 +0000 UTC: field is immutable\n");
    expect_update(CM("'name':'a','resourceVersion':'5','finalizers':['x.io/f']", ""),
                  CM("'name':'a','deletionTimestamp':'2024-01-02T03:04:05Z'", ""),
                  "FieldValueForbidden metadata.finalizers: Forbidden: no new finalizers can be "
                  "added if the object is being deleted, found new finalizers []string{~x.io/f~}\n"
                  "FieldValueInvalid metadata.deletionTimestamp: Invalid value: ~null~: field is "
                  "immutable\n");
}

/* n containers c0..c<n-1>, the last one named as container dup */
static char *many_containers(size_t n, size_t dup)
{
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb,
                  "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p'},'spec':{'containers':[");
    for (size_t i = 0; i < n; i++)
        k8c_sbuf_printf(&sb, "%s{'name':'c%zu','image':'i'}", i ? "," : "", i + 1 < n ? i : dup);
    k8c_sbuf_puts(&sb, "]}}");
    return k8c_sbuf_detach(&sb);
}

static void test_pod_spec(void **state)
{
    (void)state;
    /* names past the size where the set switches from a scan to a hash index */
    char *json = many_containers(200, 3);
    expect(json, "FieldValueDuplicate spec.containers[199].name: Duplicate value: ~c3~\n");
    k8c_free(json);
    json = many_containers(200, 199);
    expect(json, "");
    k8c_free(json);
    expect(POD("'containers':[]"), "FieldValueRequired spec.containers: Required value\n");
    expect(POD("'containers':[" NGINX "," NGINX "]"),
           "FieldValueDuplicate spec.containers[1].name: Duplicate value: ~nginx~\n");
    expect(POD("'containers':[{'name':'Web','ports':[{'containerPort':70000,'protocol':'HTTP'},"
               "{'containerPort':81,'hostPort':8080},{'containerPort':82,'hostPort':8080}]}],"
               "'restartPolicy':'Sometimes'"),
           "FieldValueInvalid spec.containers[0].name: Invalid value: ~Web~: a lowercase RFC 1123 "
           "label must consist of lower case alphanumeric characters or '-', and must start and "
           "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n"
           "FieldValueRequired spec.containers[0].image: Required value\n"
           "FieldValueInvalid spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
           "must be between 1 and 65535, inclusive\n"
           "FieldValueNotSupported spec.containers[0].ports[0].protocol: Unsupported value: "
           "~HTTP~: supported values: ~SCTP~, ~TCP~, ~UDP~\n"
           "FieldValueDuplicate spec.containers[0].ports[2].hostPort: Duplicate value: "
           "~/TCP/8080~\n"
           "FieldValueNotSupported spec.restartPolicy: Unsupported value: ~Sometimes~: "
           "supported values: ~Always~, ~OnFailure~, ~Never~\n");
    expect(POD("'containers':[{'name':'c','image':'i','resources':{'limits':{'cpu':'1'},"
               "'requests':{'cpu':'2','memory':'-1'}}}]"),
           "FieldValueInvalid spec.containers[0].resources.requests: Invalid value: ~2~: must be "
           "less than or equal to cpu limit of 1\n"
           "FieldValueInvalid spec.containers[0].resources.requests[memory]: Invalid value: "
           "~-1~: must be greater than or equal to 0\n");
    expect(POD("'containers':[{'name':'c','image':'i','volumeMounts':[{'name':'v',"
               "'mountPath':'/a'},{'name':'data','mountPath':'/a','subPath':'../x'}]}],"
               "'volumes':[{'name':'data','emptyDir':{}},{'name':'data','emptyDir':{}},"
               "{'name':'two','emptyDir':{},'hostPath':{'path':'/x'}}]"),
           "FieldValueDuplicate spec.volumes[1].name: Duplicate value: ~data~\n"
           "FieldValueForbidden spec.volumes[2].emptyDir: Forbidden: may not specify more than 1 "
           "volume type\n"
           "FieldValueNotFound spec.containers[0].volumeMounts[0].name: Not found: ~v~\n"
           "FieldValueInvalid spec.containers[0].volumeMounts[1].mountPath: Invalid value: "
           "~/a~: must be unique\n"
           "FieldValueInvalid spec.containers[0].volumeMounts.subPath: Invalid value: ~../x~: "
           "must not contain '..'\n");
    expect(POD("'containers':[{'name':'c','image':'i','env':[{'name':'A=B'},{'name':''}],"
               "'livenessProbe':{'successThreshold':2},'readinessProbe':{'httpGet':{"
               "'port':0}}}],'initContainers':[{'name':'c','image':'i','readinessProbe':{"
               "'exec':{'command':['true']}}}],'dnsPolicy':'Foo'"),
           "FieldValueInvalid spec.containers[0].env[0].name: Invalid value: ~A=B~: a valid "
           "environment variable name must consist only of printable ASCII characters other "
           "than '='\n"
           "FieldValueRequired spec.containers[0].env[1].name: Required value\n"
           "FieldValueRequired spec.containers[0].livenessProbe: Required value: must specify a "
           "handler type\n"
           "FieldValueInvalid spec.containers[0].livenessProbe.successThreshold: Invalid value: "
           "2: must be 1\n"
           "FieldValueInvalid spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: "
           "must be between 1 and 65535, inclusive\n"
           "FieldValueDuplicate spec.initContainers[0].name: Duplicate value: ~c~\n"
           "FieldValueForbidden spec.initContainers[0].readinessProbe: Forbidden: may not be set "
           "for init containers\n"
           "FieldValueNotSupported spec.dnsPolicy: Unsupported value: ~Foo~: supported values: "
           "~ClusterFirstWithHostNet~, ~ClusterFirst~, ~Default~, ~None~\n");
}

static void test_pod_update(void **state)
{
    (void)state;
    /* the image may change; other container fields may not */
    expect_update(POD("'containers':[{'name':'c','image':'i2'}]") "",
                  POD("'containers':[{'name':'c','image':'i1'}]"),
                  "FieldValueInvalid metadata.resourceVersion: Invalid value: ~~: must be "
                  "specified for an update\n");
    expect_update(POD("'containers':[{'name':'c','image':'i','command':['x']}]"),
                  POD("'containers':[{'name':'c','image':'i'}]"),
                  "FieldValueInvalid metadata.resourceVersion: Invalid value: ~~: must be "
                  "specified for an update\n"
                  "FieldValueForbidden spec: Forbidden: pod updates may not change fields other "
                  "than `spec.containers[*].image`,`spec.initContainers[*].image`,"
                  "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                  "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                  "it was previously negative)\n");
    expect_update(POD("'containers':[{'name':'c','image':'i'},{'name':'d','image':'i'}]"),
                  POD("'containers':[{'name':'c','image':'i'}]"),
                  "FieldValueInvalid metadata.resourceVersion: Invalid value: ~~: must be "
                  "specified for an update\n"
                  "FieldValueForbidden spec.containers: Forbidden: pod updates may not add or "
                  "remove containers\n");
}

#define APOD(ann, spec)                                                                            \
    "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p','resourceVersion':'1','annotations':"  \
    "{" ann "}},'spec':{'containers':[{'name':'c','image':'i'}]" spec "}}"

static void test_pod_annotations(void **state)
{
    (void)state;
    expect(APOD("'kubernetes.io/config.mirror':'m','controller.kubernetes.io/pod-deletion-cost':"
                "'+5'",
                ""),
           "FieldValueInvalid metadata.annotations[kubernetes.io/config.mirror]: Invalid value: "
           "~m~: must set spec.nodeName if mirror pod annotation is set\n"
           "FieldValueInvalid metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: "
           "Invalid value: ~+5~: must be a 32bit integer\n");
    expect(APOD("'controller.kubernetes.io/pod-deletion-cost':'-2147483648'", ""), "");
    expect(APOD("'controller.kubernetes.io/pod-deletion-cost':'2147483648'", ""),
           "FieldValueInvalid metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: "
           "Invalid value: ~2147483648~: must be a 32bit integer\n");
    expect(APOD("'controller.kubernetes.io/pod-deletion-cost':'007'", ""),
           "FieldValueInvalid metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: "
           "Invalid value: ~007~: must be a 32bit integer\n");
    /* the mirror pod annotation neither comes nor goes; updates see the create rules too */
    expect_update(APOD("'kubernetes.io/config.mirror':'m'", ",'nodeName':'n'"),
                  APOD("'a':'b'", ",'nodeName':'n'"),
                  "FieldValueForbidden metadata.annotations[kubernetes.io/config.mirror]: "
                  "Forbidden: may not add mirror pod annotation\n");
    expect_update(APOD("'controller.kubernetes.io/pod-deletion-cost':'x'", ""),
                  APOD("'container.apparmor.security.beta.kubernetes.io/c':'runtime/default'", ""),
                  "FieldValueInvalid metadata.annotations[controller.kubernetes.io/"
                  "pod-deletion-cost]: Invalid value: ~x~: must be a 32bit integer\n"
                  "FieldValueForbidden metadata.annotations[container.apparmor.security.beta."
                  "kubernetes.io/c]: Forbidden: may not remove or update AppArmor annotations\n"
                  "FieldValueInvalid metadata.annotations[controller.kubernetes.io/"
                  "pod-deletion-cost]: Invalid value: ~x~: must be a 32bit integer\n");
    /* templates: at the template's own annotations */
    expect(DEPLOYMENT(WEB_META, "'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
                                "{'labels':{'app':'web'},'annotations':{'controller.kubernetes.io/"
                                "pod-deletion-cost':'1.5'}},'spec':{'containers':[" NGINX "]}}"),
           "FieldValueInvalid spec.template.annotations[controller.kubernetes.io/"
           "pod-deletion-cost]: Invalid value: ~1.5~: must be a 32bit integer\n");
    /* the deprecated tolerations annotation: JSON decoded as Go does, then validated */
#define TOLS "'scheduler.alpha.kubernetes.io/tolerations':"
    expect(APOD(TOLS "'[{\\\"key\\\":\\\"a\\\",\\\"Operator\\\":\\\"Exists\\\",\\\"value\\\":"
                     "\\\"v\\\"}]'",
                ""),
           "FieldValueInvalid metadata.annotations.scheduler.alpha.kubernetes.io/"
           "tolerations[0].operator: Invalid value: ~v~: value must be empty when `operator` is "
           "'Exists'\n");
    expect(APOD(TOLS "'[{\\\"key\\\":1}]'", ""),
           "FieldValueInvalid metadata.annotations: Invalid value: ~scheduler.alpha.kubernetes.io/"
           "tolerations~: json: cannot unmarshal number into Go struct field Toleration.Key of "
           "type string\n");
    expect(APOD(TOLS "'{x'", ""),
           "FieldValueInvalid metadata.annotations: Invalid value: ~scheduler.alpha.kubernetes.io/"
           "tolerations~: invalid character 'x' looking for beginning of object key string\n");
    expect(APOD(TOLS "'[{\\\"key\\\":\\\"a\\\",\\\"effect\\\":\\\"NoExecute\\\","
                     "\\\"tolerationSeconds\\\":30}]'",
                ""),
           "");
    /* the deprecated seccomp and AppArmor annotations */
    expect(APOD("'seccomp.security.alpha.kubernetes.io/pod':'bogus','container.seccomp.security."
                "alpha.kubernetes.io/c':'localhost/../x','container.apparmor.security.beta."
                "kubernetes.io/d':'x'",
                ""),
           "FieldValueInvalid metadata.annotations.seccomp.security.alpha.kubernetes.io/pod: "
           "Invalid value: ~bogus~: must be a valid seccomp profile\n"
           "FieldValueInvalid metadata.annotations.container.seccomp.security.alpha.kubernetes.io/"
           "c: Invalid value: ~../x~: must not contain '..'\n"
           "FieldValueInvalid metadata.annotations[container.apparmor.security.beta.kubernetes.io/"
           "d]: Invalid value: ~d~: container not found\n"
           "FieldValueInvalid metadata.annotations[container.apparmor.security.beta.kubernetes.io/"
           "d]: Invalid value: ~x~: invalid AppArmor profile name: ~x~\n");
    expect(APOD("'seccomp.security.alpha.kubernetes.io/pod':'runtime/default','container.apparmor."
                "security.beta.kubernetes.io/c':'localhost/p'",
                ""),
           "");
}

#undef CSTATUS /* <sys/ttydefaults.h>, through libuv */
#define CSTATUS(name, state)                                                                       \
    "{'name':'" name "','ready':false,'restartCount':0,'image':'i',"                               \
    "'imageID':'','state':{" state "}}"
#define TERMINATED(code) "'terminated':{'exitCode':" code "}"
#define RUNNING          "'running':{}"
#define SPOD(policy, status)                                                                       \
    "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p','resourceVersion':'1'},'spec':{"       \
    "'restartPolicy':'" policy                                                                     \
    "','containers':[{'name':'c','image':'i'},{'name':'d','image':'i'}],"                          \
    "'initContainers':[{'name':'i','image':'i'},{'name':'s','image':'i','restartPolicy':"          \
    "'Always'}]},'status':{" status "}}"

static void test_events(void **state)
{
    (void)state;
    /* core/v1: the object's namespace must be the event's; names are path segments */
    expect("{'apiVersion':'v1','kind':'Event','metadata':{'name':'Foo_Bar','namespace':'default'},"
           "'involvedObject':{'kind':'Pod','name':'p','namespace':'other'},'reason':'R'}",
           "FieldValueInvalid involvedObject.namespace: Invalid value: ~other~: does not match "
           "event.namespace\n");
    expect("{'apiVersion':'v1','kind':'Event','metadata':{'name':'Foo_Bar','namespace':'default'},"
           "'involvedObject':{'kind':'Pod','name':'p'},'reason':'R'}",
           "");
    expect("{'apiVersion':'v1','kind':'Event','metadata':{'name':'a/b','namespace':'default'},"
           "'involvedObject':{'kind':'Pod','name':'p'}}",
           "FieldValueInvalid metadata.name: Invalid value: ~a/b~: may not contain '/'\n");
    /* a new-style event (eventTime set) names its reporter, action and reason */
    expect("{'apiVersion':'v1','kind':'Event','metadata':{'name':'e','namespace':'default'},"
           "'eventTime':'2026-12-01T14:00:00.000000Z','involvedObject':{'kind':'Pod','name':'p'},"
           "'reportingInstance':'i','action':'A'}",
           "FieldValueRequired reportingComponent: Required value\n"
           "FieldValueInvalid reportingComponent: Invalid value: ~~: name part must be "
           "non-empty\n"
           "FieldValueInvalid reportingComponent: Invalid value: ~~: name part must consist of "
           "alphanumeric characters, '-', '_' or '.', and must start and end with an "
           "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
           "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
           "FieldValueRequired reason: Required value\n");
    /* events.k8s.io/v1 creates are strict */
    expect("{'apiVersion':'events.k8s.io/v1','kind':'Event','metadata':{'name':'Foo_Bar',"
           "'namespace':'default'},'regarding':{'kind':'Pod','name':'p'},'type':'Bogus',"
           "'deprecatedCount':3,'deprecatedSource':{'component':'c'}}",
           "FieldValueInvalid metadata.name: Invalid value: ~Foo_Bar~: a lowercase RFC 1123 "
           "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
           "FieldValueRequired eventTime: Required value\n"
           "FieldValueInvalid type: Invalid value: ~~: has invalid value: Bogus\n"
           "FieldValueInvalid count: Invalid value: ~~: needs to be unset\n"
           "FieldValueInvalid source: Invalid value: ~~: needs to be unset\n");
    expect("{'apiVersion':'events.k8s.io/v1','kind':'Event','metadata':{'name':'n',"
           "'namespace':'default'},'eventTime':'2026-12-01T14:00:00.000000Z','regarding':{'kind':"
           "'Pod','name':'p','namespace':'default'},'type':'Normal','reportingController':"
           "'example.com/c','reportingInstance':'i','action':'A','reason':'R'}",
           "");
    expect(
        "{'apiVersion':'events.k8s.io/v1','kind':'Event','metadata':{'name':'n',"
        "'namespace':'default'},'eventTime':'2026-12-01T14:00:00.000000Z','regarding':{'kind':"
        "'Pod','name':'p','namespace':'default'},'type':'Normal','reportingController':"
        "'example.com/c','reportingInstance':'i','action':'A','reason':'R','series':{'count':1}}",
        "FieldValueInvalid series.count: Invalid value: ~~: should be at least 2\n"
        "FieldValueRequired series.lastObservedTime: Required value\n");
}

/* the security context below as the errors print it (pointers as their values) */
#define PRIV_SC                                                                                    \
    "core.SecurityContext{Capabilities:(*core.Capabilities)(&{...}), Privileged:(*bool)(true), "   \
    "SELinuxOptions:(*core.SELinuxOptions)(nil), "                                                 \
    "WindowsOptions:(*core.WindowsSecurityContextOptions)(nil), RunAsUser:(*int64)(nil), "         \
    "RunAsGroup:(*int64)(nil), RunAsNonRoot:(*bool)(nil), ReadOnlyRootFilesystem:(*bool)(nil), "   \
    "AllowPrivilegeEscalation:(*bool)(false), ProcMount:(*core.ProcMountType)(nil), "              \
    "SeccompProfile:(*core.SeccompProfile)(&{...}), "                                              \
    "AppArmorProfile:(*core.AppArmorProfile)(&{...})}"

static void test_security_context(void **state)
{
    (void)state;
    api_validate_set_allow_privileged(false);
    expect(POD("'hostNetwork':true,'hostPID':true,'shareProcessNamespace':true,'securityContext':{"
               "'runAsUser':-1,'supplementalGroups':[1,2147483648],'fsGroupChangePolicy':'Never',"
               "'sysctls':[{'name':'Bad_'},{'name':'net.core.somaxconn','value':'1'},"
               "{'name':'net.core.somaxconn'},{'name':'kernel.shm_rmid_forced'}],"
               "'appArmorProfile':{'type':'Localhost','localhostProfile':' p'}},'containers':[{"
               "'name':'c','image':'i','securityContext':{'privileged':true,"
               "'allowPrivilegeEscalation':false,'runAsGroup':-2,'seccompProfile':{'type':"
               "'Localhost'}}}]"),
           "FieldValueForbidden spec.containers[0].securityContext.privileged: Forbidden: "
           "disallowed by cluster policy\n"
           "FieldValueInvalid spec.containers[0].securityContext.runAsGroup: Invalid value: -2: "
           "must be between 0 and 2147483647, inclusive\n"
           "FieldValueRequired spec.containers[0].securityContext.seccompProfile.localhostProfile: "
           "Required value: must be set when seccomp type is Localhost\n"
           "FieldValueInvalid spec.containers[0].securityContext: Invalid value: "
           "core.SecurityContext{Capabilities:(*core.Capabilities)(nil), Privileged:(*bool)(true), "
           "SELinuxOptions:(*core.SELinuxOptions)(nil), "
           "WindowsOptions:(*core.WindowsSecurityContextOptions)(nil), RunAsUser:(*int64)(nil), "
           "RunAsGroup:(*int64)(-2), RunAsNonRoot:(*bool)(nil), "
           "ReadOnlyRootFilesystem:(*bool)(nil), AllowPrivilegeEscalation:(*bool)(false), "
           "ProcMount:(*core.ProcMountType)(nil), SeccompProfile:(*core.SeccompProfile)(&{...}), "
           "AppArmorProfile:(*core.AppArmorProfile)(nil)}: cannot set `allowPrivilegeEscalation` "
           "to false and `privileged` to true\n"
           "FieldValueInvalid spec.securityContext.runAsUser: Invalid value: -1: must be between "
           "0 and 2147483647, inclusive\n"
           "FieldValueInvalid spec.securityContext.supplementalGroups[1]: Invalid value: "
           "2147483648: must be between 0 and 2147483647, inclusive\n"
           "FieldValueInvalid spec.securityContext.shareProcessNamespace: Invalid value: true: "
           "ShareProcessNamespace and HostPID cannot both be enabled\n"
           "FieldValueInvalid spec.securityContext.sysctls[0].name: Invalid value: ~Bad_~: must "
           "have at most 253 characters and match regex "
           "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$\n"
           "FieldValueInvalid spec.securityContext.sysctls[1].name: Invalid value: "
           "~net.core.somaxconn~: may not be specified when 'hostNetwork' is true\n"
           "FieldValueDuplicate spec.securityContext.sysctls[2].name: Duplicate value: "
           "~net.core.somaxconn~\n"
           "FieldValueInvalid spec.securityContext.sysctls[2].name: Invalid value: "
           "~net.core.somaxconn~: may not be specified when 'hostNetwork' is true\n"
           "FieldValueNotSupported spec.securityContext.fsGroupChangePolicy: Unsupported value: "
           "~Never~: supported values: ~Always~, ~OnRootMismatch~\n"
           "FieldValueInvalid spec.securityContext.appArmorProfile.localhostProfile: Invalid "
           "value: ~ p~: must not be padded with whitespace\n");
    /* a server started with --allow-privileged; CAP_SYS_ADMIN without escalation */
    api_validate_set_allow_privileged(true);
    expect(POD("'containers':[{'name':'c','image':'i','securityContext':{'privileged':true,"
               "'capabilities':{'add':['CAP_SYS_ADMIN']},'allowPrivilegeEscalation':false,"
               "'seccompProfile':{'type':'RuntimeDefault','localhostProfile':'x'},"
               "'appArmorProfile':{'type':'Bogus'}}}]"),
           "FieldValueInvalid spec.containers[0].securityContext.seccompProfile.localhostProfile: "
           "Invalid value: core.SeccompProfile{Type:~RuntimeDefault~, "
           "LocalhostProfile:(*string)(~x~)}: can only be set when seccomp type is Localhost\n"
           "FieldValueInvalid spec.containers[0].securityContext: Invalid value: " PRIV_SC
           ": cannot set "
           "`allowPrivilegeEscalation` to false and `privileged` to true\n"
           "FieldValueInvalid spec.containers[0].securityContext: Invalid value: " PRIV_SC
           ": cannot set "
           "`allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN\n"
           "FieldValueNotSupported spec.containers[0].securityContext.appArmorProfile.type: "
           "Unsupported value: ~Bogus~: supported values: ~Localhost~, ~RuntimeDefault~, "
           "~Unconfined~\n");
    api_validate_set_allow_privileged(false);
    /* Windows: user names, host process containers, and each OS's own fields */
    expect(
        POD("'os':{'name':'windows'},'hostPID':true,'securityContext':{'windowsOptions':{"
            "'runAsUserName':'a\\\\b\\\\c','hostProcess':true},'runAsUser':1},"
            "'containers':[{'name':'c','image':'i','securityContext':{'windowsOptions':{"
            "'hostProcess':false,'gmsaCredentialSpec':'','runAsUserName':'dom.example\\\\..'},"
            "'privileged':false}},{'name':'d','image':'i'}]"),
        "FieldValueInvalid spec.containers[0].securityContext.windowsOptions.gmsaCredentialSpec: "
        "Invalid value: ~~: gmsaCredentialSpec cannot be an empty string\n"
        "FieldValueInvalid spec.containers[0].securityContext.windowsOptions.runAsUserName: "
        "Invalid value: ~dom.example\\\\..~: runAsUserName's User cannot contain only "
        "periods or spaces\n"
        "FieldValueInvalid spec.securityContext.windowsOptions.runAsUserName: Invalid value: "
        "~a\\\\b\\\\c~: runAsUserName cannot contain more than one backslash\n"
        "FieldValueInvalid spec.containers[0].securityContext.windowsOptions.hostProcess: "
        "Invalid value: false: pod hostProcess value must be identical if both are specified, "
        "was true\n"
        "FieldValueInvalid spec: Invalid value: ~~: If pod contains any hostProcess containers "
        "then all containers must be HostProcess containers\n"
        "FieldValueInvalid spec.hostNetwork: Invalid value: false: hostNetwork must be true if "
        "pod contains any hostProcess containers\n"
        "FieldValueForbidden spec: Forbidden: hostProcess containers are disallowed by cluster "
        "policy\n"
        "FieldValueForbidden spec.hostPID: Forbidden: cannot be set for a windows pod\n"
        "FieldValueForbidden spec.securityContext.runAsUser: Forbidden: cannot be set for a "
        "windows pod\n"
        "FieldValueForbidden spec.containers[0].securityContext.privileged: Forbidden: cannot "
        "be set for a windows pod\n");
    expect(POD("'os':{'name':'linux'},'containers':[{'name':'c','image':'i','securityContext':{"
               "'windowsOptions':{'runAsUserName':'u'}}}]"),
           "FieldValueForbidden spec.containers[0].securityContext.windowsOptions: Forbidden: "
           "windows options cannot be set for a linux pod\n");
    expect(POD("'os':{'name':'plan9'},'containers':[" NGINX "]"),
           "FieldValueNotSupported spec.os: Unsupported value: ~plan9~: supported values: "
           "~linux~, ~windows~\n");
    /* fields and the deprecated annotations agree, on pods and templates */
    expect(APOD("'seccomp.security.alpha.kubernetes.io/pod':'runtime/default',"
                "'container.apparmor.security.beta.kubernetes.io/c':'localhost/a'",
                ",'securityContext':{'seccompProfile':{'type':'Unconfined'},'appArmorProfile':{"
                "'type':'Localhost','localhostProfile':'b'}}"),
           "FieldValueForbidden spec.securityContext.seccompProfile.type: Forbidden: seccomp type "
           "in annotation and field must match\n"
           "FieldValueForbidden spec.containers[0].securityContext.appArmorProfile."
           "localhostProfile: Forbidden: apparmor profile in annotation and field must match\n");
    expect(DEPLOYMENT(WEB_META, "'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
                                "{'labels':{'app':'web'},'annotations':{'container.seccomp."
                                "security.alpha.kubernetes.io/nginx':'localhost/p'}},'spec':{"
                                "'containers':[{'name':'nginx','image':'nginx','securityContext':"
                                "{'seccompProfile':{'type':'Localhost','localhostProfile':'q'}}}]"
                                ",'securityContext':{'sysctls':[{'name':'kernel.shm_rmid_forced',"
                                "'value':'1'}]},'hostIPC':true}}"),
           "FieldValueInvalid spec.template.spec.securityContext.sysctls[0].name: Invalid value: "
           "~kernel.shm_rmid_forced~: may not be specified when 'hostIPC' is true\n"
           "FieldValueForbidden spec.template.spec.containers[0].securityContext.seccompProfile."
           "localhostProfile: Forbidden: seccomp profile in annotation and field must match\n");
}

static void test_pod_scheduling(void **state)
{
    (void)state;
    /* node and pod affinity */
    expect(
        POD("'containers':[" NGINX "],'affinity':{'nodeAffinity':{"
            "'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':[{"
            "'matchExpressions':[{'key':'zone','operator':'In'},{'key':'n','operator':'Gt',"
            "'values':['1','2']},{'key':'bad key','operator':'Near','values':['x']}],"
            "'matchFields':[{'key':'metadata.name','operator':'In','values':['Bad_Node']},"
            "{'key':'spec.x','operator':'Exists'}]}]},"
            "'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':101,'preference':{}}]},"
            "'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{"
            "'labelSelector':{'matchLabels':{'app':'web'}},'namespaces':['Bad'],"
            "'matchLabelKeys':['a'],'mismatchLabelKeys':['a']}],"
            "'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':0,'podAffinityTerm':{"
            "'topologyKey':'zone','matchLabelKeys':['b']}}]}}"),
        "FieldValueRequired "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when "
        "`operator` is 'In' or 'NotIn'\n"
        "FieldValueRequired "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[1].values: Required value: must be specified single "
        "value when `operator` is 'Lt' or 'Gt'\n"
        "FieldValueInvalid "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[2].operator: Invalid value: ~Near~: not a valid "
        "selector operator\n"
        "FieldValueInvalid "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[2].key: Invalid value: ~bad key~: name part must "
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "FieldValueInvalid "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchFields[0].values[0]: Invalid value: ~Bad_Node~: a lowercase RFC "
        "1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueInvalid "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchFields[1].operator: Invalid value: ~Exists~: not a valid "
        "selector operator\n"
        "FieldValueInvalid "
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchFields[1].key: Invalid value: ~spec.x~: not a valid field "
        "selector key\n"
        "FieldValueInvalid "
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
        "[0].weight: Invalid value: 101: must be in the range 1-100\n"
        "FieldValueInvalid "
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        "[0].namespace: Invalid value: ~Bad~: a lowercase RFC 1123 label must consist of lower "
        "case "
        "alphanumeric characters or '-', and must start and end with an alphanumeric character "
        "(e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n"
        "FieldValueInvalid "
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        "[0].matchLabelKeys[0]: Invalid value: ~a~: exists in both matchLabelKeys and "
        "mismatchLabelKeys\n"
        "FieldValueRequired "
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        "[0].topologyKey: Required value: can not be empty\n"
        "FieldValueInvalid "
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        "[0].topologyKey: Invalid value: ~~: name part must be non-empty\n"
        "FieldValueInvalid "
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        "[0].topologyKey: Invalid value: ~~: name part must consist of alphanumeric characters, "
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
        "or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "FieldValueInvalid "
        "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
        "[0].weight: Invalid value: 0: must be in the range 1-100\n"
        "FieldValueForbidden "
        "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
        "[0].podAffinityTerm.matchLabelKeys: Forbidden: must not be specified when labelSelector "
        "is not set\n");
    /* DNS, gates, spread, aliases, host network ports, and the small ones */
    expect(
        POD("'containers':[{'name':'c','image':'i','ports':[{'containerPort':80,'hostPort':81}]}],"
            "'hostNetwork':true,'dnsPolicy':'None','dnsConfig':{'nameservers':['1.1.1.1','x'],"
            "'searches':['ok.example.','Bad_'],'options':[{'value':'1'}]},"
            "'readinessGates':[{'conditionType':'a/b/c'}],'schedulingGates':[{'name':'g'},"
            "{'name':'g'}],'topologySpreadConstraints':[{'maxSkew':0,'topologyKey':'zone',"
            "'whenUnsatisfiable':'DoNotSchedule','minDomains':0},{'maxSkew':1,'topologyKey':"
            "'zone','whenUnsatisfiable':'DoNotSchedule','matchLabelKeys':['app'],'labelSelector':"
            "{'matchLabels':{'app':'x'}}}],'hostAliases':[{'ip':'1.2.3','hostnames':['A']}],"
            "'runtimeClassName':'','preemptionPolicy':'Sometimes','overhead':{'cpu':'-1'}"),
        "FieldValueInvalid spec.containers[0].ports[0].hostPort: Invalid value: 81: must match "
        "`containerPort` when `hostNetwork` is true\n"
        "FieldValueInvalid spec.dnsConfig.nameservers[1]: Invalid value: ~x~: must be a valid IP "
        "address, (e.g. 10.9.8.7 or 2001:db8::ffff)\n"
        "FieldValueInvalid spec.dnsConfig.searches[1]: Invalid value: ~Bad_~: a lowercase RFC "
        "1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueRequired spec.dnsConfig.options[0]: Required value: must not be empty\n"
        "FieldValueInvalid spec.readinessGates[0].conditionType: Invalid value: ~a/b/c~: a "
        "qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
        "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
        "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')\n"
        "FieldValueDuplicate spec.schedulingGates[1]: Duplicate value: ~g~\n"
        "FieldValueInvalid spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be "
        "greater than zero\n"
        "FieldValueDuplicate spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: "
        "Duplicate value: ~{zone, DoNotSchedule}~\n"
        "FieldValueInvalid spec.topologySpreadConstraints[0].minDomains: Invalid value: 0: must "
        "be greater than zero\n"
        "FieldValueInvalid spec.topologySpreadConstraints[1].matchLabelKeys[0]: Invalid value: "
        "~app~: exists in both matchLabelKeys and labelSelector\n"
        "FieldValueInvalid spec.hostAliases[0].ip: Invalid value: ~1.2.3~: must be a valid IP "
        "address, (e.g. 10.9.8.7 or 2001:db8::ffff)\n"
        "FieldValueInvalid spec.hostAliases[0].hostnames[0]: Invalid value: ~A~: a lowercase RFC "
        "1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueInvalid spec.runtimeClassName: Invalid value: ~~: a lowercase RFC 1123 "
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
        "and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
        "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueNotSupported spec.preemptionPolicy: Unsupported value: ~Sometimes~: supported "
        "values: ~PreemptLowerPriority~, ~Never~\n"
        "FieldValueInvalid spec.overhead.limits[cpu]: Invalid value: ~-1~: must be greater than "
        "or equal to 0\n");
    expect(POD("'containers':[" NGINX "],'dnsPolicy':'None'"),
           "FieldValueRequired spec.dnsConfig: Required value: must provide `dnsConfig` when "
           "`dnsPolicy` is None\n");
}

#define NET_META(kind)                                                                             \
    "'apiVersion':'networking.k8s.io/v1','kind':'" kind "','metadata':{'name':'n'}"

static void test_networking(void **state)
{
    (void)state;
    expect("{" NET_META("Ingress") ",'spec':{}}",
           "FieldValueInvalid spec: Invalid value: []networking.IngressRule(nil): either "
           "`defaultBackend` or `rules` must be specified\n");
    expect(
        "{" NET_META(
            "Ingress") ",'spec':{'ingressClassName':'nginx','rules':[{'host':'1.2.3.4',"
                       "'http':{'paths':[{'path':'a//"
                       "b','pathType':'Prefix','backend':{'service':{'name':"
                       "'Web','port':{'number':70000}}}},{'path':'/','backend':{}},{'path':'/"
                       "x','pathType':"
                       "'Exact','backend':{'service':{'name':'w','port':{'name':'http','number':80}"
                       "}}}]}},"
                       "{'host':'*.*.example.com'}],'tls':[{'hosts':['Bad'],'secretName':'s_1'}]}}",
        "FieldValueInvalid spec.rules[0].host: Invalid value: ~1.2.3.4~: must be a DNS name, "
        "not an IP address\n"
        "FieldValueInvalid spec.rules[0].http.paths[0].path: Invalid value: ~a//b~: must be an "
        "absolute path\n"
        "FieldValueInvalid spec.rules[0].http.paths[0].path: Invalid value: ~a//b~: must not "
        "contain '//'\n"
        "FieldValueInvalid spec.rules[0].http.paths[0].backend.service.name: Invalid value: "
        "~Web~: a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
        "start with an alphabetic character, and end with an alphanumeric character (e.g. "
        "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')\n"
        "FieldValueInvalid spec.rules[0].http.paths[0].backend.service.port.number: Invalid "
        "value: 70000: must be between 1 and 65535, inclusive\n"
        "FieldValueRequired spec.rules[0].http.paths[1].pathType: Required value: pathType must "
        "be specified\n"
        "FieldValueInvalid spec.rules[0].http.paths[2].backend: Invalid value: ~~: cannot set "
        "both port name & port number\n"
        "FieldValueInvalid spec.rules[1].host: Invalid value: ~*.*.example.com~: a wildcard "
        "DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
        "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric "
        "character (e.g. '*.example.com', regex used for validation is "
        "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueInvalid spec.tls[0].hosts[0]: Invalid value: ~Bad~: a lowercase RFC 1123 "
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueInvalid spec.tls[0].secretName: Invalid value: ~s_1~: a lowercase RFC 1123 "
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n");
    expect("{" NET_META("IngressClass") ",'spec':{'controller':'nginx','parameters':{'kind':'K',"
                                        "'name':'p','scope':'Cluster','namespace':'x'}}}",
           "FieldValueInvalid spec.controller: Invalid value: ~nginx~: must be a domain-prefixed "
           "path (such as ~acme.io/foo~)\n"
           "FieldValueForbidden spec.parameters.namespace: Forbidden: `parameters.scope` is set to "
           "'Cluster'\n");
    expect(
        "{" NET_META("NetworkPolicy") ",'spec':{'podSelector':{},'ingress':[{'ports':[{"
                                      "'protocol':'ICMP'},{'port':80,'endPort':70},{'port':'http','"
                                      "endPort':90}],'from':[{},"
                                      "{'ipBlock':{'cidr':'10.0.0.0/8','except':['192.168.0.0/"
                                      "24','10.1.0.0/33']},"
                                      "'podSelector':{}}]}],'egress':[{'to':[{'ipBlock':{'cidr':'"
                                      "10.0.0.0/33'}}]}],"
                                      "'policyTypes':['Ingress','Sideways']}}",
        "FieldValueNotSupported spec.ingress[0].ports[0].protocol: Unsupported value: ~ICMP~: "
        "supported values: ~TCP~, ~UDP~, ~SCTP~\n"
        "FieldValueInvalid spec.ingress[0].ports[1].endPort: Invalid value: 80: must be greater "
        "than or equal to `port`\n"
        "FieldValueInvalid spec.ingress[0].ports[2].endPort: Invalid value: 90: may not be "
        "specified when `port` is non-numeric\n"
        "FieldValueRequired spec.ingress[0].from[0]: Required value: must specify a peer\n"
        "FieldValueInvalid spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "
        "~192.168.0.0/24~: must be a strict subset of `cidr`\n"
        "FieldValueInvalid spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: "
        "~10.1.0.0/33~: must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n"
        "FieldValueForbidden spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock "
        "and another peer\n"
        "FieldValueInvalid spec.egress[0].to[0].ipBlock.cidr: Invalid value: ~10.0.0.0/33~: must "
        "be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n"
        "FieldValueNotSupported spec.policyTypes[1]: Unsupported value: ~Sideways~: supported "
        "values: ~Ingress~, ~Egress~\n");
    expect(
        "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice','metadata':{'name':'s'},"
        "'addressType':'IPv4','endpoints':[{'addresses':['10.0.0.1','127.0.0.1','fe80::1']},"
        "{'addresses':[]}],'ports':[{'name':'http','port':80},{'name':'http','protocol':'ICMP'}]}",
        "FieldValueInvalid endpoints[0].addresses[1]: Invalid value: ~127.0.0.1~: may not be in "
        "the loopback range (127.0.0.0/8, ::1/128)\n"
        "FieldValueInvalid endpoints[0].addresses[2]: Invalid value: ~fe80::1~: must be a valid "
        "IPv4 address\n"
        "FieldValueInvalid endpoints[0].addresses[2]: Invalid value: ~fe80::1~: may not be in "
        "the link-local range (169.254.0.0/16, fe80::/10)\n"
        "FieldValueRequired endpoints[1].addresses: Required value: must contain at least 1 "
        "address\n"
        "FieldValueDuplicate ports[1].name: Duplicate value: ~http~\n"
        "FieldValueNotSupported ports[1].protocol: Unsupported value: ~ICMP~: supported values: "
        "~SCTP~, ~TCP~, ~UDP~\n");
    expect_update("{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice','metadata':{'name':"
                  "'s','resourceVersion':'1'},'addressType':'IPv6'}",
                  "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice','metadata':{'name':"
                  "'s','resourceVersion':'1'},'addressType':'IPv4'}",
                  "FieldValueInvalid addressType: Invalid value: ~IPv6~: field is immutable\n");
    expect(
        "{'apiVersion':'v1','kind':'Endpoints','metadata':{'name':'e'},'subsets':[{},{"
        "'addresses':[{'ip':'1.2.3'},{'ip':'0.0.0.0'}],'ports':[{'port':0},{'name':'b','port':"
        "1,'protocol':'ICMP'}]}]}",
        "FieldValueRequired subsets[0]: Required value: must specify `addresses` or "
        "`notReadyAddresses`\n"
        "FieldValueInvalid subsets[1].addresses[0].ip: Invalid value: ~1.2.3~: must be a valid IP "
        "address, (e.g. 10.9.8.7 or 2001:db8::ffff)\n"
        "FieldValueInvalid subsets[1].addresses[0].ip: Invalid value: ~1.2.3~: must be a valid IP "
        "address\n"
        "FieldValueInvalid subsets[1].addresses[1].ip: Invalid value: ~0.0.0.0~: may not be "
        "unspecified (0.0.0.0)\n"
        "FieldValueRequired subsets[1].ports[0].name: Required value\n"
        "FieldValueInvalid subsets[1].ports[0].port: Invalid value: 0: must be between 1 and "
        "65535, inclusive\n"
        "FieldValueNotSupported subsets[1].ports[1].protocol: Unsupported value: ~ICMP~: "
        "supported values: ~SCTP~, ~TCP~, ~UDP~\n");
}

static void test_policy_kinds(void **state)
{
    (void)state;
    /* a PDB's metadata is only checked when its spec is valid */
    expect(
        "{'apiVersion':'policy/v1','kind':'PodDisruptionBudget','metadata':{'name':'Foo_Bar'},"
        "'spec':{'minAvailable':'150%','maxUnavailable':-1,'unhealthyPodEvictionPolicy':'Never'}}",
        "FieldValueInvalid spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:"
        "intstr.IntOrString{Type:1, IntVal:0, StrVal:~150%~}, Selector:(*v1.LabelSelector)(nil), "
        "MaxUnavailable:intstr.IntOrString{Type:0, IntVal:-1, StrVal:~~}, "
        "UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)(~Never~)}: "
        "minAvailable and maxUnavailable cannot be both set\n"
        "FieldValueInvalid spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, "
        "StrVal:~150%~}: must not be greater than 100%\n"
        "FieldValueInvalid spec.maxUnavailable: Invalid value: -1: must be greater than or equal "
        "to 0\n"
        "FieldValueNotSupported spec.unhealthyPodEvictionPolicy: Unsupported value: ~Never~: "
        "supported values: ~AlwaysAllow~, ~IfHealthyBudget~\n");
    expect("{'apiVersion':'policy/v1','kind':'PodDisruptionBudget','metadata':{'name':'a/b'},"
           "'spec':{'minAvailable':1}}",
           "FieldValueInvalid metadata.name: Invalid value: ~a/b~: may not contain '/'\n");
    expect("{'apiVersion':'scheduling.k8s.io/v1','kind':'PriorityClass','metadata':{'name':"
           "'system-foo'},'value':5,'preemptionPolicy':'Maybe'}",
           "FieldValueForbidden metadata.name: Forbidden: priority class names with 'system-' "
           "prefix are reserved for system use only. error: system-foo is not a known system "
           "priority class\n"
           "FieldValueNotSupported preemptionPolicy: Unsupported value: ~Maybe~: supported values: "
           "~PreemptLowerPriority~, ~Never~\n");
    /* RuntimeClass (node/validation): handler a DNS label and immutable, overhead as limits,
     * scheduling labels and tolerations, each toleration once */
    expect("{'apiVersion':'node.k8s.io/v1','kind':'RuntimeClass','metadata':{'name':'gvisor'},"
           "'handler':'runsc','overhead':{'podFixed':{'cpu':'250m'}},'scheduling':{"
           "'nodeSelector':{'runtime':'gvisor'},'tolerations':[{'key':'k','operator':'Exists'}]}}",
           "");
    expect(
        "{'apiVersion':'node.k8s.io/v1','kind':'RuntimeClass','metadata':{'name':'r'},"
        "'handler':'Bad_H','overhead':{'podFixed':{'cpu':'-1','bogus':'1'}},'scheduling':{"
        "'nodeSelector':{'-x':'y'},'tolerations':[{'key':'a','operator':'Exists'},"
        "{'key':'a','operator':'Exists'},{'operator':'Equal','value':'v'}]}}",
        "FieldValueInvalid handler: Invalid value: ~Bad_H~: a lowercase RFC 1123 label must "
        "consist of lower case alphanumeric characters or '-', and must start and end with an "
        "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n"
        "FieldValueInvalid overhead.limits[bogus]: Invalid value: bogus: must be a standard "
        "resource type or fully qualified\n"
        "FieldValueInvalid overhead.limits[bogus]: Invalid value: bogus: must be a standard "
        "resource for containers\n"
        "FieldValueInvalid overhead.limits[cpu]: Invalid value: ~-1~: must be greater than or "
        "equal to 0\n"
        "FieldValueInvalid scheduling.nodeSelector: Invalid value: ~-x~: name part must consist "
        "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "FieldValueInvalid scheduling.tolerations[2].operator: Invalid value: ~Equal~: operator "
        "must be Exists when `key` is empty, which means \"match all values and all keys\"\n"
        "FieldValueDuplicate scheduling.tolerations[1]: Duplicate value: core.Toleration{Key:~a~, "
        "Operator:~Exists~, Value:~~, Effect:~~, TolerationSeconds:(*int64)(nil)}\n");
    expect_update("{'apiVersion':'node.k8s.io/v1','kind':'RuntimeClass','metadata':{'name':'r',"
                  "'resourceVersion':'1'},'handler':'kata'}",
                  "{'apiVersion':'node.k8s.io/v1','kind':'RuntimeClass','metadata':{'name':'r',"
                  "'resourceVersion':'1'},'handler':'runc'}",
                  "FieldValueInvalid handler: Invalid value: ~kata~: field is immutable\n");
    expect_update("{'apiVersion':'scheduling.k8s.io/v1','kind':'PriorityClass','metadata':{'name':"
                  "'p','resourceVersion':'1'},'value':2000000001}",
                  "{'apiVersion':'scheduling.k8s.io/v1','kind':'PriorityClass','metadata':{'name':"
                  "'p','resourceVersion':'1'},'value':5}",
                  "FieldValueForbidden value: Forbidden: may not be changed in an update.\n");
    expect(
        "{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':{'name':'s'},"
        "'provisioner':'Example.COM/x y','reclaimPolicy':'Recycle','volumeBindingMode':'Later',"
        "'allowedTopologies':[{'matchLabelExpressions':[{'key':'zone','values':['a','a']},"
        "{'key':'zone','values':[]}]}]}",
        "FieldValueInvalid provisioner: Invalid value: ~example.com/x y~: name part must consist "
        "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "FieldValueNotSupported reclaimPolicy: Unsupported value: ~Recycle~: supported values: "
        "~Delete~, ~Retain~\n"
        "FieldValueNotSupported volumeBindingMode: Unsupported value: ~Later~: supported values: "
        "~Immediate~, ~WaitForFirstConsumer~\n"
        "FieldValueDuplicate allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate "
        "value: ~a~\n"
        "FieldValueRequired allowedTopologies[0].matchLabelExpressions[1].values: Required "
        "value\n"
        "FieldValueDuplicate allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "
        "~zone~\n");
    expect("{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'Role','metadata':{'name':'r'},"
           "'rules':[{'verbs':['get'],'nonResourceURLs':['/healthz'],'resources':['pods']},{}]}",
           "FieldValueInvalid rules[0].nonResourceURLs: Invalid value: []string{~/healthz~}: "
           "namespaced rules cannot apply to non-resource URLs\n"
           "FieldValueInvalid rules[0].nonResourceURLs: Invalid value: []string{~/healthz~}: rules "
           "cannot apply to both regular resources and non-resource URLs\n"
           "FieldValueRequired rules[1].verbs: Required value: verbs must contain at least one "
           "value\n"
           "FieldValueRequired rules[1].apiGroups: Required value: resource rules must supply at "
           "least one api group\n"
           "FieldValueRequired rules[1].resources: Required value: resource rules must supply at "
           "least one resource\n");
    expect(
        "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':{'name':"
        "'c'},'aggregationRule':{'clusterRoleSelectors':[{'matchLabels':{'a':'b c'}}]}}",
        "FieldValueInvalid aggregationRule.clusterRoleSelectors[0].matchLabels: Invalid value: "
        "~b c~: a valid label must be an empty string or consist of alphanumeric characters, "
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
        "or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n"
        "FieldValueInvalid aggregationRule.clusterRoleSelectors[0]: Invalid value: ~null~: "
        "invalid label selector.\n");
    expect(
        "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRoleBinding','metadata':{"
        "'name':'b'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'Role','name':"
        "'r'},'subjects':[{'kind':'ServiceAccount','name':'Sa'},{'kind':'User','name':'u',"
        "'apiGroup':'x'},{'kind':'Robot','name':'r'}]}",
        "FieldValueNotSupported roleRef.kind: Unsupported value: ~Role~: supported values: "
        "~ClusterRole~\n"
        "FieldValueInvalid subjects[0].name: Invalid value: ~Sa~: a lowercase RFC 1123 subdomain "
        "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
        "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "FieldValueRequired subjects[0].namespace: Required value\n"
        "FieldValueNotSupported subjects[1].apiGroup: Unsupported value: ~x~: supported values: "
        "~rbac.authorization.k8s.io~\n"
        "FieldValueNotSupported subjects[2].kind: Unsupported value: ~Robot~: supported values: "
        "~ServiceAccount~, ~User~, ~Group~\n");
    expect_update("{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'RoleBinding','metadata':{"
                  "'name':'b','resourceVersion':'1'},'roleRef':{'apiGroup':"
                  "'rbac.authorization.k8s.io','kind':'ClusterRole','name':'view'}}",
                  "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'RoleBinding','metadata':{"
                  "'name':'b','resourceVersion':'1'},'roleRef':{'apiGroup':"
                  "'rbac.authorization.k8s.io','kind':'ClusterRole','name':'edit'}}",
                  "FieldValueInvalid roleRef: Invalid value: rbac.RoleRef{APIGroup:"
                  "~rbac.authorization.k8s.io~, Kind:~ClusterRole~, Name:~view~}: cannot change "
                  "roleRef\n");
    expect("{'apiVersion':'coordination.k8s.io/v1','kind':'Lease','metadata':{'name':'l'},"
           "'spec':{'leaseDurationSeconds':0,'leaseTransitions':-1}}",
           "FieldValueInvalid spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0\n"
           "FieldValueInvalid spec.leaseTransitions: Invalid value: -1: must be greater than or "
           "equal to 0\n");
    expect("{'apiVersion':'apps/v1','kind':'ControllerRevision','metadata':{'name':'c'},"
           "'revision':-1}",
           "FieldValueRequired data: Required value: data is mandatory\n"
           "FieldValueInvalid revision: Invalid value: -1: must be greater than or equal to 0\n");
}

static void test_cluster_kinds(void **state)
{
    (void)state;
    expect(
        "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1'},'spec':{'taints':[{'key':"
        "'k','value':'v','effect':'NoSchedule'},{'key':'k','value':'w','effect':'NoSchedule'},"
        "{'key':'a b','effect':'Bad'}],'podCIDRs':['10.0.0.0/24','10.0.1.0/24']},'status':{"
        "'capacity':{'cpu':'-1','pods':'1500m'}}}",
        "FieldValueDuplicate metadata.taints[1]: Duplicate value: core.Taint{Key:~k~, Value:~w~, "
        "Effect:~NoSchedule~, TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and "
        "effect pair\n"
        "FieldValueInvalid metadata.taints[2].key: Invalid value: ~a b~: name part must consist "
        "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "FieldValueNotSupported metadata.taints[2].effect: Unsupported value: ~Bad~: supported "
        "values: ~NoSchedule~, ~PreferNoSchedule~, ~NoExecute~\n"
        "FieldValueInvalid status.capacity.cpu: Invalid value: ~-1~: must be greater than or "
        "equal to 0\n"
        "FieldValueInvalid status.capacity.pods: Invalid value: resource.Quantity{i:resource."
        "int64Amount{value:1500, scale:-3}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, "
        "s:~1500m~, Format:~DecimalSI~}: must be an integer\n"
        /* the allocatable resources default to the capacity */
        "FieldValueInvalid status.allocatable.cpu: Invalid value: ~-1~: must be greater than or "
        "equal to 0\n"
        "FieldValueInvalid status.allocatable.pods: Invalid value: resource.Quantity{i:resource."
        "int64Amount{value:1500, scale:-3}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, "
        "s:~1500m~, Format:~DecimalSI~}: must be an integer\n"
        "FieldValueInvalid spec.podCIDRs: Invalid value: []string{~10.0.0.0/24~, "
        "~10.0.1.0/24~}: may specify no more than one CIDR for each IP family\n");
    expect_update("{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1','resourceVersion':'1'},"
                  "'spec':{'podCIDRs':['10.0.1.0/24'],'providerID':'b'}}",
                  "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1','resourceVersion':'1'},"
                  "'spec':{'podCIDRs':['10.0.0.0/24'],'providerID':'a'}}",
                  "FieldValueForbidden spec.podCIDRs: Forbidden: node updates may not change "
                  "podCIDR except from ~~ to valid\n"
                  "FieldValueForbidden spec.providerID: Forbidden: node updates may not change "
                  "providerID except from ~~ to valid\n");
    expect("{'apiVersion':'v1','kind':'ResourceQuota','metadata':{'name':'q'},'spec':{'hard':{"
           "'foo':'1','pods':'-1','storage':'1Gi'},'scopes':['BestEffort','NotBestEffort']}}",
           "FieldValueInvalid spec.hard[foo]: Invalid value: foo: must be a standard resource type "
           "or fully qualified\n"
           "FieldValueInvalid spec.hard[foo]: Invalid value: foo: must be a standard resource for "
           "quota\n"
           "FieldValueInvalid spec.hard[pods]: Invalid value: ~-1~: must be greater than or equal "
           "to 0\n"
           "FieldValueInvalid spec.hard[storage]: Invalid value: storage: must be a standard "
           "resource for quota\n"
           "FieldValueInvalid spec.scopes: Invalid value: []core.ResourceQuotaScope{~BestEffort~, "
           "~NotBestEffort~}: conflicting scopes\n");
    expect("{'apiVersion':'v1','kind':'ResourceQuota','metadata':{'name':'q'},'spec':{'hard':{"
           "'cpu':'1'},'scopeSelector':{'matchExpressions':[{'scopeName':'BestEffort','operator':"
           "'In','values':['x']}]}}}",
           "FieldValueInvalid spec.scopeSelector.matchExpressions: Invalid value: "
           "core.ScopeSelector{MatchExpressions:[]core.ScopedResourceSelectorRequirement{"
           "core.ScopedResourceSelectorRequirement{ScopeName:~BestEffort~, Operator:~In~, "
           "Values:[]string{~x~}}}}: unsupported scope applied to resource\n"
           "FieldValueInvalid spec.scopeSelector.matchExpressions.operator: Invalid value: ~In~: "
           "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, "
           "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, "
           "ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity\n");
    expect(
        "{'apiVersion':'v1','kind':'LimitRange','metadata':{'name':'l'},'spec':{'limits':[{"
        "'type':'Container','min':{'cpu':'2'},'max':{'cpu':'1'},'maxLimitRequestRatio':{'cpu':"
        "'500m'}},{'type':'Container'},{'type':'Pod','default':{'cpu':'1'}},{'type':"
        "'PersistentVolumeClaim'}]}}",
        "FieldValueInvalid spec.limits[0].min[cpu]: Invalid value: resource.Quantity{i:resource."
        "int64Amount{value:2, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:~2~, "
        "Format:~DecimalSI~}: min value 2 is greater than max value 1\n"
        /* a Container's default and defaultRequest default to its max */
        "FieldValueInvalid spec.limits[0].defaultRequest[cpu]: Invalid value: resource.Quantity{"
        "i:resource.int64Amount{value:1, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, "
        "s:~1~, Format:~DecimalSI~}: min value 2 is greater than default request value 1\n"
        "FieldValueInvalid spec.limits[0].default[cpu]: Invalid value: resource.Quantity{i:"
        "resource.int64Amount{value:2, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, "
        "s:~2~, Format:~DecimalSI~}: min value 2 is greater than default value 1\n"
        "FieldValueInvalid spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "
        "resource.Quantity{i:resource.int64Amount{value:500, scale:-3}, d:resource.infDecAmount"
        "{Dec:(*inf.Dec)(nil)}, s:~500m~, Format:~DecimalSI~}: ratio 500m is less than 1\n"
        "FieldValueDuplicate spec.limits[1].type: Duplicate value: ~Container~\n"
        "FieldValueForbidden spec.limits[2].default: Forbidden: may not be specified when "
        "`type` is 'Pod'\n"
        "FieldValueRequired spec.limits[3].limits: Required value: either minimum or maximum "
        "storage value is required, but neither was provided\n");
}

#define PV(spec)                                                                                   \
    "{'apiVersion':'v1','kind':'PersistentVolume','metadata':{'name':'pv'},'spec':{" spec "}}"

static void test_persistent_volume(void **state)
{
    (void)state;
    expect(PV("'capacity':{'storage':'1Gi'}"),
           "FieldValueRequired spec.accessModes: Required value\n"
           "FieldValueRequired spec: Required value: must specify a volume type\n");
    expect(PV("'accessModes':['ReadWriteOncePod','ReadWriteOnce','Sideways'],'capacity':{'storage':"
              "'0'},'hostPath':{'path':'/a/../b'},'nfs':{'server':'s','path':'p'},"
              "'storageClassName':'Fast_1','volumeMode':'Raw'"),
           "FieldValueNotSupported spec.accessModes: Unsupported value: ~Sideways~: supported "
           "values: ~ReadOnlyMany~, ~ReadWriteMany~, ~ReadWriteOnce~, ~ReadWriteOncePod~\n"
           "FieldValueForbidden spec.accessModes: Forbidden: may not use ReadWriteOncePod with "
           "other access modes\n"
           "FieldValueInvalid spec.capacity[storage]: Invalid value: ~0~: must be greater than "
           "zero\n"
           "FieldValueInvalid spec.hostPath.path: Invalid value: ~/a/../b~: must not contain "
           "'..'\n"
           "FieldValueForbidden spec.nfs: Forbidden: may not specify more than 1 volume type\n"
           "FieldValueInvalid spec.storageClassName: Invalid value: ~Fast_1~: a lowercase RFC 1123 "
           "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
           "FieldValueNotSupported spec.volumeMode: Unsupported value: ~Raw~: supported values: "
           "~Block~, ~Filesystem~\n");
    expect(PV("'accessModes':['ReadWriteOnce'],'capacity':{'storage':'1Gi'},'local':{'path':'/d'},"
              "'csi':{'driver':'x','volumeHandle':'h'}"),
           "FieldValueRequired spec.nodeAffinity: Required value: Local volume requires node "
           "affinity\n"
           "FieldValueForbidden spec.csi: Forbidden: may not specify more than 1 volume type\n");
    expect(PV("'accessModes':['ReadWriteOnce'],'capacity':{'storage':'1Gi'},'csi':{'driver':'',"
              "'nodePublishSecretRef':{'name':'s'}}"),
           "FieldValueRequired spec.csi.driver: Required value\n"
           "FieldValueInvalid spec.csi.driver: Invalid value: ~~: a lowercase RFC 1123 subdomain "
           "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
           "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
           "FieldValueRequired spec.csi.volumeHandle: Required value\n"
           "FieldValueRequired spec.csi.nodePublishSecretRef.namespace: Required value\n");
    expect_update("{'apiVersion':'v1','kind':'PersistentVolume','metadata':{'name':'pv',"
                  "'resourceVersion':'1'},'spec':{'accessModes':['ReadWriteOnce'],'capacity':{"
                  "'storage':'1Gi'},'hostPath':{'path':'/b'},'volumeMode':'Block'}}",
                  "{'apiVersion':'v1','kind':'PersistentVolume','metadata':{'name':'pv',"
                  "'resourceVersion':'1'},'spec':{'accessModes':['ReadWriteOnce'],'capacity':{"
                  "'storage':'1Gi'},'hostPath':{'path':'/a'}}}",
                  "FieldValueForbidden spec.persistentvolumesource: Forbidden: "
                  "spec.persistentvolumesource is immutable after creation\n"
                  "FieldValueInvalid volumeMode: Invalid value: ~Block~: field is immutable\n");
}

/* Pod Security Standards: what api_podsecurity_evaluate reports (NULL: the pod meets level) */
static void expect_pss(const char *level, const char *json_sq, const char *want_tq)
{
    ProtobufCMessage *m = object(json_sq);
    char *got = api_podsecurity_evaluate(level, m);
    char *want = want_tq != NULL ? tq(want_tq) : NULL;

    if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0)) {
        print_message("got:\n%s\nwant:\n%s\n", got ? got : "(admitted)",
                      want ? want : "(admitted)");
        fail();
    }
    k8c_free(got);
    k8c_free(want);
    protobuf_c_message_free_unpacked(m, NULL);
}

#define PSS_POD                                                                                    \
    POD("'securityContext':{'seccompProfile':{'type':'Unconfined'},'runAsUser':0,'sysctls':[{"     \
        "'name':'kernel.msgmax','value':'1'}],'seLinuxOptions':{'type':'spc_t','user':'u'}},"      \
        "'volumes':[{'name':'n','nfs':{'server':'s','path':'/p'}}],'containers':[{'name':'a',"     \
        "'image':'i','securityContext':{'runAsNonRoot':false,'allowPrivilegeEscalation':false,"    \
        "'capabilities':{'add':['NET_ADMIN','NET_BIND_SERVICE']}}},{'name':'b','image':'i',"       \
        "'securityContext':{'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']},"     \
        "'appArmorProfile':{'type':'Unconfined'}}}]")

static void test_pod_security(void **state)
{
    (void)state;
    expect_pss("privileged", PSS_POD, NULL);
    expect_pss("restricted", PSS_POD,
               "forbidden AppArmor profile (container ~b~ must not set AppArmor profile type to "
               "~Unconfined~), seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: "
               "type ~spc_t~; user may not be set), forbidden sysctls (kernel.msgmax), "
               "unrestricted capabilities (container ~a~ must set "
               "securityContext.capabilities.drop=[~ALL~]; container ~a~ must not include "
               "~NET_ADMIN~ in securityContext.capabilities.add), restricted volume types (volume "
               "~n~ uses restricted volume type ~nfs~), runAsNonRoot != true (container ~a~ must "
               "not set securityContext.runAsNonRoot=false), runAsUser=0 (pod must not set "
               "runAsUser=0), seccompProfile (pod must not set securityContext.seccompProfile.type "
               "to ~Unconfined~)");
    expect_pss("baseline", PSS_POD,
               "forbidden AppArmor profile (container ~b~ must not set AppArmor profile type to "
               "~Unconfined~), non-default capabilities (container ~a~ must not include "
               "~NET_ADMIN~ in securityContext.capabilities.add), seLinuxOptions (pod set "
               "forbidden securityContext.seLinuxOptions: type ~spc_t~; user may not be set), "
               "seccompProfile (pod must not set securityContext.seccompProfile.type to "
               "~Unconfined~), forbidden sysctls (kernel.msgmax)");
    /* a compliant pod; Windows pods skip the Linux-only restricted checks */
    expect_pss("restricted",
               POD("'securityContext':{'runAsNonRoot':true,'seccompProfile':{'type':"
                   "'RuntimeDefault'}},'containers':[{'name':'c','image':'i','securityContext':{"
                   "'allowPrivilegeEscalation':false,'capabilities':{'drop':['ALL']}}}]"),
               NULL);
    expect_pss("restricted", POD("'os':{'name':'windows'},'containers':[{'name':'c','image':'i'}]"),
               "runAsNonRoot != true (pod or container ~c~ must set "
               "securityContext.runAsNonRoot=true)");
    /* workload templates; host ports sort as strings */
    expect_pss("baseline",
               DEPLOYMENT(WEB_META, "'selector':{'matchLabels':{'app':'web'}},'template':{"
                                    "'metadata':{'labels':{'app':'web'}},'spec':{'hostPID':true,"
                                    "'containers':[{'name':'x','image':'i','ports':[{"
                                    "'containerPort':80,'hostPort':80},{'containerPort':10000,"
                                    "'hostPort':10000}]},{'name':'y','image':'i','ports':[{"
                                    "'containerPort':81,'hostPort':81}]}]}}"),
               "host namespaces (hostPID=true), hostPort (containers ~x~, ~y~ use hostPorts "
               "10000, 80, 81)");
}

/* Explicit policy versions ("restricted:v1.21") run that version's checks, as upstream's
 * VersionedChecks */
static void test_pod_security_versions(void **state)
{
    (void)state;
    /* before v1.22 the baseline capabilities check stands in for capabilities_restricted, and
     * runAsUser starts at v1.23 */
    expect_pss("restricted:v1.21", PSS_POD,
               "forbidden AppArmor profile (container ~b~ must not set AppArmor profile type to "
               "~Unconfined~), non-default capabilities (container ~a~ must not include "
               "~NET_ADMIN~ in securityContext.capabilities.add), seLinuxOptions (pod set "
               "forbidden securityContext.seLinuxOptions: type ~spc_t~; user may not be set), "
               "forbidden sysctls (kernel.msgmax), restricted volume types (volume ~n~ uses "
               "restricted volume type ~nfs~), runAsNonRoot != true (container ~a~ must not set "
               "securityContext.runAsNonRoot=false), seccompProfile (pod must not set "
               "securityContext.seccompProfile.type to ~Unconfined~)");
    /* before v1.19 seccomp is the alpha annotations, not the fields */
    const char *annotated =
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p','annotations':{"
        "'seccomp.security.alpha.kubernetes.io/pod':'unconfined',"
        "'container.seccomp.security.alpha.kubernetes.io/c':'localhost/x',"
        "'container.seccomp.security.alpha.kubernetes.io/d':'un\\\\\\\"q'}},'spec':{"
        "'securityContext':{'seccompProfile':{'type':'Unconfined'}},'containers':[{'name':'c',"
        "'image':'i'},{'name':'d','image':'i'}]}}";
    expect_pss("baseline:v1.18", annotated,
               "seccompProfile (forbidden annotations "
               "container.seccomp.security.alpha.kubernetes.io/d=~un\\\\\\~q~, "
               "seccomp.security.alpha.kubernetes.io/pod=~unconfined~)");
    expect_pss("baseline:v1.19", annotated,
               "seccompProfile (pod must not set securityContext.seccompProfile.type to "
               "~Unconfined~)");
    /* sysctls allowed from v1.27 and v1.32 */
    const char *sysctls = POD("'securityContext':{'sysctls':[{'name':"
                              "'net.ipv4.ip_local_reserved_ports','value':'1'},{'name':"
                              "'net.ipv4.tcp_rmem','value':'1 2 3'}]},'containers':[{'name':'c',"
                              "'image':'i'}]");
    expect_pss("baseline:v1.26", sysctls,
               "forbidden sysctls (net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_rmem)");
    expect_pss("baseline:v1.31", sysctls, "forbidden sysctls (net.ipv4.tcp_rmem)");
    expect_pss("baseline:v1.32", sysctls, NULL);
    expect_pss("baseline:v1.40", sysctls, NULL);
    /* SELinux type container_engine_t from v1.31 */
    const char *engine = POD("'securityContext':{'seLinuxOptions':{'type':'container_engine_t'}},"
                             "'containers':[{'name':'c','image':'i'}]");
    expect_pss("baseline:v1.30", engine,
               "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "
               "~container_engine_t~)");
    expect_pss("baseline:latest", engine, NULL);
    /* Windows pods are exempt from three restricted checks only from v1.25 */
    const char *windows = POD("'os':{'name':'windows'},'containers':[{'name':'c','image':'i'}]");
    expect_pss("restricted:v1.24", windows,
               "allowPrivilegeEscalation != false (container ~c~ must set "
               "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
               "(container ~c~ must set securityContext.capabilities.drop=[~ALL~]), runAsNonRoot "
               "!= true (pod or container ~c~ must set securityContext.runAsNonRoot=true), "
               "seccompProfile (pod or container ~c~ must set securityContext.seccompProfile.type "
               "to ~RuntimeDefault~ or ~Localhost~)");
    expect_pss("restricted:v1.25", windows,
               "runAsNonRoot != true (pod or container ~c~ must set "
               "securityContext.runAsNonRoot=true)");
    /* allowPrivilegeEscalation starts at v1.8; a bad version or level checks nothing */
    const char *plain = POD("'securityContext':{'runAsNonRoot':true},'containers':[{'name':'c',"
                            "'image':'i'}]");
    expect_pss("restricted:v1.7", plain, NULL);
    expect_pss("restricted:v1.8", plain,
               "allowPrivilegeEscalation != false (container ~c~ must set "
               "securityContext.allowPrivilegeEscalation=false)");
    expect_pss("restricted:1.8", plain, NULL);
    expect_pss("restrict", plain, NULL);
}

#define EVENT_V1(rv, fields)                                                                       \
    "{'apiVersion':'events.k8s.io/v1','kind':'Event','metadata':{'name':'n','namespace':"          \
    "'default','resourceVersion':'" rv "'},'type':'Normal','reportingController':'example.com/c'," \
    "'reportingInstance':'i','action':'A'," fields "}"

static void test_event_update(void **state)
{
    (void)state;
    const char *old = EVENT_V1("5", "'eventTime':'2026-12-01T14:00:00.123456Z','reason':'R',"
                                    "'note':'n','regarding':{'kind':'Pod','name':'p',"
                                    "'namespace':'default'}");
    /* a series may be added and counted on; the rest of the event stays */
    expect_update(EVENT_V1("5", "'eventTime':'2026-12-01T14:00:00.123456Z','reason':'R',"
                                "'note':'n','regarding':{'kind':'Pod','name':'p','namespace':"
                                "'default'},'series':{'count':2,'lastObservedTime':"
                                "'2026-12-01T14:01:00.000000Z'}"),
                  old, "");
    expect_update(EVENT_V1("5", "'eventTime':'2026-12-01T14:00:00.123456Z','reason':'R',"
                                "'note':'n','regarding':{'kind':'Pod','name':'p','namespace':"
                                "'default'},'series':{'count':1}"),
                  old,
                  "FieldValueInvalid series.count: Invalid value: ~~: should be at least 2\n"
                  "FieldValueRequired series.lastObservedTime: Required value\n");
    expect_update(
        EVENT_V1("5", "'eventTime':'2026-12-01T14:00:01.5Z','reason':'S','note':'m',"
                      "'regarding':{'kind':'Pod','name':'q','namespace':'default'},"
                      "'related':{'kind':'Node','name':'n1'}"),
        old,
        "FieldValueInvalid involvedObject: Invalid value: core.ObjectReference{Kind:~Pod~, "
        "Namespace:~default~, Name:~q~, UID:~~, APIVersion:~~, ResourceVersion:~~, FieldPath:~~}: "
        "field is immutable\n"
        "FieldValueInvalid reason: Invalid value: ~S~: field is immutable\n"
        "FieldValueInvalid message: Invalid value: ~m~: field is immutable\n"
        "FieldValueInvalid eventTime: Invalid value: 2026-12-01 14:00:01.5 +0000 UTC: field is "
        "immutable\n"
        "FieldValueInvalid related: Invalid value: core.ObjectReference{Kind:~Node~, "
        "Namespace:~~, Name:~n1~, UID:~~, APIVersion:~~, ResourceVersion:~~, FieldPath:~~}: field "
        "is immutable\n");
    /* core/v1 updates keep the old leniency */
    expect_update("{'apiVersion':'v1','kind':'Event','metadata':{'name':'n','namespace':'default',"
                  "'resourceVersion':'5'},'involvedObject':{'kind':'Pod','name':'q'},'reason':'S'}",
                  "{'apiVersion':'v1','kind':'Event','metadata':{'name':'n','namespace':'default',"
                  "'resourceVersion':'5'},'involvedObject':{'kind':'Pod','name':'p'},'reason':'R'}",
                  "");
}

static void test_pod_status_transitions(void **state)
{
    (void)state;
    g_status = true;
    /* Never: terminated stays terminated; conditions of other types are qualified names */
    expect_update(SPOD("Never", "'conditions':[{'type':'Ready','status':'True'},{'type':'a b',"
                                "'status':'True'}],'containerStatuses':[" CSTATUS(
                                    "c", RUNNING) "," CSTATUS("d", RUNNING) "]"),
                  SPOD("Never", "'containerStatuses':[" CSTATUS("d", TERMINATED("0")) "," CSTATUS(
                                    "c", TERMINATED("1")) "]"),
                  "FieldValueInvalid metadata.conditions[1].Type: Invalid value: ~a b~: name part "
                  "must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                  "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                  "'123-abc', regex used for validation is "
                  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
                  "FieldValueForbidden status.containerStatuses[0].state: Forbidden: may not be "
                  "transitioned to non-terminated state\n"
                  "FieldValueForbidden status.containerStatuses[1].state: Forbidden: may not be "
                  "transitioned to non-terminated state\n");
    /* OnFailure: a failed container may run again, one that succeeded may not */
    expect_update(
        SPOD("OnFailure",
             "'containerStatuses':[" CSTATUS("c", RUNNING) "," CSTATUS("d", RUNNING) "]"),
        SPOD("OnFailure", "'containerStatuses':[" CSTATUS("c", TERMINATED("1")) "," CSTATUS(
                              "d", TERMINATED("0")) "]"),
        "FieldValueForbidden status.containerStatuses[1].state: Forbidden: may not be "
        "transitioned to non-terminated state\n");
    /* init containers: a restartable one may; ephemeral containers never */
    expect_update(
        SPOD("Never",
             "'initContainerStatuses':[" CSTATUS("i", RUNNING) "," CSTATUS(
                 "s", RUNNING) "],'ephemeralContainerStatuses':[" CSTATUS("e", RUNNING) "]"),
        SPOD("Never",
             "'initContainerStatuses':[" CSTATUS("i", TERMINATED("0")) "," CSTATUS(
                 "s",
                 TERMINATED("0")) "],'ephemeralContainerStatuses':[" CSTATUS("e",
                                                                             TERMINATED("0")) "]"),
        "FieldValueForbidden status.initContainerStatuses[0].state: Forbidden: may not "
        "be transitioned to non-terminated state\n"
        "FieldValueForbidden status.ephemeralContainerStatuses[0].state: Forbidden: "
        "may not be transitioned to non-terminated state\n");
    /* Always: anything goes */
    expect_update(SPOD("Always", "'containerStatuses':[" CSTATUS("c", RUNNING) "]"),
                  SPOD("Always", "'containerStatuses':[" CSTATUS("c", TERMINATED("0")) "]"), "");
    g_status = false;
}

#define RV_REQUIRED                                                                                \
    "FieldValueInvalid metadata.resourceVersion: Invalid value: ~~: must be specified for an "     \
    "update\n"
#define EPOD(eph)                                                                                  \
    POD("'containers':[{'name':'c','image':'i'}],'initContainers':[{'name':'init','image':'i'}],"  \
        "'volumes':[{'name':'v','emptyDir':{}}],'ephemeralContainers':[" eph "]")

static void test_pod_ephemeral(void **state)
{
    (void)state;
    g_ephemeral = true;
    /* static (mirror) pods: that error alone, whatever else is wrong */
    expect_update(APOD("'kubernetes.io/config.mirror':'m'",
                       ",'nodeName':'n','ephemeralContainers':[{'name':'c','image':'i'}]"),
                  APOD("'kubernetes.io/config.mirror':'m'", ",'nodeName':'n'"),
                  "FieldValueForbidden : Forbidden: static pods do not support ephemeral "
                  "containers\n");
    /* added: fine; a target that is a regular or init container is fine */
    expect_update(EPOD("{'name':'d','image':'i','targetContainerName':'init'}"), EPOD(""),
                  RV_REQUIRED);
    /* their security contexts as every container's */
    expect_update(EPOD("{'name':'d','image':'i','securityContext':{'runAsUser':-1}}"), EPOD(""),
                  RV_REQUIRED "FieldValueInvalid spec.ephemeralContainers[0].securityContext."
                              "runAsUser: Invalid value: -1: must be between 0 and 2147483647, "
                              "inclusive\n");
    /* names unique over every kind of container, and set */
    expect_update(EPOD("{'name':'c','image':'i'},{'name':'d','image':'i'},{'name':'d','image':'i'},"
                       "{'image':'i'}"),
                  EPOD(""),
                  RV_REQUIRED "FieldValueDuplicate spec.ephemeralContainers[0].name: Duplicate "
                              "value: ~c~\n"
                              "FieldValueDuplicate spec.ephemeralContainers[2].name: Duplicate "
                              "value: ~d~\n"
                              "FieldValueRequired spec.ephemeralContainers[3].name: Required "
                              "value\n");
    /* the fields kept for the pod's workload, and a target that is not a container */
    expect_update(
        EPOD("{'name':'d','image':'i','targetContainerName':'d','resources':{'limits':{'cpu':'1'}},"
             "'livenessProbe':{'exec':{'command':['x']}},'lifecycle':{'preStop':{'exec':{'command':"
             "['x']}}},'volumeMounts':[{'name':'v','mountPath':'/v','subPath':'s'}]}"),
        EPOD(""),
        RV_REQUIRED "FieldValueNotFound spec.ephemeralContainers[0].targetContainerName: Not "
                    "found: ~d~\n"
                    "FieldValueForbidden spec.ephemeralContainers[0].resources: Forbidden: cannot "
                    "be set for an Ephemeral Container\n"
                    "FieldValueForbidden spec.ephemeralContainers[0].livenessProbe: Forbidden: "
                    "cannot be set for an Ephemeral Container\n"
                    "FieldValueForbidden spec.ephemeralContainers[0].lifecycle: Forbidden: cannot "
                    "be set for an Ephemeral Container\n"
                    "FieldValueForbidden spec.ephemeralContainers[0].volumeMounts[0].subPath: "
                    "Forbidden: cannot be set for an Ephemeral Container\n");
    /* an empty entry gets its defaults: only the name and the image are missing */
    expect_update(EPOD("{}"), EPOD(""),
                  RV_REQUIRED
                  "FieldValueRequired spec.ephemeralContainers[0].name: Required value\n"
                  "FieldValueRequired spec.ephemeralContainers[0].image: Required "
                  "value\n");
    /* existing ones stay, unchanged */
    expect_update(EPOD("{'name':'e','image':'i'}"),
                  EPOD("{'name':'d','image':'i'},{'name':'e','image':'i'}"),
                  RV_REQUIRED "FieldValueForbidden spec.ephemeralContainers: Forbidden: existing "
                              "ephemeral containers ~d~ may not be removed\n");
    /* the same past the size where names are looked up by hash (e0..e29 kept, e30 dropped) */
    {
        struct k8c_sbuf was, now;
        k8c_sbuf_init(&was);
        k8c_sbuf_init(&now);
        for (int i = 0; i <= 30; i++) {
            k8c_sbuf_printf(&was, "%s{'name':'e%d','image':'i'}", i ? "," : "", i);
            if (i < 30)
                k8c_sbuf_printf(&now, "%s{'name':'e%d','image':'i'}", i ? "," : "", 29 - i);
        }
        char *new_pod = k8c_strdup(EPOD("@")), *old_pod = k8c_strdup(EPOD("@"));
        char *at = strchr(new_pod, '@');
        struct k8c_sbuf a, b;
        k8c_sbuf_init(&a);
        k8c_sbuf_init(&b);
        k8c_sbuf_printf(&a, "%.*s%s%s", (int)(at - new_pod), new_pod, now.data, at + 1);
        at = strchr(old_pod, '@');
        k8c_sbuf_printf(&b, "%.*s%s%s", (int)(at - old_pod), old_pod, was.data, at + 1);
        expect_update(a.data, b.data,
                      RV_REQUIRED "FieldValueForbidden spec.ephemeralContainers: Forbidden: "
                                  "existing ephemeral containers ~e30~ may not be removed\n");
        k8c_free(new_pod);
        k8c_free(old_pod);
        k8c_sbuf_free(&a);
        k8c_sbuf_free(&b);
        k8c_sbuf_free(&was);
        k8c_sbuf_free(&now);
    }
    expect_update(EPOD("{'name':'d','image':'j'},{'name':'x','image':'i'}"),
                  EPOD("{'name':'d','image':'i'}"),
                  RV_REQUIRED "FieldValueForbidden spec.ephemeralContainers: Forbidden: existing "
                              "ephemeral containers ~d~ may not be changed\n");
    g_ephemeral = false;
}

#define HPA(spec)                                                                                  \
    "{'kind':'HorizontalPodAutoscaler','apiVersion':'autoscaling/v2','metadata':{'name':'h'},"     \
    "'spec':{" spec "}}"

/* Status subresource updates (Validate<Kind>StatusUpdate): counters, bounds, collisionCount,
 * the order of the metadata and status errors, a version stored as another (HPA v1). */
#define STSS(name, status)                                                                         \
    "{'apiVersion':'apps/v1','kind':'StatefulSet','metadata':{'name':'" name "',"                  \
    "'resourceVersion':'1'},'spec':{'selector':{'matchLabels':{'a':'b'}},'template':{'metadata':"  \
    "{'labels':{'a':'b'}},'spec':{'containers':[{'name':'c','image':'i'}]}}},'status':{" status    \
    "}}"
#define PODS(status)                                                                               \
    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','resourceVersion':'1'},'spec':{"       \
    "'containers':[{'name':'c','image':'i'}]},'status':{" status "}}"
#define DS(status)                                                                                 \
    "{'apiVersion':'apps/v1','kind':'DaemonSet','metadata':{'name':'d','resourceVersion':'1'},"    \
    "'spec':{'selector':{'matchLabels':{'a':'b'}},'template':{'metadata':{'labels':{'a':'b'}},"    \
    "'spec':{'containers':[{'name':'c','image':'i'}]}}},'status':{" status "}}"
#define RS(status)                                                                                 \
    "{'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'r','resourceVersion':'1'},"   \
    "'spec':{'selector':{'matchLabels':{'a':'b'}},'template':{'metadata':{'labels':{'a':'b'}},"    \
    "'spec':{'containers':[{'name':'c','image':'i'}]}}},'status':{" status "}}"
#define HPA1(status)                                                                               \
    "{'apiVersion':'autoscaling/v1','kind':'HorizontalPodAutoscaler','metadata':{'name':'h',"      \
    "'resourceVersion':'1'},'spec':{'scaleTargetRef':{'kind':'Deployment','name':'d'},"            \
    "'maxReplicas':3},'status':{" status "}}"

static void test_status_update(void **state)
{
    (void)state;
    g_status = true;
    expect_update(STSS("s", "'replicas':2,'readyReplicas':2,'availableReplicas':1"),
                  STSS("s", "'replicas':1"), "");
    /* a node's status (the kubelet's) as ValidateNodeUpdate checks it */
    expect_update("{'apiVersion':'v1','kind':'Node','metadata':{'name':'n','resourceVersion':'1'},"
                  "'status':{'capacity':{'memory':'-1'},'allocatable':{'memory':'1Gi'},"
                  "'addresses':[{'type':'InternalIP','address':'10.0.0.1'},{'type':'InternalIP',"
                  "'address':'10.0.0.1'}]}}",
                  "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n','resourceVersion':'1'}}",
                  "FieldValueInvalid status.capacity.memory: Invalid value: ~-1~: must be greater "
                  "than or equal to 0\n"
                  "FieldValueDuplicate status.addresses[1]: Duplicate value: "
                  "core.NodeAddress{Type:~InternalIP~, Address:~10.0.0.1~}\n");
    /* StatefulSet: the status errors before the metadata ones */
    expect_update(STSS("t", "'replicas':1,'readyReplicas':2,'currentReplicas':-1,"
                            "'availableReplicas':2,'collisionCount':1"),
                  STSS("s", "'collisionCount':2"),
                  "FieldValueInvalid status.currentReplicas: Invalid value: -1: must be greater "
                  "than or equal to 0\n"
                  "FieldValueInvalid status.readyReplicas: Invalid value: 2: cannot be greater "
                  "than status.replicas\n"
                  "FieldValueInvalid status.availableReplicas: Invalid value: 2: cannot be greater "
                  "than status.replicas\n"
                  "FieldValueInvalid status.collisionCount: Invalid value: 1: cannot be "
                  "decremented\n"
                  "FieldValueInvalid metadata.name: Invalid value: ~t~: field is immutable\n");
    /* a collisionCount that goes away is decremented too */
    expect_update(DS("'numberReady':-1"), DS("'collisionCount':1"),
                  "FieldValueInvalid status.numberReady: Invalid value: -1: must be greater than "
                  "or equal to 0\n"
                  "FieldValueInvalid status.collisionCount: Invalid value: 0: cannot be "
                  "decremented\n");
    expect_update(RS("'replicas':1,'fullyLabeledReplicas':2,'readyReplicas':1,"
                     "'availableReplicas':1"),
                  RS(""),
                  "FieldValueInvalid status.fullyLabeledReplicas: Invalid value: 2: cannot be "
                  "greater than status.replicas\n");
    /* autoscaling/v1, validated as the autoscaling/v2 object it is stored as */
    expect_update(HPA1("'currentReplicas':-1,'desiredReplicas':2"), HPA1(""),
                  "FieldValueInvalid status.currentReplicas: Invalid value: -1: must be greater "
                  "than or equal to 0\n");
    /* pod IPs: one of each family at most, no duplicates; the host's first IP is hostIP */
    expect_update(
        PODS("'podIPs':[{'ip':'10.0.0.1'},{'ip':'fd00::1'}],'hostIP':'10.1.0.1',"
             "'hostIPs':[{'ip':'10.1.0.1'},{'ip':'::ffff:10.1.0.2'}]"),
        PODS(""),
        "FieldValueInvalid status.hostIPs: Invalid value: []core.HostIP{core.HostIP{IP:"
        "~10.1.0.1~}, core.HostIP{IP:~::ffff:10.1.0.2~}}: may specify no more than one IP "
        "for each IP family\n");
    expect_update(PODS("'podIPs':[{'ip':'10.0.0.1'},{'ip':'fd00::1'},{'ip':'10.0.0.1'}],"
                       "'hostIP':'10.1.0.1','hostIPs':[{'ip':'10.1.0.2'},{'ip':'10.1.0.2'}]"),
                  PODS(""),
                  "FieldValueInvalid status.podIPs: Invalid value: []core.PodIP{core.PodIP{IP:"
                  "~10.0.0.1~}, core.PodIP{IP:~fd00::1~}, core.PodIP{IP:~10.0.0.1~}}: may specify "
                  "no more than one IP for each IP family\n"
                  "FieldValueDuplicate status.podIPs[2]: Duplicate value: core.PodIP{IP:"
                  "~10.0.0.1~}\n"
                  "FieldValueInvalid status.hostIPs[0].ip: Invalid value: ~10.1.0.2~: must be "
                  "equal to `hostIP`\n"
                  "FieldValueDuplicate status.hostIPs[1]: Duplicate value: core.HostIP{IP:"
                  "~10.1.0.2~}\n"
                  "FieldValueInvalid status.hostIPs: Invalid value: []core.HostIP{core.HostIP{IP:"
                  "~10.1.0.2~}, core.HostIP{IP:~10.1.0.2~}}: may specify no more than one IP for "
                  "each IP family\n");
    expect_update(PODS("'podIPs':[{'ip':'fd00::1'},{'ip':'x'}]"), PODS(""),
                  "FieldValueInvalid status.podIPs[1]: Invalid value: ~x~: must be a valid IP "
                  "address, (e.g. 10.9.8.7 or 2001:db8::ffff)\n"
                  "InternalError status.podIPs: Internal error: failed to check for dual stack "
                  "with error:invalid IP[1]: x\n"
                  "FieldValueInvalid status.podIPs: Invalid value: []core.PodIP{core.PodIP{IP:"
                  "~fd00::1~}, core.PodIP{IP:~x~}}: may specify no more than one IP for each IP "
                  "family\n");
    g_status = false;
}

static void test_hpa(void **state)
{
    (void)state;
    expect(HPA("'scaleTargetRef':{'apiVersion':'apps/v1','kind':'Deployment','name':'d'},"
               "'minReplicas':1,'maxReplicas':3"),
           "");
    expect(HPA("'scaleTargetRef':{'kind':'Deployment','name':'d'},'minReplicas':0,'maxReplicas':0"),
           "FieldValueInvalid spec.minReplicas: Invalid value: 0: must be greater than or equal "
           "to 1\n"
           "FieldValueInvalid spec.maxReplicas: Invalid value: 0: must be greater than 0\n"
           "FieldValueForbidden spec.metrics: Forbidden: must specify at least one Object or "
           "External metric to support scaling to zero replicas\n");
    /* metrics: the source type, the target, what each source needs */
    expect(HPA("'scaleTargetRef':{'kind':'Deployment','name':'d'},'maxReplicas':3,"
               "'metrics':[{'resource':{'name':'cpu'}},{'type':'Pods','resource':{'name':'cpu',"
               "'target':{'type':'Utilization','averageUtilization':0}}},{'type':'External',"
               "'external':{'metric':{'name':'q'},'target':{'type':'Value','value':'-1',"
               "'averageValue':'2'}}}]"),
           "FieldValueRequired spec.metrics[0].type: Required value: must specify a metric source "
           "type\n"
           "FieldValueNotSupported spec.metrics[0].type: Unsupported value: ~~: supported values: "
           "~ContainerResource~, ~External~, ~Object~, ~Pods~, ~Resource~\n"
           "FieldValueRequired spec.metrics[0].resource.target.type: Required value: must specify "
           "a metric target type\n"
           "FieldValueInvalid spec.metrics[0].resource.target.type: Invalid value: ~~: must be "
           "either Utilization, Value, or AverageValue\n"
           "FieldValueRequired spec.metrics[0].resource.target.averageUtilization: Required value: "
           "must set either a target raw value or a target utilization\n"
           "FieldValueNotSupported spec.metrics[0].type: Unsupported value: ~~: supported values: "
           "~ContainerResource~, ~External~, ~Object~, ~Pods~, ~Resource~\n"
           "FieldValueInvalid spec.metrics[1].resource.target.averageUtilization: Invalid value: "
           "0: must be greater than 0\n"
           "FieldValueRequired spec.metrics[1].pods: Required value: must populate information "
           "for the given metric source\n"
           "FieldValueInvalid spec.metrics[2].external.target.value: Invalid value: ~-1~: must be "
           "positive\n"
           "FieldValueForbidden spec.metrics[2].external.target.value: Forbidden: may not set both "
           "a target value for metric and a per-pod target\n");
    expect(HPA("'scaleTargetRef':{'kind':'Deployment','name':'d'},'maxReplicas':3,"
               "'behavior':{'scaleUp':{'stabilizationWindowSeconds':4000,'policies':[{'type':'Foo',"
               "'value':0,'periodSeconds':2000}]}}"),
           "FieldValueInvalid spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: "
           "4000: must be less than or equal to 3600\n"
           "FieldValueNotSupported spec.behavior.scaleUp.policies[0].type: Unsupported value: "
           "~Foo~: supported values: ~Percent~, ~Pods~\n"
           "FieldValueInvalid spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be "
           "greater than zero\n"
           "FieldValueInvalid spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: "
           "2000: must be less than or equal to 1800\n");
    expect(HPA("'scaleTargetRef':{'kind':'a/b','name':'..'},'minReplicas':4,'maxReplicas':3"),
           "FieldValueInvalid spec.maxReplicas: Invalid value: 3: must be greater than or equal "
           "to `minReplicas`\n"
           "FieldValueInvalid spec.scaleTargetRef.kind: Invalid value: ~a/b~: may not contain "
           "'/'\n"
           "FieldValueInvalid spec.scaleTargetRef.name: Invalid value: ~..~: may not be '..'\n");
    expect(HPA("'maxReplicas':3"), "FieldValueRequired spec.scaleTargetRef.kind: Required value\n"
                                   "FieldValueRequired spec.scaleTargetRef.name: Required value\n");
}

static void test_deployment(void **state)
{
    (void)state;
    expect_message(DEPLOYMENT(WEB_META, WEB_TEMPLATE),
                   "Deployment.apps ~web~ is invalid: [spec.selector: Required value, "
                   "spec.template.metadata.labels: Invalid value: map[string]string{~app~:~web~}: "
                   "`selector` does not match template `labels`]");
    expect(
        DEPLOYMENT(WEB_META, "'replicas':-1,'selector':{'matchLabels':{'app':'x'}}," WEB_TEMPLATE),
        "FieldValueInvalid spec.replicas: Invalid value: -1: must be greater than or equal to "
        "0\n"
        "FieldValueInvalid spec.template.metadata.labels: Invalid value: "
        "map[string]string{~app~:~web~}: `selector` does not match template `labels`\n");
    expect(DEPLOYMENT(WEB_META, "'selector':{}," WEB_TEMPLATE),
           "FieldValueInvalid spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
           "map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty "
           "selector is invalid for deployment\n");
    expect(DEPLOYMENT(WEB_META, "'selector':{'matchExpressions':[{'key':'app','operator':'In'}]},"
                                "'template':{'metadata':{'labels':{'app':'web'}},'spec':{"
                                "'containers':[" NGINX "],'restartPolicy':'Never'}},"
                                "'strategy':{'type':'Recreate','rollingUpdate':{}}"),
           "FieldValueRequired spec.selector.matchExpressions[0].values: Required value: must be "
           "specified when `operator` is 'In' or 'NotIn'\n"
           "FieldValueInvalid spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
           "map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{"
           "v1.LabelSelectorRequirement{Key:~app~, Operator:~In~, Values:[]string(nil)}}}: "
           "invalid label selector\n"
           "FieldValueForbidden spec.strategy.rollingUpdate: Forbidden: may not be specified "
           "when strategy `type` is 'Recreate'\n");
    expect(DEPLOYMENT(WEB_META, "'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':{"
                                "'labels':{'app':'web'}},'spec':{'containers':[" NGINX "],"
                                "'restartPolicy':'Never'}},'strategy':{'rollingUpdate':{"
                                "'maxUnavailable':0,'maxSurge':'x%'}}"),
           "FieldValueNotSupported spec.template.spec.restartPolicy: Unsupported value: ~Never~: "
           "supported values: ~Always~\n"
           "FieldValueInvalid spec.strategy.rollingUpdate.maxSurge: Invalid value: "
           "intstr.IntOrString{Type:1, IntVal:0, StrVal:~x%~}: a valid percent string must be a "
           "numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
           "validation is '[0-9]+%')\n"
           "FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
           "intstr.IntOrString{Type:0, IntVal:0, StrVal:~~}: may not be 0 when `maxSurge` is 0\n");
    /* update: the selector is immutable */
    expect_update(
        DEPLOYMENT(WEB_META ",'resourceVersion':'7'",
                   "'selector':{'matchLabels':{'app':'web','v':'2'}}," WEB_TEMPLATE),
        WEB,
        "FieldValueInvalid spec.template.metadata.labels: Invalid value: "
        "map[string]string{~app~:~web~}: `selector` does not match template `labels`\n"
        "FieldValueInvalid spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
        "map[string]string{~app~:~web~, ~v~:~2~}, MatchExpressions:[]v1.LabelSelectorRequirement("
        "nil)}: field is immutable\n");
    expect_update(DEPLOYMENT(WEB_META ",'resourceVersion':'7'",
                             "'replicas':5,'selector':{'matchLabels':{'app':'web'}}," WEB_TEMPLATE),
                  WEB, "");
}

#define STS(spec)                                                                                  \
    "{'kind':'StatefulSet','apiVersion':'apps/v1','metadata':{'name':'db','resourceVersion':'1'}," \
    "'spec':{'selector':{'matchLabels':{'app':'db'}},'template':{'metadata':{'labels':{"           \
    "'app':'db'}},'spec':{'containers':[{'name':'db','image':'postgres','volumeMounts':[{"         \
    "'name':'data','mountPath':'/var/lib/postgresql'}]}]}},'volumeClaimTemplates':[{"              \
    "'metadata':{'name':'data'},'spec':{'accessModes':['ReadWriteOnce'],'resources':{"             \
    "'requests':{'storage':'1Gi'}}}}]" spec "}}"

static void test_workloads(void **state)
{
    (void)state;
    /* a StatefulSet's containers may mount its volumeClaimTemplates */
    expect(STS(",'serviceName':'db'"), "");
    expect_update(STS(",'serviceName':'db','replicas':3"), STS(",'serviceName':'db'"), "");
    expect_update(STS(",'serviceName':'db2'"), STS(",'serviceName':'db'"),
                  "FieldValueForbidden spec: Forbidden: updates to statefulset spec for fields "
                  "other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                  "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                  "'minReadySeconds' are forbidden\n");
    expect("{'kind':'StatefulSet','apiVersion':'apps/v1','metadata':{'name':'db'},'spec':{"
           "'podManagementPolicy':'Random','template':{'metadata':{'labels':{'app':'db'}},"
           "'spec':{'containers':[{'name':'db','image':'postgres'}]}}}}",
           "FieldValueInvalid spec.podManagementPolicy: Invalid value: ~Random~: must be "
           "'OrderedReady' or 'Parallel'\n"
           "FieldValueRequired spec.selector: Required value\n"
           "FieldValueInvalid spec.template.metadata.labels: Invalid value: "
           "map[string]string{~app~:~db~}: `selector` does not match template `labels`\n");
    /* DaemonSet: no Required for a nil selector, only the mismatch */
    expect("{'kind':'DaemonSet','apiVersion':'apps/v1','metadata':{'name':'ds'},'spec':{"
           "'template':{'metadata':{'labels':{'app':'ds'}},'spec':{'containers':[{'name':'c',"
           "'image':'i'}]}}}}",
           "FieldValueInvalid spec.template.metadata.labels: Invalid value: "
           "map[string]string{~app~:~ds~}: `selector` does not match template `labels`\n");
    expect("{'kind':'ReplicaSet','apiVersion':'apps/v1','metadata':{'name':'rs'},'spec':{"
           "'selector':{'matchLabels':{'app':'rs'}},'template':{'metadata':{'labels':{"
           "'app':'rs'}},'spec':{'containers':[{'name':'c','image':'i'}],"
           "'activeDeadlineSeconds':5}}}}",
           "FieldValueInvalid spec.template.spec.activeDeadlineSeconds: Invalid value: 5: "
           "activeDeadlineSeconds in ReplicaSet is not Supported\n");
    expect("{'kind':'ReplicationController','apiVersion':'v1','metadata':{'name':'rc'},'spec':{"
           "'selector':{'app':'x'},'template':{'metadata':{'labels':{'app':'rc'}},'spec':{"
           "'containers':[{'name':'c','image':'i'}]}}}}",
           "FieldValueInvalid spec.template.metadata.labels: Invalid value: "
           "map[string]string{~app~:~rc~}: `selector` does not match template `labels`\n");
}

static void test_jobs(void **state)
{
    (void)state;
    /* kubectl's Job before the registry generates its selector */
    expect(JOB(PI_TEMPLATE("'creationTimestamp':null", ",'restartPolicy':'Never'")),
           "FieldValueRequired spec.selector: Required value\n"
           "FieldValueInvalid spec.template.metadata.labels: Invalid value: "
           "map[string]string(nil): `selector` does not match template `labels`\n");
    expect(JOB(PI_SELECTOR "'parallelism':-1," PI_TEMPLATE(PI_LABELS, "")),
           "FieldValueInvalid spec.parallelism: Invalid value: -1: must be greater than or equal "
           "to 0\n"
           "FieldValueRequired spec.template.spec.restartPolicy: Required value: valid values: "
           "~OnFailure~, ~Never~\n");
    expect_update(JOB(PI_SELECTOR PI_TEMPLATE(PI_LABELS, ",'restartPolicy':'OnFailure'")),
                  JOB(PI_SELECTOR PI_TEMPLATE(PI_LABELS, ",'restartPolicy':'Never'")),
                  "FieldValueInvalid metadata.resourceVersion: Invalid value: ~~: must be "
                  "specified for an update\n"
                  "FieldValueInvalid spec.template: Invalid value: core.PodTemplateSpec{...}: "
                  "field is immutable\n");
    expect("{'kind':'CronJob','apiVersion':'batch/v1','metadata':{'name':'cj'},'spec':{"
           "'schedule':'* * *','concurrencyPolicy':'Sometimes','jobTemplate':{'spec':{"
           "'template':{'spec':{'containers':[{'name':'cj','image':'busybox'}],"
           "'restartPolicy':'OnFailure'}}}}}}",
           "FieldValueInvalid spec.schedule: Invalid value: ~* * *~: expected exactly 5 fields, "
           "found 3: * * *\n"
           "FieldValueNotSupported spec.concurrencyPolicy: Unsupported value: ~Sometimes~: "
           "supported values: ~Allow~, ~Forbid~, ~Replace~\n");
}

static void test_service(void **state)
{
    (void)state;
    expect(SVC(MY_SVC_META, "'type':'ClusterIP'"),
           "FieldValueRequired spec.ports: Required value\n");
    expect(SVC(MY_SVC_META, "'clusterIP':'None'"), "");
    expect(SVC(MY_SVC_META, "'type':'ExternalName','externalName':'example.com.'"), "");
    expect(SVC(MY_SVC_META,
               "'type':'Weird','ports':[{'port':80},{'name':'a','port':0,'targetPort':'Http'},"
               "{'name':'a','port':80,'protocol':'TCP'}]"),
           "FieldValueRequired spec.ports[0].name: Required value\n"
           "FieldValueInvalid spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, "
           "inclusive\n"
           "FieldValueInvalid spec.ports[1].targetPort: Invalid value: ~Http~: must contain only "
           "alpha-numeric characters (a-z, 0-9), and hyphens (-)\n"
           "FieldValueDuplicate spec.ports[2].name: Duplicate value: ~a~\n"
           "FieldValueNotSupported spec.type: Unsupported value: ~Weird~: supported values: "
           "~ClusterIP~, ~ExternalName~, ~LoadBalancer~, ~NodePort~\n"
           "FieldValueDuplicate spec.ports[2]: Duplicate value: core.ServicePort{Name:~~, "
           "Protocol:~TCP~, AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{"
           "Type:0, IntVal:0, StrVal:~~}, NodePort:0}\n");
    expect_update(SVC(MY_SVC_META ",'resourceVersion':'3'",
                      "'ports':[" MY_SVC_PORT "],'clusterIP':'10.0.0.2','clusterIPs':['10.0.0.2']"),
                  SVC(MY_SVC_META, "'ports':[" MY_SVC_PORT "],'clusterIP':'10.0.0.1',"
                                   "'clusterIPs':['10.0.0.1']"),
                  "FieldValueInvalid spec.clusterIPs[0]: Invalid value: []string{~10.0.0.2~}: may "
                  "not change once set\n");
}

static void test_config_and_secrets(void **state)
{
    (void)state;
    expect(CM("'name':'c'", ",'data':{'ok':'1','a b':'2','..x':'3'},'binaryData':{'ok':'MQ=='}"),
           "FieldValueInvalid data[..x]: Invalid value: ~..x~: must not start with '..'\n"
           "FieldValueInvalid data[a b]: Invalid value: ~a b~: a valid config key must consist "
           "of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
           "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')\n"
           "FieldValueInvalid data[ok]: Invalid value: ~ok~: duplicate of key present in "
           "binaryData\n");
    expect_update(CM("'name':'c','resourceVersion':'2'", ",'immutable':true,'data':{'a':'2'}"),
                  CM("'name':'c'", ",'immutable':true,'data':{'a':'1'}"),
                  "FieldValueForbidden data: Forbidden: field is immutable when `immutable` is "
                  "set\n");
    expect_update(CM("'name':'c','resourceVersion':'2'", ",'data':{'a':'2'}"),
                  CM("'name':'c'", ",'data':{'a':'1'}"), "");
    expect("{'kind':'Secret','apiVersion':'v1','metadata':{'name':'s'},'type':'kubernetes.io/tls',"
           "'stringData':{'tls.crt':'x'}}",
           "FieldValueRequired data[tls.key]: Required value\n");
    expect_update("{'kind':'Secret','apiVersion':'v1','metadata':{'name':'s',"
                  "'resourceVersion':'2'},'type':'Opaque'}",
                  "{'kind':'Secret','apiVersion':'v1','metadata':{'name':'s'},'type':"
                  "'kubernetes.io/basic-auth','data':{'username':'YQ=='}}",
                  "FieldValueInvalid type: Invalid value: ~Opaque~: field is immutable\n");
    expect("{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev'},'spec':{"
           "'finalizers':['custom']}}",
           "FieldValueInvalid spec.finalizers: Invalid value: ~custom~: name is neither a "
           "standard finalizer name nor is it fully qualified\n");
    expect("{'kind':'PersistentVolumeClaim','apiVersion':'v1','metadata':{'name':'c'},'spec':{"
           "'accessModes':['ReadWriteSometimes']}}",
           "FieldValueNotSupported spec.accessModes: Unsupported value: ~ReadWriteSometimes~: "
           "supported values: ~ReadOnlyMany~, ~ReadWriteMany~, ~ReadWriteOnce~, "
           "~ReadWriteOncePod~\n"
           "FieldValueRequired spec.resources[storage]: Required value\n");
}

static void test_format_message(void **state)
{
    struct api_field_errors errs;
    struct k8c_sbuf sb;
    (void)state;

    api_field_errors_init(&errs);
    k8c_sbuf_init(&sb);
    api_validate_format_message("Pod", "", "p\"1", &errs, &sb);
    assert_string_equal(sb.data, "Pod \"p\\\"1\" is invalid");
    k8c_sbuf_free(&sb);
    /* Go's %q: escapes, \xNN for control bytes and invalid UTF-8, UTF-8 kept */
    k8c_sbuf_init(&sb);
    api_validate_format_message("Deployment", "apps", "a\tb\x01\xff\xc3\xa9", &errs, &sb);
    assert_string_equal(sb.data, "Deployment.apps \"a\\tb\\x01\\xff\xc3\xa9\" is invalid");
    k8c_sbuf_free(&sb);
    /* one error alone; duplicates dropped */
    expect_message(CM("'name':'Web'", ""),
                   "ConfigMap ~Web~ is invalid: metadata.name: Invalid value: ~Web~: a lowercase "
                   "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                   "'.', and must start and end with an alphanumeric character (e.g. "
                   "'example.com', regex used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    expect_message(POD("'containers':[{'name':'c','image':'i','volumeMounts':[{'name':'v',"
                       "'mountPath':'/a','subPath':'/../x'}]}]"),
                   "Pod ~nginx~ is invalid: [spec.containers[0].volumeMounts[0].name: Not found: "
                   "~v~, spec.containers[0].volumeMounts.subPath: Invalid value: ~/../x~: must be "
                   "a relative path, spec.containers[0].volumeMounts.subPath: Invalid value: "
                   "~/../x~: must not contain '..']");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_objects),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_annotation_size),
        cmocka_unit_test(test_metadata_update),
        cmocka_unit_test(test_pod_spec),
        cmocka_unit_test(test_pod_update),
        cmocka_unit_test(test_pod_annotations),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_event_update),
        cmocka_unit_test(test_security_context),
        cmocka_unit_test(test_pod_scheduling),
        cmocka_unit_test(test_networking),
        cmocka_unit_test(test_policy_kinds),
        cmocka_unit_test(test_cluster_kinds),
        cmocka_unit_test(test_persistent_volume),
        cmocka_unit_test(test_pod_security),
        cmocka_unit_test(test_pod_security_versions),
        cmocka_unit_test(test_pod_status_transitions),
        cmocka_unit_test(test_pod_ephemeral),
        cmocka_unit_test(test_status_update),
        cmocka_unit_test(test_hpa),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_workloads),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_config_and_secrets),
        cmocka_unit_test(test_format_message),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
