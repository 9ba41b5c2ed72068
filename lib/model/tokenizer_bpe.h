/* tokenizer_bpe.h - byte-level BPE ("gpt2" vocabularies).
 *
 * Text is pre-tokenized into pieces; each byte of a piece becomes the token
 * of its byte-level character (GPT-2's byte-to-unicode map: printable bytes
 * stand for themselves, the other 68 for U+0100 onwards, so ' ' is 'Ġ');
 * then merges apply by rank (tokenizer.ggml.merges index, lowest first). */
#ifndef SMOA_MODEL_TOKENIZER_BPE_H
#define SMOA_MODEL_TOKENIZER_BPE_H

#include <stdint.h>

#include "core/error.h"
#include "model/gguf.h"
#include "model/tokenizer_merge.h"
#include "model/vocab_internal.h"

/* GPT-2's byte-to-unicode map: the code point that stands for byte b. */
uint32_t smoa_bpe_byte_char(unsigned char b);

/* Reads tokenizer.ggml.pre and tokenizer.ggml.merges into v (whose tokens and
 * text index are loaded). SMOA_ERR_UNSUPPORTED for a missing or unknown pre
 * type; SMOA_ERR_FORMAT for a merge without a space or with a side (or a
 * result) that is not a token. */
smoa_status smoa_bpe_load(smoa_vocab *v, const smoa_gguf *g, smoa_error *err);

/* Encodes raw text (valid UTF-8, no special tokens) into out. */
smoa_status smoa_bpe_encode(const smoa_vocab *v, smoa_merger *m, const char *text, size_t len,
                            smoa_token_sink *out, smoa_error *err);

/* Writes the bytes a normal token stands for (the byte-level map reversed;
 * a character outside the map is copied as it is). */
void smoa_bpe_decode_token(const smoa_vocab *v, int32_t id, smoa_byte_sink *out);

#endif
