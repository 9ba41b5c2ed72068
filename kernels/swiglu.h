/* swiglu.h - the SwiGLU gate on the device (mirrors smoa_op_swiglu). */
#ifndef SMOA_KERNELS_SWIGLU_H
#define SMOA_KERNELS_SWIGLU_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* gate = silu(gate) * up, elementwise. Device pointers, [n] each. */
smoa_status smoa_cuda_swiglu(float *gate, const float *up, int64_t n, cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
