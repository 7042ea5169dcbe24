/* Fault plans (docs/fault-plan.md): rules given with --inject RULE or
 * --inject-file PLAN, parsed before anything runs.  A rule names what it
 * acts on (syscalls, netpoll, gc), one action, and filters that select
 * which matches fire.  Matches are counted per rule over the whole run,
 * not per thread: a goroutine moves between threads. */
#ifndef GORR_PLAN_H
#define GORR_PLAN_H

#include <stdint.h>

#include "harness/base/syscalls.h"
#include "harness/base/util.h"

enum fault_action {
	FA_DELAY,		/* SYSCALL...:delay=DUR */
	FA_ERROR,		/* SYSCALL...:error=ERRNO */
	FA_NETPOLL_DROP,	/* netpoll:drop */
	FA_NETPOLL_DELAY,	/* netpoll:delay=DUR */
	FA_GC,			/* gc@FUNC, gc@event:N, gc:every=DUR */
};

enum fault_target {
	FT_SYSCALLS,
	FT_NETPOLL,
	FT_GC_FUNC,
	FT_GC_EVENT,
	FT_GC_EVERY,
};

struct fault_rule {
	char *text;		/* as written, for messages and the trace */
	enum fault_target target;
	enum fault_action action;
	uint64_t calls[(SC_TABLE_SIZE + 63) / 64];	/* FT_SYSCALLS: a bit per number */
	int64_t ns;		/* delay, or gc:every */
	int err;		/* error: the errno */
	char *func;		/* gc@FUNC */
	uint64_t event;		/* gc@event:N */

	/* Filters. */
	int has_when;
	uint64_t when_first, when_step, when_last;	/* 1-based match numbers */
	int has_prob;
	double prob;
	int has_fd;
	int fd;
	char *path;		/* a glob (fnmatch) on the call's file name */

	uint64_t matches;	/* how many times the rule matched so far */
	uint64_t fired;
	/* gc@FUNC: where a call of FUNC starts, once resolved: its entry
	 * and the first pc of each inlined copy (gobin_func_pcs), sorted */
	uint64_t *pcs;
	size_t npcs;
	int64_t next_ns;	/* gc:every: when it matches next (0: not started) */
	int done;		/* gc@event:N: matched */
};

struct fault_plan {
	struct fault_rule *rules;
	size_t n;
	int has_gc;		/* a gc rule (set when checked against the binary) */
};

#define FAULT_PLAN_INIT { NULL, 0, 0 }

/* Add one rule; 0, or -EINVAL with a message in why (one line, quoting
 * the bad part and saying what was expected). */
int plan_add(struct fault_plan *p, const char *text, struct sbuf *why);
/* Add the rules of a file: one per line, '#' starts a comment.  The
 * message names the file and line. */
int plan_add_file(struct fault_plan *p, const char *path, struct sbuf *why);
void plan_release(struct fault_plan *p);
/* Whether a rule of p matches a clock read (SF_CLOCKREAD: clock_gettime,
 * gettimeofday, time): those must all stop (harness/core/vdso.h). */
int plan_names_clock(const struct fault_plan *p);

/* Whether the rule's filters select this match (counting it): n is the
 * match number, draw a uniform number in [0, 1) from the run's seed. */
int rule_selects(struct fault_rule *r, double draw);

#endif
