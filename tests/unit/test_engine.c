/* test_engine.c - the CPU engine on a small synthetic llama model: batching
 * many sequences gives the same logits as one at a time, shared prefixes
 * the same as unshared ones, generation is reproducible and independent of
 * batching, and running out of context is a status, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/session.h"
#include "model/gguf_writer.h"
#include "smoa.h"

static char model_path[] = "/tmp/smoa_test_engine_XXXXXX";
static smoa_ctx *ctx;
static smoa_model *model;
static int n_vocab;

/* 3 layers, GQA 4/2, 40 > 32 so rows span two Q8_0 blocks plus... n_embd 64. */
static int setup_model(void **state) {
    (void)state;
    int fd = mkstemp(model_path);
    if (fd < 0) return -1;
    close(fd);
    smoa_synthetic_options o;
    smoa_synthetic_options_init(&o);
    o.n_vocab = 384;
    o.n_embd = 64;
    o.n_layer = 3;
    o.n_head = 4;
    o.n_head_kv = 2;
    o.n_ff = 96;
    o.n_ctx = 256;
    o.weight_type = 8; /* Q8_0 */
    o.seed = 11;
    if (smoa_ctx_create(NULL, &ctx) || smoa_synthetic_write(ctx, model_path, &o) ||
        smoa_model_load(ctx, model_path, NULL, &model))
        return -1;
    n_vocab = (int)smoa_model_n_vocab(model);
    return 0;
}

static int teardown_model(void **state) {
    (void)state;
    smoa_model_free(model);
    smoa_ctx_destroy(ctx);
    unlink(model_path);
    return 0;
}

static smoa_session *new_session(uint32_t n_ctx, uint32_t kv_tokens, uint32_t n_batch) {
    smoa_session_options o;
    smoa_session_options_init(&o);
    o.n_ctx = n_ctx;
    o.kv_tokens = kv_tokens;
    o.n_batch = n_batch;
    o.n_threads = 2;
    smoa_session *s = NULL;
    smoa_status st = smoa_session_create(ctx, model, &o, &s);
    if (st) fail_msg("session: %s", smoa_ctx_last_error(ctx));
    return s;
}

/* Deterministic pseudo-random prompt tokens (normal byte tokens). */
static void make_prompt(int32_t *t, int n, int salt) {
    for (int i = 0; i < n; i++) t[i] = (int32_t)((i * 37 + salt * 101 + 7) % 250);
}

static int32_t new_seq(smoa_session *s) {
    int32_t seq;
    assert_int_equal(smoa_seq_create(ctx, s, &seq), SMOA_OK);
    return seq;
}

static void prefill(smoa_session *s, int32_t seq, const int32_t *t, size_t n) {
    smoa_status st = smoa_prefill(ctx, s, seq, t, n);
    if (st) fail_msg("prefill: %s", smoa_ctx_last_error(ctx));
}

static float max_rel_diff(const float *a, const float *b, int n) {
    float worst = 0, scale = 1e-6f;
    for (int i = 0; i < n; i++) scale = fmaxf(scale, fabsf(a[i]));
    for (int i = 0; i < n; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]) / scale);
    return worst;
}

static void assert_logits_close(const float *a, const float *b) {
    assert_non_null(a);
    assert_non_null(b);
    float d = max_rel_diff(a, b, n_vocab);
    if (d > 1e-5f) fail_msg("logits differ: max relative difference %g", d);
}

/* ------------------------------------------------------------------------ */

/* Three prompts of mixed lengths in one forward pass (through the batch
 * runner) vs each alone; then decode steps together vs alone. n_batch 24
 * forces the long prompt to split across passes. */
static void test_batched_equals_sequential(void **state) {
    (void)state;
    enum { N = 3 };
    const int lens[N] = {5, 17, 40};
    int32_t prompts[N][40];
    for (int i = 0; i < N; i++) make_prompt(prompts[i], lens[i], i);

    smoa_session *batched = new_session(128, 512, 24), *single = new_session(128, 512, 24);
    int32_t bs[N], ss[N];
    smoa_seq_tokens entries[N];
    for (int i = 0; i < N; i++) {
        bs[i] = new_seq(batched);
        ss[i] = new_seq(single);
        entries[i] = (smoa_seq_tokens){bs[i], prompts[i], (uint32_t)lens[i]};
        prefill(single, ss[i], prompts[i], lens[i]);
    }
    assert_int_equal(smoa_session_run(batched, entries, N, NULL), SMOA_OK);
    for (int i = 0; i < N; i++) assert_logits_close(smoa_seq_logits(batched, bs[i]), smoa_seq_logits(single, ss[i]));

    for (int step = 0; step < 4; step++) {
        int32_t next[N];
        for (int i = 0; i < N; i++) next[i] = (int32_t)((step * 13 + i * 5) % 250);
        assert_int_equal(smoa_decode(ctx, batched, bs, next, N), SMOA_OK);
        for (int i = 0; i < N; i++) {
            assert_int_equal(smoa_decode(ctx, single, &ss[i], &next[i], 1), SMOA_OK);
            assert_logits_close(smoa_seq_logits(batched, bs[i]), smoa_seq_logits(single, ss[i]));
        }
    }
    assert_int_equal(smoa_seq_length(batched, bs[2]), 44);
    smoa_session_destroy(batched);
    smoa_session_destroy(single);
}

/* A fork shares the prefix's pages (20 tokens: one full page, one partial)
 * and diverges by copy-on-write; results equal fresh, unshared prefills. */
static void test_prefix_sharing(void **state) {
    (void)state;
    int32_t prefix[20], a_tail[6], b_tail[9], full[29];
    make_prompt(prefix, 20, 3);
    make_prompt(a_tail, 6, 4);
    make_prompt(b_tail, 9, 5);
    smoa_session *s = new_session(128, 256, 64);
    uint32_t free_before = s->pool.n_free;
    int32_t a = new_seq(s), b;
    prefill(s, a, prefix, 20);
    assert_int_equal(smoa_seq_fork(ctx, s, a, &b), SMOA_OK);
    assert_int_equal(smoa_seq_length(s, b), 20);
    assert_int_equal(free_before - s->pool.n_free, 2); /* shared, not copied */
    assert_logits_close(smoa_seq_logits(s, a), smoa_seq_logits(s, b));
    prefill(s, b, b_tail, 9);
    prefill(s, a, a_tail, 6);
    /* b copied the shared partial page; a, then its only holder, kept it */
    assert_int_equal(free_before - s->pool.n_free, 3);

    smoa_session *fresh = new_session(128, 256, 64);
    int32_t fa = new_seq(fresh), fb = new_seq(fresh);
    memcpy(full, prefix, sizeof prefix);
    memcpy(full + 20, a_tail, sizeof a_tail);
    prefill(fresh, fa, full, 26);
    memcpy(full + 20, b_tail, sizeof b_tail);
    prefill(fresh, fb, full, 29);
    assert_logits_close(smoa_seq_logits(s, a), smoa_seq_logits(fresh, fa));
    assert_logits_close(smoa_seq_logits(s, b), smoa_seq_logits(fresh, fb));

    smoa_seq_free(s, a);
    smoa_seq_free(s, b);
    assert_int_equal(s->pool.n_free, free_before);
    smoa_session_destroy(s);
    smoa_session_destroy(fresh);
}

static void test_truncate_and_refill(void **state) {
    (void)state;
    int32_t t[30];
    make_prompt(t, 30, 6);
    smoa_session *s = new_session(64, 128, 64);
    int32_t seq = new_seq(s);
    prefill(s, seq, t, 30);
    float *expected = malloc(n_vocab * sizeof *expected);
    memcpy(expected, smoa_seq_logits(s, seq), n_vocab * sizeof *expected);
    assert_int_equal(smoa_seq_truncate(ctx, s, seq, 12), SMOA_OK);
    assert_null(smoa_seq_logits(s, seq));
    prefill(s, seq, t + 12, 18);
    assert_logits_close(smoa_seq_logits(s, seq), expected);
    assert_int_equal(smoa_seq_truncate(ctx, s, seq, 31), SMOA_ERR_INVALID_ARGUMENT);
    free(expected);
    smoa_session_destroy(s);
}

static void test_context_limits(void **state) {
    (void)state;
    int32_t t[80];
    make_prompt(t, 80, 7);
    smoa_session *s = new_session(64, 64, 32); /* budget: 4 pages */
    int32_t a = new_seq(s), b = new_seq(s);
    assert_int_equal(smoa_prefill(ctx, s, a, t, 65), SMOA_ERR_CONTEXT_FULL);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "n_ctx"));
    assert_int_equal(smoa_seq_length(s, a), 0);
    prefill(s, a, t, 40);
    /* b needs 3 more pages; 1 is left */
    assert_int_equal(smoa_prefill(ctx, s, b, t, 40), SMOA_ERR_CONTEXT_FULL);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "budget"));
    assert_int_equal(smoa_seq_length(s, b), 0);
    prefill(s, b, t, 16); /* what remains still works */
    assert_int_equal(smoa_prefill(ctx, s, a, t, 0), SMOA_ERR_INVALID_ARGUMENT);
    int32_t bad = n_vocab;
    assert_int_equal(smoa_prefill(ctx, s, a, &bad, 1), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_prefill(ctx, s, 99, t, 1), SMOA_ERR_INVALID_ARGUMENT);
    smoa_session_destroy(s);
}

/* ------------------------------------------------------------------------ */
/* Generation                                                               */

typedef struct generated {
    char text[4096];
    size_t len;
    int32_t tokens[64];
    uint32_t n;
    smoa_stop_reason reason;
} generated;

static smoa_status run_generate(smoa_session *s, const int32_t *seqs, size_t n, const smoa_generate_options *o,
                                generated *out) {
    smoa_generation *g = NULL;
    smoa_status st = smoa_generate(ctx, s, seqs, n, o, &g);
    for (size_t i = 0; g && i < n; i++) {
        size_t len;
        const char *text = smoa_generation_text(g, i, &len);
        assert_true(len < sizeof out[i].text);
        memcpy(out[i].text, text, len);
        out[i].len = len;
        out[i].n = smoa_generation_n_tokens(g, i);
        memcpy(out[i].tokens, smoa_generation_tokens(g, i), out[i].n * sizeof(int32_t));
        out[i].reason = smoa_generation_stop_reason(g, i);
    }
    smoa_generation_free(g);
    return st;
}

/* Per-sequence seeds make each sequence's sample stream its own: generating
 * three together equals generating each alone. */
static void test_generation_independent_of_batching(void **state) {
    (void)state;
    enum { N = 3 };
    smoa_sampling_options so[N];
    const smoa_sampling_options *per_seq[N];
    for (int i = 0; i < N; i++) {
        smoa_sampling_options_init(&so[i]);
        so[i].temperature = 0.9f;
        so[i].seed = 100 + (uint64_t)i;
        per_seq[i] = &so[i];
    }
    const uint32_t budgets[N] = {12, 20, 7};
    int32_t prompt[9];
    make_prompt(prompt, 9, 8);

    smoa_session *s = new_session(128, 1024, 64);
    int32_t seqs[N];
    for (int i = 0; i < N; i++) {
        seqs[i] = new_seq(s);
        prefill(s, seqs[i], prompt, 9);
    }
    smoa_generate_options o;
    smoa_generate_options_init(&o);
    o.sampling_per_seq = per_seq;
    o.max_tokens_per_seq = budgets;
    generated together[N], alone[N];
    assert_int_equal(run_generate(s, seqs, N, &o, together), SMOA_OK);
    smoa_session_destroy(s);

    for (int i = 0; i < N; i++) {
        smoa_session *one = new_session(128, 1024, 64);
        int32_t seq = new_seq(one);
        prefill(one, seq, prompt, 9);
        smoa_generate_options oi;
        smoa_generate_options_init(&oi);
        oi.sampling = &so[i];
        oi.max_tokens = budgets[i];
        assert_int_equal(run_generate(one, &seq, 1, &oi, &alone[i]), SMOA_OK);
        smoa_session_destroy(one);
        assert_int_equal(together[i].n, alone[i].n);
        assert_memory_equal(together[i].tokens, alone[i].tokens, alone[i].n * sizeof(int32_t));
        assert_int_equal(together[i].reason, alone[i].reason);
    }
    /* different seeds gave different streams */
    assert_true(memcmp(together[0].tokens, together[1].tokens, 7 * sizeof(int32_t)) != 0);
}

/* One sequence runs out of context mid-generation; the other goes on. */
static void test_generation_context_stop(void **state) {
    (void)state;
    int32_t t[40];
    make_prompt(t, 40, 9);
    smoa_session *s = new_session(48, 256, 64);
    int32_t seqs[2] = {new_seq(s), new_seq(s)};
    prefill(s, seqs[0], t, 40);
    prefill(s, seqs[1], t, 4);
    smoa_sampling_options greedy;
    smoa_sampling_options_init(&greedy);
    greedy.temperature = 0;
    smoa_generate_options o;
    smoa_generate_options_init(&o);
    o.sampling = &greedy;
    o.max_tokens = 20;
    generated out[2];
    assert_int_equal(run_generate(s, seqs, 2, &o, out), SMOA_OK);
    assert_int_equal(out[0].reason, SMOA_STOP_CONTEXT);
    assert_int_equal(out[0].n, 9); /* 8 decoded to reach 48, the 9th sampled from the last logits */
    assert_int_equal(out[1].reason, SMOA_STOP_MAX_TOKENS);
    assert_int_equal(out[1].n, 20);
    smoa_session_destroy(s);
}

typedef struct stream_capture {
    char text[4096];
    size_t len;
    int calls;
    int stop_after;               /* 0: never */
    volatile int32_t *cancel;     /* set instead of returning non-zero */
} stream_capture;

static int capture(int32_t seq, int32_t token, const char *piece, size_t len, void *user) {
    (void)seq, (void)token;
    stream_capture *c = user;
    memcpy(c->text + c->len, piece, len);
    c->len += len;
    if (++c->calls == c->stop_after) {
        if (c->cancel) *c->cancel = 1;
        else return 1;
    }
    return 0;
}

static void greedy_run(const int32_t *prompt, size_t n, smoa_generate_options *o, generated *out, smoa_status want) {
    smoa_session *s = new_session(128, 256, 64);
    int32_t seq = new_seq(s);
    prefill(s, seq, prompt, n);
    smoa_sampling_options greedy;
    smoa_sampling_options_init(&greedy);
    greedy.temperature = 0;
    o->sampling = &greedy;
    assert_int_equal(run_generate(s, &seq, 1, o, out), want);
    smoa_session_destroy(s);
}

static void test_streaming_stop_strings_and_cancel(void **state) {
    (void)state;
    int32_t prompt[6];
    make_prompt(prompt, 6, 10);
    smoa_generate_options o;
    smoa_generate_options_init(&o);
    o.max_tokens = 24;
    stream_capture cap = {0};
    o.on_token = capture;
    o.user_data = &cap;
    generated plain;
    greedy_run(prompt, 6, &o, &plain, SMOA_OK);
    assert_int_equal(cap.len, plain.len); /* the stream is the text */
    assert_memory_equal(cap.text, plain.text, plain.len);
    assert_true(plain.len >= 6);

    /* stop at bytes 3..5 of the first run's text (its first occurrence) */
    char stop[4] = {0};
    memcpy(stop, plain.text + 3, 3);
    const char *stops[] = {"never appears \x01", stop};
    o.stop = stops;
    o.n_stop = 2;
    memset(&cap, 0, sizeof cap);
    generated cut;
    greedy_run(prompt, 6, &o, &cut, SMOA_OK);
    size_t first = (size_t)(strstr(plain.text, stop) - plain.text);
    assert_int_equal(cut.reason, SMOA_STOP_STRING);
    assert_int_equal(cut.len, first);
    assert_memory_equal(cut.text, plain.text, first);
    assert_int_equal(cap.len, cut.len); /* held-back bytes never reached the callback */

    o.n_stop = 0;
    memset(&cap, 0, sizeof cap);
    cap.stop_after = 3;
    generated stopped;
    greedy_run(prompt, 6, &o, &stopped, SMOA_OK);
    assert_int_equal(stopped.reason, SMOA_STOP_CALLBACK);
    assert_int_equal(cap.calls, 3); /* tokens without text make no call */
    assert_true(stopped.n >= 3 && stopped.n < plain.n);

    volatile int32_t cancel = 0;
    memset(&cap, 0, sizeof cap);
    cap.stop_after = 2;
    cap.cancel = &cancel;
    o.cancel = &cancel;
    generated cancelled;
    greedy_run(prompt, 6, &o, &cancelled, SMOA_ERR_CANCELLED);
    assert_int_equal(cancelled.reason, SMOA_STOP_CANCELLED);
    assert_int_equal(cap.calls, 2);
    assert_true(cancelled.n >= 2 && cancelled.n < plain.n);
}

static void test_generation_rejects_bad_input(void **state) {
    (void)state;
    smoa_session *s = new_session(64, 128, 64);
    int32_t seq = new_seq(s);
    smoa_generation *g = (smoa_generation *)0x1;
    assert_int_equal(smoa_generate(ctx, s, &seq, 1, NULL, &g), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "prefill it first"));
    assert_null(g);
    int32_t t[4] = {1, 2, 3, 4};
    prefill(s, seq, t, 4);
    smoa_sampling_options bad;
    smoa_sampling_options_init(&bad);
    bad.top_p = 1.5f;
    assert_int_equal(smoa_sampling_options_check(ctx, &bad), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "top_p"));
    smoa_generate_options o;
    smoa_generate_options_init(&o);
    o.sampling = &bad;
    assert_int_equal(smoa_generate(ctx, s, &seq, 1, &o, &g), SMOA_ERR_INVALID_ARGUMENT);
    int32_t twice[2] = {seq, seq};
    assert_int_equal(smoa_generate(ctx, s, twice, 2, NULL, &g), SMOA_ERR_INVALID_ARGUMENT);
    smoa_session_destroy(s);
}

/* A llama file missing a tensor names it; a metadata-only load cannot run. */
static void test_bad_models(void **state) {
    (void)state;
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_str(w, "general.architecture", "llama");
    smoa_gguf_writer_add_u32(w, "llama.embedding_length", 64);
    smoa_gguf_writer_add_u32(w, "llama.block_count", 1);
    smoa_gguf_writer_add_u32(w, "llama.feed_forward_length", 96);
    smoa_gguf_writer_add_u32(w, "llama.attention.head_count", 4);
    smoa_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    const char *tokens[] = {"a", "b"};
    smoa_gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2");
    smoa_gguf_writer_add_str(w, "tokenizer.ggml.pre", "gpt2");
    smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", tokens, 2);
    smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", NULL, 0);
    char path[] = "/tmp/smoa_test_engine_bad_XXXXXX";
    close(mkstemp(path));
    assert_int_equal(smoa_gguf_writer_to_file(w, path, NULL), SMOA_OK);
    smoa_gguf_writer_free(w);
    smoa_model *m;
    assert_int_equal(smoa_model_load(ctx, path, NULL, &m), SMOA_ERR_FORMAT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "token_embd.weight"));
    unlink(path);

    smoa_model_options mo;
    smoa_model_options_init(&mo);
    mo.load_mode = SMOA_LOAD_VOCAB;
    assert_int_equal(smoa_model_load(ctx, model_path, &mo, &m), SMOA_OK);
    smoa_session *s;
    assert_int_equal(smoa_session_create(ctx, m, NULL, &s), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "SMOA_LOAD_FULL"));
    smoa_model_free(m);
}

/* A sequence whose logits turn NaN (its prompt ends with a token whose
 * embedding row is NaN) stops with SMOA_STOP_ERROR; the other goes on. */
static void test_generation_drops_failed_sequence(void **state) {
    (void)state;
    char path[] = "/tmp/smoa_test_engine_nan_XXXXXX";
    close(mkstemp(path));
    smoa_synthetic_options so;
    smoa_synthetic_options_init(&so);
    so.n_vocab = 300, so.n_embd = 32, so.n_layer = 1, so.n_head = 2, so.n_head_kv = 1, so.n_ff = 64;
    so.embd_type = 0;   /* F32, so one row can be poisoned in place */
    so.weight_type = 0; /* F32 everywhere: no activation quantization to turn NaN into numbers */
    so.tied_output = 0; /* so the NaN row is not an output row of every sequence */
    assert_int_equal(smoa_synthetic_write(ctx, path, &so), SMOA_OK);
    smoa_model *m;
    assert_int_equal(smoa_model_load(ctx, path, NULL, &m), SMOA_OK);
    smoa_tensor_info embd = {.struct_size = sizeof embd};
    for (uint64_t i = 0; i < smoa_model_n_tensors(m); i++) {
        assert_int_equal(smoa_model_tensor_info(ctx, m, i, &embd), SMOA_OK);
        if (strcmp(embd.name, "token_embd.weight") == 0) break;
    }
    smoa_model_free(m);
    FILE *f = fopen(path, "r+b");
    float nan_row[32];
    for (int i = 0; i < 32; i++) nan_row[i] = NAN;
    fseek(f, (long)(embd.offset + 77 * sizeof nan_row), SEEK_SET);
    fwrite(nan_row, sizeof nan_row, 1, f);
    fclose(f);
    assert_int_equal(smoa_model_load(ctx, path, NULL, &m), SMOA_OK);

    smoa_session *s;
    assert_int_equal(smoa_session_create(ctx, m, NULL, &s), SMOA_OK);
    int32_t seqs[2], poisoned[3] = {5, 6, 77}, fine[3] = {5, 6, 78};
    assert_int_equal(smoa_seq_create(ctx, s, &seqs[0]), SMOA_OK);
    assert_int_equal(smoa_seq_create(ctx, s, &seqs[1]), SMOA_OK);
    assert_int_equal(smoa_prefill(ctx, s, seqs[0], poisoned, 3), SMOA_OK);
    assert_int_equal(smoa_prefill(ctx, s, seqs[1], fine, 3), SMOA_OK);
    assert_true(isnan(smoa_seq_logits(s, seqs[0])[0]));
    assert_false(isnan(smoa_seq_logits(s, seqs[1])[0]));
    smoa_generate_options o;
    smoa_generate_options_init(&o);
    o.max_tokens = 5;
    generated out[2];
    assert_int_equal(run_generate(s, seqs, 2, &o, out), SMOA_OK);
    assert_int_equal(out[0].reason, SMOA_STOP_ERROR);
    assert_int_equal(out[0].n, 0);
    assert_int_equal(out[1].reason, SMOA_STOP_MAX_TOKENS);
    assert_int_equal(out[1].n, 5);
    smoa_session_destroy(s);
    smoa_model_free(m);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batched_equals_sequential),
        cmocka_unit_test(test_prefix_sharing),
        cmocka_unit_test(test_truncate_and_refill),
        cmocka_unit_test(test_context_limits),
        cmocka_unit_test(test_generation_independent_of_batching),
        cmocka_unit_test(test_generation_context_stop),
        cmocka_unit_test(test_streaming_stop_strings_and_cancel),
        cmocka_unit_test(test_generation_rejects_bad_input),
        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_generation_drops_failed_sequence),
    };
    return cmocka_run_group_tests(tests, setup_model, teardown_model);
}
