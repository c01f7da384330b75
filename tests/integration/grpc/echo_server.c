/*
 * k8c-grpc-echo: the k8c.test.Echo service on lib/grpc, for the integration
 * tests (grpcio clients call it). Semantics match py_echo_server.py:
 *   Unary: echo; count > 0 replies after count ms (async, from a timer);
 *     fail_code != 0 finishes with that status and `message`; message "stats"
 *     replies with the number of calls that saw a cancellation, in index, and
 *     "maxqueued" with the largest send queue any call had, in bytes.
 *   ServerStream: count replies, sent as fast as backpressure allows
 *     ("slow": one every 50 ms).
 *   ClientStream: concatenated messages, index = number of requests.
 *   Bidi: one reply per request as it arrives.
 * The same port serves /metrics (grpc_server_* metrics plus the echo's own),
 * /healthz, /livez and /readyz; readiness fails while --not-ready-file exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "flags.h"
#include "grpc.h"
#include "log.h"
#include "metrics.h"
#include "signals.h"
#include "test/echo.pb-c.h"

static uv_loop_t *loop;
static struct k8c_metrics *metrics;
static struct k8c_metric *requests_total, *active_calls;
static int cancelled_calls;
static size_t max_queued; /* largest send queue seen on any call, bytes */
static char *not_ready_file = "";

/* Per-call state for calls that outlive their first callback. */
struct echo_call {
    struct k8c_grpc_call *call;
    uv_timer_t timer;
    bool timer_active;
    K8c__Test__EchoRequest *req; /* copy of the request (unary delay, server stream) */
    int sent;
    struct k8c_sbuf text; /* client stream */
    int received;
};

static struct echo_call *echo_call_new(struct k8c_grpc_call *call, const char *method)
{
    struct echo_call *ec = K8C_NEW(struct echo_call);
    ec->call = call;
    k8c_sbuf_init(&ec->text);
    uv_timer_init(loop, &ec->timer);
    ec->timer.data = ec;
    k8c_grpc_call_set_data(call, ec);
    k8c_metric_inc(K8C_METRIC_WITH(requests_total, method));
    k8c_metric_inc(k8c_metric_series(active_calls, NULL));
    return ec;
}

static void echo_call_free_cb(uv_handle_t *h)
{
    struct echo_call *ec = h->data;
    if (ec->req)
        k8c__test__echo_request__free_unpacked(ec->req, NULL);
    k8c_sbuf_free(&ec->text);
    k8c_free(ec);
}

/* Finishes the call and frees our state. */
static void echo_finish(struct echo_call *ec, int status, const char *message)
{
    k8c_grpc_call_finish(ec->call, status, message);
    k8c_metric_dec(k8c_metric_series(active_calls, NULL));
    uv_close((uv_handle_t *)&ec->timer, echo_call_free_cb);
}

static void on_cancel(struct k8c_grpc_call *call, void *arg)
{
    struct echo_call *ec = k8c_grpc_call_data(call);
    cancelled_calls++;
    k8c_log_v(1, "call cancelled path=%s", k8c_grpc_call_path(call));
    if (ec != NULL)
        echo_finish(ec, K8C_GRPC_CANCELLED, NULL);
}

static K8c__Test__EchoRequest *copy_request(const struct k8c_grpc_message *msg)
{
    return k8c__test__echo_request__unpack(NULL, msg->len, msg->data);
}

static void reply(struct k8c_grpc_call *call, const char *message, ProtobufCBinaryData payload,
                  int index)
{
    K8c__Test__EchoReply r = K8C__TEST__ECHO_REPLY__INIT;
    r.message = (char *)message;
    r.payload = payload;
    r.index = index;
    k8c_grpc_call_send(call, &r.base);
}

/* ---- Unary ---- */

static void unary_timer_cb(uv_timer_t *t)
{
    struct echo_call *ec = t->data;
    reply(ec->call, ec->req->message, ec->req->payload, 0);
    echo_finish(ec, K8C_GRPC_OK, NULL);
}

static void unary(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    const K8c__Test__EchoRequest *req = (const K8c__Test__EchoRequest *)msg->pb;
    struct echo_call *ec = echo_call_new(call, "Unary");

    if (strcmp(req->message, "stats") == 0 || strcmp(req->message, "maxqueued") == 0) {
        ProtobufCBinaryData none = {0, NULL};
        reply(call, req->message, none, req->message[0] == 's' ? cancelled_calls : (int)max_queued);
        echo_finish(ec, K8C_GRPC_OK, NULL);
    } else if (req->fail_code != 0) {
        echo_finish(ec, req->fail_code, req->message);
    } else if (req->count > 0) {
        ec->req = copy_request(msg);
        uv_timer_start(&ec->timer, unary_timer_cb, (uint64_t)req->count, 0);
    } else {
        reply(call, req->message, req->payload, 0);
        echo_finish(ec, K8C_GRPC_OK, NULL);
    }
}

/* ---- ServerStream ---- */

/* Sends replies while the call is writable; the rest follows from on_writable. */
static void stream_pump(struct echo_call *ec)
{
    while (ec->sent < ec->req->count && k8c_grpc_call_writable(ec->call)) {
        reply(ec->call, ec->req->message, ec->req->payload, ec->sent++);
        if (k8c_grpc_call_queued(ec->call) > max_queued)
            max_queued = k8c_grpc_call_queued(ec->call);
        if (strcmp(ec->req->message, "slow") == 0) {
            if (ec->sent < ec->req->count)
                return; /* the timer sends the next one */
        }
    }
    if (ec->sent == ec->req->count)
        echo_finish(ec, K8C_GRPC_OK, NULL);
}

static void stream_timer_cb(uv_timer_t *t)
{
    stream_pump(t->data);
}

static void stream_writable(struct k8c_grpc_call *call, void *arg)
{
    struct echo_call *ec = k8c_grpc_call_data(call);
    if (ec != NULL && strcmp(ec->req->message, "slow") != 0)
        stream_pump(ec);
}

static void server_stream(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct echo_call *ec = echo_call_new(call, "ServerStream");
    ec->req = copy_request(msg);
    if (strcmp(ec->req->message, "slow") == 0)
        uv_timer_start(&ec->timer, stream_timer_cb, 50, 50);
    stream_pump(ec);
}

/* ---- ClientStream and Bidi ---- */

static void client_stream_start(struct k8c_grpc_call *call, void *arg)
{
    echo_call_new(call, (const char *)arg);
}

static void client_stream_message(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                                  void *arg)
{
    struct echo_call *ec = k8c_grpc_call_data(call);
    const K8c__Test__EchoRequest *req = (const K8c__Test__EchoRequest *)msg->pb;
    k8c_sbuf_puts(&ec->text, req->message);
    ec->received++;
}

static void client_stream_end(struct k8c_grpc_call *call, void *arg)
{
    struct echo_call *ec = k8c_grpc_call_data(call);
    ProtobufCBinaryData none = {0, NULL};
    reply(call, ec->text.data ? ec->text.data : "", none, ec->received);
    echo_finish(ec, K8C_GRPC_OK, NULL);
}

static void bidi_message(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct echo_call *ec = k8c_grpc_call_data(call);
    const K8c__Test__EchoRequest *req = (const K8c__Test__EchoRequest *)msg->pb;
    if (req->fail_code != 0) {
        echo_finish(ec, req->fail_code, req->message);
        return;
    }
    reply(call, req->message, req->payload, ec->received++);
}

static void bidi_end(struct k8c_grpc_call *call, void *arg)
{
    echo_finish(k8c_grpc_call_data(call), K8C_GRPC_OK, NULL);
}

/* ---- health ---- */

static int ready_check(void *arg, char *errmsg)
{
    if (not_ready_file[0] != '\0' && access(not_ready_file, F_OK) == 0) {
        k8c_errmsg_printf(errmsg, "not ready while %s exists", not_ready_file);
        return K8C_EBUSY;
    }
    return 0;
}

/* ---- main ---- */

static struct k8c_grpc_server *grpc_server;
static struct k8c_health *health;

static void shutdown_cb(void *arg)
{
    k8c_log_info("shutting down");
    k8c_grpc_server_del(grpc_server);
    grpc_server = NULL;
    k8c_signals_close();
}

int main(int argc, char **argv)
{
    char *listen = "127.0.0.1:50051", *cert = "", *key = "";
    char errmsg[K8C_ERRMSG_SIZE];
    int first;
    int64_t max_message = 0;
    const struct k8c_flag flags[] = {
        {"listen", K8C_FLAG_STRING, &listen, "address to serve on (host:port)"},
        {"tls-cert", K8C_FLAG_STRING, &cert, "serving certificate (PEM): use TLS"},
        {"tls-key", K8C_FLAG_STRING, &key, "serving key (PEM)"},
        {"not-ready-file", K8C_FLAG_STRING, &not_ready_file, "readyz fails while this exists"},
        {"max-recv-msg-size", K8C_FLAG_SIZE, &max_message, "largest request message (0: 4Mi)"},
        {"v", K8C_FLAG_INT, &k8c_log_verbosity, "log verbosity"},
    };
    int rc = k8c_flags_parse(flags, sizeof(flags) / sizeof(flags[0]), argc, argv, &first, errmsg);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "%s\n", errmsg);
        return rc < 0 ? 2 : 0;
    }
    k8c_log_init("grpc-echo");
    loop = uv_default_loop();

    metrics = k8c_metrics_new();
    requests_total = k8c_metrics_counter(metrics, "k8c_echo_requests_total",
                                         "Echo calls started, by method.", "method");
    active_calls =
        k8c_metrics_gauge(metrics, "k8c_echo_active_calls", "Echo calls in progress.", NULL);
    health = k8c_health_new();
    k8c_health_add(health, "echo-ready", K8C_HEALTH_READYZ, ready_check, NULL);
    struct k8c_metrics_endpoints endpoints = {metrics, health};

    struct k8c_grpc_server_options gopts = {.max_receive_message = (size_t)max_message,
                                            .metrics = metrics};
    grpc_server = k8c_grpc_server_new(loop, &gopts);
    const ProtobufCMessageDescriptor *in = &k8c__test__echo_request__descriptor;
    const ProtobufCMessageDescriptor *out = &k8c__test__echo_reply__descriptor;
    const struct k8c_grpc_method methods[] = {
        {"/k8c.test.Echo/Unary", K8C_GRPC_UNARY, in, out, .on_request = unary,
         .on_cancel = on_cancel},
        {"/k8c.test.Echo/ServerStream", K8C_GRPC_SERVER_STREAMING, in, out,
         .on_request = server_stream, .on_cancel = on_cancel, .on_writable = stream_writable},
        {"/k8c.test.Echo/ClientStream", K8C_GRPC_CLIENT_STREAMING, in, out,
         .on_start = client_stream_start, .on_message = client_stream_message,
         .on_half_close = client_stream_end, .on_cancel = on_cancel, .arg = "ClientStream"},
        {"/k8c.test.Echo/Bidi", K8C_GRPC_BIDI_STREAMING, in, out, .on_start = client_stream_start,
         .on_message = bidi_message, .on_half_close = bidi_end, .on_cancel = on_cancel,
         .arg = "Bidi"},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        rc = k8c_grpc_server_register(grpc_server, &methods[i]);
        if (rc != 0) {
            fprintf(stderr, "register %s: %s\n", methods[i].path, k8c_strerror(rc));
            return 1;
        }
    }
    k8c_grpc_server_set_http_handler(grpc_server, k8c_metrics_http_handler, &endpoints);
    /* Before listening: once the port answers, SIGTERM means a clean shutdown. */
    k8c_signals_init(loop, shutdown_cb, NULL);
    struct k8c_grpc_listen_options lopts = {.cert_file = cert, .key_file = key};
    rc = k8c_grpc_server_listen(grpc_server, listen, &lopts, errmsg);
    if (rc != 0) {
        fprintf(stderr, "%s\n", errmsg);
        return 1;
    }
    k8c_log_info("serving addr=%s port=%d tls=%s", listen, k8c_grpc_server_port(grpc_server),
                 cert[0] ? "true" : "false");
    uv_run(loop, UV_RUN_DEFAULT);
    k8c_health_del(health);
    k8c_metrics_del(metrics);
    uv_loop_close(loop);
    return 0;
}
