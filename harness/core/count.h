/* Counted timeslices: a count of loop laps kept by the program itself
 * (issue 11 item 3, issue 15; docs/ARCHITECTURE.md "Counted slices").
 *
 * Under `gorr run` a thread that computes without a syscall or a decision
 * point had its timeslice ended by a real-time interrupt, wherever the
 * machine's speed put it: two runs of one seed could differ.  Without
 * performance counters, gorr counts in software what rr counts in the
 * PMU: every loop's back edge.  At the program's exec, a 5-byte JMP
 * replaces a window of whole instructions at or before each back edge
 * (or at the loop's head) of every Go function, to a trampoline in pages
 * of gorr's 2 MB below the executable that decrements a counter in a data
 * page and traps (INT3) when it reaches zero, then runs the displaced
 * instructions and jumps back.  The trampoline keeps the flags (mov, lea
 * and jrcxz set none) and writes nothing to the stack; RCX is saved in
 * the data page (one slot: one thread of a process runs at a time).
 * Windows hold no call, no branch target but their first instruction,
 * nothing gorr patches or emulates; a load there that faults (a nil
 * pointer) is put back at the program's own pc before the signal goes
 * on, where Go's sigpanic finds the frame (count_fault_pc).
 *
 * The scheduler sets the counter at each slice's start; a trap is the
 * slice's end, at the window's start with the registers there, the same
 * place on every run of the seed. */
#ifndef GORR_CORE_COUNT_H
#define GORR_CORE_COUNT_H

#include "harness/core/thread.h"

/* Install the counting in t's process (stopped at its exec, the program's
 * binary): 0, or a negative errno (-ENOTSUP: not a Go program, PIE, no
 * room).  skip: sorted pcs no window may hold (n of them). */
int count_install(struct session *s, struct thread *t, const uint64_t *skip, size_t n);
/* Whether t's process counts. */
int count_active(const struct session *s, const struct thread *t);
/* Set t's process's counter: t traps after laps more passes (0: never). */
int count_arm(struct session *s, struct thread *t, uint64_t laps);
/* When trap (a SIGTRAP's rip - 1) is a trampoline's INT3: the window's
 * start, where t is put back (regs too, rip set; the trampoline restored
 * RCX before it trapped).  0 otherwise. */
uint64_t count_trapped(struct session *s, struct thread *t, uint64_t trap,
		       struct user_regs_struct *regs);
/* When pc lies inside a patched window, past its first byte (where a JMP
 * to the trampoline now is: an INT3 there would break it), the window's
 * start; 0 otherwise. */
uint64_t count_window_start(const struct session *s, uint64_t pc);
/* Whether pc is in the trampolines. */
int count_holds(const struct session *s, uint64_t pc);
/* Bring t, stopped in a trampoline (an interrupt, a signal), back to the
 * program's code: to the window's start before the displaced instructions
 * ran (RCX from its slot), else by steps past them.  0 (regs: where it
 * is now), 1 when another stop came during a step (*other: its status),
 * or a negative errno. */
int count_leave(struct session *s, struct thread *t, struct user_regs_struct *regs, int *other);
/* Lap accounting for the trace (a counted slice says how many passes its
 * thread made since its previous event, so that replay can stop at that
 * very pass): t, the thread that had the CPU, stopped (the passes since
 * the last look are its own); an event of t's is written (its count starts
 * again from the counter as it is). */
void count_note_stop(struct session *s, struct thread *t);
void count_note_event(struct session *s, struct thread *t);
/* t faulted inside a trampoline's copy of a window (a nil pointer's
 * load): put it at the original instruction's address, registers as they
 * are (the instruction did not run), so that the signal's handler (Go's
 * sigpanic) sees the program's own pc.  1 when moved, 0 otherwise. */
int count_fault_pc(struct session *s, struct thread *t, struct user_regs_struct *regs);
void count_release(struct session *s);

#endif
