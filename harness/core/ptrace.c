#define _GNU_SOURCE
#include "harness/core/ptrace.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* glibc's <sys/ptrace.h> and <linux/ptrace.h> disagree on some names;
 * call through the raw request numbers with a long-returning helper. */
static int pt(int req, pid_t tid, void *addr, void *data)
{
	if (ptrace((enum __ptrace_request)req, tid, addr, data) == -1)
		return -errno;
	return 0;
}

int pt_seize(pid_t pid, unsigned long options)
{
	return pt(PTRACE_SEIZE, pid, NULL, (void *)options);
}

int pt_cont(pid_t tid, int sig)
{
	return pt(PTRACE_CONT, tid, NULL, (void *)(long)sig);
}

int pt_syscall(pid_t tid, int sig)
{
	return pt(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig);
}

int pt_singlestep(pid_t tid)
{
	return pt(PTRACE_SINGLESTEP, tid, NULL, NULL);
}

int pt_listen(pid_t tid)
{
	return pt(PTRACE_LISTEN, tid, NULL, NULL);
}

int pt_interrupt(pid_t tid)
{
	return pt(PTRACE_INTERRUPT, tid, NULL, NULL);
}

int pt_getregs(pid_t tid, struct user_regs_struct *regs)
{
	return pt(PTRACE_GETREGS, tid, NULL, regs);
}

int pt_setregs(pid_t tid, const struct user_regs_struct *regs)
{
	return pt(PTRACE_SETREGS, tid, NULL, (void *)regs);
}

int pt_getfpregs(pid_t tid, struct user_fpregs_struct *fp)
{
	return pt(PTRACE_GETFPREGS, tid, NULL, fp);
}

int pt_setfpregs(pid_t tid, const struct user_fpregs_struct *fp)
{
	return pt(PTRACE_SETFPREGS, tid, NULL, (void *)fp);
}

int pt_syscall_info(pid_t tid, struct __ptrace_syscall_info *info)
{
	long n = ptrace((enum __ptrace_request)PTRACE_GET_SYSCALL_INFO, tid,
			(void *)sizeof(*info), info);

	if (n < 0)
		return -errno;
	return 0;
}

int pt_getsiginfo(pid_t tid, siginfo_t *si)
{
	return pt(PTRACE_GETSIGINFO, tid, NULL, si);
}

int pt_setsiginfo(pid_t tid, const siginfo_t *si)
{
	return pt(PTRACE_SETSIGINFO, tid, NULL, (void *)si);
}

int pt_geteventmsg(pid_t tid, unsigned long *msg)
{
	return pt(PTRACE_GETEVENTMSG, tid, NULL, msg);
}

int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

static int proc_mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = pwrite(fd, buf, len, (off_t)addr);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EFAULT;
	close(fd);
	return err;
}

int mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	if (n >= 0 && (size_t)n == len)
		return 0;
	if (n < 0 && errno == ESRCH)
		return -ESRCH;
	/* process_vm_writev honours page protections; /proc/PID/mem, like
	 * PTRACE_POKEDATA, writes through them (mm/memory.c, FOLL_FORCE). */
	return proc_mem_write(pid, addr, buf, len);
}

int pt_wait(pid_t tid, int *status)
{
	pid_t r;

	do {
		r = waitpid(tid, status, __WALL);
	} while (r < 0 && errno == EINTR);
	return r == tid ? 0 : -errno;
}

int pt_step(pid_t tid, int *other)
{
	int status, err;

	*other = 0;
	if ((err = pt_singlestep(tid)) || (err = pt_wait(tid, &status)))
		return err;
	/* The step's own trap is a plain SIGTRAP stop; a syscall, a signal
	 * or an exit can come instead. */
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP || (status >> 16))
		*other = status;
	return 0;
}

#define DR_OFFSET(i) (offsetof(struct user, u_debugreg) + (size_t)(i) * sizeof(long))

int pt_get_debugreg(pid_t tid, int i, unsigned long *v)
{
	long r;

	errno = 0;
	r = ptrace(PTRACE_PEEKUSER, tid, (void *)DR_OFFSET(i), NULL);
	if (errno)
		return -errno;
	*v = (unsigned long)r;
	return 0;
}

int pt_set_debugreg(pid_t tid, int i, unsigned long v)
{
	return ptrace(PTRACE_POKEUSER, tid, (void *)DR_OFFSET(i), (void *)v) < 0 ? -errno : 0;
}
