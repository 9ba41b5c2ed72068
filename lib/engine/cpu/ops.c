/* ops.c - CPU reference kernels of the llama forward pass. */
#include "engine/cpu/ops.h"

#include <math.h>
#include <string.h>

#include "engine/cpu/quant_dot.h"
#include "model/tensor_types.h"

void smoa_op_embed(const smoa_matrix *embd, const int32_t *tokens, int T, float *x, int ith, int nth) {
    int64_t t0, t1;
    smoa_split(T, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const uint8_t *row = (const uint8_t *)embd->data + (size_t)tokens[t] * embd->row_bytes;
        smoa_dequantize(embd->type, row, x + t * embd->n_in, (uint64_t)embd->n_in);
    }
}

void smoa_op_rmsnorm(const float *x, const float *w, float *out, int T, int n, float eps, int ith,
                     int nth) {
    int64_t t0, t1;
    smoa_split(T, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * n;
        float *ot = out + t * n;
        double sum = 0; /* double: the norm of a long row should not drift */
        for (int i = 0; i < n; i++) sum += (double)xt[i] * xt[i];
        float scale = 1.0f / sqrtf((float)(sum / n) + eps);
        for (int i = 0; i < n; i++) ot[i] = xt[i] * scale * w[i];
    }
}

void smoa_op_quantize(uint32_t weight_type, const float *x, int T, int64_t n, void *act,
                      size_t act_row_bytes, int ith, int nth) {
    int64_t t0, t1;
    smoa_split(T, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        smoa_act_quantize_row(weight_type, x + t * n, (uint8_t *)act + t * act_row_bytes, n);
}

/* Rows are split into blocks so that each thread's weights are read once
 * for all T tokens (the batch shares the weight stream). */
void smoa_op_matmul(const smoa_matrix *W, const void *act, size_t act_row_bytes, int T, float *y,
                    int accumulate, int ith, int nth) {
    smoa_vec_dot_fn dot = smoa_vec_dot_get(W->type);
    /* Tokens four at a time where a dot4 exists (the same bits as four
     * dots, each weight block unpacked once), the rest one by one. */
    smoa_vec_dot4_fn dot4 = smoa_vec_dot4_get(W->type);
    int64_t r0, r1;
    smoa_split(W->n_out, ith, nth, &r0, &r1);
    const uint8_t *a = act;
    for (int64_t r = r0; r < r1; r++) {
        const void *w_row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
        int t = 0;
        if (dot4)
            for (; t + 4 <= T; t += 4) {
                float v[4];
                dot4(W->n_in, w_row, a + (size_t)t * act_row_bytes, act_row_bytes, v);
                for (int k = 0; k < 4; k++) {
                    float *dst = y + (size_t)(t + k) * W->n_out + r;
                    *dst = accumulate ? *dst + v[k] : v[k];
                }
            }
        for (; t < T; t++) {
            float v = dot(W->n_in, w_row, a + (size_t)t * act_row_bytes);
            float *dst = y + (size_t)t * W->n_out + r;
            *dst = accumulate ? *dst + v : v;
        }
    }
}

void smoa_op_rope(float *x, const int32_t *pos, int T, int n_heads, int head_dim, int n_rot,
                  float base, int ith, int nth) {
    int64_t t0, t1;
    smoa_split(T, ith, nth, &t0, &t1);
    float cos_t[512], sin_t[512]; /* n_rot / 2 <= 512: head sizes up to 1024 */
    float theta_scale = powf(base, -2.0f / (float)n_rot);
    for (int64_t t = t0; t < t1; t++) {
        float theta = (float)pos[t];
        for (int i = 0; i < n_rot / 2; i++) { /* same recurrence as llama.cpp */
            cos_t[i] = cosf(theta);
            sin_t[i] = sinf(theta);
            theta *= theta_scale;
        }
        for (int h = 0; h < n_heads; h++) {
            float *v = x + (t * n_heads + h) * (int64_t)head_dim;
            for (int i = 0; i < n_rot / 2; i++) {
                float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = x0 * cos_t[i] - x1 * sin_t[i];
                v[2 * i + 1] = x0 * sin_t[i] + x1 * cos_t[i];
            }
        }
    }
}

void smoa_op_swiglu(float *gate, const float *up, int64_t n, int ith, int nth) {
    int64_t i0, i1;
    smoa_split(n, ith, nth, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}
