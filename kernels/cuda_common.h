/* cuda_common.h - shared by every .cu file: CUDA and cuBLAS failures become
 * a status and a message (never an abort), and the library's C headers are
 * reachable from C++ translation units. */
#ifndef SMOA_KERNELS_CUDA_COMMON_H
#define SMOA_KERNELS_CUDA_COMMON_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

extern "C" {
#include "core/error.h"
}

/* SMOA_OK, or SMOA_ERR_BACKEND naming the failed call (`what`) and CUDA's
 * own description; clears CUDA's sticky last-error state. */
static inline smoa_status smoa_cuda_check(cudaError_t e, const char *what, smoa_error *err) {
    if (e == cudaSuccess) return SMOA_OK;
    cudaGetLastError();
    return smoa_error_set(err, SMOA_ERR_BACKEND, "%s: %s (%s)", what, cudaGetErrorString(e),
                          cudaGetErrorName(e));
}

static inline smoa_status smoa_cublas_check(cublasStatus_t s, const char *what, smoa_error *err) {
    if (s == CUBLAS_STATUS_SUCCESS) return SMOA_OK;
    return smoa_error_set(err, SMOA_ERR_BACKEND, "%s: cuBLAS status %d", what, (int)s);
}

/* Returns from the calling function when a step (returning smoa_status)
 * fails. */
#define SMOA_TRY(expr)                                              \
    do {                                                            \
        smoa_status smoa_try_status_ = (expr);                      \
        if (smoa_try_status_ != SMOA_OK) return smoa_try_status_;   \
    } while (0)

/* Returns from the calling function when a CUDA call fails. */
#define SMOA_CUDA_TRY(call, err)                                                \
    do {                                                                        \
        smoa_status smoa_cuda_try_status_ = smoa_cuda_check((call), #call, (err)); \
        if (smoa_cuda_try_status_ != SMOA_OK) return smoa_cuda_try_status_;     \
    } while (0)

/* After a kernel launch: a bad launch configuration (or an earlier
 * asynchronous failure) becomes a status naming the kernel. */
static inline smoa_status smoa_cuda_launch_check(const char *kernel, smoa_error *err) {
    return smoa_cuda_check(cudaGetLastError(), kernel, err);
}

#define SMOA_CUBLAS_TRY(call, err)                                              \
    do {                                                                        \
        smoa_status smoa_cublas_try_status_ = smoa_cublas_check((call), #call, (err)); \
        if (smoa_cublas_try_status_ != SMOA_OK) return smoa_cublas_try_status_; \
    } while (0)

#endif
