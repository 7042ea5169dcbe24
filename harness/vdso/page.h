/* The page gorr's vDSO (harness/vdso/image.c) shares with gorr: one
 * page right after the image, private to each process (a fork copies
 * it), read and written by gorr through the process's memory at its
 * stops.  Only one thread of a traced program runs at a time (the
 * scheduler's token), so neither side needs atomics: the program writes
 * while a thread runs, gorr only while all are stopped
 * (docs/ARCHITECTURE.md, "Clock reads without stops"). */
#ifndef GORR_VDSO_PAGE_H
#define GORR_VDSO_PAGE_H

#include <stdint.h>

#define VDSO_MAGIC 0x6b6c6367u	/* "gclk" */
#define VDSO_PAGE 4096

/* Where the image goes in every process: high, beside where the
 * kernel's own vDSO lies without ASLR (0x7ffff7fc1000), so that the
 * race detector's fixed memory layout takes it as program memory, and
 * 4 GB below the mmap base that the kernel's allocator grows down from. */
#define VDSO_BASE 0x7fff00000000ull

enum vdso_mode {
	VDSO_SLOW = 0,		/* every read is a syscall that stops */
	VDSO_RECORD = 1,	/* real reads, logged in the ring */
	VDSO_REPLAY = 2,	/* reads answered from the ring */
	/* gorr run: reads answered from the virtual clock in the header
	 * (vnow, set by gorr before a thread runs; 1 us more per read, as
	 * a completed call moves it) and logged in the ring as record's;
	 * as sys_mode: calls made and logged as record's, each moving vnow
	 * 1 us, none once vnow reaches vlimit */
	VDSO_VIRTUAL = 3,
};

/* One clock read: clock_gettime(clk, ptr), gettimeofday(ptr, ...) or
 * time(ptr), by nr (the syscall's number).  seq orders it among the
 * calls of the syscall ring (record). */
struct vdso_ent {
	int32_t nr;
	int32_t clk;
	int64_t ret;
	uint64_t ptr;
	int64_t sec;
	int64_t nsec;
	uint32_t seq;
	uint32_t pad;
};

/* The header and the clock ring: 16 pages, 1364 reads (pingpong's
 * 89,000 reads made 1,058 stops for a full ring of 84 in one page). */
#define VDSO_CLOCK_AREA 65536
#define VDSO_RING ((VDSO_CLOCK_AREA - 64) / sizeof(struct vdso_ent))

struct vdso_page {
	uint32_t magic;
	uint32_t mode;		/* enum vdso_mode */
	/* record: entries written (the program), reset to 0 by gorr when
	 * it has taken them; replay: entries used (the program). */
	uint32_t head;
	/* replay: entries gorr put in the ring */
	uint32_t fill;
	/* record: the next clock read's or buffered call's number, so that
	 * gorr can put the two rings' entries back in one order. */
	uint32_t seq;
	uint32_t sys_mode;	/* enum vdso_mode, for the syscall buffer */
	/* bytes of the syscall ring written (record), or used (replay) */
	uint32_t sys_head;
	uint32_t sys_busy;	/* a thread is in the buffered call's code */
	uint32_t sys_fill;	/* replay: bytes gorr put in the syscall ring */
	uint32_t pad0;
	int64_t vnow;		/* virtual: CLOCK_MONOTONIC's next answer (ns) */
	int64_t vreal;		/* virtual: CLOCK_REALTIME minus CLOCK_MONOTONIC */
	/* virtual: from this vnow on a read stops, where the scheduler sees
	 * the thread's timeslice spent, as every read's stop let it */
	int64_t vlimit;
	struct vdso_ent ent[VDSO_RING];
};

/* The syscall buffer (issue 14, item 3; docs/ARCHITECTURE.md, "Calls
 * without stops"): Go's one syscall function (Syscall6 in
 * runtime/internal/syscall, internal/runtime/syscall[/linux]) jumps to
 * the image, which makes calls that cannot block without a stop and logs
 * them in a ring of records, as rr's syscall buffer does.  What may go
 * that way is gorr's to say, in the page after the header: a shape per
 * call number, a permission per fd. */
#define VDSO_NR_MAX 512
#define VDSO_FD_MAX 3072

enum vdso_shape {
	VS_NO = 0,	/* stops */
	VS_IN,		/* inputs only (write, sendto): fd writable without blocking */
	VS_OBUF,	/* argument 1 gets the result's bytes (read, pread64) */
	VS_RECVFROM,	/* as VS_OBUF, and a sockaddr at 4 with its length at 5 */
	VS_EPOLL,	/* epoll_wait/epoll_pwait with a zero timeout (argument 3) */
};

#define VDSO_FD_READ 1		/* non-blocking: its reads never block */
#define VDSO_FD_WRITE 2		/* ...and its writes neither, nor are they gorr's stdout */

struct vdso_sysconf {
	uint8_t shape[VDSO_NR_MAX];	/* enum vdso_shape */
	uint8_t fd[VDSO_FD_MAX];	/* VDSO_FD_* */
};

/* A buffered call, in the ring: this header, then nout times a struct
 * vdso_sysout and its len bytes padded to 8. */
struct vdso_sysrec {
	uint32_t size;		/* of the whole record, a multiple of 8 */
	uint32_t seq;
	int32_t nr;
	uint32_t nout;
	uint64_t pc;		/* after the program's SYSCALL */
	int64_t ret;
	uint64_t args[6];
};

struct vdso_sysout {
	uint64_t addr;
	uint64_t len;
};

/* After the image: the header and the clock ring, the conf page, the
 * syscall ring (256 KiB), the buffered calls' stack (16 KiB).  Plain
 * numbers: the image's assembly uses them. */
#define VDSO_CONF_OFF 65536
#define VDSO_SYSRING_OFF 69632
#define VDSO_SYSRING 262144
#define VDSO_STACK_OFF 331776
#define VDSO_STACK 16384
#define VDSO_DATA_SIZE 348160
#define SYS_BUSY_OFF 28		/* offsetof(struct vdso_page, sys_busy) */
#define VDSO_VNOW_OFF 40	/* offsetof(struct vdso_page, vnow) */

_Static_assert(VDSO_STACK_OFF == VDSO_SYSRING_OFF + VDSO_SYSRING, "the page's layout");
_Static_assert(VDSO_DATA_SIZE == VDSO_STACK_OFF + VDSO_STACK, "the page's layout");
_Static_assert(sizeof(struct vdso_sysconf) <= VDSO_PAGE, "the conf page");
_Static_assert(__builtin_offsetof(struct vdso_page, sys_busy) == SYS_BUSY_OFF, "sys_busy");
_Static_assert(__builtin_offsetof(struct vdso_page, ent) == 64, "the page's header");
_Static_assert(__builtin_offsetof(struct vdso_page, vnow) == VDSO_VNOW_OFF, "vnow");
_Static_assert(sizeof(struct vdso_page) <= VDSO_CONF_OFF, "the header and the clock ring");
_Static_assert(VDSO_SYSRING_OFF == VDSO_CONF_OFF + VDSO_PAGE, "the page's layout");

#endif
