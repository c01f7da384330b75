/*
 * apiserver/convert: autoscaling/v2 HorizontalPodAutoscalers read as autoscaling/v1 (the CPU
 * target and current value in v1's fields, everything else in annotations) and written back
 * (the same v2 object, annotations gone).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "codec.h"
#include "convert.h"
#include "error.h"
#include "object.h"
#include "resources.h"

#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"

typedef K8s__Io__Api__Autoscaling__V1__HorizontalPodAutoscaler hpa1_t;

static const struct api_resource *v1, *v2;

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    (void)state;
    assert_int_equal(api_resources_init(errmsg), 0);
    v1 = api_resource_find("autoscaling", "v1", "horizontalpodautoscalers");
    v2 = api_resource_find("autoscaling", "v2", "horizontalpodautoscalers");
    assert_non_null(v1);
    assert_non_null(v2);
    assert_ptr_equal(v1->stored_as, v2);
    assert_null(v2->stored_as);
    return 0;
}

static ProtobufCMessage *decode(const char *json)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m = NULL;
    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(NULL, json, strlen(json), NULL, &d, &m) != 0)
        fail_msg("decode failed: %s", d.errmsg);
    k8c_codec_diag_free(&d);
    return m;
}

static char *encode(const ProtobufCMessage *m)
{
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    assert_int_equal(k8c_codec_json_encode(&sb, m, K8C_CODEC_TYPE_META, 0, NULL), 0);
    return k8c_sbuf_detach(&sb);
}

static const char *annotation(const hpa1_t *h, const char *key)
{
    for (size_t i = 0; h->metadata && i < h->metadata->n_annotations; i++)
        if (strcmp(h->metadata->annotations[i]->key, key) == 0)
            return h->metadata->annotations[i]->value;
    return NULL;
}

#define V2_FULL                                                                                    \
    "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{"       \
    "\"name\":\"h\",\"namespace\":\"default\",\"annotations\":{\"keep\":\"me\"}},\"spec\":{"       \
    "\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"d\",\"apiVersion\":\"apps/v1\"},"      \
    "\"minReplicas\":2,\"maxReplicas\":5,\"metrics\":[{\"type\":\"Resource\",\"resource\":{"       \
    "\"name\":\"memory\",\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"100Mi\"}}},"     \
    "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\","  \
    "\"averageUtilization\":70}}}],\"behavior\":{\"scaleDown\":{\"stabilizationWindowSeconds\":"   \
    "60}}},\"status\":{\"observedGeneration\":3,\"currentReplicas\":2,\"desiredReplicas\":3,"      \
    "\"currentMetrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"current\":{"      \
    "\"averageUtilization\":55}}}],\"conditions\":[{\"type\":\"AbleToScale\",\"status\":"          \
    "\"True\",\"reason\":\"ReadyForNewScale\"}]}}"

static void test_round_trip(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    (void)state;
    ProtobufCMessage *orig = decode(V2_FULL), *served = NULL, *back = NULL;

    assert_int_equal(api_convert_from_storage(v1, orig, &served, errmsg), 0);
    const hpa1_t *h = (const hpa1_t *)served;
    assert_ptr_equal(served->descriptor,
                     &k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler__descriptor);
    assert_string_equal(h->spec->scaletargetref->kind, "Deployment");
    assert_string_equal(h->spec->scaletargetref->apiversion, "apps/v1");
    assert_true(h->spec->has_minreplicas);
    assert_int_equal(h->spec->minreplicas, 2);
    assert_int_equal(h->spec->maxreplicas, 5);
    assert_true(h->spec->has_targetcpuutilizationpercentage);
    assert_int_equal(h->spec->targetcpuutilizationpercentage, 70);
    assert_int_equal(h->status->observedgeneration, 3);
    assert_int_equal(h->status->desiredreplicas, 3);
    assert_true(h->status->has_currentcpuutilizationpercentage);
    assert_int_equal(h->status->currentcpuutilizationpercentage, 55);
    assert_string_equal(annotation(h, "keep"), "me");
    assert_string_equal(annotation(h, "autoscaling.alpha.kubernetes.io/metrics"),
                        "[{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":{"
                        "\"type\":\"AverageValue\",\"averageValue\":\"100Mi\"}}}]");
    assert_non_null(strstr(annotation(h, "autoscaling.alpha.kubernetes.io/behavior"),
                           "\"stabilizationWindowSeconds\":60"));
    assert_non_null(annotation(h, "autoscaling.alpha.kubernetes.io/current-metrics"));
    assert_non_null(strstr(annotation(h, "autoscaling.alpha.kubernetes.io/conditions"),
                           "\"reason\":\"ReadyForNewScale\""));

    /* and back: the same v2 object */
    assert_int_equal(api_convert_to_storage(v1, served, &back, errmsg), 0);
    char *want = encode(orig), *got = encode(back);
    assert_string_equal(got, want);
    k8c_free(want);
    k8c_free(got);

    /* a new CPU target through v1 replaces the CPU metric, other metrics stay first */
    ((hpa1_t *)served)->spec->targetcpuutilizationpercentage = 40;
    api_obj_free(back);
    assert_int_equal(api_convert_to_storage(v1, served, &back, errmsg), 0);
    got = encode(back);
    assert_non_null(strstr(got, "\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":"
                                "\"memory\""));
    assert_non_null(strstr(got, "\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\","
                                "\"averageUtilization\":40}"));
    assert_null(strstr(got, "autoscaling.alpha"));
    k8c_free(got);
    api_obj_free(orig);
    api_obj_free(served);
    api_obj_free(back);
}

static void test_v1_only(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    (void)state;
    /* what kubectl autoscale sends; a bad annotation is dropped, as upstream ignores it */
    ProtobufCMessage *in = decode(
        "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{"
        "\"name\":\"h\",\"annotations\":{\"autoscaling.alpha.kubernetes.io/metrics\":\"[{\"}},"
        "\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"d\"},\"maxReplicas\":3,"
        "\"targetCPUUtilizationPercentage\":80}}");
    ProtobufCMessage *out = NULL;
    assert_int_equal(api_convert_to_storage(v1, in, &out, errmsg), 0);
    char *got = encode(out);
    assert_string_equal(
        got, "{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":\"autoscaling/v2\",\"metadata\":"
             "{\"name\":\"h\",\"creationTimestamp\":null},\"spec\":{\"scaleTargetRef\":{\"kind\":"
             "\"Deployment\",\"name\":"
             "\"d\"},\"maxReplicas\":3,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":"
             "\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":80}}}]},"
             "\"status\":{\"desiredReplicas\":0,\"currentMetrics\":null}}");
    k8c_free(got);
    /* the wrong type either way is refused */
    ProtobufCMessage *bad = NULL;
    assert_int_equal(api_convert_from_storage(v1, in, &bad, errmsg), K8C_EINVAL);
    assert_null(bad);
    assert_int_equal(api_convert_to_storage(v2, out, &bad, errmsg), K8C_EINVAL);
    api_obj_free(in);
    api_obj_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_v1_only),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
