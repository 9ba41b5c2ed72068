/* cuda_matrix.h - a weight matrix in device memory, in its GGUF block type
 * (the same view as smoa_matrix, with a device pointer), shared by the
 * embedding lookup, the mat-vec and the GEMM. C-callable. */
#ifndef SMOA_KERNELS_CUDA_MATRIX_H
#define SMOA_KERNELS_CUDA_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smoa_cuda_matrix {
    const uint8_t *data; /* device: n_out rows of row_bytes, GGUF blocks    */
    uint32_t type;       /* ggml type id                                    */
    int n_in;            /* values per row                                  */
    int n_out;           /* rows                                            */
    size_t row_bytes;
} smoa_cuda_matrix;

/* True when the CUDA kernels can read rows of n_in values of this type:
 * F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, with
 * n_in a multiple of 8 (threads take 8 consecutive values at a time). */
bool smoa_cuda_type_supported(uint32_t type, int64_t n_in);

#ifdef __cplusplus
}
#endif

#endif
