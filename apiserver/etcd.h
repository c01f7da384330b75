/*
 * The API server's client of the store: the etcd v3 gRPC API (KV, Watch,
 * Lease) over lib/grpc, the same whether the peer is k8c-store or etcd 3.4.
 * Every operation is asynchronous on the loop and reports through one
 * callback; errors are negative codes with a message:
 *   K8C_ENOTFOUND  the key does not exist (get, update, delete)
 *   K8C_EEXIST     create found the key (current value returned)
 *   K8C_ECONFLICT  the key's mod revision is not the expected one (current
 *                  value returned, or none if the key is gone)
 *   K8C_ETCD_COMPACTED  the revision asked for has been compacted
 *   K8C_ECLOSED    no store peer answered (after trying each)
 * --etcd-servers lists several peers: a call that fails with UNAVAILABLE is
 * retried on the next one.
 */
#ifndef API_ETCD_H
#define API_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "etcd/kv.pb-c.h"
#include "etcd/rpc.pb-c.h"

struct api_etcd;

struct api_etcd_options {
    const char *servers;   /* comma-separated URLs: http://127.0.0.1:2379,https://... */
    const char *ca_file;   /* --etcd-cafile */
    const char *cert_file; /* --etcd-certfile */
    const char *key_file;  /* --etcd-keyfile */
    int64_t timeout_ms;    /* per call; 0: 30 s */
};

/* Returns NULL with errmsg for bad URLs or unreadable TLS files. */
struct api_etcd *api_etcd_new(uv_loop_t *loop, const struct api_etcd_options *opts, char *errmsg);
void api_etcd_del(struct api_etcd *e);
/* The i-th member's URL as --etcd-servers gave it ("https://127.0.0.1:2379"), or NULL past
 * the last. */
const char *api_etcd_member(const struct api_etcd *e, size_t i);

/* One key-value as read: borrowed for the callback. */
struct api_etcd_kv {
    const char *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    int64_t create_revision, mod_revision, lease;
};

/* Result of any call: rev is the store revision of the response header. For
 * range: kvs/n (borrowed), more, count. For get/put/txn: kv is the key's
 * value when the call returns one (NULL otherwise). */
struct api_etcd_result {
    int err;
    const char *errmsg;
    int64_t rev;
    const struct api_etcd_kv *kv;
    const struct api_etcd_kv *kvs;
    size_t n;
    bool more;
    int64_t count;
};
typedef void (*api_etcd_cb)(void *arg, const struct api_etcd_result *res);

/* Range [key, end) (end NULL: the single key) at revision rev (0: latest),
 * at most limit keys (0: all). */
int api_etcd_range(struct api_etcd *e, const char *key, const char *end, int64_t limit, int64_t rev,
                   bool count_only, api_etcd_cb cb, void *arg);
/* Creates key = value only if the key does not exist (K8C_EEXIST). lease 0 none. */
int api_etcd_create(struct api_etcd *e, const char *key, const uint8_t *value, size_t len,
                    int64_t lease, api_etcd_cb cb, void *arg);
/* Replaces key's value only if its mod revision is mod_rev (K8C_ECONFLICT with
 * the current value, or K8C_ENOTFOUND if gone). */
int api_etcd_update(struct api_etcd *e, const char *key, const uint8_t *value, size_t len,
                    int64_t mod_rev, int64_t lease, api_etcd_cb cb, void *arg);
/* Deletes key if its mod revision is mod_rev (0: whatever it is). */
int api_etcd_delete(struct api_etcd *e, const char *key, int64_t mod_rev, api_etcd_cb cb,
                    void *arg);
/* Deletes every key in [key, end); res->count is the number deleted. */
int api_etcd_delete_range(struct api_etcd *e, const char *key, const char *end, api_etcd_cb cb,
                          void *arg);
/* Grants a lease of ttl seconds; res->rev carries the lease ID. */
/*
 * A lease for an object that must live ttl seconds, shared as upstream's leaseManager shares
 * them: a lease granted with a reuse window on top (5% of the TTL, at most 60 s) serves every
 * object written within that window, up to 1000, so a burst of events makes one grant and an
 * idle server none. cb runs once with the lease ID in res->rev (or res->err): before this
 * returns when the current lease serves (or a grant fails at once), else when a grant answers.
 */
void api_etcd_lease_get(struct api_etcd *e, int64_t ttl, api_etcd_cb cb, void *arg);

/* Watches [key, end) from revision start_rev (0: now). Events arrive in
 * order through ev_cb (type PUT/DELETE, kv, prev_kv may be NULL); a progress
 * notification or the creation answer comes as ev_cb with kv NULL and
 * revision set. The watch ends with done_cb exactly once: err 0 after
 * api_etcd_watch_cancel, K8C_ETCD_COMPACTED (compact_rev in rev) when
 * start_rev is compacted, or another error when the stream broke. */
struct api_etcd_watch;
typedef void (*api_etcd_event_cb)(void *arg, int type, const struct api_etcd_kv *kv,
                                  const struct api_etcd_kv *prev_kv, int64_t revision);
typedef void (*api_etcd_watch_done_cb)(void *arg, int err, const char *errmsg, int64_t rev);
struct api_etcd_watch *api_etcd_watch(struct api_etcd *e, const char *key, const char *end,
                                      int64_t start_rev, bool prev_kv, bool progress_notify,
                                      api_etcd_event_cb ev_cb, api_etcd_watch_done_cb done_cb,
                                      void *arg);
/* Asks the store for a progress notification (an ev_cb with kv NULL). */
void api_etcd_watch_progress(struct api_etcd_watch *w);
/* Stops the watch: done_cb(0) follows from the loop. */
void api_etcd_watch_cancel(struct api_etcd_watch *w);

/* The end of the prefix range for key: key with its last byte incremented. */
void api_etcd_prefix_end(const char *key, char *end, size_t size);

#endif
