/* stats.c - Wilson and t intervals, exact binomial tests (see stats.h). */
#include "eval/stats.h"

#include <math.h>

/* Two-sided 95%: the 0.975 quantile of the standard normal. */
static const double z_95 = 1.959963984540054;

static smoa_interval undefined_interval(void) {
    smoa_interval none = {NAN, NAN, NAN};
    return none;
}

smoa_interval smoa_stats_wilson(int64_t successes, int64_t n) {
    if (n <= 0 || successes < 0 || successes > n) return undefined_interval();
    double nn = (double)n;
    double p = (double)successes / nn;
    double z2 = z_95 * z_95;
    double denom = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / denom;
    double half = z_95 * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
    smoa_interval r = {p, fmax(0.0, centre - half), fmin(1.0, centre + half)};
    return r;
}

void smoa_stats_mean_add(smoa_mean_acc *acc, double x) {
    acc->n++;
    double delta = x - acc->mean;
    acc->mean += delta / (double)acc->n;
    acc->m2 += delta * (x - acc->mean);
}

/* Student's t 0.975 quantile for 1..29 degrees of freedom (standard
 * tables, 4 decimals). */
static double t_quantile_975(int64_t df) {
    static const double table[29] = {
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452};
    return df >= 1 && df <= 29 ? table[df - 1] : z_95;
}

smoa_interval smoa_stats_mean_interval(const smoa_mean_acc *acc) {
    smoa_interval r = undefined_interval();
    if (acc->n <= 0) return r;
    r.estimate = acc->mean;
    if (acc->n == 1) return r;
    double sd = sqrt(acc->m2 / (double)(acc->n - 1));
    double half = t_quantile_975(acc->n - 1) * sd / sqrt((double)acc->n);
    r.low = acc->mean - half;
    r.high = acc->mean + half;
    return r;
}

/* P(X <= m) for X ~ Binomial(n, 1/2) with 2m < n. The largest term,
 * P(X = m), comes from log-gamma; the smaller ones follow from the ratio
 * P(X = i-1) / P(X = i) = i / (n - i + 1) < 1 and are summed relative to
 * it until they no longer change the sum, so nothing overflows and the
 * work grows with sqrt(n) at worst. */
static double binomial_half_lower_tail(double n, double m) {
    double log_pm = lgamma(n + 1.0) - lgamma(m + 1.0) - lgamma(n - m + 1.0) - n * log(2.0);
    double relative_sum = 1.0;
    double term = 1.0;
    for (double i = m; i >= 1.0; i -= 1.0) {
        term *= i / (n - i + 1.0);
        relative_sum += term;
        if (term < relative_sum * 1e-17) break;
    }
    return exp(log_pm + log(relative_sum));
}

/* Two-sided exact binomial test of a vs b successes at p = 1/2. */
static double binomial_two_sided(int64_t a, int64_t b) {
    if (a < 0 || b < 0) return NAN;
    if (a == b) return 1.0; /* the tail holds the median: 2 * P >= 1 */
    double n = (double)a + (double)b;
    double m = (double)(a < b ? a : b);
    return fmin(1.0, 2.0 * binomial_half_lower_tail(n, m));
}

double smoa_stats_mcnemar_exact(int64_t b, int64_t c) { return binomial_two_sided(b, c); }

double smoa_stats_sign_test(int64_t greater, int64_t less) {
    return binomial_two_sided(greater, less);
}
