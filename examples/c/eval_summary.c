/* eval_summary.c - evaluate single, MoA and SMoA on a few items of a data
 * set, then print accuracy and cost per mode and what each agent did, from
 * the library's summary of the results directory. Interrupting it and
 * running it again resumes where it stopped.
 *
 *   cc -std=c11 eval_summary.c $(pkg-config --cflags --libs smoa) -o eval_summary
 *   ./eval_summary model.gguf gsm8k 3 runs/gsm8k
 */
#include <stdio.h>
#include <stdlib.h>

#include <smoa.h>

static void print_progress(const smoa_eval_progress *p, void *user_data) {
    (void)user_data;
    fprintf(stderr, "\r%u/%u done (%s, %s)   ", p->done, p->total, p->item,
            p->mode == SMOA_MODE_SINGLE ? "single" : p->mode == SMOA_MODE_MOA ? "moa" : "smoa");
}

static void print_summary(const smoa_eval_summary *sum) {
    static const char *const modes[] = {"single", "moa", "smoa"};
    printf("%-10s %-6s %6s %22s %12s %8s\n", "dataset", "mode", "items", "accuracy [95% CI]", "tokens/item",
           "s/item");
    for (size_t i = 0; i < smoa_eval_summary_n_results(sum); i++) {
        smoa_eval_mode_result r = {.struct_size = sizeof r};
        if (smoa_eval_summary_result(sum, i, &r) != SMOA_OK) continue;
        printf("%-10s %-6s %6llu %8.1f%% [%5.1f, %5.1f] %12.0f %8.2f\n", r.dataset, modes[r.mode],
               (unsigned long long)r.items, 100 * r.accuracy, 100 * r.accuracy_low, 100 * r.accuracy_high,
               r.total_tokens, r.seconds);
    }
    printf("\n%-6s %-60s %9s %6s\n", "mode", "agent", "responses", "kept");
    for (size_t i = 0; i < smoa_eval_summary_n_agents(sum); i++) {
        smoa_eval_agent_stats a = {.struct_size = sizeof a};
        if (smoa_eval_summary_agent(sum, i, &a) != SMOA_OK) continue;
        printf("%-6s %-60.60s %9llu %6llu\n", modes[a.mode], a.name, (unsigned long long)a.responses,
               (unsigned long long)a.kept);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.gguf DATASET LIMIT OUT_DIR\n", argv[0]);
        return 2;
    }
    smoa_ctx *ctx = NULL;
    smoa_model *model = NULL;
    smoa_session *session = NULL;
    smoa_status st = smoa_ctx_create(NULL, &ctx);
    if (st == SMOA_OK) st = smoa_model_load(ctx, argv[1], NULL, &model);
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = 5; /* 4 proposers + the shared prefix */
    if (st == SMOA_OK) st = smoa_session_create(ctx, model, &so, &session);

    smoa_run_options run;
    smoa_run_options_init(&run); /* n 4, k 2, 2 layers */
    run.max_tokens = run.judge_max_tokens = run.aggregator_max_tokens = 96;
    smoa_eval_options eval;
    smoa_eval_options_init(&eval); /* all three modes, seed 42 */
    eval.dataset = argv[2];
    eval.limit = (uint32_t)atoi(argv[3]);
    eval.out_dir = argv[4];
    eval.run = &run;
    eval.on_progress = print_progress;
    if (st == SMOA_OK) st = smoa_eval_run(ctx, session, &eval);
    fputc('\n', stderr);

    smoa_eval_summary *sum = NULL;
    if (st == SMOA_OK) st = smoa_eval_summary_load(ctx, argv[4], &sum);
    if (st == SMOA_OK) print_summary(sum);
    if (st == SMOA_OK) st = smoa_eval_report(ctx, argv[4]); /* report.md + plot */
    if (st != SMOA_OK) fprintf(stderr, "error: %s\n", ctx ? smoa_ctx_last_error(ctx) : smoa_status_str(st));
    smoa_eval_summary_free(sum);
    smoa_session_destroy(session);
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    return st == SMOA_OK ? 0 : 1;
}
