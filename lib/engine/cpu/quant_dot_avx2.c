/* quant_dot_avx2.c - AVX2 + FMA + F16C kernels: activation quantization and
 * the dot product of every supported weight type.
 *
 * 8-bit products use vpmaddubsw (unsigned weight bytes times signed
 * activation bytes, pairs summed to int16) and vpmaddwd (pairs summed to
 * int32, or multiplied by a sub-block scale on the way for the K-quants).
 * No int16 sum can saturate: weights are at most 63 (Q6_K) or a magnitude
 * of 128 (Q8_0, whose sign moves to the activation), activations at most
 * 127 in magnitude, and 2 * 128 * 127 < 32767. */
#include "engine/cpu/quant_dot_internal.h"

#if SMOA_X86_KERNELS

#define SMOA_TARGET __attribute__((target("avx2,fma,f16c")))
#include "engine/cpu/quant_dot_x86.h"

/* Eight int32 sums of pairs of q * x products. */
X86_FN __m256i dot_u8_s8(__m256i q, __m256i x) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), _mm256_set1_epi16(1));
}

X86_FN int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* ------------------------------------------------------------------------ */
/* Activation quantization (the same blocks as the scalar version)          */

X86_FN float max_abs_avx2(const float *x, int n) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8)
        m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* Quantizes 32 values into q (vcvtps2dq rounds to nearest even, as the
 * scalar version does)
 * and returns the sums of q over the first and the second 16. */
X86_FN void quantize_32_avx2(const float *x, __m256 inverse_scale, int8_t q[32], int sums[2]) {
    __m256i v[4];
    for (int k = 0; k < 4; k++)
        v[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), inverse_scale));
    sums[0] = hsum_epi32(_mm256_add_epi32(v[0], v[1]));
    sums[1] = hsum_epi32(_mm256_add_epi32(v[2], v[3]));
    /* The packs work per 128-bit lane, so the bytes come out as the dwords
     * [v0 v1 v2 v3 low halves | v0 v1 v2 v3 high halves]; the permute puts
     * them back in order. */
    __m256i words01 = _mm256_packs_epi32(v[0], v[1]), words23 = _mm256_packs_epi32(v[2], v[3]);
    __m256i bytes = _mm256_packs_epi16(words01, words23);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, bytes);
}

SMOA_TARGET static void act_q8_avx2(const float *x, void *act, int64_t n) {
    smoa_act_q8 *y = act;
    for (int64_t b = 0; b < n / QK; b++, x += QK) {
        int sums[2];
        float d = smoa_act_scale(max_abs_avx2(x, QK));
        quantize_32_avx2(x, _mm256_set1_ps(smoa_act_inverse_scale(d)), y[b].qs, sums);
        y[b].d = d;
        y[b].s = d * (float)(sums[0] + sums[1]);
    }
}

SMOA_TARGET static void act_q8k_avx2(const float *x, void *act, int64_t n) {
    smoa_act_q8k *y = act;
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float d = smoa_act_scale(max_abs_avx2(x, QK_K));
        __m256 inverse = _mm256_set1_ps(smoa_act_inverse_scale(d));
        for (int g = 0; g < QK_K / 32; g++) {
            int sums[2];
            quantize_32_avx2(x + 32 * g, inverse, y[b].qs + 32 * g, sums);
            y[b].bsums[2 * g] = (int16_t)sums[0];
            y[b].bsums[2 * g + 1] = (int16_t)sums[1];
        }
        y[b].d = d;
    }
}

/* ------------------------------------------------------------------------ */
/* 32-weight blocks (see sum_blocks in quant_dot_x86.h)                     */

/* 0x10 in byte i where bit i of the block's 32-bit qh mask is set: each
 * byte gets the mask byte holding its bit, then tests that bit. */
X86_FN __m256i fifth_bits(const uint8_t qh[4]) {
    int32_t mask;
    memcpy(&mask, qh, sizeof mask);
    const __m256i byte_of_bit = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                  0x0101010101010101, 0);
    const __m256i bit_in_byte = _mm256_set1_epi64x((int64_t)0x8040201008040201);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(mask), byte_of_bit);
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit_in_byte), bit_in_byte);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

/* Each block type unpacks its weights into 32 bytes (unsigned, or Q8_0's
 * signed ones as stored) and multiplies them with an activation block; a
 * block kernel is the two in a row, the dot4 kernels unpack once for four
 * activation rows (see sum_blocks4). */
X86_FN __m256i unpack_q4_0(const uint8_t *block) {
    return unpack_nibbles(((const block_q4_0 *)(const void *)block)->qs);
}

X86_FN __m256i unpack_q4_1(const uint8_t *block) {
    return unpack_nibbles(((const block_q4_1 *)(const void *)block)->qs);
}

X86_FN __m256i unpack_q5_0(const uint8_t *block) {
    const block_q5_0 *b = (const void *)block;
    return _mm256_or_si256(unpack_nibbles(b->qs), fifth_bits(b->qh));
}

X86_FN __m256i unpack_q5_1(const uint8_t *block) {
    const block_q5_1 *b = (const void *)block;
    return _mm256_or_si256(unpack_nibbles(b->qs), fifth_bits(b->qh));
}

X86_FN __m256i unpack_q8_0(const uint8_t *block) {
    return load_256(((const block_q8_0 *)(const void *)block)->qs);
}

X86_FN __m256i mul_unsigned(__m256i q, const smoa_act_q8 *a) {
    return dot_u8_s8(q, load_256(a->qs));
}

/* Signed weights: |w| times x carrying w's sign (vpsignb also zeroes x
 * where w is 0, which changes nothing). */
X86_FN __m256i mul_signed(__m256i w, const smoa_act_q8 *a) {
    return dot_u8_s8(_mm256_abs_epi8(w), _mm256_sign_epi8(load_256(a->qs), w));
}

X86_FN __m256i q4_0_block(const uint8_t *block, const smoa_act_q8 *a) {
    return mul_unsigned(unpack_q4_0(block), a);
}

X86_FN __m256i q4_1_block(const uint8_t *block, const smoa_act_q8 *a) {
    return mul_unsigned(unpack_q4_1(block), a);
}

X86_FN __m256i q5_0_block(const uint8_t *block, const smoa_act_q8 *a) {
    return mul_unsigned(unpack_q5_0(block), a);
}

X86_FN __m256i q5_1_block(const uint8_t *block, const smoa_act_q8 *a) {
    return mul_unsigned(unpack_q5_1(block), a);
}

X86_FN __m256i q8_0_block(const uint8_t *block, const smoa_act_q8 *a) {
    return mul_signed(unpack_q8_0(block), a);
}

SMOA_TARGET static float dot_q4_0_avx2(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q4_0), act, q4_0_block, false, -8.0f);
}

SMOA_TARGET static float dot_q4_1_avx2(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q4_1), act, q4_1_block, true, 1.0f);
}

SMOA_TARGET static float dot_q5_0_avx2(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q5_0), act, q5_0_block, false, -16.0f);
}

SMOA_TARGET static float dot_q5_1_avx2(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q5_1), act, q5_1_block, true, 1.0f);
}

SMOA_TARGET static float dot_q8_0_avx2(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q8_0), act, q8_0_block, false, 0.0f);
}

SMOA_TARGET static void dot4_q4_0_avx2(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q4_0), act, stride, unpack_q4_0, mul_unsigned, false, -8.0f,
                out);
}

SMOA_TARGET static void dot4_q4_1_avx2(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q4_1), act, stride, unpack_q4_1, mul_unsigned, true, 1.0f,
                out);
}

SMOA_TARGET static void dot4_q5_0_avx2(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q5_0), act, stride, unpack_q5_0, mul_unsigned, false, -16.0f,
                out);
}

SMOA_TARGET static void dot4_q5_1_avx2(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q5_1), act, stride, unpack_q5_1, mul_unsigned, true, 1.0f,
                out);
}

SMOA_TARGET static void dot4_q8_0_avx2(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q8_0), act, stride, unpack_q8_0, mul_signed, false, 0.0f, out);
}

/* ------------------------------------------------------------------------ */
/* K-quants                                                                 */

/* Bit `plane` of every byte of bits, moved to bit 4. A 16-bit shift moves
 * bits across the byte boundary, but never into bit 4 of a byte. */
X86_FN __m256i plane_to_bit4(__m256i bits, int plane) {
    __m256i moved = plane <= 4 ? _mm256_slli_epi16(bits, 4 - plane)
                               : _mm256_srli_epi16(bits, plane - 4);
    return _mm256_and_si256(moved, _mm256_set1_epi8(0x10));
}

/* Int16 word lo of v's low lane across that lane, word hi of its high
 * lane across the high lane. */
X86_FN __m256i broadcast_words(__m256i v, int lo, int hi) {
    __m128i pick_lo = _mm_set1_epi16((short)((2 * lo + 1) << 8 | 2 * lo));
    __m128i pick_hi = _mm_set1_epi16((short)((2 * hi + 1) << 8 | 2 * hi));
    return _mm256_shuffle_epi8(v, _mm256_set_m128i(pick_hi, pick_lo));
}

/* m[s] * (bsums[2s] + bsums[2s + 1]) over the 8 sub-blocks, in 8 int32
 * lanes: vpmaddwd of the block sums with each min repeated twice (mins
 * are bytes 8-15 of sc_m). */
X86_FN __m256i k_min_sums(__m128i sc_m, const int16_t bsums[16]) {
    const __m128i repeat_pairs =
        _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sc_m, repeat_pairs));
    return _mm256_madd_epi16(load_256(bsums), mins);
}

/* One Q4_K / Q5_K super-block (qh NULL for Q4_K, known when inlined):
 * adds d dx sum_s sc[s] sum(q x) to *acc and dmin dx sum_s m[s] sum(x) to
 * *min_acc. Chunk c of qs holds sub-block 2c in its low nibbles, 2c + 1 in
 * its high ones. */
X86_FORCE_INLINE void k_super_block_avx2(const uint8_t *d_dmin, const uint8_t scales[12],
                                         const uint8_t *qh, const uint8_t qs[QK_K / 2],
                                         const smoa_act_q8k *a, __m256 *acc, __m256 *min_acc) {
    uint32_t words[4];
    unpack_k_scale_words(scales, words);
    __m128i sc_m = _mm_setr_epi32((int)words[0], (int)words[1], (int)words[2], (int)words[3]);
    __m256i sc16 = _mm256_cvtepu8_epi16(sc_m); /* int16 sc[0..7] | m[0..7] */
    __m256i sc = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    __m128 d = _mm_mul_ps(load_half_pair(d_dmin), _mm_set1_ps(a->d)); /* [d dx, dmin dx] */
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256i high = qh ? load_256(qh) : _mm256_setzero_si256();
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4 /* constant shifts and scale positions */
    for (int c = 0; c < 4; c++) {
        __m256i v = load_256(qs + 32 * c);
        __m256i lo = _mm256_and_si256(v, low4);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        if (qh) {
            lo = _mm256_or_si256(lo, plane_to_bit4(high, 2 * c));
            hi = _mm256_or_si256(hi, plane_to_bit4(high, 2 * c + 1));
        }
        __m256i p_lo = _mm256_maddubs_epi16(lo, load_256(a->qs + 64 * c));
        __m256i p_hi = _mm256_maddubs_epi16(hi, load_256(a->qs + 64 * c + 32));
        __m256i sc_lo = broadcast_words(sc, 2 * c, 2 * c);
        __m256i sc_hi = broadcast_words(sc, 2 * c + 1, 2 * c + 1);
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p_lo, sc_lo));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p_hi, sc_hi));
    }
    *acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_broadcastss_ps(d), *acc);
    __m256 dmin = _mm256_broadcastss_ps(_mm_movehdup_ps(d));
    *min_acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(k_min_sums(sc_m, a->bsums)), dmin, *min_acc);
}

SMOA_TARGET static float dot_q4_k_avx2(int64_t n, const void *w, const void *act) {
    const block_q4_k *b = w;
    const smoa_act_q8k *a = act;
    __m256 acc = _mm256_setzero_ps(), min_acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++)
        k_super_block_avx2(b[i].d, b[i].scales, NULL, b[i].qs, &a[i], &acc, &min_acc);
    return hsum_ps(_mm256_sub_ps(acc, min_acc));
}

SMOA_TARGET static float dot_q5_k_avx2(int64_t n, const void *w, const void *act) {
    const block_q5_k *b = w;
    const smoa_act_q8k *a = act;
    __m256 acc = _mm256_setzero_ps(), min_acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++)
        k_super_block_avx2(b[i].d, b[i].scales, b[i].qh, b[i].qs, &a[i], &acc, &min_acc);
    return hsum_ps(_mm256_sub_ps(acc, min_acc));
}

/* Quarter k (weights 32k..32k+31) of a Q6_K half: low 4 bits from the low
 * (k < 2) or high nibbles of ql chunk k % 2, bits 5-4 from bits 2k+1..2k
 * of qh, moved to bits 5-4 (shifts as in plane_to_bit4). */
X86_FN __m256i q6_k_quarter(__m256i ql_chunk, __m256i qh, int k) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256i low = k < 2 ? _mm256_and_si256(ql_chunk, low4)
                        : _mm256_and_si256(_mm256_srli_epi16(ql_chunk, 4), low4);
    __m256i moved = k < 3 ? _mm256_slli_epi16(qh, 4 - 2 * k) : _mm256_srli_epi16(qh, 2);
    return _mm256_or_si256(low, _mm256_and_si256(moved, _mm256_set1_epi8(0x30)));
}

/* sum_s sc[s] * sum(q x) over one Q6_K half (8 sub-blocks of 16); scales
 * holds the half's eight int16 scales in both lanes. Quarter k covers
 * sub-blocks 2k (low lane) and 2k + 1 (high lane). */
X86_FN __m256i q6_k_half_avx2(const uint8_t ql[64], const uint8_t qh[32], __m256i scales,
                              const int8_t x[128]) {
    __m256i chunks[2] = {load_256(ql), load_256(ql + 32)}, high = load_256(qh);
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256i q = q6_k_quarter(chunks[k % 2], high, k);
        __m256i p = _mm256_maddubs_epi16(q, load_256(x + 32 * k));
        __m256i sc = broadcast_words(scales, 2 * k, 2 * k + 1);
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, sc));
    }
    return sum;
}

/* w = d sc[s] (q - 32): the -32 meets the block sums of the activations. */
SMOA_TARGET static float dot_q6_k_avx2(int64_t n, const void *w, const void *act) {
    const block_q6_k *b = w;
    const smoa_act_q8k *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b[i].scales));
        __m256i sum = _mm256_add_epi32(
            q6_k_half_avx2(b[i].ql, b[i].qh, _mm256_permute2x128_si256(sc, sc, 0x00), a[i].qs),
            q6_k_half_avx2(b[i].ql + 64, b[i].qh + 32, _mm256_permute2x128_si256(sc, sc, 0x11),
                           a[i].qs + 128));
        __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(load_256(a[i].bsums), sc), 5);
        __m128 d = _mm_mul_ps(load_half(b[i].d), _mm_set1_ps(a[i].d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(sum, offset)),
                              _mm256_broadcastss_ps(d), acc);
    }
    return hsum_ps(acc);
}

/* ------------------------------------------------------------------------ */
/* Float weights: four accumulators of 8 lanes, then the tail one by one    */

X86_FN __m256 load_f32_8(const uint8_t *p) {
    return _mm256_loadu_ps((const float *)(const void *)p);
}

X86_FN __m256 load_f16_8(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

X86_FN __m256 load_bf16_8(const uint8_t *p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

typedef __m256 load8_fn(const uint8_t *p);
typedef float load1_fn(const uint8_t *p);

X86_FN float load_f32_1(const uint8_t *p) { return float_from_bits(read_u32_le(p)); }
X86_FN float load_f16_1(const uint8_t *p) { return _mm_cvtss_f32(load_half(p)); }
X86_FN float load_bf16_1(const uint8_t *p) { return smoa_bf16_to_fp32(read_u16_le(p)); }

X86_FORCE_INLINE float dot_floats(int64_t n, const void *w, size_t weight_bytes, const float *x,
                                  load8_fn *load8, load1_fn *load1) {
    const uint8_t *bytes = w;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
#pragma GCC unroll 4 /* keeps the accumulators in registers */
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(load8(bytes + (i + 8 * k) * weight_bytes),
                                     _mm256_loadu_ps(x + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(load8(bytes + i * weight_bytes), _mm256_loadu_ps(x + i), acc[0]);
    __m256 all = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    float sum = hsum_ps(all);
    for (; i < n; i++) sum += load1(bytes + i * weight_bytes) * x[i];
    return sum;
}

SMOA_TARGET static float dot_f32_avx2(int64_t n, const void *w, const void *act) {
    return dot_floats(n, w, 4, act, load_f32_8, load_f32_1);
}

SMOA_TARGET static float dot_f16_avx2(int64_t n, const void *w, const void *act) {
    return dot_floats(n, w, 2, act, load_f16_8, load_f16_1);
}

SMOA_TARGET static float dot_bf16_avx2(int64_t n, const void *w, const void *act) {
    return dot_floats(n, w, 2, act, load_bf16_8, load_bf16_1);
}

/* ------------------------------------------------------------------------ */

static smoa_vec_dot_fn avx2_dot(uint32_t weight_type) {
    switch (weight_type) {
    case SMOA_TYPE_F32: return dot_f32_avx2;
    case SMOA_TYPE_F16: return dot_f16_avx2;
    case SMOA_TYPE_BF16: return dot_bf16_avx2;
    case SMOA_TYPE_Q4_0: return dot_q4_0_avx2;
    case SMOA_TYPE_Q4_1: return dot_q4_1_avx2;
    case SMOA_TYPE_Q5_0: return dot_q5_0_avx2;
    case SMOA_TYPE_Q5_1: return dot_q5_1_avx2;
    case SMOA_TYPE_Q8_0: return dot_q8_0_avx2;
    case SMOA_TYPE_Q4_K: return dot_q4_k_avx2;
    case SMOA_TYPE_Q5_K: return dot_q5_k_avx2;
    case SMOA_TYPE_Q6_K: return dot_q6_k_avx2;
    default: return NULL;
    }
}

static smoa_vec_dot4_fn avx2_dot4(uint32_t weight_type) {
    switch (weight_type) {
    case SMOA_TYPE_Q4_0: return dot4_q4_0_avx2;
    case SMOA_TYPE_Q4_1: return dot4_q4_1_avx2;
    case SMOA_TYPE_Q5_0: return dot4_q5_0_avx2;
    case SMOA_TYPE_Q5_1: return dot4_q5_1_avx2;
    case SMOA_TYPE_Q8_0: return dot4_q8_0_avx2;
    default: return NULL;
    }
}

const smoa_isa_kernels smoa_kernels_avx2 = {avx2_dot, avx2_dot4, act_q8_avx2, act_q8k_avx2};

#else

const smoa_isa_kernels smoa_kernels_avx2 = {NULL, NULL, NULL, NULL};

#endif
