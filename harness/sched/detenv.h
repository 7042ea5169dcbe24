/* The deterministic environment (harness/sched/detenv.c): the child's
 * set-up before exec, the exec stop (vDSO hidden, AT_RANDOM from the
 * seed), and rdtsc/rdtscp emulation. */
#ifndef GORR_SCHED_DETENV_H
#define GORR_SCHED_DETENV_H

#include "harness/core/thread.h"

int detenv_exec_stop(struct session *s, struct thread *t, struct exec_info *e);
/* 1 when si is the trap of an rdtsc/rdtscp that was emulated, 0 when it
 * is not such a trap, or a negative errno. */
int detenv_tsc_trap(struct session *s, struct thread *t, const siginfo_t *si);
/* 1 when the INT3 trap that left t at regs (rip past the INT3) is an
 * rdtsc/rdtscp that the exec stop patched, now emulated; 0 when it is
 * not one, or a negative errno. */
int detenv_tsc_patched(struct session *s, struct thread *t, struct user_regs_struct *regs);
void detenv_child_setup(const struct session *s);
/* The AT_RANDOM bytes exec number index of a run with this seed gets. */
void detenv_at_random(uint64_t seed, int index, unsigned char out[16]);

#endif
