// attention.cu - split-KV causal attention over the paged KV cache.
//
// Thread mapping of the split kernel: one block per (token, KV head, group
// chunk of at most 8 query heads, key range). Its 4 warps take tiles of 32
// keys in turn; within a tile, lane j owns key j: it reads that key's K row
// (16-byte loads) and scores it against every query head of the block (q
// held in shared memory), then the warp updates its online softmax (max,
// sum) per head, and for the V sum the lanes switch roles: lane l owns
// dimensions l * D/32 .. l * D/32 + D/32 - 1 and loops over the tile's keys,
// taking each key's weight from its owner lane by a shuffle. The warps'
// states are merged through shared memory into the block's partial.
#include <math.h>

#include <cuda_fp16.h>

#include "attention.h"
#include "cuda_common.h"
#include "warp_reduce.cuh"

extern "C" {
#include "engine/kv_pages.h"
}

namespace smoa_cuda {

constexpr int ATT_WARPS = 4;
constexpr int ATT_THREADS = ATT_WARPS * WARP;
constexpr int MAX_G = 8;              // query heads per block
constexpr int MIN_SPLIT_KEYS = ATT_WARPS * WARP; // one tile per warp
constexpr int MAX_SPLITS = 32;

// Scores of the key at k_row (f16, D values) against the block's n_h query
// heads (pre-scaled by 1 / sqrt(D)).
template <int D>
__device__ __forceinline__ void key_scores(const float (*q_s)[D], const __half *k_row, int n_h,
                                           float score[MAX_G]) {
#pragma unroll
    for (int g = 0; g < MAX_G; g++) score[g] = 0.0f;
    const uint4 *k16 = reinterpret_cast<const uint4 *>(k_row);
#pragma unroll 4
    for (int c = 0; c < D / 8; c++) {
        uint4 raw = k16[c];
        const __half2 *h = reinterpret_cast<const __half2 *>(&raw);
        float2 k0 = __half22float2(h[0]), k1 = __half22float2(h[1]), k2 = __half22float2(h[2]),
               k3 = __half22float2(h[3]);
#pragma unroll
        for (int g = 0; g < MAX_G; g++) {
            if (g >= n_h) break;
            const float *q = q_s[g] + 8 * c;
            score[g] += q[0] * k0.x + q[1] * k0.y + q[2] * k1.x + q[3] * k1.y + q[4] * k2.x + q[5] * k2.y +
                        q[6] * k3.x + q[7] * k3.y;
        }
    }
}

template <int D>
__global__ void __launch_bounds__(ATT_THREADS)
    attention_split_kernel(smoa_cuda_attention_args a, int n_chunks, float scale) {
    constexpr int DPL = D / WARP; // V dimensions per lane
    __shared__ float q_s[MAX_G][D];
    __shared__ float max_s[ATT_WARPS][MAX_G], sum_s[ATT_WARPS][MAX_G];
    __shared__ float acc_s[ATT_WARPS][MAX_G][D];

    int chunk = blockIdx.x % n_chunks, hk = blockIdx.x / n_chunks % a.n_head_kv;
    int t = blockIdx.x / n_chunks / a.n_head_kv, group = a.n_head / a.n_head_kv;
    int h0 = hk * group + chunk * MAX_G, n_h = min(MAX_G, group - chunk * MAX_G);
    int k_begin = blockIdx.y * a.split_keys, k_end = min(a.pos[t] + 1, k_begin + a.split_keys);
    if (k_begin >= k_end) return; // past this token's keys: the combine step skips the split

    const float *q = a.q + ((size_t)t * a.n_head + h0) * D;
    for (int i = threadIdx.x; i < n_h * D; i += ATT_THREADS) q_s[i / D][i % D] = q[i] * scale;
    __syncthreads();

    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    const uint32_t *pages = a.page_tables + (size_t)a.table_of_token[t] * a.max_pages;
    size_t kv_dim = (size_t)a.n_head_kv * D;
    const __half *k_head = reinterpret_cast<const __half *>(a.k_cache) + (size_t)hk * D;
    const __half *v_head = reinterpret_cast<const __half *>(a.v_cache) + (size_t)hk * D + lane * DPL;
    float m[MAX_G], l[MAX_G], acc[MAX_G][DPL];
#pragma unroll
    for (int g = 0; g < MAX_G; g++) {
        m[g] = -INFINITY;
        l[g] = 0.0f;
#pragma unroll
        for (int i = 0; i < DPL; i++) acc[g][i] = 0.0f;
    }

    for (int p0 = k_begin + warp * WARP; p0 < k_end; p0 += ATT_WARPS * WARP) {
        int p = p0 + lane, n_valid = min(WARP, k_end - p0);
        bool valid = lane < n_valid;
        uint32_t slot = valid ? pages[p / SMOA_KV_PAGE] * SMOA_KV_PAGE + p % SMOA_KV_PAGE : 0;
        float w[MAX_G]; // the score, then the softmax weight, of this lane's key
        key_scores<D>(q_s, k_head + slot * kv_dim, valid ? n_h : 0, w);
#pragma unroll
        for (int g = 0; g < MAX_G; g++) {
            if (g >= n_h) break;
            float m_new = fmaxf(m[g], warp_max(valid ? w[g] : -INFINITY)); // finite: lane 0 is valid
            float rescale = expf(m[g] - m_new);
            w[g] = valid ? expf(w[g] - m_new) : 0.0f;
            l[g] = l[g] * rescale + warp_sum(w[g]);
            m[g] = m_new;
#pragma unroll
            for (int i = 0; i < DPL; i++) acc[g][i] *= rescale;
        }
        for (int j = 0; j < n_valid; j++) {
            uint32_t slot_j = __shfl_sync(0xFFFFFFFFu, slot, j);
            const __half *v_row = v_head + slot_j * kv_dim;
            float v[DPL];
#pragma unroll
            for (int i = 0; i < DPL; i++) v[i] = __half2float(v_row[i]);
#pragma unroll
            for (int g = 0; g < MAX_G; g++) {
                if (g >= n_h) break;
                float weight = __shfl_sync(0xFFFFFFFFu, w[g], j);
#pragma unroll
                for (int i = 0; i < DPL; i++) acc[g][i] += weight * v[i];
            }
        }
    }

    // Merge the warps (a warp without keys has max -inf: weight 0).
#pragma unroll
    for (int g = 0; g < MAX_G; g++) {
        if (g >= n_h) break;
        if (lane == 0) {
            max_s[warp][g] = m[g];
            sum_s[warp][g] = l[g];
        }
#pragma unroll
        for (int i = 0; i < DPL; i++) acc_s[warp][g][lane * DPL + i] = acc[g][i];
    }
    __syncthreads();
    for (int i = threadIdx.x; i < n_h * D; i += ATT_THREADS) {
        int g = i / D, d = i % D;
        float block_max = -INFINITY, sum = 0.0f, out = 0.0f;
        for (int w = 0; w < ATT_WARPS; w++) block_max = fmaxf(block_max, max_s[w][g]);
        for (int w = 0; w < ATT_WARPS; w++) {
            float e = expf(max_s[w][g] - block_max);
            sum += sum_s[w][g] * e;
            out += acc_s[w][g][d] * e;
        }
        size_t row = ((size_t)t * a.n_head + h0 + g) * a.n_splits + blockIdx.y;
        a.part_acc[row * D + d] = out;
        if (d == 0) {
            a.part_max[row] = block_max;
            a.part_sum[row] = sum;
        }
    }
}

// Block (t, h), thread d: merges the used key ranges of that head.
__global__ void attention_combine_kernel(smoa_cuda_attention_args a) {
    int t = blockIdx.x / a.n_head, d = threadIdx.x, D = a.head_dim;
    int n_used = min(a.n_splits, (a.pos[t] + a.split_keys) / a.split_keys); // ceil((pos + 1) / split_keys)
    size_t row0 = (size_t)blockIdx.x * a.n_splits;                         // (t * n_head + h) * n_splits
    float total_max = -INFINITY, sum = 0.0f, out = 0.0f;
    for (int s = 0; s < n_used; s++) total_max = fmaxf(total_max, a.part_max[row0 + s]);
    for (int s = 0; s < n_used; s++) {
        float e = expf(a.part_max[row0 + s] - total_max);
        sum += a.part_sum[row0 + s] * e;
        out += a.part_acc[(row0 + s) * D + d] * e;
    }
    a.out[(size_t)blockIdx.x * D + d] = out / sum;
}

template <int D> void launch_split(const smoa_cuda_attention_args *a, cudaStream_t stream) {
    int n_chunks = (a->n_head / a->n_head_kv + MAX_G - 1) / MAX_G;
    dim3 grid((unsigned)(a->T * a->n_head_kv * n_chunks), (unsigned)a->n_splits);
    attention_split_kernel<D><<<grid, ATT_THREADS, 0, stream>>>(*a, n_chunks, 1.0f / sqrtf((float)D));
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

} // namespace smoa_cuda

using namespace smoa_cuda;

bool smoa_cuda_attention_supported(int n_head, int n_head_kv, int head_dim) {
    bool known_dim = head_dim == 32 || head_dim == 64 || head_dim == 96 || head_dim == 128 || head_dim == 256;
    return known_dim && n_head_kv > 0 && n_head % n_head_kv == 0;
}

void smoa_cuda_attention_plan(int T, int max_keys, int n_head, int n_head_kv, int n_sm, size_t max_partials,
                              int *n_splits, int *split_keys) {
    int n = ceil_div(max_keys, MIN_SPLIT_KEYS);
    int blocks_per_split = T * n_head_kv * ceil_div(n_head / n_head_kv, MAX_G);
    int to_fill = ceil_div(2 * n_sm, blocks_per_split); // two blocks per multiprocessor
    size_t fits = max_partials / ((size_t)T * n_head);
    if (n > to_fill) n = to_fill;
    if (n > MAX_SPLITS) n = MAX_SPLITS;
    if ((size_t)n > fits) n = (int)fits;
    if (n < 1) n = 1;
    *split_keys = ceil_div(ceil_div(max_keys, n), WARP) * WARP;
    *n_splits = ceil_div(max_keys, *split_keys);
}

smoa_status smoa_cuda_attention(const smoa_cuda_attention_args *a, cudaStream_t stream, smoa_error *err) {
    if (a->T <= 0) return SMOA_OK;
    switch (a->head_dim) {
    case 32: launch_split<32>(a, stream); break;
    case 64: launch_split<64>(a, stream); break;
    case 96: launch_split<96>(a, stream); break;
    case 128: launch_split<128>(a, stream); break;
    case 256: launch_split<256>(a, stream); break;
    default:
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "attention with head size %d has no CUDA kernel",
                              a->head_dim);
    }
    smoa_status st = smoa_cuda_launch_check("attention_split_kernel", err);
    if (st) return st;
    attention_combine_kernel<<<(unsigned)(a->T * a->n_head), (unsigned)a->head_dim, 0, stream>>>(*a);
    return smoa_cuda_launch_check("attention_combine_kernel", err);
}
