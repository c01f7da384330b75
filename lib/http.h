/*
 * HTTP server and HTTP/2 client on a libuv loop: the transport every k8c
 * daemon shares (lib/grpc.c runs gRPC on top of it; the API server serves
 * the Kubernetes REST API with it).
 *
 * Server. One listener speaks HTTP/2 and HTTP/1.1:
 *   - TLS (OpenSSL through memory BIOs): ALPN picks h2 or http/1.1 (no ALPN
 *     means HTTP/1.1); the client certificate, when one was verified against
 *     the configured CA, is available as subject CN and O values;
 *   - cleartext: the first bytes decide: the HTTP/2 connection preface
 *     ("PRI * HTTP/2.0...", prior knowledge h2c) starts HTTP/2, anything else
 *     is parsed as HTTP/1.1 (http-parser).
 * Every request, whatever the protocol, is a k8c_http_stream handed to the
 * server's request callback once its headers are complete. The handler reads
 * method, path and headers, sets per-stream callbacks for the request body
 * and lifetime, and answers with k8c_http_stream_respond (status + headers),
 * any number of k8c_http_stream_send (body bytes, reference-counted buffers,
 * no copy on HTTP/2) and k8c_http_stream_finish (end, with trailers on
 * HTTP/2). A response without a content-length that is not finished at once
 * is sent chunked on HTTP/1.1 and as DATA frames on HTTP/2, each send flushed
 * as soon as the peer accepts it, so long-lived responses (watches) stream.
 *
 * HTTP/1.1 connections are kept alive (unless the client says close or is
 * HTTP/1.0); pipelined requests wait until the current response is done.
 * `Upgrade: websocket` requests reach the handler like any other; it accepts
 * them with k8c_http_stream_websocket (101 Switching Protocols, then wslay
 * frames: text/binary messages in and out, ping answered with pong, close
 * handshake) or answers normally to refuse.
 *
 * Lifetimes. A stream belongs to the transport. It is valid from the request
 * callback until its on_close callback returns (on_close always comes, once,
 * for every stream handed to the request callback: after the response ended
 * and the request was read, or when the client reset the stream or the
 * connection went away). Borrowed strings (path, headers) live as long as the
 * stream.
 *
 * Backpressure. k8c_http_stream_queued says how many response bytes wait for
 * the peer (flow control window or socket); a handler that produces a lot
 * stops while it is above its high-water mark and resumes on on_writable,
 * which the transport calls when the queue drained after
 * k8c_http_stream_want_writable. Request bodies are delivered as they arrive;
 * limits (max body) are the handler's to enforce, with k8c_http_stream_reset
 * when it wants the request gone.
 *
 * Limits: request header block (names + values) 64 KiB by default; a request
 * that exceeds it gets 431 (HTTP/1.1) or RST_STREAM (HTTP/2); malformed
 * HTTP/1.1 gets 400 and the connection closes; HTTP/2 protocol errors end the
 * connection with GOAWAY. A connection must finish its TLS handshake and
 * first request head within the setup timeout (10 s) and is closed after the
 * idle timeout (default 5 minutes without open streams).
 *
 * Client. k8c_http_client is one HTTP/2 connection target ("host:port",
 * "[v6]:port" or "unix:/path", h2c or TLS with ALPN h2), connected lazily and
 * reconnected after failure; each request is a stream with callbacks for the
 * response headers, body and close. lib/grpc.c's channel is built on it.
 *
 * Everything runs on the loop thread. Programs ignore SIGPIPE
 * (k8c_signals_init).
 */
#ifndef K8C_HTTP_H
#define K8C_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"

#define K8C_HTTP_MAX_HEADER_BYTES (64 * 1024)
#define K8C_HTTP_MAX_HEADERS      128

struct k8c_http_header {
    const char *name; /* lower case on input; any case on output */
    const char *value;
};

/* ======================= server ======================= */

struct k8c_http_server;
struct k8c_http_stream;

/* Called with each request whose headers are complete. The stream stays
 * valid until its on_close returns (set callbacks with k8c_http_stream_set_ops,
 * or none for a request answered right away). */
typedef void (*k8c_http_request_fn)(void *arg, struct k8c_http_stream *s);

struct k8c_http_stream_ops {
    /* Request body bytes (borrowed for the call). */
    void (*on_data)(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg);
    /* The request is complete (END_STREAM / end of the HTTP/1.1 message). */
    void (*on_end)(struct k8c_http_stream *s, void *arg);
    /* The queue drained after k8c_http_stream_want_writable. */
    void (*on_writable)(struct k8c_http_stream *s, void *arg);
    /* The stream is gone; nothing may be done with it after this returns.
     * error is 0 when the exchange completed, else K8C_ECLOSED (reset,
     * disconnect, server shutting down). */
    void (*on_close)(struct k8c_http_stream *s, int error, void *arg);
    /* Websocket only (after k8c_http_stream_websocket): one whole message. */
    void (*on_message)(struct k8c_http_stream *s, int opcode, const uint8_t *data, size_t len,
                       void *arg);
};

struct k8c_http_server_options {
    size_t max_header_bytes;      /* 0: K8C_HTTP_MAX_HEADER_BYTES */
    unsigned idle_timeout_ms;     /* 0: 300000 */
    unsigned setup_timeout_ms;    /* 0: 10000 */
    uint32_t max_concurrent;      /* HTTP/2 streams per connection; 0: 1000 */
    size_t max_websocket_message; /* 0: 1 MiB */
    /* HTTP/2: when k8c_http_stream_send moves on to another connection and
     * the previous one has this many bytes queued since its last flush, that
     * one is flushed at once rather than at the end of the loop turn (a fan-out
     * writes each connection's share while its streams are still in the
     * cache); a connection with 8 times as many is flushed in any case. Such a
     * flush calls nothing back: streams it ends are closed for the
     * application at the next regular flush. 0: never. */
    size_t flush_early_bytes;
    /* Output bytes a connection may have on their way to the kernel before
     * its streams wait (0: 1 MiB). Fewer means more, smaller writes and less
     * memory per connection: a watch fan-out to many connections wants it
     * small, a store answering 300 KB ranges large. */
    size_t write_high_water;
};

struct k8c_http_listen_options {
    const char *cert_file;      /* PEM serving certificate (chain): enables TLS */
    const char *key_file;       /* its key */
    const char *client_ca_file; /* optional: verify client certificates against it */
    bool require_client_cert;   /* with client_ca_file: refuse handshakes without one */
    bool http1_only;            /* TLS: offer only http/1.1 in ALPN */
    bool h2_only;               /* refuse HTTP/1.1 (gRPC-only ports): 505 */
};

struct k8c_http_server *k8c_http_server_new(uv_loop_t *loop,
                                            const struct k8c_http_server_options *opts,
                                            k8c_http_request_fn on_request, void *arg);
/* Listens on addr ("host:port", "[v6]:port", ":port"; port 0 picks one).
 * Returns 0, K8C_EINVAL (bad address), K8C_ETLS (unreadable or invalid
 * certificate/key/CA files) or a libuv error, with errmsg set. May be called
 * for several ports; each listener keeps its own TLS settings. */
int k8c_http_server_listen(struct k8c_http_server *srv, const char *addr,
                           const struct k8c_http_listen_options *opts, char *errmsg);
/* The port of the most recent listener, or 0. */
int k8c_http_server_port(const struct k8c_http_server *srv);
/* Reloads every TLS listener's certificate, key and client CA from the files
 * it was configured with; new connections use them, open ones keep theirs.
 * On error nothing changes. Returns 0 or K8C_ETLS with errmsg. */
int k8c_http_server_reload_tls(struct k8c_http_server *srv, char *errmsg);
/* Number of open connections (for tests and metrics). */
size_t k8c_http_server_connections(const struct k8c_http_server *srv);
/* Early flushes so far (flush_early_bytes), and streams whose close they
 * deferred to the next regular flush (for tests and metrics). */
void k8c_http_server_flush_stats(const struct k8c_http_server *srv, uint64_t *early,
                                 uint64_t *closed_late);
/* Graceful stop: no new connections, GOAWAY on HTTP/2 connections, every
 * open stream closed (on_close with K8C_ECLOSED). Frees the server once its
 * handles have closed: run the loop afterwards. */
void k8c_http_server_del(struct k8c_http_server *srv);

/* Request accessors (borrowed for the stream's life). */
const char *k8c_http_stream_method(const struct k8c_http_stream *s);
/* The request target as sent: path and query ("/api/v1/pods?watch=1"). */
const char *k8c_http_stream_path(const struct k8c_http_stream *s);
/* A request header by lower-case name, or NULL. ":authority" (h2) and
 * "host" (HTTP/1.1) are both answered for either name. */
const char *k8c_http_stream_header(const struct k8c_http_stream *s, const char *name);
/* All request headers (names lower case). */
const struct k8c_http_header *k8c_http_stream_headers(const struct k8c_http_stream *s, size_t *n);
/* 2 for HTTP/2, 1 for HTTP/1.x. */
int k8c_http_stream_version(const struct k8c_http_stream *s);
bool k8c_http_stream_tls(const struct k8c_http_stream *s);
/* The verified client certificate's subject: common name (NULL without a
 * certificate) and organizations (n values). */
const char *k8c_http_stream_peer_cn(const struct k8c_http_stream *s);
const char *const *k8c_http_stream_peer_orgs(const struct k8c_http_stream *s, size_t *n);
/* The peer's address as "ip:port" (static storage in the stream). */
const char *k8c_http_stream_peer_addr(const struct k8c_http_stream *s);

void k8c_http_stream_set_ops(struct k8c_http_stream *s, const struct k8c_http_stream_ops *ops,
                             void *arg);

/* Sends the status and headers (":status" is added; names are sent lower case
 * on HTTP/2). With end true the response has no body. Returns 0, K8C_EINVAL
 * if headers were already sent, K8C_ECLOSED if the stream is gone. */
int k8c_http_stream_respond(struct k8c_http_stream *s, int status,
                            const struct k8c_http_header *headers, size_t n, bool end);
/* Queues body bytes (the stream takes a reference). 0, K8C_EINVAL before
 * respond or after finish, K8C_ECLOSED. */
int k8c_http_stream_send(struct k8c_http_stream *s, struct k8c_buf *buf);
int k8c_http_stream_send_copy(struct k8c_http_stream *s, const void *data, size_t len);
/* Ends the response after the queued bytes; trailers only on HTTP/2 (ignored
 * on HTTP/1.1). 0, K8C_EINVAL, K8C_ECLOSED. */
int k8c_http_stream_finish(struct k8c_http_stream *s, const struct k8c_http_header *trailers,
                           size_t n);
/* respond + body + finish in one call. */
int k8c_http_stream_reply(struct k8c_http_stream *s, int status, const char *content_type,
                          const void *body, size_t len);
/* Response bytes not yet accepted by the peer. */
size_t k8c_http_stream_queued(const struct k8c_http_stream *s);
/* Asks for one on_writable once the queue is at or below low_water bytes. */
void k8c_http_stream_want_writable(struct k8c_http_stream *s, size_t low_water);
/* Abandons the stream: RST_STREAM on HTTP/2 (error code CANCEL or, if
 * refused is true, REFUSED_STREAM), connection close on HTTP/1.1. on_close
 * follows (from the loop or before this returns). */
void k8c_http_stream_reset(struct k8c_http_stream *s, bool refused);
bool k8c_http_stream_headers_sent(const struct k8c_http_stream *s);

/* Websockets (HTTP/1.1 Upgrade). Accepts the upgrade with subprotocol
 * (may be NULL): sends 101 with Sec-WebSocket-Accept, then messages arrive
 * in ops->on_message. Returns 0, K8C_EINVAL (not a websocket upgrade request,
 * or headers already sent). */
#define K8C_WS_TEXT   1
#define K8C_WS_BINARY 2
int k8c_http_stream_websocket(struct k8c_http_stream *s, const char *subprotocol);
/* Sends one message; 0, K8C_EINVAL (not a websocket), K8C_ECLOSED. */
int k8c_http_ws_send(struct k8c_http_stream *s, int opcode, const void *data, size_t len);
/* Starts the close handshake with a status code (1000 normal). */
int k8c_http_ws_close(struct k8c_http_stream *s, uint16_t code, const char *reason);

/* Raw connections (HTTP/1.1 only): a handler that relays an upgraded
 * protocol it does not interpret (the API server's exec, attach and
 * port-forward proxy) answers the upgrade itself (k8c_http_stream_respond
 * with 101 and the upgraded protocol's headers) and takes the connection
 * over with k8c_http_stream_hijack. From then on the connection's input is
 * not parsed: every byte goes to on_bytes (borrowed for the call; bytes that
 * followed the request head come first, from the loop or, when hijack is
 * called from inside the request callbacks, once they return), and
 * k8c_http_stream_raw_send writes bytes as they are. on_close replaces the
 * ops' on_close (called once, when the connection is gone: error 0 after
 * k8c_http_stream_raw_end, else K8C_ECLOSED); on_writable still comes
 * through the stream's ops, with k8c_http_stream_queued counting the
 * connection's unwritten output. Returns 0, K8C_EINVAL (HTTP/2, or not the
 * connection's current request), K8C_ECLOSED. */
typedef void (*k8c_http_raw_bytes_fn)(struct k8c_http_stream *s, const uint8_t *data, size_t len,
                                      void *arg);
typedef void (*k8c_http_raw_close_fn)(struct k8c_http_stream *s, int error, void *arg);
int k8c_http_stream_hijack(struct k8c_http_stream *s, k8c_http_raw_bytes_fn on_bytes,
                           k8c_http_raw_close_fn on_close, void *arg);
/* Writes bytes as they are (the stream takes a reference). 0, K8C_EINVAL
 * (not hijacked, or ended), K8C_ECLOSED. */
int k8c_http_stream_raw_send(struct k8c_http_stream *s, struct k8c_buf *buf);
/* Stops (true) or resumes (false) reading the connection, for backpressure
 * toward the peer; bytes already read may still arrive. */
void k8c_http_stream_raw_pause(struct k8c_http_stream *s, bool paused);
/* Closes the connection once the bytes sent so far are written; on_close(0)
 * follows. */
void k8c_http_stream_raw_end(struct k8c_http_stream *s);

/* ======================= HTTP/2 client ======================= */

struct k8c_http_client;
struct k8c_http_client_stream;

struct k8c_http_client_options {
    const char *ca_file;     /* PEM; set for TLS ("host:port" targets only) */
    const char *cert_file;   /* optional client certificate */
    const char *key_file;    /* its key */
    const char *server_name; /* SNI / verification name; default: the target's host */
    /* Keepalive (0: off): while requests are open, a connection from which
     * nothing arrived for this long gets an HTTP/2 PING, and one that still
     * has not answered this long after (or that is not up this long after
     * it was started) fails its requests, so that a peer which hangs (a
     * stopped process, a partition) is noticed like one that went away. */
    unsigned keepalive_ms;
};

struct k8c_http_client_ops {
    /* A response header (":status" included), once per header of each
     * header block (response headers and trailers). Borrowed for the call. */
    void (*on_header)(struct k8c_http_client_stream *s, const char *name, const char *value,
                      void *arg);
    /* Response body bytes. */
    void (*on_data)(struct k8c_http_client_stream *s, const uint8_t *data, size_t len, void *arg);
    /* The server ended its side (END_STREAM). */
    void (*on_end)(struct k8c_http_client_stream *s, void *arg);
    /* The stream is gone: error 0 after a clean end, else K8C_ECLOSED with
     * the RST_STREAM code (0 if none) and a reason for connection failures
     * (may be NULL); K8C_EUNSENT when the connection failed before it was
     * up (connect, TLS handshake), so the server never saw the request.
     * Nothing may be done with s after this returns. */
    void (*on_close)(struct k8c_http_client_stream *s, int error, uint32_t rst_code,
                     const char *why, void *arg);
};

/* A client for target. Returns NULL with errmsg set for a malformed target or
 * unreadable TLS files. */
struct k8c_http_client *k8c_http_client_new(uv_loop_t *loop, const char *target,
                                            const struct k8c_http_client_options *opts,
                                            char *errmsg);
/* The ":authority" and ":scheme" requests use ("host:port", "https"/"http"). */
const char *k8c_http_client_authority(const struct k8c_http_client *c);
const char *k8c_http_client_scheme(const struct k8c_http_client *c);
/* Closes the connection: every open stream gets on_close(K8C_ECLOSED). The
 * client is freed once the connection's handle has closed. */
void k8c_http_client_del(struct k8c_http_client *c);

/* Starts a request with the given headers (including the pseudo-headers
 * :method :scheme :path :authority, in that order). The request body is sent
 * with _send and ended with _end (a request with no body still needs _end).
 * Returns the stream (NULL once k8c_http_client_del was called); failures
 * (connect, TLS) arrive as on_close. */
struct k8c_http_client_stream *
k8c_http_client_request(struct k8c_http_client *c, const struct k8c_http_header *headers, size_t n,
                        const struct k8c_http_client_ops *ops, void *arg);
int k8c_http_client_stream_send(struct k8c_http_client_stream *s, struct k8c_buf *buf);
int k8c_http_client_stream_end(struct k8c_http_client_stream *s);
size_t k8c_http_client_stream_queued(const struct k8c_http_client_stream *s);
/* RST_STREAM(CANCEL). on_close follows (from inside this call when the
 * request had not been sent yet). */
void k8c_http_client_stream_cancel(struct k8c_http_client_stream *s);

#endif
