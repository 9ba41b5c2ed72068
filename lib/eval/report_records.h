/* report_records.h - results.jsonl read into typed records, one per
 * (dataset, item, mode) after the last-line-wins rule (see report.h).
 * Internal to the report modules. */
#ifndef SMOA_EVAL_REPORT_RECORDS_H
#define SMOA_EVAL_REPORT_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "eval/report.h"

typedef struct eval_agent_record {
    char *name;
    bool kept;
    bool has_score;
    double score;
    int64_t generated_tokens;
    double seconds;
    bool failed;
} eval_agent_record;

typedef struct eval_record {
    int64_t line; /* 1-based line in results.jsonl */
    char *dataset;
    char *item;
    smoa_mode mode;
    bool rated_scorer; /* "scorer": "rating" */
    bool failed;       /* "status": "error"  */
    char *error;       /* the message, or NULL */
    bool has_correct;
    bool correct;
    bool has_rating;
    double rating;
    bool has_prediction;
    bool has_bbq;
    bool bbq_ambig;
    bool bbq_predicted_unknown;
    bool bbq_predicted_biased;
    int64_t prompt_tokens, prefill_tokens, generated_tokens, calls;
    double seconds;
    eval_agent_record *agents;
    size_t n_agents;
} eval_record;

typedef struct eval_record_set {
    eval_record *records; /* sorted by dataset, item, then mode */
    size_t n;
    int64_t lines;          /* non-blank lines read */
    int64_t skipped_lines;
    int64_t replaced_lines;
    int64_t first_skipped[SMOA_EVAL_SKIPPED_LINES_KEPT]; /* 1-based line numbers */
} eval_record_set;

/* dir/name in a new string (free it), or NULL when memory runs out. */
char *eval_run_file(const char *dir, const char *name);

/* Reads path into *set. SMOA_ERR_IO (naming path) when it cannot be opened
 * or read, SMOA_ERR_OUT_OF_MEMORY; malformed lines are only counted. */
smoa_status eval_records_read(const char *path, eval_record_set *set, smoa_error *err);
void eval_records_free(eval_record_set *set);

/* Whether a record of the mode is the same item as the one before:
 * records of one item are adjacent. */
bool eval_records_same_item(const eval_record *a, const eval_record *b);

#endif
