/*
 * store/mvcc: etcd v3 MVCC semantics on LMDB. See mvcc.h for the on-disk
 * layout, the error table and the threading rules; this file is organised as
 *
 *   arenas and encodings      small helpers every part uses
 *   index and record lookups  "latest revision of key K at revision R"
 *   range                     shared by read transactions and batch writes
 *   writes                    put, delete, txn, leases, alarms, compaction
 *   batch API, reads, hashes, history, snapshots, open/close
 *
 * Every request validates everything it can fail on before it writes (as
 * etcd's applier does), so a request error never leaves half a request in the
 * batch; only LMDB failures poison a batch.
 */
#define _GNU_SOURCE /* qsort_r */
#include "mvcc.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "grpc_frame.h"
#include "log.h"

#define REVKEY_SIZE  12 /* main i64 | sub u32 */
#define IENTRY_SIZE  13 /* main i64 | sub u32 | flags u8 */
#define REC_HDR_SIZE 29 /* flags u8 | create i64 | version i64 | lease i64 | key_len u32 */
#define FLAG_TOMB    1
#define MAP_HEADROOM (256LL * 1024 * 1024)

/* ---------------------------------------------------------------- arenas */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct store_mvcc_arena {
    struct arena_chunk *head;
};

static struct store_mvcc_arena *arena_new(void)
{
    return K8C_NEW(struct store_mvcc_arena);
}

/*
 * Freed chunks of the standard sizes (ARENA_MIN_CHUNK << class) are kept per
 * thread for the next arenas, up to ARENA_CACHE_PER_CLASS of each size: a
 * write batch fills a fresh arena of events and responses, and taking its
 * chunks from the allocator each time touched new pages (page faults were
 * about 4% of a busy leader's CPU).
 */
#define ARENA_MIN_CHUNK       1024
#define ARENA_CLASSES         11 /* 1 KiB .. 1 MiB */
#define ARENA_CACHE_PER_CLASS 4

struct arena_cache {
    struct arena_chunk *head[ARENA_CLASSES];
    unsigned n[ARENA_CLASSES];
};

static _Thread_local struct arena_cache arena_cache;

/* The size class of a chunk of capacity cap, or -1 when cap is not one. */
static int arena_class(size_t cap)
{
    for (int k = 0; k < ARENA_CLASSES; k++) {
        if (cap == (size_t)ARENA_MIN_CHUNK << k)
            return k;
    }
    return -1;
}

static void arena_free(struct store_mvcc_arena *a)
{
    if (!a)
        return;
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        int k = arena_class(c->cap);
        if (k >= 0 && arena_cache.n[k] < ARENA_CACHE_PER_CLASS) {
            c->next = arena_cache.head[k];
            arena_cache.head[k] = c;
            arena_cache.n[k]++;
        } else {
            k8c_free(c);
        }
        c = next;
    }
    k8c_free(a);
}

/* 16-byte aligned memory living as long as the arena, not zeroed. */
static void *arena_alloc_raw(struct store_mvcc_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : ARENA_MIN_CHUNK;
        if (cap > (size_t)ARENA_MIN_CHUNK << (ARENA_CLASSES - 1))
            cap = (size_t)ARENA_MIN_CHUNK << (ARENA_CLASSES - 1);
        if (cap < n)
            cap = n;
        int k = arena_class(cap);
        struct arena_chunk *nc;
        if (k >= 0 && arena_cache.head[k] != NULL) {
            nc = arena_cache.head[k];
            arena_cache.head[k] = nc->next;
            arena_cache.n[k]--;
        } else {
            nc = k8c_malloc(sizeof(*nc) + cap);
        }
        nc->used = 0;
        nc->cap = cap;
        nc->next = c;
        a->head = nc;
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* Zeroed, 16-byte aligned memory living as long as the arena. */
static void *arena_alloc(struct store_mvcc_arena *a, size_t n)
{
    void *p = arena_alloc_raw(a, n);
    memset(p, 0, n);
    return p;
}

static void *arena_dup(struct store_mvcc_arena *a, const void *p, size_t n)
{
    if (n == 0)
        return NULL;
    void *q = arena_alloc_raw(a, n);
    memcpy(q, p, n);
    return q;
}

/* ------------------------------------------------------------- encodings */

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

struct ientry {
    int64_t main;
    uint32_t sub;
    uint8_t flags;
};

static void ientry_encode(uint8_t out[IENTRY_SIZE], int64_t main, uint32_t sub, uint8_t flags)
{
    put_be64(out, (uint64_t)main);
    put_be32(out + 8, sub);
    out[12] = flags;
}

static void ientry_decode(const MDB_val *d, struct ientry *e)
{
    const uint8_t *p = d->mv_data;
    e->main = (int64_t)get_be64(p);
    e->sub = get_be32(p + 8);
    e->flags = p[12];
}

static void revkey_encode(uint8_t out[REVKEY_SIZE], int64_t main, uint32_t sub)
{
    put_be64(out, (uint64_t)main);
    put_be32(out + 8, sub);
}

/* A decoded "kv" record; pointers borrow LMDB memory (valid until the next
 * write in the transaction or its end). */
struct rec {
    uint8_t flags;
    int64_t create, version, lease, mod;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

static int rec_decode(const MDB_val *k, const MDB_val *v, struct rec *r)
{
    const uint8_t *p = v->mv_data;
    if (k->mv_size != REVKEY_SIZE || v->mv_size < REC_HDR_SIZE)
        return K8C_EIO;
    r->flags = p[0];
    r->create = (int64_t)get_be64(p + 1);
    r->version = (int64_t)get_be64(p + 9);
    r->lease = (int64_t)get_be64(p + 17);
    r->key_len = get_be32(p + 25);
    if (r->key_len > v->mv_size - REC_HDR_SIZE)
        return K8C_EIO;
    r->key = p + REC_HDR_SIZE;
    r->value = r->key + r->key_len;
    r->value_len = v->mv_size - REC_HDR_SIZE - r->key_len;
    r->mod = (int64_t)get_be64(k->mv_data);
    return 0;
}

/* Quota accounting: bytes a stored revision occupies (kv key + record + index
 * key + index entry). Deterministic, see mvcc.h. */
static int64_t rev_cost(size_t key_len, size_t value_len)
{
    return REVKEY_SIZE + REC_HDR_SIZE + 2 * (int64_t)key_len + (int64_t)value_len + IENTRY_SIZE;
}

static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* crc32c (Castagnoli), table driven. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32c_update(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------ the store */

struct store_mvcc {
    MDB_env *env;
    MDB_dbi kv, index, meta, lease, lease_keys, members, alarms;
    char *dir;
    struct store_mvcc_options opts;
    int64_t quota;
    size_t max_key;
    pthread_rwlock_t lock; /* read side: reads; write side: close/restore */

    /* Committed state, owned by the apply thread. */
    int64_t rev, compact_rev, kv_bytes;
    bool nospace;
    _Atomic int64_t pub_kv_bytes; /* copies for store_mvcc_quota_available */
    _Atomic bool pub_nospace;

    /* The open batch. */
    MDB_txn *txn;
    MDB_cursor *b_icur; /* its index cursor for key_live, opened on first use; LMDB
                           closes it with the transaction */
    bool broken;
    int64_t b_rev, b_compact, b_kv_bytes;
    bool b_nospace;
    struct store_mvcc_events *b_events;
};

static int lmdb_fail(int rc, const char *what)
{
    k8c_log_error("lmdb failure op=%s err=\"%s\"", what, mdb_strerror(rc));
    return K8C_EIO;
}

static int meta_get_i64(MDB_txn *txn, MDB_dbi meta, const char *name, int64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc)
        return lmdb_fail(rc, "meta get");
    if (v.mv_size != 8)
        return K8C_EIO;
    *out = (int64_t)get_be64(v.mv_data);
    return 0;
}

static int meta_put_i64(MDB_txn *txn, MDB_dbi meta, const char *name, int64_t val)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)val);
    MDB_val k = {strlen(name), (void *)name}, v = {8, b};
    int rc = mdb_put(txn, meta, &k, &v, 0);
    return rc ? lmdb_fail(rc, "meta put") : 0;
}

/* A consistent view for reads: an LMDB transaction and the revisions that
 * belong to it. In a batch, rev is the request's read revision (it includes the
 * changes the request made so far) and compact_rev the batch's. */
struct view {
    struct store_mvcc *m;
    MDB_txn *txn;
    int64_t rev;
    int64_t compact_rev;
    bool batch; /* txn is the write batch's: key_live may use its cursor */
    /* range_core's KeyValues point into the txn's pages instead of copies:
     * the response is packed before the txn ends (store_mvcc_range_frame) */
    bool borrow;
};

/* -------------------------------------------------------------- lookups */

/*
 * Positions on the last index entry of the key at the cursor with main
 * revision <= rev. The cursor must be on some entry of that key (key holds
 * it). Returns 0 with *e filled, MDB_NOTFOUND when every entry is newer than
 * rev, or another LMDB code.
 */
static int index_latest(MDB_cursor *c, MDB_val *key, int64_t rev, int64_t view_rev,
                        struct ientry *e)
{
    MDB_val d;
    int rc;
    if (rev >= view_rev) {
        rc = mdb_cursor_get(c, key, &d, MDB_LAST_DUP);
    } else {
        uint8_t probe[IENTRY_SIZE];
        ientry_encode(probe, rev + 1, 0, 0);
        d.mv_size = IENTRY_SIZE;
        d.mv_data = probe;
        rc = mdb_cursor_get(c, key, &d, MDB_GET_BOTH_RANGE);
        if (rc == 0) {
            rc = mdb_cursor_get(c, key, &d, MDB_PREV_DUP);
        } else if (rc == MDB_NOTFOUND) {
            rc = mdb_cursor_get(c, key, &d, MDB_SET);
            if (rc == 0)
                rc = mdb_cursor_get(c, key, &d, MDB_LAST_DUP);
        }
    }
    if (rc)
        return rc;
    if (d.mv_size != IENTRY_SIZE)
        return MDB_CORRUPTED;
    ientry_decode(&d, e);
    return 0;
}

/* Reads the record of an index entry. 0, K8C_EIO. */
static int rec_get(const struct view *v, const struct ientry *e, struct rec *r)
{
    uint8_t kb[REVKEY_SIZE];
    revkey_encode(kb, e->main, e->sub);
    MDB_val k = {REVKEY_SIZE, kb}, d;
    int rc = mdb_get(v->txn, v->m->kv, &k, &d);
    if (rc)
        return rc == MDB_NOTFOUND ? K8C_EIO : lmdb_fail(rc, "kv get");
    return rec_decode(&k, &d, r);
}

/* The live version of key at revision rev: 0 with *r (and *e), 1 if the key
 * does not exist (never or deleted) at rev, or an error. */
static int key_live(const struct view *v, const uint8_t *key, size_t klen, int64_t rev,
                    struct rec *r, struct ientry *eout)
{
    /* A put looks its key up in every request of a batch: one cursor for
     * the batch instead of an allocation and a close per lookup. */
    MDB_cursor *c = v->batch ? v->m->b_icur : NULL;
    int rc;
    if (c == NULL) {
        if ((rc = mdb_cursor_open(v->txn, v->m->index, &c)) != 0)
            return lmdb_fail(rc, "cursor open");
        if (v->batch)
            v->m->b_icur = c;
    }
    MDB_val k = {klen, (void *)key}, d;
    struct ientry e;
    rc = mdb_cursor_get(c, &k, &d, MDB_SET);
    if (rc == 0)
        rc = index_latest(c, &k, rev, v->rev, &e);
    if (!v->batch)
        mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc)
        return lmdb_fail(rc, "index lookup");
    if (e.flags & FLAG_TOMB)
        return 1;
    if (eout)
        *eout = e;
    return rec_get(v, &e, r);
}

/* Key ranges as etcd spells them: no range_end = one key, "\0" = every key
 * >= key, otherwise [key, range_end). */
struct krange {
    const uint8_t *key, *end;
    size_t key_len, end_len;
    enum { KR_SINGLE, KR_TO_END, KR_RANGE } mode;
};

static void krange_init(struct krange *kr, const uint8_t *key, size_t klen, const uint8_t *end,
                        size_t elen)
{
    kr->key = key;
    kr->key_len = klen;
    kr->end = end;
    kr->end_len = elen;
    if (elen == 0)
        kr->mode = KR_SINGLE;
    else if (elen == 1 && end[0] == 0)
        kr->mode = KR_TO_END;
    else
        kr->mode = KR_RANGE;
}

static bool krange_contains(const struct krange *kr, const uint8_t *k, size_t kl)
{
    int c = bytes_cmp(k, kl, kr->key, kr->key_len);
    switch (kr->mode) {
    case KR_SINGLE:
        return c == 0;
    case KR_TO_END:
        return c >= 0;
    default:
        return c >= 0 && bytes_cmp(k, kl, kr->end, kr->end_len) < 0;
    }
}

/* Called for each key visible at the scan revision: return 0 to go on, 1 to
 * stop, or a negative error. */
typedef int (*scan_cb)(void *ctx, const MDB_val *key, const struct ientry *e);

/* Visits, in key order, every key of kr that exists (not deleted) at rev. */
static int scan_visible(const struct view *v, const struct krange *kr, int64_t rev, scan_cb cb,
                        void *ctx)
{
    if (kr->key_len == 0 || kr->key_len > v->m->max_key)
        return 0; /* no such key can be stored */
    MDB_cursor *c;
    int rc = mdb_cursor_open(v->txn, v->m->index, &c);
    if (rc)
        return lmdb_fail(rc, "cursor open");
    MDB_val k = {kr->key_len, (void *)kr->key}, d;
    rc = mdb_cursor_get(c, &k, &d, kr->mode == KR_SINGLE ? MDB_SET : MDB_SET_RANGE);
    int ret = 0;
    while (rc == 0) {
        if (!krange_contains(kr, k.mv_data, k.mv_size))
            break;
        struct ientry e;
        int lrc = index_latest(c, &k, rev, v->rev, &e);
        if (lrc == 0 && !(e.flags & FLAG_TOMB)) {
            ret = cb(ctx, &k, &e);
            if (ret)
                break;
        } else if (lrc && lrc != MDB_NOTFOUND) {
            rc = lrc;
            break;
        }
        if (kr->mode == KR_SINGLE)
            break;
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_NODUP);
    }
    mdb_cursor_close(c);
    if (ret < 0)
        return ret;
    if (rc && rc != MDB_NOTFOUND)
        return lmdb_fail(rc, "index scan");
    return 0;
}

/* --------------------------------------------------------- protobuf glue */

static Etcdserverpb__ResponseHeader *header_new(struct store_mvcc_arena *a, int64_t rev)
{
    Etcdserverpb__ResponseHeader *h = arena_alloc(a, sizeof(*h));
    etcdserverpb__response_header__init(h);
    h->revision = rev;
    return h;
}

/* A KeyValue of r: key and value copied into a, or, borrowed, pointing at
 * r's (the read transaction's pages: packed before it ends). */
static Mvccpb__KeyValue *kv_from_rec(struct store_mvcc_arena *a, const struct rec *r, bool borrow)
{
    Mvccpb__KeyValue *kv = arena_alloc(a, sizeof(*kv));
    mvccpb__key_value__init(kv);
    kv->key.data = borrow ? (uint8_t *)r->key : arena_dup(a, r->key, r->key_len);
    kv->key.len = r->key_len;
    kv->create_revision = r->create;
    kv->mod_revision = r->mod;
    kv->version = r->version;
    kv->lease = r->lease;
    if (r->value_len) {
        kv->value.data = borrow ? (uint8_t *)r->value : arena_dup(a, r->value, r->value_len);
        kv->value.len = r->value_len;
    }
    return kv;
}

static Mvccpb__KeyValue *kv_copy(struct store_mvcc_arena *a, const Mvccpb__KeyValue *src)
{
    Mvccpb__KeyValue *kv = arena_alloc(a, sizeof(*kv));
    *kv = *src;
    kv->key.data = arena_dup(a, src->key.data, src->key.len);
    kv->value.data = arena_dup(a, src->value.data, src->value.len);
    return kv;
}

static void result_set(struct store_mvcc_result *res, int err, void *resp)
{
    res->err = err;
    res->resp = err ? NULL : resp;
}

void store_mvcc_result_free(struct store_mvcc_result *res)
{
    if (!res)
        return;
    arena_free(res->arena);
    res->arena = NULL;
    res->resp = NULL;
}

static struct store_mvcc_events *events_new(void)
{
    struct store_mvcc_events *ev = K8C_NEW(struct store_mvcc_events);
    ev->arena = arena_new();
    return ev;
}

static void events_push(struct store_mvcc_events *ev, Mvccpb__Event *e)
{
    if (ev->n == ev->cap) {
        ev->cap = ev->cap ? ev->cap * 2 : 16;
        ev->events = k8c_realloc(ev->events, ev->cap * sizeof(*ev->events));
    }
    ev->events[ev->n++] = e;
}

void store_mvcc_events_free(struct store_mvcc_events *ev)
{
    if (!ev)
        return;
    arena_free(ev->arena);
    k8c_free(ev->events);
    k8c_free(ev);
}

int store_mvcc_grpc_status(int err)
{
    switch (err) {
    case 0:
        return K8C_GRPC_OK;
    case K8C_ETCD_EMPTY_KEY:
    case K8C_ETCD_KEY_NOT_FOUND:
    case K8C_ETCD_VALUE_PROVIDED:
    case K8C_ETCD_LEASE_PROVIDED:
    case K8C_ETCD_TOO_MANY_OPS:
    case K8C_ETCD_DUPLICATE_KEY:
    case K8C_ETCD_REQUEST_TOO_LARGE:
    case K8C_EINVAL:
    case K8C_EDEPTH:
        return K8C_GRPC_INVALID_ARGUMENT;
    case K8C_ETCD_COMPACTED:
    case K8C_ETCD_FUTURE_REV:
    case K8C_ETCD_LEASE_TTL_TOO_LARGE:
        return K8C_GRPC_OUT_OF_RANGE;
    case K8C_ETCD_NO_SPACE:
        return K8C_GRPC_RESOURCE_EXHAUSTED;
    case K8C_ETCD_LEASE_NOT_FOUND:
        return K8C_GRPC_NOT_FOUND;
    case K8C_ETCD_LEASE_EXIST:
        return K8C_GRPC_FAILED_PRECONDITION;
    case K8C_EUNSUPPORTED:
        return K8C_GRPC_UNIMPLEMENTED;
    case K8C_EIO:
        return K8C_GRPC_INTERNAL;
    default:
        return K8C_GRPC_UNKNOWN;
    }
}

/* ---------------------------------------------------------------- range */

struct range_ctx {
    const struct view *v;
    struct store_mvcc_arena *a;
    int64_t count;
    int64_t fetch_limit; /* 0 = all */
    bool count_only;
    Mvccpb__KeyValue **kvs;
    size_t n, cap;
};

static int range_cb(void *ctx, const MDB_val *key, const struct ientry *e)
{
    struct range_ctx *rc = ctx;
    rc->count++;
    if (rc->count_only || (rc->fetch_limit > 0 && (int64_t)rc->n >= rc->fetch_limit))
        return 0; /* keep counting */
    struct rec r;
    int err = rec_get(rc->v, e, &r);
    if (err)
        return err;
    if (rc->n == rc->cap) {
        rc->cap = rc->cap ? rc->cap * 2 : 16;
        rc->kvs = k8c_realloc(rc->kvs, rc->cap * sizeof(*rc->kvs));
    }
    rc->kvs[rc->n++] = kv_from_rec(rc->a, &r, rc->v->borrow);
    return 0;
}

static int sort_cmp(const void *pa, const void *pb, void *arg)
{
    const Mvccpb__KeyValue *a = *(Mvccpb__KeyValue *const *)pa;
    const Mvccpb__KeyValue *b = *(Mvccpb__KeyValue *const *)pb;
    int target = ((int *)arg)[0], desc = ((int *)arg)[1];
    int c = 0;
    switch (target) {
    case ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VERSION:
        c = (a->version > b->version) - (a->version < b->version);
        break;
    case ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__CREATE:
        c = (a->create_revision > b->create_revision) - (a->create_revision < b->create_revision);
        break;
    case ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__MOD:
        c = (a->mod_revision > b->mod_revision) - (a->mod_revision < b->mod_revision);
        break;
    case ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VALUE:
        c = bytes_cmp(a->value.data, a->value.len, b->value.data, b->value.len);
        break;
    default:
        break;
    }
    if (desc)
        c = -c;
    /* Ties keep key order, ascending in both directions: what etcd's sort
     * (insertion sort on key-ordered input for small ranges) produces. Keys
     * are unique, so the order is total and deterministic. */
    if (c == 0) {
        c = bytes_cmp(a->key.data, a->key.len, b->key.data, b->key.len);
        if (desc && target == ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__KEY)
            c = -c;
    }
    return c;
}

/* The gRPC-level checks etcd makes before a Range reaches the store. */
static int range_validate(const Etcdserverpb__RangeRequest *r)
{
    if (r->key.len == 0)
        return K8C_ETCD_EMPTY_KEY;
    if ((unsigned)r->sort_order > ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND ||
        (unsigned)r->sort_target > ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VALUE)
        return K8C_EINVAL;
    return 0;
}

/* The revision checks of etcd's rangeKeys (and of checkRequestRange in txns). */
static int range_check_rev(const struct view *v, int64_t req_rev)
{
    if (req_rev > v->rev)
        return K8C_ETCD_FUTURE_REV;
    if (req_rev > 0 && req_rev < v->compact_rev)
        return K8C_ETCD_COMPACTED;
    return 0;
}

/*
 * etcd's applier Range: fetch limit+1 keys when neither sorting nor filters
 * are asked for (the extra one tells `more`), else everything; prune by the
 * mod/create filters; sort (a non-KEY target without an order means ASCEND);
 * cut to limit. count is the number of keys in the range before filtering.
 * header_rev is the revision the response header reports.
 */
static int range_core(const struct view *v, const Etcdserverpb__RangeRequest *r,
                      struct store_mvcc_arena *a, int64_t header_rev,
                      Etcdserverpb__RangeResponse **out)
{
    int err = range_validate(r);
    if (!err)
        err = range_check_rev(v, r->revision);
    if (err)
        return err;
    int64_t rev = r->revision > 0 ? r->revision : v->rev;
    bool filters = r->min_mod_revision || r->max_mod_revision || r->min_create_revision ||
                   r->max_create_revision;
    struct range_ctx rc = {.v = v, .a = a, .count_only = r->count_only};
    if (r->sort_order == ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE && !filters && r->limit > 0)
        rc.fetch_limit = r->limit + 1;
    struct krange kr;
    krange_init(&kr, r->key.data, r->key.len, r->range_end.data, r->range_end.len);
    err = scan_visible(v, &kr, rev, range_cb, &rc);
    if (err) {
        k8c_free(rc.kvs);
        return err;
    }
    /* Filters, in etcd's order; pruning keeps the key order. */
    size_t n = 0;
    for (size_t i = 0; i < rc.n; i++) {
        const Mvccpb__KeyValue *kv = rc.kvs[i];
        if (r->max_mod_revision && kv->mod_revision > r->max_mod_revision)
            continue;
        if (r->min_mod_revision && kv->mod_revision < r->min_mod_revision)
            continue;
        if (r->max_create_revision && kv->create_revision > r->max_create_revision)
            continue;
        if (r->min_create_revision && kv->create_revision < r->min_create_revision)
            continue;
        rc.kvs[n++] = rc.kvs[i];
    }
    int order = r->sort_order;
    if (r->sort_target != ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__KEY &&
        order == ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE)
        order = ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND;
    if (order != ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE && n > 1) {
        int arg[2] = {r->sort_target, order == ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND};
        qsort_r(rc.kvs, n, sizeof(*rc.kvs), sort_cmp, arg);
    }
    Etcdserverpb__RangeResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__range_response__init(resp);
    resp->header = header_new(a, header_rev);
    if (r->limit > 0 && (int64_t)n > r->limit) {
        n = (size_t)r->limit;
        resp->more = true;
    }
    resp->count = rc.count;
    resp->n_kvs = n;
    if (n) {
        resp->kvs = arena_alloc(a, n * sizeof(*resp->kvs));
        for (size_t i = 0; i < n; i++) {
            resp->kvs[i] = rc.kvs[i];
            if (r->keys_only) {
                resp->kvs[i]->value.data = NULL;
                resp->kvs[i]->value.len = 0;
            }
        }
    }
    k8c_free(rc.kvs);
    *out = resp;
    return 0;
}

/* --------------------------------------------------------------- writes */

/* One request being applied in the batch. Requests that change something get
 * revision begin_rev + 1; sub counts their changes. */
struct wctx {
    struct store_mvcc *m;
    int64_t begin_rev;
    uint32_t sub;
};

static struct view wview(const struct wctx *w)
{
    struct view v = {w->m, w->m->txn, w->sub ? w->begin_rev + 1 : w->begin_rev, w->m->b_compact,
                     true};
    return v;
}

static int64_t wrev(const struct wctx *w)
{
    return w->sub ? w->begin_rev + 1 : w->begin_rev;
}

static bool lease_exists(struct store_mvcc *m, MDB_txn *txn, int64_t id, int *err)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)id);
    MDB_val k = {8, b}, v;
    int rc = mdb_get(txn, m->lease, &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        *err = lmdb_fail(rc, "lease get");
    return rc == 0;
}

static int lease_attach(struct store_mvcc *m, int64_t id, const uint8_t *key, size_t klen)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)id);
    MDB_val k = {8, b}, v = {klen, (void *)key};
    int rc = mdb_put(m->txn, m->lease_keys, &k, &v, MDB_NODUPDATA);
    return rc && rc != MDB_KEYEXIST ? lmdb_fail(rc, "lease attach") : 0;
}

static int lease_detach(struct store_mvcc *m, int64_t id, const uint8_t *key, size_t klen)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)id);
    MDB_val k = {8, b}, v = {klen, (void *)key};
    int rc = mdb_del(m->txn, m->lease_keys, &k, &v);
    return rc && rc != MDB_NOTFOUND ? lmdb_fail(rc, "lease detach") : 0;
}

/*
 * Stores one change at revision {begin_rev+1, sub}: the record, its index
 * entry, the quota count and the watch event. prev is the key's previous live
 * version (copied by the caller) or NULL. Fatal errors only.
 */
static int write_change(struct wctx *w, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, int64_t create, int64_t version, int64_t lease, bool tomb,
                        Mvccpb__KeyValue *prev)
{
    struct store_mvcc *m = w->m;
    int64_t rev = w->begin_rev + 1;
    uint8_t kb[REVKEY_SIZE];
    revkey_encode(kb, rev, w->sub);
    MDB_val k = {REVKEY_SIZE, kb}, d = {REC_HDR_SIZE + klen + vlen, NULL};
    int rc = mdb_put(m->txn, m->kv, &k, &d, MDB_RESERVE | MDB_APPEND);
    if (rc)
        return lmdb_fail(rc, "kv put");
    uint8_t *p = d.mv_data;
    p[0] = tomb ? FLAG_TOMB : 0;
    put_be64(p + 1, (uint64_t)create);
    put_be64(p + 9, (uint64_t)version);
    put_be64(p + 17, (uint64_t)lease);
    put_be32(p + 25, (uint32_t)klen);
    memcpy(p + REC_HDR_SIZE, key, klen);
    if (vlen)
        memcpy(p + REC_HDR_SIZE + klen, val, vlen);
    uint8_t eb[IENTRY_SIZE];
    ientry_encode(eb, rev, w->sub, tomb ? FLAG_TOMB : 0);
    MDB_val ik = {klen, (void *)key}, id = {IENTRY_SIZE, eb};
    rc = mdb_put(m->txn, m->index, &ik, &id, 0);
    if (rc)
        return lmdb_fail(rc, "index put");
    m->b_kv_bytes += rev_cost(klen, vlen);
    w->sub++;

    struct store_mvcc_arena *a = m->b_events->arena;
    Mvccpb__Event *ev = arena_alloc(a, sizeof(*ev));
    mvccpb__event__init(ev);
    Mvccpb__KeyValue *kv = arena_alloc(a, sizeof(*kv));
    mvccpb__key_value__init(kv);
    kv->key.data = arena_dup(a, key, klen);
    kv->key.len = klen;
    kv->mod_revision = rev;
    if (tomb) {
        ev->type = MVCCPB__EVENT__EVENT_TYPE__DELETE;
    } else {
        ev->type = MVCCPB__EVENT__EVENT_TYPE__PUT;
        kv->create_revision = create;
        kv->version = version;
        kv->lease = lease;
        kv->value.data = arena_dup(a, val, vlen);
        kv->value.len = vlen;
    }
    ev->kv = kv;
    ev->prev_kv = prev;
    events_push(m->b_events, ev);
    return 0;
}

/* The gRPC-level checks etcd makes on a PutRequest. */
static int put_validate(const struct store_mvcc *m, const Etcdserverpb__PutRequest *p)
{
    if (p->key.len == 0)
        return K8C_ETCD_EMPTY_KEY;
    if (p->ignore_value && p->value.len)
        return K8C_ETCD_VALUE_PROVIDED;
    if (p->ignore_lease && p->lease)
        return K8C_ETCD_LEASE_PROVIDED;
    if (p->key.len > m->max_key)
        return K8C_ETCD_REQUEST_TOO_LARGE;
    return 0;
}

static int delete_validate(const struct store_mvcc *m, const Etcdserverpb__DeleteRangeRequest *d)
{
    if (d->key.len == 0)
        return K8C_ETCD_EMPTY_KEY;
    return 0;
}

/* Quota check at apply time; on failure raises the NOSPACE alarm (which is
 * persisted with the batch even though the request fails). */
static int quota_charge(struct wctx *w, int64_t cost)
{
    struct store_mvcc *m = w->m;
    if (m->b_nospace)
        return K8C_ETCD_NO_SPACE;
    if (cost > 0 && m->b_kv_bytes + cost > m->quota) {
        uint8_t b[12];
        put_be64(b, 0);
        put_be32(b + 8, ETCDSERVERPB__ALARM_TYPE__NOSPACE);
        MDB_val k = {12, b}, v = {0, NULL};
        int rc = mdb_put(m->txn, m->alarms, &k, &v, 0);
        if (rc)
            return lmdb_fail(rc, "alarm put");
        m->b_nospace = true;
        k8c_log_warn("database space exceeded kv_bytes=%lld quota=%lld", (long long)m->b_kv_bytes,
                     (long long)m->quota);
        return K8C_ETCD_NO_SPACE;
    }
    return 0;
}

/* Copies a live record for prev_kv use into arena a. */
static Mvccpb__KeyValue *prev_copy(struct store_mvcc_arena *a, const struct rec *r)
{
    return kv_from_rec(a, r, false);
}

/*
 * The put itself (etcd's applier Put after its checks, plus storeTxnWrite.put):
 * inherits create_revision and bumps version of a live key, moves the lease
 * attachment, honours ignore_value/ignore_lease. checked = the caller already
 * ran the request checks (txn path). resp may be NULL when not needed.
 */
static int do_put(struct wctx *w, const Etcdserverpb__PutRequest *p, bool checked,
                  struct store_mvcc_arena *a, Etcdserverpb__PutResponse **out)
{
    struct store_mvcc *m = w->m;
    struct view v = wview(w);
    int err;
    if (!checked) {
        if ((err = put_validate(m, p)))
            return err;
        if (m->b_nospace)
            return K8C_ETCD_NO_SPACE;
        if (p->lease) {
            err = 0;
            if (!lease_exists(m, m->txn, p->lease, &err))
                return err ? err : K8C_ETCD_LEASE_NOT_FOUND;
        }
    }
    struct rec prev;
    int rc = key_live(&v, p->key.data, p->key.len, v.rev, &prev, NULL);
    if (rc < 0)
        return rc;
    bool have_prev = rc == 0;
    if ((p->ignore_value || p->ignore_lease) && !have_prev)
        return K8C_ETCD_KEY_NOT_FOUND;
    /* prev points into LMDB pages that the writes below may change: copy it. */
    Mvccpb__KeyValue *pkv = have_prev ? prev_copy(m->b_events->arena, &prev) : NULL;
    const uint8_t *val = p->value.data;
    size_t vlen = p->value.len;
    int64_t lease = p->lease;
    if (p->ignore_value) {
        val = pkv->value.data;
        vlen = pkv->value.len;
    }
    if (p->ignore_lease)
        lease = pkv->lease;
    if (!checked && (err = quota_charge(w, rev_cost(p->key.len, vlen))))
        return err;
    int64_t old_lease = pkv ? pkv->lease : 0;
    if (old_lease != lease && old_lease &&
        (err = lease_detach(m, old_lease, p->key.data, p->key.len)))
        return err;
    if (lease && old_lease != lease && (err = lease_attach(m, lease, p->key.data, p->key.len)))
        return err;
    int64_t create = pkv ? pkv->create_revision : w->begin_rev + 1;
    int64_t version = pkv ? pkv->version + 1 : 1;
    err = write_change(w, p->key.data, p->key.len, val, vlen, create, version, lease, false, pkv);
    if (err)
        return err;
    if (out) {
        Etcdserverpb__PutResponse *resp = arena_alloc(a, sizeof(*resp));
        etcdserverpb__put_response__init(resp);
        resp->header = header_new(a, w->begin_rev + 1);
        if (p->prev_kv && pkv)
            resp->prev_kv = kv_copy(a, pkv);
        *out = resp;
    }
    return 0;
}

struct collect_ctx {
    const struct view *v;
    struct store_mvcc_arena *a; /* where prev records are copied */
    Mvccpb__KeyValue **kvs;
    size_t n, cap;
};

static int collect_cb(void *ctx, const MDB_val *key, const struct ientry *e)
{
    struct collect_ctx *cc = ctx;
    struct rec r;
    int err = rec_get(cc->v, e, &r);
    if (err)
        return err;
    if (cc->n == cc->cap) {
        cc->cap = cc->cap ? cc->cap * 2 : 16;
        cc->kvs = k8c_realloc(cc->kvs, cc->cap * sizeof(*cc->kvs));
    }
    cc->kvs[cc->n++] = prev_copy(cc->a, &r);
    return 0;
}

/* Writes a tombstone for each live key in [key, end) (etcd deleteRange),
 * detaching leases; *deleted gets the count. prev_kvs, if asked, are copied
 * into a for the response. */
static int delete_keys(struct wctx *w, const uint8_t *key, size_t klen, const uint8_t *end,
                       size_t elen, int64_t *deleted, struct store_mvcc_arena *a,
                       Mvccpb__KeyValue ***prev_out, size_t *n_prev)
{
    struct store_mvcc *m = w->m;
    struct view v = wview(w);
    struct krange kr;
    krange_init(&kr, key, klen, end, elen);
    struct collect_ctx cc = {.v = &v, .a = m->b_events->arena};
    int err = scan_visible(&v, &kr, v.rev, collect_cb, &cc);
    for (size_t i = 0; !err && i < cc.n; i++) {
        Mvccpb__KeyValue *pkv = cc.kvs[i];
        if (pkv->lease)
            err = lease_detach(m, pkv->lease, pkv->key.data, pkv->key.len);
        if (!err)
            err = write_change(w, pkv->key.data, pkv->key.len, NULL, 0, 0, 0, 0, true, pkv);
    }
    if (!err && prev_out && cc.n) {
        *prev_out = arena_alloc(a, cc.n * sizeof(**prev_out));
        for (size_t i = 0; i < cc.n; i++)
            (*prev_out)[i] = kv_copy(a, cc.kvs[i]);
        *n_prev = cc.n;
    }
    *deleted = (int64_t)cc.n;
    k8c_free(cc.kvs);
    return err;
}

static int do_delete(struct wctx *w, const Etcdserverpb__DeleteRangeRequest *d, bool checked,
                     struct store_mvcc_arena *a, Etcdserverpb__DeleteRangeResponse **out)
{
    int err;
    if (!checked && (err = delete_validate(w->m, d)))
        return err;
    Etcdserverpb__DeleteRangeResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__delete_range_response__init(resp);
    err = delete_keys(w, d->key.data, d->key.len, d->range_end.data, d->range_end.len,
                      &resp->deleted, a, d->prev_kv ? &resp->prev_kvs : NULL, &resp->n_prev_kvs);
    if (err)
        return err;
    /* etcd: the txn's next revision if anything changed so far, else current. */
    resp->header = header_new(a, wrev(w));
    *out = resp;
    return 0;
}

/* ------------------------------------------------------------------ txn */

/* etcd's checkTxnRequest: sizes and per-op validation, recursively. */
static int txn_validate(const struct store_mvcc *m, const Etcdserverpb__TxnRequest *t, int depth)
{
    if (depth > STORE_MVCC_MAX_TXN_DEPTH)
        return K8C_EDEPTH;
    if (t->n_compare > STORE_MVCC_MAX_TXN_OPS || t->n_success > STORE_MVCC_MAX_TXN_OPS ||
        t->n_failure > STORE_MVCC_MAX_TXN_OPS)
        return K8C_ETCD_TOO_MANY_OPS;
    for (size_t i = 0; i < t->n_compare; i++)
        if (t->compare[i]->key.len == 0)
            return K8C_ETCD_EMPTY_KEY;
    for (int branch = 0; branch < 2; branch++) {
        size_t n = branch ? t->n_failure : t->n_success;
        Etcdserverpb__RequestOp **ops = branch ? t->failure : t->success;
        for (size_t i = 0; i < n; i++) {
            const Etcdserverpb__RequestOp *op = ops[i];
            int err = 0;
            switch (op->request_case) {
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE:
                err = range_validate(op->request_range);
                break;
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
                err = put_validate(m, op->request_put);
                break;
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
                err = delete_validate(m, op->request_delete_range);
                break;
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN:
                err = txn_validate(m, op->request_txn, depth + 1);
                break;
            default:
                break; /* an empty op does nothing, as in etcd */
            }
            if (err)
                return err;
        }
    }
    return 0;
}

/* Key sets for etcd's checkIntervals (duplicate keys in a txn). Small: the
 * sets are bounded by the ops of one txn, linear search is fine. */
struct keyset {
    const ProtobufCBinaryData **v;
    size_t n, cap;
};
struct ival {
    const ProtobufCBinaryData *begin, *end; /* end NULL = a single key */
};
struct ivset {
    struct ival *v;
    size_t n, cap;
};

static void keyset_add(struct keyset *s, const ProtobufCBinaryData *k)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = k8c_realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = k;
}

static bool keyset_has(const struct keyset *s, const ProtobufCBinaryData *k)
{
    for (size_t i = 0; i < s->n; i++)
        if (bytes_cmp(s->v[i]->data, s->v[i]->len, k->data, k->len) == 0)
            return true;
    return false;
}

static void ivset_add(struct ivset *s, struct ival iv)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = k8c_realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = iv;
}

/* Whether key k falls in one of the delete intervals. Like etcd, a range end
 * is compared as raw bytes (so a "\0" end does not stand for "all keys" here). */
static bool ivset_hits(const struct ivset *s, const ProtobufCBinaryData *k)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct ival *iv = &s->v[i];
        int c = bytes_cmp(k->data, k->len, iv->begin->data, iv->begin->len);
        if (!iv->end) {
            if (c == 0)
                return true;
        } else if (c >= 0 && bytes_cmp(k->data, k->len, iv->end->data, iv->end->len) < 0) {
            return true;
        }
    }
    return false;
}

/* etcd's checkIntervals: no key may be put twice and no put may fall in a
 * delete range, across nested txns (keys put in both branches of one nested
 * txn are fine: only one branch runs). */
static int check_intervals(Etcdserverpb__RequestOp **reqs, size_t n, struct keyset *puts,
                           struct ivset *dels)
{
    int err = 0;
    for (size_t i = 0; i < n; i++) {
        if (reqs[i]->request_case != ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE)
            continue;
        const Etcdserverpb__DeleteRangeRequest *d = reqs[i]->request_delete_range;
        ivset_add(dels, (struct ival){&d->key, d->range_end.len ? &d->range_end : NULL});
    }
    for (size_t i = 0; i < n && !err; i++) {
        if (reqs[i]->request_case != ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN)
            continue;
        const Etcdserverpb__TxnRequest *t = reqs[i]->request_txn;
        struct keyset pt = {0}, pe = {0};
        struct ivset dt = {0}, de = {0};
        err = check_intervals(t->success, t->n_success, &pt, &dt);
        if (!err)
            err = check_intervals(t->failure, t->n_failure, &pe, &de);
        for (size_t j = 0; !err && j < pt.n; j++) {
            if (keyset_has(puts, pt.v[j]) || ivset_hits(dels, pt.v[j]))
                err = K8C_ETCD_DUPLICATE_KEY;
            else
                keyset_add(puts, pt.v[j]);
        }
        for (size_t j = 0; !err && j < pe.n; j++) {
            if ((keyset_has(puts, pe.v[j]) && !keyset_has(&pt, pe.v[j])) ||
                ivset_hits(dels, pe.v[j]))
                err = K8C_ETCD_DUPLICATE_KEY;
            else
                keyset_add(puts, pe.v[j]);
        }
        for (size_t j = 0; !err && j < dt.n; j++)
            ivset_add(dels, dt.v[j]);
        for (size_t j = 0; !err && j < de.n; j++)
            ivset_add(dels, de.v[j]);
        k8c_free(pt.v);
        k8c_free(pe.v);
        k8c_free(dt.v);
        k8c_free(de.v);
    }
    for (size_t i = 0; i < n && !err; i++) {
        if (reqs[i]->request_case != ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT)
            continue;
        const ProtobufCBinaryData *k = &reqs[i]->request_put->key;
        if (keyset_has(puts, k) || ivset_hits(dels, k))
            err = K8C_ETCD_DUPLICATE_KEY;
        else
            keyset_add(puts, k);
    }
    return err;
}

static int txn_check_dups(const Etcdserverpb__TxnRequest *t)
{
    struct keyset p1 = {0}, p2 = {0};
    struct ivset d1 = {0}, d2 = {0};
    int err = check_intervals(t->success, t->n_success, &p1, &d1);
    if (!err)
        err = check_intervals(t->failure, t->n_failure, &p2, &d2);
    k8c_free(p1.v);
    k8c_free(p2.v);
    k8c_free(d1.v);
    k8c_free(d2.v);
    return err;
}

static bool txn_readonly(const Etcdserverpb__TxnRequest *t)
{
    for (int branch = 0; branch < 2; branch++) {
        size_t n = branch ? t->n_failure : t->n_success;
        Etcdserverpb__RequestOp **ops = branch ? t->failure : t->success;
        for (size_t i = 0; i < n; i++) {
            switch (ops[i]->request_case) {
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
                return false;
            case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN:
                if (!txn_readonly(ops[i]->request_txn))
                    return false;
                break;
            default:
                break;
            }
        }
    }
    return true;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* etcd's compareKV. kv NULL means the zero KeyValue (key absent). */
static bool compare_kv(const Etcdserverpb__Compare *c, const Mvccpb__KeyValue *kv)
{
    static const Mvccpb__KeyValue zero = MVCCPB__KEY_VALUE__INIT;
    if (!kv)
        kv = &zero;
    int r = 0;
    switch (c->target) {
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE: {
        const ProtobufCBinaryData *want =
            c->target_union_case == ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE ? &c->value : NULL;
        r = bytes_cmp(kv->value.data, kv->value.len, want ? want->data : NULL,
                      want ? want->len : 0);
        break;
    }
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE:
        r = cmp_i64(kv->create_revision,
                    c->target_union_case == ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION
                        ? c->create_revision
                        : 0);
        break;
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD:
        r = cmp_i64(kv->mod_revision,
                    c->target_union_case == ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION
                        ? c->mod_revision
                        : 0);
        break;
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION:
        r = cmp_i64(kv->version, c->target_union_case == ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION
                                     ? c->version
                                     : 0);
        break;
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__LEASE:
        r = cmp_i64(kv->lease, c->target_union_case == ETCDSERVERPB__COMPARE__TARGET_UNION_LEASE
                                   ? c->lease
                                   : 0);
        break;
    default:
        break;
    }
    switch (c->result) {
    case ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL:
        return r == 0;
    case ETCDSERVERPB__COMPARE__COMPARE_RESULT__NOT_EQUAL:
        return r != 0;
    case ETCDSERVERPB__COMPARE__COMPARE_RESULT__GREATER:
        return r > 0;
    case ETCDSERVERPB__COMPARE__COMPARE_RESULT__LESS:
        return r < 0;
    default:
        return true;
    }
}

struct compare_ctx {
    const struct view *v;
    const Etcdserverpb__Compare *c;
    struct store_mvcc_arena *tmp;
    bool any, ok;
};

static int compare_cb(void *ctx, const MDB_val *key, const struct ientry *e)
{
    struct compare_ctx *cc = ctx;
    struct rec r;
    int err = rec_get(cc->v, e, &r);
    if (err)
        return err;
    cc->any = true;
    Mvccpb__KeyValue kv = MVCCPB__KEY_VALUE__INIT;
    kv.create_revision = r.create;
    kv.mod_revision = r.mod;
    kv.version = r.version;
    kv.lease = r.lease;
    kv.value.data = (uint8_t *)r.value;
    kv.value.len = r.value_len;
    if (!compare_kv(cc->c, &kv)) {
        cc->ok = false;
        return 1;
    }
    return 0;
}

/* etcd's applyCompare: every key of the compare's range must satisfy it; no
 * key at all fails a VALUE compare and compares the zero KeyValue otherwise. */
static int apply_compare(const struct view *v, const Etcdserverpb__Compare *c, bool *ok)
{
    struct krange kr;
    krange_init(&kr, c->key.data, c->key.len, c->range_end.data, c->range_end.len);
    struct compare_ctx cc = {.v = v, .c = c, .ok = true};
    int err = scan_visible(v, &kr, v->rev, compare_cb, &cc);
    if (err)
        return err;
    if (!cc.any)
        *ok = c->target != ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE && compare_kv(c, NULL);
    else
        *ok = cc.ok;
    return 0;
}

struct path {
    bool *v;
    size_t n, cap;
};

/* etcd's compareToPath: every compare on the chosen path, depth first, all
 * against the state before the txn. */
static int txn_path(const struct view *v, const Etcdserverpb__TxnRequest *t, struct path *p)
{
    bool ok = true;
    for (size_t i = 0; i < t->n_compare && ok; i++) {
        int err = apply_compare(v, t->compare[i], &ok);
        if (err)
            return err;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->v = k8c_realloc(p->v, p->cap * sizeof(*p->v));
    }
    p->v[p->n++] = ok;
    size_t n = ok ? t->n_success : t->n_failure;
    Etcdserverpb__RequestOp **ops = ok ? t->success : t->failure;
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->request_case != ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN)
            continue;
        int err = txn_path(v, ops[i]->request_txn, p);
        if (err)
            return err;
    }
    return 0;
}

/*
 * checkRequests with checkRequestPut and checkRequestRange along the chosen
 * path, against the state before the txn. Also sums the quota cost of the
 * puts that will run. *pi walks the path.
 */
static int txn_check(const struct view *v, const Etcdserverpb__TxnRequest *t, const struct path *p,
                     size_t *pi, bool is_write, int64_t *cost)
{
    bool ok = p->v[(*pi)++];
    size_t n = ok ? t->n_success : t->n_failure;
    Etcdserverpb__RequestOp **ops = ok ? t->success : t->failure;
    for (size_t i = 0; i < n; i++) {
        const Etcdserverpb__RequestOp *op = ops[i];
        int err = 0;
        if (op->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN) {
            err = txn_check(v, op->request_txn, p, pi, is_write, cost);
        } else if (op->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT && is_write) {
            const Etcdserverpb__PutRequest *put = op->request_put;
            size_t vlen = put->value.len;
            if (put->ignore_value || put->ignore_lease) {
                struct rec r;
                int rc = key_live(v, put->key.data, put->key.len, v->rev, &r, NULL);
                if (rc < 0)
                    return rc;
                if (rc == 1)
                    return K8C_ETCD_KEY_NOT_FOUND;
                if (put->ignore_value)
                    vlen = r.value_len;
            }
            if (put->lease && !lease_exists(v->m, v->txn, put->lease, &err))
                return err ? err : K8C_ETCD_LEASE_NOT_FOUND;
            *cost += rev_cost(put->key.len, vlen);
        } else if (op->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE) {
            err = range_check_rev(v, op->request_range->revision);
        }
        if (err)
            return err;
    }
    return 0;
}

/* etcd's quota cost of a txn: the larger of the two branches' top-level puts. */
static bool txn_has_top_put(const Etcdserverpb__TxnRequest *t)
{
    for (size_t i = 0; i < t->n_success; i++)
        if (t->success[i]->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT)
            return true;
    for (size_t i = 0; i < t->n_failure; i++)
        if (t->failure[i]->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT)
            return true;
    return false;
}

/* Runs the chosen ops, filling resp (etcd's applyTxn). */
static int txn_run(struct wctx *w, const Etcdserverpb__TxnRequest *t, const struct path *p,
                   size_t *pi, struct store_mvcc_arena *a, Etcdserverpb__TxnResponse *resp)
{
    bool ok = p->v[(*pi)++];
    size_t n = ok ? t->n_success : t->n_failure;
    Etcdserverpb__RequestOp **ops = ok ? t->success : t->failure;
    resp->succeeded = ok;
    resp->n_responses = n;
    resp->responses = n ? arena_alloc(a, n * sizeof(*resp->responses)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const Etcdserverpb__RequestOp *op = ops[i];
        Etcdserverpb__ResponseOp *ro = arena_alloc(a, sizeof(*ro));
        etcdserverpb__response_op__init(ro);
        resp->responses[i] = ro;
        int err = 0;
        switch (op->request_case) {
        case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE: {
            struct view v = wview(w);
            ro->response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE;
            err = range_core(&v, op->request_range, a, v.rev, &ro->response_range);
            break;
        }
        case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
            ro->response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT;
            err = do_put(w, op->request_put, true, a, &ro->response_put);
            break;
        case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
            ro->response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE;
            err = do_delete(w, op->request_delete_range, true, a, &ro->response_delete_range);
            break;
        case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN: {
            Etcdserverpb__TxnResponse *sub = arena_alloc(a, sizeof(*sub));
            etcdserverpb__txn_response__init(sub);
            sub->header = header_new(a, 0); /* etcd leaves nested headers empty */
            ro->response_case = ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN;
            ro->response_txn = sub;
            err = txn_run(w, op->request_txn, p, pi, a, sub);
            break;
        }
        default:
            break;
        }
        if (err)
            return err;
    }
    return 0;
}

/*
 * A whole txn, as etcd's applier Txn: validate, compute the path against the
 * pre-txn state, check puts (leases, ignore_*) and ranges (revisions) along
 * it, then run. All changes share revision begin_rev + 1; a txn that changes
 * nothing keeps the revision. Errors before any write leave no trace; an
 * error while running can only be an LMDB failure (fatal).
 */
static int do_txn(struct wctx *w, const Etcdserverpb__TxnRequest *t, struct store_mvcc_arena *a,
                  Etcdserverpb__TxnResponse **out, bool *ran)
{
    struct store_mvcc *m = w->m;
    int err = txn_validate(m, t, 0);
    if (!err)
        err = txn_check_dups(t);
    if (err)
        return err;
    bool is_write = !txn_readonly(t);
    if (is_write && m->b_nospace && txn_has_top_put(t))
        return K8C_ETCD_NO_SPACE;
    struct view v = wview(w);
    struct path p = {0};
    size_t pi = 0;
    int64_t cost = 0;
    err = txn_path(&v, t, &p);
    if (!err)
        err = txn_check(&v, t, &p, &pi, is_write, &cost);
    if (!err && cost > 0)
        err = quota_charge(w, cost);
    if (!err) {
        Etcdserverpb__TxnResponse *resp = arena_alloc(a, sizeof(*resp));
        etcdserverpb__txn_response__init(resp);
        pi = 0;
        *ran = true;
        err = txn_run(w, t, &p, &pi, a, resp);
        resp->header = header_new(a, wrev(w));
        *out = resp;
    }
    k8c_free(p.v);
    return err;
}

/* --------------------------------------------------------------- leases */

static int lease_read(MDB_txn *txn, struct store_mvcc *m, int64_t id, struct store_mvcc_lease *l)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)id);
    MDB_val k = {8, b}, v;
    int rc = mdb_get(txn, m->lease, &k, &v);
    if (rc == MDB_NOTFOUND)
        return K8C_ETCD_LEASE_NOT_FOUND;
    if (rc)
        return lmdb_fail(rc, "lease get");
    if (v.mv_size != 16)
        return K8C_EIO;
    l->id = id;
    l->ttl = (int64_t)get_be64(v.mv_data);
    l->remaining_ttl = (int64_t)get_be64((uint8_t *)v.mv_data + 8);
    return 0;
}

static int lease_write(struct store_mvcc *m, const struct store_mvcc_lease *l)
{
    uint8_t b[8], d[16];
    put_be64(b, (uint64_t)l->id);
    put_be64(d, (uint64_t)l->ttl);
    put_be64(d + 8, (uint64_t)l->remaining_ttl);
    MDB_val k = {8, b}, v = {16, d};
    int rc = mdb_put(m->txn, m->lease, &k, &v, 0);
    return rc ? lmdb_fail(rc, "lease put") : 0;
}

static int do_lease_grant(struct wctx *w, const Etcdserverpb__LeaseGrantRequest *r,
                          struct store_mvcc_arena *a, Etcdserverpb__LeaseGrantResponse **out)
{
    struct store_mvcc *m = w->m;
    if (r->id == 0)
        return K8C_EINVAL; /* the proposer picks the ID before raft, as etcd's server does */
    if (m->b_nospace)
        return K8C_ETCD_NO_SPACE;
    if (r->ttl > STORE_MVCC_MAX_LEASE_TTL)
        return K8C_ETCD_LEASE_TTL_TOO_LARGE;
    struct store_mvcc_lease l;
    int err = lease_read(m->txn, m, r->id, &l);
    if (err == 0)
        return K8C_ETCD_LEASE_EXIST;
    if (err != K8C_ETCD_LEASE_NOT_FOUND)
        return err;
    l.id = r->id;
    l.ttl = r->ttl < m->opts.min_lease_ttl ? m->opts.min_lease_ttl : r->ttl;
    l.remaining_ttl = 0;
    if ((err = lease_write(m, &l)))
        return err;
    Etcdserverpb__LeaseGrantResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__lease_grant_response__init(resp);
    resp->header = header_new(a, m->b_rev);
    resp->id = l.id;
    resp->ttl = l.ttl;
    *out = resp;
    return 0;
}

/* Revoke: every attached key deleted in key order at one revision, then the
 * lease itself (etcd's lessor.Revoke). */
static int do_lease_revoke(struct wctx *w, const Etcdserverpb__LeaseRevokeRequest *r,
                           struct store_mvcc_arena *a, Etcdserverpb__LeaseRevokeResponse **out)
{
    struct store_mvcc *m = w->m;
    struct store_mvcc_lease l;
    int err = lease_read(m->txn, m, r->id, &l);
    if (err)
        return err;
    uint8_t b[8];
    put_be64(b, (uint64_t)r->id);
    /* Copy the attached keys first: deleting changes the lease_keys pages. */
    struct store_mvcc_arena *tmp = arena_new();
    ProtobufCBinaryData *keys = NULL;
    size_t n = 0, cap = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(m->txn, m->lease_keys, &c);
    if (rc) {
        arena_free(tmp);
        return lmdb_fail(rc, "cursor open");
    }
    MDB_val k = {8, b}, d;
    rc = mdb_cursor_get(c, &k, &d, MDB_SET);
    while (rc == 0) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            keys = k8c_realloc(keys, cap * sizeof(*keys));
        }
        keys[n].data = arena_dup(tmp, d.mv_data, d.mv_size);
        keys[n].len = d.mv_size;
        n++;
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_DUP);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        err = lmdb_fail(rc, "lease keys");
    for (size_t i = 0; !err && i < n; i++) {
        int64_t deleted;
        err = delete_keys(w, keys[i].data, keys[i].len, NULL, 0, &deleted, NULL, NULL, NULL);
    }
    k8c_free(keys);
    arena_free(tmp);
    if (err)
        return err;
    MDB_val lk = {8, b};
    rc = mdb_del(m->txn, m->lease, &lk, NULL);
    if (rc)
        return lmdb_fail(rc, "lease del");
    rc = mdb_del(m->txn, m->lease_keys, &lk, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return lmdb_fail(rc, "lease keys del");
    Etcdserverpb__LeaseRevokeResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__lease_revoke_response__init(resp);
    resp->header = header_new(a, wrev(w));
    *out = resp;
    return 0;
}

static int do_lease_checkpoint(struct wctx *w, const Etcdserverpb__LeaseCheckpointRequest *r,
                               struct store_mvcc_arena *a,
                               Etcdserverpb__LeaseCheckpointResponse **out)
{
    struct store_mvcc *m = w->m;
    for (size_t i = 0; i < r->n_checkpoints; i++) {
        struct store_mvcc_lease l;
        int err = lease_read(m->txn, m, r->checkpoints[i]->id, &l);
        if (err == K8C_ETCD_LEASE_NOT_FOUND)
            continue; /* etcd ignores checkpoints of leases that are gone */
        if (!err) {
            l.remaining_ttl = r->checkpoints[i]->remaining_ttl;
            err = lease_write(m, &l);
        }
        if (err)
            return err;
    }
    Etcdserverpb__LeaseCheckpointResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__lease_checkpoint_response__init(resp);
    resp->header = header_new(a, m->b_rev);
    *out = resp;
    return 0;
}

/* --------------------------------------------------------------- alarms */

static Etcdserverpb__AlarmMember *alarm_member(struct store_mvcc_arena *a, uint64_t id, int type)
{
    Etcdserverpb__AlarmMember *am = arena_alloc(a, sizeof(*am));
    etcdserverpb__alarm_member__init(am);
    am->memberid = id;
    am->alarm = type;
    return am;
}

static int alarms_refresh_nospace(struct store_mvcc *m, MDB_txn *txn, bool *nospace)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, m->alarms, &c);
    if (rc)
        return lmdb_fail(rc, "cursor open");
    MDB_val k, d;
    *nospace = false;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size == 12 &&
            get_be32((uint8_t *)k.mv_data + 8) == ETCDSERVERPB__ALARM_TYPE__NOSPACE)
            *nospace = true;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : lmdb_fail(rc, "alarms scan");
}

/* etcd's applier Alarm: GET lists (filtered by type unless NONE), ACTIVATE and
 * DEACTIVATE report the alarm they changed (nothing if it was already so). */
static int do_alarm(struct wctx *w, const Etcdserverpb__AlarmRequest *r, struct store_mvcc_arena *a,
                    Etcdserverpb__AlarmResponse **out)
{
    struct store_mvcc *m = w->m;
    Etcdserverpb__AlarmResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__alarm_response__init(resp);
    resp->header = header_new(a, m->b_rev);
    uint8_t b[12];
    put_be64(b, r->memberid);
    put_be32(b + 8, (uint32_t)r->alarm);
    MDB_val k = {12, b}, d = {0, NULL};
    int rc;
    switch (r->action) {
    case ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__GET: {
        MDB_cursor *c;
        size_t n = 0, cap = 0;
        Etcdserverpb__AlarmMember **list = NULL;
        if ((rc = mdb_cursor_open(m->txn, m->alarms, &c)))
            return lmdb_fail(rc, "cursor open");
        for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
            if (k.mv_size != 12)
                continue;
            int type = (int)get_be32((uint8_t *)k.mv_data + 8);
            if (r->alarm != ETCDSERVERPB__ALARM_TYPE__NONE && type != (int)r->alarm)
                continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                Etcdserverpb__AlarmMember **nl = arena_alloc(a, ncap * sizeof(*nl));
                if (n)
                    memcpy(nl, list, n * sizeof(*nl));
                list = nl;
                cap = ncap;
            }
            list[n++] = alarm_member(a, get_be64(k.mv_data), type);
        }
        mdb_cursor_close(c);
        if (rc != MDB_NOTFOUND)
            return lmdb_fail(rc, "alarms scan");
        resp->alarms = list;
        resp->n_alarms = n;
        break;
    }
    case ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__ACTIVATE:
        if (r->alarm == ETCDSERVERPB__ALARM_TYPE__NONE)
            break;
        rc = mdb_put(m->txn, m->alarms, &k, &d, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            break;
        if (rc)
            return lmdb_fail(rc, "alarm put");
        resp->alarms = arena_alloc(a, sizeof(*resp->alarms));
        resp->alarms[0] = alarm_member(a, r->memberid, r->alarm);
        resp->n_alarms = 1;
        break;
    case ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__DEACTIVATE:
        rc = mdb_del(m->txn, m->alarms, &k, NULL);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc)
            return lmdb_fail(rc, "alarm del");
        resp->alarms = arena_alloc(a, sizeof(*resp->alarms));
        resp->alarms[0] = alarm_member(a, r->memberid, r->alarm);
        resp->n_alarms = 1;
        break;
    default:
        return K8C_EINVAL;
    }
    int err = alarms_refresh_nospace(m, m->txn, &m->b_nospace);
    if (err)
        return err;
    *out = resp;
    return 0;
}

/* ----------------------------------------------------------- compaction */

/*
 * Physical compaction of one key at revision C: of its index entries with
 * main <= C, all but the last are superseded and go (record and entry); the
 * last goes too if it is a tombstone (the key did not exist at C). What stays
 * is exactly what a read at any revision >= C needs.
 */
static int compact_key(struct store_mvcc *m, const uint8_t *key, size_t klen, int64_t C)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(m->txn, m->index, &c);
    if (rc)
        return lmdb_fail(rc, "cursor open");
    struct ientry *old = NULL;
    size_t n = 0, cap = 0;
    MDB_val k = {klen, (void *)key}, d;
    rc = mdb_cursor_get(c, &k, &d, MDB_SET);
    if (rc == 0)
        rc = mdb_cursor_get(c, &k, &d, MDB_FIRST_DUP);
    while (rc == 0) {
        struct ientry e;
        ientry_decode(&d, &e);
        if (e.main > C)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            old = k8c_realloc(old, cap * sizeof(*old));
        }
        old[n++] = e;
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_DUP);
    }
    mdb_cursor_close(c);
    int err = 0;
    if (rc && rc != MDB_NOTFOUND)
        err = lmdb_fail(rc, "compact scan");
    size_t drop = n == 0 ? 0 : (old[n - 1].flags & FLAG_TOMB) ? n : n - 1;
    for (size_t i = 0; !err && i < drop; i++) {
        uint8_t kb[REVKEY_SIZE], eb[IENTRY_SIZE];
        revkey_encode(kb, old[i].main, old[i].sub);
        MDB_val rk = {REVKEY_SIZE, kb}, rv;
        rc = mdb_get(m->txn, m->kv, &rk, &rv);
        if (rc == 0) {
            m->b_kv_bytes -= rev_cost(klen, rv.mv_size - REC_HDR_SIZE - klen);
            rc = mdb_del(m->txn, m->kv, &rk, NULL);
        }
        if (rc && rc != MDB_NOTFOUND) {
            err = lmdb_fail(rc, "compact kv del");
            break;
        }
        ientry_encode(eb, old[i].main, old[i].sub, old[i].flags);
        MDB_val ik = {klen, (void *)key}, iv = {IENTRY_SIZE, eb};
        rc = mdb_del(m->txn, m->index, &ik, &iv);
        if (rc && rc != MDB_NOTFOUND)
            err = lmdb_fail(rc, "compact index del");
    }
    k8c_free(old);
    return err;
}

/*
 * Compaction to C visits only the records written since the previous
 * compaction (revisions prev+1..C): a key with no change there already has
 * exactly one non-tombstone revision <= prev, which stays. For every key seen
 * compact_key() does the work; the scan re-seeks after each key because the
 * deletes move records under any open cursor.
 */
static int compact_physical(struct store_mvcc *m, int64_t C, int64_t prev)
{
    int64_t main = prev < 0 ? 0 : prev + 1;
    uint32_t sub = 0;
    uint8_t keybuf[512];
    for (;;) {
        uint8_t kb[REVKEY_SIZE];
        revkey_encode(kb, main, sub);
        MDB_val k = {REVKEY_SIZE, kb}, v;
        MDB_cursor *c;
        int rc = mdb_cursor_open(m->txn, m->kv, &c);
        if (rc)
            return lmdb_fail(rc, "cursor open");
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        struct rec r;
        int err = 0;
        if (rc == 0)
            err = rec_decode(&k, &v, &r);
        if (rc == 0 && !err && r.key_len <= sizeof(keybuf))
            memcpy(keybuf, r.key, r.key_len);
        mdb_cursor_close(c);
        if (rc == MDB_NOTFOUND)
            return 0;
        if (rc)
            return lmdb_fail(rc, "compact kv scan");
        if (err)
            return err;
        if (r.mod > C)
            return 0;
        main = r.mod;
        sub = get_be32((uint8_t *)k.mv_data + 8);
        if (r.key_len > sizeof(keybuf))
            return K8C_EIO;
        if ((err = compact_key(m, keybuf, r.key_len, C)))
            return err;
        if (sub == UINT32_MAX) {
            main++;
            sub = 0;
        } else {
            sub++;
        }
    }
}

static int do_compact(struct wctx *w, const Etcdserverpb__CompactionRequest *r,
                      struct store_mvcc_arena *a, Etcdserverpb__CompactionResponse **out)
{
    struct store_mvcc *m = w->m;
    if (r->revision <= m->b_compact)
        return K8C_ETCD_COMPACTED;
    if (r->revision > m->b_rev)
        return K8C_ETCD_FUTURE_REV;
    int err = compact_physical(m, r->revision, m->b_compact);
    if (err)
        return err;
    m->b_compact = r->revision;
    Etcdserverpb__CompactionResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__compaction_response__init(resp);
    resp->header = header_new(a, m->b_rev);
    *out = resp;
    return 0;
}

/* ------------------------------------------------------------ batch API */

int store_mvcc_begin_batch(struct store_mvcc *m)
{
    if (m->txn)
        return K8C_EBUSY;
    if (!m->env)
        return K8C_EIO;
    int rc = mdb_txn_begin(m->env, NULL, 0, &m->txn);
    if (rc) {
        m->txn = NULL;
        return lmdb_fail(rc, "begin batch");
    }
    m->b_icur = NULL;
    m->broken = false;
    m->b_rev = m->rev;
    m->b_compact = m->compact_rev;
    m->b_kv_bytes = m->kv_bytes;
    m->b_nospace = m->nospace;
    m->b_events = events_new();
    return 0;
}

void store_mvcc_abort_batch(struct store_mvcc *m)
{
    if (!m->txn)
        return;
    mdb_txn_abort(m->txn);
    m->txn = NULL;
    m->b_icur = NULL; /* closed with it */
    store_mvcc_events_free(m->b_events);
    m->b_events = NULL;
    m->broken = false;
}

/* Runs one request of the batch. Request errors go to res; LMDB failures mark
 * the batch broken and are returned. */
static int apply_one(struct store_mvcc *m, const ProtobufCMessage *req,
                     struct store_mvcc_result *res)
{
    res->err = 0;
    res->resp = NULL;
    if (!res->arena)
        res->arena = arena_new();
    if (!m->txn || m->broken) {
        result_set(res, K8C_EINVAL, NULL);
        return K8C_EINVAL;
    }
    struct store_mvcc_arena *a = res->arena;
    struct wctx w = {.m = m, .begin_rev = m->b_rev};
    size_t events_before = m->b_events->n;
    void *resp = NULL;
    bool ran = false; /* a txn got past its checks: an error now is fatal */
    int err;
    const ProtobufCMessageDescriptor *d = req->descriptor;
    if (d == &etcdserverpb__put_request__descriptor) {
        err = do_put(&w, (const void *)req, false, a, (Etcdserverpb__PutResponse **)&resp);
    } else if (d == &etcdserverpb__delete_range_request__descriptor) {
        err =
            do_delete(&w, (const void *)req, false, a, (Etcdserverpb__DeleteRangeResponse **)&resp);
    } else if (d == &etcdserverpb__txn_request__descriptor) {
        err = do_txn(&w, (const void *)req, a, (Etcdserverpb__TxnResponse **)&resp, &ran);
    } else if (d == &etcdserverpb__range_request__descriptor) {
        struct view v = wview(&w);
        err = range_core(&v, (const void *)req, a, v.rev, (Etcdserverpb__RangeResponse **)&resp);
    } else if (d == &etcdserverpb__compaction_request__descriptor) {
        err = do_compact(&w, (const void *)req, a, (Etcdserverpb__CompactionResponse **)&resp);
    } else if (d == &etcdserverpb__lease_grant_request__descriptor) {
        err = do_lease_grant(&w, (const void *)req, a, (Etcdserverpb__LeaseGrantResponse **)&resp);
    } else if (d == &etcdserverpb__lease_revoke_request__descriptor) {
        err =
            do_lease_revoke(&w, (const void *)req, a, (Etcdserverpb__LeaseRevokeResponse **)&resp);
    } else if (d == &etcdserverpb__lease_checkpoint_request__descriptor) {
        err = do_lease_checkpoint(&w, (const void *)req, a,
                                  (Etcdserverpb__LeaseCheckpointResponse **)&resp);
    } else if (d == &etcdserverpb__alarm_request__descriptor) {
        err = do_alarm(&w, (const void *)req, a, (Etcdserverpb__AlarmResponse **)&resp);
    } else {
        err = K8C_EUNSUPPORTED;
    }
    if (w.sub)
        m->b_rev = w.begin_rev + 1;
    /* A request error after a write (only LMDB failures can do that, or a txn
     * failing mid-run) would leave half a request: poison the batch. */
    bool fatal = err == K8C_EIO || (err && (w.sub || ran || m->b_events->n != events_before));
    result_set(res, err, resp);
    if (fatal) {
        m->broken = true;
        return err;
    }
    return 0;
}

int store_mvcc_apply(struct store_mvcc *m, const ProtobufCMessage *req,
                     struct store_mvcc_result *res)
{
    return apply_one(m, req, res);
}

int store_mvcc_put(struct store_mvcc *m, const Etcdserverpb__PutRequest *req,
                   struct store_mvcc_result *res)
{
    return apply_one(m, &req->base, res);
}

int store_mvcc_delete_range(struct store_mvcc *m, const Etcdserverpb__DeleteRangeRequest *req,
                            struct store_mvcc_result *res)
{
    return apply_one(m, &req->base, res);
}

int store_mvcc_txn(struct store_mvcc *m, const Etcdserverpb__TxnRequest *req,
                   struct store_mvcc_result *res)
{
    return apply_one(m, &req->base, res);
}

int store_mvcc_compact(struct store_mvcc *m, const Etcdserverpb__CompactionRequest *req,
                       struct store_mvcc_result *res)
{
    return apply_one(m, &req->base, res);
}

int store_mvcc_lease_grant(struct store_mvcc *m, const Etcdserverpb__LeaseGrantRequest *req,
                           struct store_mvcc_result *res)
{
    return apply_one(m, &req->base, res);
}

int store_mvcc_lease_revoke(struct store_mvcc *m, const Etcdserverpb__LeaseRevokeRequest *req,
                            struct store_mvcc_result *res)
{
    return apply_one(m, &req->base, res);
}

int store_mvcc_member_put(struct store_mvcc *m, uint64_t id, const void *data, size_t len)
{
    if (!m->txn || m->broken)
        return K8C_EINVAL;
    uint8_t b[8];
    put_be64(b, id);
    MDB_val k = {8, b}, v = {len, (void *)data};
    int rc = mdb_put(m->txn, m->members, &k, &v, 0);
    if (rc) {
        m->broken = true;
        return lmdb_fail(rc, "member put");
    }
    return 0;
}

int store_mvcc_member_delete(struct store_mvcc *m, uint64_t id)
{
    if (!m->txn || m->broken)
        return K8C_EINVAL;
    uint8_t b[8];
    put_be64(b, id);
    MDB_val k = {8, b};
    int rc = mdb_del(m->txn, m->members, &k, NULL);
    if (rc && rc != MDB_NOTFOUND) {
        m->broken = true;
        return lmdb_fail(rc, "member del");
    }
    return 0;
}

int store_mvcc_commit_batch(struct store_mvcc *m, uint64_t applied_index, uint64_t term,
                            struct store_mvcc_events **events)
{
    if (events)
        *events = NULL;
    if (!m->txn)
        return K8C_EINVAL;
    if (m->broken) {
        store_mvcc_abort_batch(m);
        return K8C_EIO;
    }
    int err = meta_put_i64(m->txn, m->meta, "current_rev", m->b_rev);
    if (!err)
        err = meta_put_i64(m->txn, m->meta, "compact_rev", m->b_compact);
    if (!err)
        err = meta_put_i64(m->txn, m->meta, "kv_bytes", m->b_kv_bytes);
    if (!err)
        err = meta_put_i64(m->txn, m->meta, "applied_index", (int64_t)applied_index);
    if (!err)
        err = meta_put_i64(m->txn, m->meta, "applied_term", (int64_t)term);
    if (err) {
        store_mvcc_abort_batch(m);
        return err;
    }
    int rc = mdb_txn_commit(m->txn);
    m->txn = NULL;
    m->b_icur = NULL; /* closed with it */
    if (rc) {
        store_mvcc_events_free(m->b_events);
        m->b_events = NULL;
        return lmdb_fail(rc, "commit batch");
    }
    m->rev = m->b_rev;
    m->compact_rev = m->b_compact;
    m->kv_bytes = m->b_kv_bytes;
    m->nospace = m->b_nospace;
    atomic_store(&m->pub_kv_bytes, m->kv_bytes);
    atomic_store(&m->pub_nospace, m->nospace);
    m->b_events->revision = m->rev;
    if (events)
        *events = m->b_events;
    else
        store_mvcc_events_free(m->b_events);
    m->b_events = NULL;
    return 0;
}

/* ---------------------------------------------------------------- reads */

/* Starts a read: read lock + read-only transaction + the view's revisions. */
static int read_begin(struct store_mvcc *m, struct view *v)
{
    pthread_rwlock_rdlock(&m->lock);
    if (!m->env) {
        pthread_rwlock_unlock(&m->lock);
        return K8C_EIO;
    }
    v->m = m;
    v->batch = false;
    v->borrow = false;
    int rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, &v->txn);
    if (rc) {
        pthread_rwlock_unlock(&m->lock);
        return lmdb_fail(rc, "begin read");
    }
    int err = meta_get_i64(v->txn, m->meta, "current_rev", &v->rev);
    if (!err)
        err = meta_get_i64(v->txn, m->meta, "compact_rev", &v->compact_rev);
    if (err) {
        mdb_txn_abort(v->txn);
        pthread_rwlock_unlock(&m->lock);
        return err < 0 ? err : K8C_EIO;
    }
    return 0;
}

static void read_end(struct view *v)
{
    mdb_txn_abort(v->txn);
    pthread_rwlock_unlock(&v->m->lock);
}

int store_mvcc_range(struct store_mvcc *m, const Etcdserverpb__RangeRequest *req,
                     struct store_mvcc_result *res)
{
    struct view v;
    res->resp = NULL;
    int err = read_begin(m, &v);
    if (err) {
        res->err = err;
        return err;
    }
    if (!res->arena)
        res->arena = arena_new();
    Etcdserverpb__RangeResponse *resp = NULL;
    err = range_core(&v, req, res->arena, v.rev, &resp);
    read_end(&v);
    result_set(res, err, resp);
    return err;
}

/* ---- RangeResponse packed by hand: byte for byte what protobuf-c's
 * descriptor-driven pack writes (fields in number order, proto3 zero values
 * left out, int64 as 64-bit varints), without walking the descriptors for
 * each of a large range's KeyValues twice (size, then pack). */

static size_t varint_field_len(uint64_t v)
{
    return v ? 1 + k8c_codec_varint_len(v) : 0;
}

static size_t bytes_field_len(size_t len)
{
    return len ? 1 + k8c_codec_varint_len(len) + len : 0;
}

static uint8_t *put_varint_field(uint8_t *p, unsigned field, uint64_t v)
{
    if (v == 0)
        return p;
    *p++ = (uint8_t)(field << 3);
    return k8c_codec_varint_put(p, v);
}

static uint8_t *put_bytes_field(uint8_t *p, unsigned field, const void *data, size_t len)
{
    if (len == 0)
        return p;
    *p++ = (uint8_t)(field << 3 | 2);
    p = k8c_codec_varint_put(p, len);
    memcpy(p, data, len);
    return p + len;
}

static size_t header_len(const Etcdserverpb__ResponseHeader *h)
{
    return varint_field_len(h->cluster_id) + varint_field_len(h->member_id) +
           varint_field_len((uint64_t)h->revision) + varint_field_len(h->raft_term);
}

static size_t kv_len(const Mvccpb__KeyValue *kv)
{
    return bytes_field_len(kv->key.len) + varint_field_len((uint64_t)kv->create_revision) +
           varint_field_len((uint64_t)kv->mod_revision) + varint_field_len((uint64_t)kv->version) +
           bytes_field_len(kv->value.len) + varint_field_len((uint64_t)kv->lease);
}

struct k8c_buf *store_mvcc_range_response_frame(const Etcdserverpb__RangeResponse *r)
{
    size_t hlen = r->header ? header_len(r->header) : 0;
    size_t len = r->header ? 1 + k8c_codec_varint_len(hlen) + hlen : 0;
    for (size_t i = 0; i < r->n_kvs; i++) {
        size_t l = kv_len(r->kvs[i]);
        len += 1 + k8c_codec_varint_len(l) + l;
    }
    len += r->more ? 2 : 0;
    len += varint_field_len((uint64_t)r->count);

    struct k8c_buf *b = k8c_buf_new(K8C_GRPC_PREFIX_SIZE + len);
    k8c_grpc_frame_prefix(b->data, len);
    uint8_t *p = b->data + K8C_GRPC_PREFIX_SIZE;
    if (r->header) {
        const Etcdserverpb__ResponseHeader *h = r->header;
        *p++ = 1 << 3 | 2;
        p = k8c_codec_varint_put(p, hlen);
        p = put_varint_field(p, 1, h->cluster_id);
        p = put_varint_field(p, 2, h->member_id);
        p = put_varint_field(p, 3, (uint64_t)h->revision);
        p = put_varint_field(p, 4, h->raft_term);
    }
    for (size_t i = 0; i < r->n_kvs; i++) {
        const Mvccpb__KeyValue *kv = r->kvs[i];
        *p++ = 2 << 3 | 2;
        p = k8c_codec_varint_put(p, kv_len(kv));
        p = put_bytes_field(p, 1, kv->key.data, kv->key.len);
        p = put_varint_field(p, 2, (uint64_t)kv->create_revision);
        p = put_varint_field(p, 3, (uint64_t)kv->mod_revision);
        p = put_varint_field(p, 4, (uint64_t)kv->version);
        p = put_bytes_field(p, 5, kv->value.data, kv->value.len);
        p = put_varint_field(p, 6, (uint64_t)kv->lease);
    }
    p = put_varint_field(p, 3, r->more ? 1 : 0);
    put_varint_field(p, 4, (uint64_t)r->count);
    return b;
}

int store_mvcc_range_frame(struct store_mvcc *m, const Etcdserverpb__RangeRequest *req,
                           void (*fill_header)(Etcdserverpb__ResponseHeader *h),
                           struct k8c_buf **frame)
{
    struct view v;
    *frame = NULL;
    int err = read_begin(m, &v);
    if (err)
        return err;
    v.borrow = true;
    struct store_mvcc_arena *a = arena_new();
    Etcdserverpb__RangeResponse *resp = NULL;
    err = range_core(&v, req, a, v.rev, &resp);
    if (!err) {
        if (fill_header != NULL)
            fill_header(resp->header);
        *frame = store_mvcc_range_response_frame(resp);
    }
    read_end(&v);
    arena_free(a);
    return err;
}

int store_mvcc_lease_time_to_live(struct store_mvcc *m,
                                  const Etcdserverpb__LeaseTimeToLiveRequest *req,
                                  struct store_mvcc_result *res)
{
    struct view v;
    res->resp = NULL;
    int err = read_begin(m, &v);
    if (err) {
        res->err = err;
        return err;
    }
    if (!res->arena)
        res->arena = arena_new();
    struct store_mvcc_arena *a = res->arena;
    struct store_mvcc_lease l;
    Etcdserverpb__LeaseTimeToLiveResponse *resp = NULL;
    err = lease_read(v.txn, m, req->id, &l);
    if (!err) {
        resp = arena_alloc(a, sizeof(*resp));
        etcdserverpb__lease_time_to_live_response__init(resp);
        resp->header = header_new(a, v.rev);
        resp->id = l.id;
        resp->grantedttl = l.ttl;
        resp->ttl = l.remaining_ttl > 0 ? l.remaining_ttl : l.ttl;
    }
    if (!err && req->keys) {
        uint8_t b[8];
        put_be64(b, (uint64_t)req->id);
        MDB_cursor *c;
        int rc = mdb_cursor_open(v.txn, m->lease_keys, &c);
        if (rc) {
            err = lmdb_fail(rc, "cursor open");
        } else {
            MDB_val k = {8, b}, d;
            size_t count = 0;
            rc = mdb_cursor_get(c, &k, &d, MDB_SET);
            if (rc == 0) {
                size_t dups;
                rc = mdb_cursor_count(c, &dups);
                count = (size_t)dups;
            }
            if (rc == 0 && count) {
                resp->keys = arena_alloc(a, count * sizeof(*resp->keys));
                for (size_t i = 0; rc == 0 && i < count; i++) {
                    rc = mdb_cursor_get(c, &k, &d, i ? MDB_NEXT_DUP : MDB_FIRST_DUP);
                    if (rc == 0) {
                        resp->keys[i].data = arena_dup(a, d.mv_data, d.mv_size);
                        resp->keys[i].len = d.mv_size;
                        resp->n_keys = i + 1;
                    }
                }
            }
            mdb_cursor_close(c);
            if (rc && rc != MDB_NOTFOUND)
                err = lmdb_fail(rc, "lease keys");
        }
    }
    read_end(&v);
    result_set(res, err, resp);
    return err;
}

/* Visits every lease record in id order. */
static int lease_scan(struct store_mvcc *m, struct view *v,
                      void (*cb)(void *ctx, const struct store_mvcc_lease *l), void *ctx)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(v->txn, m->lease, &c);
    if (rc)
        return lmdb_fail(rc, "cursor open");
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != 8 || d.mv_size != 16)
            continue;
        struct store_mvcc_lease l = {(int64_t)get_be64(k.mv_data), (int64_t)get_be64(d.mv_data),
                                     (int64_t)get_be64((uint8_t *)d.mv_data + 8)};
        cb(ctx, &l);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : lmdb_fail(rc, "lease scan");
}

struct lease_vec {
    struct store_mvcc_lease *v;
    size_t n, cap;
};

static void lease_vec_cb(void *ctx, const struct store_mvcc_lease *l)
{
    struct lease_vec *lv = ctx;
    if (lv->n == lv->cap) {
        lv->cap = lv->cap ? lv->cap * 2 : 16;
        lv->v = k8c_realloc(lv->v, lv->cap * sizeof(*lv->v));
    }
    lv->v[lv->n++] = *l;
}

int store_mvcc_lease_list(struct store_mvcc *m, struct store_mvcc_lease **out, size_t *n)
{
    struct view v;
    *out = NULL;
    *n = 0;
    int err = read_begin(m, &v);
    if (err)
        return err;
    struct lease_vec lv = {0};
    err = lease_scan(m, &v, lease_vec_cb, &lv);
    read_end(&v);
    if (err) {
        k8c_free(lv.v);
        return err;
    }
    *out = lv.v;
    *n = lv.n;
    return 0;
}

int store_mvcc_lease_leases(struct store_mvcc *m, struct store_mvcc_result *res)
{
    struct store_mvcc_lease *ls;
    size_t n;
    int64_t rev = 0;
    res->resp = NULL;
    int err = store_mvcc_lease_list(m, &ls, &n);
    if (!err) {
        struct store_mvcc_status st;
        err = store_mvcc_status(m, &st);
        rev = st.revision;
    }
    if (err) {
        res->err = err;
        return err;
    }
    if (!res->arena)
        res->arena = arena_new();
    struct store_mvcc_arena *a = res->arena;
    Etcdserverpb__LeaseLeasesResponse *resp = arena_alloc(a, sizeof(*resp));
    etcdserverpb__lease_leases_response__init(resp);
    resp->header = header_new(a, rev);
    resp->n_leases = n;
    resp->leases = n ? arena_alloc(a, n * sizeof(*resp->leases)) : NULL;
    for (size_t i = 0; i < n; i++) {
        resp->leases[i] = arena_alloc(a, sizeof(**resp->leases));
        etcdserverpb__lease_status__init(resp->leases[i]);
        resp->leases[i]->id = ls[i].id;
    }
    k8c_free(ls);
    result_set(res, 0, resp);
    return 0;
}

int store_mvcc_member_list(struct store_mvcc *m, struct store_mvcc_member **out, size_t *n)
{
    struct view v;
    *out = NULL;
    *n = 0;
    int err = read_begin(m, &v);
    if (err)
        return err;
    MDB_cursor *c;
    int rc = mdb_cursor_open(v.txn, m->members, &c);
    struct store_mvcc_member *list = NULL;
    size_t cnt = 0, cap = 0;
    if (rc == 0) {
        MDB_val k, d;
        for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
            if (k.mv_size != 8)
                continue;
            if (cnt == cap) {
                cap = cap ? cap * 2 : 8;
                list = k8c_realloc(list, cap * sizeof(*list));
            }
            list[cnt].id = get_be64(k.mv_data);
            list[cnt].len = d.mv_size;
            list[cnt].data = k8c_malloc(d.mv_size ? d.mv_size : 1);
            memcpy(list[cnt].data, d.mv_data, d.mv_size);
            cnt++;
        }
        mdb_cursor_close(c);
    }
    read_end(&v);
    if (rc != MDB_NOTFOUND) {
        store_mvcc_members_free(list, cnt);
        return lmdb_fail(rc, "members scan");
    }
    *out = list;
    *n = cnt;
    return 0;
}

void store_mvcc_members_free(struct store_mvcc_member *members, size_t n)
{
    for (size_t i = 0; members && i < n; i++)
        k8c_free(members[i].data);
    k8c_free(members);
}

/* Counts the pages on LMDB's free list (what mdb_stat -f reports). */
static int free_pages(MDB_txn *txn, int64_t *out)
{
    MDB_cursor *c;
    *out = 0;
    int rc = mdb_cursor_open(txn, 0 /* FREE_DBI */, &c);
    if (rc)
        return lmdb_fail(rc, "cursor open");
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (d.mv_size >= sizeof(size_t)) {
            size_t cnt;
            memcpy(&cnt, d.mv_data, sizeof(cnt)); /* an IDL: count, then page numbers */
            *out += (int64_t)cnt;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : lmdb_fail(rc, "freelist scan");
}

uint64_t store_mvcc_pages_bytes(struct store_mvcc *m)
{
    MDB_envinfo info;
    MDB_stat est;
    if (mdb_env_info(m->env, &info) != 0 || mdb_env_stat(m->env, &est) != 0)
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * est.ms_psize;
}

int store_mvcc_status(struct store_mvcc *m, struct store_mvcc_status *st)
{
    struct view v;
    memset(st, 0, sizeof(*st));
    int err = read_begin(m, &v);
    if (err)
        return err;
    int64_t ai = 0, at = 0, kvb = 0, freep = 0;
    st->revision = v.rev;
    st->compact_revision = v.compact_rev;
    if (meta_get_i64(v.txn, m->meta, "applied_index", &ai) < 0 ||
        meta_get_i64(v.txn, m->meta, "applied_term", &at) < 0 ||
        meta_get_i64(v.txn, m->meta, "kv_bytes", &kvb) < 0 || free_pages(v.txn, &freep) < 0 ||
        alarms_refresh_nospace(m, v.txn, &st->nospace_alarm) < 0)
        err = K8C_EIO;
    MDB_envinfo info;
    MDB_stat est;
    mdb_env_info(m->env, &info);
    mdb_env_stat(m->env, &est);
    char path[4096];
    snprintf(path, sizeof(path), "%s/data.mdb", m->dir);
    read_end(&v);
    struct stat sb;
    if (stat(path, &sb) == 0)
        st->db_size = sb.st_size;
    st->applied_index = (uint64_t)ai;
    st->applied_term = (uint64_t)at;
    st->kv_bytes = kvb;
    st->quota_bytes = m->quota;
    st->db_size_in_use = ((int64_t)info.me_last_pgno + 1 - freep) * est.ms_psize;
    return err;
}

bool store_mvcc_quota_available(struct store_mvcc *m, int64_t cost)
{
    if (atomic_load(&m->pub_nospace))
        return false;
    return atomic_load(&m->pub_kv_bytes) + cost <= m->quota;
}

int64_t store_mvcc_request_cost(const ProtobufCMessage *req)
{
    if (req->descriptor == &etcdserverpb__put_request__descriptor) {
        const Etcdserverpb__PutRequest *p = (const void *)req;
        return rev_cost(p->key.len, p->value.len);
    }
    if (req->descriptor == &etcdserverpb__txn_request__descriptor) {
        const Etcdserverpb__TxnRequest *t = (const void *)req;
        int64_t s = 0, f = 0;
        for (size_t i = 0; i < t->n_success; i++)
            if (t->success[i]->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT)
                s += store_mvcc_request_cost(&t->success[i]->request_put->base);
        for (size_t i = 0; i < t->n_failure; i++)
            if (t->failure[i]->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT)
                f += store_mvcc_request_cost(&t->failure[i]->request_put->base);
        return s > f ? s : f;
    }
    return 0;
}

/* --------------------------------------------------------------- hashes */

int store_mvcc_hash_kv(struct store_mvcc *m, int64_t rev, uint32_t *hash, int64_t *compact_rev,
                       int64_t *cur_rev)
{
    pthread_once(&crc_once, crc_init);
    struct view v;
    int err = read_begin(m, &v);
    if (err)
        return err;
    if (compact_rev)
        *compact_rev = v.compact_rev;
    if (cur_rev)
        *cur_rev = v.rev;
    if (rev > 0 && rev <= v.compact_rev) {
        read_end(&v);
        return K8C_ETCD_COMPACTED;
    }
    if (rev > v.rev) {
        read_end(&v);
        return K8C_ETCD_FUTURE_REV;
    }
    if (rev <= 0)
        rev = v.rev;
    uint32_t h = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(v.txn, m->kv, &c);
    if (rc == 0) {
        MDB_val k, d;
        for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
            if (k.mv_size != REVKEY_SIZE || (int64_t)get_be64(k.mv_data) > rev)
                break;
            h = crc32c_update(h, k.mv_data, k.mv_size);
            h = crc32c_update(h, d.mv_data, d.mv_size);
        }
        mdb_cursor_close(c);
    }
    read_end(&v);
    if (rc && rc != MDB_NOTFOUND)
        return lmdb_fail(rc, "hash scan");
    if (hash)
        *hash = h;
    return 0;
}

static int hash_dbi(MDB_txn *txn, MDB_dbi dbi, const char *name, bool skip_applied, uint32_t *h)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc)
        return lmdb_fail(rc, "cursor open");
    *h = crc32c_update(*h, name, strlen(name));
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (skip_applied && k.mv_size >= 8 && memcmp(k.mv_data, "applied_", 8) == 0)
            continue;
        *h = crc32c_update(*h, k.mv_data, k.mv_size);
        *h = crc32c_update(*h, d.mv_data, d.mv_size);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : lmdb_fail(rc, "hash scan");
}

int store_mvcc_hash(struct store_mvcc *m, uint32_t *hash)
{
    pthread_once(&crc_once, crc_init);
    struct view v;
    int err = read_begin(m, &v);
    if (err)
        return err;
    uint32_t h = 0;
    err = hash_dbi(v.txn, m->kv, "kv", false, &h);
    if (!err)
        err = hash_dbi(v.txn, m->index, "index", false, &h);
    if (!err)
        err = hash_dbi(v.txn, m->meta, "meta", true, &h);
    if (!err)
        err = hash_dbi(v.txn, m->lease, "lease", false, &h);
    if (!err)
        err = hash_dbi(v.txn, m->lease_keys, "lease_keys", false, &h);
    if (!err)
        err = hash_dbi(v.txn, m->members, "members", false, &h);
    if (!err)
        err = hash_dbi(v.txn, m->alarms, "alarms", false, &h);
    read_end(&v);
    if (!err)
        *hash = h;
    return err;
}

/* -------------------------------------------------------------- history */

int store_mvcc_history(struct store_mvcc *m, const struct store_mvcc_history_query *q,
                       struct store_mvcc_events **out, int64_t *next_rev)
{
    *out = NULL;
    struct view v;
    int err = read_begin(m, &v);
    if (err)
        return err;
    if (q->start_rev < v.compact_rev) {
        read_end(&v);
        return K8C_ETCD_COMPACTED;
    }
    int64_t end = q->end_rev > 0 && q->end_rev < v.rev ? q->end_rev : v.rev;
    int64_t start = q->start_rev > 0 ? q->start_rev : 1;
    struct krange kr;
    krange_init(&kr, q->key, q->key_len, q->range_end, q->range_end_len);
    struct store_mvcc_events *ev = events_new();
    ev->revision = v.rev;
    int64_t next = end + 1;
    MDB_cursor *c;
    int rc = mdb_cursor_open(v.txn, m->kv, &c);
    if (rc) {
        err = lmdb_fail(rc, "cursor open");
        goto done;
    }
    uint8_t kb[REVKEY_SIZE];
    revkey_encode(kb, start, 0);
    MDB_val k = {REVKEY_SIZE, kb}, d;
    int64_t last_main = -1;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        struct rec r;
        if ((err = rec_decode(&k, &d, &r)))
            break;
        if (r.mod > end)
            break;
        if (q->max_events && ev->n >= q->max_events && r.mod != last_main) {
            next = r.mod;
            break;
        }
        if (!krange_contains(&kr, r.key, r.key_len))
            continue;
        last_main = r.mod;
        Mvccpb__Event *e = arena_alloc(ev->arena, sizeof(*e));
        mvccpb__event__init(e);
        if (r.flags & FLAG_TOMB) {
            e->type = MVCCPB__EVENT__EVENT_TYPE__DELETE;
            e->kv = arena_alloc(ev->arena, sizeof(*e->kv));
            mvccpb__key_value__init(e->kv);
            e->kv->key.data = arena_dup(ev->arena, r.key, r.key_len);
            e->kv->key.len = r.key_len;
            e->kv->mod_revision = r.mod;
        } else {
            e->type = MVCCPB__EVENT__EVENT_TYPE__PUT;
            e->kv = kv_from_rec(ev->arena, &r, false);
        }
        if (q->prev_kv) {
            struct rec pr;
            int prc = key_live(&v, r.key, r.key_len, r.mod - 1, &pr, NULL);
            if (prc < 0) {
                err = prc;
                break;
            }
            if (prc == 0)
                e->prev_kv = kv_from_rec(ev->arena, &pr, false);
        }
        events_push(ev, e);
    }
    mdb_cursor_close(c);
    if (!err && rc && rc != MDB_NOTFOUND)
        err = lmdb_fail(rc, "history scan");
done:
    read_end(&v);
    if (err) {
        store_mvcc_events_free(ev);
        return err;
    }
    if (next_rev)
        *next_rev = next;
    *out = ev;
    return 0;
}

/* ------------------------------------------------------------ snapshots */

int store_mvcc_snapshot_fd(struct store_mvcc *m, int fd, bool compact)
{
    pthread_rwlock_rdlock(&m->lock);
    int rc = m->env ? mdb_env_copyfd2(m->env, fd, compact ? MDB_CP_COMPACT : 0) : EINVAL;
    pthread_rwlock_unlock(&m->lock);
    return rc ? lmdb_fail(rc, "snapshot copy") : 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

int store_mvcc_snapshot_save(struct store_mvcc *m, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int err = store_mvcc_snapshot_fd(m, fd, true);
    if (!err && fsync(fd))
        err = -errno;
    if (close(fd) && !err)
        err = -errno;
    if (!err && rename(tmp, path))
        err = -errno;
    if (err)
        unlink(tmp);
    return err;
}

/* Opens the environment in m->dir and loads the committed state. */
static int env_open(struct store_mvcc *m, char *errmsg)
{
    int rc = mdb_env_create(&m->env);
    if (rc) {
        m->env = NULL;
        k8c_errmsg_printf(errmsg, "lmdb env create: %s", mdb_strerror(rc));
        return K8C_EIO;
    }
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (m->opts.sync ? 0 : MDB_NOSYNC);
    size_t mapsize = (size_t)(3 * m->quota + MAP_HEADROOM);
    MDB_txn *txn = NULL;
    const char *what = "env open";
    if ((rc = mdb_env_set_maxdbs(m->env, 8)) || (rc = mdb_env_set_mapsize(m->env, mapsize)) ||
        (rc = mdb_env_set_maxreaders(m->env, m->opts.max_readers ? m->opts.max_readers : 1024)) ||
        (rc = mdb_env_open(m->env, m->dir, flags, 0600)))
        goto fail;
    what = "init";
    if ((rc = mdb_txn_begin(m->env, NULL, 0, &txn)) ||
        (rc = mdb_dbi_open(txn, "kv", MDB_CREATE, &m->kv)) ||
        (rc = mdb_dbi_open(txn, "index", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &m->index)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &m->meta)) ||
        (rc = mdb_dbi_open(txn, "lease", MDB_CREATE, &m->lease)) ||
        (rc = mdb_dbi_open(txn, "lease_keys", MDB_CREATE | MDB_DUPSORT, &m->lease_keys)) ||
        (rc = mdb_dbi_open(txn, "members", MDB_CREATE, &m->members)) ||
        (rc = mdb_dbi_open(txn, "alarms", MDB_CREATE, &m->alarms)))
        goto fail;
    int64_t schema = 0;
    int err = meta_get_i64(txn, m->meta, "schema", &schema);
    if (err == 1) { /* a new store */
        if ((err = meta_put_i64(txn, m->meta, "schema", STORE_MVCC_SCHEMA)) ||
            (err = meta_put_i64(txn, m->meta, "current_rev", STORE_MVCC_FIRST_REV)) ||
            (err = meta_put_i64(txn, m->meta, "compact_rev", -1)) ||
            (err = meta_put_i64(txn, m->meta, "kv_bytes", 0)) ||
            (err = meta_put_i64(txn, m->meta, "applied_index", 0)) ||
            (err = meta_put_i64(txn, m->meta, "applied_term", 0)))
            goto fail_err;
        schema = STORE_MVCC_SCHEMA;
    } else if (err) {
        goto fail_err;
    }
    if (schema != STORE_MVCC_SCHEMA) {
        k8c_errmsg_printf(errmsg, "%s: store schema %lld, this binary reads schema %d", m->dir,
                          (long long)schema, STORE_MVCC_SCHEMA);
        mdb_txn_abort(txn);
        mdb_env_close(m->env);
        m->env = NULL;
        return K8C_EPROTO;
    }
    if ((err = meta_get_i64(txn, m->meta, "current_rev", &m->rev)) ||
        (err = meta_get_i64(txn, m->meta, "compact_rev", &m->compact_rev)) ||
        (err = meta_get_i64(txn, m->meta, "kv_bytes", &m->kv_bytes)) ||
        (err = alarms_refresh_nospace(m, txn, &m->nospace)))
        goto fail_err;
    if ((rc = mdb_txn_commit(txn))) {
        txn = NULL;
        goto fail;
    }
    m->max_key = (size_t)mdb_env_get_maxkeysize(m->env);
    atomic_store(&m->pub_kv_bytes, m->kv_bytes);
    atomic_store(&m->pub_nospace, m->nospace);
    return 0;

fail_err:
    k8c_errmsg_printf(errmsg, "%s: cannot read store metadata (%s)", m->dir, k8c_strerror(err));
    mdb_txn_abort(txn);
    mdb_env_close(m->env);
    m->env = NULL;
    return err < 0 ? err : K8C_EIO;
fail:
    k8c_errmsg_printf(errmsg, "%s: lmdb %s: %s", m->dir, what, mdb_strerror(rc));
    if (txn)
        mdb_txn_abort(txn);
    mdb_env_close(m->env);
    m->env = NULL;
    return rc > 0 ? -rc : K8C_EIO; /* LMDB returns errno values for system errors */
}

int store_mvcc_open(const struct store_mvcc_options *opts, struct store_mvcc **out, char *errmsg)
{
    char dummy[K8C_ERRMSG_SIZE];
    if (!errmsg)
        errmsg = dummy;
    *out = NULL;
    if (!opts->dir || !*opts->dir) {
        k8c_errmsg_printf(errmsg, "no data directory given");
        return K8C_EINVAL;
    }
    if (mkdir(opts->dir, 0700) && errno != EEXIST) {
        int err = -errno;
        k8c_errmsg_printf(errmsg, "cannot create data directory %s: %s", opts->dir,
                          strerror(errno));
        return err;
    }
    pthread_once(&crc_once, crc_init);
    struct store_mvcc *m = K8C_NEW(struct store_mvcc);
    m->opts = *opts;
    m->dir = k8c_strdup(opts->dir);
    m->opts.dir = m->dir;
    m->quota = opts->quota_bytes > 0 ? opts->quota_bytes : STORE_MVCC_DEFAULT_QUOTA;
    pthread_rwlock_init(&m->lock, NULL);
    int err = env_open(m, errmsg);
    if (err) {
        pthread_rwlock_destroy(&m->lock);
        k8c_free(m->dir);
        k8c_free(m);
        return err;
    }
    *out = m;
    return 0;
}

void store_mvcc_close(struct store_mvcc *m)
{
    if (!m)
        return;
    store_mvcc_abort_batch(m);
    pthread_rwlock_wrlock(&m->lock);
    if (m->env)
        mdb_env_close(m->env);
    m->env = NULL;
    pthread_rwlock_unlock(&m->lock);
    pthread_rwlock_destroy(&m->lock);
    k8c_free(m->dir);
    k8c_free(m);
}

int store_mvcc_sync(struct store_mvcc *m)
{
    pthread_rwlock_rdlock(&m->lock);
    int rc = m->env ? mdb_env_sync(m->env, 1) : EINVAL;
    pthread_rwlock_unlock(&m->lock);
    return rc ? lmdb_fail(rc, "sync") : 0;
}

int store_mvcc_writeback(struct store_mvcc *m)
{
    int fd = -1, rc = 0;
    pthread_rwlock_rdlock(&m->lock);
    if (m->env != NULL && mdb_env_get_fd(m->env, &fd) == 0 &&
        sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0)
        rc = errno;
    pthread_rwlock_unlock(&m->lock);
    if (rc != 0) {
        k8c_log_warn("cannot start the database's writeback err=%s", strerror(rc));
        return K8C_EIO;
    }
    return 0;
}

/* Checks that path is an LMDB file holding a store of our schema. */
static int snapshot_check(const char *path, int64_t *applied, char *errmsg)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    int rc = mdb_env_create(&env);
    if (rc)
        return K8C_EIO;
    int err = K8C_EPROTO;
    mdb_env_set_maxdbs(env, 8);
    rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0600);
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", 0, &meta);
    int64_t schema = 0;
    if (rc == 0 && meta_get_i64(txn, meta, "schema", &schema) == 0 && schema == STORE_MVCC_SCHEMA)
        err = 0;
    if (err == 0 && applied != NULL && meta_get_i64(txn, meta, "applied_index", applied) != 0)
        *applied = 0;
    if (txn)
        mdb_txn_abort(txn);
    mdb_env_close(env);
    if (err)
        k8c_errmsg_printf(errmsg, "%s is not a k8c store snapshot (%s)", path,
                          rc ? mdb_strerror(rc) : "wrong schema");
    return err;
}

int store_mvcc_snapshot_applied(const char *path, uint64_t *applied, char *errmsg)
{
    int64_t ai = 0;
    int err = snapshot_check(path, &ai, errmsg);
    *applied = err == 0 && ai > 0 ? (uint64_t)ai : 0;
    return err;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        int err = -errno;
        close(in);
        return err;
    }
    int err = 0;
    char *buf = k8c_malloc(1 << 16);
    for (;;) {
        ssize_t n = read(in, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                err = -errno;
                break;
            }
            off += w;
        }
        if (err)
            break;
    }
    k8c_free(buf);
    if (!err && fsync(out))
        err = -errno;
    close(in);
    if (close(out) && !err)
        err = -errno;
    return err;
}

int store_mvcc_restore(struct store_mvcc *m, const char *path, char *errmsg)
{
    char dummy[K8C_ERRMSG_SIZE];
    if (!errmsg)
        errmsg = dummy;
    if (m->txn) {
        k8c_errmsg_printf(errmsg, "restore with an open batch");
        return K8C_EBUSY;
    }
    int err = snapshot_check(path, NULL, errmsg);
    if (err)
        return err;
    char staged[4096], data[4096];
    snprintf(staged, sizeof(staged), "%s/data.mdb.restore", m->dir);
    snprintf(data, sizeof(data), "%s/data.mdb", m->dir);
    if ((err = copy_file(path, staged))) {
        k8c_errmsg_printf(errmsg, "copy %s to %s: %s", path, staged, k8c_strerror(err));
        unlink(staged);
        return err;
    }
    pthread_rwlock_wrlock(&m->lock);
    mdb_env_close(m->env);
    m->env = NULL;
    if (rename(staged, data)) {
        err = -errno;
        k8c_errmsg_printf(errmsg, "rename %s: %s", staged, strerror(errno));
        unlink(staged);
    } else {
        fsync_dir(m->dir);
    }
    /* Reopen either way: after a failed rename the old file is still there. */
    int oerr = env_open(m, errmsg);
    pthread_rwlock_unlock(&m->lock);
    if (oerr)
        k8c_log_error("store reopen after restore failed dir=%s err=\"%s\"", m->dir, errmsg);
    return err ? err : oerr;
}
