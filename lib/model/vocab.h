/* vocab.h - the model's vocabulary and tokenizer, read from GGUF metadata.
 *
 * Two tokenizer models: "gpt2" (byte-level BPE with a pre-tokenizer chosen by
 * tokenizer.ggml.pre) and "llama" (SentencePiece BPE by scores with byte
 * fallback). A loaded vocab is immutable and safe to share between threads. */
#ifndef SMOA_MODEL_VOCAB_H
#define SMOA_MODEL_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "model/gguf.h"

typedef struct smoa_vocab smoa_vocab;

/* SMOA_ERR_UNSUPPORTED names the tokenizer model or pre type it cannot do;
 * SMOA_ERR_FORMAT names the inconsistent key (e.g. token_type count). */
smoa_status smoa_vocab_load(const smoa_gguf *g, smoa_vocab **out, smoa_error *err);
void smoa_vocab_free(smoa_vocab *v);

uint32_t smoa_vocab_n_tokens(const smoa_vocab *v);
const char *smoa_vocab_model_name(const smoa_vocab *v); /* "gpt2", "llama" */
const char *smoa_vocab_pre_name(const smoa_vocab *v);   /* "smollm", "default", ... */
int32_t smoa_vocab_bos(const smoa_vocab *v);            /* -1 when none */
int32_t smoa_vocab_eos(const smoa_vocab *v);
bool smoa_vocab_is_eog(const smoa_vocab *v, int32_t token);
const char *smoa_vocab_token_text(const smoa_vocab *v, int32_t token); /* NULL if out of range */

/* flags: SMOA_TOKENIZE_* from smoa.h. Semantics of cap/n_out as in smoa.h. */
smoa_status smoa_vocab_tokenize(const smoa_vocab *v, const char *text, size_t len,
                                uint32_t flags, int32_t *out, size_t cap, size_t *n_out,
                                smoa_error *err);
/* flags: SMOA_DETOKENIZE_* from smoa.h. */
smoa_status smoa_vocab_detokenize(const smoa_vocab *v, const int32_t *tokens, size_t n,
                                  uint32_t flags, char *buf, size_t cap, size_t *n_out,
                                  smoa_error *err);

#endif
