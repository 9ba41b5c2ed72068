/* attention.h - causal attention over the paged f16 KV cache on the device,
 * for prefill and decode alike (mirrors the CPU backend's attend_head):
 * every query token attends positions 0..pos of its own sequence, found
 * through its page table, so one launch serves many sequences of different
 * lengths. GQA: the query heads of one KV head share its K/V reads.
 *
 * Split-KV ("flash decoding"): the key range is cut into n_splits pieces
 * processed by separate blocks with an online softmax, each leaving an
 * unnormalized partial (running max, sum of exponentials, weighted sum of
 * V); a combine step merges the partials of each (token, head). */
#ifndef SMOA_KERNELS_ATTENTION_H
#define SMOA_KERNELS_ATTENTION_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* Device pointers, for T query tokens of one layer. */
typedef struct smoa_cuda_attention_args {
    const float *q;                /* [T][n_head * head_dim], rotated        */
    const uint16_t *k_cache;       /* [n_slots][n_head_kv * head_dim] f16    */
    const uint16_t *v_cache;       /* [n_slots][n_head_kv * head_dim] f16    */
    const int32_t *pos;            /* [T] token t attends positions 0..pos[t] */
    const int32_t *table_of_token; /* [T] row of page_tables of t's sequence */
    const uint32_t *page_tables;   /* [n_tables][max_pages] page ids of
                                      positions 0, 16, 32, ...               */
    int max_pages;
    float *out;                    /* [T][n_head * head_dim]                 */
    float *part_acc;               /* [T * n_head * n_splits][head_dim]      */
    float *part_max;               /* [T * n_head * n_splits]                */
    float *part_sum;               /* [T * n_head * n_splits]                */
    int T, n_head, n_head_kv, head_dim;
    int n_splits;                  /* key ranges per (token, head)           */
    int split_keys;                /* keys per range; n_splits * split_keys
                                      must cover every pos[t] + 1            */
} smoa_cuda_attention_args;

/* head_dim 32, 64, 96, 128 or 256, and n_head a multiple of n_head_kv. */
bool smoa_cuda_attention_supported(int n_head, int n_head_kv, int head_dim);

/* The key split for T queries over at most max_keys keys each: enough
 * blocks to fill n_sm multiprocessors when there are few queries, and at
 * most max_partials = T * n_head * n_splits partial rows of scratch. */
void smoa_cuda_attention_plan(int T, int max_keys, int n_head, int n_head_kv, int n_sm, size_t max_partials,
                              int *n_splits, int *split_keys);

smoa_status smoa_cuda_attention(const smoa_cuda_attention_args *a, cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
