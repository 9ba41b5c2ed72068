/* error.c - status names and error messages. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *smoa_status_str(smoa_status status) {
    switch (status) {
    case SMOA_OK: return "ok";
    case SMOA_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SMOA_ERR_OUT_OF_MEMORY: return "out of memory";
    case SMOA_ERR_IO: return "i/o error";
    case SMOA_ERR_FORMAT: return "format error";
    case SMOA_ERR_UNSUPPORTED: return "unsupported";
    case SMOA_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case SMOA_ERR_NOT_FOUND: return "not found";
    case SMOA_ERR_BACKEND: return "backend error";
    case SMOA_ERR_CONTEXT_FULL: return "context full";
    case SMOA_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

smoa_status smoa_error_set(smoa_error *err, smoa_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void smoa_error_clear(smoa_error *err) {
    if (err) {
        err->status = SMOA_OK;
        err->message[0] = '\0';
    }
}
