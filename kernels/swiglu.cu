// swiglu.cu - gate = silu(gate) * up, one element per thread.
//
// The residual adds need no kernel of their own: the output projections
// accumulate into the residual stream (mat-vec epilogue, GEMM beta = 1).
#include "cuda_common.h"
#include "swiglu.h"

namespace smoa_cuda {

constexpr int SWIGLU_THREADS = 256;

__global__ void __launch_bounds__(SWIGLU_THREADS) swiglu_kernel(float *gate, const float *up, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * SWIGLU_THREADS + threadIdx.x;
    if (i >= n) return;
    float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
}

} // namespace smoa_cuda

smoa_status smoa_cuda_swiglu(float *gate, const float *up, int64_t n, cudaStream_t stream, smoa_error *err) {
    if (n <= 0) return SMOA_OK;
    int64_t blocks = (n + smoa_cuda::SWIGLU_THREADS - 1) / smoa_cuda::SWIGLU_THREADS;
    smoa_cuda::swiglu_kernel<<<(unsigned)blocks, smoa_cuda::SWIGLU_THREADS, 0, stream>>>(gate, up, n);
    return smoa_cuda_launch_check("swiglu_kernel", err);
}
