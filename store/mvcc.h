/*
 * store/mvcc: the etcd v3 multi-version key-value store of k8c-store, kept in
 * LMDB. A pure library: no sockets, no clocks, no threads of its own. The raft
 * glue applies committed log entries through the batch API; the gRPC services
 * read through read transactions from any thread.
 *
 * Semantics follow etcd 3.4's mvcc package and applier (etcdserver/apply.go):
 * every change gets a revision {main, sub}; all changes of one request (a Put,
 * a DeleteRange, a whole Txn, a lease revoke) share one main revision and are
 * numbered by sub revision in the order they were made. A request that changes
 * nothing does not bump the revision. An empty store is at revision 1, so the
 * first write gets revision 2. A key's create_revision is the revision of the
 * put that (re)created it, its version counts puts since then (1 after the
 * create) and a delete ends the key's generation: a later put starts again at
 * version 1 with a new create_revision.
 *
 * On-disk layout: one LMDB environment in <dir>/data.mdb (+ lock.mdb), with
 * these named databases (all integers big endian so byte order = numeric order):
 *
 *   "kv"        key   12 bytes: main revision (int64) | sub revision (uint32)
 *               value record:  flags u8 (bit 0 = tombstone) | create_revision i64
 *                              | version i64 | lease i64 | key_len u32 | key | value
 *               (mod_revision is the record's own main revision; a tombstone has
 *               only the key.) Ordered by revision: watch history and HashKV are
 *               scans of this table.
 *   "index"     MDB_DUPSORT|MDB_DUPFIXED: user key -> 13-byte entries
 *               main i64 | sub u32 | flags u8 (bit 0 = tombstone), one per revision
 *               of the key still on disk, sorted by revision. A range at revision
 *               R walks the keys in order and takes each key's last entry <= R
 *               (a tombstone there means "absent at R"), so a read at any
 *               uncompacted revision is an ordered LMDB scan.
 *   "meta"      "current_rev" i64, "compact_rev" i64 (-1 = never compacted),
 *               "applied_index" u64, "applied_term" u64 (written in the same LMDB
 *               transaction as the data of the batch they describe),
 *               "kv_bytes" i64 (bytes of live records, the deterministic quota
 *               measure), "schema" u32 (= STORE_MVCC_SCHEMA).
 *   "lease"     lease id (8 bytes, two's complement BE) -> ttl i64 | remaining_ttl i64
 *               (ttl = granted ttl after the minimum was applied; remaining_ttl =
 *               last checkpoint, 0 = none).
 *   "lease_keys" MDB_DUPSORT: lease id -> user keys attached to it (for revoke).
 *   "members"   member id u64 -> opaque bytes (cluster membership records, owned
 *               by the raft glue).
 *   "alarms"    member id u64 | alarm type u32 -> empty (persisted alarms; the
 *               store raises NOSPACE itself with member id 0).
 *
 * Keys are limited to 511 bytes (LMDB's key size; DUPSORT data has the same
 * limit); longer keys get K8C_ETCD_REQUEST_TOO_LARGE.
 *
 * Durability: with opts.sync false the environment is opened MDB_NOSYNC, which
 * is safe only because the raft log is the durable record: the raft glue must
 * call store_mvcc_sync() before it lets raft discard log entries that replay
 * would still need (i.e. before taking a raft snapshot at the applied index).
 * A process crash never loses a committed batch (the pages are in the page
 * cache); an OS crash may lose recent batches, which raft replays. The applied
 * index stored with the data makes replay skip what is already applied.
 *
 * Quota: etcd compares the backend file size with --quota-backend-bytes before
 * proposing. Followers must make the same decision at apply time, so the
 * store counts "kv_bytes" (record + index bytes of every stored revision,
 * reduced by compaction), which is identical on every peer with the same
 * history. A put or txn that would take kv_bytes past the quota fails with
 * K8C_ETCD_NO_SPACE and raises a persisted NOSPACE alarm; while the alarm is
 * active every request that would write (Put, Txn with puts, LeaseGrant) fails
 * the same way, until an AlarmRequest DEACTIVATE clears it. The LMDB map is
 * sized 3 x quota + 256 MiB so page overhead never hits MDB_MAP_FULL first.
 * store_mvcc_quota_available() is the (non-deterministic, cheap) pre-proposal
 * check for the gRPC layer.
 *
 * Errors (lib/error.h) and the gRPC status each one maps to
 * (store_mvcc_grpc_status()); messages are etcd 3.4's rpctypes strings:
 *
 *   K8C_ETCD_EMPTY_KEY        INVALID_ARGUMENT   etcdserver: key is not provided
 *   K8C_ETCD_KEY_NOT_FOUND    INVALID_ARGUMENT   etcdserver: key not found
 *   K8C_ETCD_VALUE_PROVIDED   INVALID_ARGUMENT   etcdserver: value is provided
 *   K8C_ETCD_LEASE_PROVIDED   INVALID_ARGUMENT   etcdserver: lease is provided
 *   K8C_ETCD_TOO_MANY_OPS     INVALID_ARGUMENT   etcdserver: too many operations in txn request
 *   K8C_ETCD_DUPLICATE_KEY    INVALID_ARGUMENT   etcdserver: duplicate key given in txn request
 *   K8C_ETCD_COMPACTED        OUT_OF_RANGE       etcdserver: mvcc: required revision has been
 *                                                compacted
 *   K8C_ETCD_FUTURE_REV       OUT_OF_RANGE       etcdserver: mvcc: required revision is a future
 *                                                revision
 *   K8C_ETCD_NO_SPACE         RESOURCE_EXHAUSTED etcdserver: mvcc: database space exceeded
 *   K8C_ETCD_LEASE_NOT_FOUND  NOT_FOUND          etcdserver: requested lease not found
 *   K8C_ETCD_LEASE_EXIST      FAILED_PRECONDITION etcdserver: lease already exists
 *   K8C_ETCD_LEASE_TTL_TOO_LARGE OUT_OF_RANGE    etcdserver: too large lease TTL
 *   K8C_ETCD_REQUEST_TOO_LARGE INVALID_ARGUMENT  etcdserver: request is too large
 *   K8C_EINVAL / K8C_EDEPTH / K8C_EUNSUPPORTED -> INVALID_ARGUMENT / UNIMPLEMENTED,
 *   anything else (LMDB or system failure)   -> INTERNAL / UNKNOWN.
 *
 * Threads: one thread at a time runs the batch API (the apply thread); reads,
 * status, hashes, history and snapshots may run concurrently from any threads
 * (MDB_NOTLS read transactions). store_mvcc_restore() and store_mvcc_close()
 * wait for running reads to finish.
 *
 * Memory: every response is a protobuf-c message built in an arena owned by a
 * struct store_mvcc_result / store_mvcc_events; it can be packed with
 * protobuf_c_message_pack() and is freed only with store_mvcc_result_free() /
 * store_mvcc_events_free() (never protobuf_c_message_free_unpacked()). Request
 * messages are borrowed for the duration of the call only.
 */
#ifndef STORE_MVCC_H
#define STORE_MVCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd/kv.pb-c.h"
#include "etcd/rpc.pb-c.h"

#define STORE_MVCC_SCHEMA        1
#define STORE_MVCC_DEFAULT_QUOTA (2LL * 1024 * 1024 * 1024) /* etcd's default, 2 GiB */
#define STORE_MVCC_MAX_TXN_OPS   128                        /* etcd's --max-txn-ops default */
#define STORE_MVCC_MAX_TXN_DEPTH 32                         /* nested txn levels accepted */
#define STORE_MVCC_MAX_LEASE_TTL 9000000000LL               /* seconds, etcd's MaxLeaseTTL */
#define STORE_MVCC_FIRST_REV     1                          /* revision of an empty store */

struct store_mvcc;
struct store_mvcc_arena;

struct store_mvcc_options {
    const char *dir;       /* data directory; created (mode 0700) if missing */
    int64_t quota_bytes;   /* --quota-backend-bytes; <= 0 means STORE_MVCC_DEFAULT_QUOTA */
    bool sync;             /* true: fsync every commit; false: MDB_NOSYNC (see above) */
    int64_t min_lease_ttl; /* seconds; smaller grants are raised to it (etcd: 1.5 x election) */
    unsigned max_readers;  /* concurrent read transactions; 0 means 1024 */
};

/* A response, or an error. err is 0 or a negative code; resp is the response
 * message (RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse,
 * CompactionResponse, LeaseGrantResponse, LeaseRevokeResponse,
 * LeaseCheckpointResponse, AlarmResponse, LeaseTimeToLiveResponse,
 * LeaseLeasesResponse, per request) when err is 0, else NULL. Its header has
 * only `revision` set; cluster_id/member_id/raft_term are the caller's to fill
 * (the header is writable). Initialise with {0}; free with
 * store_mvcc_result_free (also fine on an empty or failed result). */
struct store_mvcc_result {
    int err;
    ProtobufCMessage *resp;
    struct store_mvcc_arena *arena;
};
void store_mvcc_result_free(struct store_mvcc_result *res);

/* Events of a committed batch or read from history: in revision order, the
 * changes of one revision adjacent and in sub-revision order. events[i]->kv has
 * mod_revision = the revision (for DELETE events kv holds only key and
 * mod_revision, like etcd); prev_kv is the key's previous live version or NULL.
 * Free with store_mvcc_events_free (NULL ok). */
struct store_mvcc_events {
    size_t n;
    Mvccpb__Event **events;
    int64_t revision; /* store revision after the batch / at the time of the read */
    struct store_mvcc_arena *arena;
    size_t cap;
};
void store_mvcc_events_free(struct store_mvcc_events *ev);

/* Opens (creating if needed) the store in opts->dir. On error returns a
 * negative code (-errno, K8C_EIO for LMDB failures, K8C_EPROTO for a data file
 * of another schema) with errmsg (K8C_ERRMSG_SIZE, may be NULL) saying what and
 * where. *out is owned by the caller: store_mvcc_close. */
int store_mvcc_open(const struct store_mvcc_options *opts, struct store_mvcc **out, char *errmsg);
/* Aborts an open batch, waits for running reads, closes the environment. NULL ok. */
void store_mvcc_close(struct store_mvcc *m);
/* Forces everything committed so far to disk (mdb_env_sync force). 0 or K8C_EIO. */
int store_mvcc_sync(struct store_mvcc *m);
/* Starts the disk writes of what commits left in the page cache, without
 * waiting for them (sync_file_range), so that a later store_mvcc_sync has
 * little left to write. Blocks while the disk's queue is full: call it off
 * the loop. 0 or K8C_EIO. */
int store_mvcc_writeback(struct store_mvcc *m);

/* The bytes of the pages the database uses up to its highest one (no
 * transaction: cheap; free pages inside are counted). */
uint64_t store_mvcc_pages_bytes(struct store_mvcc *m);

struct store_mvcc_status {
    int64_t revision;         /* current (committed) revision */
    int64_t compact_revision; /* -1 if never compacted */
    uint64_t applied_index;   /* raft index of the last committed batch, 0 if none */
    uint64_t applied_term;
    int64_t db_size;        /* bytes of data.mdb on disk */
    int64_t db_size_in_use; /* bytes of pages in use (file pages minus free pages) */
    int64_t kv_bytes;       /* the quota measure (see above) */
    int64_t quota_bytes;
    bool nospace_alarm; /* a NOSPACE alarm is active */
};
/* Committed state from one read transaction. 0 or K8C_EIO. */
int store_mvcc_status(struct store_mvcc *m, struct store_mvcc_status *st);

/* The gRPC status code (lib/grpc_frame.h numbering) for an error code. */
int store_mvcc_grpc_status(int err);

/* Pre-proposal quota check (etcd's quota before raft): false if a NOSPACE
 * alarm is active or kv_bytes + cost exceeds the quota. */
bool store_mvcc_quota_available(struct store_mvcc *m, int64_t cost);
/* Bytes a request would add to kv_bytes at most (0 for reads and deletes). */
int64_t store_mvcc_request_cost(const ProtobufCMessage *req);

/* ---- Reads: each in its own read transaction, from any thread. ---- */

/* Range (etcd KV.Range): key/range_end ("" = the one key, "\0" = every key >=
 * key), revision (0 = current), limit, sort, keys_only, count_only, min/max
 * mod/create revision filters; `more` and `count` as etcd sets them. Errors:
 * K8C_ETCD_EMPTY_KEY, K8C_ETCD_COMPACTED, K8C_ETCD_FUTURE_REV, K8C_EINVAL (bad
 * sort option), K8C_EIO. Returns res->err. */
int store_mvcc_range(struct store_mvcc *m, const Etcdserverpb__RangeRequest *req,
                     struct store_mvcc_result *res);
/* A RangeResponse as a gRPC message frame (5-byte prefix, then the bytes
 * protobuf_c_message_pack would write), packed without the descriptors. */
struct k8c_buf *store_mvcc_range_response_frame(const Etcdserverpb__RangeResponse *r);
/* store_mvcc_range's answer as such a frame in *frame, its header first given
 * to fill_header (if not NULL): packed inside the read transaction, from the
 * database's pages, without copying each key and value first. 0 or the
 * error store_mvcc_range would report (*frame NULL). */
int store_mvcc_range_frame(struct store_mvcc *m, const Etcdserverpb__RangeRequest *req,
                           void (*fill_header)(Etcdserverpb__ResponseHeader *h),
                           struct k8c_buf **frame);

/* Lease.LeaseTimeToLive data: ID, TTL (= last checkpointed remaining TTL, or
 * the granted TTL: the leader's timer owner overrides it with the real
 * remaining time), grantedTTL, keys if req->keys. K8C_ETCD_LEASE_NOT_FOUND. */
int store_mvcc_lease_time_to_live(struct store_mvcc *m,
                                  const Etcdserverpb__LeaseTimeToLiveRequest *req,
                                  struct store_mvcc_result *res);
/* Lease.LeaseLeases: every lease ID in ascending id order. */
int store_mvcc_lease_leases(struct store_mvcc *m, struct store_mvcc_result *res);

struct store_mvcc_lease {
    int64_t id, ttl, remaining_ttl;
};
/* Every lease with its stored TTLs (for the leader's expiry timers after start
 * or leadership change). *out is k8c_malloc'd (caller frees), *n entries. */
int store_mvcc_lease_list(struct store_mvcc *m, struct store_mvcc_lease **out, size_t *n);

/* Maintenance.HashKV: crc32c (Castagnoli) over every stored revision <= rev
 * (0 = current) in revision order (revision key bytes, then record bytes).
 * After compaction at C that is exactly "the latest version of each key at C
 * plus everything after", so peers with the same history agree. Errors:
 * K8C_ETCD_COMPACTED (0 < rev <= compact revision), K8C_ETCD_FUTURE_REV. The
 * out pointers may be NULL. */
int store_mvcc_hash_kv(struct store_mvcc *m, int64_t rev, uint32_t *hash, int64_t *compact_rev,
                       int64_t *cur_rev);
/* Maintenance.Hash: crc32c over every database except the applied index/term
 * (which differ between peers that applied the same data in other batches). */
int store_mvcc_hash(struct store_mvcc *m, uint32_t *hash);

/* Watch history: events of revisions start_rev..end_rev (end_rev 0 = current)
 * for keys in [key, range_end) (range_end as for Range). Stops after the
 * revision at which max_events (0 = unlimited) is reached, never inside one
 * revision; *next_rev (may be NULL) is the first revision not returned (end + 1
 * when complete). prev_kv fills prev_kv of each event. Errors:
 * K8C_ETCD_COMPACTED if start_rev < compact revision (etcd's watch rule); a
 * start beyond the current revision gives no events. *out is the caller's. */
struct store_mvcc_history_query {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *range_end;
    size_t range_end_len;
    int64_t start_rev, end_rev;
    size_t max_events;
    bool prev_kv;
};
int store_mvcc_history(struct store_mvcc *m, const struct store_mvcc_history_query *q,
                       struct store_mvcc_events **out, int64_t *next_rev);

/* Membership records (opaque to this module). */
struct store_mvcc_member {
    uint64_t id;
    uint8_t *data; /* k8c_malloc'd, len bytes */
    size_t len;
};
/* Every member record in id order; free with store_mvcc_members_free. */
int store_mvcc_member_list(struct store_mvcc *m, struct store_mvcc_member **out, size_t *n);
void store_mvcc_members_free(struct store_mvcc_member *members, size_t n);

/* ---- Writes: the batch API (group commit), apply thread only. ---- */

/* Opens the batch's LMDB write transaction. K8C_EBUSY if one is open, K8C_EIO. */
int store_mvcc_begin_batch(struct store_mvcc *m);

/* Applies one request inside the open batch, as etcd's applier would: Put,
 * DeleteRange, Txn, Range (read in the batch's view), Compaction (physical, in
 * this transaction), LeaseGrant (ID must be set: the proposer picks it),
 * LeaseRevoke (deletes the attached keys in one revision), LeaseCheckpoint,
 * Alarm. The request's own outcome is in res->err/res->resp (an etcd error
 * leaves no trace in the store, except the NOSPACE alarm a failed quota check
 * raises). The return value is 0, or a fatal error (K8C_EIO for any LMDB
 * failure, MDB_MAP_FULL included, which is logged; K8C_EINVAL without an open
 * batch) after which the batch can only be aborted. */
int store_mvcc_apply(struct store_mvcc *m, const ProtobufCMessage *req,
                     struct store_mvcc_result *res);

/* Typed entry points with the same contract as store_mvcc_apply. */
int store_mvcc_put(struct store_mvcc *m, const Etcdserverpb__PutRequest *req,
                   struct store_mvcc_result *res);
int store_mvcc_delete_range(struct store_mvcc *m, const Etcdserverpb__DeleteRangeRequest *req,
                            struct store_mvcc_result *res);
int store_mvcc_txn(struct store_mvcc *m, const Etcdserverpb__TxnRequest *req,
                   struct store_mvcc_result *res);
int store_mvcc_compact(struct store_mvcc *m, const Etcdserverpb__CompactionRequest *req,
                       struct store_mvcc_result *res);
int store_mvcc_lease_grant(struct store_mvcc *m, const Etcdserverpb__LeaseGrantRequest *req,
                           struct store_mvcc_result *res);
int store_mvcc_lease_revoke(struct store_mvcc *m, const Etcdserverpb__LeaseRevokeRequest *req,
                            struct store_mvcc_result *res);

/* Membership changes inside the batch. 0 or a fatal error as above. */
int store_mvcc_member_put(struct store_mvcc *m, uint64_t id, const void *data, size_t len);
int store_mvcc_member_delete(struct store_mvcc *m, uint64_t id);

/* Commits the batch with the raft applied index and term in the same LMDB
 * transaction. *events (may be NULL to drop them) receives the batch's events
 * (n may be 0). On error the batch is aborted and nothing of it is stored. */
int store_mvcc_commit_batch(struct store_mvcc *m, uint64_t applied_index, uint64_t term,
                            struct store_mvcc_events **events);
/* Drops the open batch (no-op without one). */
void store_mvcc_abort_batch(struct store_mvcc *m);

/* ---- Snapshots ---- */

/* Writes a consistent copy of the whole environment (an LMDB data file) to fd
 * (a file or a pipe); the copy reflects the last commit. compact: free pages
 * left out (slower: it walks every tree). 0, K8C_EIO. */
int store_mvcc_snapshot_fd(struct store_mvcc *m, int fd, bool compact);
/* Same, into a new file at path (written to path.tmp, fsynced, renamed). */
int store_mvcc_snapshot_save(struct store_mvcc *m, const char *path);
/* Replaces the store by a snapshot file made by the functions above: checks it
 * opens and has our schema, copies it into the data dir, fsyncs, waits for
 * running reads, atomically renames it over data.mdb and reopens. No batch may
 * be open. On error the old store is kept (K8C_EPROTO: not a store snapshot). */
int store_mvcc_restore(struct store_mvcc *m, const char *path, char *errmsg);
/* The raft applied index a snapshot file holds (0 if none), once it is
 * checked to be a store of our schema; else K8C_EPROTO with errmsg. */
int store_mvcc_snapshot_applied(const char *path, uint64_t *applied, char *errmsg);

#endif
