/* A small seeded generator for the tests' synthetic series (xorshift64*),
 * uniform and normal: the same numbers on every machine. */
#ifndef RIG_TEST_RNG_H
#define RIG_TEST_RNG_H

#include <math.h>
#include <stdint.h>

struct rng {
	uint64_t s;
};

static inline double rng_uniform(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (double)((r->s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Standard normal (Box-Muller). */
static inline double rng_gauss(struct rng *r)
{
	double u1 = rng_uniform(r), u2 = rng_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

#endif
