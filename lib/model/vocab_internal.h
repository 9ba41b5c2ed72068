/* vocab_internal.h - the vocab's layout, shared by the files that load it
 * (vocab.c) and the ones that tokenize with it (tokenizer*.c). */
#ifndef SMOA_MODEL_VOCAB_INTERNAL_H
#define SMOA_MODEL_VOCAB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/pretokenizer.h"
#include "model/vocab.h"
#include "model/vocab_hash.h"

/* tokenizer.ggml.token_type values. */
enum smoa_token_type {
    SMOA_TOKEN_NORMAL = 1,
    SMOA_TOKEN_UNKNOWN = 2,
    SMOA_TOKEN_CONTROL = 3,
    SMOA_TOKEN_USER_DEFINED = 4,
    SMOA_TOKEN_UNUSED = 5,
    SMOA_TOKEN_BYTE = 6
};

typedef enum smoa_vocab_kind {
    SMOA_VOCAB_BPE, /* "gpt2": byte-level BPE */
    SMOA_VOCAB_SPM  /* "llama": SentencePiece */
} smoa_vocab_kind;

struct smoa_vocab {
    smoa_vocab_kind kind;
    const char *model_name;  /* static: "gpt2" or "llama" */
    char *pre_name;
    uint32_t n_tokens;

    /* Per token, indexed by id. */
    const char **texts;      /* NUL-terminated, into text_arena */
    uint32_t *lens;
    uint8_t *types;          /* enum smoa_token_type */
    float *scores;           /* SentencePiece merge scores (0 when absent) */
    bool *is_eog;
    char *text_arena;
    smoa_text_index by_text;

    int32_t bos, eos, unk;   /* -1 when none */
    bool add_bos, add_eos, add_space_prefix;

    /* Tokens split out of raw text before encoding (control, user-defined,
     * unknown), longest text first. */
    int32_t *specials;
    size_t n_specials;

    /* What a byte becomes when no token covers it: <0xXX>, else unk, else -1
     * (the byte is dropped, as llama.cpp does). */
    int32_t byte_fallback[256];

    /* SentencePiece only: words can be merged one at a time (tokenizer_spm.h). */
    bool spm_word_pieces;

    /* BPE only. */
    int32_t byte_token[256];     /* id of the byte's byte-level character */
    smoa_merge_index merges;
    smoa_pretokenizer *pre;
};

/* The byte a byte token's text "<0xXX>" stands for, or -1. */
int smoa_vocab_byte_token_value(const char *text, size_t len);

/* Where token ids go: at most cap are stored, all are counted. */
typedef struct smoa_token_sink {
    int32_t *ids;
    size_t cap;
    size_t n;
} smoa_token_sink;

static inline void smoa_sink_push(smoa_token_sink *s, int32_t id) {
    if (s->n < s->cap) s->ids[s->n] = id;
    s->n++;
}

/* Same for bytes. */
typedef struct smoa_byte_sink {
    char *buf;
    size_t cap;
    size_t n;
} smoa_byte_sink;

static inline void smoa_sink_write(smoa_byte_sink *s, const char *bytes, size_t len) {
    for (size_t i = 0; i < len; i++, s->n++)
        if (s->n < s->cap) s->buf[s->n] = bytes[i];
}

/* Pushes the fallback tokens of each byte of text[0..len). */
static inline void smoa_push_byte_fallback(const smoa_vocab *v, const char *text, size_t len,
                                           smoa_token_sink *out) {
    for (size_t i = 0; i < len; i++) {
        int32_t id = v->byte_fallback[(unsigned char)text[i]];
        if (id >= 0) smoa_sink_push(out, id);
    }
}

#endif
