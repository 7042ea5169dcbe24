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
/* Whether pc lies in the image's code, or in the syscall buffer's
 * trampoline. */
int vdso_holds(const struct session *s, uint64_t pc);

/* t, stopped with regs in the image or its trampoline, steps on until
 * it is out (regs then its registers): 0; 1 when another stop came
 * instead of a step's (its wait status in *other: a call that stops, a
 * signal); a negative errno.  Nothing of the program's is to see gorr's
 * code at a stop: its path in record is not replay's. */
int vdso_leave(struct session *s, struct thread *t, struct user_regs_struct *regs, int *other);

/* At t's exec stop: map the image and its page at VDSO_BASE, in mode
 * (enum vdso_mode).  0 and the image's address in *ehdr (for
 * AT_SYSINFO_EHDR), or a negative errno (-EEXIST: something is there
 * already; the program then has no vDSO, as without this). */
int vdso_map(struct session *s, struct thread *t, int mode, uint64_t *ehdr);
/* VDSO_VIRTUAL (gorr run): before t runs, its process's page gets the
 * virtual clock (session.vclock and the realtime base), which its reads
 * answer and move on 1 us each, and limit, the clock from which a read
 * stops (t's timeslice spent); vdso_drain's reads then bring
 * session.vclock to the same place (the scheduler's accounting). */
void vdso_sync_clock(struct session *s, struct thread *t, int64_t limit);
/* Whether the image answers reads in the program and logs them in its
 * ring for gorr to take at its stops (VDSO_RECORD, VDSO_VIRTUAL): its
 * path there is not replay's, so no stop may end a slice inside it. */
int vdso_logs_reads(const struct session *s);
/* Whether the image makes Go's buffered calls itself and logs them
 * (fast_sys VDSO_RECORD, or VDSO_VIRTUAL under run), for gorr to take
 * at its stops; a mode of opts alone, so that the filter can ask it
 * before the session is up. */
int vdso_buffers_calls(int fast_sys);

/* The filter bpf[0, *len) with, in front, the exceptions for the image's
 * clock_gettime and, when fast_sys, for its buffered calls: a new array
 * (xmalloc) in *out. */
int vdso_filter(const struct sock_filter *bpf, unsigned short len, int fast_sys,
		struct sock_filter **out, unsigned short *out_len);

/* At t's exec stop, after vdso_map: send Go's syscall function
 * (Syscall6) through the image's syscall buffer, by a JMP over the
 * instructions before its SYSCALL to a trampoline near it.  0, or
 * -ENOENT (not a Go binary of s's, no such function), -ENOTSUP (its
 * code is not as expected), another negative errno. */
int vdso_patch(struct session *s, struct thread *t);

/* Record: which of t's process's fd's calls may go without a stop
 * (VDSO_FD_* bits); bits 0 for fds lo to hi. */
int vdso_fd_allow(struct thread *t, int fd, unsigned int bits);
int vdso_fd_forget(struct thread *t, int lo, int hi);

/* Record: the reads logged in t's process since the last call, in
 * order, into ent[0, *n) (at most VDSO_RING), and the buffered calls'
 * records into sys (*sys_len bytes, at most VDSO_SYSRING); both rings
 * are emptied.  0 (nothing when the process has no page), or a negative
 * errno. */
int vdso_take(struct thread *t, struct vdso_ent *ent, uint32_t *n, unsigned char *sys,
	      uint32_t *sys_len);

/* Record: the reads and buffered calls logged in t's process since its
 * last drain go to the policy (engine_ops.vclock, vsyscall), in order,
 * as those of the one
 * thread that ran the program's code meanwhile.  At every stop, before
 * its events, and before an event written after gorr stepped the
 * thread on (a timeslice's end, a forced GC's safe point): those steps
 * can make reads too. */
void vdso_drain(struct session *s, struct thread *t);
/* Whether t (stopped) is inside gorr's vDSO or trampoline under record,
 * where the image may be between logging a read or call and storing its
 * ring's new index. */
int vdso_inside(struct session *s, struct thread *t);

/* Replay: how many of the entries last put in t's process's ring were
 * used (*used), after which the unused ones are withdrawn; then
 * vdso_give puts ent[0, n) there (n <= VDSO_RING). */
int vdso_used(struct thread *t, uint32_t given, uint32_t *used);
int vdso_give(struct thread *t, const struct vdso_ent *ent, uint32_t n);

/* Replay, the syscall buffer's ring as vdso_used and vdso_give the
 * clock's: how many bytes of the records last given were used (the rest
 * withdrawn); then recs[0, len) (whole records, len <= VDSO_SYSRING). */
int vdso_sys_used(struct thread *t, uint32_t given, uint32_t *used);
int vdso_sys_give(struct thread *t, const unsigned char *recs, uint32_t len);

/* The memory a read writes in the program, as the call would have:
 * buf gets the bytes for ent's ptr; their length, 0 for none. */
size_t vdso_out_bytes(const struct vdso_ent *ent, unsigned char buf[16]);

#endif
