/* quant_dot.c - picks the dot-product and activation kernels for this CPU.
 *
 * The instruction sets are ordered: a CPU that runs one runs every set
 * below it, so a type without a kernel in the best set falls back to the
 * next one down, and always ends at the scalar kernels. What the CPU runs
 * is found on first use and kept; every function here is safe to call
 * from any thread. */
#include "engine/cpu/quant_dot.h"

#include <stdatomic.h>
#include <string.h>

#include "engine/cpu/quant_dot_internal.h"
#include "model/tensor_blocks.h"

#if SMOA_X86_KERNELS
#include <cpuid.h>
#endif

/* The activation format a weight type multiplies with. */
typedef enum act_format { ACT_NONE, ACT_F32, ACT_Q8, ACT_Q8K } act_format;

static act_format act_format_of(uint32_t weight_type) {
    switch (weight_type) {
    case SMOA_TYPE_F32:
    case SMOA_TYPE_F16:
    case SMOA_TYPE_BF16: return ACT_F32;
    case SMOA_TYPE_Q4_0:
    case SMOA_TYPE_Q4_1:
    case SMOA_TYPE_Q5_0:
    case SMOA_TYPE_Q5_1:
    case SMOA_TYPE_Q8_0: return ACT_Q8;
    case SMOA_TYPE_Q4_K:
    case SMOA_TYPE_Q5_K:
    case SMOA_TYPE_Q6_K: return ACT_Q8K;
    default: return ACT_NONE;
    }
}

/* ------------------------------------------------------------------------ */
/* Instruction sets                                                         */

static const smoa_isa_kernels *kernels_of(smoa_isa isa) {
    switch (isa) {
    case SMOA_ISA_AVX512_VNNI: return &smoa_kernels_avx512;
    case SMOA_ISA_AVX2: return &smoa_kernels_avx2;
    default: return &smoa_kernels_scalar;
    }
}

#if SMOA_X86_KERNELS
/* Asked directly: not every compiler's __builtin_cpu_supports knows F16C. */
static bool cpu_has_f16c(void) {
    unsigned eax, ebx, ecx, edx;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
}
#endif

/* Bit isa set for each instruction set this CPU runs. The compiler's
 * runtime also checks that the OS saves the wider registers (XGETBV)
 * before it reports AVX or AVX-512 features. */
static unsigned detect_isas(void) {
    unsigned isas = 1u << SMOA_ISA_SCALAR;
#if SMOA_X86_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c()) {
        isas |= 1u << SMOA_ISA_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
            isas |= 1u << SMOA_ISA_AVX512_VNNI;
    }
#endif
    return isas;
}

/* detect_isas, run once: a CPUID can cost microseconds in a virtual
 * machine, which traps it. Threads racing on the first call all store the
 * same bits, so relaxed atomics suffice. */
bool smoa_isa_supported(smoa_isa isa) {
    static _Atomic unsigned cached; /* 0: not yet detected (scalar is always set) */
    unsigned isas = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!isas) {
        isas = detect_isas();
        atomic_store_explicit(&cached, isas, memory_order_relaxed);
    }
    return (unsigned)isa < SMOA_ISA_COUNT && (isas >> isa & 1u);
}

const char *smoa_isa_name(smoa_isa isa) {
    switch (isa) {
    case SMOA_ISA_SCALAR: return "scalar";
    case SMOA_ISA_AVX2: return "avx2";
    case SMOA_ISA_AVX512_VNNI: return "avx512-vnni";
    default: return "unknown";
    }
}

static smoa_isa best_isa(void) {
    smoa_isa isa = SMOA_ISA_COUNT - 1;
    while (isa > SMOA_ISA_SCALAR && !smoa_isa_supported(isa)) isa--;
    return isa;
}

smoa_vec_dot_fn smoa_vec_dot_get_isa(smoa_isa isa, uint32_t weight_type) {
    if (isa >= SMOA_ISA_COUNT || !smoa_isa_supported(isa)) return NULL;
    const smoa_isa_kernels *kernels = kernels_of(isa);
    return kernels->dot ? kernels->dot(weight_type) : NULL;
}

smoa_vec_dot4_fn smoa_vec_dot4_get_isa(smoa_isa isa, uint32_t weight_type) {
    if (isa >= SMOA_ISA_COUNT || !smoa_isa_supported(isa)) return NULL;
    const smoa_isa_kernels *kernels = kernels_of(isa);
    return kernels->dot4 ? kernels->dot4(weight_type) : NULL;
}

static smoa_act_quantize_fn *act_quantizer_of(smoa_isa isa, act_format format) {
    const smoa_isa_kernels *kernels = kernels_of(isa);
    return format == ACT_Q8 ? kernels->act_q8 : format == ACT_Q8K ? kernels->act_q8k : NULL;
}

bool smoa_act_quantize_row_isa(smoa_isa isa, uint32_t weight_type, const float *x,
                               void *act, int64_t n) {
    act_format format = act_format_of(weight_type);
    if (format == ACT_NONE || isa >= SMOA_ISA_COUNT || !smoa_isa_supported(isa)) return false;
    if (format == ACT_F32) {
        if (n > 0) memmove(act, x, (size_t)n * sizeof(float)); /* x may be act */
        return true;
    }
    smoa_act_quantize_fn *quantize = act_quantizer_of(isa, format);
    if (!quantize) return false;
    quantize(x, act, n);
    return true;
}

/* ------------------------------------------------------------------------ */
/* quant_dot.h                                                              */

size_t smoa_act_row_bytes(uint32_t weight_type, int64_t n) {
    if (n < 0) return 0;
    switch (act_format_of(weight_type)) {
    case ACT_F32: return (size_t)n * sizeof(float);
    case ACT_Q8: return n % QK ? 0 : (size_t)(n / QK) * sizeof(smoa_act_q8);
    case ACT_Q8K: return n % QK_K ? 0 : (size_t)(n / QK_K) * sizeof(smoa_act_q8k);
    default: return 0;
    }
}

void smoa_act_quantize_row(uint32_t weight_type, const float *x, void *act, int64_t n) {
    for (smoa_isa isa = best_isa();; isa--)
        if (smoa_act_quantize_row_isa(isa, weight_type, x, act, n) || isa == SMOA_ISA_SCALAR)
            return;
}

smoa_vec_dot_fn smoa_vec_dot_get(uint32_t weight_type) {
    for (smoa_isa isa = best_isa();; isa--) {
        smoa_vec_dot_fn dot = smoa_vec_dot_get_isa(isa, weight_type);
        if (dot || isa == SMOA_ISA_SCALAR) return dot;
    }
}

/* The dot4 of the instruction set whose dot smoa_vec_dot_get picks, so
 * that both give the same bits. */
smoa_vec_dot4_fn smoa_vec_dot4_get(uint32_t weight_type) {
    for (smoa_isa isa = best_isa();; isa--) {
        if (smoa_vec_dot_get_isa(isa, weight_type)) return smoa_vec_dot4_get_isa(isa, weight_type);
        if (isa == SMOA_ISA_SCALAR) return NULL;
    }
}

smoa_vec_dot_fn smoa_vec_dot_get_scalar(uint32_t weight_type) {
    return smoa_kernels_scalar.dot(weight_type);
}

const char *smoa_vec_dot_isa(void) { return smoa_isa_name(best_isa()); }
