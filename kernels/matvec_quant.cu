// matvec_quant.cu - quantized matrix times a few activation vectors.
//
// Thread mapping: one warp per weight row, four rows per block. Lane l of
// the warp walks groups l, l + 32, ... of its row (eight weights each,
// dequantized once into registers) and multiplies them with the same eight
// values of every token of the pass, so a weight byte is read once per
// pass. The per-token sums are then reduced across the warp and lane 0
// writes (or adds to) y. blockIdx.y picks the pass: tokens
// [NT * blockIdx.y, NT * blockIdx.y + NT).
#include "cuda_common.h"
#include "matvec_quant.h"
#include "quant_blocks.cuh"
#include "warp_reduce.cuh"

namespace smoa_cuda {

constexpr int MATVEC_ROWS_PER_BLOCK = 4;

template <uint32_t TYPE, int NT>
__global__ void __launch_bounds__(MATVEC_ROWS_PER_BLOCK *WARP)
    matvec_kernel(const uint8_t *w, size_t row_bytes, int n_in, int n_out, const float *x /* [T][n_in] */,
                  int T, float *y /* [T][n_out] */, bool accumulate) {
    int row = blockIdx.x * MATVEC_ROWS_PER_BLOCK + threadIdx.x / WARP, lane = threadIdx.x % WARP;
    if (row >= n_out) return; // whole warps leave together; no block barrier follows
    int t0 = blockIdx.y * NT, nt = min(NT, T - t0);
    const uint8_t *w_row = w + (size_t)row * row_bytes;
    const float *x_pass = x + (size_t)t0 * n_in;
    float sum[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) sum[t] = 0.0f;
    for (int g = lane; g < n_in / GROUP; g += WARP) {
        float wv[GROUP];
        dequant_group<TYPE>(w_row, g, wv);
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (t >= nt) break;
            const float4 *xp = reinterpret_cast<const float4 *>(x_pass + (size_t)t * n_in) + 2 * g;
            float4 a = __ldg(xp), b = __ldg(xp + 1);
            sum[t] += wv[0] * a.x + wv[1] * a.y + wv[2] * a.z + wv[3] * a.w + wv[4] * b.x + wv[5] * b.y +
                      wv[6] * b.z + wv[7] * b.w;
        }
    }
#pragma unroll
    for (int t = 0; t < NT; t++) {
        if (t >= nt) break;
        float s = warp_sum(sum[t]);
        if (lane == 0) {
            float *dst = y + (size_t)(t0 + t) * n_out + row;
            *dst = accumulate ? *dst + s : s;
        }
    }
}

template <uint32_t TYPE, int NT>
void launch_matvec_width(const smoa_cuda_matrix *W, const float *x, int T, float *y, bool accumulate,
                         cudaStream_t stream) {
    dim3 grid((unsigned)((W->n_out + MATVEC_ROWS_PER_BLOCK - 1) / MATVEC_ROWS_PER_BLOCK),
              (unsigned)((T + NT - 1) / NT));
    matvec_kernel<TYPE, NT><<<grid, MATVEC_ROWS_PER_BLOCK * WARP, 0, stream>>>(W->data, W->row_bytes, W->n_in,
                                                                              W->n_out, x, T, y, accumulate);
}

// Tokens per pass: the smallest instantiated width that holds T (at most 8),
// so a single decode token does not carry registers for eight.
template <uint32_t TYPE>
void launch_matvec(const smoa_cuda_matrix *W, const float *x, int T, float *y, bool accumulate,
                   cudaStream_t stream) {
    if (T == 1) launch_matvec_width<TYPE, 1>(W, x, T, y, accumulate, stream);
    else if (T == 2) launch_matvec_width<TYPE, 2>(W, x, T, y, accumulate, stream);
    else if (T <= 4) launch_matvec_width<TYPE, 4>(W, x, T, y, accumulate, stream);
    else launch_matvec_width<TYPE, SMOA_CUDA_MATVEC_TOKENS>(W, x, T, y, accumulate, stream);
}

} // namespace smoa_cuda

using namespace smoa_cuda;

bool smoa_cuda_type_supported(uint32_t type, int64_t n_in) {
    const smoa_type_traits *traits = smoa_type_traits_get(type);
    return traits && n_in > 0 && n_in % GROUP == 0 && n_in % traits->block_size == 0 &&
           dispatch_weight_type(type, [](auto) {});
}

smoa_status smoa_cuda_matvec(const smoa_cuda_matrix *W, const float *x, int T, float *y, bool accumulate,
                             cudaStream_t stream, smoa_error *err) {
    if (T <= 0) return SMOA_OK;
    bool known = dispatch_weight_type(W->type, [&](auto type) {
        launch_matvec<decltype(type)::value>(W, x, T, y, accumulate, stream);
    });
    if (!known) return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "weights of type %u have no CUDA mat-vec", W->type);
    return smoa_cuda_launch_check("matvec_kernel", err);
}
