/*
 * The reflective codec (see codec.h): JSON trees <-> protobuf-c messages by walking
 * descriptors, YAML <-> JSON trees with libyaml, and the Kubernetes protobuf envelope.
 *
 * Per-descriptor facts that the walk needs on every message (fields in declaration order,
 * a hash table from JSON key to field, which fields are Go inline embeddings, whether the type
 * is one of the special Kubernetes types) are computed once per descriptor and kept in a
 * fixed-size, lock-free table keyed by descriptor address: readers never lock; a builder that
 * loses the race to publish frees its copy.
 *
 * The hot paths have faster twins that must give byte-identical results (tests/unit/
 * test_codec_equiv.c checks them against the originals): k8c_codec_json_encode writes text
 * straight from the message ("message -> JSON text") instead of building a tree, and Kubernetes
 * protobuf is decoded and encoded by the "fast wire codec" instead of protobuf-c, which stays
 * for types with features the fast codec leaves out.
 */
#define _GNU_SOURCE /* qsort_r */
#include "codec.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "alloc.h"
#include "quantity.h"

/* For the few small functions of the hot loops that the compiler would otherwise call. */
#define ALWAYS_INLINE __attribute__((always_inline))

/* ---- special types -------------------------------------------------------------------------- */

enum special {
    SP_NONE,
    SP_TIME,
    SP_MICROTIME,
    SP_DURATION,
    SP_QUANTITY,
    SP_INTORSTRING,
    SP_RAW,        /* RawExtension.raw, FieldsV1.Raw: embedded JSON */
    SP_STRINGLIST, /* Verbs, ExtraValue: repeated string items as a JSON array */
};

static const struct {
    const char *name;
    enum special sp;
} special_types[] = {
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Time", SP_TIME},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", SP_MICROTIME},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Duration", SP_DURATION},
    {"k8s.io.apimachinery.pkg.api.resource.Quantity", SP_QUANTITY},
    {"k8s.io.apimachinery.pkg.util.intstr.IntOrString", SP_INTORSTRING},
    {"k8s.io.apimachinery.pkg.runtime.RawExtension", SP_RAW},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", SP_RAW},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Verbs", SP_STRINGLIST},
    {"k8s.io.api.authentication.v1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.authentication.v1beta1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.authorization.v1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.authorization.v1beta1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.certificates.v1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.certificates.v1beta1.ExtraValue", SP_STRINGLIST},
};

#define OBJECT_META "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"

/* Go struct fields tagged `json:",inline"` (other than TypeMeta/ObjectMeta, which are not in the
 * proto schema): their message's fields appear directly in the parent JSON object. */
static const struct {
    const char *message, *field;
} inline_fields[] = {
    {"k8s.io.api.core.v1.Volume", "volumeSource"},
    {"k8s.io.api.core.v1.PersistentVolumeSpec", "persistentVolumeSource"},
    {"k8s.io.api.core.v1.Probe", "handler"},
    {"k8s.io.api.core.v1.EphemeralContainer", "ephemeralContainerCommon"},
    {"k8s.io.api.core.v1.ConfigMapEnvSource", "localObjectReference"},
    {"k8s.io.api.core.v1.SecretEnvSource", "localObjectReference"},
    {"k8s.io.api.core.v1.ConfigMapKeySelector", "localObjectReference"},
    {"k8s.io.api.core.v1.SecretKeySelector", "localObjectReference"},
    {"k8s.io.api.core.v1.ConfigMapVolumeSource", "localObjectReference"},
    {"k8s.io.api.core.v1.ConfigMapProjection", "localObjectReference"},
    {"k8s.io.api.core.v1.SecretProjection", "localObjectReference"},
    {"k8s.io.api.networking.v1.IngressRule", "ingressRuleValue"},
    {"k8s.io.api.admissionregistration.v1.RuleWithOperations", "rule"},
    {"k8s.io.api.admissionregistration.v1beta1.RuleWithOperations", "rule"},
    {"k8s.io.api.admissionregistration.v1.NamedRuleWithOperations", "ruleWithOperations"},
    {"k8s.io.api.admissionregistration.v1beta1.NamedRuleWithOperations", "ruleWithOperations"},
    {"k8s.io.api.resource.v1beta1.DeviceClaimConfiguration", "deviceConfiguration"},
    {"k8s.io.api.resource.v1beta1.DeviceClassConfiguration", "deviceConfiguration"},
    {"k8s.io.api.resource.v1beta1.DeviceAllocationConfiguration", "deviceConfiguration"},
};

bool k8c_codec_is_inline_field(const char *message, const char *field)
{
    for (size_t k = 0; k < sizeof(inline_fields) / sizeof(inline_fields[0]); k++)
        if (strcmp(message, inline_fields[k].message) == 0 &&
            strcmp(field, inline_fields[k].field) == 0)
            return true;
    return false;
}

/* ---- per-descriptor info -------------------------------------------------------------------- */

struct msg_info;

struct field_info {
    const ProtobufCFieldDescriptor *fd;
    /* The msg_info of a message field's type, filled on first use (see sub_info). */
    _Atomic(const struct msg_info *) sub;
    uint32_t name_len;   /* strlen(fd->name) */
    bool is_inline;      /* a message field whose members are flattened into the parent */
    bool is_map;         /* a repeated map-entry message */
    bool go_omitempty;   /* a Go omitempty value scalar: a zero decoded from protobuf is absent */
    bool is_creation_ts; /* ObjectMeta.creationTimestamp: written as null when unset */
    bool go_always;      /* written when unset, as an empty message or the zero value */
    bool go_null;        /* a repeated field Go writes as null when empty (a nil slice) */
    bool plain_name;     /* the name needs no JSON escaping */
    uint8_t presence;    /* PRESENT_*: how field_present decides, precomputed */
};

enum {
    PRESENT_GENERIC, /* ask field_present */
    PRESENT_PTR,     /* optional string or message: a non-NULL pointer */
    PRESENT_HAS,     /* optional scalar: its has_ flag */
    PRESENT_COUNT,   /* repeated: a non-zero count */
};

/*
 * What the fast wire codec needs of one field, packed together (the descriptors are 72 bytes a
 * field and Kubernetes messages have many fields, few of them set). Indexed like desc->fields.
 */
struct wire_field {
    uint16_t offset; /* of the member */
    /* of its has_/n_ quantifier; for a singular string or message, which has none, the member
     * again: the presence test reads 8 bytes at qoffset (4 with WF_CHK_NARROW) */
    uint16_t qoffset;
    uint8_t type;  /* ProtobufCType */
    uint8_t flags; /* WF_* */
    uint8_t es;    /* bytes of one value in the message (elem_size) */
    uint8_t key_len;
    uint8_t key[8]; /* the encoded key, in the last key_len bytes */
};

#define WF_OMIT     1u /* go_omitempty: a decoded zero value is cleared */
#define WF_REPEATED 2u
#define WF_PACKED   4u  /* PROTOBUF_C_FIELD_FLAG_PACKED: written packed */
#define WF_PACKABLE 8u  /* a scalar: a length-delimited value is read as a packed run */
#define WF_PTR      16u /* string or message: present when the pointer is not NULL */
/* Presence in one test: the 8 bytes at qoffset (a string or message pointer, a repeated
 * field's count, or the has_ flag of a scalar: an int followed by its value, whose low 4 bytes
 * only count, WF_CHK_NARROW) are not zero. */
#define WF_CHK_NARROW 64u

/* msg_info.fast: whether the fast wire codec handles every type reachable from this one. */
enum { FAST_UNKNOWN, FAST_YES, FAST_NO };

struct msg_info {
    const ProtobufCMessageDescriptor *desc;
    const struct k8c_codec_kind *kind; /* the registered kind of this type, or NULL */
    enum special sp;
    bool is_object_meta;
    bool local_fast;         /* only optional/repeated fields, no oneof, no default values */
    ProtobufCMessage *empty; /* an empty instance: the JSON of an unset Go value field */
    unsigned n_fields;
    struct field_info *fields; /* declaration order */
    unsigned hash_mask;
    int16_t *hash; /* field index or -1 */
    unsigned n_inline;
    unsigned inline_idx[4];
    const ProtobufCFieldDescriptor *f1, *f2, *f3; /* fields 1..3 of special types */
    /* wire decoding: desc->fields index by field number (max_id + 1 entries, -1 = none), or
     * NULL when the numbers are too sparse (binary search instead) */
    int16_t *by_id;
    uint32_t max_id;
    struct wire_field *wf; /* per desc->fields index */
    /* per desc->fields index: the msg_info of a message field's type, filled on first use */
    _Atomic(const struct msg_info *) *wf_sub;
    uint16_t *rep; /* desc->fields indexes of the repeated fields */
    unsigned n_rep;
    uint32_t *clear; /* desc->fields indexes that clear_go_zeros looks at */
    unsigned n_clear;
    _Atomic(int) fast; /* FAST_* for the closure of types reachable from this one */
};

#define INFO_SLOTS 16384u
static _Atomic(struct msg_info *) info_table[INFO_SLOTS];

static uint32_t hash_key(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/*
 * A cheaper hash for looking up field names: the length and the first and last four bytes.
 * Only for the per-type field tables, whose keys come from the schema: whatever keys an input
 * brings, a lookup probes at most as many slots as the type has fields. (Tables filled from
 * input, like build_dupset's, use hash_key.)
 */
static inline uint32_t field_hash(const char *s, size_t n)
{
    uint32_t a, b;

    if (n >= 4) {
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
    } else {
        a = n > 0 ? (unsigned char)s[0] : 0;
        b = n > 1 ? (uint32_t)(unsigned char)s[n - 1] << 8 | (unsigned char)s[1] : 0;
    }
    a = (a ^ (uint32_t)n) * 0x9E3779B1u;
    b = (b + a) * 0x85EBCA77u;
    return b ^ (b >> 15) ^ (a >> 13);
}

/* memcpy for the short strings that dominate Kubernetes objects, without a call: two
 * overlapping 8- or 4-byte moves cover 4..16 bytes. */
static inline void copy_small(void *dst, const void *src, size_t n)
{
    uint64_t a, b;
    uint32_t x, y;

    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        memcpy(&a, src, 8);
        memcpy(&b, (const char *)src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy((char *)dst + n - 8, &b, 8);
    } else if (n >= 4) {
        memcpy(&x, src, 4);
        memcpy(&y, (const char *)src + n - 4, 4);
        memcpy(dst, &x, 4);
        memcpy((char *)dst + n - 4, &y, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            ((char *)dst)[i] = ((const char *)src)[i];
    }
}

/* Whether n bytes at a and b are equal (short keys, without a call). */
static inline bool equal_small(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, v;
    uint32_t p, q, r, t;

    if (n > 16)
        return memcmp(a, b, n) == 0;
    if (n >= 8) {
        memcpy(&x, a, 8), memcpy(&y, b, 8);
        memcpy(&u, a + n - 8, 8), memcpy(&v, b + n - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (n >= 4) {
        memcpy(&p, a, 4), memcpy(&q, b, 4);
        memcpy(&r, a + n - 4, 4), memcpy(&t, b + n - 4, 4);
        return ((p ^ q) | (r ^ t)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static int cmp_field_offset(const void *x, const void *y)
{
    const struct field_info *a = x, *b = y;

    return a->fd->offset < b->fd->offset ? -1 : a->fd->offset > b->fd->offset;
}

bool k8c_codec_is_map_entry(const ProtobufCMessageDescriptor *d)
{
    size_t n;

    if (d == NULL || d->n_fields != 2)
        return false;
    n = strlen(d->name);
    return n > 5 && strcmp(d->name + n - 5, "Entry") == 0 && d->fields[0].id == 1 &&
           d->fields[1].id == 2 && strcmp(d->fields[0].name, "key") == 0 &&
           strcmp(d->fields[1].name, "value") == 0;
}

static size_t elem_size(const ProtobufCFieldDescriptor *fd);
static unsigned wire_type(const ProtobufCFieldDescriptor *fd);

/* The wire codec's per-field tables (by_id, wf, rep, local_fast); go_omitempty must be set. */
static void build_wire_info(struct msg_info *mi)
{
    const ProtobufCMessageDescriptor *desc = mi->desc;
    unsigned n = desc->n_fields;

    mi->wf = k8c_calloc(n ? n : 1, sizeof(struct wire_field));
    mi->wf_sub = k8c_calloc(n ? n : 1, sizeof(*mi->wf_sub));
    mi->rep = k8c_calloc(n ? n : 1, sizeof(uint16_t));
    mi->local_fast = desc->message_init != NULL && n < INT16_MAX;
    for (unsigned i = 0; i < n; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        struct wire_field *wf = &mi->wf[i];
        uint64_t key = (uint64_t)fd->id << 3 | wire_type(fd);
        uint8_t tmp[8];
        if (fd->id > mi->max_id)
            mi->max_id = fd->id;
        if ((fd->label != PROTOBUF_C_LABEL_OPTIONAL && fd->label != PROTOBUF_C_LABEL_REPEATED) ||
            (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || fd->default_value != NULL)
            mi->local_fast = false;
        if (fd->offset > UINT16_MAX || fd->quantifier_offset > UINT16_MAX)
            mi->local_fast = false;
        wf->offset = (uint16_t)fd->offset;
        wf->qoffset = (uint16_t)fd->quantifier_offset;
        wf->type = (uint8_t)fd->type;
        wf->es = (uint8_t)elem_size(fd);
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            wf->flags |= WF_REPEATED;
            mi->rep[mi->n_rep++] = (uint16_t)i;
            if (fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED) {
                wf->flags |= WF_PACKED;
                key = (uint64_t)fd->id << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
            }
        }
        if (fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_BYTES &&
            fd->type != PROTOBUF_C_TYPE_MESSAGE)
            wf->flags |= WF_PACKABLE;
        if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
            wf->flags |= WF_PTR;
        /* Presence in one test: the count of a repeated field, the pointer of a string or
         * message, else the has_ flag (an int followed by its value in the struct, so eight
         * bytes can be read there). */
        if ((wf->flags & WF_PTR) && !(wf->flags & WF_REPEATED))
            wf->qoffset = wf->offset;
        else if (!(wf->flags & WF_REPEATED))
            wf->flags |= WF_CHK_NARROW;
        if ((size_t)wf->qoffset + 8 > desc->sizeof_message)
            mi->local_fast = false;
        while (key >= 0x80) {
            tmp[wf->key_len++] = (uint8_t)(key | 0x80);
            key >>= 7;
        }
        tmp[wf->key_len++] = (uint8_t)key;
        memcpy(wf->key + 8 - wf->key_len, tmp, wf->key_len);
    }
    for (unsigned i = 0; i < mi->n_fields; i++)
        if (mi->fields[i].go_omitempty)
            mi->wf[mi->fields[i].fd - desc->fields].flags |= WF_OMIT;
    mi->clear = k8c_calloc(n ? n : 1, sizeof(uint32_t));
    for (unsigned i = 0; i < n; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        bool special = false;
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
            for (size_t k = 0; k < sizeof(special_types) / sizeof(special_types[0]); k++)
                special =
                    special || strcmp(((const ProtobufCMessageDescriptor *)fd->descriptor)->name,
                                      special_types[k].name) == 0;
        if ((mi->wf[i].flags & WF_OMIT) || (fd->type == PROTOBUF_C_TYPE_MESSAGE && !special))
            mi->clear[mi->n_clear++] = i;
    }
    if (mi->max_id <= 4 * n + 64) {
        mi->by_id = k8c_malloc((mi->max_id + 1) * sizeof(int16_t));
        memset(mi->by_id, 0xff, (mi->max_id + 1) * sizeof(int16_t));
        for (unsigned i = 0; i < n; i++)
            mi->by_id[desc->fields[i].id] = (int16_t)i;
    }
}

static bool json_plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x80 || ch == '"' || ch == '\\' || ch == '<' || ch == '>' ||
            ch == '&')
            return false;
    }
    return true;
}

static struct msg_info *build_info(const ProtobufCMessageDescriptor *desc)
{
    struct msg_info *mi = K8C_NEW(struct msg_info);
    unsigned size = 8;

    mi->desc = desc;
    mi->kind = k8c_codec_lookup_desc(desc);
    for (size_t i = 0; i < sizeof(special_types) / sizeof(special_types[0]); i++)
        if (strcmp(desc->name, special_types[i].name) == 0)
            mi->sp = special_types[i].sp;
    mi->is_object_meta = strcmp(desc->name, OBJECT_META) == 0;
    mi->f1 = protobuf_c_message_descriptor_get_field(desc, 1);
    mi->f2 = protobuf_c_message_descriptor_get_field(desc, 2);
    mi->f3 = protobuf_c_message_descriptor_get_field(desc, 3);
    mi->n_fields = desc->n_fields;
    mi->fields = k8c_calloc(desc->n_fields ? desc->n_fields : 1, sizeof(struct field_info));
    /* NULL for special types: they never appear in the generated table. */
    const char *const *kept = k8c_codec_go_zero_kept(desc->name);
    const char *const *values = k8c_codec_go_value_fields(desc->name);
    mi->empty = k8c_calloc(1, desc->sizeof_message);
    protobuf_c_message_init(desc, mi->empty);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        mi->fields[i].fd = fd;
        for (size_t k = 0; values != NULL && values[k] != NULL; k++) {
            if (strcmp(values[k], fd->name) != 0 || (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
                continue;
            mi->fields[i].go_always = fd->label == PROTOBUF_C_LABEL_OPTIONAL;
            mi->fields[i].go_null = fd->label == PROTOBUF_C_LABEL_REPEATED;
        }
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE && fd->label == PROTOBUF_C_LABEL_REPEATED)
            mi->fields[i].is_map = k8c_codec_is_map_entry(fd->descriptor);
        if (kept != NULL && mi->sp == SP_NONE && fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
            fd->type != PROTOBUF_C_TYPE_MESSAGE && !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
            mi->fields[i].go_omitempty = true;
            for (size_t k = 0; kept[k] != NULL; k++)
                if (strcmp(kept[k], fd->name) == 0)
                    mi->fields[i].go_omitempty = false;
        }
    }
    /* protobuf-c lays struct members out in declaration order, so sorting by offset recovers
     * the order of the .proto file (upstream's Go struct order). */
    qsort(mi->fields, mi->n_fields, sizeof(struct field_info), cmp_field_offset);
    for (unsigned i = 0; i < mi->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = mi->fields[i].fd;
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        if (k8c_codec_is_inline_field(desc->name, fd->name) && mi->n_inline < 4) {
            mi->fields[i].is_inline = true;
            mi->inline_idx[mi->n_inline++] = i;
        }
    }
    for (unsigned i = 0; i < mi->n_fields; i++) {
        mi->fields[i].name_len = (uint32_t)strlen(mi->fields[i].fd->name);
        mi->fields[i].plain_name = json_plain(mi->fields[i].fd->name, mi->fields[i].name_len);
        {
            const ProtobufCFieldDescriptor *fd = mi->fields[i].fd;
            if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                mi->fields[i].presence = PRESENT_GENERIC;
            else if (fd->label == PROTOBUF_C_LABEL_REPEATED)
                mi->fields[i].presence = PRESENT_COUNT;
            else if (fd->label != PROTOBUF_C_LABEL_OPTIONAL)
                mi->fields[i].presence = PRESENT_GENERIC;
            else if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
                mi->fields[i].presence = PRESENT_PTR;
            else
                mi->fields[i].presence = PRESENT_HAS;
        }
        mi->fields[i].is_creation_ts =
            mi->is_object_meta && strcmp(mi->fields[i].fd->name, "creationTimestamp") == 0;
    }
    build_wire_info(mi);
    while (size < mi->n_fields * 2)
        size *= 2;
    mi->hash_mask = size - 1;
    mi->hash = k8c_malloc(size * sizeof(int16_t));
    memset(mi->hash, 0xff, size * sizeof(int16_t));
    for (unsigned i = 0; i < mi->n_fields; i++) {
        const char *name = mi->fields[i].fd->name;
        uint32_t h = field_hash(name, strlen(name)) & mi->hash_mask;
        while (mi->hash[h] >= 0)
            h = (h + 1) & mi->hash_mask;
        mi->hash[h] = (int16_t)i;
    }
    return mi;
}

static void free_info(struct msg_info *mi)
{
    k8c_free(mi->empty);
    k8c_free(mi->fields);
    k8c_free(mi->hash);
    k8c_free(mi->by_id);
    k8c_free(mi->wf);
    k8c_free(mi->clear);
    k8c_free((void *)mi->wf_sub);
    k8c_free(mi->rep);
    k8c_free(mi);
}

static const struct msg_info *get_info(const ProtobufCMessageDescriptor *desc)
{
    uint32_t h =
        (uint32_t)(((uintptr_t)desc >> 3) * 0x9E3779B97F4A7C15ull >> 40) & (INFO_SLOTS - 1);
    struct msg_info *mi, *fresh = NULL;

    for (unsigned probes = 0; probes < INFO_SLOTS; probes++, h = (h + 1) & (INFO_SLOTS - 1)) {
        mi = atomic_load_explicit(&info_table[h], memory_order_acquire);
        if (mi != NULL) {
            if (mi->desc == desc) {
                if (fresh != NULL)
                    free_info(fresh);
                return mi;
            }
            continue;
        }
        if (fresh == NULL)
            fresh = build_info(desc);
        struct msg_info *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&info_table[h], &expected, fresh,
                                                    memory_order_acq_rel, memory_order_acquire))
            return fresh;
        if (expected->desc == desc) {
            free_info(fresh);
            return expected;
        }
    }
    /* More message types than slots: cannot happen with the Kubernetes schema (~1000 types). */
    abort();
}

/* The msg_info of the type of message field wf of mi. */
static inline const struct msg_info *wf_sub(const struct msg_info *mi, const struct wire_field *wf)
{
    size_t idx = (size_t)(wf - mi->wf);
    const struct msg_info *smi = atomic_load_explicit(&mi->wf_sub[idx], memory_order_acquire);

    if (smi == NULL) {
        smi = get_info(mi->desc->fields[idx].descriptor);
        atomic_store_explicit(&mi->wf_sub[idx], smi, memory_order_release);
    }
    return smi;
}

/* The msg_info of message field fi's type. */
static inline const struct msg_info *sub_info(const struct field_info *fi)
{
    const struct msg_info *smi =
        atomic_load_explicit(&((struct field_info *)fi)->sub, memory_order_acquire);

    if (smi == NULL) {
        smi = get_info(fi->fd->descriptor);
        atomic_store_explicit(&((struct field_info *)fi)->sub, smi, memory_order_release);
    }
    return smi;
}

/* The index of the field named key, or -1. */
static int find_field(const struct msg_info *mi, const char *key, size_t len)
{
    uint32_t h = field_hash(key, len) & mi->hash_mask;

    for (;;) {
        int idx = mi->hash[h];
        if (idx < 0)
            return -1;
        if (mi->fields[idx].name_len == len && equal_small(mi->fields[idx].fd->name, key, len))
            return idx;
        h = (h + 1) & mi->hash_mask;
    }
}

/* ---- message member access ------------------------------------------------------------------ */

#define MEMBER(msg, off) ((void *)((char *)(msg) + (off)))

static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    const void *member = MEMBER(m, fd->offset);

    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)MEMBER(m, fd->quantifier_offset) == fd->id;
    switch (fd->label) {
    case PROTOBUF_C_LABEL_REPEATED:
        return *(const size_t *)MEMBER(m, fd->quantifier_offset) > 0;
    case PROTOBUF_C_LABEL_REQUIRED:
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
            return *(void *const *)member != NULL;
        return *(const protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset);
    default: /* proto3 without presence: present when not zero */
        switch (fd->type) {
        case PROTOBUF_C_TYPE_STRING: {
            const char *s = *(const char *const *)member;
            return s != NULL && s[0] != '\0';
        }
        case PROTOBUF_C_TYPE_MESSAGE:
            return *(void *const *)member != NULL;
        case PROTOBUF_C_TYPE_BYTES:
            return ((const ProtobufCBinaryData *)member)->len > 0;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE:
            return *(const uint64_t *)member != 0;
        case PROTOBUF_C_TYPE_BOOL:
            return *(const protobuf_c_boolean *)member != 0;
        default:
            return *(const uint32_t *)member != 0;
        }
    }
}

/* field_present, with the answer's kind precomputed in fi. */
static inline bool fi_present(const ProtobufCMessage *m, const struct field_info *fi)
{
    switch (fi->presence) {
    case PRESENT_PTR:
        return *(void *const *)MEMBER(m, fi->fd->offset) != NULL;
    case PRESENT_HAS:
        return *(const protobuf_c_boolean *)MEMBER(m, fi->fd->quantifier_offset) != 0;
    case PRESENT_COUNT:
        return *(const size_t *)MEMBER(m, fi->fd->quantifier_offset) > 0;
    default:
        return field_present(m, fi->fd);
    }
}

static void mark_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)MEMBER(m, fd->quantifier_offset) = fd->id;
    else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_STRING &&
             fd->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset) = 1;
}

static size_t elem_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static void *default_alloc(void *data, size_t size)
{
    return k8c_malloc(size ? size : 1);
}

static void default_free(void *data, void *p)
{
    k8c_free(p);
}

static ProtobufCAllocator k8c_default_allocator = {default_alloc, default_free, NULL};

/*
 * The decoders' allocations: from the caller's ProtobufCAllocator, or, when that is an arena
 * (k8c_arena_protobuf_allocator), cut from chunks of the arena without a call per piece (a
 * chunk's unused tail stays in the arena). Pieces are 8-byte aligned, as k8c_arena_alloc's.
 */
struct pieces {
    ProtobufCAllocator *alloc;
    struct k8c_arena *arena; /* or NULL */
    char *bump, *bump_end;
    size_t chunk;
};

/* hint: bytes of input; decoded messages take about eight times their protobuf encoding. */
static void pieces_init(struct pieces *pc, ProtobufCAllocator *alloc, size_t hint)
{
    pc->alloc = alloc;
    pc->arena = k8c_arena_from_protobuf_allocator(alloc);
    pc->bump = pc->bump_end = NULL;
    pc->chunk = hint < 32 ? 256 : hint > 2048 ? 16384 : hint * 8;
}

static void *pieces_refill(struct pieces *pc, size_t size)
{
    if (size > pc->chunk / 4)
        return k8c_arena_alloc(pc->arena, size);
    pc->bump = k8c_arena_alloc(pc->arena, pc->chunk);
    pc->bump_end = pc->bump + pc->chunk;
    pc->bump += size;
    return pc->bump - size;
}

static inline ALWAYS_INLINE void *pieces_alloc(struct pieces *pc, size_t size)
{
    if (pc->arena != NULL) {
        size = (size + 7) & ~(size_t)7;
        if ((size_t)(pc->bump_end - pc->bump) < size)
            return pieces_refill(pc, size);
        pc->bump += size;
        return pc->bump - size;
    }
    return pc->alloc->alloc(pc->alloc->allocator_data, size);
}

static inline void pieces_free(struct pieces *pc, void *p)
{
    pc->alloc->free(pc->alloc->allocator_data, p);
}

/* ---- time and duration ---------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "2006-01-02T15:04:05Z" or with micro=true "2006-01-02T15:04:05.000000Z". */
static int format_time(char *buf, size_t size, int64_t secs, int32_t nanos, bool micro)
{
    int64_t days = secs / 86400, rem = secs % 86400, y;
    unsigned mo, d;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &mo, &d);
    if (micro)
        return snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06dZ", y, mo, d,
                        (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                        (nanos < 0 ? 0 : nanos) / 1000);
    return snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, mo, d,
                    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

int k8c_codec_format_time(char *buf, size_t size, int64_t secs, int32_t nanos, bool micro)
{
    return format_time(buf, size, secs, nanos, micro);
}

/* "2006-01-02T15:04:05Z" / "2006-01-02T15:04:05.000000Z" as format_time, without printf for
 * the usual years. */
static size_t format_time_fast(char *buf, size_t size, int64_t secs, int32_t nanos, bool micro)
{
    int64_t days = secs / 86400, rem = secs % 86400, y;
    unsigned mo, d, h, mi, s, us;
    char *p = buf;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &mo, &d);
    us = (unsigned)((nanos < 0 ? 0 : nanos) / 1000);
    if (y < 0 || y > 9999 || us > 999999 || size < 32)
        return (size_t)format_time(buf, size, secs, nanos, micro);
    h = (unsigned)(rem / 3600), mi = (unsigned)(rem / 60 % 60), s = (unsigned)(rem % 60);
    p[0] = (char)('0' + y / 1000), p[1] = (char)('0' + y / 100 % 10);
    p[2] = (char)('0' + y / 10 % 10), p[3] = (char)('0' + y % 10), p[4] = '-';
    p[5] = (char)('0' + mo / 10), p[6] = (char)('0' + mo % 10), p[7] = '-';
    p[8] = (char)('0' + d / 10), p[9] = (char)('0' + d % 10), p[10] = 'T';
    p[11] = (char)('0' + h / 10), p[12] = (char)('0' + h % 10), p[13] = ':';
    p[14] = (char)('0' + mi / 10), p[15] = (char)('0' + mi % 10), p[16] = ':';
    p[17] = (char)('0' + s / 10), p[18] = (char)('0' + s % 10);
    p += 19;
    if (micro) {
        *p++ = '.';
        for (int k = 5; k >= 0; k--) {
            p[k] = (char)('0' + us % 10);
            us /= 10;
        }
        p += 6;
    }
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - buf);
}

static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses RFC 3339 ("2006-01-02T15:04:05[.frac](Z|+07:00)"). 0 or -1. */
static int parse_time(const char *s, size_t len, int64_t *secs, int32_t *nanos)
{
    int y, mo, d, h, mi, se, ns = 0;
    size_t i = 19;

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 59)
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return -1; /* as Go's "day out of range" */
    if (s[i] == '.') {
        int nd = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) {
                ns = ns * 10 + (s[i] - '0');
                nd++;
            }
            i++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 9; nd++)
            ns *= 10;
    }
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        /* UTC */
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        int off = oh * 3600 + om * 60;
        t += s[i] == '+' ? -off : off;
    } else {
        return -1;
    }
    *secs = t;
    *nanos = ns;
    return 0;
}

/* Appends v/10^prec with trailing zeros of the fraction removed (Go's fmtFrac + fmtInt). */
static void put_frac(char *buf, size_t *n, uint64_t v, int prec)
{
    char tmp[32];
    int len = 0;
    bool printed = false;
    char frac[16];
    int fl = 0;

    for (int i = 0; i < prec; i++) {
        int digit = (int)(v % 10);
        printed = printed || digit != 0;
        if (printed)
            frac[fl++] = (char)('0' + digit);
        v /= 10;
    }
    len = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    memcpy(buf + *n, tmp, (size_t)len);
    *n += (size_t)len;
    if (fl > 0) {
        buf[(*n)++] = '.';
        while (fl > 0)
            buf[(*n)++] = frac[--fl];
    }
}

/* Go's time.Duration.String. buf >= 40 bytes. */
static size_t format_duration(char *buf, int64_t d)
{
    size_t n = 0;
    uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;

    if (d < 0)
        buf[n++] = '-';
    if (u < 1000000000ull) {
        if (u == 0) {
            memcpy(buf, "0s", 3);
            return 2;
        }
        if (u < 1000) {
            n += (size_t)sprintf(buf + n, "%" PRIu64 "ns", u);
            return n;
        }
        if (u < 1000000) {
            put_frac(buf, &n, u, 3);
            memcpy(buf + n, "\xc2\xb5s", 3);
            n += 3;
        } else {
            put_frac(buf, &n, u, 6);
            memcpy(buf + n, "ms", 2);
            n += 2;
        }
        buf[n] = '\0';
        return n;
    }
    {
        uint64_t secs_ns = u % 60000000000ull, mins = u / 60000000000ull;
        char part[64];
        size_t pn = 0;
        if (mins >= 60)
            pn += (size_t)sprintf(part + pn, "%" PRIu64 "h", mins / 60);
        if (mins > 0)
            pn += (size_t)sprintf(part + pn, "%" PRIu64 "m", mins % 60);
        memcpy(buf + n, part, pn);
        n += pn;
        put_frac(buf, &n, secs_ns, 9);
        buf[n++] = 's';
        buf[n] = '\0';
        return n;
    }
}

/* Go's time.ParseDuration. 0 or -1. */
static int parse_duration(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    bool neg = false;
    __int128 total = 0;

    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (end - p == 1 && *p == '0') {
        *out = 0;
        return 0;
    }
    if (p == end)
        return -1;
    while (p < end) {
        __int128 ip = 0, fp = 0, scale = 1;
        bool any = false;
        while (p < end && *p >= '0' && *p <= '9') {
            ip = ip * 10 + (*p++ - '0');
            any = true;
            if (ip > ((__int128)1 << 80))
                return -1;
        }
        if (p < end && *p == '.') {
            p++;
            while (p < end && *p >= '0' && *p <= '9') {
                if (scale < 1000000000000000000LL) {
                    fp = fp * 10 + (*p - '0');
                    scale *= 10;
                }
                p++;
                any = true;
            }
        }
        if (!any)
            return -1;
        const char *u = p;
        while (p < end && !(*p >= '0' && *p <= '9') && *p != '.')
            p++;
        size_t ul = (size_t)(p - u);
        int64_t unit;
        if (ul == 2 && memcmp(u, "ns", 2) == 0)
            unit = 1;
        else if ((ul == 2 && memcmp(u, "us", 2) == 0) ||
                 (ul == 3 && (memcmp(u, "\xc2\xb5s", 3) == 0 || memcmp(u, "\xce\xbcs", 3) == 0)))
            unit = 1000;
        else if (ul == 2 && memcmp(u, "ms", 2) == 0)
            unit = 1000000;
        else if (ul == 1 && *u == 's')
            unit = 1000000000LL;
        else if (ul == 1 && *u == 'm')
            unit = 60000000000LL;
        else if (ul == 1 && *u == 'h')
            unit = 3600000000000LL;
        else
            return -1;
        total += ip * unit + fp * unit / scale;
        if (total > (__int128)INT64_MAX + 1)
            return -1;
    }
    if (!neg && total > INT64_MAX)
        return -1;
    *out = neg ? (int64_t)-total : (int64_t)total;
    return 0;
}

/* ---- kinds ---------------------------------------------------------------------------------- */

/* BEGIN GENERATED KINDS (tests/integration/codec/gen_kinds.py --update) */
/* clang-format off */
#include "k8s/api/admissionregistration/v1/generated.pb-c.h"
#include "k8s/api/apidiscovery/v2/generated.pb-c.h"
#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/authentication/v1/generated.pb-c.h"
#include "k8s/api/authorization/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/certificates/v1/generated.pb-c.h"
#include "k8s/api/coordination/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/discovery/v1/generated.pb-c.h"
#include "k8s/api/events/v1/generated.pb-c.h"
#include "k8s/api/flowcontrol/v1/generated.pb-c.h"
#include "k8s/api/networking/v1/generated.pb-c.h"
#include "k8s/api/node/v1/generated.pb-c.h"
#include "k8s/api/policy/v1/generated.pb-c.h"
#include "k8s/api/rbac/v1/generated.pb-c.h"
#include "k8s/api/scheduling/v1/generated.pb-c.h"
#include "k8s/api/storage/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/k8c_table.pb-c.h"

static const struct k8c_codec_kind kinds[] = {
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", &k8s__io__api__admissionregistration__v1__mutating_webhook_configuration__descriptor},
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfigurationList", &k8s__io__api__admissionregistration__v1__mutating_webhook_configuration_list__descriptor},
    {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", &k8s__io__api__admissionregistration__v1__validating_admission_policy__descriptor},
    {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", &k8s__io__api__admissionregistration__v1__validating_admission_policy_binding__descriptor},
    {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBindingList", &k8s__io__api__admissionregistration__v1__validating_admission_policy_binding_list__descriptor},
    {"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyList", &k8s__io__api__admissionregistration__v1__validating_admission_policy_list__descriptor},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &k8s__io__api__admissionregistration__v1__validating_webhook_configuration__descriptor},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfigurationList", &k8s__io__api__admissionregistration__v1__validating_webhook_configuration_list__descriptor},
    {"apidiscovery.k8s.io/v2", "APIGroupDiscovery", &k8s__io__api__apidiscovery__v2__apigroup_discovery__descriptor},
    {"apidiscovery.k8s.io/v2", "APIGroupDiscoveryList", &k8s__io__api__apidiscovery__v2__apigroup_discovery_list__descriptor},
    {"apps/v1", "ControllerRevision", &k8s__io__api__apps__v1__controller_revision__descriptor},
    {"apps/v1", "ControllerRevisionList", &k8s__io__api__apps__v1__controller_revision_list__descriptor},
    {"apps/v1", "DaemonSet", &k8s__io__api__apps__v1__daemon_set__descriptor},
    {"apps/v1", "DaemonSetList", &k8s__io__api__apps__v1__daemon_set_list__descriptor},
    {"apps/v1", "Deployment", &k8s__io__api__apps__v1__deployment__descriptor},
    {"apps/v1", "DeploymentList", &k8s__io__api__apps__v1__deployment_list__descriptor},
    {"apps/v1", "ReplicaSet", &k8s__io__api__apps__v1__replica_set__descriptor},
    {"apps/v1", "ReplicaSetList", &k8s__io__api__apps__v1__replica_set_list__descriptor},
    {"apps/v1", "StatefulSet", &k8s__io__api__apps__v1__stateful_set__descriptor},
    {"apps/v1", "StatefulSetList", &k8s__io__api__apps__v1__stateful_set_list__descriptor},
    {"authentication.k8s.io/v1", "SelfSubjectReview", &k8s__io__api__authentication__v1__self_subject_review__descriptor},
    {"authentication.k8s.io/v1", "TokenRequest", &k8s__io__api__authentication__v1__token_request__descriptor},
    {"authentication.k8s.io/v1", "TokenReview", &k8s__io__api__authentication__v1__token_review__descriptor},
    {"authorization.k8s.io/v1", "LocalSubjectAccessReview", &k8s__io__api__authorization__v1__local_subject_access_review__descriptor},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", &k8s__io__api__authorization__v1__self_subject_access_review__descriptor},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview", &k8s__io__api__authorization__v1__self_subject_rules_review__descriptor},
    {"authorization.k8s.io/v1", "SubjectAccessReview", &k8s__io__api__authorization__v1__subject_access_review__descriptor},
    {"autoscaling/v1", "HorizontalPodAutoscaler", &k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler__descriptor},
    {"autoscaling/v1", "HorizontalPodAutoscalerList", &k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_list__descriptor},
    {"autoscaling/v1", "Scale", &k8s__io__api__autoscaling__v1__scale__descriptor},
    {"autoscaling/v2", "HorizontalPodAutoscaler", &k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor},
    {"autoscaling/v2", "HorizontalPodAutoscalerList", &k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_list__descriptor},
    {"batch/v1", "CronJob", &k8s__io__api__batch__v1__cron_job__descriptor},
    {"batch/v1", "CronJobList", &k8s__io__api__batch__v1__cron_job_list__descriptor},
    {"batch/v1", "Job", &k8s__io__api__batch__v1__job__descriptor},
    {"batch/v1", "JobList", &k8s__io__api__batch__v1__job_list__descriptor},
    {"certificates.k8s.io/v1", "CertificateSigningRequest", &k8s__io__api__certificates__v1__certificate_signing_request__descriptor},
    {"certificates.k8s.io/v1", "CertificateSigningRequestList", &k8s__io__api__certificates__v1__certificate_signing_request_list__descriptor},
    {"coordination.k8s.io/v1", "Lease", &k8s__io__api__coordination__v1__lease__descriptor},
    {"coordination.k8s.io/v1", "LeaseList", &k8s__io__api__coordination__v1__lease_list__descriptor},
    {"v1", "Binding", &k8s__io__api__core__v1__binding__descriptor},
    {"v1", "ComponentStatus", &k8s__io__api__core__v1__component_status__descriptor},
    {"v1", "ComponentStatusList", &k8s__io__api__core__v1__component_status_list__descriptor},
    {"v1", "ConfigMap", &k8s__io__api__core__v1__config_map__descriptor},
    {"v1", "ConfigMapList", &k8s__io__api__core__v1__config_map_list__descriptor},
    {"v1", "Endpoints", &k8s__io__api__core__v1__endpoints__descriptor},
    {"v1", "EndpointsList", &k8s__io__api__core__v1__endpoints_list__descriptor},
    {"v1", "Event", &k8s__io__api__core__v1__event__descriptor},
    {"v1", "EventList", &k8s__io__api__core__v1__event_list__descriptor},
    {"v1", "LimitRange", &k8s__io__api__core__v1__limit_range__descriptor},
    {"v1", "LimitRangeList", &k8s__io__api__core__v1__limit_range_list__descriptor},
    {"v1", "List", &k8s__io__api__core__v1__list__descriptor},
    {"v1", "Namespace", &k8s__io__api__core__v1__namespace__descriptor},
    {"v1", "NamespaceList", &k8s__io__api__core__v1__namespace_list__descriptor},
    {"v1", "Node", &k8s__io__api__core__v1__node__descriptor},
    {"v1", "NodeList", &k8s__io__api__core__v1__node_list__descriptor},
    {"v1", "PersistentVolume", &k8s__io__api__core__v1__persistent_volume__descriptor},
    {"v1", "PersistentVolumeClaim", &k8s__io__api__core__v1__persistent_volume_claim__descriptor},
    {"v1", "PersistentVolumeClaimList", &k8s__io__api__core__v1__persistent_volume_claim_list__descriptor},
    {"v1", "PersistentVolumeList", &k8s__io__api__core__v1__persistent_volume_list__descriptor},
    {"v1", "Pod", &k8s__io__api__core__v1__pod__descriptor},
    {"v1", "PodList", &k8s__io__api__core__v1__pod_list__descriptor},
    {"v1", "PodStatusResult", &k8s__io__api__core__v1__pod_status_result__descriptor},
    {"v1", "PodTemplate", &k8s__io__api__core__v1__pod_template__descriptor},
    {"v1", "PodTemplateList", &k8s__io__api__core__v1__pod_template_list__descriptor},
    {"v1", "RangeAllocation", &k8s__io__api__core__v1__range_allocation__descriptor},
    {"v1", "ReplicationController", &k8s__io__api__core__v1__replication_controller__descriptor},
    {"v1", "ReplicationControllerList", &k8s__io__api__core__v1__replication_controller_list__descriptor},
    {"v1", "ResourceQuota", &k8s__io__api__core__v1__resource_quota__descriptor},
    {"v1", "ResourceQuotaList", &k8s__io__api__core__v1__resource_quota_list__descriptor},
    {"v1", "Secret", &k8s__io__api__core__v1__secret__descriptor},
    {"v1", "SecretList", &k8s__io__api__core__v1__secret_list__descriptor},
    {"v1", "Service", &k8s__io__api__core__v1__service__descriptor},
    {"v1", "ServiceAccount", &k8s__io__api__core__v1__service_account__descriptor},
    {"v1", "ServiceAccountList", &k8s__io__api__core__v1__service_account_list__descriptor},
    {"v1", "ServiceList", &k8s__io__api__core__v1__service_list__descriptor},
    {"discovery.k8s.io/v1", "EndpointSlice", &k8s__io__api__discovery__v1__endpoint_slice__descriptor},
    {"discovery.k8s.io/v1", "EndpointSliceList", &k8s__io__api__discovery__v1__endpoint_slice_list__descriptor},
    {"events.k8s.io/v1", "Event", &k8s__io__api__events__v1__event__descriptor},
    {"events.k8s.io/v1", "EventList", &k8s__io__api__events__v1__event_list__descriptor},
    {"flowcontrol.apiserver.k8s.io/v1", "FlowSchema", &k8s__io__api__flowcontrol__v1__flow_schema__descriptor},
    {"flowcontrol.apiserver.k8s.io/v1", "FlowSchemaList", &k8s__io__api__flowcontrol__v1__flow_schema_list__descriptor},
    {"flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration", &k8s__io__api__flowcontrol__v1__priority_level_configuration__descriptor},
    {"flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfigurationList", &k8s__io__api__flowcontrol__v1__priority_level_configuration_list__descriptor},
    {"networking.k8s.io/v1", "Ingress", &k8s__io__api__networking__v1__ingress__descriptor},
    {"networking.k8s.io/v1", "IngressClass", &k8s__io__api__networking__v1__ingress_class__descriptor},
    {"networking.k8s.io/v1", "IngressClassList", &k8s__io__api__networking__v1__ingress_class_list__descriptor},
    {"networking.k8s.io/v1", "IngressList", &k8s__io__api__networking__v1__ingress_list__descriptor},
    {"networking.k8s.io/v1", "NetworkPolicy", &k8s__io__api__networking__v1__network_policy__descriptor},
    {"networking.k8s.io/v1", "NetworkPolicyList", &k8s__io__api__networking__v1__network_policy_list__descriptor},
    {"node.k8s.io/v1", "RuntimeClass", &k8s__io__api__node__v1__runtime_class__descriptor},
    {"node.k8s.io/v1", "RuntimeClassList", &k8s__io__api__node__v1__runtime_class_list__descriptor},
    {"policy/v1", "Eviction", &k8s__io__api__policy__v1__eviction__descriptor},
    {"policy/v1", "PodDisruptionBudget", &k8s__io__api__policy__v1__pod_disruption_budget__descriptor},
    {"policy/v1", "PodDisruptionBudgetList", &k8s__io__api__policy__v1__pod_disruption_budget_list__descriptor},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &k8s__io__api__rbac__v1__cluster_role__descriptor},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &k8s__io__api__rbac__v1__cluster_role_binding__descriptor},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBindingList", &k8s__io__api__rbac__v1__cluster_role_binding_list__descriptor},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleList", &k8s__io__api__rbac__v1__cluster_role_list__descriptor},
    {"rbac.authorization.k8s.io/v1", "Role", &k8s__io__api__rbac__v1__role__descriptor},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &k8s__io__api__rbac__v1__role_binding__descriptor},
    {"rbac.authorization.k8s.io/v1", "RoleBindingList", &k8s__io__api__rbac__v1__role_binding_list__descriptor},
    {"rbac.authorization.k8s.io/v1", "RoleList", &k8s__io__api__rbac__v1__role_list__descriptor},
    {"scheduling.k8s.io/v1", "PriorityClass", &k8s__io__api__scheduling__v1__priority_class__descriptor},
    {"scheduling.k8s.io/v1", "PriorityClassList", &k8s__io__api__scheduling__v1__priority_class_list__descriptor},
    {"storage.k8s.io/v1", "CSIDriver", &k8s__io__api__storage__v1__csidriver__descriptor},
    {"storage.k8s.io/v1", "CSIDriverList", &k8s__io__api__storage__v1__csidriver_list__descriptor},
    {"storage.k8s.io/v1", "CSINode", &k8s__io__api__storage__v1__csinode__descriptor},
    {"storage.k8s.io/v1", "CSINodeList", &k8s__io__api__storage__v1__csinode_list__descriptor},
    {"storage.k8s.io/v1", "CSIStorageCapacity", &k8s__io__api__storage__v1__csistorage_capacity__descriptor},
    {"storage.k8s.io/v1", "CSIStorageCapacityList", &k8s__io__api__storage__v1__csistorage_capacity_list__descriptor},
    {"storage.k8s.io/v1", "StorageClass", &k8s__io__api__storage__v1__storage_class__descriptor},
    {"storage.k8s.io/v1", "StorageClassList", &k8s__io__api__storage__v1__storage_class_list__descriptor},
    {"storage.k8s.io/v1", "VolumeAttachment", &k8s__io__api__storage__v1__volume_attachment__descriptor},
    {"storage.k8s.io/v1", "VolumeAttachmentList", &k8s__io__api__storage__v1__volume_attachment_list__descriptor},
    {"v1", "Status", &k8s__io__apimachinery__pkg__apis__meta__v1__status__descriptor},
    {"v1", "List", &k8s__io__apimachinery__pkg__apis__meta__v1__list__descriptor},
    {"v1", "APIGroup", &k8s__io__apimachinery__pkg__apis__meta__v1__apigroup__descriptor},
    {"v1", "APIGroupList", &k8s__io__apimachinery__pkg__apis__meta__v1__apigroup_list__descriptor},
    {"v1", "APIResourceList", &k8s__io__apimachinery__pkg__apis__meta__v1__apiresource_list__descriptor},
    {"v1", "APIVersions", &k8s__io__apimachinery__pkg__apis__meta__v1__apiversions__descriptor},
    {"meta.k8s.io/v1", "Table", &k8s__io__apimachinery__pkg__apis__meta__v1__table__descriptor},
    {"meta.k8s.io/v1", "PartialObjectMetadata", &k8s__io__apimachinery__pkg__apis__meta__v1__partial_object_metadata__descriptor},
    {"meta.k8s.io/v1", "PartialObjectMetadataList", &k8s__io__apimachinery__pkg__apis__meta__v1__partial_object_metadata_list__descriptor},
    {"meta.k8s.io/v1", "DeleteOptions", &k8s__io__apimachinery__pkg__apis__meta__v1__delete_options__descriptor},
    {"meta.k8s.io/v1", "WatchEvent", &k8s__io__apimachinery__pkg__apis__meta__v1__watch_event__descriptor},
};
/* clang-format on */
/* END GENERATED KINDS */

static const size_t n_kinds = sizeof(kinds) / sizeof(kinds[0]);

const struct k8c_codec_kind *k8c_codec_kinds(size_t *n)
{
    *n = n_kinds;
    return kinds;
}

const struct k8c_codec_kind *k8c_codec_lookup_kind(const char *api_version, const char *kind)
{
    if (api_version == NULL || kind == NULL)
        return NULL;
    for (size_t i = 0; i < n_kinds; i++)
        if (kinds[i].desc != NULL && strcmp(kinds[i].kind, kind) == 0 &&
            strcmp(kinds[i].api_version, api_version) == 0)
            return &kinds[i];
    return NULL;
}

const struct k8c_codec_kind *k8c_codec_lookup_desc(const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < n_kinds; i++)
        if (kinds[i].desc == desc)
            return &kinds[i];
    return NULL;
}

/* ---- diagnostics ---------------------------------------------------------------------------- */

void k8c_codec_diag_init(struct k8c_codec_diag *d)
{
    memset(d, 0, sizeof(*d));
}

void k8c_codec_diag_free(struct k8c_codec_diag *d)
{
    bool ignore = d->ignore_fields;
    int errors = d->errors;

    for (size_t i = 0; i < d->n_warnings; i++)
        k8c_free(d->warnings[i]);
    k8c_free(d->warnings);
    memset(d, 0, sizeof(*d));
    d->ignore_fields = ignore;
    d->errors = errors;
}

/* ---- tree -> message ------------------------------------------------------------------------ */

#define PATH_MAX_LEN 1024
#define PATH_SEGS    256 /* JSON nesting is bounded by K8C_CODEC_MAX_DEPTH */

/*
 * The JSON path of the value being decoded ("spec.containers[0].name") is only needed for a
 * warning or an error, so it is kept as a stack of segments and spelled out on demand, with the
 * rules the old incremental buffer had (a segment that would not fit in PATH_MAX_LEN is left
 * out).
 */
struct path_seg {
    const char *key; /* NULL: an index */
    size_t len;      /* key bytes, or the index */
    /* a field's: the message it is a field of (Go's errorContext.Struct); NULL: a map key */
    const ProtobufCMessageDescriptor *owner;
};

struct dec {
    ProtobufCAllocator *alloc;
    struct pieces pieces;
    struct k8c_codec_diag *d;
    unsigned depth;
    size_t n_segs;
    struct path_seg segs[PATH_SEGS];
    char path[PATH_MAX_LEN]; /* spelled out by path_render */
};

static inline size_t path_push_field(struct dec *c, const char *name, size_t len,
                                     const ProtobufCMessageDescriptor *owner)
{
    size_t saved = c->n_segs;

    if (c->n_segs < PATH_SEGS) {
        c->segs[c->n_segs].key = name;
        c->segs[c->n_segs].owner = owner;
        c->segs[c->n_segs++].len = len;
    }
    return saved;
}

static inline size_t path_push_index(struct dec *c, size_t i)
{
    size_t saved = c->n_segs;

    if (c->n_segs < PATH_SEGS) {
        c->segs[c->n_segs].key = NULL;
        c->segs[c->n_segs].owner = NULL;
        c->segs[c->n_segs++].len = i;
    }
    return saved;
}

static inline void path_pop(struct dec *c, size_t saved)
{
    c->n_segs = saved;
}

/* Spells out the path in c->path; returns its length. */
static size_t path_render(struct dec *c)
{
    size_t plen = 0;

    for (size_t k = 0; k < c->n_segs; k++) {
        const struct path_seg *sg = &c->segs[k];
        if (sg->key != NULL) {
            if (plen + sg->len + 2 < PATH_MAX_LEN) {
                if (plen > 0)
                    c->path[plen++] = '.';
                memcpy(c->path + plen, sg->key, sg->len);
                plen += sg->len;
            }
        } else if (plen + 24 < PATH_MAX_LEN) {
            plen += (size_t)snprintf(c->path + plen, 24, "[%zu]", sg->len);
        }
    }
    c->path[plen] = '\0';
    return plen;
}

static void warn_field(struct dec *c, const char *what, const char *key, size_t key_len)
{
    struct k8c_codec_diag *d = c->d;
    size_t saved, plen;
    char *msg;
    size_t n;

    if (d->ignore_fields || d->n_warnings >= K8C_CODEC_MAX_WARNINGS)
        return;
    saved = path_push_field(c, key, key_len, NULL);
    plen = path_render(c);
    n = strlen(what) + plen + 16;
    msg = k8c_malloc(n);
    snprintf(msg, n, "%s field \"%s\"", what, c->path);
    path_pop(c, saved);
    d->warnings = k8c_realloc(d->warnings, (d->n_warnings + 1) * sizeof(char *));
    d->warnings[d->n_warnings++] = msg;
}

static int dec_fail(struct dec *c, const char *fmt, const char *a1, const char *a2)
{
    char what[160];

    size_t plen = path_render(c);

    snprintf(what, sizeof(what), fmt, a1, a2);
    k8c_errmsg_printf(c->d->errmsg, "%s%s%s", plen ? c->path : "", plen ? ": " : "", what);
    return K8C_EINVAL;
}

static const char *json_kind_name(const struct k8c_json *v)
{
    return k8c_json_type_name((enum k8c_json_type)v->type);
}

/* ---- errors as Go's encoding/json words them (k8c_codec_diag.errors) ---- */

/* reflect's name of the Go type of message d: "v1.PodSpec", "resource.Quantity". */
static void go_msg_type(struct k8c_sbuf *out, const ProtobufCMessageDescriptor *d)
{
    const char *pkg = d->package_name ? d->package_name : "";
    const char *dot = strrchr(pkg, '.');

    k8c_sbuf_printf(out, "%s%s%s", dot ? dot + 1 : pkg, *pkg ? "." : "", d->short_name);
}

/* The Go type of one value of fd ("int32", "v1.Container"), or with whole of the field itself
 * ("[]v1.Container", "map[string]string"): Go's generated types follow the proto's. */
static void go_field_type(struct k8c_sbuf *out, const ProtobufCFieldDescriptor *fd, bool is_map,
                          bool whole)
{
    if (whole && fd->label == PROTOBUF_C_LABEL_REPEATED) {
        if (is_map) {
            const ProtobufCMessageDescriptor *ed = fd->descriptor;
            k8c_sbuf_puts(out, "map[");
            go_field_type(out, &ed->fields[0], false, false);
            k8c_sbuf_puts(out, "]");
            go_field_type(out, &ed->fields[1], false, false);
            return;
        }
        k8c_sbuf_puts(out, "[]");
    }
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        k8c_sbuf_puts(out, "int32");
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        k8c_sbuf_puts(out, "uint32");
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        k8c_sbuf_puts(out, "int64");
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        k8c_sbuf_puts(out, "uint64");
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        k8c_sbuf_puts(out, "float32");
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        k8c_sbuf_puts(out, "float64");
        break;
    case PROTOBUF_C_TYPE_BOOL:
        k8c_sbuf_puts(out, "bool");
        break;
    case PROTOBUF_C_TYPE_BYTES:
        k8c_sbuf_puts(out, "[]uint8");
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        go_msg_type(out, fd->descriptor);
        break;
    default: /* strings, and enums (Go's typed strings) */
        k8c_sbuf_puts(out, "string");
        break;
    }
}

/* Go's UnmarshalTypeError for value v, whose Go type type is: "json: cannot unmarshal number
 * into Go struct field EnvVar.spec.containers.env.value of type string", the struct being the
 * innermost one whose field is being decoded and the field its JSON path without indexes and
 * map keys (errorContext); at the top, or with no context (a Go type's UnmarshalJSON decoding
 * a value alone, as the unstructured converter calls it), "into Go value of type T". A number
 * that does not fit an integer is named with its text ("number 1.5"). Frees type. */
static int go_type_fail(struct dec *c, const struct k8c_json *v, bool with_literal,
                        struct k8c_sbuf *type, bool context)
{
    struct k8c_sbuf field;
    const ProtobufCMessageDescriptor *owner = NULL;
    char value[48];

    k8c_sbuf_init(&field);
    for (size_t k = 0; k < c->n_segs && context; k++) {
        const struct path_seg *sg = &c->segs[k];
        if (sg->key == NULL || sg->owner == NULL)
            continue;
        k8c_sbuf_printf(&field, "%s%.*s", field.len ? "." : "", (int)sg->len, sg->key);
        owner = sg->owner;
    }
    if (v->type == K8C_JSON_NUMBER && with_literal)
        snprintf(value, sizeof(value), "number %.32s", v->u.str ? v->u.str : "");
    else
        snprintf(value, sizeof(value), "%s",
                 v->type == K8C_JSON_STRING   ? "string"
                 : v->type == K8C_JSON_NUMBER ? "number"
                 : v->type == K8C_JSON_BOOL   ? "bool"
                 : v->type == K8C_JSON_ARRAY  ? "array"
                                              : "object");
    if (owner != NULL)
        k8c_errmsg_printf(c->d->errmsg,
                          "json: cannot unmarshal %s into Go struct field %s.%.120s of type %s",
                          value, owner->short_name, field.data, type->data);
    else
        k8c_errmsg_printf(c->d->errmsg, "json: cannot unmarshal %s into Go value of type %s", value,
                          type->data);
    k8c_sbuf_free(&field);
    k8c_sbuf_free(type);
    return K8C_EINVAL;
}

/* The reflect.Kind of the Go value the unstructured converter holds for v (JSON numbers decoded
 * preserving integers: int64, else float64). */
static const char *go_unstructured_kind(const struct k8c_json *v)
{
    int64_t i;

    switch (v->type) {
    case K8C_JSON_STRING:
        return "string";
    case K8C_JSON_BOOL:
        return "bool";
    case K8C_JSON_NUMBER:
        return k8c_json_get_int64(v, &i) == 0 ? "int64" : "float64";
    case K8C_JSON_ARRAY:
        return "slice";
    default:
        return "map";
    }
}

/* A value error worded as the unstructured converter's fromUnstructured: to a scalar of Go
 * type dst, "cannot convert int64 to string" where Go converts the kinds, else "unrecognized
 * type: int32"; to a struct, slice or map, "cannot restore struct from: string". */
static int converter_fail(struct dec *c, const struct k8c_json *v, const char *dst, char what)
{
    const char *src = go_unstructured_kind(v);

    if (what == 's')
        k8c_errmsg_printf(c->d->errmsg, "cannot restore struct from: %s", src);
    else if (what == 'l')
        k8c_errmsg_printf(c->d->errmsg, "cannot restore slice from %s", src);
    else if (what == 'm')
        k8c_errmsg_printf(c->d->errmsg, "cannot restore map from %s", src);
    else if ((strcmp(src, "int64") == 0 && strcmp(dst, "string") == 0) ||
             (strcmp(src, "float64") == 0 && strncmp(dst, "int", 3) == 0))
        k8c_errmsg_printf(c->d->errmsg, "cannot convert %s to %s", src, dst);
    else
        k8c_errmsg_printf(c->d->errmsg, "unrecognized type: %s", dst);
    return K8C_EINVAL;
}

/* The codec's own wording: "expected integer, got string"; with range_of, a number that does
 * not fit that type. */
static int own_fail(struct dec *c, const struct k8c_json *v, const char *expected,
                    const char *range_of)
{
    if (range_of != NULL && v->type == K8C_JSON_NUMBER)
        return dec_fail(c, "value %s out of range for %s", v->u.str, range_of);
    return dec_fail(c, "expected %s, got %s", expected, json_kind_name(v));
}

/* v is not what one value of fd takes ("integer", "string"...: the codec's own wording). */
static int scalar_fail(struct dec *c, const ProtobufCFieldDescriptor *fd, const struct k8c_json *v,
                       const char *expected, bool with_literal)
{
    struct k8c_sbuf t;

    if (c->d->errors == K8C_CODEC_ERRORS_OWN)
        return own_fail(c, v, expected, with_literal ? expected : NULL);
    k8c_sbuf_init(&t);
    go_field_type(&t, fd, false, false);
    if (c->d->errors == K8C_CODEC_ERRORS_GO_JSON)
        return go_type_fail(c, v, with_literal, &t, true);
    int rc = fd->type == PROTOBUF_C_TYPE_BYTES ? converter_fail(c, v, t.data, 'l')
                                               : converter_fail(c, v, t.data, 0);
    k8c_sbuf_free(&t);
    return rc;
}

/* v is not the object (expected: or array) that a message of type d is. */
static int message_fail(struct dec *c, const ProtobufCMessageDescriptor *d,
                        const struct k8c_json *v, const char *expected)
{
    struct k8c_sbuf t;

    if (c->d->errors == K8C_CODEC_ERRORS_OWN)
        return own_fail(c, v, expected, NULL);
    if (c->d->errors == K8C_CODEC_ERRORS_GO_CONVERTER)
        return converter_fail(c, v, NULL, strcmp(expected, "array") == 0 ? 'l' : 's');
    k8c_sbuf_init(&t);
    go_msg_type(&t, d);
    return go_type_fail(c, v, false, &t, true);
}

/* v is not the array or object that repeated field fd (a map with is_map) is. */
static int field_fail(struct dec *c, const ProtobufCFieldDescriptor *fd, bool is_map,
                      const struct k8c_json *v)
{
    struct k8c_sbuf t;

    if (c->d->errors == K8C_CODEC_ERRORS_OWN)
        return own_fail(c, v, is_map ? "object" : "array", NULL);
    if (c->d->errors == K8C_CODEC_ERRORS_GO_CONVERTER)
        return converter_fail(c, v, NULL, is_map ? 'm' : 'l');
    k8c_sbuf_init(&t);
    go_field_type(&t, fd, is_map, true);
    return go_type_fail(c, v, false, &t, true);
}

/* v is not what a special type's UnmarshalJSON decodes it as (Go type name: Time decodes a
 * string first, IntOrString anything but a string as an int32). The converter calls
 * UnmarshalJSON on the value alone: no struct field in the message. */
static int named_fail(struct dec *c, const struct k8c_json *v, const char *expected,
                      const char *name, bool with_literal)
{
    struct k8c_sbuf t;

    if (c->d->errors == K8C_CODEC_ERRORS_OWN)
        return own_fail(c, v, expected, with_literal ? name : NULL);
    k8c_sbuf_init(&t);
    k8c_sbuf_puts(&t, name);
    return go_type_fail(c, v, with_literal, &t, c->d->errors == K8C_CODEC_ERRORS_GO_JSON);
}

/* An error a Go type's UnmarshalJSON returns as is: Go adds no path to it. */
static int plain_fail(struct dec *c, const char *msg)
{
    if (c->d->errors == K8C_CODEC_ERRORS_OWN)
        return dec_fail(c, "%s%s", msg, "");
    k8c_errmsg_printf(c->d->errmsg, "%s%s",
                      c->d->errors == K8C_CODEC_ERRORS_GO_CONVERTER &&
                              strncmp(msg, "illegal base64", 14) == 0
                          ? "error decoding from json: "
                          : "",
                      msg);
    return K8C_EINVAL;
}

static inline ALWAYS_INLINE void *dec_alloc(struct dec *c, size_t size)
{
    return pieces_alloc(&c->pieces, size ? size : 1);
}

static ProtobufCMessage *dec_new(struct dec *c, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = dec_alloc(c, d->sizeof_message);

    d->message_init(m);
    return m;
}

static char *dup_string(struct dec *c, const char *s, size_t len)
{
    char *p = dec_alloc(c, len + 1);

    copy_small(p, s, len);
    p[len] = '\0';
    return p;
}

static int dec_message_into(struct dec *c, const struct msg_info *mi, const struct k8c_json *v,
                            ProtobufCMessage *m, bool top);

/* Decodes a scalar (non-message) JSON value into dst, the storage of one value of fd. */
static int dec_scalar(struct dec *c, const ProtobufCFieldDescriptor *fd, const struct k8c_json *v,
                      void *dst)
{
    int64_t i64;
    uint64_t u64;
    double dbl;

    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (v->type != K8C_JSON_NUMBER)
            return scalar_fail(c, fd, v, "integer", false);
        if (k8c_json_get_int64(v, &i64) != 0 || i64 < INT32_MIN || i64 > INT32_MAX)
            return scalar_fail(c, fd, v, "int32", true);
        *(int32_t *)dst = (int32_t)i64;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (v->type != K8C_JSON_NUMBER)
            return scalar_fail(c, fd, v, "integer", false);
        if (k8c_json_get_uint64(v, &u64) != 0 || u64 > UINT32_MAX)
            return scalar_fail(c, fd, v, "uint32", true);
        *(uint32_t *)dst = (uint32_t)u64;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (v->type != K8C_JSON_NUMBER)
            return scalar_fail(c, fd, v, "integer", false);
        if (k8c_json_get_int64(v, &i64) != 0)
            return scalar_fail(c, fd, v, "int64", true);
        *(int64_t *)dst = i64;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (v->type != K8C_JSON_NUMBER)
            return scalar_fail(c, fd, v, "integer", false);
        if (k8c_json_get_uint64(v, &u64) != 0)
            return scalar_fail(c, fd, v, "uint64", true);
        *(uint64_t *)dst = u64;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (v->type != K8C_JSON_NUMBER)
            return scalar_fail(c, fd, v, "number", false);
        if (k8c_json_get_double(v, &dbl) != 0)
            return scalar_fail(c, fd, v, "a float", true);
        if (fd->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)dst = (float)dbl;
        else
            *(double *)dst = dbl;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (v->type != K8C_JSON_BOOL)
            return scalar_fail(c, fd, v, "boolean", false);
        *(protobuf_c_boolean *)dst = v->boolean;
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = fd->descriptor;
        if (v->type == K8C_JSON_STRING) {
            const ProtobufCEnumValue *ev =
                protobuf_c_enum_descriptor_get_value_by_name(ed, v->u.str);
            if (ev == NULL)
                return dec_fail(c, "unknown enum value \"%s\"%s", v->u.str, "");
            *(int *)dst = ev->value;
            return 0;
        }
        if (v->type == K8C_JSON_NUMBER && k8c_json_get_int64(v, &i64) == 0 && i64 >= INT32_MIN &&
            i64 <= INT32_MAX) {
            *(int *)dst = (int)i64;
            return 0;
        }
        return scalar_fail(c, fd, v, "string", false);
    }
    case PROTOBUF_C_TYPE_STRING:
        if (v->type == K8C_JSON_STRING ||
            ((v->flags & K8C_JSON_F_PLAIN) && v->type != K8C_JSON_NULL && v->u.str != NULL)) {
            if (memchr(v->u.str, '\0', v->len) != NULL) /* a C string would end there */
                return dec_fail(c, "%s%s", K8C_CODEC_NUL_STRING, "");
            *(char **)dst = dup_string(c, v->u.str, v->len);
            return 0;
        }
        return scalar_fail(c, fd, v, "string", false);
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = dst;
        long n;
        if (v->type != K8C_JSON_STRING)
            return scalar_fail(c, fd, v, "base64 string", false);
        size_t bad = 0;
        bd->data = dec_alloc(c, v->len / 4 * 3 + 1);
        n = k8c_base64_decode_at(bd->data, v->u.str, v->len, &bad);
        if (n < 0) {
            char msg[64];
            bd->len = 0;
            snprintf(msg, sizeof(msg), "illegal base64 data at input byte %zu", bad);
            return plain_fail(c, msg);
        }
        bd->len = (size_t)n;
        return 0;
    }
    default:
        return dec_fail(c, "unsupported field type%s%s", "", "");
    }
}

static int set_string_field(struct dec *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                            const char *s, size_t len)
{
    if (fd == NULL || fd->type != PROTOBUF_C_TYPE_STRING || fd->label == PROTOBUF_C_LABEL_REPEATED)
        return dec_fail(c, "schema mismatch for special type%s%s", "", "");
    *(char **)MEMBER(m, fd->offset) = dup_string(c, s, len);
    mark_present(m, fd);
    return 0;
}

static int set_int_field(struct dec *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                         int64_t v)
{
    if (fd == NULL || fd->label == PROTOBUF_C_LABEL_REPEATED)
        return dec_fail(c, "schema mismatch for special type%s%s", "", "");
    if (elem_size(fd) == 8)
        *(int64_t *)MEMBER(m, fd->offset) = v;
    else
        *(int32_t *)MEMBER(m, fd->offset) = (int32_t)v;
    mark_present(m, fd);
    return 0;
}

/* Go's time.quote: in double quotes, " and \\ escaped, bytes outside printable ASCII as \\xNN. */
static void go_time_quote(struct k8c_sbuf *out, const char *s, size_t len)
{
    k8c_sbuf_putc(out, '"');
    for (size_t i = 0; i < len && out->len < 160; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < ' ' || ch >= 0x7f)
            k8c_sbuf_printf(out, "\\x%02x", ch);
        else if (ch == '"' || ch == '\\')
            k8c_sbuf_printf(out, "\\%c", ch);
        else
            k8c_sbuf_putc(out, (char)ch);
    }
    k8c_sbuf_putc(out, '"');
}

/* Go's getnum: one or two digits (exactly two when fixed) at *v; -1 when there are none. */
static int go_time_num(const char **v, const char *end, bool fixed)
{
    const char *p = *v;
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    if (p + 1 >= end || p[1] < '0' || p[1] > '9') {
        if (fixed)
            return -1;
        *v = p + 1;
        return *p - '0';
    }
    *v = p + 2;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * The error Go's time.Parse gives for a value that is not RFC 3339 (Time) or RFC 3339 with
 * microseconds (MicroTime), as their UnmarshalJSON returns it: "parsing time \"x\" as
 * \"2006-01-02T15:04:05Z07:00\": cannot parse \"x\" as \"2006\"", "...: month out of range",
 * "...: extra text: ...". The layout is walked element by element as Parse does. False when Go
 * would take the value (msg untouched).
 */
static bool go_time_error(const char *value, size_t len, bool micro, char *msg, size_t size)
{
    static const char *const elems[][2] = {{"", "2006"},    {"-", "01"},   {"-", "02"},
                                           {"T", "15"},     {":", "04"},   {":", "05"},
                                           {"", ".000000"}, {"", "Z07:00"}};
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *layout = micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00";
    const char *v = value, *end = value + len, *elem = NULL, *hold = NULL, *range = NULL;
    int year = 0, month = 0, day = 0, n;
    for (size_t e = 0; e < sizeof(elems) / sizeof(elems[0]) && elem == NULL && range == NULL; e++) {
        const char *prefix = elems[e][0], *std = elems[e][1];
        if (!micro && std[0] == '.')
            continue;
        for (const char *p = prefix; *p != '\0'; p++, v++) {
            if (v >= end || *v != *p) {
                elem = prefix, hold = v;
                break;
            }
        }
        if (elem != NULL)
            break;
        hold = v;
        if (strcmp(std, "2006") == 0) {
            year = 0;
            for (n = 0; n < 4 && v + n < end && v[n] >= '0' && v[n] <= '9'; n++)
                year = year * 10 + (v[n] - '0');
            if (n < 4)
                elem = std;
            else
                v += 4;
        } else if (strcmp(std, "01") == 0) {
            if ((month = go_time_num(&v, end, true)) < 0)
                elem = std;
            else if (month < 1 || month > 12)
                range = "month";
        } else if (strcmp(std, "02") == 0) {
            if ((day = go_time_num(&v, end, true)) < 0)
                elem = std;
        } else if (strcmp(std, "15") == 0) {
            if ((n = go_time_num(&v, end, false)) < 0)
                elem = std;
            else if (n >= 24)
                range = "hour";
        } else if (strcmp(std, "04") == 0 || strcmp(std, "05") == 0) {
            if ((n = go_time_num(&v, end, true)) < 0)
                elem = std;
            else if (n >= 60)
                range = std[1] == '4' ? "minute" : "second";
            else if (std[1] == '5' && !micro && end - v >= 2 && (*v == '.' || *v == ',') &&
                     v[1] >= '0' && v[1] <= '9')
                for (v += 2; v < end && *v >= '0' && *v <= '9'; v++)
                    ; /* a fraction the layout does not name is taken */
        } else if (std[0] == '.') {
            bool ok = end - v >= 7 && (*v == '.' || *v == ',');
            for (n = 1; ok && n < 7; n++)
                ok = v[n] >= '0' && v[n] <= '9';
            if (ok)
                v += 7;
            else
                elem = std;
        } else { /* Z07:00 */
            if (v < end && *v == 'Z') {
                v++;
            } else if (end - v < 6 || v[3] != ':' || (*v != '+' && *v != '-')) {
                elem = std;
            } else {
                const char *h = v + 1, *m = v + 4;
                int hr = go_time_num(&h, end, true), mn = go_time_num(&m, end, true);
                if (hr < 0 || mn < 0)
                    elem = std;
                else if (hr > 24)
                    range = "time zone offset hour";
                else if (mn > 60)
                    range = "time zone offset minute";
                else
                    v += 6;
            }
        }
    }
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    k8c_sbuf_puts(&out, "parsing time ");
    go_time_quote(&out, value, len);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (elem != NULL) {
        k8c_sbuf_printf(&out, " as \"%s\": cannot parse ", layout);
        go_time_quote(&out, hold, (size_t)(end - hold));
        k8c_sbuf_printf(&out, " as \"%s\"", elem);
    } else if (range != NULL) {
        k8c_sbuf_printf(&out, ": %s out of range", range);
    } else if (v < end) {
        k8c_sbuf_puts(&out, ": extra text: ");
        go_time_quote(&out, v, (size_t)(end - v));
    } else if (day < 1 || day > days[month - 1] + (month == 2 && leap)) {
        k8c_sbuf_puts(&out, ": day out of range");
    } else {
        k8c_sbuf_free(&out);
        return false;
    }
    snprintf(msg, size, "%s", out.data);
    k8c_sbuf_free(&out);
    return true;
}

/* Decodes a JSON value into message m of a special type. */
static int dec_special(struct dec *c, const struct msg_info *mi, const struct k8c_json *v,
                       ProtobufCMessage *m)
{
    switch (mi->sp) {
    case SP_TIME:
    case SP_MICROTIME: {
        int64_t secs;
        int32_t nanos;
        if (v->type != K8C_JSON_STRING) /* Time.UnmarshalJSON decodes a string first */
            return named_fail(c, v, "RFC 3339 time string", "string", false);
        if (parse_time(v->u.str, v->len, &secs, &nanos) != 0) {
            char msg[K8C_ERRMSG_SIZE];
            if (c->d->errors != K8C_CODEC_ERRORS_OWN &&
                go_time_error(v->u.str, v->len, mi->sp == SP_MICROTIME, msg, sizeof(msg)))
                return plain_fail(c, msg);
            return dec_fail(c, "parsing time \"%s\" as RFC 3339%s", v->u.str, "");
        }
        if (set_int_field(c, m, mi->f1, secs) != 0)
            return K8C_EINVAL;
        /* Time keeps seconds only, as upstream's JSON does; MicroTime keeps microseconds. */
        if (mi->sp == SP_MICROTIME && nanos / 1000 != 0)
            return set_int_field(c, m, mi->f2, nanos / 1000 * 1000);
        return 0;
    }
    case SP_DURATION: {
        int64_t ns;
        if (v->type != K8C_JSON_STRING)
            return named_fail(c, v, "duration string", "string", false);
        if (parse_duration(v->u.str, v->len, &ns) != 0)
            return dec_fail(c, "invalid duration \"%s\"%s", v->u.str, "");
        return set_int_field(c, m, mi->f1, ns);
    }
    case SP_QUANTITY: {
        char canon[K8C_QUANTITY_STR_MAX];
        static const char bad_quantity[] = "quantities must match the regular expression "
                                           "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        /* Quantity.UnmarshalJSON parses any other JSON text as a quantity, and fails */
        if (v->type != K8C_JSON_STRING && v->type != K8C_JSON_NUMBER)
            return c->d->errors != K8C_CODEC_ERRORS_OWN
                       ? plain_fail(c, bad_quantity)
                       : dec_fail(c, "expected quantity string, got %s%s", json_kind_name(v), "");
        if (k8c_quantity_canonicalize(v->u.str, v->len, canon) != 0)
            return plain_fail(c, bad_quantity);
        return set_string_field(c, m, mi->f1, canon, strlen(canon));
    }
    case SP_INTORSTRING:
        if (v->type == K8C_JSON_STRING) {
            if (set_int_field(c, m, mi->f1, 1) != 0)
                return K8C_EINVAL;
            return set_string_field(c, m, mi->f3, v->u.str, v->len);
        }
        if (v->type == K8C_JSON_NUMBER) {
            int64_t i;
            if (k8c_json_get_int64(v, &i) != 0 || i < INT32_MIN || i > INT32_MAX)
                return named_fail(c, v, "integer or string", "int32", true);
            if (set_int_field(c, m, mi->f1, 0) != 0)
                return K8C_EINVAL;
            return set_int_field(c, m, mi->f2, i);
        }
        /* IntOrString.UnmarshalJSON decodes anything but a string as an int32 */
        return named_fail(c, v, "integer or string", "int32", false);
    case SP_RAW: {
        struct k8c_sbuf sb;
        const ProtobufCFieldDescriptor *fd = mi->f1;
        ProtobufCBinaryData *bd;
        if (fd == NULL || fd->type != PROTOBUF_C_TYPE_BYTES)
            return dec_fail(c, "schema mismatch for raw JSON%s%s", "", "");
        k8c_sbuf_init(&sb);
        k8c_json_write(&sb, v, 0, K8C_JSON_W_NO_HTML_ESCAPE);
        bd = MEMBER(m, fd->offset);
        bd->data = dec_alloc(c, sb.len ? sb.len : 1);
        memcpy(bd->data, sb.data, sb.len);
        bd->len = sb.len;
        mark_present(m, fd);
        k8c_sbuf_free(&sb);
        return 0;
    }
    case SP_STRINGLIST: {
        const ProtobufCFieldDescriptor *fd = mi->f1;
        if (fd == NULL || fd->type != PROTOBUF_C_TYPE_STRING ||
            fd->label != PROTOBUF_C_LABEL_REPEATED)
            return dec_fail(c, "schema mismatch for string list%s%s", "", "");
        if (v->type != K8C_JSON_ARRAY)
            return message_fail(c, mi->desc, v, "array");
        char **arr = dec_alloc(c, (v->len ? v->len : 1) * sizeof(char *));
        *(char ***)MEMBER(m, fd->offset) = arr;
        for (uint32_t i = 0; i < v->len; i++) {
            size_t saved = path_push_index(c, i);
            int rc = dec_scalar(c, fd, v->u.items[i], &arr[i]);
            path_pop(c, saved);
            if (rc != 0)
                return rc;
            *(size_t *)MEMBER(m, fd->quantifier_offset) = i + 1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* Decodes v into a new message of type desc (*out). */
static int dec_new_message(struct dec *c, const struct msg_info *mi, const struct k8c_json *v,
                           ProtobufCMessage **out)
{
    *out = dec_new(c, mi->desc);
    if (mi->sp != SP_NONE)
        return dec_special(c, mi, v, *out);
    return dec_message_into(c, mi, v, *out, false);
}

/*
 * Duplicate map keys. Small objects are checked pairwise; larger ones get an open-addressing
 * table holding, per distinct key, the index of its last member, so the check stays linear on
 * hostile input with many keys.
 */
static uint32_t *build_dupset(const struct k8c_json *v, uint32_t *mask)
{
    uint32_t size = 32, *set;

    while (size < v->len * 2)
        size *= 2;
    set = k8c_malloc(size * sizeof(uint32_t));
    memset(set, 0xff, size * sizeof(uint32_t));
    *mask = size - 1;
    for (uint32_t i = 0; i < v->len; i++) {
        const struct k8c_json_member *m = &v->u.members[i];
        uint32_t h = hash_key(m->key, m->key_len) & *mask;
        while (set[h] != UINT32_MAX) {
            const struct k8c_json_member *o = &v->u.members[set[h]];
            if (o->key_len == m->key_len && memcmp(o->key, m->key, m->key_len) == 0)
                break;
            h = (h + 1) & *mask;
        }
        set[h] = i; /* later members overwrite: the set keeps the last index */
    }
    return set;
}

/* Whether a member after i has the same key. */
static bool later_duplicate(const struct k8c_json *v, uint32_t i, const uint32_t *set,
                            uint32_t mask)
{
    const struct k8c_json_member *m = &v->u.members[i];

    if (set == NULL) {
        for (uint32_t j = i + 1; j < v->len; j++)
            if (v->u.members[j].key_len == m->key_len &&
                memcmp(v->u.members[j].key, m->key, m->key_len) == 0)
                return true;
        return false;
    }
    for (uint32_t h = hash_key(m->key, m->key_len) & mask;; h = (h + 1) & mask) {
        const struct k8c_json_member *o = &v->u.members[set[h]];
        if (o->key_len == m->key_len && memcmp(o->key, m->key, m->key_len) == 0)
            return set[h] != i;
    }
}

/* Orders map entries (messages whose first member after the header is a char * key). */
static int cmp_entry_key(const void *x, const void *y)
{
    const ProtobufCMessage *a = *(ProtobufCMessage *const *)x, *b = *(ProtobufCMessage *const *)y;
    const ProtobufCFieldDescriptor *kf = &a->descriptor->fields[0];
    const char *ka = *(const char *const *)MEMBER(a, kf->offset);
    const char *kb = *(const char *const *)MEMBER(b, kf->offset);

    return strcmp(ka ? ka : "", kb ? kb : "");
}

static int dec_map(struct dec *c, const ProtobufCFieldDescriptor *fd, const struct k8c_json *v,
                   ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *ed = fd->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    ProtobufCMessage **arr;
    size_t n = 0;

    uint32_t *dupset = NULL, dupmask = 0;
    int rc = 0;

    if (v->type != K8C_JSON_OBJECT)
        return field_fail(c, fd, true, v);
    if (v->len > 16)
        dupset = build_dupset(v, &dupmask);
    arr = dec_alloc(c, (v->len ? v->len : 1) * sizeof(void *));
    *(ProtobufCMessage ***)MEMBER(m, fd->offset) = arr;
    for (uint32_t i = 0; i < v->len; i++) {
        const struct k8c_json_member *mem = &v->u.members[i];
        struct k8c_json key = {.type = K8C_JSON_STRING, .len = mem->key_len};
        ProtobufCMessage *entry;
        size_t saved;
        bool dup;

        /* Duplicate keys: Go keeps the last value; report the earlier ones. */
        dup = later_duplicate(v, i, dupset, dupmask);
        if (dup) {
            warn_field(c, "duplicate", mem->key, mem->key_len);
            continue;
        }
        if (mem->value->type == K8C_JSON_NULL && vf->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        saved = path_push_field(c, mem->key, mem->key_len, NULL);
        entry = dec_new(c, ed);
        arr[n++] = entry;
        *(size_t *)MEMBER(m, fd->quantifier_offset) = n;
        key.u.str = mem->key;
        if (kf->type != PROTOBUF_C_TYPE_STRING) {
            key.type = K8C_JSON_NUMBER; /* integer keys are written as strings in JSON */
            key.flags = 0;
        }
        rc = dec_scalar(c, kf, &key, MEMBER(entry, kf->offset));
        if (rc == 0) {
            mark_present(entry, kf);
            if (vf->type == PROTOBUF_C_TYPE_MESSAGE) {
                ProtobufCMessage *sub;
                rc = dec_new_message(c, get_info(vf->descriptor), mem->value, &sub);
                *(ProtobufCMessage **)MEMBER(entry, vf->offset) = sub;
            } else {
                rc = dec_scalar(c, vf, mem->value, MEMBER(entry, vf->offset));
                if (rc == 0)
                    mark_present(entry, vf);
            }
        }
        path_pop(c, saved);
        if (rc != 0)
            break;
    }
    k8c_free(dupset);
    /* Entries sorted by key, as Go's protobuf encoder writes maps (byte-compatible output). */
    if (rc == 0 && n > 1 && kf->type == PROTOBUF_C_TYPE_STRING)
        qsort(arr, n, sizeof(*arr), cmp_entry_key);
    return rc;
}

/* Decodes JSON value v into field fd of message m (v is not null). */
static int dec_field(struct dec *c, const struct field_info *fi, const struct k8c_json *v,
                     ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *fd = fi->fd;
    void *member = MEMBER(m, fd->offset);
    int rc;

    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t es = elem_size(fd);
        char *arr;
        if (fi->is_map)
            return dec_map(c, fd, v, m);
        if (v->type != K8C_JSON_ARRAY)
            return field_fail(c, fd, false, v);
        if (v->len == 0)
            return 0; /* proto has no empty-vs-absent for repeated fields */
        arr = dec_alloc(c, v->len * es);
        memset(arr, 0, v->len * es);
        *(void **)member = arr;
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json *item = v->u.items[i];
            size_t saved = path_push_index(c, i);
            if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                rc = dec_new_message(c, sub_info(fi), item, (ProtobufCMessage **)(arr + i * es));
            else if (item->type == K8C_JSON_NULL)
                rc = 0; /* zero value */
            else
                rc = dec_scalar(c, fd, item, arr + i * es);
            path_pop(c, saved);
            *(size_t *)MEMBER(m, fd->quantifier_offset) = i + 1;
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *sub = *(ProtobufCMessage **)member;
        const struct msg_info *smi = sub_info(fi);
        if (sub == NULL) {
            sub = dec_new(c, fd->descriptor);
            *(ProtobufCMessage **)member = sub;
        }
        if (smi->sp != SP_NONE)
            rc = dec_special(c, smi, v, sub);
        else
            rc = dec_message_into(c, smi, v, sub, false);
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            mark_present(m, fd);
        return rc;
    }
    rc = dec_scalar(c, fd, v, member);
    if (rc == 0)
        mark_present(m, fd);
    return rc;
}

/* Finds key in mi or, through Go inline embeddings, in one of its inline fields' messages.
 * Returns the field (and sets *via to the inline field index or -1), or NULL. */
static const struct field_info *resolve_key(const struct msg_info *mi, const char *key,
                                            size_t key_len, int *via, const struct msg_info **owner)
{
    int idx = find_field(mi, key, key_len);

    *via = -1;
    *owner = mi;
    if (idx >= 0 && !mi->fields[idx].is_inline)
        return &mi->fields[idx];
    for (unsigned k = 0; k < mi->n_inline; k++) {
        const struct msg_info *imi = sub_info(&mi->fields[mi->inline_idx[k]]);
        int j = find_field(imi, key, key_len);
        if (j >= 0 && !imi->fields[j].is_inline) {
            *via = (int)mi->inline_idx[k];
            *owner = imi;
            return &imi->fields[j];
        }
    }
    return NULL;
}

/* 1 when mem is "apiVersion", 0 when "kind", else -1. */
static int type_meta_key(const struct k8c_json_member *mem)
{
    if (mem->key_len == 10 && memcmp(mem->key, "apiVersion", 10) == 0)
        return 1;
    return mem->key_len == 4 && memcmp(mem->key, "kind", 4) == 0 ? 0 : -1;
}

/* Keeps the document's "kind" and "apiVersion" in d before its fields are decoded (a field
 * error must not hide them). With duplicates the last counts, as in Go. */
static void note_type_meta(struct k8c_codec_diag *d, const struct k8c_json *v)
{
    d->has_kind = d->has_api_version = 0;
    for (uint32_t i = 0; v->type == K8C_JSON_OBJECT && i < v->len; i++) {
        const struct k8c_json_member *mem = &v->u.members[i];
        const struct k8c_json *x = mem->value;
        int av = type_meta_key(mem);
        if (av < 0)
            continue;
        int *has = av ? &d->has_api_version : &d->has_kind;
        char *out = av ? d->api_version : d->kind;
        if (x->type == K8C_JSON_NULL) { /* json.Unmarshal leaves the string as it was */
            continue;
        } else if (x->type != K8C_JSON_STRING) {
            *has = -1;
            continue;
        }
        size_t n = x->len < sizeof(d->kind) - 1 ? x->len : sizeof(d->kind) - 1;
        memcpy(out, x->u.str, n);
        out[n] = '\0';
        *has = 1;
    }
}

static int dec_message_into(struct dec *c, const struct msg_info *mi, const struct k8c_json *v,
                            ProtobufCMessage *m, bool top)
{
    uint64_t seen_direct[4] = {0, 0, 0, 0};
    uint32_t seen_inline[64];
    unsigned n_seen_inline = 0;
    int rc = 0;

    if (v->type != K8C_JSON_OBJECT)
        return message_fail(c, mi->desc, v, "object");
    if (++c->depth > K8C_CODEC_MAX_DEPTH) {
        path_render(c);
        k8c_errmsg_printf(c->d->errmsg, "%s: nesting deeper than %d levels", c->path,
                          K8C_CODEC_MAX_DEPTH);
        return K8C_EDEPTH;
    }
    /* Walk members last to first: with duplicate keys the last one wins (as in Go) and the
     * earlier ones are reported. */
    for (uint32_t i = v->len; i-- > 0;) {
        const struct k8c_json_member *mem = &v->u.members[i];
        const struct msg_info *owner;
        int via;
        const struct field_info *fi = resolve_key(mi, mem->key, mem->key_len, &via, &owner);
        bool dup = false;

        if (fi == NULL) {
            if (top && type_meta_key(mem) >= 0)
                continue;
            warn_field(c, "unknown", mem->key, mem->key_len);
            continue;
        }
        {
            unsigned fidx = (unsigned)(fi - owner->fields);
            if (via < 0 && fidx < 256) {
                dup = (seen_direct[fidx / 64] >> (fidx % 64)) & 1;
                seen_direct[fidx / 64] |= 1ull << (fidx % 64);
            } else {
                uint32_t id = ((uint32_t)(via + 1) << 16) | fidx;
                for (unsigned k = 0; k < n_seen_inline && !dup; k++)
                    dup = seen_inline[k] == id;
                if (!dup && n_seen_inline < 64)
                    seen_inline[n_seen_inline++] = id;
            }
        }
        if (dup) {
            warn_field(c, "duplicate", mem->key, mem->key_len);
            continue;
        }
        if (mem->value->type == K8C_JSON_NULL)
            continue; /* null = absent */
        ProtobufCMessage *target = m;
        if (via >= 0) {
            const ProtobufCFieldDescriptor *ifd = mi->fields[via].fd;
            ProtobufCMessage **slot = MEMBER(m, ifd->offset);
            if (*slot == NULL)
                *slot = dec_new(c, ifd->descriptor);
            target = *slot;
        }
        size_t saved = path_push_field(c, mem->key, mem->key_len, mi->desc);
        int frc = dec_field(c, fi, mem->value, target);
        path_pop(c, saved);
        if (frc == 0)
            continue;
        rc = frc;
        /* Go reports the first error in the document: walking backwards, go on so that an
         * earlier member's error replaces this one. */
        if (c->d->errors == K8C_CODEC_ERRORS_OWN || rc == K8C_EDEPTH)
            break;
    }
    c->depth--;
    return rc;
}

int k8c_codec_tree_to_msg(const ProtobufCMessageDescriptor *desc, const struct k8c_json *tree,
                          ProtobufCAllocator *alloc, struct k8c_codec_diag *d,
                          ProtobufCMessage **out)
{
    struct dec dec_state, *c = &dec_state;
    const struct msg_info *mi = get_info(desc);
    ProtobufCMessage *m;
    int rc;

    c->alloc = alloc ? alloc : &k8c_default_allocator;
    pieces_init(&c->pieces, c->alloc, 512); /* arena chunks of 4 KiB */
    c->d = d;
    c->n_segs = 0;
    c->path[0] = '\0';
    c->depth = 0;
    d->errmsg[0] = '\0';
    note_type_meta(d, tree);
    m = dec_new(c, desc);
    if (mi->sp != SP_NONE)
        rc = dec_special(c, mi, tree, m);
    else
        rc = dec_message_into(c, mi, tree, m, mi->kind != NULL);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(m, c->alloc);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* ---- message -> tree ------------------------------------------------------------------------ */

struct enc {
    struct k8c_arena *a;
    char *errmsg;
    unsigned depth;
};

static int enc_message(struct enc *e, const ProtobufCMessage *m, const struct msg_info *mi,
                       struct k8c_json *obj);
static int enc_value(struct enc *e, const ProtobufCMessage *m, const struct msg_info *mi,
                     struct k8c_json **out);

static int enc_fail(struct enc *e, int code, const char *what)
{
    if (e->errmsg != NULL)
        k8c_errmsg_printf(e->errmsg, "%s", what);
    return code;
}

/* A JSON value for one scalar (non-message) value of fd stored at p. */
static struct k8c_json *enc_scalar(struct enc *e, const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return k8c_json_new_int(e->a, *(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return k8c_json_new_uint(e->a, *(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return k8c_json_new_int(e->a, *(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return k8c_json_new_uint(e->a, *(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return k8c_json_new_double(e->a, *(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return k8c_json_new_double(e->a, *(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return k8c_json_new_bool(e->a, *(const protobuf_c_boolean *)p != 0);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
        if (ev != NULL)
            return k8c_json_new_string(e->a, ev->name);
        return k8c_json_new_int(e->a, *(const int *)p);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return k8c_json_new_string(e->a, s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        struct k8c_sbuf sb;
        struct k8c_json *v;
        k8c_sbuf_init(&sb);
        k8c_base64_encode(&sb, bd->data, bd->len);
        v = k8c_json_new_stringn(e->a, sb.data ? sb.data : "", sb.len);
        k8c_sbuf_free(&sb);
        return v;
    }
    default:
        return k8c_json_new_null(e->a);
    }
}

static int64_t get_int_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    if (fd == NULL || fd->label == PROTOBUF_C_LABEL_REPEATED || !field_present(m, fd))
        return 0;
    if (elem_size(fd) == 8)
        return *(const int64_t *)MEMBER(m, fd->offset);
    return *(const int32_t *)MEMBER(m, fd->offset);
}

static const char *get_string_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    if (fd == NULL || fd->type != PROTOBUF_C_TYPE_STRING || fd->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return *(const char *const *)MEMBER(m, fd->offset);
}

static int enc_raw_bytes(struct enc *e, const uint8_t *data, size_t len, struct k8c_json **out)
{
    if (len == 0) {
        *out = k8c_json_new_null(e->a);
        return 0;
    }
    if (len >= 4 && memcmp(data, "k8s\0", 4) == 0) {
        /* An embedded object in Kubernetes protobuf (watch events): show it as JSON. */
        ProtobufCMessage *sub;
        struct k8c_arena *tmp = k8c_arena_new(0);
        int rc = k8c_codec_proto_decode(NULL, data, len, k8c_arena_protobuf_allocator(tmp), &sub,
                                        e->errmsg);
        if (rc == 0) {
            const struct msg_info *smi = get_info(sub->descriptor);
            struct k8c_json *obj = k8c_json_new_object(e->a);
            const struct k8c_codec_kind *k = k8c_codec_lookup_desc(sub->descriptor);
            if (k != NULL) {
                k8c_json_append_member(e->a, obj, "kind", 4, k8c_json_new_string(e->a, k->kind));
                k8c_json_append_member(e->a, obj, "apiVersion", 10,
                                       k8c_json_new_string(e->a, k->api_version));
            }
            rc = enc_message(e, sub, smi, obj);
            *out = obj;
        }
        k8c_arena_del(tmp);
        return rc;
    }
    {
        char err[K8C_ERRMSG_SIZE];
        struct k8c_json_limits lim = {0, K8C_CODEC_MAX_DEPTH};
        struct k8c_json *v;
        if (k8c_json_parse(e->a, (const char *)data, len, &lim, &v, err) != 0) {
            if (e->errmsg != NULL)
                k8c_errmsg_printf(e->errmsg, "embedded raw object is not JSON: %s", err);
            return K8C_EPROTO;
        }
        *out = v;
        return 0;
    }
}

static int enc_special(struct enc *e, const ProtobufCMessage *m, const struct msg_info *mi,
                       struct k8c_json **out)
{
    char buf[64];
    size_t n;

    switch (mi->sp) {
    case SP_TIME:
    case SP_MICROTIME:
        if (mi->f1 == NULL || !field_present(m, mi->f1)) {
            *out = k8c_json_new_null(e->a); /* Go's zero time */
            return 0;
        }
        n = format_time_fast(buf, sizeof(buf), get_int_field(m, mi->f1),
                             (int32_t)get_int_field(m, mi->f2), mi->sp == SP_MICROTIME);
        *out = k8c_json_new_stringn(e->a, buf, n);
        return 0;
    case SP_DURATION:
        n = format_duration(buf, get_int_field(m, mi->f1));
        *out = k8c_json_new_stringn(e->a, buf, n);
        return 0;
    case SP_QUANTITY: {
        const char *s = get_string_field(m, mi->f1);
        char canon[K8C_QUANTITY_STR_MAX];
        if (s == NULL)
            s = "0";
        else if (k8c_quantity_canonicalize(s, strlen(s), canon) == 0)
            s = canon;
        *out = k8c_json_new_string(e->a, s);
        return 0;
    }
    case SP_INTORSTRING:
        if (get_int_field(m, mi->f1) == 1) {
            const char *s = get_string_field(m, mi->f3);
            *out = k8c_json_new_string(e->a, s ? s : "");
        } else {
            *out = k8c_json_new_int(e->a, get_int_field(m, mi->f2));
        }
        return 0;
    case SP_RAW: {
        const ProtobufCBinaryData *bd;
        if (mi->f1 == NULL || mi->f1->type != PROTOBUF_C_TYPE_BYTES)
            return enc_fail(e, K8C_EPROTO, "schema mismatch for raw JSON");
        bd = MEMBER(m, mi->f1->offset);
        return enc_raw_bytes(e, bd->data, field_present(m, mi->f1) ? bd->len : 0, out);
    }
    case SP_STRINGLIST: {
        struct k8c_json *arr = k8c_json_new_array(e->a);
        if (mi->f1 != NULL && mi->f1->label == PROTOBUF_C_LABEL_REPEATED &&
            mi->f1->type == PROTOBUF_C_TYPE_STRING) {
            size_t cnt = *(const size_t *)MEMBER(m, mi->f1->quantifier_offset);
            char *const *items = *(char *const *const *)MEMBER(m, mi->f1->offset);
            for (size_t i = 0; i < cnt; i++)
                k8c_json_array_append(e->a, arr,
                                      k8c_json_new_string(e->a, items[i] ? items[i] : ""));
        }
        *out = arr;
        return 0;
    }
    default:
        *out = k8c_json_new_null(e->a);
        return 0;
    }
}

static int enc_value(struct enc *e, const ProtobufCMessage *m, const struct msg_info *mi,
                     struct k8c_json **out)
{
    if (m == NULL) {
        *out = k8c_json_new_null(e->a);
        return 0;
    }
    if (mi->sp != SP_NONE)
        return enc_special(e, m, mi, out);
    *out = k8c_json_new_object(e->a);
    return enc_message(e, m, mi, *out);
}

static int cmp_members(const void *x, const void *y)
{
    const struct k8c_json_member *a = x, *b = y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int r = memcmp(a->key, b->key, n);

    if (r != 0)
        return r;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int enc_map(struct enc *e, const ProtobufCFieldDescriptor *fd, const ProtobufCMessage *m,
                   struct k8c_json **out)
{
    const ProtobufCMessageDescriptor *ed = fd->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    size_t cnt = *(const size_t *)MEMBER(m, fd->quantifier_offset);
    ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)MEMBER(m, fd->offset);
    struct k8c_json *obj = k8c_json_new_object(e->a);
    int rc;

    for (size_t i = 0; i < cnt; i++) {
        const ProtobufCMessage *entry = arr[i];
        struct k8c_json *key, *val;
        if (entry == NULL)
            continue;
        key = enc_scalar(e, kf, MEMBER(entry, kf->offset));
        if (vf->type == PROTOBUF_C_TYPE_MESSAGE) {
            rc = enc_value(e, *(ProtobufCMessage *const *)MEMBER(entry, vf->offset),
                           get_info(vf->descriptor), &val);
            if (rc != 0)
                return rc;
        } else {
            val = enc_scalar(e, vf, MEMBER(entry, vf->offset));
        }
        if (key->type == K8C_JSON_STRING || key->type == K8C_JSON_NUMBER)
            k8c_json_append_member(e->a, obj, key->u.str, key->len, val);
        else
            k8c_json_append_member(e->a, obj, key->boolean ? "true" : "false", key->boolean ? 4 : 5,
                                   val);
    }
    /* Go writes map keys sorted; a repeated key keeps the last value (stable sort). */
    if (obj->len > 1) {
        /* insertion sort keeps equal keys in order, and maps are small */
        for (uint32_t i = 1; i < obj->len; i++) {
            struct k8c_json_member t = obj->u.members[i];
            uint32_t j = i;
            while (j > 0 && cmp_members(&obj->u.members[j - 1], &t) > 0) {
                obj->u.members[j] = obj->u.members[j - 1];
                j--;
            }
            obj->u.members[j] = t;
        }
    }
    *out = obj;
    return 0;
}

static int enc_message(struct enc *e, const ProtobufCMessage *m, const struct msg_info *mi,
                       struct k8c_json *obj)
{
    int rc = 0;

    if (++e->depth > K8C_CODEC_MAX_DEPTH)
        return enc_fail(e, K8C_EDEPTH, "message nested too deeply");
    for (unsigned i = 0; i < mi->n_fields && rc == 0; i++) {
        const struct field_info *fi = &mi->fields[i];
        const ProtobufCFieldDescriptor *fd = fi->fd;
        const void *member = MEMBER(m, fd->offset);
        struct k8c_json *val = NULL;

        if (!fi_present(m, fi)) {
            /* Upstream writes an unset ObjectMeta.creationTimestamp and an empty slice without
             * omitempty (nil after decoding) as null, and an unset Go struct value as that
             * struct's zero value. */
            if (fi->is_creation_ts || fi->go_null) {
                k8c_json_append_member(e->a, obj, fd->name, strlen(fd->name),
                                       k8c_json_new_null(e->a));
            } else if (fi->go_always && !fi->is_inline) {
                if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                    rc = enc_value(e, sub_info(fi)->empty, sub_info(fi), &val);
                else
                    val = enc_scalar(e, fd, MEMBER(mi->empty, fd->offset));
                if (rc == 0)
                    k8c_json_append_member(e->a, obj, fd->name, strlen(fd->name), val);
            }
            continue;
        }
        if (fi->is_inline) {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
            rc = enc_message(e, sub, sub_info(fi), obj);
            continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t cnt = *(const size_t *)MEMBER(m, fd->quantifier_offset), es = elem_size(fd);
            const char *arr = *(const char *const *)member;
            if (fi->is_map) {
                rc = enc_map(e, fd, m, &val);
            } else {
                val = k8c_json_new_array(e->a);
                val->u.items = k8c_arena_alloc(e->a, cnt * sizeof(struct k8c_json *));
                val->cap = (uint32_t)cnt;
                for (size_t k = 0; k < cnt && rc == 0; k++) {
                    struct k8c_json *item;
                    if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                        rc = enc_value(e, *(ProtobufCMessage *const *)(arr + k * es), sub_info(fi),
                                       &item);
                    else
                        item = enc_scalar(e, fd, arr + k * es);
                    if (rc == 0)
                        val->u.items[val->len++] = item;
                }
            }
        } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            rc = enc_value(e, *(ProtobufCMessage *const *)member, sub_info(fi), &val);
        } else {
            val = enc_scalar(e, fd, member);
        }
        if (rc == 0)
            k8c_json_append_member(e->a, obj, fd->name, strlen(fd->name), val);
    }
    e->depth--;
    return rc;
}

int k8c_codec_msg_to_tree(struct k8c_arena *a, const ProtobufCMessage *msg, unsigned flags,
                          struct k8c_json **out, char *errmsg)
{
    struct enc e = {a, errmsg, 0};
    const struct msg_info *mi = get_info(msg->descriptor);
    const struct k8c_codec_kind *k;
    struct k8c_json *obj;

    if (mi->sp != SP_NONE)
        return enc_special(&e, msg, mi, out);
    obj = k8c_json_new_object(a);
    if ((flags & K8C_CODEC_TYPE_META) && (k = mi->kind) != NULL) {
        k8c_json_append_member(a, obj, "kind", 4, k8c_json_new_string(a, k->kind));
        k8c_json_append_member(a, obj, "apiVersion", 10, k8c_json_new_string(a, k->api_version));
    }
    *out = obj;
    return enc_message(&e, msg, mi, obj);
}

/* ---- message -> JSON text ------------------------------------------------------------------- */

/*
 * k8c_codec_json_encode writes JSON straight from the message, with the same walk as
 * msg_to_tree above and the same layout as k8c_json_write (json.c), so the text is byte for
 * byte what msg_to_tree + k8c_json_write produce, without building the tree. Keep the three in
 * step: field order and presence, inline embeddings, the special types, map key order, errors
 * (on an error nothing is appended) and the indented layout. The rare cases (a map with
 * non-string keys, a JSON value embedded in a RawExtension) go through a small tree.
 */
struct jw {
    struct k8c_sbuf *out;
    char *errmsg;
    int indent;
    unsigned depth;
};

static inline char *jw_room(struct jw *w, size_t n)
{
    if (w->out->cap - w->out->len <= n)
        k8c_sbuf_reserve(w->out, n);
    return w->out->data + w->out->len;
}

static inline void jw_raw(struct jw *w, const char *s, size_t n)
{
    memcpy(jw_room(w, n), s, n);
    w->out->len += n;
}

static inline void jw_char(struct jw *w, char ch)
{
    *jw_room(w, 1) = ch;
    w->out->len++;
}

static void jw_newline(struct jw *w, int level)
{
    size_t n = (size_t)w->indent * (size_t)level;
    char *p = jw_room(w, n + 1);

    *p = '\n';
    memset(p + 1, ' ', n);
    w->out->len += n + 1;
}

static inline void jw_string(struct jw *w, const char *s, size_t n)
{
    k8c_json_write_string(w->out, s, n, 0);
}

/* Decimal digits of v, as printf's %llu. */
static size_t fmt_u64(char *buf, uint64_t v)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static void jw_int(struct jw *w, int64_t v)
{
    char *p = jw_room(w, 24);
    size_t n = 0;

    if (v < 0) {
        p[n++] = '-';
        n += fmt_u64(p + n, (uint64_t)0 - (uint64_t)v);
    } else {
        n = fmt_u64(p, (uint64_t)v);
    }
    w->out->len += n;
}

static void jw_uint(struct jw *w, uint64_t v)
{
    w->out->len += fmt_u64(jw_room(w, 24), v);
}

static void jw_double(struct jw *w, double d)
{
    char buf[K8C_JSON_DOUBLE_MAX];
    size_t n = k8c_json_format_double(buf, d);

    if (n == 0)
        jw_raw(w, "null", 4);
    else
        jw_raw(w, buf, n);
}

/* The key of the next member of an object nested `level` deep, which has *n members so far. */
static void jw_key(struct jw *w, int level, unsigned *n, const char *key, size_t len, bool plain)
{
    if ((*n)++ > 0)
        jw_char(w, ',');
    if (w->indent > 0)
        jw_newline(w, level + 1);
    if (plain) { /* nothing to escape: most field names */
        char *p = jw_room(w, len + 4);
        p[0] = '"';
        memcpy(p + 1, key, len);
        p[len + 1] = '"';
        p[len + 2] = ':';
        p[len + 3] = ' ';
        w->out->len += len + (w->indent > 0 ? 4 : 3);
        return;
    }
    jw_string(w, key, len);
    if (w->indent > 0)
        jw_raw(w, ": ", 2);
    else
        jw_char(w, ':');
}

/* Writes a tree value nested `level` deep (embedded raw JSON, rare maps). */
static void jw_tree(struct jw *w, const struct k8c_json *v, int level)
{
    k8c_json_write_nested(w->out, v, w->indent, level, 0);
}

static int jw_fail(struct jw *w, int code, const char *what)
{
    if (w->errmsg != NULL)
        k8c_errmsg_printf(w->errmsg, "%s", what);
    return code;
}

/* A scalar (non-message) value of fd stored at p: enc_scalar. */
static void jw_scalar(struct jw *w, const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        jw_int(w, *(const int32_t *)p);
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        jw_uint(w, *(const uint32_t *)p);
        return;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        jw_int(w, *(const int64_t *)p);
        return;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        jw_uint(w, *(const uint64_t *)p);
        return;
    case PROTOBUF_C_TYPE_FLOAT:
        jw_double(w, *(const float *)p);
        return;
    case PROTOBUF_C_TYPE_DOUBLE:
        jw_double(w, *(const double *)p);
        return;
    case PROTOBUF_C_TYPE_BOOL:
        if (*(const protobuf_c_boolean *)p)
            jw_raw(w, "true", 4);
        else
            jw_raw(w, "false", 5);
        return;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
        if (ev != NULL)
            jw_string(w, ev->name, strlen(ev->name));
        else
            jw_int(w, *(const int *)p);
        return;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        if (s == NULL)
            s = "";
        jw_string(w, s, strlen(s));
        return;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        jw_char(w, '"');
        k8c_base64_encode(w->out, bd->data, bd->len);
        jw_char(w, '"');
        return;
    }
    default:
        jw_raw(w, "null", 4);
        return;
    }
}

static int jw_value(struct jw *w, const ProtobufCMessage *m, const struct msg_info *mi, int level);
static int jw_object(struct jw *w, const ProtobufCMessage *m, const struct msg_info *mi, int level,
                     bool type_meta);

/* RawExtension / FieldsV1 bytes: enc_raw_bytes. */
static int jw_raw_bytes(struct jw *w, const uint8_t *data, size_t len, int level)
{
    if (len == 0) {
        jw_raw(w, "null", 4);
        return 0;
    }
    if (len >= 4 && memcmp(data, "k8s\0", 4) == 0) {
        /* An embedded object in Kubernetes protobuf (watch events): show it as JSON. */
        ProtobufCMessage *sub;
        char err[K8C_ERRMSG_SIZE];
        struct k8c_arena *tmp = k8c_arena_new(0);
        int rc =
            k8c_codec_proto_decode(NULL, data, len, k8c_arena_protobuf_allocator(tmp), &sub, err);
        if (rc == 0)
            rc = jw_object(w, sub, get_info(sub->descriptor), level, true);
        else if (w->errmsg != NULL)
            k8c_errmsg_printf(w->errmsg, "%s", err);
        k8c_arena_del(tmp);
        return rc;
    }
    {
        char err[K8C_ERRMSG_SIZE];
        struct k8c_json_limits lim = {0, K8C_CODEC_MAX_DEPTH};
        struct k8c_arena *tmp = k8c_arena_new(len * 2 + 256);
        struct k8c_json *v;
        int rc = k8c_json_parse(tmp, (const char *)data, len, &lim, &v, err);
        if (rc == 0) {
            jw_tree(w, v, level);
        } else {
            if (w->errmsg != NULL)
                k8c_errmsg_printf(w->errmsg, "embedded raw object is not JSON: %s", err);
            rc = K8C_EPROTO;
        }
        k8c_arena_del(tmp);
        return rc;
    }
}

/* A special type's value: enc_special. */
static int jw_special(struct jw *w, const ProtobufCMessage *m, const struct msg_info *mi, int level)
{
    char buf[64];
    size_t n;

    switch (mi->sp) {
    case SP_TIME:
    case SP_MICROTIME:
        if (mi->f1 == NULL || !field_present(m, mi->f1)) {
            jw_raw(w, "null", 4); /* Go's zero time */
            return 0;
        }
        n = format_time_fast(buf, sizeof(buf), get_int_field(m, mi->f1),
                             (int32_t)get_int_field(m, mi->f2), mi->sp == SP_MICROTIME);
        jw_string(w, buf, n);
        return 0;
    case SP_DURATION:
        n = format_duration(buf, get_int_field(m, mi->f1));
        jw_string(w, buf, n);
        return 0;
    case SP_QUANTITY: {
        const char *s = get_string_field(m, mi->f1);
        char canon[K8C_QUANTITY_STR_MAX];
        if (s == NULL)
            s = "0";
        else if (k8c_quantity_canonicalize(s, strlen(s), canon) == 0)
            s = canon;
        jw_string(w, s, strlen(s));
        return 0;
    }
    case SP_INTORSTRING:
        if (get_int_field(m, mi->f1) == 1) {
            const char *s = get_string_field(m, mi->f3);
            if (s == NULL)
                s = "";
            jw_string(w, s, strlen(s));
        } else {
            jw_int(w, get_int_field(m, mi->f2));
        }
        return 0;
    case SP_RAW: {
        const ProtobufCBinaryData *bd;
        if (mi->f1 == NULL || mi->f1->type != PROTOBUF_C_TYPE_BYTES)
            return jw_fail(w, K8C_EPROTO, "schema mismatch for raw JSON");
        bd = MEMBER(m, mi->f1->offset);
        return jw_raw_bytes(w, bd->data, field_present(m, mi->f1) ? bd->len : 0, level);
    }
    case SP_STRINGLIST: {
        size_t cnt = 0;
        char *const *items = NULL;
        if (mi->f1 != NULL && mi->f1->label == PROTOBUF_C_LABEL_REPEATED &&
            mi->f1->type == PROTOBUF_C_TYPE_STRING) {
            cnt = *(const size_t *)MEMBER(m, mi->f1->quantifier_offset);
            items = *(char *const *const *)MEMBER(m, mi->f1->offset);
        }
        jw_char(w, '[');
        for (size_t i = 0; i < cnt; i++) {
            const char *s = items[i] ? items[i] : "";
            if (i > 0)
                jw_char(w, ',');
            if (w->indent > 0)
                jw_newline(w, level + 1);
            jw_string(w, s, strlen(s));
        }
        if (w->indent > 0 && cnt > 0)
            jw_newline(w, level);
        jw_char(w, ']');
        return 0;
    }
    default:
        jw_raw(w, "null", 4);
        return 0;
    }
}

/* Map entries in key order: a stable sort of (key, entry) pairs, as enc_map's insertion sort
 * orders them (bytewise, shorter first, equal keys in input order). */
struct jw_entry {
    const char *key;
    size_t len;
    const ProtobufCMessage *entry;
};

static inline int jw_entry_cmp(const struct jw_entry *a, const struct jw_entry *b)
{
    int r = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

    return r != 0 ? r : (a->len < b->len ? -1 : a->len > b->len);
}

static void jw_sort_entries(struct jw_entry *e, size_t n, struct jw_entry *tmp)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            struct jw_entry t = e[i];
            size_t j = i;
            while (j > 0 && jw_entry_cmp(&e[j - 1], &t) > 0) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = t;
        }
        return;
    }
    size_t half = n / 2, i = 0, j = half, k = 0;
    jw_sort_entries(e, half, tmp);
    jw_sort_entries(e + half, n - half, tmp);
    if (jw_entry_cmp(&e[half - 1], &e[half]) <= 0)
        return; /* already in order (maps decoded from JSON are sorted) */
    while (i < half && j < n)
        tmp[k++] = jw_entry_cmp(&e[j], &e[i]) < 0 ? e[j++] : e[i++];
    while (i < half)
        tmp[k++] = e[i++];
    while (j < n)
        tmp[k++] = e[j++];
    memcpy(e, tmp, n * sizeof(*e));
}

/* A map field: enc_map. */
static int jw_map(struct jw *w, const struct field_info *fi, const ProtobufCMessage *m, int level)
{
    const ProtobufCFieldDescriptor *fd = fi->fd;
    const ProtobufCMessageDescriptor *ed = fd->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    size_t cnt = *(const size_t *)MEMBER(m, fd->quantifier_offset), n = 0;
    ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)MEMBER(m, fd->offset);
    struct jw_entry small[32], small_tmp[32], *ents = small, *tmp = small_tmp;
    unsigned members = 0;
    int rc = 0;

    if (kf->type != PROTOBUF_C_TYPE_STRING) {
        /* Not in the Kubernetes schema: let enc_map build it. */
        struct k8c_arena *a = k8c_arena_new(0);
        struct enc e = {a, w->errmsg, w->depth};
        struct k8c_json *obj;
        rc = enc_map(&e, fd, m, &obj);
        if (rc == 0)
            jw_tree(w, obj, level);
        k8c_arena_del(a);
        return rc;
    }
    if (cnt > sizeof(small) / sizeof(small[0])) {
        ents = k8c_malloc(cnt * sizeof(*ents));
        tmp = k8c_malloc(cnt * sizeof(*tmp));
    }
    for (size_t i = 0; i < cnt; i++) {
        const char *key;
        if (arr[i] == NULL)
            continue;
        key = *(const char *const *)MEMBER(arr[i], kf->offset);
        if (key == NULL)
            key = "";
        ents[n].key = key;
        ents[n].len = strlen(key);
        ents[n].entry = arr[i];
        n++;
    }
    if (n > 1)
        jw_sort_entries(ents, n, tmp);
    jw_char(w, '{');
    for (size_t i = 0; i < n && rc == 0; i++) {
        const void *val = MEMBER(ents[i].entry, vf->offset);
        jw_key(w, level, &members, ents[i].key, ents[i].len, false);
        if (vf->type == PROTOBUF_C_TYPE_MESSAGE)
            rc = jw_value(w, *(ProtobufCMessage *const *)val, get_info(vf->descriptor), level + 1);
        else
            jw_scalar(w, vf, val);
    }
    if (w->indent > 0 && n > 0)
        jw_newline(w, level);
    jw_char(w, '}');
    if (ents != small) {
        k8c_free(ents);
        k8c_free(tmp);
    }
    return rc;
}

/* The members of m into the object being written (enc_message): *n counts them. */
static int jw_members(struct jw *w, const ProtobufCMessage *m, const struct msg_info *mi, int level,
                      unsigned *n)
{
    int rc = 0;

    if (++w->depth > K8C_CODEC_MAX_DEPTH)
        return jw_fail(w, K8C_EDEPTH, "message nested too deeply");
    for (unsigned i = 0; i < mi->n_fields && rc == 0; i++) {
        const struct field_info *fi = &mi->fields[i];
        const ProtobufCFieldDescriptor *fd = fi->fd;
        const void *member = MEMBER(m, fd->offset);

        if (!fi_present(m, fi)) {
            /* Upstream writes an unset ObjectMeta.creationTimestamp and an empty slice without
             * omitempty (nil after decoding) as null, and an unset Go struct value as that
             * struct's zero value. */
            if (fi->is_creation_ts || fi->go_null) {
                jw_key(w, level, n, fd->name, fi->name_len, fi->plain_name);
                jw_raw(w, "null", 4);
            } else if (fi->go_always && !fi->is_inline) {
                jw_key(w, level, n, fd->name, fi->name_len, fi->plain_name);
                if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                    rc = jw_value(w, sub_info(fi)->empty, sub_info(fi), level + 1);
                else
                    jw_scalar(w, fd, MEMBER(mi->empty, fd->offset));
            }
            continue;
        }
        if (fi->is_inline) {
            rc = jw_members(w, *(ProtobufCMessage *const *)member, sub_info(fi), level, n);
            continue;
        }
        jw_key(w, level, n, fd->name, fi->name_len, fi->plain_name);
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t cnt = *(const size_t *)MEMBER(m, fd->quantifier_offset), es = elem_size(fd);
            const char *arr = *(const char *const *)member;
            if (fi->is_map) {
                rc = jw_map(w, fi, m, level + 1);
                continue;
            }
            jw_char(w, '[');
            for (size_t k = 0; k < cnt && rc == 0; k++) {
                if (k > 0)
                    jw_char(w, ',');
                if (w->indent > 0)
                    jw_newline(w, level + 2);
                if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                    rc = jw_value(w, *(ProtobufCMessage *const *)(arr + k * es), sub_info(fi),
                                  level + 2);
                else
                    jw_scalar(w, fd, arr + k * es);
            }
            if (w->indent > 0 && cnt > 0)
                jw_newline(w, level + 1);
            jw_char(w, ']');
        } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            rc = jw_value(w, *(ProtobufCMessage *const *)member, sub_info(fi), level + 1);
        } else {
            jw_scalar(w, fd, member);
        }
    }
    w->depth--;
    return rc;
}

/* m as a JSON object nested `level` deep, with kind and apiVersion first if asked and known. */
static int jw_object(struct jw *w, const ProtobufCMessage *m, const struct msg_info *mi, int level,
                     bool type_meta)
{
    unsigned n = 0;
    int rc;

    jw_char(w, '{');
    if (type_meta && mi->kind != NULL) {
        jw_key(w, level, &n, "kind", 4, true);
        jw_string(w, mi->kind->kind, strlen(mi->kind->kind));
        jw_key(w, level, &n, "apiVersion", 10, true);
        jw_string(w, mi->kind->api_version, strlen(mi->kind->api_version));
    }
    rc = jw_members(w, m, mi, level, &n);
    if (w->indent > 0 && n > 0)
        jw_newline(w, level);
    jw_char(w, '}');
    return rc;
}

/* A message value (enc_value): null, a special type's value or an object. */
static int jw_value(struct jw *w, const ProtobufCMessage *m, const struct msg_info *mi, int level)
{
    if (m == NULL) {
        jw_raw(w, "null", 4);
        return 0;
    }
    if (mi->sp != SP_NONE)
        return jw_special(w, m, mi, level);
    return jw_object(w, m, mi, level, false);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* The registered type named by a tree's apiVersion and kind. */
static int kind_of_tree(const struct k8c_json *tree, const struct k8c_codec_kind **kind,
                        char *errmsg)
{
    const struct k8c_json *av = k8c_json_get(tree, "apiVersion"), *k = k8c_json_get(tree, "kind");

    *kind = NULL;
    if (tree->type != K8C_JSON_OBJECT) {
        k8c_errmsg_printf(errmsg, "expected an object, got %s",
                          k8c_json_type_name((enum k8c_json_type)tree->type));
        return K8C_EINVAL;
    }
    if (k == NULL || k->type != K8C_JSON_STRING || k->len == 0) {
        k8c_errmsg_printf(errmsg, "Object 'Kind' is missing");
        return K8C_EINVAL;
    }
    if (av == NULL || av->type != K8C_JSON_STRING || av->len == 0) {
        k8c_errmsg_printf(errmsg, "Object 'apiVersion' is missing");
        return K8C_EINVAL;
    }
    *kind = k8c_codec_lookup_kind(av->u.str, k->u.str);
    if (*kind == NULL) {
        k8c_errmsg_printf(errmsg, "no kind \"%.64s\" is registered for version \"%.64s\"", k->u.str,
                          av->u.str);
        return K8C_ENOTFOUND;
    }
    return 0;
}

/*
 * The JSON tree of k8c_codec_json_decode is temporary. Each thread keeps one arena for it
 * (freed when the thread exits), so decoding an object of up to DECODE_ARENA_DOC bytes mallocs
 * nothing for its tree; bigger documents get an arena of their own, sized for them. While a
 * thread's arena is in use its slot is empty, so a nested decode gets its own arena too.
 */
#define DECODE_ARENA_BLOCK (64u << 10)
#define DECODE_ARENA_DOC   ((DECODE_ARENA_BLOCK - 4096) / 3)

static pthread_key_t decode_arena_key;
static pthread_once_t decode_arena_once = PTHREAD_ONCE_INIT;
static bool decode_arena_ok;

static void decode_arena_free(void *a)
{
    k8c_arena_del(a);
}

static void decode_arena_init(void)
{
    decode_arena_ok = pthread_key_create(&decode_arena_key, decode_arena_free) == 0;
}

static struct k8c_arena *decode_arena_take(size_t len)
{
    struct k8c_arena *a = NULL;

    if (len > DECODE_ARENA_DOC)
        return k8c_arena_new(len * 3 + 4096);
    pthread_once(&decode_arena_once, decode_arena_init);
    if (decode_arena_ok && (a = pthread_getspecific(decode_arena_key)) != NULL)
        pthread_setspecific(decode_arena_key, NULL);
    return a != NULL ? a : k8c_arena_new(DECODE_ARENA_BLOCK);
}

static void decode_arena_give_back(struct k8c_arena *a, size_t len)
{
    if (len <= DECODE_ARENA_DOC && decode_arena_ok &&
        pthread_getspecific(decode_arena_key) == NULL) {
        k8c_arena_reset(a); /* keeps its first block */
        if (pthread_setspecific(decode_arena_key, a) == 0)
            return;
    }
    k8c_arena_del(a);
}

int k8c_codec_json_decode(const ProtobufCMessageDescriptor *desc, const char *data, size_t len,
                          ProtobufCAllocator *alloc, struct k8c_codec_diag *d,
                          ProtobufCMessage **out)
{
    struct k8c_arena *a = decode_arena_take(len);
    struct k8c_json_limits lim = {K8C_CODEC_MAX_INPUT, K8C_CODEC_MAX_DEPTH};
    struct k8c_json *tree;
    int rc;

    *out = NULL;
    d->errmsg[0] = '\0';
    rc = k8c_json_parse(a, data, len, &lim, &tree, d->errmsg);
    d->parsed = rc == 0;
    if (rc == 0 && desc == NULL) {
        const struct k8c_codec_kind *k;
        rc = kind_of_tree(tree, &k, d->errmsg);
        if (rc == 0)
            desc = k->desc;
    }
    if (rc == 0)
        rc = k8c_codec_tree_to_msg(desc, tree, alloc, d, out);
    decode_arena_give_back(a, len);
    return rc;
}

int k8c_codec_json_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg, unsigned flags,
                          int indent, char *errmsg)
{
    struct jw w = {out, errmsg, indent, 0};
    const struct msg_info *mi = get_info(msg->descriptor);
    size_t start = out->len;
    int rc;

    if (mi->sp != SP_NONE)
        rc = jw_special(&w, msg, mi, 0);
    else
        rc = jw_object(&w, msg, mi, 0, (flags & K8C_CODEC_TYPE_META) != 0);
    if (rc != 0)
        out->len = start; /* nothing appended on errors, as before */
    jw_room(&w, 0);
    out->data[out->len] = '\0';
    return rc;
}

/* ---- YAML ----------------------------------------------------------------------------------- */

static bool str_in(const char *s, size_t len, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strlen(*list) == len && memcmp(*list, s, len) == 0)
            return true;
    return false;
}

static const char *const yaml_nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yaml_trues[] = {"y",  "Y",  "yes",  "Yes",  "YES",  "on",
                                         "On", "ON", "true", "True", "TRUE", NULL};
static const char *const yaml_falses[] = {"n",   "N",   "no",    "No",    "NO",    "off",
                                          "Off", "OFF", "false", "False", "FALSE", NULL};

/* YAML 1.1 integer (as go-yaml v2: optional sign, 0x hex, 0b binary, leading-0 octal,
 * underscores). Returns true and *v. */
static bool yaml_int(const char *s, size_t len, int64_t *v)
{
    char buf[80];
    size_t n = 0;
    bool neg = false;
    int base = 10;
    unsigned __int128 acc = 0;
    size_t i = 0;

    if (len == 0 || len >= sizeof(buf))
        return false;
    for (size_t k = 0; k < len; k++)
        if (s[k] != '_')
            buf[n++] = s[k];
    buf[n] = '\0';
    if (buf[0] == '+' || buf[0] == '-')
        neg = buf[i++] == '-';
    if (i >= n)
        return false;
    if (n - i > 2 && buf[i] == '0' && (buf[i + 1] == 'x' || buf[i + 1] == 'X'))
        base = 16, i += 2;
    else if (n - i > 2 && buf[i] == '0' && (buf[i + 1] == 'b' || buf[i + 1] == 'B'))
        base = 2, i += 2;
    else if (n - i > 1 && buf[i] == '0')
        base = 8, i += 1;
    for (; i < n; i++) {
        int dgt;
        char ch = buf[i];
        if (ch >= '0' && ch <= '9')
            dgt = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            dgt = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            dgt = ch - 'A' + 10;
        else
            return false;
        if (dgt >= base)
            return false;
        acc = acc * (unsigned)base + (unsigned)dgt;
        if (acc > (unsigned __int128)INT64_MAX + 1)
            return false;
    }
    if (!neg && acc > INT64_MAX)
        return false;
    *v = neg ? (int64_t)(0 - (uint64_t)acc) : (int64_t)acc;
    return true;
}

/* YAML 1.1 float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_float(const char *s, size_t len)
{
    size_t i = 0;
    bool digits_before = false, digits_after = false;

    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits_before = true;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits_after = true;
    }
    if (!digits_before && !digits_after)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j >= len)
            return false;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++;
        i = j;
    }
    return i == len;
}

/* The JSON node for a YAML scalar. Plain scalars are resolved; others are strings. */
static struct k8c_json *yaml_scalar(struct k8c_arena *a, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    struct k8c_json *v;
    int64_t iv;

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        (tag != NULL && strcmp(tag, YAML_STR_TAG) == 0))
        return k8c_json_new_stringn(a, s, len);
    if (str_in(s, len, yaml_nulls))
        v = k8c_json_new_null(a);
    else if (str_in(s, len, yaml_trues))
        v = k8c_json_new_bool(a, true);
    else if (str_in(s, len, yaml_falses))
        v = k8c_json_new_bool(a, false);
    else if (yaml_int(s, len, &iv)) {
        /* keep decimal source text when it is already a JSON integer */
        bool json_int =
            len > 0 && (s[0] == '-' || (s[0] >= '1' && s[0] <= '9') || (len == 1 && s[0] == '0'));
        for (size_t i = 1; i < len && json_int; i++)
            json_int = s[i] >= '0' && s[i] <= '9';
        v = json_int ? k8c_json_new_number(a, s, len) : k8c_json_new_int(a, iv);
        v->flags = K8C_JSON_F_PLAIN;
        if (!json_int) {
            /* keep the source text for string fields */
            v->u.str = k8c_arena_strndup(a, s, len);
            v->len = (uint32_t)len;
            /* but a NUMBER node's text must be valid JSON: store the value's text instead */
            v = k8c_json_new_int(a, iv);
            v->flags = K8C_JSON_F_PLAIN;
        }
        return v;
    } else if (yaml_float(s, len)) {
        char tmp[96];
        double d;
        if (len >= sizeof(tmp))
            return k8c_json_new_stringn(a, s, len);
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        d = strtod(tmp, NULL);
        /* a JSON-valid literal keeps its text ("1.10" stays "1.10" for string fields) */
        struct k8c_json_limits lim = {0, 1};
        struct k8c_arena *scratch = k8c_arena_new(256);
        struct k8c_json *probe;
        bool valid = k8c_json_parse(scratch, s, len, &lim, &probe, NULL) == 0 &&
                     probe->type == K8C_JSON_NUMBER && s[0] != '+';
        k8c_arena_del(scratch);
        v = valid ? k8c_json_new_number(a, s, len) : k8c_json_new_double(a, d);
        v->flags = K8C_JSON_F_PLAIN;
        return v;
    } else {
        return k8c_json_new_stringn(a, s, len);
    }
    v->flags = K8C_JSON_F_PLAIN;
    v->u.str = k8c_arena_strndup(a, s, len);
    v->len = (uint32_t)len;
    return v;
}

struct yaml_frame {
    struct k8c_json *node;
    const char *key; /* pending mapping key */
    size_t key_len;
    bool have_key;
};

int k8c_codec_yaml_parse(struct k8c_arena *a, const char *data, size_t len,
                         struct k8c_json ***docs_out, size_t *n_docs_out, char *errmsg)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct yaml_frame stack[K8C_CODEC_MAX_DEPTH + 1];
    int sp = -1, rc = 0;
    struct k8c_json **docs = NULL, *root = NULL;
    size_t n_docs = 0, cap_docs = 0;
    bool done = false;

    *docs_out = NULL;
    *n_docs_out = 0;
    if (len > K8C_CODEC_MAX_INPUT) {
        k8c_errmsg_printf(errmsg, "YAML input of %zu bytes exceeds the limit of %u", len,
                          K8C_CODEC_MAX_INPUT);
        return K8C_ETOOBIG;
    }
    if (!yaml_parser_initialize(&parser))
        return K8C_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    while (!done) {
        struct k8c_json *node = NULL;
        if (!yaml_parser_parse(&parser, &ev)) {
            k8c_errmsg_printf(errmsg, "yaml: line %zu: %s%s%s", parser.problem_mark.line + 1,
                              parser.problem ? parser.problem : "parse error",
                              parser.context ? " " : "", parser.context ? parser.context : "");
            rc = K8C_EPARSE;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            root = NULL;
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (root != NULL && root->type != K8C_JSON_NULL) {
                if (n_docs >= K8C_CODEC_MAX_DOCS) {
                    k8c_errmsg_printf(errmsg, "more than %d YAML documents", K8C_CODEC_MAX_DOCS);
                    rc = K8C_ETOOBIG;
                    done = true;
                    break;
                }
                if (n_docs == cap_docs) {
                    struct k8c_json **nd;
                    cap_docs = cap_docs ? cap_docs * 2 : 8;
                    nd = k8c_arena_alloc(a, cap_docs * sizeof(*nd));
                    if (n_docs > 0)
                        memcpy(nd, docs, n_docs * sizeof(*nd));
                    docs = nd;
                }
                docs[n_docs++] = root;
            }
            root = NULL;
            break;
        case YAML_ALIAS_EVENT:
            k8c_errmsg_printf(errmsg, "yaml: line %zu: aliases are not supported",
                              ev.start_mark.line + 1);
            rc = K8C_EPARSE;
            done = true;
            break;
        case YAML_SCALAR_EVENT:
            node = yaml_scalar(a, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (sp + 1 >= K8C_CODEC_MAX_DEPTH) {
                k8c_errmsg_printf(errmsg, "yaml: line %zu: nested deeper than %d levels",
                                  ev.start_mark.line + 1, K8C_CODEC_MAX_DEPTH);
                rc = K8C_EDEPTH;
                done = true;
                break;
            }
            sp++;
            stack[sp].node = ev.type == YAML_MAPPING_START_EVENT ? k8c_json_new_object(a)
                                                                 : k8c_json_new_array(a);
            stack[sp].have_key = false;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            node = stack[sp--].node;
            break;
        default:
            break;
        }
        if (node != NULL && rc == 0) {
            /* attach the completed node to its parent, or make it the document root */
            if (sp < 0) {
                root = node;
            } else if (stack[sp].node->type == K8C_JSON_ARRAY) {
                k8c_json_array_append(a, stack[sp].node, node);
            } else if (!stack[sp].have_key) {
                if (node->type == K8C_JSON_ARRAY || node->type == K8C_JSON_OBJECT) {
                    k8c_errmsg_printf(errmsg, "yaml: line %zu: mapping keys must be scalars",
                                      ev.start_mark.line + 1);
                    rc = K8C_EPARSE;
                    done = true;
                } else {
                    stack[sp].key = node->u.str ? node->u.str : (node->boolean ? "true" : "false");
                    stack[sp].key_len = node->u.str ? node->len : strlen(stack[sp].key);
                    if (node->type == K8C_JSON_NULL && node->u.str == NULL)
                        stack[sp].key = "null", stack[sp].key_len = 4;
                    stack[sp].have_key = true;
                }
            } else {
                k8c_json_append_member(a, stack[sp].node, stack[sp].key, stack[sp].key_len, node);
                stack[sp].have_key = false;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (rc != 0)
        return rc;
    *docs_out = docs;
    *n_docs_out = n_docs;
    return 0;
}

static int yaml_out(void *data, unsigned char *buffer, size_t size)
{
    k8c_sbuf_append(data, buffer, size);
    return 1;
}

/* 1 or 2 digits at s[*i] (Go's time.Parse for "1", "2", "15", "4", "5"), in [lo, hi]. */
static bool ts_num(const char *s, size_t len, size_t *i, int lo, int hi, int *out)
{
    size_t start = *i;
    int v = 0;
    while (*i < len && *i - start < 2 && s[*i] >= '0' && s[*i] <= '9')
        v = v * 10 + (s[(*i)++] - '0');
    *out = v;
    return *i > start && v >= lo && v <= hi;
}

/* Whether go-yaml v2 reads this plain scalar as a timestamp (parseTimestamp): YYYY-M-D alone,
 * or with a time (T, t or a space; H:M:S, a fraction), and with T or t a zone (Z or +hh:mm),
 * as time.Parse takes its layouts. */
static bool yaml_timestamp(const char *s, size_t len)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i = 0;
    int year = 0, month, day, v;
    for (; i < len && i < 4 && s[i] >= '0' && s[i] <= '9'; i++)
        year = year * 10 + (s[i] - '0');
    if (i != 4 || i == len || s[i++] != '-' || !ts_num(s, len, &i, 1, 12, &month) || i == len ||
        s[i++] != '-' || !ts_num(s, len, &i, 1, 31, &day))
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days[month - 1] || (month == 2 && day == 29 && !leap))
        return false;
    if (i == len)
        return true; /* "2006-1-2" */
    char sep = s[i++];
    if ((sep != 'T' && sep != 't' && sep != ' ') || !ts_num(s, len, &i, 0, 23, &v) || i == len ||
        s[i++] != ':' || !ts_num(s, len, &i, 0, 59, &v) || i == len || s[i++] != ':' ||
        !ts_num(s, len, &i, 0, 59, &v))
        return false;
    if (i < len && s[i] == '.') {
        size_t f = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return false;
    }
    if (sep == ' ')
        return i == len; /* "2006-1-2 15:4:5.999999999": no zone */
    if (i < len && s[i] == 'Z')
        return i + 1 == len;
    return i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 1] >= '0' && s[i + 1] <= '9' &&
           s[i + 2] >= '0' && s[i + 2] <= '9' && s[i + 3] == ':' && s[i + 4] >= '0' &&
           s[i + 4] <= '9' && s[i + 5] >= '0' && s[i + 5] <= '9';
}

/* Whether a plain scalar with this text would read back as something other than a string
 * (go-yaml v2 then double-quotes it). */
static bool yaml_needs_quotes(const char *s, size_t len)
{
    int64_t iv;

    if (yaml_timestamp(s, len))
        return true;

    if (str_in(s, len, yaml_nulls) || str_in(s, len, yaml_trues) || str_in(s, len, yaml_falses))
        return true;
    if (yaml_int(s, len, &iv) || yaml_float(s, len))
        return true;
    if (str_in(s, len,
               (const char *const[]){".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", ".NaN",
                                     ".NAN", "<<", "=", NULL}))
        return true;
    /* base 60 numbers like 1:20 are floats/ints in YAML 1.1 */
    {
        bool digit_colon = len > 0;
        bool has_colon = false;
        for (size_t i = 0; i < len && digit_colon; i++) {
            if (s[i] == ':')
                has_colon = true;
            else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '.' && s[i] != '_' &&
                     !(i == 0 && (s[i] == '+' || s[i] == '-')))
                digit_colon = false;
        }
        if (digit_colon && has_colon && s[0] != ':')
            return true;
    }
    return false;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev, char *errmsg)
{
    if (!yaml_emitter_emit(em, ev)) {
        k8c_errmsg_printf(errmsg, "yaml: %s", em->problem ? em->problem : "emitter error");
        return K8C_EIO;
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t need;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        need = 2, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        need = 3, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        need = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (need > n)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, size_t len, yaml_scalar_style_t style,
                       char *errmsg)
{
    yaml_event_t ev;

    if (yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style))
        return emit(em, &ev, errmsg);
    /* libyaml refuses invalid UTF-8 (and leaves ev unset): write what Go
     * would, each invalid byte as U+FFFD. */
    struct k8c_sbuf fixed;
    k8c_sbuf_init(&fixed);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0) {
            k8c_sbuf_append(&fixed, "\xef\xbf\xbd", 3);
            i++;
        } else {
            k8c_sbuf_append(&fixed, s + i, n);
            i += n;
        }
    }
    int rc = K8C_EINVAL;
    if (yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(fixed.data ? fixed.data : ""),
                                     (int)fixed.len, 1, 1, style))
        rc = emit(em, &ev, errmsg);
    else
        k8c_errmsg_printf(errmsg, "yaml: cannot write a string");
    k8c_sbuf_free(&fixed);
    return rc;
}

static int emit_string(yaml_emitter_t *em, const char *s, size_t len, char *errmsg)
{
    yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;

    if (memchr(s, '\n', len) != NULL)
        style = YAML_LITERAL_SCALAR_STYLE;
    else if (yaml_needs_quotes(s, len))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return emit_scalar(em, s, len, style, errmsg);
}

/* Orders member indexes by key, then by position (so duplicates keep document order). */
static int cmp_member_index(const void *x, const void *y, void *ctx)
{
    const struct k8c_json *v = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int r = cmp_members(&v->u.members[a], &v->u.members[b]);

    return r != 0 ? r : (a < b ? -1 : a > b);
}

static int emit_node(yaml_emitter_t *em, const struct k8c_json *v, char *errmsg)
{
    yaml_event_t ev;
    int rc;

    switch (v->type) {
    case K8C_JSON_NULL:
        return emit_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE, errmsg);
    case K8C_JSON_BOOL:
        return emit_scalar(em, v->boolean ? "true" : "false", v->boolean ? 4 : 5,
                           YAML_PLAIN_SCALAR_STYLE, errmsg);
    case K8C_JSON_NUMBER:
        return emit_scalar(em, v->u.str, v->len, YAML_PLAIN_SCALAR_STYLE, errmsg);
    case K8C_JSON_STRING:
        return emit_string(em, v->u.str, v->len, errmsg);
    case K8C_JSON_ARRAY:
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if ((rc = emit(em, &ev, errmsg)) != 0)
            return rc;
        for (uint32_t i = 0; i < v->len; i++)
            if ((rc = emit_node(em, v->u.items[i], errmsg)) != 0)
                return rc;
        yaml_sequence_end_event_initialize(&ev);
        return emit(em, &ev, errmsg);
    case K8C_JSON_OBJECT: {
        /* kubectl's YAML goes through a Go map: keys sorted, one entry per key (the last). */
        uint32_t *order = k8c_malloc((v->len ? v->len : 1) * sizeof(uint32_t));
        for (uint32_t i = 0; i < v->len; i++)
            order[i] = i;
        qsort_r(order, v->len, sizeof(uint32_t), cmp_member_index, (void *)v);
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        rc = emit(em, &ev, errmsg);
        for (uint32_t i = 0; i < v->len && rc == 0; i++) {
            const struct k8c_json_member *m = &v->u.members[order[i]];
            if (i + 1 < v->len && cmp_members(m, &v->u.members[order[i + 1]]) == 0)
                continue; /* a later duplicate wins */
            rc = emit_string(em, m->key, m->key_len, errmsg);
            if (rc == 0)
                rc = emit_node(em, m->value, errmsg);
        }
        k8c_free(order);
        if (rc != 0)
            return rc;
        yaml_mapping_end_event_initialize(&ev);
        return emit(em, &ev, errmsg);
    }
    }
    return K8C_EINVAL;
}

int k8c_codec_yaml_write(struct k8c_sbuf *out, const struct k8c_json *tree, char *errmsg)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    int rc;

    if (!yaml_emitter_initialize(&em))
        return K8C_ENOMEM;
    yaml_emitter_set_output(&em, yaml_out, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_indent(&em, 2);
    yaml_emitter_set_width(&em, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    rc = emit(&em, &ev, errmsg);
    if (rc == 0) {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        rc = emit(&em, &ev, errmsg);
    }
    if (rc == 0)
        rc = emit_node(&em, tree, errmsg);
    if (rc == 0) {
        yaml_document_end_event_initialize(&ev, 1);
        rc = emit(&em, &ev, errmsg);
    }
    if (rc == 0) {
        yaml_stream_end_event_initialize(&ev);
        rc = emit(&em, &ev, errmsg);
    }
    yaml_emitter_delete(&em);
    return rc;
}

int k8c_codec_yaml_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg, unsigned flags,
                          char *errmsg)
{
    struct k8c_arena *a = k8c_arena_new(32768);
    struct k8c_json *tree;
    int rc = k8c_codec_msg_to_tree(a, msg, flags, &tree, errmsg);

    if (rc == 0)
        rc = k8c_codec_yaml_write(out, tree, errmsg);
    k8c_arena_del(a);
    return rc;
}

/* ---- Kubernetes protobuf -------------------------------------------------------------------- */

size_t k8c_codec_varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

uint8_t *k8c_codec_varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static void put_varint(struct k8c_sbuf *out, uint64_t v)
{
    uint8_t b[10];
    k8c_sbuf_append(out, b, (size_t)(k8c_codec_varint_put(b, v) - b));
}

static void put_bytes_field(struct k8c_sbuf *out, uint8_t tag, const void *data, size_t len)
{
    k8c_sbuf_putc(out, (char)tag);
    put_varint(out, len);
    k8c_sbuf_append(out, data, len);
}

int k8c_codec_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Steps over the value of a field whose key (tag) was just read: a varint or fixed-size value
 * is skipped (0); a length-delimited one is left at *p with its length in *len (1), checked to
 * fit. -1: malformed or a group. */
static int wire_value(const uint8_t **p, const uint8_t *end, uint64_t tag, uint64_t *len)
{
    switch (tag & 7) {
    case 0:
        return k8c_codec_varint_get(p, end, len) != 0 ? -1 : 0;
    case 1:
    case 5: {
        size_t n = (tag & 7) == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return -1;
        *p += n;
        return 0;
    }
    case 2:
        return k8c_codec_varint_get(p, end, len) != 0 || *len > (uint64_t)(end - *p) ? -1 : 1;
    default:
        return -1;
    }
}

int k8c_codec_proto_unwrap(const uint8_t *data, size_t len, struct k8c_codec_envelope *env,
                           char *errmsg)
{
    const uint8_t *p = data + 4, *end = data + len;

    memset(env, 0, sizeof(*env));
    if (len > K8C_CODEC_MAX_INPUT) {
        k8c_errmsg_printf(errmsg, "protobuf input of %zu bytes exceeds the limit", len);
        return K8C_ETOOBIG;
    }
    if (len < 4 || memcmp(data, "k8s\0", 4) != 0) {
        k8c_errmsg_printf(errmsg, "not a Kubernetes protobuf object: missing k8s\\0 prefix");
        return K8C_EPROTO;
    }
    while (p < end) {
        uint64_t tag, l;
        if (k8c_codec_varint_get(&p, end, &tag) != 0)
            goto bad;
        int wt = wire_value(&p, end, tag, &l);
        if (wt < 0)
            goto bad;
        if (wt == 0)
            continue;
        if (tag >> 3 == 1) { /* typeMeta */
            const uint8_t *q = p, *qend = p + l;
            while (q < qend) {
                uint64_t t2, l2;
                if (k8c_codec_varint_get(&q, qend, &t2) != 0 || (t2 & 7) != 2 ||
                    k8c_codec_varint_get(&q, qend, &l2) != 0 || l2 > (uint64_t)(qend - q))
                    goto bad;
                if (t2 >> 3 == 1) {
                    env->api_version = (const char *)q;
                    env->api_version_len = l2;
                } else if (t2 >> 3 == 2) {
                    env->kind = (const char *)q;
                    env->kind_len = l2;
                }
                q += l2;
            }
        } else if (tag >> 3 == 2) {
            env->raw = p;
            env->raw_len = l;
        } else if (tag >> 3 == 3 && l != 0) {
            k8c_errmsg_printf(errmsg, "unsupported contentEncoding \"%.*s\"",
                              (int)(l > 32 ? 32 : l), (const char *)p);
            return K8C_EPROTO;
        }
        p += l;
    }
    if (env->raw == NULL)
        env->raw = p; /* empty message */
    return 0;
bad:
    k8c_errmsg_printf(errmsg, "malformed Kubernetes protobuf envelope");
    return K8C_EPROTO;
}

/* Well-formed, nested at most max_depth, and (nul_free) no string field holding a NUL. */
static int check_message(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                         const uint8_t *end, unsigned depth, unsigned max_depth, bool nul_free,
                         char *errmsg)
{
    if (depth > max_depth) {
        k8c_errmsg_printf(errmsg, "protobuf message nested deeper than %u levels", max_depth);
        return K8C_EDEPTH;
    }
    while (p < end) {
        uint64_t tag, l;
        const ProtobufCFieldDescriptor *fd;
        if (k8c_codec_varint_get(&p, end, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
            goto bad;
        int wt = wire_value(&p, end, tag, &l);
        if (wt < 0)
            goto bad;
        if (wt == 0)
            continue;
        fd = desc ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3)) : NULL;
        if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            int rc =
                check_message(fd->descriptor, p, p + l, depth + 1, max_depth, nul_free, errmsg);
            if (rc != 0)
                return rc;
        }
        if (nul_free && fd != NULL && fd->type == PROTOBUF_C_TYPE_STRING &&
            memchr(p, '\0', l) != NULL) {
            k8c_errmsg_printf(errmsg, "%s.%s: %s", desc->short_name, fd->name,
                              K8C_CODEC_NUL_STRING);
            return K8C_EINVAL;
        }
        p += l;
    }
    return 0;
bad:
    k8c_errmsg_printf(errmsg, "malformed protobuf message");
    return K8C_EPROTO;
}

int k8c_codec_proto_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                          unsigned max_depth, char *errmsg)
{
    return check_message(desc, data, data + len, 0, max_depth, false, errmsg);
}

int k8c_codec_proto_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                  size_t len, char *errmsg)
{
    return check_message(desc, data, data + len, 0, K8C_CODEC_MAX_DEPTH, true, errmsg);
}

static void clear_go_zeros_in(ProtobufCMessage *m, const struct msg_info *mi,
                              ProtobufCAllocator *alloc)
{
    if (mi->sp != SP_NONE)
        return;
    /* Only the fields that can matter: Go omitempty scalars, and message fields whose type is
     * not one of the special types (those are never cleared). */
    for (unsigned k = 0; k < mi->n_clear; k++) {
        unsigned idx = mi->clear[k];
        const ProtobufCFieldDescriptor *fd = &mi->desc->fields[idx];
        void *member = MEMBER(m, fd->offset);
        if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)MEMBER(m, fd->quantifier_offset) != fd->id)
            continue; /* another member of the oneof holds the storage */
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            const struct msg_info *smi = wf_sub(mi, &mi->wf[idx]);
            ProtobufCMessage **items = member;
            size_t n = 1;
            if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
                n = *(const size_t *)MEMBER(m, fd->quantifier_offset);
                items = *(ProtobufCMessage ***)member;
            }
            for (size_t i = 0; i < n; i++)
                if (items[i] != NULL)
                    clear_go_zeros_in(
                        items[i],
                        items[i]->descriptor == smi->desc ? smi : get_info(items[i]->descriptor),
                        alloc);
            continue;
        }
        if (!field_present(m, fd))
            continue;
        switch (fd->type) {
        case PROTOBUF_C_TYPE_STRING: {
            char *str = *(char **)member;
            if (str[0] != '\0')
                break;
            if (str != fd->default_value)
                alloc->free(alloc->allocator_data, str);
            *(char **)member = NULL;
            break;
        }
        case PROTOBUF_C_TYPE_BYTES:
            /* The data pointer stays: protobuf_c_message_free_unpacked frees it either way. */
            if (((const ProtobufCBinaryData *)member)->len == 0)
                *(protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset) = 0;
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            if (*(const double *)member == 0.0)
                *(protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset) = 0;
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            if (*(const float *)member == 0.0f)
                *(protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset) = 0;
            break;
        default:
            if (elem_size(fd) == 8   ? *(const uint64_t *)member == 0
                : elem_size(fd) == 4 ? *(const uint32_t *)member == 0
                                     : *(const protobuf_c_boolean *)member == 0)
                *(protobuf_c_boolean *)MEMBER(m, fd->quantifier_offset) = 0;
            break;
        }
    }
}

/*
 * Clears the presence of decoded Go zero values (see codec.h). The walk visits every message of
 * the tree once; its depth is bounded by the decoders (K8C_CODEC_MAX_DEPTH), and by the
 * caller's own construction otherwise.
 */
static void clear_go_zeros(ProtobufCMessage *m, ProtobufCAllocator *alloc)
{
    clear_go_zeros_in(m, get_info(m->descriptor), alloc);
}

void k8c_codec_clear_go_zeros(ProtobufCMessage *msg, ProtobufCAllocator *alloc)
{
    clear_go_zeros(msg, alloc ? alloc : &k8c_default_allocator);
}

/* ---- fast wire codec ------------------------------------------------------------------------ */

/*
 * protobuf-c's generic unpack and pack are correct but slow for Kubernetes objects: unpack
 * scans every message into a slab, walks all fields of the descriptor twice and, for us, had to
 * be preceded by a separate well-formedness and depth pass (check_message) and followed by a
 * walk clearing Go zero values; pack recomputes the size of every submessage once per level of
 * nesting. The functions below do the same work in one pass each, for the message types that
 * need none of protobuf-c's rarer features (oneof, required and proto3 fields, default values;
 * no Kubernetes type uses them). Other types keep the generic path.
 *
 * Decoding produces exactly what the old pipeline produced (check_message, then
 * protobuf_c_message_unpack, then clear_go_zeros): the same accepted inputs, the same pieces
 * allocated with the same allocator (so protobuf_c_message_free_unpacked frees them), unknown
 * fields kept, the last value of a repeated scalar winning, and a repeated singular message
 * merged the way protobuf-c merges (merge_messages of protobuf-c 1.4 is mirrored by wd_merge,
 * quirks included). A message type with repeated fields is read twice: a scan that counts the
 * elements of each, then a pass that fills the fields, so every array is allocated once at its
 * final size; other types are read once. Go zero values are cleared as they are read, from
 * per-field flags. Nesting is bounded by K8C_CODEC_MAX_DEPTH as before. On any failure the
 * partial message is freed and check_message is run to report the same error as before. With
 * an arena allocator the pieces are cut from chunks of the arena without a call per piece.
 *
 * Encoding writes back to front, so the length of a submessage is known when its prefix is
 * written: one walk, no size pass, byte-identical to protobuf_c_message_pack.
 *
 * Both walk struct wire_field tables (16 bytes a field, keys pre-encoded) rather than the
 * descriptors. tests/unit/test_codec_equiv.c holds them to the old pipeline, on real objects and
 * on thousands of mutated encodings.
 */

/* Whether the fast codec handles desc and every message type reachable from it. */
static bool wire_fast(const ProtobufCMessageDescriptor *desc)
{
    struct msg_info *root = (struct msg_info *)get_info(desc);
    int state = atomic_load_explicit(&root->fast, memory_order_acquire);
    const ProtobufCMessageDescriptor **seen;
    size_t n_seen = 0, cap_seen = 64, next = 0;
    bool ok = true;

    if (state != FAST_UNKNOWN)
        return state == FAST_YES;
    /* Breadth-first over the types reachable from desc; seen doubles as the queue. Runs once
     * per root type; types found fast are marked so later roots stop at them. */
    seen = k8c_malloc(cap_seen * sizeof(*seen));
    seen[n_seen++] = desc;
    while (ok && next < n_seen) {
        struct msg_info *mi = (struct msg_info *)get_info(seen[next++]);
        int st = atomic_load_explicit(&mi->fast, memory_order_acquire);
        if (st == FAST_YES && mi != root)
            continue;
        if (st == FAST_NO || !mi->local_fast) {
            ok = false;
            break;
        }
        for (unsigned i = 0; i < mi->desc->n_fields; i++) {
            const ProtobufCFieldDescriptor *fd = &mi->desc->fields[i];
            bool dup = false;
            if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
                continue;
            for (size_t k = 0; k < n_seen && !dup; k++)
                dup = seen[k] == fd->descriptor;
            if (dup)
                continue;
            if (n_seen == cap_seen) {
                cap_seen *= 2;
                seen = k8c_realloc(seen, cap_seen * sizeof(*seen));
            }
            seen[n_seen++] = fd->descriptor;
        }
    }
    if (ok)
        for (size_t k = 0; k < n_seen; k++)
            atomic_store_explicit(&((struct msg_info *)get_info(seen[k]))->fast, FAST_YES,
                                  memory_order_release);
    else
        atomic_store_explicit(&root->fast, FAST_NO, memory_order_release);
    k8c_free(seen);
    return ok;
}

/* The desc->fields index of field number id, or -1. */
static inline int wire_field(const struct msg_info *mi, uint32_t id)
{
    if (mi->by_id != NULL)
        return id <= mi->max_id ? mi->by_id[id] : -1;
    const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(mi->desc, id);
    return fd != NULL ? (int)(fd - mi->desc->fields) : -1;
}

/* ---- decoding ---- */

struct wdec {
    ProtobufCAllocator *alloc;
    struct pieces pieces;
    bool clear; /* clear Go zero values as fields are decoded (off while a merge is pending) */
};

/*
 * A field key: protobuf-c reads at most 5 bytes, check_message refuses field numbers 0 and
 * above 2^29-1. 0 or -1.
 */
static inline int wd_key(const uint8_t **pp, const uint8_t *end, uint32_t *id, unsigned *wt)
{
    const uint8_t *p = *pp;
    uint64_t v;

    if (p < end && !(p[0] & 0x80)) { /* the common one-byte key */
        v = p[0];
        *pp = p + 1;
    } else {
        unsigned i;
        v = 0;
        for (i = 0; i < 5 && p + i < end; i++) {
            v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (!(p[i] & 0x80))
                break;
        }
        if (i == 5 || p + i >= end)
            return -1;
        *pp = p + i + 1;
    }
    if ((v >> 3) == 0 || (v >> 3) > 0x1fffffff)
        return -1;
    *id = (uint32_t)(v >> 3);
    *wt = (unsigned)(v & 7);
    return 0;
}

/* Skips a varint of at most 10 bytes. */
static inline int wd_skip_varint(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;

    for (unsigned i = 0; i < 10 && p + i < end; i++)
        if (!(p[i] & 0x80)) {
            *pp = p + i + 1;
            return 0;
        }
    return -1;
}

/* A length prefix (at most 5 bytes, as protobuf-c) and the bytes it announces must fit. */
static inline int wd_len(const uint8_t **pp, const uint8_t *end, size_t *len)
{
    const uint8_t *p = *pp;
    size_t v = 0;
    unsigned i;

    for (i = 0; i < 5 && p + i < end; i++) {
        v |= (size_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            break;
    }
    if (i == 5 || p + i >= end)
        return -1;
    p += i + 1;
    if (v > (size_t)(end - p))
        return -1;
    *pp = p;
    *len = v;
    return 0;
}

/* The value of a varint already checked to end within n bytes (low 64 bits). */
static inline uint64_t wd_varint_value(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n && i < 10; i++)
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    return v;
}

/* protobuf-c's parse_boolean: true when any of the n bytes has a low bit set. */
static inline protobuf_c_boolean wd_bool(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] & 0x7f)
            return 1;
    return 0;
}

static inline ALWAYS_INLINE void *wd_alloc(struct wdec *c, size_t size)
{
    return pieces_alloc(&c->pieces, size);
}

static inline void wd_free(struct wdec *c, void *p)
{
    pieces_free(&c->pieces, p);
}

static inline ProtobufCMessage *wd_new(struct wdec *c, const struct msg_info *mi)
{
    ProtobufCMessage *m = wd_alloc(c, mi->desc->sizeof_message);

    if (m != NULL)
        mi->desc->message_init(m);
    return m;
}

/*
 * Reads one non-length-delimited value of a field of type `type` (wire type wt, the value's
 * bytes v..v+n as protobuf-c scans them) into dst. *zero tells whether it is Go's zero value
 * (as clear_go_zeros tests it). -1 when the wire type does not fit the field type.
 */
static inline ALWAYS_INLINE int wd_scalar(unsigned type, unsigned wt, const uint8_t *v, size_t n,
                                          void *dst, bool *zero)
{
    uint64_t x;

    switch (type) {
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_UINT32:
        if (wt != PROTOBUF_C_WIRE_TYPE_VARINT)
            return -1;
        *(uint32_t *)dst = (uint32_t)wd_varint_value(v, n);
        *zero = *(uint32_t *)dst == 0;
        return 0;
    case PROTOBUF_C_TYPE_SINT32: {
        uint32_t u = (uint32_t)wd_varint_value(v, n);
        if (wt != PROTOBUF_C_WIRE_TYPE_VARINT)
            return -1;
        *(int32_t *)dst = (int32_t)((u >> 1) ^ (0u - (u & 1)));
        *zero = u == 0;
        return 0;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
        if (wt != PROTOBUF_C_WIRE_TYPE_VARINT)
            return -1;
        *(uint64_t *)dst = wd_varint_value(v, n);
        *zero = *(uint64_t *)dst == 0;
        return 0;
    case PROTOBUF_C_TYPE_SINT64:
        if (wt != PROTOBUF_C_WIRE_TYPE_VARINT)
            return -1;
        x = wd_varint_value(v, n);
        *(int64_t *)dst = (int64_t)((x >> 1) ^ (0 - (x & 1)));
        *zero = x == 0;
        return 0;
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        if (wt != PROTOBUF_C_WIRE_TYPE_32BIT)
            return -1;
        memcpy(dst, v, 4);
        *zero = type == PROTOBUF_C_TYPE_FLOAT ? *(float *)dst == 0.0f : *(uint32_t *)dst == 0;
        return 0;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (wt != PROTOBUF_C_WIRE_TYPE_64BIT)
            return -1;
        memcpy(dst, v, 8);
        *zero = type == PROTOBUF_C_TYPE_DOUBLE ? *(double *)dst == 0.0 : *(uint64_t *)dst == 0;
        return 0;
    case PROTOBUF_C_TYPE_BOOL: /* protobuf-c reads a bool of any wire type */
        *(protobuf_c_boolean *)dst = wd_bool(v, n);
        *zero = *(protobuf_c_boolean *)dst == 0;
        return 0;
    default:
        return -1;
    }
}

static int wd_message(struct wdec *c, const struct msg_info *mi, const uint8_t *p,
                      const uint8_t *end, unsigned depth, ProtobufCMessage *m);

/*
 * protobuf-c's merge_messages for the types the fast codec handles: latter (decoded from a
 * later occurrence of a singular message field) takes whatever earlier has and latter lacks;
 * repeated fields are concatenated, earlier first; submessages merge recursively. earlier is
 * left holding only what latter did not take and must then be freed.
 */
static int wd_merge(struct wdec *c, ProtobufCMessage *earlier, ProtobufCMessage *latter)
{
    const ProtobufCMessageDescriptor *d = latter->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        void *e_elem = MEMBER(earlier, fd->offset), *l_elem = MEMBER(latter, fd->offset);
        size_t es = elem_size(fd);
        bool need = false;

        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t *n_e = MEMBER(earlier, fd->quantifier_offset);
            size_t *n_l = MEMBER(latter, fd->quantifier_offset);
            char **p_e = e_elem, **p_l = l_elem;
            if (*n_e == 0)
                continue;
            if (*n_l > 0) {
                char *joined = wd_alloc(c, (*n_e + *n_l) * es);
                if (joined == NULL)
                    return -1;
                memcpy(joined, *p_e, *n_e * es);
                memcpy(joined + *n_e * es, *p_l, *n_l * es);
                wd_free(c, *p_l);
                wd_free(c, *p_e);
                *p_l = joined;
                *n_l += *n_e;
            } else {
                *n_l = *n_e;
                *p_l = *p_e;
            }
            *n_e = 0;
            *p_e = NULL;
            continue;
        }
        switch (fd->type) {
        case PROTOBUF_C_TYPE_MESSAGE: {
            ProtobufCMessage *em = *(ProtobufCMessage **)e_elem, *lm = *(ProtobufCMessage **)l_elem;
            if (em != NULL && lm != NULL) {
                if (wd_merge(c, em, lm) != 0)
                    return -1;
            } else {
                need = em != NULL;
            }
            break;
        }
        case PROTOBUF_C_TYPE_BYTES:
            need = ((ProtobufCBinaryData *)e_elem)->data != NULL &&
                   ((ProtobufCBinaryData *)l_elem)->data == NULL;
            break;
        case PROTOBUF_C_TYPE_STRING:
            need = *(char **)e_elem != NULL && *(char **)l_elem == NULL;
            break;
        default:
            need = *(protobuf_c_boolean *)MEMBER(earlier, fd->quantifier_offset) &&
                   !*(protobuf_c_boolean *)MEMBER(latter, fd->quantifier_offset);
            break;
        }
        if (need) {
            memcpy(l_elem, e_elem, es);
            memset(e_elem, 0, es);
            if (fd->quantifier_offset != 0) {
                *(protobuf_c_boolean *)MEMBER(latter, fd->quantifier_offset) =
                    *(protobuf_c_boolean *)MEMBER(earlier, fd->quantifier_offset);
                *(protobuf_c_boolean *)MEMBER(earlier, fd->quantifier_offset) = 0;
            }
        }
    }
    return 0;
}

static void clear_go_zeros(ProtobufCMessage *m, ProtobufCAllocator *alloc);

/* A length-delimited value (payload pl..pl+plen) of singular field wf of m. */
static int wd_optional_delimited(struct wdec *c, const struct msg_info *mi,
                                 const struct wire_field *wf, const uint8_t *pl, size_t plen,
                                 unsigned depth, ProtobufCMessage *m)
{
    void *member = MEMBER(m, wf->offset);
    bool omit = (wf->flags & WF_OMIT) && c->clear;

    switch (wf->type) {
    case PROTOBUF_C_TYPE_STRING: {
        char **ps = member, *s;
        if (*ps != NULL)
            wd_free(c, *ps);
        *ps = NULL;
        if (omit && (plen == 0 || pl[0] == '\0'))
            return 0; /* Go's zero value (as a C string: "\0..." too) is absent */
        if ((s = wd_alloc(c, plen + 1)) == NULL)
            return -1;
        copy_small(s, pl, plen);
        s[plen] = '\0';
        *ps = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = member;
        if (bd->data != NULL)
            wd_free(c, bd->data);
        bd->data = NULL;
        bd->len = 0;
        if (plen > 0) {
            if ((bd->data = wd_alloc(c, plen)) == NULL)
                return -1;
            memcpy(bd->data, pl, plen);
        }
        bd->len = plen;
        *(protobuf_c_boolean *)MEMBER(m, wf->qoffset) = !(plen == 0 && omit);
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage **slot = member, *sub;
        const struct msg_info *smi = wf_sub(mi, wf);
        if (*slot == NULL) {
            if ((sub = wd_new(c, smi)) == NULL)
                return -1;
            *slot = sub;
            return wd_message(c, smi, pl, pl + plen, depth + 1, sub);
        }
        /* The field again: protobuf-c decodes the new occurrence on its own and merges the
         * earlier one into it. Go zeros are cleared only once the merge is done, as the old
         * pipeline did (unpack, then clear). */
        bool clear = c->clear;
        int rc;
        if ((sub = wd_new(c, smi)) == NULL)
            return -1;
        c->clear = false;
        rc = wd_message(c, smi, pl, pl + plen, depth + 1, sub);
        c->clear = clear;
        if (rc == 0)
            rc = wd_merge(c, *slot, sub);
        if (rc != 0) {
            protobuf_c_message_free_unpacked(sub, c->alloc);
            return -1;
        }
        protobuf_c_message_free_unpacked(*slot, c->alloc);
        *slot = sub;
        if (clear)
            clear_go_zeros(sub, c->alloc);
        return 0;
    }
    default:
        return -1;
    }
}

/* A packed run of scalars (payload pl..pl+plen) appended to arr[*count..cap). */
static int wd_packed(const struct wire_field *wf, const uint8_t *pl, size_t plen, char *arr,
                     size_t *count, size_t cap)
{
    size_t es = wf->es;
    const uint8_t *end = pl + plen;
    bool zero;

    switch (wf->type) {
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (plen % es != 0 || plen / es > cap - *count)
            return -1;
        if (plen == 0)
            return 0; /* (arr may be NULL) */
        memcpy(arr + *count * es, pl, plen);
        *count += plen / es;
        return 0;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return -1;
    default:
        while (pl < end) {
            const uint8_t *v = pl;
            if (wd_skip_varint(&pl, end) != 0 || *count >= cap)
                return -1;
            wd_scalar(wf->type, PROTOBUF_C_WIRE_TYPE_VARINT, v, (size_t)(pl - v), arr + *count * es,
                      &zero);
            ++*count;
        }
        return 0;
    }
}

/* Elements of a packed run as protobuf-c counts them before allocating; -1 if malformed. */
static long wd_packed_count(unsigned type, const uint8_t *pl, size_t plen)
{
    size_t n = 0;

    switch (type) {
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return plen % 4 != 0 ? -1 : (long)(plen / 4);
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return plen % 8 != 0 ? -1 : (long)(plen / 8);
    case PROTOBUF_C_TYPE_BOOL:
        return (long)plen;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return -1;
    default:
        for (size_t i = 0; i < plen; i++)
            n += !(pl[i] & 0x80);
        return (long)n;
    }
}

/* One field: its key, wire type and value bytes, as both passes read them. */
struct wd_item {
    uint32_t id;
    unsigned wt;
    const uint8_t *v; /* the value as protobuf-c scans it (with a length prefix) */
    size_t n;
    const uint8_t *pl; /* length-delimited: the payload */
    size_t plen;
};

/* Reads the next field at *pp; -1 if malformed. */
static inline int wd_next(const uint8_t **pp, const uint8_t *end, struct wd_item *it)
{
    if (wd_key(pp, end, &it->id, &it->wt) != 0)
        return -1;
    it->v = *pp;
    it->pl = NULL;
    it->plen = 0;
    switch (it->wt) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
        if (wd_skip_varint(pp, end) != 0)
            return -1;
        break;
    case PROTOBUF_C_WIRE_TYPE_64BIT:
        if (end - *pp < 8)
            return -1;
        *pp += 8;
        break;
    case PROTOBUF_C_WIRE_TYPE_32BIT:
        if (end - *pp < 4)
            return -1;
        *pp += 4;
        break;
    case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
        if (wd_len(pp, end, &it->plen) != 0)
            return -1;
        it->pl = *pp;
        *pp += it->plen;
        break;
    default:
        return -1;
    }
    it->n = (size_t)(*pp - it->v);
    return 0;
}

/* Messages with up to this many fields keep their decoding state on the stack. */
#define WD_SMALL 64

/* Decodes the fields in p..end into m (freshly initialised, of type mi->desc). */
static int wd_message(struct wdec *c, const struct msg_info *mi, const uint8_t *p,
                      const uint8_t *end, unsigned depth, ProtobufCMessage *m)
{
    const unsigned nf = mi->desc->n_fields;
    size_t cap_small[WD_SMALL], *cap = cap_small;
    size_t n_unknown = 0;
    struct wd_item it;
    const uint8_t *q;
    int rc = -1;

    if (depth > K8C_CODEC_MAX_DEPTH)
        return -1;
    if (mi->n_rep == 0)
        goto pass2; /* nothing to count: unknown fields get a growing array */
    /* Pass 1: framing, and how many elements each repeated field gets (counted in the
     * message's own count members, as protobuf-c does). */
    for (q = p; q < end;) {
        const struct wire_field *wf;
        int idx;
        if (wd_next(&q, end, &it) != 0)
            return -1;
        idx = wire_field(mi, it.id);
        if (idx < 0) {
            n_unknown++;
            continue;
        }
        wf = &mi->wf[idx];
        if (!(wf->flags & WF_REPEATED))
            continue;
        size_t *count = MEMBER(m, wf->qoffset);
        if (it.wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
            (wf->flags & (WF_PACKED | WF_PACKABLE))) {
            long k = wd_packed_count(wf->type, it.pl, it.plen);
            if (k < 0)
                return -1;
            *count += (size_t)k;
        } else {
            *count += 1;
        }
    }
    /* Arrays at their final size; counts restart at 0 and grow as elements are stored, so the
     * message can be freed by protobuf_c_message_free_unpacked at any point. A field with no
     * elements gets capacity 0. */
    if (nf > WD_SMALL)
        cap = k8c_malloc(nf * sizeof(size_t));
    for (unsigned k = 0; k < mi->n_rep; k++) {
        const struct wire_field *wf = &mi->wf[mi->rep[k]];
        size_t *count = MEMBER(m, wf->qoffset);
        cap[mi->rep[k]] = *count;
        if (*count == 0)
            continue;
        *count = 0;
        if ((*(void **)MEMBER(m, wf->offset) = wd_alloc(c, cap[mi->rep[k]] * wf->es)) == NULL) {
            while (++k < mi->n_rep)
                *(size_t *)MEMBER(m, mi->wf[mi->rep[k]].qoffset) = 0;
            goto done;
        }
    }
    if (n_unknown > 0 &&
        (m->unknown_fields = wd_alloc(c, n_unknown * sizeof(ProtobufCMessageUnknownField))) == NULL)
        goto done;
pass2:
    /* Pass 2: the values, in order. */
    for (q = p; q < end;) {
        const struct wire_field *wf;
        int idx;
        if (wd_next(&q, end, &it) != 0)
            goto done;
        idx = wire_field(mi, it.id);
        if (idx < 0) {
            ProtobufCMessageUnknownField *uf;
            if (m->n_unknown_fields == n_unknown) { /* not counted in pass 1: grow */
                size_t ucap = n_unknown ? n_unknown * 2 : 4;
                uf = wd_alloc(c, ucap * sizeof(*uf));
                if (uf == NULL)
                    goto done;
                if (n_unknown > 0)
                    memcpy(uf, m->unknown_fields, n_unknown * sizeof(*uf));
                if (m->unknown_fields != NULL)
                    wd_free(c, m->unknown_fields);
                m->unknown_fields = uf;
                n_unknown = ucap;
            }
            uf = &m->unknown_fields[m->n_unknown_fields];
            if ((uf->data = wd_alloc(c, it.n)) == NULL)
                goto done;
            uf->tag = it.id;
            uf->wire_type = (ProtobufCWireType)it.wt;
            uf->len = it.n;
            memcpy(uf->data, it.v, it.n);
            m->n_unknown_fields++;
            continue;
        }
        wf = &mi->wf[idx];
        void *member = MEMBER(m, wf->offset);
        if (!(wf->flags & WF_REPEATED)) {
            bool zero;
            if (!(wf->flags & WF_PACKABLE)) { /* string, bytes, message */
                if (it.wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED ||
                    wd_optional_delimited(c, mi, wf, it.pl, it.plen, depth, m) != 0)
                    goto done;
                continue;
            }
            if (wd_scalar(wf->type, it.wt, it.v, it.n, member, &zero) != 0)
                goto done;
            *(protobuf_c_boolean *)MEMBER(m, wf->qoffset) =
                !(zero && (wf->flags & WF_OMIT) && c->clear);
            continue;
        }
        size_t *count = MEMBER(m, wf->qoffset), limit = cap[idx];
        char *arr = *(char **)member;
        if (it.wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
            (wf->flags & (WF_PACKED | WF_PACKABLE))) {
            if (wd_packed(wf, it.pl, it.plen, arr, count, limit) != 0)
                goto done;
            continue;
        }
        if (*count >= limit)
            goto done; /* cannot happen: pass 1 counted this element */
        char *dst = arr + *count * wf->es;
        switch (wf->type) {
        case PROTOBUF_C_TYPE_MESSAGE: {
            const struct msg_info *smi = wf_sub(mi, wf);
            ProtobufCMessage *sub;
            if (it.wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || (sub = wd_new(c, smi)) == NULL)
                goto done;
            *(ProtobufCMessage **)dst = sub;
            ++*count;
            if (wd_message(c, smi, it.pl, it.pl + it.plen, depth + 1, sub) != 0)
                goto done;
            continue;
        }
        case PROTOBUF_C_TYPE_STRING: {
            char *s;
            if (it.wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED ||
                (s = wd_alloc(c, it.plen + 1)) == NULL)
                goto done;
            copy_small(s, it.pl, it.plen);
            s[it.plen] = '\0';
            *(char **)dst = s;
            break;
        }
        case PROTOBUF_C_TYPE_BYTES: {
            ProtobufCBinaryData *bd = (ProtobufCBinaryData *)dst;
            if (it.wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
                goto done;
            bd->data = NULL;
            bd->len = 0;
            if (it.plen > 0 && (bd->data = wd_alloc(c, it.plen)) == NULL)
                goto done;
            if (it.plen > 0)
                memcpy(bd->data, it.pl, it.plen);
            bd->len = it.plen;
            break;
        }
        default: {
            bool zero;
            if (wd_scalar(wf->type, it.wt, it.v, it.n, dst, &zero) != 0)
                goto done;
            break;
        }
        }
        ++*count;
    }
    rc = 0;
done:
    if (cap != cap_small)
        k8c_free(cap);
    return rc;
}

/* Decodes raw (the bytes of one message of type desc) with the fast codec; -1 on any error. */
static int wire_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *raw, size_t len,
                       ProtobufCAllocator *alloc, ProtobufCMessage **out)
{
    struct wdec c;
    ProtobufCMessage *m;

    c.alloc = alloc;
    c.clear = true;
    pieces_init(&c.pieces, alloc, len);
    m = wd_new(&c, get_info(desc));

    if (m == NULL)
        return -1;
    if (wd_message(&c, get_info(desc), raw, raw + len, 0, m) != 0) {
        protobuf_c_message_free_unpacked(m, alloc);
        return -1;
    }
    *out = m;
    return 0;
}

/* ---- encoding ---- */

/*
 * The output is built back to front in the spare room of the caller's buffer: out->data[pos,
 * end) holds what is written so far, out->len (the start of the room) does not move until the
 * end. When the room runs out the buffer grows and the written tail moves to its new end.
 */
struct wenc {
    struct k8c_sbuf *out;
    size_t pos, end;
    bool too_big; /* over K8C_CODEC_MAX_INPUT: writing stopped */
};

static bool we_grow(struct wenc *e, size_t n)
{
    size_t used = e->end - e->pos, room = e->end - e->out->len, want, new_end;

    if (e->too_big || used + n > K8C_CODEC_MAX_INPUT + 64) {
        e->too_big = true;
        return false;
    }
    want = room * 2 > used + n + 256 ? room * 2 : used + n + 256;
    k8c_sbuf_reserve(e->out, want);
    new_end = e->out->cap - 1;
    memmove(e->out->data + new_end - used, e->out->data + e->pos, used);
    e->pos = new_end - used;
    e->end = new_end;
    return true;
}

/* Room for n more bytes in front of what is written: a pointer to them, or NULL. */
static inline ALWAYS_INLINE uint8_t *we_put(struct wenc *e, size_t n)
{
    if (e->pos - e->out->len < n && !we_grow(e, n))
        return NULL;
    e->pos -= n;
    return (uint8_t *)e->out->data + e->pos;
}

static inline void we_bytes(struct wenc *e, const void *data, size_t n)
{
    uint8_t *p = we_put(e, n);

    if (p != NULL && n > 0)
        copy_small(p, data, n);
}

static inline ALWAYS_INLINE void we_varint(struct wenc *e, uint64_t v)
{
    uint8_t *p;

    if (v < 0x80) {
        if ((p = we_put(e, 1)) != NULL)
            *p = (uint8_t)v;
        return;
    }
    if ((p = we_put(e, k8c_codec_varint_len(v))) != NULL)
        k8c_codec_varint_put(p, v);
}

static inline void we_key(struct wenc *e, uint32_t id, unsigned wt)
{
    we_varint(e, (uint64_t)id << 3 | wt);
}

/* Bytes written so far (a mark: the length of what follows is the difference of two). */
static inline size_t we_mark(const struct wenc *e)
{
    return e->end - e->pos;
}

static unsigned wire_type(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return PROTOBUF_C_WIRE_TYPE_32BIT;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return PROTOBUF_C_WIRE_TYPE_64BIT;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    default:
        return PROTOBUF_C_WIRE_TYPE_VARINT;
    }
}

static void we_message(struct wenc *e, const ProtobufCMessage *m, const struct msg_info *mi);

/* A key precomputed in wf: eight bytes are copied, the key being their last key_len. */
static inline void we_wkey(struct wenc *e, const struct wire_field *wf)
{
    if (e->pos - e->out->len < 8 && !we_grow(e, 8))
        return;
    memcpy(e->out->data + e->pos - 8, wf->key, 8);
    e->pos -= wf->key_len;
}

/* A submessage with its length prefix (protobuf-c's prefixed_message_pack). */
static inline void we_sub(struct wenc *e, const struct msg_info *mi, const struct wire_field *wf,
                          const ProtobufCMessage *sub)
{
    size_t mark = we_mark(e);

    if (sub != NULL) {
        const struct msg_info *smi = wf_sub(mi, wf);
        we_message(e, sub, smi->desc == sub->descriptor ? smi : get_info(sub->descriptor));
    }
    we_varint(e, we_mark(e) - mark);
}

/* One value of field wf stored at p, without its key, as protobuf-c's required_field_pack. */
static inline __attribute__((always_inline)) void
we_value(struct wenc *e, const struct msg_info *mi, const struct wire_field *wf, const void *p)
{
    switch (wf->type) {
    case PROTOBUF_C_TYPE_SINT32: {
        int32_t v = *(const int32_t *)p;
        we_varint(e, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
        return;
    }
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_INT32: /* negative: ten bytes, sign-extended to 64 bits */
        we_varint(e, (uint64_t)(int64_t) * (const int32_t *)p);
        return;
    case PROTOBUF_C_TYPE_UINT32:
        we_varint(e, *(const uint32_t *)p);
        return;
    case PROTOBUF_C_TYPE_SINT64: {
        int64_t v = *(const int64_t *)p;
        we_varint(e, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
        return;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
        we_varint(e, *(const uint64_t *)p);
        return;
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        we_bytes(e, p, 4);
        return;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        we_bytes(e, p, 8);
        return;
    case PROTOBUF_C_TYPE_BOOL:
        we_varint(e, *(const protobuf_c_boolean *)p ? 1 : 0);
        return;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        size_t n = s != NULL ? strlen(s) : 0;
        we_bytes(e, s, n);
        we_varint(e, n);
        return;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        we_bytes(e, bd->data, bd->len);
        we_varint(e, bd->len);
        return;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        we_sub(e, mi, wf, *(ProtobufCMessage *const *)p);
        return;
    }
}

static void we_message(struct wenc *e, const ProtobufCMessage *m, const struct msg_info *mi)
{
    const struct wire_field *wf;

    /* Back to front: unknown fields (written last by protobuf-c), then the fields from the
     * highest number down. */
    for (size_t i = m->n_unknown_fields; i-- > 0;) {
        const ProtobufCMessageUnknownField *uf = &m->unknown_fields[i];
        we_bytes(e, uf->data, uf->len);
        we_key(e, uf->tag, uf->wire_type);
    }
    for (wf = mi->wf + mi->desc->n_fields; wf-- > mi->wf;) {
        const void *member = MEMBER(m, wf->offset);
        uint64_t chk;
        memcpy(&chk, (const char *)m + wf->qoffset, 8);
        if ((wf->flags & WF_CHK_NARROW ? (uint32_t)chk : chk) == 0)
            continue; /* absent (most fields of most messages) */
        if (wf->flags & WF_REPEATED) {
            size_t n = *(const size_t *)MEMBER(m, wf->qoffset), es = wf->es;
            const char *arr = *(const char *const *)member;
            if (wf->flags & WF_PACKED) {
                size_t mark = we_mark(e);
                for (size_t k = n; k-- > 0;)
                    we_value(e, mi, wf, arr + k * es);
                we_varint(e, we_mark(e) - mark);
            } else if (wf->type == PROTOBUF_C_TYPE_MESSAGE) {
                for (size_t k = n; k-- > 0;) {
                    we_sub(e, mi, wf, ((ProtobufCMessage *const *)arr)[k]);
                    we_wkey(e, wf);
                }
                continue;
            } else {
                for (size_t k = n; k-- > 0;) {
                    we_value(e, mi, wf, arr + k * es);
                    we_wkey(e, wf);
                }
                continue;
            }
        } else if (wf->type == PROTOBUF_C_TYPE_MESSAGE) {
            we_sub(e, mi, wf, *(ProtobufCMessage *const *)member);
        } else {
            we_value(e, mi, wf, member);
        }
        we_wkey(e, wf);
    }
}

/*
 * Appends the Kubernetes envelope around msg's encoding to out. 0, or K8C_ETOOBIG (out is then
 * unchanged).
 */
static int wire_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg, const char *api_version,
                       const char *kind)
{
    struct wenc e = {out, 0, 0, false};
    size_t av_len = strlen(api_version), kind_len = strlen(kind), raw_len, tm_mark, total;

    k8c_sbuf_reserve(out, 1024);
    e.end = e.pos = out->cap - 1;
    we_message(&e, msg, get_info(msg->descriptor));
    raw_len = we_mark(&e);
    we_varint(&e, raw_len);
    we_key(&e, 2, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
    /* runtime.Unknown: typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4; client-go
     * writes all four, the last two empty. */
    tm_mark = we_mark(&e);
    we_bytes(&e, kind, kind_len);
    we_varint(&e, kind_len);
    we_key(&e, 2, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
    we_bytes(&e, api_version, av_len);
    we_varint(&e, av_len);
    we_key(&e, 1, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
    we_varint(&e, we_mark(&e) - tm_mark);
    we_key(&e, 1, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
    we_bytes(&e, "k8s\0", 4);
    if (e.too_big || raw_len > K8C_CODEC_MAX_INPUT) {
        out->data[out->len] = '\0';
        return K8C_ETOOBIG;
    }
    total = we_mark(&e);
    memmove(out->data + out->len, out->data + e.pos, total);
    out->len += total;
    k8c_sbuf_append(out, "\x1a\x00\x22\x00", 4);
    return 0;
}

int k8c_codec_proto_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg,
                           const char *api_version, const char *kind, char *errmsg)
{
    size_t av_len, kind_len, tm_len, raw_len;

    if (api_version == NULL || kind == NULL) {
        const struct k8c_codec_kind *k = get_info(msg->descriptor)->kind;
        if (k == NULL) {
            k8c_errmsg_printf(errmsg, "type %s is not a registered kind", msg->descriptor->name);
            return K8C_ENOTFOUND;
        }
        api_version = k->api_version;
        kind = k->kind;
    }
    if (wire_fast(msg->descriptor)) {
        if (wire_encode(out, msg, api_version, kind) == 0)
            return 0;
        k8c_errmsg_printf(errmsg, "encoded object exceeds the limit of %u bytes",
                          K8C_CODEC_MAX_INPUT);
        return K8C_ETOOBIG;
    }
    /* Types the fast codec does not handle: protobuf-c. */
    av_len = strlen(api_version);
    kind_len = strlen(kind);
    tm_len =
        1 + k8c_codec_varint_len(av_len) + av_len + 1 + k8c_codec_varint_len(kind_len) + kind_len;
    raw_len = protobuf_c_message_get_packed_size(msg);
    if (raw_len > K8C_CODEC_MAX_INPUT) {
        k8c_errmsg_printf(errmsg, "encoded object of %zu bytes exceeds the limit", raw_len);
        return K8C_ETOOBIG;
    }
    k8c_sbuf_reserve(out, 4 + tm_len + raw_len + 32);
    k8c_sbuf_append(out, "k8s\0", 4);
    k8c_sbuf_putc(out, 0x0a);
    put_varint(out, tm_len);
    put_bytes_field(out, 0x0a, api_version, av_len);
    put_bytes_field(out, 0x12, kind, kind_len);
    k8c_sbuf_putc(out, 0x12);
    put_varint(out, raw_len);
    protobuf_c_message_pack(msg, (uint8_t *)out->data + out->len);
    out->len += raw_len;
    out->data[out->len] = '\0';
    k8c_sbuf_append(out, "\x1a\x00\x22\x00", 4);
    return 0;
}

int k8c_codec_proto_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                           ProtobufCAllocator *alloc, ProtobufCMessage **out, char *errmsg)
{
    struct k8c_codec_envelope env;
    int rc;

    *out = NULL;
    rc = k8c_codec_proto_unwrap(data, len, &env, errmsg);
    if (rc != 0)
        return rc;
    if (desc == NULL) {
        char av[128], kd[128];
        const struct k8c_codec_kind *k;
        snprintf(av, sizeof(av), "%.*s",
                 (int)(env.api_version_len < 127 ? env.api_version_len : 127),
                 env.api_version ? env.api_version : "");
        snprintf(kd, sizeof(kd), "%.*s", (int)(env.kind_len < 127 ? env.kind_len : 127),
                 env.kind ? env.kind : "");
        k = k8c_codec_lookup_kind(av, kd);
        if (k == NULL) {
            k8c_errmsg_printf(errmsg, "no kind \"%s\" is registered for version \"%s\"", kd, av);
            return K8C_ENOTFOUND;
        }
        desc = k->desc;
    }
    if (wire_fast(desc)) {
        if (wire_decode(desc, env.raw, env.raw_len, alloc ? alloc : &k8c_default_allocator, out) ==
            0)
            return 0;
        /* Report what the old pipeline reported: a framing or depth error if there is one,
         * else protobuf-c's refusal. */
        *out = NULL;
        rc = check_message(desc, env.raw, env.raw + env.raw_len, 0, K8C_CODEC_MAX_DEPTH, false,
                           errmsg);
        if (rc != 0)
            return rc;
        k8c_errmsg_printf(errmsg, "invalid protobuf encoding of %s", desc->name);
        return K8C_EPROTO;
    }
    rc = check_message(desc, env.raw, env.raw + env.raw_len, 0, K8C_CODEC_MAX_DEPTH, false, errmsg);
    if (rc != 0)
        return rc;
    *out = protobuf_c_message_unpack(desc, alloc ? alloc : &k8c_default_allocator, env.raw_len,
                                     env.raw);
    if (*out == NULL) {
        k8c_errmsg_printf(errmsg, "invalid protobuf encoding of %s", desc->name);
        return K8C_EPROTO;
    }
    /* Go writes omitempty value fields even when zero; upstream's JSON would not show them. */
    clear_go_zeros(*out, alloc ? alloc : &k8c_default_allocator);
    return 0;
}
