/* matvec_quant.h - y = W x for a few tokens, W in its quantized GGUF type
 * (mirrors smoa_op_matmul): the decode-step matrix product. Each launch
 * pass reads every weight byte once for up to SMOA_CUDA_MATVEC_TOKENS
 * tokens; activations stay f32 (no 8-bit activation quantization as on the
 * CPU, so results differ from the CPU's by that rounding only). */
#ifndef SMOA_KERNELS_MATVEC_QUANT_H
#define SMOA_KERNELS_MATVEC_QUANT_H

#include <cuda_runtime_api.h>
#include <stdbool.h>

#include "cuda_matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

#define SMOA_CUDA_MATVEC_TOKENS 8

/* y[t][r] (+)= W.row(r) . x[t] for t < T. Device pointers: x [T][n_in]
 * (rows 16-byte aligned: n_in is a multiple of 8), y [T][n_out]. More than
 * SMOA_CUDA_MATVEC_TOKENS tokens run as concurrent passes. */
smoa_status smoa_cuda_matvec(const smoa_cuda_matrix *W, const float *x, int T, float *y, bool accumulate,
                             cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
