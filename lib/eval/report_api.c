/* report_api.c - the public entry points of the evaluation report and its
 * summary (the numbers come from report.h). */
#include <string.h>

#include "core/context.h"
#include "eval/report.h"

smoa_status smoa_eval_report(smoa_ctx *ctx, const char *dir) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!dir || !dir[0]) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the results directory is required");
    return smoa_eval_report_write(dir, err);
}

smoa_status smoa_eval_summary_load(smoa_ctx *ctx, const char *dir, smoa_eval_summary **out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!dir || !dir[0] || !out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the results directory and out are required");
    return smoa_eval_summary_read(dir, out, err);
}

size_t smoa_eval_summary_n_results(const smoa_eval_summary *s) { return s ? s->n_groups : 0; }
size_t smoa_eval_summary_n_agents(const smoa_eval_summary *s) { return s ? s->n_agents : 0; }

/* Copies what the caller's version of the struct has room for. */
static smoa_status copy_out(void *out, const void *full, size_t full_size) {
    uint32_t caller_size;
    memcpy(&caller_size, out, sizeof caller_size);
    if (caller_size < sizeof caller_size) return SMOA_ERR_INVALID_ARGUMENT;
    memcpy(out, full, caller_size < full_size ? caller_size : full_size);
    memcpy(out, &caller_size, sizeof caller_size);
    return SMOA_OK;
}

smoa_status smoa_eval_summary_result(const smoa_eval_summary *s, size_t i, smoa_eval_mode_result *out) {
    if (!s || !out || i >= s->n_groups) return SMOA_ERR_INVALID_ARGUMENT;
    const smoa_eval_group *g = &s->groups[i];
    smoa_eval_mode_result r = {
        .struct_size = sizeof r, .dataset = g->dataset, .mode = (uint32_t)g->mode, .rated = g->rated,
        .items = (uint64_t)g->items, .errors = (uint64_t)g->errors, .correct = (uint64_t)g->correct,
        .accuracy = g->accuracy.estimate, .accuracy_low = g->accuracy.low, .accuracy_high = g->accuracy.high,
        .rated_items = (uint64_t)g->rated_items, .rating = g->rating.estimate, .rating_low = g->rating.low,
        .rating_high = g->rating.high, .prompt_tokens = g->prompt_tokens, .prefill_tokens = g->prefill_tokens,
        .generated_tokens = g->generated_tokens, .total_tokens = g->total_tokens, .calls = g->calls,
        .seconds = g->seconds};
    return copy_out(out, &r, sizeof r);
}

smoa_status smoa_eval_summary_agent(const smoa_eval_summary *s, size_t i, smoa_eval_agent_stats *out) {
    if (!s || !out || i >= s->n_agents) return SMOA_ERR_INVALID_ARGUMENT;
    const smoa_eval_agent *a = &s->agents[i];
    smoa_eval_agent_stats r = {.struct_size = sizeof r, .name = a->name, .mode = (uint32_t)a->mode,
                               .responses = (uint64_t)a->responses, .kept = (uint64_t)a->kept,
                               .failures = (uint64_t)a->failures, .mean_score = a->mean_score,
                               .mean_generated_tokens = a->mean_generated_tokens, .mean_seconds = a->mean_seconds};
    return copy_out(out, &r, sizeof r);
}
