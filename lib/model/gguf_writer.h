/* gguf_writer.h - builds GGUF v3 files in memory: metadata, tensor infos and
 * aligned tensor data. Used by the synthetic-model writer, the tests (valid
 * files to corrupt on purpose) and tools. */
#ifndef SMOA_MODEL_GGUF_WRITER_H
#define SMOA_MODEL_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct smoa_gguf_writer smoa_gguf_writer;

smoa_gguf_writer *smoa_gguf_writer_new(void); /* NULL when out of memory */
void smoa_gguf_writer_free(smoa_gguf_writer *w);

/* Metadata, written in call order. Each returns false when out of memory
 * (the writer then refuses to serialize). */
bool smoa_gguf_writer_add_u32(smoa_gguf_writer *w, const char *key, uint32_t v);
bool smoa_gguf_writer_add_u64(smoa_gguf_writer *w, const char *key, uint64_t v);
bool smoa_gguf_writer_add_i32(smoa_gguf_writer *w, const char *key, int32_t v);
bool smoa_gguf_writer_add_f32(smoa_gguf_writer *w, const char *key, float v);
bool smoa_gguf_writer_add_bool(smoa_gguf_writer *w, const char *key, bool v);
bool smoa_gguf_writer_add_str(smoa_gguf_writer *w, const char *key, const char *v);
bool smoa_gguf_writer_add_str_array(smoa_gguf_writer *w, const char *key,
                                    const char *const *items, size_t n);
bool smoa_gguf_writer_add_i32_array(smoa_gguf_writer *w, const char *key,
                                    const int32_t *items, size_t n);
bool smoa_gguf_writer_add_f32_array(smoa_gguf_writer *w, const char *key,
                                    const float *items, size_t n);

/* A tensor of ggml `type` with dims ne[0..n_dims) (ne[0] contiguous); data
 * holds exactly its bytes and is copied. False for an unsupported type, a
 * partial block or out of memory. */
bool smoa_gguf_writer_add_tensor(smoa_gguf_writer *w, const char *name, uint32_t type,
                                 uint32_t n_dims, const uint64_t *ne, const void *data);

/* The whole file in one malloc'ed buffer (caller frees). */
smoa_status smoa_gguf_writer_to_memory(const smoa_gguf_writer *w, uint8_t **out, size_t *out_size,
                                       smoa_error *err);
smoa_status smoa_gguf_writer_to_file(const smoa_gguf_writer *w, const char *path, smoa_error *err);

#endif
