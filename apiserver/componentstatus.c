/*
 * ComponentStatus (see componentstatus.h): each GET or LIST probes, at request time, what
 * upstream's componentstatus REST probes.
 *
 * - scheduler: GET https://127.0.0.1:10259/healthz, certificate not verified;
 * - controller-manager: GET https://127.0.0.1:10257/healthz, the same way;
 * - etcd-<i>: the i-th --etcd-servers member, GET <url>/health, with the store's TLS files.
 *   etcd 3.4 and k8c-store both answer {"health":"true"} there.
 *
 * What each entry carries is what upstream's probes report:
 * - a healthy component: condition Healthy "True" and the body as its message ("ok");
 * - an HTTP component that cannot be reached: "False", with the message Go's HTTP client
 *   writes (`Get "https://127.0.0.1:10259/healthz": dial tcp 127.0.0.1:10259: connect:
 *   connection refused`);
 * - a bad status: "HTTP probe failed with statuscode: N";
 * - an etcd member: the message "ok" when healthy, else an empty message and the reason as
 *   the error.
 *
 * Lists are sorted by name. Every answer carries upstream's deprecation warning. Probes end
 * after PROBE_TIMEOUT_MS (upstream's probeTimeOut), and a probe reads at most PROBE_MAX_BYTES.
 */
#include "componentstatus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "alloc.h"
#include "error.h"
#include "object.h"
#include "resources.h"
#include "tcpclient.h"

#include "k8s/api/core/v1/generated.pb-c.h"

#define PROBE_TIMEOUT_MS 20000
#define PROBE_MAX_BYTES  (64 * 1024)
#define MAX_COMPONENTS   34 /* scheduler, controller-manager and up to 32 store members */

typedef K8s__Io__Api__Core__V1__ComponentStatus component_status_t;
typedef K8s__Io__Api__Core__V1__ComponentCondition component_condition_t;

struct cs_request;

struct probe {
    struct cs_request *cr;
    char name[32];
    char host[256];
    int port;
    bool tls, etcd;
    char url[400]; /* what Go's client names in its errors: https://host:port/path */
    char path[16];
    struct k8c_tcp_conn *conn;
    http_parser parser;
    struct k8c_sbuf body; /* the answer's body, at most PROBE_MAX_BYTES */
    int code;             /* its status, once its headers came */
    bool complete;        /* the whole answer came */
    bool done, healthy;
    char message[512], error[512];
};

struct cs_request {
    struct api_req *req;
    struct probe probes[MAX_COMPONENTS];
    size_t n, pending;
    size_t open;       /* connections whose on_close has not come yet */
    bool timer_closed; /* freed once the timer is closed and no connection is open */
    uv_timer_t timer;
    char only[256]; /* a GET: the one component asked for */
};

/* "scheme://host:port" of one store member; false when it is not one */
static bool parse_url(const char *url, bool *tls, char *host, size_t hsize, int *port)
{
    size_t len = strlen(url);
    const char *p = url, *end = url + len;
    if (len > 8 && strncmp(p, "https://", 8) == 0) {
        *tls = true;
        p += 8;
    } else if (len > 7 && strncmp(p, "http://", 7) == 0) {
        *tls = false;
        p += 7;
    } else {
        return false;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (slash != NULL)
        end = slash;
    if (colon == NULL || colon > end || (size_t)(colon - p) >= hsize || colon == p)
        return false;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536;
}

static void probe_add(struct cs_request *cr, const char *name, const char *host, int port, bool tls,
                      bool etcd, const char *path)
{
    if (cr->n == MAX_COMPONENTS)
        return;
    struct probe *p = &cr->probes[cr->n++];
    p->cr = cr;
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->host, sizeof(p->host), "%s", host);
    p->port = port;
    p->tls = tls;
    p->etcd = etcd;
    snprintf(p->path, sizeof(p->path), "%s", path);
    snprintf(p->url, sizeof(p->url), "%s://%s:%d%s", tls ? "https" : "http", host, port, path);
    k8c_sbuf_init(&p->body);
}

static int cmp_probe(const void *a, const void *b)
{
    return strcmp(((const struct probe *)a)->name, ((const struct probe *)b)->name);
}

static component_status_t *status_of(const struct probe *p)
{
    component_status_t *cs = k8c_calloc(1, sizeof(*cs));
    k8s__io__api__core__v1__component_status__init(cs);
    api_meta_t *m = api_obj_meta_ensure(&cs->base);
    api_set_str(&m->name, p->name);
    component_condition_t *c = k8c_calloc(1, sizeof(*c));
    k8s__io__api__core__v1__component_condition__init(c);
    api_set_str(&c->type, "Healthy");
    api_set_str(&c->status, p->healthy ? "True" : "False");
    if (p->message[0] != '\0') /* both omitempty upstream */
        api_set_str(&c->message, p->message);
    if (p->error[0] != '\0')
        api_set_str(&c->error, p->error);
    cs->conditions = k8c_calloc(1, sizeof(*cs->conditions));
    cs->conditions[0] = c;
    cs->n_conditions = 1;
    return cs;
}

static void maybe_free(struct cs_request *cr)
{
    if (!cr->timer_closed || cr->open > 0)
        return;
    for (size_t i = 0; i < cr->n; i++)
        k8c_sbuf_free(&cr->probes[i].body);
    api_req_unref(cr->req);
    k8c_free(cr);
}

static void timer_closed(uv_handle_t *h)
{
    struct cs_request *cr = h->data;
    cr->timer_closed = true;
    maybe_free(cr);
}

/* Every probe is done: the answer. */
static void respond(struct cs_request *cr)
{
    struct api_req *req = cr->req;
    uv_timer_stop(&cr->timer);
    if (!api_req_gone(req)) {
        qsort(cr->probes, cr->n, sizeof(cr->probes[0]), cmp_probe);
        ProtobufCMessage *items[MAX_COMPONENTS];
        size_t n = 0;
        for (size_t i = 0; i < cr->n; i++)
            if (cr->only[0] == '\0' || strcmp(cr->probes[i].name, cr->only) == 0)
                items[n++] = &status_of(&cr->probes[i])->base;
        if (cr->only[0] != '\0' && n == 0) /* upstream's Get returns a plain error: a 500 */
            api_respond_statusf(req, 500, "InternalError",
                                "Internal error occurred: Component not found: %s", cr->only);
        else if (cr->only[0] != '\0')
            api_respond_object(req, 200, items[0]);
        else
            api_respond_items(req, items, n, "", "", 0);
        for (size_t i = 0; i < n; i++)
            api_obj_free(items[i]);
    }
    uv_close((uv_handle_t *)&cr->timer, timer_closed);
}

/* ---- the answer, through http_parser (as the kubelet proxy reads its answers) ---- */

static int on_headers_complete(http_parser *hp)
{
    ((struct probe *)hp->data)->code = (int)hp->status_code;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct probe *p = hp->data;
    if (p->body.len + len > PROBE_MAX_BYTES)
        return 1; /* too much: the answer is judged as it stands */
    k8c_sbuf_append(&p->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    ((struct probe *)hp->data)->complete = true;
    return 0;
}

static const http_parser_settings response_settings = {
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static bool contains(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0)
            return true;
    return false;
}

static void probe_finish(struct probe *p, int error, const char *why)
{
    if (p->done)
        return;
    p->done = true;
    p->conn = NULL;
    const char *body = p->body.data != NULL ? p->body.data : "";
    size_t body_len = p->body.len;
    int code = error == 0 ? p->code : 0;
    if (p->etcd) {
        p->healthy = code == 200 && contains(body, body_len, "\"health\":\"true\"");
        if (p->healthy)
            snprintf(p->message, sizeof(p->message), "ok");
        else if (error != 0)
            snprintf(p->error, sizeof(p->error), "%s", why);
        else if (code == 0)
            snprintf(p->error, sizeof(p->error), "malformed HTTP response from %s", p->url);
        else
            snprintf(p->error, sizeof(p->error), "%s answered %d: %.*s", p->url, code,
                     (int)(body_len < 200 ? body_len : 200), body);
    } else if (error != 0 || code == 0) {
        snprintf(p->message, sizeof(p->message), "Get \"%s\": %s", p->url,
                 error != 0 ? why : "malformed HTTP response");
    } else if (code < 200 || code >= 400) {
        snprintf(p->message, sizeof(p->message), "HTTP probe failed with statuscode: %d", code);
    } else {
        p->healthy = true;
        snprintf(p->message, sizeof(p->message), "%.*s",
                 (int)(body_len < sizeof(p->message) ? body_len : sizeof(p->message) - 1), body);
    }
    if (--p->cr->pending == 0)
        respond(p->cr);
}

static void on_connect(struct k8c_tcp_conn *c, void *arg)
{
    struct probe *p = arg;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kube-probe/1.32\r\n"
                     "Accept: */*\r\nConnection: close\r\n\r\n",
                     p->path, p->host, p->port);
    k8c_tcp_send(c, head, (size_t)n);
}

static void on_data(struct k8c_tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
    struct probe *p = arg;
    if (p->complete)
        return;
    size_t n = http_parser_execute(&p->parser, &response_settings, (const char *)data, len);
    if (n != len || p->complete)
        k8c_tcp_close(c); /* done, too long or not HTTP: on_close judges what came */
}

static void on_close(struct k8c_tcp_conn *c, int error, const char *why, void *arg)
{
    struct probe *p = arg;
    struct cs_request *cr = p->cr;
    (void)c;
    p->conn = NULL;
    cr->open--;
    /* closed after the whole answer (or cut at the size limit: what came is judged) */
    probe_finish(p, error == K8C_ECANCELED ? 0 : error, why);
    maybe_free(cr);
}

static void on_timeout(uv_timer_t *t)
{
    struct cs_request *cr = t->data;
    for (size_t i = 0; i < cr->n; i++) {
        struct probe *p = &cr->probes[i];
        if (!p->done && p->conn != NULL) {
            struct k8c_tcp_conn *c = p->conn;
            k8c_tcp_close(c); /* its on_close (later) finds the probe done */
            probe_finish(p, K8C_ETIMEDOUT, "context deadline exceeded");
            if (cr->pending == 0)
                return; /* respond() ran */
        }
    }
}

void api_componentstatus(struct api_req *req)
{
    static const struct k8c_tcp_ops ops = {
        .on_connect = on_connect, .on_data = on_data, .on_close = on_close};
    struct api_server *srv = req->srv;
    struct cs_request *cr = K8C_NEW(struct cs_request);
    char errmsg[K8C_ERRMSG_SIZE];

    api_req_warn(req, "v1 ComponentStatus is deprecated in v1.19+");
    cr->req = req;
    api_req_ref(req);
    if (req->verb == VERB_GET)
        snprintf(cr->only, sizeof(cr->only), "%s", req->name);
    probe_add(cr, "scheduler", "127.0.0.1", 10259, true, false, "/healthz");
    probe_add(cr, "controller-manager", "127.0.0.1", 10257, true, false, "/healthz");
    const char *url;
    for (size_t i = 0; (url = api_etcd_member(srv->etcd, i)) != NULL; i++) {
        char host[256], name[32];
        bool tls;
        int port;
        snprintf(name, sizeof(name), "etcd-%zu", i);
        if (parse_url(url, &tls, host, sizeof(host), &port))
            probe_add(cr, name, host, port, tls, true, "/health");
    }
    uv_timer_init(srv->loop, &cr->timer);
    cr->timer.data = cr;
    cr->pending = cr->n;
    for (size_t i = 0; i < cr->n; i++) {
        struct probe *p = &cr->probes[i];
        struct k8c_tcp_options o = {.tls = p->tls, .connect_timeout_ms = PROBE_TIMEOUT_MS};
        http_parser_init(&p->parser, HTTP_RESPONSE);
        p->parser.data = p;
        if (p->etcd && p->tls) {
            o.ca_file = srv->etcd_ca[0] ? srv->etcd_ca : NULL;
            o.cert_file = srv->etcd_cert[0] ? srv->etcd_cert : NULL;
            o.key_file = srv->etcd_key[0] ? srv->etcd_key : NULL;
        }
        p->conn = k8c_tcp_connect(srv->loop, p->host, p->port, &o, &ops, p, errmsg);
        if (p->conn != NULL)
            cr->open++;
    }
    /* then the probes that could not start (their TLS files): respond() may run now */
    for (size_t i = 0; i < cr->n; i++)
        if (cr->probes[i].conn == NULL && !cr->probes[i].done)
            probe_finish(&cr->probes[i], K8C_ETLS, "cannot load the store's TLS files");
    if (cr->pending > 0)
        uv_timer_start(&cr->timer, on_timeout, PROBE_TIMEOUT_MS + 1000, 0);
}
