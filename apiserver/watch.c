/*
 * Watch streams (GET ...?watch=true) served from the store, for what the
 * watch cache does not serve (Table output): a store watch on the resource's
 * key range, turned into Kubernetes watch events written as newline-delimited
 * JSON ({"type":"ADDED","object":{...}}), one per line, or as length-prefixed
 * protobuf WatchEvent frames when the client asked for protobuf (encodings:
 * watchcache.h), flushed as they happen (chunked on HTTP/1.1, DATA frames on
 * HTTP/2).
 *
 * resourceVersion semantics as upstream: unset or "0" starts with synthetic
 * ADDED events for every existing object (read at one revision) and goes on
 * from that revision; a specific version streams the changes after it; a
 * version older than the store's compaction ends with an ERROR event
 * carrying a 410 Expired Status. Selectors apply to both the old and the new
 * state of an object, so an object that stops matching is reported DELETED
 * and one that starts matching ADDED. allowWatchBookmarks gets a BOOKMARK
 * with the current revision every bookmark interval; timeoutSeconds ends the
 * stream. A client that does not read is cut off once its queue passes
 * WATCH_MAX_QUEUED, so a slow watcher never makes the server buffer without
 * bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "log.h"
#include "object.h"
#include "selector.h"
#include "server.h"
#include "watchcache.h"

#define WATCH_MAX_QUEUED     (16u * 1024 * 1024)
#define BOOKMARK_INTERVAL_MS 10000

struct watch_op {
    struct api_req *req;
    struct api_etcd_watch *w;
    struct api_label_selector labels;
    struct api_field_selector fields;
    bool has_fields;
    bool bookmarks;
    bool columns_sent;
    bool finished;
    int initial; /* 1: send the initial state (and, if sendInitialEvents, its end); 0: skip it */
    bool initial_end;
    enum api_watch_format fmt;
    uv_timer_t *timeout, *bookmark;
    char prefix[1024], end[1024];
    int64_t rev; /* last revision sent */
};

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

static void watch_op_free(void *arg)
{
    struct watch_op *op = arg;
    api_labels_free(&op->labels);
    if (op->has_fields)
        api_fields_free(&op->fields);
    k8c_free(op);
}

/* Ends the response (the client sees the end of the stream). */
static void watch_finish(struct watch_op *op)
{
    if (op->finished)
        return;
    op->finished = true;
    stop_timer(&op->timeout);
    stop_timer(&op->bookmark);
    if (op->w != NULL)
        api_etcd_watch_cancel(op->w);
    if (op->req->s != NULL)
        k8c_http_stream_finish(op->req->s, NULL, 0);
}

/* Queues one whole event (line or frame; takes the reference). */
static void send_event(struct watch_op *op, struct k8c_buf *ev)
{
    struct api_req *req = op->req;
    if (req->s == NULL || op->finished) {
        k8c_buf_unref(ev);
        return;
    }
    k8c_http_stream_send(req->s, ev);
    k8c_buf_unref(ev);
    if (k8c_http_stream_queued(req->s) > WATCH_MAX_QUEUED) {
        k8c_log_info("watch client too slow, closing path=%s user=%s", req->path, req->user);
        watch_finish(op);
    }
}

static void send_object(struct watch_op *op, const char *type, ProtobufCMessage *obj)
{
    struct k8c_sbuf out;
    char errmsg[K8C_ERRMSG_SIZE];
    k8c_sbuf_init(&out);
    if (op->req->table) {
        struct k8c_arena *a = k8c_arena_new(0);
        api_meta_t *m = api_obj_meta(obj);
        ProtobufCMessage *items[1] = {obj};
        struct k8c_json *tree = api_table_tree(a, op->req, items, 1, m ? m->resourceversion : "",
                                               NULL, 0, !op->columns_sent);
        op->columns_sent = true;
        if (tree == NULL) {
            k8c_arena_del(a);
            k8c_sbuf_free(&out);
            return;
        }
        k8c_json_write(&out, tree, 0, 0);
        k8c_arena_del(a);
    } else if (op->req->partial) {
        ProtobufCMessage *p = api_partial_of(obj);
        int rc = api_watch_encode_object(op->fmt, p, &out, errmsg);
        api_obj_free(p);
        if (rc != 0) {
            k8c_log_error("watch: cannot encode an object err=%s", errmsg);
            k8c_sbuf_free(&out);
            return;
        }
    } else if (api_watch_encode_object(op->fmt, obj, &out, errmsg) != 0) {
        k8c_log_error("watch: cannot encode an object err=%s", errmsg);
        k8c_sbuf_free(&out);
        return;
    }
    send_event(op, api_watch_event(op->fmt, type, out.data, out.len));
    k8c_sbuf_free(&out);
}

static void send_bookmark(struct watch_op *op, int64_t rev, bool initial_end)
{
    send_event(op,
               api_watch_bookmark(op->fmt, op->req->partial ? &api_partial_resource : op->req->res,
                                  rev, initial_end));
}

static void send_error(struct watch_op *op, int code, const char *reason, const char *message)
{
    send_event(op, api_watch_error(op->fmt, code, reason, message));
}

static bool matches(struct watch_op *op, ProtobufCMessage *obj)
{
    return api_object_matches(&op->labels, &op->fields, op->has_fields, obj);
}

static ProtobufCMessage *decode(struct watch_op *op, const struct api_etcd_kv *kv, int64_t rev)
{
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (kv == NULL || kv->value_len == 0)
        return NULL;
    if (api_obj_decode_storage(op->req->res, kv->value, kv->value_len, rev, &obj, errmsg) != 0) {
        k8c_log_error("watch: undecodable object key=%.*s err=%s", (int)kv->key_len, kv->key,
                      errmsg);
        return NULL;
    }
    return obj;
}

static void on_event(void *arg, int type, const struct api_etcd_kv *kv,
                     const struct api_etcd_kv *prev_kv, int64_t revision)
{
    struct watch_op *op = arg;
    if (op->finished)
        return;
    if (kv == NULL) {
        /* progress notification: a bookmark */
        if (op->bookmarks && revision > op->rev) {
            op->rev = revision;
            send_bookmark(op, revision, false);
        }
        return;
    }
    op->rev = revision;
    ProtobufCMessage *cur =
        type == MVCCPB__EVENT__EVENT_TYPE__PUT ? decode(op, kv, revision) : NULL;
    ProtobufCMessage *prev = decode(op, prev_kv, revision);
    bool now = cur != NULL && matches(op, cur);
    bool before = prev != NULL && matches(op, prev);
    if (type == MVCCPB__EVENT__EVENT_TYPE__DELETE) {
        if (before)
            send_object(op, "DELETED", prev);
    } else if (now && (before || kv->create_revision == kv->mod_revision || prev == NULL)) {
        send_object(op, before ? "MODIFIED" : "ADDED", cur);
    } else if (now) {
        send_object(op, "ADDED", cur);
    } else if (before) {
        /* no longer matches: gone from the watcher's view */
        send_object(op, "DELETED", cur);
    }
    api_obj_free(cur);
    api_obj_free(prev);
}

static void on_watch_done(void *arg, int err, const char *errmsg, int64_t rev)
{
    struct watch_op *op = arg;
    struct api_req *req = op->req;
    op->w = NULL;
    if (err == K8C_ETCD_COMPACTED) {
        char msg[128];
        snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)op->rev,
                 (long long)rev);
        send_error(op, 410, "Expired", msg);
    } else if (err != 0 && !op->finished) {
        char msg[512];
        snprintf(msg, sizeof(msg), "watch of the store ended: %s", errmsg ? errmsg : "");
        send_error(op, 500, "InternalError", msg);
    }
    watch_finish(op);
    api_req_unref(req);
}

static void start_store_watch(struct watch_op *op, int64_t from)
{
    api_req_ref(op->req);
    op->w = api_etcd_watch(op->req->srv->etcd, op->prefix, op->end, from, true, false, on_event,
                           on_watch_done, op);
    if (op->w == NULL) {
        send_error(op, 500, "InternalError", "cannot start a watch on the store");
        watch_finish(op);
        api_req_unref(op->req);
    }
}

static void on_timeout(uv_timer_t *t)
{
    watch_finish(t->data);
}

static void on_bookmark_tick(uv_timer_t *t)
{
    struct watch_op *op = t->data;
    if (op->w != NULL)
        api_etcd_watch_progress(op->w);
}

/* Initial state for resourceVersion "" / "0" or sendInitialEvents=true:
 * ADDED for everything (then, for sendInitialEvents, the bookmark that ends
 * them), then watch; sendInitialEvents=false with no resourceVersion only
 * learns the store's revision to watch from. */
static void initial_listed(void *arg, const struct api_etcd_result *res)
{
    struct watch_op *op = arg;
    struct api_req *req = op->req;
    if (req->s == NULL || op->finished) {
        api_req_unref(req);
        return;
    }
    if (res->err != 0) {
        send_error(op, 500, "InternalError", res->errmsg ? res->errmsg : "store error");
        watch_finish(op);
        api_req_unref(req);
        return;
    }
    for (size_t i = 0; i < res->n && !op->finished && op->initial; i++) {
        ProtobufCMessage *obj = decode(op, &res->kvs[i], res->kvs[i].mod_revision);
        if (obj != NULL && matches(op, obj))
            send_object(op, "ADDED", obj);
        api_obj_free(obj);
    }
    op->rev = res->rev;
    if (op->initial_end && op->bookmarks && !op->finished && !op->req->table)
        send_bookmark(op, res->rev, true);
    if (!op->finished)
        start_store_watch(op, res->rev + 1);
    api_req_unref(req);
}

void api_watch_start(struct api_req *req)
{
    struct watch_op *op = K8C_NEW(struct watch_op);
    char buf[8192], errmsg[K8C_ERRMSG_SIZE];
    op->req = req;
    api_labels_init(&op->labels);
    const char *ls = api_query(req, "labelSelector", buf, sizeof(buf));
    if (ls != NULL && api_labels_parse(ls, strlen(ls), &op->labels, errmsg) != 0) {
        api_respond_status(req, 400, "BadRequest", errmsg);
        watch_op_free(op);
        return;
    }
    const char *fs = api_query(req, "fieldSelector", buf, sizeof(buf));
    if (fs != NULL && fs[0] != '\0') {
        if (api_fields_parse(fs, strlen(fs), &op->fields, errmsg) != 0) {
            api_respond_status(req, 400, "BadRequest", errmsg);
            watch_op_free(op);
            return;
        }
        op->has_fields = true;
    }
    op->bookmarks = api_query_bool(req, "allowWatchBookmarks");
    op->fmt = api_watch_format_of(req);
    api_key(req->srv, req->res, req->ns, "", op->prefix, sizeof(op->prefix));
    api_etcd_prefix_end(op->prefix, op->end, sizeof(op->end));
    req->op = op;
    req->op_free = watch_op_free;

    api_watch_respond(req, op->fmt);

    op->timeout = k8c_malloc(sizeof(*op->timeout));
    uv_timer_init(req->srv->loop, op->timeout);
    op->timeout->data = op;
    uv_timer_start(op->timeout, on_timeout, api_watch_timeout_ms(req), 0);
    if (op->bookmarks) {
        op->bookmark = k8c_malloc(sizeof(*op->bookmark));
        uv_timer_init(req->srv->loop, op->bookmark);
        op->bookmark->data = op;
        uv_timer_start(op->bookmark, on_bookmark_tick, BOOKMARK_INTERVAL_MS, BOOKMARK_INTERVAL_MS);
    }

    const char *rv = api_query(req, "resourceVersion", buf, sizeof(buf));
    bool unset = rv == NULL || rv[0] == '\0' || strcmp(rv, "0") == 0;
    int sie = api_send_initial_events(req);
    if (sie == 1 || unset) {
        /* the store's current state is never older than resourceVersion */
        op->initial = sie != 0;
        op->initial_end = sie == 1;
        api_req_ref(req);
        api_etcd_range(req->srv->etcd, op->prefix, op->end, op->initial ? 0 : 1, 0, !op->initial,
                       initial_listed, op);
        return;
    }
    char *end;
    long long from = strtoll(rv, &end, 10);
    if (*end != '\0' || from < 0) {
        send_error(op, 400, "BadRequest", "invalid resource version");
        watch_finish(op);
        return;
    }
    op->rev = from;
    start_store_watch(op, from + 1);
}

void api_watch_stream_closed(struct api_req *req)
{
    if (req->verb != VERB_WATCH || req->op == NULL || req->op_free != watch_op_free)
        return;
    struct watch_op *op = req->op;
    op->finished = true;
    stop_timer(&op->timeout);
    stop_timer(&op->bookmark);
    if (op->w != NULL)
        api_etcd_watch_cancel(op->w);
}

void api_watch_writable(struct k8c_http_stream *s, void *arg)
{
    (void)s;
    (void)arg;
}
