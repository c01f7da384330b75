/*
 * Equivalence tests for the codec's fast paths (lib/codec.c): the one-pass protobuf decoder and
 * back-to-front encoder, and the direct message -> JSON writer, against the reference pipelines
 * they replace, built here from public pieces:
 *
 *   decode: k8c_codec_proto_unwrap, k8c_codec_proto_check, protobuf_c_message_unpack,
 *           k8c_codec_clear_go_zeros
 *   encode: the envelope around protobuf_c_message_pack
 *   JSON:   k8c_codec_msg_to_tree + k8c_json_write
 *
 * Inputs: every object of the repo's codec test data (bench pod, golden manifests, fuzz
 * corpora), hand-made encodings of rare wire forms (packed scalars, bools on odd wire types,
 * repeated singular messages that protobuf-c merges, unknown fields), and thousands of
 * deterministic mutants of each encoding (bit flips, byte edits, cut, duplicated and swapped
 * ranges, concatenations) whose results, error codes and error messages must all agree.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "json.h"

#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/runtime/generated.pb-c.h"

#define MEMBER(msg, off) ((void *)((char *)(msg) + (off)))

/* ---- inputs --------------------------------------------------------------------------------- */

struct object {
    const ProtobufCMessageDescriptor *desc;
    uint8_t *raw; /* protobuf-c encoding of the message */
    size_t raw_len;
    ProtobufCMessage *msg; /* decoded with malloc */
};

static struct object objects[256];
static size_t n_objects;

static char root_dir[1024];

static void find_root(void)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/");

    assert_non_null(p);
    snprintf(root_dir, sizeof(root_dir), "%.*s", (int)(p - f), f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = k8c_malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void add_object(ProtobufCMessage *m)
{
    struct object *o;

    if (n_objects == sizeof(objects) / sizeof(objects[0])) {
        protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    o = &objects[n_objects++];
    o->desc = m->descriptor;
    o->msg = m;
    o->raw_len = protobuf_c_message_get_packed_size(m);
    o->raw = k8c_malloc(o->raw_len + 1);
    protobuf_c_message_pack(m, o->raw);
}

static void add_json(const char *text, size_t len)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m;

    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(NULL, text, len, NULL, &d, &m) == 0)
        add_object(m);
    k8c_codec_diag_free(&d);
}

static void add_yaml(const char *text, size_t len)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json **docs;
    size_t n_docs;
    char err[K8C_ERRMSG_SIZE];

    if (k8c_codec_yaml_parse(a, text, len, &docs, &n_docs, err) == 0) {
        for (size_t i = 0; i < n_docs; i++) {
            struct k8c_sbuf sb;
            k8c_sbuf_init(&sb);
            k8c_json_write(&sb, docs[i], 0, 0);
            add_json(sb.data, sb.len);
            k8c_sbuf_free(&sb);
        }
    }
    k8c_arena_del(a);
}

static void add_dir(const char *rel, void (*fn)(const char *, size_t))
{
    char path[1400];
    DIR *dir;
    struct dirent *de;

    snprintf(path, sizeof(path), "%s%s", root_dir, rel);
    dir = opendir(path);
    if (dir == NULL)
        return;
    while ((de = readdir(dir)) != NULL) {
        char file[2800];
        size_t len;
        char *text;
        if (de->d_name[0] == '.')
            continue;
        snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
        if ((text = read_file(file, &len)) != NULL)
            fn(text, len);
        k8c_free(text);
    }
    closedir(dir);
}

static void add_proto(const char *data, size_t len)
{
    ProtobufCMessage *m;
    char err[K8C_ERRMSG_SIZE];

    if (k8c_codec_proto_decode(NULL, (const uint8_t *)data, len, NULL, &m, err) == 0)
        add_object(m);
}

static ProtobufCMessage *from_json(const char *json)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m = NULL;

    k8c_codec_diag_init(&d);
    assert_int_equal(k8c_codec_json_decode(NULL, json, strlen(json), NULL, &d, &m), 0);
    k8c_codec_diag_free(&d);
    return m;
}

static void set_raw(ProtobufCMessage *m, const void *data, size_t len)
{
    K8s__Io__Api__Apps__V1__ControllerRevision *cr = (void *)m;

    free(cr->data->raw.data);
    cr->data->raw.data = malloc(len);
    memcpy(cr->data->raw.data, data, len);
    cr->data->raw.len = len;
    cr->data->has_raw = 1;
}

/* Objects the repo's data lacks: big unsorted maps with duplicate keys, raw JSON, embedded
 * protobuf objects, raw bytes that are neither, times outside the usual range. */
static void add_extras(void)
{
    struct k8c_sbuf sb;
    ProtobufCMessage *m;

    /* ConfigMap with 40 + 20 keys, entries then reversed and two keys made equal */
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                       "\"c\"},\"data\":{");
    for (int i = 0; i < 40; i++)
        k8c_sbuf_printf(&sb, "%s\"k%d%s\":\"v<%d>\"", i ? "," : "", (i * 7) % 40,
                        i % 5 == 0 ? "\\u00e9\\\"" : "", i);
    k8c_sbuf_puts(&sb, "},\"binaryData\":{");
    for (int i = 0; i < 20; i++)
        k8c_sbuf_printf(&sb, "%s\"b%d\":\"%s\"", i ? "," : "", 19 - i, i % 2 ? "AAEC" : "");
    k8c_sbuf_puts(&sb, "}}");
    m = from_json(sb.data);
    k8c_sbuf_free(&sb);
    {
        K8s__Io__Api__Core__V1__ConfigMap *cm = (void *)m;
        for (size_t i = 0; i < cm->n_data / 2; i++) {
            void *t = cm->data[i];
            cm->data[i] = cm->data[cm->n_data - 1 - i];
            cm->data[cm->n_data - 1 - i] = t;
        }
        free(cm->data[3]->key);
        cm->data[3]->key = strdup(cm->data[30]->key);
        free(cm->binarydata[2]->key);
        cm->binarydata[2]->key = strdup(cm->binarydata[7]->key);
        for (size_t i = 0; i < cm->n_binarydata / 2; i++) {
            void *t = cm->binarydata[i];
            cm->binarydata[i] = cm->binarydata[cm->n_binarydata - 1 - i];
            cm->binarydata[cm->n_binarydata - 1 - i] = t;
        }
    }
    add_object(m);
    /* a map of 20 entries (merged in the small buffer) */
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{");
    for (int i = 0; i < 20; i++)
        k8c_sbuf_printf(&sb, "%s\"x%d\":\"\"", i ? "," : "", (i * 3) % 20);
    k8c_sbuf_puts(&sb, "}}");
    m = from_json(sb.data);
    k8c_sbuf_free(&sb);
    {
        K8s__Io__Api__Core__V1__ConfigMap *cm = (void *)m;
        void *t = cm->data[0];
        cm->data[0] = cm->data[19];
        cm->data[19] = t;
    }
    add_object(m);
    /* raw JSON, nested */
    add_object(from_json("{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                         "\"metadata\":{\"name\":\"r\",\"labels\":{\"a\":\"b\"}},\"data\":"
                         "{\"b\":[1,2.50,{\"c\":\"<&>\\u2028\",\"d\":[]},{}],\"a\":null,"
                         "\"b\":-0,\"z\":{\"y\":{\"x\":[[true,false]]}}},\"revision\":2}"));
    /* an embedded Kubernetes protobuf Pod; then bytes that are neither that nor JSON */
    {
        ProtobufCMessage *pod = from_json("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                                          "{\"name\":\"p\"},\"spec\":{\"containers\":[{"
                                          "\"name\":\"c\",\"image\":\"i\"}]}}");
        k8c_sbuf_init(&sb);
        assert_int_equal(k8c_codec_proto_encode(&sb, pod, NULL, NULL, NULL), 0);
        m = from_json("{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                      "\"data\":{},\"revision\":3}");
        set_raw(m, sb.data, sb.len);
        add_object(m);
        m = from_json("{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                      "\"data\":{}}");
        set_raw(m, sb.data, sb.len - 9);
        add_object(m);
        m = from_json("{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                      "\"data\":{}}");
        set_raw(m, "{\"a\":", 5);
        add_object(m);
        k8c_sbuf_free(&sb);
        protobuf_c_message_free_unpacked(pod, NULL);
    }
    /* string lists (Verbs), maps of them (ExtraValue), MicroTime, raw JSON table cells */
    add_object(from_json("{\"apiVersion\":\"v1\",\"kind\":\"APIResourceList\",\"groupVersion\":"
                         "\"v1\",\"resources\":[{\"name\":\"pods\",\"namespaced\":true,\"kind\":"
                         "\"Pod\",\"verbs\":[\"get\",\"list\"],\"shortNames\":[\"po\"]},{\"name\":"
                         "\"x\",\"verbs\":[]}]}"));
    add_object(from_json("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
                         "\"spec\":{\"token\":\"t\"},\"status\":{\"authenticated\":true,\"user\":{"
                         "\"username\":\"u\",\"groups\":[\"g\"],\"extra\":{\"b\":[\"1\",\"2\"],"
                         "\"a\":[]}}}}"));
    add_object(
        from_json("{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                  "\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":\"h\","
                  "\"leaseDurationSeconds\":15,\"renewTime\":\"2024-01-02T03:04:05.000001Z\"}}"));
    add_object(
        from_json("{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"Table\",\"columnDefinitions\":"
                  "[{\"name\":\"Name\",\"type\":\"string\"}],\"rows\":[{\"cells\":[\"a\",1.5,"
                  "{\"x\":[true]},null]}]}"));
    /* times: far past and future years, nanos out of range, MicroTime, Duration-free Event */
    {
        static const int64_t secs[] = {-62135596800 - 86400, 253402300800, 0, -1, 1700000000};
        static const int32_t nanos[] = {5, -7, 999999999, 2000000000, 123456789};
        for (size_t i = 0; i < 5; i++) {
            K8s__Io__Api__Core__V1__Event *ev;
            m = from_json("{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":"
                          "\"e\",\"creationTimestamp\":\"2024-01-02T03:04:05Z\"},\"eventTime\":"
                          "\"2024-01-02T03:04:05.123456Z\",\"count\":-3}");
            ev = (void *)m;
            ev->metadata->creationtimestamp->seconds = secs[i];
            ev->eventtime->seconds = secs[4 - i];
            ev->eventtime->nanos = nanos[i];
            ev->eventtime->has_nanos = 1;
            add_object(m);
        }
    }
}

static int setup(void **state)
{
    char path[1400];
    size_t len;
    char *text;

    find_root();
    snprintf(path, sizeof(path), "%sbench/codec/pod.json", root_dir);
    text = read_file(path, &len);
    assert_non_null(text);
    add_json(text, len);
    k8c_free(text);
    add_dir("tests/integration/codec/manifests", add_yaml);
    add_dir("tests/fuzz/corpus/json", add_json);
    add_dir("tests/fuzz/corpus/yaml", add_yaml);
    add_dir("tests/fuzz/corpus/k8sproto", add_proto);
    add_extras();
    /* the pod, the manifests and at least one corpus object */
    assert_true(n_objects >= 15);
    return 0;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < n_objects; i++) {
        protobuf_c_message_free_unpacked(objects[i].msg, NULL);
        k8c_free(objects[i].raw);
    }
    return 0;
}

/* ---- reference pipelines -------------------------------------------------------------------- */

static void put_varint(struct k8c_sbuf *sb, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        k8c_sbuf_putc(sb, (char)(b | (v ? 0x80 : 0)));
    } while (v);
}

static void put_field(struct k8c_sbuf *sb, uint8_t key, const void *data, size_t len)
{
    k8c_sbuf_putc(sb, (char)key);
    put_varint(sb, len);
    k8c_sbuf_append(sb, data, len);
}

/* "k8s\0" + runtime.Unknown around raw, as client-go writes it. */
static void wrap(struct k8c_sbuf *sb, const char *av, const char *kind, const uint8_t *raw,
                 size_t len)
{
    struct k8c_sbuf tm;

    k8c_sbuf_init(&tm);
    put_field(&tm, 0x0a, av, strlen(av));
    put_field(&tm, 0x12, kind, strlen(kind));
    k8c_sbuf_append(sb, "k8s\0", 4);
    put_field(sb, 0x0a, tm.data, tm.len);
    put_field(sb, 0x12, raw, len);
    k8c_sbuf_append(sb, "\x1a\x00\x22\x00", 4);
    k8c_sbuf_free(&tm);
}

static size_t elem_size(const ProtobufCFieldDescriptor *fd);

/* malloc/free as a ProtobufCAllocator (protobuf-c's default one is not exported). */
static void *sys_alloc(void *data, size_t n)
{
    return malloc(n ? n : 1);
}

static void sys_free(void *data, void *p)
{
    free(p);
}

static ProtobufCAllocator sys_allocator = {sys_alloc, sys_free, NULL};

/* The special types of codec.h (never cleared of Go zeros). */
static const char *const special_types[] = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs",
    "k8s.io.api.authentication.v1.ExtraValue",
    "k8s.io.api.authentication.v1beta1.ExtraValue",
    "k8s.io.api.authorization.v1.ExtraValue",
    "k8s.io.api.authorization.v1beta1.ExtraValue",
    "k8s.io.api.certificates.v1.ExtraValue",
    "k8s.io.api.certificates.v1beta1.ExtraValue",
};

/* The Go zero-value rule of codec.h, written out plainly from k8c_codec_go_zero_kept (the
 * reference for the library's k8c_codec_clear_go_zeros and for the fast decoder). */
static void ref_clear_go_zeros(ProtobufCMessage *m, ProtobufCAllocator *alloc)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *const *kept = k8c_codec_go_zero_kept(d->name);

    for (size_t k = 0; k < sizeof(special_types) / sizeof(special_types[0]); k++)
        if (strcmp(d->name, special_types[k]) == 0)
            return;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        void *member = MEMBER(m, fd->offset);
        bool omitempty;
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
                size_t n = *(size_t *)MEMBER(m, fd->quantifier_offset);
                for (size_t k = 0; k < n; k++)
                    if ((*(ProtobufCMessage ***)member)[k] != NULL)
                        ref_clear_go_zeros((*(ProtobufCMessage ***)member)[k], alloc);
            } else if (*(ProtobufCMessage **)member != NULL) {
                ref_clear_go_zeros(*(ProtobufCMessage **)member, alloc);
            }
            continue;
        }
        omitempty = kept != NULL && fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
                    !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
        for (size_t k = 0; omitempty && kept[k] != NULL; k++)
            omitempty = strcmp(kept[k], fd->name) != 0;
        if (!omitempty)
            continue;
        if (fd->type == PROTOBUF_C_TYPE_STRING) {
            char *str = *(char **)member;
            if (str != NULL && str[0] == '\0') {
                alloc->free(alloc->allocator_data, str);
                *(char **)member = NULL;
            }
            continue;
        }
        protobuf_c_boolean *has = MEMBER(m, fd->quantifier_offset);
        bool zero;
        switch (fd->type) {
        case PROTOBUF_C_TYPE_BYTES:
            zero = ((ProtobufCBinaryData *)member)->len == 0;
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            zero = *(double *)member == 0.0;
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            zero = *(float *)member == 0.0f;
            break;
        default:
            zero = elem_size(fd) == 8 ? *(uint64_t *)member == 0 : *(uint32_t *)member == 0;
            break;
        }
        if (*has && zero)
            *has = 0;
    }
}

static int ref_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                      ProtobufCAllocator *alloc, ProtobufCMessage **out, char *errmsg)
{
    struct k8c_codec_envelope env;
    int rc = k8c_codec_proto_unwrap(data, len, &env, errmsg);

    *out = NULL;
    if (rc != 0)
        return rc;
    rc = k8c_codec_proto_check(desc, env.raw, env.raw_len, K8C_CODEC_MAX_DEPTH, errmsg);
    if (rc != 0)
        return rc;
    *out = protobuf_c_message_unpack(desc, alloc, env.raw_len, env.raw);
    if (*out == NULL) {
        k8c_errmsg_printf(errmsg, "invalid protobuf encoding of %s", desc->name);
        return K8C_EPROTO;
    }
    ref_clear_go_zeros(*out, alloc ? alloc : &sys_allocator);
    return 0;
}

static int ref_json(struct k8c_sbuf *sb, const ProtobufCMessage *m, unsigned flags, int indent,
                    char *errmsg)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *tree;
    int rc = k8c_codec_msg_to_tree(a, m, flags, &tree, errmsg);

    if (rc == 0)
        k8c_json_write(sb, tree, indent, 0);
    k8c_arena_del(a);
    return rc;
}

/* ---- deep comparison ------------------------------------------------------------------------ */

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
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static bool value_equal(const ProtobufCFieldDescriptor *fd, const void *x, const void *y);

/* Every field, presence flag and unknown field of two messages, recursively. */
static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    const ProtobufCMessageDescriptor *d;

    if (a == NULL || b == NULL)
        return a == b;
    if (a->descriptor != b->descriptor || a->n_unknown_fields != b->n_unknown_fields)
        return false;
    for (size_t i = 0; i < a->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *x = &a->unknown_fields[i], *y = &b->unknown_fields[i];
        if (x->tag != y->tag || x->wire_type != y->wire_type || x->len != y->len ||
            memcmp(x->data, y->data, x->len) != 0)
            return false;
    }
    d = a->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const void *x = MEMBER(a, fd->offset), *y = MEMBER(b, fd->offset);
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)MEMBER(a, fd->quantifier_offset), es = elem_size(fd);
            if (n != *(const size_t *)MEMBER(b, fd->quantifier_offset))
                return false;
            for (size_t k = 0; k < n; k++)
                if (!value_equal(fd, *(char *const *)x + k * es, *(char *const *)y + k * es))
                    return false;
            continue;
        }
        if (fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE &&
            fd->quantifier_offset != 0) {
            protobuf_c_boolean hx = *(const protobuf_c_boolean *)MEMBER(a, fd->quantifier_offset);
            if (hx != *(const protobuf_c_boolean *)MEMBER(b, fd->quantifier_offset))
                return false;
        }
        if (!value_equal(fd, x, y))
            return false;
    }
    return true;
}

static bool value_equal(const ProtobufCFieldDescriptor *fd, const void *x, const void *y)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)x, *t = *(const char *const *)y;
        return (s == NULL || t == NULL) ? s == t : strcmp(s, t) == 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return msg_equal(*(ProtobufCMessage *const *)x, *(ProtobufCMessage *const *)y);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *s = x, *t = y;
        return s->len == t->len && (s->data == NULL) == (t->data == NULL) &&
               (s->len == 0 || memcmp(s->data, t->data, s->len) == 0);
    }
    default:
        return memcmp(x, y, elem_size(fd)) == 0;
    }
}

/* ---- checks --------------------------------------------------------------------------------- */

static unsigned long n_accepted, n_refused;

static void check_json(const ProtobufCMessage *m);
static void check_clear(const ProtobufCMessageDescriptor *desc, const uint8_t *raw, size_t len);

/* The fast decoder and the reference agree on data (result or error), with both allocators. */
static void check_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len)
{
    for (int use_arena = 0; use_arena < 2; use_arena++) {
        struct k8c_arena *a1 = k8c_arena_new(0), *a2 = k8c_arena_new(0);
        ProtobufCAllocator *al1 = use_arena ? k8c_arena_protobuf_allocator(a1) : NULL;
        ProtobufCAllocator *al2 = use_arena ? k8c_arena_protobuf_allocator(a2) : NULL;
        char e1[K8C_ERRMSG_SIZE] = "", e2[K8C_ERRMSG_SIZE] = "";
        ProtobufCMessage *m1, *m2;
        int rc1 = k8c_codec_proto_decode(desc, data, len, al1, &m1, e1);
        int rc2 = ref_decode(desc, data, len, al2, &m2, e2);

        if (rc1 != rc2 || strcmp(e1, e2) != 0) {
            fprintf(stderr, "decode of %zu bytes: fast %d \"%s\", reference %d \"%s\"\n", len, rc1,
                    e1, rc2, e2);
            fail();
        }
        if (rc1 == 0) {
            struct k8c_sbuf s1, s2;
            if (!msg_equal(m1, m2)) {
                struct k8c_sbuf j1, j2;
                k8c_sbuf_init(&j1);
                k8c_sbuf_init(&j2);
                ref_json(&j1, m1, 0, 0, e1);
                ref_json(&j2, m2, 0, 0, e2);
                fprintf(stderr, "decode of %zu bytes: messages differ\nfast: %s\nref:  %s\n", len,
                        j1.data, j2.data);
                for (size_t k = 0; k < len; k++)
                    fprintf(stderr, "%02x", data[k]);
                fprintf(stderr, "\n");
                k8c_sbuf_free(&j1);
                k8c_sbuf_free(&j2);
                fail();
            }
            /* and the encoder writes the same bytes as protobuf-c for what was decoded */
            k8c_sbuf_init(&s1);
            k8c_sbuf_init(&s2);
            k8c_sbuf_append(&s1, "prefix", 6);
            k8c_sbuf_append(&s2, "prefix", 6);
            assert_int_equal(k8c_codec_proto_encode(&s1, m1, "v1", "Thing", e1), 0);
            {
                size_t n = protobuf_c_message_get_packed_size(m2);
                uint8_t *raw = k8c_malloc(n + 1);
                protobuf_c_message_pack(m2, raw);
                wrap(&s2, "v1", "Thing", raw, n);
                k8c_free(raw);
            }
            assert_int_equal(s1.len, s2.len);
            assert_memory_equal(s1.data, s2.data, s1.len);
            k8c_sbuf_free(&s1);
            k8c_sbuf_free(&s2);
            /* odd values (unknown enums, NULs in strings, raw bytes that are not JSON) as JSON */
            if (!use_arena)
                check_json(m1);
            n_accepted++;
        } else {
            n_refused++;
        }
        if (!use_arena) {
            protobuf_c_message_free_unpacked(m1, NULL);
            protobuf_c_message_free_unpacked(m2, NULL);
        }
        k8c_arena_del(a1);
        k8c_arena_del(a2);
    }
}

static void check_decode_raw(const ProtobufCMessageDescriptor *desc, const uint8_t *raw, size_t len)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    wrap(&sb, "v1", "Thing", raw, len);
    check_decode(desc, (const uint8_t *)sb.data, sb.len);
    k8c_sbuf_free(&sb);
    check_clear(desc, raw, len);
}

/* The direct JSON writer and msg_to_tree + k8c_json_write agree, in every mode. */
static void check_json(const ProtobufCMessage *m)
{
    for (unsigned flags = 0; flags <= K8C_CODEC_TYPE_META; flags++) {
        for (int indent = 0; indent <= 4; indent += 4) {
            struct k8c_sbuf s1, s2;
            k8c_sbuf_init(&s1);
            k8c_sbuf_init(&s2);
            k8c_sbuf_append(&s1, "x", 1);
            k8c_sbuf_append(&s2, "x", 1);
            char e1[K8C_ERRMSG_SIZE] = "", e2[K8C_ERRMSG_SIZE] = "";
            int rc1 = k8c_codec_json_encode(&s1, m, flags, indent, e1), rc2;
            rc2 = ref_json(&s2, m, flags, indent, e2);
            if (rc1 != rc2 || strcmp(e1, e2) != 0) {
                fprintf(stderr, "JSON error differs: %d \"%s\" vs %d \"%s\"\n", rc1, e1, rc2, e2);
                fail();
            }
            if (s1.len != s2.len || memcmp(s1.data, s2.data, s1.len) != 0) {
                fprintf(stderr, "JSON differs (flags %u indent %d):\nfast: %s\nref:  %s\n", flags,
                        indent, s1.data, s2.data);
                fail();
            }
            k8c_sbuf_free(&s1);
            k8c_sbuf_free(&s2);
        }
    }
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* k8c_codec_clear_go_zeros against the reference on raw (protobuf-c, nothing cleared). */
static void check_clear(const ProtobufCMessageDescriptor *desc, const uint8_t *raw, size_t len)
{
    ProtobufCMessage *a = protobuf_c_message_unpack(desc, NULL, len, raw);
    ProtobufCMessage *b = protobuf_c_message_unpack(desc, NULL, len, raw);

    if (a == NULL || b == NULL) {
        protobuf_c_message_free_unpacked(a, NULL);
        protobuf_c_message_free_unpacked(b, NULL);
        return;
    }
    k8c_codec_clear_go_zeros(a, NULL);
    ref_clear_go_zeros(b, &sys_allocator);
    assert_true(msg_equal(a, b));
    protobuf_c_message_free_unpacked(a, NULL);
    protobuf_c_message_free_unpacked(b, NULL);
}

static void test_objects(void **state)
{
    for (size_t i = 0; i < n_objects; i++) {
        check_decode_raw(objects[i].desc, objects[i].raw, objects[i].raw_len);
        check_json(objects[i].msg);
        check_clear(objects[i].desc, objects[i].raw, objects[i].raw_len);
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rnd_below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd() % n);
}

/* One random edit of buf (len bytes, capacity cap); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x05, 0x07, 0x08, 0x0a, 0x10,
                                          0x12, 0x1a, 0x7f, 0x80, 0x81, 0xff, 0x22, 0x0d};
    size_t at = rnd_below(len), n;

    switch (rnd() % 8) {
    case 0: /* bit flip */
        if (len > 0)
            buf[at] ^= (uint8_t)(1u << (rnd() % 8));
        return len;
    case 1: /* interesting byte */
        if (len > 0)
            buf[at] = interesting[rnd() % sizeof(interesting)];
        return len;
    case 2: /* delete a range */
        n = rnd_below(len - at > 16 ? 16 : len - at) + 1;
        if (at + n > len)
            return len;
        memmove(buf + at, buf + at + n, len - at - n);
        return len - n;
    case 3: /* insert interesting bytes */
        n = rnd_below(4) + 1;
        if (len + n > cap)
            return len;
        memmove(buf + at + n, buf + at, len - at);
        for (size_t k = 0; k < n; k++)
            buf[at + k] = interesting[rnd() % sizeof(interesting)];
        return len + n;
    case 4: /* duplicate a range somewhere (repeated fields, merged messages) */
    case 5: {
        size_t from = rnd_below(len), to = rnd_below(len + 1);
        n = rnd_below(len - from > 64 ? 64 : len - from) + 1;
        if (from + n > len || len + n > cap)
            return len;
        uint8_t tmp[64];
        memcpy(tmp, buf + from, n);
        memmove(buf + to + n, buf + to, len - to);
        memcpy(buf + to, tmp, n);
        return len + n;
    }
    case 6: /* truncate */
        return at;
    default: /* random byte */
        if (len > 0)
            buf[at] = (uint8_t)rnd();
        return len;
    }
}

/* K8C_EQUIV_ROUNDS=n runs n mutants per object instead of 1500 (for long runs by hand). */
static void test_mutants(void **state)
{
    const char *env = getenv("K8C_EQUIV_ROUNDS");
    int mutant_rounds = env != NULL ? atoi(env) : 1500;

    for (size_t i = 0; i < n_objects; i++) {
        const struct object *o = &objects[i];
        size_t cap = o->raw_len * 2 + 256;
        uint8_t *buf = k8c_malloc(cap);
        for (int round = 0; round < mutant_rounds; round++) {
            size_t len = o->raw_len;
            memcpy(buf, o->raw, len);
            for (int k = (int)(rnd() % 3); k >= 0; k--)
                len = mutate(buf, len, cap);
            check_decode_raw(o->desc, buf, len);
        }
        /* the whole encoding twice: every singular submessage occurs twice and is merged */
        memcpy(buf, o->raw, o->raw_len);
        memcpy(buf + o->raw_len, o->raw, o->raw_len);
        check_decode_raw(o->desc, buf, o->raw_len * 2);
        /* an encoding followed by a mutant of it */
        for (int round = 0; round < 200; round++) {
            size_t len = o->raw_len;
            memcpy(buf, o->raw, len);
            len = mutate(buf, len, cap / 2);
            memcpy(buf + len, o->raw, o->raw_len);
            check_decode_raw(o->desc, buf, len + o->raw_len);
            memmove(buf + o->raw_len, buf, len);
            memcpy(buf, o->raw, o->raw_len);
            check_decode_raw(o->desc, buf, len + o->raw_len);
        }
        k8c_free(buf);
    }
    fprintf(stderr, "mutants: %lu accepted, %lu refused\n", n_accepted, n_refused);
    /* both outcomes were exercised */
    assert_true(n_accepted > 1000);
    assert_true(n_refused > 1000);
}

/* Appends key and value bytes. */
static size_t put(uint8_t *p, const char *bytes, size_t n)
{
    memcpy(p, bytes, n);
    return n;
}

static void test_rare_wire_forms(void **state)
{
    const ProtobufCMessageDescriptor *psc =
        &k8s__io__api__core__v1__pod_security_context__descriptor;
    const ProtobufCMessageDescriptor *pod = &k8s__io__api__core__v1__pod__descriptor;
    const ProtobufCMessageDescriptor *port = &k8s__io__api__core__v1__container_port__descriptor;
    uint8_t b[256];
    size_t n;

    /* PodSecurityContext.supplementalGroups (4, repeated int64): packed, unpacked and mixed;
     * runAsNonRoot (3, bool) on every wire type; runAsUser (2, int64) zero and negative. */
    n = put(b, "\x22\x05\x01\x02\x80\x01\x00", 7);
    n += put(b + n, "\x20\x07", 2);
    n += put(b + n, "\x22\x00", 2);
    check_decode_raw(psc, b, n);
    check_decode_raw(psc, (const uint8_t *)"\x22\x02\x01\x80", 4); /* unterminated */
    check_decode_raw(psc, (const uint8_t *)"\x18\x00", 2);
    check_decode_raw(psc, (const uint8_t *)"\x18\x02", 2);
    check_decode_raw(psc, (const uint8_t *)"\x1a\x01\x00", 3);
    check_decode_raw(psc, (const uint8_t *)"\x1a\x00", 2);
    check_decode_raw(psc, (const uint8_t *)"\x19\x00\x00\x00\x00\x00\x00\x00\x01", 9);
    check_decode_raw(psc, (const uint8_t *)"\x1d\x00\x00\x00\x00", 5);
    check_decode_raw(psc, (const uint8_t *)"\x10\x00", 2);
    check_decode_raw(psc, (const uint8_t *)"\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
    check_decode_raw(psc, (const uint8_t *)"\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                     12);                                  /* varint of 11 bytes */
    check_decode_raw(psc, (const uint8_t *)"\x12\x00", 2); /* int64 as length-delimited */
    /* ContainerPort.containerPort (2, int32): 10-byte negative, 5-byte with high bits */
    check_decode_raw(port, (const uint8_t *)"\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
    check_decode_raw(port, (const uint8_t *)"\x10\xff\xff\xff\xff\x7f", 6);
    check_decode_raw(port, (const uint8_t *)"\x10\x00\x0a\x00\x0a\x01x\x0a\x00", 9);
    /* keys: padded (6 bytes, refused by protobuf-c), field 0, huge field numbers, groups */
    check_decode_raw(port, (const uint8_t *)"\x90\x80\x80\x80\x80\x00\x01", 7);
    check_decode_raw(port, (const uint8_t *)"\x90\x80\x80\x80\x00\x01", 6);
    check_decode_raw(port, (const uint8_t *)"\x00\x01", 2);
    check_decode_raw(port, (const uint8_t *)"\xf8\xff\xff\xff\x0f\x01", 6);
    check_decode_raw(port, (const uint8_t *)"\xf8\xff\xff\xff\x01\x01", 6);
    check_decode_raw(port, (const uint8_t *)"\x0b\x0c", 2);
    /* unknown fields of every wire type, kept and re-encoded */
    check_decode_raw(port,
                     (const uint8_t *)"\xc8\x01\x05\xd2\x01\x02hi\xd9\x01\x01\x02\x03\x04\x05\x06"
                                      "\x07\x08\xdd\x01\x01\x02\x03\x04",
                     23);
    /* length prefixes: padded to 6 bytes, longer than the data */
    check_decode_raw(port, (const uint8_t *)"\x0a\x81\x80\x80\x80\x80\x00x", 8);
    check_decode_raw(port, (const uint8_t *)"\x0a\x81\x80\x80\x80\x00x", 7);
    check_decode_raw(port, (const uint8_t *)"\x0a\x05x", 3);
    /* Pod.metadata (1) twice: merged; labels (11, map entries) concatenated; the second
     * generation (7) of 0 clears the first; the second name (1) replaces the first */
    n = put(b,
            "\x0a\x0c\x0a\x01"
            "a\x38\x05\x5a\x06\x0a\x01k\x12\x01v",
            14);
    n += put(b + n,
             "\x0a\x0b\x0a\x01"
             "b\x38\x00\x5a\x06\x0a\x01k\x12\x01w",
             13);
    check_decode_raw(pod, b, n);
    /* merged twice, with an empty occurrence in between */
    n = put(b, "\x0a\x03\x38\x05\x0a\x00\x0a\x02\x12\x00", 10);
    check_decode_raw(pod, b, n);
}

static void test_go_zero_clearing_matches(void **state)
{
    /* ObjectMeta with every scalar zero: the fast decoder clears the same fields as
     * k8c_codec_clear_go_zeros (name "", generation 0, and the others). */
    const ProtobufCMessageDescriptor *meta =
        &k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor;
    check_decode_raw(meta,
                     (const uint8_t *)"\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00"
                                      "\x38\x00\x50\x00",
                     16);
    check_decode_raw(&k8s__io__api__core__v1__container__descriptor,
                     (const uint8_t *)"\x0a\x00\x12\x00\x58\x00\x60\x00\x68\x00\x78\x00", 12);
}

/* The word-at-a-time string scanners of json.c (parser and writer): every special byte at
 * every offset of strings around the word size, and random round trips. */
static void test_json_strings(void **state)
{
    static const char *const specials[] = {"\"",
                                           "\\",
                                           "\n",
                                           "\x01",
                                           "\x1f",
                                           "<",
                                           ">",
                                           "&",
                                           "\xc3\xa9",
                                           "\xe2\x80\xa8",
                                           "\xf0\x9f\x98\x80",
                                           "\x7f"};
    static const char *const escaped[] = {
        "\\\"",    "\\\\",    "\\n",      "\\u0001", "\\u001f",          "\\u003c",
        "\\u003e", "\\u0026", "\xc3\xa9", "\\u2028", "\xf0\x9f\x98\x80", "\x7f"};
    struct k8c_arena *a = k8c_arena_new(0);

    for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
        for (size_t at = 0; at < 20; at++) {
            for (size_t tail = 0; tail < 10; tail += 3) {
                char in[64], want[96];
                struct k8c_sbuf sb;
                struct k8c_json *v;
                size_t n = 0, w = 0;
                memset(in, 'a', at);
                n = at;
                memcpy(in + n, specials[k], strlen(specials[k]));
                n += strlen(specials[k]);
                memset(in + n, 'b', tail);
                n += tail;
                want[w++] = '"';
                memset(want + w, 'a', at);
                w += at;
                memcpy(want + w, escaped[k], strlen(escaped[k]));
                w += strlen(escaped[k]);
                memset(want + w, 'b', tail);
                w += tail;
                want[w++] = '"';
                k8c_sbuf_init(&sb);
                k8c_json_write_string(&sb, in, n, 0);
                assert_int_equal(sb.len, w);
                assert_memory_equal(sb.data, want, w);
                /* and the parser reads it back */
                assert_int_equal(k8c_json_parse(a, sb.data, sb.len, NULL, &v, NULL), 0);
                assert_int_equal(v->type, K8C_JSON_STRING);
                assert_int_equal(v->len, n);
                assert_memory_equal(v->u.str, in, n);
                /* the raw (unescaped) special byte inside a JSON string */
                k8c_sbuf_reset(&sb);
                k8c_sbuf_putc(&sb, '"');
                k8c_sbuf_append(&sb, in, n);
                k8c_sbuf_putc(&sb, '"');
                if (in[at] != '\\') { /* (a raw backslash starts an escape) */
                    int rc = k8c_json_parse(a, sb.data, sb.len, NULL, &v, NULL);
                    bool bad = in[at] == '"' || (unsigned char)in[at] < 0x20;
                    assert_int_equal(rc != 0, bad);
                    if (!bad) {
                        assert_int_equal(v->len, n);
                        assert_memory_equal(v->u.str, in, n);
                    }
                }
                k8c_sbuf_free(&sb);
            }
        }
    }
    /* random strings from those pieces: write, parse, compare; without HTML escaping too */
    for (int round = 0; round < 3000; round++) {
        char in[256];
        size_t n = 0;
        struct k8c_json *v;
        while (n < 200 && rnd() % 16 != 0) {
            if (rnd() % 3 == 0) {
                const char *sp = specials[rnd() % (sizeof(specials) / sizeof(specials[0]))];
                memcpy(in + n, sp, strlen(sp));
                n += strlen(sp);
            } else {
                in[n++] = (char)(' ' + rnd() % 95);
            }
        }
        for (unsigned flags = 0; flags <= K8C_JSON_W_NO_HTML_ESCAPE;
             flags += K8C_JSON_W_NO_HTML_ESCAPE) {
            struct k8c_sbuf sb;
            k8c_sbuf_init(&sb);
            k8c_json_write_string(&sb, in, n, flags);
            assert_int_equal(k8c_json_parse(a, sb.data, sb.len, NULL, &v, NULL), 0);
            assert_int_equal(v->len, n);
            assert_memory_equal(v->u.str, in, n);
            for (size_t i = 0; i < sb.len; i++) {
                assert_true((unsigned char)sb.data[i] >= 0x20);
                if (flags == 0)
                    assert_true(sb.data[i] != '<' && sb.data[i] != '>' && sb.data[i] != '&');
            }
            k8c_sbuf_free(&sb);
        }
        k8c_arena_reset(a);
    }
    k8c_arena_del(a);
}

/* Several threads decoding and encoding at once (lock-free type tables, per-thread decode
 * arenas that are freed when a thread exits: LeakSanitizer would report them otherwise). */
struct thread_job {
    const struct object *o;
    char *want_json, *want_pb;
    size_t want_json_len, want_pb_len;
    int failures;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;

    for (int i = 0; i < 50; i++) {
        struct k8c_codec_diag d;
        struct k8c_sbuf sb;
        ProtobufCMessage *m = NULL;
        k8c_codec_diag_init(&d);
        k8c_sbuf_init(&sb);
        if (k8c_codec_json_decode(NULL, job->want_json, job->want_json_len, NULL, &d, &m) != 0 ||
            k8c_codec_proto_encode(&sb, m, NULL, NULL, d.errmsg) != 0 ||
            sb.len != job->want_pb_len || memcmp(sb.data, job->want_pb, sb.len) != 0)
            job->failures++;
        protobuf_c_message_free_unpacked(m, NULL);
        m = NULL;
        if (k8c_codec_proto_decode(NULL, (const uint8_t *)job->want_pb, job->want_pb_len, NULL, &m,
                                   d.errmsg) != 0)
            job->failures++;
        k8c_sbuf_reset(&sb);
        if (m == NULL || k8c_codec_json_encode(&sb, m, K8C_CODEC_TYPE_META, 0, d.errmsg) != 0 ||
            sb.len != job->want_json_len || memcmp(sb.data, job->want_json, sb.len) != 0)
            job->failures++;
        protobuf_c_message_free_unpacked(m, NULL);
        k8c_sbuf_free(&sb);
        k8c_codec_diag_free(&d);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct thread_job jobs[4];
    pthread_t threads[4];

    for (int i = 0; i < 4; i++) {
        const struct object *o = &objects[(size_t)i % n_objects];
        struct k8c_sbuf sb;
        ProtobufCMessage *m;
        char err[K8C_ERRMSG_SIZE];
        k8c_sbuf_init(&sb);
        /* the fixed point: what the JSON of the decoded object decodes and encodes to */
        assert_int_equal(k8c_codec_json_encode(&sb, o->msg, K8C_CODEC_TYPE_META, 0, err), 0);
        jobs[i].o = o;
        jobs[i].failures = 0;
        m = from_json(sb.data);
        k8c_sbuf_reset(&sb);
        assert_int_equal(k8c_codec_json_encode(&sb, m, K8C_CODEC_TYPE_META, 0, err), 0);
        jobs[i].want_json_len = sb.len;
        jobs[i].want_json = k8c_sbuf_detach(&sb);
        assert_int_equal(k8c_codec_proto_encode(&sb, m, NULL, NULL, err), 0);
        jobs[i].want_pb_len = sb.len;
        jobs[i].want_pb = k8c_sbuf_detach(&sb);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
        k8c_free(jobs[i].want_json);
        k8c_free(jobs[i].want_pb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),         cmocka_unit_test(test_mutants),
        cmocka_unit_test(test_rare_wire_forms), cmocka_unit_test(test_go_zero_clearing_matches),
        cmocka_unit_test(test_json_strings),    cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
