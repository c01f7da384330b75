/*
 * JSON parser, tree API and writer (see json.h), plus the arena they allocate from.
 *
 * The parser is a recursive-descent scanner over the input bytes. While an array or object is
 * open, its children are pushed on one growable scratch stack owned by the parse; when it
 * closes, the children are copied into an exactly sized arena array. So a parse costs one arena
 * allocation per node, string and container, and no malloc per node; the scratch stack is
 * reused across nesting levels.
 */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "alloc.h"
#include "error.h"

/* ---- arena ---------------------------------------------------------------------------------- */

struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct k8c_arena {
    struct arena_block *head; /* current block; older blocks follow */
    size_t block_size;
    size_t total_used;
    ProtobufCAllocator pb;
};

static void *arena_pb_alloc(void *data, size_t size)
{
    return k8c_arena_alloc(data, size);
}

static void arena_pb_free(void *data, void *p)
{
}

struct k8c_arena *k8c_arena_new(size_t block_size)
{
    struct k8c_arena *a = K8C_NEW(struct k8c_arena);

    a->block_size = block_size ? block_size : 16384;
    a->pb.alloc = arena_pb_alloc;
    a->pb.free = arena_pb_free;
    a->pb.allocator_data = a;
    return a;
}

void k8c_arena_del(struct k8c_arena *a)
{
    struct arena_block *b, *next;

    if (a == NULL)
        return;
    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        k8c_free(b);
    }
    k8c_free(a);
}

void k8c_arena_reset(struct k8c_arena *a)
{
    struct arena_block *b, *next, *keep = NULL;

    /* Keep the largest standard block (the last in the chain is the first allocated). */
    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        if (next == NULL && b->size == a->block_size) {
            keep = b;
            break;
        }
        k8c_free(b);
    }
    a->head = keep;
    if (keep != NULL)
        keep->used = 0;
    a->total_used = 0;
}

void *k8c_arena_alloc(struct k8c_arena *a, size_t size)
{
    struct arena_block *b = a->head;
    void *p;

    size = (size + 7) & ~(size_t)7;
    if (b == NULL || b->size - b->used < size) {
        size_t bsize = size > a->block_size / 4 ? size : a->block_size;
        struct arena_block *nb = k8c_malloc(sizeof(*nb) + bsize);

        nb->size = bsize;
        nb->used = 0;
        if (bsize != a->block_size && b != NULL) {
            /* A big one-off allocation: put it behind the current block so the current block
             * keeps serving small requests. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    p = b->data + b->used;
    b->used += size;
    a->total_used += size;
    return p;
}

void *k8c_arena_calloc(struct k8c_arena *a, size_t size)
{
    void *p = k8c_arena_alloc(a, size);

    memset(p, 0, size);
    return p;
}

char *k8c_arena_strndup(struct k8c_arena *a, const char *s, size_t len)
{
    char *p = k8c_arena_alloc(a, len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t k8c_arena_used(const struct k8c_arena *a)
{
    return a->total_used;
}

void *k8c_arena_protobuf_allocator(struct k8c_arena *a)
{
    return &a->pb;
}

struct k8c_arena *k8c_arena_from_protobuf_allocator(const void *allocator)
{
    const ProtobufCAllocator *pb = allocator;

    return pb != NULL && pb->alloc == arena_pb_alloc ? pb->allocator_data : NULL;
}

/* ---- parser --------------------------------------------------------------------------------- */

struct parser {
    struct k8c_arena *a;
    const unsigned char *p, *start, *end;
    unsigned depth, max_depth;
    int err;
    char *errmsg;
    /* scratch stack of children of open containers */
    void **stack;
    size_t sp, scap;
    void *stack_small[192];
    /* scratch for unescaping strings */
    char *tmp;
    size_t tmpcap;
};

static int parse_fail(struct parser *ps, int err, const char *what)
{
    if (ps->err == 0) {
        ps->err = err;
        if (ps->errmsg != NULL) {
            if (ps->p >= ps->end)
                k8c_errmsg_printf(ps->errmsg, "unexpected end of JSON input");
            else if (*ps->p >= 0x20 && *ps->p < 0x7f)
                k8c_errmsg_printf(ps->errmsg, "invalid character '%c' %s at offset %zu", *ps->p,
                                  what, (size_t)(ps->p - ps->start));
            else
                k8c_errmsg_printf(ps->errmsg, "invalid byte 0x%02x %s at offset %zu", *ps->p, what,
                                  (size_t)(ps->p - ps->start));
        }
    }
    return err;
}

static inline void skip_ws(struct parser *ps)
{
    if (ps->p < ps->end && ps->p[0] > 0x20)
        return; /* compact JSON: nothing to skip */
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* Grows the scratch stack: it starts in the caller's frame (stack_small) and moves to the
 * heap when that is full. */
static void stack_grow(struct parser *ps)
{
    size_t cap = ps->scap * 2;

    if (ps->stack == ps->stack_small) {
        ps->stack = k8c_malloc(cap * sizeof(void *));
        memcpy(ps->stack, ps->stack_small, ps->sp * sizeof(void *));
    } else {
        ps->stack = k8c_realloc(ps->stack, cap * sizeof(void *));
    }
    ps->scap = cap;
}

static inline void stack_push(struct parser *ps, void *x)
{
    if (ps->sp == ps->scap)
        stack_grow(ps);
    ps->stack[ps->sp++] = x;
}

static struct k8c_json *new_node(struct k8c_arena *a, enum k8c_json_type t)
{
    struct k8c_json *v = k8c_arena_alloc(a, sizeof(*v));

    v->type = (uint8_t)t;
    v->flags = 0;
    v->boolean = false;
    v->len = 0;
    v->cap = 0;
    v->u.str = NULL;
    return v;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(const unsigned char *p, const unsigned char *end)
{
    int v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t put_utf8(char *dst, uint32_t cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xc0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xe0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        dst[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/*
 * The number of leading bytes of the 8 at p that can be copied as they are: not '"', '\\', a
 * control byte or a non-ASCII byte (8 if all can). Word-at-a-time: the zero-byte test
 * (x - 0x01..) & ~x & 0x80.. flags the first byte equal to the one looked for exactly (bytes
 * above it may be flagged wrongly, which does not matter); x - 0x20.. sets the high bit of a byte
 * below 0x20 (and maybe of later ones), x itself that of a byte above 0x7f.
 */
static inline unsigned plain_prefix8(const unsigned char *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t x, q, b, t;

    memcpy(&x, p, 8);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    t = (((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x) & highs;
    return t != 0 ? (unsigned)__builtin_ctzll(t) / 8 : 8;
#else /* borrows run towards the first byte: test byte by byte */
    unsigned k = 0;

    while (k < 8 && p[k] != '"' && p[k] != '\\' && p[k] >= 0x20 && p[k] < 0x80)
        k++;
    return k;
#endif
}

/*
 * Scans the string starting after the opening quote; on success sets *out and *outlen to an
 * arena copy (unescaped, NUL-terminated) and leaves ps->p after the closing quote.
 */
static int parse_string_raw(struct parser *ps, const char **out, uint32_t *outlen)
{
    const unsigned char *p = ps->p, *end = ps->end, *s = p;
    size_t cap, n = 0;
    char *dst;

    /* Fast path: plain ASCII without escapes, eight bytes at a time while they last. */
    for (;;) {
        unsigned k;
        if (end - p < 8) {
            while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80)
                p++;
            break;
        }
        k = plain_prefix8(p);
        p += k;
        if (k < 8)
            break;
    }
    if (p < end && *p == '"') {
        if ((size_t)(p - s) > UINT32_MAX)
            return parse_fail(ps, K8C_ETOOBIG, "in string");
        *out = k8c_arena_strndup(ps->a, (const char *)s, (size_t)(p - s));
        *outlen = (uint32_t)(p - s);
        ps->p = p + 1;
        return 0;
    }
    /* Slow path: find the end first to size the output (escapes only shrink, except invalid
     * bytes which grow 1 -> 3 bytes of U+FFFD). */
    cap = (size_t)(p - s);
    for (; p < end && *p != '"'; p++) {
        if (*p == '\\') {
            p++;
            cap += 6;
        } else {
            cap += 3;
        }
    }
    if (p >= end) {
        ps->p = end;
        return parse_fail(ps, K8C_EPARSE, "in string");
    }
    if (cap > UINT32_MAX)
        return parse_fail(ps, K8C_ETOOBIG, "in string");
    dst = k8c_arena_alloc(ps->a, cap + 1);
    p = s;
    while (*p != '"') {
        unsigned char c = *p;
        if (c == '\\') {
            int cp, lo;
            ps->p = p;
            if (p + 1 >= end)
                return parse_fail(ps, K8C_EPARSE, "in string escape");
            switch (p[1]) {
            case '"':
                dst[n++] = '"';
                break;
            case '\\':
                dst[n++] = '\\';
                break;
            case '/':
                dst[n++] = '/';
                break;
            case 'b':
                dst[n++] = '\b';
                break;
            case 'f':
                dst[n++] = '\f';
                break;
            case 'n':
                dst[n++] = '\n';
                break;
            case 'r':
                dst[n++] = '\r';
                break;
            case 't':
                dst[n++] = '\t';
                break;
            case 'u':
                cp = read_hex4(p + 2, end);
                if (cp < 0) {
                    ps->p = p + 1;
                    return parse_fail(ps, K8C_EPARSE, "in \\u hexadecimal character escape");
                }
                p += 6;
                if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                    (lo = read_hex4(p + 2, end)) >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                } else if (cp >= 0xd800 && cp < 0xe000) {
                    cp = 0xfffd; /* lone surrogate */
                }
                n += put_utf8(dst + n, (uint32_t)cp);
                continue;
            default:
                ps->p = p + 1;
                return parse_fail(ps, K8C_EPARSE, "in string escape code");
            }
            p += 2;
        } else if (c < 0x20) {
            ps->p = p;
            return parse_fail(ps, K8C_EPARSE, "in string literal");
        } else if (c < 0x80) {
            dst[n++] = (char)c;
            p++;
        } else {
            size_t l = utf8_valid_len(p, end);
            if (l == 0) {
                n += put_utf8(dst + n, 0xfffd);
                p++;
            } else {
                memcpy(dst + n, p, l);
                n += l;
                p += l;
            }
        }
    }
    dst[n] = '\0';
    *out = dst;
    *outlen = (uint32_t)n;
    ps->p = p + 1;
    return 0;
}

static int parse_number(struct parser *ps, struct k8c_json **out)
{
    const unsigned char *p = ps->p, *s = p, *end = ps->end;
    struct k8c_json *v;

    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        ps->p = p;
        return parse_fail(ps, K8C_EPARSE, "in numeric literal");
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') {
            ps->p = p;
            return parse_fail(ps, K8C_EPARSE, "after decimal point in numeric literal");
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9') {
            ps->p = p;
            return parse_fail(ps, K8C_EPARSE, "in exponent of numeric literal");
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    v = new_node(ps->a, K8C_JSON_NUMBER);
    v->u.str = k8c_arena_strndup(ps->a, (const char *)s, (size_t)(p - s));
    v->len = (uint32_t)(p - s);
    ps->p = p;
    *out = v;
    return 0;
}

static int parse_value(struct parser *ps, struct k8c_json **out);

static int parse_array(struct parser *ps, struct k8c_json **out)
{
    size_t base = ps->sp, n;
    struct k8c_json *v;

    ps->p++; /* [ */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            struct k8c_json *item;
            int rc = parse_value(ps, &item);
            if (rc != 0)
                return rc;
            stack_push(ps, item);
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                break;
            }
            return parse_fail(ps, K8C_EPARSE, "after array element");
        }
    }
    n = ps->sp - base;
    v = new_node(ps->a, K8C_JSON_ARRAY);
    v->len = v->cap = (uint32_t)n;
    if (n > 0) {
        v->u.items = k8c_arena_alloc(ps->a, n * sizeof(struct k8c_json *));
        memcpy(v->u.items, ps->stack + base, n * sizeof(void *));
    }
    ps->sp = base;
    *out = v;
    return 0;
}

static int parse_object(struct parser *ps, struct k8c_json **out)
{
    size_t base = ps->sp, n;
    struct k8c_json *v;

    ps->p++; /* { */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            const char *key;
            uint32_t key_len;
            struct k8c_json *val;
            int rc;

            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"')
                return parse_fail(ps, K8C_EPARSE, "looking for beginning of object key string");
            ps->p++;
            if ((rc = parse_string_raw(ps, &key, &key_len)) != 0)
                return rc;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return parse_fail(ps, K8C_EPARSE, "after object key");
            ps->p++;
            if ((rc = parse_value(ps, &val)) != 0)
                return rc;
            /* Push key, length and value as three slots. */
            stack_push(ps, (void *)key);
            stack_push(ps, (void *)(uintptr_t)key_len);
            stack_push(ps, val);
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            return parse_fail(ps, K8C_EPARSE, "after object key:value pair");
        }
    }
    n = (ps->sp - base) / 3;
    v = new_node(ps->a, K8C_JSON_OBJECT);
    v->len = v->cap = (uint32_t)n;
    if (n > 0) {
        v->u.members = k8c_arena_alloc(ps->a, n * sizeof(struct k8c_json_member));
        for (size_t i = 0; i < n; i++) {
            v->u.members[i].key = ps->stack[base + 3 * i];
            v->u.members[i].key_len = (uint32_t)(uintptr_t)ps->stack[base + 3 * i + 1];
            v->u.members[i].value = ps->stack[base + 3 * i + 2];
        }
    }
    ps->sp = base;
    *out = v;
    return 0;
}

static int match_literal(struct parser *ps, const char *lit, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0) {
        /* point at the first mismatching byte */
        for (size_t i = 0; i < n && ps->p < ps->end && *ps->p == (unsigned char)lit[i]; i++)
            ps->p++;
        return parse_fail(ps, K8C_EPARSE, "in literal");
    }
    ps->p += n;
    return 0;
}

static int parse_value(struct parser *ps, struct k8c_json **out)
{
    int rc;

    skip_ws(ps);
    if (ps->p >= ps->end)
        return parse_fail(ps, K8C_EPARSE, "looking for beginning of value");
    switch (*ps->p) {
    case '{':
    case '[':
        if (++ps->depth > ps->max_depth) {
            ps->err = K8C_EDEPTH;
            if (ps->errmsg != NULL)
                k8c_errmsg_printf(ps->errmsg, "JSON nested deeper than %u levels at offset %zu",
                                  ps->max_depth, (size_t)(ps->p - ps->start));
            return K8C_EDEPTH;
        }
        rc = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
        ps->depth--;
        return rc;
    case '"': {
        struct k8c_json *v = new_node(ps->a, K8C_JSON_STRING);
        ps->p++;
        if ((rc = parse_string_raw(ps, &v->u.str, &v->len)) != 0)
            return rc;
        *out = v;
        return 0;
    }
    case 't':
        if ((rc = match_literal(ps, "true", 4)) != 0)
            return rc;
        *out = new_node(ps->a, K8C_JSON_BOOL);
        (*out)->boolean = true;
        return 0;
    case 'f':
        if ((rc = match_literal(ps, "false", 5)) != 0)
            return rc;
        *out = new_node(ps->a, K8C_JSON_BOOL);
        return 0;
    case 'n':
        if ((rc = match_literal(ps, "null", 4)) != 0)
            return rc;
        *out = new_node(ps->a, K8C_JSON_NULL);
        return 0;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps, out);
        return parse_fail(ps, K8C_EPARSE, "looking for beginning of value");
    }
}

static int parse_common(struct k8c_arena *a, const char *text, size_t len,
                        const struct k8c_json_limits *limits, struct k8c_json **out,
                        size_t *consumed, char *errmsg)
{
    struct parser ps = {0};
    size_t max_size = limits && limits->max_size ? limits->max_size : (size_t)64 << 20;
    int rc;

    *out = NULL;
    if (len > max_size) {
        if (errmsg != NULL)
            k8c_errmsg_printf(errmsg, "JSON input of %zu bytes exceeds the limit of %zu", len,
                              max_size);
        return K8C_ETOOBIG;
    }
    ps.a = a;
    ps.stack = ps.stack_small;
    ps.scap = sizeof(ps.stack_small) / sizeof(ps.stack_small[0]);
    ps.start = ps.p = (const unsigned char *)text;
    ps.end = ps.p + len;
    ps.max_depth = limits && limits->max_depth ? limits->max_depth : 100;
    ps.errmsg = errmsg;
    if (consumed != NULL) {
        skip_ws(&ps);
        if (ps.p == ps.end) {
            *consumed = len;
            return 0;
        }
    }
    rc = parse_value(&ps, out);
    if (rc == 0) {
        skip_ws(&ps);
        if (consumed != NULL)
            *consumed = (size_t)(ps.p - ps.start);
        else if (ps.p != ps.end)
            rc = parse_fail(&ps, K8C_EPARSE, "after top-level value");
    }
    if (ps.stack != ps.stack_small)
        k8c_free(ps.stack);
    k8c_free(ps.tmp);
    if (rc != 0)
        *out = NULL;
    return rc;
}

int k8c_json_parse(struct k8c_arena *a, const char *text, size_t len,
                   const struct k8c_json_limits *limits, struct k8c_json **out, char *errmsg)
{
    return parse_common(a, text, len, limits, out, NULL, errmsg);
}

int k8c_json_parse_prefix(struct k8c_arena *a, const char *text, size_t len,
                          const struct k8c_json_limits *limits, struct k8c_json **out,
                          size_t *consumed, char *errmsg)
{
    *consumed = 0;
    return parse_common(a, text, len, limits, out, consumed, errmsg);
}

/* ---- constructors and editing --------------------------------------------------------------- */

struct k8c_json *k8c_json_new_null(struct k8c_arena *a)
{
    return new_node(a, K8C_JSON_NULL);
}

struct k8c_json *k8c_json_new_bool(struct k8c_arena *a, bool b)
{
    struct k8c_json *v = new_node(a, K8C_JSON_BOOL);

    v->boolean = b;
    return v;
}

struct k8c_json *k8c_json_new_number(struct k8c_arena *a, const char *text, size_t len)
{
    struct k8c_json *v = new_node(a, K8C_JSON_NUMBER);

    v->u.str = k8c_arena_strndup(a, text, len);
    v->len = (uint32_t)len;
    return v;
}

struct k8c_json *k8c_json_new_int(struct k8c_arena *a, int64_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, i);

    return k8c_json_new_number(a, buf, (size_t)n);
}

struct k8c_json *k8c_json_new_uint(struct k8c_arena *a, uint64_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, i);

    return k8c_json_new_number(a, buf, (size_t)n);
}

size_t k8c_json_format_double(char *buf, double d)
{
    int n = 0;

    if (!isfinite(d))
        return 0;
    /* Shortest representation that reads back to the same double. */
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, K8C_JSON_DOUBLE_MAX, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return (size_t)n;
}

struct k8c_json *k8c_json_new_double(struct k8c_arena *a, double d)
{
    char buf[K8C_JSON_DOUBLE_MAX];
    size_t n = k8c_json_format_double(buf, d);

    if (n == 0)
        return new_node(a, K8C_JSON_NULL);
    return k8c_json_new_number(a, buf, n);
}

struct k8c_json *k8c_json_new_stringn(struct k8c_arena *a, const char *s, size_t len)
{
    struct k8c_json *v = new_node(a, K8C_JSON_STRING);

    v->u.str = k8c_arena_strndup(a, s, len);
    v->len = (uint32_t)len;
    return v;
}

struct k8c_json *k8c_json_new_string(struct k8c_arena *a, const char *s)
{
    return k8c_json_new_stringn(a, s, strlen(s));
}

struct k8c_json *k8c_json_new_array(struct k8c_arena *a)
{
    return new_node(a, K8C_JSON_ARRAY);
}

struct k8c_json *k8c_json_new_object(struct k8c_arena *a)
{
    return new_node(a, K8C_JSON_OBJECT);
}

struct k8c_json *k8c_json_getn(const struct k8c_json *obj, const char *key, size_t key_len)
{
    if (obj == NULL || obj->type != K8C_JSON_OBJECT)
        return NULL;
    for (size_t i = obj->len; i-- > 0;) {
        const struct k8c_json_member *m = &obj->u.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return m->value;
    }
    return NULL;
}

struct k8c_json *k8c_json_get(const struct k8c_json *obj, const char *key)
{
    return k8c_json_getn(obj, key, strlen(key));
}

/* Makes room for one more slot of elem_size bytes in a container array. */
static void *grow(struct k8c_arena *a, void *arr, uint32_t len, uint32_t *cap, size_t elem_size)
{
    void *n;

    if (len < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 4;
    n = k8c_arena_alloc(a, *cap * elem_size);
    if (len > 0)
        memcpy(n, arr, len * elem_size);
    return n;
}

void k8c_json_append_member(struct k8c_arena *a, struct k8c_json *obj, const char *key,
                            size_t key_len, struct k8c_json *value)
{
    struct k8c_json_member *m;

    obj->u.members = grow(a, obj->u.members, obj->len, &obj->cap, sizeof(*m));
    m = &obj->u.members[obj->len++];
    m->key = k8c_arena_strndup(a, key, key_len);
    m->key_len = (uint32_t)key_len;
    m->value = value;
}

void k8c_json_set(struct k8c_arena *a, struct k8c_json *obj, const char *key,
                  struct k8c_json *value)
{
    size_t key_len = strlen(key);
    bool found = false;

    for (size_t i = 0; i < obj->len; i++) {
        struct k8c_json_member *m = &obj->u.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) {
            m->value = value;
            found = true;
        }
    }
    if (!found)
        k8c_json_append_member(a, obj, key, key_len, value);
}

bool k8c_json_remove(struct k8c_json *obj, const char *key)
{
    size_t key_len = strlen(key), j = 0;
    uint32_t before = obj->len;

    for (size_t i = 0; i < obj->len; i++) {
        struct k8c_json_member *m = &obj->u.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            continue;
        obj->u.members[j++] = *m;
    }
    obj->len = (uint32_t)j;
    return obj->len != before;
}

void k8c_json_array_append(struct k8c_arena *a, struct k8c_json *arr, struct k8c_json *value)
{
    arr->u.items = grow(a, arr->u.items, arr->len, &arr->cap, sizeof(struct k8c_json *));
    arr->u.items[arr->len++] = value;
}

void k8c_json_array_insert(struct k8c_arena *a, struct k8c_json *arr, size_t i,
                           struct k8c_json *value)
{
    arr->u.items = grow(a, arr->u.items, arr->len, &arr->cap, sizeof(struct k8c_json *));
    memmove(arr->u.items + i + 1, arr->u.items + i, (arr->len - i) * sizeof(struct k8c_json *));
    arr->u.items[i] = value;
    arr->len++;
}

void k8c_json_array_remove(struct k8c_json *arr, size_t i)
{
    memmove(arr->u.items + i, arr->u.items + i + 1, (arr->len - i - 1) * sizeof(struct k8c_json *));
    arr->len--;
}

static bool number_is_integer(const struct k8c_json *v)
{
    for (uint32_t i = 0; i < v->len; i++) {
        char c = v->u.str[i];
        if (c == '.' || c == 'e' || c == 'E')
            return false;
    }
    return v->len > 0;
}

/* Short decimal integers ([-]digits, at most 18 digits: no overflow) without strtoll. */
static bool small_integer(const struct k8c_json *v, int64_t *out)
{
    const char *s = v->u.str;
    uint32_t i = s[0] == '-', n = v->len;
    int64_t x = 0;

    if (n <= i || n - i > 18)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *out = s[0] == '-' ? -x : x;
    return true;
}

int k8c_json_get_int64(const struct k8c_json *v, int64_t *out)
{
    char *end;
    long long x;

    if (v != NULL && v->type == K8C_JSON_NUMBER && small_integer(v, out))
        return 0;
    if (v == NULL || v->type != K8C_JSON_NUMBER || !number_is_integer(v))
        return K8C_EINVAL;
    errno = 0;
    x = strtoll(v->u.str, &end, 10);
    if (errno != 0 || end != v->u.str + v->len)
        return K8C_EINVAL;
    *out = x;
    return 0;
}

int k8c_json_get_uint64(const struct k8c_json *v, uint64_t *out)
{
    char *end;
    unsigned long long x;
    int64_t small;

    if (v != NULL && v->type == K8C_JSON_NUMBER && v->len > 0 && v->u.str[0] != '-' &&
        small_integer(v, &small)) {
        *out = (uint64_t)small;
        return 0;
    }
    if (v == NULL || v->type != K8C_JSON_NUMBER || !number_is_integer(v) || v->u.str[0] == '-')
        return K8C_EINVAL;
    errno = 0;
    x = strtoull(v->u.str, &end, 10);
    if (errno != 0 || end != v->u.str + v->len)
        return K8C_EINVAL;
    *out = x;
    return 0;
}

int k8c_json_get_double(const struct k8c_json *v, double *out)
{
    char *end;
    double d;

    if (v == NULL || v->type != K8C_JSON_NUMBER)
        return K8C_EINVAL;
    d = strtod(v->u.str, &end);
    if (end != v->u.str + v->len || !isfinite(d))
        return K8C_EINVAL;
    *out = d;
    return 0;
}

bool k8c_json_equal(const struct k8c_json *x, const struct k8c_json *y)
{
    if (x == NULL || y == NULL)
        return x == y;
    if (x->type != y->type)
        return false;
    switch (x->type) {
    case K8C_JSON_NULL:
        return true;
    case K8C_JSON_BOOL:
        return x->boolean == y->boolean;
    case K8C_JSON_NUMBER: {
        int64_t a, b;
        double da, db;
        if (x->len == y->len && memcmp(x->u.str, y->u.str, x->len) == 0)
            return true;
        if (k8c_json_get_int64(x, &a) == 0 && k8c_json_get_int64(y, &b) == 0)
            return a == b;
        if (k8c_json_get_double(x, &da) == 0 && k8c_json_get_double(y, &db) == 0)
            return da == db;
        return false;
    }
    case K8C_JSON_STRING:
        return x->len == y->len && memcmp(x->u.str, y->u.str, x->len) == 0;
    case K8C_JSON_ARRAY:
        if (x->len != y->len)
            return false;
        for (uint32_t i = 0; i < x->len; i++)
            if (!k8c_json_equal(x->u.items[i], y->u.items[i]))
                return false;
        return true;
    case K8C_JSON_OBJECT:
        /* Every distinct key of x has an equal last value in y, and vice versa. */
        for (uint32_t i = 0; i < x->len; i++) {
            const struct k8c_json_member *m = &x->u.members[i];
            if (!k8c_json_equal(k8c_json_getn(x, m->key, m->key_len),
                                k8c_json_getn(y, m->key, m->key_len)))
                return false;
        }
        for (uint32_t i = 0; i < y->len; i++) {
            const struct k8c_json_member *m = &y->u.members[i];
            if (k8c_json_getn(x, m->key, m->key_len) == NULL)
                return false;
        }
        return true;
    }
    return false;
}

struct k8c_json *k8c_json_copy(struct k8c_arena *a, const struct k8c_json *v)
{
    struct k8c_json *c;

    if (v == NULL)
        return NULL;
    c = new_node(a, (enum k8c_json_type)v->type);
    c->flags = v->flags;
    c->boolean = v->boolean;
    c->len = v->len;
    switch (v->type) {
    case K8C_JSON_ARRAY:
        c->cap = v->len;
        if (v->len > 0) {
            c->u.items = k8c_arena_alloc(a, v->len * sizeof(struct k8c_json *));
            for (uint32_t i = 0; i < v->len; i++)
                c->u.items[i] = k8c_json_copy(a, v->u.items[i]);
        }
        break;
    case K8C_JSON_OBJECT:
        c->cap = v->len;
        if (v->len > 0) {
            c->u.members = k8c_arena_alloc(a, v->len * sizeof(struct k8c_json_member));
            for (uint32_t i = 0; i < v->len; i++) {
                const struct k8c_json_member *m = &v->u.members[i];
                c->u.members[i].key = k8c_arena_strndup(a, m->key, m->key_len);
                c->u.members[i].key_len = m->key_len;
                c->u.members[i].value = k8c_json_copy(a, m->value);
            }
        }
        break;
    default:
        if (v->u.str != NULL)
            c->u.str = k8c_arena_strndup(a, v->u.str, v->len);
        break;
    }
    return c;
}

const char *k8c_json_type_name(enum k8c_json_type t)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};

    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/* ---- writer --------------------------------------------------------------------------------- */

/* 0: byte copied as is; 1: needs escaping (control, quote, backslash, HTML when enabled). */
static const uint8_t escape_table[256] = {
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    /* 0x80..0xff: 3 = check for invalid UTF-8 and U+2028/U+2029 */
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
};

/* The number of leading bytes of s (len bytes) that are written as they are: no quote,
 * backslash, control byte, non-ASCII byte or (with html) < > &. */
static size_t plain_run(const unsigned char *s, size_t len, bool html)
{
    size_t i = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes at a time, as plain_prefix8 (the first flagged byte is exact). */
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; i + 8 <= len; i += 8) {
        uint64_t x, q, b, t;
        memcpy(&x, s + i, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        t = ((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x;
        if (html) {
            uint64_t lt = x ^ (ones * '<'), gt = x ^ (ones * '>'), amp = x ^ (ones * '&');
            t |= ((lt - ones) & ~lt) | ((gt - ones) & ~gt) | ((amp - ones) & ~amp);
        }
        t &= highs;
        if (t != 0)
            return i + (size_t)__builtin_ctzll(t) / 8;
    }
#endif
    for (; i < len; i++) {
        uint8_t e = escape_table[s[i]];
        if (e == 1 || e == 3 || (e == 2 && html))
            break;
    }
    return i;
}

void k8c_json_write_string(struct k8c_sbuf *out, const char *str, size_t len, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str, *end = s + len, *run = s;
    bool html = !(flags & K8C_JSON_W_NO_HTML_ESCAPE);
    size_t plain = plain_run(s, len, html);

    k8c_sbuf_reserve(out, len + 2);
    out->data[out->len++] = '"';
    if (plain == len) { /* the common case: nothing to escape */
        memcpy(out->data + out->len, s, len);
        out->len += len;
        out->data[out->len++] = '"';
        out->data[out->len] = '\0';
        return;
    }
    s += plain;
    while (s < end) {
        uint8_t e = escape_table[*s];
        char esc[8];
        size_t elen = 0;

        if (e == 0 || (e == 2 && !html)) {
            s++;
            continue;
        }
        if (e == 3) {
            size_t l = utf8_valid_len(s, end);
            if (l == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
                memcpy(esc, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                elen = 6;
            } else if (l == 0) {
                memcpy(esc, "\xef\xbf\xbd", 3); /* invalid byte -> U+FFFD */
                elen = 3;
                l = 1;
            } else {
                s += l;
                continue;
            }
            k8c_sbuf_append(out, run, (size_t)(s - run));
            k8c_sbuf_append(out, esc, elen);
            s += l;
            run = s;
            continue;
        }
        switch (*s) {
        case '"':
            memcpy(esc, "\\\"", 2), elen = 2;
            break;
        case '\\':
            memcpy(esc, "\\\\", 2), elen = 2;
            break;
        case '\n':
            memcpy(esc, "\\n", 2), elen = 2;
            break;
        case '\r':
            memcpy(esc, "\\r", 2), elen = 2;
            break;
        case '\t':
            memcpy(esc, "\\t", 2), elen = 2;
            break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*s >> 4];
            esc[5] = hex[*s & 15];
            elen = 6;
            break;
        }
        k8c_sbuf_append(out, run, (size_t)(s - run));
        k8c_sbuf_append(out, esc, elen);
        s++;
        run = s;
    }
    k8c_sbuf_append(out, run, (size_t)(s - run));
    k8c_sbuf_putc(out, '"');
}

static void write_newline(struct k8c_sbuf *out, int indent, int level)
{
    size_t n = (size_t)indent * (size_t)level;

    k8c_sbuf_reserve(out, n + 1);
    out->data[out->len++] = '\n';
    memset(out->data + out->len, ' ', n);
    out->len += n;
    out->data[out->len] = '\0';
}

static void write_value(struct k8c_sbuf *out, const struct k8c_json *v, int indent, int level,
                        unsigned flags)
{
    switch (v->type) {
    case K8C_JSON_NULL:
        k8c_sbuf_append(out, "null", 4);
        break;
    case K8C_JSON_BOOL:
        if (v->boolean)
            k8c_sbuf_append(out, "true", 4);
        else
            k8c_sbuf_append(out, "false", 5);
        break;
    case K8C_JSON_NUMBER:
        k8c_sbuf_append(out, v->u.str, v->len);
        break;
    case K8C_JSON_STRING:
        k8c_json_write_string(out, v->u.str, v->len, flags);
        break;
    case K8C_JSON_ARRAY:
        k8c_sbuf_putc(out, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i > 0)
                k8c_sbuf_putc(out, ',');
            if (indent > 0)
                write_newline(out, indent, level + 1);
            write_value(out, v->u.items[i], indent, level + 1, flags);
        }
        if (indent > 0 && v->len > 0)
            write_newline(out, indent, level);
        k8c_sbuf_putc(out, ']');
        break;
    case K8C_JSON_OBJECT:
        k8c_sbuf_putc(out, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            if (i > 0)
                k8c_sbuf_putc(out, ',');
            if (indent > 0)
                write_newline(out, indent, level + 1);
            k8c_json_write_string(out, m->key, m->key_len, flags);
            if (indent > 0)
                k8c_sbuf_append(out, ": ", 2);
            else
                k8c_sbuf_putc(out, ':');
            write_value(out, m->value, indent, level + 1, flags);
        }
        if (indent > 0 && v->len > 0)
            write_newline(out, indent, level);
        k8c_sbuf_putc(out, '}');
        break;
    }
}

void k8c_json_write(struct k8c_sbuf *out, const struct k8c_json *v, int indent, unsigned flags)
{
    write_value(out, v, indent, 0, flags);
}

void k8c_json_write_nested(struct k8c_sbuf *out, const struct k8c_json *v, int indent, int level,
                           unsigned flags)
{
    write_value(out, v, indent, level, flags);
}

/* ---- base64 --------------------------------------------------------------------------------- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void k8c_base64_encode(struct k8c_sbuf *out, const uint8_t *data, size_t len)
{
    size_t olen = (len + 2) / 3 * 4, i;
    char *d;

    k8c_sbuf_reserve(out, olen);
    d = out->data + out->len;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *d++ = b64chars[v >> 18];
        *d++ = b64chars[(v >> 12) & 63];
        *d++ = b64chars[(v >> 6) & 63];
        *d++ = b64chars[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        *d++ = b64chars[v >> 18];
        *d++ = b64chars[(v >> 12) & 63];
        *d++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
        *d++ = '=';
    }
    out->len += olen;
    out->data[out->len] = '\0';
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Skips the line breaks Go's decoder ignores. */
static size_t b64_skip_breaks(const char *src, size_t len, size_t si)
{
    while (si < len && (src[si] == '\n' || src[si] == '\r'))
        si++;
    return si;
}

/* Go's base64.StdEncoding.Decode, quantum by quantum (decodeQuantum): line breaks are
 * skipped, padding is required, and the first error is at the offset Go reports. */
long k8c_base64_decode_at(uint8_t *dst, const char *src, size_t len, size_t *bad)
{
    size_t si = 0, n = 0;

    while (si < len) {
        int q[4] = {0, 0, 0, 0}, dlen = 4;
        for (int j = 0; j < 4; j++) {
            if (si == len) {
                if (j == 0)
                    return (long)n; /* only line breaks were left */
                *bad = si - (size_t)j;
                return -1;
            }
            unsigned char c = (unsigned char)src[si++];
            int v = b64val(c);
            if (v >= 0) {
                q[j] = v;
                continue;
            }
            if (c == '\n' || c == '\r') {
                j--;
                continue;
            }
            if (c != '=' || j < 2) {
                *bad = si - 1;
                return -1;
            }
            if (j == 2) { /* "==": the second one */
                si = b64_skip_breaks(src, len, si);
                if (si == len) {
                    *bad = len;
                    return -1;
                }
                if (src[si] != '=') {
                    *bad = si - 1;
                    return -1;
                }
                si++;
            }
            si = b64_skip_breaks(src, len, si);
            if (si < len) { /* data after the padding */
                *bad = si;
                return -1;
            }
            dlen = j;
            break;
        }
        uint32_t x =
            (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12 | (uint32_t)q[2] << 6 | (uint32_t)q[3];
        dst[n++] = (uint8_t)(x >> 16);
        if (dlen > 2)
            dst[n++] = (uint8_t)(x >> 8);
        if (dlen > 3)
            dst[n++] = (uint8_t)x;
    }
    return (long)n;
}

long k8c_base64_decode(uint8_t *dst, const char *src, size_t len)
{
    size_t bad;

    return k8c_base64_decode_at(dst, src, len, &bad);
}
