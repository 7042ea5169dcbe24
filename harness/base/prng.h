/* Seeded pseudo-random numbers: splitmix64 to expand a seed, xoshiro256**
 * for streams (both public-domain algorithms by Vigna et al.).  Every
 * random choice gorr makes comes from a stream seeded by the run's seed,
 * so the same seed makes the same choices. */
#ifndef GORR_PRNG_H
#define GORR_PRNG_H

#include <stdint.h>

struct prng {
	uint64_t s[4];
};

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stream for (seed, purpose): different purposes never share numbers. */
static inline void prng_init(struct prng *p, uint64_t seed, uint64_t purpose)
{
	uint64_t x = seed ^ (purpose * 0xd1b54a32d192ed03ULL);
	int i;

	for (i = 0; i < 4; i++)
		p->s[i] = splitmix64(&x);
}

static inline uint64_t prng_next(struct prng *p)
{
	uint64_t *s = p->s;
	uint64_t r = s[1] * 5, t = s[1] << 17;

	r = ((r << 7) | (r >> 57)) * 9;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return r;
}

/* A uniform double in [0, 1): the top 53 bits. */
static inline double prng_unit(struct prng *p)
{
	return (double)(prng_next(p) >> 11) / 9007199254740992.0;
}

/* Purposes of the streams drawn from a run's seed. */
enum {
	PRNG_AT_RANDOM = 1,	/* AT_RANDOM bytes of each exec */
	PRNG_SCHED = 2,		/* the scheduler's choices */
	PRNG_GETRANDOM = 3,	/* getrandom under gorr run */
	PRNG_INJECT = 4,	/* prob= of fault rules */
	PRNG_CHAOS = 5,		/* --chaos perturbations */
	PRNG_CHECKS = 6,	/* which DP_CHECK decision points a run arms */
	PRNG_PROFILE = 7,	/* which knobs a --chaos 3 run uses */
};

#endif
