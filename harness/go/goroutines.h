/* The goroutines of a stopped Go process, read from outside: the runtime's
 * allgs slice, each g's status, wait reason, creation site and saved
 * registers (runtime/runtime2.go), stacks unwound with the pclntab.
 *
 * Where the runtime's structures are laid out comes from the binary's
 * DWARF (libdw: the Go linker writes every runtime type with its member
 * offsets, so any Go version that keeps DWARF works) and, for binaries
 * built with -ldflags='-s -w', from a table per Go version (measured from
 * the DWARF of Go 1.19 and Go 1.26 builds; other versions without DWARF
 * are refused).  runtime.allgs comes from .symtab or, stripped, from the
 * code of runtime.allgadd. */
#ifndef GORR_GOROUTINES_H
#define GORR_GOROUTINES_H

#include "harness/core/thread.h"

/* runtime/runtime2.go _Gidle... (without the _Gscan bit). */
enum {
	G_IDLE = 0,
	G_RUNNABLE = 1,
	G_RUNNING = 2,
	G_SYSCALL = 3,
	G_WAITING = 4,
	G_DEAD = 6,
	G_COPYSTACK = 8,
	G_PREEMPTED = 9,
};

struct go_layout {
	const char *source;	/* "DWARF", or the table's Go version */
	uint64_t allgs;		/* address of runtime.allgs ([]*g) */
	uint64_t waitreasons;	/* address of runtime.waitReasonStrings, or 0 */
	size_t nwaitreasons;
	const char *const *reason_table;	/* when not read from memory */
	/* Offsets in runtime.g. */
	uint32_t g_m, g_sched, g_syscallsp, g_syscallpc, g_atomicstatus, g_goid,
		 g_waitsince, g_waitreason, g_gopc, g_startpc, g_parentgoid,
		 g_stackguard0, g_preempt;
	int has_parentgoid;
	uint32_t g_size;	/* bytes read per g: past the last field used */
	/* Offsets in runtime.gobuf and runtime.m. */
	uint32_t gobuf_sp, gobuf_pc, gobuf_bp, m_procid;
	/* Timers (DWARF only): runtime.allp ([]*p), and in runtime.p the
	 * 32-bit count of timers in its heap and of those deleted but not
	 * yet removed (Go 1.19 numTimers/deletedTimers; Go 1.23+
	 * timers.len/timers.zombies). */
	uint64_t allp;
	uint32_t p_ntimers, p_dead_timers;
	int has_timers;
	/* runtime.g's trackingSeq: +1 (mod 256) each time the goroutine
	 * stops running (runtime/proc.go casgstatus), Go 1.18+. */
	uint32_t g_trackingseq;
	int has_trackingseq;
};

struct goroutine {
	int64_t goid;
	uint32_t status;	/* G_* */
	const char *state;	/* wait reason or status, as Go's tracebacks say it */
	int64_t waitsince;	/* the runtime's nanotime when it blocked, or 0 */
	uint64_t gopc, startpc;
	int64_t parent;		/* the creating goroutine's id, or 0 (before Go 1.21) */
	uint64_t pc, sp;	/* where its stack is to be unwound from */
	/* Its g.sched: where a running goroutine's own stack goes on when
	 * its thread is on the g0 stack, in a runtime.systemstack call. */
	uint64_t sched_pc, sched_sp;
	pid_t tid;		/* the thread running it (G_RUNNING, G_SYSCALL) or 0 */
	int system;		/* the runtime's own (runtime/traceback.go isSystemGoroutine) */
	int moves;		/* its trackingSeq, or -1: changes when it ran */
	/* Waiting, but still on its M: it runs runtime code on the
	 * thread's g0 stack (the GC's forEachP while "flushing proc
	 * caches", a stop-the-world), not parked (dropg clears g.m). */
	int on_m;
	char reason[64];
};

/* The layout for the session's program; NULL, with why said in why, when
 * gorr cannot read its goroutines. */
const struct go_layout *goroutines_layout(struct session *s, struct sbuf *why);

/* runtime.allgs found in the code of runtime.allgadd (for binaries
 * without .symtab); 0 when not found. */
uint64_t goroutines_allgs_from_code(struct session *s);

/* Read every goroutine (not dead) of t's process.  0 with *out (malloc'd)
 * and *n, or a negative errno with why. */
int goroutines_read(struct session *s, struct thread *t, struct goroutine **out, size_t *n,
		    struct sbuf *why);

/* The stack of g as Go prints it (runtime frames hidden unless all frames
 * are the runtime's, or all is set), then "created by". */
void goroutine_print(struct sbuf *sb, struct session *s, struct thread *t,
		     const struct goroutine *g, int all);

/* The goroutine t runs (G_RUNNING on t's M; its id is not the TLS g's
 * while t is on its g0 stack); 0 or a negative errno. */
int goroutine_of_thread(struct session *s, struct thread *t, struct goroutine *out);

/* t's stack, as backtrace_print says it, and when t runs on its g0 stack
 * for a goroutine (runtime.systemstack), on through that goroutine's. */
void goroutine_thread_stack(struct sbuf *sb, struct session *s, struct thread *t);

/* How many goroutines (as runtime.NumGoroutine counts them) and active
 * timers t's process has; timers is -1 when the layout does not say. */
int goroutines_count(struct session *s, struct thread *t, int64_t *goroutines, int64_t *timers);

/* "N goroutines:" and each of them as goroutine_print says it (the
 * runtime's own too with system), or why they cannot be read. */
void goroutines_dump(struct sbuf *sb, struct session *s, struct thread *t, int system);

/* Whether func (a full Go function name) is on g's stack or started it. */
int goroutine_on_stack(struct session *s, struct thread *t, const struct goroutine *g,
		       const char *func);

/* Blocked on a channel or a sync primitive, and not the runtime's own:
 * what a leak looks like when the program exits. */
int goroutine_leaked(const struct goroutine *g);

/* The id of the goroutine t runs (0 on a system stack), read from the g
 * that Go keeps in TLS at fs:-8 on linux/amd64 (runtime/go_tls.h);
 * 0 or a negative errno. */
int goroutine_id(struct session *s, struct thread *t, int64_t *goid);
/* A digest of the live part of the stack of t's goroutine, from regs'
 * rsp up to the goroutine's stack.hi (at most GSTACK_HASH_MAX bytes): the
 * enclosing loops' counters that a call's frame spills there tell apart
 * passes of a timeslice's pc with the same registers.  0, or -ENOENT on
 * a g0 or signal stack (goid 0) and outside Go. */
#define GSTACK_HASH_MAX 65536
/* With top (when not NULL), its first GSTACK_TOP_MAX bytes or fewer
 * (*top_len): what the conditional breakpoint compares in the tracee. */
#define GSTACK_TOP_MAX 512
int goroutine_stack_hash(struct session *s, struct thread *t, const struct user_regs_struct *regs,
			 uint64_t *hash, unsigned char *top, size_t *top_len);
/* The same, from registers already read (a stop gorr is handling). */
int goroutine_id_regs(struct session *s, struct thread *t, const struct user_regs_struct *regs,
		      int64_t *goid);
/* Ask the goroutine t runs to preempt itself, as the runtime's own
 * preemptone does (runtime/proc.go): g.preempt = true and g.stackguard0 =
 * stackPreempt (runtime/stack.go), so that its next function prologue, or
 * the SIGURG the caller sends (runtime/preempt.go, async preemption),
 * puts it behind the other runnable goroutines (gopreempt_m).  0, or a
 * negative errno (no layout, a system stack, memory unreadable). */
int goroutine_preempt(struct session *s, struct thread *t);

#endif
