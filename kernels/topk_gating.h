/* topk_gating.h - top-k sparse gating on the device: softmax over each row
 * of scores fused with the choice of its k largest entries. The CUDA twin of
 * smoa_topk_gating (engine/topk.h), which defines the results: idx best
 * first, ties to the lower index, NaN ranked below everything; weights the
 * softmax probabilities over the whole row (NaN entries weigh 0, and a row
 * whose largest value is +inf or -inf has all weights 0). idx matches the
 * CPU exactly; weights agree to float rounding (the CPU sums in double).
 *
 * One warp owns a row and holds it in registers, so rows are limited to
 * SMOA_CUDA_TOPK_MAX_N values; wider rows are refused with a status (the CPU
 * reference has no limit). */
#ifndef SMOA_KERNELS_TOPK_GATING_H
#define SMOA_KERNELS_TOPK_GATING_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* 32 values per lane: past that, a row's registers would spill. */
#define SMOA_CUDA_TOPK_MAX_N 1024

/* SMOA_OK when the kernel can gate rows x n keeping k: rows > 0,
 * 0 < k <= n <= SMOA_CUDA_TOPK_MAX_N; else INVALID_ARGUMENT (or UNSUPPORTED
 * for n over the limit) with a message naming the value. */
smoa_status smoa_cuda_topk_gating_check(int rows, int n, int k, smoa_error *err);

/* Queues the gating of logits [rows][n] into idx [rows][k] and
 * weights [rows][k] on stream. Device pointers. Checks the shape first
 * (smoa_cuda_topk_gating_check) and the launch after. */
smoa_status smoa_cuda_topk_gating(const float *logits, int rows, int n, int k, int32_t *idx, float *weights,
                                  cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
