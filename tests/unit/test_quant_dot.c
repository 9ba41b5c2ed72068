/* test_quant_dot.c - activation quantization and the dot products of every
 * weight type, on every instruction set this CPU runs.
 *
 * Weights are quantized with smoa_quantize (or are random bytes, which
 * reach every bit pattern: Q8_0's -128, Q6_K's -128 scales) and stored one
 * byte past an aligned address, so every kernel reads unaligned blocks.
 * w below is the dequantized weight row, x the f32 activations, and x^ the
 * activations as quantized (d q per value).
 *
 * Bounds, all computed per case from its own data:
 *
 *  - Rounding. Every kernel sums exact integer products per block and then
 *    adds one float term (or two) per block; with M_b = max |w| + (max w -
 *    min w) over weight block b, each such term, partial or whole, is at
 *    most 3 M_b sum_b |x^| (a scale times an integer sum, a min times an
 *    activation sum). Adding k terms in float, in any order, errs by at
 *    most about k eps of the sum of their magnitudes, so
 *        R = 4 (blocks + 8) eps N,   N = sum_b M_b sum_b |x|
 *    bounds the distance of any kernel from sum w x^ (the 8 covers the
 *    per-block scale products and the final lane sums).
 *  - Scalar vs reference (sum w x in double): the activation error adds
 *    |sum w (x - x^)| <= sum_b d_b / 2 sum_b |w|, as |x - x^| <= d_b / 2.
 *    Bound: that + R. (0 + R for float weights, whose activations are f32.)
 *  - Fast vs scalar: both are within R of the same sum w x^; bound 2 R.
 *    A wrong nibble or scale in a kernel moves the result by about N / n
 *    per weight or more, far beyond 2 R for the short rows tested.
 *  - dot4 vs four single dots of the same instruction set: bitwise equal.
 *  - Activation quantization: |x - d q| <= d / 2 (plus one rounding), |q|
 *    <= 127 with 127 reached, s == d * sum q and bsums exact; and every
 *    instruction set writes the same bytes as the scalar version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "random_values.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/quant_dot.h"
#include "engine/cpu/quant_dot_internal.h"
#include "model/quantize.h"
#include "model/tensor_blocks.h"
#include "model/tensor_types.h"

/* ------------------------------------------------------------------------ */
/* Types and row lengths                                                    */

static const uint32_t TYPES[] = {
    SMOA_TYPE_Q4_0, SMOA_TYPE_Q4_1, SMOA_TYPE_Q5_0, SMOA_TYPE_Q5_1, SMOA_TYPE_Q8_0, SMOA_TYPE_Q4_K,
    SMOA_TYPE_Q5_K, SMOA_TYPE_Q6_K, SMOA_TYPE_F32,  SMOA_TYPE_F16,  SMOA_TYPE_BF16,
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static const int64_t SIZES_32[] = {32, 64, 96, 576, 1536, 4096};
static const int64_t SIZES_256[] = {256, 512, 1536, 4096};
static const int64_t SIZES_1[] = {1, 7, 33, 100, 576, 1536};

static int block_size(uint32_t type) { return (int)smoa_type_traits_get(type)->block_size; }
static bool is_float_type(uint32_t type) { return block_size(type) == 1; }

/* The row lengths to test for a type; returns how many. */
static int sizes_of(uint32_t type, const int64_t **sizes) {
    switch (block_size(type)) {
    case 1: *sizes = SIZES_1; return sizeof SIZES_1 / sizeof SIZES_1[0];
    case 32: *sizes = SIZES_32; return sizeof SIZES_32 / sizeof SIZES_32[0];
    default: *sizes = SIZES_256; return sizeof SIZES_256 / sizeof SIZES_256[0];
    }
}

/* The fp16 fields of a block (scales, mins): where raw random bytes must
 * hold a sane value instead. */
static int half_fields(uint32_t type, size_t offsets[2]) {
    switch (type) {
    case SMOA_TYPE_Q4_1:
    case SMOA_TYPE_Q5_1:
        offsets[0] = offsetof(block_q4_1, d), offsets[1] = offsetof(block_q4_1, m);
        return 2;
    case SMOA_TYPE_Q4_K:
    case SMOA_TYPE_Q5_K:
        offsets[0] = offsetof(block_q4_k, d), offsets[1] = offsetof(block_q4_k, dmin);
        return 2;
    case SMOA_TYPE_Q6_K: offsets[0] = offsetof(block_q6_k, d); return 1;
    default: offsets[0] = 0; return 1; /* d first */
    }
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */

typedef enum {
    WEIGHTS_QUANTIZED, /* Gaussian rows with block scales and offsets, quantized */
    WEIGHTS_RANDOM_BYTES,
    WEIGHTS_ALL_FF, /* largest unsigned q, 6-bit scales and mins at 63 */
    WEIGHTS_ALL_80, /* Q8_0: every weight -128; Q6_K: scales -128      */
} weight_kind;

typedef enum {
    ACT_GAUSSIAN, /* block scales 2^-4..2^4, some zero blocks, a spike */
    ACT_EXTREMES, /* +-1 only: every q is +-127                        */
} act_kind;

typedef struct dot_case {
    uint32_t type;
    int64_t n;
    float *x;        /* activations                        */
    float *w;        /* the weights, dequantized           */
    uint8_t *packed; /* the weights, one byte past aligned */
    void *act;       /* x quantized for the type (scalar)  */
    void *storage;
} dot_case;

static void *checked_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

static void fill_activations(float *x, int64_t n, act_kind kind) {
    float scale = 1.0f;
    for (int64_t i = 0; i < n; i++) {
        if (i % 32 == 0) scale = uniform() < 0.1 ? 0.0f : ldexpf(1.0f, uniform_int(-4, 4));
        x[i] = kind == ACT_EXTREMES ? (uniform() < 0.5 ? -1.0f : 1.0f) : scale * gaussian();
    }
    if (kind == ACT_GAUSSIAN && n >= 64) x[uniform_int(0, (int)n - 1)] = 1000.0f;
}

static void fill_weights(dot_case *c, weight_kind kind, uint64_t bytes) {
    if (kind == WEIGHTS_QUANTIZED) {
        float *values = checked_malloc((size_t)c->n * sizeof(float));
        float scale = 1.0f, offset = 0.0f;
        for (int64_t i = 0; i < c->n; i++) {
            if (i % 32 == 0) {
                scale = ldexpf(1.0f, uniform_int(-6, 0));
                offset = uniform() < 0.5 ? 0.0f : scale * gaussian();
            }
            values[i] = offset + scale * gaussian();
        }
        assert_true(smoa_quantize(c->type, values, c->packed, (uint64_t)c->n));
        free(values);
        return;
    }
    for (uint64_t i = 0; i < bytes; i++)
        c->packed[i] = kind == WEIGHTS_ALL_FF   ? 0xFF
                       : kind == WEIGHTS_ALL_80 ? 0x80
                                                : (uint8_t)next_u64();
    size_t offsets[2];
    int fields = half_fields(c->type, offsets);
    size_t block_bytes = smoa_type_traits_get(c->type)->type_size;
    for (uint64_t b = 0; b < bytes / block_bytes; b++)
        for (int f = 0; f < fields; f++) {
            float v = (float)ldexp(1.0 + uniform(), -uniform_int(2, 8));
            write_u16_le(c->packed + b * block_bytes + offsets[f],
                         smoa_fp32_to_fp16(uniform() < 0.5 ? -v : v));
        }
}

static dot_case make_case(uint32_t type, int64_t n, weight_kind weights, act_kind acts) {
    dot_case c = {.type = type, .n = n};
    uint64_t bytes;
    assert_true(smoa_type_row_bytes(type, (uint64_t)n, &bytes));
    c.storage = checked_malloc((size_t)bytes + 1);
    c.packed = (uint8_t *)c.storage + 1;
    c.x = checked_malloc((size_t)n * sizeof(float));
    c.w = checked_malloc((size_t)n * sizeof(float));
    c.act = checked_malloc(smoa_act_row_bytes(type, n));
    fill_weights(&c, weights, bytes);
    fill_activations(c.x, n, acts);
    assert_true(smoa_dequantize(type, c.packed, c.w, (uint64_t)n));
    assert_true(smoa_act_quantize_row_isa(SMOA_ISA_SCALAR, type, c.x, c.act, n));
    return c;
}

static void free_case(dot_case *c) {
    free(c->storage);
    free(c->x);
    free(c->w);
    free(c->act);
}

/* The scale d of the activation block holding value i (0 for f32). */
static float act_scale_at(const dot_case *c, int64_t i) {
    switch (block_size(c->type)) {
    case 1: return 0.0f;
    case 32: return ((const smoa_act_q8 *)c->act)[i / 32].d;
    default: return ((const smoa_act_q8k *)c->act)[i / 256].d;
    }
}

/* ------------------------------------------------------------------------ */
/* Bounds (see the top of the file)                                         */

static double reference_dot(const dot_case *c) {
    double sum = 0.0;
    for (int64_t i = 0; i < c->n; i++) sum += (double)c->w[i] * c->x[i];
    return sum;
}

static double activation_error_bound(const dot_case *c) {
    double bound = 0.0;
    for (int64_t i = 0; i < c->n; i++) bound += act_scale_at(c, i) / 2.0 * fabsf(c->w[i]);
    return bound;
}

static double rounding_bound(const dot_case *c) {
    int64_t size = block_size(c->type), blocks = c->n / size;
    double magnitude = 0.0;
    for (int64_t b = 0; b < blocks; b++) {
        const float *w = c->w + b * size, *x = c->x + b * size;
        double largest = 0.0, lo = w[0], hi = w[0], x_sum = 0.0;
        for (int64_t i = 0; i < size; i++) {
            largest = fmax(largest, fabsf(w[i]));
            lo = fmin(lo, w[i]);
            hi = fmax(hi, w[i]);
            x_sum += fabsf(x[i]);
        }
        magnitude += (largest + hi - lo) * x_sum;
    }
    return 4.0 * (double)(blocks + 8) * FLT_EPSILON * magnitude;
}

/* ------------------------------------------------------------------------ */
/* Dot products                                                             */

typedef void case_check(const dot_case *c, const char *what);

/* Runs check over every type, row length, weight kind and activation kind. */
static void for_each_case(case_check *check) {
    random_seed(7);
    for (size_t t = 0; t < N_TYPES; t++) {
        const int64_t *sizes;
        int n_sizes = sizes_of(TYPES[t], &sizes);
        weight_kind last = is_float_type(TYPES[t]) ? WEIGHTS_QUANTIZED : WEIGHTS_ALL_80;
        for (int s = 0; s < n_sizes; s++)
            for (weight_kind wk = WEIGHTS_QUANTIZED; wk <= last; wk++)
                for (act_kind ak = ACT_GAUSSIAN; ak <= ACT_EXTREMES; ak++)
                    for (int rep = 0; rep < 3; rep++) {
                        dot_case c = make_case(TYPES[t], sizes[s], wk, ak);
                        char what[96];
                        snprintf(what, sizeof what, "%s n=%lld weights %d acts %d",
                                 smoa_type_traits_get(TYPES[t])->name, (long long)sizes[s],
                                 (int)wk, (int)ak);
                        check(&c, what);
                        free_case(&c);
                    }
    }
}

static void check_scalar_vs_reference(const dot_case *c, const char *what) {
    smoa_vec_dot_fn dot = smoa_vec_dot_get_scalar(c->type);
    assert_non_null(dot);
    double got = dot(c->n, c->packed, c->act), want = reference_dot(c);
    double bound = activation_error_bound(c) + rounding_bound(c);
    if (!(fabs(got - want) <= bound))
        fail_msg("%s: scalar %.9g, reference %.9g, bound %.3g", what, got, want, bound);
}

static void test_scalar_vs_reference(void **state) {
    (void)state;
    for_each_case(check_scalar_vs_reference);
}

static void check_fast_vs_scalar(const dot_case *c, const char *what) {
    float scalar = smoa_vec_dot_get_scalar(c->type)(c->n, c->packed, c->act);
    double bound = 2.0 * rounding_bound(c);
    for (smoa_isa isa = SMOA_ISA_SCALAR + 1; isa < SMOA_ISA_COUNT; isa++) {
        smoa_vec_dot_fn dot = smoa_vec_dot_get_isa(isa, c->type);
        if (!dot) continue;
        float got = dot(c->n, c->packed, c->act);
        if (!(fabs((double)got - scalar) <= bound))
            fail_msg("%s, %s: %.9g, scalar %.9g, bound %.3g", what, smoa_isa_name(isa),
                     (double)got, (double)scalar, bound);
    }
    float best = smoa_vec_dot_get(c->type)(c->n, c->packed, c->act);
    if (!(fabs((double)best - scalar) <= bound))
        fail_msg("%s, best: %.9g, scalar %.9g", what, (double)best, (double)scalar);
}

static void test_fast_vs_scalar(void **state) {
    (void)state;
    for_each_case(check_fast_vs_scalar);
}

/* dot4 against four single dots of the same instruction set: bitwise equal
 * (the same operations in the same order). The four activation rows lie
 * act_stride apart, more than a row, so the stride is honoured. */
static bool same_float(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void check_dot4(const dot_case *c, const char *what) {
    size_t row_bytes = smoa_act_row_bytes(c->type, c->n), stride = row_bytes + 40;
    uint8_t *acts = checked_malloc(4 * stride);
    float *x = checked_malloc((size_t)c->n * sizeof(float));
    memcpy(acts, c->act, row_bytes);
    for (int r = 1; r < 4; r++) {
        fill_activations(x, c->n, r == 2 ? ACT_EXTREMES : ACT_GAUSSIAN);
        assert_true(
            smoa_act_quantize_row_isa(SMOA_ISA_SCALAR, c->type, x, acts + r * stride, c->n));
    }
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa <= SMOA_ISA_COUNT; isa++) {
        /* isa == SMOA_ISA_COUNT: the pair smoa_vec_dot_get / smoa_vec_dot4_get */
        smoa_vec_dot_fn dot = isa == SMOA_ISA_COUNT ? smoa_vec_dot_get(c->type)
                                                    : smoa_vec_dot_get_isa(isa, c->type);
        smoa_vec_dot4_fn dot4 = isa == SMOA_ISA_COUNT ? smoa_vec_dot4_get(c->type)
                                                      : smoa_vec_dot4_get_isa(isa, c->type);
        if (!dot4) continue;
        assert_non_null(dot);
        float got[4];
        memset(got, 0xAA, sizeof got);
        dot4(c->n, c->packed, acts, stride, got);
        for (int r = 0; r < 4; r++) {
            float want = dot(c->n, c->packed, acts + r * stride);
            if (!same_float(got[r], want))
                fail_msg("%s, %s dot4 row %d: %.9g, single dot %.9g", what,
                         isa == SMOA_ISA_COUNT ? "best" : smoa_isa_name(isa), r, (double)got[r],
                         (double)want);
        }
    }
    free(acts);
    free(x);
}

static void test_dot4(void **state) {
    (void)state;
    for_each_case(check_dot4);
}

/* dot4 kernels exist for the 32-weight types wherever AVX2 does, and
 * never in the scalar set. */
static void test_dot4_present(void **state) {
    (void)state;
    const uint32_t blocks32[] = {SMOA_TYPE_Q4_0, SMOA_TYPE_Q4_1, SMOA_TYPE_Q5_0, SMOA_TYPE_Q5_1,
                                 SMOA_TYPE_Q8_0};
    for (size_t t = 0; t < sizeof blocks32 / sizeof blocks32[0]; t++) {
        assert_null(smoa_vec_dot4_get_isa(SMOA_ISA_SCALAR, blocks32[t]));
        for (smoa_isa isa = SMOA_ISA_AVX2; isa < SMOA_ISA_COUNT; isa++)
            if (smoa_isa_supported(isa))
                assert_non_null(smoa_vec_dot4_get_isa(isa, blocks32[t]));
        if (smoa_isa_supported(SMOA_ISA_AVX2)) assert_non_null(smoa_vec_dot4_get(blocks32[t]));
    }
    assert_null(smoa_vec_dot4_get(1000));
}

/* The kernels this CPU has: K-quants and float types may fall back, but
 * AVX2 covers every type, and AVX-512 VNNI the 32-weight ones. */
static void test_kernels_present(void **state) {
    (void)state;
    for (size_t t = 0; t < N_TYPES; t++) {
        assert_non_null(smoa_vec_dot_get(TYPES[t]));
        assert_non_null(smoa_vec_dot_get_isa(SMOA_ISA_SCALAR, TYPES[t]));
        if (smoa_isa_supported(SMOA_ISA_AVX2))
            assert_non_null(smoa_vec_dot_get_isa(SMOA_ISA_AVX2, TYPES[t]));
    }
    if (smoa_isa_supported(SMOA_ISA_AVX512_VNNI)) {
        const uint32_t vnni[] = {SMOA_TYPE_Q4_0, SMOA_TYPE_Q4_1, SMOA_TYPE_Q5_0, SMOA_TYPE_Q5_1,
                                 SMOA_TYPE_Q8_0};
        for (size_t t = 0; t < sizeof vnni / sizeof vnni[0]; t++)
            assert_ptr_equal(smoa_vec_dot_get(vnni[t]),
                             smoa_vec_dot_get_isa(SMOA_ISA_AVX512_VNNI, vnni[t]));
    }
    smoa_isa best = SMOA_ISA_SCALAR;
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++)
        if (smoa_isa_supported(isa)) best = isa;
    assert_string_equal(smoa_vec_dot_isa(), smoa_isa_name(best));
}

/* ------------------------------------------------------------------------ */
/* Activation quantization                                                  */

/* One block of count values: q within d / 2, the largest |q| 127. */
static void check_act_block(const float *x, int count, float d, const int8_t *q) {
    float amax = 0.0f;
    int qmax = 0;
    for (int i = 0; i < count; i++) {
        amax = fmaxf(amax, fabsf(x[i]));
        qmax = abs(q[i]) > qmax ? abs(q[i]) : qmax;
        double error = fabs((double)x[i] - (double)d * q[i]);
        if (error > d / 2.0 * (1.0 + 0x1p-20))
            fail_msg("x %.9g quantized to %d * %.9g", (double)x[i], q[i], (double)d);
    }
    assert_true(d == amax / 127.0f);
    assert_int_equal(qmax, amax > 0.0f ? 127 : 0);
}

static int sum_q(const int8_t *q, int count) {
    int sum = 0;
    for (int i = 0; i < count; i++) sum += q[i];
    return sum;
}

static void check_act_row(uint32_t type, const float *x, int64_t n, const void *act) {
    if (block_size(type) == 32) {
        const smoa_act_q8 *a = act;
        for (int64_t b = 0; b < n / 32; b++) {
            check_act_block(x + 32 * b, 32, a[b].d, a[b].qs);
            assert_true(a[b].s == a[b].d * (float)sum_q(a[b].qs, 32));
        }
    } else {
        const smoa_act_q8k *a = act;
        for (int64_t b = 0; b < n / 256; b++) {
            check_act_block(x + 256 * b, 256, a[b].d, a[b].qs);
            for (int g = 0; g < 16; g++)
                assert_int_equal(a[b].bsums[g], sum_q(a[b].qs + 16 * g, 16));
        }
    }
}

static void test_act_quantization(void **state) {
    (void)state;
    const uint32_t types[] = {SMOA_TYPE_Q4_1, SMOA_TYPE_Q6_K};
    random_seed(11);
    for (size_t t = 0; t < 2; t++)
        for (act_kind ak = ACT_GAUSSIAN; ak <= ACT_EXTREMES; ak++) {
            int64_t n = 4096;
            size_t bytes = smoa_act_row_bytes(types[t], n);
            float *x = checked_malloc((size_t)n * sizeof(float));
            uint8_t *want = checked_malloc(bytes), *got = checked_malloc(bytes);
            fill_activations(x, n, ak);
            assert_true(smoa_act_quantize_row_isa(SMOA_ISA_SCALAR, types[t], x, want, n));
            check_act_row(types[t], x, n, want);
            for (smoa_isa isa = SMOA_ISA_SCALAR + 1; isa < SMOA_ISA_COUNT; isa++) {
                memset(got, 0xAA, bytes);
                if (!smoa_act_quantize_row_isa(isa, types[t], x, got, n)) continue;
                if (memcmp(got, want, bytes) != 0)
                    fail_msg("%s activations differ from scalar for type %u", smoa_isa_name(isa),
                             types[t]);
            }
            memset(got, 0xAA, bytes);
            smoa_act_quantize_row(types[t], x, got, n);
            assert_memory_equal(got, want, bytes);
            free(x);
            free(want);
            free(got);
        }
}

/* Float weight types take the activations as they are. */
static void test_act_copy(void **state) {
    (void)state;
    float x[5] = {1.0f, -2.5f, 3.25f, 0.0f, 1e-30f}, act[5];
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_F16, 5), sizeof act);
    smoa_act_quantize_row(SMOA_TYPE_F16, x, act, 5);
    assert_memory_equal(act, x, sizeof x);
}

/* ------------------------------------------------------------------------ */
/* Sizes and unsupported types                                              */

static void test_row_bytes(void **state) {
    (void)state;
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_Q4_1, 64), 2 * sizeof(smoa_act_q8));
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_Q8_0, 576), 18 * sizeof(smoa_act_q8));
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_Q6_K, 1536), 6 * sizeof(smoa_act_q8k));
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_F32, 3), 3 * sizeof(float));
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_Q4_0, 48), 0);
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_Q4_K, 576), 0);
    assert_int_equal(smoa_act_row_bytes(SMOA_TYPE_Q4_0, -32), 0);
}

static void test_unsupported(void **state) {
    (void)state;
    /* Q8_1, Q2_K, Q8_K, IQ4_NL, I8, and no type at all */
    const uint32_t types[] = {9, 10, 15, 20, 24, 1000};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        assert_null(smoa_vec_dot_get(types[t]));
        assert_null(smoa_vec_dot_get_scalar(types[t]));
        for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++)
            assert_null(smoa_vec_dot_get_isa(isa, types[t]));
        assert_int_equal(smoa_act_row_bytes(types[t], 256), 0);
        float x[256] = {1.0f};
        uint8_t act[16];
        memset(act, 0x5A, sizeof act);
        smoa_act_quantize_row(types[t], x, act, 256); /* writes nothing */
        for (size_t i = 0; i < sizeof act; i++) assert_int_equal(act[i], 0x5A);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_vs_reference),
        cmocka_unit_test(test_fast_vs_scalar),
        cmocka_unit_test(test_kernels_present),
        cmocka_unit_test(test_dot4),
        cmocka_unit_test(test_dot4_present),
        cmocka_unit_test(test_act_quantization),
        cmocka_unit_test(test_act_copy),
        cmocka_unit_test(test_row_bytes),
        cmocka_unit_test(test_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
