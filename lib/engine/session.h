/* session.h - the smoa_session handle: a backend, the paged KV cache and
 * per-sequence state, plus the batch runner that packs tokens of many
 * sequences into forward passes. */
#ifndef SMOA_ENGINE_SESSION_H
#define SMOA_ENGINE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backend.h"
#include "engine/kv_pages.h"
#include "model/model.h"
#include "smoa.h"

typedef struct smoa_seq_state {
    bool alive;
    bool has_logits;     /* logits/hidden hold its last token's outputs */
    smoa_kv_seq kv;
} smoa_seq_state;

struct smoa_session {
    const smoa_model *model;
    const smoa_llama *m;
    const smoa_backend_ops *ops;
    smoa_backend *backend;
    smoa_session_options opts;  /* resolved: no zeros left               */
    smoa_kv_pool pool;
    uint32_t max_pages;         /* per sequence: ceil(n_ctx / 16)        */
    smoa_seq_state *seqs;       /* [n_seq_max]                           */
    float *logits;              /* [n_seq_max][n_vocab] last outputs     */
    float *hidden;              /* [n_seq_max][n_embd]                   */
    /* one forward pass being assembled, [n_batch] each */
    int32_t *b_tokens, *b_pos, *b_out;
    uint32_t *b_slot;
    const uint32_t **b_pages;
    int32_t *b_out_seq;         /* sequence of each output row           */
    float *b_logits;            /* [n_batch][n_vocab]                    */
    float *b_hidden;            /* [n_batch][n_embd]                     */
};

/* Tokens to append to one sequence; outputs come for its last token. */
typedef struct smoa_seq_tokens {
    int32_t seq;
    const int32_t *tokens;
    uint32_t n;
} smoa_seq_tokens;

/* Appends every entry's tokens (distinct sequences), in forward passes of
 * at most n_batch tokens, and stores each sequence's last logits. Checks
 * ids, lengths and the KV budget first: on failure nothing has changed. */
smoa_status smoa_session_run(smoa_session *s, const smoa_seq_tokens *entries, size_t n_entries,
                             smoa_error *err);

/* A new, empty sequence; SMOA_ERR_CONTEXT_FULL when all are in use. */
smoa_status smoa_session_new_seq(smoa_session *s, int32_t *out, smoa_error *err);

/* Top-k gating (engine/topk.h) on the session's backend: idx and weights
 * [rows][k] from host scores [rows][n]. */
smoa_status smoa_session_topk_gating(smoa_session *s, const float *scores, int rows, int n, int k, int32_t *idx,
                                     float *weights, smoa_error *err);

/* Keeps the first n tokens of live sequence seq (no-op when it holds no
 * more). */
void smoa_session_truncate_seq(smoa_session *s, int32_t seq, uint32_t n);

/* SMOA_OK when seq names a live sequence of s. */
smoa_status smoa_session_check_seq(const smoa_session *s, int32_t seq, smoa_error *err);

#endif
