/* model_tokenizer.c - the public tokenizer API over the model's vocab. */
#include <stddef.h>

#include "core/context.h"
#include "model/model.h"

/* The vocab, or NULL (with the error set) for a metadata-only model. */
static const smoa_vocab *need_vocab(const smoa_model *m, smoa_error *err) {
    if (!m) {
        smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "model is NULL");
        return NULL;
    }
    if (!m->vocab)
        smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                       "the model was loaded with SMOA_LOAD_METADATA and has no tokenizer");
    return m->vocab;
}

int32_t smoa_token_bos(const smoa_model *m) { return m && m->vocab ? smoa_vocab_bos(m->vocab) : -1; }
int32_t smoa_token_eos(const smoa_model *m) { return m && m->vocab ? smoa_vocab_eos(m->vocab) : -1; }

int smoa_token_is_eog(const smoa_model *m, int32_t token) {
    return m && m->vocab && smoa_vocab_is_eog(m->vocab, token);
}

const char *smoa_token_text(const smoa_model *m, int32_t token) {
    return m && m->vocab ? smoa_vocab_token_text(m->vocab, token) : NULL;
}

const char *smoa_model_tokenizer_model(const smoa_model *m) {
    return m && m->vocab ? smoa_vocab_model_name(m->vocab) : NULL;
}

const char *smoa_model_tokenizer_pre(const smoa_model *m) {
    return m && m->vocab ? smoa_vocab_pre_name(m->vocab) : NULL;
}

smoa_status smoa_tokenize(smoa_ctx *ctx, const smoa_model *model, const char *text,
                          size_t text_len, uint32_t flags, int32_t *tokens, size_t cap,
                          size_t *n_out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    const smoa_vocab *v = need_vocab(model, err);
    if (!v) return err->status;
    if ((!text && text_len) || (!tokens && cap) || !n_out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "text, tokens and n_out are required");
    return smoa_vocab_tokenize(v, text ? text : "", text_len, flags, tokens, cap, n_out, err);
}

smoa_status smoa_detokenize(smoa_ctx *ctx, const smoa_model *model, const int32_t *tokens,
                            size_t n_tokens, uint32_t flags, char *buf, size_t cap, size_t *n_out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    const smoa_vocab *v = need_vocab(model, err);
    if (!v) return err->status;
    if ((!tokens && n_tokens) || (!buf && cap) || !n_out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "tokens, buf and n_out are required");
    return smoa_vocab_detokenize(v, tokens, n_tokens, flags, buf, cap, n_out, err);
}
