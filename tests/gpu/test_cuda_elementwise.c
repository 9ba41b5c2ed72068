/* test_cuda_elementwise.c - RMSNorm (plain and gathering output rows) and
 * the SwiGLU gate against the CPU kernels (smoa_op_rmsnorm, smoa_op_swiglu)
 * on fresh random inputs (the norm's output poisoned first; SwiGLU works in
 * place).
 *
 * Bounds: RMSNorm sums squares in float where the CPU uses double; over
 * rows of up to 2049 values that moves the scale by far less than 1e-5,
 * relative to the largest output. SwiGLU is one expf per element: 2e-6 of
 * each element's own size (plus a tiny floor). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_test_util.h"
#include "engine/cpu/ops.h"
#include "random_values.h"
#include "rmsnorm.h"
#include "swiglu.h"

#define RMSNORM_TOLERANCE 1e-5
#define SWIGLU_TOLERANCE 2e-6

static float *random_floats(size_t n, float scale) {
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = gaussian() * scale;
    return x;
}

/* Rows rows[r] of x (or all rows in order when rows is NULL). */
static void check_rmsnorm(int n_rows, int n, const int32_t *rows, int n_out) {
    const float eps = 1e-5f;
    float *x = random_floats((size_t)n_rows * n, 3.0f), *w = random_floats((size_t)n, 1.0f);
    float *got = malloc((size_t)n_out * n * sizeof(float)), *cpu = malloc((size_t)n * sizeof(float));
    double *want = malloc((size_t)n_out * n * sizeof(double));
    assert_non_null(got);
    assert_non_null(cpu);
    assert_non_null(want);
    float *d_x = device_copy(x, (size_t)n_rows * n * sizeof(float)), *d_w = device_copy(w, (size_t)n * sizeof(float));
    int32_t *d_rows = rows ? device_copy(rows, (size_t)n_out * sizeof(int32_t)) : NULL;
    float *d_out = device_poisoned((size_t)n_out * n * sizeof(float));

    smoa_error err = {0};
    check_ok(smoa_cuda_rmsnorm(d_x, d_rows, d_w, d_out, n_out, n, eps, 0, &err), &err);
    host_copy(got, d_out, (size_t)n_out * n * sizeof(float));
    for (int r = 0; r < n_out; r++) {
        smoa_op_rmsnorm(x + (size_t)(rows ? rows[r] : r) * n, w, cpu, 1, n, eps, 0, 1);
        for (int i = 0; i < n; i++) want[(size_t)r * n + i] = cpu[i];
    }
    double e = worst_relative_error(got, want, (size_t)n_out * n);
    if (!(e <= RMSNORM_TOLERANCE)) fail_msg("rmsnorm %d rows of %d: error %g", n_out, n, e);

    smoa_cuda_free(d_x);
    smoa_cuda_free(d_w);
    smoa_cuda_free(d_rows);
    smoa_cuda_free(d_out);
    free(x);
    free(w);
    free(got);
    free(cpu);
    free(want);
}

static void test_rmsnorm_matches_cpu(void **state) {
    (void)state;
    random_seed(301);
    check_rmsnorm(7, 576, NULL, 7);
    check_rmsnorm(3, 2048, NULL, 3);
    check_rmsnorm(1, 2049, NULL, 1); /* not a multiple of the block */
    check_rmsnorm(40, 64, NULL, 40);
}

/* The output norm: a few rows, out of order, one twice. */
static void test_rmsnorm_gathers_rows(void **state) {
    (void)state;
    random_seed(302);
    const int32_t rows[] = {9, 0, 4, 9};
    check_rmsnorm(10, 576, rows, 4);
}

static void test_swiglu_matches_cpu(void **state) {
    (void)state;
    random_seed(303);
    const int64_t sizes[] = {1, 255, 256, 3 * 1536 + 7};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int64_t n = sizes[c];
        float *gate = random_floats((size_t)n, 4.0f), *up = random_floats((size_t)n, 2.0f);
        float *got = malloc((size_t)n * sizeof(float));
        assert_non_null(got);
        float *d_gate = device_copy(gate, (size_t)n * sizeof(float));
        float *d_up = device_copy(up, (size_t)n * sizeof(float));
        smoa_error err = {0};
        check_ok(smoa_cuda_swiglu(d_gate, d_up, n, 0, &err), &err);
        host_copy(got, d_gate, (size_t)n * sizeof(float));
        smoa_op_swiglu(gate, up, n, 0, 1);
        for (int64_t i = 0; i < n; i++)
            if (!(fabsf(got[i] - gate[i]) <= SWIGLU_TOLERANCE * fabsf(gate[i]) + 1e-30f))
                fail_msg("swiglu element %lld of %lld: %g, want %g", (long long)i, (long long)n, got[i], gate[i]);
        smoa_cuda_free(d_gate);
        smoa_cuda_free(d_up);
        free(gate);
        free(up);
        free(got);
    }
}

int main(void) {
    skip_without_device();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmsnorm_matches_cpu),
        cmocka_unit_test(test_rmsnorm_gathers_rows),
        cmocka_unit_test(test_swiglu_matches_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
