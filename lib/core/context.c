/* context.c - context lifecycle, versions, logging. */
#include "core/context.h"

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

void smoa_ctx_options_init(smoa_ctx_options *options) {
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->log_level = SMOA_LOG_WARN;
}

/* Copies what the caller's (possibly older, smaller) struct holds over the
 * defaults; later fields keep their defaults. */
static smoa_status read_ctx_options(const smoa_ctx_options *in, smoa_ctx_options *out,
                                    smoa_error *err) {
    smoa_ctx_options_init(out);
    if (!in) return SMOA_OK;
    if (in->struct_size < sizeof(uint32_t))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "smoa_ctx_options.struct_size is %u; call smoa_ctx_options_init() first",
                              in->struct_size);
    size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
    memcpy(out, in, n);
    out->struct_size = sizeof *out;
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
