/* run.h - the smoa_run result: answer, trace (JSON, built as the run goes)
 * and the cost account per stage. */
#ifndef SMOA_AGENTS_RUN_H
#define SMOA_AGENTS_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "smoa.h"

struct smoa_run {
    smoa_strbuf answer;
    json_t *trace;            /* the document smoa_run_trace_json renders */
    json_t *layers;           /* trace["layers"]                          */
    char *trace_text;         /* rendered at the end of the run           */
    smoa_cost cost[SMOA_STAGE_TOTAL];
    double start;             /* monotonic seconds                        */
    double ttft;              /* -1 until the first answer byte           */
    uint32_t layers_run;
    uint32_t n_choices;       /* answer_choices of the options             */
    int32_t choice;           /* option chosen by likelihood, or -1       */
    float choice_logits[26];  /* [n_choices] letter logits                 */
};

/* An empty run for question with options echoed into the trace; NULL when
 * out of memory. */
smoa_run *smoa_run_new(const char *question, const smoa_run_options *o);
/* Renders the trace (with the cost account) once the run is over. */
bool smoa_run_finish(smoa_run *run);

/* Adds one model call to a stage's account. */
void smoa_run_count(smoa_run *run, smoa_stage stage, uint64_t prompt_tokens, uint64_t prefill_tokens,
                    uint64_t generated_tokens, double seconds);

double smoa_now(void);

/* The names the trace and run.json give the option values. */
const char *smoa_run_mode_name(uint32_t mode);
const char *smoa_run_judge_name(uint32_t judge);
const char *smoa_run_moderator_name(uint32_t moderator);

#endif
