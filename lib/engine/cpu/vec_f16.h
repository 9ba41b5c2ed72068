/* vec_f16.h - f16 vector helpers for the KV cache (stored as IEEE half). */
#ifndef SMOA_ENGINE_CPU_VEC_F16_H
#define SMOA_ENGINE_CPU_VEC_F16_H

#include <stdint.h>

/* y[i] += a * x[i] for n values; x in f16. */
void smoa_axpy_f16(int n, float a, const uint16_t *x, float *y);
/* dst[i] = f16(src[i]). */
void smoa_store_f16(int n, const float *src, uint16_t *dst);

#endif
