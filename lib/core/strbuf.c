/* strbuf.c - growable byte string. */
#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

bool smoa_strbuf_append(smoa_strbuf *sb, const char *bytes, size_t n) {
    if (n > (size_t)-1 - sb->len - 1) return false;
    size_t need = sb->len + n + 1;
    if (need > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
        char *grown = realloc(sb->data, cap);
        if (!grown) return false;
        sb->data = grown;
        sb->cap = cap;
    }
    if (n) memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return true;
}

bool smoa_strbuf_append_str(smoa_strbuf *sb, const char *s) {
    return smoa_strbuf_append(sb, s, strlen(s));
}

void smoa_strbuf_free(smoa_strbuf *sb) {
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}
