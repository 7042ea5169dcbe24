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
		p->head++;
		return r;
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
