/* The syscall table against libseccomp's names, and the output-region
 * computation on synthetic memory. */
#include "harness/base/syscalls.h"
#include "harness/base/util.h"
#include "t.h"

#include <errno.h>
#include <seccomp.h>

static void names_match_libseccomp(void)
{
	long nr;
	int checked = 0;

	for (nr = 0; nr < SC_TABLE_SIZE; nr++) {
		const char *ours = sc_name(nr);
		char *theirs = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)nr);

		if (theirs) {
			CHECK(ours != NULL, "libseccomp knows %ld (%s), the table does not", nr, theirs);
			if (ours)
				CHECK(!strcmp(ours, theirs), "%ld: table says '%s', libseccomp '%s'",
				      nr, ours, theirs);
			checked++;
			free(theirs);
		}
	}
	CHECK(checked > 300, "only %d numbers checked", checked);
}

static void numbers_round_trip(void)
{
	long nr;

	for (nr = 0; nr < SC_TABLE_SIZE; nr++) {
		const struct sc_desc *d = sc_lookup(nr);
		int i;

		if (!d)
			continue;
		CHECK(sc_number(d->name) == nr, "%s", d->name);
		CHECK(d->nargs <= 6, "%s has %d args", d->name, d->nargs);
		for (i = d->nargs; i < 6; i++)
			CHECK(d->args[i] == A_NONE, "%s: kind past nargs", d->name);
		for (i = 0; i < d->nargs; i++)
			CHECK(d->args[i] != A_NONE, "%s: argument %d has no kind", d->name, i);
	}
	CHECK(sc_number("clock_gettime") == 228, "clock_gettime");
	CHECK(sc_number("no_such_call") == -1, "unknown name");
	CHECK(sc_lookup(-1) == NULL && sc_lookup(100000) == NULL, "out of range");
}

static void det_flags_are_sane(void)
{
	/* Calls whose results come from outside must never be DET. */
	static const char *const nondet[] = {
		"read", "clock_gettime", "getrandom", "epoll_pwait", "futex",
		"getpid", "gettid", "sched_getaffinity", "recvfrom", "accept4",
		"openat", "nanosleep", "uname",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nondet); i++) {
		const struct sc_desc *d = sc_lookup(sc_number(nondet[i]));

		CHECK(d && !(d->flags & SF_DET), "%s is marked deterministic", nondet[i]);
	}
	CHECK(sc_lookup(sc_number("mmap"))->flags & SF_DET, "mmap");
	CHECK(sc_lookup(sc_number("rt_sigprocmask"))->flags & SF_DET, "rt_sigprocmask");
}

/* Synthetic tracee memory for sc_outputs. */
static unsigned char mem[4096];
#define BASE 0x10000

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr + len > BASE + sizeof(mem))
		return -EFAULT;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void outputs_read_like(void)
{
	struct sc_region r[SC_MAX_REGIONS];
	struct sc_entry_state st;
	uint64_t args[6] = { 3, BASE + 100, 4096, 0, 0, 0 };
	int n;

	memset(&st, 0, sizeof(st));
	n = sc_outputs(sc_number("read"), args, 10, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 1 && r[0].addr == BASE + 100 && r[0].len == 10, "read: n=%d", n);
	n = sc_outputs(sc_number("read"), args, -EAGAIN, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 0, "failed read writes nothing: n=%d", n);
	n = sc_outputs(sc_number("read"), args, 0, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 0, "EOF writes nothing");
	/* clock_gettime: a fixed-size timespec. */
	args[0] = 1;
	args[1] = BASE;
	n = sc_outputs(sc_number("clock_gettime"), args, 0, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 1 && r[0].len == 16, "clock_gettime: n=%d", n);
	/* nanosleep writes the remaining time only when interrupted. */
	args[0] = BASE;
	args[1] = BASE + 16;
	n = sc_outputs(sc_number("nanosleep"), args, 0, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 0, "nanosleep success: n=%d", n);
	n = sc_outputs(sc_number("nanosleep"), args, -516, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 1 && r[0].addr == BASE + 16, "nanosleep restart: n=%d", n);
	/* wait4 writes its status only when it reaped a child. */
	args[0] = (uint64_t)-1;
	args[1] = BASE;
	args[2] = 1;
	args[3] = 0;
	n = sc_outputs(sc_number("wait4"), args, 0, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 0, "wait4 WNOHANG: n=%d", n);
	n = sc_outputs(sc_number("wait4"), args, 1234, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 1 && r[0].len == 4, "wait4 reaped: n=%d", n);
}

static void outputs_sockaddr_and_iov(void)
{
	struct sc_region r[SC_MAX_REGIONS];
	struct sc_entry_state st;
	uint64_t args[6];
	uint32_t len;
	uint64_t iov[4] = { BASE + 1000, 5, BASE + 2000, 100 };
	int n;

	/* accept4(fd, addr, &len): the kernel writes min(in, out) bytes. */
	len = 16;
	memcpy(mem + 8, &len, 4);
	memset(args, 0, sizeof(args));
	args[0] = 3;
	args[1] = BASE + 64;
	args[2] = BASE + 8;
	sc_save_entry(sc_lookup(sc_number("accept4")), args, &st, fake_read, NULL);
	CHECK(st.inlen[2] == 16, "entry length %u", st.inlen[2]);
	len = 110;	/* AF_UNIX path longer than the buffer */
	memcpy(mem + 8, &len, 4);
	n = sc_outputs(sc_number("accept4"), args, 5, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 2, "n=%d", n);
	CHECK(n == 2 && r[0].addr == BASE + 64 && r[0].len == 16, "sockaddr capped at the buffer");
	CHECK(n == 2 && r[1].addr == BASE + 8 && r[1].len == 4, "socklen");
	/* readv: 50 bytes over iovecs of 5 and 100. */
	memcpy(mem + 200, iov, sizeof(iov));
	memset(args, 0, sizeof(args));
	args[0] = 3;
	args[1] = BASE + 200;
	args[2] = 2;
	n = sc_outputs(sc_number("readv"), args, 50, &st, fake_read, NULL, r, SC_MAX_REGIONS);
	CHECK(n == 2 && r[0].len == 5 && r[1].addr == BASE + 2000 && r[1].len == 45, "readv n=%d", n);
}

static void inputs_capture(void)
{
	struct sc_input in[6];
	struct sbuf data = SBUF_INIT;
	uint64_t args[6] = { (uint64_t)-100, BASE + 300, 0, 0, 0, 0 };
	int n;

	strcpy((char *)mem + 300, "/etc/hosts");
	n = sc_capture_inputs(sc_number("openat"), args, fake_read, NULL, 32, in, &data);
	CHECK(n == 1 && in[0].arg == 1 && in[0].len == 10 &&
	      !memcmp(data.buf + in[0].off, "/etc/hosts", 10), "openat path: n=%d", n);
	memset(mem + 400, 'x', 100);
	args[0] = 1;
	args[1] = BASE + 400;
	args[2] = 100;
	n = sc_capture_inputs(sc_number("write"), args, fake_read, NULL, 32, in, &data);
	CHECK(n == 1 && in[0].len == 32 && in[0].cut, "write buffer cut at 32: n=%d", n);
	sbuf_release(&data);
}

static void errno_names(void)
{
	CHECK(!strcmp(sc_errno_name(ENOENT), "ENOENT"), "ENOENT");
	CHECK(!strcmp(sc_errno_name(512), "ERESTARTSYS"), "ERESTARTSYS");
	CHECK(sc_errno_number("EAGAIN") == EAGAIN, "EAGAIN");
	CHECK(sc_errno_number("ENOPE") == -1, "unknown");
}

int main(void)
{
	T.suite = "syscalls";
	RUN(names_match_libseccomp);
	RUN(numbers_round_trip);
	RUN(det_flags_are_sane);
	RUN(outputs_read_like);
	RUN(outputs_sockaddr_and_iov);
	RUN(inputs_capture);
	RUN(errno_names);
	return T.any_failed;
}
