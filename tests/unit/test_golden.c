/* test_golden.c - the default model's logits against golden vectors from
 * llama.cpp (tests/data/golden, made by scripts/make_logit_vectors.py).
 *
 * Neither engine computes exact float logits: both quantize activations
 * and cache K/V in f16, in different ways. The README there measures how
 * far llama.cpp moves from itself when only its batch size changes (top-10
 * logits up to 1.09 apart, top-1/top-2 gaps up to 0.64) and from a float64
 * reference (1.33, gaps 0.74), with medians over all positions of 0.24 and
 * 0.22. Ours, measured when this test was written: max 0.47-1.21 per prompt,
 * medians 0.24-0.40 (the highest on the 35-position chat prompt, where a
 * median is noisiest). The bounds sit just above those spreads:
 *   - every golden top-10 logit within LOGIT_TOL of ours, median within
 *     MEDIAN_TOL;
 *   - fed the golden greedy continuation token by token, our argmax equals
 *     the golden token at every step whose golden margin exceeds MARGIN_TOL
 *     (below it, either token is a valid greedy choice);
 *   - running freely, our greedy tokens equal the golden ones up to the
 *     first step with a margin below MARGIN_TOL.
 * Exits 77 (skipped, with a message) without the model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "smoa.h"

#define LOGIT_TOL 1.5f
#define MEDIAN_TOL 0.45f
#define MARGIN_TOL 1.0f
#define TOP_K 10
#define MAX_TOKENS 1024
#define N_GREEDY 64

typedef struct golden_prompt {
    char name[64];
    int n_tokens;
    int32_t tokens[MAX_TOKENS];
    int32_t top_id[MAX_TOKENS][TOP_K];
    float top_logit[MAX_TOKENS][TOP_K];
    int n_greedy;
    int32_t greedy[N_GREEDY];
    float margin[N_GREEDY];
} golden_prompt;

static const char *model_path;
static smoa_ctx *ctx;
static smoa_model *model;
static smoa_session *session;
static golden_prompt *prompts;
static int n_prompts;

/* ------------------------------------------------------------------------ */
/* Reading the vectors (format: tests/data/golden/README.md)                */

static int read_prompt(FILE *f, golden_prompt *p) {
    if (fscanf(f, " prompt %63s %d tokens", p->name, &p->n_tokens) != 2 || p->n_tokens > MAX_TOKENS) return -1;
    for (int i = 0; i < p->n_tokens; i++)
        if (fscanf(f, "%d", &p->tokens[i]) != 1) return -1;
    for (int pos = 0; pos < p->n_tokens; pos++) {
        int at;
        if (fscanf(f, "%d", &at) != 1 || at != pos) return -1;
        for (int k = 0; k < TOP_K; k++)
            if (fscanf(f, " %d:%f", &p->top_id[pos][k], &p->top_logit[pos][k]) != 2) return -1;
    }
    if (fscanf(f, " greedy %d", &p->n_greedy) != 1 || p->n_greedy > N_GREEDY) return -1;
    for (int i = 0; i < p->n_greedy; i++)
        if (fscanf(f, "%d", &p->greedy[i]) != 1) return -1;
    int n_margin;
    if (fscanf(f, " margin %d", &n_margin) != 1 || n_margin != p->n_greedy) return -1;
    for (int i = 0; i < n_margin; i++)
        if (fscanf(f, "%f", &p->margin[i]) != 1) return -1;
    return fscanf(f, " end") == 0 ? 0 : -1;
}

static int read_golden(const char *path) {
    FILE *f = fopen(path, "r");
    char source[64], model_name[256], sha[80];
    int version, n_vocab, top_k;
    if (!f) return -1;
    int ok = fscanf(f, "smoa-golden-logits %d source %63s model %255s %79s n_vocab %d top_k %d n_prompts %d",
                    &version, source, model_name, sha, &n_vocab, &top_k, &n_prompts) == 7 &&
             version == 1 && top_k == TOP_K && n_prompts > 0;
    prompts = ok ? calloc((size_t)n_prompts, sizeof *prompts) : NULL;
    for (int i = 0; prompts && i < n_prompts; i++)
        if (read_prompt(f, &prompts[i]) != 0) ok = 0;
    fclose(f);
    return ok && prompts ? 0 : -1;
}

static int setup(void **state) {
    (void)state;
    if (read_golden(SMOA_TEST_DATA "/golden/smollm2-q4_1.txt") != 0) {
        fprintf(stderr, "cannot read the golden vectors\n");
        return -1;
    }
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_ctx = 1024;
    so.n_seq_max = 2;
    if (smoa_ctx_create(NULL, &ctx) || smoa_model_load(ctx, model_path, NULL, &model) ||
        smoa_session_create(ctx, model, &so, &session)) {
        fprintf(stderr, "setup: %s\n", smoa_ctx_last_error(ctx));
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    smoa_session_destroy(session);
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    free(prompts);
    return 0;
}

/* ------------------------------------------------------------------------ */

static int32_t argmax(const float *logits) {
    int32_t best = 0;
    int n = (int)smoa_model_n_vocab(model);
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The prompt token by token (one decode per position, so every position
 * has its logits), comparing each with the golden top-10. */
static bool check_prompt_logits(const golden_prompt *p) {
    int32_t seq;
    assert_int_equal(smoa_seq_create(ctx, session, &seq), SMOA_OK);
    float *diffs = malloc((size_t)p->n_tokens * sizeof *diffs);
    float worst = 0;
    int worst_pos = 0;
    for (int pos = 0; pos < p->n_tokens; pos++) {
        assert_int_equal(smoa_decode(ctx, session, &seq, &p->tokens[pos], 1), SMOA_OK);
        const float *logits = smoa_seq_logits(session, seq);
        diffs[pos] = 0;
        for (int k = 0; k < TOP_K; k++)
            diffs[pos] = fmaxf(diffs[pos], fabsf(logits[p->top_id[pos][k]] - p->top_logit[pos][k]));
        if (diffs[pos] > worst) worst = diffs[pos], worst_pos = pos;
    }
    qsort(diffs, (size_t)p->n_tokens, sizeof *diffs, compare_floats);
    float median = diffs[p->n_tokens / 2];
    printf("  %-12s %4d positions: top-10 logit difference max %.3f (pos %d), median %.3f\n", p->name,
           p->n_tokens, worst, worst_pos, median);
    free(diffs);
    smoa_seq_free(session, seq);
    return worst <= LOGIT_TOL && median <= MEDIAN_TOL;
}

/* Teacher forcing over the golden continuation. */
static void check_forced_greedy(const golden_prompt *p) {
    int32_t seq;
    assert_int_equal(smoa_seq_create(ctx, session, &seq), SMOA_OK);
    assert_int_equal(smoa_prefill(ctx, session, seq, p->tokens, (size_t)p->n_tokens), SMOA_OK);
    int checked = 0;
    for (int i = 0; i < p->n_greedy; i++) {
        int32_t ours = argmax(smoa_seq_logits(session, seq));
        if (p->margin[i] > MARGIN_TOL) {
            checked++;
            if (ours != p->greedy[i])
                fail_msg("%s: greedy step %d: ours %d, llama.cpp %d (margin %.3f)", p->name, i, ours, p->greedy[i],
                         p->margin[i]);
        }
        assert_int_equal(smoa_decode(ctx, session, &seq, &p->greedy[i], 1), SMOA_OK);
    }
    printf("  %-12s greedy agrees at all %d of %d steps with margin > %.1f\n", p->name, checked, p->n_greedy,
           MARGIN_TOL);
    smoa_seq_free(session, seq);
}

/* Free-running greedy generation through the public API. */
static void check_free_greedy(const golden_prompt *p) {
    int32_t seq;
    assert_int_equal(smoa_seq_create(ctx, session, &seq), SMOA_OK);
    assert_int_equal(smoa_prefill(ctx, session, seq, p->tokens, (size_t)p->n_tokens), SMOA_OK);
    smoa_sampling_options greedy;
    smoa_sampling_options_init(&greedy);
    greedy.temperature = 0;
    smoa_generate_options o;
    smoa_generate_options_init(&o);
    o.sampling = &greedy;
    o.max_tokens = (uint32_t)p->n_greedy;
    smoa_generation *g;
    assert_int_equal(smoa_generate(ctx, session, &seq, 1, &o, &g), SMOA_OK);
    const int32_t *ours = smoa_generation_tokens(g, 0);
    int n = (int)smoa_generation_n_tokens(g, 0), same = 0;
    while (same < n && same < p->n_greedy && p->margin[same] > MARGIN_TOL && ours[same] == p->greedy[same]) same++;
    int expect = 0; /* steps before the first near-tie or end of generation */
    while (expect < p->n_greedy && p->margin[expect] > MARGIN_TOL && expect < n) expect++;
    printf("  %-12s free greedy identical for %d tokens (first near-tie or stop at %d)\n", p->name, same, expect);
    if (same < expect) fail_msg("%s: free greedy departs at step %d before any near-tie", p->name, same);
    smoa_generation_free(g);
    smoa_seq_free(session, seq);
}

static void test_prompt_logits(void **state) {
    (void)state;
    int failed = 0;
    for (int i = 0; i < n_prompts; i++) failed += !check_prompt_logits(&prompts[i]);
    if (failed) fail_msg("%d prompts with logits beyond max %.2f / median %.2f of llama.cpp's", failed, LOGIT_TOL,
                         MEDIAN_TOL);
}

static void test_greedy_forced(void **state) {
    (void)state;
    for (int i = 0; i < n_prompts; i++) check_forced_greedy(&prompts[i]);
}

static void test_greedy_free(void **state) {
    (void)state;
    for (int i = 0; i < n_prompts; i++) check_free_greedy(&prompts[i]);
}

int main(void) {
    model_path = getenv("SMOA_MODEL");
    if (!model_path || !model_path[0] || access(model_path, R_OK) != 0) {
        printf("SKIP: the default model is not available (set SMOA_MODEL; scripts/fetch-model.sh fetches it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prompt_logits),
        cmocka_unit_test(test_greedy_forced),
        cmocka_unit_test(test_greedy_free),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
