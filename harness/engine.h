/* The event loop every gorr tool shares (harness/engine.c) and setting a
 * session up (harness/session.c): it starts a program under ptrace +
 * seccomp, follows every thread and child process, makes the program's
 * environment deterministic at each exec, and hands each stop to the
 * scheduler (harness/sched/) and to the active policy (struct engine_ops,
 * harness/core/ops.h), in that order.
 *
 * The state of one traced run lives in struct session
 * (harness/core/state.h); there is no other mutable state.
 * docs/ARCHITECTURE.md draws the layers. */
#ifndef GORR_ENGINE_H
#define GORR_ENGINE_H

#include "harness/core/ops.h"
#include "harness/core/state.h"
#include "harness/core/thread.h"
#include "harness/sched/sched.h"
#include "harness/sched/virt.h"

/* engine_ops.wants: every call that is not deterministic (not SF_DET),
 * and the numbers the table does not know. */
int engine_wants_nondet(void *policy, long nr, const struct sc_desc *d);

/* Resolve the program, read its binary, build the seccomp filter.
 * Returns 0 or a negative errno after printing a one-line error. */
int session_init(struct session *s, const struct session_opts *o,
		 const struct engine_ops *ops, void *policy);
void session_release(struct session *s);
/* Kill every tracee of s and reap them all (a replay that runs again
 * from the start), so that none is left in a stop. */
void session_kill(struct session *s);
/* Start the program stopped under ptrace. */
int session_spawn(struct session *s);
/* Run the event loop until the program's first process has exited (or
 * hangs: s->hang). */
int session_run(struct session *s);
/* The shell-style exit status of the program: its exit code, or
 * 128 + signal when a signal killed it. */
int session_exit_code(const struct session *s);

/* Complete the call t is stopped in at its seccomp stop with ret,
 * without the kernel (thread_complete), and tell the scheduler and the
 * policy (syscall_exit) as for any completed call. */
void complete_call(struct session *s, struct thread *t, int64_t ret);
/* Forget a thread: the scheduler's pointers to it, then its entry. */
void engine_forget_thread(struct session *s, pid_t tid);

/* The number of CPUs in a mask. */
int cpumask_count(const cpu_set_t *m);

#endif
