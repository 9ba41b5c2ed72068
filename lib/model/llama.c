/* llama.c - loading the llama architecture from GGUF metadata and tensors. */
#include "model/llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tensor_types.h"

/* Reads llama.<suffix> as a positive int; `required` decides whether an
 * absent key is an error or leaves *out as it was. */
static smoa_status read_int(const smoa_gguf *g, const char *suffix, bool required, int *out,
                            smoa_error *err) {
    char key[96];
    snprintf(key, sizeof key, "llama.%s", suffix);
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, key);
    uint64_t v;
    if (!kv) return required ? smoa_error_set(err, SMOA_ERR_FORMAT, "metadata '%s' is missing", key) : SMOA_OK;
    if (!smoa_gguf_kv_u64(kv, &v) || v == 0 || v > (1u << 24))
        return smoa_error_set(err, SMOA_ERR_FORMAT, "metadata '%s' must be an integer in 1..2^24", key);
    *out = (int)v;
    return SMOA_OK;
}

static smoa_status read_float(const smoa_gguf *g, const char *suffix, bool required, float *out,
                              smoa_error *err) {
    char key[96];
    snprintf(key, sizeof key, "llama.%s", suffix);
    double v;
    if (!smoa_gguf_find_kv(g, key))
        return required ? smoa_error_set(err, SMOA_ERR_FORMAT, "metadata '%s' is missing", key) : SMOA_OK;
    if (!smoa_gguf_get_f64(g, key, &v) || !(v > 0) || !isfinite(v))
        return smoa_error_set(err, SMOA_ERR_FORMAT, "metadata '%s' must be a positive number", key);
    *out = (float)v;
    return SMOA_OK;
}

static smoa_status read_hparams(const smoa_gguf *g, smoa_llama *m, smoa_error *err) {
    smoa_status st;
    m->rope_base = 10000.0f; /* llama.cpp's default when the key is absent */
    m->n_ctx_train = 2048;
    if ((st = read_int(g, "embedding_length", true, &m->n_embd, err)) ||
        (st = read_int(g, "block_count", true, &m->n_layer, err)) ||
        (st = read_int(g, "feed_forward_length", true, &m->n_ff, err)) ||
        (st = read_int(g, "attention.head_count", true, &m->n_head, err)) ||
        (st = read_int(g, "context_length", false, &m->n_ctx_train, err)) ||
        (st = read_float(g, "attention.layer_norm_rms_epsilon", true, &m->norm_eps, err)) ||
        (st = read_float(g, "rope.freq_base", false, &m->rope_base, err)))
        return st;
    m->n_head_kv = m->n_head;
    m->head_dim = m->n_embd / m->n_head;
    if ((st = read_int(g, "attention.head_count_kv", false, &m->n_head_kv, err)) ||
        (st = read_int(g, "attention.key_length", false, &m->head_dim, err)))
        return st;
    m->n_rot = m->head_dim;
    if ((st = read_int(g, "rope.dimension_count", false, &m->n_rot, err))) return st;
    if (m->n_head % m->n_head_kv != 0)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "head_count %d is not a multiple of head_count_kv %d",
                              m->n_head, m->n_head_kv);
    if (m->n_rot > m->head_dim || m->n_rot % 2 != 0 || m->head_dim % 2 != 0 || m->head_dim > 1024)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "rope dimension %d does not fit head size %d",
                              m->n_rot, m->head_dim);
    if (smoa_gguf_find_kv(g, "llama.rope.scaling.type") || smoa_gguf_find_tensor(g, "rope_freqs.weight"))
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "RoPE scaling (Llama 3.1 style) is not supported yet");
    if (smoa_gguf_find_kv(g, "llama.expert_count"))
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "mixture-of-experts llama models are not supported yet");
    return SMOA_OK;
}

static smoa_status find_tensor(const smoa_gguf *g, const char *name, const smoa_gguf_tensor **out,
                               smoa_error *err) {
    *out = smoa_gguf_find_tensor(g, name);
    if (!*out) return smoa_error_set(err, SMOA_ERR_FORMAT, "tensor '%s' is missing", name);
    return SMOA_OK;
}

/* A matrix of n_out rows of n_in values, in any supported type. */
static smoa_status load_matrix(const smoa_gguf *g, const char *name, int64_t n_in, int64_t n_out,
                               smoa_matrix *out, smoa_error *err) {
    const smoa_gguf_tensor *t;
    smoa_status st = find_tensor(g, name, &t, err);
    if (st) return st;
    if (t->n_dims != 2 || (int64_t)t->ne[0] != n_in || (int64_t)t->ne[1] != n_out)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tensor '%s' has shape [%llu, %llu], expected [%lld, %lld]", name,
                              (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                              (long long)n_in, (long long)n_out);
    uint64_t row_bytes;
    smoa_type_row_bytes(t->type, t->ne[0], &row_bytes); /* checked when the file was opened */
    *out = (smoa_matrix){t->data, t->type, n_in, n_out, (size_t)row_bytes};
    return SMOA_OK;
}

/* Norm weights are used as plain floats. */
static smoa_status load_vector(const smoa_gguf *g, const char *name, int64_t n, const float **out,
                               smoa_error *err) {
    const smoa_gguf_tensor *t;
    smoa_status st = find_tensor(g, name, &t, err);
    if (st) return st;
    if (t->n_elements != (uint64_t)n || t->type != SMOA_TYPE_F32)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "tensor '%s' must be %lld F32 values", name, (long long)n);
    *out = t->data;
    return SMOA_OK;
}

static smoa_status load_layer(const smoa_gguf *g, const smoa_llama *m, int il, smoa_llama_layer *l,
                              smoa_error *err) {
    char name[64];
    smoa_status st;
    int64_t q_dim = (int64_t)m->n_head * m->head_dim, kv_dim = (int64_t)m->n_head_kv * m->head_dim;
#define BLK(suffix) (snprintf(name, sizeof name, "blk.%d.%s", il, suffix), name)
    if ((st = load_vector(g, BLK("attn_norm.weight"), m->n_embd, &l->attn_norm, err)) ||
        (st = load_matrix(g, BLK("attn_q.weight"), m->n_embd, q_dim, &l->wq, err)) ||
        (st = load_matrix(g, BLK("attn_k.weight"), m->n_embd, kv_dim, &l->wk, err)) ||
        (st = load_matrix(g, BLK("attn_v.weight"), m->n_embd, kv_dim, &l->wv, err)) ||
        (st = load_matrix(g, BLK("attn_output.weight"), q_dim, m->n_embd, &l->wo, err)) ||
        (st = load_vector(g, BLK("ffn_norm.weight"), m->n_embd, &l->ffn_norm, err)) ||
        (st = load_matrix(g, BLK("ffn_gate.weight"), m->n_embd, m->n_ff, &l->w_gate, err)) ||
        (st = load_matrix(g, BLK("ffn_up.weight"), m->n_embd, m->n_ff, &l->w_up, err)) ||
        (st = load_matrix(g, BLK("ffn_down.weight"), m->n_ff, m->n_embd, &l->w_down, err)))
        return st;
#undef BLK
    return SMOA_OK;
}

static smoa_status find_vocab_size(const smoa_gguf *g, smoa_llama *m, smoa_error *err) {
    const smoa_gguf_tensor *embd;
    smoa_status st = find_tensor(g, "token_embd.weight", &embd, err);
    if (st) return st;
    if (embd->n_dims != 2 || embd->ne[1] > (1u << 24))
        return smoa_error_set(err, SMOA_ERR_FORMAT, "tensor 'token_embd.weight' is not a [n_embd, n_vocab] matrix");
    m->n_vocab = (int)embd->ne[1];
    return SMOA_OK;
}

smoa_status smoa_llama_load(const smoa_gguf *g, smoa_llama *m, smoa_error *err) {
    memset(m, 0, sizeof *m);
    smoa_status st;
    if ((st = read_hparams(g, m, err)) || (st = find_vocab_size(g, m, err)) ||
        (st = load_matrix(g, "token_embd.weight", m->n_embd, m->n_vocab, &m->token_embd, err)) ||
        (st = load_vector(g, "output_norm.weight", m->n_embd, &m->output_norm, err)))
        return st;
    m->output_tied = smoa_gguf_find_tensor(g, "output.weight") == NULL;
    if (m->output_tied) m->output = m->token_embd;
    else if ((st = load_matrix(g, "output.weight", m->n_embd, m->n_vocab, &m->output, err)))
        return st;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    if (!m->layers) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (int il = 0; il < m->n_layer; il++)
        if ((st = load_layer(g, m, il, &m->layers[il], err))) {
            smoa_llama_free(m);
            return st;
        }
    return SMOA_OK;
}

void smoa_llama_free(smoa_llama *m) {
    free(m->layers);
    m->layers = NULL;
}
