/* Timeslices that end inside a tight loop: which loops replay can skip
 * ahead in (loops.h says why and how). */
#define _GNU_SOURCE
#include "harness/sched/loops.h"
#include "harness/core/state.h"
#include "harness/core/ptrace.h"

#include <errno.h>
#include <string.h>

#define LOOP_MAX_INSNS 48
#define LOOP_CODE 384

enum { GP_RIP = 16, GP_FLAGS = 17, GP_SEG = 18, GP_OTHER = -1 };

/* The general register a capstone register is part of (0 rax, 1 rbx,
 * 2 rcx, 3 rdx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15), or one of the
 * GP_ kinds. */
static int gp_of(unsigned int reg)
{
	switch (reg) {
	case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX: case X86_REG_RAX:
		return 0;
	case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX: case X86_REG_RBX:
		return 1;
	case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX: case X86_REG_RCX:
		return 2;
	case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX: case X86_REG_RDX:
		return 3;
	case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: case X86_REG_RSI:
		return 4;
	case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: case X86_REG_RDI:
		return 5;
	case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP: case X86_REG_RBP:
		return 6;
	case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP: case X86_REG_RSP:
		return 7;
	case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R8D: case X86_REG_R8: return 8;
	case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R9D: case X86_REG_R9: return 9;
	case X86_REG_R10B: case X86_REG_R10W: case X86_REG_R10D: case X86_REG_R10: return 10;
	case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R11D: case X86_REG_R11: return 11;
	case X86_REG_R12B: case X86_REG_R12W: case X86_REG_R12D: case X86_REG_R12: return 12;
	case X86_REG_R13B: case X86_REG_R13W: case X86_REG_R13D: case X86_REG_R13: return 13;
	case X86_REG_R14B: case X86_REG_R14W: case X86_REG_R14D: case X86_REG_R14: return 14;
	case X86_REG_R15B: case X86_REG_R15W: case X86_REG_R15D: case X86_REG_R15: return 15;
	case X86_REG_RIP:
		return GP_RIP;
	case X86_REG_EFLAGS:
		return GP_FLAGS;
	case X86_REG_FS: case X86_REG_GS:
		return GP_SEG;
	}
	return GP_OTHER;
}

static uint64_t gp_value(const struct user_regs_struct *r, int gp)
{
	const unsigned long long v[16] = {
		r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
	};

	return gp >= 0 && gp < 16 ? v[gp] : 0;
}

/* Instructions whose result is not a function of registers and memory,
 * or that leave the thread's own code. */
static int forbidden(const cs_insn *in)
{
	const cs_detail *d = in->detail;
	int i;

	switch (in->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSENTER: case X86_INS_INT: case X86_INS_INT3:
	case X86_INS_INTO: case X86_INS_RDTSC: case X86_INS_RDTSCP: case X86_INS_RDRAND:
	case X86_INS_RDSEED: case X86_INS_CPUID: case X86_INS_HLT:
	case X86_INS_UD2: case X86_INS_XGETBV:
	/* String instructions write where rdi points, lap after lap. */
	case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
	case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
	case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
	case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
	case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
		return 1;
	}
	for (i = 0; i < d->groups_count; i++)
		switch (d->groups[i]) {
		case CS_GRP_CALL: case CS_GRP_RET: case CS_GRP_INT: case CS_GRP_IRET:
		case CS_GRP_PRIVILEGE:
			return 1;
		}
	return 0;
}

static int is_jump(const cs_insn *in)
{
	int i;

	for (i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == CS_GRP_JUMP)
			return 1;
	return 0;
}

static int mem_reads_var(const cs_x86_op *op, const int *inv, const struct loop_skip *ls,
			 const struct user_regs_struct *regs, uint64_t next_pc)
{
	int b = op->mem.base ? gp_of(op->mem.base) : -2, x = op->mem.index ? gp_of(op->mem.index) : -2;
	uint64_t a;
	int i;

	if ((b >= 0 && b < 16 && !inv[b]) || (x >= 0 && x < 16 && !inv[x]))
		return 1;
	if ((b != -2 && b != GP_RIP && (b < 0 || b >= 16)) || (x != -2 && (x < 0 || x >= 16)))
		return 1;
	if (op->mem.segment != X86_REG_INVALID)
		return 0;	/* TLS (the g): the thread's own, not stored to here */
	a = (uint64_t)op->mem.disp + (b == GP_RIP ? next_pc : b >= 0 ? gp_value(regs, b) : 0) +
	    (x >= 0 ? gp_value(regs, x) * (uint64_t)op->mem.scale : 0);
	for (i = 0; i < ls->nstores; i++)
		if (a < ls->st[i].addr + ls->st[i].len && ls->st[i].addr < a + op->size)
			return 1;	/* reads what the loop writes */
	return 0;
}

int loop_skippable(struct session *s, struct thread *t, const struct user_regs_struct *regs,
		   struct loop_skip *ls)
{
	unsigned char code[LOOP_CODE];
	cs_insn *insn = NULL;
	size_t n = 0, i, nlap = 0, len = sizeof(code);
	uint64_t head = regs->rip;
	int inv[16], flags_inv = 0, err = -ENOENT, j, k;

	memset(ls, 0, sizeof(*ls));
	if (!s->cs_detail_open)
		return -ENOENT;
	/* The loop's code, in its process: it may end near a mapping's end. */
	while (len >= 32 && thread_read(t, head, code, len))
		len /= 2;
	if (len < 32)
		return -ENOENT;
	n = cs_disasm(s->cs_detail, code, len, head, LOOP_MAX_INSNS, &insn);
	/* One straight run from the head to a jump back to it. */
	for (i = 0; i < n; i++) {
		const cs_x86 *x = &insn[i].detail->x86;

		if (forbidden(&insn[i]))
			goto out;
		if (is_jump(&insn[i])) {
			if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
				goto out;	/* through a register or memory */
			if ((uint64_t)x->operands[0].imm == head) {
				nlap = i + 1;
				break;
			}
			if (insn[i].id == X86_INS_JMP)
				goto out;	/* not one straight run */
			if ((uint64_t)x->operands[0].imm > head &&
			    (uint64_t)x->operands[0].imm < insn[i].address + insn[i].size)
				goto out;	/* a branch inside the loop */
		}
	}
	if (!nlap)
		goto out;
	ls->head = head;
	ls->end = insn[nlap - 1].address + insn[nlap - 1].size;
	ls->insns = nlap;
	/* Registers a lap writes; only general ones, and not rsp. */
	for (i = 0; i < nlap; i++) {
		cs_regs rd, wr;
		uint8_t nrd, nwr;

		if (cs_regs_access(s->cs_detail, &insn[i], rd, &nrd, wr, &nwr))
			goto out;
		for (j = 0; j < nrd; j++)
			if (gp_of(rd[j]) == GP_OTHER)
				goto out;
		for (j = 0; j < nwr; j++) {
			int g = gp_of(wr[j]);

			if (g == GP_OTHER || g == GP_SEG || g == 7)
				goto out;
			if (g < 16)
				ls->written |= 1ULL << g;
		}
	}
	/* Stores: at addresses made of registers no lap changes. */
	for (i = 0; i < nlap; i++) {
		const cs_x86 *x = &insn[i].detail->x86;

		for (j = 0; j < x->op_count; j++) {
			const cs_x86_op *op = &x->operands[j];
			int b, xi;
			uint64_t a;

			if (op->type != X86_OP_MEM || !(op->access & CS_AC_WRITE))
				continue;
			b = op->mem.base ? gp_of(op->mem.base) : -2;
			xi = op->mem.index ? gp_of(op->mem.index) : -2;
			if (op->mem.segment != X86_REG_INVALID || op->size > LOOP_MAX_BYTES ||
			    (b != -2 && b != GP_RIP && (b < 0 || b >= 16)) || (xi != -2 && (xi < 0 || xi >= 16)) ||
			    (b >= 0 && b < 16 && (ls->written >> b & 1)) ||
			    (xi >= 0 && (ls->written >> xi & 1)))
				goto out;
			a = (uint64_t)op->mem.disp +
			    (b == GP_RIP ? insn[i].address + insn[i].size : b >= 0 ? gp_value(regs, b) : 0) +
			    (xi >= 0 ? gp_value(regs, xi) * (uint64_t)op->mem.scale : 0);
			for (k = 0; k < ls->nstores; k++)
				if (ls->st[k].addr == a && ls->st[k].len == op->size)
					break;
			if (k < ls->nstores)
				continue;
			if (ls->nstores == LOOP_MAX_STORES)
				goto out;
			ls->st[ls->nstores].addr = a;
			ls->st[ls->nstores].len = op->size;
			ls->nstores++;
		}
	}
	/* Every conditional jump (the exits, a conditional jump back)
	 * tests flags that are the same on every lap: computed from
	 * registers no lap changes, or that a lap sets again from such
	 * registers, immediates and memory the loop does not store to.
	 * Then a lap that does not leave means no lap ever does. */
	for (j = 0; j < 16; j++)
		inv[j] = !(ls->written >> j & 1);
	for (i = 0; i < nlap; i++) {
		const cs_x86 *x = &insn[i].detail->x86;
		cs_regs rd, wr;
		uint8_t nrd, nwr;
		int same = 1;

		cs_regs_access(s->cs_detail, &insn[i], rd, &nrd, wr, &nwr);
		/* xor r, r and sub r, r: zero, whatever r was. */
		if ((insn[i].id == X86_INS_XOR || insn[i].id == X86_INS_SUB) && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG && x->operands[1].type == X86_OP_REG &&
		    x->operands[0].reg == x->operands[1].reg) {
			nrd = 0;
		}
		for (j = 0; j < nrd; j++) {
			int g = gp_of(rd[j]);

			if ((g >= 0 && g < 16 && !inv[g]) || (g == GP_FLAGS && !flags_inv))
				same = 0;
		}
		for (j = 0; j < x->op_count; j++) {
			const cs_x86_op *op = &x->operands[j];

			if (op->type == X86_OP_MEM && (op->access & CS_AC_READ) &&
			    insn[i].id != X86_INS_LEA &&
			    mem_reads_var(op, inv, ls, regs, insn[i].address + insn[i].size))
				same = 0;
			/* A byte or word written keeps the rest of its register. */
			if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE) && op->size < 4) {
				int g = gp_of(op->reg);

				if (g >= 0 && g < 16 && !inv[g])
					same = 0;
			}
		}
		if (is_jump(&insn[i]) && insn[i].id != X86_INS_JMP && !flags_inv)
			goto out;
		for (j = 0; j < nwr; j++) {
			int g = gp_of(wr[j]);

			if (g >= 0 && g < 16)
				inv[g] = same;
			else if (g == GP_FLAGS)
				flags_inv = same;
		}
	}
	err = 0;
out:
	if (insn)
		cs_free(insn, n);
	if (err)
		memset(ls, 0, sizeof(*ls));
	return err;
}

int loop_step_lap(struct thread *t, const struct loop_skip *ls, struct user_regs_struct *regs)
{
	unsigned int n;
	int other;

	for (n = 0; n <= ls->insns; n++) {
		if (pt_step(t->tid, &other) || other)
			return -1;
		if (thread_getregs(t, regs))
			return 1;
		if (regs->rip == ls->head)
			return 0;
		if (regs->rip < ls->head || regs->rip >= ls->end)
			return 1;
	}
	return 1;
}

void loop_regs_merge(struct user_regs_struct *to, const struct user_regs_struct *from,
		     uint64_t written)
{
	unsigned long long *const gp[16] = {
		&to->rax, &to->rbx, &to->rcx, &to->rdx, &to->rsi, &to->rdi, &to->rbp, &to->rsp,
		&to->r8, &to->r9, &to->r10, &to->r11, &to->r12, &to->r13, &to->r14, &to->r15,
	};
	int i;

	for (i = 0; i < 16; i++)
		if (written >> i & 1)
			*gp[i] = gp_value(from, i);
	to->eflags = from->eflags;
	to->rip = from->rip;
}

int loop_read_stores(struct thread *t, struct loop_skip *ls)
{
	int i;

	for (i = 0; i < ls->nstores; i++)
		if (thread_read(t, ls->st[i].addr, ls->st[i].bytes, ls->st[i].len))
			return -EFAULT;
	return 0;
}

size_t loop_pack_stores(const struct loop_skip *ls, unsigned char *buf)
{
	size_t n = 0;
	int i;

	for (i = 0; i < ls->nstores; i++) {
		memcpy(buf + n, &ls->st[i].addr, 8);
		buf[n + 8] = (unsigned char)ls->st[i].len;
		memcpy(buf + n + 9, ls->st[i].bytes, ls->st[i].len);
		n += 9 + ls->st[i].len;
	}
	return n;
}

int loop_unpack_stores(struct loop_skip *ls, const unsigned char *buf, size_t len)
{
	size_t n = 0;

	ls->nstores = 0;
	while (n < len) {
		struct loop_store *st;

		if (ls->nstores == LOOP_MAX_STORES || len - n < 9 || !buf[n + 8] ||
		    buf[n + 8] > LOOP_MAX_BYTES || len - n - 9 < buf[n + 8])
			return -EINVAL;
		st = &ls->st[ls->nstores++];
		memcpy(&st->addr, buf + n, 8);
		st->len = buf[n + 8];
		memcpy(st->bytes, buf + n + 9, st->len);
		n += 9 + st->len;
	}
	return 0;
}
