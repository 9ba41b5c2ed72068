/* cmd_synth.c - `smoa synth`: write a llama GGUF with random weights. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void synth_usage(FILE *out) {
    fprintf(out, "usage: smoa synth -o PATH [options]   (defaults: SmolLM2-135M's shape)\n"
                 "  -o, --out PATH       file to write\n"
                 "  --vocab N --embd N --layers N --heads N --kv-heads N --ff N --ctx N\n"
                 "  --type T             layer matrices: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K\n"
                 "  --embd-type T        token embeddings (default Q8_0)\n"
                 "  --untied             write a separate output matrix\n"
                 "  --seed S\n");
}

/* A ggml type id from its name ("Q4_1"), or -1. */
static long type_by_name(const char *name) {
    for (uint32_t id = 0; id < 64; id++) {
        const char *n = smoa_tensor_type_name(id);
        if (n && strcmp(n, name) == 0) return id;
    }
    return -1;
}

static int parse_u32(const char *arg, const char *name, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || v > 0xffffffffUL) {
        fprintf(stderr, "smoa: --%s expects a non-negative integer, got '%s'\n", name, arg);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int cli_synth(int argc, char **argv) {
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},     {"vocab", required_argument, NULL, 1},
        {"embd", required_argument, NULL, 2},      {"layers", required_argument, NULL, 3},
        {"heads", required_argument, NULL, 4},     {"kv-heads", required_argument, NULL, 5},
        {"ff", required_argument, NULL, 6},        {"ctx", required_argument, NULL, 7},
        {"type", required_argument, NULL, 8},      {"embd-type", required_argument, NULL, 9},
        {"untied", no_argument, NULL, 10},         {"seed", required_argument, NULL, 11},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    smoa_synthetic_options o;
    smoa_synthetic_options_init(&o);
    uint32_t *numbers[] = {NULL, &o.n_vocab, &o.n_embd, &o.n_layer, &o.n_head, &o.n_head_kv, &o.n_ff, &o.n_ctx};
    const char *out = NULL;
    int c, idx;
    uint32_t seed;
    while ((c = getopt_long(argc, argv, "o:h", options, &idx)) != -1) {
        if (c >= 1 && c <= 7) {
            if (parse_u32(optarg, options[idx].name, numbers[c])) return 2;
        } else if (c == 8 || c == 9) {
            long id = type_by_name(optarg);
            if (id < 0) return fprintf(stderr, "smoa: unknown tensor type '%s'\n", optarg), 2;
            *(c == 8 ? &o.weight_type : &o.embd_type) = (uint32_t)id;
        } else if (c == 10) {
            o.tied_output = 0;
        } else if (c == 11) {
            if (parse_u32(optarg, "seed", &seed)) return 2;
            o.seed = seed;
        } else if (c == 'o') {
            out = optarg;
        } else {
            synth_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (!out || optind < argc) return synth_usage(stderr), 2;
    smoa_ctx *ctx;
    if (smoa_ctx_create(NULL, &ctx) != SMOA_OK) return 1;
    smoa_status st = smoa_synthetic_write(ctx, out, &o);
    if (st) cli_fail(ctx, "cannot write the model", st);
    else printf("wrote %s\n", out);
    smoa_ctx_destroy(ctx);
    return st ? 1 : 0;
}
