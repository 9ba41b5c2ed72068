/* tokenize_chat.c - load a model with libsmoa, format a chat with its
 * template and print the tokens. Build against an installed libsmoa:
 *
 *   cc tokenize_chat.c $(pkg-config --cflags --libs smoa) -o tokenize_chat
 *   ./tokenize_chat model.gguf "What is 7 times 8?"
 *
 * Models without a chat template (or with one libsmoa does not know) are
 * tokenized as plain text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smoa.h>

static int fail(smoa_ctx *ctx, const char *what, smoa_status st) {
    fprintf(stderr, "%s: %s: %s\n", what, smoa_status_str(st), smoa_ctx_last_error(ctx));
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.gguf MESSAGE\n", argv[0]);
        return 2;
    }
    smoa_ctx *ctx;
    smoa_status st = smoa_ctx_create(NULL, &ctx);
    if (st != SMOA_OK) return 1;

    smoa_model_options mo;
    smoa_model_options_init(&mo);
    mo.load_mode = SMOA_LOAD_VOCAB; /* the tokenizer is all this needs */
    smoa_model *model;
    if ((st = smoa_model_load(ctx, argv[1], &mo, &model)) != SMOA_OK) {
        int rc = fail(ctx, "load", st);
        smoa_ctx_destroy(ctx);
        return rc;
    }
    printf("libsmoa %s, architecture %s, %u tokens in the vocabulary\n", smoa_version(),
           smoa_model_architecture(model), smoa_model_n_vocab(model));

    const char *roles[] = {"user"};
    const char *contents[] = {argv[2]};
    char prompt[4096];
    size_t len;
    uint32_t flags = SMOA_TOKENIZE_PARSE_SPECIAL;
    st = smoa_chat_format(ctx, model, NULL, roles, contents, 1, 1, prompt, sizeof prompt, &len);
    if (st != SMOA_OK) { /* no usable template: the message itself */
        snprintf(prompt, sizeof prompt, "%s", argv[2]);
        len = strlen(prompt);
        flags = 0;
    }

    int32_t tokens[1024];
    size_t n;
    if ((st = smoa_tokenize(ctx, model, prompt, len, flags, tokens, 1024, &n)) != SMOA_OK) {
        int rc = fail(ctx, "tokenize", st);
        smoa_model_free(model);
        smoa_ctx_destroy(ctx);
        return rc;
    }
    printf("%zu tokens:", n);
    for (size_t i = 0; i < n; i++) printf(" %d", tokens[i]);
    printf("\n");
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    return 0;
}
