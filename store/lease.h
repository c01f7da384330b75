/*
 * store/lease: the etcd v3 Lease service of k8c-store (LeaseGrant,
 * LeaseRevoke, LeaseKeepAlive, LeaseTimeToLive, LeaseLeases), in two parts.
 *
 * The lessor (struct store_lessor) is the leader's expiry bookkeeping, as
 * etcd 3.4's lease.lessor: a map id -> {granted TTL, expiry} and a min-heap
 * of due times. It does no I/O and reads no clock: every call that needs the
 * time takes `now_ms` (any monotonic millisecond clock; the daemon passes
 * uv_now), so tests drive it with a fake clock. Only a primary lessor (the
 * one on the raft leader) holds leases:
 *
 *   promote   when this peer becomes leader: every lease in the MVCC gets its
 *             checkpointed remaining TTL, or its full TTL, plus `extend`
 *             (the election timeout, as etcd does so that clients have time
 *             to find the new leader), and leases that would expire together
 *             are spread out so no more than 3/4 of the revoke rate expire in
 *             any second (etcd's Promote);
 *   demote    on leadership loss: forget everything (followers ask the leader);
 *   granted / revoked   called for every LeaseGrant / LeaseRevoke applied from
 *             the raft log, so the primary follows the replicated state;
 *   renew     a keepalive: expiry = now + TTL;
 *   expired   the leases whose time is up, to be revoked through raft. A lease
 *             handed out stays in the lessor (renew refuses it) until its
 *             revoke is applied; if that does not happen within
 *             STORE_LEASE_REVOKE_RETRY_MS it is handed out again.
 *
 * Leases are not revoked here: expiry is decided by the leader and its revoke
 * is replicated like any write, deleting the attached keys in one revision on
 * every peer (store/mvcc.h).
 *
 * The service (struct store_lease_service) is the gRPC glue on the daemon's
 * libuv loop. Grant and Revoke are ordinary raft writes proposed by the
 * daemon's write path (store/main.c); store_lease_service_submit_grant picks
 * the ID of a grant that has none on the leader: a random positive int64
 * not in use (etcd takes one from its request id generator; clients only need
 * it unique and positive). LeaseCheckpoint entries are applied but never
 * proposed, as in etcd 3.4 without --experimental-enable-lease-checkpoint.
 * KeepAlive is a bidirectional stream: on the leader each request
 * renews the lease and is answered {ID, TTL} (TTL 0 for an unknown lease,
 * as etcd); on a follower each request is forwarded to the leader as its own
 * LeaseKeepAlive call (etcd followers forward each renewal to the leader over
 * HTTP) and the leader's answer relayed with the local header. TimeToLive is
 * answered by the leader from its timer (a follower forwards it; an unknown
 * lease gives TTL -1 as etcd); Leases lists the IDs in the local MVCC on any
 * peer, as etcd lists its local lessor.
 */
#ifndef STORE_LEASE_H
#define STORE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "grpc.h"
#include "mvcc.h"
#include "raft.h"

#include "etcd/rpc.pb-c.h"

#define STORE_LEASE_REVOKE_RATE                                                                    \
    1000 /* expired leases revoked per second, etcd's leaseRevokeRate                              \
          */
#define STORE_LEASE_REVOKE_RETRY_MS                                                                \
    3000 /* re-offer an expired lease whose revoke did not apply                                   \
          */

/* ---- the lessor: pure bookkeeping ---- */

struct store_lessor;

/* A new, non-primary lessor. Owned by the caller (store_lease_lessor_del). */
struct store_lessor *store_lease_lessor_new(void);
void store_lease_lessor_del(struct store_lessor *l); /* NULL ok */

bool store_lease_is_primary(const struct store_lessor *l);
/* Leases held (0 unless primary). */
size_t store_lease_count(const struct store_lessor *l);

/* Becomes primary with exactly the given leases (borrowed; typically from
 * store_mvcc_lease_list), replacing whatever was held. Each expires at
 * now + extend + (remaining_ttl if > 0, else ttl) seconds, then expiries are
 * spread as described above when there are at least STORE_LEASE_REVOKE_RATE
 * leases. */
void store_lease_promote(struct store_lessor *l, const struct store_mvcc_lease *leases, size_t n,
                         uint64_t now_ms, uint64_t extend_ms);
/* Stops being primary and drops every lease. */
void store_lease_demote(struct store_lessor *l);

/* A LeaseGrant was applied: a primary starts the lease's timer (now + ttl);
 * a non-primary ignores it. An existing id is restarted with the new ttl. */
void store_lease_granted(struct store_lessor *l, int64_t id, int64_t ttl, uint64_t now_ms);
/* A LeaseRevoke was applied: the lease is dropped (no-op if unknown). */
void store_lease_revoked(struct store_lessor *l, int64_t id);

/* Keepalive: pushes the expiry to now + ttl and sets *ttl to the granted TTL
 * (seconds). Errors: K8C_ENOTLEADER (not primary), K8C_ETCD_LEASE_NOT_FOUND
 * (unknown, or already expired and waiting for its revoke). */
int store_lease_renew(struct store_lessor *l, int64_t id, uint64_t now_ms, int64_t *ttl);

/* Seconds until the lease expires, truncated toward zero as etcd's
 * int64(Remaining().Seconds()) (negative once past), and its granted TTL.
 * Errors: K8C_ENOTLEADER, K8C_ETCD_LEASE_NOT_FOUND. Either out pointer may be
 * NULL. */
int store_lease_remaining(const struct store_lessor *l, int64_t id, uint64_t now_ms,
                          int64_t *remaining, int64_t *granted_ttl);

/* Collects up to max leases whose expiry is <= now into ids (lowest expiry
 * first) and marks them as being revoked: renew refuses them from now on and
 * they are offered again after STORE_LEASE_REVOKE_RETRY_MS if still held.
 * Returns how many were written. Nothing unless primary. */
size_t store_lease_expired(struct store_lessor *l, uint64_t now_ms, int64_t *ids, size_t max);

/* Milliseconds (on the caller's clock) of the next expiry or retry, or
 * UINT64_MAX when nothing is due. */
uint64_t store_lease_next_due(const struct store_lessor *l);

/* A new lease ID for a grant without one: a positive int64 drawn from
 * random() (called with arg), never 0 and never one the lessor holds. */
int64_t store_lease_pick_id(const struct store_lessor *l, uint64_t (*random)(void *arg), void *arg);

/* ---- the gRPC service ---- */

struct store_lease_service;

/* What the service borrows from the daemon (every pointer must outlive it). */
struct store_lease_service_config {
    uv_loop_t *loop;
    struct store_raft *raft;
    struct store_mvcc *mvcc;
    unsigned election_ms; /* promote extension */
    unsigned tick_ms;     /* leadership and expiry check period; 0 means 100 */
    /* Fills cluster_id, member_id, raft_term of a response header. */
    void (*fill_header)(Etcdserverpb__ResponseHeader *h);
    /* A channel to the leader's client URL, or NULL (no leader known here or
     * this peer is the leader). Borrowed. */
    struct k8c_grpc_channel *(*leader_channel)(void);
    /* Forwards a unary call to the leader (handler runs again later if no
     * leader is known yet); forward_cancel is the on_cancel handler that goes
     * with it for the unary methods registered here. */
    void (*forward)(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                    k8c_grpc_message_fn handler, void *handler_arg);
    k8c_grpc_call_fn forward_cancel;
};

/* Creates the service and starts its tick timer on cfg->loop. Owned by the
 * caller: store_lease_service_stop, run the loop, store_lease_service_del. */
struct store_lease_service *store_lease_service_new(const struct store_lease_service_config *cfg);

/* Registers /etcdserverpb.Lease/LeaseKeepAlive, LeaseTimeToLive and
 * LeaseLeases (LeaseGrant and LeaseRevoke are the daemon's raft writes).
 * Returns 0 or the error of k8c_grpc_server_register. */
int store_lease_service_register(struct store_lease_service *svc, struct k8c_grpc_server *srv);

/* Hook for the state machine: called with every request applied to the MVCC
 * and its result; follows applied LeaseGrant / LeaseRevoke into the lessor.
 * svc may be NULL (nothing to do). */
void store_lease_service_applied(struct store_lease_service *svc, const ProtobufCMessage *req,
                                 const struct store_mvcc_result *res);

/* Proposes a LeaseGrantRequest (serialized in data) through raft, first
 * giving it a fresh ID if it has none. Same contract as store_raft_submit,
 * plus K8C_EINVAL when data is not a LeaseGrantRequest. */
int store_lease_service_submit_grant(struct store_lease_service *svc, uint64_t request_id,
                                     const uint8_t *data, size_t len, store_raft_apply_cb cb,
                                     void *arg);

/* The service's lessor (borrowed), for status and tests. */
struct store_lessor *store_lease_service_lessor(struct store_lease_service *svc);

/* Stops the timer and forgets the raft instance (the daemon is shutting
 * down): from now on keepalives fail with "etcdserver: server stopped". */
void store_lease_service_stop(struct store_lease_service *svc);
/* Frees the service after stop once the loop has run (handles closed) and
 * every call and raft callback of the service is done. NULL ok. */
void store_lease_service_del(struct store_lease_service *svc);

#endif
