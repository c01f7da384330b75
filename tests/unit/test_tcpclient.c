/* Unit tests of lib/tcpclient and of lib/http's hijacked (raw) HTTP/1.1
 * connections, in one process: a k8c_http_server on 127.0.0.1 (cleartext
 * and TLS with certificates from lib/pki) and k8c_tcp connections to it on
 * the same loop. Covers plain exchanges, dial errors, close before connect,
 * bytes that follow an upgrade request, raw echo and graceful end,
 * backpressure in both directions, and TLS with and without verification.
 * Every test ends by checking that the loop closes with no handle left. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "http.h"
#include "pki.h"
#include "tcpclient.h"

#define FLOOD_BYTES (8 * 1024 * 1024)
#define FLOOD_CHUNK (64 * 1024)

struct fixture {
    uv_loop_t loop;
    struct k8c_http_server *srv;
    int port, tls_port;
    char dir[64];
    /* client side */
    struct k8c_tcp_conn *conn;
    struct k8c_sbuf got;
    int connects, closes, close_error;
    char close_why[K8C_ERRMSG_SIZE];
    bool pause_on_data;
    int writables;
    /* server side */
    struct k8c_http_stream *raw;
    int raw_closes, raw_close_error;
    size_t flood_sent;
    size_t raw_received;
    bool stall_reads; /* raw: pause the connection after the first bytes */
};

static struct fixture *fx;

/* ---- server ---- */

static void raw_echo(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct k8c_buf *b = k8c_buf_new(len);
    for (size_t i = 0; i < len; i++)
        b->data[i] = (uint8_t)toupper(data[i]);
    fx->raw_received += len;
    assert_int_equal(k8c_http_stream_raw_send(s, b), 0);
    k8c_buf_unref(b);
    if (len >= 3 && memcmp(data + len - 3, "END", 3) == 0)
        k8c_http_stream_raw_end(s);
}

static void raw_sink(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg)
{
    fx->raw_received += len;
    if (fx->stall_reads)
        k8c_http_stream_raw_pause(s, true);
}

static void raw_closed(struct k8c_http_stream *s, int error, void *arg)
{
    fx->raw_closes++;
    fx->raw_close_error = error;
    fx->raw = NULL;
}

/* Sends until the queue is above 1 MiB, then waits for on_writable. */
static void flood_more(struct k8c_http_stream *s, void *arg)
{
    static uint8_t chunk[FLOOD_CHUNK];
    memset(chunk, 'z', sizeof(chunk));
    while (fx->flood_sent < FLOOD_BYTES) {
        if (k8c_http_stream_queued(s) > 1024 * 1024) {
            k8c_http_stream_want_writable(s, 256 * 1024);
            return;
        }
        struct k8c_buf *b = k8c_buf_copy(chunk, sizeof(chunk));
        assert_int_equal(k8c_http_stream_raw_send(s, b), 0);
        k8c_buf_unref(b);
        fx->flood_sent += sizeof(chunk);
    }
    k8c_http_stream_raw_end(s);
}

static const struct k8c_http_stream_ops flood_ops = {.on_writable = flood_more};

static void on_request(void *arg, struct k8c_http_stream *s)
{
    const char *path = k8c_http_stream_path(s);
    if (strcmp(path, "/plain") == 0) {
        k8c_http_stream_reply(s, 200, "text/plain", "hello", 5);
        return;
    }
    struct k8c_http_header h[] = {{"Upgrade", "test"}, {"Connection", "Upgrade"}};
    if (strcmp(path, "/echo") == 0 || strcmp(path, "/sink") == 0 || strcmp(path, "/flood") == 0) {
        bool flood = strcmp(path, "/flood") == 0;
        if (flood)
            k8c_http_stream_set_ops(s, &flood_ops, NULL);
        assert_int_equal(k8c_http_stream_respond(s, 101, h, 2, false), 0);
        assert_int_equal(k8c_http_stream_hijack(s, strcmp(path, "/echo") == 0 ? raw_echo : raw_sink,
                                                raw_closed, NULL),
                         0);
        fx->raw = s;
        if (flood)
            flood_more(s, NULL);
        return;
    }
    k8c_http_stream_reply(s, 404, "text/plain", "no", 2);
}

/* ---- client ---- */

static void c_connect(struct k8c_tcp_conn *c, void *arg)
{
    fx->connects++;
}

static void c_data(struct k8c_tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
    k8c_sbuf_append(&fx->got, data, len);
    if (fx->pause_on_data)
        k8c_tcp_pause(c, true);
}

static void c_writable(struct k8c_tcp_conn *c, void *arg)
{
    fx->writables++;
}

static void c_close(struct k8c_tcp_conn *c, int error, const char *why, void *arg)
{
    fx->closes++;
    fx->close_error = error;
    snprintf(fx->close_why, sizeof(fx->close_why), "%s", why);
    fx->conn = NULL;
}

static const struct k8c_tcp_ops client_ops = {
    .on_connect = c_connect, .on_data = c_data, .on_writable = c_writable, .on_close = c_close};

static struct k8c_tcp_conn *dial(int port, const struct k8c_tcp_options *o)
{
    char errmsg[K8C_ERRMSG_SIZE];
    fx->conn = k8c_tcp_connect(&fx->loop, "127.0.0.1", port, o, &client_ops, NULL, errmsg);
    assert_non_null(fx->conn);
    return fx->conn;
}

/* Runs the loop until cond holds (bounded). */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        for (int i_ = 0; i_ < 200000 && !(cond); i_++)                                             \
            uv_run(&fx->loop, UV_RUN_ONCE);                                                        \
        assert_true(cond);                                                                         \
    } while (0)

static void timer_done(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void timer_closed(uv_handle_t *h)
{
    k8c_free(h);
}

/* Runs the loop for ms milliseconds of wall time. */
static void run_for(unsigned ms)
{
    bool done = false;
    uv_timer_t *t = K8C_NEW(uv_timer_t);
    uv_timer_init(&fx->loop, t);
    t->data = &done;
    uv_timer_start(t, timer_done, ms, 0);
    RUN_UNTIL(done);
    uv_close((uv_handle_t *)t, timer_closed);
}

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    signal(SIGPIPE, SIG_IGN);
    fx = K8C_NEW(struct fixture);
    uv_loop_init(&fx->loop);
    k8c_sbuf_init(&fx->got);
    fx->srv = k8c_http_server_new(&fx->loop, NULL, on_request, NULL);
    assert_int_equal(k8c_http_server_listen(fx->srv, "127.0.0.1:0", NULL, errmsg), 0);
    fx->port = k8c_http_server_port(fx->srv);
    *state = fx;
    return 0;
}

static void walk_cb(uv_handle_t *h, void *arg)
{
    fprintf(stderr, "leaked handle type=%s\n", uv_handle_type_name(h->type));
}

static void remove_dir(void)
{
    if (fx->dir[0] == '\0')
        return;
    const char *files[] = {"ca.crt",     "ca.key",       "server.crt",
                           "server.key", "other-ca.crt", "other-ca.key"};
    char path[128];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/other", fx->dir);
    char sub[160];
    snprintf(sub, sizeof(sub), "%s/ca.crt", path);
    unlink(sub);
    snprintf(sub, sizeof(sub), "%s/ca.key", path);
    unlink(sub);
    rmdir(path);
    rmdir(fx->dir);
}

static int teardown(void **state)
{
    if (fx->conn != NULL)
        k8c_tcp_close(fx->conn);
    k8c_http_server_del(fx->srv);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_walk(&fx->loop, walk_cb, NULL);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    k8c_sbuf_free(&fx->got);
    remove_dir();
    k8c_free(fx);
    return 0;
}

static void test_plain_exchange(void **state)
{
    struct k8c_tcp_conn *c = dial(fx->port, NULL);
    const char req[] = "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    /* queued until connected */
    assert_int_equal(k8c_tcp_send(c, req, sizeof(req) - 1), 0);
    assert_int_equal(k8c_tcp_queued(c), sizeof(req) - 1);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fx->port);
    assert_string_equal(k8c_tcp_address(c), addr);
    RUN_UNTIL(fx->closes == 1);
    assert_int_equal(fx->connects, 1);
    assert_int_equal(fx->close_error, 0);
    assert_non_null(strstr(fx->got.data, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(fx->got.data, "\r\n\r\nhello"));
}

static void test_dial_refused(void **state)
{
    /* a port nobody listens on: bind one, learn it, close it */
    uv_tcp_t t;
    struct sockaddr_in a;
    int len = sizeof(a);
    uv_tcp_init(&fx->loop, &t);
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&t, (const struct sockaddr *)&a, 0), 0);
    uv_tcp_getsockname(&t, (struct sockaddr *)&a, &len);
    int port = ntohs(a.sin_port);
    uv_close((uv_handle_t *)&t, NULL);
    dial(port, NULL);
    RUN_UNTIL(fx->closes == 1);
    assert_int_equal(fx->connects, 0);
    assert_int_equal(fx->close_error, UV_ECONNREFUSED);
    char want[128];
    snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
    assert_string_equal(fx->close_why, want);
}

static void test_close_before_connect(void **state)
{
    struct k8c_tcp_conn *c = dial(fx->port, NULL);
    k8c_tcp_send(c, "x", 1);
    k8c_tcp_close(c);
    assert_int_equal(fx->closes, 0); /* reported from the loop, not from inside close */
    assert_int_equal(k8c_tcp_send(c, "y", 1), K8C_ECLOSED);
    RUN_UNTIL(fx->closes == 1);
    assert_int_equal(fx->close_error, K8C_ECANCELED);
    assert_int_equal(fx->connects, 0);
}

static void test_hijack_echo(void **state)
{
    struct k8c_tcp_conn *c = dial(fx->port, NULL);
    /* raw bytes right behind the request head, in the same write */
    const char req[] = "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: test\r\n"
                       "\r\nabc";
    k8c_tcp_send(c, req, sizeof(req) - 1);
    RUN_UNTIL(fx->got.len > 0 && strstr(fx->got.data, "ABC") != NULL);
    assert_non_null(strstr(fx->got.data, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(fx->got.data, "\r\n\r\nABC"));
    assert_null(strstr(fx->got.data, "Transfer-Encoding")); /* raw, not chunked */
    k8c_tcp_send(c, "def", 3);
    RUN_UNTIL(strstr(fx->got.data, "ABCDEF") != NULL);
    k8c_tcp_send(c, "END", 3);
    RUN_UNTIL(fx->closes == 1 && fx->raw_closes == 1);
    assert_int_equal(fx->close_error, 0);     /* the server closed after writing */
    assert_int_equal(fx->raw_close_error, 0); /* raw_end: a clean end */
    assert_non_null(strstr(fx->got.data, "ABCDEFEND"));
    assert_int_equal(fx->raw_received, 9);
}

static void test_hijack_backpressure_to_client(void **state)
{
    struct k8c_tcp_conn *c = dial(fx->port, NULL);
    const char req[] =
        "GET /flood HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n";
    fx->pause_on_data = true; /* the client stops reading at the first bytes */
    k8c_tcp_send(c, req, sizeof(req) - 1);
    RUN_UNTIL(fx->got.len > 0);
    run_for(300);
    /* The server stopped at its high-water mark plus what the kernel holds. */
    assert_true(fx->flood_sent < FLOOD_BYTES);
    assert_true(fx->got.len < FLOOD_BYTES / 2);
    fx->pause_on_data = false;
    k8c_tcp_pause(c, false);
    RUN_UNTIL(fx->closes == 1);
    assert_int_equal(fx->close_error, 0);
    assert_int_equal(fx->flood_sent, FLOOD_BYTES);
    const char *body = strstr(fx->got.data, "\r\n\r\n");
    assert_non_null(body);
    assert_int_equal(fx->got.len - (size_t)(body + 4 - fx->got.data), FLOOD_BYTES);
    RUN_UNTIL(fx->raw_closes == 1);
}

static void test_hijack_backpressure_to_server(void **state)
{
    struct k8c_tcp_conn *c = dial(fx->port, NULL);
    const char req[] =
        "GET /sink HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n";
    k8c_tcp_send(c, req, sizeof(req) - 1);
    RUN_UNTIL(fx->raw != NULL && fx->got.len > 0);
    fx->stall_reads = true; /* the server pauses at the first bytes */
    static uint8_t chunk[FLOOD_CHUNK];
    for (int i = 0; i < FLOOD_BYTES / FLOOD_CHUNK; i++)
        assert_int_equal(k8c_tcp_send(c, chunk, sizeof(chunk)), 0);
    k8c_tcp_want_writable(c, 0);
    run_for(300);
    assert_true(fx->raw_received < FLOOD_BYTES / 2);
    assert_true(k8c_tcp_queued(c) > 0);
    assert_int_equal(fx->writables, 0);
    fx->stall_reads = false;
    k8c_http_stream_raw_pause(fx->raw, false);
    RUN_UNTIL(fx->raw_received == FLOOD_BYTES && fx->writables == 1);
    assert_int_equal(k8c_tcp_queued(c), 0);
    k8c_tcp_close_after_write(c);
    RUN_UNTIL(fx->closes == 1 && fx->raw_closes == 1);
    assert_int_equal(fx->close_error, 0);
}

static void make_tls_listener(void)
{
    char errmsg[K8C_ERRMSG_SIZE];
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/k8c-tcp-test.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(k8c_pki_ensure_ca(fx->dir, "test-ca", errmsg), 0);
    const char *ips[] = {"127.0.0.1", NULL};
    struct k8c_pki_cert_spec spec = {
        .name = "server", .common_name = "kubelet", .ips = ips, .usage = K8C_PKI_SERVER};
    assert_int_equal(k8c_pki_issue(fx->dir, &spec, errmsg), 0);
    char cert[128], key[128];
    snprintf(cert, sizeof(cert), "%s/server.crt", fx->dir);
    snprintf(key, sizeof(key), "%s/server.key", fx->dir);
    struct k8c_http_listen_options lo = {.cert_file = cert, .key_file = key, .http1_only = true};
    assert_int_equal(k8c_http_server_listen(fx->srv, "127.0.0.1:0", &lo, errmsg), 0);
    fx->tls_port = k8c_http_server_port(fx->srv);
}

static void tls_get(const struct k8c_tcp_options *o)
{
    struct k8c_tcp_conn *c = dial(fx->tls_port, o);
    const char req[] = "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    k8c_tcp_send(c, req, sizeof(req) - 1);
    RUN_UNTIL(fx->closes == 1);
}

static void test_tls_without_verification(void **state)
{
    make_tls_listener();
    struct k8c_tcp_options o = {.tls = true, .alpn = "http/1.1"};
    tls_get(&o);
    assert_int_equal(fx->connects, 1);
    assert_int_equal(fx->close_error, 0);
    assert_non_null(strstr(fx->got.data, "\r\n\r\nhello"));
}

static void test_tls_verified(void **state)
{
    make_tls_listener();
    char ca[128];
    snprintf(ca, sizeof(ca), "%s/ca.crt", fx->dir);
    struct k8c_tcp_options o = {.tls = true, .ca_file = ca};
    tls_get(&o);
    assert_int_equal(fx->close_error, 0);
    assert_non_null(strstr(fx->got.data, "\r\n\r\nhello"));
}

static void test_tls_wrong_ca(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE], other[160], ca[200];
    make_tls_listener();
    snprintf(other, sizeof(other), "%s/other", fx->dir);
    assert_int_equal(k8c_pki_ensure_ca(other, "another-ca", errmsg), 0);
    snprintf(ca, sizeof(ca), "%s/ca.crt", other);
    struct k8c_tcp_options o = {.tls = true, .ca_file = ca};
    tls_get(&o);
    assert_int_equal(fx->connects, 0);
    assert_int_equal(fx->close_error, K8C_ETLS);
    assert_non_null(strstr(fx->close_why, "tls: failed to verify certificate"));
    /* a missing CA file is refused up front */
    struct k8c_tcp_options bad = {.tls = true, .ca_file = "/nonexistent/ca.crt"};
    assert_null(
        k8c_tcp_connect(&fx->loop, "127.0.0.1", fx->tls_port, &bad, &client_ops, NULL, errmsg));
    assert_non_null(strstr(errmsg, "loading CA from /nonexistent/ca.crt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dial_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_before_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hijack_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hijack_backpressure_to_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hijack_backpressure_to_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_without_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_wrong_ca, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
