/*
 * Logging: one line per event on stderr,
 *   `I 2026-11-22T12:00:00.123456Z store message key=value ...`
 * with a level letter (E, W, I, D), UTC time, the component name set once by
 * k8c_log_init, and a message whose format string carries key=value pairs.
 * Debug lines are gated by a klog-style verbosity (-v / --v).
 */
#ifndef K8C_LOG_H
#define K8C_LOG_H

enum k8c_log_level { K8C_LOG_ERROR, K8C_LOG_WARN, K8C_LOG_INFO, K8C_LOG_DEBUG };

extern int k8c_log_verbosity;

void k8c_log_init(const char *component);
void k8c_log(enum k8c_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define k8c_log_error(...) k8c_log(K8C_LOG_ERROR, __VA_ARGS__)
#define k8c_log_warn(...)  k8c_log(K8C_LOG_WARN, __VA_ARGS__)
#define k8c_log_info(...)  k8c_log(K8C_LOG_INFO, __VA_ARGS__)
#define k8c_log_v(n, ...)                                                                          \
    do {                                                                                           \
        if (k8c_log_verbosity >= (n))                                                              \
            k8c_log(K8C_LOG_DEBUG, __VA_ARGS__);                                                   \
    } while (0)

#endif
