/* quant_dot_scalar.c - the portable reference kernels: activation
 * quantization and one dot product per weight type, in plain C.
 *
 * Each block's integer sum of q_w * q_x is exact; floats come in only to
 * scale it, once per block (per sub-block scales stay integers). The SIMD
 * kernels compute the same sums and are tested against these. */
#include <math.h>

#include "engine/cpu/quant_dot_internal.h"
#include "model/tensor_blocks.h"

_Static_assert(sizeof(((smoa_act_q8 *)0)->qs) == QK, "an activation block per weight block");
_Static_assert(sizeof(((smoa_act_q8k *)0)->qs) == QK_K, "one per super-block");
_Static_assert(sizeof(((smoa_act_q8k *)0)->bsums) == QK_K / 16 * sizeof(int16_t),
               "a block sum per 16 activations");

/* ------------------------------------------------------------------------ */
/* Activation quantization                                                  */

static float max_abs(const float *x, int n) {
    float m = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > m) m = fabsf(x[i]);
    return m;
}

/* Rounds to nearest, ties to even, as the SIMD conversions do: adding
 * 1.5 * 2^23 leaves no bits below the units (exact for |v| < 2^22), and
 * the float variable drops any wider evaluation precision. The clamp only
 * matters for inf and NaN inputs (NaN fails both tests but the first). */
static int8_t quantize_act_value(float x, float inverse_scale) {
    const float round_shift = 0x1.8p23f;
    float v = x * inverse_scale;
    if (!(v >= -SMOA_ACT_QMAX)) v = -SMOA_ACT_QMAX;
    if (v > SMOA_ACT_QMAX) v = SMOA_ACT_QMAX;
    float shifted = v + round_shift;
    return (int8_t)(shifted - round_shift);
}

/* Quantizes n values with one scale, which it returns. */
static float quantize_act_block(const float *x, int n, int8_t *q) {
    float d = smoa_act_scale(max_abs(x, n));
    float inverse = smoa_act_inverse_scale(d);
    for (int i = 0; i < n; i++) q[i] = quantize_act_value(x[i], inverse);
    return d;
}

static int sum_int8(const int8_t *q, int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += q[i];
    return sum;
}

static void act_q8_scalar(const float *x, void *act, int64_t n) {
    smoa_act_q8 *y = act;
    for (int64_t b = 0; b < n / QK; b++, x += QK) {
        y[b].d = quantize_act_block(x, QK, y[b].qs);
        y[b].s = y[b].d * (float)sum_int8(y[b].qs, QK);
    }
}

static void act_q8k_scalar(const float *x, void *act, int64_t n) {
    smoa_act_q8k *y = act;
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        y[b].d = quantize_act_block(x, QK_K, y[b].qs);
        for (int g = 0; g < QK_K / 16; g++)
            y[b].bsums[g] = (int16_t)sum_int8(y[b].qs + 16 * g, 16);
    }
}

/* ------------------------------------------------------------------------ */
/* Dot products of the 32-weight block types with smoa_act_q8 blocks         */

/* sum (q[i] - zero) * x[i] over n weights. */
static int32_t dot_ints(const uint8_t *q, int zero, const int8_t *x, int n) {
    int32_t sum = 0;
    for (int i = 0; i < n; i++) sum += (q[i] - zero) * x[i];
    return sum;
}

/* Symmetric types: w = d * (q - zero). */
static float q4_0_block(const void *block, const smoa_act_q8 *a) {
    const block_q4_0 *b = block;
    uint8_t q[QK];
    unpack_q4(b->qs, q);
    return read_half(b->d) * a->d * (float)dot_ints(q, 8, a->qs, QK);
}

static float q5_0_block(const void *block, const smoa_act_q8 *a) {
    const block_q5_0 *b = block;
    uint8_t q[QK];
    unpack_q5(b->qs, b->qh, q);
    return read_half(b->d) * a->d * (float)dot_ints(q, 16, a->qs, QK);
}

static float q8_0_block(const void *block, const smoa_act_q8 *a) {
    const block_q8_0 *b = block;
    int32_t sum = 0;
    for (int i = 0; i < QK; i++) sum += b->qs[i] * a->qs[i];
    return read_half(b->d) * a->d * (float)sum;
}

/* Types with a min: w = d * q + m, so the min meets the sum of the
 * activations, a->s. */
static float q4_1_block(const void *block, const smoa_act_q8 *a) {
    const block_q4_1 *b = block;
    uint8_t q[QK];
    unpack_q4(b->qs, q);
    return read_half(b->d) * a->d * (float)dot_ints(q, 0, a->qs, QK) + read_half(b->m) * a->s;
}

static float q5_1_block(const void *block, const smoa_act_q8 *a) {
    const block_q5_1 *b = block;
    uint8_t q[QK];
    unpack_q5(b->qs, b->qh, q);
    return read_half(b->d) * a->d * (float)dot_ints(q, 0, a->qs, QK) + read_half(b->m) * a->s;
}

typedef float block_dot_fn(const void *block, const smoa_act_q8 *a);

static float sum_blocks(int64_t n, const void *w, size_t block_bytes, const smoa_act_q8 *a,
                        block_dot_fn *block_dot) {
    const uint8_t *bytes = w;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK; i++) sum += block_dot(bytes + i * block_bytes, &a[i]);
    return sum;
}

static float dot_q4_0(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q4_0), act, q4_0_block);
}

static float dot_q4_1(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q4_1), act, q4_1_block);
}

static float dot_q5_0(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q5_0), act, q5_0_block);
}

static float dot_q5_1(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q5_1), act, q5_1_block);
}

static float dot_q8_0(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q8_0), act, q8_0_block);
}

/* ------------------------------------------------------------------------ */
/* K-quants with smoa_act_q8k super-blocks                                  */

/* Q4_K / Q5_K (qh NULL for Q4_K). Sub-block s holds w = d sc[s] q - dmin
 * m[s], so its dot is d sc[s] sum(q x) - dmin m[s] sum(x), and sum(x) is
 * two of the activation block sums. */
static float k_super_block(float d, float dmin, const uint8_t scales[12],
                           const uint8_t qs[QK_K / 2], const uint8_t *qh,
                           const smoa_act_q8k *a) {
    uint8_t sc[8], m[8], q[QK];
    unpack_k_scales(scales, sc, m);
    int32_t scaled = 0, mins = 0;
    for (unsigned s = 0; s < 8; s++) {
        unpack_k_sub_block(qs, qh, s, q);
        scaled += sc[s] * dot_ints(q, 0, a->qs + QK * s, QK);
        mins += m[s] * (a->bsums[2 * s] + a->bsums[2 * s + 1]);
    }
    return a->d * (d * (float)scaled - dmin * (float)mins);
}

static float dot_q4_k(int64_t n, const void *w, const void *act) {
    const block_q4_k *b = w;
    const smoa_act_q8k *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++)
        sum += k_super_block(read_half(b[i].d), read_half(b[i].dmin), b[i].scales, b[i].qs,
                             NULL, &a[i]);
    return sum;
}

static float dot_q5_k(int64_t n, const void *w, const void *act) {
    const block_q5_k *b = w;
    const smoa_act_q8k *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++)
        sum += k_super_block(read_half(b[i].d), read_half(b[i].dmin), b[i].scales, b[i].qs,
                             b[i].qh, &a[i]);
    return sum;
}

/* Q6_K: sixteen sub-blocks of 16, w = d sc[s] (q - 32). */
static float q6_k_super_block(const block_q6_k *b, const smoa_act_q8k *a) {
    uint8_t q[128];
    int32_t sum = 0;
    for (int half = 0; half < 2; half++) {
        unpack_q6_k_half(b->ql + 64 * half, b->qh + 32 * half, q);
        for (int s = 0; s < 8; s++)
            sum += b->scales[8 * half + s] *
                   dot_ints(q + 16 * s, 32, a->qs + 128 * half + 16 * s, 16);
    }
    return read_half(b->d) * a->d * (float)sum;
}

static float dot_q6_k(int64_t n, const void *w, const void *act) {
    const block_q6_k *b = w;
    const smoa_act_q8k *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) sum += q6_k_super_block(&b[i], &a[i]);
    return sum;
}

/* ------------------------------------------------------------------------ */
/* Float weights with f32 activations                                       */

static float dot_f32(int64_t n, const void *w, const void *act) {
    const uint8_t *bytes = w;
    const float *x = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += float_from_bits(read_u32_le(bytes + 4 * i)) * x[i];
    return sum;
}

static float dot_f16(int64_t n, const void *w, const void *act) {
    const uint8_t *bytes = w;
    const float *x = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += read_half(bytes + 2 * i) * x[i];
    return sum;
}

static float dot_bf16(int64_t n, const void *w, const void *act) {
    const uint8_t *bytes = w;
    const float *x = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += smoa_bf16_to_fp32(read_u16_le(bytes + 2 * i)) * x[i];
    return sum;
}

/* ------------------------------------------------------------------------ */

static smoa_vec_dot_fn scalar_dot(uint32_t weight_type) {
    switch (weight_type) {
    case SMOA_TYPE_F32: return dot_f32;
    case SMOA_TYPE_F16: return dot_f16;
    case SMOA_TYPE_BF16: return dot_bf16;
    case SMOA_TYPE_Q4_0: return dot_q4_0;
    case SMOA_TYPE_Q4_1: return dot_q4_1;
    case SMOA_TYPE_Q5_0: return dot_q5_0;
    case SMOA_TYPE_Q5_1: return dot_q5_1;
    case SMOA_TYPE_Q8_0: return dot_q8_0;
    case SMOA_TYPE_Q4_K: return dot_q4_k;
    case SMOA_TYPE_Q5_K: return dot_q5_k;
    case SMOA_TYPE_Q6_K: return dot_q6_k;
    default: return NULL;
    }
}

const smoa_isa_kernels smoa_kernels_scalar = {scalar_dot, NULL, act_q8_scalar, act_q8k_scalar};
