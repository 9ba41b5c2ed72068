/* test_threadpool.c - the pool's barrier under oversubscription (more
 * threads than cores, so waiters take the sleeping path): every round sees
 * every thread's work, and nothing hangs (ctest's timeout would say so). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/threadpool.h"

enum { ROUNDS = 5000 };

typedef struct rounds_state {
    smoa_pool *pool;
    atomic_long arrivals;
    atomic_int errors;
} rounds_state;

static void run_rounds(void *arg, int ith, int nth) {
    rounds_state *st = arg;
    for (long r = 1; r <= ROUNDS; r++) {
        atomic_fetch_add(&st->arrivals, 1);
        smoa_pool_barrier(st->pool);
        if (ith == 0 && atomic_load(&st->arrivals) != r * nth) atomic_fetch_add(&st->errors, 1);
        smoa_pool_barrier(st->pool); /* nobody starts the next round before the check */
    }
}

static void test_barrier_rounds(void **state) {
    (void)state;
    for (int n = 1; n <= 4; n++) {
        rounds_state st = {0};
        assert_int_equal(smoa_pool_create(n, &st.pool, NULL), SMOA_OK);
        assert_int_equal(smoa_pool_size(st.pool), n);
        for (int run = 0; run < 3; run++) { /* the pool is reused between runs */
            atomic_store(&st.arrivals, 0);
            smoa_pool_run(st.pool, run_rounds, &st);
            assert_int_equal(atomic_load(&st.arrivals), (long)ROUNDS * n);
        }
        assert_int_equal(atomic_load(&st.errors), 0);
        smoa_pool_destroy(st.pool);
    }
}

static void test_bad_size(void **state) {
    (void)state;
    smoa_pool *pool = (smoa_pool *)0x1;
    assert_int_equal(smoa_pool_create(0, &pool, NULL), SMOA_ERR_INVALID_ARGUMENT);
    assert_null(pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_barrier_rounds),
        cmocka_unit_test(test_bad_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
