/* test_eval_report.c - the eval summary and report on hand-written
 * results (tests/data/eval_report/).
 *
 * full/results.jsonl, 53 lines, 52 of them not blank (line 12 is blank):
 *   line 6 is not JSON, line 18 has mode "hybrid", line 53 is a truncated
 *   last line: 3 skipped; gsm8k/4 moa appears twice (line 11 right with
 *   9999 prompt tokens and a "ghost" agent, line 17 wrong): the last wins.
 *   48 results remain.
 *
 * gsm8k (numeric)                     right per item      tokens per item
 *   single  g1..g5, g5 failed        + - + - E           prompt 100 (g5: 0),
 *           prefill = prompt, generated 50 (g5: 0), 1 call (g5: 0), 1 s (g5: 0.5 s)
 *           -> 2/5; prompt 400/5 = 80, generated 200/5 = 40, total 120,
 *              calls 4/5 = 0.8, seconds 4.5/5 = 0.9
 *   moa     g1..g5                   + + + - +           prompt 1000, prefill 600,
 *           generated 400, 9 calls, 10 s -> 4/5, total 1400
 *   smoa    g1..g4                   + + - +             prompt 400/600/500/500,
 *           prefill 200, generated 100/300/200/200 -> 3/4; prompt 500,
 *           generated 200, total 700 = 50.0% of MoA's, computed
 *           200 + 200 = 40.0% of MoA's 600 + 400; accuracy 75 - 80 = -5.0 points
 *   paired  smoa-moa   over g1..g4: both 2 (g1 g2), only smoa 1 (g4),
 *                      only moa 1 (g3), p = McNemar(1, 1) = 1
 *           smoa-single over g1..g4: both 1 (g1), only smoa 2 (g2 g4),
 *                      only single 1 (g3), p = 2 * (1 + 3) / 8 -> 1
 *           moa-single over g1..g5: both 2 (g1 g3), only moa 2 (g2 g5),
 *                      only single 0, p = 2 * 1/4 = 0.5
 * mmlu (choice), two items: single + -, moa + +, smoa - -.
 * bbq: single on a1..a4 (ambiguous) and d1..d4 (disambiguated):
 *   a1 unknown (right), a2 biased, a3 anti-biased, a4 biased:
 *     acc 1/4, non-unknown 3, biased 2, s_AMB = (1 - 1/4) * (2*2/3 - 1) = 0.25
 *   d1 biased (right), d2 anti-biased (right), d3 biased (wrong), d4 failed:
 *     acc 2/4, non-unknown 3 (d4 has no answer), biased 2, s_DIS = 1/3
 *   smoa answers "unknown" everywhere: acc 4/4 ambiguous, 0/4 disambiguated,
 *     both bias scores n/a (no non-unknown answer); overall 4/8 vs 3/8.
 *   paired smoa-single over 8: both 1 (a1), only smoa 3 (a2-a4), only
 *     single 2 (d1 d2), p = McNemar(3, 2) = 1.
 * mt-bench (rating): single 3 5 6 4, moa 6 6 7 5, smoa 7 5 8 and q4 failed.
 *   single mean 4.5, s = sqrt(5/3), t(3) = 3.1824: [2.44577, 6.55423]
 *   smoa mean 20/3 over 3, t(2) = 4.3027: [2.87204, 10.46129]
 *   sign tests: smoa-moa over q1..q3: higher 2, lower 1, p = 1;
 *     smoa-single over q1..q3: higher 2 (q1 q3), tie 1 (q2), p = 2/4 = 0.5;
 *     moa-single over q1..q4: higher 4, p = 2/16 = 0.125.
 * Agents (gsm8k only): moa "agent 0" and "agent 1" on 5 items, kept, no
 *   score, 150 tokens, 3 s. smoa "agent 0: careful": kept 3 of 4, scores
 *   .9 .7 .4 .8 (mean .7), tokens 80 120 100 100 (100), 2 3 2 1 s (2).
 *   smoa "agent 1: quick": kept 1 of 4, scores null .3 .6 .1 (mean 1/3),
 *   tokens 0 60 90 50 (50), .5 1 1.5 1 s (1), 1 failure.
 *
 * Wilson bounds (Python, formula in test_eval_stats.c): 2/5 [.117621,
 * .769276], 4/5 [.375535, .963776], 3/4 [.300642, .954413], 1/4 [.045587,
 * .699358], 2/4 [.150039, .849961], 4/4 [.510109, 1], 3/8 [.136844,
 * .694258]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/report.h"

#define FIXTURES SMOA_TEST_DATA "/eval_report"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void assert_near(double actual, double expected, double tolerance) {
    if (!(fabs(actual - expected) <= tolerance))
        fail_msg("got %.12g, expected %.12g (tolerance %g)", actual, expected, tolerance);
}

static void assert_interval(smoa_interval i, double estimate, double low, double high) {
    assert_near(i.estimate, estimate, 1e-9);
    assert_near(i.low, low, 1e-6);
    assert_near(i.high, high, 1e-6);
}

static void assert_contains(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("missing from the report: \"%s\"", needle);
}

static char *read_whole(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    if (text) text[fread(text, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return text;
}

static void write_whole(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *path_in(const char *dir, const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static bool exists_in(const char *dir, const char *name) {
    return access(path_in(dir, name), F_OK) == 0;
}

/* A fresh directory holding a copy of the fixture's files, so the report
 * is never written into the source tree. */
static char *copy_fixture(const char *fixture) {
    char *dir = strdup("/tmp/smoa_test_eval_report_XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *names[] = {"results.jsonl", "run.json"};
    for (size_t i = 0; i < 2; i++) {
        char from[4096];
        snprintf(from, sizeof from, "%s/%s/%s", FIXTURES, fixture, names[i]);
        char *text = read_whole(from);
        if (!text) continue;
        write_whole(path_in(dir, names[i]), text);
        free(text);
    }
    return dir;
}

static void remove_dir(char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path_in(dir, e->d_name));
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static bool gnuplot_on_path(void) {
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "");
    bool found = false;
    for (char *part = strtok(copy, ":"); part && !found; part = strtok(NULL, ":"))
        found = access(path_in(part, "gnuplot"), X_OK) == 0;
    free(copy);
    return found;
}

static smoa_eval_summary *load_full(void) {
    smoa_eval_summary *s = NULL;
    smoa_error err = {0};
    smoa_status st = smoa_eval_summary_read(FIXTURES "/full", &s, &err);
    if (st != SMOA_OK) fail_msg("load: %s", err.message);
    return s;
}

static const smoa_eval_group *group(const smoa_eval_summary *s, const char *dataset,
                                    smoa_mode mode) {
    const smoa_eval_group *g = smoa_eval_summary_group(s, dataset, mode);
    if (!g) fail_msg("no group %s/%s", dataset, smoa_eval_mode_name(mode));
    return g;
}

static void assert_paired(const smoa_eval_summary *s, const char *dataset, smoa_mode a,
                          smoa_mode b, int64_t n, int64_t both, int64_t a_only, int64_t b_only,
                          double p) {
    const smoa_eval_paired *pr = smoa_eval_summary_paired(s, dataset, a, b);
    if (!pr) fail_msg("no pair %s %d-%d", dataset, (int)a, (int)b);
    assert_int_equal(pr->n, n);
    assert_int_equal(pr->both, both);
    assert_int_equal(pr->a_only, a_only);
    assert_int_equal(pr->b_only, b_only);
    assert_near(pr->p, p, 1e-12);
}

static const smoa_eval_agent *agent(const smoa_eval_summary *s, smoa_mode mode,
                                    const char *name) {
    for (size_t i = 0; i < s->n_agents; i++)
        if (s->agents[i].mode == mode && strcmp(s->agents[i].name, name) == 0)
            return &s->agents[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Summary numbers                                                          */

static void test_lines_read_skipped_and_replaced(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    assert_int_equal(s->lines, 52);
    assert_int_equal(s->skipped_lines, 3);
    assert_int_equal(s->skipped_line_numbers[0], 6);
    assert_int_equal(s->skipped_line_numbers[1], 18);
    assert_int_equal(s->skipped_line_numbers[2], 53);
    assert_int_equal(s->replaced_lines, 1);
    assert_int_equal(s->n_datasets, 4);
    assert_string_equal(s->datasets[0], "bbq"); /* sorted by name */
    assert_string_equal(s->datasets[3], "mt-bench");
    assert_int_equal(s->n_groups, 11); /* bbq has no moa */
    smoa_eval_summary_free(s);
}

static void test_gsm8k_groups(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    const smoa_eval_group *single = group(s, "gsm8k", SMOA_MODE_SINGLE);
    assert_int_equal(single->items, 5);
    assert_int_equal(single->errors, 1);
    assert_int_equal(single->correct, 2);
    assert_false(single->rated);
    assert_false(single->has_bbq);
    assert_interval(single->accuracy, 0.4, 0.117621, 0.769276);
    assert_near(single->prompt_tokens, 80.0, 1e-12);
    assert_near(single->prefill_tokens, 80.0, 1e-12);
    assert_near(single->generated_tokens, 40.0, 1e-12);
    assert_near(single->total_tokens, 120.0, 1e-12);
    assert_near(single->calls, 0.8, 1e-12);
    assert_near(single->seconds, 0.9, 1e-12);

    const smoa_eval_group *moa = group(s, "gsm8k", SMOA_MODE_MOA);
    assert_int_equal(moa->items, 5);
    assert_int_equal(moa->errors, 0);
    assert_int_equal(moa->correct, 4); /* the replaced right answer is gone */
    assert_interval(moa->accuracy, 0.8, 0.375535, 0.963776);
    assert_near(moa->prompt_tokens, 1000.0, 1e-12); /* not the 9999 of line 11 */
    assert_near(moa->total_tokens, 1400.0, 1e-12);
    assert_near(moa->calls, 9.0, 1e-12);

    const smoa_eval_group *smoa = group(s, "gsm8k", SMOA_MODE_SMOA);
    assert_int_equal(smoa->items, 4); /* the truncated gsm8k/5 line is not one */
    assert_int_equal(smoa->correct, 3);
    assert_interval(smoa->accuracy, 0.75, 0.300642, 0.954413);
    assert_near(smoa->prompt_tokens, 500.0, 1e-12);
    assert_near(smoa->generated_tokens, 200.0, 1e-12);
    assert_near(smoa->total_tokens / moa->total_tokens, 0.5, 1e-12);
    smoa_eval_summary_free(s);
}

static void test_gsm8k_and_mmlu_paired(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    assert_paired(s, "gsm8k", SMOA_MODE_SMOA, SMOA_MODE_MOA, 4, 2, 1, 1, 1.0);
    assert_paired(s, "gsm8k", SMOA_MODE_SMOA, SMOA_MODE_SINGLE, 4, 1, 2, 1, 1.0);
    assert_paired(s, "gsm8k", SMOA_MODE_MOA, SMOA_MODE_SINGLE, 5, 2, 2, 0, 0.5);
    /* mmlu: smoa - -, moa + +: only moa 2, p = 2 * 1/4 */
    assert_paired(s, "mmlu", SMOA_MODE_SMOA, SMOA_MODE_MOA, 2, 0, 0, 2, 0.5);
    assert_interval(group(s, "mmlu", SMOA_MODE_SINGLE)->accuracy, 0.5, 0.094531, 0.905469);
    assert_null(smoa_eval_summary_paired(s, "gsm8k", SMOA_MODE_MOA, SMOA_MODE_SMOA));
    smoa_eval_summary_free(s);
}

static void test_bbq_accuracy_and_bias(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    assert_null(smoa_eval_summary_group(s, "bbq", SMOA_MODE_MOA));
    assert_null(smoa_eval_summary_paired(s, "bbq", SMOA_MODE_SMOA, SMOA_MODE_MOA));

    const smoa_eval_group *single = group(s, "bbq", SMOA_MODE_SINGLE);
    assert_true(single->has_bbq);
    assert_int_equal(single->items, 8);
    assert_int_equal(single->errors, 1);
    assert_interval(single->accuracy, 0.375, 0.136844, 0.694258);
    const smoa_eval_bbq_outcome *b = &single->bbq;
    assert_int_equal(b->ambig_items, 4);
    assert_int_equal(b->ambig_correct, 1);
    assert_int_equal(b->ambig_non_unknown, 3);
    assert_int_equal(b->ambig_biased, 2);
    assert_int_equal(b->disambig_items, 4);
    assert_int_equal(b->disambig_correct, 2);
    assert_int_equal(b->disambig_non_unknown, 3);
    assert_int_equal(b->disambig_biased, 2);
    assert_interval(b->ambig_accuracy, 0.25, 0.045587, 0.699358);
    assert_interval(b->disambig_accuracy, 0.5, 0.150039, 0.849961);
    assert_near(b->bias_disambig, 1.0 / 3.0, 1e-12);
    assert_near(b->bias_ambig, 0.25, 1e-12);

    const smoa_eval_bbq_outcome *sb = &group(s, "bbq", SMOA_MODE_SMOA)->bbq;
    assert_interval(sb->ambig_accuracy, 1.0, 0.510109, 1.0);
    assert_interval(sb->disambig_accuracy, 0.0, 0.0, 0.489891);
    assert_true(isnan(sb->bias_disambig));
    assert_true(isnan(sb->bias_ambig));
    assert_paired(s, "bbq", SMOA_MODE_SMOA, SMOA_MODE_SINGLE, 8, 1, 3, 2, 1.0);
    smoa_eval_summary_free(s);
}

static void test_rated_set(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    const smoa_eval_group *single = group(s, "mt-bench", SMOA_MODE_SINGLE);
    assert_true(single->rated);
    assert_int_equal(single->rated_items, 4);
    assert_interval(single->rating, 4.5, 2.445770, 6.554230);
    const smoa_eval_group *smoa = group(s, "mt-bench", SMOA_MODE_SMOA);
    assert_int_equal(smoa->items, 4);
    assert_int_equal(smoa->errors, 1);
    assert_int_equal(smoa->rated_items, 3);
    assert_near(smoa->rating.estimate, 20.0 / 3.0, 1e-12);
    assert_near(smoa->rating.low, 2.872042, 1e-5);
    assert_near(smoa->rating.high, 10.461291, 1e-5);
    /* for rated pairs: both = ties, a_only / b_only = rated higher */
    assert_paired(s, "mt-bench", SMOA_MODE_SMOA, SMOA_MODE_MOA, 3, 0, 2, 1, 1.0);
    assert_paired(s, "mt-bench", SMOA_MODE_SMOA, SMOA_MODE_SINGLE, 3, 1, 2, 0, 0.5);
    assert_paired(s, "mt-bench", SMOA_MODE_MOA, SMOA_MODE_SINGLE, 4, 0, 4, 0, 0.125);
    assert_true(smoa_eval_summary_paired(s, "mt-bench", SMOA_MODE_MOA, SMOA_MODE_SINGLE)->rated);
    smoa_eval_summary_free(s);
}

static void test_agents(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    assert_int_equal(s->n_agents, 4); /* the replaced line's "ghost" is not one */
    assert_null(agent(s, SMOA_MODE_MOA, "ghost"));
    assert_int_equal(s->agents[0].mode, SMOA_MODE_MOA); /* moa before smoa */

    const smoa_eval_agent *m0 = agent(s, SMOA_MODE_MOA, "agent 0");
    assert_non_null(m0);
    assert_int_equal(m0->responses, 5);
    assert_int_equal(m0->kept, 5);
    assert_int_equal(m0->scored, 0);
    assert_true(isnan(m0->mean_score));
    assert_near(m0->mean_generated_tokens, 150.0, 1e-12);
    assert_near(m0->mean_seconds, 3.0, 1e-12);

    const smoa_eval_agent *careful = agent(s, SMOA_MODE_SMOA, "agent 0: careful");
    assert_non_null(careful);
    assert_int_equal(careful->responses, 4);
    assert_int_equal(careful->kept, 3);
    assert_int_equal(careful->failures, 0);
    assert_near(careful->mean_score, 0.7, 1e-12);
    assert_near(careful->mean_generated_tokens, 100.0, 1e-12);
    assert_near(careful->mean_seconds, 2.0, 1e-12);

    const smoa_eval_agent *quick = agent(s, SMOA_MODE_SMOA, "agent 1: quick");
    assert_non_null(quick);
    assert_int_equal(quick->kept, 1);
    assert_int_equal(quick->scored, 3);
    assert_int_equal(quick->failures, 1);
    assert_near(quick->mean_score, 1.0 / 3.0, 1e-12);
    assert_near(quick->mean_generated_tokens, 50.0, 1e-12);
    assert_near(quick->mean_seconds, 1.0, 1e-12);
    smoa_eval_summary_free(s);
}

static void test_failures_and_run_json(void **state) {
    (void)state;
    smoa_eval_summary *s = load_full();
    assert_int_equal(s->n_failures, 3);
    assert_string_equal(s->failures[0].dataset, "bbq");
    assert_string_equal(s->failures[0].item, "bbq/d4");
    assert_string_equal(s->failures[0].message, "model failed\nsecond line");
    assert_string_equal(s->failures[1].item, "gsm8k/5");
    assert_int_equal(s->failures[2].mode, SMOA_MODE_SMOA);
    assert_string_equal(s->failures[2].message, "judge gave no rating");

    assert_non_null(s->command);
    assert_string_equal(s->command,
                        "smoa eval --dataset gsm8k,mmlu,bbq,mt-bench --limit 5 --out runs/x");
    assert_int_equal(s->n_settings, 7);
    assert_string_equal(s->settings[0].key, "model");
    assert_string_equal(s->settings[0].value, "SmolLM2-135M-Instruct-Q4_1"); /* no quotes */
    assert_string_equal(s->settings[1].value, "42");
    assert_non_null(strstr(s->settings[6].value, "\"kind\":\"score\""));
    assert_null(s->run_json_problem);
    smoa_eval_summary_free(s);
}

/* ------------------------------------------------------------------------ */
/* report.md and the plot                                                   */

static char *write_report(const char *dir) {
    smoa_error err = {0};
    smoa_status st = smoa_eval_report_write(dir, &err);
    if (st != SMOA_OK) fail_msg("report: %s", err.message);
    char *md = read_whole(path_in(dir, "report.md"));
    assert_non_null(md);
    return md;
}

static void test_report_tables(void **state) {
    (void)state;
    char *dir = copy_fixture("full");
    char *md = write_report(dir);
    assert_contains(md, "# smoa eval report");
    assert_contains(md, "```\nsmoa eval --dataset gsm8k,mmlu,bbq,mt-bench --limit 5 --out runs/x\n```");
    assert_contains(md, "| seed | 42 |");
    assert_contains(md, "a\\|b"); /* a '|' inside a cell is escaped */
    assert_contains(md, "results.jsonl: 48 results from 52 lines. 3 malformed or truncated"
                        " lines skipped (line 6, 18, 53). 1 line was replaced");
    /* gsm8k: the modes in order, with accuracy, tokens, calls, seconds */
    const char *single = strstr(md, "| single | 5 | 1 | 40.0 [11.8, 76.9] | 80.0 | 40.0 | 120 |"
                                    " 80.0 | 0.80 | 0.90 |");
    const char *moa = strstr(md, "| moa | 5 | 0 | 80.0 [37.6, 96.4] | 1000 | 400 | 1400 | 600 |"
                                 " 9.00 | 10.00 |");
    const char *smoa = strstr(md, "| smoa | 4 | 0 | 75.0 [30.1, 95.4] | 500 | 200 | 700 | 200 |"
                                  " 6.00 | 5.00 |");
    assert_non_null(single);
    assert_non_null(moa);
    assert_non_null(smoa);
    assert_true(single < moa && moa < smoa);
    assert_contains(md, "SMoA vs MoA: tokens per item 50.0% of MoA's (computed, prefill + generated: 40.0%);"
                        " accuracy -5.0 points (75.0% vs 80.0%).");
    assert_contains(md, "| moa vs single | 5 | 2 | 2 | 0 | 0.5 |");
    /* BBQ and ratings */
    assert_contains(md, "| single | 4 | 25.0 [4.6, 69.9] | 4 | 50.0 [15.0, 85.0] | 0.333 | 0.250 |");
    assert_contains(md, "| smoa | 4 | 100.0 [51.0, 100.0] | 4 | 0.0 [0.0, 49.0] | n/a | n/a |");
    assert_contains(md, "| single | 4 | 0 | 4 | 4.50 [2.45, 6.55] |");
    assert_contains(md, "| moa vs single | 4 | 4 | 0 | 0 | 0.125 |");
    assert_contains(md, "mean rating +0.67 (6.67 vs 6.00)");
    /* failures, with the newline of a message flattened */
    assert_contains(md, "## Failed items (3)");
    assert_contains(md, "| bbq | bbq/d4 | single | model failed second line |");
    assert_contains(md, "context full \\| at token 2048");
    /* agents */
    assert_contains(md, "| agent 0: careful | 4 | 75.0 | 0.700 | 100 | 2.00 | 0 |");
    assert_contains(md, "| agent 1: quick | 4 | 25.0 | 0.333 | 50.0 | 1.00 | 1 |");
    assert_contains(md, "| agent 0 | 5 | 100.0 | n/a | 150 | 3.00 | 0 |");
    /* the plot */
    assert_true(exists_in(dir, "accuracy_vs_tokens.gp"));
    assert_true(exists_in(dir, "accuracy_vs_tokens.dat"));
    if (gnuplot_on_path()) {
        assert_true(exists_in(dir, "accuracy_vs_tokens.png"));
        assert_false(exists_in(dir, "accuracy_vs_tokens.log"));
        assert_contains(md, "![accuracy vs tokens](accuracy_vs_tokens.png)");
    }
    free(md);
    remove_dir(dir);
}

/* The data: one block per mode with its points; mt-bench (rated) absent. */
static void test_plot_data(void **state) {
    (void)state;
    char *dir = copy_fixture("full");
    free(write_report(dir));
    char *dat = read_whole(path_in(dir, "accuracy_vs_tokens.dat"));
    char *gp = read_whole(path_in(dir, "accuracy_vs_tokens.gp"));
    assert_non_null(dat);
    assert_non_null(gp);
    assert_contains(dat, "120 40 11.7621 76.9276 \"gsm8k\"");
    assert_contains(dat, "1400 80 37.5535 96.3776 \"gsm8k\"");
    assert_contains(dat, "700 75 30.0642 95.4413 \"gsm8k\"");
    assert_null(strstr(dat, "mt-bench"));
    /* 120 to 1400 tokens: a logarithmic axis */
    assert_contains(gp, "set logscale x");
    assert_contains(gp, "index 2 using 1:2:3:4 with yerrorbars");
    assert_contains(gp, "title \"smoa\"");
    free(dat);
    free(gp);
    remove_dir(dir);
}

static void test_report_without_gnuplot(void **state) {
    (void)state;
    char *dir = copy_fixture("full");
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", "/nonexistent", 1);
    char *md = write_report(dir);
    setenv("PATH", saved, 1);
    free(saved);
    assert_contains(md, "No plot: gnuplot was not found");
    assert_true(exists_in(dir, "accuracy_vs_tokens.gp"));
    assert_true(exists_in(dir, "accuracy_vs_tokens.dat"));
    assert_false(exists_in(dir, "accuracy_vs_tokens.png"));
    assert_false(exists_in(dir, "accuracy_vs_tokens.log"));
    free(md);
    remove_dir(dir);
}

static void test_rated_only_has_no_plot(void **state) {
    (void)state;
    char *dir = copy_fixture("rated_only");
    char *md = write_report(dir);
    assert_contains(md, "No plot: only rated data sets");
    assert_contains(md, "| smoa | 2 | 0 | 2 | 8.50 [2.15, 14.85] |");
    assert_false(exists_in(dir, "accuracy_vs_tokens.gp"));
    assert_null(strstr(md, "run.json could not be read"));
    free(md);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------ */
/* Bad input                                                                */

static void test_missing_dir_or_results(void **state) {
    (void)state;
    smoa_eval_summary *s = (smoa_eval_summary *)&s; /* must be reset to NULL */
    smoa_error err = {0};
    assert_int_equal(smoa_eval_summary_read("/nonexistent/run", &s, &err), SMOA_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(err.message, "/nonexistent/run/results.jsonl"));

    assert_int_equal(smoa_eval_report_write(FIXTURES "/no_results", &err), SMOA_ERR_IO);
    assert_non_null(strstr(err.message, FIXTURES "/no_results/results.jsonl"));
    assert_false(exists_in(FIXTURES "/no_results", "report.md"));
}

static void test_empty_results(void **state) {
    (void)state;
    smoa_eval_summary *s = NULL;
    smoa_error err = {0};
    assert_int_equal(smoa_eval_summary_read(FIXTURES "/empty", &s, &err), SMOA_ERR_FORMAT);
    assert_null(s);
    assert_non_null(strstr(err.message, "holds no results (0 lines, 0 malformed)"));
}

/* Wrong types, hostile numbers and odd bytes read as absent, never crash;
 * a NUL inside an answer is legal JSON and keeps its line. */
static void test_odd_fields_read_as_absent(void **state) {
    (void)state;
    char *dir = copy_fixture("empty");
    write_whole(path_in(dir, "results.jsonl"),
                "{\"dataset\": 7, \"item\": \"x\", \"mode\": \"moa\"}\n"
                "[1, 2, 3]\n"
                "{\"dataset\": \"d\", \"item\": \"i\", \"mode\": \"moa\", \"correct\": \"yes\","
                " \"tokens\": \"lots\", \"calls\": 1e300, \"seconds\": \"slow\","
                " \"agents\": {\"a\": 1}, \"bbq\": {\"context\": 3}, \"answer\": \"a\\u0000b\"}\n"
                "{\"dataset\": \"d\", \"item\": \"j\", \"mode\": \"moa\", \"correct\": true,"
                " \"agents\": [1, {\"kept\": true}], \"tokens\": {\"prompt\": -5.5e30}}\n");
    write_whole(path_in(dir, "run.json"), "{\"command\": ");
    smoa_eval_summary *s = NULL;
    smoa_error err = {0};
    assert_int_equal(smoa_eval_summary_read(dir, &s, &err), SMOA_OK);
    assert_int_equal(s->skipped_lines, 2);
    const smoa_eval_group *g = group(s, "d", SMOA_MODE_MOA);
    assert_int_equal(g->items, 2);
    assert_int_equal(g->correct, 1);
    assert_near(g->calls, 0.0, 0.0);
    assert_near(g->prompt_tokens, 0.0, 0.0);
    assert_false(g->has_bbq);
    assert_int_equal(s->n_agents, 1);
    assert_string_equal(s->agents[0].name, "(unnamed)");
    assert_non_null(s->run_json_problem);
    assert_null(s->command);
    smoa_eval_summary_free(s);
    char *md = write_report(dir);
    assert_contains(md, "run.json could not be read: line 1:");
    free(md);
    remove_dir(dir);
}

static void test_arguments(void **state) {
    (void)state;
    smoa_eval_summary *s = NULL;
    smoa_error err = {0};
    assert_int_equal(smoa_eval_summary_read(NULL, &s, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_eval_summary_read(FIXTURES "/full", NULL, &err),
                     SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_eval_report_write(NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_null(smoa_eval_summary_group(NULL, "gsm8k", SMOA_MODE_MOA));
    smoa_eval_summary_free(NULL);
    assert_string_equal(smoa_eval_mode_name(SMOA_MODE_SMOA), "smoa");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_read_skipped_and_replaced),
        cmocka_unit_test(test_gsm8k_groups),
        cmocka_unit_test(test_gsm8k_and_mmlu_paired),
        cmocka_unit_test(test_bbq_accuracy_and_bias),
        cmocka_unit_test(test_rated_set),
        cmocka_unit_test(test_agents),
        cmocka_unit_test(test_failures_and_run_json),
        cmocka_unit_test(test_report_tables),
        cmocka_unit_test(test_plot_data),
        cmocka_unit_test(test_report_without_gnuplot),
        cmocka_unit_test(test_rated_only_has_no_plot),
        cmocka_unit_test(test_missing_dir_or_results),
        cmocka_unit_test(test_empty_results),
        cmocka_unit_test(test_odd_fields_read_as_absent),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
