/* strbuf.h - a growable byte string (always NUL-terminated). */
#ifndef SMOA_CORE_STRBUF_H
#define SMOA_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct smoa_strbuf {
    char *data;  /* NUL-terminated when len > 0 or after any append */
    size_t len;  /* bytes, excluding the NUL */
    size_t cap;  /* allocated bytes */
} smoa_strbuf;

/* Each returns false (and leaves the buffer as it was) when memory runs out. */
bool smoa_strbuf_append(smoa_strbuf *sb, const char *bytes, size_t n);
bool smoa_strbuf_append_str(smoa_strbuf *sb, const char *s);
void smoa_strbuf_free(smoa_strbuf *sb);

#endif
