/* sampling.h - picking each sequence's next token on the device, so a
 * decode step need not bring [rows][n_vocab] logits to the host.
 *
 * The contract, exact in integers so that a CPU reference given the same
 * uniform number picks the same token (tests/gpu/test_cuda_sampling.c has
 * one):
 *   - a row with a NaN or +inf logit, or with every logit -inf, gives -1
 *     (the CPU sampler refuses these rows with a status);
 *   - greedy (temperature 0, or top_p 0): the largest logit, lowest id on
 *     ties, as the CPU sampler's greedy path;
 *   - otherwise each token weighs m_i = round(exp((l_i - max) / T) * 2^32)
 *     (exp in double; the best token weighs exactly 2^32); tokens are ranked
 *     by logit, lower id on ties; the nucleus is the shortest best-first
 *     prefix whose mass reaches ceil(top_p * sum m_i) (top_p 1: every token);
 *     r = floor(uniform * nucleus mass), and the token drawn is the first
 *     nucleus token, in id order, whose running mass exceeds r.
 * That is the CPU sampler's temperature -> softmax -> top-p -> draw with
 * top_k and min_p off, the same distribution up to rounding; only the order
 * in which the draw walks the kept tokens differs (id order here). */
#ifndef SMOA_KERNELS_SAMPLING_H
#define SMOA_KERNELS_SAMPLING_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* Masses of 2^32 per token sum exactly in a double up to 2^20 tokens. */
#define SMOA_CUDA_SAMPLE_MAX_VOCAB (1 << 20)

/* One row's sampling settings (validated on the host, e.g. with
 * smoa_sampler_params_validate; a row with temperature < 0, top_p outside
 * [0, 1] or uniform outside [0, 1) gives -1). */
typedef struct smoa_cuda_sample_params {
    float temperature; /* 0: greedy                                        */
    float top_p;       /* 1: off                                           */
    double uniform;    /* the row's random number in [0, 1)                */
} smoa_cuda_sample_params;

/* SMOA_OK for rows > 0 and 0 < n_vocab <= SMOA_CUDA_SAMPLE_MAX_VOCAB, else
 * INVALID_ARGUMENT (UNSUPPORTED over the limit) with a message. */
smoa_status smoa_cuda_sample_check(int rows, int n_vocab, smoa_error *err);

/* Queues greedy picks: tokens[r] = argmax of logits[r] (see above). Device
 * pointers: logits [rows][n_vocab], tokens [rows]. */
smoa_status smoa_cuda_argmax(const float *logits, int rows, int n_vocab, int32_t *tokens, cudaStream_t stream,
                             smoa_error *err);

/* Queues one draw per row with that row's params. Device pointers:
 * logits [rows][n_vocab], params [rows], tokens [rows]. */
smoa_status smoa_cuda_sample(const float *logits, int rows, int n_vocab, const smoa_cuda_sample_params *params,
                             int32_t *tokens, cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
