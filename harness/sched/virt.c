/* The virtual world of `gorr run`: what a program reads from the machine
 * is made a function of the seed, so that the same seed gives the same
 * run on any machine.
 *  - Clocks (SF_CLOCKREAD calls) read the scheduler's virtual clock:
 *    CLOCK_MONOTONIC starts at 1 s, CLOCK_REALTIME at 2000-01-01T00:00:01Z,
 *    and the clock moves 1 us per completed syscall, 10 ms per timeslice,
 *    and jumps to the next deadline when every thread waits (sched.c).
 *  - getrandom (SF_RANDOM) returns bytes of a PRNG stream of the seed.
 *  - Process and thread ids: the program sees 1000, 1001... in creation
 *    order (its parent is 999).  Arguments of kind A_PID are translated
 *    to the kernel's ids before a call runs, results of kind R_PID back.
 *  - Ports the kernel picks (bind to port 0, connect: its ephemeral range
 *    starts at 32768, include/net/ip.h) are shown as 61000, 61001... in
 *    order of appearance in socket addresses the kernel writes (A_SA_OUT,
 *    recvmsg's name); addresses the program passes (A_SA_IN) get the real
 *    port back for the call and their own bytes again after it.
 *  - Inode numbers (getdents's d_ino, stat's st_ino, statx's stx_ino)
 *    are 100000, 100001... in order of appearance: a test's temporary
 *    files get new inodes every run (bufio's, io's and path/filepath's
 *    tests under two runs of one seed differed only there).  One map for
 *    all: a file's number from getdents and from stat agree (os.SameFile
 *    compares st_dev and st_ino). */
#define _GNU_SOURCE
#include "harness/sched/virt.h"
#include "harness/core/thread.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEC 1000000000LL
#define VIRT_BOOT_NS NSEC				/* CLOCK_MONOTONIC at start */
#define VIRT_EPOCH_S 946684800LL			/* 2000-01-01T00:00:00Z */
#define VIRT_PARENT 999					/* the program's parent */

void virt_init(struct session *s)
{
	s->vclock = VIRT_BOOT_NS;
	s->vclock_realtime_base = VIRT_EPOCH_S * NSEC;
	prng_init(&s->random_rng, s->opts.seed, PRNG_GETRANDOM);
	virt_map(s, getpid(), VIRT_PARENT);
}

void virt_map(struct session *s, pid_t real, pid_t virt)
{
	if (s->npidmap == s->pidmap_alloc) {
		s->pidmap_alloc = s->pidmap_alloc ? 2 * s->pidmap_alloc : 16;
		s->pidmap = xrealloc(s->pidmap, s->pidmap_alloc * sizeof(*s->pidmap));
	}
	s->pidmap[s->npidmap].real = real;
	s->pidmap[s->npidmap].virt = virt;
	s->npidmap++;
}

/* The newest mapping wins: the kernel reuses ids. */
static pid_t lookup(const struct session *s, pid_t id, int to_real)
{
	size_t i;

	for (i = s->npidmap; i-- > 0;)
		if ((to_real ? s->pidmap[i].virt : s->pidmap[i].real) == id)
			return to_real ? s->pidmap[i].real : s->pidmap[i].virt;
	return id;
}

pid_t virt_pid(const struct session *s, pid_t real)
{
	if (!s->opts.virtual_time || real <= 0)
		return real;
	return lookup(s, real, 0);
}

static pid_t real_pid(const struct session *s, pid_t v)
{
	if (v > 0)
		return lookup(s, v, 1);
	if (v < -1)
		return -lookup(s, -v, 1);
	return v;
}

static uint64_t *reg_of_arg(struct user_regs_struct *r, int i)
{
	switch (i) {
	case 0: return (uint64_t *)&r->rdi;
	case 1: return (uint64_t *)&r->rsi;
	case 2: return (uint64_t *)&r->rdx;
	case 3: return (uint64_t *)&r->r10;
	case 4: return (uint64_t *)&r->r8;
	default: return (uint64_t *)&r->r9;
	}
}

/* P_PID and P_PGID (include/uapi/linux/wait.h): the id is a pid. */
static int idtype_is_pid(uint64_t idtype)
{
	return idtype == 1 || idtype == 2;
}

#define EPHEMERAL_LOW 32768
#define VPORT_BASE 61000

static uint16_t new_port(struct session *s, uint16_t real)
{
	s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof(*s->ports));
	s->ports[s->nports].real = real;
	s->ports[s->nports].virt = (uint16_t)(VPORT_BASE + s->nports);
	return s->ports[s->nports++].virt;
}

/* The newest mapping wins: the kernel gives a freed port again
 * (port_allocated). */
static uint16_t map_port(struct session *s, uint16_t port, int to_real)
{
	size_t i;

	for (i = s->nports; i-- > 0;)
		if ((to_real ? s->ports[i].virt : s->ports[i].real) == port)
			return to_real ? s->ports[i].real : s->ports[i].virt;
	if (to_real || port < EPHEMERAL_LOW)
		return port;
	return new_port(s, port);
}

/* The port of an AF_INET or AF_INET6 address's first 4 bytes (network
 * order at offset 2 in both); 0 when it is neither. */
static int sockaddr_port(const unsigned char *sa, uint16_t *port)
{
	sa_family_t family = (sa_family_t)(sa[0] | sa[1] << 8);

	if (family != AF_INET && family != AF_INET6)
		return 0;
	*port = (uint16_t)(sa[2] << 8 | sa[3]);
	return 1;
}

/* The port of the socket at the program's fd (0: none yet, or not an
 * AF_INET or AF_INET6 socket), asked through gorr's duplicate of it. */
static uint16_t socket_port(struct session *s, struct thread *t, int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	uint16_t port = 0;
	int dfd = thread_dup_fd(s, t, fd);

	if (dfd < 0)
		return 0;
	if (getsockname(dfd, (struct sockaddr *)&sa, &len) != 0 ||
	    !sockaddr_port((const unsigned char *)&sa, &port))
		port = 0;
	close(dfd);
	return port;
}

/* A call that binds a socket with no port yet (SF_BINDPORT: a bind to
 * port 0, a connect or a listen of an unbound socket) makes the kernel
 * choose its port (net/ipv4/inet_connection_sock.c inet_csk_get_port,
 * inet_hashtables.c inet_hash_connect): at the call's exit that port
 * gets a virtual number of its own, whoever sees it first.  The kernel
 * gives a port again once its socket is gone, and a new socket got the
 * old one's virtual number when its real one had been seen before: a
 * net/http test binary's listener was 61055 in one run of a seed and
 * 61002 in the other. */
static void port_chosen_entry(struct session *s, struct thread *t, const struct sc_desc *d)
{
	t->virt.port_chosen = (d->flags & SF_BINDPORT) &&
			      socket_port(s, t, (int)t->call.args[0]) == 0;
}

static void port_chosen_exit(struct session *s, struct thread *t)
{
	uint16_t port;
	int i;

	if (!t->virt.port_chosen)
		return;
	t->virt.port_chosen = 0;
	if (t->call.ret < 0 && t->call.ret != -EINPROGRESS)
		return;
	port = socket_port(s, t, (int)t->call.args[0]);
	if (port < EPHEMERAL_LOW)
		return;
	/* A port the program named (a bind to a virtual port it had seen)
	 * keeps its number: the kernel did not choose it. */
	for (i = 0; i < t->virt.port_fixes; i++)
		if (map_port(s, t->virt.port_fix_orig[i], 1) == port)
			return;
	new_port(s, port);
}

/* The port of an AF_INET or AF_INET6 address at addr in t; 0 when it
 * is neither or unreadable. */
static int read_port(struct thread *t, uint64_t addr, uint16_t *port)
{
	unsigned char sa[4];

	return addr && !thread_read(t, addr, sa, 4) && sockaddr_port(sa, port);
}

static void write_port(struct thread *t, uint64_t addr, uint16_t port)
{
	unsigned char p[2] = { (unsigned char)(port >> 8), (unsigned char)port };

	thread_write(t, addr + 2, p, 2);
}

/* Virtual ports in the addresses the call is given: the real ones for
 * the kernel, put back at the exit. */
static void translate_ports_in(struct session *s, struct thread *t, const struct sc_desc *d)
{
	int i;

	t->virt.port_fixes = 0;
	for (i = 0; i < d->nargs; i++) {
		uint16_t port, real;

		if (d->args[i] != A_SA_IN || !read_port(t, t->call.args[i], &port))
			continue;
		real = map_port(s, port, 1);
		if (real != port && t->virt.port_fixes < 2) {
			t->virt.port_fix_addr[t->virt.port_fixes] = t->call.args[i];
			t->virt.port_fix_orig[t->virt.port_fixes++] = port;
			write_port(t, t->call.args[i], real);
		}
	}
}

/* Ports in the addresses the kernel wrote: the program's view. */
static void translate_ports_out(struct session *s, struct thread *t, const struct sc_desc *d)
{
	int i;

	while (t->virt.port_fixes > 0) {
		t->virt.port_fixes--;
		write_port(t, t->virt.port_fix_addr[t->virt.port_fixes], t->virt.port_fix_orig[t->virt.port_fixes]);
	}
	if (t->call.ret < 0)
		return;
	for (i = 0; i < d->nargs; i++) {
		uint64_t addr = 0;
		uint16_t port;

		if (d->args[i] == A_SA_OUT)
			addr = t->call.args[i];
		else if (d->args[i] == A_MSG_OUT && t->call.args[i])
			thread_read(t, t->call.args[i], &addr, 8);	/* msg_name */
		if (addr && read_port(t, addr, &port))
			write_port(t, addr, map_port(s, port, 0));
	}
}

/* Netlink: a socket's port id is its process's real pid (the kernel's
 * autobind, net/netlink/af_netlink.c netlink_autobind), and getsockname
 * and every reply's nlmsg_pid carry it (Go's syscall.NetlinkRIB, under
 * net.Interfaces, compares the two): the program sees its virtual pid
 * there too.  Same-seed runs of the os tests differed in those bytes.
 * The addresses the kernel wrote, and a netlink recvfrom's messages
 * (struct nlmsghdr: len at 0, pid at 12, each aligned to 4). */
#define AF_NETLINK_ 16

static void translate_netlink_out(struct session *s, struct thread *t, const struct sc_desc *d)
{
	unsigned char buf[65536];
	int i, netlink = 0;
	size_t off, len;

	if (t->call.ret < 0)
		return;
	for (i = 0; i < d->nargs; i++) {
		struct { uint16_t family, pad; uint32_t pid; } nl;

		if (d->args[i] != A_SA_OUT || !t->call.args[i] ||
		    thread_read(t, t->call.args[i], &nl, sizeof(nl)) || nl.family != AF_NETLINK_)
			continue;
		netlink = 1;
		if ((pid_t)nl.pid > 0 && virt_pid(s, (pid_t)nl.pid) != (pid_t)nl.pid) {
			nl.pid = (uint32_t)virt_pid(s, (pid_t)nl.pid);
			thread_write(t, t->call.args[i] + 4, &nl.pid, 4);
		}
	}
	if (!netlink || d->args[1] != A_OBUF || !t->call.ret)
		return;
	len = (size_t)t->call.ret < sizeof(buf) ? (size_t)t->call.ret : sizeof(buf);
	if (thread_read(t, t->call.args[1], buf, len))
		return;
	for (off = 0; off + 16 <= len;) {
		uint32_t mlen, pid;

		memcpy(&mlen, buf + off, 4);
		memcpy(&pid, buf + off + 12, 4);
		if ((pid_t)pid > 0 && virt_pid(s, (pid_t)pid) != (pid_t)pid) {
			pid = (uint32_t)virt_pid(s, (pid_t)pid);
			thread_write(t, t->call.args[1] + off + 12, &pid, 4);
		}
		if (mlen < 16)
			break;
		off += (mlen + 3) & ~3u;
	}
}

/* Translate the call's id arguments in its registers; 1 when any changed. */
static int translate_args(struct session *s, struct thread *t, const struct sc_desc *d)
{
	struct user_regs_struct regs;
	int i, changed = 0;

	if (thread_getregs(t, &regs))
		return 0;
	for (i = 0; i < d->nargs; i++) {
		int is_pid = d->args[i] == A_PID ||
			     (i > 0 && d->args[i - 1] == A_IDTYPE && idtype_is_pid(t->call.args[i - 1]));
		pid_t v = (pid_t)t->call.args[i], r;

		if (!is_pid)
			continue;
		r = real_pid(s, v);
		if (r != v) {
			*reg_of_arg(&regs, i) = (uint64_t)(int64_t)r;
			changed = 1;
		}
	}
	if (changed)
		thread_setregs(t, &regs);
	return changed;
}

static int emulate_clock(struct session *s, struct thread *t, const struct sc_desc *d)
{
	int64_t mono = s->vclock, real = s->vclock + s->vclock_realtime_base, v;
	uint64_t out = 0;
	int64_t buf[2];
	int i, clk = -1;

	for (i = 0; i < d->nargs; i++) {
		if (d->args[i] == A_CLOCK)
			clk = (int)t->call.args[i];
		if (sc_kind_is_output(d->args[i]) && !out)
			out = t->call.args[i];
	}
	if (d->args[0] == A_TIME_OUT) {			/* time(tloc) */
		v = real / NSEC;
		if (out && thread_write(t, out, &v, 8)) {
			thread_emulate(t, -EFAULT);
			return ENTRY_EMULATE;
		}
		thread_emulate(t, v);
		return ENTRY_EMULATE;
	}
	if (d->args[0] == A_TV_OUT) {			/* gettimeofday(tv, tz) */
		buf[0] = real / NSEC;
		buf[1] = (real % NSEC) / 1000;
		if (out && thread_write(t, out, buf, 16)) {
			thread_emulate(t, -EFAULT);
			return ENTRY_EMULATE;
		}
		memset(buf, 0, sizeof(buf));		/* UTC, no DST */
		if (t->call.args[1] && thread_write(t, t->call.args[1], buf, 8)) {
			thread_emulate(t, -EFAULT);
			return ENTRY_EMULATE;
		}
		thread_emulate(t, 0);
		return ENTRY_EMULATE;
	}
	switch (clk) {					/* clock_gettime(clk, ts) */
	case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM:
	case CLOCK_TAI:
		v = real;
		break;
	case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
		v = mono;
		break;
	default:
		/* CPU-time clocks, this process's or a thread's: the virtual
		 * time since the start (CPU time is wall time here). */
		if (clk >= 0 && clk != CLOCK_PROCESS_CPUTIME_ID && clk != CLOCK_THREAD_CPUTIME_ID) {
			thread_emulate(t, -EINVAL);
			return ENTRY_EMULATE;
		}
		v = mono - VIRT_BOOT_NS;
		break;
	}
	buf[0] = v / NSEC;
	buf[1] = v % NSEC;
	thread_emulate(t, thread_write(t, out, buf, 16) ? -EFAULT : 0);
	return ENTRY_EMULATE;
}

static int emulate_getrandom(struct session *s, struct thread *t)
{
	uint64_t addr = t->call.args[0], len = t->call.args[1], done = 0;
	unsigned char chunk[4096];

	/* The kernel returns at most 32 MiB - 1 per call
	 * (drivers/char/random.c, get_random_bytes_user). */
	if (len > (32u << 20) - 1)
		len = (32u << 20) - 1;
	while (done < len) {
		size_t n = len - done < sizeof(chunk) ? (size_t)(len - done) : sizeof(chunk), i;

		for (i = 0; i < n; i += 8) {
			uint64_t r = prng_next(&s->random_rng);

			memcpy(chunk + i, &r, n - i < 8 ? n - i : 8);
		}
		if (thread_write(t, addr + done, chunk, n)) {
			thread_emulate(t, done ? (int64_t)done : -EFAULT);
			return ENTRY_EMULATE;
		}
		done += n;
	}
	thread_emulate(t, (int64_t)len);
	return ENTRY_EMULATE;
}

static void forget_removed(struct session *s, struct thread *t, const struct sc_desc *d);

int virt_entry(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);

	if (!s->opts.virtual_time || !d)
		return ENTRY_DEFAULT;
	if (d->flags & SF_CLOCKREAD)
		return emulate_clock(s, t, d);
	if (d->flags & SF_RANDOM)
		return emulate_getrandom(s, t);
	if (d->flags & SF_UNLINK)
		forget_removed(s, t, d);
	port_chosen_entry(s, t, d);
	t->virt.args_translated = translate_args(s, t, d);
	translate_ports_in(s, t, d);
	return ENTRY_DEFAULT;
}

#define VIRT_INO_BASE 100000

static uint64_t virt_ino(struct session *s, uint64_t real)
{
	size_t i;

	if (!real)
		return 0;	/* a deleted entry, to getdents */
	for (i = 0; i < s->ninomap; i++)
		if (s->inomap[i] == real)
			return VIRT_INO_BASE + i;
	if (s->ninomap == s->inomap_alloc) {
		s->inomap_alloc = s->inomap_alloc ? 2 * s->inomap_alloc : 64;
		s->inomap = xrealloc(s->inomap, s->inomap_alloc * sizeof(*s->inomap));
	}
	s->inomap[s->ninomap] = real;
	return VIRT_INO_BASE + s->ninomap++;
}

/* t is about to remove a file (SF_UNLINK: its last path argument, the
 * DIRFD before it if any): when that is the file's last name, its inode
 * number leaves the map, so that the file system's giving it to a new
 * file (ext4 and tmpfs reuse a deleted file's number at once, or not,
 * as their allocators go) does not give the new file the old one's
 * virtual number in one run and a new one in the next: path/filepath's
 * tests under run (Go 1.26) gave two traces for one seed, differing
 * only in getdents64's d_ino.  The file is looked at through /proc, as
 * the thread would resolve its path (its cwd, or its DIRFD). */
static void forget_removed(struct session *s, struct thread *t, const struct sc_desc *d)
{
	char path[4096], base[64];
	struct stat st;
	int i, p = -1, dirfd = AT_FDCWD, cut = 0, at;
	size_t k;

	for (i = 0; i < d->nargs; i++)
		if (d->args[i] == A_PATH)
			p = i;
	if (p < 0 || sc_read_cstr(thread_read, t, t->call.args[p], path, sizeof(path), &cut) < 0 || cut)
		return;
	if (p > 0 && d->args[p - 1] == A_DIRFD)
		dirfd = (int)t->call.args[p - 1];
	if (path[0] == '/')
		snprintf(base, sizeof(base), "/proc/%d/root", (int)t->tid);
	else if (dirfd == AT_FDCWD)
		snprintf(base, sizeof(base), "/proc/%d/cwd", (int)t->tid);
	else
		snprintf(base, sizeof(base), "/proc/%d/fd/%d", (int)t->tid, dirfd);
	at = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (at < 0)
		return;
	if (fstatat(at, path[0] == '/' ? path + 1 : path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (S_ISDIR(st.st_mode) || st.st_nlink <= 1))
		for (k = 0; k < s->ninomap; k++)
			if (s->inomap[k] == st.st_ino)
				s->inomap[k] = 0;	/* 0 matches nothing: virt_ino */
	close(at);
}

/* The 8-byte inode number at addr, virtual. */
static void virt_ino_at(struct session *s, struct thread *t, uint64_t addr)
{
	uint64_t ino;

	if (thread_read(t, addr, &ino, 8) == 0 && ino) {
		ino = virt_ino(s, ino);
		thread_write(t, addr, &ino, 8);
	}
}

static void translate_inos_out(struct session *s, struct thread *t, const struct sc_desc *d)
{
	int i;

	if (t->call.ret < 0)
		return;
	if ((d->flags & SF_DIRENTS) && t->call.ret > 0 && t->call.ret <= (1 << 24)) {
		size_t n = (size_t)t->call.ret, off = 0;
		unsigned char *buf = xmalloc(n);

		if (thread_read(t, t->call.args[1], buf, n) == 0) {
			while (off + 18 <= n) {
				uint16_t reclen;
				uint64_t ino;

				memcpy(&ino, buf + off, 8);
				memcpy(&reclen, buf + off + 16, 2);
				if (reclen < 19 || off + reclen > n)
					break;
				ino = virt_ino(s, ino);
				memcpy(buf + off, &ino, 8);
				off += reclen;
			}
			thread_write(t, t->call.args[1], buf, n);
		}
		free(buf);
	}
	for (i = 0; i < d->nargs; i++) {
		if (!t->call.args[i])
			continue;
		if (d->args[i] == A_STAT_OUT)
			virt_ino_at(s, t, t->call.args[i] + 8);		/* st_ino */
		else if (d->args[i] == A_STATX_OUT)
			virt_ino_at(s, t, t->call.args[i] + 32);	/* stx_ino */
	}
}

/* At the exit of a call the kernel ran: give back the program's ids. */
void virt_exit(struct session *s, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	struct user_regs_struct regs;
	int i, setregs = 0;

	if (!s->opts.virtual_time || !d)
		return;
	if ((t->virt.args_translated || (d->ret == R_PID && t->call.ret > 0)) &&
	    thread_getregs(t, &regs) == 0) {
		if (t->virt.args_translated) {
			for (i = 0; i < d->nargs; i++)
				*reg_of_arg(&regs, i) = t->call.args[i];
			setregs = 1;
		}
		if (d->ret == R_PID && t->call.ret > 0) {
			t->call.ret = virt_pid(s, (pid_t)t->call.ret);
			regs.rax = (uint64_t)t->call.ret;
			setregs = 1;
		}
		if (setregs)
			thread_setregs(t, &regs);
	}
	t->virt.args_translated = 0;
	port_chosen_exit(s, t);
	translate_ports_out(s, t, d);
	translate_netlink_out(s, t, d);
	translate_inos_out(s, t, d);
	/* waitid's siginfo names the child (si_pid at offset 16). */
	for (i = 0; i < d->nargs; i++)
		if (d->args[i] == A_SIGINFO_OUT && t->call.args[i] && t->call.ret >= 0) {
			int32_t pid;

			if (thread_read(t, t->call.args[i] + 16, &pid, 4) == 0 && pid > 0) {
				pid = virt_pid(s, pid);
				thread_write(t, t->call.args[i] + 16, &pid, 4);
			}
		}
}

/* A signal's sender, as the program should see it. */
void virt_siginfo(struct session *s, siginfo_t *si)
{
	if (!s->opts.virtual_time || si->si_pid <= 0 || (si->si_code > 0 && si->si_signo != SIGCHLD))
		return;
	/* A signal gorr sent itself (a decision point's preemption,
	 * harness/sched/sched.c) says it came from the program, as Go's own
	 * preemption signals do: gorr's pid differs on every run. */
	if (si->si_pid == getpid())
		si->si_pid = s->leader_vtid;
	else
		si->si_pid = virt_pid(s, si->si_pid);
}

/* The time-stamp counter under virtual time: 3 GHz of virtual time. */
uint64_t virt_tsc(const struct session *s)
{
	return (uint64_t)s->vclock * 3;
}
