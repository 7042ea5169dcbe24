#define _GNU_SOURCE
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

int bp_insert(struct session *s, struct thread *t, uint64_t pc)
{
	const unsigned char int3 = 0xcc;
	struct breakpoint *b;
	unsigned char orig;
	int err, found;
	size_t i = locate(s, t->tgid, pc, &found);

	if (found) {
		s->bps[i].refs++;
		return 0;
	}
	err = mem_read(t->tid, pc, &orig, 1);
	if (!err)
		err = code_write(s, t, pc, int3);
	if (err)
		return err;
	if (s->nbps == s->bps_alloc) {
		s->bps_alloc = s->bps_alloc ? 2 * s->bps_alloc : 8;
		s->bps = xrealloc(s->bps, s->bps_alloc * sizeof(*s->bps));
	}
	memmove(&s->bps[i + 1], &s->bps[i], (s->nbps - i) * sizeof(*s->bps));
	s->nbps++;
	b = &s->bps[i];
	b->tgid = t->tgid;
	b->pc = pc;
	b->orig = orig;
	b->refs = 1;
	return 0;
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
