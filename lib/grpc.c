/*
 * gRPC server and client. See grpc.h for the API and lifetimes.
 *
 * The file has three parts:
 *   1. the server engine: method table, calls, framing, deadlines, status;
 *   2. the client engine: channels, calls, status from headers/trailers;
 *   3. the transport: HTTP/2 (nghttp2) over TCP or unix sockets, cleartext
 *      (prior knowledge) or TLS (OpenSSL through memory BIOs, ALPN h2).
 * The engines reach the transport only through the srv_* and cli_* functions
 * declared below, so the transport can be swapped for lib/http's when that
 * exists without touching the gRPC logic.
 */
#include "grpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "alloc.h"
#include "log.h"

struct grpc_header {
    const char *name;
    const char *value;
};

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
/* ======================= server engine ======================= */

/*
 * A call's lifetime is shared by three holders, counted in `refs`:
 *   - the transport, until the HTTP/2 stream is closed (srv_stream_closed);
 *   - the handler, from the moment it is handed the call (on_request or
 *     on_start) until it calls k8c_grpc_call_finish;
 *   - the deadline timer, while its handle is open (closing is asynchronous).
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
    void *transport; /* listener and connections (part 3) */
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
    uint64_t deadline; /* uv_now ms, 0 none */
    uv_timer_t *timer; /* deadline timer, NULL if none */
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
    return call->deadline;
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
    if (call->timer != NULL)
        uv_timer_stop(call->timer);
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
    if (call->timer != NULL)
        uv_timer_stop(call->timer);
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
    k8c_grpc_decoder_free(&call->decoder);
    k8c_free(call->request);
    for (size_t i = 0; i < call->nmd; i++) {
        k8c_free(call->md[i].name);
        k8c_free(call->md[i].value);
    }
    k8c_free(call->md);
    k8c_free(call);
    if (srv->deleting && srv->calls == NULL)
        server_free(srv);
}

static void call_unref(struct k8c_grpc_call *call)
{
    if (--call->refs == 0)
        call_free(call);
}

static void timer_closed_cb(uv_handle_t *h)
{
    struct k8c_grpc_call *call = h->data;
    k8c_free(h);
    call_unref(call);
}

static void deadline_cb(uv_timer_t *t)
{
    struct k8c_grpc_call *call = t->data;
    call_fail(call, K8C_GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
}

/* ---- events from the transport ---- */

/* Request headers arrived. Returns the new call (one transport reference),
 * or NULL when the request was answered on the spot (bad content-type). */
static struct k8c_grpc_call *srv_stream_open(struct k8c_grpc_server *srv, void *stream,
                                             const char *method, const char *path,
                                             const struct grpc_header *headers, size_t nheaders)
{
    struct k8c_grpc_call *call = K8C_NEW(struct k8c_grpc_call);
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

    call->md = k8c_calloc(nheaders ? nheaders : 1, sizeof(*call->md));
    for (size_t i = 0; i < nheaders; i++) {
        if (headers[i].name[0] == ':')
            continue;
        if (strcmp(headers[i].name, "content-type") == 0)
            ctype = headers[i].value;
        else if (strcmp(headers[i].name, "grpc-timeout") == 0)
            timeout = headers[i].value;
        call->md[call->nmd].name = k8c_strdup(headers[i].name);
        call->md[call->nmd].value = k8c_strdup(headers[i].value);
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
        call->deadline = uv_now(srv->loop) + ms;
        call->timer = k8c_malloc(sizeof(*call->timer));
        uv_timer_init(srv->loop, call->timer);
        call->timer->data = call;
        call->refs++;
        uv_timer_start(call->timer, deadline_cb, ms, 0);
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
    if (call->timer != NULL) {
        uv_timer_stop(call->timer);
        uv_close((uv_handle_t *)call->timer, timer_closed_cb);
        call->timer = NULL;
    }
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
 * transport (until the HTTP/2 stream is closed), plus the call's timer while
 * its handle is open. on_done runs exactly once: on the final status from the
 * server, a transport failure, the deadline or a cancel.
 */

struct k8c_grpc_client_call {
    struct k8c_grpc_channel *ch;
    struct k8c_grpc_client_call *next, *prev; /* ch->calls */
    void *stream; /* transport handle; NULL before open and after close */
    unsigned refs;
    struct k8c_grpc_call_options o;
    char *path;
    char **metadata; /* copied name/value pairs, NULL-terminated */
    struct k8c_grpc_decoder decoder;
    uv_timer_t *timer; /* deadline and deferred completion */
    bool done;         /* on_done delivered */
    bool send_closed;  /* half-close requested */
    bool headers_seen;
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
    void *transport; /* the connection (part 3) */
    bool closing;    /* _del called: no new calls */
    bool deleting;   /* free when the last call is gone */
};

static void ccall_unref(struct k8c_grpc_client_call *c);

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

static void ccall_timer_closed(uv_handle_t *h)
{
    struct k8c_grpc_client_call *c = h->data;
    k8c_free(h);
    ccall_unref(c);
}

static void ccall_complete(struct k8c_grpc_client_call *c, int status, const char *message)
{
    if (c->done)
        return;
    c->done = true;
    if (c->timer != NULL) {
        uv_timer_stop(c->timer);
        uv_close((uv_handle_t *)c->timer, ccall_timer_closed);
        c->timer = NULL;
    }
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

static void ccall_timer_cb(uv_timer_t *t)
{
    struct k8c_grpc_client_call *c = t->data;
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
    c->refs = 2; /* the user's (until on_done) and the timer's */
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
    c->timer = k8c_malloc(sizeof(*c->timer));
    uv_timer_init(ch->loop, c->timer);
    c->timer->data = c;
    if (o->timeout_ms > 0)
        uv_timer_start(c->timer, ccall_timer_cb, (uint64_t)o->timeout_ms, 0);

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
    uv_timer_start(c->timer, ccall_timer_cb, 0, 0);
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
/* ======================= transport: HTTP/2 over libuv ======================= */

/*
 * One struct h2conn per TCP/unix connection, server or client side. Bytes
 * read from the socket go through TLS (if any) into nghttp2; after every batch
 * of input or engine operation, h2conn_flush() drains nghttp2's output into
 * TLS and uv_write. Engine operations that happen inside nghttp2 callbacks
 * only mark the connection dirty; the flush runs once the callback returns,
 * since nghttp2 must not be re-entered from its own callbacks.
 *
 * Each HTTP/2 stream has a struct h2stream holding the outgoing queue of
 * reference-counted buffers that nghttp2's data provider reads from, and the
 * trailers to send once the queue is empty.
 */

#define H2_MAX_HEADERS      128
#define H2_MAX_HEADER_BYTES (64 * 1024)
#define H2_WRITE_HIGH_WATER (1024 * 1024)
#define H2_WINDOW           (4 * 1024 * 1024)
#define H2_SETUP_TIMEOUT_MS 10000 /* TLS handshake + preface, or an HTTP/1.1 request */

struct h2stream;

struct h2conn {
    uv_loop_t *loop;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    bool is_server;
    struct server_transport *st; /* server side */
    struct k8c_grpc_channel *ch; /* client side */
    struct h2conn *next, *prev;  /* st->conns */
    SSL *ssl;
    BIO *rbio, *wbio; /* TLS through memory BIOs */
    bool tls_ready;
    nghttp2_session *session;
    struct h2stream *streams; /* open streams */
    int in_callback;          /* depth of nghttp2/engine re-entry */
    bool dirty;               /* flush needed after the callback returns */
    bool drain_check;         /* some stream wants on_writable */
    bool closing;
    bool connected;          /* client: socket (and TLS) up, session ready */
    bool resolving;          /* client: getaddrinfo pending */
    bool fail_pending;       /* h2conn_fail asked for inside a callback */
    bool http1;              /* server: a plain HTTP/1.1 client (GET /metrics) */
    bool close_after_write;  /* http1: response queued, close when written */
    struct k8c_sbuf in;      /* server: bytes before the protocol is known / http1 */
    uv_timer_t *setup_timer; /* server: closes connections that never get going */
    size_t writing;          /* bytes handed to uv_write, not completed */
    uv_connect_t connect_req;
    uv_getaddrinfo_t gai_req;
    char errmsg[K8C_ERRMSG_SIZE];
};

struct h2buf {
    struct k8c_buf *buf;
    size_t off;
    struct h2buf *next;
};

struct h2stream {
    struct h2conn *conn;
    int32_t id;                   /* 0 until submitted (client) */
    struct h2stream *next, *prev; /* conn->streams */
    struct h2buf *head, *tail;    /* outgoing data */
    size_t queued;
    bool end;           /* after the queue: trailers (server) or END_STREAM */
    bool plain;         /* server: plain HTTP response, END_STREAM on data */
    bool provider;      /* a data provider was submitted */
    bool deferred;      /* the provider returned DEFERRED */
    bool remote_closed; /* END_STREAM received */
    nghttp2_nv *trailers;
    size_t ntrailers;
    /* server: request headers being collected */
    struct grpc_header *hdrs;
    size_t nhdrs, hdr_bytes;
    bool too_big;
    /* engine objects */
    struct k8c_grpc_call *call;
    struct k8c_grpc_client_call *ccall;
};

struct server_listener {
    struct server_transport *st;
    uv_tcp_t tcp;
    struct server_listener *next;
};

struct server_transport {
    struct k8c_grpc_server *srv; /* NULL once the server is being deleted */
    uv_loop_t *loop;
    SSL_CTX *tls;
    struct server_listener *listeners;
    struct h2conn *conns;
    int port;
    int handles; /* open uv handles; the struct is freed at zero after close */
    bool closing;
};

struct channel_transport {
    struct h2conn *conn; /* current connection or NULL */
    SSL_CTX *tls;
    char *host, *port, *unix_path, *authority, *server_name;
};

static void h2conn_flush(struct h2conn *c);
static void h2conn_fail(struct h2conn *c, const char *why);
static void h2conn_check_fail(struct h2conn *c);

/* ---- output queues ---- */

static void h2stream_queue(struct h2stream *s, struct k8c_buf *buf)
{
    struct h2buf *b = K8C_NEW(struct h2buf);
    b->buf = k8c_buf_ref(buf);
    if (s->tail)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    s->queued += buf->len;
}

static void h2stream_free(struct h2stream *s)
{
    struct h2conn *c = s->conn;
    while (s->head) {
        struct h2buf *b = s->head;
        s->head = b->next;
        k8c_buf_unref(b->buf);
        k8c_free(b);
    }
    for (size_t i = 0; i < s->ntrailers; i++) {
        k8c_free(s->trailers[i].name);
        k8c_free(s->trailers[i].value);
    }
    k8c_free(s->trailers);
    for (size_t i = 0; i < s->nhdrs; i++) {
        k8c_free((char *)s->hdrs[i].name);
        k8c_free((char *)s->hdrs[i].value);
    }
    k8c_free(s->hdrs);
    if (c != NULL) {
        if (s->prev)
            s->prev->next = s->next;
        else
            c->streams = s->next;
        if (s->next)
            s->next->prev = s->prev;
    }
    k8c_free(s);
}

static struct h2stream *h2stream_new(struct h2conn *c)
{
    struct h2stream *s = K8C_NEW(struct h2stream);
    s->conn = c;
    if (c != NULL) {
        s->next = c->streams;
        if (c->streams)
            c->streams->prev = s;
        c->streams = s;
    }
    return s;
}

static void h2stream_attach(struct h2stream *s, struct h2conn *c)
{
    s->conn = c;
    s->next = c->streams;
    if (c->streams)
        c->streams->prev = s;
    c->streams = s;
}

/* nghttp2 pulls outgoing DATA from the stream's queue. */
static ssize_t data_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *out,
                            size_t length, uint32_t *flags, nghttp2_data_source *source,
                            void *user_data)
{
    struct h2stream *s = source->ptr;
    size_t n = 0;

    while (n < length && s->head != NULL) {
        struct h2buf *b = s->head;
        size_t take = b->buf->len - b->off;
        if (take > length - n)
            take = length - n;
        memcpy(out + n, b->buf->data + b->off, take);
        n += take;
        b->off += take;
        s->queued -= take;
        if (b->off == b->buf->len) {
            s->head = b->next;
            if (s->head == NULL)
                s->tail = NULL;
            k8c_buf_unref(b->buf);
            k8c_free(b);
        }
    }
    if (n > 0 && s->conn != NULL)
        s->conn->drain_check = true;
    if (s->head == NULL && s->end) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (s->ntrailers > 0) {
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            nghttp2_submit_trailer(session, stream_id, s->trailers, s->ntrailers);
        }
        return (ssize_t)n;
    }
    if (n == 0) {
        s->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

static void h2stream_resume(struct h2stream *s)
{
    if (s->conn == NULL || s->conn->session == NULL || s->id <= 0)
        return;
    if (s->deferred) {
        s->deferred = false;
        nghttp2_session_resume_data(s->conn->session, s->id);
    }
    h2conn_flush(s->conn);
}

static nghttp2_nv *make_nv(const struct grpc_header *h, size_t n, bool copy)
{
    nghttp2_nv *nv = k8c_calloc(n ? n : 1, sizeof(*nv));
    for (size_t i = 0; i < n; i++) {
        nv[i].name = (uint8_t *)(copy ? k8c_strdup(h[i].name) : h[i].name);
        nv[i].value = (uint8_t *)(copy ? k8c_strdup(h[i].value) : h[i].value);
        nv[i].namelen = strlen(h[i].name);
        nv[i].valuelen = strlen(h[i].value);
        /* nghttp2 copies names and values when a frame is submitted. */
        nv[i].flags = NGHTTP2_NV_FLAG_NONE;
    }
    return nv;
}

/* ---- server-side engine operations ---- */

static int srv_send_headers(struct k8c_grpc_call *call, int http_status,
                            const struct grpc_header *h, size_t n, bool end_stream)
{
    struct h2stream *s = call->stream;
    struct grpc_header all[8];
    char status[8];
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = data_read_cb};

    if (s == NULL || s->conn == NULL || s->conn->session == NULL || n > 7)
        return K8C_ECLOSED;
    snprintf(status, sizeof(status), "%d", http_status);
    all[0] = (struct grpc_header){":status", status};
    memcpy(all + 1, h, n * sizeof(*h));
    nghttp2_nv *nv = make_nv(all, n + 1, false);
    int rc = nghttp2_submit_response(s->conn->session, s->id, nv, n + 1, end_stream ? NULL : &prd);
    k8c_free(nv);
    if (rc != 0)
        return K8C_EPROTO;
    s->provider = !end_stream;
    h2conn_flush(s->conn);
    return 0;
}

static int srv_send_data(struct k8c_grpc_call *call, struct k8c_buf *buf)
{
    struct h2stream *s = call->stream;
    if (s == NULL || s->conn == NULL)
        return K8C_ECLOSED;
    h2stream_queue(s, buf);
    h2stream_resume(s);
    return 0;
}

static int srv_send_trailers(struct k8c_grpc_call *call, const struct grpc_header *h, size_t n)
{
    struct h2stream *s = call->stream;
    if (s == NULL || s->conn == NULL)
        return K8C_ECLOSED;
    s->trailers = make_nv(h, n, true);
    s->ntrailers = n;
    s->end = true;
    h2stream_resume(s);
    return 0;
}

static size_t srv_queued(struct k8c_grpc_call *call)
{
    struct h2stream *s = call->stream;
    return s ? s->queued : 0;
}

/* A plain HTTP request (not gRPC) on the server: answer it in full. */
static void serve_plain(struct h2stream *s, const char *method, const char *path)
{
    struct k8c_grpc_server *srv = s->conn->st->srv;
    struct k8c_sbuf body;
    const char *ctype = "text/plain; charset=utf-8";
    int status = 404;
    char pathbuf[1024], clen[24], code[8];
    const char *query = NULL;

    snprintf(pathbuf, sizeof(pathbuf), "%s", path);
    char *q = strchr(pathbuf, '?');
    if (q != NULL) {
        *q = '\0';
        query = q + 1;
    }
    k8c_sbuf_init(&body);
    if (srv == NULL || srv->http_fn == NULL ||
        !srv->http_fn(srv->http_arg, method, pathbuf, query, &status, &ctype, &body)) {
        status = 404;
        k8c_sbuf_reset(&body);
        k8c_sbuf_puts(&body, "404 page not found\n");
    }
    snprintf(clen, sizeof(clen), "%zu", body.len);
    snprintf(code, sizeof(code), "%d", status);
    struct grpc_header h[] = {{":status", code}, {"content-type", ctype}, {"content-length", clen}};
    nghttp2_nv *nv = make_nv(h, 3, false);
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = data_read_cb};
    struct k8c_buf *b = k8c_buf_copy(body.data ? body.data : "", body.len);
    s->plain = true;
    s->end = true;
    h2stream_queue(s, b);
    k8c_buf_unref(b);
    nghttp2_submit_response(s->conn->session, s->id, nv, 3, &prd);
    s->provider = true;
    k8c_free(nv);
    k8c_sbuf_free(&body);
}

/* ---- nghttp2 callbacks (both sides) ---- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    struct h2conn *c = ud;
    if (!c->is_server || frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2stream *s = h2stream_new(c);
    s->id = frame->hd.stream_id;
    nghttp2_session_set_stream_user_data(session, s->id, s);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    struct h2conn *c = ud;
    struct h2stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s == NULL)
        return 0;
    if (c->is_server) {
        if (s->nhdrs >= H2_MAX_HEADERS || s->hdr_bytes + namelen + valuelen > H2_MAX_HEADER_BYTES) {
            s->too_big = true;
            return 0;
        }
        s->hdrs = k8c_realloc(s->hdrs, (s->nhdrs + 1) * sizeof(*s->hdrs));
        s->hdrs[s->nhdrs].name = k8c_strndup((const char *)name, namelen);
        s->hdrs[s->nhdrs].value = k8c_strndup((const char *)value, valuelen);
        s->nhdrs++;
        s->hdr_bytes += namelen + valuelen;
    } else if (s->ccall != NULL) {
        char *n = k8c_strndup((const char *)name, namelen);
        char *v = k8c_strndup((const char *)value, valuelen);
        cli_on_header(s->ccall, n, v);
        k8c_free(n);
        k8c_free(v);
    }
    return 0;
}

static const char *find_header(struct h2stream *s, const char *name)
{
    for (size_t i = 0; i < s->nhdrs; i++) {
        if (strcmp(s->hdrs[i].name, name) == 0)
            return s->hdrs[i].value;
    }
    return NULL;
}

/* Request headers complete on the server: plain HTTP or a gRPC call. */
static void server_request(struct h2conn *c, struct h2stream *s)
{
    const char *method = find_header(s, ":method");
    const char *path = find_header(s, ":path");
    const char *ctype = find_header(s, "content-type");
    struct k8c_grpc_server *srv = c->st->srv;

    if (s->too_big || method == NULL || path == NULL) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                  s->too_big ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
        return;
    }
    if (srv == NULL) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_REFUSED_STREAM);
        return;
    }
    if (ctype == NULL || strncmp(ctype, "application/grpc", 16) != 0) {
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
            serve_plain(s, method, path);
            return;
        }
    }
    s->call = srv_stream_open(srv, s, method, path, s->hdrs, s->nhdrs);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    struct h2conn *c = ud;
    struct h2stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;

    if (s == NULL)
        return 0;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    if (c->is_server) {
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            server_request(c, s);
        if (end) {
            s->remote_closed = true;
            if (s->call != NULL)
                srv_stream_end(s->call);
        }
    } else if (end) {
        s->remote_closed = true;
        if (s->ccall != NULL) {
            cli_on_remote_end(s->ccall);
            /* We may still be sending: the server is done, so stop. */
            if (nghttp2_session_get_stream_local_close(session, s->id) == 0)
                nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        }
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *ud)
{
    struct h2conn *c = ud;
    struct h2stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s == NULL)
        return 0;
    if (c->is_server && s->call != NULL)
        srv_stream_data(s->call, data, len);
    else if (!c->is_server && s->ccall != NULL)
        cli_on_data(s->ccall, data, len);
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    struct h2conn *c = ud;
    /* Our final HEADERS went out while the client is still sending: as gRPC
     * servers do, end the stream with RST_STREAM(NO_ERROR). */
    if (c->is_server && frame->hd.type == NGHTTP2_HEADERS &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
        nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0)
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *ud)
{
    struct h2conn *c = ud;
    struct h2stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    if (c->is_server) {
        struct k8c_grpc_call *call = s->call;
        s->call = NULL;
        h2stream_free(s);
        if (call != NULL)
            srv_stream_closed(call);
    } else {
        struct k8c_grpc_client_call *cc = s->ccall;
        bool clean = s->remote_closed;
        s->ccall = NULL;
        h2stream_free(s);
        if (cc != NULL) {
            cc->stream = NULL;
            cli_on_closed(cc, clean ? 0 : K8C_ECLOSED, clean ? 0 : error_code, NULL);
        }
    }
    return 0;
}

/* ---- connection I/O ---- */

struct write_req {
    uv_write_t req;
    struct h2conn *conn;
    size_t len;
    char data[];
};

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct h2conn *c = w->conn;
    c->writing -= w->len;
    k8c_free(w);
    if (c->closing)
        return;
    if (status < 0) {
        h2conn_fail(c, uv_strerror(status));
        return;
    }
    if (c->close_after_write && c->writing == 0) {
        h2conn_fail(c, "HTTP/1.1 response sent");
        return;
    }
    h2conn_flush(c);
}

static void write_raw(struct h2conn *c, const void *data, size_t len)
{
    struct write_req *w = k8c_malloc(sizeof(*w) + len);
    w->conn = c;
    w->len = len;
    memcpy(w->data, data, len);
    c->writing += len;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, &c->io.stream, &b, 1, write_cb);
    if (rc < 0) {
        c->writing -= len;
        k8c_free(w);
        h2conn_fail(c, uv_strerror(rc));
    }
}

/* Moves TLS output (handshake records or encrypted data) to the socket. */
static void tls_flush(struct h2conn *c)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0)
        write_raw(c, buf, (size_t)n);
}

static void conn_send(struct h2conn *c, const uint8_t *data, size_t len)
{
    if (c->ssl == NULL) {
        write_raw(c, data, len);
        return;
    }
    while (len > 0 && !c->closing) {
        int n = SSL_write(c->ssl, data, (int)(len > 16384 ? 16384 : len));
        if (n <= 0) {
            h2conn_fail(c, "TLS write failed");
            return;
        }
        data += n;
        len -= (size_t)n;
        tls_flush(c);
    }
}

/* Calls on_writable for streams whose queue drained. */
static void conn_check_drain(struct h2conn *c)
{
    if (!c->drain_check || !c->is_server)
        return;
    c->drain_check = false;
    /* Collect first: callbacks may close streams. */
    size_t n = 0;
    for (struct h2stream *s = c->streams; s; s = s->next)
        n += s->call != NULL && s->call->want_writable;
    if (n == 0)
        return;
    struct k8c_grpc_call **calls = k8c_calloc(n, sizeof(*calls));
    size_t i = 0;
    for (struct h2stream *s = c->streams; s && i < n; s = s->next) {
        if (s->call != NULL && s->call->want_writable) {
            calls[i] = s->call;
            calls[i]->refs++;
            i++;
        }
    }
    c->in_callback++;
    for (size_t j = 0; j < i; j++) {
        srv_stream_drained(calls[j]);
        call_unref(calls[j]);
    }
    c->in_callback--;
    k8c_free(calls);
}

static void h2conn_flush(struct h2conn *c)
{
    if (c->closing || c->session == NULL)
        return;
    if (c->in_callback > 0) {
        c->dirty = true;
        return;
    }
    c->in_callback++;
    for (int rounds = 0; rounds < 64; rounds++) {
        c->dirty = false;
        while (c->writing < H2_WRITE_HIGH_WATER && !c->closing) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(c->session, &data);
            if (n < 0) {
                c->in_callback--;
                h2conn_fail(c, nghttp2_strerror((int)n));
                return;
            }
            if (n == 0)
                break;
            conn_send(c, data, (size_t)n);
        }
        if (c->closing)
            break;
        c->in_callback--;
        conn_check_drain(c);
        c->in_callback++;
        if (!c->dirty)
            break;
    }
    c->in_callback--;
    h2conn_check_fail(c);
    if (!c->closing && c->session != NULL && !nghttp2_session_want_read(c->session) &&
        !nghttp2_session_want_write(c->session) && c->writing == 0)
        h2conn_fail(c, "session finished");
}

static void conn_closed_cb(uv_handle_t *h)
{
    struct h2conn *c = h->data;
    if (c->st != NULL) {
        struct server_transport *st = c->st;
        if (c->prev)
            c->prev->next = c->next;
        else
            st->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        if (--st->handles == 0 && st->closing) {
            SSL_CTX_free(st->tls);
            k8c_free(st);
        }
    }
    if (c->ssl)
        SSL_free(c->ssl);
    k8c_sbuf_free(&c->in);
    k8c_free(c);
}

static void setup_timer_closed(uv_handle_t *h)
{
    k8c_free(h);
}

/* The connection is set up (or going away): no more setup deadline. */
static void conn_setup_done(struct h2conn *c)
{
    if (c->setup_timer == NULL)
        return;
    uv_timer_stop(c->setup_timer);
    uv_close((uv_handle_t *)c->setup_timer, setup_timer_closed);
    c->setup_timer = NULL;
}

static void setup_timeout_cb(uv_timer_t *t)
{
    struct h2conn *c = t->data;
    conn_setup_done(c);
    h2conn_fail(c, "connection setup timed out");
}

/* Tears the connection down: every open stream is reported closed. */
static void h2conn_fail(struct h2conn *c, const char *why)
{
    if (c->closing)
        return;
    if (c->in_callback > 0) {
        /* nghttp2 is on the stack: finish the teardown once it returns. */
        if (!c->fail_pending)
            k8c_errmsg_printf(c->errmsg, "%s", why);
        c->fail_pending = true;
        return;
    }
    c->closing = true;
    conn_setup_done(c);
    if (c->fail_pending)
        why = c->errmsg;
    else
        k8c_errmsg_printf(c->errmsg, "%s", why);
    why = c->errmsg;
    k8c_log_v(2, "grpc: connection closed reason=\"%s\"", why);
    while (c->streams != NULL) {
        struct h2stream *s = c->streams;
        struct k8c_grpc_call *call = s->call;
        struct k8c_grpc_client_call *cc = s->ccall;
        s->call = NULL;
        s->ccall = NULL;
        if (c->session != NULL && s->id > 0)
            nghttp2_session_set_stream_user_data(c->session, s->id, NULL);
        h2stream_free(s);
        if (call != NULL)
            srv_stream_closed(call);
        if (cc != NULL) {
            cc->stream = NULL;
            cli_on_closed(cc, K8C_ECLOSED, 0, why);
        }
    }
    if (c->session != NULL) {
        nghttp2_session_del(c->session);
        c->session = NULL;
    }
    if (c->ch != NULL) {
        struct channel_transport *ct = c->ch->transport;
        if (ct->conn == c)
            ct->conn = NULL;
        c->ch = NULL;
    }
    if (!c->resolving && !uv_is_closing(&c->io.handle))
        uv_close(&c->io.handle, conn_closed_cb);
}

/* Runs a teardown that was requested while nghttp2 was on the stack. */
static void h2conn_check_fail(struct h2conn *c)
{
    if (c->fail_pending && c->in_callback == 0 && !c->closing)
        h2conn_fail(c, c->errmsg);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    buf->base = k8c_malloc(65536);
    buf->len = 65536;
}

static void conn_start_session(struct h2conn *c);

#define H1_MAX_REQUEST (16 * 1024)
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static const char *http1_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Unknown";
    }
}

/* A plain HTTP/1.1 request (curl, Prometheus): one GET answered in full, then
 * the connection is closed. gRPC needs HTTP/2 and is not served here. */
static void http1_input(struct h2conn *c, const uint8_t *data, size_t len)
{
    struct k8c_grpc_server *srv = c->st ? c->st->srv : NULL;
    struct k8c_sbuf body, out;
    const char *ctype = "text/plain; charset=utf-8";
    int status = 404;
    char method[16], target[2048];

    if (c->close_after_write)
        return;
    k8c_sbuf_append(&c->in, data, len);
    /* A request head is printable text: anything else is garbage, answered at once. */
    bool binary = false;
    for (size_t i = 0; i < len && !binary; i++)
        binary = (data[i] < 0x20 && data[i] != '\r' && data[i] != '\n' && data[i] != '\t') ||
                 data[i] == 0x7f;
    char *end = strstr(c->in.data, "\r\n\r\n");
    if (end == NULL && c->in.len < H1_MAX_REQUEST && !binary)
        return;
    k8c_sbuf_init(&body);
    if (binary) {
        end = NULL;
        status = 400;
        k8c_sbuf_puts(&body, "malformed request\n");
    } else if (end == NULL) {
        status = 431;
        k8c_sbuf_puts(&body, "request too large\n");
    } else if (sscanf(c->in.data, "%15s %2047s HTTP/1.", method, target) != 2) {
        status = 400;
        k8c_sbuf_puts(&body, "malformed request\n");
    } else {
        char *query = strchr(target, '?');
        if (query != NULL)
            *query++ = '\0';
        if (srv == NULL || srv->http_fn == NULL ||
            !srv->http_fn(srv->http_arg, method, target, query, &status, &ctype, &body)) {
            status = 404;
            k8c_sbuf_reset(&body);
            k8c_sbuf_puts(&body, "404 page not found\n");
        }
    }
    k8c_sbuf_init(&out);
    k8c_sbuf_printf(&out,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n",
                    status, http1_reason(status), ctype, body.len);
    if (end == NULL || strncmp(c->in.data, "HEAD ", 5) != 0)
        k8c_sbuf_append(&out, body.data ? body.data : "", body.len);
    conn_send(c, (const uint8_t *)out.data, out.len);
    c->close_after_write = true;
    k8c_sbuf_free(&out);
    k8c_sbuf_free(&body);
}

/* Server side before the first bytes decide the protocol: the HTTP/2
 * preface starts a session, anything else is HTTP/1.1. */
static bool conn_sniff(struct h2conn *c, const uint8_t **data, size_t *len)
{
    k8c_sbuf_append(&c->in, *data, *len);
    size_t n = c->in.len < 24 ? c->in.len : 24;
    if (memcmp(c->in.data, h2_preface, n) == 0) {
        if (n < 24)
            return false; /* need more bytes */
        conn_start_session(c);
        return true; /* feed the buffered bytes */
    }
    c->http1 = true;
    return true;
}

/* Plaintext bytes from the peer: HTTP/2 into nghttp2, or HTTP/1.1. */
static void conn_feed(struct h2conn *c, const uint8_t *data, size_t len)
{
    if (c->is_server && c->session == NULL && !c->http1) {
        if (!conn_sniff(c, &data, &len))
            return;
        struct k8c_sbuf buffered = c->in;
        k8c_sbuf_init(&c->in);
        conn_feed(c, (const uint8_t *)buffered.data, buffered.len);
        k8c_sbuf_free(&buffered);
        return;
    }
    if (c->http1) {
        http1_input(c, data, len);
        return;
    }
    if (c->session == NULL)
        return;
    c->in_callback++;
    ssize_t n = nghttp2_session_mem_recv(c->session, data, len);
    c->in_callback--;
    if (n < 0) {
        h2conn_flush(c); /* GOAWAY if nghttp2 queued one */
        h2conn_fail(c, nghttp2_strerror((int)n));
    }
    h2conn_check_fail(c);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct h2conn *c = stream->data;

    if (nread < 0) {
        k8c_free(buf->base);
        h2conn_fail(c, nread == UV_EOF ? "connection closed by peer" : uv_strerror((int)nread));
        return;
    }
    if (c->ssl == NULL) {
        conn_feed(c, (const uint8_t *)buf->base, (size_t)nread);
    } else {
        BIO_write(c->rbio, buf->base, (int)nread);
        if (!c->tls_ready) {
            int rc = SSL_do_handshake(c->ssl);
            tls_flush(c);
            if (rc != 1) {
                int err = SSL_get_error(c->ssl, rc);
                if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                    char msg[200];
                    snprintf(msg, sizeof(msg), "TLS handshake failed: %s",
                             ERR_reason_error_string(ERR_peek_last_error())
                                 ? ERR_reason_error_string(ERR_peek_last_error())
                                 : "peer closed");
                    ERR_clear_error();
                    k8c_free(buf->base);
                    h2conn_fail(c, msg);
                    return;
                }
            } else {
                const unsigned char *alpn = NULL;
                unsigned alpn_len = 0;
                SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
                bool h2 = alpn_len == 2 && memcmp(alpn, "h2", 2) == 0;
                if (!h2 && !c->is_server) {
                    k8c_free(buf->base);
                    h2conn_fail(c, "TLS peer did not negotiate HTTP/2 (ALPN h2)");
                    return;
                }
                c->tls_ready = true;
                if (h2)
                    conn_start_session(c);
                else
                    c->http1 = true; /* plain HTTPS GETs (metrics scrapers) */
            }
        }
        if (c->tls_ready) {
            uint8_t plain[16384];
            int n = 0;
            while (!c->closing && (n = SSL_read(c->ssl, plain, sizeof(plain))) > 0)
                conn_feed(c, plain, (size_t)n);
            if (!c->closing) {
                int err = SSL_get_error(c->ssl, n);
                if (err == SSL_ERROR_ZERO_RETURN) {
                    k8c_free(buf->base);
                    h2conn_fail(c, "TLS connection closed by peer");
                    return;
                }
                if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                    ERR_clear_error();
                    k8c_free(buf->base);
                    h2conn_fail(c, "TLS read failed");
                    return;
                }
            }
        }
    }
    k8c_free(buf->base);
    h2conn_flush(c);
}

static nghttp2_session_callbacks *make_callbacks(void)
{
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    return cbs;
}

static void client_session_ready(struct h2conn *c);

/* Creates the nghttp2 session and queues our SETTINGS. */
static void conn_start_session(struct h2conn *c)
{
    nghttp2_session_callbacks *cbs = make_callbacks();
    nghttp2_option *opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_send_header_block_length(opt, H2_MAX_HEADER_BYTES * 2);
    if (c->is_server)
        nghttp2_session_server_new2(&c->session, cbs, c, opt);
    else
        nghttp2_session_client_new2(&c->session, cbs, c, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_MAX_HEADER_BYTES},
    };
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 3);
    nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, H2_WINDOW * 4);
    conn_setup_done(c);
    if (!c->is_server)
        client_session_ready(c);
    h2conn_flush(c);
}

/* ---- server listening ---- */

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    for (unsigned i = 0; i + 1 <= inlen;) {
        unsigned len = in[i];
        if (i + 1 + len > inlen)
            break;
        if (len == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    for (unsigned i = 0; i + 1 <= inlen;) {
        unsigned len = in[i];
        if (i + 1 + len > inlen)
            break;
        if (len == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
            *out = in + i + 1;
            *outlen = 8;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct server_listener *l = server->data;
    struct server_transport *st = l->st;

    if (status < 0 || st->closing)
        return;
    struct h2conn *c = K8C_NEW(struct h2conn);
    c->loop = st->loop;
    c->is_server = true;
    c->st = st;
    uv_tcp_init(st->loop, &c->io.tcp);
    c->io.handle.data = c;
    st->handles++;
    c->next = st->conns;
    if (st->conns)
        st->conns->prev = c;
    st->conns = c;
    if (uv_accept(server, &c->io.stream) != 0) {
        uv_close(&c->io.handle, conn_closed_cb);
        c->closing = true;
        return;
    }
    uv_tcp_nodelay(&c->io.tcp, 1);
    if (st->tls != NULL) {
        c->ssl = SSL_new(st->tls);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
    }
    /* Cleartext: the first bytes say whether this is HTTP/2 (conn_sniff). */
    uv_read_start(&c->io.stream, alloc_cb, read_cb);
    c->setup_timer = k8c_malloc(sizeof(*c->setup_timer));
    uv_timer_init(st->loop, c->setup_timer);
    c->setup_timer->data = c;
    uv_timer_start(c->setup_timer, setup_timeout_cb, H2_SETUP_TIMEOUT_MS, 0);
}

static int tls_error(char *errmsg, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    k8c_errmsg_printf(errmsg, "%s %s: %s", what, file ? file : "",
                      e ? ERR_reason_error_string(e) : "unknown error");
    ERR_clear_error();
    return K8C_ETLS;
}

/* Splits "host:port", "[v6]:port" or ":port". Returns false if malformed. */
static bool split_host_port(const char *addr, char **host, char **port)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (end == NULL || end[1] != ':')
            return false;
        *host = k8c_strndup(addr + 1, (size_t)(end - addr - 1));
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return false;
        *host = k8c_strndup(addr, (size_t)(colon - addr));
    }
    if (colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        k8c_free(*host);
        return false;
    }
    *port = k8c_strdup(colon + 1);
    return true;
}

int k8c_grpc_server_listen(struct k8c_grpc_server *srv, const char *addr,
                           const struct k8c_grpc_listen_options *opts, char *errmsg)
{
    struct server_transport *st = srv->transport;
    char *host = NULL, *port = NULL;
    struct sockaddr_storage ss;
    int rc;

    if (st == NULL) {
        st = K8C_NEW(struct server_transport);
        st->srv = srv;
        st->loop = srv->loop;
        srv->transport = st;
    }
    if (!split_host_port(addr, &host, &port)) {
        k8c_errmsg_printf(errmsg, "invalid listen address \"%s\": want host:port", addr);
        return K8C_EINVAL;
    }
    if (host[0] == '\0') {
        k8c_free(host);
        host = k8c_strdup("0.0.0.0");
    }
    rc = uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)&ss);
    if (rc != 0)
        rc = uv_ip6_addr(host, atoi(port), (struct sockaddr_in6 *)&ss);
    k8c_free(host);
    k8c_free(port);
    if (rc != 0) {
        k8c_errmsg_printf(errmsg, "invalid listen address \"%s\": need a numeric IP", addr);
        return K8C_EINVAL;
    }
    if (opts != NULL && opts->cert_file != NULL && opts->cert_file[0] != '\0' && st->tls == NULL) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(ctx, opts->cert_file) != 1) {
            SSL_CTX_free(ctx);
            return tls_error(errmsg, "loading certificate", opts->cert_file);
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, opts->key_file ? opts->key_file : "",
                                        SSL_FILETYPE_PEM) != 1) {
            SSL_CTX_free(ctx);
            return tls_error(errmsg, "loading key", opts->key_file);
        }
        if (opts->client_ca_file != NULL && opts->client_ca_file[0] != '\0') {
            if (SSL_CTX_load_verify_locations(ctx, opts->client_ca_file, NULL) != 1) {
                SSL_CTX_free(ctx);
                return tls_error(errmsg, "loading client CA", opts->client_ca_file);
            }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
        st->tls = ctx;
    }
    struct server_listener *l = K8C_NEW(struct server_listener);
    l->st = st;
    uv_tcp_init(srv->loop, &l->tcp);
    l->tcp.data = l;
    st->handles++;
    l->next = st->listeners;
    st->listeners = l;
    rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection);
    if (rc != 0) {
        k8c_errmsg_printf(errmsg, "listen on %s: %s", addr, uv_strerror(rc));
        return rc;
    }
    int len = sizeof(ss);
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
    st->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int k8c_grpc_server_port(const struct k8c_grpc_server *srv)
{
    struct server_transport *st = srv->transport;
    return st ? st->port : 0;
}

void k8c_grpc_server_set_http_handler(struct k8c_grpc_server *srv, k8c_grpc_http_fn fn, void *arg)
{
    srv->http_fn = fn;
    srv->http_arg = arg;
}

static void listener_closed_cb(uv_handle_t *h)
{
    struct server_listener *l = h->data;
    struct server_transport *st = l->st;
    k8c_free(l);
    if (--st->handles == 0 && st->closing) {
        SSL_CTX_free(st->tls);
        k8c_free(st);
    }
}

static void srv_transport_close(struct k8c_grpc_server *srv)
{
    struct server_transport *st = srv->transport;
    if (st == NULL)
        return;
    srv->transport = NULL;
    st->srv = NULL;
    st->closing = true;
    while (st->listeners) {
        struct server_listener *l = st->listeners;
        st->listeners = l->next;
        uv_close((uv_handle_t *)&l->tcp, listener_closed_cb);
    }
    for (struct h2conn *c = st->conns; c != NULL; c = c->next) {
        if (c->session != NULL) {
            nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->session),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            h2conn_flush(c);
        }
        h2conn_fail(c, "server shutting down");
    }
    if (st->handles == 0) {
        SSL_CTX_free(st->tls);
        k8c_free(st);
    }
}

/* ---- client connections ---- */

struct k8c_grpc_channel *k8c_grpc_channel_new(uv_loop_t *loop, const char *target,
                                              const struct k8c_grpc_channel_options *opts,
                                              char *errmsg)
{
    struct channel_transport *ct = K8C_NEW(struct channel_transport);
    bool tls = opts != NULL && opts->ca_file != NULL && opts->ca_file[0] != '\0';

    if (strncmp(target, "unix:", 5) == 0) {
        const char *path = target + 5;
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (path[0] == '\0' || strlen(path) >= 108) {
            k8c_errmsg_printf(errmsg, "invalid unix socket target \"%s\"", target);
            k8c_free(ct);
            return NULL;
        }
        ct->unix_path = k8c_strdup(path);
        ct->authority = k8c_strdup("localhost");
    } else {
        if (!split_host_port(target, &ct->host, &ct->port) || ct->host[0] == '\0') {
            k8c_errmsg_printf(errmsg, "invalid target \"%s\": want host:port or unix:/path",
                              target);
            k8c_free(ct);
            return NULL;
        }
        ct->authority = k8c_strdup(target);
    }
    ct->server_name = k8c_strdup(opts && opts->server_name ? opts->server_name
                                 : ct->host                ? ct->host
                                                           : "localhost");
    if (tls) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        int rc = 0;
        if (SSL_CTX_load_verify_locations(ctx, opts->ca_file, NULL) != 1)
            rc = tls_error(errmsg, "loading CA", opts->ca_file);
        if (rc == 0 && opts->cert_file != NULL && opts->cert_file[0] != '\0') {
            if (SSL_CTX_use_certificate_chain_file(ctx, opts->cert_file) != 1)
                rc = tls_error(errmsg, "loading client certificate", opts->cert_file);
            else if (SSL_CTX_use_PrivateKey_file(ctx, opts->key_file ? opts->key_file : "",
                                                 SSL_FILETYPE_PEM) != 1)
                rc = tls_error(errmsg, "loading client key", opts->key_file);
        }
        if (rc != 0) {
            SSL_CTX_free(ctx);
            k8c_free(ct->host);
            k8c_free(ct->port);
            k8c_free(ct->unix_path);
            k8c_free(ct->authority);
            k8c_free(ct->server_name);
            k8c_free(ct);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3);
        ct->tls = ctx;
    }
    struct k8c_grpc_channel *ch = K8C_NEW(struct k8c_grpc_channel);
    ch->loop = loop;
    ch->target = k8c_strdup(target);
    if (opts != NULL)
        ch->opts = *opts;
    ch->opts.ca_file = ch->opts.cert_file = ch->opts.key_file = ch->opts.server_name = NULL;
    ch->transport = ct;
    return ch;
}

static void channel_free(struct k8c_grpc_channel *ch)
{
    struct channel_transport *ct = ch->transport;
    if (ct->conn != NULL)
        return; /* freed when the connection has gone (channel_transport_close) */
    SSL_CTX_free(ct->tls);
    k8c_free(ct->host);
    k8c_free(ct->port);
    k8c_free(ct->unix_path);
    k8c_free(ct->authority);
    k8c_free(ct->server_name);
    k8c_free(ct);
    k8c_free(ch->target);
    k8c_free(ch);
}

static void channel_transport_close(struct k8c_grpc_channel *ch)
{
    struct channel_transport *ct = ch->transport;
    if (ct->conn != NULL)
        h2conn_fail(ct->conn, "channel closed");
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

/* Submits the HTTP/2 request for a call whose stream is waiting. */
static void cli_submit(struct h2conn *c, struct h2stream *s)
{
    struct k8c_grpc_client_call *call = s->ccall;
    struct channel_transport *ct = c->ch->transport;
    struct grpc_header h[8 + 64];
    size_t n = 0;
    char timeout[16];

    h[n++] = (struct grpc_header){":method", "POST"};
    h[n++] = (struct grpc_header){":scheme", ct->tls ? "https" : "http"};
    h[n++] = (struct grpc_header){":path", call->path};
    h[n++] = (struct grpc_header){":authority", ct->authority};
    h[n++] = (struct grpc_header){"content-type", "application/grpc"};
    h[n++] = (struct grpc_header){"te", "trailers"};
    h[n++] = (struct grpc_header){"user-agent", "k8c-grpc/1.0"};
    if (call->o.timeout_ms > 0) {
        /* What is left of the deadline now, not what was asked at the start. */
        uint64_t due = uv_timer_get_due_in(call->timer);
        h[n++] = (struct grpc_header){
            "grpc-timeout", k8c_grpc_timeout_format((int64_t)(due ? due : 1) * 1000000, timeout)};
    }
    for (size_t i = 0; call->metadata[i] && call->metadata[i + 1] && n < 8 + 63; i += 2)
        h[n++] = (struct grpc_header){call->metadata[i], call->metadata[i + 1]};
    nghttp2_nv *nv = make_nv(h, n, false);
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = data_read_cb};
    int32_t id = nghttp2_submit_request(c->session, NULL, nv, n, &prd, s);
    k8c_free(nv);
    if (id < 0) {
        s->ccall = NULL;
        h2stream_free(s);
        call->stream = NULL;
        cli_on_closed(call, K8C_EPROTO, 0, nghttp2_strerror(id));
        return;
    }
    s->id = id;
    s->provider = true;
}

/* Waiting streams are kept on the connection with id 0 until the session is up. */
static void client_session_ready(struct h2conn *c)
{
    c->connected = true;
    for (struct h2stream *s = c->streams, *next; s != NULL; s = next) {
        next = s->next;
        if (s->id == 0 && s->ccall != NULL)
            cli_submit(c, s);
    }
}

static void client_connected(struct h2conn *c)
{
    struct channel_transport *ct = c->ch->transport;
    uv_read_start(&c->io.stream, alloc_cb, read_cb);
    if (ct->tls != NULL) {
        c->ssl = SSL_new(ct->tls);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_connect_state(c->ssl);
        SSL_set_tlsext_host_name(c->ssl, ct->server_name);
        SSL_set1_host(c->ssl, ct->server_name);
        SSL_do_handshake(c->ssl);
        tls_flush(c);
    } else {
        conn_start_session(c);
    }
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct h2conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "connect: %s", uv_strerror(status));
        h2conn_fail(c, msg);
        return;
    }
    if (!c->ch) {
        h2conn_fail(c, "channel closed");
        return;
    }
    if (c->io.handle.type == UV_TCP)
        uv_tcp_nodelay(&c->io.tcp, 1);
    client_connected(c);
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct h2conn *c = req->data;
    c->resolving = false;
    if (c->closing) {
        uv_freeaddrinfo(res);
        if (!uv_is_closing(&c->io.handle))
            uv_close(&c->io.handle, conn_closed_cb);
        return;
    }
    if (status < 0 || res == NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "resolve: %s", uv_strerror(status));
        uv_freeaddrinfo(res);
        h2conn_fail(c, msg);
        return;
    }
    c->connect_req.data = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->io.tcp, res->ai_addr, connect_cb);
    uv_freeaddrinfo(res);
    if (rc < 0)
        h2conn_fail(c, uv_strerror(rc));
}

/* The channel's connection, connecting if there is none. */
static struct h2conn *channel_conn(struct k8c_grpc_channel *ch)
{
    struct channel_transport *ct = ch->transport;
    if (ct->conn != NULL)
        return ct->conn;
    struct h2conn *c = K8C_NEW(struct h2conn);
    c->loop = ch->loop;
    c->ch = ch;
    ct->conn = c;
    if (ct->unix_path != NULL) {
        uv_pipe_init(ch->loop, &c->io.pipe, 0);
        c->io.handle.data = c;
        c->connect_req.data = c;
        uv_pipe_connect(&c->connect_req, &c->io.pipe, ct->unix_path, connect_cb);
    } else {
        uv_tcp_init(ch->loop, &c->io.tcp);
        c->io.handle.data = c;
        c->gai_req.data = c;
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        c->resolving = true;
        int rc = uv_getaddrinfo(ch->loop, &c->gai_req, gai_cb, ct->host, ct->port, &hints);
        if (rc < 0) {
            c->resolving = false;
            h2conn_fail(c, uv_strerror(rc));
        }
    }
    return c;
}

static int cli_stream_open(struct k8c_grpc_client_call *call, const char *timeout)
{
    struct h2conn *c = channel_conn(call->ch);
    if (c->closing)
        return K8C_ECLOSED;
    struct h2stream *s = h2stream_new(NULL);
    s->ccall = call;
    call->stream = s;
    call->refs++; /* the transport's */
    h2stream_attach(s, c);
    if (c->connected && c->session != NULL) {
        cli_submit(c, s);
        h2conn_flush(c);
    }
    return 0;
}

static int cli_send_data(struct k8c_grpc_client_call *call, struct k8c_buf *buf)
{
    struct h2stream *s = call->stream;
    h2stream_queue(s, buf);
    h2stream_resume(s);
    return 0;
}

size_t k8c_grpc_client_call_queued(const struct k8c_grpc_client_call *call)
{
    const struct h2stream *s = call->stream;
    return s != NULL ? s->queued : 0;
}

static int cli_send_end(struct k8c_grpc_client_call *call)
{
    struct h2stream *s = call->stream;
    s->end = true;
    h2stream_resume(s);
    return 0;
}

static void cli_reset(struct k8c_grpc_client_call *call)
{
    struct h2stream *s = call->stream;
    struct h2conn *c = s->conn;
    if (s->id > 0 && c != NULL && c->session != NULL) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        h2conn_flush(c);
        return;
    }
    /* Not submitted yet: drop it here. */
    s->ccall = NULL;
    h2stream_free(s);
    call->stream = NULL;
    ccall_unref(call);
}
