/*
 * JSON Patch (RFC 6902), JSON merge patch (RFC 7386) and Kubernetes strategic merge patch on
 * JSON trees; see patch.h for the contract.
 *
 * All three start the same way: the inputs are deep-copied into the caller's arena by
 * tree_import, which also collapses duplicate object keys (the last value wins, as in Go's
 * encoding/json), enforces the depth limit and counts values against the node budget. From
 * then on the copies are owned and edited in place, and every later recursion is bounded by
 * the depth of trees that passed the check.
 *
 * Object lookups during merges go through a small open-addressing hash index (keymap) and
 * list lookups by merge key or by value through another (valmap), so a patch of a large
 * ConfigMap or a long list costs time linear in its size rather than quadratic. Deleted
 * object members are first marked (value NULL) and squeezed out once per object.
 */
#include "patch.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "error.h"

#define DEFAULT_MAX_DEPTH 100
#define DEFAULT_MAX_NODES ((size_t)4 << 20)
#define SMALL_OBJECT      8 /* objects up to this size are searched without a hash index */

#define DIRECTIVE_PATCH                   "$patch"
#define DIRECTIVE_RETAIN_KEYS             "$retainKeys"
#define PREFIX_SET_ELEMENT_ORDER          "$setElementOrder"
#define PREFIX_DELETE_FROM_PRIMITIVE_LIST "$deleteFromPrimitiveList"

struct ctx {
    struct k8c_arena *a;
    unsigned max_depth;
    size_t max_nodes, nodes;
    uint64_t seed; /* hash seed, random per call so crafted keys cannot collide on purpose */
    long op_index; /* JSON Patch operation being applied, or -1 */
    char *errmsg;
};

/* ---- helpers --------------------------------------------------------------------------------- */

static uint64_t hash_seed(void)
{
    uint64_t s = 0;
    struct timespec ts;

    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
        return s;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&s;
}

static void ctx_init(struct ctx *c, struct k8c_arena *a, const struct api_patch_limits *limits,
                     char *errmsg)
{
    c->a = a;
    c->max_depth = limits && limits->max_depth ? limits->max_depth : DEFAULT_MAX_DEPTH;
    c->max_nodes = limits && limits->max_nodes ? limits->max_nodes : DEFAULT_MAX_NODES;
    c->nodes = 0;
    c->seed = hash_seed();
    c->op_index = -1;
    c->errmsg = errmsg;
    if (errmsg != NULL)
        errmsg[0] = '\0';
}

/* Formats the error message (prefixed by the JSON Patch operation, if any) and returns code. */
static int fail(struct ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int code, const char *fmt, ...)
{
    char msg[K8C_ERRMSG_SIZE];
    va_list ap;

    if (c->errmsg == NULL)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->op_index >= 0)
        k8c_errmsg_printf(c->errmsg, "json patch operation %ld: %s", c->op_index, msg);
    else
        k8c_errmsg_printf(c->errmsg, "%s", msg);
    return code;
}

/* Compact JSON of v for a message, cut to fit buf (at a UTF-8 boundary, with "..."). */
static const char *describe(char *buf, size_t size, const struct k8c_json *v)
{
    struct k8c_sbuf sb;
    size_t n;

    k8c_sbuf_init(&sb);
    if (v == NULL)
        k8c_sbuf_puts(&sb, "<none>");
    else
        k8c_json_write(&sb, v, 0, K8C_JSON_W_NO_HTML_ESCAPE);
    n = sb.len;
    if (n >= size) { /* size is always well above 4 */
        n = size - 4;
        while (n > 0 && ((unsigned char)sb.data[n] & 0xc0) == 0x80)
            n--;
        memcpy(buf, sb.data, n);
        memcpy(buf + n, "...", 4);
    } else {
        memcpy(buf, sb.data, n);
        buf[n] = '\0';
    }
    k8c_sbuf_free(&sb);
    return buf;
}

static bool str_eq(const struct k8c_json *v, const char *s)
{
    size_t n = strlen(s);

    return v != NULL && v->type == K8C_JSON_STRING && v->len == n && memcmp(v->u.str, s, n) == 0;
}

static bool key_eq(const char *key, size_t len, const char *s)
{
    size_t n = strlen(s);

    return len == n && memcmp(key, s, n) == 0;
}

static bool key_has_prefix(const char *key, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(key, prefix, n) == 0;
}

/* A key that a strategic merge patch treats as a directive, never as data. */
static bool key_is_directive(const char *key, size_t len)
{
    return len > 0 && key[0] == '$' &&
           (key_eq(key, len, DIRECTIVE_PATCH) || key_eq(key, len, DIRECTIVE_RETAIN_KEYS) ||
            key_has_prefix(key, len, PREFIX_SET_ELEMENT_ORDER) ||
            key_has_prefix(key, len, PREFIX_DELETE_FROM_PRIMITIVE_LIST));
}

/* Removes members marked deleted (value NULL). */
static void obj_compact(struct k8c_json *obj)
{
    uint32_t j = 0;

    for (uint32_t i = 0; i < obj->len; i++)
        if (obj->u.members[i].value != NULL)
            obj->u.members[j++] = obj->u.members[i];
    obj->len = j;
}

static struct k8c_json *new_array(struct ctx *c, uint32_t cap)
{
    struct k8c_json *arr = k8c_json_new_array(c->a);

    if (cap > 0) {
        arr->u.items = k8c_arena_alloc(c->a, cap * sizeof(struct k8c_json *));
        arr->cap = cap;
    }
    return arr;
}

/* ---- hashing --------------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* A hash consistent with k8c_json_equal: equal values hash equal (numbers by their double
 * value, objects independent of member order). */
static uint64_t json_hash(uint64_t seed, const struct k8c_json *v)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull;
    uint8_t t = v->type;

    h = fnv(h, &t, 1);
    switch (v->type) {
    case K8C_JSON_BOOL:
        h = fnv(h, &v->boolean, 1);
        break;
    case K8C_JSON_NUMBER: {
        double d;
        if (k8c_json_get_double(v, &d) == 0) {
            if (d == 0)
                d = 0; /* -0 == 0 */
            h = fnv(h, &d, sizeof(d));
        } else {
            h = fnv(h, v->u.str, v->len);
        }
        break;
    }
    case K8C_JSON_STRING:
        h = fnv(h, v->u.str, v->len);
        break;
    case K8C_JSON_ARRAY:
        for (uint32_t i = 0; i < v->len; i++) {
            uint64_t x = json_hash(seed, v->u.items[i]);
            h = fnv(h, &x, sizeof(x));
        }
        break;
    case K8C_JSON_OBJECT: {
        uint64_t sum = 0;
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            if (m->value == NULL)
                continue;
            sum += mix(fnv(seed, m->key, m->key_len) ^ json_hash(seed, m->value));
        }
        h = fnv(h, &sum, sizeof(sum));
        break;
    }
    default:
        break;
    }
    return mix(h);
}

static uint32_t table_size(size_t n)
{
    size_t size = 16;

    while (size < n * 2 + 2)
        size <<= 1;
    return (uint32_t)size;
}

/*
 * valmap: items 0..n-1 of a list, each looked up by a key value (the item itself, or its merge
 * key member). find returns the first item whose key equals the probe.
 */
struct valmap {
    const struct k8c_json **keys; /* NULL: the item has no key and is never found */
    uint32_t *slots;              /* item index + 1; 0 = empty */
    uint32_t mask, n, cap;
    uint64_t seed;
};

static void valmap_init(struct ctx *c, struct valmap *m, uint32_t cap)
{
    uint32_t size = table_size(cap);

    m->keys = k8c_arena_alloc(c->a, (cap + 1) * sizeof(*m->keys));
    m->slots = k8c_arena_calloc(c->a, size * sizeof(*m->slots));
    m->mask = size - 1;
    m->n = 0;
    m->cap = cap;
    m->seed = c->seed;
}

static void valmap_insert_slot(struct valmap *m, uint32_t idx)
{
    const struct k8c_json *key = m->keys[idx];

    for (uint32_t i = (uint32_t)json_hash(m->seed, key) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t s = m->slots[i];
        if (s == 0) {
            m->slots[i] = idx + 1;
            return;
        }
        if (k8c_json_equal(m->keys[s - 1], key))
            return; /* the first item with this key stays the one found */
    }
}

static void valmap_push(struct ctx *c, struct valmap *m, const struct k8c_json *key)
{
    if (m->n == m->cap) { /* not expected (callers size the map), but stay correct */
        struct valmap bigger;
        valmap_init(c, &bigger, m->cap * 2 + 8);
        for (uint32_t i = 0; i < m->n; i++) {
            bigger.keys[bigger.n++] = m->keys[i];
            if (m->keys[i] != NULL)
                valmap_insert_slot(&bigger, i);
        }
        *m = bigger;
    }
    m->keys[m->n] = key;
    if (key != NULL)
        valmap_insert_slot(m, m->n);
    m->n++;
}

static long valmap_find(const struct valmap *m, const struct k8c_json *key)
{
    if (key == NULL)
        return -1;
    for (uint32_t i = (uint32_t)json_hash(m->seed, key) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t s = m->slots[i];
        if (s == 0)
            return -1;
        if (k8c_json_equal(m->keys[s - 1], key))
            return (long)s - 1;
    }
}

/*
 * keymap: the members of an object by key. Members marked deleted (value NULL) stay indexed so
 * that setting the key again reuses the slot.
 */
struct keymap {
    struct k8c_json *obj;
    uint32_t *slots; /* member index + 1; 0 = empty */
    uint32_t mask;
    uint64_t seed;
};

static void keymap_insert_slot(struct keymap *m, uint32_t idx)
{
    const struct k8c_json_member *mem = &m->obj->u.members[idx];
    uint32_t i = (uint32_t)mix(fnv(m->seed, mem->key, mem->key_len)) & m->mask;

    for (;; i = (i + 1) & m->mask) {
        uint32_t s = m->slots[i];
        if (s == 0) {
            m->slots[i] = idx + 1;
            return;
        }
        const struct k8c_json_member *o = &m->obj->u.members[s - 1];
        if (o->key_len == mem->key_len && memcmp(o->key, mem->key, mem->key_len) == 0)
            return;
    }
}

static void keymap_build(struct ctx *c, struct keymap *m, uint32_t cap)
{
    uint32_t size = table_size(cap);

    m->slots = k8c_arena_calloc(c->a, size * sizeof(*m->slots));
    m->mask = size - 1;
    for (uint32_t i = 0; i < m->obj->len; i++)
        keymap_insert_slot(m, i);
}

static void keymap_init(struct ctx *c, struct keymap *m, struct k8c_json *obj, uint32_t extra)
{
    m->obj = obj;
    m->seed = c->seed;
    keymap_build(c, m, obj->len + extra);
}

static long keymap_find(const struct keymap *m, const char *key, size_t len)
{
    uint32_t i = (uint32_t)mix(fnv(m->seed, key, len)) & m->mask;

    for (;; i = (i + 1) & m->mask) {
        uint32_t s = m->slots[i];
        if (s == 0)
            return -1;
        const struct k8c_json_member *o = &m->obj->u.members[s - 1];
        if (o->key_len == len && memcmp(o->key, key, len) == 0)
            return (long)s - 1;
    }
}

static struct k8c_json *keymap_get(const struct keymap *m, const char *key, size_t len)
{
    long i = keymap_find(m, key, len);

    return i < 0 ? NULL : m->obj->u.members[i].value;
}

static void keymap_set(struct ctx *c, struct keymap *m, const char *key, size_t len,
                       struct k8c_json *value)
{
    long i = keymap_find(m, key, len);

    if (i >= 0) {
        m->obj->u.members[i].value = value;
        return;
    }
    k8c_json_append_member(c->a, m->obj, key, len, value);
    if ((size_t)m->obj->len * 2 + 2 > (size_t)m->mask + 1)
        keymap_build(c, m, m->obj->len * 2);
    else
        keymap_insert_slot(m, m->obj->len - 1);
}

static void keymap_del(struct keymap *m, const char *key, size_t len)
{
    long i = keymap_find(m, key, len);

    if (i >= 0)
        m->obj->u.members[i].value = NULL;
}

/* ---- copying in ------------------------------------------------------------------------------ */

/*
 * A deep copy of v into the arena, at nesting level `level` (the number of containers above
 * v). Duplicate object keys collapse: the first position, the last value. Errors: K8C_EDEPTH,
 * K8C_ETOOBIG.
 */
static int tree_import(struct ctx *c, const struct k8c_json *v, unsigned level,
                       struct k8c_json **out)
{
    struct k8c_json *n;
    int rc;

    if (++c->nodes > c->max_nodes)
        return fail(c, K8C_ETOOBIG, "the patched object would hold more than %zu values",
                    c->max_nodes);
    if (v->type != K8C_JSON_ARRAY && v->type != K8C_JSON_OBJECT) {
        *out = k8c_json_copy(c->a, v);
        return 0;
    }
    if (level + 1 > c->max_depth)
        return fail(c, K8C_EDEPTH, "nesting deeper than %u levels", c->max_depth);
    if (v->type == K8C_JSON_ARRAY) {
        n = new_array(c, v->len);
        for (uint32_t i = 0; i < v->len; i++) {
            if ((rc = tree_import(c, v->u.items[i], level + 1, &n->u.items[i])) != 0)
                return rc;
            n->len++;
        }
    } else {
        struct keymap km;
        n = k8c_json_new_object(c->a);
        if (v->len > 0) {
            n->u.members = k8c_arena_alloc(c->a, v->len * sizeof(struct k8c_json_member));
            n->cap = v->len;
        }
        if (v->len > SMALL_OBJECT)
            keymap_init(c, &km, n, v->len);
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            struct k8c_json *val;
            long at = -1;
            if ((rc = tree_import(c, m->value, level + 1, &val)) != 0)
                return rc;
            if (v->len > SMALL_OBJECT) {
                keymap_set(c, &km, m->key, m->key_len, val);
                continue;
            }
            for (uint32_t j = 0; j < n->len && at < 0; j++)
                if (n->u.members[j].key_len == m->key_len &&
                    memcmp(n->u.members[j].key, m->key, m->key_len) == 0)
                    at = j;
            if (at >= 0)
                n->u.members[at].value = val;
            else
                k8c_json_append_member(c->a, n, m->key, m->key_len, val);
        }
    }
    *out = n;
    return 0;
}

/* Nesting depth of v (0 for scalars) and, added to *nodes, its number of values. */
static unsigned tree_measure(const struct k8c_json *v, size_t *nodes)
{
    unsigned d = 0, x;

    ++*nodes;
    if (v->type == K8C_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if ((x = tree_measure(v->u.items[i], nodes)) > d)
                d = x;
        return d + 1;
    }
    if (v->type == K8C_JSON_OBJECT) {
        for (uint32_t i = 0; i < v->len; i++)
            if (v->u.members[i].value != NULL &&
                (x = tree_measure(v->u.members[i].value, nodes)) > d)
                d = x;
        return d + 1;
    }
    return 0;
}

/* ---- JSON Patch (RFC 6902) ------------------------------------------------------------------- */

struct token {
    const char *s;
    size_t len;
};

struct pointer {
    const char *text; /* as written, for messages */
    struct token *tokens;
    uint32_t n;
};

/* Parses an RFC 6901 pointer. Returns 0, or -1 with a reason in why. */
static int pointer_parse(struct ctx *c, const struct k8c_json *v, struct pointer *p,
                         const char **why)
{
    const char *s = v->u.str, *end = s + v->len;
    uint32_t n = 0;

    p->text = s;
    p->n = 0;
    p->tokens = NULL;
    if (v->len == 0)
        return 0;
    if (s[0] != '/') {
        *why = "must be empty or start with '/'";
        return -1;
    }
    for (const char *q = s; q < end; q++)
        n += *q == '/';
    p->tokens = k8c_arena_alloc(c->a, n * sizeof(struct token));
    for (const char *q = s + 1;;) {
        const char *e = memchr(q, '/', (size_t)(end - q));
        char *t, *w;
        if (e == NULL)
            e = end;
        t = w = k8c_arena_alloc(c->a, (size_t)(e - q) + 1);
        for (const char *r = q; r < e; r++) {
            if (*r != '~') {
                *w++ = *r;
            } else if (r + 1 < e && (r[1] == '0' || r[1] == '1')) {
                *w++ = r[1] == '0' ? '~' : '/';
                r++;
            } else {
                *why = "'~' must be followed by '0' or '1'";
                return -1;
            }
        }
        *w = '\0';
        p->tokens[p->n].s = t;
        p->tokens[p->n].len = (size_t)(w - t);
        p->n++;
        if (e == end)
            break;
        q = e + 1;
    }
    return 0;
}

static bool pointer_equal(const struct pointer *x, const struct pointer *y)
{
    if (x->n != y->n)
        return false;
    for (uint32_t i = 0; i < x->n; i++)
        if (x->tokens[i].len != y->tokens[i].len ||
            memcmp(x->tokens[i].s, y->tokens[i].s, x->tokens[i].len) != 0)
            return false;
    return true;
}

/*
 * The array position token t names in an array of len items, or -1. For insertion the
 * position may be len and "-" means len. Negative numbers count from the end, as
 * evanphx/json-patch (upstream) allows.
 */
static long array_index(const struct token *t, uint32_t len, bool insert)
{
    size_t i = 0;
    bool neg = false;
    long v = 0;

    if (insert && t->len == 1 && t->s[0] == '-')
        return len;
    if (t->len > 0 && t->s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == t->len || t->len - i > 10)
        return -1;
    for (; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return -1;
        v = v * 10 + (t->s[i] - '0');
    }
    if (neg)
        v = (long)len + (insert ? 1 : 0) - v;
    if (v < 0 || v > (long)len || (!insert && v == (long)len))
        return -1;
    return v;
}

static long obj_find(const struct k8c_json *obj, const struct token *t)
{
    for (uint32_t i = 0; i < obj->len; i++)
        if (obj->u.members[i].key_len == t->len && memcmp(obj->u.members[i].key, t->s, t->len) == 0)
            return i;
    return -1;
}

/* The container that holds the location p names (p has at least one token), or NULL. */
static struct k8c_json *pointer_parent(struct k8c_json *doc, const struct pointer *p)
{
    struct k8c_json *cur = doc;

    for (uint32_t i = 0; i + 1 < p->n; i++) {
        long j;
        if (cur->type == K8C_JSON_OBJECT) {
            j = obj_find(cur, &p->tokens[i]);
            cur = j < 0 ? NULL : cur->u.members[j].value;
        } else if (cur->type == K8C_JSON_ARRAY) {
            j = array_index(&p->tokens[i], cur->len, false);
            cur = j < 0 ? NULL : cur->u.items[j];
        } else {
            cur = NULL;
        }
        if (cur == NULL)
            return NULL;
    }
    if (cur->type != K8C_JSON_OBJECT && cur->type != K8C_JSON_ARRAY)
        return NULL;
    return cur;
}

enum loc_status { LOC_OK, LOC_NO_PARENT, LOC_NO_KEY, LOC_BAD_INDEX };

static const struct token *last_token(const struct pointer *p)
{
    return &p->tokens[p->n - 1];
}

/* Finds the value at p (p has at least one token); *parent and *index say where it is. */
static enum loc_status loc_find(struct k8c_json *doc, const struct pointer *p,
                                struct k8c_json **parent, long *index)
{
    struct k8c_json *con = pointer_parent(doc, p);

    *parent = con;
    if (con == NULL)
        return LOC_NO_PARENT;
    if (con->type == K8C_JSON_OBJECT) {
        *index = obj_find(con, last_token(p));
        return *index < 0 ? LOC_NO_KEY : LOC_OK;
    }
    *index = array_index(last_token(p), con->len, false);
    return *index < 0 ? LOC_BAD_INDEX : LOC_OK;
}

static struct k8c_json *loc_value(struct k8c_json *con, long index)
{
    return con->type == K8C_JSON_OBJECT ? con->u.members[index].value : con->u.items[index];
}

static void loc_remove(struct k8c_json *con, long index)
{
    if (con->type == K8C_JSON_OBJECT) {
        con->u.members[index].value = NULL;
        obj_compact(con);
    } else {
        k8c_json_array_remove(con, (size_t)index);
    }
}

/* Adds v at p (RFC 6902 "add"): sets an object member, inserts into an array. */
static enum loc_status loc_add(struct ctx *c, struct k8c_json **doc, const struct pointer *p,
                               struct k8c_json *v)
{
    struct k8c_json *con;
    const struct token *t;
    long i;

    if (p->n == 0) {
        *doc = v;
        return LOC_OK;
    }
    if ((con = pointer_parent(*doc, p)) == NULL)
        return LOC_NO_PARENT;
    t = last_token(p);
    if (con->type == K8C_JSON_OBJECT) {
        if ((i = obj_find(con, t)) >= 0)
            con->u.members[i].value = v;
        else
            k8c_json_append_member(c->a, con, t->s, t->len, v);
        return LOC_OK;
    }
    if ((i = array_index(t, con->len, true)) < 0)
        return LOC_BAD_INDEX;
    k8c_json_array_insert(c->a, con, (size_t)i, v);
    return LOC_OK;
}

/* Checks that a value of depth `depth` fits at p and counts `nodes` new values. */
static int jp_check_room(struct ctx *c, const struct pointer *p, unsigned depth, size_t nodes)
{
    if ((size_t)p->n + depth > c->max_depth)
        return fail(c, K8C_EDEPTH, "the value at %s would nest deeper than %u levels", p->text,
                    c->max_depth);
    if (nodes > c->max_nodes - c->nodes)
        return fail(c, K8C_ETOOBIG, "the patched object would hold more than %zu values",
                    c->max_nodes);
    c->nodes += nodes;
    return 0;
}

/* Copies the op's value into the arena with room checks at p. */
static int jp_import_value(struct ctx *c, const struct k8c_json *value, const struct pointer *p,
                           struct k8c_json **out)
{
    if (p->n > c->max_depth)
        return fail(c, K8C_EDEPTH, "the value at %s would nest deeper than %u levels", p->text,
                    c->max_depth);
    return tree_import(c, value, p->n, out);
}

static int jp_add_error(struct ctx *c, enum loc_status st, const char *op, const char *dest,
                        const struct pointer *p)
{
    if (st == LOC_NO_PARENT) {
        if (dest[0] != '\0')
            return fail(c, K8C_EINVAL,
                        "%s operation does not apply: doc is missing %s path: %s: missing value",
                        op, dest, p->text);
        return fail(c, K8C_EINVAL,
                    "%s operation does not apply: doc is missing path: \"%s\": missing value", op,
                    p->text);
    }
    return fail(c, K8C_EINVAL,
                "error in %s for path: '%s': Unable to access invalid index: %s: invalid index "
                "referenced",
                op, p->text, last_token(p)->s);
}

/* The string member `field` of op parsed as a pointer. */
static int jp_pointer(struct ctx *c, const struct k8c_json *op, const char *kind, const char *field,
                      struct pointer *p)
{
    const struct k8c_json *v = k8c_json_get(op, field);
    const char *why;

    if (v == NULL || v->type == K8C_JSON_NULL)
        return fail(c, K8C_EINVAL, "%s operation failed to decode %s: missing value", kind, field);
    if (v->type != K8C_JSON_STRING)
        return fail(c, K8C_EINVAL, "%s operation failed to decode %s: %s must be a string", kind,
                    field, field);
    if (pointer_parse(c, v, p, &why) != 0)
        return fail(c, K8C_EINVAL, "%s operation failed to decode %s: invalid JSON pointer %s: %s",
                    kind, field, p->text, why);
    return 0;
}

static int jp_value(struct ctx *c, const struct k8c_json *op, const char *kind,
                    const struct k8c_json **out)
{
    *out = k8c_json_get(op, "value");
    if (*out == NULL)
        return fail(c, K8C_EINVAL, "%s operation, missing value field: missing value", kind);
    return 0;
}

static int jp_apply_op(struct ctx *c, struct k8c_json **doc, const struct k8c_json *op)
{
    const struct k8c_json *kindv, *value;
    struct k8c_json *v, *con;
    struct pointer path, from;
    enum loc_status st;
    const char *kind;
    char tmp[32];
    long idx;
    int rc;

    if (op->type != K8C_JSON_OBJECT)
        return fail(c, K8C_EPARSE, "an operation must be a JSON object, not %s",
                    k8c_json_type_name((enum k8c_json_type)op->type));
    kindv = k8c_json_get(op, "op");
    if (kindv == NULL || kindv->type != K8C_JSON_STRING)
        return fail(c, K8C_EINVAL, "Unexpected kind: unknown");
    kind = kindv->u.str;

    if (strcmp(kind, "add") == 0) {
        if ((rc = jp_pointer(c, op, kind, "path", &path)) != 0 ||
            (rc = jp_value(c, op, kind, &value)) != 0 ||
            (rc = jp_import_value(c, value, &path, &v)) != 0)
            return rc;
        st = loc_add(c, doc, &path, v);
        return st == LOC_OK ? 0 : jp_add_error(c, st, "add", "", &path);
    }

    if (strcmp(kind, "remove") == 0) {
        if ((rc = jp_pointer(c, op, kind, "path", &path)) != 0)
            return rc;
        if (path.n == 0)
            return fail(c, K8C_EINVAL,
                        "remove operation does not apply: cannot remove the whole "
                        "document");
        st = loc_find(*doc, &path, &con, &idx);
        if (st == LOC_NO_PARENT)
            return fail(c, K8C_EINVAL,
                        "remove operation does not apply: doc is missing path: \"%s\": missing "
                        "value",
                        path.text);
        if (st == LOC_NO_KEY)
            return fail(c, K8C_EINVAL,
                        "error in remove for path: '%s': Unable to remove nonexistent key: %s: "
                        "missing value",
                        path.text, last_token(&path)->s);
        if (st == LOC_BAD_INDEX)
            return fail(c, K8C_EINVAL,
                        "error in remove for path: '%s': Unable to access invalid index: %s: "
                        "invalid index referenced",
                        path.text, last_token(&path)->s);
        loc_remove(con, idx);
        return 0;
    }

    if (strcmp(kind, "replace") == 0) {
        if ((rc = jp_pointer(c, op, kind, "path", &path)) != 0 ||
            (rc = jp_value(c, op, kind, &value)) != 0 ||
            (rc = jp_import_value(c, value, &path, &v)) != 0)
            return rc;
        if (path.n == 0) {
            *doc = v;
            return 0;
        }
        st = loc_find(*doc, &path, &con, &idx);
        if (st == LOC_NO_PARENT)
            return fail(c, K8C_EINVAL,
                        "replace operation does not apply: doc is missing path: %s: missing value",
                        path.text);
        if (st == LOC_BAD_INDEX)
            return fail(c, K8C_EINVAL,
                        "replace operation does not apply: doc is missing key: %s: missing value",
                        path.text);
        if (st == LOC_NO_KEY) /* upstream adds a missing member */
            k8c_json_append_member(c->a, con, last_token(&path)->s, last_token(&path)->len, v);
        else if (con->type == K8C_JSON_OBJECT)
            con->u.members[idx].value = v;
        else
            con->u.items[idx] = v;
        return 0;
    }

    if (strcmp(kind, "test") == 0) {
        if ((rc = jp_pointer(c, op, kind, "path", &path)) != 0 ||
            (rc = jp_value(c, op, kind, &value)) != 0)
            return rc;
        if (path.n == 0) {
            v = *doc;
        } else {
            st = loc_find(*doc, &path, &con, &idx);
            if (st == LOC_NO_PARENT)
                return fail(c, K8C_EINVAL,
                            "test operation does not apply: is missing path: %s: missing value",
                            path.text);
            if (st == LOC_BAD_INDEX)
                return fail(c, K8C_EINVAL,
                            "error in test for path: '%s': Unable to access invalid index: %s: "
                            "invalid index referenced",
                            path.text, last_token(&path)->s);
            if (st == LOC_NO_KEY) {
                if (value->type == K8C_JSON_NULL) /* upstream: a missing member equals null */
                    return 0;
                return fail(c, K8C_EINVAL, "testing value %s failed: test failed", path.text);
            }
            v = loc_value(con, idx);
        }
        if (!k8c_json_equal(v, value))
            return fail(c, K8C_EINVAL, "testing value %s failed: test failed", path.text);
        return 0;
    }

    if (strcmp(kind, "move") == 0 || strcmp(kind, "copy") == 0) {
        bool move = kind[0] == 'm';
        size_t nodes = 0;
        unsigned depth;

        if ((rc = jp_pointer(c, op, kind, "from", &from)) != 0 ||
            (rc = jp_pointer(c, op, kind, "path", &path)) != 0)
            return rc;
        if (from.n == 0) {
            if (move && path.n > 0)
                return fail(c, K8C_EINVAL,
                            "move operation does not apply: doc is missing destination path: %s: "
                            "missing value",
                            path.text);
            con = NULL;
            idx = 0;
            v = *doc;
        } else {
            st = loc_find(*doc, &from, &con, &idx);
            if (st != LOC_OK)
                return fail(c, K8C_EINVAL,
                            "%s operation does not apply: doc is missing from path: %s: missing "
                            "value",
                            kind, from.text);
            v = loc_value(con, idx);
        }
        if (move && pointer_equal(&from, &path))
            return 0;
        depth = tree_measure(v, &nodes);
        if ((rc = jp_check_room(c, &path, depth, move ? 0 : nodes)) != 0)
            return rc;
        if (move) {
            if (con != NULL)
                loc_remove(con, idx);
        } else {
            v = k8c_json_copy(c->a, v);
        }
        st = loc_add(c, doc, &path, v);
        if (st == LOC_OK)
            return 0;
        return jp_add_error(c, st, kind, "destination", &path);
    }

    snprintf(tmp, sizeof(tmp), "%s", kind);
    return fail(c, K8C_EINVAL, "Unexpected kind: %s", tmp);
}

int api_patch_json(struct k8c_arena *a, const struct k8c_json *original,
                   const struct k8c_json *patch, const struct api_patch_limits *limits,
                   struct k8c_json **out, char *errmsg)
{
    struct ctx c;
    struct k8c_json *doc;
    size_t max_ops = limits && limits->max_ops ? limits->max_ops : API_PATCH_MAX_OPS;
    int rc;

    ctx_init(&c, a, limits, errmsg);
    *out = NULL;
    if (patch == NULL || patch->type != K8C_JSON_ARRAY)
        return fail(&c, K8C_EPARSE, "a JSON patch must be a JSON array of operations, not %s",
                    patch ? k8c_json_type_name((enum k8c_json_type)patch->type) : "nothing");
    if (patch->len > max_ops)
        return fail(&c, K8C_ETOOBIG,
                    "The allowed maximum operations in a JSON patch is %zu, got %u", max_ops,
                    (unsigned)patch->len);
    if (original == NULL)
        return fail(&c, K8C_EINVAL, "no object to patch");
    if ((rc = tree_import(&c, original, 0, &doc)) != 0)
        return rc;
    for (uint32_t i = 0; i < patch->len; i++) {
        c.op_index = i;
        if ((rc = jp_apply_op(&c, &doc, patch->u.items[i])) != 0)
            return rc;
    }
    *out = doc;
    return 0;
}

/* ---- JSON merge patch (RFC 7386) ------------------------------------------------------------- */

/* MergePatch(target, patch) of RFC 7386 section 2, in place on owned trees. */
static int merge_value(struct ctx *c, struct k8c_json *target, struct k8c_json *patch,
                       unsigned level, struct k8c_json **out)
{
    struct keymap km;

    if (patch->type != K8C_JSON_OBJECT) {
        *out = patch;
        return 0;
    }
    if (level >= c->max_depth)
        return fail(c, K8C_EDEPTH, "nesting deeper than %u levels", c->max_depth);
    if (target == NULL || target->type != K8C_JSON_OBJECT)
        target = k8c_json_new_object(c->a);
    keymap_init(c, &km, target, patch->len);
    for (uint32_t i = 0; i < patch->len; i++) {
        const struct k8c_json_member *m = &patch->u.members[i];
        struct k8c_json *merged = NULL;
        int rc;
        if (m->value->type == K8C_JSON_NULL) {
            keymap_del(&km, m->key, m->key_len);
            continue;
        }
        rc = merge_value(c, keymap_get(&km, m->key, m->key_len), m->value, level + 1, &merged);
        if (rc != 0)
            return rc;
        keymap_set(c, &km, m->key, m->key_len, merged);
    }
    obj_compact(target);
    *out = target;
    return 0;
}

int api_patch_merge(struct k8c_arena *a, const struct k8c_json *original,
                    const struct k8c_json *patch, const struct api_patch_limits *limits,
                    struct k8c_json **out, char *errmsg)
{
    struct ctx c;
    struct k8c_json *o = NULL, *p;
    int rc;

    ctx_init(&c, a, limits, errmsg);
    *out = NULL;
    if (patch == NULL)
        return fail(&c, K8C_EPARSE, "no merge patch");
    if (original != NULL && (rc = tree_import(&c, original, 0, &o)) != 0)
        return rc;
    if ((rc = tree_import(&c, patch, 0, &p)) != 0)
        return rc;
    return merge_value(&c, o, p, 0, out);
}

/* ---- strategic merge patch ------------------------------------------------------------------- */

/*
 * This follows k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap, mergeSlice,
 * mergePatchIntoOriginal and friends) with the apiserver's options (MergeParallelList and
 * IgnoreUnmatchedNulls). Go iterates maps in random order; we go in patch order, except that
 * $deleteFromPrimitiveList lists are applied after the lists they delete from are merged,
 * which is what a client sending both means. Where upstream panics or accepts nonsense (a
 * $deleteFromPrimitiveList that is not a list, ordering a list of objects without a merge
 * key) we return an error.
 */

static int smp_map(struct ctx *c, struct k8c_json *orig, struct k8c_json *patch,
                   const struct api_patch_type *t, unsigned level, struct k8c_json **out);

static int err_no_merge_key(struct ctx *c, const struct k8c_json *m, const char *key)
{
    char buf[128];

    return fail(c, K8C_EINVAL, "map: %s does not contain declared merge key: %s",
                describe(buf, sizeof(buf), m), key);
}

/*
 * Upstream removeDirectives (+ discardNullValuesFromPatch when discard_nulls): a value taken
 * from the patch as it is loses maps that carry "$patch" (a directive for something that does
 * not exist yet), null members, and directive keys. *keep is false when v itself goes.
 */
static void smp_clean_new(struct k8c_json *v, bool discard_nulls, bool *keep)
{
    *keep = true;
    if (v->type == K8C_JSON_OBJECT) {
        if (k8c_json_get(v, DIRECTIVE_PATCH) != NULL) {
            *keep = false;
            return;
        }
        for (uint32_t i = 0; i < v->len; i++) {
            struct k8c_json_member *m = &v->u.members[i];
            bool k;
            if (m->value == NULL)
                continue;
            if ((discard_nulls && m->value->type == K8C_JSON_NULL) ||
                key_is_directive(m->key, m->key_len)) {
                m->value = NULL;
                continue;
            }
            smp_clean_new(m->value, discard_nulls, &k);
            if (!k)
                m->value = NULL;
        }
        obj_compact(v);
    } else if (v->type == K8C_JSON_ARRAY) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < v->len; i++) {
            bool k;
            smp_clean_new(v->u.items[i], discard_nulls, &k);
            if (k)
                v->u.items[j++] = v->u.items[i];
        }
        v->len = j;
    }
}

/* Drops directive keys (and members marked deleted) left anywhere in the result. */
static void smp_strip(struct k8c_json *v)
{
    if (v->type == K8C_JSON_OBJECT) {
        for (uint32_t i = 0; i < v->len; i++) {
            struct k8c_json_member *m = &v->u.members[i];
            if (m->value == NULL)
                continue;
            if (key_is_directive(m->key, m->key_len))
                m->value = NULL;
            else
                smp_strip(m->value);
        }
        obj_compact(v);
    } else if (v->type == K8C_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            smp_strip(v->u.items[i]);
    }
}

/* The key an item of a list is matched by: its merge key member, or itself. */
static const struct k8c_json *item_key(const struct k8c_json *item, const char *merge_key)
{
    if (merge_key == NULL)
        return item;
    if (item->type != K8C_JSON_OBJECT)
        return NULL;
    return k8c_json_get(item, merge_key);
}

/*
 * The JSON type shared by all elements of lists x and y (NULL lists count as empty), or -1
 * when they have none. Lists of lists and mixed types are errors (upstream sliceElementType).
 */
static int smp_element_kind(struct ctx *c, const struct k8c_json *x, const struct k8c_json *y,
                            int *kind)
{
    const struct k8c_json *lists[2] = {x, y};

    *kind = -1;
    for (int l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        for (uint32_t i = 0; i < lists[l]->len; i++) {
            int t = lists[l]->u.items[i]->type;
            if (t == K8C_JSON_ARRAY)
                return fail(c, K8C_EINVAL, "lists of lists are not supported");
            if (*kind < 0)
                *kind = t;
            else if (*kind != t)
                return fail(c, K8C_EINVAL, "list element types are not identical: %s and %s",
                            k8c_json_type_name((enum k8c_json_type) * kind),
                            k8c_json_type_name((enum k8c_json_type)t));
        }
    }
    return 0;
}

/* Checks that every element of list l is an object carrying merge_key (when one is set), or
 * a primitive (when none is). */
static int smp_check_keys(struct ctx *c, const struct k8c_json *l, const char *merge_key)
{
    if (l == NULL)
        return 0;
    for (uint32_t i = 0; i < l->len; i++) {
        const struct k8c_json *e = l->u.items[i];
        if (merge_key != NULL) {
            if (e->type != K8C_JSON_OBJECT)
                return fail(c, K8C_EINVAL, "expected a map, but received a %s",
                            k8c_json_type_name((enum k8c_json_type)e->type));
            if (k8c_json_get(e, merge_key) == NULL)
                return err_no_merge_key(c, e, merge_key);
        } else if (e->type == K8C_JSON_OBJECT || e->type == K8C_JSON_ARRAY) {
            return fail(c, K8C_EINVAL, "cannot order a list of %ss without a merge key",
                        e->type == K8C_JSON_OBJECT ? "object" : "list");
        }
    }
    return 0;
}

struct ordered {
    struct k8c_json *v;
    uint32_t pos;    /* position in the list this run is sorted by */
    long server_pos; /* position in the server's list, or -1 */
    uint32_t seq;    /* tie-break: keeps the sort stable */
};

static int ordered_cmp(const void *x, const void *y)
{
    const struct ordered *a = x, *b = y;

    if (a->pos != b->pos)
        return a->pos < b->pos ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void build_valmap(struct ctx *c, struct valmap *m, const struct k8c_json *l,
                         const char *merge_key)
{
    valmap_init(c, m, l ? l->len : 0);
    for (uint32_t i = 0; l != NULL && i < l->len; i++)
        valmap_push(c, m, item_key(l->u.items[i], merge_key));
}

/*
 * Upstream's normalizeElementOrder and mergeSortedSlice: the items of merged found in
 * patch_order (by merge key, or by value) come in patch_order's order; the others
 * ("server-only" items) keep the order they have in server_order; the two runs are then
 * interleaved, a server-only item going before the next patch item when both appear in
 * server_order and it comes first there.
 */
static int smp_order(struct ctx *c, const struct k8c_json *merged,
                     const struct k8c_json *patch_order, const struct k8c_json *server_order,
                     const char *merge_key, struct k8c_json **out)
{
    struct valmap vp, vs;
    struct ordered *pi, *so;
    uint32_t np = 0, ns = 0, i = 0, j = 0;
    struct k8c_json *res;
    int rc;

    if ((rc = smp_check_keys(c, merged, merge_key)) != 0 ||
        (rc = smp_check_keys(c, patch_order, merge_key)) != 0 ||
        (rc = smp_check_keys(c, server_order, merge_key)) != 0)
        return rc;
    build_valmap(c, &vp, patch_order, merge_key);
    build_valmap(c, &vs, server_order, merge_key);
    pi = k8c_arena_alloc(c->a, (merged->len + 1) * sizeof(*pi));
    so = k8c_arena_alloc(c->a, (merged->len + 1) * sizeof(*so));
    for (uint32_t k = 0; k < merged->len; k++) {
        struct k8c_json *v = merged->u.items[k];
        const struct k8c_json *key = item_key(v, merge_key);
        long p = valmap_find(&vp, key), s = valmap_find(&vs, key);
        if (p >= 0)
            pi[np++] = (struct ordered){v, (uint32_t)p, s, k};
        else
            so[ns++] = (struct ordered){v, s < 0 ? UINT32_MAX : (uint32_t)s, s, k};
    }
    qsort(pi, np, sizeof(*pi), ordered_cmp);
    qsort(so, ns, sizeof(*so), ordered_cmp);
    res = new_array(c, np + ns);
    while (i < ns || j < np) {
        if (i < ns && (j >= np || (so[i].server_pos >= 0 && pi[j].server_pos >= 0 &&
                                   so[i].server_pos < pi[j].server_pos)))
            res->u.items[res->len++] = so[i++].v;
        else
            res->u.items[res->len++] = pi[j++].v;
    }
    *out = res;
    return 0;
}

/*
 * What upstream's $setElementOrder code sees as "the original list" after mergeSlice ran on
 * it. Go's mergeSlice edits the original slice's backing array in place: each deletion
 * (append(s[:k], s[k+1:]...)) shifts the rest left and leaves the old last element behind,
 * and each new element is appended into the freed room. mergePatchIntoOriginal then sorts
 * server-only items by that array, still viewed at the original length. Whatever the slice's
 * capacity, the view is: the surviving elements, then the appended new elements, then what
 * the deletions left behind, cut to the original length. We rebuild that view so that lists
 * come out in upstream's order (e.g. a new container goes after an injected sidecar when
 * another container is deleted in the same patch).
 *
 * del holds the merge keys of the deletion elements in patch order; merged[first_new..] are
 * the appended elements (none when the list was replaced).
 */
static struct k8c_json *smp_go_view(struct ctx *c, const struct k8c_json *orig,
                                    const struct valmap *del, const char *mk,
                                    const struct k8c_json *merged, uint32_t first_new, bool replace)
{
    uint32_t n = orig->len, nrem = 0, j = 0;
    struct ordered *rem = k8c_arena_alloc(c->a, (n + 1) * sizeof(*rem));
    bool *gone = k8c_arena_calloc(c->a, n + 1);
    struct k8c_json *view = new_array(c, n);
    long last = (long)n - 1;

    /* Removal order: by deletion element, then by position (each removes all matches). */
    for (uint32_t i = 0; i < n; i++) {
        long d = valmap_find(del, k8c_json_get(orig->u.items[i], mk));
        if (d >= 0)
            rem[nrem++] = (struct ordered){orig->u.items[i], (uint32_t)d, -1, i};
    }
    qsort(rem, nrem, sizeof(*rem), ordered_cmp);
    view->len = n;
    /* Removal r freezes slot n-1-r with the last element still in the view. */
    for (uint32_t r = 0; r < nrem; r++) {
        while (last >= 0 && gone[last])
            last--;
        view->u.items[n - 1 - r] = orig->u.items[last];
        gone[rem[r].seq] = true;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!gone[i])
            view->u.items[j++] = orig->u.items[i];
    for (uint32_t k = first_new; !replace && k < merged->len && j < n; k++)
        view->u.items[j++] = merged->u.items[k];
    return view;
}

/*
 * mergeSlice: merges patch list into orig list (both owned) for a field with merge strategy
 * (or a $deleteFromPrimitiveList list when delete_list). When go_view is not NULL it receives
 * the list $setElementOrder orders server-only items by (smp_go_view; orig when no element
 * was deleted or appended in place).
 */
static int smp_list(struct ctx *c, struct k8c_json *orig, struct k8c_json *patch,
                    const struct api_patch_field *f, bool delete_list, unsigned level,
                    struct k8c_json **out, struct k8c_json **go_view)
{
    const char *mk = f ? f->merge_key : NULL;
    struct k8c_json *base, *plist, *merged;
    struct valmap vm, del;
    bool replace = false;
    char buf[128];
    int kind, rc;

    if (go_view != NULL)
        *go_view = orig;
    if (orig->len == 0 && patch->len == 0) {
        *out = orig;
        return 0;
    }
    if ((rc = smp_element_kind(c, orig, patch, &kind)) != 0)
        return rc;
    if (delete_list) {
        if (kind == K8C_JSON_OBJECT)
            return fail(c, K8C_EPARSE, "invalid patch format of primitive list");
        build_valmap(c, &del, patch, NULL);
        merged = new_array(c, orig->len);
        for (uint32_t i = 0; i < orig->len; i++)
            if (valmap_find(&del, orig->u.items[i]) < 0)
                merged->u.items[merged->len++] = orig->u.items[i];
        *out = merged;
        return 0;
    }

    if (kind != K8C_JSON_OBJECT) {
        /* A set of primitives: the union, first occurrences kept. */
        if (mk != NULL)
            return fail(c, K8C_EINVAL, "expected a map, but received a %s",
                        k8c_json_type_name((enum k8c_json_type)kind));
        merged = new_array(c, orig->len + patch->len);
        valmap_init(c, &vm, orig->len + patch->len);
        for (uint32_t i = 0; i < orig->len + patch->len; i++) {
            struct k8c_json *v = i < orig->len ? orig->u.items[i] : patch->u.items[i - orig->len];
            if (valmap_find(&vm, v) >= 0)
                continue;
            valmap_push(c, &vm, v);
            merged->u.items[merged->len++] = v;
        }
        return smp_order(c, merged, patch, orig, NULL, out);
    }

    if (mk == NULL)
        return fail(c, K8C_EINVAL, "cannot merge lists without merge key for %s",
                    f && f->type ? f->type->name
                    : f          ? f->name
                                 : "list");

    /* Elements carrying "$patch" (mergeSliceWithSpecialElements). */
    valmap_init(c, &del, patch->len);
    {
        plist = new_array(c, patch->len);
        for (uint32_t i = 0; i < patch->len; i++) {
            struct k8c_json *e = patch->u.items[i];
            const struct k8c_json *d = k8c_json_get(e, DIRECTIVE_PATCH);
            if (d == NULL) {
                plist->u.items[plist->len++] = e;
            } else if (str_eq(d, "delete")) {
                const struct k8c_json *k = k8c_json_get(e, mk);
                if (k == NULL)
                    return err_no_merge_key(c, e, mk);
                valmap_push(c, &del, k);
            } else if (str_eq(d, "replace")) {
                replace = true;
            } else if (!str_eq(d, "merge")) {
                char dbuf[64];
                return fail(c, K8C_EPARSE, "unknown patch type: %s in map: %s",
                            describe(dbuf, sizeof(dbuf), d), describe(buf, sizeof(buf), e));
            }
        }
        if (replace) {
            base = plist;
            plist = new_array(c, 0);
        } else {
            base = new_array(c, orig->len);
            for (uint32_t i = 0; i < orig->len; i++)
                if (valmap_find(&del, k8c_json_get(orig->u.items[i], mk)) < 0)
                    base->u.items[base->len++] = orig->u.items[i];
        }
    }

    /* mergeSliceWithoutSpecialElements: merge by key, append the rest. */
    merged = new_array(c, base->len + plist->len);
    valmap_init(c, &vm, base->len + plist->len);
    for (uint32_t i = 0; i < base->len; i++) {
        merged->u.items[merged->len++] = base->u.items[i];
        valmap_push(c, &vm, k8c_json_get(base->u.items[i], mk));
    }
    for (uint32_t i = 0; i < plist->len; i++) {
        struct k8c_json *e = plist->u.items[i];
        const struct k8c_json *k = k8c_json_get(e, mk);
        long at;
        if (k == NULL)
            return err_no_merge_key(c, e, mk);
        at = valmap_find(&vm, k);
        if (at >= 0) {
            struct k8c_json *m;
            if ((rc = smp_map(c, merged->u.items[at], e, f->type, level + 1, &m)) != 0)
                return rc;
            merged->u.items[at] = m;
        } else {
            merged->u.items[merged->len++] = e;
            valmap_push(c, &vm, k);
        }
    }
    if (go_view != NULL)
        *go_view = smp_go_view(c, orig, &del, mk, merged, base->len, replace);
    return smp_order(c, merged, plist, base, mk, out);
}

/*
 * validatePatchWithSetOrderList: the patch list's items (ignoring deletions and other
 * directives) must appear in the $setElementOrder list, in the same relative order.
 */
static int smp_validate_order(struct ctx *c, const struct k8c_json *plist,
                              const struct k8c_json *order, const char *mk)
{
    uint32_t pi = 0, si = 0, n;
    char b1[96], b2[96];

    if (plist == NULL || plist->len == 0 || order->len == 0)
        return 0;
    n = plist->len;
    while (pi < n && si < order->len) {
        const struct k8c_json *e = plist->u.items[pi], *o = order->u.items[si];
        bool eq;
        if (mk != NULL && e->type != K8C_JSON_OBJECT)
            return fail(c, K8C_EINVAL, "expected a map, but received a %s",
                        k8c_json_type_name((enum k8c_json_type)e->type));
        if (e->type == K8C_JSON_OBJECT && k8c_json_get(e, DIRECTIVE_PATCH) != NULL) {
            pi++;
            continue;
        }
        if (mk != NULL) {
            const struct k8c_json *ke = k8c_json_get(e, mk), *ko;
            if (ke == NULL)
                return err_no_merge_key(c, e, mk);
            if (o->type != K8C_JSON_OBJECT)
                return fail(c, K8C_EINVAL, "expected a map, but received a %s",
                            k8c_json_type_name((enum k8c_json_type)o->type));
            if ((ko = k8c_json_get(o, mk)) == NULL)
                return err_no_merge_key(c, o, mk);
            eq = k8c_json_equal(ke, ko);
        } else {
            eq = k8c_json_equal(e, o);
        }
        if (eq)
            pi++;
        si++;
    }
    /* Deletions and directives after the last match are fine. */
    while (pi < n && plist->u.items[pi]->type == K8C_JSON_OBJECT &&
           k8c_json_get(plist->u.items[pi], DIRECTIVE_PATCH) != NULL)
        pi++;
    if (pi < n)
        return fail(c, K8C_EPARSE, "The order in patch list: %s doesn't match %s list: %s",
                    describe(b1, sizeof(b1), plist), PREFIX_SET_ELEMENT_ORDER,
                    describe(b2, sizeof(b2), order));
    return 0;
}

/* mergePatchIntoOriginal: the $setElementOrder/<field> directives of patch and their lists. */
static int smp_set_element_order(struct ctx *c, struct keymap *ko, struct keymap *kp,
                                 const struct api_patch_type *t, unsigned level)
{
    struct k8c_json *patch = kp->obj;
    size_t plen = strlen(PREFIX_SET_ELEMENT_ORDER);

    for (uint32_t i = 0; i < patch->len; i++) {
        struct k8c_json_member *m = &patch->u.members[i];
        const struct api_patch_field *f;
        struct k8c_json *order = m->value, *ol, *pl, *merged, *both, *view;
        const char *name, *mk;
        size_t name_len;
        int kind, rc;

        if (order == NULL || !key_has_prefix(m->key, m->key_len, PREFIX_SET_ELEMENT_ORDER))
            continue;
        m->value = NULL;
        if (order->type != K8C_JSON_ARRAY || m->key_len <= plen || m->key[plen] != '/')
            return fail(c, K8C_EPARSE, "invalid patch format of setElementOrder list");
        name = m->key + plen + 1;
        name_len = m->key_len - plen - 1;
        ol = keymap_get(ko, name, name_len);
        pl = keymap_get(kp, name, name_len);
        if (ol != NULL && ol->type == K8C_JSON_NULL)
            ol = NULL;
        if ((ol != NULL && ol->type != K8C_JSON_ARRAY) ||
            (pl != NULL && pl->type != K8C_JSON_ARRAY))
            return fail(
                c, K8C_EINVAL, "%.*s: expected a list, but received a %s", (int)name_len, name,
                k8c_json_type_name(
                    (enum k8c_json_type)(ol && ol->type != K8C_JSON_ARRAY ? ol : pl)->type));
        f = api_patch_schema_field(t, name, name_len);
        mk = f ? f->merge_key : NULL;
        if ((rc = smp_validate_order(c, pl, order, mk)) != 0)
            return rc;
        if (ol == NULL && pl == NULL)
            continue;
        if ((rc = smp_element_kind(c, ol, pl, &kind)) != 0)
            return rc;
        view = ol;
        if (pl == NULL) {
            merged = ol;
        } else if (ol == NULL) {
            bool keep;
            smp_clean_new(pl, false, &keep);
            merged = pl;
        } else if (f != NULL && (f->strategy & API_PATCH_MERGE) &&
                   !(f->strategy & API_PATCH_REPLACE)) {
            if ((rc = smp_list(c, ol, pl, f, false, level + 1, &merged, &view)) != 0)
                return rc;
        } else {
            merged = pl;
        }
        if (kind < 0) { /* nothing to order (upstream fails here; an empty list is fine) */
            both = merged;
        } else {
            struct k8c_json empty = {.type = K8C_JSON_ARRAY};
            if ((rc = smp_order(c, merged, order, view ? view : &empty, mk, &both)) != 0)
                return rc;
        }
        keymap_set(c, ko, name, name_len, both);
        if (pl != NULL)
            keymap_del(kp, name, name_len);
    }
    return 0;
}

/* applyRetainKeysDirective. */
static int smp_retain_keys(struct ctx *c, struct keymap *ko, struct keymap *kp)
{
    struct k8c_json *orig = ko->obj, *patch = kp->obj;
    struct k8c_json *rk = keymap_get(kp, DIRECTIVE_RETAIN_KEYS, strlen(DIRECTIVE_RETAIN_KEYS));
    struct valmap keys;

    if (rk == NULL)
        return 0;
    keymap_del(kp, DIRECTIVE_RETAIN_KEYS, strlen(DIRECTIVE_RETAIN_KEYS));
    if (rk->type != K8C_JSON_ARRAY)
        return fail(c, K8C_EPARSE, "invalid patch format of retainKeys");
    build_valmap(c, &keys, rk, NULL);
    for (uint32_t i = 0; i < patch->len; i++) {
        const struct k8c_json_member *m = &patch->u.members[i];
        struct k8c_json probe = {.type = K8C_JSON_STRING, .len = m->key_len, .u.str = m->key};
        if (m->value == NULL || m->value->type == K8C_JSON_NULL ||
            key_has_prefix(m->key, m->key_len, PREFIX_DELETE_FROM_PRIMITIVE_LIST) ||
            key_has_prefix(m->key, m->key_len, PREFIX_SET_ELEMENT_ORDER))
            continue;
        if (valmap_find(&keys, &probe) < 0)
            return fail(c, K8C_EPARSE, "invalid patch format of retainKeys");
    }
    for (uint32_t i = 0; i < orig->len; i++) {
        struct k8c_json_member *m = &orig->u.members[i];
        struct k8c_json probe = {.type = K8C_JSON_STRING, .len = m->key_len, .u.str = m->key};
        if (m->value != NULL && valmap_find(&keys, &probe) < 0)
            m->value = NULL;
    }
    return 0;
}

/* One field of mergeMap's main loop: patch value pv for key into the original object. */
static int smp_field(struct ctx *c, struct keymap *ko, const char *key, size_t len,
                     struct k8c_json *pv, const struct api_patch_type *t, bool delete_list,
                     unsigned level)
{
    const struct api_patch_field *f = api_patch_schema_field(t, key, len);
    struct k8c_json *cur, *merged;
    int rc;

    if (pv->type == K8C_JSON_NULL) {
        keymap_del(ko, key, len);
        return 0;
    }
    cur = keymap_get(ko, key, len);
    if (cur == NULL || cur->type != pv->type) {
        bool keep;
        if (delete_list)
            return 0;
        smp_clean_new(pv, true, &keep);
        if (keep)
            keymap_set(c, ko, key, len, pv);
        else
            keymap_del(ko, key, len);
        return 0;
    }
    switch (pv->type) {
    case K8C_JSON_OBJECT:
        if (f != NULL && (f->strategy & API_PATCH_REPLACE)) {
            merged = pv;
        } else if ((rc = smp_map(c, cur, pv, f ? f->type : NULL, level + 1, &merged)) != 0) {
            return rc;
        }
        break;
    case K8C_JSON_ARRAY:
        if (delete_list ||
            (f != NULL && (f->strategy & API_PATCH_MERGE) && !(f->strategy & API_PATCH_REPLACE))) {
            if ((rc = smp_list(c, cur, pv, f, delete_list, level + 1, &merged, NULL)) != 0)
                return rc;
        } else {
            merged = pv;
        }
        break;
    default:
        merged = pv;
        break;
    }
    keymap_set(c, ko, key, len, merged);
    return 0;
}

/* mergeMap: merges patch (owned) into orig (owned). */
static int smp_map(struct ctx *c, struct k8c_json *orig, struct k8c_json *patch,
                   const struct api_patch_type *t, unsigned level, struct k8c_json **out)
{
    const struct k8c_json *d = k8c_json_get(patch, DIRECTIVE_PATCH);
    size_t dlen = strlen(PREFIX_DELETE_FROM_PRIMITIVE_LIST);
    struct keymap ko, kp;
    int rc;

    if (level >= c->max_depth)
        return fail(c, K8C_EDEPTH, "nesting deeper than %u levels", c->max_depth);
    if (d != NULL) {
        char b1[64], b2[128];
        if (str_eq(d, "replace")) {
            k8c_json_remove(patch, DIRECTIVE_PATCH);
            *out = patch;
            return 0;
        }
        if (str_eq(d, "delete")) {
            *out = k8c_json_new_object(c->a);
            return 0;
        }
        if (!str_eq(d, "merge"))
            return fail(c, K8C_EPARSE, "unknown patch type: %s in map: %s",
                        describe(b1, sizeof(b1), d), describe(b2, sizeof(b2), patch));
        k8c_json_remove(patch, DIRECTIVE_PATCH);
    }
    keymap_init(c, &ko, orig, patch->len);
    keymap_init(c, &kp, patch, 0);
    if ((rc = smp_retain_keys(c, &ko, &kp)) != 0 ||
        (rc = smp_set_element_order(c, &ko, &kp, t, level)) != 0)
        return rc;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < patch->len; i++) {
            const struct k8c_json_member *m = &patch->u.members[i];
            bool del = key_has_prefix(m->key, m->key_len, PREFIX_DELETE_FROM_PRIMITIVE_LIST);
            if (m->value == NULL || del != (pass == 1))
                continue;
            if (!del) {
                rc = smp_field(c, &ko, m->key, m->key_len, m->value, t, false, level);
            } else if (m->key_len <= dlen || m->key[dlen] != '/' ||
                       (m->value->type != K8C_JSON_ARRAY && m->value->type != K8C_JSON_NULL)) {
                rc = fail(c, K8C_EPARSE, "invalid patch format of primitive list");
            } else {
                rc = smp_field(c, &ko, m->key + dlen + 1, m->key_len - dlen - 1, m->value, t, true,
                               level);
            }
            if (rc != 0)
                return rc;
        }
    }
    obj_compact(orig);
    *out = orig;
    return 0;
}

int api_patch_strategic(struct k8c_arena *a, const struct k8c_json *original,
                        const struct k8c_json *patch, const struct api_patch_type *schema,
                        const struct api_patch_limits *limits, struct k8c_json **out, char *errmsg)
{
    struct ctx c;
    struct k8c_json *o, *p, *r;
    int rc;

    ctx_init(&c, a, limits, errmsg);
    *out = NULL;
    if (original == NULL || original->type != K8C_JSON_OBJECT)
        return fail(&c, K8C_EINVAL, "the object to patch is not a JSON object");
    if (patch == NULL || (patch->type != K8C_JSON_OBJECT && patch->type != K8C_JSON_NULL))
        return fail(&c, K8C_EPARSE, "a strategic merge patch must be a JSON object, not %s",
                    patch ? k8c_json_type_name((enum k8c_json_type)patch->type) : "nothing");
    if ((rc = tree_import(&c, original, 0, &o)) != 0)
        return rc;
    if (patch->type == K8C_JSON_NULL) {
        *out = o;
        return 0;
    }
    if ((rc = tree_import(&c, patch, 0, &p)) != 0)
        return rc;
    if ((rc = smp_map(&c, o, p, schema, 0, &r)) != 0)
        return rc;
    smp_strip(r);
    *out = r;
    return 0;
}

/* ---- built-in schema ------------------------------------------------------------------------- */

/* From the patchStrategy / patchMergeKey tags of k8s.io/api (v1.32). */

#define FIELDS(arr) arr, sizeof(arr) / sizeof(arr[0])
#define M           API_PATCH_MERGE
#define R           API_PATCH_RETAIN_KEYS

static const struct api_patch_field object_meta_fields[] = {
    {"finalizers", M, NULL, NULL},
    {"ownerReferences", M, "uid", NULL},
};
static const struct api_patch_type object_meta = {"ObjectMeta", FIELDS(object_meta_fields)};

static const struct api_patch_field container_fields[] = {
    {"ports", M, "containerPort", NULL},
    {"env", M, "name", NULL},
    {"volumeMounts", M, "mountPath", NULL},
    {"volumeDevices", M, "devicePath", NULL},
};
static const struct api_patch_type container = {"Container", FIELDS(container_fields)};

static const struct api_patch_field pod_spec_fields[] = {
    {"volumes", M | R, "name", NULL},
    {"initContainers", M, "name", &container},
    {"containers", M, "name", &container},
    {"ephemeralContainers", M, "name", &container},
    {"imagePullSecrets", M, "name", NULL},
    {"hostAliases", M, "ip", NULL},
    {"topologySpreadConstraints", M, "topologyKey", NULL},
    {"schedulingGates", M, "name", NULL},
    {"resourceClaims", M | R, "name", NULL},
};
static const struct api_patch_type pod_spec = {"PodSpec", FIELDS(pod_spec_fields)};

static const struct api_patch_field pod_status_fields[] = {
    {"conditions", M, "type", NULL},
    {"podIPs", M, "ip", NULL},
    {"hostIPs", M, "ip", NULL},
    {"resourceClaimStatuses", M | R, "name", NULL},
};
static const struct api_patch_type pod_status = {"PodStatus", FIELDS(pod_status_fields)};

static const struct api_patch_field pod_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &pod_spec},
    {"status", 0, NULL, &pod_status},
};
static const struct api_patch_type pod = {"Pod", FIELDS(pod_fields)};

static const struct api_patch_field pod_template_spec_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &pod_spec},
};
static const struct api_patch_type pod_template_spec = {"PodTemplateSpec",
                                                        FIELDS(pod_template_spec_fields)};

static const struct api_patch_field pod_template_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"template", 0, NULL, &pod_template_spec},
};
static const struct api_patch_type pod_template = {"PodTemplate", FIELDS(pod_template_fields)};

/* Status types whose only special field is conditions merged by type. */
static const struct api_patch_field conditions_status_fields[] = {
    {"conditions", M, "type", NULL},
};
static const struct api_patch_type conditions_status = {"Status", FIELDS(conditions_status_fields)};

/* ReplicaSetSpec, StatefulSetSpec, DaemonSetSpec, JobSpec, ReplicationControllerSpec. */
static const struct api_patch_field workload_spec_fields[] = {
    {"template", 0, NULL, &pod_template_spec},
};
static const struct api_patch_type workload_spec = {"WorkloadSpec", FIELDS(workload_spec_fields)};

static const struct api_patch_field workload_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &workload_spec},
    {"status", 0, NULL, &conditions_status},
};
static const struct api_patch_type workload = {"Workload", FIELDS(workload_fields)};

static const struct api_patch_field deployment_spec_fields[] = {
    {"template", 0, NULL, &pod_template_spec},
    {"strategy", R, NULL, NULL},
};
static const struct api_patch_type deployment_spec = {"DeploymentSpec",
                                                      FIELDS(deployment_spec_fields)};

static const struct api_patch_field deployment_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &deployment_spec},
    {"status", 0, NULL, &conditions_status},
};
static const struct api_patch_type deployment = {"Deployment", FIELDS(deployment_fields)};

static const struct api_patch_field job_template_spec_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &workload_spec},
};
static const struct api_patch_type job_template_spec = {"JobTemplateSpec",
                                                        FIELDS(job_template_spec_fields)};

static const struct api_patch_field cron_job_spec_fields[] = {
    {"jobTemplate", 0, NULL, &job_template_spec},
};
static const struct api_patch_type cron_job_spec = {"CronJobSpec", FIELDS(cron_job_spec_fields)};

static const struct api_patch_field cron_job_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &cron_job_spec},
};
static const struct api_patch_type cron_job = {"CronJob", FIELDS(cron_job_fields)};

static const struct api_patch_field service_spec_fields[] = {
    {"ports", M, "port", NULL},
};
static const struct api_patch_type service_spec = {"ServiceSpec", FIELDS(service_spec_fields)};

static const struct api_patch_field service_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &service_spec},
    {"status", 0, NULL, &conditions_status},
};
static const struct api_patch_type service = {"Service", FIELDS(service_fields)};

static const struct api_patch_field service_account_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"secrets", M, "name", NULL},
};
static const struct api_patch_type service_account = {"ServiceAccount",
                                                      FIELDS(service_account_fields)};

static const struct api_patch_field node_spec_fields[] = {
    {"podCIDRs", M, NULL, NULL},
};
static const struct api_patch_type node_spec = {"NodeSpec", FIELDS(node_spec_fields)};

static const struct api_patch_field node_status_fields[] = {
    {"conditions", M, "type", NULL},
    {"addresses", M, "type", NULL},
};
static const struct api_patch_type node_status = {"NodeStatus", FIELDS(node_status_fields)};

static const struct api_patch_field node_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"spec", 0, NULL, &node_spec},
    {"status", 0, NULL, &node_status},
};
static const struct api_patch_type node = {"Node", FIELDS(node_fields)};

/* Namespace, PersistentVolumeClaim: metadata and status.conditions. */
static const struct api_patch_field with_conditions_fields[] = {
    {"metadata", 0, NULL, &object_meta},
    {"status", 0, NULL, &conditions_status},
};
static const struct api_patch_type with_conditions = {"Object", FIELDS(with_conditions_fields)};

static const struct api_patch_field generic_fields[] = {
    {"metadata", 0, NULL, &object_meta},
};
static const struct api_patch_type generic = {"Object", FIELDS(generic_fields)};

#undef M
#undef R

static const struct {
    const char *group, *kind;
    const struct api_patch_type *type;
} kinds[] = {
    {"", "Pod", &pod},
    {"", "PodTemplate", &pod_template},
    {"", "ReplicationController", &workload},
    {"", "Service", &service},
    {"", "ServiceAccount", &service_account},
    {"", "Node", &node},
    {"", "Namespace", &with_conditions},
    {"", "PersistentVolumeClaim", &with_conditions},
    {"apps", "Deployment", &deployment},
    {"apps", "ReplicaSet", &workload},
    {"apps", "StatefulSet", &workload},
    {"apps", "DaemonSet", &workload},
    {"batch", "Job", &workload},
    {"batch", "CronJob", &cron_job},
};

const struct api_patch_type *api_patch_schema_for_kind(const char *group, const char *kind)
{
    if (kind == NULL)
        return &generic;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0 &&
            (group == NULL || strcmp(kinds[i].group, group) == 0))
            return kinds[i].type;
    return &generic;
}

const struct api_patch_field *api_patch_schema_field(const struct api_patch_type *t,
                                                     const char *name, size_t len)
{
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->n_fields; i++)
        if (key_eq(name, len, t->fields[i].name))
            return &t->fields[i];
    return NULL;
}
