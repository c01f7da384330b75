/*
 * gRPC over HTTP/2: a server that dispatches calls to registered methods and
 * a client channel, both on a libuv loop. HTTP/2 is nghttp2 over TCP or unix
 * sockets, cleartext (prior knowledge) or TLS (OpenSSL, ALPN h2); the
 * transport is a separate part of grpc.c so it can move onto lib/http.
 * Framing, timeouts and status codes live in grpc_frame.h.
 *
 * Server. Methods are registered by full path ("/pkg.Service/Method") with
 * the protobuf-c descriptors of their request and response (or NULL for raw
 * bytes). A call lives from the request headers to the final status:
 *
 *   unary / server streaming: on_request(call, msg) runs once the single
 *     request message and the client's half-close have arrived;
 *   client streaming / bidi:  on_start(call) at the request headers, then
 *     on_message(call, msg) per request message, on_half_close(call) when the
 *     client is done sending;
 *   any kind: on_cancel(call) if the call ends before the handler finished it
 *     (client RST_STREAM or disconnect, deadline from grpc-timeout passed,
 *     server shutdown); on_writable(call) when queued output drained below the
 *     low-water mark after k8c_grpc_call_writable() had returned false.
 *
 * The handler replies whenever it likes (synchronously or later from the
 * loop) with k8c_grpc_call_send*() and ends the call with
 * k8c_grpc_call_finish(). Every call must be finished exactly once by the
 * handler, also after on_cancel (finishing a cancelled call sends nothing);
 * the call object stays valid until then. Finishing with an error before any
 * message was sent produces a trailers-only response.
 *
 * Backpressure: sends are queued (bounded). While the queued bytes are above
 * the high-water mark k8c_grpc_call_writable() is false and the handler should
 * wait for on_writable; past four times the mark, sends fail with K8C_EBUSY
 * and queue nothing.
 *
 * Errors the server produces itself: unknown method -> UNIMPLEMENTED
 * (trailers-only); wrong content-type -> HTTP 415; malformed framing or an
 * undecodable request -> INTERNAL; oversize message -> RESOURCE_EXHAUSTED;
 * compressed message -> UNIMPLEMENTED. The connection and server carry on.
 * The same port answers plain GET requests (HTTP/2, or HTTP/1.1 one request
 * per connection) through k8c_grpc_server_set_http_handler, for /metrics and
 * the health endpoints; with options.metrics set, the server keeps the
 * grpc_server_{started,handled,msg_received,msg_sent}_total counters and the
 * grpc_server_handling_seconds histogram under go-grpc-prometheus' names.
 *
 * Client. A channel targets "host:port" (h2c, or TLS when a CA is given),
 * or "unix:/path". Calls are started on a channel and report each response
 * message and then exactly one final status through on_done; the call object
 * is freed right after on_done returns.
 *
 * Threads: everything runs on the loop that owns the server or channel.
 * Programs must ignore SIGPIPE (k8c_signals_init does) so that a peer closing
 * a connection mid-write is an error code rather than a fatal signal.
 */
#ifndef K8C_GRPC_H
#define K8C_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <uv.h>

#include "buf.h"
#include "grpc_frame.h"
#include "metrics.h"

/* ======================= server ======================= */

struct k8c_grpc_server;
struct k8c_grpc_call;

enum k8c_grpc_kind {
    K8C_GRPC_UNARY,
    K8C_GRPC_SERVER_STREAMING,
    K8C_GRPC_CLIENT_STREAMING,
    K8C_GRPC_BIDI_STREAMING,
};

/* A received message, borrowed for the duration of the callback. pb is the
 * unpacked message when the method (or client call) has a descriptor, else
 * NULL; data/len are always the serialized bytes. */
struct k8c_grpc_message {
    const uint8_t *data;
    size_t len;
    const ProtobufCMessage *pb;
};

typedef void (*k8c_grpc_call_fn)(struct k8c_grpc_call *call, void *arg);
typedef void (*k8c_grpc_message_fn)(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                                    void *arg);

struct k8c_grpc_method {
    const char *path; /* "/pkg.Service/Method" */
    enum k8c_grpc_kind kind;
    const ProtobufCMessageDescriptor *request;  /* NULL: raw bytes */
    const ProtobufCMessageDescriptor *response; /* NULL: raw bytes (send_bytes only) */
    k8c_grpc_message_fn on_request;             /* unary, server streaming */
    k8c_grpc_call_fn on_start;                  /* client streaming, bidi (optional) */
    k8c_grpc_message_fn on_message;             /* client streaming, bidi */
    k8c_grpc_call_fn on_half_close;             /* client streaming, bidi */
    k8c_grpc_call_fn on_cancel;                 /* optional */
    k8c_grpc_call_fn on_writable;               /* optional */
    void *arg;
};

struct k8c_grpc_server_options {
    size_t max_receive_message; /* 0: 4 MiB */
    size_t send_high_water;     /* bytes queued per call before writable() is false; 0: 1 MiB */
    struct k8c_metrics
        *metrics; /* optional: grpc_server_* metrics as go-grpc-prometheus names them */
};

/* A server with no methods. opts may be NULL. Owned by the caller (_del). */
struct k8c_grpc_server *k8c_grpc_server_new(uv_loop_t *loop,
                                            const struct k8c_grpc_server_options *opts);
/* Registers a method (copied; path copied). Returns 0, K8C_EEXIST or
 * K8C_EINVAL (path not "/x/y", or a callback missing for its kind). */
int k8c_grpc_server_register(struct k8c_grpc_server *srv, const struct k8c_grpc_method *method);
/* Stops listening, closes every connection, cancels every open call
 * (on_cancel) and frees the server once the handlers have finished their
 * calls. Handles close asynchronously: run the loop afterwards. */
void k8c_grpc_server_del(struct k8c_grpc_server *srv);

/* Serving. The server owns its listeners (TCP, cleartext HTTP/2 with prior
 * knowledge, or TLS with ALPN h2 when a certificate is given). */
struct k8c_grpc_listen_options {
    const char *cert_file;      /* PEM serving certificate (chain): enables TLS */
    const char *key_file;       /* its key */
    const char *client_ca_file; /* optional: require client certificates signed by this CA */
};
/* Listens on addr ("host:port", "[v6]:port"; port 0 picks one). Returns 0 or a
 * negative code with errmsg set. May be called more than once (several ports). */
int k8c_grpc_server_listen(struct k8c_grpc_server *srv, const char *addr,
                           const struct k8c_grpc_listen_options *opts, char *errmsg);
/* The port of the most recent listener (after k8c_grpc_server_listen), or 0. */
int k8c_grpc_server_port(const struct k8c_grpc_server *srv);

/* Non-gRPC requests on the same port (GET /metrics, /healthz): fn fills in
 * the status, a static content type and the body; returning 0 means "not
 * mine" (404). Requests whose content-type is application/grpc never reach it. */
typedef int (*k8c_grpc_http_fn)(void *arg, const char *method, const char *path, const char *query,
                                int *status, const char **content_type, struct k8c_sbuf *body);
void k8c_grpc_server_set_http_handler(struct k8c_grpc_server *srv, k8c_grpc_http_fn fn, void *arg);

/* Call accessors. */
const char *k8c_grpc_call_path(const struct k8c_grpc_call *call);
enum k8c_grpc_kind k8c_grpc_call_kind(const struct k8c_grpc_call *call);
/* Request header (metadata) value, or NULL; name in lower case. Borrowed until finish. */
const char *k8c_grpc_call_metadata(const struct k8c_grpc_call *call, const char *name);
/* Absolute deadline in uv_now() milliseconds, or 0 when the client set none. */
uint64_t k8c_grpc_call_deadline(const struct k8c_grpc_call *call);
bool k8c_grpc_call_cancelled(const struct k8c_grpc_call *call);
void k8c_grpc_call_set_data(struct k8c_grpc_call *call, void *data);
void *k8c_grpc_call_data(const struct k8c_grpc_call *call);

/* Sending. Each returns 0 when queued; K8C_ECANCELED after cancellation,
 * K8C_EINVAL after finish or for a second message on a method with a single
 * response (unary, client streaming), K8C_EBUSY
 * when the queue is over its hard limit (nothing queued). */
int k8c_grpc_call_send(struct k8c_grpc_call *call, const ProtobufCMessage *msg);
int k8c_grpc_call_send_bytes(struct k8c_grpc_call *call, const void *data, size_t len);
/* A message already framed with its 5-byte prefix (k8c_grpc_frame_encode),
 * shared between calls: the call takes its own reference. */
int k8c_grpc_call_send_framed(struct k8c_grpc_call *call, struct k8c_buf *frame);
bool k8c_grpc_call_writable(const struct k8c_grpc_call *call);
size_t k8c_grpc_call_queued(const struct k8c_grpc_call *call);
/* Ends the call with a status code and optional message (percent-encoded on
 * the wire). Must be called exactly once per call; the call may be freed
 * before it returns, so do not touch it afterwards. Returns 0, or
 * K8C_ECANCELED if the call had been cancelled (nothing sent; still released). */
int k8c_grpc_call_finish(struct k8c_grpc_call *call, int status, const char *message);
/* Unary convenience: send msg and finish OK. */
int k8c_grpc_call_reply(struct k8c_grpc_call *call, const ProtobufCMessage *msg);
/* finish with a printf-formatted message. */
int k8c_grpc_call_finishf(struct k8c_grpc_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ======================= client ======================= */

struct k8c_grpc_channel;
struct k8c_grpc_client_call;

struct k8c_grpc_channel_options {
    const char *ca_file;        /* PEM; set for TLS ("host:port" targets only) */
    const char *cert_file;      /* optional client certificate (PEM) */
    const char *key_file;       /* its key */
    const char *server_name;    /* SNI / verification name; default: the target's host */
    size_t max_receive_message; /* 0: 4 MiB */
    unsigned keepalive_ms;      /* 0: off; see k8c_http_client_options (UNAVAILABLE) */
};

/* A channel to target: "host:port", "[v6]:port" or "unix:/path". Connects
 * lazily on the first call and reconnects after a failure. Returns NULL with
 * errmsg set for a malformed target or unreadable TLS files. */
struct k8c_grpc_channel *k8c_grpc_channel_new(uv_loop_t *loop, const char *target,
                                              const struct k8c_grpc_channel_options *opts,
                                              char *errmsg);
/* Cancels every open call (each gets on_done CANCELLED) and frees the channel
 * once its connection is closed. */
void k8c_grpc_channel_del(struct k8c_grpc_channel *ch);

typedef void (*k8c_grpc_client_message_fn)(struct k8c_grpc_client_call *call,
                                           const struct k8c_grpc_message *msg, void *arg);
/* Final status; message is decoded grpc-message text ("" if none). After it
 * returns the call is freed. */
typedef void (*k8c_grpc_client_done_fn)(struct k8c_grpc_client_call *call, int status,
                                        const char *message, void *arg);

struct k8c_grpc_call_options {
    const char *path;                           /* "/pkg.Service/Method" */
    const ProtobufCMessageDescriptor *response; /* NULL: raw bytes in on_message */
    int64_t timeout_ms;                         /* 0: no deadline */
    k8c_grpc_client_message_fn on_message;      /* may be NULL */
    k8c_grpc_client_done_fn on_done;            /* required */
    void *arg;
    const char *const *metadata; /* optional "name", "value", ..., NULL */
};

/* Starts a call (streaming in both directions as far as the wire is
 * concerned; the method decides). Returns the call, or NULL with errmsg set
 * for bad options; connection failures are reported through on_done
 * (UNAVAILABLE). The caller sends request messages and then half-closes. */
struct k8c_grpc_client_call *k8c_grpc_channel_call(struct k8c_grpc_channel *ch,
                                                   const struct k8c_grpc_call_options *opts,
                                                   char *errmsg);
/* Queues a request message; 0, K8C_EINVAL after half-close or finish. */
int k8c_grpc_client_call_send(struct k8c_grpc_client_call *call, const ProtobufCMessage *msg);
int k8c_grpc_client_call_send_bytes(struct k8c_grpc_client_call *call, const void *data,
                                    size_t len);
/* Request bytes queued on the call and not yet written (flow control): a
 * client that streams a lot checks this and waits while it is large. */
size_t k8c_grpc_client_call_queued(const struct k8c_grpc_client_call *call);
/* Half-close: no more request messages. */
int k8c_grpc_client_call_close_send(struct k8c_grpc_client_call *call);
/* Cancels (RST_STREAM CANCEL to the server); on_done(CANCELLED) follows from
 * the loop, never from inside this function. No-op once done. */
void k8c_grpc_client_call_cancel(struct k8c_grpc_client_call *call);
/* The call failed (UNAVAILABLE) before its connection was up: the server
 * never saw it, and it is safe to send again even if it was not idempotent. */
bool k8c_grpc_client_call_unsent(const struct k8c_grpc_client_call *call);
void k8c_grpc_client_call_set_data(struct k8c_grpc_client_call *call, void *data);
void *k8c_grpc_client_call_data(const struct k8c_grpc_client_call *call);

/* Unary convenience: sends req, half-closes, and calls done with the status
 * and, on OK, the single response (NULL otherwise; borrowed during done).
 * Returns 0, or K8C_EINVAL for bad arguments (done not called). */
typedef void (*k8c_grpc_unary_done_fn)(int status, const char *message,
                                       const ProtobufCMessage *response, void *arg);
int k8c_grpc_unary(struct k8c_grpc_channel *ch, const char *path, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *response, int64_t timeout_ms,
                   k8c_grpc_unary_done_fn done, void *arg);

#endif
