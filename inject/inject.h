/* Applying a fault plan at a syscall stop (docs/fault-plan.md). */
#ifndef GORR_INJECT_H
#define GORR_INJECT_H

#include "harness/engine.h"
#include "inject/plan.h"

/* The rule that fires for the call t is stopped at, or NULL.  rng draws
 * prob= decisions from the run's seed. */
struct fault_rule *inject_syscall(struct fault_plan *p, struct prng *rng, struct thread *t);

/* After an epoll wait returned events: remove those a netpoll rule
 * selects (each readiness event the kernel gave is one match).  The
 * array in the program's memory is compacted and t->call.ret lowered
 * (the engine writes it back).  Calls fired(ctx, rule, event) for each,
 * which holds the event back for a netpoll:delay rule; returns how many
 * were removed. */
int inject_netpoll(struct fault_plan *p, struct prng *rng, struct thread *t,
		   void (*fired)(void *ctx, struct thread *t, const struct fault_rule *r,
				 const unsigned char ev[SC_EPOLL_EVENT_SIZE]),
		   void *ctx);

#endif
