// backend_cuda.h - the CUDA backend's state, shared by its lifecycle
// (backend_cuda.cu: device, weights, KV cache, buffers) and its forward pass
// (forward_cuda.cu: batch staging, kernels, graphs, outputs). Internal to
// the kernels folder; C++ only.
#ifndef SMOA_KERNELS_BACKEND_CUDA_H
#define SMOA_KERNELS_BACKEND_CUDA_H

#include <cuda_runtime.h>

#include "cuda_matrix.h"
#include "gemm.h"

extern "C" {
#include "engine/backend.h"
}

namespace smoa_cuda {

// Decode steps (and small prefills) run as a CUDA graph captured once per
// bucket, the batch padded up to the bucket size.
constexpr int GRAPH_BUCKETS[] = {1, 2, 4, 8, 16, 32, 64};
constexpr int N_GRAPH_BUCKETS = sizeof GRAPH_BUCKETS / sizeof GRAPH_BUCKETS[0];
constexpr int MAX_GRAPH_TOKENS = 64;
// Padding tokens write their K/V here, past the session's slots, so they
// never touch a real sequence's cache (one slot each).
constexpr int PAD_SLOTS = MAX_GRAPH_TOKENS;
// Up to this many tokens a matrix product is a mat-vec (weights read once
// per 8 tokens); above, dequantize + cuBLAS GEMM.
constexpr int MATVEC_MAX_TOKENS = 32;
// Output rows copied back per round trip through pinned memory.
constexpr int OUT_STAGE_ROWS = 64;

struct device_layer {
    const float *attn_norm, *ffn_norm; // [n_embd]
    smoa_cuda_matrix wq, wk, wv, wo, w_gate, w_up, w_down;
};

// A forward pass's inputs: views into one allocation, the same layout on
// the device (read by the kernels and graphs) and in pinned host memory
// (filled per call, then copied in two async copies: the per-token arrays,
// then the used page-table rows).
struct step_inputs {
    int32_t *tokens;         // [n_batch]
    int32_t *pos;            // [n_batch]
    uint32_t *slot;          // [n_batch] cache slot of each token's K/V
    int32_t *table_of_token; // [n_batch] row of page_tables
    int32_t *out_rows;       // [n_batch] batch rows that need outputs
    uint32_t *page_tables;   // [n_batch + 1][max_pages]; the last row is the
                             // padding tokens' table (page of the pad slots)
};

} // namespace smoa_cuda

struct smoa_backend {
    const smoa_llama *m;
    smoa_backend_config cfg;
    int device, n_sm;
    cudaStream_t stream;
    size_t kv_dim;              // n_head_kv * head_dim
    int max_pages;              // page-table entries per sequence: ceil(n_ctx / 16)

    // weights, uploaded once
    uint8_t *weights;           // one allocation holding everything below
    smoa_cuda::device_layer *layers; // [n_layer] (host array of device views)
    smoa_cuda_matrix token_embd, output;
    const float *output_norm;   // [n_embd]

    // KV cache: the session's n_slots plus PAD_SLOTS
    uint32_t n_slots;
    uint16_t *k_cache, *v_cache; // [n_layer][n_slots][kv_dim] f16

    // activations
    float *x;                   // [n_batch][n_embd] residual stream
    float *xn;                  // [n_batch][n_embd] normed input; output rows' hidden
    float *q, *att;             // [n_batch][n_head * head_dim]
    float *k, *v;               // [n_batch][kv_dim]
    float *gate, *up;           // [n_batch][n_ff]
    float *logits;              // [n_batch][n_vocab]
    size_t max_partials;        // attention partial rows
    float *part_acc;            // [max_partials][head_dim]
    float *part_max, *part_sum; // [max_partials]
    smoa_cuda_gemm gemm;        // only when n_batch > MATVEC_MAX_TOKENS

    // inputs and outputs
    size_t input_words;         // 32-bit words of one step_inputs block
    smoa_cuda::step_inputs in_dev, in_host; // in_host is pinned
    float *logits_stage;        // [OUT_STAGE_ROWS][n_vocab] pinned
    float *hidden_stage;        // [OUT_STAGE_ROWS][n_embd] pinned

    cudaGraphExec_t graphs[smoa_cuda::N_GRAPH_BUCKETS]; // captured on first use

    // copy_page cannot return a status: its first failure is kept here and
    // returned by the next forward.
    smoa_error deferred;
};

// forward_cuda.cu
smoa_status smoa_cuda_backend_forward(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden,
                                      smoa_error *err);

#endif
