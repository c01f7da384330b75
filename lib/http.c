/*
 * HTTP/2 and HTTP/1.1 over libuv. See http.h for the API and lifetimes.
 *
 * One struct conn per TCP/unix connection, server or client side. Bytes read
 * from the socket go through TLS (if any) and then, by protocol, into
 * nghttp2 (HTTP/2), http-parser (HTTP/1.1) or wslay (an upgraded websocket).
 * After every batch of input or handler operation, conn_flush() moves
 * pending output (nghttp2's frames, or HTTP/1.1 response bytes from the
 * current stream's queue) through TLS into uv_write, as long as less than
 * the high-water mark waits in the kernel-bound queue; write_cb continues
 * the flush. That is the whole of backpressure: a peer that does not read
 * stops our flushes, the streams' queues grow, and handlers see
 * k8c_http_stream_queued() rise and wait for on_writable.
 *
 * Handler operations that happen inside nghttp2 callbacks only mark the
 * connection dirty; the flush runs once the callback returns, since nghttp2
 * must not be re-entered from its own callbacks. Teardown requested inside a
 * callback is deferred the same way (fail_pending).
 *
 * HTTP/1.1 requests are parsed by http-parser; the parser is paused after
 * each complete request until its response has been written in full, so
 * pipelined requests are answered in order. A response without a length
 * that is not ended at once is sent chunked.
 */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "alloc.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "turn.h"

/* Output a connection has on its way to the kernel before its flushes stop,
 * unless the server says otherwise (write_high_water). */
#define WRITE_HIGH_WATER (1024 * 1024)
#define TLS_SPARES       2 /* output buffers a connection keeps for reuse */
#define H2_WINDOW        (4 * 1024 * 1024)
#define H1_MAX_URL       (16 * 1024)
#define MAX_PEER_ORGS    16

struct conn;

struct outbuf {
    struct k8c_buf *buf;
    size_t off;
    struct outbuf *next;
};

enum conn_proto { PROTO_UNKNOWN, PROTO_H2, PROTO_H1, PROTO_WS, PROTO_RAW };

struct k8c_http_stream {
    struct conn *conn;
    int32_t id;                          /* HTTP/2 stream id; 0 until submitted (client) */
    struct k8c_http_stream *next, *prev; /* conn->streams */
    struct outbuf *head, *tail;          /* outgoing body */
    size_t queued;
    /* The queue's one buffer in the common case (a watch event waiting for
     * the flush): no malloc and free per event and stream. */
    struct outbuf first;
    bool first_used;
    bool end;           /* after the queue: trailers or END_STREAM */
    bool provider;      /* HTTP/2: a data provider was submitted */
    bool deferred;      /* HTTP/2: the provider returned DEFERRED */
    bool remote_closed; /* the request (or response, client) ended */
    bool handed;        /* the request callback has seen it */
    bool headers_sent;
    bool finished; /* k8c_http_stream_finish called */
    bool want_writable;
    size_t low_water;
    bool close_late; /* nghttp2 closed it during an early flush (conn_flush_early) */
    int late_error;
    uint32_t late_rst;
    bool too_big;
    bool closed; /* on_close delivered */
    /* HTTP/1.1 */
    bool chunked;   /* response uses chunked encoding */
    bool no_body;   /* HEAD or 1xx/204/304: headers only */
    bool h1_done;   /* the last byte of the response was handed to the socket */
    bool upgrade;   /* the request asked for Upgrade */
    bool websocket; /* accepted websocket */
    bool raw;       /* hijacked: bytes in and out as they are */
    k8c_http_raw_bytes_fn raw_on_bytes;
    k8c_http_raw_close_fn raw_on_close;
    void *raw_arg;
    nghttp2_nv *trailers;
    size_t ntrailers;
    /* Request headers (server) or the request (client). Names and values
     * live NUL-terminated in hblob, so a request costs two allocations,
     * not two per header; hdrs points into it (stream_add_header). */
    struct k8c_http_header *hdrs;
    size_t nhdrs, hdrs_cap, hdr_bytes;
    char *hblob;
    size_t hblob_len, hblob_cap;
    const char *method, *path;
    /* callbacks */
    const struct k8c_http_stream_ops *ops;
    const struct k8c_http_client_ops *cops;
    void *arg;
};

struct k8c_http_client_stream {
    struct k8c_http_stream s; /* the client stream is a stream */
};

struct listener {
    struct k8c_http_server *srv;
    uv_tcp_t tcp;
    SSL_CTX *tls;
    char *cert_file, *key_file, *ca_file;
    bool require_client_cert, http1_only;
    struct listener *next;
};

/*
 * Output produced during one loop turn (responses completed by one raft
 * apply, a watch fan-out writing to thousands of streams) goes out in one
 * flush per connection at the end of the turn (lib/turn.h).
 */
struct flusher {
    struct k8c_turn turn;
    struct conn *list; /* connections with output waiting */
    struct conn *last; /* server: the connection the last stream send went to */
};

struct k8c_http_server {
    uv_loop_t *loop;
    struct k8c_http_server_options o;
    k8c_http_request_fn on_request;
    void *arg;
    struct listener *listeners;
    struct conn *conns;
    size_t nconns;
    uv_timer_t idle_timer;
    struct flusher flush;
    int port;
    int handles; /* open uv handles; the struct is freed at zero after close */
    bool closing;
    uint64_t early_flushes, closed_late; /* k8c_http_server_flush_stats */
};

struct k8c_http_client {
    uv_loop_t *loop;
    struct conn *conn; /* current connection or NULL */
    SSL_CTX *tls;
    char *host, *port, *unix_path, *authority, *server_name;
    size_t nconns; /* connections not yet closed (the current and dying ones), plus the
                    * flusher's two handles while they are open, plus the keepalive timer */
    struct flusher flush;
    bool flush_init;
    bool deleting;
    unsigned keepalive_ms; /* k8c_http_client_options.keepalive_ms */
    uv_timer_t keepalive;  /* ticks while keepalive_ms > 0 (keepalive_tick) */
};

struct conn {
    uv_loop_t *loop;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    bool is_server;
    struct k8c_http_server *srv;    /* server side */
    struct listener *listener;      /* server side: TLS settings */
    struct k8c_http_client *client; /* client side */
    uint64_t last_heard;            /* client: when it was started or last read from (ms) */
    uint64_t ping_sent;             /* client: when the unanswered keepalive PING went, or 0 */
    bool keepalive_late; /* client: a keepalive tick found it overdue (the next one fails it) */
    struct conn *next, *prev; /* srv->conns */
    SSL *ssl;
    BIO *rbio;             /* TLS input: reads tls_in (conn_bio_new) */
    BIO *wbio;             /* TLS output: appended to tls_out (conn_bio_new) */
    const uint8_t *tls_in; /* the socket bytes read_cb is handing to OpenSSL */
    size_t tls_in_len;
    bool tls_ready;
    enum conn_proto proto;
    nghttp2_session *session;
    struct k8c_http_stream *streams; /* open streams */
    int in_callback;                 /* depth of nghttp2/handler re-entry */
    bool dirty;                      /* flush needed after the callback returns */
    bool drain_check;                /* some stream may want on_writable */
    bool closing;
    bool connected;         /* client: socket (and TLS) up, session ready */
    bool resolving;         /* client: getaddrinfo pending */
    bool fail_pending;      /* conn_fail asked for inside a callback */
    bool close_after_write; /* HTTP/1.1: close once the output is written */
    bool error_sent;        /* HTTP/1.1: an error response ends the connection, whatever the
                               request being parsed */
    bool flushing;
    bool early;         /* in conn_flush_early */
    size_t unflushed;   /* bytes queued on streams since the last flush */
    size_t nclose_late; /* streams with close_late */
    bool flush_pending; /* on its server's or client's flusher list */
    struct conn *flush_next;
    /* HTTP/1.1 */
    http_parser parser;
    struct k8c_http_stream *h1; /* the request being read or answered */
    struct k8c_sbuf in;         /* bytes before the protocol is known / not yet parsed */
    struct k8c_sbuf url;
    struct k8c_sbuf hname, hvalue; /* header being collected */
    bool in_value;
    bool keep_alive;
    bool h1_paused;
    bool parsing; /* inside http_parser_execute */
    /* websocket */
    wslay_event_context_ptr ws;
    const uint8_t *ws_in;
    size_t ws_in_len;
    /* peer */
    char *peer_cn;
    char *peer_orgs[MAX_PEER_ORGS];
    size_t npeer_orgs;
    char peer_addr[64];
    uv_timer_t *setup_timer; /* server: closes connections that never get going */
    uint64_t last_active;    /* uv_now of the last input */
    size_t writing;          /* bytes handed to uv_write, not completed */
    struct k8c_sbuf out;     /* plaintext staged during a flush, written as one */
    struct k8c_sbuf tls_out; /* TLS records not yet handed to the socket */
    /* buffers back from finished writes, for tls_out's next turns */
    char *tls_spare[TLS_SPARES];
    size_t tls_spare_cap[TLS_SPARES];
    size_t ntls_spare;
    uv_connect_t connect_req;
    uv_getaddrinfo_t gai_req;
    char errmsg[K8C_ERRMSG_SIZE];
};

static void conn_flush(struct conn *c);
static void conn_flush_early(struct conn *c);

static size_t conn_high_water(const struct conn *c)
{
    return c->srv != NULL ? c->srv->o.write_high_water : WRITE_HIGH_WATER;
}
static void conn_flush_soon(struct conn *c);
static void conn_fail(struct conn *c, const char *why);
static void conn_check_fail(struct conn *c);
static void h1_resume(struct conn *c);
static size_t conn_pending(const struct conn *c);

/* ======================= streams ======================= */

static void stream_queue(struct k8c_http_stream *s, struct k8c_buf *buf)
{
    struct outbuf *b;
    if (!s->first_used) {
        b = &s->first;
        *b = (struct outbuf){0};
        s->first_used = true;
    } else {
        b = K8C_NEW(struct outbuf);
    }
    b->buf = k8c_buf_ref(buf);
    if (s->tail)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    s->queued += buf->len;
}

/* Drops the queue's first buffer (sent, or the stream is going). */
static void stream_pop(struct k8c_http_stream *s)
{
    struct outbuf *b = s->head;
    s->head = b->next;
    if (s->head == NULL)
        s->tail = NULL;
    k8c_buf_unref(b->buf);
    if (b == &s->first)
        s->first_used = false;
    else
        k8c_free(b);
}

static void stream_unlink(struct k8c_http_stream *s)
{
    struct conn *c = s->conn;
    if (c == NULL)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->conn = NULL;
}

static void stream_free(struct k8c_http_stream *s)
{
    stream_unlink(s);
    while (s->head)
        stream_pop(s);
    k8c_free(s->trailers); /* nv_pack: names and values in the same block */
    k8c_free(s->hdrs);
    k8c_free(s->hblob);
    k8c_free(s);
}

static void stream_attach(struct k8c_http_stream *s, struct conn *c)
{
    s->conn = c;
    s->next = c->streams;
    if (c->streams)
        c->streams->prev = s;
    c->streams = s;
}

static struct k8c_http_stream *stream_new(struct conn *c)
{
    struct k8c_http_stream *s = K8C_NEW(struct k8c_http_stream);
    if (c != NULL)
        stream_attach(s, c);
    return s;
}

/* n bytes of src into dst with ASCII upper case lowered (header names). */
static void copy_lower(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] - 'A' + 'a') : src[i];
}

static bool stream_add_header(struct k8c_http_stream *s, const char *name, size_t nlen,
                              const char *value, size_t vlen, size_t max_bytes)
{
    if (s->nhdrs >= K8C_HTTP_MAX_HEADERS || s->hdr_bytes + nlen + vlen > max_bytes) {
        s->too_big = true;
        return false;
    }
    /* As a copy with strndup would, a name or value ends at a NUL in it. */
    nlen = strnlen(name, nlen);
    vlen = strnlen(value, vlen);
    if (s->nhdrs == s->hdrs_cap) {
        s->hdrs_cap = s->hdrs_cap ? 2 * s->hdrs_cap : 16; /* a gRPC request has 8-10 */
        s->hdrs = k8c_realloc(s->hdrs, s->hdrs_cap * sizeof(*s->hdrs));
    }
    size_t need = s->hblob_len + nlen + vlen + 2;
    if (need > s->hblob_cap) {
        size_t cap = s->hblob_cap ? s->hblob_cap : 256;
        while (cap < need)
            cap *= 2;
        char *blob = k8c_malloc(cap);
        if (s->hblob_len > 0)
            memcpy(blob, s->hblob, s->hblob_len);
        for (size_t i = 0; i < s->nhdrs; i++) { /* the same offsets in the new blob */
            s->hdrs[i].name = blob + (s->hdrs[i].name - s->hblob);
            s->hdrs[i].value = blob + (s->hdrs[i].value - s->hblob);
        }
        k8c_free(s->hblob);
        s->hblob = blob;
        s->hblob_cap = cap;
    }
    char *n = s->hblob + s->hblob_len;
    copy_lower(n, name, nlen);
    n[nlen] = '\0';
    char *v = n + nlen + 1;
    memcpy(v, value, vlen);
    v[vlen] = '\0';
    s->hblob_len = need;
    s->hdrs[s->nhdrs].name = n;
    s->hdrs[s->nhdrs].value = v;
    s->nhdrs++;
    s->hdr_bytes += nlen + vlen;
    return true;
}

static const char *stream_find(const struct k8c_http_stream *s, const char *name)
{
    for (size_t i = 0; i < s->nhdrs; i++) {
        if (strcmp(s->hdrs[i].name, name) == 0)
            return s->hdrs[i].value;
    }
    return NULL;
}

/* Delivers on_close once and frees the stream. */
static void stream_close(struct k8c_http_stream *s, int error, uint32_t rst, const char *why)
{
    if (!s->closed) {
        s->closed = true;
        stream_unlink(s);
        if (s->cops != NULL && s->cops->on_close != NULL)
            s->cops->on_close((struct k8c_http_client_stream *)s, error, rst, why, s->arg);
        else if (s->raw && s->raw_on_close != NULL)
            s->raw_on_close(s, error, s->raw_arg);
        else if (s->ops != NULL && s->ops->on_close != NULL && s->handed)
            s->ops->on_close(s, error, s->arg);
    }
    stream_free(s);
}

static void conn_send(struct conn *c, const uint8_t *data, size_t len);

/*
 * nghttp2 pulls outgoing DATA from the stream's queue in two steps: the
 * read callback only says how long the frame is (NGHTTP2_DATA_FLAG_NO_COPY),
 * then data_send_cb writes the frame header and the payload straight from the
 * queued buffers into the connection's staging buffer: one copy of every
 * body byte fewer than nghttp2 copying the payload into its own frame buffer
 * first (a watch fan-out sends hundreds of megabytes a second).
 */
static ssize_t data_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *out,
                            size_t length, uint32_t *flags, nghttp2_data_source *source,
                            void *user_data)
{
    struct k8c_http_stream *s = source->ptr;
    size_t n = s->queued < length ? s->queued : length;

    (void)out;
    if (n > 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == s->queued && s->end) {
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

/* Writes one DATA frame whose length data_read_cb chose: called by nghttp2
 * within the same nghttp2_session_mem_send, so the stream is still there. */
static int data_send_cb(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *source, void *user_data)
{
    static const uint8_t zeros[256];
    struct conn *c = user_data;
    struct k8c_http_stream *s = source->ptr;
    size_t pad = frame->data.padlen;

    (void)session;
    conn_send(c, framehd, 9);
    if (pad > 0) {
        uint8_t pad_length = (uint8_t)(pad - 1);
        conn_send(c, &pad_length, 1);
    }
    while (length > 0 && s->head != NULL) {
        struct outbuf *b = s->head;
        size_t take = b->buf->len - b->off;
        if (take > length)
            take = length;
        conn_send(c, b->buf->data + b->off, take);
        length -= take;
        b->off += take;
        s->queued -= take;
        if (b->off == b->buf->len)
            stream_pop(s);
    }
    if (length > 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE; /* cannot happen: queued counts the buffers */
    if (pad > 1)
        conn_send(c, zeros, pad - 1);
    if (s->conn != NULL && s->want_writable)
        s->conn->drain_check = true;
    /* nghttp2 would go on to the next frame in the same call: stop at the
     * high-water mark as conn_flush does between calls */
    return conn_pending(c) >= conn_high_water(c) ? NGHTTP2_ERR_PAUSE : 0;
}

static void stream_resume(struct k8c_http_stream *s)
{
    struct conn *c = s->conn;
    if (c == NULL)
        return;
    if (c->proto == PROTO_H2) {
        if (c->session == NULL || s->id <= 0)
            return;
        if (s->deferred) {
            s->deferred = false;
            nghttp2_session_resume_data(c->session, s->id);
        }
    }
    conn_flush_soon(c);
}

/*
 * Headers for nghttp2 in one allocation: the nv array, then each name
 * (lower-cased when asked) and value NUL-terminated. nghttp2 copies what it
 * submits; k8c_free releases the whole. One malloc per response, trailer
 * set or request instead of one per name and value.
 */
static nghttp2_nv *nv_pack(const struct k8c_http_header *h, size_t n, bool lower)
{
    size_t bytes = (n ? n : 1) * sizeof(nghttp2_nv);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(h[i].name) + strlen(h[i].value) + 2;
    nghttp2_nv *nv = k8c_malloc(bytes);
    char *p = (char *)(nv + (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
        if (lower)
            copy_lower(p, h[i].name, nl);
        else
            memcpy(p, h[i].name, nl);
        p[nl] = '\0';
        memcpy(p + nl + 1, h[i].value, vl);
        p[nl + 1 + vl] = '\0';
        nv[i] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)p + nl + 1, nl, vl, NGHTTP2_NV_FLAG_NONE};
        p += nl + vl + 2;
    }
    return nv;
}

/* ======================= server streams: the public API ======================= */

const char *k8c_http_stream_method(const struct k8c_http_stream *s)
{
    return s->method ? s->method : "";
}

const char *k8c_http_stream_path(const struct k8c_http_stream *s)
{
    return s->path ? s->path : "";
}

const char *k8c_http_stream_header(const struct k8c_http_stream *s, const char *name)
{
    const char *v = stream_find(s, name);
    if (v == NULL && strcmp(name, "host") == 0)
        v = stream_find(s, ":authority");
    else if (v == NULL && strcmp(name, ":authority") == 0)
        v = stream_find(s, "host");
    return v;
}

const struct k8c_http_header *k8c_http_stream_headers(const struct k8c_http_stream *s, size_t *n)
{
    *n = s->nhdrs;
    return s->hdrs;
}

int k8c_http_stream_version(const struct k8c_http_stream *s)
{
    return s->conn != NULL && s->conn->proto == PROTO_H2 ? 2 : 1;
}

bool k8c_http_stream_tls(const struct k8c_http_stream *s)
{
    return s->conn != NULL && s->conn->ssl != NULL;
}

const char *k8c_http_stream_peer_cn(const struct k8c_http_stream *s)
{
    return s->conn ? s->conn->peer_cn : NULL;
}

const char *const *k8c_http_stream_peer_orgs(const struct k8c_http_stream *s, size_t *n)
{
    *n = s->conn ? s->conn->npeer_orgs : 0;
    return s->conn ? (const char *const *)s->conn->peer_orgs : NULL;
}

const char *k8c_http_stream_peer_addr(const struct k8c_http_stream *s)
{
    return s->conn ? s->conn->peer_addr : "";
}

void k8c_http_stream_set_ops(struct k8c_http_stream *s, const struct k8c_http_stream_ops *ops,
                             void *arg)
{
    s->ops = ops;
    s->arg = arg;
}

bool k8c_http_stream_headers_sent(const struct k8c_http_stream *s)
{
    return s->headers_sent;
}

size_t k8c_http_stream_queued(const struct k8c_http_stream *s)
{
    if (s->conn != NULL && s->websocket && s->conn->ws != NULL)
        return wslay_event_get_queued_msg_length(s->conn->ws);
    if (s->conn != NULL && s->raw)
        return conn_pending(s->conn);
    return s->queued;
}

void k8c_http_stream_want_writable(struct k8c_http_stream *s, size_t low_water)
{
    s->want_writable = true;
    s->low_water = low_water;
    if (s->conn != NULL)
        s->conn->drain_check = true;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Request Entity Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

static void conn_send(struct conn *c, const uint8_t *data, size_t len);
static size_t conn_pending(const struct conn *c);

static int h1_respond(struct k8c_http_stream *s, int status, const struct k8c_http_header *h,
                      size_t n, bool end)
{
    struct conn *c = s->conn;
    struct k8c_sbuf out;
    bool has_length = false, has_te = false;

    k8c_sbuf_init(&out);
    k8c_sbuf_printf(&out, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, "content-length") == 0)
            has_length = true;
        else if (strcasecmp(h[i].name, "transfer-encoding") == 0)
            has_te = true;
        else if (strcasecmp(h[i].name, "connection") == 0 && strcasecmp(h[i].value, "close") == 0)
            c->keep_alive = false;
        k8c_sbuf_printf(&out, "%s: %s\r\n", h[i].name, h[i].value);
    }
    if (s->upgrade && status != 101)
        c->keep_alive = false; /* a refused upgrade: the rest of the input is not HTTP */
    s->no_body = (s->method && strcmp(s->method, "HEAD") == 0) || status == 204 || status == 304 ||
                 status < 200;
    if (status == 101) {
        k8c_sbuf_puts(&out, "\r\n");
    } else {
        if (!has_length && !has_te && !s->no_body) {
            if (end)
                k8c_sbuf_puts(&out, "Content-Length: 0\r\n");
            else if (c->parser.http_major == 1 && c->parser.http_minor >= 1) {
                s->chunked = true;
                k8c_sbuf_puts(&out, "Transfer-Encoding: chunked\r\n");
            } else
                c->keep_alive = false; /* HTTP/1.0: the end of the body is the close */
        }
        k8c_sbuf_puts(&out, c->keep_alive ? "" : "Connection: close\r\n");
        k8c_sbuf_puts(&out, "\r\n");
    }
    conn_send(c, (const uint8_t *)out.data, out.len);
    k8c_sbuf_free(&out);
    return 0;
}

int k8c_http_stream_respond(struct k8c_http_stream *s, int status, const struct k8c_http_header *h,
                            size_t n, bool end)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed)
        return K8C_ECLOSED;
    if (s->headers_sent || n > K8C_HTTP_MAX_HEADERS)
        return K8C_EINVAL;
    s->headers_sent = true;
    if (c->proto == PROTO_H1) {
        h1_respond(s, status, h, n, end);
        if (end) {
            s->finished = s->end = true;
        }
        conn_flush_soon(c);
        return 0;
    }
    if (c->session == NULL)
        return K8C_ECLOSED;
    char code[8];
    struct k8c_http_header all[K8C_HTTP_MAX_HEADERS + 1];
    if (status >= 100 && status <= 999) { /* every real status: no snprintf per response */
        code[0] = (char)('0' + status / 100);
        code[1] = (char)('0' + status / 10 % 10);
        code[2] = (char)('0' + status % 10);
        code[3] = '\0';
    } else {
        snprintf(code, sizeof(code), "%d", status);
    }
    all[0] = (struct k8c_http_header){":status", code};
    memcpy(all + 1, h, n * sizeof(*h));
    nghttp2_nv *nv = nv_pack(all, n + 1, true);
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = data_read_cb};
    int rc = nghttp2_submit_response(c->session, s->id, nv, n + 1, end ? NULL : &prd);
    k8c_free(nv);
    if (rc != 0)
        return K8C_EPROTO;
    s->provider = !end;
    if (end)
        s->finished = s->end = true;
    conn_flush_soon(c);
    return 0;
}

static void flusher_run(struct k8c_turn *t)
{
    struct flusher *f = t->data;
    struct conn *list = f->list;
    f->list = NULL;
    while (list != NULL) {
        struct conn *c = list;
        list = c->flush_next;
        c->flush_next = NULL;
        c->flush_pending = false;
        conn_flush(c);
    }
}

static void flusher_init(uv_loop_t *loop, struct flusher *f)
{
    k8c_turn_init(loop, &f->turn, flusher_run, f, K8C_TURN_IDLE_RUNS | K8C_TURN_UNREF);
    f->list = NULL;
    f->last = NULL;
}

/* Stops f and closes it; done is called once it is closed. */
static void flusher_close(struct flusher *f, void (*done)(struct k8c_turn *t))
{
    /* Connections still waiting flush at once from now on (conn_flusher
     * answers NULL for a closing server or client). */
    for (struct conn *c = f->list; c != NULL; c = c->flush_next)
        c->flush_pending = false;
    f->list = NULL;
    k8c_turn_close(&f->turn, done);
}

/* The flusher c's output may wait for, or NULL (flush now). */
static struct flusher *conn_flusher(struct conn *c)
{
    if (c->closing)
        return NULL;
    if (c->srv != NULL)
        return c->srv->closing ? NULL : &c->srv->flush;
    struct k8c_http_client *cl = c->client;
    if (cl == NULL || cl->deleting)
        return NULL;
    if (!cl->flush_init) {
        flusher_init(cl->loop, &cl->flush);
        cl->flush_init = true;
    }
    return &cl->flush;
}

/* Flushes c at the end of this loop turn (see struct flusher). */
static void conn_flush_soon(struct conn *c)
{
    if (c->flush_pending)
        return;
    struct flusher *f = conn_flusher(c);
    if (f == NULL) {
        conn_flush(c);
        return;
    }
    c->flush_pending = true;
    c->flush_next = f->list;
    f->list = c;
    k8c_turn_arm(&f->turn);
}

int k8c_http_stream_send(struct k8c_http_stream *s, struct k8c_buf *buf)
{
    if (s->conn == NULL || s->closed)
        return K8C_ECLOSED;
    if (!s->headers_sent || s->finished || s->websocket)
        return K8C_EINVAL;
    if (buf->len == 0)
        return 0;
    struct conn *c = s->conn; /* stream_resume may flush: s may be gone after it, c is not */
    stream_queue(s, buf);
    stream_resume(s);
    if (c->is_server && !c->closing && c->srv->o.flush_early_bytes > 0) {
        size_t early = c->srv->o.flush_early_bytes;
        struct conn *last = c->srv->flush.last;
        c->unflushed += buf->len;
        c->srv->flush.last = c;
        if (last != NULL && last != c && last->unflushed >= early)
            conn_flush_early(last);
        if (c->unflushed >= 8 * early)
            conn_flush_early(c);
    }
    return 0;
}

int k8c_http_stream_send_copy(struct k8c_http_stream *s, const void *data, size_t len)
{
    struct k8c_buf *b = k8c_buf_copy(data, len);
    int rc = k8c_http_stream_send(s, b);
    k8c_buf_unref(b);
    return rc;
}

int k8c_http_stream_finish(struct k8c_http_stream *s, const struct k8c_http_header *trailers,
                           size_t n)
{
    if (s->conn == NULL || s->closed)
        return K8C_ECLOSED;
    if (!s->headers_sent || s->finished || s->websocket)
        return K8C_EINVAL;
    s->finished = true;
    if (s->conn->proto == PROTO_H2 && n > 0) {
        s->trailers = nv_pack(trailers, n, true);
        s->ntrailers = n;
    }
    s->end = true;
    stream_resume(s);
    return 0;
}

int k8c_http_stream_reply(struct k8c_http_stream *s, int status, const char *content_type,
                          const void *body, size_t len)
{
    char clen[24];
    struct k8c_http_header h[2];
    size_t n = 0;
    snprintf(clen, sizeof(clen), "%zu", len);
    if (content_type != NULL)
        h[n++] = (struct k8c_http_header){"content-type", content_type};
    h[n++] = (struct k8c_http_header){"content-length", clen};
    int rc = k8c_http_stream_respond(s, status, h, n, len == 0);
    if (rc != 0 || len == 0)
        return rc;
    if ((rc = k8c_http_stream_send_copy(s, body, len)) != 0)
        return rc;
    return k8c_http_stream_finish(s, NULL, 0);
}

static void h1_stream_done(struct conn *c, struct k8c_http_stream *s);

void k8c_http_stream_reset(struct k8c_http_stream *s, bool refused)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed)
        return;
    if (c->proto == PROTO_H2) {
        if (c->session != NULL && s->id > 0) {
            nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                      refused ? NGHTTP2_REFUSED_STREAM : NGHTTP2_CANCEL);
            conn_flush(c);
        }
        return;
    }
    /* HTTP/1.1 and websockets: the connection is the stream. */
    conn_fail(c, "stream reset by the server");
}

/* ======================= websockets ======================= */

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user_data)
{
    struct conn *c = user_data;
    if (c->ws_in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < c->ws_in_len ? len : c->ws_in_len;
    memcpy(buf, c->ws_in, n);
    c->ws_in += n;
    c->ws_in_len -= n;
    return (ssize_t)n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user_data)
{
    struct conn *c = user_data;
    if (c->closing) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (conn_pending(c) >= conn_high_water(c)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    conn_send(c, data, len);
    return (ssize_t)len;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user_data)
{
    struct conn *c = user_data;
    struct k8c_http_stream *s = c->h1;
    if (s == NULL || wslay_is_ctrl_frame(arg->opcode))
        return;
    if (s->ops != NULL && s->ops->on_message != NULL)
        s->ops->on_message(s, arg->opcode, arg->msg, arg->msg_length, s->arg);
}

int k8c_http_stream_websocket(struct k8c_http_stream *s, const char *subprotocol)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed)
        return K8C_ECLOSED;
    const char *key = stream_find(s, "sec-websocket-key");
    const char *upgrade = stream_find(s, "upgrade");
    if (c->proto != PROTO_H1 || s->headers_sent || key == NULL || upgrade == NULL ||
        strcasecmp(upgrade, "websocket") != 0 || strlen(key) > 64)
        return K8C_EINVAL;
    char cat[128];
    uint8_t digest[SHA_DIGEST_LENGTH];
    struct k8c_sbuf accept;
    snprintf(cat, sizeof(cat), "%s%s", key, ws_guid);
    SHA1((const uint8_t *)cat, strlen(cat), digest);
    k8c_sbuf_init(&accept);
    k8c_base64_encode(&accept, digest, sizeof(digest));
    struct k8c_http_header h[4] = {
        {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept.data}};
    size_t n = 3;
    if (subprotocol != NULL && subprotocol[0] != '\0')
        h[n++] = (struct k8c_http_header){"Sec-WebSocket-Protocol", subprotocol};
    s->headers_sent = true;
    h1_respond(s, 101, h, n, false);
    k8c_sbuf_free(&accept);

    struct wslay_event_callbacks cbs = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .on_msg_recv_callback = ws_msg_cb,
    };
    wslay_event_context_server_init(&c->ws, &cbs, c);
    wslay_event_config_set_max_recv_msg_length(c->ws, c->srv && c->srv->o.max_websocket_message
                                                          ? c->srv->o.max_websocket_message
                                                          : 1024 * 1024);
    s->websocket = true;
    c->proto = PROTO_WS;
    conn_flush(c);
    /* Bytes that followed the upgrade request are websocket frames (parsed
     * by h1_parse's loop when we are inside the parser). */
    if (c->in.len > 0 && !c->parsing)
        h1_resume(c);
    return 0;
}

int k8c_http_ws_send(struct k8c_http_stream *s, int opcode, const void *data, size_t len)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed || c->closing)
        return K8C_ECLOSED;
    if (!s->websocket || c->ws == NULL)
        return K8C_EINVAL;
    struct wslay_event_msg msg = {(uint8_t)opcode, data, len};
    if (wslay_event_queue_msg(c->ws, &msg) != 0)
        return K8C_ECLOSED;
    conn_flush(c);
    return 0;
}

int k8c_http_ws_close(struct k8c_http_stream *s, uint16_t code, const char *reason)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed || c->closing)
        return K8C_ECLOSED;
    if (!s->websocket || c->ws == NULL)
        return K8C_EINVAL;
    wslay_event_queue_close(c->ws, code, (const uint8_t *)(reason ? reason : ""),
                            reason ? strlen(reason) : 0);
    conn_flush(c);
    return 0;
}

/* ======================= raw (hijacked) connections ======================= */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

int k8c_http_stream_hijack(struct k8c_http_stream *s, k8c_http_raw_bytes_fn on_bytes,
                           k8c_http_raw_close_fn on_close, void *arg)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed || c->closing)
        return K8C_ECLOSED;
    if (c->proto != PROTO_H1 || c->h1 != s || s->websocket)
        return K8C_EINVAL;
    s->raw = true;
    s->headers_sent = true;
    s->raw_on_bytes = on_bytes;
    s->raw_on_close = on_close;
    s->raw_arg = arg;
    c->proto = PROTO_RAW;
    conn_flush(c);
    /* Bytes that followed the request head belong to the raw protocol
     * (delivered by h1_parse's loop when we are inside the parser). */
    if (c->in.len > 0 && !c->parsing)
        h1_resume(c);
    return 0;
}

/* Hands buffered input to the hijacker. */
static void raw_parse(struct conn *c)
{
    struct k8c_http_stream *s = c->h1;
    if (s != NULL && s->raw_on_bytes != NULL && !s->closed) {
        c->in_callback++;
        s->raw_on_bytes(s, (const uint8_t *)c->in.data, c->in.len, s->raw_arg);
        c->in_callback--;
    }
    k8c_sbuf_reset(&c->in);
}

int k8c_http_stream_raw_send(struct k8c_http_stream *s, struct k8c_buf *buf)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed || c->closing)
        return K8C_ECLOSED;
    if (!s->raw || s->finished)
        return K8C_EINVAL;
    conn_send(c, buf->data, buf->len);
    conn_flush(c);
    return 0;
}

void k8c_http_stream_raw_pause(struct k8c_http_stream *s, bool paused)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed || c->closing || !s->raw)
        return;
    if (paused)
        uv_read_stop(&c->io.stream);
    else
        uv_read_start(&c->io.stream, alloc_cb, read_cb);
}

void k8c_http_stream_raw_end(struct k8c_http_stream *s)
{
    struct conn *c = s->conn;
    if (c == NULL || s->closed || c->closing || !s->raw || s->finished)
        return;
    s->finished = s->end = s->h1_done = true;
    c->close_after_write = true;
    conn_flush(c);
    if (!c->closing && conn_pending(c) == 0)
        conn_fail(c, "raw connection ended");
}

/* ======================= HTTP/2 callbacks (both sides) ======================= */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    struct conn *c = ud;
    if (!c->is_server || frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct k8c_http_stream *s = stream_new(c);
    s->id = frame->hd.stream_id;
    nghttp2_session_set_stream_user_data(session, s->id, s);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    struct conn *c = ud;
    struct k8c_http_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s == NULL)
        return 0;
    if (c->is_server) {
        if (s->handed) /* trailers of a request: ignored */
            return 0;
        stream_add_header(s, (const char *)name, namelen, (const char *)value, valuelen,
                          c->srv->o.max_header_bytes);
    } else if (s->cops != NULL && s->cops->on_header != NULL) {
        /* nghttp2 hands both NUL-terminated; an embedded NUL (possible only
         * without its HTTP messaging checks, which clients keep) ends them
         * early, as a copy with strndup would. */
        s->cops->on_header((struct k8c_http_client_stream *)s, (const char *)name,
                           (const char *)value, s->arg);
    }
    return 0;
}

/* Request headers complete on the server: hand the stream to the handler. */
static void server_request(struct conn *c, struct k8c_http_stream *s)
{
    s->method = stream_find(s, ":method");
    s->path = stream_find(s, ":path");
    if (s->too_big) {
        /* As HTTP/1.1 (h1_on_headers_complete) and Go's HTTP/2 server: an answer, not a reset
         * a client would retry. The stream is not handed on: its request body is dropped. */
        static const char msg[] = "request header fields too large\n";
        if (k8c_http_stream_reply(s, 431, "text/plain; charset=utf-8", msg, sizeof(msg) - 1) != 0)
            nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                      NGHTTP2_ENHANCE_YOUR_CALM);
        return;
    }
    if (s->method == NULL || s->path == NULL) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_PROTOCOL_ERROR);
        return;
    }
    if (c->srv == NULL || c->srv->closing) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_REFUSED_STREAM);
        return;
    }
    s->handed = true;
    c->srv->on_request(c->srv->arg, s);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    struct conn *c = ud;
    struct k8c_http_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;

    if (s == NULL)
        return 0;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    if (c->is_server) {
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            server_request(c, s);
        if (end && !s->closed) {
            s->remote_closed = true;
            if (s->handed && s->ops != NULL && s->ops->on_end != NULL)
                s->ops->on_end(s, s->arg);
        }
    } else if (end) {
        s->remote_closed = true;
        if (s->cops != NULL && s->cops->on_end != NULL)
            s->cops->on_end((struct k8c_http_client_stream *)s, s->arg);
        /* We may still be sending: the server is done, so stop. */
        if (nghttp2_session_get_stream_local_close(session, s->id) == 0)
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *ud)
{
    struct conn *c = ud;
    struct k8c_http_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s == NULL || s->closed)
        return 0;
    if (c->is_server && s->handed && s->ops != NULL && s->ops->on_data != NULL)
        s->ops->on_data(s, data, len, s->arg);
    else if (!c->is_server && s->cops != NULL && s->cops->on_data != NULL)
        s->cops->on_data((struct k8c_http_client_stream *)s, data, len, s->arg);
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    struct conn *c = ud;
    /* Our final HEADERS went out while the client is still sending: end the
     * stream with RST_STREAM(NO_ERROR), as RFC 9113 8.1 allows. */
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
    struct k8c_http_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    bool clean = s->remote_closed && (s->finished || !s->handed || s->cops != NULL);
    struct conn *c = ud;
    if (c->early) {
        s->close_late = true;
        s->late_error = clean ? 0 : K8C_ECLOSED;
        s->late_rst = clean ? 0 : error_code;
        c->nclose_late++;
        c->srv->closed_late++;
        return 0;
    }
    stream_close(s, clean ? 0 : K8C_ECLOSED, clean ? 0 : error_code, NULL);
    return 0;
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
    nghttp2_session_callbacks_set_send_data_callback(cbs, data_send_cb);
    return cbs;
}

static void client_session_ready(struct conn *c);
static void conn_setup_done(struct conn *c);

/* Creates the nghttp2 session and queues our SETTINGS. */
static void conn_start_session(struct conn *c)
{
    nghttp2_session_callbacks *cbs = make_callbacks();
    nghttp2_option *opt;
    size_t max_header = c->srv ? c->srv->o.max_header_bytes : K8C_HTTP_MAX_HEADER_BYTES;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_send_header_block_length(opt, K8C_HTTP_MAX_HEADER_BYTES * 2);
    /* nghttp2's HTTP messaging checks reject what Go servers accept, such as
     * etcdctl's ":authority: http://host:port"; requests are validated here
     * instead (method and path present, header limits). */
    if (c->is_server)
        nghttp2_option_set_no_http_messaging(opt, 1);
    /* Closed streams would stay in the session's stream map for RFC 7540
     * priorities we never use, making every lookup slower (bench/store:
     * nghttp2_map_find 4.7% -> 3.0% of the leader at 1000 clients). */
    nghttp2_option_set_no_closed_streams(opt, 1);
    c->proto = PROTO_H2;
    if (c->is_server)
        nghttp2_session_server_new2(&c->session, cbs, c, opt);
    else
        nghttp2_session_client_new2(&c->session, cbs, c, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, c->srv ? c->srv->o.max_concurrent : 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)max_header},
    };
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 3);
    nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, H2_WINDOW * 4);
    conn_setup_done(c);
    if (!c->is_server)
        client_session_ready(c);
    conn_flush(c);
}

/* ======================= HTTP/1.1 server ======================= */

static struct conn *parser_conn(http_parser *p)
{
    return p->data;
}

static void h1_header_done(struct conn *c)
{
    if (c->h1 == NULL || c->hname.len == 0)
        return;
    /* Trailers of a chunked request are ignored, as HTTP/2's are (on_header): the handler
     * holds the method, the path and header values, which point into the header blob that
     * another header could move. */
    if (!c->h1->handed)
        stream_add_header(c->h1, c->hname.data, c->hname.len, c->hvalue.data ? c->hvalue.data : "",
                          c->hvalue.len, c->srv->o.max_header_bytes);
    k8c_sbuf_reset(&c->hname);
    k8c_sbuf_reset(&c->hvalue);
    c->in_value = false;
}

static int h1_on_message_begin(http_parser *p)
{
    struct conn *c = parser_conn(p);
    c->h1 = stream_new(c);
    k8c_sbuf_reset(&c->url);
    k8c_sbuf_reset(&c->hname);
    k8c_sbuf_reset(&c->hvalue);
    c->in_value = false;
    return 0;
}

static int h1_on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    if (c->url.len + len > H1_MAX_URL) {
        c->h1->too_big = true;
        return 0;
    }
    k8c_sbuf_append(&c->url, at, len);
    return 0;
}

static int h1_on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    if (c->in_value)
        h1_header_done(c);
    if (c->hname.len + len > c->srv->o.max_header_bytes) {
        c->h1->too_big = true;
        return 0;
    }
    k8c_sbuf_append(&c->hname, at, len);
    return 0;
}

static int h1_on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    c->in_value = true;
    if (c->hvalue.len + len > c->srv->o.max_header_bytes) {
        c->h1->too_big = true;
        return 0;
    }
    k8c_sbuf_append(&c->hvalue, at, len);
    return 0;
}

static void h1_error(struct conn *c, int status, const char *msg)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, reason_phrase(status), strlen(msg), msg);
    conn_send(c, (const uint8_t *)head, (size_t)n);
    c->close_after_write = true;
    c->error_sent = true;
    c->keep_alive = false;
    if (c->writing == 0)
        conn_fail(c, "HTTP/1.1 error response sent");
}

static int h1_on_headers_complete(http_parser *p)
{
    struct conn *c = parser_conn(p);
    struct k8c_http_stream *s = c->h1;
    h1_header_done(c);
    conn_setup_done(c);
    if (s->too_big) {
        h1_error(c, 431, "request header fields too large\n");
        return 2; /* stop: the connection closes */
    }
    stream_add_header(s, ":method", 7, http_method_str((enum http_method)p->method),
                      strlen(http_method_str((enum http_method)p->method)), SIZE_MAX);
    stream_add_header(s, ":path", 5, c->url.data ? c->url.data : "/", c->url.len ? c->url.len : 1,
                      SIZE_MAX);
    s->method = stream_find(s, ":method");
    s->path = stream_find(s, ":path");
    s->upgrade = p->upgrade;
    c->keep_alive = http_should_keep_alive(p) != 0;
    if (c->srv == NULL || c->srv->closing) {
        h1_error(c, 503, "server shutting down\n");
        return 2;
    }
    s->handed = true;
    c->in_callback++;
    c->srv->on_request(c->srv->arg, s);
    c->in_callback--;
    return 0;
}

static int h1_on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    struct k8c_http_stream *s = c->h1;
    if (s != NULL && !s->closed && s->ops != NULL && s->ops->on_data != NULL) {
        c->in_callback++;
        s->ops->on_data(s, (const uint8_t *)at, len, s->arg);
        c->in_callback--;
    }
    return 0;
}

static int h1_on_message_complete(http_parser *p)
{
    struct conn *c = parser_conn(p);
    struct k8c_http_stream *s = c->h1;
    if (s == NULL)
        return 0;
    s->remote_closed = true;
    if (s->ops != NULL && s->ops->on_end != NULL && !s->websocket) {
        c->in_callback++;
        s->ops->on_end(s, s->arg);
        c->in_callback--;
    }
    /* Pipelined requests wait until this response is out (h1_stream_done). */
    http_parser_pause(p, 1);
    c->h1_paused = true;
    return 0;
}

static const http_parser_settings h1_settings = {
    .on_message_begin = h1_on_message_begin,
    .on_url = h1_on_url,
    .on_header_field = h1_on_header_field,
    .on_header_value = h1_on_header_value,
    .on_headers_complete = h1_on_headers_complete,
    .on_body = h1_on_body,
    .on_message_complete = h1_on_message_complete,
};

/* Feeds buffered input to wslay. */
static void ws_parse(struct conn *c)
{
    c->ws_in = (const uint8_t *)c->in.data;
    c->ws_in_len = c->in.len;
    c->in_callback++;
    int rc = wslay_event_recv(c->ws);
    c->in_callback--;
    k8c_sbuf_reset(&c->in);
    c->ws_in_len = 0;
    if (rc != 0)
        conn_fail(c, "websocket protocol error");
}

/* Parses buffered input c->in until the parser pauses or needs more. */
static void h1_parse(struct conn *c)
{
    while (c->in.len > 0 && !c->closing && !c->close_after_write && !c->fail_pending) {
        if (c->proto == PROTO_WS) {
            ws_parse(c);
            return;
        }
        if (c->proto == PROTO_RAW) {
            raw_parse(c);
            return;
        }
        if (c->h1_paused)
            return;
        c->parsing = true;
        size_t n = http_parser_execute(&c->parser, &h1_settings, c->in.data, c->in.len);
        c->parsing = false;
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err == HPE_PAUSED || (c->parser.upgrade && err == HPE_OK)) {
            /* A request is complete (paused in on_message_complete) or an
             * upgrade request ended the HTTP part: what follows waits for
             * the response, or belongs to the websocket if one was accepted. */
            k8c_sbuf_consume(&c->in, n);
            c->h1_paused = true;
            continue;
        }
        if (err != HPE_OK) {
            if (!c->close_after_write && err != HPE_CB_headers_complete) {
                char msg[160];
                snprintf(msg, sizeof(msg), "malformed HTTP request: %s\n",
                         http_errno_description(err));
                if (c->h1 != NULL && c->h1->headers_sent)
                    conn_fail(c, msg); /* a response may be in flight: just close */
                else if (err == HPE_HEADER_OVERFLOW)
                    h1_error(c, 431, "request header fields too large\n");
                else
                    h1_error(c, 400, msg);
            }
            k8c_sbuf_reset(&c->in);
            return;
        }
        k8c_sbuf_consume(&c->in, n);
        if (n == 0)
            break;
    }
}

static void h1_resume(struct conn *c)
{
    if (c->closing || c->parsing)
        return;
    if (c->proto == PROTO_WS || c->proto == PROTO_RAW) {
        h1_parse(c);
        conn_flush(c);
        return;
    }
    if (!c->h1_paused)
        return;
    c->h1_paused = false;
    http_parser_pause(&c->parser, 0);
    h1_parse(c);
    conn_flush(c);
}

/* The current HTTP/1.1 response is on its way: close the stream and go on
 * with the next request, or close the connection. */
static void h1_stream_done(struct conn *c, struct k8c_http_stream *s)
{
    c->h1 = NULL;
    if (!s->remote_closed || !c->keep_alive || s->upgrade) {
        /* Unread request body, or Connection: close. */
        c->close_after_write = true;
    }
    stream_close(s, 0, 0, NULL);
    if (c->close_after_write) {
        if (c->writing == 0)
            conn_fail(c, "HTTP/1.1 connection done");
        return;
    }
    h1_resume(c);
}

/* Moves HTTP/1.1 body bytes of the current stream to the socket. */
static void h1_flush(struct conn *c)
{
    struct k8c_http_stream *s = c->h1;
    if (s == NULL || !s->headers_sent || s->websocket)
        return;
    while (s->head != NULL && conn_pending(c) < conn_high_water(c) && !c->closing) {
        struct outbuf *b = s->head;
        size_t len = b->buf->len - b->off;
        if (!s->no_body) {
            if (s->chunked) {
                char size[24];
                int n = snprintf(size, sizeof(size), "%zx\r\n", len);
                conn_send(c, (const uint8_t *)size, (size_t)n);
            }
            conn_send(c, b->buf->data + b->off, len);
            if (s->chunked)
                conn_send(c, (const uint8_t *)"\r\n", 2);
        }
        s->queued -= len;
        stream_pop(s);
        if (s->want_writable)
            c->drain_check = true;
    }
    if (s->head == NULL && s->end && !s->h1_done && !c->closing) {
        if (s->chunked && !s->no_body)
            conn_send(c, (const uint8_t *)"0\r\n\r\n", 5);
        s->h1_done = true;
    }
}

/* ======================= connection I/O ======================= */

struct write_req {
    uv_write_t req;
    struct conn *conn;
    size_t len;
    char *buf; /* TLS output: the bytes are tls_out's buffer (cap bytes) from off, else NULL */
    size_t cap, off;
    char data[]; /* the bytes, when buf is NULL */
};

/* Closes a connection that was to close once its output is written, when
 * it is: after a write, or a flush whose bytes the kernel took at once. */
static bool conn_close_if_written(struct conn *c)
{
    if (c->closing || !c->close_after_write || conn_pending(c) != 0 ||
        (c->h1 != NULL && !c->h1->h1_done && !c->error_sent))
        return false;
    conn_fail(c, "HTTP/1.1 connection done");
    return true;
}

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = w->conn;
    c->writing -= w->len;
    /* Keep buffers for tls_out's next turns: a fan-out writes megabytes
     * per connection, and fresh memory costs a page fault per 4 KiB. */
    if (w->buf != NULL && c->ntls_spare < TLS_SPARES && !c->closing) {
        c->tls_spare[c->ntls_spare] = w->buf;
        c->tls_spare_cap[c->ntls_spare++] = w->cap;
    } else {
        k8c_free(w->buf);
    }
    k8c_free(w);
    if (c->closing)
        return;
    if (status < 0) {
        conn_fail(c, uv_strerror(status));
        return;
    }
    if (conn_close_if_written(c))
        return;
    conn_flush(c);
}

static struct write_req *write_req_new(struct conn *c, size_t len)
{
    struct write_req *w = k8c_malloc(sizeof(*w) + len);
    w->conn = c;
    w->len = len;
    w->buf = NULL;
    w->off = 0;
    return w;
}

static void write_submit(struct conn *c, struct write_req *w)
{
    c->writing += w->len;
    uv_buf_t b = uv_buf_init(w->buf != NULL ? w->buf + w->off : w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, &c->io.stream, &b, 1, write_cb);
    if (rc < 0) {
        c->writing -= w->len;
        k8c_free(w->buf);
        k8c_free(w);
        conn_fail(c, uv_strerror(rc));
    }
}

/*
 * Hands the kernel what it takes at once of sb's bytes, when no write is
 * queued (in order: else they wait behind it). Returns how many it took
 * (sb is left as is: a partial write's rest goes to a queued write from
 * there, not moved to the front of sb first). An error is left for the
 * queued write that follows to report, from write_cb: callers may have a
 * stream in hand that conn_fail would close under them.
 */
static size_t try_write(struct conn *c, const struct k8c_sbuf *sb)
{
    if (c->writing != 0 || sb->len == 0)
        return 0;
    uv_buf_t b = uv_buf_init(sb->data, (unsigned)sb->len);
    int n = uv_try_write(&c->io.stream, &b, 1);
    return n > 0 ? (size_t)n : 0;
}

/* Moves TLS output (handshake records or encrypted data) to the socket.
 * The kernel takes what it can at once (try_write), and tls_out keeps its
 * buffer: the next records are encrypted into memory still in the cache.
 * The rest goes in one queued write: tls_out's buffer itself goes to the
 * write (no copy), and tls_out goes on in a spare buffer, if finished
 * writes left one. */
static void tls_flush(struct conn *c)
{
    size_t n = try_write(c, &c->tls_out);
    if (n == c->tls_out.len) {
        k8c_sbuf_reset(&c->tls_out);
        return;
    }
    struct write_req *w = k8c_malloc(sizeof(*w));
    w->conn = c;
    w->len = c->tls_out.len - n;
    w->off = n;
    w->buf = c->tls_out.data;
    w->cap = c->tls_out.cap;
    c->tls_out.data = NULL;
    c->tls_out.cap = c->tls_out.len = 0;
    if (c->ntls_spare > 0) {
        c->ntls_spare--;
        c->tls_out.data = c->tls_spare[c->ntls_spare];
        c->tls_out.cap = c->tls_spare_cap[c->ntls_spare];
        c->tls_out.data[0] = '\0';
    }
    write_submit(c, w);
}

/*
 * The TLS BIOs. Output: SSL_write's records are appended to the connection's
 * tls_out, which tls_flush hands to the socket as is. Input: OpenSSL reads
 * straight from the buffer libuv read into (tls_in, set by read_cb for the
 * time it runs OpenSSL). Memory BIOs would zero each region they grow into
 * and copy every byte once more on each side.
 */
static int wbio_write(BIO *b, const char *data, int len)
{
    struct conn *c = BIO_get_data(b);
    if (len <= 0)
        return 0;
    k8c_sbuf_append(&c->tls_out, data, (size_t)len);
    return len;
}

static int rbio_read(BIO *b, char *out, int len)
{
    struct conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (c->tls_in_len == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = (size_t)len < c->tls_in_len ? (size_t)len : c->tls_in_len;
    memcpy(out, c->tls_in, n);
    c->tls_in += n;
    c->tls_in_len -= n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct conn *c = BIO_get_data(b);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return b == c->rbio ? (long)c->tls_in_len : 0;
    case BIO_CTRL_WPENDING:
        return b == c->wbio ? (long)c->tls_out.len : 0;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *wbio_method, *rbio_method;

static BIO_METHOD *bio_method(const char *name, int (*wr)(BIO *, const char *, int),
                              int (*rd)(BIO *, char *, int))
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name);
    if (m == NULL || (wr != NULL && !BIO_meth_set_write(m, wr)) ||
        (rd != NULL && !BIO_meth_set_read(m, rd)) || !BIO_meth_set_ctrl(m, bio_ctrl) ||
        !BIO_meth_set_create(m, bio_create)) {
        fprintf(stderr, "k8c: out of memory (BIO_meth_new)\n");
        abort(); /* as k8c_malloc does */
    }
    return m;
}

static void bio_methods_init(void)
{
    wbio_method = bio_method("k8c TLS output", wbio_write, NULL);
    rbio_method = bio_method("k8c TLS input", NULL, rbio_read);
}

/* The connection's TLS input and output BIOs, given to c->ssl. */
static void conn_bio_new(struct conn *c)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT; /* clients run on several threads */
    pthread_once(&once, bio_methods_init);
    c->rbio = BIO_new(rbio_method);
    c->wbio = BIO_new(wbio_method);
    if (c->rbio == NULL || c->wbio == NULL) {
        fprintf(stderr, "k8c: out of memory (BIO_new)\n");
        abort();
    }
    BIO_set_data(c->rbio, c);
    BIO_set_data(c->wbio, c);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
}

/* Writes the staged output: encrypted as TLS records, or as is. */
static void conn_commit(struct conn *c)
{
    if (c->out.len == 0 || c->closing)
        return;
    if (c->ssl == NULL) {
        size_t n = try_write(c, &c->out);
        if (n < c->out.len) {
            struct write_req *w = write_req_new(c, c->out.len - n);
            memcpy(w->data, c->out.data + n, c->out.len - n);
            k8c_sbuf_reset(&c->out);
            write_submit(c, w);
            return;
        }
        k8c_sbuf_reset(&c->out);
        return;
    }
    const uint8_t *data = (const uint8_t *)c->out.data;
    size_t len = c->out.len;
    /* Room for every record at once (a record adds well under 128 bytes to
     * 16 KiB): grown by doubling, tls_out would be copied and faulted in
     * again and again, as tls_flush hands each buffer to the socket. */
    size_t need = len + (len / 16384 + 1) * 128;
    if (c->tls_out.len == 0 && c->tls_out.cap < need + 1) {
        k8c_free(c->tls_out.data); /* nothing to keep: no copy by realloc */
        c->tls_out.data = NULL;
        c->tls_out.cap = 0;
    }
    k8c_sbuf_reserve(&c->tls_out, need);
    while (len > 0) {
        int n = SSL_write(c->ssl, data, (int)(len > 16384 ? 16384 : len));
        if (n <= 0) {
            ERR_clear_error();
            k8c_sbuf_reset(&c->out);
            conn_fail(c, "TLS write failed");
            return;
        }
        data += n;
        len -= (size_t)n;
    }
    k8c_sbuf_reset(&c->out);
    tls_flush(c);
}

/* Output bytes not yet accepted by the kernel (staged or being written). */
static size_t conn_pending(const struct conn *c)
{
    return c->writing + c->out.len;
}

/* Queues output; during a flush it is staged and written once at the end. */
static void conn_send(struct conn *c, const uint8_t *data, size_t len)
{
    if (c->closing)
        return;
    k8c_sbuf_append(&c->out, data, len);
    if (!c->flushing)
        conn_commit(c);
}

/* Calls on_writable for streams whose queue drained below their mark. */
static void conn_check_drain(struct conn *c)
{
    if (!c->drain_check || !c->is_server)
        return;
    c->drain_check = false;
    size_t n = 0;
    for (struct k8c_http_stream *s = c->streams; s; s = s->next)
        n += s->want_writable && k8c_http_stream_queued(s) <= s->low_water;
    if (n == 0)
        return;
    /* Collect first: callbacks may close streams. Ids identify survivors. */
    struct k8c_http_stream **ready = k8c_calloc(n, sizeof(*ready));
    size_t i = 0;
    for (struct k8c_http_stream *s = c->streams; s && i < n; s = s->next) {
        if (s->want_writable && k8c_http_stream_queued(s) <= s->low_water)
            ready[i++] = s;
    }
    c->in_callback++;
    for (size_t j = 0; j < i && !c->closing; j++) {
        struct k8c_http_stream *s = ready[j];
        bool alive = false;
        for (struct k8c_http_stream *t = c->streams; t && !alive; t = t->next)
            alive = t == s;
        if (!alive || !s->want_writable)
            continue;
        s->want_writable = false;
        if (s->ops != NULL && s->ops->on_writable != NULL)
            s->ops->on_writable(s, s->arg);
    }
    c->in_callback--;
    k8c_free(ready);
}

static void ws_flush(struct conn *c)
{
    if (c->ws == NULL)
        return;
    while (!c->closing && wslay_event_want_write(c->ws) && conn_pending(c) < conn_high_water(c)) {
        size_t before = conn_pending(c);
        if (wslay_event_send(c->ws) != 0) {
            conn_fail(c, "websocket send failed");
            return;
        }
        if (conn_pending(c) == before)
            break;
    }
    if (!c->closing && c->h1 != NULL && c->h1->want_writable)
        c->drain_check = true;
    if (!c->closing && !wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
        if (c->writing == 0)
            conn_fail(c, "websocket closed");
        else
            c->close_after_write = true;
    }
}

/* Stages nghttp2's frames until the high-water mark (or nothing is left);
 * 0 or an nghttp2 error. */
static int h2_stage(struct conn *c)
{
    while (conn_pending(c) < conn_high_water(c) && !c->closing) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        conn_send(c, data, (size_t)n);
    }
    return 0;
}

/* Commits the staged output. True when staging had stopped at the
 * high-water mark and the kernel took the bytes at once (tls_flush): it can
 * go on now rather than after a write. */
static bool conn_commit_more(struct conn *c)
{
    bool full = conn_pending(c) >= conn_high_water(c);
    conn_commit(c);
    return full && !c->closing && conn_pending(c) < conn_high_water(c);
}

/* Closes, for the application, the streams nghttp2 closed during an early
 * flush. */
static void conn_close_late(struct conn *c)
{
    c->in_callback++;
    while (c->nclose_late > 0 && !c->closing) {
        struct k8c_http_stream *s = c->streams;
        while (s != NULL && !s->close_late)
            s = s->next;
        if (s == NULL) {
            c->nclose_late = 0;
            break;
        }
        c->nclose_late--;
        s->close_late = false;
        stream_close(s, s->late_error, s->late_rst, NULL);
    }
    c->in_callback--;
}

/*
 * Frames what the streams have queued and hands it to TLS and the socket,
 * in the middle of a fan-out (flush_early_bytes): nothing is called back, so
 * the caller's loop over its streams goes on safely. Streams that nghttp2
 * closes meanwhile (close_late), a failure (conn_fail defers while flushing)
 * and drain notices wait for the regular flush, scheduled here.
 */
static void conn_flush_early(struct conn *c)
{
    if (c->closing || c->in_callback > 0 || c->flushing || c->proto != PROTO_H2 ||
        c->session == NULL || c->srv->closing)
        return;
    c->unflushed = 0;
    c->srv->early_flushes++;
    c->flushing = true;
    c->early = true;
    /* Round after round while the kernel takes each at once (tls_flush):
     * the streams' bytes go out while they are still in the cache. */
    for (bool more = true; more;) {
        int rv = h2_stage(c);
        if (rv < 0)
            conn_fail(c, nghttp2_strerror(rv));
        more = conn_commit_more(c) && rv == 0;
    }
    c->early = false;
    c->flushing = false;
    conn_flush_soon(c);
}

static void conn_flush(struct conn *c)
{
    if (c->closing)
        return;
    if (c->in_callback > 0 || c->flushing) {
        c->dirty = true;
        return;
    }
    if (c->nclose_late > 0) {
        conn_close_late(c);
        if (c->closing)
            return;
    }
    c->unflushed = 0;
    c->flushing = true;
    int rounds;
    for (rounds = 0; rounds < 64; rounds++) {
        c->dirty = false;
        if (c->proto == PROTO_H2 && c->session != NULL) {
            int rv = h2_stage(c);
            if (rv < 0) {
                c->flushing = false;
                conn_fail(c, nghttp2_strerror(rv));
                return;
            }
        } else if (c->proto == PROTO_H1) {
            h1_flush(c);
        } else if (c->proto == PROTO_WS) {
            ws_flush(c);
        } else if (c->proto == PROTO_RAW && c->h1 != NULL && c->h1->want_writable) {
            c->drain_check = true;
        }
        if (conn_commit_more(c))
            c->dirty = true; /* as after a write */
        if (c->closing)
            break;
        conn_check_drain(c);
        if (c->proto == PROTO_H1 && c->h1 != NULL && c->h1->h1_done && !c->closing) {
            c->flushing = false;
            h1_stream_done(c, c->h1);
            if (c->closing)
                return;
            c->flushing = true;
        }
        if (!c->dirty)
            break;
    }
    c->flushing = false;
    if (rounds == 64 && !c->closing)
        conn_flush_soon(c); /* more to do: in the next loop turn, after others */
    conn_check_fail(c);
    if (conn_close_if_written(c))
        return;
    if (!c->closing && c->proto == PROTO_H2 && c->session != NULL &&
        !nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session) &&
        c->writing == 0)
        conn_fail(c, "session finished");
}

static void client_free(struct k8c_http_client *cl)
{
    SSL_CTX_free(cl->tls);
    k8c_free(cl->host);
    k8c_free(cl->port);
    k8c_free(cl->unix_path);
    k8c_free(cl->authority);
    k8c_free(cl->server_name);
    k8c_free(cl);
}

static void conn_closed_cb(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct k8c_http_server *srv = c->is_server ? c->srv : NULL;
    struct flusher *f = srv != NULL ? &srv->flush : c->client != NULL ? &c->client->flush : NULL;
    if (f != NULL && c->flush_pending) {
        for (struct conn **p = &f->list; *p != NULL; p = &(*p)->flush_next) {
            if (*p == c) {
                *p = c->flush_next;
                break;
            }
        }
    }
    if (srv != NULL) {
        if (srv->flush.last == c)
            srv->flush.last = NULL;
        if (c->prev)
            c->prev->next = c->next;
        else
            srv->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        srv->nconns--;
        if (--srv->handles == 0 && srv->closing)
            k8c_free(srv);
    }
    if (c->client != NULL && --c->client->nconns == 0 && c->client->deleting)
        client_free(c->client);
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ws)
        wslay_event_context_free(c->ws);
    k8c_sbuf_free(&c->in);
    k8c_sbuf_free(&c->out);
    k8c_sbuf_free(&c->tls_out);
    for (size_t i = 0; i < c->ntls_spare; i++)
        k8c_free(c->tls_spare[i]);
    k8c_sbuf_free(&c->url);
    k8c_sbuf_free(&c->hname);
    k8c_sbuf_free(&c->hvalue);
    k8c_free(c->peer_cn);
    for (size_t i = 0; i < c->npeer_orgs; i++)
        k8c_free(c->peer_orgs[i]);
    k8c_free(c);
}

static void setup_timer_closed(uv_handle_t *h)
{
    k8c_free(h);
}

/* The connection is set up (or going away): no more setup deadline. */
static void conn_setup_done(struct conn *c)
{
    if (c->setup_timer == NULL)
        return;
    uv_timer_stop(c->setup_timer);
    uv_close((uv_handle_t *)c->setup_timer, setup_timer_closed);
    c->setup_timer = NULL;
}

static void setup_timeout_cb(uv_timer_t *t)
{
    struct conn *c = t->data;
    conn_setup_done(c);
    conn_fail(c, "connection setup timed out");
}

/* Tears the connection down: every open stream is reported closed. */
static void conn_fail(struct conn *c, const char *why)
{
    if (c->closing)
        return;
    if (c->in_callback > 0 || c->flushing) {
        /* nghttp2 or a handler is on the stack: finish once it returns. */
        if (!c->fail_pending)
            k8c_errmsg_printf(c->errmsg, "%s", why);
        c->fail_pending = true;
        return;
    }
    c->closing = true;
    conn_setup_done(c);
    if (!c->fail_pending)
        k8c_errmsg_printf(c->errmsg, "%s", why);
    why = c->errmsg;
    k8c_log_v(2, "http: connection closed peer=%s reason=\"%s\"", c->peer_addr, why);
    c->h1 = NULL;
    c->nclose_late = 0; /* closed below with the rest */
    while (c->streams != NULL) {
        struct k8c_http_stream *s = c->streams;
        if (c->session != NULL && s->id > 0)
            nghttp2_session_set_stream_user_data(c->session, s->id, NULL);
        bool clean = s->finished && (s->h1_done || s->websocket) && s->remote_closed;
        /* A client connection that never came up sent nothing. */
        int err = c->client != NULL && !c->connected ? K8C_EUNSENT : K8C_ECLOSED;
        stream_close(s, clean ? 0 : err, 0, why);
    }
    if (c->session != NULL) {
        nghttp2_session_del(c->session);
        c->session = NULL;
    }
    if (c->client != NULL && c->client->conn == c)
        c->client->conn = NULL;
    if (!c->resolving && !uv_is_closing(&c->io.handle))
        uv_close(&c->io.handle, conn_closed_cb);
}

/* Runs a teardown that was requested while a callback was on the stack. */
static void conn_check_fail(struct conn *c)
{
    if (c->fail_pending && c->in_callback == 0 && !c->flushing && !c->closing)
        conn_fail(c, c->errmsg);
}

/* Every read of a thread's loop lands in one buffer: read_cb hands the
 * bytes on (the parsers and the TLS BIO copy what they keep) before the loop
 * can read again. A 64 KiB malloc per read made glibc consolidate its fast
 * bins on every call. */
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static _Thread_local char read_buf[65536];
    buf->base = read_buf;
    buf->len = sizeof(read_buf);
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void conn_start_h1(struct conn *c)
{
    c->proto = PROTO_H1;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
}

/* Plaintext bytes from the peer: by protocol. */
static void conn_feed(struct conn *c, const uint8_t *data, size_t len)
{
    c->last_active = uv_now(c->loop);
    if (c->proto == PROTO_UNKNOWN) {
        /* Cleartext server: the HTTP/2 preface starts a session, anything
         * else is HTTP/1.1. */
        k8c_sbuf_append(&c->in, data, len);
        size_t n = c->in.len < 24 ? c->in.len : 24;
        if (memcmp(c->in.data, h2_preface, n) == 0) {
            if (n < 24)
                return;
            conn_start_session(c);
        } else {
            conn_start_h1(c);
        }
        struct k8c_sbuf buffered = c->in;
        k8c_sbuf_init(&c->in);
        conn_feed(c, (const uint8_t *)buffered.data, buffered.len);
        k8c_sbuf_free(&buffered);
        return;
    }
    if (c->proto == PROTO_H1 || c->proto == PROTO_WS || c->proto == PROTO_RAW) {
        if (c->in.len + len > 4 * 1024 * 1024 && c->proto == PROTO_H1) {
            /* A client that pipelines without reading. */
            conn_fail(c, "too much pipelined input");
            return;
        }
        k8c_sbuf_append(&c->in, data, len);
        h1_parse(c);
        return;
    }
    if (c->session == NULL)
        return;
    c->in_callback++;
    ssize_t n = nghttp2_session_mem_recv(c->session, data, len);
    c->in_callback--;
    if (n < 0) {
        conn_flush(c); /* GOAWAY if nghttp2 queued one */
        conn_fail(c, nghttp2_strerror((int)n));
    }
    conn_check_fail(c);
}

/* After the TLS handshake: the peer's verified certificate subject. */
static void conn_peer_subject(struct conn *c)
{
    X509 *cert = SSL_get_peer_certificate(c->ssl);
    if (cert == NULL)
        return;
    if (SSL_get_verify_result(c->ssl) == X509_V_OK) {
        X509_NAME *name = X509_get_subject_name(cert);
        int i = -1;
        while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
            ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
            k8c_free(c->peer_cn);
            c->peer_cn =
                k8c_strndup((const char *)ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d));
        }
        i = -1;
        while ((i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0 &&
               c->npeer_orgs < MAX_PEER_ORGS) {
            ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
            c->peer_orgs[c->npeer_orgs++] =
                k8c_strndup((const char *)ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d));
        }
    }
    X509_free(cert);
}

/* Runs OpenSSL over the bytes read (c->tls_in): the handshake, then the
 * records, decrypted into conn_feed. False when the connection failed. */
static bool tls_read(struct conn *c)
{
    if (!c->tls_ready) {
        int rc = SSL_do_handshake(c->ssl);
        tls_flush(c);
        if (rc != 1) {
            int err = SSL_get_error(c->ssl, rc);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                char msg[200];
                const char *r = ERR_reason_error_string(ERR_peek_last_error());
                snprintf(msg, sizeof(msg), "TLS handshake failed: %s", r ? r : "peer closed");
                ERR_clear_error();
                conn_fail(c, msg);
                return false;
            }
        } else {
            const unsigned char *alpn = NULL;
            unsigned alpn_len = 0;
            SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
            bool h2 = alpn_len == 2 && memcmp(alpn, "h2", 2) == 0;
            if (!h2 && !c->is_server) {
                conn_fail(c, "TLS peer did not negotiate HTTP/2 (ALPN h2)");
                return false;
            }
            c->tls_ready = true;
            if (c->is_server)
                conn_peer_subject(c);
            if (h2)
                conn_start_session(c);
            else
                conn_start_h1(c);
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
                conn_fail(c, "TLS connection closed by peer");
                return false;
            }
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                conn_fail(c, "TLS read failed");
                return false;
            }
        }
    }
    return true;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = stream->data;

    if (c->client != NULL && nread > 0) {
        c->last_heard = uv_now(c->loop);
        c->ping_sent = 0;
        c->keepalive_late = false;
    }
    if (nread < 0) {
        conn_fail(c, nread == UV_EOF ? "connection closed by peer" : uv_strerror((int)nread));
        return;
    }
    if (c->ssl == NULL) {
        conn_feed(c, (const uint8_t *)buf->base, (size_t)nread);
    } else {
        c->tls_in = (const uint8_t *)buf->base;
        c->tls_in_len = (size_t)nread;
        bool ok = tls_read(c);
        c->tls_in = NULL; /* libuv's buffer is not ours after this call */
        c->tls_in_len = 0;
        if (!ok)
            return;
    }
    conn_flush(c);
}

/* ======================= server ======================= */

static int alpn_pick(const unsigned char *in, unsigned inlen, const char *proto,
                     const unsigned char **out, unsigned char *outlen)
{
    size_t plen = strlen(proto);
    for (unsigned i = 0; i + 1 <= inlen;) {
        unsigned len = in[i];
        if (i + 1 + len > inlen)
            break;
        if (len == plen && memcmp(in + i + 1, proto, plen) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)plen;
            return 1;
        }
        i += 1 + len;
    }
    return 0;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    struct listener *l = arg;
    if (!l->http1_only && alpn_pick(in, inlen, "h2", out, outlen))
        return SSL_TLSEXT_ERR_OK;
    if (alpn_pick(in, inlen, "http/1.1", out, outlen))
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    struct k8c_http_server *srv = l->srv;

    if (status < 0 || srv->closing)
        return;
    struct conn *c = K8C_NEW(struct conn);
    c->loop = srv->loop;
    c->is_server = true;
    c->srv = srv;
    c->listener = l;
    c->keep_alive = true;
    uv_tcp_init(srv->loop, &c->io.tcp);
    c->io.handle.data = c;
    srv->handles++;
    srv->nconns++;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    if (uv_accept(server, &c->io.stream) != 0) {
        c->closing = true;
        uv_close(&c->io.handle, conn_closed_cb);
        return;
    }
    uv_tcp_nodelay(&c->io.tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->io.tcp, (struct sockaddr *)&ss, &len) == 0) {
        char ip[48] = "";
        int port = 0;
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
        snprintf(c->peer_addr, sizeof(c->peer_addr), "%s:%d", ip, port);
    }
    c->last_active = uv_now(srv->loop);
    if (l->tls != NULL) {
        c->ssl = SSL_new(l->tls);
        conn_bio_new(c);
        SSL_set_accept_state(c->ssl);
    }
    uv_read_start(&c->io.stream, alloc_cb, read_cb);
    c->setup_timer = k8c_malloc(sizeof(*c->setup_timer));
    uv_timer_init(srv->loop, c->setup_timer);
    c->setup_timer->data = c;
    uv_timer_start(c->setup_timer, setup_timeout_cb, srv->o.setup_timeout_ms, 0);
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
    if (colon[1] == '\0' || strlen(colon + 1) > 5 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535) {
        k8c_free(*host);
        return false;
    }
    *port = k8c_strdup(colon + 1);
    return true;
}

static int listener_make_ctx(struct listener *l, SSL_CTX **out, char *errmsg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* TLS 1.3: AES-128-GCM first, chosen by the server, as Go's crypto/tls
     * (kube-apiserver) does on CPUs with AES instructions; OpenSSL clients
     * would pick AES-256-GCM: 14 rounds instead of 10 per block of every
     * watch event a fan-out sends. */
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                  "TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, l->cert_file) != 1) {
        SSL_CTX_free(ctx);
        return tls_error(errmsg, "loading certificate", l->cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, l->key_file ? l->key_file : "", SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return tls_error(errmsg, "loading key", l->key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return tls_error(errmsg, "certificate and key do not match:", l->key_file);
    }
    if (l->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, l->ca_file, NULL) != 1) {
            SSL_CTX_free(ctx);
            return tls_error(errmsg, "loading client CA", l->ca_file);
        }
        /* Without require_client_cert a client may come without a
         * certificate (token or anonymous auth); one it sends must verify. */
        SSL_CTX_set_verify(
            ctx, SSL_VERIFY_PEER | (l->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
            NULL);
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->ca_file);
        if (names != NULL)
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, l);
    *out = ctx;
    return 0;
}

static void idle_cb(uv_timer_t *t)
{
    struct k8c_http_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    for (struct conn *c = srv->conns, *next; c != NULL; c = next) {
        next = c->next;
        bool busy = false;
        for (struct k8c_http_stream *s = c->streams; s && !busy; s = s->next)
            busy = s->handed;
        if (!busy && !c->closing && now - c->last_active > srv->o.idle_timeout_ms) {
            if (c->session != NULL) {
                nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                                      nghttp2_session_get_last_proc_stream_id(c->session),
                                      NGHTTP2_NO_ERROR, NULL, 0);
                conn_flush(c);
            }
            conn_fail(c, "idle timeout");
        }
    }
}

struct k8c_http_server *k8c_http_server_new(uv_loop_t *loop,
                                            const struct k8c_http_server_options *opts,
                                            k8c_http_request_fn on_request, void *arg)
{
    struct k8c_http_server *srv = K8C_NEW(struct k8c_http_server);
    srv->loop = loop;
    if (opts != NULL)
        srv->o = *opts;
    if (srv->o.max_header_bytes == 0)
        srv->o.max_header_bytes = K8C_HTTP_MAX_HEADER_BYTES;
    if (srv->o.idle_timeout_ms == 0)
        srv->o.idle_timeout_ms = 300000;
    if (srv->o.setup_timeout_ms == 0)
        srv->o.setup_timeout_ms = 10000;
    if (srv->o.max_concurrent == 0)
        srv->o.max_concurrent = 1000;
    if (srv->o.write_high_water == 0)
        srv->o.write_high_water = WRITE_HIGH_WATER;
    srv->on_request = on_request;
    srv->arg = arg;
    uv_timer_init(loop, &srv->idle_timer);
    srv->idle_timer.data = srv;
    flusher_init(loop, &srv->flush);
    srv->handles = 2; /* the idle timer and the flusher */
    unsigned period = srv->o.idle_timeout_ms / 4 ? srv->o.idle_timeout_ms / 4 : 1;
    uv_timer_start(&srv->idle_timer, idle_cb, period, period);
    uv_unref((uv_handle_t *)&srv->idle_timer);
    return srv;
}

int k8c_http_server_listen(struct k8c_http_server *srv, const char *addr,
                           const struct k8c_http_listen_options *opts, char *errmsg)
{
    char *host = NULL, *port = NULL;
    struct sockaddr_storage ss;
    int rc;

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
    struct listener *l = K8C_NEW(struct listener);
    l->srv = srv;
    if (opts != NULL && opts->cert_file != NULL && opts->cert_file[0] != '\0') {
        l->cert_file = k8c_strdup(opts->cert_file);
        l->key_file = k8c_strdup(opts->key_file ? opts->key_file : "");
        if (opts->client_ca_file != NULL && opts->client_ca_file[0] != '\0')
            l->ca_file = k8c_strdup(opts->client_ca_file);
        l->require_client_cert = opts->require_client_cert;
        l->http1_only = opts->http1_only;
        if ((rc = listener_make_ctx(l, &l->tls, errmsg)) != 0) {
            k8c_free(l->cert_file);
            k8c_free(l->key_file);
            k8c_free(l->ca_file);
            k8c_free(l);
            return rc;
        }
    }
    uv_tcp_init(srv->loop, &l->tcp);
    l->tcp.data = l;
    srv->handles++;
    l->next = srv->listeners;
    srv->listeners = l;
    rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection);
    if (rc != 0) {
        k8c_errmsg_printf(errmsg, "listen on %s: %s", addr, uv_strerror(rc));
        return rc;
    }
    int len = sizeof(ss);
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
    srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int k8c_http_server_port(const struct k8c_http_server *srv)
{
    return srv->port;
}

void k8c_http_server_flush_stats(const struct k8c_http_server *srv, uint64_t *early,
                                 uint64_t *closed_late)
{
    *early = srv->early_flushes;
    *closed_late = srv->closed_late;
}

size_t k8c_http_server_connections(const struct k8c_http_server *srv)
{
    return srv->nconns;
}

int k8c_http_server_reload_tls(struct k8c_http_server *srv, char *errmsg)
{
    size_t n = 0, i = 0;
    for (struct listener *l = srv->listeners; l; l = l->next)
        n += l->tls != NULL;
    if (n == 0)
        return 0;
    SSL_CTX **fresh = k8c_calloc(n, sizeof(*fresh));
    int rc = 0;
    for (struct listener *l = srv->listeners; l && rc == 0; l = l->next) {
        if (l->tls != NULL && (rc = listener_make_ctx(l, &fresh[i], errmsg)) == 0)
            i++;
    }
    if (rc != 0) {
        for (size_t j = 0; j < i; j++)
            SSL_CTX_free(fresh[j]);
        k8c_free(fresh);
        return rc;
    }
    i = 0;
    for (struct listener *l = srv->listeners; l; l = l->next) {
        if (l->tls == NULL)
            continue;
        SSL_CTX_free(l->tls); /* open connections hold their own reference */
        l->tls = fresh[i++];
    }
    k8c_free(fresh);
    return 0;
}

static void listener_closed_cb(uv_handle_t *h)
{
    struct listener *l = h->data;
    struct k8c_http_server *srv = l->srv;
    SSL_CTX_free(l->tls);
    k8c_free(l->cert_file);
    k8c_free(l->key_file);
    k8c_free(l->ca_file);
    k8c_free(l);
    if (--srv->handles == 0 && srv->closing)
        k8c_free(srv);
}

static void idle_timer_closed(uv_handle_t *h)
{
    struct k8c_http_server *srv = h->data;
    if (--srv->handles == 0 && srv->closing)
        k8c_free(srv);
}

static void server_flusher_closed(struct k8c_turn *t)
{
    struct k8c_http_server *srv =
        (struct k8c_http_server *)((char *)t->data - offsetof(struct k8c_http_server, flush));
    if (--srv->handles == 0 && srv->closing)
        k8c_free(srv);
}

void k8c_http_server_del(struct k8c_http_server *srv)
{
    if (srv == NULL || srv->closing)
        return;
    srv->closing = true;
    while (srv->listeners) {
        struct listener *l = srv->listeners;
        srv->listeners = l->next;
        uv_close((uv_handle_t *)&l->tcp, listener_closed_cb);
    }
    uv_timer_stop(&srv->idle_timer);
    uv_close((uv_handle_t *)&srv->idle_timer, idle_timer_closed);
    flusher_close(&srv->flush, server_flusher_closed);
    for (struct conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->session != NULL) {
            nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->session),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            conn_flush(c);
        }
        conn_fail(c, "server shutting down");
    }
}

/* ======================= client ======================= */

/* Keepalive (k8c_http_client_options.keepalive_ms), four times a period. A
 * connection overdue (not up, or its PING unanswered) fails at the second
 * tick that finds it so: timers run before the loop reads, and an answer may
 * be waiting unread after the loop was busy for a while. */
static void keepalive_tick(uv_timer_t *t)
{
    struct k8c_http_client *cl = t->data;
    struct conn *c = cl->conn;
    uint64_t now = uv_now(cl->loop), k = cl->keepalive_ms;
    char why[96];

    if (c == NULL || c->closing)
        return;
    if (c->streams == NULL) { /* nothing is waiting: the next request starts the clock */
        c->last_heard = now;
        c->ping_sent = 0;
        c->keepalive_late = false;
        return;
    }
    bool late =
        c->connected ? c->ping_sent != 0 && now - c->ping_sent >= k : now - c->last_heard >= 2 * k;
    if (late && c->keepalive_late) {
        if (c->connected)
            snprintf(why, sizeof(why), "keepalive ping unanswered for %" PRIu64 " ms",
                     now - c->ping_sent);
        else
            snprintf(why, sizeof(why), "connection not up after %" PRIu64 " ms",
                     now - c->last_heard);
        conn_fail(c, why);
        return;
    }
    c->keepalive_late = late;
    if (c->connected && c->session != NULL && c->ping_sent == 0 && now - c->last_heard >= k) {
        c->ping_sent = now;
        nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
        conn_flush(c);
    }
}

static void keepalive_closed(uv_handle_t *h)
{
    struct k8c_http_client *cl = h->data;
    if (--cl->nconns == 0)
        client_free(cl);
}

struct k8c_http_client *k8c_http_client_new(uv_loop_t *loop, const char *target,
                                            const struct k8c_http_client_options *opts,
                                            char *errmsg)
{
    struct k8c_http_client *cl = K8C_NEW(struct k8c_http_client);
    bool tls = opts != NULL && opts->ca_file != NULL && opts->ca_file[0] != '\0';

    cl->loop = loop;
    if (strncmp(target, "unix:", 5) == 0) {
        const char *path = target + 5;
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (path[0] == '\0' || strlen(path) >= 108) {
            k8c_errmsg_printf(errmsg, "invalid unix socket target \"%s\"", target);
            k8c_free(cl);
            return NULL;
        }
        cl->unix_path = k8c_strdup(path);
        cl->authority = k8c_strdup("localhost");
    } else {
        if (!split_host_port(target, &cl->host, &cl->port) || cl->host[0] == '\0') {
            k8c_errmsg_printf(errmsg, "invalid target \"%s\": want host:port or unix:/path",
                              target);
            k8c_free(cl);
            return NULL;
        }
        cl->authority = k8c_strdup(target);
    }
    cl->server_name = k8c_strdup(opts && opts->server_name ? opts->server_name
                                 : cl->host                ? cl->host
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
            k8c_free(cl->host);
            k8c_free(cl->port);
            k8c_free(cl->unix_path);
            k8c_free(cl->authority);
            k8c_free(cl->server_name);
            k8c_free(cl);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3);
        cl->tls = ctx;
    }
    if (opts != NULL && opts->keepalive_ms > 0) {
        unsigned period = opts->keepalive_ms / 4 > 10 ? opts->keepalive_ms / 4 : 10;
        cl->keepalive_ms = opts->keepalive_ms;
        uv_timer_init(loop, &cl->keepalive);
        cl->keepalive.data = cl;
        uv_timer_start(&cl->keepalive, keepalive_tick, period, period);
        uv_unref((uv_handle_t *)&cl->keepalive);
        cl->nconns++;
    }
    return cl;
}

const char *k8c_http_client_authority(const struct k8c_http_client *cl)
{
    return cl->authority;
}

const char *k8c_http_client_scheme(const struct k8c_http_client *cl)
{
    return cl->tls ? "https" : "http";
}

static void client_flusher_closed(struct k8c_turn *t)
{
    struct k8c_http_client *cl =
        (struct k8c_http_client *)((char *)t->data - offsetof(struct k8c_http_client, flush));
    if (--cl->nconns == 0)
        client_free(cl);
}

void k8c_http_client_del(struct k8c_http_client *cl)
{
    if (cl == NULL || cl->deleting)
        return;
    cl->deleting = true;
    if (cl->keepalive_ms > 0)
        uv_close((uv_handle_t *)&cl->keepalive, keepalive_closed);
    if (cl->flush_init) {
        flusher_close(&cl->flush, client_flusher_closed);
        cl->nconns += 1;
    }
    if (cl->conn != NULL)
        conn_fail(cl->conn, "client closed");
    /* Freed in conn_closed_cb once the last connection is gone. */
    if (cl->nconns == 0)
        client_free(cl);
}

/* Submits the HTTP/2 request for a stream waiting on the connection. */
static void client_submit(struct conn *c, struct k8c_http_stream *s)
{
    nghttp2_nv *nv = nv_pack(s->hdrs, s->nhdrs, false);
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = data_read_cb};
    int32_t id = nghttp2_submit_request(c->session, NULL, nv, s->nhdrs, &prd, s);
    k8c_free(nv);
    if (id < 0) {
        stream_close(s, K8C_EPROTO, 0, nghttp2_strerror(id));
        return;
    }
    s->id = id;
    s->provider = true;
}

/* Waiting streams are kept on the connection with id 0 until the session is up. */
static void client_session_ready(struct conn *c)
{
    c->connected = true;
    for (struct k8c_http_stream *s = c->streams, *next; s != NULL; s = next) {
        next = s->next;
        if (s->id == 0)
            client_submit(c, s);
    }
}

static void client_connected(struct conn *c)
{
    struct k8c_http_client *cl = c->client;
    uv_read_start(&c->io.stream, alloc_cb, read_cb);
    if (cl->tls != NULL) {
        c->ssl = SSL_new(cl->tls);
        conn_bio_new(c);
        SSL_set_connect_state(c->ssl);
        SSL_set_tlsext_host_name(c->ssl, cl->server_name);
        SSL_set1_host(c->ssl, cl->server_name);
        SSL_do_handshake(c->ssl);
        tls_flush(c);
    } else {
        conn_start_session(c);
    }
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "connect: %s", uv_strerror(status));
        conn_fail(c, msg);
        return;
    }
    if (c->client == NULL || c->client->deleting) {
        conn_fail(c, "client closed");
        return;
    }
    if (c->io.handle.type == UV_TCP)
        uv_tcp_nodelay(&c->io.tcp, 1);
    client_connected(c);
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct conn *c = req->data;
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
        conn_fail(c, msg);
        return;
    }
    c->connect_req.data = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->io.tcp, res->ai_addr, connect_cb);
    uv_freeaddrinfo(res);
    if (rc < 0)
        conn_fail(c, uv_strerror(rc));
}

/* The client's connection, connecting if there is none. */
static struct conn *client_conn(struct k8c_http_client *cl)
{
    if (cl->conn != NULL)
        return cl->conn;
    struct conn *c = K8C_NEW(struct conn);
    c->loop = cl->loop;
    c->client = cl;
    c->last_heard = uv_now(cl->loop);
    c->proto = PROTO_H2;
    cl->conn = c;
    cl->nconns++;
    if (cl->unix_path != NULL) {
        uv_pipe_init(cl->loop, &c->io.pipe, 0);
        c->io.handle.data = c;
        c->connect_req.data = c;
        uv_pipe_connect(&c->connect_req, &c->io.pipe, cl->unix_path, connect_cb);
    } else {
        uv_tcp_init(cl->loop, &c->io.tcp);
        c->io.handle.data = c;
        c->gai_req.data = c;
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        c->resolving = true;
        int rc = uv_getaddrinfo(cl->loop, &c->gai_req, gai_cb, cl->host, cl->port, &hints);
        if (rc < 0) {
            c->resolving = false;
            conn_fail(c, uv_strerror(rc));
        }
    }
    return c;
}

struct k8c_http_client_stream *
k8c_http_client_request(struct k8c_http_client *cl, const struct k8c_http_header *headers, size_t n,
                        const struct k8c_http_client_ops *ops, void *arg)
{
    struct k8c_http_client_stream *cs = K8C_NEW(struct k8c_http_client_stream);
    struct k8c_http_stream *s = &cs->s;
    s->cops = ops;
    s->arg = arg;
    for (size_t i = 0; i < n; i++)
        stream_add_header(s, headers[i].name, strlen(headers[i].name), headers[i].value,
                          strlen(headers[i].value), SIZE_MAX);
    if (cl->deleting) {
        stream_free(s);
        return NULL;
    }
    struct conn *c = client_conn(cl);
    stream_attach(s, c);
    if (c->connected && c->session != NULL) {
        client_submit(c, s);
        conn_flush_soon(c);
    }
    return (struct k8c_http_client_stream *)s;
}

int k8c_http_client_stream_send(struct k8c_http_client_stream *cs, struct k8c_buf *buf)
{
    struct k8c_http_stream *s = &cs->s;
    if (s->end)
        return K8C_EINVAL;
    stream_queue(s, buf);
    stream_resume(s);
    return 0;
}

int k8c_http_client_stream_end(struct k8c_http_client_stream *cs)
{
    struct k8c_http_stream *s = &cs->s;
    if (s->end)
        return K8C_EINVAL;
    s->end = true;
    stream_resume(s);
    return 0;
}

size_t k8c_http_client_stream_queued(const struct k8c_http_client_stream *cs)
{
    return cs->s.queued;
}

void k8c_http_client_stream_cancel(struct k8c_http_client_stream *cs)
{
    struct k8c_http_stream *s = &cs->s;
    struct conn *c = s->conn;
    if (s->id > 0 && c != NULL && c->session != NULL) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        conn_flush(c);
        return;
    }
    /* Not submitted yet: it ends here. */
    stream_close(s, K8C_ECLOSED, NGHTTP2_CANCEL, "cancelled before it was sent");
}
