/* gemm.h - y = W x for many tokens (prefill, big batches) through cuBLAS
 * (mirrors smoa_op_matmul).
 *
 * Memory trade-off: the weights stay quantized on the device, and each
 * call dequantizes W into an f16 scratch, a chunk of rows at a time, then
 * multiplies with f16 activations on the tensor cores (f32 accumulation).
 * Keeping an f16 copy of every matrix would skip that pass but cost 2 bytes
 * per weight (3.5x a Q4_1 model) on top of the quantized copy the mat-vec
 * reads; the scratch costs one layer matrix, and its dequantization reads
 * the (small) quantized matrix and writes it once, cheap next to a GEMM of
 * dozens of tokens. */
#ifndef SMOA_KERNELS_GEMM_H
#define SMOA_KERNELS_GEMM_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "cuda_matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

typedef struct smoa_cuda_gemm {
    cublasHandle_t handle;   /* bound to the caller's stream               */
    void *workspace;         /* cuBLAS workspace (no allocation in graphs) */
    uint16_t *w16;           /* [w16_values] f16 rows of W                 */
    size_t w16_values;
    uint16_t *x16;           /* [x16_values] f16 activations               */
    size_t x16_values;
} smoa_cuda_gemm;

/* Scratch for weight chunks of up to w16_values values (at least one row
 * of the widest matrix) and activations of up to x16_values values.
 * On failure, everything made so far is freed. */
smoa_status smoa_cuda_gemm_init(smoa_cuda_gemm *g, size_t w16_values, size_t x16_values, cudaStream_t stream,
                                smoa_error *err);
void smoa_cuda_gemm_free(smoa_cuda_gemm *g);

/* y[t][r] (+)= W.row(r) . x[t] for t < T, on g's stream. Device pointers:
 * x [T][n_in]; y [T][n_out]. */
smoa_status smoa_cuda_gemm_run(smoa_cuda_gemm *g, const smoa_cuda_matrix *W, const float *x, int T, float *y,
                               bool accumulate, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
