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
    X(K8C_ECONFLICT, -1018, "conflict")

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
