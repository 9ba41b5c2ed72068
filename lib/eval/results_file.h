/* results_file.h - the results.jsonl of an evaluation: one JSON object per
 * (data set, item, mode), appended and flushed as soon as it is scored, so
 * an interrupted run loses at most the item it was on and resumes where it
 * stopped. Record schema: docs/eval.md. */
#ifndef SMOA_EVAL_RESULTS_FILE_H
#define SMOA_EVAL_RESULTS_FILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"

/* A line already in the file. */
typedef struct smoa_eval_done {
    char *key;   /* "dataset\x1fitem\x1fmode"                            */
    int correct; /* 1, 0, or -1 (rated item, error, or no verdict)        */
} smoa_eval_done;

typedef struct smoa_eval_results {
    FILE *f;                /* open for appending                          */
    smoa_eval_done *done;   /* [n_done] sorted by key                      */
    size_t n_done;
    size_t n_bad_lines;     /* unparsable complete lines (skipped)         */
    bool repaired_tail;     /* a cut-off last line was removed             */
} smoa_eval_results;

/* Opens (creating) path: reads the finished records, drops a last line cut
 * off by an interruption (so the next append starts a fresh line), and
 * leaves the file open for appending. */
smoa_status smoa_eval_results_open(const char *path, smoa_eval_results *r, smoa_error *err);

/* The record of (dataset, item, mode) in the file, or NULL. */
const smoa_eval_done *smoa_eval_results_find(const smoa_eval_results *r, const char *dataset, const char *item,
                                             const char *mode);

/* Writes record as one line and flushes it to the file. */
smoa_status smoa_eval_results_append(smoa_eval_results *r, const json_t *record, smoa_error *err);

void smoa_eval_results_close(smoa_eval_results *r);

#endif
