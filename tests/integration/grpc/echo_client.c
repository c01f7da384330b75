/*
 * k8c-grpc-echo-client: drives lib/grpc's client against a k8c.test.Echo
 * server (the grpcio one in py_echo_server.py): unary, errors, deadline,
 * server/client/bidi streaming, cancellation, concurrency, large messages,
 * unknown methods. Scenarios run one after another on one channel; each
 * prints "ok"/"FAIL"; the exit status is non-zero if any failed.
 *
 *   k8c-grpc-echo-client --target=127.0.0.1:PORT | unix:/path [--ca= --cert= --key=]
 *                        [--only-unary]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "flags.h"
#include "grpc.h"
#include "log.h"
#include "test/echo.pb-c.h"

#define UNARY         "/k8c.test.Echo/Unary"
#define SERVER_STREAM "/k8c.test.Echo/ServerStream"
#define CLIENT_STREAM "/k8c.test.Echo/ClientStream"
#define BIDI          "/k8c.test.Echo/Bidi"

static uv_loop_t *loop;
static struct k8c_grpc_channel *channel;
static int passed, failed;
static size_t scenario;
static uint64_t started_ms;
static uv_timer_t timer;
static bool only_unary;

static void next_scenario(void);

static void check(const char *name, bool ok, const char *detail)
{
    if (ok) {
        passed++;
        printf("ok   %s\n", name);
    } else {
        failed++;
        printf("FAIL %s %s\n", name, detail ? detail : "");
    }
    fflush(stdout);
}

static void next_later_cb(uv_timer_t *t)
{
    next_scenario();
}

/* Runs the next scenario from the loop (never from inside a callback chain). */
static void advance(void)
{
    uv_timer_start(&timer, next_later_cb, 0, 0);
}

static char *status_detail(int status, const char *message)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "status=%s message=\"%s\"", k8c_grpc_status_name(status),
             message ? message : "");
    return buf;
}

/* ---- unary ---- */

static void unary_done(int status, const char *message, const ProtobufCMessage *resp, void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)resp;
    bool ok = status == 0 && r != NULL && strcmp(r->message, "hello") == 0 && r->payload.len == 3 &&
              memcmp(r->payload.data, "\x00\x01\xff", 3) == 0;
    check("unary", ok, status_detail(status, message));
    if (only_unary && status != 0)
        printf("call failed: %s\n", status_detail(status, message));
    advance();
}

static void run_unary(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    req.message = "hello";
    req.payload.data = (uint8_t *)"\x00\x01\xff";
    req.payload.len = 3;
    k8c_grpc_unary(channel, UNARY, &req.base, &k8c__test__echo_reply__descriptor, 10000, unary_done,
                   NULL);
}

static const char error_text[] = "no such thing: caf\xc3\xa9 100%\nline2";

static void error_done(int status, const char *message, const ProtobufCMessage *resp, void *arg)
{
    check("error status NOT_FOUND with decoded message",
          status == K8C_GRPC_NOT_FOUND && strcmp(message, error_text) == 0 && resp == NULL,
          status_detail(status, message));
    advance();
}

static void run_error(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    req.message = (char *)error_text;
    req.fail_code = K8C_GRPC_NOT_FOUND;
    k8c_grpc_unary(channel, UNARY, &req.base, &k8c__test__echo_reply__descriptor, 10000, error_done,
                   NULL);
}

static void deadline_done(int status, const char *message, const ProtobufCMessage *resp, void *arg)
{
    uint64_t elapsed = uv_now(loop) - started_ms;
    char detail[600];
    snprintf(detail, sizeof(detail), "%s elapsed=%llums", status_detail(status, message),
             (unsigned long long)elapsed);
    check("deadline exceeded",
          status == K8C_GRPC_DEADLINE_EXCEEDED && elapsed >= 250 && elapsed < 1500, detail);
    advance();
}

static void run_deadline(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    req.message = "slow";
    req.count = 2000; /* the server sleeps 2 s */
    uv_update_time(loop);
    started_ms = uv_now(loop);
    k8c_grpc_unary(channel, UNARY, &req.base, &k8c__test__echo_reply__descriptor, 300,
                   deadline_done, NULL);
}

static void unimplemented_done(int status, const char *message, const ProtobufCMessage *resp,
                               void *arg)
{
    check("unknown method -> UNIMPLEMENTED", status == K8C_GRPC_UNIMPLEMENTED,
          status_detail(status, message));
    advance();
}

static void run_unimplemented(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    k8c_grpc_unary(channel, "/k8c.test.Echo/Nope", &req.base, &k8c__test__echo_reply__descriptor,
                   10000, unimplemented_done, NULL);
}

/* ---- large and concurrent unary ---- */

static uint8_t *big_payload;
#define BIG_SIZE (1024 * 1024)

static void big_done(int status, const char *message, const ProtobufCMessage *resp, void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)resp;
    check("unary 1 MiB payload",
          status == 0 && r && r->payload.len == BIG_SIZE &&
              memcmp(r->payload.data, big_payload, BIG_SIZE) == 0,
          status_detail(status, message));
    k8c_free(big_payload);
    advance();
}

static void run_big(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    big_payload = k8c_malloc(BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++)
        big_payload[i] = (uint8_t)(i * 7 + (i >> 8));
    req.message = "big";
    req.payload.data = big_payload;
    req.payload.len = BIG_SIZE;
    k8c_grpc_unary(channel, UNARY, &req.base, &k8c__test__echo_reply__descriptor, 20000, big_done,
                   NULL);
}

#define CONCURRENT 100
static int concurrent_left, concurrent_good;

static void concurrent_done(int status, const char *message, const ProtobufCMessage *resp,
                            void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)resp;
    char want[32];
    snprintf(want, sizeof(want), "m%d", (int)(intptr_t)arg);
    if (status == 0 && r && strcmp(r->message, want) == 0)
        concurrent_good++;
    if (--concurrent_left == 0) {
        char detail[64];
        snprintf(detail, sizeof(detail), "good=%d", concurrent_good);
        check("100 concurrent unary calls", concurrent_good == CONCURRENT, detail);
        advance();
    }
}

static void run_concurrent(void)
{
    concurrent_left = CONCURRENT;
    for (int i = 0; i < CONCURRENT; i++) {
        K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
        char msg[32];
        snprintf(msg, sizeof(msg), "m%d", i);
        req.message = msg;
        k8c_grpc_unary(channel, UNARY, &req.base, &k8c__test__echo_reply__descriptor, 20000,
                       concurrent_done, (void *)(intptr_t)i);
    }
}

/* ---- streaming ---- */

struct stream_state {
    const char *name;
    int received;
    bool in_order;
    int want;
    char text[256];
    struct k8c_grpc_client_call *call;
};
static struct stream_state st;

static void stream_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                           void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)msg->pb;
    if (r->index != st.received)
        st.in_order = false;
    st.received++;
    snprintf(st.text, sizeof(st.text), "%s", r->message);
}

static void server_stream_done(struct k8c_grpc_client_call *call, int status, const char *message,
                               void *arg)
{
    char detail[600];
    snprintf(detail, sizeof(detail), "%s received=%d", status_detail(status, message), st.received);
    check("server stream 500 replies", status == 0 && st.received == 500 && st.in_order, detail);
    advance();
}

static struct k8c_grpc_client_call *start(const char *path, k8c_grpc_client_message_fn on_message,
                                          k8c_grpc_client_done_fn on_done, int64_t timeout_ms)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_grpc_call_options o = {
        .path = path,
        .response = &k8c__test__echo_reply__descriptor,
        .timeout_ms = timeout_ms,
        .on_message = on_message,
        .on_done = on_done,
    };
    struct k8c_grpc_client_call *c = k8c_grpc_channel_call(channel, &o, errmsg);
    if (c == NULL) {
        fprintf(stderr, "call failed to start: %s\n", errmsg);
        exit(1);
    }
    memset(&st, 0, sizeof(st));
    st.in_order = true;
    st.call = c;
    return c;
}

static void run_server_stream(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    struct k8c_grpc_client_call *c =
        start(SERVER_STREAM, stream_message, server_stream_done, 30000);
    req.message = "s";
    req.count = 500;
    k8c_grpc_client_call_send(c, &req.base);
    k8c_grpc_client_call_close_send(c);
}

static void client_stream_done(struct k8c_grpc_client_call *call, int status, const char *message,
                               void *arg)
{
    check("client stream", status == 0 && st.received == 1 && strcmp(st.text, "abcdefghij") == 0,
          status_detail(status, message));
    advance();
}

static void client_stream_message(struct k8c_grpc_client_call *call,
                                  const struct k8c_grpc_message *msg, void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)msg->pb;
    st.received++;
    if (r->index == 10)
        snprintf(st.text, sizeof(st.text), "%s", r->message);
}

static void run_client_stream(void)
{
    struct k8c_grpc_client_call *c =
        start(CLIENT_STREAM, client_stream_message, client_stream_done, 10000);
    for (char ch = 'a'; ch <= 'j'; ch++) {
        K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
        char m[2] = {ch, 0};
        req.message = m;
        k8c_grpc_client_call_send(c, &req.base);
    }
    k8c_grpc_client_call_close_send(c);
}

/* Bidi ping-pong: the next request is sent only after the previous reply came. */
static void bidi_send(struct k8c_grpc_client_call *c, int i)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    char m[16];
    snprintf(m, sizeof(m), "b%d", i);
    req.message = m;
    k8c_grpc_client_call_send(c, &req.base);
}

static void bidi_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                         void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)msg->pb;
    char want[16];
    snprintf(want, sizeof(want), "b%d", st.received);
    if (strcmp(r->message, want) != 0 || r->index != st.received)
        st.in_order = false;
    st.received++;
    if (st.received < 20)
        bidi_send(call, st.received);
    else
        k8c_grpc_client_call_close_send(call);
}

static void bidi_done(struct k8c_grpc_client_call *call, int status, const char *message, void *arg)
{
    char detail[600];
    snprintf(detail, sizeof(detail), "%s received=%d", status_detail(status, message), st.received);
    check("bidi ping-pong 20", status == 0 && st.received == 20 && st.in_order, detail);
    advance();
}

static void run_bidi(void)
{
    struct k8c_grpc_client_call *c = start(BIDI, bidi_message, bidi_done, 20000);
    bidi_send(c, 0);
}

/* ---- cancellation ---- */

static int stats_before = -1, stats_polls;

static void cancel_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                           void *arg)
{
    st.received++;
    if (st.received == 1)
        k8c_grpc_client_call_cancel(call);
}

static void run_stats(void);

static void stats_timer_cb(uv_timer_t *t)
{
    run_stats();
}

static void cancel_done(struct k8c_grpc_client_call *call, int status, const char *message,
                        void *arg)
{
    check("client cancel -> CANCELLED locally", status == K8C_GRPC_CANCELLED && st.received >= 1,
          status_detail(status, message));
    run_stats();
}

static void stats_done(int status, const char *message, const ProtobufCMessage *resp, void *arg)
{
    const K8c__Test__EchoReply *r = (const K8c__Test__EchoReply *)resp;
    if (status != 0 || r == NULL) {
        check("stats call", false, status_detail(status, message));
        advance();
        return;
    }
    if (stats_before < 0) {
        /* First poll: remember the count, then start the stream to cancel. */
        stats_before = r->index;
        K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
        struct k8c_grpc_client_call *c = start(SERVER_STREAM, cancel_message, cancel_done, 30000);
        req.message = "slow";
        req.count = 1000;
        k8c_grpc_client_call_send(c, &req.base);
        k8c_grpc_client_call_close_send(c);
        return;
    }
    if (r->index > stats_before || ++stats_polls > 60) {
        check("server saw the cancellation", r->index > stats_before, "count did not grow");
        advance();
        return;
    }
    uv_timer_start(&timer, stats_timer_cb, 50, 0);
}

static void run_stats(void)
{
    K8c__Test__EchoRequest req = K8C__TEST__ECHO_REQUEST__INIT;
    req.message = "stats";
    k8c_grpc_unary(channel, UNARY, &req.base, &k8c__test__echo_reply__descriptor, 10000, stats_done,
                   NULL);
}

static void run_cancel(void)
{
    stats_before = -1;
    run_stats();
}

static void run_last(void)
{
    run_unary();
}

static void (*const scenarios[])(void) = {
    run_unary,         run_error,         run_deadline, run_unimplemented, run_big,  run_concurrent,
    run_server_stream, run_client_stream, run_bidi,     run_cancel,        run_last,
};

static void next_scenario(void)
{
    size_t n = only_unary ? 1 : sizeof(scenarios) / sizeof(scenarios[0]);
    if (scenario < n) {
        scenarios[scenario++]();
        return;
    }
    k8c_grpc_channel_del(channel);
    channel = NULL;
    uv_close((uv_handle_t *)&timer, NULL);
}

static void watchdog_cb(uv_timer_t *t)
{
    fprintf(stderr, "FAIL: scenarios did not finish in time (at scenario %zu)\n", scenario);
    exit(1);
}

int main(int argc, char **argv)
{
    char *target = "127.0.0.1:50051", *ca = NULL, *cert = NULL, *key = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    int first;
    const struct k8c_flag flags[] = {
        {"target", K8C_FLAG_STRING, &target, "host:port or unix:/path"},
        {"ca", K8C_FLAG_STRING, &ca, "CA certificate (PEM): use TLS"},
        {"cert", K8C_FLAG_STRING, &cert, "client certificate (PEM)"},
        {"key", K8C_FLAG_STRING, &key, "client key (PEM)"},
        {"only-unary", K8C_FLAG_BOOL, &only_unary, "run only the first unary call"},
        {"v", K8C_FLAG_INT, &k8c_log_verbosity, "log verbosity"},
    };
    int rc = k8c_flags_parse(flags, sizeof(flags) / sizeof(flags[0]), argc, argv, &first, errmsg);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "%s\n", errmsg);
        return rc < 0 ? 2 : 0;
    }
    k8c_log_init("grpc-echo-client");
    /* A peer that closes mid-write must be an error code, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    struct k8c_grpc_channel_options opts = {.ca_file = ca, .cert_file = cert, .key_file = key};
    channel = k8c_grpc_channel_new(loop, target, &opts, errmsg);
    if (channel == NULL) {
        fprintf(stderr, "channel: %s\n", errmsg);
        return 2;
    }
    uv_timer_init(loop, &timer);
    uv_timer_t watchdog;
    uv_timer_init(loop, &watchdog);
    uv_timer_start(&watchdog, watchdog_cb, 50000, 0);
    uv_unref((uv_handle_t *)&watchdog);
    next_scenario();
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&watchdog, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || (passed == 0) ? 1 : 0;
}
