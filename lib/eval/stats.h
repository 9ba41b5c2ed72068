/* stats.h - the few statistics an evaluation report needs: 95% intervals
 * for a proportion and for a mean, and exact two-sided tests for paired
 * results. Plain functions on counts; no allocation, no global state.
 *
 * An interval whose data cannot give one (no observations, or one rating)
 * holds NaN in the places that are undefined; reports print them as "n/a". */
#ifndef SMOA_EVAL_STATS_H
#define SMOA_EVAL_STATS_H

#include <stdint.h>

typedef struct smoa_interval {
    double estimate; /* the proportion (0..1) or the mean */
    double low;      /* 95% lower bound                   */
    double high;     /* 95% upper bound                   */
} smoa_interval;

/* Wilson score interval for `successes` out of `n` (z = 1.959964). Unlike
 * the normal-approximation interval it stays inside [0, 1] and is not
 * empty at 0/n or n/n. n <= 0 (or successes outside 0..n) gives NaNs. */
smoa_interval smoa_stats_wilson(int64_t successes, int64_t n);

/* A running mean and sum of squared deviations (Welford), so that many
 * ratings can be summarised in one pass without cancellation. Start from
 * a zeroed struct. */
typedef struct smoa_mean_acc {
    int64_t n;
    double mean;
    double m2; /* sum of squared deviations from the mean */
} smoa_mean_acc;

void smoa_stats_mean_add(smoa_mean_acc *acc, double x);

/* Mean with a 95% interval mean +- q * s / sqrt(n), s the sample standard
 * deviation. q is Student's t quantile (0.975, n - 1 degrees of freedom)
 * for n < 30 and the normal quantile 1.959964 from n = 30 on, where the two
 * differ by under 5%. n == 0 gives NaNs; n == 1 a mean with NaN bounds. */
smoa_interval smoa_stats_mean_interval(const smoa_mean_acc *acc);

/* Exact two-sided McNemar test for paired right/wrong results: b and c are
 * the discordant pairs (only the first right, only the second right).
 * p = min(1, 2 * P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2); b = c = 0
 * gives 1. Summed in log space, so b + c in the billions neither overflows
 * nor underflows to a wrong answer (tiny p values may round to 0). Negative
 * counts give NaN. */
double smoa_stats_mcnemar_exact(int64_t b, int64_t c);

/* Exact two-sided sign test for paired ratings: `greater` pairs where the
 * first rating is higher, `less` where it is lower; the caller drops ties.
 * The same binomial as McNemar's test, named for what it is used on. */
double smoa_stats_sign_test(int64_t greater, int64_t less);

#endif
