/* gguf_writer.c - GGUF v3 serialization (layout: see gguf.c). */
#include "model/gguf_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "model/gguf.h"
#include "model/tensor_types.h"

#define WRITER_ALIGNMENT 32

typedef struct pending_tensor {
    char *name;
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[4];
    uint64_t n_bytes;
    uint8_t *data;
} pending_tensor;

struct smoa_gguf_writer {
    smoa_strbuf kv;       /* encoded metadata entries, in order */
    uint64_t n_kv;
    pending_tensor *tensors;
    size_t n_tensors, cap_tensors;
    bool failed;          /* an add ran out of memory */
};

smoa_gguf_writer *smoa_gguf_writer_new(void) { return calloc(1, sizeof(smoa_gguf_writer)); }

void smoa_gguf_writer_free(smoa_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    smoa_strbuf_free(&w->kv);
    free(w);
}

/* ------------------------------------------------------------------------ */
/* Little-endian encoding into a strbuf (the host is little-endian: x86-64,
 * aarch64; values are copied as they are in memory). */

static bool put(smoa_strbuf *sb, const void *p, size_t n) { return smoa_strbuf_append(sb, p, n); }
static bool put_u32(smoa_strbuf *sb, uint32_t v) { return put(sb, &v, 4); }
static bool put_u64(smoa_strbuf *sb, uint64_t v) { return put(sb, &v, 8); }
static bool put_str(smoa_strbuf *sb, const char *s) {
    size_t n = strlen(s);
    return put_u64(sb, n) && put(sb, s, n);
}

static bool begin_kv(smoa_gguf_writer *w, const char *key, uint32_t type) {
    w->n_kv++;
    return put_str(&w->kv, key) && put_u32(&w->kv, type);
}

static bool track(smoa_gguf_writer *w, bool ok) {
    if (!ok) w->failed = true;
    return ok;
}

bool smoa_gguf_writer_add_u32(smoa_gguf_writer *w, const char *key, uint32_t v) {
    return track(w, begin_kv(w, key, SMOA_GGUF_UINT32) && put_u32(&w->kv, v));
}
bool smoa_gguf_writer_add_u64(smoa_gguf_writer *w, const char *key, uint64_t v) {
    return track(w, begin_kv(w, key, SMOA_GGUF_UINT64) && put_u64(&w->kv, v));
}
bool smoa_gguf_writer_add_i32(smoa_gguf_writer *w, const char *key, int32_t v) {
    return track(w, begin_kv(w, key, SMOA_GGUF_INT32) && put(&w->kv, &v, 4));
}
bool smoa_gguf_writer_add_f32(smoa_gguf_writer *w, const char *key, float v) {
    return track(w, begin_kv(w, key, SMOA_GGUF_FLOAT32) && put(&w->kv, &v, 4));
}
bool smoa_gguf_writer_add_bool(smoa_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v;
    return track(w, begin_kv(w, key, SMOA_GGUF_BOOL) && put(&w->kv, &b, 1));
}
bool smoa_gguf_writer_add_str(smoa_gguf_writer *w, const char *key, const char *v) {
    return track(w, begin_kv(w, key, SMOA_GGUF_STRING) && put_str(&w->kv, v));
}

static bool begin_array(smoa_gguf_writer *w, const char *key, uint32_t elem_type, size_t n) {
    return begin_kv(w, key, SMOA_GGUF_ARRAY) && put_u32(&w->kv, elem_type) && put_u64(&w->kv, n);
}

bool smoa_gguf_writer_add_str_array(smoa_gguf_writer *w, const char *key,
                                    const char *const *items, size_t n) {
    bool ok = begin_array(w, key, SMOA_GGUF_STRING, n);
    for (size_t i = 0; ok && i < n; i++) ok = put_str(&w->kv, items[i]);
    return track(w, ok);
}

bool smoa_gguf_writer_add_i32_array(smoa_gguf_writer *w, const char *key,
                                    const int32_t *items, size_t n) {
    return track(w, begin_array(w, key, SMOA_GGUF_INT32, n) && put(&w->kv, items, n * 4));
}

bool smoa_gguf_writer_add_f32_array(smoa_gguf_writer *w, const char *key,
                                    const float *items, size_t n) {
    return track(w, begin_array(w, key, SMOA_GGUF_FLOAT32, n) && put(&w->kv, items, n * 4));
}

/* ------------------------------------------------------------------------ */
/* Tensors                                                                  */

static bool tensor_bytes(uint32_t type, uint32_t n_dims, const uint64_t *ne, uint64_t *out) {
    uint64_t rows = 1;
    if (n_dims == 0 || n_dims > 4 || !smoa_type_row_bytes(type, ne[0], out)) return false;
    for (uint32_t d = 1; d < n_dims; d++) {
        if (ne[d] == 0 || rows > UINT64_MAX / ne[d]) return false;
        rows *= ne[d];
    }
    if (*out && rows > UINT64_MAX / *out) return false;
    *out *= rows;
    return true;
}

bool smoa_gguf_writer_add_tensor(smoa_gguf_writer *w, const char *name, uint32_t type,
                                 uint32_t n_dims, const uint64_t *ne, const void *data) {
    pending_tensor t = {.type = type, .n_dims = n_dims, .ne = {1, 1, 1, 1}};
    if (!tensor_bytes(type, n_dims, ne, &t.n_bytes) || t.n_bytes > SIZE_MAX) return false;
    memcpy(t.ne, ne, n_dims * sizeof *ne);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 16;
        pending_tensor *grown = realloc(w->tensors, cap * sizeof *grown);
        if (!grown) return track(w, false);
        w->tensors = grown;
        w->cap_tensors = cap;
    }
    t.name = strdup(name);
    t.data = malloc(t.n_bytes ? t.n_bytes : 1);
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        return track(w, false);
    }
    memcpy(t.data, data, t.n_bytes);
    w->tensors[w->n_tensors++] = t;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Serialization                                                            */

static uint64_t align_up(uint64_t x) { return (x + WRITER_ALIGNMENT - 1) / WRITER_ALIGNMENT * WRITER_ALIGNMENT; }

static bool put_zeros(smoa_strbuf *sb, uint64_t n) {
    static const uint8_t zeros[WRITER_ALIGNMENT];
    return put(sb, zeros, n);
}

static bool encode(const smoa_gguf_writer *w, smoa_strbuf *out) {
    bool ok = put(out, "GGUF", 4) && put_u32(out, 3) && put_u64(out, w->n_tensors) &&
              put_u64(out, w->n_kv) && put(out, w->kv.data, w->kv.len);
    uint64_t offset = 0;
    for (size_t i = 0; ok && i < w->n_tensors; i++) {
        const pending_tensor *t = &w->tensors[i];
        ok = put_str(out, t->name) && put_u32(out, t->n_dims) &&
             put(out, t->ne, t->n_dims * sizeof t->ne[0]) && put_u32(out, t->type) &&
             put_u64(out, offset);
        offset = align_up(offset + t->n_bytes);
    }
    if (ok && w->n_tensors) ok = put_zeros(out, align_up(out->len) - out->len);
    for (size_t i = 0; ok && i < w->n_tensors; i++) {
        const pending_tensor *t = &w->tensors[i];
        ok = put(out, t->data, t->n_bytes) && put_zeros(out, align_up(t->n_bytes) - t->n_bytes);
    }
    return ok;
}

smoa_status smoa_gguf_writer_to_memory(const smoa_gguf_writer *w, uint8_t **out, size_t *out_size,
                                       smoa_error *err) {
    smoa_strbuf sb = {0};
    *out = NULL;
    *out_size = 0;
    if (w->failed || !encode(w, &sb)) {
        smoa_strbuf_free(&sb);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory building a GGUF file");
    }
    *out = (uint8_t *)sb.data;
    *out_size = sb.len;
    return SMOA_OK;
}

smoa_status smoa_gguf_writer_to_file(const smoa_gguf_writer *w, const char *path, smoa_error *err) {
    uint8_t *bytes;
    size_t size;
    smoa_status st = smoa_gguf_writer_to_memory(w, &bytes, &size, err);
    if (st != SMOA_OK) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(bytes);
        return smoa_error_set(err, SMOA_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    }
    bool ok = fwrite(bytes, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    free(bytes);
    if (!ok) return smoa_error_set(err, SMOA_ERR_IO, "cannot write '%s'", path);
    return SMOA_OK;
}
