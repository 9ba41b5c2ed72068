/* run_stats.h - wall-clock timing for the CLI's token rates. */
#ifndef SMOA_CLI_RUN_STATS_H
#define SMOA_CLI_RUN_STATS_H

#include <time.h>

static inline double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
