/*
 * Watch fan-out load generator (a benchmark, not a test): W watchers on the
 * pods of namespace default, either through k8c-apiserver's watch cache
 * (--target=api: GET /api/v1/namespaces/default/pods?watch=1 over HTTP/2 +
 * TLS, lib/http's client, --per-conn streams per connection) or directly on
 * the store's Watch API (--target=etcd: etcd v3 gRPC bidi streams on
 * /registry/pods/default/, --watches-per-stream watches on each stream,
 * --per-conn streams per connection), while one writer merge-PATCHes the
 * annotation "bench/t" of --pods pods through the API server at --rate
 * writes per second for --seconds. With --selector every watcher matches one
 * pod (fieldSelector=metadata.name=pod-<j % pods> for the API server, the
 * exact key for etcd); without it every watcher gets every write.
 *
 * The annotation's value is "k8cbench:<write index>:<send time>;" with the
 * send time in ns of CLOCK_MONOTONIC (uv_hrtime) in this process, so a
 * watcher finds it in the JSON line (API server) or the stored bytes
 * (etcd, whatever the encoding) and measures two latencies per delivery:
 *   send -> delivery   from the PATCH being sent to the event arriving
 *   ack  -> delivery   from the PATCH's response to the event arriving
 *                      (0 when the event came first: counted in before_ack)
 * Latencies go into histograms (10 us buckets up to 1 s, 1 ms up to 120 s).
 *
 * Phases, each bounded in time: create the pods (409 is fine) and list them
 * at resourceVersion=0 (starts the watch cache; its resourceVersion is where
 * the API server watches start); sample the RSS of --api-pid and
 * --etcd-pid; open the watchers (60 s at most) on --threads threads with
 * their own loops; settle --settle seconds; sample RSS again (idle cost per
 * watcher = delta / watchers); write for --seconds at the fixed rate (at
 * most --max-inflight PATCHes outstanding; a write issued more than 10 ms
 * after its slot counts as late, one not issued by the end of --seconds is
 * never issued: writes_not_issued); wait until every watcher has every event
 * of the writes it matches (--drain seconds at most, or 5 s without
 * progress); then close everything. CPU of both servers (utime+stime from
 * /proc/<pid>/stat) and of this process is taken over the write phase and
 * drain, and so are their write syscalls (syscw in /proc/<pid>/io), per
 * delivery. Prints one line of key=value pairs; exits 2 when watchers failed
 * to open, events are missing or a watcher was cut off.
 *
 * usage: bench_watch --target=api|etcd --api=H:P --ca=FILE --token=T [--etcd=H:P]
 *        [--watchers=W] [--per-conn=N] [--watches-per-stream=K] [--pods=N] [--rate=R]
 *        [--seconds=S] [--selector] [--threads=T] [--api-pid=P] [--etcd-pid=P]
 *        [--settle=S] [--drain=S] [--max-inflight=N] [--label=L] [--proto]
 *
 * --proto: the API server watchers ask for protobuf (Accept
 * application/vnd.kubernetes.protobuf;stream=watch) and read length-prefixed
 * WatchEvent frames instead of JSON lines. Also reported: stream bytes per
 * delivery and the API server's CPU microseconds per delivery (the figure the
 * machine's load disturbs least).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "etcd/rpc.pb-c.h"
#include "grpc.h"
#include "h2bench.h"
#include "http.h"

#define MAX_THREADS  16
#define MAX_WATCHERS 200000
#define MAX_WRITES   1000000
#define MAX_PODS     100000
/* Latency histogram: 10 us buckets up to 1 s, then 1 ms buckets up to 120 s,
 * then one for anything slower. */
#define HIST_FINE_NS   10000ull
#define HIST_FINE      100000u
#define HIST_COARSE_NS 1000000ull
#define HIST_BUCKETS   (HIST_FINE + 119000u)
#define OPEN_TIMEOUT_S 60
#define LATE_NS        (10ull * 1000000ull)
#define STALL_NS       (5ull * 1000000000ull)
#define MARK           "k8cbench:"
#define MARK_LEN       (sizeof(MARK) - 1)
#define TAIL_MAX       64 /* longest marker: 9 + 20 + 1 + 20 + 1 */
#define POD_PREFIX     "/registry/pods/default/"

struct options {
    const char *target, *api, *etcd, *ca, *token, *label, *trace;
    int watchers, per_conn, per_stream, pods, threads, max_inflight;
    double rate, seconds, settle, drain;
    bool selector, proto;
    int api_pid, etcd_pid;
};

enum { PHASE_OPEN, PHASE_RUN, PHASE_STOP };

struct hist {
    uint32_t *n; /* HIST_BUCKETS + 1 */
    uint64_t count, max_ns;
};

struct worker;

/* Finds "k8cbench:<i>:<ns>;" in a byte stream that arrives in pieces. */
struct markscan {
    bool have; /* the current line's marker was found */
    uint8_t ntail;
    char tail[TAIL_MAX];
    /* bytes of the current line (or frame) seen, and where in it the marker
     * began in the previous one: a watcher's events are the same pods with
     * another annotation value, so it is most often there again */
    uint32_t pos, hint;
};

struct api_watch {
    struct worker *w;
    struct k8c_http_client_stream *s;
    int status;
    bool open, closed, line_start;
    uint32_t pod;
    struct markscan ms;
    /* --proto: the frame being read (4-byte big-endian length, then that many bytes) */
    uint32_t frame_left;
    uint8_t nhead;
    uint8_t head[4];
};

struct etcd_stream {
    struct worker *w;
    struct k8c_grpc_client_call *call;
    int first, n; /* watch indexes first .. first+n-1 */
    int created;
    bool closed;
};

struct bench;

struct worker {
    struct bench *b;
    int id;
    pthread_t thread;
    uv_loop_t loop;
    uv_timer_t tick;
    int first, count; /* watcher indexes */
    int nconn;
    struct k8c_http_client **hc;
    struct k8c_grpc_channel **gc;
    struct api_watch *aw;
    struct etcd_stream *es;
    int nstreams;
    bool stopping;
    uint64_t stop_deadline;
    /* owned by the thread; read by main after join */
    uint64_t opened, failed, deliveries, other, closed_early, errors, before_ack, t_last;
    uint64_t bytes; /* watch stream body bytes received */
    struct hist send_hist, ack_hist;
    /* --trace: per write index, the latest delivery (ns after the write was sent) */
    uint64_t *last_ns;
    char first_error[256];
    /* published every tick for main's progress checks */
    _Atomic uint64_t pub_opened, pub_failed, pub_deliveries, pub_closed, pub_t_last;
};

struct bench {
    struct options o;
    bool etcd_target;
    uv_loop_t loop;
    uv_timer_t tick;
    struct k8c_http_client *writer;
    char authorization[256];
    char rv[32];
    _Atomic int phase;
    struct worker workers[MAX_THREADS];
    /* writes */
    uint64_t nwrites, issued, acked, write_errors, late;
    int inflight;
    uint64_t t0;
    bool writing;
    _Atomic uint64_t *ack_ns, *sent_ns;
    uint64_t ack_cap; /* entries of ack_ns and sent_ns; fixed before the workers start */
    uint64_t *acked_per_pod;
    char write_error[256];
    /* setup requests */
    int setup_inflight, setup_next, setup_errors;
    char setup_error[256];
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void note(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps the first error message only. */
static void note(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (dst[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

static uint64_t proc_ticks(int pid)
{
    uint64_t t = 0;
    if (pid > 0)
        h2bench_proc_ticks(pid, &t);
    return t;
}

/* VmRSS of pid in KiB, 0 if unknown. */
static uint64_t proc_rss_kb(int pid)
{
    return h2bench_proc_number(pid, "status", "VmRSS");
}

/* Write syscalls pid made so far (syscw in /proc/<pid>/io), 0 if unknown. */
static uint64_t proc_syscw(int pid)
{
    return h2bench_proc_number(pid, "io", "syscw");
}

static void hist_init(struct hist *h)
{
    h->n = k8c_calloc(HIST_BUCKETS + 1, sizeof(uint32_t));
}

static void hist_add(struct hist *h, uint64_t ns)
{
    uint64_t i = ns / HIST_FINE_NS;
    if (i >= HIST_FINE)
        i = HIST_FINE + (ns - HIST_FINE * HIST_FINE_NS) / HIST_COARSE_NS;
    h->n[i < HIST_BUCKETS ? i : HIST_BUCKETS]++;
    h->count++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
    for (uint32_t i = 0; i <= HIST_BUCKETS; i++)
        into->n[i] += h->n[i];
    into->count += h->count;
    if (h->max_ns > into->max_ns)
        into->max_ns = h->max_ns;
}

/* The q-quantile in ms (bucket's upper edge), 0 when empty. */
static double hist_quantile_ms(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->count + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (uint32_t i = 0; i <= HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= want)
            return i == HIST_BUCKETS ? (double)h->max_ns / 1e6
                   : i < HIST_FINE
                       ? (double)((i + 1) * HIST_FINE_NS) / 1e6
                       : (double)(HIST_FINE * HIST_FINE_NS + (i - HIST_FINE + 1) * HIST_COARSE_NS) /
                             1e6;
    }
    return (double)h->max_ns / 1e6;
}

/* ---- the marker ------------------------------------------------------------------------- */

/* Parses "k8cbench:<i>:<ns>;" at p[0..n): 1 when complete (sets *idx, *ns),
 * 0 when p holds a prefix of one, -1 when it is not one. */
static int parse_mark(const char *p, size_t n, uint64_t *idx, uint64_t *ns)
{
    size_t m = n < MARK_LEN ? n : MARK_LEN, i = MARK_LEN;
    uint64_t v[2] = {0, 0};
    if (memcmp(p, MARK, m) != 0)
        return -1;
    if (n < MARK_LEN)
        return 0;
    for (int f = 0; f < 2; f++) {
        size_t start = i;
        while (i < n && p[i] >= '0' && p[i] <= '9' && i - start < 20)
            v[f] = v[f] * 10 + (uint64_t)(p[i++] - '0');
        if (i == n)
            return 0;
        if (i == start || p[i] != (f == 0 ? ':' : ';'))
            return -1;
        i++;
    }
    *idx = v[0];
    *ns = v[1];
    return 1;
}

static void record(struct worker *w, uint64_t idx, uint64_t sent_ns, uint64_t now);

/* parse_mark for a marker of this run, cheaper: the time is not read from
 * the digits but from sent_ns, which issue_write set to the same value
 * before it sent the write (parse_mark when that is not known). */
static int parse_own_mark(const struct bench *b, const char *p, size_t n, uint64_t *idx,
                          uint64_t *ns)
{
    size_t i = MARK_LEN;
    uint64_t v = 0;
    if (n < MARK_LEN + 4 || memcmp(p, MARK, MARK_LEN) != 0)
        return parse_mark(p, n, idx, ns);
    while (i < n && p[i] >= '0' && p[i] <= '9' && i - MARK_LEN < 20)
        v = v * 10 + (uint64_t)(p[i++] - '0');
    uint64_t sent = v < b->ack_cap ? atomic_load_explicit(&b->sent_ns[v], memory_order_relaxed) : 0;
    if (i == MARK_LEN || i + 1 >= n || p[i] != ':' || sent == 0)
        return parse_mark(p, n, idx, ns);
    const char *end = memchr(p + i + 1, ';', n - i - 1 < 21 ? n - i - 1 : 21);
    if (end == NULL || end == p + i + 1)
        return parse_mark(p, n, idx, ns);
    *idx = v;
    *ns = sent;
    return 1;
}

/* Looks for the marker in seg, the next piece of the current line. */
static void markscan_segment(struct worker *w, struct markscan *ms, const char *seg, size_t len,
                             uint64_t now)
{
    uint64_t idx, ns;
    if (ms->have || len == 0) {
        ms->pos += (uint32_t)len;
        return;
    }
    uint32_t at = ms->pos;
    ms->pos += (uint32_t)len;
    if (ms->ntail == 0 && ms->hint >= at && ms->hint - at < len &&
        parse_own_mark(w->b, seg + (ms->hint - at), len - (ms->hint - at), &idx, &ns) == 1) {
        ms->have = true;
        record(w, idx, ns, now);
        return;
    }
    if (ms->ntail > 0) {
        char tmp[2 * TAIL_MAX];
        size_t take = len < sizeof(tmp) - ms->ntail ? len : sizeof(tmp) - ms->ntail;
        memcpy(tmp, ms->tail, ms->ntail);
        memcpy(tmp + ms->ntail, seg, take);
        int r = parse_mark(tmp, ms->ntail + take, &idx, &ns);
        if (r == 1) {
            ms->have = true;
            ms->hint = at - ms->ntail;
            ms->ntail = 0;
            record(w, idx, ns, now);
            return;
        }
        if (r == 0 && ms->ntail + take <= TAIL_MAX) {
            memcpy(ms->tail, tmp, ms->ntail + take);
            ms->ntail = (uint8_t)(ms->ntail + take);
            return;
        }
        ms->ntail = 0; /* the tail was no marker: search seg itself */
    }
    const char *p = memmem(seg, len, MARK, MARK_LEN);
    if (p != NULL) {
        size_t rest = (size_t)(seg + len - p);
        ms->hint = at + (uint32_t)(p - seg);
        int r = parse_mark(p, rest, &idx, &ns);
        if (r == 1) {
            ms->have = true;
            record(w, idx, ns, now);
        } else if (r == 0 && rest <= TAIL_MAX) {
            memcpy(ms->tail, p, rest);
            ms->ntail = (uint8_t)rest;
        }
        return;
    }
    /* keep the longest suffix that may start a marker */
    for (size_t k = len < MARK_LEN - 1 ? len : MARK_LEN - 1; k > 0; k--)
        if (memcmp(seg + len - k, MARK, k) == 0) {
            memcpy(ms->tail, seg + len - k, k);
            ms->ntail = (uint8_t)k;
            break;
        }
}

static void record(struct worker *w, uint64_t idx, uint64_t sent_ns, uint64_t now)
{
    struct bench *b = w->b;
    w->deliveries++;
    w->t_last = now;
    hist_add(&w->send_hist, now > sent_ns ? now - sent_ns : 0);
    if (w->last_ns != NULL && idx < b->ack_cap && now > sent_ns && now - sent_ns > w->last_ns[idx])
        w->last_ns[idx] = now - sent_ns;
    uint64_t ack =
        idx < b->ack_cap ? atomic_load_explicit(&b->ack_ns[idx], memory_order_relaxed) : 0;
    if (ack == 0 || ack >= now) {
        w->before_ack++;
        hist_add(&w->ack_hist, 0);
    } else {
        hist_add(&w->ack_hist, now - ack);
    }
}

/* ---- API server watchers ------------------------------------------------------------------ */

static void aw_header(struct k8c_http_client_stream *s, const char *name, const char *value,
                      void *arg)
{
    struct api_watch *a = arg;
    if (!h2bench_status(name, value, &a->status))
        return;
    if (a->status == 200) {
        a->open = true;
        a->w->opened++;
    } else {
        a->w->failed++;
        note(a->w->first_error, sizeof(a->w->first_error), "watch answered HTTP %d", a->status);
    }
}

/* --proto: length-prefixed WatchEvent frames; the marker is in the embedded pod's bytes. */
static void aw_data_proto(struct api_watch *a, const uint8_t *p, const uint8_t *end)
{
    struct worker *w = a->w;
    uint64_t now = uv_hrtime();
    while (p < end) {
        if (a->frame_left == 0) {
            a->head[a->nhead++] = *p++;
            if (a->nhead < 4)
                continue;
            a->nhead = 0;
            a->frame_left = (uint32_t)a->head[0] << 24 | (uint32_t)a->head[1] << 16 |
                            (uint32_t)a->head[2] << 8 | a->head[3];
            a->line_start = true;
            if (a->frame_left == 0)
                w->other++;
            continue;
        }
        size_t seg = (size_t)(end - p) < a->frame_left ? (size_t)(end - p) : a->frame_left;
        /* WatchEvent.type is field 1: 0x0a, length 5, "ERROR" */
        if (a->line_start && seg >= 7 &&
            memcmp(p,
                   "\x0a\x05"
                   "ERROR",
                   7) == 0) {
            w->errors++;
            note(w->first_error, sizeof(w->first_error), "watch error event (protobuf)");
        }
        a->line_start = false;
        markscan_segment(w, &a->ms, (const char *)p, seg, now);
        p += seg;
        a->frame_left -= (uint32_t)seg;
        if (a->frame_left == 0) {
            if (!a->ms.have)
                w->other++;
            a->ms.have = false;
            a->ms.ntail = 0;
            a->ms.pos = 0;
        }
    }
}

static void aw_data(struct k8c_http_client_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct api_watch *a = arg;
    struct worker *w = a->w;
    const char *p = (const char *)data, *end = p + len;
    uint64_t now = uv_hrtime();
    w->bytes += len;
    if (w->b->o.proto) {
        aw_data_proto(a, data, data + len);
        return;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = (size_t)((nl ? nl : end) - p);
        if (a->line_start && seg > 0) {
            a->line_start = false;
            if (seg >= 15 && memcmp(p, "{\"type\":\"ERROR\"", 15) == 0) {
                w->errors++;
                if (w->first_error[0] == '\0')
                    snprintf(w->first_error, sizeof(w->first_error), "watch error event: %.*s",
                             (int)(seg < 200 ? seg : 200), p);
            }
        }
        markscan_segment(w, &a->ms, p, seg, now);
        if (nl == NULL)
            break;
        if (!a->ms.have)
            w->other++;
        a->ms.have = false;
        a->ms.ntail = 0;
        a->ms.pos = 0;
        a->line_start = true;
        p = nl + 1;
    }
}

static void aw_close(struct k8c_http_client_stream *s, int error, uint32_t rst_code,
                     const char *why, void *arg)
{
    struct api_watch *a = arg;
    struct worker *w = a->w;
    a->closed = true;
    a->s = NULL;
    if (a->status == 0) {
        w->failed++;
        note(w->first_error, sizeof(w->first_error),
             "watch stream closed before a response: %s (rst %u)", why ? why : "reset", rst_code);
    } else if (atomic_load(&w->b->phase) != PHASE_STOP && !w->stopping) {
        w->closed_early++;
        note(w->first_error, sizeof(w->first_error), "watch cut off by the server: %s (rst %u)",
             error == 0 ? "stream ended" : (why ? why : "reset"), rst_code);
    }
}

static const struct k8c_http_client_ops aw_ops = {
    .on_header = aw_header, .on_data = aw_data, .on_close = aw_close};

static void api_open(struct worker *w)
{
    struct bench *b = w->b;
    char path[256];
    w->nconn = (w->count + b->o.per_conn - 1) / b->o.per_conn;
    w->hc = k8c_calloc((size_t)w->nconn + 1, sizeof(*w->hc));
    w->aw = k8c_calloc((size_t)w->count + 1, sizeof(*w->aw));
    for (int c = 0; c < w->nconn; c++) {
        w->hc[c] = h2bench_connect(&w->loop, "bench_watch", b->o.api, b->o.ca);
        if (w->hc[c] == NULL)
            exit(1);
    }
    for (int i = 0; i < w->count; i++) {
        struct api_watch *a = &w->aw[i];
        int j = w->first + i;
        a->w = w;
        a->pod = (uint32_t)(j % b->o.pods);
        a->line_start = true;
        int n = snprintf(path, sizeof(path),
                         "/api/v1/namespaces/default/pods?watch=1&resourceVersion=%s", b->rv);
        if (b->o.selector)
            snprintf(path + n, sizeof(path) - (size_t)n, "&fieldSelector=metadata.name%%3Dpod-%u",
                     a->pod);
        struct k8c_http_client *c = w->hc[i / b->o.per_conn];
        struct k8c_http_header h[H2BENCH_MAX_HEADERS];
        size_t nh = h2bench_headers(h, c, "GET", path, b->authorization, NULL, NULL, NULL);
        for (size_t k = 0; k < nh && b->o.proto; k++)
            if (strcmp(h[k].name, "accept") == 0)
                h[k].value = "application/vnd.kubernetes.protobuf;stream=watch";
        a->s = k8c_http_client_request(c, h, nh, &aw_ops, a);
        if (a->s == NULL) {
            a->closed = true;
            w->failed++;
            continue;
        }
        k8c_http_client_stream_end(a->s);
    }
}

/* ---- etcd watchers ------------------------------------------------------------------------ */

static void es_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                       void *arg)
{
    struct etcd_stream *e = arg;
    struct worker *w = e->w;
    const Etcdserverpb__WatchResponse *r = (const Etcdserverpb__WatchResponse *)msg->pb;
    if (r == NULL)
        return;
    uint64_t now = uv_hrtime();
    if (r->created) {
        e->created++;
        w->opened++;
    }
    if (r->canceled) {
        w->errors++;
        note(w->first_error, sizeof(w->first_error), "etcd watch canceled: %s",
             r->cancel_reason ? r->cancel_reason : "");
    }
    for (size_t i = 0; i < r->n_events; i++) {
        const Mvccpb__KeyValue *kv = r->events[i]->kv;
        const char *p = kv ? memmem(kv->value.data, kv->value.len, MARK, MARK_LEN) : NULL;
        uint64_t idx, ns;
        if (p != NULL && parse_mark(p, (size_t)((const char *)kv->value.data + kv->value.len - p),
                                    &idx, &ns) == 1)
            record(w, idx, ns, now);
        else
            w->other++;
    }
}

static void es_done(struct k8c_grpc_client_call *call, int status, const char *message, void *arg)
{
    struct etcd_stream *e = arg;
    struct worker *w = e->w;
    e->closed = true;
    e->call = NULL;
    if (e->created < e->n) {
        w->failed += (uint64_t)(e->n - e->created);
        note(w->first_error, sizeof(w->first_error),
             "etcd watch ended before it was created: %s (status %s)", message ? message : "",
             k8c_grpc_status_name(status));
    } else if (atomic_load(&w->b->phase) != PHASE_STOP && !w->stopping) {
        w->closed_early += (uint64_t)e->n;
        note(w->first_error, sizeof(w->first_error), "etcd watch stream ended: %s (status %s)",
             message ? message : "", k8c_grpc_status_name(status));
    }
}

static void etcd_open(struct worker *w)
{
    struct bench *b = w->b;
    char errmsg[K8C_ERRMSG_SIZE], key[128], end[128];
    int k = b->o.per_stream;
    w->nstreams = (w->count + k - 1) / k;
    w->nconn = (w->nstreams + b->o.per_conn - 1) / b->o.per_conn;
    w->gc = k8c_calloc((size_t)w->nconn + 1, sizeof(*w->gc));
    w->es = k8c_calloc((size_t)w->nstreams + 1, sizeof(*w->es));
    for (int c = 0; c < w->nconn; c++) {
        w->gc[c] = k8c_grpc_channel_new(&w->loop, b->o.etcd, NULL, errmsg);
        if (w->gc[c] == NULL) {
            fprintf(stderr, "bench_watch: %s: %s\n", b->o.etcd, errmsg);
            exit(1);
        }
    }
    for (int s = 0; s < w->nstreams; s++) {
        struct etcd_stream *e = &w->es[s];
        e->w = w;
        e->first = w->first + s * k;
        e->n = w->first + w->count - e->first < k ? w->first + w->count - e->first : k;
        struct k8c_grpc_call_options o = {
            .path = "/etcdserverpb.Watch/Watch",
            .response = &etcdserverpb__watch_response__descriptor,
            .on_message = es_message,
            .on_done = es_done,
            .arg = e,
        };
        e->call = k8c_grpc_channel_call(w->gc[s / b->o.per_conn], &o, errmsg);
        if (e->call == NULL) {
            e->closed = true;
            w->failed += (uint64_t)e->n;
            note(w->first_error, sizeof(w->first_error), "etcd watch call: %s", errmsg);
            continue;
        }
        for (int i = 0; i < e->n; i++) {
            Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
            Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
            size_t klen;
            if (b->o.selector) {
                klen = (size_t)snprintf(key, sizeof(key), POD_PREFIX "pod-%d",
                                        (e->first + i) % b->o.pods);
            } else {
                klen = sizeof(POD_PREFIX) - 1;
                memcpy(key, POD_PREFIX, klen + 1);
                memcpy(end, POD_PREFIX, klen + 1);
                end[klen - 1]++; /* prefix end: last byte + 1 */
                cr.range_end = (ProtobufCBinaryData){klen, (uint8_t *)end};
            }
            cr.key = (ProtobufCBinaryData){klen, (uint8_t *)key};
            req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
            req.create_request = &cr;
            k8c_grpc_client_call_send(e->call, &req.base);
        }
    }
}

/* ---- worker threads ----------------------------------------------------------------------- */

static void publish(struct worker *w)
{
    atomic_store(&w->pub_opened, w->opened);
    atomic_store(&w->pub_failed, w->failed);
    atomic_store(&w->pub_deliveries, w->deliveries);
    atomic_store(&w->pub_closed, w->closed_early);
    atomic_store(&w->pub_t_last, w->t_last);
}

static bool worker_all_closed(const struct worker *w)
{
    if (w->b->etcd_target) {
        for (int s = 0; s < w->nstreams; s++)
            if (!w->es[s].closed)
                return false;
    } else {
        for (int i = 0; i < w->count; i++)
            if (!w->aw[i].closed)
                return false;
    }
    return true;
}

static void worker_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    publish(w);
    if (atomic_load(&w->b->phase) != PHASE_STOP)
        return;
    uint64_t now = uv_hrtime();
    if (!w->stopping) {
        w->stopping = true;
        w->stop_deadline = now + 10ull * 1000000000ull;
        for (int c = 0; c < w->nconn; c++) {
            if (w->hc != NULL)
                k8c_http_client_del(w->hc[c]);
            if (w->gc != NULL)
                k8c_grpc_channel_del(w->gc[c]);
        }
        return;
    }
    if (worker_all_closed(w) && !uv_is_closing((uv_handle_t *)&w->tick)) {
        /* the loop ends once the clients' handles are gone too; main's
         * pthread_timedjoin_np bounds that */
        uv_close((uv_handle_t *)&w->tick, NULL);
    } else if (now > w->stop_deadline) {
        fprintf(stderr, "bench_watch: worker %d: streams still open 10 s after closing\n", w->id);
        uv_stop(&w->loop);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uv_loop_init(&w->loop);
    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    uv_timer_start(&w->tick, worker_tick, 5, 5);
    if (w->b->etcd_target)
        etcd_open(w);
    else
        api_open(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    publish(w);
    return NULL;
}

/* ---- requests through the API server (setup and writes) ------------------------------------ */

struct req {
    struct bench *b;
    int64_t index; /* write index, or -1 */
    int status;
    bool keep_body;
    struct k8c_sbuf body;
    void (*done)(struct req *r, int error, const char *why);
};

static void req_header(struct k8c_http_client_stream *s, const char *name, const char *value,
                       void *arg)
{
    struct req *r = arg;
    h2bench_status(name, value, &r->status);
}

static void req_data(struct k8c_http_client_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct req *r = arg;
    if (r->keep_body || r->status >= 300)
        if (r->body.len < 65536)
            k8c_sbuf_append(&r->body, data, len);
}

static void req_close(struct k8c_http_client_stream *s, int error, uint32_t rst_code,
                      const char *why, void *arg)
{
    struct req *r = arg;
    r->done(r, error, why);
    k8c_sbuf_free(&r->body);
    k8c_free(r);
}

static const struct k8c_http_client_ops req_ops = {
    .on_header = req_header, .on_data = req_data, .on_close = req_close};

static bool start_request(struct bench *b, struct req *r, const char *method, const char *path,
                          const char *content_type, const char *body)
{
    struct k8c_http_header h[H2BENCH_MAX_HEADERS];
    size_t n = h2bench_headers(h, b->writer, method, path, b->authorization, NULL,
                               body ? content_type : NULL, NULL);
    k8c_sbuf_init(&r->body);
    struct k8c_http_client_stream *s = k8c_http_client_request(b->writer, h, n, &req_ops, r);
    if (s == NULL) {
        k8c_free(r);
        return false;
    }
    if (body != NULL) {
        struct k8c_buf *buf = k8c_buf_copy(body, strlen(body));
        k8c_http_client_stream_send(s, buf);
        k8c_buf_unref(buf);
    }
    k8c_http_client_stream_end(s);
    return true;
}

static void setup_next(struct bench *b);

static void create_done(struct req *r, int error, const char *why)
{
    struct bench *b = r->b;
    b->setup_inflight--;
    if (r->status != 201 && r->status != 409) {
        b->setup_errors++;
        if (b->setup_error[0] == '\0')
            snprintf(b->setup_error, sizeof(b->setup_error), "create pod: HTTP %d %s %.150s",
                     r->status, why ? why : "", r->body.data ? r->body.data : "");
    }
    setup_next(b);
}

static void setup_next(struct bench *b)
{
    char path[] = "/api/v1/namespaces/default/pods", body[512];
    while (b->setup_inflight < 16 && b->setup_next < b->o.pods) {
        struct req *r = K8C_NEW(struct req);
        r->b = b;
        r->index = -1;
        r->done = create_done;
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%d\","
                 "\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                 "\"image\":\"busybox\"}]}}",
                 b->setup_next);
        b->setup_next++;
        b->setup_inflight++;
        if (!start_request(b, r, "POST", path, "application/json", body)) {
            b->setup_inflight--;
            b->setup_errors++;
        }
    }
}

static void list_done(struct req *r, int error, const char *why)
{
    struct bench *b = r->b;
    b->setup_inflight--;
    const char *p = r->body.data ? strstr(r->body.data, "\"resourceVersion\":\"") : NULL;
    if (r->status != 200 || p == NULL) {
        b->setup_errors++;
        snprintf(b->setup_error, sizeof(b->setup_error), "list pods: HTTP %d %s %.150s", r->status,
                 why ? why : "", r->body.data ? r->body.data : "");
        return;
    }
    p += strlen("\"resourceVersion\":\"");
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n >= sizeof(b->rv)) {
        b->setup_errors++;
        return;
    }
    memcpy(b->rv, p, n);
    b->rv[n] = '\0';
}

static void write_done(struct req *r, int error, const char *why)
{
    struct bench *b = r->b;
    uint64_t now = uv_hrtime();
    b->inflight--;
    if (r->status == 200 && error == 0) {
        atomic_store_explicit(&b->ack_ns[r->index], now, memory_order_relaxed);
        b->acked++;
        b->acked_per_pod[(uint64_t)r->index % (uint64_t)b->o.pods]++;
    } else {
        b->write_errors++;
        if (b->write_error[0] == '\0')
            snprintf(b->write_error, sizeof(b->write_error), "patch: HTTP %d %s %.150s", r->status,
                     why ? why : "", r->body.data ? r->body.data : "");
    }
}

static void issue_write(struct bench *b, uint64_t now)
{
    char path[128], body[256];
    uint64_t k = b->issued++;
    struct req *r = K8C_NEW(struct req);
    r->b = b;
    r->index = (int64_t)k;
    r->done = write_done;
    snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods/pod-%" PRIu64,
             k % (uint64_t)b->o.pods);
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"annotations\":{\"bench/t\":\"" MARK "%" PRIu64 ":%" PRIu64 ";\"}}}",
             k, now);
    atomic_store_explicit(&b->sent_ns[k], now, memory_order_relaxed);
    b->inflight++;
    if (!start_request(b, r, "PATCH", path, "application/merge-patch+json", body)) {
        b->inflight--;
        b->write_errors++;
    }
}

/* The writer: every write k is due at t0 + k / rate. */
static void main_tick(uv_timer_t *t)
{
    struct bench *b = t->data;
    if (!b->writing)
        return;
    uint64_t now = uv_hrtime();
    if (now >= b->t0 + (uint64_t)(b->o.seconds * 1e9)) {
        b->writing = false; /* the time bound: what is not issued by now never is */
        return;
    }
    while (b->issued < b->nwrites && b->inflight < b->o.max_inflight) {
        uint64_t due = b->t0 + (uint64_t)((double)b->issued * 1e9 / b->o.rate);
        if (due > now)
            break;
        if (now - due > LATE_NS)
            b->late++;
        issue_write(b, now);
    }
    if (b->issued >= b->nwrites)
        b->writing = false;
}

/* Runs the main loop until done(b) or deadline_ns. */
static bool run_until(struct bench *b, bool (*done)(struct bench *b), uint64_t deadline_ns)
{
    while (!done(b)) {
        if (uv_hrtime() > deadline_ns)
            return false;
        uv_run(&b->loop, UV_RUN_ONCE);
    }
    return true;
}

static bool setup_finished(struct bench *b)
{
    return b->setup_inflight == 0 && b->setup_next >= b->o.pods;
}

static bool list_finished(struct bench *b)
{
    return b->setup_inflight == 0;
}

static uint64_t sum_pub(struct bench *b, size_t offset)
{
    uint64_t n = 0;
    for (int t = 0; t < b->o.threads; t++)
        n += atomic_load((_Atomic uint64_t *)((char *)&b->workers[t] + offset));
    return n;
}

static bool all_open(struct bench *b)
{
    return sum_pub(b, offsetof(struct worker, pub_opened)) +
               sum_pub(b, offsetof(struct worker, pub_failed)) >=
           (uint64_t)b->o.watchers;
}

static bool writes_finished(struct bench *b)
{
    return !b->writing && b->inflight == 0;
}

static bool never(struct bench *b)
{
    return false;
}

/* Deliveries the open watchers should get for the writes acked so far. */
static uint64_t expected_deliveries(struct bench *b, bool exact)
{
    uint64_t e = 0;
    for (int t = 0; t < b->o.threads; t++) {
        struct worker *w = &b->workers[t];
        for (int i = 0; i < w->count; i++) {
            int j = w->first + i;
            bool open = true;
            if (exact)
                open = b->etcd_target
                           ? w->es[i / b->o.per_stream].created >= w->es[i / b->o.per_stream].n
                           : w->aw[i].open;
            if (open)
                e += b->o.selector ? b->acked_per_pod[j % b->o.pods] : b->acked;
        }
    }
    return e;
}

/* --trace: a line per write (index, sent and acknowledged in ms after the
 * first write, its slowest delivery in ms after it was sent), to see whether
 * a tail latency comes from a few stalls or from a standing queue. */
static void write_trace(struct bench *b)
{
    FILE *f = fopen(b->o.trace, "w");
    if (f == NULL) {
        fprintf(stderr, "bench_watch: %s: %s\n", b->o.trace, strerror(errno));
        return;
    }
    fprintf(f, "# write sent_ms ack_ms slowest_ms\n");
    for (uint64_t i = 0; i < b->nwrites; i++) {
        uint64_t sent = atomic_load(&b->sent_ns[i]), ack = atomic_load(&b->ack_ns[i]), last = 0;
        for (int t = 0; t < b->o.threads; t++)
            if (b->workers[t].last_ns[i] > last)
                last = b->workers[t].last_ns[i];
        if (sent == 0)
            continue;
        fprintf(f, "%" PRIu64 " %.1f %.1f %.1f\n", i, (double)(sent - b->t0) / 1e6,
                ack > sent ? (double)(ack - b->t0) / 1e6 : -1.0, (double)last / 1e6);
    }
    fclose(f);
}

/* ---- main --------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_watch --target=api|etcd --api=H:P --ca=FILE --token=T [--etcd=H:P]\n"
            "  [--watchers=W] [--per-conn=N] [--watches-per-stream=K] [--pods=N] [--rate=R]\n"
            "  [--seconds=S] [--selector] [--threads=T] [--api-pid=P] [--etcd-pid=P]\n"
            "  [--settle=S] [--drain=S] [--max-inflight=N] [--label=L] [--proto]\n"
            "  [--trace=FILE]   (a line per write: index, sent and acknowledged (ms after\n"
            "                    the first write), slowest delivery (ms after sent))\n");
    exit(1);
}

static void parse(struct options *o, int argc, char **argv)
{
    *o = (struct options){.target = "api",
                          .label = "-",
                          .watchers = 1000,
                          .per_conn = 100,
                          .per_stream = 1,
                          .pods = 100,
                          .threads = 1,
                          .max_inflight = 64,
                          .rate = 100,
                          .seconds = 10,
                          .settle = 2,
                          .drain = 30};
    const struct h2bench_arg args[] = {
        {"selector", H2BENCH_FLAG, &o->selector, NULL},
        {"proto", H2BENCH_FLAG, &o->proto, NULL},
        {"target", H2BENCH_STR, &o->target, NULL},
        {"api", H2BENCH_STR, &o->api, NULL},
        {"etcd", H2BENCH_STR, &o->etcd, NULL},
        {"ca", H2BENCH_STR, &o->ca, NULL},
        {"token", H2BENCH_STR, &o->token, NULL},
        {"label", H2BENCH_STR, &o->label, NULL},
        {"trace", H2BENCH_STR, &o->trace, NULL},
        {"watchers", H2BENCH_INT, &o->watchers, NULL},
        {"per-conn", H2BENCH_INT, &o->per_conn, NULL},
        {"watches-per-stream", H2BENCH_INT, &o->per_stream, NULL},
        {"pods", H2BENCH_INT, &o->pods, NULL},
        {"threads", H2BENCH_INT, &o->threads, NULL},
        {"max-inflight", H2BENCH_INT, &o->max_inflight, NULL},
        {"rate", H2BENCH_DOUBLE, &o->rate, NULL},
        {"seconds", H2BENCH_DOUBLE, &o->seconds, NULL},
        {"settle", H2BENCH_DOUBLE, &o->settle, NULL},
        {"drain", H2BENCH_DOUBLE, &o->drain, NULL},
        {"api-pid", H2BENCH_INT, &o->api_pid, NULL},
        {"etcd-pid", H2BENCH_INT, &o->etcd_pid, NULL},
    };
    if (!h2bench_parse_args(argc, argv, args, sizeof(args) / sizeof(args[0])))
        usage();
    bool etcd = strcmp(o->target, "etcd") == 0;
    if ((!etcd && strcmp(o->target, "api") != 0) || o->api == NULL || o->ca == NULL ||
        o->token == NULL || (etcd && o->etcd == NULL) || o->watchers < 1 ||
        o->watchers > MAX_WATCHERS || o->per_conn < 1 || o->per_conn > 1000 || o->per_stream < 1 ||
        o->per_stream > 10000 || o->pods < 1 || o->pods > MAX_PODS || o->threads < 1 ||
        o->threads > MAX_THREADS || o->threads > o->watchers || o->max_inflight < 1 ||
        o->max_inflight > 4096 || o->rate <= 0 || o->rate > 100000 || o->seconds <= 0 ||
        o->seconds > 600 || o->rate * o->seconds > MAX_WRITES || o->settle < 0 || o->settle > 60 ||
        o->drain < 0 || o->drain > 600)
        usage();
}

int main(int argc, char **argv)
{
    struct bench *b = K8C_NEW(struct bench);
    int rc = 0;
    long hz = sysconf(_SC_CLK_TCK);

    signal(SIGPIPE, SIG_IGN);
    parse(&b->o, argc, argv);
    struct options *o = &b->o;
    b->etcd_target = strcmp(o->target, "etcd") == 0;
    snprintf(b->authorization, sizeof(b->authorization), "Bearer %s", o->token);
    b->nwrites = (uint64_t)(o->rate * o->seconds + 0.5);
    if (b->nwrites < 1)
        b->nwrites = 1;
    b->ack_ns = k8c_calloc(b->nwrites, sizeof(*b->ack_ns));
    b->sent_ns = k8c_calloc(b->nwrites, sizeof(*b->sent_ns));
    b->ack_cap = b->nwrites;
    b->acked_per_pod = k8c_calloc((size_t)o->pods, sizeof(uint64_t));
    atomic_store(&b->phase, PHASE_OPEN);
    uv_loop_init(&b->loop);
    uv_timer_init(&b->loop, &b->tick);
    b->tick.data = b;
    uv_timer_start(&b->tick, main_tick, 1, 1);
    b->writer = h2bench_connect(&b->loop, "bench_watch", o->api, o->ca);
    if (b->writer == NULL)
        return 1;

    /* 1. pods, and the cache's resourceVersion */
    setup_next(b);
    if (!run_until(b, setup_finished, uv_hrtime() + 60ull * 1000000000ull) || b->setup_errors) {
        fprintf(stderr, "bench_watch: creating %d pods failed: %s\n", o->pods, b->setup_error);
        return 1;
    }
    struct req *lr = K8C_NEW(struct req);
    lr->b = b;
    lr->index = -1;
    lr->keep_body = true;
    lr->done = list_done;
    b->setup_inflight = 1;
    start_request(b, lr, "GET", "/api/v1/namespaces/default/pods?resourceVersion=0", "", NULL);
    if (!run_until(b, list_finished, uv_hrtime() + 30ull * 1000000000ull) || b->setup_errors) {
        fprintf(stderr, "bench_watch: listing pods failed: %s\n", b->setup_error);
        return 1;
    }

    /* 2. idle memory of W watchers */
    uint64_t api_rss0 = proc_rss_kb(o->api_pid), etcd_rss0 = proc_rss_kb(o->etcd_pid);
    uint64_t t_open = uv_hrtime();
    for (int t = 0; t < o->threads; t++) {
        struct worker *w = &b->workers[t];
        w->b = b;
        w->id = t;
        /* etcd streams carry per_stream watches: split on stream boundaries */
        int unit = b->etcd_target ? o->per_stream : 1;
        int units = (o->watchers + unit - 1) / unit;
        int ufirst = (int)((int64_t)units * t / o->threads);
        int ulast = (int)((int64_t)units * (t + 1) / o->threads);
        w->first = ufirst * unit;
        w->count = (ulast * unit < o->watchers ? ulast * unit : o->watchers) - w->first;
        hist_init(&w->send_hist);
        hist_init(&w->ack_hist);
        if (o->trace != NULL)
            w->last_ns = k8c_calloc(b->nwrites, sizeof(*w->last_ns));
        pthread_create(&w->thread, NULL, worker_main, w);
    }
    bool opened = run_until(b, all_open, t_open + OPEN_TIMEOUT_S * 1000000000ull);
    double open_s = (double)(uv_hrtime() - t_open) / 1e9;
    uint64_t nopen = sum_pub(b, offsetof(struct worker, pub_opened));
    run_until(b, never, uv_hrtime() + (uint64_t)(o->settle * 1e9));
    uint64_t api_rss1 = proc_rss_kb(o->api_pid), etcd_rss1 = proc_rss_kb(o->etcd_pid);

    /* 3. writes at the fixed rate, then the drain */
    atomic_store(&b->phase, PHASE_RUN);
    uint64_t api_c0 = proc_ticks(o->api_pid), etcd_c0 = proc_ticks(o->etcd_pid);
    uint64_t api_w0 = proc_syscw(o->api_pid), etcd_w0 = proc_syscw(o->etcd_pid);
    double self_c0 = h2bench_self_cpu_s();
    b->t0 = uv_hrtime();
    b->writing = nopen > 0; /* else nothing to measure */
    /* PATCHes outstanding at the end get 30 s */
    run_until(b, writes_finished, b->t0 + (uint64_t)((o->seconds + 30) * 1e9));
    uint64_t t_writes_end = uv_hrtime();
    bool write_stalled = !writes_finished(b);
    uint64_t api_rss2 = proc_rss_kb(o->api_pid);
    uint64_t want = expected_deliveries(b, false), last = 0, t_progress = uv_hrtime();
    uint64_t drain_deadline = t_writes_end + (uint64_t)(o->drain * 1e9);
    while (uv_hrtime() < drain_deadline) {
        uint64_t got = sum_pub(b, offsetof(struct worker, pub_deliveries));
        if (got >= want)
            break;
        if (got != last) {
            last = got;
            t_progress = uv_hrtime();
        } else if (uv_hrtime() - t_progress > STALL_NS) {
            break;
        }
        run_until(b, never, uv_hrtime() + 10000000ull);
    }
    /* one more tick so the counters are current */
    run_until(b, never, uv_hrtime() + 20000000ull);
    uint64_t t_end = uv_hrtime();
    uint64_t api_c1 = proc_ticks(o->api_pid), etcd_c1 = proc_ticks(o->etcd_pid);
    uint64_t api_w1 = proc_syscw(o->api_pid), etcd_w1 = proc_syscw(o->etcd_pid);
    double self_c1 = h2bench_self_cpu_s();

    /* 4. close */
    atomic_store(&b->phase, PHASE_STOP);
    bool joined = true;
    for (int t = 0; t < o->threads; t++) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 20;
        if (pthread_timedjoin_np(b->workers[t].thread, NULL, &until) != 0) {
            fprintf(stderr, "bench_watch: worker %d did not finish in 20 s\n", t);
            joined = false;
        }
    }

    struct hist send_h = {0}, ack_h = {0};
    hist_init(&send_h);
    hist_init(&ack_h);
    uint64_t deliveries = 0, other = 0, closed = 0, errors = 0, failed = 0, before_ack = 0;
    uint64_t t_last = 0, nopen_final = 0, bytes = 0;
    char first_error[256] = "";
    for (int t = 0; t < o->threads; t++) {
        struct worker *w = &b->workers[t];
        hist_merge(&send_h, &w->send_hist);
        hist_merge(&ack_h, &w->ack_hist);
        deliveries += w->deliveries;
        other += w->other;
        closed += w->closed_early;
        errors += w->errors;
        failed += w->failed;
        before_ack += w->before_ack;
        nopen_final += w->opened;
        bytes += w->bytes;
        if (w->t_last > t_last)
            t_last = w->t_last;
        if (first_error[0] == '\0' && w->first_error[0] != '\0')
            snprintf(first_error, sizeof(first_error), "%s", w->first_error);
    }
    want = expected_deliveries(b, true);
    double secs = t_last > b->t0 ? (double)(t_last - b->t0) / 1e9 : 0;
    double window = (double)(t_end - b->t0) / 1e9;
    uint64_t nw = (uint64_t)o->watchers;
    int nconn = 0;
    for (int t = 0; t < o->threads; t++)
        nconn += b->workers[t].nconn;
    printf("case=%s target=%s watchers=%d opened=%" PRIu64 " open_failed=%" PRIu64
           " open_s=%.2f conns=%d per_conn=%d watches_per_stream=%d selector=%d pods=%d "
           "rate=%.0f seconds=%.1f threads=%d writes=%" PRIu64 " acked=%" PRIu64
           " write_errors=%" PRIu64 " writes_late=%" PRIu64 " writes_not_issued=%" PRIu64
           " write_secs=%.2f deliveries=%" PRIu64 " expected=%" PRIu64 " missing=%" PRIu64
           " other_events=%" PRIu64 " cut_off=%" PRIu64 " watch_errors=%" PRIu64
           " secs=%.3f events_per_sec=%.0f offered_per_sec=%.0f "
           "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f ack_p50_ms=%.2f ack_p99_ms=%.2f before_ack=%" PRIu64
           " api_cpu_s=%.2f api_cpu_pct=%.0f etcd_cpu_s=%.2f etcd_cpu_pct=%.0f bench_cpu_s=%.2f "
           "bench_cpu_pct=%.0f api_rss_idle0_kb=%" PRIu64 " api_rss_idle1_kb=%" PRIu64
           " api_rss_loaded_kb=%" PRIu64 " api_bytes_per_watcher=%.0f etcd_rss_idle0_kb=%" PRIu64
           " etcd_rss_idle1_kb=%" PRIu64 " etcd_bytes_per_watcher=%.0f api_write_syscalls=%" PRIu64
           " api_writes_per_delivery=%.3f etcd_write_syscalls=%" PRIu64
           " etcd_writes_per_delivery=%.3f proto=%d bytes_per_delivery=%.0f"
           " api_cpu_us_per_delivery=%.2f",
           o->label, o->target, o->watchers, nopen_final, failed, open_s, nconn, o->per_conn,
           b->etcd_target ? o->per_stream : 1, o->selector, o->pods, o->rate, o->seconds,
           o->threads, b->issued, b->acked, b->write_errors, b->late, b->nwrites - b->issued,
           (double)(t_writes_end - b->t0) / 1e9, deliveries, want,
           want > deliveries ? want - deliveries : 0, other, closed, errors, secs,
           secs > 0 ? (double)deliveries / secs : 0.0,
           o->selector ? o->rate * (double)nw / (double)o->pods : o->rate * (double)nw,
           hist_quantile_ms(&send_h, 0.50), hist_quantile_ms(&send_h, 0.99),
           (double)send_h.max_ns / 1e6, hist_quantile_ms(&ack_h, 0.50),
           hist_quantile_ms(&ack_h, 0.99), before_ack, (double)(api_c1 - api_c0) / (double)hz,
           window > 0 ? 100.0 * (double)(api_c1 - api_c0) / (double)hz / window : 0.0,
           (double)(etcd_c1 - etcd_c0) / (double)hz,
           window > 0 ? 100.0 * (double)(etcd_c1 - etcd_c0) / (double)hz / window : 0.0,
           self_c1 - self_c0, window > 0 ? 100.0 * (self_c1 - self_c0) / window : 0.0, api_rss0,
           api_rss1, api_rss2, ((double)api_rss1 - (double)api_rss0) * 1024.0 / (double)nw,
           etcd_rss0, etcd_rss1, ((double)etcd_rss1 - (double)etcd_rss0) * 1024.0 / (double)nw,
           api_w1 - api_w0, deliveries ? (double)(api_w1 - api_w0) / (double)deliveries : 0.0,
           etcd_w1 - etcd_w0, deliveries ? (double)(etcd_w1 - etcd_w0) / (double)deliveries : 0.0,
           o->proto, deliveries ? (double)bytes / (double)deliveries : 0.0,
           deliveries ? 1e6 * (double)(api_c1 - api_c0) / (double)hz / (double)deliveries : 0.0);
    if (!opened)
        printf(" open_timeout=1");
    if (write_stalled)
        printf(" write_stalled=1");
    if (b->write_error[0] != '\0')
        printf(" write_error=\"%s\"", b->write_error);
    if (first_error[0] != '\0')
        printf(" first_error=\"%s\"", first_error);
    printf("\n");
    fflush(stdout);
    if (o->trace != NULL && joined)
        write_trace(b);
    if (!joined)
        _exit(2); /* a worker still runs: its memory stays */
    if (!opened || failed > 0 || closed > 0 || deliveries < want || write_stalled)
        rc = 2;

    uv_timer_stop(&b->tick);
    uv_close((uv_handle_t *)&b->tick, NULL);
    k8c_http_client_del(b->writer);
    for (int i = 0; i < 1000 && uv_run(&b->loop, UV_RUN_NOWAIT) != 0; i++)
        usleep(1000);
    for (int t = 0; t < o->threads; t++) {
        struct worker *w = &b->workers[t];
        k8c_free(w->send_hist.n);
        k8c_free(w->ack_hist.n);
        k8c_free(w->hc);
        k8c_free(w->gc);
        k8c_free(w->aw);
        k8c_free(w->es);
        k8c_free(w->last_ns);
    }
    k8c_free(send_h.n);
    k8c_free(ack_h.n);
    k8c_free(b->ack_ns);
    k8c_free(b->sent_ns);
    k8c_free(b->acked_per_pod);
    k8c_free(b);
    return rc;
}
