/* cmd_info.c - `smoa info`: what a GGUF file holds. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { MAX_TYPES = 64, VALUE_WIDTH = 96 };

static void print_tensor_types(smoa_ctx *ctx, const smoa_model *m) {
    const char *names[MAX_TYPES];
    unsigned counts[MAX_TYPES];
    size_t n = 0;
    for (uint64_t i = 0; i < smoa_model_n_tensors(m); i++) {
        smoa_tensor_info t = {.struct_size = sizeof t};
        if (smoa_model_tensor_info(ctx, m, i, &t) != SMOA_OK) continue;
        size_t j = 0;
        while (j < n && strcmp(names[j], t.type_name) != 0) j++;
        if (j == n && n < MAX_TYPES) names[n] = t.type_name, counts[n++] = 0;
        if (j < n) counts[j]++;
    }
    printf("tensor types:  ");
    for (size_t j = 0; j < n; j++) printf("%s%s x%u", j ? ", " : "", names[j], counts[j]);
    printf("\n");
}

/* One metadata line, the value cut to one screen line without newlines. */
static void print_meta(smoa_ctx *ctx, const smoa_model *m, const char *key) {
    char value[VALUE_WIDTH + 1];
    size_t n;
    smoa_status st = smoa_model_meta_str(ctx, m, key, value, sizeof value, &n);
    if (st != SMOA_OK && st != SMOA_ERR_BUFFER_TOO_SMALL) return;
    for (char *p = value; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    printf("  %-44s %s%s\n", key, value, n > VALUE_WIDTH ? "..." : "");
}

static void print_tensors(smoa_ctx *ctx, const smoa_model *m) {
    printf("tensors (%" PRIu64 "):\n", smoa_model_n_tensors(m));
    for (uint64_t i = 0; i < smoa_model_n_tensors(m); i++) {
        smoa_tensor_info t = {.struct_size = sizeof t};
        if (smoa_model_tensor_info(ctx, m, i, &t) != SMOA_OK) continue;
        char dims[96];
        int len = 0;
        for (uint32_t d = 0; d < t.n_dims; d++)
            len += snprintf(dims + len, sizeof dims - (size_t)len, "%s%" PRIu64, d ? " x " : "", t.dims[d]);
        printf("  %-32s %-6s [%s] %" PRIu64 " bytes at %" PRIu64 "\n", t.name, t.type_name, dims,
               t.n_bytes, t.offset);
    }
}

static void print_summary(smoa_ctx *ctx, const smoa_model *m, const char *path) {
    printf("file:          %s (%.1f MB)\n", path, smoa_model_file_size(m) / 1e6);
    printf("architecture:  %s\n", smoa_model_architecture(m));
    printf("name:          %s\n", smoa_model_name(m));
    printf("parameters:    %.1f M in %" PRIu64 " tensors\n", smoa_model_n_params(m) / 1e6,
           smoa_model_n_tensors(m));
    if (smoa_model_n_layer(m))
        printf("shape:         %u layers, embedding %u, heads %u (kv %u), ffn %u, context %u\n",
               smoa_model_n_layer(m), smoa_model_n_embd(m), smoa_model_n_head(m),
               smoa_model_n_head_kv(m), smoa_model_n_ff(m), smoa_model_n_ctx_train(m));
    print_tensor_types(ctx, m);
    if (smoa_model_tokenizer_model(m))
        printf("tokenizer:     %s (pre %s), %u tokens, bos %d, eos %d\n",
               smoa_model_tokenizer_model(m), smoa_model_tokenizer_pre(m), smoa_model_n_vocab(m),
               smoa_token_bos(m), smoa_token_eos(m));
    else
        printf("tokenizer:     none loaded (%u tokens in metadata)\n", smoa_model_n_vocab(m));
    const char *tmpl = smoa_model_chat_template(m);
    const char *family = smoa_chat_template_family(tmpl);
    printf("chat template: %s\n", !tmpl ? "none" : family ? family : "present, not recognised");
}

static void info_usage(FILE *out) {
    fprintf(out, "usage: smoa info [--model PATH] [--metadata] [--tensors]\n"
                 "  --model PATH   GGUF file (default: $SMOA_MODEL or the default model)\n"
                 "  --metadata     list every metadata key and value\n"
                 "  --tensors      list every tensor\n");
}

int cli_info(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'}, {"metadata", no_argument, NULL, 'k'},
        {"tensors", no_argument, NULL, 't'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model_opt = NULL;
    int show_meta = 0, show_tensors = 0, c;
    while ((c = getopt_long(argc, argv, "m:h", options, NULL)) != -1) {
        switch (c) {
        case 'm': model_opt = optarg; break;
        case 'k': show_meta = 1; break;
        case 't': show_tensors = 1; break;
        case 'h': info_usage(stdout); return 0;
        default: info_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        info_usage(stderr);
        return 2;
    }
    smoa_ctx *ctx;
    smoa_model *m;
    if (cli_open(model_opt, SMOA_LOAD_METADATA, &ctx, &m) != 0) return 1;
    /* A tokenizer we cannot build is no reason to refuse to describe a file:
     * reload with the vocabulary, and say why when that fails. */
    char path[4096];
    cli_model_path(model_opt, path, sizeof path);
    smoa_model_options mo;
    smoa_model_options_init(&mo);
    mo.load_mode = SMOA_LOAD_VOCAB;
    smoa_model *with_vocab;
    if (smoa_model_load(ctx, path, &mo, &with_vocab) == SMOA_OK) {
        smoa_model_free(m);
        m = with_vocab;
    } else {
        printf("warning:       tokenizer not loaded: %s\n", smoa_ctx_last_error(ctx));
    }
    print_summary(ctx, m, path);
    if (show_meta) {
        printf("metadata (%" PRIu64 " keys):\n", smoa_model_meta_count(m));
        for (uint64_t i = 0; i < smoa_model_meta_count(m); i++) print_meta(ctx, m, smoa_model_meta_key(m, i));
    }
    if (show_tensors) print_tensors(ctx, m);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
    return 0;
}
