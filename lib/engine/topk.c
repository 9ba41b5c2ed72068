/* topk.c - fused softmax + top-k over rows, by k rounds of argmax (k is
 * small: the judge keeps 2 of 4, an MoE router 8 of 64). */
#include "engine/topk.h"

#include <math.h>
#include <stdbool.h>

/* a ranks above b: larger, or equal and at a lower index (NaN lowest). */
static bool ranks_above(float a, int ia, float b, int ib) {
    if (isnan(b)) return !isnan(a) || ia < ib;
    if (isnan(a)) return false;
    return a > b || (a == b && ia < ib);
}

static void gate_row(const float *x, int n, int k, int32_t *idx, float *weights) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > max) max = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i]) && isfinite(max)) sum += exp((double)x[i] - max);
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            bool taken = false;
            for (int t = 0; t < j && !taken; t++) taken = idx[t] == i;
            if (!taken && (best < 0 || ranks_above(x[i], i, x[best], best))) best = i;
        }
        idx[j] = best;
        weights[j] = isnan(x[best]) || sum == 0 ? 0.0f : (float)(exp((double)x[best] - max) / sum);
    }
}

void smoa_topk_gating(const float *logits, int rows, int n, int k, int32_t *idx, float *weights) {
    for (int r = 0; r < rows; r++)
        gate_row(logits + (int64_t)r * n, n, k, idx + (int64_t)r * k, weights + (int64_t)r * k);
}
