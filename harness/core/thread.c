/* The mechanism's threads: the table, memory and registers, resuming,
 * and completing a call without the kernel (harness/core/thread.h). */
#define _GNU_SOURCE
#include "harness/core/thread.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int thread_read(void *thread, uint64_t addr, void *buf, size_t len)
{
	return mem_read(((struct thread *)thread)->tid, addr, buf, len);
}

int thread_write(struct thread *t, uint64_t addr, const void *buf, size_t len)
{
	return mem_write(t->tid, addr, buf, len);
}

int thread_getregs(struct thread *t, struct user_regs_struct *regs)
{
	return pt_getregs(t->tid, regs);
}

int thread_setregs(struct thread *t, const struct user_regs_struct *regs)
{
	return pt_setregs(t->tid, regs);
}

#define EFLAGS_TF 0x100
#define EFLAGS_RF 0x10000

int thread_step(struct thread *t, struct user_regs_struct *regs, int *other)
{
	int err;

	if ((err = pt_step(t->tid, other)))
		return err;
	if (*other)
		return 1;
	if ((err = pt_getregs(t->tid, regs)))
		return err;
	regs->eflags &= ~(unsigned long long)(EFLAGS_TF | EFLAGS_RF);
	return 0;
}

void regs_set_arg(struct user_regs_struct *regs, int i, uint64_t v)
{
	switch (i) {
	case 0: regs->rdi = v; break;
	case 1: regs->rsi = v; break;
	case 2: regs->rdx = v; break;
	case 3: regs->r10 = v; break;
	case 4: regs->r8 = v; break;
	case 5: regs->r9 = v; break;
	}
}

int thread_sse(struct thread *t, unsigned char out[THREAD_SSE_LEN])
{
	struct user_fpregs_struct fp;
	int err = pt_getfpregs(t->tid, &fp);

	if (err)
		return err;
	memcpy(out, fp.xmm_space, 256);
	memcpy(out + 256, &fp.mxcsr, 4);
	return 0;
}

int thread_signal(struct thread *t, int sig)
{
	return syscall(SYS_tgkill, t->tgid, t->tid, sig) < 0 ? -errno : 0;
}

int thread_sigpending(const struct thread *t, uint64_t *pending, uint64_t *blocked)
{
	char path[64], line[256];
	unsigned long long pnd = 0, shd = 0, blk = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "SigPnd: %llx", &pnd);
		sscanf(line, "ShdPnd: %llx", &shd);
		sscanf(line, "SigBlk: %llx", &blk);
	}
	fclose(f);
	*pending = pnd | shd;
	*blocked = blk;
	return 0;
}

void thread_emulate(struct thread *t, int64_t ret)
{
	t->call.emulated = 1;
	t->call.ret = ret;
}

int64_t session_now(const struct session *s)
{
	struct timespec ts;

	if (s->opts.virtual_time)
		return s->vclock;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct thread *session_thread(struct session *s, pid_t tid)
{
	struct thread *t;

	for (t = s->threads[tid % SESSION_HASH]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

int thread_vfork_waiting(struct session *s, const struct thread *p)
{
	size_t i;

	for (i = 0; i < s->norder; i++)
		if (s->order[i]->loop.vfork_parent == p->tid)
			return 1;
	return 0;
}

struct thread *session_vthread(struct session *s, pid_t vtid)
{
	size_t i;

	for (i = 0; i < s->norder; i++)
		if (s->order[i]->vtid == vtid && s->order[i]->rs != RS_DYING)
			return s->order[i];
	return NULL;
}

struct thread *thread_add(struct session *s, pid_t tid, pid_t tgid)
{
	struct thread *t = xcalloc(1, sizeof(*t));

	t->tid = tid;
	t->tgid = tgid;
	t->vtid = tid;
	t->rs = RS_NEW;
	t->next = s->threads[tid % SESSION_HASH];
	s->threads[tid % SESSION_HASH] = t;
	s->nthreads++;
	return t;
}

void thread_remove(struct session *s, pid_t tid)
{
	struct thread **pp = &s->threads[tid % SESSION_HASH];
	size_t i;

	while (*pp) {
		if ((*pp)->tid == tid) {
			struct thread *t = *pp;

			*pp = t->next;
			for (i = 0; i < s->norder; i++)
				if (s->order[i] == t) {
					memmove(&s->order[i], &s->order[i + 1],
						(s->norder - i - 1) * sizeof(*s->order));
					s->norder--;
					break;
				}
			sbuf_release(&t->inbuf);
			free(t);
			s->nthreads--;
			return;
		}
		pp = &(*pp)->next;
	}
}

void thread_resume(struct session *s, struct thread *t)
{
	int err;

	if (!t->stopped)
		return;
	t->stopped = 0;
	t->in_user = !t->want_exit;
	t->ran_user = !t->want_exit || !t->in_syscall;
	/* Only when the scheduler asks (run's real-time interrupt,
	 * sched_tick), or into a call (sched_tick's blocked calls): a clock
	 * read on every resume costs. */
	if (t->want_exit || s->stamp_resumes) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->resumed_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
	err = t->want_exit ? pt_syscall(t->tid, t->resume_sig) : pt_cont(t->tid, t->resume_sig);
	t->resume_sig = 0;
	/* -ESRCH: the thread died in its stop; its exit is reported next. */
	if (err && err != -ESRCH)
		warning("cannot resume thread %d: %s", (int)t->tid, strerror(-err));
}

/* A seccomp stop may skip the call by setting its number to -1, and the
 * call then returns what the tracer put in rax
 * (Documentation/userspace-api/seccomp_filter.rst). */
int thread_uncall(struct thread *t)
{
	struct user_regs_struct regs;

	if (pt_getregs(t->tid, &regs))
		return -1;
	regs.orig_rax = (uint64_t)-1;		/* skipped */
	regs.rax = (uint64_t)t->call.nr;
	regs.rip -= 2;				/* syscall is 0f 05 */
	if (pt_setregs(t->tid, &regs))
		return -1;
	t->in_syscall = 0;
	t->want_exit = 0;
	return 0;
}

int thread_halt(struct thread *t)
{
	int status;

	if (pt_interrupt(t->tid) || pt_wait(t->tid, &status))
		return -1;
	return status;
}

void thread_complete(struct thread *t, int64_t ret)
{
	struct user_regs_struct regs;

	if (pt_getregs(t->tid, &regs) == 0) {
		regs.orig_rax = (uint64_t)-1;
		regs.rax = (uint64_t)ret;
		if (t->call.restart_nr) {
			/* As arch/x86/kernel/signal.c handle_signal does for
			 * a restart: ip back over the 2-byte SYSCALL. */
			regs.rax = (uint64_t)t->call.restart_nr;
			regs.rip -= 2;
		}
		pt_setregs(t->tid, &regs);
	}
	t->call.restart_nr = 0;
	t->call.emulated = 1;
	t->call.ret = ret;
	t->in_syscall = 0;
	t->want_exit = 0;
}

int thread_dup_fd(struct session *s, const struct thread *t, int fd)
{
	if (s->pidfd < 0 || s->pidfd_tgid != t->tgid) {
		if (s->pidfd >= 0)
			close(s->pidfd);
		s->pidfd = (int)syscall(SYS_pidfd_open, t->tgid, 0);
		s->pidfd_tgid = t->tgid;
		if (s->pidfd < 0)
			return -1;
	}
	return (int)syscall(SYS_pidfd_getfd, s->pidfd, fd, 0);
}
