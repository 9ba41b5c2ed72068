/* test_orchestrator.c - single, MoA and SMoA runs on a small synthetic
 * model (its answers are noise, which is what exercises the judge's
 * fallbacks): call counts, k of n kept at every layer, MoA keeping all,
 * determinism, the self judge reusing the proposers' KV caches, a failing
 * agent dropped, bad options refused. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "small_model.h"
#include "smoa.h"

static int setup(void **state) {
    (void)state;
    return small_model_setup(3);
}

static smoa_session *new_session(uint32_t n_ctx) {
    smoa_session *s = small_session(n_ctx);
    if (!s) fail_msg("session: %s", smoa_ctx_last_error(ctx));
    return s;
}

static smoa_run_options small_options(smoa_mode mode) {
    smoa_run_options o;
    smoa_run_options_init(&o);
    o.mode = mode;
    o.max_tokens = o.judge_max_tokens = o.aggregator_max_tokens = 12;
    return o;
}

/* Runs a query and returns its parsed trace (caller decrefs). */
static json_t *run_trace(smoa_session *s, const smoa_run_options *o, smoa_run **keep) {
    smoa_run *run = NULL;
    smoa_status st = smoa_run_query(ctx, s, "What is 6 times 7?", o, &run);
    if (st) fail_msg("run: %s: %s", smoa_status_str(st), smoa_ctx_last_error(ctx));
    json_error_t e;
    json_t *trace = json_loads(smoa_run_trace_json(run, NULL), 0, &e);
    assert_non_null(trace);
    if (keep) *keep = run;
    else smoa_run_free(run);
    return trace;
}

static int total_calls(json_t *trace) {
    return (int)json_integer_value(json_object_get(json_object_get(json_object_get(trace, "cost"), "total"), "calls"));
}

static void assert_kept_valid(json_t *layer, size_t n, size_t k) {
    json_t *kept = json_object_get(layer, "kept");
    assert_true(json_array_size(kept) >= 1 && json_array_size(kept) <= k);
    for (size_t i = 0; i < json_array_size(kept); i++) {
        json_int_t v = json_integer_value(json_array_get(kept, i));
        assert_true(v >= 0 && (size_t)v < n);
        for (size_t j = 0; j < i; j++) assert_int_not_equal(v, json_integer_value(json_array_get(kept, j)));
    }
}

/* ------------------------------------------------------------------------ */

static void test_smoa_keeps_k_of_n_every_layer(void **state) {
    (void)state;
    smoa_session *s = new_session(1024);
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.moderator = SMOA_MODERATOR_NONE;
    smoa_run *run;
    json_t *t = run_trace(s, &o, &run);
    json_t *layers = json_object_get(t, "layers");
    assert_int_equal(json_array_size(layers), 2);
    for (size_t l = 0; l < 2; l++) {
        json_t *layer = json_array_get(layers, l);
        assert_int_equal(json_array_size(json_object_get(layer, "proposers")), 4);
        assert_kept_valid(layer, 4, 2);
        assert_int_equal(json_array_size(json_object_get(layer, "kept")), 2);
    }
    /* 4 proposers + judge, twice, + aggregator: the reference's 11 calls */
    assert_int_equal(total_calls(t), 11);
    smoa_cost judge = {.struct_size = sizeof judge};
    assert_int_equal(smoa_run_cost(run, SMOA_STAGE_JUDGE, &judge), SMOA_OK);
    assert_int_equal(judge.calls, 2);
    assert_int_equal(smoa_run_layers(run), 2);
    assert_true(smoa_run_ttft(run) > 0);
    /* noise from the model: the judge's answer cannot be read, and the
     * seeded fallback (k at random) is recorded */
    json_t *parse = json_object_get(json_object_get(json_array_get(layers, 0), "judge"), "parse");
    assert_non_null(parse);
    assert_false(json_is_true(json_object_get(parse, "parsed_ok")));
    json_decref(t);
    smoa_run_free(run);
    smoa_session_destroy(s);
}

static void test_moa_passes_all_responses(void **state) {
    (void)state;
    smoa_session *s = new_session(2048);
    smoa_run_options o = small_options(SMOA_MODE_MOA);
    json_t *t = run_trace(s, &o, NULL);
    json_t *layers = json_object_get(t, "layers");
    assert_int_equal(json_array_size(layers), 2);
    for (size_t l = 0; l < 2; l++)
        assert_int_equal(json_array_size(json_object_get(json_array_get(layers, l), "kept")), 4);
    assert_int_equal(total_calls(t), 9); /* the reference's MoA count: 4 + 4 + 1 */
    json_decref(t);
    smoa_session_destroy(s);
}

static void test_single_is_one_call(void **state) {
    (void)state;
    smoa_session *s = new_session(1024);
    smoa_run_options o = small_options(SMOA_MODE_SINGLE);
    json_t *t = run_trace(s, &o, NULL);
    assert_int_equal(total_calls(t), 1);
    assert_int_equal(json_array_size(json_object_get(t, "layers")), 0);
    json_decref(t);
    smoa_session_destroy(s);
}

static void test_same_seed_same_run(void **state) {
    (void)state;
    smoa_session *s = new_session(1024);
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.judge = SMOA_JUDGE_SCORE;
    smoa_run *a, *b;
    json_t *ta = run_trace(s, &o, &a), *tb = run_trace(s, &o, &b);
    size_t la, lb;
    const char *ans_a = smoa_run_answer(a, &la), *ans_b = smoa_run_answer(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ans_a, ans_b, la);
    json_t *layers_a = json_object_get(ta, "layers"), *layers_b = json_object_get(tb, "layers");
    for (size_t l = 0; l < json_array_size(layers_a); l++) {
        json_t *ka = json_object_get(json_array_get(layers_a, l), "kept");
        json_t *kb = json_object_get(json_array_get(layers_b, l), "kept");
        assert_true(json_equal(ka, kb));
    }
    /* the scoring judge reports one score per response */
    json_t *scores = json_object_get(json_object_get(json_array_get(layers_a, 0), "judge"), "scores");
    assert_int_equal(json_array_size(scores), 4);
    json_decref(ta);
    json_decref(tb);
    smoa_run_free(a);
    smoa_run_free(b);
    smoa_session_destroy(s);
}

static json_int_t cost_of(json_t *trace, const char *stage, const char *field) {
    return json_integer_value(json_object_get(json_object_get(json_object_get(trace, "cost"), stage), field));
}

/* The self judge asks each proposer, in its own conversation, whether its
 * answer is right: k of n kept per layer, one score per response, and the
 * judge computes only the question, not the conversations again. */
static void test_self_judge_reuses_conversations(void **state) {
    (void)state;
    smoa_session *s = new_session(2048);
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.judge = SMOA_JUDGE_SELF;
    o.moderator = SMOA_MODERATOR_NONE;
    json_t *t = run_trace(s, &o, NULL), *again = run_trace(s, &o, NULL);
    assert_int_equal(live_sequences(s), 0); /* every kept conversation given back */
    json_t *layers = json_object_get(t, "layers");
    assert_int_equal(json_array_size(layers), 2);
    json_int_t conversations = 0;
    for (size_t l = 0; l < 2; l++) {
        json_t *layer = json_array_get(layers, l), *judge = json_object_get(layer, "judge");
        assert_string_equal(json_string_value(json_object_get(judge, "kind")), "self");
        assert_int_equal(json_array_size(json_object_get(judge, "scores")), 4);
        assert_int_equal(json_array_size(json_object_get(layer, "kept")), 2);
        assert_kept_valid(layer, 4, 2);
        assert_true(json_equal(json_object_get(layer, "kept"),
                               json_object_get(json_array_get(json_object_get(again, "layers"), l), "kept")));
        json_t *proposers = json_object_get(layer, "proposers");
        for (size_t i = 0; i < 4; i++) {
            json_t *p = json_array_get(proposers, i);
            conversations += json_integer_value(json_object_get(p, "prompt_tokens"));
        }
    }
    assert_int_equal(cost_of(t, "judge", "calls"), 8); /* one score per response */
    assert_int_equal(total_calls(t), 4 + 4 + 4 + 4 + 1);
    /* each verdict prompt holds its proposer's prompt, reused from the cache */
    assert_true(cost_of(t, "judge", "prefill_tokens") + conversations <= cost_of(t, "judge", "prompt_tokens"));
    json_decref(t);
    json_decref(again);
    smoa_session_destroy(s);
}

/* With a KV budget that holds the kept conversations but not all their
 * verdict questions too, the verdicts that did not fit are asked again
 * once the conversations are given back: every response gets a score. A
 * cancelled run gives every kept conversation back too. */
static void test_self_judge_under_tight_kv_budget(void **state) {
    (void)state;
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = 8, so.n_ctx = 2048, so.kv_tokens = 1184, so.n_threads = 1;
    smoa_session *s = NULL;
    assert_int_equal(smoa_session_create(ctx, model, &so, &s), SMOA_OK);
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.judge = SMOA_JUDGE_SELF;
    o.moderator = SMOA_MODERATOR_NONE;
    json_t *t = run_trace(s, &o, NULL);
    json_t *layers = json_object_get(t, "layers");
    for (size_t l = 0; l < json_array_size(layers); l++) {
        json_t *scores = json_object_get(json_object_get(json_array_get(layers, l), "judge"), "scores");
        assert_int_equal(json_array_size(scores), 4);
        for (size_t i = 0; i < 4; i++)
            assert_true(json_is_real(json_object_get(json_array_get(scores, i), "yes_minus_no")));
    }
    assert_int_equal(live_sequences(s), 0);
    assert_int_equal(s->pool.n_free, s->pool.n_pages);
    json_decref(t);

    /* cancelled with the proposers' conversations kept: all given back */
    static const volatile int32_t cancelled = 1;
    o.cancel = &cancelled;
    smoa_run *run = NULL;
    assert_int_equal(smoa_run_query(ctx, s, "What is 6 times 7?", &o, &run), SMOA_ERR_CANCELLED);
    assert_null(run);
    assert_int_equal(live_sequences(s), 0);
    assert_int_equal(s->pool.n_free, s->pool.n_pages);
    smoa_session_destroy(s);
}

/* One proposer's role is too long for the context: its call fails, its
 * response is dropped, the run still answers. */
static void test_failing_agent_is_dropped(void **state) {
    (void)state;
    smoa_session *s = new_session(1024);
    static char long_role[3000];
    memset(long_role, 'x', sizeof long_role - 1); /* ~3000 byte tokens > n_ctx */
    const char *roles[4] = {"You are a careful checker.", long_role, "You are a teacher.", "You are a coder."};
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.roles = roles;
    o.n_layers = 1;
    json_t *t = run_trace(s, &o, NULL);
    json_t *layer = json_array_get(json_object_get(t, "layers"), 0);
    json_t *failed = json_array_get(json_object_get(layer, "proposers"), 1);
    assert_string_equal(json_string_value(json_object_get(failed, "stop")), "context full");
    json_t *kept = json_object_get(layer, "kept");
    for (size_t i = 0; i < json_array_size(kept); i++) assert_int_not_equal(json_integer_value(json_array_get(kept, i)), 1);
    assert_kept_valid(layer, 4, 2);
    json_decref(t);
    smoa_session_destroy(s);
}

/* Multiple choice by likelihood: the answer is the letter of the most
 * likely first token, found without generating a token. */
static void test_choice_by_likelihood(void **state) {
    (void)state;
    smoa_session *s = new_session(2048);
    const smoa_mode modes[] = {SMOA_MODE_SINGLE, SMOA_MODE_SMOA};
    for (size_t m = 0; m < 2; m++) {
        smoa_run_options o = small_options(modes[m]);
        o.answer_choices = 4;
        smoa_run *run = NULL;
        json_t *trace = run_trace(s, &o, &run);
        float logits[4];
        int32_t choice = smoa_run_choice(run, logits);
        assert_true(choice >= 0 && choice < 4);
        for (int i = 0; i < 4; i++) assert_true(logits[i] <= logits[choice] && (i >= choice || logits[i] < logits[choice]));
        size_t len;
        const char *answer = smoa_run_answer(run, &len);
        assert_int_equal(len, 1);
        assert_int_equal(answer[0], 'A' + choice);
        smoa_cost c = {.struct_size = sizeof c};
        assert_int_equal(smoa_run_cost(run, SMOA_STAGE_AGGREGATE, &c), SMOA_OK);
        assert_int_equal(c.calls, 1);
        assert_int_equal(c.generated_tokens, 0);
        assert_int_equal(json_array_size(json_object_get(json_object_get(trace, "aggregator"), "choice_logits")), 4);
        json_decref(trace);
        smoa_run_free(run);
    }
    smoa_run_options o = small_options(SMOA_MODE_SINGLE);
    smoa_run *run = NULL;
    json_decref(run_trace(s, &o, &run));
    assert_int_equal(smoa_run_choice(run, NULL), -1); /* generated answers choose nothing */
    smoa_run_free(run);
    o.answer_choices = 1;
    assert_int_equal(smoa_run_query(ctx, s, "Pick one.", &o, &run), SMOA_ERR_INVALID_ARGUMENT);
    smoa_session_destroy(s);
}

/* Agents on two models: each model's proposers decode as one batch, each
 * agent keeps its own role and budget, the judge and aggregator run where
 * they are told, and a session too small for its agents is refused. */
static void test_agents_on_two_models(void **state) {
    (void)state;
    char other_path[] = "/tmp/smoa_test_orchestrator_b_XXXXXX";
    close(mkstemp(other_path));
    smoa_synthetic_options so;
    smoa_synthetic_options_init(&so);
    so.n_vocab = 400, so.n_embd = 32, so.n_layer = 1, so.n_head = 2, so.n_head_kv = 1, so.n_ff = 64, so.n_ctx = 2048;
    so.weight_type = 8, so.seed = 9;
    smoa_model *other = NULL;
    assert_int_equal(smoa_synthetic_write(ctx, other_path, &so), SMOA_OK);
    assert_int_equal(smoa_model_load(ctx, other_path, NULL, &other), SMOA_OK);
    smoa_session_options opts;
    smoa_session_options_init(&opts);
    opts.n_seq_max = 3, opts.n_ctx = 2048, opts.n_threads = 1;
    smoa_session *a = new_session(2048), *b = NULL;
    assert_int_equal(smoa_session_create(ctx, other, &opts, &b), SMOA_OK);

    smoa_agent_spec specs[3];
    const smoa_agent_spec *ptrs[3];
    const uint32_t budgets[3] = {5, 9, 3};
    for (int i = 0; i < 3; i++) {
        smoa_agent_spec_init(&specs[i]);
        specs[i].session = i == 2 ? b : NULL; /* NULL: the query's session, a */
        specs[i].max_tokens = budgets[i];
        specs[i].role = i == 1 ? "You are a terse accountant." : NULL;
        ptrs[i] = &specs[i];
    }
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.n_proposers = 3, o.k = 1, o.n_layers = 1;
    o.agents = ptrs;
    o.judge_session = b;
    o.aggregator_session = b;
    json_t *trace = run_trace(a, &o, NULL);
    json_t *proposers = json_object_get(json_array_get(json_object_get(trace, "layers"), 0), "proposers");
    assert_int_equal(json_array_size(proposers), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(proposers, i);
        assert_true(json_integer_value(json_object_get(p, "generated_tokens")) <= budgets[i]);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(proposers, 1), "role")),
                        "You are a terse accountant.");
    assert_int_equal(total_calls(trace), 3 + 1 + 1); /* proposers, judge, aggregator */
    json_decref(trace);

    o.judge = SMOA_JUDGE_SELF; /* each proposer scored on its own model */
    trace = run_trace(a, &o, NULL);
    json_t *scores = json_object_get(json_object_get(json_array_get(json_object_get(trace, "layers"), 0), "judge"),
                                     "scores");
    assert_int_equal(json_array_size(scores), 3);
    for (size_t i = 0; i < 3; i++) assert_true(json_is_real(json_object_get(json_array_get(scores, i), "yes_minus_no")));
    assert_int_equal(live_sequences(a) + live_sequences(b), 0);
    json_decref(trace);

    o.judge = SMOA_JUDGE_SCORE; /* scores 3 prompts at once: b holds only 3 sequences */
    smoa_run *run = NULL;
    assert_int_equal(smoa_run_query(ctx, a, "What is 6 times 7?", &o, &run), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "n_seq_max >= 4"));
    smoa_session_destroy(b);
    smoa_session_destroy(a);
    smoa_model_free(other);
    unlink(other_path);
}

static void test_bad_options(void **state) {
    (void)state;
    smoa_session *s = new_session(256);
    smoa_run *run = (smoa_run *)0x1;
    smoa_run_options o = small_options(SMOA_MODE_SMOA);
    o.k = 5;
    assert_int_equal(smoa_run_query(ctx, s, "q", &o, &run), SMOA_ERR_INVALID_ARGUMENT);
    assert_null(run);
    o = small_options(SMOA_MODE_SMOA);
    o.n_proposers = 9; /* the session holds 8 sequences */
    o.k = 2;
    assert_int_equal(smoa_run_query(ctx, s, "q", &o, &run), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "n_seq_max"));
    o = small_options(SMOA_MODE_SMOA);
    assert_int_equal(smoa_run_query(ctx, s, "", &o, &run), SMOA_ERR_INVALID_ARGUMENT);
    o.temperature = -1;
    assert_int_equal(smoa_run_query(ctx, s, "q", &o, &run), SMOA_ERR_INVALID_ARGUMENT);
    smoa_session_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smoa_keeps_k_of_n_every_layer),
        cmocka_unit_test(test_moa_passes_all_responses),
        cmocka_unit_test(test_single_is_one_call),
        cmocka_unit_test(test_same_seed_same_run),
        cmocka_unit_test(test_self_judge_reuses_conversations),
        cmocka_unit_test(test_self_judge_under_tight_kv_budget),
        cmocka_unit_test(test_failing_agent_is_dropped),
        cmocka_unit_test(test_choice_by_likelihood),
        cmocka_unit_test(test_agents_on_two_models),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, small_model_teardown);
}
