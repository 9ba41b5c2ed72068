/* ops.h - the CPU backend's kernels: the plain reference for every
 * operation of the forward pass (and the CUDA kernels' ground truth).
 *
 * Each kernel does thread ith's share of the work out of nth threads (all
 * threads call it with the same arguments); the caller puts a barrier
 * between kernels that depend on each other. Activations are row-major
 * [T][n] f32 arrays for T tokens. */
#ifndef SMOA_ENGINE_CPU_OPS_H
#define SMOA_ENGINE_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "model/llama.h"

/* [r0, r1): thread ith's part of n items. */
static inline void smoa_split(int64_t n, int ith, int nth, int64_t *r0, int64_t *r1) {
    int64_t per = (n + nth - 1) / nth;
    *r0 = per * ith < n ? per * ith : n;
    *r1 = *r0 + per < n ? *r0 + per : n;
}

/* x[t] = row tokens[t] of the embedding matrix (dequantized). x: [T][n_embd] */
void smoa_op_embed(const smoa_matrix *embd, const int32_t *tokens, int T, float *x, int ith, int nth);

/* out[t] = x[t] / rms(x[t]) * w. x, out: [T][n]; w: [n] */
void smoa_op_rmsnorm(const float *x, const float *w, float *out, int T, int n, float eps, int ith,
                     int nth);

/* act row t = x[t] quantized for weights of weight_type. x: [T][n] */
void smoa_op_quantize(uint32_t weight_type, const float *x, int T, int64_t n, void *act,
                      size_t act_row_bytes, int ith, int nth);

/* y[t][r] (+)= W.row(r) . act[t] for every output row r. y: [T][W->n_out];
 * act: T rows of act_row_bytes made by smoa_op_quantize for W->type. */
void smoa_op_matmul(const smoa_matrix *W, const void *act, size_t act_row_bytes, int T, float *y,
                    int accumulate, int ith, int nth);

/* Rotates pairs (2i, 2i+1) of the first n_rot dims of each head by
 * pos * base^(-2i / n_rot) (GGUF llama layout). x: [T][n_heads * head_dim] */
void smoa_op_rope(float *x, const int32_t *pos, int T, int n_heads, int head_dim, int n_rot,
                  float base, int ith, int nth);

/* gate = silu(gate) * up, elementwise. gate, up: [n] */
void smoa_op_swiglu(float *gate, const float *up, int64_t n, int ith, int nth);

#endif
