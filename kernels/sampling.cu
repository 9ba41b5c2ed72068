// sampling.cu - greedy and temperature + top-p picks, one block per row
// (the contract is in sampling.h). Every sum is over integer masses, so the
// result does not depend on the order of the additions.
//
// A top-p draw makes five passes over the row (it stays in L2):
//   1. maximum, argmax and the NaN / +inf check;
//   2-4. radix select of the nucleus cut: 32-bit logit keys, 11 + 11 + 10
//      bits, each pass a histogram of mass per digit (shared-memory atomics)
//      and a block scan that finds the bin where the best-first running mass
//      reaches the target; pass 2 also yields the total mass;
//   5. the draw: each thread owns a contiguous chunk, so block scans of the
//      chunks' kept mass give every thread its running mass in id order.
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>

#include "cuda_common.h"
#include "sampling.h"

namespace smoa_cuda {

constexpr int SAMPLE_THREADS = 512; // 1024 would cap registers at 64 and spill
constexpr int RADIX_PASSES = 3;
constexpr int DIGIT_BITS = 11; // the last of the three digits has 10
constexpr int MAX_BINS = 1 << DIGIT_BITS;
constexpr int BINS_PER_THREAD = MAX_BINS / SAMPLE_THREADS;
constexpr double MASS_OF_BEST = 4294967296.0; // 2^32

// ---------------------------------------------------------------------------
// Keys and masses

// Logit bits made monotonic as unsigned: a larger logit has a larger key;
// -0 is +0. Never called on NaN (such rows are refused first).
__device__ __forceinline__ uint32_t logit_key(float v) {
    if (v == 0.0f) v = 0.0f;
    uint32_t bits = __float_as_uint(v);
    return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

__device__ __forceinline__ float key_logit(uint32_t key) {
    return __uint_as_float((key & 0x80000000u) ? key & 0x7FFFFFFFu : ~key);
}

// round(exp((logit - max) / T) * 2^32): the best token weighs 2^32, -inf 0.
__device__ __forceinline__ uint64_t token_mass(float logit, float max_logit, float temperature) {
    return __double2ull_rn(exp(((double)logit - (double)max_logit) / (double)temperature) * MASS_OF_BEST);
}

// ---------------------------------------------------------------------------
// Block-wide pieces

typedef cub::BlockReduce<uint64_t, SAMPLE_THREADS> ReduceU64;
typedef cub::BlockReduce<int, SAMPLE_THREADS> ReduceInt;
typedef cub::BlockScan<uint64_t, SAMPLE_THREADS> ScanU64;

// Own operators: CUB's cub::Max / cub::Min are gone from CUDA 13.
struct MaxOp {
    template <typename T> __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};
struct MinOp {
    template <typename T> __device__ T operator()(T a, T b) const { return a < b ? a : b; }
};

struct Shared {
    union {
        ReduceU64::TempStorage reduce_u64;
        ReduceInt::TempStorage reduce_int;
        ScanU64::TempStorage scan;
    } cub;
    // Mass per radix bin as two words: 32-bit shared atomics are native.
    uint32_t mass_lo[MAX_BINS], mass_hi[MAX_BINS];
    uint64_t broadcast[2];
};

struct RowSummary {
    bool usable; // no NaN or +inf, not all -inf
    float max_logit;
    int argmax; // lowest id on ties
};

// Pass 1. Ranks (key, ~id) as one 64-bit value so the maximum breaks ties
// towards the lower id.
__device__ RowSummary summarize_row(const float *x, int n, Shared &sh) {
    uint64_t best = 0;
    bool refused = false;
    for (int i = threadIdx.x; i < n; i += SAMPLE_THREADS) {
        float v = x[i];
        if (isnan(v) || v == INFINITY) refused = true;
        else best = max(best, (uint64_t)logit_key(v) << 32 | (uint32_t)~i);
    }
    refused = __syncthreads_or(refused);
    best = ReduceU64(sh.cub.reduce_u64).Reduce(best, MaxOp());
    if (threadIdx.x == 0) sh.broadcast[0] = best;
    __syncthreads();
    best = sh.broadcast[0];
    float max_logit = key_logit((uint32_t)(best >> 32));
    return RowSummary{!refused && max_logit != -INFINITY, max_logit, (int)~(uint32_t)best};
}

__device__ __forceinline__ void add_mass(Shared &sh, int bin, uint64_t mass) {
    uint32_t lo = (uint32_t)mass;
    uint32_t carry = atomicAdd(&sh.mass_lo[bin], lo) + lo < lo ? 1u : 0u;
    uint32_t hi = (uint32_t)(mass >> 32) + carry;
    if (hi) atomicAdd(&sh.mass_hi[bin], hi);
}

__device__ __forceinline__ uint64_t bin_mass(const Shared &sh, int bin) {
    return (uint64_t)sh.mass_hi[bin] << 32 | sh.mass_lo[bin];
}

// The nucleus cut: every token with a key above `key` is kept, and of those
// with key == `key` the first n_equal in id order. key 0 keeps everything.
struct Cut {
    uint32_t key;
    uint64_t n_equal;
};

// Passes 2-4: the key of the token at which the best-first running mass
// first reaches ceil(top_p * total), and how many of its equals are kept.
__device__ Cut find_cut(const float *x, int n, float max_logit, float temperature, float top_p, Shared &sh) {
    uint32_t prefix = 0; // the cut's key bits found so far
    uint64_t above = 0;  // mass of tokens whose key is above the current bin
    uint64_t target = 0;
    for (int pass = 0; pass < RADIX_PASSES; pass++) {
        const int known = 32 - DIGIT_BITS * pass; // key bits above this digit
        const int shift = max(0, known - DIGIT_BITS), n_bins = 1 << (known - shift);
        for (int b = threadIdx.x; b < n_bins; b += SAMPLE_THREADS) sh.mass_lo[b] = sh.mass_hi[b] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += SAMPLE_THREADS) {
            uint32_t key = logit_key(x[i]);
            if ((uint64_t)key >> known == (uint64_t)prefix >> known)
                add_mass(sh, (int)(key >> shift) & (n_bins - 1), token_mass(x[i], max_logit, temperature));
        }
        __syncthreads();

        // Bins best first: thread t holds positions t * BINS_PER_THREAD + j.
        uint64_t mass[BINS_PER_THREAD], running[BINS_PER_THREAD], aggregate;
#pragma unroll
        for (int j = 0; j < BINS_PER_THREAD; j++) {
            int position = (int)threadIdx.x * BINS_PER_THREAD + j;
            mass[j] = position < n_bins ? bin_mass(sh, n_bins - 1 - position) : 0;
        }
        ScanU64(sh.cub.scan).InclusiveSum(mass, running, aggregate);
        if (pass == 0) target = (uint64_t)ceil((double)top_p * (double)aggregate);
        int first = INT_MAX;
#pragma unroll
        for (int j = BINS_PER_THREAD - 1; j >= 0; j--)
            if (above + running[j] >= target) first = (int)threadIdx.x * BINS_PER_THREAD + j;
        __syncthreads(); // the scan's storage is reused by the reduction
        first = ReduceInt(sh.cub.reduce_int).Reduce(first, MinOp());
        if (threadIdx.x == 0) sh.broadcast[0] = (uint64_t)first;
        __syncthreads();
        first = (int)sh.broadcast[0];
#pragma unroll
        for (int j = 0; j < BINS_PER_THREAD; j++) // constant indices keep the arrays in registers
            if ((int)threadIdx.x * BINS_PER_THREAD + j == first) sh.broadcast[1] = above + running[j] - mass[j];
        __syncthreads();
        above = sh.broadcast[1];
        prefix |= (uint32_t)(n_bins - 1 - first) << shift;
        __syncthreads(); // broadcast is rewritten by the next pass
    }
    uint64_t mass_at_cut = token_mass(key_logit(prefix), max_logit, temperature);
    return Cut{prefix, (target - above + mass_at_cut - 1) / mass_at_cut};
}

// The kept mass of token i, given how many tokens with the cut's key come
// before it (in id order) and counting it if it has that key.
__device__ __forceinline__ uint64_t kept_mass(float v, Cut cut, float max_logit, float temperature,
                                               uint64_t &equal_seen) {
    uint32_t key = logit_key(v);
    if (key == cut.key && equal_seen++ >= cut.n_equal) return 0;
    return key >= cut.key ? token_mass(v, max_logit, temperature) : 0;
}

// Pass 5: the first kept token, in id order, whose running mass exceeds
// floor(uniform * kept mass). Only the thread that owns it returns >= 0.
__device__ int draw(const float *x, int n, float max_logit, float temperature, Cut cut, double uniform, Shared &sh) {
    const int chunk = (n + SAMPLE_THREADS - 1) / SAMPLE_THREADS;
    const int begin = min(n, (int)threadIdx.x * chunk), end = min(n, begin + chunk);
    uint64_t equal_here = 0;
    for (int i = begin; i < end; i++) equal_here += logit_key(x[i]) == cut.key;
    uint64_t equal_before, mass_before, kept_total;
    ScanU64(sh.cub.scan).ExclusiveSum(equal_here, equal_before);
    __syncthreads();

    uint64_t equal_seen = equal_before, mass_here = 0;
    for (int i = begin; i < end; i++) mass_here += kept_mass(x[i], cut, max_logit, temperature, equal_seen);
    ScanU64(sh.cub.scan).ExclusiveSum(mass_here, mass_before, kept_total);

    uint64_t r = min((uint64_t)(uniform * (double)kept_total), kept_total - 1);
    if (r < mass_before || r >= mass_before + mass_here) return -1;
    equal_seen = equal_before;
    uint64_t running = mass_before;
    for (int i = begin; i < end; i++) {
        running += kept_mass(x[i], cut, max_logit, temperature, equal_seen);
        if (running > r) return i;
    }
    return -1; // not reached: r lies inside this chunk's mass
}

__device__ __forceinline__ bool params_valid(const smoa_cuda_sample_params &p) {
    return p.temperature >= 0.0f && p.temperature < INFINITY && p.top_p >= 0.0f && p.top_p <= 1.0f &&
           p.uniform >= 0.0 && p.uniform < 1.0; // false for NaN too
}

// ---------------------------------------------------------------------------
// Kernels: block r picks tokens[r].

__global__ void __launch_bounds__(SAMPLE_THREADS)
    argmax_kernel(const float *logits /* [rows][n] */, int n, int32_t *tokens /* [rows] */) {
    __shared__ Shared sh;
    const int row = blockIdx.x;
    RowSummary s = summarize_row(logits + (int64_t)row * n, n, sh);
    if (threadIdx.x == 0) tokens[row] = s.usable ? s.argmax : -1;
}

__global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(const float *logits /* [rows][n] */, int n, const smoa_cuda_sample_params *params /* [rows] */,
                  int32_t *tokens /* [rows] */) {
    __shared__ Shared sh;
    const int row = blockIdx.x;
    const float *x = logits + (int64_t)row * n;
    const smoa_cuda_sample_params p = params[row];
    RowSummary s = summarize_row(x, n, sh);
    if (!s.usable || !params_valid(p) || p.temperature == 0.0f || p.top_p == 0.0f) {
        if (threadIdx.x == 0) tokens[row] = s.usable && params_valid(p) ? s.argmax : -1;
        return; // the condition is the same in every thread
    }
    Cut cut = p.top_p < 1.0f ? find_cut(x, n, s.max_logit, p.temperature, p.top_p, sh) : Cut{0, 0};
    int token = draw(x, n, s.max_logit, p.temperature, cut, p.uniform, sh);
    if (token >= 0) tokens[row] = token;
}

} // namespace smoa_cuda

using namespace smoa_cuda;

smoa_status smoa_cuda_sample_check(int rows, int n_vocab, smoa_error *err) {
    if (rows <= 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sampling: rows must be > 0 (got %d)", rows);
    if (n_vocab <= 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sampling: n_vocab must be > 0 (got %d)", n_vocab);
    if (n_vocab > SMOA_CUDA_SAMPLE_MAX_VOCAB)
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "sampling: a vocabulary of %d tokens exceeds the kernel's %d (token masses "
                              "would no longer sum exactly)",
                              n_vocab, SMOA_CUDA_SAMPLE_MAX_VOCAB);
    return SMOA_OK;
}

smoa_status smoa_cuda_argmax(const float *logits, int rows, int n_vocab, int32_t *tokens, cudaStream_t stream,
                             smoa_error *err) {
    smoa_status st = smoa_cuda_sample_check(rows, n_vocab, err);
    if (st != SMOA_OK) return st;
    if (!logits || !tokens)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sampling: NULL logits or tokens");
    argmax_kernel<<<rows, SAMPLE_THREADS, 0, stream>>>(logits, n_vocab, tokens);
    return smoa_cuda_launch_check("argmax_kernel", err);
}

smoa_status smoa_cuda_sample(const float *logits, int rows, int n_vocab, const smoa_cuda_sample_params *params,
                             int32_t *tokens, cudaStream_t stream, smoa_error *err) {
    smoa_status st = smoa_cuda_sample_check(rows, n_vocab, err);
    if (st != SMOA_OK) return st;
    if (!logits || !params || !tokens)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sampling: NULL logits, params or tokens");
    sample_kernel<<<rows, SAMPLE_THREADS, 0, stream>>>(logits, n_vocab, params, tokens);
    return smoa_cuda_launch_check("sample_kernel", err);
}
