/* The serializing scheduler (harness/sched/sched.c): exactly one tracee
 * thread runs at a time; blocking calls are parked and emulated; the
 * scheduler's clock is real, or virtual under gorr run.  It sits above the
 * mechanism (harness/core/) and the Go layer (harness/go/), below the
 * event loop: what it needs the event loop to do, it asks through struct
 * sched_hooks, and a stop it collected itself it returns. */
#ifndef GORR_SCHED_SCHED_H
#define GORR_SCHED_SCHED_H

#include "harness/core/thread.h"

/* What the scheduler asks of the event loop (harness/engine.c fills it
 * in): the loop is where a completed call reaches the policy. */
struct sched_hooks {
	/* t's parked call is over (woken, timed out, interrupted): it
	 * completes with ret, as an emulated call does. */
	void (*complete)(struct session *s, struct thread *t, int64_t ret);
	/* t's injected delay is over: its call goes on as if it had just
	 * been made, with the policy's answer action (ENTRY_*).  1 when t
	 * was resumed or completed, 0 when it stays parked. */
	int (*entry)(struct session *s, struct thread *t, int action);
};

void sched_init(struct session *s, const struct sched_hooks *hooks);
void sched_release(struct session *s);

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
	int64_t dp_max;		/* a timeslice ends after 1..dp_max decision points, log-uniform */
	double gpreempt_prob;	/* ...and its goroutine is preempted too */
	double hold_prob;	/* ...and its thread is held off the CPU... */
	int64_t hold_min_ns, hold_max_ns;	/* ...for a log-uniform time */
	double start_late_prob;	/* a goroutine's first decision point holds its thread */
	double start_early_prob;	/* a go statement's creator yields to the new goroutine */
	double check_prob;	/* a DP_CHECK decision point is armed in this run */
};

/* Pick and start the next thread when none runs. */
void sched_dispatch(struct session *s);
/* gorr's timer tick: interrupt the running thread when its timeslice
 * is spent. */
void sched_tick(struct session *s);
/* After a stop of t that the event loop handled: t goes on, or its
 * timeslice ends. */
void sched_after_stop(struct session *s, struct thread *t);
/* The running thread stopped for its timeslice (PTRACE_INTERRUPT).
 * Returns 0, or the wait status of another stop that came while gorr
 * stepped it, for the event loop to handle. */
int sched_slice(struct session *s, struct thread *t);
/* The default answer to a call at its seccomp stop: parks blocking calls
 * (returns -1), rewrites some to run without blocking, ENTRY_*. */
int sched_entry(struct session *s, struct thread *t);
/* At the exit stop of a call sched_entry rewrote: 1 when the thread was
 * parked instead of completing. */
int sched_exit(struct session *s, struct thread *t);
/* Under virtual time: note that the program did real work at this call. */
void sched_note_call(struct session *s, struct thread *t);
/* A clock read gorr's vDSO answered from the virtual clock without a
 * stop (VDSO_VIRTUAL, taken at a stop): 1 us, as a completed call. */
void sched_vclock_read(struct session *s);
/* gorr run: a call of the syscall buffer taken at a stop (vdso_drain),
 * which the image counted in its page's clock as sched_note_call does. */
void sched_note_buffered(struct session *s, long nr, int64_t ret);
void sched_thread_gone(struct session *s, struct thread *t);
/* A call that sends signals completed: parked threads with a signal
 * pending end their calls with EINTR. */
void sched_signal_sent(struct session *s, struct thread *t);
/* A process exited: parents waiting for a child run their call again. */
void sched_process_exited(struct session *s);
/* At every seccomp stop, whatever the policy does with the call: one
 * that can change what one of t's fds is, or whether it blocks (close,
 * dup2, dup3, fcntl, ioctl, close_range, exec), makes the scheduler ask
 * again whether a read or write on it can block (fd_ready). */
void sched_fd_call(struct session *s, struct thread *t);
/* The recorder's tty check of t's fd (1 or 2: gorr's own stdout or
 * stderr, 0: neither), remembered as fd_ready's answers are; -1 when not
 * known. */
int sched_fd_tty(struct session *s, struct thread *t, int fd);
void sched_fd_set_tty(struct session *s, struct thread *t, int fd, int tty);
/* Process tgid is gone: its fds with it. */
void sched_fds_gone(struct session *s, pid_t tgid);

/* Park t, at its syscall entry, for ns on the scheduler's clock; the call
 * then goes on as if it had just been made (an injected delay). */
void sched_delay(struct session *s, struct thread *t, int64_t ns);
/* Hold back a readiness event t's epoll wait returned, for ns on the
 * scheduler's clock (netpoll:delay); the caller removed it from the
 * result. */
void sched_hold_event(struct session *s, struct thread *t,
		      const unsigned char ev[SC_EPOLL_EVENT_SIZE], int64_t ns);
/* At the exit of an epoll wait: append the held events that are due
 * (t->call.ret raised, t->pol.delivered set). */
void sched_deliver_held(struct session *s, struct thread *t);

/* At an exec stop (index 0: the program's own): under --chaos, arm a
 * breakpoint at each decision point of a Go program
 * (harness/go/dpoints.h). */
void sched_exec(struct session *s, struct thread *t, int index);
/* t trapped on the decision point at pc, every hook saw the hit, and
 * the step over it was cut short by another stop: it passes pc once
 * when it goes on (its hit is counted already). */
void sched_dpoint_unpassed(struct session *s, struct thread *t, uint64_t pc);
/* t trapped on gorr's breakpoint at pc, where its timeslice had ended
 * (sched_dpoint): 1 (and forgotten) when this is that point again, which
 * t now passes without any hook seeing it a second time. */
int sched_dpoint_pass(struct session *s, struct thread *t, uint64_t pc);
/* t trapped on gorr's breakpoint, stopped at regs (rip back at the
 * breakpoint): when it is a decision point, count it, and end t's
 * timeslice there when its budget of points is spent.  1 when the slice
 * ended (t stays in its stop), 0 to step over and go on. */
int sched_dpoint(struct session *s, struct thread *t, const struct user_regs_struct *regs);
/* t trapped at a counted lap (harness/core/count.h), put back at the
 * window (regs): its timeslice ends there when another thread can run
 * (1: t is stopped and the caller leaves it), else the counter is set
 * again and the caller resumes t (0). */
int sched_counted(struct session *s, struct thread *t, struct user_regs_struct *regs);

/* t, stopped on gorr's breakpoint at regs (rip back at it), makes its
 * goroutine yield to the other goroutines: goroutine_preempt (and, with
 * sigurg, Go's preemption signal), its timeslice ends there with a
 * `preempt` slice event (replay repeats it), t passes the breakpoint once
 * when it next runs, and under virtual time the clock moves advance_ns.
 * 1 when done (t stays in its stop), 0 when the goroutine could not be
 * reached. */
int sched_preempt(struct session *s, struct thread *t, const struct user_regs_struct *regs,
		  int sigurg, int64_t advance_ns);

/* t stopped for anything but a breakpoint (the event loop calls it):
 * what it did between its stops starts anew (sched_dpoint). */
void sched_stopped(struct session *s, struct thread *t);

/* Why a parked thread waits: "futex wait on 0x...", "sleep until ...". */
void thread_describe(struct sbuf *sb, struct session *s, struct thread *t);

#endif
