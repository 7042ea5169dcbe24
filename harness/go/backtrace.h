/* Stacks of stopped threads, symbolized with the Go binary's pclntab. */
#ifndef GORR_BACKTRACE_H
#define GORR_BACKTRACE_H

#include "harness/core/thread.h"

#define BT_MAX 64

/* The PCs of t's stack, innermost first: at most max; returns how many. */
int backtrace_pcs(struct session *s, struct thread *t, uint64_t *pcs, int max);
/* The same from pc and sp (a parked goroutine's saved ones), reading the
 * memory of t's process. */
int backtrace_from(struct session *s, struct thread *t, uint64_t pc, uint64_t sp,
		   uint64_t *pcs, int max);
/* The same with each frame's SP at its pc (sps[i]: where SP is when
 * frame i-1 has returned to pcs[i]); sps may be NULL. */
int backtrace_frames(struct session *s, struct thread *t, uint64_t pc, uint64_t sp,
		     uint64_t *pcs, uint64_t *sps, int max);
/* Whether the walk of pcs (n frames) ended at runtime.systemstack: the
 * thread runs on its g0 stack for the goroutine whose saved state
 * (g.sched) goes on (backtrace_switched). */
int backtrace_through_switch(struct session *s, const uint64_t *pcs, int n);
/* The frames of a goroutine's own stack from its g.sched when that is
 * runtime.systemstack's saved switch (runtime.systemstack_switch, then
 * systemstack's caller...): at most max, or 0 when it is not. */
int backtrace_switched(struct session *s, struct thread *t, uint64_t sched_pc, uint64_t sched_sp,
		       uint64_t *pcs, int max);
/* "    func\n        file:line\n" per frame, as Go prints tracebacks. */
void backtrace_print(struct sbuf *sb, struct session *s, struct thread *t);
/* The same for pcs (innermost first; all but the first are return
 * addresses).  BT_HIDE_RUNTIME leaves out the runtime's frames as Go's
 * default tracebacks do (unless no other frame is left); BT_GO_STYLE
 * indents as Go does (function at the margin, a tab before file:line). */
enum { BT_HIDE_RUNTIME = 1, BT_GO_STYLE = 2 };
void backtrace_print_pcs(struct sbuf *sb, struct session *s, const uint64_t *pcs, int n,
			 int flags);
#endif
