/* Unit tests for the Go zero-value rule of lib/codec (k8c_codec_clear_go_zeros and the generated
 * table of lib/codec_presence.c): a message encoded the way Go's protobuf marshaller does it
 * (every scalar written, zero or not) decodes to the JSON upstream shows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "json.h"

#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"

#define MEMBER(msg, off) ((void *)((char *)(msg) + (off)))

/*
 * Marks every singular scalar field of m and of every message below it present, with the zero
 * value where it was absent: what Go's marshaller sends for a struct whose value fields are
 * zero and whose pointer fields all hold explicit zeros. Strings come from arena a.
 */
static void fill_go_zeros(struct k8c_arena *a, ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        void *member = MEMBER(m, fd->offset);
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
                size_t n = *(const size_t *)MEMBER(m, fd->quantifier_offset);
                for (size_t k = 0; k < n; k++)
                    fill_go_zeros(a, (*(ProtobufCMessage ***)member)[k]);
            } else if (*(ProtobufCMessage **)member != NULL) {
                fill_go_zeros(a, *(ProtobufCMessage **)member);
            }
            continue;
        }
        if (fd->label != PROTOBUF_C_LABEL_OPTIONAL)
            continue;
        if (fd->type == PROTOBUF_C_TYPE_STRING) {
            if (*(char **)member == NULL)
                *(char **)member = k8c_arena_strndup(a, "", 0);
        } else {
            *(protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset) = 1;
        }
    }
}

/* json as a message in arena a; no warnings. */
static ProtobufCMessage *json_decode(struct k8c_arena *a, const char *json)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m;

    k8c_codec_diag_init(&d);
    assert_int_equal(
        k8c_codec_json_decode(NULL, json, strlen(json), k8c_arena_protobuf_allocator(a), &d, &m),
        0);
    assert_int_equal(d.n_warnings, 0);
    k8c_codec_diag_free(&d);
    return m;
}

/* json -> message -> fill_go_zeros -> Kubernetes protobuf; returns the envelope (caller frees). */
static char *go_encode(const char *json, size_t *len)
{
    struct k8c_arena *a = k8c_arena_new(0);
    ProtobufCMessage *m = json_decode(a, json);
    struct k8c_sbuf sb;
    char err[K8C_ERRMSG_SIZE];

    fill_go_zeros(a, m);
    k8c_sbuf_init(&sb);
    assert_int_equal(k8c_codec_proto_encode(&sb, m, NULL, NULL, err), 0);
    k8c_arena_del(a);
    *len = sb.len;
    return k8c_sbuf_detach(&sb);
}

/* Decodes pb (allocator: arena when use_arena, else the default) and checks that its JSON
 * equals expected (compared as JSON values, so member order does not matter). */
static void expect_decoded(const char *pb, size_t len, bool use_arena, const char *expected)
{
    struct k8c_arena *a = k8c_arena_new(0);
    ProtobufCMessage *m;
    struct k8c_sbuf sb;
    struct k8c_json *got, *want;
    char err[K8C_ERRMSG_SIZE];

    assert_int_equal(k8c_codec_proto_decode(NULL, (const uint8_t *)pb, len,
                                            use_arena ? k8c_arena_protobuf_allocator(a) : NULL, &m,
                                            err),
                     0);
    k8c_sbuf_init(&sb);
    assert_int_equal(k8c_codec_json_encode(&sb, m, K8C_CODEC_TYPE_META, 0, err), 0);
    if (!use_arena)
        protobuf_c_message_free_unpacked(m, NULL);
    assert_int_equal(k8c_json_parse(a, sb.data, sb.len, NULL, &got, err), 0);
    assert_int_equal(k8c_json_parse(a, expected, strlen(expected), NULL, &want, err), 0);
    if (!k8c_json_equal(got, want))
        fail_msg("decoded JSON\n  %.*s\nwant\n  %s", (int)sb.len, sb.data, expected);
    k8c_sbuf_free(&sb);
    k8c_arena_del(a);
}

static const char deployment[] =
    "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\","
    "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"empty\":\"\"}},"
    "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{},"
    "\"ports\":[{\"containerPort\":80}]},{\"name\":\"\",\"resources\":{}}]}},"
    "\"strategy\":{\"type\":\"RollingUpdate\","
    "\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":\"25%\"}}},"
    "\"status\":{}}";

/*
 * What upstream shows for that Deployment when Go sent every scalar: value fields with omitempty
 * (generateName, generation, minReadySeconds, paused, stdin, workingDir, hostIPC, nodeName,
 * hostPort, status.replicas, ...) are gone; pointer fields keep their explicit zero (replicas,
 * terminationGracePeriodSeconds, automountServiceAccountToken, collisionCount, ...); value fields
 * without omitempty stay (Container.name, ContainerPort.containerPort). Map values, IntOrString
 * and message fields (resources: {}, status: {}) are untouched.
 */
static const char deployment_from_go[] =
    "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\","
    "\"metadata\":{\"name\":\"web\",\"creationTimestamp\":null,\"deletionGracePeriodSeconds\":0,"
    "\"labels\":{\"app\":\"web\",\"empty\":\"\"}},"
    "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"template\":{\"metadata\":{\"creationTimestamp\":null,\"deletionGracePeriodSeconds\":0,"
    "\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{},"
    "\"ports\":[{\"containerPort\":80}],\"restartPolicy\":\"\"},"
    "{\"name\":\"\",\"resources\":{},\"restartPolicy\":\"\"}],"
    "\"terminationGracePeriodSeconds\":0,\"activeDeadlineSeconds\":0,"
    "\"automountServiceAccountToken\":false,\"shareProcessNamespace\":false,\"priority\":0,"
    "\"runtimeClassName\":\"\",\"enableServiceLinks\":false,\"preemptionPolicy\":\"\","
    "\"setHostnameAsFQDN\":false,\"hostUsers\":false}},"
    "\"strategy\":{\"type\":\"RollingUpdate\","
    "\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":\"25%\"}},"
    "\"revisionHistoryLimit\":0,\"progressDeadlineSeconds\":0},"
    "\"status\":{\"collisionCount\":0}}";

static void test_deployment_from_go(void **state)
{
    size_t len;
    char *pb = go_encode(deployment, &len);

    expect_decoded(pb, len, false, deployment_from_go);
    expect_decoded(pb, len, true, deployment_from_go);
    k8c_free(pb);
}

/* The headline fields one by one, on the decoded message itself. */
static void test_deployment_fields(void **state)
{
    size_t len;
    char *pb = go_encode(deployment, &len);
    char err[K8C_ERRMSG_SIZE];
    ProtobufCMessage *m;

    assert_int_equal(k8c_codec_proto_decode(NULL, (const uint8_t *)pb, len, NULL, &m, err), 0);
    K8s__Io__Api__Apps__V1__Deployment *dep = (K8s__Io__Api__Apps__V1__Deployment *)m;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta *meta = dep->metadata;
    K8s__Io__Api__Apps__V1__DeploymentSpec *spec = dep->spec;
    K8s__Io__Api__Core__V1__PodSpec *pod = spec->template_->spec;
    K8s__Io__Api__Core__V1__Container *c0 = pod->containers[0], *c1 = pod->containers[1];

    assert_string_equal(meta->name, "web");
    assert_null(meta->generatename);
    assert_null(meta->namespace_);
    assert_null(meta->uid);
    assert_false(meta->has_generation);
    assert_true(meta->has_deletiongraceperiodseconds);
    assert_null(spec->template_->metadata->generatename);
    assert_false(spec->template_->metadata->has_generation);
    assert_true(spec->has_replicas);
    assert_int_equal(spec->replicas, 0);
    assert_false(spec->has_minreadyseconds);
    assert_false(spec->has_paused);
    assert_true(pod->has_terminationgraceperiodseconds);
    assert_true(pod->has_automountserviceaccounttoken);
    assert_false(pod->automountserviceaccounttoken);
    assert_false(pod->has_hostipc);
    assert_null(pod->nodename);
    assert_null(pod->restartpolicy);
    assert_string_equal(c0->name, "nginx");
    assert_false(c0->has_stdin);
    assert_null(c0->workingdir);
    assert_true(c0->ports[0]->has_containerport);
    assert_false(c0->ports[0]->has_hostport);
    assert_null(c0->ports[0]->protocol);
    assert_non_null(c1->name); /* `json:"name"`: an empty name is shown */
    assert_string_equal(c1->name, "");
    assert_non_null(c1->restartpolicy); /* *ContainerRestartPolicy */
    assert_false(dep->status->has_replicas);
    assert_true(dep->status->has_collisioncount);
    protobuf_c_message_free_unpacked(m, NULL);
    k8c_free(pb);
}

/* A pod that Go sent with non-zero values keeps them all. */
static void test_nonzero_kept(void **state)
{
    static const char pod[] =
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\","
        "\"creationTimestamp\":null,\"generation\":3},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{},\"stdin\":true,"
        "\"workingDir\":\"/w\"}],\"nodeName\":\"n1\",\"hostIPC\":true},"
        "\"status\":{\"phase\":\"Running\"}}";
    size_t len;
    char *pb = go_encode(pod, &len);

    expect_decoded(pb, len, false,
                   "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\","
                   "\"creationTimestamp\":null,\"generation\":3,"
                   "\"deletionGracePeriodSeconds\":0},"
                   "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{},\"stdin\":true,"
                   "\"workingDir\":\"/w\",\"restartPolicy\":\"\"}],"
                   "\"terminationGracePeriodSeconds\":0,\"activeDeadlineSeconds\":0,"
                   "\"automountServiceAccountToken\":false,\"nodeName\":\"n1\",\"hostIPC\":true,"
                   "\"shareProcessNamespace\":false,\"priority\":0,\"runtimeClassName\":\"\","
                   "\"enableServiceLinks\":false,\"preemptionPolicy\":\"\","
                   "\"setHostnameAsFQDN\":false,\"hostUsers\":false},"
                   "\"status\":{\"phase\":\"Running\"}}");
    k8c_free(pb);
}

/* A JSON -> protobuf -> JSON round trip of what kubectl prints is unchanged: kubectl never prints
 * a zero omitempty value, and the zeros it prints are kept. */
static void test_kubectl_roundtrip(void **state)
{
    static const char svc[] =
        "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s\","
        "\"creationTimestamp\":null},\"spec\":{\"ports\":[{\"name\":\"80\",\"protocol\":\"TCP\","
        "\"port\":80,\"targetPort\":0}],\"type\":\"ClusterIP\"},\"status\":{\"loadBalancer\":{}}}";
    struct k8c_arena *a = k8c_arena_new(0);
    ProtobufCMessage *m = json_decode(a, svc);
    struct k8c_sbuf sb;
    char err[K8C_ERRMSG_SIZE];

    k8c_sbuf_init(&sb);
    assert_int_equal(k8c_codec_proto_encode(&sb, m, NULL, NULL, err), 0);
    expect_decoded(sb.data, sb.len, false, svc);
    k8c_sbuf_free(&sb);
    k8c_arena_del(a);
}

/* JSON -> message -> protobuf -> message -> JSON with both encoders (the direct writer and the
 * tree builder), which must agree byte for byte; returns the text (caller frees). */
static char *stored_json(const char *json)
{
    struct k8c_arena *a = k8c_arena_new(0);
    ProtobufCMessage *m = json_decode(a, json), *back;
    struct k8c_sbuf pb, direct, tree;
    struct k8c_json *t;
    char err[K8C_ERRMSG_SIZE];

    k8c_sbuf_init(&pb);
    assert_int_equal(k8c_codec_proto_encode(&pb, m, NULL, NULL, err), 0);
    assert_int_equal(k8c_codec_proto_decode(NULL, (const uint8_t *)pb.data, pb.len,
                                            k8c_arena_protobuf_allocator(a), &back, err),
                     0);
    k8c_sbuf_init(&direct);
    assert_int_equal(k8c_codec_json_encode(&direct, back, K8C_CODEC_TYPE_META, 0, err), 0);
    assert_int_equal(k8c_codec_msg_to_tree(a, back, K8C_CODEC_TYPE_META, &t, err), 0);
    k8c_sbuf_init(&tree);
    k8c_json_write(&tree, t, 0, 0);
    assert_int_equal(direct.len, tree.len);
    assert_memory_equal(direct.data, tree.data, direct.len);
    k8c_sbuf_free(&pb);
    k8c_sbuf_free(&tree);
    k8c_arena_del(a);
    return k8c_sbuf_detach(&direct);
}

/* A Go slice without omitempty is nil after protobuf decoding, and encoding/json writes it as
 * null: `rules: null` in a ClusterRole that only aggregates, whether the request left rules out
 * or sent []. A list's items are built non-nil by the API server: not in the rule. */
static void test_null_slices(void **state)
{
    static const char *const cases[][2] = {
        {"{\"kind\":\"ClusterRole\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{\"name\":\"agg\"},\"aggregationRule\":{}}",
         "{\"kind\":\"ClusterRole\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{\"name\":\"agg\",\"creationTimestamp\":null},\"rules\":null,"
         "\"aggregationRule\":{}}"},
        {"{\"kind\":\"ClusterRole\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{\"name\":\"r\"},\"rules\":[]}",
         "{\"kind\":\"ClusterRole\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{\"name\":\"r\",\"creationTimestamp\":null},\"rules\":null}"},
        /* a rule keeps its verbs; null verbs decode as none */
        {"{\"kind\":\"Role\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{\"name\":\"r\"},\"rules\":[{\"verbs\":[\"get\"]},{\"verbs\":null}]}",
         "{\"kind\":\"Role\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{\"name\":\"r\",\"creationTimestamp\":null},"
         "\"rules\":[{\"verbs\":[\"get\"]},{\"verbs\":null}]}"},
        {"{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
         "\"metadata\":{\"name\":\"s\"},\"addressType\":\"IPv4\"}",
         "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
         "\"metadata\":{\"name\":\"s\",\"creationTimestamp\":null},\"addressType\":\"IPv4\","
         "\"endpoints\":null,\"ports\":null}"},
        {"{\"kind\":\"RoleList\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{}}",
         "{\"kind\":\"RoleList\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
         "\"metadata\":{}}"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = stored_json(cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("case %zu\n  got  %s\n  want %s", i, got, cases[i][1]);
        k8c_free(got);
    }
}

/* k8c_codec_clear_go_zeros on a message built in C (not decoded). */
static void test_clear_direct(void **state)
{
    K8s__Io__Api__Apps__V1__DeploymentSpec spec = K8S__IO__API__APPS__V1__DEPLOYMENT_SPEC__INIT;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta meta =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__INIT;
    K8s__Io__Api__Core__V1__PodTemplateSpec tmpl = K8S__IO__API__CORE__V1__POD_TEMPLATE_SPEC__INIT;
    struct k8c_arena *a = k8c_arena_new(0);

    spec.has_replicas = 1;
    spec.has_minreadyseconds = 1;
    spec.has_paused = 1;
    spec.paused = 1;
    spec.template_ = &tmpl;
    tmpl.metadata = &meta;
    meta.name = k8c_arena_strndup(a, "", 0);
    meta.generatename = k8c_arena_strndup(a, "x", 1);
    meta.has_generation = 1;
    k8c_codec_clear_go_zeros(&spec.base, k8c_arena_protobuf_allocator(a));
    assert_true(spec.has_replicas);
    assert_false(spec.has_minreadyseconds);
    assert_true(spec.has_paused); /* true is not zero */
    assert_null(meta.name);
    assert_string_equal(meta.generatename, "x");
    assert_false(meta.has_generation);
    k8c_arena_del(a);
}

/* Facts of the generated table. */
static void test_table(void **state)
{
    const char *const *kept;
    bool replicas = false, min_ready = false;

    kept = k8c_codec_go_zero_kept("k8s.io.api.apps.v1.DeploymentSpec");
    assert_non_null(kept);
    for (size_t i = 0; kept[i] != NULL; i++) {
        replicas |= strcmp(kept[i], "replicas") == 0;
        min_ready |= strcmp(kept[i], "minReadySeconds") == 0;
    }
    assert_true(replicas);
    assert_false(min_ready);
    /* first and last entries of the sorted table are found */
    assert_non_null(k8c_codec_go_zero_kept("k8s.io.api.admissionregistration.v1.AuditAnnotation"));
    assert_non_null(k8c_codec_go_zero_kept("k8s.io.apimachinery.pkg.runtime.Unknown"));
    kept = k8c_codec_go_zero_kept("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_non_null(kept);
    assert_string_equal(kept[0], "deletionGracePeriodSeconds");
    assert_null(kept[1]);
    kept = k8c_codec_go_zero_kept("k8s.io.api.apps.v1.DeploymentStrategy");
    assert_non_null(kept);
    assert_null(kept[0]);
    /* special types, map entries, k8c's own Table and unknown names are not in the table */
    assert_null(k8c_codec_go_zero_kept("k8s.io.apimachinery.pkg.util.intstr.IntOrString"));
    assert_null(k8c_codec_go_zero_kept("k8s.io.apimachinery.pkg.apis.meta.v1.Time"));
    assert_null(k8c_codec_go_zero_kept("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta."
                                       "LabelsEntry"));
    assert_null(
        k8c_codec_go_zero_kept("k8s.io.apimachinery.pkg.apis.meta.v1.TableColumnDefinition"));
    assert_null(k8c_codec_go_zero_kept("k8s.io.api.apps.v1.NoSuchThing"));
    assert_null(k8c_codec_go_zero_kept(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployment_from_go), cmocka_unit_test(test_deployment_fields),
        cmocka_unit_test(test_nonzero_kept),       cmocka_unit_test(test_kubectl_roundtrip),
        cmocka_unit_test(test_clear_direct),       cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_slices),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
