#define _GNU_SOURCE
#include "harness/core/vdso.h"
#include "harness/core/breakpoint.h"
#include "harness/core/condbp.h"
#include "harness/core/ptrace.h"
#include "harness/base/syscalls.h"
#include "harness/go/gobin.h"
#include "harness/base/util.h"
#include "vdso_syms.h"		/* $(BUILD)/harness/vdso: from the built image */

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/seccomp.h>

/* The built image (GNUmakefile: harness/vdso/image.c, linked by
 * image.lds), in gorr's own read-only data. */
__asm__(".section .rodata\n"
	".balign 64\n"
	".globl gorr_vdso_image\n"
	"gorr_vdso_image:\n"
	".incbin \"" VDSO_IMAGE_PATH "\"\n"
	".globl gorr_vdso_image_end\n"
	"gorr_vdso_image_end:\n"
	".previous\n");
extern const unsigned char gorr_vdso_image[], gorr_vdso_image_end[];

uint64_t vdso_page_addr(void)
{
	return VDSO_BASE + VDSO_PAGE_OFF;
}

uint64_t vdso_fast_pc(void)
{
	return VDSO_BASE + VDSO_FAST_RET_OFF;
}

uint64_t vdso_slow_pc(void)
{
	return VDSO_BASE + VDSO_SLOW_RET_OFF;
}

int vdso_holds(const struct session *s, uint64_t pc)
{
	return (pc >= VDSO_BASE && pc < VDSO_BASE + VDSO_PAGE_OFF) ||
	       (s->vdso_tramp && pc >= s->vdso_tramp && pc < s->vdso_tramp + VDSO_PAGE);
}

#define VDSO_STEPS 512	/* more than any path through the image takes */

/* t is inside the syscall buffer's code (its page's sys_busy is set):
 * it runs on to where it leaves, the program's SYSCALL (the buffer's
 * "stop" answer) or the instruction after it, caught by two hardware
 * breakpoints (DR0, DR1: no change to the code).  Steps would take one
 * per byte of a big read's copy (rep movsb).  0 with regs there, 1 with
 * another stop's status in *other, or a negative errno. */
static int run_out_of_buffer(struct session *s, struct thread *t, struct user_regs_struct *regs,
			     int *other)
{
	unsigned long dr7 = 0;
	int err, status = 0;

	if ((err = pt_get_debugreg(t->tid, 7, &dr7)) ||
	    (err = pt_set_debugreg(t->tid, 0, s->vdso_site)) ||
	    (err = pt_set_debugreg(t->tid, 1, s->vdso_site + 2)) ||
	    (err = pt_set_debugreg(t->tid, 7, (dr7 & ~0xfUL & ~0xff0000UL) | 0x5)))
		return err;
	err = pt_cont(t->tid, 0);
	if (!err)
		err = pt_wait(t->tid, &status);
	pt_set_debugreg(t->tid, 7, dr7);
	pt_set_debugreg(t->tid, 6, 0);
	if (err)
		return err;
	if ((err = pt_getregs(t->tid, regs)))
		return err;
	if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && !(status >> 16) &&
	    (regs->rip == s->vdso_site || regs->rip == s->vdso_site + 2))
		return 0;
	*other = status;
	return 1;
}

int vdso_leave(struct session *s, struct thread *t, struct user_regs_struct *regs, int *other)
{
	uint32_t busy = 0;
	int k, err;

	*other = 0;
	if (s->vdso_site && regs->rip >= VDSO_BASE && regs->rip < VDSO_BASE + VDSO_PAGE_OFF &&
	    mem_read(t->tid, vdso_page_addr() + offsetof(struct vdso_page, sys_busy), &busy,
		     sizeof(busy)) == 0 && busy)
		return run_out_of_buffer(s, t, regs, other);
	for (k = 0; k < VDSO_STEPS && vdso_holds(s, regs->rip); k++)
		if ((err = thread_step(t, regs, other)))
			return err;
	return vdso_holds(s, regs->rip) ? -ELOOP : 0;
}

static uint64_t vdso_sys_pc(void)
{
	return VDSO_BASE + VDSO_SYS_RET_OFF;
}

/* Which calls the syscall buffer may make, from the syscall table: those
 * on an fd (argument 0) whose only output is the buffer at argument 1,
 * and epoll waits (which it makes only with a zero timeout). */
static int shape_of(long nr)
{
	const struct sc_desc *d = sc_lookup(nr);

	if (!d || d->args[0] != A_FD)
		return VS_NO;
	if (sc_is_epoll_wait(nr) && d->args[1] == A_EPEV_OUT && d->args[3] == A_TIMEOUT_MS)
		return VS_EPOLL;
	if ((d->flags & SF_FDIN) && d->args[1] == A_OBUF) {
		if (d->nargs == 6 && d->args[4] == A_SA_OUT)
			return VS_RECVFROM;
		return d->nargs <= 4 ? VS_OBUF : VS_NO;
	}
	if ((d->flags & SF_FDOUT) && d->args[1] == A_IBUF)
		return VS_IN;
	return VS_NO;
}

int vdso_map(struct session *s, struct thread *t, int mode, uint64_t *ehdr)
{
	size_t len = (size_t)(gorr_vdso_image_end - gorr_vdso_image);
	uint64_t a[6] = { VDSO_BASE, VDSO_PAGE_OFF, PROT_READ | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0 };
	struct user_regs_struct regs;
	struct vdso_page head;
	int64_t ret;
	int err;

	if (len > VDSO_PAGE_OFF)
		return -E2BIG;
	if ((err = pt_getregs(t->tid, &regs)))
		return err;
	/* The call is made from the exec stop's rip: the entry point,
	 * mapped executable. */
	if ((err = bp_inject_syscall(s, t, regs.rip, SYS_mmap, a, &ret)))
		return err;
	if (ret != (int64_t)VDSO_BASE)
		return ret < 0 && ret > -4096 ? (int)ret : -ENOTSUP;
	a[0] = vdso_page_addr();
	a[1] = VDSO_DATA_SIZE;
	a[2] = PROT_READ | PROT_WRITE;
	if ((err = bp_inject_syscall(s, t, regs.rip, SYS_mmap, a, &ret)))
		return err;
	if (ret != (int64_t)vdso_page_addr())
		return ret < 0 && ret > -4096 ? (int)ret : -ENOTSUP;
	if (s->opts.fast_sys) {
		struct vdso_sysconf *conf = xcalloc(1, sizeof(*conf));
		long nr;

		for (nr = 0; nr < VDSO_NR_MAX; nr++)
			conf->shape[nr] = (uint8_t)shape_of(nr);
		err = mem_write(t->tid, vdso_page_addr() + VDSO_CONF_OFF, conf->shape,
				sizeof(conf->shape));
		free(conf);
		if (err)
			return err;
	}
	/* The image through /proc/PID/mem (it writes through PROT_EXEC's
	 * missing write permission, mm/memory.c FOLL_FORCE). */
	if ((err = bp_code_write(s, t, VDSO_BASE, gorr_vdso_image, len)))
		return err;
	memset(&head, 0, offsetof(struct vdso_page, ent));
	head.magic = VDSO_MAGIC;
	head.mode = (uint32_t)mode;
	head.sys_mode = (uint32_t)s->opts.fast_sys;
	head.vnow = s->vclock;
	head.vreal = s->vclock_realtime_base;
	head.vlimit = s->vclock;	/* the first read stops: gorr sets it */
	if ((err = mem_write(t->tid, vdso_page_addr(), &head, offsetof(struct vdso_page, ent))))
		return err;
	s->vnow_tgid = t->tgid;
	s->vnow_val = s->vclock;
	s->vnow_limit = s->vclock;
	*ehdr = VDSO_BASE;
	return 0;
}

/* The filter's prefix, built with its jumps to two labels: ALLOW (the
 * image's call goes on) and REST (libseccomp's program, which checks the
 * architecture first).  BPF jumps are relative to the next instruction
 * and forward only; L_SYS: the buffered calls' checks. */
enum { L_NEXT = -1, L_ALLOW = -2, L_REST = -3, L_SYS = -4 };

struct prefix {
	struct sock_filter f[64];
	int jt[64], jf[64];	/* L_* or an absolute index */
	int n;
};

static void pre_stmt(struct prefix *p, unsigned short code, uint32_t k)
{
	p->f[p->n] = (struct sock_filter)BPF_STMT(code, k);
	p->jt[p->n] = p->jf[p->n] = L_NEXT;
	p->n++;
}

static void pre_jeq(struct prefix *p, uint32_t k, int jt, int jf)
{
	p->f[p->n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0);
	p->jt[p->n] = jt;
	p->jf[p->n] = jf;
	p->n++;
}

/* ip (seccomp_data's instruction_pointer: the address after the SYSCALL,
 * the task's saved ip at entry, kernel/seccomp.c populate_seccomp_data)
 * is the site's: on to the next check; else to miss. */
static void pre_ip(struct prefix *p, uint64_t ip, int miss)
{
	pre_stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer));
	pre_jeq(p, (uint32_t)ip, L_NEXT, miss);
	pre_stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4);
	pre_jeq(p, (uint32_t)(ip >> 32), L_NEXT, L_REST);
	pre_stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
}

int vdso_filter(const struct sock_filter *bpf, unsigned short len, int fast_sys,
		struct sock_filter **out, unsigned short *out_len)
{
	struct prefix p = { .n = 0 };
	int sys_at = -1, allow, i;
	long nr;

	pre_stmt(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	pre_jeq(&p, AUDIT_ARCH_X86_64, L_NEXT, L_REST);
	/* clock_gettime from the image's first SYSCALL */
	pre_ip(&p, vdso_fast_pc(), fast_sys ? L_SYS : L_REST);
	pre_jeq(&p, SYS_clock_gettime, L_ALLOW, L_REST);
	if (fast_sys) {
		/* the buffered calls from its syscall buffer's */
		sys_at = p.n;
		pre_ip(&p, vdso_sys_pc(), L_REST);
		for (nr = 0; nr < VDSO_NR_MAX; nr++)
			if (shape_of(nr) != VS_NO)
				pre_jeq(&p, (uint32_t)nr, L_ALLOW, L_NEXT);
		pre_stmt(&p, BPF_JMP | BPF_JA, 0);
		p.jt[p.n - 1] = L_REST;
	}
	allow = p.n;
	pre_stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	if (p.n > (int)(sizeof(p.f) / sizeof(p.f[0])) || len + p.n > BPF_MAXINSNS)
		return -E2BIG;
	for (i = 0; i < p.n; i++) {
		int to[2] = { p.jt[i], p.jf[i] }, k;

		for (k = 0; k < 2; k++) {
			int dest = to[k] == L_NEXT ? i + 1 : to[k] == L_ALLOW ? allow :
				   to[k] == L_REST ? p.n : to[k] == L_SYS ? sys_at : to[k];

			if (dest <= i)
				return -EINVAL;
			if (BPF_CLASS(p.f[i].code) != BPF_JMP)
				continue;
			if (BPF_OP(p.f[i].code) == BPF_JA) {
				if (k == 0)
					p.f[i].k = (uint32_t)(dest - i - 1);
			} else if (k == 0) {
				p.f[i].jt = (uint8_t)(dest - i - 1);
			} else {
				p.f[i].jf = (uint8_t)(dest - i - 1);
			}
		}
	}
	*out = xmalloc((len + (size_t)p.n) * sizeof(**out));
	memcpy(*out, p.f, (size_t)p.n * sizeof(p.f[0]));
	memcpy(*out + p.n, bpf, len * sizeof(*bpf));
	*out_len = (unsigned short)(len + p.n);
	return 0;
}

/* Go's one syscall function, by release: runtime/internal/syscall
 * (Go 1.19-1.22), internal/runtime/syscall (1.23-1.24),
 * internal/runtime/syscall/linux (1.25-).  The netpoller's epoll waits
 * go through it since Go 1.21 (runtime/netpoll_epoll.go). */
static const char *const syscall6_names[] = {
	"internal/runtime/syscall/linux.Syscall6",
	"internal/runtime/syscall.Syscall6",
	"runtime/internal/syscall.Syscall6",
};

#define TRAMP_SIG "gorrsys"
#define PATCH_MAX 64		/* bytes of the function read before its SYSCALL */

/* The trampoline (at the near page's start) for the window [q, sys), the
 * instructions before the SYSCALL at sys: those instructions, then into
 * the image with rcx = done; done: rcx = sys + 2 (as the kernel's
 * SYSCALL leaves it) and back after the SYSCALL; 15 bytes on from done
 * (image.c DONE_TO_SLOW): back to the SYSCALL itself. */
static size_t tramp_build(unsigned char *b, uint64_t at, const unsigned char *win, size_t wlen,
			  uint64_t sys)
{
	uint64_t entry = VDSO_BASE + VDSO_SYS_ENTRY_OFF, done, v;
	size_t n = 0;
	int32_t rel;

	memcpy(b, win, wlen);
	n = wlen;
	b[n++] = 0x49; b[n++] = 0xbb;			/* movabs $entry, %r11 */
	memcpy(b + n, &entry, 8);
	n += 8;
	done = at + n + 7 + 3;
	b[n++] = 0x48; b[n++] = 0x8d; b[n++] = 0x0d;	/* lea done(%rip), %rcx */
	rel = (int32_t)(done - (at + n + 4));
	memcpy(b + n, &rel, 4);
	n += 4;
	b[n++] = 0x41; b[n++] = 0xff; b[n++] = 0xe3;	/* jmp *%r11 */
	v = sys + 2;
	b[n++] = 0x48; b[n++] = 0xb9;			/* done: movabs $sys+2, %rcx */
	memcpy(b + n, &v, 8);
	n += 8;
	b[n++] = 0xe9;					/* jmp sys+2 */
	rel = (int32_t)(sys + 2 - (at + n + 4));
	memcpy(b + n, &rel, 4);
	n += 4;
	b[n++] = 0xe9;					/* slow: jmp sys */
	rel = (int32_t)(sys - (at + n + 4));
	memcpy(b + n, &rel, 4);
	n += 4;
	return n;
}

int vdso_patch(struct session *s, struct thread *t)
{
	unsigned char code[PATCH_MAX], live[PATCH_MAX], tramp[PATCH_MAX + 64], jmp[PATCH_MAX];
	uint64_t entry = 0, sys = 0, starts[PATCH_MAX], q, page = 0, addr;
	struct gobin_loc loc;
	size_t i, k, nstarts = 0, size, left;
	const uint8_t *p;
	cs_insn *in;
	int err = 0;
	int32_t rel;

	if (!s->have_bin || !s->cs_detail_open)
		return -ENOENT;
	for (i = 0; i < sizeof(syscall6_names) / sizeof(syscall6_names[0]) && !entry; i++)
		entry = gobin_func_entry(&s->bin, syscall6_names[i]);
	if (!entry || gobin_pc_lookup(&s->bin, entry, &loc) || loc.end <= entry)
		return -ENOENT;
	size = loc.end - entry < PATCH_MAX ? loc.end - entry : PATCH_MAX;
	/* The process runs the binary (a child may exec another). */
	if (gobin_read_vaddr(&s->bin, entry, code, size) || mem_read(t->tid, entry, live, size) ||
	    memcmp(code, live, size))
		return -ENOENT;
	/* Up to the SYSCALL: plain instructions, none RIP-relative, none a
	 * branch (in Syscall6 they are the register moves of the ABI). */
	in = cs_malloc(s->cs_detail);
	p = code;
	left = size;
	addr = entry;
	while (!sys && left && cs_disasm_iter(s->cs_detail, &p, &left, &addr, in)) {
		const cs_x86 *x = &in->detail->x86;

		if (in->id == X86_INS_SYSCALL) {
			sys = in->address;
			break;
		}
		starts[nstarts++] = in->address;
		for (k = 0; k < in->detail->groups_count; k++)
			if (in->detail->groups[k] != X86_GRP_MODE64)
				err = -ENOTSUP;	/* a jump, a call... */
		for (k = 0; k < x->op_count; k++)
			if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RIP)
				err = -ENOTSUP;
	}
	cs_free(in, 1);
	if (!sys || err)
		return err ? err : -ENOTSUP;
	/* The window: the last instructions before the SYSCALL, 5 bytes or
	 * more for the JMP.  Nothing jumps into it: the function's one
	 * branch comes after its SYSCALL (checked: none before it above;
	 * Syscall6 is a leaf no other code enters but at its entry). */
	for (k = nstarts; k > 0 && sys - starts[k - 1] < 5; k--)
		;
	if (!k)
		return -ENOTSUP;
	q = starts[k - 1];
	if (s->vdso_tramp) {
		char sig[8];

		if (mem_read(t->tid, s->vdso_tramp + VDSO_PAGE - 8, sig, sizeof(sig)) == 0 &&
		    !memcmp(sig, TRAMP_SIG, 8))
			page = s->vdso_tramp;
	}
	if (!page) {
		struct user_regs_struct regs;

		/* The mmap is made from the exec stop's rip, as vdso_map's. */
		if ((err = pt_getregs(t->tid, &regs)) ||
		    (err = condbp_near_page(s, t, regs.rip, q, TRAMP_SIG, 1, &page)))
			return err;
	}
	size = tramp_build(tramp, page, code + (q - entry), sys - q, sys);
	if ((err = bp_code_write(s, t, page, tramp, size)))
		return err;
	memset(jmp, 0x90, sys - q);	/* nop: nothing runs them */
	jmp[0] = 0xe9;
	rel = (int32_t)(page - (q + 5));
	memcpy(jmp + 1, &rel, 4);
	if ((err = bp_code_write(s, t, q, jmp, sys - q)))
		return err;
	s->vdso_tramp = page;
	s->vdso_site = sys;
	return 0;
}

/* The thread whose reads and buffered calls t's process's rings hold,
 * when gorr may take them now: t, if its last resume let it run the
 * program's code (thread.ran_user: not only PTRACE_CONT, also
 * PTRACE_SYSCALL from a signal's stop, which runs the handler and on to
 * the next call: 1 of 3 recordings of math/big's tests had reads after
 * the event they came before); only one thread runs the program's code
 * at a time.  NULL otherwise: no thread did since the last drain (t
 * comes back from a call: half of an HTTP server's stops), or the one
 * that does runs on while t stopped (t slept in the kernel meanwhile:
 * sched.c release_blocked), and is writing to the rings: taking them
 * then raced with its writes (net/http's tests: 3 of 3 replays diverged
 * once calls were buffered); its own next stop takes them, and replay
 * holds a read or call that comes before the trace has it (replay.c
 * vclock_answer, vsys_answer). */
static struct thread *clock_reader(struct session *s, struct thread *t)
{
	(void)s;
	return t->ran_user ? t : NULL;
}

int vdso_logs_reads(const struct session *s)
{
	return s->opts.fast_clock == VDSO_RECORD || s->opts.fast_clock == VDSO_VIRTUAL;
}

int vdso_buffers_calls(int fast_sys)
{
	return fast_sys == VDSO_RECORD || fast_sys == VDSO_VIRTUAL;
}

int vdso_inside(struct session *s, struct thread *t)
{
	struct user_regs_struct regs;

	return vdso_logs_reads(s) && pt_getregs(t->tid, &regs) == 0 && vdso_holds(s, regs.rip);
}

void vdso_sync_clock(struct session *s, struct thread *t, int64_t limit)
{
	int64_t v[3];

	if (s->opts.fast_clock != VDSO_VIRTUAL ||
	    (t->tgid == s->vnow_tgid && s->vclock == s->vnow_val && limit == s->vnow_limit))
		return;
	v[0] = s->vclock;
	v[1] = s->vclock_realtime_base;
	v[2] = limit;
	if (mem_write(t->tid, vdso_page_addr() + VDSO_VNOW_OFF, v, sizeof(v)) == 0) {
		s->vnow_tgid = t->tgid;
		s->vnow_val = s->vclock;
		s->vnow_limit = limit;
	}
}

/* seq a comes before seq b (the counter wraps) */
static int seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void vdso_drain(struct session *s, struct thread *t)
{
	struct vdso_ent ent[VDSO_RING];
	unsigned char *sys = NULL;
	struct thread *by;
	uint32_t n = 0, i = 0, len = 0, off = 0, calls = 0;
	int err;

	if (!vdso_logs_reads(s) || !s->ops->vclock || !(by = clock_reader(s, t)))
		return;
	if (vdso_buffers_calls(s->opts.fast_sys))
		sys = s->vdso_sysbuf ? s->vdso_sysbuf : (s->vdso_sysbuf = xmalloc(VDSO_SYSRING));
	err = vdso_take(t, ent, &n, sys, &len);
	if (err && err != -ESRCH)
		warning("cannot read process %d's clock reads and buffered calls: %s",
			(int)t->tgid, strerror(-err));
	/* The two rings in the order the program wrote them. */
	while (i < n || off < len) {
		const struct vdso_sysrec *rec = off < len ? (const void *)(sys + off) : NULL;

		if (rec && (rec->size < sizeof(*rec) || rec->size > len - off)) {
			warning("process %d's syscall buffer is damaged at byte %u",
				(int)t->tgid, off);
			len = off;
			continue;
		}
		if (i < n && (!rec || seq_before(ent[i].seq, rec->seq))) {
			s->ops->vclock(s, by, &ent[i++]);
			continue;
		}
		if (s->ops->vsyscall)
			s->ops->vsyscall(s, by, rec);
		off += rec->size;
		calls++;
	}
	/* Its page's clock went on 1 us a read and a buffered call, as
	 * session.vclock did for each taken (sched_vclock_read,
	 * sched_note_buffered): still in step. */
	if (s->opts.fast_clock == VDSO_VIRTUAL && n + calls && t->tgid == s->vnow_tgid)
		s->vnow_val += 1000 * (int64_t)(n + calls);
}

/* The header and the first entries in one read: most stops find a few. */
#define TAKE_FIRST 4

int vdso_take(struct thread *t, struct vdso_ent *ent, uint32_t *n, unsigned char *sys,
	      uint32_t *sys_len)
{
	struct {
		uint32_t magic, mode, head, fill, seq, sys_mode, sys_head, sys_busy, sys_fill, pad[7];
		struct vdso_ent ent[TAKE_FIRST];
	} first, *p = &first;
	uint32_t head, sys_head;
	int err;

	_Static_assert(offsetof(typeof(first), ent) == offsetof(struct vdso_page, ent),
		       "the page's header");
	_Static_assert(offsetof(typeof(first), sys_head) == offsetof(struct vdso_page, sys_head),
		       "the page's header");
	*n = 0;
	*sys_len = 0;
	if (mem_read(t->tid, vdso_page_addr(), &first, sizeof(first)) || p->magic != VDSO_MAGIC)
		return 0;	/* no page: the mapping failed, or not ours */
	head = p->head;
	sys_head = sys ? p->sys_head : 0;
	if (!head && !sys_head)
		return 0;
	if (head > VDSO_RING || sys_head > VDSO_SYSRING)
		return -EPROTO;
	memcpy(ent, p->ent, (head < TAKE_FIRST ? head : TAKE_FIRST) * sizeof(*ent));
	if (head > TAKE_FIRST &&
	    (err = mem_read(t->tid, vdso_page_addr() + offsetof(struct vdso_page, ent) +
			    TAKE_FIRST * sizeof(*ent), ent + TAKE_FIRST,
			    (head - TAKE_FIRST) * sizeof(*ent))))
		return err;
	if (sys_head && (err = mem_read(t->tid, vdso_page_addr() + VDSO_SYSRING_OFF, sys, sys_head)))
		return err;
	/* Both heads back to 0 in one write: head to sys_head. */
	p->head = 0;
	p->sys_head = 0;
	if ((err = mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, head), &p->head,
			     offsetof(struct vdso_page, sys_busy) - offsetof(struct vdso_page, head))))
		return err;
	*n = head;
	*sys_len = sys_head;
	return 0;
}

int vdso_fd_allow(struct thread *t, int fd, unsigned int bits)
{
	uint8_t b = (uint8_t)bits;

	if (fd < 0 || fd >= VDSO_FD_MAX)
		return -ERANGE;
	return mem_write(t->tid, vdso_page_addr() + VDSO_CONF_OFF +
			 offsetof(struct vdso_sysconf, fd) + (unsigned)fd, &b, 1);
}

int vdso_fd_forget(struct thread *t, int lo, int hi)
{
	static const uint8_t zero[VDSO_FD_MAX];

	if (lo < 0)
		lo = 0;
	if (hi >= VDSO_FD_MAX)
		hi = VDSO_FD_MAX - 1;
	if (lo > hi)
		return 0;
	return mem_write(t->tid, vdso_page_addr() + VDSO_CONF_OFF +
			 offsetof(struct vdso_sysconf, fd) + (unsigned)lo, zero,
			 (size_t)(hi - lo + 1));
}

int vdso_used(struct thread *t, uint32_t given, uint32_t *used)
{
	uint32_t hf[2];
	int err;

	*used = 0;
	if ((err = mem_read(t->tid, vdso_page_addr() + offsetof(struct vdso_page, head), hf,
			    sizeof(hf))))
		return err;
	if (hf[0] > given)
		return -EPROTO;
	*used = hf[0];
	hf[1] = hf[0];		/* fill = head: what is left is withdrawn */
	return mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, fill), &hf[1],
			 sizeof(hf[1]));
}

int vdso_give(struct thread *t, const struct vdso_ent *ent, uint32_t n)
{
	uint32_t hf[2] = { 0, n };
	int err;

	if (n > VDSO_RING)
		return -E2BIG;
	if (n && (err = mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, ent), ent,
				  n * sizeof(*ent))))
		return err;
	return mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, head), hf,
			 sizeof(hf));
}

int vdso_sys_used(struct thread *t, uint32_t given, uint32_t *used)
{
	uint32_t head;
	int err;

	*used = 0;
	if ((err = mem_read(t->tid, vdso_page_addr() + offsetof(struct vdso_page, sys_head), &head,
			    sizeof(head))))
		return err;
	if (head > given)
		return -EPROTO;
	*used = head;
	/* sys_fill = sys_head: what is left is withdrawn */
	return mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, sys_fill), &head,
			 sizeof(head));
}

int vdso_sys_give(struct thread *t, const unsigned char *recs, uint32_t len)
{
	uint32_t zero = 0;
	int err;

	if (len > VDSO_SYSRING)
		return -E2BIG;
	if (len && (err = mem_write(t->tid, vdso_page_addr() + VDSO_SYSRING_OFF, recs, len)))
		return err;
	/* sys_head, then sys_fill (sys_busy between them stays 0: no
	 * thread is in the buffer's code at a stop) */
	if ((err = mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, sys_head), &zero,
			     sizeof(zero))))
		return err;
	return mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, sys_fill), &len,
			 sizeof(len));
}

size_t vdso_out_bytes(const struct vdso_ent *e, unsigned char buf[16])
{
	if (!e->ptr || e->ret < 0)
		return 0;
	return sc_clock_out(sc_lookup(e->nr), e->sec, e->nsec, buf);
}
