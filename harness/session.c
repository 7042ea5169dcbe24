/* Setting a session up and tearing it down: resolving the program,
 * reading its binary, the seccomp filter, CPU choice, and starting the
 * program under ptrace. */
#define _GNU_SOURCE
#include "harness/engine.h"
#include "harness/core/ptrace.h"
#include "harness/core/breakpoint.h"
#include "harness/core/count.h"
#include "harness/core/vdso.h"
#include "harness/sched/detenv.h"
#include "harness/base/sha256.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <unistd.h>

/* PTRACE_SEIZE options: follow every thread and child process, stop at
 * exec (to fix the new image's auxv), at thread exit, and at seccomp
 * TRACE actions; EXITKILL so that a killed gorr never leaves a tracee
 * running with a filter that nobody answers (its traced syscalls would
 * fail with ENOSYS). */
#define SEIZE_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE |	\
		       PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |	\
		       PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |	\
		       PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)

int cpumask_count(const cpu_set_t *m)
{
	return CPU_COUNT(m);
}

static int resolve_program(const char *name, char **out)
{
	const char *path, *p;
	struct stat st;
	struct sbuf sb = SBUF_INIT;
	int err = -ENOENT;

	if (strchr(name, '/')) {
		if (stat(name, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (access(name, X_OK) < 0)
			return -errno;
		*out = xstrdup(name);
		return 0;
	}
	path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchrnul(p, ':');

		sbuf_reset(&sb);
		if (end == p)
			sbuf_adds(&sb, ".");
		else
			sbuf_add(&sb, p, (size_t)(end - p));
		sbuf_addf(&sb, "/%s", name);
		if (stat(sb.buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(sb.buf, X_OK) == 0) {
				*out = xstrdup(sb.buf);
				sbuf_release(&sb);
				return 0;
			}
			err = -EACCES;
		}
		if (!*end)
			break;
		p = end;
	}
	sbuf_release(&sb);
	return err;
}

static int build_filter(struct session *s)
{
	long nr;
	int err;

	/* Unknown numbers and foreign ABIs stop, so nothing goes unseen. */
	s->filter = seccomp_init(SCMP_ACT_TRACE(0));
	if (!s->filter)
		return -ENOMEM;
	err = seccomp_attr_set(s->filter, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRACE(0));
	if (err)
		return err;
	for (nr = 0; nr < SC_TABLE_SIZE; nr++) {
		const struct sc_desc *d = sc_lookup(nr);
		int want;

		if (!d)
			continue;
		want = s->ops->wants(s->policy, nr, d);
		if (s->rewrite_mask && (d->flags & SF_CPUMASK))
			want = 1;
		if (want)
			continue;
		if (d->flags & SF_FILEMAP)
			/* Only anonymous mappings go through (argument 3 has
			 * MAP_ANONYMOUS); file-backed ones stop. */
			err = seccomp_rule_add(s->filter, SCMP_ACT_ALLOW, (int)nr, 1,
					       SCMP_A3(SCMP_CMP_MASKED_EQ, 0x20, 0x20));
		else
			err = seccomp_rule_add(s->filter, SCMP_ACT_ALLOW, (int)nr, 0);
		/* libseccomp refuses numbers it does not know for this
		 * architecture; those keep the default (stop). */
		if (err && err != -EDOM && err != -EINVAL)
			return err;
	}
	return 0;
}

/* libseccomp 2.5 exports BPF only to a file descriptor. */
static int export_bpf(struct session *s)
{
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = memfd_create("gorr-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = seccomp_export_bpf(s->filter, fd);
	if (!err && fstat(fd, &st) < 0)
		err = -errno;
	if (!err && (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) ||
		     st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		err = -E2BIG;
	if (!err) {
		s->bpf = xmalloc((size_t)st.st_size);
		n = pread(fd, s->bpf, (size_t)st.st_size, 0);
		if (n != st.st_size)
			err = -EIO;
		s->bpf_len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	}
	close(fd);
	return err;
}

static void choose_cpus(struct session *s)
{
	int i, n = 0, want;

	CPU_ZERO(&s->native_mask);
	if (sched_getaffinity(0, sizeof(s->native_mask), &s->native_mask) < 0)
		CPU_SET(0, &s->native_mask);
	s->reported_mask = s->native_mask;
	want = s->opts.cpus;
	if (want > 0) {
		/* --cpus N: the first N CPUs gorr may use. */
		CPU_ZERO(&s->reported_mask);
		for (i = 0; i < CPU_SETSIZE && n < want; i++)
			if (CPU_ISSET(i, &s->native_mask)) {
				CPU_SET(i, &s->reported_mask);
				n++;
			}
		/* More CPUs than this machine has: report CPUs past the
		 * real ones, as GOMAXPROCS would see them on a bigger box. */
		for (i = 0; i < CPU_SETSIZE && n < want; i++)
			if (!CPU_ISSET(i, &s->reported_mask)) {
				CPU_SET(i, &s->reported_mask);
				n++;
			}
	}
	s->pinned_cpu = -1;
	if (s->opts.pin_cpu >= 0) {
		s->pinned_cpu = s->opts.pin_cpu;
	} else if (s->opts.pin_cpu == PIN_AUTO) {
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &s->native_mask)) {
				s->pinned_cpu = i;
				break;
			}
	}
	s->rewrite_mask = s->pinned_cpu >= 0 || want > 0;
}

static int is_script(const char *path)
{
	char magic[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	ok = read(fd, magic, 2) == 2 && magic[0] == '#' && magic[1] == '!';
	close(fd);
	return ok;
}

int session_init(struct session *s, const struct session_opts *o,
		 const struct engine_ops *ops, void *policy)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->opts = *o;
	s->ops = ops;
	s->policy = policy;
	s->leader = -1;
	s->pinned_cpu = -1;

	err = o->exe ? (access(o->exe, X_OK) ? -errno : 0) : resolve_program(o->argv[0], &s->exe);
	if (!err && o->exe)
		s->exe = xstrdup(o->exe);
	if (err) {
		if (err == -ENOENT && !strchr(o->argv[0], '/'))
			error("'%s': command not found", o->argv[0]);
		else
			error("cannot run '%s': %s", o->argv[0], strerror(-err));
		return err;
	}
	err = gobin_open(&s->bin, s->exe);
	if (err == 0) {
		s->have_bin = 1;
		if (!s->bin.is_go && !o->quiet)
			notice("'%s' is not a Go binary: tracing it with the Go-specific parts off",
			       o->argv[0]);
	} else if (!o->quiet && is_script(s->exe)) {
		notice("'%s' is a script: tracing its interpreter with the Go-specific parts off",
		       o->argv[0]);
	}
	/* Anything else the kernel will refuse to exec; check_start says so. */
	err = sha256_file_cached(s->exe, s->exe_digest);
	if (err) {
		error("cannot read '%s': %s", s->exe, strerror(-err));
		return err;
	}
	if (s->have_bin)
		s->bin.digest = s->exe_digest;
	if (o->pin_cpu >= CPU_SETSIZE) {
		error("--pin: no such CPU '%d'", o->pin_cpu);
		return -EINVAL;
	}
	choose_cpus(s);
	detenv_at_random(o->seed, 0, s->at_random);
	if (s->pinned_cpu >= 0 && !CPU_ISSET(s->pinned_cpu, &s->native_mask)) {
		error("--pin: CPU %d is not available to this process", s->pinned_cpu);
		return -EINVAL;
	}
	err = build_filter(s);
	if (!err)
		err = export_bpf(s);
	/* The image's own calls go through: record's clock reads, the
	 * buffered calls (run's clock reads make none). */
	if (!err && (o->fast_clock == VDSO_RECORD || vdso_buffers_calls(o->fast_sys))) {
		struct sock_filter *f;
		unsigned short n;

		err = vdso_filter(s->bpf, s->bpf_len, vdso_buffers_calls(o->fast_sys), &f, &n);
		if (!err) {
			free(s->bpf);
			s->bpf = f;
			s->bpf_len = n;
		}
	}
	if (err) {
		error("cannot build the seccomp filter: %s", strerror(-err));
		return err;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &s->cs) != CS_ERR_OK) {
		error("cannot open the capstone disassembler");
		return -ENOMEM;
	}
	s->cs_open = 1;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &s->cs_detail) == CS_ERR_OK) {
		cs_option(s->cs_detail, CS_OPT_DETAIL, CS_OPT_ON);
		s->cs_detail_open = 1;
	}
	return 0;
}

void session_kill(struct session *s)
{
	size_t i;
	int status;

	pid_t pid;

	for (i = 0; i < s->norder; i++)
		kill(s->order[i]->tgid, SIGKILL);
	/* Every tracee is gorr's child or traced by it: waitpid reports
	 * each death until none is left (ECHILD).  A killed tracee still
	 * stops at PTRACE_EVENT_EXIT (PTRACE_O_TRACEEXIT) and must be let
	 * go on from there. */
	while ((pid = waitpid(-1, &status, __WALL)) > 0 || errno == EINTR)
		if (pid > 0 && WIFSTOPPED(status))
			pt_cont(pid, 0);
}

void session_release(struct session *s)
{
	int i;

	for (i = 0; i < SESSION_HASH; i++)
		while (s->threads[i])
			engine_forget_thread(s, s->threads[i]->tid);
	if (s->filter)
		seccomp_release(s->filter);
	free(s->bpf);
	free(s->vdso_sysbuf);
	s->vdso_sysbuf = NULL;
	free(s->order);
	free(s->pidmap);
	free(s->inomap);
	free(s->ports);
	free(s->layout);
	s->layout = NULL;
	count_release(s);
	bp_release(s);
	free(s->bps);
	free(s->tsc_sites);
	free(s->dexits);
	if (s->cs_open)
		cs_close(&s->cs);
	if (s->cs_detail_open)
		cs_close(&s->cs_detail);
	if (s->have_bin)
		gobin_release(&s->bin);
	free(s->exe);
	memset(s, 0, sizeof(*s));
}

/* In the child, between fork and exec: only plain syscalls, no library
 * calls that may allocate or read the clock. */
static void __attribute__((noreturn)) child_exec(const struct session *s)
{
	extern char **environ;
	static const char msg[] = "gorr: cannot install the seccomp filter\n";
	struct sock_fprog prog = { s->bpf_len, s->bpf };

	/* Before the filter, so that none of these calls stops. */
	detenv_child_setup(s);
	/* gorr killed before it seized the child (a hunt ends its other
	 * runs with SIGKILL) would leave it stopped for ever, orphaned:
	 * seen as "gorr run" processes in state T after the suite.  It
	 * dies with gorr until PTRACE_O_EXITKILL takes over (the flag is
	 * kept across execve); parent already gone: exit now. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != s->gorr_pid)
		_exit(127);
	/* Wait for the tracer's PTRACE_SEIZE: a traced syscall made
	 * before it would fail with ENOSYS. */
	raise(SIGSTOP);
	/* A filter needs no_new_privs without CAP_SYS_ADMIN
	 * (kernel/seccomp.c, seccomp_prepare_filter); setuid bits then do
	 * not apply to the program, as under rr. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(126);
		_exit(126);
	}
	execve(s->exe, s->opts.argv, s->opts.envp ? s->opts.envp : environ);
	_exit(127);
}

int session_spawn(struct session *s)
{
	int status, err;
	pid_t pid;

	fflush(NULL);
	s->gorr_pid = getpid();
	pid = fork();
	if (pid < 0) {
		err = -errno;
		error("fork: %s", strerror(errno));
		return err;
	}
	if (pid == 0)
		child_exec(s);
	if (waitpid(pid, &status, WSTOPPED | __WALL) < 0 || !WIFSTOPPED(status)) {
		error("'%s' did not start", s->opts.argv[0]);
		return -ECHILD;
	}
	err = pt_seize(pid, SEIZE_OPTIONS);
	if (err) {
		kill(pid, SIGKILL);
		if (err == -EPERM)
			error("cannot trace '%s': ptrace is not permitted here "
			      "(a container without CAP_SYS_PTRACE, or kernel.yama.ptrace_scope=3?)",
			      s->opts.argv[0]);
		else
			error("cannot trace '%s': %s", s->opts.argv[0], strerror(-err));
		return err;
	}
	s->leader = pid;
	s->running = thread_add(s, pid, pid);
	s->running->rs = RS_RUNNING;
	/* The terminal sends ^C and ^\ to the whole foreground process
	 * group, the program included: let the program react (and the
	 * trace record it) instead of dying first, as system(3) and time(1)
	 * do.  SIGTERM and SIGHUP still end gorr, and PTRACE_O_EXITKILL the
	 * program; the trace stays readable up to that point. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	if (s->pinned_cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(s->pinned_cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	kill(pid, SIGCONT);
	return 0;
}
