/*
 * bench/common/h2bench: shared plumbing of the HTTP/2 load generators (see h2bench.h).
 */
#include "h2bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "error.h"

struct k8c_http_client *h2bench_connect(uv_loop_t *loop, const char *prog, const char *server,
                                        const char *ca)
{
    struct k8c_http_client_options co = {.ca_file = ca};
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_http_client *c = k8c_http_client_new(loop, server, &co, errmsg);

    if (c == NULL)
        fprintf(stderr, "%s: %s: %s\n", prog, server, errmsg);
    return c;
}

size_t h2bench_headers(struct k8c_http_header *h, const struct k8c_http_client *c,
                       const char *method, const char *path, const char *authorization,
                       const char *user_agent, const char *content_type, const char *content_length)
{
    size_t n = 0;

    h[n++] = (struct k8c_http_header){":method", method};
    h[n++] = (struct k8c_http_header){":scheme", k8c_http_client_scheme(c)};
    h[n++] = (struct k8c_http_header){":path", path};
    h[n++] = (struct k8c_http_header){":authority", k8c_http_client_authority(c)};
    h[n++] = (struct k8c_http_header){"authorization", authorization};
    h[n++] = (struct k8c_http_header){"accept", "application/json"};
    if (user_agent != NULL)
        h[n++] = (struct k8c_http_header){"user-agent", user_agent};
    if (content_type != NULL)
        h[n++] = (struct k8c_http_header){"content-type", content_type};
    if (content_length != NULL)
        h[n++] = (struct k8c_http_header){"content-length", content_length};
    return n;
}

bool h2bench_status(const char *name, const char *value, int *status)
{
    if (strcmp(name, ":status") != 0 || *status != 0)
        return false;
    *status = atoi(value);
    return true;
}

/* The value of one option into its destination; false if fn rejects it. */
static bool set_arg(const struct h2bench_arg *arg, char *value)
{
    switch (arg->type) {
    case H2BENCH_STR:
        *(const char **)arg->dst = value;
        break;
    case H2BENCH_INT:
        *(int *)arg->dst = atoi(value);
        break;
    case H2BENCH_U64:
        *(uint64_t *)arg->dst = strtoull(value, NULL, 10);
        break;
    case H2BENCH_SIZE:
        *(size_t *)arg->dst = strtoull(value, NULL, 10);
        break;
    case H2BENCH_DOUBLE:
        *(double *)arg->dst = strtod(value, NULL);
        break;
    case H2BENCH_FLAG:
        *(bool *)arg->dst = true;
        break;
    case H2BENCH_FN:
        return arg->fn(arg->dst, value);
    }
    return true;
}

bool h2bench_parse_args(int argc, char **argv, const struct h2bench_arg *args, size_t n)
{
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *v = strchr(a, '=');
        size_t k;

        if (strncmp(a, "--", 2) != 0)
            return false;
        if (v != NULL)
            *v++ = '\0';
        a += 2;
        for (k = 0; k < n && strcmp(a, args[k].name) != 0; k++)
            ;
        /* a flag takes no value, every other option one */
        if (k == n || (args[k].type == H2BENCH_FLAG) != (v == NULL) || !set_arg(&args[k], v))
            return false;
    }
    return true;
}

bool h2bench_proc_ticks(int pid, uint64_t *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
    if (p == NULL)
        return false;
    unsigned long long ut = 0, st = 0;
    /* fields 3.. after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return false;
    *ticks = ut + st;
    return true;
}

uint64_t h2bench_proc_number(int pid, const char *file, const char *key)
{
    char path[64], line[256];
    size_t klen = strlen(key);
    uint64_t v = 0;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            v = strtoull(line + klen + 1, NULL, 10);
    fclose(f);
    return v;
}

double h2bench_self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
