/* The interface between the engine and the active policy (recorder,
 * runner, replayer, injector): what a policy answers at a syscall stop
 * (ENTRY_*) and at a breakpoint (BP_*), and struct engine_ops, the hooks
 * through which every layer below the tools tells the policy what
 * happened.  Policies never call ptrace themselves.  The interface is
 * declared here, in the mechanism's layer, so that the scheduler and the
 * Go layer can call the hooks without knowing the tools
 * (docs/ARCHITECTURE.md, "Layout and layers"). */
#ifndef GORR_CORE_OPS_H
#define GORR_CORE_OPS_H

#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "harness/base/syscalls.h"

struct session;
struct thread;
struct vdso_ent;
struct vdso_sysrec;

enum clone_kind {
	CLONE_KIND_THREAD,
	CLONE_KIND_FORK,
	CLONE_KIND_VFORK,
};

/* What the engine did at an exec stop. */
struct exec_info {
	char path[4096];	/* the new image (/proc/TID/exe), or "" */
	unsigned char at_random[16];
	int vdso_hidden;
	int vdso_fast;		/* gorr's vDSO is mapped (session_opts.fast_clock) */
	int sys_fast;		/* Go's Syscall6 goes through its syscall buffer (session_opts.fast_sys) */
	int exit_taken;		/* execve has returned (0): no exit stop comes */
	int at_random_set;
	int index;		/* 0 for the first exec of the run */
};

/* An emulated rdtsc/rdtscp: the policy may change tsc and aux. */
struct tsc_info {
	uint64_t pc;
	int rdtscp;
	uint64_t tsc;
	uint32_t aux;		/* rdtscp's RCX (IA32_TSC_AUX) */
};

/* Values syscall_entry returns (and the scheduler's and the virtual
 * world's entry functions). */
enum {
	ENTRY_RUN = 0,		/* run it; no exit stop needed */
	ENTRY_RUN_EXIT = 1,	/* run it and stop at its exit */
	ENTRY_EMULATE = 2,	/* skip it: call.ret is its result, memory written */
	ENTRY_DEFAULT = 3,	/* let the scheduler decide (blocking calls) */
	ENTRY_HOLD = 4,		/* keep the thread in this stop; the policy completes it later */
	ENTRY_PARKED = 5,	/* the policy parked the thread (sched_delay) */
};

struct engine_ops {
	/* Whether syscall nr must stop (seccomp TRACE).  d is NULL for
	 * numbers the table does not know.  engine_wants_nondet is what
	 * recording and replaying need. */
	int (*wants)(void *policy, long nr, const struct sc_desc *d);
	void (*exec)(struct session *s, struct thread *t, const struct exec_info *e);
	/* At a seccomp stop.  ENTRY_DEFAULT lets the live scheduler
	 * emulate blocking calls and run the others with an exit stop. */
	int (*syscall_entry)(struct session *s, struct thread *t);
	/* The call completed (run by the kernel or emulated). */
	void (*syscall_exit)(struct session *s, struct thread *t);
	/* A signal is about to be delivered; returns the signal to deliver
	 * (0 to suppress it). */
	int (*signal)(struct session *s, struct thread *t, siginfo_t *si);
	void (*clone)(struct session *s, struct thread *parent, struct thread *child,
		      enum clone_kind kind);
	/* PTRACE_EVENT_EXIT: the thread is about to exit with wstatus. */
	void (*thread_exit)(struct session *s, struct thread *t, int wstatus);
	void (*tsc)(struct session *s, struct thread *t, struct tsc_info *ti);
	/* The scheduler switched to t (t differs from the last thread that ran). */
	void (*switched)(struct session *s, struct thread *t);
	/* t's timeslice ended and another thread runs next: t was interrupted
	 * at regs, or, with regs NULL, stopped right after its last event. */
	void (*slice)(struct session *s, struct thread *t, const struct user_regs_struct *regs);
	/* Optional: scripted scheduling (replay).  Returns the thread to run
	 * next, NULL when the run is over or cannot go on. */
	struct thread *(*pick)(struct session *s);
	/* Optional: t hit gorr's breakpoint at pc (rip is back at pc).
	 * Returns BP_GO_ON, BP_STOP (t stays stopped there) or BP_TAKEN
	 * (the policy moved t on itself: a forced GC started). */
	int (*breakpoint)(struct session *s, struct thread *t, uint64_t pc);
	/* Optional: a forced GC (harness/go/gocall.c) on t is over; err is 0
	 * or a negative errno with the reason in why. */
	void (*gc_done)(struct session *s, struct thread *t, int err, const char *why);
	/* Optional, with pick: every scheduler tick (5 ms of real time)
	 * while t runs in user code; a scripted run's watchdog. */
	void (*tick)(struct session *s, struct thread *t);
	/* Optional, under gorr's vDSO in record mode: a clock read t made
	 * without a stop, given at the next stop, in order. */
	void (*vclock)(struct session *s, struct thread *t, const struct vdso_ent *e);
	/* Optional, under the syscall buffer in record mode: a call t made
	 * without a stop (rec, its outputs after it), in order with the
	 * clock reads. */
	void (*vsyscall)(struct session *s, struct thread *t, const struct vdso_sysrec *rec);
	/* Optional: gorr is about to wait (a tick found it waiting for a
	 * stop, or it goes idle): what is buffered should be written. */
	void (*flush)(struct session *s);
	/* Optional: the scheduler starts t (its pick, or the live order). */
	void (*starting)(struct session *s, struct thread *t);
};

enum { BP_GO_ON = 0, BP_STOP = 1, BP_TAKEN = 2 };

#endif
