// topk_gating.cu - fused softmax + top-k, one warp per row, the row held in
// registers: lane l owns values l, l + 32, l + 64, ... (coalesced loads).
// Softmax is two warp reductions (max, then sum of exp); the top k are k
// rounds of a warp-wide argmax over 64-bit ranking keys, each round's
// winner removed by the lane that owns it.
#include "cuda_common.h"
#include "topk_gating.h"
#include "warp_reduce.cuh"

namespace smoa_cuda {

constexpr int GATING_ROWS_PER_BLOCK = 8; // one warp each
constexpr int GATING_THREADS = GATING_ROWS_PER_BLOCK * WARP;

// A key per value that orders like the CPU's ranking when compared as an
// unsigned integer, larger first: high word the value's bits made monotonic
// (NaN -> 1, below every number), low word ~index (ties: lower index
// larger). 0 marks a slot that is taken or past the end of the row; every
// real value's key is above it.
constexpr uint32_t NAN_RANK = 1;

__device__ __forceinline__ uint64_t rank_key(float v, int i) {
    if (v == 0.0f) v = 0.0f; // -0 ties with +0, as on the CPU
    uint32_t bits = __float_as_uint(v);
    uint32_t ordered = isnan(v) ? NAN_RANK : (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
    return (uint64_t)ordered << 32 | (uint32_t)~i;
}

__device__ __forceinline__ int key_index(uint64_t key) { return (int)~(uint32_t)key; }

__device__ __forceinline__ float key_value(uint64_t key) {
    uint32_t ordered = (uint32_t)(key >> 32);
    if (ordered == NAN_RANK) return __uint_as_float(0x7FC00000u);
    return __uint_as_float((ordered & 0x80000000u) ? ordered & 0x7FFFFFFFu : ~ordered);
}

__device__ __forceinline__ uint64_t warp_max_key(uint64_t key) {
#pragma unroll
    for (int offset = WARP / 2; offset > 0; offset /= 2) {
        uint64_t other = __shfl_xor_sync(0xFFFFFFFFu, key, offset);
        key = other > key ? other : key;
    }
    return key;
}

// The CPU's weight: exp(v - max) / sum, 0 for NaN or a row without a finite
// maximum (sum is 0 then).
__device__ __forceinline__ float gate_weight(float v, float max, float sum) {
    return isnan(v) || sum == 0.0f ? 0.0f : expf(v - max) / sum;
}

// VALUES_PER_LANE * 32 >= n: the row fits the warp's registers.
template <int VALUES_PER_LANE>
__global__ void __launch_bounds__(GATING_THREADS)
    topk_gating_kernel(const float *logits /* [rows][n] */, int rows, int n, int k,
                       int32_t *idx /* [rows][k] */, float *weights /* [rows][k] */) {
    const int lane = threadIdx.x % WARP;
    const int row = blockIdx.x * GATING_ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (row >= rows) return; // the whole warp leaves together
    const float *x = logits + (int64_t)row * n;

    float v[VALUES_PER_LANE];
    float max = -INFINITY; // fmaxf skips NaN, as the CPU's `>` does
#pragma unroll
    for (int j = 0; j < VALUES_PER_LANE; j++) {
        int i = lane + j * WARP;
        v[j] = i < n ? x[i] : -INFINITY;
        max = fmaxf(max, v[j]);
    }
    max = warp_max(max);

    float sum = 0.0f;
    uint64_t key[VALUES_PER_LANE];
#pragma unroll
    for (int j = 0; j < VALUES_PER_LANE; j++) {
        int i = lane + j * WARP;
        if (isfinite(max) && !isnan(v[j])) sum += expf(v[j] - max);
        key[j] = i < n ? rank_key(v[j], i) : 0;
    }
    sum = warp_sum(sum);

    for (int r = 0; r < k; r++) {
        uint64_t best = 0;
#pragma unroll
        for (int j = 0; j < VALUES_PER_LANE; j++) best = key[j] > best ? key[j] : best;
        best = warp_max_key(best);
#pragma unroll
        for (int j = 0; j < VALUES_PER_LANE; j++)
            if (key[j] == best) key[j] = 0; // keys are unique: only the owner matches
        if (lane == 0) {
            idx[(int64_t)row * k + r] = key_index(best);
            weights[(int64_t)row * k + r] = gate_weight(key_value(best), max, sum);
        }
    }
}

template <int VALUES_PER_LANE>
static void launch_gating(const float *logits, int rows, int n, int k, int32_t *idx, float *weights,
                          cudaStream_t stream) {
    int blocks = (rows + GATING_ROWS_PER_BLOCK - 1) / GATING_ROWS_PER_BLOCK;
    topk_gating_kernel<VALUES_PER_LANE><<<blocks, GATING_THREADS, 0, stream>>>(logits, rows, n, k, idx, weights);
}

} // namespace smoa_cuda

using namespace smoa_cuda;

smoa_status smoa_cuda_topk_gating_check(int rows, int n, int k, smoa_error *err) {
    const smoa_status bad = SMOA_ERR_INVALID_ARGUMENT;
    if (rows <= 0) return smoa_error_set(err, bad, "top-k gating: rows must be > 0 (got %d)", rows);
    if (n <= 0) return smoa_error_set(err, bad, "top-k gating: rows must hold n > 0 values (got %d)", n);
    if (k <= 0 || k > n) return smoa_error_set(err, bad, "top-k gating: k must be in [1, n = %d] (got %d)", n, k);
    if (n > SMOA_CUDA_TOPK_MAX_N)
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "top-k gating: rows of %d values exceed the kernel's %d (one warp holds a row "
                              "in registers); gate them with smoa_topk_gating on the CPU",
                              n, SMOA_CUDA_TOPK_MAX_N);
    return SMOA_OK;
}

smoa_status smoa_cuda_topk_gating(const float *logits, int rows, int n, int k, int32_t *idx, float *weights,
                                  cudaStream_t stream, smoa_error *err) {
    smoa_status st = smoa_cuda_topk_gating_check(rows, n, k, err);
    if (st != SMOA_OK) return st;
    if (!logits || !idx || !weights)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "top-k gating: NULL logits, idx or weights");
    if (n <= 1 * WARP) launch_gating<1>(logits, rows, n, k, idx, weights, stream);
    else if (n <= 2 * WARP) launch_gating<2>(logits, rows, n, k, idx, weights, stream);
    else if (n <= 4 * WARP) launch_gating<4>(logits, rows, n, k, idx, weights, stream);
    else if (n <= 8 * WARP) launch_gating<8>(logits, rows, n, k, idx, weights, stream);
    else if (n <= 16 * WARP) launch_gating<16>(logits, rows, n, k, idx, weights, stream);
    else launch_gating<32>(logits, rows, n, k, idx, weights, stream);
    return smoa_cuda_launch_check("topk_gating_kernel", err);
}
