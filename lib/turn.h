/*
 * End-of-turn work: a callback run once at the end of the current loop
 * iteration, however many times it was asked for during it. Output or
 * proposals produced by all the callbacks of one turn are then handled
 * together (one flush per connection, one raft entry, one fan-out pass).
 *
 * A check handle runs the callback after poll. An idle handle keeps poll
 * from blocking when the work was asked for before poll (a timer) or by
 * another check callback; with K8C_TURN_IDLE_RUNS the idle handle runs the
 * callback too, without it the idle handle only wakes the loop, so all that
 * the turn's I/O callbacks add still goes in the same run.
 */
#ifndef K8C_TURN_H
#define K8C_TURN_H

#include <stdbool.h>
#include <uv.h>

struct k8c_turn;
typedef void (*k8c_turn_cb)(struct k8c_turn *t);

enum {
    K8C_TURN_IDLE_RUNS = 1, /* the idle handle runs the callback too */
    K8C_TURN_UNREF = 2,     /* an armed turn does not keep the loop alive */
};

struct k8c_turn {
    uv_check_t check;
    uv_idle_t idle;
    k8c_turn_cb cb;
    void *data;
    unsigned flags;
    int open; /* handles not yet closed */
    void (*closed)(struct k8c_turn *t);
};

void k8c_turn_init(uv_loop_t *loop, struct k8c_turn *t, k8c_turn_cb cb, void *data, unsigned flags);
/* Asks for one run at the end of this turn (again, if it ran already). */
void k8c_turn_arm(struct k8c_turn *t);
/* Cancels a pending run (the callback is disarmed before it is called). */
void k8c_turn_disarm(struct k8c_turn *t);
/* Closes both handles; closed(t) is called once both are closed. */
void k8c_turn_close(struct k8c_turn *t, void (*closed)(struct k8c_turn *t));

#endif
