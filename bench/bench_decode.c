/* bench_decode.c - end-to-end speed of the forward pass through the public
 * API, next to what the memory system allows.
 *
 *   bench_decode [MODEL.gguf | --synthetic] [--threads N] [--reps N] [--tsv]
 *
 * MODEL defaults to $SMOA_MODEL. --synthetic writes a SmolLM2-135M-shaped
 * model with random weights (smoa_synthetic_write defaults: Q4_1 layers,
 * tied Q8_0 embedding) to a temporary file, so the bench runs anywhere.
 *
 * Figures, each the median of --reps runs (default 5) after one warm-up:
 *   prefill   512 prompt tokens into a fresh sequence;
 *   decode    128 tokens of 1, 4 and 8 sequences after a 16-token prompt,
 *             every step one smoa_decode call holding all the sequences;
 *             only smoa_decode is timed (greedy argmax picks the next
 *             token outside the clock);
 *   hardware  weight bytes per decode step (every tensor of the model: a
 *             step streams all of them, the tied output included) times
 *             steps per second, against the read bandwidth of this machine
 *             measured here with the same number of threads.
 * Token ids are fixed arithmetic sequences (llamacpp_anchor.py uses the same
 * ones), so no tokenizer runs. --tsv prints "key<TAB>value<TAB>label" lines
 * for bench/run_cpu.sh instead of the Markdown table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smoa.h>

#include "bench_timing.h"

#include "engine/cpu/quant_dot.h"

#define PREFILL_TOKENS 512
#define PROMPT_TOKENS 16
#define DECODE_TOKENS 128
#define MAX_SEQS 8
#define LARGE_BUFFER_BYTES ((size_t)1 << 30) /* well past the L3 of these hosts */
#define BANDWIDTH_TRIES 5
#define BANDWIDTH_SECONDS 0.5

typedef struct options {
    const char *model_path;
    int synthetic;
    int threads;
    int reps;
    int tsv;
} options;

typedef struct bench {
    smoa_ctx *ctx;
    smoa_model *model;
    smoa_session *session;
    uint32_t n_vocab;
} bench;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* A benchmark has nobody to hand an error to: say what failed and stop. */
static void must(const bench *b, smoa_status st, const char *what) {
    if (st == SMOA_OK) return;
    fprintf(stderr, "bench_decode: %s: %s (%s)\n", what, smoa_status_str(st),
            b->ctx ? smoa_ctx_last_error(b->ctx) : "");
    exit(1);
}

/* Token i of the stream that starts at `start` (same formula as the anchor). */
static int32_t token_at(uint32_t start, uint32_t i, uint32_t n_vocab) {
    return (int32_t)((start + 7919u * i) % n_vocab);
}

static void fill_tokens(int32_t *tokens, uint32_t n, uint32_t start, uint32_t n_vocab) {
    for (uint32_t i = 0; i < n; i++) tokens[i] = token_at(start, i, n_vocab);
}

static int32_t argmax(const float *v, uint32_t n) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return (int32_t)best;
}

/* ------------------------------------------------------------------------ */
/* Engine measurements                                                      */

/* Tokens per second of one 512-token prefill into a fresh sequence. */
static double prefill_rate(bench *b) {
    int32_t tokens[PREFILL_TOKENS], seq;
    fill_tokens(tokens, PREFILL_TOKENS, 1000, b->n_vocab);
    must(b, smoa_seq_create(b->ctx, b->session, &seq), "seq_create");
    double t0 = bench_now();
    must(b, smoa_prefill(b->ctx, b->session, seq, tokens, PREFILL_TOKENS), "prefill");
    double seconds = bench_now() - t0;
    smoa_seq_free(b->session, seq);
    return PREFILL_TOKENS / seconds;
}

/* Aggregate tokens per second of n sequences decoding DECODE_TOKENS steps
 * together; each gets its own short prompt first (not timed). */
static double decode_rate(bench *b, int n) {
    int32_t seqs[MAX_SEQS], next[MAX_SEQS], prompt[PROMPT_TOKENS];
    for (int i = 0; i < n; i++) {
        must(b, smoa_seq_create(b->ctx, b->session, &seqs[i]), "seq_create");
        fill_tokens(prompt, PROMPT_TOKENS, 2000 + 100 * (uint32_t)i, b->n_vocab);
        must(b, smoa_prefill(b->ctx, b->session, seqs[i], prompt, PROMPT_TOKENS), "prefill");
    }
    double seconds = 0;
    for (int step = 0; step < DECODE_TOKENS; step++) {
        for (int i = 0; i < n; i++) next[i] = argmax(smoa_seq_logits(b->session, seqs[i]), b->n_vocab);
        double t0 = bench_now();
        must(b, smoa_decode(b->ctx, b->session, seqs, next, (size_t)n), "decode");
        seconds += bench_now() - t0;
    }
    for (int i = 0; i < n; i++) smoa_seq_free(b->session, seqs[i]);
    return n * DECODE_TOKENS / seconds;
}

/* ------------------------------------------------------------------------ */
/* Memory bandwidth                                                         */

typedef struct read_part {
    const uint64_t *data;
    size_t n_words;
    pthread_barrier_t *start;
    uint64_t sum;
    double t0, t1;
} read_part;

static void *read_part_run(void *arg) {
    read_part *p = arg;
    pthread_barrier_wait(p->start);
    p->t0 = bench_now();
    uint64_t sum = 0;
    for (size_t i = 0; i < p->n_words; i++) sum += p->data[i];
    p->sum = sum; /* stored where another thread can see it: the loop stays */
    p->t1 = bench_now();
    return NULL;
}

/* Seconds for `threads` threads to read disjoint parts of buf once, from
 * the first thread's start to the last one's end: a thread that is
 * preempted makes the figure lower, never higher. */
static double time_parallel_read(const uint64_t *buf, size_t n_words, int threads) {
    pthread_t ids[64];
    read_part parts[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        size_t w0 = n_words * (size_t)t / (size_t)threads, w1 = n_words * (size_t)(t + 1) / (size_t)threads;
        parts[t] = (read_part){buf + w0, w1 - w0, &start, 0, 0, 0};
        pthread_create(&ids[t], NULL, read_part_run, &parts[t]);
    }
    double first = 0, last = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        if (t == 0 || parts[t].t0 < first) first = parts[t].t0;
        if (t == 0 || parts[t].t1 > last) last = parts[t].t1;
    }
    pthread_barrier_destroy(&start);
    return last - first;
}

/* Best read bandwidth (GB/s) over passes of a buffer of `bytes`: at least
 * BANDWIDTH_TRIES and BANDWIDTH_SECONDS, so a small buffer gets many. */
static double read_bandwidth(size_t bytes, int threads) {
    size_t n_words = bytes / sizeof(uint64_t);
    uint64_t *buf = malloc(n_words * sizeof *buf);
    if (!buf) return 0;
    for (size_t i = 0; i < n_words; i++) buf[i] = i; /* touch every page */
    double best = 0, spent = 0;
    for (int i = 0; i < BANDWIDTH_TRIES || spent < BANDWIDTH_SECONDS; i++) {
        double seconds = time_parallel_read(buf, n_words, threads);
        double gbs = (double)(n_words * sizeof *buf) / seconds * 1e-9;
        if (gbs > best) best = gbs;
        spent += seconds;
    }
    free(buf);
    return best;
}

/* Bytes of every tensor in the model. */
static uint64_t weight_bytes(const bench *b) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < smoa_model_n_tensors(b->model); i++) {
        smoa_tensor_info info = {.struct_size = sizeof info};
        must(b, smoa_model_tensor_info(b->ctx, b->model, i, &info), "tensor_info");
        total += info.n_bytes;
    }
    return total;
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */

static void usage(FILE *out) {
    fprintf(out, "usage: bench_decode [MODEL.gguf | --synthetic] [--threads N] [--reps N] [--tsv]\n"
                 "  MODEL defaults to $SMOA_MODEL; --synthetic writes a SmolLM2-shaped random model\n");
}

static int parse_count(const char *s) {
    int v = atoi(s);
    if (v <= 0 || v > 64) {
        fprintf(stderr, "bench_decode: '%s' is not a count in 1..64\n", s);
        exit(2);
    }
    return v;
}

static options parse_options(int argc, char **argv) {
    options o = {getenv("SMOA_MODEL"), 0, 2, 5, 0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--synthetic") == 0) o.synthetic = 1;
        else if (strcmp(argv[i], "--tsv") == 0) o.tsv = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) o.threads = parse_count(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) o.reps = parse_count(argv[++i]);
        else if (strcmp(argv[i], "--help") == 0) usage(stdout), exit(0);
        else if (argv[i][0] != '-') o.model_path = argv[i];
        else usage(stderr), exit(2);
    }
    if (!o.synthetic && (!o.model_path || !o.model_path[0])) {
        fprintf(stderr, "bench_decode: no model (give a path, set SMOA_MODEL, or use --synthetic)\n");
        exit(2);
    }
    return o;
}

/* Writes the synthetic model to a fresh temporary file and returns its path. */
static char *write_synthetic(bench *b) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(strlen(dir) + 32);
    if (!path) exit(1);
    sprintf(path, "%s/bench_decode_XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("bench_decode: mkstemp");
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
    b->n_vocab = smoa_model_n_vocab(b->model);
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_ctx = 1024;
    so.n_seq_max = MAX_SEQS;
    so.n_batch = PREFILL_TOKENS; /* the prompt in one forward pass */
    so.device = SMOA_DEVICE_CPU;
    must(b, smoa_session_create(b->ctx, b->model, &so, &b->session), "session_create");
}

/* ------------------------------------------------------------------------ */
/* Measurement                                                              */

typedef struct rates {
    double prefill, decode1, decode4, decode8; /* tokens per second */
} rates;

/* Medians over reps, after one warm-up that maps the weights in. */
static rates measure(bench *b, int reps) {
    prefill_rate(b);
    decode_rate(b, MAX_SEQS);
    double prefill[64], dec1[64], dec4[64], dec8[64];
    for (int r = 0; r < reps; r++) {
        prefill[r] = prefill_rate(b);
        dec1[r] = decode_rate(b, 1);
        dec4[r] = decode_rate(b, 4);
        dec8[r] = decode_rate(b, 8);
    }
    return (rates){bench_median(prefill, reps), bench_median(dec1, reps), bench_median(dec4, reps), bench_median(dec8, reps)};
}

/* ------------------------------------------------------------------------ */
/* Report                                                                   */

typedef struct row {
    const char *key, *label, *format;
    double value;
} row;

static void print_rows(const row *rows, int n, const options *o, const bench *b) {
    if (o->tsv) {
        printf("# smoa dot-product ISA: %s\n", smoa_vec_dot_isa());
        for (int i = 0; i < n; i++) printf("%s\t%.6g\t%s\n", rows[i].key, rows[i].value, rows[i].label);
        return;
    }
    printf("bench_decode: %s, %d threads, dot-product ISA %s, median of %d runs\n\n",
           o->synthetic ? "synthetic SmolLM2-135M-shaped model" : smoa_model_name(b->model), o->threads,
           smoa_vec_dot_isa(), o->reps);
    printf("| metric | smoa |\n|---|---:|\n");
    for (int i = 0; i < n; i++) {
        printf("| %s | ", rows[i].label);
        printf(rows[i].format, rows[i].value);
        printf(" |\n");
    }
}

/* The rates next to the hardware view, as a table or as TSV. */
static void report(const bench *b, const options *o, rates r) {
    double gb_step = (double)weight_bytes(b) * 1e-9;
    double bw_model = read_bandwidth((size_t)(gb_step * 1e9), o->threads);
    double bw_large = read_bandwidth(LARGE_BUFFER_BYTES, o->threads);
    row rows[] = {
        {"prefill", "prefill 512 tokens (tok/s)", "%.1f", r.prefill},
        {"decode1", "decode, 1 sequence (tok/s)", "%.1f", r.decode1},
        {"decode4", "decode, 4 sequences (aggregate tok/s)", "%.1f", r.decode4},
        {"decode8", "decode, 8 sequences (aggregate tok/s)", "%.1f", r.decode8},
        {"ratio4", "batch-4 / batch-1", "%.2f", r.decode4 / r.decode1},
        {"ratio8", "batch-8 / batch-1", "%.2f", r.decode8 / r.decode1},
        {"weight_mb", "weight bytes per decode step (MB)", "%.1f", gb_step * 1e3},
        {"gbs1", "effective GB/s, 1 sequence", "%.1f", gb_step * r.decode1},
        {"gbs4", "effective GB/s, 4 sequences", "%.1f", gb_step * r.decode4 / 4},
        {"gbs8", "effective GB/s, 8 sequences", "%.1f", gb_step * r.decode8 / 8},
        {"bw_model", "read bandwidth, model-sized buffer (GB/s)", "%.1f", bw_model},
        {"bw_large", "read bandwidth, 1 GiB buffer (GB/s)", "%.1f", bw_large},
        {"bound_model", "decode bound at model-sized bandwidth (tok/s)", "%.0f", bw_model / gb_step},
        {"bound_large", "decode bound at 1 GiB bandwidth (tok/s)", "%.0f", bw_large / gb_step},
    };
    print_rows(rows, (int)(sizeof rows / sizeof rows[0]), o, b);
}

int main(int argc, char **argv) {
    options o = parse_options(argc, argv);
    bench b = {0};
    open_session(&b, &o);
    report(&b, &o, measure(&b, o.reps));
    smoa_session_destroy(b.session);
    smoa_model_free(b.model);
    smoa_ctx_destroy(b.ctx);
    return 0;
}
