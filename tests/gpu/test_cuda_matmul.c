/* test_cuda_matmul.c - the kernels that read quantized weights (embedding
 * lookup, mat-vec, dequantize + cuBLAS GEMM) against the CPU reference, for
 * every weight type, on fresh random weights and activations.
 *
 * Weights are gaussian rows quantized by smoa_quantize; the reference is
 * the CPU's own dequantization (smoa_dequantize) with the dot products in
 * double. Bounds, per output element, relative to S = sum |w x| of its dot:
 *  - mat-vec: f32 products and sums over n_in <= 768 values; 1e-5 S is
 *    far above that rounding, while one misread weight moves the result by
 *    about S / n_in > 1e-3 S.
 *  - GEMM: the reference rounds w and x to f16 as the GEMM's inputs are,
 *    leaving the f32 accumulation of the tensor cores (and rare one-ulp f16
 *    differences of w): 1e-4 S, again far below one misread weight.
 *  - embedding: the dequantized values themselves, within 1e-6 of the row's
 *    largest value (f32 rounding of d * q + m). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_test_util.h"
#include "embed.h"
#include "gemm.h"
#include "matvec_quant.h"
#include "model/quantize.h"
#include "model/tensor_types.h"
#include "random_values.h"

static const uint32_t TYPES[] = {
    SMOA_TYPE_Q4_0, SMOA_TYPE_Q4_1, SMOA_TYPE_Q5_0, SMOA_TYPE_Q5_1, SMOA_TYPE_Q8_0, SMOA_TYPE_Q4_K,
    SMOA_TYPE_Q5_K, SMOA_TYPE_Q6_K, SMOA_TYPE_F32,  SMOA_TYPE_F16,  SMOA_TYPE_BF16,
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

#define MATVEC_TOLERANCE 1e-5
#define GEMM_TOLERANCE 1e-4
#define EMBED_TOLERANCE 1e-6

/* A random matrix: quantized rows on the host and the device, and the
 * dequantized values the CPU sees. */
typedef struct test_matrix {
    smoa_cuda_matrix dev;
    uint8_t *rows;   /* [n_out][row_bytes] */
    float *values;   /* [n_out][n_in]      */
} test_matrix;

static test_matrix random_matrix(uint32_t type, int n_in, int n_out) {
    test_matrix m;
    uint64_t row_bytes;
    assert_true(smoa_type_row_bytes(type, (uint64_t)n_in, &row_bytes));
    m.rows = malloc(row_bytes * n_out);
    m.values = malloc((size_t)n_in * n_out * sizeof(float));
    float *x = malloc((size_t)n_in * sizeof(float));
    assert_non_null(m.rows);
    assert_non_null(m.values);
    assert_non_null(x);
    for (int r = 0; r < n_out; r++) {
        for (int i = 0; i < n_in; i++) x[i] = gaussian() * 0.5f;
        assert_true(smoa_quantize(type, x, m.rows + r * row_bytes, (uint64_t)n_in));
        assert_true(smoa_dequantize(type, m.rows + r * row_bytes, m.values + (size_t)r * n_in, (uint64_t)n_in));
    }
    free(x);
    m.dev = (smoa_cuda_matrix){device_copy(m.rows, row_bytes * n_out), type, n_in, n_out, (size_t)row_bytes};
    return m;
}

static void matrix_free(test_matrix *m) {
    smoa_cuda_free((void *)m->dev.data);
    free(m->rows);
    free(m->values);
}

static float *random_floats(size_t n) {
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = gaussian();
    return x;
}

/* f16 rounding, as the GEMM's inputs are rounded. */
static double as_f16(float v) { return smoa_fp16_to_fp32(smoa_fp32_to_fp16(v)); }

/* want[t][r] = y0[t][r] (when given) + W.row(r) . x[t]; scale = sum |w x|
 * (+ |y0|). round_f16: with w and x rounded to f16 first. */
static void reference_product(const test_matrix *W, const float *x, const float *y0, int T, bool round_f16,
                              double *want, double *scale) {
    int n_in = W->dev.n_in, n_out = W->dev.n_out;
    for (int t = 0; t < T; t++)
        for (int r = 0; r < n_out; r++) {
            double sum = y0 ? y0[(size_t)t * n_out + r] : 0, mag = y0 ? fabs(sum) : 0;
            for (int i = 0; i < n_in; i++) {
                double w = W->values[(size_t)r * n_in + i], a = x[(size_t)t * n_in + i];
                if (round_f16) {
                    w = as_f16((float)w);
                    a = as_f16((float)a);
                }
                sum += w * a;
                mag += fabs(w * a);
            }
            want[(size_t)t * n_out + r] = sum;
            scale[(size_t)t * n_out + r] = mag > 0 ? mag : 1e-30;
        }
}

typedef enum { USE_MATVEC, USE_GEMM } product_kind;

/* Runs y (+)= W x on the device (y poisoned, or holding y0) and checks it. */
static void check_product(product_kind kind, uint32_t type, int n_in, int n_out, int T, bool accumulate) {
    test_matrix W = random_matrix(type, n_in, n_out);
    size_t x_count = (size_t)T * n_in, y_count = (size_t)T * n_out;
    float *x = random_floats(x_count), *y0 = accumulate ? random_floats(y_count) : NULL;
    float *got = malloc(y_count * sizeof(float));
    double *want = malloc(y_count * sizeof(double)), *scale = malloc(y_count * sizeof(double));
    assert_non_null(got);
    assert_non_null(want);
    assert_non_null(scale);
    float *d_x = device_copy(x, x_count * sizeof(float));
    float *d_y = accumulate ? device_copy(y0, y_count * sizeof(float)) : device_poisoned(y_count * sizeof(float));

    smoa_error err = {0};
    if (kind == USE_MATVEC) {
        check_ok(smoa_cuda_matvec(&W.dev, d_x, T, d_y, accumulate, 0, &err), &err);
        host_copy(got, d_y, y_count * sizeof(float));
    } else {
        /* Scratch for 30 rows: the matrix goes through in several chunks. */
        smoa_cuda_gemm g;
        check_ok(smoa_cuda_gemm_init(&g, (size_t)n_in * 30, x_count, 0, &err), &err);
        check_ok(smoa_cuda_gemm_run(&g, &W.dev, d_x, T, d_y, accumulate, &err), &err);
        host_copy(got, d_y, y_count * sizeof(float));
        smoa_cuda_gemm_free(&g);
    }
    reference_product(&W, x, y0, T, kind == USE_GEMM, want, scale);
    double e = worst_error(got, want, scale, y_count), bound = kind == USE_GEMM ? GEMM_TOLERANCE : MATVEC_TOLERANCE;
    if (!(e <= bound))
        fail_msg("%s %s n_in %d n_out %d T %d%s: error %g of sum |w x| (bound %g)",
                 kind == USE_GEMM ? "GEMM" : "mat-vec", smoa_tensor_type_name(type), n_in, n_out, T,
                 accumulate ? " accumulate" : "", e, bound);

    smoa_cuda_free(d_x);
    smoa_cuda_free(d_y);
    matrix_free(&W);
    free(x);
    free(y0);
    free(got);
    free(want);
    free(scale);
}

/* ------------------------------------------------------------------------ */

/* Token counts through every instantiated width (1, 2, 4, 8) and two
 * passes (13); 67 rows leave a partly filled block of four rows. */
static void test_matvec_every_type(void **state) {
    (void)state;
    random_seed(101);
    const int token_counts[] = {1, 2, 3, 8, 13};
    for (size_t i = 0; i < N_TYPES; i++)
        for (size_t c = 0; c < sizeof token_counts / sizeof token_counts[0]; c++)
            check_product(USE_MATVEC, TYPES[i], 768, 67, token_counts[c], false);
}

/* Rows whose groups of 8 do not fill whole warp strides: 576 values (72
 * groups: lanes 0-7 take three, the rest two, as SmolLM2's n_embd) for every
 * type with blocks of at most 32, and 40 values (5 groups: most lanes idle)
 * for the float types; the GEMM's dequantization on 576 too. */
static void test_matvec_partial_warp_rows(void **state) {
    (void)state;
    random_seed(105);
    for (size_t i = 0; i < N_TYPES; i++) {
        if (!smoa_cuda_type_supported(TYPES[i], 576)) continue; /* the K-quants: whole super-blocks only */
        check_product(USE_MATVEC, TYPES[i], 576, 37, 3, false);
        check_product(USE_GEMM, TYPES[i], 576, 37, 34, false);
        if (smoa_cuda_type_supported(TYPES[i], 40)) check_product(USE_MATVEC, TYPES[i], 40, 9, 2, true);
    }
}

static void test_matvec_accumulates(void **state) {
    (void)state;
    random_seed(102);
    check_product(USE_MATVEC, SMOA_TYPE_Q4_1, 256, 33, 1, true);
    check_product(USE_MATVEC, SMOA_TYPE_Q6_K, 512, 40, 5, true);
}

static void test_gemm_every_type(void **state) {
    (void)state;
    random_seed(103);
    for (size_t i = 0; i < N_TYPES; i++) check_product(USE_GEMM, TYPES[i], 512, 67, 40, false);
    check_product(USE_GEMM, SMOA_TYPE_Q8_0, 256, 45, 33, true);
}

/* Every row of a table of each type, tokens drawn with repeats. */
static void test_embed_every_type(void **state) {
    (void)state;
    random_seed(104);
    enum { N_EMBD = 512, N_ROWS = 50, T = 9 };
    for (size_t i = 0; i < N_TYPES; i++) {
        test_matrix table = random_matrix(TYPES[i], N_EMBD, N_ROWS);
        int32_t tokens[T];
        for (int t = 0; t < T; t++) tokens[t] = uniform_int(0, N_ROWS - 1);
        int32_t *d_tokens = device_copy(tokens, sizeof tokens);
        float *d_x = device_poisoned((size_t)T * N_EMBD * sizeof(float));
        smoa_error err = {0};
        check_ok(smoa_cuda_embed(&table.dev, d_tokens, T, d_x, 0, &err), &err);
        float got[T * N_EMBD];
        double want[T * N_EMBD];
        host_copy(got, d_x, sizeof got);
        for (int t = 0; t < T; t++)
            for (int j = 0; j < N_EMBD; j++) want[t * N_EMBD + j] = table.values[(size_t)tokens[t] * N_EMBD + j];
        double e = worst_relative_error(got, want, T * N_EMBD);
        if (!(e <= EMBED_TOLERANCE)) fail_msg("embedding %s: error %g", smoa_tensor_type_name(TYPES[i]), e);
        smoa_cuda_free(d_tokens);
        smoa_cuda_free(d_x);
        matrix_free(&table);
    }
}

static void test_unsupported_is_refused(void **state) {
    (void)state;
    assert_false(smoa_cuda_type_supported(SMOA_TYPE_Q4_K, 576)); /* not whole super-blocks */
    assert_false(smoa_cuda_type_supported(SMOA_TYPE_F32, 100)); /* not whole groups of 8 */
    assert_false(smoa_cuda_type_supported(4, 256));              /* a retired ggml id */
    assert_true(smoa_cuda_type_supported(SMOA_TYPE_Q4_1, 576));
    smoa_cuda_matrix bogus = {NULL, 4, 256, 1, 0};
    smoa_error err = {0};
    assert_int_equal(smoa_cuda_matvec(&bogus, NULL, 1, NULL, false, 0, &err), SMOA_ERR_UNSUPPORTED);
}

int main(void) {
    skip_without_device();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matvec_every_type), cmocka_unit_test(test_matvec_partial_warp_rows),
        cmocka_unit_test(test_matvec_accumulates),
        cmocka_unit_test(test_gemm_every_type),   cmocka_unit_test(test_embed_every_type),
        cmocka_unit_test(test_unsupported_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
