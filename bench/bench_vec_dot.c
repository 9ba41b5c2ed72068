/* bench_vec_dot.c - the dot-product kernels over whole weight matrices, one
 * row per call as a mat-vec does it: time per dot and weight bytes per
 * second, for every instruction set this CPU runs.
 *
 *   bench_vec_dot
 *
 * Matrices, per type and row length n (576 and 1536, the default model's):
 *   large  about 28M weights (49152 x 576, the output layer, or 18432 x
 *          1536): streams from memory;
 *   small  576 x n, swept as often as the large one has rows / 576: stays
 *          in cache.
 * Every run takes all rows against one activation row; each cell is the
 * median of 5 runs after a warm-up. One thread. "*" marks the kernel that
 * smoa_vec_dot_get picks. K-quants run at n = 1536 only (576 is no whole
 * number of their 256-weight blocks). A second table times activation
 * quantization; a third, one weight row against four activation rows as a
 * prefill does it: four single dots vs one dot4 (where the type has one),
 * per weight row and token, on the small matrices. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "engine/cpu/quant_dot.h"
#include "engine/cpu/quant_dot_internal.h"
#include "model/quantize.h"
#include "model/tensor_types.h"

#define RUNS 5
#define LARGE_WEIGHTS (49152 * 576)
#define SMALL_ROWS 576
#define DISTINCT_ROWS 64 /* quantized once, then copied over the matrix */

static const uint32_t TYPES[] = {SMOA_TYPE_Q4_0, SMOA_TYPE_Q4_1, SMOA_TYPE_Q8_0,
                                 SMOA_TYPE_Q4_K, SMOA_TYPE_Q6_K, SMOA_TYPE_F16};
static const int64_t SIZES[] = {576, 1536};

static volatile float sink; /* keeps the dots from being optimised away */

static float gaussian(void) {
    double u = (rand() + 1.0) / ((double)RAND_MAX + 2.0), v = rand() / (double)RAND_MAX;
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

static void fill_gaussian(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = gaussian();
}

typedef struct matrix {
    uint8_t *data;
    int64_t rows, n;
    size_t row_bytes;
    int sweeps; /* passes over the rows per run */
} matrix;

/* rows x n weights of type: DISTINCT_ROWS random rows, repeated. */
static bool make_matrix(matrix *m, uint32_t type, int64_t rows, int64_t n, int sweeps) {
    uint64_t row_bytes;
    if (!smoa_type_row_bytes(type, (uint64_t)n, &row_bytes)) return false;
    *m = (matrix){malloc((size_t)(rows * (int64_t)row_bytes)), rows, n, (size_t)row_bytes, sweeps};
    float *values = malloc((size_t)n * sizeof(float));
    if (!m->data || !values) {
        free(m->data);
        free(values);
        return false;
    }
    for (int64_t r = 0; r < rows; r++) {
        if (r < DISTINCT_ROWS) {
            fill_gaussian(values, n);
            smoa_quantize(type, values, m->data + r * m->row_bytes, (uint64_t)n);
        } else {
            memcpy(m->data + r * m->row_bytes, m->data + (r % DISTINCT_ROWS) * m->row_bytes,
                   m->row_bytes);
        }
    }
    free(values);
    return true;
}

/* Median seconds per dot over RUNS runs (after one warm-up run). */
static double time_dot(smoa_vec_dot_fn dot, const matrix *m, const void *act) {
    double times[RUNS];
    for (int run = -1; run < RUNS; run++) {
        double start = bench_now();
        float sum = 0.0f;
        for (int sweep = 0; sweep < m->sweeps; sweep++)
            for (int64_t r = 0; r < m->rows; r++) sum += dot(m->n, m->data + r * m->row_bytes, act);
        sink = sum;
        if (run >= 0) times[run] = (bench_now() - start) / (double)(m->rows * m->sweeps);
    }
    return bench_median(times, RUNS);
}

static void print_row(uint32_t type, const char *size_name, const matrix *m, const void *act) {
    smoa_vec_dot_fn best = smoa_vec_dot_get(type);
    printf("| %s | %lld | %s %lldx%lld | %.1f |", smoa_type_traits_get(type)->name,
           (long long)m->n, size_name, (long long)m->rows, (long long)m->n,
           (double)(m->rows * (int64_t)m->row_bytes) / 1e6);
    double scalar_seconds = 0.0, best_seconds = 0.0;
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++) {
        smoa_vec_dot_fn dot = smoa_vec_dot_get_isa(isa, type);
        if (!dot) {
            printf(" - | - |");
            continue;
        }
        double seconds = time_dot(dot, m, act);
        if (isa == SMOA_ISA_SCALAR) scalar_seconds = seconds;
        if (dot == best) best_seconds = seconds;
        printf(" %.1f%s | %.1f |", seconds * 1e9, dot == best ? "*" : "",
               (double)m->row_bytes / seconds / 1e9);
    }
    printf(" %.1fx |\n", scalar_seconds / best_seconds);
}

static void bench_dots(void) {
    printf("| type | n | matrix | MB |");
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++)
        printf(" %s ns/dot | GB/s |", smoa_isa_name(isa));
    printf(" best vs scalar |\n|---|---:|---|---:|");
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++) printf("---:|---:|");
    printf("---:|\n");
    for (size_t s = 0; s < sizeof SIZES / sizeof SIZES[0]; s++) {
        int64_t n = SIZES[s], large_rows = LARGE_WEIGHTS / n;
        float *x = malloc((size_t)n * sizeof(float));
        for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
            size_t act_bytes = smoa_act_row_bytes(TYPES[t], n);
            if (!act_bytes) continue; /* K-quants: 576 is no whole number of 256-blocks */
            void *act = malloc(act_bytes);
            matrix large, small;
            if (!x || !act || !make_matrix(&large, TYPES[t], large_rows, n, 1)) {
                fprintf(stderr, "out of memory\n");
                exit(1);
            }
            if (!make_matrix(&small, TYPES[t], SMALL_ROWS, n, (int)(large_rows / SMALL_ROWS))) {
                fprintf(stderr, "out of memory\n");
                exit(1);
            }
            fill_gaussian(x, n);
            smoa_act_quantize_row(TYPES[t], x, act, n);
            print_row(TYPES[t], "large", &large, act);
            print_row(TYPES[t], "small", &small, act);
            free(large.data);
            free(small.data);
            free(act);
        }
        free(x);
    }
}

/* Median seconds per row of activation quantization. */
static double time_act(smoa_isa isa, uint32_t type, const float *x, void *act, int64_t n) {
    enum { REPEATS = 2000 };
    double times[RUNS];
    for (int run = -1; run < RUNS; run++) {
        double start = bench_now();
        for (int r = 0; r < REPEATS; r++) smoa_act_quantize_row_isa(isa, type, x, act, n);
        if (run >= 0) times[run] = (bench_now() - start) / REPEATS;
    }
    return bench_median(times, RUNS);
}

static void bench_activations(void) {
    const uint32_t formats[] = {SMOA_TYPE_Q4_1, SMOA_TYPE_Q6_K}; /* 32- and 256-value blocks */
    printf("\n| activations | n |");
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++)
        printf(" %s ns/row |", smoa_isa_name(isa));
    printf("\n|---|---:|");
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++) printf("---:|");
    printf("\n");
    for (size_t f = 0; f < 2; f++)
        for (size_t s = 0; s < sizeof SIZES / sizeof SIZES[0]; s++) {
            int64_t n = SIZES[s];
            size_t bytes = smoa_act_row_bytes(formats[f], n);
            if (!bytes) continue; /* 576 is not a whole number of 256-blocks */
            float *x = malloc((size_t)n * sizeof(float));
            void *act = malloc(bytes);
            if (!x || !act) exit(1);
            fill_gaussian(x, n);
            const char *name = formats[f] == SMOA_TYPE_Q6_K ? "q8k (K-quants)" : "q8 (Q4_0..Q8_0)";
            printf("| %s | %lld |", name, (long long)n);
            for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++) {
                if (!smoa_act_quantize_row_isa(isa, formats[f], x, act, n)) {
                    printf(" - |");
                    continue;
                }
                printf(" %.0f |", time_act(isa, formats[f], x, act, n) * 1e9);
            }
            printf("\n");
            free(x);
            free(act);
        }
}

/* Median seconds per (weight row, activation row) over all rows against
 * four activation rows act_stride apart: four dots, or one dot4. */
static double time_four(smoa_vec_dot_fn dot, smoa_vec_dot4_fn dot4, const matrix *m,
                        const uint8_t *acts, size_t act_stride) {
    double times[RUNS];
    for (int run = -1; run < RUNS; run++) {
        double start = bench_now();
        float sum = 0.0f;
        for (int sweep = 0; sweep < m->sweeps; sweep++)
            for (int64_t r = 0; r < m->rows; r++) {
                const uint8_t *w = m->data + r * m->row_bytes;
                float v[4];
                if (dot4) {
                    dot4(m->n, w, acts, act_stride, v);
                } else {
                    for (int k = 0; k < 4; k++) v[k] = dot(m->n, w, acts + k * act_stride);
                }
                sum += v[0] + v[1] + v[2] + v[3];
            }
        sink = sum;
        if (run >= 0) times[run] = (bench_now() - start) / (double)(4 * m->rows * m->sweeps);
    }
    return bench_median(times, RUNS);
}

static void bench_dot4(void) {
    printf("\n| 4 activation rows | n |");
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++)
        printf(" %s 4 dots ns | %s dot4 ns |", smoa_isa_name(isa), smoa_isa_name(isa));
    printf("\n|---|---:|");
    for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++) printf("---:|---:|");
    printf("\n");
    for (size_t s = 0; s < sizeof SIZES / sizeof SIZES[0]; s++) {
        int64_t n = SIZES[s], large_rows = LARGE_WEIGHTS / n;
        float *x = malloc((size_t)n * sizeof(float));
        for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
            size_t act_bytes = smoa_act_row_bytes(TYPES[t], n);
            if (!act_bytes) continue;
            uint8_t *acts = malloc(4 * act_bytes);
            matrix small;
            if (!x || !acts ||
                !make_matrix(&small, TYPES[t], SMALL_ROWS, n, (int)(large_rows / SMALL_ROWS))) {
                fprintf(stderr, "out of memory\n");
                exit(1);
            }
            for (int k = 0; k < 4; k++) {
                fill_gaussian(x, n);
                smoa_act_quantize_row(TYPES[t], x, acts + k * act_bytes, n);
            }
            printf("| %s | %lld |", smoa_type_traits_get(TYPES[t])->name, (long long)n);
            for (smoa_isa isa = SMOA_ISA_SCALAR; isa < SMOA_ISA_COUNT; isa++) {
                smoa_vec_dot_fn dot = smoa_vec_dot_get_isa(isa, TYPES[t]);
                smoa_vec_dot4_fn dot4 = smoa_vec_dot4_get_isa(isa, TYPES[t]);
                if (!dot) {
                    printf(" - | - |");
                    continue;
                }
                printf(" %.1f |", time_four(dot, NULL, &small, acts, act_bytes) * 1e9);
                if (dot4)
                    printf(" %.1f |", time_four(dot, dot4, &small, acts, act_bytes) * 1e9);
                else
                    printf(" - |");
            }
            printf("\n");
            free(small.data);
            free(acts);
        }
        free(x);
    }
}

int main(void) {
    srand(1);
    printf("vec_dot kernels, one thread; best on this CPU: %s\n\n", smoa_vec_dot_isa());
    bench_dots();
    bench_activations();
    bench_dot4();
    return 0;
}
