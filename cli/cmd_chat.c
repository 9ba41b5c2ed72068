/* cmd_chat.c - `smoa chat`: an interactive conversation with the model's
 * chat template, streaming each answer and its token rate.
 *
 * Each turn renders the whole conversation, tokenizes it, and prefills only
 * what differs from the tokens the sequence already holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gen_options.h"
#include "run_stats.h"

enum { MAX_TURNS = 256 };

typedef struct conversation {
    const char *roles[MAX_TURNS];
    char *contents[MAX_TURNS];
    size_t n;
    int32_t *held;   /* tokens the sequence holds */
    size_t n_held;
} conversation;

static void chat_usage(FILE *out) {
    fprintf(out, "usage: smoa chat [options]\n"
                 "  --system TEXT        a system message\n" CLI_GEN_USAGE
                 "Type a message and press Enter; an empty line or end of input ends the chat.\n");
}

static int print_piece(int32_t seq, int32_t token, const char *piece, size_t len, void *user) {
    (void)seq, (void)token, (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static int add_turn(conversation *c, const char *role, const char *content, size_t len) {
    if (c->n == MAX_TURNS) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, content, len);
    copy[len] = '\0';
    c->roles[c->n] = role;
    c->contents[c->n++] = copy;
    return 0;
}

/* The rendered conversation, tokenized (malloc'ed). */
static int32_t *render_tokens(smoa_ctx *ctx, const smoa_model *m, const conversation *c, size_t *n) {
    size_t len = 0;
    const char *const *contents = (const char *const *)c->contents;
    smoa_chat_format(ctx, m, NULL, c->roles, contents, c->n, 1, NULL, 0, &len);
    char *text = malloc(len + 1);
    int32_t *tokens = NULL;
    if (text && smoa_chat_format(ctx, m, NULL, c->roles, contents, c->n, 1, text, len + 1, &len) == SMOA_OK) {
        smoa_tokenize(ctx, m, text, len, SMOA_TOKENIZE_PARSE_SPECIAL, NULL, 0, n);
        tokens = malloc((*n + 1) * sizeof *tokens);
        if (tokens && smoa_tokenize(ctx, m, text, len, SMOA_TOKENIZE_PARSE_SPECIAL, tokens, *n, n) != SMOA_OK) {
            free(tokens);
            tokens = NULL;
        }
    }
    if (!tokens) cli_fail(ctx, "cannot format the conversation", SMOA_ERR_INVALID_ARGUMENT);
    free(text);
    return tokens;
}

/* Brings the sequence to `tokens`: keeps the common prefix, prefills the rest. */
static smoa_status sync_sequence(smoa_ctx *ctx, smoa_session *s, int32_t seq, conversation *c, int32_t *tokens,
                                 size_t n) {
    size_t common = 0;
    while (common < c->n_held && common < n && c->held[common] == tokens[common]) common++;
    if (common == n) common--; /* re-run the last token: its logits are needed */
    smoa_status st = smoa_seq_truncate(ctx, s, seq, (uint32_t)common);
    if (st == SMOA_OK) st = smoa_prefill(ctx, s, seq, tokens + common, n - common);
    free(c->held);
    c->held = tokens;
    c->n_held = st == SMOA_OK ? n : 0;
    return st;
}

static int answer(smoa_ctx *ctx, smoa_session *s, int32_t seq, conversation *c, const cli_gen_options *g) {
    size_t n;
    int32_t *tokens = render_tokens(ctx, smoa_session_model(s), c, &n);
    if (!tokens) return -1;
    double t0 = cli_now();
    smoa_status st = sync_sequence(ctx, s, seq, c, tokens, n);
    if (st) return cli_fail(ctx, "cannot process the conversation", st), -1;
    smoa_generate_options go;
    smoa_generate_options_init(&go);
    go.max_tokens = g->max_tokens;
    go.sampling = &g->sampling;
    go.on_token = print_piece;
    smoa_generation *out;
    double t1 = cli_now();
    if ((st = smoa_generate(ctx, s, &seq, 1, &go, &out))) return cli_fail(ctx, "generation failed", st), -1;
    double t2 = cli_now();
    size_t len;
    const char *text = smoa_generation_text(out, 0, &len);
    uint32_t n_gen = smoa_generation_n_tokens(out, 0);
    fprintf(stderr, "\n[%zu prompt tokens in %.2f s; %u tokens, %.1f tokens/s]\n", n, t1 - t0, n_gen,
            n_gen / (t2 - t1));
    int rc = add_turn(c, "assistant", text, len);
    smoa_generation_free(out);
    return rc;
}

static void chat_loop(smoa_ctx *ctx, smoa_session *s, const cli_gen_options *g, const char *system) {
    conversation c = {0};
    int32_t seq;
    int interactive = isatty(STDIN_FILENO);
    if (smoa_seq_create(ctx, s, &seq) != SMOA_OK || (system && add_turn(&c, "system", system, strlen(system))))
        return;
    char line[8192];
    for (;;) {
        if (interactive) fputs("\n> ", stdout), fflush(stdout);
        if (!fgets(line, sizeof line, stdin)) break;
        size_t len = strcspn(line, "\r\n");
        if (len == 0) break;
        if (add_turn(&c, "user", line, len) || answer(ctx, s, seq, &c, g) != 0) break;
        if (!interactive) putchar('\n');
    }
    for (size_t i = 0; i < c.n; i++) free(c.contents[i]);
    free(c.held);
}

int cli_chat(int argc, char **argv) {
    static const struct option options[] = {CLI_GEN_LONG_OPTIONS,
                                            {"system", required_argument, NULL, 2001},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    cli_gen_options g;
    cli_gen_options_init(&g);
    const char *system = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, CLI_GEN_SHORT_OPTIONS "h", options, NULL)) != -1) {
        if ((rc = cli_gen_option(&g, c, optarg)) < 0) return 2;
        if (rc > 0) continue;
        if (c == 2001) system = optarg;
        else if (c == 'h') return chat_usage(stdout), 0;
        else return chat_usage(stderr), 2;
    }
    if (optind < argc) return chat_usage(stderr), 2;
    smoa_ctx *ctx;
    smoa_model *m;
    if (cli_open(g.model, SMOA_LOAD_FULL, &ctx, &m) != 0) return 1;
    smoa_session *s = NULL;
    smoa_status st = smoa_sampling_options_check(ctx, &g.sampling);
    if (st == SMOA_OK) st = smoa_session_create(ctx, m, &g.session, &s);
    if (st) cli_fail(ctx, "cannot start", st);
    else chat_loop(ctx, s, &g, system);
    smoa_session_destroy(s);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
    return st ? 1 : 0;
}
