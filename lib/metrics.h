/*
 * Prometheus metrics and health checks.
 *
 * A registry (struct k8c_metrics) holds metric families: counters, gauges and
 * histograms, each with a fixed list of label names. A family's series (one
 * per combination of label values) are created on first use and live as long
 * as the registry. k8c_metrics_expose() writes the whole registry in the
 * Prometheus text exposition format 0.0.4, families sorted by name and series
 * by label values, which is what every component serves at /metrics.
 *
 * Usage:
 *   struct k8c_metric *reqs = k8c_metrics_counter(reg, "apiserver_request_total",
 *                                                 "Counter of requests.", "verb,code");
 *   k8c_metric_inc(K8C_METRIC_WITH(reqs, "GET", "200"));
 *   struct k8c_metric *lat = k8c_metrics_histogram(reg, "x_seconds", "Latency.", "",
 *                                                  NULL, 0);   // default buckets
 *   k8c_metric_observe(k8c_metric_series(lat, NULL), 0.042);
 *
 * Threads: a registry and everything in it may be used from several threads
 * (one mutex per registry; the store's raft and apply threads update metrics).
 *
 * The health part (struct k8c_health) is a set of named checks, each tagged
 * with the endpoints it belongs to (/healthz, /livez, /readyz), rendered the
 * way kube-apiserver does: "ok" when all pass; with ?verbose one
 * "[+]name ok" / "[-]name failed: reason" line per check and a closing
 * "<endpoint> check passed|failed"; status 500 when any check fails;
 * ?exclude=name skips a check; /<endpoint>/<name> runs one check.
 * k8c_health_handle() is transport-neutral (path + query in, status + body
 * out); k8c_metrics_http_handler() serves /metrics and the health endpoints
 * through any HTTP server that can call a function with method, path and
 * query (k8c_grpc_server_set_http_handler takes it as is).
 */
#ifndef K8C_METRICS_H
#define K8C_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

enum k8c_metric_type { K8C_METRIC_COUNTER, K8C_METRIC_GAUGE, K8C_METRIC_HISTOGRAM };

struct k8c_metrics;       /* registry */
struct k8c_metric;        /* a family: name, help, type, label names */
struct k8c_metric_series; /* one set of label values: the thing that holds numbers */

#define K8C_METRICS_MAX_LABELS  8
#define K8C_METRICS_MAX_BUCKETS 64

struct k8c_metrics *k8c_metrics_new(void);
/* Frees the registry and every family and series in it; NULL ok. */
void k8c_metrics_del(struct k8c_metrics *reg);

/*
 * Registers a family. `labels` is a comma-separated list of label names
 * ("verb,resource,code"), or NULL/"" for none. Registering the same name again
 * with the same type and labels returns the existing family (so two modules
 * can share one); a name clash with a different type or labels, an invalid
 * metric or label name, or more than K8C_METRICS_MAX_LABELS labels is a
 * programming error: logged and NULL returned, and every k8c_metric_* call
 * accepts NULL and does nothing, so a bad registration never crashes.
 * The family is owned by the registry.
 */
struct k8c_metric *k8c_metrics_counter(struct k8c_metrics *reg, const char *name, const char *help,
                                       const char *labels);
struct k8c_metric *k8c_metrics_gauge(struct k8c_metrics *reg, const char *name, const char *help,
                                     const char *labels);
/* buckets: strictly increasing upper bounds (without +Inf), or NULL for the
 * Prometheus defaults .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10. */
struct k8c_metric *k8c_metrics_histogram(struct k8c_metrics *reg, const char *name,
                                         const char *help, const char *labels,
                                         const double *buckets, size_t nbuckets);
/* A label-less gauge whose value is read by calling fn(arg) at exposition time
 * (open connections, cache sizes). fn runs with the registry locked: it must
 * not call into the registry. */
struct k8c_metric *k8c_metrics_gauge_func(struct k8c_metrics *reg, const char *name,
                                          const char *help, double (*fn)(void *arg), void *arg);
/* The same for a counter kept elsewhere (fn must never go down). */
struct k8c_metric *k8c_metrics_counter_func(struct k8c_metrics *reg, const char *name,
                                            const char *help, double (*fn)(void *arg), void *arg);

/* Registers the process collector's families, as Prometheus client libraries export them:
 * process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_start_time_seconds, process_open_fds, process_max_fds (read from /proc and
 * getrusage/getrlimit at exposition time). */
void k8c_metrics_register_process(struct k8c_metrics *reg);

/*
 * The series for the given label values (an array with exactly as many
 * entries as the family has labels, then a NULL; NULL itself for a family
 * without labels). Created on first use; the pointer stays valid for the
 * registry's lifetime, so hot paths look it up once. Returns NULL (and logs)
 * if the number of values is wrong or m is NULL.
 */
struct k8c_metric_series *k8c_metric_series(struct k8c_metric *m, const char *const *values);
#define K8C_METRIC_WITH(m, ...) k8c_metric_series((m), (const char *const[]){__VA_ARGS__, NULL})

/* Counter: add (v >= 0; negative values are ignored) / inc. Gauge: set, add
 * (any sign), inc, dec. Histogram: observe. Calls of the wrong kind for the
 * family type are ignored. NULL series ok. */
void k8c_metric_inc(struct k8c_metric_series *s);
void k8c_metric_dec(struct k8c_metric_series *s);
void k8c_metric_add(struct k8c_metric_series *s, double v);
void k8c_metric_set(struct k8c_metric_series *s, double v);
void k8c_metric_observe(struct k8c_metric_series *s, double v);
/* Current value of a counter/gauge, or the count of a histogram (tests). */
double k8c_metric_value(struct k8c_metric_series *s);

/* Appends the text exposition format 0.0.4 of the whole registry to out. */
void k8c_metrics_expose(struct k8c_metrics *reg, struct k8c_sbuf *out);
#define K8C_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Formats a sample value as Prometheus does ("+Inf", "-Inf", "NaN", integers
 * without exponent up to 1e15, else the shortest round-trip form). out must
 * hold 32 bytes. Returns out. */
char *k8c_metrics_format_value(double v, char out[32]);

/* ---- health checks ---- */

enum {
    K8C_HEALTH_HEALTHZ = 1 << 0,
    K8C_HEALTH_LIVEZ = 1 << 1,
    K8C_HEALTH_READYZ = 1 << 2,
    K8C_HEALTH_ALL = 7,
};

/* A check returns 0 when healthy, else a negative code with a reason written
 * into errmsg (a K8C_ERRMSG_SIZE buffer). It runs on the caller's thread. */
typedef int (*k8c_health_check_fn)(void *arg, char *errmsg);

struct k8c_health;

/* A set of checks that already contains "ping" (always ok) on every endpoint. */
struct k8c_health *k8c_health_new(void);
void k8c_health_del(struct k8c_health *h);
/* Adds a named check to the endpoints in `endpoints` (K8C_HEALTH_* bits). The
 * name is copied; names should match [a-z0-9-]+ ("etcd", "log",
 * "poststarthook/start-informers"). Returns 0 or K8C_EEXIST. */
int k8c_health_add(struct k8c_health *h, const char *name, unsigned endpoints,
                   k8c_health_check_fn fn, void *arg);

/*
 * Serves a health request. `path` is the URL path ("/readyz", "/livez/etcd"),
 * `query` the raw query string without '?', or NULL. Returns 1 if the path is
 * a health endpoint (then *status is 200/404/500 and body holds the text
 * response), 0 if it is not one (body untouched).
 */
int k8c_health_handle(struct k8c_health *h, const char *path, const char *query, int *status,
                      struct k8c_sbuf *body);

/* ---- serving ---- */

struct k8c_metrics_endpoints {
    struct k8c_metrics *metrics; /* may be NULL: no /metrics */
    struct k8c_health *health;   /* may be NULL: no health endpoints */
};

/* Serves GET /metrics (text format 0.0.4) and /healthz, /livez, /readyz
 * (and /<endpoint>/<check>) from arg, a struct k8c_metrics_endpoints *.
 * Returns 1 with *status, *content_type (static) and body filled in, or 0 if
 * the path is not one of these. Non-GET/HEAD methods get 405. */
int k8c_metrics_http_handler(void *arg, const char *method, const char *path, const char *query,
                             int *status, const char **content_type, struct k8c_sbuf *body);

#endif
