/* backend.h - the interface every compute backend (CPU, CUDA) implements.
 *
 * A backend owns the model's weights in its own memory (the CPU backend
 * uses the mapped file directly), the K/V storage for a fixed number of
 * cache slots, and scratch space for batches of up to n_batch tokens. The
 * session above it decides which slots each token uses (kv_pages.h). */
#ifndef SMOA_ENGINE_BACKEND_H
#define SMOA_ENGINE_BACKEND_H

#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"

typedef struct smoa_backend smoa_backend;

typedef struct smoa_backend_config {
    uint32_t n_slots;   /* KV cache slots (pages * SMOA_KV_PAGE)            */
    uint32_t n_batch;   /* most tokens per forward call                     */
    uint32_t n_ctx;     /* most positions one sequence attends over         */
    int n_threads;
} smoa_backend_config;

/* Tokens of many sequences, forwarded together. Token i is at position
 * pos[i] of its sequence; its K/V go to slot kv_slot[i], and it attends to
 * positions 0..pos[i] of its sequence, whose slots are given by the page
 * table kv_pages[i] (slot of position p: kv_pages[i][p / 16] * 16 + p % 16).
 * Tokens of one sequence appear in position order, and all K/V of the
 * batch are written before any attention reads them. */
typedef struct smoa_batch {
    int n_tokens;
    const int32_t *tokens;            /* [n_tokens]                          */
    const int32_t *pos;               /* [n_tokens]                          */
    const uint32_t *kv_slot;          /* [n_tokens]                          */
    const uint32_t *const *kv_pages;  /* [n_tokens] page tables              */
    int n_out;
    const int32_t *out_rows;          /* [n_out] batch rows with outputs     */
} smoa_batch;

typedef struct smoa_backend_ops {
    const char *name;
    smoa_status (*create)(const smoa_llama *model, const smoa_backend_config *cfg,
                          smoa_backend **out, smoa_error *err);
    void (*destroy)(smoa_backend *be);
    /* logits: [n_out][n_vocab]; hidden: [n_out][n_embd] (after the output
     * norm) or NULL when not wanted. */
    smoa_status (*forward)(smoa_backend *be, const smoa_batch *batch, float *logits, float *hidden,
                           smoa_error *err);
    /* Copies a page's slots (all layers), for copy-on-write. */
    void (*copy_page)(void *be, uint32_t dst_page, uint32_t src_page);
    /* Top-k gating (engine/topk.h) of host scores [rows][n] into host
     * idx/weights [rows][k], on the backend's device: the judge's selection
     * now, mixture-of-experts routing later. */
    smoa_status (*topk_gating)(smoa_backend *be, const float *scores, int rows, int n, int k, int32_t *idx,
                               float *weights, smoa_error *err);
} smoa_backend_ops;

extern const smoa_backend_ops smoa_backend_cpu;
#ifdef SMOA_WITH_CUDA
/* kernels/backend_cuda.cu: weights, KV cache and activations on one GPU. */
extern const smoa_backend_ops smoa_backend_cuda;
#endif

#endif
