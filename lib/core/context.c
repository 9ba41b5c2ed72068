/* context.c - context lifecycle, versions, logging. */
#include "core/context.h"
#include "core/options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMOA_STR2(x) #x
#define SMOA_STR(x) SMOA_STR2(x)

const char *smoa_version(void) {
    return SMOA_STR(SMOA_VERSION_MAJOR) "." SMOA_STR(SMOA_VERSION_MINOR) "." SMOA_STR(SMOA_VERSION_PATCH);
}

uint32_t smoa_version_number(void) { return SMOA_VERSION_NUMBER; }

void smoa_ctx_options_init_sized(smoa_ctx_options *options, size_t size) {
    const smoa_ctx_options defaults = {.struct_size = sizeof defaults, .log_level = SMOA_LOG_WARN};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

static smoa_status read_ctx_options(const smoa_ctx_options *in, smoa_ctx_options *out,
                                    smoa_error *err) {
    smoa_ctx_options_init(out);
    smoa_status st = smoa_options_read(out, sizeof *out, in, "smoa_ctx_options", err);
    if (st) return st;
    if (out->log_level > SMOA_LOG_NONE)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "log_level %d is out of range",
                              (int)out->log_level);
    if (out->n_threads < 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "n_threads %d is negative",
                              (int)out->n_threads);
    return SMOA_OK;
}

smoa_status smoa_ctx_create(const smoa_ctx_options *options, smoa_ctx **out_ctx) {
    if (!out_ctx) return SMOA_ERR_INVALID_ARGUMENT;
    *out_ctx = NULL;
    smoa_ctx_options opts;
    smoa_status st = read_ctx_options(options, &opts, NULL);
    if (st != SMOA_OK) return st;
    smoa_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return SMOA_ERR_OUT_OF_MEMORY;
    ctx->options = opts;
    *out_ctx = ctx;
    smoa_log(ctx, SMOA_LOG_DEBUG, "libsmoa %s context created", smoa_version());
    return SMOA_OK;
}

void smoa_ctx_destroy(smoa_ctx *ctx) { free(ctx); }

const char *smoa_ctx_last_error(const smoa_ctx *ctx) {
    return ctx ? ctx->error.message : "no context";
}

smoa_error *smoa_ctx_begin(smoa_ctx *ctx) {
    smoa_error_clear(&ctx->error);
    return &ctx->error;
}

void smoa_log(const smoa_ctx *ctx, smoa_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->options.log_fn || level < ctx->options.log_level || level >= SMOA_LOG_NONE)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    ctx->options.log_fn(level, message, ctx->options.log_user_data);
}
