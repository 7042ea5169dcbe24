/* A GDB remote serial protocol server on a replay (issue 13): `gorr
 * replay --gdb [HOST:]PORT TRACE`, `gorr debug TRACE`.
 *
 * The replay stops for the debugger at the program's start, at the
 * debugger's breakpoints (Z0/Z1, INT3s of gorr's breakpoint table), after
 * a step, at an interrupt (Ctrl-C, 0x03 on the connection) and at the
 * end; between stops the replay runs as usual, so the debugger sees the
 * recorded run.  Nothing the debugger does may make the replay diverge:
 * writes to memory and registers (M, X, G, P) and calls of the program's
 * functions, which need them, are refused with an error.  The protocol:
 * gdb/doc/gdb.texinfo, "Remote Protocol" (Packets, Stop Reply Packets,
 * Target Description Format). */
#ifndef GORR_GDB_H
#define GORR_GDB_H

#include "harness/core/thread.h"

#include <stddef.h>
#include <stdint.h>

/* What the replay tells the server (filled by replay.c). */
struct gdb_target {
	void *ctx;
	/* The thread id the trace knows t by (the debugger shows it). */
	pid_t (*trace_tid)(void *ctx, struct thread *t);
	/* Events replayed so far (monitor when). */
	uint64_t (*when)(void *ctx);
	/* Remember the current place (the last stop and the steps since):
	 * its number, for goto_place (rr's checkpoints, as Delve uses them). */
	int (*save_place)(void *ctx);
	/* bs at a stop of the replay's own: whether t's instruction before
	 * can be found. */
	int (*can_step_back)(void *ctx, struct thread *t);
	const char *exe;	/* the program's path (qXfer:exec-file) */
	pid_t tgid;		/* the process the debugger sees: the first one */
};

struct gdb {
	int fd;			/* the debugger's connection; -1 when none */
	int noack;		/* QStartNoAckMode */
	struct gdb_target tg;
	uint64_t *bps;		/* Z0/Z1 addresses */
	size_t nbps, abps;
	pid_t cur;		/* the thread g, p, m read (Hg): a kernel tid */
	pid_t stop_tid;		/* where the last stop was */
	int stop_sig;
	/* A step over an instruction only the event loop can run (a
	 * syscall, a patched rdtsc) ends at a breakpoint after it. */
	uint64_t step_bp;
	pid_t step_tid;
	int running;		/* resumed: the debugger waits for a stop reply */
	/* Instructions t stepped since the replay's last stop of its own
	 * (a breakpoint hit, the start, an interrupt): with it, the
	 * position reverse execution goes back from. */
	uint64_t steps;
	/* Steps still to make, unseen, before the stop is told (a reverse
	 * step: back at the earlier stop, steps - 1 again). */
	uint64_t pending_steps;
	/* Reverse execution asked for: 'c' (bc), 's' (bs), 'g' (monitor goto
	 * goto_event); the replay runs again from the start to the place,
	 * then calls gdb_stop. */
	int reverse;
	uint64_t goto_event;
	/* vRun (Delve's restart): the next resume goes to the start, to
	 * event goto_event ('e') or to saved place goto_event ('p'). */
	int rerun;
	char rerun_kind;
	/* Checkpoints: saved places with the debugger's words for them. */
	struct gdb_checkpoint {
		int place;
		uint64_t when;
		char *where;
	} *cps;
	size_t ncps;
	int rcmd_pending;	/* a monitor command's answer is owed at the next stop */
	/* Watchpoints (Z2 write, Z3 read, Z4 access): the x86 debug
	 * registers DR0-3 of every thread of the process (no performance
	 * counters needed); wp_gen changes with the set. */
	struct gdb_watch {
		uint64_t addr;
		int len;
		char type;	/* '2', '3', '4' */
	} wps[4];
	int nwps;
	unsigned wp_gen;
	const struct gdb_watch *watch_hit;	/* the stop is this watchpoint's */
	uint64_t watch_addr;
	int at_begin;		/* the stop is the start of the recording */
	int detached;		/* D: the replay goes on alone */
	int killed;		/* k, vKill, or the connection was lost */
};

/* Open a listening socket on spec ("PORT" or "HOST:PORT", 127.0.0.1 by
 * default; port 0 picks one): the fd, the port in *port and the address
 * in host (when not NULL); or a negative errno after a one-line error. */
int gdb_listen(const char *spec, int *port, char host[64]);
/* Wait for the debugger on lfd (closed then); 0 or a negative errno. */
int gdb_init(struct gdb *g, int lfd, const struct gdb_target *tg);
void gdb_release(struct gdb *g);

/* The replay stopped with t at a stop the debugger may look at: tell it
 * (signal sig; SIGTRAP for a breakpoint or a step) and serve it until it
 * resumes.  Returns 1 when gdb moved t itself (a step: the caller must
 * not step over the breakpoint t was at), else 0.  g->killed or
 * g->detached say how it ended otherwise. */
int gdb_stop(struct gdb *g, struct session *s, struct thread *t, int sig);
/* Whether pc is a breakpoint of the debugger's. */
int gdb_has_bp(const struct gdb *g, uint64_t pc);
/* Whether t's step ends at pc (then cleared and counted: the caller
 * stops there with gdb_stop). */
int gdb_step_ends(struct gdb *g, struct session *s, struct thread *t, uint64_t pc);
/* The debugger's breakpoints into a new run's process (t's). */
void gdb_reinsert(struct gdb *g, struct session *s, struct thread *t);
/* t's debug registers hold the watchpoints (t is stopped). */
void gdb_arm_watch(struct gdb *g, struct thread *t);
/* t stopped with a debug trap (SIGTRAP, TRAP_HWBKPT): whether one of the
 * debugger's watchpoints fired (then g->watch_hit says which for the
 * stop reply gdb_stop sends). */
int gdb_watch_fired(struct gdb *g, struct thread *t);
/* Whether the debugger sent an interrupt (0x03) while the replay ran. */
int gdb_interrupted(struct gdb *g);
/* The program ended with wait status wstatus: tell the debugger and
 * serve it until it leaves. */
void gdb_exited(struct gdb *g, int wstatus);

#endif
