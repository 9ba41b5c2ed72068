/* test_cuda_attention.c - RoPE + KV-cache write, and split-KV attention
 * over the paged cache, against the CPU reference on fresh random inputs.
 *
 * RoPE: the CPU's smoa_op_rope; both sides build the same angles, so q
 * differs by the sine/cosine rounding only (bound 1e-5 of the largest
 * value), and each cached f16 value is the f16 rounding of the CPU's value
 * to within one f16 step (2^-10 relative) plus that rounding (a few f32
 * ulps of |x0| + |x1| <= 8, which a K value rotated to near zero keeps:
 * 4e-6 absolute). Slots no token owns must keep their poison.
 *
 * Attention: a reference in double over the same f16 K/V, for several
 * sequences of different lengths in one launch (prefill-like runs of
 * positions and single decode tokens), GQA groups of 1, 3, 4 and 12 heads
 * (more than one block's 8), head sizes 32 to 256, and key splits from one
 * range to many (most empty for short sequences). f32 sums: bound 1e-5 of
 * the largest output; a wrong slot, head or weight is off by O(1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "attention.h"
#include "cuda_test_util.h"
#include "engine/cpu/ops.h"
#include "engine/kv_pages.h"
#include "model/tensor_types.h"
#include "random_values.h"
#include "rope_kv.h"

#define ROPE_TOLERANCE 1e-5
#define ATTENTION_TOLERANCE 1e-5

static float *random_floats(size_t n) {
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = gaussian();
    return x;
}

/* n distinct values of [0, range), in random order. */
static void distinct_values(uint32_t *out, int n, uint32_t range) {
    for (int i = 0; i < n; i++) {
        bool again;
        do {
            out[i] = (uint32_t)uniform_int(0, (int)range - 1);
            again = false;
            for (int j = 0; j < i; j++) again |= out[j] == out[i];
        } while (again);
    }
}

/* ------------------------------------------------------------------------ */
/* RoPE + KV write                                                          */

static void check_cached(const uint16_t *cache, const float *want, const uint32_t *slot, int n_tokens, int kv_dim,
                         int n_slots, const char *what) {
    for (int s = 0; s < n_slots; s++) {
        int t = -1;
        for (int i = 0; i < n_tokens; i++)
            if (slot[i] == (uint32_t)s) t = i;
        for (int j = 0; j < kv_dim; j++) {
            uint16_t bits = cache[(size_t)s * kv_dim + j];
            if (t < 0) {
                if (bits != 0xFFFF) fail_msg("%s: slot %d, owned by no token, was written", what, s);
                continue;
            }
            float got = smoa_fp16_to_fp32(bits), v = want[(size_t)t * kv_dim + j];
            if (!(fabsf(got - v) <= 0x1p-10f * fabsf(v) + 4e-6f))
                fail_msg("%s: token %d value %d is %g, want %g", what, t, j, got, v);
        }
    }
}

static void check_rope_kv(int n_head, int n_head_kv, int head_dim, int n_rot, float base) {
    enum { N_TOKENS = 6, N_SLOTS = 32 };
    int q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim;
    int32_t pos[N_TOKENS];
    uint32_t slot[N_TOKENS];
    for (int t = 0; t < N_TOKENS; t++) pos[t] = uniform_int(0, 3000);
    distinct_values(slot, N_TOKENS, N_SLOTS);
    float *q = random_floats((size_t)N_TOKENS * q_dim), *k = random_floats((size_t)N_TOKENS * kv_dim);
    float *v = random_floats((size_t)N_TOKENS * kv_dim);

    smoa_cuda_rope_kv_args a = {device_copy(q, (size_t)N_TOKENS * q_dim * sizeof(float)),
                                device_copy(k, (size_t)N_TOKENS * kv_dim * sizeof(float)),
                                device_copy(v, (size_t)N_TOKENS * kv_dim * sizeof(float)),
                                device_copy(pos, sizeof pos),
                                device_copy(slot, sizeof slot),
                                device_poisoned((size_t)N_SLOTS * kv_dim * sizeof(uint16_t)),
                                device_poisoned((size_t)N_SLOTS * kv_dim * sizeof(uint16_t)),
                                N_TOKENS, n_head, n_head_kv, head_dim, n_rot, base};
    smoa_error err = {0};
    check_ok(smoa_cuda_rope_kv(&a, 0, &err), &err);
    float *got_q = malloc((size_t)N_TOKENS * q_dim * sizeof(float));
    uint16_t *got_k = malloc((size_t)N_SLOTS * kv_dim * sizeof(uint16_t));
    uint16_t *got_v = malloc((size_t)N_SLOTS * kv_dim * sizeof(uint16_t));
    double *want_q = malloc((size_t)N_TOKENS * q_dim * sizeof(double));
    assert_non_null(got_q);
    assert_non_null(got_k);
    assert_non_null(got_v);
    assert_non_null(want_q);
    host_copy(got_q, a.q, (size_t)N_TOKENS * q_dim * sizeof(float));
    host_copy(got_k, a.k_cache, (size_t)N_SLOTS * kv_dim * sizeof(uint16_t));
    host_copy(got_v, a.v_cache, (size_t)N_SLOTS * kv_dim * sizeof(uint16_t));

    smoa_op_rope(q, pos, N_TOKENS, n_head, head_dim, n_rot, base, 0, 1);
    smoa_op_rope(k, pos, N_TOKENS, n_head_kv, head_dim, n_rot, base, 0, 1);
    for (int i = 0; i < N_TOKENS * q_dim; i++) want_q[i] = q[i];
    double e = worst_relative_error(got_q, want_q, (size_t)N_TOKENS * q_dim);
    if (!(e <= ROPE_TOLERANCE)) fail_msg("rope q (head_dim %d, n_rot %d): error %g", head_dim, n_rot, e);
    check_cached(got_k, k, slot, N_TOKENS, kv_dim, N_SLOTS, "K cache");
    check_cached(got_v, v, slot, N_TOKENS, kv_dim, N_SLOTS, "V cache");

    void *device[] = {a.q, (void *)a.k, (void *)a.v, (void *)a.pos, (void *)a.slot, a.k_cache, a.v_cache};
    for (size_t i = 0; i < sizeof device / sizeof device[0]; i++) smoa_cuda_free(device[i]);
    free(q);
    free(k);
    free(v);
    free(got_q);
    free(got_k);
    free(got_v);
    free(want_q);
}

static void test_rope_kv_matches_cpu(void **state) {
    (void)state;
    random_seed(201);
    check_rope_kv(4, 2, 64, 64, 10000.0f);
    check_rope_kv(9, 3, 64, 64, 100000.0f);
    check_rope_kv(4, 1, 128, 64, 500000.0f); /* partial rotation: dims 64.. pass through */
}

/* ------------------------------------------------------------------------ */
/* Attention                                                                */

enum { N_PAGES = 32, N_SEQ = 3, MAX_PAGES = 9 };
static const int SEQ_LENGTH[N_SEQ] = {40, 130, 1};
/* Query tokens: the last three positions of sequence 0 (a prefill), the
 * last of sequence 1 and the only one of sequence 2 (decode steps). */
enum { T = 5 };
static const int32_t QUERY_SEQ[T] = {0, 0, 0, 1, 2};
static const int32_t QUERY_POS[T] = {37, 38, 39, 129, 0};

typedef struct attention_case {
    int n_head, n_head_kv, head_dim;
} attention_case;

/* The reference: out[t][h] = softmax(q K^T / sqrt(D)) V over positions
 * 0..pos of t's sequence, in double. */
static void reference_attention(const attention_case *c, const float *q, const uint16_t *k_cache,
                                const uint16_t *v_cache, const uint32_t tables[N_SEQ][MAX_PAGES], double *out) {
    int D = c->head_dim, group = c->n_head / c->n_head_kv, kv_dim = c->n_head_kv * D;
    double *w = malloc(200 * sizeof(double));
    assert_non_null(w);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < c->n_head; h++) {
            const float *qh = q + ((size_t)t * c->n_head + h) * D;
            size_t head = (size_t)(h / group) * D;
            double top = -INFINITY, sum = 0;
            for (int p = 0; p <= QUERY_POS[t]; p++) {
                size_t slot = (size_t)tables[QUERY_SEQ[t]][p / SMOA_KV_PAGE] * SMOA_KV_PAGE + p % SMOA_KV_PAGE;
                double dot = 0;
                for (int d = 0; d < D; d++) dot += qh[d] * (double)smoa_fp16_to_fp32(k_cache[slot * kv_dim + head + d]);
                w[p] = dot / sqrt((double)D);
                top = fmax(top, w[p]);
            }
            for (int p = 0; p <= QUERY_POS[t]; p++) sum += w[p] = exp(w[p] - top);
            double *o = out + ((size_t)t * c->n_head + h) * D;
            for (int d = 0; d < D; d++) o[d] = 0;
            for (int p = 0; p <= QUERY_POS[t]; p++) {
                size_t slot = (size_t)tables[QUERY_SEQ[t]][p / SMOA_KV_PAGE] * SMOA_KV_PAGE + p % SMOA_KV_PAGE;
                for (int d = 0; d < D; d++)
                    o[d] += w[p] / sum * smoa_fp16_to_fp32(v_cache[slot * kv_dim + head + d]);
            }
        }
    free(w);
}

static uint16_t *random_cache(size_t n) {
    uint16_t *c = malloc(n * sizeof(uint16_t));
    assert_non_null(c);
    for (size_t i = 0; i < n; i++) c[i] = smoa_fp32_to_fp16(gaussian());
    return c;
}

/* Runs the attention with the given split (0: planned) and compares. */
static void check_attention(const attention_case *c, int n_splits, int split_keys) {
    int D = c->head_dim, q_dim = c->n_head * D, kv_dim = c->n_head_kv * D;
    size_t cache_values = (size_t)N_PAGES * SMOA_KV_PAGE * kv_dim, out_values = (size_t)T * q_dim;
    uint32_t pages[N_SEQ * MAX_PAGES], tables[N_SEQ][MAX_PAGES];
    distinct_values(pages, N_SEQ * MAX_PAGES, N_PAGES);
    memcpy(tables, pages, sizeof tables);
    for (int s = 0; s < N_SEQ; s++) assert_true((SEQ_LENGTH[s] + SMOA_KV_PAGE - 1) / SMOA_KV_PAGE <= MAX_PAGES);
    float *q = random_floats(out_values);
    uint16_t *k_cache = random_cache(cache_values), *v_cache = random_cache(cache_values);
    size_t max_partials = (size_t)T * c->n_head * 64;
    if (!n_splits)
        smoa_cuda_attention_plan(T, SEQ_LENGTH[1], c->n_head, c->n_head_kv, 132, max_partials, &n_splits,
                                 &split_keys);

    smoa_cuda_attention_args a = {device_copy(q, out_values * sizeof(float)),
                                  device_copy(k_cache, cache_values * sizeof(uint16_t)),
                                  device_copy(v_cache, cache_values * sizeof(uint16_t)),
                                  device_copy(QUERY_POS, sizeof QUERY_POS),
                                  device_copy(QUERY_SEQ, sizeof QUERY_SEQ),
                                  device_copy(tables, sizeof tables),
                                  MAX_PAGES,
                                  device_poisoned(out_values * sizeof(float)),
                                  device_poisoned(max_partials * D * sizeof(float)),
                                  device_poisoned(max_partials * sizeof(float)),
                                  device_poisoned(max_partials * sizeof(float)),
                                  T, c->n_head, c->n_head_kv, D, n_splits, split_keys};
    smoa_error err = {0};
    check_ok(smoa_cuda_attention(&a, 0, &err), &err);
    float *got = malloc(out_values * sizeof(float));
    double *want = malloc(out_values * sizeof(double));
    assert_non_null(got);
    assert_non_null(want);
    host_copy(got, a.out, out_values * sizeof(float));
    reference_attention(c, q, k_cache, v_cache, tables, want);
    double e = worst_relative_error(got, want, out_values);
    if (!(e <= ATTENTION_TOLERANCE))
        fail_msg("attention heads %d/%d of %d, %d splits of %d keys: error %g", c->n_head, c->n_head_kv, D, n_splits,
                 split_keys, e);

    void *device[] = {(void *)a.q, (void *)a.k_cache, (void *)a.v_cache, (void *)a.pos, (void *)a.table_of_token,
                      (void *)a.page_tables, a.out, a.part_acc, a.part_max, a.part_sum};
    for (size_t i = 0; i < sizeof device / sizeof device[0]; i++) smoa_cuda_free(device[i]);
    free(q);
    free(k_cache);
    free(v_cache);
    free(got);
    free(want);
}

static void test_attention_matches_cpu(void **state) {
    (void)state;
    random_seed(202);
    const attention_case cases[] = {{8, 2, 64}, {9, 3, 64}, {12, 1, 128}, {4, 4, 32}, {6, 2, 96}, {8, 2, 256}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_attention(&cases[i], 0, 0);   /* as planned */
        check_attention(&cases[i], 1, 160); /* one range for every token */
        check_attention(&cases[i], 5, 32);  /* many, most empty for short sequences */
    }
}

/* The plan covers every key, in whole tiles, within the scratch. */
static void test_attention_plan(void **state) {
    (void)state;
    const int token_counts[] = {1, 3, 64, 512}, key_counts[] = {1, 31, 129, 4096, 8192};
    for (size_t i = 0; i < sizeof token_counts / sizeof token_counts[0]; i++)
        for (size_t j = 0; j < sizeof key_counts / sizeof key_counts[0]; j++) {
            int T_ = token_counts[i], keys = key_counts[j], n_splits, split_keys;
            size_t max_partials = (size_t)9 * 4 * 512;
            smoa_cuda_attention_plan(T_, keys, 9, 3, 132, max_partials, &n_splits, &split_keys);
            assert_true(n_splits >= 1 && n_splits <= 32);
            assert_true(split_keys % 32 == 0);
            assert_true((int64_t)n_splits * split_keys >= keys);
            assert_true((int64_t)(n_splits - 1) * split_keys < keys); /* no split left empty for all */
            assert_true((size_t)T_ * 9 * n_splits <= max_partials);
        }
    assert_false(smoa_cuda_attention_supported(8, 3, 64));  /* heads not a multiple of KV heads */
    assert_false(smoa_cuda_attention_supported(8, 2, 80));  /* no kernel for this head size */
    assert_true(smoa_cuda_attention_supported(32, 8, 64));
}

int main(void) {
    skip_without_device();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rope_kv_matches_cpu),
        cmocka_unit_test(test_attention_matches_cpu),
        cmocka_unit_test(test_attention_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
