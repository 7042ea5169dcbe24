/* Conditional breakpoints that the tracee checks itself (issue 12,
 * item 1).
 *
 * Replay finds a timeslice's end by the recorded pc and registers.  An
 * INT3 there stops the thread at every pass, about 12,000 a second, while
 * a loop makes 10^8 laps a second: a slice that ended 10^8 laps into a
 * loop took hours.  A conditional breakpoint instead puts a 5-byte JMP
 * over a window of whole instructions at or just before pc, to a
 * trampoline in a page of gorr's in the tracee: the window's
 * instructions before pc, moved; then a compare of the 16 general
 * registers (and xmm0-15) with the wanted ones and an INT3 when all are
 * equal; then the
 * rest of the window and a JMP back.  A pass then costs some twenty
 * instructions, not a stop.  Where no 5-byte window fits (a loop head
 * whose next instruction is a branch target too), a 2-byte JMP leads to
 * the INT3 padding after the function's code, which holds the 5-byte one.
 *
 * The trampoline writes nothing to the stack (the flags go to the page
 * by lahf/seto, as DynamoRIO saves them): a write below SP would stay in
 * dead slots of later frames, which the goroutine's stack digest of a
 * later slice covers.  Only Go functions qualify (the pclntab gives the
 * function's bounds for the branch scan), and only
 * windows that can move: no call, ret, syscall or indirect jump in them,
 * a relative jump only last, no branch of the function into their
 * middle, no indirect jump in the function (a jump table could lead
 * there).  The page is mapped once per process by an mmap the thread is
 * made to run, 2 MB below the lowest mapping of the executable, where
 * neither the kernel's top-down mmap nor brk would place anything; the
 * program never sees it (replay answers its reads of /proc/self/maps from
 * the trace).
 *
 * Limit: a goroutine that was preempted asynchronously inside the window
 * (its saved pc there) and that the searching thread resumes before the
 * slice's end would run the patched bytes; replay runs one thread, so
 * only a goroutine switch inside one slice can do that. */
#ifndef GORR_CONDBP_H
#define GORR_CONDBP_H

#include "harness/core/thread.h"

#define CONDBP_STACK_MAX 512

/* Arm the breakpoint at pc for t's registers want and, when sse is not
 * NULL, its xmm0-15 (256 bytes, as thread_sse gives them), and the
 * stack_len bytes (a multiple of 8, at most CONDBP_STACK_MAX) at its rsp.  t must be
 * stopped at a trap stop with rip == pc.  0; -ENOTSUP when the code at pc
 * cannot carry one (the caller keeps an INT3); another negative errno. */
int condbp_arm(struct session *s, struct thread *t, uint64_t pc,
	       const struct user_regs_struct *want, const unsigned char *sse,
	       const unsigned char *stack, size_t stack_len);
/* Whether a conditional breakpoint can be armed at pc at all (a window
 * fits there: pick_window; the tracee's own state aside). */
int condbp_fits(struct session *s, uint64_t pc);
/* Put the displaced bytes back; 0 or a negative errno. */
int condbp_disarm(struct session *s, struct thread *t);
/* The armed pc, when trap (a SIGTRAP's rip - 1) is the trampoline's INT3
 * in t's process; 0 otherwise. */
uint64_t condbp_trapped(const struct session *s, const struct thread *t, uint64_t trap);
/* Whether a conditional breakpoint is armed at pc in t's process. */
int condbp_at(const struct session *s, const struct thread *t, uint64_t pc);
/* t, at the armed pc (rip == pc), goes on without trapping there: its
 * rip is set to the trampoline's copy of the displaced instructions.
 * 0 or a negative errno. */
int condbp_pass(struct session *s, struct thread *t);

/* The instructions [pc, pc + len) (code: their bytes) copied to out (at
 * most cap bytes, which land at base in the tracee) so that they do there
 * what they did at pc (RIP-relative operands and a last relative jump
 * adjusted), then a JMP back to pc + len.  The bytes written, or a
 * negative errno: -ENOTSUP for what cannot move (calls, returns but a
 * plain last one, syscalls, indirect jumps), -ENOSPC. */
int condbp_relocate(struct session *s, unsigned char *out, size_t cap, uint64_t base, uint64_t pc,
		    const unsigned char *code, unsigned int len);

/* Pages of gorr's code near pc (within a rel32 jump) in t's process,
 * 2 MB below the lowest mapping of pc's file (this file's own two pages
 * there, others' right after them), with the 8 bytes sig at the end of
 * the first: the ones there already or new ones (pages rwx, the call
 * made at t's address at, a trap stop's rip).  0 with the address in
 * *addr, -ENOTSUP, or another negative errno. */
int condbp_near_page(struct session *s, struct thread *t, uint64_t at, uint64_t pc,
		     const char sig[8], int pages, uint64_t *addr);

#endif
