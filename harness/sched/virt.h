/* The virtual world of gorr run (harness/sched/virt.c): virtual clocks,
 * process ids, ports and random bytes made from the seed. */
#ifndef GORR_SCHED_VIRT_H
#define GORR_SCHED_VIRT_H

#include "harness/core/thread.h"

void virt_init(struct session *s);
void virt_map(struct session *s, pid_t real, pid_t virt);
pid_t virt_pid(const struct session *s, pid_t real);
int virt_entry(struct session *s, struct thread *t);
void virt_exit(struct session *s, struct thread *t);
void virt_siginfo(struct session *s, siginfo_t *si);
uint64_t virt_tsc(const struct session *s);

#endif
