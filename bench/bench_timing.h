/* bench_timing.h - the clock and the median every benchmark reports. */
#ifndef SMOA_BENCH_TIMING_H
#define SMOA_BENCH_TIMING_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic seconds. */
static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n), n >= 1 (NaN for n < 1 or out of memory). Sorts a
 * copy: callers keep their order. */
static inline double bench_median(const double *v, int n) {
    double *sorted = n >= 1 ? malloc((size_t)n * sizeof *sorted) : NULL;
    if (!sorted) return 0.0 / 0.0;
    memcpy(sorted, v, (size_t)n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, bench_by_value);
    double m = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    free(sorted);
    return m;
}

#endif
