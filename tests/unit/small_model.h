/* small_model.h - the small synthetic llama the agent tests run on (its
 * answers are noise), and what they check of its sessions. */
#ifndef SMOA_TESTS_SMALL_MODEL_H
#define SMOA_TESTS_SMALL_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/session.h"
#include "smoa.h"

/* The test program's context and model, and the model's temporary file. */
static smoa_ctx *ctx;
static smoa_model *model;
static char small_model_path[] = "/tmp/smoa_test_small_model_XXXXXX";

/* Writes the model with weights from seed to a new temporary file and
 * loads it; 0 on success. For a cmocka group setup. */
static inline int small_model_setup(uint64_t seed) {
    if (smoa_ctx_create(NULL, &ctx)) return -1;
    char *path = small_model_path;
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    smoa_synthetic_options o;
    smoa_synthetic_options_init(&o);
    o.n_vocab = 512, o.n_embd = 64, o.n_layer = 2, o.n_head = 4, o.n_head_kv = 2, o.n_ff = 128, o.n_ctx = 2048;
    o.weight_type = 8; /* Q8_0 */
    o.seed = seed;
    return smoa_synthetic_write(ctx, path, &o) || smoa_model_load(ctx, path, NULL, &model) ? -1 : 0;
}

static inline int small_model_teardown(void **state) {
    (void)state;
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    unlink(small_model_path);
    return 0;
}

/* A session of 8 sequences on one thread; NULL on failure. */
static inline smoa_session *small_session(uint32_t n_ctx) {
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = 8;
    so.n_ctx = n_ctx;
    so.n_threads = 1;
    smoa_session *s = NULL;
    return smoa_session_create(ctx, model, &so, &s) == SMOA_OK ? s : NULL;
}

/* Sequences in use: 0 once every call has given its own back. */
static inline uint32_t live_sequences(const smoa_session *s) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->opts.n_seq_max; i++) n += s->seqs[i].alive;
    return n;
}

#endif
