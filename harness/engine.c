/* The event loop: every ptrace stop of every tracee comes through
 * session_run, which hands it to the policy and to the scheduler
 * (harness/sched/sched.c).  Only the running thread executes program code;
 * every other thread sits in a ptrace stop until the scheduler resumes it. */
#define _GNU_SOURCE
#include "harness/engine.h"
#include "harness/core/breakpoint.h"
#include "harness/core/condbp.h"
#include "harness/core/count.h"
#include "harness/core/ptrace.h"
#include "harness/core/vdso.h"
#include "harness/go/gocall.h"
#include "harness/sched/detenv.h"
#include "harness/base/util.h"

static void on_stopped(struct session *s, struct thread *t, int status);
static int apply_entry(struct session *s, struct thread *t, int action);
static void on_gone(struct session *s, pid_t pid, int status);
static void flush_deferred_exits(struct session *s);

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The thread group of a new tracee; /proc tells it even before the
 * clone event of its parent has been seen. */
static pid_t read_tgid(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = tid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			tgid = (pid_t)atoi(line + 5);
			break;
		}
	fclose(f);
	return tgid;
}

/* Threads get their place in the deterministic order (serial) and, under
 * virtual time, their virtual id when their creation is seen in the
 * parent (a deterministic point), not when the kernel reports their first
 * stop (which races with the parent). */
static void assign_serial(struct session *s, struct thread *t)
{
	if (t->serial)
		return;
	t->serial = ++s->next_serial;
	/* Under gorr run the program sees ids that do not depend on the
	 * machine's pid counter: 1000, 1001, ... in creation order. */
	t->vtid = s->opts.virtual_time ? (pid_t)(999 + t->serial) : t->tid;
	if (s->opts.virtual_time)
		virt_map(s, t->tid, t->vtid);
	if (s->norder == s->order_alloc) {
		s->order_alloc = s->order_alloc ? 2 * s->order_alloc : 16;
		s->order = xrealloc(s->order, s->order_alloc * sizeof(*s->order));
	}
	s->order[s->norder++] = t;
}

void engine_forget_thread(struct session *s, pid_t tid)
{
	struct thread *t = session_thread(s, tid);

	if (!t)
		return;
	sched_thread_gone(s, t);
	thread_remove(s, tid);
}

int engine_wants_nondet(void *policy, long nr, const struct sc_desc *d)
{
	(void)policy;
	(void)nr;
	return !d || !(d->flags & SF_DET);
}

void complete_call(struct session *s, struct thread *t, int64_t ret)
{
	thread_complete(t, ret);
	sched_note_call(s, t);
	s->ops->syscall_exit(s, t);
}

/* The exec of the program itself failed (the kernel would not run the
 * file: ENOEXEC for a file that is neither ELF nor #!, EACCES for a
 * noexec mount...): say so, since the child only exits. */
static void check_start(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (s->exec_count || !d || !(d->flags & SF_EXEC) || t->call.ret >= 0 ||
	    t->call.ret < -4095)
		return;
	error("cannot execute '%s': %s", s->opts.argv[0], strerror((int)-t->call.ret));
	s->start_failed = 1;
}

/* exit_group: every other thread of the process will report
 * PTRACE_EVENT_EXIT, in an order the kernel chooses.  Their exits are
 * logged now, in creation order, and the next scheduling decision waits
 * until they are gone, so that the trace does not depend on that order. */
static void await_set(struct session *s, int *flag)
{
	if (!*flag) {
		*flag = 1;
		s->awaiting++;
	}
}

static void await_done(struct session *s, int *flag)
{
	if (*flag) {
		*flag = 0;
		s->awaiting--;
	}
}

static void doom_siblings(struct session *s, struct thread *t)
{
	int wstatus = ((int)t->call.args[0] & 0xff) << 8;
	size_t i;

	for (i = 0; i < s->norder; i++) {
		struct thread *o = s->order[i];

		if (o == t || o->tgid != t->tgid || o->rs == RS_DYING || o->loop.doomed)
			continue;
		s->ops->thread_exit(s, o, wstatus);
		o->loop.doomed = 1;
		await_set(s, &o->loop.await_exit);
		o->rs = RS_DYING;
	}
}

static void on_seccomp_stop(struct session *s, struct thread *t)
{
	struct __ptrace_syscall_info info;
	const struct sc_desc *d;
	int action, i, err;

	err = pt_syscall_info(t->tid, &info);
	if (err || info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		if (err != -ESRCH)
			sched_after_stop(s, t);
		return;
	}
	memset(&t->call, 0, sizeof(t->call));
	t->call.nr = (long)info.seccomp.nr;
	for (i = 0; i < 6; i++)
		t->call.args[i] = info.seccomp.args[i];
	t->call.pc = info.instruction_pointer;
	d = sc_lookup(t->call.nr);
	sc_save_entry(d, t->call.args, &t->call.entry, thread_read, t);
	t->call.nin = sc_capture_inputs(t->call.nr, t->call.args, thread_read, t,
					s->opts.strsize, t->call.in, &t->inbuf);
	t->in_syscall = 1;
	t->want_exit = 0;
	sched_fd_call(s, t);

	/* Before the program's first exec only gorr's own child runs. */
	if (s->exec_count == 0) {
		t->want_exit = d && (d->flags & SF_EXEC);
		t->loop.startup_call = 1;
		if (!t->want_exit)
			t->in_syscall = 0;
		thread_resume(s, t);
		return;
	}
	/* --timeout: the run ends here, the thread left in its stop. */
	if (s->opts.timeout_ns && sched_check_timeout(s))
		return;
	if (d && (d->flags & SF_GROUPEXIT))
		doom_siblings(s, t);
	/* The same call again, after the scheduler rewound it (a poll that
	 * found nothing after all, sched_exit): the policy saw it at its first
	 * entry.  Asked again, it would count it twice for fault rules and
	 * draw chaos for it again, so that the seed's draws would depend on
	 * how often the kernel's readiness changed its mind; and a delay
	 * drawn now would replace the poll's own deadline, which then never
	 * came (issue 16). */
	action = t->sch.retrying ? ENTRY_DEFAULT : s->ops->syscall_entry(s, t);
	apply_entry(s, t, action);
}

/* What happens to the call t is stopped at, given the policy's answer.
 * Returns 1 when t was resumed or completed, 0 when it stays parked.
 * Also the scheduler's entry hook, for a call whose delay is over. */
static int apply_entry(struct session *s, struct thread *t, int action)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (action == ENTRY_DEFAULT)
		action = virt_entry(s, t);
	if (action == ENTRY_DEFAULT)
		action = sched_entry(s, t);
	switch (action) {
	case ENTRY_EMULATE:
		complete_call(s, t, t->call.ret);
		sched_after_stop(s, t);
		return 1;
	case ENTRY_RUN_EXIT:
		t->want_exit = 1;
		break;
	case ENTRY_HOLD:
		/* Replay: the trace completes this call later. */
		t->pol.held = 1;
		t->rs = RS_READY;
		if (s->running == t)
			s->running = NULL;
		return 0;
	case ENTRY_RUN:
		if (s->rewrite_mask && d && (d->flags & SF_CPUMASK)) {
			t->want_exit = 1;
			break;
		}
		/* The call's result is not needed (exit, exit_group). */
		t->in_syscall = 0;
		break;
	default:
		/* Parked by the scheduler: it stays in this stop. */
		return 0;
	}
	thread_resume(s, t);
	return 1;
}

/* sched_getaffinity: the tracee runs pinned to one CPU, but must see
 * the mask it would have had (Go sizes GOMAXPROCS from it:
 * runtime/os_linux.go getproccount), or the one --cpus asked for. */
static void rewrite_cpumask(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	pid_t who = (pid_t)t->call.args[0];

	if (!s->rewrite_mask || !d || !(d->flags & SF_CPUMASK) || t->call.ret <= 0)
		return;
	/* who is the program's id for a thread: virtual under gorr run. */
	if (who != 0 && !(s->opts.virtual_time ? session_vthread(s, who) : session_thread(s, who)))
		return;
	if ((size_t)t->call.ret > sizeof(s->reported_mask))
		return;
	mem_write(t->tid, t->call.args[2], &s->reported_mask, (size_t)t->call.ret);
}

static void on_syscall_exit_stop(struct session *s, struct thread *t)
{
	struct __ptrace_syscall_info info;
	int err;

	if (!t->in_syscall) {
		sched_after_stop(s, t);
		return;
	}
	err = pt_syscall_info(t->tid, &info);
	if (err == -ESRCH)
		return;
	t->want_exit = 0;
	t->in_syscall = 0;
	if (!err && info.op == PTRACE_SYSCALL_INFO_EXIT) {
		t->call.ret = info.exit.rval;
	} else {
		struct user_regs_struct regs;

		t->call.ret = pt_getregs(t->tid, &regs) == 0 ? (int64_t)regs.rax : -ENOSYS;
	}
	virt_exit(s, t);
	sched_deliver_held(s, t);
	if (sched_exit(s, t))
		return;		/* parked: the call runs again later */
	rewrite_cpumask(s, t);
	check_start(s, t);
	if (t->loop.startup_call) {
		t->loop.startup_call = 0;
		sched_after_stop(s, t);
		return;
	}
	sched_note_call(s, t);
	s->ops->syscall_exit(s, t);
	if (t->set_ret) {
		struct user_regs_struct regs;

		t->set_ret = 0;
		if (pt_getregs(t->tid, &regs) == 0) {
			regs.rax = (uint64_t)t->call.ret;
			pt_setregs(t->tid, &regs);
		}
	}
	if (t->pol.held) {
		t->rs = RS_READY;	/* replay completes it later */
		if (s->running == t)
			s->running = NULL;
		return;
	}
	if (sc_lookup(t->call.nr) && (sc_lookup(t->call.nr)->flags & SF_SENDSIG) && t->call.ret >= 0)
		sched_signal_sent(s, t);
	sched_after_stop(s, t);
}

static void on_clone_event(struct session *s, struct thread *t, int event)
{
	unsigned long msg = 0;
	enum clone_kind kind;
	struct thread *c;
	pid_t child;

	if (pt_geteventmsg(t->tid, &msg) != 0) {
		sched_after_stop(s, t);
		return;
	}
	child = (pid_t)msg;
	if (event == PTRACE_EVENT_FORK)
		kind = CLONE_KIND_FORK;
	else if (event == PTRACE_EVENT_VFORK)
		kind = CLONE_KIND_VFORK;
	else
		kind = read_tgid(child) == t->tgid ? CLONE_KIND_THREAD : CLONE_KIND_FORK;
	c = session_thread(s, child);
	if (!c) {
		c = thread_add(s, child, kind == CLONE_KIND_THREAD ? t->tgid : child);
		/* Its first stop is on its way: the next scheduling decision
		 * waits for it, so that the set of ready threads never
		 * depends on which stop the kernel reports first. */
		await_set(s, &c->loop.await_first);
	}
	assign_serial(s, c);
	if (kind == CLONE_KIND_VFORK)
		c->loop.vfork_parent = t->tid;
	/* A forked child's copy of the syscall buffer's fd permissions is
	 * its parent's; the scheduler knows none of its fds yet, and would
	 * not withdraw them when they close. */
	if (kind == CLONE_KIND_FORK && vdso_buffers_calls(s->opts.fast_sys))
		vdso_fd_forget(c, 0, VDSO_FD_MAX - 1);
	s->ops->clone(s, t, c, kind);
	if (kind == CLONE_KIND_VFORK) {
		/* The parent stays in clone until the child execs or exits
		 * (kernel/fork.c, wait_for_vfork_done): it must not hold
		 * the token meanwhile. */
		t->rs = RS_KERNEL;
		if (s->running == t)
			s->running = NULL;
		t->want_exit = t->in_syscall;
		thread_resume(s, t);
		return;
	}
	sched_after_stop(s, t);
}

/* A vfork child exec'd or is exiting: its parent's clone returns.  After
 * an exec the kernel has released the parent before the exec stop
 * (fs/exec.c exec_mm_release), so gorr waits for the parent's stop right
 * here, giving its return the same place in the trace on every run.  An
 * exiting child releases the parent only after its PTRACE_EVENT_EXIT
 * stop (kernel/exit.c: exit_mm comes after ptrace_event): there the next
 * scheduling decision waits for the parent instead. */
static void release_vfork_parent(struct session *s, struct thread *t, int at_exec)
{
	struct thread *p;
	int status;

	if (!t->loop.vfork_parent)
		return;
	p = session_thread(s, t->loop.vfork_parent);
	t->loop.vfork_parent = 0;
	if (p && p->loop.has_stashed) {
		p->loop.has_stashed = 0;
		on_stopped(s, p, p->loop.stashed_status);
		return;
	}
	if (!p || p->rs != RS_KERNEL || p->stopped)
		return;
	if (!at_exec) {
		await_set(s, &p->loop.await_exit);
		return;
	}
	if (pt_wait(p->tid, &status))
		return;
	if (WIFEXITED(status) || WIFSIGNALED(status))
		on_gone(s, p->tid, status);
	else
		on_stopped(s, p, status);
}

static void on_exec_event(struct session *s, struct thread *t)
{
	struct exec_info e;
	unsigned long former = 0;

	/* A non-leader thread that execs takes the leader's tid
	 * (fs/exec.c de_thread); its state moves along. */
	if (pt_geteventmsg(t->tid, &former) == 0 && (pid_t)former != t->tid) {
		struct thread *old = session_thread(s, (pid_t)former);

		if (old) {
			struct sbuf tmp = t->inbuf;

			t->in_syscall = old->in_syscall;
			t->want_exit = old->want_exit;
			t->call = old->call;
			t->inbuf = old->inbuf;
			old->inbuf = tmp;
			if (s->running == old) {
				s->running = t;
				t->rs = RS_RUNNING;
			}
			engine_forget_thread(s, old->tid);
		}
	}
	flush_deferred_exits(s);
	memset(&e, 0, sizeof(e));
	e.index = s->exec_count++;
	detenv_exec_stop(s, t, &e);
	sched_exec(s, t, e.index);
	if (e.index == 0) {
		/* The program starts: from now on the scheduler runs it. */
		assign_serial(s, t);
		s->leader_vtid = t->vtid;
		sched_start_budget(s, t);
		t->rs = RS_RUNNING;
		s->running = t;
		s->last_run = t;
	}
	s->ops->exec(s, t, &e);
	release_vfork_parent(s, t, 1);
	if (e.exit_taken && t->in_syscall) {
		/* The exec stop made the call return (gorr's vDSO was mapped
		 * from there): its exit is taken now. */
		on_syscall_exit_stop(s, t);
		return;
	}
	sched_after_stop(s, t);
}

/* Whether another thread of t's process is in an exec. */
static int sibling_in_exec(struct session *s, struct thread *t)
{
	size_t i;

	for (i = 0; i < s->norder; i++) {
		struct thread *o = s->order[i];
		const struct sc_desc *d = sc_lookup(o->call.nr);

		if (o != t && o->tgid == t->tgid && o->in_syscall && d && (d->flags & SF_EXEC))
			return 1;
	}
	return 0;
}

static int cmp_dexit(const void *a, const void *b)
{
	const struct deferred_exit *x = a, *y = b;

	return x->copy.serial < y->copy.serial ? -1 : x->copy.serial > y->copy.serial;
}

static void flush_deferred_exits(struct session *s)
{
	size_t i;

	if (!s->ndexits)
		return;
	qsort(s->dexits, s->ndexits, sizeof(*s->dexits), cmp_dexit);
	for (i = 0; i < s->ndexits; i++)
		s->ops->thread_exit(s, &s->dexits[i].copy, s->dexits[i].wstatus);
	free(s->dexits);
	s->dexits = NULL;
	s->ndexits = 0;
}

static void defer_exit(struct session *s, struct thread *t, int wstatus)
{
	s->dexits = xrealloc(s->dexits, (s->ndexits + 1) * sizeof(*s->dexits));
	s->dexits[s->ndexits].copy = *t;
	memset(&s->dexits[s->ndexits].copy.inbuf, 0, sizeof(t->inbuf));
	s->dexits[s->ndexits].copy.next = NULL;
	s->dexits[s->ndexits].wstatus = wstatus;
	s->ndexits++;
}

/* Whether sig, delivered now with the disposition process tgid has for
 * it, ends the process: neither caught nor ignored there (SigCgt,
 * SigIgn of /proc/TGID/status), and its default action is not to
 * ignore it (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) nor to stop (kernel/
 * signal.c get_signal: then do_group_exit or do_coredump). */
static int sig_kills(pid_t tgid, int sig)
{
	unsigned long long ign = ~0ULL, cgt = ~0ULL;
	char path[64], line[256];
	FILE *f;

	if (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH ||
	    sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU || sig < 1 || sig > 64)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tgid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "SigIgn:", 7))
			ign = strtoull(line + 7, NULL, 16);
		else if (!strncmp(line, "SigCgt:", 7))
			cgt = strtoull(line + 7, NULL, 16);
	}
	fclose(f);
	return !((ign | cgt) & (1ULL << (sig - 1)));
}

/* t is resumed with a signal that ends its process: the kernel kills
 * every thread, and their exits reach gorr in its order, one by one,
 * while gorr could run other threads in between, another process's or,
 * before the kill reached it, one of the dying process's own (a child
 * of the standard library's os tests killed by SIGPIPE gave two traces
 * for one seed).  Nothing runs until every thread of the process has
 * told its exit, and the exits are logged together in creation order,
 * as an exec's are (flush_killed). */
static void kill_process(struct session *s, struct thread *t)
{
	size_t i;

	for (i = 0; i < s->norder; i++) {
		struct thread *o = s->order[i];

		if (o->tgid != t->tgid || o->rs == RS_DYING || o->loop.doomed)
			continue;
		o->loop.killed = 1;
		await_set(s, &o->loop.await_exit);
	}
}

/* The exits of a killed process, once all its threads have told them. */
static void flush_killed(struct session *s, pid_t tgid)
{
	size_t i;

	for (i = 0; i < s->norder; i++)
		if (s->order[i]->tgid == tgid && s->order[i]->loop.killed &&
		    s->order[i]->rs != RS_DYING)
			return;
	flush_deferred_exits(s);
}

static void on_exit_event(struct session *s, struct thread *t)
{
	unsigned long msg = 0;

	if (!t->loop.doomed && pt_geteventmsg(t->tid, &msg) == 0 && s->exec_count) {
		if (sibling_in_exec(s, t) || t->loop.killed)
			defer_exit(s, t, (int)msg);
		else
			s->ops->thread_exit(s, t, (int)msg);
	}
	await_done(s, &t->loop.await_exit);
	await_done(s, &t->loop.await_first);
	release_vfork_parent(s, t, 0);
	if (s->running == t)
		s->running = NULL;
	t->rs = RS_DYING;
	/* The syscall it was in (exit, exit_group, or one cut short by
	 * another thread's exit_group) will not return. */
	t->in_syscall = 0;
	t->want_exit = 0;
	t->resume_sig = 0;
	sched_thread_gone(s, t);
	if (t->loop.killed)
		flush_killed(s, t->tgid);
	thread_resume(s, t);
}

static void on_event_stop(struct session *s, struct thread *t, int sig)
{
	/* With PTRACE_SEIZE, a job-control stop is reported as
	 * PTRACE_EVENT_STOP with the stopping signal; PTRACE_LISTEN keeps
	 * it stopped until SIGCONT, as without a tracer.  See ptrace(2),
	 * "Group-stop". */
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
		if (s->running == t)
			s->running = NULL;
		t->rs = RS_GROUP_STOP;
		if (pt_listen(t->tid) == 0) {
			t->stopped = 0;
			return;
		}
	}
	/* A new thread's first stop, the end of a group stop, or the
	 * interrupt of a timeslice: the scheduler decides. */
	if (t->sch.interrupt_pending) {
		int status = sched_slice(s, t);

		/* A stop that came while the scheduler stepped t ends its
		 * timeslice instead. */
		if (status)
			on_stopped(s, t, status);
		return;
	}
	if (t->rs == RS_NEW) {
		await_done(s, &t->loop.await_first);
		t->rs = RS_READY;
		return;
	}
	if (t->rs == RS_GROUP_STOP)
		t->rs = RS_READY;
	sched_after_stop(s, t);
}

/* After gorr moved t on itself (harness/go/gocall.c): a stop that came while
 * it stepped goes to the event loop; otherwise t runs on. */
static void resume_after_gc_step(struct session *s, struct thread *t)
{
	int status = s->gc.pending_status;

	s->gc.pending_status = 0;
	if (status)
		on_stopped(s, t, status);
	else
		thread_resume(s, t);
}

/* A signal that came while t ran gorr's vDSO or its syscall buffer (a
 * SIGURG at the return of a buffered read): the program takes it where
 * it comes out, the place replay can find (the path inside is record's
 * alone).  The steps do not deliver it; the last step's SIGTRAP stop is
 * a signal-delivery stop too, where the caller's resume delivers it
 * with its own siginfo.  Signals that come during the steps are held
 * and sent again (as from gorr) once t is out.  1 when another stop
 * came instead (a call of the image's that stops): it went to the
 * event loop, the signals sent again to come after it. */
static int leave_vdso_for(struct session *s, struct thread *t, int sig)
{
	struct user_regs_struct regs;
	uint64_t more = 0;
	int other = 0, k, n;

	/* Gorr's vDSO only under record, where its path is record's own; a
	 * replay's thread takes the signal where it is, as the recording's
	 * did (stepped on, the replay's thread made the image's stopping
	 * call again and again: tests/progs/killchild's SIGCHLD). */
	if (pt_getregs(t->tid, &regs) || (!count_holds(s, regs.rip) &&
					  (!vdso_holds(s, regs.rip) || !vdso_logs_reads(s))))
		return 0;
	while ((k = count_holds(s, regs.rip) ? count_leave(s, t, &regs, &other) :
		    vdso_leave(s, t, &regs, &other)) == 1) {
		n = WSTOPSIG(other);
		if (!WIFSTOPPED(other) || (other >> 16) || n == SIGTRAP || n == (SIGTRAP | 0x80) ||
		    n > 64)
			break;
		more |= 1ull << (n - 1);	/* a signal-delivery stop: held */
	}
	for (n = 1; n <= 64; n++)
		if (more & (1ull << (n - 1)))
			syscall(SYS_tgkill, t->tgid, t->tid, n);
	if (k == 0 && s->ops->slice) {
		/* The place it came out at is where the program takes the
		 * signal, and the trace says so as a timeslice's end: the
		 * reads and calls the steps finished come first, then the
		 * place, which replay runs the thread to before it sends the
		 * signal (a signal event has no place of its own; sent at
		 * the thread's previous event, the handler came before the
		 * interrupted read and took its value: net/http's tests,
		 * most replays diverged). */
		vdso_drain(s, t);
		s->ops->slice(s, t, &regs);
	}
	if (k != 1)
		return 0;
	syscall(SYS_tgkill, t->tgid, t->tid, sig);
	on_stopped(s, t, other);
	return 1;
}

static void on_signal_stop(struct session *s, struct thread *t, int sig)
{
	siginfo_t si;
	uint64_t cond, lap;
	int handled;

	/* Before the first exec the only signals are gorr's own start-up
	 * handshake (SIGSTOP, SIGCONT): not the program's. */
	if (s->exec_count == 0 || pt_getsiginfo(t->tid, &si) < 0) {
		t->resume_sig = sig;
		thread_resume(s, t);
		return;
	}
	if (sig == SIGTRAP && si.si_code == SI_KERNEL) {
		struct user_regs_struct regs;
		int trap = gocall_trap(s, t);

		if (trap) {
			/* The forced GC's thread called Gosched while the mark
			 * workers run: it yields at its next stop rather than
			 * spin through its whole timeslice. */
			if (trap == GOCALL_TRAP_YIELD)
				sched_spend_budget(s, t);
			resume_after_gc_step(s, t);
			return;
		}
		if (pt_getregs(t->tid, &regs))
			return;
		/* A counted lap: the counter ran out (harness/core/count.h),
		 * rip put back at the window.  A conditional breakpoint's
		 * trampoline traps where the thread was at its pc, with every
		 * register as there. */
		lap = count_trapped(s, t, regs.rip - 1, &regs);
		cond = lap ? 0 : condbp_trapped(s, t, regs.rip - 1);
		if (lap || cond || bp_at(s, t, regs.rip - 1)) {
			uint64_t pc = lap ? lap : cond ? cond : regs.rip - 1;
			int status = 0, action = BP_GO_ON;

			regs.rip = pc;
			thread_setregs(t, &regs);
			/* Its timeslice ended here last time: every hook has
			 * seen this hit already. */
			if (!lap && sched_dpoint_pass(s, t, pc))
				goto step_over;
			/* A lap is the scheduler's own under run; replay's hook
			 * checks a slice's recorded lap there. */
			if (s->ops->breakpoint && (!lap || s->ops->pick))
				action = s->ops->breakpoint(s, t, pc);
			if (action == BP_TAKEN) {
				resume_after_gc_step(s, t);
				return;
			}
			if (action == BP_STOP) {
				/* The thread stops here. */
				t->rs = RS_READY;
				if (s->running == t)
					s->running = NULL;
				return;
			}
			/* No INT3 to step over: the window's JMP counts the
			 * pass again. */
			if (lap) {
				if (s->ops->pick || !sched_counted(s, t, &regs))
					thread_resume(s, t);
				return;
			}
			/* A decision point of the scheduler's (under --chaos):
			 * the timeslice may end right here. */
			if (sched_dpoint(s, t, &regs))
				return;
step_over:
			if (condbp_at(s, t, pc)) {
				/* The trampoline runs the instructions its
				 * JMP took. */
				condbp_pass(s, t);
				thread_resume(s, t);
				return;
			}
			if (bp_step_over(s, t, pc, &status) == 0 && status) {
				struct user_regs_struct now;

				/* An interrupt or a signal came before the
				 * step: t is still at pc, and its hit is
				 * counted already. */
				if (thread_getregs(t, &now) == 0 && now.rip == pc)
					sched_dpoint_unpassed(s, t, pc);
				on_stopped(s, t, status);
				return;
			}
			thread_resume(s, t);
			return;
		}
		/* An rdtsc the exec stop patched (detenv.c patch_tsc): an
		 * event of t's, as the fault of a disabled TSC is. */
		handled = detenv_tsc_patched(s, t, &regs);
		if (handled == -ESRCH)
			return;
		if (handled > 0) {
			sched_stopped(s, t);
			thread_resume(s, t);
			return;
		}
	}
	/* A fault in a counting trampoline's copy of the program's code is
	 * the program's, at its own pc (harness/core/count.h). */
	if (s->count && sig_is_fault(sig, si.si_code)) {
		struct user_regs_struct regs;

		if (pt_getregs(t->tid, &regs) == 0 && count_holds(s, regs.rip))
			count_fault_pc(s, t, &regs);
	}
	if (sig == SIGSEGV) {
		handled = detenv_tsc_trap(s, t, &si);
		if (handled == -ESRCH)
			return;
		if (handled > 0) {
			thread_resume(s, t);
			return;
		}
	}
	/* (Not a fault: a step would only repeat it.) */
	if ((vdso_logs_reads(s) || s->count) && !sig_is_fault(sig, si.si_code) &&
	    leave_vdso_for(s, t, sig))
		return;
	virt_siginfo(s, &si);
	t->resume_sig = s->ops->signal(s, t, &si);
	if (t->resume_sig)
		pt_setsiginfo(t->tid, &si);
	if (t->resume_sig && sig_kills(t->tgid, t->resume_sig))
		kill_process(s, t);
	/* Delivery is part of the thread's run: it goes on. */
	if (t->rs == RS_RUNNING || t->rs == RS_KERNEL || t->rs == RS_DYING)
		thread_resume(s, t);
}

static void on_stopped(struct session *s, struct thread *t, int status)
{
	int sig = WSTOPSIG(status), event = (unsigned)status >> 16;

	t->stopped = 1;
	s->stops++;
	/* The laps it ran (harness/core/count.h), before any hook looks. */
	if (s->count)
		count_note_stop(s, t);
	/* A stop that lands between two instructions of gorr's vDSO (an
	 * interrupt, a signal after an IRQ; not a syscall stop, which comes
	 * before or after a SYSCALL) may find the image logging a read: its
	 * ring index loaded, the entry written, the index + 1 not stored yet
	 * (harness/vdso/image.c read_clock).  A drain then sets the index to
	 * 0, the image stores the old index + 1 over it, and the next drain
	 * would take the entries already taken again (a window of the
	 * compiled code, not seen in a recording: docs/ARCHITECTURE.md).
	 * Those stops step the thread out of gorr's code first (sched_slice,
	 * leave_vdso_for) and drain there. */
	if (event == PTRACE_EVENT_SECCOMP || sig == (SIGTRAP | 0x80) || !vdso_inside(s, t))
		vdso_drain(s, t);
	/* Every stop but a trap (gorr's breakpoints, the debug call
	 * protocol's INT3s) may be an event of t's. */
	if (event || sig != SIGTRAP)
		sched_stopped(s, t);
	if (s->exec_count == 0 && event != PTRACE_EVENT_EXEC && event != PTRACE_EVENT_SECCOMP &&
	    event != PTRACE_EVENT_EXIT && sig != (SIGTRAP | 0x80)) {
		/* gorr's own start-up handshake (SIGSTOP, SIGCONT). */
		if (event == 0)
			t->resume_sig = sig;
		thread_resume(s, t);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		if (t->rs == RS_KERNEL && thread_vfork_waiting(s, t)) {
			/* Its child's exec stop is still to come: the parent's
			 * return is handled with it, in the same order on
			 * every run. */
			t->loop.stashed_status = status;
			t->loop.has_stashed = 1;
			return;
		}
		if (t->rs == RS_KERNEL) {
			/* The vfork parent's clone returned, or a call that
			 * blocked did (sched_tick). */
			await_done(s, &t->loop.await_exit);
			t->rs = RS_READY;
			t->in_syscall = 1;
			on_syscall_exit_stop(s, t);
			t->sch.blocked = 0;
			return;
		}
		on_syscall_exit_stop(s, t);
		return;
	}
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		on_seccomp_stop(s, t);
		return;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		on_clone_event(s, t, event);
		return;
	case PTRACE_EVENT_EXEC:
		on_exec_event(s, t);
		return;
	case PTRACE_EVENT_EXIT:
		on_exit_event(s, t);
		return;
	case PTRACE_EVENT_STOP:
		on_event_stop(s, t, sig);
		return;
	case 0:
		on_signal_stop(s, t, sig);
		return;
	default:
		sched_after_stop(s, t);
	}
}

/* A tracee is gone (exited, killed): the kernel will say nothing more. */
static void on_gone(struct session *s, pid_t pid, int status)
{
	struct thread *t = session_thread(s, pid);

	if (pid == s->leader) {
		s->leader_done = 1;
		s->leader_wstatus = status;
	}
	if (t && t->tgid == pid)
		sched_fds_gone(s, pid);	/* the process is gone: its fds too */
	if (t) {
		/* Gone without the stops we waited for.  A thread that a
		 * SIGKILL ended while it sat in a ptrace stop makes no
		 * PTRACE_EVENT_EXIT stop (kernel/signal.c: no ptrace stop
		 * with a fatal signal pending): its exit is told here, or
		 * replay, which sends such kills while every thread is
		 * stopped, never saw the exits of a killed child's threads
		 * (the standard library's os tests, Go 1.19). */
		int killed = t->loop.killed;
		pid_t tgid = t->tgid;

		if (t->rs != RS_DYING && !t->loop.doomed && s->exec_count) {
			if (killed)
				defer_exit(s, t, status);
			else
				s->ops->thread_exit(s, t, status);
		}
		await_done(s, &t->loop.await_exit);
		await_done(s, &t->loop.await_first);
		if (s->running == t)
			s->running = NULL;
		engine_forget_thread(s, pid);
		if (killed)
			flush_killed(s, tgid);
	}
	sched_process_exited(s);
}

int session_run(struct session *s)
{
	static const struct sched_hooks hooks = {
		.complete = complete_call,
		.entry = apply_entry,
	};
	int err = 0;

	sched_init(s, &hooks);
	while (!s->leader_done && !s->hang && !s->stop_requested) {
		struct thread *t;
		int status;
		pid_t pid;

		sched_dispatch(s);
		if (s->leader_done || s->hang || s->stop_requested)
			break;
		pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR) {
				if (s->ops->flush)
					s->ops->flush(s);
				sched_tick(s);
				continue;
			}
			if (errno == ECHILD)
				break;
			err = -errno;
			error("waitpid: %s", strerror(errno));
			break;
		}
		t = session_thread(s, pid);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			on_gone(s, pid, status);
			continue;
		}
		if (!t) {
			/* A new thread or child whose parent's clone event
			 * has not been seen yet. */
			t = thread_add(s, pid, read_tgid(pid));
			t->stopped = 1;
			await_set(s, &t->loop.await_first);	/* done by its first stop */
		}
		on_stopped(s, t, status);
	}
	sched_release(s);
	if (!s->leader_done && !s->hang && !s->stop_requested && !err) {
		error("lost track of '%s'", s->opts.argv[0]);
		return -ECHILD;
	}
	return err;
}

int session_exit_code(const struct session *s)
{
	if (!s->leader_done || s->start_failed)
		return EXIT_GORR_FAILURE;
	if (WIFEXITED(s->leader_wstatus))
		return WEXITSTATUS(s->leader_wstatus);
	if (WIFSIGNALED(s->leader_wstatus))
		return 128 + WTERMSIG(s->leader_wstatus);
	return EXIT_GORR_FAILURE;
}
