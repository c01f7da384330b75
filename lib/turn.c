/* End-of-turn work on a libuv loop; see turn.h. */
#include "turn.h"

static void turn_run(struct k8c_turn *t)
{
    k8c_turn_disarm(t);
    t->cb(t);
}

static void on_check(uv_check_t *h)
{
    turn_run(h->data);
}

static void on_idle(uv_idle_t *h)
{
    struct k8c_turn *t = h->data;
    if (t->flags & K8C_TURN_IDLE_RUNS)
        turn_run(t);
}

void k8c_turn_init(uv_loop_t *loop, struct k8c_turn *t, k8c_turn_cb cb, void *data, unsigned flags)
{
    uv_check_init(loop, &t->check);
    uv_idle_init(loop, &t->idle);
    t->check.data = t->idle.data = t;
    t->cb = cb;
    t->data = data;
    t->flags = flags;
    t->open = 2;
    t->closed = NULL;
    if (flags & K8C_TURN_UNREF) {
        uv_unref((uv_handle_t *)&t->check);
        uv_unref((uv_handle_t *)&t->idle);
    }
}

void k8c_turn_arm(struct k8c_turn *t)
{
    if (uv_is_active((uv_handle_t *)&t->check) || uv_is_closing((uv_handle_t *)&t->check))
        return;
    uv_check_start(&t->check, on_check);
    uv_idle_start(&t->idle, on_idle);
}

void k8c_turn_disarm(struct k8c_turn *t)
{
    uv_check_stop(&t->check);
    uv_idle_stop(&t->idle);
}

static void on_closed(uv_handle_t *h)
{
    struct k8c_turn *t = h->data;
    if (--t->open == 0 && t->closed != NULL)
        t->closed(t);
}

void k8c_turn_close(struct k8c_turn *t, void (*closed)(struct k8c_turn *t))
{
    k8c_turn_disarm(t);
    t->closed = closed;
    uv_close((uv_handle_t *)&t->check, on_closed);
    uv_close((uv_handle_t *)&t->idle, on_closed);
}
