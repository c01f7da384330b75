/* Fuzz target: Kubernetes protobuf envelopes ("k8s\0" + runtime.Unknown) decoded into typed
 * messages (kind from the envelope, else tried as a Pod), then re-encoded as JSON and protobuf.
 * The check pass must stop hostile nesting before protobuf-c recurses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct k8c_arena *a = k8c_arena_new(0);
    char err[K8C_ERRMSG_SIZE];
    ProtobufCMessage *m = NULL;
    const struct k8c_codec_kind *pod = k8c_codec_lookup_kind("v1", "Pod");

    if (k8c_codec_proto_decode(NULL, data, size, k8c_arena_protobuf_allocator(a), &m, err) != 0 &&
        pod != NULL) {
        /* the same bytes as a raw Pod behind a forged envelope */
        uint8_t *buf = malloc(size + 4);
        memcpy(buf, "k8s\0", 4);
        if (size > 0)
            memcpy(buf + 4, data, size);
        k8c_codec_proto_decode(pod->desc, buf, size + 4, k8c_arena_protobuf_allocator(a), &m, err);
        free(buf);
    }
    if (m != NULL) {
        struct k8c_sbuf sb;
        k8c_sbuf_init(&sb);
        k8c_codec_json_encode(&sb, m, K8C_CODEC_TYPE_META, 0, err);
        k8c_codec_proto_encode(&sb, m, NULL, NULL, err);
        k8c_sbuf_reset(&sb);
        k8c_codec_yaml_encode(&sb, m, K8C_CODEC_TYPE_META, err);
        k8c_sbuf_free(&sb);
    }
    k8c_arena_del(a);
    return 0;
}
