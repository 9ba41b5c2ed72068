// warp_reduce.cuh - sums and maxima across the 32 lanes of a warp and the
// warps of a block, shared by the normalization, mat-vec and attention
// kernels.
#ifndef SMOA_KERNELS_WARP_REDUCE_CUH
#define SMOA_KERNELS_WARP_REDUCE_CUH

namespace smoa_cuda {

constexpr int WARP = 32;

// Every lane gets the result.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int offset = WARP / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int offset = WARP / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024);
// every thread gets it. Contains __syncthreads: call from all threads.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[WARP];
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, n_warps = blockDim.x / WARP;
    v = warp_sum(v);
    __syncthreads(); // partial may still be read by a previous call
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < n_warps ? partial[lane] : 0.0f;
    return warp_sum(v);
}

} // namespace smoa_cuda

#endif
