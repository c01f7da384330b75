/*
 * API server load generator (a benchmark, not a test): drives one
 * k8c-apiserver (or any Kubernetes API server) over lib/http's HTTP/2 client
 * with TLS and a bearer token, with JSON bodies, and measures configmap
 * create / get / list / update / delete at one concurrency, printing one line
 * of key=value pairs per operation:
 *
 *   op=<op> label=<l> clients=<n> conns=<n> issued=<n> ok=<n> non2xx=<n>
 *       timeouts=<n> failed=<n> secs=<s> ops_per_sec=<x> p50_ms=<x> p99_ms=<x>
 *       max_ms=<x> bytes_per_op=<n> [items=<n>] [codes=<code>:<n>,...]
 *       [stalled=1 outstanding=<n>] [first_error="..."]
 *
 * Operations, in this order (--ops picks a subset, same order):
 *   create  POST /api/v1/namespaces/NS/configmaps, --objects objects named
 *           PREFIX-<i> with a --value-size byte value (keeps each one's
 *           resourceVersion from the answer)
 *   get     GET .../configmaps/NAME, cycling over the created objects, --count
 *   list    GET .../configmaps?limit=500&resourceVersion=0 (the watch cache
 *           answers; it returns every object, as upstream does at rv 0),
 *           --list-count; items= is the item count of one parsed answer
 *   update  PUT .../configmaps/NAME with the object's last resourceVersion,
 *           once per created object (no two updates of one object at once,
 *           so a 409 is a real conflict, not the benchmark's doing)
 *   delete  DELETE .../configmaps/NAME, once per existing object
 *
 * Load: --clients requests outstanding at any time (each completion issues
 * the next), as HTTP/2 streams spread over --conns connections. ok counts 2xx
 * answers (latencies are of those), non2xx the other answers (codes= lists
 * them), timeouts the requests cancelled after 30 s without an answer,
 * failed the streams that closed without one (connection lost, reset).
 * Every operation is bounded by its count AND by --seconds (reads) or
 * --write-seconds (create, update, delete): nothing is issued past either;
 * outstanding requests are awaited until their 30 s timeout and 10 s more,
 * after which the operation reports stalled=1, the rest are skipped and the
 * program exits with status 2. A first request on every connection (a list
 * at rv 0, untimed) sets up TLS and the watch cache before anything is timed.
 *
 * usage: bench_api --server=H:P --ca=FILE --token=T --clients=N [--conns=N]
 *        [--label=L] [--namespace=NS] [--prefix=P] [--objects=N] [--count=N]
 *        [--list-count=N] [--seconds=S] [--write-seconds=S] [--value-size=B]
 *        [--ops=create,get,list,update,delete] [--api-pid=PID] [--store-pids=PID,...]
 *
 * CPU: each line also has client_cpu_s (this program, user+system), and with
 * --api-pid / --store-pids api_cpu_s and store_cpu_s: the CPU time those
 * processes used during the operation (from /proc/PID/stat), so a rate can
 * be read as what limits it on a small machine.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "h2bench.h"
#include "http.h"
#include "json.h"

#define REQUEST_TIMEOUT_NS (30ull * 1000000000ull)
#define DRAIN_GRACE_NS     (10ull * 1000000000ull)
#define SCAN_INTERVAL_NS   (100ull * 1000000ull)
#define MAX_CONNS          64
#define MAX_CLIENTS        4096
#define MAX_COUNT          2000000ull
#define MAX_CAPTURE        (64u << 20)
#define ERROR_SNIPPET      240
#define MAX_CODES          8
#define FIRST_ERROR_SIZE   512
#define MAX_STORE_PIDS     8

enum op_kind { OP_CREATE, OP_GET, OP_LIST, OP_UPDATE, OP_DELETE, OP_KINDS };
static const char *const op_names[OP_KINDS] = {"create", "get", "list", "update", "delete"};

struct options {
    const char *server, *ca, *token, *label, *ns, *prefix;
    int clients, conns;
    uint64_t objects, count, list_count;
    double seconds, write_seconds;
    size_t value_size;
    unsigned ops; /* bit per enum op_kind */
    int api_pid;
    int store_pids[MAX_STORE_PIDS];
    int nstore_pids;
};

struct object {
    char rv[32];
    bool exists;
};

struct code_count {
    int code;
    uint64_t n;
};

/* One timed batch of requests of one kind. */
struct phase {
    enum op_kind kind;
    const char *name;
    uint64_t count;       /* issue at most this many */
    uint64_t deadline_ns; /* issue nothing at or after this uv_hrtime() */
    uint64_t *targets;    /* get/update/delete: request i acts on object targets[i % ntargets] */
    uint64_t ntargets;
    uint64_t issued, ok, non2xx, timeouts, failed;
    int inflight;
    uint64_t t0, t_last;
    uint64_t *lat; /* ok latencies, ns */
    size_t nlat;
    uint64_t bytes; /* response body bytes of the ok answers */
    int64_t items;  /* list: items in the one answer parsed; -1 none yet */
    bool capturing; /* list: a request capturing its whole answer is out */
    bool stalled;
    double client_cpu_s, api_cpu_s, store_cpu_s;
    struct code_count codes[MAX_CODES];
    int ncodes;
    char first_error[FIRST_ERROR_SIZE];
};

struct bench;

/* One client: at most one request out at a time. */
struct slot {
    struct bench *b;
    struct phase *phase; /* of the request out (late answers of another phase are ignored) */
    unsigned idx;
    bool busy;   /* a request is out */
    bool closed; /* on_close came for the request out (maybe inside _request) */
    bool timed_out;
    bool capture_all;
    struct k8c_http_client_stream *stream;
    uint64_t sent;
    uint64_t obj;
    int status;
    uint64_t bytes;
    struct k8c_sbuf body; /* the answer's first ERROR_SNIPPET bytes, or all with capture_all */
};

struct bench {
    uv_loop_t loop;
    uv_timer_t tick; /* wakes uv_run(ONCE) so bounds and timeouts are checked */
    struct options opt;
    struct k8c_http_client *conn[MAX_CONNS];
    int nconns;
    struct slot *slots;
    struct phase *phase;
    struct object *objects;
    char *value;
    struct k8c_arena *arena;
    char bearer[300];
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of sorted v[0..n), in milliseconds; 0 when empty. */
static double quantile_ms(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

/* Keeps the first error of a phase, on one line, without double quotes. */
static void note_error(struct phase *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_error(struct phase *p, const char *fmt, ...)
{
    if (p->first_error[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->first_error, sizeof(p->first_error), fmt, ap);
    va_end(ap);
    for (char *c = p->first_error; *c != '\0'; c++)
        if (*c == '"')
            *c = '\'';
        else if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
}

static void count_code(struct phase *p, int code)
{
    for (int i = 0; i < p->ncodes; i++)
        if (p->codes[i].code == code) {
            p->codes[i].n++;
            return;
        }
    if (p->ncodes < MAX_CODES)
        p->codes[p->ncodes++] = (struct code_count){code, 1};
}

/* The string at metadata.resourceVersion of a JSON object, or NULL. */
static const char *answer_rv(struct bench *b, const struct k8c_sbuf *body)
{
    struct k8c_json *doc;
    k8c_arena_reset(b->arena);
    if (body->len == 0 || k8c_json_parse(b->arena, body->data, body->len, NULL, &doc, NULL) != 0)
        return NULL;
    struct k8c_json *rv = k8c_json_get(k8c_json_get(doc, "metadata"), "resourceVersion");
    return rv != NULL && rv->type == K8C_JSON_STRING ? rv->u.str : NULL;
}

/* Items in a list answer, or -1. */
static int64_t answer_items(struct bench *b, const struct k8c_sbuf *body)
{
    struct k8c_json *doc;
    k8c_arena_reset(b->arena);
    if (body->len == 0 || k8c_json_parse(b->arena, body->data, body->len, NULL, &doc, NULL) != 0)
        return -1;
    struct k8c_json *items = k8c_json_get(doc, "items");
    return items != NULL && items->type == K8C_JSON_ARRAY ? (int64_t)items->len : -1;
}

/* User+system CPU seconds process pid has used (0 if it cannot be read). */
static double proc_cpu_s(int pid)
{
    uint64_t ticks;
    if (!h2bench_proc_ticks(pid, &ticks))
        return 0;
    return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds so far of this program, the API server and the store members. */
static void cpu_sample(const struct bench *b, double *client, double *api, double *store)
{
    *client = h2bench_self_cpu_s();
    *api = b->opt.api_pid > 0 ? proc_cpu_s(b->opt.api_pid) : 0;
    *store = 0;
    for (int i = 0; i < b->opt.nstore_pids; i++)
        *store += proc_cpu_s(b->opt.store_pids[i]);
}

/* ---- one request ---------------------------------------------------------------------------- */

static void on_header(struct k8c_http_client_stream *s, const char *name, const char *value,
                      void *arg)
{
    struct slot *sl = arg;
    h2bench_status(name, value, &sl->status);
}

static void on_data(struct k8c_http_client_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct slot *sl = arg;
    size_t limit = sl->capture_all ? MAX_CAPTURE : ERROR_SNIPPET;
    sl->bytes += len;
    if (sl->body.len < limit)
        k8c_sbuf_append(&sl->body, data, len < limit - sl->body.len ? len : limit - sl->body.len);
}

static void on_end(struct k8c_http_client_stream *s, void *arg)
{
}

static void on_close(struct k8c_http_client_stream *s, int error, uint32_t rst_code,
                     const char *why, void *arg)
{
    struct slot *sl = arg;
    struct bench *b = sl->b;
    struct phase *p = sl->phase;
    uint64_t now = uv_hrtime();

    sl->closed = true;
    sl->busy = false;
    sl->stream = NULL;
    if (p == NULL || p != b->phase)
        return; /* an answer after its phase gave up on it */
    p->inflight--;
    if (sl->capture_all)
        p->capturing = false;
    if (error != 0) {
        if (sl->timed_out) {
            p->timeouts++;
            note_error(p, "%s %s-%" PRIu64 ": no answer in %llu s", p->name, b->opt.prefix, sl->obj,
                       REQUEST_TIMEOUT_NS / 1000000000ull);
        } else {
            p->failed++;
            note_error(p, "%s %s-%" PRIu64 ": stream closed without an answer: %s (rst %u)",
                       p->name, b->opt.prefix, sl->obj, why ? why : k8c_strerror(error), rst_code);
        }
        return;
    }
    if (sl->status < 200 || sl->status > 299) {
        p->non2xx++;
        count_code(p, sl->status);
        note_error(p, "%s %s-%" PRIu64 ": HTTP %d: %s", p->name, b->opt.prefix, sl->obj, sl->status,
                   sl->body.len ? sl->body.data : "");
        return;
    }
    p->ok++;
    p->lat[p->nlat++] = now - sl->sent;
    p->t_last = now;
    p->bytes += sl->bytes;
    struct object *o = b->objects != NULL && sl->obj < b->opt.objects ? &b->objects[sl->obj] : NULL;
    if ((p->kind == OP_CREATE || p->kind == OP_UPDATE) && o != NULL) {
        const char *rv = answer_rv(b, &sl->body);
        o->exists = true;
        if (rv != NULL)
            snprintf(o->rv, sizeof(o->rv), "%s", rv);
        else
            note_error(p, "%s %s-%" PRIu64 ": answer without metadata.resourceVersion", p->name,
                       b->opt.prefix, sl->obj);
    } else if (p->kind == OP_DELETE && o != NULL) {
        o->exists = false;
    } else if (p->kind == OP_LIST && sl->capture_all) {
        p->items = answer_items(b, &sl->body);
        if (p->items < 0)
            note_error(p, "list: answer is not a list (%zu bytes)", sl->body.len);
    }
}

static const struct k8c_http_client_ops request_ops = {
    .on_header = on_header,
    .on_data = on_data,
    .on_end = on_end,
    .on_close = on_close,
};

/* The JSON body of a create (rv NULL) or an update of object i. */
static void object_body(struct bench *b, struct k8c_sbuf *out, uint64_t i, const char *rv,
                        uint64_t gen)
{
    k8c_sbuf_printf(
        out,
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s-%" PRIu64
        "\",\"namespace\":\"%s\",\"labels\":{\"app\":\"bench-api\"}",
        b->opt.prefix, i, b->opt.ns);
    if (rv != NULL)
        k8c_sbuf_printf(out, ",\"resourceVersion\":\"%s\"", rv);
    k8c_sbuf_printf(out, "},\"data\":{\"generation\":\"%" PRIu64 "\",\"payload\":\"%s\"}}", gen,
                    b->value);
}

/* Starts the next request of the phase on slot; false when a bound is reached. */
static bool issue(struct bench *b, struct slot *sl)
{
    struct phase *p = b->phase;
    uint64_t now = uv_hrtime();
    char path[512], clen[24];
    const char *method = "GET";
    struct k8c_sbuf body;

    if (p->issued >= p->count || now >= p->deadline_ns || p->stalled)
        return false;
    uint64_t i = p->issued++;
    uint64_t obj = p->targets != NULL ? p->targets[i % p->ntargets] : i;
    k8c_sbuf_init(&body);
    switch (p->kind) {
    case OP_CREATE:
        method = "POST";
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps", b->opt.ns);
        object_body(b, &body, obj, NULL, 1);
        break;
    case OP_GET:
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s-%" PRIu64, b->opt.ns,
                 b->opt.prefix, obj);
        break;
    case OP_LIST:
        obj = 0;
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps?limit=500&resourceVersion=0",
                 b->opt.ns);
        break;
    case OP_UPDATE:
        method = "PUT";
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s-%" PRIu64, b->opt.ns,
                 b->opt.prefix, obj);
        object_body(b, &body, obj, b->objects[obj].rv, 2);
        break;
    case OP_DELETE:
    case OP_KINDS:
        method = "DELETE";
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s-%" PRIu64, b->opt.ns,
                 b->opt.prefix, obj);
        break;
    }
    struct k8c_http_client *c = b->conn[sl->idx % (unsigned)b->nconns];
    struct k8c_http_header h[H2BENCH_MAX_HEADERS];
    snprintf(clen, sizeof(clen), "%zu", body.len);
    size_t n =
        h2bench_headers(h, c, method, path, b->bearer, "k8c-bench-api/1.0",
                        body.len > 0 ? "application/json" : NULL, body.len > 0 ? clen : NULL);

    sl->phase = p;
    sl->busy = true;
    sl->closed = false;
    sl->timed_out = false;
    sl->capture_all = p->kind == OP_CREATE || p->kind == OP_UPDATE ||
                      (p->kind == OP_LIST && p->items < 0 && !p->capturing);
    if (p->kind == OP_LIST && sl->capture_all)
        p->capturing = true;
    sl->stream = NULL;
    sl->sent = now;
    sl->obj = obj;
    sl->status = 0;
    sl->bytes = 0;
    k8c_sbuf_reset(&sl->body);
    p->inflight++;
    struct k8c_http_client_stream *s = k8c_http_client_request(c, h, n, &request_ops, sl);
    if (s == NULL) { /* the client was deleted: never here while a phase runs */
        sl->busy = false;
        p->inflight--;
        p->failed++;
        note_error(p, "%s: request not started: client closed", p->name);
        k8c_sbuf_free(&body);
        return true;
    }
    if (!sl->closed) /* a connection failure can close it at once */
        sl->stream = s;
    if (!sl->closed && body.len > 0) {
        struct k8c_buf *buf = k8c_sbuf_to_buf(&body);
        k8c_http_client_stream_send(s, buf);
        k8c_buf_unref(buf);
    }
    if (!sl->closed)
        k8c_http_client_stream_end(s);
    k8c_sbuf_free(&body);
    return true;
}

static void on_tick(uv_timer_t *t)
{
}

/* Cancels the requests out for longer than the request timeout. */
static void cancel_late(struct bench *b, int nslots, uint64_t now)
{
    for (int i = 0; i < nslots; i++) {
        struct slot *sl = &b->slots[i];
        if (sl->busy && !sl->timed_out && sl->stream != NULL &&
            now - sl->sent > REQUEST_TIMEOUT_NS) {
            sl->timed_out = true;
            k8c_http_client_stream_cancel(sl->stream);
        }
    }
}

/* Runs one phase on the first nslots slots until its count or deadline, then
 * waits for the requests out (their timeout and DRAIN_GRACE_NS at most). */
static void run_phase(struct bench *b, struct phase *p, int nslots, double seconds)
{
    p->lat = k8c_calloc(p->count ? p->count : 1, sizeof(uint64_t));
    p->items = -1;
    p->name = op_names[p->kind];
    b->phase = p;
    double cpu0[3], cpu1[3];
    cpu_sample(b, &cpu0[0], &cpu0[1], &cpu0[2]);
    p->t0 = p->t_last = uv_hrtime();
    p->deadline_ns = p->t0 + (uint64_t)(seconds * 1e9);
    uint64_t last_scan = p->t0;
    bool more = true;
    while (more || p->inflight > 0) {
        /* Every idle client takes the next request (completions only mark
         * their slot idle, so no callback re-enters the client library). */
        for (int i = 0; i < nslots && more; i++)
            if (!b->slots[i].busy)
                more = issue(b, &b->slots[i]);
        if (!more && p->inflight == 0)
            break;
        uv_run(&b->loop, UV_RUN_ONCE);
        uint64_t now = uv_hrtime();
        if (more && (p->issued >= p->count || now >= p->deadline_ns))
            more = false;
        if (now - last_scan >= SCAN_INTERVAL_NS) {
            cancel_late(b, nslots, now);
            last_scan = now;
        }
        if (p->inflight > 0 && now > p->deadline_ns + REQUEST_TIMEOUT_NS + DRAIN_GRACE_NS) {
            p->stalled = true;
            break;
        }
    }
    cpu_sample(b, &cpu1[0], &cpu1[1], &cpu1[2]);
    p->client_cpu_s = cpu1[0] - cpu0[0];
    p->api_cpu_s = cpu1[1] - cpu0[1];
    p->store_cpu_s = cpu1[2] - cpu0[2];
}

static void print_phase(const struct bench *b, struct phase *p, int clients)
{
    double secs = (double)(p->t_last - p->t0) / 1e9;
    qsort(p->lat, p->nlat, sizeof(uint64_t), cmp_u64);
    printf("op=%s label=%s clients=%d conns=%d issued=%" PRIu64 " ok=%" PRIu64 " non2xx=%" PRIu64
           " timeouts=%" PRIu64 " failed=%" PRIu64 " secs=%.3f ops_per_sec=%.1f p50_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f bytes_per_op=%" PRIu64
           " client_cpu_s=%.2f api_cpu_s=%.2f store_cpu_s=%.2f",
           p->name, b->opt.label, clients, b->nconns, p->issued, p->ok, p->non2xx, p->timeouts,
           p->failed, secs, secs > 0 ? (double)p->ok / secs : 0.0,
           quantile_ms(p->lat, p->nlat, 0.50), quantile_ms(p->lat, p->nlat, 0.99),
           quantile_ms(p->lat, p->nlat, 1.0), p->ok ? p->bytes / p->ok : 0, p->client_cpu_s,
           p->api_cpu_s, p->store_cpu_s);
    if (p->kind == OP_LIST)
        printf(" items=%" PRId64, p->items);
    if (p->ncodes > 0) {
        printf(" codes=");
        for (int i = 0; i < p->ncodes; i++)
            printf("%s%d:%" PRIu64, i ? "," : "", p->codes[i].code, p->codes[i].n);
    }
    if (p->stalled)
        printf(" stalled=1 outstanding=%d", p->inflight);
    if (p->first_error[0] != '\0')
        printf(" first_error=\"%s\"", p->first_error);
    printf("\n");
    fflush(stdout);
}

/* The objects that exist now (created and not deleted), in index order. */
static uint64_t existing(const struct bench *b, uint64_t *out)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < b->opt.objects; i++)
        if (b->objects[i].exists)
            out[n++] = i;
    return n;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_api --server=H:P --ca=FILE --token=T --clients=N [--conns=N]\n"
            "  [--label=L] [--namespace=NS] [--prefix=P] [--objects=N] [--count=N]\n"
            "  [--list-count=N] [--seconds=S] [--write-seconds=S] [--value-size=B]\n"
            "  [--ops=create,get,list,update,delete] [--api-pid=PID] [--store-pids=PID,...]\n");
    exit(1);
}

/* --ops=create,get,...: the bits of those operations into *(unsigned *)dst. */
static bool parse_ops(void *dst, char *v)
{
    unsigned ops = 0;
    for (char *s = strtok(v, ","); s != NULL; s = strtok(NULL, ",")) {
        int k;
        for (k = 0; k < OP_KINDS && strcmp(s, op_names[k]) != 0; k++)
            ;
        if (k == OP_KINDS)
            return false;
        ops |= 1u << k;
    }
    *(unsigned *)dst = ops;
    return true;
}

/* --store-pids=PID,...: appended to the options' list (MAX_STORE_PIDS at most). */
static bool parse_store_pids(void *dst, char *v)
{
    struct options *o = dst;
    for (char *t = strtok(v, ","); t != NULL && o->nstore_pids < MAX_STORE_PIDS;
         t = strtok(NULL, ","))
        o->store_pids[o->nstore_pids++] = atoi(t);
    return true;
}

static void parse(struct options *o, int argc, char **argv)
{
    *o = (struct options){.label = "-",
                          .ns = "default",
                          .prefix = "bench",
                          .clients = 1,
                          .objects = 1000,
                          .count = 20000,
                          .list_count = 200,
                          .seconds = 5,
                          .write_seconds = 60,
                          .value_size = 1024,
                          .ops = (1u << OP_KINDS) - 1};
    const struct h2bench_arg args[] = {
        {"server", H2BENCH_STR, &o->server, NULL},
        {"ca", H2BENCH_STR, &o->ca, NULL},
        {"token", H2BENCH_STR, &o->token, NULL},
        {"label", H2BENCH_STR, &o->label, NULL},
        {"namespace", H2BENCH_STR, &o->ns, NULL},
        {"prefix", H2BENCH_STR, &o->prefix, NULL},
        {"clients", H2BENCH_INT, &o->clients, NULL},
        {"conns", H2BENCH_INT, &o->conns, NULL},
        {"objects", H2BENCH_U64, &o->objects, NULL},
        {"count", H2BENCH_U64, &o->count, NULL},
        {"list-count", H2BENCH_U64, &o->list_count, NULL},
        {"seconds", H2BENCH_DOUBLE, &o->seconds, NULL},
        {"write-seconds", H2BENCH_DOUBLE, &o->write_seconds, NULL},
        {"value-size", H2BENCH_SIZE, &o->value_size, NULL},
        {"ops", H2BENCH_FN, &o->ops, parse_ops},
        {"api-pid", H2BENCH_INT, &o->api_pid, NULL},
        {"store-pids", H2BENCH_FN, o, parse_store_pids},
    };
    if (!h2bench_parse_args(argc, argv, args, sizeof(args) / sizeof(args[0])))
        usage();
    if (o->conns == 0)
        o->conns = o->clients < 4 ? o->clients : 4;
    if (o->server == NULL || o->ca == NULL || o->token == NULL || o->clients < 1 ||
        o->clients > MAX_CLIENTS || o->conns < 1 || o->conns > MAX_CONNS || o->objects < 1 ||
        o->objects > MAX_COUNT || o->count < 1 || o->count > MAX_COUNT || o->list_count < 1 ||
        o->list_count > MAX_COUNT || o->seconds <= 0 || o->seconds > 600 || o->write_seconds <= 0 ||
        o->write_seconds > 600 || o->value_size > 512 * 1024 || strlen(o->token) > 200 ||
        strlen(o->prefix) > 100 || strlen(o->ns) > 63)
        usage();
}

int main(int argc, char **argv)
{
    struct bench *b = K8C_NEW(struct bench);
    int rc = 0;

    signal(SIGPIPE, SIG_IGN);
    parse(&b->opt, argc, argv);
    snprintf(b->bearer, sizeof(b->bearer), "Bearer %s", b->opt.token);
    uv_loop_init(&b->loop);
    uv_timer_init(&b->loop, &b->tick);
    uv_timer_start(&b->tick, on_tick, 100, 100);
    b->arena = k8c_arena_new(64 * 1024);
    b->value = k8c_malloc(b->opt.value_size + 1);
    for (size_t i = 0; i < b->opt.value_size; i++)
        b->value[i] = (char)('a' + i % 26);
    b->value[b->opt.value_size] = '\0';
    b->objects = k8c_calloc(b->opt.objects, sizeof(struct object));
    b->nconns = b->opt.conns;
    for (int i = 0; i < b->nconns; i++) {
        b->conn[i] = h2bench_connect(&b->loop, "bench_api", b->opt.server, b->opt.ca);
        if (b->conn[i] == NULL)
            return 1;
    }
    int nslots = b->opt.clients > b->nconns ? b->opt.clients : b->nconns;
    b->slots = k8c_calloc((size_t)nslots, sizeof(struct slot));
    for (int i = 0; i < nslots; i++) {
        b->slots[i].b = b;
        b->slots[i].idx = (unsigned)i;
        k8c_sbuf_init(&b->slots[i].body);
    }

    /* Untimed: one list at rv 0 on every connection (TLS, the watch cache). */
    struct phase warm = {.kind = OP_LIST, .count = (uint64_t)b->nconns};
    run_phase(b, &warm, b->nconns, 30);
    if (warm.ok != (uint64_t)b->nconns) {
        fprintf(stderr, "bench_api: warm-up failed (%" PRIu64 " of %d lists answered): %s\n",
                warm.ok, b->nconns, warm.first_error);
        rc = 2;
    }
    k8c_free(warm.lat);

    uint64_t *targets = k8c_calloc(b->opt.objects, sizeof(uint64_t));
    for (int k = 0; k < OP_KINDS && rc == 0; k++) {
        if (!(b->opt.ops & (1u << k)))
            continue;
        struct phase p = {.kind = (enum op_kind)k};
        double secs = b->opt.write_seconds;
        switch (p.kind) {
        case OP_CREATE:
            p.count = b->opt.objects;
            break;
        case OP_GET:
            p.ntargets = existing(b, targets);
            p.count = b->opt.count;
            secs = b->opt.seconds;
            break;
        case OP_LIST:
            p.count = b->opt.list_count;
            secs = b->opt.seconds;
            break;
        case OP_UPDATE:
        case OP_DELETE:
        case OP_KINDS:
            p.ntargets = existing(b, targets);
            p.count = p.ntargets;
            break;
        }
        if (p.kind != OP_CREATE && p.kind != OP_LIST) {
            p.targets = targets;
            if (p.ntargets == 0) {
                printf("op=%s label=%s clients=%d skipped=no_objects\n", op_names[k], b->opt.label,
                       b->opt.clients);
                continue;
            }
        }
        run_phase(b, &p, b->opt.clients, secs);
        print_phase(b, &p, b->opt.clients);
        if (p.stalled)
            rc = 2;
        b->phase = NULL;
        k8c_free(p.lat);
    }
    b->phase = NULL;
    k8c_free(targets);

    uv_timer_stop(&b->tick);
    uv_close((uv_handle_t *)&b->tick, NULL);
    for (int i = 0; i < b->nconns; i++)
        k8c_http_client_del(b->conn[i]);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->loop);
    for (int i = 0; i < nslots; i++)
        k8c_sbuf_free(&b->slots[i].body);
    k8c_free(b->slots);
    k8c_free(b->objects);
    k8c_free(b->value);
    k8c_arena_del(b->arena);
    k8c_free(b);
    return rc;
}
