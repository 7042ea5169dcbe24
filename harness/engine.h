/* The engine every gorr tool shares: it starts a program under
 * ptrace + seccomp, follows every thread and child process, makes the
 * program's environment deterministic at each exec, and hands each stop
 * to the active policy (recorder, replayer, injector) through
 * struct engine_ops.  Policies never call ptrace themselves.
 *
 * The state of one traced run lives in struct session; there is no other
 * mutable state. */
#ifndef GORR_ENGINE_H
#define GORR_ENGINE_H

#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <capstone/capstone.h>
#include <seccomp.h>
#include <linux/filter.h>

#include "gobin.h"
#include "syscalls.h"
#include "util.h"

struct session;

/* The syscall a thread is in, from its seccomp stop to its exit stop. */
struct sc_call {
	long nr;
	uint64_t args[6];
	int64_t ret;		/* valid at exit */
	uint64_t pc;		/* address after the syscall instruction */
	struct sc_entry_state entry;
	int emulate;		/* skipped by the engine; ret is emu_ret */
	int64_t emu_ret;
	struct sc_input in[6];	/* inputs captured at entry, data in thread.inbuf */
	int nin;
};

enum thread_state {
	TH_RUNNING,		/* resumed, not in a stop */
	TH_STOPPED,		/* in a stop the engine has not resumed yet */
	TH_GROUP_STOP,		/* job-control stop, PTRACE_LISTEN */
	TH_EXITING,		/* PTRACE_EVENT_EXIT seen */
};

struct thread {
	pid_t tid, tgid;
	enum thread_state state;
	int in_syscall;		/* between a seccomp stop and its exit stop */
	int want_exit;		/* resume with PTRACE_SYSCALL until the exit stop */
	struct sc_call call;
	struct sbuf inbuf;	/* bytes of call.in */
	struct thread *next;	/* hash chain */
};

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

/* Values syscall_entry returns. */
enum {
	ENTRY_RUN = 0,		/* run it; no exit stop needed */
	ENTRY_RUN_EXIT = 1,	/* run it and stop at its exit */
	ENTRY_EMULATE = 2,	/* skip it; call.emu_ret is its result */
};

struct engine_ops {
	/* Whether syscall nr must stop (seccomp TRACE).  d is NULL for
	 * numbers the table does not know. */
	int (*wants)(void *policy, long nr, const struct sc_desc *d);
	void (*exec)(struct session *s, struct thread *t, const struct exec_info *e);
	int (*syscall_entry)(struct session *s, struct thread *t);
	void (*syscall_exit)(struct session *s, struct thread *t);
	/* A signal is about to be delivered; returns the signal to deliver
	 * (0 to suppress it). */
	int (*signal)(struct session *s, struct thread *t, const siginfo_t *si);
	void (*clone)(struct session *s, struct thread *parent, pid_t child,
		      enum clone_kind kind);
	/* PTRACE_EVENT_EXIT: the thread is about to exit with wstatus. */
	void (*thread_exit)(struct session *s, struct thread *t, int wstatus);
	void (*tsc)(struct session *s, struct thread *t, struct tsc_info *ti);
};

struct session_opts {
	char *const *argv;	/* program and its arguments */
	uint64_t seed;
	int seed_given;
	int pin_cpu;		/* CPU to pin to; -1 picks one; -2 no pinning */
	int cpus;		/* CPUs the program is told it has; 0 = native */
	size_t strsize;		/* bytes of input buffers captured at entry */
	int quiet;
};

enum { PIN_AUTO = -1, PIN_NONE = -2 };

#define SESSION_HASH 256

struct session {
	struct session_opts opts;
	const struct engine_ops *ops;
	void *policy;

	char *exe;		/* the program's resolved path */
	struct gobin bin;
	int have_bin;
	unsigned char exe_digest[32];
	unsigned char at_random[16];	/* of the first exec */

	pid_t leader;
	struct thread *threads[SESSION_HASH];
	int nthreads;
	int exec_count;
	int leader_done;
	int leader_wstatus;
	int start_failed;	/* the program's own exec failed */

	cpu_set_t native_mask;	/* gorr's own affinity when it started */
	cpu_set_t reported_mask;	/* what sched_getaffinity reports */
	int pinned_cpu;		/* -1 when not pinned */
	int rewrite_mask;	/* reported_mask differs from the real one */

	scmp_filter_ctx filter;
	/* The filter as BPF, made before fork: the child must not allocate
	 * (it may hold no lock another thread had, and with the TSC
	 * disabled even a vDSO clock read would fault). */
	struct sock_filter *bpf;
	unsigned short bpf_len;
	csh cs;
	int cs_open;

	uint64_t stops;		/* ptrace stops handled */
	uint64_t tsc_emulated;
};

/* Resolve the program, read its binary, build the seccomp filter.
 * Returns 0 or a negative errno after printing a one-line error. */
int session_init(struct session *s, const struct session_opts *o,
		 const struct engine_ops *ops, void *policy);
void session_release(struct session *s);
/* Start the program stopped under ptrace. */
int session_spawn(struct session *s);
/* Run the event loop until the program's first process has exited. */
int session_run(struct session *s);
/* The shell-style exit status of the program: its exit code, or
 * 128 + signal when a signal killed it. */
int session_exit_code(const struct session *s);

struct thread *session_thread(struct session *s, pid_t tid);

/* Read a thread's memory; matches sc_read_fn with the thread as ctx. */
int thread_read(void *thread, uint64_t addr, void *buf, size_t len);

/* Engine internals shared by engine.c and detenv.c. */
int detenv_exec_stop(struct session *s, struct thread *t, struct exec_info *e);
/* 1 when si is the trap of an rdtsc/rdtscp that was emulated, 0 when it
 * is not such a trap, or a negative errno. */
int detenv_tsc_trap(struct session *s, struct thread *t, const siginfo_t *si);
void detenv_child_setup(const struct session *s);
/* The AT_RANDOM bytes exec number index of a run with this seed gets. */
void detenv_at_random(uint64_t seed, int index, unsigned char out[16]);

/* The number of CPUs in a mask, and its size in bytes as the kernel
 * reports it from sched_getaffinity. */
int cpumask_count(const cpu_set_t *m);

#endif
