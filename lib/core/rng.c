/* rng.c - xoshiro256** seeded through splitmix64 (see rng.h). */
#include "core/rng.h"

/* splitmix64 turns consecutive seeds into well-mixed, unrelated words; its
 * outputs are what xoshiro's authors recommend for filling the state. */
static uint64_t splitmix64_next(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

void smoa_rng_seed(smoa_rng *rng, uint64_t seed) {
    /* splitmix64 is a bijection of its counter, so four consecutive outputs
     * are never all zero: the state is always valid. */
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64_next(&seed);
}

uint64_t smoa_rng_next(smoa_rng *rng) {
    uint64_t *s = rng->s;
    const uint64_t result = rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* The top bits are the best mixed; scaling by a power of two is exact. */
double smoa_rng_double(smoa_rng *rng) {
    return (double)(smoa_rng_next(rng) >> 11) * 0x1.0p-53;
}

float smoa_rng_float(smoa_rng *rng) {
    return (float)(smoa_rng_next(rng) >> 40) * 0x1.0p-24f;
}

uint64_t smoa_rng_below(smoa_rng *rng, uint64_t bound) {
    if (bound == 0)
        return 0;
    /* Reject the lowest (2^64 mod bound) values so that every residue is
     * reached by the same number of accepted words. */
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const uint64_t x = smoa_rng_next(rng);
        if (x >= threshold)
            return x % bound;
    }
}
