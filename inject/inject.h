/* Applying a fault plan at a syscall stop (docs/fault-plan.md). */
#ifndef GORR_INJECT_H
#define GORR_INJECT_H

#include "harness/engine.h"
#include "inject/plan.h"

/* The rule that fires for the call t is stopped at, or NULL.  rng draws
 * prob= decisions from the run's seed. */
struct fault_rule *inject_syscall(struct fault_plan *p, struct prng *rng, struct thread *t);

#endif
