/* rmsnorm.h - RMSNorm fused with the weight multiply on the device
 * (mirrors smoa_op_rmsnorm). */
#ifndef SMOA_KERNELS_RMSNORM_H
#define SMOA_KERNELS_RMSNORM_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* out[r] = x[row] / rms(x[row]) * w, row = rows[r] (or r when rows is NULL):
 * the output norm gathers only the rows that need logits. Device pointers:
 * x [..][n]; rows [T]; w [n]; out [T][n]. */
smoa_status smoa_cuda_rmsnorm(const float *x, const int32_t *rows, const float *w, float *out, int T, int n,
                              float eps, cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
