/*
 * One error table for all of k8c. Functions return 0 on success or a negative
 * code: either a negative errno (system and libuv errors) or one of the codes
 * below, which start at -1001 so the two ranges never collide.
 *
 * To add an error, add one X() line; names and messages come from this table
 * only. Messages say what happened in words a user understands.
 */
#ifndef K8C_ERROR_H
#define K8C_ERROR_H

#define K8C_ERRMSG_SIZE 256

#define K8C_ERRORS(X)                                                                              \
    X(K8C_EINVAL, -1001, "invalid argument")                                                       \
    X(K8C_ENOMEM, -1002, "out of memory")                                                          \
    X(K8C_EPROTO, -1003, "protocol error")                                                         \
    X(K8C_ETOOBIG, -1004, "input too large")                                                       \
    X(K8C_ENOTFOUND, -1005, "not found")                                                           \
    X(K8C_EEXIST, -1006, "already exists")                                                         \
    X(K8C_ECLOSED, -1007, "connection closed")                                                     \
    X(K8C_ETIMEDOUT, -1008, "timed out")                                                           \
    X(K8C_EPARSE, -1009, "parse error")                                                            \
    X(K8C_ETLS, -1010, "TLS error")                                                                \
    X(K8C_EIO, -1011, "I/O error")                                                                 \
    X(K8C_ECANCELED, -1012, "canceled")                                                            \
    X(K8C_EDEPTH, -1013, "nesting too deep")                                                       \
    X(K8C_EUNSUPPORTED, -1014, "not supported")                                                    \
    X(K8C_EBUSY, -1015, "busy, try again later")                                                   \
    X(K8C_ESHUTDOWN, -1016, "shutting down")                                                       \
    X(K8C_ENOTLEADER, -1017, "not the leader")                                                     \
    X(K8C_ECONFLICT, -1018, "conflict")                                                            \
    X(K8C_ELEADERCHANGED, -1019, "leader changed; the request may or may not have been applied")   \
    X(K8C_EUNSENT, -1020, "request not sent: the connection was never established")                \
    /* etcd v3 API errors: messages exactly as etcd 3.4 sends them (rpctypes). */                  \
    X(K8C_ETCD_EMPTY_KEY, -1100, "etcdserver: key is not provided")                                \
    X(K8C_ETCD_KEY_NOT_FOUND, -1101, "etcdserver: key not found")                                  \
    X(K8C_ETCD_VALUE_PROVIDED, -1102, "etcdserver: value is provided")                             \
    X(K8C_ETCD_LEASE_PROVIDED, -1103, "etcdserver: lease is provided")                             \
    X(K8C_ETCD_TOO_MANY_OPS, -1104, "etcdserver: too many operations in txn request")              \
    X(K8C_ETCD_DUPLICATE_KEY, -1105, "etcdserver: duplicate key given in txn request")             \
    X(K8C_ETCD_COMPACTED, -1106, "etcdserver: mvcc: required revision has been compacted")         \
    X(K8C_ETCD_FUTURE_REV, -1107, "etcdserver: mvcc: required revision is a future revision")      \
    X(K8C_ETCD_NO_SPACE, -1108, "etcdserver: mvcc: database space exceeded")                       \
    X(K8C_ETCD_LEASE_NOT_FOUND, -1109, "etcdserver: requested lease not found")                    \
    X(K8C_ETCD_LEASE_EXIST, -1110, "etcdserver: lease already exists")                             \
    X(K8C_ETCD_LEASE_TTL_TOO_LARGE, -1111, "etcdserver: too large lease TTL")                      \
    X(K8C_ETCD_REQUEST_TOO_LARGE, -1112, "etcdserver: request is too large")

enum k8c_error {
#define K8C_ERROR_ENUM(name, value, msg) name = value,
    K8C_ERRORS(K8C_ERROR_ENUM)
#undef K8C_ERROR_ENUM
};

/* Message for any code: ours, a negative errno or a libuv code. Static storage. */
const char *k8c_strerror(int code);
/* Symbolic name: "K8C_EINVAL", "ENOENT", ...; static storage. */
const char *k8c_errname(int code);
/* snprintf into a K8C_ERRMSG_SIZE buffer (objects carry `char errmsg[K8C_ERRMSG_SIZE]`). */
void k8c_errmsg_printf(char *errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
