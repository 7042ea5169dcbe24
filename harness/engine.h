/* The engine every gorr tool shares: it starts a program under
 * ptrace + seccomp, follows every thread and child process, makes the
 * program's environment deterministic at each exec, serializes the
 * program's threads (exactly one runs at a time), and hands each stop to
 * the active policy (recorder, runner, replayer, injector) through
 * struct engine_ops.  Policies never call ptrace themselves.
 *
 * The state of one traced run lives in struct session; there is no other
 * mutable state.  docs/ARCHITECTURE.md describes the scheduler. */
#ifndef GORR_ENGINE_H
#define GORR_ENGINE_H

#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <capstone/capstone.h>
#include <linux/filter.h>
#include <seccomp.h>

#include "gobin.h"
#include "prng.h"
#include "syscalls.h"
#include "util.h"

struct session;
struct fault_plan;
struct go_layout;

/* The syscall a thread is in, from its seccomp stop to its completion. */
struct sc_call {
	long nr;
	uint64_t args[6];
	int64_t ret;		/* valid once complete */
	uint64_t pc;		/* address after the syscall instruction */
	struct sc_entry_state entry;
	int emulated;		/* not run by the kernel; ret given by gorr */
	struct sc_input in[6];	/* inputs captured at entry, data in thread.inbuf */
	int nin;
};

/* Where a thread is, for the scheduler. */
enum run_state {
	RS_NEW,			/* announced by a clone event, first stop not seen */
	RS_READY,		/* stopped; can be resumed */
	RS_RUNNING,		/* the thread that runs (at most one) */
	RS_WAITING,		/* parked in an emulated blocking call at its seccomp stop */
	RS_KERNEL,		/* resumed inside a syscall that waits for another tracee (vfork) */
	RS_GROUP_STOP,		/* job-control stop, PTRACE_LISTEN */
	RS_DYING,		/* PTRACE_EVENT_EXIT seen, resumed to die */
};

/* What a parked thread waits for (harness/sched.c). */
enum wait_kind {
	W_NONE,
	W_FUTEX,		/* an emulated futex wait: woken by a wake on uaddr */
	W_SLEEP,		/* nanosleep, clock_nanosleep: the deadline */
	W_POLL,			/* epoll/poll retried with a zero timeout */
	W_FD,			/* a blocking read/write/accept... on a blocking fd */
	W_CHILD,		/* wait4/waitid retried with WNOHANG */
	W_DELAY,		/* an injected delay before the call runs */
};

struct thread {
	pid_t tid, tgid;	/* the kernel's ids */
	pid_t vtid;		/* the id the program and the trace see */
	uint64_t serial;	/* creation order: the scheduler's deterministic order */
	enum run_state rs;
	int stopped;		/* in a ptrace stop gorr has not resumed */
	int in_syscall;		/* between a seccomp stop and the call's completion */
	int want_exit;		/* resume with PTRACE_SYSCALL: the kernel runs the call */
	int resume_sig;		/* signal to deliver when resumed */
	int interrupt_pending;	/* PTRACE_INTERRUPT sent for a timeslice */
	int in_user;		/* resumed into user code (may be interrupted) */
	uint64_t run_start_ns;	/* real time its timeslice started */
	uint64_t resumed_ns;	/* real time it was last resumed (under run) */
	uint64_t cpu_mark_for;	/* the resume cpu_mark was taken for */
	int64_t cpu_mark;	/* its process's CPU time then (sched_tick) */
	int64_t run_start_v;	/* the scheduler's clock then (virtual under run) */
	struct sc_call call;
	struct sbuf inbuf;	/* bytes of call.in */

	/* A parked call (RS_WAITING). */
	enum wait_kind wait;
	uint64_t uaddr;		/* W_FUTEX */
	uint32_t bitset;
	uint64_t wait_order;	/* FIFO order of futex waiters */
	int has_deadline;
	int64_t deadline;	/* on the scheduler's clock, ns */
	int wait_fd;		/* W_FD, W_POLL: the program's fd */
	short wait_events;	/* W_FD: POLLIN or POLLOUT */
	int64_t wait_result;	/* result when the deadline passes */
	uint64_t orig_arg;	/* W_POLL: the timeout as given; W_CHILD: options */
	int poll_arg;		/* the timeout's argument index */
	int poll_rewritten;	/* its timeout register is 0 for this run of the call */
	int poll_rewound;	/* parked back at its syscall instruction */
	int retrying;		/* its next seccomp stop is the same call again */

	pid_t vfork_parent;	/* a vfork child: its parent waits for exec/exit */
	int doomed;		/* killed by its process's exit_group: exit already logged */
	int await_first;	/* session.awaiting counts its first stop */
	int await_exit;		/* session.awaiting counts its PTRACE_EVENT_EXIT */
	int args_translated;	/* virt.c rewrote id arguments in its registers */
	int port_fixes;		/* virt.c rewrote ports in these addresses */
	uint64_t port_fix_addr[2];
	uint16_t port_fix_orig[2];
	int startup_call;	/* gorr's own execve of the program: not logged */
	int held;		/* replay: held at a syscall entry (1) or exit (2) */
	int set_ret;		/* at the exit stop: write call.ret into rax */
	int tty;		/* the call writes to gorr's stdout (1) or stderr (2) */
	int replayed;		/* replay: its event was consumed at entry */
	int injected;		/* its result was injected by a fault rule */
	int delivered;		/* held readiness events appended to its result */
	uint64_t prio;		/* --chaos: the scheduler runs the highest first */
	int prio_set;
	int64_t budget_ns;	/* --chaos: this timeslice's length */
	int stashed_status;	/* a vfork parent's stop, reported before its child's exec */
	int has_stashed;
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
	/* Optional: a forced GC (harness/gocall.c) on t is over; err is 0
	 * or a negative errno with the reason in why. */
	void (*gc_done)(struct session *s, struct thread *t, int err, const char *why);
};

enum { BP_GO_ON = 0, BP_STOP = 1, BP_TAKEN = 2 };

struct session_opts {
	char *const *argv;	/* program and its arguments */
	char *const *envp;	/* its environment (NULL: gorr's own) */
	const char *exe;	/* the file to exec, as given (NULL: found from argv[0]) */
	uint64_t seed;
	int seed_given;
	int pin_cpu;		/* CPU to pin to; -1 picks one; -2 no pinning */
	int cpus;		/* CPUs the program is told it has; 0 = native */
	size_t strsize;		/* bytes of input buffers captured at entry */
	int quiet;
	int virtual_time;	/* gorr run: the scheduler's clock is virtual */
	uint64_t slice_ns;	/* timeslice budget in real time (0: default) */
	struct fault_plan *plan;	/* --inject rules, or NULL */
	int64_t hang_ns;	/* virtual time with only timers firing that is a hang */
	int leaks;		/* --leaks: goroutines left blocked at exit fail the run */
	char **leaks_ignore;	/* --leaks-ignore FUNC... */
	size_t nleaks_ignore;
	int64_t sample_ns;	/* --sample DUR: goroutine and timer counts */
	int chaos;		/* --chaos LEVEL: 0 off, 1, 2 (harness/sched.c) */
	int64_t timeout_ns;	/* --timeout DUR: the run ends after DUR (scheduler's clock) */
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
	pid_t leader_vtid;	/* the program's own id for its first process */
	struct thread *threads[SESSION_HASH];
	struct thread **order;	/* live threads by serial: deterministic order */
	size_t norder, order_alloc;
	uint64_t next_serial;
	int nthreads;
	int exec_count;
	int leader_done;
	int leader_wstatus;
	int start_failed;	/* the program's own exec failed */

	/* The scheduler (harness/sched.c). */
	struct thread *running;	/* the one thread resumed into the program */
	struct thread *last_run;	/* the thread that ran last */
	struct thread *yielded;	/* its timeslice just ended */
	int awaiting;		/* stops that must arrive before the next pick */
	struct prng sched_rng;
	struct prng chaos_rng;	/* --chaos (PRNG_CHAOS) */
	int timed_out;		/* --timeout reached */
	int64_t start_v;	/* the scheduler's clock at the first exec */
	uint64_t futex_order;
	uint64_t io_generation;	/* bumped when a call may have made I/O ready */
	int64_t vclock;		/* virtual CLOCK_MONOTONIC, ns (virtual_time) */
	int64_t vclock_realtime_base;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	int hang;		/* set when every thread is blocked for good */
	int stop_requested;	/* the policy ends the run (replay: diverged, breakpoint) */
	int hang_timers;	/* the hang: timers fired, but nothing else for hang_ns */
	int64_t last_progress;	/* virtual time of the last I/O or CPU work */
	struct prng random_rng;	/* getrandom under virtual time */
	struct pidmap {
		pid_t real, virt;
	} *pidmap;		/* ids the program has seen, under virtual time */
	size_t npidmap, pidmap_alloc;
	struct portmap {
		uint16_t real, virt;
	} *ports;		/* ports the kernel chose, under virtual time */
	size_t nports;
	int sigchld_fd;		/* signalfd for SIGCHLD, used while idle */
	int pidfd;		/* of the leader's process, for pidfd_getfd */
	pid_t pidfd_tgid;

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

	/* Breakpoints (harness/breakpoint.c). */
	struct breakpoint {
		pid_t tgid;
		uint64_t pc;
		unsigned char orig;
		int refs;
	} *bps;
	size_t nbps, bps_alloc;

	/* Exits of threads an exec ends (fs/exec.c de_thread), logged at the
	 * exec event in creation order rather than in the kernel's order. */
	struct deferred_exit {
		struct thread copy;	/* enough of the thread for the hook */
		int wstatus;
	} *dexits;
	size_t ndexits;

	/* A forced GC through the runtime's debug call protocol
	 * (harness/gocall.c); one at a time. */
	struct gocall {
		pid_t tid;		/* the thread it started on; 0 when none */
		pid_t tgid;		/* its process: later traps may come from
					 * any of its threads */
		int stage;
		struct user_regs_struct saved;	/* where the thread was */
		struct user_fpregs_struct fsaved;
		uint64_t ret_pc;	/* called functions return here */
		uint64_t calls;
		int refused, tries, err;
		unsigned int clear;	/* registers cleared (GOCALL_CLEAR_*) */
		char why[160];
		int pending_status;	/* a stop that came while stepping */
		int resolved;
		char unsupported[300];	/* why no GC can be forced, or "" */
		uint64_t debugcall, gc, gcstart, gosched, sweepone, gcphase;
	} gc;

	/* Readiness events a netpoll:delay rule holds back, delivered by
	 * a later epoll wait on the same epoll fd once due (sched.c). */
	struct held_event {
		pid_t tgid;
		int epfd;
		int64_t due;		/* on the scheduler's clock */
		unsigned char ev[SC_EPOLL_EVENT_SIZE];
	} *held;
	size_t nheld;

	/* The Go runtime's layout (harness/goroutines.c), found once. */
	struct go_layout *layout;
	int layout_done;
	char layout_err[400];

	uint64_t stops;		/* ptrace stops handled */
	uint64_t tsc_emulated;
};

/* engine_ops.wants: every call that is not deterministic (not SF_DET),
 * and the numbers the table does not know. */
int engine_wants_nondet(void *policy, long nr, const struct sc_desc *d);

/* Resolve the program, read its binary, build the seccomp filter.
 * Returns 0 or a negative errno after printing a one-line error. */
int session_init(struct session *s, const struct session_opts *o,
		 const struct engine_ops *ops, void *policy);
void session_release(struct session *s);
/* Start the program stopped under ptrace. */
int session_spawn(struct session *s);
/* Run the event loop until the program's first process has exited (or
 * hangs: s->hang). */
int session_run(struct session *s);
/* The shell-style exit status of the program: its exit code, or
 * 128 + signal when a signal killed it. */
int session_exit_code(const struct session *s);

struct thread *session_thread(struct session *s, pid_t tid);
/* The live thread the program knows as vtid, or NULL. */
struct thread *session_vthread(struct session *s, pid_t vtid);

/* Read and write a thread's memory; thread_read matches sc_read_fn with
 * the thread as ctx. */
int thread_read(void *thread, uint64_t addr, void *buf, size_t len);
int thread_write(struct thread *t, uint64_t addr, const void *buf, size_t len);
int thread_getregs(struct thread *t, struct user_regs_struct *regs);
int thread_setregs(struct thread *t, const struct user_regs_struct *regs);
/* Set syscall argument i (0-5) in regs: rdi, rsi, rdx, r10, r8, r9
 * (the x86-64 syscall ABI, arch/x86/entry/entry_64.S). */
void regs_set_arg(struct user_regs_struct *regs, int i, uint64_t v);
/* Send sig to t (tgkill); 0 or a negative errno. */
int thread_signal(struct thread *t, int sig);

/* Complete the call t is in with ret, without the kernel running it
 * (the caller has written the memory it outputs).  For use in
 * syscall_entry, which then returns ENTRY_EMULATE. */
void thread_emulate(struct thread *t, int64_t ret);

/* The number of CPUs in a mask. */
int cpumask_count(const cpu_set_t *m);

/* The scheduler's clock: real CLOCK_MONOTONIC, or the virtual clock
 * under gorr run. */
int64_t sched_now(const struct session *s);
/* t's timeslice starts now. */
void sched_start_budget(struct session *s, struct thread *t);
/* t's timeslice is over: it ends at t's next syscall stop (where the
 * others get their turn, deterministically under virtual time). */
void sched_spend_budget(struct session *s, struct thread *t);

/* --timeout: 1 (and the run ends, s->timed_out) once the scheduler's
 * clock has gone past it. */
int sched_check_timeout(struct session *s);

/* --chaos: the knobs of a level (docs/chaos.md). */
struct chaos_knobs {
	double delay_prob;	/* a syscall is delayed... */
	int64_t delay_max_ns;	/* ...by a uniform draw up to this */
	double yield_prob;	/* a syscall ends the timeslice */
	int64_t slice_min_ns, slice_max_ns;	/* timeslice lengths, log-uniform */
	double reprio_prob;	/* at a timeslice's end, the thread's priority is redrawn */
};
const struct chaos_knobs *chaos_knobs(int level);

/* Engine internals shared by engine.c, sched.c and detenv.c. */
int detenv_exec_stop(struct session *s, struct thread *t, struct exec_info *e);
/* 1 when si is the trap of an rdtsc/rdtscp that was emulated, 0 when it
 * is not such a trap, or a negative errno. */
int detenv_tsc_trap(struct session *s, struct thread *t, const siginfo_t *si);
void detenv_child_setup(const struct session *s);
/* The AT_RANDOM bytes exec number index of a run with this seed gets. */
void detenv_at_random(uint64_t seed, int index, unsigned char out[16]);

/* The virtual world of gorr run (harness/virt.c). */
void virt_init(struct session *s);
void virt_map(struct session *s, pid_t real, pid_t virt);
pid_t virt_pid(const struct session *s, pid_t real);
int virt_entry(struct session *s, struct thread *t);
void virt_exit(struct session *s, struct thread *t);
void virt_siginfo(struct session *s, siginfo_t *si);
uint64_t virt_tsc(const struct session *s);

void resume_thread(struct session *s, struct thread *t);
int sched_entry(struct session *s, struct thread *t);
void sched_init(struct session *s);
void sched_release(struct session *s);
void sched_dispatch(struct session *s);
void sched_tick(struct session *s);
void sched_after_stop(struct session *s, struct thread *t);
void sched_thread_gone(struct session *s, struct thread *t);
void sched_signal_sent(struct session *s, struct thread *t);
void sched_process_exited(struct session *s);
void complete_call(struct session *s, struct thread *t, int64_t ret);
/* Carry out a policy's answer (ENTRY_*) for the call t is stopped at:
 * 1 when t was resumed or completed, 0 when it stays parked. */
int engine_apply_entry(struct session *s, struct thread *t, int action);
/* Park t, at its syscall entry, for ns on the scheduler's clock; the call
 * then goes on as if it had just been made (an injected delay). */
void sched_delay(struct session *s, struct thread *t, int64_t ns);
/* Hold back a readiness event t's epoll wait returned, for ns on the
 * scheduler's clock (netpoll:delay); the caller removed it from the
 * result. */
void sched_hold_event(struct session *s, struct thread *t,
		      const unsigned char ev[SC_EPOLL_EVENT_SIZE], int64_t ns);
/* At the exit of an epoll wait: append the held events that are due
 * (t->call.ret raised, t->delivered set). */
void sched_deliver_held(struct session *s, struct thread *t);
/* Hand a wait status the scheduler collected itself to the event loop. */
void sched_handle_status(struct session *s, struct thread *t, int status);
/* Under virtual time: note that the program did real work at this call. */
void sched_note_call(struct session *s, struct thread *t);

#endif
