/* bench_gpu.c - the CUDA backend's speed next to what the GPU allows.
 *
 *   bench_gpu [--reps N] [--steps N] [--kernels-only]
 *
 * Everything runs on device 0 and prints Markdown tables:
 *   copy      device-to-device cudaMemcpy of 1 GiB, counting bytes read plus
 *             bytes written: the memory bandwidth the other rows are held
 *             against;
 *   kernels   top-k gating on [4096 x 64] and [4096 x 256] with k = 8, and
 *             sampling of [64 x 49152] logits (greedy, and temperature 0.8
 *             with top-p 0.9), timed with CUDA events over 100 launches;
 *   models    synthetic llama models written here with smoa_synthetic_write
 *             (random weights, no download): SmolLM2-135M's shape and a 1B
 *             llama shape, each with Q4_1 and Q8_0 layer matrices. Through the
 *             public API with a CUDA session: prefill of a 512-token prompt,
 *             and decode of 1, 4, 16 and 64 sequences (each prefilled with a
 *             16-token prompt, then --steps timed smoa_decode calls of one
 *             token per sequence; aggregate tokens per second). The weight
 *             stream is the model's tensor bytes (a decode step reads every
 *             weight once) per step time, also as a fraction of the copy
 *             bandwidth.
 * Each figure is the median of --reps runs (default 3) after a warm-up.
 * Without a usable CUDA device it says why and exits with 77 (1 when
 * SMOA_REQUIRE_GPU is set). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cuda_runtime_api.h>
#include <smoa.h>

#include "bench_timing.h"
#include "core/rng.h"
#include "sampling.h"
#include "topk_gating.h"

#define COPY_BYTES ((size_t)1 << 30)
#define KERNEL_LAUNCHES 100
#define MAX_REPS 32
#define PROMPT_TOKENS 16
#define PREFILL_TOKENS 512
#define MAX_SEQS 64
#define MAX_STEPS 256
#define EXIT_NO_DEVICE 77

static const int batch_sizes[] = {1, 4, 16, 64};
enum { N_BATCHES = sizeof batch_sizes / sizeof batch_sizes[0] };

typedef struct options {
    int reps;
    int steps;
    int kernels_only;
} options;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* A benchmark has nobody to hand an error to: say what failed and stop. */
static void must_cuda(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return;
    fprintf(stderr, "bench_gpu: %s: %s\n", what, cudaGetErrorString(e));
    exit(1);
}

static void must_kernel(smoa_status st, const smoa_error *err, const char *what) {
    if (st == SMOA_OK) return;
    fprintf(stderr, "bench_gpu: %s: %s\n", what, err->message);
    exit(1);
}

/* Token i of the stream that starts at `start` (bench_decode's formula). */
static int32_t token_at(uint32_t start, uint32_t i, uint32_t n_vocab) {
    return (int32_t)((start + 7919u * i) % n_vocab);
}

static void fill_tokens(int32_t *tokens, uint32_t n, uint32_t start, uint32_t n_vocab) {
    for (uint32_t i = 0; i < n; i++) tokens[i] = token_at(start, i, n_vocab);
}

/* ------------------------------------------------------------------------ */
/* Device and copy bandwidth                                                */

static void print_device(void) {
    struct cudaDeviceProp prop;
    must_cuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    printf("bench_gpu: %s, %d SMs, %.1f GiB, L2 %.0f MB, smoa %s\n\n", prop.name, prop.multiProcessorCount,
           (double)prop.totalGlobalMem / (1 << 30), prop.l2CacheSize / 1e6, smoa_version());
}

/* Milliseconds between two events recorded around `launches` of run(). */
typedef void (*launch_fn)(void *arg);

static double time_launches_ms(launch_fn run, void *arg, int launches) {
    cudaEvent_t start, stop;
    must_cuda(cudaEventCreate(&start), "cudaEventCreate");
    must_cuda(cudaEventCreate(&stop), "cudaEventCreate");
    must_cuda(cudaEventRecord(start, 0), "cudaEventRecord");
    for (int i = 0; i < launches; i++) run(arg);
    must_cuda(cudaEventRecord(stop, 0), "cudaEventRecord");
    must_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    must_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ms;
}

/* Median milliseconds per launch over reps timed batches, after one. */
static double median_ms_per_launch(launch_fn run, void *arg, int launches, int reps) {
    double ms[MAX_REPS];
    time_launches_ms(run, arg, launches); /* warm-up */
    for (int r = 0; r < reps; r++) ms[r] = time_launches_ms(run, arg, launches) / launches;
    return bench_median(ms, reps);
}

typedef struct copy_job {
    void *dst, *src;
    size_t bytes;
} copy_job;

static void run_copy(void *arg) {
    copy_job *c = arg;
    must_cuda(cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, 0), "cudaMemcpyAsync");
}

/* GB/s of a device-to-device copy, bytes read plus bytes written. */
static double copy_bandwidth(int reps) {
    copy_job c = {NULL, NULL, COPY_BYTES};
    must_cuda(cudaMalloc(&c.dst, c.bytes), "cudaMalloc (copy bandwidth)");
    must_cuda(cudaMalloc(&c.src, c.bytes), "cudaMalloc (copy bandwidth)");
    must_cuda(cudaMemset(c.src, 0x3C, c.bytes), "cudaMemset");
    double ms = median_ms_per_launch(run_copy, &c, 5, reps);
    cudaFree(c.dst);
    cudaFree(c.src);
    return 2.0 * (double)c.bytes / (ms * 1e-3) * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* Kernels                                                                  */

/* Device buffer of count floats, gaussian-ish random values times scale. */
static float *random_device_floats(size_t count, float scale, uint64_t seed) {
    float *host = malloc(count * sizeof *host), *dev;
    if (!host) exit(1);
    smoa_rng rng;
    smoa_rng_seed(&rng, seed);
    for (size_t i = 0; i < count; i++)
        host[i] = scale * (smoa_rng_float(&rng) + smoa_rng_float(&rng) + smoa_rng_float(&rng) - 1.5f);
    must_cuda(cudaMalloc((void **)&dev, count * sizeof *dev), "cudaMalloc");
    must_cuda(cudaMemcpy(dev, host, count * sizeof *dev, cudaMemcpyHostToDevice), "cudaMemcpy");
    free(host);
    return dev;
}

typedef struct gating_job {
    const float *logits; /* [rows][n] */
    int rows, n, k;
    int32_t *idx;        /* [rows][k] */
    float *weights;      /* [rows][k] */
} gating_job;

static void run_gating(void *arg) {
    gating_job *g = arg;
    smoa_error err = {0};
    must_kernel(smoa_cuda_topk_gating(g->logits, g->rows, g->n, g->k, g->idx, g->weights, 0, &err), &err,
                "topk gating");
}

typedef struct sampling_job {
    const float *logits;                   /* [rows][n_vocab] */
    int rows, n_vocab;
    const smoa_cuda_sample_params *params; /* [rows], NULL: greedy */
    int32_t *tokens;                       /* [rows] */
} sampling_job;

static void run_sampling(void *arg) {
    sampling_job *s = arg;
    smoa_error err = {0};
    smoa_status st = s->params ? smoa_cuda_sample(s->logits, s->rows, s->n_vocab, s->params, s->tokens, 0, &err)
                               : smoa_cuda_argmax(s->logits, s->rows, s->n_vocab, s->tokens, 0, &err);
    must_kernel(st, &err, "sampling");
}

static void print_kernel_row(const char *kernel, const char *shape, double ms, double bytes, double copy_gbs) {
    double gbs = bytes / (ms * 1e-3) * 1e-9;
    printf("| %s | %s | %.2f | %.0f | %.1f%% |\n", kernel, shape, ms * 1e3, gbs, 100.0 * gbs / copy_gbs);
    fflush(stdout);
}

static void bench_gating(int rows, int n, int k, int reps, double copy_gbs) {
    gating_job g = {random_device_floats((size_t)rows * n, 4.0f, 7), rows, n, k, NULL, NULL};
    must_cuda(cudaMalloc((void **)&g.idx, (size_t)rows * k * sizeof *g.idx), "cudaMalloc");
    must_cuda(cudaMalloc((void **)&g.weights, (size_t)rows * k * sizeof *g.weights), "cudaMalloc");
    double ms = median_ms_per_launch(run_gating, &g, KERNEL_LAUNCHES, reps);
    char shape[64];
    snprintf(shape, sizeof shape, "[%d x %d], k = %d", rows, n, k);
    print_kernel_row("top-k gating", shape, ms, (double)rows * n * 4 + (double)rows * k * 8, copy_gbs);
    cudaFree((void *)g.logits);
    cudaFree(g.idx);
    cudaFree(g.weights);
}

/* One row per sequence of the largest decode batch. */
static void bench_sampling(int n_vocab, int greedy, int reps, double copy_gbs) {
    const int rows = MAX_SEQS;
    sampling_job s = {random_device_floats((size_t)rows * n_vocab, 6.0f, 8), rows, n_vocab, NULL, NULL};
    smoa_cuda_sample_params *params = NULL;
    if (!greedy) {
        smoa_cuda_sample_params host[MAX_SEQS];
        for (int r = 0; r < rows; r++) host[r] = (smoa_cuda_sample_params){0.8f, 0.9f, (r + 0.5) / rows};
        must_cuda(cudaMalloc((void **)&params, (size_t)rows * sizeof *params), "cudaMalloc");
        must_cuda(cudaMemcpy(params, host, (size_t)rows * sizeof *params, cudaMemcpyHostToDevice), "cudaMemcpy");
        s.params = params;
    }
    must_cuda(cudaMalloc((void **)&s.tokens, (size_t)rows * sizeof *s.tokens), "cudaMalloc");
    double ms = median_ms_per_launch(run_sampling, &s, KERNEL_LAUNCHES, reps);
    char shape[64];
    snprintf(shape, sizeof shape, "[%d x %d]%s", rows, n_vocab, greedy ? ", greedy" : ", T 0.8, top-p 0.9");
    /* counted once: the top-p passes after the first re-read the row from L2 */
    print_kernel_row("sampling", shape, ms, (double)rows * n_vocab * 4, copy_gbs);
    cudaFree((void *)s.logits);
    cudaFree(params);
    cudaFree(s.tokens);
}

static void bench_kernels(int reps, double copy_gbs) {
    printf("| kernel | shape | us per call | GB/s | of copy bandwidth |\n|---|---|---:|---:|---:|\n");
    bench_gating(4096, 64, 8, reps, copy_gbs);
    bench_gating(4096, 256, 8, reps, copy_gbs);
    bench_sampling(49152, 1, reps, copy_gbs);
    bench_sampling(49152, 0, reps, copy_gbs);
    printf("\n");
}

/* ------------------------------------------------------------------------ */
/* Models                                                                   */

typedef struct model_shape {
    const char *name;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff; /* 0: the synthetic default (SmolLM2-135M) */
} model_shape;

static const model_shape shapes[] = {
    {"SmolLM2-135M shape", 0, 0, 0, 0, 0, 0},
    {"1B llama shape", 32000, 2048, 16, 32, 8, 8192},
};
static const uint32_t weight_types[] = {3 /* Q4_1 */, 8 /* Q8_0 */};

typedef struct model_result {
    char label[96];
    double weight_bytes;
    double prefill;            /* tokens/s */
    double decode[N_BATCHES];  /* aggregate tokens/s */
    int ok;
} model_result;

typedef struct bench {
    smoa_ctx *ctx;
    smoa_model *model;
    smoa_session *session;
    uint32_t n_vocab;
} bench;

/* Says why a model could not be measured; returns 0 so callers can
 * `return fail(...)`. */
static int fail(const bench *b, smoa_status st, const char *what) {
    fprintf(stderr, "bench_gpu: %s: %s (%s)\n", what, smoa_status_str(st), smoa_ctx_last_error(b->ctx));
    return 0;
}

static uint32_t pick(uint32_t value, uint32_t fallback) { return value ? value : fallback; }

/* Writes the shape with layer matrices of `type` to a temporary file. */
static int write_model(const bench *b, const model_shape *shape, uint32_t type, char *path, size_t cap) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, cap, "%s/bench_gpu_XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("bench_gpu: mkstemp");
        return 0;
    }
    close(fd);
    smoa_synthetic_options so;
    smoa_synthetic_options_init(&so);
    so.n_vocab = pick(shape->n_vocab, so.n_vocab);
    so.n_embd = pick(shape->n_embd, so.n_embd);
    so.n_layer = pick(shape->n_layer, so.n_layer);
    so.n_head = pick(shape->n_head, so.n_head);
    so.n_head_kv = pick(shape->n_head_kv, so.n_head_kv);
    so.n_ff = pick(shape->n_ff, so.n_ff);
    so.weight_type = type;
    smoa_status st = smoa_synthetic_write(b->ctx, path, &so);
    if (st != SMOA_OK) {
        unlink(path);
        return fail(b, st, "synthetic_write");
    }
    return 1;
}

static int open_session(bench *b, int steps) {
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_ctx = PREFILL_TOKENS + 16;
    so.n_seq_max = MAX_SEQS;
    so.kv_tokens = MAX_SEQS * (PROMPT_TOKENS + (uint32_t)steps + 8) + PREFILL_TOKENS;
    so.n_batch = PREFILL_TOKENS; /* the prompt in one forward pass */
    so.device = SMOA_DEVICE_CUDA;
    smoa_status st = smoa_session_create(b->ctx, b->model, &so, &b->session);
    if (st != SMOA_OK) return fail(b, st, "CUDA session");
    if (strcmp(smoa_session_device(b->session), "cuda") != 0) {
        fprintf(stderr, "bench_gpu: the session runs on '%s', not on CUDA\n", smoa_session_device(b->session));
        return 0;
    }
    return 1;
}

static double weight_bytes(const bench *b) {
    double total = 0;
    for (uint64_t i = 0; i < smoa_model_n_tensors(b->model); i++) {
        smoa_tensor_info info = {.struct_size = sizeof info};
        if (smoa_model_tensor_info(b->ctx, b->model, i, &info) == SMOA_OK) total += (double)info.n_bytes;
    }
    return total;
}

/* Tokens per second of one 512-token prefill into a fresh sequence; 0 on
 * failure. */
static double prefill_rate(bench *b) {
    int32_t tokens[PREFILL_TOKENS], seq;
    fill_tokens(tokens, PREFILL_TOKENS, 1000, b->n_vocab);
    smoa_status st = smoa_seq_create(b->ctx, b->session, &seq);
    if (st != SMOA_OK) return fail(b, st, "seq_create");
    double t0 = bench_now();
    st = smoa_prefill(b->ctx, b->session, seq, tokens, PREFILL_TOKENS);
    double seconds = bench_now() - t0;
    smoa_seq_free(b->session, seq);
    return st == SMOA_OK ? PREFILL_TOKENS / seconds : fail(b, st, "prefill");
}

/* Aggregate tokens per second of n sequences decoding `steps` steps
 * together, each after its own 16-token prompt (not timed); 0 on failure.
 * The tokens fed are a fixed stream: the forward pass costs the same
 * whatever they are. */
static double decode_rate(bench *b, int n, int steps) {
    int32_t seqs[MAX_SEQS], next[MAX_SEQS], prompt[PROMPT_TOKENS];
    int created = 0;
    smoa_status st = SMOA_OK;
    while (created < n && st == SMOA_OK) {
        st = smoa_seq_create(b->ctx, b->session, &seqs[created]);
        if (st != SMOA_OK) break;
        fill_tokens(prompt, PROMPT_TOKENS, 2000 + 100 * (uint32_t)created, b->n_vocab);
        st = smoa_prefill(b->ctx, b->session, seqs[created++], prompt, PROMPT_TOKENS);
    }
    double t0 = bench_now();
    for (int step = 0; step < steps && st == SMOA_OK; step++) {
        for (int i = 0; i < n; i++) next[i] = token_at(3000 + 100 * (uint32_t)i, (uint32_t)step, b->n_vocab);
        st = smoa_decode(b->ctx, b->session, seqs, next, (size_t)n);
    }
    double seconds = bench_now() - t0;
    for (int i = 0; i < created; i++) smoa_seq_free(b->session, seqs[i]);
    return st == SMOA_OK ? (double)n * steps / seconds : fail(b, st, "decode");
}

/* Medians over reps, after a warm-up of each kind of call. */
static int measure_model(bench *b, const options *o, model_result *r) {
    double prefill[MAX_REPS], decode[N_BATCHES][MAX_REPS];
    if (prefill_rate(b) == 0 || decode_rate(b, MAX_SEQS, 4) == 0 || decode_rate(b, 1, 4) == 0) return 0;
    for (int rep = 0; rep < o->reps; rep++) {
        if ((prefill[rep] = prefill_rate(b)) == 0) return 0;
        for (int j = 0; j < N_BATCHES; j++)
            if ((decode[j][rep] = decode_rate(b, batch_sizes[j], o->steps)) == 0) return 0;
    }
    r->prefill = bench_median(prefill, o->reps);
    for (int j = 0; j < N_BATCHES; j++) r->decode[j] = bench_median(decode[j], o->reps);
    return 1;
}

static void print_throughput_row(const model_result *r) {
    if (!r->ok) {
        printf("| %s | %.0f | n/a | n/a | n/a | n/a | n/a |\n", r->label, r->weight_bytes * 1e-6);
    } else {
        printf("| %s | %.0f | %.0f |", r->label, r->weight_bytes * 1e-6, r->prefill);
        for (int j = 0; j < N_BATCHES; j++) printf(" %.0f |", r->decode[j]);
        printf("\n");
    }
    fflush(stdout);
}

/* Writes, loads and measures one model; r->ok says whether it ran. */
static void bench_model(const options *o, const model_shape *shape, uint32_t type, model_result *r) {
    bench b = {0};
    char path[512];
    snprintf(r->label, sizeof r->label, "%s, %s", shape->name, smoa_tensor_type_name(type));
    if (smoa_ctx_create(NULL, &b.ctx) != SMOA_OK) return;
    if (write_model(&b, shape, type, path, sizeof path)) {
        smoa_status st = smoa_model_load(b.ctx, path, NULL, &b.model);
        unlink(path); /* the mapping keeps the data */
        if (st != SMOA_OK) fail(&b, st, "model_load");
    }
    if (b.model) {
        b.n_vocab = smoa_model_n_vocab(b.model);
        r->weight_bytes = weight_bytes(&b);
        r->ok = open_session(&b, o->steps) && measure_model(&b, o, r);
    }
    print_throughput_row(r);
    smoa_session_destroy(b.session);
    smoa_model_free(b.model);
    smoa_ctx_destroy(b.ctx);
}

/* The weight stream: weight bytes per step over the step time. */
static void print_bandwidth_table(const model_result *results, int n, double copy_gbs) {
    printf("\nWeight stream per decode step (GB/s, and %% of the copy bandwidth):\n\n");
    printf("| model | b=1 | b=4 | b=16 | b=64 |\n|---|---:|---:|---:|---:|\n");
    for (int m = 0; m < n; m++) {
        const model_result *r = &results[m];
        printf("| %s |", r->label);
        for (int j = 0; j < N_BATCHES; j++) {
            if (!r->ok) {
                printf(" n/a |");
                continue;
            }
            double steps_per_second = r->decode[j] / batch_sizes[j];
            double gbs = r->weight_bytes * steps_per_second * 1e-9;
            printf(" %.0f (%.0f%%) |", gbs, 100.0 * gbs / copy_gbs);
        }
        printf("\n");
    }
}

static void bench_models(const options *o, double copy_gbs) {
    enum { N_MODELS = sizeof shapes / sizeof shapes[0] * (sizeof weight_types / sizeof weight_types[0]) };
    model_result results[N_MODELS];
    memset(results, 0, sizeof results);
    printf("Synthetic models through a CUDA session (tokens/s; decode: aggregate over the sequences, "
           "%d steps):\n\n", o->steps);
    printf("| model | weights MB | prefill 512 | decode b=1 | b=4 | b=16 | b=64 |\n"
           "|---|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
    int m = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t t = 0; t < sizeof weight_types / sizeof weight_types[0]; t++)
            bench_model(o, &shapes[s], weight_types[t], &results[m++]);
    print_bandwidth_table(results, N_MODELS, copy_gbs);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */

static void usage(FILE *out) {
    fprintf(out, "usage: bench_gpu [--reps N] [--steps N] [--kernels-only]\n"
                 "  --reps N        runs per figure, the median is shown (1..%d, default 3)\n"
                 "  --steps N       timed decode steps per run (1..%d, default 32)\n"
                 "  --kernels-only  copy bandwidth and kernels, no models\n",
            MAX_REPS, MAX_STEPS);
}

static int parse_count(const char *s, int max) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > max) {
        fprintf(stderr, "bench_gpu: '%s' is not a count in 1..%d\n", s, max);
        exit(2);
    }
    return (int)v;
}

static options parse_options(int argc, char **argv) {
    options o = {3, 32, 0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) o.reps = parse_count(argv[++i], MAX_REPS);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) o.steps = parse_count(argv[++i], MAX_STEPS);
        else if (strcmp(argv[i], "--kernels-only") == 0) o.kernels_only = 1;
        else if (strcmp(argv[i], "--help") == 0) usage(stdout), exit(0);
        else usage(stderr), exit(2);
    }
    return o;
}

int main(int argc, char **argv) {
    options o = parse_options(argc, argv);
    if (smoa_cuda_device_count() == 0) {
        int n = 0;
        cudaError_t e = cudaGetDeviceCount(&n);
        fprintf(stderr, "bench_gpu: no usable CUDA device (%s); nothing to measure\n",
                e == cudaSuccess ? "none found" : cudaGetErrorString(e));
        /* bench/gpu-check.sh sets SMOA_REQUIRE_GPU where nvidia-smi lists one */
        return getenv("SMOA_REQUIRE_GPU") ? 1 : EXIT_NO_DEVICE;
    }
    print_device();
    double copy_gbs = copy_bandwidth(o.reps);
    printf("Device-to-device copy of 1 GiB (read + write): %.0f GB/s\n\n", copy_gbs);
    bench_kernels(o.reps, copy_gbs);
    if (!o.kernels_only) bench_models(&o, copy_gbs);
    return 0;
}
