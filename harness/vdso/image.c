/* gorr's vDSO: the image gorr maps into each process at exec in place of
 * the kernel's (harness/core/vdso.c), with the functions Go's runtime
 * (runtime/vdso_linux_amd64.go: __vdso_clock_gettime and
 * __vdso_gettimeofday, version LINUX_2.6) and glibc
 * (sysdeps/unix/sysv/linux/x86_64/sysdep.h) look up.  They read the
 * clock without a ptrace stop:
 *  - record: the real call, from the one SYSCALL instruction the
 *    seccomp filter lets through (harness/session.c), and the result
 *    logged in the shared page's ring for gorr to write to the trace at
 *    its next stop;
 *  - replay: the recorded result, from the ring gorr filled;
 *  - otherwise, or when the ring is full or empty: the ordinary call,
 *    which stops as it does without this image.
 *
 * Built freestanding, position-independent and without relocations
 * (the image is copied, not loaded: GNUmakefile checks that it has
 * none).  Go calls the vDSO on the g0 stack with little room and no
 * TLS of its own: these use a few dozen bytes of stack and no TLS. */
#include <stddef.h>
#include "harness/vdso/page.h"

struct kts {
	int64_t sec, nsec;
};

struct ktv {
	int64_t sec, usec;
};

/* The page after the image (image.lds). */
extern struct vdso_page gorr_vdso_page __attribute__((visibility("hidden")));

long gorr_vdso_fast(long nr, long a, long b) __attribute__((visibility("hidden")));
long gorr_vdso_slow(long nr, long a, long b) __attribute__((visibility("hidden")));

/* Two SYSCALL sites: the filter lets the first one's clock_gettime
 * through by its address (gorr_vdso_fast_ret, read by GNUmakefile into
 * vdso_syms.h); the second stops like any call of the program's. */
__asm__(".text\n"
	".globl gorr_vdso_fast\n.hidden gorr_vdso_fast\n.type gorr_vdso_fast,@function\n"
	"gorr_vdso_fast:\n"
	"	mov %rdi, %rax\n	mov %rsi, %rdi\n	mov %rdx, %rsi\n"
	"	syscall\n"
	".globl gorr_vdso_fast_ret\n.hidden gorr_vdso_fast_ret\n"
	"gorr_vdso_fast_ret:\n"
	"	ret\n"
	".size gorr_vdso_fast, .-gorr_vdso_fast\n"
	".globl gorr_vdso_slow\n.hidden gorr_vdso_slow\n.type gorr_vdso_slow,@function\n"
	"gorr_vdso_slow:\n"
	"	mov %rdi, %rax\n	mov %rsi, %rdi\n	mov %rdx, %rsi\n"
	"	syscall\n"
	".globl gorr_vdso_slow_ret\n.hidden gorr_vdso_slow_ret\n"
	"gorr_vdso_slow_ret:\n"
	"	ret\n"
	".size gorr_vdso_slow, .-gorr_vdso_slow\n");

#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define CLOCK_REALTIME 0

/* One read for the call nr made with ptr: 0 with *out set, or what the
 * clock_gettime syscall returned (a negative errno); -1000 when the
 * ring cannot answer and the caller makes the ordinary call. */
static long read_clock(int nr, int clk, uint64_t ptr, struct kts *out)
{
	struct vdso_page *p = &gorr_vdso_page;
	struct vdso_ent *e;
	long r;

	if (p->magic != VDSO_MAGIC)
		return -1000;
	if (p->mode == VDSO_RECORD) {
		if (p->head >= VDSO_RING)
			return -1000;	/* full: this call stops, gorr empties it */
		r = gorr_vdso_fast(NR_clock_gettime, clk, (long)out);
		e = &p->ent[p->head];
		e->nr = nr;
		e->clk = clk;
		e->ret = r;
		e->ptr = ptr;
		e->sec = out->sec;
		e->nsec = out->nsec;
		e->seq = p->seq++;
		p->head++;
		return r;
	}
	if (p->mode == VDSO_VIRTUAL) {
		int64_t v;

		/* full, or the timeslice spent: this call stops */
		if (p->head >= VDSO_RING || p->vnow >= p->vlimit)
			return -1000;
		switch (clk) {	/* as harness/sched/virt.c emulate_clock */
		case 0: case 5: case 8: case 11:	/* REALTIME, _COARSE, _ALARM, TAI */
			v = p->vnow + p->vreal;
			break;
		case 1: case 4: case 6: case 7: case 9:	/* MONOTONIC, _RAW, _COARSE, BOOTTIME, _ALARM */
			v = p->vnow;
			break;
		default:
			return -1000;	/* a CPU clock: gorr answers at the stop */
		}
		p->vnow += 1000;
		out->sec = v / 1000000000;
		out->nsec = v % 1000000000;
		e = &p->ent[p->head];
		e->nr = nr;
		e->clk = clk;
		e->ret = 0;
		e->ptr = ptr;
		e->sec = out->sec;
		e->nsec = out->nsec;
		e->seq = p->seq++;
		p->head++;
		return 0;
	}
	if (p->mode == VDSO_REPLAY) {
		if (p->head >= p->fill)
			return -1000;	/* the replay stops at the call and says so */
		e = &p->ent[p->head];
		if (e->nr != nr || e->clk != clk)
			return -1000;
		p->head++;
		out->sec = e->sec;
		out->nsec = e->nsec;
		return e->ret;
	}
	return -1000;
}

/* The implementations; the exported entries (below) call them. */
int impl_clock_gettime(int clk, struct kts *ts) __attribute__((visibility("hidden")));
int impl_gettimeofday(struct ktv *tv, void *tz) __attribute__((visibility("hidden")));
long impl_time(long *t) __attribute__((visibility("hidden")));

int impl_clock_gettime(int clk, struct kts *ts)
{
	struct kts k = { 0, 0 };
	long r = read_clock(NR_clock_gettime, clk, (uint64_t)(uintptr_t)ts, &k);

	if (r == -1000)
		return (int)gorr_vdso_slow(NR_clock_gettime, clk, (long)ts);
	if (r == 0)
		*ts = k;
	return (int)r;
}

int impl_gettimeofday(struct ktv *tv, void *tz)
{
	struct kts k = { 0, 0 };
	long r;

	if (tz)		/* the kernel's sys_tz: nobody sets it now */
		return (int)gorr_vdso_slow(NR_gettimeofday, (long)tv, (long)tz);
	r = read_clock(NR_gettimeofday, CLOCK_REALTIME, (uint64_t)(uintptr_t)tv, &k);
	if (r == -1000)
		return (int)gorr_vdso_slow(NR_gettimeofday, (long)tv, 0);
	if (r == 0 && tv) {
		tv->sec = k.sec;
		tv->usec = k.nsec / 1000;
	}
	return (int)r;
}

long impl_time(long *t)
{
	struct kts k = { 0, 0 };
	long r = read_clock(NR_time, CLOCK_REALTIME, (uint64_t)(uintptr_t)t, &k);

	if (r == -1000)
		return gorr_vdso_slow(NR_time, (long)t, 0);
	if (r < 0)
		return r;
	if (t)
		*t = k.sec;
	return k.sec;
}

/* Each entry leaves the same registers whichever path it took: the
 * record path's SYSCALL sets rcx and r11, the replay path does not, and
 * replay finds where a timeslice ended by the registers, which may be
 * right after a read (replayer/replay.c regs_match).  So every
 * call-clobbered register but rax is zeroed, and the flags with them. */
#define ENTRY(name, impl)						\
	".globl " #name "\n.type " #name ",@function\n"		\
	#name ":\n"							\
	"	sub $8, %rsp\n"					\
	"	call " #impl "\n"					\
	"	add $8, %rsp\n"					\
	"	xor %ecx, %ecx\n	xor %edx, %edx\n"		\
	"	xor %esi, %esi\n	xor %edi, %edi\n"		\
	"	xor %r8d, %r8d\n	xor %r9d, %r9d\n"		\
	"	xor %r10d, %r10d\n	xor %r11d, %r11d\n"		\
	"	ret\n"							\
	".size " #name ", .-" #name "\n"

__asm__(".text\n"
	ENTRY(__vdso_clock_gettime, impl_clock_gettime)
	ENTRY(__vdso_gettimeofday, impl_gettimeofday)
	ENTRY(__vdso_time, impl_time)
	".weak clock_gettime\n.set clock_gettime, __vdso_clock_gettime\n"
	".weak gettimeofday\n.set gettimeofday, __vdso_gettimeofday\n"
	".weak time\n.set time, __vdso_time\n");

/* The syscall buffer (page.h): Go's Syscall6 jumps here from a
 * trampoline gorr wrote (harness/core/vdso.c vdso_patch), with the
 * call's registers as SYSCALL takes them and in rcx the trampoline's
 * "done" place: at done, a movabs of the program's return address into
 * rcx and a JMP there; 15 bytes on, a JMP back to the program's own
 * SYSCALL, which stops as it always did.  The code runs on a stack of
 * its own in the page (Go's goroutine stacks have little room below a
 * NOSPLIT function: runtime/stack.go StackNosplit) and leaves every
 * register as the kernel's SYSCALL would: rax the result, rcx the
 * return address, r11 the flags (kflags below), the rest as they were; so a call made
 * here and the same call made with a stop are alike to anything that
 * reads the registers afterwards (replay's search for a timeslice's
 * end).  Only one thread runs the program at a time (gorr's scheduler),
 * so one stack serves the process; sys_busy guards it all the same,
 * without touching the flags (xchg, jrcxz), against a signal handler
 * that would come in while it is used. */
struct sysregs {
	uint64_t rax, rdi, rsi, rdx, r10, r8, r9, rcx;
	uint64_t saved;		/* lahf's AH and seto's AL at entry */
	uint64_t kflags;	/* r11 as the kernel's SYSCALL would leave it */
	uint64_t rsp;
};

long gorr_vdso_sys(long nr, const uint64_t *a) __attribute__((visibility("hidden")));
int impl_sys(struct sysregs *r) __attribute__((visibility("hidden")));

#define STR_(x) #x
#define STR(x) STR_(x)
#define DONE_TO_SLOW 15		/* movabs imm64, %rcx; jmp rel32 */

/* The flags are kept by lahf/seto and given back by sahf and an add that
 * overflows when OF was set (as DynamoRIO does), not by pushf/popf: when
 * gorr steps a thread through here (a signal or a timeslice's end inside:
 * harness/core/vdso.c vdso_leave), pushf would save the step's TF and
 * popf set it again, and the kernel then takes TF for the program's own
 * (arch/x86/kernel/step.c is_setting_trap_flag) and leaves it set: the
 * program died of a SIGTRAP. */
__asm__(".text\n"
	".globl gorr_vdso_sys\n.hidden gorr_vdso_sys\n.type gorr_vdso_sys,@function\n"
	"gorr_vdso_sys:\n"
	"	mov %rdi, %rax\n	mov 40(%rsi), %r9\n	mov 32(%rsi), %r8\n"
	"	mov 24(%rsi), %r10\n	mov 16(%rsi), %rdx\n	mov (%rsi), %rdi\n"
	"	mov 8(%rsi), %rsi\n"
	"	syscall\n"
	".globl gorr_vdso_sys_ret\n.hidden gorr_vdso_sys_ret\n"
	"gorr_vdso_sys_ret:\n"
	"	ret\n"
	".size gorr_vdso_sys, .-gorr_vdso_sys\n"
	".globl gorr_vdso_sys_entry\n.hidden gorr_vdso_sys_entry\n.type gorr_vdso_sys_entry,@function\n"
	"gorr_vdso_sys_entry:\n"
	"	mov $1, %r11d\n"
	"	xchg %r11d, gorr_vdso_page+" STR(SYS_BUSY_OFF) "(%rip)\n"
	"	xchg %r11, %rcx\n"
	"	jrcxz 2f\n"
	"	lea " STR(DONE_TO_SLOW) "(%r11), %rcx\n"	/* in use: the stop */
	"	jmp *%rcx\n"
	"2:	mov %r11, %rcx\n"
	"	mov %rsp, %r11\n"
	"	lea gorr_vdso_page+" STR(VDSO_DATA_SIZE) "(%rip), %rsp\n"
	"	push %r11\n	push $0\n	push $0\n	push %rcx\n	push %r9\n"
	"	push %r8\n	push %r10\n	push %rdx\n	push %rsi\n	push %rdi\n"
	"	push %rax\n"
	"	lahf\n	seto %al\n"
	"	mov %ax, 64(%rsp)\n"
	"	mov %rsp, %rdi\n"
	"	sub $8, %rsp\n"		/* 16-byte aligned at the call */
	"	call impl_sys\n"
	"	add $8, %rsp\n"
	"	test %eax, %eax\n"
	"	jnz 3f\n"
	"	addq $" STR(DONE_TO_SLOW) ", 56(%rsp)\n"
	"3:	mov 64(%rsp), %ax\n"
	"	add $0x7f, %al\n"
	"	sahf\n"
	"	mov 72(%rsp), %r11\n"
	"	pop %rax\n	pop %rdi\n	pop %rsi\n	pop %rdx\n	pop %r10\n"
	"	pop %r8\n	pop %r9\n	pop %rcx\n"
	"	mov 16(%rsp), %rsp\n"
	"	movl $0, gorr_vdso_page+" STR(SYS_BUSY_OFF) "(%rip)\n"
	"	jmp *%rcx\n"
	".size gorr_vdso_sys_entry, .-gorr_vdso_sys_entry\n");

static void copy(void *d, const void *s, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* The data after the header page: the compiler, which sees one struct
 * vdso_page, is not to judge offsets past it. */
static unsigned char *data(unsigned long off)
{
	unsigned char *b = (unsigned char *)&gorr_vdso_page;

	__asm__("" : "+r"(b));
	return b + off;
}

static uint64_t pad8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

/* Replay: the next record gorr put in the ring answers the call when it
 * is this call (number, arguments, return address): its bytes are
 * written where the kernel wrote them, its result returned.  Else the
 * call stops, and replay answers it or says how it diverged. */
static int replay_sys(struct vdso_page *p, unsigned char *ring, struct sysregs *r, uint64_t nr,
		      const uint64_t a[6])
{
	const struct vdso_sysrec *rec;
	const unsigned char *q;
	uint32_t k;
	int i;

	if (p->sys_fill > VDSO_SYSRING || p->sys_head >= p->sys_fill ||
	    p->sys_fill - p->sys_head < sizeof(*rec))
		return 0;
	rec = (const struct vdso_sysrec *)(ring + p->sys_head);
	if (rec->size < sizeof(*rec) || rec->size > p->sys_fill - p->sys_head ||
	    rec->nr != (int32_t)nr || rec->pc != *(const uint64_t *)(uintptr_t)(r->rcx + 2))
		return 0;
	for (i = 0; i < 6; i++)
		if (rec->args[i] != a[i])
			return 0;
	q = (const unsigned char *)(rec + 1);
	for (k = 0; k < rec->nout; k++) {
		const struct vdso_sysout *o = (const struct vdso_sysout *)q;

		if ((uint64_t)(q - (const unsigned char *)rec) + sizeof(*o) + o->len > rec->size)
			return 0;
		q += sizeof(*o) + pad8(o->len);
	}
	q = (const unsigned char *)(rec + 1);
	for (k = 0; k < rec->nout; k++) {
		const struct vdso_sysout *o = (const struct vdso_sysout *)q;

		copy((void *)(uintptr_t)o->addr, o + 1, o->len);
		q += sizeof(*o) + pad8(o->len);
	}
	p->sys_head += rec->size;
	r->rax = (uint64_t)rec->ret;
	return 1;
}

/* 1 when the call was made here (r->rax its result), 0 when it stops. */
int impl_sys(struct sysregs *r)
{
	struct vdso_page *p = &gorr_vdso_page;
	const struct vdso_sysconf *c = (const void *)data(VDSO_CONF_OFF);
	unsigned char *ring = data(VDSO_SYSRING_OFF);
	uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	uint64_t nr = r->rax, need = sizeof(struct vdso_sysrec), size, len = 0;
	struct vdso_sysrec *rec;
	long fd = (long)a[0], ret;
	int shape;

	/* IF, bit 1, and the arithmetic flags lahf/seto saved (SF ZF AF PF
	 * CF, OF): what a Go program's flags hold at a call. */
	r->kflags = 0x202 | ((r->saved >> 8) & 0xd5) | ((r->saved & 0xff) ? 0x800 : 0);
	if (p->magic != VDSO_MAGIC)
		return 0;
	if (p->sys_mode == VDSO_REPLAY)
		return replay_sys(p, ring, r, nr, a);
	if ((p->sys_mode != VDSO_RECORD && p->sys_mode != VDSO_VIRTUAL) || nr >= VDSO_NR_MAX)
		return 0;
	/* gorr run: the timeslice spent, this call stops (as read_clock) */
	if (p->sys_mode == VDSO_VIRTUAL && p->vnow >= p->vlimit)
		return 0;
	shape = c->shape[nr];
	switch (shape) {
	case VS_EPOLL:
		if ((int)a[3] != 0)
			return 0;	/* it waits: the scheduler's */
		if (a[2] > VDSO_SYSRING / 12)
			return 0;
		need += sizeof(struct vdso_sysout) + pad8(a[2] * 12);
		break;
	case VS_RECVFROM:
		if (a[4])
			return 0;	/* an address: the kernel's to check */
		/* fallthrough */
	case VS_OBUF:
		if (a[2] > VDSO_SYSRING)
			return 0;
		need += sizeof(struct vdso_sysout) + pad8(a[2]);
		/* fallthrough */
	case VS_IN:
		if (fd < 0 || fd >= VDSO_FD_MAX ||
		    !(c->fd[fd] & (shape == VS_IN ? VDSO_FD_WRITE : VDSO_FD_READ)))
			return 0;
		break;
	default:
		return 0;
	}
	if (p->sys_head > VDSO_SYSRING || need > VDSO_SYSRING - p->sys_head)
		return 0;	/* full: this call stops, gorr empties it */
	ret = gorr_vdso_sys((long)nr, a);
	rec = (struct vdso_sysrec *)(ring + p->sys_head);
	size = sizeof(*rec);
	if (ret > 0 && shape != VS_IN) {
		struct vdso_sysout *o = (struct vdso_sysout *)(rec + 1);

		len = shape == VS_EPOLL ? (uint64_t)ret * 12 : (uint64_t)ret;
		o->addr = a[1];
		o->len = len;
		copy(o + 1, (const void *)(uintptr_t)a[1], len);
		size += sizeof(*o) + pad8(len);
	}
	rec->size = (uint32_t)size;
	rec->seq = p->seq++;
	rec->nr = (int32_t)nr;
	rec->nout = len ? 1 : 0;
	rec->pc = *(const uint64_t *)(uintptr_t)(r->rcx + 2);
	rec->ret = ret;
	copy(rec->args, a, sizeof(a));
	p->sys_head += (uint32_t)size;
	if (p->sys_mode == VDSO_VIRTUAL)
		p->vnow += 1000;	/* as a completed call's stop (sched_note_call) */
	r->rax = (uint64_t)ret;
	return 1;
}
