/*
 * k8c-http-test-server: a small server on lib/http for the integration tests
 * (curl, nghttp, h2load, python clients) and for bench/http.
 *   GET  /hello           "hello\n" (the benchmark's small response)
 *   POST /echo            the request body back (413 past --max-body)
 *   GET  /stream?n=N      N lines "line <i>\n", one every 20 ms (chunked on HTTP/1.1)
 *   GET  /big?bytes=N     N bytes of 'x', produced only while the peer reads
 *   GET  /whoami          the verified client certificate: "cn=<CN> o=<O>,<O>\n"
 *   GET  /proto           "HTTP/2\n" or "HTTP/1.1\n"
 *   GET  /stats           "streams=<open> max_queued=<bytes> closed_early=<n> early=<n>
 *                         late=<n>\n" (early: early flushes, late: closes they deferred)
 *   GET  /sub?n=N&bytes=B a subscriber: every 20 ms all subscribers, in the order they
 *                         came, get a line "sub <id> line <i> ..." of B bytes; the
 *                         stream ends after N lines (a watch fan-out, for
 *                         --flush-early)
 *   POST /-/reload        reloads the TLS certificate and key from disk
 *   GET  /ws              websocket echo (offers back the first subprotocol asked for)
 * Stops on SIGTERM/SIGINT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "flags.h"
#include "http.h"
#include "log.h"
#include "signals.h"

#define BIG_CHUNK  (64 * 1024)
#define HIGH_WATER (256 * 1024)

static uv_loop_t *loop;
static struct k8c_http_server *server;
static int64_t max_body = 3 * 1024 * 1024;
static size_t open_streams, max_queued, closed_early;
static int64_t flush_early;

/* /sub subscribers, in the order they came, and the timer feeding them */
static struct req *subs, *subs_tail;
static uv_timer_t fan_timer;
static long next_sub_id;

struct req {
    struct k8c_http_stream *s;
    struct k8c_sbuf body;
    bool too_big;
    uv_timer_t *timer; /* /stream */
    long n, sent;      /* /stream lines, /big bytes, /sub lines */
    bool done;
    long sub_id, line_bytes; /* /sub */
    struct req *sub_next, *sub_prev;
    bool subscribed;
};

static void unsubscribe(struct req *r)
{
    if (!r->subscribed)
        return;
    r->subscribed = false;
    if (r->sub_prev)
        r->sub_prev->sub_next = r->sub_next;
    else
        subs = r->sub_next;
    if (r->sub_next)
        r->sub_next->sub_prev = r->sub_prev;
    else
        subs_tail = r->sub_prev;
    if (subs == NULL)
        uv_timer_stop(&fan_timer);
}

/* One line to every subscriber, in turn: the streams of each connection are
 * consecutive when their requests came so, as a watch cache's are. */
static void fan_tick(uv_timer_t *t)
{
    char line[4096];
    for (struct req *r = subs, *next; r != NULL; r = next) {
        next = r->sub_next;
        int len = snprintf(line, sizeof(line), "sub %ld line %ld ", r->sub_id, r->sent);
        memset(line + len, '.', (size_t)(r->line_bytes - 1 - len));
        line[r->line_bytes - 1] = '\n';
        k8c_http_stream_send_copy(r->s, line, (size_t)r->line_bytes);
        if (++r->sent >= r->n) {
            r->done = true;
            unsubscribe(r);
            k8c_http_stream_finish(r->s, NULL, 0);
        }
    }
}

static long query_long(const char *path, const char *name, long def)
{
    const char *q = strchr(path, '?');
    size_t len = strlen(name);
    while (q != NULL) {
        q++;
        if (strncmp(q, name, len) == 0 && q[len] == '=')
            return strtol(q + len + 1, NULL, 10);
        q = strchr(q, '&');
    }
    return def;
}

static bool path_is(const char *path, const char *want)
{
    size_t len = strlen(want);
    return strncmp(path, want, len) == 0 && (path[len] == '\0' || path[len] == '?');
}

static void timer_closed(uv_handle_t *h)
{
    k8c_free(h);
}

static void note_queue(struct req *r)
{
    size_t q = k8c_http_stream_queued(r->s);
    if (q > max_queued)
        max_queued = q;
}

static void big_fill(struct req *r)
{
    while (r->sent < r->n && k8c_http_stream_queued(r->s) < HIGH_WATER) {
        size_t len = (size_t)(r->n - r->sent) < BIG_CHUNK ? (size_t)(r->n - r->sent) : BIG_CHUNK;
        struct k8c_buf *b = k8c_buf_new(len);
        memset(b->data, 'x', len);
        k8c_http_stream_send(r->s, b);
        k8c_buf_unref(b);
        r->sent += (long)len;
        note_queue(r);
    }
    if (r->sent >= r->n) {
        r->done = true;
        k8c_http_stream_finish(r->s, NULL, 0);
    } else {
        k8c_http_stream_want_writable(r->s, HIGH_WATER / 2);
    }
}

static void stream_tick(uv_timer_t *t)
{
    struct req *r = t->data;
    char line[64];
    int len = snprintf(line, sizeof(line), "line %ld\n", r->sent++);
    k8c_http_stream_send_copy(r->s, line, (size_t)len);
    if (r->sent >= r->n) {
        uv_timer_stop(t);
        r->done = true;
        k8c_http_stream_finish(r->s, NULL, 0);
    }
}

static void answer(struct req *r)
{
    struct k8c_http_stream *s = r->s;
    const char *method = k8c_http_stream_method(s), *path = k8c_http_stream_path(s);
    const char *text = "text/plain; charset=utf-8";
    char buf[512];

    if (r->too_big) {
        const char *msg = "request body too large\n";
        k8c_http_stream_reply(s, 413, text, msg, strlen(msg));
    } else if (strcmp(method, "POST") == 0 && path_is(path, "/echo")) {
        k8c_http_stream_reply(s, 200, "application/octet-stream", r->body.data ? r->body.data : "",
                              r->body.len);
    } else if (strcmp(method, "POST") == 0 && path_is(path, "/-/reload")) {
        char errmsg[K8C_ERRMSG_SIZE];
        int rc = k8c_http_server_reload_tls(server, errmsg);
        snprintf(buf, sizeof(buf), "%s\n", rc == 0 ? "reloaded" : errmsg);
        k8c_http_stream_reply(s, rc == 0 ? 200 : 500, text, buf, strlen(buf));
    } else if (path_is(path, "/headers")) {
        /* the request's headers as the server keeps them, one per line */
        size_t n;
        const struct k8c_http_header *h = k8c_http_stream_headers(s, &n);
        struct k8c_sbuf out;
        k8c_sbuf_init(&out);
        for (size_t i = 0; i < n; i++)
            k8c_sbuf_printf(&out, "%s: %s\n", h[i].name, h[i].value);
        k8c_http_stream_reply(s, 200, text, out.data, out.len);
        k8c_sbuf_free(&out);
    } else if (path_is(path, "/hello")) {
        k8c_http_stream_reply(s, 200, text, "hello\n", 6);
    } else if (path_is(path, "/proto")) {
        const char *p = k8c_http_stream_version(s) == 2 ? "HTTP/2\n" : "HTTP/1.1\n";
        k8c_http_stream_reply(s, 200, text, p, strlen(p));
    } else if (path_is(path, "/stats")) {
        uint64_t early, late;
        k8c_http_server_flush_stats(server, &early, &late);
        snprintf(buf, sizeof(buf),
                 "streams=%zu max_queued=%zu closed_early=%zu early=%llu late=%llu\n", open_streams,
                 max_queued, closed_early, (unsigned long long)early, (unsigned long long)late);
        k8c_http_stream_reply(s, 200, text, buf, strlen(buf));
    } else if (path_is(path, "/whoami")) {
        size_t n;
        const char *const *orgs = k8c_http_stream_peer_orgs(s, &n);
        const char *cn = k8c_http_stream_peer_cn(s);
        int len = snprintf(buf, sizeof(buf), "cn=%s o=", cn ? cn : "");
        for (size_t i = 0; i < n && len < (int)sizeof(buf) - 80; i++)
            len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s%s", i ? "," : "", orgs[i]);
        snprintf(buf + len, sizeof(buf) - (size_t)len, "\n");
        k8c_http_stream_reply(s, 200, text, buf, strlen(buf));
    } else if (path_is(path, "/stream")) {
        struct k8c_http_header h[] = {{"content-type", text}};
        r->n = query_long(path, "n", 5);
        if (r->n < 1 || r->n > 100000)
            r->n = 5;
        k8c_http_stream_respond(s, 200, h, 1, false);
        r->timer = k8c_malloc(sizeof(*r->timer));
        uv_timer_init(loop, r->timer);
        r->timer->data = r;
        uv_timer_start(r->timer, stream_tick, 0, 20);
    } else if (path_is(path, "/sub")) {
        struct k8c_http_header h[] = {{"content-type", text}};
        r->n = query_long(path, "n", 5);
        r->line_bytes = query_long(path, "bytes", 100);
        if (r->n < 1 || r->n > 100000)
            r->n = 5;
        if (r->line_bytes < 64 || r->line_bytes > 4096)
            r->line_bytes = 100;
        r->sub_id = next_sub_id++;
        k8c_http_stream_respond(s, 200, h, 1, false);
        r->subscribed = true;
        r->sub_prev = subs_tail;
        if (subs_tail)
            subs_tail->sub_next = r;
        else
            subs = r;
        subs_tail = r;
        if (!uv_is_active((uv_handle_t *)&fan_timer))
            uv_timer_start(&fan_timer, fan_tick, 20, 20);
    } else if (path_is(path, "/big")) {
        struct k8c_http_header h[] = {{"content-type", "application/octet-stream"}};
        r->n = query_long(path, "bytes", 1024);
        if (r->n < 0)
            r->n = 0;
        k8c_http_stream_respond(s, 200, h, 1, false);
        big_fill(r);
    } else {
        const char *msg = "404 page not found\n";
        k8c_http_stream_reply(s, 404, text, msg, strlen(msg));
    }
}

static void on_data(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct req *r = arg;
    if (r->too_big)
        return;
    if (r->body.len + len > (size_t)max_body) {
        /* Answer at once; the rest of the body is not read. */
        r->too_big = true;
        k8c_sbuf_free(&r->body);
        answer(r);
        return;
    }
    k8c_sbuf_append(&r->body, data, len);
}

static void on_end(struct k8c_http_stream *s, void *arg)
{
    struct req *r = arg;
    if (!r->too_big)
        answer(r);
}

static void on_writable(struct k8c_http_stream *s, void *arg)
{
    struct req *r = arg;
    if (!r->done && r->n > 0 && r->timer == NULL)
        big_fill(r);
}

static void on_close(struct k8c_http_stream *s, int error, void *arg)
{
    struct req *r = arg;
    open_streams--;
    unsubscribe(r);
    if (error != 0 || !r->done)
        closed_early += error != 0;
    if (r->timer != NULL) {
        uv_timer_stop(r->timer);
        uv_close((uv_handle_t *)r->timer, timer_closed);
    }
    k8c_sbuf_free(&r->body);
    k8c_free(r);
}

static void on_message(struct k8c_http_stream *s, int opcode, const uint8_t *data, size_t len,
                       void *arg)
{
    k8c_http_ws_send(s, opcode, data, len);
}

static const struct k8c_http_stream_ops ops = {
    .on_data = on_data,
    .on_end = on_end,
    .on_writable = on_writable,
    .on_close = on_close,
    .on_message = on_message,
};

static void on_request(void *arg, struct k8c_http_stream *s)
{
    struct req *r = K8C_NEW(struct req);
    r->s = s;
    k8c_sbuf_init(&r->body);
    open_streams++;
    k8c_http_stream_set_ops(s, &ops, r);
    if (path_is(k8c_http_stream_path(s), "/ws")) {
        char proto[128] = "";
        const char *offered = k8c_http_stream_header(s, "sec-websocket-protocol");
        if (offered != NULL) {
            snprintf(proto, sizeof(proto), "%s", offered);
            proto[strcspn(proto, ", ")] = '\0';
        }
        if (k8c_http_stream_websocket(s, proto) != 0) {
            const char *msg = "websocket upgrade required\n";
            k8c_http_stream_reply(s, 400, "text/plain", msg, strlen(msg));
        }
    }
}

static void on_signal(void *arg)
{
    uv_timer_stop(&fan_timer);
    uv_close((uv_handle_t *)&fan_timer, NULL);
    k8c_http_server_del(server);
    k8c_signals_close();
}

int main(int argc, char **argv)
{
    char *listen = "127.0.0.1:8080", *cert = "", *key = "", *client_ca = "";
    int64_t setup_timeout = 10000, idle_timeout = 300000;
    bool require_cert = false;
    char errmsg[K8C_ERRMSG_SIZE];
    int first;
    const struct k8c_flag flags[] = {
        {"listen", K8C_FLAG_STRING, &listen, "address to serve on (host:port)"},
        {"tls-cert", K8C_FLAG_STRING, &cert, "serving certificate (PEM): use TLS"},
        {"tls-key", K8C_FLAG_STRING, &key, "serving key (PEM)"},
        {"client-ca", K8C_FLAG_STRING, &client_ca, "verify client certificates against this CA"},
        {"require-client-cert", K8C_FLAG_BOOL, &require_cert, "refuse clients without one"},
        {"max-body", K8C_FLAG_SIZE, &max_body, "largest request body /echo accepts"},
        {"setup-timeout", K8C_FLAG_DURATION, &setup_timeout, "time to the first request head"},
        {"idle-timeout", K8C_FLAG_DURATION, &idle_timeout, "idle connections are closed after"},
        {"flush-early", K8C_FLAG_SIZE, &flush_early,
         "flush a connection's streams as soon as the next send goes elsewhere, from this many "
         "bytes (0: at the end of the loop turn)"},
        {"v", K8C_FLAG_INT, &k8c_log_verbosity, "log verbosity"},
    };
    int rc = k8c_flags_parse(flags, sizeof(flags) / sizeof(flags[0]), argc, argv, &first, errmsg);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "%s\n", errmsg);
        return rc < 0 ? 2 : 0;
    }
    k8c_log_init("http-test-server");
    loop = uv_default_loop();
    struct k8c_http_server_options so = {.setup_timeout_ms = (unsigned)setup_timeout,
                                         .idle_timeout_ms = (unsigned)idle_timeout,
                                         .flush_early_bytes = (size_t)flush_early};
    server = k8c_http_server_new(loop, &so, on_request, NULL);
    uv_timer_init(loop, &fan_timer);
    struct k8c_http_listen_options lo = {.cert_file = cert,
                                         .key_file = key,
                                         .client_ca_file = client_ca,
                                         .require_client_cert = require_cert};
    if ((rc = k8c_http_server_listen(server, listen, &lo, errmsg)) != 0) {
        fprintf(stderr, "listen: %s\n", errmsg);
        return 1;
    }
    k8c_signals_init(loop, on_signal, NULL);
    printf("listening port=%d\n", k8c_http_server_port(server));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
}
