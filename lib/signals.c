/* SIGINT/SIGTERM handling for graceful shutdown; see signals.h. */
#include "signals.h"
#include "log.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

static uv_signal_t sig_int, sig_term;
static k8c_shutdown_cb shutdown_cb;
static void *shutdown_arg;
static bool shutting_down, initialised;

static void on_signal(uv_signal_t *h, int signum)
{
    if (shutting_down) {
        k8c_log_warn("second signal, exiting now signal=%d", signum);
        _exit(1);
    }
    shutting_down = true;
    k8c_log_info("shutting down signal=%d", signum);
    if (shutdown_cb)
        shutdown_cb(shutdown_arg);
}

int k8c_signals_init(uv_loop_t *loop, k8c_shutdown_cb cb, void *arg)
{
    int rv;

    signal(SIGPIPE, SIG_IGN);
    shutdown_cb = cb;
    shutdown_arg = arg;
    shutting_down = false;
    if ((rv = uv_signal_init(loop, &sig_int)) != 0)
        return rv;
    if ((rv = uv_signal_init(loop, &sig_term)) != 0) {
        uv_close((uv_handle_t *)&sig_int, NULL);
        return rv;
    }
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    /* Signal handles alone must not keep the loop alive. */
    uv_unref((uv_handle_t *)&sig_int);
    uv_unref((uv_handle_t *)&sig_term);
    initialised = true;
    return 0;
}

void k8c_signals_close(void)
{
    if (!initialised)
        return;
    initialised = false;
    uv_close((uv_handle_t *)&sig_int, NULL);
    uv_close((uv_handle_t *)&sig_term, NULL);
}
