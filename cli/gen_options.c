/* gen_options.c - parsing the options shared by generate and chat. */
#include "gen_options.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void cli_gen_options_init(cli_gen_options *g) {
    g->model = NULL;
    smoa_session_options_init(&g->session);
    g->session.n_seq_max = 1;
    smoa_sampling_options_init(&g->sampling);
    g->max_tokens = 256;
}

/* Whole-string numbers only: "12x" or "" are errors, not 12 or 0. */
static int parse_float(const char *arg, const char *name, float *out) {
    char *end;
    errno = 0;
    float v = strtof(arg, &end);
    if (errno || end == arg || *end || !isfinite(v)) {
        fprintf(stderr, "smoa: --%s expects a number, got '%s'\n", name, arg);
        return -1;
    }
    *out = v;
    return 1;
}

static int parse_int(const char *arg, const char *name, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "smoa: --%s expects an integer in %lld..%lld, got '%s'\n", name, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 1;
}

int cli_gen_option(cli_gen_options *g, int opt, const char *arg) {
    long long v;
    int rc;
    switch (opt) {
    case 'm': g->model = arg; return 1;
    case 1000: return parse_float(arg, "temp", &g->sampling.temperature);
    case 1003: return parse_float(arg, "top-p", &g->sampling.top_p);
    case 1004: return parse_float(arg, "min-p", &g->sampling.min_p);
    case 1005: return parse_float(arg, "repeat-penalty", &g->sampling.repeat_penalty);
    case 1001:
        if ((rc = parse_int(arg, "seed", 0, INT64_MAX, &v)) > 0) g->sampling.seed = (uint64_t)v;
        return rc;
    case 1002:
        if ((rc = parse_int(arg, "top-k", 0, INT32_MAX, &v)) > 0) g->sampling.top_k = (int32_t)v;
        return rc;
    case 't':
        if ((rc = parse_int(arg, "threads", 1, 1024, &v)) > 0) g->session.n_threads = (int32_t)v;
        return rc;
    case 'c':
        if ((rc = parse_int(arg, "ctx", 16, 1 << 20, &v)) > 0) g->session.n_ctx = (uint32_t)v;
        return rc;
    case 'n':
        if ((rc = parse_int(arg, "n-predict", 1, 1 << 20, &v)) > 0) g->max_tokens = (uint32_t)v;
        return rc;
    default: return 0;
    }
}
