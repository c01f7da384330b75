/*
 * Raft glue of k8c-store: canonical raft (libraft 0.15) driving the store's
 * state machine.
 *
 * What this module does:
 *   - owns a struct raft with libraft's libuv disk I/O and TCP transport
 *     (store_raft_new), or, for tests, wraps a raft instance created by
 *     someone else, e.g. libraft's in-memory fixture (store_raft_new_attached);
 *   - group commit: store_raft_submit queues a client request; all requests
 *     queued while earlier batches are in flight (or within one loop
 *     iteration) go into ONE raft entry (see cmd.h), so they share one log
 *     append, one fsync and one FSM transaction;
 *   - applies committed batches to a store_fsm (implemented by the MVCC layer)
 *     and hands each proposer its per-request results;
 *   - replay safety: the FSM persists its applied index with its data; entries
 *     at or below it are not applied again, and a snapshot older than it is
 *     not restored;
 *   - linearizable reads: store_raft_read_index queues a read; one
 *     read-index round (a quorum confirms the leader, no log entry; see
 *     store_raft_set_confirm) or, before the leader's first entry of its term
 *     is applied and whenever a round fails, one raft barrier serves every
 *     read queued before it started;
 *   - leader info, status, membership (add/remove/list), leadership transfer.
 *
 * Threading: everything runs on one thread (the uv loop's, or the test's),
 * except the copy of a snapshot in owned-I/O mode (libraft's worker thread,
 * store_fsm.snapshot). Callbacks are never called from inside the call that
 * registered them.
 *
 * Snapshot payloads carry a small header {magic, version, raft index}
 * followed by either the bytes of store_fsm.snapshot (version 1) or, when the
 * FSM has store_fsm.mark, a mark (version 2): the state stays in the FSM's
 * own durable storage, as etcd's raft snapshots leave the database out, and a
 * peer that must install the snapshot fetches the state from the member the
 * mark names (store_fsm.fetch). Either state may be later than the raft
 * index; the FSM's own applied index (which can be ahead of raft's) is what a
 * restore makes current.
 */
#ifndef STORE_RAFT_H
#define STORE_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "cmd.h"

struct raft;
struct raft_fsm;
struct store_raft;

/* Outcome of one applied request, filled in by store_fsm.apply. */
struct store_raft_result {
    int status;           /* 0, or a negative code: why this request failed */
    struct k8c_buf *data; /* the response (k8c-store: framed for gRPC) or NULL; one
                             reference owned here */
};

/*
 * The state machine, implemented by the MVCC layer. All callbacks run on the
 * raft thread, one at a time.
 */
struct store_fsm {
    void *data;
    /* Highest raft index whose effects are durably in the FSM's storage
     * (0 when empty). Read when the glue starts. */
    uint64_t (*applied_index)(void *data);
    /* Applies the n requests of the committed entry at `index` in order, in one
     * storage transaction that also records `index` as the applied index.
     * `term` is the term of the proposing leader. results is NULL when no
     * local caller waits for them (followers, replay); otherwise it has n
     * zeroed slots to fill. A request the FSM rejects (bad payload, compacted
     * revision, ...) is a per-request status, not a failure of apply. Return 0,
     * or a negative code for a storage failure: the entry is then retried. */
    int (*apply)(void *data, uint64_t index, uint64_t term, const struct store_cmd_req *reqs,
                 size_t n, struct store_raft_result *results);
    /* Serializes the whole state. *index is set to the FSM's applied index the
     * state corresponds to; *out receives one reference. Return 0 or a
     * negative code (the snapshot is skipped and retried later). */
    int (*snapshot)(void *data, uint64_t *index, struct k8c_buf **out);
    /* Replaces the whole state with bytes produced by snapshot() on some peer,
     * which corresponded to applied index `index`; afterwards applied_index()
     * is `index`. The bytes are borrowed for the duration of the call. */
    int (*restore)(void *data, uint64_t index, const uint8_t *bytes, size_t len);
    /* Optional: about how many bytes snapshot() would produce now. Spaces
     * snapshots so that their copying costs about STORE_RAFT_SNAPSHOT_BYTES_PER_REQUEST
     * per applied request however large the state grows. */
    uint64_t (*state_bytes)(void *data);
    /* Optional, both or neither: mark snapshots. mark makes the state
     * durable, sets *index to the applied index it holds, and returns in *out
     * (one reference) what a peer needs to fetch it: a snapshot then costs an
     * fsync, not a copy of the state, so snapshots are taken every
     * snapshot_threshold requests whatever the state's size. May run on
     * libraft's worker thread, like snapshot. fetch brings this FSM's state
     * to at least applied index `index` from the source a peer's mark names
     * (the bytes are borrowed); it may block the loop for as long as the copy
     * takes. Return 0 or a negative code. */
    int (*mark)(void *data, uint64_t *index, struct k8c_buf **out);
    int (*fetch)(void *data, uint64_t index, const uint8_t *mark, size_t len);
};

/* 256: copying (and writing) the state costs about as much as each request
 * itself; the log kept in memory between snapshots is then about as large as
 * the state. At 1 KiB the copies of three members on two cores took the p99
 * of 1000 writing clients from ~65 ms to ~350 ms (bench/store). */
#define STORE_RAFT_SNAPSHOT_BYTES_PER_REQUEST 256

/* Group-commit knobs; zero fields take the defaults. */
struct store_raft_options {
    unsigned max_batch_requests; /* requests per entry (default 1024) */
    size_t max_batch_bytes;      /* encoded bytes per entry (default 4 MiB) */
    unsigned max_inflight;       /* entries proposed and not yet applied (default 2) */
};

/* Configuration of a store_raft that owns its I/O. Strings are copied. */
struct store_raft_config {
    const char *name;            /* this member in initial_cluster */
    const char *data_dir;        /* raft log and snapshots; created if missing */
    const char *initial_cluster; /* "n1=http://10.0.0.1:2380,n2=..." */
    bool new_cluster;            /* --initial-cluster-state new (else existing) */
    unsigned heartbeat_ms;       /* default 100 */
    unsigned election_ms;        /* default 1000 */
    unsigned snapshot_threshold; /* requests between snapshots (--snapshot-count, as etcd
                                  * counts them; also the cap in entries), default 10000 */
    unsigned snapshot_trailing;  /* requests of log kept after a snapshot, default threshold/2 */
    struct store_raft_options opts;
};

/* One peer of --initial-cluster. address is the raft transport address
 * "ip:port" (IPv4 literal; "localhost" is mapped to 127.0.0.1). */
struct store_raft_peer {
    char name[64];
    char url[256];
    char address[64];
    uint64_t id;
};

/* Raft server id of a member with transport address "ip:port": a 63-bit
 * digest, never 0. Leader (MemberAdd has only peer URLs) and the joining
 * member derive the same id. */
uint64_t store_raft_member_id(const char *address);

/* Converts a peer URL "http(s)://host:port" into a transport address "ip:port".
 * Returns 0 or K8C_EINVAL (message in errmsg, may be NULL). */
int store_raft_url_to_address(const char *url, char *address, size_t size, char *errmsg);

/* Parses "name=url[,name=url...]" (at most 64 peers). *peers is a new array
 * (k8c_free). Returns 0 or K8C_EINVAL with errmsg set: empty, malformed,
 * duplicate names or addresses. */
int store_raft_parse_initial_cluster(const char *spec, struct store_raft_peer **peers, size_t *n,
                                     char *errmsg);

/*
 * Creates a raft server with libuv I/O in cfg->data_dir and the TCP
 * transport, and starts it. First start with new_cluster bootstraps the
 * configuration of initial_cluster (same ids on every peer); a data dir that
 * already holds a log is simply restarted; existing-cluster members start
 * empty and wait for the leader (which ran MemberAdd first) to replicate to
 * them. fsm is copied. Returns 0 and *out, or a negative code with errmsg.
 */
int store_raft_new(uv_loop_t *loop, const struct store_raft_config *cfg,
                   const struct store_fsm *fsm, struct store_raft **out, char *errmsg);

/*
 * Stops: fails queued requests with K8C_ESHUTDOWN, optionally transfers
 * leadership first (when this server is the leader of a multi-voter cluster;
 * bounded by the election timeout), closes raft and its I/O, frees sr, then
 * calls cb(arg) (may be NULL). In-flight requests complete with K8C_ESHUTDOWN
 * or K8C_ELEADERCHANGED before cb.
 */
void store_raft_close(struct store_raft *sr, bool transfer, void (*cb)(void *arg), void *arg);

/*
 * Test/embedding mode: a glue object whose raft instance is created by the
 * caller. Pass store_raft_fsm(sr) as the raft FSM when creating the instance
 * (raft_init or raft_fixture_grow), then store_raft_attach before the instance
 * starts. There is no loop: call store_raft_flush to propose what is queued
 * (store_raft_new does that from a uv check handle). store_raft_del frees;
 * call it only after the raft instance is closed.
 */
struct store_raft *store_raft_new_attached(const struct store_fsm *fsm,
                                           const struct store_raft_options *opts);
struct raft_fsm *store_raft_fsm(struct store_raft *sr);
void store_raft_attach(struct store_raft *sr, struct raft *raft);
void store_raft_del(struct store_raft *sr);
/* The raft instance (borrowed). */
struct raft *store_raft_raft(struct store_raft *sr);

/*
 * Completion of a submitted request. status 0: the request was committed and
 * applied, *result holds the FSM's per-request status and response (the
 * callee may steal result->data by setting it to NULL; the glue unrefs what
 * is left). Otherwise result is NULL and status is one of:
 *   K8C_ENOTLEADER      not proposed (this server is not the leader);
 *   K8C_ELEADERCHANGED  proposed, but leadership was lost: outcome unknown;
 *   K8C_ESHUTDOWN       the server is stopping;
 *   K8C_EIO             raft or the FSM failed (logged).
 */
typedef void (*store_raft_apply_cb)(void *arg, int status, struct store_raft_result *result);

/*
 * Queues one request for the next batch; data is copied. Returns 0 (cb will
 * be called exactly once, later), or, without calling cb: K8C_ENOTLEADER (ask
 * store_raft_leader for a redirect), K8C_ESHUTDOWN, K8C_EINVAL (bad type),
 * K8C_ETOOBIG (len > STORE_CMD_MAX_REQ_BYTES). arg must stay valid until cb.
 */
int store_raft_submit(struct store_raft *sr, enum store_cmd_type type, uint64_t request_id,
                      const void *data, size_t len, store_raft_apply_cb cb, void *arg);

/* Completion of a linearizable read: status 0 means every write committed
 * before the read was queued is applied to the local FSM and this server was
 * the leader when the barrier committed, so the read may be served locally
 * now. Errors as for store_raft_apply_cb. */
typedef void (*store_raft_read_cb)(void *arg, int status);

/* Queues a read. All reads queued while no barrier is in flight share the
 * next barrier; reads arriving while one is in flight share the one after.
 * Returns 0 or K8C_ENOTLEADER / K8C_ESHUTDOWN (cb not called). */
int store_raft_read_index(struct store_raft *sr, store_raft_read_cb cb, void *arg);

/*
 * Read index without a log entry: fn asks the other voters whether this
 * server is still the leader of `term` (asked after the read arrived) and
 * calls done(ctx, true) once a quorum, counting this server, said yes, or
 * done(ctx, false) (never from inside fn) when it cannot get one; returns
 * non-zero when it cannot start. Reads then wait for the commit index taken
 * when the round started. Used only once an entry of the leader's current
 * term has been applied; reads fall back to a barrier whenever a round
 * fails. Without fn every linearizable read goes behind a barrier.
 */
typedef void (*store_raft_confirm_done)(void *ctx, bool ok);
typedef int (*store_raft_confirm_fn)(void *arg, uint64_t term, store_raft_confirm_done done,
                                     void *ctx);
void store_raft_set_confirm(struct store_raft *sr, store_raft_confirm_fn fn, void *arg);

/* Proposes queued batches (up to max_inflight in flight) and a barrier for
 * queued reads. Fails queued work with K8C_ENOTLEADER if not leader. */
void store_raft_flush(struct store_raft *sr);

/* Leader: tells the followers the commit index now. libraft sends it with
 * the next entries or, without any, the next heartbeat (--heartbeat-interval
 * later); etcd's leader sends it at once. With no entry on its way, this
 * proposes a barrier (an empty entry), whose replication carries it. For
 * writes forwarded by a follower, which answers once it has applied them. */
void store_raft_push_commit(struct store_raft *sr);

enum store_raft_role {
    STORE_RAFT_UNAVAILABLE = 0,
    STORE_RAFT_FOLLOWER,
    STORE_RAFT_CANDIDATE,
    STORE_RAFT_LEADER
};

struct store_raft_status {
    uint64_t id;               /* this server's raft id */
    int role;                  /* enum store_raft_role */
    uint64_t leader_id;        /* 0 when unknown */
    char leader_address[64];   /* "" when unknown */
    uint64_t term;             /* current term */
    uint64_t commit_index;     /* highest index known committed */
    uint64_t applied_index;    /* raft's last applied index */
    uint64_t fsm_applied;      /* the FSM's applied index (>= applied during replay) */
    uint64_t last_index;       /* last index in the local log */
    uint64_t entries_proposed; /* batch entries proposed by this server */
    uint64_t requests_proposed;
    uint64_t barriers;          /* read barriers issued */
    uint64_t read_index_rounds; /* read-index rounds confirmed */
    uint64_t reads;             /* reads completed by barriers and rounds */
    uint64_t entries_applied;
    uint64_t entries_skipped; /* entries not reapplied (index <= FSM applied) */
    uint64_t restores;        /* snapshots restored into the FSM */
    uint64_t restores_skipped;
    /* The append guard (raft.c): leaderCommit bounded on receipt,
     * last_log_index bounded in answers, answers of a past term dropped,
     * commits a majority of followers allowed before the leader's own write */
    uint64_t commits_clamped, answers_clamped, answers_dropped, commits_ahead;
    uint64_t snapshots;      /* snapshots taken */
    uint64_t leader_changes; /* a leader known that differs from the one before */
};

/* The current raft term (0 before raft runs). */
uint64_t store_raft_term(struct store_raft *sr);

void store_raft_get_status(struct store_raft *sr, struct store_raft_status *st);
bool store_raft_is_leader(struct store_raft *sr);
/* Leader's id (0 if unknown) and address (borrowed until the next raft event;
 * NULL if unknown). */
uint64_t store_raft_leader(struct store_raft *sr, const char **address);
const char *store_raft_role_name(int role);

/* Raft roles of a configuration member (libraft's voter, stand-by, spare). */
enum store_raft_member_role {
    STORE_RAFT_MEMBER_VOTER = 0,
    STORE_RAFT_MEMBER_STANDBY, /* receives the log, does not vote (etcd's learner) */
    STORE_RAFT_MEMBER_SPARE    /* neither: just added */
};

struct store_raft_member {
    uint64_t id;
    char address[64];
    bool voter;           /* false: a standby/spare still catching up */
    int role;             /* enum store_raft_member_role */
    uint64_t match_index; /* on the leader: highest index known replicated there
                             (its own last index for the leader); 0 elsewhere */
};

/* Copies up to max members of the current configuration into out and
 * returns the total count. */
size_t store_raft_members(struct store_raft *sr, struct store_raft_member *out, size_t max);

/* Completion of a membership change or transfer: 0, or K8C_ENOTLEADER,
 * K8C_ELEADERCHANGED, K8C_EBUSY (another change in progress), K8C_ETIMEDOUT
 * (transfer target did not take over), K8C_EIO. */
typedef void (*store_raft_change_cb)(void *arg, int status);

/* Adds a member (as a voter when voter is set: added as spare, then promoted
 * once it has caught up). Returns 0 (cb later) or an error (cb not called):
 * K8C_ENOTLEADER, K8C_EEXIST (id or address in use), K8C_EBUSY, K8C_EINVAL. */
int store_raft_add_member(struct store_raft *sr, uint64_t id, const char *address, bool voter,
                          store_raft_change_cb cb, void *arg);
/* Removes a member. Same errors, K8C_ENOTFOUND for an unknown id. */
int store_raft_remove_member(struct store_raft *sr, uint64_t id, store_raft_change_cb cb,
                             void *arg);
/* Changes the raft role of a member (enum store_raft_member_role). Becoming a
 * voter waits until the member has caught up with the log (libraft's catch-up
 * rounds; K8C_ETIMEDOUT if it does not answer). Same errors as
 * store_raft_remove_member, plus K8C_EINVAL when it already has that role. */
int store_raft_assign(struct store_raft *sr, uint64_t id, int role, store_raft_change_cb cb,
                      void *arg);
/* Transfers leadership to id (0: any up-to-date voter). Same errors. */
int store_raft_transfer(struct store_raft *sr, uint64_t id, store_raft_change_cb cb, void *arg);

/* libraft's checksum of segments and snapshots, under libraft's own name:
 * CRC-32 with polynomial 0x04C11DB7, most significant bit first, no final
 * xor, continuing from init (CRC-32/MPEG-2 when init is 0xFFFFFFFF). raft.c
 * defines it when K8C_RAFT_CRC is set; store/CMakeLists.txt explains. */
unsigned byteCrc32(const void *buf, size_t size, unsigned init);

#endif
