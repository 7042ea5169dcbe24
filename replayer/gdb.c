#define _GNU_SOURCE
#include "replayer/gdb.h"
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"
#include "harness/go/goroutines.h"
#include "harness/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* The registers, in the order of the target description below and so of
 * the g packet: amd64's core and SSE features, orig_rax (Linux: gdb
 * needs it to restart a call), fs_base and gs_base (a Go thread's g is at
 * fs_base - 8). */
/* The target description (gdb/doc "Target Descriptions"): target.xml
 * includes one document per feature, as rr serves it, which both gdb and
 * Delve (pkg/proc/gdbserial, readAnnex: registers at a document's top
 * level) read.  The registers, in the order of the g packet: amd64's core
 * and SSE features, orig_rax (Linux: gdb needs it to restart a call),
 * fs_base and gs_base (a Go thread's g is at fs_base - 8; Delve reads it
 * there instead of running a MOV in the program). */
static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386:x86-64</architecture>\n"
	"<osabi>GNU/Linux</osabi>\n"
	"<xi:include href=\"64bit-core.xml\"/>\n"
	"<xi:include href=\"64bit-sse.xml\"/>\n"
	"<xi:include href=\"64bit-linux.xml\"/>\n"
	"<xi:include href=\"64bit-segments.xml\"/>\n"
	"</target>\n";

static const char core_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>\n"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n";

static const char sse_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
	"<union id=\"vec128\">\n"
	"<field name=\"v4_float\" type=\"v4f\"/>\n"
	"<field name=\"v2_double\" type=\"v2d\"/>\n"
	"<field name=\"v16_int8\" type=\"v16i8\"/>\n"
	"<field name=\"v8_int16\" type=\"v8i16\"/>\n"
	"<field name=\"v4_int32\" type=\"v4i32\"/>\n"
	"<field name=\"v2_int64\" type=\"v2i64\"/>\n"
	"<field name=\"uint128\" type=\"uint128\"/>\n"
	"</union>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>\n"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n";

static const char linux_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.i386.linux\">\n"
	"<reg name=\"orig_rax\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>\n"
	"</feature>\n";

static const char segments_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.i386.segments\">\n"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature>\n";

static const struct {
	const char *annex;
	const char *text;
} features[] = {
	{ "target.xml", target_xml },
	{ "64bit-core.xml", core_xml },
	{ "64bit-sse.xml", sse_xml },
	{ "64bit-linux.xml", linux_xml },
	{ "64bit-segments.xml", segments_xml },
};

#define NREGS 60

/* One register's bytes (little-endian, as the g packet wants them);
 * its size, or -1 for a number the description does not have. */
static int reg_bytes(const struct user_regs_struct *r, const struct user_fpregs_struct *f,
		     int n, unsigned char *out)
{
	/* user_regs_struct's order is the kernel's (arch/x86/include/asm/
	 * user_64.h), not gdb's. */
	const unsigned long long *gpr[] = {
		&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rbp, &r->rsp,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15, &r->rip,
	};
	const unsigned long long *seg[] = { &r->cs, &r->ss, &r->ds, &r->es, &r->fs, &r->gs };
	uint32_t v32;

	if (n >= 0 && n <= 16) {
		memcpy(out, gpr[n], 8);
		return 8;
	}
	if (n == 17 || (n >= 18 && n <= 23)) {
		v32 = (uint32_t)(n == 17 ? r->eflags : *seg[n - 18]);
		memcpy(out, &v32, 4);
		return 4;
	}
	if (n >= 24 && n <= 31) {	/* st0-7: 10 bytes of each 16 in FXSAVE */
		memcpy(out, (const unsigned char *)f->st_space + 16 * (n - 24), 10);
		return 10;
	}
	if (n >= 32 && n <= 39) {
		switch (n) {
		case 32: v32 = f->cwd; break;
		case 33: v32 = f->swd; break;
		case 34: v32 = f->ftw; break;
		case 35: v32 = (uint32_t)(f->rip >> 32) & 0xffff; break;	/* fiseg */
		case 36: v32 = (uint32_t)f->rip; break;
		case 37: v32 = (uint32_t)(f->rdp >> 32) & 0xffff; break;	/* foseg */
		case 38: v32 = (uint32_t)f->rdp; break;
		default: v32 = f->fop; break;
		}
		memcpy(out, &v32, 4);
		return 4;
	}
	if (n >= 40 && n <= 55) {
		memcpy(out, (const unsigned char *)f->xmm_space + 16 * (n - 40), 16);
		return 16;
	}
	if (n == 56) {
		memcpy(out, &f->mxcsr, 4);
		return 4;
	}
	if (n == 57 || n == 58 || n == 59) {
		memcpy(out, n == 57 ? &r->orig_rax : n == 58 ? &r->fs_base : &r->gs_base, 8);
		return 8;
	}
	return -1;
}

int gdb_listen(const char *spec, int *port, char host_out[64])
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	const char *colon = strrchr(spec, ':');
	char host[64] = "127.0.0.1", *end;
	long p;
	int fd, one = 1;

	if (colon) {
		if ((size_t)(colon - spec) >= sizeof(host) || colon == spec) {
			error("'%s': not a HOST:PORT to listen on", spec);
			return -EINVAL;
		}
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		spec = colon + 1;
	}
	p = strtol(spec, &end, 10);
	if (!*spec || *end || p < 0 || p > 65535) {
		error("'%s': not a port to listen on", spec);
		return -EINVAL;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)p);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		error("'%s': not an IPv4 address to listen on", host);
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int err = -errno;

		error("cannot listen on %s:%ld: %s", host, p, strerror(errno));
		close(fd);
		return err;
	}
	*port = ntohs(a.sin_port);
	if (host_out)
		snprintf(host_out, 64, "%s", host);
	return fd;
}

int gdb_init(struct gdb *g, int lfd, const struct gdb_target *tg)
{
	int one = 1;

	memset(g, 0, sizeof(*g));
	g->tg = *tg;
	do
		g->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (g->fd < 0 && errno == EINTR);
	close(lfd);
	if (g->fd < 0) {
		int err = -errno;

		error("cannot accept the debugger's connection: %s", strerror(errno));
		return err;
	}
	/* Packets are small and each waits for its answer. */
	setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

void gdb_release(struct gdb *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	free(g->bps);
	g->bps = NULL;
	g->nbps = 0;
	while (g->ncps)
		free(g->cps[--g->ncps].where);
	free(g->cps);
	g->cps = NULL;
}

static void lost(struct gdb *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->killed = 1;
}

static int send_all(struct gdb *g, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(g->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			lost(g);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One byte from the debugger, waiting for it; -1 when it is gone. */
static int get_byte(struct gdb *g)
{
	unsigned char c;
	ssize_t n;

	do
		n = recv(g->fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		lost(g);
		return -1;
	}
	return c;
}

/* $data#xx: the packet's checksum is the sum of its bytes, modulo 256. */
static int put_packet(struct gdb *g, const char *data, size_t len)
{
	struct sbuf sb = SBUF_INIT;
	unsigned char sum = 0;
	size_t i;
	int c, err;

	if (g->fd < 0)
		return -1;
	for (i = 0; i < len; i++)
		sum = (unsigned char)(sum + (unsigned char)data[i]);
	sbuf_addc(&sb, '$');
	sbuf_add(&sb, data, len);
	sbuf_addf(&sb, "#%02x", sum);
	for (;;) {
		err = send_all(g, sb.buf, sb.len);
		if (err || g->noack)
			break;
		/* '+' acknowledges; '-' asks again. */
		do
			c = get_byte(g);
		while (c >= 0 && c != '+' && c != '-');
		if (c != '-')
			break;
	}
	sbuf_release(&sb);
	return g->fd < 0 ? -1 : 0;
}

static int put_str(struct gdb *g, const char *s)
{
	return put_packet(g, s, strlen(s));
}

/* The next packet's payload, its escapes undone; 0, 1 for an interrupt
 * byte (0x03) outside a packet, -1 when the debugger is gone. */
static int get_packet(struct gdb *g, struct sbuf *out)
{
	int c;

	sbuf_reset(out);
	for (;;) {
		c = get_byte(g);
		if (c < 0)
			return -1;
		if (c == 3)
			return 1;
		if (c == '$')
			break;
	}
	for (;;) {
		c = get_byte(g);
		if (c < 0)
			return -1;
		if (c == '#')
			break;
		if (c == '}') {
			c = get_byte(g);
			if (c < 0)
				return -1;
			c ^= 0x20;
		}
		sbuf_addc(out, (char)c);
	}
	if (get_byte(g) < 0 || get_byte(g) < 0)
		return -1;
	if (!g->noack && send_all(g, "+", 1))
		return -1;
	sbuf_addc(out, '\0');
	out->len--;
	return 0;
}

int gdb_interrupted(struct gdb *g)
{
	struct pollfd p;
	unsigned char c;

	if (g->fd < 0)
		return 0;
	p.fd = g->fd;
	p.events = POLLIN;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (recv(g->fd, &c, 1, MSG_DONTWAIT) != 1) {
		lost(g);
		return 0;
	}
	return c == 3;
}

/* The debugger's thread ids are the trace's. */
static pid_t shown_tid(struct gdb *g, struct thread *t)
{
	return g->tg.trace_tid(g->tg.ctx, t);
}

static int listed(struct gdb *g, const struct thread *t)
{
	return t->tgid == g->tg.tgid && t->rs != RS_DYING;
}

static struct thread *thread_by_shown(struct gdb *g, struct session *s, long id)
{
	size_t i;

	for (i = 0; i < s->norder; i++)
		if (listed(g, s->order[i]) && shown_tid(g, s->order[i]) == id)
			return s->order[i];
	return NULL;
}

static struct thread *current(struct gdb *g, struct session *s)
{
	struct thread *t = g->cur ? session_thread(s, g->cur) : NULL;

	if (!t || !listed(g, t))
		t = session_thread(s, g->stop_tid);
	return t;
}

static void stop_reply(struct gdb *g, struct session *s, struct sbuf *out)
{
	struct thread *t = session_thread(s, g->stop_tid);

	sbuf_reset(out);
	sbuf_addf(out, "T%02xthread:%x;", g->stop_sig, t ? (unsigned)shown_tid(g, t) : 1u);
	/* Reverse execution reached the recording's start (gdb: "No more
	 * reverse-execution history"). */
	if (g->at_begin)
		sbuf_adds(out, "replaylog:begin;");
	if (g->watch_hit)
		sbuf_addf(out, "%s:%llx;", g->watch_hit->type == '2' ? "watch" :
			  g->watch_hit->type == '3' ? "rwatch" : "awatch",
			  (unsigned long long)g->watch_addr);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint64_t parse_hex(const char **p)
{
	uint64_t v = 0;
	int d;

	while ((d = hexval((unsigned char)**p)) >= 0) {
		v = v << 4 | (uint64_t)d;
		(*p)++;
	}
	return v;
}

static void read_registers(struct thread *t, struct sbuf *out)
{
	struct user_regs_struct r;
	struct user_fpregs_struct f;
	unsigned char b[16];
	int n, len;

	sbuf_reset(out);
	if (!t || thread_getregs(t, &r) || pt_getfpregs(t->tid, &f)) {
		sbuf_adds(out, "E01");
		return;
	}
	for (n = 0; n < NREGS; n++)
		if ((len = reg_bytes(&r, &f, n, b)) > 0)
			sbuf_add_hex(out, b, (size_t)len);
}

static void read_register(struct thread *t, int n, struct sbuf *out)
{
	struct user_regs_struct r;
	struct user_fpregs_struct f;
	unsigned char b[16];
	int len;

	sbuf_reset(out);
	if (!t || thread_getregs(t, &r) || pt_getfpregs(t->tid, &f) ||
	    (len = reg_bytes(&r, &f, n, b)) < 0) {
		sbuf_adds(out, "E01");
		return;
	}
	sbuf_add_hex(out, b, (size_t)len);
}

/* m addr,len: what can be read from addr on, with the program's own
 * bytes where gorr's INT3s are. */
static void read_memory(struct gdb *g, struct session *s, struct thread *t, const char *p,
			struct sbuf *out)
{
	uint64_t addr = parse_hex(&p), len, got = 0;
	unsigned char *buf;

	sbuf_reset(out);
	if (*p++ != ',' || !t) {
		sbuf_adds(out, "E01");
		return;
	}
	len = parse_hex(&p);
	if (len > 65536)
		len = 65536;
	buf = xmalloc(len ? len : 1);
	/* Reads are all-or-nothing: page by page up to the first hole. */
	while (got < len) {
		uint64_t n = 4096 - ((addr + got) & 4095);

		if (n > len - got)
			n = len - got;
		if (mem_read(t->tid, addr + got, buf + got, n))
			break;
		got += n;
	}
	if (!got && len) {
		sbuf_adds(out, "E14");	/* EFAULT */
	} else {
		bp_unpatch(s, g->tg.tgid, addr, buf, got);
		sbuf_add_hex(out, buf, got);
	}
	free(buf);
}

/* qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH over a whole object. */
static void xfer_reply(const void *obj, size_t size, const char *p, struct sbuf *out)
{
	uint64_t off = parse_hex(&p), len;

	sbuf_reset(out);
	if (*p++ != ',') {
		sbuf_adds(out, "E01");
		return;
	}
	len = parse_hex(&p);
	if (off >= size) {
		sbuf_adds(out, "l");
		return;
	}
	if (len > size - off)
		len = size - off;
	sbuf_addc(out, off + len < size ? 'm' : 'l');
	sbuf_add(out, (const char *)obj + off, len);
}

static void xfer_file(const char *path, const char *p, struct sbuf *out)
{
	struct sbuf data = SBUF_INIT;

	if (read_file(path, &data) < 0) {
		sbuf_reset(out);
		sbuf_adds(out, "E01");
	} else {
		xfer_reply(data.buf, data.len, p, out);
	}
	sbuf_release(&data);
}

/* Binary data in a reply: $, #, } and * are escaped. */
static int put_binary(struct gdb *g, const struct sbuf *reply)
{
	struct sbuf esc = SBUF_INIT;
	size_t i;
	int err;

	for (i = 0; i < reply->len; i++) {
		char c = reply->buf[i];

		if (c == '$' || c == '#' || c == '}' || c == '*') {
			sbuf_addc(&esc, '}');
			c ^= 0x20;
		}
		sbuf_addc(&esc, c);
	}
	err = put_packet(g, esc.buf ? esc.buf : "", esc.len);
	sbuf_release(&esc);
	return err;
}

int gdb_has_bp(const struct gdb *g, uint64_t pc)
{
	size_t i;

	for (i = 0; i < g->nbps; i++)
		if (g->bps[i] == pc)
			return 1;
	return 0;
}

/* DR7 for the set (Intel SDM vol. 3, 18.2.4): local enable L_i (bit 2i),
 * R/W_i (bits 16+4i: 01 write, 11 read or write; x86 has no read-only
 * watch, so Z3 watches accesses and gdb is told rwatch), LEN_i (bits
 * 18+4i: 00 1 byte, 01 2, 11 4, 10 8). */
static unsigned long dr7_of(const struct gdb *g)
{
	unsigned long dr7 = 0;
	int i;

	for (i = 0; i < g->nwps; i++) {
		unsigned long rw = g->wps[i].type == '2' ? 1 : 3;
		unsigned long len = g->wps[i].len == 1 ? 0 : g->wps[i].len == 2 ? 1 :
				    g->wps[i].len == 4 ? 3 : 2;

		dr7 |= 1ul << (2 * i) | rw << (16 + 4 * i) | len << (18 + 4 * i);
	}
	return dr7;
}

void gdb_arm_watch(struct gdb *g, struct thread *t)
{
	int i;

	if (t->pol.wp_gen == g->wp_gen)
		return;
	/* DR7 off first: an address may not be set under an enabled slot
	 * of another length (arch/x86/kernel/ptrace.c ptrace_set_debugreg
	 * checks each write). */
	pt_set_debugreg(t->tid, 7, 0);
	for (i = 0; i < g->nwps; i++)
		pt_set_debugreg(t->tid, i, g->wps[i].addr);
	if (g->nwps)
		pt_set_debugreg(t->tid, 7, dr7_of(g));
	t->pol.wp_gen = g->wp_gen;
}

int gdb_watch_fired(struct gdb *g, struct thread *t)
{
	unsigned long dr6;
	int i;

	if (pt_get_debugreg(t->tid, 6, &dr6))
		return 0;
	pt_set_debugreg(t->tid, 6, 0);
	for (i = 0; i < g->nwps; i++)
		if (dr6 & (1ul << i)) {
			g->watch_hit = &g->wps[i];
			g->watch_addr = g->wps[i].addr;
			return 1;
		}
	return 0;
}

/* Z2/Z3/Z4 addr,len: four at most, of 1, 2, 4 or 8 bytes aligned to
 * their length (what a debug register can watch). */
static void set_watchpoint(struct gdb *g, struct session *s, const char *p, int insert,
			   struct sbuf *out)
{
	char type = p[0];
	uint64_t addr, len;
	size_t i;
	int k;

	p += 2;
	addr = parse_hex(&p);
	if (*p++ != ',') {
		sbuf_adds(out, "E01");
		return;
	}
	len = parse_hex(&p);
	for (k = 0; k < g->nwps; k++)
		if (g->wps[k].addr == addr && g->wps[k].len == (int)len && g->wps[k].type == type)
			break;
	if (!insert) {
		if (k < g->nwps) {
			g->wps[k] = g->wps[--g->nwps];
			g->wp_gen++;
		}
		sbuf_adds(out, "OK");
		goto arm;
	}
	if (k < g->nwps) {
		sbuf_adds(out, "OK");
		return;
	}
	if (g->nwps == 4 || (len != 1 && len != 2 && len != 4 && len != 8) || addr % len) {
		sbuf_adds(out, "E01");	/* gdb then says it cannot insert it */
		return;
	}
	g->wps[g->nwps].addr = addr;
	g->wps[g->nwps].len = (int)len;
	g->wps[g->nwps].type = type;
	g->nwps++;
	g->wp_gen++;
	sbuf_adds(out, "OK");
arm:
	/* The stopped threads now; the others when they are next picked. */
	for (i = 0; i < s->norder; i++)
		if (s->order[i]->tgid == g->tg.tgid && s->order[i]->stopped)
			gdb_arm_watch(g, s->order[i]);
}

/* Z0/Z1 (software and "hardware" breakpoints are both INT3s: replay never
 * writes the code the debugger stops in), z0/z1. */
static void set_breakpoint(struct gdb *g, struct session *s, struct thread *t, const char *p,
			   int insert, struct sbuf *out)
{
	uint64_t addr;
	size_t i;

	sbuf_reset(out);
	if (p[0] >= '2' && p[0] <= '4' && p[1] == ',') {
		set_watchpoint(g, s, p, insert, out);
		return;
	}
	if ((p[0] != '0' && p[0] != '1') || p[1] != ',') {
		sbuf_adds(out, "");
		return;
	}
	p += 2;
	addr = parse_hex(&p);
	if (!t) {
		sbuf_adds(out, "E01");
		return;
	}
	if (insert) {
		if (gdb_has_bp(g, addr)) {
			sbuf_adds(out, "OK");
			return;
		}
		if (bp_insert(s, t, addr)) {
			sbuf_adds(out, "E01");
			return;
		}
		if (g->nbps == g->abps) {
			g->abps = g->abps ? 2 * g->abps : 8;
			g->bps = xrealloc(g->bps, g->abps * sizeof(*g->bps));
		}
		g->bps[g->nbps++] = addr;
	} else {
		for (i = 0; i < g->nbps; i++)
			if (g->bps[i] == addr) {
				bp_remove(s, t, addr);
				g->bps[i] = g->bps[--g->nbps];
				break;
			}
	}
	sbuf_adds(out, "OK");
}

int gdb_step_ends(struct gdb *g, struct session *s, struct thread *t, uint64_t pc)
{
	if (g->fd < 0 || g->step_bp != pc || g->step_tid != t->tid)
		return 0;
	bp_remove(s, t, pc);
	g->step_bp = 0;
	g->step_tid = 0;
	g->steps++;
	return 1;
}

void gdb_reinsert(struct gdb *g, struct session *s, struct thread *t)
{
	size_t i;

	g->step_bp = 0;
	g->step_tid = 0;
	for (i = 0; i < g->nbps; i++)
		if (bp_insert(s, t, g->bps[i]))
			warning("cannot set the debugger's breakpoint at %#llx again",
				(unsigned long long)g->bps[i]);
}

/* Instructions only the event loop may run (a step would leave the
 * thread in a seccomp stop or inside gorr's rdtsc emulation): their
 * length, else 0. */
static int loop_only(struct session *s, struct thread *t, uint64_t pc)
{
	unsigned char b[3];

	if (mem_read(t->tid, pc, b, sizeof(b)))
		return 0;
	bp_unpatch(s, t->tgid, pc, b, sizeof(b));
	if (b[0] == 0x0f && b[1] == 0x05)	/* syscall */
		return 2;
	if (bp_tsc_site(s, pc))
		return b[1] == 0x31 ? 2 : 3;	/* rdtsc, rdtscp */
	return 0;
}

/* One instruction of t.  1 when it ran here; 0 when the event loop must
 * run it (a breakpoint after it ends the step); -1 when t cannot step. */
static int step(struct gdb *g, struct session *s, struct thread *t)
{
	struct user_regs_struct r;
	int len, other = 0, err;

	if (!t || t->in_syscall || thread_getregs(t, &r))
		return -1;
	len = loop_only(s, t, r.rip);
	if (len) {
		if (bp_insert(s, t, r.rip + (uint64_t)len))
			return -1;
		g->step_bp = r.rip + (uint64_t)len;
		g->step_tid = t->tid;
		return 0;
	}
	err = bp_at(s, t, r.rip) ? bp_step_over(s, t, r.rip, &other) : pt_step(t->tid, &other);
	if (err)
		return -1;
	g->steps++;
	if (other && WIFSTOPPED(other) && !(other >> 16)) {
		int sig = WSTOPSIG(other);

		/* A signal came instead: a fault of the instruction comes
		 * again when it runs again; any other (one replay sent) is
		 * made pending again for the event loop. */
		if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL &&
		    sig != SIGTRAP && sig != SIGCHLD)
			thread_signal(t, sig);
		return 1;
	}
	return other ? -1 : 1;
}

/* A step of st the debugger asked for (s, vCont;s): 1 when made here
 * (its stop reply is in out), 0 when the event loop makes it (the reply
 * comes at its end), -1 when st cannot step (out tells the stop again). */
static int step_for(struct gdb *g, struct session *s, struct thread *st, struct sbuf *out)
{
	int r = step(g, s, st);

	if (r > 0) {
		g->stop_tid = st->tid;
		g->stop_sig = SIGTRAP;
	}
	if (r)
		stop_reply(g, s, out);
	return r;
}

/* vCont;ACTION[:TID];...: the step, if any (s:TID or a default s), and
 * the thread it is for; gdb runs the others meanwhile (c), which the
 * replay does anyway. */
static struct thread *vcont_step(struct gdb *g, struct session *s, const char *p, int *stepping)
{
	struct thread *t = NULL;

	*stepping = 0;
	while (*p == ';') {
		char action = p[1];

		p += 2;
		if (action == 'S' || action == 'C')	/* the signal is the trace's */
			parse_hex(&p);
		if (*p == ':') {
			long id;

			p++;
			if (*p == '-') {
				id = -1;
				p += 2;
			} else {
				id = (long)parse_hex(&p);
			}
			if ((action == 's' || action == 'S') && !*stepping) {
				t = id == -1 ? current(g, s) : thread_by_shown(g, s, id);
				*stepping = 1;
			}
		} else if ((action == 's' || action == 'S') && !*stepping) {
			t = current(g, s);
			*stepping = 1;
		}
	}
	return t;
}

static void thread_list(struct gdb *g, struct session *s, struct sbuf *out)
{
	size_t i;
	int first = 1;

	sbuf_reset(out);
	sbuf_addc(out, 'm');
	for (i = 0; i < s->norder; i++)
		if (listed(g, s->order[i])) {
			sbuf_addf(out, "%s%x", first ? "" : ",", (unsigned)shown_tid(g, s->order[i]));
			first = 0;
		}
}

static void monitor(struct gdb *g, const char *hex, struct sbuf *out)
{
	struct sbuf cmd = SBUF_INIT, text = SBUF_INIT;

	while (hexval((unsigned char)hex[0]) >= 0 && hexval((unsigned char)hex[1]) >= 0) {
		sbuf_addc(&cmd, (char)(hexval((unsigned char)hex[0]) << 4 | hexval((unsigned char)hex[1])));
		hex += 2;
	}
	sbuf_addc(&cmd, '\0');
	sbuf_reset(out);
	if (!strcmp(cmd.buf, "when")) {
		sbuf_addf(&text, "Current event: %llu\n", (unsigned long long)g->tg.when(g->tg.ctx));
	} else if (!strncmp(cmd.buf, "goto ", 5) && parse_u64(cmd.buf + 5, &g->goto_event) == 0) {
		/* Answered once there (gdb_stop). */
		g->reverse = 'g';
		g->rcmd_pending = 1;
		sbuf_release(&cmd);
		sbuf_release(&text);
		return;
	} else {
		sbuf_addf(&text, "gorr: unknown monitor command '%s' (known: when, goto N)\n", cmd.buf);
	}
	sbuf_add_hex(out, text.buf, text.len);
	sbuf_release(&cmd);
	sbuf_release(&text);
}

/* Hex (two digits a byte) to text, up to the next ':' or the end. */
static const char *unhex(const char *p, struct sbuf *out)
{
	sbuf_reset(out);
	while (hexval((unsigned char)p[0]) >= 0 && hexval((unsigned char)p[1]) >= 0) {
		sbuf_addc(out, (char)(hexval((unsigned char)p[0]) << 4 | hexval((unsigned char)p[1])));
		p += 2;
	}
	sbuf_addc(out, '\0');
	out->len--;
	return p;
}

/* rr's own commands, as Delve sends them (rr 5.8's style:
 * qRRCmd:NAME:THREAD[:ARG...], arguments in hex; the answer is text in
 * hex): when, checkpoint WHERE, info checkpoints, delete checkpoint N. */
static void rr_command(struct gdb *g, const char *p, struct sbuf *out)
{
	const char *colon = strchr(p, ':');
	size_t n = colon ? (size_t)(colon - p) : strlen(p);
	struct sbuf text = SBUF_INIT, arg = SBUF_INIT;
	size_t i;

	/* The argument after the thread id. */
	if (colon && (colon = strchr(colon + 1, ':')))
		unhex(colon + 1, &arg);
	if (n == 4 && !strncmp(p, "when", 4)) {
		sbuf_addf(&text, "%llu", (unsigned long long)g->tg.when(g->tg.ctx));
	} else if (n == 10 && !strncmp(p, "checkpoint", 10)) {
		g->cps = xrealloc(g->cps, (g->ncps + 1) * sizeof(*g->cps));
		g->cps[g->ncps].place = g->tg.save_place(g->tg.ctx);
		g->cps[g->ncps].when = g->tg.when(g->tg.ctx);
		g->cps[g->ncps].where = xstrdup(arg.buf ? arg.buf : "");
		g->ncps++;
		sbuf_addf(&text, "Checkpoint %zu at %s", g->ncps, g->cps[g->ncps - 1].where);
	} else if (n == 16 && !strncmp(p, "info checkpoints", 16)) {
		sbuf_adds(&text, "ID\tWhen\tWhere\n");
		for (i = 0; i < g->ncps; i++)
			if (g->cps[i].where)
				sbuf_addf(&text, "%zu\t%llu\t%s\n", i + 1,
					  (unsigned long long)g->cps[i].when, g->cps[i].where);
	} else if (n == 17 && !strncmp(p, "delete checkpoint", 17)) {
		size_t id = arg.buf ? (size_t)strtoul(arg.buf, NULL, 10) : 0;

		if (id >= 1 && id <= g->ncps && g->cps[id - 1].where) {
			free(g->cps[id - 1].where);
			g->cps[id - 1].where = NULL;
			sbuf_addf(&text, "Deleted checkpoint %zu.", id);
		} else {
			sbuf_addf(&text, "No checkpoint number %zu.", id);
		}
	} else {
		sbuf_reset(out);
		sbuf_adds(out, "E01");
		goto out;
	}
	sbuf_reset(out);
	sbuf_add_hex(out, text.buf, text.len);
out:
	sbuf_release(&text);
	sbuf_release(&arg);
}

/* vRun;[;POS]: Delve's restart, to the start, to a checkpoint ("cN") or
 * to an event ("N"); it takes place at the next resume. */
static void rerun(struct gdb *g, const char *p)
{
	struct sbuf pos = SBUF_INIT;
	unsigned long v;

	g->rerun = 1;
	g->rerun_kind = 'b';
	p = strchr(p, ';');
	if (p && p[1] == ';') {
		unhex(p + 2, &pos);
		if (pos.buf && pos.buf[0] == 'c' && (v = strtoul(pos.buf + 1, NULL, 10)) >= 1 &&
		    v <= g->ncps && g->cps[v - 1].where) {
			g->rerun_kind = 'p';
			g->goto_event = (uint64_t)g->cps[v - 1].place;
		} else if (pos.buf && pos.buf[0] >= '0' && pos.buf[0] <= '9') {
			g->rerun_kind = 'e';
			g->goto_event = strtoull(pos.buf, NULL, 10);
		}
	}
	sbuf_release(&pos);
}

int gdb_stop(struct gdb *g, struct session *s, struct thread *t, int sig)
{
	struct sbuf in = SBUF_INIT, out = SBUF_INIT;
	int moved = 0, r;

	if (g->fd < 0)
		return 0;
	/* A reverse step's way back: the steps before the one undone. */
	while (g->pending_steps) {
		g->pending_steps--;
		r = step(g, s, t);
		if (r > 0) {
			moved = 1;
			continue;
		}
		if (r == 0)
			return moved;	/* the event loop runs it; the stop comes later */
		g->pending_steps = 0;
	}
	g->stop_tid = t->tid;
	g->stop_sig = sig;
	g->cur = t->tid;
	/* The debugger waits for the stop reply of its last c or s, or for
	 * the answer to monitor goto; at the first stop it asks with '?'. */
	if (g->rcmd_pending) {
		char text[128];

		g->rcmd_pending = 0;
		g->running = 0;
		snprintf(text, sizeof(text), "gorr: at event %llu%s\n",
			 (unsigned long long)g->tg.when(g->tg.ctx),
			 g->at_begin ? " (the start of the recording)" : "");
		sbuf_add_hex(&out, text, strlen(text));
		put_str(g, out.buf);
	}
	stop_reply(g, s, &out);
	if (g->running) {
		g->running = 0;
		put_str(g, out.buf);
	}
	while (g->fd >= 0) {
		const char *p;
		struct thread *ct;

		r = get_packet(g, &in);
		if (r < 0)
			break;
		if (r > 0)
			continue;	/* an interrupt while stopped: nothing to do */
		p = in.buf ? in.buf : "";
		ct = current(g, s);
		sbuf_reset(&out);
		switch (p[0]) {
		case '?':
			stop_reply(g, s, &out);
			break;
		case 'g':
			read_registers(ct, &out);
			break;
		case 'p':
			p++;
			read_register(ct, (int)parse_hex(&p), &out);
			break;
		case 'G':
		case 'P':
		case 'M':
		case 'X':
			/* The replay would diverge: nothing of the program's
			 * is written (EPERM). */
			sbuf_adds(&out, "E01");
			break;
		case 'm':
			read_memory(g, s, ct, p + 1, &out);
			break;
		case 'H':
			if (p[1] == 'g' || p[1] == 'c') {
				const char *q = p + 2;
				struct thread *h;

				/* pPID.TID (multiprocess style, Delve's for bc/bs). */
				if (q[0] == 'p' && strchr(q, '.'))
					q = strchr(q, '.') + 1;
				if (q[0] == '-' || !strcmp(q, "0")) {
					sbuf_adds(&out, "OK");
					break;
				}
				h = thread_by_shown(g, s, (long)parse_hex(&q));
				if (!h) {
					sbuf_adds(&out, "E01");
					break;
				}
				if (p[1] == 'g')
					g->cur = h->tid;
			}
			sbuf_adds(&out, "OK");
			break;
		case 'T':
			p++;
			sbuf_adds(&out, thread_by_shown(g, s, (long)parse_hex(&p)) ? "OK" : "E01");
			break;
		case 'Z':
		case 'z':
			set_breakpoint(g, s, ct, p + 1, p[0] == 'Z', &out);
			break;
		case 'k':
			g->killed = 1;
			goto out;
		case 'D':
			put_str(g, "OK");
			g->detached = 1;
			gdb_release(g);
			goto out;
		case 'c':
			goto resume;
		case 'b':
			/* bc, bs: the replay runs again from the start. */
			if (p[1] == 'c' || (p[1] == 's' && (g->steps || (ct && ct->tid == g->stop_tid &&
							 g->tg.can_step_back(g->tg.ctx, ct))))) {
				g->reverse = p[1];
				goto resume;
			}
			/* bs where the instruction before is not known (a
			 * return from an indirect call, the start). */
			if (p[1] == 's')
				sbuf_adds(&out, "E01");
			break;
		case 's':
			r = step_for(g, s, ct, &out);
			moved |= r > 0 && ct == t;
			if (r == 0)
				goto resume;
			break;
		case 'v':
			if (!strcmp(p, "vCont?")) {
				sbuf_adds(&out, "vCont;c;C;s;S");
			} else if (!strncmp(p, "vCont;", 6)) {
				int stepping;
				struct thread *st = vcont_step(g, s, p + 5, &stepping);

				if (!stepping)
					goto resume;
				r = step_for(g, s, st, &out);
				moved |= r > 0 && st == t;
				if (r == 0)
					goto resume;
			} else if (!strncmp(p, "vKill", 5)) {
				put_str(g, "OK");
				g->killed = 1;
				goto out;
			} else if (!strncmp(p, "vRun", 4)) {
				rerun(g, p);
				stop_reply(g, s, &out);
			} else if (!strcmp(p, "vMustReplyEmpty")) {
				sbuf_adds(&out, "");
			}
			break;
		case 'q':
			if (!strncmp(p, "qSupported", 10)) {
				sbuf_adds(&out, "PacketSize=10000;QStartNoAckMode+;qXfer:features:read+;"
					  "qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;"
					  "vContSupported+;swbreak+;hwbreak+;ReverseContinue+;ReverseStep+");
			} else if (!strcmp(p, "qC")) {
				struct thread *c = session_thread(s, g->stop_tid);

				sbuf_addf(&out, "QC%x", c ? (unsigned)shown_tid(g, c) : 1u);
			} else if (!strcmp(p, "qAttached")) {
				sbuf_adds(&out, "1");	/* quitting detaches: the replay ends alone */
			} else if (!strcmp(p, "qfThreadInfo")) {
				thread_list(g, s, &out);
			} else if (!strcmp(p, "qsThreadInfo")) {
				sbuf_adds(&out, "l");
			} else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
				const char *q = p + 17;
				struct thread *h = thread_by_shown(g, s, (long)parse_hex(&q));
				int64_t goid;
				char text[64];

				/* goid 0 is a thread's g0 (runtime/proc.go
				 * mcommoninit): scheduler or system code. */
				if (h && goroutine_id(s, h, &goid) == 0 && goid > 0)
					snprintf(text, sizeof(text), "goroutine %lld", (long long)goid);
				else if (h && goroutine_id(s, h, &goid) == 0)
					snprintf(text, sizeof(text), "no goroutine: g0");
				else
					snprintf(text, sizeof(text), "no goroutine");
				sbuf_add_hex(&out, text, strlen(text));
			} else if (!strncmp(p, "qXfer:features:read:", 20)) {
				const char *annex = p + 20, *colon = strchr(annex, ':');
				size_t k;

				for (k = 0; colon && k < ARRAY_SIZE(features); k++)
					if (strlen(features[k].annex) == (size_t)(colon - annex) &&
					    !strncmp(annex, features[k].annex, (size_t)(colon - annex)))
						break;
				if (!colon || k == ARRAY_SIZE(features)) {
					sbuf_adds(&out, "E00");
				} else {
					xfer_reply(features[k].text, strlen(features[k].text), colon + 1, &out);
					put_binary(g, &out);
					continue;
				}
			} else if (!strncmp(p, "qXfer:exec-file:read:", 21)) {
				const char *q = strchr(p + 21, ':');

				if (!q) {
					sbuf_adds(&out, "E01");
				} else {
					xfer_reply(g->tg.exe, strlen(g->tg.exe), q + 1, &out);
					put_binary(g, &out);
					continue;
				}
			} else if (!strncmp(p, "qXfer:auxv:read::", 17)) {
				char path[64];

				snprintf(path, sizeof(path), "/proc/%d/auxv", (int)g->tg.tgid);
				xfer_file(path, p + 17, &out);
				put_binary(g, &out);
				continue;
			} else if (!strncmp(p, "qXfer:siginfo:read::", 20)) {
				siginfo_t si;

				memset(&si, 0, sizeof(si));
				if (!ct || pt_getsiginfo(ct->tid, &si))
					si.si_signo = g->stop_sig;
				xfer_reply(&si, sizeof(si), p + 20, &out);
				put_binary(g, &out);
				continue;
			} else if (!strncmp(p, "qRRCmd:", 7)) {
				rr_command(g, p + 7, &out);
			} else if (!strncmp(p, "qRcmd,", 6)) {
				monitor(g, p + 6, &out);
				if (g->reverse == 'g')
					goto resume;
			} else if (!strncmp(p, "qSymbol", 7)) {
				sbuf_adds(&out, "OK");
			}
			break;
		case 'Q':
			if (!strcmp(p, "QStartNoAckMode")) {
				put_str(g, "OK");
				g->noack = 1;
				continue;
			}
			break;
		default:
			break;
		}
		put_packet(g, out.buf ? out.buf : "", out.len);
	}
	/* The connection is gone. */
	g->killed = 1;
	goto out;
resume:
	if (g->rerun) {
		g->rerun = 0;
		g->reverse = 'r';
	}
	g->running = 1;
	g->watch_hit = NULL;
out:
	sbuf_release(&in);
	sbuf_release(&out);
	return moved;
}

void gdb_exited(struct gdb *g, int wstatus)
{
	struct sbuf in = SBUF_INIT;
	char reply[16];

	if (g->fd < 0)
		return;
	if (WIFSIGNALED(wstatus))
		snprintf(reply, sizeof(reply), "X%02x", WTERMSIG(wstatus));
	else
		snprintf(reply, sizeof(reply), "W%02x", WEXITSTATUS(wstatus));
	put_str(g, reply);
	/* The debugger may still ask (about the exit, for threads): nothing
	 * is left to run. */
	while (g->fd >= 0 && get_packet(g, &in) >= 0) {
		const char *p = in.buf ? in.buf : "";

		if (p[0] == 'k' || p[0] == 'D' || !strncmp(p, "vKill", 5)) {
			if (p[0] != 'k')
				put_str(g, "OK");
			break;
		}
		if (p[0] == '?')
			put_str(g, reply);
		else if (!strcmp(p, "qfThreadInfo"))
			put_str(g, "l");
		else
			put_str(g, "E01");
	}
	sbuf_release(&in);
	gdb_release(g);
}
