/* Unit tests of lib/metrics: registry, exact text exposition, label escaping,
 * health-check rendering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "metrics.h"

static char *expose(struct k8c_metrics *reg)
{
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    k8c_metrics_expose(reg, &out);
    return k8c_sbuf_detach(&out);
}

/* The value of the sample line "name value" in text, or -1. */
static double sample(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *p = strstr(text, key);
    return p != NULL ? strtod(p + strlen(key), NULL) : -1;
}

static void test_process_collector(void **state)
{
    struct k8c_metrics *reg = k8c_metrics_new();
    k8c_metrics_register_process(reg);
    volatile double spin = 0;
    for (int i = 0; i < 20000000; i++) /* some CPU time to count */
        spin += i;
    assert_true(spin > 0);
    FILE *f = fopen("/proc/self/stat", "r"); /* one descriptor more while it is exposed */
    char *text = expose(reg);
    fclose(f);
    double now = (double)time(NULL);
    assert_true(strstr(text, "# TYPE process_cpu_seconds_total counter\n") != NULL);
    assert_true(sample(text, "process_cpu_seconds_total") > 0);
    assert_true(sample(text, "process_resident_memory_bytes") > 1024 * 1024);
    assert_true(sample(text, "process_virtual_memory_bytes") >=
                sample(text, "process_resident_memory_bytes"));
    double start = sample(text, "process_start_time_seconds");
    assert_true(start > now - 3600 && start <= now + 1);
    assert_true(sample(text, "process_open_fds") >= 4); /* stdin, stdout, stderr and f */
    assert_true(sample(text, "process_max_fds") >= sample(text, "process_open_fds"));
    k8c_free(text);
    k8c_metrics_del(reg);
    (void)state;
}

static void test_counter_gauge_text(void **state)
{
    struct k8c_metrics *reg = k8c_metrics_new();
    struct k8c_metric *req =
        k8c_metrics_counter(reg, "http_requests_total", "Total requests.", "method,code");
    struct k8c_metric *up = k8c_metrics_gauge(reg, "build_up", "Is it up.", NULL);
    struct k8c_metric *temp = k8c_metrics_gauge(reg, "temp_celsius", "Temp.", "room");
    /* Labelled family without series yet: not shown. */
    k8c_metrics_counter(reg, "zzz_unused_total", "Unused.", "x");

    k8c_metric_inc(K8C_METRIC_WITH(req, "POST", "201"));
    k8c_metric_add(K8C_METRIC_WITH(req, "GET", "200"), 2);
    k8c_metric_inc(K8C_METRIC_WITH(req, "GET", "200"));
    k8c_metric_add(K8C_METRIC_WITH(req, "GET", "200"), -5); /* ignored for counters */
    k8c_metric_set(K8C_METRIC_WITH(temp, "lab"), -3.25);
    k8c_metric_set(K8C_METRIC_WITH(temp, "hall"), 1e20);
    k8c_metric_inc(k8c_metric_series(up, NULL));
    k8c_metric_inc(k8c_metric_series(up, NULL));
    k8c_metric_dec(k8c_metric_series(up, NULL));
    assert_true(k8c_metric_value(K8C_METRIC_WITH(req, "GET", "200")) == 3);

    char *text = expose(reg);
    assert_string_equal(text, "# HELP build_up Is it up.\n"
                              "# TYPE build_up gauge\n"
                              "build_up 1\n"
                              "# HELP http_requests_total Total requests.\n"
                              "# TYPE http_requests_total counter\n"
                              "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
                              "http_requests_total{method=\"POST\",code=\"201\"} 1\n"
                              "# HELP temp_celsius Temp.\n"
                              "# TYPE temp_celsius gauge\n"
                              "temp_celsius{room=\"hall\"} 1e+20\n"
                              "temp_celsius{room=\"lab\"} -3.25\n");
    k8c_free(text);
    k8c_metrics_del(reg);
}

static void test_histogram_text(void **state)
{
    static const double buckets[] = {0.1, 0.5, 1};
    struct k8c_metrics *reg = k8c_metrics_new();
    struct k8c_metric *h =
        k8c_metrics_histogram(reg, "rpc_duration_seconds", "RPC latency.", "method", buckets, 3);
    struct k8c_metric_series *s = K8C_METRIC_WITH(h, "Get");
    k8c_metric_observe(s, 0.05);
    k8c_metric_observe(s, 0.1); /* le is inclusive */
    k8c_metric_observe(s, 0.7);
    k8c_metric_observe(s, 3);
    k8c_metric_inc(s); /* wrong kind: ignored */

    char *text = expose(reg);
    assert_string_equal(text, "# HELP rpc_duration_seconds RPC latency.\n"
                              "# TYPE rpc_duration_seconds histogram\n"
                              "rpc_duration_seconds_bucket{method=\"Get\",le=\"0.1\"} 2\n"
                              "rpc_duration_seconds_bucket{method=\"Get\",le=\"0.5\"} 2\n"
                              "rpc_duration_seconds_bucket{method=\"Get\",le=\"1\"} 3\n"
                              "rpc_duration_seconds_bucket{method=\"Get\",le=\"+Inf\"} 4\n"
                              "rpc_duration_seconds_sum{method=\"Get\"} 3.85\n"
                              "rpc_duration_seconds_count{method=\"Get\"} 4\n");
    k8c_free(text);
    assert_true(k8c_metric_value(s) == 4);
    k8c_metrics_del(reg);
}

static void test_histogram_default_buckets(void **state)
{
    struct k8c_metrics *reg = k8c_metrics_new();
    struct k8c_metric *h = k8c_metrics_histogram(reg, "x_seconds", "X.", NULL, NULL, 0);
    k8c_metric_observe(k8c_metric_series(h, NULL), 0.3);
    char *text = expose(reg);
    assert_string_equal(text, "# HELP x_seconds X.\n"
                              "# TYPE x_seconds histogram\n"
                              "x_seconds_bucket{le=\"0.005\"} 0\n"
                              "x_seconds_bucket{le=\"0.01\"} 0\n"
                              "x_seconds_bucket{le=\"0.025\"} 0\n"
                              "x_seconds_bucket{le=\"0.05\"} 0\n"
                              "x_seconds_bucket{le=\"0.1\"} 0\n"
                              "x_seconds_bucket{le=\"0.25\"} 0\n"
                              "x_seconds_bucket{le=\"0.5\"} 1\n"
                              "x_seconds_bucket{le=\"1\"} 1\n"
                              "x_seconds_bucket{le=\"2.5\"} 1\n"
                              "x_seconds_bucket{le=\"5\"} 1\n"
                              "x_seconds_bucket{le=\"10\"} 1\n"
                              "x_seconds_bucket{le=\"+Inf\"} 1\n"
                              "x_seconds_sum 0.3\n"
                              "x_seconds_count 1\n");
    k8c_free(text);
    k8c_metrics_del(reg);
}

static void test_escaping(void **state)
{
    struct k8c_metrics *reg = k8c_metrics_new();
    struct k8c_metric *c =
        k8c_metrics_counter(reg, "esc_total", "Help with \\ backslash\nand newline \"q\".", "path");
    k8c_metric_inc(K8C_METRIC_WITH(c, "a\"b\\c\nd"));
    char *text = expose(reg);
    assert_string_equal(text, "# HELP esc_total Help with \\\\ backslash\\nand newline \"q\".\n"
                              "# TYPE esc_total counter\n"
                              "esc_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    k8c_free(text);
    k8c_metrics_del(reg);
}

static double fixed_value(void *arg)
{
    return *(double *)arg;
}

static void test_registration_rules(void **state)
{
    static double v = 42.5;
    struct k8c_metrics *reg = k8c_metrics_new();
    struct k8c_metric *a = k8c_metrics_counter(reg, "a_total", "A.", "x,y");
    /* Same shape: shared. Different shape or bad names: NULL, and NULL is harmless. */
    assert_ptr_equal(k8c_metrics_counter(reg, "a_total", "A.", "x,y"), a);
    assert_null(k8c_metrics_gauge(reg, "a_total", "A.", "x,y"));
    assert_null(k8c_metrics_counter(reg, "a_total", "A.", "x"));
    assert_null(k8c_metrics_counter(reg, "1bad", "B.", NULL));
    assert_null(k8c_metrics_counter(reg, "bad-name", "B.", NULL));
    assert_null(k8c_metrics_counter(reg, "ok_total", "B.", "__reserved"));
    assert_null(k8c_metrics_counter(reg, "ok_total", "B.", "x,x"));
    assert_null(k8c_metrics_histogram(reg, "h", "H.", "le", NULL, 0));
    assert_null(k8c_metrics_histogram(reg, "h2", "H.", NULL, (const double[]){2, 1}, 2));
    k8c_metric_inc(k8c_metric_series(NULL, NULL));
    /* Wrong number of label values. */
    assert_null(K8C_METRIC_WITH(a, "only-one"));
    assert_null(k8c_metric_series(a, NULL));
    assert_ptr_equal(K8C_METRIC_WITH(a, "1", "2"), K8C_METRIC_WITH(a, "1", "2"));
    assert_ptr_not_equal(K8C_METRIC_WITH(a, "1", "2"), K8C_METRIC_WITH(a, "12", ""));
    assert_non_null(k8c_metrics_gauge_func(reg, "b_gauge", "Func.", fixed_value, &v));
    char *text = expose(reg);
    assert_string_equal(text, "# HELP a_total A.\n"
                              "# TYPE a_total counter\n"
                              "a_total{x=\"1\",y=\"2\"} 0\n"
                              "a_total{x=\"12\",y=\"\"} 0\n"
                              "# HELP b_gauge Func.\n"
                              "# TYPE b_gauge gauge\n"
                              "b_gauge 42.5\n");
    k8c_free(text);
    k8c_metrics_del(reg);
}

static void test_format_value(void **state)
{
    char out[32];
    assert_string_equal(k8c_metrics_format_value(0, out), "0");
    assert_string_equal(k8c_metrics_format_value(-0.0, out), "0");
    assert_string_equal(k8c_metrics_format_value(1234567, out), "1234567");
    assert_string_equal(k8c_metrics_format_value(0.1, out), "0.1");
    assert_string_equal(k8c_metrics_format_value(1.0 / 3, out), "0.3333333333333333");
    assert_string_equal(k8c_metrics_format_value(INFINITY, out), "+Inf");
    assert_string_equal(k8c_metrics_format_value(-INFINITY, out), "-Inf");
    assert_string_equal(k8c_metrics_format_value(NAN, out), "NaN");
}

static int failing_check(void *arg, char *errmsg)
{
    if (*(int *)arg) {
        snprintf(errmsg, K8C_ERRMSG_SIZE, "store not reachable");
        return K8C_ECLOSED;
    }
    return 0;
}

static int run(struct k8c_health *h, const char *path, const char *query, int *status, char **body)
{
    struct k8c_sbuf b;
    k8c_sbuf_init(&b);
    int rc = k8c_health_handle(h, path, query, status, &b);
    *body = k8c_sbuf_detach(&b);
    return rc;
}

static void test_health(void **state)
{
    int broken = 0, status = 0;
    char *body;
    struct k8c_health *h = k8c_health_new();
    assert_int_equal(k8c_health_add(h, "etcd", K8C_HEALTH_ALL, failing_check, &broken), 0);
    assert_int_equal(k8c_health_add(h, "informer-sync", K8C_HEALTH_READYZ, failing_check, &broken),
                     0);
    assert_int_equal(k8c_health_add(h, "etcd", K8C_HEALTH_ALL, failing_check, &broken), K8C_EEXIST);

    assert_int_equal(run(h, "/metrics", NULL, &status, &body), 0);
    k8c_free(body);
    assert_int_equal(run(h, "/healthzz", NULL, &status, &body), 0);
    k8c_free(body);

    assert_int_equal(run(h, "/healthz", NULL, &status, &body), 1);
    assert_int_equal(status, 200);
    assert_string_equal(body, "ok");
    k8c_free(body);

    run(h, "/readyz", "verbose", &status, &body);
    assert_int_equal(status, 200);
    assert_string_equal(body, "[+]ping ok\n[+]etcd ok\n[+]informer-sync ok\nreadyz check passed\n");
    k8c_free(body);

    run(h, "/livez", "verbose=1", &status, &body);
    assert_string_equal(body, "[+]ping ok\n[+]etcd ok\nlivez check passed\n");
    k8c_free(body);

    broken = 1;
    run(h, "/readyz", "verbose", &status, &body);
    assert_int_equal(status, 500);
    assert_string_equal(body, "[+]ping ok\n[-]etcd failed: reason withheld\n"
                              "[-]informer-sync failed: reason withheld\n"
                              "readyz check failed\n");
    k8c_free(body);

    run(h, "/readyz", "exclude=etcd&exclude=informer-sync", &status, &body);
    assert_int_equal(status, 200);
    assert_string_equal(body, "ok");
    k8c_free(body);

    run(h, "/healthz", "exclude=etcd&verbose", &status, &body);
    assert_int_equal(status, 200);
    assert_string_equal(body, "[+]ping ok\n[+]etcd excluded: ok\nhealthz check passed\n");
    k8c_free(body);

    run(h, "/livez/etcd", NULL, &status, &body);
    assert_int_equal(status, 500);
    assert_string_equal(body, "internal server error: store not reachable\n");
    k8c_free(body);
    run(h, "/livez/ping", NULL, &status, &body);
    assert_int_equal(status, 200);
    assert_string_equal(body, "ok");
    k8c_free(body);
    run(h, "/livez/informer-sync", NULL, &status, &body); /* readyz only */
    assert_int_equal(status, 404);
    k8c_free(body);
    k8c_health_del(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_text), cmocka_unit_test(test_process_collector),
        cmocka_unit_test(test_histogram_text),     cmocka_unit_test(test_histogram_default_buckets),
        cmocka_unit_test(test_escaping),           cmocka_unit_test(test_registration_rules),
        cmocka_unit_test(test_format_value),       cmocka_unit_test(test_health),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
