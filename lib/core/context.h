/* context.h - the smoa_ctx handle: options, last error, logging. */
#ifndef SMOA_CORE_CONTEXT_H
#define SMOA_CORE_CONTEXT_H

#include "core/error.h"
#include "smoa.h"

struct smoa_ctx {
    smoa_ctx_options options;
    smoa_error error; /* last failure */
};

/* Starts a public call on ctx: clears the last error and returns the error
 * sink to pass down. */
smoa_error *smoa_ctx_begin(smoa_ctx *ctx);

/* Logs through the context's callback when level passes its threshold. */
void smoa_log(const smoa_ctx *ctx, smoa_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
