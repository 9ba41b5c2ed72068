/* dataset.h - evaluation items and the loaders that read them.
 *
 * One item model serves every set: a question, optionally its options, and
 * what is needed to score an answer (a gold number, a gold option, a
 * reference answer for a judge, BBQ's bias annotations). data/README.md
 * describes each set, its source and its licence.
 *
 * Named sets (files under the data directory):
 *   gsm8k     gsm8k/test.jsonl                  1,319 numeric
 *   svamp     svamp/SVAMP.json                  1,000 numeric
 *   mmlu      mmlu/data/val/<subject>_val.csv   1,542 choice (A-D)
 *   mmlu-dev  mmlu/data/dev/<subject>_dev.csv     285 choice (A-D)
 *   bbq       bbq/data/<Category>.jsonl        11,956 choice (3 options)
 *   mt-bench  mt_bench/question.jsonl              80 open, 2 turns each,
 *             with mt_bench/reference_answer/gpt-4.jsonl as references
 * The data directory is $SMOA_DATA_DIR when set and not empty, else the
 * source tree's data/ when it exists, else the installed share/smoa/data.
 *
 * Any other name is the path of a user file, .jsonl or .csv (documented in
 * data/README.md, "Your own questions"). The set's name is then the file
 * name without directory and extension.
 *
 * Bad records never stop a load: each is skipped and described in
 * `warnings` ("file:line: reason"). A load fails only when a file is
 * missing or unreadable (SMOA_ERR_IO, naming the path and SMOA_DATA_DIR),
 * when no record at all is valid (SMOA_ERR_FORMAT), or on memory. */
#ifndef SMOA_EVAL_DATASET_H
#define SMOA_EVAL_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum smoa_eval_kind {
    SMOA_EVAL_NUMERIC, /* the answer is a number: gold_number       */
    SMOA_EVAL_CHOICE,  /* the answer is an option: gold_choice      */
    SMOA_EVAL_OPEN     /* free text, rated by a judge (MT-bench)    */
} smoa_eval_kind;

/* BBQ's annotations, for the bias scores (eval/scorer.h). */
typedef struct smoa_eval_bbq {
    bool present;       /* the item comes from BBQ                     */
    bool ambiguous;     /* context_condition "ambig"                   */
    bool negative;      /* question_polarity "neg"                     */
    int unknown_choice; /* the "cannot be determined" option           */
    bool biased[3];     /* option i is the biased answer: it names the
                         * stereotyped group for a negative question, a
                         * non-stereotyped one otherwise; never the
                         * unknown option. All false when the record does
                         * not say which option is the stereotyped group. */
} smoa_eval_bbq;

typedef struct smoa_eval_item {
    char *id;           /* unique in its set and stable across versions of
                         * the loader: "gsm8k/17", "mmlu/anatomy/3",
                         * "bbq/Age/12", "mt-bench/81"                    */
    char *category;     /* subject, type or category; NULL when none      */
    smoa_eval_kind kind;
    char *question;     /* turn 1 without the options; is turns[0]       */
    size_t n_turns;     /* 1, or more for multi-turn open questions       */
    char **turns;       /* [n_turns]; turns[0] is `question`              */
    char **references;  /* [n_turns]; reference answer per turn, or NULL  */
    size_t n_choices;   /* 0 unless kind is SMOA_EVAL_CHOICE (2..26)      */
    char **choices;     /* [n_choices]                                    */
    int gold_choice;    /* 0-based; -1 when none                          */
    bool has_gold_number;
    double gold_number;
    smoa_eval_bbq bbq;
} smoa_eval_item;

typedef struct smoa_eval_dataset {
    char *name; /* "gsm8k", ..., or the user file's stem */
    size_t n_items;
    smoa_eval_item *items;
    size_t n_warnings;
    char **warnings; /* one per skipped record: "file:line: reason" */
} smoa_eval_dataset;

/* Loads a named set or a user file (see above). On success *out owns
 * everything; free it with smoa_eval_dataset_free. */
smoa_status smoa_eval_dataset_load(const char *name_or_path, smoa_eval_dataset **out,
                                   smoa_error *err);

void smoa_eval_dataset_free(smoa_eval_dataset *ds);

/* The directory the named sets are read from (see above); a static or
 * environment string, not to be freed. */
const char *smoa_eval_data_dir(void);

/* Picks items for a run of `limit` items (0: all) with a seeded shuffle.
 * Writes item indices into order[0 .. *n_selected), order having room for
 * ds->n_items. An item's place depends only on the seed and its id, so a
 * resumed run picks the same items whatever the file order, and the pick
 * for a limit is a prefix of the pick for a larger one. The order is the
 * shuffled one, which mixes categories (and BBQ's contexts) from the start.
 * SMOA_ERR_OUT_OF_MEMORY (and *n_selected 0) when the sort has no memory. */
smoa_status smoa_eval_dataset_select(const smoa_eval_dataset *ds, size_t limit, uint64_t seed,
                                     size_t *order, size_t *n_selected);

/* The prompt for turn `turn` of an item (malloc'd; NULL when the turn does
 * not exist or memory runs out). Numeric: the question and an instruction
 * to end with "#### <number>". Choice: the question, the options as
 * "A. ..." lines and an instruction to answer with a letter. Open: the
 * turn's text as written. */
char *smoa_eval_item_prompt(const smoa_eval_item *item, size_t turn);

#endif
