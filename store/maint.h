/*
 * store/maint: the etcd v3 Maintenance and Cluster services of k8c-store, as
 * etcd 3.4 serves them to etcdctl, and the membership records they keep.
 *
 * Maintenance (every peer answers from its own state unless said otherwise):
 *   Hash        crc32c of the whole local store (store_mvcc_hash);
 *   HashKV      crc32c of the key-value history up to a revision
 *               (store_mvcc_hash_kv): equal on peers that applied the same
 *               writes, which is what `etcdctl endpoint hashkv` compares;
 *   Defragment  answered OK at once: LMDB reuses freed pages in place (its
 *               free list), so there is nothing to rewrite the way bbolt needs;
 *   Snapshot    server streaming: a consistent, compacted copy of the LMDB
 *               data file is written by a worker thread to an unlinked file in
 *               the data dir, then streamed in 32 KiB chunks with
 *               remaining_bytes counting down, followed by one message whose
 *               blob is the sha256 of everything sent, as etcd does (etcdctl
 *               checks that the size is 32 past a multiple of 512; LMDB files
 *               are whole pages, and a copy that was not would be padded with
 *               zeros). The file is LMDB, not bbolt: `etcdctl snapshot status`
 *               and `snapshot restore` cannot read it (expected); there is no
 *               offline restore into a new data dir yet;
 *   MoveLeader  leadership transfer through libraft; only the leader accepts
 *               it (etcd's "etcdserver: not leader" otherwise; etcdctl finds
 *               the leader itself); a target that is no voting member gets
 *               "etcdserver: bad leader transferee";
 *   Alarm       is a raft write served by the daemon's write path (main.c);
 *               store_maint_raise_nospace is its quota hook.
 *
 * Cluster: a member is a server in the raft configuration; what etcd keeps
 * about it besides the id (name, client URLs, peer URLs, learner flag) is a
 * member record in the MVCC's "members" table, changed only through raft so
 * every peer lists the same members:
 *
 *   record   text "<id hex>\n<name>\n<client urls>\n<peer urls>\n<flags>"
 *            (URL lists comma separated; flags "learner" or ""; the last two
 *            lines may be missing in records written before they existed).
 *
 * Raft request types carrying them (store/cmd.h) and how they are applied
 * (store_maint_apply_member):
 *   STORE_CMD_MEMBER_UPDATE  "<id hex>\n<name>\n<client urls>": a member
 *                            publishes its own attributes (etcd's publish);
 *                            name and client URLs are replaced, peer URLs and
 *                            flags kept;
 *   STORE_CMD_MEMBER_ADD     a packed etcdserverpb.Member {ID, peerURLs,
 *                            isLearner}: MemberAdd, MemberUpdate and
 *                            MemberPromote set peer URLs and the learner flag,
 *                            name and client URLs are kept;
 *   STORE_CMD_MEMBER_REMOVE  a packed MemberRemoveRequest: the record goes.
 *
 * Membership changes run on the leader (a follower forwards the call) in
 * this order, so that a failure half way leaves nothing a client can see:
 *   MemberAdd     record (peer URLs), then libraft add (as spare) and assign
 *                 stand-by, so the new server receives the log; the answer
 *                 goes out then, as etcd answers once the change is committed.
 *                 A promoter on the leader's tick makes every stand-by whose
 *                 record is no learner a voter as soon as it has caught up
 *                 (libraft would otherwise count a server that is not started
 *                 yet towards the quorum, or time the promotion out);
 *   MemberRemove  libraft remove, then the record. The leader removing itself
 *                 first transfers leadership and lets the new leader do it;
 *   MemberUpdate  record only: the raft transport keeps the address the member
 *                 was added with (libraft cannot readdress a server);
 *   MemberPromote learners (stand-bys) in sync with the leader (90% of its
 *                 log, etcd's rule): record, then libraft assign voter.
 * Member ids are store_raft_member_id(peer address) on both sides, so the
 * server started with --initial-cluster-state existing knows its own id.
 *
 * Publishing: every peer makes sure its own record carries its name and
 * client URLs (the leader proposes it, a follower sends it to the leader with
 * the internal method /k8c.store.Internal/Publish), so member list shows
 * every started member and followers find the leader's client URL.
 */
#ifndef STORE_MAINT_H
#define STORE_MAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "cmd.h"
#include "grpc.h"
#include "mvcc.h"
#include "raft.h"

#include "etcd/rpc.pb-c.h"

#define STORE_MAINT_SNAPSHOT_CHUNK (32 * 1024) /* etcd's snapshotSendBufferSize */
#define STORE_MAINT_RECORD_MAX     4096        /* bytes of one member record */

/* ---- member records: pure, tested without a daemon ---- */

struct store_maint_member {
    uint64_t id;
    char name[256];
    char client_urls[1024]; /* comma separated, "" if unknown */
    char peer_urls[1024];   /* comma separated, "" if unknown */
    bool learner;
};

/* Parses a record. Returns 0, or K8C_EPARSE (no id line, id 0, a line too
 * long for its field). out is zeroed first. */
int store_maint_record_parse(const void *data, size_t len, struct store_maint_member *out);
/* Formats a record into buf (size bytes, NUL terminated). Returns its length,
 * or 0 if it does not fit. */
size_t store_maint_record_format(const struct store_maint_member *m, char *buf, size_t size);

/* Reads the record of member id from the committed MVCC state. 0, or
 * K8C_ENOTFOUND, or the errors of store_mvcc_member_list. */
int store_maint_record_get(struct store_mvcc *mvcc, uint64_t id, struct store_maint_member *out);

/*
 * Applies one STORE_CMD_MEMBER_* request inside the MVCC's open batch (state
 * machine hook for main.c). Merges with the committed record as described
 * above. *status is the request's outcome (0, or K8C_EINVAL for a payload
 * that does not decode). Returns 0, or a fatal MVCC error after which the
 * batch can only be aborted.
 */
int store_maint_apply_member(struct store_mvcc *mvcc, const struct store_cmd_req *req, int *status);

/* ---- the gRPC services ---- */

struct store_maint_service;

/* What the service borrows from the daemon (pointers outlive it; strings
 * are copied). */
struct store_maint_service_config {
    uv_loop_t *loop;
    struct store_raft *raft;
    struct store_mvcc *mvcc;
    uint64_t member_id;
    const char *name;        /* --name */
    const char *client_urls; /* --advertise-client-urls */
    /* --initial-cluster: names and peer URLs of members without a record. */
    const struct store_raft_peer *peers;
    size_t npeers;
    const char *tmp_dir; /* where snapshot copies are made (then unlinked) */
    unsigned tick_ms;    /* publish and promoter period; 0 means 200 */
    void (*fill_header)(Etcdserverpb__ResponseHeader *h);
    /* --strict-reconfig-check: refuse member add/remove/promote that would
     * leave fewer started voting members than a quorum (etcd's rule). */
    bool strict_reconfig_check;
    /* A channel to another member's client URL (the daemon's, kept by it),
     * or NULL; and what to do once this member finds it was removed from
     * the cluster (stop, as etcd does). */
    struct k8c_grpc_channel *(*member_channel)(uint64_t id);
    void (*on_removed)(void);
    struct k8c_grpc_channel *(*leader_channel)(void);
    /* As store_lease_service_config.forward / forward_cancel. */
    void (*forward)(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                    k8c_grpc_message_fn handler, void *handler_arg);
    k8c_grpc_call_fn forward_cancel;
};

/* Creates the service and starts its tick timer. Owned by the caller:
 * store_maint_service_stop, run the loop, store_maint_service_del. */
struct store_maint_service *store_maint_service_new(const struct store_maint_service_config *cfg);

/* Registers Maintenance Hash, HashKV, Defragment, Snapshot, MoveLeader,
 * Cluster MemberAdd, MemberRemove, MemberUpdate, MemberPromote, MemberList
 * and the internal Publish. 0 or the error of k8c_grpc_server_register. */
int store_maint_service_register(struct store_maint_service *svc, struct k8c_grpc_server *srv);

/* etcd's quotaAlarmer: a write failed the quota check before proposal, so
 * the leader proposes AlarmRequest ACTIVATE NOSPACE for this member (once
 * until the alarm is seen applied). No-op on a follower or without raft. */
void store_maint_raise_nospace(struct store_maint_service *svc);

/* What etcd's Status reports beyond raft and MVCC numbers: resp->errors
 * ("etcdserver: no leader" when none is known, then each active alarm as
 * etcd prints it, "memberID:<id> alarm:NOSPACE "), at most max, written into
 * storage with ptrs pointing at them; resp->islearner for this member. The
 * alarms are read in an LMDB write transaction that is aborted (the MVCC has
 * no other reader for them), so call it on the apply thread between batches. */
void store_maint_fill_status(struct store_maint_service *svc, Etcdserverpb__StatusResponse *resp,
                             char (*storage)[128], char **ptrs, size_t max);

/* Copies a member's state with Maintenance.Snapshot from target ("host:port",
 * TLS with copts' files when copts->ca_file is set) into a new file at path:
 * the LMDB copy, its SHA-256 checked and stripped. Runs a loop of its own on
 * the calling thread until the stream ends, so it blocks the caller; gives up
 * after timeout_ms without a message. 0, or a negative code with errmsg. */
int store_maint_fetch_snapshot(const char *target, const struct k8c_grpc_channel_options *copts,
                               const char *path, uint64_t timeout_ms, char *errmsg);

/* Stops the timer and forgets raft (shutdown): calls still running fail
 * with "etcdserver: server stopped". */
void store_maint_service_stop(struct store_maint_service *svc);
/* Frees the service after stop once the loop has run. NULL ok. */
void store_maint_service_del(struct store_maint_service *svc);

#endif
