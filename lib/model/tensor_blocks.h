/* tensor_blocks.h - byte layouts of the ggml block types and the small
 * helpers that read and unpack them, shared by the dequantizers
 * (tensor_types.c), the quantizer (quantize.c) and the CPU dot products
 * (engine/cpu/quant_dot_*.c). Internal to the library.
 *
 * Blocks are read as byte arrays (every block struct below has alignment 1),
 * so tensor data may start at any address, and multi-byte fields are put
 * together little-endian, as GGUF stores them, whatever the host's order. */
#ifndef SMOA_MODEL_TENSOR_BLOCKS_H
#define SMOA_MODEL_TENSOR_BLOCKS_H

#include <stdint.h>
#include <string.h>

#include "model/tensor_types.h"

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

static inline void write_u16_le(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void write_u32_le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i);
}

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

/* The value of an fp16 field of a block. */
static inline float read_half(const uint8_t field[2]) {
    return smoa_fp16_to_fp32(read_u16_le(field));
}

/* ------------------------------------------------------------------------ */
/* Unpacking: the stored integer of every weight, in weight order           */

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

/* The eight 6-bit scales sc and mins m of a Q4_K/Q5_K super-block, four
 * to a word (first in the low byte): sc[0..3], sc[4..7], m[0..3], m[4..7].
 * Bits 7-6 of packed bytes 0-7 are bits 5-4 of sc and m 4..7; done a word
 * at a time, the shift by 2 moves them there. */
static inline void unpack_k_scale_words(const uint8_t packed[12], uint32_t words[4]) {
    uint32_t a = read_u32_le(packed), b = read_u32_le(packed + 4), c = read_u32_le(packed + 8);
    words[0] = a & 0x3F3F3F3Fu;
    words[1] = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
    words[2] = b & 0x3F3F3F3Fu;
    words[3] = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
}

/* The same as bytes. */
static inline void unpack_k_scales(const uint8_t packed[12], uint8_t sc[8], uint8_t m[8]) {
    uint32_t words[4];
    unpack_k_scale_words(packed, words);
    for (int i = 0; i < 4; i++) {
        sc[i] = (uint8_t)(words[0] >> 8 * i);
        sc[i + 4] = (uint8_t)(words[1] >> 8 * i);
        m[i] = (uint8_t)(words[2] >> 8 * i);
        m[i + 4] = (uint8_t)(words[3] >> 8 * i);
    }
}

/* The 32 4- or 5-bit values of sub-block s of a Q4_K (qh NULL) or Q5_K
 * super-block. */
static inline void unpack_k_sub_block(const uint8_t qs[QK_K / 2], const uint8_t *qh,
                                      unsigned s, uint8_t q[QK]) {
    take_nibbles(qs + QK * (s / 2), QK, 4 * (s % 2), q);
    if (qh) add_fifth_bits_from_plane(qh, s, q);
}

/* The 128 6-bit values of one half of a Q6_K block (ql 64 bytes, qh 32):
 * four quarters of 32 weights, laid out as in the block_q6_k comment. */
static inline void unpack_q6_k_half(const uint8_t ql[64], const uint8_t qh[32],
                                    uint8_t q[128]) {
    for (unsigned quarter = 0; quarter < 4; quarter++) {
        const uint8_t *low = ql + 32 * (quarter % 2);
        unsigned low_shift = 4 * (quarter / 2), high_shift = 2 * quarter;
        for (int l = 0; l < 32; l++)
            q[32 * quarter + l] =
                (uint8_t)(((low[l] >> low_shift) & 0xF) | ((qh[l] >> high_shift) & 3) << 4);
    }
}

#endif
