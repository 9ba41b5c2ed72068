/* test_cuda_sampling.c - device sampling against the CPU.
 *
 * Greedy picks are compared with the CPU sampler itself (temperature 0),
 * refused rows included. Temperature + top-p draws are compared, token for
 * token, with a CPU function written from the contract in sampling.h (same
 * integer masses, same nucleus, same walk in id order), and in distribution
 * with the CPU sampler (top_k and min_p off), which walks the kept tokens in
 * another order. The tokens buffer is poisoned with a value that is neither
 * a token nor -1 before every run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_test_util.h"
#include "engine/sampler.h"
#include "random_values.h"
#include "sampling.h"

#define POISON_TOKEN 0x7F7F7F7F

/* ------------------------------------------------------------------------ */
/* Running the kernels                                                      */

/* tokens [rows] from logits [rows][n_vocab]: greedy when params is NULL. */
static void pick_on_device(const float *logits, int rows, int n_vocab, const smoa_cuda_sample_params *params,
                           int32_t *tokens) {
    smoa_error err = {0};
    const size_t out_bytes = (size_t)rows * sizeof(int32_t);
    for (int r = 0; r < rows; r++) tokens[r] = POISON_TOKEN;
    void *d_logits = device_copy(logits, (size_t)rows * n_vocab * sizeof(float));
    void *d_tokens = device_copy(tokens, out_bytes);
    void *d_params = NULL;
    if (params) {
        d_params = device_copy(params, (size_t)rows * sizeof *params);
        check_ok(smoa_cuda_sample(d_logits, rows, n_vocab, d_params, d_tokens, NULL, &err), &err);
    } else {
        check_ok(smoa_cuda_argmax(d_logits, rows, n_vocab, d_tokens, NULL, &err), &err);
    }
    host_copy(tokens, d_tokens, out_bytes);
    smoa_cuda_free(d_logits);
    smoa_cuda_free(d_tokens);
    smoa_cuda_free(d_params);
}

/* ------------------------------------------------------------------------ */
/* CPU side                                                                 */

/* The CPU sampler's greedy pick, or -1 where it refuses the row. */
static int32_t cpu_greedy(const float *logits, int n_vocab) {
    smoa_sampler_params params;
    smoa_sampler_params_default(&params);
    params.temperature = 0.0f;
    smoa_sampler *sampler;
    smoa_error err = {0};
    check_ok(smoa_sampler_create(&params, n_vocab, &sampler, &err), &err);
    int32_t token;
    smoa_status st = smoa_sampler_sample(sampler, logits, &token, &err);
    smoa_sampler_free(sampler);
    return st == SMOA_OK ? token : -1;
}

static bool row_usable(const float *x, int n, float *max_logit) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (isnan(x[i]) || x[i] == INFINITY) return false;
        if (x[i] > max) max = x[i];
    }
    *max_logit = max;
    return max != -INFINITY;
}

static bool params_valid(smoa_cuda_sample_params p) {
    return p.temperature >= 0.0f && p.temperature < INFINITY && p.top_p >= 0.0f && p.top_p <= 1.0f &&
           p.uniform >= 0.0 && p.uniform < 1.0;
}

static uint64_t token_mass(float logit, float max_logit, float temperature) {
    return (uint64_t)llrint(exp(((double)logit - (double)max_logit) / (double)temperature) * 0x1p32);
}

typedef struct ranked {
    float logit;
    int id;
} ranked;

static int by_rank(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->logit != b->logit) return a->logit > b->logit ? -1 : 1;
    return a->id - b->id;
}

/* Marks in kept[] the shortest best-first prefix whose mass reaches
 * ceil(top_p * total). */
static void mark_nucleus(const float *x, int n, const uint64_t *mass, float top_p, bool *kept) {
    ranked *order = malloc((size_t)n * sizeof *order);
    assert_non_null(order);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) order[i] = (ranked){x[i], i}, total += mass[i];
    qsort(order, (size_t)n, sizeof *order, by_rank);
    const uint64_t target = (uint64_t)ceil((double)top_p * (double)total);
    uint64_t running = 0;
    for (int i = 0; i < n && running < target; i++) {
        kept[order[i].id] = true;
        running += mass[order[i].id];
    }
    free(order);
}

/* sampling.h's contract, written plainly. */
static int32_t contract_sample(const float *x, int n, smoa_cuda_sample_params p) {
    float max_logit;
    if (!row_usable(x, n, &max_logit) || !params_valid(p)) return -1;
    if (p.temperature == 0.0f || p.top_p == 0.0f) return cpu_greedy(x, n);
    uint64_t *mass = malloc((size_t)n * sizeof *mass);
    bool *kept = calloc((size_t)n, sizeof *kept);
    assert_true(mass && kept);
    for (int i = 0; i < n; i++) mass[i] = token_mass(x[i], max_logit, p.temperature);
    if (p.top_p < 1.0f) mark_nucleus(x, n, mass, p.top_p, kept);
    else memset(kept, 1, (size_t)n * sizeof *kept);
    uint64_t kept_total = 0, running = 0;
    for (int i = 0; i < n; i++) kept_total += kept[i] ? mass[i] : 0;
    uint64_t r = (uint64_t)(p.uniform * (double)kept_total);
    if (r >= kept_total) r = kept_total - 1;
    int32_t token = -1;
    for (int i = 0; i < n && token < 0; i++) {
        running += kept[i] ? mass[i] : 0;
        if (running > r) token = i;
    }
    free(mass);
    free(kept);
    return token;
}

/* ------------------------------------------------------------------------ */
/* Inputs                                                                   */

/* Gaussian logits times scale; with grid > 0 every value rounded to a
 * multiple of 1 / grid, so equal logits (and a tied nucleus cut) are common. */
static float *random_logits(int rows, int n, float scale, int grid) {
    float *x = malloc((size_t)rows * n * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < (int64_t)rows * n; i++) {
        x[i] = gaussian() * scale;
        if (grid > 0) x[i] = roundf(x[i] * (float)grid) / (float)grid;
    }
    return x;
}

/* Spoils some rows the way the CPU sampler refuses: a NaN, a +inf, or
 * every logit -inf; and masks a few tokens with -inf in the others. */
static void spoil_some_rows(float *x, int rows, int n) {
    for (int r = 0; r < rows; r++) {
        float *row = x + (int64_t)r * n;
        switch (uniform_int(0, 9)) {
        case 0: row[uniform_int(0, n - 1)] = NAN; break;
        case 1: row[uniform_int(0, n - 1)] = INFINITY; break;
        case 2:
            for (int i = 0; i < n; i++) row[i] = -INFINITY;
            break;
        default:
            for (int m = 0; m < n / 8; m++) row[uniform_int(0, n - 1)] = -INFINITY;
        }
    }
}

static smoa_cuda_sample_params random_params(void) {
    static const float top_ps[] = {1.0f, 1.0f, 0.95f, 0.9f, 0.5f, 0.1f, 0.0f};
    smoa_cuda_sample_params p = {
        .temperature = uniform_int(0, 7) == 0 ? 0.0f : (float)(0.2 + 1.3 * uniform()),
        .top_p = top_ps[uniform_int(0, (int)(sizeof top_ps / sizeof *top_ps) - 1)],
        .uniform = uniform(),
    };
    return p;
}

static const int vocab_sizes[] = {4, 8, 64, 256, 1000, 32000, 49152};
static const int row_counts[] = {1, 5, 64};

/* ------------------------------------------------------------------------ */
/* Greedy                                                                   */

static void expect_greedy_matches_cpu(const float *x, int rows, int n) {
    int32_t *tokens = malloc((size_t)rows * sizeof *tokens);
    assert_non_null(tokens);
    pick_on_device(x, rows, n, NULL, tokens);
    for (int r = 0; r < rows; r++) {
        int32_t want = cpu_greedy(x + (int64_t)r * n, n);
        if (tokens[r] != want) fail_msg("greedy, n_vocab %d: row %d: %d, CPU %d", n, r, tokens[r], want);
    }
    free(tokens);
}

static void test_greedy_matches_cpu_sampler(void **state) {
    (void)state;
    random_seed(201);
    for (size_t v = 0; v < sizeof vocab_sizes / sizeof *vocab_sizes; v++)
        for (size_t r = 0; r < sizeof row_counts / sizeof *row_counts; r++) {
            const int n = vocab_sizes[v], rows = row_counts[r];
            float *x = random_logits(rows, n, 3.0f, v % 2 ? 2 : 0);
            spoil_some_rows(x, rows, n);
            expect_greedy_matches_cpu(x, rows, n);
            free(x);
        }
}

static void test_greedy_ties_and_signed_zero(void **state) {
    (void)state;
    enum { N = 8 };
    const float z = -0.0f;
    const float rows[][N] = {
        {1, 3, 3, 0, 3, 2, 1, 0},
        {z, 0, z, 0, -1, -2, -INFINITY, -3},
        {-INFINITY, -INFINITY, -INFINITY, -5, -INFINITY, -INFINITY, -INFINITY, -5},
        {7, 7, 7, 7, 7, 7, 7, 7},
    };
    expect_greedy_matches_cpu(&rows[0][0], 4, N);
}

/* ------------------------------------------------------------------------ */
/* Temperature + top-p                                                      */

static void expect_sample_matches_contract(const float *x, int rows, int n, const smoa_cuda_sample_params *params) {
    int32_t *tokens = malloc((size_t)rows * sizeof *tokens);
    assert_non_null(tokens);
    pick_on_device(x, rows, n, params, tokens);
    for (int r = 0; r < rows; r++) {
        int32_t want = contract_sample(x + (int64_t)r * n, n, params[r]);
        if (tokens[r] != want)
            fail_msg("n_vocab %d, row %d (T %g, top_p %g, u %.17g): %d, CPU %d", n, r, (double)params[r].temperature,
                     (double)params[r].top_p, params[r].uniform, tokens[r], want);
    }
    free(tokens);
}

static void test_sample_matches_contract(void **state) {
    (void)state;
    random_seed(202);
    for (int round = 0; round < 3; round++)
        for (size_t v = 0; v < sizeof vocab_sizes / sizeof *vocab_sizes; v++)
            for (size_t r = 0; r < sizeof row_counts / sizeof *row_counts; r++) {
                const int n = vocab_sizes[v], rows = row_counts[r];
                /* round 1 puts logits on a coarse grid: ties at the cut */
                float *x = random_logits(rows, n, round == 2 ? 8.0f : 2.5f, round == 1 ? 2 : 0);
                spoil_some_rows(x, rows, n);
                smoa_cuda_sample_params *params = malloc((size_t)rows * sizeof *params);
                assert_non_null(params);
                for (int i = 0; i < rows; i++) params[i] = random_params();
                expect_sample_matches_contract(x, rows, n, params);
                free(params);
                free(x);
            }
}

/* Equal logits everywhere: the cut falls inside one run of ties, and the
 * uniform number walks across every token of the nucleus. */
static void test_sample_flat_rows(void **state) {
    (void)state;
    enum { ROWS = 64, N = 256 };
    static float x[ROWS * N];
    smoa_cuda_sample_params params[ROWS];
    for (int i = 0; i < ROWS * N; i++) x[i] = 1.25f;
    for (int r = 0; r < ROWS; r++)
        params[r] = (smoa_cuda_sample_params){.temperature = 0.7f, .top_p = r % 2 ? 0.3f : 1.0f,
                                              .uniform = (double)r / ROWS};
    expect_sample_matches_contract(x, ROWS, N, params);
}

static void test_invalid_row_params_give_minus_one(void **state) {
    (void)state;
    enum { ROWS = 6, N = 64 };
    random_seed(203);
    float *x = random_logits(ROWS, N, 1.0f, 0);
    const smoa_cuda_sample_params params[ROWS] = {
        {-1.0f, 0.9f, 0.5}, {NAN, 0.9f, 0.5}, {0.8f, 1.5f, 0.5},
        {0.8f, NAN, 0.5},   {0.8f, 0.9f, 1.0}, {0.8f, 0.9f, -0.25},
    };
    int32_t tokens[ROWS];
    pick_on_device(x, ROWS, N, params, tokens);
    for (int r = 0; r < ROWS; r++) assert_int_equal(tokens[r], -1);
    free(x);
}

/* The same row drawn many times: the device's token frequencies against the
 * CPU sampler's (top_k and min_p off), which uses other uniform numbers and
 * another walk order, so only the distributions can agree. */
static void test_sample_distribution_matches_cpu_sampler(void **state) {
    (void)state;
    enum { DRAWS = 20000, N = 16 };
    const float row[N] = {2.0f, 1.5f, 1.4f, 1.0f, 0.9f, 0.5f, 0.2f, 0.0f,
                          -0.3f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -INFINITY};
    const float temperature = 0.8f, top_p = 0.9f;
    float *x = malloc((size_t)DRAWS * N * sizeof *x);
    smoa_cuda_sample_params *params = malloc(DRAWS * sizeof *params);
    int32_t *tokens = malloc(DRAWS * sizeof *tokens);
    assert_true(x && params && tokens);
    random_seed(204);
    for (int d = 0; d < DRAWS; d++) {
        memcpy(x + (int64_t)d * N, row, sizeof row);
        params[d] = (smoa_cuda_sample_params){temperature, top_p, uniform()};
    }
    pick_on_device(x, DRAWS, N, params, tokens);

    smoa_sampler_params sp;
    smoa_sampler_params_default(&sp);
    sp.temperature = temperature;
    sp.top_p = top_p;
    sp.top_k = 0;
    sp.min_p = 0.0f;
    double gpu_freq[N] = {0}, cpu_freq[N] = {0};
    smoa_error err = {0};
    for (int d = 0; d < DRAWS; d++) {
        smoa_sampler *sampler;
        sp.seed = (uint64_t)d;
        check_ok(smoa_sampler_create(&sp, N, &sampler, &err), &err);
        int32_t token;
        check_ok(smoa_sampler_sample(sampler, row, &token, &err), &err);
        smoa_sampler_free(sampler);
        assert_true(tokens[d] >= 0 && tokens[d] < N);
        gpu_freq[tokens[d]] += 1.0 / DRAWS;
        cpu_freq[token] += 1.0 / DRAWS;
    }
    double total_variation = 0;
    for (int i = 0; i < N; i++) total_variation += 0.5 * fabs(gpu_freq[i] - cpu_freq[i]);
    printf("  total variation between device and CPU sampler: %.4f\n", total_variation);
    assert_true(total_variation < 0.04); /* about 0.015 expected from 2 x 20000 draws */
    free(x);
    free(params);
    free(tokens);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */

static void test_bad_arguments(void **state) {
    (void)state;
    smoa_error err = {0};
    float x = 0;
    int32_t token;
    smoa_cuda_sample_params p = {0.8f, 0.9f, 0.5};
    assert_int_equal(smoa_cuda_argmax(&x, 0, 8, &token, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_true(strlen(err.message) > 0);
    printf("  %s\n", err.message);
    assert_int_equal(smoa_cuda_argmax(&x, 1, 0, &token, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_argmax(&x, 1, SMOA_CUDA_SAMPLE_MAX_VOCAB + 1, &token, NULL, &err),
                     SMOA_ERR_UNSUPPORTED);
    printf("  %s\n", err.message);
    assert_int_equal(smoa_cuda_argmax(NULL, 1, 8, &token, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_sample(&x, -3, 8, &p, &token, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_sample(&x, 1, 8, NULL, &token, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_sample(&x, 1, 8, &p, NULL, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_cuda_sample_check(64, SMOA_CUDA_SAMPLE_MAX_VOCAB, &err), SMOA_OK);
}

int main(void) {
    skip_without_device();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_matches_cpu_sampler),
        cmocka_unit_test(test_greedy_ties_and_signed_zero),
        cmocka_unit_test(test_sample_matches_contract),
        cmocka_unit_test(test_sample_flat_rows),
        cmocka_unit_test(test_invalid_row_params_give_minus_one),
        cmocka_unit_test(test_sample_distribution_matches_cpu_sampler),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
