/* tensor_types.c - ggml tensor types: one table of names and block geometry,
 * portable fp16/bf16 conversions, and the reference dequantizers.
 *
 * Blocks are read as byte arrays (every block struct below has alignment 1),
 * so tensor data may start at any address, and multi-byte fields are put
 * together little-endian, as GGUF stores them, whatever the host's order. */
#include "model/tensor_types.h"

#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Byte access                                                              */

static inline uint16_t read_u16_le(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t read_u32_le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline float float_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t bits_from_float(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

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
/* Block layouts. fp16 fields are byte pairs; q[w] is the integer stored    */
/* for weight w of the block.                                               */

#define QK 32  /* weights per block of the simple quants  */
#define QK_K 256 /* weights per super-block of the K-quants */

/* Q4_0: y[w] = (q[w] - 8) * d, q 4 bits.
 *   d   2 bytes  fp16
 *   qs 16 bytes  qs[j]:  bits 7-4 = q[j + 16] | bits 3-0 = q[j]          */
typedef struct {
    uint8_t d[2];
    uint8_t qs[QK / 2];
} block_q4_0;

/* Q4_1: y[w] = q[w] * d + m, q 4 bits; qs as Q4_0. */
typedef struct {
    uint8_t d[2];
    uint8_t m[2];
    uint8_t qs[QK / 2];
} block_q4_1;

/* Q5_0: y[w] = (q[w] - 16) * d, q 5 bits.
 *   d   2 bytes  fp16
 *   qh  4 bytes  a 32-bit little-endian mask: bit w = bit 4 of q[w]
 *   qs 16 bytes  bits 3-0 of q, nibbles as Q4_0                          */
typedef struct {
    uint8_t d[2];
    uint8_t qh[4];
    uint8_t qs[QK / 2];
} block_q5_0;

/* Q5_1: y[w] = q[w] * d + m; qh and qs as Q5_0. */
typedef struct {
    uint8_t d[2];
    uint8_t m[2];
    uint8_t qh[4];
    uint8_t qs[QK / 2];
} block_q5_1;

/* Q8_0: y[w] = qs[w] * d, qs signed 8 bits. */
typedef struct {
    uint8_t d[2];
    int8_t qs[QK];
} block_q8_0;

/* Q4_K: 8 sub-blocks of 32 weights, y = d * sc[s] * q - dmin * m[s], q 4 bits.
 *   d, dmin      2 + 2 bytes  fp16
 *   scales      12 bytes      eight 6-bit scales sc and eight 6-bit mins m:
 *
 *       byte     bits 7-6                bits 5-0
 *       0..3     bits 5-4 of sc[4..7]    sc[0..3]
 *       4..7     bits 5-4 of m[4..7]     m[0..3]
 *
 *       byte     bits 7-4                bits 3-0
 *       8..11    bits 3-0 of m[4..7]     bits 3-0 of sc[4..7]
 *
 *   qs         128 bytes      four chunks of 32 bytes; chunk c holds
 *                             sub-block 2c in its low nibbles and
 *                             sub-block 2c + 1 in its high nibbles       */
typedef struct {
    uint8_t d[2];
    uint8_t dmin[2];
    uint8_t scales[12];
    uint8_t qs[QK_K / 2];
} block_q4_k;

/* Q5_K: Q4_K plus a fifth bit, q 5 bits.
 *   qh  32 bytes  bit s of qh[l] = bit 4 of weight l of sub-block s        */
typedef struct {
    uint8_t d[2];
    uint8_t dmin[2];
    uint8_t scales[12];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_k;

/* Q6_K: 16 sub-blocks of 16 weights, y = d * scales[s] * (q - 32), q 6 bits.
 *   ql      128 bytes  bits 3-0 of q       qh 64 bytes  bits 5-4 of q
 *   scales   16 bytes  signed 8-bit        d   2 bytes  fp16, last
 * Each half of 128 weights takes 64 bytes of ql and 32 of qh. Within a
 * half, for l = 0..31:
 *       weight      bits 3-0 of q              bits 5-4 of q
 *       l           ql[l] bits 3-0             qh[l] bits 1-0
 *       l + 32      ql[l + 32] bits 3-0        qh[l] bits 3-2
 *       l + 64      ql[l] bits 7-4             qh[l] bits 5-4
 *       l + 96      ql[l + 32] bits 7-4        qh[l] bits 7-6              */
typedef struct {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint8_t d[2];
} block_q6_k;

/* The sizes every GGUF writer uses; a struct that disagrees would misread. */
_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block is 18 bytes");
_Static_assert(sizeof(block_q4_1) == 20, "Q4_1 block is 20 bytes");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block is 22 bytes");
_Static_assert(sizeof(block_q5_1) == 24, "Q5_1 block is 24 bytes");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block is 34 bytes");
_Static_assert(sizeof(block_q4_k) == 144, "Q4_K block is 144 bytes");
_Static_assert(sizeof(block_q5_k) == 176, "Q5_K block is 176 bytes");
_Static_assert(sizeof(block_q6_k) == 210, "Q6_K block is 210 bytes");

static inline float read_half(const uint8_t field[2]) {
    return half_to_float(read_u16_le(field));
}

/* ------------------------------------------------------------------------ */
/* Unpacking helpers shared by the block types                              */

/* q[i] = the low (shift 0) or high (shift 4) nibble of bytes[i]. */
static inline void take_nibbles(const uint8_t *bytes, int count, unsigned shift,
                                uint8_t *q) {
    for (int i = 0; i < count; i++) q[i] = (bytes[i] >> shift) & 0xF;
}

/* Sets bit 4 of q[i] from bit i of a 32-bit mask (Q5_0, Q5_1). */
static inline void add_fifth_bits_from_mask(uint32_t mask, uint8_t q[QK]) {
    for (int i = 0; i < QK; i++) q[i] |= ((mask >> i) & 1) << 4;
}

/* Sets bit 4 of q[i] from bit `plane` of bits[i] (Q5_K). */
static inline void add_fifth_bits_from_plane(const uint8_t bits[QK], unsigned plane,
                                             uint8_t q[QK]) {
    for (int i = 0; i < QK; i++) q[i] |= ((bits[i] >> plane) & 1) << 4;
}

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

/* The 32 4-bit values of a Q4_0/Q4_1 block, in weight order. */
static inline void unpack_q4(const uint8_t qs[QK / 2], uint8_t q[QK]) {
    take_nibbles(qs, QK / 2, 0, q);
    take_nibbles(qs, QK / 2, 4, q + QK / 2);
}

/* The 32 5-bit values of a Q5_0/Q5_1 block, in weight order. */
static inline void unpack_q5(const uint8_t qs[QK / 2], const uint8_t qh[4],
                             uint8_t q[QK]) {
    unpack_q4(qs, q);
    add_fifth_bits_from_mask(read_u32_le(qh), q);
}

/* The eight 6-bit scales and mins of a Q4_K/Q5_K super-block. */
static void unpack_k_scales(const uint8_t packed[12], uint8_t sc[8], uint8_t m[8]) {
    for (int s = 0; s < 4; s++) {
        sc[s] = packed[s] & 63;
        m[s] = packed[s + 4] & 63;
        sc[s + 4] = (uint8_t)((packed[s + 8] & 0xF) | (packed[s] >> 6) << 4);
        m[s + 4] = (uint8_t)((packed[s + 8] >> 4) | (packed[s + 4] >> 6) << 4);
    }
}

/* Q4_K and Q5_K differ only by the fifth bit: qh is NULL for Q4_K. */
static void dequantize_k_super_block(float d, float dmin, const uint8_t scales[12],
                                     const uint8_t qs[QK_K / 2], const uint8_t *qh,
                                     float *y) {
    uint8_t sc[8], m[8], q[QK];
    unpack_k_scales(scales, sc, m);
    for (unsigned s = 0; s < 8; s++) {
        take_nibbles(qs + QK * (s / 2), QK, 4 * (s % 2), q);
        if (qh) add_fifth_bits_from_plane(qh, s, q);
        scale_and_offset(q, d * sc[s], -(dmin * m[s]), y + QK * s);
    }
}

/* One half (128 weights) of a Q6_K block: four quarters of 32 weights. */
static void dequantize_q6_k_half(const uint8_t ql[64], const uint8_t qh[32],
                                 const int8_t sc[8], float d, float *y) {
    for (int quarter = 0; quarter < 4; quarter++) {
        const uint8_t *low = ql + 32 * (quarter % 2);
        unsigned low_shift = 4 * (unsigned)(quarter / 2);
        unsigned high_shift = 2 * (unsigned)quarter;
        for (int part = 0; part < 2; part++) { /* the quarter's two sub-blocks */
            float scale = d * sc[2 * quarter + part];
            for (int l = 16 * part; l < 16 * part + 16; l++) {
                int q = ((low[l] >> low_shift) & 0xF) | ((qh[l] >> high_shift) & 3) << 4;
                y[32 * quarter + l] = scale * (q - 32);
            }
        }
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
