/* The mechanism: the session's table of traced threads, their memory and
 * registers, resuming them, and finishing a call without the kernel.  It
 * knows nothing of scheduling, virtual time or policies: the scheduler
 * (harness/sched/) and the event loop (harness/engine.c) decide, this
 * carries out.  Every call treats ESRCH as a normal outcome (a thread can
 * die in any stop). */
#ifndef GORR_CORE_THREAD_H
#define GORR_CORE_THREAD_H

#include "harness/core/state.h"

/* The thread table: by the kernel's tid, and by the id the program
 * knows (vtid; live threads only). */
struct thread *session_thread(struct session *s, pid_t tid);
struct thread *session_vthread(struct session *s, pid_t vtid);
/* A new entry (RS_NEW, not yet in the deterministic order). */
struct thread *thread_add(struct session *s, pid_t tid, pid_t tgid);
/* Forget tid: out of the table and the order, and freed. */
void thread_remove(struct session *s, pid_t tid);
/* A duplicate, in gorr, of t's process's fd (pidfd_getfd, Linux 5.6):
 * the same open file description, so polling it tells whether the
 * program's call would block, and getsockname names its socket.  -1
 * when it cannot be had; the caller closes it. */
int thread_dup_fd(struct session *s, const struct thread *t, int fd);
/* Whether a live vfork child of p's has yet to exec or exit: until it
 * does, p stays in clone (kernel/fork.c wait_for_vfork_done). */
int thread_vfork_waiting(struct session *s, const struct thread *p);

/* Read and write a thread's memory; thread_read matches sc_read_fn with
 * the thread as ctx. */
int thread_read(void *thread, uint64_t addr, void *buf, size_t len);
int thread_write(struct thread *t, uint64_t addr, const void *buf, size_t len);
int thread_getregs(struct thread *t, struct user_regs_struct *regs);
int thread_setregs(struct thread *t, const struct user_regs_struct *regs);
/* One instruction of t's: 0 with regs as after it (the trap flag and RF
 * the step left cleared), 1 when another stop came instead (*other: its
 * wait status: a syscall, a signal, an exit), or a negative errno. */
int thread_step(struct thread *t, struct user_regs_struct *regs, int *other);
/* t's SSE state: xmm0-xmm15 (256 bytes) then mxcsr (4), as a timeslice
 * end is told apart from an earlier lap with the same general registers
 * (sha256, json); 0 or a negative errno. */
#define THREAD_SSE_LEN 260
int thread_sse(struct thread *t, unsigned char out[THREAD_SSE_LEN]);
/* Set syscall argument i (0-5) in regs: rdi, rsi, rdx, r10, r8, r9
 * (the x86-64 syscall ABI, arch/x86/entry/entry_64.S). */
void regs_set_arg(struct user_regs_struct *regs, int i, uint64_t v);
/* Send sig to t (tgkill); 0 or a negative errno. */
int thread_signal(struct thread *t, int sig);
/* The signals pending for t, its own and its process's, and those it
 * blocks (SigPnd | ShdPnd, SigBlk: fs/proc/array.c), as masks with bit
 * sig - 1; 0 or a negative errno. */
int thread_sigpending(const struct thread *t, uint64_t *pending, uint64_t *blocked);

/* The session's clock, which is the program's CLOCK_MONOTONIC and the
 * scheduler's: the virtual clock under gorr run (session.vclock, which
 * the scheduler and the virtual world advance), else the real one. */
int64_t session_now(const struct session *s);

/* Resume t from its ptrace stop: into the kernel's run of its call with
 * an exit stop (want_exit), else on (PTRACE_CONT), with resume_sig. */
void thread_resume(struct session *s, struct thread *t);

/* Mark the call t is in as completed with ret, without the kernel running
 * it (the caller has written the memory it outputs).  For use in
 * syscall_entry, which then returns ENTRY_EMULATE. */
void thread_emulate(struct thread *t, int64_t ret);
/* Finish the call t is stopped in at its seccomp stop with ret, without
 * the kernel: the call is skipped and returns ret. */
void thread_complete(struct thread *t, int64_t ret);
/* At t's seccomp stop: the call is skipped and t put back on its syscall
 * instruction with the number in rax, to make the call again when it
 * runs on (after a signal's handler, say).  0 or -1. */
int thread_uncall(struct thread *t);
/* Stop a running t where it is (PTRACE_INTERRUPT) and wait for that
 * stop, which nobody handles after: for a stack before the end.
 * Returns its wait status or -1. */
int thread_halt(struct thread *t);

#endif
