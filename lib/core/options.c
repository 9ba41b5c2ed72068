/* options.c - versioned option structs: defaults in, caller's values out. */
#include "core/options.h"

#include <stdint.h>
#include <string.h>

void smoa_options_fill(void *caller, size_t caller_size, const void *defaults, size_t known_size) {
    if (!caller || caller_size < sizeof(uint32_t)) return;
    memset(caller, 0, caller_size);
    memcpy(caller, defaults, caller_size < known_size ? caller_size : known_size);
    uint32_t size = (uint32_t)caller_size;
    memcpy(caller, &size, sizeof size); /* struct_size is every struct's first field */
}

smoa_status smoa_options_read(void *dst, size_t known_size, const void *in, const char *name, smoa_error *err) {
    if (!in) return SMOA_OK;
    uint32_t size;
    memcpy(&size, in, sizeof size);
    if (size < sizeof size)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "%s.struct_size is %u; call %s_init() first", name,
                              size, name);
    memcpy(dst, in, size < known_size ? size : known_size);
    uint32_t known = (uint32_t)known_size;
    memcpy(dst, &known, sizeof known);
    return SMOA_OK;
}
