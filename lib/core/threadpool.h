/* threadpool.h - a fixed set of worker threads that run one function
 * together, with a barrier for the steps inside it.
 *
 * A forward pass has hundreds of dependent steps, so the barrier must be
 * cheap: waiters spin for a few microseconds (the common case on an idle
 * machine: the others arrive almost at once), then sleep on a condition
 * variable, so that a loaded or oversubscribed machine is not burnt by
 * spinning threads that keep the laggard from running. */
#ifndef SMOA_CORE_THREADPOOL_H
#define SMOA_CORE_THREADPOOL_H

#include "core/error.h"

typedef struct smoa_pool smoa_pool;

/* Work for thread ith of nth; the caller of smoa_pool_run is thread 0. */
typedef void (*smoa_pool_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (n_threads - 1 workers are started). */
smoa_status smoa_pool_create(int n_threads, smoa_pool **out, smoa_error *err);
void smoa_pool_destroy(smoa_pool *pool);
int smoa_pool_size(const smoa_pool *pool);

/* Runs fn on every thread and returns when all have finished. */
void smoa_pool_run(smoa_pool *pool, smoa_pool_fn fn, void *arg);

/* Called by all threads inside fn: returns once every thread has called it. */
void smoa_pool_barrier(smoa_pool *pool);

#endif
