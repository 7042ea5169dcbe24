/* Unwinding a stopped thread's stack.  Go on amd64 records, for every PC,
 * how far SP is below the frame's top (the pcsp table of runtime/symtab.go),
 * which unwinds even assembly functions without frame pointers: the return
 * address is at SP + framesize, and the caller's SP just above it. */
#define _GNU_SOURCE
#include "harness/go/backtrace.h"
#include "harness/core/ptrace.h"
#include "harness/core/vdso.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Frames whose caller is not a Go frame on this stack.  A return into
 * runtime.systemstack is on the g0 stack after its switch (without one it
 * jumps to fn, runtime/asm_amd64.s): the word above it is what g0's stack
 * held before, a stale return address in Go 1.19 (runtime.newproc), the
 * caller is on the goroutine's stack (backtrace_switched). */
static int is_stack_top(const char *fn)
{
	static const char *const tops[] = {
		"runtime.goexit", "runtime.mstart", "runtime.mstart0", "runtime.rt0_go",
		"runtime.systemstack", "runtime.morestack", "runtime.sigreturn",
		"runtime.sigtramp", "runtime.sigreturn__sigaction", "runtime.clone",
		"runtime.mcall", "_rt0_amd64", "_rt0_amd64_linux",
	};
	size_t i;

	for (i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		if (!strcmp(fn, tops[i]))
			return 1;
	return 0;
}

/* The runtime's clock functions that call the vDSO on the g0 stack with
 * the frame's own SP saved in R12 (runtime/sys_linux_amd64.s nanotime1,
 * walltime before Go 1.17; runtime/time_linux_amd64.s time.now: "Save
 * old SP; R12 unchanged by C code"). */
static int saves_sp_in_r12(const char *fn)
{
	return !strcmp(fn, "runtime.nanotime1") || !strcmp(fn, "runtime.walltime") ||
	       !strcmp(fn, "time.now");
}

int backtrace_pcs(struct session *s, struct thread *t, uint64_t *pcs, int max)
{
	struct user_regs_struct regs;

	struct gobin_loc loc;
	uint64_t sp;

	if (thread_getregs(t, &regs))
		return 0;
	/* Stopped inside gorr's vDSO (at its image's own SYSCALL, for a
	 * read its ring could not answer: the reads replay diverges at).
	 * One of the clock functions below called the image on the g0
	 * stack: its return address lies a few words above SP, and from
	 * there the case below goes on (the image keeps R12, callee-saved
	 * in the C ABI, as they expect: "R12 unchanged by C code"). */
	if (s->have_bin && vdso_holds(s, regs.rip)) {
		uint64_t w;
		int k;

		/* A word at a time: the g0 stack may end within the span. */
		for (k = 0; k < 32 && thread_read(t, regs.rsp + 8 * (uint64_t)k, &w, 8) == 0; k++)
			if (w && gobin_pc_lookup(&s->bin, w - 1, &loc) == 0 && saves_sp_in_r12(loc.func)) {
				regs.rip = w;
				regs.rsp += 8 * (uint64_t)(k + 1);
				break;
			}
	}
	sp = regs.rsp;
	/* Clock reads without the vDSO (gorr hides it) stop in
	 * runtime.nanotime1 or time.now on the g0 stack, with the
	 * frame's own SP kept in R12 (runtime/sys_linux_amd64.s: "MOVQ SP,
	 * R12 // Save old SP; R12 unchanged by C code"): unwound from there
	 * when that frame's return address is code (a spinning thread's
	 * stack in a hang report was this frame alone). */
	if (s->have_bin && gobin_pc_lookup(&s->bin, regs.rip, &loc) == 0 &&
	    saves_sp_in_r12(loc.func) && regs.r12 != regs.rsp) {
		int64_t size;
		uint64_t ret;

		if (gobin_frame_size(&s->bin, regs.rip, &size) == 0 && size >= 0 &&
		    thread_read(t, regs.r12 + (uint64_t)size, &ret, 8) == 0 &&
		    gobin_pc_lookup(&s->bin, ret - 1, &loc) == 0)
			sp = regs.r12;
	}
	return backtrace_from(s, t, regs.rip, sp, pcs, max);
}

int backtrace_from(struct session *s, struct thread *t, uint64_t pc, uint64_t sp,
		   uint64_t *pcs, int max)
{
	return backtrace_frames(s, t, pc, sp, pcs, NULL, max);
}

int backtrace_frames(struct session *s, struct thread *t, uint64_t pc, uint64_t sp,
		     uint64_t *pcs, uint64_t *sps, int max)
{
	int n = 0;

	while (n < max) {
		struct gobin_loc loc;
		int64_t size;
		uint64_t ret;

		if (sps)
			sps[n] = sp;
		pcs[n++] = pc;
		if (!s->have_bin || gobin_pc_lookup(&s->bin, n > 1 ? pc - 1 : pc, &loc) ||
		    is_stack_top(loc.func))
			break;
		/* A return address points after the call: look up pc - 1. */
		if (gobin_frame_size(&s->bin, n > 1 ? pc - 1 : pc, &size) || size < 0)
			break;
		if (thread_read(t, sp + (uint64_t)size, &ret, 8) || !ret)
			break;
		/* A return address is in code: a word that is not (a heap
		 * pointer, where the stack did not hold what the pcsp table
		 * says it holds) ends the walk rather than printing as a
		 * frame "?() pc=0xc000088b80" (seen in goroutine listings at
		 * exit, issue 16). */
		if (gobin_pc_lookup(&s->bin, ret - 1, &loc))
			break;
		sp += (uint64_t)size + 8;
		pc = ret;
	}
	return n;
}

int backtrace_through_switch(struct session *s, const uint64_t *pcs, int n)
{
	struct gobin_loc loc;

	return s->have_bin && n > 1 && gobin_pc_lookup(&s->bin, pcs[n - 1] - 1, &loc) == 0 &&
	       !strcmp(loc.func, "runtime.systemstack");
}

int backtrace_switched(struct session *s, struct thread *t, uint64_t sched_pc, uint64_t sched_sp,
		       uint64_t *pcs, int max)
{
	struct gobin_loc loc;
	int n;

	/* runtime/asm_amd64.s gosave_systemstack_switch: a pc in
	 * systemstack_switch (its entry in Go 1.19, 8 bytes in since: "add 8
	 * bytes to skip the prologue") whose frame, by the pcsp table, is
	 * systemstack's own (no locals; the frame pointer pushed since Go
	 * 1.21), so the walk goes on to systemstack's caller. */
	if (!s->have_bin || max < 2 || gobin_pc_lookup(&s->bin, sched_pc, &loc) ||
	    strcmp(loc.func, "runtime.systemstack_switch"))
		return 0;
	n = backtrace_frames(s, t, sched_pc, sched_sp, pcs, NULL, max);
	/* Printed, as every frame after the first, at pc - 1: the entry
	 * (Go 1.19) is the function before's last byte. */
	pcs[0] = loc.entry + 1;
	return n;
}

void backtrace_print(struct sbuf *sb, struct session *s, struct thread *t)
{
	uint64_t pcs[BT_MAX];
	int n = backtrace_pcs(s, t, pcs, BT_MAX);

	backtrace_print_pcs(sb, s, pcs, n, 0);
}

void backtrace_print_pcs(struct sbuf *sb, struct session *s, const uint64_t *pcs, int n,
			 int flags)
{
	const char *fi = flags & BT_GO_STYLE ? "" : "    ";
	const char *li = flags & BT_GO_STYLE ? "\t" : "        ";
	int i, shown = 0;

	for (i = 0; i < n; i++) {
		struct gobin_frame fr[16];
		uint64_t pc = i ? pcs[i] - 1 : pcs[i];
		int nf = s->have_bin ? gobin_pc_frames(&s->bin, pc, fr, 16) : 0, f;
		char name[512];

		if (!nf) {
			shown++;
			sbuf_addf(sb, "%s?()\n%spc=%#" PRIx64 "\n", fi, li, pcs[i]);
			continue;
		}
		/* The calls inlined at pc first, as Go's tracebacks print
		 * them: no offset, since they have no frame of their own. */
		for (f = 0; f < nf; f++) {
			/* Go's default tracebacks leave the runtime's frames
			 * out (runtime/traceback.go showframe). */
			if ((flags & BT_HIDE_RUNTIME) && !strncmp(fr[f].func, "runtime.", 8) &&
			    (shown || i + 1 < n || f + 1 < nf))
				continue;
			shown++;
			sbuf_addf(sb, "%s%s(...)\n", fi, gobin_print_name(fr[f].func, name, sizeof(name)));
			sbuf_addf(sb, "%s%s:%d", li, fr[f].file ? fr[f].file : "?", fr[f].line);
			if (!fr[f].inlined)
				sbuf_addf(sb, " +%#" PRIx64, pcs[i] - fr[f].entry);
			sbuf_addc(sb, '\n');
		}
	}
}
