/*
 * Prometheus metrics registry and health checks. See metrics.h.
 *
 * Series are found by a precomputed hash of their label values plus a string
 * comparison, scanning the family's list; families have few series in
 * practice and hot paths keep the series pointer, so no hash table is needed.
 * Exposition sorts copies of the pointer arrays so the output is stable
 * (families by name, series by label values) whatever the order of first use.
 */
#include "metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"

struct k8c_metric_series {
    struct k8c_metric *family;
    char **values; /* family->nlabels strings */
    uint64_t hash;
    double value;            /* counter/gauge */
    uint64_t *bucket_counts; /* histogram: per bucket (not cumulative) */
    uint64_t count;          /* histogram */
    double sum;              /* histogram */
};

struct k8c_metric {
    struct k8c_metrics *reg;
    enum k8c_metric_type type;
    char *name, *help;
    size_t nlabels;
    char *labels[K8C_METRICS_MAX_LABELS];
    double *buckets;
    size_t nbuckets;
    double (*fn)(void *arg);
    void *fn_arg;
    struct k8c_metric_series **series;
    size_t nseries, cap;
};

struct k8c_metrics {
    pthread_mutex_t mu;
    struct k8c_metric **families;
    size_t n, cap;
};

static const double default_buckets[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

struct k8c_metrics *k8c_metrics_new(void)
{
    struct k8c_metrics *reg = K8C_NEW(struct k8c_metrics);
    pthread_mutex_init(&reg->mu, NULL);
    return reg;
}

static void series_del(struct k8c_metric_series *s, size_t nlabels)
{
    for (size_t i = 0; i < nlabels; i++)
        k8c_free(s->values[i]);
    k8c_free(s->values);
    k8c_free(s->bucket_counts);
    k8c_free(s);
}

static void family_del(struct k8c_metric *m)
{
    for (size_t i = 0; i < m->nseries; i++)
        series_del(m->series[i], m->nlabels);
    k8c_free(m->series);
    for (size_t i = 0; i < m->nlabels; i++)
        k8c_free(m->labels[i]);
    k8c_free(m->buckets);
    k8c_free(m->name);
    k8c_free(m->help);
    k8c_free(m);
}

void k8c_metrics_del(struct k8c_metrics *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        family_del(reg->families[i]);
    k8c_free(reg->families);
    pthread_mutex_destroy(&reg->mu);
    k8c_free(reg);
}

static bool valid_name(const char *s, bool colon_ok)
{
    if (*s == '\0')
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon_ok && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        for (const char *p = values[i]; *p; p++)
            h = (h ^ (uint8_t)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL; /* separator: ("a","b") != ("ab","") */
    }
    return h;
}

/* Creates a series; registry locked. */
static struct k8c_metric_series *series_new(struct k8c_metric *m, const char *const *values,
                                            uint64_t hash)
{
    struct k8c_metric_series *s = K8C_NEW(struct k8c_metric_series);
    s->family = m;
    s->hash = hash;
    s->values = k8c_calloc(m->nlabels ? m->nlabels : 1, sizeof(char *));
    for (size_t i = 0; i < m->nlabels; i++)
        s->values[i] = k8c_strdup(values[i]);
    if (m->type == K8C_METRIC_HISTOGRAM)
        s->bucket_counts = k8c_calloc(m->nbuckets + 1, sizeof(uint64_t));
    if (m->nseries == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 4;
        m->series = k8c_realloc(m->series, m->cap * sizeof(*m->series));
    }
    m->series[m->nseries++] = s;
    return s;
}

/* Splits "a,b,c" into m->labels; returns false on a bad list. */
static bool parse_labels(struct k8c_metric *m, const char *labels)
{
    const char *p = labels;

    if (labels == NULL || *labels == '\0')
        return true;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (m->nlabels == K8C_METRICS_MAX_LABELS)
            return false;
        char *name = k8c_strndup(p, len);
        m->labels[m->nlabels++] = name;
        if (!valid_name(name, false) || strncmp(name, "__", 2) == 0)
            return false;
        if (m->type == K8C_METRIC_HISTOGRAM && strcmp(name, "le") == 0)
            return false;
        for (size_t i = 0; i + 1 < m->nlabels; i++) {
            if (strcmp(m->labels[i], name) == 0)
                return false;
        }
        if (end == NULL)
            return true;
        p = end + 1;
    }
}

static bool same_shape(const struct k8c_metric *a, const struct k8c_metric *b)
{
    if (a->type != b->type || a->nlabels != b->nlabels || a->fn != b->fn)
        return false;
    for (size_t i = 0; i < a->nlabels; i++) {
        if (strcmp(a->labels[i], b->labels[i]) != 0)
            return false;
    }
    if (a->nbuckets != b->nbuckets)
        return false;
    for (size_t i = 0; i < a->nbuckets; i++) {
        if (a->buckets[i] != b->buckets[i])
            return false;
    }
    return true;
}

static struct k8c_metric *family_register(struct k8c_metrics *reg, enum k8c_metric_type type,
                                          const char *name, const char *help, const char *labels,
                                          const double *buckets, size_t nbuckets,
                                          double (*fn)(void *), void *fn_arg)
{
    struct k8c_metric *m = K8C_NEW(struct k8c_metric);
    struct k8c_metric *found = NULL;

    m->reg = reg;
    m->type = type;
    m->name = k8c_strdup(name ? name : "");
    m->help = k8c_strdup(help ? help : "");
    m->fn = fn;
    m->fn_arg = fn_arg;
    if (reg == NULL || name == NULL || !valid_name(name, true) || !parse_labels(m, labels)) {
        k8c_log_error("metrics: invalid metric registration name=%s labels=%s", m->name,
                      labels ? labels : "");
        family_del(m);
        return NULL;
    }
    if (type == K8C_METRIC_HISTOGRAM) {
        if (buckets == NULL || nbuckets == 0) {
            buckets = default_buckets;
            nbuckets = sizeof(default_buckets) / sizeof(default_buckets[0]);
        }
        bool ok = nbuckets <= K8C_METRICS_MAX_BUCKETS;
        for (size_t i = 0; ok && i < nbuckets; i++)
            ok = !isnan(buckets[i]) && (i == 0 || buckets[i] > buckets[i - 1]);
        if (!ok) {
            k8c_log_error("metrics: invalid histogram buckets name=%s", name);
            family_del(m);
            return NULL;
        }
        /* A trailing +Inf bound is implied; drop an explicit one. */
        if (isinf(buckets[nbuckets - 1]) && buckets[nbuckets - 1] > 0)
            nbuckets--;
        m->buckets = k8c_calloc(nbuckets ? nbuckets : 1, sizeof(double));
        memcpy(m->buckets, buckets, nbuckets * sizeof(double));
        m->nbuckets = nbuckets;
    }

    pthread_mutex_lock(&reg->mu);
    for (size_t i = 0; i < reg->n; i++) {
        if (strcmp(reg->families[i]->name, name) == 0) {
            found = reg->families[i];
            break;
        }
    }
    if (found != NULL) {
        bool ok = same_shape(found, m);
        pthread_mutex_unlock(&reg->mu);
        if (!ok)
            k8c_log_error("metrics: metric registered twice with different shapes name=%s", name);
        family_del(m);
        return ok ? found : NULL;
    }
    if (reg->n == reg->cap) {
        reg->cap = reg->cap ? reg->cap * 2 : 16;
        reg->families = k8c_realloc(reg->families, reg->cap * sizeof(*reg->families));
    }
    reg->families[reg->n++] = m;
    /* Label-less families are shown (at zero) from the start, as upstream does. */
    if (m->nlabels == 0 && fn == NULL)
        series_new(m, NULL, hash_values(NULL, 0));
    pthread_mutex_unlock(&reg->mu);
    return m;
}

struct k8c_metric *k8c_metrics_counter(struct k8c_metrics *reg, const char *name, const char *help,
                                       const char *labels)
{
    return family_register(reg, K8C_METRIC_COUNTER, name, help, labels, NULL, 0, NULL, NULL);
}

struct k8c_metric *k8c_metrics_gauge(struct k8c_metrics *reg, const char *name, const char *help,
                                     const char *labels)
{
    return family_register(reg, K8C_METRIC_GAUGE, name, help, labels, NULL, 0, NULL, NULL);
}

struct k8c_metric *k8c_metrics_histogram(struct k8c_metrics *reg, const char *name,
                                         const char *help, const char *labels,
                                         const double *buckets, size_t nbuckets)
{
    return family_register(reg, K8C_METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets, NULL,
                           NULL);
}

struct k8c_metric *k8c_metrics_gauge_func(struct k8c_metrics *reg, const char *name,
                                          const char *help, double (*fn)(void *arg), void *arg)
{
    if (fn == NULL)
        return NULL;
    return family_register(reg, K8C_METRIC_GAUGE, name, help, NULL, NULL, 0, fn, arg);
}

struct k8c_metric *k8c_metrics_counter_func(struct k8c_metrics *reg, const char *name,
                                            const char *help, double (*fn)(void *arg), void *arg)
{
    if (fn == NULL)
        return NULL;
    return family_register(reg, K8C_METRIC_COUNTER, name, help, NULL, NULL, 0, fn, arg);
}

/* ---- the process collector ---- */

/* Field n (1-based, as proc(5) numbers them) of /proc/self/stat, or -1. */
static double proc_stat_field(int n)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t len = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (p == NULL)
        return -1;
    p++;
    for (int field = 3; field <= n; field++) { /* field 3 (state) follows ") " */
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return -1;
        if (field == n)
            return strtod(p, NULL);
        p += strcspn(p, " ");
    }
    return -1;
}

static double process_cpu_seconds(void *arg)
{
    struct rusage ru;
    (void)arg;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* /proc/self/statm field i (pages) in bytes. */
static double statm_bytes(int i)
{
    unsigned long v[2] = {0, 0};
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    int n = fscanf(f, "%lu %lu", &v[0], &v[1]);
    fclose(f);
    return n == 2 ? (double)v[i] * (double)sysconf(_SC_PAGESIZE) : 0;
}

static double process_resident_bytes(void *arg)
{
    (void)arg;
    return statm_bytes(1);
}

static double process_virtual_bytes(void *arg)
{
    (void)arg;
    return statm_bytes(0);
}

static double process_start_time(void *arg)
{
    double *start = arg;
    return *start;
}

static double process_open_fds(void *arg)
{
    (void)arg;
    DIR *d = opendir("/proc/self/fd");
    double n = 0;
    if (d == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static double process_max_fds(void *arg)
{
    struct rlimit rl;
    (void)arg;
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (double)rl.rlim_cur : 0;
}

void k8c_metrics_register_process(struct k8c_metrics *reg)
{
    static double start; /* boot time + the process's start in clock ticks after it */
    if (start == 0) {
        FILE *f = fopen("/proc/stat", "r");
        char line[256];
        double btime = 0, ticks = proc_stat_field(22);
        while (f != NULL && fgets(line, sizeof(line), f) != NULL)
            if (strncmp(line, "btime ", 6) == 0)
                btime = strtod(line + 6, NULL);
        if (f != NULL)
            fclose(f);
        start = btime > 0 && ticks >= 0 ? btime + ticks / (double)sysconf(_SC_CLK_TCK)
                                        : (double)time(NULL);
    }
    k8c_metrics_counter_func(reg, "process_cpu_seconds_total",
                             "User and system CPU time the process has used, in seconds.",
                             process_cpu_seconds, NULL);
    k8c_metrics_gauge_func(reg, "process_resident_memory_bytes",
                           "Resident set size of the process, in bytes.", process_resident_bytes,
                           NULL);
    k8c_metrics_gauge_func(reg, "process_virtual_memory_bytes",
                           "Virtual memory size of the process, in bytes.", process_virtual_bytes,
                           NULL);
    k8c_metrics_gauge_func(reg, "process_start_time_seconds",
                           "When the process started, in seconds since the Unix epoch.",
                           process_start_time, &start);
    k8c_metrics_gauge_func(reg, "process_open_fds", "File descriptors the process has open.",
                           process_open_fds, NULL);
    k8c_metrics_gauge_func(reg, "process_max_fds",
                           "The most file descriptors the process may open (RLIMIT_NOFILE).",
                           process_max_fds, NULL);
}

struct k8c_metric_series *k8c_metric_series(struct k8c_metric *m, const char *const *values)
{
    struct k8c_metric_series *s = NULL;
    size_t n = 0;
    uint64_t hash;

    if (m == NULL || m->fn != NULL)
        return NULL;
    while (values != NULL && values[n] != NULL)
        n++;
    if (n != m->nlabels) {
        k8c_log_error("metrics: wrong number of label values name=%s want=%zu got=%zu", m->name,
                      m->nlabels, n);
        return NULL;
    }
    hash = hash_values(values, n);
    pthread_mutex_lock(&m->reg->mu);
    for (size_t i = 0; i < m->nseries && s == NULL; i++) {
        struct k8c_metric_series *c = m->series[i];
        if (c->hash != hash)
            continue;
        size_t j = 0;
        while (j < n && strcmp(c->values[j], values[j]) == 0)
            j++;
        if (j == n)
            s = c;
    }
    if (s == NULL)
        s = series_new(m, values, hash);
    pthread_mutex_unlock(&m->reg->mu);
    return s;
}

static void series_update(struct k8c_metric_series *s, int op, double v)
{
    if (s == NULL)
        return;
    struct k8c_metric *m = s->family;
    pthread_mutex_lock(&m->reg->mu);
    switch (op) {
    case 'a': /* add */
        if (m->type == K8C_METRIC_GAUGE || (m->type == K8C_METRIC_COUNTER && v >= 0))
            s->value += v;
        break;
    case 's': /* set */
        if (m->type == K8C_METRIC_GAUGE)
            s->value = v;
        break;
    case 'o': /* observe */
        if (m->type == K8C_METRIC_HISTOGRAM) {
            size_t i = 0;
            while (i < m->nbuckets && !(v <= m->buckets[i]))
                i++;
            s->bucket_counts[i]++;
            s->count++;
            s->sum += v;
        }
        break;
    }
    pthread_mutex_unlock(&m->reg->mu);
}

void k8c_metric_inc(struct k8c_metric_series *s)
{
    series_update(s, 'a', 1);
}

void k8c_metric_dec(struct k8c_metric_series *s)
{
    if (s != NULL && s->family->type == K8C_METRIC_GAUGE)
        series_update(s, 'a', -1);
}

void k8c_metric_add(struct k8c_metric_series *s, double v)
{
    series_update(s, 'a', v);
}

void k8c_metric_set(struct k8c_metric_series *s, double v)
{
    series_update(s, 's', v);
}

void k8c_metric_observe(struct k8c_metric_series *s, double v)
{
    series_update(s, 'o', v);
}

double k8c_metric_value(struct k8c_metric_series *s)
{
    double v;
    if (s == NULL)
        return 0;
    pthread_mutex_lock(&s->family->reg->mu);
    v = s->family->type == K8C_METRIC_HISTOGRAM ? (double)s->count : s->value;
    pthread_mutex_unlock(&s->family->reg->mu);
    return v;
}

/* ---- exposition ---- */

char *k8c_metrics_format_value(double v, char out[32])
{
    if (isnan(v)) {
        strcpy(out, "NaN");
    } else if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 32, "%.0f", v == 0 ? 0.0 : v);
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(out, 32, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
    return out;
}

static void put_escaped(struct k8c_sbuf *out, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            k8c_sbuf_puts(out, "\\\\");
        else if (*s == '\n')
            k8c_sbuf_puts(out, "\\n");
        else if (quote && *s == '"')
            k8c_sbuf_puts(out, "\\\"");
        else
            k8c_sbuf_putc(out, *s);
    }
}

/* Writes `name{l1="v1",...,extra="x"} value\n`; extra_name may be NULL. */
static void put_sample(struct k8c_sbuf *out, const struct k8c_metric *m, const char *suffix,
                       const struct k8c_metric_series *s, const char *extra_name,
                       const char *extra_value, double value)
{
    char num[32];
    bool any = false;

    k8c_sbuf_puts(out, m->name);
    k8c_sbuf_puts(out, suffix);
    for (size_t i = 0; s != NULL && i < m->nlabels; i++) {
        k8c_sbuf_putc(out, any ? ',' : '{');
        any = true;
        k8c_sbuf_printf(out, "%s=\"", m->labels[i]);
        put_escaped(out, s->values[i], true);
        k8c_sbuf_putc(out, '"');
    }
    if (extra_name != NULL) {
        k8c_sbuf_putc(out, any ? ',' : '{');
        any = true;
        k8c_sbuf_printf(out, "%s=\"%s\"", extra_name, extra_value);
    }
    if (any)
        k8c_sbuf_putc(out, '}');
    k8c_sbuf_printf(out, " %s\n", k8c_metrics_format_value(value, num));
}

static int family_cmp(const void *a, const void *b)
{
    const struct k8c_metric *x = *(const struct k8c_metric *const *)a;
    const struct k8c_metric *y = *(const struct k8c_metric *const *)b;
    return strcmp(x->name, y->name);
}

static int series_cmp(const void *a, const void *b)
{
    const struct k8c_metric_series *x = *(const struct k8c_metric_series *const *)a;
    const struct k8c_metric_series *y = *(const struct k8c_metric_series *const *)b;
    for (size_t i = 0; i < x->family->nlabels; i++) {
        int c = strcmp(x->values[i], y->values[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

static void expose_family(struct k8c_metric *m, struct k8c_sbuf *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    char num[32];

    if (m->nseries == 0 && m->fn == NULL)
        return;
    k8c_sbuf_printf(out, "# HELP %s ", m->name);
    put_escaped(out, m->help, false);
    k8c_sbuf_printf(out, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
    if (m->fn != NULL) {
        put_sample(out, m, "", NULL, NULL, NULL, m->fn(m->fn_arg));
        return;
    }
    qsort(m->series, m->nseries, sizeof(*m->series), series_cmp);
    for (size_t i = 0; i < m->nseries; i++) {
        struct k8c_metric_series *s = m->series[i];
        if (m->type != K8C_METRIC_HISTOGRAM) {
            put_sample(out, m, "", s, NULL, NULL, s->value);
            continue;
        }
        uint64_t cumulative = 0;
        for (size_t b = 0; b < m->nbuckets; b++) {
            cumulative += s->bucket_counts[b];
            put_sample(out, m, "_bucket", s, "le", k8c_metrics_format_value(m->buckets[b], num),
                       (double)cumulative);
        }
        put_sample(out, m, "_bucket", s, "le", "+Inf", (double)s->count);
        put_sample(out, m, "_sum", s, NULL, NULL, s->sum);
        put_sample(out, m, "_count", s, NULL, NULL, (double)s->count);
    }
}

void k8c_metrics_expose(struct k8c_metrics *reg, struct k8c_sbuf *out)
{
    pthread_mutex_lock(&reg->mu);
    /* Sorting in place is harmless: order carries no meaning elsewhere. */
    qsort(reg->families, reg->n, sizeof(*reg->families), family_cmp);
    for (size_t i = 0; i < reg->n; i++)
        expose_family(reg->families[i], out);
    pthread_mutex_unlock(&reg->mu);
}

/* ---- health checks ---- */

struct health_check {
    char *name;
    unsigned endpoints;
    k8c_health_check_fn fn;
    void *arg;
};

struct k8c_health {
    struct health_check *checks;
    size_t n, cap;
};

static int ping_check(void *arg, char *errmsg)
{
    return 0;
}

struct k8c_health *k8c_health_new(void)
{
    struct k8c_health *h = K8C_NEW(struct k8c_health);
    k8c_health_add(h, "ping", K8C_HEALTH_ALL, ping_check, NULL);
    return h;
}

void k8c_health_del(struct k8c_health *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        k8c_free(h->checks[i].name);
    k8c_free(h->checks);
    k8c_free(h);
}

int k8c_health_add(struct k8c_health *h, const char *name, unsigned endpoints,
                   k8c_health_check_fn fn, void *arg)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->checks[i].name, name) == 0)
            return K8C_EEXIST;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->checks = k8c_realloc(h->checks, h->cap * sizeof(*h->checks));
    }
    h->checks[h->n++] = (struct health_check){k8c_strdup(name), endpoints, fn, arg};
    return 0;
}

/* True if the query string has parameter `key` (with or without a value). */
static bool query_has(const char *query, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = query; p != NULL && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= klen && strncmp(p, key, klen) == 0 && (len == klen || p[klen] == '='))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* True if some exclude=<name> parameter names this check (repeatable). */
static bool query_excludes(const char *query, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = query; p != NULL && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 8 + nlen && strncmp(p, "exclude=", 8) == 0 && strncmp(p + 8, name, nlen) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

int k8c_health_handle(struct k8c_health *h, const char *path, const char *query, int *status,
                      struct k8c_sbuf *body)
{
    static const struct {
        const char *path;
        unsigned bit;
    } endpoints[] = {
        {"/healthz", K8C_HEALTH_HEALTHZ},
        {"/livez", K8C_HEALTH_LIVEZ},
        {"/readyz", K8C_HEALTH_READYZ},
    };
    char errmsg[K8C_ERRMSG_SIZE];
    const char *endpoint = NULL, *single = NULL;
    unsigned bit = 0;

    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(endpoints[i].path);
        if (strncmp(path, endpoints[i].path, len) != 0)
            continue;
        if (path[len] == '\0' || (path[len] == '/' && path[len + 1] == '\0')) {
            endpoint = endpoints[i].path + 1;
        } else if (path[len] == '/') {
            endpoint = endpoints[i].path + 1;
            single = path + len + 1;
        } else {
            continue;
        }
        bit = endpoints[i].bit;
        break;
    }
    if (endpoint == NULL)
        return 0;

    if (single != NULL) {
        for (size_t i = 0; i < h->n; i++) {
            struct health_check *c = &h->checks[i];
            if (!(c->endpoints & bit) || strcmp(c->name, single) != 0)
                continue;
            errmsg[0] = '\0';
            if (c->fn(c->arg, errmsg) == 0) {
                *status = 200;
                k8c_sbuf_puts(body, "ok");
            } else {
                *status = 500;
                k8c_sbuf_printf(body, "internal server error: %s\n",
                                errmsg[0] ? errmsg : "check failed");
            }
            return 1;
        }
        *status = 404;
        k8c_sbuf_puts(body, "404 page not found\n");
        return 1;
    }

    bool verbose = query_has(query, "verbose");
    bool failed = false;
    struct k8c_sbuf lines;
    k8c_sbuf_init(&lines);
    for (size_t i = 0; i < h->n; i++) {
        struct health_check *c = &h->checks[i];
        if (!(c->endpoints & bit))
            continue;
        if (query_excludes(query, c->name)) {
            k8c_sbuf_printf(&lines, "[+]%s excluded: ok\n", c->name);
            continue;
        }
        errmsg[0] = '\0';
        if (c->fn(c->arg, errmsg) == 0) {
            k8c_sbuf_printf(&lines, "[+]%s ok\n", c->name);
        } else {
            failed = true;
            /* the reason goes to the log only, as upstream's public endpoints withhold it */
            k8c_sbuf_printf(&lines, "[-]%s failed: reason withheld\n", c->name);
            k8c_log_warn("health check failed endpoint=%s check=%s reason=\"%s\"", endpoint,
                         c->name, errmsg);
        }
    }
    *status = failed ? 500 : 200;
    if (!verbose && !failed) {
        k8c_sbuf_puts(body, "ok");
    } else {
        k8c_sbuf_append(body, lines.data ? lines.data : "", lines.len);
        k8c_sbuf_printf(body, "%s check %s\n", endpoint, failed ? "failed" : "passed");
    }
    k8c_sbuf_free(&lines);
    return 1;
}

/* ---- serving ---- */

int k8c_metrics_http_handler(void *arg, const char *method, const char *path, const char *query,
                             int *status, const char **content_type, struct k8c_sbuf *body)
{
    struct k8c_metrics_endpoints *ep = arg;
    bool is_metrics = ep->metrics != NULL && strcmp(path, "/metrics") == 0;
    bool is_health = false;
    int st = 0;

    if (!is_metrics && ep->health != NULL)
        is_health = strncmp(path, "/healthz", 8) == 0 || strncmp(path, "/livez", 6) == 0 ||
                    strncmp(path, "/readyz", 7) == 0;
    if (!is_metrics && !is_health)
        return 0;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *status = 405;
        *content_type = "text/plain; charset=utf-8";
        k8c_sbuf_puts(body, "405 method not allowed\n");
        return 1;
    }
    if (is_metrics) {
        *status = 200;
        *content_type = K8C_METRICS_CONTENT_TYPE;
        k8c_metrics_expose(ep->metrics, body);
        return 1;
    }
    if (!k8c_health_handle(ep->health, path, query, &st, body))
        return 0;
    *status = st;
    *content_type = "text/plain; charset=utf-8";
    return 1;
}
