/* Fuzz target: JSON parser, writer round trip, and JSON -> message -> JSON through the codec
 * for a few kinds. Must never crash, leak or loop; re-parsing our own output must succeed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *v, *w;
    char err[K8C_ERRMSG_SIZE];

    if (k8c_json_parse(a, (const char *)data, size, NULL, &v, err) == 0) {
        struct k8c_sbuf sb;
        k8c_sbuf_init(&sb);
        k8c_json_write(&sb, v, 2, 0);
        if (k8c_json_parse(a, sb.data, sb.len, NULL, &w, err) != 0 || !k8c_json_equal(v, w))
            abort(); /* our own output must read back equal */
        k8c_sbuf_free(&sb);
        (void)k8c_json_copy(a, v);
        if (v->type == K8C_JSON_OBJECT) {
            const ProtobufCMessageDescriptor *descs[3];
            const struct k8c_codec_kind *k;
            descs[0] = (k = k8c_codec_lookup_kind("v1", "Pod")) ? k->desc : NULL;
            descs[1] = (k = k8c_codec_lookup_kind("apps/v1", "Deployment")) ? k->desc : NULL;
            descs[2] =
                (k = k8c_codec_lookup_kind("apps/v1", "ControllerRevision")) ? k->desc : NULL;
            for (int i = 0; i < 3; i++) {
                struct k8c_codec_diag d;
                ProtobufCMessage *m;
                if (descs[i] == NULL)
                    continue;
                k8c_codec_diag_init(&d);
                d.errors = i; /* each wording of value errors: own, Go's json, the converter */
                if (k8c_codec_tree_to_msg(descs[i], v, NULL, &d, &m) == 0) {
                    struct k8c_sbuf out;
                    k8c_sbuf_init(&out);
                    k8c_codec_json_encode(&out, m, K8C_CODEC_TYPE_META, 0, err);
                    k8c_codec_proto_encode(&out, m, NULL, NULL, err);
                    k8c_sbuf_free(&out);
                    protobuf_c_message_free_unpacked(m, NULL);
                }
                k8c_codec_diag_free(&d);
            }
        }
    }
    k8c_arena_del(a);
    return 0;
}
