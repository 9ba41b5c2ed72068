// forward_cuda.cu - the CUDA backend's forward pass: checks and stages a
// batch, enqueues the llama layers on the backend's stream (or replays the
// CUDA graph of the batch's size bucket), and copies the outputs back.
//
// Graphs: a graph is captured the first time a bucket size (1, 2, 4, ... 64
// tokens) is needed and replayed after. Every kernel in it reads its
// per-step inputs (tokens, positions, slots, page tables, output rows) from
// fixed device buffers, so a replay needs only the async copy of the new
// inputs. A batch smaller than its bucket is padded with tokens that write
// their K/V to the cache's pad slots (past the session's slots) and attend
// only there; their outputs are computed and never read. The graph's
// attention split is planned for n_ctx keys, the most any token can have.
#include <string.h>

#include "attention.h"
#include "backend_cuda.h"
#include "cuda_common.h"
#include "embed.h"
#include "matvec_quant.h"
#include "rmsnorm.h"
#include "rope_kv.h"
#include "swiglu.h"

extern "C" {
#include "engine/kv_pages.h"
}

using namespace smoa_cuda;

namespace {

struct attention_plan {
    int n_splits, split_keys;
};

attention_plan plan_attention(const smoa_backend *be, int T, int max_keys) {
    attention_plan p;
    smoa_cuda_attention_plan(T, max_keys, be->m->n_head, be->m->n_head_kv, be->n_sm, be->max_partials, &p.n_splits,
                             &p.split_keys);
    return p;
}

// --------------------------------------------------------------------------
// Inputs

smoa_status check_batch(const smoa_backend *be, const smoa_batch *b, smoa_error *err) {
    if (b->n_tokens <= 0 || (uint32_t)b->n_tokens > be->cfg.n_batch || b->n_out < 0 || b->n_out > b->n_tokens)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "batch of %d tokens (%d outputs) exceeds n_batch %u",
                              b->n_tokens, b->n_out, be->cfg.n_batch);
    for (int i = 0; i < b->n_tokens; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= be->m->n_vocab || b->pos[i] < 0 ||
            (uint32_t)b->pos[i] >= be->cfg.n_ctx || b->kv_slot[i] >= be->cfg.n_slots || !b->kv_pages[i])
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                  "batch token %d: id %d, position %d, slot %u out of range "
                                  "(vocab %d, n_ctx %u, %u slots)",
                                  i, b->tokens[i], b->pos[i], b->kv_slot[i], be->m->n_vocab, be->cfg.n_ctx,
                                  be->cfg.n_slots);
    }
    for (int r = 0; r < b->n_out; r++)
        if (b->out_rows[r] < 0 || b->out_rows[r] >= b->n_tokens)
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "output row %d is not a batch row", b->out_rows[r]);
    return SMOA_OK;
}

// Fills the pinned inputs for n_run >= n_tokens tokens (the rest padding).
// Consecutive tokens with the same page table share one table row, of which
// only the pages of positions up to the last such token are copied.
smoa_status stage_inputs(smoa_backend *be, const smoa_batch *b, int n_run, int *n_tables, int *max_pos,
                         smoa_error *err) {
    const step_inputs *h = &be->in_host;
    uint32_t n_pages = be->cfg.n_slots / SMOA_KV_PAGE, filled = 0;
    int table = -1;
    *max_pos = 0;
    for (int i = 0; i < b->n_tokens; i++) {
        if (i == 0 || b->kv_pages[i] != b->kv_pages[i - 1]) {
            table++;
            filled = 0;
        }
        uint32_t *row = h->page_tables + (size_t)table * be->max_pages;
        for (uint32_t need = (uint32_t)b->pos[i] / SMOA_KV_PAGE + 1; filled < need; filled++) {
            row[filled] = b->kv_pages[i][filled];
            if (row[filled] >= n_pages)
                return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                      "batch token %d: page %u is not in the cache (%u pages)", i, row[filled],
                                      n_pages);
        }
        h->tokens[i] = b->tokens[i];
        h->pos[i] = b->pos[i];
        h->slot[i] = b->kv_slot[i];
        h->table_of_token[i] = table;
        if (b->pos[i] > *max_pos) *max_pos = b->pos[i];
    }
    for (int i = b->n_tokens; i < n_run; i++) { // padding: token 0 at position 0 of the pad page
        h->tokens[i] = 0;
        h->pos[i] = 0;
        h->slot[i] = be->cfg.n_slots + (uint32_t)(i - b->n_tokens);
        h->table_of_token[i] = (int32_t)be->cfg.n_batch; // the pad table row
    }
    for (int r = 0; r < n_run; r++) h->out_rows[r] = r < b->n_out ? b->out_rows[r] : 0;
    *n_tables = table + 1;
    return SMOA_OK;
}

smoa_status upload_inputs(smoa_backend *be, int n_tables, smoa_error *err) {
    size_t per_token_bytes = 5 * (size_t)be->cfg.n_batch * sizeof(uint32_t);
    SMOA_TRY(smoa_cuda_check(cudaMemcpyAsync(be->in_dev.tokens, be->in_host.tokens, per_token_bytes,
                                        cudaMemcpyHostToDevice, be->stream),
                        "upload of batch inputs", err));
    size_t table_bytes = (size_t)n_tables * be->max_pages * sizeof(uint32_t);
    return smoa_cuda_check(cudaMemcpyAsync(be->in_dev.page_tables, be->in_host.page_tables, table_bytes,
                                           cudaMemcpyHostToDevice, be->stream),
                           "upload of page tables", err);
}

// --------------------------------------------------------------------------
// The layers, enqueued on the stream for T tokens

smoa_status linear(smoa_backend *be, const smoa_cuda_matrix *W, const float *x, int T, float *y, bool accumulate,
                   smoa_error *err) {
    if (T <= MATVEC_MAX_TOKENS) return smoa_cuda_matvec(W, x, T, y, accumulate, be->stream, err);
    return smoa_cuda_gemm_run(&be->gemm, W, x, T, y, accumulate, err);
}

// q, k, v (in be->q, k, v) -> K/V into the layer's cache, attention into att.
smoa_status attention_block(smoa_backend *be, int il, int T, const attention_plan *plan, smoa_error *err) {
    const smoa_llama *m = be->m;
    size_t layer = (size_t)il * be->n_slots * be->kv_dim;
    smoa_cuda_rope_kv_args r = {be->q,     be->k,     be->v,        be->in_dev.pos, be->in_dev.slot,
                                be->k_cache + layer, be->v_cache + layer, T, m->n_head, m->n_head_kv,
                                m->head_dim, m->n_rot, m->rope_base};
    SMOA_TRY(smoa_cuda_rope_kv(&r, be->stream, err));
    smoa_cuda_attention_args a = {be->q,
                                  be->k_cache + layer,
                                  be->v_cache + layer,
                                  be->in_dev.pos,
                                  be->in_dev.table_of_token,
                                  be->in_dev.page_tables,
                                  be->max_pages,
                                  be->att,
                                  be->part_acc,
                                  be->part_max,
                                  be->part_sum,
                                  T,
                                  m->n_head,
                                  m->n_head_kv,
                                  m->head_dim,
                                  plan->n_splits,
                                  plan->split_keys};
    return smoa_cuda_attention(&a, be->stream, err);
}

smoa_status encode_layer(smoa_backend *be, int il, int T, const attention_plan *plan, smoa_error *err) {
    const smoa_llama *m = be->m;
    const device_layer *l = &be->layers[il];
    SMOA_TRY(smoa_cuda_rmsnorm(be->x, nullptr, l->attn_norm, be->xn, T, m->n_embd, m->norm_eps, be->stream, err));
    SMOA_TRY(linear(be, &l->wq, be->xn, T, be->q, false, err));
    SMOA_TRY(linear(be, &l->wk, be->xn, T, be->k, false, err));
    SMOA_TRY(linear(be, &l->wv, be->xn, T, be->v, false, err));
    SMOA_TRY(attention_block(be, il, T, plan, err));
    SMOA_TRY(linear(be, &l->wo, be->att, T, be->x, true, err)); // residual add folded in
    SMOA_TRY(smoa_cuda_rmsnorm(be->x, nullptr, l->ffn_norm, be->xn, T, m->n_embd, m->norm_eps, be->stream, err));
    SMOA_TRY(linear(be, &l->w_gate, be->xn, T, be->gate, false, err));
    SMOA_TRY(linear(be, &l->w_up, be->xn, T, be->up, false, err));
    SMOA_TRY(smoa_cuda_swiglu(be->gate, be->up, (int64_t)T * m->n_ff, be->stream, err));
    return linear(be, &l->w_down, be->gate, T, be->x, true, err);
}

// The whole pass; outputs for the first n_out entries of out_rows: final
// norm into xn (compacted, the hidden states), then logits.
smoa_status encode_forward(smoa_backend *be, int T, int n_out, const attention_plan *plan, smoa_error *err) {
    const smoa_llama *m = be->m;
    SMOA_TRY(smoa_cuda_embed(&be->token_embd, be->in_dev.tokens, T, be->x, be->stream, err));
    for (int il = 0; il < m->n_layer; il++) SMOA_TRY(encode_layer(be, il, T, plan, err));
    if (n_out == 0) return SMOA_OK;
    SMOA_TRY(smoa_cuda_rmsnorm(be->x, be->in_dev.out_rows, be->output_norm, be->xn, n_out, m->n_embd, m->norm_eps,
                          be->stream, err));
    return linear(be, &be->output, be->xn, n_out, be->logits, false, err);
}

// --------------------------------------------------------------------------
// Graphs

// The smallest bucket that holds n_tokens within n_batch; -1 for none.
int graph_bucket(const smoa_backend *be, int n_tokens) {
    for (int i = 0; i < N_GRAPH_BUCKETS; i++)
        if (GRAPH_BUCKETS[i] >= n_tokens && (uint32_t)GRAPH_BUCKETS[i] <= be->cfg.n_batch) return i;
    return -1;
}

smoa_status capture_graph(smoa_backend *be, int bucket, smoa_error *err) {
    int B = GRAPH_BUCKETS[bucket];
    attention_plan plan = plan_attention(be, B, (int)be->cfg.n_ctx);
    // Relaxed: a library call that sets itself up lazily on first use (a
    // cuBLAS kernel choice, say) may do so inside the capture.
    SMOA_TRY(smoa_cuda_check(cudaStreamBeginCapture(be->stream, cudaStreamCaptureModeRelaxed), "cudaStreamBeginCapture",
                        err));
    smoa_status st = encode_forward(be, B, B, &plan, err);
    cudaGraph_t graph = nullptr;
    cudaError_t ended = cudaStreamEndCapture(be->stream, &graph); // always ends the capture
    if (!st) st = smoa_cuda_check(ended, "cudaStreamEndCapture", err);
    if (!st) st = smoa_cuda_check(cudaGraphInstantiate(&be->graphs[bucket], graph, 0), "cudaGraphInstantiate", err);
    if (st) be->graphs[bucket] = nullptr; // never launch (or destroy) what a failed instantiation left there
    if (graph) cudaGraphDestroy(graph);
    return st;
}

// --------------------------------------------------------------------------
// Outputs: through the pinned stages, OUT_STAGE_ROWS rows at a time.

smoa_status read_outputs(smoa_backend *be, int n_out, float *logits, float *hidden, smoa_error *err) {
    size_t n_vocab = (size_t)be->m->n_vocab, n_embd = (size_t)be->m->n_embd;
    for (int r0 = 0; r0 < n_out; r0 += OUT_STAGE_ROWS) {
        size_t rows = (size_t)(n_out - r0 < OUT_STAGE_ROWS ? n_out - r0 : OUT_STAGE_ROWS);
        if (logits)
            SMOA_TRY(smoa_cuda_check(cudaMemcpyAsync(be->logits_stage, be->logits + r0 * n_vocab,
                                                rows * n_vocab * sizeof(float), cudaMemcpyDeviceToHost, be->stream),
                                "download of logits", err));
        if (hidden)
            SMOA_TRY(smoa_cuda_check(cudaMemcpyAsync(be->hidden_stage, be->xn + r0 * n_embd, rows * n_embd * sizeof(float),
                                                cudaMemcpyDeviceToHost, be->stream),
                                "download of hidden states", err));
        SMOA_TRY(smoa_cuda_check(cudaStreamSynchronize(be->stream), "forward pass", err));
        if (logits) memcpy(logits + r0 * n_vocab, be->logits_stage, rows * n_vocab * sizeof(float));
        if (hidden) memcpy(hidden + r0 * n_embd, be->hidden_stage, rows * n_embd * sizeof(float));
    }
    // Also when there are no outputs: the pinned inputs are rewritten by the
    // next call, so this one's copies must be done.
    return smoa_cuda_check(cudaStreamSynchronize(be->stream), "forward pass", err);
}

// One batch, inputs checked.
smoa_status run_batch(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden, smoa_error *err) {
    int bucket = graph_bucket(be, b->n_tokens);
    int n_run = bucket >= 0 ? GRAPH_BUCKETS[bucket] : b->n_tokens, n_tables, max_pos;
    SMOA_TRY(stage_inputs(be, b, n_run, &n_tables, &max_pos, err));
    SMOA_TRY(upload_inputs(be, n_tables, err));
    if (bucket >= 0) {
        if (!be->graphs[bucket]) SMOA_TRY(capture_graph(be, bucket, err));
        SMOA_TRY(smoa_cuda_check(cudaGraphLaunch(be->graphs[bucket], be->stream), "cudaGraphLaunch", err));
    } else {
        attention_plan plan = plan_attention(be, n_run, max_pos + 1);
        SMOA_TRY(encode_forward(be, n_run, b->n_out, &plan, err));
    }
    return read_outputs(be, b->n_out, logits, hidden, err);
}

} // namespace

smoa_status smoa_cuda_backend_forward(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden,
                                      smoa_error *err) {
    SMOA_TRY(check_batch(be, b, err));
    SMOA_TRY(smoa_cuda_check(cudaSetDevice(be->device), "cudaSetDevice", err));
    smoa_status st = run_batch(be, b, logits, hidden, err);
    // After a failure, copies from the pinned inputs may still be queued:
    // let them finish before the next call rewrites those buffers.
    if (st) cudaStreamSynchronize(be->stream);
    return st;
}
