/* cuda_buffers.h - device memory from C: allocate, copy in and out, and
 * poison (fill with NaN bytes, so a test sees any output a kernel forgot to
 * write). Synchronous; every failure is a status and a message. */
#ifndef SMOA_KERNELS_CUDA_BUFFERS_H
#define SMOA_KERNELS_CUDA_BUFFERS_H

#include <stddef.h>


#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

smoa_status smoa_cuda_alloc(void **out, size_t bytes, smoa_error *err);
void smoa_cuda_free(void *p);
smoa_status smoa_cuda_upload(void *dst, const void *src, size_t bytes, smoa_error *err);
smoa_status smoa_cuda_download(void *dst, const void *src, size_t bytes, smoa_error *err);
/* Every byte 0xFF: NaN as f32 and as f16. */
smoa_status smoa_cuda_poison(void *p, size_t bytes, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
