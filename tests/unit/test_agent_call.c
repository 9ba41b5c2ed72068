/* test_agent_call.c - batched agent calls on a small synthetic model: a
 * follow-up question asked in a kept conversation (the self judge's path)
 * reuses the conversation's KV cache and gives the same logits as the whole
 * conversation prefilled from scratch; kept sequences are released. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agents/agent_call.h"
#include "agents/run.h"
#include "core/context.h"
#include "small_model.h"
#include "smoa.h"

#define N_CALLS 3
#define N_IDS 32 /* logits compared: token ids 0..31 */

static int setup(void **state) {
    (void)state;
    return small_model_setup(11);
}

static smoa_session *new_session(void) {
    smoa_session *s = small_session(1024);
    if (!s) fail_msg("session: %s", smoa_ctx_last_error(ctx));
    return s;
}

/* The account the calls' tokens go to. */
static smoa_run *new_run(void) {
    smoa_run_options o;
    smoa_run_options_init(&o);
    smoa_run *run = smoa_run_new("q", &o);
    assert_non_null(run);
    return run;
}

static const char *const questions[N_CALLS] = {"What is 6 times 7?", "Name a colour.", "Why is the sky blue?"};

/* Generates one answer per question with their sequences kept. */
static void generate_kept(smoa_session *s, smoa_run *run, smoa_agent_call *calls, bool keep) {
    smoa_call_settings cs = {0.8f, 20, SMOA_STAGE_PROPOSE, NULL, NULL, NULL, keep};
    for (size_t i = 0; i < N_CALLS; i++) calls[i] = (smoa_agent_call){.user = questions[i], .seed = 7 + i};
    smoa_status st = smoa_agents_generate(ctx, s, run, calls, N_CALLS, &cs, &ctx->error);
    if (st) fail_msg("generate: %s", ctx->error.message);
}

static smoa_agent_call follow_up(const smoa_agent_call *answered, size_t i, smoa_call_cache *resume) {
    return (smoa_agent_call){.user = questions[i], .reply = answered->response.data ? answered->response.data : "",
                             .follow_up = "Is that right? Yes or No.", .resume = resume};
}

static bool all_pages_free(const smoa_session *s) { return s->pool.n_free == s->pool.n_pages; }

/* Logits of the first N_IDS token ids after each call's prompt. */
static void score_ids(smoa_session *s, smoa_run *run, smoa_agent_call *calls, size_t n, float *out) {
    int32_t ids[N_IDS];
    for (int32_t j = 0; j < N_IDS; j++) ids[j] = j;
    if (smoa_agents_score(s, run, SMOA_STAGE_JUDGE, calls, n, ids, N_IDS, out, &ctx->error))
        fail_msg("score: %s", ctx->error.message);
}

static void test_resumed_follow_up_equals_fresh_prefill(void **state) {
    (void)state;
    smoa_session *s = new_session();
    smoa_run *run = new_run();
    smoa_agent_call answers[N_CALLS];
    generate_kept(s, run, answers, true);
    assert_int_equal(live_sequences(s), N_CALLS); /* one kept per call, nothing else */
    for (size_t i = 0; i < N_CALLS; i++) {
        assert_true(answers[i].kept.n > 0);
        assert_int_equal(smoa_seq_length(s, answers[i].kept.seq), answers[i].kept.n);
        /* the prompt, then every generated token but the last (never decoded) */
        assert_int_equal(answers[i].kept.n, answers[i].prompt_tokens + answers[i].generated_tokens - 1);
    }

    smoa_agent_call resumed[N_CALLS], fresh[N_CALLS];
    float got[N_CALLS * N_IDS], want[N_CALLS * N_IDS];
    uint32_t reused_at_least = 0;
    for (size_t i = 0; i < N_CALLS; i++) {
        resumed[i] = follow_up(&answers[i], i, &answers[i].kept);
        fresh[i] = follow_up(&answers[i], i, NULL);
        reused_at_least += answers[i].prompt_tokens; /* the question's prompt is a prefix of the follow-up's */
    }
    smoa_cost before = run->cost[SMOA_STAGE_JUDGE];
    score_ids(s, run, resumed, N_CALLS, got);
    uint64_t resumed_prefill = run->cost[SMOA_STAGE_JUDGE].prefill_tokens - before.prefill_tokens;
    uint64_t prompt_total = run->cost[SMOA_STAGE_JUDGE].prompt_tokens - before.prompt_tokens;
    for (size_t i = 0; i < N_CALLS; i++) assert_int_equal(answers[i].kept.n, 0); /* taken over */
    assert_int_equal(live_sequences(s), 0);                                    /* and released */
    assert_true(resumed_prefill + reused_at_least <= prompt_total);

    before = run->cost[SMOA_STAGE_JUDGE];
    score_ids(s, run, fresh, N_CALLS, want);
    assert_true(run->cost[SMOA_STAGE_JUDGE].prefill_tokens - before.prefill_tokens > resumed_prefill);
    for (size_t i = 0; i < N_CALLS; i++) {
        assert_int_equal(resumed[i].prompt_tokens, fresh[i].prompt_tokens);
        float worst = 0, scale = 0;
        for (size_t j = 0; j < N_IDS; j++) {
            float w = want[i * N_IDS + j], g = got[i * N_IDS + j];
            assert_true(isfinite(g) && isfinite(w));
            worst = fmaxf(worst, fabsf(g - w));
            scale = fmaxf(scale, fabsf(w));
        }
        if (worst > 1e-4f * fmaxf(scale, 1.0f)) fail_msg("call %zu: logits differ by %g (scale %g)", i, worst, scale);
    }
    for (size_t i = 0; i < N_CALLS; i++) smoa_agent_call_free(&answers[i]);
    smoa_run_free(run);
    smoa_session_destroy(s);
}

/* One batch mixing resumed conversations with fresh prompts that share a
 * long prefix (prefilled once, forked), one of the resumed ones differing
 * early from its cache, so that its sequence is cut inside a page it
 * shares with the other (copied before it grows): the same logits as every
 * prompt prefilled on its own, and every page free afterwards. */
static void test_mixed_batch_matches_separate_prefills(void **state) {
    (void)state;
    static const char *const asked[4] = {
        "Answer briefly and check your work before you answer. What is 6 times 7?",
        "Answer briefly and check your work before you answer. What is 8 times 9?",
        "Answer briefly and check your work before you answer. Name a colour.",
        "Answer briefly and check your work before you answer. Why is the sky blue?"};
    smoa_session *s = new_session();
    smoa_run *run = new_run();
    smoa_call_settings cs = {0.8f, 12, SMOA_STAGE_PROPOSE, NULL, NULL, NULL, true};
    smoa_agent_call answers[2];
    for (size_t i = 0; i < 2; i++) answers[i] = (smoa_agent_call){.user = asked[i], .seed = 3 + i};
    assert_int_equal(smoa_agents_generate(ctx, s, run, answers, 2, &cs, &ctx->error), SMOA_OK);
    smoa_agent_call mixed[4], alone[4];
    for (size_t i = 0; i < 4; i++) {
        const char *reply = i < 2 ? answers[i].response.data : "Blue.";
        mixed[i] = (smoa_agent_call){.user = i == 0 ? "Answer briefly, and check your work before you answer." : asked[i],
                                     .reply = reply ? reply : "", .follow_up = "Sure? Yes or No.",
                                     .resume = i < 2 ? &answers[i].kept : NULL};
        alone[i] = mixed[i];
        alone[i].resume = NULL;
    }
    float got[4 * N_IDS], want[4 * N_IDS];
    score_ids(s, run, mixed, 4, got);
    assert_int_equal(live_sequences(s), 0);
    assert_true(all_pages_free(s));
    for (size_t i = 0; i < 4; i++) score_ids(s, run, &alone[i], 1, &want[i * N_IDS]);
    for (size_t j = 0; j < 4 * N_IDS; j++)
        if (fabsf(got[j] - want[j]) > 1e-4f * fmaxf(fabsf(want[j]), 1.0f))
            fail_msg("call %zu, id %zu: %g vs %g alone", j / N_IDS, j % N_IDS, got[j], want[j]);
    assert_true(all_pages_free(s));
    for (size_t i = 0; i < 2; i++) smoa_agent_call_free(&answers[i]);
    smoa_run_free(run);
    smoa_session_destroy(s);
}

/* Without keep nothing outlives the batch; a kept sequence given back frees
 * its sequence. */
static void test_sequences_released(void **state) {
    (void)state;
    smoa_session *s = new_session();
    smoa_run *run = new_run();
    smoa_agent_call calls[N_CALLS];
    generate_kept(s, run, calls, false);
    assert_int_equal(live_sequences(s), 0);
    for (size_t i = 0; i < N_CALLS; i++) {
        assert_int_equal(calls[i].kept.n, 0);
        smoa_agent_call_free(&calls[i]);
    }
    generate_kept(s, run, calls, true);
    for (size_t i = 0; i < N_CALLS; i++) {
        smoa_call_cache_release(s, &calls[i].kept);
        smoa_call_cache_release(s, &calls[i].kept); /* twice is harmless */
        smoa_agent_call_free(&calls[i]);
    }
    assert_int_equal(live_sequences(s), 0);
    assert_true(all_pages_free(s));
    smoa_run_free(run);
    smoa_session_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resumed_follow_up_equals_fresh_prefill),
        cmocka_unit_test(test_mixed_batch_matches_separate_prefills),
        cmocka_unit_test(test_sequences_released),
    };
    return cmocka_run_group_tests(tests, setup, small_model_teardown);
}
