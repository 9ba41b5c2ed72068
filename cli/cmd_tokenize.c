/* cmd_tokenize.c - `smoa tokenize`: the tokens of a chat prompt or of text. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_PROMPT "What is the capital of France?"

static void tokenize_usage(FILE *out) {
    fprintf(out,
            "usage: smoa tokenize [--model PATH] [--raw] [--system TEXT] [--ids] [TEXT...]\n"
            "  TEXT           the user message (default: read stdin when it is not a terminal,\n"
            "                 else \"" DEFAULT_PROMPT "\")\n"
            "  --raw          tokenize TEXT as it is, without the chat template\n"
            "  --system TEXT  add a system message before the user message\n"
            "  --ids          print only the token ids, on one line\n");
}

/* All of stdin, NUL-terminated (malloc'ed), or NULL when out of memory. */
static char *read_all(FILE *in) {
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, in);
        if (len < cap - 1) break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) free(buf);
        buf = grown;
        cap *= 2;
    }
    if (buf) buf[len] = '\0';
    return buf;
}

/* TEXT arguments joined with spaces, else stdin, else the default prompt. */
static char *collect_text(int argc, char **argv) {
    if (argc == 0) {
        char *in = isatty(STDIN_FILENO) ? NULL : read_all(stdin);
        if (in && in[0]) return in;
        free(in);
        return strdup(DEFAULT_PROMPT);
    }
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *text = malloc(n + 1);
    if (!text) return NULL;
    text[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i) strcat(text, " ");
        strcat(text, argv[i]);
    }
    return text;
}

/* Renders [system?, user] with the model's template (malloc'ed result). */
static char *format_chat(smoa_ctx *ctx, const smoa_model *m, const char *system, const char *user) {
    const char *roles[] = {"system", "user"};
    const char *contents[] = {system, user};
    size_t first = system ? 0 : 1, n = 0;
    smoa_status st = smoa_chat_format(ctx, m, NULL, roles + first, contents + first, 2 - first, 1,
                                      NULL, 0, &n);
    if (st != SMOA_OK && st != SMOA_ERR_BUFFER_TOO_SMALL) {
        cli_fail(ctx, "cannot format the chat", st);
        return NULL;
    }
    char *out = malloc(n + 1);
    if (!out) return NULL;
    st = smoa_chat_format(ctx, m, NULL, roles + first, contents + first, 2 - first, 1, out, n + 1, &n);
    if (st != SMOA_OK) {
        cli_fail(ctx, "cannot format the chat", st);
        free(out);
        return NULL;
    }
    return out;
}

/* The bytes of a piece, quoted, with control and non-UTF-8-lead bytes
 * escaped so that one token stays on one line. */
static void print_escaped(const char *bytes, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    fputs("\"\n", stdout);
}

static int print_tokens(smoa_ctx *ctx, const smoa_model *m, const char *text, uint32_t flags,
                        int ids_only) {
    size_t n = 0, len = strlen(text);
    smoa_status st = smoa_tokenize(ctx, m, text, len, flags, NULL, 0, &n);
    if (st != SMOA_OK && st != SMOA_ERR_BUFFER_TOO_SMALL) {
        cli_fail(ctx, "cannot tokenize", st);
        return 1;
    }
    int32_t *tokens = malloc((n ? n : 1) * sizeof *tokens);
    if (!tokens || smoa_tokenize(ctx, m, text, len, flags, tokens, n, &n) != SMOA_OK) {
        cli_fail(ctx, "cannot tokenize", SMOA_ERR_OUT_OF_MEMORY);
        free(tokens);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids_only) {
            printf("%s%d", i ? " " : "", tokens[i]);
            continue;
        }
        char piece[256];
        size_t plen;
        if (smoa_detokenize(ctx, m, &tokens[i], 1, SMOA_DETOKENIZE_RENDER_SPECIAL, piece,
                            sizeof piece, &plen) != SMOA_OK)
            plen = 0;
        printf("%6d  %-24s ", tokens[i], smoa_token_text(m, tokens[i]));
        print_escaped(piece, plen < sizeof piece ? plen : sizeof piece - 1);
    }
    printf(ids_only ? "\n" : "%zu tokens\n", n);
    free(tokens);
    return 0;
}

int cli_tokenize(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'}, {"raw", no_argument, NULL, 'r'},
        {"system", required_argument, NULL, 's'}, {"ids", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *model_opt = NULL, *system = NULL;
    int raw = 0, ids_only = 0, c;
    while ((c = getopt_long(argc, argv, "m:h", options, NULL)) != -1) {
        switch (c) {
        case 'm': model_opt = optarg; break;
        case 'r': raw = 1; break;
        case 's': system = optarg; break;
        case 'i': ids_only = 1; break;
        case 'h': tokenize_usage(stdout); return 0;
        default: tokenize_usage(stderr); return 2;
        }
    }
    smoa_ctx *ctx;
    smoa_model *m;
    if (cli_open(model_opt, SMOA_LOAD_VOCAB, &ctx, &m) != 0) return 1;
    int rc = 1;
    char *text = collect_text(argc - optind, argv + optind);
    char *prompt = text && !raw ? format_chat(ctx, m, system, text) : NULL;
    if (text && (raw || prompt)) {
        if (prompt && !ids_only) printf("%s\n---\n", prompt);
        rc = print_tokens(ctx, m, raw ? text : prompt, raw ? 0 : SMOA_TOKENIZE_PARSE_SPECIAL, ids_only);
    }
    free(prompt);
    free(text);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
    return rc;
}
