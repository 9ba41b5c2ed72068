/* quantize.h - f32 -> GGUF block formats, for writing synthetic models and
 * for tests. Simple round-to-nearest with max-abs (and min) scales: not the
 * error-minimising search of llama-quantize, which real models come with. */
#ifndef SMOA_MODEL_QUANTIZE_H
#define SMOA_MODEL_QUANTIZE_H

#include <stdbool.h>
#include <stdint.h>

/* Quantizes n values (a multiple of the type's block size) of x into dst
 * (smoa_type_row_bytes(type, n) bytes). False for unsupported types or a
 * partial block. Every type of tensor_types.h is supported. */
bool smoa_quantize(uint32_t type, const float *x, void *dst, uint64_t n);

#endif
