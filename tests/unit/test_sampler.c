/* test_sampler.c - the random generator and the token sampler.
 *
 * Distribution checks draw many tokens with a fixed seed (so they are
 * deterministic) and compare the counts with probabilities the test computes
 * itself, in double precision, with a chi-square test at significance 0.001.
 * One check also shows the test has power: the same counts must reject a
 * slightly different distribution. Everything else compares with values
 * worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "engine/sampler.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* Parameters that leave the distribution untouched: temperature 1 and every
 * filter off. */
static smoa_sampler_params plain_params(uint64_t seed) {
    smoa_sampler_params p;
    smoa_sampler_params_default(&p);
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

static smoa_sampler *new_sampler(const smoa_sampler_params *p, int32_t n_vocab) {
    smoa_sampler *s = NULL;
    smoa_error err = {0};
    smoa_status st = smoa_sampler_create(p, n_vocab, &s, &err);
    if (st != SMOA_OK)
        fail_msg("sampler_create: %s", err.message);
    return s;
}

static int32_t sample_ok(smoa_sampler *s, const float *logits) {
    int32_t token = -1;
    smoa_error err = {0};
    smoa_status st = smoa_sampler_sample(s, logits, &token, &err);
    if (st != SMOA_OK)
        fail_msg("sampler_sample: %s", err.message);
    return token;
}

static void accept_ok(smoa_sampler *s, int32_t token) {
    assert_int_equal(smoa_sampler_accept(s, token, NULL), SMOA_OK);
}

/* Softmax of logits / temperature, in double. */
static void softmax(const float *logits, int n, double temperature, double *out) {
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    for (int i = 0; i < n; i++)
        sum += out[i] = exp((logits[i] - max) / temperature);
    for (int i = 0; i < n; i++)
        out[i] /= sum;
}

/* Keeps only the entries named by keep[] and renormalises. */
static void restrict_to(double *probs, int n, const bool *keep) {
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += keep[i] ? probs[i] : 0.0;
    for (int i = 0; i < n; i++)
        probs[i] = keep[i] ? probs[i] / sum : 0.0;
}

/* Upper 0.001 quantile of chi-square with df degrees of freedom, by the
 * Wilson-Hilferty approximation (within a few percent for df >= 1). */
static double chi2_critical_0001(int df) {
    const double z = 3.090232; /* standard normal 0.999 quantile */
    const double a = 2.0 / (9.0 * df);
    const double t = 1.0 - a + z * sqrt(a);
    return df * t * t * t;
}

/* Pearson's statistic of counts against probs over the categories with
 * nonzero probability; *df gets their number minus one. */
static double chi2_statistic(const int *counts, const double *probs, int n, int draws, int *df) {
    double chi2 = 0.0;
    int categories = 0;
    for (int i = 0; i < n; i++) {
        if (probs[i] == 0.0)
            continue;
        const double expected = probs[i] * draws;
        chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        categories++;
    }
    *df = categories - 1;
    return chi2;
}

enum { DRAWS = 200000, SMALL_VOCAB = 8 };

static void draw_counts(const smoa_sampler_params *p, const float *logits, int n, int draws,
                        int *counts) {
    smoa_sampler *s = new_sampler(p, n);
    memset(counts, 0, (size_t)n * sizeof *counts);
    for (int i = 0; i < draws; i++)
        counts[sample_ok(s, logits)]++;
    smoa_sampler_free(s);
}

/* Tokens of probability 0 must never appear; the others must pass the
 * chi-square test (nothing more to test when only one token is possible).
 * Every expected count is kept >= 5 by the callers. */
static void assert_counts_match(const int *counts, const double *probs, int n, int draws) {
    for (int i = 0; i < n; i++)
        if (probs[i] == 0.0 && counts[i] != 0)
            fail_msg("token %d has probability 0 but was drawn %d times", i, counts[i]);
    int df = 0;
    const double chi2 = chi2_statistic(counts, probs, n, draws, &df);
    if (df > 0 && chi2 > chi2_critical_0001(df))
        fail_msg("chi-square %.2f exceeds %.2f (df %d)", chi2, chi2_critical_0001(df), df);
}

static void assert_distribution(const smoa_sampler_params *p, const float *logits, int n,
                                const double *probs) {
    int counts[SMALL_VOCAB];
    assert_true(n <= SMALL_VOCAB);
    draw_counts(p, logits, n, DRAWS, counts);
    assert_counts_match(counts, probs, n, DRAWS);
}

/* Logits of the small-vocabulary tests: distinct, unsorted, with a clear
 * ranking 3 > 0 > 5 > 1 > 6 > 2 > 7 > 4. */
static const float small_logits[SMALL_VOCAB] = {1.5f, 0.2f, -0.5f, 2.0f, -3.0f, 0.9f, -0.1f, -1.2f};

/* ------------------------------------------------------------------------ */
/* Random generator                                                         */

static void test_rng_known_values(void **state) {
    (void)state;
    smoa_rng rng;
    smoa_rng_seed(&rng, 0);
    /* splitmix64's first output from 0, a published value */
    assert_true(rng.s[0] == 0xE220A8397B1DCDAFu);
    /* xoshiro256** outputs from a reference implementation of the paper's
     * algorithm: they pin the stream on every platform */
    const uint64_t want0[] = {0x99EC5F36CB75F2B4u, 0xBF6E1F784956452Au, 0x1A5F849D4933E6E0u,
                              0x6AA594F1262D2D2Cu};
    for (int i = 0; i < 4; i++)
        assert_true(smoa_rng_next(&rng) == want0[i]);
    smoa_rng_seed(&rng, 42);
    const uint64_t want42[] = {0x15780B2E0C2EC716u, 0x6104D9866D113A7Eu, 0xAE17533239E499A1u,
                               0xECB8AD4703B360A1u};
    for (int i = 0; i < 4; i++)
        assert_true(smoa_rng_next(&rng) == want42[i]);
}

static void test_rng_ranges(void **state) {
    (void)state;
    smoa_rng rng;
    smoa_rng_seed(&rng, 7);
    double sum = 0.0;
    for (int i = 0; i < 100000; i++) {
        const double d = smoa_rng_double(&rng);
        const float f = smoa_rng_float(&rng);
        assert_true(d >= 0.0 && d < 1.0);
        assert_true(f >= 0.0f && f < 1.0f);
        sum += d;
    }
    /* mean of 1e5 uniforms: standard error 0.0009 */
    assert_true(fabs(sum / 100000 - 0.5) < 0.005);

    assert_true(smoa_rng_below(&rng, 0) == 0);
    assert_true(smoa_rng_below(&rng, 1) == 0);
    int counts[6] = {0};
    for (int i = 0; i < 60000; i++) {
        const uint64_t x = smoa_rng_below(&rng, 6);
        assert_true(x < 6);
        counts[x]++;
    }
    const double uniform[6] = {1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0};
    int df = 0;
    assert_true(chi2_statistic(counts, uniform, 6, 60000, &df) < chi2_critical_0001(5));
    /* bounds near 2^64, where a modulo would be most biased, stay in range */
    for (int i = 0; i < 1000; i++)
        assert_true(smoa_rng_below(&rng, UINT64_MAX / 2 + 2) < UINT64_MAX / 2 + 2);
}

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */

static void test_defaults(void **state) {
    (void)state;
    smoa_sampler_params p;
    smoa_sampler_params_default(&p);
    assert_true(p.temperature == 0.8f);
    assert_int_equal(p.top_k, 40);
    assert_true(p.top_p == 0.95f);
    assert_true(p.min_p == 0.05f);
    assert_true(p.repeat_penalty == 1.0f);
    assert_true(p.frequency_penalty == 0.0f);
    assert_true(p.presence_penalty == 0.0f);
    assert_int_equal(p.penalty_last_n, 64);
    assert_true(p.seed == 0);
    assert_int_equal(smoa_sampler_params_validate(&p, NULL), SMOA_OK);
}

/* Sets one field to a bad value; validation and creation must refuse it
 * with a message naming the field. */
static void expect_rejected(void (*spoil)(smoa_sampler_params *), const char *field) {
    smoa_sampler_params p;
    smoa_sampler_params_default(&p);
    spoil(&p);
    smoa_error err = {0};
    assert_int_equal(smoa_sampler_params_validate(&p, &err), SMOA_ERR_INVALID_ARGUMENT);
    if (!strstr(err.message, field))
        fail_msg("message \"%s\" does not name %s", err.message, field);
    smoa_sampler *s = (smoa_sampler *)&p; /* poison: must become NULL */
    assert_int_equal(smoa_sampler_create(&p, 16, &s, NULL), SMOA_ERR_INVALID_ARGUMENT);
    assert_null(s);
}

static void negative_temperature(smoa_sampler_params *p) { p->temperature = -0.1f; }
static void nan_temperature(smoa_sampler_params *p) { p->temperature = NAN; }
static void infinite_temperature(smoa_sampler_params *p) { p->temperature = INFINITY; }
static void negative_top_k(smoa_sampler_params *p) { p->top_k = -1; }
static void top_p_above_one(smoa_sampler_params *p) { p->top_p = 1.01f; }
static void negative_top_p(smoa_sampler_params *p) { p->top_p = -0.01f; }
static void nan_top_p(smoa_sampler_params *p) { p->top_p = NAN; }
static void min_p_above_one(smoa_sampler_params *p) { p->min_p = 2.0f; }
static void nan_min_p(smoa_sampler_params *p) { p->min_p = NAN; }
static void zero_repeat_penalty(smoa_sampler_params *p) { p->repeat_penalty = 0.0f; }
static void negative_repeat_penalty(smoa_sampler_params *p) { p->repeat_penalty = -1.0f; }
static void nan_repeat_penalty(smoa_sampler_params *p) { p->repeat_penalty = NAN; }
static void nan_frequency_penalty(smoa_sampler_params *p) { p->frequency_penalty = NAN; }
static void infinite_presence_penalty(smoa_sampler_params *p) { p->presence_penalty = -INFINITY; }
static void short_penalty_window(smoa_sampler_params *p) { p->penalty_last_n = -2; }

static void test_invalid_params(void **state) {
    (void)state;
    expect_rejected(negative_temperature, "temperature");
    expect_rejected(nan_temperature, "temperature");
    expect_rejected(infinite_temperature, "temperature");
    expect_rejected(negative_top_k, "top_k");
    expect_rejected(top_p_above_one, "top_p");
    expect_rejected(negative_top_p, "top_p");
    expect_rejected(nan_top_p, "top_p");
    expect_rejected(min_p_above_one, "min_p");
    expect_rejected(nan_min_p, "min_p");
    expect_rejected(zero_repeat_penalty, "repeat_penalty");
    expect_rejected(negative_repeat_penalty, "repeat_penalty");
    expect_rejected(nan_repeat_penalty, "repeat_penalty");
    expect_rejected(nan_frequency_penalty, "frequency_penalty");
    expect_rejected(infinite_presence_penalty, "presence_penalty");
    expect_rejected(short_penalty_window, "penalty_last_n");

    /* the boundaries themselves are valid */
    smoa_sampler_params p = plain_params(0);
    p.temperature = 0.0f;
    p.top_p = 0.0f;
    p.min_p = 1.0f;
    p.penalty_last_n = -1;
    p.frequency_penalty = -2.0f;
    assert_int_equal(smoa_sampler_params_validate(&p, NULL), SMOA_OK);

    smoa_error err = {0};
    smoa_sampler *s = NULL;
    assert_int_equal(smoa_sampler_params_validate(NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_sampler_create(&p, 0, &s, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "n_vocab"));
    assert_null(s);
    assert_int_equal(smoa_sampler_create(&p, 4, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
}

static void test_bad_calls(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(0);
    smoa_sampler *s = new_sampler(&p, 4);
    const float logits[4] = {0, 1, 2, 3};
    int32_t token = 99;
    smoa_error err = {0};
    assert_int_equal(smoa_sampler_sample(s, NULL, &token, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(token, -1);
    assert_int_equal(smoa_sampler_sample(s, logits, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_sampler_sample(NULL, logits, &token, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_sampler_accept(s, 4, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "outside the vocabulary"));
    assert_int_equal(smoa_sampler_accept(s, -1, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_sampler_accept(NULL, 0, &err), SMOA_ERR_INVALID_ARGUMENT);
    smoa_sampler_reset(NULL);
    smoa_sampler_free(NULL);
    smoa_sampler_free(s);
}

/* ------------------------------------------------------------------------ */
/* Greedy and its equivalents                                               */

static void test_greedy(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(0);
    p.temperature = 0.0f;
    smoa_sampler *s = new_sampler(&p, SMALL_VOCAB);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sample_ok(s, small_logits), 3);
    const float ties[SMALL_VOCAB] = {-1.0f, 4.0f, 2.0f, 4.0f, -INFINITY, 4.0f, 0.0f, 1.0f};
    assert_int_equal(sample_ok(s, ties), 1);
    const float negative[SMALL_VOCAB] = {-7.0f, -2.5f, -2.5f, -3.0f,
                                         -INFINITY, -9.0f, -2.5f, -2.6f};
    assert_int_equal(sample_ok(s, negative), 1);
    smoa_sampler_free(s);
}

/* Random logits in [-4, 4) rounded to quarters, so ties are frequent. */
static void random_logits(smoa_rng *rng, float *logits, int n) {
    for (int i = 0; i < n; i++)
        logits[i] = (float)((int)(smoa_rng_below(rng, 32)) - 16) / 4.0f;
}

/* top_k = 1 and top_p = 0 (or tiny) keep only the best token, ties going to
 * the lowest id: they must agree with greedy on every input. */
static void test_filters_that_reduce_to_greedy(void **state) {
    (void)state;
    enum { N = 50 };
    smoa_sampler_params greedy = plain_params(0);
    greedy.temperature = 0.0f;
    smoa_sampler_params top_k1 = plain_params(1);
    top_k1.top_k = 1;
    smoa_sampler_params top_p0 = plain_params(2);
    top_p0.top_p = 0.0f;
    smoa_sampler_params top_p_tiny = plain_params(3);
    top_p_tiny.top_p = 1e-6f;
    top_p_tiny.top_k = 10; /* through the heap path as well */
    smoa_sampler_params min_p1 = plain_params(4);
    min_p1.min_p = 1.0f;
    min_p1.temperature = 1.5f;

    smoa_sampler *g = new_sampler(&greedy, N);
    smoa_sampler *others[] = {new_sampler(&top_k1, N), new_sampler(&top_p0, N),
                              new_sampler(&top_p_tiny, N)};
    smoa_sampler *m = new_sampler(&min_p1, N);
    smoa_rng rng;
    smoa_rng_seed(&rng, 99);
    float logits[N];
    for (int round = 0; round < 2000; round++) {
        random_logits(&rng, logits, N);
        const int32_t want = sample_ok(g, logits);
        for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
            assert_int_equal(sample_ok(others[k], logits), want);
        /* min_p = 1 keeps every token tied with the best: one of those */
        assert_true(logits[sample_ok(m, logits)] == logits[want]);
    }
    smoa_sampler_free(g);
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
        smoa_sampler_free(others[k]);
    smoa_sampler_free(m);
}

/* ------------------------------------------------------------------------ */
/* Seeds                                                                    */

static void sample_sequence(uint64_t seed, int32_t *tokens, int n) {
    smoa_sampler_params p = plain_params(seed);
    smoa_sampler *s = new_sampler(&p, SMALL_VOCAB);
    for (int i = 0; i < n; i++)
        tokens[i] = sample_ok(s, small_logits);
    smoa_sampler_free(s);
}

static void test_seeds(void **state) {
    (void)state;
    enum { N = 200 };
    int32_t a[N], b[N], c[N];
    sample_sequence(1234, a, N);
    sample_sequence(1234, b, N);
    sample_sequence(1235, c, N);
    assert_memory_equal(a, b, sizeof a);
    /* two draws agree with probability sum(p^2) = 0.28: all 200, never */
    assert_memory_not_equal(a, c, sizeof a);

    /* reset restarts the stream and forgets the history */
    smoa_sampler_params p = plain_params(1234);
    p.repeat_penalty = 1.3f;
    smoa_sampler *s = new_sampler(&p, SMALL_VOCAB);
    int32_t first[N], again[N];
    for (int i = 0; i < N; i++) {
        first[i] = sample_ok(s, small_logits);
        accept_ok(s, first[i]);
    }
    smoa_sampler_reset(s);
    for (int i = 0; i < N; i++) {
        again[i] = sample_ok(s, small_logits);
        accept_ok(s, again[i]);
    }
    assert_memory_equal(first, again, sizeof first);
    smoa_sampler_free(s);
}

/* ------------------------------------------------------------------------ */
/* Distributions                                                            */

static void test_temperature_one_matches_softmax(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(2024);
    double probs[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 1.0, probs);
    int counts[SMALL_VOCAB];
    draw_counts(&p, small_logits, SMALL_VOCAB, DRAWS, counts);
    assert_counts_match(counts, probs, SMALL_VOCAB, DRAWS);

    /* power: the same counts reject the softmax at temperature 1.1 */
    double wrong[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 1.1, wrong);
    int df = 0;
    const double chi2 = chi2_statistic(counts, wrong, SMALL_VOCAB, DRAWS, &df);
    assert_true(chi2 > chi2_critical_0001(df));
}

static void test_temperature_scales(void **state) {
    (void)state;
    const double temperatures[] = {0.5, 2.0};
    for (size_t t = 0; t < 2; t++) {
        smoa_sampler_params p = plain_params(77 + t);
        p.temperature = (float)temperatures[t];
        double probs[SMALL_VOCAB];
        softmax(small_logits, SMALL_VOCAB, temperatures[t], probs);
        assert_distribution(&p, small_logits, SMALL_VOCAB, probs);
    }
}

/* top_k = 3 keeps tokens 3, 0 and 5; their softmax is renormalised. */
static void test_top_k_distribution(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(5);
    p.top_k = 3;
    double probs[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 1.0, probs);
    const bool keep[SMALL_VOCAB] = {true, false, false, true, false, true, false, false};
    restrict_to(probs, SMALL_VOCAB, keep);
    assert_distribution(&p, small_logits, SMALL_VOCAB, probs);
}

/* Softmax probabilities of small_logits, best first: 3: 0.3827, 0: 0.2321,
 * 5: 0.1274, 1: 0.0633, 6: 0.0467, 2: 0.0314, 7: 0.0157, 4: 0.0026.
 * top_p = 0.7: 0.3827 + 0.2321 = 0.6148 < 0.7, + 0.1274 = 0.7422 >= 0.7, so
 * tokens 3, 0, 5 remain. */
static void test_top_p_distribution(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(6);
    p.top_p = 0.7f;
    double probs[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 1.0, probs);
    const bool keep[SMALL_VOCAB] = {true, false, false, true, false, true, false, false};
    restrict_to(probs, SMALL_VOCAB, keep);
    assert_distribution(&p, small_logits, SMALL_VOCAB, probs);

    /* ties at the cut rank by id: four equal tokens, p = 0.5 keeps 0 and 1 */
    const float flat[SMALL_VOCAB] = {1.0f, 1.0f, 1.0f, 1.0f, -INFINITY, -INFINITY, -INFINITY,
                                     -INFINITY};
    p.top_p = 0.5f;
    const double halves[SMALL_VOCAB] = {0.5, 0.5, 0, 0, 0, 0, 0, 0};
    assert_distribution(&p, flat, SMALL_VOCAB, halves);
}

/* min_p = 0.1: p >= 0.03827 keeps 3, 0, 5, 1, 6 (0.0467) and drops 2
 * (0.0314), 7 and 4. */
static void test_min_p_distribution(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(7);
    p.min_p = 0.1f;
    double probs[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 1.0, probs);
    const bool keep[SMALL_VOCAB] = {true, true, false, true, false, true, true, false};
    restrict_to(probs, SMALL_VOCAB, keep);
    assert_distribution(&p, small_logits, SMALL_VOCAB, probs);
}

/* top-p comes first in the pipeline, so it measures mass against the whole
 * (top-k) distribution, not against what min-p leaves. With top_p = 0.7 it
 * keeps 3, 0, 5 (0.7422 >= 0.7), and min_p = 0.1 keeps those. Measured
 * against min-p's survivors (mass 0.8522) it would stop at 3, 0
 * (0.6148 >= 0.7 * 0.8522). */
static void test_top_p_and_min_p(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(12);
    p.top_p = 0.7f;
    p.min_p = 0.1f;
    double probs[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 1.0, probs);
    const bool keep[SMALL_VOCAB] = {true, false, false, true, false, true, false, false};
    restrict_to(probs, SMALL_VOCAB, keep);
    assert_distribution(&p, small_logits, SMALL_VOCAB, probs);
}

/* All stages together, at temperature 0.7: top_k = 6 drops 2 and 7 and 4;
 * top_p = 0.9 then keeps the best tokens up to 90% of the top-6 mass; min_p
 * = 0.2 drops what is below 0.2 * p_max. The expected set is computed here
 * from the definitions, in the pipeline's order. */
static void test_combined_distribution(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(8);
    p.temperature = 0.7f;
    p.top_k = 6;
    p.top_p = 0.9f;
    p.min_p = 0.2f;
    double probs[SMALL_VOCAB];
    softmax(small_logits, SMALL_VOCAB, 0.7, probs);
    const int ranking[SMALL_VOCAB] = {3, 0, 5, 1, 6, 2, 7, 4};
    bool keep[SMALL_VOCAB] = {false};
    for (int r = 0; r < 6; r++)
        keep[ranking[r]] = true;
    restrict_to(probs, SMALL_VOCAB, keep);
    double mass = 0.0;
    bool nucleus_full = false;
    for (int r = 0; r < 6; r++) {
        const int t = ranking[r];
        keep[t] = !nucleus_full && probs[t] >= 0.2 * probs[3];
        mass += probs[t];
        nucleus_full = nucleus_full || mass >= 0.9;
    }
    restrict_to(probs, SMALL_VOCAB, keep);
    /* the set is neither everything nor one token, so each stage mattered */
    int kept = 0;
    for (int i = 0; i < SMALL_VOCAB; i++)
        kept += keep[i];
    assert_true(kept > 1 && kept < 6);
    assert_distribution(&p, small_logits, SMALL_VOCAB, probs);
}

/* ------------------------------------------------------------------------ */
/* Penalties                                                                */

static int32_t greedy_after(const smoa_sampler_params *base, const float *logits, int n,
                            const int32_t *history, int n_history) {
    smoa_sampler_params p = *base;
    p.temperature = 0.0f;
    smoa_sampler *s = new_sampler(&p, n);
    for (int i = 0; i < n_history; i++)
        accept_ok(s, history[i]);
    const int32_t token = sample_ok(s, logits);
    smoa_sampler_free(s);
    return token;
}

static void test_repeat_penalty(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(0);
    p.repeat_penalty = 1.1f;
    const int32_t seen0[] = {0};
    /* positive logits are divided: 2.0 / 1.1 = 1.818 < 1.9 */
    const float positive[3] = {2.0f, 1.9f, 0.0f};
    assert_int_equal(greedy_after(&p, positive, 3, NULL, 0), 0);
    assert_int_equal(greedy_after(&p, positive, 3, seen0, 1), 1);
    /* but 2.0 / 1.1 = 1.818 > 1.8 */
    const float close[3] = {2.0f, 1.8f, 0.0f};
    assert_int_equal(greedy_after(&p, close, 3, seen0, 1), 0);
    /* negative logits are multiplied: -0.5 * 1.1 = -0.55 < -0.52 */
    const float negative[3] = {-0.5f, -0.52f, -3.0f};
    assert_int_equal(greedy_after(&p, negative, 3, seen0, 1), 1);
    /* and a penalty below 1 favours repeats: 1.8 / 0.9 = 2.0 > 1.9 */
    p.repeat_penalty = 0.9f;
    const int32_t seen1[] = {2};
    const float favour[3] = {1.9f, 0.0f, 1.8f};
    assert_int_equal(greedy_after(&p, favour, 3, seen1, 1), 2);
}

static void test_frequency_and_presence(void **state) {
    (void)state;
    const float logits[3] = {2.0f, 1.75f, 0.0f};
    smoa_sampler_params p = plain_params(0);
    p.frequency_penalty = 0.1f;
    /* 2.0 - 2 * 0.1 = 1.8 > 1.75, 2.0 - 3 * 0.1 = 1.7 < 1.75 */
    const int32_t twice[] = {0, 2, 0};
    const int32_t thrice[] = {0, 0, 2, 0};
    assert_int_equal(greedy_after(&p, logits, 3, twice, 3), 0);
    assert_int_equal(greedy_after(&p, logits, 3, thrice, 4), 1);

    p = plain_params(0);
    p.presence_penalty = 0.2f; /* once, however often: 1.8 > 1.75 */
    assert_int_equal(greedy_after(&p, logits, 3, thrice, 4), 0);
    p.presence_penalty = 0.3f; /* 1.7 < 1.75 */
    const int32_t once[] = {0};
    assert_int_equal(greedy_after(&p, logits, 3, once, 1), 1);

    /* all three, in order: (2.0 / 1.25) - 2 * 0.05 - 0.1 = 1.4 */
    p = plain_params(0);
    p.repeat_penalty = 1.25f;
    p.frequency_penalty = 0.05f;
    p.presence_penalty = 0.1f;
    const float around[3] = {2.0f, 1.41f, 1.39f};
    assert_int_equal(greedy_after(&p, around, 3, twice, 3), 1);
    const float below[3] = {2.0f, 1.3f, 1.39f};
    assert_int_equal(greedy_after(&p, below, 3, twice, 3), 0);
}

static void test_penalty_window(void **state) {
    (void)state;
    const float logits[4] = {2.0f, 1.9f, 0.0f, 0.0f};
    smoa_sampler_params p = plain_params(0);
    p.repeat_penalty = 1.1f;
    /* penalty_last_n = 2: after 0, 2, 3 only 2 and 3 are in the window */
    p.penalty_last_n = 2;
    const int32_t old[] = {0, 2, 3};
    assert_int_equal(greedy_after(&p, logits, 4, old, 3), 0);
    const int32_t recent[] = {2, 0, 3};
    assert_int_equal(greedy_after(&p, logits, 4, recent, 3), 1);
    /* -1: every token since reset */
    p.penalty_last_n = -1;
    assert_int_equal(greedy_after(&p, logits, 4, old, 3), 1);
    /* 0: no window, no penalty */
    p.penalty_last_n = 0;
    assert_int_equal(greedy_after(&p, logits, 4, recent, 3), 0);

    /* a long window fills and slides: 1000 tokens, then token 0 leaves */
    p.penalty_last_n = 1000;
    p.temperature = 0.0f;
    smoa_sampler *s = new_sampler(&p, 4);
    accept_ok(s, 0);
    for (int i = 0; i < 999; i++)
        accept_ok(s, 3);
    assert_int_equal(sample_ok(s, logits), 1);
    accept_ok(s, 3);
    assert_int_equal(sample_ok(s, logits), 0);
    smoa_sampler_reset(s); /* and reset forgets */
    accept_ok(s, 0);
    assert_int_equal(sample_ok(s, logits), 1);
    smoa_sampler_reset(s);
    assert_int_equal(sample_ok(s, logits), 0);
    smoa_sampler_free(s);
}

/* The window slides token by token: after every accept of a random
 * sequence, each token must be penalised exactly when it is among the last
 * three. Token t (logit 1.0, presence penalty 0.1 when seen) against the
 * never-accepted probe token 4 (0.95) tells which. */
static void test_penalty_window_slides(void **state) {
    (void)state;
    enum { WINDOW = 3, STEPS = 300, PROBE = 4 };
    smoa_sampler_params p = plain_params(0);
    p.temperature = 0.0f;
    p.presence_penalty = 0.1f;
    p.penalty_last_n = WINDOW;
    smoa_sampler *s = new_sampler(&p, PROBE + 1);
    smoa_rng rng;
    smoa_rng_seed(&rng, 5);
    int32_t history[STEPS];
    for (int step = 0; step < STEPS; step++) {
        history[step] = (int32_t)smoa_rng_below(&rng, PROBE);
        accept_ok(s, history[step]);
        for (int32_t t = 0; t < PROBE; t++) {
            bool in_window = false;
            for (int back = 0; back < WINDOW && back <= step; back++)
                in_window = in_window || history[step - back] == t;
            float logits[PROBE + 1] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, 0.95f};
            logits[t] = 1.0f;
            assert_int_equal(sample_ok(s, logits), in_window ? PROBE : t);
        }
    }
    smoa_sampler_free(s);
}

/* Penalties feed the distribution, not only the argmax: token 3 seen twice
 * with frequency 0.5 and presence 0.25 loses 1.25 from its logit. */
static void test_penalised_distribution(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(9);
    p.frequency_penalty = 0.5f;
    p.presence_penalty = 0.25f;
    smoa_sampler *s = new_sampler(&p, SMALL_VOCAB);
    accept_ok(s, 3);
    accept_ok(s, 3);
    int counts[SMALL_VOCAB] = {0};
    for (int i = 0; i < DRAWS; i++)
        counts[sample_ok(s, small_logits)]++;
    smoa_sampler_free(s);
    float adjusted[SMALL_VOCAB];
    memcpy(adjusted, small_logits, sizeof adjusted);
    adjusted[3] -= 1.25f;
    double probs[SMALL_VOCAB];
    softmax(adjusted, SMALL_VOCAB, 1.0, probs);
    assert_counts_match(counts, probs, SMALL_VOCAB, DRAWS);
}

/* ------------------------------------------------------------------------ */
/* Non-finite logits                                                        */

static void expect_refused(const smoa_sampler_params *p, const float *logits, int n,
                           const char *words) {
    smoa_sampler *s = new_sampler(p, n);
    int32_t token = 5;
    smoa_error err = {0};
    assert_int_equal(smoa_sampler_sample(s, logits, &token, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(token, -1);
    if (!strstr(err.message, words))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, words);
    smoa_sampler_free(s);
}

static void test_non_finite_logits(void **state) {
    (void)state;
    smoa_sampler_params modes[3];
    modes[0] = plain_params(0);
    modes[0].temperature = 0.0f;
    smoa_sampler_params_default(&modes[1]);
    modes[2] = plain_params(0);
    modes[2].top_k = 2;
    const float with_nan[4] = {0.5f, 1.0f, NAN, 0.0f};
    const float with_inf[4] = {0.5f, INFINITY, 2.0f, 0.0f};
    const float all_masked[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    const float one_left[4] = {-INFINITY, -INFINITY, -INFINITY, -50.0f};
    for (int m = 0; m < 3; m++) {
        expect_refused(&modes[m], with_nan, 4, "token 2 is NaN");
        expect_refused(&modes[m], with_inf, 4, "token 1 is +inf");
        expect_refused(&modes[m], all_masked, 4, "every logit is -inf");
        smoa_sampler *s = new_sampler(&modes[m], 4);
        for (int i = 0; i < 100; i++)
            assert_int_equal(sample_ok(s, one_left), 3);
        smoa_sampler_free(s);
    }
    /* penalties that overflow a logit to +inf are refused too */
    smoa_sampler_params p = plain_params(0);
    p.repeat_penalty = 1e-30f;
    smoa_sampler *s = new_sampler(&p, 4);
    accept_ok(s, 0);
    const float big[4] = {1e10f, 0.0f, 0.0f, 0.0f};
    int32_t token;
    smoa_error err = {0};
    assert_int_equal(smoa_sampler_sample(s, big, &token, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "penalties"));
    smoa_sampler_free(s);
}

/* A tiny temperature is greedy in effect, and must not overflow. */
static void test_tiny_temperature(void **state) {
    (void)state;
    smoa_sampler_params p = plain_params(11);
    p.temperature = 1e-30f;
    smoa_sampler *s = new_sampler(&p, SMALL_VOCAB);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sample_ok(s, small_logits), 3);
    smoa_sampler_free(s);
}

/* ------------------------------------------------------------------------ */
/* A real vocabulary size: the heap and the chunked nucleus                 */

enum { BIG_VOCAB = 49152 };

static int compare_desc(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Random logits with distinct values (a permutation of a grid), spread so
 * that the nucleus holds hundreds of tokens. */
static float *big_logits(uint64_t seed) {
    float *logits = malloc(BIG_VOCAB * sizeof *logits);
    assert_non_null(logits);
    for (int i = 0; i < BIG_VOCAB; i++)
        logits[i] = (float)i / 4096.0f; /* 0 .. 12, distinct */
    smoa_rng rng;
    smoa_rng_seed(&rng, seed);
    for (int i = BIG_VOCAB - 1; i > 0; i--) {
        const int j = (int)smoa_rng_below(&rng, (uint64_t)i + 1);
        const float t = logits[i];
        logits[i] = logits[j];
        logits[j] = t;
    }
    return logits;
}

static void test_big_vocab_top_k(void **state) {
    (void)state;
    float *logits = big_logits(1);
    float *sorted = malloc(BIG_VOCAB * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, logits, BIG_VOCAB * sizeof *sorted);
    qsort(sorted, BIG_VOCAB, sizeof *sorted, compare_desc);
    const float kth = sorted[39];

    smoa_sampler_params p = plain_params(3);
    p.top_k = 40;
    p.temperature = 0.01f; /* 1/4096 apart at T 0.01: a gentle slope */
    smoa_sampler *s = new_sampler(&p, BIG_VOCAB);
    bool seen_last = false;
    for (int i = 0; i < 5000; i++) {
        const float v = logits[sample_ok(s, logits)];
        assert_true(v >= kth);
        seen_last = seen_last || v == kth;
    }
    assert_true(seen_last); /* the 40th token is reachable */
    smoa_sampler_free(s);
    free(sorted);
    free(logits);
}

static void test_big_vocab_nucleus(void **state) {
    (void)state;
    float *logits = big_logits(2);
    float *sorted = malloc(BIG_VOCAB * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, logits, BIG_VOCAB * sizeof *sorted);
    qsort(sorted, BIG_VOCAB, sizeof *sorted, compare_desc);

    /* temperature 0.5 over logits 1/4096 apart: weights exp(-rank / 2048),
     * so the 0.6 nucleus holds about 1900 tokens and ends inside a
     * quarter-octave bucket of about 350 */
    const double temperature = 0.5, top_p = 0.6;
    double total = 0.0, mass = 0.0;
    for (int r = 0; r < BIG_VOCAB; r++)
        total += exp((sorted[r] - sorted[0]) / temperature);
    int nucleus = 0;
    while (mass < top_p * total)
        mass += exp((sorted[nucleus++] - sorted[0]) / temperature);
    assert_true(nucleus > 1000);

    smoa_sampler_params p = plain_params(4);
    p.temperature = (float)temperature;
    p.top_p = (float)top_p;
    smoa_sampler *s = new_sampler(&p, BIG_VOCAB);
    float lowest = INFINITY;
    for (int i = 0; i < 3000; i++) {
        const float v = logits[sample_ok(s, logits)];
        if (v < lowest)
            lowest = v;
    }
    /* never beyond the nucleus (one token of slack for float rounding at
     * its edge), and reaching close to that edge */
    assert_true(lowest >= sorted[nucleus]);
    assert_true(lowest <= sorted[nucleus - 20]);
    smoa_sampler_free(s);
    free(sorted);
    free(logits);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_known_values),
        cmocka_unit_test(test_rng_ranges),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_invalid_params),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_filters_that_reduce_to_greedy),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_temperature_one_matches_softmax),
        cmocka_unit_test(test_temperature_scales),
        cmocka_unit_test(test_top_k_distribution),
        cmocka_unit_test(test_top_p_distribution),
        cmocka_unit_test(test_min_p_distribution),
        cmocka_unit_test(test_top_p_and_min_p),
        cmocka_unit_test(test_combined_distribution),
        cmocka_unit_test(test_repeat_penalty),
        cmocka_unit_test(test_frequency_and_presence),
        cmocka_unit_test(test_penalty_window),
        cmocka_unit_test(test_penalty_window_slides),
        cmocka_unit_test(test_penalised_distribution),
        cmocka_unit_test(test_non_finite_logits),
        cmocka_unit_test(test_tiny_temperature),
        cmocka_unit_test(test_big_vocab_top_k),
        cmocka_unit_test(test_big_vocab_nucleus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
