// quant_blocks.cuh - device-side reading of GGUF weight rows: any supported
// type, eight consecutive values at a time ("group" g = values 8g..8g+7 of a
// row), shared by the embedding lookup, the mat-vec and the GEMM's
// dequantization. The block layouts are those of model/tensor_blocks.h.
//
// Alignment: every block size and field offset of these types is even, and
// rows start at even addresses, so 2-byte loads are always safe; wider loads
// are not (a Q4_0 block is 18 bytes, a Q4_1 block 20), hence the u16 loads.
#ifndef SMOA_KERNELS_QUANT_BLOCKS_CUH
#define SMOA_KERNELS_QUANT_BLOCKS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

extern "C" {
#include "model/tensor_types.h"
}

namespace smoa_cuda {

constexpr int GROUP = 8; // values a thread dequantizes at once

// Bytes and values of the block types (see tensor_blocks.h).
constexpr int QK = 32, QK_K = 256;
constexpr int Q4_0_BYTES = 18, Q4_1_BYTES = 20, Q5_0_BYTES = 22, Q5_1_BYTES = 24, Q8_0_BYTES = 34;
constexpr int Q4_K_BYTES = 144, Q5_K_BYTES = 176, Q6_K_BYTES = 210;

// --------------------------------------------------------------------------
// Loads (p 2-byte aligned)

__device__ __forceinline__ uint32_t load_u16(const uint8_t *p) {
    return *reinterpret_cast<const uint16_t *>(p);
}

__device__ __forceinline__ float load_half(const uint8_t *p) {
    return __half2float(*reinterpret_cast<const __half *>(p));
}

__device__ __forceinline__ uint32_t load_u32(const uint8_t *p) {
    return load_u16(p) | load_u16(p + 2) << 16;
}

// Eight bytes p[0..7] as two little-endian words.
__device__ __forceinline__ void load_8_bytes(const uint8_t *p, uint32_t w[2]) {
    w[0] = load_u32(p);
    w[1] = load_u32(p + 4);
}

__device__ __forceinline__ uint32_t byte_of(const uint32_t w[2], int i) {
    return (w[i / 4] >> (8 * (i % 4))) & 0xFF;
}

// --------------------------------------------------------------------------
// Simple quants: blocks of 32, four groups per block. Group sub (0..3) of a
// block covers weights 8*sub..8*sub+7: the low nibbles of qs[8*sub..] for
// sub 0-1, the high nibbles of qs[8*(sub-2)..] for sub 2-3.

// The eight 4-bit values of group sub, from the block's 16 qs bytes.
__device__ __forceinline__ void nibbles_of_group(const uint8_t *qs, int sub, uint32_t q[GROUP]) {
    uint32_t w[2];
    load_8_bytes(qs + 8 * (sub % 2), w);
    int shift = 4 * (sub / 2);
#pragma unroll
    for (int i = 0; i < GROUP; i++) q[i] = (byte_of(w, i) >> shift) & 0xF;
}

// Adds bit 4 from the 32-bit mask at qh (bit w = weight w of the block).
__device__ __forceinline__ void add_fifth_bits(const uint8_t *qh, int sub, uint32_t q[GROUP]) {
    uint32_t mask = load_u32(qh) >> (8 * sub);
#pragma unroll
    for (int i = 0; i < GROUP; i++) q[i] |= ((mask >> i) & 1) << 4;
}

// --------------------------------------------------------------------------
// K-quants: super-blocks of 256, 32 groups each.

// Scale and min of sub-block s (0..7) from the 12 packed bytes (6 bits each).
__device__ __forceinline__ void k_scale_min(const uint8_t *packed, int s, float *sc, float *m) {
    if (s < 4) {
        *sc = (float)(packed[s] & 63);
        *m = (float)(packed[s + 4] & 63);
    } else {
        *sc = (float)((packed[s + 4] & 0xF) | (packed[s - 4] >> 6) << 4);
        *m = (float)((packed[s + 4] >> 4) | (packed[s] >> 6) << 4);
    }
}

// Q4_K / Q5_K group gi (0..31) of a super-block: sub-block s = gi / 4, its
// weights l0..l0+7 with l0 = 8 * (gi % 4). Sub-block s sits in the low (s
// even) or high (s odd) nibbles of qs chunk s / 2; Q5_K's bit 4 of weight l
// of sub-block s is bit s of qh[l].
template <bool FIFTH_BIT>
__device__ __forceinline__ void dequant_k4_group(const uint8_t *blk, int gi, float v[GROUP]) {
    const uint8_t *scales = blk + 4, *qh = blk + 16, *qs = blk + (FIFTH_BIT ? 48 : 16);
    int s = gi / 4, l0 = 8 * (gi % 4);
    uint32_t w[2];
    load_8_bytes(qs + 32 * (s / 2) + l0, w);
    uint32_t h[2] = {0, 0};
    if (FIFTH_BIT) load_8_bytes(qh + l0, h);
    float sc, m;
    k_scale_min(scales, s, &sc, &m);
    float d = load_half(blk) * sc, dmin = load_half(blk + 2) * m;
#pragma unroll
    for (int i = 0; i < GROUP; i++) {
        uint32_t q = (byte_of(w, i) >> (4 * (s % 2))) & 0xF;
        if (FIFTH_BIT) q |= ((byte_of(h, i) >> s) & 1) << 4;
        v[i] = d * (float)q - dmin;
    }
}

// Q6_K group gi (0..31): weights j0..j0+7, j0 = 8 * gi, in half j0 / 128;
// within the half, quarter r / 32 and l = r % 32 (see block_q6_k).
__device__ __forceinline__ void dequant_q6_k_group(const uint8_t *blk, int gi, float v[GROUP]) {
    int j0 = GROUP * gi, half = j0 / 128, r = j0 % 128, quarter = r / 32, l = r % 32;
    uint32_t lo[2], hi[2];
    load_8_bytes(blk + 64 * half + 32 * (quarter % 2) + l, lo);
    load_8_bytes(blk + 128 + 32 * half + l, hi);
    float d = load_half(blk + 208) * (float)(int8_t)blk[192 + j0 / 16];
    int lo_shift = 4 * (quarter / 2), hi_shift = 2 * quarter;
#pragma unroll
    for (int i = 0; i < GROUP; i++) {
        int q = (int)(((byte_of(lo, i) >> lo_shift) & 0xF) | ((byte_of(hi, i) >> hi_shift) & 3) << 4);
        v[i] = d * (float)(q - 32);
    }
}

// --------------------------------------------------------------------------
// Values 8g..8g+7 of a row of type TYPE.

template <uint32_t TYPE>
__device__ __forceinline__ void dequant_group(const uint8_t *row, int g, float v[GROUP]) {
    if constexpr (TYPE == SMOA_TYPE_F32) {
        const float *p = reinterpret_cast<const float *>(row) + GROUP * g;
#pragma unroll
        for (int i = 0; i < GROUP; i++) v[i] = p[i];
    } else if constexpr (TYPE == SMOA_TYPE_F16) {
        const __half2 *p = reinterpret_cast<const __half2 *>(row) + GROUP / 2 * g;
#pragma unroll
        for (int i = 0; i < GROUP / 2; i++) {
            float2 f = __half22float2(p[i]);
            v[2 * i] = f.x;
            v[2 * i + 1] = f.y;
        }
    } else if constexpr (TYPE == SMOA_TYPE_BF16) {
        const __nv_bfloat16 *p = reinterpret_cast<const __nv_bfloat16 *>(row) + GROUP * g;
#pragma unroll
        for (int i = 0; i < GROUP; i++) v[i] = __bfloat162float(p[i]);
    } else if constexpr (TYPE == SMOA_TYPE_Q4_0 || TYPE == SMOA_TYPE_Q4_1) {
        constexpr bool has_min = TYPE == SMOA_TYPE_Q4_1;
        const uint8_t *blk = row + (g / 4) * (has_min ? Q4_1_BYTES : Q4_0_BYTES);
        uint32_t q[GROUP];
        nibbles_of_group(blk + (has_min ? 4 : 2), g % 4, q);
        float d = load_half(blk), m = has_min ? load_half(blk + 2) : -8.0f * d;
#pragma unroll
        for (int i = 0; i < GROUP; i++) v[i] = (float)q[i] * d + m;
    } else if constexpr (TYPE == SMOA_TYPE_Q5_0 || TYPE == SMOA_TYPE_Q5_1) {
        constexpr bool has_min = TYPE == SMOA_TYPE_Q5_1;
        const uint8_t *blk = row + (g / 4) * (has_min ? Q5_1_BYTES : Q5_0_BYTES);
        const uint8_t *qh = blk + (has_min ? 4 : 2);
        uint32_t q[GROUP];
        nibbles_of_group(qh + 4, g % 4, q);
        add_fifth_bits(qh, g % 4, q);
        float d = load_half(blk), m = has_min ? load_half(blk + 2) : -16.0f * d;
#pragma unroll
        for (int i = 0; i < GROUP; i++) v[i] = (float)q[i] * d + m;
    } else if constexpr (TYPE == SMOA_TYPE_Q8_0) {
        const uint8_t *blk = row + (g / 4) * Q8_0_BYTES;
        uint32_t w[2];
        load_8_bytes(blk + 2 + GROUP * (g % 4), w);
        float d = load_half(blk);
#pragma unroll
        for (int i = 0; i < GROUP; i++) v[i] = (float)(int8_t)byte_of(w, i) * d;
    } else if constexpr (TYPE == SMOA_TYPE_Q4_K) {
        dequant_k4_group<false>(row + (g / 32) * Q4_K_BYTES, g % 32, v);
    } else if constexpr (TYPE == SMOA_TYPE_Q5_K) {
        dequant_k4_group<true>(row + (g / 32) * Q5_K_BYTES, g % 32, v);
    } else {
        static_assert(TYPE == SMOA_TYPE_Q6_K, "unsupported weight type");
        dequant_q6_k_group(row + (g / 32) * Q6_K_BYTES, g % 32, v);
    }
}

// --------------------------------------------------------------------------
// Host side: calls f(std::integral_constant<uint32_t, TYPE>{}) for the
// run-time type id, so a launcher instantiates one kernel per type; false
// for an unsupported type.

template <uint32_t TYPE> struct weight_type {
    static constexpr uint32_t value = TYPE;
};

template <typename F> bool dispatch_weight_type(uint32_t type, F &&f) {
    switch (type) {
    case SMOA_TYPE_F32: f(weight_type<SMOA_TYPE_F32>{}); return true;
    case SMOA_TYPE_F16: f(weight_type<SMOA_TYPE_F16>{}); return true;
    case SMOA_TYPE_BF16: f(weight_type<SMOA_TYPE_BF16>{}); return true;
    case SMOA_TYPE_Q4_0: f(weight_type<SMOA_TYPE_Q4_0>{}); return true;
    case SMOA_TYPE_Q4_1: f(weight_type<SMOA_TYPE_Q4_1>{}); return true;
    case SMOA_TYPE_Q5_0: f(weight_type<SMOA_TYPE_Q5_0>{}); return true;
    case SMOA_TYPE_Q5_1: f(weight_type<SMOA_TYPE_Q5_1>{}); return true;
    case SMOA_TYPE_Q8_0: f(weight_type<SMOA_TYPE_Q8_0>{}); return true;
    case SMOA_TYPE_Q4_K: f(weight_type<SMOA_TYPE_Q4_K>{}); return true;
    case SMOA_TYPE_Q5_K: f(weight_type<SMOA_TYPE_Q5_K>{}); return true;
    case SMOA_TYPE_Q6_K: f(weight_type<SMOA_TYPE_Q6_K>{}); return true;
    default: return false;
    }
}

} // namespace smoa_cuda

#endif
