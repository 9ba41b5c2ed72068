/* test_gguf.c - the GGUF reader on valid, truncated, corrupt and hostile files.
 *
 * Valid files come from the writer; broken ones are valid files with one
 * field patched at a known offset, so each test names exactly what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/tensor_types.h"

typedef struct file_bytes {
    uint8_t *data;
    size_t size;
} file_bytes;

static file_bytes finish(smoa_gguf_writer *w) {
    file_bytes f;
    assert_int_equal(smoa_gguf_writer_to_memory(w, &f.data, &f.size, NULL), SMOA_OK);
    smoa_gguf_writer_free(w);
    return f;
}

/* A small but complete file: every scalar type, arrays, two tensors. */
static file_bytes build_sample(void) {
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    assert_non_null(w);
    assert_true(smoa_gguf_writer_add_str(w, "general.architecture", "llama"));
    assert_true(smoa_gguf_writer_add_u32(w, "llama.block_count", 2));
    assert_true(smoa_gguf_writer_add_u64(w, "big", UINT64_C(1) << 40));
    assert_true(smoa_gguf_writer_add_i32(w, "neg", -5));
    assert_true(smoa_gguf_writer_add_f32(w, "eps", 1e-5f));
    assert_true(smoa_gguf_writer_add_bool(w, "flag", true));
    const char *words[] = {"alpha", "", "gamma"};
    assert_true(smoa_gguf_writer_add_str_array(w, "words", words, 3));
    const int32_t ints[] = {3, -1, 7};
    assert_true(smoa_gguf_writer_add_i32_array(w, "ints", ints, 3));
    float weights[64];
    for (int i = 0; i < 64; i++) weights[i] = (float)i;
    const uint64_t ne_a[] = {32, 2};
    assert_true(smoa_gguf_writer_add_tensor(w, "a", SMOA_TYPE_F32, 2, ne_a, weights));
    uint8_t q8[2 * 34] = {0};
    const uint64_t ne_b[] = {64};
    assert_true(smoa_gguf_writer_add_tensor(w, "b", SMOA_TYPE_Q8_0, 1, ne_b, q8));
    return finish(w);
}

static smoa_status open_bytes(file_bytes f, smoa_error *err) {
    smoa_gguf *g = NULL;
    smoa_status st = smoa_gguf_open_memory(f.data, f.size, &g, err);
    if (st == SMOA_OK) assert_non_null(g);
    else assert_null(g);
    smoa_gguf_close(g);
    return st;
}

/* Offset of the first byte after the 24-byte header and `n` metadata
 * entries of the sample, found by parsing the valid file. */
static size_t offset_after_kv(file_bytes f, const char *key) {
    smoa_gguf *g;
    assert_int_equal(smoa_gguf_open_memory(f.data, f.size, &g, NULL), SMOA_OK);
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, key);
    assert_non_null(kv);
    size_t end = (size_t)(kv->value - f.data) + kv->value_bytes;
    smoa_gguf_close(g);
    return end;
}

static void put_u32_at(file_bytes f, size_t at, uint32_t v) { memcpy(f.data + at, &v, 4); }
static void put_u64_at(file_bytes f, size_t at, uint64_t v) { memcpy(f.data + at, &v, 8); }

/* ------------------------------------------------------------------------ */

static void test_reads_sample(void **state) {
    (void)state;
    file_bytes f = build_sample();
    smoa_gguf *g;
    assert_int_equal(smoa_gguf_open_memory(f.data, f.size, &g, NULL), SMOA_OK);
    assert_int_equal(g->version, 3);
    assert_int_equal(g->n_kv, 8);
    assert_int_equal(g->n_tensors, 2);
    assert_int_equal(g->alignment, 32);
    assert_int_equal(g->data_offset % 32, 0);

    uint64_t u;
    int64_t i;
    double d;
    bool b;
    smoa_gguf_str s;
    assert_true(smoa_gguf_get_u64(g, "llama.block_count", &u));
    assert_int_equal(u, 2);
    assert_true(smoa_gguf_get_u64(g, "big", &u));
    assert_true(u == UINT64_C(1) << 40);
    assert_false(smoa_gguf_get_u64(g, "neg", &u)); /* negative is not a u64 */
    assert_true(smoa_gguf_kv_i64(smoa_gguf_find_kv(g, "neg"), &i));
    assert_int_equal(i, -5);
    assert_true(smoa_gguf_get_f64(g, "eps", &d));
    assert_float_equal(d, 1e-5, 1e-12);
    assert_false(smoa_gguf_get_f64(g, "general.architecture", &d));
    assert_true(smoa_gguf_get_bool(g, "flag", &b));
    assert_true(b);
    assert_true(smoa_gguf_get_str(g, "general.architecture", &s));
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "llama", 5);
    assert_false(smoa_gguf_get_str(g, "missing", &s));

    const smoa_gguf_kv *words = smoa_gguf_find_kv(g, "words");
    smoa_gguf_str items[3];
    assert_int_equal(words->array_count, 3);
    assert_true(smoa_gguf_kv_str_array(words, items));
    assert_int_equal(items[1].len, 0);
    assert_memory_equal(items[2].data, "gamma", 5);
    const smoa_gguf_kv *ints = smoa_gguf_find_kv(g, "ints");
    assert_true(smoa_gguf_kv_array_i64(ints, 1, &i));
    assert_int_equal(i, -1);
    assert_false(smoa_gguf_kv_array_i64(ints, 3, &i)); /* out of range */
    assert_false(smoa_gguf_kv_str_array(ints, items));

    const smoa_gguf_tensor *a = smoa_gguf_find_tensor(g, "a");
    assert_non_null(a);
    assert_int_equal(a->ne[0], 32);
    assert_int_equal(a->ne[1], 2);
    assert_int_equal(a->n_bytes, 64 * 4);
    float v;
    memcpy(&v, (const uint8_t *)a->data + 4 * 33, 4);
    assert_float_equal(v, 33.0f, 0);
    const smoa_gguf_tensor *tb = smoa_gguf_find_tensor(g, "b");
    assert_int_equal(tb->n_bytes, 68);
    assert_int_equal(((const uint8_t *)tb->data - f.data) % 32, 0);
    assert_null(smoa_gguf_find_tensor(g, "c"));
    smoa_gguf_close(g);
    free(f.data);
}

static void test_formats_values(void **state) {
    (void)state;
    file_bytes f = build_sample();
    smoa_gguf *g;
    assert_int_equal(smoa_gguf_open_memory(f.data, f.size, &g, NULL), SMOA_OK);
    char buf[128];
    size_t n = smoa_gguf_kv_format(smoa_gguf_find_kv(g, "words"), buf, sizeof buf);
    assert_string_equal(buf, "[\"alpha\", \"\", \"gamma\"]");
    assert_int_equal(n, strlen(buf));
    smoa_gguf_kv_format(smoa_gguf_find_kv(g, "neg"), buf, sizeof buf);
    assert_string_equal(buf, "-5");
    smoa_gguf_kv_format(smoa_gguf_find_kv(g, "flag"), buf, sizeof buf);
    assert_string_equal(buf, "true");
    /* too small: truncated, NUL-terminated, full length reported */
    n = smoa_gguf_kv_format(smoa_gguf_find_kv(g, "general.architecture"), buf, 3);
    assert_int_equal(n, 5);
    assert_string_equal(buf, "ll");
    smoa_gguf_close(g);
    free(f.data);
}

/* Every prefix of a valid file is invalid and must fail cleanly (run under
 * ASan in CI: any out-of-bounds read shows up here). */
static void test_every_truncation_fails(void **state) {
    (void)state;
    file_bytes f = build_sample();
    smoa_gguf *g;
    assert_int_equal(smoa_gguf_open_memory(f.data, f.size, &g, NULL), SMOA_OK);
    const smoa_gguf_tensor *last = smoa_gguf_find_tensor(g, "b");
    size_t data_end = (size_t)((const uint8_t *)last->data - f.data) + last->n_bytes;
    smoa_gguf_close(g);
    /* (bytes past data_end are padding: cutting them leaves a valid file) */
    for (size_t len = 0; len < data_end; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size, so ASan sees overreads */
        memcpy(copy, f.data, len);
        smoa_error err = {0};
        file_bytes prefix = {copy, len};
        smoa_status st = open_bytes(prefix, &err);
        if (st != SMOA_ERR_FORMAT) fail_msg("prefix of %zu bytes: status %d (%s)", len, st, err.message);
        assert_true(strlen(err.message) > 0);
        free(copy);
    }
    free(f.data);
}

static void expect_format_error(file_bytes f, const char *needle) {
    smoa_error err = {0};
    smoa_status st = open_bytes(f, &err);
    if (st != SMOA_ERR_FORMAT || !strstr(err.message, needle))
        fail_msg("expected format error mentioning '%s', got %d: %s", needle, st, err.message);
}

static void test_bad_magic_and_version(void **state) {
    (void)state;
    file_bytes f = build_sample();
    f.data[0] = 'X';
    expect_format_error(f, "magic");
    f.data[0] = 'G';
    put_u32_at(f, 4, 1);
    smoa_error err = {0};
    assert_int_equal(open_bytes(f, &err), SMOA_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "version 1"));
    put_u32_at(f, 4, 0x03000000); /* a big-endian file's version */
    assert_int_equal(open_bytes(f, &err), SMOA_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "big-endian"));
    free(f.data);
}

static void test_hostile_counts(void **state) {
    (void)state;
    file_bytes f = build_sample();
    put_u64_at(f, 8, UINT64_MAX); /* tensor count */
    expect_format_error(f, "more than");
    put_u64_at(f, 8, 2);
    put_u64_at(f, 16, UINT64_C(1) << 60); /* metadata count */
    expect_format_error(f, "more than");
    put_u64_at(f, 16, 8);
    put_u64_at(f, 24, UINT64_MAX); /* first key's length */
    expect_format_error(f, "metadata key");
    free(f.data);
}

static void test_bad_values(void **state) {
    (void)state;
    file_bytes f = build_sample();
    size_t flag_end = offset_after_kv(f, "flag");
    f.data[flag_end - 1] = 2; /* a bool must be 0 or 1 */
    expect_format_error(f, "bool");
    f.data[flag_end - 1] = 1;
    size_t type_at = 24 + 8 + strlen("general.architecture");
    put_u32_at(f, type_at, 13); /* no such value type */
    expect_format_error(f, "invalid value type");
    put_u32_at(f, type_at, SMOA_GGUF_STRING);
    size_t ints_elem_type = offset_after_kv(f, "words") + 8 + 4 + 4;
    put_u32_at(f, ints_elem_type, 99);
    expect_format_error(f, "invalid value type");
    put_u32_at(f, ints_elem_type, SMOA_GGUF_INT32);
    put_u64_at(f, ints_elem_type + 4, UINT64_C(1) << 62); /* array count */
    expect_format_error(f, "ints");
    free(f.data);
}

static void test_duplicate_key_and_bad_alignment(void **state) {
    (void)state;
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_u32(w, "k", 1);
    smoa_gguf_writer_add_u32(w, "k", 2);
    file_bytes f = finish(w);
    expect_format_error(f, "appears twice");
    free(f.data);

    w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_u32(w, "general.alignment", 48);
    f = finish(w);
    expect_format_error(f, "power of two");
    free(f.data);

    w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_u64(w, "general.alignment", 32);
    f = finish(w);
    expect_format_error(f, "must be u32");
    free(f.data);
}

static void test_nested_arrays_depth_limited(void **state) {
    (void)state;
    /* header + key "n" + ARRAY of ARRAY of ... 20 deep, each count 1 */
    uint8_t buf[512] = {0};
    size_t p = 0;
    memcpy(buf, "GGUF", 4);
    p = 4;
    uint32_t v3 = 3;
    uint64_t zero = 0, one = 1;
    memcpy(buf + p, &v3, 4), p += 4;
    memcpy(buf + p, &zero, 8), p += 8;
    memcpy(buf + p, &one, 8), p += 8;
    memcpy(buf + p, &one, 8), p += 8;
    buf[p++] = 'n';
    uint32_t arr = SMOA_GGUF_ARRAY;
    memcpy(buf + p, &arr, 4), p += 4;
    for (int depth = 0; depth < 20; depth++) {
        memcpy(buf + p, &arr, 4), p += 4;
        memcpy(buf + p, &one, 8), p += 8;
    }
    file_bytes f = {buf, sizeof buf};
    expect_format_error(f, "nested deeper");
}

/* One tensor "t" of the given type and dims; data sized from the dims when
 * the type is supported, else one byte. */
static file_bytes build_one_tensor(uint32_t type, uint32_t n_dims, const uint64_t *ne) {
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    uint8_t data[4096] = {0};
    if (!smoa_gguf_writer_add_tensor(w, "t", type, n_dims, ne, data)) {
        /* unsupported type: write a valid F32 tensor and patch the type */
        const uint64_t one[] = {1};
        assert_true(smoa_gguf_writer_add_tensor(w, "t", SMOA_TYPE_F32, 1, one, data));
    }
    return finish(w);
}

/* Tensor info of the single-tensor file: name at 24, then n_dims. */
enum { T_NDIMS = 24 + 8 + 1, T_DIM0 = T_NDIMS + 4 };

static void test_bad_tensor_infos(void **state) {
    (void)state;
    const uint64_t ne[] = {32, 4};
    file_bytes f = build_one_tensor(SMOA_TYPE_F32, 2, ne);
    size_t type_at = T_DIM0 + 16;
    size_t offset_at = type_at + 4;

    put_u32_at(f, T_NDIMS, 0);
    expect_format_error(f, "dimensions");
    put_u32_at(f, T_NDIMS, 5);
    expect_format_error(f, "dimensions");
    put_u32_at(f, T_NDIMS, 2);

    put_u64_at(f, T_DIM0, 0);
    expect_format_error(f, "zero or overflows");
    put_u64_at(f, T_DIM0, UINT64_C(1) << 62);
    put_u64_at(f, T_DIM0 + 8, UINT64_C(1) << 10);
    expect_format_error(f, "zero or overflows");
    put_u64_at(f, T_DIM0, 32);
    put_u64_at(f, T_DIM0 + 8, 4);

    put_u32_at(f, type_at, 200);
    expect_format_error(f, "unknown tensor type id 200");
    put_u32_at(f, type_at, 16); /* IQ2_XXS: a real type we do not support */
    smoa_error err = {0};
    assert_int_equal(open_bytes(f, &err), SMOA_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "IQ2_XXS"));
    assert_non_null(strstr(err.message, "'t'"));
    put_u32_at(f, type_at, SMOA_TYPE_Q4_0); /* 32 is a whole block: valid but data size changes */
    put_u64_at(f, T_DIM0, 33);
    expect_format_error(f, "block size");
    put_u64_at(f, T_DIM0, 32);
    put_u32_at(f, type_at, SMOA_TYPE_F32);

    put_u64_at(f, offset_at, 8); /* not aligned */
    expect_format_error(f, "alignment");
    put_u64_at(f, offset_at, 1u << 20); /* past the end */
    expect_format_error(f, "past end of file");
    put_u64_at(f, offset_at, 0);
    assert_int_equal(open_bytes(f, NULL), SMOA_OK);
    free(f.data);
}

static void test_overlap_and_duplicate_tensors(void **state) {
    (void)state;
    float data[32] = {0};
    const uint64_t ne[] = {32};
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_tensor(w, "x", SMOA_TYPE_F32, 1, ne, data);
    smoa_gguf_writer_add_tensor(w, "y", SMOA_TYPE_F32, 1, ne, data);
    file_bytes f = finish(w);
    /* second info: name "y" at 24 + (8+1+4+8+4+8) */
    size_t second = 24 + 33;
    put_u64_at(f, second + 8 + 1 + 4 + 8 + 4, 0); /* y's offset = x's */
    expect_format_error(f, "overlaps");
    f.data[second + 8] = 'x';
    expect_format_error(f, "appears twice");
    free(f.data);
}

static void test_open_file_errors(void **state) {
    (void)state;
    smoa_gguf *g;
    smoa_error err = {0};
    assert_int_equal(smoa_gguf_open_file("/nonexistent/model.gguf", &g, &err), SMOA_ERR_IO);
    assert_null(g);
    assert_non_null(strstr(err.message, "/nonexistent/model.gguf"));
    assert_int_equal(smoa_gguf_open_file("/", &g, &err), SMOA_ERR_IO);

    char path[] = "/tmp/smoa_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(smoa_gguf_open_file(path, &g, &err), SMOA_ERR_FORMAT);
    assert_non_null(strstr(err.message, "empty"));

    file_bytes f = build_sample();
    FILE *out = fopen(path, "wb");
    fwrite(f.data, 1, f.size - 64, out); /* cut into the last tensor's data (not just its padding) */
    fclose(out);
    assert_int_equal(smoa_gguf_open_file(path, &g, &err), SMOA_ERR_FORMAT);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "tensor 'b'"));

    out = fopen(path, "wb");
    fwrite(f.data, 1, f.size, out);
    fclose(out);
    assert_int_equal(smoa_gguf_open_file(path, &g, &err), SMOA_OK);
    assert_int_equal(g->n_tensors, 2);
    smoa_gguf_close(g);
    unlink(path);
    free(f.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_sample),
        cmocka_unit_test(test_formats_values),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_bad_magic_and_version),
        cmocka_unit_test(test_hostile_counts),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_duplicate_key_and_bad_alignment),
        cmocka_unit_test(test_nested_arrays_depth_limited),
        cmocka_unit_test(test_bad_tensor_infos),
        cmocka_unit_test(test_overlap_and_duplicate_tensors),
        cmocka_unit_test(test_open_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
