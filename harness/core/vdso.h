/* gorr's vDSO (harness/vdso/image.c): mapped into each process at exec
 * in place of the kernel's, it answers clock reads without a ptrace
 * stop, logging them in a page gorr reads at its stops (record) or
 * answering them from what gorr put there (replay).  This is the
 * mechanism: mapping the image, the filter's exception for its one
 * SYSCALL, and the page's ring; the policies decide what the reads
 * mean (docs/ARCHITECTURE.md, "Clock reads without stops"). */
#ifndef GORR_CORE_VDSO_H
#define GORR_CORE_VDSO_H

#include "harness/core/state.h"
#include "harness/vdso/page.h"

/* The address of the page, and of the image's two SYSCALL sites' next
 * instructions: the one the filter lets through (record), the one that
 * stops as any call. */
uint64_t vdso_page_addr(void);
uint64_t vdso_fast_pc(void);
uint64_t vdso_slow_pc(void);
/* Whether pc lies in the image's code. */
int vdso_holds(uint64_t pc);

/* At t's exec stop: map the image and its page at VDSO_BASE, in mode
 * (enum vdso_mode).  0 and the image's address in *ehdr (for
 * AT_SYSINFO_EHDR), or a negative errno (-EEXIST: something is there
 * already; the program then has no vDSO, as without this). */
int vdso_map(struct session *s, struct thread *t, int mode, uint64_t *ehdr);

/* The filter bpf[0, *len) with, in front, the exception for the image's
 * clock_gettime: a new array (xmalloc) in *out. */
int vdso_filter(const struct sock_filter *bpf, unsigned short len, struct sock_filter **out,
		unsigned short *out_len);

/* Record: the reads logged in t's process since the last call, in
 * order, into ent[0, *n) (at most VDSO_RING); the ring is emptied.
 * 0 (n 0 when the process has no page), or a negative errno. */
int vdso_take(struct thread *t, struct vdso_ent *ent, uint32_t *n);

/* Record: the reads logged in t's process since its last drain go to
 * the policy (engine_ops.vclock), in order, as the reads of the one
 * thread that ran the program's code meanwhile.  At every stop, before
 * its events, and before an event written after gorr stepped the
 * thread on (a timeslice's end, a forced GC's safe point): those steps
 * can make reads too. */
void vdso_drain(struct session *s, struct thread *t);

/* Replay: how many of the entries last put in t's process's ring were
 * used (*used), after which the unused ones are withdrawn; then
 * vdso_give puts ent[0, n) there (n <= VDSO_RING). */
int vdso_used(struct thread *t, uint32_t given, uint32_t *used);
int vdso_give(struct thread *t, const struct vdso_ent *ent, uint32_t n);

/* The memory a read writes in the program, as the call would have:
 * buf gets the bytes for ent's ptr; their length, 0 for none. */
size_t vdso_out_bytes(const struct vdso_ent *ent, unsigned char buf[16]);

#endif
