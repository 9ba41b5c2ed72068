/* bench_agents.c - what running several agents costs, through the public API.
 *
 *   bench_agents [MODEL.gguf | --synthetic] [--threads N] [--reps N]
 *                [--layer-tokens N] [--questions N] [--max-tokens N]
 *                [--data GSM8K.jsonl]
 *
 * MODEL defaults to $SMOA_MODEL; --synthetic writes a SmolLM2-135M-shaped
 * model with random weights instead, for part 1 only (its tokens render as
 * almost no text, so a run has no answers to work with). The questions
 * come from --data, else $SMOA_GSM8K, else the source tree's data/gsm8k/test.jsonl
 * (one {"question", "answer": "... #### 18"} object per line).
 *
 * Part 1, batched layer: one proposer layer of n = 4 and n = 8 agents on the
 * first question, each with its own persona, in both prompt layouts of
 * smoa_run_options.role_in_system: after the question in the user message
 * (the prompts share their start, prefilled once and forked) or as the
 * system message (nothing shared). Sampling at
 * temperature 0.7 with a fixed seed per agent, up to --layer-tokens (128)
 * tokens each:
 *   (a) the n prompts prefilled, then one smoa_generate call for all n;
 *   (b) the same n agents one after another (prefill + generate each);
 *   (c) agent 0 alone.
 * Sampling does not depend on batching, so (a) and (b) generate the same
 * tokens; an agent that stops at its end-of-generation token before the
 * budget is counted as an early stop. Figures are medians of --reps (3).
 *
 * Part 2, query cost: the first --questions (3) questions through
 * smoa_run_query in modes single, moa and smoa with each judge (generative,
 * score, self; n 4, k 2, 2 layers, seed 42; smoa stops early when the kept
 * answers agree on a number). Every token budget (proposer, judge, aggregator) is --max-tokens
 * (128). An answer is right when its last number equals the number after
 * "####" in the gold answer.
 *
 * Benchmarks print tables and never assert timings: see bench/README.md. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smoa.h>

#include "bench_timing.h"

#define MAX_AGENTS 8
#define N_CTX 2048 /* room for a second layer that quotes four responses */
#define PROMPT_CAP 1024
#define TEXT_CAP 8192
#define LAYER_TEMPERATURE 0.7f
#define LAYER_SEED 1000
#define DEFAULT_DATA SMOA_BENCH_DATA_DIR "/gsm8k/test.jsonl"

typedef struct options {
    const char *model_path;
    const char *data_path;
    int synthetic;
    int threads;
    int reps;
    int layer_tokens;
    int questions;
    int max_tokens;
} options;

typedef struct bench {
    smoa_ctx *ctx;
    smoa_model *model;
    smoa_session *session;
} bench;

typedef struct question {
    char *text;
    double gold;
} question;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* A benchmark has nobody to hand an error to: say what failed and stop. */
static void must(const bench *b, smoa_status st, const char *what) {
    if (st == SMOA_OK) return;
    fprintf(stderr, "bench_agents: %s: %s (%s)\n", what, smoa_status_str(st),
            b->ctx ? smoa_ctx_last_error(b->ctx) : "");
    exit(1);
}

static void *must_alloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "bench_agents: out of memory\n");
        exit(1);
    }
    return p;
}

/* The 1-minute load average, or -1 where /proc/loadavg is missing. */
static double load_average(void) {
    FILE *f = fopen("/proc/loadavg", "r");
    double load = -1;
    if (f && fscanf(f, "%lf", &load) != 1) load = -1;
    if (f) fclose(f);
    return load;
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                  */

/* The last number in text ("$1,250.50" reads 1250.5; a comma between
 * digits is taken for a thousands separator). */
static int last_number(const char *text, double *value) {
    int found = 0;
    for (const char *p = text; *p; p++) {
        if (!(*p >= '0' && *p <= '9') || (p > text && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.'))) continue;
        char digits[64];
        size_t n = 0;
        int negative = p > text && p[-1] == '-' && (p - 1 == text || !isalnum((unsigned char)p[-2]));
        if (negative) digits[n++] = '-'; /* "x = -5", not the "5-3" of a difference */
        const char *q = p;
        for (; n + 1 < sizeof digits; q++) {
            int digit = *q >= '0' && *q <= '9';
            int inner = (*q == ',' || *q == '.') && q[1] >= '0' && q[1] <= '9';
            if (!digit && !inner) break;
            if (*q != ',') digits[n++] = *q;
        }
        digits[n] = '\0';
        *value = strtod(digits, NULL);
        found = 1;
        p = q - 1;
    }
    return found;
}

static int same_number(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b)); }

/* ------------------------------------------------------------------------ */
/* Questions                                                                */

/* The gold number is what follows "####" in the answer. */
static int parse_question(const char *line, question *out) {
    json_error_t error;
    json_t *root = json_loads(line, 0, &error);
    const char *text, *answer;
    int ok = root && json_unpack(root, "{s:s, s:s}", "question", &text, "answer", &answer) == 0;
    const char *mark = ok ? strstr(answer, "####") : NULL;
    ok = mark && last_number(mark, &out->gold);
    if (ok) out->text = strdup(text);
    json_decref(root);
    return ok && out->text;
}

static question *load_questions(const char *path, int want) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_agents: cannot open %s (give --data or set SMOA_GSM8K)\n", path);
        exit(2);
    }
    question *qs = must_alloc((size_t)want * sizeof *qs);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (n < want && getline(&line, &cap, f) > 0) {
        if (!parse_question(line, &qs[n])) {
            fprintf(stderr, "bench_agents: %s: line %d is not a GSM8K record\n", path, n + 1);
            exit(2);
        }
        n++;
    }
    free(line);
    fclose(f);
    if (n < want) {
        fprintf(stderr, "bench_agents: %s holds only %d questions\n", path, n);
        exit(2);
    }
    return qs;
}

/* ------------------------------------------------------------------------ */
/* Part 1: a batched proposer layer                                         */

/* Personas for the layer's system messages (this bench's own wording). */
static const char *const personas[MAX_AGENTS] = {
    "You are an accountant who double-checks every sum before answering.",
    "You are a school teacher who solves word problems one small step at a time.",
    "You are an engineer who writes down the quantities first, then computes.",
    "You are a puzzle fan who looks for the shortest correct path to the answer.",
    "You are a statistician who states each assumption before using it.",
    "You are a shopkeeper who is quick and exact with prices and change.",
    "You are a careful student who checks the answer against the question at the end.",
    "You are a physicist who tracks the units of every number.",
};

typedef struct prompt {
    int32_t ids[PROMPT_CAP];
    size_t n;
} prompt;

/* Where a proposer's persona goes, as smoa_run_options.role_in_system. */
typedef enum layout {
    LAYOUT_QUESTION_FIRST, /* user: question, then persona: prefix shared   */
    LAYOUT_PERSONA_FIRST   /* system: persona; user: question               */
} layout;

/* Persona + question in the model's chat template, with the assistant turn
 * opened, as token ids. */
static void build_prompt(bench *b, layout how, const char *persona, const char *question_text, prompt *out) {
    char text[TEXT_CAP], user[TEXT_CAP];
    snprintf(user, sizeof user, "%s\n\n%s Answer in that role.", question_text, persona);
    const char *roles[] = {"system", "user"}, *contents[] = {persona, question_text};
    const char *user_role[] = {"user"}, *user_content[] = {user};
    size_t len;
    must(b, how == LAYOUT_PERSONA_FIRST
                ? smoa_chat_format(b->ctx, b->model, NULL, roles, contents, 2, 1, text, sizeof text, &len)
                : smoa_chat_format(b->ctx, b->model, NULL, user_role, user_content, 1, 1, text, sizeof text, &len),
         "chat_format");
    must(b, smoa_tokenize(b->ctx, b->model, text, len, SMOA_TOKENIZE_PARSE_SPECIAL, out->ids, PROMPT_CAP, &out->n),
         "tokenize");
}

/* One measurement of a layer (or part of one). */
typedef struct layer_time {
    double seconds;         /* prefill + generate                          */
    double prefill_seconds;
    double prefill_tokens;  /* prompt tokens over all agents               */
    double steps;           /* decode steps: the longest agent's tokens     */
    double tokens;          /* generated over all agents                   */
    double early_stops;     /* agents that ended before the budget         */
} layer_time;

static void add_time(layer_time *to, const layer_time *t) {
    to->seconds += t->seconds;
    to->prefill_seconds += t->prefill_seconds;
    to->prefill_tokens += t->prefill_tokens;
    to->steps += t->steps;
    to->tokens += t->tokens;
    to->early_stops += t->early_stops;
}

/* Tokens all of prompts[0..n) start with, leaving each one of its own. */
static size_t shared_prefix(const prompt *prompts, int n) {
    size_t len = prompts[0].n - 1;
    for (int i = 1; i < n; i++) {
        size_t j = 0;
        while (j < len && j < prompts[i].n - 1 && prompts[i].ids[j] == prompts[0].ids[j]) j++;
        len = j;
    }
    return len;
}

/* Agents first..first+n-1: their shared prefix prefilled once and forked,
 * each rest prefilled into its own sequence, then all generated in one
 * smoa_generate call (as the orchestrator runs a layer). */
static layer_time run_agents(bench *b, const prompt *prompts, int first, int n, int max_tokens) {
    int32_t seqs[MAX_AGENTS], base = -1;
    smoa_sampling_options sampling[MAX_AGENTS];
    const smoa_sampling_options *per_seq[MAX_AGENTS];
    layer_time t = {0};
    double t0 = bench_now();
    size_t shared = n > 1 ? shared_prefix(prompts + first, n) : 0;
    if (shared) {
        must(b, smoa_seq_create(b->ctx, b->session, &base), "seq_create");
        must(b, smoa_prefill(b->ctx, b->session, base, prompts[first].ids, shared), "prefill");
        t.prefill_tokens += (double)shared;
    }
    for (int i = 0; i < n; i++) {
        const prompt *p = &prompts[first + i];
        must(b, shared ? smoa_seq_fork(b->ctx, b->session, base, &seqs[i]) : smoa_seq_create(b->ctx, b->session, &seqs[i]),
             "seq_create");
        must(b, smoa_prefill(b->ctx, b->session, seqs[i], p->ids + shared, p->n - shared), "prefill");
        t.prefill_tokens += (double)(p->n - shared);
        smoa_sampling_options_init(&sampling[i]);
        sampling[i].temperature = LAYER_TEMPERATURE;
        sampling[i].seed = LAYER_SEED + (uint64_t)(first + i); /* the agent's, wherever it runs */
        per_seq[i] = &sampling[i];
    }
    if (base >= 0) smoa_seq_free(b->session, base);
    t.prefill_seconds = bench_now() - t0;
    smoa_generate_options go;
    smoa_generate_options_init(&go);
    go.max_tokens = (uint32_t)max_tokens;
    go.sampling_per_seq = per_seq;
    smoa_generation *g = NULL;
    must(b, smoa_generate(b->ctx, b->session, seqs, (size_t)n, &go, &g), "generate");
    t.seconds = bench_now() - t0;
    for (int i = 0; i < n; i++) {
        double tokens = smoa_generation_n_tokens(g, (size_t)i);
        t.tokens += tokens;
        if (tokens > t.steps) t.steps = tokens;
        t.early_stops += smoa_generation_stop_reason(g, (size_t)i) != SMOA_STOP_MAX_TOKENS;
        smoa_seq_free(b->session, seqs[i]);
    }
    smoa_generation_free(g);
    return t;
}

/* (b): every agent on its own, one after another. */
static layer_time run_one_by_one(bench *b, const prompt *prompts, int n, int max_tokens) {
    layer_time total = {0};
    for (int i = 0; i < n; i++) {
        layer_time one = run_agents(b, prompts, i, 1, max_tokens);
        add_time(&total, &one);
    }
    return total;
}

/* Medians over the reps, field by field. */
static layer_time median_time(const layer_time *runs, int reps) {
    double v[6][64];
    for (int r = 0; r < reps; r++) {
        v[0][r] = runs[r].seconds;
        v[1][r] = runs[r].prefill_seconds;
        v[2][r] = runs[r].prefill_tokens;
        v[3][r] = runs[r].steps;
        v[4][r] = runs[r].tokens;
        v[5][r] = runs[r].early_stops;
    }
    return (layer_time){bench_median(v[0], reps), bench_median(v[1], reps), bench_median(v[2], reps),
                        bench_median(v[3], reps), bench_median(v[4], reps), bench_median(v[5], reps)};
}

/* Milliseconds per decode step, prefill left out. */
static double step_ms(const layer_time *t) { return 1e3 * (t->seconds - t->prefill_seconds) / t->steps; }

static const char *const layout_names[] = {"question first", "persona first"};

static void print_layer_tables(const int *sizes, layer_time (*batched)[2], layer_time (*serial)[2],
                               const layer_time *alone, int n_sizes) {
    printf("### Batched layer (medians)\n\n");
    printf("| n | persona | (a) batched s | (b) one by one s | (c) one agent s | a/c | b/a | tokens a / b / c |"
           " early stops a / c | tok/s a | tok/s b | tok/s c |\n");
    printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_sizes; i++)
        for (int l = 0; l < 2; l++) {
            const layer_time *a = &batched[i][l], *s = &serial[i][l], *c = &alone[l];
            printf("| %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f / %.0f / %.0f | %.0f / %.0f | %.1f | %.1f |"
                   " %.1f |\n",
                   sizes[i], layout_names[l], a->seconds, s->seconds, c->seconds, a->seconds / c->seconds,
                   s->seconds / a->seconds, a->tokens, s->tokens, c->tokens, a->early_stops, c->early_stops,
                   a->tokens / a->seconds, s->tokens / s->seconds, c->tokens / c->seconds);
        }
    /* Why a/c is what it is: prefill grows with n (less when the prompts
     * share their start), and a decode step of n sequences costs more than
     * a step of one. */
    printf("\n| n | persona | prompt tokens computed a / c | prefill s a / c | decode steps a / c |"
           " ms per step, batch n / 1 | step cost n / 1 |\n");
    printf("|---:|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_sizes; i++)
        for (int l = 0; l < 2; l++) {
            const layer_time *a = &batched[i][l], *c = &alone[l];
            printf("| %d | %s | %.0f / %.0f | %.2f / %.2f | %.0f / %.0f | %.1f / %.1f | %.2f |\n", sizes[i],
                   layout_names[l], a->prefill_tokens, c->prefill_tokens, a->prefill_seconds, c->prefill_seconds,
                   a->steps, c->steps, step_ms(a), step_ms(c), step_ms(a) / step_ms(c));
        }
    printf("\n");
    fflush(stdout); /* the query part takes minutes more */
}

static void bench_layer(bench *b, const options *o, const char *question_text) {
    static const int sizes[] = {4, 8};
    enum { N_SIZES = sizeof sizes / sizeof sizes[0] };
    prompt *prompts[2] = {must_alloc(MAX_AGENTS * sizeof(prompt)), must_alloc(MAX_AGENTS * sizeof(prompt))};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < MAX_AGENTS; i++) build_prompt(b, (layout)l, personas[i], question_text, &prompts[l][i]);

    run_agents(b, prompts[0], 0, 1, 16); /* warm-up: maps the weights in, grows the buffers */
    static layer_time batched[N_SIZES][2][64], serial[N_SIZES][2][64], alone[2][64];
    for (int r = 0; r < o->reps; r++) /* interleaved, so a burst of load hits every variant */
        for (int l = 0; l < 2; l++) {
            alone[l][r] = run_agents(b, prompts[l], 0, 1, o->layer_tokens);
            for (int i = 0; i < N_SIZES; i++) {
                batched[i][l][r] = run_agents(b, prompts[l], 0, sizes[i], o->layer_tokens);
                serial[i][l][r] = run_one_by_one(b, prompts[l], sizes[i], o->layer_tokens);
            }
        }
    layer_time med_batched[N_SIZES][2], med_serial[N_SIZES][2], med_alone[2];
    for (int l = 0; l < 2; l++) {
        med_alone[l] = median_time(alone[l], o->reps);
        for (int i = 0; i < N_SIZES; i++) {
            med_batched[i][l] = median_time(batched[i][l], o->reps);
            med_serial[i][l] = median_time(serial[i][l], o->reps);
        }
    }
    print_layer_tables(sizes, med_batched, med_serial, med_alone, N_SIZES);
    free(prompts[0]);
    free(prompts[1]);
}

/* ------------------------------------------------------------------------ */
/* Part 2: the cost of one query per mode                                   */

/* The modes compared, SMoA with each judge; row 1 is the MoA baseline. */
typedef struct run_config {
    const char *name;
    smoa_mode mode;
    smoa_judge_kind judge;
} run_config;

enum { N_CONFIGS = 5, MOA_ROW = 1 };
static const run_config configs[N_CONFIGS] = {
    {"single", SMOA_MODE_SINGLE, SMOA_JUDGE_GENERATIVE},     {"moa", SMOA_MODE_MOA, SMOA_JUDGE_GENERATIVE},
    {"smoa, generative judge", SMOA_MODE_SMOA, SMOA_JUDGE_GENERATIVE}, {"smoa, score judge", SMOA_MODE_SMOA, SMOA_JUDGE_SCORE},
    {"smoa, self judge", SMOA_MODE_SMOA, SMOA_JUDGE_SELF}};

/* One query's account: the figures the table shows, and the answer. */
enum { PROMPT_TOKENS, COMPUTED_TOKENS, GENERATED_TOKENS, CALLS, WALL_SECONDS, TTFT_SECONDS, LAYERS, N_FIGURES };

static const int figure_decimals[N_FIGURES] = {0, 0, 0, 0, 1, 1, 0};

typedef struct query_cost {
    double figure[N_FIGURES];
    smoa_cost stage[SMOA_STAGE_TOTAL];
    double answer; /* NAN when the answer holds no number */
    int correct;
} query_cost;

static query_cost run_query(bench *b, const options *o, const run_config *config, const question *q) {
    smoa_run_options ro;
    smoa_run_options_init(&ro);
    ro.mode = (uint32_t)config->mode;
    ro.judge = (uint32_t)config->judge;
    ro.n_proposers = 4;
    ro.k = 2;
    ro.n_layers = 2;
    ro.moderator = SMOA_MODERATOR_AGREE_NUMBER;
    ro.max_tokens = ro.judge_max_tokens = ro.aggregator_max_tokens = (uint32_t)o->max_tokens;
    ro.seed = 42;
    smoa_run *run = NULL;
    double t0 = bench_now();
    must(b, smoa_run_query(b->ctx, b->session, q->text, &ro, &run), "run_query");
    double seconds = bench_now() - t0;
    smoa_cost total = {.struct_size = sizeof total};
    must(b, smoa_run_cost(run, SMOA_STAGE_TOTAL, &total), "run_cost");
    query_cost c = {.figure = {(double)total.prompt_tokens, (double)total.prefill_tokens,
                               (double)total.generated_tokens, total.calls, seconds, smoa_run_ttft(run),
                               smoa_run_layers(run)},
                    .answer = NAN};
    for (int st = 0; st < SMOA_STAGE_TOTAL; st++) {
        c.stage[st].struct_size = sizeof c.stage[st];
        must(b, smoa_run_cost(run, (smoa_stage)st, &c.stage[st]), "run_cost");
    }
    if (last_number(smoa_run_answer(run, NULL), &c.answer)) c.correct = same_number(c.answer, q->gold);
    smoa_run_free(run);
    return c;
}

static double total_of(const query_cost *costs, int n, int figure) {
    double total = 0;
    for (int i = 0; i < n; i++) total += costs[i].figure[figure];
    return total;
}

/* "median / total" of one figure over the questions. */
static void print_spread(const query_cost *costs, int n, int figure) {
    double v[64];
    for (int i = 0; i < n; i++) v[i] = costs[i].figure[figure];
    int d = figure_decimals[figure];
    printf(" %.*f / %.*f |", d, bench_median(v, n), d, total_of(costs, n, figure));
}

/* Each SMoA row's tokens as a fraction of MoA's (totals over the questions):
 * the papers' metric (every call's whole prompt + generated) and what the
 * engine computes (prompt tokens not found in a KV cache + generated). */
static void print_savings(query_cost costs[N_CONFIGS][64], int n) {
    const query_cost *moa = costs[MOA_ROW];
    double moa_paper = total_of(moa, n, PROMPT_TOKENS) + total_of(moa, n, GENERATED_TOKENS);
    double moa_computed = total_of(moa, n, COMPUTED_TOKENS) + total_of(moa, n, GENERATED_TOKENS);
    printf("| mode | tokens / MoA's (prompt + generated) | computed tokens / MoA's (computed + generated) |\n"
           "|---|---:|---:|\n");
    for (int m = MOA_ROW + 1; m < N_CONFIGS; m++) {
        double paper = total_of(costs[m], n, PROMPT_TOKENS) + total_of(costs[m], n, GENERATED_TOKENS);
        double computed = total_of(costs[m], n, COMPUTED_TOKENS) + total_of(costs[m], n, GENERATED_TOKENS);
        printf("| %s | %.2f | %.2f |\n", configs[m].name, paper / moa_paper, computed / moa_computed);
    }
    printf("\n");
}

static void print_query_tables(const question *qs, query_cost costs[N_CONFIGS][64], int n) {
    printf("### Query cost over %d questions (median / total)\n\n", n);
    printf("| mode | right | prompt tokens | computed prompt tokens | generated tokens | calls | wall s |"
           " first answer token s | layers |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int m = 0; m < N_CONFIGS; m++) {
        int right = 0;
        for (int i = 0; i < n; i++) right += costs[m][i].correct;
        printf("| %s | %d/%d |", configs[m].name, right, n);
        for (int f = 0; f < N_FIGURES; f++) print_spread(costs[m], n, f);
        printf("\n");
    }
    printf("\n");
    print_savings(costs, n);
    printf("| question | gold |");
    for (int m = 0; m < N_CONFIGS; m++) printf(" %s |", configs[m].name);
    printf("\n|---:|---:|");
    for (int m = 0; m < N_CONFIGS; m++) printf("---:|");
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("| %d | %g |", i + 1, qs[i].gold);
        for (int m = 0; m < N_CONFIGS; m++)
            printf(" %g%s |", costs[m][i].answer, costs[m][i].correct ? " (right)" : "");
        printf("\n");
    }
    printf("\n");
}

/* Where each mode's tokens and time go: totals per stage over the questions. */
static void print_stage_table(query_cost costs[N_CONFIGS][64], int n) {
    static const char *const stage_names[SMOA_STAGE_TOTAL] = {"propose", "judge", "moderate", "aggregate"};
    printf("| mode | stage | calls | prompt tokens | prefilled tokens | generated tokens | seconds |\n"
           "|---|---|---:|---:|---:|---:|---:|\n");
    for (int m = 0; m < N_CONFIGS; m++)
        for (int st = 0; st < SMOA_STAGE_TOTAL; st++) {
            smoa_cost t = {0};
            for (int i = 0; i < n; i++) {
                const smoa_cost *c = &costs[m][i].stage[st];
                t.calls += c->calls;
                t.prompt_tokens += c->prompt_tokens;
                t.prefill_tokens += c->prefill_tokens;
                t.generated_tokens += c->generated_tokens;
                t.seconds += c->seconds;
            }
            if (t.calls == 0) continue;
            printf("| %s | %s | %u | %llu | %llu | %llu | %.1f |\n", configs[m].name, stage_names[st], t.calls,
                   (unsigned long long)t.prompt_tokens, (unsigned long long)t.prefill_tokens,
                   (unsigned long long)t.generated_tokens, t.seconds);
        }
    printf("\n");
}

static void bench_queries(bench *b, const options *o, const question *qs) {
    query_cost costs[N_CONFIGS][64];
    for (int i = 0; i < o->questions; i++)
        for (int m = 0; m < N_CONFIGS; m++) costs[m][i] = run_query(b, o, &configs[m], &qs[i]);
    print_query_tables(qs, costs, o->questions);
    print_stage_table(costs, o->questions);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */

static void usage(FILE *out) {
    fprintf(out, "usage: bench_agents [MODEL.gguf | --synthetic] [--threads N] [--reps N] [--layer-tokens N]\n"
                 "                    [--questions N] [--max-tokens N] [--data GSM8K.jsonl]\n"
                 "  MODEL defaults to $SMOA_MODEL; --synthetic writes a SmolLM2-shaped random model\n"
                 "  defaults: 2 threads, 3 reps, 128 layer tokens, 3 questions, 128 max tokens\n");
}

static int count_in(const char *s, int lo, int hi) {
    int v = atoi(s);
    if (v < lo || v > hi) {
        fprintf(stderr, "bench_agents: '%s' is not a count in %d..%d\n", s, lo, hi);
        exit(2);
    }
    return v;
}

static options parse_options(int argc, char **argv) {
    const char *data = getenv("SMOA_GSM8K");
    options o = {getenv("SMOA_MODEL"), data && data[0] ? data : DEFAULT_DATA, 0, 2, 3, 128, 3, 128};
    for (int i = 1; i < argc; i++) {
        int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--synthetic") == 0) o.synthetic = 1;
        else if (strcmp(argv[i], "--threads") == 0 && has_value) o.threads = count_in(argv[++i], 1, 64);
        else if (strcmp(argv[i], "--reps") == 0 && has_value) o.reps = count_in(argv[++i], 1, 64);
        else if (strcmp(argv[i], "--layer-tokens") == 0 && has_value) o.layer_tokens = count_in(argv[++i], 1, 1024);
        else if (strcmp(argv[i], "--questions") == 0 && has_value) o.questions = count_in(argv[++i], 1, 64);
        else if (strcmp(argv[i], "--max-tokens") == 0 && has_value) o.max_tokens = count_in(argv[++i], 1, 1024);
        else if (strcmp(argv[i], "--data") == 0 && has_value) o.data_path = argv[++i];
        else if (strcmp(argv[i], "--help") == 0) usage(stdout), exit(0);
        else if (argv[i][0] != '-') o.model_path = argv[i];
        else usage(stderr), exit(2);
    }
    if (!o.synthetic && (!o.model_path || !o.model_path[0])) {
        fprintf(stderr, "bench_agents: no model (give a path, set SMOA_MODEL, or use --synthetic)\n");
        exit(2);
    }
    return o;
}

/* Writes the synthetic model to a fresh temporary file and returns its path. */
static char *write_synthetic(bench *b) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    size_t size = strlen(dir) + 32;
    char *path = must_alloc(size);
    snprintf(path, size, "%s/bench_agents_XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("bench_agents: mkstemp");
        exit(1);
    }
    close(fd);
    smoa_synthetic_options so;
    smoa_synthetic_options_init(&so);
    must(b, smoa_synthetic_write(b->ctx, path, &so), "synthetic_write");
    return path;
}

static void open_session(bench *b, const options *o) {
    smoa_ctx_options co;
    smoa_ctx_options_init(&co);
    co.n_threads = o->threads;
    must(b, smoa_ctx_create(&co, &b->ctx), "ctx_create");
    char *synthetic_path = o->synthetic ? write_synthetic(b) : NULL;
    must(b, smoa_model_load(b->ctx, synthetic_path ? synthetic_path : o->model_path, NULL, &b->model), "model_load");
    if (synthetic_path) unlink(synthetic_path); /* the mapping keeps the data */
    free(synthetic_path);
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_ctx = N_CTX;
    so.n_seq_max = MAX_AGENTS + 1; /* a run needs one beyond its proposers */
    so.device = SMOA_DEVICE_CPU;
    must(b, smoa_session_create(b->ctx, b->model, &so, &b->session), "session_create");
}

int main(int argc, char **argv) {
    options o = parse_options(argc, argv);
    question *qs = load_questions(o.data_path, o.questions);
    bench b = {0};
    open_session(&b, &o);
    double load_before = load_average();
    printf("## bench_agents: %s, %d threads, %d reps, load average %.2f at the start\n\n",
           o.synthetic ? "synthetic SmolLM2-135M-shaped model" : smoa_model_name(b.model), o.threads, o.reps,
           load_before);
    bench_layer(&b, &o, qs[0].text);
    /* A random model's tokens are almost all unused ids that render as no
     * text, and a run drops empty responses: its queries would fail. */
    if (o.synthetic) printf("(query cost needs a real model: skipped with --synthetic)\n\n");
    else bench_queries(&b, &o, qs);
    printf("load average %.2f at the start, %.2f at the end\n", load_before, load_average());

    for (int i = 0; i < o.questions; i++) free(qs[i].text);
    free(qs);
    smoa_session_destroy(b.session);
    smoa_model_free(b.model);
    smoa_ctx_destroy(b.ctx);
    return 0;
}
