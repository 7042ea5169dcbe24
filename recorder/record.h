/* The recorder: the policy that logs, at each stop the engine hands it,
 * everything about a run that is not deterministic (docs/trace-format.md
 * says what each event holds). */
#ifndef GORR_RECORD_H
#define GORR_RECORD_H

#include <time.h>

#include "harness/engine.h"
#include "harness/trace/trace.h"

#define GC_SITES 8

struct recorder {
	struct session *s;
	struct trace_writer w;
	uint64_t events;	/* events written after the header */
	const char *kind;	/* "record" */
	struct sbuf outbuf;	/* bytes of one written region, reused */
	struct prng inject_rng;	/* prob= of fault rules */
	/* A gc@event:N or gc:every rule that fired: the GC runs at the next
	 * point where the runtime accepts a call, a breakpoint on a return
	 * address (harness/go/gocall.h). */
	const struct fault_rule *gc_pending;
	/* Return addresses armed for it: the innermost Go frames of the
	 * threads seen at syscall stops since (a goroutine may stay blocked
	 * for long; the first site any thread reaches wins). */
	uint64_t gc_sites[GC_SITES];
	size_t ngc_sites;
	/* --leaks: what the goroutines looked like at the exit. */
	size_t nleaks;
	struct sbuf leak_report;
	/* --leaks-settle: os.Exit's entry, and when the exit first got there. */
	uint64_t exit_pc;
	int64_t settle_start;
	uint64_t settle_events;	/* r->events when the settling began */
	int warned_clock;	/* the run was told a slice ended by the clock */
	int warned_blocked;	/* ...or that a call blocked in the kernel (sched_tick) */
	struct timespec start;	/* when the recording began (exec'd files made since go in) */
	int settling;
	/* --sample: when the next sample is due, and when sampling began. */
	int64_t next_sample, sample_start;
};

extern const struct engine_ops recorder_ops;

/* Open the trace file and write its header; 0 or a negative errno after
 * a one-line error. */
int recorder_init(struct recorder *r, struct session *s, const char *path,
		  const char *kind);
/* Write the end record and close the trace. */
int recorder_finish(struct recorder *r, struct session *s);

/* `gorr record`, `gorr run`. */
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
