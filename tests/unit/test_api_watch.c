/* Unit tests for the watch stream encodings (apiserver/watchcache.h): JSON lines and
 * protobuf frames, the latter decoded with the generated metav1.WatchEvent and the
 * codec's envelope decoder, as client-go's LengthDelimitedFrameReader + raw protobuf
 * decoder + embedded protobuf decoder read them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "codec.h"
#include "error.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "object.h"
#include "resources.h"
#include "watchcache.h"

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__WatchEvent watch_event_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Status status_t;
typedef K8s__Io__Api__Core__V1__Pod pod_t;

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    (void)state;
    return api_resources_init(errmsg);
}

/* Checks the frame's length prefix covers exactly the rest and unpacks the WatchEvent. */
static watch_event_t *unframe(const struct k8c_buf *b)
{
    assert_true(b->len >= 4);
    size_t n =
        (size_t)b->data[0] << 24 | (size_t)b->data[1] << 16 | (size_t)b->data[2] << 8 | b->data[3];
    assert_int_equal(n, b->len - 4);
    watch_event_t *ev =
        k8s__io__apimachinery__pkg__apis__meta__v1__watch_event__unpack(NULL, n, b->data + 4);
    assert_non_null(ev);
    assert_non_null(ev->object);
    assert_true(ev->object->has_raw);
    return ev;
}

/* The embedded object's envelope: apiVersion and kind, and the decoded message. */
static ProtobufCMessage *embedded(const watch_event_t *ev, const char *api_version,
                                  const char *kind, const ProtobufCMessageDescriptor *desc)
{
    struct k8c_codec_envelope env;
    char errmsg[K8C_ERRMSG_SIZE];
    const ProtobufCBinaryData *raw = &ev->object->raw;
    assert_memory_equal(raw->data, "k8s\0", 4);
    assert_int_equal(k8c_codec_proto_unwrap(raw->data, raw->len, &env, errmsg), 0);
    assert_int_equal(env.api_version_len, strlen(api_version));
    assert_memory_equal(env.api_version, api_version, env.api_version_len);
    assert_int_equal(env.kind_len, strlen(kind));
    assert_memory_equal(env.kind, kind, env.kind_len);
    ProtobufCMessage *msg = NULL;
    assert_int_equal(k8c_codec_proto_decode(desc, raw->data, raw->len, NULL, &msg, errmsg), 0);
    return msg;
}

static pod_t *make_pod(const char *name, const char *rv)
{
    pod_t *pod = k8c_malloc(sizeof(*pod));
    k8s__io__api__core__v1__pod__init(pod);
    api_meta_t *m = api_obj_meta_ensure(&pod->base);
    api_set_str(&m->name, name);
    api_set_str(&m->namespace_, "default");
    api_set_str(&m->resourceversion, rv);
    return pod;
}

static void test_protobuf_event(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_sbuf obj;
    (void)state;
    /* a name long enough that the lengths take two-byte varints */
    char name[300];
    memset(name, 'p', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    pod_t *pod = make_pod(name, "42");
    k8c_sbuf_init(&obj);
    assert_int_equal(api_watch_encode_object(API_WATCH_PROTOBUF, &pod->base, &obj, errmsg), 0);
    struct k8c_buf *b = api_watch_event(API_WATCH_PROTOBUF, "MODIFIED", obj.data, obj.len);
    watch_event_t *ev = unframe(b);
    assert_string_equal(ev->type, "MODIFIED");
    assert_int_equal(ev->object->raw.len, obj.len);
    pod_t *got = (pod_t *)embedded(ev, "v1", "Pod", &k8s__io__api__core__v1__pod__descriptor);
    assert_string_equal(got->metadata->name, name);
    assert_string_equal(got->metadata->resourceversion, "42");
    protobuf_c_message_free_unpacked(&got->base, NULL);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    k8c_buf_unref(b);
    k8c_sbuf_free(&obj);
    api_obj_free(&pod->base);
}

static void test_protobuf_bookmark(void **state)
{
    (void)state;
    const struct api_resource *r = api_resource_find("apps", "v1", "deployments");
    assert_non_null(r);
    struct k8c_buf *b = api_watch_bookmark(API_WATCH_PROTOBUF, r, 1234, false);
    watch_event_t *ev = unframe(b);
    assert_string_equal(ev->type, "BOOKMARK");
    ProtobufCMessage *msg = embedded(ev, "apps/v1", "Deployment", r->desc);
    assert_string_equal(api_obj_meta(msg)->resourceversion, "1234");
    assert_int_equal(api_obj_meta(msg)->n_annotations, 0);
    protobuf_c_message_free_unpacked(msg, NULL);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    k8c_buf_unref(b);
    /* the end of a WatchList's initial events */
    b = api_watch_bookmark(API_WATCH_PROTOBUF, r, 99, true);
    ev = unframe(b);
    msg = embedded(ev, "apps/v1", "Deployment", r->desc);
    api_meta_t *m = api_obj_meta(msg);
    assert_string_equal(m->resourceversion, "99");
    assert_int_equal(m->n_annotations, 1);
    assert_string_equal(m->annotations[0]->key, "k8s.io/initial-events-end");
    assert_string_equal(m->annotations[0]->value, "true");
    protobuf_c_message_free_unpacked(msg, NULL);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    k8c_buf_unref(b);
}

static void test_protobuf_error(void **state)
{
    (void)state;
    struct k8c_buf *b = api_watch_error(API_WATCH_PROTOBUF, 410, "Expired", "too old: 5 (9)");
    watch_event_t *ev = unframe(b);
    assert_string_equal(ev->type, "ERROR");
    status_t *st = (status_t *)embedded(
        ev, "v1", "Status", &k8s__io__apimachinery__pkg__apis__meta__v1__status__descriptor);
    assert_true(st->has_code);
    assert_int_equal(st->code, 410);
    assert_string_equal(st->reason, "Expired");
    assert_string_equal(st->status, "Failure");
    assert_string_equal(st->message, "too old: 5 (9)");
    protobuf_c_message_free_unpacked(&st->base, NULL);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    k8c_buf_unref(b);
}

static void test_json_events(void **state)
{
    (void)state;
    struct k8c_buf *b = api_watch_event(API_WATCH_JSON, "ADDED", "{\"a\":1}", 7);
    assert_string_equal((char *)b->data, "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n");
    assert_int_equal(b->len, strlen((char *)b->data));
    k8c_buf_unref(b);
    const struct api_resource *r = api_resource_find("", "v1", "pods");
    b = api_watch_bookmark(API_WATCH_JSON, r, 7, false);
    assert_string_equal((char *)b->data, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\","
                                         "\"apiVersion\":\"v1\",\"metadata\":{"
                                         "\"resourceVersion\":\"7\"}}}\n");
    k8c_buf_unref(b);
    b = api_watch_bookmark(API_WATCH_JSON, r, 8, true);
    assert_string_equal((char *)b->data,
                        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
                        "\"metadata\":{\"resourceVersion\":\"8\",\"annotations\":{"
                        "\"k8s.io/initial-events-end\":\"true\"}}}}\n");
    k8c_buf_unref(b);
    b = api_watch_error(API_WATCH_JSON, 410, "Expired", "too old");
    assert_string_equal((char *)b->data,
                        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                        "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old\","
                        "\"reason\":\"Expired\",\"code\":410}}\n");
    k8c_buf_unref(b);
    assert_string_equal(api_watch_content_type(API_WATCH_PROTOBUF),
                        "application/vnd.kubernetes.protobuf;stream=watch");
    assert_string_equal(api_watch_content_type(API_WATCH_JSON), "application/json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protobuf_event),
        cmocka_unit_test(test_protobuf_bookmark),
        cmocka_unit_test(test_protobuf_error),
        cmocka_unit_test(test_json_events),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
