// rope_kv.cu - RoPE of q and k, with k and v written to the f16 KV cache.
#include <math.h>

#include <cuda_fp16.h>

#include "cuda_common.h"
#include "rope_kv.h"

namespace smoa_cuda {

constexpr int ROPE_THREADS = 128;

// The angle of pair i at position pos, by the CPU's own recurrence
// (theta *= theta_scale, theta_scale computed on the host as the CPU does),
// so both backends rotate by bitwise the same angle.
__device__ __forceinline__ float rope_angle(int pos, int i, float theta_scale) {
    float theta = (float)pos;
    for (int j = 0; j < i; j++) theta *= theta_scale;
    return theta;
}

// pair p of a row of heads (head p / (head_dim / 2), pair p % (head_dim / 2)):
// (x0, x1) rotated when the pair is among the first n_rot dims.
__device__ __forceinline__ float2 rope_pair(float2 x, int p, int head_dim, int n_rot, int pos, float theta_scale) {
    int i = p % (head_dim / 2);
    if (2 * i >= n_rot) return x;
    float s, c;
    sincosf(rope_angle(pos, i, theta_scale), &s, &c);
    return make_float2(x.x * c - x.y * s, x.x * s + x.y * c);
}

// Block t handles token t: threads stride over the pairs of q (rotated in
// place), then over the pairs of k and v (k rotated; both stored as f16 in
// slot[t]).
__global__ void __launch_bounds__(ROPE_THREADS) rope_kv_kernel(smoa_cuda_rope_kv_args a, float theta_scale) {
    int t = blockIdx.x, pos = a.pos[t];
    int q_pairs = a.n_head * a.head_dim / 2, kv_pairs = a.n_head_kv * a.head_dim / 2;
    float2 *q = reinterpret_cast<float2 *>(a.q + (size_t)t * q_pairs * 2);
    for (int p = threadIdx.x; p < q_pairs; p += ROPE_THREADS)
        q[p] = rope_pair(q[p], p, a.head_dim, a.n_rot, pos, theta_scale);
    const float2 *k = reinterpret_cast<const float2 *>(a.k + (size_t)t * kv_pairs * 2);
    const float2 *v = reinterpret_cast<const float2 *>(a.v + (size_t)t * kv_pairs * 2);
    size_t slot = (size_t)a.slot[t] * kv_pairs;
    __half2 *k_out = reinterpret_cast<__half2 *>(a.k_cache) + slot;
    __half2 *v_out = reinterpret_cast<__half2 *>(a.v_cache) + slot;
    for (int p = threadIdx.x; p < kv_pairs; p += ROPE_THREADS) {
        k_out[p] = __float22half2_rn(rope_pair(k[p], p, a.head_dim, a.n_rot, pos, theta_scale));
        v_out[p] = __float22half2_rn(v[p]);
    }
}

} // namespace smoa_cuda

smoa_status smoa_cuda_rope_kv(const smoa_cuda_rope_kv_args *a, cudaStream_t stream, smoa_error *err) {
    if (a->T <= 0) return SMOA_OK;
    float theta_scale = powf(a->rope_base, -2.0f / (float)a->n_rot); /* as smoa_op_rope */
    smoa_cuda::rope_kv_kernel<<<a->T, smoa_cuda::ROPE_THREADS, 0, stream>>>(*a, theta_scale);
    return smoa_cuda_launch_check("rope_kv_kernel", err);
}
