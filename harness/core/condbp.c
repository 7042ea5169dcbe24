/* Conditional breakpoints checked in the tracee (harness/core/condbp.h). */
#define _GNU_SOURCE
#include "harness/core/condbp.h"
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"
#include "harness/go/gobin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096ULL
#define GAP (2ULL << 20)	/* the page lies this far below the executable */
/* The wanted registers and what the trampoline saves, in a second page:
 * stores to the page that holds the code being run would clear the
 * pipeline at every lap (self-modifying code detection; the sort mode of
 * tests/progs/tightloop.go went from 0.9x its record time to 84x). */
#define DATA_OFF PAGE
#define SIG_OFF (PAGE - 8)	/* "gorrcbp": the page is gorr's */
/* What the trampoline saves while it checks (DATA_OFF + 128 + 256 is past
 * the wanted xmm registers). */
#define SCRATCH_RAX (DATA_OFF + 384)
#define SCRATCH_RCX (DATA_OFF + 392)
#define SCRATCH_FLAGS (DATA_OFF + 400)
#define SCRATCH_XMM0 (DATA_OFF + 416)
#define SCRATCH_XMM1 (DATA_OFF + 432)
#define STACK_OFF (DATA_OFF + 512)	/* the wanted stack words */
#define CODE_MAX (PAGE - 8)
#define FUNC_MAX (1u << 20)	/* larger functions are not scanned */

static const char page_sig[8] = "gorrcbp";

/* The general registers by their encoding number (rax 0 ... r15 15). */
static uint64_t reg_by_enc(const struct user_regs_struct *r, int enc)
{
	const unsigned long long *v[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};

	return *v[enc];
}

/* The registers in the order compared: most often different first (a
 * loop's counters and pointers), rbp, rsp, and g (r14) last. */
static const int build_order[16] = { 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 5, 4, 14, 15 };

struct code {
	unsigned char b[CODE_MAX];
	size_t n;
	uint64_t base;		/* where b lands in the tracee */
	int full;
};

static void emit(struct code *c, const void *p, size_t n)
{
	if (c->n + n > sizeof(c->b)) {
		c->full = 1;
		return;
	}
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void emit1(struct code *c, unsigned char x)
{
	emit(c, &x, 1);
}

static int fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static void put32(unsigned char *p, int32_t v)
{
	memcpy(p, &v, 4);
}

/* A rel32 to target, from the end of these four bytes. */
static int emit_rel32(struct code *c, uint64_t target)
{
	int64_t rel = (int64_t)(target - (c->base + c->n + 4));
	unsigned char b[4];

	if (!fits32(rel))
		return -ERANGE;
	put32(b, (int32_t)rel);
	emit(c, b, 4);
	return 0;
}

/* The length of the EVEX-encoded (AVX-512) instruction at p, which
 * capstone 4 does not always decode (crc32's ieeeCLMUL: vpclmulqdq on
 * zmm registers), or 0; *rip when its operand is RIP-relative.  Intel
 * SDM vol. 2, 2.7: 62, three payload bytes (the low two bits of the first
 * select the opcode map 0F, 0F38 or 0F3A), the opcode, ModRM, SIB and
 * displacement as in legacy encodings, and an imm8 for map 0F3A and for
 * map 0F's shift and compare opcodes. */
static unsigned int evex_len(const uint8_t *p, size_t avail, int *rip)
{
	unsigned int n = 6, map, mod, rm;
	uint8_t op;

	*rip = 0;
	if (avail < 6 || p[0] != 0x62 || (p[2] & 0x04) != 0x04)
		return 0;
	map = p[1] & 3;
	op = p[4];
	mod = p[5] >> 6;
	rm = p[5] & 7;
	if (!map)
		return 0;
	if (mod != 3 && rm == 4) {
		if (avail < 7)
			return 0;
		n++;
		if (mod == 0 && (p[6] & 7) == 5)
			n += 4;
	}
	if (mod == 0 && rm == 5) {
		*rip = 1;
		n += 4;
	} else if (mod == 1) {
		n += 1;
	} else if (mod == 2) {
		n += 4;
	}
	if (map == 3 || (map == 1 && ((op >= 0x70 && op <= 0x73) || op == 0xc2 ||
				      (op >= 0xc4 && op <= 0xc6))))
		n++;
	return n <= avail && n <= 15 ? n : 0;
}

/* 0 when in can be moved as it is (RIP-relative operands adjusted), 1
 * for a relative jump (moved as its rel32 form), 3 for a ret (moved as it
 * is, last), 2 for what cannot move:
 * calls and returns (the return address would be the trampoline's),
 * syscalls and traps, indirect jumps, and the short-only LOOP/JCXZ. */
static int movable(struct session *s, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	int g;

	/* A plain ret leaves by the stack's return address, whatever its
	 * own address: moved as it is, last (a function's return, where a
	 * slice that ran to it ends: sched.c leave_frame). */
	if (in->id == X86_INS_RET && in->size == 1)
		return 3;
	for (g = 0; g < in->detail->groups_count; g++)
		switch (in->detail->groups[g]) {
		case CS_GRP_CALL: case CS_GRP_RET: case CS_GRP_INT: case CS_GRP_IRET:
			return 2;
		}
	switch (in->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSENTER: case X86_INS_INT3:
	case X86_INS_LOOP: case X86_INS_LOOPE: case X86_INS_LOOPNE:
	case X86_INS_JRCXZ: case X86_INS_JECXZ: case X86_INS_JCXZ:
		return 2;
	}
	if (!cs_insn_group(s->cs_detail, in, CS_GRP_JUMP))
		return 0;
	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return 2;
	return 1;
}

/* Copy the displaced instructions [pc, pc + len) (code: their bytes)
 * into c so that they do what they did there; a relative jump may be
 * the last one when jump_ok; then, when back, a JMP to pc + len.
 * -ENOTSUP for what cannot move. */
static int relocate(struct session *s, struct code *c, uint64_t pc, const unsigned char *code,
		    unsigned int len, int jump_ok, int back)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = pc;
	cs_insn *in;
	int err = 0;

	in = cs_malloc(s->cs_detail);
	while (!err && left) {
		const cs_x86 *x = &in->detail->x86;
		uint64_t at = c->base + c->n;
		unsigned char b[16];
		unsigned int raw;
		int rip;
		uint8_t k;

		if (!cs_disasm_iter(s->cs_detail, &p, &left, &addr, in)) {
			/* An EVEX instruction capstone 4 cannot decode:
			 * moved as it is, unless RIP-relative. */
			raw = evex_len(p, left, &rip);
			if (!raw || rip) {
				err = -ENOTSUP;
				break;
			}
			emit(c, p, raw);
			p += raw;
			left -= raw;
			addr += raw;
			continue;
		}
		k = (uint8_t)movable(s, in);
		if (k == 2 || ((k == 1 || k == 3) && (left || !jump_ok))) {
			/* A relative jump, only as the last one: the
			 * bytes after it would be another block's. */
			err = -ENOTSUP;
			break;
		}
		if (k == 1) {
			if (in->bytes[0] == 0xeb || in->bytes[0] == 0xe9) {
				emit1(c, 0xe9);
			} else if (in->bytes[0] >= 0x70 && in->bytes[0] <= 0x7f) {
				emit1(c, 0x0f);
				emit1(c, (unsigned char)(0x80 + (in->bytes[0] - 0x70)));
			} else if (in->bytes[0] == 0x0f && in->bytes[1] >= 0x80 && in->bytes[1] <= 0x8f) {
				emit1(c, 0x0f);
				emit1(c, in->bytes[1]);
			} else {
				err = -ENOTSUP;	/* prefixed */
				break;
			}
			err = emit_rel32(c, (uint64_t)x->operands[0].imm);
			continue;
		}
		memcpy(b, in->bytes, in->size);
		for (k = 0; k < x->op_count; k++)
			if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RIP) {
				/* The same target from the copy's address. */
				int64_t disp = x->operands[k].mem.disp + (int64_t)(in->address - at);
				uint8_t off = x->encoding.disp_offset;
				int32_t old = (int32_t)x->operands[k].mem.disp;

				/* A RIP-relative displacement is 4 bytes; capstone
				 * 4 says 2 for some (movdqa xmm, [rip+d]): its
				 * offset is checked against the bytes instead. */
				if (!off || off + 4 > in->size || memcmp(b + off, &old, 4) || !fits32(disp)) {
					err = -ENOTSUP;
					break;
				}
				put32(b + x->encoding.disp_offset, (int32_t)disp);
			}
		if (!err)
			emit(c, b, in->size);
	}
	cs_free(in, 1);
	if (!err && back) {
		emit1(c, 0xe9);
		err = emit_rel32(c, pc + len);
	}
	return err;
}

int condbp_relocate(struct session *s, unsigned char *out, size_t cap, uint64_t base, uint64_t pc,
		    const unsigned char *code, unsigned int len)
{
	struct code *c = xcalloc(1, sizeof(*c));
	int err;

	c->base = base;
	err = relocate(s, c, pc, code, len, 1, 1);
	if (!err && (c->full || c->n > cap))
		err = -ENOSPC;
	if (!err) {
		memcpy(out, c->b, c->n);
		err = (int)c->n;
	}
	free(c);
	return err;
}

static int has(const uint64_t *v, size_t n, uint64_t x)
{
	return bsearch(&x, v, n, sizeof(*v), cmp_u64) != NULL;
}

/* Where the JMP goes for a check at pc: [*q, *q + *len), at least 5
 * bytes of whole instructions, q <= pc <= q + len, into whose inside no
 * branch of the function leads (read from the file: the tracee's copy
 * has INT3s in it), in a function with no indirect jump (a jump table,
 * whose targets are not in its code).  The window starts at pc when it
 * can, else up to four instructions before it in the same straight run
 * (Go puts a loop's condition after its body and jumps there first: the
 * instruction after pc is often a branch target); then pc must be no
 * branch's target, and the window may end at pc with a jump (the check
 * is where that jump falls through).  Capstone 4 cannot decode some
 * AVX-512 instructions (crc32's ieeeCLMUL): decoding starts again at the
 * next start of a line-table run.  0 or -ENOTSUP. */
static int pick_window(struct session *s, uint64_t pc, uint64_t *q, unsigned int *len,
		       uint64_t *hop)
{
	struct gobin_loc loc;
	unsigned char *fn = NULL;
	uint64_t *starts = NULL, *ends = NULL, *targets = NULL, *lines = NULL, addr;
	unsigned char *kind;	/* movable()'s answer per instruction */
	size_t nstarts = 0, ntargets = 0, nlines, size, left, i, at;
	uint64_t pad;		/* where the INT3s after the function's code start */
	int need;
	const uint8_t *p;
	int err = 0, back;
	cs_insn *in;

	if (!s->have_bin || gobin_pc_lookup(&s->bin, pc, &loc) || loc.end <= loc.entry ||
	    loc.end - loc.entry > FUNC_MAX)
		return -ENOTSUP;
	size = loc.end - loc.entry;
	fn = xmalloc(size);
	if (gobin_read_vaddr(&s->bin, loc.entry, fn, size)) {
		free(fn);
		return -ENOTSUP;
	}
	starts = xmalloc(size * sizeof(*starts));
	ends = xmalloc(size * sizeof(*ends));
	targets = xmalloc(size * sizeof(*targets));
	lines = xmalloc(size * sizeof(*lines));
	kind = xmalloc(size);
	nlines = gobin_line_starts(&s->bin, pc, lines, size);
	in = cs_malloc(s->cs_detail);
	p = fn;
	left = size;
	addr = loc.entry;
	while (!err && left) {
		const cs_x86 *x;
		int jump, call;
		uint64_t here = addr;

		if (!cs_disasm_iter(s->cs_detail, &p, &left, &addr, in)) {
			unsigned int raw;
			int rip;

			if ((raw = evex_len(p, left, &rip))) {
				starts[nstarts] = here;
				ends[nstarts] = here + raw;
				kind[nstarts++] = rip ? 2 : 0;
				p += raw;
				left -= raw;
				addr += raw;
				continue;
			}
			for (i = 0; i < nlines && lines[i] <= here; i++)
				;
			if (i == nlines || lines[i] >= loc.end) {
				/* The rest is INT3 padding, or unknown. */
				break;
			}
			p += lines[i] - here;
			left -= lines[i] - here;
			addr = lines[i];
			continue;
		}
		starts[nstarts] = here;
		ends[nstarts] = addr;
		kind[nstarts] = movable(s, in);
		nstarts++;
		jump = cs_insn_group(s->cs_detail, in, CS_GRP_JUMP);
		call = cs_insn_group(s->cs_detail, in, CS_GRP_CALL);
		if (!jump && !call)
			continue;
		x = &in->detail->x86;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			targets[ntargets++] = (uint64_t)x->operands[0].imm;
		else if (jump)
			err = -ENOTSUP;
	}
	cs_free(in, 1);
	pad = loc.end;
	for (i = nstarts; i > 0 && ends[i - 1] == pad && ends[i - 1] - starts[i - 1] == 1 && fn[starts[i - 1] - loc.entry] == 0xcc; i--)
		pad = starts[i - 1];
	free(fn);
	free(lines);
	qsort(targets, ntargets, sizeof(*targets), cmp_u64);
	for (at = 0; at < nstarts && starts[at] != pc; at++)
		;
	if (at == nstarts)
		err = -ENOTSUP;
	/* A 5-byte window for the JMP; else a 2-byte one for a short JMP to
	 * the INT3s after the function's code, which hold the long one
	 * (a loop's head whose next instruction is a branch target too). */
	for (need = 5; !err && need >= 2; need = need == 5 ? 2 : 0)
	for (back = 0; back <= 4 && (size_t)back <= at; back++) {
		uint64_t from = starts[at - back];
		size_t j = at - back;
		int bad = 0;

		/* A branch to pc would skip a check inside the window. */
		if (back && has(targets, ntargets, pc))
			break;
		*hop = 0;
		if (need < 5) {
			*hop = pad;
			if (pad + 5 > loc.end || pad > from + 2 + 127)
				break;
			for (i = 0; i < 5; i++)
				if (has(targets, ntargets, pad + i))
					bad = 1;
		}
		/* Whole instructions, one after another, to at least need
		 * bytes and at least to pc. */
		while (j < nstarts && (ends[j] - from < (uint64_t)need || ends[j] < pc)) {
			if (j + 1 < nstarts && starts[j + 1] != ends[j])
				bad = 1;
			j++;
		}
		if (j == nstarts || bad)
			break;
		for (i = at - back; i <= j; i++)
			if ((i > at - back && has(targets, ntargets, starts[i])) ||
			    kind[i] == 2 || ((kind[i] == 1 || kind[i] == 3) && i != j))
				bad = 1;
		if (!bad) {
			*q = from;
			*len = (unsigned int)(ends[j] - from);
			goto out;
		}
	}
	err = -ENOTSUP;
out:
	free(starts);
	free(ends);
	free(targets);
	free(kind);
	return err;
}

/* The address for the trampoline's page in t's process: 2 MB below the
 * lowest mapping of the file that holds pc, within a rel32 of pc; its
 * page is there already (*have) or that range is free.  0 or -ENOTSUP. */
static int pick_page(struct thread *t, uint64_t pc, const char want[8], uint64_t at, uint64_t len,
		     uint64_t *addr, int *have)
{
	struct range { uint64_t lo, hi; } *r = NULL;
	size_t n = 0, a = 0, i;
	char path[64], line[4096], file[4096] = "";
	uint64_t low = UINT64_MAX, cand;
	int k, err = -ENOTSUP;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->tgid);
	if (!(f = fopen(path, "re")))
		return -ENOTSUP;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		int off = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2)
			continue;
		if (n == a) {
			a = a ? 2 * a : 64;
			r = xrealloc(r, a * sizeof(*r));
		}
		r[n].lo = lo;
		r[n].hi = hi;
		n++;
		if (pc >= lo && pc < hi && off > 0)
			snprintf(file, sizeof(file), "%s", line + off);
	}
	fclose(f);
	if (!file[0] || file[0] != '/')
		goto out;
	/* Again for the file's lowest mapping. */
	if (!(f = fopen(path, "re")))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		int off = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &off) >= 2 && off > 0 &&
		    !strcmp(line + off, file) && lo < low)
			low = lo;
	}
	fclose(f);
	for (k = 1; k <= 4 && low != UINT64_MAX; k++) {
		char sig[8];
		int used = 0;

		if (low < k * GAP + 0x10000)
			break;
		cand = ((low - k * GAP) & ~(PAGE - 1)) + at;
		if (!fits32((int64_t)(cand - pc)) || !fits32((int64_t)(cand + len - pc)))
			break;
		/* Left there by this process's parent (a fork inherits it),
		 * or by an earlier arming. */
		if (mem_read(t->tid, cand + SIG_OFF, sig, sizeof(sig)) == 0 &&
		    !memcmp(sig, want, sizeof(sig))) {
			*addr = cand;
			*have = 1;
			err = 0;
			break;
		}
		for (i = 0; i < n; i++)
			if (r[i].lo < cand + len && r[i].hi > cand)
				used = 1;
		if (!used) {
			*addr = cand;
			*have = 0;
			err = 0;
			break;
		}
	}
out:
	free(r);
	return err;
}

/* The page, rwx (it saves registers there), private, anonymous, fixed
 * without replacing anything. */
static int inject_mmap(struct session *s, struct thread *t, uint64_t pc, uint64_t addr, uint64_t len)
{
	uint64_t a[6] = { addr, len, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0 };
	int64_t ret;
	int err = bp_inject_syscall(s, t, pc, SYS_mmap, a, &ret);

	if (err)
		return err;
	if ((uint64_t)ret != addr)
		return ret < 0 && ret > -4096 ? (int)ret : -ENOTSUP;
	return 0;
}

int condbp_near_page(struct session *s, struct thread *t, uint64_t at, uint64_t pc,
		     const char sig[8], int pages, uint64_t *addr)
{
	/* condbp's two pages first in the place, the syscall buffer's
	 * trampoline page after them, the lap counter's pages (count.c,
	 * "gorrcnt") after that: below a non-PIE binary at 0x400000 there
	 * is room for one place only. */
	uint64_t off = !strcmp(sig, page_sig) ? 0 : !strcmp(sig, "gorrcnt") ? 4 * PAGE : 2 * PAGE;
	int have = 0, err;

	if ((err = pick_page(t, pc, sig, off, (uint64_t)pages * PAGE, addr, &have)))
		return err;
	if (have)
		return 0;
	if ((err = inject_mmap(s, t, at, *addr, (uint64_t)pages * PAGE)))
		return err == -ESRCH ? err : -ENOTSUP;
	return bp_code_write(s, t, *addr + SIG_OFF, sig, 8);
}

/* The trampoline at c->base for a check at pc, the JMP at q taking
 * code[0, len): the instructions before pc, compare, trap, or the rest
 * and back. */
/* rip-relative store or load of a 64-bit register (REX.W 89/8B /r). */
static int emit_mov_rip(struct code *c, int store, int enc, uint64_t addr)
{
	emit1(c, (unsigned char)(0x48 | (enc >= 8 ? 0x04 : 0)));
	emit1(c, store ? 0x89 : 0x8b);
	emit1(c, (unsigned char)(0x05 | (enc & 7) << 3));
	return emit_rel32(c, addr);
}

/* movdqu between xmm0/xmm1 and the page (F3 0F 7F store, 6F load). */
static int emit_movdqu_rip(struct code *c, int store, int xmm, uint64_t addr)
{
	emit1(c, 0xf3);
	emit1(c, 0x0f);
	emit1(c, store ? 0x7f : 0x6f);
	emit1(c, (unsigned char)(0x05 | (xmm & 7) << 3));
	return emit_rel32(c, addr);
}

/* The flags back from the page: OF from seto's byte (0x7f + 1 overflows),
 * the rest from lahf's byte by sahf; rax from the page. */
static int emit_flags_restore(struct code *c)
{
	int err;

	emit1(c, 0x66);				/* mov ax, [rip+flags] */
	emit1(c, 0x8b);
	emit1(c, 0x05);
	if ((err = emit_rel32(c, c->base + SCRATCH_FLAGS)))
		return err;
	emit(c, "\x04\x7f", 2);			/* add al, 0x7f */
	emit1(c, 0x9e);				/* sahf */
	return emit_mov_rip(c, 0, 0, c->base + SCRATCH_RAX);
}

/* The trampoline at c->base for a check at pc, the JMP at q taking
 * code[0, len): the instructions before pc, compare, trap, or the rest
 * and back.  It writes nothing to the stack (the page holds what it
 * saves: the page is the only one a thread runs this in at a time, as
 * replay runs one thread): a write below SP would stay in dead slots of
 * later frames, which the goroutine's stack digest of a later slice
 * covers (encoding/json's tests diverged at concatstrings). */
static int build(struct session *s, struct code *c, uint64_t q, uint64_t pc,
		 const unsigned char *code, unsigned int len, int sse, size_t nwords, int fast,
		 uint64_t fast_want, uint64_t *trap, uint64_t *resume)
{
	unsigned int before = (unsigned int)(pc - q);
	size_t jne[16 + 16], njne = 0, ssemiss[16], nssemiss = 0, to_resume = 0, jrcxz;
	size_t stkmiss[CONDBP_STACK_MAX / 8], nstkmiss = 0, k;
	int i, err;

	if ((err = relocate(s, c, q, code, before, before == len, 0)))
		return err;
	if (fast >= 0) {
		/* One register that changes lap after lap first, without
		 * touching the flags (saving them costs more than the
		 * check): rcx = reg - wanted by lea, jrcxz. */
		unsigned char imm[8];
		uint64_t neg = (uint64_t)0 - fast_want;

		if ((err = emit_mov_rip(c, 1, 1, c->base + SCRATCH_RCX)))
			return err;
		emit(c, "\x48\xb9", 2);			/* mov rcx, imm64 */
		memcpy(imm, &neg, 8);
		emit(c, imm, 8);
		emit1(c, (unsigned char)(0x48 | (fast >= 8 ? 0x02 : 0)));	/* lea rcx, [rcx + reg] */
		emit1(c, 0x8d);
		emit1(c, 0x0c);
		emit1(c, (unsigned char)((fast & 7) << 3 | 1));
		emit1(c, 0xe3);				/* jrcxz maybe */
		jrcxz = c->n;
		emit1(c, 0);
		if ((err = emit_mov_rip(c, 0, 1, c->base + SCRATCH_RCX)))
			return err;
		emit1(c, 0xe9);				/* jmp resume */
		to_resume = c->n;
		emit(c, "\0\0\0\0", 4);
		c->b[jrcxz] = (unsigned char)(c->n - (jrcxz + 1));
		if ((err = emit_mov_rip(c, 0, 1, c->base + SCRATCH_RCX)))	/* maybe: */
			return err;
	}
	/* The flags, which cmp writes: lahf and seto, by rax. */
	if ((err = emit_mov_rip(c, 1, 0, c->base + SCRATCH_RAX)))
		return err;
	emit1(c, 0x9f);					/* lahf */
	emit(c, "\x0f\x90\xc0", 3);			/* seto al */
	emit1(c, 0x66);					/* mov [rip+flags], ax */
	emit1(c, 0x89);
	emit1(c, 0x05);
	if ((err = emit_rel32(c, c->base + SCRATCH_FLAGS)))
		return err;
	if ((err = emit_mov_rip(c, 0, 0, c->base + SCRATCH_RAX)))
		return err;
	for (i = 0; i < 16; i++) {
		int enc = build_order[i];
		uint64_t data = c->base + DATA_OFF + 8 * (uint64_t)enc;

		/* cmp r64, [rip + disp32]: REX.W(.R) 3B /r, mod 00 rm 101 */
		emit1(c, (unsigned char)(0x48 | (enc >= 8 ? 0x04 : 0)));
		emit1(c, 0x3b);
		emit1(c, (unsigned char)(0x05 | (enc & 7) << 3));
		if ((err = emit_rel32(c, data)))
			return err;
		emit1(c, 0x0f);			/* jne miss */
		emit1(c, 0x85);
		jne[njne++] = c->n;
		emit(c, "\0\0\0\0", 4);
	}
	if (sse) {
		/* And xmm0-15 (a loop whose general registers repeat lap
		 * after lap, sha256's SHA-NI rounds): xmm0 and xmm1, the
		 * scratch ones, saved in the page; each register xor its
		 * wanted value, ptest (SSE4.1) for zero. */
		if ((err = emit_movdqu_rip(c, 1, 0, c->base + SCRATCH_XMM0)) ||
		    (err = emit_movdqu_rip(c, 1, 1, c->base + SCRATCH_XMM1)))
			return err;
		for (i = 0; i < 16; i++) {
			uint64_t want = c->base + DATA_OFF + 128 + 16 * (uint64_t)i;

			if (i < 2) {
				if ((err = emit_movdqu_rip(c, 0, 0,
							   c->base + (i ? SCRATCH_XMM1 : SCRATCH_XMM0))) ||
				    (err = emit_movdqu_rip(c, 0, 1, want)))
					return err;
				emit(c, "\x66\x0f\xef\xc1", 4);	/* pxor xmm0, xmm1 */
			} else {
				if ((err = emit_movdqu_rip(c, 0, 0, want)))
					return err;
				emit1(c, 0x66);			/* pxor xmm0, xmmI */
				if (i >= 8)
					emit1(c, 0x41);
				emit1(c, 0x0f);
				emit1(c, 0xef);
				emit1(c, (unsigned char)(0xc0 | (i & 7)));
			}
			emit(c, "\x66\x0f\x38\x17\xc0", 5);	/* ptest xmm0, xmm0 */
			emit1(c, 0x0f);				/* jnz ssemiss */
			emit1(c, 0x85);
			ssemiss[nssemiss++] = c->n;
			emit(c, "\0\0\0\0", 4);
		}
		if ((err = emit_movdqu_rip(c, 0, 0, c->base + SCRATCH_XMM0)) ||
		    (err = emit_movdqu_rip(c, 0, 1, c->base + SCRATCH_XMM1)))
			return err;
	}
	if (nwords) {
		/* And the words at the top of the stack (a callee called
		 * lap after lap with the same registers: its callers'
		 * counters are in their frames), by rcx. */
		if ((err = emit_mov_rip(c, 1, 1, c->base + SCRATCH_RCX)))
			return err;
		for (k = 0; k < nwords; k++) {
			unsigned char d[4];

			emit(c, "\x48\x8b\x8c\x24", 4);	/* mov rcx, [rsp + disp32] */
			put32(d, (int32_t)(8 * k));
			emit(c, d, 4);
			emit(c, "\x48\x3b\x0d", 3);	/* cmp rcx, [rip + d] */
			if ((err = emit_rel32(c, c->base + STACK_OFF + 8 * k)))
				return err;
			emit1(c, 0x0f);				/* jne stkmiss */
			emit1(c, 0x85);
			stkmiss[nstkmiss++] = c->n;
			emit(c, "\0\0\0\0", 4);
		}
		if ((err = emit_mov_rip(c, 0, 1, c->base + SCRATCH_RCX)))
			return err;
	}
	if ((err = emit_flags_restore(c)))
		return err;
	*trap = c->base + c->n;
	emit1(c, 0xcc);				/* int3: all equal */
	if (sse) {
		/* ssemiss: put xmm0 and xmm1 back, then as a miss. */
		for (i = 0; i < (int)nssemiss; i++)
			put32(c->b + ssemiss[i], (int32_t)(c->n - (ssemiss[i] + 4)));
		if ((err = emit_movdqu_rip(c, 0, 0, c->base + SCRATCH_XMM0)) ||
		    (err = emit_movdqu_rip(c, 0, 1, c->base + SCRATCH_XMM1)))
			return err;
	}
	if (nwords) {
		/* stkmiss: rcx back, then as a miss. */
		for (k = 0; k < nstkmiss; k++)
			put32(c->b + stkmiss[k], (int32_t)(c->n - (stkmiss[k] + 4)));
		if ((err = emit_mov_rip(c, 0, 1, c->base + SCRATCH_RCX)))
			return err;
	}
	for (i = 0; i < (int)njne; i++)
		put32(c->b + jne[i], (int32_t)(c->n - (jne[i] + 4)));
	if ((err = emit_flags_restore(c)))	/* miss: */
		return err;
	*resume = c->base + c->n;
	if (fast >= 0)
		put32(c->b + to_resume, (int32_t)(c->n - (to_resume + 4)));
	if ((err = relocate(s, c, pc, code + before, len - before, 1, 1)))
		return err;
	return c->full ? -ENOTSUP : 0;
}

int condbp_fits(struct session *s, uint64_t pc)
{
	uint64_t q, hop;
	unsigned int len;

	return s->cs_detail_open && pick_window(s, pc, &q, &len, &hop) == 0 &&
	       len <= sizeof(s->condbp.orig);
}

int condbp_arm(struct session *s, struct thread *t, uint64_t pc,
	       const struct user_regs_struct *want, const unsigned char *sse,
	       const unsigned char *stack, size_t stack_len)
{
	struct condbp *cb = &s->condbp;
	unsigned char code[sizeof(cb->orig)], file[sizeof(cb->orig)], patch[sizeof(cb->orig)];
	uint64_t data[16], page = 0, trap = 0, resume = 0, q, hop;
	unsigned char hop_orig[5];
	struct user_regs_struct live;
	int fast = -1;
	struct code *c = NULL;
	unsigned int len, i;
	int err;

	if (cb->armed || !s->cs_detail_open)
		return -EBUSY;
	if ((err = pick_window(s, pc, &q, &len, &hop)))
		return err;
	if (len > sizeof(code))
		return -ENOTSUP;
	for (i = 0; i < len; i++)
		if (bp_trap_at(s, t, q + i) || (hop && i < 5 && bp_trap_at(s, t, hop + i)))
			return -ENOTSUP;
	if (hop && (mem_read(t->tid, hop, hop_orig, 5) || memcmp(hop_orig, "\xcc\xcc\xcc\xcc\xcc", 5)))
		return -ENOTSUP;
	/* The process runs the binary the window was picked in. */
	if ((err = mem_read(t->tid, q, code, len)))
		return err;
	if (gobin_read_vaddr(&s->bin, q, file, len) || memcmp(code, file, len))
		return -ENOTSUP;
	if (cb->page && cb->tgid == t->tgid) {
		char sig[8];

		if (mem_read(t->tid, cb->page + SIG_OFF, sig, sizeof(sig)) == 0 &&
		    !memcmp(sig, page_sig, sizeof(sig)))
			page = cb->page;
	}
	if (!page && (err = condbp_near_page(s, t, pc, pc, page_sig, 2, &page)))
		return err;
	cb->tgid = t->tgid;
	cb->page = page;
	c = xcalloc(1, sizeof(*c));
	c->base = page;
	/* ptest is SSE4.1's: without it the INT3's check does the SSE ones. */
	if (!__builtin_cpu_supports("sse4.1"))
		sse = NULL;
	/* The fast filter's register: one that differs at this pass (a
	 * miss), most likely the loop's counter or pointer; not rsp (the
	 * push moves it) nor rcx (the scratch). */
	if (pt_getregs(t->tid, &live) == 0)
		for (i = 0; i < 16 && fast < 0; i++) {
			int enc = build_order[i];

			if (enc != 1 && enc != 4 && reg_by_enc(&live, enc) != reg_by_enc(want, enc))
				fast = enc;
		}
	if (!stack || stack_len > CONDBP_STACK_MAX)
		stack_len = 0;
	err = build(s, c, q, pc, code, len, sse != NULL, stack_len / 8, fast,
		    fast >= 0 ? reg_by_enc(want, fast) : 0, &trap, &resume);
	if (!err)
		err = bp_code_write(s, t, page, c->b, c->n);
	for (i = 0; i < 16; i++)
		data[i] = reg_by_enc(want, (int)i);
	if (!err)
		err = bp_code_write(s, t, page + DATA_OFF, data, sizeof(data));
	if (!err && sse)
		err = bp_code_write(s, t, page + DATA_OFF + 128, sse, 256);
	if (!err && stack_len)
		err = bp_code_write(s, t, page + STACK_OFF, stack, stack_len / 8 * 8);
	free(c);
	if (err)
		return err == -ESRCH ? err : -ENOTSUP;
	/* jmp rel32 to the trampoline; the rest of the window is never run
	 * (nothing branches there; a thread at pc goes on in the
	 * trampoline, condbp_pass). */
	memset(patch, 0xcc, sizeof(patch));
	if (hop) {
		/* jmp rel8 to the INT3s after the code, jmp rel32 there. */
		patch[0] = 0xe9;
		put32(patch + 1, (int32_t)(page - (hop + 5)));
		if ((err = bp_code_write(s, t, hop, patch, 5)))
			return err;
		memset(patch, 0xcc, sizeof(patch));
		patch[0] = 0xeb;
		patch[1] = (unsigned char)(int8_t)(hop - (q + 2));
	} else {
		patch[0] = 0xe9;
		put32(patch + 1, (int32_t)(page - (q + 5)));
	}
	if ((err = bp_code_write(s, t, q, patch, len))) {
		if (hop)
			bp_code_write(s, t, hop, hop_orig, 5);
		return err;
	}
	cb->hop = hop;
	memcpy(cb->orig, code, len);
	cb->at = q;
	cb->len = len;
	cb->pc = pc;
	cb->trap = trap;
	cb->resume = resume;
	cb->armed = 1;
	return 0;
}

int condbp_disarm(struct session *s, struct thread *t)
{
	struct condbp *cb = &s->condbp;

	if (!cb->armed)
		return -ENOENT;
	cb->armed = 0;
	if (cb->hop)
		bp_code_write(s, t, cb->hop, "\xcc\xcc\xcc\xcc\xcc", 5);
	return bp_code_write(s, t, cb->at, cb->orig, cb->len);
}

uint64_t condbp_trapped(const struct session *s, const struct thread *t, uint64_t trap)
{
	const struct condbp *cb = &s->condbp;

	return cb->armed && cb->tgid == t->tgid && trap == cb->trap ? cb->pc : 0;
}

int condbp_at(const struct session *s, const struct thread *t, uint64_t pc)
{
	const struct condbp *cb = &s->condbp;

	return cb->armed && cb->tgid == t->tgid && pc == cb->pc;
}

int condbp_pass(struct session *s, struct thread *t)
{
	struct user_regs_struct regs;
	int err;

	if (!s->condbp.armed || s->condbp.tgid != t->tgid)
		return -ENOENT;
	if ((err = pt_getregs(t->tid, &regs)))
		return err;
	regs.rip = s->condbp.resume;
	return pt_setregs(t->tid, &regs);
}
