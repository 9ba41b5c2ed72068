/* session.c - sessions, sequences and the batch runner. */
#include "engine/session.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/context.h"
#include "core/options.h"

#define DEFAULT_MAX_CTX 4096
#define DEFAULT_SEQ_MAX 16
#define DEFAULT_BATCH 512

void smoa_session_options_init_sized(smoa_session_options *options, size_t size) {
    const smoa_session_options defaults = {.struct_size = sizeof defaults, .device = SMOA_DEVICE_AUTO};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

/* ------------------------------------------------------------------------ */
/* Options and device choice                                                */

static int cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static smoa_status resolve_options(const smoa_ctx *ctx, const smoa_llama *m, const smoa_session_options *in,
                                   smoa_session_options *o, smoa_error *err) {
    smoa_session_options_init(o);
    smoa_status st = smoa_options_read(o, sizeof *o, in, "smoa_session_options", err);
    if (st) return st;
    if (o->n_threads < 0 || o->device > SMOA_DEVICE_CUDA || o->n_seq_max > 4096 || o->n_batch > 65536)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "invalid session options (n_threads %d, device %u, n_seq_max %u, n_batch %u)",
                              o->n_threads, o->device, o->n_seq_max, o->n_batch);
    if (!o->n_ctx) o->n_ctx = m->n_ctx_train < DEFAULT_MAX_CTX ? (uint32_t)m->n_ctx_train : DEFAULT_MAX_CTX;
    if (o->n_ctx > (uint32_t)m->n_ctx_train)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "n_ctx %u exceeds the model's training context %d",
                              o->n_ctx, m->n_ctx_train);
    if (!o->n_seq_max) o->n_seq_max = DEFAULT_SEQ_MAX;
    if (!o->n_batch) o->n_batch = DEFAULT_BATCH;
    if (!o->kv_tokens) o->kv_tokens = 4 * o->n_ctx;
    if (!o->n_threads) o->n_threads = ctx->options.n_threads ? ctx->options.n_threads : cpu_count();
    return SMOA_OK;
}

/* The device: the option, unless AUTO, then $SMOA_DEVICE, then what exists
 * (*automatic: nobody asked for this one, so another may replace it). */
static smoa_status choose_backend(smoa_session *s, bool *automatic, smoa_error *err) {
    uint32_t device = s->opts.device;
    const char *env = getenv("SMOA_DEVICE");
    if (device == SMOA_DEVICE_AUTO && env && env[0]) {
        if (strcmp(env, "cpu") == 0) device = SMOA_DEVICE_CPU;
        else if (strcmp(env, "cuda") == 0) device = SMOA_DEVICE_CUDA;
        else return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "SMOA_DEVICE='%s' (use cpu or cuda)", env);
    }
    *automatic = device == SMOA_DEVICE_AUTO;
    if (*automatic) device = smoa_cuda_device_count() > 0 ? SMOA_DEVICE_CUDA : SMOA_DEVICE_CPU;
    if (device == SMOA_DEVICE_CPU) {
        s->ops = &smoa_backend_cpu;
        return SMOA_OK;
    }
#ifdef SMOA_WITH_CUDA
    if (smoa_cuda_device_count() > 0) {
        s->ops = &smoa_backend_cuda;
        return SMOA_OK;
    }
    return smoa_error_set(err, SMOA_ERR_BACKEND, "the CUDA device was asked for, but no CUDA device is usable");
#else
    return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                          "the CUDA device was asked for, but this build of libsmoa has no CUDA backend");
#endif
}

/* ------------------------------------------------------------------------ */
/* Create and destroy                                                       */

static smoa_status alloc_state(smoa_session *s, smoa_error *err) {
    const smoa_session_options *o = &s->opts;
    size_t nb = o->n_batch;
    s->seqs = calloc(o->n_seq_max, sizeof *s->seqs);
    s->logits = malloc((size_t)o->n_seq_max * s->m->n_vocab * sizeof(float));
    s->hidden = malloc((size_t)o->n_seq_max * s->m->n_embd * sizeof(float));
    s->b_tokens = malloc(nb * sizeof(int32_t));
    s->b_pos = malloc(nb * sizeof(int32_t));
    s->b_out = malloc(nb * sizeof(int32_t));
    s->b_out_seq = malloc(nb * sizeof(int32_t));
    s->b_slot = malloc(nb * sizeof(uint32_t));
    s->b_pages = malloc(nb * sizeof(uint32_t *));
    s->b_logits = malloc(nb * s->m->n_vocab * sizeof(float));
    s->b_hidden = malloc(nb * s->m->n_embd * sizeof(float));
    if (!s->seqs || !s->logits || !s->hidden || !s->b_tokens || !s->b_pos || !s->b_out || !s->b_out_seq ||
        !s->b_slot || !s->b_pages || !s->b_logits || !s->b_hidden)
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory for the session");
    for (uint32_t i = 0; i < o->n_seq_max; i++) {
        s->seqs[i].kv.pages = malloc(s->max_pages * sizeof(uint32_t));
        if (!s->seqs[i].kv.pages) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    return SMOA_OK;
}

static smoa_status session_init(smoa_ctx *ctx, smoa_session *s, const smoa_session_options *options,
                                smoa_error *err) {
    smoa_status st = resolve_options(ctx, s->m, options, &s->opts, err);
    bool automatic = false;
    if (st || (st = choose_backend(s, &automatic, err))) return st;
    s->max_pages = (s->opts.n_ctx + SMOA_KV_PAGE - 1) / SMOA_KV_PAGE;
    uint32_t n_pages = (s->opts.kv_tokens + SMOA_KV_PAGE - 1) / SMOA_KV_PAGE;
    if ((st = smoa_kv_pool_init(&s->pool, n_pages, err)) || (st = alloc_state(s, err))) return st;
    smoa_backend_config cfg = {n_pages * SMOA_KV_PAGE, s->opts.n_batch, s->opts.n_ctx, s->opts.n_threads};
    st = s->ops->create(s->m, &cfg, &s->backend, err);
    if (st == SMOA_ERR_UNSUPPORTED && automatic && s->ops != &smoa_backend_cpu) {
        /* A shape or type the GPU kernels lack: the CPU runs every model. */
        smoa_log(ctx, SMOA_LOG_WARN, "%s backend: %s; running on the CPU", s->ops->name, err->message);
        smoa_error_clear(err);
        s->ops = &smoa_backend_cpu;
        st = s->ops->create(s->m, &cfg, &s->backend, err);
    }
    return st;
}

smoa_status smoa_session_create(smoa_ctx *ctx, const smoa_model *model, const smoa_session_options *options,
                                smoa_session **out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!out || !model) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "model and out_session are required");
    *out = NULL;
    if (!model->runnable)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the model must be loaded with SMOA_LOAD_FULL to run");
    smoa_session *s = calloc(1, sizeof *s);
    if (!s) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    s->model = model;
    s->m = &model->llama;
    smoa_status st = session_init(ctx, s, options, err);
    if (st) {
        smoa_session_destroy(s);
        return st;
    }
    smoa_log(ctx, SMOA_LOG_INFO, "session on %s: n_ctx %u, %u sequences, KV budget %u tokens, %d threads",
             s->ops->name, s->opts.n_ctx, s->opts.n_seq_max, s->pool.n_pages * SMOA_KV_PAGE, s->opts.n_threads);
    *out = s;
    return SMOA_OK;
}

void smoa_session_destroy(smoa_session *s) {
    if (!s) return;
    if (s->backend) s->ops->destroy(s->backend);
    if (s->seqs)
        for (uint32_t i = 0; i < s->opts.n_seq_max; i++) free(s->seqs[i].kv.pages);
    smoa_kv_pool_free(&s->pool);
    free(s->seqs);
    free(s->logits);
    free(s->hidden);
    free(s->b_tokens);
    free(s->b_pos);
    free(s->b_out);
    free(s->b_out_seq);
    free(s->b_slot);
    free(s->b_pages);
    free(s->b_logits);
    free(s->b_hidden);
    free(s);
}

const char *smoa_session_device(const smoa_session *s) { return s ? s->ops->name : NULL; }
uint32_t smoa_session_n_ctx(const smoa_session *s) { return s ? s->opts.n_ctx : 0; }
const smoa_model *smoa_session_model(const smoa_session *s) { return s ? s->model : NULL; }

/* ------------------------------------------------------------------------ */
/* Sequences                                                                */

smoa_status smoa_session_check_seq(const smoa_session *s, int32_t seq, smoa_error *err) {
    if (seq < 0 || (uint32_t)seq >= s->opts.n_seq_max || !s->seqs[seq].alive)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sequence %d does not exist", seq);
    return SMOA_OK;
}

smoa_status smoa_session_new_seq(smoa_session *s, int32_t *out, smoa_error *err) {
    for (uint32_t i = 0; i < s->opts.n_seq_max; i++)
        if (!s->seqs[i].alive) {
            s->seqs[i].alive = true;
            s->seqs[i].has_logits = false;
            s->seqs[i].kv.n_pages = s->seqs[i].kv.length = 0;
            *out = (int32_t)i;
            return SMOA_OK;
        }
    return smoa_error_set(err, SMOA_ERR_CONTEXT_FULL, "all %u sequences are in use (n_seq_max)", s->opts.n_seq_max);
}

smoa_status smoa_seq_create(smoa_ctx *ctx, smoa_session *s, int32_t *out_seq) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!s || !out_seq) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session and out_seq are required");
    return smoa_session_new_seq(s, out_seq, err);
}

smoa_status smoa_seq_fork(smoa_ctx *ctx, smoa_session *s, int32_t src, int32_t *out_seq) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!s || !out_seq) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session and out_seq are required");
    smoa_status st = smoa_session_check_seq(s, src, err);
    if (st || (st = smoa_session_new_seq(s, out_seq, err))) return st;
    smoa_seq_state *dst = &s->seqs[*out_seq], *from = &s->seqs[src];
    smoa_kv_seq_share(&s->pool, &dst->kv, &from->kv);
    dst->has_logits = from->has_logits;
    if (from->has_logits) {
        memcpy(s->logits + (size_t)*out_seq * s->m->n_vocab, s->logits + (size_t)src * s->m->n_vocab,
               s->m->n_vocab * sizeof(float));
        memcpy(s->hidden + (size_t)*out_seq * s->m->n_embd, s->hidden + (size_t)src * s->m->n_embd,
               s->m->n_embd * sizeof(float));
    }
    return SMOA_OK;
}

void smoa_seq_free(smoa_session *s, int32_t seq) {
    if (!s || smoa_session_check_seq(s, seq, NULL) != SMOA_OK) return;
    smoa_kv_seq_release(&s->pool, &s->seqs[seq].kv);
    s->seqs[seq].alive = false;
}

void smoa_session_truncate_seq(smoa_session *s, int32_t seq, uint32_t n) {
    smoa_seq_state *q = &s->seqs[seq];
    if (n >= q->kv.length) return;
    q->has_logits = false; /* the logits were those of a dropped token */
    q->kv.length = n;
    smoa_kv_seq_trim(&s->pool, &q->kv);
}

smoa_status smoa_seq_truncate(smoa_ctx *ctx, smoa_session *s, int32_t seq, uint32_t n) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!s) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session is NULL");
    smoa_status st = smoa_session_check_seq(s, seq, err);
    if (st) return st;
    if (n > s->seqs[seq].kv.length)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "cannot truncate sequence %d of %u tokens to %u",
                              seq, s->seqs[seq].kv.length, n);
    smoa_session_truncate_seq(s, seq, n);
    return SMOA_OK;
}

uint32_t smoa_seq_length(const smoa_session *s, int32_t seq) {
    return s && smoa_session_check_seq(s, seq, NULL) == SMOA_OK ? s->seqs[seq].kv.length : 0;
}

const float *smoa_seq_logits(const smoa_session *s, int32_t seq) {
    if (!s || smoa_session_check_seq(s, seq, NULL) != SMOA_OK || !s->seqs[seq].has_logits) return NULL;
    return s->logits + (size_t)seq * s->m->n_vocab;
}

const float *smoa_seq_hidden(const smoa_session *s, int32_t seq) {
    if (!s || smoa_session_check_seq(s, seq, NULL) != SMOA_OK || !s->seqs[seq].has_logits) return NULL;
    return s->hidden + (size_t)seq * s->m->n_embd;
}

/* ------------------------------------------------------------------------ */
/* Running batches                                                          */

static smoa_status check_entries(const smoa_session *s, const smoa_seq_tokens *e, size_t n, smoa_error *err) {
    for (size_t i = 0; i < n; i++) {
        smoa_status st = smoa_session_check_seq(s, e[i].seq, err);
        if (st) return st;
        if (e[i].n == 0 || !e[i].tokens)
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "no tokens for sequence %d", e[i].seq);
        for (size_t j = 0; j < i; j++)
            if (e[j].seq == e[i].seq)
                return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sequence %d appears twice in one batch", e[i].seq);
        for (uint32_t t = 0; t < e[i].n; t++)
            if (e[i].tokens[t] < 0 || e[i].tokens[t] >= s->m->n_vocab)
                return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "token id %d is outside the vocabulary (0..%d)",
                                      e[i].tokens[t], s->m->n_vocab - 1);
        uint64_t length = (uint64_t)s->seqs[e[i].seq].kv.length + e[i].n;
        if (length > s->opts.n_ctx)
            return smoa_error_set(err, SMOA_ERR_CONTEXT_FULL,
                                  "sequence %d would hold %llu tokens, more than the context size n_ctx = %u",
                                  e[i].seq, (unsigned long long)length, s->opts.n_ctx);
    }
    return SMOA_OK;
}

static smoa_status reserve_all(smoa_session *s, const smoa_seq_tokens *e, size_t n, smoa_error *err) {
    for (size_t i = 0; i < n; i++) {
        smoa_status st = smoa_kv_seq_reserve(&s->pool, &s->seqs[e[i].seq].kv, s->max_pages, e[i].n,
                                             s->ops->copy_page, s->backend, err);
        if (st) {
            for (size_t j = 0; j < i; j++) smoa_kv_seq_trim(&s->pool, &s->seqs[e[j].seq].kv);
            return st;
        }
    }
    return SMOA_OK;
}

/* Adds token t of entry e to the batch being assembled. */
static void add_token(smoa_session *s, int *n_tokens, const smoa_seq_tokens *e, uint32_t t) {
    smoa_seq_state *q = &s->seqs[e->seq];
    uint32_t pos = q->kv.length;
    int i = (*n_tokens)++;
    s->b_tokens[i] = e->tokens[t];
    s->b_pos[i] = (int32_t)pos;
    s->b_slot[i] = smoa_kv_slot(&q->kv, pos);
    s->b_pages[i] = q->kv.pages;
    q->kv.length = pos + 1;
}

static smoa_status flush(smoa_session *s, int n_tokens, int n_out, smoa_error *err) {
    smoa_batch b = {n_tokens, s->b_tokens, s->b_pos, s->b_slot, s->b_pages, n_out, s->b_out};
    smoa_status st = s->ops->forward(s->backend, &b, s->b_logits, s->b_hidden, err);
    if (st) return st;
    for (int r = 0; r < n_out; r++) {
        int32_t seq = s->b_out_seq[r];
        memcpy(s->logits + (size_t)seq * s->m->n_vocab, s->b_logits + (size_t)r * s->m->n_vocab,
               s->m->n_vocab * sizeof(float));
        memcpy(s->hidden + (size_t)seq * s->m->n_embd, s->b_hidden + (size_t)r * s->m->n_embd,
               s->m->n_embd * sizeof(float));
        s->seqs[seq].has_logits = true;
    }
    return SMOA_OK;
}

smoa_status smoa_session_run(smoa_session *s, const smoa_seq_tokens *e, size_t n_entries, smoa_error *err) {
    smoa_status st = check_entries(s, e, n_entries, err);
    if (st || (st = reserve_all(s, e, n_entries, err))) return st;
    int n_tokens = 0, n_out = 0;
    for (size_t i = 0; i < n_entries; i++) {
        s->seqs[e[i].seq].has_logits = false;
        for (uint32_t t = 0; t < e[i].n; t++) {
            bool last = t + 1 == e[i].n;
            if (last) {
                s->b_out[n_out] = n_tokens;
                s->b_out_seq[n_out++] = e[i].seq;
            }
            add_token(s, &n_tokens, &e[i], t);
            if ((uint32_t)n_tokens == s->opts.n_batch) {
                if ((st = flush(s, n_tokens, n_out, err))) return st;
                n_tokens = n_out = 0;
            }
        }
    }
    return n_tokens ? flush(s, n_tokens, n_out, err) : SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Public prefill and decode                                                */

smoa_status smoa_prefill(smoa_ctx *ctx, smoa_session *s, int32_t seq, const int32_t *tokens, size_t n) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!s) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session is NULL");
    if (n == 0 || !tokens) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the prompt is empty");
    if (n > UINT32_MAX) return smoa_error_set(err, SMOA_ERR_CONTEXT_FULL, "prompt of %zu tokens is too long", n);
    smoa_seq_tokens e = {seq, tokens, (uint32_t)n};
    return smoa_session_run(s, &e, 1, err);
}

smoa_status smoa_decode(smoa_ctx *ctx, smoa_session *s, const int32_t *seqs, const int32_t *tokens, size_t n) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!s || !seqs || !tokens || n == 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session, sequences and tokens are required");
    if (n > s->opts.n_seq_max)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "%zu sequences but n_seq_max is %u", n, s->opts.n_seq_max);
    smoa_seq_tokens *e = malloc(n * sizeof *e);
    if (!e) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) e[i] = (smoa_seq_tokens){seqs[i], &tokens[i], 1};
    smoa_status st = smoa_session_run(s, e, n, err);
    free(e);
    return st;
}

smoa_status smoa_session_topk_gating(smoa_session *s, const float *scores, int rows, int n, int k, int32_t *idx,
                                     float *weights, smoa_error *err) {
    return s->ops->topk_gating(s->backend, scores, rows, n, k, idx, weights, err);
}
