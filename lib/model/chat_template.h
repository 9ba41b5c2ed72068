/* chat_template.h - render chat messages with a model's template.
 *
 * Templates are recognised by family from the Jinja text stored in
 * tokenizer.chat_template (not executed); each family has a renderer that
 * produces what the Jinja template would. */
#ifndef SMOA_MODEL_CHAT_TEMPLATE_H
#define SMOA_MODEL_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/strbuf.h"

/* "chatml", "llama3", "gemma", "mistral", or NULL when not recognised.
 * A family name itself is recognised too. */
const char *smoa_chat_template_family_of(const char *template_text);

/* Appends the rendered conversation to out. SMOA_ERR_UNSUPPORTED for an
 * unknown template, SMOA_ERR_INVALID_ARGUMENT for a bad role or message. */
smoa_status smoa_chat_template_render(const char *template_text, const char *const *roles,
                                      const char *const *contents, size_t n_messages,
                                      bool add_assistant_prompt, smoa_strbuf *out,
                                      smoa_error *err);

#endif
