// gemm.cu - matrix products of many tokens: dequantize W to f16, convert x
// to f16, cublasGemmEx with f32 accumulation.
#include <string.h>

#include "cuda_common.h"
#include "gemm.h"
#include "quant_blocks.cuh"

namespace smoa_cuda {

constexpr int CONVERT_THREADS = 256;
constexpr size_t CUBLAS_WORKSPACE_BYTES = 32u << 20; // what cuBLAS suggests for Hopper

// Thread i dequantizes group i of the chunk (row i / n_groups, group
// i % n_groups) into eight f16 values, one 16-byte store.
template <uint32_t TYPE>
__global__ void __launch_bounds__(CONVERT_THREADS)
    dequant_f16_kernel(const uint8_t *w, size_t row_bytes, int n_groups, int64_t total_groups,
                       __half *out /* [rows][n_groups * 8] */) {
    int64_t i = (int64_t)blockIdx.x * CONVERT_THREADS + threadIdx.x;
    if (i >= total_groups) return;
    float v[GROUP];
    dequant_group<TYPE>(w + (size_t)(i / n_groups) * row_bytes, (int)(i % n_groups), v);
    __half2 h[GROUP / 2];
#pragma unroll
    for (int k = 0; k < GROUP / 2; k++) h[k] = __floats2half2_rn(v[2 * k], v[2 * k + 1]);
    reinterpret_cast<uint4 *>(out)[i] = *reinterpret_cast<const uint4 *>(h);
}

__global__ void __launch_bounds__(CONVERT_THREADS) f32_to_f16_kernel(const float *x, __half *out, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * CONVERT_THREADS + threadIdx.x;
    if (i < n) out[i] = __float2half_rn(x[i]);
}

unsigned blocks_for(int64_t n) { return (unsigned)((n + CONVERT_THREADS - 1) / CONVERT_THREADS); }

smoa_status dequant_rows(const smoa_cuda_matrix *W, int r0, int rows, __half *out, cudaStream_t stream,
                         smoa_error *err) {
    int n_groups = W->n_in / GROUP;
    int64_t total = (int64_t)rows * n_groups;
    const uint8_t *first = W->data + (size_t)r0 * W->row_bytes;
    bool known = dispatch_weight_type(W->type, [&](auto type) {
        dequant_f16_kernel<decltype(type)::value>
            <<<blocks_for(total), CONVERT_THREADS, 0, stream>>>(first, W->row_bytes, n_groups, total, out);
    });
    if (!known) return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "weights of type %u have no CUDA GEMM", W->type);
    return smoa_cuda_launch_check("dequant_f16_kernel", err);
}

// y[:, r0 .. r0 + rows) (+)= x W[r0 .. r0 + rows)^T. cuBLAS is column-major:
// the f16 chunk [rows][n_in] row-major is A^T with A = n_in x rows, x
// [T][n_in] is n_in x T, and y [T][n_out] is the n_out x T matrix C, so the
// chunk's block of C starts at y + r0 with leading dimension n_out.
smoa_status gemm_chunk(smoa_cuda_gemm *g, const smoa_cuda_matrix *W, int r0, int rows, int T, float *y,
                       bool accumulate, smoa_error *err) {
    const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    SMOA_CUBLAS_TRY(cublasGemmEx(g->handle, CUBLAS_OP_T, CUBLAS_OP_N, rows, T, W->n_in, &one, g->w16, CUDA_R_16F,
                                 W->n_in, g->x16, CUDA_R_16F, W->n_in, &beta, y + r0, CUDA_R_32F, W->n_out,
                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    err);
    return SMOA_OK;
}

} // namespace smoa_cuda

using namespace smoa_cuda;

smoa_status smoa_cuda_gemm_init(smoa_cuda_gemm *g, size_t w16_values, size_t x16_values, cudaStream_t stream,
                                smoa_error *err) {
    memset(g, 0, sizeof *g);
    smoa_status st = smoa_cublas_check(cublasCreate(&g->handle), "cublasCreate", err);
    if (!st) st = smoa_cublas_check(cublasSetStream(g->handle, stream), "cublasSetStream", err);
    if (!st)
        st = smoa_cuda_check(cudaMalloc(&g->workspace, CUBLAS_WORKSPACE_BYTES), "cudaMalloc (cuBLAS workspace)", err);
    if (!st)
        st = smoa_cublas_check(cublasSetWorkspace(g->handle, g->workspace, CUBLAS_WORKSPACE_BYTES),
                               "cublasSetWorkspace", err);
    if (!st) st = smoa_cuda_check(cudaMalloc(&g->w16, w16_values * sizeof(__half)), "cudaMalloc (GEMM weights)", err);
    if (!st) st = smoa_cuda_check(cudaMalloc(&g->x16, x16_values * sizeof(__half)), "cudaMalloc (GEMM input)", err);
    if (st) {
        smoa_cuda_gemm_free(g);
        return st;
    }
    g->w16_values = w16_values;
    g->x16_values = x16_values;
    return SMOA_OK;
}

void smoa_cuda_gemm_free(smoa_cuda_gemm *g) {
    if (g->handle) cublasDestroy(g->handle);
    cudaFree(g->workspace);
    cudaFree(g->w16);
    cudaFree(g->x16);
    memset(g, 0, sizeof *g);
}

smoa_status smoa_cuda_gemm_run(smoa_cuda_gemm *g, const smoa_cuda_matrix *W, const float *x, int T, float *y,
                               bool accumulate, smoa_error *err) {
    if (T <= 0) return SMOA_OK;
    size_t x_values = (size_t)T * W->n_in;
    size_t rows_that_fit = g->w16_values / (size_t)W->n_in; /* rows of W per chunk */
    int chunk_rows = rows_that_fit < (size_t)W->n_out ? (int)rows_that_fit : W->n_out;
    if (x_values > g->x16_values || chunk_rows < 1)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "GEMM of %d tokens x %d values exceeds its scratch (%zu inputs, %zu weights)", T,
                              W->n_in, g->x16_values, g->w16_values);
    cudaStream_t stream;
    SMOA_CUBLAS_TRY(cublasGetStream(g->handle, &stream), err);
    __half *x16 = reinterpret_cast<__half *>(g->x16);
    f32_to_f16_kernel<<<blocks_for((int64_t)x_values), CONVERT_THREADS, 0, stream>>>(x, x16, (int64_t)x_values);
    smoa_status st = smoa_cuda_launch_check("f32_to_f16_kernel", err);
    for (int r0 = 0; !st && r0 < W->n_out; r0 += chunk_rows) {
        int rows = W->n_out - r0 < chunk_rows ? W->n_out - r0 : chunk_rows;
        st = dequant_rows(W, r0, rows, reinterpret_cast<__half *>(g->w16), stream, err);
        if (!st) st = gemm_chunk(g, W, r0, rows, T, y, accumulate, err);
    }
    return st;
}
