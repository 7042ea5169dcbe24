/* Software breakpoints (int3) in a tracee, for replay's timeslice stops
 * and for --break.  The engine recognizes their SIGTRAP and asks the
 * policy (engine_ops.breakpoint) whether the thread stops there. */
#ifndef GORR_BREAKPOINT_H
#define GORR_BREAKPOINT_H

#include "harness/core/thread.h"

/* Insert a breakpoint at pc in t's process; 0 or a negative errno. */
int bp_insert(struct session *s, struct thread *t, uint64_t pc);
/* bp_insert at each of the n pcs (sorted, ascending): nearby ones read and
 * written as one span (a Go program's decision points are hundreds,
 * armed at its start: two syscalls each before).  Returns how many are
 * armed. */
size_t bp_insert_sorted(struct session *s, struct thread *t, const uint64_t *pcs, size_t n);
/* Remove it; 0 or a negative errno. */
int bp_remove(struct session *s, struct thread *t, uint64_t pc);
/* Whether a breakpoint of gorr's is at pc in t's process. */
int bp_at(struct session *s, struct thread *t, uint64_t pc);
/* Whether pc in t's process holds an INT3 of gorr's: a breakpoint, or
 * an rdtsc the exec stop patched (harness/sched/detenv.c).  A single
 * step there would run the INT3 and leave t inside the instruction:
 * code that steps stops before such a pc. */
int bp_trap_at(struct session *s, struct thread *t, uint64_t pc);
/* Whether pc is one of the rdtsc/rdtscp sites the exec stop patched
 * (session.tsc_sites). */
int bp_tsc_site(const struct session *s, uint64_t pc);
/* Write len bytes of t's code at pc (through its protection); 0 or a
 * negative errno. */
int bp_code_write(struct session *s, struct thread *t, uint64_t pc, const void *buf, size_t len);
/* Make t, stopped with nothing pending (a trap; not a syscall stop), run
 * syscall nr with args through code written at pc for the while (7
 * bytes, mapped executable); its registers and those bytes are put back
 * after.  *ret is the call's result.  0, or a negative errno:
 * -EAGAIN when a signal came instead (it is sent again). */
int bp_inject_syscall(struct session *s, struct thread *t, uint64_t pc, long nr,
		      const uint64_t args[6], int64_t *ret);
/* Put the program's own bytes back into buf, len bytes read from addr
 * in process tgid, where gorr's INT3s are (breakpoints, patched rdtsc):
 * what a debugger must see. */
void bp_unpatch(const struct session *s, pid_t tgid, uint64_t addr, unsigned char *buf, size_t len);
/* Close what the breakpoints keep open. */
void bp_release(struct session *s);
/* Run the original instruction under the breakpoint at pc (t is there,
 * rewound: rip == pc), with the
 * breakpoint kept in place afterwards; 0, or a wait status of another
 * stop that came instead (for the event loop), or a negative errno. */
int bp_step_over(struct session *s, struct thread *t, uint64_t pc, int *status);

#endif
