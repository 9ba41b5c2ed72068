/* random_values.h - seeded random test data, drawn from the library's own
 * generator (core/rng.h) so every test shares one reproducible source. */
#ifndef SMOA_TESTS_RANDOM_VALUES_H
#define SMOA_TESTS_RANDOM_VALUES_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"

static smoa_rng test_rng;
static bool test_rng_seeded;

static inline void random_seed(uint64_t seed) {
    smoa_rng_seed(&test_rng, seed);
    test_rng_seeded = true;
}

static inline uint64_t next_u64(void) {
    if (!test_rng_seeded) random_seed(1); /* a test run on its own still gets data */
    return smoa_rng_next(&test_rng);
}

static inline double uniform(void) { return (double)(next_u64() >> 11) * 0x1p-53; }
static inline int uniform_int(int lo, int hi) { return lo + (int)(next_u64() % (uint64_t)(hi - lo + 1)); }

/* Box-Muller. */
static inline float gaussian(void) {
    double u = uniform(), v = uniform();
    return (float)(sqrt(-2.0 * log(u + 0x1p-60)) * cos(6.283185307179586 * v));
}

#endif
