/* cmd_run.c - `smoa run "question"`: one query through single, MoA or SMoA
 * mode on one model shared by all agents; the answer streams to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_config.h"

static void run_usage(FILE *out) {
    fprintf(out,
            "usage: smoa run [options] \"question\"\n"
            "  --model PATH           GGUF model (default: $SMOA_MODEL or the default model)\n"
            "  --mode single|moa|smoa default smoa\n"
            "  -n N                   proposers (default 4)\n"
            "  -k K                   responses kept per layer (default 2)\n"
            "  --layers L             proposer rounds (default 2)\n"
            "  --judge generative|score          (default generative)\n"
            "  --moderator judge|number|choice|none (default judge)\n"
            "  --separate-moderator   judge and moderator as two calls\n"
            "  --temp T               every call's temperature (default 0.7)\n"
            "  --max-tokens N         per response (default 256)\n"
            "  --seed S               (default 42)\n"
            "  -t, --threads N        CPU threads\n"
            "  --task TEXT            with no roles: the model writes personas for this task\n"
            "  --roles-cache FILE     keep those personas in FILE (written once per task)\n"
            "  --config FILE          settings as JSON (docs/config.md); later flags override\n"
            "  --trace FILE           write the run's trace (JSON) to FILE\n"
            "  --json                 print the trace instead of the answer\n");
}

static int number(const char *arg, long lo, long hi, const char *what, long *out) {
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "smoa: %s expects an integer in %ld..%ld, got '%s'\n", what, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static int print_piece(int32_t seq, int32_t token, const char *piece, size_t len, void *user) {
    (void)seq, (void)token, (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static void print_costs(const smoa_run *run) {
    static const char *const stages[] = {"propose", "judge", "moderate", "aggregate", "total"};
    fprintf(stderr, "\n\n%-10s %6s %8s %9s %10s %8s\n", "stage", "calls", "prompt", "computed", "generated", "seconds");
    for (int s = SMOA_STAGE_PROPOSE; s <= SMOA_STAGE_TOTAL; s++) {
        smoa_cost c = {.struct_size = sizeof c};
        smoa_run_cost(run, (smoa_stage)s, &c);
        fprintf(stderr, "%-10s %6u %8llu %9llu %10llu %8.2f\n", stages[s], c.calls,
                (unsigned long long)c.prompt_tokens, (unsigned long long)c.prefill_tokens,
                (unsigned long long)c.generated_tokens, c.seconds);
    }
    fprintf(stderr, "layers run: %u, time to first answer token: %.2f s\n", smoa_run_layers(run), smoa_run_ttft(run));
}

static int write_file(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "smoa: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

typedef struct run_args {
    const char *trace;
    int json;
} run_args;

static int execute(const run_args *a, cli_run_settings *rs, const char *question) {
    smoa_run_options *o = &rs->options;
    smoa_ctx *ctx;
    smoa_model *m;
    if (cli_open(rs->model, SMOA_LOAD_FULL, &ctx, &m) != 0) return 1;
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = o->n_proposers + 1;
    so.n_threads = rs->threads;
    smoa_session *s = NULL;
    smoa_run *run = NULL;
    smoa_status st = smoa_session_create(ctx, m, &so, &s);
    if (!a->json) o->on_answer = print_piece;
    if (st == SMOA_OK) st = smoa_run_query(ctx, s, question, o, &run);
    int rc = 0;
    if (st) {
        cli_fail(ctx, "the run failed", st);
        rc = 1;
    } else {
        size_t len;
        const char *trace = smoa_run_trace_json(run, &len);
        if (a->json) printf("%s\n", trace);
        else print_costs(run);
        if (a->trace) rc = write_file(a->trace, trace, len);
    }
    smoa_run_free(run);
    smoa_session_destroy(s);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
    return rc;
}

/* --config first, wherever it stands, so that the other flags override it. */
static int load_config_flag(int argc, char **argv, cli_run_settings *rs, void **keep) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0) return cli_run_config_load(argv[i + 1], rs, keep);
    return 0;
}

static int parse_flag(int c, const char *arg, cli_run_settings *rs, run_args *a) {
    smoa_run_options *o = &rs->options;
    int v;
    long n;
    switch (c) {
    case 'm': rs->model = arg; return 0;
    case 1: if ((v = cli_pick(arg, cli_mode_names, 3, "mode")) < 0) return 2; o->mode = (uint32_t)v; return 0;
    case 3: if ((v = cli_pick(arg, cli_judge_names, 2, "judge")) < 0) return 2; o->judge = (uint32_t)v; return 0;
    case 4:
        if ((v = cli_pick(arg, cli_moderator_names, 4, "moderator")) < 0) return 2;
        o->moderator = (uint32_t)v;
        return 0;
    case 'n': if (number(arg, 1, 16, "-n", &n)) return 2; o->n_proposers = (uint32_t)n; return 0;
    case 'k': if (number(arg, 1, 16, "-k", &n)) return 2; o->k = (uint32_t)n; return 0;
    case 2: if (number(arg, 1, 8, "--layers", &n)) return 2; o->n_layers = (uint32_t)n; return 0;
    case 5: o->separate_moderator = 1; return 0;
    case 6: {
        char *end;
        o->temperature = strtof(arg, &end);
        if (end == arg || *end || !(o->temperature >= 0)) return fprintf(stderr, "smoa: bad --temp %s\n", arg), 2;
        return 0;
    }
    case 7:
        if (number(arg, 1, 1 << 16, "--max-tokens", &n)) return 2;
        o->max_tokens = o->judge_max_tokens = o->aggregator_max_tokens = (uint32_t)n;
        return 0;
    case 8: if (number(arg, 0, 0x7fffffffL, "--seed", &n)) return 2; o->seed = (uint64_t)n; return 0;
    case 9: a->trace = arg; return 0;
    case 10: a->json = 1; return 0;
    case 11: o->task = arg; return 0;
    case 12: o->roles_cache = arg; return 0;
    case 13: return 0; /* --config: read before the other flags */
    case 't': if (number(arg, 1, 1024, "--threads", &n)) return 2; rs->threads = (int)n; return 0;
    default: return 2;
    }
}

int cli_run(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},   {"mode", required_argument, NULL, 1},
        {"layers", required_argument, NULL, 2},    {"judge", required_argument, NULL, 3},
        {"moderator", required_argument, NULL, 4}, {"separate-moderator", no_argument, NULL, 5},
        {"temp", required_argument, NULL, 6},      {"max-tokens", required_argument, NULL, 7},
        {"seed", required_argument, NULL, 8},      {"trace", required_argument, NULL, 9},
        {"json", no_argument, NULL, 10},           {"task", required_argument, NULL, 11},
        {"roles-cache", required_argument, NULL, 12}, {"config", required_argument, NULL, 13},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_run_settings rs = {0};
    smoa_run_options_init(&rs.options);
    run_args a = {0};
    void *keep = NULL;
    int c, rc = load_config_flag(argc, argv, &rs, &keep);
    while (rc == 0 && (c = getopt_long(argc, argv, "m:n:k:t:h", options, NULL)) != -1) {
        if (c == 'h') {
            run_usage(stdout);
            cli_run_config_free(keep);
            return 0;
        }
        if ((rc = parse_flag(c, optarg, &rs, &a)) != 0 && c == '?') run_usage(stderr);
    }
    if (rc == 0 && optind != argc - 1) {
        run_usage(stderr);
        rc = 2;
    }
    if (rc == 0) rc = execute(&a, &rs, argv[optind]);
    cli_run_config_free(keep);
    return rc;
}
