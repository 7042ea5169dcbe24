/* Decision points: the places in a Go program's own code where it
 * synchronizes, found in the binary (the pclntab names every function,
 * stripped or not; capstone decodes their code).  Go's concurrency happens
 * inside the program, at these places, not at syscalls: the scheduler
 * (harness/sched/sched.c) arms a breakpoint at each one under --chaos, to
 * switch threads there and to end timeslices at a counted point.
 *
 * In the functions of the program's own packages (not the standard
 * library's, whose own locking is not the program's concurrency):
 *   DP_ATOMIC  an atomic read-modify-write instruction (LOCK prefix, or
 *              XCHG with memory): the inlined fast paths of sync.Mutex
 *              Lock and Unlock, RWMutex RLock and RUnlock, WaitGroup Add
 *              and Done, and sync/atomic's Add, Swap and CompareAndSwap;
 *   DP_CALL    a call to a synchronizing function: channel send, receive,
 *              close and select (runtime.chansend1, chanrecv1/2, closechan,
 *              selectgo, selectnbsend, selectnbrecv), go statements
 *              (runtime.newproc), runtime.Gosched, time.Sleep, and methods
 *              of sync's and internal/sync's types (Lock when not inlined,
 *              the slow paths, WaitGroup.Wait, Once.Do, Cond.Wait...);
 *   DP_RETURN  the instruction after such a call: the other side of the
 *              operation (the goroutine a send readied, the one a go
 *              statement made) can run first;
 *   DP_GO_RETURN  the same after a go statement's runtime.newproc;
 *   DP_CHECK   a conditional branch on a value its instruction before
 *              read from memory other than the stack (a heap or global
 *              variable: `if !s.started {`), not a bounds or nil check
 *              (a branch to a runtime panic) nor the prologue's stack
 *              check (g.stackguard0 through R14): where a check-then-act
 *              on plain memory has its window, which holds no other
 *              point.  Many, and some hot: the scheduler arms a few. */
#ifndef GORR_GO_DPOINTS_H
#define GORR_GO_DPOINTS_H

#include "harness/core/state.h"

enum { DP_ATOMIC = 1, DP_CALL = 2, DP_RETURN = 3, DP_GO_RETURN = 4, DP_CHECK = 5 };

struct dpoint {
	uint64_t pc;
	int kind;		/* DP_* */
};

/* The decision points of the session's program, sorted by pc, without
 * duplicates.  0 with *out (malloc'd; NULL when there are none) and *n,
 * or -ENOTSUP when the program is not Go. */
int dpoints_find(struct session *s, struct dpoint **out, size_t *n);

/* Whether the function name (with its entry's source file, or NULL)
 * belongs to the program's own code rather than to the Go toolchain's
 * standard library, whose sources live under goroot_src ("" when not
 * known). */
int dpoints_user_func(const char *name, const char *file, const char *goroot_src);

#endif
