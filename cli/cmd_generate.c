/* cmd_generate.c - `smoa generate`: continue a prompt, streaming tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gen_options.h"
#include "run_stats.h"

enum { MAX_STOPS = 16 };

static void generate_usage(FILE *out) {
    fprintf(out, "usage: smoa generate -p PROMPT [options]\n"
                 "  -p, --prompt TEXT    the prompt (continued as it is, unless --chat)\n"
                 "  --chat               wrap the prompt as a user message in the chat template\n"
                 "  --system TEXT        with --chat: a system message\n"
                 "  --stop TEXT          stop when TEXT appears (repeatable)\n" CLI_GEN_USAGE);
}

static int print_piece(int32_t seq, int32_t token, const char *piece, size_t len, void *user) {
    (void)seq, (void)token, (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

/* The prompt's tokens (malloc'ed), chat-formatted when asked. */
static int32_t *prompt_tokens(smoa_ctx *ctx, const smoa_model *m, const char *prompt, int chat,
                              const char *system, size_t *n) {
    char *text = NULL;
    uint32_t flags = 0;
    if (chat) {
        const char *roles[] = {"system", "user"}, *contents[] = {system, prompt};
        size_t first = system ? 0 : 1, len = 0;
        smoa_status st = smoa_chat_format(ctx, m, NULL, roles + first, contents + first, 2 - first, 1, NULL, 0, &len);
        if (st != SMOA_ERR_BUFFER_TOO_SMALL && st != SMOA_OK) return cli_fail(ctx, "cannot format the chat", st), NULL;
        text = malloc(len + 1);
        if (!text || smoa_chat_format(ctx, m, NULL, roles + first, contents + first, 2 - first, 1, text, len + 1, &len))
            return free(text), NULL;
        flags = SMOA_TOKENIZE_PARSE_SPECIAL;
    }
    const char *src = text ? text : prompt;
    smoa_status st = smoa_tokenize(ctx, m, src, strlen(src), flags | SMOA_TOKENIZE_ADD_SPECIAL, NULL, 0, n);
    int32_t *tokens = st == SMOA_ERR_BUFFER_TOO_SMALL || st == SMOA_OK ? malloc((*n + 1) * sizeof *tokens) : NULL;
    if (tokens && smoa_tokenize(ctx, m, src, strlen(src), flags | SMOA_TOKENIZE_ADD_SPECIAL, tokens, *n, n)) {
        free(tokens);
        tokens = NULL;
    }
    if (!tokens) cli_fail(ctx, "cannot tokenize the prompt", st);
    free(text);
    return tokens;
}

static int run(smoa_ctx *ctx, const smoa_model *m, cli_gen_options *g, const int32_t *tokens, size_t n,
               const char *const *stops, size_t n_stops) {
    smoa_session *s;
    smoa_status st = smoa_session_create(ctx, m, &g->session, &s);
    if (st) return cli_fail(ctx, "cannot start a session", st), 1;
    int32_t seq;
    smoa_seq_create(ctx, s, &seq);
    double t0 = cli_now();
    if ((st = smoa_prefill(ctx, s, seq, tokens, n))) {
        cli_fail(ctx, "cannot process the prompt", st);
        smoa_session_destroy(s);
        return 1;
    }
    double t1 = cli_now();
    smoa_generate_options go;
    smoa_generate_options_init(&go);
    go.max_tokens = g->max_tokens;
    go.sampling = &g->sampling;
    go.stop = stops;
    go.n_stop = n_stops;
    go.on_token = print_piece;
    smoa_generation *out;
    st = smoa_generate(ctx, s, &seq, 1, &go, &out);
    double t2 = cli_now();
    if (st) {
        cli_fail(ctx, "generation failed", st);
    } else {
        uint32_t n_gen = smoa_generation_n_tokens(out, 0);
        fprintf(stderr, "\n\n[%s] prompt %zu tokens (%.1f tokens/s), generated %u tokens (%.1f tokens/s), stop: %s\n",
                smoa_session_device(s), n, n / (t1 - t0), n_gen, n_gen / (t2 - t1),
                smoa_stop_reason_str(smoa_generation_stop_reason(out, 0)));
        smoa_generation_free(out);
    }
    smoa_session_destroy(s);
    return st ? 1 : 0;
}

int cli_generate(int argc, char **argv) {
    static const struct option options[] = {CLI_GEN_LONG_OPTIONS,
                                            {"prompt", required_argument, NULL, 'p'},
                                            {"chat", no_argument, NULL, 2000},
                                            {"system", required_argument, NULL, 2001},
                                            {"stop", required_argument, NULL, 2002},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    cli_gen_options g;
    cli_gen_options_init(&g);
    const char *prompt = NULL, *system = NULL, *stops[MAX_STOPS];
    size_t n_stops = 0;
    int chat = 0, c, rc;
    while ((c = getopt_long(argc, argv, CLI_GEN_SHORT_OPTIONS "p:h", options, NULL)) != -1) {
        if ((rc = cli_gen_option(&g, c, optarg)) < 0) return 2;
        if (rc > 0) continue;
        switch (c) {
        case 'p': prompt = optarg; break;
        case 2000: chat = 1; break;
        case 2001: system = optarg; break;
        case 2002:
            if (n_stops == MAX_STOPS) return fprintf(stderr, "smoa: at most %d --stop strings\n", MAX_STOPS), 2;
            stops[n_stops++] = optarg;
            break;
        case 'h': generate_usage(stdout); return 0;
        default: generate_usage(stderr); return 2;
        }
    }
    if (!prompt || optind < argc) {
        generate_usage(stderr);
        return 2;
    }
    smoa_ctx *ctx;
    smoa_model *m;
    if (cli_open(g.model, SMOA_LOAD_FULL, &ctx, &m) != 0) return 1;
    rc = 1;
    size_t n;
    int32_t *tokens = NULL;
    smoa_status st = smoa_sampling_options_check(ctx, &g.sampling);
    if (st) cli_fail(ctx, "invalid sampling options", st);
    else if ((tokens = prompt_tokens(ctx, m, prompt, chat, system, &n)) != NULL)
        rc = run(ctx, m, &g, tokens, n, stops, n_stops);
    free(tokens);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
    return rc;
}
