#define _GNU_SOURCE
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

static struct breakpoint *find(struct session *s, pid_t tgid, uint64_t pc)
{
	size_t i;

	for (i = 0; i < s->nbps; i++)
		if (s->bps[i].tgid == tgid && s->bps[i].pc == pc)
			return &s->bps[i];
	return NULL;
}

int bp_insert(struct session *s, struct thread *t, uint64_t pc)
{
	static const unsigned char int3 = 0xcc;
	struct breakpoint *b = find(s, t->tgid, pc);
	unsigned char orig;
	int err;

	if (b) {
		b->refs++;
		return 0;
	}
	err = mem_read(t->tid, pc, &orig, 1);
	if (!err)
		err = mem_write(t->tid, pc, &int3, 1);
	if (err)
		return err;
	if (s->nbps == s->bps_alloc) {
		s->bps_alloc = s->bps_alloc ? 2 * s->bps_alloc : 8;
		s->bps = xrealloc(s->bps, s->bps_alloc * sizeof(*s->bps));
	}
	b = &s->bps[s->nbps++];
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
	err = mem_write(t->tid, pc, &b->orig, 1);
	*b = s->bps[--s->nbps];
	return err;
}

int bp_at(struct session *s, struct thread *t, uint64_t pc)
{
	return find(s, t->tgid, pc) != NULL;
}

int bp_rewind(struct thread *t, uint64_t pc)
{
	struct user_regs_struct regs;
	int err = pt_getregs(t->tid, &regs);

	if (err)
		return err;
	regs.rip = pc;
	return pt_setregs(t->tid, &regs);
}

int bp_step_over(struct session *s, struct thread *t, uint64_t pc, int *status)
{
	static const unsigned char int3 = 0xcc;
	struct breakpoint *b = find(s, t->tgid, pc);
	int err;

	*status = 0;
	if (!b)
		return -ENOENT;
	err = mem_write(t->tid, pc, &b->orig, 1);
	if (!err)
		err = bp_rewind(t, pc);
	if (!err)
		err = pt_step(t->tid, status);
	mem_write(t->tid, pc, &int3, 1);
	return err;
}
