/*
 * Outbound TCP (+TLS) byte streams. See tcpclient.h for the API.
 *
 * One struct k8c_tcp_conn owns a uv_tcp_t and two timers (the connect
 * deadline and a zero-delay "kick" that reports on_writable outside the
 * caller's stack). TLS runs through memory BIOs: ciphertext read from the
 * socket goes into rbio, SSL_read yields plaintext for on_data; plaintext
 * to send goes through SSL_write into wbio, which is drained into uv_write
 * requests. Teardown closes the handles and reports on_close once the last
 * one (and a pending getaddrinfo) is gone, so the caller never sees a
 * callback after on_close and never has to free anything itself.
 */
#include "tcpclient.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "log.h"

#define READ_CHUNK 65536

struct k8c_tcp_conn {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t deadline; /* resolve + connect + handshake */
    uv_timer_t kick;     /* deferred on_writable */
    uv_getaddrinfo_t gai;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    const struct k8c_tcp_ops *ops;
    void *arg;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    char host[256], server_name[256], address[300];
    int port;
    unsigned timeout_ms;
    bool tls;
    bool connected; /* TCP up */
    bool ready;     /* TLS handshake done (or no TLS) */
    bool reading;
    bool paused;
    bool resolving;
    bool closing;  /* teardown started: no more callbacks but on_close */
    bool shutting; /* close_after_write asked for */
    bool shutdown_sent;
    bool want_writable;
    size_t low_water;
    struct k8c_sbuf pending; /* plaintext queued before ready */
    size_t writing;          /* bytes handed to uv_write, not completed */
    int handles;             /* open uv handles */
    int error;
    char why[K8C_ERRMSG_SIZE];
};

struct write_req {
    uv_write_t req;
    struct k8c_tcp_conn *conn;
    size_t len;
    char data[];
};

static void conn_fail(struct k8c_tcp_conn *c, int error, const char *why);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void tls_flush(struct k8c_tcp_conn *c);

/* ---- teardown ---- */

static void conn_maybe_free(struct k8c_tcp_conn *c)
{
    if (c->handles > 0 || c->resolving)
        return;
    if (c->ops != NULL && c->ops->on_close != NULL)
        c->ops->on_close(c, c->error, c->why, c->arg);
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    k8c_sbuf_free(&c->pending);
    k8c_free(c);
}

static void handle_closed(uv_handle_t *h)
{
    struct k8c_tcp_conn *c = h->data;
    c->handles--;
    conn_maybe_free(c);
}

/* Starts the teardown once, recording the first error. */
static void conn_fail(struct k8c_tcp_conn *c, int error, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    c->error = error;
    k8c_errmsg_printf(c->why, "%s", why);
    k8c_log_v(3, "tcp: connection closed address=%s reason=\"%s\"", c->address, why);
    uv_timer_stop(&c->deadline);
    uv_timer_stop(&c->kick);
    if (c->resolving)
        uv_cancel((uv_req_t *)&c->gai);
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    uv_close((uv_handle_t *)&c->deadline, handle_closed);
    uv_close((uv_handle_t *)&c->kick, handle_closed);
}

/* ---- output ---- */

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    struct k8c_tcp_conn *c = req->data;
    (void)status;
    conn_fail(c, 0, "closed after write");
}

static void maybe_shutdown(struct k8c_tcp_conn *c)
{
    if (!c->shutting || c->shutdown_sent || c->closing || !c->ready)
        return;
    c->shutdown_sent = true;
    if (c->tls) {
        SSL_shutdown(c->ssl); /* close_notify */
        tls_flush(c);
        if (c->closing)
            return;
    }
    c->shutdown_req.data = c;
    /* uv_shutdown waits for the writes in flight. */
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, shutdown_cb) < 0)
        conn_fail(c, 0, "closed after write");
}

static void kick_cb(uv_timer_t *t)
{
    struct k8c_tcp_conn *c = t->data;
    if (c->closing || !c->want_writable || k8c_tcp_queued(c) > c->low_water)
        return;
    c->want_writable = false;
    if (c->ops->on_writable != NULL)
        c->ops->on_writable(c, c->arg);
}

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct k8c_tcp_conn *c = w->conn;
    c->writing -= w->len;
    k8c_free(w);
    if (c->closing)
        return;
    if (status < 0) {
        char why[K8C_ERRMSG_SIZE];
        snprintf(why, sizeof(why), "write tcp %s: %s", c->address, uv_strerror(status));
        conn_fail(c, status, why);
        return;
    }
    if (c->want_writable && k8c_tcp_queued(c) <= c->low_water)
        uv_timer_start(&c->kick, kick_cb, 0, 0);
}

static void write_raw(struct k8c_tcp_conn *c, const void *data, size_t len)
{
    struct write_req *w = k8c_malloc(sizeof(*w) + len);
    w->conn = c;
    w->len = len;
    memcpy(w->data, data, len);
    c->writing += len;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
    if (rc < 0) {
        c->writing -= len;
        k8c_free(w);
        char why[K8C_ERRMSG_SIZE];
        snprintf(why, sizeof(why), "write tcp %s: %s", c->address, uv_strerror(rc));
        conn_fail(c, rc, why);
    }
}

/* Moves TLS records from wbio to the socket. */
static void tls_flush(struct k8c_tcp_conn *c)
{
    char chunk[16384 + 512];
    while (!c->closing && BIO_ctrl_pending(c->wbio) > 0) {
        int n = BIO_read(c->wbio, chunk, (int)sizeof(chunk));
        if (n <= 0)
            break;
        write_raw(c, chunk, (size_t)n);
    }
}

static void write_plain(struct k8c_tcp_conn *c, const uint8_t *data, size_t len)
{
    if (!c->tls) {
        write_raw(c, data, len);
        return;
    }
    while (len > 0 && !c->closing) {
        int n = SSL_write(c->ssl, data, (int)(len > 16384 ? 16384 : len));
        if (n <= 0) {
            ERR_clear_error();
            conn_fail(c, K8C_ETLS, "tls: write failed");
            return;
        }
        data += n;
        len -= (size_t)n;
        tls_flush(c);
    }
}

/* ---- connection setup ---- */

static void conn_ready(struct k8c_tcp_conn *c)
{
    c->ready = true;
    uv_timer_stop(&c->deadline);
    if (c->paused && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (c->pending.len > 0) {
        struct k8c_sbuf p = c->pending;
        k8c_sbuf_init(&c->pending);
        write_plain(c, (const uint8_t *)p.data, p.len);
        k8c_sbuf_free(&p);
    }
    if (c->closing)
        return;
    if (c->ops->on_connect != NULL)
        c->ops->on_connect(c, c->arg);
    if (!c->closing)
        maybe_shutdown(c);
    if (!c->closing && c->want_writable && k8c_tcp_queued(c) <= c->low_water)
        uv_timer_start(&c->kick, kick_cb, 0, 0);
}

static void deadline_cb(uv_timer_t *t)
{
    struct k8c_tcp_conn *c = t->data;
    char why[K8C_ERRMSG_SIZE];
    if (c->connected)
        snprintf(why, sizeof(why), "net/http: TLS handshake timeout");
    else
        snprintf(why, sizeof(why), "dial tcp %s: i/o timeout", c->address);
    conn_fail(c, K8C_ETIMEDOUT, why);
}

static bool is_ip_literal(const char *host)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    return uv_ip4_addr(host, 0, &a4) == 0 || uv_ip6_addr(host, 0, &a6) == 0;
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct k8c_tcp_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        char why[K8C_ERRMSG_SIZE];
        snprintf(why, sizeof(why), "dial tcp %s: connect: %s", c->address, uv_strerror(status));
        conn_fail(c, status, why);
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    c->reading = true;
    if (!c->tls) {
        conn_ready(c);
        return;
    }
    c->ssl = SSL_new(c->ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_connect_state(c->ssl);
    if (!is_ip_literal(c->server_name))
        SSL_set_tlsext_host_name(c->ssl, c->server_name);
    if (SSL_CTX_get_verify_mode(c->ctx) & SSL_VERIFY_PEER) {
        if (is_ip_literal(c->server_name))
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->server_name);
        else
            SSL_set1_host(c->ssl, c->server_name);
    }
    SSL_do_handshake(c->ssl);
    tls_flush(c);
}

static void start_connect(struct k8c_tcp_conn *c, const struct sockaddr *addr)
{
    c->connect_req.data = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr, connect_cb);
    if (rc < 0) {
        char why[K8C_ERRMSG_SIZE];
        snprintf(why, sizeof(why), "dial tcp %s: connect: %s", c->address, uv_strerror(rc));
        conn_fail(c, rc, why);
    }
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct k8c_tcp_conn *c = req->data;
    c->resolving = false;
    if (c->closing) {
        uv_freeaddrinfo(res);
        conn_maybe_free(c);
        return;
    }
    if (status < 0 || res == NULL) {
        char why[K8C_ERRMSG_SIZE];
        snprintf(why, sizeof(why), "dial tcp: lookup %s: %s", c->host,
                 status < 0 ? uv_strerror(status) : "no such host");
        uv_freeaddrinfo(res);
        conn_fail(c, status < 0 ? status : K8C_ENOTFOUND, why);
        return;
    }
    start_connect(c, res->ai_addr);
    uv_freeaddrinfo(res);
}

/* ---- input ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = k8c_malloc(READ_CHUNK);
    buf->len = READ_CHUNK;
}

static void deliver(struct k8c_tcp_conn *c, const uint8_t *data, size_t len)
{
    if (!c->closing && len > 0 && c->ops->on_data != NULL)
        c->ops->on_data(c, data, len, c->arg);
}

static void tls_input(struct k8c_tcp_conn *c, const char *data, size_t len)
{
    BIO_write(c->rbio, data, (int)len);
    if (!c->ready) {
        int rc = SSL_do_handshake(c->ssl);
        tls_flush(c);
        if (c->closing)
            return;
        if (rc != 1) {
            int err = SSL_get_error(c->ssl, rc);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
                return;
            char why[K8C_ERRMSG_SIZE];
            long verify = SSL_get_verify_result(c->ssl);
            const char *reason = ERR_reason_error_string(ERR_peek_last_error());
            if (verify != X509_V_OK)
                snprintf(why, sizeof(why), "tls: failed to verify certificate: %s",
                         X509_verify_cert_error_string(verify));
            else
                snprintf(why, sizeof(why), "tls: handshake failed: %s",
                         reason ? reason : "connection closed by peer");
            ERR_clear_error();
            conn_fail(c, K8C_ETLS, why);
            return;
        }
        conn_ready(c);
    }
    uint8_t plain[16384];
    int n = 0;
    while (!c->closing && (n = SSL_read(c->ssl, plain, sizeof(plain))) > 0)
        deliver(c, plain, (size_t)n);
    if (c->closing)
        return;
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_ZERO_RETURN) {
        conn_fail(c, 0, "EOF");
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        conn_fail(c, K8C_ETLS, "tls: read failed");
    } else {
        tls_flush(c); /* renegotiation or key update answers */
    }
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct k8c_tcp_conn *c = stream->data;
    if (nread < 0) {
        k8c_free(buf->base);
        if (nread == UV_EOF) {
            if (!c->ready)
                conn_fail(c, K8C_ETLS, "tls: handshake failed: EOF");
            else
                conn_fail(c, 0, "EOF");
        } else {
            char why[K8C_ERRMSG_SIZE];
            snprintf(why, sizeof(why), "read tcp %s: %s", c->address, uv_strerror((int)nread));
            conn_fail(c, (int)nread, why);
        }
        return;
    }
    if (!c->closing && nread > 0) {
        if (c->tls)
            tls_input(c, buf->base, (size_t)nread);
        else
            deliver(c, (const uint8_t *)buf->base, (size_t)nread);
    }
    k8c_free(buf->base);
}

/* ---- API ---- */

static int tls_ctx(struct k8c_tcp_conn *c, const struct k8c_tcp_options *o, char *errmsg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        k8c_errmsg_printf(errmsg, "creating a TLS context failed");
        return K8C_ETLS;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    const char *failed = NULL, *file = NULL;
    if (o->ca_file != NULL && o->ca_file[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
            failed = "loading CA", file = o->ca_file;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (failed == NULL && o->cert_file != NULL && o->cert_file[0] != '\0') {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
            failed = "loading client certificate", file = o->cert_file;
        else if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file ? o->key_file : "",
                                             SSL_FILETYPE_PEM) != 1)
            failed = "loading client key", file = o->key_file ? o->key_file : "";
    }
    if (failed != NULL) {
        const char *reason = ERR_reason_error_string(ERR_peek_last_error());
        k8c_errmsg_printf(errmsg, "%s from %s: %s", failed, file, reason ? reason : "error");
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return K8C_ETLS;
    }
    if (o->alpn != NULL && o->alpn[0] != '\0' && strlen(o->alpn) < 255) {
        unsigned char wire[256];
        size_t n = strlen(o->alpn);
        wire[0] = (unsigned char)n;
        memcpy(wire + 1, o->alpn, n);
        SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)n + 1);
    }
    c->ctx = ctx;
    return 0;
}

struct k8c_tcp_conn *k8c_tcp_connect(uv_loop_t *loop, const char *host, int port,
                                     const struct k8c_tcp_options *opts,
                                     const struct k8c_tcp_ops *ops, void *arg, char *errmsg)
{
    static const struct k8c_tcp_options none = {0};
    const struct k8c_tcp_options *o = opts ? opts : &none;
    struct k8c_tcp_conn *c = K8C_NEW(struct k8c_tcp_conn);
    c->loop = loop;
    c->ops = ops;
    c->arg = arg;
    c->port = port;
    c->tls = o->tls;
    c->timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 30000;
    snprintf(c->host, sizeof(c->host), "%s", host);
    snprintf(c->server_name, sizeof(c->server_name), "%s",
             o->server_name && o->server_name[0] ? o->server_name : host);
    if (strchr(host, ':') != NULL)
        snprintf(c->address, sizeof(c->address), "[%s]:%d", host, port);
    else
        snprintf(c->address, sizeof(c->address), "%s:%d", host, port);
    k8c_sbuf_init(&c->pending);
    if (c->tls && tls_ctx(c, o, errmsg) != 0) {
        k8c_free(c);
        return NULL;
    }
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->deadline);
    uv_timer_init(loop, &c->kick);
    c->tcp.data = c->deadline.data = c->kick.data = c;
    c->handles = 3;
    uv_timer_start(&c->deadline, deadline_cb, c->timeout_ms, 0);

    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    if (uv_ip4_addr(host, port, &a4) == 0) {
        start_connect(c, (const struct sockaddr *)&a4);
    } else if (uv_ip6_addr(host, port, &a6) == 0) {
        start_connect(c, (const struct sockaddr *)&a6);
    } else {
        char service[16];
        snprintf(service, sizeof(service), "%d", port);
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        c->gai.data = c;
        c->resolving = true;
        int rc = uv_getaddrinfo(loop, &c->gai, gai_cb, host, service, &hints);
        if (rc < 0) {
            c->resolving = false;
            char why[K8C_ERRMSG_SIZE];
            snprintf(why, sizeof(why), "dial tcp: lookup %s: %s", host, uv_strerror(rc));
            conn_fail(c, rc, why);
        }
    }
    return c;
}

int k8c_tcp_send(struct k8c_tcp_conn *c, const void *data, size_t len)
{
    if (c->closing || c->shutting)
        return K8C_ECLOSED;
    if (len == 0)
        return 0;
    if (!c->ready)
        k8c_sbuf_append(&c->pending, data, len);
    else
        write_plain(c, data, len);
    return c->closing ? K8C_ECLOSED : 0;
}

size_t k8c_tcp_queued(const struct k8c_tcp_conn *c)
{
    return c->writing + c->pending.len;
}

void k8c_tcp_want_writable(struct k8c_tcp_conn *c, size_t low_water)
{
    if (c->closing)
        return;
    c->want_writable = true;
    c->low_water = low_water;
    if (c->ready && k8c_tcp_queued(c) <= low_water)
        uv_timer_start(&c->kick, kick_cb, 0, 0);
}

void k8c_tcp_pause(struct k8c_tcp_conn *c, bool paused)
{
    c->paused = paused;
    if (c->closing || !c->ready)
        return; /* the handshake reads regardless; conn_ready applies the pause */
    if (paused && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    } else if (!paused && !c->reading) {
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
        c->reading = true;
    }
}

void k8c_tcp_close_after_write(struct k8c_tcp_conn *c)
{
    if (c->closing || c->shutting)
        return;
    c->shutting = true;
    maybe_shutdown(c);
}

void k8c_tcp_close(struct k8c_tcp_conn *c)
{
    conn_fail(c, K8C_ECANCELED, "closed");
}

const char *k8c_tcp_address(const struct k8c_tcp_conn *c)
{
    return c->address;
}
