/*
 * Unit tests of store/watch: the watch hub driven from memory. Each test opens
 * an MVCC in its own temporary directory, commits batches through the batch
 * API and hands their events to the hub exactly as the daemon's apply
 * function does; a recording sink stands in for the gRPC call (its
 * writability and refusals are under the test's control).
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
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "mvcc.h"
#include "watch.h"

static char g_root[256];
static int g_dirs;

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int group_setup(void **state)
{
    snprintf(g_root, sizeof(g_root), "/tmp/k8c-test-watch-XXXXXX");
    return mkdtemp(g_root) ? 0 : -1;
}

static int group_teardown(void **state)
{
    nftw(g_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- a recording sink ---- */

#define MAX_RESPONSES 4096

struct sink {
    Etcdserverpb__WatchResponse *resp[MAX_RESPONSES];
    size_t n;
    bool writable;
    int refuse; /* refuse this many sends with K8C_EBUSY */
    int fail;   /* fail every send with this code (0: none) */
    /* Re-entrancy, as a transport may do from inside a send: delete these
     * streams (a failing connection cancels all its calls) and fail, or
     * report the stream writable (on_writable) before recording. */
    struct store_watch_stream *del_on_send[2];
    struct store_watch_stream *writable_on_send;
};

static int sink_send(void *arg, Etcdserverpb__WatchResponse *resp)
{
    struct sink *k = arg;
    uint8_t *buf;
    size_t len;

    assert_non_null(resp->header);
    if (k->del_on_send[0]) {
        store_watch_stream_del(k->del_on_send[0]);
        store_watch_stream_del(k->del_on_send[1]);
        k->del_on_send[0] = k->del_on_send[1] = NULL;
        k->fail = K8C_ECANCELED;
    }
    if (k->writable_on_send)
        store_watch_stream_writable(k->writable_on_send);
    if (k->fail)
        return k->fail;
    if (k->refuse > 0) {
        k->refuse--;
        return K8C_EBUSY;
    }
    assert_true(k->n < MAX_RESPONSES);
    /* A copy through the wire format: what a client would decode. */
    len = protobuf_c_message_get_packed_size(&resp->base);
    buf = k8c_malloc(len ? len : 1);
    protobuf_c_message_pack(&resp->base, buf);
    k->resp[k->n] = etcdserverpb__watch_response__unpack(NULL, len, buf);
    assert_non_null(k->resp[k->n]);
    k->n++;
    k8c_free(buf);
    return 0;
}

static bool sink_writable(void *arg)
{
    return ((struct sink *)arg)->writable;
}

static void sink_clear(struct sink *k)
{
    for (size_t i = 0; i < k->n; i++)
        etcdserverpb__watch_response__free_unpacked(k->resp[i], NULL);
    k->n = 0;
}

/* ---- fixture ---- */

struct fx {
    char dir[300];
    struct store_mvcc *m;
    struct store_watch_hub *hub;
    struct sink sink;
    struct store_watch_stream *s;
    uint64_t index;
};

static struct fx *fx_new(const struct store_watch_options *opts)
{
    struct fx *f = K8C_NEW(struct fx);
    struct store_mvcc_options o = {0};
    char err[K8C_ERRMSG_SIZE] = "";
    struct store_watch_sink sk = {sink_send, sink_writable, NULL};

    snprintf(f->dir, sizeof(f->dir), "%s/s%d", g_root, ++g_dirs);
    o.dir = f->dir;
    assert_int_equal(store_mvcc_open(&o, &f->m, err), 0);
    assert_int_equal(store_watch_hub_new(f->m, opts, &f->hub), 0);
    f->sink.writable = true;
    sk.arg = &f->sink;
    f->s = store_watch_stream_new(f->hub, &sk);
    return f;
}

static void fx_del(struct fx *f)
{
    store_watch_stream_del(f->s);
    assert_int_equal(store_watch_hub_watchers(f->hub), 0);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    store_watch_hub_del(f->hub);
    store_mvcc_close(f->m);
    sink_clear(&f->sink);
    k8c_free(f);
}

static ProtobufCBinaryData bin(const char *s)
{
    ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};
    return b;
}

/* Commits reqs as one batch (one raft entry) and feeds its events to the hub. */
static void commit(struct fx *f, ProtobufCMessage **reqs, size_t n)
{
    struct store_mvcc_events *ev = NULL;
    assert_int_equal(store_mvcc_begin_batch(f->m), 0);
    for (size_t i = 0; i < n; i++) {
        struct store_mvcc_result res = {0};
        assert_int_equal(store_mvcc_apply(f->m, reqs[i], &res), 0);
        assert_int_equal(res.err, 0);
        store_mvcc_result_free(&res);
    }
    assert_int_equal(store_mvcc_commit_batch(f->m, ++f->index, 1, &ev), 0);
    store_watch_hub_notify(f->hub, ev);
}

static int64_t put(struct fx *f, const char *k, const char *v)
{
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
    ProtobufCMessage *r = &p.base;
    p.key = bin(k);
    p.value = bin(v);
    commit(f, &r, 1);
    return store_watch_hub_revision(f->hub);
}

static int64_t del(struct fx *f, const char *k)
{
    Etcdserverpb__DeleteRangeRequest d = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    ProtobufCMessage *r = &d.base;
    d.key = bin(k);
    commit(f, &r, 1);
    return store_watch_hub_revision(f->hub);
}

/* One txn putting keys[i] = "t" (one revision, several events). */
static int64_t txn_puts(struct fx *f, const char *const *keys, size_t n)
{
    Etcdserverpb__TxnRequest t = ETCDSERVERPB__TXN_REQUEST__INIT;
    Etcdserverpb__RequestOp ops[8], *opp[8];
    Etcdserverpb__PutRequest puts[8];
    ProtobufCMessage *r = &t.base;
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        etcdserverpb__request_op__init(&ops[i]);
        etcdserverpb__put_request__init(&puts[i]);
        puts[i].key = bin(keys[i]);
        puts[i].value = bin("t");
        ops[i].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
        ops[i].request_put = &puts[i];
        opp[i] = &ops[i];
    }
    t.n_success = n;
    t.success = opp;
    commit(f, &r, 1);
    return store_watch_hub_revision(f->hub);
}

static void compact(struct fx *f, int64_t rev)
{
    Etcdserverpb__CompactionRequest c = ETCDSERVERPB__COMPACTION_REQUEST__INIT;
    ProtobufCMessage *r = &c.base;
    c.revision = rev;
    commit(f, &r, 1);
}

struct watch_args {
    const char *key, *end; /* end NULL: one key; "" : from key ("\0") */
    int64_t start, id;
    bool prev_kv, no_put, no_delete, progress;
};

static int create(struct fx *f, const struct watch_args *a)
{
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchCreateRequest c = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
    Etcdserverpb__WatchCreateRequest__FilterType filters[2];

    c.key = bin(a->key);
    if (a->end)
        c.range_end = a->end[0] ? bin(a->end) : (ProtobufCBinaryData){1, (uint8_t *)""};
    c.start_revision = a->start;
    c.watch_id = a->id;
    c.prev_kv = a->prev_kv;
    c.progress_notify = a->progress;
    if (a->no_put)
        filters[c.n_filters++] = ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NOPUT;
    if (a->no_delete)
        filters[c.n_filters++] = ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NODELETE;
    c.filters = filters;
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    req.create_request = &c;
    return store_watch_stream_request(f->s, &req);
}

static int cancel(struct fx *f, int64_t id)
{
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchCancelRequest c = ETCDSERVERPB__WATCH_CANCEL_REQUEST__INIT;
    c.watch_id = id;
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CANCEL_REQUEST;
    req.cancel_request = &c;
    return store_watch_stream_request(f->s, &req);
}

static int progress(struct fx *f)
{
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchProgressRequest p = ETCDSERVERPB__WATCH_PROGRESS_REQUEST__INIT;
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST;
    req.progress_request = &p;
    return store_watch_stream_request(f->s, &req);
}

static Etcdserverpb__WatchResponse *resp_at(struct fx *f, size_t i)
{
    assert_true(i < f->sink.n);
    return f->sink.resp[i];
}

static void assert_key(const ProtobufCBinaryData *b, const char *s)
{
    assert_int_equal(b->len, strlen(s));
    assert_memory_equal(b->data, s, b->len);
}

static void assert_created(struct fx *f, size_t i, int64_t id, int64_t rev)
{
    Etcdserverpb__WatchResponse *r = resp_at(f, i);
    assert_true(r->created);
    assert_false(r->canceled);
    assert_int_equal(r->watch_id, id);
    assert_int_equal(r->header->revision, rev);
    assert_int_equal(r->n_events, 0);
}

/* Checks every response to watch id in the sink from index `from`: events in
 * revision order with no duplicates, no revision split between responses.
 * Returns the event count and writes the revisions seen (one per event). */
static size_t collect(struct fx *f, size_t from, int64_t id, int64_t *revs, size_t cap)
{
    size_t n = 0;
    int64_t last = 0;
    for (size_t i = from; i < f->sink.n; i++) {
        Etcdserverpb__WatchResponse *r = f->sink.resp[i];
        if (r->watch_id != id || r->n_events == 0)
            continue;
        /* A revision never continues into the next response. */
        assert_true(r->events[0]->kv->mod_revision > last);
        for (size_t j = 0; j < r->n_events; j++) {
            int64_t rev = r->events[j]->kv->mod_revision;
            assert_true(rev > last || (j > 0 && rev == last));
            last = rev;
            assert_true(n < cap);
            revs[n++] = rev;
        }
    }
    return n;
}

/* ---- tests ---- */

static void test_live_single_key(void **state)
{
    struct fx *f = fx_new(NULL);
    int64_t r0 = store_watch_hub_revision(f->hub), r1, r2;

    assert_int_equal(r0, 1);
    assert_int_equal(create(f, &(struct watch_args){.key = "foo"}), 0);
    assert_int_equal(f->sink.n, 1);
    assert_created(f, 0, 0, r0);

    r1 = put(f, "foo", "v1");
    put(f, "bar", "x");  /* not watched */
    put(f, "fooo", "x"); /* not watched either */
    r2 = del(f, "foo");
    assert_int_equal(f->sink.n, 3);

    Etcdserverpb__WatchResponse *a = resp_at(f, 1), *b = resp_at(f, 2);
    assert_int_equal(a->watch_id, 0);
    assert_false(a->created);
    assert_int_equal(a->header->revision, r1);
    assert_int_equal(a->n_events, 1);
    assert_int_equal(a->events[0]->type, MVCCPB__EVENT__EVENT_TYPE__PUT);
    assert_key(&a->events[0]->kv->key, "foo");
    assert_key(&a->events[0]->kv->value, "v1");
    assert_int_equal(a->events[0]->kv->mod_revision, r1);
    assert_int_equal(a->events[0]->kv->create_revision, r1);
    assert_int_equal(a->events[0]->kv->version, 1);
    assert_null(a->events[0]->prev_kv); /* not asked for */

    assert_int_equal(b->header->revision, r2);
    assert_int_equal(b->n_events, 1);
    assert_int_equal(b->events[0]->type, MVCCPB__EVENT__EVENT_TYPE__DELETE);
    assert_key(&b->events[0]->kv->key, "foo");
    assert_int_equal(b->events[0]->kv->mod_revision, r2);
    fx_del(f);
}

static void test_ids_and_bad_creates(void **state)
{
    struct fx *f = fx_new(NULL);
    Etcdserverpb__WatchResponse *r;

    assert_int_equal(create(f, &(struct watch_args){.key = "a"}), 0);
    assert_int_equal(create(f, &(struct watch_args){.key = "a", .id = 2}), 0);
    assert_int_equal(create(f, &(struct watch_args){.key = "a"}), 0); /* 1 */
    assert_int_equal(create(f, &(struct watch_args){.key = "a"}), 0); /* 3: 2 is taken */
    assert_int_equal(f->sink.n, 4);
    assert_created(f, 0, 0, 1);
    assert_created(f, 1, 2, 1);
    assert_created(f, 2, 1, 1);
    assert_created(f, 3, 3, 1);

    /* A duplicate id: created and canceled at once, id -1, etcd's reason. */
    assert_int_equal(create(f, &(struct watch_args){.key = "b", .id = 2}), 0);
    r = resp_at(f, 4);
    assert_true(r->created);
    assert_true(r->canceled);
    assert_int_equal(r->watch_id, -1);
    assert_string_equal(r->cancel_reason, "mvcc: duplicate watch ID provided on the WatchStream");

    /* key >= range_end is an empty range. */
    assert_int_equal(create(f, &(struct watch_args){.key = "b", .end = "a"}), 0);
    r = resp_at(f, 5);
    assert_true(r->created && r->canceled);
    assert_int_equal(r->watch_id, -1);
    assert_string_equal(r->cancel_reason, "mvcc: watcher range is empty");
    assert_int_equal(store_watch_hub_watchers(f->hub), 4);

    /* One put fans out to all four watchers, one response each. */
    put(f, "a", "1");
    assert_int_equal(f->sink.n, 10);
    bool seen[4] = {false};
    for (size_t i = 6; i < 10; i++) {
        r = resp_at(f, i);
        assert_true(r->watch_id >= 0 && r->watch_id < 4);
        seen[r->watch_id] = true;
        assert_int_equal(r->n_events, 1);
    }
    assert_true(seen[0] && seen[1] && seen[2] && seen[3]);

    /* Cancel: a canceled response, no more events; unknown ids get nothing. */
    assert_int_equal(cancel(f, 2), 0);
    r = resp_at(f, 10);
    assert_true(r->canceled);
    assert_false(r->created);
    assert_int_equal(r->watch_id, 2);
    assert_int_equal(cancel(f, 2), 0);
    assert_int_equal(cancel(f, 99), 0);
    assert_int_equal(f->sink.n, 11);
    put(f, "a", "2");
    assert_int_equal(f->sink.n, 14);
    for (size_t i = 11; i < 14; i++)
        assert_int_not_equal(resp_at(f, i)->watch_id, 2);
    /* Automatic ids keep counting up (etcd's nextID), skipping ids in use. */
    assert_int_equal(create(f, &(struct watch_args){.key = "a"}), 0);
    assert_created(f, 14, 4, store_watch_hub_revision(f->hub));
    fx_del(f);
}

static void test_ranges_filters_prev_kv(void **state)
{
    struct fx *f = fx_new(NULL);

    /* 0: prefix /p/ = ["/p/", "/p0"), 1: from key "m", 2: everything (key "",
     * range_end "\0"), 3: "/p/" prefix without puts, 4: "k" with prev_kv and
     * no deletes. */
    create(f, &(struct watch_args){.key = "/p/", .end = "/p0"});
    create(f, &(struct watch_args){.key = "m", .end = ""});
    create(f, &(struct watch_args){.key = "", .end = ""});
    create(f, &(struct watch_args){.key = "/p/", .end = "/p0", .no_put = true});
    create(f, &(struct watch_args){.key = "k", .prev_kv = true, .no_delete = true});
    assert_int_equal(f->sink.n, 5);
    sink_clear(&f->sink);

    put(f, "/p/a", "1");     /* 0, 2 */
    put(f, "/p0", "1");      /* 2 */
    put(f, "z", "1");        /* 1, 2 */
    put(f, "k", "1");        /* 2, 4 */
    put(f, "k", "2");        /* 2, 4 (prev_kv k=1) */
    int64_t d = del(f, "k"); /* 2 only (4 filters deletes) */
    del(f, "/p/a");          /* 0, 2, 3 */
    size_t want[5] = {2, 1, 7, 1, 2}, got[5] = {0};
    for (size_t i = 0; i < f->sink.n; i++) {
        Etcdserverpb__WatchResponse *r = resp_at(f, i);
        assert_true(r->watch_id >= 0 && r->watch_id < 5);
        got[r->watch_id] += r->n_events;
        if (r->watch_id == 3)
            assert_int_equal(r->events[0]->type, MVCCPB__EVENT__EVENT_TYPE__DELETE);
        if (r->watch_id == 4) {
            assert_int_equal(r->events[0]->type, MVCCPB__EVENT__EVENT_TYPE__PUT);
            if (r->events[0]->kv->version == 2) {
                assert_non_null(r->events[0]->prev_kv);
                assert_key(&r->events[0]->prev_kv->value, "1");
            } else {
                assert_null(r->events[0]->prev_kv);
            }
        }
        if (r->watch_id == 2 && r->header->revision == d) {
            /* the watcher without prev_kv never gets one */
            assert_null(r->events[0]->prev_kv);
        }
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(got[i], want[i]);
    fx_del(f);
}

static void test_history_catch_up_in_chunks(void **state)
{
    struct store_watch_options o = {.history_chunk = 2, .sync_budget = 1000};
    struct fx *f = fx_new(&o);
    const char *three[] = {"h1", "h2", "h3"};
    int64_t revs[64], first = 0, last, txn_rev;
    size_t n;

    for (int i = 0; i < 5; i++) {
        char v[8];
        snprintf(v, sizeof(v), "%d", i);
        int64_t r = put(f, "h", v);
        if (i == 0)
            first = r;
    }
    txn_rev = txn_puts(f, three, 3); /* one revision, three events: never split */
    put(f, "other", "x");
    last = put(f, "h", "last");

    assert_int_equal(
        create(f,
               &(struct watch_args){.key = "h", .end = "i", .start = first + 1, .prev_kv = true}),
        0);
    assert_created(f, 0, 0, last);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    n = collect(f, 1, 0, revs, 64);
    /* revisions first+1 .. first+4 (one event each), txn (3), last */
    assert_int_equal(n, 4 + 3 + 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(revs[i], first + 1 + i);
    assert_int_equal(revs[4], txn_rev);
    assert_int_equal(revs[6], txn_rev);
    assert_int_equal(revs[7], last);
    /* More than one response: the chunks were bounded. */
    assert_true(f->sink.n >= 5);
    /* prev_kv from history. */
    Etcdserverpb__WatchResponse *r = resp_at(f, 1);
    assert_non_null(r->events[0]->prev_kv);
    assert_key(&r->events[0]->prev_kv->value, "0");
    for (size_t i = 1; i < f->sink.n; i++)
        assert_int_equal(resp_at(f, i)->header->revision, last);

    /* Then live, with no duplicate of what history gave. */
    size_t before = f->sink.n;
    int64_t live = put(f, "h", "live");
    assert_int_equal(f->sink.n, before + 1);
    assert_int_equal(resp_at(f, before)->events[0]->kv->mod_revision, live);
    fx_del(f);
}

/* Big values: the history reads shrink so a response stays near the byte
 * target instead of carrying history_chunk events. */
static void test_history_chunk_bytes(void **state)
{
    struct store_watch_options o = {.history_chunk = 256, .history_bytes = 1000};
    struct fx *f = fx_new(&o);
    char big[301];
    int64_t revs[32];
    size_t max_later = 0;

    memset(big, 'b', 300);
    big[300] = '\0';
    for (int i = 0; i < 20; i++)
        put(f, "big", big);
    create(f, &(struct watch_args){.key = "big", .start = 2});
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    assert_int_equal(collect(f, 1, 0, revs, 32), 20);
    assert_true(f->sink.n >= 1 + 20 / 4);
    assert_true(resp_at(f, 1)->n_events <= 8); /* the first read is small */
    for (size_t i = 2; i < f->sink.n; i++)
        if (resp_at(f, i)->n_events > max_later)
            max_later = resp_at(f, i)->n_events;
    assert_true(max_later <= 3); /* 3 x (300 + overhead) ~ 1000 bytes */
    fx_del(f);
}

static void test_compacted_start(void **state)
{
    struct fx *f = fx_new(NULL);
    for (int i = 0; i < 6; i++)
        put(f, "c", "v");
    compact(f, 5);

    /* start 4 < compact 5: created, then canceled with compact_revision. */
    assert_int_equal(create(f, &(struct watch_args){.key = "c", .start = 4}), 0);
    assert_int_equal(f->sink.n, 2);
    assert_created(f, 0, 0, 7);
    Etcdserverpb__WatchResponse *r = resp_at(f, 1);
    assert_true(r->canceled);
    assert_int_equal(r->watch_id, 0);
    assert_int_equal(r->compact_revision, 5);
    assert_string_equal(r->cancel_reason, "etcdserver: mvcc: required revision has been compacted");
    assert_int_equal(store_watch_hub_watchers(f->hub), 0);

    /* start == compact revision is still served (etcd: minRev < compactRev). */
    assert_int_equal(create(f, &(struct watch_args){.key = "c", .start = 5}), 0);
    assert_created(f, 2, 1, 7);
    int64_t revs[8];
    assert_int_equal(collect(f, 3, 1, revs, 8), 3);
    assert_int_equal(revs[0], 5);
    assert_int_equal(revs[2], 7);
    fx_del(f);
}

static void test_future_start(void **state)
{
    struct fx *f = fx_new(NULL);
    int64_t rev = store_watch_hub_revision(f->hub);
    assert_int_equal(create(f, &(struct watch_args){.key = "f", .start = rev + 3}), 0);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    put(f, "f", "1");
    put(f, "f", "2");
    assert_int_equal(f->sink.n, 1);
    int64_t r3 = put(f, "f", "3");
    assert_int_equal(r3, rev + 3);
    assert_int_equal(f->sink.n, 2);
    assert_int_equal(resp_at(f, 1)->events[0]->kv->mod_revision, r3);
    fx_del(f);
}

/* A client that stops reading: live events stop (bounded memory), and
 * resume from history without gap or duplicate once it reads again. */
static void test_slow_watcher(void **state)
{
    struct store_watch_options o = {.history_chunk = 3, .sync_budget = 2};
    struct fx *f = fx_new(&o);
    int64_t revs[256], start = store_watch_hub_revision(f->hub) + 1, last = 0;
    size_t n;

    create(f, &(struct watch_args){.key = "s"});
    put(f, "s", "0");
    assert_int_equal(f->sink.n, 2);

    f->sink.writable = false;
    for (int i = 1; i < 20; i++)
        last = put(f, "s", "x");
    assert_int_equal(f->sink.n, 2); /* nothing queued while not writable */
    assert_int_equal(store_watch_hub_unsynced(f->hub), 1);
    store_watch_hub_sync(f->hub);
    assert_int_equal(f->sink.n, 2);

    /* Writable again: each pass reads at most sync_budget chunks. */
    f->sink.writable = true;
    store_watch_stream_writable(f->s);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 1);
    for (int pass = 0; pass < 20 && store_watch_hub_unsynced(f->hub) > 0; pass++) {
        put(f, "s", "during"); /* live writes while catching up */
        store_watch_hub_sync(f->hub);
    }
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    last = put(f, "s", "after");
    n = collect(f, 1, 0, revs, 256);
    assert_int_equal(n, (size_t)(last - start + 1));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(revs[i], start + (int64_t)i);

    /* A send refused with K8C_EBUSY takes the same path. */
    sink_clear(&f->sink);
    f->sink.refuse = 1;
    int64_t a = put(f, "s", "refused");
    assert_int_equal(f->sink.n, 0);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 1);
    int64_t b = put(f, "s", "next");
    store_watch_hub_sync(f->hub);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    n = collect(f, 0, 0, revs, 256);
    assert_int_equal(n, 2);
    assert_int_equal(revs[0], a);
    assert_int_equal(revs[1], b);
    fx_del(f);
}

/* Random interleaving of writes, writability flips, refusals and sync passes
 * on several watchers: each sees exactly its revisions, in order, once. */
static void test_random_interleaving(void **state)
{
    struct store_watch_options o = {.history_chunk = 2, .sync_budget = 1};
    struct fx *f = fx_new(&o);
    const char *keys[] = {"r/a", "r/b", "q"};
    int64_t expect[3][512], revs[512];
    size_t nexp[3] = {0};
    unsigned seed = 12345;

    create(f, &(struct watch_args){.key = "r/", .end = "r0"});
    create(f, &(struct watch_args){.key = "q"});
    create(f, &(struct watch_args){.key = "", .end = ""});
    for (int step = 0; step < 400; step++) {
        unsigned x = (unsigned)rand_r(&seed) % 10;
        if (x < 6) {
            const char *k = keys[rand_r(&seed) % 3];
            int64_t r = put(f, k, "v");
            if (k[0] == 'r')
                expect[0][nexp[0]++] = r;
            else
                expect[1][nexp[1]++] = r;
            expect[2][nexp[2]++] = r;
        } else if (x == 6) {
            f->sink.writable = !f->sink.writable;
        } else if (x == 7) {
            f->sink.refuse = 1;
        } else if (x == 8) {
            store_watch_hub_sync(f->hub);
        } else {
            store_watch_stream_writable(f->s);
        }
    }
    f->sink.writable = true;
    f->sink.refuse = 0;
    for (int i = 0; i < 1000 && store_watch_hub_unsynced(f->hub) > 0; i++)
        store_watch_hub_sync(f->hub);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    for (int w = 0; w < 3; w++) {
        size_t n = collect(f, 3, w, revs, 512);
        assert_int_equal(n, nexp[w]);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(revs[i], expect[w][i]);
    }
    fx_del(f);
}

static void test_progress_request(void **state)
{
    struct fx *f = fx_new(NULL);
    int64_t rev;

    put(f, "p", "1");
    rev = put(f, "p", "2");
    /* No watchers: answered at once. */
    assert_int_equal(progress(f), 0);
    Etcdserverpb__WatchResponse *r = resp_at(f, 0);
    assert_int_equal(r->watch_id, -1);
    assert_int_equal(r->n_events, 0);
    assert_false(r->created || r->canceled);
    assert_int_equal(r->header->revision, rev);

    /* A watcher that lags holds the progress response back until it has
     * caught up, so the announced revision is never ahead of its events. */
    f->sink.writable = false;
    create(f, &(struct watch_args){.key = "p", .start = 1});
    assert_int_equal(store_watch_hub_unsynced(f->hub), 1);
    assert_int_equal(progress(f), 0);
    size_t n = f->sink.n;
    assert_int_equal(resp_at(f, n - 1)->created, true);
    f->sink.writable = true;
    store_watch_stream_writable(f->s);
    r = resp_at(f, f->sink.n - 1);
    assert_int_equal(r->watch_id, -1);
    assert_int_equal(r->header->revision, rev);
    assert_int_equal(resp_at(f, f->sink.n - 2)->n_events, 2);
    fx_del(f);
}

static void test_progress_notify_tick(void **state)
{
    struct fx *f = fx_new(NULL);
    int64_t rev;

    create(f, &(struct watch_args){.key = "t", .progress = true});
    create(f, &(struct watch_args){.key = "t"}); /* no progress_notify */
    sink_clear(&f->sink);
    rev = put(f, "other", "x");
    store_watch_hub_progress_tick(f->hub);
    assert_int_equal(f->sink.n, 1);
    Etcdserverpb__WatchResponse *r = resp_at(f, 0);
    assert_int_equal(r->watch_id, 0);
    assert_int_equal(r->n_events, 0);
    assert_int_equal(r->header->revision, rev);

    /* An event in the interval elides the next notification. */
    put(f, "t", "1");
    assert_int_equal(f->sink.n, 3);
    store_watch_hub_progress_tick(f->hub);
    assert_int_equal(f->sink.n, 3);
    store_watch_hub_progress_tick(f->hub);
    assert_int_equal(f->sink.n, 4);

    /* A lagging watcher gets none. */
    f->sink.writable = false;
    put(f, "t", "2");
    store_watch_hub_progress_tick(f->hub);
    store_watch_hub_progress_tick(f->hub);
    assert_int_equal(f->sink.n, 4);
    f->sink.writable = true;
    store_watch_hub_sync(f->hub);
    assert_int_equal(f->sink.n, 6); /* both watchers caught up */
    fx_del(f);
}

/* After a snapshot restore the hub re-reads the revision and every watcher
 * catches up from history. Simulated: batches committed without notify. */
static void test_reset(void **state)
{
    struct fx *f = fx_new(NULL);
    struct store_mvcc_events *ev = NULL;
    Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
    struct store_mvcc_result res = {0};

    create(f, &(struct watch_args){.key = "x"});
    p.key = bin("x");
    p.value = bin("hidden");
    assert_int_equal(store_mvcc_begin_batch(f->m), 0);
    assert_int_equal(store_mvcc_apply(f->m, &p.base, &res), 0);
    store_mvcc_result_free(&res);
    assert_int_equal(store_mvcc_commit_batch(f->m, ++f->index, 1, &ev), 0);
    store_mvcc_events_free(ev); /* the hub never sees this batch */
    store_watch_hub_reset(f->hub);
    assert_int_equal(store_watch_hub_revision(f->hub), 2);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 1);
    store_watch_hub_sync(f->hub);
    assert_int_equal(f->sink.n, 2);
    assert_key(&resp_at(f, 1)->events[0]->kv->value, "hidden");
    put(f, "x", "live");
    assert_int_equal(f->sink.n, 3);
    fx_del(f);
}

/* A broken sink (client gone) stops all sending; two streams are separate. */
static void test_broken_and_many_streams(void **state)
{
    struct fx *f = fx_new(NULL);
    struct sink other = {.writable = true};
    struct store_watch_sink sk = {sink_send, sink_writable, &other};
    struct store_watch_stream *s2 = store_watch_stream_new(f->hub, &sk);
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchCreateRequest c = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;

    c.key = bin("k");
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    req.create_request = &c;
    assert_int_equal(store_watch_stream_request(s2, &req), 0);
    create(f, &(struct watch_args){.key = "k"});
    assert_int_equal(other.n, 1);
    assert_int_equal(other.resp[0]->watch_id, 0); /* ids are per stream */
    put(f, "k", "1");
    assert_int_equal(other.n, 2);
    assert_int_equal(f->sink.n, 2);
    f->sink.fail = K8C_ECANCELED;
    put(f, "k", "2");
    put(f, "k", "3");
    assert_int_equal(other.n, 4);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    assert_int_equal(create(f, &(struct watch_args){.key = "k"}), K8C_ECANCELED);

    store_watch_stream_del(s2);
    sink_clear(&other);
    fx_del(f);
}

/* A send that deletes its own stream and another one (the connection they
 * share failed): the hub finishes its walk without touching freed memory
 * (ASan would say) and frees both afterwards. */
static void test_reentrant_delete(void **state)
{
    struct fx *f = fx_new(NULL);
    struct sink other = {.writable = true};
    struct store_watch_sink sk = {sink_send, sink_writable, &other};
    struct store_watch_stream *s2 = store_watch_stream_new(f->hub, &sk);
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchCreateRequest c = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;

    c.key = bin("k");
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    req.create_request = &c;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_watch_stream_request(s2, &req), 0);
        create(f, &(struct watch_args){.key = "k"});
    }
    assert_int_equal(store_watch_hub_watchers(f->hub), 6);
    /* Streams are walked newest first: s2's first send kills both. */
    other.del_on_send[0] = s2;
    other.del_on_send[1] = f->s;
    put(f, "k", "1");
    assert_int_equal(store_watch_hub_watchers(f->hub), 0);
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    assert_int_equal(f->sink.n, 3); /* only the created responses */
    assert_int_equal(other.n, 3);
    f->s = NULL;
    sink_clear(&other);
    fx_del(f);
}

/* A sink that reports "writable" from inside a send while its watcher
 * catches up: no chunk is sent twice. */
static void test_reentrant_writable(void **state)
{
    struct store_watch_options o = {.history_chunk = 1, .sync_budget = 1};
    struct fx *f = fx_new(&o);
    int64_t revs[64];

    for (int i = 0; i < 10; i++)
        put(f, "w", "v");
    f->sink.writable_on_send = f->s;
    create(f, &(struct watch_args){.key = "w", .start = 2});
    for (int i = 0; i < 50 && store_watch_hub_unsynced(f->hub) > 0; i++) {
        if (i < 5)
            put(f, "w", "live");
        store_watch_hub_sync(f->hub);
    }
    assert_int_equal(store_watch_hub_unsynced(f->hub), 0);
    size_t n = collect(f, 1, 0, revs, 64);
    assert_int_equal(n, (size_t)(store_watch_hub_revision(f->hub) - 1));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(revs[i], 2 + (int64_t)i);
    fx_del(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_single_key),
        cmocka_unit_test(test_ids_and_bad_creates),
        cmocka_unit_test(test_ranges_filters_prev_kv),
        cmocka_unit_test(test_history_catch_up_in_chunks),
        cmocka_unit_test(test_history_chunk_bytes),
        cmocka_unit_test(test_compacted_start),
        cmocka_unit_test(test_future_start),
        cmocka_unit_test(test_slow_watcher),
        cmocka_unit_test(test_random_interleaving),
        cmocka_unit_test(test_progress_request),
        cmocka_unit_test(test_progress_notify_tick),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_broken_and_many_streams),
        cmocka_unit_test(test_reentrant_delete),
        cmocka_unit_test(test_reentrant_writable),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
