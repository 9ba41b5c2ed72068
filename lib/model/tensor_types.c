/* tensor_types.c - ggml tensor types: one table of names and block geometry,
 * portable fp16/bf16 conversions, and the reference dequantizers. The block
 * layouts and their unpacking helpers live in tensor_blocks.h. */
#include "model/tensor_types.h"

#include <stddef.h>

#include "model/tensor_blocks.h"

/* ------------------------------------------------------------------------ */
/* Half and bfloat16 conversions                                            */
/*                                                                          */
/*   binary32: sign 31 | exponent 30-23 (bias 127) | mantissa 22-0          */
/*   binary16: sign 15 | exponent 14-10 (bias 15)  | mantissa 9-0           */
/*   bfloat16: the top 16 bits of a binary32                                */

#define F32_ABS_MASK 0x7fffffffu
#define F32_EXP_MASK 0x7f800000u
#define F32_HIDDEN_BIT 0x00800000u
#define F16_SIGN_BIT 0x8000u
#define F16_EXP_MASK 0x7c00u
#define F16_MANT_MASK 0x03ffu
#define F16_QUIET_BIT 0x0200u
#define BF16_QUIET_BIT 0x0040u
/* Moving an exponent from bias 15 to bias 127, in binary32 position. */
#define F16_TO_F32_REBIAS ((127u - 15u) << 23)
/* 2^-14, the smallest normal half, and 2^-25, half its smallest subnormal. */
#define F32_BITS_HALF_MIN_NORMAL 0x38800000u
#define F32_BITS_HALF_SUBNORMAL_MIDPOINT 0x33000000u

/* x >> shift, rounded to nearest, ties to even (1 <= shift <= 31). */
static inline uint32_t shift_right_round_even(uint32_t x, unsigned shift) {
    uint32_t kept = x >> shift;
    uint32_t dropped = x & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    return kept + (dropped > half || (dropped == half && (kept & 1)));
}

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & F16_SIGN_BIT) << 16;
    uint32_t exponent = h & F16_EXP_MASK;
    uint32_t mantissa = h & F16_MANT_MASK;
    if (exponent == F16_EXP_MASK) /* inf, or NaN with its payload kept */
        return float_from_bits(sign | F32_EXP_MASK | mantissa << 13);
    if (exponent == 0) { /* zero or subnormal: mantissa * 2^-24, exact */
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    return float_from_bits(sign | (((uint32_t)(h & ~F16_SIGN_BIT) << 13) +
                                   F16_TO_F32_REBIAS));
}

static inline uint16_t float_to_half(float f) {
    uint32_t bits = bits_from_float(f);
    uint32_t sign = (bits >> 16) & F16_SIGN_BIT;
    uint32_t magnitude = bits & F32_ABS_MASK;
    if (magnitude > F32_EXP_MASK) /* NaN: made quiet so no payload loss turns it into inf */
        return (uint16_t)(sign | F16_EXP_MASK | F16_QUIET_BIT |
                          ((magnitude >> 13) & F16_MANT_MASK));
    if (magnitude >= F32_BITS_HALF_MIN_NORMAL) {
        /* Rebias, drop 13 mantissa bits; a rounding carry moves up into the
         * exponent, and anything past 65504 (inf included) saturates to inf. */
        uint32_t h = shift_right_round_even(magnitude - F16_TO_F32_REBIAS, 13);
        return (uint16_t)(sign | (h < F16_EXP_MASK ? h : F16_EXP_MASK));
    }
    if (magnitude <= F32_BITS_HALF_SUBNORMAL_MIDPOINT) /* 2^-25 is a tie: even is 0 */
        return (uint16_t)sign;
    /* Subnormal: count units of 2^-24. The value is significand *
     * 2^(exponent - 150), i.e. significand >> (126 - exponent) units, 14..24. */
    uint32_t exponent = magnitude >> 23;
    uint32_t significand = (magnitude & (F32_HIDDEN_BIT - 1)) | F32_HIDDEN_BIT;
    return (uint16_t)(sign | shift_right_round_even(significand, 126 - exponent));
}

static inline float bfloat_to_float(uint16_t h) {
    return float_from_bits((uint32_t)h << 16);
}

static inline uint16_t float_to_bfloat(float f) {
    uint32_t bits = bits_from_float(f);
    if ((bits & F32_ABS_MASK) > F32_EXP_MASK) /* NaN: kept quiet, as for halves */
        return (uint16_t)((bits >> 16) | BF16_QUIET_BIT);
    /* The sign rides along: a carry stops at the exponent, at worst at inf. */
    return (uint16_t)shift_right_round_even(bits, 16);
}

float smoa_fp16_to_fp32(uint16_t h) { return half_to_float(h); }
uint16_t smoa_fp32_to_fp16(float f) { return float_to_half(f); }
float smoa_bf16_to_fp32(uint16_t h) { return bfloat_to_float(h); }
uint16_t smoa_fp32_to_bf16(float f) { return float_to_bfloat(f); }

/* ------------------------------------------------------------------------ */
/* Block dequantization helpers                                             */

/* y[i] = scale * q[i] + offset: the end of the types with a min. */
static inline void scale_and_offset(const uint8_t q[QK], float scale, float offset,
                                    float *y) {
    for (int i = 0; i < QK; i++) y[i] = scale * q[i] + offset;
}

/* y[i] = (q[i] - zero) * scale: the end of the symmetric types. Not folded
 * into scale_and_offset, whose sum would turn a -0 into +0 for negative d. */
static inline void center_and_scale(const uint8_t q[QK], int zero, float scale, float *y) {
    for (int i = 0; i < QK; i++) y[i] = (q[i] - zero) * scale;
}

/* Q4_K and Q5_K differ only by the fifth bit: qh is NULL for Q4_K. */
static void dequantize_k_super_block(float d, float dmin, const uint8_t scales[12],
                                     const uint8_t qs[QK_K / 2], const uint8_t *qh,
                                     float *y) {
    uint8_t sc[8], m[8], q[QK];
    unpack_k_scales(scales, sc, m);
    for (unsigned s = 0; s < 8; s++) {
        unpack_k_sub_block(qs, qh, s, q);
        scale_and_offset(q, d * sc[s], -(dmin * m[s]), y + QK * s);
    }
}

/* One half (128 weights) of a Q6_K block: eight sub-blocks of 16 weights. */
static void dequantize_q6_k_half(const uint8_t ql[64], const uint8_t qh[32],
                                 const int8_t sc[8], float d, float *y) {
    uint8_t q[128];
    unpack_q6_k_half(ql, qh, q);
    for (int s = 0; s < 8; s++) {
        float scale = d * sc[s];
        for (int l = 16 * s; l < 16 * s + 16; l++) y[l] = scale * (q[l] - 32);
    }
}

/* ------------------------------------------------------------------------ */
/* Row dequantizers: n_blocks blocks from src to dst                        */

typedef void dequantize_fn(const uint8_t *src, float *dst, uint64_t n_blocks);

static void dequantize_f32(const uint8_t *src, float *dst, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) dst[i] = float_from_bits(read_u32_le(src + 4 * i));
}

static void dequantize_f16(const uint8_t *src, float *dst, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) dst[i] = half_to_float(read_u16_le(src + 2 * i));
}

static void dequantize_bf16(const uint8_t *src, float *dst, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) dst[i] = bfloat_to_float(read_u16_le(src + 2 * i));
}

static void dequantize_q4_0(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q4_0 *blocks = (const block_q4_0 *)src;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK) {
        unpack_q4(blocks[i].qs, q);
        center_and_scale(q, 8, read_half(blocks[i].d), dst);
    }
}

static void dequantize_q4_1(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q4_1 *blocks = (const block_q4_1 *)src;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK) {
        unpack_q4(blocks[i].qs, q);
        scale_and_offset(q, read_half(blocks[i].d), read_half(blocks[i].m), dst);
    }
}

static void dequantize_q5_0(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q5_0 *blocks = (const block_q5_0 *)src;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK) {
        unpack_q5(blocks[i].qs, blocks[i].qh, q);
        center_and_scale(q, 16, read_half(blocks[i].d), dst);
    }
}

static void dequantize_q5_1(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q5_1 *blocks = (const block_q5_1 *)src;
    uint8_t q[QK];
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK) {
        unpack_q5(blocks[i].qs, blocks[i].qh, q);
        scale_and_offset(q, read_half(blocks[i].d), read_half(blocks[i].m), dst);
    }
}

static void dequantize_q8_0(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q8_0 *blocks = (const block_q8_0 *)src;
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK) {
        float d = read_half(blocks[i].d);
        for (int j = 0; j < QK; j++) dst[j] = blocks[i].qs[j] * d;
    }
}

static void dequantize_q4_k(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q4_k *blocks = (const block_q4_k *)src;
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK_K) {
        const block_q4_k *b = &blocks[i];
        dequantize_k_super_block(read_half(b->d), read_half(b->dmin), b->scales, b->qs,
                                 NULL, dst);
    }
}

static void dequantize_q5_k(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q5_k *blocks = (const block_q5_k *)src;
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK_K) {
        const block_q5_k *b = &blocks[i];
        dequantize_k_super_block(read_half(b->d), read_half(b->dmin), b->scales, b->qs,
                                 b->qh, dst);
    }
}

static void dequantize_q6_k(const uint8_t *src, float *dst, uint64_t n_blocks) {
    const block_q6_k *blocks = (const block_q6_k *)src;
    for (uint64_t i = 0; i < n_blocks; i++, dst += QK_K) {
        const block_q6_k *b = &blocks[i];
        float d = read_half(b->d);
        for (int half = 0; half < 2; half++)
            dequantize_q6_k_half(b->ql + 64 * half, b->qh + 32 * half,
                                 b->scales + 8 * half, d, dst + 128 * half);
    }
}

/* ------------------------------------------------------------------------ */
/* The type table, indexed by ggml id. Unsupported types carry only their   */
/* name; ids that were never assigned, or were retired, have no entry.      */

typedef struct type_entry {
    smoa_type_traits traits;
    dequantize_fn *dequantize; /* NULL: unsupported */
} type_entry;

#define SUPPORTED(name, block_size, type_size, fn) {{name, block_size, type_size}, fn}
#define NAME_ONLY(name) {{name, 0, 0}, NULL}

static const type_entry type_table[] = {
    [SMOA_TYPE_F32] = SUPPORTED("F32", 1, 4, dequantize_f32),
    [SMOA_TYPE_F16] = SUPPORTED("F16", 1, 2, dequantize_f16),
    [SMOA_TYPE_Q4_0] = SUPPORTED("Q4_0", QK, sizeof(block_q4_0), dequantize_q4_0),
    [SMOA_TYPE_Q4_1] = SUPPORTED("Q4_1", QK, sizeof(block_q4_1), dequantize_q4_1),
    [SMOA_TYPE_Q5_0] = SUPPORTED("Q5_0", QK, sizeof(block_q5_0), dequantize_q5_0),
    [SMOA_TYPE_Q5_1] = SUPPORTED("Q5_1", QK, sizeof(block_q5_1), dequantize_q5_1),
    [SMOA_TYPE_Q8_0] = SUPPORTED("Q8_0", QK, sizeof(block_q8_0), dequantize_q8_0),
    [9] = NAME_ONLY("Q8_1"),
    [10] = NAME_ONLY("Q2_K"),
    [11] = NAME_ONLY("Q3_K"),
    [SMOA_TYPE_Q4_K] = SUPPORTED("Q4_K", QK_K, sizeof(block_q4_k), dequantize_q4_k),
    [SMOA_TYPE_Q5_K] = SUPPORTED("Q5_K", QK_K, sizeof(block_q5_k), dequantize_q5_k),
    [SMOA_TYPE_Q6_K] = SUPPORTED("Q6_K", QK_K, sizeof(block_q6_k), dequantize_q6_k),
    [15] = NAME_ONLY("Q8_K"),
    [16] = NAME_ONLY("IQ2_XXS"),
    [17] = NAME_ONLY("IQ2_XS"),
    [18] = NAME_ONLY("IQ3_XXS"),
    [19] = NAME_ONLY("IQ1_S"),
    [20] = NAME_ONLY("IQ4_NL"),
    [21] = NAME_ONLY("IQ3_S"),
    [22] = NAME_ONLY("IQ2_S"),
    [23] = NAME_ONLY("IQ4_XS"),
    [24] = NAME_ONLY("I8"),
    [25] = NAME_ONLY("I16"),
    [26] = NAME_ONLY("I32"),
    [27] = NAME_ONLY("I64"),
    [28] = NAME_ONLY("F64"),
    [29] = NAME_ONLY("IQ1_M"),
    [SMOA_TYPE_BF16] = SUPPORTED("BF16", 1, 2, dequantize_bf16),
    [34] = NAME_ONLY("TQ1_0"),
    [35] = NAME_ONLY("TQ2_0"),
    [39] = NAME_ONLY("MXFP4"),
    [40] = NAME_ONLY("NVFP4"),
    [41] = NAME_ONLY("Q1_0"),
    [42] = NAME_ONLY("Q2_0"),
};

#define TYPE_TABLE_SIZE (sizeof type_table / sizeof type_table[0])

static const type_entry *find_entry(uint32_t type) {
    if (type >= TYPE_TABLE_SIZE || !type_table[type].traits.name) return NULL;
    return &type_table[type];
}

static const type_entry *find_supported(uint32_t type) {
    const type_entry *entry = find_entry(type);
    return entry && entry->dequantize ? entry : NULL;
}

/* ------------------------------------------------------------------------ */
/* Public functions                                                         */

const smoa_type_traits *smoa_type_traits_get(uint32_t type) {
    const type_entry *entry = find_supported(type);
    return entry ? &entry->traits : NULL;
}

const char *smoa_type_name_any(uint32_t type) {
    const type_entry *entry = find_entry(type);
    return entry ? entry->traits.name : NULL;
}

bool smoa_type_row_bytes(uint32_t type, uint64_t n, uint64_t *out_bytes) {
    const type_entry *entry = find_supported(type);
    if (!entry || n % entry->traits.block_size != 0) return false;
    uint64_t blocks = n / entry->traits.block_size;
    if (blocks > UINT64_MAX / entry->traits.type_size) return false;
    *out_bytes = blocks * entry->traits.type_size;
    return true;
}

bool smoa_dequantize(uint32_t type, const void *src, float *dst, uint64_t n) {
    const type_entry *entry = find_supported(type);
    if (!entry || n % entry->traits.block_size != 0) return false;
    if (n > 0) entry->dequantize(src, dst, n / entry->traits.block_size);
    return true;
}
