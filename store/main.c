/*
 * k8c-store: an etcd v3 compatible store. This file composes the daemon:
 * etcd's flags, the MVCC layer (store/mvcc.h) as the raft state machine, the
 * raft glue (store/raft.h) and the gRPC services on the client URLs.
 *
 * Request flow. Writes (Put, DeleteRange, Txn, Compact) arrive as raw
 * protobuf bytes; they are checked for size and decodability and submitted
 * unchanged to the raft glue, which batches everything that arrives in one
 * loop iteration into one raft entry (group commit). Every peer applies the
 * entry to its MVCC in one LMDB transaction; on the proposing peer the
 * per-request responses go back to the waiting calls. Linearizable ranges wait
 * for one shared read barrier; serializable ranges are served from the local
 * MVCC at once.
 *
 * Served today: KV (Range, Put, DeleteRange, Txn, Compact), Maintenance
 * Status and Alarm (a raft write), and GET /health and /metrics on the client
 * port; Watch (store/watch.c) on every peer, from the batches it applies;
 * Lease (store/lease.c: Grant and Revoke are raft writes, the leader runs the
 * expiry timers and revokes expired leases through raft); the other
 * Maintenance methods (Hash, HashKV, Defragment, Snapshot, MoveLeader) and
 * Cluster (member add/remove/update/promote/list, member records, each
 * member publishing its name and client URLs) in store/maint.c. A follower
 * forwards writes and linearizable reads to the leader, and answers once it
 * has applied the revision the leader's answer reports (as etcd's followers
 * answer after their own apply).
 */
#include "cmd.h"
#include "lease.h"
#include "maint.h"
#include "mvcc.h"
#include "raft.h"
#include "watch.h"

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "flags.h"
#include "grpc.h"
#include "grpc_frame.h"
#include "json.h" /* k8c_arena */
#include "log.h"
#include "metrics.h"
#include "signals.h"
#include "turn.h"

#include "etcd/rpc.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_VERSION "3.4.23"

struct store_server {
    uv_loop_t *loop;
    struct store_mvcc *mvcc;
    struct store_raft *raft;
    struct k8c_grpc_server *grpc;
    struct k8c_metrics *metrics;
    struct k8c_health *health;
    struct k8c_metrics_endpoints endpoints;
    struct store_raft_peer *peers;
    size_t npeers;
    uint64_t member_id;
    uint64_t cluster_id;
    char snapshot_dir[2048];
    int64_t max_request_bytes;
    struct k8c_grpc_channel *leader_channel;
    uint64_t leader_channel_id;            /* member the channel points at */
    struct store_watch_hub *watch;         /* Watch: fed with every applied batch */
    struct store_watch_service *watch_svc; /* its gRPC method and timers */
    struct store_lease_service *leases;    /* Lease service and the leader's expiry timers */
    struct store_maint_service *maint;     /* Maintenance and Cluster services */
    /* Where requests are decoded (on_write's check, fsm_apply): reset after
     * each request, so a decode costs no malloc and free per field. */
    struct k8c_arena *write_scratch, *apply_scratch;
    struct pending *rev_waiters; /* forwarded answers waiting for a revision */
    struct k8c_turn rev_turn;    /* looks at them after applied batches */
    struct k8c_turn push_turn;   /* leader: store_raft_push_commit for forwarded calls */
    uv_work_t writeback;         /* store_mvcc_writeback on a worker (start_writeback) */
    bool writeback_busy;
    uint64_t writeback_at; /* uv_now when the last one started */
};

/* Marks a call a follower forwarded to the leader. */
#define FORWARDED_METADATA "k8c-forwarded"

/* The decoding allocator of an arena made on first use (freed at exit). */
static ProtobufCAllocator *scratch_allocator(struct k8c_arena **a)
{
    if (*a == NULL)
        *a = k8c_arena_new(0);
    return k8c_arena_protobuf_allocator(*a);
}

static struct {
    char *name, *data_dir, *listen_client_urls, *advertise_client_urls, *listen_peer_urls;
    char *initial_advertise_peer_urls, *initial_cluster, *initial_cluster_state;
    char *initial_cluster_token, *cert_file, *key_file, *trusted_ca_file, *listen_metrics_urls;
    bool client_cert_auth, strict_reconfig_check;
    int64_t max_request_bytes, quota_backend_bytes, heartbeat_ms, election_ms;
    int64_t snapshot_count;
    int verbosity;
} opt = {
    .name = "default",
    .data_dir = "",
    .listen_client_urls = "http://127.0.0.1:2379",
    .advertise_client_urls = "http://127.0.0.1:2379",
    .listen_peer_urls = "http://127.0.0.1:2380",
    .initial_advertise_peer_urls = "http://127.0.0.1:2380",
    .initial_cluster = "",
    .initial_cluster_state = "new",
    .initial_cluster_token = "etcd-cluster",
    .max_request_bytes = 1572864,
    .quota_backend_bytes = STORE_MVCC_DEFAULT_QUOTA,
    .heartbeat_ms = 100,
    .election_ms = 1000,
    .snapshot_count = 100000,
    .strict_reconfig_check = true,
};

static const struct k8c_flag flags[] = {
    {"name", K8C_FLAG_STRING, &opt.name, "Human-readable name for this member."},
    {"data-dir", K8C_FLAG_STRING, &opt.data_dir,
     "Path to the data directory (default ${name}.etcd)."},
    {"listen-client-urls", K8C_FLAG_STRING, &opt.listen_client_urls,
     "List of URLs to listen on for client traffic (http or https)."},
    {"advertise-client-urls", K8C_FLAG_STRING, &opt.advertise_client_urls,
     "List of this member's client URLs to advertise to the public."},
    {"listen-peer-urls", K8C_FLAG_STRING, &opt.listen_peer_urls,
     "List of URLs to listen on for peer traffic."},
    {"initial-advertise-peer-urls", K8C_FLAG_STRING, &opt.initial_advertise_peer_urls,
     "List of this member's peer URLs to advertise to the rest of the cluster."},
    {"initial-cluster", K8C_FLAG_STRING, &opt.initial_cluster,
     "Initial cluster configuration for bootstrapping (name=peerURL,...)."},
    {"initial-cluster-state", K8C_FLAG_STRING, &opt.initial_cluster_state,
     "Initial cluster state ('new' or 'existing')."},
    {"initial-cluster-token", K8C_FLAG_STRING, &opt.initial_cluster_token,
     "Initial cluster token for the etcd cluster during bootstrap."},
    {"cert-file", K8C_FLAG_STRING, &opt.cert_file, "Path to the client server TLS cert file."},
    {"key-file", K8C_FLAG_STRING, &opt.key_file, "Path to the client server TLS key file."},
    {"trusted-ca-file", K8C_FLAG_STRING, &opt.trusted_ca_file,
     "Path to the client server TLS trusted CA cert file."},
    {"client-cert-auth", K8C_FLAG_BOOL, &opt.client_cert_auth,
     "Enable client cert authentication."},
    {"strict-reconfig-check", K8C_FLAG_BOOL, &opt.strict_reconfig_check,
     "Reject reconfiguration requests that would cause quorum loss."},
    {"max-request-bytes", K8C_FLAG_SIZE, &opt.max_request_bytes,
     "Maximum client request size in bytes the server will accept."},
    {"quota-backend-bytes", K8C_FLAG_SIZE, &opt.quota_backend_bytes,
     "Raise alarms when backend size exceeds the given quota."},
    {"heartbeat-interval", K8C_FLAG_INT64, &opt.heartbeat_ms,
     "Time (in milliseconds) of a heartbeat interval."},
    {"election-timeout", K8C_FLAG_INT64, &opt.election_ms,
     "Time (in milliseconds) for an election to timeout."},
    {"snapshot-count", K8C_FLAG_INT64, &opt.snapshot_count,
     "Number of committed transactions to trigger a snapshot to disk."},
    {"listen-metrics-urls", K8C_FLAG_STRING, &opt.listen_metrics_urls,
     "List of URLs to listen on for the metrics and health endpoints."},
    {"v", K8C_FLAG_INT, &opt.verbosity, "Log verbosity."},
};

static struct store_server server;

/* --- the state machine: raft entries applied to the MVCC ------------------ */

static uint64_t fsm_applied_index(void *data)
{
    struct store_mvcc_status st;
    struct store_server *s = data;
    if (store_mvcc_status(s->mvcc, &st) != 0)
        return 0;
    return st.applied_index;
}

static const ProtobufCMessageDescriptor *cmd_descriptor(uint8_t type)
{
    switch (type) {
    case STORE_CMD_PUT:
        return &etcdserverpb__put_request__descriptor;
    case STORE_CMD_DELETE_RANGE:
        return &etcdserverpb__delete_range_request__descriptor;
    case STORE_CMD_TXN:
        return &etcdserverpb__txn_request__descriptor;
    case STORE_CMD_COMPACT:
        return &etcdserverpb__compaction_request__descriptor;
    case STORE_CMD_LEASE_GRANT:
        return &etcdserverpb__lease_grant_request__descriptor;
    case STORE_CMD_LEASE_REVOKE:
        return &etcdserverpb__lease_revoke_request__descriptor;
    case STORE_CMD_LEASE_CHECKPOINT:
        return &etcdserverpb__lease_checkpoint_request__descriptor;
    case STORE_CMD_ALARM:
        return &etcdserverpb__alarm_request__descriptor;
    default:
        return NULL;
    }
}

static void fill_header(Etcdserverpb__ResponseHeader *h);

/* The MVCC gives write responses a header with the revision only; the
 * proposing member adds its cluster id, member id and raft term, as etcd's
 * headers carry them. */
static void fill_response_header(ProtobufCMessage *resp)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, "header");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
        f->descriptor != &etcdserverpb__response_header__descriptor)
        return;
    Etcdserverpb__ResponseHeader *h = *(Etcdserverpb__ResponseHeader **)((char *)resp + f->offset);
    if (h != NULL)
        fill_header(h);
}

/*
 * LMDB commits without an fsync of their own (the raft log holds what was
 * committed): the pages they write stay in the page cache until the kernel
 * writes them back, or until a mark snapshot syncs the database (fsm_mark).
 * Under a steady load that sync wrote a second of commits at once, tens of
 * MB, on every member at the same time, and the raft log's own synced
 * writes waited behind it. While commits come, their writeback is started
 * every WRITEBACK_MS instead. bench/store, 1000 clients, three alternating
 * runs: 100-110k puts/s with 9-10 stalled 50 ms periods (under a third of
 * the usual puts) in 4 s, against 102-109k with 4-5.
 */
#define WRITEBACK_MS 50

static void writeback_work(uv_work_t *w)
{
    struct store_server *s = w->data;
    store_mvcc_writeback(s->mvcc);
}

static void writeback_done(uv_work_t *w, int status)
{
    struct store_server *s = w->data;
    (void)status;
    s->writeback_busy = false;
}

static void start_writeback(struct store_server *s)
{
    uint64_t now = uv_now(s->loop);
    if (s->writeback_busy || now - s->writeback_at < WRITEBACK_MS)
        return;
    s->writeback.data = s;
    if (uv_queue_work(s->loop, &s->writeback, writeback_work, writeback_done) == 0) {
        s->writeback_busy = true;
        s->writeback_at = now;
    }
}

static int fsm_apply(void *data, uint64_t index, uint64_t term, const struct store_cmd_req *reqs,
                     size_t n, struct store_raft_result *results)
{
    struct store_server *s = data;
    struct store_mvcc_events *events = NULL;
    int rv;

    if ((rv = store_mvcc_begin_batch(s->mvcc)) != 0)
        return rv;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCMessageDescriptor *desc = cmd_descriptor(reqs[i].type);
        struct store_mvcc_result res = {0};
        ProtobufCMessage *req;

        if (reqs[i].type == STORE_CMD_MEMBER_UPDATE || reqs[i].type == STORE_CMD_MEMBER_ADD ||
            reqs[i].type == STORE_CMD_MEMBER_REMOVE) {
            /* Member records (store/maint.h). */
            int status = 0;
            if ((rv = store_maint_apply_member(s->mvcc, &reqs[i], &status)) != 0) {
                store_mvcc_abort_batch(s->mvcc);
                return rv;
            }
            if (results)
                results[i].status = status;
            continue;
        }
        ProtobufCAllocator *pa = scratch_allocator(&s->apply_scratch);
        if (desc == NULL ||
            (req = protobuf_c_message_unpack(desc, pa, reqs[i].len, reqs[i].data)) == NULL) {
            k8c_arena_reset(s->apply_scratch);
            if (results)
                results[i].status = K8C_EINVAL;
            continue;
        }
        rv = store_mvcc_apply(s->mvcc, req, &res);
        if (rv == 0)
            store_lease_service_applied(s->leases, req, &res);
        k8c_arena_reset(s->apply_scratch); /* req with it */
        if (rv != 0) {
            store_mvcc_result_free(&res);
            store_mvcc_abort_batch(s->mvcc);
            return rv;
        }
        if (results) {
            results[i].status = res.err;
            if (res.err == 0 && res.resp) {
                fill_response_header(res.resp);
                /* framed for gRPC here: on_write_applied sends it as it is */
                size_t len = protobuf_c_message_get_packed_size(res.resp);
                results[i].data = k8c_buf_new(K8C_GRPC_PREFIX_SIZE + len);
                k8c_grpc_frame_prefix(results[i].data->data, len);
                protobuf_c_message_pack(res.resp, results[i].data->data + K8C_GRPC_PREFIX_SIZE);
            }
        }
        store_mvcc_result_free(&res);
    }
    rv = store_mvcc_commit_batch(s->mvcc, index, term, &events);
    store_watch_hub_notify(s->watch, events);
    if (rv == 0)
        start_writeback(s);
    if (s->rev_waiters != NULL)
        k8c_turn_arm(&s->rev_turn);
    return rv;
}

static uint64_t fsm_state_bytes(void *data)
{
    struct store_server *s = data;
    return store_mvcc_pages_bytes(s->mvcc);
}

static int fsm_snapshot(void *data, uint64_t *index, struct k8c_buf **out)
{
    struct store_server *s = data;
    char path[2100];
    struct stat st;
    int fd, rv;

    snprintf(path, sizeof(path), "%s/snapshot.tmp", s->snapshot_dir);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -errno;
    *index = fsm_applied_index(s);
    /* A raw page copy: compacting walks the whole tree, and raft snapshots
     * are frequent (raft.c snapshot_policy). */
    rv = store_mvcc_snapshot_fd(s->mvcc, fd, false);
    if (rv == 0 && fstat(fd, &st) != 0)
        rv = -errno;
    if (rv == 0) {
        *out = k8c_buf_new((size_t)st.st_size);
        if (pread(fd, (*out)->data, (size_t)st.st_size, 0) != st.st_size) {
            k8c_buf_unref(*out);
            *out = NULL;
            rv = K8C_EIO;
        }
    }
    close(fd);
    unlink(path);
    return rv;
}

static int fsm_restore(void *data, uint64_t index, const uint8_t *bytes, size_t len)
{
    struct store_server *s = data;
    char path[2100], errmsg[K8C_ERRMSG_SIZE] = "";
    int fd, rv = 0;

    snprintf(path, sizeof(path), "%s/restore.tmp", s->snapshot_dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -errno;
    if (write(fd, bytes, len) != (ssize_t)len || fsync(fd) != 0)
        rv = K8C_EIO;
    close(fd);
    if (rv == 0 && (rv = store_mvcc_restore(s->mvcc, path, errmsg)) != 0)
        k8c_log_error("restoring snapshot failed index=%" PRIu64 " err=%s", index, errmsg);
    if (rv == 0)
        store_watch_hub_reset(s->watch);
    unlink(path);
    return rv;
}

/* --- gRPC helpers ------------------------------------------------------- */

static void finish_error(struct k8c_grpc_call *call, int err)
{
    if (err == K8C_ENOTLEADER) {
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: not leader");
    } else if (err == K8C_ELEADERCHANGED) {
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: leader changed");
    } else if (err == K8C_ESHUTDOWN) {
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: server stopped");
    } else if (err == K8C_ETOOBIG) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT, "etcdserver: request is too large");
    } else {
        k8c_grpc_call_finish(call, store_mvcc_grpc_status(err), k8c_strerror(err));
    }
}

static void fill_header(Etcdserverpb__ResponseHeader *h)
{
    h->cluster_id = server.cluster_id;
    h->member_id = server.member_id;
    /* server.raft is NULL once shutdown began, while a leadership transfer still applies
     * entries (their answers go nowhere then): term 0 */
    h->raft_term = store_raft_term(server.raft);
}

/* --- KV ------------------------------------------------------------------ */

/*
 * A call waiting for something: its raft entry (write), a read barrier
 * (linearizable range) or the leader's answer (forwarded). The waiter owns
 * it until its callback runs; a cancelled call is finished at once and the
 * callback only frees.
 */
struct pending {
    struct k8c_grpc_call *call;
    bool detached;                      /* no longer attached to the call: cancelled or finished */
    Etcdserverpb__RangeRequest *range;  /* read waiting for a barrier */
    struct k8c_grpc_client_call *proxy; /* forwarded to the leader */
    struct k8c_buf *proxied;            /* the leader's response bytes */
    /* Waiting for a leader to be known here: the handler runs again when
     * retry fires. Waiting for a revision (wait_rev): retry is the deadline. */
    uv_timer_t *retry;
    k8c_grpc_message_fn handler;
    void *handler_arg;
    struct k8c_buf *request;
    int tries;
    /* A forwarded answer waiting for this member to apply its revision. */
    int64_t wait_rev;
    struct pending *wait_next;
};

/* Attempts already made for the request being dispatched (0 when fresh);
 * set while a parked request's handler runs again. */
static int dispatch_tries;

static struct pending *pending_new(struct k8c_grpc_call *call)
{
    struct pending *p = K8C_NEW(struct pending);
    p->call = call;
    k8c_grpc_call_set_data(call, p);
    return p;
}

/* Detaches p from its call before the call is finished (finishing frees the
 * call). Returns false when the call was cancelled meanwhile. */
static bool pending_detach(struct pending *p)
{
    if (p->detached)
        return false;
    p->detached = true;
    k8c_grpc_call_set_data(p->call, NULL);
    return true;
}

/* Detaches p from its call (if still attached) and frees it. */
static void pending_del(struct pending *p)
{
    pending_detach(p);
    if (p->range)
        protobuf_c_message_free_unpacked(&p->range->base, NULL);
    if (p->retry)
        uv_close((uv_handle_t *)p->retry, (uv_close_cb)k8c_free);
    k8c_buf_unref(p->proxied);
    k8c_buf_unref(p->request);
    k8c_free(p);
}

static void on_pending_cancel(struct k8c_grpc_call *call, void *arg)
{
    struct pending *p = k8c_grpc_call_data(call);
    if (p) {
        pending_detach(p);
        if (p->proxy)
            k8c_grpc_client_call_cancel(p->proxy);
    }
    k8c_grpc_call_finish(call, K8C_GRPC_CANCELLED, "context canceled");
}

/* A call a follower forwarded (forward_to_leader) is answered here: the
 * follower answers it once it has applied the revision, so the commit index
 * goes to the followers at once (store_raft_push_commit), at the end of the
 * turn (when the entries proposed in it are on their way, and carry it). */
static void push_commit_if_forwarded(struct k8c_grpc_call *call)
{
    if (k8c_grpc_call_metadata(call, FORWARDED_METADATA) != NULL)
        k8c_turn_arm(&server.push_turn);
}

static void on_push_turn(struct k8c_turn *t)
{
    (void)t;
    if (server.raft != NULL)
        store_raft_push_commit(server.raft);
}

static void on_write_applied(void *arg, int status, struct store_raft_result *result)
{
    struct pending *p = arg;

    if (pending_detach(p)) {
        push_commit_if_forwarded(p->call);
        if (status != 0)
            finish_error(p->call, status);
        else if (result->status != 0)
            finish_error(p->call, result->status);
        else if (result->data == NULL)
            finish_error(p->call, K8C_EIO);
        else {
            k8c_grpc_call_send_framed(p->call, result->data);
            k8c_grpc_call_finish(p->call, K8C_GRPC_OK, NULL);
        }
    }
    pending_del(p);
}

/* --- forwarding to the leader --------------------------------------------- */

/* "host:port" of a client URL in target (*tls for https); false if it has
 * no host. */
static bool url_target(const char *url, size_t len, char *target, size_t size, bool *tls)
{
    *tls = len >= 8 && strncmp(url, "https://", 8) == 0;
    size_t skip = *tls ? 8 : (len >= 7 && strncmp(url, "http://", 7) == 0 ? 7 : 0);
    size_t n = skip;
    while (n < len && url[n] != '/' && url[n] != ',' && url[n] != '\n')
        n++;
    if (n == skip || n - skip >= size)
        return false;
    memcpy(target, url + skip, n - skip);
    target[n - skip] = '\0';
    return true;
}

/* The first client URL member id published through raft, as "host:port" in
 * target (*tls for https); false when its record is not applied here. */
static bool member_target(uint64_t id, char *target, size_t size, bool *tls)
{
    struct store_mvcc_member *members = NULL;
    size_t n = 0;
    bool found = false;

    target[0] = '\0';
    if (store_mvcc_member_list(server.mvcc, &members, &n) != 0)
        return false;
    for (size_t i = 0; i < n && !found; i++) {
        const char *rec = (const char *)members[i].data, *end = rec + members[i].len, *url;
        if (members[i].id != id)
            continue;
        /* name \n peer URLs \n client URLs */
        url = memchr(rec, '\n', members[i].len);
        url = url ? memchr(url + 1, '\n', (size_t)(end - url - 1)) : NULL;
        if (url != NULL)
            found = url_target(url + 1, (size_t)(end - url - 1), target, size, tls);
    }
    store_mvcc_members_free(members, n);
    return found;
}

/* Channel options for a member's client URL: our client credentials for
 * https. */
static void member_channel_options(bool tls, struct k8c_grpc_channel_options *copts)
{
    memset(copts, 0, sizeof(*copts));
    if (tls) {
        copts->ca_file = opt.trusted_ca_file;
        copts->cert_file = opt.cert_file;
        copts->key_file = opt.key_file;
    }
    copts->max_receive_message = (size_t)server.max_request_bytes + 64 * 1024 * 1024;
    /* A member that hangs (stopped, cut off) fails the calls to it within two
     * to three election timeouts, as the cluster replaces a leader that does:
     * a forward to it then answers UNAVAILABLE, and the client tries again,
     * where it waited for the forward's 5 s timeout. */
    copts->keepalive_ms = (unsigned)(opt.election_ms > 100 ? opt.election_ms : 100);
}

/* A channel to a member's client URL, with our client credentials for https. */
static struct k8c_grpc_channel *member_channel_new(uint64_t id)
{
    struct k8c_grpc_channel_options copts;
    char target[256], errmsg[K8C_ERRMSG_SIZE];
    bool tls = false;
    struct k8c_grpc_channel *ch;

    if (!member_target(id, target, sizeof(target), &tls))
        return NULL;
    member_channel_options(tls, &copts);
    ch = k8c_grpc_channel_new(server.loop, target, &copts, errmsg);
    if (ch == NULL)
        k8c_log_warn("cannot reach member id=%" PRIx64 " target=%s err=%s", id, target, errmsg);
    return ch;
}

/* --- mark snapshots: the state stays in LMDB (store/raft.h) -------------- */

#define FETCH_TIMEOUT_MS 60000 /* without a message: the peer's copy comes first */

/* The mark names this member and its first client URL. */
static int fsm_mark(void *data, uint64_t *index, struct k8c_buf **out)
{
    struct store_server *s = data;
    const char *url = opt.advertise_client_urls;
    size_t len = strcspn(url, ",");
    char text[2200];
    int rv, n;

    *index = fsm_applied_index(s);
    if ((rv = store_mvcc_sync(s->mvcc)) != 0)
        return rv;
    n = snprintf(text, sizeof(text), "%016" PRIx64 " %.*s", s->member_id, (int)len, url);
    if (n < 0 || (size_t)n >= sizeof(text))
        return K8C_EINVAL;
    *out = k8c_buf_new((size_t)n);
    memcpy((*out)->data, text, (size_t)n);
    return 0;
}

/* Copies the state from target into LMDB; 0 once it holds index. */
static int fetch_from(struct store_server *s, const char *target, bool tls, uint64_t index)
{
    struct k8c_grpc_channel_options copts;
    char path[2100], errmsg[K8C_ERRMSG_SIZE] = "";
    int rv;

    snprintf(path, sizeof(path), "%s/fetch.tmp", s->snapshot_dir);
    member_channel_options(tls, &copts);
    uint64_t held = 0;
    rv = store_maint_fetch_snapshot(target, &copts, path, FETCH_TIMEOUT_MS, errmsg);
    if (rv == 0)
        rv = store_mvcc_snapshot_applied(path, &held, errmsg);
    /* A member that is behind would take this one back: keep ours then. */
    if (rv == 0 && held < index) {
        snprintf(errmsg, sizeof(errmsg), "its state is at index %" PRIu64, held);
        rv = K8C_EIO;
    }
    if (rv == 0 && (rv = store_mvcc_restore(s->mvcc, path, errmsg)) == 0)
        store_watch_hub_reset(s->watch);
    unlink(path);
    if (rv != 0)
        k8c_log_warn("cannot fetch the state for a raft snapshot target=%s index=%" PRIu64
                     " err=%s",
                     target, index, errmsg);
    return rv;
}

/* The member id a mark starts with ("%016x "); false if it does not. The
 * mark comes from a peer or the disk, without a NUL: no sscanf. */
static bool mark_member(const uint8_t *mark, size_t len, uint64_t *id)
{
    *id = 0;
    if (len <= 17 || mark[16] != ' ')
        return false;
    for (size_t i = 0; i < 16; i++) {
        uint8_t c = mark[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        *id = *id << 4 | (uint64_t)d;
    }
    return true;
}

/* Installs a peer's mark: the state from the member it names, else from any
 * other member this one knows. Blocks the loop while copying. */
static int fsm_fetch(void *data, uint64_t index, const uint8_t *mark, size_t len)
{
    struct store_server *s = data;
    struct store_mvcc_member *members = NULL;
    char target[256];
    uint64_t from = 0;
    size_t n = 0;
    bool tls;

    if (mark_member(mark, len, &from) && from != s->member_id &&
        url_target((const char *)mark + 17, len - 17, target, sizeof(target), &tls) &&
        fetch_from(s, target, tls, index) == 0)
        return 0;
    if (store_mvcc_member_list(s->mvcc, &members, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (members[i].id == s->member_id || members[i].id == from ||
                !member_target(members[i].id, target, sizeof(target), &tls))
                continue;
            if (fetch_from(s, target, tls, index) == 0) {
                store_mvcc_members_free(members, n);
                return 0;
            }
        }
        store_mvcc_members_free(members, n);
    }
    k8c_log_error("no member could send the state of raft snapshot index=%" PRIu64, index);
    return K8C_EIO;
}

/* The channel to the current leader's client URL, from the member record the
 * leader published through raft; NULL when there is no leader or its record
 * has not been applied here yet. */
static struct k8c_grpc_channel *leader_channel(void)
{
    uint64_t leader = store_raft_leader(server.raft, NULL);

    if (leader == 0 || leader == server.member_id)
        return NULL;
    if (server.leader_channel && server.leader_channel_id == leader)
        return server.leader_channel;
    if (server.leader_channel)
        k8c_grpc_channel_del(server.leader_channel);
    server.leader_channel = member_channel_new(leader);
    server.leader_channel_id = server.leader_channel ? leader : 0;
    return server.leader_channel;
}

/* --- read index: the other voters confirm the leader ---------------------- */

#define READ_INDEX_METHOD     "/k8c.store.Internal/ReadIndex"
#define READ_INDEX_TIMEOUT_MS 1000
#define MAX_PEER_CHANNELS     16

static struct {
    uint64_t id;
    struct k8c_grpc_channel *ch;
} peer_channels[MAX_PEER_CHANNELS];

static struct k8c_grpc_channel *peer_channel(uint64_t id)
{
    size_t free_slot = MAX_PEER_CHANNELS;
    for (size_t i = 0; i < MAX_PEER_CHANNELS; i++) {
        if (peer_channels[i].ch != NULL && peer_channels[i].id == id)
            return peer_channels[i].ch;
        if (peer_channels[i].ch == NULL && free_slot == MAX_PEER_CHANNELS)
            free_slot = i;
    }
    if (free_slot == MAX_PEER_CHANNELS)
        return NULL;
    peer_channels[free_slot].ch = member_channel_new(id);
    peer_channels[free_slot].id = id;
    return peer_channels[free_slot].ch;
}

static void peer_channels_close(void)
{
    for (size_t i = 0; i < MAX_PEER_CHANNELS; i++)
        if (peer_channels[i].ch != NULL) {
            k8c_grpc_channel_del(peer_channels[i].ch);
            peer_channels[i].ch = NULL;
        }
}

/* One round: calls to the other voters; done once a quorum is known either way. */
struct confirm_round {
    store_raft_confirm_done done;
    void *ctx;
    unsigned need;    /* yes answers needed besides ours */
    unsigned yes, no; /* answers so far */
    unsigned asked, pending;
    bool finished;
};

static void on_confirm_answer(struct k8c_grpc_client_call *cc, int status, const char *message,
                              void *arg)
{
    struct confirm_round *r = arg;
    if (status == K8C_GRPC_OK)
        r->yes++;
    else
        r->no++;
    if (!r->finished && (r->yes >= r->need || r->asked - r->no < r->need)) {
        r->finished = true;
        r->done(r->ctx, r->yes >= r->need);
    }
    if (--r->pending == 0)
        k8c_free(r);
}

static int confirm_leadership(void *arg, uint64_t term, store_raft_confirm_done done, void *ctx)
{
    struct store_raft_member rm[MAX_PEER_CHANNELS];
    if (server.raft == NULL)
        return K8C_ESHUTDOWN; /* stopping (a leadership transfer runs on): raft's own barrier */
    size_t n = store_raft_members(server.raft, rm, MAX_PEER_CHANNELS), voters = 0;
    struct k8c_grpc_client_call *calls[MAX_PEER_CHANNELS];
    size_t ncalls = 0;
    uint8_t payload[16];

    if (n > MAX_PEER_CHANNELS)
        return K8C_EINVAL;
    for (size_t i = 0; i < n; i++)
        voters += rm[i].voter;
    if (voters < 2)
        return K8C_EINVAL; /* alone: the barrier costs no network */
    struct confirm_round *r = K8C_NEW(struct confirm_round);
    r->done = done;
    r->ctx = ctx;
    r->need = (unsigned)(voters / 2); /* a majority of voters, counting ourselves */
    for (int b = 0; b < 8; b++) {
        payload[b] = (uint8_t)(term >> (8 * b));
        payload[8 + b] = (uint8_t)(server.member_id >> (8 * b));
    }
    for (size_t i = 0; i < n; i++) {
        struct k8c_grpc_channel *ch;
        struct k8c_grpc_call_options copts = {0};
        char errmsg[K8C_ERRMSG_SIZE];
        if (!rm[i].voter || rm[i].id == server.member_id || (ch = peer_channel(rm[i].id)) == NULL)
            continue;
        copts.path = READ_INDEX_METHOD;
        copts.timeout_ms = READ_INDEX_TIMEOUT_MS;
        copts.on_done = on_confirm_answer;
        copts.arg = r;
        if ((calls[ncalls] = k8c_grpc_channel_call(ch, &copts, errmsg)) != NULL)
            ncalls++;
    }
    if (ncalls < r->need) {
        for (size_t i = 0; i < ncalls; i++)
            k8c_grpc_client_call_cancel(calls[i]); /* on_done from the loop */
        r->finished = true;
        r->asked = r->pending = (unsigned)ncalls;
        if (ncalls == 0)
            k8c_free(r);
        return K8C_EIO;
    }
    r->asked = r->pending = (unsigned)ncalls;
    for (size_t i = 0; i < ncalls; i++) {
        k8c_grpc_client_call_send_bytes(calls[i], payload, sizeof(payload));
        k8c_grpc_client_call_close_send(calls[i]);
    }
    return 0;
}

/* A leader asks: am I your leader in this term? Yes when this member's term
 * is that term and it follows that leader (it has voted for no one newer). */
static void on_read_index(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    uint64_t term = 0, leader = 0;
    if (msg->len != 16) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT, "malformed read index request");
        return;
    }
    for (int b = 7; b >= 0; b--) {
        term = (term << 8) | msg->data[b];
        leader = (leader << 8) | msg->data[8 + b];
    }
    if (store_raft_term(server.raft) != term || store_raft_leader(server.raft, NULL) != leader) {
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION, "not following that leader");
        return;
    }
    k8c_grpc_call_send_bytes(call, "", 0);
    k8c_grpc_call_finish(call, K8C_GRPC_OK, NULL);
}

static void on_proxy_message(struct k8c_grpc_client_call *cc, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct pending *p = arg;
    k8c_buf_unref(p->proxied);
    p->proxied = k8c_buf_copy(msg->data, msg->len);
}

/*
 * etcd answers a write sent to a follower once the follower has applied it,
 * so a serializable read there right after sees the write (and a read at a
 * revision the leader reported is not "future"). The leader's answer waits
 * in server.rev_waiters until this member's revision reaches the one in its
 * header, for at most two election timeouts (a member cut off from raft but
 * not from the leader's gRPC answers then, as the write did commit).
 */
static void proxy_answer(struct pending *p, int status, const char *message);
static bool may_park(int tries);
static void park(struct pending *p);

/* The revision in a response's header (field 1, a ResponseHeader, whose
 * field 3 it is), or 0. Every etcd response has its header first. */
static int64_t header_revision(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    uint64_t key, len, v;
    if (k8c_codec_varint_get(&p, end, &key) != 0 || key != (1 << 3 | 2) ||
        k8c_codec_varint_get(&p, end, &len) != 0 || len > (uint64_t)(end - p))
        return 0;
    for (end = p + len; p < end;) {
        /* the header holds varints only */
        if (k8c_codec_varint_get(&p, end, &key) != 0 || (key & 7) != 0 ||
            k8c_codec_varint_get(&p, end, &v) != 0)
            return 0;
        if (key >> 3 == 3)
            return (int64_t)v;
    }
    return 0;
}

static int64_t local_revision(void)
{
    struct store_mvcc_status st;
    return store_mvcc_status(server.mvcc, &st) == 0 ? st.revision : 0;
}

static void rev_wait_unlink(struct pending *p)
{
    for (struct pending **pp = &server.rev_waiters; *pp != NULL; pp = &(*pp)->wait_next) {
        if (*pp == p) {
            *pp = p->wait_next;
            return;
        }
    }
}

static void on_rev_wait_timeout(uv_timer_t *t)
{
    struct pending *p = t->data;
    rev_wait_unlink(p);
    proxy_answer(p, K8C_GRPC_OK, NULL);
}

/* After an applied batch: the waiting answers whose revision is here. */
static void on_rev_turn(struct k8c_turn *t)
{
    (void)t;
    int64_t rev = local_revision();
    for (struct pending **pp = &server.rev_waiters; *pp != NULL;) {
        struct pending *p = *pp;
        if (p->wait_rev > rev) {
            pp = &p->wait_next;
            continue;
        }
        *pp = p->wait_next;
        proxy_answer(p, K8C_GRPC_OK, NULL);
    }
}

static void on_proxy_done(struct k8c_grpc_client_call *cc, int status, const char *message,
                          void *arg)
{
    struct pending *p = arg;
    p->proxy = NULL; /* done: nothing to cancel */
    if (status == K8C_GRPC_UNAVAILABLE && k8c_grpc_client_call_unsent(cc) && !p->detached &&
        p->handler != NULL && may_park(p->tries)) {
        k8c_log_v(1, "leader unreachable, forwarding again err=\"%s\"", message);
        park(p);
        return;
    }
    /* Cancelled while the call is still ours: a new leader was learnt and the
     * channel to the old one closed under the forward (leader_channel), which
     * may or may not have been applied: etcd's answer for that. */
    if (status == K8C_GRPC_CANCELLED && !p->detached) {
        status = K8C_GRPC_UNAVAILABLE;
        message = "etcdserver: leader changed";
    }
    if (status == K8C_GRPC_OK && p->proxied != NULL && !p->detached) {
        int64_t rev = header_revision((const uint8_t *)p->proxied->data, p->proxied->len);
        if (rev > local_revision()) {
            p->wait_rev = rev;
            p->wait_next = server.rev_waiters;
            server.rev_waiters = p;
            p->retry = K8C_NEW(uv_timer_t);
            uv_timer_init(server.loop, p->retry);
            p->retry->data = p;
            uv_timer_start(p->retry, on_rev_wait_timeout, (uint64_t)(2 * opt.election_ms), 0);
            return;
        }
    }
    proxy_answer(p, status, message);
}

static void proxy_answer(struct pending *p, int status, const char *message)
{
    if (pending_detach(p)) {
        if (status == K8C_GRPC_OK && p->proxied) {
            k8c_grpc_call_send_bytes(p->call, p->proxied->data, p->proxied->len);
            k8c_grpc_call_finish(p->call, K8C_GRPC_OK, NULL);
        } else {
            k8c_grpc_call_finish(p->call, status == K8C_GRPC_OK ? K8C_GRPC_INTERNAL : status,
                                 message && message[0] ? message : "etcdserver: leader changed");
        }
    }
    pending_del(p);
}

static void on_retry(uv_timer_t *t)
{
    struct pending *p = t->data;
    struct k8c_grpc_message msg = {p->request->data, p->request->len, NULL};

    if (pending_detach(p)) {
        dispatch_tries = p->tries;
        p->handler(p->call, &msg, p->handler_arg);
        dispatch_tries = 0;
    }
    pending_del(p);
}

/* Whether this member knows a leader (itself included). */
static bool knows_leader(void)
{
    return server.raft != NULL && store_raft_leader(server.raft, NULL) != 0;
}

/* Whether a request parked (tries) times may wait once more: for up to three
 * election timeouts in all, 50 ms at a time. A leader that dies is replaced
 * within that: the followers notice it one to two timeouts after its last
 * heartbeat (randomized), then a vote round. */
static bool may_park(int tries)
{
    return tries * 50 < 3 * opt.election_ms && server.grpc != NULL;
}

/* Runs p's handler again in 50 ms, with dispatch_tries one more. */
static void park(struct pending *p)
{
    p->tries++;
    p->retry = K8C_NEW(uv_timer_t);
    uv_timer_init(server.loop, p->retry);
    p->retry->data = p;
    uv_timer_start(p->retry, on_retry, 50, 0);
}

/* Forwards a request this follower cannot serve to the leader, as is. While
 * no leader (or not its address) is known here, as right after an election,
 * or the leader it knows cannot be reached (a forward that failed before its
 * connection was up: the leader never saw it), the request waits and its
 * handler runs again, for up to three election timeouts (may_park); then
 * the call gets etcd's "no leader" error, or the forward's. */
static void forward_to_leader(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                              k8c_grpc_message_fn handler, void *handler_arg)
{
    struct k8c_grpc_channel *ch = leader_channel();
    struct k8c_grpc_call_options copts = {0};
    char errmsg[K8C_ERRMSG_SIZE];
    struct pending *p;

    if (ch == NULL && !may_park(dispatch_tries)) {
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: no leader");
        return;
    }
    p = pending_new(call);
    p->handler = handler;
    p->handler_arg = handler_arg;
    p->request = k8c_buf_copy(msg->data, msg->len);
    p->tries = dispatch_tries;
    if (ch == NULL) {
        park(p);
        return;
    }
    static const char *const metadata[] = {FORWARDED_METADATA, "1", NULL};
    copts.path = k8c_grpc_call_path(call);
    copts.metadata = metadata;
    copts.timeout_ms = 5000;
    copts.on_message = on_proxy_message;
    copts.on_done = on_proxy_done;
    copts.arg = p;
    p->proxy = k8c_grpc_channel_call(ch, &copts, errmsg);
    if (p->proxy == NULL) {
        pending_del(p);
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, errmsg);
        return;
    }
    k8c_grpc_client_call_send_bytes(p->proxy, msg->data, msg->len);
    k8c_grpc_client_call_close_send(p->proxy);
}

static void on_write(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    enum store_cmd_type type = (enum store_cmd_type)(uintptr_t)arg;
    const ProtobufCMessageDescriptor *desc = cmd_descriptor((uint8_t)type);
    ProtobufCMessage *req;
    struct pending *p;
    static uint64_t next_id;
    int rv;

    if ((int64_t)msg->len > server.max_request_bytes) {
        finish_error(call, K8C_ETOOBIG);
        return;
    }
    /* Decode once here so garbage never reaches the log. */
    req = protobuf_c_message_unpack(desc, scratch_allocator(&server.write_scratch), msg->len,
                                    msg->data);
    bool full = req != NULL && type == STORE_CMD_PUT &&
                !store_mvcc_quota_available(server.mvcc, store_mvcc_request_cost(req));
    k8c_arena_reset(server.write_scratch); /* req with it */
    if (req == NULL) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT,
                             "grpc: error unmarshalling request: invalid protobuf");
        return;
    }
    if (full) {
        store_maint_raise_nospace(server.maint); /* etcd's quotaAlarmer */
        k8c_grpc_call_finish(call, K8C_GRPC_RESOURCE_EXHAUSTED,
                             "etcdserver: mvcc: database space exceeded");
        return;
    }
    if (!store_raft_is_leader(server.raft)) {
        forward_to_leader(call, msg, on_write, arg);
        return;
    }
    p = pending_new(call);
    if (type == STORE_CMD_LEASE_GRANT) /* the leader picks the ID of a grant without one */
        rv = store_lease_service_submit_grant(server.leases, ++next_id, msg->data, msg->len,
                                              on_write_applied, p);
    else
        rv = store_raft_submit(server.raft, type, ++next_id, msg->data, msg->len, on_write_applied,
                               p);
    if (rv != 0) {
        pending_del(p);
        finish_error(call, rv);
    }
}

static void serve_range(struct k8c_grpc_call *call, const Etcdserverpb__RangeRequest *req)
{
    if (!req->serializable) /* a follower forwards only these */
        push_commit_if_forwarded(call);
    struct k8c_buf *frame = NULL;
    int rv = store_mvcc_range_frame(server.mvcc, req, fill_header, &frame);

    if (rv != 0) {
        finish_error(call, rv);
        return;
    }
    if (k8c_grpc_call_send_framed(call, frame) == 0)
        k8c_grpc_call_finish(call, K8C_GRPC_OK, NULL);
    else
        k8c_grpc_call_finish(call, K8C_GRPC_INTERNAL, "failed to send the reply");
    k8c_buf_unref(frame);
}

static void on_read_ready(void *arg, int status)
{
    struct pending *p = arg;
    if (pending_detach(p)) {
        if (status != 0)
            finish_error(p->call, status);
        else
            serve_range(p->call, p->range);
    }
    pending_del(p);
}

static void on_range(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    Etcdserverpb__RangeRequest *req;
    struct pending *p;
    int rv;

    req = etcdserverpb__range_request__unpack(NULL, msg->len, msg->data);
    if (req == NULL) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT,
                             "grpc: error unmarshalling request: invalid protobuf");
        return;
    }
    if (req->serializable) {
        serve_range(call, req);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return;
    }
    if (!store_raft_is_leader(server.raft)) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        forward_to_leader(call, msg, on_range, arg);
        return;
    }
    p = pending_new(call);
    p->range = req;
    rv = store_raft_read_index(server.raft, on_read_ready, p);
    if (rv != 0) {
        pending_del(p);
        finish_error(call, rv);
    }
}

/* --- Maintenance and Cluster ---------------------------------------------- */

static void on_status(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    Etcdserverpb__StatusResponse resp = ETCDSERVERPB__STATUS_RESPONSE__INIT;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    struct store_raft_status rst;
    struct store_mvcc_status mst;
    char errors[8][128], *error_ptrs[8];

    store_raft_get_status(server.raft, &rst);
    store_mvcc_status(server.mvcc, &mst);
    fill_header(&header);
    header.revision = mst.revision;
    resp.header = &header;
    resp.version = STORE_VERSION;
    resp.dbsize = mst.db_size;
    resp.leader = rst.leader_id;
    resp.raftindex = rst.commit_index;
    resp.raftterm = rst.term;
    resp.raftappliedindex = rst.applied_index;
    resp.dbsizeinuse = mst.db_size_in_use;
    store_maint_fill_status(server.maint, &resp, errors, error_ptrs, 8); /* alarms, learner */
    k8c_grpc_call_reply(call, &resp.base);
}

/* --- etcd's server and mvcc gauges, by the names its dashboards use ------- */

enum etcd_gauge {
    G_HAS_LEADER,
    G_IS_LEADER,
    G_COMMITTED,
    G_APPLIED,
    G_LEADER_CHANGES, /* the last read from the raft status */
    G_DB_SIZE,
    G_DB_IN_USE,
    G_QUOTA,
    G_REVISION,
};

/* Read at scrape time (the registry is locked: nothing here touches it). */
static double etcd_gauge(void *arg)
{
    struct store_raft_status rst;
    struct store_mvcc_status mst;
    enum etcd_gauge g = (enum etcd_gauge)(intptr_t)arg;

    if (g <= G_LEADER_CHANGES) {
        store_raft_get_status(server.raft, &rst);
        return g == G_HAS_LEADER  ? rst.leader_id != 0
               : g == G_IS_LEADER ? rst.role == STORE_RAFT_LEADER
               : g == G_COMMITTED ? (double)rst.commit_index
               : g == G_APPLIED   ? (double)rst.applied_index
                                  : (double)rst.leader_changes;
    }
    if (g == G_QUOTA)
        return (double)opt.quota_backend_bytes;
    if (store_mvcc_status(server.mvcc, &mst) != 0)
        return 0;
    return g == G_DB_SIZE     ? (double)mst.db_size
           : g == G_DB_IN_USE ? (double)mst.db_size_in_use
                              : (double)mst.revision;
}

static void register_etcd_gauges(struct k8c_metrics *reg)
{
    static const struct {
        const char *name, *help;
        enum etcd_gauge g;
    } gauges[] = {
        {"etcd_server_has_leader", "1 when this member knows a leader, else 0.", G_HAS_LEADER},
        {"etcd_server_is_leader", "1 when this member is the leader, else 0.", G_IS_LEADER},
        {"etcd_server_proposals_committed_total", "Raft index this member knows to be committed.",
         G_COMMITTED},
        {"etcd_server_proposals_applied_total", "Raft index this member has applied.", G_APPLIED},
        {"etcd_mvcc_db_total_size_in_bytes", "Size of the database file in bytes.", G_DB_SIZE},
        {"etcd_mvcc_db_total_size_in_use_in_bytes",
         "Bytes of the database file's pages in use (free pages not counted).", G_DB_IN_USE},
        {"etcd_server_quota_backend_bytes", "The storage quota (--quota-backend-bytes) in bytes.",
         G_QUOTA},
        {"etcd_debugging_mvcc_current_revision", "The current revision of the key space.",
         G_REVISION},
    };
    for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
        k8c_metrics_gauge_func(reg, gauges[i].name, gauges[i].help, etcd_gauge,
                               (void *)(intptr_t)gauges[i].g);
    k8c_metrics_counter_func(reg, "etcd_server_leader_changes_seen_total",
                             "The number of leader changes seen.", etcd_gauge,
                             (void *)(intptr_t)G_LEADER_CHANGES);
}

/* --- HTTP on the client port ---------------------------------------------- */

static int health_raft(void *arg, char *errmsg)
{
    if (store_raft_leader(server.raft, NULL) == 0) {
        k8c_errmsg_printf(errmsg, "no leader");
        return -1;
    }
    return 0;
}

static int on_http(void *arg, const char *method, const char *path, const char *query, int *status,
                   const char **content_type, struct k8c_sbuf *body)
{
    if (strcmp(path, "/health") == 0) {
        bool ok = store_raft_leader(server.raft, NULL) != 0;
        *status = ok ? 200 : 503;
        *content_type = "application/json";
        k8c_sbuf_puts(body, ok ? "{\"health\":\"true\"}" : "{\"health\":\"false\"}");
        return 1;
    }
    if (strcmp(path, "/version") == 0) {
        *status = 200;
        *content_type = "application/json";
        k8c_sbuf_puts(body, "{\"etcdserver\":\"" STORE_VERSION "\",\"etcdcluster\":\"3.4.0\"}");
        return 1;
    }
    return k8c_metrics_http_handler(&server.endpoints, method, path, query, status, content_type,
                                    body);
}

/* --- startup -------------------------------------------------------------- */

static const struct {
    const char *path;
    k8c_grpc_message_fn fn;
    k8c_grpc_call_fn cancel;
    uintptr_t arg;
} unary_methods[] = {
    {"/etcdserverpb.KV/Range", on_range, on_pending_cancel, 0},
    {"/etcdserverpb.KV/Put", on_write, on_pending_cancel, STORE_CMD_PUT},
    {"/etcdserverpb.KV/DeleteRange", on_write, on_pending_cancel, STORE_CMD_DELETE_RANGE},
    {"/etcdserverpb.KV/Txn", on_write, on_pending_cancel, STORE_CMD_TXN},
    {"/etcdserverpb.KV/Compact", on_write, on_pending_cancel, STORE_CMD_COMPACT},
    {"/etcdserverpb.Lease/LeaseGrant", on_write, on_pending_cancel, STORE_CMD_LEASE_GRANT},
    {"/etcdserverpb.Lease/LeaseRevoke", on_write, on_pending_cancel, STORE_CMD_LEASE_REVOKE},
    {"/etcdserverpb.Maintenance/Status", on_status, NULL, 0},
    {"/etcdserverpb.Maintenance/Alarm", on_write, on_pending_cancel, STORE_CMD_ALARM},
    {READ_INDEX_METHOD, on_read_index, NULL, 0},
};

/* "http://127.0.0.1:2379" -> "127.0.0.1:2379"; *tls set for https. */
static int parse_client_url(const char *url, char *addr, size_t size, bool *tls, char *errmsg)
{
    const char *hostport;
    if (strncmp(url, "http://", 7) == 0) {
        *tls = false;
        hostport = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        *tls = true;
        hostport = url + 8;
    } else {
        k8c_errmsg_printf(errmsg, "URL scheme must be http or https: %.100s", url);
        return K8C_EINVAL;
    }
    if (snprintf(addr, size, "%s", hostport) >= (int)size || strchr(addr, ':') == NULL) {
        k8c_errmsg_printf(errmsg, "expected host:port in URL %.100s", url);
        return K8C_EINVAL;
    }
    if (strchr(addr, '/'))
        *strchr(addr, '/') = '\0';
    return 0;
}

static void on_shutdown_done(void *arg)
{
    k8c_log_info("raft stopped");
}

static void on_signal(void *arg)
{
    struct store_server *s = arg;
    k8c_signals_close();
    store_maint_service_stop(s->maint);
    store_watch_service_close(s->watch_svc);
    store_lease_service_stop(s->leases);
    if (s->leader_channel) {
        k8c_grpc_channel_del(s->leader_channel);
        s->leader_channel = NULL;
    }
    peer_channels_close(); /* unfinished read-index rounds end here */
    /* Answers waiting for this member to catch up go now, as they are. */
    while (s->rev_waiters != NULL) {
        struct pending *p = s->rev_waiters;
        s->rev_waiters = p->wait_next;
        proxy_answer(p, K8C_GRPC_OK, NULL);
    }
    k8c_turn_close(&s->rev_turn, NULL);
    k8c_turn_close(&s->push_turn, NULL);
    if (s->grpc) {
        k8c_grpc_server_del(s->grpc);
        s->grpc = NULL;
    }
    if (s->raft) {
        store_raft_close(s->raft, true, on_shutdown_done, NULL);
        s->raft = NULL;
    }
}

/* This member was removed from the cluster: stop as on SIGTERM, from the
 * loop (the maint service's tick is on the stack). */
static void on_removed_idle(uv_idle_t *h)
{
    uv_idle_stop(h);
    uv_close((uv_handle_t *)h, (uv_close_cb)k8c_free);
    on_signal(&server);
}

static void on_removed(void)
{
    uv_idle_t *h = K8C_NEW(uv_idle_t);
    uv_idle_init(server.loop, h);
    uv_idle_start(h, on_removed_idle);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

int main(int argc, char **argv)
{
    char errmsg[K8C_ERRMSG_SIZE] = "", dir[2048], addr[256], self_addr[64];
    struct store_mvcc_options mopts = {0};
    struct store_raft_config rcfg = {0};
    struct store_fsm fsm = {0};
    int first, rv;

    k8c_log_init("store");
    rv = k8c_flags_parse(flags, sizeof(flags) / sizeof(flags[0]), argc, argv, &first, errmsg);
    if (rv == 1)
        return 0;
    if (rv != 0 || first != argc) {
        fprintf(stderr, "error: %s\n", rv ? errmsg : "unexpected positional argument");
        return 2;
    }
    k8c_log_verbosity = opt.verbosity;
    if (opt.data_dir[0] == '\0') {
        static char def[256];
        snprintf(def, sizeof(def), "%s.etcd", opt.name);
        opt.data_dir = def;
    }
    if (opt.initial_cluster[0] == '\0') {
        static char def[512];
        snprintf(def, sizeof(def), "%s=%s", opt.name, opt.initial_advertise_peer_urls);
        opt.initial_cluster = def;
    }
    if (strcmp(opt.initial_cluster_state, "new") != 0 &&
        strcmp(opt.initial_cluster_state, "existing") != 0) {
        fprintf(stderr, "error: --initial-cluster-state must be 'new' or 'existing'\n");
        return 2;
    }
    if (opt.client_cert_auth && !opt.trusted_ca_file) {
        fprintf(stderr, "error: --client-cert-auth needs --trusted-ca-file\n");
        return 2;
    }
    if (store_raft_parse_initial_cluster(opt.initial_cluster, &server.peers, &server.npeers,
                                         errmsg) != 0) {
        fprintf(stderr, "error: --initial-cluster: %s\n", errmsg);
        return 2;
    }
    if (store_raft_url_to_address(opt.initial_advertise_peer_urls, self_addr, sizeof(self_addr),
                                  errmsg) != 0) {
        fprintf(stderr, "error: --initial-advertise-peer-urls: %s\n", errmsg);
        return 2;
    }
    server.member_id = store_raft_member_id(self_addr);
    server.cluster_id = fnv1a(opt.initial_cluster_token) >> 1;
    server.max_request_bytes = opt.max_request_bytes;

    server.loop = uv_default_loop();
    k8c_turn_init(server.loop, &server.rev_turn, on_rev_turn, &server, 0);
    k8c_turn_init(server.loop, &server.push_turn, on_push_turn, &server, 0);
    mkdir(opt.data_dir, 0700);
    snprintf(dir, sizeof(dir), "%s/member", opt.data_dir);
    mkdir(dir, 0700);
    snprintf(server.snapshot_dir, sizeof(server.snapshot_dir), "%s/member", opt.data_dir);
    snprintf(dir, sizeof(dir), "%s/member/mvcc", opt.data_dir);
    mopts.dir = dir;
    mopts.quota_bytes = opt.quota_backend_bytes;
    mopts.min_lease_ttl = (3 * opt.election_ms / 2 + 999) / 1000;
    if ((rv = store_mvcc_open(&mopts, &server.mvcc, errmsg)) != 0) {
        k8c_log_error("cannot open the store dir=%s err=%s", dir, errmsg);
        return 1;
    }
    if ((rv = store_watch_hub_new(server.mvcc, NULL, &server.watch)) != 0) {
        k8c_log_error("cannot start the watch hub err=%s", k8c_strerror(rv));
        return 1;
    }

    fsm.data = &server;
    fsm.applied_index = fsm_applied_index;
    fsm.apply = fsm_apply;
    fsm.snapshot = fsm_snapshot;
    fsm.restore = fsm_restore;
    fsm.state_bytes = fsm_state_bytes;
    fsm.mark = fsm_mark;
    fsm.fetch = fsm_fetch;
    snprintf(dir, sizeof(dir), "%s/member/raft", opt.data_dir);
    rcfg.name = opt.name;
    rcfg.data_dir = dir;
    rcfg.initial_cluster = opt.initial_cluster;
    rcfg.new_cluster = strcmp(opt.initial_cluster_state, "new") == 0;
    rcfg.heartbeat_ms = (unsigned)opt.heartbeat_ms;
    rcfg.election_ms = (unsigned)opt.election_ms;
    rcfg.snapshot_threshold = (unsigned)opt.snapshot_count;
    if (k8c_signals_init(server.loop, on_signal, &server) != 0)
        return 1;
    if ((rv = store_raft_new(server.loop, &rcfg, &fsm, &server.raft, errmsg)) != 0) {
        k8c_log_error("cannot start raft err=%s", errmsg);
        return 1;
    }
    store_raft_set_confirm(server.raft, confirm_leadership, NULL);

    server.metrics = k8c_metrics_new();
    k8c_metrics_register_process(server.metrics);
    register_etcd_gauges(server.metrics);
    server.health = k8c_health_new();
    k8c_health_add(server.health, "raft", K8C_HEALTH_HEALTHZ | K8C_HEALTH_READYZ, health_raft,
                   NULL);
    server.endpoints.metrics = server.metrics;
    server.endpoints.health = server.health;
    {
        struct k8c_grpc_server_options gopts = {0};
        gopts.max_receive_message = (size_t)opt.max_request_bytes + 1024 * 1024;
        gopts.metrics = server.metrics;
        server.grpc = k8c_grpc_server_new(server.loop, &gopts);
    }
    for (size_t i = 0; i < sizeof(unary_methods) / sizeof(unary_methods[0]); i++) {
        struct k8c_grpc_method m = {0};
        m.path = unary_methods[i].path;
        m.kind = K8C_GRPC_UNARY;
        m.on_request = unary_methods[i].fn;
        m.on_cancel = unary_methods[i].cancel;
        m.arg = (void *)unary_methods[i].arg;
        k8c_grpc_server_register(server.grpc, &m);
    }
    {
        struct store_lease_service_config lcfg = {0};
        lcfg.loop = server.loop;
        lcfg.raft = server.raft;
        lcfg.mvcc = server.mvcc;
        lcfg.election_ms = (unsigned)opt.election_ms;
        lcfg.fill_header = fill_header;
        lcfg.leader_channel = leader_channel;
        lcfg.forward = forward_to_leader;
        lcfg.forward_cancel = on_pending_cancel;
        server.leases = store_lease_service_new(&lcfg);
        store_lease_service_register(server.leases, server.grpc);
    }
    {
        struct store_maint_service_config mcfg = {0};
        mcfg.loop = server.loop;
        mcfg.raft = server.raft;
        mcfg.mvcc = server.mvcc;
        mcfg.member_id = server.member_id;
        mcfg.strict_reconfig_check = opt.strict_reconfig_check;
        mcfg.member_channel = peer_channel;
        mcfg.on_removed = on_removed;
        mcfg.name = opt.name;
        mcfg.client_urls = opt.advertise_client_urls;
        mcfg.peers = server.peers;
        mcfg.npeers = server.npeers;
        mcfg.tmp_dir = server.snapshot_dir;
        mcfg.fill_header = fill_header;
        mcfg.leader_channel = leader_channel;
        mcfg.forward = forward_to_leader;
        mcfg.forward_cancel = on_pending_cancel;
        server.maint = store_maint_service_new(&mcfg);
        store_maint_service_register(server.maint, server.grpc);
    }
    server.watch_svc =
        store_watch_service_new(server.loop, server.grpc, server.watch, fill_header, 0, errmsg);
    if (server.watch_svc == NULL) {
        k8c_log_error("cannot serve Watch err=%s", errmsg);
        return 1;
    }
    store_watch_service_require_leader(server.watch_svc, knows_leader,
                                       (uint64_t)(3 * opt.election_ms));
    k8c_grpc_server_set_http_handler(server.grpc, on_http, NULL);
    for (char *urls = k8c_strdup(opt.listen_client_urls), *save = NULL,
              *url = strtok_r(urls, ",", &save);
         url || (k8c_free(urls), 0); url = strtok_r(NULL, ",", &save)) {
        struct k8c_grpc_listen_options lopts = {0};
        bool tls;
        if (parse_client_url(url, addr, sizeof(addr), &tls, errmsg) != 0 ||
            (tls && (!opt.cert_file || !opt.key_file))) {
            k8c_log_error("bad client URL url=%s err=%s", url,
                          errmsg[0] ? errmsg : "https needs --cert-file and --key-file");
            return 2;
        }
        if (tls) {
            lopts.cert_file = opt.cert_file;
            lopts.key_file = opt.key_file;
            lopts.client_ca_file = opt.client_cert_auth ? opt.trusted_ca_file : NULL;
        }
        if ((rv = k8c_grpc_server_listen(server.grpc, addr, &lopts, errmsg)) != 0) {
            k8c_log_error("cannot listen for clients addr=%s err=%s", addr, errmsg);
            return 1;
        }
        k8c_log_info("serving client traffic url=%s tls=%d", url, tls);
    }
    k8c_log_info("started name=%s member=%" PRIx64 " peers=%zu", opt.name, server.member_id,
                 server.npeers);
    uv_run(server.loop, UV_RUN_DEFAULT);
    store_watch_hub_del(server.watch);
    store_lease_service_del(server.leases);
    store_maint_service_del(server.maint);
    store_mvcc_close(server.mvcc);
    k8c_arena_del(server.write_scratch);
    k8c_arena_del(server.apply_scratch);
    k8c_metrics_del(server.metrics);
    k8c_health_del(server.health);
    k8c_free(server.peers);
    uv_loop_close(server.loop);
    return 0;
}
