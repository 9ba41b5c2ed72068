/* tokenizer_special.h - splitting special tokens out of raw text before it
 * is encoded.
 *
 * Candidates are the control, user-defined and unknown tokens. They are tried
 * longest text first (lower id first among equals); each one splits every
 * raw fragment at all its occurrences, left to right, so a longer token wins
 * over a shorter one it overlaps, as in llama.cpp. User-defined tokens are
 * always split out; control and unknown ones only when asked
 * (SMOA_TOKENIZE_PARSE_SPECIAL), otherwise their text is ordinary text. */
#ifndef SMOA_MODEL_TOKENIZER_SPECIAL_H
#define SMOA_MODEL_TOKENIZER_SPECIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "model/vocab_internal.h"

/* Fills v->specials. Tokens whose text is empty or not valid UTF-8 cannot
 * occur in (validated) text and are left out. */
smoa_status smoa_special_collect(smoa_vocab *v, smoa_error *err);

/* A span of the input: raw text (token == -1) or one special token. */
typedef struct smoa_fragment {
    size_t start;
    size_t len;
    int32_t token;
} smoa_fragment;

typedef struct smoa_fragments {
    smoa_fragment *items;
    size_t n;
    size_t cap;
} smoa_fragments;

/* Splits text[0..len) into fragments, in order. spare is scratch space;
 * both are reused across calls and freed with smoa_fragments_free. */
smoa_status smoa_special_partition(const smoa_vocab *v, const char *text, size_t len,
                                   bool parse_special, smoa_fragments *out,
                                   smoa_fragments *spare, smoa_error *err);
void smoa_fragments_free(smoa_fragments *f);

#endif
