/*
 * Outbound byte-stream connections on a libuv loop: TCP, optionally wrapped
 * in TLS (OpenSSL through memory BIOs, as lib/http.c does). The bytes are
 * the caller's: the API server speaks HTTP/1.1 over it to kubelets and, after
 * an upgrade, relays websocket or SPDY frames without looking at them.
 *
 * A connection resolves its host (IP literals skip the resolver), connects,
 * runs the TLS handshake and then reports on_connect; bytes sent before that
 * are queued and written once the connection is up. Input arrives through
 * on_data as it is read (decrypted), and can be paused. Every connection ends
 * with exactly one on_close, delivered from the loop after its handles have
 * closed: after a failure (connect, TLS, read or write error), after the peer
 * closed (error 0), or after k8c_tcp_close (error K8C_ECANCELED). Nothing is
 * called after on_close, and the connection is freed when it returns.
 *
 * Error reasons read like Go's net errors, since they reach kubectl users in
 * the API server's Status messages: "dial tcp 127.0.0.1:1: connect:
 * connection refused", "dial tcp: lookup nohost: unknown node or service",
 * "tls: handshake failed: ...".
 *
 * Everything runs on the loop thread.
 */
#ifndef K8C_TCPCLIENT_H
#define K8C_TCPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct k8c_tcp_conn;

struct k8c_tcp_options {
    bool tls;
    /* TLS: PEM CA bundle the server certificate must chain to, checked
     * against server_name (host name or IP). NULL: no verification. */
    const char *ca_file;
    const char *cert_file;       /* optional client certificate (PEM chain) */
    const char *key_file;        /* its key */
    const char *server_name;     /* SNI and verification name; default: host */
    const char *alpn;            /* one ALPN protocol to offer ("http/1.1"), or NULL */
    unsigned connect_timeout_ms; /* resolve + connect + handshake; 0: 30000 */
};

struct k8c_tcp_ops {
    /* Connected (and the TLS handshake done). */
    void (*on_connect)(struct k8c_tcp_conn *c, void *arg);
    /* Bytes from the peer (borrowed for the call). */
    void (*on_data)(struct k8c_tcp_conn *c, const uint8_t *data, size_t len, void *arg);
    /* The output queue drained to the mark given to k8c_tcp_want_writable. */
    void (*on_writable)(struct k8c_tcp_conn *c, void *arg);
    /* The end (once): error 0 when the peer closed, K8C_ECANCELED after
     * k8c_tcp_close, else a negative code with why (borrowed for the call). */
    void (*on_close)(struct k8c_tcp_conn *c, int error, const char *why, void *arg);
};

/* Starts connecting to host:port (host: name, IPv4 or IPv6 literal without
 * brackets). Returns the connection, or NULL with errmsg when TLS files cannot
 * be loaded (no on_close then). Failures to connect arrive as on_close. */
struct k8c_tcp_conn *k8c_tcp_connect(uv_loop_t *loop, const char *host, int port,
                                     const struct k8c_tcp_options *opts,
                                     const struct k8c_tcp_ops *ops, void *arg, char *errmsg);
/* Queues bytes (copied). 0, or K8C_ECLOSED once the connection is failing or
 * closed. */
int k8c_tcp_send(struct k8c_tcp_conn *c, const void *data, size_t len);
/* Output not yet accepted by the kernel (including bytes queued before the
 * connection was up). */
size_t k8c_tcp_queued(const struct k8c_tcp_conn *c);
/* Asks for one on_writable once the queue is at or below low_water. */
void k8c_tcp_want_writable(struct k8c_tcp_conn *c, size_t low_water);
/* Stops (true) or resumes (false) reading. Bytes already read may still be
 * delivered after pausing. */
void k8c_tcp_pause(struct k8c_tcp_conn *c, bool paused);
/* Closes once the queued output is written (the peer sees the end after all
 * our bytes); on_close follows with error 0. */
void k8c_tcp_close_after_write(struct k8c_tcp_conn *c);
/* Closes now, dropping queued output; on_close(K8C_ECANCELED) follows from
 * the loop (unless the connection already failed). */
void k8c_tcp_close(struct k8c_tcp_conn *c);
/* "host:port" ("[v6]:port") as connected to (static storage in c). */
const char *k8c_tcp_address(const struct k8c_tcp_conn *c);

#endif
