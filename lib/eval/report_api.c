/* report_api.c - the public entry point of the evaluation report. */
#include "core/context.h"
#include "eval/report.h"

smoa_status smoa_eval_report(smoa_ctx *ctx, const char *dir) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!dir || !dir[0]) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the results directory is required");
    return smoa_eval_report_write(dir, err);
}
