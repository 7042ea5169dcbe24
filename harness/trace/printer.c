/* strace-like formatting of trace events.  Arguments are formatted by
 * their kind in the syscall table; the values of pointer arguments come
 * from what the trace captured (inputs at entry, memory written at exit). */
#define _GNU_SOURCE
#include "harness/trace/event.h"
#include "harness/trace/printer.h"
#include "harness/go/gobin.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

struct flag_name {
	uint64_t bit;
	const char *name;
};

static void print_flags(struct sbuf *sb, uint64_t v, const struct flag_name *f, size_t n)
{
	size_t i;
	int any = 0;

	for (i = 0; i < n; i++)
		if (f[i].bit && (v & f[i].bit) == f[i].bit) {
			sbuf_addf(sb, "%s%s", any ? "|" : "", f[i].name);
			v &= ~f[i].bit;
			any = 1;
		}
	if (v || !any)
		sbuf_addf(sb, "%s%#" PRIx64, any ? "|" : "", v);
}

void print_signame(struct sbuf *sb, int sig)
{
	const char *abbrev = sig > 0 && sig < 65 ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		sbuf_addf(sb, "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		sbuf_addf(sb, "SIGRT_%d", sig - SIGRTMIN);
	else
		sbuf_addf(sb, "%d", sig);
}

static void print_clock(struct sbuf *sb, int64_t id)
{
	static const char *const names[] = {
		"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID",
		"CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW",
		"CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE",
		"CLOCK_BOOTTIME", "CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM",
		NULL, "CLOCK_TAI",
	};

	if (id >= 0 && id < (int64_t)ARRAY_SIZE(names) && names[id])
		sbuf_adds(sb, names[id]);
	else
		sbuf_addf(sb, "%" PRId64, id);
}

static void print_futex_op(struct sbuf *sb, uint64_t op)
{
	static const char *const names[] = {
		"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE",
		"FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP", "FUTEX_LOCK_PI",
		"FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET",
		"FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
		"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
	};
	uint64_t cmd = op & 127;

	if (cmd < ARRAY_SIZE(names))
		sbuf_adds(sb, names[cmd]);
	else
		sbuf_addf(sb, "%#" PRIx64, cmd);
	if (op & 128)
		sbuf_adds(sb, "_PRIVATE");
	if (op & 256)
		sbuf_adds(sb, "|FUTEX_CLOCK_REALTIME");
	if (op & ~(uint64_t)0x1ff)
		sbuf_addf(sb, "|%#" PRIx64, op & ~(uint64_t)0x1ff);
}

static void print_oflags(struct sbuf *sb, uint64_t v)
{
	static const struct flag_name f[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" },
		{ O_NONBLOCK, "O_NONBLOCK" }, { O_DSYNC, "O_DSYNC" },
		{ O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_PATH, "O_PATH" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };

	sbuf_adds(sb, acc[v & 3]);
	v &= ~(uint64_t)3;
	if (v) {
		sbuf_addc(sb, '|');
		print_flags(sb, v, f, ARRAY_SIZE(f));
	}
}

static const struct ev_blob *find_in(const struct trace_event *ev, int arg, int *cut)
{
	int i;

	for (i = 0; i < ev->nin; i++)
		if (ev->in[i].arg == arg) {
			if (cut)
				*cut = ev->in[i].cut;
			return &ev->in[i].data;
		}
	return NULL;
}

static const struct ev_blob *find_out(const struct trace_event *ev, uint64_t addr)
{
	int i;

	for (i = 0; i < ev->nout; i++)
		if (ev->out[i].addr == addr && !ev->out[i].missing)
			return &ev->out[i].data;
	return NULL;
}

static int64_t rd64(const struct ev_blob *b, size_t off)
{
	int64_t v = 0;

	if (b && off + 8 <= b->len)
		memcpy(&v, b->p + off, 8);
	return v;
}

static int32_t rd32(const struct ev_blob *b, size_t off)
{
	int32_t v = 0;

	if (b && off + 4 <= b->len)
		memcpy(&v, b->p + off, 4);
	return v;
}

static void print_ptr(struct sbuf *sb, uint64_t v)
{
	if (v)
		sbuf_addf(sb, "%#" PRIx64, v);
	else
		sbuf_adds(sb, "NULL");
}

static void print_timespec(struct sbuf *sb, const struct ev_blob *b, size_t off, const char *frac)
{
	sbuf_addf(sb, "{tv_sec=%" PRId64 ", %s=%" PRId64 "}", rd64(b, off), frac, rd64(b, off + 8));
}

static void print_sockaddr(struct sbuf *sb, const struct ev_blob *b)
{
	unsigned int fam;
	char addr[INET6_ADDRSTRLEN];

	if (!b || b->len < 2) {
		sbuf_adds(sb, "{...}");
		return;
	}
	fam = (unsigned int)(b->p[0] | b->p[1] << 8);
	if (fam == AF_INET && b->len >= 8) {
		inet_ntop(AF_INET, b->p + 4, addr, sizeof(addr));
		sbuf_addf(sb, "{sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"%s\")}",
			  (unsigned int)(b->p[2] << 8 | b->p[3]), addr);
	} else if (fam == AF_INET6 && b->len >= 24) {
		inet_ntop(AF_INET6, b->p + 8, addr, sizeof(addr));
		sbuf_addf(sb, "{sa_family=AF_INET6, sin6_port=htons(%u), sin6_addr=\"%s\"}",
			  (unsigned int)(b->p[2] << 8 | b->p[3]), addr);
	} else if (fam == AF_UNIX) {
		const unsigned char *path = b->p + 2;
		size_t n = b->len - 2;

		sbuf_adds(sb, "{sa_family=AF_UNIX, sun_path=");
		if (n && path[0] == 0) {
			sbuf_addc(sb, '@');
			path++;
			n--;
		}
		sbuf_add_quoted(sb, path, strnlen((const char *)path, n), 108);
		sbuf_addc(sb, '}');
	} else {
		sbuf_addf(sb, "{sa_family=%u, ...}", fam);
	}
}

static void print_epoll_events(struct sbuf *sb, uint32_t events)
{
	static const struct flag_name f[] = {
		{ 0x001, "EPOLLIN" }, { 0x004, "EPOLLOUT" }, { 0x002, "EPOLLPRI" },
		{ 0x008, "EPOLLERR" }, { 0x010, "EPOLLHUP" }, { 0x2000, "EPOLLRDHUP" },
		{ 1u << 31, "EPOLLET" }, { 1u << 30, "EPOLLONESHOT" },
	};

	print_flags(sb, events, f, ARRAY_SIZE(f));
}

static void print_epev(struct sbuf *sb, const struct ev_blob *b, size_t off)
{
	uint64_t data = 0;

	sbuf_adds(sb, "{events=");
	print_epoll_events(sb, (uint32_t)rd32(b, off));
	if (b && off + 12 <= b->len)
		memcpy(&data, b->p + off + 4, 8);
	sbuf_addf(sb, ", data=%#" PRIx64 "}", data);
}

static void print_stat(struct sbuf *sb, const struct ev_blob *b)
{
	/* struct stat on x86-64: st_mode at 24, st_size at 48. */
	uint32_t mode = (uint32_t)rd32(b, 24);
	const char *type = S_ISREG(mode) ? "S_IFREG" : S_ISDIR(mode) ? "S_IFDIR" :
			   S_ISCHR(mode) ? "S_IFCHR" : S_ISFIFO(mode) ? "S_IFIFO" :
			   S_ISSOCK(mode) ? "S_IFSOCK" : S_ISLNK(mode) ? "S_IFLNK" :
			   S_ISBLK(mode) ? "S_IFBLK" : "0";

	sbuf_addf(sb, "{st_mode=%s|%04o, st_size=%" PRId64 ", ...}", type, mode & 07777, rd64(b, 48));
}

static void print_cpuset(struct sbuf *sb, const struct ev_blob *b)
{
	uint32_t i;
	int any = 0;

	sbuf_addc(sb, '[');
	for (i = 0; b && i < b->len * 8; i++)
		if (b->p[i / 8] & (1u << (i % 8))) {
			sbuf_addf(sb, "%s%u", any ? " " : "", i);
			any = 1;
		}
	sbuf_addc(sb, ']');
}

static void print_arg(struct sbuf *sb, const struct trace_event *ev,
		      const struct sc_desc *d, int i, const struct print_opts *po)
{
	enum sc_kind k = d ? d->args[i] : A_HEX;
	uint64_t v = ev->args[i];
	const struct ev_blob *in, *out;
	int cut = 0, failed = ev->has_ret && ev->ret < 0 && ev->ret > -4096;

	in = find_in(ev, i, &cut);
	out = v ? find_out(ev, v) : NULL;
	switch (k) {
	case A_INT:
		sbuf_addf(sb, "%" PRId64, (int64_t)v);
		return;
	case A_TIMEOUT_MS:
	case A_PID:
	case A_IDTYPE:
		sbuf_addf(sb, "%d", (int)v);
		return;
	case A_UINT:
		sbuf_addf(sb, "%" PRIu64, v);
		return;
	case A_OCT:
		sbuf_addf(sb, "%#" PRIo64, v);
		return;
	case A_FD:
		sbuf_addf(sb, "%d", (int)v);
		return;
	case A_DIRFD:
		if ((int)v == AT_FDCWD)
			sbuf_adds(sb, "AT_FDCWD");
		else
			sbuf_addf(sb, "%d", (int)v);
		return;
	case A_PATH:
	case A_STR:
		if (in) {
			sbuf_add_quoted(sb, in->p, in->len, 4096);
			if (cut)
				sbuf_adds(sb, "...");
			return;
		}
		break;
	case A_ARGV:
		if (in) {
			uint32_t p = 0;
			int first = 1;

			sbuf_addc(sb, '[');
			while (p < in->len) {
				size_t l = strnlen((const char *)in->p + p, in->len - p);

				sbuf_adds(sb, first ? "" : ", ");
				sbuf_add_quoted(sb, in->p + p, l, po->strsize);
				first = 0;
				p += (uint32_t)l + 1;
			}
			sbuf_adds(sb, cut ? ", ...]" : "]");
			return;
		}
		break;
	case A_IBUF:
	case A_IOV_IN:
	case A_MSG_IN:
		if (in) {
			sbuf_add_quoted(sb, in->p, in->len, po->strsize);
			if (cut && in->len <= po->strsize)
				sbuf_adds(sb, "...");
			return;
		}
		break;
	case A_OBUF:
		if (out) {
			sbuf_add_quoted(sb, out->p, out->len, po->strsize);
			return;
		}
		break;
	case A_IOV_OUT:
	case A_MSG_OUT:
		/* The first region written is the start of the data. */
		if (ev->nout && !ev->out[0].missing && k == A_IOV_OUT) {
			sbuf_add_quoted(sb, ev->out[0].data.p, ev->out[0].data.len, po->strsize);
			return;
		}
		break;
	case A_SA_IN:
		if (in) {
			print_sockaddr(sb, in);
			return;
		}
		break;
	case A_SA_OUT:
		if (out) {
			print_sockaddr(sb, out);
			return;
		}
		break;
	case A_SALEN:
	case A_INT_OUT:
		if (out) {
			sbuf_addf(sb, "[%d]", rd32(out, 0));
			return;
		}
		break;
	case A_INT2_OUT:
		if (out) {
			sbuf_addf(sb, "[%d, %d]", rd32(out, 0), rd32(out, 4));
			return;
		}
		break;
	case A_U64_OUT:
	case A_U64_UPD:
	case A_TIME_OUT:
		if (out || in) {
			sbuf_addf(sb, "[%" PRId64 "]", rd64(out ? out : in, 0));
			return;
		}
		break;
	case A_TS_IN:
	case A_TS_UPD:
		if (in) {
			print_timespec(sb, in, 0, "tv_nsec");
			return;
		}
		break;
	case A_TS_OUT:
	case A_TS_REM:
		if (out) {
			print_timespec(sb, out, 0, "tv_nsec");
			return;
		}
		break;
	case A_TV_OUT:
		if (out) {
			print_timespec(sb, out, 0, "tv_usec");
			return;
		}
		break;
	case A_FUTEX_VAL2:
		if (in) {
			print_timespec(sb, in, 0, "tv_nsec");
			return;
		}
		if (sc_futex_has_timeout(ev->args[1]))
			break;	/* a pointer: NULL or unreadable */
		sbuf_addf(sb, "%" PRIu64, v);
		return;
	case A_ITS_IN:
	case A_ITS_OUT:
		if ((k == A_ITS_IN ? in : out)) {
			const struct ev_blob *b = k == A_ITS_IN ? in : out;

			sbuf_adds(sb, "{it_interval=");
			print_timespec(sb, b, 0, "tv_nsec");
			sbuf_adds(sb, ", it_value=");
			print_timespec(sb, b, 16, "tv_nsec");
			sbuf_addc(sb, '}');
			return;
		}
		break;
	case A_RLIM_IN:
	case A_RLIM_OUT:
		if ((k == A_RLIM_IN ? in : out)) {
			const struct ev_blob *b = k == A_RLIM_IN ? in : out;

			sbuf_addf(sb, "{rlim_cur=%" PRIu64 ", rlim_max=%" PRIu64 "}",
				  (uint64_t)rd64(b, 0), (uint64_t)rd64(b, 8));
			return;
		}
		break;
	case A_STAT_OUT:
		if (out) {
			print_stat(sb, out);
			return;
		}
		break;
	case A_UTS_OUT:
		if (out && out->len >= 390) {
			sbuf_adds(sb, "{sysname=");
			sbuf_add_quoted(sb, out->p, strnlen((const char *)out->p, 65), 65);
			sbuf_adds(sb, ", nodename=");
			sbuf_add_quoted(sb, out->p + 65, strnlen((const char *)out->p + 65, 65), 65);
			sbuf_adds(sb, ", release=");
			sbuf_add_quoted(sb, out->p + 130, strnlen((const char *)out->p + 130, 65), 65);
			sbuf_adds(sb, ", ...}");
			return;
		}
		break;
	case A_CPUSET_OUT:
		if (out) {
			print_cpuset(sb, out);
			return;
		}
		break;
	case A_EPEV_IN:
		if (in) {
			print_epev(sb, in, 0);
			return;
		}
		break;
	case A_EPEV_OUT:
		if (out) {
			uint32_t j;

			sbuf_addc(sb, '[');
			for (j = 0; j + 12 <= out->len; j += 12) {
				if (j)
					sbuf_adds(sb, ", ");
				print_epev(sb, out, j);
			}
			sbuf_addc(sb, ']');
			return;
		}
		if (!failed && ev->has_ret && ev->ret == 0) {
			sbuf_adds(sb, "[]");
			return;
		}
		break;
	case A_CLOCK:
		print_clock(sb, (int64_t)(int32_t)v);
		return;
	case A_OFLAGS:
		print_oflags(sb, v);
		return;
	case A_FUTEX_OP:
		print_futex_op(sb, v);
		return;
	case A_SIG:
		print_signame(sb, (int)v);
		return;
	case A_EPCTL_OP: {
		static const char *const ops[] = { "0", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD" };

		if (v < ARRAY_SIZE(ops))
			sbuf_adds(sb, ops[v]);
		else
			sbuf_addf(sb, "%" PRIu64, v);
		return;
	}
	case A_WHENCE: {
		static const char *const w[] = { "SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE" };

		if (v < ARRAY_SIZE(w))
			sbuf_adds(sb, w[v]);
		else
			sbuf_addf(sb, "%" PRIu64, v);
		return;
	}
	case A_IOCTL_ARG:
	case A_FCNTL_ARG:
	case A_PRCTL_ARG:
		/* Pointers or plain values depending on the request; what the
		 * call wrote, if anything, is in the trace's "out". */
		if (out) {
			sbuf_addc(sb, '[');
			sbuf_add_hex(sb, out->p, out->len < 64 ? out->len : 64);
			sbuf_addc(sb, ']');
			return;
		}
		sbuf_addf(sb, "%#" PRIx64, v);
		return;
	case A_HEX:
	case A_CLONE_FLAGS:
	case A_IOCTL_REQ:
	case A_FCNTL_CMD:
	case A_PRCTL_OP:
		sbuf_addf(sb, "%#" PRIx64, v);
		return;
	default:
		break;
	}
	print_ptr(sb, v);
}

static void print_result(struct sbuf *sb, const struct trace_event *ev,
			 const struct sc_desc *d)
{
	if (!ev->has_ret) {
		sbuf_adds(sb, " = ?");
		return;
	}
	if (ev->ret < 0 && ev->ret > -4096) {
		int err = (int)-ev->ret;
		const char *name = sc_errno_name(err);

		if (err >= SC_ERESTARTSYS && err <= SC_ERESTART_RESTARTBLOCK)
			sbuf_addf(sb, " = ? %s (To be restarted)", name);
		else if (name)
			sbuf_addf(sb, " = -1 %s (%s)", name, strerror(err));
		else
			sbuf_addf(sb, " = -1 %d", err);
		return;
	}
	if (d && d->ret == R_HEX)
		sbuf_addf(sb, " = %#" PRIx64, (uint64_t)ev->ret);
	else if (d && d->ret == R_OCT)
		sbuf_addf(sb, " = %#" PRIo64, (uint64_t)ev->ret);
	else
		sbuf_addf(sb, " = %" PRId64, ev->ret);
}

void print_syscall(struct sbuf *sb, const struct trace_event *ev,
		   const struct print_opts *po)
{
	const struct sc_desc *d = sc_lookup(ev->nr);
	int i;

	if (d)
		sbuf_adds(sb, d->name);
	else
		sbuf_addf(sb, "syscall_%ld", ev->nr);
	sbuf_addc(sb, '(');
	for (i = 0; i < ev->nargs; i++) {
		if (i)
			sbuf_adds(sb, ", ");
		print_arg(sb, ev, d, i, po);
	}
	sbuf_addc(sb, ')');
	print_result(sb, ev, d);
	if (ev->injected)
		sbuf_adds(sb, " (INJECTED)");
	else if (ev->emulated)
		sbuf_adds(sb, " (emulated)");
	if (ev->blocked)
		sbuf_adds(sb, " (blocked)");
	if (ev->vdso)
		sbuf_adds(sb, " (vdso)");
	if (ev->fast)
		sbuf_adds(sb, " (buffered)");
}

static void print_wstatus(struct sbuf *sb, int ws)
{
	if (WIFEXITED(ws)) {
		sbuf_addf(sb, "exited with %d", WEXITSTATUS(ws));
	} else if (WIFSIGNALED(ws)) {
		sbuf_adds(sb, "killed by ");
		print_signame(sb, WTERMSIG(ws));
		if (WCOREDUMP(ws))
			sbuf_adds(sb, " (core dumped)");
	} else {
		sbuf_addf(sb, "status %#x", ws);
	}
}

void print_code_pc(struct sbuf *sb, uint64_t pc, const struct gobin *bin)
{
	struct gobin_frame fr[16];
	int n = bin ? gobin_pc_frames(bin, pc, fr, 16) : 0;
	char name[512];

	sbuf_addf(sb, "%#" PRIx64, pc);
	if (!n)
		return;
	sbuf_addf(sb, " in %s", gobin_print_name(fr[0].func, name, sizeof(name)));
	if (fr[0].inlined)
		sbuf_addf(sb, " (inlined into %s)", gobin_print_name(fr[n - 1].func, name, sizeof(name)));
	if (fr[0].file)
		sbuf_addf(sb, " at %s:%d", fr[0].file, fr[0].line);
}

static void print_pc(struct sbuf *sb, uint64_t pc, const struct print_opts *po)
{
	print_code_pc(sb, pc, po->bin);
}

void print_event(struct sbuf *sb, const struct trace_event *ev,
		 const struct print_opts *po)
{
	sbuf_addf(sb, "%7" PRIu64 " [%" PRId64 "] ", ev->index, ev->tid);
	switch (ev->type) {
	case EV_SYSCALL:
		print_syscall(sb, ev, po);
		break;
	case EV_SIGNAL: {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (ev->info.p)
			memcpy(&si, ev->info.p, ev->info.len < sizeof(si) ? ev->info.len : sizeof(si));
		sbuf_adds(sb, "--- ");
		print_signame(sb, ev->sig);
		sbuf_addf(sb, " {si_code=%d", ev->code);
		if (ev->sig == SIGSEGV || ev->sig == SIGBUS || ev->sig == SIGILL ||
		    ev->sig == SIGFPE || ev->sig == SIGTRAP)
			sbuf_addf(sb, ", si_addr=%p", si.si_addr);
		else if (ev->code <= 0 || ev->code == SI_USER)
			sbuf_addf(sb, ", si_pid=%d, si_uid=%u", si.si_pid, si.si_uid);
		sbuf_adds(sb, "} ---");
		break;
	}
	case EV_CLONE:
		sbuf_addf(sb, "+++ new %.*s %" PRId64 " +++", (int)ev->kind.len,
			  ev->kind.p ? (const char *)ev->kind.p : "", ev->child);
		break;
	case EV_EXIT:
		sbuf_adds(sb, "+++ ");
		print_wstatus(sb, ev->wstatus);
		sbuf_adds(sb, " +++");
		break;
	case EV_EXEC:
		sbuf_adds(sb, "--- exec ");
		sbuf_add_quoted(sb, ev->path.p, ev->path.len, 4096);
		sbuf_addf(sb, " (vdso %s, AT_RANDOM=",
			  ev->vdso_fast ? "gorr's" : ev->vdso_hidden ? "hidden" : "visible");
		sbuf_add_hex(sb, ev->at_random.p, ev->at_random.len);
		sbuf_adds(sb, ") ---");
		break;
	case EV_RDTSC:
		sbuf_addf(sb, "%s at ", ev->rdtscp ? "rdtscp" : "rdtsc");
		print_pc(sb, ev->pc, po);
		sbuf_addf(sb, " = %#" PRIx64, ev->tsc);
		if (ev->rdtscp)
			sbuf_addf(sb, ", aux=%#x", ev->aux);
		break;
	case EV_RUN:
		sbuf_adds(sb, "--- runs ---");
		break;
	case EV_FAULT:
		sbuf_addf(sb, "--- fault %.*s at ",
			  (int)ev->action.len, ev->action.p ? (const char *)ev->action.p : "");
		if (ev->nr < 0 && ev->pc)	/* a forced GC: where it started */
			print_pc(sb, ev->pc, po);
		else
			sbuf_adds(sb, sc_name(ev->nr) ? sc_name(ev->nr) : "call");
		sbuf_addf(sb, ": %.*s (INJECTED) ---",
			  (int)ev->rule.len, ev->rule.p ? (const char *)ev->rule.p : "");
		break;
	case EV_SAMPLE:
		sbuf_adds(sb, "--- sample at ");
		sbuf_add_duration(sb, ev->sample_t);
		sbuf_addf(sb, ": %" PRId64 " goroutines", ev->sample_goroutines);
		if (ev->sample_timers >= 0)
			sbuf_addf(sb, ", %" PRId64 " timers", ev->sample_timers);
		sbuf_adds(sb, " ---");
		break;
	case EV_SLICE:
		if (ev->regs.p) {
			sbuf_adds(sb, "--- timeslice ends at ");
			print_pc(sb, ev->pc, po);
		} else {
			sbuf_adds(sb, "--- timeslice ends");
		}
		if (ev->goid > 0)
			sbuf_addf(sb, " (goroutine %" PRId64 "%s)", ev->goid,
				  ev->preempt ? ", preempted" : "");
		else if (ev->preempt)
			sbuf_adds(sb, " (goroutine preempted)");
		if (ev->laps)
			sbuf_addf(sb, " at counted lap %" PRIu64, ev->laps);
		sbuf_adds(sb, " ---");
		break;
	case EV_END:
		if (ev->hang) {
			sbuf_addf(sb, "+++ end: the program hung, status %d +++", ev->status);
			break;
		}
		sbuf_adds(sb, "+++ end: ");
		print_wstatus(sb, ev->wstatus);
		sbuf_addf(sb, ", status %d +++", ev->status);
		break;
	case EV_UNKNOWN:
		sbuf_addf(sb, "(event '%.*s' unknown to this gorr)", (int)ev->type_len, ev->type_name);
		break;
	}
}
