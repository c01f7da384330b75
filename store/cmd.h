/*
 * Raft entry payloads: one entry carries a BATCH of client requests (group
 * commit), so many writes share one log append, one fsync and one MVCC
 * transaction.
 *
 * Wire format (all integers little endian, fixed width):
 *
 *   header   32 bytes: magic "K8CB" | u32 count | u64 proposer | u64 term | u64 seq
 *   request  13 bytes + len: u8 type | u64 request id | u32 len | len bytes
 *
 * `count` requests follow the header back to back, then 0-7 zero bytes pad
 * the batch to a multiple of 8 bytes: libraft 0.15 sends entries over TCP
 * unpadded but decodes them as if each were padded to 8 bytes, so an entry
 * whose length is not a multiple of 8 corrupts the ones after it. Nothing
 * else may follow the last request. proposer/term/seq identify the batch: the raft id of the leader
 * that proposed it, its term at proposal time and a sequence number unique
 * within that term, so the proposer recognises its own batch when it is
 * applied. The request bytes are opaque here (the MVCC layer stores a
 * serialized etcdserverpb request in them); the type tag says which one.
 *
 * The decoder trusts nothing: every length is checked against what is left,
 * counts are bounded before anything is allocated, unknown types and trailing
 * bytes are rejected. A batch is either decoded whole or not at all.
 */
#ifndef STORE_CMD_H
#define STORE_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define STORE_CMD_MAGIC           0x4243384bu /* "K8CB" read as little endian */
#define STORE_CMD_HEADER_SIZE     32
#define STORE_CMD_REQ_HEADER_SIZE 13
/* Limits enforced by encoder and decoder. */
#define STORE_CMD_MAX_REQUESTS  65536
#define STORE_CMD_MAX_REQ_BYTES (8u * 1024 * 1024)
#define STORE_CMD_MAX_BATCH     (64u * 1024 * 1024)

/* What a request asks for; the payload is the matching etcdserverpb message. */
enum store_cmd_type {
    STORE_CMD_PUT = 1,          /* PutRequest */
    STORE_CMD_DELETE_RANGE,     /* DeleteRangeRequest */
    STORE_CMD_TXN,              /* TxnRequest */
    STORE_CMD_COMPACT,          /* CompactionRequest */
    STORE_CMD_LEASE_GRANT,      /* LeaseGrantRequest */
    STORE_CMD_LEASE_REVOKE,     /* LeaseRevokeRequest */
    STORE_CMD_LEASE_CHECKPOINT, /* LeaseCheckpointRequest */
    STORE_CMD_LEASE_EXPIRE,     /* leases the leader found expired */
    STORE_CMD_MEMBER_ADD,       /* MemberAddRequest */
    STORE_CMD_MEMBER_REMOVE,    /* MemberRemoveRequest */
    STORE_CMD_MEMBER_UPDATE,    /* MemberUpdateRequest */
    STORE_CMD_ALARM,            /* AlarmRequest */
    STORE_CMD_NOOP,             /* no state change (tests, probes) */
    STORE_CMD_TYPE_END          /* one past the last valid type */
};

/* "PUT", "TXN", ...; "UNKNOWN" for anything else. Static storage. */
const char *store_cmd_type_name(int type);

/* One request. In a decoded batch, data points into the decoded buffer and is
 * valid as long as that buffer is. */
struct store_cmd_req {
    uint8_t type;        /* enum store_cmd_type */
    uint64_t id;         /* client request id, echoed back to the caller */
    const uint8_t *data; /* len bytes (NULL allowed when len is 0) */
    size_t len;
};

struct store_cmd_header {
    uint32_t count;    /* number of requests in the batch */
    uint64_t proposer; /* raft id of the proposing leader */
    uint64_t term;     /* its term when it proposed */
    uint64_t seq;      /* unique per (proposer, term) */
};

struct store_cmd_batch {
    struct store_cmd_header hdr;
    struct store_cmd_req *reqs; /* hdr.count entries, owned (k8c_malloc) */
};

/* Encoded size of one request record with len payload bytes. */
static inline size_t store_cmd_req_size(size_t len)
{
    return STORE_CMD_REQ_HEADER_SIZE + len;
}

/* Bytes of zero padding after a batch of len bytes. */
static inline size_t store_cmd_pad(size_t len)
{
    return (8 - len % 8) % 8;
}

/* Writes the 32-byte header into out. */
void store_cmd_put_header(uint8_t out[STORE_CMD_HEADER_SIZE], const struct store_cmd_header *hdr);

/* Appends one request record to body (the bytes that follow the header).
 * Returns 0, K8C_EINVAL for an unknown type, K8C_ETOOBIG if len exceeds
 * STORE_CMD_MAX_REQ_BYTES. body is unchanged on error. */
int store_cmd_append(struct k8c_sbuf *body, const struct store_cmd_req *req);

/* Encodes a whole batch (hdr.count is taken from n), padded, into a new buffer the
 * caller frees with k8c_free. Returns 0, or the errors of store_cmd_append,
 * or K8C_ETOOBIG when the batch exceeds the count or size limits. */
int store_cmd_encode(const struct store_cmd_header *hdr, const struct store_cmd_req *reqs, size_t n,
                     uint8_t **out, size_t *out_len);

/* Decodes and validates data. On success batch->reqs is a new array (free with
 * store_cmd_batch_free) whose payload pointers point into data. Errors:
 * K8C_EPROTO (bad magic, unknown type, trailing bytes other than the zero
 * padding to a multiple of 8, count mismatch),
 * K8C_EPARSE (truncated: a length runs past the end), K8C_ETOOBIG (a limit
 * is exceeded). errmsg (K8C_ERRMSG_SIZE, may be NULL) says what was wrong.
 * On error batch->reqs is NULL. */
int store_cmd_decode(const void *data, size_t len, struct store_cmd_batch *batch, char *errmsg);

/* Reads just the header (validating magic and that len is at least a
 * header). Returns 0 or K8C_EPROTO/K8C_EPARSE. */
int store_cmd_peek_header(const void *data, size_t len, struct store_cmd_header *hdr);

void store_cmd_batch_free(struct store_cmd_batch *batch);

#endif
