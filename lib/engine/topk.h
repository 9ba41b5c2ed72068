/* topk.h - top-k gating: softmax over each row of scores, then the k
 * largest entries. The CPU reference of the CUDA gating kernel; used to keep
 * the judge's best k responses now and to route mixture-of-experts later. */
#ifndef SMOA_ENGINE_TOPK_H
#define SMOA_ENGINE_TOPK_H

#include <stdint.h>

/* For each of rows rows of n scores (logits: [rows][n]): idx[r][0..k) the
 * k largest, best first, ties to the lower index, NaN ranked below
 * everything; weights[r][0..k) their softmax probabilities over the whole
 * row. k <= n. */
void smoa_topk_gating(const float *logits, int rows, int n, int k, int32_t *idx, float *weights);

#endif
