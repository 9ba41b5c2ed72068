/* gguf.h - a validating reader for GGUF v3 files.
 *
 * smoa_gguf_open_* parses the whole header (metadata and tensor infos) once
 * and checks every count, length, offset and size against the file size with
 * overflow-safe arithmetic. After a successful open, every pointer handed out
 * here lies inside the mapping, so callers need no further bounds checks. */
#ifndef SMOA_MODEL_GGUF_H
#define SMOA_MODEL_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Metadata value types, as numbered in the file. */
enum smoa_gguf_type {
    SMOA_GGUF_UINT8 = 0,
    SMOA_GGUF_INT8 = 1,
    SMOA_GGUF_UINT16 = 2,
    SMOA_GGUF_INT16 = 3,
    SMOA_GGUF_UINT32 = 4,
    SMOA_GGUF_INT32 = 5,
    SMOA_GGUF_FLOAT32 = 6,
    SMOA_GGUF_BOOL = 7,
    SMOA_GGUF_STRING = 8,
    SMOA_GGUF_ARRAY = 9,
    SMOA_GGUF_UINT64 = 10,
    SMOA_GGUF_INT64 = 11,
    SMOA_GGUF_FLOAT64 = 12,
    SMOA_GGUF_TYPE_COUNT = 13
};

/* A string inside the file: not NUL-terminated. */
typedef struct smoa_gguf_str {
    const char *data;
    uint64_t len;
} smoa_gguf_str;

typedef struct smoa_gguf_kv {
    char *key;              /* NUL-terminated copy                          */
    uint32_t type;          /* enum smoa_gguf_type                          */
    const uint8_t *value;   /* encoded value in the map (for arrays: the
                               first element, after elem type and count)    */
    uint64_t value_bytes;   /* encoded size of the value (elements only)    */
    uint32_t array_type;    /* element type when type == ARRAY              */
    uint64_t array_count;   /* element count when type == ARRAY             */
} smoa_gguf_kv;

typedef struct smoa_gguf_tensor {
    char *name;             /* NUL-terminated copy                          */
    uint32_t n_dims;        /* 1..4                                         */
    uint64_t ne[4];         /* ne[0] is contiguous; unused dims are 1       */
    uint32_t type;          /* ggml type id (see tensor_types.h)            */
    uint64_t offset;        /* relative to the data section                 */
    uint64_t n_elements;
    uint64_t n_bytes;
    const void *data;       /* in the map                                   */
} smoa_gguf_tensor;

typedef struct smoa_gguf {
    const uint8_t *map;     /* the whole file                               */
    uint64_t size;          /* bytes                                        */
    bool owns_map;          /* munmap on close                              */
    uint32_t version;
    uint64_t alignment;     /* general.alignment or 32                      */
    uint64_t data_offset;   /* start of the tensor data section             */
    uint64_t n_kv;
    smoa_gguf_kv *kv;       /* [n_kv], file order                           */
    uint64_t n_tensors;
    smoa_gguf_tensor *tensors; /* [n_tensors], file order                   */
} smoa_gguf;

/* Maps and parses path. SMOA_ERR_IO when it cannot be read, SMOA_ERR_FORMAT
 * (message naming the field and offset) when it is not valid GGUF,
 * SMOA_ERR_UNSUPPORTED for an unknown tensor type. */
smoa_status smoa_gguf_open_file(const char *path, smoa_gguf **out, smoa_error *err);
/* Parses a buffer the caller keeps alive until close (tests, fuzzing). */
smoa_status smoa_gguf_open_memory(const void *data, size_t size, smoa_gguf **out,
                                  smoa_error *err);
void smoa_gguf_close(smoa_gguf *g);

const smoa_gguf_kv *smoa_gguf_find_kv(const smoa_gguf *g, const char *key);
const smoa_gguf_tensor *smoa_gguf_find_tensor(const smoa_gguf *g, const char *name);

/* Typed reads; false when the type does not fit. Integer reads accept any
 * integer type whose value fits; float reads accept both float types. */
bool smoa_gguf_kv_u64(const smoa_gguf_kv *kv, uint64_t *out);
bool smoa_gguf_kv_i64(const smoa_gguf_kv *kv, int64_t *out);
bool smoa_gguf_kv_f64(const smoa_gguf_kv *kv, double *out);
bool smoa_gguf_kv_bool(const smoa_gguf_kv *kv, bool *out);
bool smoa_gguf_kv_str(const smoa_gguf_kv *kv, smoa_gguf_str *out);

/* Array access (kv->type == ARRAY and kv->array_type as asked). */
/* Fills out[0..array_count) with the strings of a string array. */
bool smoa_gguf_kv_str_array(const smoa_gguf_kv *kv, smoa_gguf_str *out);
/* Element i of a numeric array, converted; false if not numeric. */
bool smoa_gguf_kv_array_i64(const smoa_gguf_kv *kv, uint64_t i, int64_t *out);
bool smoa_gguf_kv_array_f64(const smoa_gguf_kv *kv, uint64_t i, double *out);

/* Convenience lookups by key: false when absent or of another type. */
bool smoa_gguf_get_u64(const smoa_gguf *g, const char *key, uint64_t *out);
bool smoa_gguf_get_f64(const smoa_gguf *g, const char *key, double *out);
bool smoa_gguf_get_bool(const smoa_gguf *g, const char *key, bool *out);
bool smoa_gguf_get_str(const smoa_gguf *g, const char *key, smoa_gguf_str *out);

/* Writes the value as text ("42", "\"llama\"", "[1, 2, ... (49152 items)]")
 * into buf (NUL-terminated if cap > 0); returns the full length. */
size_t smoa_gguf_kv_format(const smoa_gguf_kv *kv, char *buf, size_t cap);

const char *smoa_gguf_type_name(uint32_t type);

#endif
