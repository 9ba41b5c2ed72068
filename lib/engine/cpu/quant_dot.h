/* quant_dot.h - dot products of quantized weight rows with activation rows,
 * the inner loop of every CPU matrix multiplication.
 *
 * Weights stay in their GGUF block format. Activations (f32) are quantized
 * once per row into a matching integer format, so a dot product is integer
 * multiply-adds per block plus one float scale per block (llama.cpp's
 * scheme, with our own block layouts):
 *
 *   weight type                     activation format
 *   Q4_0 Q4_1 Q5_0 Q5_1 Q8_0   ->   smoa_act_q8  (32 values: d, s, qs)
 *   Q4_K Q5_K Q6_K             ->   smoa_act_q8k (256 values + 16 block sums)
 *   F32 F16 BF16               ->   f32 (no quantization)
 *
 * Each dot has a portable scalar version and, where the CPU has them, AVX2
 * (and wider) versions picked once at run time; every version is tested
 * against the plain f32 reference. */
#ifndef SMOA_ENGINE_CPU_QUANT_DOT_H
#define SMOA_ENGINE_CPU_QUANT_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct smoa_act_q8 {
    float d;        /* scale: x[i] ~= d * qs[i]                */
    float s;        /* d * sum(qs): for weight types with a min */
    int8_t qs[32];
} smoa_act_q8;

typedef struct smoa_act_q8k {
    float d;          /* scale of all 256 values                 */
    int8_t qs[256];
    int16_t bsums[16]; /* sum of qs over each group of 16         */
} smoa_act_q8k;

/* Bytes of an activation row of n values for weights of `weight_type`
 * (n a multiple of the weight's block size); 0 for unsupported types. */
size_t smoa_act_row_bytes(uint32_t weight_type, int64_t n);

/* Quantizes x[0..n) into the activation format that weight_type needs
 * (for float weight types: a plain f32 copy). */
void smoa_act_quantize_row(uint32_t weight_type, const float *x, void *act, int64_t n);

/* sum_i w[i] * x[i] over n values: w a weight row in weight_type's format,
 * act the row quantized by smoa_act_quantize_row for that type. */
typedef float (*smoa_vec_dot_fn)(int64_t n, const void *w, const void *act);

/* The fastest dot for the type on this CPU; NULL for unsupported types. */
smoa_vec_dot_fn smoa_vec_dot_get(uint32_t weight_type);
/* The portable scalar version (the reference the fast ones are tested
 * against); NULL for unsupported types. */
smoa_vec_dot_fn smoa_vec_dot_get_scalar(uint32_t weight_type);

/* One weight row against four activation rows: out[r] = the dot of w with
 * the row at act + r * act_stride (bytes), bitwise what smoa_vec_dot_get's
 * dot returns for it. Each weight block is unpacked once for all four,
 * which is what makes a batch (prefill) faster than one dot per token. */
typedef void (*smoa_vec_dot4_fn)(int64_t n, const void *w, const void *act, size_t act_stride,
                                 float out[4]);

/* The dot4 matching smoa_vec_dot_get(weight_type) on this CPU; NULL where
 * there is none (the scalar and the float and K-quant types): callers then
 * take four single dots. */
smoa_vec_dot4_fn smoa_vec_dot4_get(uint32_t weight_type);

/* "avx512-vnni", "avx2", or "scalar": what smoa_vec_dot_get() uses here. */
const char *smoa_vec_dot_isa(void);

#endif
