/* The state of one traced run: struct thread and struct session.  Data
 * only: it sits in the mechanism's layer so that every layer can see it
 * (docs/ARCHITECTURE.md, "Layout and layers").  struct thread is in
 * parts, one per concern, each named with the files that write it:
 * sched_thread, chaos_thread, virt_thread and loop_thread have one
 * writer each; the tracee fields are the mechanism's and the event
 * loop's, with the run state also moved by the scheduler and the call's
 * result (call.ret, set_ret) by the policies; policy_thread is the
 * policies', with the scheduler's netpoll delays noting delivered
 * events there.  Other files may read a part.  There is no other
 * mutable state. */
#ifndef GORR_CORE_STATE_H
#define GORR_CORE_STATE_H

#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* Packed stores of a loop a timeslice ends in (harness/sched/loops.h:
 * LOOP_MAX_STORES * (9 + LOOP_MAX_BYTES)). */
#define SLICE_MEM_MAX 200

#include <capstone/capstone.h>
#include <linux/filter.h>
#include <seccomp.h>

#include "harness/base/prng.h"
#include "harness/base/syscalls.h"
#include "harness/base/util.h"
#include "harness/core/ops.h"
#include "harness/go/gobin.h"

struct fault_plan;
struct go_layout;
struct dpoint;
struct count_state;

/* The syscall a thread is in, from its seccomp stop to its completion. */
struct sc_call {
	long nr;
	uint64_t args[6];
	int64_t ret;		/* valid once complete */
	uint64_t pc;		/* address after the syscall instruction */
	struct sc_entry_state entry;
	int emulated;		/* not run by the kernel; ret given by gorr */
	/* Emulated as one the kernel restarts after a signal: the thread
	 * goes back to its SYSCALL with this number in rax (0: not). */
	long restart_nr;
	struct sc_input in[6];	/* inputs captured at entry, data in thread.inbuf */
	int nin;
};

/* Where a thread is, for the event loop and the scheduler. */
enum run_state {
	RS_NEW,			/* announced by a clone event, first stop not seen */
	RS_READY,		/* stopped; can be resumed */
	RS_RUNNING,		/* the thread that runs (at most one) */
	RS_WAITING,		/* parked in an emulated blocking call at its seccomp stop */
	RS_KERNEL,		/* resumed inside a syscall that waits for another tracee (vfork,
				 * or a call that blocked with the token: sched_tick) */
	RS_GROUP_STOP,		/* job-control stop, PTRACE_LISTEN */
	RS_DYING,		/* PTRACE_EVENT_EXIT seen, resumed to die */
};

/* What a parked thread waits for (harness/sched/sched.c). */
enum wait_kind {
	W_NONE,
	W_FUTEX,		/* an emulated futex wait: woken by a wake on uaddr */
	W_SLEEP,		/* nanosleep, clock_nanosleep: the deadline */
	W_POLL,			/* epoll/poll retried with a zero timeout */
	W_FD,			/* a blocking read/write/accept... on a blocking fd */
	W_CHILD,		/* wait4/waitid retried with WNOHANG */
	W_DELAY,		/* an injected delay before the call runs */
	W_HOLD,			/* --chaos holds it at a decision point until the deadline */
};

/* The scheduler's part of a thread (harness/sched/sched.c). */
struct sched_thread {
	int interrupt_pending;	/* PTRACE_INTERRUPT sent for a timeslice */
	uint64_t run_start_ns;	/* real time its timeslice started */
	uint64_t cpu_mark_for;	/* the resume cpu_mark was taken for */
	int64_t cpu_mark;	/* its process's CPU time then (sched_tick); record: when its slice began to wait for a counted lap */
	int64_t run_start_v;	/* the scheduler's clock then (virtual under run) */

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
	uint64_t scratch_info;	/* W_CHILD: a waitid given no siginfo gets this one */
	uint64_t exits_seen;	/* W_CHILD: session.process_exits when the call began */
	int poll_arg;		/* the timeout's argument index */
	int poll_rewritten;	/* its timeout register is 0 for this run of the call */
	int poll_rewound;	/* parked back at its syscall instruction (W_POLL, W_FD) */
	int retrying;		/* its next seccomp stop is the same call again */
	int yield_now;		/* it called sched_yield: its timeslice ends */
	int blocked;		/* its call blocked in the kernel; others ran meanwhile */
	/* A write run in parts with O_NONBLOCK on its blocking pipe or
	 * socket (sched.c write_what_fits): gorr's duplicate of the fd plus
	 * 1 while a part runs (0: none), the file's flags to give back at
	 * its exit, and the program's buffer, count and bytes written so
	 * far (nb_len 0: no such write). */
	int nb_dup1;
	int nb_flags;
	uint64_t nb_buf, nb_len, nb_done;

	/* Decision points (harness/go/dpoints.h). */
	uint64_t dp_count;	/* hit in this timeslice */
	uint64_t dp_skip;	/* its slice ended at this one: pass it once */
	/* Hits of each decision point (by index) since its last other stop,
	 * and which were touched, to clear them cheaply (sched_dpoint). */
	uint32_t *dp_visits, *dp_touched;
	size_t dp_ntouched;
	uint32_t dp_visit;	/* the slice that ends now ends at this hit of its point */
	int by_clock;		/* ...where a real-time interrupt found it (under run) */
	/* ...at the head of a loop replay can skip ahead in: its stores
	 * (harness/sched/loops.c loop_pack_stores), slice_mem_len bytes */
	unsigned char slice_mem[SLICE_MEM_MAX];
	size_t slice_mem_len;
	int slice_loop;		/* ...and that is one (slice_mem may be empty) */
	int system_ticks;	/* interrupts that found it on a system stack since its budget began */
	int count_waiting;	/* record: its budget spent, it ends at its next counted lap */
	uint64_t started_window; /* session.idle_window when it last started */
	int dp_preempting;	/* the slice that ends now also preempts its goroutine */
	int64_t dp_hold_ns;	/* ...and holds its thread this long */
};

/* --chaos's part of a thread (harness/sched/sched.c, docs/chaos.md). */
struct chaos_thread {
	uint64_t prio;		/* the scheduler runs the highest first */
	int prio_set;
	int64_t budget_ns;	/* this timeslice's length */
	uint64_t dp_budget;	/* ...or its number of decision points */
};

/* The virtual world's part of a thread (harness/sched/virt.c). */
struct virt_thread {
	int args_translated;	/* id arguments were rewritten in its registers */
	int port_fixes;		/* ports were rewritten in these addresses */
	uint64_t port_fix_addr[2];
	uint16_t port_fix_orig[2];
	int port_chosen;	/* the kernel chooses its socket's port in this call */
};

/* The event loop's part of a thread (harness/engine.c): the order of
 * exits and first stops, and vfork bookkeeping. */
struct loop_thread {
	pid_t vfork_parent;	/* a vfork child: its parent waits for exec/exit */
	int doomed;		/* killed by its process's exit_group: exit already logged */
	int killed;		/* its process is being killed by a signal (engine.c kill_process) */
	int await_first;	/* session.awaiting counts its first stop */
	int await_exit;		/* session.awaiting counts its PTRACE_EVENT_EXIT */
	int startup_call;	/* gorr's own execve of the program: not logged */
	int stashed_status;	/* a vfork parent's stop, reported before its child's exec */
	int has_stashed;
};

/* What the policies (recorder/, replayer/, inject/) note about the call
 * a thread is in: written by them, by the event loop when it holds a call
 * for replay (held), and by the scheduler's netpoll delays (delivered,
 * injected). */
struct policy_thread {
	int held;		/* replay: held at a syscall entry (1) or exit (2) */
	int tty;		/* the call writes to gorr's stdout (1) or stderr (2) */
	int replayed;		/* replay: its event was consumed at entry */
	int injected;		/* its result was injected by a fault rule */
	int delivered;		/* held readiness events appended to its result */
	uint64_t skip_pc;	/* replay: its last slice ended at one of the recording's
				 * breakpoints here (slice.bp), which it passes once
				 * before it can stop there again; 0 when none */
	unsigned wp_gen;	/* replay --gdb: the watchpoints its debug registers hold */
};

struct thread {
	/* The thread as a tracee: harness/core/thread.c and the event loop
	 * at its stops; rs also the scheduler; set_ret the policies and the
	 * scheduler. */
	pid_t tid, tgid;	/* the kernel's ids */
	pid_t vtid;		/* the id the program and the trace see */
	uint64_t serial;	/* creation order: the scheduler's deterministic order */
	enum run_state rs;
	int stopped;		/* in a ptrace stop gorr has not resumed */
	int in_syscall;		/* between a seccomp stop and the call's completion */
	int want_exit;		/* resume with PTRACE_SYSCALL: the kernel runs the call */
	int resume_sig;		/* signal to deliver when resumed */
	int in_user;		/* resumed into user code (may be interrupted) */
	int ran_user;		/* its last resume let it run the program's code: PTRACE_CONT,
				 * or PTRACE_SYSCALL from outside a call (to the next one) */
	uint64_t resumed_ns;	/* real time it was last resumed (session.stamp_resumes) */
	/* Counted laps (harness/core/count.h): passes of the program's
	 * counting windows this thread made since its last event. */
	uint64_t count_laps;
	int count_slice;	/* the slice being written ended at a counted lap */
	int set_ret;		/* at the exit stop: write call.ret into rax */
	struct sc_call call;
	struct sbuf inbuf;	/* bytes of call.in */
	struct thread *next;	/* hash chain */

	struct sched_thread sch;
	struct chaos_thread chaos;
	struct virt_thread virt;
	struct loop_thread loop;
	struct policy_thread pol;
};

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
	int64_t leaks_settle_ns;	/* --leaks-settle DUR: how long they may take to block */
	char **leaks_ignore;	/* --leaks-ignore FUNC... */
	size_t nleaks_ignore;
	int64_t sample_ns;	/* --sample DUR: goroutine and timer counts */
	int chaos;		/* --chaos LEVEL: 0 off, 1, 2 (harness/sched/sched.c) */
	int64_t timeout_ns;	/* --timeout DUR: the run ends after DUR (scheduler's clock) */
	const char *as_path;	/* --as PATH: run argv[0]'s file from PATH (standin_place) */
	/* enum vdso_mode: gorr's vDSO answers clock reads without stops
	 * (harness/core/vdso.h); 0: no vDSO at all, every read stops */
	int fast_clock;
	/* enum vdso_mode of the syscall buffer (harness/vdso/page.h):
	 * Go's non-blocking calls made without stops (record) */
	int fast_sys;
	/* Counted slices under virtual time (harness/core/count.h). */
	int counted;
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
	int stamp_resumes;	/* thread_resume notes thread.resumed_ns (the scheduler asks) */

	/* The scheduler (harness/sched/sched.c). */
	const struct sched_hooks *sched_hooks;	/* the event loop's */
	struct dpoint *dpoints;	/* --chaos: armed in the first process, by pc */
	uint32_t *dp_hits;	/* ...how often each was hit (DP_HOT: disarmed) */
	uint64_t dp_check_hits;	/* hits of DP_CHECK points (DP_CHECK_BUDGET) */
	size_t ndpoints;
	pid_t dpoints_tgid;
	unsigned char *g_seen;	/* ...goids seen at one (a bit each) */
	struct count_state *count;	/* counted slices (harness/core/count.h) */
	size_t g_seen_len;
	struct thread *running;	/* the one thread resumed into the program */
	struct thread *last_run;	/* the thread that ran last */
	struct thread *yielded;	/* its timeslice just ended */
	int awaiting;		/* stops that must arrive before the next pick */
	struct prng sched_rng;
	struct prng chaos_rng;	/* --chaos (PRNG_CHAOS) */
	const struct chaos_knobs *knobs;	/* this run's --chaos knobs (sched_init) */
	int timed_out;		/* --timeout reached */
	int64_t start_v;	/* the scheduler's clock at the first exec */
	uint64_t futex_order;
	uint64_t io_generation;	/* bumped when a call may have made I/O ready */
	uint64_t process_exits;	/* processes gone so far (sched_process_exited) */
	int64_t vclock;		/* virtual CLOCK_MONOTONIC, ns (virtual_time) */
	int64_t vclock_realtime_base;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	int hang;		/* set when every thread is blocked for good */
	int stop_requested;	/* the policy ends the run (replay: diverged, breakpoint) */
	pid_t gorr_pid;		/* gorr itself, the program's first parent */
	int exiting;		/* the recorder holds os.Exit under --leaks-settle: decision
				 * points no longer end timeslices (sched_dpoint) */
	int hang_timers;	/* the hang: timers fired, but nothing else for hang_ns */
	uint64_t idle_calls;	/* calls since the last progress (sched_note_call) */
	uint64_t idle_hash;	/* the blocked goroutines when last counted */
	uint64_t idle_next;	/* idle_calls at the next count */
	int idle_same;		/* counts in a row that found them the same */
	uint64_t idle_window;	/* counts made: the window a thread last started in */
	uint64_t hang_calls;	/* the hang: this many calls with no goroutine moving */
	int64_t last_progress;	/* virtual time of the last I/O or CPU work */
	struct prng random_rng;	/* getrandom under virtual time */
	struct pidmap {
		pid_t real, virt;
	} *pidmap;		/* ids the program has seen, under virtual time */
	size_t npidmap, pidmap_alloc;
	/* Inode numbers the program has seen, under virtual time: the
	 * real ones in order of appearance (virt.c virt_ino). */
	uint64_t *inomap;
	size_t ninomap, inomap_alloc;
	struct portmap {
		uint16_t real, virt;
	} *ports;		/* ports the kernel chose, under virtual time */
	size_t nports;
	int sigchld_fd;		/* signalfd for SIGCHLD, used while idle */
	int pidfd;		/* of the leader's process, for pidfd_getfd */
	pid_t pidfd_tgid;
	/* What gorr found out about the program's fds, kept until a call
	 * may have changed the fd (close, dup2, dup3, fcntl, ioctl,
	 * close_range, exec, the process's end: sched.c sched_fd_call):
	 * non-blocking (a read or write there cannot block: fd_ready), and
	 * whether it is gorr's own stdout or stderr (the recorder's tty
	 * check). */
	struct fd_known {
		pid_t tgid;
		int fd;
		signed char nonblock;	/* 1: O_NONBLOCK seen, or the fd never blocks (a file); 0: not known */
		signed char tty;	/* 1, 2, 0 (neither), -1: not known */
		unsigned char fast;	/* VDSO_FD_* given to the syscall buffer */
	} *fdnb;
	size_t nfdnb, fdnb_alloc;

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
	/* With operand details, for the loops a timeslice ends in
	 * (harness/sched/loops.c); the plain one decodes faster. */
	csh cs_detail;
	int cs_detail_open;
	/* The syscall buffer's trampoline page (harness/core/vdso.c
	 * vdso_patch): the same address in every process that runs the
	 * program's binary (no ASLR), 0 until one is made. */
	uint64_t vdso_tramp;
	uint64_t vdso_site;	/* the patched SYSCALL's address */
	/* VDSO_VIRTUAL: the clock last written into a process's page
	 * (vdso_sync_clock), to write it only when it changed */
	pid_t vnow_tgid;
	int64_t vnow_val, vnow_limit;
	unsigned char *vdso_sysbuf;	/* VDSO_SYSRING bytes: a drain's copy of the ring */

	/* Breakpoints (harness/core/breakpoint.c). */
	struct breakpoint {
		pid_t tgid;
		uint64_t pc;
		unsigned char orig;
		int refs;
	} *bps;
	size_t nbps, bps_alloc;
	/* The conditional breakpoint (harness/core/condbp.c): one at a
	 * time, replay's search for a timeslice's end. */
	struct condbp {
		pid_t tgid;		/* its process */
		uint64_t page;		/* the trampoline's page there; 0 none yet */
		int armed;
		uint64_t pc;		/* where it checks */
		uint64_t at;		/* where its JMP is (at <= pc) */
		unsigned int len;	/* the bytes the JMP took */
		uint64_t hop;		/* the INT3s a short JMP leads to, or 0 */
		unsigned char orig[64];
		uint64_t trap;		/* the trampoline's INT3 */
		uint64_t resume;	/* its copy of the displaced instructions */
	} condbp;
	/* /proc/TGID/mem of the process whose code breakpoints last wrote
	 * (fd + 1, 0 when none), and of which exec: one pwrite per INT3
	 * instead of a refused process_vm_writev and an open (text pages
	 * are read-only). */
	int bp_memfd1;
	pid_t bp_memfd_tgid;
	uint64_t bp_memfd_exec;

	/* Exits of threads an exec ends (fs/exec.c de_thread), logged at the
	 * exec event in creation order rather than in the kernel's order. */
	struct deferred_exit {
		struct thread copy;	/* enough of the thread for the hook */
		int wstatus;
	} *dexits;
	size_t ndexits;

	/* A forced GC through the runtime's debug call protocol
	 * (harness/go/gocall.c); one at a time. */
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

	/* The Go runtime's layout (harness/go/goroutines.c), found once. */
	struct go_layout *layout;
	int layout_done;
	char layout_err[400];

	uint64_t stops;		/* ptrace stops handled */
	uint64_t tsc_emulated;
	/* rdtsc/rdtscp instructions of Go binaries patched to INT3 at their
	 * exec stop (harness/sched/detenv.c): where PR_SET_TSC does not make
	 * them fault (seen in Firecracker VMs), the trap still comes. */
	uint64_t *tsc_sites;
	size_t ntsc_sites;
};

#endif
