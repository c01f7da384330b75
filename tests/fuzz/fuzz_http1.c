/*
 * Fuzz target for lib/http's HTTP/1.1 request path (http-parser glue,
 * keep-alive and pipelining, chunked bodies, limits, websocket upgrade and
 * frames): each input is written to a real lib/http server on loopback in
 * this process, the client half-closes, and the loop runs until the server
 * has closed the connection. The server must never crash, leak or hang; its
 * handler answers every complete request with a summary, and /ws requests
 * are upgraded so the rest of the input is parsed as websocket frames.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t *loop;
static struct k8c_http_server *server;
static int port;

struct req {
    size_t body;
};

static void on_data(struct k8c_http_stream *s, const uint8_t *d, size_t len, void *arg)
{
    struct req *r = arg;
    r->body += len;
    if (r->body > 65536 && !k8c_http_stream_headers_sent(s))
        k8c_http_stream_reply(s, 413, "text/plain", "too large\n", 10);
}

static void on_end(struct k8c_http_stream *s, void *arg)
{
    struct req *r = arg;
    char out[256];
    size_t n;
    k8c_http_stream_headers(s, &n);
    if (k8c_http_stream_headers_sent(s))
        return;
    int len = snprintf(out, sizeof(out), "%s %.100s headers=%zu body=%zu\n",
                       k8c_http_stream_method(s), k8c_http_stream_path(s), n, r->body);
    k8c_http_stream_reply(s, 200, "text/plain", out, (size_t)len);
}

static void on_close(struct k8c_http_stream *s, int error, void *arg)
{
    k8c_free(arg);
}

static void on_message(struct k8c_http_stream *s, int opcode, const uint8_t *d, size_t len,
                       void *arg)
{
    k8c_http_ws_send(s, opcode, d, len);
}

static const struct k8c_http_stream_ops ops = {
    .on_data = on_data, .on_end = on_end, .on_close = on_close, .on_message = on_message};

static void on_request(void *arg, struct k8c_http_stream *s)
{
    k8c_http_stream_set_ops(s, &ops, K8C_NEW(struct req));
    if (strncmp(k8c_http_stream_path(s), "/ws", 3) == 0)
        k8c_http_stream_websocket(s, NULL);
}

struct client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_shutdown_t shutdown;
    uv_buf_t buf;
    bool closed;
};

static void client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    c->closed = true;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char space[65536];
    buf->base = space;
    buf->len = sizeof(space);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    if (nread < 0)
        uv_close((uv_handle_t *)st, client_closed);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
}

static void write_cb(uv_write_t *req, int status)
{
    struct client *c = req->data;
    if (status == 0)
        uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, shutdown_cb);
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct client *c = req->data;
    if (status != 0) {
        uv_close((uv_handle_t *)&c->tcp, client_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    c->write.data = c;
    uv_write(&c->write, (uv_stream_t *)&c->tcp, &c->buf, 1, write_cb);
}

static void start_server(void)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_http_server_options so = {.setup_timeout_ms = 2000};
    loop = uv_default_loop();
    server = k8c_http_server_new(loop, &so, on_request, NULL);
    if (k8c_http_server_listen(server, "127.0.0.1:0", NULL, errmsg) != 0) {
        fprintf(stderr, "listen: %s\n", errmsg);
        abort();
    }
    port = k8c_http_server_port(server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in addr;
    struct client c = {0};

    if (server == NULL)
        start_server();
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &c.tcp);
    c.tcp.data = &c;
    c.connect.data = &c;
    c.buf = uv_buf_init((char *)(size ? data : (const uint8_t *)""), (unsigned)size);
    uv_tcp_connect(&c.connect, &c.tcp, (const struct sockaddr *)&addr, connect_cb);
    while (!c.closed)
        uv_run(loop, UV_RUN_ONCE);
    /* Let the server finish closing its side. */
    while (k8c_http_server_connections(server) > 0)
        uv_run(loop, UV_RUN_ONCE);
    return 0;
}
