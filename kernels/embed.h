/* embed.h - token embedding lookup on the device (mirrors smoa_op_embed). */
#ifndef SMOA_KERNELS_EMBED_H
#define SMOA_KERNELS_EMBED_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#include "cuda_matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* x[t] = row tokens[t] of table, dequantized to f32. Device pointers:
 * tokens [T] (ids < table->n_out, checked by the caller); x [T][n_in]. */
smoa_status smoa_cuda_embed(const smoa_cuda_matrix *table, const int32_t *tokens, int T, float *x,
                            cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
