/* pretokenizer.h - splits text into the pieces that byte-level BPE then
 * encodes one at a time, by the regex list that tokenizer.ggml.pre names.
 *
 * The regexes apply in order: each one splits every piece produced by the
 * previous one into its matches and the unmatched runs between them (both
 * kept), which is how llama.cpp and the HF Split pre-tokenizer behave. */
#ifndef SMOA_MODEL_PRETOKENIZER_H
#define SMOA_MODEL_PRETOKENIZER_H

#include <stddef.h>

#include "core/error.h"

typedef struct smoa_pretokenizer smoa_pretokenizer;

/* Compiles the regex list of the pre type `name` (e.g. "smollm", "gpt-2").
 * SMOA_ERR_UNSUPPORTED naming it when the type is unknown. */
smoa_status smoa_pretokenizer_create(const char *name, smoa_pretokenizer **out, smoa_error *err);
void smoa_pretokenizer_free(smoa_pretokenizer *p);

/* Receives one piece (never empty); a status other than SMOA_OK stops the
 * split and is returned from it. */
typedef smoa_status (*smoa_piece_fn)(void *user, const char *piece, size_t len);

/* Splits text[0..len), which must be valid UTF-8, calling fn for each piece
 * in order. Safe to call from several threads at once. */
smoa_status smoa_pretokenizer_split(const smoa_pretokenizer *p, const char *text, size_t len,
                                    smoa_piece_fn fn, void *user, smoa_error *err);

#endif
