/* tokenizer.c - smoa_vocab_tokenize and smoa_vocab_detokenize: argument
 * checks, BOS/EOS, special tokens, and dispatch to BPE or SentencePiece. */
#include "core/strbuf.h"
#include "model/tokenizer_bpe.h"
#include "model/tokenizer_special.h"
#include "model/tokenizer_spm.h"
#include "model/tokenizer_utf8.h"
#include "model/vocab.h"
#include "model/vocab_internal.h"

/* Keeps every symbol offset within 32 bits, even after SentencePiece turns
 * each space into three bytes. */
#define MAX_TEXT_BYTES ((size_t)1 << 30)

/* Scratch memory of one call; a vocab is shared and holds none. */
typedef struct tokenize_scratch {
    smoa_fragments fragments;
    smoa_fragments spare;
    smoa_merger merger;
    smoa_strbuf escaped;
} tokenize_scratch;

static void scratch_free(tokenize_scratch *s) {
    smoa_fragments_free(&s->fragments);
    smoa_fragments_free(&s->spare);
    smoa_merger_free(&s->merger);
    smoa_strbuf_free(&s->escaped);
}

static smoa_status check_text(const char *text, size_t len, smoa_error *err) {
    size_t bad;
    if (len > MAX_TEXT_BYTES)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "text of %zu bytes is too long to tokenize at once (limit %zu)", len,
                              MAX_TEXT_BYTES);
    if (!smoa_utf8_validate(text, len, &bad))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "text is not valid UTF-8: byte 0x%02X at offset %zu",
                              (unsigned char)text[bad], bad);
    return SMOA_OK;
}

/* Encodes the fragments in order. SentencePiece prepends its dummy space to
 * the text at the start and after each special token, as llama.cpp does. */
static smoa_status encode_fragments(const smoa_vocab *v, const char *text, tokenize_scratch *s,
                                    smoa_token_sink *out, smoa_error *err) {
    bool after_special = true;
    for (size_t i = 0; i < s->fragments.n; i++) {
        smoa_fragment f = s->fragments.items[i];
        smoa_status st = SMOA_OK;
        if (f.token >= 0)
            smoa_sink_push(out, f.token);
        else if (v->kind == SMOA_VOCAB_BPE)
            st = smoa_bpe_encode(v, &s->merger, text + f.start, f.len, out, err);
        else
            st = smoa_spm_encode(v, &s->merger, &s->escaped, text + f.start, f.len,
                                 v->add_space_prefix && after_special, out, err);
        if (st != SMOA_OK) return st;
        after_special = f.token >= 0;
    }
    return SMOA_OK;
}

smoa_status smoa_vocab_tokenize(const smoa_vocab *v, const char *text, size_t len,
                                uint32_t flags, int32_t *out, size_t cap, size_t *n_out,
                                smoa_error *err) {
    if (n_out) *n_out = 0;
    if (!v || !n_out || (!text && len) || (!out && cap))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "tokenize: vocab, n_out, text and the token buffer are required");
    if (flags & ~(uint32_t)(SMOA_TOKENIZE_ADD_SPECIAL | SMOA_TOKENIZE_PARSE_SPECIAL))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "tokenize: unknown flags 0x%x",
                              (unsigned)flags);
    smoa_status st = check_text(text, len, err);
    if (st != SMOA_OK) return st;

    bool add_special = flags & SMOA_TOKENIZE_ADD_SPECIAL;
    smoa_token_sink sink = {out, cap, 0};
    tokenize_scratch scratch = {0};
    if (add_special && v->add_bos) smoa_sink_push(&sink, v->bos);
    st = smoa_special_partition(v, text, len, flags & SMOA_TOKENIZE_PARSE_SPECIAL,
                                &scratch.fragments, &scratch.spare, err);
    if (st == SMOA_OK) st = encode_fragments(v, text, &scratch, &sink, err);
    if (add_special && v->add_eos) smoa_sink_push(&sink, v->eos);
    scratch_free(&scratch);
    if (st != SMOA_OK) return st;

    *n_out = sink.n;
    if (sink.n > cap)
        return smoa_error_set(err, SMOA_ERR_BUFFER_TOO_SMALL,
                              "tokenize: %zu tokens do not fit in a buffer of %zu", sink.n, cap);
    return SMOA_OK;
}

/* Writes one token's bytes. at_start: nothing has been written and no text
 * token has come yet; a SentencePiece text token there drops the leading
 * space that encoding prepended (its dummy prefix), and only that one. */
static void decode_token(const smoa_vocab *v, int32_t id, bool render_special, bool *at_start,
                         smoa_byte_sink *out) {
    switch (v->types[id]) {
    case SMOA_TOKEN_NORMAL:
        if (v->kind == SMOA_VOCAB_BPE) smoa_bpe_decode_token(v, id, out);
        else smoa_spm_decode_token(v, id, v->add_space_prefix && *at_start, out);
        *at_start = false;
        break;
    case SMOA_TOKEN_BYTE: {
        char byte = (char)smoa_vocab_byte_token_value(v->texts[id], v->lens[id]);
        smoa_sink_write(out, &byte, 1);
        break;
    }
    case SMOA_TOKEN_USER_DEFINED: /* text the user wrote, stored as is */
        smoa_sink_write(out, v->texts[id], v->lens[id]);
        break;
    default: /* control, unknown, unused: markup, not content */
        if (render_special) smoa_sink_write(out, v->texts[id], v->lens[id]);
        break;
    }
    if (out->n) *at_start = false;
}

smoa_status smoa_vocab_detokenize(const smoa_vocab *v, const int32_t *tokens, size_t n,
                                  uint32_t flags, char *buf, size_t cap, size_t *n_out,
                                  smoa_error *err) {
    if (n_out) *n_out = 0;
    if (!v || !n_out || (!tokens && n) || (!buf && cap))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "detokenize: vocab, n_out, tokens and the buffer are required");
    if (flags & ~(uint32_t)(SMOA_DETOKENIZE_RENDER_SPECIAL | SMOA_DETOKENIZE_CONTINUATION))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "detokenize: unknown flags 0x%x",
                              (unsigned)flags);
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= v->n_tokens)
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                  "detokenize: token %zu is %d, outside the vocabulary [0, %u)", i,
                                  tokens[i], v->n_tokens);
    smoa_byte_sink sink = {buf, cap, 0};
    bool at_start = !(flags & SMOA_DETOKENIZE_CONTINUATION);
    for (size_t i = 0; i < n; i++)
        decode_token(v, tokens[i], flags & SMOA_DETOKENIZE_RENDER_SPECIAL, &at_start, &sink);
    *n_out = sink.n;
    /* The text fits when its NUL does too. */
    if (sink.n >= cap)
        return smoa_error_set(err, SMOA_ERR_BUFFER_TOO_SMALL,
                              "detokenize: %zu bytes and a NUL do not fit in a buffer of %zu",
                              sink.n, cap);
    buf[sink.n] = '\0';
    return SMOA_OK;
}
