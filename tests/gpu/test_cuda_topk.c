/* test_cuda_topk.c - the CUDA gating kernel against the CPU reference
 * (smoa_topk_gating) on fresh random rows of many shapes, rows full of ties,
 * NaN and infinities, and the statuses of bad arguments. Outputs are
 * poisoned before every run, so an element the kernel forgot shows up. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cuda_test_util.h"
#include "engine/session.h"
#include "engine/topk.h"
#include "random_values.h"
#include "topk_gating.h"

/* The CPU sums in double, the kernel in float. */
#define WEIGHT_REL_TOLERANCE 1e-5
#define WEIGHT_ABS_TOLERANCE 1e-37

typedef struct gating_result {
    int32_t *idx;   /* [rows][k] */
    float *weights; /* [rows][k] */
} gating_result;

static gating_result result_alloc(int rows, int k) {
    gating_result r = {malloc((size_t)rows * k * sizeof *r.idx), malloc((size_t)rows * k * sizeof *r.weights)};
    assert_non_null(r.idx);
    assert_non_null(r.weights);
    return r;
}

static void result_free(gating_result r) {
    free(r.idx);
    free(r.weights);
}

/* Gates logits [rows][n] on the device into out; idx and weights are
 * poisoned (-1 and NaN) on the device first. */
static void gate_on_device(const float *logits, int rows, int n, int k, gating_result out) {
    smoa_error err = {0};
    const size_t out_count = (size_t)rows * k;
    void *d_logits = device_copy(logits, (size_t)rows * n * sizeof(float));
    void *d_idx = device_poisoned(out_count * sizeof(int32_t));
    void *d_weights = device_poisoned(out_count * sizeof(float));
    check_ok(smoa_cuda_topk_gating(d_logits, rows, n, k, d_idx, d_weights, NULL, &err), &err);
    host_copy(out.idx, d_idx, out_count * sizeof(int32_t));
    host_copy(out.weights, d_weights, out_count * sizeof(float));
    smoa_cuda_free(d_logits);
    smoa_cuda_free(d_idx);
    smoa_cuda_free(d_weights);
}

/* Same indices as the CPU, weights within the tolerance, nothing unwritten. */
static void expect_matches_cpu(const float *logits, int rows, int n, int k) {
    gating_result cpu = result_alloc(rows, k), gpu = result_alloc(rows, k);
    smoa_topk_gating(logits, rows, n, k, cpu.idx, cpu.weights);
    gate_on_device(logits, rows, n, k, gpu);
    for (int64_t e = 0; e < (int64_t)rows * k; e++) {
        const int row = (int)(e / k), rank = (int)(e % k);
        if (gpu.idx[e] != cpu.idx[e])
            fail_msg("rows %d, n %d, k %d: row %d rank %d: idx %d, CPU %d", rows, n, k, row, rank, gpu.idx[e],
                     cpu.idx[e]);
        const double want = cpu.weights[e], got = gpu.weights[e];
        if (!(fabs(got - want) <= WEIGHT_REL_TOLERANCE * fabs(want) + WEIGHT_ABS_TOLERANCE))
            fail_msg("rows %d, n %d, k %d: row %d rank %d: weight %.9g, CPU %.9g", rows, n, k, row, rank, got, want);
    }
    result_free(cpu);
    result_free(gpu);
}

/* Gaussian scores times scale; with ties_every > 0, one value in
 * ties_every is rounded to a coarse grid so that equal values are common. */
static float *random_rows(int rows, int n, float scale, int ties_every) {
    float *x = malloc((size_t)rows * n * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < (int64_t)rows * n; i++) {
        x[i] = gaussian() * scale;
        if (ties_every > 0 && uniform_int(1, ties_every) == 1) x[i] = roundf(x[i]);
    }
    return x;
}

/* ------------------------------------------------------------------------ */
/* Parity                                                                   */

static void test_random_shapes_match_cpu(void **state) {
    (void)state;
    static const int row_counts[] = {1, 3, 32, 257, 4096};
    static const int widths[] = {4, 8, 33, 64, 256, 1000, SMOA_CUDA_TOPK_MAX_N};
    static const int ks[] = {1, 2, 8};
    random_seed(101);
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
        for (size_t r = 0; r < sizeof row_counts / sizeof *row_counts; r++)
            for (size_t j = 0; j < sizeof ks / sizeof *ks; j++) {
                if (ks[j] > widths[w]) continue;
                float *x = random_rows(row_counts[r], widths[w], 3.0f, 0);
                expect_matches_cpu(x, row_counts[r], widths[w], ks[j]);
                free(x);
            }
}

/* k = n: the whole row, sorted. */
static void test_k_equals_n(void **state) {
    (void)state;
    random_seed(102);
    static const int widths[] = {4, 8, 64, 256};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        float *x = random_rows(50, widths[w], 2.0f, 3);
        expect_matches_cpu(x, 50, widths[w], widths[w]);
        free(x);
    }
}

static void test_many_ties(void **state) {
    (void)state;
    random_seed(103);
    static const int widths[] = {4, 8, 64, 256};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        float *x = random_rows(777, widths[w], 1.5f, 1); /* every value on the integer grid */
        expect_matches_cpu(x, 777, widths[w], widths[w] < 8 ? widths[w] : 8);
        free(x);
    }
}

/* Underflowing exponentials (denormal and zero weights). */
static void test_wide_range(void **state) {
    (void)state;
    random_seed(104);
    float *x = random_rows(512, 256, 60.0f, 0);
    expect_matches_cpu(x, 512, 256, 8);
    free(x);
}

static void test_nan_and_infinities(void **state) {
    (void)state;
    enum { N = 8 };
    const float z = -0.0f;
    const float rows[][N] = {
        {NAN, 1, -INFINITY, 1, NAN, 0, -1, 2},                              /* NaN last, tie to the lower index */
        {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN},                           /* only NaN: index order, weight 0 */
        {-INFINITY, -INFINITY, NAN, -INFINITY, 0, -INFINITY, NAN, 3},       /* -inf above NaN */
        {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY},
        {1, INFINITY, 2, INFINITY, NAN, 0, -INFINITY, 3},                   /* +inf max: weights 0 */
        {z, 0, z, 0, z, 0, z, 0},                                           /* -0 ties with +0 */
        {5, 5, 5, 5, 5, 5, 5, 5},
        {-3e38f, 3e38f, -3e38f, 3e38f, 1e-45f, -1e-45f, 0, 1},              /* extremes and denormals */
    };
    const int n_rows = (int)(sizeof rows / sizeof rows[0]);
    for (int k = 1; k <= N; k++) expect_matches_cpu(&rows[0][0], n_rows, N, k);

    random_seed(105);
    float *x = random_rows(1000, 64, 4.0f, 4);
    for (int i = 0; i < 1000 * 64; i++) {
        int pick = uniform_int(0, 19);
        if (pick == 0) x[i] = NAN;
        else if (pick == 1) x[i] = -INFINITY;
    }
    expect_matches_cpu(x, 1000, 64, 8);
    free(x);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */

static void expect_refused(int rows, int n, int k, smoa_status want) {
    smoa_error err = {0};
    float x = 0, w = 0;
    int32_t idx = 0;
    smoa_status st = smoa_cuda_topk_gating(&x, rows, n, k, &idx, &w, NULL, &err); /* refused before any launch */
    assert_int_equal(st, want);
    assert_true(strlen(err.message) > 0);
    printf("  rows %d, n %d, k %d: %s\n", rows, n, k, err.message);
}

static void test_bad_arguments(void **state) {
    (void)state;
    expect_refused(0, 8, 2, SMOA_ERR_INVALID_ARGUMENT);
    expect_refused(-1, 8, 2, SMOA_ERR_INVALID_ARGUMENT);
    expect_refused(4, 0, 1, SMOA_ERR_INVALID_ARGUMENT);
    expect_refused(4, 8, 0, SMOA_ERR_INVALID_ARGUMENT);
    expect_refused(4, 8, 9, SMOA_ERR_INVALID_ARGUMENT);
    expect_refused(4, SMOA_CUDA_TOPK_MAX_N + 1, 2, SMOA_ERR_UNSUPPORTED);

    smoa_error err = {0};
    int32_t idx;
    float w, x = 0;
    assert_int_equal(smoa_cuda_topk_gating(NULL, 1, 1, 1, &idx, &w, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_topk_gating(&x, 1, 1, 1, NULL, &w, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_topk_gating(&x, 1, 1, 1, &idx, NULL, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_topk_gating_check(4096, SMOA_CUDA_TOPK_MAX_N, 8, &err), SMOA_OK);
}

/* Through a CUDA session (the path the scoring judge takes): the backend's
 * gating op on host scores gives the CPU's choice. */
static void test_session_gating_matches_cpu(void **state) {
    (void)state;
    char path[] = "/tmp/smoa_test_cuda_topk_XXXXXX";
    close(mkstemp(path));
    smoa_ctx *ctx = NULL;
    smoa_model *model = NULL;
    smoa_session *session = NULL;
    smoa_synthetic_options mo;
    smoa_synthetic_options_init(&mo);
    mo.n_vocab = 512, mo.n_embd = 128, mo.n_layer = 1, mo.n_head = 2, mo.n_head_kv = 1, mo.n_ff = 256;
    mo.weight_type = 8; /* Q8_0 */
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.device = SMOA_DEVICE_CUDA;
    assert_int_equal(smoa_ctx_create(NULL, &ctx), SMOA_OK);
    assert_int_equal(smoa_synthetic_write(ctx, path, &mo), SMOA_OK);
    assert_int_equal(smoa_model_load(ctx, path, NULL, &model), SMOA_OK);
    if (smoa_session_create(ctx, model, &so, &session) != SMOA_OK) fail_msg("session: %s", smoa_ctx_last_error(ctx));
    enum { ROWS = 3, N = 6, K = 2 };
    float *scores = random_rows(ROWS, N, 3.0f, 0);
    gating_result cpu = result_alloc(ROWS, K), gpu = result_alloc(ROWS, K);
    smoa_topk_gating(scores, ROWS, N, K, cpu.idx, cpu.weights);
    smoa_error err = {0};
    check_ok(smoa_session_topk_gating(session, scores, ROWS, N, K, gpu.idx, gpu.weights, &err), &err);
    assert_memory_equal(gpu.idx, cpu.idx, sizeof(int32_t) * ROWS * K);
    for (int e = 0; e < ROWS * K; e++)
        assert_true(fabs(gpu.weights[e] - cpu.weights[e]) <= WEIGHT_REL_TOLERANCE * fabs(cpu.weights[e]));
    result_free(cpu);
    result_free(gpu);
    free(scores);
    smoa_session_destroy(session);
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    unlink(path);
}

int main(void) {
    skip_without_device();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_shapes_match_cpu),
        cmocka_unit_test(test_k_equals_n),
        cmocka_unit_test(test_many_ties),
        cmocka_unit_test(test_wide_range),
        cmocka_unit_test(test_nan_and_infinities),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_session_gating_matches_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
