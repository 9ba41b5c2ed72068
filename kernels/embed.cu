// embed.cu - token embedding lookup: dequantizes the rows of the tokens.
#include "cuda_common.h"
#include "embed.h"
#include "quant_blocks.cuh"

namespace smoa_cuda {

constexpr int EMBED_THREADS = 128;

// Block t fills x[t]: thread i dequantizes groups i, i + 128, ... of the row
// of token t (eight values each, two 16-byte stores).
template <uint32_t TYPE>
__global__ void __launch_bounds__(EMBED_THREADS)
    embed_kernel(const uint8_t *table, size_t row_bytes, int n_groups, const int32_t *tokens,
                 float *x /* [T][n_groups * 8] */) {
    int t = blockIdx.x;
    const uint8_t *row = table + (size_t)tokens[t] * row_bytes;
    float4 *out = reinterpret_cast<float4 *>(x + (size_t)t * n_groups * GROUP);
    for (int g = threadIdx.x; g < n_groups; g += EMBED_THREADS) {
        float v[GROUP];
        dequant_group<TYPE>(row, g, v);
        out[2 * g] = make_float4(v[0], v[1], v[2], v[3]);
        out[2 * g + 1] = make_float4(v[4], v[5], v[6], v[7]);
    }
}

} // namespace smoa_cuda

using namespace smoa_cuda;

smoa_status smoa_cuda_embed(const smoa_cuda_matrix *table, const int32_t *tokens, int T, float *x,
                            cudaStream_t stream, smoa_error *err) {
    if (T <= 0) return SMOA_OK;
    bool known = dispatch_weight_type(table->type, [&](auto type) {
        embed_kernel<decltype(type)::value><<<T, EMBED_THREADS, 0, stream>>>(
            table->data, table->row_bytes, table->n_in / GROUP, tokens, x);
    });
    if (!known)
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "embedding of type %u has no CUDA kernel", table->type);
    return smoa_cuda_launch_check("embed_kernel", err);
}
