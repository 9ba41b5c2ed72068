/* quant_dot_internal.h - the per-instruction-set kernels behind quant_dot.h.
 *
 * Each instruction set has its own translation unit (quant_dot_scalar.c,
 * quant_dot_avx2.c, quant_dot_avx512.c) whose functions carry their own
 * target attributes, so the library builds for any x86-64 (or other) CPU
 * and quant_dot.c picks the best kernels present at run time. Tests and
 * benchmarks reach every instruction set through this header. */
#ifndef SMOA_ENGINE_CPU_QUANT_DOT_INTERNAL_H
#define SMOA_ENGINE_CPU_QUANT_DOT_INTERNAL_H

#include <float.h>

#include "engine/cpu/quant_dot.h"

/* Activation blocks are symmetric: q = round(x / d), d = amax / 127, so
 * |q| <= 127 (which keeps the 8-bit multiply-adds free of overflow). A block
 * whose d would be below FLT_MIN (zeros, denormals) gets d = 0 and q = 0,
 * since 1 / d would overflow. Every instruction set takes d and its inverse
 * from these two functions, so all of them write identical blocks. */
#define SMOA_ACT_QMAX 127

static inline float smoa_act_scale(float amax) {
    float d = amax / SMOA_ACT_QMAX;
    return d >= FLT_MIN ? d : 0.0f; /* also 0 for a NaN amax */
}

static inline float smoa_act_inverse_scale(float d) {
    return d != 0.0f ? 1.0f / d : 0.0f;
}

/* The x86 kernels need GCC or clang (per-function target attributes, the
 * CPU feature builtins); elsewhere only the scalar kernels exist. Building
 * with -DSMOA_X86_KERNELS=0 leaves them out anywhere. */
#ifndef SMOA_X86_KERNELS
#if defined(__x86_64__) && defined(__GNUC__)
#define SMOA_X86_KERNELS 1
#else
#define SMOA_X86_KERNELS 0
#endif
#endif

typedef enum smoa_isa {
    SMOA_ISA_SCALAR,
    SMOA_ISA_AVX2,        /* AVX2 + FMA + F16C                     */
    SMOA_ISA_AVX512_VNNI, /* AVX-512 F/BW/VL + VNNI (and the above) */
    SMOA_ISA_COUNT
} smoa_isa;

/* Quantizes n values of x (a multiple of the format's block size) into the
 * activation blocks at act. */
typedef void smoa_act_quantize_fn(const float *x, void *act, int64_t n);

/* The kernels of one instruction set: NULL where it has none for the type
 * (a caller then falls back to a narrower set). Compiled-in kernels only;
 * whether the CPU can run them is smoa_isa_supported's business. */
typedef struct smoa_isa_kernels {
    smoa_vec_dot_fn (*dot)(uint32_t weight_type);
    smoa_vec_dot4_fn (*dot4)(uint32_t weight_type); /* NULL: no dot4 at all */
    smoa_act_quantize_fn *act_q8;  /* 32-value smoa_act_q8 blocks   */
    smoa_act_quantize_fn *act_q8k; /* 256-value smoa_act_q8k blocks */
} smoa_isa_kernels;

extern const smoa_isa_kernels smoa_kernels_scalar;
extern const smoa_isa_kernels smoa_kernels_avx2;   /* all NULL off x86 */
extern const smoa_isa_kernels smoa_kernels_avx512; /* all NULL off x86 */

/* Whether this CPU (and OS) can run the instruction set's kernels. */
bool smoa_isa_supported(smoa_isa isa);
const char *smoa_isa_name(smoa_isa isa);

/* The dot of exactly this instruction set (no fallback): NULL when the CPU
 * lacks the set or the set has no kernel for the type. */
smoa_vec_dot_fn smoa_vec_dot_get_isa(smoa_isa isa, uint32_t weight_type);

/* The dot4 of exactly this instruction set, bitwise four of its
 * smoa_vec_dot_get_isa dots: NULL when the CPU lacks the set or the set has
 * no dot4 for the type. */
smoa_vec_dot4_fn smoa_vec_dot4_get_isa(smoa_isa isa, uint32_t weight_type);

/* smoa_act_quantize_row with the activation quantizer of exactly this
 * instruction set; false (nothing written) when the CPU lacks the set or
 * the set has no quantizer for the type's format. */
bool smoa_act_quantize_row_isa(smoa_isa isa, uint32_t weight_type, const float *x,
                               void *act, int64_t n);

#endif
