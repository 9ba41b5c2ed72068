/* backend_cpu.c - the CPU backend: the llama forward pass over a batch of
 * tokens from many sequences, weights read in place from the mapped file,
 * K/V cached as f16 per slot.
 *
 * The whole pass is one run of the thread pool: every thread walks the same
 * list of kernels, each doing its share, with barriers between dependent
 * kernels (no thread start-up per operation: a decode step of SmolLM2 runs
 * ~400 kernels). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/threadpool.h"
#include "engine/backend.h"
#include "engine/cpu/ops.h"
#include "engine/cpu/quant_dot.h"
#include "engine/cpu/vec_f16.h"
#include "engine/kv_pages.h"
#include "engine/topk.h"
#include "model/tensor_types.h"

struct smoa_backend {
    const smoa_llama *m;
    smoa_backend_config cfg;
    size_t kv_dim;          /* n_head_kv * head_dim                         */
    uint16_t *k_cache;      /* [n_layer][n_slots][kv_dim] f16               */
    uint16_t *v_cache;      /* [n_layer][n_slots][kv_dim] f16               */
    float *x;               /* [n_batch][n_embd] residual stream            */
    float *xn;              /* [n_batch][max(n_embd, q_dim)] normed input   */
    float *q;               /* [n_batch][n_head * head_dim]                 */
    float *k, *v;           /* [n_batch][kv_dim]                            */
    float *att;             /* [n_batch][n_head * head_dim]                 */
    float *gate, *up;       /* [n_batch][n_ff]                              */
    float *scores;          /* [n_threads][n_ctx]                           */
    uint8_t *act;           /* [n_batch] quantized rows of the widest input */
    size_t act_row_bytes;   /* bytes of one row of act (widest input)       */
    smoa_pool *pool;
    smoa_vec_dot_fn dot_f16;  /* q . k over the f16 cache, looked up once   */
};

/* Between dependent kernels; `be` is in scope wherever this is used. */
#define BARRIER() smoa_pool_barrier(be->pool)

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */

static bool matrix_supported(const smoa_matrix *w) { return smoa_vec_dot_get(w->type) != NULL; }

static smoa_status check_types(const smoa_llama *m, smoa_error *err) {
    for (int il = 0; il < m->n_layer; il++) {
        const smoa_llama_layer *l = &m->layers[il];
        const smoa_matrix *all[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (!matrix_supported(all[i]))
                return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                                      "layer %d: weights of type %s have no CPU kernel", il,
                                      smoa_type_name_any(all[i]->type));
    }
    if (!matrix_supported(&m->output))
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "output weights of type %s have no CPU kernel",
                              smoa_type_name_any(m->output.type));
    return SMOA_OK;
}

/* Largest activation row any matrix of the model needs. */
static size_t widest_act_row(const smoa_llama *m) {
    size_t widest = smoa_act_row_bytes(m->output.type, m->n_embd);
    for (int il = 0; il < m->n_layer; il++) {
        const smoa_llama_layer *l = &m->layers[il];
        const smoa_matrix *all[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            size_t b = smoa_act_row_bytes(all[i]->type, all[i]->n_in);
            if (b > widest) widest = b;
        }
    }
    return widest;
}

static void cpu_destroy(smoa_backend *be) {
    if (!be) return;
    free(be->k_cache);
    free(be->v_cache);
    free(be->x);
    free(be->xn);
    free(be->q);
    free(be->k);
    free(be->v);
    free(be->att);
    free(be->gate);
    free(be->up);
    free(be->scores);
    free(be->act);
    smoa_pool_destroy(be->pool);
    free(be);
}

static float *alloc_floats(size_t rows, size_t cols) { return malloc(rows * cols * sizeof(float)); }

static smoa_status cpu_create(const smoa_llama *m, const smoa_backend_config *cfg, smoa_backend **out,
                              smoa_error *err) {
    *out = NULL;
    smoa_status st = check_types(m, err);
    if (st) return st;
    smoa_backend *be = calloc(1, sizeof *be);
    if (!be) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    be->m = m;
    be->cfg = *cfg;
    be->dot_f16 = smoa_vec_dot_get(SMOA_TYPE_F16);
    be->kv_dim = smoa_llama_kv_dim(m);
    size_t nb = cfg->n_batch, q_dim = (size_t)m->n_head * m->head_dim;
    size_t cache_values = (size_t)m->n_layer * cfg->n_slots * be->kv_dim;
    size_t xn_cols = q_dim > (size_t)m->n_embd ? q_dim : (size_t)m->n_embd;
    be->k_cache = malloc(cache_values * sizeof(uint16_t));
    be->v_cache = malloc(cache_values * sizeof(uint16_t));
    be->x = alloc_floats(nb, m->n_embd);
    be->xn = alloc_floats(nb, xn_cols);
    be->q = alloc_floats(nb, q_dim);
    be->k = alloc_floats(nb, be->kv_dim);
    be->v = alloc_floats(nb, be->kv_dim);
    be->att = alloc_floats(nb, q_dim);
    be->gate = alloc_floats(nb, m->n_ff);
    be->up = alloc_floats(nb, m->n_ff);
    be->scores = alloc_floats(cfg->n_threads, cfg->n_ctx);
    be->act_row_bytes = widest_act_row(m);
    be->act = malloc(nb * be->act_row_bytes);
    if ((st = smoa_pool_create(cfg->n_threads, &be->pool, err))) {
        cpu_destroy(be);
        return st;
    }
    if (!be->k_cache || !be->v_cache || !be->x || !be->xn || !be->q || !be->k || !be->v || !be->att ||
        !be->gate || !be->up || !be->scores || !be->act) {
        cpu_destroy(be);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY,
                              "out of memory for the CPU backend (KV cache of %u tokens: %zu MB)",
                              cfg->n_slots, 2 * cache_values * sizeof(uint16_t) >> 20);
    }
    *out = be;
    return SMOA_OK;
}

static void cpu_copy_page(void *backend, uint32_t dst_page, uint32_t src_page) {
    smoa_backend *be = backend;
    size_t page_values = SMOA_KV_PAGE * be->kv_dim;
    for (int il = 0; il < be->m->n_layer; il++) {
        size_t layer = (size_t)il * be->cfg.n_slots * be->kv_dim;
        memcpy(be->k_cache + layer + dst_page * page_values, be->k_cache + layer + src_page * page_values,
               page_values * sizeof(uint16_t));
        memcpy(be->v_cache + layer + dst_page * page_values, be->v_cache + layer + src_page * page_values,
               page_values * sizeof(uint16_t));
    }
}

/* ------------------------------------------------------------------------ */
/* Attention                                                                */

/* Writes the batch's K and V (K already rotated) into their cache slots. */
static void store_kv(smoa_backend *be, int il, const smoa_batch *b, int ith, int nth) {
    size_t layer = (size_t)il * be->cfg.n_slots * be->kv_dim;
    int64_t t0, t1;
    smoa_split(b->n_tokens, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        size_t slot = layer + (size_t)b->kv_slot[t] * be->kv_dim;
        smoa_store_f16((int)be->kv_dim, be->k + t * be->kv_dim, be->k_cache + slot);
        smoa_store_f16((int)be->kv_dim, be->v + t * be->kv_dim, be->v_cache + slot);
    }
}

/* Causal attention of one query head over positions 0..pos of its sequence.
 * q: [head_dim]; out: [head_dim]; scores: [pos + 1] scratch. */
static void attend_head(const smoa_backend *be, int il, const float *q, const uint32_t *pages, int pos,
                        int kv_head, float *scores, float *out) {
    const smoa_llama *m = be->m;
    size_t layer = (size_t)il * be->cfg.n_slots * be->kv_dim, head_off = (size_t)kv_head * m->head_dim;
    float scale = 1.0f / sqrtf((float)m->head_dim), max_score = -INFINITY;
    for (int p = 0; p <= pos; p++) {
        size_t slot = (size_t)pages[p / SMOA_KV_PAGE] * SMOA_KV_PAGE + p % SMOA_KV_PAGE;
        scores[p] = be->dot_f16(m->head_dim, be->k_cache + layer + slot * be->kv_dim + head_off, q) * scale;
        if (scores[p] > max_score) max_score = scores[p];
    }
    float sum = 0;
    for (int p = 0; p <= pos; p++) sum += scores[p] = expf(scores[p] - max_score);
    memset(out, 0, (size_t)m->head_dim * sizeof *out);
    for (int p = 0; p <= pos; p++) {
        size_t slot = (size_t)pages[p / SMOA_KV_PAGE] * SMOA_KV_PAGE + p % SMOA_KV_PAGE;
        smoa_axpy_f16(m->head_dim, scores[p] / sum, be->v_cache + layer + slot * be->kv_dim + head_off, out);
    }
}

static void attention(smoa_backend *be, int il, const smoa_batch *b, int ith, int nth) {
    const smoa_llama *m = be->m;
    int group = m->n_head / m->n_head_kv; /* query heads per KV head (GQA) */
    float *scores = be->scores + (size_t)ith * be->cfg.n_ctx;
    int64_t i0, i1;
    smoa_split((int64_t)b->n_tokens * m->n_head, ith, nth, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) {
        int t = (int)(i / m->n_head), h = (int)(i % m->n_head);
        size_t off = ((size_t)t * m->n_head + h) * m->head_dim;
        attend_head(be, il, be->q + off, b->kv_pages[t], b->pos[t], h / group, scores, be->att + off);
    }
}

/* ------------------------------------------------------------------------ */
/* Forward pass                                                             */

/* y (+)= W x for T rows of x ([T][W->n_in]), quantizing x first. */
static void linear(smoa_backend *be, const smoa_matrix *W, const float *x, int T, float *y, int accumulate,
                   int ith, int nth) {
    size_t row_bytes = smoa_act_row_bytes(W->type, W->n_in);
    smoa_op_quantize(W->type, x, T, W->n_in, be->act, row_bytes, ith, nth);
    BARRIER();
    smoa_op_matmul(W, be->act, row_bytes, T, y, accumulate, ith, nth);
}

/* q, k, v from one quantization of xn when their types agree. */
static void qkv(smoa_backend *be, const smoa_llama_layer *l, int T, int ith, int nth) {
    size_t row_bytes = smoa_act_row_bytes(l->wq.type, l->wq.n_in);
    smoa_op_quantize(l->wq.type, be->xn, T, l->wq.n_in, be->act, row_bytes, ith, nth);
    BARRIER();
    smoa_op_matmul(&l->wq, be->act, row_bytes, T, be->q, 0, ith, nth);
    if (l->wk.type == l->wq.type && l->wv.type == l->wq.type) {
        smoa_op_matmul(&l->wk, be->act, row_bytes, T, be->k, 0, ith, nth);
        smoa_op_matmul(&l->wv, be->act, row_bytes, T, be->v, 0, ith, nth);
        return;
    }
    BARRIER(); /* act is about to be overwritten */
    linear(be, &l->wk, be->xn, T, be->k, 0, ith, nth);
    BARRIER();
    linear(be, &l->wv, be->xn, T, be->v, 0, ith, nth);
}

static void layer_forward(smoa_backend *be, int il, const smoa_batch *b, int ith, int nth) {
    const smoa_llama *m = be->m;
    const smoa_llama_layer *l = &m->layers[il];
    int T = b->n_tokens;
    smoa_op_rmsnorm(be->x, l->attn_norm, be->xn, T, m->n_embd, m->norm_eps, ith, nth);
    BARRIER();
    qkv(be, l, T, ith, nth);
    BARRIER();
    smoa_op_rope(be->q, b->pos, T, m->n_head, m->head_dim, m->n_rot, m->rope_base, ith, nth);
    smoa_op_rope(be->k, b->pos, T, m->n_head_kv, m->head_dim, m->n_rot, m->rope_base, ith, nth);
    BARRIER();
    store_kv(be, il, b, ith, nth);
    BARRIER();
    attention(be, il, b, ith, nth);
    BARRIER();
    linear(be, &l->wo, be->att, T, be->x, 1, ith, nth); /* residual add folded in */
    BARRIER();
    smoa_op_rmsnorm(be->x, l->ffn_norm, be->xn, T, m->n_embd, m->norm_eps, ith, nth);
    BARRIER();
    size_t row_bytes = smoa_act_row_bytes(l->w_gate.type, l->w_gate.n_in);
    smoa_op_quantize(l->w_gate.type, be->xn, T, m->n_embd, be->act, row_bytes, ith, nth);
    BARRIER();
    smoa_op_matmul(&l->w_gate, be->act, row_bytes, T, be->gate, 0, ith, nth);
    if (l->w_up.type == l->w_gate.type) {
        smoa_op_matmul(&l->w_up, be->act, row_bytes, T, be->up, 0, ith, nth);
    } else {
        BARRIER();
        linear(be, &l->w_up, be->xn, T, be->up, 0, ith, nth);
    }
    BARRIER();
    smoa_op_swiglu(be->gate, be->up, (int64_t)T * m->n_ff, ith, nth);
    BARRIER();
    linear(be, &l->w_down, be->gate, T, be->x, 1, ith, nth);
    BARRIER();
}

/* Output rows: final norm into xn (compacted to n_out rows), then logits. */
static void output_forward(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden, int ith,
                           int nth) {
    const smoa_llama *m = be->m;
    int64_t r0, r1;
    smoa_split(b->n_out, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        smoa_op_rmsnorm(be->x + (size_t)b->out_rows[r] * m->n_embd, m->output_norm,
                        be->xn + r * m->n_embd, 1, m->n_embd, m->norm_eps, 0, 1);
    BARRIER();
    if (hidden && ith == 0) memcpy(hidden, be->xn, (size_t)b->n_out * m->n_embd * sizeof(float));
    linear(be, &m->output, be->xn, b->n_out, logits, 0, ith, nth);
}

static void forward_thread(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden, int ith,
                           int nth) {
    smoa_op_embed(&be->m->token_embd, b->tokens, b->n_tokens, be->x, ith, nth);
    BARRIER();
    for (int il = 0; il < be->m->n_layer; il++) layer_forward(be, il, b, ith, nth);
    if (b->n_out > 0) output_forward(be, b, logits, hidden, ith, nth);
}

typedef struct forward_args {
    smoa_backend *be;
    const smoa_batch *batch;
    float *logits, *hidden;
} forward_args;

static void forward_pool_fn(void *arg, int ith, int nth) {
    forward_args *a = arg;
    forward_thread(a->be, a->batch, a->logits, a->hidden, ith, nth);
}

static smoa_status cpu_forward(smoa_backend *be, const smoa_batch *b, float *logits, float *hidden,
                               smoa_error *err) {
    if (b->n_tokens <= 0 || (uint32_t)b->n_tokens > be->cfg.n_batch || b->n_out > b->n_tokens)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "batch of %d tokens (%d outputs) exceeds n_batch %u",
                              b->n_tokens, b->n_out, be->cfg.n_batch);
    forward_args args = {be, b, logits, hidden};
    smoa_pool_run(be->pool, forward_pool_fn, &args);
    return SMOA_OK;
}

static smoa_status cpu_topk_gating(smoa_backend *be, const float *scores, int rows, int n, int k, int32_t *idx,
                                   float *weights, smoa_error *err) {
    (void)be, (void)err;
    smoa_topk_gating(scores, rows, n, k, idx, weights);
    return SMOA_OK;
}

const smoa_backend_ops smoa_backend_cpu = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .forward = cpu_forward,
    .copy_page = cpu_copy_page,
    .topk_gating = cpu_topk_gating,
};
