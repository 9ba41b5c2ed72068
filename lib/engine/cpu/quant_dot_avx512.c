/* quant_dot_avx512.c - AVX-512 VNNI kernels for the 32-weight block types,
 * the hot path of the default model (Q4_1 weights, a Q8_0 output matrix).
 *
 * vpdpbusd multiplies unsigned weight bytes by signed activation bytes and
 * sums each group of four into an int32 lane in one instruction, where
 * AVX2 needs vpmaddubsw + vpmaddwd. One block per 256-bit register (AVX-512
 * VL) for the 4- and 5-bit types, whose unpacking would cost more shuffles
 * in 512-bit registers than it saves; two blocks per 512-bit register for
 * Q8_0. The K-quants and float types fall back to the AVX2 kernels, as does
 * activation quantization (a few percent of a mat-vec's time). */
#include "engine/cpu/quant_dot_internal.h"

#if SMOA_X86_KERNELS

#define SMOA_TARGET \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#include "engine/cpu/quant_dot_x86.h"

/* Eight int32 sums of four q * x products each. */
X86_FN __m256i dot_u8_s8(__m256i q, __m256i x) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, x);
}

/* Q5_0/Q5_1: the 32-bit qh mask is a byte mask as it stands; bit 4 of
 * every nibble is clear, so adding 16 under the mask sets it. */
X86_FN __m256i unpack_q5_vnni(const uint8_t qs[16], const uint8_t qh[4]) {
    uint32_t mask;
    memcpy(&mask, qh, sizeof mask);
    __m256i q = unpack_nibbles(qs);
    return _mm256_mask_add_epi8(q, _cvtu32_mask32(mask), q, _mm256_set1_epi8(0x10));
}

X86_FN __m256i unpack_q4_0(const uint8_t *block) {
    return unpack_nibbles(((const block_q4_0 *)(const void *)block)->qs);
}

X86_FN __m256i unpack_q4_1(const uint8_t *block) {
    return unpack_nibbles(((const block_q4_1 *)(const void *)block)->qs);
}

X86_FN __m256i unpack_q5_0(const uint8_t *block) {
    const block_q5_0 *b = (const void *)block;
    return unpack_q5_vnni(b->qs, b->qh);
}

X86_FN __m256i unpack_q5_1(const uint8_t *block) {
    const block_q5_1 *b = (const void *)block;
    return unpack_q5_vnni(b->qs, b->qh);
}

X86_FN __m256i mul_unsigned(__m256i q, const smoa_act_q8 *a) {
    return dot_u8_s8(q, load_256(a->qs));
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

SMOA_TARGET static float dot_q4_0_vnni(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q4_0), act, q4_0_block, false, -8.0f);
}

SMOA_TARGET static float dot_q4_1_vnni(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q4_1), act, q4_1_block, true, 1.0f);
}

SMOA_TARGET static float dot_q5_0_vnni(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q5_0), act, q5_0_block, false, -16.0f);
}

SMOA_TARGET static float dot_q5_1_vnni(int64_t n, const void *w, const void *act) {
    return sum_blocks(n, w, sizeof(block_q5_1), act, q5_1_block, true, 1.0f);
}

/* Q8_0 moves twice the bytes of Q4_x per block, and pays for full 512-bit
 * registers: blocks i and j share one, [w_i | w_j] times [x_i | x_j].
 * With no 512-bit vpsignb, x is negated under the mask of w's sign bits
 * and multiplied by |w|. */
X86_FN __m512i load_pair_256(const void *low, const void *high) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(load_256(low)), load_256(high), 1);
}

/* acc plus the dots of blocks i and j; j == i adds block i once. */
X86_FN __m512 q8_0_pair(const block_q8_0 *b_i, const block_q8_0 *b_j, const smoa_act_q8 *a_i,
                        const smoa_act_q8 *a_j, __m512 acc) {
    const __m512i halves = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
    __m512i w = load_pair_256(b_i->qs, b_j->qs), x = load_pair_256(a_i->qs, a_j->qs);
    x = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
    __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), x);
    __m128 scales = pair_scales(b_i->d, b_j->d, false, a_i, a_j);
    if (b_j == b_i) scales = _mm_movelh_ps(scales, _mm_setzero_ps());
    __m512 scale = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(scales));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc);
}

SMOA_TARGET static float dot_q8_0_vnni(int64_t n, const void *w, const void *act) {
    const block_q8_0 *b = w;
    const smoa_act_q8 *a = act;
    int64_t blocks = n / QK, i = 0;
    __m512 acc = _mm512_setzero_ps();
    for (; i + 2 <= blocks; i += 2) acc = q8_0_pair(&b[i], &b[i + 1], &a[i], &a[i + 1], acc);
    if (i < blocks) acc = q8_0_pair(&b[i], &b[i], &a[i], &a[i], acc);
    return _mm512_reduce_add_ps(acc);
}

/* Four activation rows: the dots of q8_0_pair for each, the weights loaded
 * and their signs taken once. */
X86_FN void q8_0_pair4(const block_q8_0 *b_i, const block_q8_0 *b_j, const smoa_act_q8 *a[4],
                       int64_t i, int64_t j, __m512 acc[4]) {
    const __m512i halves = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
    __m512i w = load_pair_256(b_i->qs, b_j->qs), w_abs = _mm512_abs_epi8(w);
    __mmask64 negative = _mm512_movepi8_mask(w);
    __m128 w_scales = pair_weight_scales(b_i->d, b_j->d, false);
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        __m512i x = load_pair_256(a[r][i].qs, a[r][j].qs);
        x = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
        __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w_abs, x);
        __m128 scales = _mm_mul_ps(w_scales, pair_act_scales(&a[r][i], &a[r][j]));
        if (b_j == b_i) scales = _mm_movelh_ps(scales, _mm_setzero_ps());
        __m512 scale = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(scales));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc[r]);
    }
}

SMOA_TARGET static void dot4_q8_0_vnni(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    const block_q8_0 *b = w;
    const smoa_act_q8 *a[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
        a[r] = (const smoa_act_q8 *)(const void *)((const uint8_t *)act + (size_t)r * stride);
    int64_t blocks = n / QK, i = 0;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    for (; i + 2 <= blocks; i += 2) q8_0_pair4(&b[i], &b[i + 1], a, i, i + 1, acc);
    if (i < blocks) q8_0_pair4(&b[i], &b[i], a, i, i, acc);
#pragma GCC unroll 4 /* keeps acc in registers */
    for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

SMOA_TARGET static void dot4_q4_0_vnni(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q4_0), act, stride, unpack_q4_0, mul_unsigned, false, -8.0f,
                out);
}

SMOA_TARGET static void dot4_q4_1_vnni(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q4_1), act, stride, unpack_q4_1, mul_unsigned, true, 1.0f,
                out);
}

SMOA_TARGET static void dot4_q5_0_vnni(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q5_0), act, stride, unpack_q5_0, mul_unsigned, false, -16.0f,
                out);
}

SMOA_TARGET static void dot4_q5_1_vnni(int64_t n, const void *w, const void *act, size_t stride,
                                       float out[4]) {
    sum_blocks4(n, w, sizeof(block_q5_1), act, stride, unpack_q5_1, mul_unsigned, true, 1.0f,
                out);
}

static smoa_vec_dot4_fn avx512_dot4(uint32_t weight_type) {
    switch (weight_type) {
    case SMOA_TYPE_Q4_0: return dot4_q4_0_vnni;
    case SMOA_TYPE_Q4_1: return dot4_q4_1_vnni;
    case SMOA_TYPE_Q5_0: return dot4_q5_0_vnni;
    case SMOA_TYPE_Q5_1: return dot4_q5_1_vnni;
    case SMOA_TYPE_Q8_0: return dot4_q8_0_vnni;
    default: return NULL;
    }
}

static smoa_vec_dot_fn avx512_dot(uint32_t weight_type) {
    switch (weight_type) {
    case SMOA_TYPE_Q4_0: return dot_q4_0_vnni;
    case SMOA_TYPE_Q4_1: return dot_q4_1_vnni;
    case SMOA_TYPE_Q5_0: return dot_q5_0_vnni;
    case SMOA_TYPE_Q5_1: return dot_q5_1_vnni;
    case SMOA_TYPE_Q8_0: return dot_q8_0_vnni;
    default: return NULL;
    }
}

const smoa_isa_kernels smoa_kernels_avx512 = {avx512_dot, avx512_dot4, NULL, NULL};

#else

const smoa_isa_kernels smoa_kernels_avx512 = {NULL, NULL, NULL, NULL};

#endif
