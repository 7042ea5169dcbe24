/* Thin wrappers over ptrace(2) and tracee memory, in the manner of CRIU's
 * compel: each returns 0 (or a count) on success and a negative errno on
 * failure.  -ESRCH is a normal outcome everywhere: a thread can die at any
 * moment, for instance when another thread calls exit_group while it sits
 * in a ptrace stop.  Only harness/ calls ptrace; policies use the engine. */
#ifndef GORR_PTRACE_H
#define GORR_PTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <signal.h>
#include <sys/ptrace.h>

int pt_seize(pid_t pid, unsigned long options);
int pt_cont(pid_t tid, int sig);
int pt_syscall(pid_t tid, int sig);
int pt_singlestep(pid_t tid);
int pt_listen(pid_t tid);
int pt_interrupt(pid_t tid);
int pt_getregs(pid_t tid, struct user_regs_struct *regs);
int pt_setregs(pid_t tid, const struct user_regs_struct *regs);
/* x87 and SSE state (FXSAVE layout: XMM0-15, MXCSR). */
int pt_getfpregs(pid_t tid, struct user_fpregs_struct *fp);
int pt_setfpregs(pid_t tid, const struct user_fpregs_struct *fp);
int pt_syscall_info(pid_t tid, struct __ptrace_syscall_info *info);
int pt_getsiginfo(pid_t tid, siginfo_t *si);
int pt_setsiginfo(pid_t tid, const siginfo_t *si);
int pt_geteventmsg(pid_t tid, unsigned long *msg);
/* Wait for the next stop or exit of one tracee, retrying when a signal
 * of gorr's own (the scheduler's tick) interrupts the wait: a stop must
 * never be left unreported.  0 or a negative errno. */
int pt_wait(pid_t tid, int *status);
/* Run one instruction (PTRACE_SINGLESTEP) and wait for it: 0 with
 * *other 0 when the step's trap came, 0 with *other the wait status of
 * another stop that came instead (for the event loop), or a negative
 * errno. */
int pt_step(pid_t tid, int *other);
/* Debug register i (0-7) of a stopped tracee (PTRACE_PEEKUSER/POKEUSER
 * at struct user's u_debugreg, arch/x86/kernel/ptrace.c); 0 or a
 * negative errno. */
int pt_get_debugreg(pid_t tid, int i, unsigned long *v);
int pt_set_debugreg(pid_t tid, int i, unsigned long v);


/* Tracee memory.  Reads and writes are all-or-nothing: a short transfer
 * is -EFAULT.  mem_write falls back to /proc/PID/mem so that read-only
 * mappings (code) can be written too. */
int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len);

#endif
