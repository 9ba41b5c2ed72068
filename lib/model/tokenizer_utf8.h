/* tokenizer_utf8.h - the few UTF-8 facts the tokenizers need: strict
 * validation (the regex engine is told to skip its own check), the length of
 * a character from its lead byte, encoding a code point, and repairing
 * invalid text. */
#ifndef SMOA_MODEL_TOKENIZER_UTF8_H
#define SMOA_MODEL_TOKENIZER_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

/* Returns true when text[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). Otherwise false, with the offset of
 * the first byte that starts an invalid sequence in *bad_offset. */
bool smoa_utf8_validate(const char *text, size_t len, size_t *bad_offset);

/* Bytes in the character that starts with lead byte b (1 for a stray
 * continuation byte, so a walk over any bytes always advances). */
size_t smoa_utf8_char_len(unsigned char b);

/* Writes the UTF-8 form of code point cp (<= U+10FFFF) to out; returns its
 * length (1..4). */
size_t smoa_utf8_encode(uint32_t cp, char out[4]);

/* Decodes the character at text[0..len) (which must be valid UTF-8) and
 * stores its length in *n. */
uint32_t smoa_utf8_decode(const char *text, size_t len, size_t *n);

/* Appends text[0..len) to out with every byte that does not start a valid
 * sequence replaced by U+FFFD, so that model output cut inside a character
 * can be shown, stored as JSON and fed back as a prompt. False when out of
 * memory. */
bool smoa_utf8_repair(const char *text, size_t len, smoa_strbuf *out);

#endif
