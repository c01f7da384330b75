/*
 * bench/common/h2bench: what the HTTP/2 load generators against an API server
 * (bench/api/bench_api.c, bench/watch/bench_watch.c) share: TLS connections
 * through lib/http's client, the headers of a request with a bearer token, an
 * answer's :status, "--name=value" option tables, and the CPU time and /proc
 * counters of this and other processes. Added to each benchmark's sources
 * (not a library of its own); no state.
 */
#ifndef K8C_BENCH_H2BENCH_H
#define K8C_BENCH_H2BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "http.h"

/* The most headers h2bench_headers writes. */
#define H2BENCH_MAX_HEADERS 9

/*
 * A connection to server ("host:port", TLS trusting the PEM file ca) on loop. On failure
 * prints "PROG: SERVER: why" to stderr and returns NULL. The caller owns the client
 * (k8c_http_client_del).
 */
struct k8c_http_client *h2bench_connect(uv_loop_t *loop, const char *prog, const char *server,
                                        const char *ca);

/*
 * Writes into h (H2BENCH_MAX_HEADERS entries) the headers of a request on c: :method,
 * :scheme, :path, :authority, "authorization: AUTHORIZATION" (e.g. "Bearer T"), "accept:
 * application/json", then each of user-agent, content-type and content-length that is not
 * NULL, in that order. Returns how many. The strings are borrowed: they must live until the
 * request has been started.
 */
size_t h2bench_headers(struct k8c_http_header *h, const struct k8c_http_client *c,
                       const char *method, const char *path, const char *authorization,
                       const char *user_agent, const char *content_type,
                       const char *content_length);

/*
 * For an on_header callback: when name is ":status" and *status is still 0, stores the
 * answer's status code in *status and returns true; false for any other header.
 */
bool h2bench_status(const char *name, const char *value, int *status);

enum h2bench_arg_type {
    H2BENCH_STR,    /* const char *: the value, pointing into argv */
    H2BENCH_INT,    /* int: atoi */
    H2BENCH_U64,    /* uint64_t: strtoull, base 10 */
    H2BENCH_SIZE,   /* size_t: strtoull, base 10 */
    H2BENCH_DOUBLE, /* double: strtod */
    H2BENCH_FLAG,   /* bool: "--name" without a value sets it */
    H2BENCH_FN,     /* fn(dst, value); fn returning false rejects the value */
};

/* One option of a command line, "--NAME=value" (or "--NAME" for a flag). */
struct h2bench_arg {
    const char *name;
    enum h2bench_arg_type type;
    void *dst;
    bool (*fn)(void *dst, char *value);
};

/*
 * Reads argv[1..argc) by the table args[0..n), in order (a repeated option: the last value,
 * H2BENCH_FN is called each time). Cuts each "--name=value" argument at its '=' (argv is
 * modified). Returns false at the first argument that is not an option of the table in its
 * form, or a value fn rejects: the caller prints its usage.
 */
bool h2bench_parse_args(int argc, char **argv, const struct h2bench_arg *args, size_t n);

/* User+system CPU clock ticks process pid has used so far (from /proc/PID/stat); false when
 * it cannot be read. */
bool h2bench_proc_ticks(int pid, uint64_t *ticks);

/* The number after "KEY:" on the line of /proc/PID/FILE that starts with it (the last such
 * line), e.g. ("status", "VmRSS") or ("io", "syscw"); 0 when pid <= 0 or it cannot be read. */
uint64_t h2bench_proc_number(int pid, const char *file, const char *key);

/* User+system CPU seconds this process has used so far. */
double h2bench_self_cpu_s(void);

#endif
