/* The serializing scheduler.  Exactly one tracee thread runs program code
 * at a time (session.running); the others sit in ptrace stops.  The
 * scheduler decides only at its own decision points: a stop of the running
 * thread (syscall, signal, exit), a new thread, and the end of a timeslice.
 * Every choice among several ready threads is drawn from a PRNG seeded by
 * the run's seed, and every switch is an event in the trace (the policy's
 * `switched` hook), so a replay can follow it.
 *
 * A thread must never block in the kernel while it holds the token: the
 * others could not run to unblock it.  So calls that wait are handled here
 * (classes from the syscall table):
 *   SF_FUTEX      emulated: a wait parks the thread until a matching wake,
 *                 its timeout, or a signal; a wake completes parked waiters;
 *   SF_SLEEP      parked until the deadline on the scheduler's clock;
 *   SF_POLL       run only when gorr sees, by polling a duplicate of the
 *                 program's fds (pidfd_getfd), that it will not block;
 *                 parked until then or until its timeout;
 *   SF_FDIN/OUT   on a blocking fd: likewise, parked until the fd is ready;
 *   SF_WAITCHILD  run with WNOHANG added; when no child was ready the thread
 *                 is rewound to its syscall instruction and parked until a
 *                 process exits.
 * The scheduler's clock is CLOCK_MONOTONIC under record and a virtual clock
 * under run, which jumps to the earliest deadline when every thread waits. */
#define _GNU_SOURCE
#include "harness/sched/sched.h"
#include "harness/sched/loops.h"
#include "harness/go/backtrace.h"
#include "harness/sched/virt.h"
#include "harness/go/dpoints.h"
#include "harness/go/gocall.h"
#include "harness/go/goroutines.h"
#include "harness/core/breakpoint.h"
#include "harness/core/condbp.h"
#include "harness/core/count.h"
#include "harness/core/ptrace.h"
#include "harness/core/vdso.h"
#include "harness/base/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* futex commands and flags (include/uapi/linux/futex.h). */
enum {
	FUTEX_WAIT_ = 0,
	FUTEX_WAKE_ = 1,
	FUTEX_REQUEUE_ = 3,
	FUTEX_CMP_REQUEUE_ = 4,
	FUTEX_WAKE_OP_ = 5,
	FUTEX_WAIT_BITSET_ = 9,
	FUTEX_WAKE_BITSET_ = 10,
	FUTEX_PRIVATE_ = 128,
	FUTEX_CLOCK_REALTIME_ = 256,
};

#define NSEC 1000000000LL
#define TICK_NS (5 * 1000 * 1000)		/* how often the timeslice is checked */
#define DEFAULT_SLICE_NS (20 * 1000 * 1000)	/* a thread's timeslice */
/* Under virtual time a timeslice is measured on the virtual clock at the
 * thread's syscall stops, which is deterministic; interrupting a thread
 * that makes no syscalls is left for spin loops, after this much real
 * time, so that ordinary computation is never cut at a point that
 * depends on the machine's speed. */
#define VIRTUAL_INTERRUPT_NS (200 * 1000 * 1000)
#define VSLICE_NS (10 * 1000 * 1000)		/* virtual time one timeslice takes */
/* Where the program counts its loops' laps (harness/core/count.h), a
 * slice ends at a counted lap, long before this: the interrupt is left
 * for code with no counted loop (recursion, a loop no window fits). */
#define COUNTED_INTERRUPT_NS (300 * 1000 * 1000)
/* Record: CPU time a thread whose slice waits for its next counted lap
 * gets before the slice ends by registers (sched_tick). */
#define COUNT_GRACE_NS (5 * 1000 * 1000)
/* Laps of counted loops a slice may run: some 3-10 ms of a tight loop,
 * 50 ms of a loop whose lap makes a select with default and a Lock,
 * well under the interrupt's 300 ms, which would come first for laps of
 * 300 ns; each such slice moves the virtual clock VSLICE_NS, as an
 * interrupted one does.  While the exit waits for the goroutines to
 * settle, a round is one slice of each (SETTLE_INTERRUPT_NS): fewer laps,
 * and the interrupt later than theirs. */
#define COUNT_LAPS (1u << 20)
#define COUNT_LAPS_SETTLING (1u << 14)
#define SETTLE_COUNTED_INTERRUPT_NS (100 * 1000 * 1000)

/* Under record the counter only counts (0: no trap for 2^64 laps): a
 * slice ends by its real-time budget, and the interrupt that says so
 * lets the thread run on to its next counted lap (sched_slice). */
static uint64_t count_laps(const struct session *s)
{
	if (!s->opts.virtual_time)
		return 0;
	return s->exiting ? COUNT_LAPS_SETTLING : COUNT_LAPS;
}

/* A call that sleeps this long in the kernel while another thread could
 * run gives the token up (release_blocked). */
#define BLOCKED_NS (50 * 1000 * 1000)
#define IDLE_POLL_MS 50				/* how often an idle gorr looks for signals */
#define G_SEEN_MAX (1LL << 27)			/* goids first_sight tracks (16 MB) */

static int64_t real_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* The levels of --chaos, after rr's chaos mode: random priorities (a
 * thread of low priority starves while others can run), random timeslice
 * lengths, and at syscalls random preemption and latency.  All drawn from
 * the seed's PRNG_CHAOS stream, so a seed is one schedule.  In Go
 * programs, timeslices also end at a counted decision point, where the
 * goroutine may be preempted and its thread held off the CPU for a while
 * (virtual time under run: a timeout can then win a race it natively wins
 * only under load).  Level 3 is level 2 with more of both.  The numbers
 * were chosen by measurement on tests/kernels and examples/
 * (docs/chaos.md). */
static const struct chaos_knobs knobs[] = {
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ 0.05, 20000000, 0.05, 100000, 20000000, 0.25, 16, 0.50, 0.10, 10000, 50000000, 0.15, 0, 0 },
	{ 0.15, 50000000, 0.20, 10000, 5000000, 0.50, 16, 0.50, 0.15, 10000, 100000000, 0.25, 0.10, 0 },
	{ 0.15, 50000000, 0.20, 10000, 5000000, 0.50, 4, 0.50, 0.25, 10000, 200000000, 0.25, 0.10, 0.25 },
};

static const struct chaos_knobs *chaos_knobs(int level)
{
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	return &knobs[level];
}

/* --chaos 3 draws, per run, one of two knob sets (PRNG_PROFILE, a
 * stream of its own, so that the runs with level 3's own knobs draw as
 * before).  Level 3's slices end every 1-4 decision points, and a bug
 * whose window needs one thread to run on through many of them never
 * shows: a creator that starts four goroutines, the last of which (in
 * its P's runnext, runtime/proc.go runqput) must run first, fails in
 * half of the native runs and in none of 200 seeds at level 3.  So a
 * share of the runs takes slices of up to 256 points, fewer goroutine
 * preemptions and holds: schedules close to a native run's, where one
 * thread goes through a long window without a switch (docs/chaos.md,
 * "Long-slice runs"). */
#define LONG_SLICE_SHARE 0.15
static const struct chaos_knobs long_slices =
	{ 0.02, 5000000, 0.05, 100000, 20000000, 0.25, 256, 0.25, 0.02, 10000, 10000000, 0.05, 0, 0 };

static const struct chaos_knobs *run_knobs(int level, uint64_t seed)
{
	struct prng r;

	if (level < 3)
		return chaos_knobs(level);
	prng_init(&r, seed, PRNG_PROFILE);
	return prng_unit(&r) < LONG_SLICE_SHARE ? &long_slices : chaos_knobs(level);
}

/* A log-uniform draw in [lo, hi]: short slices are as likely as long
 * ones in each decade. */
static int64_t log_uniform(struct prng *r, int64_t lo, int64_t hi)
{
	double u = prng_unit(r);

	return (int64_t)((double)lo * pow((double)hi / (double)lo, u));
}

/* t's current timeslice length: drawn per slice under --chaos. */
static int64_t slice_budget(const struct session *s, const struct thread *t)
{
	return s->opts.chaos && t->chaos.budget_ns ? t->chaos.budget_ns : (int64_t)s->opts.slice_ns;
}

/* gorr's vDSO under run (VDSO_VIRTUAL): t's process's clock, and the
 * clock at which its timeslice is spent, where a read stops as each
 * read's stop did before: a thread spinning on Gosched (runtime.GC's
 * wait for the sweepers, casgstatus's read in each) gave the CPU up at
 * its budget; without the limit it ran to its 1,048,576th counted lap,
 * about a second (a forced GC under run took a minute). */
static void sync_vdso(struct session *s, struct thread *t)
{
	vdso_sync_clock(s, t, t->sch.run_start_v + slice_budget(s, t));
}

void sched_spend_budget(struct session *s, struct thread *t)
{
	t->sch.run_start_ns = 0;
	t->sch.run_start_v = session_now(s) - slice_budget(s, t);
	sync_vdso(s, t);
}

void sched_start_budget(struct session *s, struct thread *t)
{
	if (s->opts.chaos) {
		const struct chaos_knobs *k = s->knobs;

		t->chaos.budget_ns = log_uniform(&s->chaos_rng, k->slice_min_ns, k->slice_max_ns);
		if (s->ndpoints)
			t->chaos.dp_budget = (uint64_t)log_uniform(&s->chaos_rng, 1, k->dp_max);
	}
	t->sch.dp_count = 0;
	t->sch.system_ticks = 0;
	t->sch.count_waiting = 0;
	/* Not in replay: it arms the counter for a slice's recorded laps. */
	if (count_active(s, t) && !s->ops->pick)
		count_arm(s, t, count_laps(s));
	t->sch.run_start_ns = (uint64_t)real_now(CLOCK_MONOTONIC);
	t->sch.run_start_v = session_now(s);
	sync_vdso(s, t);
}

/* CLOCK_REALTIME (and the like) minus the scheduler's clock. */
static int64_t clock_offset(const struct session *s, clockid_t clk)
{
	if (clk == CLOCK_MONOTONIC || clk == CLOCK_MONOTONIC_RAW || clk == CLOCK_BOOTTIME ||
	    clk == CLOCK_MONOTONIC_COARSE)
		return 0;
	if (s->opts.virtual_time)
		return s->vclock_realtime_base;
	return real_now(clk) - real_now(CLOCK_MONOTONIC);
}

/* No state: the signal only interrupts waitpid (no SA_RESTART). */
static void on_tick(int sig)
{
	(void)sig;
}

int sched_check_timeout(struct session *s)
{
	if (!s->opts.timeout_ns || session_now(s) - s->start_v < s->opts.timeout_ns)
		return 0;
	/* The run ends as a hang does (the program is killed with gorr),
	 * and says why. */
	s->timed_out = 1;
	s->hang = 1;
	return 1;
}

void sched_init(struct session *s, const struct sched_hooks *hooks)
{
	struct sigaction sa;
	struct itimerval it;
	sigset_t set;

	s->sched_hooks = hooks;
	/* sched_tick's real-time interrupt under run asks since when the
	 * thread runs. */
	s->stamp_resumes = s->opts.virtual_time;
	prng_init(&s->sched_rng, s->opts.seed, PRNG_SCHED);
	prng_init(&s->chaos_rng, s->opts.seed, PRNG_CHAOS);
	s->knobs = run_knobs(s->opts.chaos, s->opts.seed);
	if (s->opts.virtual_time)
		virt_init(s);
	/* After virt_init: the virtual clock starts at its boot time. */
	s->start_v = session_now(s);
	if (!s->opts.slice_ns)
		s->opts.slice_ns = DEFAULT_SLICE_NS;
	s->pidfd = -1;
	if (!s->opts.hang_ns)
		s->opts.hang_ns = 3600LL * NSEC;
	s->last_progress = s->vclock;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_usec = TICK_NS / 1000;
	it.it_value = it.it_interval;
	setitimer(ITIMER_REAL, &it, NULL);
	/* SIGCHLD wakes an idle gorr (poll on a signalfd); it is blocked
	 * so that it is only ever read there. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sigchld_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void sched_release(struct session *s)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
	if (s->sigchld_fd >= 0)
		close(s->sigchld_fd);
	s->sigchld_fd = -1;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	free(s->held);
	s->held = NULL;
	s->nheld = 0;
	free(s->dpoints);
	free(s->dp_hits);
	free(s->g_seen);
	s->dpoints = NULL;
	s->dp_hits = NULL;
	s->dp_check_hits = 0;
	s->g_seen = NULL;
	s->g_seen_len = 0;
	s->ndpoints = 0;
	free(s->fdnb);
	s->fdnb = NULL;
	s->nfdnb = s->fdnb_alloc = 0;
}

static size_t fdnb_find(const struct session *s, pid_t tgid, int fd)
{
	size_t i;

	for (i = 0; i < s->nfdnb; i++)
		if (s->fdnb[i].tgid == tgid && s->fdnb[i].fd == fd)
			return i;
	return (size_t)-1;
}

static struct fd_known *fdnb_get(struct session *s, pid_t tgid, int fd)
{
	size_t i = fdnb_find(s, tgid, fd);

	if (i != (size_t)-1)
		return &s->fdnb[i];
	if (s->nfdnb == s->fdnb_alloc) {
		s->fdnb_alloc = s->fdnb_alloc ? 2 * s->fdnb_alloc : 32;
		s->fdnb = xrealloc(s->fdnb, s->fdnb_alloc * sizeof(*s->fdnb));
	}
	s->fdnb[s->nfdnb].tgid = tgid;
	s->fdnb[s->nfdnb].fd = fd;
	s->fdnb[s->nfdnb].nonblock = 0;
	s->fdnb[s->nfdnb].tty = -1;
	s->fdnb[s->nfdnb].fast = 0;
	return &s->fdnb[s->nfdnb++];
}

/* What the syscall buffer may do with fd (harness/vdso/page.h): read
 * without a stop once it is known non-blocking, write too once it is
 * known not to be gorr's stdout or stderr (whose writes the recorder
 * keeps whole). */
static void fd_fast(struct session *s, struct thread *t, struct fd_known *k)
{
	unsigned int bits = 0;

	if (!vdso_buffers_calls(s->opts.fast_sys))
		return;
	if (k->nonblock)
		bits = VDSO_FD_READ | (k->tty == 0 ? VDSO_FD_WRITE : 0);
	if (bits != k->fast && vdso_fd_allow(t, k->fd, bits) == 0)
		k->fast = (unsigned char)bits;
}

int sched_fd_tty(struct session *s, struct thread *t, int fd)
{
	size_t i = fdnb_find(s, t->tgid, fd);

	return i == (size_t)-1 ? -1 : s->fdnb[i].tty;
}

void sched_fd_set_tty(struct session *s, struct thread *t, int fd, int tty)
{
	struct fd_known *k = fdnb_get(s, t->tgid, fd);

	k->tty = (signed char)tty;
	fd_fast(s, t, k);
}

/* Forget process tgid's fds from lo to hi (all: 0, INT_MAX); t, when
 * not NULL, is a thread of that process still there, whose syscall
 * buffer forgets them too. */
static void fdnb_drop(struct session *s, struct thread *t, pid_t tgid, int lo, int hi)
{
	size_t i = 0;
	int fast = 0;

	for (i = 0; t && i < s->nfdnb; i++)
		if (s->fdnb[i].tgid == tgid && s->fdnb[i].fd >= lo && s->fdnb[i].fd <= hi &&
		    s->fdnb[i].fast)
			fast = 1;
	if (fast)
		vdso_fd_forget(t, lo, hi);
	i = 0;
	while (i < s->nfdnb)
		if (s->fdnb[i].tgid == tgid && s->fdnb[i].fd >= lo && s->fdnb[i].fd <= hi)
			s->fdnb[i] = s->fdnb[--s->nfdnb];
		else
			i++;
}

void sched_fds_gone(struct session *s, pid_t tgid)
{
	fdnb_drop(s, NULL, tgid, 0, INT_MAX);
}

void sched_fd_call(struct session *s, struct thread *t)
{
	const uint64_t *a = t->call.args;

	if (!s->nfdnb)
		return;
	switch (t->call.nr) {
	case SYS_close:
	case SYS_fcntl:		/* F_SETFL, F_SETFD...: not worth telling apart */
	case SYS_ioctl:		/* FIONBIO */
		fdnb_drop(s, t, t->tgid, (int)a[0], (int)a[0]);
		break;
	case SYS_dup2:
	case SYS_dup3:
		fdnb_drop(s, t, t->tgid, (int)a[1], (int)a[1]);
		break;
	case SYS_close_range:
		fdnb_drop(s, t, t->tgid, (int)a[0], a[1] > INT_MAX ? INT_MAX : (int)a[1]);
		break;
	case SYS_execve:
	case SYS_execveat:
		fdnb_drop(s, t, t->tgid, 0, INT_MAX);
		break;
	}
}

/* poll(2) of one fd without waiting.  gorr's SIGALRM (the timeslice
 * timer) can interrupt even a zero-timeout poll (fs/select.c returns
 * -ERESTART_RESTARTBLOCK when a signal is pending): EINTR is not
 * readiness, so ask again.  Returns poll's count, or -1 on another
 * error. */
static int poll_now(struct pollfd *p)
{
	int r;

	do {
		p->revents = 0;
		r = poll(p, 1, 0);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Whether calls on fd cannot block, whatever O_NONBLOCK says: a regular
 * file or a block device (poll(2) always says ready: fs/select.c
 * DEFAULT_POLLMASK), /dev/null, /dev/zero, /dev/random, /dev/urandom
 * (drivers/char/mem.c: never wait, char major 1).  Then it is asked
 * once, as a non-blocking fd is: a program's writes to a stdout that is
 * /dev/null or a file cost three of gorr's syscalls each (pidfd_getfd,
 * poll, close: 6,700 for examples/httploop 2000). */
static int never_blocks(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return 1;
	return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	       (minor(st.st_rdev) == 3 || minor(st.st_rdev) == 5 || minor(st.st_rdev) == 8 ||
		minor(st.st_rdev) == 9);
}

/* 1 when the program's fd is ready for events (or cannot block: an fd
 * gorr cannot see, or with nonblock_counts a non-blocking fd), else 0.
 * Regular files always poll ready. */
static int fd_ready(struct session *s, struct thread *t, int fd, short events,
		    int nonblock_counts)
{
	struct pollfd p;
	int dfd, fl, r;

	/* Go's fds are non-blocking (the netpoller's): asked once, not at
	 * every read and write (a pidfd_getfd, an fcntl and a close each:
	 * 45,000 of gorr's syscalls for 2000 HTTP requests). */
	if (nonblock_counts) {
		size_t i = fdnb_find(s, t->tgid, fd);

		if (i != (size_t)-1 && s->fdnb[i].nonblock)
			return 1;
	}
	dfd = thread_dup_fd(s, t, fd);
	if (dfd < 0)
		return 1;	/* the call itself will fail (EBADF) */
	fl = nonblock_counts ? fcntl(dfd, F_GETFL) : -1;
	if (fl >= 0 && ((fl & O_NONBLOCK) || never_blocks(dfd))) {
		struct fd_known *k = fdnb_get(s, t->tgid, fd);

		close(dfd);
		k->nonblock = 1;
		fd_fast(s, t, k);
		return 1;
	}
	p.fd = dfd;
	p.events = events;
	r = poll_now(&p);
	close(dfd);
	return r != 0;
}

/* The fds a poll-like call waits for, all checked at once. */
static int poll_ready(struct session *s, struct thread *t)
{
	struct pollfd p[64];
	int i, n;

	if (sc_is_epoll_wait(t->call.nr))	/* the epoll fd is readable */
		return fd_ready(s, t, (int)t->call.args[0], POLLIN, 0);
	/* poll, ppoll: struct pollfd[nfds] at argument 0 */
	n = t->call.args[1] > 64 ? 64 : (int)t->call.args[1];
	if (thread_read(t, t->call.args[0], p, sizeof(p[0]) * (size_t)n))
		return 1;
	for (i = 0; i < n; i++) {
		struct pollfd q = p[i];
		int dfd = q.fd >= 0 ? thread_dup_fd(s, t, q.fd) : -1, r;

		if (q.fd < 0)
			continue;
		if (dfd < 0)
			return 1;	/* POLLNVAL: the call returns at once */
		q.fd = dfd;
		r = poll_now(&q);
		close(dfd);
		if (r)
			return 1;
	}
	return 0;
}

void sched_hold_event(struct session *s, struct thread *t,
		      const unsigned char ev[SC_EPOLL_EVENT_SIZE], int64_t ns)
{
	struct held_event *h;

	s->held = xrealloc(s->held, (s->nheld + 1) * sizeof(*s->held));
	h = &s->held[s->nheld++];
	h->tgid = t->tgid;
	h->epfd = (int)t->call.args[0];
	h->due = session_now(s) + ns;
	memcpy(h->ev, ev, SC_EPOLL_EVENT_SIZE);
}

/* When the first event held for the epoll fd w waits on is due;
 * INT64_MAX if none (or w is not in an epoll wait). */
static int64_t held_due(const struct session *s, const struct thread *w)
{
	int64_t due = INT64_MAX;
	size_t i;

	if (!s->nheld || !sc_is_epoll_wait(w->call.nr))
		return INT64_MAX;
	for (i = 0; i < s->nheld; i++)
		if (s->held[i].tgid == w->tgid && s->held[i].epfd == (int)w->call.args[0] &&
		    s->held[i].due < due)
			due = s->held[i].due;
	return due;
}

static int read_timespec(struct thread *t, uint64_t addr, int64_t *ns)
{
	int64_t ts[2];

	if (thread_read(t, addr, ts, sizeof(ts)))
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= NSEC)
		return -EINVAL;
	*ns = ts[0] > INT64_MAX / NSEC - 1 ? INT64_MAX / 2 : ts[0] * NSEC + ts[1];
	return 0;
}

static void park(struct session *s, struct thread *t, enum wait_kind kind)
{
	t->sch.wait = kind;
	t->rs = RS_WAITING;
	if (s->running == t)
		s->running = NULL;
}

static void set_deadline(struct thread *t, int64_t deadline, int64_t result)
{
	t->sch.has_deadline = 1;
	t->sch.deadline = deadline;
	t->sch.wait_result = result;
}

/* Wake up to n futex waiters on (tgid, uaddr) whose bitset matches, in
 * the order they started waiting (the kernel's order within a hash bucket
 * is FIFO too, kernel/futex/waitwake.c).  They complete with 0 when next
 * scheduled. */
static int futex_wake(struct session *s, pid_t tgid, uint64_t uaddr, int64_t n, uint32_t bitset)
{
	int woken = 0;

	while (woken < n) {
		struct thread *best = NULL;
		size_t i;

		for (i = 0; i < s->norder; i++) {
			struct thread *w = s->order[i];

			if (w->rs == RS_WAITING && w->sch.wait == W_FUTEX && w->tgid == tgid &&
			    w->sch.uaddr == uaddr && (w->sch.bitset & bitset) &&
			    (!best || w->sch.wait_order < best->sch.wait_order))
				best = w;
		}
		if (!best)
			break;
		best->sch.wait = W_NONE;
		best->sch.has_deadline = 1;		/* complete with wait_result... */
		best->sch.deadline = INT64_MIN;	/* ...now */
		best->sch.wait_result = 0;
		best->rs = RS_WAITING;
		woken++;
	}
	return woken;
}

/* Move up to n waiters from uaddr to uaddr2 (FUTEX_CMP_REQUEUE). */
static int futex_requeue(struct session *s, pid_t tgid, uint64_t uaddr, uint64_t uaddr2, int64_t n)
{
	size_t i;
	int moved = 0;

	for (i = 0; i < s->norder && moved < n; i++) {
		struct thread *w = s->order[i];

		if (w->rs == RS_WAITING && w->sch.wait == W_FUTEX && w->tgid == tgid && w->sch.uaddr == uaddr) {
			w->sch.uaddr = uaddr2;
			moved++;
		}
	}
	return moved;
}

/* FUTEX_WAKE_OP (kernel/futex/waitwake.c, futex_atomic_op_inuser):
 * *uaddr2 = oldval OP oparg; wake n on uaddr; if (oldval CMP cmparg)
 * also wake val2 on uaddr2.  gorr runs one thread at a time, so doing the
 * update with two memory accesses is atomic for the program. */
static int64_t futex_wake_op(struct session *s, struct thread *t)
{
	uint32_t encoded = (uint32_t)t->call.args[5], old, nv;
	int op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	int oparg = (int)((encoded << 8) >> 20), cmparg = (int)((encoded << 20) >> 20);
	uint64_t uaddr2 = t->call.args[4];
	int64_t woken;
	int c = 0;

	if ((encoded >> 31) & 1)		/* FUTEX_OP_OPARG_SHIFT */
		oparg = oparg < 0 || oparg > 31 ? 0 : 1 << oparg;
	if (thread_read(t, uaddr2, &old, 4))
		return -EFAULT;
	switch (op) {
	case 0: nv = (uint32_t)oparg; break;		/* SET */
	case 1: nv = old + (uint32_t)oparg; break;	/* ADD */
	case 2: nv = old | (uint32_t)oparg; break;	/* OR */
	case 3: nv = old & ~(uint32_t)oparg; break;	/* ANDN */
	case 4: nv = old ^ (uint32_t)oparg; break;	/* XOR */
	default: return -ENOSYS;
	}
	if (thread_write(t, uaddr2, &nv, 4))
		return -EFAULT;
	woken = futex_wake(s, t->tgid, t->call.args[0], (int64_t)(int32_t)t->call.args[2], ~0u);
	switch (cmp) {
	case 0: c = (int)old == cmparg; break;
	case 1: c = (int)old != cmparg; break;
	case 2: c = (int)old < cmparg; break;
	case 3: c = (int)old <= cmparg; break;
	case 4: c = (int)old > cmparg; break;
	case 5: c = (int)old >= cmparg; break;
	default: return -ENOSYS;
	}
	if (c)
		woken += futex_wake(s, t->tgid, uaddr2, (int64_t)(int32_t)t->call.args[3], ~0u);
	return woken;
}

/* The value check of FUTEX_WAIT and FUTEX_CMP_REQUEUE: 0 when *uaddr is
 * val, else the call's error (EAGAIN, or EFAULT). */
static int futex_check(struct thread *t, uint64_t uaddr, uint32_t val)
{
	uint32_t cur;

	if (thread_read(t, uaddr, &cur, 4))
		return -EFAULT;
	return cur == val ? 0 : -EAGAIN;
}

static int futex_entry(struct session *s, struct thread *t)
{
	uint64_t op = t->call.args[1], uaddr = t->call.args[0];
	int cmd = (int)(op & ~(uint64_t)(FUTEX_PRIVATE_ | FUTEX_CLOCK_REALTIME_));
	uint32_t bitset = cmd == FUTEX_WAIT_BITSET_ || cmd == FUTEX_WAKE_BITSET_ ?
			       (uint32_t)t->call.args[5] : ~0u;
	int64_t n = (int64_t)(int32_t)t->call.args[2], ns;
	int err;

	switch (cmd) {
	case FUTEX_WAIT_:
	case FUTEX_WAIT_BITSET_:
		if (!bitset) {
			thread_emulate(t, -EINVAL);
			return ENTRY_EMULATE;
		}
		if ((err = futex_check(t, uaddr, (uint32_t)t->call.args[2]))) {
			thread_emulate(t, err);
			return ENTRY_EMULATE;
		}
		t->sch.has_deadline = 0;
		if (t->call.args[3]) {
			err = read_timespec(t, t->call.args[3], &ns);
			if (err) {
				thread_emulate(t, err);
				return ENTRY_EMULATE;
			}
			/* FUTEX_WAIT's timeout is relative; WAIT_BITSET's is
			 * absolute on CLOCK_MONOTONIC, or CLOCK_REALTIME with
			 * FUTEX_CLOCK_REALTIME (futex(2)). */
			if (cmd == FUTEX_WAIT_)
				set_deadline(t, session_now(s) + ns, -ETIMEDOUT);
			else
				set_deadline(t, ns - clock_offset(s, op & FUTEX_CLOCK_REALTIME_ ?
								   CLOCK_REALTIME : CLOCK_MONOTONIC),
					     -ETIMEDOUT);
		}
		t->sch.uaddr = uaddr;
		t->sch.bitset = bitset;
		t->sch.wait_order = ++s->futex_order;
		park(s, t, W_FUTEX);
		return -1;
	case FUTEX_WAKE_:
	case FUTEX_WAKE_BITSET_:
		if (!bitset) {
			thread_emulate(t, -EINVAL);
			return ENTRY_EMULATE;
		}
		thread_emulate(t, futex_wake(s, t->tgid, uaddr, n, bitset));
		return ENTRY_EMULATE;
	case FUTEX_REQUEUE_:
	case FUTEX_CMP_REQUEUE_: {
		int64_t woken, moved;

		if (cmd == FUTEX_CMP_REQUEUE_ &&
		    (err = futex_check(t, uaddr, (uint32_t)t->call.args[5]))) {
			thread_emulate(t, err);
			return ENTRY_EMULATE;
		}
		woken = futex_wake(s, t->tgid, uaddr, n, ~0u);
		moved = futex_requeue(s, t->tgid, uaddr, t->call.args[4],
				      (int64_t)(int32_t)t->call.args[3]);
		thread_emulate(t, cmd == FUTEX_CMP_REQUEUE_ ? woken + moved : woken);
		return ENTRY_EMULATE;
	}
	case FUTEX_WAKE_OP_:
		thread_emulate(t, futex_wake_op(s, t));
		return ENTRY_EMULATE;
	default:
		/* PI futexes: run by the kernel.  Go does not use them; a
		 * program that does may deadlock under gorr. */
		return ENTRY_RUN_EXIT;
	}
}

static int sleep_entry(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	int reqarg = d->args[0] == A_TS_IN ? 0 : 2;	/* nanosleep, clock_nanosleep */
	int64_t ns, deadline;
	int err;

	err = read_timespec(t, t->call.args[reqarg], &ns);
	if (err) {
		thread_emulate(t, err);
		return ENTRY_EMULATE;
	}
	if (reqarg == 2) {
		clockid_t clk = (clockid_t)t->call.args[0];

		if (clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID || clk < 0)
			return ENTRY_RUN_EXIT;	/* CPU clocks: run by the kernel */
		if (t->call.args[1] & TIMER_ABSTIME)
			deadline = ns - clock_offset(s, clk);
		else
			deadline = session_now(s) + ns;
	} else {
		deadline = session_now(s) + ns;
	}
	set_deadline(t, deadline, 0);
	park(s, t, W_SLEEP);
	return -1;
}

/* The timeout argument of a poll-like call: -1 none, else ns. */
static int64_t poll_timeout(struct thread *t, int *argi)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	int i;
	int64_t ns;

	for (i = 0; i < d->nargs; i++) {
		if (d->args[i] == A_TIMEOUT_MS) {
			int ms = (int)t->call.args[i];

			*argi = i;
			return ms < 0 ? -1 : (int64_t)ms * 1000000;
		}
		if (d->args[i] == A_TS_IN || d->args[i] == A_TS_UPD) {
			*argi = i;
			if (!t->call.args[i])
				return -1;
			return read_timespec(t, t->call.args[i], &ns) ? 0 : ns;
		}
	}
	*argi = -1;
	return 0;
}

/* Run a poll-like call that gorr found ready with a zero timeout, so
 * that it can never block holding the token even if the readiness gorr
 * saw is gone (sched_exit parks it again when it returns nothing). */
static void poll_nonblocking(struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	struct user_regs_struct regs;
	int i;

	for (i = 0; i < d->nargs; i++)
		if (d->args[i] == A_TIMEOUT_MS && (int)t->call.args[i] != 0 &&
		    thread_getregs(t, &regs) == 0) {
			t->sch.poll_arg = i;
			t->sch.orig_arg = t->call.args[i];
			regs_set_arg(&regs, i, 0);
			thread_setregs(t, &regs);
			t->sch.poll_rewritten = 1;
		}
}

static int poll_entry(struct session *s, struct thread *t, int retry)
{
	int argi;
	int64_t timeout = poll_timeout(t, &argi);

	if (timeout == 0)
		return ENTRY_RUN_EXIT;
	if (!retry) {
		t->sch.has_deadline = 0;
		if (timeout > 0)
			set_deadline(t, session_now(s) + timeout, 0);
	}
	if (poll_ready(s, t) || held_due(s, t) <= session_now(s)) {
		poll_nonblocking(t);
		return ENTRY_RUN_EXIT;
	}
	park(s, t, W_POLL);
	return -1;
}

/* t, at the exit stop of its call, goes back to its syscall instruction
 * (2 bytes, 0f 05) with regs and waits as w, to make the call again. */
static void rewind_call(struct session *s, struct thread *t, struct user_regs_struct *regs,
			enum wait_kind w)
{
	regs->rip -= 2;
	regs->rax = (uint64_t)t->call.nr;
	thread_setregs(t, regs);
	t->in_syscall = 0;
	park(s, t, w);
}

/* The file's flags back, gorr's duplicate closed: a part is over. */
static void end_part(struct thread *t)
{
	fcntl(t->sch.nb_dup1 - 1, F_SETFL, t->sch.nb_flags);
	close(t->sch.nb_dup1 - 1);
	t->sch.nb_dup1 = 0;
}

/* Under run: a blocking pipe or socket that polls writable has room
 * for some bytes, not for every write: a write bigger than its room
 * blocks in the kernel after a part until the reader, a thread gorr
 * holds, reads; the call then returned when the kernel said
 * (release_blocked), and same-seed runs differed (math/big's tests: a
 * `go` child writes 109 KB of output to its parent's pipe).  So gorr
 * makes the blocking write itself, in parts: each part runs with
 * O_NONBLOCK on the file, and the kernel writes what fits and returns
 * that count (fs/pipe.c pipe_write; net/core/stream.c for sockets);
 * while bytes remain, the call is rewound with the rest (buffer and
 * count moved on) and waits for POLLOUT, as the blocked call waited for
 * the reader.  What fits depends only on the program's own writes and
 * reads, which the schedule orders.  The program sees one write that
 * returns its whole count (or, after an error, what was written), the
 * trace one call with its own arguments.  The file's flags come back at
 * each part's exit stop.  Calls of a buffer and a count (write,
 * sendto; writev and sendmsg keep the old way); not for gorr's own
 * stdout and stderr (whose file gorr and its parent share), nor under
 * record (real time: the call's blocking is recorded as it happens). */
static void write_what_fits(struct session *s, struct thread *t, const struct sc_desc *d)
{
	int fd = (int)t->call.args[0], dfd, fl;
	struct stat st;

	/* A write of a buffer and its count (the table's write, pwrite64,
	 * sendto): a part is the same call on the rest of the buffer. */
	if (!s->opts.virtual_time || d->args[1] != A_IBUF || d->args[2] != A_UINT ||
	    t->call.args[2] == 0 || sched_fd_tty(s, t, fd) != 0 ||
	    (dfd = thread_dup_fd(s, t, fd)) < 0)
		return;
	if (fstat(dfd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
	    (fl = fcntl(dfd, F_GETFL)) >= 0 && !(fl & O_NONBLOCK) &&
	    fcntl(dfd, F_SETFL, fl | O_NONBLOCK) == 0) {
		t->sch.nb_dup1 = dfd + 1;
		t->sch.nb_flags = fl;
		if (!t->sch.nb_len) {	/* its first part */
			t->sch.nb_buf = t->call.args[1];
			t->sch.nb_len = t->call.args[2];
			t->sch.nb_done = 0;
		}
		return;
	}
	close(dfd);
}

/* At the exit of a part write_what_fits made: 1 when the call was
 * rewound for its next part and parked until the fd is writable. */
static int wrote_what_fit(struct session *s, struct thread *t)
{
	struct user_regs_struct regs;
	int64_t ret = t->call.ret;

	end_part(t);
	if (ret > 0)
		t->sch.nb_done += (uint64_t)ret;
	if (thread_getregs(t, &regs)) {
		t->sch.nb_len = 0;
		return 0;
	}
	if ((ret == -EAGAIN || ret > 0) && t->sch.nb_done < t->sch.nb_len) {
		regs_set_arg(&regs, 1, t->sch.nb_buf + t->sch.nb_done);
		regs_set_arg(&regs, 2, t->sch.nb_len - t->sch.nb_done);
		t->sch.has_deadline = 0;
		t->sch.wait_fd = (int)t->call.args[0];
		t->sch.wait_events = POLLOUT;
		t->sch.poll_rewound = 1;	/* not shown to the policy again */
		rewind_call(s, t, &regs, W_FD);
		return 1;
	}
	/* Done: the program's own arguments back, the bytes written (or
	 * the error, when none were), and the call's event as one call. */
	if (t->sch.nb_done)
		ret = (int64_t)t->sch.nb_done;
	regs_set_arg(&regs, 1, t->sch.nb_buf);
	regs_set_arg(&regs, 2, t->sch.nb_len);
	regs.rax = (uint64_t)ret;
	thread_setregs(t, &regs);
	t->call.args[1] = t->sch.nb_buf;
	t->call.args[2] = t->sch.nb_len;
	t->call.ret = ret;
	t->call.nin = sc_capture_inputs(t->call.nr, t->call.args, thread_read, t, s->opts.strsize,
					t->call.in, &t->inbuf);
	t->sch.nb_len = 0;
	return 0;
}

static int fd_entry(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	short events = d->flags & SF_FDIN ? POLLIN : POLLOUT;

	t->sch.retrying = 0;
	if (fd_ready(s, t, (int)t->call.args[0], events, 1)) {
		if (events == POLLOUT)
			write_what_fits(s, t, d);
		return ENTRY_RUN_EXIT;
	}
	t->sch.has_deadline = 0;
	t->sch.wait_fd = (int)t->call.args[0];
	t->sch.wait_events = events;
	park(s, t, W_FD);
	return -1;
}

/* wait4(pid, status, options, rusage), waitid(idtype, id, info, options,
 * rusage): the options register gets WNOHANG; sched_exit looks at the
 * result. */
static int waitchild_entry(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	int opts_argi = d->args[2] == A_HEX ? 2 : 3;
	struct user_regs_struct regs;

	if (t->call.args[opts_argi] & WNOHANG)
		return ENTRY_RUN_EXIT;
	if (thread_getregs(t, &regs))
		return ENTRY_RUN_EXIT;
	t->sch.orig_arg = t->call.args[opts_argi];
	t->sch.exits_seen = s->process_exits;
	regs_set_arg(&regs, opts_argi, t->sch.orig_arg | WNOHANG);
	/* waitid with no siginfo (Go 1.23-1.25's os/exec pidfd probe,
	 * syscall/exec_linux.go os_checkClonePidfd) returns 0 whether or
	 * not it reaped a child: it gets one below the stack pointer, out
	 * of the x86-64 red zone and within the room a goroutine stack
	 * keeps below SP (runtime/stack.go StackGuard), so that si_pid
	 * says which; done_or_rewind gives the register back. */
	t->sch.scratch_info = 0;
	if (opts_argi == 3 && !t->call.args[2]) {
		t->sch.scratch_info = (regs.rsp - 256) & ~15ULL;
		regs_set_arg(&regs, 2, t->sch.scratch_info);
	}
	thread_setregs(t, &regs);
	t->sch.wait = W_CHILD;	/* marks the call as rewritten */
	return ENTRY_RUN_EXIT;
}

int sched_entry(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (!d)
		return ENTRY_RUN_EXIT;
	if (s->ops->pick)	/* scripted (replay): the policy decides everything */
		return ENTRY_RUN_EXIT;
	if (d->flags & SF_YIELD) {
		t->sch.yield_now = 1;
		thread_emulate(t, 0);
		return ENTRY_EMULATE;
	}
	if (d->flags & SF_FUTEX)
		return futex_entry(s, t);
	if (d->flags & SF_SLEEP)
		return sleep_entry(s, t);
	if (d->flags & SF_POLL) {
		int retry = t->sch.retrying;

		t->sch.retrying = 0;
		if (retry && t->sch.has_deadline && t->sch.deadline <= session_now(s)) {
			/* Its timeout ran out while it waited: it returns 0. */
			t->sch.has_deadline = 0;
			thread_emulate(t, 0);
			return ENTRY_EMULATE;
		}
		return poll_entry(s, t, retry);
	}
	if (d->flags & SF_WAITCHILD)
		return waitchild_entry(s, t);
	if (d->flags & (SF_FDIN | SF_FDOUT))
		return fd_entry(s, t);
	if (d->ret == R_NONE && d->flags & SF_PROCESS)
		return ENTRY_RUN;
	return ENTRY_RUN_EXIT;
}

/* At the exit of a call gorr rewrote (its argument argi was orig): the
 * program gets its argument back, and when the call is not done it is
 * rewound to its syscall instruction (2 bytes, 0f 05) and parked as w, to
 * run again later.  1 when parked. */
static int done_or_rewind(struct session *s, struct thread *t, int argi, uint64_t orig,
			  int done, enum wait_kind w)
{
	struct user_regs_struct regs;

	if (thread_getregs(t, &regs))
		return 0;
	regs_set_arg(&regs, argi, orig);
	/* The siginfo waitchild_entry gave a waitid is taken back. */
	if (t->sch.scratch_info) {
		regs_set_arg(&regs, 2, 0);
		t->sch.scratch_info = 0;
	}
	if (done) {
		thread_setregs(t, &regs);
		return 0;
	}
	rewind_call(s, t, &regs, w);
	return 1;
}

/* At the exit stop of a call sched_entry rewrote: 1 when the thread was
 * parked instead of completing. */
int sched_exit(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	int opts_argi, none;

	if (t->sch.nb_dup1)
		return wrote_what_fit(s, t);
	if (t->sch.poll_rewritten && d) {
		/* Events, an error, or its timeout is over: done.  Nothing
		 * after all: it waits again for readiness or the deadline. */
		t->sch.poll_rewritten = 0;
		if (!done_or_rewind(s, t, t->sch.poll_arg, t->sch.orig_arg,
				    t->call.ret != 0 || (t->sch.has_deadline && t->sch.deadline <= session_now(s)),
				    W_POLL))
			return 0;
		t->sch.poll_rewound = 1;
		return 1;
	}
	if (t->sch.wait != W_CHILD || !d)
		return 0;
	t->sch.wait = W_NONE;
	opts_argi = d->args[2] == A_HEX ? 2 : 3;
	/* wait4 returns 0 with WNOHANG when no child changed state; waitid
	 * returns 0 either way and says so with si_pid == 0. */
	none = t->call.ret == 0;
	if (none && opts_argi == 3 && (t->call.args[2] || t->sch.scratch_info)) {
		uint64_t info = t->call.args[2] ? t->call.args[2] : t->sch.scratch_info;
		int32_t pid = 0;

		if (thread_read(t, info + 16, &pid, 4) == 0 && pid != 0)
			none = 0;
	}
	/* Not done: run again once a process has exited. */
	if (!done_or_rewind(s, t, opts_argi, t->sch.orig_arg, !none || t->call.ret < 0, W_CHILD))
		return 0;
	t->sch.has_deadline = 0;
	/* A child that died while the call ran (its exit reached gorr
	 * before this stop) has woken nobody: sched_process_exited found t
	 * running.  The kernel lets the real parent wait for a traced child
	 * only once the tracer has reaped it (kernel/exit.c
	 * wait_task_zombie, then do_notify_parent), so the call may have
	 * come too early: it runs again at once.  Parked instead, 1 of 6
	 * runs of the standard library's sync TestMutexMisuse hung. */
	if (t->sch.exits_seen != s->process_exits) {
		t->sch.wait = W_NONE;
		t->rs = RS_READY;
	}
	return 1;
}

/* Under virtual time, timers that fire faster than the runtime's own
 * loop (a 1 ns Ticker left armed) keep the virtual clock crawling: an
 * hour of it (--hang-timeout) would take hours.  So the hang is also told
 * by counting: every IDLE_CALLS calls with no progress (alternately 37
 * more, so that a goroutine woken at a steady rate cannot look still at
 * every count), gorr reads the goroutines; when every user goroutine is
 * blocked and they are, to the wait reason, pc and trackingSeq (which
 * moves each time a goroutine stops running), as they were at the last
 * two counts, nothing but timers moved: a hang. */
#define IDLE_CALLS 10000

/* A thread woken (a futex wake, a signal; not a timer that came due,
 * which is what a hang under timers does, nor a thread merely ready:
 * Go 1.19's tickerhang keeps one that never runs) that has not run
 * since the last count: the window saw too few of
 * the scheduler's picks to say that nothing moves.  math/big's tests
 * under run (Go 1.26): the GC's thread, woken in forEachP, was left out
 * by the random pick three times while another thread spun 20 ms of
 * clock reads per slice in casgstatus's wait for that GC: 30,000 calls,
 * "hang" (status 124) in a run that goes on. */
static int thread_starved(struct session *s)
{
	size_t i;

	for (i = 0; i < s->norder; i++) {
		struct thread *w = s->order[i];

		if (w->sch.started_window != s->idle_window && w != s->running &&
		    w->rs == RS_WAITING && w->sch.has_deadline && w->sch.deadline == INT64_MIN)
			return 1;
	}
	return 0;
}

static void idle_call(struct session *s)
{
	struct thread *t = session_thread(s, s->leader);
	struct goroutine *gs = NULL;
	struct sbuf why = SBUF_INIT;
	uint64_t h = FNV1A_INIT;
	size_t n = 0, i;
	int blocked = 1;

	if (++s->idle_calls < s->idle_next || !t || !s->have_bin || !s->bin.is_go)
		return;
	s->idle_next = s->idle_calls + IDLE_CALLS + (s->idle_same & 1 ? 37 : 0);
	if (goroutines_read(s, t, &gs, &n, &why) == 0) {
		for (i = 0; i < n && blocked; i++) {
			uint64_t moves = (uint64_t)gs[i].moves;

			if (gs[i].system)
				continue;
			/* Waiting on its M (the GC's forEachP, "flushing proc
			 * caches", while its thread is ready but another
			 * spins: regexp's tests under run, seed 1) is not
			 * blocked. */
			if (gs[i].status != G_WAITING || gs[i].moves < 0 || gs[i].on_m) {
				blocked = 0;
				break;
			}
			h = fnv1a(h, &gs[i].goid, sizeof(gs[i].goid));
			h = fnv1a(h, gs[i].state, strlen(gs[i].state));
			h = fnv1a(h, &gs[i].pc, sizeof(gs[i].pc));
			h = fnv1a(h, &moves, sizeof(moves));
		}
		if (blocked && thread_starved(s))
			blocked = 0;
		s->idle_window++;
		s->idle_same = blocked && n && h == s->idle_hash ? s->idle_same + 1 : 0;
		s->idle_hash = blocked ? h : 0;
		if (s->idle_same >= 2) {
			s->hang = 1;
			s->hang_timers = 1;
			s->hang_calls = s->idle_calls;
		}
	}
	free(gs);
	sbuf_release(&why);
}

void sched_vclock_read(struct session *s)
{
	if (!s->opts.virtual_time)
		return;
	s->vclock += 1000;
	idle_call(s);
}

/* Each completed call moves virtual time by 1 us.  Calls that touch files,
 * sockets or devices are progress; futexes, sleeps, clock reads and
 * polls that found nothing are what an idle Go runtime does (sysmon, the
 * forced-GC helper, timers). */
static void count_call(struct session *s, long nr, int64_t ret)
{
	const struct sc_desc *d = sc_lookup(nr);

	s->vclock += 1000;
	if (!d || (d->flags & (SF_FUTEX | SF_SLEEP | SF_CLOCKREAD | SF_SENDSIG)) ||
	    ((d->flags & SF_POLL) && ret <= 0)) {
		idle_call(s);
		return;
	}
	if (d->flags & (SF_FD | SF_FILE | SF_NET | SF_EXEC | SF_PROCESS)) {
		s->last_progress = s->vclock;
		s->idle_calls = 0;
		s->idle_next = IDLE_CALLS;
		s->idle_same = 0;
	}
}

void sched_note_call(struct session *s, struct thread *t)
{
	if (!s->opts.virtual_time)
		return;
	count_call(s, t->call.nr, t->call.ret);
	sync_vdso(s, t);
}

void sched_note_buffered(struct session *s, long nr, int64_t ret)
{
	if (s->opts.virtual_time)
		count_call(s, nr, ret);
}

void sched_process_exited(struct session *s)
{
	size_t i;

	/* A parent waiting for a child may go on: run its call again. */
	s->process_exits++;
	for (i = 0; i < s->norder; i++) {
		struct thread *w = s->order[i];

		if (w->rs == RS_WAITING && w->sch.wait == W_CHILD) {
			w->sch.wait = W_NONE;
			w->rs = RS_READY;
		}
	}
}

void sched_thread_gone(struct session *s, struct thread *t)
{
	free(t->sch.dp_visits);
	free(t->sch.dp_touched);
	t->sch.dp_visits = t->sch.dp_touched = NULL;
	t->sch.dp_ntouched = 0;
	if (t->sch.nb_dup1)	/* died in a part: the file's flags back */
		end_part(t);
	t->sch.nb_len = 0;
	if (s->running == t)
		s->running = NULL;
	if (s->last_run == t)
		s->last_run = NULL;
	if (s->yielded == t)
		s->yielded = NULL;
}

static int others_could_run(struct session *s);
static uint32_t dp_visit_at(struct session *s, struct thread *t, uint64_t pc);

/* A priority below every other thread's. */
static uint64_t behind_all(const struct session *s, const struct thread *t)
{
	uint64_t low = UINT64_MAX;
	size_t i;

	for (i = 0; i < s->norder; i++)
		if (s->order[i] != t && s->order[i]->chaos.prio_set && s->order[i]->chaos.prio < low)
			low = s->order[i]->chaos.prio;
	return low ? low - 1 : 0;
}

/* The end of t's timeslice: another thread runs next if one can, and
 * whichever runs is announced by a run event, even t itself, so that the
 * trace says where t went on from. */
static void yield(struct session *s, struct thread *t)
{
	/* While the exit waits for the others to settle (recorder,
	 * --leaks-settle), a thread whose slice ends goes behind every
	 * other: the settling's bound is checked when the exiting goroutine
	 * comes back to os.Exit, and a spinner's thread of high priority
	 * kept the exiting one from the CPU (tests/progs/spinexit.go, seed
	 * 2 at level 3 on Go 1.23: 39,796 events of settling, not 20,000). */
	if (s->opts.chaos && s->exiting) {
		t->chaos.prio = behind_all(s, t);
		t->chaos.prio_set = 1;
	} else if (s->opts.chaos && prng_unit(&s->chaos_rng) < s->knobs->reprio_prob)
		t->chaos.prio = prng_next(&s->chaos_rng);
	t->rs = RS_READY;
	s->running = NULL;
	s->last_run = NULL;
	s->yielded = t;
}

static int slice_spent(struct session *s, struct thread *t)
{
	int64_t budget = slice_budget(s, t);

	if (s->opts.virtual_time)
		return session_now(s) - t->sch.run_start_v >= budget;
	return real_now(CLOCK_MONOTONIC) - (int64_t)t->sch.run_start_ns >= budget;
}


/* After the running thread's stop: it goes on, unless the scheduling is
 * scripted (replay), where the policy picks at every step. */
void sched_after_stop(struct session *s, struct thread *t)
{
	if (t != s->running) {
		if (t->rs == RS_DYING || t->rs == RS_KERNEL)
			thread_resume(s, t);
		return;
	}
	if (s->ops->pick) {
		t->rs = RS_READY;
		s->running = NULL;
		return;
	}
	/* A thread that keeps making syscalls (a spin loop that reads the
	 * clock) would never be in user code when the tick comes: its
	 * timeslice also ends at its syscall stops.  The budget is the
	 * scheduler's clock, virtual under run, so the decision is too. */
	if (!t->in_syscall && (slice_spent(s, t) || t->sch.yield_now) && others_could_run(s)) {
		t->sch.yield_now = 0;
		s->ops->slice(s, t, NULL);
		yield(s, t);
		return;
	}
	if (!t->in_syscall)
		t->sch.yield_now = 0;
	thread_resume(s, t);
}

/* Is there a thread, other than the running one, that could run if the
 * running one stopped now? */
static int others_could_run(struct session *s)
{
	size_t i;

	for (i = 0; i < s->norder; i++) {
		struct thread *w = s->order[i];

		if (w == s->running)
			continue;
		/* A new thread whose first stop the kernel has not reported
		 * yet counts as ready: when that stop arrives (the machine's
		 * load decides) must not change the schedule. */
		if (w->rs == RS_READY || w->rs == RS_NEW)
			return 1;
		if (w->rs == RS_WAITING && w->sch.has_deadline &&
		    (s->opts.virtual_time || w->sch.deadline <= session_now(s)))
			return 1;
		if (w->rs == RS_WAITING && (w->sch.wait == W_POLL || w->sch.wait == W_FD))
			return 1;
	}
	return 0;
}

/* Whether the kernel has tid asleep until an event (state S in
 * /proc/TID/stat, fs/proc/array.c), not stopped or on a CPU. */
static int asleep_in_kernel(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

/* The running thread's call, which gorr judged would not block (a write
 * when poll said the fd was writable, a call gorr does not model), has
 * slept in the kernel for BLOCKED_NS while another thread could run: it
 * waits for one of them (32 KiB written at once into a pipe or a pty
 * that another goroutine empties; the standard library's os tests never
 * ended).  It gives the token up, as a vfork parent does (RS_KERNEL), and
 * its return is taken when the kernel reports it.  When that happens
 * depends on the machine: under run the trace says so (`blocked`). */
static void release_blocked(struct session *s, struct thread *t)
{
	if (s->ops->pick || !t->want_exit || !t->in_syscall ||
	    real_now(CLOCK_MONOTONIC) - (int64_t)t->resumed_ns < BLOCKED_NS ||
	    !others_could_run(s) || !asleep_in_kernel(t->tid))
		return;
	t->sch.blocked = 1;
	t->rs = RS_KERNEL;
	s->running = NULL;
}

/* How long a thread computes without a stop before gorr interrupts it
 * under virtual time.  While the exit waits for the goroutines to
 * settle, less: each round of the settling is one slice of the others
 * and 1 ms of the clock, and a goroutine that spins with no decision
 * point (no --chaos) would make each round last the full 200 ms (two
 * pollers spinning on a select with default: 14 s at os.Exit).  Those
 * slices end where the machine's speed puts them, as any clock-ended
 * slice (`clock` in the trace). */
#define SETTLE_INTERRUPT_NS (10 * 1000 * 1000)

static int64_t interrupt_ns(const struct session *s, const struct thread *t)
{
	if (s->exiting)
		return count_active(s, t) ? SETTLE_COUNTED_INTERRUPT_NS : SETTLE_INTERRUPT_NS;
	return count_active(s, t) ? COUNTED_INTERRUPT_NS : VIRTUAL_INTERRUPT_NS;
}

/* t's process's CPU time (ns), or -1: one thread runs at a time, so
 * it is the running thread's. */
static int64_t process_cpu_ns(const struct thread *t)
{
	clockid_t clk;

	return clock_getcpuclockid(t->tgid, &clk) ? -1 : real_now(clk);
}

void sched_tick(struct session *s)
{
	struct thread *t = s->running;

	if (t && !t->in_user && !t->stopped) {
		release_blocked(s, t);
		return;
	}
	if (!t || !t->in_user || t->sch.interrupt_pending || t->stopped)
		return;
	/* Scripted (replay): the trace says where each timeslice ends;
	 * interrupting there would only cost steps. */
	if (s->ops->pick) {
		if (s->ops->tick)
			s->ops->tick(s, t);
		return;
	}
	/* Under virtual time only a thread that made no stop for that long
	 * is interrupted: one that makes syscalls has its timeslice end at
	 * one of them, on the virtual clock, and a real-time interrupt
	 * would cut it at a point that depends on the machine's speed. */
	if (s->opts.virtual_time ?
	    real_now(CLOCK_MONOTONIC) - (int64_t)t->resumed_ns < interrupt_ns(s, t) :
	    real_now(CLOCK_MONOTONIC) - (int64_t)t->sch.run_start_ns < (int64_t)s->opts.slice_ns)
		return;
	/* Record, a slice waiting for its next counted lap (sched_slice):
	 * the way by registers only once the thread has had the CPU for
	 * COUNT_GRACE_NS since, not at the next tick: on a loaded machine
	 * the thread may not have run at all in between, and 4 of the
	 * tight-loop recordings of a check-matrix run beside other work
	 * had no counted slice (their slices, found by registers, are what
	 * replay finds least surely). */
	if (!s->opts.virtual_time && t->sch.count_waiting) {
		int64_t cpu = process_cpu_ns(t);

		if (cpu >= 0 && cpu - t->sch.cpu_mark < COUNT_GRACE_NS)
			return;
	}
	if (s->opts.virtual_time) {
		/* And only once it has also used that much CPU since: a
		 * thread the machine's load kept off the CPU (parallel hunt
		 * jobs, a busy CI runner) has not computed, and cutting it
		 * would make the schedule depend on the load.  One thread
		 * runs at a time, so the process's CPU clock is the
		 * thread's. */
		int64_t cpu = process_cpu_ns(t);

		if (cpu < 0)
			return;
		if (t->sch.cpu_mark_for != t->resumed_ns) {
			t->sch.cpu_mark_for = t->resumed_ns;
			t->sch.cpu_mark = cpu;
			return;
		}
		if (cpu - t->sch.cpu_mark < interrupt_ns(s, t))
			return;
	}
	if (!others_could_run(s))
		return;
	if (pt_interrupt(t->tid) == 0)
		t->sch.interrupt_pending = 1;
}

#define CANON_STEPS 256
#define FIT_STEPS 16	/* instructions a slice end may move on to find a window */
#define EFLAGS_TF 0x100
#define EFLAGS_RF 0x10000

/* One instruction; 0, or the wait status of a stop that is not the step
 * (the instruction was a syscall, a signal came...) for the caller to
 * hand to the event loop. */
static int step(struct thread *t, struct user_regs_struct *regs, int *other)
{
	return thread_step(t, regs, other) ? -1 : 0;
}

/* The loop the canonicalizer found: one lap's pcs (in the order run),
 * and the lowest and highest of them. */
struct spin_cycle {
	int n;
	uint64_t lo, hi;
	uint64_t pcs[CANON_STEPS];
};

/* Where a timeslice ends must not depend on when the interrupt landed,
 * or two runs with one seed would differ.  A thread interrupted in a
 * loop that changes nothing (a spin-wait on a flag: the case timeslices
 * exist for) is stepped to the loop's lowest address and checked to
 * have the same registers there one lap later: that state is the same
 * wherever the interrupt came.  Any other thread stops where it is; the
 * trace then holds a position that only this run had, which replay still
 * reproduces exactly from the registers.  Returns 1 when a stop that
 * was not a step must go to the event loop (*status). */
static int canonicalize_spin(struct session *s, struct thread *t, struct user_regs_struct *regs,
			     int *status, int *canonical, int *at_head, struct spin_cycle *cy)
{
	uint64_t pcs[CANON_STEPS];
	struct user_regs_struct r = *regs, first;
	int n = 0, i, j, cycle = -1, laps = 0;
	uint64_t low = 0;

	r.eflags &= ~(unsigned long long)(EFLAGS_TF | EFLAGS_RF);
	while (n < CANON_STEPS) {
		/* One of gorr's INT3s (a decision point in the loop): the
		 * slice ends before it, a place the loop passes in every
		 * run (a step would run the trap, not the instruction). */
		if (bp_trap_at(s, t, r.rip)) {
			*regs = r;
			*canonical = 1;
			return 0;
		}
		pcs[n++] = r.rip;
		if (step(t, &r, status))
			return *status != 0;
		for (j = 0; j < n && cycle < 0; j++)
			if (pcs[j] == r.rip) {
				cycle = j;
				low = r.rip;
				for (i = j; i < n; i++)
					if (pcs[i] < low)
						low = pcs[i];
			}
		if (cycle < 0)
			continue;
		if (r.rip != low)
			continue;
		if (laps++ == 0) {
			first = r;
			continue;
		}
		/* Same registers a lap later: a loop that changes nothing,
		 * and this stop is the same for every interrupt.  Otherwise
		 * it is as good a place as any. */
		*canonical = !memcmp(&first, &r, sizeof(r));
		*regs = *canonical ? first : r;
		*at_head = 1;
		cy->n = 0;
		cy->lo = low;
		cy->hi = low;
		for (i = cycle; i < n; i++) {
			cy->pcs[cy->n++] = pcs[i];
			if (pcs[i] > cy->hi)
				cy->hi = pcs[i];
		}
		return 0;
	}
	*regs = r;
	return 0;
}

/* How far the recorder goes to end a slice outside its loop (below). */
#define SETTLE_STEPS 8192
#define SETTLE_NS (50 * 1000000LL)

/* Run t until it is back at pc with SP sp: the frame of its loop has
 * returned.  0 when there (regs), -1 when it was not within SETTLE_NS
 * of real time (t stopped where the interrupt found it, regs), -2 when
 * it cannot be (t did not move), 1 when a stop the event loop must have
 * came first (*status). */
static int run_to_return(struct session *s, struct thread *t, uint64_t pc, uint64_t sp,
			 struct user_regs_struct *regs, int *status)
{
	int64_t until = real_now(CLOCK_MONOTONIC) + SETTLE_NS;
	int interrupted = 0, st, ret = -1;

	/* One of gorr's own points (a decision point counts its hits):
	 * not taken over. */
	if (bp_trap_at(s, t, pc) || bp_insert(s, t, pc))
		return -2;
	for (;;) {
		pid_t w;

		if (pt_cont(t->tid, 0))
			break;
		while ((w = waitpid(t->tid, &st, __WALL)) < 0 && errno == EINTR)
			if (!interrupted && real_now(CLOCK_MONOTONIC) > until)
				interrupted = pt_interrupt(t->tid) == 0;
		if (w != t->tid)
			break;
		if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && !(st >> 16) &&
		    thread_getregs(t, regs) == 0 && regs->rip - 1 == pc) {
			int other = 0;

			regs->rip = pc;
			thread_setregs(t, regs);
			if (regs->rsp == sp) {
				ret = 0;
				break;
			}
			/* The same place in another call: on. */
			if (bp_step_over(s, t, pc, &other) == 0 && !other)
				continue;
			st = other;
		}
		if (interrupted && WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP) {
			thread_getregs(t, regs);
			/* The interrupt's stop came between the INT3 at pc
			 * and its SIGTRAP (reported first: kernel/signal.c
			 * get_signal), rip one past it.  Removed now, the
			 * breakpoint would leave t inside the instruction:
			 * `mov 0x68(%rsp),%rbx` run from its second byte is
			 * a 32-bit load, and math/big's TestNatSqr crashed
			 * under record with a pointer cut to 32 bits (6 of
			 * 6).  The SIGTRAP is taken first, and t put back
			 * at pc. */
			if (regs->rip - 1 == pc && pt_cont(t->tid, 0) == 0 &&
			    pt_wait(t->tid, &st) == 0 && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP &&
			    !(st >> 16) && thread_getregs(t, regs) == 0 && regs->rip - 1 == pc) {
				regs->rip = pc;
				thread_setregs(t, regs);
			} else if (regs->rip - 1 == pc) {
				/* Something else came instead: the event loop
				 * gets it, and t stays where it is. */
				*status = st;
				ret = 1;
				break;
			}
			break;
		}
		*status = st;
		ret = 1;
		break;
	}
	bp_remove(s, t, pc);
	return ret;
}

/* The interrupt found t in code with no loop of at most CANON_STEPS
 * instructions: a long body (sha256's unrolled rounds) passed once per
 * lap of some loop around it, block after block.  Its function's return
 * is passed once per call: the slice goes on to there, if it comes
 * within SETTLE_NS.  0 when t is there or did not move (regs), -1 when
 * it moved and did not get there (regs: where the interrupt found it),
 * 1 for a stop the event loop must have (*status). */
static int leave_frame(struct session *s, struct thread *t, struct user_regs_struct *regs,
		       int *status)
{
	uint64_t pcs[2], sps[2];
	struct user_regs_struct r = *regs;
	int k;

	if (!s->have_bin || backtrace_frames(s, t, r.rip, r.rsp, pcs, sps, 2) < 2)
		return 0;
	k = run_to_return(s, t, pcs[1], sps[1], &r, status);
	if (k > 0)
		return 1;
	if (k == -2)
		return 0;
	*regs = r;
	return k;
}

static int has_entry(const uint64_t *entries, int n, uint64_t entry)
{
	int k;

	for (k = 0; k < n; k++)
		if (entries[k] == entry)
			return 1;
	return 0;
}

/* A slice that ends at a loop's head (the canonicalizer's lap, cy)
 * in a loop replay cannot skip ahead in is found again by a breakpoint
 * at that head, one stop per lap: 10^6 laps of a million-rune test
 * (bufio's TestSpace calls unicode.IsSpace per rune) take minutes.  So
 * the slice goes on to where the loop is left, if that comes soon: a
 * loop within one function is stepped out of (at most SETTLE_STEPS
 * instructions: an inner loop's exit is passed once per lap of the
 * outer one); a loop that calls is left when the frame of the function
 * that holds it returns (a breakpoint at the return address, with that
 * frame's SP: at most SETTLE_NS).  A spin-wait never leaves and stays
 * where it was (but then it is canonical, or skippable).  Returns 1 when a
 * stop the event loop must have came instead (*status): that stop ends
 * the slice. */
static int settle_loop(struct session *s, struct thread *t, struct user_regs_struct *regs,
		       const struct spin_cycle *cy, int *status)
{
	uint64_t pcs[BT_MAX], sps[BT_MAX], entries[CANON_STEPS];
	struct user_regs_struct r = *regs;
	struct gobin_loc loc;
	int n, i, j, k, nent = 0, deep = -1;

	if (!s->have_bin || !cy->n)
		return 0;
	for (i = 0; i < cy->n; i++) {
		if (gobin_pc_lookup(&s->bin, cy->pcs[i], &loc))
			return 0;	/* not Go code */
		if (!has_entry(entries, nent, loc.entry))
			entries[nent++] = loc.entry;
	}
	if (nent == 1) {
		for (i = 0; i < SETTLE_STEPS; i++) {
			if (bp_trap_at(s, t, r.rip))
				break;
			if (step(t, &r, status))
				return *status != 0;
			if (r.rip < cy->lo || r.rip > cy->hi) {
				*regs = r;
				return 0;
			}
		}
		/* Not left (a counter loop of 10^5 laps): the slice goes on
		 * to its function's return, if that comes soon. */
		*regs = r;
		return leave_frame(s, t, regs, status) > 0;
	}
	n = backtrace_frames(s, t, r.rip, r.rsp, pcs, sps, BT_MAX);
	for (i = 0; i < n; i++) {
		if (gobin_pc_lookup(&s->bin, i ? pcs[i] - 1 : pcs[i], &loc))
			break;
		if (has_entry(entries, nent, loc.entry))
			deep = i;
	}
	j = deep + 1;
	if (deep < 0 || j >= n)
		return 0;
	k = run_to_return(s, t, pcs[j], sps[j], &r, status);
	if (k > 0)
		return 1;
	if (k != -2)
		*regs = r;
	return 0;
}

/* No slice ends inside gorr's vDSO: its record path is not the one
 * replay runs (harness/vdso/image.c), so replay could not find the place.
 * The thread steps on out of it (a few dozen instructions).  0, or the
 * wait status of a stop that came instead (its ring was full: the
 * stopping call), which ends the slice. */
static int leave_vdso(struct session *s, struct thread *t, struct user_regs_struct *regs)
{
	int other = 0;

	/* Nor inside a counting trampoline (harness/core/count.h), which
	 * replay does not have: back to the window, or past it. */
	if (count_holds(s, regs->rip))
		return count_leave(s, t, regs, &other) == 1 ? other : 0;
	if (!vdso_logs_reads(s))
		return 0;
	return vdso_leave(s, t, regs, &other) == 1 ? other : 0;
}

/* Interrupts a thread on a system stack lets pass before its slice
 * ends where it stands (sched_tick interrupts every TICK_NS once the
 * budget is spent): about 200 ms. */
#define SYSTEM_SLICE_TICKS 40

static int on_system_stack(struct session *s, struct thread *t, const struct user_regs_struct *regs)
{
	int64_t goid = -1;

	return goroutine_id_regs(s, t, regs, &goid) == 0 && goid == 0;
}

int sched_slice(struct session *s, struct thread *t)
{
	struct user_regs_struct regs;
	struct spin_cycle cy;
	int canonical = 0, at_head = 0;

	t->sch.interrupt_pending = 0;
	if (t != s->running) {
		sched_after_stop(s, t);
		return 0;
	}
	if (s->opts.virtual_time) {
		s->vclock += VSLICE_NS;
		s->last_progress = s->vclock;	/* it computed */
	}
	if (!others_could_run(s) || thread_getregs(t, &regs) || gocall_trapped(s, t, &regs)) {
		sched_start_budget(s, t);
		thread_resume(s, t);
		return 0;
	}
	/* The interrupt came between one of gorr's INT3s (a breakpoint, a
	 * patched rdtsc) and its SIGTRAP: the kernel reports the interrupt's
	 * stop first (kernel/signal.c get_signal: JOBCTL_TRAP_MASK before
	 * dequeue_synchronous_signal), with rip one past the INT3, inside
	 * the instruction it covers.  No slice ends there: replay could not
	 * find it, and a step from there ran the instruction's tail as code
	 * (1 `gorr record` of tests/progs/tsc in 15 crashed in runtime.cputicks).
	 * The SIGTRAP comes as soon as the thread goes on; the next tick
	 * ends the slice. */
	if (bp_trap_at(s, t, regs.rip - 1)) {
		thread_resume(s, t);
		return 0;
	}
	{
		int other = leave_vdso(s, t, &regs);

		if (other)
			return other;
	}
	/* Under record, in a process that counts its laps (harness/core/
	 * count.h): the slice ends at the thread's next counted lap rather
	 * than here, a place replay finds by the lap's count in one stop,
	 * where registers alone repeat lap after lap (a loop over memory:
	 * compress/gzip's, math/big's; the runtime's scans on a system
	 * stack).  Code that reaches no counted lap by the next tick (a
	 * recursion, a loop no window fits) ends its slice the way below. */
	if (!s->opts.virtual_time && count_active(s, t) && !(s->gc.tid && s->gc.tgid == t->tgid)) {
		if (!t->sch.count_waiting && count_arm(s, t, 1) == 0) {
			t->sch.count_waiting = 1;
			t->sch.cpu_mark = process_cpu_ns(t);	/* (sched_tick) */
			thread_resume(s, t);
			return 0;
		}
		count_arm(s, t, 0);
	}
	/* On a system stack (g0 or the signal stack: goroutine id 0) the
	 * runtime's own code runs: the GC's stack scans and mark work, the
	 * scheduler.  Its registers repeat from one call to the next (the
	 * same function unwinding the frames of goroutines parked at the
	 * same pc), no goroutine stack tells the calls apart, and replay,
	 * which finds a slice by them, stopped at an earlier call than the
	 * recording: net/http's tests diverged soon after such a slice (2
	 * of 3 recordings with 2 ms slices and every read a stop).  Such a
	 * slice ends at the thread's next stop instead, a call (its budget
	 * is spent: sched_after_stop), which that code reaches soon (its
	 * waits are futexes, sched_yield, nanosleep); after
	 * SYSTEM_SLICE_TICKS interrupts without one it ends here as
	 * before. */
	if (!s->opts.chaos && !s->opts.virtual_time && on_system_stack(s, t, &regs) &&
	    ++t->sch.system_ticks < SYSTEM_SLICE_TICKS) {
		thread_resume(s, t);
		return 0;
	}
	/* Not while a forced GC runs in its process: a step over one of
	 * the debug call protocol's INT3s would swallow its trap. */
	if (!(s->gc.tid && s->gc.tgid == t->tgid)) {
		int status = 0;

		/* The thread reached a syscall or a signal while stepping:
		 * that stop ends its timeslice instead. */
		if (canonicalize_spin(s, t, &regs, &status, &canonical, &at_head, &cy))
			return status;
		if (!at_head && !canonical) {
			int k = leave_frame(s, t, &regs, &status);

			if (k > 0)
				return status;
			/* It did not return soon: where the interrupt found
			 * it may be a small loop. */
			if (k < 0 && canonicalize_spin(s, t, &regs, &status, &canonical, &at_head, &cy))
				return status;
		}
	}
	/* At the head of a loop: if it is one replay can skip ahead in,
	 * the slice says what it stored (harness/sched/loops.h).  Also when
	 * its registers are the same lap after lap: its stores need not be
	 * (a global counter). */
	t->sch.slice_mem_len = 0;
	if (at_head) {
		struct loop_skip ls;

		if (loop_skippable(s, t, &regs, &ls) == 0 && loop_read_stores(t, &ls) == 0) {
			t->sch.slice_mem_len = loop_pack_stores(&ls, t->sch.slice_mem);
			t->sch.slice_loop = 1;
		} else if (!canonical) {
			int status = 0;

			if (settle_loop(s, t, &regs, &cy, &status))
				return status;
		}
	}
	/* Where replay could find this slice only with an INT3 hit lap
	 * after lap (no conditional breakpoint fits: a loop head that a
	 * jump targets and whose next instruction a jump targets too, far
	 * from any padding: tests/progs/churn.go's matrix ran for ever in 1
	 * replay of 3), it ends a few instructions on instead, at the first
	 * place one fits. */
	if (!t->sch.slice_loop && !canonical && !(s->gc.tid && s->gc.tgid == t->tgid) &&
	    s->have_bin && !condbp_fits(s, regs.rip)) {
		int k, other = 0;

		for (k = 0; k < FIT_STEPS && !bp_trap_at(s, t, regs.rip); k++) {
			if (step(t, &regs, &other)) {
				if (other)
					return other;	/* a syscall or a signal ends it */
				break;
			}
			if (condbp_fits(s, regs.rip))
				break;
		}
	}
	/* The steps above (a spin's lap, the way out of a frame, to where
	 * a conditional breakpoint fits) can have gone into it. */
	if (vdso_holds(s, regs.rip) || count_holds(s, regs.rip)) {
		int other = leave_vdso(s, t, &regs);

		if (other)
			return other;
		canonical = 0;
		t->sch.slice_loop = 0;
		t->sch.slice_mem_len = 0;
	}
	t->sch.dp_visit = dp_visit_at(s, t, regs.rip);
	/* Under run, where the interrupt landed decides this slice's end:
	 * the trace says so (slice.clock), and the recorder warns that the
	 * run may not repeat exactly with its seed (issue 11, item 3). */
	t->sch.by_clock = s->opts.virtual_time && !canonical;
	vdso_drain(s, t);	/* reads the steps above made come first */
	s->ops->slice(s, t, &regs);
	t->sch.by_clock = 0;
	t->sch.dp_visit = 0;
	t->sch.slice_loop = 0;
	yield(s, t);
	return 0;
}

void sched_delay(struct session *s, struct thread *t, int64_t ns)
{
	t->sch.has_deadline = 1;
	t->sch.deadline = session_now(s) + ns;
	park(s, t, W_DELAY);
}

void sched_deliver_held(struct session *s, struct thread *t)
{
	int64_t now = session_now(s), n = t->call.ret, max = (int)t->call.args[2];
	size_t i = 0;

	t->pol.delivered = 0;
	if (!s->nheld || n < 0 || !sc_is_epoll_wait(t->call.nr))
		return;
	/* In hold order, so that events held together come back in the
	 * order the kernel gave them. */
	while (i < s->nheld && n < max) {
		struct held_event *h = &s->held[i];

		if (h->tgid != t->tgid || h->epfd != (int)t->call.args[0] || h->due > now ||
		    thread_write(t, t->call.args[1] + (uint64_t)n * SC_EPOLL_EVENT_SIZE, h->ev,
				 SC_EPOLL_EVENT_SIZE)) {
			i++;
			continue;
		}
		n++;
		memmove(h, h + 1, (s->nheld - i - 1) * sizeof(*h));
		s->nheld--;
	}
	if (n == t->call.ret)
		return;
	t->pol.delivered = (int)(n - t->call.ret);
	t->call.ret = n;
	t->set_ret = 1;
	t->pol.injected = 1;
}

/* A parked thread's wait is over now (woken, timed out, or ready). */
static int wait_over(struct session *s, struct thread *w, int64_t now)
{
	if (w->sch.has_deadline && w->sch.deadline <= now)
		return 1;
	if (w->sch.wait == W_POLL && held_due(s, w) <= now)
		return 1;
	if (w->sch.wait == W_POLL)
		return poll_ready(s, w);
	if (w->sch.wait == W_FD)
		return fd_ready(s, w, w->sch.wait_fd, w->sch.wait_events, 1);
	return 0;
}

/* Start t: finish its parked call if that is over, and resume it. */
static void start(struct session *s, struct thread *t)
{
	t->sch.started_window = s->idle_window;
	/* Its "runs" event comes now, if any (sched_dpoint). */
	sched_stopped(s, t);
	if (t != s->last_run) {
		s->ops->switched(s, t);
	}
	s->last_run = t;
	if (s->ops->starting)
		s->ops->starting(s, t);
	if (t->rs == RS_WAITING && t->sch.wait == W_DELAY) {
		/* The injected delay is over: the call goes on now, and may
		 * park again (a futex wait...). */
		t->sch.wait = W_NONE;
		t->sch.has_deadline = 0;
		t->rs = RS_RUNNING;
		s->running = t;
		sched_start_budget(s, t);
		s->sched_hooks->entry(s, t, ENTRY_DEFAULT);
		return;
	}
	if (t->rs == RS_WAITING && t->sch.wait == W_HOLD) {
		/* Held at a decision point (sched_dpoint): it goes on from
		 * there, passing the breakpoint once. */
		t->sch.has_deadline = 0;
	} else if (t->rs == RS_WAITING && (t->sch.wait == W_POLL || t->sch.wait == W_FD) &&
		   t->sch.poll_rewound) {
		/* Rewound to its syscall instruction (sched_exit): resumed,
		 * it makes the call again and gorr looks again. */
		t->sch.poll_rewound = 0;
		t->sch.retrying = 1;
	} else if (t->rs == RS_WAITING) {
		if (t->sch.has_deadline && t->sch.deadline <= session_now(s)) {
			/* Woken or timed out: the call completes here. */
			t->sch.has_deadline = 0;
			t->sch.wait = W_NONE;
			s->sched_hooks->complete(s, t, t->sch.wait_result);
		} else if (t->sch.wait == W_POLL || t->sch.wait == W_FD) {
			/* Ready: the kernel runs it and will not block. */
			if (t->sch.wait == W_POLL)
				poll_nonblocking(t);
			t->sch.wait = W_NONE;
			t->want_exit = 1;
		}
	}
	t->sch.wait = W_NONE;
	t->rs = RS_RUNNING;
	s->running = t;
	sched_start_budget(s, t);	/* ...and its process's clock (sync_vdso) */
	thread_resume(s, t);
}

/* Whether a tracee has a stop or an exit waiting to be reported; it
 * stays reported (WNOWAIT). */
static int stop_pending(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
	       si.si_pid != 0;
}

/* Wait, as an idle gorr, until deadline (real ns) or until a stop or a
 * polled fd is ready.  Returns 1 when stops are pending. */
static int idle_wait(struct session *s, int64_t deadline)
{
	struct pollfd p[65];
	int n = 0, timeout, r, dups[65], i;
	size_t k;
	int64_t now = real_now(CLOCK_MONOTONIC);

	if (s->ops->flush)
		s->ops->flush(s);
	p[n].fd = s->sigchld_fd;
	p[n].events = POLLIN;
	dups[n++] = -1;
	for (k = 0; k < s->norder && n < 65; k++) {
		struct thread *w = s->order[k];
		int fd;

		if (w->rs != RS_WAITING || (w->sch.wait != W_FD && w->sch.wait != W_POLL))
			continue;
		if (w->sch.wait == W_POLL && !sc_is_epoll_wait(w->call.nr))
			continue;	/* poll/ppoll: checked on every wake */
		fd = thread_dup_fd(s, w, (int)w->call.args[0]);
		if (fd < 0)
			continue;
		p[n].fd = fd;
		p[n].events = w->sch.wait == W_FD ? w->sch.wait_events : POLLIN;
		dups[n++] = fd;
	}
	timeout = IDLE_POLL_MS;
	if (deadline != INT64_MAX) {
		int64_t ms = (deadline - now + 999999) / 1000000;

		if (ms < timeout)
			timeout = ms < 0 ? 0 : (int)ms;
	}
	if (stop_pending()) {
		for (i = 1; i < n; i++)
			close(dups[i]);
		return 1;
	}
	r = poll(p, (nfds_t)n, timeout);
	for (i = 1; i < n; i++)
		close(dups[i]);
	if (r > 0 && (p[0].revents & POLLIN)) {
		struct signalfd_siginfo si;

		while (read(s->sigchld_fd, &si, sizeof(si)) == sizeof(si))
			;
	}
	return stop_pending();
}

/* Deliverable signals pending for a thread. */
static int has_deliverable_signal(struct thread *t)
{
	uint64_t pnd, blk;

	return thread_sigpending(t, &pnd, &blk) == 0 && (pnd & ~blk) != 0;
}

/* A signal is pending for a parked thread: its call ends with EINTR so
 * that the signal is delivered when it runs, as the kernel would. */
static void interrupt_waiter(struct session *s, struct thread *w)
{
	/* Not in a call: held off the CPU, it gets the signal when it runs
	 * again, as a descheduled thread does. */
	if (w->sch.wait == W_HOLD)
		return;
	if (w->sch.wait == W_CHILD) {
		w->sch.wait = W_NONE;
		w->rs = RS_READY;	/* rewound: it runs its call again */
		return;
	}
	w->sch.has_deadline = 1;
	w->sch.deadline = INT64_MIN;
	w->sch.wait_result = -EINTR;
	(void)s;
}

void sched_signal_sent(struct session *s, struct thread *sender)
{
	size_t i;

	(void)sender;
	for (i = 0; i < s->norder; i++) {
		struct thread *w = s->order[i];

		if (w->rs == RS_WAITING && has_deliverable_signal(w))
			interrupt_waiter(s, w);
	}
}

/* Whether t is dying with its whole process: the kernel closes the
 * process's files (a pipe's far end gets EPOLLHUP, a socket's peer EOF)
 * after the PTRACE_EVENT_EXIT stop, on its own time (kernel/exit.c
 * do_exit: ptrace_event, then exit_files, then exit_notify, which tells
 * gorr).  Another thread that ran meanwhile saw the files open or closed
 * by chance: the parent in the standard library's sync
 * TestMutexMisuse read EPOLLIN or EPOLLIN|EPOLLHUP on its child's pipe,
 * and same-seed traces differed.  A thread that dies alone (exit, its
 * process goes on) is not waited for: a group leader's death is told
 * only once its whole group is gone. */
static int process_dying(struct session *s, const struct thread *t)
{
	size_t i;

	for (i = 0; i < s->norder; i++)
		if (s->order[i]->tgid == t->tgid && s->order[i]->rs != RS_DYING)
			return 0;
	return 1;
}

void sched_dispatch(struct session *s)
{
	int64_t last_signal_check = real_now(CLOCK_MONOTONIC);

	while (!s->running && !s->awaiting && s->exec_count && !s->hang && !s->stop_requested) {
		struct thread *ready[256];
		int nready = 0, others = 0, blocked = 0;
		int64_t now = session_now(s), earliest = INT64_MAX;
		size_t i;

		if (s->ops->pick) {
			struct thread *t;

			/* Scripted: first let the stops on their way arrive
			 * (a vfork parent's comes only once its child runs). */
			for (i = 0; i < s->norder; i++)
				if (s->order[i]->rs == RS_DYING || s->order[i]->rs == RS_NEW)
					return;
			t = s->ops->pick(s);
			if (!t) {
				s->hang = 1;
				return;
			}
			start(s, t);
			return;
		}
		for (i = 0; i < s->norder; i++) {
			struct thread *w = s->order[i];
			int candidate = 0;

			switch (w->rs) {
			case RS_READY:
				candidate = 1;
				break;
			case RS_WAITING:
				if (w->sch.wait == W_CHILD)
					break;	/* made ready when a process exits */
				if (wait_over(s, w, now))
					candidate = 1;
				else if (w->sch.has_deadline && w->sch.deadline < earliest)
					earliest = w->sch.deadline;
				if (!candidate && w->sch.wait == W_POLL && held_due(s, w) < earliest)
					earliest = held_due(s, w);
				break;
			case RS_KERNEL:
				/* A vfork parent stops only once its child has
				 * exec'd or exited: while the child waits (a
				 * chaos delay, a sleep), time must move on
				 * for it.  Counting the parent as a stop on
				 * its way hung 3 of 5 runs of the standard
				 * library's sync TestMutexMisuse under
				 * --chaos 1 (its child delayed at dup3).  A
				 * blocked call (release_blocked) waits for
				 * the others too, but for whom gorr cannot
				 * tell: its stop is awaited only when no
				 * deadline could let time move on. */
				if (w->sch.blocked)
					blocked++;
				else if (!thread_vfork_waiting(s, w))
					others++;
				break;
			case RS_DYING:
				/* A dying process's end comes first, and so
				 * does a thread's that dies alone: after its
				 * PTRACE_EVENT_EXIT the kernel clears its
				 * CLONE_CHILD_CLEARTID word (kernel/fork.c
				 * mm_release, before exit_notify tells gorr),
				 * and glibc reuses a dead thread's stack only
				 * once it is clear (nptl/allocatestack.c
				 * get_cached_stack): a cgo program's next
				 * pthread_create got another stack in
				 * replay, which waits for such deaths, than
				 * in the recording (the standard library's
				 * os TestProgWideChdir, 2 of 4 traces).  A
				 * leader's death is told only with its
				 * group's, so it is not waited for. */
				if (process_dying(s, w) || w->tid != w->tgid)
					return;
				others++;	/* a stop will come */
				break;
			case RS_NEW:
			case RS_GROUP_STOP:
				others++;	/* a stop will come */
				break;
			default:
				break;
			}
			if (candidate && nready < 256)
				ready[nready++] = w;
		}
		if (nready > 1 && s->yielded) {
			/* A timeslice ended: not the same thread again. */
			int k;

			for (k = 0; k < nready; k++)
				if (ready[k] == s->yielded) {
					ready[k] = ready[--nready];
					break;
				}
		}
		if (nready && s->opts.chaos) {
			/* The ready thread of highest priority runs. */
			int k, best = 0;

			for (k = 0; k < nready; k++) {
				if (!ready[k]->chaos.prio_set) {
					ready[k]->chaos.prio = prng_next(&s->chaos_rng);
					ready[k]->chaos.prio_set = 1;
				}
				if (ready[k]->chaos.prio > ready[best]->chaos.prio)
					best = k;
			}
			ready[0] = ready[best];
			nready = 1;
		}
		if (nready) {
			struct thread *t = nready == 1 ? ready[0] :
				ready[prng_next(&s->sched_rng) % (uint64_t)nready];

			s->yielded = NULL;
			start(s, t);
			if (s->running || s->awaiting)
				return;
			continue;	/* it parked again at once */
		}
		if (others || !s->norder || (blocked && earliest == INT64_MAX))
			return;		/* stops will come */
		if (s->opts.virtual_time) {
			if (earliest != INT64_MAX && earliest - s->last_progress <= s->opts.hang_ns) {
				/* Everything waits: time jumps to the next
				 * deadline (not past --timeout). */
				if (s->opts.timeout_ns && earliest - s->start_v >= s->opts.timeout_ns) {
					s->vclock = s->start_v + s->opts.timeout_ns;
					sched_check_timeout(s);
					return;
				}
				if (earliest > s->vclock)
					s->vclock = earliest;
				continue;
			}
			s->hang_timers = earliest != INT64_MAX;
			s->hang = 1;
			return;
		}
		if (idle_wait(s, earliest))
			return;		/* a stop is pending */
		if (real_now(CLOCK_MONOTONIC) - last_signal_check > IDLE_POLL_MS * 1000000LL) {
			last_signal_check = real_now(CLOCK_MONOTONIC);
			sched_signal_sent(s, NULL);
		}
	}
}

void thread_describe(struct sbuf *sb, struct session *s, struct thread *t)
{
	const char *name = sc_name(t->call.nr);

	switch (t->rs) {
	case RS_WAITING:
		switch (t->sch.wait) {
		case W_FUTEX:
			sbuf_addf(sb, "futex wait on %#" PRIx64, t->sch.uaddr);
			break;
		case W_SLEEP:
			sbuf_adds(sb, "sleeping");
			break;
		case W_POLL:
			sbuf_addf(sb, "%s on fd %d", name ? name : "poll", (int)t->call.args[0]);
			break;
		case W_FD:
			sbuf_addf(sb, "%s on fd %d", name ? name : "io", t->sch.wait_fd);
			break;
		case W_CHILD:
			sbuf_adds(sb, "waiting for a child process");
			break;
		case W_DELAY:
			sbuf_addf(sb, "delayed by a fault rule before %s", name ? name : "a call");
			break;
		case W_HOLD:
			sbuf_adds(sb, "held at a decision point by --chaos");
			break;
		default:
			sbuf_adds(sb, "waiting");
		}
		if (t->sch.has_deadline)
			sbuf_addf(sb, ", deadline in %.3f s",
				  (double)(t->sch.deadline - session_now(s)) / 1e9);
		else
			sbuf_adds(sb, ", no timeout");
		break;
	case RS_READY:
		sbuf_adds(sb, "ready");
		break;
	case RS_RUNNING:
		sbuf_adds(sb, "running");
		break;
	case RS_GROUP_STOP:
		sbuf_adds(sb, "stopped (job control)");
		break;
	default:
		sbuf_adds(sb, "in the kernel");
	}
}

static int cmp_dpoint_pc(const void *key, const void *elem)
{
	uint64_t pc = *(const uint64_t *)key;
	const struct dpoint *d = elem;

	return pc < d->pc ? -1 : pc > d->pc;
}

static void arm_dpoints(struct session *s, struct thread *t)
{
	const struct chaos_knobs *k = s->knobs;
	size_t i, j, armed = 0;
	struct prng checks;

	if (!k->dp_max || s->ndpoints)
		return;
	if (dpoints_find(s, &s->dpoints, &s->ndpoints) || !s->ndpoints)
		return;
	/* Checks of plain memory are many, and each armed one is a stop per
	 * hit: a run arms a share of them, drawn from its seed (a stream of
	 * its own, so that the other draws stay as they were). */
	prng_init(&checks, s->opts.seed, PRNG_CHECKS);
	for (i = j = 0; i < s->ndpoints; i++)
		if (s->dpoints[i].kind != DP_CHECK || prng_unit(&checks) < k->check_prob)
			s->dpoints[j++] = s->dpoints[i];
	s->ndpoints = j;
	s->dpoints_tgid = t->tgid;
	s->dp_hits = xcalloc(s->ndpoints, sizeof(*s->dp_hits));
	{
		uint64_t *pcs = xmalloc((s->ndpoints + 1) * sizeof(*pcs));

		for (i = 0; i < s->ndpoints; i++)
			pcs[i] = s->dpoints[i].pc;
		armed = bp_insert_sorted(s, t, pcs, s->ndpoints);
		free(pcs);
	}
	if (!armed) {
		free(s->dpoints);
		s->dpoints = NULL;
		s->ndpoints = 0;
	}
}

void sched_exec(struct session *s, struct thread *t, int index)
{
	if (index != 0)
		return;
	arm_dpoints(s, t);
	/* After the decision points' INT3s.  No window takes the bytes of
	 * any decision point, armed or not: which windows there are then
	 * depends on the binary alone, not on the chaos level or the seed's
	 * draw of checks (a replay can patch the same ones). */
	if (s->opts.counted && !s->count) {
		struct dpoint *all = NULL;
		size_t nall = 0, i;
		uint64_t *pcs;

		if (dpoints_find(s, &all, &nall))
			nall = 0;
		pcs = xmalloc((nall + 1) * sizeof(*pcs));
		for (i = 0; i < nall; i++)
			pcs[i] = all[i].pc;
		count_install(s, t, pcs, nall);
		free(pcs);
		free(all);
		if (count_active(s, t) && !s->ops->pick)
			count_arm(s, t, count_laps(s));
	}
}

int sched_counted(struct session *s, struct thread *t, struct user_regs_struct *regs)
{
	/* Not the thread with the CPU (a vfork child sharing the page), or
	 * a forced GC's call under way: it goes on. */
	if (t != s->running || (s->gc.tid && s->gc.tgid == t->tgid)) {
		if (count_active(s, t))
			count_arm(s, t, count_laps(s));
		return 0;
	}
	/* The laps took time, as an interrupted slice's did (sched_slice):
	 * timers come due, and sysmon wakes to preempt a long computation. */
	if (s->opts.virtual_time) {
		s->vclock += VSLICE_NS;
		s->last_progress = s->vclock;	/* it computed */
	}
	if (!others_could_run(s)) {
		sched_start_budget(s, t);
		return 0;
	}
	t->sch.interrupt_pending = 0;
	t->sch.slice_mem_len = 0;
	t->sch.slice_loop = 0;
	t->sch.dp_visit = dp_visit_at(s, t, regs->rip);
	t->sch.by_clock = 0;
	t->count_slice = 1;
	s->ops->slice(s, t, regs);
	t->count_slice = 0;
	t->sch.dp_visit = 0;
	yield(s, t);
	return 1;
}

/* The armed decision point at pc in t's process, or NULL. */
static struct dpoint *find_dpoint(const struct session *s, const struct thread *t, uint64_t pc)
{
	struct dpoint *d;

	if (!s->ndpoints || t->tgid != s->dpoints_tgid)
		return NULL;
	d = bsearch(&pc, s->dpoints, s->ndpoints, sizeof(*s->dpoints), cmp_dpoint_pc);
	return d && d->kind ? d : NULL;
}


/* End t's timeslice where it stands on one of gorr's breakpoints, which
 * it passes once when it goes on (sched_dpoint_pass).  The slice event
 * says whether its goroutine was preempted there and which hit of a
 * decision point it is (visit, 0: not one); a thread held (hold ns) is
 * parked until then, else it is ready again at once. */
static void end_slice_at_bp(struct session *s, struct thread *t, const struct user_regs_struct *regs,
			    int preempted, int64_t hold, uint32_t visit)
{
	t->sch.dp_skip = regs->rip;
	t->sch.dp_preempting = preempted;
	t->sch.dp_hold_ns = hold;
	t->sch.dp_visit = visit;
	vdso_drain(s, t);
	s->ops->slice(s, t, regs);
	t->sch.dp_preempting = 0;
	t->sch.dp_hold_ns = 0;
	t->sch.dp_visit = 0;
	if (hold) {
		set_deadline(t, session_now(s) + hold, 0);
		park(s, t, W_HOLD);
		s->last_run = NULL;
		return;
	}
	yield(s, t);
}

int sched_dpoint_pass(struct session *s, struct thread *t, uint64_t pc)
{
	(void)s;
	if (!t->sch.dp_skip || t->sch.dp_skip != pc)
		return 0;
	t->sch.dp_skip = 0;
	return 1;
}

/* Replay finds a timeslice's end with a breakpoint at its pc, armed
 * when the thread's previous event has been replayed: the end is the Nth
 * hit of that pc since then, where the registers must also match.  A
 * decision point in a loop is hit lap after lap, often with the same
 * registers (a spin on a lock), so the recording says which hit: it
 * counts, per thread, the hits of each point since the thread's last
 * other stop (or its start), and a slice that ends at a decision point
 * says `visit: N`.  Returns this hit's number. */
static uint32_t dp_visit(struct session *s, struct thread *t, size_t index)
{
	if (!t->sch.dp_visits) {
		t->sch.dp_visits = xcalloc(s->ndpoints, sizeof(*t->sch.dp_visits));
		t->sch.dp_touched = xcalloc(s->ndpoints, sizeof(*t->sch.dp_touched));
	}
	if (!t->sch.dp_visits[index]++)
		t->sch.dp_touched[t->sch.dp_ntouched++] = (uint32_t)index;
	return t->sch.dp_visits[index];
}

/* A timeslice that ends by interrupt with t at pc, before the INT3 of a
 * decision point: the hit that replay must stop at is the one t makes
 * next, or, when t already made it and passes it once more
 * (sched_dpoint_unpassed), that one.  0 when pc is no decision point. */
static uint32_t dp_visit_at(struct session *s, struct thread *t, uint64_t pc)
{
	struct dpoint *d = find_dpoint(s, t, pc);
	uint32_t n;

	if (!d)
		return 0;
	n = t->sch.dp_visits ? t->sch.dp_visits[d - s->dpoints] : 0;
	return t->sch.dp_skip == pc ? n : n + 1;
}

void sched_dpoint_unpassed(struct session *s, struct thread *t, uint64_t pc)
{
	if (find_dpoint(s, t, pc))
		t->sch.dp_skip = pc;
}

void sched_stopped(struct session *s, struct thread *t)
{
	(void)s;
	while (t->sch.dp_ntouched)
		t->sch.dp_visits[t->sch.dp_touched[--t->sch.dp_ntouched]] = 0;
}

/* Whether the goroutine t runs is at its first decision point: its goid
 * (runtime.g.goid, handed out in batches from sched.goidgen by
 * runtime/proc.go's newproc1, so small and dense) not seen before. */
static int first_sight(struct session *s, struct thread *t, const struct user_regs_struct *regs)
{
	int64_t goid;
	uint64_t byte;

	if (goroutine_id_regs(s, t, regs, &goid) || goid <= 0 || goid >= G_SEEN_MAX)
		return 0;
	byte = (uint64_t)goid / 8;
	if (byte >= s->g_seen_len) {
		size_t len = s->g_seen_len ? s->g_seen_len : 64;

		while (len <= byte)
			len *= 2;
		s->g_seen = xrealloc(s->g_seen, len);
		memset(s->g_seen + s->g_seen_len, 0, len - s->g_seen_len);
		s->g_seen_len = len;
	}
	if (s->g_seen[byte] & (1u << (goid % 8)))
		return 0;
	s->g_seen[byte] |= (unsigned char)(1u << (goid % 8));
	return 1;
}

/* A decision point hit this often is in a hot loop, where each hit is a
 * stop (30-100 us): it is disarmed, and the loop's timeslices end at its
 * counted laps (count.c) or by the interrupt.  A safeguard for programs
 * that take a lock a million times: a spin-wait that another goroutine
 * ends (tests/progs/busyloop.go) ends its slices at counted hits long
 * before, and disarmed earlier it would wait for counted laps, a million
 * each (20,000 laps: 19 s at a million, 110 s at 20,000).  A leaked
 * spinner while the program sleeps pays for it (docs/chaos.md,
 * "Long-slice runs").  A count, so the same in every run with the seed. */
#define DP_HOT 1000000
/* A check of plain memory sits in loops more often than a lock does: a
 * point hit 2,000 times is disarmed, and all of them after 20,000 hits
 * in all (about 0.6 s of stops), whatever the size of the program. */
#define DP_CHECK_HOT 2000
#define DP_CHECK_BUDGET 20000
/* Decision points a thread passes per timeslice while the program's exit
 * waits for its goroutines to settle. */
#define SETTLE_DP_SLICE 16

static void disarm_checks(struct session *s, struct thread *t)
{
	size_t i;

	for (i = 0; i < s->ndpoints; i++)
		if (s->dpoints[i].kind == DP_CHECK) {
			bp_remove(s, t, s->dpoints[i].pc);
			s->dpoints[i].kind = 0;
		}
}

int sched_dpoint(struct session *s, struct thread *t, const struct user_regs_struct *regs)
{
	const struct chaos_knobs *k = s->knobs;
	struct dpoint *d = find_dpoint(s, t, regs->rip);
	int others, preempt;
	int64_t hold = 0;
	uint32_t visit;

	if (!d)
		return 0;
	visit = dp_visit(s, t, (size_t)(d - s->dpoints));
	if (t != s->running)
		return 0;
	if (d->kind == DP_CHECK && ++s->dp_check_hits > DP_CHECK_BUDGET) {
		disarm_checks(s, t);
		return 0;
	}
	if (++s->dp_hits[d - s->dpoints] > (d->kind == DP_CHECK ? DP_CHECK_HOT : DP_HOT)) {
		bp_remove(s, t, d->pc);
		d->kind = 0;
		return 0;
	}
	/* Under --chaos a timeslice ends at a drawn number of decision
	 * points as well as at a drawn length: a count of the program's own
	 * synchronization, which no machine's speed changes. */
	/* While the exiting goroutine lets the others settle (recorder,
	 * --leaks-settle), it alone yields, at os.Exit: the settling is
	 * the others running until they block, not another chaos round
	 * (with decision points ending slices there too, 2 of 40 traces of
	 * examples/flaky TestStartAll did not replay).  But one that spins
	 * through decision points (a poller's select with default and a
	 * Lock) never blocks, and each hit is a stop, after which no
	 * interrupt comes (sched_tick counts from the last stop): it would
	 * keep the CPU until its points were disarmed, a million hits each
	 * (two such pollers held a --leaks run at os.Exit for two
	 * minutes).  So its slice ends at a fixed count of hits, nothing
	 * drawn, and counts as computing as an interrupted slice does (the
	 * clock moves VSLICE_NS): the Go runtime's sysmon, whose sleep that
	 * clock ends, preempts the spinning goroutine (runtime/proc.go
	 * retake) and the exiting one, which os.Exit's yield put in a run
	 * queue, runs again. */
	if (s->exiting) {
		if (++t->sch.dp_count < SETTLE_DP_SLICE || !others_could_run(s))
			return 0;
		if (s->opts.virtual_time) {
			s->vclock += VSLICE_NS;
			s->last_progress = s->vclock;
		}
		end_slice_at_bp(s, t, regs, 0, 0, visit);
		return 1;
	}
	/* A goroutine's first decision point.  Natively, the goroutine a go
	 * statement makes waits for a thread: another M that wakes, spins
	 * and steals it from the creator's P (runtime/proc.go: wakep,
	 * runqsteal, which takes runnext only after a usleep(3)), or a new
	 * M (newm, clone) tens of microseconds later, longer on a busy
	 * machine, while its creator runs on.  Under gorr it runs as soon as
	 * its creator's thread parks, in no virtual time: a Stop that
	 * sleeps 50 us and then finds Serve not yet started (a bug that
	 * natively fails in about half of the runs) never fails.  So its
	 * start is late with a probability of its own, held like the
	 * thread hold below.  And the other way round, where the go
	 * statement returns: the creator yields, and the new goroutine (in
	 * its P's runnext) runs first. */
	if (k->start_late_prob && first_sight(s, t, regs) &&
	    prng_unit(&s->chaos_rng) < k->start_late_prob) {
		end_slice_at_bp(s, t, regs, 0, log_uniform(&s->chaos_rng, k->hold_min_ns, k->hold_max_ns),
				visit);
		return 1;
	}
	if (d->kind == DP_GO_RETURN && k->start_early_prob &&
	    prng_unit(&s->chaos_rng) < k->start_early_prob &&
	    !goroutine_preempt(s, t) && !thread_signal(t, SIGURG)) {
		end_slice_at_bp(s, t, regs, 1, 0, visit);
		return 1;
	}
	if (++t->sch.dp_count < t->chaos.dp_budget)
		return 0;
	others = others_could_run(s);
	/* And the goroutine may yield to the others on its own thread, the
	 * way Go preempts it; that slice ends even when no other thread can
	 * run, so that the trace says where the signal came.  And the thread
	 * may be held off the CPU, as a loaded machine deschedules it in the
	 * middle of the program's window: the others run, and timers that
	 * come due meanwhile fire. */
	preempt = prng_unit(&s->chaos_rng) < k->gpreempt_prob;
	if (k->hold_prob && prng_unit(&s->chaos_rng) < k->hold_prob)
		hold = log_uniform(&s->chaos_rng, k->hold_min_ns, k->hold_max_ns);
	if (preempt && (goroutine_preempt(s, t) || thread_signal(t, SIGURG)))
		preempt = 0;
	if (!others && !preempt && !hold)
		return 0;
	end_slice_at_bp(s, t, regs, preempt, hold, visit);
	return 1;
}

int sched_preempt(struct session *s, struct thread *t, const struct user_regs_struct *regs,
		  int sigurg, int64_t advance_ns)
{
	/* goroutine_preempt, then (sigurg) the SIGURG of Go's async
	 * preemption (runtime/preempt.go) for the very next instruction;
	 * without it the goroutine yields at its next function prologue. */
	if (goroutine_preempt(s, t) || (sigurg && thread_signal(t, SIGURG)))
		return 0;
	if (s->opts.virtual_time && advance_ns > 0)
		s->vclock += advance_ns;
	end_slice_at_bp(s, t, regs, 1, 0, 0);
	return 1;
}
