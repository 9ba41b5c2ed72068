/* quant_dot_x86.h - pieces shared by the AVX2 and the AVX-512 kernels.
 *
 * Included by quant_dot_avx2.c and quant_dot_avx512.c only, each after
 * defining SMOA_TARGET (a target attribute): every function here is then
 * compiled for that file's instruction set, so the library itself needs no
 * -m flags and runs on any x86-64 CPU. */
#ifndef SMOA_ENGINE_CPU_QUANT_DOT_X86_H
#define SMOA_ENGINE_CPU_QUANT_DOT_X86_H

#ifndef SMOA_TARGET
#error "define SMOA_TARGET before including quant_dot_x86.h"
#endif

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "engine/cpu/quant_dot_internal.h"
#include "model/tensor_blocks.h"

#define X86_FN SMOA_TARGET static inline
/* Forced where a constant argument must reach the body: a block loop
 * inlined into each row function sees its kernel pointer as a constant, so
 * the kernel is inlined too and nothing is called per block. */
#define X86_FORCE_INLINE SMOA_TARGET __attribute__((always_inline)) static inline

/* ------------------------------------------------------------------------ */
/* Lanes and fields                                                         */

X86_FN float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

X86_FN __m256i load_256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* The fp16 field at p as [value, 0, 0, 0]. */
X86_FN __m128 load_half(const uint8_t p[2]) {
    uint16_t bits;
    memcpy(&bits, p, sizeof bits);
    return _mm_cvtph_ps(_mm_cvtsi32_si128(bits));
}

/* Two adjacent fp16 fields (d and m) at p as [d, m, 0, 0]. */
X86_FN __m128 load_half_pair(const uint8_t *p) {
    int32_t bits;
    memcpy(&bits, p, sizeof bits);
    return _mm_cvtph_ps(_mm_cvtsi32_si128(bits));
}

/* The 32 4-bit values of a Q4_0/Q4_1/Q5_x block as bytes in weight order:
 * the low nibbles (weights 0-15) in the low lane, the high ones above. */
X86_FN __m256i unpack_nibbles(const uint8_t qs[16]) {
    __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    __m256i shifted = _mm256_srlv_epi64(both, _mm256_set_epi64x(4, 4, 0, 0));
    return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

/* ------------------------------------------------------------------------ */
/* Rows of 32-weight blocks                                                 */
/*                                                                          */
/* A block kernel returns eight int32 partial sums of q_w * q_x. The dot of */
/* block i is then                                                          */
/*     scale_i * sum(sums) + min_factor * min_i,   scale_i = d_w a->d       */
/* where min_i = m a->s for the types with a min (Q4_1, Q5_1: min_factor    */
/* 1) and d_w a->s for the symmetric types, whose kernels multiply the      */
/* unsigned q (min_factor -zero: Q4_0 -8, Q5_0 -16; Q8_0, whose kernel      */
/* takes the sign into account itself, 0). The scales of two blocks are     */
/* converted and multiplied together, four lanes at once.                   */

typedef __m256i block_kernel(const uint8_t *block, const smoa_act_q8 *a);

/* [d_i, m_i, d_j, m_j] of blocks i and j (both start with d, then m where
 * has_min; [d_i, d_i, d_j, d_j] without). */
X86_FN __m128 pair_weight_scales(const uint8_t *block_i, const uint8_t *block_j, bool has_min) {
    if (has_min) {
        int32_t dm_i, dm_j;
        memcpy(&dm_i, block_i, sizeof dm_i);
        memcpy(&dm_j, block_j, sizeof dm_j);
        return _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128(dm_i), dm_j, 1));
    }
    uint16_t d_i, d_j;
    memcpy(&d_i, block_i, sizeof d_i);
    memcpy(&d_j, block_j, sizeof d_j);
    __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128((int)(d_i | (uint32_t)d_j << 16)));
    return _mm_unpacklo_ps(d, d);
}

/* [a_i->d, a_i->s, a_j->d, a_j->s]: d and s are adjacent. */
X86_FN __m128 pair_act_scales(const smoa_act_q8 *a_i, const smoa_act_q8 *a_j) {
    __m128 x = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)&a_i->d));
    return _mm_loadh_pi(x, (const __m64 *)(const void *)&a_j->d);
}

/* [scale_i, min_i, scale_j, min_j] of blocks i and j. */
X86_FN __m128 pair_scales(const uint8_t *block_i, const uint8_t *block_j, bool has_min,
                          const smoa_act_q8 *a_i, const smoa_act_q8 *a_j) {
    return _mm_mul_ps(pair_weight_scales(block_i, block_j, has_min), pair_act_scales(a_i, a_j));
}

_Static_assert(offsetof(smoa_act_q8, s) == offsetof(smoa_act_q8, d) + sizeof(float),
               "pair_scales loads d and s as one pair");

/* The sum of lanes 1 and 3 (the mins of pair_scales). */
X86_FN float odd_lane_sum(__m128 v) {
    return _mm_cvtss_f32(_mm_shuffle_ps(v, v, 1)) + _mm_cvtss_f32(_mm_shuffle_ps(v, v, 3));
}

/* Two blocks per step with two accumulators, so the float adds of one
 * block never wait for those of the previous one. An odd last block is
 * paired with itself, its copy's lanes cleared. */
X86_FORCE_INLINE float sum_blocks(int64_t n, const void *w, size_t block_bytes,
                                  const smoa_act_q8 *a, block_kernel *kernel, bool has_min,
                                  float min_factor) {
    const uint8_t *bytes = w;
    int64_t blocks = n / QK, i = 0;
    const __m256i lane2 = _mm256_set1_epi32(2);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 mins = _mm_setzero_ps();
    for (; i + 2 <= blocks; i += 2) {
        const uint8_t *b0 = bytes + i * block_bytes, *b1 = b0 + block_bytes;
        __m256i s0 = kernel(b0, &a[i]), s1 = kernel(b1, &a[i + 1]);
        __m128 scales = pair_scales(b0, b1, has_min, &a[i], &a[i + 1]);
        __m256 scale1 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(scales), lane2);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_broadcastss_ps(scales), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), scale1, acc1);
        mins = _mm_add_ps(mins, scales);
    }
    if (i < blocks) {
        const uint8_t *b = bytes + i * block_bytes;
        __m128 scales = _mm_movelh_ps(pair_scales(b, b, has_min, &a[i], &a[i]), _mm_setzero_ps());
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(kernel(b, &a[i])), _mm256_broadcastss_ps(scales),
                               acc0);
        mins = _mm_add_ps(mins, scales);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1)) + min_factor * odd_lane_sum(mins);
}

/* ------------------------------------------------------------------------ */
/* One weight row against four activation rows                              */
/*                                                                          */
/* sum_blocks for rows act, act + stride, ... at once: each weight block is */
/* unpacked (and its scales converted) once and multiplied with the four    */
/* activation blocks. Every row goes through the very operations, in the    */
/* very order, of sum_blocks with kernel = mul(unpack(block), a), so the    */
/* four results are bitwise those of four single dots.                      */

typedef __m256i block_unpack(const uint8_t *block);
typedef __m256i block_mul(__m256i q, const smoa_act_q8 *a);

#define DOT4_ROWS 4

X86_FORCE_INLINE void sum_blocks4(int64_t n, const void *w, size_t block_bytes, const void *act,
                                  size_t act_stride, block_unpack *unpack, block_mul *mul,
                                  bool has_min, float min_factor, float out[DOT4_ROWS]) {
    const uint8_t *bytes = w;
    const smoa_act_q8 *a[DOT4_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < DOT4_ROWS; r++)
        a[r] = (const smoa_act_q8 *)(const void *)((const uint8_t *)act + (size_t)r * act_stride);
    int64_t blocks = n / QK, i = 0;
    const __m256i lane2 = _mm256_set1_epi32(2);
    __m256 acc0[DOT4_ROWS], acc1[DOT4_ROWS];
    __m128 mins[DOT4_ROWS];
#pragma GCC unroll 4 /* every loop over the rows unrolled: the arrays stay in registers */
    for (int r = 0; r < DOT4_ROWS; r++) {
        acc0[r] = acc1[r] = _mm256_setzero_ps();
        mins[r] = _mm_setzero_ps();
    }
    for (; i + 2 <= blocks; i += 2) {
        const uint8_t *b0 = bytes + i * block_bytes, *b1 = b0 + block_bytes;
        __m256i q0 = unpack(b0), q1 = unpack(b1);
        __m128 w_scales = pair_weight_scales(b0, b1, has_min);
#pragma GCC unroll 4
        for (int r = 0; r < DOT4_ROWS; r++) {
            __m256i s0 = mul(q0, &a[r][i]), s1 = mul(q1, &a[r][i + 1]);
            __m128 scales = _mm_mul_ps(w_scales, pair_act_scales(&a[r][i], &a[r][i + 1]));
            __m256 scale1 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(scales), lane2);
            acc0[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_broadcastss_ps(scales),
                                      acc0[r]);
            acc1[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), scale1, acc1[r]);
            mins[r] = _mm_add_ps(mins[r], scales);
        }
    }
    if (i < blocks) {
        const uint8_t *b = bytes + i * block_bytes;
        __m256i q = unpack(b);
        __m128 w_scales = pair_weight_scales(b, b, has_min);
#pragma GCC unroll 4
        for (int r = 0; r < DOT4_ROWS; r++) {
            __m128 scales = _mm_movelh_ps(
                _mm_mul_ps(w_scales, pair_act_scales(&a[r][i], &a[r][i])), _mm_setzero_ps());
            acc0[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mul(q, &a[r][i])),
                                      _mm256_broadcastss_ps(scales), acc0[r]);
            mins[r] = _mm_add_ps(mins[r], scales);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < DOT4_ROWS; r++)
        out[r] = hsum_ps(_mm256_add_ps(acc0[r], acc1[r])) + min_factor * odd_lane_sum(mins[r]);
}

#endif
