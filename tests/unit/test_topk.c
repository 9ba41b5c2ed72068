/* test_topk.c - top-k gating against a sort-based reference on random
 * rows, plus ties, NaN and k = n. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/rng.h"
#include "engine/topk.h"

typedef struct ranked {
    float v;
    int i;
} ranked;

static int by_rank(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->i - b->i;
}

static void test_matches_sorted_reference(void **state) {
    (void)state;
    enum { ROWS = 200, N = 64, K = 8 };
    smoa_rng rng;
    smoa_rng_seed(&rng, 5);
    static float x[ROWS * N];
    static int32_t idx[ROWS * K];
    static float w[ROWS * K];
    for (int i = 0; i < ROWS * N; i++) x[i] = (float)(smoa_rng_below(&rng, 40)) * 0.25f - 5; /* many ties */
    smoa_topk_gating(x, ROWS, N, K, idx, w);
    for (int r = 0; r < ROWS; r++) {
        ranked sorted[N];
        double sum = 0, max = -INFINITY;
        for (int i = 0; i < N; i++) sorted[i] = (ranked){x[r * N + i], i}, max = fmax(max, x[r * N + i]);
        for (int i = 0; i < N; i++) sum += exp(x[r * N + i] - max);
        qsort(sorted, N, sizeof sorted[0], by_rank);
        for (int j = 0; j < K; j++) {
            assert_int_equal(idx[r * K + j], sorted[j].i);
            assert_float_equal(w[r * K + j], exp(sorted[j].v - max) / sum, 1e-6);
        }
    }
}

static void test_nan_ranks_last_and_k_equals_n(void **state) {
    (void)state;
    const float x[4] = {NAN, 1.0f, -INFINITY, 1.0f};
    int32_t idx[4];
    float w[4];
    smoa_topk_gating(x, 1, 4, 4, idx, w);
    assert_int_equal(idx[0], 1); /* tie: lower index first */
    assert_int_equal(idx[1], 3);
    assert_int_equal(idx[2], 2);
    assert_int_equal(idx[3], 0); /* NaN last */
    assert_float_equal(w[0], 0.5f, 1e-6);
    assert_float_equal(w[2], 0.0f, 0);
    assert_float_equal(w[3], 0.0f, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_sorted_reference),
        cmocka_unit_test(test_nan_ranks_last_and_k_equals_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
