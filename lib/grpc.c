/*
 * gRPC server and client. See grpc.h for the API and lifetimes.
 *
 * The file has three parts:
 *   1. the server engine: method table, calls, framing, deadlines, status;
 *   2. the client engine: channels, calls, status from headers/trailers;
 *   3. the glue to the transport, lib/http: HTTP/2 over TCP or unix
 *      sockets, cleartext (prior knowledge) or TLS (ALPN h2).
 * The engines reach the transport only through the srv_* and cli_* functions
 * declared below.
 */
#include "grpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "alloc.h"
#include "http.h"
#include "log.h"

#define grpc_header k8c_http_header

/* Transport operations used by the engines (part 3). */
static int srv_send_headers(struct k8c_grpc_call *call, int http_status,
                            const struct grpc_header *h, size_t n, bool end_stream);
static int srv_send_data(struct k8c_grpc_call *call, struct k8c_buf *buf);
static int srv_send_trailers(struct k8c_grpc_call *call, const struct grpc_header *h, size_t n);
static size_t srv_queued(struct k8c_grpc_call *call);
static void srv_transport_close(struct k8c_grpc_server *srv);

static int cli_stream_open(struct k8c_grpc_client_call *c, const char *timeout);
static int cli_send_data(struct k8c_grpc_client_call *c, struct k8c_buf *buf);
static int cli_send_end(struct k8c_grpc_client_call *c);
static void cli_reset(struct k8c_grpc_client_call *c);
static void channel_free(struct k8c_grpc_channel *ch);
static void channel_transport_close(struct k8c_grpc_channel *ch);
/* ======================= deadlines ======================= */

/*
 * Calls with a deadline (server calls with grpc-timeout, client calls with a
 * timeout or a deferred completion) sit in a binary min-heap by deadline
 * under one libuv timer armed for the earliest: a timer per call cost a
 * handle, an allocation and an asynchronous close per request, and libuv's
 * pointer heap's cache misses showed in the store at 1000 clients. The heap
 * holds no reference: every way a call ends takes it out (dl_remove).
 */
struct dl_node {
    uint64_t deadline; /* uv_now ms */
    size_t pos;        /* 1 + index in the heap, 0 when not in it */
};

struct dl_heap {
    struct dl_node **v;
    size_t n, cap;
    uv_loop_t *loop;
    uv_timer_t *timer;                 /* allocated on first use; dl_close */
    void (*expired)(struct dl_node *); /* called for each node due, taken out first */
};

static void dl_set(struct dl_heap *h, size_t i, struct dl_node *n)
{
    h->v[i] = n;
    n->pos = i + 1;
}

/* Moves the node at i up or down to its place. */
static void dl_fix(struct dl_heap *h, size_t i)
{
    struct dl_node *n = h->v[i];
    while (i > 0 && h->v[(i - 1) / 2]->deadline > n->deadline) {
        dl_set(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, min = i;
        uint64_t d = n->deadline;
        if (l < h->n && h->v[l]->deadline < d)
            min = l, d = h->v[l]->deadline;
        if (l + 1 < h->n && h->v[l + 1]->deadline < d)
            min = l + 1;
        if (min == i)
            break;
        dl_set(h, i, h->v[min]);
        i = min;
    }
    dl_set(h, i, n);
}

/* Takes n out if it is in; the timer stays armed (firing early re-arms it). */
static void dl_remove(struct dl_heap *h, struct dl_node *n)
{
    if (n->pos == 0)
        return;
    size_t i = n->pos - 1;
    n->pos = 0;
    struct dl_node *last = h->v[--h->n];
    if (last != n) {
        h->v[i] = last;
        dl_fix(h, i);
    }
}

static void dl_timer_cb(uv_timer_t *t);

static void dl_arm(struct dl_heap *h)
{
    if (h->n == 0)
        return;
    uint64_t now = uv_now(h->loop), at = h->v[0]->deadline;
    uv_timer_start(h->timer, dl_timer_cb, at > now ? at - now : 0, 0);
}

static void dl_timer_cb(uv_timer_t *t)
{
    struct dl_heap *h = t->data;
    uint64_t now = uv_now(h->loop);
    while (h->n > 0 && h->v[0]->deadline <= now) {
        struct dl_node *n = h->v[0];
        dl_remove(h, n);
        h->expired(n);
    }
    dl_arm(h);
}

/* Puts n in (taking it out first if it was) to expire at deadline. */
static void dl_add(struct dl_heap *h, struct dl_node *n, uint64_t deadline)
{
    dl_remove(h, n);
    if (h->timer == NULL) {
        h->timer = k8c_malloc(sizeof(*h->timer));
        uv_timer_init(h->loop, h->timer);
        h->timer->data = h;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->v = k8c_realloc(h->v, h->cap * sizeof(*h->v));
    }
    n->deadline = deadline;
    dl_set(h, h->n++, n);
    dl_fix(h, h->n - 1);
    if (h->v[0] == n)
        dl_arm(h);
}

static void free_handle_cb(uv_handle_t *h)
{
    k8c_free(h);
}

/* The heap's owner is going away (the heap is empty by then). */
static void dl_close(struct dl_heap *h)
{
    if (h->timer != NULL)
        uv_close((uv_handle_t *)h->timer, free_handle_cb);
    h->timer = NULL;
    k8c_free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

#define DL_OWNER(node, type) ((type *)(void *)((char *)(node)-offsetof(type, dl)))

/* ======================= server engine ======================= */

static void server_deadline(struct dl_node *n);

/*
 * A call's lifetime is shared by three holders, counted in `refs`:
 *   - the transport, until the HTTP/2 stream is closed (srv_stream_closed);
 *   - the handler, from the moment it is handed the call (on_request or
 *     on_start) until it calls k8c_grpc_call_finish;
 * A call with a deadline also sits in the server's deadline heap until it
 * ends, without a reference: every way out takes it out of the heap.
 * The call is freed when the last holder lets go, so a handler that finishes
 * long after the client went away still holds a valid pointer.
 */

struct server_method {
    struct k8c_grpc_method m;
    char *path, *service, *name; /* "/a.B/C", "a.B", "C" */
    struct k8c_metric_series *started, *received, *sent, *seconds;
};

struct k8c_grpc_server {
    uv_loop_t *loop;
    struct server_method *methods;
    size_t nmethods, cap;
    size_t max_receive;
    size_t high_water;
    struct k8c_metric *handled; /* grpc_server_handled_total (has a code label) */
    struct k8c_metrics *metrics;
    struct k8c_grpc_call *calls; /* open calls, for _del */
    bool deleting;
    k8c_grpc_http_fn http_fn; /* plain HTTP requests (GET /metrics, ...) */
    void *http_arg;
    void *transport;          /* listener and connections (part 3) */
    struct dl_heap deadlines; /* calls with a grpc-timeout */
};

struct metadata_entry {
    char *name, *value;
};

struct k8c_grpc_call {
    struct k8c_grpc_server *srv;
    struct server_method *method;      /* NULL for unknown methods */
    struct k8c_grpc_call *next, *prev; /* srv->calls */
    void *stream;                      /* transport handle, NULL once closed */
    unsigned refs;
    bool handed;        /* the handler has the call */
    bool handler_done;  /* the handler called finish */
    bool responded;     /* final status sent (or the stream is gone) */
    bool headers_sent;  /* response headers went out (not trailers-only) */
    bool cancelled;     /* on_cancel was (or would have been) delivered */
    bool client_done;   /* END_STREAM received */
    bool want_writable; /* writable() said no; on_writable pending */
    bool sent_message;  /* unary: one reply already */
    struct k8c_grpc_decoder decoder;
    uint8_t *request; /* unary/server-streaming: the single request */
    size_t request_len;
    unsigned requests; /* messages received */
    struct metadata_entry *md;
    size_t nmd;
    struct dl_node dl; /* deadline: uv_now ms, 0 none; in srv->deadlines while pending */
    uint64_t start_ns;
    void *data;
};

static void call_unref(struct k8c_grpc_call *call);

static const char *const camel_codes[] = {
    "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};

static const char *const kind_names[] = {"unary", "server_stream", "client_stream", "bidi_stream"};

struct k8c_grpc_server *k8c_grpc_server_new(uv_loop_t *loop,
                                            const struct k8c_grpc_server_options *opts)
{
    struct k8c_grpc_server *srv = K8C_NEW(struct k8c_grpc_server);
    srv->loop = loop;
    srv->deadlines.loop = loop;
    srv->deadlines.expired = server_deadline;
    srv->max_receive = opts && opts->max_receive_message ? opts->max_receive_message
                                                         : K8C_GRPC_DEFAULT_MAX_MESSAGE;
    srv->high_water = opts && opts->send_high_water ? opts->send_high_water : 1024 * 1024;
    srv->metrics = opts ? opts->metrics : NULL;
    if (srv->metrics != NULL) {
        srv->handled = k8c_metrics_counter(
            srv->metrics, "grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            "grpc_code,grpc_method,grpc_service,grpc_type");
    }
    return srv;
}

int k8c_grpc_server_register(struct k8c_grpc_server *srv, const struct k8c_grpc_method *m)
{
    const char *slash;
    bool ok;

    if (m->path == NULL || m->path[0] != '/' || (slash = strchr(m->path + 1, '/')) == NULL ||
        slash == m->path + 1 || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
        return K8C_EINVAL;
    if (m->kind == K8C_GRPC_UNARY || m->kind == K8C_GRPC_SERVER_STREAMING)
        ok = m->on_request != NULL;
    else
        ok = m->on_message != NULL && m->on_half_close != NULL;
    if (!ok || (unsigned)m->kind > K8C_GRPC_BIDI_STREAMING)
        return K8C_EINVAL;
    for (size_t i = 0; i < srv->nmethods; i++) {
        if (strcmp(srv->methods[i].path, m->path) == 0)
            return K8C_EEXIST;
    }
    if (srv->nmethods == srv->cap) {
        srv->cap = srv->cap ? srv->cap * 2 : 16;
        srv->methods = k8c_realloc(srv->methods, srv->cap * sizeof(*srv->methods));
    }
    struct server_method *sm = &srv->methods[srv->nmethods++];
    memset(sm, 0, sizeof(*sm));
    sm->m = *m;
    sm->path = k8c_strdup(m->path);
    sm->m.path = sm->path;
    sm->service = k8c_strndup(m->path + 1, (size_t)(slash - m->path - 1));
    sm->name = k8c_strdup(slash + 1);
    if (srv->metrics != NULL) {
        const char *labels = "grpc_method,grpc_service,grpc_type";
        struct k8c_metric *started =
            k8c_metrics_counter(srv->metrics, "grpc_server_started_total",
                                "Total number of RPCs started on the server.", labels);
        struct k8c_metric *received = k8c_metrics_counter(
            srv->metrics, "grpc_server_msg_received_total",
            "Total number of RPC stream messages received on the server.", labels);
        struct k8c_metric *sent =
            k8c_metrics_counter(srv->metrics, "grpc_server_msg_sent_total",
                                "Total number of gRPC stream messages sent by the server.", labels);
        struct k8c_metric *seconds = k8c_metrics_histogram(
            srv->metrics, "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level "
            "handled by the server.",
            labels, NULL, 0);
        const char *kind = kind_names[m->kind];
        sm->started = K8C_METRIC_WITH(started, sm->name, sm->service, kind);
        sm->received = K8C_METRIC_WITH(received, sm->name, sm->service, kind);
        sm->sent = K8C_METRIC_WITH(sent, sm->name, sm->service, kind);
        sm->seconds = K8C_METRIC_WITH(seconds, sm->name, sm->service, kind);
    }
    return 0;
}

static bool find_method_service(struct k8c_grpc_server *srv, const char *service, size_t len)
{
    for (size_t i = 0; i < srv->nmethods; i++) {
        if (strlen(srv->methods[i].service) == len &&
            strncmp(srv->methods[i].service, service, len) == 0)
            return true;
    }
    return false;
}

static struct server_method *find_method(struct k8c_grpc_server *srv, const char *path)
{
    for (size_t i = 0; i < srv->nmethods; i++) {
        if (strcmp(srv->methods[i].path, path) == 0)
            return &srv->methods[i];
    }
    return NULL;
}

static void server_free(struct k8c_grpc_server *srv)
{
    dl_close(&srv->deadlines);
    for (size_t i = 0; i < srv->nmethods; i++) {
        k8c_free(srv->methods[i].path);
        k8c_free(srv->methods[i].service);
        k8c_free(srv->methods[i].name);
    }
    k8c_free(srv->methods);
    k8c_free(srv);
}

/* ---- call accessors ---- */

const char *k8c_grpc_call_path(const struct k8c_grpc_call *call)
{
    return call->method ? call->method->path : "";
}

enum k8c_grpc_kind k8c_grpc_call_kind(const struct k8c_grpc_call *call)
{
    return call->method ? call->method->m.kind : K8C_GRPC_UNARY;
}

const char *k8c_grpc_call_metadata(const struct k8c_grpc_call *call, const char *name)
{
    for (size_t i = 0; i < call->nmd; i++) {
        if (strcmp(call->md[i].name, name) == 0)
            return call->md[i].value;
    }
    return NULL;
}

uint64_t k8c_grpc_call_deadline(const struct k8c_grpc_call *call)
{
    return call->dl.deadline;
}

bool k8c_grpc_call_cancelled(const struct k8c_grpc_call *call)
{
    return call->cancelled;
}

void k8c_grpc_call_set_data(struct k8c_grpc_call *call, void *data)
{
    call->data = data;
}

void *k8c_grpc_call_data(const struct k8c_grpc_call *call)
{
    return call->data;
}

/* ---- responding ---- */

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

/* Sends the final status: trailers after a started response, or a
 * trailers-only response (HEADERS with END_STREAM) when nothing was sent. */
static void call_respond(struct k8c_grpc_call *call, int status, const char *message)
{
    char code[16];
    char *encoded = NULL;
    struct grpc_header h[4];
    size_t n = 0;

    if (call->responded)
        return;
    call->responded = true;
    if (call->method != NULL && call->srv->handled != NULL && call->handed) {
        k8c_metric_inc(K8C_METRIC_WITH(
            call->srv->handled, camel_codes[status >= 0 && status <= 16 ? status : 2],
            call->method->name, call->method->service, kind_names[call->method->m.kind]));
        k8c_metric_observe(call->method->seconds, (double)(now_ns() - call->start_ns) / 1e9);
    }
    if (call->stream == NULL)
        return;
    snprintf(code, sizeof(code), "%d", status);
    if (!call->headers_sent)
        h[n++] = (struct grpc_header){"content-type", "application/grpc"};
    h[n++] = (struct grpc_header){"grpc-status", code};
    if (message != NULL && message[0] != '\0') {
        encoded = k8c_grpc_percent_encode(message, strlen(message));
        h[n++] = (struct grpc_header){"grpc-message", encoded};
    }
    if (call->headers_sent)
        srv_send_trailers(call, h, n);
    else
        srv_send_headers(call, 200, h, n, true);
    call->headers_sent = true;
    k8c_free(encoded);
}

/* The call ended without the handler finishing it: tell the handler once. */
static void call_cancel(struct k8c_grpc_call *call)
{
    if (call->cancelled)
        return;
    call->cancelled = true;
    dl_remove(&call->srv->deadlines, &call->dl);
    if (call->handed && !call->handler_done && call->method->m.on_cancel != NULL)
        call->method->m.on_cancel(call, call->method->m.arg);
}

/* The server ends a call with an error of its own (bad input, deadline). */
static void call_fail(struct k8c_grpc_call *call, int status, const char *message)
{
    k8c_log_v(2, "grpc call failed path=%s status=%s message=\"%s\"", k8c_grpc_call_path(call),
              k8c_grpc_status_name(status), message);
    call_respond(call, status, message);
    call_cancel(call);
}

static int call_check_send(struct k8c_grpc_call *call, size_t len)
{
    if (call->handler_done)
        return K8C_EINVAL;
    if (call->cancelled || call->responded || call->stream == NULL)
        return K8C_ECANCELED;
    if (call->method->m.kind == K8C_GRPC_UNARY ||
        call->method->m.kind == K8C_GRPC_CLIENT_STREAMING) {
        if (call->sent_message)
            return K8C_EINVAL;
    }
    if (srv_queued(call) + len > 4 * call->srv->high_water && srv_queued(call) > 0)
        return K8C_EBUSY;
    return 0;
}

int k8c_grpc_call_send_framed(struct k8c_grpc_call *call, struct k8c_buf *frame)
{
    int rc = call_check_send(call, frame->len);
    if (rc != 0)
        return rc;
    if (!call->headers_sent) {
        struct grpc_header h[] = {{"content-type", "application/grpc"}};
        rc = srv_send_headers(call, 200, h, 1, false);
        if (rc != 0)
            return rc;
        call->headers_sent = true;
    }
    rc = srv_send_data(call, frame);
    if (rc != 0)
        return rc;
    call->sent_message = true;
    k8c_metric_inc(call->method->sent);
    return 0;
}

int k8c_grpc_call_send_bytes(struct k8c_grpc_call *call, const void *data, size_t len)
{
    int rc = call_check_send(call, len + K8C_GRPC_PREFIX_SIZE);
    if (rc != 0)
        return rc;
    struct k8c_buf *b = k8c_grpc_frame_encode(data, len);
    rc = k8c_grpc_call_send_framed(call, b);
    k8c_buf_unref(b);
    return rc;
}

int k8c_grpc_call_send(struct k8c_grpc_call *call, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    int rc = call_check_send(call, len + K8C_GRPC_PREFIX_SIZE);
    if (rc != 0)
        return rc;
    struct k8c_buf *b = k8c_buf_new(K8C_GRPC_PREFIX_SIZE + len);
    k8c_grpc_frame_prefix(b->data, len);
    protobuf_c_message_pack(msg, b->data + K8C_GRPC_PREFIX_SIZE);
    rc = k8c_grpc_call_send_framed(call, b);
    k8c_buf_unref(b);
    return rc;
}

bool k8c_grpc_call_writable(const struct k8c_grpc_call *call)
{
    struct k8c_grpc_call *c = (struct k8c_grpc_call *)call;
    if (call->stream == NULL || call->responded)
        return false;
    if (srv_queued(c) < call->srv->high_water)
        return true;
    c->want_writable = true;
    k8c_http_stream_want_writable(call->stream, call->srv->high_water / 2);
    return false;
}

size_t k8c_grpc_call_queued(const struct k8c_grpc_call *call)
{
    return call->stream ? srv_queued((struct k8c_grpc_call *)call) : 0;
}

int k8c_grpc_call_finish(struct k8c_grpc_call *call, int status, const char *message)
{
    int rc = 0;

    if (call->handler_done) {
        k8c_log_error("grpc: call finished twice path=%s", k8c_grpc_call_path(call));
        return K8C_EINVAL;
    }
    /* Marked first: sending may close the stream right away, and a closing
     * stream must not report a cancellation to a handler that is done. */
    call->handler_done = true;
    call->refs++;
    if (call->cancelled || call->responded)
        rc = K8C_ECANCELED;
    else
        call_respond(call, status < 0 || status > 16 ? K8C_GRPC_UNKNOWN : status, message);
    dl_remove(&call->srv->deadlines, &call->dl);
    call_unref(call);
    call_unref(call); /* the handler's reference */
    return rc;
}

int k8c_grpc_call_reply(struct k8c_grpc_call *call, const ProtobufCMessage *msg)
{
    int rc = k8c_grpc_call_send(call, msg);
    if (rc != 0) {
        k8c_grpc_call_finish(call, K8C_GRPC_INTERNAL, "failed to send the reply");
        return rc;
    }
    return k8c_grpc_call_finish(call, K8C_GRPC_OK, NULL);
}

int k8c_grpc_call_finishf(struct k8c_grpc_call *call, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return k8c_grpc_call_finish(call, status, msg);
}

/* ---- lifetime ---- */

static void call_free(struct k8c_grpc_call *call)
{
    struct k8c_grpc_server *srv = call->srv;

    if (call->prev)
        call->prev->next = call->next;
    else
        srv->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    dl_remove(&call->srv->deadlines, &call->dl);
    k8c_grpc_decoder_free(&call->decoder);
    k8c_free(call->request);
    k8c_free(call); /* its metadata with it (srv_stream_open) */
    if (srv->deleting && srv->calls == NULL)
        server_free(srv);
}

static void call_unref(struct k8c_grpc_call *call)
{
    if (--call->refs == 0)
        call_free(call);
}

static void server_deadline(struct dl_node *n)
{
    struct k8c_grpc_call *call = DL_OWNER(n, struct k8c_grpc_call);
    call->refs++; /* failing it may close its stream */
    call_fail(call, K8C_GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
    call_unref(call);
}

/* ---- events from the transport ---- */

/* Request headers arrived. Returns the new call (one transport reference),
 * or NULL when the request was answered on the spot (bad content-type). */
static struct k8c_grpc_call *srv_stream_open(struct k8c_grpc_server *srv, void *stream,
                                             const char *method, const char *path,
                                             const struct grpc_header *headers, size_t nheaders)
{
    /* The call and its metadata in one block: the call, the entries, then
     * the names and values. */
    size_t bytes =
        sizeof(struct k8c_grpc_call) + (nheaders ? nheaders : 1) * sizeof(struct metadata_entry);
    for (size_t i = 0; i < nheaders; i++)
        if (headers[i].name[0] != ':')
            bytes += strlen(headers[i].name) + strlen(headers[i].value) + 2;
    struct k8c_grpc_call *call = k8c_calloc(1, bytes);
    const char *ctype = NULL, *timeout = NULL;

    call->srv = srv;
    call->stream = stream;
    call->refs = 1;
    call->start_ns = now_ns();
    k8c_grpc_decoder_init(&call->decoder, srv->max_receive);
    call->next = srv->calls;
    if (srv->calls)
        srv->calls->prev = call;
    srv->calls = call;

    call->md = (struct metadata_entry *)(call + 1);
    char *text = (char *)(call->md + (nheaders ? nheaders : 1));
    for (size_t i = 0; i < nheaders; i++) {
        if (headers[i].name[0] == ':')
            continue;
        if (strcmp(headers[i].name, "content-type") == 0)
            ctype = headers[i].value;
        else if (strcmp(headers[i].name, "grpc-timeout") == 0)
            timeout = headers[i].value;
        size_t nl = strlen(headers[i].name) + 1, vl = strlen(headers[i].value) + 1;
        call->md[call->nmd].name = memcpy(text, headers[i].name, nl);
        call->md[call->nmd].value = memcpy(text + nl, headers[i].value, vl);
        text += nl + vl;
        call->nmd++;
    }

    size_t plen = strlen("application/grpc");
    if (ctype == NULL || strncmp(ctype, "application/grpc", plen) != 0 ||
        (ctype[plen] != '\0' && ctype[plen] != '+' && ctype[plen] != ';')) {
        struct grpc_header h[] = {{"content-type", "application/grpc"},
                                  {"grpc-status", "13"},
                                  {"grpc-message", "invalid gRPC request content-type"}};
        call->responded = call->headers_sent = true;
        srv_send_headers(call, 415, h, 3, true);
        return call;
    }
    if (strcmp(method, "POST") != 0) {
        struct grpc_header h[] = {{"content-type", "application/grpc"},
                                  {"grpc-status", "13"},
                                  {"grpc-message", "gRPC requires the POST method"}};
        call->responded = call->headers_sent = true;
        srv_send_headers(call, 405, h, 3, true);
        return call;
    }
    call->method = find_method(srv, path);
    if (call->method == NULL) {
        char msg[512];
        const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
        if (slash != NULL && find_method_service(srv, path + 1, (size_t)(slash - path - 1)))
            snprintf(msg, sizeof(msg), "unknown method %s for service %.*s", slash + 1,
                     (int)(slash - path - 1), path + 1);
        else
            snprintf(msg, sizeof(msg), "unknown service %.*s",
                     slash ? (int)(slash - path - 1) : (int)strlen(path), path + (path[0] == '/'));
        call_respond(call, K8C_GRPC_UNIMPLEMENTED, msg);
        return call;
    }
    k8c_metric_inc(call->method->started);
    if (timeout != NULL) {
        int64_t ns;
        if (k8c_grpc_timeout_parse(timeout, strlen(timeout), &ns) != 0) {
            call_respond(call, K8C_GRPC_INTERNAL, "malformed grpc-timeout");
            return call;
        }
        uint64_t ms = (uint64_t)(ns / 1000000) + (ns % 1000000 != 0);
        dl_add(&srv->deadlines, &call->dl, uv_now(srv->loop) + ms);
    }
    if (call->method->m.kind == K8C_GRPC_CLIENT_STREAMING ||
        call->method->m.kind == K8C_GRPC_BIDI_STREAMING) {
        call->handed = true;
        call->refs++;
        if (call->method->m.on_start != NULL)
            call->method->m.on_start(call, call->method->m.arg);
    }
    return call;
}

/* Unpacks a request if the method has a descriptor. Returns false (after
 * failing the call with INTERNAL) when the bytes do not decode. */
static bool unpack_request(struct k8c_grpc_call *call, const uint8_t *data, size_t len,
                           struct k8c_grpc_message *msg)
{
    msg->data = data;
    msg->len = len;
    msg->pb = NULL;
    if (call->method->m.request == NULL)
        return true;
    msg->pb = protobuf_c_message_unpack(call->method->m.request, NULL, len, data);
    if (msg->pb == NULL) {
        call_fail(call, K8C_GRPC_INTERNAL,
                  "grpc: error unmarshalling request: invalid protobuf encoding");
        return false;
    }
    return true;
}

static void free_request(struct k8c_grpc_message *msg)
{
    if (msg->pb != NULL)
        protobuf_c_message_free_unpacked((ProtobufCMessage *)msg->pb, NULL);
}

static int on_request_message(void *arg, const uint8_t *data, size_t len)
{
    struct k8c_grpc_call *call = arg;

    call->requests++;
    k8c_metric_inc(call->method->received);
    switch (call->method->m.kind) {
    case K8C_GRPC_UNARY:
    case K8C_GRPC_SERVER_STREAMING:
        if (call->requests > 1) {
            call_fail(call, K8C_GRPC_INTERNAL,
                      "grpc: received more than one request message for a unary request");
            return 1;
        }
        call->request = k8c_malloc(len ? len : 1);
        memcpy(call->request, data, len);
        call->request_len = len;
        return 0;
    default: {
        struct k8c_grpc_message msg;
        if (!unpack_request(call, data, len, &msg))
            return 1;
        /* The handler may finish the call from inside on_message. */
        call->refs++;
        call->method->m.on_message(call, &msg, call->method->m.arg);
        free_request(&msg);
        bool stop = call->responded || call->cancelled;
        call_unref(call);
        return stop;
    }
    }
}

static void srv_stream_data(struct k8c_grpc_call *call, const uint8_t *data, size_t len)
{
    if (call->responded || call->cancelled || call->method == NULL)
        return;
    int rc = k8c_grpc_decoder_feed(&call->decoder, data, len, on_request_message, call);
    if (rc == K8C_EPROTO)
        call_fail(call, call->decoder.status, call->decoder.errmsg);
}

static void srv_stream_end(struct k8c_grpc_call *call)
{
    call->client_done = true;
    if (call->responded || call->cancelled || call->method == NULL)
        return;
    if (k8c_grpc_decoder_finish(&call->decoder) != 0) {
        call_fail(call, call->decoder.status, call->decoder.errmsg);
        return;
    }
    switch (call->method->m.kind) {
    case K8C_GRPC_UNARY:
    case K8C_GRPC_SERVER_STREAMING:
        if (call->request == NULL) {
            call_fail(call, K8C_GRPC_INTERNAL,
                      "grpc: client streaming protocol violation: no request message");
            return;
        }
        {
            struct k8c_grpc_message msg;
            bool ok = unpack_request(call, call->request, call->request_len, &msg);
            if (ok) {
                call->handed = true;
                call->refs += 2; /* the handler's, and ours during the callback */
                call->method->m.on_request(call, &msg, call->method->m.arg);
                free_request(&msg);
                call_unref(call);
            }
            k8c_free(call->request);
            call->request = NULL;
            return;
        }
    default:
        call->refs++;
        call->method->m.on_half_close(call, call->method->m.arg);
        call_unref(call);
        return;
    }
}

/* The transport's queue for this stream drained somewhat. */
static void srv_stream_drained(struct k8c_grpc_call *call)
{
    if (!call->want_writable || call->stream == NULL || call->responded || call->handler_done)
        return;
    if (srv_queued(call) > call->srv->high_water / 2)
        return;
    call->want_writable = false;
    if (call->method->m.on_writable != NULL) {
        call->refs++;
        call->method->m.on_writable(call, call->method->m.arg);
        call_unref(call);
    }
}

/* The stream is gone (closed normally, reset by the client, or the
 * connection dropped). No transport operation may follow. */
static void srv_stream_closed(struct k8c_grpc_call *call)
{
    call->stream = NULL;
    if (!call->responded) {
        /* The client reset the stream or went away before the final status. */
        call->refs++;
        call_respond(call, K8C_GRPC_CANCELLED, NULL); /* metrics only: no stream */
        call_cancel(call);
        call_unref(call);
    }
    dl_remove(&call->srv->deadlines, &call->dl);
    call_unref(call);
}

void k8c_grpc_server_del(struct k8c_grpc_server *srv)
{
    size_t n = 0, i = 0;

    if (srv == NULL)
        return;
    srv_transport_close(srv);
    for (struct k8c_grpc_call *c = srv->calls; c != NULL; c = c->next)
        n++;
    struct k8c_grpc_call **calls = k8c_calloc(n ? n : 1, sizeof(*calls));
    for (struct k8c_grpc_call *c = srv->calls; c != NULL; c = c->next) {
        c->refs++;
        calls[i++] = c;
    }
    for (i = 0; i < n; i++)
        call_fail(calls[i], K8C_GRPC_UNAVAILABLE, "server shutting down");
    for (i = 0; i < n; i++)
        call_unref(calls[i]);
    k8c_free(calls);
    srv->deleting = true;
    if (srv->calls == NULL)
        server_free(srv);
}
/* ======================= client engine ======================= */

/*
 * A client call is shared by the user (until on_done has run) and the
 * transport (until the HTTP/2 stream is closed); every caller of
 * ccall_complete holds a reference of its own across it. on_done runs
 * exactly once: on the final status from the server, a transport failure,
 * the deadline or a cancel.
 */

struct k8c_grpc_client_call {
    struct k8c_grpc_channel *ch;
    struct k8c_grpc_client_call *next, *prev; /* ch->calls */
    void *stream;     /* transport handle; NULL before open and after close */
    bool stream_gone; /* the transport closed the stream while it was being opened */
    unsigned refs;
    struct k8c_grpc_call_options o;
    char *path;
    char **metadata; /* copied name/value pairs, NULL-terminated */
    struct k8c_grpc_decoder decoder;
    struct dl_node dl; /* in ch->deadlines: the deadline, or now for a deferred completion */
    bool done;         /* on_done delivered */
    bool send_closed;  /* half-close requested */
    bool headers_seen;
    bool unsent; /* failed before its connection was up: the server never saw it */
    int http_status;
    int status;         /* grpc-status seen, -1 none */
    char *message;      /* grpc-message seen (decoded) */
    int pending_status; /* deferred completion (cancel) */
    char *pending_message;
    void *data;
};

struct k8c_grpc_channel {
    uv_loop_t *loop;
    char *target;
    struct k8c_grpc_channel_options opts;
    struct k8c_grpc_client_call *calls;
    void *transport;          /* the connection (part 3) */
    struct dl_heap deadlines; /* calls with a timeout or a deferred completion */
    bool closing;             /* _del called: no new calls */
    bool deleting;            /* free when the last call is gone */
};

static void ccall_unref(struct k8c_grpc_client_call *c);
static void client_deadline(struct dl_node *n);

/* Maps an HTTP status without grpc-status to a gRPC code, as the gRPC spec says. */
static int status_from_http(int http)
{
    switch (http) {
    case 400:
        return K8C_GRPC_INTERNAL;
    case 401:
        return K8C_GRPC_UNAUTHENTICATED;
    case 403:
        return K8C_GRPC_PERMISSION_DENIED;
    case 404:
        return K8C_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return K8C_GRPC_UNAVAILABLE;
    default:
        return K8C_GRPC_UNKNOWN;
    }
}

static void ccall_complete(struct k8c_grpc_client_call *c, int status, const char *message)
{
    if (c->done)
        return;
    c->done = true;
    dl_remove(&c->ch->deadlines, &c->dl);
    c->o.on_done(c, status, message ? message : "", c->o.arg);
    ccall_unref(c); /* the user's reference */
}

static void ccall_free(struct k8c_grpc_client_call *c)
{
    struct k8c_grpc_channel *ch = c->ch;
    if (c->prev)
        c->prev->next = c->next;
    else
        ch->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    k8c_grpc_decoder_free(&c->decoder);
    for (size_t i = 0; c->metadata && c->metadata[i]; i++)
        k8c_free(c->metadata[i]);
    k8c_free(c->metadata);
    k8c_free(c->path);
    k8c_free(c->message);
    k8c_free(c->pending_message);
    k8c_free(c);
    if (ch->deleting && ch->calls == NULL)
        channel_free(ch);
}

static void ccall_unref(struct k8c_grpc_client_call *c)
{
    if (--c->refs > 0)
        return;
    ccall_free(c);
}

/* Completes the call and stops the stream (RST_STREAM CANCEL). */
static void ccall_abort(struct k8c_grpc_client_call *c, int status, const char *message)
{
    c->refs++;
    ccall_complete(c, status, message);
    if (c->stream != NULL)
        cli_reset(c);
    ccall_unref(c);
}

static void client_deadline(struct dl_node *n)
{
    struct k8c_grpc_client_call *c = DL_OWNER(n, struct k8c_grpc_client_call);
    if (c->pending_status >= 0) {
        /* Deferred completion from cancel(). */
        int st = c->pending_status;
        c->pending_status = -1;
        ccall_abort(c, st, c->pending_message);
        return;
    }
    ccall_abort(c, K8C_GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
}

struct k8c_grpc_client_call *k8c_grpc_channel_call(struct k8c_grpc_channel *ch,
                                                   const struct k8c_grpc_call_options *o,
                                                   char *errmsg)
{
    if (o == NULL || o->path == NULL || o->path[0] != '/' || o->on_done == NULL) {
        k8c_errmsg_printf(errmsg, "grpc call needs a path starting with '/' and on_done");
        return NULL;
    }
    if (ch->closing) {
        k8c_errmsg_printf(errmsg, "grpc channel is closing");
        return NULL;
    }
    struct k8c_grpc_client_call *c = K8C_NEW(struct k8c_grpc_client_call);
    c->ch = ch;
    c->o = *o;
    c->path = k8c_strdup(o->path);
    c->o.path = c->path;
    c->status = -1;
    c->pending_status = -1;
    c->refs = 1; /* the user's (until on_done) */
    size_t n = 0;
    while (o->metadata && o->metadata[n] && o->metadata[n + 1])
        n += 2;
    c->metadata = k8c_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        c->metadata[i] = k8c_strdup(o->metadata[i]);
    c->o.metadata = (const char *const *)c->metadata;
    k8c_grpc_decoder_init(&c->decoder, ch->opts.max_receive_message);
    c->next = ch->calls;
    if (ch->calls)
        ch->calls->prev = c;
    ch->calls = c;
    if (o->timeout_ms > 0)
        dl_add(&ch->deadlines, &c->dl, uv_now(ch->loop) + (uint64_t)o->timeout_ms);

    char timeout[16];
    const char *to =
        o->timeout_ms > 0 ? k8c_grpc_timeout_format(o->timeout_ms * 1000000, timeout) : NULL;
    int rc = cli_stream_open(c, to);
    if (rc != 0) {
        char msg[K8C_ERRMSG_SIZE];
        k8c_errmsg_printf(msg, "failed to start the call: %s", k8c_strerror(rc));
        k8c_grpc_client_call_cancel(c);
        k8c_free(c->pending_message);
        c->pending_message = k8c_strdup(msg);
        c->pending_status = K8C_GRPC_UNAVAILABLE;
    }
    return c;
}

int k8c_grpc_client_call_send_bytes(struct k8c_grpc_client_call *c, const void *data, size_t len)
{
    if (c->done || c->send_closed)
        return K8C_EINVAL;
    struct k8c_buf *b = k8c_grpc_frame_encode(data, len);
    int rc = c->stream ? cli_send_data(c, b) : 0;
    k8c_buf_unref(b);
    return rc;
}

int k8c_grpc_client_call_send(struct k8c_grpc_client_call *c, const ProtobufCMessage *msg)
{
    if (c->done || c->send_closed)
        return K8C_EINVAL;
    size_t len = protobuf_c_message_get_packed_size(msg);
    struct k8c_buf *b = k8c_buf_new(K8C_GRPC_PREFIX_SIZE + len);
    k8c_grpc_frame_prefix(b->data, len);
    protobuf_c_message_pack(msg, b->data + K8C_GRPC_PREFIX_SIZE);
    int rc = c->stream ? cli_send_data(c, b) : 0;
    k8c_buf_unref(b);
    return rc;
}

int k8c_grpc_client_call_close_send(struct k8c_grpc_client_call *c)
{
    if (c->done || c->send_closed)
        return c->done ? 0 : K8C_EINVAL;
    c->send_closed = true;
    return c->stream ? cli_send_end(c) : 0;
}

void k8c_grpc_client_call_cancel(struct k8c_grpc_client_call *c)
{
    if (c->done || c->pending_status >= 0)
        return;
    c->pending_status = K8C_GRPC_CANCELLED;
    c->pending_message = k8c_strdup("context canceled");
    dl_add(&c->ch->deadlines, &c->dl, uv_now(c->ch->loop)); /* on_done never from inside cancel */
}

bool k8c_grpc_client_call_unsent(const struct k8c_grpc_client_call *c)
{
    return c->unsent;
}

void k8c_grpc_client_call_set_data(struct k8c_grpc_client_call *c, void *data)
{
    c->data = data;
}

void *k8c_grpc_client_call_data(const struct k8c_grpc_client_call *c)
{
    return c->data;
}

/* ---- events from the transport ---- */

static void cli_on_header(struct k8c_grpc_client_call *c, const char *name, const char *value)
{
    if (strcmp(name, ":status") == 0) {
        c->http_status = atoi(value);
        c->headers_seen = true;
    } else if (strcmp(name, "grpc-status") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        c->status = (*end == '\0' && v >= 0 && v <= 16) ? (int)v : K8C_GRPC_UNKNOWN;
    } else if (strcmp(name, "grpc-message") == 0) {
        k8c_free(c->message);
        c->message = k8c_grpc_percent_decode(value, strlen(value));
    }
}

static int cli_on_message(void *arg, const uint8_t *data, size_t len)
{
    struct k8c_grpc_client_call *c = arg;
    struct k8c_grpc_message msg = {data, len, NULL};
    ProtobufCMessage *pb = NULL;

    if (c->o.response != NULL) {
        pb = protobuf_c_message_unpack(c->o.response, NULL, len, data);
        if (pb == NULL) {
            ccall_abort(c, K8C_GRPC_INTERNAL,
                        "grpc: failed to unmarshal the received message: invalid protobuf");
            return 1;
        }
        msg.pb = pb;
    }
    if (c->o.on_message != NULL)
        c->o.on_message(c, &msg, c->o.arg);
    if (pb != NULL)
        protobuf_c_message_free_unpacked(pb, NULL);
    return c->done;
}

static void cli_on_data(struct k8c_grpc_client_call *c, const uint8_t *data, size_t len)
{
    if (c->done)
        return;
    if (c->http_status != 200) {
        /* A non-gRPC response body: ignored, the status decides. */
        return;
    }
    c->refs++;
    int rc = k8c_grpc_decoder_feed(&c->decoder, data, len, cli_on_message, c);
    if (rc == K8C_EPROTO)
        ccall_abort(c, c->decoder.status, c->decoder.errmsg);
    ccall_unref(c);
}

/* END_STREAM from the server: the status is in what we have seen. */
static void cli_on_remote_end(struct k8c_grpc_client_call *c)
{
    char msg[K8C_ERRMSG_SIZE];

    if (c->done)
        return;
    c->refs++;
    if (c->status >= 0) {
        if (c->status == 0 && k8c_grpc_decoder_finish(&c->decoder) != 0)
            ccall_complete(c, c->decoder.status, c->decoder.errmsg);
        else
            ccall_complete(c, c->status, c->message);
    } else if (c->headers_seen && c->http_status != 200) {
        k8c_errmsg_printf(msg, "unexpected HTTP status code %d", c->http_status);
        ccall_complete(c, status_from_http(c->http_status), msg);
    } else {
        ccall_complete(c, K8C_GRPC_INTERNAL, "server closed the stream without sending trailers");
    }
    ccall_unref(c);
}

/* The transport is done with the stream: after END_STREAM both ways, a reset
 * (rst = HTTP/2 error code from the server, or 0) or a connection failure
 * (err != 0, why says what happened). Drops the transport's reference. */
static void cli_on_closed(struct k8c_grpc_client_call *c, int err, uint32_t rst, const char *why)
{
    char msg[K8C_ERRMSG_SIZE];

    c->stream = NULL;
    c->unsent = err == K8C_EUNSENT;
    if (!c->done) {
        if (c->status >= 0 || (err == 0 && rst == 0)) {
            cli_on_remote_end(c);
        } else if (rst != 0) {
            k8c_errmsg_printf(msg, "stream terminated by RST_STREAM with error code %u", rst);
            ccall_complete(c,
                           rst == NGHTTP2_CANCEL              ? K8C_GRPC_CANCELLED
                           : rst == NGHTTP2_REFUSED_STREAM    ? K8C_GRPC_UNAVAILABLE
                           : rst == NGHTTP2_ENHANCE_YOUR_CALM ? K8C_GRPC_RESOURCE_EXHAUSTED
                                                              : K8C_GRPC_INTERNAL,
                           msg);
        } else {
            k8c_errmsg_printf(msg, "connection error: %s", why ? why : k8c_strerror(err));
            ccall_complete(c, K8C_GRPC_UNAVAILABLE, msg);
        }
    }
    ccall_unref(c); /* the transport's reference */
}

/* ---- unary convenience ---- */

struct unary_ctx {
    bool bad;
    k8c_grpc_unary_done_fn done;
    void *arg;
    ProtobufCMessage *response;
    int count;
    const ProtobufCMessageDescriptor *desc;
};

static void unary_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                          void *arg)
{
    struct unary_ctx *u = arg;
    if (++u->count > 1)
        return;
    if (u->desc != NULL) {
        u->response = protobuf_c_message_unpack(u->desc, NULL, msg->len, msg->data);
        u->bad = u->response == NULL;
    }
}

static void unary_done(struct k8c_grpc_client_call *call, int status, const char *message,
                       void *arg)
{
    struct unary_ctx *u = arg;
    if (status == 0 && u->bad) {
        status = K8C_GRPC_INTERNAL;
        message = "grpc: failed to unmarshal the received message";
    } else if (status == 0 && u->count != 1) {
        status = K8C_GRPC_INTERNAL;
        message = u->count == 0 ? "grpc: unary call ended without a response message"
                                : "grpc: unary call received more than one response message";
    }
    u->done(status, message, status == 0 ? u->response : NULL, u->arg);
    if (u->response != NULL)
        protobuf_c_message_free_unpacked(u->response, NULL);
    k8c_free(u);
}

int k8c_grpc_unary(struct k8c_grpc_channel *ch, const char *path, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *response, int64_t timeout_ms,
                   k8c_grpc_unary_done_fn done, void *arg)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct unary_ctx *u;

    if (ch == NULL || req == NULL || done == NULL)
        return K8C_EINVAL;
    u = K8C_NEW(struct unary_ctx);
    u->done = done;
    u->arg = arg;
    u->desc = response;
    struct k8c_grpc_call_options o = {
        .path = path,
        .response = NULL, /* unpacked in unary_message so the reply outlives on_message */
        .timeout_ms = timeout_ms,
        .on_message = unary_message,
        .on_done = unary_done,
        .arg = u,
    };
    struct k8c_grpc_client_call *c = k8c_grpc_channel_call(ch, &o, errmsg);
    if (c == NULL) {
        k8c_free(u);
        return K8C_EINVAL;
    }
    k8c_grpc_client_call_send(c, req);
    k8c_grpc_client_call_close_send(c);
    return 0;
}
/* ======================= transport glue: lib/http ======================= */

static void srv_on_data(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg)
{
    srv_stream_data(arg, data, len);
}

static void srv_on_end(struct k8c_http_stream *s, void *arg)
{
    srv_stream_end(arg);
}

static void srv_on_writable(struct k8c_http_stream *s, void *arg)
{
    struct k8c_grpc_call *call = arg;
    call->refs++;
    srv_stream_drained(call);
    call_unref(call);
}

static void srv_on_close(struct k8c_http_stream *s, int error, void *arg)
{
    srv_stream_closed(arg);
}

static const struct k8c_http_stream_ops srv_stream_ops = {
    .on_data = srv_on_data,
    .on_end = srv_on_end,
    .on_writable = srv_on_writable,
    .on_close = srv_on_close,
};

static int srv_send_headers(struct k8c_grpc_call *call, int http_status,
                            const struct grpc_header *h, size_t n, bool end_stream)
{
    if (call->stream == NULL)
        return K8C_ECLOSED;
    return k8c_http_stream_respond(call->stream, http_status, h, n, end_stream);
}

static int srv_send_data(struct k8c_grpc_call *call, struct k8c_buf *buf)
{
    if (call->stream == NULL)
        return K8C_ECLOSED;
    return k8c_http_stream_send(call->stream, buf);
}

static int srv_send_trailers(struct k8c_grpc_call *call, const struct grpc_header *h, size_t n)
{
    if (call->stream == NULL)
        return K8C_ECLOSED;
    return k8c_http_stream_finish(call->stream, h, n);
}

static size_t srv_queued(struct k8c_grpc_call *call)
{
    return call->stream ? k8c_http_stream_queued(call->stream) : 0;
}

/* A plain HTTP request (not gRPC) on the server: answer it in full. */
static void serve_plain(struct k8c_grpc_server *srv, struct k8c_http_stream *s, const char *method,
                        const char *path)
{
    struct k8c_sbuf body;
    const char *ctype = "text/plain; charset=utf-8";
    int status = 404;
    char pathbuf[1024];
    const char *query = NULL;

    snprintf(pathbuf, sizeof(pathbuf), "%s", path);
    char *q = strchr(pathbuf, '?');
    if (q != NULL) {
        *q = '\0';
        query = q + 1;
    }
    k8c_sbuf_init(&body);
    if (srv->http_fn == NULL ||
        !srv->http_fn(srv->http_arg, method, pathbuf, query, &status, &ctype, &body)) {
        status = 404;
        k8c_sbuf_reset(&body);
        k8c_sbuf_puts(&body, "404 page not found\n");
    }
    k8c_http_stream_reply(s, status, ctype, body.data ? body.data : "", body.len);
    k8c_sbuf_free(&body);
}

/* Every request on the server's port: gRPC calls, or plain GETs. */
static void server_on_request(void *arg, struct k8c_http_stream *s)
{
    struct k8c_grpc_server *srv = arg;
    const char *method = k8c_http_stream_method(s);
    const char *path = k8c_http_stream_path(s);
    const char *ctype = k8c_http_stream_header(s, "content-type");
    size_t n;

    if (ctype == NULL || strncmp(ctype, "application/grpc", 16) != 0) {
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
            serve_plain(srv, s, method, path);
            return;
        }
    }
    if (k8c_http_stream_version(s) != 2) {
        static const char msg[] = "gRPC requires HTTP/2\n";
        k8c_http_stream_reply(s, 505, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
        return;
    }
    const struct k8c_http_header *h = k8c_http_stream_headers(s, &n);
    struct k8c_grpc_call *call = srv_stream_open(srv, s, method, path, h, n);
    k8c_http_stream_set_ops(s, &srv_stream_ops, call);
}

int k8c_grpc_server_listen(struct k8c_grpc_server *srv, const char *addr,
                           const struct k8c_grpc_listen_options *opts, char *errmsg)
{
    struct k8c_http_listen_options lo = {0};
    if (srv->transport == NULL)
        srv->transport = k8c_http_server_new(srv->loop, NULL, server_on_request, srv);
    if (opts != NULL) {
        lo.cert_file = opts->cert_file;
        lo.key_file = opts->key_file;
        lo.client_ca_file = opts->client_ca_file;
        lo.require_client_cert = opts->client_ca_file != NULL && opts->client_ca_file[0] != '\0';
    }
    return k8c_http_server_listen(srv->transport, addr, &lo, errmsg);
}

int k8c_grpc_server_port(const struct k8c_grpc_server *srv)
{
    return srv->transport ? k8c_http_server_port(srv->transport) : 0;
}

void k8c_grpc_server_set_http_handler(struct k8c_grpc_server *srv, k8c_grpc_http_fn fn, void *arg)
{
    srv->http_fn = fn;
    srv->http_arg = arg;
}

static void srv_transport_close(struct k8c_grpc_server *srv)
{
    struct k8c_http_server *http = srv->transport;
    srv->transport = NULL;
    k8c_http_server_del(http);
}

/* ---- client ---- */

static void cli_h_header(struct k8c_http_client_stream *s, const char *name, const char *value,
                         void *arg)
{
    cli_on_header(arg, name, value);
}

static void cli_h_data(struct k8c_http_client_stream *s, const uint8_t *data, size_t len, void *arg)
{
    cli_on_data(arg, data, len);
}

static void cli_h_end(struct k8c_http_client_stream *s, void *arg)
{
    cli_on_remote_end(arg);
}

static void cli_h_close(struct k8c_http_client_stream *s, int error, uint32_t rst, const char *why,
                        void *arg)
{
    struct k8c_grpc_client_call *c = arg;
    c->stream = NULL;
    c->stream_gone = true;
    cli_on_closed(c, error, rst, why);
}

static const struct k8c_http_client_ops cli_stream_ops = {
    .on_header = cli_h_header,
    .on_data = cli_h_data,
    .on_end = cli_h_end,
    .on_close = cli_h_close,
};

struct k8c_grpc_channel *k8c_grpc_channel_new(uv_loop_t *loop, const char *target,
                                              const struct k8c_grpc_channel_options *opts,
                                              char *errmsg)
{
    struct k8c_http_client_options ho = {0};
    if (opts != NULL) {
        ho.ca_file = opts->ca_file;
        ho.cert_file = opts->cert_file;
        ho.key_file = opts->key_file;
        ho.server_name = opts->server_name;
        ho.keepalive_ms = opts->keepalive_ms;
    }
    struct k8c_http_client *http = k8c_http_client_new(loop, target, &ho, errmsg);
    if (http == NULL)
        return NULL;
    struct k8c_grpc_channel *ch = K8C_NEW(struct k8c_grpc_channel);
    ch->loop = loop;
    ch->deadlines.loop = loop;
    ch->deadlines.expired = client_deadline;
    ch->target = k8c_strdup(target);
    if (opts != NULL)
        ch->opts = *opts;
    ch->opts.ca_file = ch->opts.cert_file = ch->opts.key_file = ch->opts.server_name = NULL;
    ch->transport = http;
    return ch;
}

static void channel_transport_close(struct k8c_grpc_channel *ch)
{
    struct k8c_http_client *http = ch->transport;
    ch->transport = NULL;
    k8c_http_client_del(http);
}

static void channel_free(struct k8c_grpc_channel *ch)
{
    channel_transport_close(ch);
    dl_close(&ch->deadlines);
    k8c_free(ch->target);
    k8c_free(ch);
}

void k8c_grpc_channel_del(struct k8c_grpc_channel *ch)
{
    size_t n = 0, i = 0;

    if (ch == NULL)
        return;
    ch->closing = true;
    for (struct k8c_grpc_client_call *c = ch->calls; c != NULL; c = c->next)
        n++;
    struct k8c_grpc_client_call **calls = k8c_calloc(n ? n : 1, sizeof(*calls));
    for (struct k8c_grpc_client_call *c = ch->calls; c != NULL; c = c->next) {
        c->refs++;
        calls[i++] = c;
    }
    for (i = 0; i < n; i++)
        ccall_abort(calls[i], K8C_GRPC_CANCELLED, "channel closed");
    channel_transport_close(ch);
    for (i = 0; i < n; i++)
        ccall_unref(calls[i]);
    k8c_free(calls);
    ch->deleting = true;
    if (ch->calls == NULL)
        channel_free(ch);
}

static int cli_stream_open(struct k8c_grpc_client_call *call, const char *timeout)
{
    struct k8c_http_client *http = call->ch->transport;
    struct grpc_header h[8 + 64];
    size_t n = 0;

    if (http == NULL)
        return K8C_ECLOSED;
    h[n++] = (struct grpc_header){":method", "POST"};
    h[n++] = (struct grpc_header){":scheme", k8c_http_client_scheme(http)};
    h[n++] = (struct grpc_header){":path", call->path};
    h[n++] = (struct grpc_header){":authority", k8c_http_client_authority(http)};
    h[n++] = (struct grpc_header){"content-type", "application/grpc"};
    h[n++] = (struct grpc_header){"te", "trailers"};
    h[n++] = (struct grpc_header){"user-agent", "k8c-grpc/1.0"};
    if (timeout != NULL)
        h[n++] = (struct grpc_header){"grpc-timeout", timeout};
    for (size_t i = 0; call->metadata[i] && call->metadata[i + 1] && n < 8 + 63; i += 2)
        h[n++] = (struct grpc_header){call->metadata[i], call->metadata[i + 1]};
    call->refs++; /* the transport's, dropped in cli_on_closed */
    struct k8c_http_client_stream *s = k8c_http_client_request(http, h, n, &cli_stream_ops, call);
    if (s == NULL) {
        call->refs--;
        return K8C_ECLOSED;
    }
    if (!call->stream_gone)
        call->stream = s;
    return 0;
}

static int cli_send_data(struct k8c_grpc_client_call *call, struct k8c_buf *buf)
{
    return k8c_http_client_stream_send(call->stream, buf);
}

size_t k8c_grpc_client_call_queued(const struct k8c_grpc_client_call *call)
{
    return call->stream != NULL ? k8c_http_client_stream_queued(call->stream) : 0;
}

static int cli_send_end(struct k8c_grpc_client_call *call)
{
    return k8c_http_client_stream_end(call->stream);
}

static void cli_reset(struct k8c_grpc_client_call *call)
{
    k8c_http_client_stream_cancel(call->stream);
}
