/*
 * store/watch: the etcd v3 Watch service of k8c-store (etcdserverpb.Watch/Watch,
 * a bidirectional gRPC stream), with etcd 3.4's semantics.
 *
 * Two parts:
 *
 *   - the hub (store_watch_hub, store_watch_stream): the protocol engine. It
 *     takes decoded WatchRequests and the events of every committed batch as
 *     data, reads history from the MVCC, and hands WatchResponses to a
 *     per-stream sink (two callbacks). No sockets, no clocks: unit tests drive
 *     it from memory with an MVCC in a temporary directory.
 *   - the service (store_watch_service): the thin gRPC adapter that registers
 *     /etcdserverpb.Watch/Watch on a lib/grpc server, makes one hub stream per
 *     call, and runs two timers (catch-up of lagging watchers, progress
 *     notifications).
 *
 * Semantics (etcd 3.4, etcdserver/api/v3rpc/watch.go and mvcc/watchable_store.go):
 *   - many watchers per stream; watch_id 0 in a create request means "assign
 *     one": the stream's next free id counting from 0, as etcd does. A
 *     duplicate id, or a range with key >= range_end, is answered with
 *     created=true, canceled=true, watch_id -1 and etcd's reason.
 *   - key "" means "\0"; range_end "" watches one key, "\0" every key >= key,
 *     anything else [key, range_end).
 *   - start_revision 0 watches from the next revision; a start revision below
 *     the compact revision (etcd's rule: minRev < compactRev) ends the watcher
 *     with compact_revision set and canceled=true.
 *   - filters NOPUT / NODELETE, prev_kv; fragment is accepted and ignored.
 *   - cancel request -> canceled=true for a live watcher (unknown ids: no reply);
 *     progress request -> a response with watch_id -1, no events and
 *     header.revision = current revision, sent once every watcher of the stream
 *     has caught up (so the revision it announces is a true bound);
 *   - progress_notify: every progress interval, a watcher that is caught up and
 *     got no events during the last interval receives an empty response with
 *     the current revision (etcd: every 10 minutes).
 *
 * Delivery guarantees. Each watcher tracks next_rev, the first revision it has
 * not been sent. A watcher is "synced" when it has everything up to the hub's
 * revision; live batch events go to synced watchers only (one response per
 * batch, never splitting a revision). A watcher starting in the past, or one
 * whose client stopped reading (sink not writable, or a send refused), is
 * "unsynced": it gets no live events and catches up from the MVCC history in
 * chunks of whole revisions (sized to about STORE_WATCH_HISTORY_BYTES per
 * response), starting at next_rev, whenever its stream is
 * writable, until it reaches the hub's revision and becomes synced again. So
 * events arrive in revision order without gaps or duplicates, and a slow
 * client costs a bounded queue (the sink's) rather than unbounded memory; this
 * is etcd's synced/unsynced watcher groups.
 *
 * Threads: one thread (the loop's, which is also the raft apply thread) runs
 * everything here; the hub must see every committed batch, in order, right
 * after its commit (store_watch_hub_notify) and a snapshot restore
 * (store_watch_hub_reset).
 */
#ifndef STORE_WATCH_H
#define STORE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "grpc.h"
#include "mvcc.h"

#include "etcd/rpc.pb-c.h"

#define STORE_WATCH_PROGRESS_INTERVAL_MS (10 * 60 * 1000) /* etcd's progressReportInterval */
#define STORE_WATCH_SYNC_INTERVAL_MS     100              /* etcd's unsynced watcher loop */
#define STORE_WATCH_HISTORY_CHUNK        256 /* most events per catch-up read (whole revisions) */
#define STORE_WATCH_HISTORY_BYTES        (1024 * 1024) /* target size of a catch-up response */
#define STORE_WATCH_SYNC_BUDGET          16            /* history chunks per stream per sync pass */

struct store_watch_hub;
struct store_watch_stream;
struct store_watch_service;

/* Where a stream's responses go. */
struct store_watch_sink {
    /* Queues resp for the client. resp and everything it points to are
     * borrowed for the call only; the sink may fill in the header's cluster_id,
     * member_id and raft_term (the hub sets revision). Returns 0; K8C_EBUSY if
     * the client's queue is full (nothing queued: the hub catches the watcher
     * up from history later); any other negative code if the stream is gone
     * (the hub sends nothing more to it). */
    int (*send)(void *arg, Etcdserverpb__WatchResponse *resp);
    /* Whether the client keeps up: false while its queue is above the bound.
     * After a false, the owner calls store_watch_stream_writable() once the
     * queue has drained (store_watch_hub_sync() retries in any case). */
    bool (*writable)(void *arg);
    void *arg;
};

struct store_watch_options {
    size_t history_chunk; /* most events per catch-up read; 0: STORE_WATCH_HISTORY_CHUNK */
    size_t history_bytes; /* target bytes per catch-up response; 0: STORE_WATCH_HISTORY_BYTES */
    unsigned sync_budget; /* history reads per stream per pass; 0: STORE_WATCH_SYNC_BUDGET */
};

/* A hub over the MVCC m (borrowed; must outlive the hub), starting at m's
 * current revision. opts may be NULL. Returns 0 or K8C_EIO (status read
 * failed). *out is the caller's: store_watch_hub_del. */
int store_watch_hub_new(struct store_mvcc *m, const struct store_watch_options *opts,
                        struct store_watch_hub **out);
/* Frees the hub and any stream still open (their sinks are not called). NULL ok. */
void store_watch_hub_del(struct store_watch_hub *hub);

/* The events of one committed batch, in commit order, right after the commit:
 * sends them to every synced watcher they match and advances the hub's
 * revision to events->revision. Takes ownership of events (freed here; NULL is
 * a no-op, as after a failed commit). */
void store_watch_hub_notify(struct store_watch_hub *hub, struct store_mvcc_events *events);
/* The MVCC was replaced (snapshot restore): re-reads its revision and moves
 * every watcher to catch-up from history (those now behind the compact
 * revision end as compacted). */
void store_watch_hub_reset(struct store_watch_hub *hub);
/* Catches up unsynced watchers of every writable stream (a bounded amount of
 * work per stream; call it periodically while store_watch_hub_unsynced() > 0). */
void store_watch_hub_sync(struct store_watch_hub *hub);
/* One progress interval passed: sends etcd's progress notifications (see above). */
void store_watch_hub_progress_tick(struct store_watch_hub *hub);
/* The revision of the last batch the hub saw. */
int64_t store_watch_hub_revision(const struct store_watch_hub *hub);
/* Watchers waiting to catch up from history, over all streams. */
size_t store_watch_hub_unsynced(const struct store_watch_hub *hub);
/* Watchers over all streams. */
size_t store_watch_hub_watchers(const struct store_watch_hub *hub);

/* A stream (one gRPC call) with its sink (copied). Owned by the caller:
 * store_watch_stream_del, before the hub is freed. */
struct store_watch_stream *store_watch_stream_new(struct store_watch_hub *hub,
                                                  const struct store_watch_sink *sink);
/* Cancels the stream's watchers silently and frees it. NULL ok. */
void store_watch_stream_del(struct store_watch_stream *s);
/* Handles one request from the client (borrowed). Returns 0, or K8C_EBUSY when
 * a control response (created, canceled) could not be queued because the
 * client does not read (the caller should end the stream), or another error
 * from the sink. Unknown request kinds are ignored, as in etcd. */
int store_watch_stream_request(struct store_watch_stream *s, const Etcdserverpb__WatchRequest *req);
/* The sink drained after writable() said false: continues catching up. */
void store_watch_stream_writable(struct store_watch_stream *s);

/* ---- the gRPC service ---- */

typedef void (*store_watch_header_fn)(Etcdserverpb__ResponseHeader *h);

/* Registers /etcdserverpb.Watch/Watch on grpc and starts the service's timers
 * on loop. fill_header sets cluster_id, member_id and raft_term of every
 * response header. progress_interval_ms 0 means STORE_WATCH_PROGRESS_INTERVAL_MS.
 * hub is borrowed and must outlive every call (free it after the loop ends).
 * Returns NULL with errmsg set if the method cannot be registered. */
struct store_watch_service *store_watch_service_new(uv_loop_t *loop, struct k8c_grpc_server *grpc,
                                                    struct store_watch_hub *hub,
                                                    store_watch_header_fn fill_header,
                                                    uint64_t progress_interval_ms, char *errmsg);
/* etcd's require-leader watches (clientv3.WithRequireLeader: the "hasleader"
 * metadata set to "true"): such a stream is refused while has_leader()
 * says no, and ended once it has said no for after_ms (etcd: three
 * election timeouts), with UNAVAILABLE "etcdserver: no leader", so that a
 * client watching a member cut off from the others goes to another one. */
void store_watch_service_require_leader(struct store_watch_service *svc, bool (*has_leader)(void),
                                        uint64_t after_ms);
/* Stops the timers (shutdown). Open calls end when the gRPC server cancels
 * them; the service frees itself once its timers are closed and its last call
 * is finished. NULL ok. */
void store_watch_service_close(struct store_watch_service *svc);

#endif
