/*
 * Reflective object helpers (see object.h).
 */
#include "object.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "codec.h"
#include "convert.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "error.h"

static int64_t real_now(void)
{
    return (int64_t)time(NULL);
}
int64_t (*api_now)(void) = real_now;

ProtobufCMessage **api_obj_field(ProtobufCMessage *obj, const char *name)
{
    if (obj == NULL)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(obj->descriptor, name);
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return (ProtobufCMessage **)((char *)obj + f->offset);
}

bool api_obj_field_exists(const struct api_resource *r, const char *name)
{
    return r->desc != NULL && protobuf_c_message_descriptor_get_field_by_name(r->desc, name);
}

api_meta_t *api_obj_meta(const ProtobufCMessage *obj)
{
    ProtobufCMessage **f = api_obj_field((ProtobufCMessage *)obj, "metadata");
    if (f == NULL || *f == NULL ||
        (*f)->descriptor != &k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor)
        return NULL;
    return (api_meta_t *)*f;
}

api_meta_t *api_obj_meta_ensure(ProtobufCMessage *obj)
{
    ProtobufCMessage **f = api_obj_field(obj, "metadata");
    if (f == NULL)
        return NULL;
    if (*f == NULL) {
        api_meta_t *m = k8c_malloc(sizeof(*m));
        k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__init(m);
        *f = &m->base;
    }
    return (api_meta_t *)*f;
}

void api_set_str(char **field, const char *value)
{
    if (*field != NULL && *field != protobuf_c_empty_string)
        k8c_free(*field);
    *field = value ? k8c_strdup(value) : NULL;
}

api_time_t *api_time_new(int64_t sec)
{
    api_time_t *t = k8c_malloc(sizeof(*t));
    k8s__io__apimachinery__pkg__apis__meta__v1__time__init(t);
    t->has_seconds = true;
    t->seconds = sec;
    t->has_nanos = true;
    t->nanos = 0;
    return t;
}

static void random_bytes(uint8_t *out, size_t n)
{
    static int fd = -1;
    if (fd < 0)
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    while (fd >= 0 && got < n) {
        ssize_t r = read(fd, out + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    for (; got < n; got++)
        out[got] = (uint8_t)rand();
}

void api_uuid(char out[37])
{
    uint8_t b[16];
    random_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void api_generate_name(const char *base, char *out, size_t size)
{
    /* upstream's utilrand.String alphabet: no vowels, no confusable digits */
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    uint8_t b[5];
    char suffix[6];
    random_bytes(b, sizeof(b));
    for (int i = 0; i < 5; i++)
        suffix[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
    suffix[5] = '\0';
    /* upstream trims the base so the result is at most 63 characters */
    size_t len = strlen(base);
    if (len > 58)
        len = 58;
    snprintf(out, size, "%.*s%s", (int)len, base, suffix);
}

ProtobufCMessage *api_obj_copy(const ProtobufCMessage *obj)
{
    if (obj == NULL)
        return NULL;
    size_t len = protobuf_c_message_get_packed_size(obj);
    uint8_t *buf = k8c_malloc(len ? len : 1);
    protobuf_c_message_pack(obj, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(obj->descriptor, NULL, len, buf);
    k8c_free(buf);
    return copy;
}

bool api_obj_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    size_t la = protobuf_c_message_get_packed_size(a);
    size_t lb = protobuf_c_message_get_packed_size(b);
    if (la != lb)
        return false;
    uint8_t *ba = k8c_malloc(la ? la : 1), *bb = k8c_malloc(lb ? lb : 1);
    protobuf_c_message_pack(a, ba);
    protobuf_c_message_pack(b, bb);
    bool eq = memcmp(ba, bb, la) == 0;
    k8c_free(ba);
    k8c_free(bb);
    return eq;
}

void api_obj_free(ProtobufCMessage *obj)
{
    if (obj != NULL)
        protobuf_c_message_free_unpacked(obj, NULL);
}

int api_obj_encode_storage(const struct api_resource *r, ProtobufCMessage *obj,
                           struct k8c_sbuf *out, char *errmsg)
{
    if (r->stored_as != NULL) {
        ProtobufCMessage *stored;
        int rc = api_convert_to_storage(r, obj, &stored, errmsg);
        if (rc == 0)
            rc = api_obj_encode_storage(r->stored_as, stored, out, errmsg);
        api_obj_free(stored);
        return rc;
    }
    api_meta_t *m = api_obj_meta(obj);
    char *rv = NULL;
    if (m != NULL) {
        rv = m->resourceversion;
        m->resourceversion = NULL;
    }
    int rc = k8c_codec_proto_encode(out, obj, r->api_version, r->kind, errmsg);
    if (m != NULL)
        m->resourceversion = rv;
    return rc;
}

int api_obj_decode_storage(const struct api_resource *r, const uint8_t *data, size_t len,
                           int64_t mod_rev, ProtobufCMessage **out, char *errmsg)
{
    int rc = k8c_codec_proto_decode(r->stored_as ? r->stored_as->desc : r->desc, data, len, NULL,
                                    out, errmsg);
    if (rc != 0)
        return rc;
    if (r->stored_as != NULL) {
        ProtobufCMessage *served;
        rc = api_convert_from_storage(r, *out, &served, errmsg);
        api_obj_free(*out);
        *out = served;
        if (rc != 0)
            return rc;
    }
    api_meta_t *m = api_obj_meta_ensure(*out);
    if (m != NULL) {
        char rv[24];
        snprintf(rv, sizeof(rv), "%lld", (long long)mod_rev);
        api_set_str(&m->resourceversion, rv);
    }
    return 0;
}

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ListMeta list_meta_t;

ProtobufCMessage *api_list_new(const struct api_resource *r, ProtobufCMessage **items, size_t n,
                               const char *rv, const char *cont, int64_t remaining)
{
    const ProtobufCMessageDescriptor *d = r->list_desc;
    ProtobufCMessage *list = k8c_calloc(1, d->sizeof_message);
    protobuf_c_message_init(d, list);
    const ProtobufCFieldDescriptor *fm =
        protobuf_c_message_descriptor_get_field_by_name(d, "metadata");
    const ProtobufCFieldDescriptor *fi =
        protobuf_c_message_descriptor_get_field_by_name(d, "items");
    list_meta_t *lm = k8c_malloc(sizeof(*lm));
    k8s__io__apimachinery__pkg__apis__meta__v1__list_meta__init(lm);
    lm->resourceversion = (char *)(rv ? rv : "");
    if (cont != NULL && cont[0] != '\0')
        lm->continue_ = (char *)cont;
    if (remaining > 0) {
        lm->has_remainingitemcount = true;
        lm->remainingitemcount = remaining;
    }
    *(list_meta_t **)((char *)list + fm->offset) = lm;
    *(size_t *)((char *)list + fi->quantifier_offset) = n;
    *(ProtobufCMessage ***)((char *)list + fi->offset) = items;
    return list;
}

void api_list_free(ProtobufCMessage *list)
{
    if (list == NULL)
        return;
    const ProtobufCFieldDescriptor *fm =
        protobuf_c_message_descriptor_get_field_by_name(list->descriptor, "metadata");
    k8c_free(*(list_meta_t **)((char *)list + fm->offset));
    k8c_free(list);
}

const char *api_meta_label(const api_meta_t *m, const char *key)
{
    for (size_t i = 0; m != NULL && i < m->n_labels; i++)
        if (strcmp(m->labels[i]->key, key) == 0)
            return m->labels[i]->value;
    return NULL;
}

const char *api_meta_annotation(const api_meta_t *m, const char *key)
{
    for (size_t i = 0; m != NULL && i < m->n_annotations; i++)
        if (m->annotations[i]->key != NULL && strcmp(m->annotations[i]->key, key) == 0)
            return m->annotations[i]->value != NULL ? m->annotations[i]->value : "";
    return NULL;
}

void api_meta_set_annotation(api_meta_t *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n_annotations; i++) {
        if (strcmp(m->annotations[i]->key, key) == 0) {
            api_set_str(&m->annotations[i]->value, value);
            return;
        }
    }
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta__AnnotationsEntry *e =
        k8c_malloc(sizeof(*e));
    k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__annotations_entry__init(e);
    e->key = k8c_strdup(key);
    e->value = k8c_strdup(value);
    m->annotations = k8c_realloc(m->annotations, (m->n_annotations + 1) * sizeof(*m->annotations));
    m->annotations[m->n_annotations++] = e;
}

bool api_meta_has_finalizer(const api_meta_t *m, const char *name)
{
    for (size_t i = 0; m != NULL && i < m->n_finalizers; i++)
        if (strcmp(m->finalizers[i], name) == 0)
            return true;
    return false;
}

void api_meta_add_finalizer(api_meta_t *m, const char *name)
{
    if (api_meta_has_finalizer(m, name))
        return;
    m->finalizers = k8c_realloc(m->finalizers, (m->n_finalizers + 1) * sizeof(char *));
    m->finalizers[m->n_finalizers++] = k8c_strdup(name);
}

ProtobufCMessage *api_obj_pod_template(const ProtobufCMessage *obj)
{
    static const char *const through[] = {"spec", "template", "jobTemplate", NULL};

    for (int depth = 0; obj != NULL && depth <= 5; depth++) {
        const ProtobufCMessage *next = NULL;
        if (obj->descriptor == &k8s__io__api__core__v1__pod_template_spec__descriptor)
            return (ProtobufCMessage *)obj;
        for (size_t i = 0; through[i] != NULL; i++) {
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name(obj->descriptor, through[i]);
            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                f->label != PROTOBUF_C_LABEL_REPEATED) {
                next = *(const ProtobufCMessage **)((const char *)obj + f->offset);
                break;
            }
        }
        obj = next;
    }
    return NULL;
}

ProtobufCMessage *api_obj_pod_spec(const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Core__V1__PodTemplateSpec *t;

    if (obj != NULL && obj->descriptor == &k8s__io__api__core__v1__pod__descriptor)
        return (ProtobufCMessage *)((const K8s__Io__Api__Core__V1__Pod *)obj)->spec;
    t = (const K8s__Io__Api__Core__V1__PodTemplateSpec *)api_obj_pod_template(obj);
    return t != NULL ? (ProtobufCMessage *)t->spec : NULL;
}

K8s__Io__Api__Core__V1__PodCondition *api_pod_condition(K8s__Io__Api__Core__V1__Pod *pod,
                                                        const char *type)
{
    if (pod->status == NULL) {
        pod->status = k8c_malloc(sizeof(*pod->status));
        k8s__io__api__core__v1__pod_status__init(pod->status);
    }
    for (size_t i = 0; i < pod->status->n_conditions; i++)
        if (pod->status->conditions[i]->type != NULL &&
            strcmp(pod->status->conditions[i]->type, type) == 0)
            return pod->status->conditions[i];
    K8s__Io__Api__Core__V1__PodCondition *c = k8c_malloc(sizeof(*c));
    k8s__io__api__core__v1__pod_condition__init(c);
    c->type = k8c_strdup(type);
    pod->status->conditions =
        k8c_realloc(pod->status->conditions, (pod->status->n_conditions + 1) * sizeof(c));
    pod->status->conditions[pod->status->n_conditions++] = c;
    return c;
}
