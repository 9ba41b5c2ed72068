// cuda_buffers.cu - device memory helpers callable from C.
#include "cuda_buffers.h"
#include "cuda_common.h"

smoa_status smoa_cuda_alloc(void **out, size_t bytes, smoa_error *err) {
    *out = nullptr;
    return smoa_cuda_check(cudaMalloc(out, bytes), "cudaMalloc", err);
}

void smoa_cuda_free(void *p) {
    if (p) cudaFree(p);
}

smoa_status smoa_cuda_upload(void *dst, const void *src, size_t bytes, smoa_error *err) {
    return smoa_cuda_check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "upload", err);
}

smoa_status smoa_cuda_download(void *dst, const void *src, size_t bytes, smoa_error *err) {
    return smoa_cuda_check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "download", err);
}

smoa_status smoa_cuda_poison(void *p, size_t bytes, smoa_error *err) {
    SMOA_CUDA_TRY(cudaMemset(p, 0xFF, bytes), err);
    return smoa_cuda_check(cudaDeviceSynchronize(), "poison", err);
}
