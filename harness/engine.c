#define _GNU_SOURCE
#include "engine.h"
#include "ptrace.h"
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <linux/seccomp.h>
#include <sys/wait.h>
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

int thread_read(void *thread, uint64_t addr, void *buf, size_t len)
{
	return mem_read(((struct thread *)thread)->tid, addr, buf, len);
}

int cpumask_count(const cpu_set_t *m)
{
	return CPU_COUNT(m);
}

struct thread *session_thread(struct session *s, pid_t tid)
{
	struct thread *t;

	for (t = s->threads[tid % SESSION_HASH]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

/* The thread group of a new tracee; /proc tells it even before the
 * clone event of its parent has been seen. */
static pid_t read_tgid(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = tid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			tgid = (pid_t)atoi(line + 5);
			break;
		}
	fclose(f);
	return tgid;
}

static struct thread *add_thread(struct session *s, pid_t tid, pid_t tgid)
{
	struct thread *t = xcalloc(1, sizeof(*t));

	t->tid = tid;
	t->tgid = tgid;
	t->state = TH_STOPPED;
	t->next = s->threads[tid % SESSION_HASH];
	s->threads[tid % SESSION_HASH] = t;
	s->nthreads++;
	return t;
}

static void remove_thread(struct session *s, pid_t tid)
{
	struct thread **pp = &s->threads[tid % SESSION_HASH];

	while (*pp) {
		if ((*pp)->tid == tid) {
			struct thread *t = *pp;

			*pp = t->next;
			sbuf_release(&t->inbuf);
			free(t);
			s->nthreads--;
			return;
		}
		pp = &(*pp)->next;
	}
}

/* execvp's search, done before fork so that a missing program is a clean
 * error of gorr's, not an exit status of the child. */
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

	err = resolve_program(o->argv[0], &s->exe);
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
	err = sha256_file(s->exe, s->exe_digest);
	if (err) {
		error("cannot read '%s': %s", s->exe, strerror(-err));
		return err;
	}
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
	if (err) {
		error("cannot build the seccomp filter: %s", strerror(-err));
		return err;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &s->cs) != CS_ERR_OK) {
		error("cannot open the capstone disassembler");
		return -ENOMEM;
	}
	s->cs_open = 1;
	return 0;
}

void session_release(struct session *s)
{
	int i;

	for (i = 0; i < SESSION_HASH; i++)
		while (s->threads[i])
			remove_thread(s, s->threads[i]->tid);
	if (s->filter)
		seccomp_release(s->filter);
	free(s->bpf);
	if (s->cs_open)
		cs_close(&s->cs);
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
	execve(s->exe, s->opts.argv, environ);
	_exit(127);
}

int session_spawn(struct session *s)
{
	int status, err;
	pid_t pid;

	fflush(NULL);
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
	add_thread(s, pid, pid)->state = TH_RUNNING;
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

static void resume(struct session *s, struct thread *t, int sig)
{
	int err;

	(void)s;
	t->state = TH_RUNNING;
	err = t->want_exit ? pt_syscall(t->tid, sig) : pt_cont(t->tid, sig);
	/* -ESRCH: the thread died in its stop; its exit is reported next. */
	if (err && err != -ESRCH)
		warning("cannot resume thread %d: %s", (int)t->tid, strerror(-err));
}

/* Set the result of a skipped syscall at its exit stop. */
static int set_result(struct thread *t, int64_t ret)
{
	struct user_regs_struct regs;
	int err = pt_getregs(t->tid, &regs);

	if (err)
		return err;
	regs.rax = (uint64_t)ret;
	return pt_setregs(t->tid, &regs);
}

static void on_seccomp_stop(struct session *s, struct thread *t)
{
	struct __ptrace_syscall_info info;
	const struct sc_desc *d;
	int action, i, err;

	err = pt_syscall_info(t->tid, &info);
	if (err || info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		if (err != -ESRCH)
			resume(s, t, 0);
		return;
	}
	memset(&t->call, 0, sizeof(t->call));
	t->call.nr = (long)info.seccomp.nr;
	for (i = 0; i < 6; i++)
		t->call.args[i] = info.seccomp.args[i];
	t->call.pc = info.instruction_pointer;
	d = sc_lookup(t->call.nr);
	sc_save_entry(d, t->call.args, &t->call.entry, thread_read, t);
	t->call.nin = sc_capture_inputs(t->call.nr, t->call.args, thread_read, t,
					s->opts.strsize, t->call.in, &t->inbuf);
	t->in_syscall = 1;

	action = s->ops->syscall_entry(s, t);
	if (action == ENTRY_EMULATE) {
		struct user_regs_struct regs;

		/* A seccomp stop may skip the call by setting its number
		 * to -1 (Documentation/userspace-api/seccomp_filter.rst);
		 * the result is written at the exit stop. */
		t->call.emulate = 1;
		if (pt_getregs(t->tid, &regs) == 0) {
			regs.orig_rax = (uint64_t)-1;
			pt_setregs(t->tid, &regs);
		}
	}
	t->want_exit = action != ENTRY_RUN || (s->rewrite_mask && d && (d->flags & SF_CPUMASK)) ||
		       /* the program's own exec: see start_failed */
		       (s->exec_count == 0 && d && (d->flags & SF_EXEC));
	if (!t->want_exit)
		t->in_syscall = 0;
	resume(s, t, 0);
}

/* sched_getaffinity: the tracee runs pinned to one CPU, but must see
 * the mask it would have had (Go sizes GOMAXPROCS from it:
 * runtime/os_linux.go getproccount), or the one --cpus asked for. */
static void rewrite_cpumask(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	pid_t who = (pid_t)t->call.args[0];

	if (!s->rewrite_mask || !d || !(d->flags & SF_CPUMASK) || t->call.ret <= 0)
		return;
	if (who != 0 && !session_thread(s, who))
		return;
	if ((size_t)t->call.ret > sizeof(s->reported_mask))
		return;
	mem_write(t->tid, t->call.args[2], &s->reported_mask, (size_t)t->call.ret);
}

/* The exec of the program itself failed (the kernel would not run the
 * file: ENOEXEC for a file that is neither ELF nor #!, EACCES for a
 * noexec mount...): say so, since the child only exits. */
static void check_start(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (s->exec_count || !d || !(d->flags & SF_EXEC) || t->call.ret >= 0 ||
	    t->call.ret < -4095)
		return;
	error("cannot execute '%s': %s", s->opts.argv[0], strerror((int)-t->call.ret));
	s->start_failed = 1;
}

static void on_syscall_exit_stop(struct session *s, struct thread *t)
{
	struct __ptrace_syscall_info info;
	int err;

	if (!t->in_syscall) {
		resume(s, t, 0);
		return;
	}
	err = pt_syscall_info(t->tid, &info);
	if (err == -ESRCH)
		return;
	t->want_exit = 0;
	t->in_syscall = 0;
	if (t->call.emulate) {
		t->call.ret = t->call.emu_ret;
		set_result(t, t->call.ret);
	} else if (!err && info.op == PTRACE_SYSCALL_INFO_EXIT) {
		t->call.ret = info.exit.rval;
	} else {
		struct user_regs_struct regs;

		t->call.ret = pt_getregs(t->tid, &regs) == 0 ? (int64_t)regs.rax : -ENOSYS;
	}
	rewrite_cpumask(s, t);
	check_start(s, t);
	s->ops->syscall_exit(s, t);
	resume(s, t, 0);
}

static void on_clone_event(struct session *s, struct thread *t, int event)
{
	unsigned long msg = 0;
	enum clone_kind kind;
	struct thread *c;
	pid_t child;

	if (pt_geteventmsg(t->tid, &msg) == 0) {
		child = (pid_t)msg;
		if (event == PTRACE_EVENT_FORK)
			kind = CLONE_KIND_FORK;
		else if (event == PTRACE_EVENT_VFORK)
			kind = CLONE_KIND_VFORK;
		else
			kind = read_tgid(child) == t->tgid ? CLONE_KIND_THREAD : CLONE_KIND_FORK;
		c = session_thread(s, child);
		if (!c) {
			/* Its first stop has not been reported yet. */
			c = add_thread(s, child, kind == CLONE_KIND_THREAD ? t->tgid : child);
			c->state = TH_RUNNING;
		}
		s->ops->clone(s, t, child, kind);
	}
	resume(s, t, 0);
}

static void on_exec_event(struct session *s, struct thread *t)
{
	struct exec_info e;
	unsigned long former = 0;

	/* A non-leader thread that execs takes the leader's tid
	 * (fs/exec.c de_thread); its state moves along. */
	if (pt_geteventmsg(t->tid, &former) == 0 && (pid_t)former != t->tid) {
		struct thread *old = session_thread(s, (pid_t)former);

		if (old) {
			struct sbuf tmp = t->inbuf;

			t->in_syscall = old->in_syscall;
			t->want_exit = old->want_exit;
			t->call = old->call;
			t->inbuf = old->inbuf;
			old->inbuf = tmp;
			remove_thread(s, old->tid);
		}
	}
	memset(&e, 0, sizeof(e));
	e.index = s->exec_count++;
	detenv_exec_stop(s, t, &e);
	s->ops->exec(s, t, &e);
	resume(s, t, 0);
}

static void on_exit_event(struct session *s, struct thread *t)
{
	unsigned long msg = 0;

	t->state = TH_EXITING;
	if (pt_geteventmsg(t->tid, &msg) == 0)
		s->ops->thread_exit(s, t, (int)msg);
	/* The syscall it was in (exit, exit_group, or one cut short by
	 * another thread's exit_group) will not return. */
	t->in_syscall = 0;
	t->want_exit = 0;
	resume(s, t, 0);
}

static void on_event_stop(struct session *s, struct thread *t, int sig)
{
	/* With PTRACE_SEIZE, a job-control stop is reported as
	 * PTRACE_EVENT_STOP with the stopping signal; PTRACE_LISTEN keeps
	 * it stopped until SIGCONT, as without a tracer.  Other event stops
	 * (SIGTRAP: a new thread's first stop, PTRACE_INTERRUPT) just
	 * resume.  See ptrace(2), "Group-stop". */
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
		t->state = TH_GROUP_STOP;
		if (pt_listen(t->tid) == 0)
			return;
	}
	resume(s, t, 0);
}

static void on_signal_stop(struct session *s, struct thread *t, int sig)
{
	siginfo_t si;
	int deliver = sig, handled;

	/* Before the first exec the only signals are gorr's own start-up
	 * handshake (SIGSTOP, SIGCONT): not the program's. */
	if (s->exec_count == 0 || pt_getsiginfo(t->tid, &si) < 0) {
		resume(s, t, sig);
		return;
	}
	if (sig == SIGSEGV) {
		handled = detenv_tsc_trap(s, t, &si);
		if (handled == -ESRCH)
			return;
		if (handled > 0) {
			resume(s, t, 0);
			return;
		}
	}
	deliver = s->ops->signal(s, t, &si);
	resume(s, t, deliver);
}

static void on_stopped(struct session *s, struct thread *t, int status)
{
	int sig = WSTOPSIG(status), event = (unsigned)status >> 16;

	t->state = TH_STOPPED;
	s->stops++;
	if (sig == (SIGTRAP | 0x80)) {
		on_syscall_exit_stop(s, t);
		return;
	}
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		on_seccomp_stop(s, t);
		return;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		on_clone_event(s, t, event);
		return;
	case PTRACE_EVENT_EXEC:
		on_exec_event(s, t);
		return;
	case PTRACE_EVENT_EXIT:
		on_exit_event(s, t);
		return;
	case PTRACE_EVENT_STOP:
		on_event_stop(s, t, sig);
		return;
	case 0:
		on_signal_stop(s, t, sig);
		return;
	default:
		resume(s, t, 0);
	}
}

int session_run(struct session *s)
{
	while (!s->leader_done) {
		struct thread *t;
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			error("waitpid: %s", strerror(errno));
			return -errno;
		}
		t = session_thread(s, pid);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (pid == s->leader) {
				s->leader_done = 1;
				s->leader_wstatus = status;
			}
			if (t)
				remove_thread(s, pid);
			continue;
		}
		if (!t) {
			/* A new thread or child whose parent's clone event
			 * has not been seen yet. */
			t = add_thread(s, pid, read_tgid(pid));
		}
		on_stopped(s, t, status);
	}
	if (!s->leader_done) {
		error("lost track of '%s'", s->opts.argv[0]);
		return -ECHILD;
	}
	return 0;
}

int session_exit_code(const struct session *s)
{
	if (!s->leader_done || s->start_failed)
		return EXIT_GORR_FAILURE;
	if (WIFEXITED(s->leader_wstatus))
		return WEXITSTATUS(s->leader_wstatus);
	if (WIFSIGNALED(s->leader_wstatus))
		return 128 + WTERMSIG(s->leader_wstatus);
	return EXIT_GORR_FAILURE;
}
