/* test_eval_stats.c - intervals and exact tests of lib/eval/stats.
 *
 * Expected values were computed independently in Python:
 *   Wilson: p = k/n, d = 1 + z^2/n, centre = (p + z^2/(2n)) / d,
 *           half = z * sqrt(p(1-p)/n + z^2/(4n^2)) / d, z = 1.959963984540054.
 *   McNemar / sign test: exact integers,
 *           min(1, Fraction(2 * sum(comb(b+c, i) for i <= min(b,c)), 2**(b+c))).
 *   Beyond exact reach (b + c = 2e9): the normal approximation with
 *           continuity correction, erfc(((|b-c| - 1) / sqrt(b+c)) / sqrt(2)),
 *           which at b + c = 20300 already agrees with the exact value to
 *           1e-4 relative. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "eval/stats.h"

static void assert_near(double actual, double expected, double tolerance) {
    if (!(fabs(actual - expected) <= tolerance))
        fail_msg("got %.12g, expected %.12g (tolerance %g)", actual, expected, tolerance);
}

static void assert_relative(double actual, double expected, double relative) {
    assert_near(actual, expected, fabs(expected) * relative);
}

static void test_wilson_known_values(void **state) {
    (void)state;
    smoa_interval r = smoa_stats_wilson(0, 10);
    assert_near(r.estimate, 0.0, 1e-12);
    assert_near(r.low, 0.0, 1e-12);
    assert_near(r.high, 0.277533, 1e-6);

    r = smoa_stats_wilson(5, 10);
    assert_near(r.estimate, 0.5, 1e-12);
    assert_near(r.low, 0.236593, 1e-6);
    assert_near(r.high, 0.763407, 1e-6);

    r = smoa_stats_wilson(10, 10);
    assert_near(r.low, 0.722467, 1e-6);
    assert_near(r.high, 1.0, 1e-12);

    r = smoa_stats_wilson(37, 100);
    assert_near(r.estimate, 0.37, 1e-12);
    assert_near(r.low, 0.281824, 1e-6);
    assert_near(r.high, 0.467795, 1e-6);
}

static void test_wilson_rejects_impossible_counts(void **state) {
    (void)state;
    assert_true(isnan(smoa_stats_wilson(0, 0).estimate));
    assert_true(isnan(smoa_stats_wilson(3, 2).low));
    assert_true(isnan(smoa_stats_wilson(-1, 5).high));
}

/* Ratings 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7,
 * s = 2.138090, t(0.975, 7) = 2.3646, half = 2.3646 * 2.138090 / sqrt(8)
 * = 1.787470. */
static void test_mean_interval_small_sample_uses_t(void **state) {
    (void)state;
    const double ratings[] = {2, 4, 4, 4, 5, 5, 7, 9};
    smoa_mean_acc acc = {0};
    for (size_t i = 0; i < 8; i++) smoa_stats_mean_add(&acc, ratings[i]);
    smoa_interval r = smoa_stats_mean_interval(&acc);
    assert_near(r.estimate, 5.0, 1e-12);
    assert_near(r.low, 5.0 - 1.787470, 1e-5);
    assert_near(r.high, 5.0 + 1.787470, 1e-5);
}

/* 40 values, 20 of 1 and 20 of 3: mean 2, sample variance 40/39,
 * half = 1.959964 * sqrt(40/39) / sqrt(40) = 0.313845 (normal from n = 30). */
static void test_mean_interval_large_sample_uses_normal(void **state) {
    (void)state;
    smoa_mean_acc acc = {0};
    for (int i = 0; i < 40; i++) smoa_stats_mean_add(&acc, i % 2 ? 3.0 : 1.0);
    smoa_interval r = smoa_stats_mean_interval(&acc);
    assert_near(r.estimate, 2.0, 1e-12);
    assert_near(r.high - r.estimate, 0.313845, 1e-6);
    assert_near(r.estimate - r.low, 0.313845, 1e-6);
}

static void test_mean_interval_degenerate(void **state) {
    (void)state;
    smoa_mean_acc acc = {0};
    assert_true(isnan(smoa_stats_mean_interval(&acc).estimate));
    smoa_stats_mean_add(&acc, 7.0);
    smoa_interval one = smoa_stats_mean_interval(&acc);
    assert_near(one.estimate, 7.0, 0.0);
    assert_true(isnan(one.low) && isnan(one.high));
}

static void test_mcnemar_exact_small(void **state) {
    (void)state;
    assert_near(smoa_stats_mcnemar_exact(0, 0), 1.0, 0.0);
    assert_near(smoa_stats_mcnemar_exact(5, 0), 0.0625, 1e-15);
    assert_near(smoa_stats_mcnemar_exact(0, 5), 0.0625, 1e-15);
    assert_relative(smoa_stats_mcnemar_exact(10, 20), 0.09873714670538902, 1e-12);
    assert_relative(smoa_stats_mcnemar_exact(20, 10), 0.09873714670538902, 1e-12);
    assert_relative(smoa_stats_mcnemar_exact(3, 9), 0.14599609375, 1e-12);
    assert_relative(smoa_stats_mcnemar_exact(40, 60), 0.05688793364098079, 1e-12);
    assert_relative(smoa_stats_mcnemar_exact(0, 30), 1.862645149230957e-09, 1e-12);
    assert_near(smoa_stats_mcnemar_exact(1, 1), 1.0, 0.0);
    assert_near(smoa_stats_mcnemar_exact(4, 5), 1.0, 0.0); /* 2 * 0.5 = 1 */
    assert_true(isnan(smoa_stats_mcnemar_exact(-1, 3)));
}

static void test_mcnemar_exact_large(void **state) {
    (void)state;
    assert_relative(smoa_stats_mcnemar_exact(10000, 10300), 0.03585235973615882, 1e-9);
    assert_relative(smoa_stats_mcnemar_exact(50700, 50000), 0.027612869431937064, 1e-9);
    /* lgamma near 4e10 carries ~1e-5 absolute error; 1e-3 relative is ample */
    assert_relative(smoa_stats_mcnemar_exact(1000000000, 1000100000), 0.025352444695955958,
                    1e-3);
    assert_near(smoa_stats_mcnemar_exact(1000000000, 1000000000), 1.0, 0.0);
    /* 2 * 2^-5000 underflows: a clean 0, not NaN or a negative */
    double tiny = smoa_stats_mcnemar_exact(0, 5000);
    assert_true(tiny >= 0.0 && tiny < 1e-300);
}

/* Sign test: 9 pairs favour the first, 1 the second (ties dropped by the
 * caller): 2 * (1 + 10) / 1024 = 0.021484375. */
static void test_sign_test(void **state) {
    (void)state;
    assert_near(smoa_stats_sign_test(9, 1), 0.021484375, 1e-15);
    assert_near(smoa_stats_sign_test(1, 9), 0.021484375, 1e-15);
    assert_near(smoa_stats_sign_test(0, 0), 1.0, 0.0);
    assert_near(smoa_stats_sign_test(6, 0), 0.03125, 1e-15);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson_known_values),
        cmocka_unit_test(test_wilson_rejects_impossible_counts),
        cmocka_unit_test(test_mean_interval_small_sample_uses_t),
        cmocka_unit_test(test_mean_interval_large_sample_uses_normal),
        cmocka_unit_test(test_mean_interval_degenerate),
        cmocka_unit_test(test_mcnemar_exact_small),
        cmocka_unit_test(test_mcnemar_exact_large),
        cmocka_unit_test(test_sign_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
