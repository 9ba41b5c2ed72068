/* report.h - what `smoa eval` measured: the numbers per (dataset, mode),
 * read back from a run directory, and the report written from them.
 *
 * A run directory holds results.jsonl, one JSON object per line and per
 * (dataset, item, mode), written by the runner (its record schema:
 * dataset, item, mode, status, correct, rating, bbq, tokens, calls,
 * seconds, agents ...), and optionally run.json ({"command": "...",
 * "settings": {...}}). Reading it:
 *   - a line that is not a JSON object, or lacks a string "dataset" or
 *     "item" or a "mode" of single/moa/smoa, is skipped and counted (a run
 *     killed mid-write leaves a truncated last line); blank lines are
 *     ignored; other fields missing or of the wrong type read as absent;
 *   - when (dataset, item, mode) occurs more than once the LAST line wins,
 *     as a resumed run may rewrite an item;
 *   - an item with "status": "error" counts as wrong in accuracy (the
 *     conservative choice) and is listed among the failures; rated items
 *     (MT-Bench: "correct" null, a "rating") average the ratings present;
 *   - costs per item (tokens, calls, seconds) average over every item,
 *     failed ones included: they are what the run spent. */
#ifndef SMOA_EVAL_REPORT_H
#define SMOA_EVAL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "eval/stats.h"
#include "smoa.h"

/* BBQ (bias benchmark) numbers of one (dataset, mode). Bias scores follow
 * the BBQ paper: over items with an answer, s_DIS = 2 * biased / non-unknown
 * - 1 on disambiguated contexts and s_AMB = (1 - ambiguous accuracy) * (the
 * same ratio over ambiguous contexts); NaN ("n/a") when a denominator is 0.
 * Failed items or items without a prediction count in the accuracies (as
 * wrong) but not in the bias ratios. */
typedef struct smoa_eval_bbq_outcome {
    int64_t ambig_items, ambig_correct;
    int64_t disambig_items, disambig_correct;
    int64_t ambig_non_unknown, ambig_biased;
    int64_t disambig_non_unknown, disambig_biased;
    smoa_interval ambig_accuracy;    /* Wilson, 0..1 */
    smoa_interval disambig_accuracy; /* Wilson, 0..1 */
    double bias_disambig;            /* s_DIS */
    double bias_ambig;               /* s_AMB */
} smoa_eval_bbq_outcome;

/* One (dataset, mode). */
typedef struct smoa_eval_group {
    const char *dataset;
    smoa_mode mode;
    bool rated;             /* the dataset is judged by rating, not right/wrong */
    int64_t items;          /* distinct items, after the last-line-wins rule   */
    int64_t errors;         /* items with status "error"                       */
    int64_t correct;        /* items scored right                              */
    smoa_interval accuracy; /* correct / items, Wilson (0..1)                  */
    int64_t rated_items;    /* items with a rating                             */
    smoa_interval rating;   /* mean rating with its t interval                 */
    /* means per item */
    double prompt_tokens;    /* every call's whole prompt, summed             */
    double prefill_tokens;   /* prompt tokens actually computed (not cached)  */
    double generated_tokens;
    double total_tokens;     /* prompt + generated                             */
    double calls;
    double seconds;
    bool has_bbq;
    smoa_eval_bbq_outcome bbq;
} smoa_eval_group;

/* Mode a against mode b over the items of one dataset that both have.
 * Right/wrong sets: both = both right, a_only / b_only = only that mode
 * right, p = exact McNemar. Rated sets (pairs where both have a rating):
 * both = equal ratings, a_only / b_only = that mode rated higher, p = sign
 * test with the ties dropped. p is NaN when n is 0. */
typedef struct smoa_eval_paired {
    const char *dataset;
    smoa_mode a, b;
    bool rated;
    int64_t n;
    int64_t both;
    int64_t a_only;
    int64_t b_only;
    double p;
} smoa_eval_paired;

/* One agent (by role name) of one mode, over every dataset. Means are NaN
 * when nothing was there to average. */
typedef struct smoa_eval_agent {
    const char *name;
    smoa_mode mode;
    int64_t responses;
    int64_t kept;   /* responses the judge kept */
    int64_t scored; /* responses with a judge score */
    int64_t failures;
    double mean_score;
    double mean_generated_tokens;
    double mean_seconds;
} smoa_eval_agent;

/* An item whose run failed. */
typedef struct smoa_eval_failure {
    const char *dataset;
    const char *item;
    smoa_mode mode;
    const char *message;
} smoa_eval_failure;

/* One "key: value" of run.json's settings; value is the JSON text of
 * non-string values. */
typedef struct smoa_eval_setting {
    const char *key;
    const char *value;
} smoa_eval_setting;

enum { SMOA_EVAL_SKIPPED_LINES_KEPT = 8 };

typedef struct smoa_eval_summary {
    char **datasets; /* sorted by name; groups point at these strings */
    size_t n_datasets;
    smoa_eval_group *groups; /* by dataset, then single, moa, smoa */
    size_t n_groups;
    smoa_eval_paired *paired; /* per dataset: smoa-moa, smoa-single, moa-single */
    size_t n_paired;
    smoa_eval_agent *agents; /* moa then smoa, agents in order of appearance */
    size_t n_agents;
    smoa_eval_failure *failures;
    size_t n_failures;
    /* results.jsonl as read */
    int64_t lines;          /* non-blank lines */
    int64_t skipped_lines;  /* malformed or truncated */
    int64_t replaced_lines; /* superseded by a later line with the same key */
    int64_t skipped_line_numbers[SMOA_EVAL_SKIPPED_LINES_KEPT]; /* the first ones, 1-based */
    /* run.json, when present */
    char *command;
    smoa_eval_setting *settings;
    size_t n_settings;
    char *run_json_problem; /* why run.json could not be read, or NULL */
} smoa_eval_summary;

/* Reads dir/results.jsonl (and dir/run.json) into *out (free with
 * smoa_eval_summary_free). SMOA_ERR_IO naming the path when the file
 * cannot be opened or read, SMOA_ERR_FORMAT when it holds no result at
 * all, SMOA_ERR_OUT_OF_MEMORY. */
smoa_status smoa_eval_summary_read(const char *dir, smoa_eval_summary **out, smoa_error *err);
void smoa_eval_summary_free(smoa_eval_summary *summary);

/* The group of (dataset, mode), or NULL when that mode did not run it. */
const smoa_eval_group *smoa_eval_summary_group(const smoa_eval_summary *summary,
                                               const char *dataset, smoa_mode mode);

/* The comparison of mode a against mode b on dataset, or NULL. */
const smoa_eval_paired *smoa_eval_summary_paired(const smoa_eval_summary *summary,
                                                 const char *dataset, smoa_mode a,
                                                 smoa_mode b);

/* "single", "moa" or "smoa". */
const char *smoa_eval_mode_name(smoa_mode mode);

/* Loads dir's results and writes dir/report.md and the plot of accuracy
 * against tokens per item: dir/accuracy_vs_tokens.gp and .dat, drawn into
 * dir/accuracy_vs_tokens.png by gnuplot when it is on the PATH. Without
 * gnuplot (or when it fails) the report says so and this still succeeds.
 * Errors as for smoa_eval_summary_read, or SMOA_ERR_IO when a file cannot
 * be written. */
smoa_status smoa_eval_report_write(const char *dir, smoa_error *err);

#endif
