/* tokenizer_spm.h - SentencePiece BPE ("llama" vocabularies).
 *
 * Spaces become U+2581 ('▁'), optionally with one prepended; the text is
 * split into characters, and the adjacent pair whose concatenation is the
 * highest-scoring token merges first (leftmost on ties). A character that no
 * token covers becomes its bytes' <0xXX> tokens (or unk). */
#ifndef SMOA_MODEL_TOKENIZER_SPM_H
#define SMOA_MODEL_TOKENIZER_SPM_H

#include <stdbool.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "model/tokenizer_merge.h"
#include "model/vocab_internal.h"

/* Sets v->spm_word_pieces: when no text token has a '▁' right after another
 * character, no merge can cross the start of a word, so each word may be
 * merged on its own (same result, much less work on long texts). */
void smoa_spm_load(smoa_vocab *v);

/* Encodes raw text (valid UTF-8, no special tokens) into out; space_prefix
 * prepends the dummy '▁'. scratch holds the escaped text. */
smoa_status smoa_spm_encode(const smoa_vocab *v, smoa_merger *m, smoa_strbuf *scratch,
                            const char *text, size_t len, bool space_prefix,
                            smoa_token_sink *out, smoa_error *err);

/* Writes a normal token's text with '▁' turned back into spaces; strip_space
 * drops a leading one (the dummy prefix, at the start of a decoded text). */
void smoa_spm_decode_token(const smoa_vocab *v, int32_t id, bool strip_space,
                           smoa_byte_sink *out);

#endif
