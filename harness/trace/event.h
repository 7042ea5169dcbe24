/* Decoded trace events: the C view of the msgpack maps the recorder
 * writes (docs/trace-format.md).  Pointers refer into the msgpack object,
 * valid until the reader moves on. */
#ifndef GORR_EVENT_H
#define GORR_EVENT_H

#include <msgpack.h>
#include <stdint.h>

#include "harness/base/syscalls.h"
#include "harness/base/util.h"

enum ev_type {
	EV_UNKNOWN = 0,		/* a type this gorr does not know: skipped */
	EV_SYSCALL,
	EV_SIGNAL,
	EV_CLONE,
	EV_EXIT,
	EV_EXEC,
	EV_RDTSC,
	EV_END,
	EV_RUN,			/* the scheduler switched to this thread */
	EV_SLICE,		/* the thread's timeslice ended here */
	EV_FAULT,		/* a fault rule fired at the thread's next call */
	EV_SAMPLE,		/* --sample: goroutine and timer counts */
};

struct ev_blob {
	const unsigned char *p;
	uint32_t len;
};

struct trace_event {
	enum ev_type type;
	const char *type_name;
	uint32_t type_len;
	uint64_t index;
	int64_t tid;

	/* EV_SYSCALL */
	long nr;
	int nargs;
	uint64_t args[6];
	int has_ret;
	int64_t ret;
	uint64_t pc;
	int emulated;
	int tty;		/* wrote to the recording's stdout (1) or stderr (2) */
	int injected;		/* its result came from a fault rule */
	int blocked;		/* it waited in the kernel while other threads ran */
	int vdso;		/* a clock read gorr's vDSO made without a stop (a clk event) */
	unsigned char vdso_out[16];	/* ...what it wrote, for out[0] */
	int fast;		/* made through gorr's syscall buffer, without a stop */
	int nin;
	struct {
		int arg;
		int cut;
		struct ev_blob data;
	} in[6];
	int nout;
	struct {
		uint64_t addr;
		int missing;	/* unreadable when recorded */
		struct ev_blob data;
	} out[SC_MAX_REGIONS];

	/* EV_SIGNAL */
	int sig, code;
	struct ev_blob info;

	/* EV_CLONE */
	int64_t child;
	struct ev_blob kind;

	/* EV_EXIT, EV_END */
	int wstatus;
	int status;
	int hang;		/* EV_END: the run ended in a hang */

	/* EV_EXEC */
	struct ev_blob path, at_random;
	struct ev_blob image;	/* exec: the file's bytes, when the recording made it */
	int vdso_hidden;
	int vdso_fast;		/* exec: gorr's vDSO was mapped */

	/* EV_FAULT: the rule as written, and its action; a forced GC also
	 * has pc, regs and the dead registers it cleared (GOCALL_CLEAR_*) */
	struct ev_blob rule, action;
	unsigned int clear;

	/* EV_SAMPLE: when (since sampling began), goroutines, timers (-1:
	 * unknown) */
	int64_t sample_t, sample_goroutines, sample_timers;

	/* EV_SLICE: pc, and the registers (struct user_regs_struct); the
	 * goroutine that was running, or 0 */
	struct ev_blob regs;
	struct ev_blob sse;	/* slice: xmm0-15 and mxcsr (thread_sse), when known */
	uint64_t stk;		/* slice: digest of the goroutine's live stack, 0 when unknown */
	struct ev_blob stktop;	/* slice: the first bytes of that stack */
	int64_t goid;
	int preempt;		/* slice: its goroutine was preempted there too */
	int at_bp;		/* slice: at one of gorr's breakpoints, passed once after */
	uint64_t visit;		/* slice: ends at this hit of pc since the thread's last event
				 * (1.., 0 when the trace does not say: the first match) */
	uint64_t laps;		/* slice: ends at this pass of the counting windows since the
				 * thread's last event (harness/core/count.h), or 0 */
	/* slice: ends at the head of a loop replay may skip ahead in
	 * (harness/sched/loops.h); loop_mem: what the loop had stored */
	int loop;
	struct ev_blob loop_mem;
	uint64_t leaks;		/* end: goroutines --leaks found at the exit */

	/* EV_RDTSC */
	int rdtscp;
	uint64_t tsc;
	uint32_t aux;
};

/* The pointer a decoded clk event shows for the program's (the trace
 * keeps the time, not where it went). */
#define VDSO_PTR 0x1000

/* Decode one event map, the trace's event number index (0 for the one
 * after the header): the short events (clk, b) do not carry it.
 * Returns 0, or -EINVAL when it is not a valid event (a message naming
 * what is wrong is put in why). */
int trace_event_decode(const msgpack_object *o, struct trace_event *ev, uint64_t index,
		       struct sbuf *why);

/* msgpack object as JSON (bin values as lowercase hex strings). */
void mp_to_json(struct sbuf *sb, const msgpack_object *o);

#endif
