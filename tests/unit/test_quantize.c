/* test_quantize.c - smoa_quantize for every type, checked through
 * smoa_dequantize (tested on its own against hand-packed blocks).
 *
 *  - Random rows: the RMS round-trip error relative to the RMS of the row
 *    stays under a bound per type. Rounding to a grid of step h costs about
 *    h / sqrt(12) RMS; for Gaussian blocks of 32 the largest magnitude is
 *    about 2.1 sigma, so e.g. Q4_0's step of max / 8 gives ~0.075 and Q8_0's
 *    max / 128 ~0.005. The bounds allow about 1.4x what is observed.
 *  - Exact cases: zeros, constant rows, and rows built from a format's own
 *    levels with power-of-two scales, which must come back unchanged.
 *  - Bad arguments: partial blocks, unsupported types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "random_values.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/quantize.h"
#include "model/tensor_types.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* Quantizes n values of x to type and dequantizes them into y. */
static void round_trip(uint32_t type, const float *x, float *y, uint64_t n) {
    uint64_t bytes;
    assert_true(smoa_type_row_bytes(type, n, &bytes));
    void *packed = malloc(bytes);
    assert_non_null(packed);
    assert_true(smoa_quantize(type, x, packed, n));
    assert_true(smoa_dequantize(type, packed, y, n));
    free(packed);
}

typedef struct type_case {
    uint32_t type;
    double max_rms_error; /* relative to the RMS of the row */
} type_case;

/* Observed with the seeds below: F16 0.0002, BF16 0.0017, Q8_0 0.0054,
 * Q6_K 0.019, Q5_x 0.043, Q4_x 0.087 at most. */
static const type_case TYPES[] = {
    {SMOA_TYPE_F32, 0.0},     {SMOA_TYPE_F16, 0.0003}, {SMOA_TYPE_BF16, 0.0025},
    {SMOA_TYPE_Q8_0, 0.008},  {SMOA_TYPE_Q6_K, 0.027}, {SMOA_TYPE_Q5_0, 0.06},
    {SMOA_TYPE_Q5_1, 0.055},  {SMOA_TYPE_Q5_K, 0.055}, {SMOA_TYPE_Q4_0, 0.12},
    {SMOA_TYPE_Q4_1, 0.11},   {SMOA_TYPE_Q4_K, 0.11},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

#define ROW 4096 /* a multiple of every block size */

/* ------------------------------------------------------------------------ */
/* Random rows                                                              */

typedef enum { GAUSSIAN, SHIFTED, UNIFORM, SCALED_BLOCKS } distribution;

/* Gaussian; Gaussian around +1.5 (exercises the mins); uniform on
 * [-1, 1]; Gaussian with each 32 values scaled by 2^-8..2^8. */
static void fill_row(float *x, int n, distribution kind) {
    float block_scale = 1.0f;
    for (int i = 0; i < n; i++) {
        if (i % 32 == 0) block_scale = ldexpf(1.0f, uniform_int(-8, 8));
        switch (kind) {
        case GAUSSIAN: x[i] = gaussian(); break;
        case SHIFTED: x[i] = 1.5f + gaussian(); break;
        case UNIFORM: x[i] = (float)(2.0 * uniform() - 1.0); break;
        case SCALED_BLOCKS: x[i] = block_scale * gaussian(); break;
        }
    }
}

/* RMS error relative to the RMS of x, taken per group of values and
 * averaged (groups of 32 when blocks have very different scales, so that
 * small blocks count as much as large ones). */
static double relative_rms_error(const float *x, const float *y, int n, int group) {
    double ratio_sum = 0.0;
    int groups = 0;
    for (int g = 0; g < n; g += group, groups++) {
        double error = 0.0, signal = 0.0;
        for (int i = g; i < g + group; i++) {
            error += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            signal += (double)x[i] * x[i];
        }
        ratio_sum += signal > 0 ? error / signal : 0.0;
    }
    return sqrt(ratio_sum / groups);
}

static void test_random_rows(void **state) {
    (void)state;
    static float x[ROW], y[ROW];
    random_seed(1);
    for (size_t t = 0; t < N_TYPES; t++)
        for (distribution kind = GAUSSIAN; kind <= SCALED_BLOCKS; kind++) {
            /* A K-quant super-block spans 2^6 between its sub-block scales
             * at most; blocks apart by up to 2^16 are not its use. */
            const smoa_type_traits *traits = smoa_type_traits_get(TYPES[t].type);
            if (kind == SCALED_BLOCKS && traits->block_size == 256) continue;
            fill_row(x, ROW, kind);
            round_trip(TYPES[t].type, x, y, ROW);
            double error = relative_rms_error(x, y, ROW, kind == SCALED_BLOCKS ? 32 : ROW);
            if (error > TYPES[t].max_rms_error)
                fail_msg("%s, distribution %d: relative RMS error %.5f > %.5f", traits->name,
                         (int)kind, error, TYPES[t].max_rms_error);
        }
}

/* ------------------------------------------------------------------------ */
/* Exact cases                                                              */

static void test_zeros(void **state) {
    (void)state;
    static float x[ROW], y[ROW];
    for (size_t t = 0; t < N_TYPES; t++) {
        memset(x, 0, sizeof x);
        round_trip(TYPES[t].type, x, y, ROW);
        for (int i = 0; i < ROW; i++)
            if (y[i] != 0.0f) fail_msg("type %u: y[%d] = %g", TYPES[t].type, i, (double)y[i]);
    }
}

/* A constant row is one block value repeated: exact, for values whose
 * fraction of the format's scale is a power of two. The K-quants store a
 * scale of a scale (fp16 times 6 or 8 bits), so they keep fp16 precision. */
static void test_constant_rows(void **state) {
    (void)state;
    static float x[ROW], y[ROW];
    const float values[] = {0.75f, -1.5f, 3.0f};
    for (size_t t = 0; t < N_TYPES; t++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            for (int i = 0; i < ROW; i++) x[i] = values[v];
            round_trip(TYPES[t].type, x, y, ROW);
            bool k_quant = smoa_type_traits_get(TYPES[t].type)->block_size == 256;
            double tolerance = k_quant ? 0x1p-10 * fabsf(values[v]) : 0.0;
            for (int i = 0; i < ROW; i++)
                if (fabs((double)y[i] - values[v]) > tolerance)
                    fail_msg("type %u, value %g: y[%d] = %.9g", TYPES[t].type, (double)values[v],
                             i, (double)y[i]);
        }
}

/* Symmetric block of 32: x = (q - zero) * delta, q in [0, 2 zero), one q = 0
 * (the unique extreme), delta a power of two of either sign. */
static void symmetric_block(float *x, int zero) {
    float delta = ldexpf(uniform() < 0.5 ? 1.0f : -1.0f, uniform_int(-6, 2));
    int extreme_at = uniform_int(0, 31);
    for (int i = 0; i < 32; i++) {
        int q = i == extreme_at ? 0 : uniform_int(0, 2 * zero - 1);
        x[i] = (float)(q - zero) * delta;
    }
}

/* Block with a min: x = delta q + m, both ends of [0, levels) present, m a
 * multiple of 2^-6 in [-2, 2]. */
static void min_block(float *x, int levels) {
    float delta = ldexpf(1.0f, uniform_int(-6, -2));
    float m = (float)uniform_int(-128, 128) * 0x1p-6f;
    int low_at = uniform_int(0, 15), high_at = uniform_int(16, 31);
    for (int i = 0; i < 32; i++) {
        int q = i == low_at ? 0 : i == high_at ? levels - 1 : uniform_int(0, levels - 1);
        x[i] = delta * (float)q + m;
    }
}

/* Q4_K/Q5_K super-block: sub-block s holds x = (d sc[s]) q + -(dmin m[s])
 * (the dequantizer's expression), 6-bit sc and m with a 63 among each,
 * both ends of q in every sub-block. */
static void k_block(float *x, int levels) {
    float d = ldexpf(1.0f, uniform_int(-12, -8)), dmin = ldexpf(1.0f, uniform_int(-8, -4));
    int full_sc = uniform_int(0, 7), full_m = uniform_int(0, 7);
    for (int s = 0; s < 8; s++) {
        int sc = s == full_sc ? 63 : uniform_int(1, 63), m = s == full_m ? 63 : uniform_int(0, 63);
        int low_at = uniform_int(0, 15), high_at = uniform_int(16, 31);
        for (int i = 0; i < 32; i++) {
            int q = i == low_at ? 0 : i == high_at ? levels - 1 : uniform_int(0, levels - 1);
            x[32 * s + i] = (d * (float)sc) * (float)q + -(dmin * (float)m);
        }
    }
}

/* Q6_K super-block: x = (d sc[s]) (q - 32), signed sc with a +-127 among
 * them, q = 0 (the unique extreme) in every sub-block of 16. */
static void q6_k_block(float *x) {
    float d = ldexpf(1.0f, uniform_int(-12, -8));
    int full = uniform_int(0, 15);
    for (int s = 0; s < 16; s++) {
        int sc = s == full ? 127 : uniform_int(1, 127);
        if (uniform() < 0.5) sc = -sc;
        int extreme_at = uniform_int(0, 15);
        for (int i = 0; i < 16; i++) {
            int q = i == extreme_at ? 0 : uniform_int(0, 63);
            x[16 * s + i] = (d * (float)sc) * (float)(q - 32);
        }
    }
}

static void representable_row(uint32_t type, float *x, int n) {
    for (int b = 0; b < n; b += type == SMOA_TYPE_Q4_K || type == SMOA_TYPE_Q5_K ||
                                      type == SMOA_TYPE_Q6_K ? 256 : 32) {
        switch (type) {
        case SMOA_TYPE_Q4_0: symmetric_block(x + b, 8); break;
        case SMOA_TYPE_Q5_0: symmetric_block(x + b, 16); break;
        case SMOA_TYPE_Q8_0: symmetric_block(x + b, 128); break;
        case SMOA_TYPE_Q4_1: min_block(x + b, 16); break;
        case SMOA_TYPE_Q5_1: min_block(x + b, 32); break;
        case SMOA_TYPE_Q4_K: k_block(x + b, 16); break;
        case SMOA_TYPE_Q5_K: k_block(x + b, 32); break;
        case SMOA_TYPE_Q6_K: q6_k_block(x + b); break;
        default: /* float types: values already rounded to the type */
            for (int i = b; i < b + 32; i++) {
                float g = gaussian() * 100.0f;
                x[i] = type == SMOA_TYPE_F16    ? smoa_fp16_to_fp32(smoa_fp32_to_fp16(g))
                       : type == SMOA_TYPE_BF16 ? smoa_bf16_to_fp32(smoa_fp32_to_bf16(g))
                                                : g;
            }
        }
    }
}

static void test_representable_rows(void **state) {
    (void)state;
    static float x[ROW], y[ROW];
    random_seed(2);
    for (size_t t = 0; t < N_TYPES; t++)
        for (int rep = 0; rep < 4; rep++) {
            representable_row(TYPES[t].type, x, ROW);
            round_trip(TYPES[t].type, x, y, ROW);
            for (int i = 0; i < ROW; i++)
                if (y[i] != x[i])
                    fail_msg("%s: y[%d] = %.9g, x = %.9g",
                             smoa_type_traits_get(TYPES[t].type)->name, i, (double)y[i],
                             (double)x[i]);
        }
}

/* ------------------------------------------------------------------------ */
/* Bad arguments                                                            */

static void test_rejects(void **state) {
    (void)state;
    float x[256] = {0};
    uint8_t out[1024];
    assert_false(smoa_quantize(SMOA_TYPE_Q4_0, x, out, 16));
    assert_false(smoa_quantize(SMOA_TYPE_Q4_K, x, out, 32));
    assert_false(smoa_quantize(9 /* Q8_1 */, x, out, 32));
    assert_false(smoa_quantize(10 /* Q2_K */, x, out, 256));
    assert_false(smoa_quantize(1000, x, out, 32));
    assert_true(smoa_quantize(SMOA_TYPE_Q4_1, x, out, 0));
    assert_true(smoa_quantize(SMOA_TYPE_F16, x, out, 3));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_rows),
        cmocka_unit_test(test_zeros),
        cmocka_unit_test(test_constant_rows),
        cmocka_unit_test(test_representable_rows),
        cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
