/* cmd_run.c - `smoa run "question"`: one query through single, MoA or SMoA
 * mode on one model shared by all agents; the answer streams to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_flags.h"
#include "team.h"

static void run_usage(FILE *out) {
    fprintf(out, "usage: smoa run [options] \"question\"\n");
    cli_run_flags_usage(out);
    fprintf(out,
            "  --trace FILE           write the run's trace (JSON) to FILE\n"
            "  --json                 print the trace instead of the answer\n");
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
    cli_team team;
    if (cli_team_open(rs, &team) != 0) return 1;
    smoa_run *run = NULL;
    if (!a->json) rs->options.on_answer = print_piece;
    smoa_status st = smoa_run_query(team.ctx, team.sessions[0], question, &rs->options, &run);
    int rc = 0;
    if (st) {
        cli_fail(team.ctx, "the run failed", st);
        rc = 1;
    } else {
        size_t len;
        const char *trace = smoa_run_trace_json(run, &len);
        if (a->json) printf("%s\n", trace);
        else print_costs(run);
        if (a->trace) rc = write_file(a->trace, trace, len);
    }
    smoa_run_free(run);
    cli_team_close(&team);
    return rc;
}

enum { F_TRACE = 1, F_JSON };

int cli_run(int argc, char **argv) {
    struct option options[32] = {{"trace", required_argument, NULL, F_TRACE},
                                 {"json", no_argument, NULL, F_JSON},
                                 {"help", no_argument, NULL, 'h'}};
    memcpy(options + 3, cli_run_flag_options, cli_n_run_flag_options * sizeof *options);
    cli_run_settings rs = {0};
    smoa_run_options_init(&rs.options);
    run_args a = {0};
    void *keep = NULL;
    int c, rc = cli_run_config_flag(argc, argv, &rs, &keep);
    while (rc == 0 && (c = getopt_long(argc, argv, "m:n:k:t:h", options, NULL)) != -1) {
        if (c == 'h') {
            run_usage(stdout);
            cli_run_config_free(keep);
            return 0;
        }
        if (c == F_TRACE) a.trace = optarg;
        else if (c == F_JSON) a.json = 1;
        else if (!cli_is_run_flag(c)) rc = 2, run_usage(stderr);
        else rc = cli_run_flag(c, optarg, &rs);
    }
    if (rc == 0 && optind != argc - 1) {
        run_usage(stderr);
        rc = 2;
    }
    if (rc == 0) rc = execute(&a, &rs, argv[optind]);
    cli_run_config_free(keep);
    return rc;
}
