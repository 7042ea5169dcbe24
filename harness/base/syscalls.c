#define _GNU_SOURCE
#include "harness/base/syscalls.h"
#include "harness/base/util.h"

#include <errno.h>
#include <string.h>

/* Short names for syscallent.h, undefined again below. */
#define TD SF_FD
#define TF SF_FILE
#define TN SF_NET
#define TS SF_SIGNAL
#define TM SF_MEMORY
#define TP SF_PROCESS
#define TC SF_CLOCK
#define TR SF_RANDOM
#define BL SF_BLOCK
#define DT SF_DET
#define NI SF_NOT_IMPL
#define OP SF_OUT_POS
#define CM SF_CPUMASK
#define EX SF_EXEC
#define FX SF_FUTEX
#define SL SF_SLEEP
#define PL SF_POLL
#define WC SF_WAITCHILD
#define FI SF_FDIN
#define FO SF_FDOUT
#define SS SF_SENDSIG
#define GX SF_GROUPEXIT
#define CR SF_CLOCKREAD
#define SP SF_SPAWN
#define FM SF_FILEMAP
#define YL SF_YIELD
#define DE SF_DIRENTS
#define CW SF_CWD
#define UL SF_UNLINK
#define BP SF_BINDPORT
#define RI R_INT
#define RF R_FD
#define RH R_HEX
#define RO R_OCT
#define RN R_NONE
#define RP R_PID
#define K(x) A_##x

#define SC(nr, nm, n, fl, r, a0, a1, a2, a3, a4, a5) \
	[nr] = { #nm, n, r, fl, { K(a0), K(a1), K(a2), K(a3), K(a4), K(a5) } },
#define A__ A_NONE

static const struct sc_desc sc_table[SC_TABLE_SIZE] = {
#include "harness/base/syscallent.h"
};

#undef SC
#undef K
#undef TD
#undef TF
#undef TN
#undef TS
#undef TM
#undef TP
#undef TC
#undef TR
#undef BL
#undef DT
#undef NI
#undef OP
#undef CM
#undef EX
#undef FX
#undef SL
#undef PL
#undef WC
#undef FI
#undef FO
#undef SS
#undef GX
#undef CR
#undef SP
#undef FM
#undef YL
#undef DE
#undef CW
#undef RI
#undef RF
#undef RH
#undef RO
#undef RN
#undef RP

const struct sc_desc *sc_lookup(long nr)
{
	if (nr < 0 || nr >= SC_TABLE_SIZE || !sc_table[nr].name)
		return NULL;
	return &sc_table[nr];
}

const char *sc_name(long nr)
{
	const struct sc_desc *d = sc_lookup(nr);

	return d ? d->name : NULL;
}

long sc_number(const char *name)
{
	long nr;

	for (nr = 0; nr < SC_TABLE_SIZE; nr++)
		if (sc_table[nr].name && !strcmp(sc_table[nr].name, name))
			return nr;
	return -1;
}

/* Sizes from the x86-64 kernel ABI (include/uapi and arch/x86). */
size_t sc_kind_size(enum sc_kind k)
{
	switch (k) {
	case A_TS_IN: case A_TS_OUT: case A_TS_REM: case A_TS_UPD:
	case A_TV_OUT: case A_TV_UPD: case A_RLIM_IN: case A_RLIM_OUT:
		return 16;
	case A_TZ_OUT: case A_INT2_OUT: case A_U64_OUT: case A_U64_UPD:
	case A_TIME_OUT:
		return 8;
	case A_ITS_IN: case A_ITS_OUT: case A_ITV_OUT: case A_TMS_OUT:
		return 32;
	case A_STAT_OUT: return 144;	/* struct stat */
	case A_STATX_OUT: return 256;	/* struct statx */
	case A_STATFS_OUT: return 120;	/* struct statfs */
	case A_UTS_OUT: return 390;	/* struct new_utsname: 6 * 65 */
	case A_RUSAGE_OUT: return 144;
	case A_SYSINFO_OUT: return 112;
	case A_INT_OUT: case A_SALEN: return 4;
	case A_SIGINFO_OUT: return 128;
	case A_EPEV_IN: return SC_EPOLL_EVENT_SIZE;
	case A_CAP_OUT: return 24;	/* two struct __user_cap_data_struct */
	default:
		return 0;
	}
}

int sc_is_epoll_wait(long nr)
{
	const struct sc_desc *d = sc_lookup(nr);

	return d && (d->flags & SF_POLL) && d->args[1] == A_EPEV_OUT;
}

int sc_kind_is_output(enum sc_kind k)
{
	switch (k) {
	case A_OBUF: case A_IOV_OUT: case A_MSG_OUT: case A_SA_OUT:
	case A_SALEN: case A_OPTVAL_OUT: case A_TS_OUT: case A_TS_REM:
	case A_TS_UPD: case A_TV_OUT: case A_TV_UPD: case A_TZ_OUT:
	case A_ITS_OUT: case A_ITV_OUT: case A_STAT_OUT: case A_STATX_OUT:
	case A_STATFS_OUT: case A_UTS_OUT: case A_RUSAGE_OUT:
	case A_SYSINFO_OUT: case A_TMS_OUT: case A_RLIM_OUT: case A_INT_OUT:
	case A_INT2_OUT: case A_U64_OUT: case A_U64_UPD: case A_TIME_OUT:
	case A_SIGINFO_OUT: case A_SIGSET_OUT: case A_CPUSET_OUT:
	case A_EPEV_OUT: case A_POLLFD: case A_FDSET: case A_GROUPS_OUT:
	case A_CAP_OUT: case A_MINCORE_OUT: case A_IOCTL_ARG:
	case A_FCNTL_ARG: case A_PRCTL_ARG: case A_UNK: case A_CLONE_PTID:
	case A_MAPLEN:
		return 1;
	default:
		return 0;
	}
}

int sc_kind_is_captured_input(enum sc_kind k)
{
	switch (k) {
	case A_PATH: case A_STR: case A_ARGV: case A_IBUF: case A_IOV_IN:
	case A_MSG_IN: case A_SA_IN: case A_TS_IN: case A_ITS_IN:
	case A_RLIM_IN: case A_EPEV_IN: case A_FUTEX_VAL2: case A_TS_UPD:
	case A_TV_UPD: case A_POLLFD: case A_FDSET: case A_U64_UPD:
		return 1;
	default:
		return 0;
	}
}

static int read_u32(sc_read_fn rd, void *ctx, uint64_t addr, uint32_t *v)
{
	return rd(ctx, addr, v, sizeof(*v));
}

static int read_u64(sc_read_fn rd, void *ctx, uint64_t addr, uint64_t *v)
{
	return rd(ctx, addr, v, sizeof(*v));
}

/* struct msghdr on x86-64 (include/linux/socket.h, user_msghdr). */
enum {
	MSGHDR_SIZE = 56,
	MSGHDR_NAME = 0,
	MSGHDR_NAMELEN = 8,
	MSGHDR_IOV = 16,
	MSGHDR_IOVLEN = 24,
	MSGHDR_CONTROL = 32,
	MSGHDR_CONTROLLEN = 40,
};

/* The kernel caps iovec arrays at UIO_MAXIOV (include/uapi/linux/uio.h). */
#define UIO_MAXIOV 1024

void sc_save_entry(const struct sc_desc *d, const uint64_t args[6],
		   struct sc_entry_state *st, sc_read_fn rd, void *ctx)
{
	int i;

	memset(st, 0, sizeof(*st));
	if (!d)
		return;
	for (i = 0; i < d->nargs; i++) {
		uint32_t v;

		if (!args[i])
			continue;
		if (d->args[i] == A_SALEN && read_u32(rd, ctx, args[i], &v) == 0)
			st->inlen[i] = v;
		if (d->args[i] == A_MSG_OUT &&
		    read_u32(rd, ctx, args[i] + MSGHDR_NAMELEN, &v) == 0)
			st->inlen[i] = v;
	}
}

/* Entry i of a struct iovec array (16 bytes: base, len). */
static int read_iovec(sc_read_fn rd, void *ctx, uint64_t iov, uint64_t i,
		      uint64_t *base, uint64_t *len)
{
	int err = read_u64(rd, ctx, iov + 16 * i, base);

	return err ? err : read_u64(rd, ctx, iov + 16 * i + 8, len);
}

static int add_region(struct sc_region *out, int *n, int max,
		      uint64_t addr, uint64_t len)
{
	if (!addr || !len)
		return 0;
	if (*n >= max)
		return -E2BIG;
	out[*n].addr = addr;
	out[*n].len = len;
	(*n)++;
	return 0;
}

/* Spread total bytes over an iovec array, as the kernel fills it. */
static int add_iov_regions(uint64_t iov, uint64_t cnt, uint64_t total,
			   sc_read_fn rd, void *ctx,
			   struct sc_region *out, int *n, int max)
{
	uint64_t i;
	int err;

	if (cnt > UIO_MAXIOV)
		cnt = UIO_MAXIOV;
	for (i = 0; i < cnt && total > 0; i++) {
		uint64_t base, len;

		err = read_iovec(rd, ctx, iov, i, &base, &len);
		if (err)
			return err;
		if (len > total)
			len = total;
		err = add_region(out, n, max, base, len);
		if (err)
			return err;
		total -= len;
	}
	return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Size of the memory an ioctl writes through its argument.  Requests
 * built with _IOR/_IOWR encode it (include/uapi/asm-generic/ioctl.h);
 * the old tty requests do not, so they are listed
 * (include/uapi/asm-generic/ioctls.h). */
static uint64_t ioctl_out_size(uint64_t req)
{
	unsigned int dir = (unsigned int)(req >> 30) & 3;

	switch (req & 0xffffffff) {
	case 0x5401: return 36;	/* TCGETS: struct termios (kernel) */
	case 0x5413: return 8;	/* TIOCGWINSZ: struct winsize */
	case 0x540F: return 4;	/* TIOCGPGRP */
	case 0x5429: return 4;	/* TIOCGSID */
	case 0x541B: return 4;	/* FIONREAD */
	case 0x5411: return 4;	/* TIOCOUTQ */
	}
	if (dir & 2)		/* _IOC_READ: the kernel writes */
		return (req >> 16) & 0x3fff;
	return 0;
}

static uint64_t fcntl_out_size(uint64_t cmd)
{
	switch (cmd) {
	case 5:			/* F_GETLK */
	case 36:		/* F_OFD_GETLK */
		return 32;	/* struct flock */
	case 16:		/* F_GETOWN_EX */
		return 8;	/* struct f_owner_ex */
	}
	return 0;
}

static uint64_t prctl_out_size(uint64_t op)
{
	switch (op) {
	case 16:		/* PR_GET_NAME */
		return 16;
	case 2:			/* PR_GET_PDEATHSIG */
	case 5:			/* PR_GET_UNALIGN */
	case 9:			/* PR_GET_FPEMU */
	case 11:		/* PR_GET_FPEXC */
	case 19:		/* PR_GET_ENDIAN */
	case 25:		/* PR_GET_TSC */
	case 37:		/* PR_GET_CHILD_SUBREAPER */
		return 4;
	case 40:		/* PR_GET_TID_ADDRESS */
		return 8;
	}
	return 0;
}

/* Kernel restart codes (include/linux/errno.h): a syscall-exit stop sees
 * them before the signal is handled. */
enum {
	ERESTARTSYS = 512,
	ERESTARTNOINTR = 513,
	ERESTARTNOHAND = 514,
	ENOIOCTLCMD = 515,
	ERESTART_RESTARTBLOCK = 516,
};

static int interrupted(int64_t ret)
{
	return ret == -EINTR || ret == -ERESTARTNOHAND ||
	       ret == -ERESTART_RESTARTBLOCK || ret == -ERESTARTSYS;
}

int sc_outputs(long nr, const uint64_t args[6], int64_t ret,
	       const struct sc_entry_state *st, sc_read_fn rd, void *ctx,
	       struct sc_region *out, int max)
{
	const struct sc_desc *d = sc_lookup(nr);
	int i, n = 0, err = 0;

	if (!d)
		return 0;
	for (i = 0; i < d->nargs && !err; i++) {
		enum sc_kind k = d->args[i];
		uint64_t v = args[i], len = 0;
		uint32_t post;

		if (k == A_MAPLEN) {
			/* The mapping itself, at the address mmap returned:
			 * its bytes are the file's (include/uapi/asm-generic/
			 * mman-common.h: MAP_ANONYMOUS 0x20). */
			if (ret > 0 && !(args[3] & 0x20) && v)
				err = add_region(out, &n, max, (uint64_t)ret, (v + 4095) & ~4095ULL);
			continue;
		}
		if (!v || !sc_kind_is_output(k))
			continue;
		/* Timeouts and remaining times are also written when a
		 * signal cut the call short; nothing else is written by a
		 * call that failed. */
		if (ret < 0 && !((k == A_TS_REM || k == A_TS_UPD ||
				  k == A_TV_UPD) && interrupted(ret)))
			continue;
		if (k == A_TS_REM && !interrupted(ret))
			continue;
		/* wait4 writes its status and rusage only when it reaped a
		 * child (kernel/exit.c, SYSCALL_DEFINE4(wait4)). */
		if (d->flags & SF_OUT_POS && ret <= 0)
			continue;

		switch (k) {
		case A_OBUF:
			if (ret > 0)
				len = min_u64((uint64_t)ret,
					      i + 1 < 6 ? args[i + 1] : (uint64_t)ret);
			break;
		case A_IOV_OUT:
			if (ret > 0)
				err = add_iov_regions(v, args[i + 1], (uint64_t)ret,
						      rd, ctx, out, &n, max);
			break;
		case A_MSG_OUT: {
			uint64_t name, iov, iovlen, control, controllen;

			err = read_u64(rd, ctx, v + MSGHDR_NAME, &name);
			if (!err)
				err = read_u32(rd, ctx, v + MSGHDR_NAMELEN, &post);
			if (!err)
				err = read_u64(rd, ctx, v + MSGHDR_IOV, &iov);
			if (!err)
				err = read_u64(rd, ctx, v + MSGHDR_IOVLEN, &iovlen);
			if (!err)
				err = read_u64(rd, ctx, v + MSGHDR_CONTROL, &control);
			if (!err)
				err = read_u64(rd, ctx, v + MSGHDR_CONTROLLEN, &controllen);
			if (err)
				break;
			err = add_region(out, &n, max, v, MSGHDR_SIZE);
			if (!err)
				err = add_region(out, &n, max, name,
						 min_u64(st->inlen[i], post));
			if (!err)
				err = add_iov_regions(iov, iovlen, (uint64_t)ret,
						      rd, ctx, out, &n, max);
			if (!err)
				err = add_region(out, &n, max, control, controllen);
			break;
		}
		case A_SA_OUT:
		case A_OPTVAL_OUT:
			if (i + 1 < 6 && args[i + 1] &&
			    !(err = read_u32(rd, ctx, args[i + 1], &post)))
				len = min_u64(st->inlen[i + 1], post);
			break;
		case A_SIGSET_OUT:
			len = args[i + 1];
			break;
		case A_CPUSET_OUT:
			if (ret > 0)
				len = (uint64_t)ret;
			break;
		case A_EPEV_OUT:
			if (ret > 0)
				len = SC_EPOLL_EVENT_SIZE * (uint64_t)ret;
			break;
		case A_POLLFD:
			len = 8 * min_u64(args[i + 1], 1u << 20);
			break;
		case A_FDSET:
			len = ((min_u64(args[0], 1u << 20) + 63) / 64) * 8;
			break;
		case A_GROUPS_OUT:
			if (args[0] > 0 && ret > 0)
				len = 4 * (uint64_t)ret;
			break;
		case A_MINCORE_OUT:
			len = (args[1] + 4095) / 4096;
			break;
		case A_IOCTL_ARG:
			len = ioctl_out_size(args[1]);
			break;
		case A_FCNTL_ARG:
			len = fcntl_out_size(args[1]);
			break;
		case A_PRCTL_ARG:
			len = prctl_out_size(args[0]);
			break;
		case A_CLONE_PTID:
			/* CLONE_PIDFD, CLONE_PARENT_SETTID (include/uapi/linux/sched.h):
			 * an int in the parent's memory. */
			if (args[0] & (0x1000 | 0x100000))
				len = 4;
			break;
		case A_UNK:
			break;
		default:
			len = sc_kind_size(k);
			break;
		}
		if (!err && len)
			err = add_region(out, &n, max, v, len);
	}
	return err ? err : n;
}

/* The kernel's restart codes have no libc name. */
static const char *const restart_names[] = {
	[ERESTARTSYS - ERESTARTSYS] = "ERESTARTSYS",
	[ERESTARTNOINTR - ERESTARTSYS] = "ERESTARTNOINTR",
	[ERESTARTNOHAND - ERESTARTSYS] = "ERESTARTNOHAND",
	[ENOIOCTLCMD - ERESTARTSYS] = "ENOIOCTLCMD",
	[ERESTART_RESTARTBLOCK - ERESTARTSYS] = "ERESTART_RESTARTBLOCK",
};

const char *sc_errno_name(int err)
{
	if (err >= ERESTARTSYS && err <= ERESTART_RESTARTBLOCK)
		return restart_names[err - ERESTARTSYS];
	if (err <= 0 || err >= 4096)
		return NULL;
	return strerrorname_np(err);
}

int sc_errno_number(const char *name)
{
	int e;

	for (e = 1; e < 4096; e++) {
		const char *n = sc_errno_name(e);

		if (n && !strcmp(n, name))
			return e;
	}
	return -1;
}

int sc_read_cstr(sc_read_fn rd, void *ctx, uint64_t addr, char *buf,
		 size_t max, int *cut)
{
	size_t got = 0;

	*cut = 0;
	if (!max)
		return -EINVAL;
	/* Page by page: a string can end just before an unmapped page, and
	 * a read that crosses into it fails as a whole. */
	while (got < max - 1) {
		uint64_t a = addr + got;
		size_t chunk = 4096 - (a & 4095);
		char *nul;
		int err;

		if (chunk > max - 1 - got)
			chunk = max - 1 - got;
		err = rd(ctx, a, buf + got, chunk);
		if (err) {
			if (!got)
				return err;
			break;
		}
		nul = memchr(buf + got, '\0', chunk);
		if (nul)
			return (int)(nul - buf);
		got += chunk;
	}
	buf[got] = '\0';
	*cut = got == max - 1;
	return (int)got;
}

/* futex ops whose fourth argument is a timeout (kernel/futex/syscalls.c,
 * futex_cmd_has_timeout). */
int sc_futex_has_timeout(uint64_t op)
{
	switch (op & 127) {	/* without FUTEX_PRIVATE_FLAG, CLOCK_REALTIME */
	case 0:			/* FUTEX_WAIT */
	case 6:			/* FUTEX_LOCK_PI */
	case 9:			/* FUTEX_WAIT_BITSET */
	case 11:		/* FUTEX_WAIT_REQUEUE_PI */
	case 13:		/* FUTEX_LOCK_PI2 */
		return 1;
	}
	return 0;
}

/* Gather up to max bytes from an iovec array into data. */
static int gather_iov(sc_read_fn rd, void *ctx, uint64_t iov, uint64_t cnt,
		      size_t max, struct sbuf *data, int *cut)
{
	uint64_t i;
	size_t got = 0;

	if (cnt > UIO_MAXIOV)
		cnt = UIO_MAXIOV;
	for (i = 0; i < cnt; i++) {
		uint64_t base, len;

		if (read_iovec(rd, ctx, iov, i, &base, &len))
			return -EFAULT;
		if (got + len > max) {
			*cut = 1;
			len = max - got;
		}
		sbuf_grow(data, len);
		if (len && rd(ctx, base, data->buf + data->len, len) == 0) {
			data->len += len;
			data->buf[data->len] = '\0';
			got += len;
		}
		if (*cut)
			break;
	}
	return 0;
}

int sc_capture_inputs(long nr, const uint64_t args[6], sc_read_fn rd,
		      void *ctx, size_t maxbuf, struct sc_input in[6],
		      struct sbuf *data)
{
	const struct sc_desc *d = sc_lookup(nr);
	int i, n = 0;

	sbuf_reset(data);
	if (!d)
		return 0;
	for (i = 0; i < d->nargs; i++) {
		enum sc_kind k = d->args[i];
		uint64_t v = args[i], len = 0;
		size_t start = data->len;
		int cut = 0, ok = 1;

		if (!v || !sc_kind_is_captured_input(k))
			continue;
		switch (k) {
		case A_PATH:
		case A_STR: {
			int l;

			sbuf_grow(data, 4096);
			l = sc_read_cstr(rd, ctx, v, data->buf + data->len, 4096, &cut);
			if (l < 0)
				ok = 0;
			else
				data->len += (size_t)l;
			break;
		}
		case A_ARGV: {
			int j;

			for (j = 0; j < 64; j++) {
				uint64_t p;
				int l, c = 0;

				if (read_u64(rd, ctx, v + 8 * (uint64_t)j, &p) || !p)
					break;
				sbuf_grow(data, maxbuf + 1);
				l = sc_read_cstr(rd, ctx, p, data->buf + data->len, maxbuf + 1, &c);
				if (l < 0)
					break;
				data->len += (size_t)l + 1;	/* keep the NUL */
				cut |= c;
			}
			if (j == 64)
				cut = 1;
			break;
		}
		case A_IBUF:
		case A_SA_IN:
			len = i + 1 < 6 ? args[i + 1] : 0;
			if (k == A_SA_IN && len > 128)
				len = 128;
			if (len > maxbuf) {
				len = maxbuf;
				cut = 1;
			}
			break;
		case A_IOV_IN:
			ok = gather_iov(rd, ctx, v, args[i + 1], maxbuf, data, &cut) == 0;
			break;
		case A_MSG_IN: {
			uint64_t iov, iovlen;

			ok = read_u64(rd, ctx, v + MSGHDR_IOV, &iov) == 0 &&
			     read_u64(rd, ctx, v + MSGHDR_IOVLEN, &iovlen) == 0 &&
			     gather_iov(rd, ctx, iov, iovlen, maxbuf, data, &cut) == 0;
			break;
		}
		case A_FUTEX_VAL2:
			if (sc_futex_has_timeout(args[1]))
				len = 16;
			else
				continue;
			break;
		case A_POLLFD:
			len = 8 * min_u64(args[i + 1], 64);
			cut = args[i + 1] > 64;
			break;
		case A_FDSET:
			len = ((min_u64(args[0], 1024) + 63) / 64) * 8;
			break;
		default:
			len = sc_kind_size(k);
			break;
		}
		if (len) {
			sbuf_grow(data, len);
			ok = rd(ctx, v, data->buf + data->len, len) == 0;
			if (ok) {
				data->len += len;
				data->buf[data->len] = '\0';
			}
		}
		if (!ok) {
			data->len = start;
			continue;
		}
		in[n].arg = (uint8_t)i;
		in[n].cut = (uint8_t)cut;
		in[n].off = (uint32_t)start;
		in[n].len = (uint32_t)(data->len - start);
		n++;
	}
	return n;
}

size_t sc_clock_out(const struct sc_desc *d, int64_t sec, int64_t nsec, unsigned char buf[16])
{
	int64_t v[2] = { sec, nsec };
	int i;

	for (i = 0; d && i < d->nargs; i++)
		switch (d->args[i]) {
		case A_TS_OUT:
			memcpy(buf, v, 16);
			return 16;
		case A_TV_OUT:
			v[1] = nsec / 1000;
			memcpy(buf, v, 16);
			return 16;
		case A_TIME_OUT:
			memcpy(buf, v, 8);
			return 8;
		}
	return 0;
}
