/* run.c - the run result: answer, JSON trace, cost account. */
#include "agents/run.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>


static const char *const stage_names[SMOA_STAGE_TOTAL] = {"propose", "judge", "moderate", "aggregate"};
static const char *const mode_names[] = {"single", "moa", "smoa"};
static const char *const judge_names[] = {"generative", "score", "self"};
static const char *const moderator_names[] = {"judge", "agree-number", "agree-choice", "none"};

#define NAME_OF(names, i) ((i) < sizeof names / sizeof names[0] ? names[i] : "unknown")
const char *smoa_run_mode_name(uint32_t mode) { return NAME_OF(mode_names, mode); }
const char *smoa_run_judge_name(uint32_t judge) { return NAME_OF(judge_names, judge); }
const char *smoa_run_moderator_name(uint32_t moderator) { return NAME_OF(moderator_names, moderator); }

double smoa_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static json_t *options_json(const smoa_run_options *o) {
    return json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:b, s:f, s:i, s:i, s:i, s:I, s:i, s:b}", "mode",
                     smoa_run_mode_name(o->mode), "n", (int)o->n_proposers, "k", (int)o->k, "layers", (int)o->n_layers,
                     "judge", smoa_run_judge_name(o->judge), "moderator", smoa_run_moderator_name(o->moderator),
                     "separate_moderator", (int)o->separate_moderator, "temperature", (double)o->temperature,
                     "max_tokens", (int)o->max_tokens, "judge_max_tokens", (int)o->judge_max_tokens,
                     "aggregator_max_tokens", (int)o->aggregator_max_tokens, "seed", (json_int_t)o->seed,
                     "answer_choices", (int)o->answer_choices, "role_in_system", (int)o->role_in_system);
}

smoa_run *smoa_run_new(const char *question, const smoa_run_options *o) {
    smoa_run *run = calloc(1, sizeof *run);
    if (!run) return NULL;
    run->start = smoa_now();
    run->ttft = -1;
    run->choice = -1;
    run->n_choices = o->answer_choices;
    for (int s = 0; s < SMOA_STAGE_TOTAL; s++) run->cost[s].struct_size = sizeof run->cost[s];
    run->layers = json_array();
    run->trace = json_pack("{s:i, s:s, s:o, s:o}", "version", 1, "question", question, "options", options_json(o),
                           "layers", run->layers);
    if (!run->trace || !run->layers) {
        json_decref(run->layers);
        smoa_run_free(run);
        return NULL;
    }
    return run;
}

void smoa_run_count(smoa_run *run, smoa_stage stage, uint64_t prompt_tokens, uint64_t prefill_tokens,
                    uint64_t generated_tokens, double seconds) {
    smoa_cost *c = &run->cost[stage];
    c->prompt_tokens += prompt_tokens;
    c->prefill_tokens += prefill_tokens;
    c->generated_tokens += generated_tokens;
    c->calls++;
    c->seconds += seconds;
}

static smoa_cost total_cost(const smoa_run *run) {
    smoa_cost t = {.struct_size = sizeof t};
    for (int s = 0; s < SMOA_STAGE_TOTAL; s++) {
        t.prompt_tokens += run->cost[s].prompt_tokens;
        t.prefill_tokens += run->cost[s].prefill_tokens;
        t.generated_tokens += run->cost[s].generated_tokens;
        t.calls += run->cost[s].calls;
        t.seconds += run->cost[s].seconds;
    }
    return t;
}

static json_t *cost_json(const smoa_cost *c) {
    return json_pack("{s:I, s:I, s:I, s:i, s:f}", "prompt_tokens", (json_int_t)c->prompt_tokens, "prefill_tokens",
                     (json_int_t)c->prefill_tokens, "generated_tokens", (json_int_t)c->generated_tokens, "calls",
                     (int)c->calls, "seconds", c->seconds);
}

bool smoa_run_finish(smoa_run *run) {
    json_t *cost = json_object();
    for (int s = 0; s < SMOA_STAGE_TOTAL; s++) json_object_set_new(cost, stage_names[s], cost_json(&run->cost[s]));
    smoa_cost total = total_cost(run);
    json_object_set_new(cost, "total", cost_json(&total));
    json_object_set_new(run->trace, "cost", cost);
    json_object_set_new(run->trace, "answer", json_stringn(run->answer.data ? run->answer.data : "", run->answer.len));
    json_object_set_new(run->trace, "layers_run", json_integer(run->layers_run));
    json_object_set_new(run->trace, "wall_seconds", json_real(smoa_now() - run->start));
    json_object_set_new(run->trace, "ttft_seconds", json_real(run->ttft));
    run->trace_text = json_dumps(run->trace, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    return run->trace_text != NULL;
}

/* ------------------------------------------------------------------------ */
/* Public accessors                                                         */

void smoa_run_free(smoa_run *run) {
    if (!run) return;
    smoa_strbuf_free(&run->answer);
    json_decref(run->trace);
    free(run->trace_text);
    free(run);
}

const char *smoa_run_answer(const smoa_run *run, size_t *len) {
    if (!run) return NULL;
    if (len) *len = run->answer.len;
    return run->answer.data ? run->answer.data : "";
}

const char *smoa_run_trace_json(const smoa_run *run, size_t *len) {
    if (!run || !run->trace_text) return NULL;
    if (len) *len = strlen(run->trace_text);
    return run->trace_text;
}

smoa_status smoa_run_cost(const smoa_run *run, smoa_stage stage, smoa_cost *out) {
    if (!run || !out || stage > SMOA_STAGE_TOTAL || out->struct_size < sizeof(uint32_t))
        return SMOA_ERR_INVALID_ARGUMENT;
    smoa_cost c = stage == SMOA_STAGE_TOTAL ? total_cost(run) : run->cost[stage];
    uint32_t caller_size = out->struct_size;
    memcpy(out, &c, caller_size < sizeof c ? caller_size : sizeof c);
    out->struct_size = caller_size;
    return SMOA_OK;
}

double smoa_run_ttft(const smoa_run *run) { return run ? run->ttft : -1; }

int32_t smoa_run_choice(const smoa_run *run, float *logits) {
    if (!run || run->choice < 0) return -1;
    if (logits) memcpy(logits, run->choice_logits, run->n_choices * sizeof *logits);
    return run->choice;
}
uint32_t smoa_run_layers(const smoa_run *run) { return run ? run->layers_run : 0; }
