/*
 * bench_mvcc: micro-benchmark of store/mvcc alone (no raft, no network):
 * puts per second by batch size (group commit), point gets and a 1000-key
 * prefix range. Bounded: fixed counts. Prints a table and `result key=value`
 * lines. Usage: bench_mvcc <scratch-dir>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "mvcc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t g_index;

/* n puts of 256-byte values over 10000 keys, per_batch requests per commit. */
static double bench_puts(struct store_mvcc *m, int n, int per_batch)
{
    char k[64], v[256];
    memset(v, 'x', sizeof(v));
    double t0 = now();
    for (int i = 0; i < n;) {
        if (store_mvcc_begin_batch(m))
            exit(1);
        for (int j = 0; j < per_batch && i < n; j++, i++) {
            snprintf(k, sizeof(k), "/registry/pods/default/pod-%05d", i % 10000);
            Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
            p.key = (ProtobufCBinaryData){strlen(k), (uint8_t *)k};
            p.value = (ProtobufCBinaryData){sizeof(v), (uint8_t *)v};
            struct store_mvcc_result res = {0};
            if (store_mvcc_put(m, &p, &res) || res.err)
                exit(1);
            store_mvcc_result_free(&res);
        }
        struct store_mvcc_events *ev;
        if (store_mvcc_commit_batch(m, ++g_index, 1, &ev))
            exit(1);
        store_mvcc_events_free(ev);
    }
    return n / (now() - t0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_mvcc <scratch-dir>\n");
        return 2;
    }
    struct store_mvcc_options o = {.dir = argv[1], .sync = false};
    struct store_mvcc *m;
    char err[K8C_ERRMSG_SIZE];
    if (store_mvcc_open(&o, &m, err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double p1 = bench_puts(m, 5000, 1);
    double p64 = bench_puts(m, 50000, 64);
    double p1024 = bench_puts(m, 100000, 1024);

    char k[64];
    int gets = 100000;
    double t0 = now();
    for (int i = 0; i < gets; i++) {
        snprintf(k, sizeof(k), "/registry/pods/default/pod-%05d", (i * 7919) % 10000);
        Etcdserverpb__RangeRequest q = ETCDSERVERPB__RANGE_REQUEST__INIT;
        q.key = (ProtobufCBinaryData){strlen(k), (uint8_t *)k};
        struct store_mvcc_result res = {0};
        if (store_mvcc_range(m, &q, &res) || ((Etcdserverpb__RangeResponse *)res.resp)->n_kvs != 1)
            return 1;
        store_mvcc_result_free(&res);
    }
    double gps = gets / (now() - t0);

    int ranges = 200;
    t0 = now();
    for (int i = 0; i < ranges; i++) {
        Etcdserverpb__RangeRequest q = ETCDSERVERPB__RANGE_REQUEST__INIT;
        q.key = (ProtobufCBinaryData){27, (uint8_t *)"/registry/pods/default/pod-"};
        q.range_end = (ProtobufCBinaryData){27, (uint8_t *)"/registry/pods/default/pod."};
        q.limit = 1000;
        struct store_mvcc_result res = {0};
        if (store_mvcc_range(m, &q, &res) ||
            ((Etcdserverpb__RangeResponse *)res.resp)->n_kvs != 1000)
            return 1;
        store_mvcc_result_free(&res);
    }
    double rps = ranges / (now() - t0);
    struct store_mvcc_status st;
    store_mvcc_status(m, &st);
    store_mvcc_close(m);

    printf("%-36s %12s\n", "operation (store/mvcc only, NOSYNC)", "ops/s");
    printf("%-36s %12.0f\n", "put, 1 request per LMDB txn", p1);
    printf("%-36s %12.0f\n", "put, 64 requests per LMDB txn", p64);
    printf("%-36s %12.0f\n", "put, 1024 requests per LMDB txn", p1024);
    printf("%-36s %12.0f\n", "get one key (read txn each)", gps);
    printf("%-36s %12.0f\n", "range 1000 of 10000 keys (limit)", rps);
    printf("result put_batch1_ops=%.0f put_batch64_ops=%.0f put_batch1024_ops=%.0f "
           "get_ops=%.0f range1000_ops=%.0f db_size=%lld revisions=%lld\n",
           p1, p64, p1024, gps, rps, (long long)st.db_size, (long long)st.revision);
    return 0;
}
