/* cmd_eval.c - `smoa eval`: a data set in single, MoA and SMoA mode, with
 * a live progress line, resumable results and a report at the end; and
 * `smoa eval report DIR` to write the report again. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "run_flags.h"
#include "team.h"

static void eval_usage(FILE *out) {
    fprintf(out,
            "usage: smoa eval --dataset NAME --out DIR [options]\n"
            "       smoa eval report DIR\n"
            "  --dataset NAME         gsm8k, svamp, mmlu, mmlu-dev, bbq, mt-bench, or a .jsonl/.csv file\n"
            "  --out DIR              results.jsonl, run.json, report.md and the plot go here;\n"
            "                         run again with the same DIR to resume\n"
            "  --modes LIST           comma-separated: single,moa,smoa (default all three)\n"
            "  --limit N              a seeded sample of N items (default: all)\n"
            "  --scorer auto|generate|likelihood  multiple choice: the most likely letter\n"
            "                         (auto, likelihood) or the letter the answer names\n"
            "  --quiet                no progress line\n"
            "Run settings (the moderator defaults to agreement on the answer for numeric and\n"
            "multiple-choice sets, the judge for open questions):\n");
    cli_run_flags_usage(out);
}

static volatile int32_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1; /* the item in flight stops; what is written stays */
}

static void format_duration(double s, char *out, size_t n) {
    if (s < 0) snprintf(out, n, "--:--");
    else if (s < 3600) snprintf(out, n, "%02d:%02d", (int)s / 60, (int)s % 60);
    else snprintf(out, n, "%dh%02d", (int)s / 3600, (int)s % 3600 / 60);
}

/* One line, rewritten in place: bar, counts, accuracy per mode, ETA. */
static void show_progress(const smoa_eval_progress *p, void *user) {
    (void)user;
    static const char *const names[] = {"single", "moa", "smoa"};
    enum { WIDTH = 24 };
    int filled = p->total ? (int)((double)p->done / p->total * WIDTH) : 0;
    char bar[WIDTH + 1], eta[16];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = 0;
    format_duration(p->eta, eta, sizeof eta);
    fprintf(stderr, "\r%s [%s] %u/%u", p->dataset, bar, p->done, p->total);
    for (int m = 0; m < 3; m++)
        if (p->mode_done[m])
            fprintf(stderr, "  %s %u/%u %.1f%%", names[m], p->mode_correct[m], p->mode_done[m],
                    100.0 * p->mode_correct[m] / p->mode_done[m]);
    fprintf(stderr, "  ETA %s \033[K", eta);
    fflush(stderr);
}

static int parse_modes(const char *arg, uint32_t *modes) {
    *modes = 0;
    char *copy = strdup(arg), *save = NULL;
    int rc = copy ? 0 : 2;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        int m = cli_pick(t, cli_mode_names, 3, "mode");
        if (m < 0) rc = 2;
        else *modes |= 1u << m;
    }
    free(copy);
    return rc;
}

static char *joined_command(int argc, char **argv) {
    size_t n = 1;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 3;
    char *s = malloc(n + 5);
    if (!s) return NULL;
    strcpy(s, "smoa");
    for (int i = 0; i < argc; i++) {
        int quote = strchr(argv[i], ' ') != NULL;
        strcat(s, quote ? " '" : " ");
        strcat(s, argv[i]);
        if (quote) strcat(s, "'");
    }
    return s;
}

static int report(const char *dir) {
    smoa_ctx *ctx;
    if (smoa_ctx_create(NULL, &ctx) != SMOA_OK) return fprintf(stderr, "smoa: out of memory\n"), 1;
    smoa_status st = smoa_eval_report(ctx, dir);
    if (st) cli_fail(ctx, "cannot write the report", st);
    else printf("wrote %s/report.md\n", dir);
    smoa_ctx_destroy(ctx);
    return st ? 1 : 0;
}

typedef struct eval_args {
    smoa_eval_options eval;
    cli_run_settings rs;
    int quiet;
} eval_args;

static int evaluate(eval_args *a) {
    cli_team team;
    if (cli_team_open(&a->rs, &team) != 0) return 1;
    char model_path[4096];
    a->eval.model_name = cli_model_path(a->rs.model, model_path, sizeof model_path);
    a->eval.run = &a->rs.options;
    a->eval.cancel = &interrupted;
    if (!a->quiet && isatty(STDERR_FILENO)) a->eval.on_progress = show_progress;
    signal(SIGINT, on_interrupt);
    smoa_status st = smoa_eval_run(team.ctx, team.sessions[0], &a->eval);
    if (a->eval.on_progress) fputc('\n', stderr);
    if (st == SMOA_ERR_CANCELLED) fprintf(stderr, "smoa: interrupted; run the same command again to resume\n");
    else if (st) cli_fail(team.ctx, "the evaluation failed", st);
    cli_team_close(&team);
    return st ? 1 : report(a->eval.out_dir);
}

enum { F_DATASET = 1, F_OUT, F_MODES, F_LIMIT, F_SCORER, F_QUIET };

static int eval_flag(int c, const char *arg, eval_args *a) {
    static const char *const scorers[] = {"auto", "generate", "likelihood"};
    long n;
    int v;
    switch (c) {
    case F_DATASET: a->eval.dataset = arg; return 0;
    case F_OUT: a->eval.out_dir = arg; return 0;
    case F_MODES: return parse_modes(arg, &a->eval.modes);
    case F_LIMIT: if (cli_number(arg, 0, 1000000, "--limit", &n)) return 2; a->eval.limit = (uint32_t)n; return 0;
    case F_SCORER: if ((v = cli_pick(arg, scorers, 3, "scorer")) < 0) return 2; a->eval.scorer = (uint32_t)v; return 0;
    case F_QUIET: a->quiet = 1; return 0;
    default: return cli_is_run_flag(c) ? cli_run_flag(c, arg, &a->rs) : 2;
    }
}

int cli_eval(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "report") == 0) {
        if (argc != 3) return eval_usage(stderr), 2;
        return report(argv[2]);
    }
    struct option options[32] = {{"dataset", required_argument, NULL, F_DATASET}, {"out", required_argument, NULL, F_OUT},
                                 {"modes", required_argument, NULL, F_MODES},     {"limit", required_argument, NULL, F_LIMIT},
                                 {"scorer", required_argument, NULL, F_SCORER},   {"quiet", no_argument, NULL, F_QUIET},
                                 {"help", no_argument, NULL, 'h'}};
    memcpy(options + 7, cli_run_flag_options, cli_n_run_flag_options * sizeof *options);
    eval_args a = {0};
    smoa_eval_options_init(&a.eval);
    smoa_run_options_init(&a.rs.options);
    void *keep = NULL;
    int c, rc = cli_run_config_flag(argc, argv, &a.rs, &keep);
    while (rc == 0 && (c = getopt_long(argc, argv, "m:n:k:t:h", options, NULL)) != -1) {
        if (c == 'h') {
            eval_usage(stdout);
            cli_run_config_free(keep);
            return 0;
        }
        if ((rc = eval_flag(c, optarg, &a)) != 0 && c == '?') eval_usage(stderr);
    }
    if (rc == 0 && (optind != argc || !a.eval.dataset || !a.eval.out_dir)) {
        fprintf(stderr, "smoa: eval needs --dataset and --out\n");
        eval_usage(stderr);
        rc = 2;
    }
    a.eval.seed = a.rs.options.seed;
    a.eval.moderator = a.rs.moderator_set ? (int32_t)a.rs.options.moderator : -1;
    char *command = joined_command(argc, argv);
    a.eval.command = command;
    if (rc == 0) rc = evaluate(&a);
    free(command);
    cli_run_config_free(keep);
    return rc;
}
