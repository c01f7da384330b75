/*
 * Forwarded subresources: pods/log, exec, attach, portforward, proxy and
 * nodes/proxy. See proxy.h.
 *
 * One struct proxy per request, owned by the api_req (req->op). It lives
 * as long as the request, and the request lives as long as its client
 * stream and the backend connection: the stream holds the request's first
 * reference, the backend connection one more from connect to its on_close.
 * Either side going away closes the other.
 *
 * The exchange with the backend is HTTP/1.1, one request per connection
 * ("Connection: close", or the client's Upgrade). The response is parsed
 * with http-parser until its head is complete; then
 *   - 101 to an upgrade request: the client gets the backend's 101 head,
 *     its connection is hijacked (lib/http), and from then on bytes are
 *     relayed both ways as they are; each direction pauses reading its
 *     source while the other side's output queue is above RELAY_HIGH and
 *     resumes when it drained to RELAY_LOW;
 *   - anything else: status and end-to-end headers are passed on and the
 *     body streamed, again pausing the backend while the client is slow.
 *     Logs follow upstream's LocationStreamer instead: a 2xx becomes a
 *     text/plain 200 and other answers become a Status with the kubelet's
 *     text.
 * Errors before any byte of a response was sent are upstream Status
 * answers; after that the client stream is reset (or the raw connection
 * ended), since HTTP has no way to report a broken body.
 */
#include "proxy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "alloc.h"
#include "error.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "log.h"
#include "object.h"
#include "tcpclient.h"

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__Node node_t;

#define RELAY_HIGH          (1024 * 1024)
#define RELAY_LOW           (256 * 1024)
#define MAX_RESPONSE_HEAD   (64 * 1024)
#define MAX_RESPONSE_HDRS   128
#define MAX_ERROR_BODY      (50 * 1024) /* upstream's maxReadLength for error bodies */
#define DEFAULT_KUBELET     10250
#define MAX_CONNECT_TIMEOUT 30000

enum proxy_kind { PROXY_LOG, PROXY_EXEC, PROXY_ATTACH, PROXY_PORTFORWARD, PROXY_POD, PROXY_NODE };

static const char *const kind_names[] = {"log", "exec", "attach", "portforward", "proxy", "proxy"};

struct proxy {
    struct api_req *req;
    enum proxy_kind kind;
    char name[256];                /* the object's name (pod or node) */
    char scheme[8];                /* proxy: scheme from the name ("" = default) */
    char port[16];                 /* proxy: port from the name ("" = default) */
    char *target;                  /* backend request target: path and query */
    char *container;               /* log/exec/attach: the container chosen */
    struct k8c_sbuf backend_query; /* log/exec/attach/portforward: the query sent */
    bool upgrade;                  /* the client asked for Upgrade */
    bool head_request;             /* HEAD: the response has no body */
    char node_name[256];           /* the pod's node */
    char host[256];                /* backend */
    int backend_port;
    bool tls;
    struct k8c_tcp_conn *backend;
    /* response parsing */
    http_parser parser;
    struct k8c_sbuf hname, hvalue;
    bool in_value;
    char *hdr_names[MAX_RESPONSE_HDRS], *hdr_values[MAX_RESPONSE_HDRS];
    size_t nhdrs, head_bytes;
    int status;
    bool head_done;       /* the response head was parsed */
    bool responded;       /* the client got response headers */
    bool message_done;    /* the response body ended */
    bool raw;             /* relaying an upgraded connection */
    bool error_body;      /* logs: collecting a non-2xx body for the Status */
    struct k8c_sbuf body; /* error body */
    bool failed;          /* parse error */
    bool interim;         /* a 1xx response is being skipped */
};

static struct api_proxy_options proxy_opts;

void api_proxy_configure(const struct api_proxy_options *opts)
{
    k8c_free((char *)proxy_opts.kubelet_ca_file);
    k8c_free((char *)proxy_opts.kubelet_cert_file);
    k8c_free((char *)proxy_opts.kubelet_key_file);
    memset(&proxy_opts, 0, sizeof(proxy_opts));
    if (opts == NULL)
        return;
    proxy_opts = *opts;
    proxy_opts.kubelet_ca_file = opts->kubelet_ca_file ? k8c_strdup(opts->kubelet_ca_file) : NULL;
    proxy_opts.kubelet_cert_file =
        opts->kubelet_cert_file ? k8c_strdup(opts->kubelet_cert_file) : NULL;
    proxy_opts.kubelet_key_file =
        opts->kubelet_key_file ? k8c_strdup(opts->kubelet_key_file) : NULL;
}

static void proxy_free(struct proxy *p)
{
    k8c_free(p->target);
    k8c_free(p->container);
    k8c_sbuf_free(&p->backend_query);
    k8c_sbuf_free(&p->hname);
    k8c_sbuf_free(&p->hvalue);
    k8c_sbuf_free(&p->body);
    for (size_t i = 0; i < p->nhdrs; i++) {
        k8c_free(p->hdr_names[i]);
        k8c_free(p->hdr_values[i]);
    }
    k8c_free(p);
}

/* ======================= query strings ======================= */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A decoded copy of s[0..len) ('+' is a space, as in forms). */
static char *query_decode(const char *s, size_t len)
{
    char *out = k8c_malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Appends s escaped as Go's url.QueryEscape does. */
static void query_escape(struct k8c_sbuf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            k8c_sbuf_putc(out, (char)c);
        } else if (c == ' ') {
            k8c_sbuf_putc(out, '+');
        } else {
            k8c_sbuf_putc(out, '%');
            k8c_sbuf_putc(out, hex[c >> 4]);
            k8c_sbuf_putc(out, hex[c & 15]);
        }
    }
}

static void query_add(struct k8c_sbuf *q, const char *name, const char *value)
{
    if (q->len > 0)
        k8c_sbuf_putc(q, '&');
    query_escape(q, name);
    k8c_sbuf_putc(q, '=');
    query_escape(q, value);
}

/* Appends s as a JSON string. */
static void json_string(struct k8c_sbuf *out, const char *s)
{
    k8c_sbuf_putc(out, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            k8c_sbuf_printf(out, "\\%c", c);
        else if (c < 0x20)
            k8c_sbuf_printf(out, "\\u%04x", c);
        else
            k8c_sbuf_putc(out, (char)c);
    }
    k8c_sbuf_putc(out, '"');
}

struct query_param {
    char *name, *value;
};

/* The decoded parameters of a query, in order (*n of them). Free with
 * params_free. */
static struct query_param *params_parse(const char *query, size_t *n)
{
    struct query_param *v = NULL;
    size_t count = 0;
    const char *q = query;
    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > 0) {
            const char *eq = memchr(q, '=', len);
            size_t nlen = eq ? (size_t)(eq - q) : len;
            v = k8c_realloc(v, (count + 1) * sizeof(*v));
            v[count].name = query_decode(q, nlen);
            v[count].value = eq ? query_decode(eq + 1, len - nlen - 1) : k8c_strdup("");
            count++;
        }
        q = amp ? amp + 1 : NULL;
    }
    *n = count;
    return v;
}

static void params_free(struct query_param *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        k8c_free(v[i].name);
        k8c_free(v[i].value);
    }
    k8c_free(v);
}

/* The last value of name, or NULL (Go's query decoding keeps the first for
 * scalars; clients send each once). */
static const char *param(const struct query_param *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return v[i].value;
    return NULL;
}

/* strconv.ParseBool. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return K8C_EINVAL;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    if (*s == '\0')
        return K8C_EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno != 0)
        return K8C_EINVAL;
    *out = v;
    return 0;
}

/* ======================= pods and nodes ======================= */

static bool pod_has_container(const pod_t *pod, const char *name)
{
    const K8s__Io__Api__Core__V1__PodSpec *spec = pod->spec;
    if (spec == NULL)
        return false;
    for (size_t i = 0; i < spec->n_containers; i++)
        if (spec->containers[i]->name && strcmp(spec->containers[i]->name, name) == 0)
            return true;
    for (size_t i = 0; i < spec->n_initcontainers; i++)
        if (spec->initcontainers[i]->name && strcmp(spec->initcontainers[i]->name, name) == 0)
            return true;
    for (size_t i = 0; i < spec->n_ephemeralcontainers; i++) {
        const K8s__Io__Api__Core__V1__EphemeralContainerCommon *c =
            spec->ephemeralcontainers[i]->ephemeralcontainercommon;
        if (c != NULL && c->name && strcmp(c->name, name) == 0)
            return true;
    }
    return false;
}

static void append_names(struct k8c_sbuf *out, K8s__Io__Api__Core__V1__Container **c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        k8c_sbuf_printf(out, "%s%s", out->len && out->data[out->len - 1] != '[' ? " " : "",
                        c[i]->name ? c[i]->name : "");
}

/* The container the request is about: the one named, or the only one.
 * Answers 400 and returns NULL otherwise, with upstream's messages (logs:
 * validateContainer, which lists every container; exec and attach:
 * streamLocation, which lists regular and init containers apart). */
static const char *choose_container(struct proxy *p, const pod_t *pod, const char *wanted)
{
    struct api_req *req = p->req;
    const K8s__Io__Api__Core__V1__PodSpec *spec = pod->spec;
    size_t n = spec ? spec->n_containers : 0;
    if (wanted != NULL && wanted[0] != '\0') {
        if (!pod_has_container(pod, wanted)) {
            api_respond_statusf(req, 400, "BadRequest", "container %s is not valid for pod %s",
                                wanted, p->name);
            return NULL;
        }
        return wanted;
    }
    if (n == 1)
        return spec->containers[0]->name ? spec->containers[0]->name : "";
    if (n == 0) {
        api_respond_statusf(req, 400, "BadRequest", "a container name must be specified for pod %s",
                            p->name);
        return NULL;
    }
    struct k8c_sbuf msg;
    k8c_sbuf_init(&msg);
    k8c_sbuf_printf(&msg, "a container name must be specified for pod %s, choose one of: [",
                    p->name);
    if (p->kind == PROXY_LOG) {
        append_names(&msg, spec->initcontainers, spec->n_initcontainers);
        append_names(&msg, spec->containers, spec->n_containers);
        for (size_t i = 0; i < spec->n_ephemeralcontainers; i++) {
            const K8s__Io__Api__Core__V1__EphemeralContainerCommon *c =
                spec->ephemeralcontainers[i]->ephemeralcontainercommon;
            k8c_sbuf_printf(&msg, " %s", c && c->name ? c->name : "");
        }
        k8c_sbuf_puts(&msg, "]");
    } else {
        append_names(&msg, spec->containers, spec->n_containers);
        k8c_sbuf_puts(&msg, "]");
        if (spec->n_initcontainers > 0) {
            k8c_sbuf_puts(&msg, " or one of the init containers: [");
            append_names(&msg, spec->initcontainers, spec->n_initcontainers);
            k8c_sbuf_puts(&msg, "]");
        }
    }
    api_respond_status(req, 400, "BadRequest", msg.data);
    k8c_sbuf_free(&msg);
    return NULL;
}

/* upstream GetPreferredNodeAddress with the address types in this order. */
static const char *node_address(const node_t *node)
{
    static const char *const order[] = {"InternalIP", "Hostname", "InternalDNS", "ExternalIP",
                                        "ExternalDNS"};
    const K8s__Io__Api__Core__V1__NodeStatus *st = node->status;
    for (size_t t = 0; t < sizeof(order) / sizeof(order[0]); t++) {
        for (size_t i = 0; st != NULL && i < st->n_addresses; i++) {
            const K8s__Io__Api__Core__V1__NodeAddress *a = st->addresses[i];
            if (a->type && a->address && a->address[0] && strcmp(a->type, order[t]) == 0)
                return a->address;
        }
        if (strcmp(order[t], "Hostname") == 0) {
            const char *label = api_meta_label(node->metadata, "kubernetes.io/hostname");
            if (label != NULL && label[0] != '\0')
                return label;
        }
    }
    return NULL;
}

/* Whether ip is an address upstream's pod proxy may dial (IsGlobalUnicast:
 * not loopback, link-local, multicast or unspecified). */
static bool global_unicast(const char *ip)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    if (uv_ip4_addr(ip, 0, &a4) == 0) {
        uint32_t a = ntohl(a4.sin_addr.s_addr);
        return a != 0 && (a >> 24) != 127 && (a >> 16) != 0xa9fe && (a >> 28) != 0xe &&
               a != 0xffffffffu;
    }
    if (uv_ip6_addr(ip, 0, &a6) == 0) {
        const uint8_t *b = a6.sin6_addr.s6_addr;
        static const uint8_t zero[16], loop[16] = {[15] = 1};
        if (memcmp(b, zero, 16) == 0 || memcmp(b, loop, 16) == 0)
            return false;
        if (b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
            return false;
        return true;
    }
    return false;
}

/* utilnet.SplitSchemeNamePort: "name", "name:port", "scheme:name:port". */
static bool split_scheme_name_port(const char *id, char *scheme, char *name, char *port)
{
    char buf[256];
    char *parts[3];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", id);
    char *s = buf;
    for (;;) {
        char *colon = strchr(s, ':');
        if (n == 3)
            return false;
        parts[n++] = s;
        if (colon == NULL)
            break;
        *colon = '\0';
        s = colon + 1;
    }
    scheme[0] = port[0] = '\0';
    if (n == 1) {
        snprintf(name, 256, "%s", parts[0]);
    } else if (n == 2) {
        snprintf(name, 256, "%s", parts[0]);
        snprintf(port, 16, "%s", parts[1]);
    } else {
        snprintf(scheme, 8, "%s", parts[0]);
        snprintf(name, 256, "%s", parts[1]);
        snprintf(port, 16, "%s", parts[2]);
        if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 && scheme[0] != '\0')
            return false;
    }
    return name[0] != '\0';
}

/* ======================= talking to the backend ======================= */

static void proxy_connect(struct proxy *p);
static void read_node(struct proxy *p, const char *name);

static bool hop_by_hop(const char *name, const char *connection)
{
    static const char *const names[] = {"connection",
                                        "keep-alive",
                                        "proxy-connection",
                                        "proxy-authenticate",
                                        "proxy-authorization",
                                        "te",
                                        "trailer",
                                        "transfer-encoding",
                                        "upgrade"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    /* headers the Connection header names are hop-by-hop too */
    size_t nlen = strlen(name);
    for (const char *c = connection; c != NULL && *c != '\0';) {
        while (*c == ' ' || *c == ',')
            c++;
        size_t len = strcspn(c, ", ");
        if (len == nlen && strncasecmp(c, name, len) == 0)
            return true;
        c += len;
    }
    return false;
}

/* Client request headers passed to the backend: end-to-end ones, less our
 * own credentials (upstream's authentication filter drops Authorization and
 * impersonation headers before proxying). */
static bool forward_request_header(const char *name, const char *connection)
{
    if (name[0] == ':' || strcmp(name, "host") == 0 || strcmp(name, "authorization") == 0 ||
        strcmp(name, "content-length") == 0 || strcmp(name, "expect") == 0 ||
        strncmp(name, "impersonate-", 12) == 0)
        return false;
    return !hop_by_hop(name, connection);
}

static void build_request(struct proxy *p, struct k8c_sbuf *out)
{
    struct api_req *req = p->req;
    struct k8c_http_stream *s = req->s;
    const char *method = p->kind == PROXY_LOG ? "GET" : k8c_http_stream_method(s);
    k8c_sbuf_printf(out, "%s %s HTTP/1.1\r\n", method, p->target);
    if (strchr(p->host, ':') != NULL)
        k8c_sbuf_printf(out, "Host: [%s]:%d\r\n", p->host, p->backend_port);
    else
        k8c_sbuf_printf(out, "Host: %s:%d\r\n", p->host, p->backend_port);
    if (p->kind == PROXY_LOG) {
        k8c_sbuf_puts(out, "User-Agent: k8c-apiserver\r\nConnection: close\r\n\r\n");
        return;
    }
    const char *connection = k8c_http_stream_header(s, "connection");
    size_t n = 0;
    const struct k8c_http_header *h = k8c_http_stream_headers(s, &n);
    for (size_t i = 0; i < n; i++)
        if (forward_request_header(h[i].name, connection))
            k8c_sbuf_printf(out, "%s: %s\r\n", h[i].name, h[i].value);
    if (p->upgrade)
        k8c_sbuf_printf(out, "Connection: Upgrade\r\nUpgrade: %s\r\n",
                        k8c_http_stream_header(s, "upgrade"));
    else
        k8c_sbuf_puts(out, "Connection: close\r\n");
    if (req->body.len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0)
        k8c_sbuf_printf(out, "Content-Length: %zu\r\n", req->body.len);
    k8c_sbuf_puts(out, "\r\n");
    if (req->body.len > 0)
        k8c_sbuf_append(out, req->body.data, req->body.len);
}

/* The backend failed before a response: upstream's answers for a dial
 * error (a plain error, so 500 with reason Unknown). */
static void respond_backend_error(struct proxy *p, const char *why)
{
    struct api_req *req = p->req;
    const char *scheme = p->tls ? "https" : "http";
    char hostport[300];
    if (strchr(p->host, ':') != NULL)
        snprintf(hostport, sizeof(hostport), "[%s]:%d", p->host, p->backend_port);
    else
        snprintf(hostport, sizeof(hostport), "%s:%d", p->host, p->backend_port);
    if (p->kind == PROXY_LOG)
        api_respond_statusf(req, 500, "", "Get \"%s://%s%s\": %s", scheme, hostport, p->target,
                            why);
    else if (p->upgrade)
        api_respond_statusf(req, 500, "", "error dialing backend: %s", why);
    else
        api_respond_statusf(req, 502, "", "error trying to reach %s: %s",
                            p->kind == PROXY_NODE ? "node" : "pod", why);
}

/* Logs: a kubelet answer outside 2xx, as upstream's
 * GenericHttpResponseChecker makes it a Status. */
static void respond_log_error(struct proxy *p)
{
    struct api_req *req = p->req;
    const char *text = p->body.data ? p->body.data : "";
    switch (p->status) {
    case 500:
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", text);
        break;
    case 400:
        api_respond_status(req, 400, "BadRequest", text);
        break;
    case 404:
        api_respond_status(req, 404, "NotFound",
                           text[0] ? text : "the server could not find the requested resource");
        break;
    default:
        if (text[0] == '\0')
            api_respond_statusf(req, p->status, "",
                                "the server responded with the status code %d but did not "
                                "return more information",
                                p->status);
        else
            api_respond_status(req, p->status, "", text);
    }
}

static struct proxy *parser_proxy(http_parser *hp)
{
    return hp->data;
}

static void header_done(struct proxy *p)
{
    if (p->hname.len == 0)
        return;
    if (p->nhdrs < MAX_RESPONSE_HDRS) {
        p->hdr_names[p->nhdrs] = k8c_strndup(p->hname.data, p->hname.len);
        p->hdr_values[p->nhdrs] = k8c_strndup(p->hvalue.data ? p->hvalue.data : "", p->hvalue.len);
        p->nhdrs++;
    } else {
        p->failed = true;
    }
    k8c_sbuf_reset(&p->hname);
    k8c_sbuf_reset(&p->hvalue);
    p->in_value = false;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    struct proxy *p = parser_proxy(hp);
    if (p->in_value)
        header_done(p);
    p->head_bytes += len;
    if (p->head_bytes > MAX_RESPONSE_HEAD)
        return 1;
    k8c_sbuf_append(&p->hname, at, len);
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    struct proxy *p = parser_proxy(hp);
    p->in_value = true;
    p->head_bytes += len;
    if (p->head_bytes > MAX_RESPONSE_HEAD)
        return 1;
    k8c_sbuf_append(&p->hvalue, at, len);
    return 0;
}

static const char *response_header(const struct proxy *p, const char *name)
{
    for (size_t i = 0; i < p->nhdrs; i++)
        if (strcasecmp(p->hdr_names[i], name) == 0)
            return p->hdr_values[i];
    return NULL;
}

/* Sends the response head to the client (not for upgrades). */
static void respond_head(struct proxy *p)
{
    struct api_req *req = p->req;
    p->responded = true;
    if (p->kind == PROXY_LOG) {
        struct k8c_http_header h[] = {{"content-type", "text/plain"}};
        k8c_http_stream_respond(req->s, 200, h, 1, false);
        return;
    }
    struct k8c_http_header h[MAX_RESPONSE_HDRS];
    size_t n = 0;
    const char *connection = response_header(p, "connection");
    for (size_t i = 0; i < p->nhdrs; i++)
        if (!hop_by_hop(p->hdr_names[i], connection))
            h[n++] = (struct k8c_http_header){p->hdr_names[i], p->hdr_values[i]};
    bool empty = p->head_request || p->status == 204 || p->status == 304;
    k8c_http_stream_respond(req->s, p->status, h, n, empty);
    if (empty)
        p->message_done = true;
}

static int on_headers_complete(http_parser *hp)
{
    struct proxy *p = parser_proxy(hp);
    header_done(p);
    p->head_done = true;
    p->status = hp->status_code;
    if (p->failed)
        return -1; /* an error for http-parser (1 and 2 mean "no body") */
    if (p->status == 101 && p->upgrade)
        return 2; /* stop after the head: the relay starts once the parser returns */
    if (p->status >= 100 && p->status < 200) {
        /* interim (100 Continue, 103): the final response follows */
        for (size_t i = 0; i < p->nhdrs; i++) {
            k8c_free(p->hdr_names[i]);
            k8c_free(p->hdr_values[i]);
        }
        p->nhdrs = 0;
        p->head_bytes = 0;
        p->head_done = false;
        p->interim = true;
        return 0;
    }
    if (p->kind == PROXY_LOG && (p->status < 200 || p->status > 206))
        p->error_body = true;
    else if (!api_req_gone(p->req))
        respond_head(p);
    if (p->head_request)
        return 1; /* no body follows */
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct proxy *p = parser_proxy(hp);
    struct api_req *req = p->req;
    if (p->error_body) {
        if (p->body.len < MAX_ERROR_BODY)
            k8c_sbuf_append(&p->body, at,
                            len < MAX_ERROR_BODY - p->body.len ? len
                                                               : MAX_ERROR_BODY - p->body.len);
        return 0;
    }
    if (api_req_gone(req) || !p->responded || p->message_done)
        return 0;
    k8c_http_stream_send_copy(req->s, at, len);
    if (p->backend != NULL && k8c_http_stream_queued(req->s) > RELAY_HIGH) {
        k8c_tcp_pause(p->backend, true);
        k8c_http_stream_want_writable(req->s, RELAY_LOW);
    }
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct proxy *p = parser_proxy(hp);
    struct api_req *req = p->req;
    if (p->status == 101 && p->upgrade)
        return 0;
    if (p->interim) {
        p->interim = false;
        return 0;
    }
    if (p->message_done)
        return 0;
    p->message_done = true;
    if (api_req_gone(req))
        return 0;
    if (p->error_body)
        respond_log_error(p);
    else
        k8c_http_stream_finish(req->s, NULL, 0);
    return 0;
}

static const http_parser_settings response_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- raw relay ---- */

static void client_raw_bytes(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    if (p->backend == NULL)
        return;
    k8c_tcp_send(p->backend, data, len);
    if (p->backend != NULL && k8c_tcp_queued(p->backend) > RELAY_HIGH) {
        k8c_http_stream_raw_pause(s, true);
        k8c_tcp_want_writable(p->backend, RELAY_LOW);
    }
}

static void client_closed(struct k8c_http_stream *s, int error, void *arg)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    (void)s;
    k8c_log_v(4, "proxy: client closed kind=%s name=%s error=%d", kind_names[p->kind], p->name,
              error);
    req->s = NULL;
    if (p->backend != NULL)
        k8c_tcp_close(p->backend);
    api_req_unref(req);
}

static void relay_to_client(struct proxy *p, const uint8_t *data, size_t len)
{
    struct api_req *req = p->req;
    if (len == 0 || api_req_gone(req))
        return;
    struct k8c_buf *b = k8c_buf_copy(data, len);
    k8c_http_stream_raw_send(req->s, b);
    k8c_buf_unref(b);
    if (p->backend != NULL && k8c_http_stream_queued(req->s) > RELAY_HIGH) {
        k8c_tcp_pause(p->backend, true);
        k8c_http_stream_want_writable(req->s, RELAY_LOW);
    }
}

/* The backend switched protocols: pass its 101 on and relay from now on. */
static void start_relay(struct proxy *p, const uint8_t *rest, size_t len)
{
    struct api_req *req = p->req;
    if (api_req_gone(req))
        return;
    struct k8c_http_header h[MAX_RESPONSE_HDRS];
    for (size_t i = 0; i < p->nhdrs; i++)
        h[i] = (struct k8c_http_header){p->hdr_names[i], p->hdr_values[i]};
    p->raw = true;
    p->responded = true;
    k8c_log_v(3, "proxy: upgraded kind=%s ns=%s name=%s backend=%s", kind_names[p->kind], req->ns,
              p->name, k8c_tcp_address(p->backend));
    if (k8c_http_stream_respond(req->s, 101, h, p->nhdrs, false) != 0 ||
        k8c_http_stream_hijack(req->s, client_raw_bytes, client_closed, req) != 0) {
        k8c_http_stream_reset(req->s, false);
        return;
    }
    relay_to_client(p, rest, len);
}

/* ---- backend connection callbacks ---- */

static void backend_data(struct k8c_tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    (void)c;
    if (p->raw) {
        relay_to_client(p, data, len);
        return;
    }
    if (p->message_done)
        return; /* bytes after the response: ignored */
    size_t n = http_parser_execute(&p->parser, &response_settings, (const char *)data, len);
    if (p->status == 101 && p->upgrade && p->head_done) {
        start_relay(p, data + n, len - n);
        return;
    }
    enum http_errno err = HTTP_PARSER_ERRNO(&p->parser);
    if (err != HPE_OK || p->failed) {
        char why[K8C_ERRMSG_SIZE];
        snprintf(why, sizeof(why), "malformed HTTP response from %s: %s",
                 k8c_tcp_address(p->backend),
                 p->failed ? "too many headers" : http_errno_description(err));
        p->message_done = true;
        if (!api_req_gone(req) && !k8c_http_stream_headers_sent(req->s))
            respond_backend_error(p, why);
        else if (!api_req_gone(req))
            k8c_http_stream_reset(req->s, false);
        if (p->backend != NULL)
            k8c_tcp_close(p->backend);
        return;
    }
    if (p->message_done && p->backend != NULL)
        k8c_tcp_close(p->backend);
}

static void backend_writable(struct k8c_tcp_conn *c, void *arg)
{
    struct api_req *req = arg;
    (void)c;
    if (!api_req_gone(req))
        k8c_http_stream_raw_pause(req->s, false);
}

static void backend_closed(struct k8c_tcp_conn *c, int error, const char *why, void *arg)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    (void)c;
    p->backend = NULL;
    k8c_log_v(4, "proxy: backend closed kind=%s name=%s error=%d why=\"%s\"", kind_names[p->kind],
              p->name, error, why);
    if (!api_req_gone(req)) {
        if (p->raw) {
            k8c_http_stream_raw_end(req->s);
        } else if (!p->head_done) {
            if (error == 0)
                why = "EOF";
            respond_backend_error(p, why);
        } else if (!p->message_done) {
            /* A body delimited by the end of the connection ends here;
             * anything else was cut short. */
            if (error == 0)
                http_parser_execute(&p->parser, &response_settings, NULL, 0);
            if (!p->message_done && !api_req_gone(req)) {
                p->message_done = true;
                if (!k8c_http_stream_headers_sent(req->s))
                    respond_backend_error(p, "unexpected EOF");
                else
                    k8c_http_stream_reset(req->s, false);
            }
        }
    }
    api_req_unref(req);
}

static const struct k8c_tcp_ops backend_ops = {
    .on_data = backend_data,
    .on_writable = backend_writable,
    .on_close = backend_closed,
};

/* ---- client stream callbacks (replacing rest.c's once we forward) ---- */

static void client_writable(struct k8c_http_stream *s, void *arg)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    (void)s;
    if (p->backend != NULL)
        k8c_tcp_pause(p->backend, false);
}

static const struct k8c_http_stream_ops client_ops = {
    .on_writable = client_writable,
    .on_close = client_closed,
};

static void proxy_connect(struct proxy *p)
{
    struct api_req *req = p->req;
    char errmsg[K8C_ERRMSG_SIZE];
    bool kubelet = p->kind != PROXY_POD;
    struct k8c_tcp_options o = {
        .tls = p->tls,
        .ca_file = kubelet ? proxy_opts.kubelet_ca_file : NULL,
        .cert_file = kubelet ? proxy_opts.kubelet_cert_file : NULL,
        .key_file = kubelet ? proxy_opts.kubelet_key_file : NULL,
        .alpn = "http/1.1",
        .connect_timeout_ms =
            proxy_opts.connect_timeout_ms ? proxy_opts.connect_timeout_ms : MAX_CONNECT_TIMEOUT,
    };
    if (p->upgrade && k8c_http_stream_version(req->s) != 1) {
        /* client-go upgrades over HTTP/1.1 only; HTTP/2 has no Upgrade. */
        api_respond_status(req, 400, "BadRequest",
                           "Upgrade request required over HTTP/1.1 (HTTP/2 cannot upgrade)");
        return;
    }
    http_parser_init(&p->parser, HTTP_RESPONSE);
    p->parser.data = p;
    k8c_log_v(3, "proxy: forwarding kind=%s ns=%s name=%s backend=%s:%d target=%s",
              kind_names[p->kind], req->ns, p->name, p->host, p->backend_port, p->target);
    api_req_ref(req); /* the backend's reference, dropped in backend_closed */
    p->backend =
        k8c_tcp_connect(req->srv->loop, p->host, p->backend_port, &o, &backend_ops, req, errmsg);
    if (p->backend == NULL) {
        api_req_unref(req);
        api_respond_statusf(req, 500, "", "error dialing backend: %s", errmsg);
        return;
    }
    k8c_http_stream_set_ops(req->s, &client_ops, req);
    struct k8c_sbuf head;
    k8c_sbuf_init(&head);
    build_request(p, &head);
    k8c_tcp_send(p->backend, head.data, head.len);
    k8c_sbuf_free(&head);
}

/* ======================= targets ======================= */

static void set_target(struct proxy *p, const char *path, const char *query)
{
    struct k8c_sbuf t;
    k8c_sbuf_init(&t);
    k8c_sbuf_puts(&t, path);
    if (query != NULL && query[0] != '\0')
        k8c_sbuf_printf(&t, "?%s", query);
    k8c_free(p->target);
    p->target = k8c_sbuf_detach(&t);
}

/* The rest of the request path after ".../<name>/proxy", at least "/". */
static const char *proxy_subpath(const struct api_req *req)
{
    char prefix[700];
    if (req->ns[0] != '\0')
        snprintf(prefix, sizeof(prefix), "/api/%s/namespaces/%s/%s/%s/proxy", req->version, req->ns,
                 req->res->resource, req->name);
    else
        snprintf(prefix, sizeof(prefix), "/api/%s/%s/%s/proxy", req->version, req->res->resource,
                 req->name);
    size_t n = strlen(prefix);
    if (strncmp(req->path, prefix, n) != 0 || req->path[n] == '\0')
        return "/";
    return req->path + n;
}

/* 422 for PodLogOptions, as upstream's errors.NewInvalid builds it: kubectl
 * prints it from details.kind and details.causes, which api_respond_status
 * does not carry, so the Status is written here (always JSON). */
static void respond_invalid_log_options(struct proxy *p, const char *field, const char *reason,
                                        int64_t value, const char *detail)
{
    char cause[256], message[700];
    if (strcmp(reason, "FieldValueForbidden") == 0)
        snprintf(cause, sizeof(cause), "Forbidden: %s", detail);
    else
        snprintf(cause, sizeof(cause), "Invalid value: %lld: %s", (long long)value, detail);
    snprintf(message, sizeof(message), "PodLogOptions \"%s\" is invalid: %s: %s", p->name,
             field[0] ? field : "<nil>", cause);
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    k8c_sbuf_puts(&out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                        "\"status\":\"Failure\",\"message\":");
    json_string(&out, message);
    k8c_sbuf_puts(&out, ",\"reason\":\"Invalid\",\"details\":{\"name\":");
    json_string(&out, p->name);
    k8c_sbuf_printf(&out,
                    ",\"kind\":\"PodLogOptions\",\"causes\":[{\"reason\":\"%s\","
                    "\"message\":",
                    reason);
    json_string(&out, cause);
    k8c_sbuf_puts(&out, ",\"field\":");
    json_string(&out, field);
    k8c_sbuf_puts(&out, "}]},\"code\":422}");
    api_respond_raw(p->req, 422, "application/json", out.data, out.len);
    k8c_sbuf_free(&out);
}

/* Log, exec, attach and port-forward options from the client's query, as
 * the kubelet's query (Go's url.Values.Encode: keys sorted). Answers the
 * error and returns false when an option is malformed. */
static bool stream_options(struct proxy *p, const struct query_param *v, size_t n)
{
    struct api_req *req = p->req;
    struct k8c_sbuf *q = &p->backend_query;
    k8c_sbuf_reset(q);
    if (p->kind == PROXY_LOG) {
        static const char *const bools[] = {"follow", "previous", "timestamps"};
        static const char *const ints[] = {"limitBytes", "sinceSeconds", "tailLines"};
        bool b[3] = {false, false, false};
        int64_t iv[3];
        bool has[3] = {false, false, false};
        for (size_t i = 0; i < 3; i++) {
            const char *s = param(v, n, bools[i]);
            if (s != NULL && s[0] != '\0' && parse_bool(s, &b[i]) != 0) {
                api_respond_statusf(req, 400, "BadRequest",
                                    "strconv.ParseBool: parsing \"%s\": invalid syntax", s);
                return false;
            }
            if (s != NULL && s[0] == '\0')
                b[i] = false;
            s = param(v, n, ints[i]);
            if (s != NULL) {
                if (parse_int(s, &iv[i]) != 0) {
                    api_respond_statusf(req, 400, "BadRequest",
                                        "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
                    return false;
                }
                has[i] = true;
            }
        }
        const char *since_time = param(v, n, "sinceTime");
        if (has[2] && iv[2] < 0) {
            respond_invalid_log_options(p, "tailLines", "FieldValueInvalid", iv[2],
                                        "must be greater than or equal to 0");
            return false;
        }
        if (has[0] && iv[0] < 1) {
            respond_invalid_log_options(p, "limitBytes", "FieldValueInvalid", iv[0],
                                        "must be greater than 0");
            return false;
        }
        if (has[1] && since_time != NULL) {
            respond_invalid_log_options(p, "", "FieldValueForbidden", 0,
                                        "at most one of `sinceTime` or `sinceSeconds` may be "
                                        "specified");
            return false;
        }
        if (has[1] && iv[1] < 1) {
            respond_invalid_log_options(p, "sinceSeconds", "FieldValueInvalid", iv[1],
                                        "must be greater than 0");
            return false;
        }
        char num[24];
        if (b[0])
            query_add(q, "follow", "true");
        if (has[0]) {
            snprintf(num, sizeof(num), "%lld", (long long)iv[0]);
            query_add(q, "limitBytes", num);
        }
        if (b[1])
            query_add(q, "previous", "true");
        if (has[1]) {
            snprintf(num, sizeof(num), "%lld", (long long)iv[1]);
            query_add(q, "sinceSeconds", num);
        }
        if (since_time != NULL && since_time[0] != '\0')
            query_add(q, "sinceTime", since_time);
        if (has[2]) {
            snprintf(num, sizeof(num), "%lld", (long long)iv[2]);
            query_add(q, "tailLines", num);
        }
        if (b[2])
            query_add(q, "timestamps", "true");
        return true;
    }
    if (p->kind == PROXY_PORTFORWARD) {
        struct k8c_sbuf ports;
        k8c_sbuf_init(&ports);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(v[i].name, "ports") != 0)
                continue;
            /* each value may itself be a comma-separated list */
            char *copy = k8c_strdup(v[i].value);
            for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                int64_t port;
                if (parse_int(t, &port) != 0 || port < 1 || port > 65535) {
                    api_respond_statusf(req, 400, "BadRequest",
                                        "invalid port %s: must be between 1 and 65535", t);
                    k8c_free(copy);
                    k8c_sbuf_free(&ports);
                    return false;
                }
                k8c_sbuf_printf(&ports, "%s%lld", ports.len ? "," : "", (long long)port);
            }
            k8c_free(copy);
        }
        if (ports.len > 0)
            query_add(q, "port", ports.data);
        k8c_sbuf_free(&ports);
        return true;
    }
    /* exec and attach */
    static const char *const bools[] = {"stderr", "stdin", "stdout", "tty"};
    bool b[4] = {false, false, false, false};
    for (size_t i = 0; i < 4; i++) {
        const char *s = param(v, n, bools[i]);
        if (s != NULL && s[0] != '\0' && parse_bool(s, &b[i]) != 0) {
            api_respond_statusf(req, 400, "BadRequest",
                                "strconv.ParseBool: parsing \"%s\": invalid syntax", s);
            return false;
        }
    }
    if (p->kind == PROXY_EXEC)
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].name, "command") == 0)
                query_add(q, "command", v[i].value);
    for (size_t i = 0; i < 4; i++)
        if (b[i])
            query_add(q, bools[i], "1");
    return true;
}

/* The pod is read: find where the request goes. */
static void pod_ready(struct proxy *p, const pod_t *pod)
{
    struct api_req *req = p->req;
    const K8s__Io__Api__Core__V1__PodSpec *spec = pod->spec;
    const char *node = spec && spec->nodename && spec->nodename[0] ? spec->nodename : NULL;
    char path[1024];
    size_t nparams = 0;
    struct query_param *params = params_parse(req->query, &nparams);

    if (p->kind == PROXY_POD) {
        const K8s__Io__Api__Core__V1__PodStatus *st = pod->status;
        const char *ip = st && st->podip && st->podip[0] ? st->podip
                         : st && st->n_podips > 0        ? st->podips[0]->ip
                                                         : NULL;
        if (p->port[0] == '\0' && spec != NULL) {
            for (size_t i = 0; i < spec->n_containers && p->port[0] == '\0'; i++)
                if (spec->containers[i]->n_ports > 0)
                    snprintf(p->port, sizeof(p->port), "%d",
                             spec->containers[i]->ports[0]->containerport);
        }
        if (ip == NULL || !global_unicast(ip)) {
            api_respond_status(req, 400, "BadRequest", "address not allowed");
            goto out;
        }
        int64_t port = 80;
        if (p->port[0] != '\0' && (parse_int(p->port, &port) != 0 || port < 1 || port > 65535)) {
            api_respond_statusf(req, 400, "BadRequest", "invalid port %s", p->port);
            goto out;
        }
        if (p->port[0] == '\0' && strcmp(p->scheme, "https") == 0)
            port = 443;
        snprintf(p->host, sizeof(p->host), "%s", ip);
        p->backend_port = (int)port;
        p->tls = strcmp(p->scheme, "https") == 0;
        set_target(p, proxy_subpath(req), req->query);
        proxy_connect(p);
        goto out;
    }

    if (p->kind == PROXY_LOG || p->kind == PROXY_EXEC || p->kind == PROXY_ATTACH) {
        const char *c = choose_container(p, pod, param(params, nparams, "container"));
        if (c == NULL)
            goto out;
        p->container = k8c_strdup(c);
    }
    if (!stream_options(p, params, nparams))
        goto out;
    if (node == NULL) {
        if (p->kind == PROXY_LOG) /* upstream: no location, an empty stream */
            api_respond_raw(req, 204, NULL, NULL, 0);
        else
            api_respond_statusf(req, 400, "BadRequest", "pod %s does not have a host assigned",
                                p->name);
        goto out;
    }
    const char *ns = api_obj_meta(&pod->base) && api_obj_meta(&pod->base)->namespace_
                         ? api_obj_meta(&pod->base)->namespace_
                         : req->ns;
    switch (p->kind) {
    case PROXY_LOG:
        snprintf(path, sizeof(path), "/containerLogs/%s/%s/%s", ns, p->name, p->container);
        break;
    case PROXY_EXEC:
        snprintf(path, sizeof(path), "/exec/%s/%s/%s", ns, p->name, p->container);
        break;
    case PROXY_ATTACH:
        snprintf(path, sizeof(path), "/attach/%s/%s/%s", ns, p->name, p->container);
        break;
    default:
        snprintf(path, sizeof(path), "/portForward/%s/%s", ns, p->name);
        break;
    }
    set_target(p, path, p->backend_query.data);
    read_node(p, node);
out:
    params_free(params, nparams);
}

static void node_got(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    const struct api_resource *nodes = api_resource_find("", "v1", "nodes");
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (api_req_gone(req))
        goto out;
    if (res->err != 0 && res->err != K8C_ENOTFOUND) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    if (res->n == 0) {
        api_respond_statusf(req, 404, "NotFound", "nodes \"%s\" not found", p->node_name);
        goto out;
    }
    if (api_obj_decode_storage(nodes, res->kv->value, res->kv->value_len, res->kv->mod_revision,
                               &obj, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        goto out;
    }
    const node_t *node = (const node_t *)obj;
    const char *addr = node_address(node);
    if (addr == NULL) {
        struct k8c_sbuf known;
        k8c_sbuf_init(&known);
        for (size_t i = 0; node->status != NULL && i < node->status->n_addresses; i++)
            k8c_sbuf_printf(
                &known, "%s{%s %s}", i ? " " : "",
                node->status->addresses[i]->type ? node->status->addresses[i]->type : "",
                node->status->addresses[i]->address ? node->status->addresses[i]->address : "");
        api_respond_statusf(req, 500, "", "no preferred addresses found; known addresses: [%s]",
                            known.data ? known.data : "");
        k8c_sbuf_free(&known);
        goto out;
    }
    int port = proxy_opts.kubelet_port > 0 ? proxy_opts.kubelet_port : DEFAULT_KUBELET;
    if (node->status != NULL && node->status->daemonendpoints != NULL &&
        node->status->daemonendpoints->kubeletendpoint != NULL &&
        node->status->daemonendpoints->kubeletendpoint->port > 0)
        port = node->status->daemonendpoints->kubeletendpoint->port;
    snprintf(p->host, sizeof(p->host), "%s", addr);
    p->backend_port = port;
    p->tls = true;
    if (p->kind == PROXY_NODE) {
        /* "scheme:node:port" picks another port of the node (upstream
         * then uses its plain proxy transport, not the kubelet's). */
        int64_t want = 0;
        if (p->port[0] != '\0' && (parse_int(p->port, &want) != 0 || want < 1 || want > 65535)) {
            api_respond_statusf(req, 400, "BadRequest", "invalid node request \"%s\"", req->name);
            goto out;
        }
        if (want != 0 && want != port) {
            p->backend_port = (int)want;
            p->tls = strcmp(p->scheme, "https") == 0;
        }
        set_target(p, proxy_subpath(req), req->query);
    } else if (!p->upgrade) {
        /* exec, attach and port-forward only work as upgrades */
        if (p->kind != PROXY_LOG) {
            api_respond_status(req, 400, "BadRequest", "Upgrade request required");
            goto out;
        }
    }
    proxy_connect(p);
out:
    api_obj_free(obj);
    api_req_unref(req);
}

static void read_node(struct proxy *p, const char *name)
{
    struct api_req *req = p->req;
    char key[1024];
    snprintf(p->node_name, sizeof(p->node_name), "%s", name);
    api_key(req->srv, api_resource_find("", "v1", "nodes"), NULL, p->node_name, key, sizeof(key));
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, node_got, req);
}

static void pod_got(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct proxy *p = req->op;
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (api_req_gone(req))
        goto out;
    if (res->err != 0 && res->err != K8C_ENOTFOUND) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    if (res->n == 0) {
        api_respond_statusf(req, 404, "NotFound", "pods \"%s\" not found", p->name);
        goto out;
    }
    if (api_obj_decode_storage(req->res, res->kv->value, res->kv->value_len, res->kv->mod_revision,
                               &obj, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        goto out;
    }
    pod_ready(p, (const pod_t *)obj);
out:
    api_obj_free(obj);
    api_req_unref(req);
}

/* Upgrade: and a Connection header that lists "upgrade". */
static bool is_upgrade(struct k8c_http_stream *s)
{
    const char *upgrade = k8c_http_stream_header(s, "upgrade");
    const char *connection = k8c_http_stream_header(s, "connection");
    if (upgrade == NULL || upgrade[0] == '\0' || connection == NULL)
        return false;
    for (const char *c = connection; *c != '\0';) {
        while (*c == ' ' || *c == ',')
            c++;
        size_t len = strcspn(c, ", ");
        if (len == 7 && strncasecmp(c, "upgrade", 7) == 0)
            return true;
        c += len;
    }
    return false;
}

bool api_proxy(struct api_req *req)
{
    const struct api_resource *r = req->res;
    const char *method = k8c_http_stream_method(req->s);
    enum proxy_kind kind;
    bool pods = strcmp(r->group, "") == 0 && strcmp(r->resource, "pods") == 0;
    bool nodes = strcmp(r->group, "") == 0 && strcmp(r->resource, "nodes") == 0;

    if (pods && strcmp(req->sub, "log") == 0 && (r->subresources & API_SUB_LOG))
        kind = PROXY_LOG;
    else if (pods && strcmp(req->sub, "exec") == 0 && (r->subresources & API_SUB_EXEC))
        kind = PROXY_EXEC;
    else if (pods && strcmp(req->sub, "attach") == 0 && (r->subresources & API_SUB_ATTACH))
        kind = PROXY_ATTACH;
    else if (pods && strcmp(req->sub, "portforward") == 0 &&
             (r->subresources & API_SUB_PORTFORWARD))
        kind = PROXY_PORTFORWARD;
    else if (pods && strcmp(req->sub, "proxy") == 0 && (r->subresources & API_SUB_PROXY))
        kind = PROXY_POD;
    else if (nodes && strcmp(req->sub, "proxy") == 0 && (r->subresources & API_SUB_PROXY))
        kind = PROXY_NODE;
    else
        return false;

    bool allowed;
    switch (kind) {
    case PROXY_LOG:
        allowed = strcmp(method, "GET") == 0;
        break;
    case PROXY_EXEC:
    case PROXY_ATTACH:
    case PROXY_PORTFORWARD:
        allowed = strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0;
        break;
    default:
        allowed = strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ||
                  strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0 ||
                  strcmp(method, "DELETE") == 0 || strcmp(method, "HEAD") == 0 ||
                  strcmp(method, "OPTIONS") == 0;
    }
    if (!allowed) {
        api_respond_status(req, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource");
        return true;
    }
    if (req->too_big) {
        api_respond_status(req, 413, "RequestEntityTooLarge",
                           "Request entity too large: limit is 3145728");
        return true;
    }

    struct proxy *p = K8C_NEW(struct proxy);
    p->req = req;
    p->kind = kind;
    p->upgrade = is_upgrade(req->s);
    p->head_request = strcmp(method, "HEAD") == 0;
    k8c_sbuf_init(&p->backend_query);
    k8c_sbuf_init(&p->hname);
    k8c_sbuf_init(&p->hvalue);
    k8c_sbuf_init(&p->body);
    req->op = p;
    req->op_free = (void (*)(void *))proxy_free;
    if (kind == PROXY_POD || kind == PROXY_NODE) {
        if (!split_scheme_name_port(req->name, p->scheme, p->name, p->port)) {
            api_respond_statusf(req, 400, "BadRequest", "invalid %s request \"%s\"",
                                kind == PROXY_NODE ? "node" : "pod", req->name);
            return true;
        }
    } else {
        snprintf(p->name, sizeof(p->name), "%s", req->name);
    }
    /* Long-running requests (logs, streams, proxies) do not count against
     * the in-flight limits, as upstream's long-running request check
     * exempts them. */
    if (req->counted) {
        req->srv->inflight--;
        req->counted = false;
    }
    if (req->counted_mutating) {
        req->srv->mutating--;
        req->counted_mutating = false;
    }
    api_inflight_changed(req->srv);
    if (kind == PROXY_NODE) {
        read_node(p, p->name);
        return true;
    }
    char key[1024];
    api_key(req->srv, r, req->ns, p->name, key, sizeof(key));
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, pod_got, req);
    return true;
}
