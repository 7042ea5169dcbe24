/* The deterministic environment of a traced program (DESIGN.md section 3):
 * set up in the child before exec (no ASLR, rdtsc traps, CPU pinning) and
 * at every exec stop (no vDSO, chosen AT_RANDOM bytes); and the emulation
 * of the rdtsc/rdtscp instructions that now trap. */
#define _GNU_SOURCE
#include "harness/sched/detenv.h"
#include "harness/base/prng.h"
#include "harness/core/ptrace.h"
#include "harness/core/breakpoint.h"
#include "harness/core/vdso.h"
#include "harness/base/util.h"
#include "harness/go/gobin.h"

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <unistd.h>
#include <x86intrin.h>

void detenv_child_setup(const struct session *s)
{
	int pers = personality(0xffffffff);

	/* Same addresses every run. */
	if (pers != -1)
		personality((unsigned long)pers | ADDR_NO_RANDOMIZE);
	/* rdtsc and rdtscp raise SIGSEGV (arch/x86/kernel/process.c,
	 * disable_TSC); the flag is inherited by threads and kept across
	 * execve.  The engine emulates the instruction at the trap. */
	prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
	if (s->pinned_cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(s->pinned_cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
}

void detenv_at_random(uint64_t seed, int index, unsigned char out[16])
{
	struct prng rng;
	int i;

	prng_init(&rng, seed, PRNG_AT_RANDOM + (uint64_t)index);
	for (i = 0; i < 16; i += 8) {
		uint64_t r = prng_next(&rng);

		memcpy(out + i, &r, 8);
	}
}

/* A cursor over the new image's initial stack, a page at a time. */
struct stack_cursor {
	pid_t tid;
	uint64_t page;
	int have;
	unsigned char buf[4096];
};

static int stack_u64(struct stack_cursor *c, uint64_t addr, uint64_t *v)
{
	uint64_t page = addr & ~4095ULL;
	int err;

	if (addr & 7)
		return -EINVAL;
	if (!c->have || c->page != page) {
		err = mem_read(c->tid, page, c->buf, sizeof(c->buf));
		if (err)
			return err;
		c->page = page;
		c->have = 1;
	}
	memcpy(v, c->buf + (addr - page), 8);
	return 0;
}

static void add_tsc_site(struct session *s, uint64_t pc)
{
	if (bp_tsc_site(s, pc))
		return;
	s->tsc_sites = xrealloc(s->tsc_sites, (s->ntsc_sites + 1) * sizeof(*s->tsc_sites));
	s->tsc_sites[s->ntsc_sites++] = pc;
}

/* PR_SET_TSC is not always obeyed: in a Firecracker VM (kernel
 * 6.18.44-fc) prctl accepts it, PR_GET_TSC answers PR_TSC_SIGSEGV, and
 * rdtsc runs all the same.  A Go program reads the TSC in one place,
 * runtime.cputicks (runtime/asm_amd64.s: RDTSCP, or LFENCE; RDTSC), and
 * go1.19 mixes it into each M's fastrand seed (runtime/proc.go
 * mcommoninit): map order and select choices would differ run to run.
 * So each rdtsc/rdtscp of a Go image's cputicks gets an INT3 on its first
 * byte, and the trap is emulated as the fault is (detenv_tsc_trap).
 * at_entry (the auxv's AT_ENTRY) gives the load bias of a PIE image. */
static void patch_tsc(struct session *s, struct thread *t, const struct exec_info *e,
		      uint64_t at_entry)
{
	static const unsigned char int3 = 0xcc;
	struct gobin own, *b = NULL;
	uint64_t i, entry, next, e_entry, bias;
	unsigned char code[256];

	if (!s->cs_open)
		return;
	if (e->index == 0 && s->have_bin)
		b = &s->bin;
	else if (e->path[0] && gobin_open(&own, e->path) == 0)
		b = &own;
	if (!b)
		return;
	if (!b->is_go || !b->pcln || !b->file || b->file_size < sizeof(Elf64_Ehdr) || !at_entry)
		goto out;
	memcpy(&e_entry, b->file + offsetof(Elf64_Ehdr, e_entry), sizeof(e_entry));
	bias = at_entry - e_entry;
	for (i = 0; i + 1 < b->nfunc; i++) {
		const char *name = gobin_func_name(b, i, &entry);
		cs_insn *insn = NULL;
		size_t n, j, len;

		/* Assembly functions appear as runtime.cputicks and as their
		 * ABI0 symbol runtime.cputicks.abi0. */
		if (!name || strncmp(name, "runtime.cputicks", 16) ||
		    (name[16] && strcmp(name + 16, ".abi0")) ||
		    !gobin_func_name(b, i + 1, &next) || next <= entry)
			continue;
		len = (size_t)(next - entry) < sizeof(code) ? (size_t)(next - entry) : sizeof(code);
		if (gobin_read_vaddr(b, entry, code, len))
			continue;
		n = cs_disasm(s->cs, code, len, entry, 0, &insn);
		for (j = 0; j < n; j++)
			if ((insn[j].id == X86_INS_RDTSC || insn[j].id == X86_INS_RDTSCP) &&
			    mem_write(t->tid, insn[j].address + bias, &int3, 1) == 0)
				add_tsc_site(s, insn[j].address + bias);
		if (insn)
			cs_free(insn, n);
	}
out:
	if (b == &own)
		gobin_release(&own);
}

/* At the exec stop the new image's stack holds argc, argv[], NULL,
 * envp[], NULL, then the auxiliary vector (fs/binfmt_elf.c,
 * create_elf_tables).  Two entries are changed:
 *  - AT_SYSINFO_EHDR is set to 0: without a vDSO, Go's runtime and libc
 *    make real clock_gettime syscalls (runtime/vdso_linux.go ignores a
 *    zero address), which the recorder then sees; or, with
 *    session_opts.fast_clock, to gorr's own vDSO, mapped now
 *    (harness/core/vdso.h), whose reads gorr sees at its next stop;
 *  - the 16 bytes AT_RANDOM points to are the run's seed bytes: Go seeds
 *    its runtime randomness from them (runtime/rand.go, startupRand). */
/* Let execve return, as its syscall-exit stop would: a step from the
 * exec stop traps first on that return (kernel/entry/common.c
 * syscall_exit_work, report_single_step), before any instruction runs,
 * in place of the exit stop.  Then t is at a plain trap stop, from which
 * calls can be made (vdso_map), and execve's result, 0, is in rax. */
static int finish_exec(struct thread *t, struct user_regs_struct *regs, struct exec_info *e)
{
	struct user_regs_struct now;
	int err, other = 0;

	if ((err = pt_step(t->tid, &other)))
		return err;
	if (other)
		return WIFSTOPPED(other) ? -EAGAIN : -ESRCH;
	e->exit_taken = 1;
	if ((err = pt_getregs(t->tid, &now)))
		return err;
	if (now.rip != regs->rip)
		return -ENOTSUP;
	now.rax = 0;
	*regs = now;
	return pt_setregs(t->tid, &now);
}

int detenv_exec_stop(struct session *s, struct thread *t, struct exec_info *e)
{
	struct user_regs_struct regs;
	struct stack_cursor c;
	uint64_t sp, argc, v, p, type, val, at_entry = 0, ehdr = 0;
	int err;

	{
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)t->tid);
		n = readlink(link, e->path, sizeof(e->path) - 1);
		e->path[n > 0 ? n : 0] = '\0';
	}
	detenv_at_random(s->opts.seed, e->index, e->at_random);
	err = pt_getregs(t->tid, &regs);
	if (err)
		return err;
	if (s->opts.fast_clock && (err = finish_exec(t, &regs, e)) == -ESRCH)
		return err;
	if (s->opts.fast_clock && !err) {
		err = vdso_map(s, t, s->opts.fast_clock, &ehdr);
		if (err == -ESRCH)
			return err;
		if (err && !s->opts.quiet)
			warning("cannot map gorr's vDSO into process %d (%s): its clock reads "
				"stop", (int)t->tgid, strerror(-err));
		e->vdso_fast = !err;
		if (!err && s->opts.fast_sys) {
			err = vdso_patch(s, t);
			if (err == -ESRCH)
				return err;
			/* Other programs (a child that execs a C tool) keep
			 * their stops. */
			if (err && err != -ENOENT && !s->opts.quiet)
				warning("cannot buffer process %d's syscalls (%s): they stop",
					(int)t->tgid, strerror(-err));
			e->sys_fast = !err;
			err = 0;
		}
	}
	memset(&c, 0, sizeof(c));
	c.tid = t->tid;
	sp = regs.rsp;
	err = stack_u64(&c, sp, &argc);
	if (err)
		return err;
	if (argc > (1 << 24))
		return -EINVAL;
	p = sp + 8 + (argc + 1) * 8;
	do {			/* envp */
		err = stack_u64(&c, p, &v);
		if (err)
			return err;
		p += 8;
	} while (v);
	for (;; p += 16) {
		err = stack_u64(&c, p, &type);
		if (!err)
			err = stack_u64(&c, p + 8, &val);
		if (err)
			return err;
		if (type == AT_NULL)
			break;
		if (type == AT_SYSINFO_EHDR) {
			if (mem_write(t->tid, p + 8, &ehdr, 8) == 0)
				e->vdso_hidden = 1;
		} else if (type == AT_ENTRY) {
			at_entry = val;
		} else if (type == AT_RANDOM && val) {
			if (mem_write(t->tid, val, e->at_random, 16) == 0)
				e->at_random_set = 1;
		}
		c.have = 0;	/* the page may have changed */
	}
	patch_tsc(s, t, e, at_entry);
	return 0;
}

/* Emulate the rdtsc (size 2) or rdtscp (size 3) at pc: the counter gorr
 * reads itself, since it runs on the tracee's CPU, unless the policy
 * replaces it.  1, or a negative errno. */
static int tsc_emulate(struct session *s, struct thread *t, struct user_regs_struct *regs,
		       uint64_t pc, int rdtscp, unsigned int size)
{
	struct tsc_info ti;
	unsigned int aux = 0;
	int err;

	memset(&ti, 0, sizeof(ti));
	ti.pc = pc;
	ti.rdtscp = rdtscp;
	ti.tsc = rdtscp ? __rdtscp(&aux) : __rdtsc();
	ti.aux = aux;
	s->ops->tsc(s, t, &ti);
	regs->rax = ti.tsc & 0xffffffffULL;
	regs->rdx = ti.tsc >> 32;
	if (rdtscp)
		regs->rcx = ti.aux;
	regs->rip = pc + size;
	err = pt_setregs(t->tid, regs);
	if (err)
		return err;
	s->tsc_emulated++;
	return 1;
}

int detenv_tsc_patched(struct session *s, struct thread *t, struct user_regs_struct *regs)
{
	uint64_t pc = regs->rip - 1;
	unsigned char b[3];

	/* The site is checked in the process's memory too: a process that
	 * exec'd another image may have other code there. */
	if (!bp_tsc_site(s, pc) || mem_read(t->tid, pc, b, sizeof(b)) || b[0] != 0xcc)
		return 0;
	if (b[1] == 0x31)
		return tsc_emulate(s, t, regs, pc, 0, 2);
	if (b[1] == 0x01 && b[2] == 0xf9)
		return tsc_emulate(s, t, regs, pc, 1, 3);
	return 0;
}

int detenv_tsc_trap(struct session *s, struct thread *t, const siginfo_t *si)
{
	struct user_regs_struct regs;
	unsigned char code[16];
	cs_insn *insn = NULL;
	size_t n, len;
	int err, ok = 0;

	/* A disabled TSC raises #GP, delivered as SIGSEGV with SI_KERNEL
	 * and no address (arch/x86/kernel/traps.c, exc_general_protection). */
	if (si->si_code != SI_KERNEL || si->si_addr)
		return 0;
	err = pt_getregs(t->tid, &regs);
	if (err)
		return err;
	/* The instruction may end just before an unmapped page. */
	for (len = sizeof(code); len >= 2; len--)
		if (mem_read(t->tid, regs.rip, code, len) == 0)
			break;
	if (len < 2)
		return 0;
	n = cs_disasm(s->cs, code, len, regs.rip, 1, &insn);
	if (n == 1 && (insn->id == X86_INS_RDTSC || insn->id == X86_INS_RDTSCP))
		ok = tsc_emulate(s, t, &regs, regs.rip, insn->id == X86_INS_RDTSCP, insn->size);
	if (insn)
		cs_free(insn, n);
	return ok;
}
