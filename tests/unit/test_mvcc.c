/*
 * Unit tests of store/mvcc: etcd v3 semantics on LMDB, each test in its own
 * temporary data directory (removed at the end, also when an assertion fails
 * through the group teardown).
 */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "mvcc.h"

static char g_root[256];
static int g_dirs;

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int group_setup(void **state)
{
    snprintf(g_root, sizeof(g_root), "/tmp/k8c-test-mvcc-XXXXXX");
    return mkdtemp(g_root) ? 0 : -1;
}

static int group_teardown(void **state)
{
    nftw(g_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A fresh directory path under the group's temp root. */
static void new_dir(char *out, size_t n)
{
    snprintf(out, n, "%s/s%d", g_root, ++g_dirs);
}

static struct store_mvcc *open_at(const char *dir, int64_t quota)
{
    struct store_mvcc_options o = {.dir = dir, .quota_bytes = quota, .sync = false};
    struct store_mvcc *m = NULL;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = store_mvcc_open(&o, &m, err);
    if (rc)
        fprintf(stderr, "open: %s\n", err);
    assert_int_equal(rc, 0);
    return m;
}

static struct store_mvcc *open_new(char *dir, size_t n)
{
    new_dir(dir, n);
    return open_at(dir, 0);
}

static uint64_t g_index;

static ProtobufCBinaryData bin(const char *s)
{
    ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};
    return b;
}

/* Applies one request in its own batch; returns the request error. */
static int apply1(struct store_mvcc *m, const ProtobufCMessage *req, struct store_mvcc_result *res)
{
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    assert_int_equal(store_mvcc_apply(m, req, res), 0);
    assert_int_equal(store_mvcc_commit_batch(m, ++g_index, 1, NULL), 0);
    return res->err;
}

static int64_t put_full(struct store_mvcc *m, const char *k, const char *v, int64_t lease)
{
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
    p.key = bin(k);
    p.value = bin(v);
    p.lease = lease;
    struct store_mvcc_result res = {0};
    assert_int_equal(apply1(m, &p.base, &res), 0);
    int64_t rev = ((Etcdserverpb__PutResponse *)res.resp)->header->revision;
    store_mvcc_result_free(&res);
    return rev;
}

static int64_t put(struct store_mvcc *m, const char *k, const char *v)
{
    return put_full(m, k, v, 0);
}

static int64_t del(struct store_mvcc *m, const char *k, const char *end, int64_t *deleted)
{
    Etcdserverpb__DeleteRangeRequest d = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    d.key = bin(k);
    if (end)
        d.range_end = end[0] ? bin(end) : (ProtobufCBinaryData){1, (uint8_t *)""};
    struct store_mvcc_result res = {0};
    assert_int_equal(apply1(m, &d.base, &res), 0);
    Etcdserverpb__DeleteRangeResponse *r = (void *)res.resp;
    int64_t rev = r->header->revision;
    if (deleted)
        *deleted = r->deleted;
    store_mvcc_result_free(&res);
    return rev;
}

/* Range with a request the caller prepared; res must be freed. */
static Etcdserverpb__RangeResponse *
range_req(struct store_mvcc *m, const Etcdserverpb__RangeRequest *r, struct store_mvcc_result *res)
{
    int rc = store_mvcc_range(m, r, res);
    assert_int_equal(rc, res->err);
    return rc ? NULL : (Etcdserverpb__RangeResponse *)res->resp;
}

static Etcdserverpb__RangeResponse *get_at(struct store_mvcc *m, const char *k, int64_t rev,
                                           struct store_mvcc_result *res)
{
    Etcdserverpb__RangeRequest r = ETCDSERVERPB__RANGE_REQUEST__INIT;
    r.key = bin(k);
    r.revision = rev;
    return range_req(m, &r, res);
}

static void expect_kv(const Mvccpb__KeyValue *kv, const char *k, const char *v, int64_t create,
                      int64_t mod, int64_t version)
{
    assert_int_equal(kv->key.len, strlen(k));
    assert_memory_equal(kv->key.data, k, strlen(k));
    if (v) {
        assert_int_equal(kv->value.len, strlen(v));
        if (kv->value.len)
            assert_memory_equal(kv->value.data, v, strlen(v));
    }
    assert_int_equal(kv->create_revision, create);
    assert_int_equal(kv->mod_revision, mod);
    assert_int_equal(kv->version, version);
}

static int64_t cur_rev(struct store_mvcc *m)
{
    struct store_mvcc_status st;
    assert_int_equal(store_mvcc_status(m, &st), 0);
    return st.revision;
}

/* ------------------------------------------------------------------------ */

static void test_revisions_versions(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    assert_int_equal(cur_rev(m), 1); /* etcd: empty store at revision 1 */
    assert_int_equal(put(m, "a", "v1"), 2);
    assert_int_equal(put(m, "a", "v2"), 3);
    assert_int_equal(put(m, "b", "x"), 4);
    int64_t n;
    assert_int_equal(del(m, "a", NULL, &n), 5);
    assert_int_equal(n, 1);
    /* deleting nothing does not bump the revision */
    assert_int_equal(del(m, "zzz", NULL, &n), 5);
    assert_int_equal(n, 0);
    assert_int_equal(put(m, "a", "v3"), 6);

    struct store_mvcc_result res = {0};
    Etcdserverpb__RangeResponse *r = get_at(m, "a", 0, &res);
    assert_int_equal(r->header->revision, 6);
    assert_int_equal(r->n_kvs, 1);
    expect_kv(r->kvs[0], "a", "v3", 6, 6, 1); /* recreated: new create rev, version 1 */
    store_mvcc_result_free(&res);

    r = get_at(m, "a", 3, &res);
    assert_int_equal(r->header->revision, 6); /* header is the current revision */
    expect_kv(r->kvs[0], "a", "v2", 2, 3, 2);
    store_mvcc_result_free(&res);
    r = get_at(m, "a", 2, &res);
    expect_kv(r->kvs[0], "a", "v1", 2, 2, 1);
    store_mvcc_result_free(&res);
    r = get_at(m, "a", 5, &res);
    assert_int_equal(r->n_kvs, 0);
    assert_int_equal(r->count, 0);
    store_mvcc_result_free(&res);
    r = get_at(m, "a", 1, &res);
    assert_int_equal(r->n_kvs, 0);
    store_mvcc_result_free(&res);

    assert_null(get_at(m, "a", 7, &res));
    assert_int_equal(res.err, K8C_ETCD_FUTURE_REV);
    assert_string_equal(k8c_strerror(res.err),
                        "etcdserver: mvcc: required revision is a future revision");
    store_mvcc_result_free(&res);
    assert_null(get_at(m, "", 0, &res));
    assert_int_equal(res.err, K8C_ETCD_EMPTY_KEY);
    store_mvcc_result_free(&res);
    store_mvcc_close(m);
}

static void test_range_options(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    /* keys with distinct create/mod/version/value orders */
    put(m, "k/c", "3");   /* rev 2 */
    put(m, "k/a", "5");   /* rev 3 */
    put(m, "k/b", "1");   /* rev 4 */
    put(m, "k/a", "2");   /* rev 5: a ver 2 */
    put(m, "k/a", "4");   /* rev 6: a ver 3 */
    put(m, "k/d", "0");   /* rev 7 */
    put(m, "other", "z"); /* rev 8 */
    put(m, "k0", "y");    /* rev 9: "k0" > "k/" prefix end */

    struct store_mvcc_result res = {0};
    Etcdserverpb__RangeRequest q = ETCDSERVERPB__RANGE_REQUEST__INIT;
    q.key = bin("k/");
    q.range_end = bin("k0"); /* prefix k/ */
    Etcdserverpb__RangeResponse *r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 4);
    assert_int_equal(r->count, 4);
    assert_false(r->more);
    expect_kv(r->kvs[0], "k/a", "4", 3, 6, 3);
    expect_kv(r->kvs[1], "k/b", "1", 4, 4, 1);
    expect_kv(r->kvs[3], "k/d", "0", 7, 7, 1);
    store_mvcc_result_free(&res);

    /* limit: more + count of the whole range */
    q.limit = 2;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 2);
    assert_true(r->more);
    assert_int_equal(r->count, 4);
    store_mvcc_result_free(&res);
    q.limit = 4;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 4);
    assert_false(r->more);
    store_mvcc_result_free(&res);
    q.limit = 0;

    /* "\0" = every key >= key */
    Etcdserverpb__RangeRequest all = ETCDSERVERPB__RANGE_REQUEST__INIT;
    all.key = bin("k/b");
    all.range_end = (ProtobufCBinaryData){1, (uint8_t *)""};
    r = range_req(m, &all, &res);
    assert_int_equal(r->n_kvs, 5); /* k/b k/c k/d k0 other */
    expect_kv(r->kvs[4], "other", "z", 8, 8, 1);
    store_mvcc_result_free(&res);
    /* range_end <= key: nothing */
    all.range_end = bin("k/a");
    r = range_req(m, &all, &res);
    assert_int_equal(r->n_kvs, 0);
    assert_int_equal(r->count, 0);
    store_mvcc_result_free(&res);

    /* sorting: each target, both orders; a non-KEY target alone sorts ascending */
    struct {
        int target, order;
        const char *first, *last;
    } sorts[] = {
        {ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__KEY,
         ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND, "k/d", "k/a"},
        {ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VERSION,
         ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND, "k/a", "k/d"},
        {ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__CREATE,
         ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND, "k/c", "k/d"},
        {ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__MOD,
         ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND, "k/d", "k/c"},
        {ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VALUE,
         ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE, "k/d", "k/a"},
        {ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VALUE,
         ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND, "k/a", "k/d"},
    };
    for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
        q.sort_target = sorts[i].target;
        q.sort_order = sorts[i].order;
        r = range_req(m, &q, &res);
        assert_int_equal(r->n_kvs, 4);
        assert_memory_equal(r->kvs[0]->key.data, sorts[i].first, 3);
        assert_memory_equal(r->kvs[3]->key.data, sorts[i].last, 3);
        store_mvcc_result_free(&res);
    }
    /* sort + limit: sorted over the whole range, then cut */
    q.sort_target = ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__MOD;
    q.sort_order = ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND;
    q.limit = 1;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 1);
    assert_true(r->more);
    assert_memory_equal(r->kvs[0]->key.data, "k/d", 3);
    store_mvcc_result_free(&res);
    q.limit = 0;
    q.sort_target = 0;
    q.sort_order = 0;

    /* keys_only, count_only */
    q.keys_only = true;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 4);
    assert_int_equal(r->kvs[0]->value.len, 0);
    assert_int_equal(r->kvs[0]->version, 3);
    store_mvcc_result_free(&res);
    q.keys_only = false;
    q.count_only = true;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 0);
    assert_int_equal(r->count, 4);
    store_mvcc_result_free(&res);
    q.count_only = false;

    /* filters prune after counting */
    q.min_mod_revision = 5;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 2); /* k/a (6), k/d (7) */
    assert_int_equal(r->count, 4);
    store_mvcc_result_free(&res);
    q.min_mod_revision = 0;
    q.max_mod_revision = 4;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 2); /* k/b (4), k/c (2) */
    store_mvcc_result_free(&res);
    q.max_mod_revision = 0;
    q.min_create_revision = 3;
    q.max_create_revision = 4;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 2); /* k/a (3), k/b (4) */
    store_mvcc_result_free(&res);
    q.min_create_revision = 0;
    q.max_create_revision = 0;

    /* range at an old revision */
    q.revision = 4;
    r = range_req(m, &q, &res);
    assert_int_equal(r->n_kvs, 3);
    expect_kv(r->kvs[0], "k/a", "5", 3, 3, 1);
    store_mvcc_result_free(&res);

    /* invalid sort option */
    q.sort_order = 7;
    assert_null(range_req(m, &q, &res));
    assert_int_equal(res.err, K8C_EINVAL);
    store_mvcc_result_free(&res);
    store_mvcc_close(m);
}

static void test_put_options(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    struct store_mvcc_result res = {0};
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;

    /* ignore_value on a missing key */
    p.key = bin("a");
    p.ignore_value = true;
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_KEY_NOT_FOUND);
    assert_string_equal(k8c_strerror(res.err), "etcdserver: key not found");
    assert_int_equal(store_mvcc_grpc_status(res.err), 3);
    store_mvcc_result_free(&res);
    /* value with ignore_value / lease with ignore_lease */
    p.value = bin("x");
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_VALUE_PROVIDED);
    store_mvcc_result_free(&res);
    p.ignore_value = false;
    p.ignore_lease = true;
    p.lease = 5;
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_LEASE_PROVIDED);
    store_mvcc_result_free(&res);
    p.ignore_lease = false;
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_LEASE_NOT_FOUND);
    assert_string_equal(k8c_strerror(res.err), "etcdserver: requested lease not found");
    assert_int_equal(store_mvcc_grpc_status(res.err), 5);
    store_mvcc_result_free(&res);
    p.lease = 0;
    p.key = bin("");
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_EMPTY_KEY);
    store_mvcc_result_free(&res);
    char big[600];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    p.key = bin(big);
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_REQUEST_TOO_LARGE);
    store_mvcc_result_free(&res);
    assert_int_equal(cur_rev(m), 1); /* none of that wrote anything */

    /* lease attach, then ignore_value keeps value, ignore_lease keeps lease */
    Etcdserverpb__LeaseGrantRequest g = ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
    g.id = 77;
    g.ttl = 60;
    assert_int_equal(apply1(m, &g.base, &res), 0);
    store_mvcc_result_free(&res);
    put_full(m, "a", "orig", 77); /* rev 2 */
    p.key = bin("a");
    p.value = bin("");
    p.ignore_value = true;
    p.prev_kv = true;
    assert_int_equal(apply1(m, &p.base, &res), 0); /* rev 3, lease dropped (lease 0) */
    Etcdserverpb__PutResponse *pr = (void *)res.resp;
    assert_int_equal(pr->header->revision, 3);
    assert_non_null(pr->prev_kv);
    expect_kv(pr->prev_kv, "a", "orig", 2, 2, 1);
    assert_int_equal(pr->prev_kv->lease, 77);
    store_mvcc_result_free(&res);
    struct store_mvcc_result gr = {0};
    Etcdserverpb__RangeResponse *r = get_at(m, "a", 0, &gr);
    expect_kv(r->kvs[0], "a", "orig", 2, 3, 2);
    assert_int_equal(r->kvs[0]->lease, 0);
    store_mvcc_result_free(&gr);

    put_full(m, "a", "second", 77); /* rev 4 */
    p.ignore_value = false;
    p.ignore_lease = true;
    p.value = bin("third");
    p.prev_kv = false;
    assert_int_equal(apply1(m, &p.base, &res), 0);
    assert_null(((Etcdserverpb__PutResponse *)res.resp)->prev_kv);
    store_mvcc_result_free(&res);
    r = get_at(m, "a", 0, &gr);
    expect_kv(r->kvs[0], "a", "third", 2, 5, 4);
    assert_int_equal(r->kvs[0]->lease, 77);
    store_mvcc_result_free(&gr);

    /* delete with prev_kv over a range */
    put(m, "b", "bv");
    put(m, "c", "cv");
    Etcdserverpb__DeleteRangeRequest d = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    d.key = bin("b");
    d.range_end = bin("d");
    d.prev_kv = true;
    assert_int_equal(apply1(m, &d.base, &res), 0);
    Etcdserverpb__DeleteRangeResponse *dr = (void *)res.resp;
    assert_int_equal(dr->deleted, 2);
    assert_int_equal(dr->n_prev_kvs, 2);
    expect_kv(dr->prev_kvs[1], "c", "cv", 7, 7, 1);
    assert_int_equal(dr->header->revision, 8);
    store_mvcc_result_free(&res);
    store_mvcc_close(m);
}

static Etcdserverpb__Compare *mkcmp(Etcdserverpb__Compare *c, const char *key, int target,
                                    int result, int64_t num, const char *val)
{
    etcdserverpb__compare__init(c);
    c->key = bin(key);
    c->target = target;
    c->result = result;
    switch (target) {
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION:
        c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION;
        c->version = num;
        break;
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE:
        c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
        c->create_revision = num;
        break;
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD:
        c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
        c->mod_revision = num;
        break;
    case ETCDSERVERPB__COMPARE__COMPARE_TARGET__LEASE:
        c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_LEASE;
        c->lease = num;
        break;
    default:
        c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE;
        c->value = bin(val);
    }
    return c;
}

/* Runs a txn with one compare and no ops; returns succeeded. */
static bool cmp1(struct store_mvcc *m, Etcdserverpb__Compare *c)
{
    Etcdserverpb__TxnRequest t = ETCDSERVERPB__TXN_REQUEST__INIT;
    t.n_compare = 1;
    t.compare = &c;
    struct store_mvcc_result res = {0};
    assert_int_equal(apply1(m, &t.base, &res), 0);
    bool ok = ((Etcdserverpb__TxnResponse *)res.resp)->succeeded;
    store_mvcc_result_free(&res);
    return ok;
}

static void test_txn(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    put(m, "a", "m"); /* 2 */
    put(m, "a", "m"); /* 3: a create 2 mod 3 ver 2 */
    put(m, "b", "q"); /* 4 */
    Etcdserverpb__Compare c;
    enum { EQ = 0, GT = 1, LT = 2, NE = 3 };
    enum { VER = 0, CRE = 1, MOD = 2, VAL = 3, LEA = 4 };
    /* the matrix: {target, value} against each result */
    struct {
        int target;
        int64_t num;
        const char *val;
        bool eq, gt, lt;
    } cases[] = {
        {VER, 2, NULL, true, false, false}, {VER, 1, NULL, false, true, false},
        {VER, 3, NULL, false, false, true}, {CRE, 2, NULL, true, false, false},
        {CRE, 5, NULL, false, false, true}, {MOD, 3, NULL, true, false, false},
        {MOD, 2, NULL, false, true, false}, {VAL, 0, "m", true, false, false},
        {VAL, 0, "a", false, true, false},  {VAL, 0, "z", false, false, true},
        {LEA, 0, NULL, true, false, false}, {LEA, 9, NULL, false, false, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int t = cases[i].target;
        assert_int_equal(cmp1(m, mkcmp(&c, "a", t, EQ, cases[i].num, cases[i].val)), cases[i].eq);
        assert_int_equal(cmp1(m, mkcmp(&c, "a", t, GT, cases[i].num, cases[i].val)), cases[i].gt);
        assert_int_equal(cmp1(m, mkcmp(&c, "a", t, LT, cases[i].num, cases[i].val)), cases[i].lt);
        assert_int_equal(cmp1(m, mkcmp(&c, "a", t, NE, cases[i].num, cases[i].val)), !cases[i].eq);
    }
    /* missing key: version/create/mod compare as 0, a VALUE compare always fails */
    assert_true(cmp1(m, mkcmp(&c, "nope", VER, EQ, 0, NULL)));
    assert_true(cmp1(m, mkcmp(&c, "nope", CRE, EQ, 0, NULL)));
    assert_false(cmp1(m, mkcmp(&c, "nope", VAL, EQ, 0, "")));
    assert_false(cmp1(m, mkcmp(&c, "nope", VAL, NE, 0, "x")));
    /* range compares: every key in [a, c) must match */
    mkcmp(&c, "a", MOD, GT, 2, NULL);
    c.range_end = bin("c");
    assert_true(cmp1(m, &c)); /* a:3 b:4 */
    mkcmp(&c, "a", MOD, GT, 3, NULL);
    c.range_end = bin("c");
    assert_false(cmp1(m, &c));
    /* read-only txns never bump the revision */
    assert_int_equal(cur_rev(m), 4);

    /* success branch: put x, put y, delete b, range a, nested txn putting z */
    Etcdserverpb__PutRequest px = ETCDSERVERPB__PUT_REQUEST__INIT, py = px, pz = px, pw = px;
    px.key = bin("x");
    px.value = bin("1");
    py.key = bin("y");
    py.value = bin("2");
    pz.key = bin("z");
    pz.value = bin("3");
    pw.key = bin("w");
    pw.value = bin("never");
    Etcdserverpb__DeleteRangeRequest db = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    db.key = bin("b");
    Etcdserverpb__RangeRequest rx = ETCDSERVERPB__RANGE_REQUEST__INIT;
    rx.key = bin("x"); /* sees the txn's own put */
    Etcdserverpb__RequestOp o[6];
    for (int i = 0; i < 6; i++)
        etcdserverpb__request_op__init(&o[i]);
    o[0].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
    o[0].request_put = &px;
    o[1].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
    o[1].request_put = &py;
    o[2].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
    o[2].request_delete_range = &db;
    o[3].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
    o[3].request_range = &rx;
    /* nested: compare evaluated on the pre-txn state: x does not exist yet */
    Etcdserverpb__Compare nc, *ncp = &nc;
    mkcmp(&nc, "x", VER, EQ, 0, NULL);
    Etcdserverpb__RequestOp no[2], *nop[1] = {&no[0]}, *nfp[1] = {&no[1]};
    etcdserverpb__request_op__init(&no[0]);
    etcdserverpb__request_op__init(&no[1]);
    no[0].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
    no[0].request_put = &pz;
    no[1].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
    no[1].request_put = &pw;
    Etcdserverpb__TxnRequest nested = ETCDSERVERPB__TXN_REQUEST__INIT;
    nested.n_compare = 1;
    nested.compare = &ncp;
    nested.n_success = 1;
    nested.success = nop;
    nested.n_failure = 1;
    nested.failure = nfp;
    o[4].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN;
    o[4].request_txn = &nested;
    Etcdserverpb__RequestOp *ops[5] = {&o[0], &o[1], &o[2], &o[3], &o[4]};
    Etcdserverpb__TxnRequest t = ETCDSERVERPB__TXN_REQUEST__INIT;
    Etcdserverpb__Compare top, *topp = &top;
    mkcmp(&top, "a", VAL, EQ, 0, "m");
    t.n_compare = 1;
    t.compare = &topp;
    t.n_success = 5;
    t.success = ops;

    struct store_mvcc_result res = {0};
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    assert_int_equal(store_mvcc_apply(m, &t.base, &res), 0);
    struct store_mvcc_events *ev = NULL;
    assert_int_equal(store_mvcc_commit_batch(m, ++g_index, 1, &ev), 0);
    assert_int_equal(res.err, 0);
    Etcdserverpb__TxnResponse *tr = (void *)res.resp;
    assert_true(tr->succeeded);
    assert_int_equal(tr->header->revision, 5); /* one revision for the whole txn */
    assert_int_equal(tr->n_responses, 5);
    assert_int_equal(tr->responses[0]->response_put->header->revision, 5);
    assert_int_equal(tr->responses[2]->response_delete_range->deleted, 1);
    Etcdserverpb__RangeResponse *inner = tr->responses[3]->response_range;
    assert_int_equal(inner->n_kvs, 1);
    expect_kv(inner->kvs[0], "x", "1", 5, 5, 1);
    Etcdserverpb__TxnResponse *ntr = tr->responses[4]->response_txn;
    assert_true(ntr->succeeded);
    assert_int_equal(ntr->n_responses, 1);
    store_mvcc_result_free(&res);
    /* events: x, y, b(delete), z all at revision 5 in sub-revision order */
    assert_int_equal(ev->n, 4);
    assert_int_equal(ev->revision, 5);
    for (size_t i = 0; i < ev->n; i++)
        assert_int_equal(ev->events[i]->kv->mod_revision, 5);
    assert_int_equal(ev->events[2]->type, MVCCPB__EVENT__EVENT_TYPE__DELETE);
    assert_memory_equal(ev->events[2]->kv->key.data, "b", 1);
    assert_non_null(ev->events[2]->prev_kv);
    assert_memory_equal(ev->events[3]->kv->key.data, "z", 1);
    store_mvcc_events_free(ev);
    assert_int_equal(cur_rev(m), 5);
    Etcdserverpb__RangeResponse *r = get_at(m, "w", 0, &res);
    assert_int_equal(r->n_kvs, 0);
    store_mvcc_result_free(&res);

    /* failure branch runs when the compare fails */
    mkcmp(&top, "a", VAL, EQ, 0, "nomatch");
    t.n_success = 0;
    Etcdserverpb__RequestOp *fops[1] = {&o[3]};
    t.n_failure = 1;
    t.failure = fops;
    assert_int_equal(apply1(m, &t.base, &res), 0);
    tr = (void *)res.resp;
    assert_false(tr->succeeded);
    assert_int_equal(tr->n_responses, 1);
    assert_int_equal(tr->header->revision, 5);
    store_mvcc_result_free(&res);

    /* duplicate key in one txn */
    Etcdserverpb__RequestOp *dup[2] = {&o[0], &o[0]};
    t.n_success = 2;
    t.success = dup;
    t.n_failure = 0;
    assert_int_equal(apply1(m, &t.base, &res), K8C_ETCD_DUPLICATE_KEY);
    assert_string_equal(k8c_strerror(res.err), "etcdserver: duplicate key given in txn request");
    store_mvcc_result_free(&res);
    /* put inside a delete range of the same txn */
    Etcdserverpb__DeleteRangeRequest dx = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    dx.key = bin("w");
    dx.range_end = bin("y");
    o[5].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
    o[5].request_delete_range = &dx;
    Etcdserverpb__RequestOp *dup2[2] = {&o[0], &o[5]};
    t.success = dup2;
    assert_int_equal(apply1(m, &t.base, &res), K8C_ETCD_DUPLICATE_KEY);
    store_mvcc_result_free(&res);
    /* same key in both branches of one nested txn is fine */
    pw.key = bin("z");
    Etcdserverpb__RequestOp *nest1[1] = {&o[4]};
    t.n_success = 1;
    t.success = nest1;
    assert_int_equal(apply1(m, &t.base, &res), 0);
    store_mvcc_result_free(&res);
    /* too many ops */
    Etcdserverpb__RequestOp *many[STORE_MVCC_MAX_TXN_OPS + 1];
    for (int i = 0; i <= STORE_MVCC_MAX_TXN_OPS; i++)
        many[i] = &o[3];
    t.n_success = STORE_MVCC_MAX_TXN_OPS + 1;
    t.success = many;
    assert_int_equal(apply1(m, &t.base, &res), K8C_ETCD_TOO_MANY_OPS);
    assert_int_equal(store_mvcc_grpc_status(res.err), 3);
    store_mvcc_result_free(&res);
    /* a failing check (lease not found) leaves nothing behind */
    int64_t before = cur_rev(m);
    py.lease = 4242;
    Etcdserverpb__RequestOp *bad[2] = {&o[0], &o[1]};
    t.n_success = 2;
    t.success = bad;
    t.n_compare = 0;
    assert_int_equal(apply1(m, &t.base, &res), K8C_ETCD_LEASE_NOT_FOUND);
    store_mvcc_result_free(&res);
    assert_int_equal(cur_rev(m), before);
    /* a txn range at a future revision fails the whole txn */
    py.lease = 0;
    rx.revision = before + 10;
    Etcdserverpb__RequestOp *fut[2] = {&o[1], &o[3]};
    t.success = fut;
    assert_int_equal(apply1(m, &t.base, &res), K8C_ETCD_FUTURE_REV);
    store_mvcc_result_free(&res);
    assert_int_equal(cur_rev(m), before);
    store_mvcc_close(m);
}

static void test_compaction(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    char val[200];
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = 0;
    for (int i = 0; i < 50; i++) { /* 50 revisions of "hot", rev 2..51 */
        val[0] = (char)('a' + i % 26);
        put(m, "hot", val);
    }
    put(m, "cold", "c");        /* 52 */
    put(m, "gone", "g");        /* 53 */
    del(m, "gone", NULL, NULL); /* 54 */
    put(m, "late", "l");        /* 55 */
    struct store_mvcc_status st0, st1;
    assert_int_equal(store_mvcc_status(m, &st0), 0);
    uint32_t h_before;
    assert_int_equal(store_mvcc_hash_kv(m, 55, &h_before, NULL, NULL), 0);

    Etcdserverpb__CompactionRequest c = ETCDSERVERPB__COMPACTION_REQUEST__INIT;
    struct store_mvcc_result res = {0};
    c.revision = 60;
    assert_int_equal(apply1(m, &c.base, &res), K8C_ETCD_FUTURE_REV);
    store_mvcc_result_free(&res);
    c.revision = 54;
    assert_int_equal(apply1(m, &c.base, &res), 0);
    assert_int_equal(((Etcdserverpb__CompactionResponse *)res.resp)->header->revision, 55);
    store_mvcc_result_free(&res);
    assert_int_equal(apply1(m, &c.base, &res), K8C_ETCD_COMPACTED);
    assert_string_equal(k8c_strerror(res.err),
                        "etcdserver: mvcc: required revision has been compacted");
    assert_int_equal(store_mvcc_grpc_status(res.err), 11);
    store_mvcc_result_free(&res);
    c.revision = 10;
    assert_int_equal(apply1(m, &c.base, &res), K8C_ETCD_COMPACTED);
    store_mvcc_result_free(&res);

    assert_int_equal(store_mvcc_status(m, &st1), 0);
    assert_int_equal(st1.compact_revision, 54);
    assert_int_equal(st1.revision, 55);
    assert_true(st1.kv_bytes < st0.kv_bytes / 10);

    /* old revisions are gone with the right error; the compact revision itself reads */
    assert_null(get_at(m, "hot", 20, &res));
    assert_int_equal(res.err, K8C_ETCD_COMPACTED);
    store_mvcc_result_free(&res);
    Etcdserverpb__RangeResponse *r = get_at(m, "hot", 54, &res);
    assert_int_equal(r->n_kvs, 1);
    assert_int_equal(r->kvs[0]->version, 50);
    assert_int_equal(r->kvs[0]->mod_revision, 51);
    store_mvcc_result_free(&res);
    /* live keys intact at current */
    Etcdserverpb__RangeRequest all = ETCDSERVERPB__RANGE_REQUEST__INIT;
    all.key = bin("a");
    all.range_end = (ProtobufCBinaryData){1, (uint8_t *)""};
    r = range_req(m, &all, &res);
    assert_int_equal(r->n_kvs, 3); /* cold hot late */
    expect_kv(r->kvs[1], "hot", NULL, 2, 51, 50);
    store_mvcc_result_free(&res);
    /* HashKV at a compacted revision errors; at current still defined */
    assert_int_equal(store_mvcc_hash_kv(m, 20, NULL, NULL, NULL), K8C_ETCD_COMPACTED);
    assert_int_equal(store_mvcc_hash_kv(m, 0, NULL, NULL, NULL), 0);
    /* history before the compact revision */
    struct store_mvcc_history_query q = {.key = (const uint8_t *)"a",
                                         .key_len = 1,
                                         .range_end = (const uint8_t *)"",
                                         .range_end_len = 1,
                                         .start_rev = 40};
    struct store_mvcc_events *ev = NULL;
    assert_int_equal(store_mvcc_history(m, &q, &ev, NULL), K8C_ETCD_COMPACTED);
    q.start_rev = 54;
    assert_int_equal(store_mvcc_history(m, &q, &ev, NULL), 0);
    assert_int_equal(ev->n, 1); /* the delete at 54 went with compaction; late at 55 */
    assert_memory_equal(ev->events[0]->kv->key.data, "late", 4);
    store_mvcc_events_free(ev);

    /* space is reused: the same amount written again does not grow the file much */
    struct store_mvcc_status s_a, s_b;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            char k[32];
            snprintf(k, sizeof(k), "r/%d", i % 30);
            put(m, k, val);
        }
        c.revision = cur_rev(m);
        assert_int_equal(apply1(m, &c.base, &res), 0);
        store_mvcc_result_free(&res);
        assert_int_equal(store_mvcc_status(m, round ? &s_b : &s_a), 0);
    }
    assert_true(s_b.db_size <= s_a.db_size + 64 * 1024);
    assert_true(s_b.db_size_in_use <= s_b.db_size);
    store_mvcc_close(m);
}

static void test_leases(void **state)
{
    char dir[300];
    new_dir(dir, sizeof(dir));
    struct store_mvcc_options o = {.dir = dir, .min_lease_ttl = 2};
    struct store_mvcc *m = NULL;
    assert_int_equal(store_mvcc_open(&o, &m, NULL), 0);
    struct store_mvcc_result res = {0};
    Etcdserverpb__LeaseGrantRequest g = ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
    g.id = 100;
    g.ttl = 1;
    assert_int_equal(apply1(m, &g.base, &res), 0);
    assert_int_equal(((Etcdserverpb__LeaseGrantResponse *)res.resp)->ttl, 2); /* minimum */
    assert_int_equal(((Etcdserverpb__LeaseGrantResponse *)res.resp)->id, 100);
    store_mvcc_result_free(&res);
    assert_int_equal(apply1(m, &g.base, &res), K8C_ETCD_LEASE_EXIST);
    store_mvcc_result_free(&res);
    g.id = 101;
    g.ttl = STORE_MVCC_MAX_LEASE_TTL + 1;
    assert_int_equal(apply1(m, &g.base, &res), K8C_ETCD_LEASE_TTL_TOO_LARGE);
    store_mvcc_result_free(&res);
    g.ttl = 30;
    assert_int_equal(apply1(m, &g.base, &res), 0);
    store_mvcc_result_free(&res);

    put_full(m, "l/1", "a", 100);
    put_full(m, "l/2", "b", 100);
    put_full(m, "l/3", "c", 101);
    put_full(m, "l/3", "c", 100); /* moved to lease 100 */
    put_full(m, "l/4", "d", 100);
    put(m, "l/4", "d2"); /* detached again */
    put(m, "free", "x");
    int64_t rev = cur_rev(m);

    Etcdserverpb__LeaseTimeToLiveRequest ttl = ETCDSERVERPB__LEASE_TIME_TO_LIVE_REQUEST__INIT;
    ttl.id = 100;
    ttl.keys = true;
    assert_int_equal(store_mvcc_lease_time_to_live(m, &ttl, &res), 0);
    Etcdserverpb__LeaseTimeToLiveResponse *tr = (void *)res.resp;
    assert_int_equal(tr->grantedttl, 2);
    assert_int_equal(tr->n_keys, 3);
    assert_memory_equal(tr->keys[2].data, "l/3", 3);
    store_mvcc_result_free(&res);
    ttl.id = 101;
    assert_int_equal(store_mvcc_lease_time_to_live(m, &ttl, &res), 0);
    assert_int_equal(((Etcdserverpb__LeaseTimeToLiveResponse *)res.resp)->n_keys, 0);
    store_mvcc_result_free(&res);

    /* checkpoint stores the remaining ttl */
    Etcdserverpb__LeaseCheckpoint cp = ETCDSERVERPB__LEASE_CHECKPOINT__INIT, *cpp = &cp;
    cp.id = 101;
    cp.remaining_ttl = 12;
    Etcdserverpb__LeaseCheckpointRequest cr = ETCDSERVERPB__LEASE_CHECKPOINT_REQUEST__INIT;
    cr.n_checkpoints = 1;
    cr.checkpoints = &cpp;
    assert_int_equal(apply1(m, &cr.base, &res), 0);
    store_mvcc_result_free(&res);
    struct store_mvcc_lease *ls;
    size_t nl;
    assert_int_equal(store_mvcc_lease_list(m, &ls, &nl), 0);
    assert_int_equal(nl, 2);
    assert_int_equal(ls[1].id, 101);
    assert_int_equal(ls[1].ttl, 30);
    assert_int_equal(ls[1].remaining_ttl, 12);
    k8c_free(ls);

    /* revoke: all attached keys deleted at ONE revision */
    Etcdserverpb__LeaseRevokeRequest rv = ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;
    rv.id = 100;
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    assert_int_equal(store_mvcc_apply(m, &rv.base, &res), 0);
    struct store_mvcc_events *ev;
    assert_int_equal(store_mvcc_commit_batch(m, ++g_index, 1, &ev), 0);
    assert_int_equal(res.err, 0);
    assert_int_equal(((Etcdserverpb__LeaseRevokeResponse *)res.resp)->header->revision, rev + 1);
    store_mvcc_result_free(&res);
    assert_int_equal(ev->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ev->events[i]->type, MVCCPB__EVENT__EVENT_TYPE__DELETE);
        assert_int_equal(ev->events[i]->kv->mod_revision, rev + 1);
    }
    store_mvcc_events_free(ev);
    assert_int_equal(cur_rev(m), rev + 1);
    Etcdserverpb__RangeRequest all = ETCDSERVERPB__RANGE_REQUEST__INIT;
    all.key = bin("a");
    all.range_end = (ProtobufCBinaryData){1, (uint8_t *)""};
    Etcdserverpb__RangeResponse *r = range_req(m, &all, &res);
    assert_int_equal(r->n_kvs, 2); /* free, l/4 */
    store_mvcc_result_free(&res);
    ttl.id = 100;
    assert_int_equal(store_mvcc_lease_time_to_live(m, &ttl, &res), K8C_ETCD_LEASE_NOT_FOUND);
    store_mvcc_result_free(&res);
    assert_int_equal(apply1(m, &rv.base, &res), K8C_ETCD_LEASE_NOT_FOUND);
    store_mvcc_result_free(&res);
    /* revoking a lease without keys does not bump the revision */
    rv.id = 101;
    assert_int_equal(apply1(m, &rv.base, &res), 0);
    store_mvcc_result_free(&res);
    assert_int_equal(cur_rev(m), rev + 1);
    assert_int_equal(store_mvcc_lease_leases(m, &res), 0);
    assert_int_equal(((Etcdserverpb__LeaseLeasesResponse *)res.resp)->n_leases, 0);
    store_mvcc_result_free(&res);
    store_mvcc_close(m);
}

static void test_batch_and_crash(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    /* many requests (clients) in one LMDB transaction, each with its own revision */
    enum { N = 500 };
    struct store_mvcc_result res[N];
    memset(res, 0, sizeof(res));
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    char k[32];
    for (int i = 0; i < N; i++) {
        Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
        snprintf(k, sizeof(k), "batch/%03d", i % 250);
        p.key = bin(k);
        p.value = bin("v");
        if (i == 7) /* one bad request in the middle does not disturb the others */
            p.lease = 999;
        assert_int_equal(store_mvcc_put(m, &p, &res[i]), 0);
    }
    struct store_mvcc_events *ev;
    assert_int_equal(store_mvcc_commit_batch(m, 41, 3, &ev), 0);
    int64_t expect = 2;
    for (int i = 0; i < N; i++) {
        if (i == 7) {
            assert_int_equal(res[i].err, K8C_ETCD_LEASE_NOT_FOUND);
        } else {
            assert_int_equal(res[i].err, 0);
            assert_int_equal(((Etcdserverpb__PutResponse *)res[i].resp)->header->revision,
                             expect++);
        }
        store_mvcc_result_free(&res[i]);
    }
    assert_int_equal(ev->n, N - 1);
    assert_int_equal(ev->events[N - 2]->kv->mod_revision, expect - 1);
    assert_int_equal(ev->events[N - 2]->kv->version, 2); /* second put of that key */
    store_mvcc_events_free(ev);
    uint32_t hash_committed;
    assert_int_equal(store_mvcc_hash(m, &hash_committed), 0);
    /* the writeback of the commit's pages starts (a sync_file_range the
     * kernel accepts), and the state is as it was */
    assert_int_equal(store_mvcc_writeback(m), 0);
    uint32_t hash_after;
    assert_int_equal(store_mvcc_hash(m, &hash_after), 0);
    assert_int_equal(hash_after, hash_committed);
    store_mvcc_close(m);

    /* a child process commits one more batch, then dies in the middle of another */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store_mvcc_options o = {.dir = dir};
        struct store_mvcc *c = NULL;
        if (store_mvcc_open(&o, &c, NULL))
            _exit(2);
        struct store_mvcc_result r = {0};
        Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
        p.key = bin("committed");
        p.value = bin("yes");
        if (store_mvcc_begin_batch(c) || store_mvcc_put(c, &p, &r) || r.err ||
            store_mvcc_commit_batch(c, 42, 3, NULL))
            _exit(3);
        store_mvcc_result_free(&r);
        p.key = bin("lost");
        if (store_mvcc_begin_batch(c) || store_mvcc_put(c, &p, &r) || r.err)
            _exit(4);
        _exit(0); /* crash: no commit, no close */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    m = open_at(dir, 0);
    struct store_mvcc_status st;
    assert_int_equal(store_mvcc_status(m, &st), 0);
    assert_int_equal(st.applied_index, 42);
    assert_int_equal(st.applied_term, 3);
    assert_int_equal(st.revision, expect);
    struct store_mvcc_result r1 = {0};
    assert_int_equal(get_at(m, "committed", 0, &r1)->n_kvs, 1);
    store_mvcc_result_free(&r1);
    assert_int_equal(get_at(m, "lost", 0, &r1)->n_kvs, 0);
    store_mvcc_result_free(&r1);

    /* an aborted batch leaves nothing, and a batch can follow it */
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
    p.key = bin("aborted");
    assert_int_equal(store_mvcc_put(m, &p, &r1), 0);
    store_mvcc_result_free(&r1);
    assert_int_equal(store_mvcc_begin_batch(m), K8C_EBUSY);
    store_mvcc_abort_batch(m);
    assert_int_equal(get_at(m, "aborted", 0, &r1)->n_kvs, 0);
    store_mvcc_result_free(&r1);
    assert_int_equal(store_mvcc_status(m, &st), 0);
    assert_int_equal(st.applied_index, 42);
    assert_int_equal(put(m, "after", "x"), expect + 1);
    /* apply without a batch is refused */
    assert_int_equal(store_mvcc_put(m, &p, &r1), K8C_EINVAL);
    store_mvcc_result_free(&r1);
    store_mvcc_close(m);
}

static void test_events_history(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    put(m, "w/a", "1");       /* 2 */
    put(m, "w/b", "1");       /* 3 */
    put(m, "w/a", "2");       /* 4 */
    del(m, "w/", "w0", NULL); /* 5: deletes w/a, w/b */
    put(m, "x", "1");         /* 6 */
    put(m, "w/a", "3");       /* 7 */

    struct store_mvcc_history_query q = {.key = (const uint8_t *)"w/",
                                         .key_len = 2,
                                         .range_end = (const uint8_t *)"w0",
                                         .range_end_len = 2,
                                         .start_rev = 3,
                                         .prev_kv = true};
    struct store_mvcc_events *ev;
    int64_t next;
    assert_int_equal(store_mvcc_history(m, &q, &ev, &next), 0);
    assert_int_equal(next, 8);
    assert_int_equal(ev->n, 5); /* b@3, a@4, a@5 del, b@5 del, a@7 */
    assert_int_equal(ev->events[0]->kv->mod_revision, 3);
    assert_null(ev->events[0]->prev_kv);
    assert_int_equal(ev->events[1]->kv->version, 2);
    expect_kv(ev->events[1]->prev_kv, "w/a", "1", 2, 2, 1);
    assert_int_equal(ev->events[2]->type, MVCCPB__EVENT__EVENT_TYPE__DELETE);
    assert_int_equal(ev->events[2]->kv->mod_revision, 5);
    assert_int_equal(ev->events[2]->kv->version, 0);
    expect_kv(ev->events[2]->prev_kv, "w/a", "2", 2, 4, 2);
    assert_int_equal(ev->events[3]->type, MVCCPB__EVENT__EVENT_TYPE__DELETE);
    expect_kv(ev->events[4]->kv, "w/a", "3", 7, 7, 1);
    assert_null(ev->events[4]->prev_kv);
    store_mvcc_events_free(ev);

    /* max_events stops only between revisions: the two deletes of 5 stay together */
    q.max_events = 3;
    assert_int_equal(store_mvcc_history(m, &q, &ev, &next), 0);
    assert_int_equal(ev->n, 4);
    assert_int_equal(next, 6);
    store_mvcc_events_free(ev);
    q.max_events = 0;
    q.end_rev = 4;
    assert_int_equal(store_mvcc_history(m, &q, &ev, &next), 0);
    assert_int_equal(ev->n, 2);
    assert_int_equal(next, 5);
    store_mvcc_events_free(ev);
    /* a single key and a start in the future */
    q.end_rev = 0;
    q.key = (const uint8_t *)"x";
    q.key_len = 1;
    q.range_end_len = 0;
    q.start_rev = 1;
    assert_int_equal(store_mvcc_history(m, &q, &ev, &next), 0);
    assert_int_equal(ev->n, 1);
    store_mvcc_events_free(ev);
    q.start_rev = 100;
    assert_int_equal(store_mvcc_history(m, &q, &ev, &next), 0);
    assert_int_equal(ev->n, 0);
    store_mvcc_events_free(ev);

    /* batch events equal history events */
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    struct store_mvcc_result r[3] = {{0}};
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
    p.key = bin("e/1");
    p.value = bin("a");
    assert_int_equal(store_mvcc_put(m, &p, &r[0]), 0);
    p.key = bin("e/2");
    assert_int_equal(store_mvcc_put(m, &p, &r[1]), 0);
    p.key = bin("e/1");
    p.value = bin("b");
    assert_int_equal(store_mvcc_put(m, &p, &r[2]), 0);
    struct store_mvcc_events *bev;
    assert_int_equal(store_mvcc_commit_batch(m, ++g_index, 1, &bev), 0);
    for (int i = 0; i < 3; i++)
        store_mvcc_result_free(&r[i]);
    q.key = (const uint8_t *)"e/";
    q.key_len = 2;
    q.range_end = (const uint8_t *)"e0";
    q.range_end_len = 2;
    q.start_rev = 8;
    assert_int_equal(store_mvcc_history(m, &q, &ev, &next), 0);
    assert_int_equal(bev->n, 3);
    assert_int_equal(ev->n, 3);
    for (int i = 0; i < 3; i++) {
        uint8_t b1[256], b2[256];
        size_t l1 = mvccpb__event__pack(bev->events[i], b1);
        size_t l2 = mvccpb__event__pack(ev->events[i], b2);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
    }
    assert_non_null(bev->events[2]->prev_kv);
    store_mvcc_events_free(ev);
    store_mvcc_events_free(bev);
    store_mvcc_close(m);
}

/* The same logical history, applied in different batch sizes. */
static void write_history(struct store_mvcc *m, int per_batch)
{
    int in_batch = 0;
    for (int i = 0; i < 200; i++) {
        if (in_batch == 0)
            assert_int_equal(store_mvcc_begin_batch(m), 0);
        char k[32], v[32];
        snprintf(k, sizeof(k), "h/%d", i % 37);
        snprintf(v, sizeof(v), "value-%d", i);
        struct store_mvcc_result res = {0};
        if (i % 11 == 10) {
            Etcdserverpb__DeleteRangeRequest d = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
            d.key = bin(k);
            assert_int_equal(store_mvcc_delete_range(m, &d, &res), 0);
        } else if (i == 150) {
            Etcdserverpb__CompactionRequest c = ETCDSERVERPB__COMPACTION_REQUEST__INIT;
            c.revision = 100;
            assert_int_equal(store_mvcc_compact(m, &c, &res), 0);
        } else {
            Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
            p.key = bin(k);
            p.value = bin(v);
            assert_int_equal(store_mvcc_put(m, &p, &res), 0);
        }
        assert_int_equal(res.err, 0);
        store_mvcc_result_free(&res);
        if (++in_batch == per_batch || i == 199) {
            assert_int_equal(store_mvcc_commit_batch(m, ++g_index, 1, NULL), 0);
            in_batch = 0;
        }
    }
}

static void test_hash_equal_and_snapshot(void **state)
{
    char d1[300], d2[300];
    struct store_mvcc *a = open_new(d1, sizeof(d1));
    struct store_mvcc *b = open_new(d2, sizeof(d2));
    write_history(a, 1);
    write_history(b, 64);
    uint32_t ha, hb, hka, hkb;
    int64_t ca, cb;
    assert_int_equal(store_mvcc_hash(a, &ha), 0);
    assert_int_equal(store_mvcc_hash(b, &hb), 0);
    assert_int_equal(ha, hb);
    assert_int_equal(store_mvcc_hash_kv(a, 0, &hka, &ca, NULL), 0);
    assert_int_equal(store_mvcc_hash_kv(b, 0, &hkb, &cb, NULL), 0);
    assert_int_equal(hka, hkb);
    assert_int_equal(ca, 100);
    assert_int_equal(store_mvcc_hash_kv(a, 150, &hka, NULL, NULL), 0);
    assert_int_equal(store_mvcc_hash_kv(b, 150, &hkb, NULL, NULL), 0);
    assert_int_equal(hka, hkb);
    /* one differing write changes both hashes */
    put(b, "h/1", "different");
    put(a, "h/1", "other");
    assert_int_equal(store_mvcc_hash(a, &ha), 0);
    assert_int_equal(store_mvcc_hash(b, &hb), 0);
    assert_int_not_equal(ha, hb);
    assert_int_equal(store_mvcc_hash_kv(a, 0, &hka, NULL, NULL), 0);
    assert_int_equal(store_mvcc_hash_kv(b, 0, &hkb, NULL, NULL), 0);
    assert_int_not_equal(hka, hkb);

    /* snapshot, change, restore: back to the snapshot's state and hash */
    char snap[400];
    snprintf(snap, sizeof(snap), "%s/snap.db", g_root);
    uint32_t h_snap;
    struct store_mvcc_status st_snap, st;
    assert_int_equal(store_mvcc_hash(a, &h_snap), 0);
    assert_int_equal(store_mvcc_status(a, &st_snap), 0);
    assert_int_equal(store_mvcc_snapshot_save(a, snap), 0);
    put(a, "after/snap", "x");
    assert_int_equal(store_mvcc_hash(a, &ha), 0);
    assert_int_not_equal(ha, h_snap);
    char err[K8C_ERRMSG_SIZE];
    assert_int_equal(store_mvcc_restore(a, snap, err), 0);
    assert_int_equal(store_mvcc_hash(a, &ha), 0);
    assert_int_equal(ha, h_snap);
    assert_int_equal(store_mvcc_status(a, &st), 0);
    assert_int_equal(st.revision, st_snap.revision);
    assert_int_equal(st.applied_index, st_snap.applied_index);
    struct store_mvcc_result res = {0};
    assert_int_equal(get_at(a, "after/snap", 0, &res)->n_kvs, 0);
    store_mvcc_result_free(&res);
    /* restored into the other store (a different peer) gives the same hash */
    assert_int_equal(store_mvcc_restore(b, snap, err), 0);
    assert_int_equal(store_mvcc_hash(b, &hb), 0);
    assert_int_equal(hb, h_snap);
    /* writes continue after restore */
    assert_int_equal(put(a, "after/restore", "y"), st.revision + 1);
    /* a file that is not a snapshot is refused, the store stays */
    char junk[400];
    snprintf(junk, sizeof(junk), "%s/junk.db", g_root);
    FILE *f = fopen(junk, "w");
    fputs("not an lmdb file at all", f);
    fclose(f);
    assert_int_equal(store_mvcc_restore(b, junk, err), K8C_EPROTO);
    assert_int_equal(store_mvcc_hash(b, &hb), 0);
    assert_int_equal(hb, h_snap);
    store_mvcc_close(a);
    store_mvcc_close(b);
}

static void test_quota(void **state)
{
    char dir[300];
    new_dir(dir, sizeof(dir));
    struct store_mvcc *m = open_at(dir, 64 * 1024);
    char val[1001];
    memset(val, 'q', 1000);
    val[1000] = 0;
    struct store_mvcc_result res = {0};
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
    p.value = bin(val);
    int i, rc = 0;
    char k[32];
    for (i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "q/%d", i);
        p.key = bin(k);
        rc = apply1(m, &p.base, &res);
        store_mvcc_result_free(&res);
        if (rc)
            break;
    }
    assert_int_equal(rc, K8C_ETCD_NO_SPACE);
    assert_string_equal(k8c_strerror(rc), "etcdserver: mvcc: database space exceeded");
    assert_int_equal(store_mvcc_grpc_status(rc), 8);
    assert_true(i > 50 && i < 70);
    assert_false(store_mvcc_quota_available(m, 10));
    /* the alarm persists: small puts fail too, also after reopening */
    store_mvcc_close(m);
    m = open_at(dir, 64 * 1024);
    struct store_mvcc_status st;
    assert_int_equal(store_mvcc_status(m, &st), 0);
    assert_true(st.nospace_alarm);
    assert_true(st.kv_bytes <= 64 * 1024);
    p.key = bin("tiny");
    p.value = bin("t");
    assert_int_equal(apply1(m, &p.base, &res), K8C_ETCD_NO_SPACE);
    store_mvcc_result_free(&res);
    Etcdserverpb__AlarmRequest ar = ETCDSERVERPB__ALARM_REQUEST__INIT;
    ar.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__GET;
    assert_int_equal(apply1(m, &ar.base, &res), 0);
    Etcdserverpb__AlarmResponse *am = (void *)res.resp;
    assert_int_equal(am->n_alarms, 1);
    assert_int_equal(am->alarms[0]->alarm, ETCDSERVERPB__ALARM_TYPE__NOSPACE);
    store_mvcc_result_free(&res);
    /* deletes and compaction work; disarm; then writes work again */
    int64_t n;
    del(m, "q/", "q0", &n);
    assert_int_equal(n, i);
    Etcdserverpb__CompactionRequest c = ETCDSERVERPB__COMPACTION_REQUEST__INIT;
    c.revision = cur_rev(m);
    assert_int_equal(apply1(m, &c.base, &res), 0);
    store_mvcc_result_free(&res);
    ar.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__DEACTIVATE;
    ar.alarm = ETCDSERVERPB__ALARM_TYPE__NOSPACE;
    assert_int_equal(apply1(m, &ar.base, &res), 0);
    assert_int_equal(((Etcdserverpb__AlarmResponse *)res.resp)->n_alarms, 1);
    store_mvcc_result_free(&res);
    assert_true(store_mvcc_quota_available(m, 10));
    assert_int_equal(apply1(m, &p.base, &res), 0);
    store_mvcc_result_free(&res);
    store_mvcc_close(m);
}

static void test_members(void **state)
{
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    assert_int_equal(store_mvcc_member_put(m, 3, "three", 5), 0);
    assert_int_equal(store_mvcc_member_put(m, 1, "one", 3), 0);
    assert_int_equal(store_mvcc_commit_batch(m, 1, 1, NULL), 0);
    struct store_mvcc_member *ms;
    size_t n;
    assert_int_equal(store_mvcc_member_list(m, &ms, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ms[0].id, 1);
    assert_memory_equal(ms[1].data, "three", 5);
    store_mvcc_members_free(ms, n);
    assert_int_equal(store_mvcc_begin_batch(m), 0);
    assert_int_equal(store_mvcc_member_delete(m, 1), 0);
    assert_int_equal(store_mvcc_commit_batch(m, 2, 1, NULL), 0);
    assert_int_equal(store_mvcc_member_list(m, &ms, &n), 0);
    assert_int_equal(n, 1);
    store_mvcc_members_free(ms, n);
    assert_int_equal(cur_rev(m), 1); /* membership is not part of the key space */
    store_mvcc_close(m);
}

/* The hand-packed RangeResponse is what protobuf-c packs, for empty and
 * zero fields, large and negative numbers, long keys and values, with and
 * without a header. */
static void check_frame(const Etcdserverpb__RangeResponse *r)
{
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *want = k8c_malloc(len + 1);
    protobuf_c_message_pack(&r->base, want);
    struct k8c_buf *b = store_mvcc_range_response_frame(r);
    assert_int_equal(b->len, len + 5);
    assert_int_equal(b->data[0], 0);
    assert_int_equal(((size_t)b->data[1] << 24 | (size_t)b->data[2] << 16 |
                      (size_t)b->data[3] << 8 | b->data[4]),
                     len);
    assert_memory_equal(b->data + 5, want, len);
    k8c_buf_unref(b);
    k8c_free(want);
}

static void test_range_response_frame(void **state)
{
    (void)state;
    Etcdserverpb__RangeResponse r = ETCDSERVERPB__RANGE_RESPONSE__INIT;
    check_frame(&r); /* nothing at all */
    Etcdserverpb__ResponseHeader h = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    r.header = &h;
    check_frame(&r); /* an empty header is still there */
    h.cluster_id = UINT64_MAX;
    h.member_id = 0x1234567890abcdefull;
    h.revision = 300;
    h.raft_term = 1;
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    Mvccpb__KeyValue kv[4];
    Mvccpb__KeyValue *kvs[4];
    for (int i = 0; i < 4; i++) {
        mvccpb__key_value__init(&kv[i]);
        kvs[i] = &kv[i];
    }
    /* kv[0] all zero */
    kv[1].key.data = (uint8_t *)"k";
    kv[1].key.len = 1;
    kv[1].create_revision = 1;
    kv[1].mod_revision = 127;
    kv[1].version = 128;
    kv[1].value.data = (uint8_t *)"v";
    kv[1].value.len = 1;
    kv[2].key.data = big;
    kv[2].key.len = 300;
    kv[2].value.data = big;
    kv[2].value.len = sizeof(big);
    kv[2].lease = INT64_MAX;
    kv[3].key.data = (uint8_t *)"neg";
    kv[3].key.len = 3;
    kv[3].create_revision = -1;
    kv[3].lease = INT64_MIN;
    r.kvs = kvs;
    r.n_kvs = 4;
    check_frame(&r);
    r.more = true;
    r.count = 1LL << 40;
    check_frame(&r);
    r.header = NULL;
    r.count = -5;
    check_frame(&r);
}

static void test_header_fill(Etcdserverpb__ResponseHeader *h)
{
    h->cluster_id = 7;
    h->raft_term = 3;
}

/* store_mvcc_range_frame packs, from the database's pages, what
 * store_mvcc_range answers, for every option that shapes the answer; its
 * errors are store_mvcc_range's. */
static void test_range_frame(void **state)
{
    (void)state;
    char dir[300];
    struct store_mvcc *m = open_new(dir, sizeof(dir));
    char k[16], v[400];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "r/%02d", (i * 17) % 50);
        memset(v, 'a' + i % 26, sizeof(v) - 1);
        v[(i * 37) % 399 + 1] = '\0';
        put_full(m, k, v, 0);
    }
    put(m, "r/07", "again");
    Etcdserverpb__RangeRequest q = ETCDSERVERPB__RANGE_REQUEST__INIT;
    q.key = bin("r/");
    q.range_end = bin("r0");
    for (int c = 0; c < 7; c++) {
        q.limit = c == 1 ? 10 : 0;
        q.keys_only = c == 2;
        q.count_only = c == 3;
        q.sort_order = c == 4 ? ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND : 0;
        q.sort_target = c == 4 ? ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VALUE : 0;
        q.revision = c == 5 ? 20 : 0;
        q.min_mod_revision = c == 6 ? 30 : 0;
        struct store_mvcc_result res = {0};
        assert_int_equal(store_mvcc_range(m, &q, &res), 0);
        test_header_fill(((Etcdserverpb__RangeResponse *)res.resp)->header);
        size_t len = protobuf_c_message_get_packed_size(res.resp);
        uint8_t *want = k8c_malloc(len + 1);
        protobuf_c_message_pack(res.resp, want);
        struct k8c_buf *frame = NULL;
        assert_int_equal(store_mvcc_range_frame(m, &q, test_header_fill, &frame), 0);
        assert_non_null(frame);
        assert_int_equal(frame->len, len + 5);
        assert_memory_equal(frame->data + 5, want, len);
        assert_true(q.count_only || ((Etcdserverpb__RangeResponse *)res.resp)->n_kvs > 0);
        k8c_buf_unref(frame);
        k8c_free(want);
        store_mvcc_result_free(&res);
    }
    struct k8c_buf *frame = NULL;
    q = (Etcdserverpb__RangeRequest)ETCDSERVERPB__RANGE_REQUEST__INIT;
    q.key = bin("r/");
    q.revision = 1000;
    assert_int_equal(store_mvcc_range_frame(m, &q, NULL, &frame), K8C_ETCD_FUTURE_REV);
    assert_null(frame);
    q.key = bin("");
    assert_int_equal(store_mvcc_range_frame(m, &q, NULL, &frame), K8C_ETCD_EMPTY_KEY);
    store_mvcc_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revisions_versions),
        cmocka_unit_test(test_range_options),
        cmocka_unit_test(test_put_options),
        cmocka_unit_test(test_txn),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_leases),
        cmocka_unit_test(test_batch_and_crash),
        cmocka_unit_test(test_events_history),
        cmocka_unit_test(test_hash_equal_and_snapshot),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_range_response_frame),
        cmocka_unit_test(test_range_frame),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
