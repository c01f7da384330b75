/* Unit tests of lib/grpc in one process: our client and server on one loop over
 * 127.0.0.1 with raw-bytes methods. Covers registration rules, metadata,
 * backpressure limits, errors, and shutdown with calls still open; every test
 * ends by checking that the loop closes with no handle left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "grpc.h"

/* A peer that accepts connections and then never reads or answers, as a
 * stopped process does (the kernel completes the handshake for it). */
struct mute_peer {
    uv_tcp_t listener, conn;
    bool listening, accepted;
    int port;
    int closing;
};

struct fixture {
    uv_loop_t loop;
    struct k8c_grpc_server *srv;
    struct k8c_grpc_channel *ch;
    char target[64];
    /* results */
    int done_status;
    char done_message[256];
    int done_calls;
    bool done_unsent;
    int messages;
    char last[256];
    /* server side */
    struct k8c_grpc_call *held;
    int cancels;
    int busy_at;         /* bytes sent when send() first returned K8C_EBUSY */
    char park_order[16]; /* x-n of the parked calls, in the order they were cancelled */
    bool saw_unwritable;
    struct mute_peer mute; /* open while mute.listening (teardown closes it) */
};

static struct fixture *fx;

static void echo_raw(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    const char *token = k8c_grpc_call_metadata(call, "x-token");
    char out[300];
    snprintf(out, sizeof(out), "%.*s|%s", (int)msg->len, (const char *)msg->data,
             token ? token : "-");
    assert_null(msg->pb);
    assert_int_equal(k8c_grpc_call_send_bytes(call, out, strlen(out)), 0);
    /* A unary method has one response. */
    assert_int_equal(k8c_grpc_call_send_bytes(call, "x", 1), K8C_EINVAL);
    assert_int_equal(k8c_grpc_call_finish(call, 0, NULL), 0);
}

static void hold_start(struct k8c_grpc_call *call, void *arg)
{
    fx->held = call;
}

static void hold_message(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    k8c_grpc_call_send_bytes(call, msg->data, msg->len);
}

static void hold_end(struct k8c_grpc_call *call, void *arg)
{
    fx->held = NULL;
    k8c_grpc_call_finish(call, 0, NULL);
}

static void hold_cancel(struct k8c_grpc_call *call, void *arg)
{
    fx->cancels++;
    assert_true(k8c_grpc_call_cancelled(call));
    assert_ptr_equal(call, fx->held);
    fx->held = NULL;
    assert_int_equal(k8c_grpc_call_finish(call, 0, NULL), K8C_ECANCELED);
}

/* Park: a bidi call that ends only by half-close or by its deadline. */
static void park_start(struct k8c_grpc_call *call, void *arg)
{
}

static void park_message(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
}

static void park_end(struct k8c_grpc_call *call, void *arg)
{
    assert_int_equal(k8c_grpc_call_finish(call, 0, NULL), 0);
}

static void park_cancel(struct k8c_grpc_call *call, void *arg)
{
    const char *n = k8c_grpc_call_metadata(call, "x-n");
    size_t len = strlen(fx->park_order);
    if (n != NULL && len + 1 < sizeof(fx->park_order))
        fx->park_order[len] = n[0];
    assert_int_equal(k8c_grpc_call_finish(call, 0, NULL), K8C_ECANCELED);
}

/* Server streaming that ignores writable(): must hit the hard limit. */
static void flood(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    static uint8_t chunk[16384];
    int sent = 0;
    for (int i = 0; i < 1000; i++) {
        if (!k8c_grpc_call_writable(call))
            fx->saw_unwritable = true;
        int rc = k8c_grpc_call_send_bytes(call, chunk, sizeof(chunk));
        if (rc == K8C_EBUSY) {
            fx->busy_at = sent;
            break;
        }
        assert_int_equal(rc, 0);
        sent += (int)sizeof(chunk);
    }
    k8c_grpc_call_finish(call, K8C_GRPC_ABORTED, "flooded");
}

static void client_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                           void *arg)
{
    fx->messages++;
    snprintf(fx->last, sizeof(fx->last), "%.*s", (int)msg->len, (const char *)msg->data);
}

static void client_done(struct k8c_grpc_client_call *call, int status, const char *message,
                        void *arg)
{
    fx->done_calls++;
    fx->done_unsent = k8c_grpc_client_call_unsent(call);
    fx->done_status = status;
    snprintf(fx->done_message, sizeof(fx->done_message), "%s", message);
}

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    signal(SIGPIPE, SIG_IGN);
    fx = K8C_NEW(struct fixture);
    uv_loop_init(&fx->loop);
    struct k8c_grpc_server_options o = {.send_high_water = 64 * 1024};
    fx->srv = k8c_grpc_server_new(&fx->loop, &o);
    const struct k8c_grpc_method methods[] = {
        {"/t.S/Echo", K8C_GRPC_UNARY, .on_request = echo_raw},
        {"/t.S/Hold", K8C_GRPC_BIDI_STREAMING, .on_start = hold_start, .on_message = hold_message,
         .on_half_close = hold_end, .on_cancel = hold_cancel},
        {"/t.S/Flood", K8C_GRPC_SERVER_STREAMING, .on_request = flood},
        {"/t.S/Park", K8C_GRPC_BIDI_STREAMING, .on_start = park_start, .on_message = park_message,
         .on_half_close = park_end, .on_cancel = park_cancel},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        assert_int_equal(k8c_grpc_server_register(fx->srv, &methods[i]), 0);
    assert_int_equal(k8c_grpc_server_listen(fx->srv, "127.0.0.1:0", NULL, errmsg), 0);
    snprintf(fx->target, sizeof(fx->target), "127.0.0.1:%d", k8c_grpc_server_port(fx->srv));
    fx->ch = k8c_grpc_channel_new(&fx->loop, fx->target, NULL, errmsg);
    assert_non_null(fx->ch);
    *state = fx;
    return 0;
}

static void walk_cb(uv_handle_t *h, void *arg)
{
    fprintf(stderr, "leaked handle type=%s\n", uv_handle_type_name(h->type));
}

static void mute_stop(struct mute_peer *m);

static int teardown(void **state)
{
    mute_stop(&fx->mute); /* a test that failed half-way left it open */
    if (fx->ch)
        k8c_grpc_channel_del(fx->ch);
    if (fx->srv)
        k8c_grpc_server_del(fx->srv);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_walk(&fx->loop, walk_cb, NULL);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    k8c_free(fx);
    return 0;
}

static struct k8c_grpc_client_call *start(const char *path, int64_t timeout_ms,
                                          const char *const *md)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_grpc_call_options o = {.path = path,
                                      .timeout_ms = timeout_ms,
                                      .on_message = client_message,
                                      .on_done = client_done,
                                      .metadata = md};
    struct k8c_grpc_client_call *c = k8c_grpc_channel_call(fx->ch, &o, errmsg);
    assert_non_null(c);
    return c;
}

/* Runs the loop until the wanted number of calls completed (bounded). */
static void run_until_done(int calls)
{
    for (int i = 0; i < 100000 && fx->done_calls < calls; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(fx->done_calls, calls);
}

static void test_register_rules(void **state)
{
    struct k8c_grpc_method m = {"/t.S/Echo", K8C_GRPC_UNARY, .on_request = echo_raw};
    assert_int_equal(k8c_grpc_server_register(fx->srv, &m), K8C_EEXIST);
    const char *bad[] = {"t.S/X", "/t.S", "/t.S/", "//X", "/a/b/c"};
    for (size_t i = 0; i < 5; i++) {
        m.path = bad[i];
        assert_int_equal(k8c_grpc_server_register(fx->srv, &m), K8C_EINVAL);
    }
    struct k8c_grpc_method nocb = {"/t.S/Bidi", K8C_GRPC_BIDI_STREAMING};
    assert_int_equal(k8c_grpc_server_register(fx->srv, &nocb), K8C_EINVAL);
    char errmsg[K8C_ERRMSG_SIZE];
    assert_null(k8c_grpc_channel_new(&fx->loop, "no-port", NULL, errmsg));
    assert_non_null(strstr(errmsg, "invalid target"));
    assert_int_not_equal(k8c_grpc_server_listen(fx->srv, "localhost:0", NULL, errmsg), 0);
}

static void test_unary_raw_with_metadata(void **state)
{
    const char *md[] = {"x-token", "abc", NULL};
    struct k8c_grpc_client_call *c = start("/t.S/Echo", 5000, md);
    assert_int_equal(k8c_grpc_client_call_send_bytes(c, "ping", 4), 0);
    /* Not connected yet: the framed message waits in the call's queue. */
    assert_int_equal(k8c_grpc_client_call_queued(c), 9);
    assert_int_equal(k8c_grpc_client_call_close_send(c), 0);
    assert_int_equal(k8c_grpc_client_call_send_bytes(c, "late", 4), K8C_EINVAL);
    run_until_done(1);
    assert_int_equal(fx->done_status, 0);
    assert_int_equal(fx->messages, 1);
    assert_string_equal(fx->last, "ping|abc");
}

static void test_unary_without_request(void **state)
{
    struct k8c_grpc_client_call *c = start("/t.S/Echo", 5000, NULL);
    k8c_grpc_client_call_close_send(c);
    run_until_done(1);
    assert_int_equal(fx->done_status, K8C_GRPC_INTERNAL);
    assert_non_null(strstr(fx->done_message, "no request message"));
}

static void test_backpressure_hard_limit(void **state)
{
    struct k8c_grpc_client_call *c = start("/t.S/Flood", 5000, NULL);
    k8c_grpc_client_call_send_bytes(c, "", 0);
    k8c_grpc_client_call_close_send(c);
    run_until_done(1);
    /* high water 64 KiB: writable() turned false, sends failed past 4x (256 KiB). */
    assert_true(fx->saw_unwritable);
    assert_true(fx->busy_at >= 256 * 1024 - 16384 && fx->busy_at <= 256 * 1024 + 16384);
    assert_int_equal(fx->done_status, K8C_GRPC_ABORTED);
    assert_string_equal(fx->done_message, "flooded");
}

static void test_client_cancel_reaches_server(void **state)
{
    struct k8c_grpc_client_call *c = start("/t.S/Hold", 0, NULL);
    k8c_grpc_client_call_send_bytes(c, "one", 3);
    for (int i = 0; i < 100000 && fx->messages < 1; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_string_equal(fx->last, "one");
    assert_non_null(fx->held);
    k8c_grpc_client_call_cancel(c);
    assert_int_equal(fx->done_calls, 0); /* never from inside cancel() */
    run_until_done(1);
    assert_int_equal(fx->done_status, K8C_GRPC_CANCELLED);
    for (int i = 0; i < 100000 && fx->cancels < 1; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(fx->cancels, 1);
    assert_null(fx->held);
}

static void test_deadline(void **state)
{
    uint64_t t0 = uv_now(&fx->loop);
    struct k8c_grpc_client_call *c = start("/t.S/Hold", 150, NULL);
    k8c_grpc_client_call_send_bytes(c, "x", 1);
    run_until_done(1);
    assert_int_equal(fx->done_status, K8C_GRPC_DEADLINE_EXCEEDED);
    assert_true(uv_now(&fx->loop) - t0 >= 140);
    for (int i = 0; i < 100000 && fx->cancels < 1; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(fx->cancels, 1);
}

/* The server's own deadlines (grpc-timeout sent as metadata, so the client
 * keeps no timer of its own): calls started out of deadline order end in
 * deadline order, and one that ends first leaves the heap. */
static void test_server_deadline_order(void **state)
{
    static const char *const md[][5] = {
        {"grpc-timeout", "400m", "x-n", "a", NULL}, {"grpc-timeout", "100m", "x-n", "b", NULL},
        {"grpc-timeout", "300m", "x-n", "c", NULL}, {"grpc-timeout", "250m", "x-n", "e", NULL},
        {"grpc-timeout", "200m", "x-n", "d", NULL},
    };
    uint64_t t0 = uv_now(&fx->loop);
    for (size_t i = 0; i < 5; i++) {
        struct k8c_grpc_client_call *c = start("/t.S/Park", 0, md[i]);
        if (md[i][3][0] == 'e')
            assert_int_equal(k8c_grpc_client_call_close_send(c), 0);
    }
    run_until_done(1); /* e: its half-close ends it at once */
    assert_int_equal(fx->done_status, K8C_GRPC_OK);
    assert_true(uv_now(&fx->loop) - t0 < 100);
    run_until_done(5);
    assert_string_equal(fx->park_order, "bdca");
    assert_int_equal(fx->done_status, K8C_GRPC_DEADLINE_EXCEEDED);
    assert_string_equal(fx->done_message, "context deadline exceeded");
    assert_true(uv_now(&fx->loop) - t0 >= 390);
}

static void test_server_shutdown_with_open_call(void **state)
{
    struct k8c_grpc_client_call *c = start("/t.S/Hold", 0, NULL);
    k8c_grpc_client_call_send_bytes(c, "one", 3);
    for (int i = 0; i < 100000 && fx->held == NULL; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_non_null(fx->held);
    k8c_grpc_server_del(fx->srv);
    fx->srv = NULL;
    assert_int_equal(fx->cancels, 1);
    run_until_done(1);
    assert_true(fx->done_status == K8C_GRPC_UNAVAILABLE || fx->done_status == K8C_GRPC_CANCELLED);
}

static void test_channel_del_with_open_call(void **state)
{
    struct k8c_grpc_client_call *c = start("/t.S/Hold", 0, NULL);
    k8c_grpc_client_call_send_bytes(c, "one", 3);
    for (int i = 0; i < 100000 && fx->held == NULL; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    k8c_grpc_channel_del(fx->ch);
    fx->ch = NULL;
    assert_int_equal(fx->done_calls, 1);
    assert_int_equal(fx->done_status, K8C_GRPC_CANCELLED);
    for (int i = 0; i < 100000 && fx->cancels < 1; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(fx->cancels, 1);
}

static void mute_accept(uv_stream_t *l, int status)
{
    struct mute_peer *m = l->data;
    assert_int_equal(status, 0);
    assert_false(m->accepted);
    uv_tcp_init(l->loop, &m->conn);
    assert_int_equal(uv_accept(l, (uv_stream_t *)&m->conn), 0);
    m->accepted = true;
}

static void mute_start(struct mute_peer *m)
{
    struct sockaddr_in sa;
    struct sockaddr_storage name;
    int len = sizeof(name);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&fx->loop, &m->listener);
    m->listener.data = m;
    assert_int_equal(uv_tcp_bind(&m->listener, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&m->listener, 8, mute_accept), 0);
    uv_tcp_getsockname(&m->listener, (struct sockaddr *)&name, &len);
    m->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
    m->listening = true;
}

static void mute_closed(uv_handle_t *h)
{
    ((struct mute_peer *)h->data)->closing--;
}

static void mute_stop(struct mute_peer *m)
{
    if (!m->listening)
        return;
    m->listening = false;
    m->listener.data = m;
    m->closing++;
    uv_close((uv_handle_t *)&m->listener, mute_closed);
    if (m->accepted) {
        m->conn.data = m;
        m->closing++;
        uv_close((uv_handle_t *)&m->conn, mute_closed);
    }
    for (int i = 0; i < 1000 && m->closing > 0; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(m->closing, 0);
}

/* The fixture's channel replaced by one to port with keepalive_ms. */
static void channel_to(int port, unsigned keepalive_ms)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_grpc_channel_options co = {.keepalive_ms = keepalive_ms};
    k8c_grpc_channel_del(fx->ch);
    snprintf(fx->target, sizeof(fx->target), "127.0.0.1:%d", port);
    fx->ch = k8c_grpc_channel_new(&fx->loop, fx->target, &co, errmsg);
    assert_non_null(fx->ch);
}

/* A call to a peer that hangs fails UNAVAILABLE once its keepalive PING goes
 * unanswered, where without keepalive it would wait for its deadline; the
 * request did reach the connection, so it is not "unsent". */
static void test_keepalive_hung_peer(void **state)
{
    struct mute_peer *m = &fx->mute;
    mute_start(m);
    channel_to(m->port, 100);
    uint64_t t0 = uv_now(&fx->loop);
    struct k8c_grpc_client_call *c = start("/t.S/Park", 5000, NULL); /* without keepalive */
    k8c_grpc_client_call_send_bytes(c, "x", 1);
    run_until_done(1);
    assert_int_equal(fx->done_status, K8C_GRPC_UNAVAILABLE);
    assert_non_null(strstr(fx->done_message, "keepalive ping unanswered"));
    assert_false(fx->done_unsent);
    assert_true(m->accepted);
    /* silence for 100 ms, then the PING unanswered for 100 ms */
    assert_true(uv_now(&fx->loop) - t0 >= 200);
}

static void timer_done(uv_timer_t *t)
{
}

/* Keepalive on a live connection: an idle call outlives many periods (the
 * server answers each PING) and then ends normally. */
static void test_keepalive_live_peer(void **state)
{
    uv_timer_t t;
    channel_to(k8c_grpc_server_port(fx->srv), 40);
    struct k8c_grpc_client_call *c = start("/t.S/Park", 0, NULL);
    k8c_grpc_client_call_send_bytes(c, "x", 1);
    uv_timer_init(&fx->loop, &t);
    uv_timer_start(&t, timer_done, 600, 0);
    while (uv_is_active((uv_handle_t *)&t))
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    assert_int_equal(fx->done_calls, 0);
    assert_int_equal(k8c_grpc_client_call_close_send(c), 0);
    run_until_done(1);
    assert_int_equal(fx->done_status, K8C_GRPC_OK);
}

/* Nothing listens: the call fails UNAVAILABLE and is known unsent (safe to
 * send again, even a write). */
static void test_unsent_when_refused(void **state)
{
    mute_start(&fx->mute);
    int port = fx->mute.port;
    mute_stop(&fx->mute);
    channel_to(port, 0);
    struct k8c_grpc_client_call *c = start("/t.S/Echo", 5000, NULL);
    k8c_grpc_client_call_send_bytes(c, "x", 1);
    k8c_grpc_client_call_close_send(c);
    run_until_done(1);
    assert_int_equal(fx->done_status, K8C_GRPC_UNAVAILABLE);
    assert_non_null(strstr(fx->done_message, "connection refused"));
    assert_true(fx->done_unsent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_raw_with_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_without_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_hard_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_cancel_reaches_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_deadline_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_shutdown_with_open_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_del_with_open_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_hung_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_live_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsent_when_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
