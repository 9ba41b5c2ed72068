/* rng.h - a small, fast, seedable pseudo-random generator: xoshiro256**
 * (Blackman and Vigna), its 256-bit state filled from a 64-bit seed through
 * splitmix64.
 *
 * Everything is integer arithmetic on uint64_t and the conversions to
 * floating point are exact, so a seed gives the same stream on every
 * platform and compiler. Not for cryptography. The state is a plain value:
 * copy it to fork a stream, keep one per sequence or task. */
#ifndef SMOA_CORE_RNG_H
#define SMOA_CORE_RNG_H

#include <stdint.h>

typedef struct smoa_rng {
    uint64_t s[4];
} smoa_rng;

/* Any seed, 0 included, gives a valid (never all-zero) state. */
void smoa_rng_seed(smoa_rng *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t smoa_rng_next(smoa_rng *rng);

/* Uniform in [0, 1): 53 random bits for double, 24 for float. */
double smoa_rng_double(smoa_rng *rng);
float smoa_rng_float(smoa_rng *rng);

/* Uniform integer in [0, bound), without modulo bias; 0 when bound is 0. */
uint64_t smoa_rng_below(smoa_rng *rng, uint64_t bound);

#endif
