/* model_chat.c - the public chat-template API. */
#include <string.h>

#include "core/context.h"
#include "model/chat_template.h"
#include "model/model.h"

const char *smoa_chat_template_family(const char *template_text) {
    return template_text ? smoa_chat_template_family_of(template_text) : NULL;
}

smoa_status smoa_chat_format(smoa_ctx *ctx, const smoa_model *model, const char *template_text,
                             const char *const *roles, const char *const *contents,
                             size_t n_messages, int add_assistant_prompt, char *buf, size_t cap,
                             size_t *n_out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!n_out || (!buf && cap))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "buf and n_out are required");
    if (!template_text) {
        if (!model) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "need a model or a template");
        template_text = model->chat_template;
        if (!template_text)
            return smoa_error_set(err, SMOA_ERR_NOT_FOUND,
                                  "the model has no tokenizer.chat_template; pass a template name such as \"chatml\"");
    }
    smoa_strbuf rendered = {0};
    smoa_status st = smoa_chat_template_render(template_text, roles, contents, n_messages,
                                               add_assistant_prompt != 0, &rendered, err);
    if (st == SMOA_OK) {
        *n_out = rendered.len;
        if (rendered.len < cap) {
            memcpy(buf, rendered.data ? rendered.data : "", rendered.len);
            buf[rendered.len] = '\0';
        } else {
            st = smoa_error_set(err, SMOA_ERR_BUFFER_TOO_SMALL, "the chat needs %zu bytes plus NUL",
                                rendered.len);
        }
    }
    smoa_strbuf_free(&rendered);
    return st;
}
