/* tensor_types.h - ggml tensor types: block geometry, names, dequantization.
 *
 * A tensor row of n elements of a block type is n / block_size blocks of
 * type_size bytes each. Numbering follows ggml (the ids stored in GGUF). */
#ifndef SMOA_MODEL_TENSOR_TYPES_H
#define SMOA_MODEL_TENSOR_TYPES_H

#include <stdbool.h>
#include <stdint.h>

enum smoa_tensor_type {
    SMOA_TYPE_F32 = 0,
    SMOA_TYPE_F16 = 1,
    SMOA_TYPE_Q4_0 = 2,
    SMOA_TYPE_Q4_1 = 3,
    SMOA_TYPE_Q5_0 = 6,
    SMOA_TYPE_Q5_1 = 7,
    SMOA_TYPE_Q8_0 = 8,
    SMOA_TYPE_Q4_K = 12,
    SMOA_TYPE_Q5_K = 13,
    SMOA_TYPE_Q6_K = 14,
    SMOA_TYPE_BF16 = 30
};

typedef struct smoa_type_traits {
    const char *name;     /* "Q4_1"                                         */
    uint32_t block_size;  /* elements per block (1 for float types)         */
    uint32_t type_size;   /* bytes per block                                */
} smoa_type_traits;

/* Traits of a supported type; NULL for any other id. */
const smoa_type_traits *smoa_type_traits_get(uint32_t type);

/* A name for any ggml type id, supported or not ("IQ2_XXS"), or NULL when
 * the id is not a ggml type at all. For error messages. */
const char *smoa_type_name_any(uint32_t type);

/* Bytes of a row of n elements: false when n is not a whole number of
 * blocks, the type is unsupported, or the size overflows. */
bool smoa_type_row_bytes(uint32_t type, uint64_t n, uint64_t *out_bytes);

/* Dequantizes n elements (a multiple of the block size) from src to dst.
 * Returns false for an unsupported type or a partial block. */
bool smoa_dequantize(uint32_t type, const void *src, float *dst, uint64_t n);

/* IEEE half and bfloat16 conversions (round to nearest even). */
float smoa_fp16_to_fp32(uint16_t h);
uint16_t smoa_fp32_to_fp16(float f);
float smoa_bf16_to_fp32(uint16_t h);
uint16_t smoa_fp32_to_bf16(float f);

#endif
