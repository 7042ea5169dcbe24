#define _GNU_SOURCE
#include "recorder/record.h"
#include "harness/go/backtrace.h"
#include "harness/core/breakpoint.h"
#include "harness/core/vdso.h"
#include "harness/go/gocall.h"
#include "harness/go/goroutines.h"
#include "harness/core/count.h"
#include "harness/sched/sched.h"
#include "harness/cli.h"
#include "inject/inject.h"
#include "harness/base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>

extern char **environ;

static struct recorder *rec(struct session *s)
{
	return s->policy;
}

static void pack_common(struct recorder *r, msgpack_packer *pk, const char *type,
			pid_t tid, size_t extra)
{
	/* A counted slice's laps run from its thread's previous event. */
	if (r->s && r->s->count)
		count_note_event(r->s, session_vthread(r->s, tid));
	msgpack_pack_map(pk, 3 + extra);
	mp_kstr(pk, "e", type);
	mp_kuint(pk, "i", r->events);
	mp_kint(pk, "tid", tid);
}

/* The short events (clk, b), three quarters of a server's: without
 * their number, which the reader counts (trace_event_decode). */
static void pack_short(msgpack_packer *pk, const char *type, pid_t tid, size_t extra)
{
	msgpack_pack_map(pk, 2 + extra);
	mp_kstr(pk, "e", type);
	mp_kint(pk, "tid", tid);
}

static void commit(struct recorder *r)
{
	if (trace_commit(&r->w) == 0)
		r->events++;
}

/* Smallest whole number of 64-bit words that hold every set CPU: what
 * the kernel's cpumask copies look like to a reader. */
static size_t mask_bytes(const cpu_set_t *m)
{
	size_t last = 0, i;

	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, m))
			last = i;
	return (last / 64 + 1) * 8;
}

static int write_header(struct recorder *r, struct session *s)
{
	msgpack_packer *pk = trace_begin(&r->w);
	char cwd[PATH_MAX];
	struct timespec now;
	size_t n, i;

	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "");
	clock_gettime(CLOCK_REALTIME, &now);
	msgpack_pack_map(pk, 19 + (s->opts.fast_clock ? 1 : 0) + (s->opts.fast_sys ? 1 : 0) +
			 (s->opts.counted ? 1 : 0));
	mp_kstr(pk, "magic", TRACE_MAGIC);
	mp_kuint(pk, "version", TRACE_VERSION);
	mp_kstr(pk, "gorr", GORR_VERSION);
	mp_kstr(pk, "arch", "x86_64");
	mp_kstr(pk, "kind", r->kind);
	mp_kstr(pk, "go", s->have_bin ? s->bin.go_version : "");
	mp_kstr(pk, "exe", s->exe);
	mp_kbin(pk, "exe_sha256", s->exe_digest, sizeof(s->exe_digest));
	for (n = 0; s->opts.argv[n]; n++)
		;
	mp_str(pk, "argv");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		mp_str(pk, s->opts.argv[i]);
	for (n = 0; environ[n]; n++)
		;
	mp_str(pk, "envp");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		mp_str(pk, environ[i]);
	mp_kstr(pk, "cwd", cwd);
	mp_kuint(pk, "seed", s->opts.seed);
	/* The first exec's bytes; they follow from the seed, and each exec
	 * event holds the bytes it got. */
	mp_kbin(pk, "at_random", s->at_random, sizeof(s->at_random));
	mp_kint(pk, "cpus", cpumask_count(&s->reported_mask));
	mp_kbin(pk, "cpu_mask", &s->reported_mask, mask_bytes(&s->reported_mask));
	mp_kint(pk, "pinned_cpu", s->pinned_cpu);
	mp_str(pk, "flags");
	msgpack_pack_map(pk, 3);
	mp_kbool(pk, "aslr", 0);
	mp_kbool(pk, "tsc_trap", 1);
	mp_kbool(pk, "vdso_hidden", 1);
	mp_kuint(pk, "start_ns", (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec);
	mp_kbool(pk, "go_binary", s->have_bin && s->bin.is_go);
	/* Replay maps gorr's vDSO in replay mode (harness/core/vdso.h). */
	if (s->opts.fast_clock)
		mp_kbool(pk, "fast_clock", 1);
	if (s->opts.fast_sys)
		mp_kbool(pk, "fast_sys", 1);
	/* Replay counts laps too (harness/core/count.h). */
	if (s->opts.counted)
		mp_kbool(pk, "counted", 1);
	return trace_commit(&r->w);
}

int recorder_init(struct recorder *r, struct session *s, const char *path,
		  const char *kind)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->s = s;
	r->kind = kind;
	/* A second early: a file's time has the kernel's coarse clock
	 * (fs/inode.c current_time). */
	clock_gettime(CLOCK_REALTIME, &r->start);
	r->start.tv_sec--;
	prng_init(&r->inject_rng, s->opts.seed, PRNG_INJECT);
	err = trace_writer_open(&r->w, path);
	if (err) {
		error("cannot create trace '%s': %s", path, strerror(-err));
		return err;
	}
	err = write_header(r, s);
	if (err)
		trace_writer_close(&r->w);
	return err;
}

int recorder_finish(struct recorder *r, struct session *s)
{
	msgpack_packer *pk = trace_begin(&r->w);
	int code = session_exit_code(s), err;

	pack_common(r, pk, "end", s->leader_vtid ? s->leader_vtid : s->leader,
		    3 + (s->hang ? 1 : 0) + (s->timed_out ? 1 : 0) + (r->nleaks ? 1 : 0));
	if (s->hang) {
		code = EXIT_GORR_HANG;
		mp_kbool(pk, "hang", 1);
	}
	if (s->timed_out)
		mp_kbool(pk, "timeout", 1);
	if (r->nleaks)
		mp_kuint(pk, "leaks", r->nleaks);
	mp_kint(pk, "status", code);
	mp_kint(pk, "wstatus", s->leader_wstatus);
	mp_kuint(pk, "tsc_emulated", s->tsc_emulated);
	commit(r);
	err = trace_writer_close(&r->w);
	sbuf_release(&r->outbuf);
	return err;
}

static void write_syscall(struct recorder *r, struct thread *t, int with_result)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	struct sc_region regs[SC_MAX_REGIONS];
	msgpack_packer *pk;
	int nargs = d ? d->nargs : 6, nout = 0, i;
	unsigned int incut = 0;

	if (with_result) {
		nout = sc_outputs(t->call.nr, t->call.args, t->call.ret, &t->call.entry,
				  thread_read, t, regs, SC_MAX_REGIONS);
		if (nout < 0)
			nout = 0;
	}
	for (i = 0; i < t->call.nin; i++)
		if (t->call.in[i].cut)
			incut |= 1u << t->call.in[i].arg;
	pk = trace_begin(&r->w);
	pack_common(r, pk, "syscall", t->vtid,
		    3 + (with_result ? 1 : 0) + (t->call.nin ? 1 : 0) + (nout ? 1 : 0) +
		    (incut ? 1 : 0) + (t->call.emulated ? 1 : 0) + (t->pol.tty ? 1 : 0) +
		    (t->pol.injected ? 1 : 0) + (t->sch.blocked ? 1 : 0));
	mp_kint(pk, "nr", t->call.nr);
	mp_kuint(pk, "pc", t->call.pc);
	mp_str(pk, "a");
	msgpack_pack_array(pk, (size_t)nargs);
	for (i = 0; i < nargs; i++)
		msgpack_pack_uint64(pk, t->call.args[i]);
	if (with_result)
		mp_kint(pk, "r", t->call.ret);
	if (t->call.nin) {
		mp_str(pk, "in");
		msgpack_pack_array(pk, (size_t)t->call.nin);
		for (i = 0; i < t->call.nin; i++) {
			msgpack_pack_array(pk, 2);
			msgpack_pack_uint8(pk, t->call.in[i].arg);
			mp_bin(pk, t->inbuf.buf + t->call.in[i].off, t->call.in[i].len);
		}
	}
	if (incut)
		mp_kuint(pk, "incut", incut);
	if (t->call.emulated)
		mp_kbool(pk, "emulated", 1);
	if (t->pol.tty)
		mp_kint(pk, "tty", t->pol.tty);
	if (t->pol.injected)
		mp_kbool(pk, "injected", 1);
	/* It slept in the kernel until another thread acted, and gorr let
	 * the others run meanwhile (harness/sched/sched.c release_blocked):
	 * where its return falls among their events is the machine's
	 * choice. */
	if (t->sch.blocked)
		mp_kbool(pk, "blocked", 1);
	if (nout) {
		mp_str(pk, "out");
		msgpack_pack_array(pk, (size_t)nout);
		for (i = 0; i < nout; i++) {
			int err;

			uint64_t got = regs[i].len;

			sbuf_reset(&r->outbuf);
			sbuf_grow(&r->outbuf, regs[i].len);
			err = thread_read(t, regs[i].addr, r->outbuf.buf, regs[i].len);
			if (err && regs[i].len > 4096) {
				/* A file mapping whose end lies past the file's:
				 * keep the pages that can be read. */
				for (got = 0; got < regs[i].len; got += 4096)
					if (thread_read(t, regs[i].addr + got, r->outbuf.buf + got,
							regs[i].len - got < 4096 ? regs[i].len - got : 4096))
						break;
				err = got ? 0 : err;
			}
			msgpack_pack_array(pk, 2);
			msgpack_pack_uint64(pk, regs[i].addr);
			if (err) {
				/* Gone or unreadable: say so rather than
				 * store bytes that were never there. */
				msgpack_pack_nil(pk);
			} else {
				mp_bin(pk, r->outbuf.buf, got);
			}
		}
	}
	commit(r);
}

/* A clock read gorr's vDSO made without a stop (harness/core/vdso.h),
 * written short: a clk event (docs/trace-format.md), which the reader
 * decodes as the call it stands for, marked vdso.  The time, not where
 * the program had it written. */
static void rec_vclock(struct session *s, struct thread *t, const struct vdso_ent *e)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);
	int fail = e->ret < 0;

	pack_short(pk, "clk", t->vtid,
		    (e->nr != SYS_clock_gettime) + (e->nr == SYS_clock_gettime) + (e->ptr == 0) +
		    (fail ? 1 : e->nr == SYS_time ? 1 : 2));
	if (e->nr != SYS_clock_gettime)
		mp_kint(pk, "nr", e->nr);
	else
		mp_kint(pk, "k", e->clk);
	if (e->ptr == 0)
		mp_kbool(pk, "z", 1);
	sched_vclock_read(s);	/* gorr run: the read moved the virtual clock */
	if (fail) {
		mp_kint(pk, "r", e->ret);
	} else {
		mp_kint(pk, "s", e->sec);
		if (e->nr != SYS_time)
			mp_kint(pk, "n", e->nsec);
	}
	commit(r);
}

/* A call Go's Syscall6 made through the syscall buffer, without a stop,
 * written short (docs/trace-format.md, b): a quarter of a server's
 * events.  Its one output goes where argument 1 points (page.h shapes);
 * its pc is the process's Syscall6 site, written only when it is not. */
static void rec_vsyscall(struct session *s, struct thread *t, const struct vdso_sysrec *sr)
{
	struct recorder *r = rec(s);
	const struct sc_desc *d = sc_lookup(sr->nr);
	const struct vdso_sysout *o = sr->nout ? (const void *)(sr + 1) : NULL;
	msgpack_packer *pk = trace_begin(&r->w);
	int nargs = d ? d->nargs : 6, i, other_pc = sr->pc != s->vdso_site + 2;

	if (o && (o->addr != sr->args[1] || sizeof(*sr) + sizeof(*o) + o->len > sr->size))
		o = NULL;	/* not the shape's: vdso_drain checked the sizes */
	sched_note_buffered(s, sr->nr, sr->ret);	/* gorr run: the call moved the clock */
	pack_short(pk, "b", t->vtid, 3 + (o ? 1 : 0) + other_pc);
	mp_kint(pk, "n", sr->nr);
	mp_str(pk, "a");
	msgpack_pack_array(pk, (size_t)nargs);
	for (i = 0; i < nargs; i++)
		msgpack_pack_uint64(pk, sr->args[i]);
	mp_kint(pk, "r", sr->ret);
	if (o)
		mp_kbin(pk, "o", o + 1, (size_t)o->len);
	if (other_pc)
		mp_kuint(pk, "pc", sr->pc);
	commit(r);
}

static void rec_flush(struct session *s)
{
	trace_flush(&rec(s)->w);
}

/* Whether the program's fd is gorr's own stdout (1) or stderr (2): the
 * same open file (kcmp(2), KCMP_FILE).  Their writes are kept whole, so
 * that a replay shows the program's output again. */
static int tty_of(struct session *s, struct thread *t, int fd)
{
	int std, tty = sched_fd_tty(s, t, fd);

	if (tty >= 0)
		return tty;	/* known since the fd last changed */
	for (tty = 0, std = 1; std <= 2 && !tty; std++)
		if (syscall(SYS_kcmp, s->gorr_pid, t->tgid, KCMP_FILE, std, fd) == 0)
			tty = std;
	sched_fd_set_tty(s, t, fd, tty);
	return tty;
}

/* What a --chaos delay says it is, in the trace. */
static const struct fault_rule chaos_rule = { .text = "chaos", .action = FA_DELAY };

/* A fault rule fired at t's call. */
static void write_fault(struct recorder *r, struct thread *t, const struct fault_rule *f)
{
	msgpack_packer *pk = trace_begin(&r->w);

	pack_common(r, pk, "fault", t->vtid, 3);
	mp_kstr(pk, "rule", f->text);
	mp_kstr(pk, "action", f->action == FA_ERROR ? "error" : "delay");
	mp_kint(pk, "nr", t->call.nr);
	commit(r);
}

/* A forced GC started on t at regs: its fault event carries the point,
 * which a replay reaches by breakpoint and register match (as it does a
 * timeslice's end) before starting the same call. */
static void write_fault_gc(struct recorder *r, struct thread *t, const struct fault_rule *f,
			   const struct user_regs_struct *regs, unsigned int clear)
{
	msgpack_packer *pk = trace_begin(&r->w);

	pack_common(r, pk, "fault", t->vtid, 6);
	mp_kstr(pk, "rule", f->text);
	mp_kstr(pk, "action", "gc");
	mp_kint(pk, "nr", -1);
	mp_kuint(pk, "pc", regs->rip);
	mp_kbin(pk, "regs", regs, sizeof(*regs));
	mp_kuint(pk, "clear", clear);
	commit(r);
}

static int start_gc(struct session *s, struct thread *t, const struct fault_rule *f,
		    uint64_t bp_pc)
{
	struct user_regs_struct at;
	unsigned int clear;
	int err = gocall_gc_start(s, t, bp_pc, &at, &clear);

	if (!err) {
		write_fault_gc(rec(s), t, f, &at, clear);
		return BP_TAKEN;
	}
	if (!s->opts.quiet)
		warning("fault rule '%s': no forced GC here: %s", f->text,
			err == -EAGAIN ? "no point where the runtime accepts a call came within "
					 "4096 instructions" : strerror(-err));
	/* -EBUSY, -ENOTSUP: t was not touched. */
	return err == -EBUSY || err == -ENOTSUP ? BP_GO_ON : BP_TAKEN;
}

/* The goroutines, other than the one t runs, have settled: every user
 * goroutine is blocked, and none in time.Sleep (its timer will wake it). */
static int settled(struct session *s, struct thread *t)
{
	struct goroutine *gs = NULL;
	struct sbuf why = SBUF_INIT;
	int64_t self = 0;
	size_t n = 0, i;
	int ok = 1;

	goroutine_id(s, t, &self);
	if (goroutines_read(s, t, &gs, &n, &why) == 0)
		for (i = 0; i < n && ok; i++)
			if (!gs[i].system && gs[i].goid != self &&
			    (gs[i].status != G_WAITING || !strcmp(gs[i].state, "sleep")))
				ok = 0;
	free(gs);
	sbuf_release(&why);
	return ok;
}

/* The program's first process reached os.Exit with --leaks: while the
 * other goroutines have not settled and --leaks-settle has not passed,
 * the exiting goroutine yields to them (a preempted timeslice, which
 * replay repeats), and under virtual time the clock moves on 1 ms each
 * round so that their sleeps and timers end. */
#define SETTLE_STEP_NS 1000000LL
/* Goroutines that spin (a Gosched loop, a select with default) never
 * block, and each of their clock reads and slices is a stop: the 1 s of
 * settling took minutes, and a hunt's run ended by its 2-minute timeout
 * after the test had already failed (a Stopper's workers spinning on a
 * drain flag).  So the settling also ends after this many events; a
 * goroutine still runnable then is no leak. */
#define SETTLE_EVENTS 20000

static int settle_exit(struct session *s, struct thread *t)
{
	struct recorder *r = rec(s);
	struct user_regs_struct regs;
	int64_t limit = s->opts.leaks_settle_ns ? s->opts.leaks_settle_ns : 1000000000LL;

	if (thread_getregs(t, &regs))
		return BP_GO_ON;
	if (!r->settling) {
		/* os.Exit(code): code in RAX (the internal ABI's first
		 * integer argument, Go 1.17+ on amd64).  A non-zero exit
		 * fails the run without a leak check (that is made at
		 * exit_group(0)): nothing to settle for. */
		if (regs.rax != 0)
			return BP_GO_ON;
		r->settling = 1;
		s->exiting = 1;
		r->settle_start = session_now(s);
		r->settle_events = r->events;
	}
	if (session_now(s) - r->settle_start >= limit || r->events - r->settle_events >= SETTLE_EVENTS ||
	    settled(s, t))
		return BP_GO_ON;
	return sched_preempt(s, t, &regs, 0, SETTLE_STEP_NS) ? BP_STOP : BP_GO_ON;
}

static int rec_breakpoint(struct session *s, struct thread *t, uint64_t pc)
{
	struct recorder *r = rec(s);
	struct fault_plan *p = s->opts.plan;
	size_t i;

	if (r->exit_pc && pc == r->exit_pc && t->tgid == s->leader)
		return settle_exit(s, t);
	if (!p || s->gc.tid)
		return BP_GO_ON;	/* one forced GC at a time */
	for (i = 0; i < r->ngc_sites && t->tgid == s->leader; i++)
		if (r->gc_sites[i] == pc) {
			const struct fault_rule *f = r->gc_pending;

			while (r->ngc_sites)
				bp_remove(s, t, r->gc_sites[--r->ngc_sites]);
			r->gc_pending = NULL;
			return start_gc(s, t, f, 0);
		}
	for (i = 0; i < p->n; i++) {
		struct fault_rule *f = &p->rules[i];

		if (f->target == FT_GC_FUNC && t->tgid == s->leader &&
		    bsearch(&pc, f->pcs, f->npcs, sizeof(pc), cmp_u64) &&
		    rule_selects(f, prng_unit(&r->inject_rng)))
			return start_gc(s, t, f, pc);
	}
	return BP_GO_ON;
}

/* A breakpoint at a return address where the pending GC can start. */
static void arm_gc_site(struct session *s, struct thread *t, uint64_t site)
{
	struct recorder *r = rec(s);
	size_t i;

	for (i = 0; i < r->ngc_sites; i++)
		if (r->gc_sites[i] == site)
			return;	/* armed already */
	if (r->ngc_sites == GC_SITES) {
		/* The oldest goes: its goroutine may be blocked for good. */
		bp_remove(s, t, r->gc_sites[0]);
		memmove(r->gc_sites, r->gc_sites + 1, (GC_SITES - 1) * sizeof(r->gc_sites[0]));
		r->ngc_sites--;
	}
	if (bp_insert(s, t, site) == 0)
		r->gc_sites[r->ngc_sites++] = site;
}

/* The thread at the syscall is in the runtime's scheduler, on no
 * goroutine (an idle M): the goroutines parked in Go code will return to
 * it when they wake (a sleep ends, a channel has data), at the return
 * addresses their saved stacks hold. */
static void arm_parked_sites(struct session *s, struct thread *t)
{
	struct sbuf why = SBUF_INIT;
	struct goroutine *gs;
	size_t n, i, armed = 0;

	if (goroutines_read(s, t, &gs, &n, &why) == 0) {
		for (i = 0; i < n && armed < GC_SITES; i++) {
			uint64_t pcs[BT_MAX];
			int k, m;

			if (gs[i].system || (gs[i].status != G_WAITING && gs[i].status != G_RUNNABLE))
				continue;
			m = backtrace_from(s, t, gs[i].pc, gs[i].sp, pcs, BT_MAX);
			for (k = 1; k < m; k++)
				if (gobin_call_safe(&s->bin, pcs[k])) {
					arm_gc_site(s, t, pcs[k]);
					armed++;
					break;
				}
		}
		free(gs);
	}
	sbuf_release(&why);
}

/* gc@event:N and gc:every at a syscall stop: the thread is in the
 * runtime, where no call can be injected; the GC runs where it returns
 * to code that accepts one. */
static void gc_triggers(struct session *s, struct thread *t)
{
	struct recorder *r = rec(s);
	struct fault_plan *p = s->opts.plan;
	int64_t now = session_now(s);
	size_t i;

	for (i = 0; i < p->n && !r->gc_pending; i++) {
		struct fault_rule *f = &p->rules[i];

		if (f->target == FT_GC_EVENT && !f->done && r->events >= f->event) {
			f->done = 1;
			if (rule_selects(f, prng_unit(&r->inject_rng)))
				r->gc_pending = f;
		} else if (f->target == FT_GC_EVERY) {
			if (!f->next_ns) {
				f->next_ns = now + f->ns;
			} else if (now >= f->next_ns) {
				f->next_ns = now + f->ns;
				if (rule_selects(f, prng_unit(&r->inject_rng)))
					r->gc_pending = f;
			}
		}
	}
	if (r->gc_pending && !s->gc.tid && t->tgid == s->leader) {
		uint64_t site = gocall_return_site(s, t);

		if (site)
			arm_gc_site(s, t, site);
		else if (!r->ngc_sites)
			arm_parked_sites(s, t);
	}
}

/* --leaks, when the program's first process exits with status 0: the
 * goroutines still blocked on channels or locks that are not the
 * runtime's own (or --leaks-ignore'd) are leaks. */
static void check_leaks(struct session *s, struct thread *t)
{
	struct recorder *r = rec(s);
	struct sbuf why = SBUF_INIT;
	struct goroutine *gs;
	size_t n, i, j;

	if (goroutines_read(s, t, &gs, &n, &why)) {
		warning("--leaks: cannot read the goroutines: %s", why.buf);
		sbuf_release(&why);
		return;
	}
	for (i = 0; i < n; i++) {
		int ignored = 0;

		if (!goroutine_leaked(&gs[i]))
			continue;
		for (j = 0; j < s->opts.nleaks_ignore && !ignored; j++)
			ignored = goroutine_on_stack(s, t, &gs[i], s->opts.leaks_ignore[j]);
		if (ignored)
			continue;
		sbuf_addc(&r->leak_report, '\n');
		goroutine_print(&r->leak_report, s, t, &gs[i], 0);
		r->nleaks++;
	}
	free(gs);
	sbuf_release(&why);
}

/* --sample: the goroutine and timer counts, every sample_ns of the
 * scheduler's clock (virtual under run: simulated hours take seconds). */
static void take_sample(struct session *s, struct thread *t)
{
	struct recorder *r = rec(s);
	int64_t now = session_now(s), ng, nt;
	msgpack_packer *pk;
	struct sbuf sb = SBUF_INIT;

	if (!r->next_sample) {
		r->next_sample = now + s->opts.sample_ns;
		r->sample_start = now;
		return;
	}
	if (now < r->next_sample || t->tgid != s->leader)
		return;
	while (r->next_sample <= now)
		r->next_sample += s->opts.sample_ns;
	if (goroutines_count(s, t, &ng, &nt))
		return;
	pk = trace_begin(&r->w);
	pack_common(r, pk, "sample", t->vtid, 3);
	mp_kint(pk, "t", now - r->sample_start);
	mp_kint(pk, "goroutines", ng);
	mp_kint(pk, "timers", nt);
	commit(r);
	if (!s->opts.quiet) {
		sbuf_adds(&sb, "gorr: sample at ");
		sbuf_add_duration(&sb, now - r->sample_start);
		sbuf_addf(&sb, ": %lld goroutines", (long long)ng);
		if (nt >= 0)
			sbuf_addf(&sb, ", %lld timers", (long long)nt);
		fprintf(stderr, "%s\n", sb.buf);
	}
	sbuf_release(&sb);
}

static int rec_syscall_entry(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	t->pol.tty = 0;
	t->pol.injected = 0;
	if (d && (d->flags & SF_FDOUT) && (t->pol.tty = tty_of(s, t, (int)t->call.args[0])))
		/* The whole buffer, not strsize bytes of it. */
		t->call.nin = sc_capture_inputs(t->call.nr, t->call.args, thread_read, t,
						1u << 30, t->call.in, &t->inbuf);
	if (s->opts.sample_ns)
		take_sample(s, t);
	if (s->opts.plan && s->opts.plan->has_gc)
		gc_triggers(s, t);
	if (s->opts.plan) {
		struct fault_rule *f = inject_syscall(s->opts.plan, &rec(s)->inject_rng, t);

		if (f) {
			write_fault(rec(s), t, f);
			if (f->action == FA_ERROR) {
				t->pol.injected = 1;
				thread_emulate(t, -(int64_t)f->err);
				return ENTRY_EMULATE;
			}
			/* Delayed: the call goes on afterwards as usual. */
			sched_delay(s, t, f->ns);
			return ENTRY_PARKED;
		}
	}

	if (s->opts.leaks && t->call.nr == SYS_exit_group && t->tgid == s->leader &&
	    (int)t->call.args[0] == 0)
		check_leaks(s, t);
	if (s->opts.chaos && d && d->ret != R_NONE && !(d->flags & SF_CLOCKREAD) && !s->gc.tid) {
		const struct chaos_knobs *k = s->knobs;

		/* Preempted here: the others may run before it goes on. */
		if (prng_unit(&s->chaos_rng) < k->yield_prob)
			sched_spend_budget(s, t);
		/* Latency: the call waits, on the scheduler's clock. */
		if (prng_unit(&s->chaos_rng) < k->delay_prob) {
			int64_t ns = (int64_t)(prng_unit(&s->chaos_rng) * (double)k->delay_max_ns);

			write_fault(rec(s), t, &chaos_rule);
			sched_delay(s, t, ns);
			return ENTRY_PARKED;
		}
	}
	/* exit and exit_group never return: record them now. */
	if (d && d->ret == R_NONE)
		write_syscall(rec(s), t, 0);
	/* The scheduler keeps blocking calls from blocking the others. */
	return ENTRY_DEFAULT;
}

/* A netpoll rule removed a readiness event: dropped, or held back to
 * be delivered by a later epoll wait (harness/sched/sched.c). */
static void netpoll_fired(void *ctx, struct thread *t, const struct fault_rule *f,
			  const unsigned char ev[SC_EPOLL_EVENT_SIZE])
{
	struct session *s = ctx;
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);
	uint32_t events;
	uint64_t data;

	memcpy(&events, ev, 4);
	memcpy(&data, ev + 4, 8);
	pack_common(r, pk, "fault", t->vtid, 5);
	mp_kstr(pk, "rule", f->text);
	mp_kstr(pk, "action", f->action == FA_NETPOLL_DELAY ? "delay" : "drop");
	mp_kint(pk, "nr", t->call.nr);
	mp_kuint(pk, "events", events);
	mp_kuint(pk, "data", data);
	commit(r);
	if (f->action == FA_NETPOLL_DELAY)
		sched_hold_event(s, t, ev, f->ns);
}

/* --chaos: the readiness events of an epoll wait in another order (the
 * kernel's is the order fds became ready, which the netpoller's callers
 * may come to depend on). */
static void chaos_shuffle(struct session *s, struct thread *t)
{
	enum { E = SC_EPOLL_EVENT_SIZE };
	unsigned char evs[E * 128], tmp[E];
	int64_t n = t->call.ret, i;

	if (!sc_is_epoll_wait(t->call.nr) || n < 2 || n > 128 ||
	    thread_read(t, t->call.args[1], evs, (size_t)n * E))
		return;
	for (i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)(prng_next(&s->chaos_rng) % (uint64_t)(i + 1));

		memcpy(tmp, evs + E * i, E);
		memmove(evs + E * i, evs + E * j, E);
		memcpy(evs + E * j, tmp, E);
	}
	thread_write(t, t->call.args[1], evs, (size_t)n * E);
}

static void rec_syscall_exit(struct session *s, struct thread *t)
{
	if (s->opts.chaos)
		chaos_shuffle(s, t);
	if (s->opts.plan && inject_netpoll(s->opts.plan, &rec(s)->inject_rng, t,
					   netpoll_fired, s) > 0) {
		t->set_ret = 1;		/* the lowered count */
		t->pol.injected = 1;
	}
	write_syscall(rec(s), t, 1);
	if (t->sch.blocked && s->opts.virtual_time && !rec(s)->warned_blocked && !s->opts.quiet) {
		const struct sc_desc *d = sc_lookup(t->call.nr);

		warning("thread %d's %s blocked in the kernel until another thread acted; it "
			"returned when the kernel said, so this run may not repeat exactly with "
			"the same seed", (int)t->vtid, d ? d->name : "call");
		rec(s)->warned_blocked = 1;
	}
}

/* Bigger exec'd files made during the recording stay out of the trace. */
#define EXEC_IMAGE_MAX (256LL << 20)

static void rec_exec(struct session *s, struct thread *t, const struct exec_info *e)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);

	struct sbuf image = SBUF_INIT;
	struct stat st;

	/* A program the recording made (a test that builds one and runs
	 * it): replay makes execs for real, and the file will not be there
	 * (the writes that made it are emulated), so its bytes go into the
	 * trace, as rr copies exec'd files into its own. */
	if (e->index > 0 && e->path[0] && stat(e->path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mtim.tv_sec > r->start.tv_sec ||
	     (st.st_mtim.tv_sec == r->start.tv_sec && st.st_mtim.tv_nsec >= r->start.tv_nsec)) &&
	    st.st_size <= EXEC_IMAGE_MAX && read_file(e->path, &image) < 0)
		sbuf_release(&image);
	pack_common(r, pk, "exec", t->vtid,
		    4 + (image.len ? 1 : 0) + (e->vdso_fast ? 1 : 0) + (e->sys_fast ? 1 : 0));
	mp_kstr(pk, "path", e->path);
	mp_kbin(pk, "at_random", e->at_random, sizeof(e->at_random));
	mp_kbool(pk, "vdso_hidden", e->vdso_hidden);
	if (e->vdso_fast)
		mp_kbool(pk, "vdso_fast", 1);
	if (e->sys_fast)
		mp_kbool(pk, "sys_fast", 1);
	mp_kint(pk, "index", e->index);
	if (image.len)
		mp_kbin(pk, "image", image.buf, image.len);
	sbuf_release(&image);
	commit(r);
	/* --leaks: a test's goroutines may still be running when the tests
	 * return; at os.Exit they get time to block first (settled). */
	if (e->index == 0 && s->opts.leaks && s->have_bin && s->bin.is_go &&
	    (r->exit_pc = gobin_func_entry(&s->bin, "os.Exit")) && bp_insert(s, t, r->exit_pc))
		r->exit_pc = 0;
	/* The program's own image: gc@FUNC breakpoints go in now. */
	if (e->index == 0 && s->opts.plan) {
		size_t i, j;

		for (i = 0; i < s->opts.plan->n; i++)
			for (j = 0; j < s->opts.plan->rules[i].npcs; j++)
				if (bp_insert(s, t, s->opts.plan->rules[i].pcs[j]) && !s->opts.quiet)
					warning("fault rule '%s': cannot set its breakpoint at %#" PRIx64,
						s->opts.plan->rules[i].text,
						s->opts.plan->rules[i].pcs[j]);
	}
}

static int rec_signal(struct session *s, struct thread *t, siginfo_t *si)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);

	pack_common(r, pk, "signal", t->vtid, 3);
	mp_kint(pk, "sig", si->si_signo);
	mp_kint(pk, "code", si->si_code);
	mp_kbin(pk, "info", si, sizeof(*si));
	commit(r);
	return si->si_signo;
}

static void rec_clone(struct session *s, struct thread *parent, struct thread *child,
		      enum clone_kind kind)
{
	static const char *const names[] = { "thread", "fork", "vfork" };
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);

	pack_common(r, pk, "clone", parent->vtid, 2);
	mp_kint(pk, "child", child->vtid);
	mp_kstr(pk, "kind", names[kind]);
	commit(r);
}

static void rec_thread_exit(struct session *s, struct thread *t, int wstatus)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);

	pack_common(r, pk, "exit", t->vtid, 2);
	mp_kint(pk, "wstatus", wstatus);
	mp_kint(pk, "tgid", session_thread(s, t->tgid) ? session_thread(s, t->tgid)->vtid : t->tgid);
	commit(r);
}

static void rec_tsc(struct session *s, struct thread *t, struct tsc_info *ti)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk;

	if (s->opts.virtual_time) {
		ti->tsc = virt_tsc(s);
		ti->aux = 0;
	}
	pk = trace_begin(&r->w);

	pack_common(r, pk, "rdtsc", t->vtid, ti->rdtscp ? 4 : 3);
	mp_kuint(pk, "pc", ti->pc);
	mp_kstr(pk, "insn", ti->rdtscp ? "rdtscp" : "rdtsc");
	mp_kuint(pk, "tsc", ti->tsc);
	if (ti->rdtscp)
		mp_kuint(pk, "aux", ti->aux);
	commit(r);
}

static void rec_switched(struct session *s, struct thread *t)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk = trace_begin(&r->w);

	pack_common(r, pk, "run", t->vtid, 0);
	commit(r);
}

static void rec_gc_done(struct session *s, struct thread *t, int err, const char *why)
{
	(void)t;
	if (err && !s->opts.quiet)
		warning("forced GC: %s", why);
}

/* user_regs_struct as the kernel lays it out (27 64-bit words). */
static void rec_slice(struct session *s, struct thread *t, const struct user_regs_struct *regs)
{
	struct recorder *r = rec(s);
	msgpack_packer *pk;

	int64_t goid = 0;
	int has_g = goroutine_id(s, t, &goid) == 0 && goid > 0;

	/* At one of gorr's breakpoints (a decision point, os.Exit under
	 * --leaks-settle): the thread passes it once when it goes on. */
	int at_bp = regs && t->sch.dp_skip == regs->rip;

	/* The SSE registers too: a loop in sha256 or json passes the
	 * slice's pc with the same general registers lap after lap. */
	unsigned char sse[THREAD_SSE_LEN];
	int has_sse = regs && thread_sse(t, sse) == 0;

	/* And the goroutine's live stack, where a call's callers keep
	 * their loop counters (replay.c stack_match); not at a decision
	 * point, whose hit the slice counts exactly (`visit`): under
	 * --chaos those slices are many, and replay does not look. */
	uint64_t stk = 0;
	unsigned char top[GSTACK_TOP_MAX];
	size_t top_len = 0;
	int has_stk = regs && !t->sch.dp_visit &&
		      goroutine_stack_hash(s, t, regs, &stk, top, &top_len) == 0;

	/* Ended at a counted lap (harness/core/count.h): the passes since
	 * the thread's previous event, after which replay's counter traps
	 * at this very place. */
	uint64_t laps = t->count_slice ? t->count_laps : 0;

	pk = trace_begin(&r->w);
	pack_common(r, pk, "slice", t->vtid, (regs ? 2 : 0) + has_sse + 2 * has_stk + (has_g ? 1 : 0) +
		    (t->sch.dp_preempting ? 1 : 0) + at_bp + (t->sch.dp_hold_ns ? 1 : 0) +
		    (t->sch.dp_visit ? 1 : 0) + (t->sch.by_clock ? 1 : 0) + (t->sch.slice_loop ? 1 : 0) +
		    (laps ? 1 : 0));
	if (laps)
		mp_kuint(pk, "laps", laps);
	if (regs) {
		mp_kuint(pk, "pc", regs->rip);
		mp_kbin(pk, "regs", regs, sizeof(*regs));
	}
	if (has_sse)
		mp_kbin(pk, "sse", sse, sizeof(sse));
	if (has_stk) {
		mp_kuint(pk, "stk", stk);
		mp_kbin(pk, "stktop", top, top_len);
	}
	/* The scheduler also preempted the goroutine here (sched_dpoint):
	 * replay makes the same writes; the SIGURG is a signal event. */
	if (t->sch.dp_preempting)
		mp_kbool(pk, "preempt", 1);
	if (at_bp)
		mp_kbool(pk, "bp", 1);
	/* --chaos held the thread off the CPU this long (sched_dpoint):
	 * for the reader; replay follows the run events. */
	if (t->sch.dp_hold_ns)
		mp_kint(pk, "hold", t->sch.dp_hold_ns);
	/* The Nth hit of this decision point since the thread's last
	 * event: a loop reaches it lap after lap (sched.c dp_visit).
	 * Written whenever pc is a decision point: replay then knows the
	 * exact hit. */
	if (t->sch.dp_visit)
		mp_kuint(pk, "visit", t->sch.dp_visit);
	/* At the head of a loop replay can skip ahead in: what the loop
	 * had stored there (harness/sched/loops.h). */
	if (t->sch.slice_loop)
		mp_kbin(pk, "loop", t->sch.slice_mem, t->sch.slice_mem_len);
	/* Ended where the real-time interrupt found a thread that made no
	 * syscall and reached no decision point for 200 ms (under run): a
	 * place that depends on the machine's speed. */
	if (t->sch.by_clock) {
		mp_kbool(pk, "clock", 1);
		if (!r->warned_clock && !s->opts.quiet)
			warning("thread %d ran without a syscall, a decision point or a counted loop "
				"lap for 200-300 ms; its timeslice ended where the interrupt found it, so "
				"this run may not repeat exactly with the same seed", (int)t->vtid);
		r->warned_clock = 1;
	}
	/* The goroutine that was running, for the reader. */
	if (has_g)
		mp_kint(pk, "g", goid);
	commit(r);
}

const struct engine_ops recorder_ops = {
	.wants = engine_wants_nondet,
	.exec = rec_exec,
	.syscall_entry = rec_syscall_entry,
	.syscall_exit = rec_syscall_exit,
	.signal = rec_signal,
	.clone = rec_clone,
	.thread_exit = rec_thread_exit,
	.tsc = rec_tsc,
	.switched = rec_switched,
	.slice = rec_slice,
	.breakpoint = rec_breakpoint,
	.gc_done = rec_gc_done,
	.vclock = rec_vclock,
	.vsyscall = rec_vsyscall,
	.flush = rec_flush,
};

/* Every thread waits and nothing can wake any of them. */
static void report_hang(struct session *s)
{
	struct sbuf sb = SBUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < s->norder; i++)
		if (s->order[i]->rs != RS_DYING)
			n++;
	if (s->hang_calls) {
		sbuf_addf(&sb, "gorr: hang: every goroutine blocked; for %llu calls only timers "
			  "fired and no goroutine moved\n", (unsigned long long)s->hang_calls);
	} else if (s->hang_timers) {
		sbuf_addf(&sb, "gorr: hang: all %zu threads blocked; for ", n);
		sbuf_add_duration(&sb, s->opts.hang_ns);
		sbuf_adds(&sb, " of virtual time only timers fired (--hang-timeout)\n");
	} else {
		sbuf_addf(&sb, "gorr: hang: all %zu threads blocked, no timer pending\n", n);
	}
	for (i = 0; i < s->norder; i++) {
		struct thread *t = s->order[i];

		if (t->rs == RS_DYING)
			continue;
		sbuf_addf(&sb, "\nthread %d [", (int)t->vtid);
		thread_describe(&sb, s, t);
		sbuf_adds(&sb, "]:\n");
		goroutine_thread_stack(&sb, s, t);
	}
	/* What the goroutines wait for says more than the threads do. */
	if (s->have_bin && s->bin.is_go && session_thread(s, s->leader)) {
		sbuf_addc(&sb, '\n');
		goroutines_dump(&sb, s, session_thread(s, s->leader), 0);
	}
	fputs(sb.buf, stderr);
	sbuf_release(&sb);
}

/* --timeout: the run ended at its limit; what everyone was doing. */
static void report_timeout(struct session *s)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_adds(&sb, "gorr: timeout: the program still ran after ");
	sbuf_add_duration(&sb, s->opts.timeout_ns);
	sbuf_addf(&sb, " of %s time (--timeout)\n", s->opts.virtual_time ? "virtual" : "real");
	if (s->have_bin && s->bin.is_go && session_thread(s, s->leader))
		goroutines_dump(&sb, s, session_thread(s, s->leader), 0);
	fputs(sb.buf, stderr);
	sbuf_release(&sb);
}

/* What the plan needs of the program's binary, checked before it runs:
 * gc rules need a Go binary where a GC can be forced, gc@FUNC a function
 * by that name. */
static int check_plan(struct session *s, struct fault_plan *p)
{
	struct sbuf why = SBUF_INIT;
	size_t i;
	int err = 0;

	for (i = 0; i < p->n && !err; i++) {
		struct fault_rule *f = &p->rules[i];

		if (f->action != FA_GC)
			continue;
		p->has_gc = 1;
		if (gocall_gc_supported(s, &why)) {
			error("fault rule '%s': %s", f->text, why.buf);
			err = -ENOTSUP;
		} else if (f->target == FT_GC_FUNC) {
			/* Its compiled copy and every inlined one: a call of
			 * FUNC is a call wherever the compiler put its code. */
			f->pcs = xcalloc(GOBIN_COPIES_MAX, sizeof(*f->pcs));
			f->npcs = gobin_func_pcs(&s->bin, f->func, f->pcs, GOBIN_COPIES_MAX);
			if (!f->npcs) {
				error("fault rule '%s': no function '%s' in '%s'", f->text, f->func,
				      s->exe);
				err = -ENOENT;
			} else if (f->npcs == GOBIN_COPIES_MAX && !s->opts.quiet) {
				warning("fault rule '%s': '%s' has more than %d copies (inlined); "
					"the first %d are used", f->text, f->func, GOBIN_COPIES_MAX,
					GOBIN_COPIES_MAX);
			}
		}
	}
	sbuf_release(&why);
	return err;
}

/* Shared by record and run: both are this policy; run adds virtual time. */
static int run_session(struct session_opts *o, const char *path, const char *kind);

static int run_policy(struct session_opts *o, const char *path, const char *kind)
{
	struct standin st;
	char **argv;
	size_t n;
	int code;

	if (!o->as_path)
		return run_session(o, path, kind);
	/* --as: the program's file is put at the path and run from there,
	 * under that name. */
	if (standin_place(&st, o->as_path, o->argv[0]))
		return EXIT_GORR_FAILURE;
	for (n = 0; o->argv[n]; n++)
		;
	argv = xcalloc(n + 1, sizeof(*argv));
	memcpy(argv, o->argv, n * sizeof(*argv));
	argv[0] = (char *)o->as_path;
	o->argv = argv;
	o->exe = o->as_path;
	code = run_session(o, path, kind);
	standin_remove(&st);
	free(argv);
	return code;
}

static int run_session(struct session_opts *o, const char *path, const char *kind)
{
	struct session s;
	struct recorder r;
	int err, code;

	err = session_init(&s, o, &recorder_ops, &r);
	if (err) {
		session_release(&s);
		return EXIT_GORR_FAILURE;
	}
	if (o->plan && check_plan(&s, o->plan)) {
		session_release(&s);
		return EXIT_GORR_USAGE;
	}
	/* A run is reproducible by its seed: always say which. */
	if (!strcmp(kind, "run") && !o->seed_given && !o->quiet)
		notice("seed %llu", (unsigned long long)o->seed);
	err = recorder_init(&r, &s, path, kind);
	if (err) {
		session_release(&s);
		return EXIT_GORR_FAILURE;
	}
	err = session_spawn(&s);
	if (!err)
		err = session_run(&s);
	if (s.timed_out)
		report_timeout(&s);
	else if (s.hang)
		report_hang(&s);
	code = s.hang ? EXIT_GORR_HANG : session_exit_code(&s);
	if (r.nleaks && code == 0) {
		fprintf(stderr, "gorr: %zu goroutine%s leaked: blocked when the program exited\n%s",
			r.nleaks, r.nleaks == 1 ? "" : "s", r.leak_report.buf);
		code = EXIT_GORR_LEAKS;
	}
	sbuf_release(&r.leak_report);
	if (recorder_finish(&r, &s) < 0 || err || s.start_failed)
		code = EXIT_GORR_FAILURE;
	else if (!o->quiet && path)
		notice("recorded %llu events to '%s'", (unsigned long long)r.events, path);
	session_release(&s);
	return code;
}

/* A default trace name that never overwrites an earlier trace:
 * PROG.gorr, then PROG-1.gorr, PROG-2.gorr... */
static char *default_trace_path(const char *prog)
{
	const char *base = strrchr(prog, '/');
	struct sbuf sb = SBUF_INIT;
	struct stat st;
	int i;

	base = base ? base + 1 : prog;
	for (i = 0;; i++) {
		sbuf_reset(&sb);
		if (i)
			sbuf_addf(&sb, "%s-%d.gorr", base, i);
		else
			sbuf_addf(&sb, "%s.gorr", base);
		if (stat(sb.buf, &st) < 0)
			return sb.buf;
	}
}

/* A usage error after options were parsed: free what they allocated. */
static int usage_error(struct session_opts *o, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int usage_error(struct session_opts *o, const char *usage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	cli_session_release(o);
	if (!fmt)
		return cli_usage_error(usage, NULL);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage_error(usage, "%s", msg);
}

static const char record_usage[] =
	"usage: gorr record [options] [--] PROG [ARGS...]\n"
	"\n"
	"Run PROG under gorr and record everything about the run that is not\n"
	"deterministic into a trace. PROG's stdin, stdout and stderr are its own;\n"
	"gorr exits with PROG's exit status (128+N when signal N killed it).\n"
	"\n"
	"options:\n"
	"  -o, --output FILE   write the trace to FILE (default: PROG.gorr, or\n"
	"                      PROG-N.gorr so that no earlier trace is overwritten)\n"
	"      --no-fast-clock every clock read stops (by default gorr's own vDSO\n"
	"                      reads the clock in the program and gorr logs it at\n"
	"                      its next stop; off with --inject rules on clock calls)\n"
	"      --no-fast-sys   every syscall stops (by default Go's reads, writes\n"
	"                      and zero-timeout epoll waits on non-blocking fds go\n"
	"                      through gorr's syscall buffer without a stop; off\n"
	"                      with --no-fast-clock, --inject, --chaos, --sample)\n"
	"      --no-count      do not count loop laps in the program: a computation's\n"
	"                      timeslice ends where the interrupt finds it, and replay\n"
	"                      looks for that place by its registers (counting costs\n"
	"                      tight loops up to 2.5x; docs/ARCHITECTURE.md)\n"
	CLI_SESSION_HELP
	"  -h, --help          show this help\n";

/* The options of record and run: 1 to go on with o and *out, else the
 * exit status (help shown, or a usage error said). */
static int parse_run_options(int argc, char **argv, struct session_opts *o,
			     const char **out, const char *usage, int is_run, int *code)
{
	int i, used;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			cli_session_release(o);
			*code = 0;
			return 0;
		}
		if (is_run && !strcmp(a, "--real-time")) {
			o->virtual_time = 0;
			continue;
		}
		if (!strcmp(a, "--no-count")) {
			o->counted = 0;
			continue;
		}
		if (!is_run && !strcmp(a, "--no-fast-clock")) {
			o->fast_clock = VDSO_SLOW;
			o->fast_sys = VDSO_SLOW;
			continue;
		}
		if (!is_run && !strcmp(a, "--no-fast-sys")) {
			o->fast_sys = VDSO_SLOW;
			continue;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (++i >= argc) {
				*code = usage_error(o, usage, "'%s' needs a file name", a);
				return 0;
			}
			*out = argv[i];
			if (!strcmp(*out, "-")) {
				*code = usage_error(o, usage,
					"the trace cannot go to stdout: the program's output goes there");
				return 0;
			}
			continue;
		}
		used = cli_session_option(o, argc, argv, &i);
		if (used <= 0) {
			*code = used < 0 ? usage_error(o, usage, NULL) :
					   usage_error(o, usage, "unknown option '%s'", a);
			return 0;
		}
	}
	if (i >= argc) {
		*code = usage_error(o, usage, "no program given");
		return 0;
	}
	o->argv = argv + i;
	return 1;
}

int cmd_record(int argc, char **argv)
{
	struct session_opts o;
	const char *out = NULL;
	char *path;
	int code;

	cli_session_defaults(&o);
	o.fast_clock = VDSO_RECORD;
	o.fast_sys = VDSO_RECORD;
	o.counted = 1;
	if (!parse_run_options(argc, argv, &o, &out, record_usage, 0, &code))
		return code;
	if (o.fast_clock && o.plan && plan_names_clock(o.plan))
		o.fast_clock = VDSO_SLOW;	/* the rules must see every read */
	/* Fault rules, chaos and samples act at syscall stops; the buffer
	 * lives in gorr's vDSO. */
	if (!o.fast_clock || o.plan || o.chaos || o.sample_ns)
		o.fast_sys = VDSO_SLOW;
	cli_session_seed(&o);
	path = out ? xstrdup(out) : default_trace_path(o.argv[0]);
	code = run_policy(&o, path, "record");
	free(path);
	cli_session_release(&o);
	return code;
}

static const char run_usage[] =
	"usage: gorr run [options] [--] PROG [ARGS...]\n"
	"\n"
	"Run PROG once, deterministically: its threads run one at a time in an\n"
	"order drawn from the seed, and it sees a virtual world made from the\n"
	"seed (virtual clocks that jump over sleeps, getrandom bytes, process\n"
	"ids 1000, 1001...). The same seed gives the same output and the same\n"
	"trace; another seed changes the schedule and Go's runtime randomness.\n"
	"gorr exits with PROG's status, or 124 when every thread waits forever\n"
	"(a hang, reported with each thread's state and stack).\n"
	"\n"
	"options:\n"
	"  -o, --output FILE   also write the trace to FILE (for gorr replay)\n"
	"      --real-time     keep wall time: real clocks, sleeps take their time,\n"
	"                      real getrandom and ids (the schedule still comes from\n"
	"                      the seed)\n"
	"      --no-count      do not count loop laps in the program: a computation\n"
	"                      with no syscall is cut by a real-time interrupt, where\n"
	"                      the machine's speed puts it (docs/ARCHITECTURE.md)\n"
	CLI_SESSION_HELP
	CLI_RUN_HELP
	"  -h, --help          show this help\n";

int cmd_run(int argc, char **argv)
{
	struct session_opts o;
	const char *out = NULL;
	int code;

	cli_session_defaults(&o);
	o.virtual_time = 1;
	o.counted = 1;
	if (!parse_run_options(argc, argv, &o, &out, run_usage, 1, &code))
		return code;
	if (!o.virtual_time)
		o.counted = 0;	/* --real-time: slices end by the clock anyway */
	/* Clock reads answered in the program from the virtual clock
	 * (harness/vdso/page.h VDSO_VIRTUAL), not at a stop each; not
	 * under --chaos, whose hunts preempt at those stops too, nor for
	 * fault rules on clock calls. */
	if (o.virtual_time && !o.chaos && !(o.plan && plan_names_clock(o.plan)))
		o.fast_clock = VDSO_VIRTUAL;
	/* And Go's calls that cannot block through the syscall buffer, as
	 * record's, each moving the page's clock as a stop would; fault
	 * rules and samples act at stops. */
	if (o.fast_clock == VDSO_VIRTUAL && !o.plan && !o.sample_ns)
		o.fast_sys = VDSO_VIRTUAL;
	cli_session_seed(&o);
	code = run_policy(&o, out, "run");
	cli_session_release(&o);
	return code;
}
