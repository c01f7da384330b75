/*
 * mvcc-replay: applies a line script to store/mvcc and prints one JSON object
 * per command, in the shape compare.py builds from `etcdctl -w json`, so the
 * same script can be checked against a real etcd 3.4.
 *
 *   put K V | del K [END] | get K [END] [REV] | cas K MODREV V | compact REV
 *
 * Keys and values are single words; END "-" means no range end, "\0" is
 * written as "ALL". Usage: mvcc-replay <data-dir> < script
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mvcc.h"

static uint64_t g_index;

static ProtobufCBinaryData bin(const char *s)
{
    if (strcmp(s, "ALL") == 0)
        return (ProtobufCBinaryData){1, (uint8_t *)""};
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

static void print_kvs(Mvccpb__KeyValue **kvs, size_t n)
{
    printf("\"kvs\":[");
    for (size_t i = 0; i < n; i++)
        printf("%s[\"%.*s\",%lld,%lld,%lld,\"%.*s\"]", i ? "," : "", (int)kvs[i]->key.len,
               (char *)kvs[i]->key.data, (long long)kvs[i]->create_revision,
               (long long)kvs[i]->mod_revision, (long long)kvs[i]->version, (int)kvs[i]->value.len,
               (char *)kvs[i]->value.data);
    printf("]");
}

/* Applies req in its own batch; prints the error line and returns 1 on error. */
static int apply(struct store_mvcc *m, const ProtobufCMessage *req, struct store_mvcc_result *res)
{
    if (store_mvcc_begin_batch(m) || store_mvcc_apply(m, req, res) ||
        store_mvcc_commit_batch(m, ++g_index, 1, NULL)) {
        fprintf(stderr, "batch failure\n");
        exit(2);
    }
    if (res->err) {
        printf("{\"error\":\"%s\"}\n", k8c_strerror(res->err));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mvcc-replay <data-dir> < script\n");
        return 2;
    }
    struct store_mvcc_options o = {.dir = argv[1], .sync = false};
    struct store_mvcc *m;
    char err[K8C_ERRMSG_SIZE];
    if (store_mvcc_open(&o, &m, err)) {
        fprintf(stderr, "mvcc-replay: %s\n", err);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        char *w[5] = {0};
        int n = 0;
        for (char *t = strtok(line, " \t\n"); t && n < 5; t = strtok(NULL, " \t\n"))
            w[n++] = t;
        if (n == 0)
            continue;
        struct store_mvcc_result res = {0};
        if (strcmp(w[0], "put") == 0 && n == 3) {
            Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
            p.key = bin(w[1]);
            p.value = bin(w[2]);
            if (!apply(m, &p.base, &res))
                printf("{\"rev\":%lld}\n",
                       (long long)((Etcdserverpb__PutResponse *)res.resp)->header->revision);
        } else if (strcmp(w[0], "del") == 0 && n >= 2) {
            Etcdserverpb__DeleteRangeRequest d = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
            d.key = bin(w[1]);
            if (n > 2)
                d.range_end = bin(w[2]);
            if (!apply(m, &d.base, &res)) {
                Etcdserverpb__DeleteRangeResponse *r = (void *)res.resp;
                printf("{\"rev\":%lld,\"deleted\":%lld}\n", (long long)r->header->revision,
                       (long long)r->deleted);
            }
        } else if (strcmp(w[0], "get") == 0 && n >= 2) {
            Etcdserverpb__RangeRequest q = ETCDSERVERPB__RANGE_REQUEST__INIT;
            q.key = bin(w[1]);
            if (n > 2 && strcmp(w[2], "-") != 0)
                q.range_end = bin(w[2]);
            if (n > 3)
                q.revision = atoll(w[3]);
            if (store_mvcc_range(m, &q, &res)) {
                printf("{\"error\":\"%s\"}\n", k8c_strerror(res.err));
            } else {
                Etcdserverpb__RangeResponse *r = (void *)res.resp;
                printf("{\"rev\":%lld,\"count\":%lld,", (long long)r->header->revision,
                       (long long)r->count);
                print_kvs(r->kvs, r->n_kvs);
                printf("}\n");
            }
        } else if (strcmp(w[0], "cas") == 0 && n == 4) {
            /* if mod(K) == MODREV then put K V else get K */
            Etcdserverpb__Compare c = ETCDSERVERPB__COMPARE__INIT, *cp = &c;
            c.key = bin(w[1]);
            c.target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD;
            c.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
            c.mod_revision = atoll(w[2]);
            Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
            p.key = bin(w[1]);
            p.value = bin(w[3]);
            Etcdserverpb__RangeRequest g = ETCDSERVERPB__RANGE_REQUEST__INIT;
            g.key = bin(w[1]);
            Etcdserverpb__RequestOp s = ETCDSERVERPB__REQUEST_OP__INIT, f = s, *sp = &s, *fp = &f;
            s.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
            s.request_put = &p;
            f.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
            f.request_range = &g;
            Etcdserverpb__TxnRequest t = ETCDSERVERPB__TXN_REQUEST__INIT;
            t.n_compare = 1;
            t.compare = &cp;
            t.n_success = 1;
            t.success = &sp;
            t.n_failure = 1;
            t.failure = &fp;
            if (!apply(m, &t.base, &res)) {
                Etcdserverpb__TxnResponse *r = (void *)res.resp;
                printf("{\"rev\":%lld,\"succeeded\":%s", (long long)r->header->revision,
                       r->succeeded ? "true" : "false");
                if (!r->succeeded) {
                    printf(",");
                    print_kvs(r->responses[0]->response_range->kvs,
                              r->responses[0]->response_range->n_kvs);
                }
                printf("}\n");
            }
        } else if (strcmp(w[0], "compact") == 0 && n == 2) {
            Etcdserverpb__CompactionRequest c = ETCDSERVERPB__COMPACTION_REQUEST__INIT;
            c.revision = atoll(w[1]);
            if (!apply(m, &c.base, &res))
                printf("{\"compacted\":%lld}\n", (long long)c.revision);
        } else {
            fprintf(stderr, "mvcc-replay: bad command %s\n", w[0]);
            return 2;
        }
        store_mvcc_result_free(&res);
        fflush(stdout);
    }
    store_mvcc_close(m);
    return 0;
}
