/* gguf.c - validating GGUF v3 reader over a memory map.
 *
 * File layout (all little-endian):
 *   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv x       { string key | u32 type | value }
 *   n_tensors x  { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
 *   zero padding to `alignment` | tensor data (each tensor at data_offset + offset)
 * A string is u64 length + bytes (no NUL); an array is u32 element type +
 * u64 count + elements.
 *
 * Every read goes through a cursor that checks the remaining bytes first, so
 * a truncated or hostile file fails with a message naming the field and its
 * offset instead of reading out of bounds. */
#include "model/gguf.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/tensor_types.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_KEY_LEN 65535
#define GGUF_MAX_TENSOR_NAME_LEN 64
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_ARRAY_DEPTH 8 /* nested arrays deeper than this are hostile */

/* ------------------------------------------------------------------------ */
/* Bounds-checked cursor                                                    */

typedef struct cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    smoa_error *err;
} cursor;

static bool cursor_fail(cursor *c, const char *what, uint64_t need) {
    smoa_error_set(c->err, SMOA_ERR_FORMAT,
                   "%s at offset %" PRIu64 ": needs %" PRIu64 " bytes but the file ends at %" PRIu64
                   " (truncated or corrupt)",
                   what, c->pos, need, c->size);
    return false;
}

static bool cursor_skip(cursor *c, uint64_t n, const char *what) {
    if (n > c->size - c->pos) return cursor_fail(c, what, n);
    c->pos += n;
    return true;
}

static bool cursor_read(cursor *c, void *dst, uint64_t n, const char *what) {
    if (n > c->size - c->pos) return cursor_fail(c, what, n);
    memcpy(dst, c->base + c->pos, n);
    c->pos += n;
    return true;
}

static bool read_u32(cursor *c, uint32_t *v, const char *what) { return cursor_read(c, v, 4, what); }
static bool read_u64(cursor *c, uint64_t *v, const char *what) { return cursor_read(c, v, 8, what); }

/* A string's bytes stay in the map; only their position is returned. */
static bool read_str(cursor *c, smoa_gguf_str *s, uint64_t max_len, const char *what) {
    uint64_t len;
    uint64_t at = c->pos;
    if (!read_u64(c, &len, what)) return false;
    if (len > max_len) {
        smoa_error_set(c->err, SMOA_ERR_FORMAT,
                       "%s at offset %" PRIu64 ": length %" PRIu64 " exceeds the limit of %" PRIu64,
                       what, at, len, max_len);
        return false;
    }
    s->data = (const char *)c->base + c->pos;
    s->len = len;
    return cursor_skip(c, len, what);
}

static char *str_dup(smoa_gguf_str s) {
    char *copy = malloc(s.len + 1);
    if (!copy) return NULL;
    memcpy(copy, s.data, s.len);
    copy[s.len] = '\0';
    return copy;
}

/* ------------------------------------------------------------------------ */
/* Metadata values                                                          */

static const struct {
    const char *name;
    uint32_t size; /* bytes of a scalar; 0 for string and array */
} value_types[SMOA_GGUF_TYPE_COUNT] = {
    [SMOA_GGUF_UINT8] = {"u8", 1},    [SMOA_GGUF_INT8] = {"i8", 1},
    [SMOA_GGUF_UINT16] = {"u16", 2},  [SMOA_GGUF_INT16] = {"i16", 2},
    [SMOA_GGUF_UINT32] = {"u32", 4},  [SMOA_GGUF_INT32] = {"i32", 4},
    [SMOA_GGUF_FLOAT32] = {"f32", 4}, [SMOA_GGUF_BOOL] = {"bool", 1},
    [SMOA_GGUF_STRING] = {"str", 0},  [SMOA_GGUF_ARRAY] = {"arr", 0},
    [SMOA_GGUF_UINT64] = {"u64", 8},  [SMOA_GGUF_INT64] = {"i64", 8},
    [SMOA_GGUF_FLOAT64] = {"f64", 8},
};

const char *smoa_gguf_type_name(uint32_t type) {
    return type < SMOA_GGUF_TYPE_COUNT ? value_types[type].name : "invalid";
}

static bool skip_value(cursor *c, uint32_t type, int depth, const char *key);

static bool check_value_type(cursor *c, uint32_t type, const char *key) {
    if (type < SMOA_GGUF_TYPE_COUNT) return true;
    smoa_error_set(c->err, SMOA_ERR_FORMAT,
                   "metadata '%s' at offset %" PRIu64 ": invalid value type %" PRIu32, key,
                   c->pos, type);
    return false;
}

/* Skips count elements of type, checking each (strings, bools, nesting). */
static bool skip_elements(cursor *c, uint32_t type, uint64_t count, int depth, const char *key) {
    uint32_t size = value_types[type].size;
    if (size && type != SMOA_GGUF_BOOL) {
        if (count > (c->size - c->pos) / size) return cursor_fail(c, key, count * (uint64_t)size);
        c->pos += count * size;
        return true;
    }
    for (uint64_t i = 0; i < count; i++)
        if (!skip_value(c, type, depth, key)) return false;
    return true;
}

/* Validates one encoded value of `type` and moves past it. */
static bool skip_value(cursor *c, uint32_t type, int depth, const char *key) {
    switch (type) {
    case SMOA_GGUF_STRING: {
        smoa_gguf_str s;
        return read_str(c, &s, UINT64_MAX, key);
    }
    case SMOA_GGUF_BOOL: {
        uint8_t b;
        if (!cursor_read(c, &b, 1, key)) return false;
        if (b > 1) {
            smoa_error_set(c->err, SMOA_ERR_FORMAT,
                           "metadata '%s' at offset %" PRIu64 ": bool value %u is not 0 or 1", key,
                           c->pos - 1, b);
            return false;
        }
        return true;
    }
    case SMOA_GGUF_ARRAY: {
        uint32_t elem_type;
        uint64_t count;
        if (depth >= GGUF_MAX_ARRAY_DEPTH) {
            smoa_error_set(c->err, SMOA_ERR_FORMAT,
                           "metadata '%s' at offset %" PRIu64 ": arrays nested deeper than %d",
                           key, c->pos, GGUF_MAX_ARRAY_DEPTH);
            return false;
        }
        if (!read_u32(c, &elem_type, key) || !check_value_type(c, elem_type, key)) return false;
        if (!read_u64(c, &count, key)) return false;
        return skip_elements(c, elem_type, count, depth + 1, key);
    }
    default:
        return cursor_skip(c, value_types[type].size, key);
    }
}

static bool parse_kv(cursor *c, smoa_gguf_kv *kv) {
    smoa_gguf_str key;
    uint64_t at = c->pos;
    if (!read_str(c, &key, GGUF_MAX_KEY_LEN, "metadata key")) return false;
    if (key.len == 0) {
        smoa_error_set(c->err, SMOA_ERR_FORMAT, "metadata key at offset %" PRIu64 " is empty", at);
        return false;
    }
    kv->key = str_dup(key);
    if (!kv->key) {
        smoa_error_set(c->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory reading metadata keys");
        return false;
    }
    if (!read_u32(c, &kv->type, kv->key) || !check_value_type(c, kv->type, kv->key)) return false;
    if (kv->type == SMOA_GGUF_ARRAY) {
        if (!read_u32(c, &kv->array_type, kv->key) || !check_value_type(c, kv->array_type, kv->key))
            return false;
        if (!read_u64(c, &kv->array_count, kv->key)) return false;
        kv->value = c->base + c->pos;
        if (!skip_elements(c, kv->array_type, kv->array_count, 1, kv->key)) return false;
    } else {
        kv->value = c->base + c->pos;
        if (!skip_value(c, kv->type, 0, kv->key)) return false;
    }
    kv->value_bytes = (uint64_t)(c->base + c->pos - kv->value);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Tensor infos                                                             */

static bool tensor_fail(cursor *c, smoa_status status, const smoa_gguf_tensor *t, const char *fmt,
                        uint64_t a, uint64_t b) {
    char detail[256];
    snprintf(detail, sizeof detail, fmt, a, b);
    smoa_error_set(c->err, status, "tensor '%s': %s", t->name, detail);
    return false;
}

static bool parse_dims(cursor *c, smoa_gguf_tensor *t) {
    if (!read_u32(c, &t->n_dims, t->name)) return false;
    if (t->n_dims == 0 || t->n_dims > GGUF_MAX_DIMS)
        return tensor_fail(c, SMOA_ERR_FORMAT, t, "%" PRIu64 " dimensions (must be 1 to %" PRIu64 ")",
                           t->n_dims, GGUF_MAX_DIMS);
    t->n_elements = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && !read_u64(c, &t->ne[d], t->name)) return false;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX / t->n_elements)
            return tensor_fail(c, SMOA_ERR_FORMAT, t,
                               "dimension %" PRIu64 " of size %" PRIu64 " is zero or overflows",
                               d, t->ne[d]);
        t->n_elements *= t->ne[d];
    }
    return true;
}

static bool check_tensor_type(cursor *c, smoa_gguf_tensor *t) {
    const smoa_type_traits *traits = smoa_type_traits_get(t->type);
    if (!traits) {
        const char *name = smoa_type_name_any(t->type);
        if (name) {
            smoa_error_set(c->err, SMOA_ERR_UNSUPPORTED,
                           "tensor '%s': type %s (%" PRIu32 ") is not supported", t->name, name,
                           t->type);
        } else {
            smoa_error_set(c->err, SMOA_ERR_FORMAT, "tensor '%s': unknown tensor type id %" PRIu32,
                           t->name, t->type);
        }
        return false;
    }
    uint64_t row_bytes;
    if (!smoa_type_row_bytes(t->type, t->ne[0], &row_bytes))
        return tensor_fail(c, SMOA_ERR_FORMAT, t,
                           "row length %" PRIu64 " is not a multiple of the block size %" PRIu64,
                           t->ne[0], traits->block_size);
    uint64_t rows = t->n_elements / t->ne[0];
    if (row_bytes && rows > UINT64_MAX / row_bytes)
        return tensor_fail(c, SMOA_ERR_FORMAT, t, "size overflows (%" PRIu64 " rows of %" PRIu64 " bytes)",
                           rows, row_bytes);
    t->n_bytes = rows * row_bytes;
    return true;
}

static bool parse_tensor_info(cursor *c, smoa_gguf_tensor *t) {
    smoa_gguf_str name;
    if (!read_str(c, &name, GGUF_MAX_TENSOR_NAME_LEN, "tensor name")) return false;
    t->name = str_dup(name);
    if (!t->name) {
        smoa_error_set(c->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory reading tensor names");
        return false;
    }
    return parse_dims(c, t) && read_u32(c, &t->type, t->name) && check_tensor_type(c, t) &&
           read_u64(c, &t->offset, t->name);
}

/* ------------------------------------------------------------------------ */
/* Whole-file checks                                                        */

static bool find_duplicate_keys(const smoa_gguf *g, smoa_error *err) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->kv[i].key, g->kv[j].key) == 0) {
                smoa_error_set(err, SMOA_ERR_FORMAT, "metadata key '%s' appears twice", g->kv[i].key);
                return true;
            }
    return false;
}

static bool read_alignment(smoa_gguf *g, smoa_error *err) {
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, "general.alignment");
    if (!kv) return true;
    uint32_t a;
    if (kv->type != SMOA_GGUF_UINT32) {
        smoa_error_set(err, SMOA_ERR_FORMAT, "general.alignment has type %s (must be u32)",
                       smoa_gguf_type_name(kv->type));
        return false;
    }
    memcpy(&a, kv->value, 4);
    if (a == 0 || (a & (a - 1)) != 0) {
        smoa_error_set(err, SMOA_ERR_FORMAT, "general.alignment %" PRIu32 " is not a power of two", a);
        return false;
    }
    g->alignment = a;
    return true;
}

static int compare_by_offset(const void *a, const void *b) {
    const smoa_gguf_tensor *ta = *(const smoa_gguf_tensor *const *)a;
    const smoa_gguf_tensor *tb = *(const smoa_gguf_tensor *const *)b;
    return ta->offset < tb->offset ? -1 : ta->offset > tb->offset;
}

/* Each tensor aligned, inside the file, and not overlapping another. */
static bool place_tensors(smoa_gguf *g, smoa_error *err) {
    uint64_t data_bytes = g->size - g->data_offset;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        smoa_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0) {
            smoa_error_set(err, SMOA_ERR_FORMAT,
                           "tensor '%s': data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                           t->name, t->offset, g->alignment);
            return false;
        }
        if (t->offset > data_bytes || t->n_bytes > data_bytes - t->offset) {
            smoa_error_set(err, SMOA_ERR_FORMAT,
                           "tensor '%s': data runs past end of file (offset %" PRIu64 ", size %" PRIu64
                           ", file %" PRIu64 ")",
                           t->name, g->data_offset + t->offset, t->n_bytes, g->size);
            return false;
        }
        t->data = g->map + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2) return true;
    smoa_gguf_tensor **order = malloc(g->n_tensors * sizeof *order);
    if (!order) {
        smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        return false;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
    qsort(order, g->n_tensors, sizeof *order, compare_by_offset);
    bool ok = true;
    for (uint64_t i = 1; i < g->n_tensors && ok; i++) {
        const smoa_gguf_tensor *prev = order[i - 1], *t = order[i];
        if (prev->offset + prev->n_bytes > t->offset) {
            smoa_error_set(err, SMOA_ERR_FORMAT, "tensor '%s' overlaps tensor '%s'", t->name, prev->name);
            ok = false;
        }
    }
    free(order);
    return ok;
}

static bool find_duplicate_tensors(const smoa_gguf *g, smoa_error *err) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->tensors[i].name, g->tensors[j].name) == 0) {
                smoa_error_set(err, SMOA_ERR_FORMAT, "tensor '%s' appears twice", g->tensors[i].name);
                return true;
            }
    return false;
}

/* Reads the fixed header; rejects counts that could not fit in the file
 * before anything is allocated for them. */
static bool parse_header(cursor *c, smoa_gguf *g) {
    char magic[4];
    if (!cursor_read(c, magic, 4, "magic")) return false;
    if (memcmp(magic, GGUF_MAGIC, 4) != 0) {
        smoa_error_set(c->err, SMOA_ERR_FORMAT, "not a GGUF file (magic is not \"GGUF\")");
        return false;
    }
    if (!read_u32(c, &g->version, "version")) return false;
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xFFFF) == 0)
            smoa_error_set(c->err, SMOA_ERR_UNSUPPORTED,
                           "GGUF file is big-endian (version field 0x%08" PRIx32 ")", g->version);
        else
            smoa_error_set(c->err, SMOA_ERR_UNSUPPORTED,
                           "GGUF version %" PRIu32 " is not supported (need 2 or 3)", g->version);
        return false;
    }
    if (!read_u64(c, &g->n_tensors, "tensor count") || !read_u64(c, &g->n_kv, "metadata count"))
        return false;
    /* smallest encodings: kv = 8 (key len) + 1 + 4 + 1; tensor info = 8 + 1 + 4 + 8 + 4 + 8 */
    uint64_t left = c->size - c->pos;
    if (g->n_kv > left / 14 || g->n_tensors > left / 33) {
        smoa_error_set(c->err, SMOA_ERR_FORMAT,
                       "header claims %" PRIu64 " metadata entries and %" PRIu64
                       " tensors, more than a %" PRIu64 "-byte file can hold (truncated or corrupt)",
                       g->n_kv, g->n_tensors, c->size);
        return false;
    }
    return true;
}

static smoa_status parse(smoa_gguf *g, smoa_error *err) {
    cursor c = {g->map, g->size, 0, err};
    if (!parse_header(&c, g)) return err->status;
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (!parse_kv(&c, &g->kv[i])) return err->status;
    if (find_duplicate_keys(g, err) || !read_alignment(g, err)) return err->status;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!parse_tensor_info(&c, &g->tensors[i])) return err->status;
    if (find_duplicate_tensors(g, err)) return err->status;
    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    if (g->n_tensors > 0 && pad > c.size - c.pos)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tensor data section (offset %" PRIu64 ") starts past end of file (%" PRIu64 ")",
                              c.pos + pad, c.size);
    g->data_offset = g->n_tensors > 0 ? c.pos + pad : c.pos;
    if (!place_tensors(g, err)) return err->status;
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */

smoa_status smoa_gguf_open_memory(const void *data, size_t size, smoa_gguf **out, smoa_error *err) {
    *out = NULL;
    if (!data && size) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "NULL buffer");
    smoa_gguf *g = calloc(1, sizeof *g);
    if (!g) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    g->map = data;
    g->size = size;
    smoa_error local;
    smoa_error *e = err ? err : &local;
    smoa_status st = parse(g, e);
    if (st != SMOA_OK) {
        smoa_gguf_close(g);
        return st;
    }
    *out = g;
    return SMOA_OK;
}

smoa_status smoa_gguf_open_file(const char *path, smoa_gguf **out, smoa_error *err) {
    *out = NULL;
    if (!path) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "model path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return smoa_error_set(err, SMOA_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return smoa_error_set(err, SMOA_ERR_IO, "'%s' is not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return smoa_error_set(err, SMOA_ERR_FORMAT, "'%s' is empty", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED)
        return smoa_error_set(err, SMOA_ERR_IO, "cannot map '%s': %s", path, strerror(map_errno));
    smoa_status status = smoa_gguf_open_memory(map, (size_t)st.st_size, out, err);
    if (status != SMOA_OK) {
        munmap(map, (size_t)st.st_size);
        if (err) {
            /* name the file in front of the detail */
            char detail[sizeof err->message];
            memcpy(detail, err->message, sizeof detail);
            smoa_error_set(err, status, "%s: %s", path, detail);
        }
        return status;
    }
    (*out)->owns_map = true;
    return SMOA_OK;
}

void smoa_gguf_close(smoa_gguf *g) {
    if (!g) return;
    if (g->kv)
        for (uint64_t i = 0; i < g->n_kv; i++) free(g->kv[i].key);
    if (g->tensors)
        for (uint64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->owns_map) munmap((void *)g->map, g->size);
    free(g);
}

/* ------------------------------------------------------------------------ */
/* Lookups and typed reads                                                  */

const smoa_gguf_kv *smoa_gguf_find_kv(const smoa_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

const smoa_gguf_tensor *smoa_gguf_find_tensor(const smoa_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

/* Decodes one numeric scalar of `type` at p: integers into *i (and *is_int),
 * floats into *f. False for non-numeric types. */
static bool decode_number(uint32_t type, const uint8_t *p, int64_t *i, uint64_t *u, double *f,
                          bool *is_int) {
    union {
        uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
        uint64_t u64; int64_t i64; float f32; double f64;
    } v;
    if (type >= SMOA_GGUF_TYPE_COUNT || value_types[type].size == 0 || type == SMOA_GGUF_BOOL)
        return false;
    memcpy(&v, p, value_types[type].size);
    *is_int = true;
    *u = 0;
    switch (type) {
    case SMOA_GGUF_UINT8: *i = v.u8; break;
    case SMOA_GGUF_INT8: *i = v.i8; break;
    case SMOA_GGUF_UINT16: *i = v.u16; break;
    case SMOA_GGUF_INT16: *i = v.i16; break;
    case SMOA_GGUF_UINT32: *i = v.u32; break;
    case SMOA_GGUF_INT32: *i = v.i32; break;
    case SMOA_GGUF_INT64: *i = v.i64; break;
    case SMOA_GGUF_UINT64:
        *u = v.u64;
        *i = v.u64 > (uint64_t)INT64_MAX ? -1 : (int64_t)v.u64;
        break;
    case SMOA_GGUF_FLOAT32: *f = v.f32; *is_int = false; break;
    case SMOA_GGUF_FLOAT64: *f = v.f64; *is_int = false; break;
    default: return false;
    }
    if (*is_int) {
        if (type != SMOA_GGUF_UINT64) *u = *i < 0 ? 0 : (uint64_t)*i;
        *f = type == SMOA_GGUF_UINT64 ? (double)*u : (double)*i;
    }
    return true;
}

bool smoa_gguf_kv_u64(const smoa_gguf_kv *kv, uint64_t *out) {
    int64_t i; uint64_t u; double f; bool is_int;
    if (!kv || !decode_number(kv->type, kv->value, &i, &u, &f, &is_int) || !is_int) return false;
    if (kv->type != SMOA_GGUF_UINT64 && i < 0) return false;
    *out = u;
    return true;
}

bool smoa_gguf_kv_i64(const smoa_gguf_kv *kv, int64_t *out) {
    int64_t i; uint64_t u; double f; bool is_int;
    if (!kv || !decode_number(kv->type, kv->value, &i, &u, &f, &is_int) || !is_int) return false;
    if (kv->type == SMOA_GGUF_UINT64 && u > (uint64_t)INT64_MAX) return false;
    *out = i;
    return true;
}

bool smoa_gguf_kv_f64(const smoa_gguf_kv *kv, double *out) {
    int64_t i; uint64_t u; double f; bool is_int;
    if (!kv || !decode_number(kv->type, kv->value, &i, &u, &f, &is_int) || is_int) return false;
    *out = f;
    return true;
}

bool smoa_gguf_kv_bool(const smoa_gguf_kv *kv, bool *out) {
    if (!kv || kv->type != SMOA_GGUF_BOOL) return false;
    *out = kv->value[0] != 0;
    return true;
}

/* Strings were validated at open, so decoding needs no checks. */
static smoa_gguf_str decode_str(const uint8_t *p) {
    smoa_gguf_str s;
    memcpy(&s.len, p, 8);
    s.data = (const char *)p + 8;
    return s;
}

bool smoa_gguf_kv_str(const smoa_gguf_kv *kv, smoa_gguf_str *out) {
    if (!kv || kv->type != SMOA_GGUF_STRING) return false;
    *out = decode_str(kv->value);
    return true;
}

bool smoa_gguf_kv_str_array(const smoa_gguf_kv *kv, smoa_gguf_str *out) {
    if (!kv || kv->type != SMOA_GGUF_ARRAY || kv->array_type != SMOA_GGUF_STRING) return false;
    const uint8_t *p = kv->value;
    for (uint64_t i = 0; i < kv->array_count; i++) {
        out[i] = decode_str(p);
        p += 8 + out[i].len;
    }
    return true;
}

static const uint8_t *numeric_element(const smoa_gguf_kv *kv, uint64_t i) {
    if (!kv || kv->type != SMOA_GGUF_ARRAY || i >= kv->array_count) return NULL;
    uint32_t size = kv->array_type < SMOA_GGUF_TYPE_COUNT ? value_types[kv->array_type].size : 0;
    return size ? kv->value + i * size : NULL;
}

bool smoa_gguf_kv_array_i64(const smoa_gguf_kv *kv, uint64_t i, int64_t *out) {
    const uint8_t *p = numeric_element(kv, i);
    int64_t v; uint64_t u; double f; bool is_int;
    if (!p || !decode_number(kv->array_type, p, &v, &u, &f, &is_int) || !is_int) return false;
    *out = v;
    return true;
}

bool smoa_gguf_kv_array_f64(const smoa_gguf_kv *kv, uint64_t i, double *out) {
    const uint8_t *p = numeric_element(kv, i);
    int64_t v; uint64_t u; bool is_int;
    if (!p || !decode_number(kv->array_type, p, &v, &u, out, &is_int)) return false;
    return true;
}

bool smoa_gguf_get_u64(const smoa_gguf *g, const char *key, uint64_t *out) {
    return smoa_gguf_kv_u64(smoa_gguf_find_kv(g, key), out);
}

bool smoa_gguf_get_f64(const smoa_gguf *g, const char *key, double *out) {
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, key);
    uint64_t u;
    if (smoa_gguf_kv_f64(kv, out)) return true;
    if (!smoa_gguf_kv_u64(kv, &u)) return false;
    *out = (double)u;
    return true;
}

bool smoa_gguf_get_bool(const smoa_gguf *g, const char *key, bool *out) {
    return smoa_gguf_kv_bool(smoa_gguf_find_kv(g, key), out);
}

bool smoa_gguf_get_str(const smoa_gguf *g, const char *key, smoa_gguf_str *out) {
    return smoa_gguf_kv_str(smoa_gguf_find_kv(g, key), out);
}

/* ------------------------------------------------------------------------ */
/* Formatting values as text                                                */

typedef struct text_out {
    char *buf;
    size_t cap;
    size_t len; /* full length, even past cap */
} text_out;

static void out_bytes(text_out *o, const char *s, size_t n) {
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void out_printf(text_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void out_printf(text_out *o, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) out_bytes(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void format_scalar(text_out *o, uint32_t type, const uint8_t *p) {
    int64_t i; uint64_t u; double f; bool is_int;
    if (type == SMOA_GGUF_BOOL) {
        out_printf(o, "%s", p[0] ? "true" : "false");
    } else if (decode_number(type, p, &i, &u, &f, &is_int)) {
        if (!is_int) out_printf(o, "%.9g", f);
        else if (type == SMOA_GGUF_UINT64) out_printf(o, "%" PRIu64, u);
        else out_printf(o, "%" PRId64, i);
    }
}

enum { FORMAT_ARRAY_HEAD = 8 }; /* elements shown before "..." */

static void format_array(text_out *o, const smoa_gguf_kv *kv) {
    out_bytes(o, "[", 1);
    const uint8_t *p = kv->value;
    uint64_t shown = kv->array_count < FORMAT_ARRAY_HEAD ? kv->array_count : FORMAT_ARRAY_HEAD;
    for (uint64_t i = 0; i < shown; i++) {
        if (i) out_bytes(o, ", ", 2);
        if (kv->array_type == SMOA_GGUF_STRING) {
            smoa_gguf_str s = decode_str(p);
            out_bytes(o, "\"", 1);
            out_bytes(o, s.data, s.len > 64 ? 64 : (size_t)s.len);
            out_bytes(o, "\"", 1);
            p += 8 + s.len;
        } else if (kv->array_type == SMOA_GGUF_ARRAY) {
            out_bytes(o, "[...]", 5);
            shown = i + 1; /* nested arrays: show that one exists, no more */
            break;
        } else {
            format_scalar(o, kv->array_type, p);
            p += value_types[kv->array_type].size;
        }
    }
    if (kv->array_count > shown) out_printf(o, ", ... (%" PRIu64 " items)", kv->array_count);
    out_bytes(o, "]", 1);
}

size_t smoa_gguf_kv_format(const smoa_gguf_kv *kv, char *buf, size_t cap) {
    text_out o = {buf, cap, 0};
    if (kv->type == SMOA_GGUF_STRING) {
        smoa_gguf_str s = decode_str(kv->value);
        out_bytes(&o, s.data, s.len);
    } else if (kv->type == SMOA_GGUF_ARRAY) {
        format_array(&o, kv);
    } else {
        format_scalar(&o, kv->type, kv->value);
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
