/*
 * gRPC wire pieces that need no sockets: the length-prefixed message framing
 * carried in HTTP/2 DATA frames, the grpc-timeout header, status codes and
 * their upstream names, and the percent-encoding of grpc-message.
 *
 * A gRPC message on the wire is a 5-byte prefix (1 byte compressed flag, 4
 * bytes big-endian length) followed by that many bytes. HTTP/2 cuts the byte
 * stream into DATA chunks anywhere, so the decoder below accepts arbitrary
 * chunks and hands out whole messages. lib/grpc.c uses it on both the server
 * and the client side; it is also what the fuzz target drives.
 */
#ifndef K8C_GRPC_FRAME_H
#define K8C_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Status codes, numbered as upstream (google.rpc.Code). */
#define K8C_GRPC_STATUSES(X)                                                                       \
    X(OK, 0)                                                                                       \
    X(CANCELLED, 1)                                                                                \
    X(UNKNOWN, 2)                                                                                  \
    X(INVALID_ARGUMENT, 3)                                                                         \
    X(DEADLINE_EXCEEDED, 4)                                                                        \
    X(NOT_FOUND, 5)                                                                                \
    X(ALREADY_EXISTS, 6)                                                                           \
    X(PERMISSION_DENIED, 7)                                                                        \
    X(RESOURCE_EXHAUSTED, 8)                                                                       \
    X(FAILED_PRECONDITION, 9)                                                                      \
    X(ABORTED, 10)                                                                                 \
    X(OUT_OF_RANGE, 11)                                                                            \
    X(UNIMPLEMENTED, 12)                                                                           \
    X(INTERNAL, 13)                                                                                \
    X(UNAVAILABLE, 14)                                                                             \
    X(DATA_LOSS, 15)                                                                               \
    X(UNAUTHENTICATED, 16)

enum k8c_grpc_status {
#define K8C_GRPC_STATUS_ENUM(name, value) K8C_GRPC_##name = value,
    K8C_GRPC_STATUSES(K8C_GRPC_STATUS_ENUM)
#undef K8C_GRPC_STATUS_ENUM
};

#define K8C_GRPC_STATUS_MAX          16
#define K8C_GRPC_DEFAULT_MAX_MESSAGE (4u * 1024 * 1024)
#define K8C_GRPC_PREFIX_SIZE         5

/* "OK", "CANCELLED", ... for 0..16; "UNKNOWN" for anything else. Static storage. */
const char *k8c_grpc_status_name(int code);
/* The code for an upstream name ("NOT_FOUND" -> 5), or -1 when the name is unknown. */
int k8c_grpc_status_from_name(const char *name);
/* The gRPC status that best describes a k8c/errno error code (K8C_ETIMEDOUT ->
 * DEADLINE_EXCEEDED, K8C_ENOTFOUND -> NOT_FOUND, ...; anything else -> UNKNOWN/INTERNAL). */
int k8c_grpc_status_from_error(int err);

/*
 * Streaming message decoder. Embedded by value in its owner (_init/_free).
 *
 * k8c_grpc_decoder_feed() consumes one DATA chunk and calls `cb` once per
 * complete message, in order. The pointer given to cb is valid only during
 * the call (it points either into the caller's chunk or into the decoder's
 * reassembly buffer). If cb returns non-zero, feeding stops and feed returns
 * that value (the rest of the chunk is dropped; the decoder should not be fed
 * again).
 *
 * Errors poison the decoder: feed returns K8C_EPROTO and sets `status` (a
 * gRPC status code) and `errmsg`:
 *   - compressed flag 1 (we negotiate no compression) -> UNIMPLEMENTED
 *     (flag values other than 0 and 1 -> INTERNAL)
 *   - length above max_message -> RESOURCE_EXHAUSTED
 *     "grpc: received message larger than max (N vs. M)"
 * At the end of the stream call k8c_grpc_decoder_finish(): a stream that ends
 * inside a prefix or message (a length that promised more bytes than were
 * sent) gives K8C_EPROTO with status INTERNAL.
 *
 * Memory: the reassembly buffer grows with the bytes actually received, never
 * with a promised length, so a lying prefix cannot make us allocate memory
 * that the peer did not send.
 */
typedef int (*k8c_grpc_message_cb)(void *arg, const uint8_t *data, size_t len);

struct k8c_grpc_decoder {
    size_t max_message; /* limit on one message's length */
    uint8_t prefix[5];  /* the prefix being collected */
    size_t prefix_have; /* bytes of prefix collected */
    size_t msg_len;     /* length of the current message (valid once prefix complete) */
    uint8_t *msg;       /* reassembly buffer for a message split across chunks */
    size_t msg_have, msg_cap;
    uint64_t messages; /* messages delivered so far */
    int status;        /* gRPC status of the first error, 0 when healthy */
    char errmsg[K8C_ERRMSG_SIZE];
};

/* max_message 0 means K8C_GRPC_DEFAULT_MAX_MESSAGE. */
void k8c_grpc_decoder_init(struct k8c_grpc_decoder *d, size_t max_message);
void k8c_grpc_decoder_free(struct k8c_grpc_decoder *d);
/* See above: 0, K8C_EPROTO (status/errmsg set) or cb's non-zero return. */
int k8c_grpc_decoder_feed(struct k8c_grpc_decoder *d, const uint8_t *data, size_t len,
                          k8c_grpc_message_cb cb, void *arg);
/* End of stream: 0 when the decoder sits between messages, else K8C_EPROTO (INTERNAL). */
int k8c_grpc_decoder_finish(struct k8c_grpc_decoder *d);
/* True while a message or prefix is partially received. */
int k8c_grpc_decoder_partial(const struct k8c_grpc_decoder *d);

/* Encoding. */
/* Writes the 5-byte prefix for an uncompressed message of len bytes (len < 2^32). */
void k8c_grpc_frame_prefix(uint8_t out[5], size_t len);
/* A new buffer holding prefix + data (one reference, owned by the caller). */
struct k8c_buf *k8c_grpc_frame_encode(const void *data, size_t len);

/*
 * grpc-timeout: "<1..8 digits><unit>" with unit H, M, S, m (milli), u (micro)
 * or n (nano). Parses into nanoseconds (saturating at INT64_MAX). Returns 0 or
 * K8C_EINVAL for anything else (empty, 9+ digits, unknown unit, sign, spaces).
 */
int k8c_grpc_timeout_parse(const char *s, size_t len, int64_t *out_ns);
/* Formats a non-negative duration as the shortest-unit value of at most 8
 * digits that does not shorten the deadline by more than the unit's rounding
 * (rounds up). out must hold 16 bytes. Returns out. */
char *k8c_grpc_timeout_format(int64_t ns, char out[16]);

/* grpc-message percent-encoding: bytes outside 0x20..0x7e and '%' become %XX.
 * Returns a new NUL-terminated string (k8c_free). */
char *k8c_grpc_percent_encode(const char *s, size_t len);
/* Decodes %XX sequences; malformed ones are kept as they are (the spec asks
 * receivers to be lenient). Returns a new NUL-terminated string (k8c_free). */
char *k8c_grpc_percent_decode(const char *s, size_t len);

#endif
