/*
 * The watch cache (see watchcache.h).
 *
 * Per resource: a sorted array of the current objects (struct cobj: the
 * decoded message, for selectors, and its encodings, each made once on first
 * use) and a ring of the last api_watchcache_window events. A whole watch
 * event - the JSON line `{"type":"MODIFIED","object":{...}}\n` or the
 * protobuf frame - is built once per object, event type and encoding, and
 * that one buffer is queued on every watcher it goes to, so ten thousand
 * watchers of one pod share one encoding and cost one queue entry each. An
 * encoding nobody watches in is never made. The window decides how old a
 * resourceVersion may be: a watch from a version whose events have left the
 * window gets 410 Expired, as upstream.
 *
 * Lifetimes: objects are reference-counted (the array holds one, each event
 * that names the object holds one). A watcher belongs to its request (freed
 * with it through op_free); the cache keeps a list of live watchers and
 * drops a watcher whose request went away.
 */
#include "watchcache.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "log.h"
#include "object.h"
#include "selector.h"
#include "turn.h"

#define WATCH_MAX_QUEUED     (16u * 1024 * 1024)
#define BOOKMARK_INTERVAL_MS 10000
#define RESTART_DELAY_MS     1000
#define RESUME_DELAY_MS      100 /* before a watch that ended goes on elsewhere */

enum { EV_ADDED, EV_MODIFIED, EV_DELETED, EV_NTYPES };
static const char *const type_name[EV_NTYPES] = {"ADDED", "MODIFIED", "DELETED"};

struct cobj {
    unsigned refs;
    char *key;
    size_t key_len; /* strlen(key): a watcher's namespace prefix is compared with memcmp */
    ProtobufCMessage *msg;
    /* the object in each encoding (JSON, "k8s\0" envelope) and whole events
     * (line or frame) per encoding and type, each made on first use */
    struct k8c_buf *enc[API_WATCH_NFORMATS];
    struct k8c_buf *event[API_WATCH_NFORMATS][EV_NTYPES];
    /* the JSON of the object as a list item: without kind and apiVersion, as upstream's
     * lists write their items (made on first use) */
    struct k8c_buf *item;
    int64_t rev;
    /* field-selector values, computed once on first use (not per watcher) */
    struct k8c_arena *fields_arena;
    struct api_field *fields;
    size_t nfields;
};

struct cevent {
    int type;
    int64_t rev;
    struct cobj *obj;  /* the new state (DELETED: the last state, rv = deletion) */
    struct cobj *prev; /* the state before, or NULL */
};

struct cwatcher;

struct cache {
    struct api_server *srv;
    const struct api_resource *res;
    bool ready;
    struct cobj **objs;
    size_t n, cap;
    struct cevent *ring;
    size_t ring_start, ring_len;
    int64_t rev;    /* the revision the cache reflects */
    int64_t oldest; /* events after this revision are all in the ring */
    /* Events after fanned_rev wait in the ring for cache_fanout: a pass over
     * the watchers (cursor: the next one) that every loop turn takes a batch
     * further (fanout_turn) until it ends, pass_rev being the newest event
     * when it began. */
    int64_t fanned_rev, pass_rev;
    struct cwatcher *cursor; /* in plain */
    /* Watchers whose field selector asks one indexed field (ifields) for one
     * value sit in buckets by that value, the others in plain: a pass visits
     * plain, and of the indexed ones only those in the buckets of the values
     * its events have (visit_indexed), as upstream's cacher does for pods'
     * spec.nodeName (a kubelet each). indexed_rev: every event up to it has
     * been through the buckets; icursor: the next watcher of a bucket there. */
    struct cwatcher *plain;
    struct cwatcher **buckets; /* IBUCKETS heads, made for the first indexed watcher */
    int64_t indexed_rev;
    struct cwatcher *icursor;
    struct k8c_turn fanout_turn; /* the next fan-out batch (lib/turn.h) */
    struct api_etcd_watch *w;
    struct cwatcher *watchers;
    struct api_req **waiting;
    size_t nwaiting;
    /* lists waiting for the cache to reach a revision (see wait_fresh) */
    struct rv_wait *rvwait;
    size_t nrvwait;
    uv_timer_t rvtimer;
    uv_timer_t restart;
    /* the bookmark at bookmark_rev, per encoding (shared by the watchers) */
    struct k8c_buf *bookmark[API_WATCH_NFORMATS];
    int64_t bookmark_rev[API_WATCH_NFORMATS];
    char prefix[512], end[512];
    struct cache *next;
};

struct rv_wait {
    struct api_req *req;
    int64_t rev;
    uint64_t since; /* uv_now when it started waiting */
};

struct cwatcher {
    unsigned magic;
    struct cache *c;
    struct api_req *req;
    struct cwatcher *next, *prev;   /* c->watchers: all */
    struct cwatcher *pnext, *pprev; /* c->plain, or the bucket's chain */
    bool linked;
    bool indexed; /* in c->buckets[bucket] */
    size_t bucket;
    struct api_label_selector labels;
    struct api_field_selector fields;
    bool has_fields;
    char *key_prefix; /* namespace filter <prefix>/<storage>/<ns>/, or NULL */
    size_t key_prefix_len;
    enum api_watch_format fmt;
    bool bookmarks;
    int64_t sent_rev; /* events up to here were delivered (or skipped: no match) */
    int64_t told_rev; /* the newest version the client was sent (event or bookmark) */
    uv_timer_t *timeout, *bookmark;
};
#define CWATCHER_MAGIC 0x77636163u

#define IBUCKETS 4096

/* Fields a watcher can be indexed by, in order of preference. */
static const char *const ifields[] = {"spec.nodeName", "metadata.name"};
#define NIFIELDS (sizeof(ifields) / sizeof(ifields[0]))

static size_t ibucket(size_t field, const char *value)
{
    uint64_t h = 1469598103934665603ull ^ field;
    for (const char *p = value; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (size_t)(h % IBUCKETS);
}

size_t api_watchcache_window = 4096;
size_t api_watchcache_fanout_batch = 1000;
static struct cache *caches;
static bool shutting_down;

/* ---- objects ---- */

static void cobj_unref(struct cobj *o)
{
    if (o == NULL || --o->refs > 0)
        return;
    api_obj_free(o->msg);
    for (int f = 0; f < API_WATCH_NFORMATS; f++) {
        k8c_buf_unref(o->enc[f]);
        for (int t = 0; t < EV_NTYPES; t++)
            k8c_buf_unref(o->event[f][t]);
    }
    k8c_buf_unref(o->item);
    k8c_arena_del(o->fields_arena);
    k8c_free(o->key);
    k8c_free(o);
}

static void cobj_fields(struct cobj *o)
{
    if (o->fields_arena != NULL)
        return;
    o->fields_arena = k8c_arena_new(0);
    o->fields = k8c_arena_alloc(o->fields_arena, API_MAX_OBJECT_FIELDS * sizeof(*o->fields));
    o->nfields = api_object_fields(o->fields_arena, o->msg, o->fields, API_MAX_OBJECT_FIELDS);
}

static struct cobj *cobj_ref(struct cobj *o)
{
    if (o != NULL)
        o->refs++;
    return o;
}

/* The object alone in encoding f (the inside of events), or as a JSON list item (item). */
static struct k8c_buf *cobj_encode(struct cobj *o, enum api_watch_format f, bool item)
{
    struct k8c_buf **slot = item ? &o->item : &o->enc[f];
    if (*slot == NULL) {
        struct k8c_sbuf out;
        char errmsg[K8C_ERRMSG_SIZE];
        k8c_sbuf_init(&out);
        if ((item ? k8c_codec_json_encode(&out, o->msg, 0, 0, errmsg)
                  : api_watch_encode_object(f, o->msg, &out, errmsg)) != 0) {
            /* cannot happen for a decoded object; an empty object keeps the
             * stream well-formed */
            k8c_log_error("watch cache: cannot encode key=%s err=%s", o->key, errmsg);
            k8c_sbuf_reset(&out);
            if (f == API_WATCH_JSON)
                k8c_sbuf_puts(&out, "{}");
        }
        *slot = k8c_sbuf_to_buf(&out);
        k8c_sbuf_free(&out);
    }
    return *slot;
}

static struct k8c_buf *cobj_encoded(struct cobj *o, enum api_watch_format f)
{
    return cobj_encode(o, f, false);
}

/* The whole event (JSON line or protobuf frame) of type t for o. */
static struct k8c_buf *cobj_event(struct cobj *o, enum api_watch_format f, int t)
{
    if (o->event[f][t] == NULL) {
        struct k8c_buf *enc = cobj_encoded(o, f);
        o->event[f][t] = api_watch_event(f, type_name[t], enc->data, enc->len);
    }
    return o->event[f][t];
}

static struct cobj *cobj_decode(struct cache *c, const struct api_etcd_kv *kv, int64_t rev)
{
    struct cobj *o = K8C_NEW(struct cobj);
    char errmsg[K8C_ERRMSG_SIZE];
    if (api_obj_decode_storage(c->res, kv->value, kv->value_len, rev, &o->msg, errmsg) != 0) {
        k8c_log_error("watch cache: undecodable object key=%.*s err=%s", (int)kv->key_len, kv->key,
                      errmsg);
        k8c_free(o);
        return NULL;
    }
    o->refs = 1;
    o->key = k8c_strndup(kv->key, kv->key_len);
    o->key_len = strlen(o->key);
    o->rev = rev;
    return o;
}

/* Binary search: index of key, or where it would go (*found false). */
static size_t find(const struct cache *c, const char *key, bool *found)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(c->objs[mid]->key, key);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Puts o at key (taking the reference); returns the previous object (its
 * reference now the caller's) or NULL. */
static struct cobj *map_put(struct cache *c, struct cobj *o)
{
    bool found;
    size_t i = find(c, o->key, &found);
    if (found) {
        struct cobj *old = c->objs[i];
        c->objs[i] = o;
        return old;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->objs = k8c_realloc(c->objs, c->cap * sizeof(*c->objs));
    }
    memmove(c->objs + i + 1, c->objs + i, (c->n - i) * sizeof(*c->objs));
    c->objs[i] = o;
    c->n++;
    return NULL;
}

static struct cobj *map_remove(struct cache *c, const char *key)
{
    bool found;
    size_t i = find(c, key, &found);
    if (!found)
        return NULL;
    struct cobj *old = c->objs[i];
    memmove(c->objs + i, c->objs + i + 1, (c->n - i - 1) * sizeof(*c->objs));
    c->n--;
    return old;
}

/* ---- watchers ---- */

static void timer_closed(uv_handle_t *h)
{
    k8c_free(h);
}

static void stop_timer(uv_timer_t **t)
{
    if (*t != NULL) {
        uv_timer_stop(*t);
        uv_close((uv_handle_t *)*t, timer_closed);
        *t = NULL;
    }
}

static void link_watcher(struct cache *c, struct cwatcher *w)
{
    w->next = c->watchers;
    if (c->watchers)
        c->watchers->prev = w;
    c->watchers = w;
    /* the first indexed field the selector asks for exactly */
    const char *v = NULL;
    for (size_t f = 0; f < NIFIELDS && !w->indexed && w->has_fields; f++) {
        if (api_fields_requires_exact_match(&w->fields, ifields[f], &v)) {
            w->indexed = true;
            w->bucket = ibucket(f, v);
        }
    }
    struct cwatcher **head = &c->plain;
    if (w->indexed) {
        if (c->buckets == NULL)
            c->buckets = k8c_calloc(IBUCKETS, sizeof(*c->buckets));
        head = &c->buckets[w->bucket];
    }
    w->pnext = *head;
    if (*head)
        (*head)->pprev = w;
    *head = w;
    w->linked = true;
}

static void unlink_watcher(struct cwatcher *w)
{
    if (!w->linked)
        return;
    struct cache *c = w->c;
    if (w->prev)
        w->prev->next = w->next;
    else
        c->watchers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->pprev)
        w->pprev->pnext = w->pnext;
    else if (w->indexed)
        c->buckets[w->bucket] = w->pnext;
    else
        c->plain = w->pnext;
    if (w->pnext)
        w->pnext->pprev = w->pprev;
    if (c->cursor == w)
        c->cursor = w->pnext;
    if (c->icursor == w)
        c->icursor = w->pnext;
    w->linked = false;
    stop_timer(&w->timeout);
    stop_timer(&w->bookmark);
}

static void cwatcher_free(void *arg)
{
    struct cwatcher *w = arg;
    unlink_watcher(w);
    k8c_free(w->key_prefix);
    api_labels_free(&w->labels);
    if (w->has_fields)
        api_fields_free(&w->fields);
    k8c_free(w);
}

/* Ends a watcher's response. */
static void watcher_finish(struct cwatcher *w)
{
    unlink_watcher(w);
    if (w->req->s != NULL && k8c_http_stream_headers_sent(w->req->s))
        k8c_http_stream_finish(w->req->s, NULL, 0);
}

static bool wmatches(struct cwatcher *w, struct cobj *o)
{
    if (o == NULL)
        return false;
    if (w->key_prefix != NULL &&
        (o->key_len < w->key_prefix_len || memcmp(o->key, w->key_prefix, w->key_prefix_len) != 0))
        return false;
    if (!api_labels_empty(&w->labels) && !api_labels_matches_meta(&w->labels, api_obj_meta(o->msg)))
        return false;
    if (!w->has_fields)
        return true;
    cobj_fields(o);
    return api_fields_matches(&w->fields, o->fields, o->nfields);
}

static void send_line(struct cwatcher *w, int type, struct cobj *o)
{
    struct k8c_http_stream *s = w->req->s;
    if (s == NULL)
        return;
    k8c_http_stream_send(s, cobj_event(o, w->fmt, type));
    if (k8c_http_stream_queued(s) > WATCH_MAX_QUEUED) {
        k8c_log_info("watch client too slow, closing path=%s user=%s", w->req->path, w->req->user);
        watcher_finish(w);
    }
}

/* One event to one watcher, with selector transitions as upstream. */
static void deliver(struct cwatcher *w, const struct cevent *ev)
{
    if (ev->rev <= w->sent_rev)
        return;
    w->sent_rev = ev->rev;
    bool now = ev->type != EV_DELETED && wmatches(w, ev->obj);
    bool before = wmatches(w, ev->type == EV_DELETED ? ev->obj : ev->prev);
    int type;
    if (ev->type == EV_DELETED)
        type = before ? EV_DELETED : -1;
    else if (now)
        type = before ? EV_MODIFIED : EV_ADDED;
    else
        type = before ? EV_DELETED : -1; /* no longer matches: gone from its view */
    if (type < 0)
        return;
    w->told_rev = ev->rev;
    send_line(w, type, ev->obj);
}

static void catch_up(struct cache *c, struct cwatcher *w);

static void send_bookmark(struct cwatcher *w)
{
    struct cache *c = w->c;
    if (w->req->s == NULL)
        return;
    if (c->bookmark[w->fmt] == NULL || c->bookmark_rev[w->fmt] != c->rev) {
        k8c_buf_unref(c->bookmark[w->fmt]);
        c->bookmark[w->fmt] = api_watch_bookmark(w->fmt, c->res, c->rev, false);
        c->bookmark_rev[w->fmt] = c->rev;
    }
    k8c_http_stream_send(w->req->s, c->bookmark[w->fmt]);
    w->sent_rev = w->told_rev = c->rev;
}

static void on_bookmark_tick(uv_timer_t *t)
{
    struct cwatcher *w = t->data;
    /* the buckets took an indexed watcher through the events up to
     * indexed_rev: the ring from there on is all that may be new to it */
    if (w->indexed && w->sent_rev < w->c->indexed_rev)
        w->sent_rev = w->c->indexed_rev;
    catch_up(w->c, w);
    /* Every event up to c->rev went through deliver() now: a bookmark
     * tells a watcher whose selector skipped the latest ones how far it got,
     * so its reconnect does not start from a version that expired. */
    if (w->linked && w->c->rev > w->told_rev)
        send_bookmark(w);
}

static void on_timeout(uv_timer_t *t)
{
    watcher_finish(t->data);
}

/* ---- the store side ---- */

static void cache_start(struct cache *c);

static struct cevent *ring_at(struct cache *c, size_t i)
{
    return &c->ring[(c->ring_start + i) % api_watchcache_window];
}

static void cache_fanout(struct cache *c, size_t max);

static void ring_push(struct cache *c, struct cevent ev)
{
    if (c->ring == NULL)
        c->ring = k8c_calloc(api_watchcache_window, sizeof(*c->ring));
    if (c->ring_len == api_watchcache_window && ring_at(c, 0)->rev > c->fanned_rev)
        cache_fanout(c, SIZE_MAX); /* the oldest event may not have been sent */
    if (c->ring_len == api_watchcache_window) {
        struct cevent *old = ring_at(c, 0);
        c->oldest = old->rev;
        cobj_unref(old->obj);
        cobj_unref(old->prev);
        c->ring_start = (c->ring_start + 1) % api_watchcache_window;
        c->ring_len--;
    }
    *ring_at(c, c->ring_len) = ev;
    c->ring_len++;
}

/* The index of the first event in the ring after rev (ring_len if none). */
static size_t ring_after(struct cache *c, int64_t rev)
{
    size_t lo = 0, hi = c->ring_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(c, mid)->rev <= rev)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Every event in the ring that w has not had, to w. */
static void catch_up(struct cache *c, struct cwatcher *w)
{
    for (size_t i = ring_after(c, w->sent_rev); i < c->ring_len && w->linked; i++)
        deliver(w, ring_at(c, i));
}

static void fanout_soon(struct cache *c);

/* The events after indexed_rev up to upto, each to the indexed watchers in
 * the buckets of its object's (and previous state's) indexed field values. */
static void visit_indexed(struct cache *c, int64_t upto)
{
    for (size_t i = ring_after(c, c->indexed_rev); c->buckets != NULL && i < c->ring_len; i++) {
        struct cevent *ev = ring_at(c, i);
        if (ev->rev > upto)
            break;
        struct cobj *states[2] = {ev->obj, ev->prev};
        for (size_t k = 0; k < 2 && states[k] != NULL; k++) {
            cobj_fields(states[k]);
            for (size_t f = 0; f < NIFIELDS; f++) {
                const char *v = api_fields_value(states[k]->fields, states[k]->nfields, ifields[f]);
                for (c->icursor = c->buckets[ibucket(f, v)]; c->icursor != NULL;) {
                    struct cwatcher *w = c->icursor;
                    c->icursor = w->pnext; /* first: deliver may unlink w */
                    deliver(w, ev);
                }
            }
        }
    }
    if (upto > c->indexed_rev)
        c->indexed_rev = upto;
}

/*
 * The events the store sent, to every watcher, at most max watchers this
 * call. Each watcher gets all it has not had at once: when several events
 * came in one loop turn (the API server fell behind), a watcher's stream
 * carries them in one frame, so a fan-out costs less per event just when it
 * has to catch up. And it goes on in the next loop turn after a batch of
 * api_watchcache_fanout_batch watchers: a write that arrives meanwhile, or
 * any other request, waits for a batch, not for a fan-out to ten thousand
 * watchers.
 */
static void cache_fanout(struct cache *c, size_t max)
{
    k8c_turn_disarm(&c->fanout_turn);
    for (size_t done = 0;;) {
        if (c->cursor == NULL) {
            if (c->pass_rev > c->fanned_rev)
                c->fanned_rev = c->pass_rev; /* a pass ended */
            if (c->rev <= c->fanned_rev || c->watchers == NULL) {
                c->fanned_rev = c->indexed_rev = c->rev;
                return;
            }
            c->pass_rev = c->rev;
            visit_indexed(c, c->pass_rev);
            c->cursor = c->plain;
        }
        for (; c->cursor != NULL && done < max; done++) {
            struct cwatcher *w = c->cursor;
            c->cursor = w->pnext; /* first: catch_up may unlink w */
            catch_up(c, w);
        }
        if (c->cursor != NULL) {
            fanout_soon(c);
            return;
        }
    }
}

static void on_fanout_turn(struct k8c_turn *t)
{
    cache_fanout(t->data, api_watchcache_fanout_batch);
}

static void fanout_soon(struct cache *c)
{
    k8c_turn_arm(&c->fanout_turn);
}

/*
 * Lists at resourceVersion=N (not older than N) and consistent lists (no
 * resourceVersion: N is the store's current revision) are served from the
 * cache once it has caught up with N, as upstream's cache does
 * (ConsistentListFromCache): the store is asked for a progress notification
 * so a quiet resource catches up too; after FRESH_TIMEOUT_MS the answer is
 * upstream's 504 "Too large resource version".
 */
#define FRESH_TIMEOUT_MS 3000
#define FRESH_POLL_MS    100

static void serve_list(struct cache *c, struct api_req *req);
static void serve_now(struct cache *c, struct api_req *req);

/* A list (504) or a WatchList (an ERROR event, as upstream's error watcher)
 * that the cache did not catch up with in time. */
static void respond_not_fresh(struct api_req *req, int64_t rev, int64_t cur)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "Timeout: Too large resource version: %lld, current: %lld",
             (long long)rev, (long long)cur);
    if (req->verb != VERB_WATCH) {
        api_respond_status(req, 504, "Timeout", msg);
        return;
    }
    enum api_watch_format f = api_watch_format_of(req);
    api_watch_respond(req, f);
    struct k8c_buf *ev = api_watch_error(f, 504, "Timeout", msg);
    k8c_http_stream_send(req->s, ev);
    k8c_buf_unref(ev);
    k8c_http_stream_finish(req->s, NULL, 0);
}

static void serve_fresh(struct cache *c)
{
    if (c->nrvwait == 0 || !c->ready)
        return;
    uint64_t now = uv_now(c->srv->loop);
    size_t keep = 0;
    for (size_t i = 0; i < c->nrvwait; i++) {
        struct rv_wait w = c->rvwait[i];
        if (!api_req_gone(w.req) && c->rev < w.rev && now - w.since < FRESH_TIMEOUT_MS) {
            c->rvwait[keep++] = w;
            continue;
        }
        if (!api_req_gone(w.req) && c->rev >= w.rev)
            serve_now(c, w.req);
        else if (!api_req_gone(w.req))
            respond_not_fresh(w.req, w.rev, c->rev);
        api_req_unref(w.req);
    }
    c->nrvwait = keep;
    if (keep == 0)
        uv_timer_stop(&c->rvtimer);
}

static void on_rvtimer(uv_timer_t *t)
{
    struct cache *c = t->data;
    serve_fresh(c);
    if (c->nrvwait > 0 && c->w != NULL)
        api_etcd_watch_progress(c->w);
}

static void wait_fresh(struct cache *c, struct api_req *req, int64_t rev)
{
    if (c->ready && c->rev >= rev) {
        serve_now(c, req);
        return;
    }
    api_req_ref(req);
    c->rvwait = k8c_realloc(c->rvwait, (c->nrvwait + 1) * sizeof(*c->rvwait));
    c->rvwait[c->nrvwait++] = (struct rv_wait){req, rev, uv_now(c->srv->loop)};
    if (c->w != NULL)
        api_etcd_watch_progress(c->w);
    if (!uv_is_active((uv_handle_t *)&c->rvtimer))
        uv_timer_start(&c->rvtimer, on_rvtimer, FRESH_POLL_MS, FRESH_POLL_MS);
}

struct current_rev {
    struct cache *c;
    struct api_req *req;
};

static void on_current_rev(void *arg, const struct api_etcd_result *res)
{
    struct current_rev *q = arg;
    if (!api_req_gone(q->req) && res->err != 0)
        api_respond_store_error(q->req, res->err, res->errmsg);
    else if (!api_req_gone(q->req))
        wait_fresh(q->c, q->req, res->rev);
    api_req_unref(q->req);
    k8c_free(q);
}

static void on_store_event(void *arg, int type, const struct api_etcd_kv *kv,
                           const struct api_etcd_kv *prev_kv, int64_t revision)
{
    struct cache *c = arg;
    if (kv == NULL) {
        if (revision > c->rev)
            c->rev = revision;
        serve_fresh(c);
        return;
    }
    struct cevent ev = {.rev = revision};
    char *key = k8c_strndup(kv->key, kv->key_len);
    if (type == MVCCPB__EVENT__EVENT_TYPE__PUT) {
        struct cobj *o = cobj_decode(c, kv, revision);
        if (o == NULL) {
            k8c_free(key);
            return;
        }
        ev.prev = map_put(c, cobj_ref(o));
        ev.type = ev.prev ? EV_MODIFIED : EV_ADDED;
        ev.obj = o;
    } else {
        struct cobj *last = map_remove(c, key);
        if (last == NULL) {
            k8c_free(key);
            if (revision > c->rev)
                c->rev = revision;
            return;
        }
        /* the deleted object carries the deletion's revision */
        struct cobj *o = K8C_NEW(struct cobj);
        o->refs = 1;
        o->key = k8c_strdup(last->key);
        o->key_len = last->key_len;
        o->msg = api_obj_copy(last->msg);
        o->rev = revision;
        char rv[24];
        snprintf(rv, sizeof(rv), "%lld", (long long)revision);
        api_set_str(&api_obj_meta_ensure(o->msg)->resourceversion, rv);
        ev.type = EV_DELETED;
        ev.obj = o;
        ev.prev = last;
    }
    k8c_free(key);
    c->rev = revision;
    ring_push(c, ev);
    fanout_soon(c);
    serve_fresh(c);
}

static void cache_clear(struct cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        cobj_unref(c->objs[i]);
    c->n = 0;
    for (size_t i = 0; i < c->ring_len; i++) {
        struct cevent *ev = ring_at(c, i);
        cobj_unref(ev->obj);
        cobj_unref(ev->prev);
    }
    c->ring_len = 0;
    c->ring_start = 0;
    c->ready = false;
    for (int f = 0; f < API_WATCH_NFORMATS; f++) {
        k8c_buf_unref(c->bookmark[f]);
        c->bookmark[f] = NULL;
    }
}

static void on_store_watch_done(void *arg, int err, const char *errmsg, int64_t rev);
static void on_restart(uv_timer_t *t);

/* The cache goes on from where its store watch ended (c->rev: every event up
 * to it is in), on the peer the failure moved to; a new watch from a
 * revision the store has compacted away ends at once with that error, and
 * the cache starts over. */
static void cache_resume(struct cache *c)
{
    c->w = api_etcd_watch(c->srv->etcd, c->prefix, c->end, c->rev + 1, true, true, on_store_event,
                          on_store_watch_done, c);
    if (c->w == NULL)
        uv_timer_start(&c->restart, on_restart, RESTART_DELAY_MS, 0);
}

/* A full cache resumes its watch; an empty one lists first. */
static void on_restart(uv_timer_t *t)
{
    struct cache *c = t->data;
    if (c->ready)
        cache_resume(c);
    else
        cache_start(c);
}

static void on_store_watch_done(void *arg, int err, const char *errmsg, int64_t rev)
{
    struct cache *c = arg;
    c->w = NULL;
    if (shutting_down)
        return;
    if (c->ready && err != K8C_ETCD_COMPACTED) {
        /* A store peer went away or hangs: the watchers keep their streams and
         * miss nothing, as upstream's reflector watches again from its last
         * revision. */
        k8c_log_info("watch cache: store watch ended, resuming resource=%s rev=%lld err=\"%s\"",
                     c->res->resource, (long long)c->rev, err ? errmsg : "none");
        uv_timer_start(&c->restart, on_restart, RESUME_DELAY_MS, 0);
        return;
    }
    k8c_log_info("watch cache: store watch ended, starting over resource=%s err=\"%s\"",
                 c->res->resource, err ? errmsg : "none");
    /* Watchers reconnect (client-go relists on a closed watch). */
    while (c->watchers != NULL)
        watcher_finish(c->watchers);
    cache_clear(c);
    uv_timer_start(&c->restart, on_restart, RESTART_DELAY_MS, 0);
}

static void serve_now(struct cache *c, struct api_req *req);

static void cache_listed(void *arg, const struct api_etcd_result *res)
{
    struct cache *c = arg;
    if (res->err != 0) {
        k8c_log_error("watch cache: list failed resource=%s err=\"%s\"", c->res->resource,
                      res->errmsg);
        uv_timer_start(&c->restart, on_restart, RESTART_DELAY_MS, 0);
        return;
    }
    for (size_t i = 0; i < res->n; i++) {
        struct cobj *o = cobj_decode(c, &res->kvs[i], res->kvs[i].mod_revision);
        if (o != NULL)
            cobj_unref(map_put(c, o));
    }
    c->rev = c->oldest = c->fanned_rev = c->indexed_rev = res->rev;
    c->ready = true;
    c->w = api_etcd_watch(c->srv->etcd, c->prefix, c->end, res->rev + 1, true, true, on_store_event,
                          on_store_watch_done, c);
    k8c_log_v(1, "watch cache ready resource=%s objects=%zu rev=%lld", c->res->resource, c->n,
              (long long)c->rev);
    struct api_req **waiting = c->waiting;
    size_t n = c->nwaiting;
    c->waiting = NULL;
    c->nwaiting = 0;
    for (size_t i = 0; i < n; i++) {
        if (!api_req_gone(waiting[i]))
            serve_now(c, waiting[i]);
        api_req_unref(waiting[i]);
    }
    serve_fresh(c);
    k8c_free(waiting);
}

static void cache_start(struct cache *c)
{
    api_etcd_range(c->srv->etcd, c->prefix, c->end, 0, 0, false, cache_listed, c);
}

static struct cache *cache_get(struct api_server *srv, const struct api_resource *r)
{
    for (struct cache *c = caches; c != NULL; c = c->next)
        if (c->res == r)
            return c;
    struct cache *c = K8C_NEW(struct cache);
    c->srv = srv;
    c->res = r;
    api_key(srv, r, NULL, "", c->prefix, sizeof(c->prefix));
    api_etcd_prefix_end(c->prefix, c->end, sizeof(c->end));
    uv_timer_init(srv->loop, &c->restart);
    c->restart.data = c;
    uv_unref((uv_handle_t *)&c->restart);
    uv_timer_init(srv->loop, &c->rvtimer);
    c->rvtimer.data = c;
    k8c_turn_init(srv->loop, &c->fanout_turn, on_fanout_turn, c,
                  K8C_TURN_IDLE_RUNS | K8C_TURN_UNREF);
    c->next = caches;
    caches = c;
    cache_start(c);
    return c;
}

/* ---- serving ---- */

static void serve_list(struct cache *c, struct api_req *req)
{
    struct api_label_selector labels;
    struct api_field_selector fields;
    bool has_fields;
    char key_prefix[1024] = "";
    if (!api_parse_selectors(req, &labels, &fields, &has_fields))
        return;
    if (req->res->namespaced && req->ns[0] != '\0')
        api_key(req->srv, req->res, req->ns, "", key_prefix, sizeof(key_prefix));
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
                     "\"%lld\"},\"items\":[",
                     req->res->list_kind, req->res->api_version, (long long)c->rev);
    struct k8c_http_header h[] = {{"content-type", "application/json"}};
    k8c_http_stream_respond(req->s, 200, h, 1, false);
    req->code = 200;
    k8c_http_stream_send_copy(req->s, head, (size_t)n);
    bool first = true;
    struct k8c_buf *comma = k8c_buf_copy(",", 1);
    for (size_t i = 0; i < c->n; i++) {
        struct cobj *o = c->objs[i];
        if (key_prefix[0] != '\0' && strncmp(o->key, key_prefix, strlen(key_prefix)) != 0)
            continue;
        if (!api_object_matches(&labels, &fields, has_fields, o->msg))
            continue;
        if (!first)
            k8c_http_stream_send(req->s, comma);
        k8c_http_stream_send(req->s, cobj_encode(o, API_WATCH_JSON, true));
        first = false;
    }
    k8c_buf_unref(comma);
    k8c_http_stream_send_copy(req->s, "]}", 2);
    k8c_http_stream_finish(req->s, NULL, 0);
    api_labels_free(&labels);
    if (has_fields)
        api_fields_free(&fields);
}

static void serve_watch(struct cache *c, struct api_req *req)
{
    struct cwatcher *w = K8C_NEW(struct cwatcher);
    char buf[64];
    w->magic = CWATCHER_MAGIC;
    w->c = c;
    w->req = req;
    if (!api_parse_selectors(req, &w->labels, &w->fields, &w->has_fields)) {
        k8c_free(w);
        return;
    }
    if (req->res->namespaced && req->ns[0] != '\0') {
        char key_prefix[1024];
        api_key(req->srv, req->res, req->ns, "", key_prefix, sizeof(key_prefix));
        w->key_prefix = k8c_strdup(key_prefix);
        w->key_prefix_len = strlen(key_prefix);
    }
    w->fmt = api_watch_format_of(req);
    w->bookmarks = api_query_bool(req, "allowWatchBookmarks");
    req->op = w;
    req->op_free = cwatcher_free;

    const char *rv = api_query(req, "resourceVersion", buf, sizeof(buf));
    int64_t from = 0;
    bool unset = rv == NULL || rv[0] == '\0' || strcmp(rv, "0") == 0;
    /* sendInitialEvents (WatchList): true is the state at the cache's
     * revision (which api_watchcache_serve made at least resourceVersion, or
     * the store's if unset) whatever resourceVersion says; false with no
     * resourceVersion starts from now, without it. */
    int sie = api_send_initial_events(req);
    bool initial = sie == 1 || (sie < 0 && unset);
    if (sie == 0 && unset) {
        rv = NULL;
        from = c->rev;
    }
    if (!initial && rv != NULL) {
        char *end;
        from = strtoll(rv, &end, 10);
        if (*end != '\0' || from < 0) {
            api_respond_status(req, 400, "BadRequest", "invalid resource version");
            return;
        }
    }
    api_watch_respond(req, w->fmt);
    if (!initial && from < c->oldest) {
        char msg[128];
        snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)from,
                 (long long)c->oldest);
        struct k8c_buf *ev = api_watch_error(w->fmt, 410, "Expired", msg);
        k8c_http_stream_send(req->s, ev);
        k8c_buf_unref(ev);
        k8c_http_stream_finish(req->s, NULL, 0);
        return;
    }
    if (initial) {
        for (size_t i = 0; i < c->n; i++)
            if (wmatches(w, c->objs[i]))
                send_line(w, EV_ADDED, c->objs[i]);
        w->sent_rev = c->rev;
        if (sie == 1 && w->bookmarks && req->s != NULL) {
            /* the end of the initial events, as upstream marks it */
            struct k8c_buf *bm = api_watch_bookmark(w->fmt, c->res, c->rev, true);
            k8c_http_stream_send(req->s, bm);
            k8c_buf_unref(bm);
            w->told_rev = c->rev;
        }
    } else {
        w->sent_rev = w->told_rev = from;
        for (size_t i = 0; i < c->ring_len; i++)
            deliver(w, ring_at(c, i));
        if (w->sent_rev < from)
            w->sent_rev = from;
    }
    if (req->s == NULL || k8c_http_stream_queued(req->s) > WATCH_MAX_QUEUED)
        return;
    link_watcher(c, w);
    w->timeout = k8c_malloc(sizeof(*w->timeout));
    uv_timer_init(req->srv->loop, w->timeout);
    w->timeout->data = w;
    uv_timer_start(w->timeout, on_timeout, api_watch_timeout_ms(req), 0);
    if (w->bookmarks) {
        w->bookmark = k8c_malloc(sizeof(*w->bookmark));
        uv_timer_init(req->srv->loop, w->bookmark);
        w->bookmark->data = w;
        uv_timer_start(w->bookmark, on_bookmark_tick, BOOKMARK_INTERVAL_MS, BOOKMARK_INTERVAL_MS);
    }
}

static void serve_now(struct cache *c, struct api_req *req)
{
    if (req->verb == VERB_WATCH)
        serve_watch(c, req);
    else
        serve_list(c, req);
}

/* The revision the cache must have reached to serve a read "not older than"
 * rv: -1 for none given (consistent: the store's current one), 0 for "0"
 * (any recent state). False for a value beyond int64 (a valid uint64): the
 * store path answers it (options were validated before). */
static bool not_older_than(const char *rv, int64_t *min_rev)
{
    char *end = NULL;
    *min_rev = 0;
    if (rv == NULL || rv[0] == '\0') {
        *min_rev = -1;
        return true;
    }
    if (strcmp(rv, "0") == 0)
        return true;
    errno = 0;
    long long n = strtoll(rv, &end, 10);
    if (end == rv || *end != '\0' || n <= 0 || errno == ERANGE)
        return false;
    *min_rev = n;
    return true;
}

bool api_watchcache_serve(struct api_req *req)
{
    char buf[32];
    if (req->table || req->partial || req->res == NULL || req->res->storage[0] == '\0')
        return false; /* per-watcher encodings: the store-backed list and watch */
    const char *rv = api_query(req, "resourceVersion", buf, sizeof(buf));
    int64_t min_rev = 0; /* the revision the cache must have reached; -1: the store's */
    if (req->verb == VERB_LIST) {
        char mbuf[32], lbuf[32];
        const char *match = api_query(req, "resourceVersionMatch", mbuf, sizeof(mbuf));
        const char *limit = api_query(req, "limit", lbuf, sizeof(lbuf));
        bool limited = limit != NULL && strcmp(limit, "") != 0 && strcmp(limit, "0") != 0;
        bool any = rv != NULL && strcmp(rv, "0") == 0; /* informers' relist */
        if (req->out != API_JSON || api_query(req, "continue", buf, sizeof(buf)))
            return false;
        if (match != NULL && match[0] != '\0' && strcmp(match, "NotOlderThan") != 0)
            return false; /* exact revisions: the store (as upstream 1.32) */
        if (limited && !any)
            return false; /* pages: the store */
        if (!not_older_than(rv, &min_rev))
            return false;
    } else if (req->verb != VERB_WATCH) {
        return false;
    } else if (api_send_initial_events(req) == 1 && !not_older_than(rv, &min_rev)) {
        /* WatchList: the initial state is read like a list's */
        return false;
    }
    struct cache *c = cache_get(req->srv, req->res);
    if (min_rev < 0) {
        struct current_rev *q = K8C_NEW(struct current_rev);
        q->c = c;
        q->req = req;
        api_req_ref(req);
        api_etcd_range(req->srv->etcd, c->prefix, c->end, 1, 0, true, on_current_rev, q);
        return true;
    }
    if (min_rev > 0) {
        wait_fresh(c, req, min_rev);
        return true;
    }
    if (!c->ready) {
        api_req_ref(req);
        c->waiting = k8c_realloc(c->waiting, (c->nwaiting + 1) * sizeof(*c->waiting));
        c->waiting[c->nwaiting++] = req;
        return true;
    }
    serve_now(c, req);
    return true;
}

void api_watchcache_prime(struct api_server *srv, const struct api_resource *r)
{
    cache_get(srv, r);
}

const ProtobufCMessage *api_watchcache_get(struct api_server *srv, const struct api_resource *r,
                                           const char *key, bool *ready)
{
    *ready = false;
    if (srv->etcd == NULL)
        return NULL; /* no store: nothing is known */
    struct cache *c = cache_get(srv, r);
    bool found;
    if (!c->ready)
        return NULL;
    *ready = true;
    size_t i = find(c, key, &found);
    return found ? c->objs[i]->msg : NULL;
}

int api_watchcache_lookup_uid(struct api_server *srv, const struct api_resource *r, const char *key,
                              char *uid, size_t size)
{
    bool ready;
    const ProtobufCMessage *obj = api_watchcache_get(srv, r, key, &ready);
    if (!ready)
        return -1;
    if (obj == NULL)
        return 0;
    api_meta_t *m = api_obj_meta(obj);
    snprintf(uid, size, "%s", m != NULL && m->uid != NULL ? m->uid : "");
    return 1;
}

bool api_watchcache_ready(struct api_server *srv, const struct api_resource *r)
{
    return srv->etcd != NULL && cache_get(srv, r)->ready;
}

long api_watchcache_each(struct api_server *srv, const struct api_resource *r, const char *ns,
                         void (*fn)(void *arg, const ProtobufCMessage *obj), void *arg)
{
    if (srv->etcd == NULL)
        return -1;
    struct cache *c = cache_get(srv, r);
    if (!c->ready)
        return -1;
    char prefix[1024];
    bool found;
    api_key(srv, r, ns, "", prefix, sizeof(prefix));
    size_t len = strlen(prefix);
    long n = 0;
    for (size_t i = find(c, prefix, &found); i < c->n; i++, n++) {
        if (strncmp(c->objs[i]->key, prefix, len) != 0)
            break;
        fn(arg, c->objs[i]->msg);
    }
    return n;
}

void api_watchcache_shutdown(struct api_server *srv)
{
    shutting_down = true;
    for (struct cache *c = caches, *next; c != NULL; c = next) {
        next = c->next;
        while (c->watchers != NULL)
            watcher_finish(c->watchers);
        if (c->w != NULL)
            api_etcd_watch_cancel(c->w);
        uv_timer_stop(&c->restart);
        uv_timer_stop(&c->rvtimer);
        k8c_turn_disarm(&c->fanout_turn);
        for (size_t i = 0; i < c->nrvwait; i++)
            api_req_unref(c->rvwait[i].req);
        c->nrvwait = 0;
    }
    (void)srv;
}

/* ---- watch stream encodings (see watchcache.h) ---- */

enum api_watch_format api_watch_format_of(const struct api_req *req)
{
    return req->out == API_PROTOBUF && !req->table ? API_WATCH_PROTOBUF : API_WATCH_JSON;
}

const char *api_watch_content_type(enum api_watch_format f)
{
    return f == API_WATCH_PROTOBUF ? "application/vnd.kubernetes.protobuf;stream=watch"
                                   : "application/json";
}

uint64_t api_watch_timeout_ms(struct api_req *req)
{
    char buf[64];
    const char *to = api_query(req, "timeoutSeconds", buf, sizeof(buf));
    /* read_options_valid checked it is an int64 */
    int64_t s = to != NULL ? strtoll(to, NULL, 10) : 0;
    if (s < 0)
        return 0;
    if (s > 0)
        return s > INT64_MAX / 1000 ? UINT64_MAX : (uint64_t)s * 1000;
    uint64_t min = (uint64_t)req->srv->min_request_timeout_s * 1000;
    return min > 0 ? min + (uint64_t)random() % min : UINT64_MAX; /* 0: no end */
}

void api_watch_respond(struct api_req *req, enum api_watch_format f)
{
    struct k8c_http_header h[] = {{"content-type", api_watch_content_type(f)},
                                  {"cache-control", "no-cache, private"}};
    k8c_http_stream_respond(req->s, 200, h, 2, false);
    req->code = 200;
}

int api_watch_encode_object(enum api_watch_format f, const ProtobufCMessage *msg,
                            struct k8c_sbuf *out, char *errmsg)
{
    if (f == API_WATCH_PROTOBUF)
        return k8c_codec_proto_encode(out, msg, NULL, NULL, errmsg);
    return k8c_codec_json_encode(out, msg, K8C_CODEC_TYPE_META, 0, errmsg);
}

struct k8c_buf *api_watch_event(enum api_watch_format f, const char *type, const void *obj,
                                size_t len)
{
    size_t type_len = strlen(type);
    if (f == API_WATCH_JSON) {
        /* {"type":"<type>","object":<obj>}\n */
        struct k8c_buf *b = k8c_buf_new(9 + type_len + 11 + len + 2);
        uint8_t *p = b->data;
        memcpy(p, "{\"type\":\"", 9);
        p += 9;
        memcpy(p, type, type_len);
        p += type_len;
        memcpy(p, "\",\"object\":", 11);
        p += 11;
        memcpy(p, obj, len);
        p += len;
        memcpy(p, "}\n", 2);
        p += 2;
        b->len = (size_t)(p - b->data);
        b->data[b->len] = '\0';
        return b;
    }
    /* 4-byte big-endian length, then WatchEvent {1: type, 2: RawExtension {1: raw}} */
    size_t ext_len = 1 + k8c_codec_varint_len(len) + len;
    size_t ev_len =
        1 + k8c_codec_varint_len(type_len) + type_len + 1 + k8c_codec_varint_len(ext_len) + ext_len;
    struct k8c_buf *b = k8c_buf_new(4 + ev_len);
    uint8_t *p = b->data;
    *p++ = (uint8_t)(ev_len >> 24);
    *p++ = (uint8_t)(ev_len >> 16);
    *p++ = (uint8_t)(ev_len >> 8);
    *p++ = (uint8_t)ev_len;
    *p++ = 0x0a;
    p = k8c_codec_varint_put(p, type_len);
    memcpy(p, type, type_len);
    p += type_len;
    *p++ = 0x12;
    p = k8c_codec_varint_put(p, ext_len);
    *p++ = 0x0a;
    p = k8c_codec_varint_put(p, len);
    memcpy(p, obj, len);
    return b;
}

/* An event around msg (ERROR, BOOKMARK); an unencodable msg (cannot happen
 * for these) still gives a well-formed event. */
static struct k8c_buf *message_event(enum api_watch_format f, const char *type,
                                     const ProtobufCMessage *msg)
{
    struct k8c_sbuf out;
    char errmsg[K8C_ERRMSG_SIZE];
    k8c_sbuf_init(&out);
    if (api_watch_encode_object(f, msg, &out, errmsg) != 0) {
        k8c_log_error("watch: cannot encode a %s event err=%s", type, errmsg);
        k8c_sbuf_reset(&out);
        if (f == API_WATCH_JSON)
            k8c_sbuf_puts(&out, "{}");
    }
    struct k8c_buf *b = api_watch_event(f, type, out.data, out.len);
    k8c_sbuf_free(&out);
    return b;
}

struct k8c_buf *api_watch_bookmark(enum api_watch_format f, const struct api_resource *r,
                                   int64_t rev, bool initial_events_end)
{
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)rev);
    if (f == API_WATCH_JSON) {
        /* the kind with nothing but metadata.resourceVersion, as upstream */
        char line[512];
        int n = snprintf(
            line, sizeof(line),
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
            "\"metadata\":{\"resourceVersion\":\"%s\"%s}}}\n",
            r->kind, r->api_version, rv,
            initial_events_end ? ",\"annotations\":{\"" API_INITIAL_EVENTS_END "\":\"true\"}" : "");
        return k8c_buf_copy(line, (size_t)n);
    }
    ProtobufCMessage *obj = k8c_malloc(r->desc->sizeof_message);
    protobuf_c_message_init(r->desc, obj);
    api_set_str(&api_obj_meta_ensure(obj)->resourceversion, rv);
    if (initial_events_end)
        api_meta_set_annotation(api_obj_meta_ensure(obj), API_INITIAL_EVENTS_END, "true");
    struct k8c_buf *b = message_event(f, "BOOKMARK", obj);
    api_obj_free(obj);
    return b;
}

struct k8c_buf *api_watch_error(enum api_watch_format f, int code, const char *reason,
                                const char *message)
{
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Status st =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__STATUS__INIT;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ListMeta lm =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LIST_META__INIT;
    st.metadata = &lm;
    st.status = (char *)"Failure";
    st.message = (char *)message;
    st.reason = (char *)reason;
    st.has_code = true;
    st.code = code;
    return message_event(f, "ERROR", &st.base);
}
