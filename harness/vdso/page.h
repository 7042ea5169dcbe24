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
};

/* One clock read: clock_gettime(clk, ptr), gettimeofday(ptr, ...) or
 * time(ptr), by nr (the syscall's number). */
struct vdso_ent {
	int32_t nr;
	int32_t clk;
	int64_t ret;
	uint64_t ptr;
	int64_t sec;
	int64_t nsec;
};

#define VDSO_RING ((VDSO_PAGE - 64) / sizeof(struct vdso_ent))

struct vdso_page {
	uint32_t magic;
	uint32_t mode;		/* enum vdso_mode */
	/* record: entries written (the program), reset to 0 by gorr when
	 * it has taken them; replay: entries used (the program). */
	uint32_t head;
	/* replay: entries gorr put in the ring */
	uint32_t fill;
	uint32_t pad[12];
	struct vdso_ent ent[VDSO_RING];
};

#endif
