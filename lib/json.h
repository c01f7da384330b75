/*
 * JSON trees: a fast parser into an arena-allocated tree, a tree-building and
 * editing API (used by the API server for JSON Patch, merge patch and
 * strategic merge patch) and a writer (compact or indented, Go-compatible
 * escaping).
 *
 * Memory: every node, key and string of a tree lives in a struct k8c_arena.
 * Nothing in a tree is freed on its own; the whole arena is released (or
 * reset for reuse) at once with k8c_arena_del / k8c_arena_reset. A tree may
 * point into several arenas only if the caller keeps them all alive. Trees
 * are not thread-safe; an arena belongs to one thread at a time.
 *
 * The arena is also what the codec (codec.h) uses to decode messages without
 * a malloc per field (k8c_arena_protobuf_allocator).
 */
#ifndef K8C_JSON_H
#define K8C_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- arena ---------------------------------------------------------------------------------- */

struct k8c_arena;

/* A new empty arena; blocks of block_size bytes (0 = 16 KiB) are taken as needed. */
struct k8c_arena *k8c_arena_new(size_t block_size);
/* Frees the arena and everything allocated from it; NULL is ignored. */
void k8c_arena_del(struct k8c_arena *a);
/* Forgets every allocation but keeps the first block for reuse. */
void k8c_arena_reset(struct k8c_arena *a);
/* size bytes aligned to 8 (uninitialised); never fails (aborts on OOM like k8c_malloc). */
void *k8c_arena_alloc(struct k8c_arena *a, size_t size);
void *k8c_arena_calloc(struct k8c_arena *a, size_t size);
/* A NUL-terminated copy of len bytes. */
char *k8c_arena_strndup(struct k8c_arena *a, const char *s, size_t len);
/* Bytes handed out so far (for benchmarks and limits). */
size_t k8c_arena_used(const struct k8c_arena *a);
/* A ProtobufCAllocator (returned as void * so this header does not need protobuf-c) whose
 * alloc takes from the arena and whose free does nothing. Valid as long as the arena. */
void *k8c_arena_protobuf_allocator(struct k8c_arena *a);
/* The arena behind a ProtobufCAllocator from k8c_arena_protobuf_allocator, or NULL when the
 * allocator is another one (or NULL). Lets a decoder take memory from the arena directly. */
struct k8c_arena *k8c_arena_from_protobuf_allocator(const void *allocator);

/* ---- tree ----------------------------------------------------------------------------------- */

enum k8c_json_type {
    K8C_JSON_NULL,
    K8C_JSON_BOOL,
    K8C_JSON_NUMBER,
    K8C_JSON_STRING,
    K8C_JSON_ARRAY,
    K8C_JSON_OBJECT,
};

/* Node flags. */
#define K8C_JSON_F_PLAIN 1u /* a YAML plain (unquoted) scalar: str holds its source text */

struct k8c_json_member;

struct k8c_json {
    uint8_t type;  /* enum k8c_json_type */
    uint8_t flags; /* K8C_JSON_F_* */
    bool boolean;  /* BOOL: the value */
    uint32_t len;  /* STRING/NUMBER: bytes of str; ARRAY: items; OBJECT: members */
    uint32_t cap;  /* ARRAY/OBJECT: allocated slots */
    union {
        /* STRING: unescaped UTF-8, NUL-terminated (may contain NUL bytes, see len);
         * NUMBER: the literal as written ("-1.5e3"); BOOL/NULL with K8C_JSON_F_PLAIN: the
         * YAML source text. NULL otherwise. */
        const char *str;
        struct k8c_json **items;         /* ARRAY */
        struct k8c_json_member *members; /* OBJECT, in document order; duplicates kept */
    } u;
};

struct k8c_json_member {
    const char *key; /* NUL-terminated */
    uint32_t key_len;
    struct k8c_json *value;
};

struct k8c_json_limits {
    size_t max_size;    /* input bytes; 0 = 64 MiB */
    unsigned max_depth; /* nesting of arrays/objects; 0 = 100 */
};

/*
 * Parses one JSON text (RFC 8259; surrounding whitespace allowed) into a tree in arena a.
 * Strings are unescaped (\u surrogate pairs joined; a lone surrogate or invalid UTF-8 becomes
 * U+FFFD, as Go does). Returns 0 and *out, or:
 *   K8C_ETOOBIG  input longer than limits->max_size
 *   K8C_EDEPTH   nesting deeper than limits->max_depth
 *   K8C_EPARSE   malformed text
 * with a message in errmsg (K8C_ERRMSG_SIZE bytes, may be NULL) such as
 * "invalid character 'x' at offset 12". limits may be NULL for the defaults.
 */
int k8c_json_parse(struct k8c_arena *a, const char *text, size_t len,
                   const struct k8c_json_limits *limits, struct k8c_json **out, char *errmsg);

/*
 * Parses the first JSON value of a stream (values separated by whitespace, as in JSON lines or
 * a kubectl-style concatenation) and sets *consumed to the bytes read, including whitespace
 * after the value. At end of input (only whitespace left) returns 0 with *out NULL. Errors as
 * k8c_json_parse.
 */
int k8c_json_parse_prefix(struct k8c_arena *a, const char *text, size_t len,
                          const struct k8c_json_limits *limits, struct k8c_json **out,
                          size_t *consumed, char *errmsg);

/* Constructors: nodes allocated in a; strings are copied. */
struct k8c_json *k8c_json_new_null(struct k8c_arena *a);
struct k8c_json *k8c_json_new_bool(struct k8c_arena *a, bool v);
struct k8c_json *k8c_json_new_int(struct k8c_arena *a, int64_t v);
struct k8c_json *k8c_json_new_uint(struct k8c_arena *a, uint64_t v);
struct k8c_json *k8c_json_new_double(struct k8c_arena *a, double v);
/* The text k8c_json_new_double gives d (the shortest that reads back the same), written to buf
 * (K8C_JSON_DOUBLE_MAX bytes, NUL-terminated); returns its length, or 0 when d is not finite
 * (JSON null). */
#define K8C_JSON_DOUBLE_MAX 40
size_t k8c_json_format_double(char *buf, double d);
/* A number from its literal text; the text is not validated (use k8c_json_parse for that). */
struct k8c_json *k8c_json_new_number(struct k8c_arena *a, const char *text, size_t len);
struct k8c_json *k8c_json_new_string(struct k8c_arena *a, const char *s);
struct k8c_json *k8c_json_new_stringn(struct k8c_arena *a, const char *s, size_t len);
struct k8c_json *k8c_json_new_array(struct k8c_arena *a);
struct k8c_json *k8c_json_new_object(struct k8c_arena *a);

/* Objects. Lookups return the LAST member with the key (Go's rule for duplicates), or NULL. */
struct k8c_json *k8c_json_get(const struct k8c_json *obj, const char *key);
struct k8c_json *k8c_json_getn(const struct k8c_json *obj, const char *key, size_t key_len);
/* Replaces the value of every member named key (keeps position) or appends a member. */
void k8c_json_set(struct k8c_arena *a, struct k8c_json *obj, const char *key,
                  struct k8c_json *value);
/* Appends a member without looking for an existing one (the parser's and encoders' path). */
void k8c_json_append_member(struct k8c_arena *a, struct k8c_json *obj, const char *key,
                            size_t key_len, struct k8c_json *value);
/* Removes every member named key; returns true if one was removed. */
bool k8c_json_remove(struct k8c_json *obj, const char *key);

/* Arrays. Index i must be < len for get/remove, <= len for insert. */
void k8c_json_array_append(struct k8c_arena *a, struct k8c_json *arr, struct k8c_json *value);
void k8c_json_array_insert(struct k8c_arena *a, struct k8c_json *arr, size_t i,
                           struct k8c_json *value);
void k8c_json_array_remove(struct k8c_json *arr, size_t i);
static inline struct k8c_json *k8c_json_array_get(const struct k8c_json *arr, size_t i)
{
    return arr->u.items[i];
}

/* Scalar access. Return 0, or K8C_EINVAL when the node is not a number in range. */
int k8c_json_get_int64(const struct k8c_json *v, int64_t *out);
int k8c_json_get_uint64(const struct k8c_json *v, uint64_t *out);
int k8c_json_get_double(const struct k8c_json *v, double *out);

/* Deep equality by value: objects compare as sets of keys (order ignored; with duplicates
 * the last value counts), numbers by numeric value, strings bytewise. NULL == NULL. */
bool k8c_json_equal(const struct k8c_json *x, const struct k8c_json *y);
/* A deep copy of v in arena a (v may live in another arena). */
struct k8c_json *k8c_json_copy(struct k8c_arena *a, const struct k8c_json *v);
/* "null", "boolean", "number", "string", "array", "object". */
const char *k8c_json_type_name(enum k8c_json_type t);

/* ---- writer --------------------------------------------------------------------------------- */

/* Writer options. */
#define K8C_JSON_W_NO_HTML_ESCAPE 1u /* keep < > & literal (Go escapes them as \u003c...) */

/*
 * Appends v as JSON text to out. indent 0 writes compact JSON; indent > 0 writes one member
 * per line indented by that many spaces per level (kubectl -o json uses 4). Escaping is Go's:
 * ", \, control characters, U+2028, U+2029 and (unless K8C_JSON_W_NO_HTML_ESCAPE) <, >, &.
 */
void k8c_json_write(struct k8c_sbuf *out, const struct k8c_json *v, int indent, unsigned flags);
/* As k8c_json_write for a value that sits `level` containers deep in an indented document: its
 * members are indented by indent * (level + 1) spaces and its closing bracket by indent * level
 * (the same text as k8c_json_write when level is 0). */
void k8c_json_write_nested(struct k8c_sbuf *out, const struct k8c_json *v, int indent, int level,
                           unsigned flags);
/* Appends s (len bytes, UTF-8) as a quoted JSON string. */
void k8c_json_write_string(struct k8c_sbuf *out, const char *s, size_t len, unsigned flags);

/* Base64 (standard alphabet, padded), as Go encodes []byte in JSON. */
void k8c_base64_encode(struct k8c_sbuf *out, const uint8_t *data, size_t len);
/* Decodes standard base64 as Go's base64.StdEncoding does (padding required, line breaks
 * skipped); returns the decoded length or -1. dst must hold len*3/4 bytes. */
long k8c_base64_decode(uint8_t *dst, const char *src, size_t len);
/* The same; on error *bad is the offset Go's CorruptInputError reports ("illegal base64 data
 * at input byte N"). */
long k8c_base64_decode_at(uint8_t *dst, const char *src, size_t len, size_t *bad);

#endif
