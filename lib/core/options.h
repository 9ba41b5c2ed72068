/* options.h - the two halves of the versioned-options rule (smoa.h):
 * filling a caller's struct with defaults, and reading a caller's struct
 * that may be older (smaller) or newer (larger) than the library's. */
#ifndef SMOA_CORE_OPTIONS_H
#define SMOA_CORE_OPTIONS_H

#include <stddef.h>

#include "core/error.h"

/* Writes the defaults into the caller's struct of caller_size bytes: the
 * fields both know, zeros after them, struct_size = caller_size. */
void smoa_options_fill(void *caller, size_t caller_size, const void *defaults, size_t known_size);

/* dst (known_size bytes) holds the defaults; overlays what the caller's
 * struct holds, up to the smaller of the two sizes. A NULL in keeps the
 * defaults; a struct_size below 4 is SMOA_ERR_INVALID_ARGUMENT, naming the
 * struct (it was never initialised). */
smoa_status smoa_options_read(void *dst, size_t known_size, const void *in, const char *name, smoa_error *err);

#endif
