/* cmd_run.c - `smoa run "question"`: one query through single, MoA or SMoA
 * mode on one model shared by all agents; the answer streams to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
            "  --trace FILE           write the run's trace (JSON) to FILE\n"
            "  --json                 print the trace instead of the answer\n");
}

static int pick(const char *arg, const char *const *names, int n, const char *what) {
    for (int i = 0; i < n; i++)
        if (strcmp(arg, names[i]) == 0) return i;
    fprintf(stderr, "smoa: unknown %s '%s'\n", what, arg);
    return -1;
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
    fprintf(stderr, "\n\n%-10s %7s %9s %9s %6s %8s\n", "stage", "calls", "prompt", "generated", "", "seconds");
    for (int s = SMOA_STAGE_PROPOSE; s <= SMOA_STAGE_TOTAL; s++) {
        smoa_cost c = {.struct_size = sizeof c};
        smoa_run_cost(run, (smoa_stage)s, &c);
        fprintf(stderr, "%-10s %7u %9llu %9llu %6s %8.2f\n", stages[s], c.calls, (unsigned long long)c.prompt_tokens,
                (unsigned long long)c.generated_tokens, "", c.seconds);
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
    const char *model, *trace;
    int json, threads;
} run_args;

static int execute(const run_args *a, smoa_run_options *o, const char *question) {
    smoa_ctx *ctx;
    smoa_model *m;
    if (cli_open(a->model, SMOA_LOAD_FULL, &ctx, &m) != 0) return 1;
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = o->n_proposers + 1;
    so.n_threads = a->threads;
    so.kv_tokens = 0;
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

int cli_run(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},   {"mode", required_argument, NULL, 1},
        {"layers", required_argument, NULL, 2},    {"judge", required_argument, NULL, 3},
        {"moderator", required_argument, NULL, 4}, {"separate-moderator", no_argument, NULL, 5},
        {"temp", required_argument, NULL, 6},      {"max-tokens", required_argument, NULL, 7},
        {"seed", required_argument, NULL, 8},      {"trace", required_argument, NULL, 9},
        {"json", no_argument, NULL, 10},           {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    static const char *const modes[] = {"single", "moa", "smoa"}, *const judges[] = {"generative", "score"},
                             *const moderators[] = {"judge", "number", "choice", "none"};
    smoa_run_options o;
    smoa_run_options_init(&o);
    run_args a = {0};
    int c, v;
    long n;
    while ((c = getopt_long(argc, argv, "m:n:k:t:h", options, NULL)) != -1) {
        switch (c) {
        case 'm': a.model = optarg; break;
        case 1: if ((v = pick(optarg, modes, 3, "mode")) < 0) return 2; o.mode = (uint32_t)v; break;
        case 3: if ((v = pick(optarg, judges, 2, "judge")) < 0) return 2; o.judge = (uint32_t)v; break;
        case 4: if ((v = pick(optarg, moderators, 4, "moderator")) < 0) return 2; o.moderator = (uint32_t)v; break;
        case 'n': if (number(optarg, 1, 16, "-n", &n)) return 2; o.n_proposers = (uint32_t)n; break;
        case 'k': if (number(optarg, 1, 16, "-k", &n)) return 2; o.k = (uint32_t)n; break;
        case 2: if (number(optarg, 1, 8, "--layers", &n)) return 2; o.n_layers = (uint32_t)n; break;
        case 5: o.separate_moderator = 1; break;
        case 6: {
            char *end;
            o.temperature = strtof(optarg, &end);
            if (end == optarg || *end || !(o.temperature >= 0)) return fprintf(stderr, "smoa: bad --temp %s\n", optarg), 2;
            break;
        }
        case 7: if (number(optarg, 1, 1 << 16, "--max-tokens", &n)) return 2; o.max_tokens = o.judge_max_tokens = o.aggregator_max_tokens = (uint32_t)n; break;
        case 8: if (number(optarg, 0, 0x7fffffffL, "--seed", &n)) return 2; o.seed = (uint64_t)n; break;
        case 9: a.trace = optarg; break;
        case 10: a.json = 1; break;
        case 't': if (number(optarg, 1, 1024, "--threads", &n)) return 2; a.threads = (int)n; break;
        case 'h': run_usage(stdout); return 0;
        default: run_usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) return run_usage(stderr), 2;
    return execute(&a, &o, argv[optind]);
}
