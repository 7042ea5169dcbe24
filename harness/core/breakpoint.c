#define _GNU_SOURCE
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* The table is sorted by (tgid, pc): a trap looks its pc up by binary
 * search, so thousands of breakpoints (the scheduler's decision points,
 * harness/go/dpoints.h) cost no more per trap than a few. */
static int cmp_key(pid_t tgid, uint64_t pc, const struct breakpoint *b)
{
	if (tgid != b->tgid)
		return tgid < b->tgid ? -1 : 1;
	return pc < b->pc ? -1 : pc > b->pc;
}

/* The index of (tgid, pc), or of where it would go; *found says which. */
static size_t locate(const struct session *s, pid_t tgid, uint64_t pc, int *found)
{
	size_t lo = 0, hi = s->nbps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(tgid, pc, &s->bps[mid]);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

static struct breakpoint *find(struct session *s, pid_t tgid, uint64_t pc)
{
	int found;
	size_t i = locate(s, tgid, pc, &found);

	return found ? &s->bps[i] : NULL;
}

/* Breakpoints are written often (a step over one writes twice), so the
 * process's /proc/PID/mem stays open: like PTRACE_POKEDATA it writes
 * through the text's protection (mm/memory.c, FOLL_FORCE), in one
 * syscall. */
int bp_code_write(struct session *s, struct thread *t, uint64_t pc, const void *buf, size_t len)
{
	if (s->bp_memfd1 && (s->bp_memfd_tgid != t->tgid || s->bp_memfd_exec != s->exec_count)) {
		close(s->bp_memfd1 - 1);
		s->bp_memfd1 = 0;
	}
	if (!s->bp_memfd1) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)t->tgid);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			s->bp_memfd1 = fd + 1;
			s->bp_memfd_tgid = t->tgid;
			s->bp_memfd_exec = s->exec_count;
		}
	}
	if (s->bp_memfd1 && pwrite(s->bp_memfd1 - 1, buf, len, (off_t)pc) == (ssize_t)len)
		return 0;
	return mem_write(t->tid, pc, buf, len);
}

int bp_inject_syscall(struct session *s, struct thread *t, uint64_t pc, long nr,
		      const uint64_t args[6], int64_t *ret)
{
	/* mov $nr, %eax; syscall.  The number is not put in rax by
	 * PTRACE_SETREGS: at an exec stop the kernel has yet to return
	 * from execve, and its return value would overwrite it
	 * (arch/x86/entry/common.c, do_syscall_64). */
	unsigned char code[7] = { 0xb8, 0, 0, 0, 0, 0x0f, 0x05 };
	struct user_regs_struct regs, call;
	unsigned char saved[sizeof(code)];
	uint32_t nr32 = (uint32_t)nr;
	int err, other = 0, i;

	memcpy(code + 1, &nr32, 4);
	if ((err = pt_getregs(t->tid, &regs)) || (err = mem_read(t->tid, pc, saved, sizeof(saved))))
		return err;
	if ((err = bp_code_write(s, t, pc, code, sizeof(code))))
		return err;
	call = regs;
	call.rip = pc;
	call.orig_rax = (unsigned long long)-1;
	for (i = 0; i < 6; i++)
		regs_set_arg(&call, i, args[i]);
	err = pt_setregs(t->tid, &call);
	/* Two steps; the second may stop first at the seccomp filter's
	 * trace stop (PTRACE_EVENT_SECCOMP): stepping on runs the call, and
	 * the step's trap comes after it (kernel/entry/common.c
	 * syscall_exit_work, report_single_step). */
	for (i = 0; !err && i < 4; i++) {
		err = pt_step(t->tid, &other);
		if (err)
			break;
		if (other && (other >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)))
			continue;
		if (other) {
			err = WIFSTOPPED(other) ? -EAGAIN : -ESRCH;
			break;
		}
		if ((err = pt_getregs(t->tid, &call)))
			break;
		if (call.rip == pc + sizeof(code)) {
			*ret = (int64_t)call.rax;
			break;
		}
		/* At an exec stop the first step only finishes execve: its
		 * trap comes on the way out, before the first instruction
		 * (arch/x86/entry/common.c, syscall_exit_work). */
		if (call.rip == pc)
			continue;
		if (call.rip != pc + 5) {
			err = -ENOTSUP;
			break;
		}
	}
	if (!err && i == 4)
		err = -EAGAIN;	/* seccomp stops, and no step's trap */
	if (err == -ESRCH)
		return err;
	bp_code_write(s, t, pc, saved, sizeof(saved));
	pt_setregs(t->tid, &regs);
	if (err == -EAGAIN && other && WSTOPSIG(other) != SIGTRAP)
		/* A signal came instead of the step, and was taken off its
		 * queue by that stop: it is sent again. */
		thread_signal(t, WSTOPSIG(other));
	return err;
}

static int code_write(struct session *s, struct thread *t, uint64_t pc, unsigned char b)
{
	return bp_code_write(s, t, pc, &b, 1);
}

void bp_unpatch(const struct session *s, pid_t tgid, uint64_t addr, unsigned char *buf, size_t len)
{
	int found;
	size_t i;

	for (i = locate(s, tgid, addr, &found); i < s->nbps && s->bps[i].tgid == tgid &&
	     s->bps[i].pc < addr + len; i++)
		buf[s->bps[i].pc - addr] = s->bps[i].orig;
	/* A patched rdtsc or rdtscp begins with 0f (detenv.c patch_tsc). */
	for (i = 0; i < s->ntsc_sites; i++)
		if (s->tsc_sites[i] >= addr && s->tsc_sites[i] < addr + len &&
		    buf[s->tsc_sites[i] - addr] == 0xcc)
			buf[s->tsc_sites[i] - addr] = 0x0f;
}

void bp_release(struct session *s)
{
	if (s->bp_memfd1)
		close(s->bp_memfd1 - 1);
	s->bp_memfd1 = 0;
}

/* Enter the breakpoint at pc in tgid's process, whose INT3 is written,
 * in the sorted table: one more reference when it is there already. */
static void table_add(struct session *s, pid_t tgid, uint64_t pc, unsigned char orig)
{
	struct breakpoint *b;
	int found;
	size_t i = locate(s, tgid, pc, &found);

	if (found) {
		s->bps[i].refs++;
		return;
	}
	if (s->nbps == s->bps_alloc) {
		s->bps_alloc = s->bps_alloc ? 2 * s->bps_alloc : 8;
		s->bps = xrealloc(s->bps, s->bps_alloc * sizeof(*s->bps));
	}
	memmove(&s->bps[i + 1], &s->bps[i], (s->nbps - i) * sizeof(*s->bps));
	s->nbps++;
	b = &s->bps[i];
	b->tgid = tgid;
	b->pc = pc;
	b->orig = orig;
	b->refs = 1;
}

int bp_insert(struct session *s, struct thread *t, uint64_t pc)
{
	const unsigned char int3 = 0xcc;
	unsigned char orig;
	int err;

	if (bp_at(s, t, pc)) {
		table_add(s, t->tgid, pc, 0);
		return 0;
	}
	err = mem_read(t->tid, pc, &orig, 1);
	if (!err)
		err = code_write(s, t, pc, int3);
	if (err)
		return err;
	table_add(s, t->tgid, pc, orig);
	return 0;
}

/* Points closer than this to the previous one share a span; a span is at
 * most BP_SPAN bytes.  Bytes between points are written back as they
 * were read (the thread is stopped), and only pages that hold a point or
 * lie between two close ones are touched (each written page of text
 * becomes the process's own copy). */
#define BP_GAP 256
#define BP_SPAN 4096

size_t bp_insert_sorted(struct session *s, struct thread *t, const uint64_t *pcs, size_t n)
{
	unsigned char span[BP_SPAN], orig[BP_SPAN];
	size_t i = 0, j, k, armed = 0;

	while (i < n) {
		uint64_t lo = pcs[i], len;

		for (j = i + 1; j < n && pcs[j] - pcs[j - 1] < BP_GAP && pcs[j] - lo < BP_SPAN; j++)
			;
		len = pcs[j - 1] - lo + 1;
		if (mem_read(t->tid, lo, orig, (size_t)len)) {
			/* One at a time, as bp_insert does. */
			for (k = i; k < j; k++)
				armed += bp_insert(s, t, pcs[k]) == 0;
			i = j;
			continue;
		}
		memcpy(span, orig, (size_t)len);
		for (k = i; k < j; k++)
			span[pcs[k] - lo] = 0xcc;
		if (bp_code_write(s, t, lo, span, (size_t)len) == 0) {
			/* (A pc that was one of gorr's already read as an
			 * INT3: table_add keeps its own original byte.) */
			for (k = i; k < j; k++)
				table_add(s, t->tgid, pcs[k], orig[pcs[k] - lo]);
			armed += j - i;
		}
		i = j;
	}
	return armed;
}

int bp_remove(struct session *s, struct thread *t, uint64_t pc)
{
	struct breakpoint *b = find(s, t->tgid, pc);
	int err;

	if (!b)
		return -ENOENT;
	if (--b->refs > 0)
		return 0;
	err = code_write(s, t, pc, b->orig);
	memmove(b, b + 1, (size_t)(&s->bps[s->nbps] - (b + 1)) * sizeof(*b));
	s->nbps--;
	return err;
}

int bp_at(struct session *s, struct thread *t, uint64_t pc)
{
	return find(s, t->tgid, pc) != NULL;
}

int bp_tsc_site(const struct session *s, uint64_t pc)
{
	size_t i;

	for (i = 0; i < s->ntsc_sites; i++)
		if (s->tsc_sites[i] == pc)
			return 1;
	return 0;
}

int bp_trap_at(struct session *s, struct thread *t, uint64_t pc)
{
	return find(s, t->tgid, pc) || bp_tsc_site(s, pc);
}

int bp_step_over(struct session *s, struct thread *t, uint64_t pc, int *status)
{
	struct breakpoint *b = find(s, t->tgid, pc);
	int err;

	*status = 0;
	if (!b)
		return -ENOENT;
	err = code_write(s, t, pc, b->orig);
	if (!err)
		err = pt_step(t->tid, status);
	code_write(s, t, pc, 0xcc);
	return err;
}
