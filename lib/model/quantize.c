/* quantize.c - f32 rows to every supported GGUF type: round to nearest
 * against max-abs scales (symmetric types) or min/max ones (types with a
 * min). Block layouts: tensor_blocks.h.
 *
 * Every scale is first rounded to the precision it is stored in (fp16, or
 * a 6- or 8-bit integer multiple of a super-block scale), and the weights
 * are quantized against that stored value, computed the way the
 * dequantizer computes it: each weight is rounded once, and a block built
 * from the format's own levels comes back exactly. */
#include "model/quantize.h"

#include <math.h>

#include "model/tensor_blocks.h"

/* ------------------------------------------------------------------------ */
/* Scales and levels                                                        */

static float clamp_float(float v, int lo, int hi) {
    return fminf(fmaxf(v, (float)lo), (float)hi); /* a NaN becomes lo */
}

static int round_clamp(float v, int lo, int hi) { return (int)lrintf(clamp_float(v, lo, hi)); }
static int ceil_clamp(float v, int lo, int hi) { return (int)ceilf(clamp_float(v, lo, hi)); }

/* Stores the scale v as fp16 and returns the value stored. Beyond the
 * fp16 range it saturates (rows that large clamp, rather than turn into
 * inf and NaN). */
static float store_half(float v, uint8_t field[2]) {
    const float half_max = 65504.0f;
    uint16_t h = smoa_fp32_to_fp16(fminf(fmaxf(v, -half_max), half_max));
    write_u16_le(field, h);
    return smoa_fp16_to_fp32(h);
}

/* The value of largest magnitude, sign kept (the first of equals). */
static float signed_extreme(const float *x, int n) {
    float extreme = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > fabsf(extreme)) extreme = x[i];
    return extreme;
}

static void min_max(const float *x, int n, float *lo, float *hi) {
    *lo = *hi = x[0];
    for (int i = 1; i < n; i++) {
        *lo = fminf(*lo, x[i]);
        *hi = fmaxf(*hi, x[i]);
    }
}

/* q[i] = round((x[i] - offset) / scale) + zero, clamped to [0, levels),
 * for y = scale * (q - zero) + offset; every q is zero when scale is 0. */
static void quantize_values(const float *x, int n, float scale, float offset, int zero,
                            int levels, uint8_t *q) {
    for (int i = 0; i < n; i++) {
        int level = scale != 0.0f
                        ? round_clamp((x[i] - offset) / scale, -zero, levels - 1 - zero)
                        : 0;
        q[i] = (uint8_t)(level + zero);
    }
}

/* Symmetric blocks, y = d (q - zero) with q in [0, 2 zero): the extreme
 * value takes level 0, so d = extreme / -zero (negative when the extreme
 * is positive). Stores d; fills q. */
static void quantize_symmetric(const float *x, int n, int zero, uint8_t d_field[2],
                               uint8_t *q) {
    float d = store_half(signed_extreme(x, n) / (float)-zero, d_field);
    quantize_values(x, n, d, 0.0f, zero, 2 * zero, q);
}

/* Blocks with a min, y = d q + m: m is the minimum, d spans from the stored
 * m to the maximum. Stores d and m; fills q. */
static void quantize_with_min(const float *x, int n, int levels, uint8_t d_field[2],
                              uint8_t m_field[2], uint8_t *q) {
    float lo, hi;
    min_max(x, n, &lo, &hi);
    float m = store_half(lo, m_field);
    float d = store_half((hi - m) / (float)(levels - 1), d_field);
    quantize_values(x, n, d, m, 0, levels, q);
}

/* ------------------------------------------------------------------------ */
/* Bit packing (the inverses of the unpackers in tensor_blocks.h)           */

/* Weights 0-15 in the low nibbles, 16-31 in the high ones. */
static void pack_nibbles(const uint8_t q[QK], uint8_t qs[QK / 2]) {
    for (int j = 0; j < QK / 2; j++) qs[j] = (uint8_t)((q[j] & 0xF) | (q[j + QK / 2] & 0xF) << 4);
}

/* Bit 4 of every q as the 32-bit little-endian mask of Q5_0/Q5_1. */
static void pack_fifth_bits(const uint8_t q[QK], uint8_t qh[4]) {
    uint32_t mask = 0;
    for (int i = 0; i < QK; i++) mask |= (uint32_t)((q[i] >> 4) & 1) << i;
    write_u32_le(qh, mask);
}

static void pack_k_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t packed[12]) {
    for (int s = 0; s < 4; s++) {
        packed[s] = (uint8_t)(sc[s] | (sc[s + 4] >> 4) << 6);
        packed[s + 4] = (uint8_t)(m[s] | (m[s + 4] >> 4) << 6);
        packed[s + 8] = (uint8_t)((sc[s + 4] & 0xF) | (m[s + 4] & 0xF) << 4);
    }
}

/* Chunk c of qs: sub-block 2c in the low nibbles, 2c + 1 in the high ones;
 * qh (Q5_K only, else NULL): bit s of qh[l] = bit 4 of weight l of sub-block s. */
static void pack_k_weights(const uint8_t q[QK_K], uint8_t qs[QK_K / 2], uint8_t *qh) {
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < QK; l++)
            qs[QK * c + l] = (uint8_t)((q[64 * c + l] & 0xF) | (q[64 * c + QK + l] & 0xF) << 4);
    if (!qh) return;
    for (int l = 0; l < QK; l++) {
        qh[l] = 0;
        for (int s = 0; s < 8; s++) qh[l] |= (uint8_t)(((q[QK * s + l] >> 4) & 1) << s);
    }
}

/* One Q6_K half of 128 weights, as laid out in the block_q6_k comment. */
static void pack_q6_k_half(const uint8_t q[128], uint8_t ql[64], uint8_t qh[32]) {
    for (int l = 0; l < 32; l++) {
        ql[l] = (uint8_t)((q[l] & 0xF) | (q[l + 64] & 0xF) << 4);
        ql[l + 32] = (uint8_t)((q[l + 32] & 0xF) | (q[l + 96] & 0xF) << 4);
        qh[l] = (uint8_t)(q[l] >> 4 | (q[l + 32] >> 4) << 2 | (q[l + 64] >> 4) << 4 |
                          (q[l + 96] >> 4) << 6);
    }
}

/* ------------------------------------------------------------------------ */
/* Row quantizers: n_blocks blocks from x to dst                            */

typedef void quantize_fn(const float *x, uint8_t *dst, uint64_t n_blocks);

static void quantize_f32(const float *x, uint8_t *dst, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) write_u32_le(dst + 4 * i, bits_from_float(x[i]));
}

static void quantize_f16(const float *x, uint8_t *dst, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) write_u16_le(dst + 2 * i, smoa_fp32_to_fp16(x[i]));
}

static void quantize_bf16(const float *x, uint8_t *dst, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) write_u16_le(dst + 2 * i, smoa_fp32_to_bf16(x[i]));
}

static void quantize_q4_0(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q4_0 *blocks = (block_q4_0 *)dst;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK) {
        quantize_symmetric(x, QK, 8, blocks[i].d, q);
        pack_nibbles(q, blocks[i].qs);
    }
}

static void quantize_q4_1(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q4_1 *blocks = (block_q4_1 *)dst;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK) {
        quantize_with_min(x, QK, 16, blocks[i].d, blocks[i].m, q);
        pack_nibbles(q, blocks[i].qs);
    }
}

static void quantize_q5_0(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q5_0 *blocks = (block_q5_0 *)dst;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK) {
        quantize_symmetric(x, QK, 16, blocks[i].d, q);
        pack_nibbles(q, blocks[i].qs);
        pack_fifth_bits(q, blocks[i].qh);
    }
}

static void quantize_q5_1(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q5_1 *blocks = (block_q5_1 *)dst;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK) {
        quantize_with_min(x, QK, 32, blocks[i].d, blocks[i].m, q);
        pack_nibbles(q, blocks[i].qs);
        pack_fifth_bits(q, blocks[i].qh);
    }
}

/* Levels 0..255 around 128: the stored byte is q - 128. */
static void quantize_q8_0(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q8_0 *blocks = (block_q8_0 *)dst;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK) {
        quantize_symmetric(x, QK, 128, blocks[i].d, q);
        for (int j = 0; j < QK; j++) blocks[i].qs[j] = (int8_t)(q[j] - 128);
    }
}

/* Q4_K / Q5_K: sub-block s (32 weights) holds y = d sc[s] q - dmin m[s]
 * with 6-bit sc and m, so it covers [-dmin m[s], that + (levels - 1) d
 * sc[s]]. Mins above zero are taken as zero (m cannot be negative). m[s]
 * and sc[s] round up, so each sub-block's range is covered and no weight
 * clamps (short of the 6-bit ceiling), for a little lost resolution. */
static void quantize_k_super_block(const float *x, int levels, uint8_t d_field[2],
                                   uint8_t dmin_field[2], uint8_t scales[12],
                                   uint8_t q[QK_K]) {
    float lo[8], hi[8], offset[8], largest_min = 0.0f, largest_span = 0.0f;
    uint8_t sc[8], m[8];
    for (int s = 0; s < 8; s++) {
        min_max(x + QK * s, QK, &lo[s], &hi[s]);
        lo[s] = fminf(lo[s], 0.0f);
        largest_min = fmaxf(largest_min, -lo[s]);
    }
    float dmin = store_half(largest_min / 63, dmin_field);
    for (int s = 0; s < 8; s++) {
        m[s] = (uint8_t)(dmin > 0.0f ? ceil_clamp(-lo[s] / dmin, 0, 63) : 0);
        offset[s] = -(dmin * m[s]);
        largest_span = fmaxf(largest_span, hi[s] - offset[s]);
    }
    float d = store_half(largest_span / (float)(levels - 1) / 63, d_field);
    for (int s = 0; s < 8; s++) {
        float step = (hi[s] - offset[s]) / (float)(levels - 1);
        sc[s] = (uint8_t)(d > 0.0f ? ceil_clamp(step / d, 0, 63) : 0);
        quantize_values(x + QK * s, QK, d * sc[s], offset[s], 0, levels, q + QK * s);
    }
    pack_k_scales(sc, m, scales);
}

static void quantize_q4_k(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q4_k *blocks = (block_q4_k *)dst;
    uint8_t q[QK_K];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK_K) {
        block_q4_k *b = &blocks[i];
        quantize_k_super_block(x, 16, b->d, b->dmin, b->scales, q);
        pack_k_weights(q, b->qs, NULL);
    }
}

static void quantize_q5_k(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q5_k *blocks = (block_q5_k *)dst;
    uint8_t q[QK_K];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK_K) {
        block_q5_k *b = &blocks[i];
        quantize_k_super_block(x, 32, b->d, b->dmin, b->scales, q);
        pack_k_weights(q, b->qs, b->qh);
    }
}

/* Q6_K: sixteen symmetric sub-blocks of 16, y = d sc[s] (q - 32), with a
 * signed 8-bit sc. Each sub-block's own scale (extreme / -32, as in
 * quantize_symmetric) becomes sc[s] rounded away from zero, for the same
 * reason as the K-quant scales above. */
static void quantize_q6_k(const float *x, uint8_t *dst, uint64_t n_blocks) {
    block_q6_k *blocks = (block_q6_k *)dst;
    uint8_t q[QK_K];
    for (uint64_t i = 0; i < n_blocks; i++, x += QK_K) {
        block_q6_k *b = &blocks[i];
        float sub_scale[16], largest = 0.0f;
        for (int s = 0; s < 16; s++) {
            sub_scale[s] = signed_extreme(x + 16 * s, 16) / -32;
            largest = fmaxf(largest, fabsf(sub_scale[s]));
        }
        float d = store_half(largest / 127, b->d);
        for (int s = 0; s < 16; s++) {
            int magnitude = d > 0.0f ? ceil_clamp(fabsf(sub_scale[s]) / d, 0, 127) : 0;
            b->scales[s] = (int8_t)(sub_scale[s] < 0 ? -magnitude : magnitude);
            quantize_values(x + 16 * s, 16, d * b->scales[s], 0.0f, 32, 64, q + 16 * s);
        }
        pack_q6_k_half(q, b->ql, b->qh);
        pack_q6_k_half(q + 128, b->ql + 64, b->qh + 32);
    }
}

static quantize_fn *quantizer_of(uint32_t type) {
    switch (type) {
    case SMOA_TYPE_F32: return quantize_f32;
    case SMOA_TYPE_F16: return quantize_f16;
    case SMOA_TYPE_BF16: return quantize_bf16;
    case SMOA_TYPE_Q4_0: return quantize_q4_0;
    case SMOA_TYPE_Q4_1: return quantize_q4_1;
    case SMOA_TYPE_Q5_0: return quantize_q5_0;
    case SMOA_TYPE_Q5_1: return quantize_q5_1;
    case SMOA_TYPE_Q8_0: return quantize_q8_0;
    case SMOA_TYPE_Q4_K: return quantize_q4_k;
    case SMOA_TYPE_Q5_K: return quantize_q5_k;
    case SMOA_TYPE_Q6_K: return quantize_q6_k;
    default: return NULL;
    }
}

bool smoa_quantize(uint32_t type, const float *x, void *dst, uint64_t n) {
    const smoa_type_traits *traits = smoa_type_traits_get(type);
    quantize_fn *quantize = quantizer_of(type);
    if (!traits || !quantize || n % traits->block_size != 0) return false;
    if (n > 0) quantize(x, dst, n / traits->block_size);
    return true;
}
