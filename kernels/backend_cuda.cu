// backend_cuda.cu - the CUDA backend's lifecycle: device and stream, the
// weights uploaded once (plain cudaMalloc, one allocation), the f16 KV cache
// on the device, activation buffers, pinned staging buffers, and the page
// copy for copy-on-write. The forward pass is forward_cuda.cu.
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "backend_cuda.h"
#include "cuda_common.h"
#include "topk_gating.h"

extern "C" {
#include "engine/kv_pages.h"
#include "model/tensor_types.h"
}

using namespace smoa_cuda;

// --------------------------------------------------------------------------
// What the kernels can run

static smoa_status check_matrix(const smoa_matrix *w, const char *what, int layer, smoa_error *err) {
    if (smoa_cuda_type_supported(w->type, w->n_in)) return SMOA_OK;
    const char *type = smoa_type_name_any(w->type);
    return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "%s (layer %d): %s rows of %lld values have no CUDA kernel",
                          what, layer, type ? type : "unknown type", (long long)w->n_in);
}

static smoa_status check_model(const smoa_llama *m, smoa_error *err) {
    SMOA_TRY(check_matrix(&m->token_embd, "token_embd", -1, err));
    SMOA_TRY(check_matrix(&m->output, "output", -1, err));
    for (int il = 0; il < m->n_layer; il++) {
        const smoa_llama_layer *l = &m->layers[il];
        const smoa_matrix *all[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down};
        const char *names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) SMOA_TRY(check_matrix(all[i], names[i], il, err));
    }
    if (!smoa_cuda_attention_supported(m->n_head, m->n_head_kv, m->head_dim))
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "attention with %d heads of %d values (%d KV heads) has no CUDA kernel", m->n_head,
                              m->head_dim, m->n_head_kv);
    if (m->n_rot % 2 || m->n_rot > m->head_dim)
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "RoPE over %d of %d dims", m->n_rot, m->head_dim);
    return SMOA_OK;
}

// --------------------------------------------------------------------------
// Weights: measured in a first pass (base NULL), copied in a second.

namespace {

struct arena {
    uint8_t *base; // NULL while measuring
    size_t used;
};

size_t align256(size_t n) { return (n + 255) & ~(size_t)255; }

smoa_status arena_put(arena *a, const void *host, size_t bytes, const uint8_t **dev, smoa_error *err) {
    size_t at = a->used;
    a->used += align256(bytes);
    *dev = a->base ? a->base + at : nullptr;
    if (!a->base) return SMOA_OK;
    return smoa_cuda_check(cudaMemcpy(a->base + at, host, bytes, cudaMemcpyHostToDevice), "upload of weights", err);
}

smoa_status put_matrix(arena *a, const smoa_matrix *w, smoa_cuda_matrix *d, smoa_error *err) {
    d->type = w->type;
    d->n_in = (int)w->n_in;
    d->n_out = (int)w->n_out;
    d->row_bytes = w->row_bytes;
    return arena_put(a, w->data, w->row_bytes * (size_t)w->n_out, &d->data, err);
}

smoa_status put_norm(arena *a, const float *w, int n, const float **d, smoa_error *err) {
    const uint8_t *p;
    SMOA_TRY(arena_put(a, w, (size_t)n * sizeof(float), &p, err));
    *d = reinterpret_cast<const float *>(p);
    return SMOA_OK;
}

smoa_status put_weights(smoa_backend *be, arena *a, smoa_error *err) {
    const smoa_llama *m = be->m;
    SMOA_TRY(put_matrix(a, &m->token_embd, &be->token_embd, err));
    for (int il = 0; il < m->n_layer; il++) {
        const smoa_llama_layer *l = &m->layers[il];
        device_layer *d = &be->layers[il];
        SMOA_TRY(put_norm(a, l->attn_norm, m->n_embd, &d->attn_norm, err));
        SMOA_TRY(put_norm(a, l->ffn_norm, m->n_embd, &d->ffn_norm, err));
        SMOA_TRY(put_matrix(a, &l->wq, &d->wq, err));
        SMOA_TRY(put_matrix(a, &l->wk, &d->wk, err));
        SMOA_TRY(put_matrix(a, &l->wv, &d->wv, err));
        SMOA_TRY(put_matrix(a, &l->wo, &d->wo, err));
        SMOA_TRY(put_matrix(a, &l->w_gate, &d->w_gate, err));
        SMOA_TRY(put_matrix(a, &l->w_up, &d->w_up, err));
        SMOA_TRY(put_matrix(a, &l->w_down, &d->w_down, err));
    }
    SMOA_TRY(put_norm(a, m->output_norm, m->n_embd, &be->output_norm, err));
    if (m->output_tied) {
        be->output = be->token_embd;
        return SMOA_OK;
    }
    return put_matrix(a, &m->output, &be->output, err);
}

smoa_status upload_weights(smoa_backend *be, smoa_error *err) {
    arena a = {nullptr, 0};
    SMOA_TRY(put_weights(be, &a, err));
    size_t total = a.used;
    void *base;
    SMOA_TRY(smoa_cuda_check(cudaMalloc(&base, total), "cudaMalloc (weights)", err));
    be->weights = static_cast<uint8_t *>(base);
    a = {be->weights, 0};
    return put_weights(be, &a, err);
}

// --------------------------------------------------------------------------
// Buffers

smoa_status device_floats(float **out, size_t count, const char *what, smoa_error *err) {
    void *p = nullptr;
    smoa_status st = smoa_cuda_check(cudaMalloc(&p, count * sizeof(float)), what, err);
    *out = static_cast<float *>(p);
    return st;
}

smoa_status alloc_kv_cache(smoa_backend *be, smoa_error *err) {
    size_t bytes = (size_t)be->m->n_layer * be->n_slots * be->kv_dim * sizeof(uint16_t);
    void *k = nullptr, *v = nullptr;
    smoa_status st = smoa_cuda_check(cudaMalloc(&k, bytes), "cudaMalloc (K cache)", err);
    if (!st) st = smoa_cuda_check(cudaMalloc(&v, bytes), "cudaMalloc (V cache)", err);
    be->k_cache = static_cast<uint16_t *>(k);
    be->v_cache = static_cast<uint16_t *>(v);
    // Zeros rather than leftovers: a copied, partly filled page carries
    // finite values in the slots not yet written.
    if (!st) st = smoa_cuda_check(cudaMemset(k, 0, bytes), "cudaMemset (K cache)", err);
    if (!st) st = smoa_cuda_check(cudaMemset(v, 0, bytes), "cudaMemset (V cache)", err);
    return st;
}

smoa_status alloc_activations(smoa_backend *be, smoa_error *err) {
    const smoa_llama *m = be->m;
    size_t nb = be->cfg.n_batch, q_dim = (size_t)m->n_head * m->head_dim;
    // Enough partials for every token with one key range, and for a single
    // decode token with many.
    be->max_partials = (size_t)m->n_head * (4 * nb > 32 ? 4 * nb : 32);
    SMOA_TRY(device_floats(&be->x, nb * m->n_embd, "cudaMalloc (residual stream)", err));
    SMOA_TRY(device_floats(&be->xn, nb * m->n_embd, "cudaMalloc (normed input)", err));
    SMOA_TRY(device_floats(&be->q, nb * q_dim, "cudaMalloc (q)", err));
    SMOA_TRY(device_floats(&be->att, nb * q_dim, "cudaMalloc (attention output)", err));
    SMOA_TRY(device_floats(&be->k, nb * be->kv_dim, "cudaMalloc (k)", err));
    SMOA_TRY(device_floats(&be->v, nb * be->kv_dim, "cudaMalloc (v)", err));
    SMOA_TRY(device_floats(&be->gate, nb * m->n_ff, "cudaMalloc (ffn gate)", err));
    SMOA_TRY(device_floats(&be->up, nb * m->n_ff, "cudaMalloc (ffn up)", err));
    SMOA_TRY(device_floats(&be->logits, nb * m->n_vocab, "cudaMalloc (logits)", err));
    SMOA_TRY(device_floats(&be->part_acc, be->max_partials * m->head_dim, "cudaMalloc (attention partials)", err));
    SMOA_TRY(device_floats(&be->part_max, be->max_partials, "cudaMalloc (attention maxima)", err));
    return device_floats(&be->part_sum, be->max_partials, "cudaMalloc (attention sums)", err);
}

// The views of one step_inputs block starting at words.
step_inputs input_views(uint32_t *words, size_t n_batch) {
    step_inputs in;
    in.tokens = reinterpret_cast<int32_t *>(words);
    in.pos = reinterpret_cast<int32_t *>(words + n_batch);
    in.slot = words + 2 * n_batch;
    in.table_of_token = reinterpret_cast<int32_t *>(words + 3 * n_batch);
    in.out_rows = reinterpret_cast<int32_t *>(words + 4 * n_batch);
    in.page_tables = words + 5 * n_batch;
    return in;
}

// Inputs on both sides; the padding tokens' table (last row: its first
// page is the pad slots' page) is written once, here.
smoa_status alloc_inputs(smoa_backend *be, smoa_error *err) {
    size_t nb = be->cfg.n_batch;
    be->input_words = 5 * nb + (nb + 1) * (size_t)be->max_pages;
    size_t bytes = be->input_words * sizeof(uint32_t);
    void *dev = nullptr, *host = nullptr;
    SMOA_TRY(smoa_cuda_check(cudaMalloc(&dev, bytes), "cudaMalloc (batch inputs)", err));
    be->in_dev = input_views(static_cast<uint32_t *>(dev), nb);
    SMOA_TRY(smoa_cuda_check(cudaMallocHost(&host, bytes), "cudaMallocHost (batch inputs)", err));
    be->in_host = input_views(static_cast<uint32_t *>(host), nb);
    memset(host, 0, bytes);
    uint32_t *pad_table = be->in_host.page_tables + nb * be->max_pages;
    pad_table[0] = be->cfg.n_slots / SMOA_KV_PAGE;
    return smoa_cuda_check(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice), "upload of batch inputs", err);
}

smoa_status alloc_output_stages(smoa_backend *be, smoa_error *err) {
    void *logits = nullptr, *hidden = nullptr;
    size_t logits_bytes = (size_t)OUT_STAGE_ROWS * be->m->n_vocab * sizeof(float);
    smoa_status st = smoa_cuda_check(cudaMallocHost(&logits, logits_bytes), "cudaMallocHost (logits)", err);
    be->logits_stage = static_cast<float *>(logits);
    if (!st)
        st = smoa_cuda_check(cudaMallocHost(&hidden, (size_t)OUT_STAGE_ROWS * be->m->n_embd * sizeof(float)),
                             "cudaMallocHost (hidden states)", err);
    be->hidden_stage = static_cast<float *>(hidden);
    return st;
}

// The GEMM's scratch: the largest layer matrix (the output matrix goes in
// chunks of rows) and the widest input of a full batch.
smoa_status init_gemm(smoa_backend *be, smoa_error *err) {
    const smoa_llama *m = be->m;
    size_t most_weights = (size_t)m->n_embd, widest = (size_t)m->n_embd;
    for (int il = 0; il < m->n_layer; il++) {
        const device_layer *l = &be->layers[il];
        const smoa_cuda_matrix *all[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down};
        for (const smoa_cuda_matrix *w : all) {
            size_t values = (size_t)w->n_in * w->n_out;
            if (values > most_weights) most_weights = values;
            if ((size_t)w->n_in > widest) widest = (size_t)w->n_in;
        }
    }
    return smoa_cuda_gemm_init(&be->gemm, most_weights, widest * be->cfg.n_batch, be->stream, err);
}

smoa_status init_device(smoa_backend *be, smoa_error *err) {
    be->device = 0;
    SMOA_TRY(smoa_cuda_check(cudaSetDevice(be->device), "cudaSetDevice", err));
    SMOA_TRY(smoa_cuda_check(cudaDeviceGetAttribute(&be->n_sm, cudaDevAttrMultiProcessorCount, be->device),
                        "cudaDeviceGetAttribute", err));
    return smoa_cuda_check(cudaStreamCreateWithFlags(&be->stream, cudaStreamNonBlocking), "cudaStreamCreate", err);
}

} // namespace

// --------------------------------------------------------------------------
// Backend operations

static void cuda_destroy(smoa_backend *be) {
    if (!be) return;
    cudaSetDevice(be->device);
    if (be->stream) cudaStreamSynchronize(be->stream);
    for (cudaGraphExec_t g : be->graphs)
        if (g) cudaGraphExecDestroy(g);
    if (be->gemm.handle) smoa_cuda_gemm_free(&be->gemm);
    cudaFree(be->weights);
    cudaFree(be->k_cache);
    cudaFree(be->v_cache);
    float *buffers[] = {be->x, be->xn, be->q, be->att, be->k, be->v, be->gate, be->up, be->logits,
                        be->part_acc, be->part_max, be->part_sum};
    for (float *p : buffers) cudaFree(p);
    cudaFree(be->in_dev.tokens);
    cudaFreeHost(be->in_host.tokens);
    cudaFreeHost(be->logits_stage);
    cudaFreeHost(be->hidden_stage);
    if (be->stream) cudaStreamDestroy(be->stream);
    cudaGetLastError(); // teardown leaves no error behind for the next caller
    free(be->layers);
    free(be);
}

static smoa_status create_parts(smoa_backend *be, smoa_error *err) {
    SMOA_TRY(init_device(be, err));
    SMOA_TRY(upload_weights(be, err));
    SMOA_TRY(alloc_kv_cache(be, err));
    SMOA_TRY(alloc_activations(be, err));
    SMOA_TRY(alloc_inputs(be, err));
    SMOA_TRY(alloc_output_stages(be, err));
    if (be->cfg.n_batch > (uint32_t)MATVEC_MAX_TOKENS) SMOA_TRY(init_gemm(be, err));
    return smoa_cuda_check(cudaDeviceSynchronize(), "backend setup", err);
}

static smoa_status cuda_create(const smoa_llama *m, const smoa_backend_config *cfg, smoa_backend **out,
                               smoa_error *err) {
    *out = nullptr;
    SMOA_TRY(check_model(m, err));
    if (cfg->n_batch == 0 || cfg->n_ctx == 0 || cfg->n_slots % SMOA_KV_PAGE)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "CUDA backend: n_batch %u, n_ctx %u, %u cache slots",
                              cfg->n_batch, cfg->n_ctx, cfg->n_slots);
    smoa_backend *be = static_cast<smoa_backend *>(calloc(1, sizeof *be));
    device_layer *layers = static_cast<device_layer *>(calloc((size_t)m->n_layer, sizeof *layers));
    if (!be || !layers) {
        free(be);
        free(layers);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    be->m = m;
    be->cfg = *cfg;
    be->layers = layers;
    be->kv_dim = smoa_llama_kv_dim(m);
    be->max_pages = (int)((cfg->n_ctx + SMOA_KV_PAGE - 1) / SMOA_KV_PAGE);
    be->n_slots = cfg->n_slots + PAD_SLOTS;
    smoa_status st = create_parts(be, err);
    if (st) {
        cuda_destroy(be);
        return st;
    }
    *out = be;
    return SMOA_OK;
}

// K and V of one page, every layer: one strided copy each (a layer's cache
// is n_slots * kv_dim values after the previous one's).
static void cuda_copy_page(void *backend, uint32_t dst_page, uint32_t src_page) {
    smoa_backend *be = static_cast<smoa_backend *>(backend);
    size_t page_bytes = SMOA_KV_PAGE * be->kv_dim * sizeof(uint16_t);
    size_t layer_bytes = (size_t)be->n_slots * be->kv_dim * sizeof(uint16_t);
    uint16_t *caches[] = {be->k_cache, be->v_cache};
    uint32_t n_pages = be->cfg.n_slots / SMOA_KV_PAGE; // the session's pages, not the pad slots
    if (dst_page >= n_pages || src_page >= n_pages) {
        if (be->deferred.status == SMOA_OK)
            smoa_error_set(&be->deferred, SMOA_ERR_INVALID_ARGUMENT, "KV page copy %u -> %u: the cache has %u pages",
                           src_page, dst_page, n_pages);
        return;
    }
    cudaError_t e = cudaSetDevice(be->device);
    for (uint16_t *cache : caches) {
        uint8_t *base = reinterpret_cast<uint8_t *>(cache);
        if (e == cudaSuccess)
            e = cudaMemcpy2DAsync(base + dst_page * page_bytes, layer_bytes, base + src_page * page_bytes, layer_bytes,
                                  page_bytes, (size_t)be->m->n_layer, cudaMemcpyDeviceToDevice, be->stream);
    }
    if (e != cudaSuccess && be->deferred.status == SMOA_OK) smoa_cuda_check(e, "KV page copy", &be->deferred);
}

static smoa_status cuda_forward(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden,
                                smoa_error *err) {
    if (be->deferred.status != SMOA_OK) {
        smoa_status st = smoa_error_set(err, be->deferred.status, "%s", be->deferred.message);
        smoa_error_clear(&be->deferred);
        return st;
    }
    return smoa_cuda_backend_forward(be, b, logits, hidden, err);
}

// Gating of a handful of host scores: a round trip through scratch device
// buffers on the backend's stream.
static smoa_status cuda_topk_gating(smoa_backend *be, const float *scores, int rows, int n, int k, int32_t *idx,
                                    float *weights, smoa_error *err) {
    size_t in_bytes = (size_t)rows * n * sizeof(float), out = (size_t)rows * k;
    float *d_scores = nullptr, *d_weights = nullptr;
    int32_t *d_idx = nullptr;
    // The shape first: a bad k or rows would otherwise size the buffers.
    smoa_status st = smoa_cuda_topk_gating_check(rows, n, k, err);
    if (st == SMOA_OK) st = smoa_cuda_check(cudaSetDevice(be->device), "cudaSetDevice", err);
    if (st == SMOA_OK) st = smoa_cuda_check(cudaMalloc(&d_scores, in_bytes), "cudaMalloc (gating scores)", err);
    if (st == SMOA_OK) st = smoa_cuda_check(cudaMalloc(&d_idx, out * sizeof(int32_t)), "cudaMalloc (gating idx)", err);
    if (st == SMOA_OK) st = smoa_cuda_check(cudaMalloc(&d_weights, out * sizeof(float)), "cudaMalloc (gating weights)", err);
    if (st == SMOA_OK)
        st = smoa_cuda_check(cudaMemcpyAsync(d_scores, scores, in_bytes, cudaMemcpyHostToDevice, be->stream),
                             "gating scores upload", err);
    if (st == SMOA_OK) st = smoa_cuda_topk_gating(d_scores, rows, n, k, d_idx, d_weights, be->stream, err);
    if (st == SMOA_OK)
        st = smoa_cuda_check(cudaMemcpyAsync(idx, d_idx, out * sizeof(int32_t), cudaMemcpyDeviceToHost, be->stream),
                             "gating idx download", err);
    if (st == SMOA_OK)
        st = smoa_cuda_check(cudaMemcpyAsync(weights, d_weights, out * sizeof(float), cudaMemcpyDeviceToHost,
                                             be->stream),
                             "gating weights download", err);
    if (st == SMOA_OK) st = smoa_cuda_check(cudaStreamSynchronize(be->stream), "gating", err);
    cudaFree(d_scores);
    cudaFree(d_idx);
    cudaFree(d_weights);
    return st;
}

extern "C" const smoa_backend_ops smoa_backend_cuda = {"cuda",          cuda_create,    cuda_destroy, cuda_forward,
                                                       cuda_copy_page, cuda_topk_gating};
