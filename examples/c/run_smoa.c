/* run_smoa.c - answer one question with Sparse Mixture-of-Agents: several
 * role-played agents (all sharing one model) propose answers, a judge keeps
 * the best few, and an aggregator writes the final answer, which streams to
 * stdout. Then the cost of each stage goes to stderr and, if a third
 * argument is given, the run's trace (JSON, see docs/trace.md) to that file.
 *
 *   cc -std=c11 run_smoa.c $(pkg-config --cflags --libs smoa) -o run_smoa
 *   ./run_smoa model.gguf "What is 12 times 7?" trace.json
 *
 * or, in a source tree after building the library in build/:
 *
 *   cc -std=c11 examples/c/run_smoa.c -Iinclude build/libsmoa.so -o run_smoa
 *   LD_LIBRARY_PATH=build ./run_smoa model.gguf "What is 12 times 7?"
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <smoa.h>

/* Receives the final answer as it is produced. A piece may end inside a
 * UTF-8 character (the next one completes it): write the bytes as they come.
 * Returning non-zero would end the answer here. */
static int print_piece(int32_t seq, int32_t token, const char *piece, size_t len, void *user_data) {
    (void)seq, (void)token, (void)user_data;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

/* What each stage cost: model calls, prompt tokens (every call's whole
 * prompt), tokens actually prefilled (a prefix shared by a batch of calls
 * counts once), generated tokens and wall time. */
static void print_costs(const smoa_run *run) {
    static const char *const names[] = {"propose", "judge", "moderate", "aggregate", "total"};
    fprintf(stderr, "\n\n%-10s %6s %8s %8s %10s %8s\n", "stage", "calls", "prompt", "prefill", "generated",
            "seconds");
    for (int s = SMOA_STAGE_PROPOSE; s <= SMOA_STAGE_TOTAL; s++) {
        /* Like the option structs, smoa_cost is versioned by its first field. */
        smoa_cost c = {.struct_size = sizeof c};
        smoa_run_cost(run, (smoa_stage)s, &c);
        fprintf(stderr, "%-10s %6" PRIu32 " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %8.2f\n", names[s], c.calls,
                c.prompt_tokens, c.prefill_tokens, c.generated_tokens, c.seconds);
    }
    fprintf(stderr, "layers run: %" PRIu32 ", first answer byte after %.2f s\n", smoa_run_layers(run),
            smoa_run_ttft(run));
}

static int write_trace(const smoa_run *run, const char *path) {
    size_t len;
    const char *json = smoa_run_trace_json(run, &len);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(json, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr, "trace written to %s\n", path);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s MODEL.gguf QUESTION [TRACE.json]\n", argv[0]);
        return 2;
    }
    smoa_ctx *ctx; /* error messages and worker threads (NULL options: all CPUs) */
    if (smoa_ctx_create(NULL, &ctx) != SMOA_OK) return 1;
    smoa_model *model = NULL;
    smoa_session *session = NULL;
    smoa_run *run = NULL;

    /* The run's options: every field starts at the library's default. */
    smoa_run_options o;
    smoa_run_options_init(&o);
    o.mode = SMOA_MODE_SMOA;
    o.n_proposers = 4;                    /* agents answering in each layer    */
    o.k = 2;                              /* responses the judge keeps         */
    o.n_layers = 2;                       /* proposer rounds at most           */
    o.judge = SMOA_JUDGE_GENERATIVE;      /* a judge call picks the k          */
    o.moderator = SMOA_MODERATOR_JUDGE;   /* ... and may end the debate early  */
    o.on_answer = print_piece;

    /* One session holds every agent's sequence: n proposers plus one. */
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = o.n_proposers + 1;

    const char *step = "load the model"; /* NULL options: load all of it */
    smoa_status st = smoa_model_load(ctx, argv[1], NULL, &model);
    if (st == SMOA_OK) {
        step = "create a session";
        st = smoa_session_create(ctx, model, &so, &session);
    }
    if (st == SMOA_OK) {
        step = "answer";
        st = smoa_run_query(ctx, session, argv[2], &o, &run);
    }

    int rc = 0;
    if (st != SMOA_OK) {
        fprintf(stderr, "cannot %s: %s: %s\n", step, smoa_status_str(st), smoa_ctx_last_error(ctx));
        rc = 1;
    } else {
        print_costs(run);
        if (argc == 4) rc = write_trace(run, argv[3]);
    }
    /* Every free/destroy function accepts NULL. */
    smoa_run_free(run);
    smoa_session_destroy(session);
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    return rc;
}
