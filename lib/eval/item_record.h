/* item_record.h - the JSON line of one (item, mode): what a run cost and
 * what each agent did in it, read from the run's account and trace. The
 * verdict fields are added by the runner. Schema: docs/eval.md. */
#ifndef SMOA_EVAL_ITEM_RECORD_H
#define SMOA_EVAL_ITEM_RECORD_H

#include <jansson.h>

#include "eval/dataset.h"
#include "smoa.h"

/* A new record naming the set, the item and the mode; NULL on memory. */
json_t *smoa_eval_record_new(const char *dataset, const smoa_eval_item *item, smoa_mode mode, const char *scorer);

/* Adds one finished run's tokens, calls, seconds, layers and agents to the
 * record (summed over the runs of a multi-turn item). */
void smoa_eval_record_add_run(json_t *record, const smoa_run *run);

/* Marks the record failed with the message. */
void smoa_eval_record_fail(json_t *record, const char *message);

#endif
