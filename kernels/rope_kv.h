/* rope_kv.h - RoPE on the device, fused with the write of K and V into the
 * f16 KV cache (mirrors smoa_op_rope on q and k, then the CPU backend's
 * store_kv). */
#ifndef SMOA_KERNELS_ROPE_KV_H
#define SMOA_KERNELS_ROPE_KV_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h" /* C linkage in .cu files too */

/* Device pointers, for T tokens of one layer. */
typedef struct smoa_cuda_rope_kv_args {
    float *q;               /* [T][n_head * head_dim]: rotated in place      */
    const float *k;         /* [T][n_head_kv * head_dim]                     */
    const float *v;         /* [T][n_head_kv * head_dim]                     */
    const int32_t *pos;     /* [T]                                           */
    const uint32_t *slot;   /* [T] cache slot of each token's K and V        */
    uint16_t *k_cache;      /* [n_slots][n_head_kv * head_dim] f16           */
    uint16_t *v_cache;      /* [n_slots][n_head_kv * head_dim] f16           */
    int T, n_head, n_head_kv, head_dim;
    int n_rot;              /* rotated dims per head (even, <= head_dim)     */
    float rope_base;
} smoa_cuda_rope_kv_args;

/* Rotates pairs (2i, 2i+1), 2i < n_rot, of every head of q and k by
 * pos * base^(-2i / n_rot) and stores k (rotated) and v in their slots. */
smoa_status smoa_cuda_rope_kv(const smoa_cuda_rope_kv_args *a, cudaStream_t stream, smoa_error *err);

#ifdef __cplusplus
}
#endif

#endif
