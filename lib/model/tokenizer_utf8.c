/* tokenizer_utf8.c - strict UTF-8 validation, lengths and encoding. */
#include "model/tokenizer_utf8.h"

/* Length of the well-formed sequence at s[0..avail), or 0 when it is not one.
 * The second-byte ranges are the ones that rule out overlong forms,
 * surrogates and code points above U+10FFFF (Unicode table 3-7). */
static size_t valid_sequence_len(const unsigned char *s, size_t avail) {
    unsigned char b = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) n = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

bool smoa_utf8_validate(const char *text, size_t len, size_t *bad_offset) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t n = valid_sequence_len(s + i, len - i);
        if (!n) {
            if (bad_offset) *bad_offset = i;
            return false;
        }
        i += n;
    }
    return true;
}

size_t smoa_utf8_char_len(unsigned char b) {
    if (b >= 0xF0) return 4;
    if (b >= 0xE0) return 3;
    if (b >= 0xC0) return 2;
    return 1;
}

size_t smoa_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t smoa_utf8_decode(const char *text, size_t len, size_t *n) {
    const unsigned char *s = (const unsigned char *)text;
    size_t k = smoa_utf8_char_len(s[0]);
    if (k > len) k = len;
    uint32_t cp = k == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> k));
    for (size_t i = 1; i < k; i++) cp = (cp << 6) | (s[i] & 0x3F);
    *n = k;
    return cp;
}

bool smoa_utf8_repair(const char *text, size_t len, smoa_strbuf *out) {
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t pos = 0, bad;
    while (!smoa_utf8_validate(text + pos, len - pos, &bad)) {
        if (!smoa_strbuf_append(out, text + pos, bad) || !smoa_strbuf_append(out, replacement, 3)) return false;
        pos += bad + 1;
    }
    return smoa_strbuf_append(out, text + pos, len - pos);
}
