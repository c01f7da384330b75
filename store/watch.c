/*
 * store/watch: etcd v3 Watch (see watch.h for the semantics and guarantees).
 *
 * The hub keeps a list of streams, each with its list of watchers. A watcher
 * is either synced (it has every matching event up to the hub's revision and
 * receives live batches) or unsynced (it reads history from next_rev on).
 * Live fan-out is a scan over all watchers per batch; a key index would make
 * it sublinear once there are thousands of watchers.
 */
#include "watch.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <inttypes.h>
#include <string.h>

enum range_kind {
    RANGE_ONE_KEY,  /* range_end "" */
    RANGE_FROM_KEY, /* range_end "\0": every key >= key */
    RANGE_SPAN,     /* [key, range_end) */
};

struct watcher {
    struct watcher *next;
    int64_t id;
    uint8_t *key, *end;
    size_t key_len, end_len;
    enum range_kind kind;
    bool prev_kv, no_put, no_delete, progress_notify;
    bool progress_due; /* no events sent since the last progress tick */
    bool synced;
    int64_t next_rev; /* first revision not yet sent */
    size_t chunk;     /* events per history read, adapted to the event sizes */
};

struct store_watch_stream {
    struct store_watch_hub *hub;
    struct store_watch_stream *prev, *next;
    struct store_watch_sink sink;
    struct watcher *watchers; /* in creation order */
    size_t unsynced;
    int64_t next_id;       /* next automatic watch id candidate */
    bool broken;           /* the sink failed for good: send nothing more */
    bool progress_pending; /* a progress request waits for every watcher to catch up */
    bool deleted;          /* store_watch_stream_del ran inside a hub call: freed on exit */
    unsigned sending;      /* inside sink.send (which may call back into the hub) */
    bool syncing;          /* inside stream_sync */
};

struct store_watch_hub {
    struct store_mvcc *mvcc;
    int64_t rev;
    size_t history_chunk, history_bytes;
    unsigned sync_budget;
    struct store_watch_stream *streams;
    size_t watchers, unsynced;
    unsigned depth;   /* nesting of public calls running now */
    bool has_deleted; /* some stream waits for depth 0 to be freed */
    /* Scratch for building one response: shallow event copies and pointers. */
    Mvccpb__Event *copies;
    Mvccpb__Event **ptrs;
    size_t scratch_cap;
};

/* ------------------------------------------------------------ helpers */

static void stream_free(struct store_watch_stream *s);

/*
 * Re-entrancy. A sink's send may call back into this module before it
 * returns: a transport that fails while writing cancels its calls at once,
 * and the adapter then deletes the stream. Every public entry point counts
 * itself in hub->depth; a stream deleted while depth > 0 is only marked
 * (deleted and broken, so nothing is sent to it any more) and freed when the
 * outermost call returns, so no loop here walks freed memory.
 */
static void hub_enter(struct store_watch_hub *hub)
{
    hub->depth++;
}

static void hub_leave(struct store_watch_hub *hub)
{
    if (--hub->depth > 0 || !hub->has_deleted)
        return;
    hub->has_deleted = false;
    for (struct store_watch_stream *s = hub->streams, *next; s; s = next) {
        next = s->next;
        if (s->deleted)
            stream_free(s);
    }
}

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static bool watcher_matches_key(const struct watcher *w, const ProtobufCBinaryData *key)
{
    int c = key_cmp(key->data, key->len, w->key, w->key_len);
    switch (w->kind) {
    case RANGE_ONE_KEY:
        return c == 0;
    case RANGE_FROM_KEY:
        return c >= 0;
    case RANGE_SPAN:
        return c >= 0 && key_cmp(key->data, key->len, w->end, w->end_len) < 0;
    }
    return false;
}

static void scratch_reserve(struct store_watch_hub *hub, size_t n)
{
    if (n <= hub->scratch_cap)
        return;
    k8c_free(hub->copies);
    k8c_free(hub->ptrs);
    hub->scratch_cap = n < 64 ? 64 : n;
    hub->copies = k8c_calloc(hub->scratch_cap, sizeof(*hub->copies));
    hub->ptrs = k8c_calloc(hub->scratch_cap, sizeof(*hub->ptrs));
}

/* Picks the events of evs[0..n) that w should see (revision >= min_rev, key in
 * range, not filtered) into the hub's scratch: shallow copies, with prev_kv
 * dropped unless w asked for it. Returns how many. */
static size_t select_events(struct store_watch_hub *hub, const struct watcher *w,
                            Mvccpb__Event *const *evs, size_t n, int64_t min_rev)
{
    size_t k = 0;
    scratch_reserve(hub, n);
    for (size_t i = 0; i < n; i++) {
        const Mvccpb__Event *e = evs[i];
        if (e->kv == NULL || e->kv->mod_revision < min_rev)
            continue;
        if (e->type == MVCCPB__EVENT__EVENT_TYPE__PUT ? w->no_put : w->no_delete)
            continue;
        if (!watcher_matches_key(w, &e->kv->key))
            continue;
        hub->copies[k] = *e;
        if (!w->prev_kv)
            hub->copies[k].prev_kv = NULL;
        hub->ptrs[k] = &hub->copies[k];
        k++;
    }
    return k;
}

/* Sends resp on s with header.revision = rev. Returns the sink's code; a
 * failure other than K8C_EBUSY marks the stream broken. */
static int stream_send(struct store_watch_stream *s, Etcdserverpb__WatchResponse *resp, int64_t rev)
{
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    int rc;

    if (s->broken)
        return K8C_ECANCELED;
    header.revision = rev;
    resp->header = &header;
    s->sending++;
    rc = s->sink.send(s->sink.arg, resp);
    s->sending--;
    resp->header = NULL;
    if (rc != 0 && rc != K8C_EBUSY) {
        k8c_log_v(1, "watch stream send failed err=%s", k8c_strerror(rc));
        s->broken = true;
    }
    return rc;
}

static bool stream_writable(struct store_watch_stream *s)
{
    return !s->broken && s->sink.writable(s->sink.arg);
}

static void watcher_set_synced(struct store_watch_stream *s, struct watcher *w, bool synced)
{
    if (w->synced == synced)
        return;
    w->synced = synced;
    if (synced) {
        s->unsynced--;
        s->hub->unsynced--;
    } else {
        s->unsynced++;
        s->hub->unsynced++;
    }
}

static struct watcher *stream_find(const struct store_watch_stream *s, int64_t id)
{
    for (struct watcher *w = s->watchers; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

static void watcher_free(struct watcher *w)
{
    k8c_free(w->key);
    k8c_free(w->end);
    k8c_free(w);
}

static void stream_remove(struct store_watch_stream *s, struct watcher *w)
{
    for (struct watcher **pp = &s->watchers; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    watcher_set_synced(s, w, true);
    s->hub->watchers--;
    watcher_free(w);
}

/* Sends the stream's pending progress response once nothing lags behind. */
static void stream_flush_progress(struct store_watch_stream *s)
{
    Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
    if (!s->progress_pending || s->unsynced > 0)
        return;
    resp.watch_id = -1; /* etcd: not tied to one watcher, the client broadcasts it */
    if (stream_send(s, &resp, s->hub->rev) != K8C_EBUSY)
        s->progress_pending = false;
}

/* ------------------------------------------------------------ catch-up */

enum chunk_outcome {
    CHUNK_MORE, /* the watcher still lags: read the next chunk */
    CHUNK_DONE, /* the watcher is synced, or was ended (compacted) */
    CHUNK_STOP, /* the sink is full or broken, or the read failed: try later */
};

/* Ends w because history it needs was compacted away. */
static void watcher_compacted(struct store_watch_stream *s, struct watcher *w)
{
    Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
    struct store_mvcc_status st;

    if (store_mvcc_status(s->hub->mvcc, &st) != 0)
        st.compact_revision = w->next_rev;
    resp.watch_id = w->id;
    resp.canceled = true;
    resp.compact_revision = st.compact_revision;
    resp.cancel_reason = (char *)k8c_strerror(K8C_ETCD_COMPACTED);
    k8c_log_v(1, "watch compacted id=%" PRId64 " start=%" PRId64 " compact=%" PRId64, w->id,
              w->next_rev, st.compact_revision);
    /* Ended either way: a client that cannot take this small message is
     * not reading, and its stream is on its way out. Header revision 0, as
     * etcd 3.4 sends it. */
    stream_send(s, &resp, 0);
    stream_remove(s, w);
}

/* Sizes the watcher's next history read so that one response stays near
 * history_bytes: a read counts events, not bytes, so the count follows the
 * sizes seen in the last read (shrinking at once, growing by doubling). */
static void chunk_adapt(const struct store_watch_hub *hub, struct watcher *w,
                        const struct store_mvcc_events *ev)
{
    size_t bytes = 0;
    for (size_t i = 0; i < ev->n; i++) {
        const Mvccpb__Event *e = ev->events[i];
        bytes += 32 + e->kv->key.len + e->kv->value.len;
        if (e->prev_kv)
            bytes += 32 + e->prev_kv->key.len + e->prev_kv->value.len;
    }
    if (bytes > hub->history_bytes && ev->n > 1) {
        w->chunk = ev->n * hub->history_bytes / bytes;
        if (w->chunk == 0)
            w->chunk = 1;
    } else if (bytes < hub->history_bytes / 2 && ev->n >= w->chunk) {
        w->chunk = w->chunk * 2 < hub->history_chunk ? w->chunk * 2 : hub->history_chunk;
    }
}

/* Reads one chunk of history for the unsynced watcher w and sends it. */
static enum chunk_outcome watcher_catch_up(struct store_watch_stream *s, struct watcher *w)
{
    struct store_watch_hub *hub = s->hub;
    struct store_mvcc_history_query q = {0};
    struct store_mvcc_events *ev = NULL;
    int64_t next = 0;
    size_t k;
    int rc;

    q.key = w->key;
    q.key_len = w->key_len;
    if (w->kind == RANGE_FROM_KEY) {
        q.range_end = (const uint8_t *)"";
        q.range_end_len = 1;
    } else if (w->kind == RANGE_SPAN) {
        q.range_end = w->end;
        q.range_end_len = w->end_len;
    }
    q.start_rev = w->next_rev;
    q.end_rev = hub->rev;
    q.max_events = w->chunk;
    q.prev_kv = w->prev_kv;
    if (w->next_rev > hub->rev) {
        watcher_set_synced(s, w, true);
        return CHUNK_DONE;
    }
    rc = store_mvcc_history(hub->mvcc, &q, &ev, &next);
    if (rc == K8C_ETCD_COMPACTED) {
        watcher_compacted(s, w);
        return CHUNK_DONE;
    }
    if (rc != 0) {
        k8c_log_warn("watch history read failed id=%" PRId64 " start=%" PRId64 " err=%s", w->id,
                     w->next_rev, k8c_strerror(rc));
        return CHUNK_STOP;
    }
    chunk_adapt(hub, w, ev);
    k = select_events(hub, w, ev->events, ev->n, w->next_rev);
    if (k > 0) {
        Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
        resp.watch_id = w->id;
        resp.n_events = k;
        resp.events = hub->ptrs;
        rc = stream_send(s, &resp, hub->rev);
        if (rc != 0) {
            store_mvcc_events_free(ev);
            return CHUNK_STOP;
        }
        w->progress_due = false;
    }
    store_mvcc_events_free(ev);
    if (next > w->next_rev)
        w->next_rev = next;
    if (next > hub->rev) {
        watcher_set_synced(s, w, true);
        return CHUNK_DONE;
    }
    return CHUNK_MORE;
}

/* Catches up the stream's unsynced watchers while it is writable, reading at
 * most sync_budget chunks (the rest follows on the next pass). */
static void stream_sync(struct store_watch_stream *s)
{
    unsigned budget = s->hub->sync_budget;
    struct watcher *w = s->watchers;

    /* A sink may report "writable" from inside a send; catching up then
     * would send a chunk twice. The sync timer comes back later. */
    if (s->syncing || s->sending > 0)
        return;
    s->syncing = true;
    while (w != NULL && budget > 0 && s->unsynced > 0) {
        struct watcher *next = w->next;
        enum chunk_outcome out;

        if (w->synced) {
            w = next;
            continue;
        }
        if (!stream_writable(s))
            break;
        budget--;
        out = watcher_catch_up(s, w);
        if (out == CHUNK_STOP)
            break;
        if (out == CHUNK_DONE)
            w = next;
    }
    s->syncing = false;
    stream_flush_progress(s);
}

/* ------------------------------------------------------------ requests */

static int stream_reply_control(struct store_watch_stream *s, Etcdserverpb__WatchResponse *resp)
{
    int rc = stream_send(s, resp, s->hub->rev);
    if (rc == K8C_EBUSY)
        k8c_log_warn("watch stream does not read its responses; ending it");
    return rc;
}

static int stream_create(struct store_watch_stream *s, const Etcdserverpb__WatchCreateRequest *c)
{
    struct store_watch_hub *hub = s->hub;
    Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
    const uint8_t *key = c->key.data;
    size_t key_len = c->key.len;
    enum range_kind kind = RANGE_SPAN;
    struct watcher *w, **tail;
    int64_t id = c->watch_id;
    int rc;

    if (key_len == 0) { /* etcd: "\x00 is the smallest key" */
        key = (const uint8_t *)"";
        key_len = 1;
    }
    if (c->range_end.len == 0)
        kind = RANGE_ONE_KEY;
    else if (c->range_end.len == 1 && c->range_end.data[0] == 0)
        kind = RANGE_FROM_KEY;

    resp.created = true;
    if (kind == RANGE_SPAN && key_cmp(key, key_len, c->range_end.data, c->range_end.len) >= 0) {
        resp.watch_id = -1;
        resp.canceled = true;
        resp.cancel_reason = "mvcc: watcher range is empty";
        return stream_reply_control(s, &resp);
    }
    if (id != 0 && stream_find(s, id) != NULL) {
        resp.watch_id = -1;
        resp.canceled = true;
        resp.cancel_reason = "mvcc: duplicate watch ID provided on the WatchStream";
        return stream_reply_control(s, &resp);
    }
    if (id == 0) {
        while (stream_find(s, s->next_id) != NULL)
            s->next_id++;
        id = s->next_id++;
    }

    w = K8C_NEW(struct watcher);
    w->id = id;
    w->kind = kind;
    w->key = k8c_malloc(key_len);
    memcpy(w->key, key, key_len);
    w->key_len = key_len;
    if (kind == RANGE_SPAN) {
        w->end = k8c_malloc(c->range_end.len);
        memcpy(w->end, c->range_end.data, c->range_end.len);
        w->end_len = c->range_end.len;
    }
    for (size_t i = 0; i < c->n_filters; i++) {
        if (c->filters[i] == ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NOPUT)
            w->no_put = true;
        else if (c->filters[i] == ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NODELETE)
            w->no_delete = true;
    }
    w->prev_kv = c->prev_kv;
    w->progress_notify = c->progress_notify;
    w->progress_due = true;
    w->synced = true;
    w->chunk = hub->history_chunk < 8 ? hub->history_chunk : 8;
    if (c->start_revision == 0)
        w->next_rev = hub->rev + 1;
    else if (c->start_revision > hub->rev)
        w->next_rev = c->start_revision; /* a future revision: live events from there */
    else
        w->next_rev = c->start_revision < 1 ? 1 : c->start_revision;
    for (tail = &s->watchers; *tail; tail = &(*tail)->next)
        ;
    *tail = w;
    hub->watchers++;
    if (w->next_rev <= hub->rev)
        watcher_set_synced(s, w, false);

    resp.watch_id = id;
    rc = stream_reply_control(s, &resp);
    if (rc != 0) {
        stream_remove(s, w);
        return rc;
    }
    k8c_log_v(2, "watch created id=%" PRId64 " start=%" PRId64 " rev=%" PRId64, id, w->next_rev,
              hub->rev);
    if (!w->synced)
        stream_sync(s);
    return 0;
}

static int stream_cancel(struct store_watch_stream *s, int64_t id)
{
    Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
    struct watcher *w = stream_find(s, id);
    int rc;

    if (w == NULL)
        return 0; /* etcd: ErrWatcherNotExist, no reply */
    stream_remove(s, w);
    resp.watch_id = id;
    resp.canceled = true;
    rc = stream_reply_control(s, &resp);
    stream_flush_progress(s);
    return rc;
}

int store_watch_stream_request(struct store_watch_stream *s, const Etcdserverpb__WatchRequest *req)
{
    struct store_watch_hub *hub = s->hub;
    int rc = 0;

    if (s->broken)
        return K8C_ECANCELED;
    hub_enter(hub);
    switch (req->request_union_case) {
    case ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST:
        if (req->create_request)
            rc = stream_create(s, req->create_request);
        break;
    case ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CANCEL_REQUEST:
        if (req->cancel_request)
            rc = stream_cancel(s, req->cancel_request->watch_id);
        break;
    case ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST:
        s->progress_pending = true;
        stream_flush_progress(s);
        break;
    default:
        break;
    }
    hub_leave(hub);
    return rc;
}

void store_watch_stream_writable(struct store_watch_stream *s)
{
    struct store_watch_hub *hub;

    if (s == NULL || s->broken)
        return;
    hub = s->hub;
    hub_enter(hub);
    stream_sync(s);
    hub_leave(hub);
}

/* ------------------------------------------------------------ streams */

struct store_watch_stream *store_watch_stream_new(struct store_watch_hub *hub,
                                                  const struct store_watch_sink *sink)
{
    struct store_watch_stream *s = K8C_NEW(struct store_watch_stream);
    s->hub = hub;
    s->sink = *sink;
    s->next = hub->streams;
    if (hub->streams)
        hub->streams->prev = s;
    hub->streams = s;
    return s;
}

static void stream_free(struct store_watch_stream *s)
{
    while (s->watchers)
        stream_remove(s, s->watchers);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->hub->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    k8c_free(s);
}

void store_watch_stream_del(struct store_watch_stream *s)
{
    if (s == NULL)
        return;
    if (s->hub->depth > 0) {
        s->deleted = true;
        s->broken = true;
        s->hub->has_deleted = true;
        return;
    }
    stream_free(s);
}

/* ------------------------------------------------------------ the hub */

int store_watch_hub_new(struct store_mvcc *m, const struct store_watch_options *opts,
                        struct store_watch_hub **out)
{
    struct store_mvcc_status st;
    struct store_watch_hub *hub;
    int rc = store_mvcc_status(m, &st);

    *out = NULL;
    if (rc != 0)
        return rc;
    hub = K8C_NEW(struct store_watch_hub);
    hub->mvcc = m;
    hub->rev = st.revision;
    hub->history_chunk =
        opts && opts->history_chunk ? opts->history_chunk : STORE_WATCH_HISTORY_CHUNK;
    hub->history_bytes =
        opts && opts->history_bytes ? opts->history_bytes : STORE_WATCH_HISTORY_BYTES;
    hub->sync_budget = opts && opts->sync_budget ? opts->sync_budget : STORE_WATCH_SYNC_BUDGET;
    *out = hub;
    return 0;
}

void store_watch_hub_del(struct store_watch_hub *hub)
{
    if (hub == NULL)
        return;
    while (hub->streams)
        stream_free(hub->streams);
    k8c_free(hub->copies);
    k8c_free(hub->ptrs);
    k8c_free(hub);
}

int64_t store_watch_hub_revision(const struct store_watch_hub *hub)
{
    return hub->rev;
}

size_t store_watch_hub_unsynced(const struct store_watch_hub *hub)
{
    return hub->unsynced;
}

size_t store_watch_hub_watchers(const struct store_watch_hub *hub)
{
    return hub->watchers;
}

/* Sends a batch to the synced watchers of s. */
static void stream_notify(struct store_watch_stream *s, const struct store_mvcc_events *ev)
{
    struct store_watch_hub *hub = s->hub;

    for (struct watcher *w = s->watchers; w && !s->broken; w = w->next) {
        Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
        size_t k;
        int rc;

        if (!w->synced)
            continue;
        k = select_events(hub, w, ev->events, ev->n, w->next_rev);
        if (k == 0) {
            if (w->next_rev <= ev->revision)
                w->next_rev = ev->revision + 1;
            continue;
        }
        /* A client that does not keep up gets no more live events; it
         * catches up from history once it reads again (no gap: next_rev
         * still points at the first revision it has not been sent). */
        if (!s->sink.writable(s->sink.arg)) {
            k8c_log_v(1,
                      "watcher falls behind, to catch up from history id=%" PRId64
                      " next_rev=%" PRId64,
                      w->id, w->next_rev);
            watcher_set_synced(s, w, false);
            continue;
        }
        resp.watch_id = w->id;
        resp.n_events = k;
        resp.events = hub->ptrs;
        rc = stream_send(s, &resp, ev->revision);
        if (rc == K8C_EBUSY) {
            watcher_set_synced(s, w, false);
            continue;
        }
        if (rc != 0)
            break;
        w->progress_due = false;
        w->next_rev = ev->revision + 1;
    }
}

void store_watch_hub_notify(struct store_watch_hub *hub, struct store_mvcc_events *events)
{
    if (events == NULL)
        return;
    hub_enter(hub);
    if (events->n > 0) {
        for (struct store_watch_stream *s = hub->streams; s; s = s->next)
            if (!s->broken)
                stream_notify(s, events);
    }
    if (events->revision > hub->rev)
        hub->rev = events->revision;
    store_mvcc_events_free(events);
    hub_leave(hub);
}

void store_watch_hub_reset(struct store_watch_hub *hub)
{
    struct store_mvcc_status st;
    if (store_mvcc_status(hub->mvcc, &st) == 0)
        hub->rev = st.revision;
    for (struct store_watch_stream *s = hub->streams; s; s = s->next)
        for (struct watcher *w = s->watchers; w; w = w->next)
            watcher_set_synced(s, w, false);
}

void store_watch_hub_sync(struct store_watch_hub *hub)
{
    hub_enter(hub);
    for (struct store_watch_stream *s = hub->streams; s && hub->unsynced > 0; s = s->next)
        if (s->unsynced > 0 && !s->broken)
            stream_sync(s);
    hub_leave(hub);
}

void store_watch_hub_progress_tick(struct store_watch_hub *hub)
{
    hub_enter(hub);
    for (struct store_watch_stream *s = hub->streams; s; s = s->next) {
        for (struct watcher *w = s->watchers; w && !s->broken; w = w->next) {
            if (!w->progress_notify)
                continue;
            if (w->progress_due && w->synced && s->sink.writable(s->sink.arg)) {
                Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
                resp.watch_id = w->id;
                stream_send(s, &resp, hub->rev);
            }
            w->progress_due = true;
        }
    }
    hub_leave(hub);
}

/* ------------------------------------------------------------ gRPC service */

struct store_watch_service {
    struct store_watch_hub *hub;
    store_watch_header_fn fill_header;
    uv_timer_t sync_timer, progress_timer;
    int open_timers;
    bool closing;
    struct watch_call *open; /* every call (the require-leader check; none: free to go) */
    /* store_watch_service_require_leader; has_leader NULL: metadata ignored */
    bool (*has_leader)(void);
    uint64_t no_leader_after_ms, leaderless_since; /* uv_now when it had none first, or 0 */
};

struct watch_call {
    struct store_watch_service *svc;
    struct k8c_grpc_call *call;
    struct store_watch_stream *stream;
    bool require_leader;
    struct watch_call *next, **prev_ptr; /* svc->open */
};

static void service_maybe_free(struct store_watch_service *svc)
{
    if (svc->closing && svc->open_timers == 0 && svc->open == NULL)
        k8c_free(svc);
}

static int call_sink_send(void *arg, Etcdserverpb__WatchResponse *resp)
{
    struct watch_call *wc = arg;
    if (resp->header)
        wc->svc->fill_header(resp->header);
    return k8c_grpc_call_send(wc->call, &resp->base);
}

static bool call_sink_writable(void *arg)
{
    struct watch_call *wc = arg;
    return k8c_grpc_call_writable(wc->call);
}

/* Ends the call and frees its state. */
static void call_end(struct watch_call *wc, int status, const char *message)
{
    struct store_watch_service *svc = wc->svc;
    *wc->prev_ptr = wc->next;
    if (wc->next != NULL)
        wc->next->prev_ptr = wc->prev_ptr;
    store_watch_stream_del(wc->stream);
    k8c_grpc_call_set_data(wc->call, NULL);
    k8c_grpc_call_finish(wc->call, status, message);
    k8c_free(wc);
    service_maybe_free(svc);
}

static void on_watch_start(struct k8c_grpc_call *call, void *arg)
{
    struct store_watch_service *svc = arg;
    const char *rl = k8c_grpc_call_metadata(call, "hasleader");
    bool require_leader = svc->has_leader != NULL && rl != NULL && strcmp(rl, "true") == 0;

    if (require_leader && !svc->has_leader()) {
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: no leader");
        return;
    }
    struct watch_call *wc = K8C_NEW(struct watch_call);
    struct store_watch_sink sink = {call_sink_send, call_sink_writable, wc};

    wc->svc = svc;
    wc->call = call;
    wc->require_leader = require_leader;
    wc->stream = store_watch_stream_new(svc->hub, &sink);
    wc->next = svc->open;
    if (wc->next != NULL)
        wc->next->prev_ptr = &wc->next;
    wc->prev_ptr = &svc->open;
    svc->open = wc;
    k8c_grpc_call_set_data(call, wc);
}

static void on_watch_message(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct watch_call *wc = k8c_grpc_call_data(call);
    int rc;

    if (wc == NULL || msg->pb == NULL)
        return;
    rc = store_watch_stream_request(wc->stream, (const Etcdserverpb__WatchRequest *)msg->pb);
    if (rc == K8C_EBUSY)
        call_end(wc, K8C_GRPC_RESOURCE_EXHAUSTED,
                 "etcdserver: watch stream closed: the client does not read its responses");
}

/* etcd keeps sending after the client half-closed; so do we. */
static void on_watch_half_close(struct k8c_grpc_call *call, void *arg)
{
}

static void on_watch_cancel(struct k8c_grpc_call *call, void *arg)
{
    struct watch_call *wc = k8c_grpc_call_data(call);
    if (wc != NULL)
        call_end(wc, K8C_GRPC_CANCELLED, "context canceled");
    else
        k8c_grpc_call_finish(call, K8C_GRPC_CANCELLED, "context canceled");
}

static void on_watch_writable(struct k8c_grpc_call *call, void *arg)
{
    struct watch_call *wc = k8c_grpc_call_data(call);
    if (wc != NULL)
        store_watch_stream_writable(wc->stream);
}

/* Ends the require-leader calls once the member has had no leader for
 * no_leader_after_ms (etcd's monitorLeader). */
static void check_leader(struct store_watch_service *svc, uint64_t now)
{
    if (svc->has_leader == NULL || svc->has_leader()) {
        svc->leaderless_since = 0;
        return;
    }
    if (svc->leaderless_since == 0)
        svc->leaderless_since = now;
    if (now - svc->leaderless_since < svc->no_leader_after_ms)
        return;
    for (struct watch_call *wc = svc->open, *next; wc != NULL; wc = next) {
        next = wc->next;
        if (wc->require_leader)
            call_end(wc, K8C_GRPC_UNAVAILABLE, "etcdserver: no leader");
    }
}

static void on_sync_timer(uv_timer_t *t)
{
    struct store_watch_service *svc = t->data;
    if (store_watch_hub_unsynced(svc->hub) > 0)
        store_watch_hub_sync(svc->hub);
    check_leader(svc, uv_now(t->loop));
}

void store_watch_service_require_leader(struct store_watch_service *svc, bool (*has_leader)(void),
                                        uint64_t after_ms)
{
    svc->has_leader = has_leader;
    svc->no_leader_after_ms = after_ms;
}

static void on_progress_timer(uv_timer_t *t)
{
    struct store_watch_service *svc = t->data;
    store_watch_hub_progress_tick(svc->hub);
}

struct store_watch_service *store_watch_service_new(uv_loop_t *loop, struct k8c_grpc_server *grpc,
                                                    struct store_watch_hub *hub,
                                                    store_watch_header_fn fill_header,
                                                    uint64_t progress_interval_ms, char *errmsg)
{
    struct store_watch_service *svc;
    struct k8c_grpc_method m = {0};
    int rc;

    svc = K8C_NEW(struct store_watch_service);
    svc->hub = hub;
    svc->fill_header = fill_header;
    m.path = "/etcdserverpb.Watch/Watch";
    m.kind = K8C_GRPC_BIDI_STREAMING;
    m.request = &etcdserverpb__watch_request__descriptor;
    m.response = &etcdserverpb__watch_response__descriptor;
    m.on_start = on_watch_start;
    m.on_message = on_watch_message;
    m.on_half_close = on_watch_half_close;
    m.on_cancel = on_watch_cancel;
    m.on_writable = on_watch_writable;
    m.arg = svc;
    if ((rc = k8c_grpc_server_register(grpc, &m)) != 0) {
        k8c_errmsg_printf(errmsg, "registering %s: %s", m.path, k8c_strerror(rc));
        k8c_free(svc);
        return NULL;
    }
    if (progress_interval_ms == 0)
        progress_interval_ms = STORE_WATCH_PROGRESS_INTERVAL_MS;
    uv_timer_init(loop, &svc->sync_timer);
    uv_timer_init(loop, &svc->progress_timer);
    svc->sync_timer.data = svc;
    svc->progress_timer.data = svc;
    svc->open_timers = 2;
    uv_timer_start(&svc->sync_timer, on_sync_timer, STORE_WATCH_SYNC_INTERVAL_MS,
                   STORE_WATCH_SYNC_INTERVAL_MS);
    uv_timer_start(&svc->progress_timer, on_progress_timer, progress_interval_ms,
                   progress_interval_ms);
    return svc;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct store_watch_service *svc = h->data;
    svc->open_timers--;
    service_maybe_free(svc);
}

void store_watch_service_close(struct store_watch_service *svc)
{
    if (svc == NULL || svc->closing)
        return;
    svc->closing = true;
    uv_close((uv_handle_t *)&svc->sync_timer, on_timer_closed);
    uv_close((uv_handle_t *)&svc->progress_timer, on_timer_closed);
}
