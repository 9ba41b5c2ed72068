/* test_eval_runner.c - smoa_eval_run on a tiny synthetic model: one line
 * per (item, mode) with the documented fields, resume without rerunning,
 * a cancelled run that resumes to the same set of lines, a cut-off last
 * line repaired, other settings refused, bad options. */
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

#include "smoa.h"

static char model_path[] = "/tmp/smoa_test_eval_model_XXXXXX";
static char out_dir[] = "/tmp/smoa_test_eval_out_XXXXXX";
static smoa_ctx *ctx;
static smoa_model *model;
static smoa_session *session;

#define DATASET SMOA_TEST_DATA "/eval_runner/small.jsonl"
#define N_ITEMS 5

static int setup(void **state) {
    (void)state;
    close(mkstemp(model_path));
    smoa_synthetic_options o;
    smoa_synthetic_options_init(&o);
    o.n_vocab = 512, o.n_embd = 64, o.n_layer = 2, o.n_head = 4, o.n_head_kv = 2, o.n_ff = 128, o.n_ctx = 4096;
    o.weight_type = 8; /* Q8_0 */
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = 4, so.n_ctx = 4096, so.n_threads = 1;
    if (smoa_ctx_create(NULL, &ctx) || smoa_synthetic_write(ctx, model_path, &o) ||
        smoa_model_load(ctx, model_path, NULL, &model) || smoa_session_create(ctx, model, &so, &session))
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    smoa_session_destroy(session);
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    unlink(model_path);
    return 0;
}

static char *path_of(const char *name) {
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", out_dir, name);
    return buf;
}

static void fresh_out_dir(void) {
    unlink(path_of("results.jsonl"));
    unlink(path_of("run.json"));
    rmdir(out_dir);
    strcpy(out_dir, "/tmp/smoa_test_eval_out_XXXXXX");
    assert_non_null(mkdtemp(out_dir));
}

static smoa_run_options run_opts;

static smoa_eval_options small_eval(void) {
    smoa_run_options_init(&run_opts);
    run_opts.n_proposers = 3, run_opts.k = 1, run_opts.n_layers = 2;
    run_opts.max_tokens = run_opts.judge_max_tokens = run_opts.aggregator_max_tokens = 6;
    smoa_eval_options e;
    smoa_eval_options_init(&e);
    e.dataset = DATASET;
    e.out_dir = out_dir;
    e.run = &run_opts;
    return e;
}

/* Every line of the results file, parsed. */
static json_t *read_results(void) {
    json_t *lines = json_array();
    FILE *f = fopen(path_of("results.jsonl"), "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t e;
        json_t *rec = json_loads(line, 0, &e);
        assert_non_null(rec);
        json_array_append_new(lines, rec);
    }
    free(line);
    fclose(f);
    return lines;
}

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static void assert_record_shape(json_t *rec) {
    assert_string_equal(str(rec, "dataset"), "small");
    assert_string_equal(str(rec, "status"), "ok");
    const char *mode = str(rec, "mode"), *item = str(rec, "item");
    json_t *tokens = json_object_get(rec, "tokens");
    assert_true(json_integer_value(json_object_get(tokens, "prompt")) > 0);
    assert_true(json_integer_value(json_object_get(rec, "calls")) >= 1);
    size_t n_agents = json_array_size(json_object_get(rec, "agents"));
    if (strcmp(mode, "single") == 0) assert_int_equal(n_agents, 0);
    else assert_true(n_agents >= 3); /* 3 proposers per layer run */
    if (strcmp(item, "small/haiku") == 0) {
        assert_string_equal(str(rec, "scorer"), "rating");
        assert_true(json_is_null(json_object_get(rec, "correct")));
        assert_int_equal(json_array_size(json_object_get(rec, "turn_answers")), 2);
    } else if (strcmp(item, "small/prime") == 0 || strcmp(item, "small/vowel") == 0) {
        assert_string_equal(str(rec, "scorer"), "likelihood");
        const char *pred = str(rec, "prediction");
        assert_non_null(pred); /* likelihood always picks a letter */
        assert_int_equal(json_is_true(json_object_get(rec, "correct")), strcmp(pred, str(rec, "gold")) == 0);
    } else {
        assert_string_equal(str(rec, "scorer"), "numeric");
        assert_true(json_is_boolean(json_object_get(rec, "correct")));
    }
}

/* The public summary of the directory agrees with the lines written. */
static void assert_summary_matches_lines(void) {
    smoa_eval_summary *sum = NULL;
    assert_int_equal(smoa_eval_summary_load(ctx, out_dir, &sum), SMOA_OK);
    assert_int_equal(smoa_eval_summary_n_results(sum), 3);
    for (size_t i = 0; i < 3; i++) {
        smoa_eval_mode_result r = {.struct_size = sizeof r};
        assert_int_equal(smoa_eval_summary_result(sum, i, &r), SMOA_OK);
        assert_string_equal(r.dataset, "small");
        assert_int_equal(r.mode, i); /* single, moa, smoa */
        assert_int_equal(r.items, N_ITEMS);
        assert_int_equal(r.rated, 0); /* mixed: scored by accuracy, its one open item aside */
        assert_true(r.correct <= 4 && r.accuracy_low <= r.accuracy && r.accuracy <= r.accuracy_high);
        assert_true(r.total_tokens == r.prompt_tokens + r.generated_tokens);
    }
    size_t n_agents = smoa_eval_summary_n_agents(sum);
    assert_true(n_agents >= 6); /* 3 proposers in moa, 3 in smoa */
    for (size_t i = 0; i < n_agents; i++) {
        smoa_eval_agent_stats a = {.struct_size = sizeof a};
        assert_int_equal(smoa_eval_summary_agent(sum, i, &a), SMOA_OK);
        assert_true(a.mode == SMOA_MODE_MOA || a.mode == SMOA_MODE_SMOA);
        assert_true(a.responses > 0 && a.kept <= a.responses);
    }
    /* an older caller's smaller struct gets only what it has room for */
    struct { uint32_t struct_size; const char *dataset; uint32_t mode; } old = {sizeof old, NULL, 99};
    assert_int_equal(smoa_eval_summary_result(sum, 2, (smoa_eval_mode_result *)&old), SMOA_OK);
    assert_int_equal(old.mode, SMOA_MODE_SMOA);
    assert_int_equal(old.struct_size, sizeof old);
    assert_int_equal(smoa_eval_summary_result(sum, 3, &(smoa_eval_mode_result){.struct_size = 64}),
                     SMOA_ERR_INVALID_ARGUMENT);
    smoa_eval_summary_free(sum);
    assert_int_equal(smoa_eval_summary_load(ctx, "/nonexistent/dir", &sum), SMOA_ERR_IO);
}

static void test_one_line_per_item_and_mode(void **state) {
    (void)state;
    fresh_out_dir();
    smoa_eval_options e = small_eval();
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_OK);
    json_t *lines = read_results();
    assert_int_equal(json_array_size(lines), N_ITEMS * 3);
    size_t i;
    json_t *rec;
    json_array_foreach(lines, i, rec) assert_record_shape(rec);
    json_decref(lines);
    assert_summary_matches_lines();
    /* resuming finds everything done: nothing is appended */
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_OK);
    lines = read_results();
    assert_int_equal(json_array_size(lines), N_ITEMS * 3);
    json_decref(lines);
}

static int stop_after = 4;

static void cancel_after_some(const smoa_eval_progress *p, void *user) {
    assert_true(p->done <= p->total);
    if (p->done - p->resumed >= (uint32_t)stop_after) *(volatile int32_t *)user = 1;
}

/* Key "item mode" -> answer, for comparing two runs. */
static json_t *answers_by_key(json_t *lines) {
    json_t *map = json_object();
    size_t i;
    json_t *rec;
    json_array_foreach(lines, i, rec) {
        char key[128];
        snprintf(key, sizeof key, "%s %s", str(rec, "item"), str(rec, "mode"));
        assert_null(json_object_get(map, key)); /* never run twice */
        json_object_set(map, key, json_object_get(rec, "answer"));
    }
    return map;
}

static void test_cancel_then_resume_gives_the_same_results(void **state) {
    (void)state;
    fresh_out_dir();
    smoa_eval_options e = small_eval();
    e.modes = (1u << SMOA_MODE_SINGLE) | (1u << SMOA_MODE_SMOA);
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_OK);
    json_t *whole = read_results();
    json_t *expected = answers_by_key(whole);

    fresh_out_dir();
    e.out_dir = out_dir;
    volatile int32_t cancel = 0;
    e.cancel = &cancel;
    e.on_progress = cancel_after_some;
    e.user_data = (void *)&cancel;
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_ERR_CANCELLED);
    json_t *part = read_results();
    assert_int_equal(json_array_size(part), (size_t)stop_after);
    json_decref(part);

    /* an interrupted write leaves half a line: dropped on resume */
    FILE *f = fopen(path_of("results.jsonl"), "a");
    fputs("{\"dataset\": \"small\", \"item\": \"small/ad", f);
    fclose(f);
    cancel = 0;
    stop_after = 1000;
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_OK);
    json_t *resumed = read_results();
    json_t *got = answers_by_key(resumed);
    assert_true(json_equal(got, expected)); /* same seeds per item: same answers */
    json_decref(got), json_decref(expected), json_decref(whole), json_decref(resumed);
}

static void test_other_settings_refused(void **state) {
    (void)state;
    fresh_out_dir();
    smoa_eval_options e = small_eval();
    e.modes = 1u << SMOA_MODE_SINGLE;
    e.limit = 1;
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_OK);
    run_opts.max_tokens = 7;
    e.run = &run_opts;
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "other settings"));
}

static void test_bad_options(void **state) {
    (void)state;
    smoa_eval_options e = small_eval();
    e.modes = 1u << 5;
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_ERR_INVALID_ARGUMENT);
    e = small_eval();
    e.out_dir = NULL;
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_ERR_INVALID_ARGUMENT);
    e = small_eval();
    e.dataset = "/nonexistent/file.jsonl";
    assert_int_equal(smoa_eval_run(ctx, session, &e), SMOA_ERR_IO);
    assert_int_equal(smoa_eval_run(ctx, NULL, &e), SMOA_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line_per_item_and_mode),
        cmocka_unit_test(test_cancel_then_resume_gives_the_same_results),
        cmocka_unit_test(test_other_settings_refused),
        cmocka_unit_test(test_bad_options),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    fresh_out_dir();
    rmdir(out_dir);
    return rc;
}
