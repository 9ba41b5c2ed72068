/* error.h - a status code plus a detailed message, filled where a failure
 * happens and carried up to the smoa_ctx that reports it. */
#ifndef SMOA_CORE_ERROR_H
#define SMOA_CORE_ERROR_H

#include "smoa.h"

typedef struct smoa_error {
    smoa_status status;
    char message[1024];
} smoa_error;

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so failures read `return smoa_error_set(err, ...);`. */
smoa_status smoa_error_set(smoa_error *err, smoa_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

void smoa_error_clear(smoa_error *err);

#endif
