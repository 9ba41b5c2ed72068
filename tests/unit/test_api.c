/* test_api.c - the public API's contracts: versions, statuses, versioned
 * option structs, last-error messages, logging, load modes and the buffer
 * protocol. Uses the GPT-2 vocabulary file from shared/data (a real GGUF
 * with metadata and a tokenizer but no tensors) and files written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "smoa.h"

#define GPT2_VOCAB SMOA_TEST_DATA "/vocab/ggml-vocab-gpt-2.gguf"

static smoa_ctx *new_ctx(void) {
    smoa_ctx *ctx = NULL;
    assert_int_equal(smoa_ctx_create(NULL, &ctx), SMOA_OK);
    assert_non_null(ctx);
    return ctx;
}

static smoa_model *load(smoa_ctx *ctx, const char *path, smoa_load_mode mode) {
    smoa_model_options mo;
    smoa_model_options_init(&mo);
    mo.load_mode = mode;
    smoa_model *m = NULL;
    smoa_status st = smoa_model_load(ctx, path, &mo, &m);
    if (st != SMOA_OK) fail_msg("load %s: %s: %s", path, smoa_status_str(st), smoa_ctx_last_error(ctx));
    return m;
}

static void test_versions_and_statuses(void **state) {
    (void)state;
    assert_int_equal(smoa_version_number(), SMOA_VERSION_NUMBER);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", SMOA_VERSION_MAJOR, SMOA_VERSION_MINOR,
             SMOA_VERSION_PATCH);
    assert_string_equal(smoa_version(), expected);
    /* every status has its own name; unknown codes are named as such */
    for (int a = SMOA_OK; a <= SMOA_ERR_CANCELLED; a++)
        for (int b = SMOA_OK; b < a; b++)
            assert_string_not_equal(smoa_status_str((smoa_status)a), smoa_status_str((smoa_status)b));
    assert_string_equal(smoa_status_str((smoa_status)999), "unknown status");
}

static void test_ctx_options_versioning(void **state) {
    (void)state;
    smoa_ctx *ctx = NULL;
    assert_int_equal(smoa_ctx_create(NULL, NULL), SMOA_ERR_INVALID_ARGUMENT);

    smoa_ctx_options o;
    smoa_ctx_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    o.struct_size = 0; /* not initialised */
    assert_int_equal(smoa_ctx_create(&o, &ctx), SMOA_ERR_INVALID_ARGUMENT);
    assert_null(ctx);

    smoa_ctx_options_init(&o);
    o.n_threads = -3;
    assert_int_equal(smoa_ctx_create(&o, &ctx), SMOA_ERR_INVALID_ARGUMENT);

    /* an older caller whose struct ends before n_threads: the garbage after
     * its struct_size must not be read */
    smoa_ctx_options_init(&o);
    o.struct_size = offsetof(smoa_ctx_options, n_threads);
    o.n_threads = -3;
    assert_int_equal(smoa_ctx_create(&o, &ctx), SMOA_OK);
    smoa_ctx_destroy(ctx);
    smoa_ctx_destroy(NULL); /* harmless */

    /* an older caller's init writes only its own, smaller struct */
    unsigned char buf[sizeof(smoa_ctx_options) + 16];
    memset(buf, 0xAB, sizeof buf);
    size_t old_size = offsetof(smoa_ctx_options, n_threads);
    smoa_ctx_options_init_sized((smoa_ctx_options *)buf, old_size);
    for (size_t i = old_size; i < sizeof buf; i++) assert_int_equal(buf[i], 0xAB);
    uint32_t written_size;
    memcpy(&written_size, buf, sizeof written_size);
    assert_int_equal(written_size, old_size);
}

typedef struct log_capture {
    int count;
    smoa_log_level last_level;
    char last[1024];
} log_capture;

static void capture_log(smoa_log_level level, const char *message, void *user_data) {
    log_capture *cap = user_data;
    cap->count++;
    cap->last_level = level;
    snprintf(cap->last, sizeof cap->last, "%s", message);
}

static void test_errors_and_logging(void **state) {
    (void)state;
    log_capture cap = {0};
    smoa_ctx_options o;
    smoa_ctx_options_init(&o);
    o.log_fn = capture_log;
    o.log_user_data = &cap;
    o.log_level = SMOA_LOG_ERROR;
    smoa_ctx *ctx;
    assert_int_equal(smoa_ctx_create(&o, &ctx), SMOA_OK);
    assert_string_equal(smoa_ctx_last_error(ctx), "");

    smoa_model *m = (smoa_model *)0x1; /* must be reset to NULL on failure */
    assert_int_equal(smoa_model_load(ctx, "/no/such/model.gguf", NULL, &m), SMOA_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "/no/such/model.gguf"));
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.last_level, SMOA_LOG_ERROR);
    assert_string_equal(cap.last, smoa_ctx_last_error(ctx));

    /* the next successful call clears the message */
    smoa_model *vocab = load(ctx, GPT2_VOCAB, SMOA_LOAD_VOCAB);
    assert_string_equal(smoa_ctx_last_error(ctx), "");
    assert_int_equal(cap.count, 1); /* the info message is below the threshold */
    smoa_model_free(vocab);

    smoa_model_options mo;
    smoa_model_options_init(&mo);
    mo.load_mode = 7;
    assert_int_equal(smoa_model_load(ctx, GPT2_VOCAB, &mo, &m), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "load_mode"));
    assert_int_equal(smoa_model_load(ctx, GPT2_VOCAB, NULL, NULL), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_model_load(NULL, GPT2_VOCAB, NULL, &m), SMOA_ERR_INVALID_ARGUMENT);
    smoa_ctx_destroy(ctx);
}

static void test_bad_files_give_format_errors(void **state) {
    (void)state;
    smoa_ctx *ctx = new_ctx();
    char path[] = "/tmp/smoa_test_api_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* the first 100 bytes of a real GGUF: valid header, truncated metadata */
    FILE *in = fopen(GPT2_VOCAB, "rb");
    assert_non_null(in);
    char head[100];
    assert_int_equal(fread(head, 1, sizeof head, in), sizeof head);
    fclose(in);
    assert_int_equal(write(fd, head, sizeof head), (ssize_t)sizeof head);
    close(fd);
    smoa_model *m;
    assert_int_equal(smoa_model_load(ctx, path, NULL, &m), SMOA_ERR_FORMAT);
    const char *msg = smoa_ctx_last_error(ctx);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "truncated"));
    unlink(path);
    smoa_ctx_destroy(ctx);
}

static void test_load_modes(void **state) {
    (void)state;
    smoa_ctx *ctx = new_ctx();
    smoa_model *m;
    /* gpt2 is not an architecture the engine runs */
    assert_int_equal(smoa_model_load(ctx, GPT2_VOCAB, NULL, &m), SMOA_ERR_UNSUPPORTED);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "architecture 'gpt2'"));

    m = load(ctx, GPT2_VOCAB, SMOA_LOAD_METADATA);
    assert_string_equal(smoa_model_architecture(m), "gpt2");
    assert_int_equal(smoa_model_n_tensors(m), 0);
    assert_int_equal(smoa_model_n_vocab(m), 50257);
    assert_null(smoa_model_tokenizer_model(m));
    assert_int_equal(smoa_token_bos(m), -1);
    size_t n;
    int32_t ids[8];
    assert_int_equal(smoa_tokenize(ctx, m, "hi", 2, 0, ids, 8, &n), SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "SMOA_LOAD_METADATA"));
    smoa_model_free(m);

    m = load(ctx, GPT2_VOCAB, SMOA_LOAD_VOCAB);
    assert_string_equal(smoa_model_tokenizer_model(m), "gpt2");
    assert_int_equal(smoa_model_n_vocab(m), 50257);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
}

static void test_metadata_queries(void **state) {
    (void)state;
    smoa_ctx *ctx = new_ctx();
    smoa_model *m = load(ctx, GPT2_VOCAB, SMOA_LOAD_METADATA);
    assert_true(smoa_model_meta_count(m) > 3);
    int found = 0;
    for (uint64_t i = 0; i < smoa_model_meta_count(m); i++)
        found += strcmp(smoa_model_meta_key(m, i), "tokenizer.ggml.model") == 0;
    assert_int_equal(found, 1);
    assert_null(smoa_model_meta_key(m, smoa_model_meta_count(m)));

    char buf[64];
    size_t n = 0;
    assert_int_equal(smoa_model_meta_str(ctx, m, "tokenizer.ggml.model", buf, sizeof buf, &n), SMOA_OK);
    assert_string_equal(buf, "gpt2");
    assert_int_equal(n, 4);
    /* too small: BUFFER_TOO_SMALL with the size needed */
    assert_int_equal(smoa_model_meta_str(ctx, m, "tokenizer.ggml.model", buf, 4, &n),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 4);
    assert_int_equal(smoa_model_meta_str(ctx, m, "tokenizer.ggml.model", NULL, 0, &n),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(smoa_model_meta_str(ctx, m, "no.such.key", buf, sizeof buf, &n), SMOA_ERR_NOT_FOUND);
    assert_non_null(strstr(smoa_ctx_last_error(ctx), "no.such.key"));
    assert_int_equal(smoa_model_meta_str(ctx, m, "tokenizer.ggml.tokens", buf, 16, &n),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_non_null(strstr(buf, "[\"!\""));

    smoa_tensor_info info = {.struct_size = sizeof info};
    assert_int_equal(smoa_model_tensor_info(ctx, m, 0, &info), SMOA_ERR_NOT_FOUND);
    smoa_model_free(m);
    smoa_ctx_destroy(ctx);
}

static void test_backend_queries(void **state) {
    (void)state;
    int has = smoa_has_cuda();
    assert_true(has == 0 || has == 1);
    int n = smoa_cuda_device_count();
    assert_true(n >= 0);
    if (!has) assert_int_equal(n, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_statuses),
        cmocka_unit_test(test_ctx_options_versioning),
        cmocka_unit_test(test_errors_and_logging),
        cmocka_unit_test(test_bad_files_give_format_errors),
        cmocka_unit_test(test_load_modes),
        cmocka_unit_test(test_metadata_queries),
        cmocka_unit_test(test_backend_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
