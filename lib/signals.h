/*
 * Graceful shutdown: SIGINT and SIGTERM on a uv loop call one callback, once;
 * a second signal while shutting down exits at once. SIGPIPE is ignored, since
 * every write error is handled where it happens.
 */
#ifndef K8C_SIGNALS_H
#define K8C_SIGNALS_H

#include <uv.h>

typedef void (*k8c_shutdown_cb)(void *arg);

/* 0 or a negative libuv code. */
int k8c_signals_init(uv_loop_t *loop, k8c_shutdown_cb cb, void *arg);
/* Closes the signal handles so the loop can end. */
void k8c_signals_close(void);

#endif
