#define _GNU_SOURCE
#include "harness/go/gocall.h"
#include "harness/go/backtrace.h"
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"
#include "harness/core/vdso.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* Values the runtime leaves in R12 at its INT3s (runtime/asm_amd64.s). */
enum {
	DC_FRAME_READY = 0,
	DC_RETURNED = 1,
	DC_PANICKED = 2,
	DC_REFUSED = 8,
	DC_RESTORE = 16,
};

/* What the forced GC is doing (struct gocall.stage). */
enum {
	ST_ENTER,		/* in debugCallV2, before the frame is ready */
	ST_GC,			/* runtime.GC called */
	ST_START,		/* runtime.gcStart called */
	ST_MARK,		/* runtime.Gosched until gcphase is _GCoff */
	ST_SWEEP,		/* runtime.sweepone until it finds nothing */
	ST_DONE,		/* the last call returned; the runtime restores */
};

/* Bounds, so that a program in a state gorr did not foresee costs a
 * warning rather than a hung run. */
#define MAX_STEPS 4096		/* single steps to an accepted point */
#define MAX_TRIES 16		/* calls the runtime refused, stepping on between */
#define MAX_CALLS 200000	/* Gosched and sweepone calls of one GC */
/* runtime/asm_amd64.s: "at least 256 bytes free on the stack". */
#define STACK_ROOM 256
/* The argument frame asked for: debugCall32, room to spill gcStart's
 * register arguments (ABIInternal: the caller reserves spill space). */
#define FRAME_SIZE 32
/* gcTrigger{kind: gcTriggerCycle, n: ...} (runtime/mgc.go): test()
 * passes while int32(n - work.cycles) > 0, so for any run with fewer
 * than 2^31 - 1 cycles. */
#define GC_TRIGGER_CYCLE 2
#define GC_CYCLE_FAR 0x7fffffffu

/* runtime.gcphase in a binary without .symtab: runtime.gcStart inlines
 * setGCPhase (runtime/mgc.go), which stores with XCHG through a LEA of
 * the variable and then reads it back:
 *     lea REG, [rip + X]; xchg dword ptr [REG], R32; mov R32, dword ptr [rip + X]
 * (Go 1.19 and 1.26 alike). */
static uint64_t find_gcphase(struct session *s, uint64_t gcstart)
{
	unsigned char code[8192];
	size_t len = sizeof(code), i, n;
	cs_insn *insn = NULL;
	uint64_t found = 0;

	while (len > 0 && gobin_read_vaddr(&s->bin, gcstart, code, len))
		len /= 2;
	if (!len || !s->cs_open)
		return 0;
	n = cs_disasm(s->cs, code, len, gcstart, 0, &insn);
	for (i = 0; i + 2 < n && !found; i++) {
		char reg[16], reg2[16];
		unsigned long long d1, d2;
		char sign1, sign2;
		uint64_t a1, a2;

		if (strcmp(insn[i].mnemonic, "lea") ||
		    sscanf(insn[i].op_str, "%15[a-z0-9], [rip %c 0x%llx]", reg, &sign1, &d1) != 3 ||
		    strcmp(insn[i + 1].mnemonic, "xchg") ||
		    strncmp(insn[i + 1].op_str, "dword ptr [", 11) ||
		    sscanf(insn[i + 1].op_str + 11, "%15[a-z0-9]]", reg2) != 1 || strcmp(reg, reg2) ||
		    strcmp(insn[i + 2].mnemonic, "mov") ||
		    !strstr(insn[i + 2].op_str, "dword ptr [rip ") ||
		    sscanf(strstr(insn[i + 2].op_str, "[rip ") + 5, "%c 0x%llx]", &sign2, &d2) != 2)
			continue;
		a1 = insn[i].address + insn[i].size + (sign1 == '-' ? -(uint64_t)d1 : d1);
		a2 = insn[i + 2].address + insn[i + 2].size + (sign2 == '-' ? -(uint64_t)d2 : d2);
		if (a1 == a2)
			found = a1;
	}
	cs_free(insn, n);
	return found;
}

static void resolve(struct session *s)
{
	struct gocall *c = &s->gc;
	const struct gobin_sym *sym;

	if (c->resolved)
		return;
	c->resolved = 1;
	if (!s->have_bin || !s->bin.is_go) {
		snprintf(c->unsupported, sizeof(c->unsupported), "'%s' is not a Go program", s->exe);
		return;
	}
	c->debugcall = gobin_func_entry(&s->bin, "runtime.debugCallV2");
	if (!c->debugcall) {
		snprintf(c->unsupported, sizeof(c->unsupported),
			 "'%s' has no runtime.debugCallV2 (Go 1.17 or later has it)", s->exe);
		return;
	}
	c->gc = gobin_func_entry(&s->bin, "runtime.GC");
	if (c->gc)
		return;
	c->gcstart = gobin_func_entry(&s->bin, "runtime.gcStart");
	c->gosched = gobin_func_entry(&s->bin, "runtime.Gosched");
	/* Go 1.21 and 1.22 inline Gosched everywhere and link no copy of
	 * it into a program that does not call it; goschedIfBusy (Go 1.21+,
	 * runtime/proc.go) yields the same way unless a P is idle, and
	 * then the mark workers have one (gorr switches threads at the
	 * call's return anyway: GOCALL_TRAP_YIELD). */
	if (!c->gosched)
		c->gosched = gobin_func_entry(&s->bin, "runtime.goschedIfBusy");
	c->sweepone = gobin_func_entry(&s->bin, "runtime.sweepone");
	sym = gobin_symbol(&s->bin, "runtime.gcphase");
	c->gcphase = sym ? sym->addr : c->gcstart ? find_gcphase(s, c->gcstart) : 0;
	if (!c->gcstart || !c->gosched || !c->sweepone || !c->gcphase)
		snprintf(c->unsupported, sizeof(c->unsupported),
			 "'%s' links neither runtime.GC nor what gorr needs to run a GC cycle "
			 "itself (runtime.gcStart, Gosched or goschedIfBusy, sweepone, gcphase)", s->exe);
}

int gocall_gc_supported(struct session *s, struct sbuf *why)
{
	resolve(s);
	if (!s->gc.unsupported[0])
		return 0;
	sbuf_adds(why, s->gc.unsupported);
	return -ENOTSUP;
}

/* Whether the runtime will accept a call injected at regs: the check of
 * debugCallCheck on the PC, and stack room on the goroutine's stack
 * (g.stack.lo is the first word of the g at fs:-8, runtime/runtime2.go). */
static int accepted_here(struct session *s, struct thread *t, const struct user_regs_struct *r)
{
	uint64_t g = 0, lo = 0;

	if (!gobin_call_safe(&s->bin, r->rip))
		return 0;
	if (thread_read(t, r->fs_base - 8, &g, 8) || !g || thread_read(t, g, &lo, 8))
		return 0;
	return r->rsp > lo + STACK_ROOM + 64;
}

/* The runtime scans the injected call's frame, which holds every
 * register, and the interrupted function's frame conservatively
 * (runtime/mgcmark.go scanframeworker, FuncID_debugCallV2): a stale
 * pointer left in a dead register keeps its object alive through the
 * forced GC, which is then not the GC the program would have had (a
 * finalizer that should run does not).  Registers that the Go internal
 * ABI makes scratch at a function's entry and at a call's return
 * (cmd/compile/abi-internal.md, amd64: R12, R13, R15, and RDX except as
 * a closure's context at entry) are cleared for the call: they hold
 * nothing the program can still use. */
static void clear_regs(struct user_regs_struct *r, unsigned int mask)
{
	if (mask & GOCALL_CLEAR_R12)
		r->r12 = 0;
	if (mask & GOCALL_CLEAR_R13)
		r->r13 = 0;
	if (mask & GOCALL_CLEAR_R15)
		r->r15 = 0;
	if (mask & GOCALL_CLEAR_RDX)
		r->rdx = 0;
}

/* Enter debugCallV2 from the current point (runtime/asm_amd64.s steps 2
 * to 5): push the PC, the frame size at SP-16, save everything. */
static int enter(struct session *s, struct thread *t, unsigned int clear)
{
	struct gocall *c = &s->gc;
	struct user_regs_struct r;
	uint64_t size = FRAME_SIZE;
	int err;

	if ((err = thread_getregs(t, &r)) || (err = pt_getfpregs(t->tid, &c->fsaved)))
		return err;
	c->saved = r;
	r.rsp -= 8;
	if ((err = thread_write(t, r.rsp, &c->saved.rip, 8)) ||
	    (err = thread_write(t, r.rsp - 16, &size, 8)))
		return err;
	r.rip = c->debugcall;
	clear_regs(&r, clear);
	if ((err = thread_setregs(t, &r)))
		return err;
	c->tid = t->tid;
	c->tgid = t->tgid;
	c->stage = ST_ENTER;
	c->refused = 0;
	return 0;
}

/* Step t until the runtime would accept a call there. */
static int step_to_accepted(struct session *s, struct thread *t, struct user_regs_struct *r)
{
	int i;

	for (i = 0; i < MAX_STEPS; i++) {
		if (thread_getregs(t, r))
			return -ESRCH;
		if (accepted_here(s, t, r))
			return 0;
		/* Not over one of gorr's INT3s (a decision point): it
		 * would run the trap, not the instruction. */
		if (bp_trap_at(s, t, r->rip))
			return -EAGAIN;
		if (pt_step(t->tid, &s->gc.pending_status))
			return -ESRCH;
		if (s->gc.pending_status)
			return -EAGAIN;
	}
	return -EAGAIN;
}

/* 0 when a forced GC can start now; -ENOTSUP, -EBUSY (one at a time). */
static int can_start(struct session *s)
{
	resolve(s);
	s->gc.pending_status = 0;
	if (s->gc.unsupported[0])
		return -ENOTSUP;
	return s->gc.tid ? -EBUSY : 0;
}

/* The call starts at t's point: a fresh count of tries and calls. */
static int begin(struct session *s, struct thread *t, unsigned int clear)
{
	struct gocall *c = &s->gc;

	c->tries = 0;
	c->calls = 0;
	c->err = 0;
	c->why[0] = '\0';
	c->clear = clear;
	return enter(s, t, clear);
}

int gocall_gc_start(struct session *s, struct thread *t, uint64_t bp_pc,
		    struct user_regs_struct *at, unsigned int *clear)
{
	struct gocall *c = &s->gc;
	struct user_regs_struct entry;
	struct gobin_loc loc;
	int err, status = 0;

	*clear = GOCALL_CLEAR_R12 | GOCALL_CLEAR_R13 | GOCALL_CLEAR_R15 | GOCALL_CLEAR_RDX;
	/* Not at a function's entry (an inlined copy of gc@FUNC's function,
	 * in the middle of its caller): any register may be live, and what
	 * is cleared for the call stays cleared (debugCallV2 restores every
	 * general register from the frame it saved them in on entry). */
	if (bp_pc && (gobin_pc_lookup(&s->bin, bp_pc, &loc) || loc.entry != bp_pc))
		*clear = 0;
	if ((err = can_start(s)))
		return err;
	if (bp_pc) {
		if ((err = thread_getregs(t, &entry)))
			return err;
		err = bp_step_over(s, t, bp_pc, &status);
		if (err)
			return err;
		if (status) {
			c->pending_status = status;
			return -EAGAIN;
		}
	}
	err = step_to_accepted(s, t, at);
	if (err)
		return err;
	if (bp_pc) {
		/* At a function's entry: a scratch register the steps to
		 * here wrote is the prologue's (R12 holds the stack bound
		 * of a big frame); RDX is a closure's context. */
		if (at->r12 != entry.r12)
			*clear &= ~GOCALL_CLEAR_R12;
		if (at->r13 != entry.r13)
			*clear &= ~GOCALL_CLEAR_R13;
		if (at->r15 != entry.r15)
			*clear &= ~GOCALL_CLEAR_R15;
		if (at->rdx != entry.rdx || gobin_pc_lookup(&s->bin, bp_pc, &loc) ||
		    strstr(loc.func, ".func") || strstr(loc.func, "-fm"))
			*clear &= ~GOCALL_CLEAR_RDX;
	}
	return begin(s, t, *clear);
}

int gocall_gc_start_here(struct session *s, struct thread *t, unsigned int clear)
{
	int err = can_start(s);

	return err ? err : begin(s, t, clear);
}

/* Call fn from the debugCallNNN frame, returning to its second INT3. */
static int call(struct session *s, struct thread *t, struct user_regs_struct *r,
		uint64_t fn, int stage)
{
	struct gocall *c = &s->gc;
	int err;

	c->calls++;
	c->stage = stage;
	r->rsp -= 8;
	if ((err = thread_write(t, r->rsp, &c->ret_pc, 8)))
		return err;
	r->rip = fn;
	if (fn == c->gcstart) {
		/* gcTrigger{kind, now, n} in RAX, RBX, RCX (ABIInternal). */
		r->rax = GC_TRIGGER_CYCLE;
		r->rbx = 0;
		r->rcx = GC_CYCLE_FAR;
	}
	return thread_setregs(t, r);
}

/* The next step of the GC once a called function returned: 1 when it
 * is a Gosched, after which the thread should yield. */
static int next_call(struct session *s, struct thread *t, struct user_regs_struct *r)
{
	struct gocall *c = &s->gc;
	uint32_t phase = 1;

	if (c->stage == ST_GC || c->stage == ST_DONE) {
		c->stage = ST_DONE;	/* nothing more to call */
		return 0;
	}
	if (c->calls >= MAX_CALLS) {
		c->err = -ETIMEDOUT;
		snprintf(c->why, sizeof(c->why), "the GC cycle did not end after %d calls", MAX_CALLS);
		c->stage = ST_DONE;
		return 0;
	}
	if (c->stage == ST_SWEEP) {
		if (r->rax == UINT64_MAX) {	/* sweepone: nothing left */
			c->stage = ST_DONE;
			return 0;
		}
		call(s, t, r, c->sweepone, ST_SWEEP);
		return 0;
	}
	/* ST_START, ST_MARK: _GCoff is 0 (runtime/mgc.go). */
	if (thread_read(t, c->gcphase, &phase, 4) == 0 && phase == 0) {
		call(s, t, r, c->sweepone, ST_SWEEP);
		return 0;
	}
	/* The mark workers run on the other threads: this one yields at
	 * its next stop rather than spin through its whole timeslice
	 * (20 ms of virtual time, some 20000 clock reads). */
	call(s, t, r, c->gosched, ST_MARK);
	return 1;
}

static void finish(struct session *s, struct thread *t)
{
	struct gocall *c = &s->gc;

	c->tid = 0;
	vdso_drain(s, t);	/* reads made on the way to a safe point */
	if (s->ops->gc_done)
		s->ops->gc_done(s, t, c->err, c->why);
}

/* The assembler gives debugCallV2 a frame ($152, runtime/asm_amd64.s)
 * and so an epilogue, ADDQ $size, SP before its RET (Go 1.19 and 1.26
 * alike), which sets the flags after "We must not modify flags after this
 * point": a GC forced between a compare and its jump took the other
 * branch (tests/progs/inline.go's flags case).  So t steps to that RET
 * and gets the flags it left with there.  A few dozen steps per forced
 * GC.  A stop that comes instead (a signal) is left for the event loop,
 * with the flags set where t stands: its handler returns through
 * rt_sigreturn to the epilogue, which sets them again (not seen). */
#define MAX_EPILOGUE 64

static void flags_at_return(struct session *s, struct thread *t)
{
	struct gocall *c = &s->gc;
	struct user_regs_struct r;
	unsigned char op = 0;
	int i;

	for (i = 0; i < MAX_EPILOGUE; i++) {
		if (thread_getregs(t, &r) || thread_read(t, r.rip, &op, 1))
			return;
		if (op == 0xc3 || c->pending_status)
			break;
		if (pt_step(t->tid, &c->pending_status))
			return;
	}
	r.eflags = c->saved.eflags;
	thread_setregs(t, &r);
}

/* The protocol's INT3s are in debugCallV2, the debugCallNNN frames
 * and debugCallPanicked.  Before Go 1.20 the goroutine that runs the
 * call is not locked to the thread (runtime/debugcall.go of Go 1.19
 * debugCallWrap): once the called function blocks, the traps that
 * follow can come from any thread of the process. */
static int protocol_trap(struct session *s, uint64_t pc)
{
	struct gobin_loc loc;

	if (gobin_pc_lookup(&s->bin, pc, &loc))
		return 0;
	return !strncmp(loc.func, "debugCall", 9) || !strncmp(loc.func, "runtime.debugCall", 17);
}

int gocall_trapped(struct session *s, struct thread *t, const struct user_regs_struct *r)
{
	unsigned char byte = 0;

	if (thread_read(t, r->rip - 1, &byte, 1) || byte != 0xcc)
		return 0;
	return bp_at(s, t, r->rip - 1) ||
	       (s->gc.tid && s->gc.tgid == t->tgid && protocol_trap(s, r->rip - 1));
}

int gocall_trap(struct session *s, struct thread *t)
{
	struct gocall *c = &s->gc;
	struct user_regs_struct r;
	unsigned char byte = 0;

	if (!c->tid || c->tgid != t->tgid || thread_getregs(t, &r) ||
	    thread_read(t, r.rip - 1, &byte, 1) || byte != 0xcc || bp_at(s, t, r.rip - 1) ||
	    !protocol_trap(s, r.rip - 1))
		return 0;
	switch (r.r12) {
	case DC_REFUSED: {
		uint64_t str[2] = { 0, 0 };
		char why[80] = "";

		/* The reason, a Go string, at the top of the stack. */
		if (thread_read(t, r.rsp, str, sizeof(str)) == 0 && str[1] < sizeof(why))
			thread_read(t, str[0], why, (size_t)str[1]);
		snprintf(c->why, sizeof(c->why), "the runtime refused the call: %s", why);
		c->refused = 1;
		return 1;
	}
	case DC_FRAME_READY:
		c->ret_pc = r.rip;
		if (c->gc)
			call(s, t, &r, c->gc, ST_GC);
		else
			call(s, t, &r, c->gcstart, ST_START);
		return 1;
	case DC_RETURNED:
		return next_call(s, t, &r) ? GOCALL_TRAP_YIELD : GOCALL_TRAP_HANDLED;
	case DC_PANICKED:
		c->err = -EFAULT;
		snprintf(c->why, sizeof(c->why), "the forced GC panicked");
		return 1;
	case DC_RESTORE:
		if (c->refused) {
			/* Refused before any frame was made (debugCallV2 is
			 * NOSPLIT and the check runs on the system stack):
			 * everything goes back as it was, and the next
			 * accepted point is tried. */
			thread_setregs(t, &c->saved);
			pt_setfpregs(t->tid, &c->fsaved);
			c->tid = 0;
			if (++c->tries < MAX_TRIES && !bp_trap_at(s, t, c->saved.rip) &&
			    pt_step(t->tid, &c->pending_status) == 0 &&
			    !c->pending_status && step_to_accepted(s, t, &r) == 0 &&
			    enter(s, t, c->clear) == 0)
				return 1;
			c->err = -EAGAIN;
			finish(s, t);
			return 1;
		}
		/* debugCallV2 then restores every general register but RSP
		 * from its own frame (runtime/asm_amd64.s, after "restore:",
		 * the same 15 loads in Go 1.19 and 1.21-1.26: pointers may
		 * have moved with the stack), with the values it was entered
		 * with: registers cleared for the call stay cleared
		 * (clear_regs clears only dead ones).  What it leaves to gorr
		 * are the flags ("We must not modify flags after this
		 * point") and the vector registers.  RIP and RSP stay: its
		 * RET returns to the saved PC. */
		r.eflags = c->saved.eflags;
		/* Not the thread's TLS base or segments: the goroutine may
		 * be back on another thread than the one it left. */
		thread_setregs(t, &r);
		pt_setfpregs(t->tid, &c->fsaved);
		flags_at_return(s, t);
		finish(s, t);
		return 1;
	default:
		return 0;
	}
}

uint64_t gocall_return_site(struct session *s, struct thread *t)
{
	uint64_t pcs[BT_MAX];
	int n = backtrace_pcs(s, t, pcs, BT_MAX), i;

	for (i = 1; i < n; i++)
		if (gobin_call_safe(&s->bin, pcs[i]))
			return pcs[i];
	return 0;
}
