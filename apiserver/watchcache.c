/*
 * The watch cache (see watchcache.h).
 *
 * Per resource: a sorted array of the current objects (struct cobj: the
 * decoded message, for selectors, and its JSON, encoded once on first use)
 * and a ring of the last api_watchcache_window events. A watch event line is
 * written as three shared buffers - `{"type":"MODIFIED","object":`, the
 * object's JSON, `}\n` - so a thousand watchers of one pod share one encoding
 * of it. The window decides how old a resourceVersion may be: a watch from a
 * version whose events have left the window gets 410 Expired, as upstream.
 *
 * Lifetimes: objects are reference-counted (the array holds one, each event
 * that names the object holds one). A watcher belongs to its request (freed
 * with it through op_free); the cache keeps a list of live watchers and
 * drops a watcher whose request went away.
 */
#include "watchcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "log.h"
#include "object.h"
#include "selector.h"

#define WATCH_MAX_QUEUED     (16u * 1024 * 1024)
#define BOOKMARK_INTERVAL_MS 10000
#define RESTART_DELAY_MS     1000

enum { EV_ADDED, EV_MODIFIED, EV_DELETED };
static const char *const type_prefix[] = {
    "{\"type\":\"ADDED\",\"object\":",
    "{\"type\":\"MODIFIED\",\"object\":",
    "{\"type\":\"DELETED\",\"object\":",
};
static struct k8c_buf *prefix_buf[3], *suffix_buf;

#define MAX_OBJECT_FIELDS 32

struct cobj {
    unsigned refs;
    char *key;
    ProtobufCMessage *msg;
    struct k8c_buf *json; /* encoded on first use */
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
    struct api_etcd_watch *w;
    struct cwatcher *watchers;
    struct api_req **waiting;
    size_t nwaiting;
    uv_timer_t restart;
    char prefix[512], end[512];
    struct cache *next;
};

struct cwatcher {
    unsigned magic;
    struct cache *c;
    struct api_req *req;
    struct cwatcher *next, *prev;
    bool linked;
    struct api_label_selector labels;
    struct api_field_selector fields;
    bool has_fields;
    char key_prefix[1024]; /* namespace filter: <prefix>/<storage>/<ns>/ */
    bool bookmarks;
    int64_t sent_rev;
    uv_timer_t *timeout, *bookmark;
};
#define CWATCHER_MAGIC 0x77636163u

size_t api_watchcache_window = 4096;
static struct cache *caches;
static bool shutting_down;

/* ---- objects ---- */

static void cobj_unref(struct cobj *o)
{
    if (o == NULL || --o->refs > 0)
        return;
    api_obj_free(o->msg);
    k8c_buf_unref(o->json);
    k8c_arena_del(o->fields_arena);
    k8c_free(o->key);
    k8c_free(o);
}

static void cobj_fields(struct cobj *o)
{
    if (o->fields_arena != NULL)
        return;
    o->fields_arena = k8c_arena_new(0);
    o->fields = k8c_arena_alloc(o->fields_arena, MAX_OBJECT_FIELDS * sizeof(*o->fields));
    o->nfields = api_object_fields(o->fields_arena, o->msg, o->fields, MAX_OBJECT_FIELDS);
}

static struct cobj *cobj_ref(struct cobj *o)
{
    if (o != NULL)
        o->refs++;
    return o;
}

static struct k8c_buf *cobj_json(struct cobj *o)
{
    if (o->json == NULL) {
        struct k8c_sbuf out;
        char errmsg[K8C_ERRMSG_SIZE];
        k8c_sbuf_init(&out);
        if (k8c_codec_json_encode(&out, o->msg, K8C_CODEC_TYPE_META, 0, errmsg) != 0)
            k8c_sbuf_puts(&out, "{}");
        o->json = k8c_sbuf_to_buf(&out);
        k8c_sbuf_free(&out);
    }
    return o->json;
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

static void unlink_watcher(struct cwatcher *w)
{
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->c->watchers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->linked = false;
    stop_timer(&w->timeout);
    stop_timer(&w->bookmark);
}

static void cwatcher_free(void *arg)
{
    struct cwatcher *w = arg;
    unlink_watcher(w);
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
    if (w->key_prefix[0] != '\0' && strncmp(o->key, w->key_prefix, strlen(w->key_prefix)) != 0)
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
    k8c_http_stream_send(s, prefix_buf[type]);
    k8c_http_stream_send(s, cobj_json(o));
    k8c_http_stream_send(s, suffix_buf);
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
    if (ev->type == EV_DELETED) {
        if (before)
            send_line(w, EV_DELETED, ev->obj);
    } else if (now) {
        send_line(w, before ? EV_MODIFIED : EV_ADDED, ev->obj);
    } else if (before) {
        send_line(w, EV_DELETED, ev->obj);
    }
}

static void send_bookmark(struct cwatcher *w)
{
    char line[512];
    struct cache *c = w->c;
    if (w->req->s == NULL)
        return;
    int n = snprintf(line, sizeof(line),
                     "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
                     "\"metadata\":{\"resourceVersion\":\"%lld\"}}}\n",
                     c->res->kind, c->res->api_version, (long long)c->rev);
    k8c_http_stream_send_copy(w->req->s, line, (size_t)n);
    w->sent_rev = c->rev;
}

static void on_bookmark_tick(uv_timer_t *t)
{
    struct cwatcher *w = t->data;
    if (w->linked && w->c->rev > w->sent_rev)
        send_bookmark(w);
}

static void on_timeout(uv_timer_t *t)
{
    watcher_finish(t->data);
}

/* ---- the store side ---- */

static void cache_start(struct cache *c);

static void ring_push(struct cache *c, struct cevent ev)
{
    if (c->ring == NULL)
        c->ring = k8c_calloc(api_watchcache_window, sizeof(*c->ring));
    if (c->ring_len == api_watchcache_window) {
        struct cevent *old = &c->ring[c->ring_start];
        c->oldest = old->rev;
        cobj_unref(old->obj);
        cobj_unref(old->prev);
        c->ring_start = (c->ring_start + 1) % api_watchcache_window;
        c->ring_len--;
    }
    c->ring[(c->ring_start + c->ring_len) % api_watchcache_window] = ev;
    c->ring_len++;
}

static void on_store_event(void *arg, int type, const struct api_etcd_kv *kv,
                           const struct api_etcd_kv *prev_kv, int64_t revision)
{
    struct cache *c = arg;
    if (kv == NULL) {
        if (revision > c->rev)
            c->rev = revision;
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
    const struct cevent *stored =
        &c->ring[(c->ring_start + c->ring_len - 1) % api_watchcache_window];
    for (struct cwatcher *w = c->watchers, *next; w != NULL; w = next) {
        next = w->next;
        deliver(w, stored);
    }
}

static void cache_clear(struct cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        cobj_unref(c->objs[i]);
    c->n = 0;
    for (size_t i = 0; i < c->ring_len; i++) {
        struct cevent *ev = &c->ring[(c->ring_start + i) % api_watchcache_window];
        cobj_unref(ev->obj);
        cobj_unref(ev->prev);
    }
    c->ring_len = 0;
    c->ring_start = 0;
    c->ready = false;
}

static void on_restart(uv_timer_t *t)
{
    cache_start(t->data);
}

static void on_store_watch_done(void *arg, int err, const char *errmsg, int64_t rev)
{
    struct cache *c = arg;
    c->w = NULL;
    if (shutting_down)
        return;
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
    c->rev = c->oldest = res->rev;
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
    if (suffix_buf == NULL) {
        for (int i = 0; i < 3; i++)
            prefix_buf[i] = k8c_buf_copy(type_prefix[i], strlen(type_prefix[i]));
        suffix_buf = k8c_buf_copy("}\n", 2);
    }
    struct cache *c = K8C_NEW(struct cache);
    c->srv = srv;
    c->res = r;
    api_key(srv, r, NULL, "", c->prefix, sizeof(c->prefix));
    api_etcd_prefix_end(c->prefix, c->end, sizeof(c->end));
    uv_timer_init(srv->loop, &c->restart);
    c->restart.data = c;
    uv_unref((uv_handle_t *)&c->restart);
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
        k8c_http_stream_send(req->s, cobj_json(o));
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
    if (req->res->namespaced && req->ns[0] != '\0')
        api_key(req->srv, req->res, req->ns, "", w->key_prefix, sizeof(w->key_prefix));
    w->bookmarks = api_query_bool(req, "allowWatchBookmarks");
    req->op = w;
    req->op_free = cwatcher_free;

    const char *rv = api_query(req, "resourceVersion", buf, sizeof(buf));
    int64_t from = 0;
    bool initial = rv == NULL || rv[0] == '\0' || strcmp(rv, "0") == 0;
    if (!initial) {
        char *end;
        from = strtoll(rv, &end, 10);
        if (*end != '\0' || from < 0) {
            api_respond_status(req, 400, "BadRequest", "invalid resource version");
            return;
        }
    }
    struct k8c_http_header h[] = {{"content-type", "application/json"},
                                  {"cache-control", "no-cache, private"}};
    k8c_http_stream_respond(req->s, 200, h, 2, false);
    req->code = 200;
    if (!initial && from < c->oldest) {
        char msg[512];
        int n = snprintf(msg, sizeof(msg),
                         "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
                         "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
                         "resource version: %lld (%lld)\",\"reason\":\"Expired\",\"code\":410}}\n",
                         (long long)from, (long long)c->oldest);
        k8c_http_stream_send_copy(req->s, msg, (size_t)n);
        k8c_http_stream_finish(req->s, NULL, 0);
        return;
    }
    if (initial) {
        for (size_t i = 0; i < c->n; i++)
            if (wmatches(w, c->objs[i]))
                send_line(w, EV_ADDED, c->objs[i]);
        w->sent_rev = c->rev;
    } else {
        w->sent_rev = from;
        for (size_t i = 0; i < c->ring_len; i++)
            deliver(w, &c->ring[(c->ring_start + i) % api_watchcache_window]);
        if (w->sent_rev < from)
            w->sent_rev = from;
    }
    if (req->s == NULL || k8c_http_stream_queued(req->s) > WATCH_MAX_QUEUED)
        return;
    w->next = c->watchers;
    if (c->watchers)
        c->watchers->prev = w;
    c->watchers = w;
    w->linked = true;
    const char *to = api_query(req, "timeoutSeconds", buf, sizeof(buf));
    int64_t timeout = to ? strtoll(to, NULL, 10) : 0;
    if (timeout <= 0)
        timeout = 1800;
    w->timeout = k8c_malloc(sizeof(*w->timeout));
    uv_timer_init(req->srv->loop, w->timeout);
    w->timeout->data = w;
    uv_timer_start(w->timeout, on_timeout, (uint64_t)timeout * 1000, 0);
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

bool api_watchcache_serve(struct api_req *req)
{
    char buf[32];
    if (req->table || req->out != API_JSON || req->res == NULL || req->res->storage[0] == '\0')
        return false;
    const char *rv = api_query(req, "resourceVersion", buf, sizeof(buf));
    if (req->verb == VERB_LIST) {
        /* resourceVersion=0: any recent state will do (informers' relist) */
        if (rv == NULL || strcmp(rv, "0") != 0 || api_query(req, "continue", buf, sizeof(buf)))
            return false;
    } else if (req->verb != VERB_WATCH) {
        return false;
    }
    struct cache *c = cache_get(req->srv, req->res);
    if (!c->ready) {
        api_req_ref(req);
        c->waiting = k8c_realloc(c->waiting, (c->nwaiting + 1) * sizeof(*c->waiting));
        c->waiting[c->nwaiting++] = req;
        return true;
    }
    serve_now(c, req);
    return true;
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
    }
    (void)srv;
}
