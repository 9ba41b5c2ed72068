/* llama.h - the `llama` architecture (SmolLM2, TinyLlama, Llama 3.x,
 * Mistral-style): hyperparameters and weight views read from GGUF.
 *
 * Weights are views into the memory-mapped file, in their stored types. A
 * matrix view W of GGUF dims [n_in, n_out] has n_out rows of n_in values
 * (row r contiguous, row_bytes apart): y = W x is one dot product per row. */
#ifndef SMOA_MODEL_LLAMA_H
#define SMOA_MODEL_LLAMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/gguf.h"

typedef struct smoa_matrix {
    const void *data;   /* rows, in the tensor's GGUF type                  */
    uint32_t type;      /* ggml type id                                     */
    int64_t n_in;       /* values per row (GGUF ne[0])                      */
    int64_t n_out;      /* rows (GGUF ne[1])                                */
    size_t row_bytes;
} smoa_matrix;

typedef struct smoa_llama_layer {
    const float *attn_norm;  /* [n_embd]                                    */
    smoa_matrix wq;          /* [n_head * head_dim] x [n_embd]              */
    smoa_matrix wk;          /* [n_head_kv * head_dim] x [n_embd]           */
    smoa_matrix wv;          /* [n_head_kv * head_dim] x [n_embd]           */
    smoa_matrix wo;          /* [n_embd] x [n_head * head_dim]              */
    const float *ffn_norm;   /* [n_embd]                                    */
    smoa_matrix w_gate;      /* [n_ff] x [n_embd]                           */
    smoa_matrix w_up;        /* [n_ff] x [n_embd]                           */
    smoa_matrix w_down;      /* [n_embd] x [n_ff]                           */
} smoa_llama_layer;

typedef struct smoa_llama {
    int n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train;
    int n_rot;               /* rotated dims per head (= head_dim usually)  */
    float rope_base;         /* theta                                       */
    float norm_eps;          /* RMSNorm epsilon                             */
    smoa_matrix token_embd;  /* [n_vocab] x [n_embd]: row t is token t      */
    smoa_llama_layer *layers; /* [n_layer]                                  */
    const float *output_norm; /* [n_embd]                                   */
    smoa_matrix output;      /* [n_vocab] x [n_embd]; token_embd when tied  */
    bool output_tied;
} smoa_llama;

/* Reads hyperparameters and weight views; SMOA_ERR_FORMAT / UNSUPPORTED
 * name the missing key or tensor, or the wrong shape or type. */
smoa_status smoa_llama_load(const smoa_gguf *g, smoa_llama *out, smoa_error *err);
void smoa_llama_free(smoa_llama *m);

/* Values one token stores in one layer's K (or V) cache. */
static inline size_t smoa_llama_kv_dim(const smoa_llama *m) {
    return (size_t)m->n_head_kv * (size_t)m->head_dim;
}

#endif
