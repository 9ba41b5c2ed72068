// rmsnorm.cu - RMSNorm times the norm weight, one block per row.
#include "cuda_common.h"
#include "rmsnorm.h"
#include "warp_reduce.cuh"

namespace smoa_cuda {

constexpr int RMSNORM_THREADS = 256;

// Block r normalizes one row: thread i takes elements i, i + 256, ...
__global__ void __launch_bounds__(RMSNORM_THREADS)
    rmsnorm_kernel(const float *x, const int32_t *rows, const float *w, float *out, int n, float eps) {
    int r = blockIdx.x;
    const float *xr = x + (size_t)(rows ? rows[r] : r) * n;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += RMSNORM_THREADS) sum += xr[i] * xr[i];
    float scale = rsqrtf(block_sum(sum) / (float)n + eps);
    float *o = out + (size_t)r * n;
    for (int i = threadIdx.x; i < n; i += RMSNORM_THREADS) o[i] = xr[i] * scale * w[i];
}

} // namespace smoa_cuda

smoa_status smoa_cuda_rmsnorm(const float *x, const int32_t *rows, const float *w, float *out, int T, int n,
                              float eps, cudaStream_t stream, smoa_error *err) {
    if (T <= 0) return SMOA_OK;
    smoa_cuda::rmsnorm_kernel<<<T, smoa_cuda::RMSNORM_THREADS, 0, stream>>>(x, rows, w, out, n, eps);
    return smoa_cuda_launch_check("rmsnorm_kernel", err);
}
