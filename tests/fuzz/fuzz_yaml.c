/* Fuzz target: YAML stream parsing into trees, YAML writing, and YAML -> message for any
 * document whose apiVersion/kind is registered. */
#include <stdint.h>
#include <stdlib.h>

#include "codec.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json **docs;
    size_t n;
    char err[K8C_ERRMSG_SIZE];

    if (k8c_codec_yaml_parse(a, (const char *)data, size, &docs, &n, err) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct k8c_sbuf sb;
            const struct k8c_json *av = k8c_json_get(docs[i], "apiVersion");
            const struct k8c_json *kd = k8c_json_get(docs[i], "kind");
            k8c_sbuf_init(&sb);
            k8c_codec_yaml_write(&sb, docs[i], err);
            k8c_sbuf_free(&sb);
            if (av != NULL && kd != NULL && av->type == K8C_JSON_STRING &&
                kd->type == K8C_JSON_STRING) {
                const struct k8c_codec_kind *k = k8c_codec_lookup_kind(av->u.str, kd->u.str);
                struct k8c_codec_diag d;
                ProtobufCMessage *m;
                if (k == NULL)
                    continue;
                k8c_codec_diag_init(&d);
                if (k8c_codec_tree_to_msg(k->desc, docs[i], k8c_arena_protobuf_allocator(a), &d,
                                          &m) == 0) {
                    k8c_sbuf_init(&sb);
                    k8c_codec_yaml_encode(&sb, m, K8C_CODEC_TYPE_META, err);
                    k8c_sbuf_free(&sb);
                }
                k8c_codec_diag_free(&d);
            }
        }
    }
    k8c_arena_del(a);
    return 0;
}
