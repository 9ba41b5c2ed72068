/* threadpool.c - workers, and a spin-then-sleep barrier. */
#include "core/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* ~20-50 us of pause instructions before a waiter sleeps. */
#define SPIN_ROUNDS 2000

/* A sense-reversing barrier: the last thread to arrive flips `phase`;
 * the others wait for the flip, spinning first, then on the condition. */
typedef struct barrier {
    atomic_int n;         /* threads that take part                         */
    atomic_int arrived;
    atomic_uint phase;
    atomic_int sleepers;
    pthread_mutex_t lock;
    pthread_cond_t flipped;
} barrier;

struct smoa_pool {
    int n_threads;
    pthread_t *workers;   /* [n_threads - 1] */
    barrier sync;         /* between steps inside a run, and run start/end */
    smoa_pool_fn fn;      /* the current run's work */
    void *arg;
    atomic_bool stop;
};

/* The flip and the sleeper count are sequentially consistent: the last
 * arriver stores the phase and then reads the sleepers, a sleeper adds
 * itself and then reads the phase, and with weaker orderings both reads
 * could see the old values (a store may pass a later load, even on x86):
 * no broadcast, and a sleeper that never wakes. */
static void barrier_wait(barrier *b) {
    unsigned phase = atomic_load(&b->phase);
    if (atomic_fetch_add(&b->arrived, 1) == atomic_load(&b->n) - 1) {
        atomic_store(&b->arrived, 0);
        atomic_store(&b->phase, phase + 1);
        if (atomic_load(&b->sleepers) > 0) {
            pthread_mutex_lock(&b->lock);
            pthread_cond_broadcast(&b->flipped);
            pthread_mutex_unlock(&b->lock);
        }
        return;
    }
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&b->phase, memory_order_acquire) != phase) return;
        CPU_RELAX();
    }
    pthread_mutex_lock(&b->lock);
    atomic_fetch_add(&b->sleepers, 1);
    while (atomic_load(&b->phase) == phase) pthread_cond_wait(&b->flipped, &b->lock);
    atomic_fetch_sub(&b->sleepers, 1);
    pthread_mutex_unlock(&b->lock);
}

void smoa_pool_barrier(smoa_pool *pool) {
    if (pool->n_threads > 1) barrier_wait(&pool->sync);
}

typedef struct worker_start {
    smoa_pool *pool;
    int ith;
} worker_start;

/* Workers wait at the barrier for a run, do their share, meet again at its
 * end. Between runs they sleep on the barrier's condition. */
static void *worker_main(void *p) {
    worker_start start = *(worker_start *)p;
    free(p);
    smoa_pool *pool = start.pool;
    for (;;) {
        barrier_wait(&pool->sync);
        if (atomic_load(&pool->stop)) return NULL;
        pool->fn(pool->arg, start.ith, pool->n_threads);
        barrier_wait(&pool->sync);
    }
}

void smoa_pool_run(smoa_pool *pool, smoa_pool_fn fn, void *arg) {
    pool->fn = fn;
    pool->arg = arg;
    smoa_pool_barrier(pool); /* publishes fn/arg: the workers start */
    fn(arg, 0, pool->n_threads);
    smoa_pool_barrier(pool); /* everyone finished */
}

int smoa_pool_size(const smoa_pool *pool) { return pool->n_threads; }

smoa_status smoa_pool_create(int n_threads, smoa_pool **out, smoa_error *err) {
    *out = NULL;
    if (n_threads < 1) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "thread count %d < 1", n_threads);
    smoa_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    pool->n_threads = n_threads;
    atomic_init(&pool->sync.n, n_threads);
    pthread_mutex_init(&pool->sync.lock, NULL);
    pthread_cond_init(&pool->sync.flipped, NULL);
    pool->workers = calloc((size_t)n_threads, sizeof *pool->workers);
    if (!pool->workers) {
        smoa_pool_destroy(pool);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 1; i < n_threads; i++) {
        worker_start *start = malloc(sizeof *start);
        if (start) *start = (worker_start){pool, i};
        if (!start || pthread_create(&pool->workers[i - 1], NULL, worker_main, start) != 0) {
            free(start);
            /* stop the workers started so far: the barrier counts them only */
            pool->n_threads = i;
            atomic_store(&pool->sync.n, i);
            smoa_pool_destroy(pool);
            return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "cannot start worker thread %d", i);
        }
    }
    *out = pool;
    return SMOA_OK;
}

void smoa_pool_destroy(smoa_pool *pool) {
    if (!pool) return;
    if (pool->workers && pool->n_threads > 1) {
        atomic_store(&pool->stop, true);
        smoa_pool_barrier(pool); /* wakes the workers, which see stop */
        for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->workers[i - 1], NULL);
    }
    pthread_mutex_destroy(&pool->sync.lock);
    pthread_cond_destroy(&pool->sync.flipped);
    free(pool->workers);
    free(pool);
}
