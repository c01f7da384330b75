/*
 * Raft glue: group commit of client requests into batch entries, the FSM
 * adapter with replay skipping, read barriers, membership and the libuv
 * I/O setup. See raft.h for the contract.
 *
 * libraft's <raft.h> has the same file name as this module's header, so the
 * library header is reached through <raft/uv.h>, whose own include of
 * "../raft.h" resolves next to it in the system include directory.
 */
#define _GNU_SOURCE /* fallocate, RTLD_NEXT: see posix_fallocate below */
#include "raft.h"

#include <raft/uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "turn.h"

#define DEFAULT_MAX_BATCH_REQUESTS 1024
#define DEFAULT_MAX_BATCH_BYTES    (4u * 1024 * 1024)
#define DEFAULT_MAX_INFLIGHT       2
#define MAX_PEERS                  64
#define STORE_RAFT_SEGMENT_SIZE    (32u * 1024 * 1024) /* see raft_uv_set_segment_size below */

/* Snapshot payload header: magic "K8CS", u32 format version, u64 FSM index. */
#define SNAP_MAGIC        0x5343384bu
#define SNAP_VERSION      1 /* the FSM's state follows */
#define SNAP_VERSION_MARK 2 /* a mark follows (store_fsm.mark) */
#define SNAP_HEADER_SIZE  16

/* A caller waiting for the outcome of one request. */
struct pending {
    store_raft_apply_cb cb;
    void *arg;
};

/*
 * One batch: first queued (collecting requests), then in flight (proposed
 * with raft_apply and waiting for its apply callback). The FSM adapter
 * recognises an in-flight batch of this server by (proposer, term, seq) in the
 * entry header and writes the per-request results into it.
 */
struct batch {
    struct raft_apply req;
    struct store_raft *sr;
    struct batch *next;
    struct k8c_sbuf body; /* room for the entry header, then the request records (cmd.h) */
    struct pending *pend;
    size_t n, cap;
    uint64_t term, seq;
    struct store_raft_result *results; /* n slots while in flight */
    bool applied;
};

struct read_waiter {
    store_raft_read_cb cb;
    void *arg;
};

/* Reads sharing one barrier or one read-index round. */
struct read_group {
    struct raft_barrier req;
    struct store_raft *sr;
    struct read_waiter *w;
    size_t n, cap;
    uint64_t term;   /* the leader's term when the barrier or round started */
    uint64_t commit; /* read index: the commit index when the round started */
};

/* A membership change or leadership transfer in progress. */
struct change_ctx {
    struct raft_change change;
    struct raft_transfer transfer;
    struct store_raft *sr;
    store_raft_change_cb cb;
    void *arg;
    uint64_t id;
    bool promote;
};

struct store_raft {
    struct store_fsm fsm;
    struct raft_fsm raft_fsm;
    struct store_raft_options opts;
    struct raft *raft;

    /* Owned-I/O mode (store_raft_new). */
    bool owns_io;
    uv_loop_t *loop;
    struct raft raft_storage;
    struct raft_io io;
    struct raft_uv_transport transport;
    /* libraft's TCP transport methods, wrapped to set TCP_NODELAY */
    int (*tcp_listen)(struct raft_uv_transport *t, raft_uv_accept_cb cb);
    int (*tcp_connect)(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                       const char *address, raft_uv_connect_cb cb);
    raft_uv_accept_cb accept_cb;
    /* libraft's raft_io start, send and append, wrapped by the append guard */
    int (*io_start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv);
    int (*io_send)(struct raft_io *io, struct raft_io_send *req, const struct raft_message *message,
                   raft_io_send_cb cb);
    raft_io_recv_cb io_recv;
    raft_io_tick_cb io_tick;
    raft_id last_leader; /* the leader seen last (0: none yet), for leader_changes */
    int (*io_append)(struct raft_io *io, struct raft_io_append *req,
                     const struct raft_entry entries[], unsigned n, raft_io_append_cb cb);
    bool in_append;             /* libraft is handling an AppendEntries ... */
    raft_index append_last;     /* ... whose last entry is at this index ... */
    raft_term append_term;      /* ... of this term */
    raft_term answering_term;   /* a follower's write completes: the term it came in */
    struct k8c_turn flush_turn; /* store_raft_flush at the end of the turn */
    struct raft_transfer close_transfer;
    void (*close_cb)(void *arg);
    void *close_arg;

    bool closing;
    struct batch *queue_head, *queue_tail;
    struct batch *inflight; /* singly linked, newest first */
    unsigned n_inflight;
    struct read_group *reads_queued, *reads_inflight; /* barriers */
    /* Read-index rounds (store_raft_set_confirm): the leader's commit index
     * is read once a quorum has confirmed its leadership, without a log
     * entry; only after an entry of the current term has been applied. */
    store_raft_confirm_fn confirm;
    void *confirm_arg;
    uint64_t term_applied; /* the leader's own entries of this term are applied */
    struct read_group *ri_queued, *ri_inflight;
    bool push_inflight; /* store_raft_push_commit's barrier */
    uint64_t seq;
    uint64_t fsm_applied;
    size_t body_hint; /* bytes of the last proposed entry */

    /* Snapshot policy in requests (etcd's --snapshot-count), 0 = libraft's
     * entry threshold only (attached mode). See snapshot_policy(). */
    uint64_t snap_requests; /* requests applied between snapshots */
    uint64_t snap_trailing; /* requests of log kept after a snapshot */
    unsigned snap_entries;  /* entry threshold: the cap when entries carry few requests */
    uint64_t reqs_since_snap;

    /* The snapshot being written (libraft takes one at a time) and the raft
     * index it stands for. */
    uint64_t snap_index;
    struct k8c_buf *snap_header, *snap_data;

    struct store_raft_status stats; /* counters only */
};

/* ---- errors ---- */

/* Maps a libraft error code to a k8c code. */
static int map_raft_error(struct store_raft *sr, int rv)
{
    switch (rv) {
    case 0:
        return 0;
    case RAFT_NOTLEADER:
        return K8C_ENOTLEADER;
    case RAFT_LEADERSHIPLOST:
        return sr->closing ? K8C_ESHUTDOWN : K8C_ELEADERCHANGED;
    case RAFT_SHUTDOWN:
        return K8C_ESHUTDOWN;
    case RAFT_CANTCHANGE:
    case RAFT_BUSY:
        return K8C_EBUSY;
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
        return K8C_EEXIST;
    case RAFT_BADID:
    case RAFT_NOTFOUND:
        return K8C_ENOTFOUND;
    case RAFT_BADROLE:
    case RAFT_INVALID:
        return K8C_EINVAL;
    case RAFT_NOCONNECTION:
        return K8C_ETIMEDOUT;
    default:
        return K8C_EIO;
    }
}

/* ---- little endian helpers for the snapshot header ---- */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* ---- batches ---- */

static struct batch *batch_new(struct store_raft *sr)
{
    static const uint8_t header[STORE_CMD_HEADER_SIZE];
    struct batch *b = K8C_NEW(struct batch);
    b->sr = sr;
    b->req.data = b;
    k8c_sbuf_init(&b->body);
    /* Sized like the last entry, so a busy batch does not grow by copies. */
    k8c_sbuf_reserve(&b->body,
                     sr->body_hint > STORE_CMD_HEADER_SIZE ? sr->body_hint : STORE_CMD_HEADER_SIZE);
    k8c_sbuf_append(&b->body, header, sizeof header);
    return b;
}

static void batch_free(struct batch *b)
{
    if (b->results != NULL) {
        for (size_t i = 0; i < b->n; i++) {
            k8c_buf_unref(b->results[i].data);
        }
        k8c_free(b->results);
    }
    k8c_sbuf_free(&b->body);
    k8c_free(b->pend);
    k8c_free(b);
}

/* Completes every request of b with status (non-zero). */
static void batch_fail(struct batch *b, int status)
{
    for (size_t i = 0; i < b->n; i++) {
        b->pend[i].cb(b->pend[i].arg, status, NULL);
    }
}

static void inflight_remove(struct store_raft *sr, struct batch *b)
{
    for (struct batch **p = &sr->inflight; *p != NULL; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            b->next = NULL;
            sr->n_inflight--;
            return;
        }
    }
}

static struct batch *inflight_find(struct store_raft *sr, const struct store_cmd_header *hdr)
{
    if (hdr->proposer != sr->raft->id) {
        return NULL;
    }
    for (struct batch *b = sr->inflight; b != NULL; b = b->next) {
        if (b->term == hdr->term && b->seq == hdr->seq) {
            return b;
        }
    }
    return NULL;
}

static void on_flush_turn(struct k8c_turn *t);

/* In owned-I/O mode, proposes what is queued at the end of this loop
 * iteration (lib/turn.h, after poll only), so everything submitted by the
 * callbacks of one iteration shares an entry. */
static void schedule_flush(struct store_raft *sr)
{
    if (!sr->owns_io || sr->closing) {
        return;
    }
    k8c_turn_arm(&sr->flush_turn);
}

/* ---- the FSM adapter ---- */

/*
 * etcd counts --snapshot-count in applied requests; libraft counts entries,
 * and one of our entries carries up to max_batch_requests requests. Under
 * load an entry threshold of 100,000 would keep ~100M requests of log in
 * memory, so once enough requests have been applied since the last snapshot
 * the entry threshold is lowered to the entries applied so far (libraft
 * snapshots right after this apply; later still when the state is large,
 * see struct store_fsm.state_bytes), with trailing entries sized to keep
 * about snap_trailing requests for followers that lag. fsm_snapshot puts the
 * entry threshold back.
 */
static void snapshot_policy(struct store_raft *sr, uint64_t index)
{
    uint64_t base = sr->raft->log.snapshot.last_index;
    if (sr->snap_requests == 0 || sr->reqs_since_snap < sr->snap_requests || index <= base)
        return;
    /* A snapshot that copies the whole state: with a large state, wait for
     * more requests so the copying stays a small cost per request. The log
     * kept in memory meanwhile is about as large as the state. Marks cost an
     * fsync whatever the state's size. */
    if (sr->fsm.mark == NULL && sr->fsm.state_bytes != NULL &&
        sr->reqs_since_snap <
            sr->fsm.state_bytes(sr->fsm.data) / STORE_RAFT_SNAPSHOT_BYTES_PER_REQUEST)
        return;
    uint64_t entries = index - base;
    uint64_t per_entry = sr->reqs_since_snap / entries;
    uint64_t trailing = sr->snap_trailing / (per_entry ? per_entry : 1);
    if (trailing > sr->snap_entries)
        trailing = sr->snap_entries;
    /* at least the entries a leader may have applied (guard_commit_ahead)
     * while its own write of them is still going */
    if (trailing < 2 * (uint64_t)sr->opts.max_inflight + 2)
        trailing = 2 * (uint64_t)sr->opts.max_inflight + 2;
    if (entries < sr->snap_entries)
        raft_set_snapshot_threshold(sr->raft, (unsigned)entries);
    raft_set_snapshot_trailing(sr->raft, (unsigned)trailing);
}

/*
 * libraft applies entries in index order and sets last_applied only after
 * fsm->apply returns, so the entry being applied is last_applied + 1.
 */
static int fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct store_raft *sr = rf->data;
    uint64_t index = sr->raft->last_applied + 1;
    struct store_cmd_batch decoded;
    char errmsg[K8C_ERRMSG_SIZE];
    struct batch *b;
    uint32_t count = 0;
    int rv;

    *result = NULL;
    if (index <= sr->fsm_applied) {
        /* Already in the FSM's storage (replay after restart). */
        sr->stats.entries_skipped++;
        return 0;
    }
    rv = store_cmd_decode(buf->base, buf->len, &decoded, errmsg);
    if (rv != 0) {
        /* Only our own leaders write entries, so this is a bug or a format
         * change. Apply it as empty so the applied index still advances and
         * the cluster does not wedge on it. */
        k8c_log_error("raft entry is not a valid batch; applying it as empty index=%llu err=%s",
                      (unsigned long long)index, errmsg);
        rv = sr->fsm.apply(sr->fsm.data, index, 0, NULL, 0, NULL);
    } else {
        b = inflight_find(sr, &decoded.hdr);
        count = decoded.hdr.count;
        rv = sr->fsm.apply(sr->fsm.data, index, decoded.hdr.term, decoded.reqs, decoded.hdr.count,
                           b != NULL ? b->results : NULL);
        if (rv == 0 && b != NULL) {
            b->applied = true;
        } else if (rv != 0 && b != NULL) {
            for (size_t i = 0; i < b->n; i++) {
                k8c_buf_unref(b->results[i].data);
                memset(&b->results[i], 0, sizeof b->results[i]);
            }
        }
        store_cmd_batch_free(&decoded);
    }
    if (rv != 0) {
        k8c_log_error("state machine failed to apply a raft entry; will retry index=%llu err=%s",
                      (unsigned long long)index, k8c_strerror(rv));
        return RAFT_IOERR;
    }
    sr->fsm_applied = index;
    sr->stats.entries_applied++;
    sr->reqs_since_snap += count;
    snapshot_policy(sr, index);
    return 0;
}

/*
 * A snapshot is the FSM's whole state (an LMDB copy), or a mark naming
 * where that state can be fetched (store_fsm.mark), behind a header with
 * the raft index it stands for: raft's last applied index when it was
 * requested. Entries after the FSM's own applied index are ones that do not
 * reach the FSM (barriers, configuration changes), so the state then is the
 * state at that raft index. In owned-I/O mode (fsm version 3) the copy is
 * made on libraft's worker thread (fsm_snapshot_async) while the loop goes
 * on applying, so it may hold a later state: restoring it is still right,
 * because the entries it already holds are skipped by index (fsm_apply,
 * fsm_restore).
 */
static int snapshot_prepare(struct store_raft *sr)
{
    sr->snap_index = sr->raft->last_applied;
    if (sr->snap_requests > 0) {
        sr->reqs_since_snap = 0;
        raft_set_snapshot_threshold(sr->raft, sr->snap_entries);
    }
    return 0;
}

/* Makes the copy for the raft index snapshot_prepare recorded; touches
 * nothing the loop thread uses but the FSM's (thread-safe) snapshot and
 * snap_header/snap_data, which only fsm_snapshot_finalize reads after. */
static int snapshot_make(struct store_raft *sr, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct k8c_buf *data = NULL, *header;
    uint64_t fsm_index = 0;
    bool mark = sr->fsm.mark != NULL;
    int rv = mark ? sr->fsm.mark(sr->fsm.data, &fsm_index, &data)
                  : sr->fsm.snapshot(sr->fsm.data, &fsm_index, &data);
    if (rv != 0) {
        k8c_log_warn("state machine snapshot failed; will retry err=%s", k8c_strerror(rv));
        return RAFT_BUSY;
    }
    header = k8c_buf_new(SNAP_HEADER_SIZE);
    put_le(header->data, SNAP_MAGIC, 4);
    put_le(header->data + 4, mark ? SNAP_VERSION_MARK : SNAP_VERSION, 4);
    put_le(header->data + 8, sr->snap_index, 8);
    sr->snap_header = header;
    sr->snap_data = data;
    *bufs = k8c_calloc(2, sizeof **bufs);
    (*bufs)[0].base = header->data;
    (*bufs)[0].len = header->len;
    (*bufs)[1].base = data->data;
    (*bufs)[1].len = data->len;
    *n_bufs = 2;
    return 0;
}

/* fsm version 2 (attached mode): both steps in the loop. */
static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct store_raft *sr = rf->data;
    snapshot_prepare(sr);
    return snapshot_make(sr, bufs, n_bufs);
}

/* fsm version 3 (owned I/O): the loop part; the copy follows on a worker. */
static int fsm_snapshot_v3(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    *bufs = NULL;
    *n_bufs = 0;
    return snapshot_prepare(rf->data);
}

static int fsm_snapshot_async(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    return snapshot_make(rf->data, bufs, n_bufs);
}

/* Called by libraft once the snapshot is stored (or failed): we own the
 * buffers (fsm version 2). */
static int fsm_snapshot_finalize(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct store_raft *sr = rf->data;

    if (sr->snap_data != NULL) {
        sr->stats.snapshots++;
        k8c_log_v(1, "raft snapshot stored raft_index=%llu bytes=%zu",
                  (unsigned long long)sr->snap_index, sr->snap_data->len);
    }
    k8c_buf_unref(sr->snap_header);
    k8c_buf_unref(sr->snap_data);
    sr->snap_header = sr->snap_data = NULL;
    k8c_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct store_raft *sr = rf->data;
    const uint8_t *p = buf->base;
    uint64_t index, version = buf->len >= 8 ? get_le(p + 4, 4) : 0;
    int rv;

    if (buf->len < SNAP_HEADER_SIZE || get_le(p, 4) != SNAP_MAGIC ||
        (version != SNAP_VERSION && version != SNAP_VERSION_MARK) ||
        (version == SNAP_VERSION_MARK && sr->fsm.fetch == NULL)) {
        k8c_log_error("raft snapshot has an unknown format; not restoring it bytes=%zu", buf->len);
        return RAFT_MALFORMED;
    }
    index = get_le(p + 8, 8);
    if (index <= sr->fsm_applied) {
        /* The FSM's storage already holds this state or a newer one. */
        sr->stats.restores_skipped++;
        k8c_log_v(1, "raft snapshot not restored: state machine is newer snap=%llu fsm=%llu",
                  (unsigned long long)index, (unsigned long long)sr->fsm_applied);
    } else {
        const uint8_t *body = p + SNAP_HEADER_SIZE;
        size_t len = buf->len - SNAP_HEADER_SIZE;
        rv = version == SNAP_VERSION_MARK ? sr->fsm.fetch(sr->fsm.data, index, body, len)
                                          : sr->fsm.restore(sr->fsm.data, index, body, len);
        if (rv == 0 && sr->fsm.applied_index(sr->fsm.data) < index)
            rv = K8C_EIO; /* the fetched state is older than the snapshot */
        if (rv != 0) {
            k8c_log_error("state machine failed to restore a snapshot index=%llu err=%s",
                          (unsigned long long)index, k8c_strerror(rv));
            return RAFT_IOERR;
        }
        /* The copy may hold a later state than index (see snapshot_prepare). */
        uint64_t held = sr->fsm.applied_index(sr->fsm.data);
        sr->fsm_applied = held > index ? held : index;
        sr->reqs_since_snap = 0;
        sr->stats.restores++;
        k8c_log_info("raft snapshot restored index=%llu bytes=%zu", (unsigned long long)index,
                     buf->len);
    }
    raft_free(buf->base); /* ownership passed to us on success */
    return 0;
}

/* ---- the peer transport ---- */

/*
 * libraft's TCP transport leaves Nagle's algorithm on. An AppendEntries
 * written while an earlier one is still unacknowledged then waits for the
 * peer's delayed ACK (40 ms on Linux): that was the p99 of writes at 100
 * clients. Its connect and listen are wrapped to set TCP_NODELAY on every
 * peer connection.
 */
static struct store_raft *transport_owner(struct raft_uv_transport *t)
{
    return (struct store_raft *)((char *)t - offsetof(struct store_raft, transport));
}

static void peer_nodelay(struct uv_stream_s *stream)
{
    if (stream != NULL && stream->type == UV_TCP)
        uv_tcp_nodelay((uv_tcp_t *)stream, 1);
}

struct nodelay_connect {
    struct raft_uv_connect req; /* ours, given to the TCP transport */
    struct raft_uv_connect *orig;
    raft_uv_connect_cb cb;
};

static void nodelay_connected(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
    struct nodelay_connect *c = req->data;
    struct raft_uv_connect *orig = c->orig;
    raft_uv_connect_cb cb = c->cb;
    k8c_free(c);
    if (status == 0)
        peer_nodelay(stream);
    cb(orig, stream, status);
}

static int nodelay_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                           const char *address, raft_uv_connect_cb cb)
{
    struct nodelay_connect *c = K8C_NEW(struct nodelay_connect);
    c->req.data = c;
    c->orig = req;
    c->cb = cb;
    int rv = transport_owner(t)->tcp_connect(t, &c->req, id, address, nodelay_connected);
    if (rv != 0)
        k8c_free(c);
    return rv;
}

static void nodelay_accepted(struct raft_uv_transport *t, raft_id id, const char *address,
                             struct uv_stream_s *stream)
{
    peer_nodelay(stream);
    transport_owner(t)->accept_cb(t, id, address, stream);
}

static int nodelay_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct store_raft *sr = transport_owner(t);
    sr->accept_cb = cb;
    return sr->tcp_listen(t, nodelay_accepted);
}

/* ---- the append guard ---- */

/*
 * libraft (0.15, and 0.18 alike) answers an AppendEntries that brings no new
 * entry (a heartbeat, or entries it already holds) with its whole stored log
 * as the index reached, and moves its commit index to min(leaderCommit,
 * last stored). A leader back from a pause (SIGSTOP) still holds entries of
 * its old term past the point the new leader's log shares with it. It then
 * applied those uncommitted entries as committed, and the new leader took
 * them as matched and dropped the follower's later rejections at those
 * indexes as stale: the follower stalled for good, with a state the cluster
 * never committed (integration.store.failover, about one SIGSTOP in ten).
 * Raft bounds both by the request's last entry, prev_log_index + n_entries
 * (Figure 3.1: "min(leaderCommit, index of last new entry)"; etcd's raft
 * answers that index too). The wrapped receive clamps leaderCommit to it
 * before libraft sees the request, and the wrapped send clamps the
 * last_log_index of a success answered while the request is handled. An
 * answer sent later, once new entries are stored, is right already: the log
 * then ends at the request's last entry.
 *
 * Two more holes of 0.15, closed here as later releases did:
 *   - The answer for entries written to disk is sent when the write
 *     completes, to whoever leads then. If the term changed meanwhile, the new
 *     leader takes a success it never asked for (fixed in libraft 0.17.1,
 *     "Don't respond to AppendEntries if role/term has changed"). The wrapped
 *     append remembers the term of the request that started each write, and
 *     the answer is dropped when that term is over.
 *   - A former leader can have committed entries it has not stored yet;
 *     min(leaderCommit, last stored) then moves its commit index backwards
 *     (fixed in 0.18, "Only update commit index if last stored is high
 *     enough"). leaderCommit is not passed on above the commit index then.
 */
static struct store_raft *io_owner(struct raft_io *io)
{
    return ((struct raft *)io->data)->data;
}

/* The term of the entry at index in libraft's in-memory log, 0 if it is not
 * there (struct raft_log is public in 0.15: a ring of entries after offset). */
static raft_term log_term_of(const struct raft_log *l, raft_index index)
{
    size_t n = l->back >= l->front ? l->back - l->front : l->size - l->front + l->back;
    if (l->size == 0 || index <= l->offset || index > l->offset + n)
        return 0;
    return l->entries[(l->front + (size_t)(index - 1 - l->offset)) % l->size].term;
}

/*
 * Commit ahead of the leader's own disk. libraft 0.15 counts a follower's
 * answer toward a commit only up to the entries the leader itself has
 * stored (replicationUpdate: replicationQuorum(r, r->last_stored); 0.16
 * counts up to the follower's index, commit 1996d32). Under load the
 * leader's own write is the slowest of the three (bench/store, put at 1000
 * clients: 14-19 ms against 4-5 ms for a follower's), so every commit
 * waited for it although two followers had stored the entry. Raft allows
 * the leader to commit an entry a majority stored before it has written the
 * entry itself (thesis 10.2.1; etcd's raft does). Before libraft takes a
 * success from a follower, the commit index moves to the highest index of
 * the leader's current term that a majority then holds, counting the
 * leader's own match index (its stored entries) like any other; libraft's
 * handling of the answer then applies up to it.
 */
static void guard_commit_ahead(struct store_raft *sr, const struct raft_message *m)
{
    struct raft *r = sr->raft;
    const struct raft_append_entries_result *res = &m->append_entries_result;
    if (r == NULL || raft_state(r) != RAFT_LEADER || res->rejected != 0 ||
        res->term != r->current_term || r->leader_state.progress == NULL)
        return;
    raft_index n = res->last_log_index;
    if (n > raft_last_index(r))
        n = raft_last_index(r);
    /* the highest index of this term a majority holds, the sender counted
     * at n (what this answer tells), as libraft 0.16's replicationQuorum */
    for (; n > r->commit_index && log_term_of(&r->log, n) == r->current_term; n--) {
        unsigned votes = 0, voters = 0;
        bool sender = false;
        for (unsigned i = 0; i < r->configuration.n; i++) {
            const struct raft_server *server = &r->configuration.servers[i];
            if (server->role != RAFT_VOTER)
                continue;
            voters++;
            raft_index match = r->leader_state.progress[i].match_index;
            if (server->id == m->server_id) {
                sender = true;
                if (match < res->last_log_index)
                    match = res->last_log_index;
            }
            votes += match >= n;
        }
        if (!sender)
            return;
        if (votes > voters / 2) {
            r->commit_index = n;
            sr->stats.commits_ahead++;
            return;
        }
    }
}

/* Counts a leader as etcd's etcd_server_leader_changes_seen_total does: each
 * time a leader is known that differs from the one known before. Checked on
 * every tick and after every message, where libraft changes its leader. */
static void leader_seen(struct store_raft *sr)
{
    raft_id id = 0;
    const char *addr;
    if (sr->raft == NULL)
        return;
    raft_leader(sr->raft, &id, &addr);
    if (id != 0 && id != sr->last_leader)
        sr->stats.leader_changes++;
    sr->last_leader = id;
}

static void guard_recv(struct raft_io *io, struct raft_message *m)
{
    struct store_raft *sr = io_owner(io);
    if (m->type == RAFT_IO_APPEND_ENTRIES_RESULT)
        guard_commit_ahead(sr, m);
    if (m->type != RAFT_IO_APPEND_ENTRIES) {
        sr->io_recv(io, m);
        leader_seen(sr);
        return;
    }
    struct raft_append_entries *a = &m->append_entries;
    raft_index last = a->prev_log_index + a->n_entries;
    if (a->leader_commit > last) {
        a->leader_commit = last;
        sr->stats.commits_clamped++;
    }
    struct raft *r = sr->raft;
    if (r->last_stored < r->commit_index && a->leader_commit > r->commit_index) {
        a->leader_commit = r->commit_index;
        sr->stats.commits_clamped++;
    }
    sr->in_append = true;
    sr->append_last = last;
    sr->append_term = a->term;
    sr->io_recv(io, m);
    sr->in_append = false;
    leader_seen(sr);
}

/* A follower's write started while handling an AppendEntries. */
struct guard_write {
    struct raft_io_append req; /* ours, given to the I/O */
    struct raft_io_append *orig;
    raft_io_append_cb cb;
    struct store_raft *sr;
    raft_term term; /* of the request that started it */
};

static void guard_append_done(struct raft_io_append *req, int status)
{
    struct guard_write *w = req->data;
    struct store_raft *sr = w->sr;
    raft_term saved = sr->answering_term;
    sr->answering_term = w->term;
    w->cb(w->orig, status);
    sr->answering_term = saved;
    k8c_free(w);
}

static int guard_append(struct raft_io *io, struct raft_io_append *req,
                        const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    struct store_raft *sr = io_owner(io);
    if (!sr->in_append)
        return sr->io_append(io, req, entries, n, cb); /* the leader's own */
    struct guard_write *w = K8C_NEW(struct guard_write);
    w->req.data = w;
    w->orig = req;
    w->cb = cb;
    w->sr = sr;
    w->term = sr->append_term;
    int rv = sr->io_append(io, &w->req, entries, n, guard_append_done);
    if (rv != 0)
        k8c_free(w);
    return rv;
}

static int guard_send(struct raft_io *io, struct raft_io_send *req,
                      const struct raft_message *message, raft_io_send_cb cb)
{
    struct store_raft *sr = io_owner(io);
    const struct raft_append_entries_result *r = &message->append_entries_result;
    if (sr->answering_term != 0 && message->type == RAFT_IO_APPEND_ENTRIES_RESULT &&
        sr->raft->current_term != sr->answering_term) {
        sr->stats.answers_dropped++;
        return RAFT_CANCELED; /* libraft frees req and sends nothing */
    }
    if (sr->in_append && message->type == RAFT_IO_APPEND_ENTRIES_RESULT && r->rejected == 0 &&
        r->last_log_index > sr->append_last) {
        struct raft_message m = *message; /* libraft's send encodes it now */
        m.append_entries_result.last_log_index = sr->append_last;
        sr->stats.answers_clamped++;
        return sr->io_send(io, req, &m, cb);
    }
    return sr->io_send(io, req, message, cb);
}

static void guard_tick(struct raft_io *io)
{
    struct store_raft *sr = io_owner(io);
    sr->io_tick(io);
    leader_seen(sr);
}

static int guard_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                       raft_io_recv_cb recv)
{
    struct store_raft *sr = io_owner(io);
    sr->io_recv = recv;
    sr->io_tick = tick;
    return sr->io_start(io, msecs, guard_tick, guard_recv);
}

/* Before raft_start: raft->data is sr from now on. */
static void guard_install(struct store_raft *sr, struct raft *raft)
{
    raft->data = sr;
    if (raft->io->start == guard_start)
        return;
    sr->io_start = raft->io->start;
    sr->io_send = raft->io->send;
    sr->io_append = raft->io->append;
    raft->io->start = guard_start;
    raft->io->send = guard_send;
    raft->io->append = guard_append;
}

/* ---- construction shared by both modes ---- */

static struct store_raft *store_raft_alloc(const struct store_fsm *fsm,
                                           const struct store_raft_options *opts)
{
    struct store_raft *sr = K8C_NEW(struct store_raft);

    sr->fsm = *fsm;
    if (opts != NULL) {
        sr->opts = *opts;
    }
    if (sr->opts.max_batch_requests == 0) {
        sr->opts.max_batch_requests = DEFAULT_MAX_BATCH_REQUESTS;
    }
    if (sr->opts.max_batch_requests > STORE_CMD_MAX_REQUESTS) {
        sr->opts.max_batch_requests = STORE_CMD_MAX_REQUESTS;
    }
    if (sr->opts.max_batch_bytes == 0) {
        sr->opts.max_batch_bytes = DEFAULT_MAX_BATCH_BYTES;
    }
    if (sr->opts.max_batch_bytes > STORE_CMD_MAX_BATCH - STORE_CMD_HEADER_SIZE) {
        sr->opts.max_batch_bytes = STORE_CMD_MAX_BATCH - STORE_CMD_HEADER_SIZE;
    }
    if (sr->opts.max_inflight == 0) {
        sr->opts.max_inflight = DEFAULT_MAX_INFLIGHT;
    }
    sr->raft_fsm.version = 2;
    sr->raft_fsm.data = sr;
    sr->raft_fsm.apply = fsm_apply;
    sr->raft_fsm.snapshot = fsm_snapshot;
    sr->raft_fsm.snapshot_finalize = fsm_snapshot_finalize;
    sr->raft_fsm.restore = fsm_restore;
    return sr;
}

struct store_raft *store_raft_new_attached(const struct store_fsm *fsm,
                                           const struct store_raft_options *opts)
{
    return store_raft_alloc(fsm, opts);
}

struct raft_fsm *store_raft_fsm(struct store_raft *sr)
{
    return &sr->raft_fsm;
}

void store_raft_attach(struct store_raft *sr, struct raft *raft)
{
    sr->raft = raft;
    guard_install(sr, raft);
    sr->fsm_applied = sr->fsm.applied_index(sr->fsm.data);
}

struct raft *store_raft_raft(struct store_raft *sr)
{
    return sr->raft;
}

/* Fails everything queued (not in flight) with status. */
static void fail_queued(struct store_raft *sr, int status)
{
    struct batch *b;
    struct read_group *g;

    while ((b = sr->queue_head) != NULL) {
        sr->queue_head = b->next;
        if (sr->queue_head == NULL) {
            sr->queue_tail = NULL;
        }
        batch_fail(b, status);
        batch_free(b);
    }
    for (int k = 0; k < 2; k++) {
        struct read_group **q = k == 0 ? &sr->reads_queued : &sr->ri_queued;
        if ((g = *q) != NULL) {
            *q = NULL;
            for (size_t i = 0; i < g->n; i++) {
                g->w[i].cb(g->w[i].arg, status);
            }
            k8c_free(g->w);
            k8c_free(g);
        }
    }
}

void store_raft_del(struct store_raft *sr)
{
    if (sr == NULL) {
        return;
    }
    sr->closing = true;
    fail_queued(sr, K8C_ESHUTDOWN);
    /* In-flight work belongs to the (closed) raft instance, which has already
     * failed it; anything left means the caller freed too early. */
    while (sr->inflight != NULL) {
        struct batch *b = sr->inflight;
        inflight_remove(sr, b);
        batch_fail(b, K8C_ESHUTDOWN);
        batch_free(b);
    }
    k8c_buf_unref(sr->snap_header);
    k8c_buf_unref(sr->snap_data);
    k8c_free(sr);
}

/* ---- proposing ---- */

static bool raft_is_leader(struct store_raft *sr)
{
    return sr->raft != NULL && raft_state(sr->raft) == RAFT_LEADER && sr->raft->transfer == NULL;
}

bool store_raft_is_leader(struct store_raft *sr)
{
    return raft_is_leader(sr);
}

static void on_applied(struct raft_apply *req, int status, void *result)
{
    struct batch *b = req->data;
    struct store_raft *sr = b->sr;

    (void)result;
    inflight_remove(sr, b);
    if (status == 0 && b->applied && sr->raft != NULL && b->term == sr->raft->current_term) {
        sr->term_applied = b->term;
    }
    if (status == 0 && b->applied) {
        for (size_t i = 0; i < b->n; i++) {
            b->pend[i].cb(b->pend[i].arg, 0, &b->results[i]);
        }
    } else {
        int code = status == 0 ? K8C_EIO : map_raft_error(sr, status);
        if (status == 0) {
            k8c_log_error("raft entry committed but not applied by this server seq=%llu",
                          (unsigned long long)b->seq);
        }
        batch_fail(b, code);
    }
    batch_free(b);
    schedule_flush(sr);
}

/* Proposes b as one entry. Returns 0 (b is in flight) or a k8c code. */
static int propose(struct store_raft *sr, struct batch *b)
{
    struct store_cmd_header hdr;
    struct raft_buffer buf;
    int rv;

    hdr.count = (uint32_t)b->n;
    hdr.proposer = sr->raft->id;
    hdr.term = sr->raft->current_term;
    hdr.seq = ++sr->seq;
    b->term = hdr.term;
    b->seq = hdr.seq;
    /* The body becomes the entry: header in its reserved room, padding to
     * the 8-byte multiple libraft needs (cmd.h); libraft frees it with
     * raft_free, which is free() like k8c_free. */
    static const uint8_t zeros[8];
    k8c_sbuf_append(&b->body, zeros, store_cmd_pad(b->body.len));
    store_cmd_put_header((uint8_t *)b->body.data, &hdr);
    buf.len = b->body.len;
    sr->body_hint = buf.len;
    buf.base = k8c_sbuf_detach(&b->body);
    b->results = k8c_calloc(b->n, sizeof *b->results);
    b->next = sr->inflight;
    sr->inflight = b;
    sr->n_inflight++;
    rv = raft_apply(sr->raft, &b->req, &buf, 1, on_applied);
    if (rv != 0) {
        raft_free(buf.base);
        inflight_remove(sr, b);
        return map_raft_error(sr, rv);
    }
    sr->stats.entries_proposed++;
    sr->stats.requests_proposed += b->n;
    return 0;
}

static void on_barrier(struct raft_barrier *req, int status)
{
    struct read_group *g = req->data;
    struct store_raft *sr = g->sr;
    int code = map_raft_error(sr, status);

    sr->reads_inflight = NULL;
    if (code == 0) {
        sr->stats.reads += g->n;
        if (sr->raft != NULL && g->term == sr->raft->current_term) {
            sr->term_applied = g->term;
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        g->w[i].cb(g->w[i].arg, code);
    }
    k8c_free(g->w);
    k8c_free(g);
    schedule_flush(sr);
}

/* Adds reads to the next barrier. */
static void reads_to_barrier(struct store_raft *sr, struct read_waiter *w, size_t n)
{
    struct read_group *g = sr->reads_queued;
    if (n == 0) {
        return;
    }
    if (g == NULL) {
        g = K8C_NEW(struct read_group);
        g->sr = sr;
        g->req.data = g;
        sr->reads_queued = g;
    }
    if (g->n + n > g->cap) {
        g->cap = g->n + n + 16;
        g->w = k8c_realloc(g->w, g->cap * sizeof *g->w);
    }
    memcpy(g->w + g->n, w, n * sizeof *w);
    g->n += n;
    schedule_flush(sr);
}

/* A read-index round ended: ok when a quorum confirmed this server as the
 * leader of the round's term after the round started. Reads whose index is
 * applied are served; the others (and all, when not confirmed) go behind
 * a barrier. */
static void on_confirmed(void *ctx, bool ok)
{
    struct read_group *g = ctx;
    struct store_raft *sr = g->sr;
    size_t later = 0;

    sr->ri_inflight = NULL;
    ok = ok && !sr->closing && raft_is_leader(sr) && sr->raft->current_term == g->term;
    if (ok) {
        sr->stats.read_index_rounds++;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (ok && raft_last_applied(sr->raft) >= g->commit) {
            sr->stats.reads++;
            g->w[i].cb(g->w[i].arg, 0);
        } else {
            g->w[later++] = g->w[i];
        }
    }
    if (sr->closing) {
        for (size_t i = 0; i < later; i++) {
            g->w[i].cb(g->w[i].arg, K8C_ESHUTDOWN);
        }
    } else {
        reads_to_barrier(sr, g->w, later);
    }
    k8c_free(g->w);
    k8c_free(g);
    if (!sr->closing) {
        schedule_flush(sr);
    }
}

static void start_read_index(struct store_raft *sr)
{
    struct read_group *g = sr->ri_queued;
    sr->ri_queued = NULL;
    g->term = sr->raft->current_term;
    g->commit = sr->raft->commit_index;
    sr->ri_inflight = g;
    if (sr->confirm(sr->confirm_arg, g->term, on_confirmed, g) != 0) {
        sr->ri_inflight = NULL;
        reads_to_barrier(sr, g->w, g->n);
        k8c_free(g->w);
        k8c_free(g);
    }
}

void store_raft_set_confirm(struct store_raft *sr, store_raft_confirm_fn fn, void *arg)
{
    sr->confirm = fn;
    sr->confirm_arg = arg;
}

void store_raft_flush(struct store_raft *sr)
{
    bool leader = raft_is_leader(sr);
    struct batch *b;
    int rv;

    if (sr->closing) {
        return;
    }
    while ((b = sr->queue_head) != NULL && (!leader || sr->n_inflight < sr->opts.max_inflight)) {
        sr->queue_head = b->next;
        if (sr->queue_head == NULL) {
            sr->queue_tail = NULL;
        }
        b->next = NULL;
        rv = leader ? propose(sr, b) : K8C_ENOTLEADER;
        if (rv != 0) {
            if (rv == K8C_ENOTLEADER) {
                leader = false;
            }
            batch_fail(b, rv);
            batch_free(b);
        }
    }
    if (sr->ri_queued != NULL && sr->ri_inflight == NULL) {
        if (leader) {
            start_read_index(sr);
        } else {
            struct read_group *g = sr->ri_queued;
            sr->ri_queued = NULL;
            for (size_t i = 0; i < g->n; i++) {
                g->w[i].cb(g->w[i].arg, K8C_ENOTLEADER);
            }
            k8c_free(g->w);
            k8c_free(g);
        }
    }
    if (sr->reads_queued != NULL && sr->reads_inflight == NULL) {
        struct read_group *g = sr->reads_queued;
        sr->reads_queued = NULL;
        g->term = leader ? sr->raft->current_term : 0;
        rv = leader ? map_raft_error(sr, raft_barrier(sr->raft, &g->req, on_barrier))
                    : K8C_ENOTLEADER;
        if (rv == 0) {
            sr->reads_inflight = g;
            sr->stats.barriers++;
        } else {
            for (size_t i = 0; i < g->n; i++) {
                g->w[i].cb(g->w[i].arg, rv);
            }
            k8c_free(g->w);
            k8c_free(g);
        }
    }
}

static void on_push_done(struct raft_barrier *req, int status)
{
    struct store_raft *sr = req->data;
    (void)status;
    sr->push_inflight = false;
    k8c_free(req);
}

void store_raft_push_commit(struct store_raft *sr)
{
    if (sr->closing || !raft_is_leader(sr) || sr->push_inflight || sr->queue_head != NULL ||
        sr->n_inflight > 0 || sr->reads_inflight != NULL)
        return; /* not leading, or entries on their way carry the commit index already */
    struct raft_barrier *req = K8C_NEW(struct raft_barrier);
    req->data = sr;
    if (raft_barrier(sr->raft, req, on_push_done) != 0) {
        k8c_free(req);
        return;
    }
    sr->push_inflight = true;
    sr->stats.barriers++;
}

int store_raft_submit(struct store_raft *sr, enum store_cmd_type type, uint64_t request_id,
                      const void *data, size_t len, store_raft_apply_cb cb, void *arg)
{
    struct store_cmd_req req = {.type = (uint8_t)type, .id = request_id, .data = data, .len = len};
    struct batch *b;
    int rv;

    if (sr->closing) {
        return K8C_ESHUTDOWN;
    }
    if (!raft_is_leader(sr)) {
        return K8C_ENOTLEADER;
    }
    if ((int)type < STORE_CMD_PUT || type >= STORE_CMD_TYPE_END) {
        return K8C_EINVAL;
    }
    if (len > STORE_CMD_MAX_REQ_BYTES) {
        return K8C_ETOOBIG;
    }
    b = sr->queue_tail;
    if (b == NULL || b->n >= sr->opts.max_batch_requests ||
        (b->n > 0 && b->body.len + store_cmd_req_size(len) >
                         STORE_CMD_HEADER_SIZE + sr->opts.max_batch_bytes)) {
        b = batch_new(sr);
        if (sr->queue_tail != NULL) {
            sr->queue_tail->next = b;
        } else {
            sr->queue_head = b;
        }
        sr->queue_tail = b;
    }
    rv = store_cmd_append(&b->body, &req);
    if (rv != 0) {
        return rv; /* cannot happen: type and size were checked */
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->pend = k8c_realloc(b->pend, b->cap * sizeof *b->pend);
    }
    b->pend[b->n].cb = cb;
    b->pend[b->n].arg = arg;
    b->n++;
    schedule_flush(sr);
    return 0;
}

int store_raft_read_index(struct store_raft *sr, store_raft_read_cb cb, void *arg)
{
    struct read_group *g;

    if (sr->closing) {
        return K8C_ESHUTDOWN;
    }
    if (!raft_is_leader(sr)) {
        return K8C_ENOTLEADER;
    }
    /* A read index once this leader's own entries are applied; a barrier
     * (which also gets there) before. */
    bool ri = sr->confirm != NULL && sr->term_applied == sr->raft->current_term;
    struct read_group **q = ri ? &sr->ri_queued : &sr->reads_queued;
    g = *q;
    if (g == NULL) {
        g = K8C_NEW(struct read_group);
        g->sr = sr;
        g->req.data = g;
        *q = g;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->w = k8c_realloc(g->w, g->cap * sizeof *g->w);
    }
    g->w[g->n].cb = cb;
    g->w[g->n].arg = arg;
    g->n++;
    schedule_flush(sr);
    return 0;
}

/* ---- status and membership ---- */

const char *store_raft_role_name(int role)
{
    switch (role) {
    case STORE_RAFT_FOLLOWER:
        return "follower";
    case STORE_RAFT_CANDIDATE:
        return "candidate";
    case STORE_RAFT_LEADER:
        return "leader";
    default:
        return "unavailable";
    }
}

uint64_t store_raft_leader(struct store_raft *sr, const char **address)
{
    raft_id id = 0;
    const char *addr = NULL;

    if (sr->raft != NULL) {
        raft_leader(sr->raft, &id, &addr);
    }
    if (address != NULL) {
        *address = id != 0 ? addr : NULL;
    }
    return id;
}

uint64_t store_raft_term(struct store_raft *sr)
{
    return sr != NULL && sr->raft != NULL ? sr->raft->current_term : 0;
}

void store_raft_get_status(struct store_raft *sr, struct store_raft_status *st)
{
    const char *addr = NULL;

    *st = sr->stats;
    st->fsm_applied = sr->fsm_applied;
    if (sr->raft == NULL) {
        return;
    }
    st->id = sr->raft->id;
    switch (raft_state(sr->raft)) {
    case RAFT_FOLLOWER:
        st->role = STORE_RAFT_FOLLOWER;
        break;
    case RAFT_CANDIDATE:
        st->role = STORE_RAFT_CANDIDATE;
        break;
    case RAFT_LEADER:
        st->role = STORE_RAFT_LEADER;
        break;
    default:
        st->role = STORE_RAFT_UNAVAILABLE;
        break;
    }
    st->leader_id = store_raft_leader(sr, &addr);
    snprintf(st->leader_address, sizeof st->leader_address, "%s", addr != NULL ? addr : "");
    st->term = sr->raft->current_term;
    st->commit_index = sr->raft->commit_index;
    st->applied_index = raft_last_applied(sr->raft);
    st->last_index = raft_last_index(sr->raft);
}

size_t store_raft_members(struct store_raft *sr, struct store_raft_member *out, size_t max)
{
    const struct raft_configuration *c;

    if (sr->raft == NULL) {
        return 0;
    }
    c = &sr->raft->configuration;
    for (unsigned i = 0; i < c->n && i < max; i++) {
        out[i].id = c->servers[i].id;
        snprintf(out[i].address, sizeof out[i].address, "%s", c->servers[i].address);
        out[i].voter = c->servers[i].role == RAFT_VOTER;
        out[i].role = c->servers[i].role == RAFT_VOTER     ? STORE_RAFT_MEMBER_VOTER
                      : c->servers[i].role == RAFT_STANDBY ? STORE_RAFT_MEMBER_STANDBY
                                                           : STORE_RAFT_MEMBER_SPARE;
        out[i].match_index = 0;
        if (raft_is_leader(sr) && sr->raft->leader_state.progress != NULL) {
            out[i].match_index = c->servers[i].id == sr->raft->id
                                     ? raft_last_index(sr->raft)
                                     : sr->raft->leader_state.progress[i].match_index;
        }
    }
    return c->n;
}

static struct change_ctx *change_new(struct store_raft *sr, uint64_t id, store_raft_change_cb cb,
                                     void *arg)
{
    struct change_ctx *ctx = K8C_NEW(struct change_ctx);
    ctx->sr = sr;
    ctx->cb = cb;
    ctx->arg = arg;
    ctx->id = id;
    ctx->change.data = ctx;
    ctx->transfer.data = ctx;
    return ctx;
}

static void change_done(struct change_ctx *ctx, int status)
{
    if (ctx->cb != NULL) {
        ctx->cb(ctx->arg, status);
    }
    k8c_free(ctx);
}

static void on_change(struct raft_change *req, int status)
{
    struct change_ctx *ctx = req->data;
    struct store_raft *sr = ctx->sr;
    int rv;

    if (status == 0 && ctx->promote) {
        /* Added as a spare: now make it a voter. libraft replicates the log
         * to it first and commits the role change once it has caught up. */
        ctx->promote = false;
        rv = raft_assign(sr->raft, &ctx->change, ctx->id, RAFT_VOTER, on_change);
        if (rv == 0) {
            return;
        }
        k8c_log_warn("raft member added but could not be promoted to voter id=%llx err=%s",
                     (unsigned long long)ctx->id, raft_strerror(rv));
        status = rv;
    }
    if (status == 0) {
        k8c_log_info("raft configuration changed id=%llx", (unsigned long long)ctx->id);
    }
    change_done(ctx, map_raft_error(sr, status));
}

int store_raft_add_member(struct store_raft *sr, uint64_t id, const char *address, bool voter,
                          store_raft_change_cb cb, void *arg)
{
    struct change_ctx *ctx;
    int rv;

    if (id == 0 || address == NULL || address[0] == '\0') {
        return K8C_EINVAL;
    }
    if (sr->closing) {
        return K8C_ESHUTDOWN;
    }
    if (!raft_is_leader(sr)) {
        return K8C_ENOTLEADER;
    }
    ctx = change_new(sr, id, cb, arg);
    ctx->promote = voter;
    rv = raft_add(sr->raft, &ctx->change, id, address, on_change);
    if (rv != 0) {
        k8c_free(ctx);
        return map_raft_error(sr, rv);
    }
    return 0;
}

int store_raft_remove_member(struct store_raft *sr, uint64_t id, store_raft_change_cb cb, void *arg)
{
    struct change_ctx *ctx;
    int rv;

    if (sr->closing) {
        return K8C_ESHUTDOWN;
    }
    if (!raft_is_leader(sr)) {
        return K8C_ENOTLEADER;
    }
    ctx = change_new(sr, id, cb, arg);
    rv = raft_remove(sr->raft, &ctx->change, id, on_change);
    if (rv != 0) {
        k8c_free(ctx);
        return map_raft_error(sr, rv);
    }
    return 0;
}

int store_raft_assign(struct store_raft *sr, uint64_t id, int role, store_raft_change_cb cb,
                      void *arg)
{
    struct change_ctx *ctx;
    int raft_role, rv;

    switch (role) {
    case STORE_RAFT_MEMBER_VOTER:
        raft_role = RAFT_VOTER;
        break;
    case STORE_RAFT_MEMBER_STANDBY:
        raft_role = RAFT_STANDBY;
        break;
    case STORE_RAFT_MEMBER_SPARE:
        raft_role = RAFT_SPARE;
        break;
    default:
        return K8C_EINVAL;
    }
    if (sr->closing) {
        return K8C_ESHUTDOWN;
    }
    if (!raft_is_leader(sr)) {
        return K8C_ENOTLEADER;
    }
    ctx = change_new(sr, id, cb, arg);
    rv = raft_assign(sr->raft, &ctx->change, id, raft_role, on_change);
    if (rv != 0) {
        /* libraft 0.15 leaves the request registered when submitting the
         * configuration entry fails; it must not point at freed memory. */
        if (raft_is_leader(sr) && sr->raft->leader_state.change == &ctx->change) {
            sr->raft->leader_state.change = NULL;
        }
        k8c_free(ctx);
        return map_raft_error(sr, rv);
    }
    return 0;
}

static void on_transfer(struct raft_transfer *req)
{
    struct change_ctx *ctx = req->data;
    struct store_raft *sr = ctx->sr;
    bool moved = raft_state(sr->raft) != RAFT_LEADER;

    k8c_log_info("raft leadership transfer finished target=%llx moved=%s",
                 (unsigned long long)req->id, moved ? "true" : "false");
    change_done(ctx, moved ? 0 : K8C_ETIMEDOUT);
}

int store_raft_transfer(struct store_raft *sr, uint64_t id, store_raft_change_cb cb, void *arg)
{
    struct change_ctx *ctx;
    int rv;

    if (sr->closing) {
        return K8C_ESHUTDOWN;
    }
    if (!raft_is_leader(sr)) {
        return K8C_ENOTLEADER;
    }
    ctx = change_new(sr, id, cb, arg);
    rv = raft_transfer(sr->raft, &ctx->transfer, id, on_transfer);
    if (rv != 0) {
        k8c_free(ctx);
        return map_raft_error(sr, rv);
    }
    return 0;
}

/* ---- peers ---- */

uint64_t store_raft_member_id(const char *address)
{
    uint64_t id = raft_digest(address, 0) & 0x7fffffffffffffffull;
    return id != 0 ? id : 1;
}

int store_raft_url_to_address(const char *url, char *address, size_t size, char *errmsg)
{
    const char *hostport = url;
    const char *colon, *end;
    char host[64];
    size_t hlen;
    struct in_addr ia;
    long port;
    char *pend;

    if (strncmp(url, "http://", 7) == 0) {
        hostport = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        hostport = url + 8;
    }
    end = hostport + strcspn(hostport, "/");
    colon = memchr(hostport, ':', (size_t)(end - hostport));
    if (colon == NULL) {
        goto bad;
    }
    hlen = (size_t)(colon - hostport);
    if (hlen == 0 || hlen >= sizeof host) {
        goto bad;
    }
    memcpy(host, hostport, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof host, "127.0.0.1");
    }
    if (inet_pton(AF_INET, host, &ia) != 1) {
        if (errmsg != NULL) {
            k8c_errmsg_printf(errmsg, "peer URL %s: raft peers need an IPv4 address", url);
        }
        return K8C_EINVAL;
    }
    errno = 0;
    port = strtol(colon + 1, &pend, 10);
    if (pend != end || colon + 1 == end || port <= 0 || port > 65535 || errno != 0) {
        goto bad;
    }
    if ((size_t)snprintf(address, size, "%s:%ld", host, port) >= size) {
        goto bad;
    }
    return 0;
bad:
    if (errmsg != NULL) {
        k8c_errmsg_printf(errmsg, "bad peer URL %s: want http://ip:port", url);
    }
    return K8C_EINVAL;
}

int store_raft_parse_initial_cluster(const char *spec, struct store_raft_peer **peers, size_t *n,
                                     char *errmsg)
{
    struct store_raft_peer *out = NULL;
    size_t count = 0;
    const char *p = spec;
    int rv;

    *peers = NULL;
    *n = 0;
    if (spec == NULL || spec[0] == '\0') {
        k8c_errmsg_printf(errmsg, "--initial-cluster is empty");
        return K8C_EINVAL;
    }
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        struct store_raft_peer *peer;
        size_t nlen, ulen;

        if (eq == NULL || eq == p || eq + 1 == p + len) {
            k8c_errmsg_printf(errmsg, "--initial-cluster entry %.*s: want name=url", (int)len, p);
            goto err;
        }
        nlen = (size_t)(eq - p);
        ulen = len - nlen - 1;
        if (count == MAX_PEERS) {
            k8c_errmsg_printf(errmsg, "--initial-cluster has more than %d members", MAX_PEERS);
            goto err;
        }
        out = k8c_realloc(out, (count + 1) * sizeof *out);
        peer = &out[count];
        memset(peer, 0, sizeof *peer);
        if (nlen >= sizeof peer->name || ulen >= sizeof peer->url) {
            k8c_errmsg_printf(errmsg, "--initial-cluster entry %.*s is too long", (int)len, p);
            goto err;
        }
        memcpy(peer->name, p, nlen);
        memcpy(peer->url, eq + 1, ulen);
        rv = store_raft_url_to_address(peer->url, peer->address, sizeof peer->address, errmsg);
        if (rv != 0) {
            goto err;
        }
        peer->id = store_raft_member_id(peer->address);
        for (size_t i = 0; i < count; i++) {
            if (strcmp(out[i].name, peer->name) == 0 ||
                strcmp(out[i].address, peer->address) == 0) {
                k8c_errmsg_printf(errmsg, "--initial-cluster lists %s twice", peer->name);
                goto err;
            }
        }
        count++;
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    *peers = out;
    *n = count;
    return 0;
err:
    k8c_free(out);
    return K8C_EINVAL;
}

/* ---- owned I/O mode ---- */

static void on_flush_turn(struct k8c_turn *t)
{
    store_raft_flush(t->data);
}

static void on_flush_turn_closed(struct k8c_turn *t)
{
    struct store_raft *sr = t->data;
    void (*cb)(void *) = sr->close_cb;
    void *arg = sr->close_arg;
    store_raft_del(sr);
    if (cb != NULL) {
        cb(arg);
    }
}

static void on_raft_closed(struct raft *r)
{
    struct store_raft *sr = r->data;

    raft_uv_close(&sr->io);
    raft_uv_tcp_close(&sr->transport);
    sr->raft = NULL;
    k8c_turn_close(&sr->flush_turn, on_flush_turn_closed);
}

static void close_raft(struct store_raft *sr)
{
    k8c_log_info("raft stopping id=%llx", (unsigned long long)sr->raft->id);
    raft_close(sr->raft, on_raft_closed);
}

static void on_close_transfer(struct raft_transfer *req)
{
    struct store_raft *sr = req->data;
    close_raft(sr);
}

static int count_voters(struct store_raft *sr)
{
    int n = 0;
    for (unsigned i = 0; i < sr->raft->configuration.n; i++) {
        n += sr->raft->configuration.servers[i].role == RAFT_VOTER;
    }
    return n;
}

void store_raft_close(struct store_raft *sr, bool transfer, void (*cb)(void *arg), void *arg)
{
    sr->close_cb = cb;
    sr->close_arg = arg;
    sr->closing = true;
    fail_queued(sr, K8C_ESHUTDOWN);
    if (transfer && raft_is_leader(sr) && count_voters(sr) > 1) {
        sr->close_transfer.data = sr;
        if (raft_transfer(sr->raft, &sr->close_transfer, 0, on_close_transfer) == 0) {
            k8c_log_info("raft transferring leadership before stopping");
            return;
        }
    }
    close_raft(sr);
}

/*
 * libraft's open segments are made ahead of use with posix_fallocate, which
 * leaves unwritten extents. Each append rewrites the segment's last partly
 * filled block together with fresh blocks after it, so on ext4 the write
 * spans a written and an unwritten extent: with RWF_NOWAIT that is refused
 * (EAGAIN), libraft sends the write again through the thread pool, and the
 * O_DSYNC write then waits for the journal to record the extent conversion.
 * This definition takes the place of libc's for the whole process (libraft
 * calls it from its thread pool): open segments ("open-N") are filled with
 * zeros and synced once when made, and their pages dropped from the page
 * cache (cached pages also make a direct write wait), so every append is an
 * overwrite of written blocks that the kernel completes asynchronously with
 * a plain data sync. Other files get libc's posix_fallocate. bench/store
 * measured the leader's own append at 4-6 ms instead of 10-12 ms at 1000
 * clients.
 */
static bool is_open_segment(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    return strncmp(base, "open-", 5) == 0;
}

int posix_fallocate(int fd, off_t offset, off_t len)
{
    static char zeros[1 << 20]; /* never written: every page is the zero page */
    int (*libc_fallocate)(int, off_t, off_t);
    *(void **)&libc_fallocate = dlsym(RTLD_NEXT, "posix_fallocate");
    if (libc_fallocate == NULL)
        return ENOSYS;
    int rv = libc_fallocate(fd, offset, len);
    if (rv != 0 || offset < 0 || len <= 0 || !is_open_segment(fd))
        return rv;
    for (off_t at = offset; at < offset + len;) {
        size_t n = (size_t)(offset + len - at);
        ssize_t w = pwrite(fd, zeros, n < sizeof zeros ? n : sizeof zeros, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        at += w;
    }
    if (fdatasync(fd) != 0)
        return errno;
    /* cached pages would make libraft's direct writes fall back again */
    (void)posix_fadvise(fd, offset, len, POSIX_FADV_DONTNEED);
    return 0;
}

#ifdef K8C_RAFT_CRC
/*
 * libraft checksums each batch of entries it writes and loads, and each
 * snapshot, with byteCrc32: one table lookup per byte, a dependency chain of
 * about five cycles a byte, 7% of every peer's CPU at 1000 clients in
 * bench/store. This definition replaces it for libraft's own calls (the
 * store links libraft's archive with that symbol weak) and gives the same
 * results eight bytes a step (slicing-by-8): crc_table[k][b] is the checksum
 * of byte b followed by k zero bytes, so the eight lookups of a step are
 * independent.
 */
static uint32_t crc_table[8][256];

__attribute__((constructor)) static void crc_table_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b << 24;
        for (int i = 0; i < 8; i++)
            c = (c & 0x80000000u) != 0 ? (c << 1) ^ 0x04C11DB7u : c << 1;
        crc_table[0][b] = c;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t c = crc_table[k - 1][b];
            crc_table[k][b] = (c << 8) ^ crc_table[0][c >> 24];
        }
}

unsigned byteCrc32(const void *buf, size_t size, unsigned init)
{
    const uint8_t *p = buf;
    uint32_t crc = init;
    for (; size >= 8; size -= 8, p += 8) {
        uint32_t hi;
        memcpy(&hi, p, 4);
        hi = crc ^ __builtin_bswap32(hi);
        crc = crc_table[7][hi >> 24] ^ crc_table[6][(hi >> 16) & 0xff] ^
              crc_table[5][(hi >> 8) & 0xff] ^ crc_table[4][hi & 0xff] ^ crc_table[3][p[4]] ^
              crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    for (; size > 0; size--, p++)
        crc = (crc << 8) ^ crc_table[0][(crc >> 24) ^ *p];
    return crc;
}
#endif

/* mkdir -p with mode 0700 for new directories. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof buf) {
        return K8C_EINVAL;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                return -errno;
            }
            buf[i] = c;
        }
    }
    return 0;
}
/*
 * Why the peer address cannot be listened on, as etcd says it ("bind: address already in
 * use"), or NULL: libraft reports only "I/O error" when its transport's bind fails.
 */
static const char *peer_bind_error(const char *address, char *buf, size_t size)
{
    char host[64];
    const char *colon = strrchr(address, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
        return NULL;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        return NULL;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)), err = errno;
    close(fd);
    if (rc == 0)
        return NULL;
    snprintf(buf, size, "listen tcp %s: bind: %s", address, strerror(err));
    return buf;
}

int store_raft_new(uv_loop_t *loop, const struct store_raft_config *cfg,
                   const struct store_fsm *fsm, struct store_raft **out, char *errmsg)
{
    struct store_raft_peer *peers = NULL, *self = NULL;
    struct raft_configuration conf;
    struct store_raft *sr;
    size_t n_peers = 0;
    int rv;

    *out = NULL;
    if (cfg->name == NULL || cfg->data_dir == NULL) {
        k8c_errmsg_printf(errmsg, "raft needs a member name and a data directory");
        return K8C_EINVAL;
    }
    rv = store_raft_parse_initial_cluster(cfg->initial_cluster, &peers, &n_peers, errmsg);
    if (rv != 0) {
        return rv;
    }
    for (size_t i = 0; i < n_peers; i++) {
        if (strcmp(peers[i].name, cfg->name) == 0) {
            self = &peers[i];
        }
    }
    if (self == NULL) {
        k8c_errmsg_printf(errmsg, "member %s is not listed in --initial-cluster", cfg->name);
        k8c_free(peers);
        return K8C_EINVAL;
    }
    rv = make_dirs(cfg->data_dir);
    if (rv != 0) {
        k8c_errmsg_printf(errmsg, "cannot create raft data dir %s: %s", cfg->data_dir,
                          k8c_strerror(rv));
        k8c_free(peers);
        return rv;
    }

    sr = store_raft_alloc(fsm, &cfg->opts);
    /* libraft's uv I/O runs snapshot_async on its worker threads: the LMDB
     * copy no longer stops the loop (fsm_snapshot_v3). */
    sr->raft_fsm.version = 3;
    sr->raft_fsm.snapshot = fsm_snapshot_v3;
    sr->raft_fsm.snapshot_async = fsm_snapshot_async;
    sr->owns_io = true;
    sr->loop = loop;
    k8c_turn_init(loop, &sr->flush_turn, on_flush_turn, sr, 0);

    rv = raft_uv_tcp_init(&sr->transport, loop);
    if (rv != 0) {
        k8c_errmsg_printf(errmsg, "raft transport: %s", raft_strerror(rv));
        goto err_handles;
    }
    sr->tcp_listen = sr->transport.listen;
    sr->tcp_connect = sr->transport.connect;
    sr->transport.listen = nodelay_listen;
    sr->transport.connect = nodelay_connect;
    rv = raft_uv_init(&sr->io, loop, cfg->data_dir, &sr->transport);
    if (rv != 0) {
        k8c_errmsg_printf(errmsg, "raft storage in %s: %s", cfg->data_dir, sr->io.errmsg);
        raft_uv_tcp_close(&sr->transport);
        goto err_handles;
    }
    /* Snapshots are LMDB copies taken often (snapshot_policy); LZ4 on them
     * cost more CPU than the disk it saves. */
    raft_uv_set_snapshot_compression(&sr->io, false);
    /* Open segments of 32 MiB instead of libraft's 8 MiB. Each closing of a
     * segment (it fills up, or a snapshot closes it) costs a truncate, two
     * fsyncs and a rename, and a new segment is zero-filled (posix_fallocate
     * below), and appends meanwhile wait for the disk: at 1000 clients in
     * bench/store an 8 MiB segment filled every 0.3 s and each closing
     * stalled the commits for about 50 ms. 32 MiB gave 107-110k puts/s
     * against 88-96k (64 MiB no better). The data dir holds up to three:
     * the one in use and two made ahead. */
    raft_uv_set_segment_size(&sr->io, STORE_RAFT_SEGMENT_SIZE);
    /* libraft 0.15's uv I/O implements async_work (a uv_queue_work) but still
     * reports interface version 1, which makes raft_init refuse fsm version 3;
     * the method is there, so say so. Without it the snapshot copy runs in
     * the loop. */
    if (sr->io.async_work != NULL && sr->io.version < 2)
        sr->io.version = 2;
    if (sr->io.version < 2) {
        sr->raft_fsm.version = 2;
        sr->raft_fsm.snapshot = fsm_snapshot;
        sr->raft_fsm.snapshot_async = NULL;
    }
    rv = raft_init(&sr->raft_storage, &sr->io, &sr->raft_fsm, self->id, self->address);
    if (rv != 0) {
        k8c_errmsg_printf(errmsg, "raft init: %s", raft_errmsg(&sr->raft_storage));
        raft_uv_close(&sr->io);
        raft_uv_tcp_close(&sr->transport);
        goto err_handles;
    }
    sr->raft_storage.data = sr;
    store_raft_attach(sr, &sr->raft_storage);
    unsigned election_ms = cfg->election_ms ? cfg->election_ms : 1000;
    raft_set_election_timeout(sr->raft, election_ms);
    /* libraft waits this long (default 30 s) before resending a snapshot the
     * follower could not install, e.g. because it was busy taking its own. */
    raft_set_install_snapshot_timeout(sr->raft, 5 * election_ms);
    raft_set_heartbeat_timeout(sr->raft, cfg->heartbeat_ms ? cfg->heartbeat_ms : 100);
    raft_set_pre_vote(sr->raft, true);
    unsigned threshold = cfg->snapshot_threshold ? cfg->snapshot_threshold : 10000;
    sr->snap_requests = threshold;
    sr->snap_entries = threshold;
    sr->snap_trailing = cfg->snapshot_trailing ? cfg->snapshot_trailing : (threshold + 1) / 2;
    raft_set_snapshot_threshold(sr->raft, threshold);
    raft_set_snapshot_trailing(sr->raft, (unsigned)sr->snap_trailing);

    if (cfg->new_cluster) {
        raft_configuration_init(&conf);
        for (size_t i = 0; i < n_peers; i++) {
            rv = raft_configuration_add(&conf, peers[i].id, peers[i].address, RAFT_VOTER);
            if (rv != 0) {
                k8c_errmsg_printf(errmsg, "raft configuration: %s", raft_strerror(rv));
                raft_configuration_close(&conf);
                goto err_raft;
            }
        }
        rv = raft_bootstrap(sr->raft, &conf);
        raft_configuration_close(&conf);
        if (rv == RAFT_CANTBOOTSTRAP) {
            k8c_log_info("raft data dir has state; restarting without bootstrap dir=%s",
                         cfg->data_dir);
        } else if (rv != 0) {
            k8c_errmsg_printf(errmsg, "raft bootstrap: %s", raft_errmsg(sr->raft));
            goto err_raft;
        }
    }
    rv = raft_start(sr->raft);
    if (rv != 0) {
        /* the detail may be libraft's, its I/O's or its transport's (a peer port that is
         * taken), whichever layer failed */
        char bind_err[160];
        const char *why = raft_errmsg(sr->raft);
        if (why == NULL || why[0] == '\0')
            why = sr->io.errmsg[0] != '\0' ? sr->io.errmsg : sr->transport.errmsg;
        if (why[0] == '\0')
            why = peer_bind_error(self->address, bind_err, sizeof(bind_err));
        k8c_errmsg_printf(errmsg, "raft start: %s",
                          why != NULL && why[0] != '\0' ? why : raft_strerror(rv));
        goto err_raft;
    }
    k8c_log_info("raft started name=%s id=%llx address=%s peers=%zu fsm_applied=%llu", cfg->name,
                 (unsigned long long)self->id, self->address, n_peers,
                 (unsigned long long)sr->fsm_applied);
    k8c_free(peers);
    *out = sr;
    return 0;

err_raft:
    /* raft_init succeeded: release asynchronously through the normal close. */
    k8c_free(peers);
    rv = map_raft_error(sr, rv);
    sr->closing = true;
    close_raft(sr);
    return rv;
err_handles:
    k8c_free(peers);
    sr->raft = NULL;
    k8c_turn_close(&sr->flush_turn, on_flush_turn_closed);
    return K8C_EIO;
}
