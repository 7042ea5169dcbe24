/* Forcing a garbage collection in the traced Go program, through the
 * runtime's debug call protocol (runtime/asm_amd64.s debugCallV2,
 * runtime/debugcall.go).  The thread is brought to a point where the
 * runtime accepts an injected call (a compiled, non-runtime function at
 * a safe point), then:
 *   - runtime.GC is called where the binary links it (test binaries do):
 *     it returns once a whole cycle, sweep included, is over;
 *   - otherwise runtime.gcStart starts a cycle (gcTriggerCycle with a
 *     cycle number no run reaches, so its test always passes), then
 *     runtime.Gosched is called until runtime.gcphase is _GCoff again
 *     (mark termination done), then runtime.sweepone until nothing is
 *     left to sweep: the steps of runtime.GC itself (runtime/mgc.go).
 * Every called function returns into the debugCallNNN frame, which the
 * runtime accepts as the caller of further calls.  The thread goes on
 * only after the last step.  Every decision reads the program's memory,
 * so a replay that starts the same call at the same point repeats it. */
#ifndef GORR_GOCALL_H
#define GORR_GOCALL_H

#include "harness/core/thread.h"

/* Whether a GC can be forced in the session's program; 0, or -ENOTSUP
 * with the reason in why. */
int gocall_gc_supported(struct session *s, struct sbuf *why);

/* Dead registers cleared for the call (gocall.c, clear_regs). */
enum {
	GOCALL_CLEAR_R12 = 1,
	GOCALL_CLEAR_R13 = 2,
	GOCALL_CLEAR_R15 = 4,
	GOCALL_CLEAR_RDX = 8,
};

/* Start a forced GC on t, stopped in user code outside a syscall: at the
 * entry of a function, on a breakpoint of gorr's at bp_pc (its
 * instruction is run first), or with bp_pc 0 at a call's return address.
 * t is single-stepped to the first point the runtime accepts; *at gets
 * its registers there (the point a replay must reach) and *clear the
 * dead registers cleared for the call.  Returns 0 (the caller resumes
 * t), -EAGAIN when no such point came within a bounded number of steps,
 * -EBUSY when a forced GC is already in progress (t untouched), -ENOTSUP
 * (t untouched), or another negative errno.  A stop that was not a step
 * (a syscall, a signal) is left in s->gc.pending_status for the event
 * loop. */
int gocall_gc_start(struct session *s, struct thread *t, uint64_t bp_pc,
		    struct user_regs_struct *at, unsigned int *clear);

/* Start the forced GC at exactly this point, clearing the same
 * registers (replay: t is where *at was recorded). */
int gocall_gc_start_here(struct session *s, struct thread *t, unsigned int clear);

/* A SIGTRAP of t: GOCALL_TRAP_HANDLED when it was a trap of the debug
 * call protocol in progress on t (handled; resume t), GOCALL_TRAP_YIELD
 * when it was and t now runs runtime.Gosched while the GC's mark workers
 * run on the other threads (t should yield at its next stop rather than
 * spin through its timeslice: some 20000 clock reads), 0 otherwise. */
enum { GOCALL_TRAP_NONE = 0, GOCALL_TRAP_HANDLED = 1, GOCALL_TRAP_YIELD = 2 };
int gocall_trap(struct session *s, struct thread *t);

/* Whether t, stopped at r, has just run an INT3 whose SIGTRAP is still
 * to be reported: one of gorr's breakpoints or one of the protocol's.
 * A timeslice must not end there (a replay stops at the trap first). */
int gocall_trapped(struct session *s, struct thread *t, const struct user_regs_struct *r);

/* The return address of the innermost frame on t's stack where a call
 * can be injected (a place t reaches soon, when it is now deep in the
 * runtime, in a syscall for instance); 0 when there is none. */
uint64_t gocall_return_site(struct session *s, struct thread *t);

#endif
