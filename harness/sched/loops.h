/* Timeslices that end inside a tight loop (issue 12, item 1).
 *
 * A slice that ends by interrupt in a loop is found again in replay by a
 * breakpoint at its pc and the recorded registers: one stop per lap, and
 * a loop of 10^8 laps then takes hours.  Some loops can be skipped
 * instead: one straight run of code from its head back to it, with no
 * call, no syscall, only general registers, stores only to addresses that
 * do not change from lap to lap, and exits whose conditions do not change
 * from lap to lap either.  Only one thread runs during a slice, so the
 * state such a loop reaches is its registers and the bytes at its store
 * addresses: the recorder writes those bytes with the slice, and replay,
 * at the loop's head, checks with one stepped lap that this loop does not
 * leave (its exits cannot change their minds later), then sets the
 * recorded registers and bytes. */
#ifndef GORR_LOOPS_H
#define GORR_LOOPS_H

#include "harness/core/thread.h"

#define LOOP_MAX_STORES 8
#define LOOP_MAX_BYTES 16

_Static_assert(LOOP_MAX_STORES * (9 + LOOP_MAX_BYTES) <= SLICE_MEM_MAX, "slice_mem holds the stores");

struct loop_store {
	uint64_t addr;
	unsigned int len;
	unsigned char bytes[LOOP_MAX_BYTES];
};

struct loop_skip {
	uint64_t head, end;	/* [head, end): the loop's code */
	unsigned int insns;	/* instructions in one lap */
	uint64_t written;	/* general registers written in a lap (capstone ids, as bits) */
	int nstores;
	struct loop_store st[LOOP_MAX_STORES];
};

/* Whether t, stopped at regs (rip at the loop's head), is in a loop that
 * can be skipped; fills ls (the stores' addresses and sizes, not their
 * bytes).  0, or a negative errno: -ENOENT for any loop that cannot. */
int loop_skippable(struct session *s, struct thread *t, const struct user_regs_struct *regs,
		   struct loop_skip *ls);

/* Step t (at ls->head) through one lap: 0 when it is back at the head
 * (regs), 1 when it left the loop or its registers cannot be read, -1
 * when a stop that is not a step came (a signal: the caller gives up). */
int loop_step_lap(struct thread *t, const struct loop_skip *ls, struct user_regs_struct *regs);

/* Copy into to the registers a lap writes (written), the flags and rip
 * of from. */
void loop_regs_merge(struct user_regs_struct *to, const struct user_regs_struct *from,
		     uint64_t written);

/* Read the bytes at ls's store addresses from t: 0 or a negative errno. */
int loop_read_stores(struct thread *t, struct loop_skip *ls);

/* Serialize the stores (addr u64, len u8, bytes) into buf (at least
 * LOOP_MAX_STORES * (9 + LOOP_MAX_BYTES) bytes); returns the length. */
size_t loop_pack_stores(const struct loop_skip *ls, unsigned char *buf);
/* The reverse, into ls->st and ls->nstores: 0 or -EINVAL. */
int loop_unpack_stores(struct loop_skip *ls, const unsigned char *buf, size_t len);

#endif
