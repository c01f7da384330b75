/*
 * Store load generator (a benchmark, not a test): drives one etcd v3 cluster,
 * k8c-store or etcd, over lib/grpc with the etcd protos, one case per run,
 * and prints one line of key=value pairs:
 *
 *   case=<c> label=<l> ops=<ok> errors=<n> secs=<s> ops_per_sec=<x>
 *       p50_ms=<x> p99_ms=<x> max_ms=<x> [stalled=1] [first_error="..."]
 *
 * Cases (--case):
 *   leader            prints endpoint=<host:port> of the raft leader (Maintenance/Status)
 *   put               KV/Put of --value-size bytes to keys /bench/put/<i % keyspace>,
 *                     or with --key-size=K to K-digit keys <i % keyspace> (etcd's
 *                     benchmark uses 8-byte keys)
 *   get               linearizable KV/Range of one key (written first)
 *   get-serializable  the same with serializable=true
 *   range             KV/Range of a prefix holding --range-keys keys (written first);
 *                     a response with fewer keys counts as an error
 *   load              --count distinct keys (m<digits>, --key-size bytes, default 8)
 *                     written in Txns of 128 puts: ops = Txns (for memory per key)
 *   watch             --watchers Watch streams on /bench/watch/, then --count puts
 *                     there; measures until every watcher has every event:
 *                     ops = events delivered, latency = put sent -> event received
 *
 * Load: --inflight requests outstanding at any time (each completion issues
 * the next), spread over --conns HTTP/2 connections (channels), which are
 * spread over the --endpoints. Every case is bounded by --count AND
 * --seconds: no request is issued past either; outstanding ones are awaited
 * (they carry no gRPC deadline, as with etcd's benchmark tool) for at most
 * 30 s more, after which the case reports stalled=1 and the program exits
 * with status 2.
 *
 * usage: bench_store --endpoints=H:P[,H:P...] --case=NAME [--label=L] [--count=N]
 *        [--seconds=S] [--conns=N] [--inflight=N] [--value-size=B] [--keyspace=N]
 *        [--key-size=K] [--range-keys=N] [--watchers=N]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "alloc.h"
#include "error.h"
#include "etcd/rpc.pb-c.h"
#include "grpc.h"

/* No grpc-timeout on the measured calls, as etcd's benchmark tool sends
 * none: both servers would arm and disarm a deadline per request. A call
 * that never ends is caught by the drain bound (DRAIN_GRACE_NS). */
#define CALL_TIMEOUT_MS  0
#define DRAIN_GRACE_NS   (30ull * 1000000000ull)
#define MAX_ENDPOINTS    16
#define MAX_CONNS        256
#define MAX_INFLIGHT     4096
#define MAX_COUNT        10000000ull
#define MAX_WATCH_EVENTS 20000000ull /* watchers x puts: bounds the latency array (160 MB) */

enum op_kind { OP_PUT, OP_GET, OP_GET_SERIAL, OP_RANGE, OP_LOAD };

#define LOAD_TXN_OPS 128 /* puts per Txn in the load case (etcd's limit) */

struct options {
    char *endpoints[MAX_ENDPOINTS];
    int nendpoints;
    const char *casename;
    const char *label;
    uint64_t count;
    double seconds;
    int conns;
    int inflight;
    size_t value_size;
    uint64_t keyspace;
    int key_size; /* put: 0 = /bench/put/%08d keys, else exactly this many digits */
    uint64_t range_keys;
    int watchers;
};

/* One timed batch of unary calls of one kind. */
struct phase {
    enum op_kind kind;
    const char *key_prefix; /* put: prefix + %08 (i % keyspace); get/range: the key/prefix */
    uint64_t keyspace;
    uint64_t count;       /* issue at most this many */
    uint64_t deadline_ns; /* issue nothing at or after this uv_hrtime() */
    int64_t expect_kvs;   /* range/get: responses with fewer kvs are errors; -1: no check */
    uint64_t *put_sent;   /* optional: send time of put i (watch case) */
    uint64_t issued, ok, errors;
    int inflight;
    uint64_t t0, t_last;
    double cpu0, cpu1; /* this process's user+system seconds at start and end */
    uint64_t *lat;     /* ok latencies, ns; count entries */
    size_t nlat;
    bool stalled;
    char first_error[K8C_ERRMSG_SIZE];
};

struct bench;

struct op {
    struct bench *b;
    unsigned slot;
    uint64_t sent;
};

struct watcher {
    struct bench *b;
    struct k8c_grpc_client_call *call;
    bool created, done;
};

struct bench {
    uv_loop_t loop;
    uv_timer_t tick; /* wakes uv_run(ONCE) so the bounds are checked */
    struct options opt;
    struct k8c_grpc_channel *ch[MAX_CONNS];
    int nch;
    struct op ops[MAX_INFLIGHT];
    struct phase *phase;
    uint8_t *value;
    /* watch case */
    struct watcher *watchers;
    int watchers_created, watchers_done;
    uint64_t events_expected, events_received, watch_errors;
    uint64_t *event_lat;
    size_t nevent_lat;
    uint64_t t_last_event;
    char watch_error[K8C_ERRMSG_SIZE];
};

static void issue(struct bench *b, unsigned slot);

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

static void note_error(char *first, const char *what, int status, const char *message)
{
    if (first[0] == '\0')
        snprintf(first, K8C_ERRMSG_SIZE, "%s: %s %s", what, k8c_grpc_status_name(status),
                 message ? message : "");
}

/* ---- unary phases --------------------------------------------------------------------------- */

static void on_unary_done(int status, const char *message, const ProtobufCMessage *response,
                          void *arg)
{
    struct op *op = arg;
    struct bench *b = op->b;
    struct phase *p = b->phase;
    uint64_t now = uv_hrtime();

    if (p == NULL) /* cancelled at exit after a stall */
        return;
    p->inflight--;
    if (status != K8C_GRPC_OK || response == NULL) {
        p->errors++;
        note_error(p->first_error, "call failed", status, message);
    } else if (p->expect_kvs >= 0 &&
               (int64_t)((const Etcdserverpb__RangeResponse *)response)->n_kvs < p->expect_kvs) {
        p->errors++;
        if (p->first_error[0] == '\0')
            snprintf(p->first_error, sizeof(p->first_error),
                     "range returned %zu kvs, want %" PRId64,
                     ((const Etcdserverpb__RangeResponse *)response)->n_kvs, p->expect_kvs);
    } else {
        p->ok++;
        p->lat[p->nlat++] = now - op->sent;
        p->t_last = now;
    }
    issue(b, op->slot);
}

/* Load case: Txn i puts keys i*LOAD_TXN_OPS... (up to keyspace keys in all). */
static int issue_load(struct bench *b, struct op *op, uint64_t i)
{
    static Etcdserverpb__PutRequest puts[LOAD_TXN_OPS];
    static Etcdserverpb__RequestOp ops[LOAD_TXN_OPS];
    static Etcdserverpb__RequestOp *pops[LOAD_TXN_OPS];
    static char keys[LOAD_TXN_OPS][40];
    Etcdserverpb__TxnRequest req = ETCDSERVERPB__TXN_REQUEST__INIT;
    int width = (b->opt.key_size > 1 ? b->opt.key_size : 8) - 1;
    size_t n = 0;

    for (uint64_t k = i * LOAD_TXN_OPS; k < b->phase->keyspace && n < LOAD_TXN_OPS; k++, n++) {
        int len = snprintf(keys[n], sizeof(keys[n]), "m%0*" PRIu64, width, k);
        puts[n] = (Etcdserverpb__PutRequest)ETCDSERVERPB__PUT_REQUEST__INIT;
        puts[n].key = (ProtobufCBinaryData){(size_t)len, (uint8_t *)keys[n]};
        puts[n].value = (ProtobufCBinaryData){b->opt.value_size, b->value};
        ops[n] = (Etcdserverpb__RequestOp)ETCDSERVERPB__REQUEST_OP__INIT;
        ops[n].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
        ops[n].request_put = &puts[n];
        pops[n] = &ops[n];
    }
    req.n_success = n;
    req.success = pops;
    /* The call encodes the request before returning, so the static arrays
     * are free again for the next one. */
    return k8c_grpc_unary(b->ch[op->slot % (unsigned)b->nch], "/etcdserverpb.KV/Txn", &req.base,
                          &etcdserverpb__txn_response__descriptor, CALL_TIMEOUT_MS, on_unary_done,
                          op);
}

/* Starts the next call of the phase on slot, unless a bound is reached. */
static void issue(struct bench *b, unsigned slot)
{
    struct phase *p = b->phase;
    struct op *op = &b->ops[slot];
    uint64_t now = uv_hrtime();
    char key[128];
    int rc;

    if (p->issued >= p->count || now >= p->deadline_ns || p->stalled)
        return;
    uint64_t i = p->issued++;
    op->b = b;
    op->slot = slot;
    op->sent = now;
    p->inflight++;
    struct k8c_grpc_channel *ch = b->ch[slot % (unsigned)b->nch];
    if (p->kind == OP_PUT) {
        Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
        int n = b->opt.key_size > 0
                    ? snprintf(key, sizeof(key), "%0*" PRIu64, b->opt.key_size, i % p->keyspace)
                    : snprintf(key, sizeof(key), "%s%08" PRIu64, p->key_prefix, i % p->keyspace);
        req.key = (ProtobufCBinaryData){(size_t)n, (uint8_t *)key};
        req.value = (ProtobufCBinaryData){b->opt.value_size, b->value};
        if (p->put_sent != NULL)
            p->put_sent[i] = now;
        rc = k8c_grpc_unary(ch, "/etcdserverpb.KV/Put", &req.base,
                            &etcdserverpb__put_response__descriptor, CALL_TIMEOUT_MS, on_unary_done,
                            op);
    } else if (p->kind != OP_LOAD) {
        Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
        size_t n = strlen(p->key_prefix);
        memcpy(key, p->key_prefix, n + 1);
        req.key = (ProtobufCBinaryData){n, (uint8_t *)p->key_prefix};
        if (p->kind == OP_RANGE) {
            key[n - 1]++; /* prefix end: last byte + 1 */
            req.range_end = (ProtobufCBinaryData){n, (uint8_t *)key};
        }
        req.serializable = p->kind == OP_GET_SERIAL;
        rc = k8c_grpc_unary(ch, "/etcdserverpb.KV/Range", &req.base,
                            &etcdserverpb__range_response__descriptor, CALL_TIMEOUT_MS,
                            on_unary_done, op);
    }
    if (p->kind == OP_LOAD)
        rc = issue_load(b, op, i);
    if (rc != 0) {
        p->inflight--;
        p->errors++;
        if (p->first_error[0] == '\0')
            snprintf(p->first_error, sizeof(p->first_error), "call not started: %s",
                     k8c_strerror(rc));
    }
}

static void on_tick(uv_timer_t *t)
{
}

/* User+system CPU seconds this process has used so far. */
static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Runs one phase: inflight calls at a time until count or seconds is reached,
 * then waits for the outstanding ones (30 s at most). */
static void run_phase(struct bench *b, struct phase *p, int inflight, double seconds)
{
    p->lat = k8c_calloc(p->count ? p->count : 1, sizeof(uint64_t));
    if (p->keyspace == 0)
        p->keyspace = 1;
    b->phase = p;
    p->t0 = p->t_last = uv_hrtime();
    p->cpu0 = self_cpu();
    p->deadline_ns = p->t0 + (uint64_t)(seconds * 1e9);
    for (int s = 0; s < inflight; s++)
        issue(b, (unsigned)s);
    while (p->inflight > 0) {
        uv_run(&b->loop, UV_RUN_ONCE);
        if (p->inflight > 0 && uv_hrtime() > p->deadline_ns + DRAIN_GRACE_NS) {
            p->stalled = true;
            break;
        }
    }
    p->cpu1 = self_cpu();
}

static void print_phase(const struct bench *b, struct phase *p)
{
    double secs = (double)(p->t_last - p->t0) / 1e9;
    qsort(p->lat, p->nlat, sizeof(uint64_t), cmp_u64);
    printf("case=%s label=%s ops=%" PRIu64 " errors=%" PRIu64 " secs=%.3f ops_per_sec=%.1f "
           "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f inflight=%d conns=%d client_cpu_s=%.2f",
           b->opt.casename, b->opt.label, p->ok, p->errors, secs,
           secs > 0 ? (double)p->ok / secs : 0.0, quantile_ms(p->lat, p->nlat, 0.50),
           quantile_ms(p->lat, p->nlat, 0.99), quantile_ms(p->lat, p->nlat, 1.0), b->opt.inflight,
           b->nch, p->cpu1 - p->cpu0);
    if (p->stalled)
        printf(" stalled=1 outstanding=%d", p->inflight);
    if (p->first_error[0] != '\0')
        printf(" first_error=\"%s\"", p->first_error);
    printf("\n");
    fflush(stdout);
}

/* A short untimed phase (preloading keys); false if any call failed. */
static bool prepare(struct bench *b, const char *prefix, uint64_t n, enum op_kind kind)
{
    struct phase p = {
        .kind = kind, .key_prefix = prefix, .keyspace = n, .count = n, .expect_kvs = -1};
    run_phase(b, &p, b->opt.inflight < 16 ? b->opt.inflight : 16, 60);
    bool ok = p.errors == 0 && !p.stalled;
    if (!ok)
        fprintf(stderr, "bench_store: preparing %s failed: %s\n", prefix, p.first_error);
    k8c_free(p.lat);
    return ok;
}

/* ---- watch fan-out ---------------------------------------------------------------------- */

static const char watch_prefix[] = "/bench/watch/";

static void on_watch_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct watcher *w = arg;
    struct bench *b = w->b;
    const Etcdserverpb__WatchResponse *r = (const Etcdserverpb__WatchResponse *)msg->pb;
    uint64_t now = uv_hrtime();
    struct phase *p = b->phase;

    if (r == NULL)
        return;
    if (r->created && !w->created) {
        w->created = true;
        b->watchers_created++;
    }
    if (r->canceled) {
        b->watch_errors++;
        if (b->watch_error[0] == '\0')
            snprintf(b->watch_error, sizeof(b->watch_error), "watch canceled: %s",
                     r->cancel_reason ? r->cancel_reason : "");
    }
    for (size_t i = 0; i < r->n_events; i++) {
        const Mvccpb__KeyValue *kv = r->events[i]->kv;
        char num[32];
        size_t plen = sizeof(watch_prefix) - 1;
        if (kv == NULL || kv->key.len <= plen || kv->key.len - plen >= sizeof(num))
            continue;
        memcpy(num, kv->key.data + plen, kv->key.len - plen);
        num[kv->key.len - plen] = '\0';
        uint64_t idx = strtoull(num, NULL, 10);
        b->events_received++;
        if (p != NULL && p->put_sent != NULL && idx < p->issued &&
            b->nevent_lat < b->events_expected)
            b->event_lat[b->nevent_lat++] = now - p->put_sent[idx];
        b->t_last_event = now;
    }
}

static void on_watch_done(struct k8c_grpc_client_call *call, int status, const char *message,
                          void *arg)
{
    struct watcher *w = arg;
    struct bench *b = w->b;

    w->done = true;
    w->call = NULL;
    b->watchers_done++;
    if (status != K8C_GRPC_CANCELLED) {
        b->watch_errors++;
        note_error(b->watch_error, "watch ended", status, message);
    }
}

static int run_watch(struct bench *b)
{
    int nw = b->opt.watchers;
    uint64_t n = b->opt.count;
    char errmsg[K8C_ERRMSG_SIZE];
    int rc = 0;

    if ((uint64_t)nw * n > MAX_WATCH_EVENTS) {
        fprintf(stderr, "bench_store: watchers x count over %llu\n", MAX_WATCH_EVENTS);
        return 1;
    }
    b->watchers = k8c_calloc((size_t)nw, sizeof(struct watcher));
    b->events_expected = (uint64_t)nw * n;
    b->event_lat = k8c_calloc(b->events_expected ? b->events_expected : 1, sizeof(uint64_t));
    for (int i = 0; i < nw; i++) {
        struct watcher *w = &b->watchers[i];
        w->b = b;
        struct k8c_grpc_call_options o = {
            .path = "/etcdserverpb.Watch/Watch",
            .response = &etcdserverpb__watch_response__descriptor,
            .on_message = on_watch_message,
            .on_done = on_watch_done,
            .arg = w,
        };
        w->call = k8c_grpc_channel_call(b->ch[i % b->nch], &o, errmsg);
        if (w->call == NULL) {
            fprintf(stderr, "bench_store: watch: %s\n", errmsg);
            w->done = true;
            b->watchers_done++;
            continue;
        }
        Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
        Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
        char end[sizeof(watch_prefix)];
        memcpy(end, watch_prefix, sizeof(watch_prefix));
        end[sizeof(watch_prefix) - 2]++;
        cr.key = (ProtobufCBinaryData){sizeof(watch_prefix) - 1, (uint8_t *)watch_prefix};
        cr.range_end = (ProtobufCBinaryData){sizeof(watch_prefix) - 1, (uint8_t *)end};
        req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
        req.create_request = &cr;
        k8c_grpc_client_call_send(w->call, &req.base);
    }
    uint64_t until = uv_hrtime() + 20ull * 1000000000ull;
    while (b->watchers_created + b->watchers_done < nw && uv_hrtime() < until)
        uv_run(&b->loop, UV_RUN_ONCE);
    if (b->watchers_created < nw) {
        fprintf(stderr, "bench_store: only %d of %d watches created in 20 s (%s)\n",
                b->watchers_created, nw, b->watch_error);
        rc = 2;
    }

    struct phase p = {.kind = OP_PUT, .key_prefix = watch_prefix, .count = n, .expect_kvs = -1};
    p.keyspace = n;
    p.put_sent = k8c_calloc(n ? n : 1, sizeof(uint64_t));
    b->events_received = 0;
    if (rc == 0) {
        run_phase(b, &p, b->opt.inflight, b->opt.seconds);
        /* Every watcher should get an event per successful put. */
        uint64_t want = (uint64_t)b->watchers_created * p.ok;
        until = uv_hrtime() + 30ull * 1000000000ull;
        while (b->events_received < want && b->watchers_done < nw && uv_hrtime() < until)
            uv_run(&b->loop, UV_RUN_ONCE);
        double cpu_end = self_cpu(); /* puts and event delivery both */
        double secs = (double)(b->t_last_event - p.t0) / 1e9;
        qsort(b->event_lat, b->nevent_lat, sizeof(uint64_t), cmp_u64);
        printf("case=watch label=%s watchers=%d puts=%" PRIu64 " put_errors=%" PRIu64
               " events=%" PRIu64 " events_expected=%" PRIu64 " watch_errors=%" PRIu64
               " secs=%.3f ops=%" PRIu64 " errors=%" PRIu64 " ops_per_sec=%.1f p50_ms=%.3f "
               "p99_ms=%.3f max_ms=%.3f inflight=%d conns=%d client_cpu_s=%.2f",
               b->opt.label, b->watchers_created, p.ok, p.errors, b->events_received, want,
               b->watch_errors, secs, b->events_received,
               (want - (b->events_received < want ? b->events_received : want)) + p.errors +
                   b->watch_errors,
               secs > 0 ? (double)b->events_received / secs : 0.0,
               quantile_ms(b->event_lat, b->nevent_lat, 0.50),
               quantile_ms(b->event_lat, b->nevent_lat, 0.99),
               quantile_ms(b->event_lat, b->nevent_lat, 1.0), b->opt.inflight, b->nch,
               cpu_end - p.cpu0);
        if (p.stalled)
            printf(" stalled=1");
        if (p.first_error[0] != '\0')
            printf(" first_error=\"%s\"", p.first_error);
        else if (b->watch_error[0] != '\0')
            printf(" first_error=\"%s\"", b->watch_error);
        printf("\n");
        if (p.stalled || b->events_received < want)
            rc = 2;
    }
    b->phase = NULL;
    for (int i = 0; i < nw; i++)
        if (!b->watchers[i].done && b->watchers[i].call != NULL)
            k8c_grpc_client_call_cancel(b->watchers[i].call);
    until = uv_hrtime() + 10ull * 1000000000ull;
    while (b->watchers_done < nw && uv_hrtime() < until)
        uv_run(&b->loop, UV_RUN_ONCE);
    k8c_free(p.lat);
    k8c_free(p.put_sent);
    k8c_free(b->event_lat);
    /* Watchers still open are cancelled by k8c_grpc_channel_del; their
     * callbacks must find their struct, so it is freed after the loop ends. */
    return rc;
}

/* ---- leader -------------------------------------------------------------------------------- */

struct status_probe {
    bool done;
    uint64_t member, leader;
};

static void on_status(int status, const char *message, const ProtobufCMessage *response, void *arg)
{
    struct status_probe *s = arg;
    const Etcdserverpb__StatusResponse *r = (const Etcdserverpb__StatusResponse *)response;
    s->done = true;
    if (status == K8C_GRPC_OK && r != NULL) {
        s->leader = r->leader;
        s->member = r->header ? r->header->member_id : 0;
    }
}

static int run_leader(struct bench *b)
{
    struct status_probe probe[MAX_ENDPOINTS] = {{0}};
    Etcdserverpb__StatusRequest req = ETCDSERVERPB__STATUS_REQUEST__INIT;

    for (int i = 0; i < b->opt.nendpoints; i++)
        if (k8c_grpc_unary(b->ch[i], "/etcdserverpb.Maintenance/Status", &req.base,
                           &etcdserverpb__status_response__descriptor, 3000, on_status,
                           &probe[i]) != 0)
            probe[i].done = true;
    uint64_t until = uv_hrtime() + 5ull * 1000000000ull;
    for (int i = 0; i < b->opt.nendpoints; i++)
        while (!probe[i].done && uv_hrtime() < until)
            uv_run(&b->loop, UV_RUN_ONCE);
    for (int i = 0; i < b->opt.nendpoints; i++)
        if (probe[i].leader != 0 && probe[i].leader == probe[i].member) {
            printf("endpoint=%s\n", b->opt.endpoints[i]);
            return 0;
        }
    fprintf(stderr, "bench_store: no endpoint is the leader\n");
    return 1;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_store --endpoints=H:P[,H:P...] "
                    "--case=leader|put|get|get-serializable|range|load|watch\n"
                    "  [--label=L] [--count=N] [--seconds=S] [--conns=N] [--inflight=N]\n"
                    "  [--value-size=B] [--keyspace=N] [--key-size=K] [--range-keys=N]\n"
                    "  [--watchers=N]\n");
    exit(1);
}

static void parse(struct options *o, int argc, char **argv)
{
    *o = (struct options){.label = "-",
                          .count = 10000,
                          .seconds = 5,
                          .conns = 1,
                          .inflight = 1,
                          .value_size = 256,
                          .keyspace = 10000,
                          .range_keys = 1000,
                          .watchers = 100};
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *v = strchr(a, '=');
        if (strncmp(a, "--", 2) != 0 || v == NULL)
            usage();
        *v++ = '\0';
        a += 2;
        if (strcmp(a, "endpoints") == 0) {
            for (char *s = strtok(v, ","); s != NULL && o->nendpoints < MAX_ENDPOINTS;
                 s = strtok(NULL, ","))
                o->endpoints[o->nendpoints++] = s;
        } else if (strcmp(a, "case") == 0) {
            o->casename = v;
        } else if (strcmp(a, "label") == 0) {
            o->label = v;
        } else if (strcmp(a, "count") == 0) {
            o->count = strtoull(v, NULL, 10);
        } else if (strcmp(a, "seconds") == 0) {
            o->seconds = strtod(v, NULL);
        } else if (strcmp(a, "conns") == 0) {
            o->conns = atoi(v);
        } else if (strcmp(a, "inflight") == 0) {
            o->inflight = atoi(v);
        } else if (strcmp(a, "value-size") == 0) {
            o->value_size = strtoull(v, NULL, 10);
        } else if (strcmp(a, "key-size") == 0) {
            o->key_size = atoi(v);
        } else if (strcmp(a, "keyspace") == 0) {
            o->keyspace = strtoull(v, NULL, 10);
        } else if (strcmp(a, "range-keys") == 0) {
            o->range_keys = strtoull(v, NULL, 10);
        } else if (strcmp(a, "watchers") == 0) {
            o->watchers = atoi(v);
        } else {
            usage();
        }
    }
    if (o->casename == NULL || o->nendpoints == 0 || o->conns < 1 || o->conns > MAX_CONNS ||
        o->inflight < 1 || o->inflight > MAX_INFLIGHT || o->count < 1 || o->count > MAX_COUNT ||
        o->seconds <= 0 || o->seconds > 600 || o->value_size > (1u << 20) || o->watchers < 1 ||
        o->range_keys < 1 || o->range_keys > 100000 || o->key_size < 0 || o->key_size > 32)
        usage();
}

int main(int argc, char **argv)
{
    struct bench *b = K8C_NEW(struct bench);
    char errmsg[K8C_ERRMSG_SIZE];
    int rc = 0;

    signal(SIGPIPE, SIG_IGN);
    parse(&b->opt, argc, argv);
    uv_loop_init(&b->loop);
    uv_timer_init(&b->loop, &b->tick);
    uv_timer_start(&b->tick, on_tick, 100, 100);
    b->value = k8c_malloc(b->opt.value_size ? b->opt.value_size : 1);
    for (size_t i = 0; i < b->opt.value_size; i++)
        b->value[i] = (uint8_t)('a' + i % 26);
    const char *c = b->opt.casename;
    b->nch = strcmp(c, "leader") == 0 ? b->opt.nendpoints : b->opt.conns;
    for (int i = 0; i < b->nch; i++) {
        b->ch[i] =
            k8c_grpc_channel_new(&b->loop, b->opt.endpoints[i % b->opt.nendpoints], NULL, errmsg);
        if (b->ch[i] == NULL) {
            fprintf(stderr, "bench_store: %s: %s\n", b->opt.endpoints[i % b->opt.nendpoints],
                    errmsg);
            return 1;
        }
    }

    struct phase p = {.expect_kvs = -1};
    bool unary = true;
    if (strcmp(c, "leader") == 0) {
        rc = run_leader(b);
        unary = false;
    } else if (strcmp(c, "watch") == 0) {
        rc = run_watch(b);
        unary = false;
    } else if (strcmp(c, "put") == 0) {
        p.kind = OP_PUT;
        p.key_prefix = "/bench/put/";
        p.keyspace = b->opt.keyspace;
    } else if (strcmp(c, "get") == 0 || strcmp(c, "get-serializable") == 0) {
        p.kind = strcmp(c, "get") == 0 ? OP_GET : OP_GET_SERIAL;
        p.key_prefix = "/bench/get/00000000";
        p.expect_kvs = 1;
        if (!prepare(b, "/bench/get/", 1, OP_PUT))
            rc = 2;
    } else if (strcmp(c, "load") == 0) {
        p.kind = OP_LOAD;
        p.keyspace = b->opt.count; /* keys; the phase counts Txns */
        b->opt.count = (b->opt.count + LOAD_TXN_OPS - 1) / LOAD_TXN_OPS;
    } else if (strcmp(c, "range") == 0) {
        p.kind = OP_RANGE;
        p.key_prefix = "/bench/range/";
        p.expect_kvs = (int64_t)b->opt.range_keys;
        if (!prepare(b, "/bench/range/", b->opt.range_keys, OP_PUT))
            rc = 2;
    } else {
        usage();
    }
    if (unary && rc == 0) {
        p.count = b->opt.count;
        run_phase(b, &p, b->opt.inflight, b->opt.seconds);
        print_phase(b, &p);
        if (p.stalled)
            rc = 2;
    }
    b->phase = NULL;
    k8c_free(p.lat);

    uv_timer_stop(&b->tick);
    uv_close((uv_handle_t *)&b->tick, NULL);
    for (int i = 0; i < b->nch; i++)
        k8c_grpc_channel_del(b->ch[i]);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->loop);
    k8c_free(b->watchers);
    k8c_free(b->value);
    k8c_free(b);
    return rc;
}
