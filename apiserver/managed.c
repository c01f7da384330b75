/*
 * Server-side apply field ownership: field sets over JSON trees, the Update and Apply
 * operations of upstream's field manager (apimachinery util/managedfields) and the
 * structured-merge-diff algorithms they rest on (ToFieldSet, Compare, Merge, RemoveItems,
 * prune). See managed.h for the rules; the comments here say how each piece maps onto
 * upstream's.
 *
 * Upstream types every value with the OpenAPI schema. We have the strategic-merge schema of
 * apiserver/patch.h instead, which knows the merge keys of lists, plus a few name-based rules
 * (which objects are maps keyed by user data, which are atomic). A "type context" (struct
 * tctx) carries that knowledge down a walk.
 */
#include "managed.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"

#define MAX_DEPTH 128

struct mctx {
    struct k8c_arena *a;
    char *errmsg;
    bool selector_is_map; /* Service, ReplicationController: spec.selector is a string map */
};

static int fail(struct mctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct mctx *x, int code, const char *fmt, ...)
{
    if (x->errmsg != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->errmsg, K8C_ERRMSG_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int fail_depth(struct mctx *x)
{
    return fail(x, K8C_EDEPTH, "managed fields: object nests deeper than %d levels", MAX_DEPTH);
}

static bool str_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

static char *sbuf_to_arena(struct k8c_arena *a, struct k8c_sbuf *sb)
{
    char *s = k8c_arena_strndup(a, sb->data != NULL ? sb->data : "", sb->len);
    k8c_sbuf_free(sb);
    return s;
}

/* ---- type context ---------------------------------------------------------------------------- */

enum { TK_STRUCT, TK_MAP, TK_ATOMIC };

struct tctx {
    const struct api_patch_type *t;  /* fields the patch schema knows, or NULL */
    const struct api_patch_field *f; /* the field holding this value (lists: how they merge) */
    const char *name;                /* that field's name ("" at the root and in lists) */
    size_t name_len;
    uint8_t kind; /* an object here is a struct, a map (user keys), or atomic */
};

/* Objects whose keys are user data (Go maps): each key is owned on its own and is a member of
 * the field set even when it has children. */
static const char *const map_fields[] = {
    "labels",
    "annotations",
    "nodeSelector",
    "data",
    "binaryData",
    "stringData",
    "limits",
    "requests",
    "capacity",
    "allocatable",
    "hard",
    "used",
    "overhead",
    "matchLabels",
    "volumeAttributes",
    "parameters",
    "allocatedResources",
};

/* Structs upstream marks +structType=atomic (LabelSelector, the key and field selectors). */
static const char *const atomic_fields[] = {
    "labelSelector",   "namespaceSelector", "fieldRef",          "resourceFieldRef",
    "configMapKeyRef", "secretKeyRef",      "nodeSelectorTerms",
};

static bool name_in(const char *name, size_t len, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (str_eq(name, len, list[i]))
            return true;
    return false;
}

#define N_OF(arr) (sizeof(arr) / sizeof((arr)[0]))

static struct tctx tctx_root(const struct api_patch_type *schema)
{
    struct tctx r = {schema, NULL, "", 0, TK_STRUCT};
    return r;
}

static struct tctx tctx_child(const struct mctx *x, const struct tctx *c, const char *name,
                              size_t len)
{
    struct tctx r = {NULL, NULL, name, len, TK_STRUCT};

    if (c->kind != TK_STRUCT) {
        r.kind = c->kind == TK_MAP ? TK_MAP : TK_ATOMIC;
        return r;
    }
    r.f = api_patch_schema_field(c->t, name, len);
    r.t = r.f != NULL ? r.f->type : NULL;
    if (str_eq(name, len, "selector"))
        r.kind = x->selector_is_map ? TK_MAP : TK_ATOMIC;
    else if (name_in(name, len, atomic_fields, N_OF(atomic_fields)) ||
             (r.f != NULL && (r.f->strategy & API_PATCH_REPLACE)))
        r.kind = TK_ATOMIC;
    else if (name_in(name, len, map_fields, N_OF(map_fields)))
        r.kind = TK_MAP;
    return r;
}

/* The context of the items of the list held by c. */
static struct tctx tctx_item(const struct tctx *c)
{
    struct tctx r = {c->f != NULL ? c->f->type : NULL, NULL, "", 0, TK_STRUCT};

    /* LocalObjectReference is an atomic struct. */
    if (str_eq(c->name, c->name_len, "imagePullSecrets"))
        r.kind = TK_ATOMIC;
    return r;
}

enum { LIST_ATOMIC, LIST_SET, LIST_MAP };

struct list_info {
    uint8_t rel;
    uint8_t n_keys;
    const char *keys[2]; /* sorted by name */
    const char *defaults[2];
};

/* Lists whose OpenAPI list-map keys are more than their strategic merge key. */
static const struct {
    const char *field, *merge_key;
    const char *keys[2];
    const char *defaults[2];
} list_key_overrides[] = {
    {"ports", "containerPort", {"containerPort", "protocol"}, {NULL, "TCP"}},
    {"ports", "port", {"port", "protocol"}, {NULL, "TCP"}},
    {"topologySpreadConstraints",
     "topologyKey",
     {"topologyKey", "whenUnsatisfiable"},
     {NULL, NULL}},
};

static void list_info(const struct tctx *c, struct list_info *li)
{
    memset(li, 0, sizeof(*li));
    li->rel = LIST_ATOMIC;
    if (c->kind != TK_STRUCT || c->f == NULL || !(c->f->strategy & API_PATCH_MERGE) ||
        (c->f->strategy & API_PATCH_REPLACE))
        return;
    if (c->f->merge_key == NULL) {
        li->rel = LIST_SET;
        return;
    }
    li->rel = LIST_MAP;
    for (size_t i = 0; i < N_OF(list_key_overrides); i++) {
        if (str_eq(c->name, c->name_len, list_key_overrides[i].field) &&
            strcmp(c->f->merge_key, list_key_overrides[i].merge_key) == 0) {
            li->n_keys = 2;
            for (int k = 0; k < 2; k++) {
                li->keys[k] = list_key_overrides[i].keys[k];
                li->defaults[k] = list_key_overrides[i].defaults[k];
            }
            return;
        }
    }
    li->n_keys = 1;
    li->keys[0] = c->f->merge_key;
}

/* ---- values ------------------------------------------------------------------------------------
 */

/* Absent, null, {} or []. */
static bool is_empty(const struct k8c_json *v)
{
    return v == NULL || v->type == K8C_JSON_NULL ||
           ((v->type == K8C_JSON_OBJECT || v->type == K8C_JSON_ARRAY) && v->len == 0);
}

static int value_rank(const struct k8c_json *v)
{
    switch (v->type) {
    case K8C_JSON_NUMBER:
        return 0;
    case K8C_JSON_STRING:
        return 1;
    case K8C_JSON_BOOL:
        return 2;
    case K8C_JSON_ARRAY:
        return 3;
    case K8C_JSON_OBJECT:
        return 4;
    default:
        return 5;
    }
}

static int bytes_compare(const char *x, size_t xl, const char *y, size_t yl)
{
    int c = memcmp(x, y, xl < yl ? xl : yl);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (xl > yl) - (xl < yl);
}

static int member_cmp(const void *p, const void *q)
{
    const struct k8c_json_member *x = p, *y = q;
    return bytes_compare(x->key, x->key_len, y->key, y->key_len);
}

/* The member of o with the smallest key greater than after's (NULL: the smallest key). */
static const struct k8c_json_member *next_member(const struct k8c_json *o,
                                                 const struct k8c_json_member *after)
{
    const struct k8c_json_member *best = NULL;
    for (uint32_t i = 0; i < o->len; i++) {
        const struct k8c_json_member *m = &o->u.members[i];
        if (after != NULL && member_cmp(m, after) <= 0)
            continue;
        if (best == NULL || member_cmp(m, best) < 0)
            best = m;
    }
    return best;
}

/* upstream value.Compare: a total order, numbers < strings < bools < lists < maps < null. */
static int value_compare(const struct k8c_json *p, const struct k8c_json *q)
{
    int rp = value_rank(p), rq = value_rank(q);

    if (rp != rq)
        return rp < rq ? -1 : 1;
    switch (p->type) {
    case K8C_JSON_NUMBER: {
        int64_t i, j;
        double d = 0, e = 0;
        if (k8c_json_get_int64(p, &i) == 0 && k8c_json_get_int64(q, &j) == 0)
            return (i > j) - (i < j);
        k8c_json_get_double(p, &d);
        k8c_json_get_double(q, &e);
        return (d > e) - (d < e);
    }
    case K8C_JSON_STRING:
        return bytes_compare(p->u.str, p->len, q->u.str, q->len);
    case K8C_JSON_BOOL:
        return (p->boolean > q->boolean) - (p->boolean < q->boolean);
    case K8C_JSON_ARRAY:
        for (uint32_t i = 0; i < p->len && i < q->len; i++) {
            int c = value_compare(p->u.items[i], q->u.items[i]);
            if (c != 0)
                return c;
        }
        return (p->len > q->len) - (p->len < q->len);
    case K8C_JSON_OBJECT: {
        /* Key by key in sorted order (keys inside list keys are rare and small). */
        const struct k8c_json_member *mp = next_member(p, NULL), *mq = next_member(q, NULL);
        while (mp != NULL && mq != NULL) {
            int c = member_cmp(mp, mq);
            if (c == 0)
                c = value_compare(mp->value, mq->value);
            if (c != 0)
                return c;
            mp = next_member(p, mp);
            mq = next_member(q, mq);
        }
        return (mp != NULL) - (mq != NULL);
    }
    default:
        return 0;
    }
}

/* ---- path elements -----------------------------------------------------------------------------
 */

enum { PE_FIELD, PE_KEY, PE_VALUE, PE_INDEX }; /* upstream's order between kinds */

struct pe {
    uint8_t kind;
    uint32_t len;                 /* FIELD: bytes of name */
    const char *name;             /* FIELD */
    const struct k8c_json *value; /* KEY: object of key fields sorted by name; VALUE */
    int64_t index;                /* INDEX */
};

static int pe_compare(const struct pe *p, const struct pe *q)
{
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    switch (p->kind) {
    case PE_FIELD:
        return bytes_compare(p->name, p->len, q->name, q->len);
    case PE_KEY: {
        const struct k8c_json *kp = p->value, *kq = q->value;
        for (uint32_t i = 0;; i++) {
            if (i >= kp->len && i >= kq->len)
                return 0;
            if (i >= kp->len)
                return -1;
            if (i >= kq->len)
                return 1;
            int c = member_cmp(&kp->u.members[i], &kq->u.members[i]);
            if (c == 0)
                c = value_compare(kp->u.members[i].value, kq->u.members[i].value);
            if (c != 0)
                return c;
        }
    }
    case PE_VALUE:
        return value_compare(p->value, q->value);
    default:
        return (p->index > q->index) - (p->index < q->index);
    }
}

static struct pe pe_field(const char *name, size_t len)
{
    struct pe e = {PE_FIELD, (uint32_t)len, name, NULL, 0};
    return e;
}

/* FieldsV1 spelling: "f:name", "k:{...}", "v:value", "i:3". */
static const char *pe_text(struct k8c_arena *a, const struct pe *e)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    switch (e->kind) {
    case PE_FIELD:
        k8c_sbuf_puts(&sb, "f:");
        k8c_sbuf_append(&sb, e->name, e->len);
        break;
    case PE_KEY:
        k8c_sbuf_puts(&sb, "k:{");
        for (uint32_t i = 0; i < e->value->len; i++) {
            const struct k8c_json_member *m = &e->value->u.members[i];
            if (i > 0)
                k8c_sbuf_putc(&sb, ',');
            k8c_json_write_string(&sb, m->key, m->key_len, 0);
            k8c_sbuf_putc(&sb, ':');
            k8c_json_write(&sb, m->value, 0, 0);
        }
        k8c_sbuf_putc(&sb, '}');
        break;
    case PE_VALUE:
        k8c_sbuf_puts(&sb, "v:");
        k8c_json_write(&sb, e->value, 0, 0);
        break;
    default:
        k8c_sbuf_printf(&sb, "i:%lld", (long long)e->index);
        break;
    }
    return sbuf_to_arena(a, &sb);
}

/* Go's %q, close enough for field values: JSON escaping without HTML escapes. */
static void go_quote(struct k8c_sbuf *sb, const char *s, size_t len)
{
    k8c_json_write_string(sb, s, len, K8C_JSON_W_NO_HTML_ESCAPE);
}

/* upstream value.ToString */
static void value_to_string(struct k8c_sbuf *sb, const struct k8c_json *v)
{
    switch (v->type) {
    case K8C_JSON_NULL:
        k8c_sbuf_puts(sb, "null");
        break;
    case K8C_JSON_BOOL:
        k8c_sbuf_puts(sb, v->boolean ? "true" : "false");
        break;
    case K8C_JSON_NUMBER:
        k8c_sbuf_append(sb, v->u.str, v->len);
        break;
    case K8C_JSON_STRING:
        go_quote(sb, v->u.str, v->len);
        break;
    case K8C_JSON_ARRAY:
        k8c_sbuf_putc(sb, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i > 0)
                k8c_sbuf_putc(sb, ',');
            value_to_string(sb, v->u.items[i]);
        }
        k8c_sbuf_putc(sb, ']');
        break;
    default:
        for (uint32_t i = 0; i < v->len; i++) {
            k8c_sbuf_append(sb, v->u.members[i].key, v->u.members[i].key_len);
            k8c_sbuf_putc(sb, '=');
            value_to_string(sb, v->u.members[i].value);
        }
        break;
    }
}

/* upstream PathElement.String: ".name", "[name=\"web\"]", "[=\"a\"]", "[3]". */
static void pe_to_string(struct k8c_sbuf *sb, const struct pe *e)
{
    switch (e->kind) {
    case PE_FIELD:
        k8c_sbuf_putc(sb, '.');
        k8c_sbuf_append(sb, e->name, e->len);
        break;
    case PE_KEY:
        k8c_sbuf_putc(sb, '[');
        for (uint32_t i = 0; i < e->value->len; i++) {
            if (i > 0)
                k8c_sbuf_putc(sb, ',');
            k8c_sbuf_append(sb, e->value->u.members[i].key, e->value->u.members[i].key_len);
            k8c_sbuf_putc(sb, '=');
            value_to_string(sb, e->value->u.members[i].value);
        }
        k8c_sbuf_putc(sb, ']');
        break;
    case PE_VALUE:
        k8c_sbuf_puts(sb, "[=");
        value_to_string(sb, e->value);
        k8c_sbuf_putc(sb, ']');
        break;
    default:
        k8c_sbuf_printf(sb, "[%lld]", (long long)e->index);
        break;
    }
}

/* The path element of a list item (upstream listItemToPathElement). */
static int item_pe(struct mctx *x, const struct list_info *li, const struct k8c_json *item,
                   size_t index, struct pe *out)
{
    memset(out, 0, sizeof(*out));
    if (li->rel == LIST_SET) {
        if (item->type == K8C_JSON_OBJECT)
            return fail(x, K8C_EINVAL,
                        "element %zu: associative list without keys has an element that's a "
                        "map type",
                        index);
        if (item->type == K8C_JSON_ARRAY)
            return fail(x, K8C_EINVAL,
                        "element %zu: not supported: associative list with lists as elements",
                        index);
        if (item->type == K8C_JSON_NULL)
            return fail(x, K8C_EINVAL,
                        "element %zu: associative list without keys has an element that's an "
                        "explicit null",
                        index);
        out->kind = PE_VALUE;
        out->value = item;
        return 0;
    }
    if (item->type == K8C_JSON_NULL)
        return fail(x, K8C_EINVAL,
                    "element %zu: associative list with keys may not have a null element", index);
    if (item->type != K8C_JSON_OBJECT)
        return fail(x, K8C_EINVAL,
                    "element %zu: associative list with keys may not have non-map elements", index);
    struct k8c_json *key = k8c_json_new_object(x->a);
    for (int i = 0; i < li->n_keys; i++) {
        const struct k8c_json *v = k8c_json_get(item, li->keys[i]);
        if (v == NULL && li->defaults[i] != NULL)
            v = k8c_json_new_string(x->a, li->defaults[i]);
        if (v != NULL)
            k8c_json_append_member(x->a, key, li->keys[i], strlen(li->keys[i]),
                                   (struct k8c_json *)v);
    }
    if (key->len == 0) {
        if (li->n_keys == 1)
            return fail(x, K8C_EINVAL,
                        "element %zu: associative list with keys has an element that omits all "
                        "key fields [\"%s\"] (and doesn't have default values for any key "
                        "fields)",
                        index, li->keys[0]);
        return fail(x, K8C_EINVAL,
                    "element %zu: associative list with keys has an element that omits all key "
                    "fields [\"%s\" \"%s\"] (and doesn't have default values for any key "
                    "fields)",
                    index, li->keys[0], li->keys[1]);
    }
    out->kind = PE_KEY;
    out->value = key;
    return 0;
}

/* The path elements of a list's items, plus an index sorted by element for lookups. */
struct pe_slot {
    struct pe pe;
    uint32_t i;
};

struct list_pes {
    struct pe *pes;         /* by item position */
    struct pe_slot *sorted; /* by element, then position */
    uint32_t n;
};

static int slot_cmp(const void *p, const void *q)
{
    const struct pe_slot *x = p, *y = q;
    int c = pe_compare(&x->pe, &y->pe);
    if (c != 0)
        return c;
    return (x->i > y->i) - (x->i < y->i);
}

static int list_pes(struct mctx *x, const struct list_info *li, const struct k8c_json *l,
                    struct list_pes *out)
{
    out->n = l != NULL && l->type == K8C_JSON_ARRAY ? l->len : 0;
    out->pes = k8c_arena_alloc(x->a, (out->n + 1) * sizeof(*out->pes));
    out->sorted = k8c_arena_alloc(x->a, (out->n + 1) * sizeof(*out->sorted));
    for (uint32_t i = 0; i < out->n; i++) {
        int rc = item_pe(x, li, l->u.items[i], i, &out->pes[i]);
        if (rc != 0)
            return rc;
        out->sorted[i].pe = out->pes[i];
        out->sorted[i].i = i;
    }
    qsort(out->sorted, out->n, sizeof(*out->sorted), slot_cmp);
    return 0;
}

/* The position of the first item with element e, or -1; *count gets how many there are. */
static long list_find(const struct list_pes *lp, const struct pe *e, uint32_t *count)
{
    uint32_t lo = 0, hi = lp->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pe_compare(&lp->sorted[mid].pe, e) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t n = 0;
    while (lo + n < lp->n && pe_compare(&lp->sorted[lo + n].pe, e) == 0)
        n++;
    if (count != NULL)
        *count = n;
    return n > 0 ? (long)lp->sorted[lo].i : -1;
}

/* ---- field sets --------------------------------------------------------------------------------
 */

/*
 * A set of paths as a tree: a node is a path element; member says the path ending here is in
 * the set (upstream keeps Members and Children apart; a node that is both is written with
 * "."). Children are sorted by element. Set operations build new trees and never modify their
 * inputs; only walkers that build a fresh set insert into it.
 */
struct fnode {
    struct pe pe;
    bool member;
    uint32_t n, cap;
    struct fnode **kids;
};

static struct fnode *fnode_new(struct k8c_arena *a, const struct pe *e)
{
    struct fnode *n = k8c_arena_calloc(a, sizeof(*n));
    if (e != NULL)
        n->pe = *e;
    return n;
}

static uint32_t fnode_lower(const struct fnode *n, const struct pe *e)
{
    uint32_t lo = 0, hi = n->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pe_compare(&n->kids[mid]->pe, e) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct fnode *fnode_find(const struct fnode *n, const struct pe *e)
{
    if (n == NULL)
        return NULL;
    uint32_t i = fnode_lower(n, e);
    return i < n->n && pe_compare(&n->kids[i]->pe, e) == 0 ? n->kids[i] : NULL;
}

static void fnode_insert_at(struct k8c_arena *a, struct fnode *n, uint32_t i, struct fnode *k)
{
    if (n->n == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 4;
        struct fnode **kids = k8c_arena_alloc(a, cap * sizeof(*kids));
        if (n->n)
            memcpy(kids, n->kids, n->n * sizeof(*kids));
        n->kids = kids;
        n->cap = cap;
    }
    memmove(&n->kids[i + 1], &n->kids[i], (n->n - i) * sizeof(*n->kids));
    n->kids[i] = k;
    n->n++;
}

/* Appends a child that sorts after every existing one. */
static void fnode_append(struct k8c_arena *a, struct fnode *n, struct fnode *k)
{
    fnode_insert_at(a, n, n->n, k);
}

static struct fnode *fnode_child(struct k8c_arena *a, struct fnode *n, const struct pe *e)
{
    uint32_t i = fnode_lower(n, e);
    if (i < n->n && pe_compare(&n->kids[i]->pe, e) == 0)
        return n->kids[i];
    struct fnode *k = fnode_new(a, e);
    fnode_insert_at(a, n, i, k);
    return k;
}

static bool fs_empty(const struct fnode *s)
{
    return s == NULL || (!s->member && s->n == 0);
}

/* x ∪ y (either may be NULL); the result node carries e. Drops empty nodes. */
static struct fnode *fs_union_node(struct k8c_arena *a, const struct fnode *x,
                                   const struct fnode *y, const struct pe *e)
{
    struct fnode *o = fnode_new(a, e);
    uint32_t i = 0, j = 0, xn = x ? x->n : 0, yn = y ? y->n : 0;

    o->member = (x != NULL && x->member) || (y != NULL && y->member);
    while (i < xn || j < yn) {
        const struct fnode *xk = i < xn ? x->kids[i] : NULL, *yk = j < yn ? y->kids[j] : NULL;
        int c = xk == NULL ? 1 : yk == NULL ? -1 : pe_compare(&xk->pe, &yk->pe);
        struct fnode *k;
        if (c < 0) {
            k = fs_union_node(a, xk, NULL, &xk->pe);
            i++;
        } else if (c > 0) {
            k = fs_union_node(a, NULL, yk, &yk->pe);
            j++;
        } else {
            k = fs_union_node(a, xk, yk, &xk->pe);
            i++;
            j++;
        }
        if (!fs_empty(k))
            fnode_append(a, o, k);
    }
    return o;
}

static struct fnode *fs_union(struct k8c_arena *a, const struct fnode *x, const struct fnode *y)
{
    return fs_union_node(a, x, y, NULL);
}

static struct fnode *fs_copy(struct k8c_arena *a, const struct fnode *x)
{
    return fs_union_node(a, x, NULL, x != NULL ? &x->pe : NULL);
}

/* The paths of x that are not paths of y. */
static struct fnode *fs_diff(struct k8c_arena *a, const struct fnode *x, const struct fnode *y)
{
    struct fnode *o = fnode_new(a, x != NULL ? &x->pe : NULL);

    if (x == NULL)
        return o;
    o->member = x->member && !(y != NULL && y->member);
    for (uint32_t i = 0; i < x->n; i++) {
        struct fnode *k = fs_diff(a, x->kids[i], fnode_find(y, &x->kids[i]->pe));
        if (!fs_empty(k))
            fnode_append(a, o, k);
    }
    return o;
}

static struct fnode *fs_inter(struct k8c_arena *a, const struct fnode *x, const struct fnode *y)
{
    struct fnode *o = fnode_new(a, x != NULL ? &x->pe : NULL);

    if (x == NULL || y == NULL)
        return o;
    o->member = x->member && y->member;
    for (uint32_t i = 0; i < x->n; i++) {
        const struct fnode *yk = fnode_find(y, &x->kids[i]->pe);
        if (yk == NULL)
            continue;
        struct fnode *k = fs_inter(a, x->kids[i], yk);
        if (!fs_empty(k))
            fnode_append(a, o, k);
    }
    return o;
}

/* upstream RecursiveDifference: the paths of x that neither are nor lie under a path of y. */
static struct fnode *fs_rdiff(struct k8c_arena *a, const struct fnode *x, const struct fnode *y)
{
    struct fnode *o = fnode_new(a, x != NULL ? &x->pe : NULL);

    if (x == NULL)
        return o;
    o->member = x->member;
    for (uint32_t i = 0; i < x->n; i++) {
        const struct fnode *yk = fnode_find(y, &x->kids[i]->pe);
        struct fnode *k;
        if (yk != NULL && yk->member)
            continue;
        k = yk != NULL ? fs_rdiff(a, x->kids[i], yk) : fs_copy(a, x->kids[i]);
        if (!fs_empty(k))
            fnode_append(a, o, k);
    }
    return o;
}

/* A set of dotted field paths ("metadata.name"). */
static struct fnode *fs_of_paths(struct k8c_arena *a, const char *const *paths, size_t n)
{
    struct fnode *root = fnode_new(a, NULL);
    for (size_t i = 0; i < n; i++) {
        struct fnode *node = root;
        const char *p = paths[i];
        while (*p) {
            const char *dot = strchr(p, '.');
            size_t len = dot ? (size_t)(dot - p) : strlen(p);
            struct pe e = pe_field(p, len);
            node = fnode_child(a, node, &e);
            p += len + (dot ? 1 : 0);
        }
        node->member = true;
    }
    return root;
}

/* Never owned (upstream's stripMetaManager, plus the fields the server alone sets). */
static const char *const strip_paths[] = {
    "apiVersion",
    "kind",
    "metadata",
    "metadata.name",
    "metadata.namespace",
    "metadata.creationTimestamp",
    "metadata.selfLink",
    "metadata.uid",
    "metadata.clusterName",
    "metadata.generation",
    "metadata.managedFields",
    "metadata.resourceVersion",
    "metadata.deletionTimestamp",
    "metadata.deletionGracePeriodSeconds",
};

static const char *const reset_main[] = {"status"};
static const char *const reset_status[] = {"spec", "metadata.labels"};

static struct fnode *reset_set(struct k8c_arena *a, const char *subresource)
{
    if (subresource != NULL && strcmp(subresource, "status") == 0)
        return fs_of_paths(a, reset_status, N_OF(reset_status));
    return fs_of_paths(a, reset_main, N_OF(reset_main));
}

/* FieldsV1 of a set. */
static struct k8c_json *fs_to_json(struct k8c_arena *a, const struct fnode *s, bool self)
{
    struct k8c_json *o = k8c_json_new_object(a);

    if (self && s->n > 0)
        k8c_json_append_member(a, o, ".", 1, k8c_json_new_object(a));
    for (uint32_t i = 0; i < s->n; i++) {
        const struct fnode *k = s->kids[i];
        const char *key = pe_text(a, &k->pe);
        k8c_json_append_member(a, o, key, strlen(key),
                               k->n > 0 ? fs_to_json(a, k, k->member) : k8c_json_new_object(a));
    }
    return o;
}

/* Parses one FieldsV1 key; returns 1 for a key of an unknown kind (skipped, as upstream). */
static int pe_parse(struct mctx *x, const char *key, size_t len, struct pe *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 2)
        return fail(x, K8C_EINVAL, "parsing key as path element: key must be 2 characters long");
    if (key[1] != ':')
        return fail(x, K8C_EINVAL, "parsing key as path element: missing colon: %.*s",
                    (int)(len > 80 ? 80 : len), key);
    switch (key[0]) {
    case 'f':
        *out = pe_field(key + 2, len - 2);
        return 0;
    case 'v':
    case 'k': {
        struct k8c_json *v = NULL;
        char err[K8C_ERRMSG_SIZE];
        if (k8c_json_parse(x->a, key + 2, len - 2, NULL, &v, err) != 0)
            return fail(x, K8C_EINVAL, "parsing key as path element: %s", err);
        if (key[0] == 'v') {
            out->kind = PE_VALUE;
            out->value = v;
            return 0;
        }
        if (v->type != K8C_JSON_OBJECT)
            return fail(x, K8C_EINVAL, "parsing key as path element: key is not an object: %.*s",
                        (int)(len > 80 ? 80 : len), key);
        qsort(v->u.members, v->len, sizeof(*v->u.members), member_cmp);
        out->kind = PE_KEY;
        out->value = v;
        return 0;
    }
    case 'i': {
        char buf[32];
        char *end;
        if (len - 2 == 0 || len - 2 >= sizeof(buf))
            return fail(x, K8C_EINVAL, "parsing key as path element: bad index");
        memcpy(buf, key + 2, len - 2);
        buf[len - 2] = 0;
        out->kind = PE_INDEX;
        out->index = strtoll(buf, &end, 10);
        if (*end != 0)
            return fail(x, K8C_EINVAL, "parsing key as path element: bad index %s", buf);
        return 0;
    }
    default:
        return 1;
    }
}

/* Reads a FieldsV1 object into node n (upstream readIterV1); *member says whether the path of
 * n is itself in the set. */
static int fs_from_json(struct mctx *x, const struct k8c_json *v, struct fnode *n, bool *member,
                        int depth)
{
    bool any_child = false;

    *member = false;
    if (depth > MAX_DEPTH)
        return fail_depth(x);
    if (v->type != K8C_JSON_OBJECT)
        return fail(x, K8C_EINVAL, "fieldsV1: expected an object, found %s",
                    k8c_json_type_name(v->type));
    for (uint32_t i = 0; i < v->len; i++) {
        const struct k8c_json_member *m = &v->u.members[i];
        struct pe e;
        bool child_member;
        int rc;
        if (str_eq(m->key, m->key_len, ".")) {
            *member = true;
            continue;
        }
        rc = pe_parse(x, m->key, m->key_len, &e);
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;
        struct fnode *k = fnode_child(x->a, n, &e);
        if ((rc = fs_from_json(x, m->value, k, &child_member, depth + 1)) != 0)
            return rc;
        k->member = k->member || child_member;
        any_child = true;
    }
    if (!any_child)
        *member = true;
    return 0;
}

/* ---- ToFieldSet ------------------------------------------------------------------------------ */

/* Adds to node n (the path of v) the paths v sets (upstream toFieldSetWalker). */
static int to_set(struct mctx *x, const struct k8c_json *v, const struct tctx *c, struct fnode *n,
                  int depth)
{
    int rc;

    if (depth > MAX_DEPTH)
        return fail_depth(x);
    if (v->type == K8C_JSON_OBJECT) {
        if (c->kind == TK_ATOMIC) {
            n->member = true;
            return 0;
        }
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            struct pe e = pe_field(m->key, m->key_len);
            struct tctx cc = tctx_child(x, c, m->key, m->key_len);
            struct fnode *k = fnode_child(x->a, n, &e);
            if ((rc = to_set(x, m->value, &cc, k, depth + 1)) != 0)
                return rc;
            if (m->value->type == K8C_JSON_NULL ||
                (m->value->type == K8C_JSON_OBJECT && m->value->len == 0) || c->kind == TK_MAP)
                k->member = true;
        }
        return 0;
    }
    if (v->type == K8C_JSON_ARRAY) {
        struct list_info li;
        struct list_pes lp;
        list_info(c, &li);
        if (li.rel == LIST_ATOMIC) {
            n->member = true;
            return 0;
        }
        if ((rc = list_pes(x, &li, v, &lp)) != 0)
            return rc;
        struct tctx ic = tctx_item(c);
        for (uint32_t i = 0; i < v->len; i++) {
            uint32_t count;
            long first = list_find(&lp, &lp.pes[i], &count);
            struct fnode *k = fnode_child(x->a, n, &lp.pes[i]);
            k->member = true;
            /* Items with a duplicated key are owned as a whole, not field by field. */
            if (count > 1 || first != (long)i)
                continue;
            if ((rc = to_set(x, v->u.items[i], &ic, k, depth + 1)) != 0)
                return rc;
        }
        return 0;
    }
    n->member = true;
    return 0;
}

/* The field set of v, normalised (no empty nodes). */
static int field_set(struct mctx *x, const struct k8c_json *v, const struct tctx *c,
                     struct fnode **out)
{
    struct fnode *root = fnode_new(x->a, NULL);
    int rc = to_set(x, v, c, root, 0);
    if (rc != 0)
        return rc;
    *out = fs_copy(x->a, root);
    return 0;
}

/* upstream EnsureNamedFieldsAreMembers: struct fields that have children become members too,
 * so that removing them removes the whole field. */
static struct fnode *ensure_named(struct mctx *x, const struct fnode *s, const struct tctx *c)
{
    struct fnode *o = fnode_new(x->a, &s->pe);
    bool named = c->kind != TK_MAP;

    o->member = s->member;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct fnode *k = s->kids[i];
        struct tctx cc =
            k->pe.kind == PE_FIELD ? tctx_child(x, c, k->pe.name, k->pe.len) : tctx_item(c);
        struct fnode *nk = ensure_named(x, k, &cc);
        if (k->pe.kind == PE_FIELD && named && k->n > 0)
            nk->member = true;
        fnode_append(x->a, o, nk);
    }
    return o;
}

/* ---- Compare --------------------------------------------------------------------------------- */

struct path {
    struct pe e[MAX_DEPTH + 2];
    int n;
};

struct comparison {
    struct fnode *added, *modified, *removed;
};

static void fs_insert(struct k8c_arena *a, struct fnode *root, const struct path *p,
                      const struct pe *last)
{
    struct fnode *n = root;
    for (int i = 0; i < p->n; i++)
        n = fnode_child(a, n, &p->e[i]);
    if (last != NULL)
        n = fnode_child(a, n, last);
    n->member = true;
}

enum { VK_NONE, VK_NULL, VK_SCALAR, VK_OBJECT, VK_ARRAY };

static int vkind(const struct k8c_json *v)
{
    if (v == NULL)
        return VK_NONE;
    switch (v->type) {
    case K8C_JSON_NULL:
        return VK_NULL;
    case K8C_JSON_OBJECT:
        return VK_OBJECT;
    case K8C_JSON_ARRAY:
        return VK_ARRAY;
    default:
        return VK_SCALAR;
    }
}

/* Whether a value pair is compared or merged as one leaf: scalars, atomic maps and lists,
 * both sides empty, or a change of type. *k gets the container kind otherwise. */
static bool is_leaf(const struct tctx *c, const struct k8c_json *lhs, const struct k8c_json *rhs,
                    int *k)
{
    int kl = vkind(lhs), kr = vkind(rhs);

    if ((kl == VK_OBJECT || kl == VK_ARRAY) && (kr == VK_OBJECT || kr == VK_ARRAY) && kl != kr)
        return true;
    if (kl == VK_SCALAR || kr == VK_SCALAR)
        return true;
    *k = kl == VK_OBJECT || kl == VK_ARRAY ? kl : kr;
    if (*k != VK_OBJECT && *k != VK_ARRAY)
        return true; /* null against null or nothing */
    if (is_empty(lhs) && is_empty(rhs))
        return true;
    if (*k == VK_OBJECT)
        return c->kind == TK_ATOMIC;
    struct list_info li;
    list_info(c, &li);
    return li.rel == LIST_ATOMIC;
}

static int compare(struct mctx *x, struct path *p, const struct k8c_json *lhs,
                   const struct k8c_json *rhs, const struct tctx *c, struct comparison *out);

static int compare_items(struct mctx *x, struct path *p, const struct k8c_json *lhs,
                         const struct k8c_json *rhs, const struct tctx *c, struct comparison *out)
{
    struct list_info li;
    struct list_pes lp, rp;
    struct tctx ic = tctx_item(c);
    int rc;

    list_info(c, &li);
    if ((rc = list_pes(x, &li, lhs, &lp)) != 0 || (rc = list_pes(x, &li, rhs, &rp)) != 0)
        return rc;
    for (int side = 0; side < 2; side++) {
        const struct list_pes *own = side == 0 ? &lp : &rp;
        for (uint32_t i = 0; i < own->n; i++) {
            const struct pe *e = &own->pes[i];
            uint32_t cl, cr;
            long il = list_find(&lp, e, &cl), ir = list_find(&rp, e, &cr);
            if ((long)i != (side == 0 ? il : ir))
                continue; /* not the first item with this key */
            if (side == 1 && il >= 0)
                continue; /* done from the left */
            const struct k8c_json *l0 = il >= 0 ? lhs->u.items[il] : NULL;
            const struct k8c_json *r0 = ir >= 0 ? rhs->u.items[ir] : NULL;
            if (cl <= 1 && cr <= 1) {
                if (p->n > MAX_DEPTH)
                    return fail_depth(x);
                p->e[p->n++] = *e;
                rc = compare(x, p, l0, r0, &ic, out);
                p->n--;
                if (rc != 0)
                    return rc;
            } else if (cl >= 2 && cr >= 2) {
                /* Duplicates on both sides: modified unless the same items in order. */
                bool same = cl == cr;
                for (uint32_t j = 0, a = 0, b = 0; same && j < cl; j++, a++, b++) {
                    while (pe_compare(&lp.pes[a], e) != 0)
                        a++;
                    while (pe_compare(&rp.pes[b], e) != 0)
                        b++;
                    same = k8c_json_equal(lhs->u.items[a], rhs->u.items[b]);
                }
                if (!same)
                    fs_insert(x->a, out->modified, p, e);
            } else if (cl >= 2) {
                if (cr != 0) {
                    p->e[p->n++] = *e;
                    rc = compare(x, p, NULL, r0, &ic, out);
                    p->n--;
                    if (rc != 0)
                        return rc;
                }
                fs_insert(x->a, out->removed, p, e);
            } else {
                if (cl != 0) {
                    p->e[p->n++] = *e;
                    rc = compare(x, p, l0, NULL, &ic, out);
                    p->n--;
                    if (rc != 0)
                        return rc;
                }
                fs_insert(x->a, out->added, p, e);
            }
        }
    }
    return 0;
}

/* upstream compareWalker: which paths were added, modified or removed from lhs to rhs. */
static int compare(struct mctx *x, struct path *p, const struct k8c_json *lhs,
                   const struct k8c_json *rhs, const struct tctx *c, struct comparison *out)
{
    int k = VK_NONE, rc;

    if (lhs == NULL && rhs == NULL)
        return 0;
    if (p->n > MAX_DEPTH)
        return fail_depth(x);
    if (is_leaf(c, lhs, rhs, &k)) {
        if (lhs == NULL)
            fs_insert(x->a, out->added, p, NULL);
        else if (rhs == NULL)
            fs_insert(x->a, out->removed, p, NULL);
        else if (!k8c_json_equal(lhs, rhs))
            fs_insert(x->a, out->modified, p, NULL);
        return 0;
    }
    if (k == VK_OBJECT) {
        const struct k8c_json *lo = vkind(lhs) == VK_OBJECT ? lhs : NULL;
        const struct k8c_json *ro = vkind(rhs) == VK_OBJECT ? rhs : NULL;
        for (uint32_t i = 0; lo != NULL && i < lo->len; i++) {
            const struct k8c_json_member *m = &lo->u.members[i];
            struct tctx cc = tctx_child(x, c, m->key, m->key_len);
            p->e[p->n++] = pe_field(m->key, m->key_len);
            rc = compare(x, p, m->value, ro ? k8c_json_getn(ro, m->key, m->key_len) : NULL, &cc,
                         out);
            p->n--;
            if (rc != 0)
                return rc;
        }
        for (uint32_t i = 0; ro != NULL && i < ro->len; i++) {
            const struct k8c_json_member *m = &ro->u.members[i];
            if (lo != NULL && k8c_json_getn(lo, m->key, m->key_len) != NULL)
                continue;
            struct tctx cc = tctx_child(x, c, m->key, m->key_len);
            p->e[p->n++] = pe_field(m->key, m->key_len);
            rc = compare(x, p, NULL, m->value, &cc, out);
            p->n--;
            if (rc != 0)
                return rc;
        }
    } else {
        rc = compare_items(x, p, vkind(lhs) == VK_ARRAY ? lhs : NULL,
                           vkind(rhs) == VK_ARRAY ? rhs : NULL, c, out);
        if (rc != 0)
            return rc;
    }
    if (lhs == NULL)
        fs_insert(x->a, out->added, p, NULL);
    else if (rhs == NULL)
        fs_insert(x->a, out->removed, p, NULL);
    return 0;
}

/* Compares two whole objects; the three sets are normalised and have the reset fields (may be
 * NULL) filtered out. */
static int compare_objects(struct mctx *x, const struct k8c_json *lhs, const struct k8c_json *rhs,
                           const struct tctx *root, const struct fnode *reset,
                           struct comparison *out)
{
    struct path *p = k8c_arena_calloc(x->a, sizeof(*p));
    struct comparison c = {fnode_new(x->a, NULL), fnode_new(x->a, NULL), fnode_new(x->a, NULL)};
    int rc = compare(x, p, lhs, rhs, root, &c);

    if (rc != 0)
        return rc;
    out->added = fs_rdiff(x->a, c.added, reset);
    out->modified = fs_rdiff(x->a, c.modified, reset);
    out->removed = fs_rdiff(x->a, c.removed, reset);
    return 0;
}

/* ---- Merge ----------------------------------------------------------------------------------- */

/* A copy of v without object members whose value is null (they mean "unset"). */
static struct k8c_json *copy_set_fields(struct k8c_arena *a, const struct k8c_json *v)
{
    if (v->type == K8C_JSON_OBJECT) {
        struct k8c_json *o = k8c_json_new_object(a);
        for (uint32_t i = 0; i < v->len; i++)
            if (v->u.members[i].value->type != K8C_JSON_NULL)
                k8c_json_append_member(a, o, v->u.members[i].key, v->u.members[i].key_len,
                                       copy_set_fields(a, v->u.members[i].value));
        return o;
    }
    if (v->type == K8C_JSON_ARRAY) {
        struct k8c_json *l = k8c_json_new_array(a);
        for (uint32_t i = 0; i < v->len; i++)
            k8c_json_array_append(a, l, copy_set_fields(a, v->u.items[i]));
        return l;
    }
    return k8c_json_copy(a, v);
}

static int merge(struct mctx *x, const struct k8c_json *lhs, const struct k8c_json *rhs,
                 const struct tctx *c, struct k8c_json **out, int depth);

/* upstream mergingWalker.visitListItems: items of the applied list in its order, with items
 * only the live list has kept where they were relative to the shared ones. */
static int merge_items(struct mctx *x, const struct k8c_json *lhs, const struct k8c_json *rhs,
                       const struct tctx *c, struct k8c_json **out, int depth)
{
    struct list_info li;
    struct list_pes lp, rp;
    struct tctx ic = tctx_item(c);
    struct k8c_json *o = k8c_json_new_array(x->a), *m;
    uint32_t lI = 0, rI = 0, sp = 0, n_shared = 0;
    uint32_t *shared;
    bool *merged_r;
    long next_shared;
    int rc;

    list_info(c, &li);
    if ((rc = list_pes(x, &li, lhs, &lp)) != 0 || (rc = list_pes(x, &li, rhs, &rp)) != 0)
        return rc;
    shared = k8c_arena_alloc(x->a, (rp.n + 1) * sizeof(*shared));
    merged_r = k8c_arena_calloc(x->a, rp.n + 1);
    for (uint32_t j = 0; j < rp.n; j++) {
        uint32_t count;
        list_find(&rp, &rp.pes[j], &count);
        if (count > 1) {
            struct k8c_sbuf sb;
            k8c_sbuf_init(&sb);
            pe_to_string(&sb, &rp.pes[j]);
            rc = fail(x, K8C_EINVAL, "duplicate entries for key %s", sb.data);
            k8c_sbuf_free(&sb);
            return rc;
        }
        if (list_find(&lp, &rp.pes[j], NULL) >= 0)
            shared[n_shared++] = j;
    }
#define NEXT_SHARED() (sp < n_shared ? (long)shared[sp++] : -1)
    next_shared = NEXT_SHARED();
    while (lI < lp.n || rI < rp.n) {
        if (lI < lp.n && rI < rp.n) {
            if (pe_compare(&lp.pes[lI], &rp.pes[rI]) == 0) {
                merged_r[rI] = true;
                if ((rc = merge(x, lhs->u.items[list_find(&lp, &lp.pes[lI], NULL)],
                                rhs->u.items[rI], &ic, &m, depth + 1)) != 0)
                    return rc;
                if (m != NULL)
                    k8c_json_array_append(x->a, o, m);
                lI++;
                rI++;
                next_shared = NEXT_SHARED();
                continue;
            }
            if (list_find(&rp, &lp.pes[lI], NULL) >= 0 && next_shared >= 0 &&
                pe_compare(&rp.pes[next_shared], &lp.pes[lI]) != 0) {
                lI++;
                continue;
            }
        }
        if (lI < lp.n) {
            long jr = list_find(&rp, &lp.pes[lI], NULL);
            if (jr < 0) {
                if ((rc = merge(x, lhs->u.items[lI], NULL, &ic, &m, depth + 1)) != 0)
                    return rc;
                if (m != NULL)
                    k8c_json_array_append(x->a, o, m);
                lI++;
                continue;
            } else if (merged_r[jr]) {
                lI++;
            }
        }
        if (rI < rp.n) {
            long il = list_find(&lp, &rp.pes[rI], NULL);
            merged_r[rI] = true;
            if ((rc = merge(x, il >= 0 ? lhs->u.items[il] : NULL, rhs->u.items[rI], &ic, &m,
                            depth + 1)) != 0)
                return rc;
            if (m != NULL)
                k8c_json_array_append(x->a, o, m);
            rI++;
            if (next_shared >= 0 && next_shared == (long)rI - 1)
                next_shared = NEXT_SHARED();
        }
    }
#undef NEXT_SHARED
    *out = o;
    return 0;
}

/* upstream Merge with ruleKeepRHS: the applied value rhs merged into the live value lhs; *out
 * is NULL when the field ends up unset. */
static int merge(struct mctx *x, const struct k8c_json *lhs, const struct k8c_json *rhs,
                 const struct tctx *c, struct k8c_json **out, int depth)
{
    int k = VK_NONE, rc;

    *out = NULL;
    if (depth > MAX_DEPTH)
        return fail_depth(x);
    if (rhs == NULL) {
        *out = lhs != NULL ? k8c_json_copy(x->a, lhs) : NULL;
        return 0;
    }
    if (is_leaf(c, lhs, rhs, &k)) {
        *out = rhs->type == K8C_JSON_NULL ? NULL : copy_set_fields(x->a, rhs);
        return 0;
    }
    if (k == VK_ARRAY)
        return merge_items(x, vkind(lhs) == VK_ARRAY ? lhs : NULL,
                           vkind(rhs) == VK_ARRAY ? rhs : NULL, c, out, depth);
    const struct k8c_json *lo = vkind(lhs) == VK_OBJECT ? lhs : NULL;
    const struct k8c_json *ro = vkind(rhs) == VK_OBJECT ? rhs : NULL;
    struct k8c_json *o = k8c_json_new_object(x->a), *m;
    for (uint32_t i = 0; lo != NULL && i < lo->len; i++) {
        const struct k8c_json_member *lm = &lo->u.members[i];
        struct tctx cc = tctx_child(x, c, lm->key, lm->key_len);
        if ((rc = merge(x, lm->value, ro ? k8c_json_getn(ro, lm->key, lm->key_len) : NULL, &cc, &m,
                        depth + 1)) != 0)
            return rc;
        if (m != NULL)
            k8c_json_append_member(x->a, o, lm->key, lm->key_len, m);
    }
    for (uint32_t i = 0; ro != NULL && i < ro->len; i++) {
        const struct k8c_json_member *rm = &ro->u.members[i];
        if (lo != NULL && k8c_json_getn(lo, rm->key, rm->key_len) != NULL)
            continue;
        if (k8c_json_getn(ro, rm->key, rm->key_len) != rm->value)
            continue; /* a duplicate key: the last one counts */
        struct tctx cc = tctx_child(x, c, rm->key, rm->key_len);
        if ((rc = merge(x, NULL, rm->value, &cc, &m, depth + 1)) != 0)
            return rc;
        if (m != NULL)
            k8c_json_append_member(x->a, o, rm->key, rm->key_len, m);
    }
    *out = o;
    return 0;
}

/* ---- RemoveItems ----------------------------------------------------------------------------- */

/* upstream removingWalker: v without the paths of s (the subset under v's path); NULL when
 * nothing is left (upstream yields null, which the object conversion drops). */
static int remove_items(struct mctx *x, const struct k8c_json *v, const struct fnode *s,
                        const struct tctx *c, struct k8c_json **out, int depth)
{
    int rc;

    *out = NULL;
    if (depth > MAX_DEPTH)
        return fail_depth(x);
    if (v->type == K8C_JSON_OBJECT) {
        if (v->len == 0 || c->kind == TK_ATOMIC)
            return 0;
        struct k8c_json *o = k8c_json_new_object(x->a);
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            struct pe e = pe_field(m->key, m->key_len);
            const struct fnode *k = fnode_find(s, &e);
            struct k8c_json *nv;
            if (k != NULL && k->member)
                continue;
            if (k != NULL && k->n > 0) {
                struct tctx cc = tctx_child(x, c, m->key, m->key_len);
                if ((rc = remove_items(x, m->value, k, &cc, &nv, depth + 1)) != 0)
                    return rc;
                if (nv == NULL)
                    continue;
            } else {
                nv = k8c_json_copy(x->a, m->value);
            }
            k8c_json_append_member(x->a, o, m->key, m->key_len, nv);
        }
        if (o->len > 0)
            *out = o;
        return 0;
    }
    if (v->type == K8C_JSON_ARRAY) {
        struct list_info li;
        list_info(c, &li);
        if (v->len == 0 || li.rel == LIST_ATOMIC)
            return 0;
        struct tctx ic = tctx_item(c);
        struct k8c_json *l = k8c_json_new_array(x->a), *nv;
        for (uint32_t i = 0; i < v->len; i++) {
            struct pe e;
            if ((rc = item_pe(x, &li, v->u.items[i], i, &e)) != 0)
                return rc;
            const struct fnode *k = fnode_find(s, &e);
            if (k != NULL && k->member)
                continue;
            if (k != NULL && k->n > 0) {
                if ((rc = remove_items(x, v->u.items[i], k, &ic, &nv, depth + 1)) != 0)
                    return rc;
                if (nv == NULL)
                    continue;
            } else {
                nv = k8c_json_copy(x->a, v->u.items[i]);
            }
            k8c_json_array_append(x->a, l, nv);
        }
        if (l->len > 0)
            *out = l;
        return 0;
    }
    *out = k8c_json_copy(x->a, v);
    return 0;
}

static int remove_paths(struct mctx *x, const struct k8c_json *v, const struct fnode *s,
                        const struct tctx *root, struct k8c_json **out)
{
    int rc = remove_items(x, v, s, root, out, 0);
    if (rc == 0 && *out == NULL)
        *out = k8c_json_new_object(x->a);
    return rc;
}

/* ---- managedFields entries ------------------------------------------------------------------- */

struct mentry {
    const char *manager, *operation, *api_version, *subresource; /* never NULL */
    const char *time;                                            /* NULL when unknown */
    struct fnode *set;
};

struct mlist {
    struct mentry *e;
    size_t n, cap;
};

static struct mentry *mlist_add(struct k8c_arena *a, struct mlist *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct mentry *e = k8c_arena_alloc(a, cap * sizeof(*e));
        if (l->n)
            memcpy(e, l->e, l->n * sizeof(*e));
        l->e = e;
        l->cap = cap;
    }
    memset(&l->e[l->n], 0, sizeof(l->e[0]));
    return &l->e[l->n++];
}

static void mlist_copy(struct k8c_arena *a, struct mlist *dst, const struct mlist *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++)
        *mlist_add(a, dst) = src->e[i];
}

/* Drops entries that own nothing. */
static void mlist_compact(struct mlist *l)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!fs_empty(l->e[i].set))
            l->e[j++] = l->e[i];
    l->n = j;
}

static bool is_apply(const struct mentry *e)
{
    return strcmp(e->operation, "Apply") == 0;
}

/* upstream BuildManagerIdentifier: appliers are one manager across API versions. */
static long mlist_find(const struct mlist *l, const char *manager, const char *operation,
                       const char *api_version, const char *subresource)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct mentry *e = &l->e[i];
        if (strcmp(e->manager, manager) == 0 && strcmp(e->operation, operation) == 0 &&
            strcmp(e->subresource, nz(subresource)) == 0 &&
            (strcmp(operation, "Apply") == 0 || strcmp(e->api_version, api_version) == 0))
            return (long)i;
    }
    return -1;
}

/* The identifier upstream keys managers by (JSON of the entry without time and fields); the
 * order of conflict messages follows it. */
static const char *manager_id(struct k8c_arena *a, const struct mentry *e)
{
    struct k8c_sbuf sb;
    bool first = true;

    k8c_sbuf_init(&sb);
    k8c_sbuf_putc(&sb, '{');
#define ID_FIELD(name, value)                                                                      \
    if (*(value)) {                                                                                \
        k8c_sbuf_puts(&sb, first ? "\"" name "\":" : ",\"" name "\":");                            \
        k8c_json_write_string(&sb, value, strlen(value), 0);                                       \
        first = false;                                                                             \
    }
    ID_FIELD("manager", e->manager);
    ID_FIELD("operation", e->operation);
    if (!is_apply(e)) {
        ID_FIELD("apiVersion", e->api_version);
    }
    ID_FIELD("subresource", e->subresource);
#undef ID_FIELD
    k8c_sbuf_putc(&sb, '}');
    return sbuf_to_arena(a, &sb);
}

static const char *get_string(const struct k8c_json *o, const char *key)
{
    const struct k8c_json *v = o != NULL ? k8c_json_get(o, key) : NULL;
    return v != NULL && v->type == K8C_JSON_STRING ? v->u.str : NULL;
}

static const struct k8c_json *get_managed_fields(const struct k8c_json *obj)
{
    const struct k8c_json *meta =
        obj != NULL && obj->type == K8C_JSON_OBJECT ? k8c_json_get(obj, "metadata") : NULL;
    return meta != NULL && meta->type == K8C_JSON_OBJECT ? k8c_json_get(meta, "managedFields")
                                                         : NULL;
}

/* upstream DecodeManagedFields. */
static int mlist_decode(struct mctx *x, const struct k8c_json *mf, struct mlist *out)
{
    memset(out, 0, sizeof(*out));
    if (mf == NULL || mf->type == K8C_JSON_NULL)
        return 0;
    if (mf->type != K8C_JSON_ARRAY)
        return fail(x, K8C_EINVAL, "managedFields must be a list");
    for (uint32_t i = 0; i < mf->len; i++) {
        const struct k8c_json *v = mf->u.items[i];
        const char *op, *api, *ft;
        if (v->type != K8C_JSON_OBJECT)
            return fail(x, K8C_EINVAL, "managed fields entry %u is not an object", i);
        op = nz(get_string(v, "operation"));
        api = nz(get_string(v, "apiVersion"));
        ft = nz(get_string(v, "fieldsType"));
        if (strcmp(op, "Apply") != 0 && strcmp(op, "Update") != 0)
            return fail(x, K8C_EINVAL, "operation must be `Apply` or `Update`");
        if (*api == 0)
            return fail(x, K8C_EINVAL, "apiVersion must not be empty");
        if (*ft == 0)
            return fail(x, K8C_EINVAL, "missing fieldsType in managed fields entry %u", i);
        if (strcmp(ft, "FieldsV1") != 0)
            return fail(x, K8C_EINVAL, "invalid fieldsType \"%s\" in managed fields entry %u", ft,
                        i);
        struct mentry e = {nz(get_string(v, "manager")),
                           op,
                           api,
                           nz(get_string(v, "subresource")),
                           get_string(v, "time"),
                           fnode_new(x->a, NULL)};
        const struct k8c_json *f = k8c_json_get(v, "fieldsV1");
        if (f != NULL && f->type != K8C_JSON_NULL) {
            bool member;
            int rc = fs_from_json(x, f, e.set, &member, 0);
            if (rc != 0)
                return rc;
            e.set = fs_copy(x->a, e.set);
            e.set->member = false;
        }
        /* A later entry for the same manager replaces an earlier one. */
        long j = mlist_find(out, e.manager, e.operation, e.api_version, e.subresource);
        if (j >= 0)
            out->e[j] = e;
        else
            *mlist_add(x->a, out) = e;
    }
    return 0;
}

/* RFC 3339 to Unix seconds (0 when absent or unparsable), for ordering entries. */
static int64_t time_seconds(const char *t)
{
    int y, mo, d, h, mi, s, n = 0;
    if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
        return 0;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    int64_t secs = (int64_t)timegm(&tm);
    const char *p = t + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
        int oh = atoi(p + 1), om = atoi(p + 4);
        secs -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    }
    return secs;
}

/* upstream sortEncodedManagedFields: Apply before Update, then by time, manager, version,
 * subresource. */
static int entry_cmp(const void *p, const void *q)
{
    const struct mentry *x = p, *y = q;
    int c = strcmp(x->operation, y->operation);
    if (c != 0)
        return c;
    int64_t tx = time_seconds(x->time), ty = time_seconds(y->time);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    if ((c = strcmp(x->manager, y->manager)) != 0)
        return c;
    if ((c = strcmp(x->api_version, y->api_version)) != 0)
        return c;
    return strcmp(x->subresource, y->subresource);
}

/* Stores the entries as obj.metadata.managedFields (removed when there are none). */
static void mlist_encode(struct k8c_arena *a, struct mlist *l, struct k8c_json *obj)
{
    struct k8c_json *meta = k8c_json_get(obj, "metadata");

    mlist_compact(l);
    if (meta == NULL || meta->type != K8C_JSON_OBJECT) {
        if (l->n == 0)
            return;
        meta = k8c_json_new_object(a);
        k8c_json_set(a, obj, "metadata", meta);
    }
    if (l->n == 0) {
        k8c_json_remove(meta, "managedFields");
        return;
    }
    qsort(l->e, l->n, sizeof(l->e[0]), entry_cmp);
    struct k8c_json *arr = k8c_json_new_array(a);
    for (size_t i = 0; i < l->n; i++) {
        const struct mentry *e = &l->e[i];
        struct k8c_json *o = k8c_json_new_object(a);
        if (*e->manager)
            k8c_json_set(a, o, "manager", k8c_json_new_string(a, e->manager));
        k8c_json_set(a, o, "operation", k8c_json_new_string(a, e->operation));
        k8c_json_set(a, o, "apiVersion", k8c_json_new_string(a, e->api_version));
        if (e->time != NULL)
            k8c_json_set(a, o, "time", k8c_json_new_string(a, e->time));
        k8c_json_set(a, o, "fieldsType", k8c_json_new_string(a, "FieldsV1"));
        k8c_json_set(a, o, "fieldsV1", fs_to_json(a, e->set, false));
        if (*e->subresource)
            k8c_json_set(a, o, "subresource", k8c_json_new_string(a, e->subresource));
        k8c_json_array_append(a, arr, o);
    }
    k8c_json_set(a, meta, "managedFields", arr);
}

/* upstream capManagersManager: at most ten Update entries; the oldest fold into
 * "ancient-changes" (one per API version). */
#define MAX_UPDATE_MANAGERS 10

struct updater_ref {
    size_t i;
    int64_t secs;
    const char *id;
};

static int updater_cmp(const void *p, const void *q)
{
    const struct updater_ref *x = p, *y = q;
    if (x->secs != y->secs)
        return x->secs < y->secs ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void cap_updaters(struct mctx *x, struct mlist *l)
{
    size_t n = 0;
    struct updater_ref *u = k8c_arena_alloc(x->a, (l->n + 1) * sizeof(*u));

    for (size_t i = 0; i < l->n; i++)
        if (!is_apply(&l->e[i]))
            u[n++] =
                (struct updater_ref){i, time_seconds(l->e[i].time), manager_id(x->a, &l->e[i])};
    if (n <= MAX_UPDATE_MANAGERS)
        return;
    qsort(u, n, sizeof(*u), updater_cmp);
    /* Entries are emptied, not removed, so indexes stay valid; compaction drops them. */
    const char **first_version = k8c_arena_calloc(x->a, (n + 1) * sizeof(*first_version));
    size_t *first_index = k8c_arena_calloc(x->a, (n + 1) * sizeof(*first_index));
    size_t n_first = 0, length = n;
    for (size_t k = 0; k < n && length > MAX_UPDATE_MANAGERS; k++) {
        struct mentry *e = &l->e[u[k].i];
        size_t f = 0;
        while (f < n_first && strcmp(first_version[f], e->api_version) != 0)
            f++;
        if (f == n_first) {
            first_version[n_first] = e->api_version;
            first_index[n_first++] = u[k].i;
            continue;
        }
        long b = mlist_find(l, "ancient-changes", "Update", e->api_version, "");
        if (b < 0) {
            struct mentry *first = &l->e[first_index[f]];
            struct mentry bucket = *first;
            bucket.manager = "ancient-changes";
            bucket.subresource = "";
            first->set = fnode_new(x->a, NULL);
            *mlist_add(x->a, l) = bucket;
            e = &l->e[u[k].i]; /* mlist_add may have moved the array */
            b = (long)l->n - 1;
        }
        l->e[b].set = fs_union(x->a, e->set, l->e[b].set);
        l->e[b].time = e->time;
        e->set = fnode_new(x->a, NULL);
        length--;
    }
    mlist_compact(l);
}

/* ---- the operations -------------------------------------------------------------------------- */

struct opctx {
    struct mctx x;
    const struct api_managed_op *op;
    struct tctx root;
    struct fnode *reset, *strip;
    const char *manager;
};

/* The object upstream's field manager compares a create against: the Go zero value of the
 * kind, whose non-pointer structs and non-omitempty lists are present (empty), so that they do
 * not count as added by the creator. Only containers matter here. */
static const struct {
    const char *kind, *zero;
} zero_objects[] = {
#define TEMPLATE "\"template\":{\"metadata\":{},\"spec\":{\"containers\":null}}"
    {"Deployment", "{\"metadata\":{},\"spec\":{" TEMPLATE ",\"strategy\":{}},\"status\":{}}"},
    {"ReplicaSet", "{\"metadata\":{},\"spec\":{" TEMPLATE "},\"status\":{}}"},
    {"StatefulSet",
     "{\"metadata\":{},\"spec\":{" TEMPLATE ",\"updateStrategy\":{}},\"status\":{}}"},
    {"DaemonSet", "{\"metadata\":{},\"spec\":{" TEMPLATE ",\"updateStrategy\":{}},\"status\":{}}"},
    {"Job", "{\"metadata\":{},\"spec\":{" TEMPLATE "},\"status\":{}}"},
    {"CronJob", "{\"metadata\":{},\"spec\":{\"jobTemplate\":{\"metadata\":{},\"spec\":{" TEMPLATE
                "}}},\"status\":{}}"},
    {"PodTemplate", "{\"metadata\":{}," TEMPLATE "}"},
    {"Pod", "{\"metadata\":{},\"spec\":{\"containers\":null},\"status\":{}}"},
    {"ReplicationController", "{\"metadata\":{},\"spec\":{},\"status\":{}}"},
    {"Service", "{\"metadata\":{},\"spec\":{},\"status\":{\"loadBalancer\":{}}}"},
    {"Namespace", "{\"metadata\":{},\"spec\":{},\"status\":{}}"},
    {"Node", "{\"metadata\":{},\"spec\":{},\"status\":{}}"},
    {"PersistentVolumeClaim", "{\"metadata\":{},\"spec\":{\"resources\":{}},\"status\":{}}"},
#undef TEMPLATE
};

static struct k8c_json *zero_object(struct k8c_arena *a, const char *kind)
{
    struct k8c_json *v = NULL;
    for (size_t i = 0; kind != NULL && i < N_OF(zero_objects); i++)
        if (strcmp(zero_objects[i].kind, kind) == 0 &&
            k8c_json_parse(a, zero_objects[i].zero, strlen(zero_objects[i].zero), NULL, &v, NULL) ==
                0)
            return v;
    return k8c_json_new_object(a);
}

/* A shallow copy of obj without metadata.managedFields (shares everything else). */
static const struct k8c_json *without_managed_fields(struct k8c_arena *a,
                                                     const struct k8c_json *obj)
{
    const struct k8c_json *meta = k8c_json_get(obj, "metadata");
    if (meta == NULL || meta->type != K8C_JSON_OBJECT || !k8c_json_get(meta, "managedFields"))
        return obj;
    struct k8c_json *o = k8c_json_new_object(a), *m = k8c_json_new_object(a);
    for (uint32_t i = 0; i < meta->len; i++)
        if (!str_eq(meta->u.members[i].key, meta->u.members[i].key_len, "managedFields"))
            k8c_json_append_member(a, m, meta->u.members[i].key, meta->u.members[i].key_len,
                                   meta->u.members[i].value);
    for (uint32_t i = 0; i < obj->len; i++)
        k8c_json_append_member(a, o, obj->u.members[i].key, obj->u.members[i].key_len,
                               str_eq(obj->u.members[i].key, obj->u.members[i].key_len, "metadata")
                                   ? m
                                   : obj->u.members[i].value);
    return o;
}

static void group_of(const char *api_version, char *group, size_t size)
{
    const char *slash = api_version != NULL ? strchr(api_version, '/') : NULL;
    size_t n = slash != NULL ? (size_t)(slash - api_version) : 0;
    if (n >= size)
        n = size - 1;
    memcpy(group, api_version != NULL ? api_version : "", n);
    group[n] = 0;
}

static void opctx_init(struct opctx *o, struct k8c_arena *a, const struct api_managed_op *op,
                       char *errmsg)
{
    char group[128];

    memset(o, 0, sizeof(*o));
    o->x.a = a;
    o->x.errmsg = errmsg;
    o->op = op;
    o->x.selector_is_map = op->kind != NULL && (strcmp(op->kind, "Service") == 0 ||
                                                strcmp(op->kind, "ReplicationController") == 0);
    group_of(op->api_version, group, sizeof(group));
    o->root = tctx_root(api_patch_schema_for_kind(group, op->kind));
    o->reset = reset_set(a, op->subresource);
    o->strip = fs_of_paths(a, strip_paths, N_OF(strip_paths));
    o->manager = op->manager != NULL && *op->manager ? op->manager : "unknown";
}

/*
 * What changed from old to new as seen in each manager's version (upstream Updater.update
 * compares the objects converted to every version a manager wrote in). changed[i] and
 * removed[i] are entry i's; the request's own version (base, computed by the caller) is
 * shared. Versions the op cannot convert to are compared in the request's version.
 */
struct versioned {
    struct fnode **changed, **removed;
};

static int compare_versioned(struct opctx *o, const struct mlist *l, const struct k8c_json *old,
                             const struct k8c_json *new_obj, const struct comparison *base,
                             struct versioned *out)
{
    struct mctx *x = &o->x;
    struct fnode *base_changed = fs_union(x->a, base->modified, base->added);
    size_t n = l->n ? l->n : 1;

    out->changed = k8c_arena_alloc(x->a, n * sizeof(*out->changed));
    out->removed = k8c_arena_alloc(x->a, n * sizeof(*out->removed));
    for (size_t i = 0; i < l->n; i++) {
        const char *v = l->e[i].api_version;
        out->changed[i] = base_changed;
        out->removed[i] = base->removed;
        if (o->op->convert == NULL || strcmp(nz(v), nz(o->op->api_version)) == 0 || !*nz(v))
            continue;
        size_t j = 0; /* an earlier entry of the same version: its comparison */
        while (j < i && strcmp(nz(l->e[j].api_version), v) != 0)
            j++;
        if (j < i) {
            out->changed[i] = out->changed[j];
            out->removed[i] = out->removed[j];
            continue;
        }
        struct k8c_json *old_v, *new_v;
        int rc = o->op->convert(o->op->convert_arg, x->a, old, v, &old_v);
        if (rc == 0)
            rc = o->op->convert(o->op->convert_arg, x->a, new_obj, v, &new_v);
        if (rc == K8C_EUNSUPPORTED)
            continue;
        if (rc != 0)
            return fail(x, rc, "managed fields: converting to %s failed", v);
        struct comparison c;
        if ((rc = compare_objects(x, old_v, new_v, &o->root, o->reset, &c)) != 0)
            return rc;
        out->changed[i] = fs_union(x->a, c.modified, c.added);
        out->removed[i] = c.removed;
    }
    return 0;
}

/*
 * upstream Updater.Update for manager `manager` (wrapped as the managedFieldsUpdater does):
 * the fields that changed from old to new go to manager's Update entry; every entry loses the
 * fields that changed or were removed.
 */
static int record_update(struct opctx *o, struct mlist *l, const struct k8c_json *old,
                         const struct k8c_json *new_obj, const char *manager)
{
    struct mctx *x = &o->x;
    struct comparison c;
    int rc = compare_objects(x, old, new_obj, &o->root, o->reset, &c);

    if (rc != 0)
        return rc;
    struct fnode *changed = fs_union(x->a, c.modified, c.added);
    struct versioned vc;
    if ((rc = compare_versioned(o, l, old, new_obj, &c, &vc)) != 0)
        return rc;
    for (size_t i = 0; i < l->n; i++)
        l->e[i].set = fs_diff(x->a, fs_diff(x->a, l->e[i].set, vc.changed[i]), vc.removed[i]);
    mlist_compact(l);
    struct fnode *self = fs_diff(x->a, changed, o->strip);
    if (!fs_empty(self)) {
        long i = mlist_find(l, manager, "Update", o->op->api_version, o->op->subresource);
        struct mentry *e;
        if (i >= 0) {
            e = &l->e[i];
            e->set = fs_union(x->a, self, e->set);
        } else {
            e = mlist_add(x->a, l);
            e->manager = manager;
            e->operation = "Update";
            e->api_version = nz(o->op->api_version);
            e->subresource = nz(o->op->subresource);
            e->set = self;
        }
        e->time = o->op->time;
    }
    cap_updaters(x, l);
    return 0;
}

/* managedFields: [] or [{}] in a request resets them. */
static bool is_reset_request(const struct k8c_json *mf)
{
    if (mf == NULL || mf->type != K8C_JSON_ARRAY)
        return false;
    return mf->len == 0 ||
           (mf->len == 1 && mf->u.items[0]->type == K8C_JSON_OBJECT && mf->u.items[0]->len == 0);
}

int api_managed_update(struct k8c_arena *a, const struct k8c_json *live, struct k8c_json *obj,
                       const struct api_managed_op *op, char *errmsg)
{
    struct opctx o;
    struct mlist l;
    bool subresource = op->subresource != NULL && *op->subresource;
    int rc;

    opctx_init(&o, a, op, errmsg);
    if (obj == NULL || obj->type != K8C_JSON_OBJECT)
        return fail(&o.x, K8C_EINVAL, "managed fields: the object is not a JSON object");
    if (live != NULL && live->type != K8C_JSON_OBJECT)
        return fail(&o.x, K8C_EINVAL, "managed fields: the live object is not a JSON object");

    /* upstream decodeLiveOrNew: the request's managedFields win unless they are missing or
     * broken; subresources always keep the stored ones. */
    const struct k8c_json *request_mf = get_managed_fields(obj);
    if (!subresource && is_reset_request(request_mf)) {
        memset(&l, 0, sizeof(l));
    } else if (subresource || mlist_decode(&o.x, request_mf, &l) != 0 || l.n == 0) {
        if (mlist_decode(&o.x, get_managed_fields(live), &l) != 0)
            memset(&l, 0, sizeof(l));
    }
    if (errmsg != NULL)
        errmsg[0] = 0;

    struct k8c_json *meta = k8c_json_get(obj, "metadata");
    if (meta != NULL && meta->type == K8C_JSON_OBJECT)
        k8c_json_remove(meta, "managedFields");

    /* upstream skipNonAppliedManager: an existing object that tracks nothing stays so. */
    if (l.n == 0 && live != NULL)
        return 0;

    const struct k8c_json *old =
        live != NULL ? without_managed_fields(a, live) : zero_object(a, op->kind);
    if ((rc = record_update(&o, &l, old, obj, o.manager)) != 0)
        return rc;
    mlist_encode(a, &l, obj);
    return 0;
}

int api_managed_fieldset(struct k8c_arena *a, const struct k8c_json *obj,
                         const struct api_patch_type *schema, struct k8c_json **fields_v1,
                         char *errmsg)
{
    struct mctx x = {a, errmsg,
                     schema == api_patch_schema_for_kind("", "Service") ||
                         schema == api_patch_schema_for_kind("", "ReplicationController")};
    struct tctx root = tctx_root(schema);
    struct fnode *s;
    int rc;

    if (obj == NULL || obj->type != K8C_JSON_OBJECT)
        return fail(&x, K8C_EINVAL, "managed fields: the object is not a JSON object");
    if ((rc = field_set(&x, obj, &root, &s)) != 0)
        return rc;
    s = fs_rdiff(a, s, fs_of_paths(a, reset_main, N_OF(reset_main)));
    s = fs_diff(a, s, fs_of_paths(a, strip_paths, N_OF(strip_paths)));
    *fields_v1 = fs_to_json(a, s, false);
    return 0;
}

/* ---- apply ----------------------------------------------------------------------------------- */

struct conflict_set {
    size_t entry;
    const char *id;      /* upstream's manager identifier: the order of the message */
    const char *printed; /* "\"m\" using apps/v1" */
    struct fnode *set;
};

static int conflict_set_cmp(const void *p, const void *q)
{
    const struct conflict_set *x = p, *y = q;
    return strcmp(x->id, y->id);
}

/* upstream printManager */
static const char *print_manager(struct k8c_arena *a, const struct mentry *e)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    go_quote(&sb, e->manager, strlen(e->manager));
    if (*e->subresource) {
        k8c_sbuf_puts(&sb, " with subresource ");
        go_quote(&sb, e->subresource, strlen(e->subresource));
    }
    if (!is_apply(e))
        k8c_sbuf_printf(&sb, " using %s", e->api_version);
    return sbuf_to_arena(a, &sb);
}

struct conflict_list {
    struct api_managed_conflict *v;
    size_t n, cap;
};

/* Appends every path of s in upstream's Set.Iterate order (members, then children). */
static void collect_paths(struct k8c_arena *a, const struct fnode *s, struct path *p,
                          const char *manager, struct conflict_list *out)
{
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < s->n; i++) {
            const struct fnode *k = s->kids[i];
            if (pass == 0 && k->member) {
                struct k8c_sbuf sb;
                k8c_sbuf_init(&sb);
                for (int j = 0; j < p->n; j++)
                    pe_to_string(&sb, &p->e[j]);
                pe_to_string(&sb, &k->pe);
                if (out->n == out->cap) {
                    size_t cap = out->cap ? out->cap * 2 : 8;
                    struct api_managed_conflict *v = k8c_arena_alloc(a, cap * sizeof(*v));
                    if (out->n)
                        memcpy(v, out->v, out->n * sizeof(*v));
                    out->v = v;
                    out->cap = cap;
                }
                struct api_managed_conflict *c = &out->v[out->n++];
                c->manager = manager;
                c->field = sbuf_to_arena(a, &sb);
                k8c_sbuf_init(&sb);
                k8c_sbuf_printf(&sb, "conflict with %s", manager);
                c->message = sbuf_to_arena(a, &sb);
            } else if (pass == 1 && k->n > 0 && p->n <= MAX_DEPTH) {
                p->e[p->n++] = k->pe;
                collect_paths(a, k, p, manager, out);
                p->n--;
            }
        }
    }
}

/* Builds upstream's conflict error (getConflictMessage) into out. */
static int report_conflicts(struct opctx *o, struct conflict_set *cs, size_t n,
                            struct api_managed_apply_result *out)
{
    struct k8c_arena *a = o->x.a;
    struct conflict_list cl = {0};
    struct path *p = k8c_arena_calloc(a, sizeof(*p));
    struct k8c_sbuf sb;
    size_t *starts = k8c_arena_alloc(a, (n + 1) * sizeof(*starts));

    qsort(cs, n, sizeof(*cs), conflict_set_cmp);
    for (size_t i = 0; i < n; i++) {
        starts[i] = cl.n;
        collect_paths(a, cs[i].set, p, cs[i].printed, &cl);
    }
    starts[n] = cl.n;
    k8c_sbuf_init(&sb);
    if (cl.n == 1) {
        k8c_sbuf_printf(&sb, "Apply failed with 1 conflict: conflict with %s: %s", cl.v[0].manager,
                        cl.v[0].field);
    } else {
        k8c_sbuf_printf(&sb, "Apply failed with %zu conflicts: ", cl.n);
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                k8c_sbuf_putc(&sb, '\n');
            k8c_sbuf_printf(&sb, "conflicts with %s:", cl.v[starts[i]].manager);
            for (size_t j = starts[i]; j < starts[i + 1]; j++)
                k8c_sbuf_printf(&sb, "\n- %s", cl.v[j].field);
        }
    }
    out->conflict_message = sbuf_to_arena(a, &sb);
    out->conflicts = cl.v;
    out->n_conflicts = cl.n;
    return fail(&o->x, K8C_ECONFLICT, "%s", out->conflict_message);
}

/*
 * upstream Updater.prune: removes what the applier applied last time (last), no longer
 * applies and nobody else (nor its new configuration) owns.
 */
static int prune(struct opctx *o, const struct mlist *l, const struct fnode *last,
                 struct k8c_json **merged)
{
    struct mctx *x = &o->x;
    struct k8c_json *p1, *p2, *final;
    struct fnode *all = fnode_new(x->a, NULL), *merged_set, *p1_set, *p2_set, *last_n;
    int rc;

    if (fs_empty(last))
        return 0;
    last_n = ensure_named(x, last, &o->root);
    if ((rc = remove_paths(x, *merged, last_n, &o->root, &p1)) != 0)
        return rc;
    for (size_t i = 0; i < l->n; i++)
        all = fs_union(x->a, all, l->e[i].set);
    if ((rc = field_set(x, *merged, &o->root, &merged_set)) != 0 ||
        (rc = field_set(x, p1, &o->root, &p1_set)) != 0)
        return rc;
    merged_set = ensure_named(x, merged_set, &o->root);
    p1_set = ensure_named(x, p1_set, &o->root);
    all = ensure_named(x, all, &o->root);
    /* addBackOwnedItems */
    if ((rc = remove_paths(x, *merged, fs_diff(x->a, merged_set, fs_union(x->a, p1_set, all)),
                           &o->root, &p2)) != 0)
        return rc;
    /* addBackDanglingItems */
    if ((rc = field_set(x, p2, &o->root, &p2_set)) != 0)
        return rc;
    p2_set = ensure_named(x, p2_set, &o->root);
    if ((rc = remove_paths(x, *merged, fs_inter(x->a, fs_diff(x->a, merged_set, p2_set), last_n),
                           &o->root, &final)) != 0)
        return rc;
    *merged = final;
    return 0;
}

/* One run of upstream's Apply pipeline over a copy of the entries in l. */
static int apply_once(struct opctx *o, const struct mlist *stored, const struct k8c_json *live,
                      const struct k8c_json *config, bool force,
                      struct api_managed_apply_result *out, struct conflict_set **conflicts,
                      size_t *n_conflicts)
{
    struct mctx *x = &o->x;
    struct mlist l;
    struct k8c_json *merged;
    struct fnode *applied, *last = NULL;
    const struct k8c_json *base = live != NULL ? live : k8c_json_new_object(x->a);
    int rc;

    *n_conflicts = 0;
    mlist_copy(x->a, &l, stored);
    /* upstream skipNonAppliedManager: the fields of an object nobody tracks yet belong to
     * "before-first-apply". */
    if (l.n == 0 && live != NULL &&
        (rc = record_update(o, &l, zero_object(x->a, o->op->kind), live, "before-first-apply")) !=
            0)
        return rc;

    if ((rc = merge(x, base, config, &o->root, &merged, 0)) != 0)
        return rc;
    if (merged == NULL)
        merged = k8c_json_new_object(x->a);
    if ((rc = field_set(x, config, &o->root, &applied)) != 0)
        return rc;
    applied = fs_rdiff(x->a, applied, o->reset);

    long me = mlist_find(&l, o->manager, "Apply", "", o->op->subresource);
    if (me < 0) {
        struct mentry *e = mlist_add(x->a, &l);
        e->manager = o->manager;
        e->operation = "Apply";
        e->subresource = nz(o->op->subresource);
        me = (long)l.n - 1;
    } else {
        last = l.e[me].set;
    }
    l.e[me].api_version = nz(o->op->api_version);
    l.e[me].set = applied;
    if ((rc = prune(o, &l, last, &merged)) != 0)
        return rc;

    /* upstream Updater.update: other managers own what the apply changes? */
    struct comparison c;
    const struct k8c_json *before = live != NULL ? live : zero_object(x->a, o->op->kind);
    if ((rc = compare_objects(x, before, merged, &o->root, o->reset, &c)) != 0)
        return rc;
    struct versioned vc;
    if ((rc = compare_versioned(o, &l, before, merged, &c, &vc)) != 0)
        return rc;
    struct conflict_set *cs = k8c_arena_alloc(x->a, (l.n + 1) * sizeof(*cs));
    size_t ncs = 0;
    for (size_t i = 0; i < l.n; i++) {
        if ((long)i == me)
            continue;
        struct fnode *conflict = fs_inter(x->a, l.e[i].set, vc.changed[i]);
        if (!fs_empty(conflict))
            cs[ncs++] = (struct conflict_set){i, manager_id(x->a, &l.e[i]),
                                              print_manager(x->a, &l.e[i]), conflict};
    }
    if (!force && ncs > 0) {
        for (size_t i = 0; i < ncs; i++)
            cs[i].set = fs_copy(x->a, cs[i].set);
        *conflicts = cs;
        *n_conflicts = ncs;
        return K8C_ECONFLICT;
    }
    for (size_t i = 0; i < l.n; i++)
        if ((long)i != me)
            l.e[i].set = fs_diff(x->a, fs_diff(x->a, l.e[i].set, vc.changed[i]), vc.removed[i]);

    out->changed = live == NULL || !k8c_json_equal(live, merged);
    /* stripMetaManager, then managedFieldsUpdater's timestamp. */
    l.e[me].set = fs_diff(x->a, l.e[me].set, o->strip);
    if (out->changed)
        l.e[me].time = o->op->time;
    mlist_encode(x->a, &l, merged);
    out->object = merged;
    return 0;
}

/* A copy of v with object members sorted by key, as Go writes an unstructured object. */
static struct k8c_json *sorted_copy(struct k8c_arena *a, const struct k8c_json *v)
{
    if (v->type == K8C_JSON_OBJECT) {
        struct k8c_json *o = k8c_json_new_object(a);
        for (uint32_t i = 0; i < v->len; i++)
            k8c_json_set(a, o, v->u.members[i].key, sorted_copy(a, v->u.members[i].value));
        qsort(o->u.members, o->len, sizeof(*o->u.members), member_cmp);
        return o;
    }
    if (v->type == K8C_JSON_ARRAY) {
        struct k8c_json *l = k8c_json_new_array(a);
        for (uint32_t i = 0; i < v->len; i++)
            k8c_json_array_append(a, l, sorted_copy(a, v->u.items[i]));
        return l;
    }
    return k8c_json_copy(a, v);
}

static struct k8c_json *annotations_of(const struct k8c_json *obj)
{
    struct k8c_json *meta = obj != NULL ? k8c_json_get(obj, "metadata") : NULL;
    struct k8c_json *ann =
        meta != NULL && meta->type == K8C_JSON_OBJECT ? k8c_json_get(meta, "annotations") : NULL;
    return ann != NULL && ann->type == K8C_JSON_OBJECT ? ann : NULL;
}

/*
 * upstream lastAppliedManager.allowedConflictsFromLastApplied: the fields of the
 * last-applied-configuration annotation whose value the live object still has. NULL when there
 * is no usable annotation.
 */
static struct fnode *allowed_from_last_applied(struct opctx *o, const struct k8c_json *live)
{
    struct mctx *x = &o->x;
    const char *text = get_string(annotations_of(live), API_MANAGED_LAST_APPLIED);
    struct k8c_json *last = NULL;
    struct fnode *set;
    struct comparison c;
    char *saved = x->errmsg;

    if (text == NULL || *text == 0 ||
        k8c_json_parse(x->a, text, strlen(text), NULL, &last, NULL) != 0 ||
        last->type != K8C_JSON_OBJECT ||
        strcmp(nz(get_string(last, "apiVersion")), nz(o->op->api_version)) != 0)
        return NULL;
    x->errmsg = NULL;
    if (field_set(x, last, &o->root, &set) != 0 ||
        compare_objects(x, last, live, &o->root, NULL, &c) != 0) {
        x->errmsg = saved;
        return NULL;
    }
    x->errmsg = saved;
    set = fs_diff(x->a, set, c.modified);
    set = fs_diff(x->a, set, c.added);
    return fs_diff(x->a, set, c.removed);
}

int api_managed_apply(struct k8c_arena *a, const struct k8c_json *live,
                      const struct k8c_json *config, bool force, const struct api_managed_op *op,
                      struct api_managed_apply_result *out, char *errmsg)
{
    struct opctx o;
    struct mlist stored;
    struct conflict_set *cs = NULL;
    size_t ncs = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    opctx_init(&o, a, op, errmsg);
    if (op->manager == NULL || *op->manager == 0)
        return fail(&o.x, K8C_EINVAL, "fieldManager: Required value: is required for apply patch");
    if (config == NULL || config->type != K8C_JSON_OBJECT)
        return fail(&o.x, K8C_EINVAL, "apply configuration must be a JSON object");
    if (live != NULL && live->type != K8C_JSON_OBJECT)
        return fail(&o.x, K8C_EINVAL, "managed fields: the live object is not a JSON object");
    const struct k8c_json *mf = get_managed_fields(config);
    if (mf != NULL && mf->type != K8C_JSON_NULL)
        return fail(&o.x, K8C_EINVAL, "metadata.managedFields must be nil");
    const char *version = nz(get_string(config, "apiVersion"));
    if (strcmp(version, nz(op->api_version)) != 0)
        return fail(&o.x, K8C_EINVAL,
                    "Incorrect version specified in apply patch. Specified patch version: %s, "
                    "expected: %s",
                    version, nz(op->api_version));
    const char *kind = nz(get_string(config, "kind"));
    if (op->kind != NULL && strcmp(kind, op->kind) != 0)
        return fail(&o.x, K8C_EINVAL, "invalid object type: %s, Kind=%s", version, kind);
    if (live != NULL && (rc = mlist_decode(&o.x, get_managed_fields(live), &stored)) != 0) {
        char detail[K8C_ERRMSG_SIZE];
        snprintf(detail, sizeof(detail), "%s", errmsg != NULL ? errmsg : "");
        return fail(&o.x, rc, "failed to decode managed fields: %s", detail);
    }
    if (live == NULL)
        memset(&stored, 0, sizeof(stored));
    const struct k8c_json *live_s = live != NULL ? without_managed_fields(a, live) : NULL;

    rc = apply_once(&o, &stored, live_s, config, force, out, &cs, &ncs);
    if (rc == K8C_ECONFLICT && strcmp(op->manager, "kubectl") == 0) {
        /* upstream lastAppliedManager: kubectl may take over what its client-side apply
         * configured, as long as the live object still has the value it applied. */
        struct fnode *allowed = allowed_from_last_applied(&o, live_s);
        size_t left = 0;
        for (size_t i = 0; allowed != NULL && i < ncs; i++) {
            cs[i].set = fs_diff(a, cs[i].set, allowed);
            if (!fs_empty(cs[i].set))
                cs[left++] = cs[i];
        }
        if (allowed != NULL && left == 0)
            rc = apply_once(&o, &stored, live_s, config, true, out, &cs, &ncs);
        else if (allowed != NULL)
            ncs = left;
    }
    if (rc == K8C_ECONFLICT)
        return report_conflicts(&o, cs, ncs, out);
    if (rc != 0)
        return rc;

    /* upstream lastAppliedUpdater: kubectl keeps its client-side annotation current. */
    struct k8c_json *ann = annotations_of(out->object);
    if (strcmp(op->manager, "kubectl") == 0 && ann != NULL &&
        nz(get_string(ann, API_MANAGED_LAST_APPLIED))[0] != 0) {
        struct k8c_json *c = sorted_copy(a, config);
        struct k8c_json *cann = annotations_of(c);
        struct k8c_sbuf sb;
        if (cann != NULL)
            k8c_json_remove(cann, API_MANAGED_LAST_APPLIED);
        k8c_sbuf_init(&sb);
        k8c_json_write(&sb, c, 0, 0);
        k8c_sbuf_putc(&sb, '\n');
        k8c_json_set(a, ann, API_MANAGED_LAST_APPLIED, k8c_json_new_stringn(a, sb.data, sb.len));
        k8c_sbuf_free(&sb);
    }
    if (errmsg != NULL)
        errmsg[0] = 0;
    return 0;
}
