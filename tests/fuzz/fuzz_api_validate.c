/* Fuzz target: upstream validation and admission checks of objects (apiserver/validate.c,
 * podsecurity.c, gates.c) on any JSON object the codec decodes: create and update
 * validation, the feature-gate drops and the Pod Security levels. Must never crash, leak or
 * loop; a validation that fails must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "defaults.h"
#include "error.h"
#include "gates.h"
#include "podsecurity.h"
#include "resources.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ProtobufCMessage *decode(const uint8_t *data, size_t size)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m = NULL;

    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(NULL, (const char *)data, size, NULL, &d, &m) != 0)
        m = NULL;
    k8c_codec_diag_free(&d);
    return m;
}

static const struct api_resource *resource_of(const ProtobufCMessage *m)
{
    const struct k8c_codec_kind *k = k8c_codec_lookup_desc(m->descriptor);
    return k != NULL ? api_resource_by_kind(k->api_version, k->kind) : NULL;
}

static void validate(const struct api_resource *r, const ProtobufCMessage *obj,
                     const ProtobufCMessage *old)
{
    struct api_field_errors errs;

    api_field_errors_init(&errs);
    int rc = api_validate(r, obj, old, &errs);
    if ((rc != 0) != (errs.n > 0) && rc != K8C_EINVAL)
        abort(); /* an error without a cause, or causes without an error */
    api_field_errors_free(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    char errmsg[K8C_ERRMSG_SIZE];

    if (!ready) {
        if (api_resources_init(errmsg) != 0)
            abort();
        ready = true;
    }
    if (size > 1 << 20)
        return 0;
    ProtobufCMessage *obj = decode(data, size), *old = decode(data, size);
    const struct api_resource *r = obj != NULL ? resource_of(obj) : NULL;
    if (r != NULL) {
        api_gates_drop_disabled(obj, NULL);
        api_defaults_apply_create(r, obj);
        api_defaults_apply_create(r, old);
        validate(r, obj, NULL);
        validate(r, obj, old); /* an update that changes nothing */
        static const char *const levels[] = {"privileged", "baseline", "restricted"};
        for (size_t i = 0; i < 3; i++)
            k8c_free(api_podsecurity_evaluate(levels[i], obj));
    }
    if (obj != NULL)
        protobuf_c_message_free_unpacked(obj, NULL);
    if (old != NULL)
        protobuf_c_message_free_unpacked(old, NULL);
    return 0;
}
