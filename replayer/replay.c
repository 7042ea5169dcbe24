#define _GNU_SOURCE
#include "replayer/replay.h"
#include "replayer/gdb.h"
#include "harness/go/backtrace.h"
#include "harness/go/gocall.h"
#include "harness/go/goroutines.h"
#include "harness/core/count.h"
#include "harness/core/breakpoint.h"
#include "harness/core/condbp.h"
#include "harness/core/ptrace.h"
#include "harness/core/vdso.h"
#include "harness/sched/loops.h"
#include "harness/cli.h"
#include "harness/engine.h"
#include "harness/trace/event.h"
#include "harness/trace/printer.h"
#include "harness/base/sha256.h"
#include "harness/trace/trace.h"
#include "harness/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum break_kind { BRK_FUNC, BRK_LINE, BRK_EVENT };

struct user_break {
	enum break_kind kind;
	char *spec;
	/* BRK_FUNC, BRK_LINE: every place it stands for (a function's
	 * entry and its inlined copies; a line in each of them) */
	uint64_t pcs[GOBIN_COPIES_MAX];
	size_t npcs;
	uint64_t event;		/* BRK_EVENT */
	int hits;
};

struct tidmap {
	pid_t rec;		/* the id in the trace */
	pid_t tid;		/* the live thread's tid */
};

/* A place in the replay, the same in every run of it: the nth hit of a
 * breakpoint at pc by thread tid (the trace's id) since the events-th
 * event; or, with pc 0, the point before event number `events` (a stop
 * at the start, at an interrupt, after monitor goto).  steps: the
 * debugger's single steps from there. */
struct rpos {
	uint64_t events;
	pid_t tid;
	uint64_t pc;
	uint64_t n;
	uint64_t steps;
	int begin;		/* the program's first instruction */
	int watch;		/* a watchpoint's hit (pc: the instruction after) */
};

#define BACK_MAX 32

struct trapcount {
	pid_t tid;
	uint64_t pc;
	int watch;
	uint64_t n;
};

struct replayer {
	const char *path;
	struct trace_reader rd;
	struct trace_event ev;	/* the next event, if have */
	int have;
	enum trace_status st;
	struct sbuf why;

	/* From the header. */
	char **argv, **envp;
	char *exe, *cwd, *kind;
	unsigned char digest[32];
	uint64_t seed;
	int cpus;

	struct tidmap *map;
	size_t nmap, amap;

	int injected;		/* the signal of the current event was sent */
	pid_t cur_tid;		/* the thread that runs, as the trace says */
	pid_t sliced_tid;	/* it stopped for a timeslice, as recorded */
	int slice_bp;		/* breakpoint set for the current slice event */
	int slice_cond;		/* it is a conditional one (harness/core/condbp.h) */
	int slice_lap;		/* no breakpoint: the lap counter traps there (slice.laps) */
	int slice_nocond;	/* one could not be armed for this slice */
	uint64_t slice_pc;
	pid_t slice_tid;
	uint64_t slice_hits;	/* hits of slice_pc by slice_tid since it was armed */
	uint64_t slice_misses;	/* of them, with other registers */
	uint64_t slice_skips;	/* loops skipped ahead in (skip_loop) */
	uint64_t slice_sse_misses;	/* of the misses, with only the SSE registers other */
	uint64_t slice_stack_misses;	/* ...with only the goroutine's stack other */
	uint64_t progress_events;	/* r->events at progress_ns */
	int64_t progress_ns;
	int64_t stuck_ns;	/* --stuck-after */

	struct user_break *breaks;
	size_t nbreaks;
	int cont;		/* --continue */
	int verbose;		/* -v: print each event as it is replayed */
	int goroutines;		/* --goroutines: list them at each stop */
	int quiet;
	int stopped;		/* stopped at a breakpoint (not --continue) */
	int diverged;
	int ended;		/* the trace ended before the program did */
	struct session *session;	/* replaying it (stopped at damage) */
	int recorded_status;	/* from the end event, or -1 */
	uint64_t recorded_leaks;	/* the end event's --leaks count */
	uint64_t events;	/* events consumed */
	/* --gdb: the debugger's server (replayer/gdb.h), when gdb.fd >= 0. */
	struct gdb gdb;
	int gdb_listen_fd;	/* --gdb's socket until the debugger comes */
	int gdb_port;
	int gdb_silent;		/* gorr debug: gdb is started for the user */
	char gdb_host[64];
	/* Reverse execution (the debugger's bc, bs, monitor goto): the
	 * replay runs again from the start (restart) toward a position. */
	struct rpos here;	/* the last stop the replay made for the debugger */
	struct trapcount *traps;	/* hits per (thread, pc) since traps_events */
	size_t ntraps, atraps;
	uint64_t traps_events;
	enum { SEEK_NONE, SEEK_TO, SEEK_LAST } seek;
	struct rpos target;	/* SEEK_TO: where to stop; SEEK_LAST: stop before */
	struct rpos last;	/* SEEK_LAST: the latest breakpoint hit before target */
	int have_last;
	uint64_t seek_steps;	/* SEEK_TO: steps after target to make unseen */
	uint64_t seek_bp;	/* a breakpoint of the seek's at target.pc (0: none) */
	int restart;		/* this run ends to run again from the start */
	uint64_t echoed;	/* the program's output up to this event was written */
	struct rpos *saved;	/* places the debugger keeps (checkpoints) */
	size_t nsaved;
	struct standin *images;	/* files put where the recording had made them */
	size_t nimages;
	/* A step back from a stop of the replay's own (bs with no steps to
	 * undo): the instructions that can have run just before it, with a
	 * breakpoint each in the run that looks for the last of them. */
	uint64_t back[BACK_MAX];
	size_t nback;
	pid_t back_tid;		/* the trace's id of the thread stepping back */
	size_t nback_bps;	/* of back[], those a breakpoint was set at */
	/* The recording's clock reads through gorr's vDSO (header
	 * fast_clock; harness/core/vdso.h): per thread, those still to be
	 * read, in order; per process, whose of them its ring holds. */
	int counted;		/* the run counted laps: so does the replay (count.h) */
	int fast_clock;
	struct vqueue {
		pid_t tid;
		struct vdso_ent *e;
		size_t head, n, alloc;
	} *vq;
	size_t nvq;
	struct vring {
		pid_t tgid;
		pid_t owner;	/* the thread whose reads are in the ring, or 0 */
		uint32_t given;	/* how many */
		pid_t sys_owner;	/* the same for the syscall buffer's ring */
		uint32_t sys_given;	/* bytes */
	} *vr;
	size_t nvr;
	/* The recording's calls through the syscall buffer (header
	 * fast_sys; "Calls without stops"): per thread, those still to be
	 * made, as the ring's records (harness/vdso/page.h). */
	int fast_sys;
	uint64_t next_index;	/* the next event's number (short events do not say) */
	struct squeue {
		pid_t tid;
		unsigned char *b;
		size_t head, len, alloc;	/* bytes */
	} *sq;
	size_t nsq;
};

static struct replayer *rep(struct session *s)
{
	return s->policy;
}

/* Read the next event into r->ev. */
static void advance(struct replayer *r)
{
	const msgpack_object *o;

	r->have = 0;
	r->injected = 0;
	sbuf_reset(&r->why);
	r->st = trace_next(&r->rd, &o);
	if (r->st == TRACE_OBJECT && trace_event_decode(o, &r->ev, r->next_index, &r->why) < 0)
		r->st = TRACE_CORRUPT;
	if (r->st == TRACE_OBJECT)
		r->next_index++;
	if (r->st == TRACE_OBJECT) {
		r->have = 1;
	} else if (r->session) {
		/* (The end event is never consumed: EOF here is a trace
		 * cut short, or a damaged record read as a whole one, as a
		 * flip 181 bytes before the end of a small trace made an
		 * exit of thread 0 of the last record: the program's dying
		 * threads then waited for ever.) */
		/* Damaged here: the replay stops now, with the program where
		 * the last whole event left it.  Left to run on, it could wait
		 * for ever for stops the trace would have led to (the exits
		 * of threads an exit_group whose event is damaged would end). */
		r->session->stop_requested = 1;
	}
}

static void consume(struct replayer *r)
{
	if (r->verbose) {
		struct sbuf sb = SBUF_INIT;
		struct print_opts po = { 32, NULL };

		print_event(&sb, &r->ev, &po);
		fprintf(stderr, "gorr: replayed %s\n", sb.buf);
		sbuf_release(&sb);
	}
	r->events++;
	if (r->ev.type == EV_END) {
		r->recorded_status = r->ev.status;
		r->recorded_leaks = r->ev.leaks;
	}
	advance(r);
}

/* Events that say nothing the program did (samples, and kinds a newer
 * gorr wrote, or a damaged kind byte): passed over wherever the replay
 * looks at what comes next, not only when it picks a thread. */
static void skip_inert(struct replayer *r)
{
	while (r->have && (r->ev.type == EV_UNKNOWN || r->ev.type == EV_SAMPLE))
		consume(r);
}

/* The live thread t is the trace's rec; t's vtid becomes rec, the id
 * the program knows it by (its m.procid: the goroutine listing finds a
 * running goroutine's thread by it). */
static void map_tid(struct replayer *r, pid_t rec, struct thread *t)
{
	pid_t tid = t->tid;
	size_t i;

	t->vtid = rec;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].rec == rec) {
			r->map[i].tid = tid;
			return;
		}
	if (r->nmap == r->amap) {
		r->amap = r->amap ? 2 * r->amap : 16;
		r->map = xrealloc(r->map, r->amap * sizeof(*r->map));
	}
	r->map[r->nmap].rec = rec;
	r->map[r->nmap].tid = tid;
	r->nmap++;
}

static struct thread *thread_of(struct replayer *r, struct session *s, int64_t rec)
{
	size_t i;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].rec == rec)
			return session_thread(s, r->map[i].tid);
	return NULL;
}

/* Whether the trace's thread rec existed in the replay and is gone. */
static int gone_in_replay(struct replayer *r, struct session *s, pid_t rec)
{
	size_t i;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].rec == rec)
			return session_thread(s, r->map[i].tid) == NULL;
	return 0;
}

static pid_t rec_of(struct replayer *r, struct thread *t)
{
	size_t i;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].tid == t->tid)
			return r->map[i].rec;
	return t->tid;
}

static struct vqueue *vqueue_of(struct replayer *r, pid_t tid, int make)
{
	size_t i;

	for (i = 0; i < r->nvq; i++)
		if (r->vq[i].tid == tid)
			return &r->vq[i];
	if (!make)
		return NULL;
	r->vq = xrealloc(r->vq, (r->nvq + 1) * sizeof(*r->vq));
	memset(&r->vq[r->nvq], 0, sizeof(*r->vq));
	r->vq[r->nvq].tid = tid;
	return &r->vq[r->nvq++];
}

static struct vring *vring_of(struct replayer *r, pid_t tgid)
{
	size_t i;

	for (i = 0; i < r->nvr; i++)
		if (r->vr[i].tgid == tgid)
			return &r->vr[i];
	r->vr = xrealloc(r->vr, (r->nvr + 1) * sizeof(*r->vr));
	memset(&r->vr[r->nvr], 0, sizeof(*r->vr));
	r->vr[r->nvr].tgid = tgid;
	return &r->vr[r->nvr++];
}

static struct squeue *squeue_of(struct replayer *r, pid_t tid, int make)
{
	size_t i;

	for (i = 0; i < r->nsq; i++)
		if (r->sq[i].tid == tid)
			return &r->sq[i];
	if (!make)
		return NULL;
	r->sq = xrealloc(r->sq, (r->nsq + 1) * sizeof(*r->sq));
	memset(&r->sq[r->nsq], 0, sizeof(*r->sq));
	r->sq[r->nsq].tid = tid;
	return &r->sq[r->nsq++];
}

static void vclock_release(struct replayer *r)
{
	size_t i;

	for (i = 0; i < r->nvq; i++)
		free(r->vq[i].e);
	for (i = 0; i < r->nsq; i++)
		free(r->sq[i].b);
	free(r->vq);
	free(r->vr);
	free(r->sq);
	r->vq = NULL;
	r->vr = NULL;
	r->sq = NULL;
	r->nvq = r->nvr = r->nsq = 0;
}

/* The syscall buffer's ring, as vring_sync and vring_give the clock's:
 * the owner's used records come off its queue, the rest are withdrawn;
 * then t's queue goes in (whole records, as many as fit). */
static void sring_sync(struct replayer *r, struct thread *t)
{
	struct vring *g = vring_of(r, t->tgid);
	struct squeue *q = g->sys_owner ? squeue_of(r, g->sys_owner, 0) : NULL;
	uint32_t used = 0;

	if (q && g->sys_given && vdso_sys_used(t, g->sys_given, &used) == 0 &&
	    used <= q->len - q->head)
		q->head += used;
	if (q && q->head == q->len)
		q->head = q->len = 0;
	g->sys_owner = 0;
	g->sys_given = 0;
}

static void sring_give(struct replayer *r, struct thread *t)
{
	struct squeue *q = squeue_of(r, t->tid, 0);
	struct vring *g;
	size_t k = 0;

	sring_sync(r, t);
	if (!q || q->head == q->len)
		return;
	while (q->head + k < q->len) {
		const struct vdso_sysrec *rec = (const void *)(q->b + q->head + k);

		if (k + rec->size > VDSO_SYSRING)
			break;
		k += rec->size;
	}
	g = vring_of(r, t->tgid);
	if (vdso_sys_give(t, q->b + q->head, (uint32_t)k) == 0) {
		g->sys_owner = t->tid;
		g->sys_given = (uint32_t)k;
	}
}

/* The buffered calls of t's that the recording made before its next
 * event and the replay has not made yet. */
static size_t vsys_pending(struct replayer *r, struct thread *t)
{
	struct squeue *q = squeue_of(r, t->tid, 0);
	size_t n = 0, at;

	if (!q || q->head == q->len)
		return 0;
	if (vring_of(r, t->tgid)->sys_owner == t->tid)
		sring_sync(r, t);
	for (at = q->head; at < q->len; at += ((const struct vdso_sysrec *)(q->b + at))->size)
		n++;
	return n;
}

/* The next event is a call through the syscall buffer: onto its
 * thread's queue, as the record the ring holds. */
static void queue_vsys(struct replayer *r, struct session *s)
{
	struct thread *t = thread_of(r, s, r->ev.tid);
	struct vdso_sysrec rec;
	size_t need = sizeof(rec);
	int i;

	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < r->ev.nout; i++)
		if (!r->ev.out[i].missing)
			need += sizeof(struct vdso_sysout) + ((r->ev.out[i].data.len + 7) & ~7ull);
	if (t && need <= VDSO_SYSRING) {
		struct squeue *q = squeue_of(r, t->tid, 1);
		unsigned char *p;

		if (q->len + need > q->alloc) {
			q->alloc = q->alloc * 2 > q->len + need ? q->alloc * 2 : q->len + need + 4096;
			q->b = xrealloc(q->b, q->alloc);
		}
		p = q->b + q->len;
		memset(p, 0, need);
		rec.size = (uint32_t)need;
		rec.nr = (int32_t)r->ev.nr;
		/* absent from a short `b` event: the process's Syscall6 */
		rec.pc = r->ev.pc ? r->ev.pc : s->vdso_site + 2;
		rec.ret = r->ev.ret;
		for (i = 0; i < r->ev.nargs && i < 6; i++)
			rec.args[i] = r->ev.args[i];
		p += sizeof(rec);
		for (i = 0; i < r->ev.nout; i++) {
			struct vdso_sysout o = { r->ev.out[i].addr, r->ev.out[i].data.len };

			if (r->ev.out[i].missing)
				continue;
			memcpy(p, &o, sizeof(o));
			memcpy(p + sizeof(o), r->ev.out[i].data.p, o.len);
			p += sizeof(o) + ((o.len + 7) & ~7ull);
			rec.nout++;
		}
		memcpy(q->b + q->len, &rec, sizeof(rec));
		q->len += need;
	}
	consume(r);
}

/* t stops at a call that its queue of buffered calls should have
 * answered (the ring ran dry, or t ran on past the events picked so
 * far): the next of them answers it when it is this call.  1 with the
 * result in *ret (its memory written), or 0. */
static int vsys_answer(struct replayer *r, struct session *s, struct thread *t, int64_t *ret)
{
	const struct vdso_sysrec *rec;
	const unsigned char *p;
	struct squeue *q;
	uint32_t k;
	int i;

	while (r->have && r->ev.type == EV_SYSCALL && r->ev.fast && thread_of(r, s, r->ev.tid) == t)
		queue_vsys(r, s);
	sring_sync(r, t);
	q = squeue_of(r, t->tid, 0);
	if (!q || q->head == q->len)
		return 0;
	rec = (const void *)(q->b + q->head);
	if (rec->nr != t->call.nr || rec->pc != t->call.pc)
		return 0;
	for (i = 0; i < 6; i++)
		if (rec->args[i] != t->call.args[i])
			return 0;
	p = (const unsigned char *)(rec + 1);
	for (k = 0; k < rec->nout; k++) {
		const struct vdso_sysout *o = (const void *)p;

		thread_write(t, o->addr, o + 1, o->len);
		p += sizeof(*o) + ((o->len + 7) & ~7ull);
	}
	*ret = rec->ret;
	q->head += rec->size;
	sring_give(r, t);
	return 1;
}

/* How many of the reads in t's process's ring its owner used: those are
 * off the owner's queue, and the rest are withdrawn from the ring. */
static void vring_sync(struct replayer *r, struct thread *t)
{
	struct vring *g = vring_of(r, t->tgid);
	struct vqueue *q = g->owner ? vqueue_of(r, g->owner, 0) : NULL;
	uint32_t used = 0;

	if (q && g->given && vdso_used(t, g->given, &used) == 0 && used <= q->n - q->head)
		q->head += used;
	if (q && q->head == q->n)
		q->head = q->n = 0;
	g->owner = 0;
	g->given = 0;
}

/* t runs next: its reads go into its process's ring. */
static void vring_give(struct replayer *r, struct thread *t)
{
	struct vqueue *q = vqueue_of(r, t->tid, 0);
	struct vring *g;
	size_t k;

	vring_sync(r, t);
	if (!q || q->head == q->n)
		return;
	g = vring_of(r, t->tgid);
	k = q->n - q->head < VDSO_RING ? q->n - q->head : VDSO_RING;
	if (vdso_give(t, q->e + q->head, (uint32_t)k) == 0) {
		g->owner = t->tid;
		g->given = (uint32_t)k;
	}
}

/* The reads of t's that the recording made before its next event and
 * the replay has not made yet. */
static size_t vclock_pending(struct replayer *r, struct thread *t)
{
	struct vqueue *q = vqueue_of(r, t->tid, 0);

	if (!q || q->head == q->n)
		return 0;
	if (vring_of(r, t->tgid)->owner == t->tid)
		vring_sync(r, t);
	return q->n - q->head;
}

/* The next event is a read of gorr's vDSO: onto its thread's queue. */
static void queue_vclock(struct replayer *r, struct session *s)
{
	struct thread *t = thread_of(r, s, r->ev.tid);
	struct vdso_ent e;
	int64_t v[2] = { 0, 0 };

	memset(&e, 0, sizeof(e));
	e.nr = (int32_t)r->ev.nr;
	/* time(2)'s result is the seconds; the image's entries hold 0. */
	e.ret = r->ev.nr == SYS_time && r->ev.ret >= 0 ? 0 : r->ev.ret;
	e.ptr = r->ev.nr == SYS_clock_gettime ? r->ev.args[1] : r->ev.args[0];
	e.clk = r->ev.nr == SYS_clock_gettime ? (int32_t)r->ev.args[0] : 0;
	if (r->ev.nout && !r->ev.out[0].missing)
		memcpy(v, r->ev.out[0].data.p,
		       r->ev.out[0].data.len < sizeof(v) ? r->ev.out[0].data.len : sizeof(v));
	e.sec = r->ev.nr == SYS_time ? r->ev.ret : v[0];
	e.nsec = r->ev.nr == SYS_gettimeofday ? v[1] * 1000 : v[1];
	if (t) {
		struct vqueue *q = vqueue_of(r, t->tid, 1);

		if (q->n == q->alloc) {
			q->alloc = q->alloc ? 2 * q->alloc : 64;
			q->e = xrealloc(q->e, q->alloc * sizeof(*q->e));
		}
		q->e[q->n++] = e;
	}
	consume(r);
}

/* t is at the vDSO's stopping SYSCALL with a read: its ring ran dry
 * (more reads than it holds), or t ran on past the events picked so far.
 * The next of its recorded reads answers it: its memory is written, and
 * the rest go into the ring.  1 with the call's result in *ret, or 0
 * when the recording has no such read next. */
static int vclock_answer(struct replayer *r, struct session *s, struct thread *t, int64_t *ret)
{
	struct vqueue *q;
	struct vdso_ent e;
	unsigned char out[16];
	size_t n;

	while (r->have && r->ev.type == EV_SYSCALL && r->ev.vdso && thread_of(r, s, r->ev.tid) == t)
		queue_vclock(r, s);
	vring_sync(r, t);
	q = vqueue_of(r, t->tid, 0);
	if (!q || q->head == q->n)
		return 0;
	e = q->e[q->head];
	if (e.nr != t->call.nr || (e.nr == SYS_clock_gettime && (uint64_t)(uint32_t)e.clk != t->call.args[0]))
		return 0;
	q->head++;
	n = vdso_out_bytes(&e, out);
	if (n)
		thread_write(t, e.nr == SYS_clock_gettime ? t->call.args[1] : t->call.args[0], out, n);
	*ret = e.nr == SYS_time ? e.sec : e.ret;
	vring_give(r, t);
	return 1;
}

static void rp_starting(struct session *s, struct thread *t)
{
	struct replayer *r = rep(s);

	if (r->fast_clock)
		vring_give(r, t);
	if (r->fast_sys)
		sring_give(r, t);
}

static int is_next_for(struct replayer *r, struct session *s, struct thread *t, enum ev_type type)
{
	return r->have && r->ev.type == type && thread_of(r, s, r->ev.tid) == t;
}

/* A forced GC of the recording: it started where its registers say. */
static int is_gc_fault(const struct trace_event *ev)
{
	return ev->type == EV_FAULT && ev->action.len == 2 && !memcmp(ev->action.p, "gc", 2);
}

/* The syscall t is in, as an event, for messages. */
static void describe_call(struct sbuf *sb, struct thread *t)
{
	struct trace_event ev;
	struct print_opts po = { 32, NULL };
	const struct sc_desc *d = sc_lookup(t->call.nr);
	int i;

	memset(&ev, 0, sizeof(ev));
	ev.type = EV_SYSCALL;
	ev.nr = t->call.nr;
	ev.nargs = d ? d->nargs : 6;
	memcpy(ev.args, t->call.args, sizeof(ev.args));
	for (i = 0; i < t->call.nin; i++) {
		ev.in[i].arg = t->call.in[i].arg;
		ev.in[i].cut = t->call.in[i].cut;
		ev.in[i].data.p = (const unsigned char *)t->inbuf.buf + t->call.in[i].off;
		ev.in[i].data.len = t->call.in[i].len;
	}
	ev.nin = t->call.nin;
	print_syscall(sb, &ev, &po);
}

static void stop_replay(struct session *s)
{
	s->stop_requested = 1;
}

/* The program did something the trace does not have next: say what, in
 * full, once, and stop. */
static void diverge(struct replayer *r, struct session *s, struct thread *t, const char *did)
{
	struct print_opts po = { 32, s->have_bin ? &s->bin : NULL };
	struct sbuf sb = SBUF_INIT;

	if (r->diverged)
		return;
	r->diverged = 1;
	sbuf_addf(&sb, "gorr: replay diverged at event %llu:\n", (unsigned long long)r->events);
	if (r->have) {
		sbuf_adds(&sb, "  the trace has next: ");
		print_event(&sb, &r->ev, &po);
		sbuf_addc(&sb, '\n');
	} else {
		sbuf_adds(&sb, "  the trace has no more events\n");
	}
	if (t) {
		sbuf_addf(&sb, "  but thread %d (%d in the trace) did: %s\n", (int)t->tid,
			  (int)rec_of(r, t), did);
		sbuf_adds(&sb, "  its stack:\n");
		goroutine_thread_stack(&sb, s, t);
	}
	fputs(sb.buf, stderr);
	sbuf_release(&sb);
	stop_replay(s);
}

static void diverge_call(struct replayer *r, struct session *s, struct thread *t)
{
	struct sbuf sb = SBUF_INIT;

	describe_call(&sb, t);
	/* The same call with an argument that prints alike (a buffer at
	 * another address: the heap or a stack laid out otherwise than in
	 * the recording, from an earlier difference that made no event). */
	if (r->have && r->ev.type == EV_SYSCALL && r->ev.nr == t->call.nr) {
		int i;

		for (i = 0; i < r->ev.nargs && i < 6; i++)
			if (r->ev.args[i] != t->call.args[i]) {
				sbuf_addf(&sb, " (argument %d: %#llx in the trace, %#llx here)", i + 1,
					  (unsigned long long)r->ev.args[i],
					  (unsigned long long)t->call.args[i]);
				break;
			}
	}
	diverge(r, s, t, sb.buf);
	sbuf_release(&sb);
}

/* Write what the recorded call wrote; its output to the recording's
 * stdout or stderr goes to gorr's. */
static int apply_outputs(struct replayer *r, struct thread *t)
{
	int i;

	for (i = 0; i < r->ev.nout; i++)
		if (!r->ev.out[i].missing &&
		    thread_write(t, r->ev.out[i].addr, r->ev.out[i].data.p, r->ev.out[i].data.len))
			return -EFAULT;
	/* A run again from the start (reverse execution) has written this
	 * output already. */
	if (r->ev.tty && r->ev.ret > 0 && r->events >= r->echoed) {
		const struct sc_desc *d = sc_lookup(r->ev.nr);

		for (i = 0; i < r->ev.nin; i++) {
			enum sc_kind k = d ? d->args[r->ev.in[i].arg] : A_NONE;

			if (k == A_IBUF || k == A_IOV_IN) {
				size_t n = r->ev.in[i].data.len < (uint64_t)r->ev.ret ?
					   r->ev.in[i].data.len : (size_t)r->ev.ret;

				if (write_full(r->ev.tty, r->ev.in[i].data.p, n) < 0)
					break;
			}
		}
	}
	return 0;
}

static int call_matches(struct replayer *r, struct thread *t)
{
	int i;

	if (r->ev.nr != t->call.nr)
		return 0;
	for (i = 0; i < r->ev.nargs && i < 6; i++)
		if (r->ev.args[i] != t->call.args[i])
			return 0;
	return 1;
}

/* Calls that build the process itself run for real; the rest are the
 * trace's. */
static int runs_for_real(const struct sc_desc *d)
{
	return d && ((d->flags & (SF_SPAWN | SF_EXEC)) || d->ret == R_NONE);
}

static int check_event_break(struct replayer *r, struct session *s, struct thread *by);

/* The exec next in the trace runs a file the recording made (its bytes
 * are in the event): when nothing is at its path, the file is put there
 * for the exec the replay makes, and taken away with the folders made
 * for it when the replay ends. */
static void put_image(struct replayer *r)
{
	char path[4096], tmp[] = "/tmp/gorr-image-XXXXXX";
	struct standin st = { NULL, NULL };
	int fd;

	if (r->ev.path.len == 0 || r->ev.path.len >= sizeof(path))
		return;
	memcpy(path, r->ev.path.p, r->ev.path.len);
	path[r->ev.path.len] = '\0';
	if (access(path, F_OK) == 0)
		return;
	fd = mkstemp(tmp);
	if (fd < 0)
		return;
	if (write_full(fd, r->ev.image.p, r->ev.image.len) == 0 && fchmod(fd, 0755) == 0 &&
	    close(fd) == 0 && standin_place(&st, path, tmp) == 0) {
		r->images = xrealloc(r->images, (r->nimages + 1) * sizeof(*r->images));
		r->images[r->nimages++] = st;
	} else {
		close(fd);
	}
	unlink(tmp);
}

/* A call the kernel interrupted for a signal returns -ERESTART* at its
 * exit stop, which the recording saw; what the program saw came after,
 * when the signal was delivered (arch/x86/kernel/signal.c
 * arch_do_signal_or_restart, handle_signal): ERESTARTSYS (with
 * SA_RESTART, which Go's handlers all have: runtime/signal_unix.go
 * setsig) and ERESTARTNOINTR restart the call; ERESTARTNOHAND and
 * ERESTART_RESTARTBLOCK end in EINTR when a handler runs (the next event
 * is t's signal), else restart (the latter through restart_syscall).
 * Replay emulates the call, which the kernel then does not restart
 * (orig_rax is -1): gorr does what it would have (the restarted call is
 * the trace's next call of t's). */
static void restart_or_eintr(struct replayer *r, struct session *s, struct thread *t)
{
	int64_t ret = t->call.ret;
	int handler = is_next_for(r, s, t, EV_SIGNAL);

	if (ret == -SC_ERESTARTSYS || ret == -SC_ERESTARTNOINTR ||
	    (ret == -SC_ERESTARTNOHAND && !handler))
		t->call.restart_nr = t->call.nr;
	else if (ret == -SC_ERESTART_RESTARTBLOCK && !handler)
		t->call.restart_nr = SYS_restart_syscall;
	else if (ret == -SC_ERESTARTNOHAND || ret == -SC_ERESTART_RESTARTBLOCK)
		t->call.ret = -EINTR;
}

static int rp_syscall_entry(struct session *s, struct thread *t)
{
	struct replayer *r = rep(s);
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (r->diverged || r->stopped || !r->have)
		return ENTRY_HOLD;
	/* A fault rule fired here in the recording: its effect (a result,
	 * a delay) is in the events that follow. */
	skip_inert(r);
	while (r->have && r->ev.type == EV_FAULT && !is_gc_fault(&r->ev) &&
	       thread_of(r, s, r->ev.tid) == t)
		consume(r);
	if (!r->have)
		return ENTRY_HOLD;
	/* exit_group has already ended its siblings for the event loop
	 * (doom_siblings), which now waits for their exits: held, it would
	 * wait for ever.  The trace must have it next, or the replay has
	 * diverged. */
	if (d && (d->flags & SF_GROUPEXIT) && thread_of(r, s, r->ev.tid) != t) {
		diverge_call(r, s, t);
		return ENTRY_HOLD;
	}
	/* An exec ends the process's other threads first: their exits come
	 * before its own events. */
	if (d && (d->flags & SF_EXEC) && r->ev.type == EV_EXIT) {
		struct thread *o = thread_of(r, s, r->ev.tid);

		if (o && o != t && o->tgid == t->tgid)
			return ENTRY_RUN_EXIT;
	}
	if (r->fast_clock && t->call.pc == vdso_slow_pc()) {
		int64_t ret;

		/* Else it waits (ENTRY_HOLD below) until its read comes in
		 * the trace (pick_next). */
		if (vclock_answer(r, s, t, &ret)) {
			thread_emulate(t, ret);
			t->pol.replayed = 1;
			return ENTRY_EMULATE;
		}
	}
	if (r->fast_sys) {
		int64_t ret;

		/* A buffered call the ring could not answer (it ran dry, or
		 * t ran on past the events picked so far): its queue does;
		 * else it waits (ENTRY_HOLD below) until the trace comes to
		 * it (pick_next). */
		if (vsys_answer(r, s, t, &ret)) {
			thread_emulate(t, ret);
			t->pol.replayed = 1;
			return ENTRY_EMULATE;
		}
	}
	if (thread_of(r, s, r->ev.tid) != t)
		return ENTRY_HOLD;	/* its turn comes later */
	if (check_event_break(r, s, NULL))
		return ENTRY_HOLD;
	if (r->fast_sys && vsys_pending(r, t)) {
		diverge_call(r, s, t);
		fprintf(stderr, "  (the recording made %zu more calls through the syscall buffer "
			"before it)\n", vsys_pending(r, t));
		return ENTRY_HOLD;
	}
	if (r->fast_clock && vclock_pending(r, t)) {
		diverge_call(r, s, t);
		fprintf(stderr, "  (the recording read the clock %zu more times before it)\n",
			vclock_pending(r, t));
		return ENTRY_HOLD;
	}
	/* A call that runs for real reports its clone or exec event before
	 * it returns. */
	if (runs_for_real(d) && ((r->ev.type == EV_CLONE && (d->flags & SF_SPAWN)) ||
				 (r->ev.type == EV_EXEC && (d->flags & SF_EXEC)))) {
		if (r->ev.type == EV_EXEC && r->ev.image.len)
			put_image(r);
		return ENTRY_RUN_EXIT;
	}
	if (r->ev.type != EV_SYSCALL || !call_matches(r, t)) {
		diverge_call(r, s, t);
		return ENTRY_HOLD;
	}
	if (d && (d->flags & SF_FILEMAP)) {
		/* A file mapping: the file's fd only existed in the recording.
		 * The same place gets an anonymous mapping, and the recorded
		 * bytes are written into it at the exit. */
		struct user_regs_struct regs;

		if (r->ev.ret < 0)
			goto emulate;
		if (thread_getregs(t, &regs) == 0) {
			regs_set_arg(&regs, 0, (uint64_t)r->ev.ret);
			/* MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, even for a
			 * MAP_SHARED file mapping: gorr fills it through
			 * /proc/PID/mem, which cannot write a read-only shared
			 * mapping (mm/gup.c: FOLL_FORCE only breaks COW).  A
			 * program reading the file looks the same; two
			 * processes sharing writes through a file mapping do
			 * not replay. */
			regs_set_arg(&regs, 3, 0x2 | 0x10 | 0x20);
			regs_set_arg(&regs, 4, (uint64_t)-1);	/* fd */
			regs_set_arg(&regs, 5, 0);		/* offset */
			thread_setregs(t, &regs);
		}
		return ENTRY_RUN_EXIT;
	}
	if (d && (d->flags & SF_CWD) && r->ev.ret == 0) {
		/* Made for real as well, for the execs to come (a child's
		 * relative program path after os/exec's Cmd.Dir); its result
		 * is the trace's whatever the real one (the folder may be gone
		 * since, and then so is what it would have resolved). */
		return ENTRY_RUN_EXIT;
	}
	/* A call the kernel interrupted before it did anything (-ERESTART*:
	 * a vfork clone that chaos held while a SIGURG came, which
	 * copy_process turns away, kernel/fork.c) is no call to make for
	 * real: the program never sees its result, the restart does. */
	if (runs_for_real(d) && sc_is_restart(r->ev.ret))
		goto emulate;
	if (runs_for_real(d)) {
		if (d->ret == R_NONE) {
			consume(r);	/* recorded at entry */
			return ENTRY_RUN;
		}
		return ENTRY_RUN_EXIT;	/* the event is checked at the exit */
	}
emulate:
	apply_outputs(r, t);
	thread_emulate(t, r->ev.ret);
	t->pol.replayed = 1;
	consume(r);
	restart_or_eintr(r, s, t);
	return ENTRY_EMULATE;
}

static void rp_syscall_exit(struct session *s, struct thread *t)
{
	struct replayer *r = rep(s);

	if (t->pol.replayed) {	/* emulated at entry: already consumed */
		t->pol.replayed = 0;
		return;
	}
	if (r->diverged || r->stopped)
		return;
	if (!is_next_for(r, s, t, EV_SYSCALL)) {
		/* A call that ran for real and returned before its turn (a
		 * vfork parent): complete it when the trace says. */
		t->pol.held = 2;
		return;
	}
	if (r->ev.nr != t->call.nr) {
		diverge_call(r, s, t);
		t->pol.held = 2;
		return;
	}
	apply_outputs(r, t);
	if (sc_lookup(t->call.nr) && (sc_lookup(t->call.nr)->flags & SF_FILEMAP)) {
		/* The program keeps its argument registers across a syscall:
		 * give back the ones the anonymous mapping replaced. */
		struct user_regs_struct regs;

		if (thread_getregs(t, &regs) == 0) {
			int i;

			for (i = 0; i < 6; i++)
				regs_set_arg(&regs, i, t->call.args[i]);
			thread_setregs(t, &regs);
		}
	}
	t->call.ret = r->ev.ret;	/* the recorded ids, not this run's */
	t->set_ret = 1;
	consume(r);
}

/* The next event, t's timeslice end (or a forced GC's start) at a pc
 * with registers: a breakpoint there stops t when it gets there.  0, or
 * -1 when the replay diverged. */
static int arm_slice(struct replayer *r, struct session *s, struct thread *t)
{
	if (r->slice_bp)
		return 0;
	r->slice_lap = 0;
	if (r->ev.type == EV_SLICE && r->ev.laps && count_active(s, t)) {
		/* Ended at a counted lap: the counter, set now that the
		 * thread goes on from its previous event, traps at that very
		 * pass (harness/core/count.h), wherever the loop is. */
		if (count_arm(s, t, r->ev.laps)) {
			diverge(r, s, t, "cannot count the laps to its recorded timeslice end");
			return -1;
		}
		r->slice_lap = 1;
	} else if (bp_insert(s, t, r->ev.pc)) {
		diverge(r, s, t, "cannot be stopped at its recorded timeslice");
		return -1;
	}
	r->slice_bp = 1;
	r->slice_cond = 0;
	r->slice_nocond = 0;
	r->slice_pc = r->ev.pc;
	r->slice_tid = t->tid;
	r->slice_hits = 0;
	r->slice_misses = 0;
	r->slice_sse_misses = 0;
	r->slice_stack_misses = 0;
	return 0;
}

/* Fault signals the thread raises again by itself when it reaches the
 * instruction; everything else is sent to it at its recorded point. */
static int is_synchronous(const struct trace_event *ev)
{
	return sig_is_fault(ev->sig, ev->code);
}

/* sig is sent to t once for the current event. */
static void send_once(struct replayer *r, struct thread *t, int sig)
{
	if (!r->injected) {
		thread_signal(t, sig);
		r->injected = 1;
	}
}

/* The recorded signal, t's next event, is sent to it once (faults it
 * raises again by itself). */
static void send_signal(struct replayer *r, struct thread *t)
{
	if (!is_synchronous(&r->ev))
		send_once(r, t, r->ev.sig);
}

/* t waits at a call's seccomp stop for the trace to complete it, but
 * the trace has a signal for it first: the recording's thread was parked
 * in that call, rewound to make it again (sched.c done_or_rewind), when
 * the signal came, so it ran the handler before the call (or it had not
 * reached the call yet).  The same here: the call is taken back
 * (thread_uncall), the signal is delivered on the syscall instruction
 * and the call made again.  0, or -1 when the replay cannot go on. */
static int rewind_held_call(struct thread *t)
{
	if (thread_uncall(t))
		return -1;
	t->pol.held = 0;
	return 0;
}

/* A call held at its entry (it came later in the trace than the thread
 * reached it: a fault rule or chaos delayed it in the recording) that
 * replay must make itself, not complete from the trace: a clone or exec
 * (runs_for_real) or a file mapping, whose memory must exist.  At its
 * turn it is taken back and made again, and its entry is handled as any
 * other's.  Completed from the trace, a delayed vfork's parent had its
 * next event taken for the clone's end ("did: clone(...) = ?") and a
 * delayed mmap mapped nothing (the dynamic loader of tests/progs/child.go's
 * echo died of SIGSEGV): 0 of 4 traces of `child 10` under --chaos 1
 * replayed.  1 when taken back, 0 when not such a call, -1 diverged. */
static int remade_held(struct replayer *r, struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (t->pol.held != 1 || !d || !(d->flags & (SF_SPAWN | SF_EXEC | SF_FILEMAP)))
		return 0;
	if (rewind_held_call(t)) {
		diverge(r, s, t, "could not be taken back out of its call to make it again");
		return -1;
	}
	return 1;
}

/* The event breakpoint (--break event:N) that waits at the next event,
 * not hit yet: its index, or -1. */
static ssize_t event_break_next(const struct replayer *r)
{
	size_t i;

	for (i = 0; i < r->nbreaks; i++)
		if (r->breaks[i].kind == BRK_EVENT && r->breaks[i].event == r->ev.index &&
		    !r->breaks[i].hits)
			return (ssize_t)i;
	return -1;
}

/* t goes on without asking pick (arm_next): the clock reads and
 * buffered calls the recording made next, without a stop, go into its
 * rings now, as pick puts them there, so that the event after them is
 * armed from here (a counted slice's laps run from t's last event: the
 * SIGURG's delivery, then the handler's reads, then the lap; armed at
 * the first stop the handler's reads made when its ring ran dry, the
 * count began too late).  Not while the debugger seeks or an event
 * breakpoint waits among them: pick stops before those. */
static void queue_fast(struct replayer *r, struct session *s, struct thread *t)
{
	int any = 0;

	if (r->seek != SEEK_NONE)
		return;
	while (r->have && r->ev.type == EV_SYSCALL && thread_of(r, s, r->ev.tid) == t &&
	       event_break_next(r) < 0) {
		if (r->ev.vdso)
			queue_vclock(r, s);
		else if (r->ev.fast && r->fast_sys)
			queue_vsys(r, s);
		else
			break;
		any = 1;
	}
	if (any)
		rp_starting(s, t);
}

/* After an event t goes on from without asking pick (a signal's
 * delivery, an emulated rdtsc), what t's next event needs must be in
 * place before t runs on:
 * - where its timeslice ended (a decision point right after a SIGURG,
 *   the rdtsc instruction of a loop): the breakpoint;
 * - a second asynchronous signal (a SIGURG and the SIGCHLD of a child
 *   that exited while the thread had every signal blocked around
 *   vfork, syscall/exec_unix.go forkExec, are both pending when it
 *   unblocks them): sent now, so that it is pending at the same point
 *   as in the recording; the kernel then delivers it where it did
 *   there (after the first handler's rt_sigreturn: Go's handlers block
 *   every signal: sigfillset(&sa.sa_mask) in runtime/os_linux.go
 *   setsig). */
static void arm_next(struct replayer *r, struct session *s, struct thread *t)
{
	queue_fast(r, s, t);
	if (!r->have || thread_of(r, s, r->ev.tid) != t)
		return;
	if (r->ev.regs.p && (r->ev.type == EV_SLICE || is_gc_fault(&r->ev)))
		arm_slice(r, s, t);
	else if (r->ev.type == EV_SIGNAL)
		send_signal(r, t);
}

/* Set or drop the watch on the recording's pass: t's last slice ended at
 * one of the recording's breakpoints (slice.bp), which the recording's
 * thread passed once before it could stop there again
 * (sched_dpoint_pass).  One per thread, as the recorder's is: a
 * breakpoint of replay's own stays there until t has passed. */
static void watch_pass(struct session *s, struct thread *t, uint64_t pc, int on)
{
	if (t->pol.skip_pc) {
		bp_remove(s, t, t->pol.skip_pc);
		t->pol.skip_pc = 0;
	}
	if (on && bp_insert(s, t, pc) == 0)
		t->pol.skip_pc = pc;
}

static void gdb_check(struct replayer *r, struct session *s);
static int gdb_hit(struct replayer *r, struct session *s, struct thread *t, uint64_t pc,
		   int counted);

/* The kernel's SIGCHLD (a real child's exit) is delivered to t while
 * the recorded one, t's next event, was sent already and is no longer
 * pending: the two were one (a standard signal pending is not queued
 * twice: kernel/signal.c legacy_queue), and this delivery is the
 * recording's.  Discarded, the recorded one was lost and the thread ran
 * on without its handler (tests/progs/killchild, 3 of 8 replays of Go
 * 1.19 recordings). */
static int sigchld_merged(struct replayer *r, struct session *s, struct thread *t)
{
	uint64_t pnd, blk;

	return r->injected && is_next_for(r, s, t, EV_SIGNAL) && r->ev.sig == SIGCHLD &&
	       thread_sigpending(t, &pnd, &blk) == 0 && !(pnd & (1ull << (SIGCHLD - 1)));
}

static int rp_signal(struct session *s, struct thread *t, siginfo_t *si)
{
	struct replayer *r = rep(s);

	if (r->diverged || r->stopped)
		return 0;
	/* A watchpoint of the debugger's (a debug register's trap, after
	 * the instruction that touched the memory): not the program's. */
	if (si->si_signo == SIGTRAP && si->si_code == TRAP_HWBKPT && r->gdb.fd >= 0 &&
	    t->tgid == r->gdb.tg.tgid) {
		struct user_regs_struct regs;

		if (gdb_watch_fired(&r->gdb, t) && thread_getregs(t, &regs) == 0) {
			gdb_hit(r, s, t, regs.rip, 1);
			gdb_check(r, s);
		}
		return 0;
	}
	/* A child the replay runs for real tells its exit with a SIGCHLD of
	 * the kernel's, whenever it comes; the recorded one is sent again
	 * at its own point (si_code > 0: CLD_EXITED... from the kernel). */
	if (si->si_signo == SIGCHLD && si->si_code > 0 && !sigchld_merged(r, s, t))
		return 0;
	if (!is_next_for(r, s, t, EV_SIGNAL) || r->ev.sig != si->si_signo) {
		struct sbuf sb = SBUF_INIT;

		sbuf_adds(&sb, "received ");
		print_signame(&sb, si->si_signo);
		diverge(r, s, t, sb.buf);
		sbuf_release(&sb);
		return 0;
	}
	if (r->ev.info.p && r->ev.info.len == sizeof(*si))
		memcpy(si, r->ev.info.p, sizeof(*si));
	consume(r);
	arm_next(r, s, t);
	return si->si_signo;
}

static void rp_clone(struct session *s, struct thread *parent, struct thread *child,
		     enum clone_kind kind)
{
	struct replayer *r = rep(s);

	if (r->diverged || r->stopped)
		return;
	if (!is_next_for(r, s, parent, EV_CLONE)) {
		diverge(r, s, parent, "created a thread or process");
		return;
	}
	map_tid(r, (pid_t)r->ev.child, child);
	consume(r);
	/* A forked child's copy of the ring holds its parent's reads. */
	if (r->fast_clock && kind == CLONE_KIND_FORK)
		vdso_give(child, NULL, 0);
	if (r->fast_sys && kind == CLONE_KIND_FORK)
		vdso_sys_give(child, NULL, 0);
}

static void insert_user_breaks(struct replayer *r, struct session *s, struct thread *t);

static int same_place(const struct rpos *a, const struct rpos *b)
{
	return a->events == b->events && a->tid == b->tid && a->pc == b->pc && a->n == b->n &&
	       a->begin == b->begin && a->watch == b->watch;
}

/* This hit's place: the how-manieth of (t, pc) since the last event. */
static struct rpos hit_place(struct replayer *r, struct thread *t, uint64_t pc, int watch)
{
	struct rpos p;
	size_t i;

	if (r->traps_events != r->events) {
		r->traps_events = r->events;
		r->ntraps = 0;
	}
	memset(&p, 0, sizeof(p));
	p.events = r->events;
	p.tid = rec_of(r, t);
	p.pc = pc;
	p.watch = watch;
	for (i = 0; i < r->ntraps; i++)
		if (r->traps[i].tid == p.tid && r->traps[i].pc == pc && r->traps[i].watch == watch)
			break;
	if (i == r->ntraps) {
		if (r->ntraps == r->atraps) {
			r->atraps = r->atraps ? 2 * r->atraps : 8;
			r->traps = xrealloc(r->traps, r->atraps * sizeof(*r->traps));
		}
		r->traps[i].tid = p.tid;
		r->traps[i].pc = pc;
		r->traps[i].watch = watch;
		r->traps[i].n = 0;
		r->ntraps++;
	}
	p.n = ++r->traps[i].n;
	return p;
}

static struct rpos event_place(struct replayer *r, int begin)
{
	struct rpos p;

	memset(&p, 0, sizeof(p));
	p.events = r->events;
	p.begin = begin;
	return p;
}

static int is_back(const struct replayer *r, uint64_t pc)
{
	size_t i;

	for (i = 0; i < r->nback; i++)
		if (r->back[i] == pc)
			return 1;
	return 0;
}

static void add_back(struct replayer *r, uint64_t pc)
{
	if (r->nback < BACK_MAX && !is_back(r, pc))
		r->back[r->nback++] = pc;
}

/* Decode the function around pc from the binary (not the tracee: it has
 * INT3s in it) and call fn for each instruction. */
static int each_insn(struct session *s, uint64_t pc, struct gobin_loc *loc,
		     void (*fn)(void *ctx, const cs_insn *in), void *ctx)
{
	unsigned char *code;
	const uint8_t *p;
	size_t left, size;
	uint64_t addr;
	cs_insn *in;

	if (!s->have_bin || !s->cs_detail_open || gobin_pc_lookup(&s->bin, pc, loc) ||
	    loc->end <= loc->entry || loc->end - loc->entry > (1u << 20))
		return -1;
	size = loc->end - loc->entry;
	code = xmalloc(size);
	if (gobin_read_vaddr(&s->bin, loc->entry, code, size)) {
		free(code);
		return -1;
	}
	in = cs_malloc(s->cs_detail);
	p = code;
	left = size;
	addr = loc->entry;
	while (left && cs_disasm_iter(s->cs_detail, &p, &left, &addr, in))
		fn(ctx, in);
	cs_free(in, 1);
	free(code);
	return 0;
}

struct back_scan {
	struct replayer *r;
	struct session *s;
	uint64_t pc;		/* where the thread is */
	uint64_t ret;		/* the return address on its stack, or 0 */
	uint64_t callee;	/* a direct call just before pc: its target */
	int found_fall;
};

static int is_direct_branch(struct session *s, const cs_insn *in, uint64_t *target)
{
	const cs_x86 *x = &in->detail->x86;

	if ((!cs_insn_group(s->cs_detail, in, CS_GRP_JUMP) &&
	     !cs_insn_group(s->cs_detail, in, CS_GRP_CALL)) ||
	    x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return 0;
	*target = (uint64_t)x->operands[0].imm;
	return 1;
}

/* Instructions of pc's function that lead to pc: the one before it (it
 * falls through, or it is a call whose callee's RETs then lead here) and
 * the jumps to it. */
static void scan_here(void *ctx, const cs_insn *in)
{
	struct back_scan *b = ctx;
	uint64_t target;
	int direct = is_direct_branch(b->s, in, &target);

	if (direct && target == b->pc && !cs_insn_group(b->s->cs_detail, in, CS_GRP_CALL))
		add_back(b->r, in->address);
	if (in->address + in->size != b->pc)
		return;
	b->found_fall = 1;
	if (cs_insn_group(b->s->cs_detail, in, CS_GRP_CALL))
		b->callee = direct ? target : (uint64_t)-1;	/* returned from it */
	else if (in->id != X86_INS_JMP && in->id != X86_INS_RET && in->id != X86_INS_UD2)
		add_back(b->r, in->address);
}

/* The call instruction that ends at the return address (pc is a
 * function's entry: it was called). */
static void scan_caller(void *ctx, const cs_insn *in)
{
	struct back_scan *b = ctx;

	if (in->address + in->size == b->ret && cs_insn_group(b->s->cs_detail, in, CS_GRP_CALL))
		add_back(b->r, in->address);
}

/* The callee's RETs (pc is right after a call to it). */
static void scan_rets(void *ctx, const cs_insn *in)
{
	struct back_scan *b = ctx;

	if (in->id == X86_INS_RET)
		add_back(b->r, in->address);
}

/* Where t can have been one instruction before pc: fills r->back, 0
 * when none is known (a return from an indirect call, a handler's). */
static size_t find_back(struct replayer *r, struct session *s, struct thread *t)
{
	struct user_regs_struct regs;
	struct back_scan b;
	struct gobin_loc loc;

	r->nback = 0;
	if (thread_getregs(t, &regs))
		return 0;
	memset(&b, 0, sizeof(b));
	b.r = r;
	b.s = s;
	b.pc = regs.rip;
	if (each_insn(s, regs.rip, &loc, scan_here, &b))
		return 0;
	if (loc.entry == regs.rip && mem_read(t->tid, regs.rsp, &b.ret, sizeof(b.ret)) == 0) {
		struct gobin_loc cl;

		each_insn(s, b.ret - 1, &cl, scan_caller, &b);
	}
	if (b.callee == (uint64_t)-1)
		return 0;	/* back into a callee not known here */
	if (b.callee) {
		struct gobin_loc cl;

		each_insn(s, b.callee, &cl, scan_rets, &b);
	}
	return r->nback;
}

/* After a stop for the debugger: it may have ended the replay, or asked
 * to go back (the run ends, and the next one goes to the place). */
static void gdb_check(struct replayer *r, struct session *s)
{
	struct gdb *g = &r->gdb;

	if (g->killed && !r->stopped) {
		r->stopped = 1;
		stop_replay(s);
		return;
	}
	if (!g->reverse)
		return;
	r->here.steps = g->steps;
	if (g->reverse == 'g') {
		r->seek = SEEK_TO;
		r->target = event_place(r, 0);
		r->target.events = g->goto_event;
		r->seek_steps = 0;
	} else if (g->reverse == 'r') {
		/* vRun: to the start, an event, or a saved place. */
		r->seek = SEEK_TO;
		r->seek_steps = 0;
		memset(&r->target, 0, sizeof(r->target));
		if (g->rerun_kind == 'e') {
			r->target.events = g->goto_event;
		} else if (g->rerun_kind == 'p' && g->goto_event < r->nsaved) {
			r->target = r->saved[g->goto_event];
			r->seek_steps = r->target.steps;
		} else {
			r->target.begin = 1;
		}
	} else if (g->reverse == 's' && r->here.steps == 0) {
		/* One instruction back from a stop of the replay's own: the
		 * last of the instructions that lead here, run by this
		 * thread (gdb_can_step_back found them). */
		r->seek = SEEK_LAST;
		r->target = r->here;
		r->have_last = 0;
		r->back_tid = r->here.tid;
	} else if (g->reverse == 's' && r->here.steps > 0) {
		/* One instruction back: to the same stop, then the steps
		 * before the last. */
		r->seek = SEEK_TO;
		r->target = r->here;
		r->seek_steps = r->here.steps - 1;
	} else {
		/* bc: the latest breakpoint hit before. */
		r->seek = SEEK_LAST;
		r->target = r->here;
		r->have_last = 0;
	}
	g->reverse = 0;
	r->restart = 1;
	stop_replay(s);
}

/* The replay stops for the debugger at place p (t at a trap or picked). */
static int stop_for_gdb(struct replayer *r, struct session *s, struct thread *t,
			const struct rpos *p, int sig)
{
	int moved;

	r->here = *p;
	r->gdb.steps = 0;
	r->gdb.at_begin = 0;
	moved = gdb_stop(&r->gdb, s, t, sig);
	gdb_check(r, s);
	return moved;
}

/* SEEK_TO reached its place: the steps after it are made unseen, then
 * the debugger is told. */
static int seek_arrived(struct replayer *r, struct session *s, struct thread *t,
			const struct rpos *p, int sig)
{
	r->seek = SEEK_NONE;
	if (r->seek_bp) {
		bp_remove(s, t, r->seek_bp);
		r->seek_bp = 0;
	}
	r->gdb.pending_steps = r->seek_steps;
	r->seek_steps = 0;
	r->here = *p;
	r->gdb.steps = 0;
	r->gdb.at_begin = p->begin;
	{
		uint64_t pending = r->gdb.pending_steps;
		int moved = gdb_stop(&r->gdb, s, t, sig);

		/* gdb_stop counted the unseen steps into steps: the place
		 * is target + steps, as it was. */
		(void)pending;
		gdb_check(r, s);
		return moved;
	}
}

/* SEEK_LAST got to its place: run again to the latest hit before it, or
 * to the start when there was none. */
static void seek_last_found(struct replayer *r, struct session *s)
{
	r->seek = SEEK_TO;
	r->seek_steps = 0;
	r->nback = 0;
	r->nback_bps = 0;
	if (r->have_last) {
		r->target = r->last;
	} else {
		memset(&r->target, 0, sizeof(r->target));
		r->target.begin = 1;
	}
	r->restart = 1;
	stop_replay(s);
}

static void rp_exec(struct session *s, struct thread *t, const struct exec_info *e)
{
	struct replayer *r = rep(s);

	(void)e;
	if (e->index == 0 && r->have && r->ev.type == EV_EXEC)
		map_tid(r, (pid_t)r->ev.tid, t);
	if (r->diverged || r->stopped)
		return;
	if (!is_next_for(r, s, t, EV_EXEC)) {
		diverge(r, s, t, "exec'd");
		return;
	}
	if (r->fast_clock) {
		struct vring *g = vring_of(r, t->tgid);

		g->owner = 0;	/* a new image, a new page */
		g->given = 0;
		if (e->vdso_fast != r->ev.vdso_fast) {
			diverge(r, s, t, e->vdso_fast ? "exec'd with gorr's vDSO" :
				"exec'd without gorr's vDSO (it could not be mapped)");
			return;
		}
	}
	consume(r);
	if (e->index == 0) {
		insert_user_breaks(r, s, t);
		/* The debugger gets the program at its first instruction. */
		if (r->gdb.fd >= 0) {
			struct rpos p = event_place(r, 1);

			r->gdb.tg.tgid = t->tgid;
			if (r->seek == SEEK_NONE) {
				stop_for_gdb(r, s, t, &p, SIGTRAP);
				return;
			}
			/* A run again from the start: the debugger's
			 * breakpoints, and one at the place sought. */
			gdb_reinsert(&r->gdb, s, t);
			if (r->target.pc && !r->target.watch && !gdb_has_bp(&r->gdb, r->target.pc) &&
			    bp_insert(s, t, r->target.pc) == 0)
				r->seek_bp = r->target.pc;
			if (r->seek == SEEK_LAST)
				for (r->nback_bps = 0; r->nback_bps < r->nback; r->nback_bps++)
					if (bp_insert(s, t, r->back[r->nback_bps]))
						break;
			if (r->seek == SEEK_TO && r->target.begin)
				seek_arrived(r, s, t, &p, SIGTRAP);
		}
	}
}

static void rp_thread_exit(struct session *s, struct thread *t, int wstatus)
{
	struct replayer *r = rep(s);

	(void)wstatus;
	if (r->diverged || r->stopped)
		return;
	skip_inert(r);
	/* Threads ended by an exit_group or an exec are logged together, in
	 * creation order; thread ids of dead threads may have been reused,
	 * so any exit next in the trace stands for this one. */
	/* Exits are consumed here, not where pick looks for event
	 * breakpoints: a --break at one was passed over silently. */
	if (r->have && r->ev.type == EV_EXIT && check_event_break(r, s, t))
		return;
	if (r->have && r->ev.type == EV_EXIT)
		consume(r);
	/* A thread the program did not end itself (the replay is over,
	 * or diverged) is not a divergence of its own. */
}

static void rp_tsc(struct session *s, struct thread *t, struct tsc_info *ti)
{
	struct replayer *r = rep(s);

	if (r->diverged || r->stopped)
		return;
	if (!is_next_for(r, s, t, EV_RDTSC)) {
		diverge(r, s, t, "read the time-stamp counter");
		return;
	}
	ti->tsc = r->ev.tsc;
	ti->aux = r->ev.aux;
	consume(r);
	arm_next(r, s, t);
}

static void rp_switched(struct session *s, struct thread *t)
{
	(void)s;
	(void)t;
}

static void rp_slice(struct session *s, struct thread *t, const struct user_regs_struct *regs)
{
	(void)s;
	(void)t;
	(void)regs;
}

/* The recorded registers of a slice, as the live ones compare:
 * eflags without the trap and resume flags stepping sets. */
static int regs_match(const struct trace_event *ev, const struct user_regs_struct *live)
{
	struct user_regs_struct want, got = *live;

	if (!ev->regs.p || ev->regs.len != sizeof(want))
		return 0;
	memcpy(&want, ev->regs.p, sizeof(want));
	want.eflags &= ~0x10100ULL;
	got.eflags &= ~0x10100ULL;
	return !memcmp(&want, &got, sizeof(want));
}

/* And the SSE registers, when the recording has them. */
static int sse_match(const struct trace_event *ev, struct thread *t)
{
	unsigned char live[THREAD_SSE_LEN];

	if (ev->type != EV_SLICE || !ev->sse.p || ev->sse.len != sizeof(live))
		return 1;
	return thread_sse(t, live) == 0 && !memcmp(live, ev->sse.p, sizeof(live));
}

/* And the goroutine's live stack, when the recording has its digest
 * (goroutine_stack_hash): a loop with a call keeps its counter in its
 * frame while the callee's registers are the same at every call
 * (compress/gzip's 4 million identical members, encoding/json). */
static int stack_match(struct session *s, struct thread *t, const struct user_regs_struct *regs)
{
	struct replayer *r = rep(s);
	uint64_t h;

	if (r->ev.type != EV_SLICE || !r->ev.stk)
		return 1;
	/* Its top first: one read of 512 bytes, not a digest of up to
	 * 64 KiB, at every pass of a callee whose registers repeat. */
	if (r->ev.stktop.p && r->ev.stktop.len <= GSTACK_TOP_MAX) {
		unsigned char top[GSTACK_TOP_MAX];

		if (thread_read(t, regs->rsp, top, r->ev.stktop.len) ||
		    memcmp(top, r->ev.stktop.p, r->ev.stktop.len))
			return 0;
	}
	return goroutine_stack_hash(s, t, regs, &h, NULL, NULL) == 0 && h == r->ev.stk;
}

static void report_stop(struct replayer *r, struct session *s, struct thread *t,
			const char *why)
{
	struct sbuf sb = SBUF_INIT;
	struct user_regs_struct regs;
	int64_t goid = -1;

	sbuf_addf(&sb, "gorr: %s at event %llu, thread %d", why,
		  (unsigned long long)r->events, (int)rec_of(r, t));
	if (goroutine_id(s, t, &goid) == 0) {
		struct goroutine g;

		/* g0's id is 0: the thread runs runtime code on its system
		 * stack, for the goroutine on its M when there is one. */
		if (goid == 0 && goroutine_of_thread(s, t, &g) == 0)
			sbuf_addf(&sb, " (goroutine %lld, on the system stack)", (long long)g.goid);
		else
			sbuf_addf(&sb, " (goroutine %lld)", (long long)goid);
	}
	sbuf_addc(&sb, '\n');
	if (thread_getregs(t, &regs) == 0) {
		sbuf_adds(&sb, "  pc ");
		print_code_pc(&sb, regs.rip, s->have_bin ? &s->bin : NULL);
		sbuf_addc(&sb, '\n');
	}
	sbuf_adds(&sb, "  stack:\n");
	goroutine_thread_stack(&sb, s, t);
	if (r->goroutines) {
		sbuf_addc(&sb, '\n');
		goroutines_dump(&sb, s, t, 0);
	}
	fputs(sb.buf, stderr);
	sbuf_release(&sb);
	if (!r->cont) {
		r->stopped = 1;
		stop_replay(s);
	}
}

/* t's slice ended at the head of a loop the recorder found it could
 * skip ahead in (harness/sched/loops.h), and t is at that head now, for
 * the first time since its last event (with the recorded registers or
 * not: a loop that only stores has the same ones every lap): step one lap (one that does not
 * leave means none does: its exits test what no lap changes), then give
 * t the recorded registers and the loop's stored bytes, the state the
 * recording reached laps later.  1 when done; 0 when the loop is not
 * the recording's or t left it (the search goes on); -1 when the
 * replay diverged. */
static int skip_loop(struct replayer *r, struct session *s, struct thread *t,
		     struct user_regs_struct *regs)
{
	struct loop_skip ls, rec;
	struct user_regs_struct want, mine;
	int i, k;

	if (!r->ev.regs.p || r->ev.regs.len != sizeof(want) ||
	    loop_unpack_stores(&rec, r->ev.loop_mem.p, r->ev.loop_mem.len) ||
	    thread_getregs(t, regs))
		return 0;
	memcpy(&want, r->ev.regs.p, sizeof(want));
	/* The breakpoint's INT3 hides the head's first byte. */
	bp_remove(s, t, r->slice_pc);
	if (loop_skippable(s, t, regs, &ls) || ls.nstores != rec.nstores)
		goto search;
	for (i = 0; i < ls.nstores; i++)
		if (ls.st[i].addr != rec.st[i].addr || ls.st[i].len != rec.st[i].len)
			goto search;
	/* What no lap writes is the recording's already. */
	mine = *regs;
	loop_regs_merge(&mine, &want, ls.written);
	if (!regs_match(&r->ev, &mine))
		goto search;
	/* It left: this is not the recording's lap. */
	k = loop_step_lap(t, &ls, regs);
	if (k < 0) {
		diverge(r, s, t, "could not step through the loop its timeslice ended in");
		return -1;
	}
	if (k > 0)
		goto search;
	want.eflags &= ~0x10100ULL;
	if (thread_setregs(t, &want))
		goto search;
	for (i = 0; i < rec.nstores; i++)
		if (thread_write(t, rec.st[i].addr, rec.st[i].bytes, rec.st[i].len)) {
			diverge(r, s, t, "could not write what its loop had stored");
			return -1;
		}
	*regs = want;
	r->slice_skips++;
	bp_insert(s, t, r->slice_pc);
	return 1;
search:
	bp_insert(s, t, r->slice_pc);
	return 0;
}

/* Passes of a slice's INT3 before the search moves into the tracee: most
 * slices are found in a few. */
#define COND_AFTER 8

/* Search on for t's slice end with a conditional breakpoint at its pc,
 * which the thread checks itself at each pass (harness/core/condbp.h):
 * t is at the INT3's trap, rewound to pc.  Where it cannot be armed the
 * INT3 stays. */
static void arm_cond(struct replayer *r, struct session *s, struct thread *t)
{
	struct user_regs_struct want;
	int err;

	r->slice_nocond = 1;
	/* The recording's thread passes a breakpoint of its own first
	 * (watch_pass): that pass is counted at the INT3. */
	if (t->pol.skip_pc == r->slice_pc || !r->ev.regs.p || r->ev.regs.len != sizeof(want))
		return;
	memcpy(&want, r->ev.regs.p, sizeof(want));
	if (bp_remove(s, t, r->slice_pc))
		return;
	err = condbp_arm(s, t, r->slice_pc, &want,
			 r->ev.type == EV_SLICE && r->ev.sse.len == THREAD_SSE_LEN ? r->ev.sse.p : NULL,
			 r->ev.type == EV_SLICE ? r->ev.stktop.p : NULL,
			 r->ev.type == EV_SLICE ? r->ev.stktop.len / 8 * 8 : 0);
	if (err) {
		bp_insert(s, t, r->slice_pc);
		return;
	}
	r->slice_cond = 1;
}

/* Whether t, trapped at pc, is where its next event (a slice's end, a
 * forced GC's start) happened in the recording.  A slice that says
 * `visit` ends at exactly that hit of pc since the thread's previous
 * event (the recorder counted: a loop passes a decision point lap after
 * lap, with the same registers as often as not): reaching it with other
 * registers is a divergence, reported here (the replay would otherwise
 * loop on looking for it).  Without `visit`, the first hit whose
 * registers match. */
static int slice_end_here(struct replayer *r, struct session *s, struct thread *t, uint64_t pc,
			  struct user_regs_struct *regs)
{
	int exact = r->ev.type == EV_SLICE && (r->ev.visit || r->ev.laps);

	if (!r->slice_bp || r->slice_tid != t->tid || r->slice_pc != pc ||
	    !(is_next_for(r, s, t, EV_SLICE) || (is_next_for(r, s, t, EV_FAULT) && is_gc_fault(&r->ev))))
		return 0;
	/* Not before the clock reads and buffered calls the recording made
	 * first. */
	if ((r->fast_clock && vclock_pending(r, t)) || (r->fast_sys && vsys_pending(r, t)))
		return 0;
	if (++r->slice_hits != r->ev.visit && exact && !r->ev.laps)
		return 0;
	if (r->ev.type == EV_SLICE && r->ev.loop && !exact && r->slice_hits == 1) {
		int k = skip_loop(r, s, t, regs);

		if (k)
			return k > 0;
	}
	if (thread_getregs(t, regs) == 0 && regs_match(&r->ev, regs)) {
		if (!sse_match(&r->ev, t))
			r->slice_sse_misses++;
		else if (!stack_match(s, t, regs))
			r->slice_stack_misses++;
		else
			return 1;
	}
	if (exact)
		diverge(r, s, t, r->slice_lap ? "reached its recorded timeslice end (its counted lap) "
			"with other registers" : "reached its recorded timeslice end with other registers");
	r->slice_misses++;
	if (!exact && !r->slice_cond && !r->slice_nocond && r->slice_misses >= COND_AFTER)
		arm_cond(r, s, t);
	return 0;
}

/* The slice's breakpoint is gone: t reached its end. */
static void slice_disarm(struct replayer *r, struct session *s, struct thread *t)
{
	if (r->slice_lap)
		count_arm(s, t, 0);
	else if (r->slice_cond)
		condbp_disarm(s, t);
	else
		bp_remove(s, t, r->slice_pc);
	r->slice_lap = 0;
	r->slice_bp = 0;
	r->slice_cond = 0;
}

/* t is at a place the debugger may stop at (one of its breakpoints or
 * watchpoints: counted, mine; or the seek's own breakpoint): stop there,
 * or note it on the way to a place (reverse execution).  1 when the
 * debugger stepped t on, 0 when not, -1 when it did not stop. */
static int gdb_hit(struct replayer *r, struct session *s, struct thread *t, uint64_t pc,
		   int counted)
{
	struct rpos p;

	if (!counted)
		return -1;
	p = hit_place(r, t, pc, r->gdb.watch_hit != NULL);
	switch (r->seek) {
	case SEEK_NONE:
		return stop_for_gdb(r, s, t, &p, SIGTRAP);
	case SEEK_TO:
		if (same_place(&p, &r->target))
			return seek_arrived(r, s, t, &p, SIGTRAP);
		break;
	case SEEK_LAST:
		/* The place itself is before the place plus its steps. */
		if (same_place(&p, &r->target)) {
			if (r->target.steps && !r->nback &&
			    (gdb_has_bp(&r->gdb, pc) || r->gdb.watch_hit)) {
				r->last = p;
				r->have_last = 1;
			}
			seek_last_found(r, s);
			break;
		}
		if (r->nback ? is_back(r, pc) && !r->gdb.watch_hit && p.tid == r->back_tid :
		    gdb_has_bp(&r->gdb, pc) || r->gdb.watch_hit) {
			r->last = p;
			r->have_last = 1;
		}
		break;
	}
	r->gdb.watch_hit = NULL;
	return -1;
}

static int rp_breakpoint(struct session *s, struct thread *t, uint64_t pc)
{
	struct replayer *r = rep(s);
	struct user_regs_struct regs;
	size_t i;
	int stop = 0;

	if (r->gdb.fd >= 0 && t->tgid == r->gdb.tg.tgid) {
		int moved = gdb_step_ends(&r->gdb, s, t, pc) ?
			    gdb_stop(&r->gdb, s, t, SIGTRAP) :	/* a step of the event loop's */
			    gdb_hit(r, s, t, pc, gdb_has_bp(&r->gdb, pc) ||
				    (r->seek_bp && r->seek_bp == pc) ||
				    (r->seek == SEEK_LAST && is_back(r, pc)));

		gdb_check(r, s);
		if (r->stopped || r->restart)
			return BP_STOP;
		/* Stepped on by the debugger: it is not at pc any more. */
		if (moved > 0)
			return BP_TAKEN;
	}
	for (i = 0; i < r->nbreaks; i++)
		if ((r->breaks[i].kind == BRK_FUNC || r->breaks[i].kind == BRK_LINE) &&
		    bsearch(&pc, r->breaks[i].pcs, r->breaks[i].npcs, sizeof(pc), cmp_u64)) {
			char why[600];

			r->breaks[i].hits++;
			snprintf(why, sizeof(why), "breakpoint %s", r->breaks[i].spec);
			report_stop(r, s, t, why);
			if (r->stopped)
				return 1;
		}
	if (t->pol.skip_pc == pc) {
		/* The recording's thread went on over this point first. */
		watch_pass(s, t, pc, 0);
		return stop;
	}
	if (slice_end_here(r, s, t, pc, &regs)) {
		slice_disarm(r, s, t);
		if (r->ev.type == EV_FAULT) {
			/* The forced GC starts here, as recorded; what it
			 * does follows in the trace. */
			int err;

			unsigned int clear = r->ev.clear;

			consume(r);
			err = gocall_gc_start_here(s, t, clear);
			if (err) {
				diverge(r, s, t, "cannot start the recorded forced GC");
				return BP_STOP;
			}
			return BP_TAKEN;
		}
		/* The timeslice ends here, as recorded; where the recording
		 * preempted the goroutine too, so does the replay (its
		 * SIGURG follows in the trace). */
		if (r->ev.preempt && goroutine_preempt(s, t)) {
			diverge(r, s, t, "cannot preempt the recorded goroutine");
			return BP_STOP;
		}
		r->sliced_tid = t->tid;
		if (r->ev.at_bp)
			watch_pass(s, t, pc, 1);
		consume(r);
		stop = BP_STOP;
	}
	return r->diverged ? BP_STOP : stop;
}

/* A --break event:N when the next event is N: reported, before it, on
 * its thread (or on by, the thread an exit event stands for). */
static int check_event_break(struct replayer *r, struct session *s, struct thread *by)
{
	ssize_t i;
	struct thread *t;
	char why[600];

	if (!r->have || (i = event_break_next(r)) < 0 || !(t = by ? by : thread_of(r, s, r->ev.tid)))
		return 0;
	r->breaks[i].hits++;
	snprintf(why, sizeof(why), "breakpoint %s (before it)", r->breaks[i].spec);
	report_stop(r, s, t, why);
	return r->stopped;
}

static struct thread *pick_next(struct session *s);

/* The next thread to run, as the trace says; an interrupt of the
 * debugger's (Ctrl-C) stops the replay there. */
static struct thread *rp_pick(struct session *s)
{
	struct replayer *r = rep(s);
	struct thread *t = pick_next(s);

	if (!t || r->gdb.fd < 0 || t->tgid != r->gdb.tg.tgid)
		return t;
	gdb_arm_watch(&r->gdb, t);
	if (r->seek != SEEK_NONE && !r->target.pc && !r->target.begin &&
	    r->events >= r->target.events) {
		/* A place before an event (monitor goto, an interrupt's). */
		struct rpos p = event_place(r, 0);

		if (r->seek == SEEK_TO)
			seek_arrived(r, s, t, &p, SIGTRAP);
		else
			seek_last_found(r, s);
	} else if (r->seek == SEEK_NONE && gdb_interrupted(&r->gdb)) {
		struct rpos p = event_place(r, 0);

		stop_for_gdb(r, s, t, &p, SIGINT);
	}
	if (r->stopped || r->restart)
		return NULL;
	return t;
}

static struct thread *pick_next(struct session *s)
{
	struct replayer *r = rep(s);

	for (;;) {
		struct thread *t;

		if (r->diverged || r->stopped)
			return NULL;
		if (!r->have) {
			r->ended = 1;
			return NULL;
		}
		if (check_event_break(r, s, NULL))
			return NULL;
		if (r->ev.type == EV_UNKNOWN || r->ev.type == EV_SAMPLE) {
			skip_inert(r);
			continue;
		}
		if (r->ev.type == EV_SYSCALL && r->ev.fast && r->fast_sys) {
			struct thread *caller = thread_of(r, s, r->ev.tid);

			/* Made without a stop: its thread's ring answers it,
			 * and the thread ran, as with a clock read. */
			if (caller && r->seek != SEEK_NONE && !r->target.pc && !r->target.begin &&
			    r->events >= r->target.events)
				return caller;
			if (caller) {
				r->cur_tid = caller->tid;
				if (r->sliced_tid == caller->tid)
					r->sliced_tid = 0;
			}
			queue_vsys(r, s);
			if (caller && caller->pol.held == 1 && caller->in_syscall) {
				/* It waits at its call for this record. */
				int64_t ret;

				if (vsys_answer(r, s, caller, &ret)) {
					caller->pol.held = 0;
					caller->pol.replayed = 1;
					complete_call(s, caller, ret);
				}
			}
			continue;
		}
		if (r->ev.type == EV_SYSCALL && r->ev.vdso) {
			struct thread *reader = thread_of(r, s, r->ev.tid);

			/* The debugger goes to before this read (monitor goto N):
			 * its thread is the place; the read is answered when
			 * it is made (vclock_serve). */
			if (reader && r->seek != SEEK_NONE && !r->target.pc && !r->target.begin &&
			    r->events >= r->target.events)
				return reader;
			/* Read without a stop: its thread's ring answers it.
			 * The thread ran, as with any event of its own. */
			if (reader) {
				r->cur_tid = reader->tid;
				if (r->sliced_tid == reader->tid)
					r->sliced_tid = 0;
			}
			queue_vclock(r, s);
			if (reader && reader->pol.held == 1 && reader->call.pc == vdso_slow_pc()) {
				/* It waits at the stopping SYSCALL for this read. */
				int64_t ret;

				if (vclock_answer(r, s, reader, &ret)) {
					reader->pol.held = 0;
					reader->pol.replayed = 1;
					complete_call(s, reader, ret);
				}
			}
			continue;
		}
		if (r->ev.type == EV_END) {
			r->ended = 1;
			return NULL;
		}
		t = thread_of(r, s, r->ev.tid);
		if (t && r->ev.type != EV_RUN && r->cur_tid && t->tid != r->cur_tid &&
		    !(r->ev.type == EV_SYSCALL && t->pol.held)) {
			/* Another thread's event with no switch before it: the
			 * running thread causes it (exits of the threads its
			 * exit_group ends): run that one. */
			struct thread *cur = session_thread(s, r->cur_tid);

			if (cur && cur->rs == RS_READY && !cur->pol.held)
				return cur;
		}
		if (t && r->ev.type != EV_RUN && !(r->ev.type == EV_SYSCALL && t->pol.held)) {
			r->cur_tid = t->tid;
			/* It runs on from its timeslice's end: not parked there. */
			if (r->sliced_tid == t->tid && r->ev.type != EV_SLICE)
				r->sliced_tid = 0;
		}
		if (!t && gone_in_replay(r, s, (pid_t)r->ev.tid)) {
			/* A thread its process's fatal signal ended at once
			 * here, while the recording still saw it finish a
			 * call gorr had parked (a nanosleep) before it died:
			 * what it did after is passed over, its exit too. */
			consume(r);
			continue;
		}
		if (!t) {
			diverge(r, s, NULL, "");
			fprintf(stderr, "  (thread %lld of the trace does not exist in the replay)\n",
				(long long)r->ev.tid);
			return NULL;
		}
		switch (r->ev.type) {
		case EV_RUN: {
			/* The thread that ran last switched away where it
			 * could not go on (a parked call, a timeslice, its
			 * exit): it must reach that point first. */
			struct thread *cur = r->cur_tid ? session_thread(s, r->cur_tid) : NULL;

			if (cur && cur != t && cur->rs == RS_READY && !cur->pol.held &&
			    r->sliced_tid != cur->tid)
				return cur;
			consume(r);
			r->cur_tid = t->tid;
			r->sliced_tid = 0;
			continue;
		}
		case EV_SYSCALL:
			if (t->pol.held == 1) {
				/* Parked in the recording: its call completes now. */
				if (!call_matches(r, t)) {
					diverge_call(r, s, t);
					return NULL;
				}
				switch (remade_held(r, s, t)) {
				case -1:
					return NULL;
				case 1:
					return t;	/* it makes the call again */
				}
				t->pol.held = 0;
				apply_outputs(r, t);
				t->pol.replayed = 1;
				complete_call(s, t, r->ev.ret);
				consume(r);
				continue;
			}
			if (t->pol.held == 2) {
				struct user_regs_struct regs;

				t->pol.held = 0;
				apply_outputs(r, t);
				if (thread_getregs(t, &regs) == 0) {
					regs.rax = (uint64_t)r->ev.ret;
					thread_setregs(t, &regs);
				}
				consume(r);
				continue;
			}
			return t;
		case EV_SIGNAL:
			if (t->pol.held == 1 && !is_synchronous(&r->ev) && rewind_held_call(t)) {
				diverge(r, s, t, "could not be taken back out of its call for the signal");
				return NULL;
			}
			send_signal(r, t);
			return t;
		case EV_CLONE:
		case EV_EXEC:
			return remade_held(r, s, t) < 0 ? NULL : t;
		case EV_EXIT:
			/* Killed by SIGKILL in the recording, from outside
			 * the thread (a parent's kill(2), which replay
			 * completes without sending): the replay's copy would
			 * go on, so the kill is sent now (tests/progs/
			 * killchild: killed during its dynamic loading). */
			if (WIFSIGNALED(r->ev.wstatus) && WTERMSIG(r->ev.wstatus) == SIGKILL)
				send_once(r, t, SIGKILL);
			return t;
		case EV_FAULT:
			if (!is_gc_fault(&r->ev)) {
				consume(r);
				continue;
			}
			/* Reached like a timeslice's end. */
			/* fall through */
		case EV_SLICE:
			if (!r->ev.regs.p) {
				/* It switched away right after its last event:
				 * it is there now. */
				r->sliced_tid = t->tid;
				consume(r);
				continue;
			}
			if (arm_slice(r, s, t))
				return NULL;
			return t;
		default:
			return t;
		}
	}
}

/* A replay must end: a thread that runs this long without reaching its
 * next event (a slice end whose pc it passes lap after lap with other
 * registers, or a loop it should have left) is a divergence.  A Go
 * program's recording has an event every timeslice (20 ms of CPU while
 * sysmon could run), and replay passes a slice's pc about 11,000 times
 * a second looking for its end (measured: tests/progs/tightloop count,
 * 33,173 passes in 3 s), so a minute is far beyond any real slice but
 * a loop skip_loop could not skip. */
static void rp_tick(struct session *s, struct thread *t)
{
	struct replayer *r = rep(s);
	int64_t now = session_now(s);
	char did[256];

	if (r->diverged || r->stopped || !r->stuck_ns)
		return;
	if (r->progress_events != r->events || !r->progress_ns) {
		r->progress_events = r->events;
		r->progress_ns = now;
		return;
	}
	if (now - r->progress_ns < r->stuck_ns)
		return;
	/* Stopped, for its stack; the stop itself is not handled: the
	 * replay ends here. */
	thread_halt(t);
	if (r->slice_bp && r->slice_tid == t->tid && r->slice_cond)
		snprintf(did, sizeof(did), "ran %lld s without reaching it: it passed pc %#llx with other "
			 "registers (checked in the program, not counted; %llu times only the SSE ones "
			 "and %llu times only the goroutine's stack at a trap; see --stuck-after)",
			 (long long)((now - r->progress_ns) / 1000000000LL),
			 (unsigned long long)r->slice_pc, (unsigned long long)r->slice_sse_misses,
			 (unsigned long long)r->slice_stack_misses);
	else if (r->slice_bp && r->slice_tid == t->tid)
		snprintf(did, sizeof(did), "ran %lld s without reaching it: it passed pc %#llx %llu times "
			 "with other registers (%llu times only the SSE ones, %llu times only the "
			 "goroutine's stack; see --stuck-after)",
			 (long long)((now - r->progress_ns) / 1000000000LL),
			 (unsigned long long)r->slice_pc, (unsigned long long)r->slice_misses,
			 (unsigned long long)r->slice_sse_misses, (unsigned long long)r->slice_stack_misses);
	else
		snprintf(did, sizeof(did), "ran %lld s without reaching it (see --stuck-after)",
			 (long long)((now - r->progress_ns) / 1000000000LL));
	diverge(r, s, t, did);
}

static const struct engine_ops replay_ops = {
	.wants = engine_wants_nondet,
	.exec = rp_exec,
	.syscall_entry = rp_syscall_entry,
	.syscall_exit = rp_syscall_exit,
	.signal = rp_signal,
	.clone = rp_clone,
	.thread_exit = rp_thread_exit,
	.tsc = rp_tsc,
	.switched = rp_switched,
	.slice = rp_slice,
	.pick = rp_pick,
	.breakpoint = rp_breakpoint,
	.tick = rp_tick,
	.starting = rp_starting,
};

static char **str_array(const msgpack_object *o)
{
	char **v;
	uint32_t i;

	if (!o || o->type != MSGPACK_OBJECT_ARRAY)
		return NULL;
	v = xcalloc(o->via.array.size + 1, sizeof(*v));
	for (i = 0; i < o->via.array.size; i++) {
		const msgpack_object *e = &o->via.array.ptr[i];

		if (e->type != MSGPACK_OBJECT_STR) {
			v[i] = xstrdup("");
			continue;
		}
		v[i] = xmalloc(e->via.str.size + 1);
		memcpy(v[i], e->via.str.ptr, e->via.str.size);
		v[i][e->via.str.size] = '\0';
	}
	return v;
}

static char *str_of(const msgpack_object *h, const char *key)
{
	uint32_t n;
	const char *p = mp_get_raw(h, key, &n);
	char *s;

	if (!p)
		return NULL;
	s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void free_array(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int read_header(struct replayer *r)
{
	const msgpack_object *h;
	uint32_t n;
	const char *dg;
	int err = trace_reader_open(&r->rd, r->path);

	r->next_index = 0;
	if (err) {
		error("cannot open '%s': %s", r->path, strerror(-err));
		return -1;
	}
	r->st = trace_next(&r->rd, &h);
	if (r->st != TRACE_OBJECT || h->type != MSGPACK_OBJECT_MAP ||
	    !mp_is_str(mp_get(h, "magic"), TRACE_MAGIC)) {
		error("'%s' is %s", r->path, r->st == TRACE_EOF ? "empty: not a gorr trace" : "not a gorr trace");
		return -1;
	}
	if (mp_get_uint(h, "version", 0) != TRACE_VERSION) {
		error("'%s' is in trace format %llu; this gorr replays format %d", r->path,
		      (unsigned long long)mp_get_uint(h, "version", 0), TRACE_VERSION);
		return -1;
	}
	r->argv = str_array(mp_get(h, "argv"));
	r->envp = str_array(mp_get(h, "envp"));
	r->exe = str_of(h, "exe");
	r->cwd = str_of(h, "cwd");
	r->kind = str_of(h, "kind");
	r->seed = mp_get_uint(h, "seed", 0);
	r->cpus = (int)mp_get_int(h, "cpus", 0);
	r->fast_clock = mp_get(h, "fast_clock") != NULL;
	r->fast_sys = r->fast_clock && mp_get(h, "fast_sys") != NULL;
	r->counted = mp_get(h, "counted") != NULL;
	dg = mp_get_raw(h, "exe_sha256", &n);
	if (!r->argv || !r->argv[0] || !r->exe || !r->envp || !dg || n != 32) {
		error("'%s' has an incomplete header: cannot replay it", r->path);
		return -1;
	}
	memcpy(r->digest, dg, 32);
	advance(r);
	return 0;
}

static const char replay_usage[] =
	"usage: gorr replay [options] TRACE\n"
	"\n"
	"Re-execute a trace made by gorr record or gorr run: the same program runs\n"
	"again, every recorded syscall result and signal comes back at its\n"
	"recorded point, its threads run in the recorded order, and its output\n"
	"to stdout and stderr appears again. gorr exits with the recorded status.\n"
	"When the program does anything the trace does not have next, the replay\n"
	"has diverged: gorr says where, with both sides and a stack, and exits 125.\n"
	"\n"
	"options:\n"
	"  -b, --break SPEC    stop at FUNC (a Go function: main.handle,\n"
	"                      net/http.(*conn).serve), FILE.go:LINE, or event:N\n"
	"                      (before event N); print the event number, thread,\n"
	"                      goroutine, pc and stack; repeatable\n"
	"      --continue      go on after each breakpoint instead of stopping\n"
	"      --gdb [HOST:]PORT\n"
	"                      serve a debugger (gdb's remote protocol) on PORT of\n"
	"                      HOST (127.0.0.1; port 0 picks one): the replay waits\n"
	"                      for it and stops at the program's first instruction;\n"
	"                      writes to the program's memory and registers are\n"
	"                      refused (gorr debug starts gdb for you)\n"
	"      --goroutines    at each breakpoint, also list the goroutines as Go's\n"
	"                      tracebacks do (state, stack, created by)\n"
	"      --stuck-after DUR\n"
	"                      a thread that runs this long without reaching its\n"
	"                      next event has diverged (default 60s; 0: never)\n"
	"  -v, --verbose       print each event on stderr as it is replayed\n"
	"  -q, --quiet         no notices from gorr\n"
	"  -h, --help          show this help\n";

static int parse_break(struct replayer *r, const char *spec)
{
	struct user_break b;
	const char *colon = strrchr(spec, ':');
	uint64_t n;

	memset(&b, 0, sizeof(b));
	b.spec = xstrdup(spec);
	if (!strncmp(spec, "event:", 6)) {
		if (parse_u64(spec + 6, &n) < 0) {
			error("--break: '%s' is not event:N", spec);
			free(b.spec);
			return -1;
		}
		b.kind = BRK_EVENT;
		b.event = n;
	} else if (colon && colon > spec && strstr(spec, ".go:")) {
		if (parse_u64(colon + 1, &n) < 0 || !n) {
			error("--break: '%s' is not FILE.go:LINE", spec);
			free(b.spec);
			return -1;
		}
		b.kind = BRK_LINE;
		b.event = n;	/* the line, until resolved */
	} else {
		b.kind = BRK_FUNC;
	}
	r->breaks = xrealloc(r->breaks, (r->nbreaks + 1) * sizeof(*r->breaks));
	r->breaks[r->nbreaks++] = b;
	return 0;
}

/* Function and line breakpoints, resolved with the pclntab. */
static int resolve_breaks(struct replayer *r, struct session *s)
{
	size_t i;

	for (i = 0; i < r->nbreaks; i++) {
		struct user_break *b = &r->breaks[i];

		if (b->kind == BRK_EVENT)
			continue;
		if (!s->have_bin || !s->bin.pcln) {
			error("--break '%s': '%s' has no Go symbol table", b->spec, s->exe);
			return -1;
		}
		if (b->kind == BRK_FUNC) {
			b->npcs = gobin_func_pcs(&s->bin, b->spec, b->pcs, GOBIN_COPIES_MAX);
			if (!b->npcs) {
				error("--break: no function '%s' in '%s'", b->spec, s->exe);
				return -1;
			}
		} else {
			char file[PATH_MAX];
			size_t flen = (size_t)(strrchr(b->spec, ':') - b->spec);

			snprintf(file, sizeof(file), "%.*s", (int)flen, b->spec);
			b->npcs = gobin_line_pcs(&s->bin, file, (int)b->event, b->pcs, GOBIN_COPIES_MAX, NULL);
			if (!b->npcs) {
				error("--break: no code at '%s' in '%s'", b->spec, s->exe);
				return -1;
			}
		}
		if (b->npcs == GOBIN_COPIES_MAX)
			warning("--break '%s': it has more than %d copies (inlined); "
				"stopping at the first %d", b->spec, GOBIN_COPIES_MAX, GOBIN_COPIES_MAX);
	}
	return 0;
}

static void insert_user_breaks(struct replayer *r, struct session *s, struct thread *t)
{
	size_t i, j;

	for (i = 0; i < r->nbreaks; i++) {
		/* A place inside a loop's counting window (a replay of a
		 * counted run, harness/core/count.h) is stopped at at the
		 * window's start, a few instructions before it. */
		for (j = 0; j < r->breaks[i].npcs; j++) {
			uint64_t win = count_window_start(s, r->breaks[i].pcs[j]);

			if (win)
				r->breaks[i].pcs[j] = win;
		}
		if (r->breaks[i].npcs)
			qsort(r->breaks[i].pcs, r->breaks[i].npcs, sizeof(uint64_t), cmp_u64);
		for (j = 0; j < r->breaks[i].npcs; j++)
			if (bp_insert(s, t, r->breaks[i].pcs[j]))
				warning("cannot set breakpoint '%s' at %#" PRIx64,
					r->breaks[i].spec, r->breaks[i].pcs[j]);
	}
}

/* The trace reader and what it read from the header. */
static void release_header(struct replayer *r)
{
	trace_reader_close(&r->rd);
	free_array(r->argv);
	free_array(r->envp);
	free(r->exe);
	free(r->cwd);
	free(r->kind);
	sbuf_release(&r->why);
}

static void replayer_release(struct replayer *r)
{
	size_t i;

	release_header(r);
	if (r->gdb_listen_fd >= 0)
		close(r->gdb_listen_fd);
	r->gdb_listen_fd = -1;
	gdb_release(&r->gdb);
	free(r->map);
	free(r->traps);
	free(r->saved);
	vclock_release(r);
	while (r->nimages)
		standin_remove(&r->images[--r->nimages]);
	free(r->images);
	for (i = 0; i < r->nbreaks; i++)
		free(r->breaks[i].spec);
	free(r->breaks);
}

/* The program is gone from where it was recorded (a go test binary
 * whose build folder go test deleted: gorr hunt's saved trace names the
 * original path, which its copy ran as).  A file of the same name beside
 * the trace with the recorded SHA-256, as hunt saves its copy, is put at
 * that path for the replay.  1 when it was. */
static int beside_trace(struct replayer *r, const char *trace_abs, struct standin *st)
{
	const char *base = strrchr(r->exe, '/'), *slash = trace_abs ? strrchr(trace_abs, '/') : NULL;
	struct sbuf p = SBUF_INIT;
	unsigned char d[32];
	int ok = 0;

	if (r->exe[0] != '/' || !base || !slash)
		return 0;
	sbuf_add(&p, trace_abs, (size_t)(slash - trace_abs) + 1);
	sbuf_adds(&p, base + 1);
	if (sha256_file(p.buf, d) == 0 && !memcmp(d, r->digest, 32) &&
	    standin_place(st, r->exe, p.buf) == 0) {
		if (!r->quiet)
			notice("'%s' is gone: replaying its copy '%s' there", r->exe, p.buf);
		ok = 1;
	}
	sbuf_release(&p);
	return ok;
}

/* The trace from its start again, for a new run of the same replay: its
 * state back to a fresh one's, its options and the debugger kept.  0, or
 * -1 after an error. */
static int replayer_rewind(struct replayer *r)
{
	struct replayer keep;

	vclock_release(r);
	keep = *r;

	release_header(r);
	memset(r, 0, sizeof(*r));
	r->path = keep.path;
	r->breaks = keep.breaks;
	r->nbreaks = keep.nbreaks;
	r->cont = keep.cont;
	r->verbose = keep.verbose;
	r->goroutines = keep.goroutines;
	r->quiet = keep.quiet;
	r->stuck_ns = keep.stuck_ns;
	r->recorded_status = -1;
	r->map = keep.map;
	r->amap = keep.amap;
	r->gdb = keep.gdb;
	r->gdb_listen_fd = -1;
	r->gdb_port = keep.gdb_port;
	r->gdb_silent = keep.gdb_silent;
	memcpy(r->gdb_host, keep.gdb_host, sizeof(r->gdb_host));
	r->traps = keep.traps;
	r->atraps = keep.atraps;
	r->seek = keep.seek;
	r->target = keep.target;
	r->seek_steps = keep.seek_steps;
	r->echoed = keep.echoed;
	r->saved = keep.saved;
	r->nsaved = keep.nsaved;
	r->images = keep.images;
	r->nimages = keep.nimages;
	memcpy(r->back, keep.back, sizeof(r->back));
	r->nback = keep.nback;
	r->back_tid = keep.back_tid;
	r->gdb.tg.ctx = r;
	return read_header(r) ? -1 : 0;
}

static pid_t gdb_trace_tid(void *ctx, struct thread *t)
{
	return rec_of(ctx, t);
}

/* bs at a stop of the replay's own: whether the instruction before is
 * known (then r->back holds where it can be). */
static int gdb_can_step_back(void *ctx, struct thread *t)
{
	struct replayer *r = ctx;

	return r->here.begin ? 0 : find_back(r, r->session, t) > 0;
}

static int gdb_save_place(void *ctx)
{
	struct replayer *r = ctx;

	r->saved = xrealloc(r->saved, (r->nsaved + 1) * sizeof(*r->saved));
	r->saved[r->nsaved] = r->here;
	r->saved[r->nsaved].steps = r->gdb.steps;
	return (int)r->nsaved++;
}

static uint64_t gdb_when(void *ctx)
{
	return ((struct replayer *)ctx)->events;
}

int cmd_replay(int argc, char **argv)
{
	struct replayer r;
	struct session_opts o;
	struct session s;
	unsigned char digest[32];
	struct standin st = { NULL, NULL };
	char *trace_abs;
	int i, err, code;

	memset(&r, 0, sizeof(r));
	r.recorded_status = -1;
	r.gdb.fd = -1;
	r.gdb_listen_fd = -1;
	r.stuck_ns = 60LL * 1000000000LL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(replay_usage, stdout);
			replayer_release(&r);
			return 0;
		} else if (!strcmp(a, "-b") || !strcmp(a, "--break")) {
			if (++i >= argc) {
				replayer_release(&r);
				return cli_usage_error(replay_usage, "'%s' needs a place to stop", a);
			}
			if (parse_break(&r, argv[i])) {
				replayer_release(&r);
				return cli_usage_error(replay_usage, NULL);
			}
		} else if (!strncmp(a, "--break=", 8)) {
			if (parse_break(&r, a + 8)) {
				replayer_release(&r);
				return cli_usage_error(replay_usage, NULL);
			}
		} else if (!strcmp(a, "--continue")) {
			r.cont = 1;
		} else if (!strncmp(a, "--gdb-fd=", 9)) {
			/* gorr debug's listening socket (internal). */
			struct sockaddr_in sa;
			socklen_t sl = sizeof(sa);

			r.gdb_listen_fd = atoi(a + 9);
			r.gdb_silent = 1;
			if (getsockname(r.gdb_listen_fd, (struct sockaddr *)&sa, &sl) == 0)
				r.gdb_port = ntohs(sa.sin_port);
		} else if (!strcmp(a, "--gdb") || !strncmp(a, "--gdb=", 6)) {
			const char *v = a[5] == '=' ? a + 6 : ++i < argc ? argv[i] : NULL;

			if (!v) {
				replayer_release(&r);
				return cli_usage_error(replay_usage, "'--gdb' needs [HOST:]PORT to listen on");
			}
			if (r.gdb_listen_fd >= 0)
				close(r.gdb_listen_fd);
			r.gdb_listen_fd = gdb_listen(v, &r.gdb_port, r.gdb_host);
			if (r.gdb_listen_fd < 0) {
				replayer_release(&r);
				return EXIT_GORR_FAILURE;
			}
		} else if (!strcmp(a, "--goroutines")) {
			r.goroutines = 1;
		} else if (!strcmp(a, "--stuck-after") || !strncmp(a, "--stuck-after=", 14)) {
			const char *v = a[13] == '=' ? a + 14 : ++i < argc ? argv[i] : NULL;

			if (!v || parse_duration(v, &r.stuck_ns) < 0) {
				replayer_release(&r);
				return cli_usage_error(replay_usage, "'--stuck-after' needs a duration "
						       "(60s, 500ms, 0), not '%s'", v ? v : "");
			}
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			r.verbose = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			r.quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			replayer_release(&r);
			return cli_usage_error(replay_usage, "unknown option '%s'", a);
		} else if (!r.path) {
			r.path = a;
		} else {
			replayer_release(&r);
			return cli_usage_error(replay_usage, "more than one trace given");
		}
	}
	if (!r.path) {
		replayer_release(&r);
		return cli_usage_error(replay_usage, "no trace given");
	}
	if (read_header(&r)) {
		replayer_release(&r);
		return 1;
	}
	/* The same program, started the same way: the same path string
	 * from the same directory, the same arguments and environment, so
	 * that its stack is laid out as it was. */
	trace_abs = realpath(r.path, NULL);
	if (r.cwd && chdir(r.cwd) < 0 && r.exe[0] != '/')
		warning("cannot enter '%s' (%s): addresses may differ from the recording",
			r.cwd, strerror(errno));
	if (sha256_file(r.exe, digest) < 0) {
		if (!beside_trace(&r, trace_abs, &st)) {
			error("cannot read '%s', the program of '%s'", r.exe, r.path);
			free(trace_abs);
			replayer_release(&r);
			return 1;
		}
		memcpy(digest, r.digest, 32);
	}
	free(trace_abs);
	if (memcmp(digest, r.digest, 32)) {
		error("'%s' was recorded from another build of '%s' (its SHA-256 differs): "
		      "refusing to replay", r.path, r.exe);
		replayer_release(&r);
		return 1;
	}
	cli_session_defaults(&o);
	o.argv = r.argv;
	o.envp = r.envp;
	o.exe = r.exe;
	o.seed = r.seed;
	o.seed_given = 1;
	o.fast_clock = r.fast_clock ? VDSO_REPLAY : VDSO_SLOW;
	/* Under a debugger the program's code stays as it is (its stepping
	 * would go through the trampolines): counted slices are then found
	 * by their registers, as any other. */
	o.counted = r.counted && r.gdb.fd < 0 && r.gdb_listen_fd < 0;
	o.fast_sys = r.fast_sys ? VDSO_REPLAY : VDSO_SLOW;
	o.quiet = 1;
again:
	r.session = &s;
	err = session_init(&s, &o, &replay_ops, &r);
	if (!err)
		err = resolve_breaks(&r, &s);
	if (err) {
		session_release(&s);
		standin_remove(&st);
		replayer_release(&r);
		return EXIT_GORR_FAILURE;
	}
	if (r.gdb_listen_fd >= 0 && r.gdb.fd < 0) {
		struct gdb_target tg = { &r, gdb_trace_tid, gdb_when, gdb_save_place, gdb_can_step_back, r.exe, 0 };
		int lfd = r.gdb_listen_fd;

		/* rr's words, which Delve's rr backend reads (pkg/proc/
		 * gdbserial/rr.go): the line after "Launch debugger with". */
		if (!r.gdb_silent)
			fprintf(stderr, "gorr: waiting for a debugger on %s:%d; Launch debugger with\n"
				"  'gdb' -l 10000 -ex 'set sysroot /' -ex 'target extended-remote "
				"%s:%d' %s\n", r.gdb_host, r.gdb_port, r.gdb_host, r.gdb_port, r.exe);
		r.gdb_listen_fd = -1;
		if (gdb_init(&r.gdb, lfd, &tg)) {
			session_release(&s);
			standin_remove(&st);
			replayer_release(&r);
			return EXIT_GORR_FAILURE;
		}
	}
	err = session_spawn(&s);
	if (!err)
		err = session_run(&s);
	if (r.restart && r.gdb.fd >= 0 && !r.gdb.killed) {
		/* Reverse execution: the same replay again, from the start,
		 * to the place the debugger goes back to. */
		if (r.events > r.echoed)
			r.echoed = r.events;
		session_kill(&s);
		session_release(&s);
		if (replayer_rewind(&r) == 0) {
			o.argv = r.argv;
			o.envp = r.envp;
			o.exe = r.exe;
			goto again;
		}
		standin_remove(&st);
		replayer_release(&r);
		return EXIT_GORR_FAILURE;
	}
	if (r.gdb.fd >= 0 && s.leader_done)
		gdb_exited(&r.gdb, s.leader_wstatus);
	if (r.have && r.ev.type == EV_END) {
		r.recorded_status = r.ev.status;
		r.recorded_leaks = r.ev.leaks;
	}
	if (r.diverged) {
		code = EXIT_GORR_FAILURE;
	} else if (r.stopped) {
		code = 0;
	} else if (r.st == TRACE_TRUNCATED || r.st == TRACE_CORRUPT) {
		error("%s: %s after event %llu: replayed that far", r.path,
		      r.st == TRACE_TRUNCATED ? "truncated" : "corrupt data",
		      (unsigned long long)r.events);
		code = EXIT_GORR_FAILURE;
	} else if (!s.leader_done && r.have && r.ev.type == EV_END && r.ev.hang) {
		/* The recording ended in a hang: so does the replay. */
		if (!r.quiet)
			notice("the recording hung here, after event %llu: so does the replay",
			       (unsigned long long)r.events);
		code = EXIT_GORR_HANG;
	} else if (!s.leader_done) {
		if (r.ended && r.recorded_status < 0)
			error("%s: the recording was cut short after event %llu: replayed that far",
			      r.path, (unsigned long long)r.events);
		else
			error("%s: the program did not end where the recording did (event %llu)",
			      r.path, (unsigned long long)r.events);
		code = EXIT_GORR_FAILURE;
	} else {
		code = session_exit_code(&s);
		if (!r.quiet && r.recorded_status >= 0 && code != r.recorded_status)
			warning("the replay exited %d, the recording %d", code, r.recorded_status);
		/* The recording's --leaks verdict is the replay's too: the same
		 * goroutines are blocked at the same exit. */
		if (code == 0 && r.recorded_leaks) {
			error("%llu goroutine%s leaked in the recording: blocked when the program "
			      "exited (gorr run --leaks lists them)", (unsigned long long)r.recorded_leaks,
			      r.recorded_leaks == 1 ? "" : "s");
			code = EXIT_GORR_LEAKS;
		}
	}
	/* A breakpoint the replay never reached is said, not passed over
	 * in silence (an event past the trace's end, a function this run
	 * did not call). */
	if (!r.diverged && !r.stopped && !r.quiet) {
		size_t b;

		for (b = 0; b < r.nbreaks; b++)
			if (!r.breaks[b].hits)
				notice("breakpoint %s was never reached (the replay ended after event %llu)",
				       r.breaks[b].spec, (unsigned long long)r.events);
	}
	session_release(&s);
	standin_remove(&st);
	replayer_release(&r);
	return err && !r.diverged && !r.stopped ? EXIT_GORR_FAILURE : code;
}

static const char debug_usage[] =
	"usage: gorr debug [replay options] TRACE\n"
	"\n"
	"Replay TRACE under gdb, as rr replay does: gorr serves the replay on a\n"
	"local port (gorr replay --gdb) and starts gdb connected to it, stopped\n"
	"at the program's first instruction.  Break, continue, step, look at\n"
	"threads, goroutines (Go's runtime-gdb.py: info goroutines), memory and\n"
	"registers as in a live session; the run is the recorded one.  Writes to\n"
	"the program's memory and registers are refused, so are calls of its\n"
	"functions.  'when' prints the current event number, 'goto N' moves\n"
	"to before event N; reverse-continue, reverse-next, reverse-step and\n"
	"reverse-stepi run the replay again from the start, silently.  The\n"
	"replay options are gorr replay's (gorr replay --help).  GORR_GDB names\n"
	"the gdb to run (default: gdb on the PATH).\n";

int cmd_debug(int argc, char **argv)
{
	struct replayer r;
	char fdopt[32], target[64], **args;
	const char *gdb = getenv("GORR_GDB") ? getenv("GORR_GDB") : "gdb";
	int i, lfd, port;
	pid_t pid;

	memset(&r, 0, sizeof(r));
	r.gdb.fd = -1;
	r.gdb_listen_fd = -1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(debug_usage, stdout);
			return 0;
		}
		if (argv[i][0] != '-')
			r.path = argv[i];
	}
	if (!r.path)
		return cli_usage_error(debug_usage, "no trace given");
	if (read_header(&r)) {
		replayer_release(&r);
		return EXIT_GORR_FAILURE;
	}
	lfd = gdb_listen("0", &port, NULL);
	if (lfd < 0) {
		replayer_release(&r);
		return EXIT_GORR_FAILURE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error("cannot fork: %s", strerror(errno));
		close(lfd);
		replayer_release(&r);
		return EXIT_GORR_FAILURE;
	}
	if (pid == 0) {
		/* The replay in a process group of its own: the terminal's
		 * Ctrl-C goes to gdb, which sends the server an interrupt;
		 * a SIGINT to the program would make the replay diverge. */
		setpgid(0, 0);
		args = xcalloc((size_t)argc + 2, sizeof(*args));
		args[0] = argv[0];
		snprintf(fdopt, sizeof(fdopt), "--gdb-fd=%d", lfd);
		args[1] = fdopt;
		for (i = 1; i < argc; i++)
			args[i + 1] = argv[i];
		replayer_release(&r);
		_exit(cmd_replay(argc + 1, args));
	}
	close(lfd);
	snprintf(target, sizeof(target), "target remote 127.0.0.1:%d", port);
	{
		char *gargv[] = {
			(char *)gdb, "-q",
			/* Go's runtime-gdb.py (info goroutines) loads from
			 * the binary's .debug_gdb_scripts section. */
			"-iex", "set auto-load safe-path /",
			"-ex", "set sysroot /",
			"-ex", target,
			/* goto N and when: the monitor commands, with gdb's
			 * caches of registers and frames dropped after a
			 * move (gdb does not expect monitor to move the
			 * program). */
			"-ex", "python exec(\"class GorrGoto(gdb.Command):\\n"
			"  '''goto N: move the replay to before event N of the trace.'''\\n"
			"  def __init__(self): super().__init__('goto', gdb.COMMAND_RUNNING)\\n"
			"  def invoke(self, arg, tty):\\n"
			"    gdb.execute('monitor goto ' + arg)\\n"
			"    gdb.execute('maintenance flush register-cache')\\n"
			"GorrGoto()\")",
			"-ex", "python exec(\"class GorrWhen(gdb.Command):\\n"
			"  '''when: the replay's current event number.'''\\n"
			"  def __init__(self): super().__init__('when', gdb.COMMAND_STATUS)\\n"
			"  def invoke(self, arg, tty): gdb.execute('monitor when')\\n"
			"GorrWhen()\")",
			r.exe, NULL,
		};

		execvp(gdb, gargv);
	}
	error("cannot run '%s': %s", gdb, strerror(errno));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	replayer_release(&r);
	return EXIT_GORR_FAILURE;
}
