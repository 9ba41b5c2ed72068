/* vec_f16.c - f16 helpers: F16C + FMA when the CPU has them, else scalar. */
#include "engine/cpu/vec_f16.h"

#include "engine/cpu/quant_dot_internal.h"
#include "model/tensor_types.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SMOA_X86 1

__attribute__((target("avx2,fma,f16c"))) static void axpy_f16_avx2(int n, float a, const uint16_t *x,
                                                                    float *y) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
    }
    for (; i < n; i++) y[i] += a * smoa_fp16_to_fp32(x[i]);
}

__attribute__((target("avx2,f16c"))) static void store_f16_avx2(int n, const float *src, uint16_t *dst) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = smoa_fp32_to_fp16(src[i]);
}

/* The dot products' AVX2 level includes F16C and FMA (detected once). */
static bool has_f16c(void) { return smoa_isa_supported(SMOA_ISA_AVX2); }
#endif

void smoa_axpy_f16(int n, float a, const uint16_t *x, float *y) {
#ifdef SMOA_X86
    if (has_f16c()) {
        axpy_f16_avx2(n, a, x, y);
        return;
    }
#endif
    for (int i = 0; i < n; i++) y[i] += a * smoa_fp16_to_fp32(x[i]);
}

void smoa_store_f16(int n, const float *src, uint16_t *dst) {
#ifdef SMOA_X86
    if (has_f16c()) {
        store_f16_avx2(n, src, dst);
        return;
    }
#endif
    for (int i = 0; i < n; i++) dst[i] = smoa_fp32_to_fp16(src[i]);
}
