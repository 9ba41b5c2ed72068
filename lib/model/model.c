/* model.c - loading a GGUF model and answering metadata queries. */
#include "model/model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/options.h"
#include "model/tensor_types.h"

/* Architectures whose forward pass the engine implements. */
static const char *const supported_architectures[] = {"llama"};

void smoa_model_options_init_sized(smoa_model_options *options, size_t size) {
    const smoa_model_options defaults = {.struct_size = sizeof defaults, .load_mode = SMOA_LOAD_FULL};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

static smoa_status read_model_options(const smoa_model_options *in, smoa_model_options *out,
                                      smoa_error *err) {
    smoa_model_options_init(out);
    smoa_status st = smoa_options_read(out, sizeof *out, in, "smoa_model_options", err);
    if (st) return st;
    if (out->load_mode > SMOA_LOAD_METADATA)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "load_mode %u is not a smoa_load_mode",
                              out->load_mode);
    return SMOA_OK;
}

static char *dup_gguf_str(const smoa_gguf *g, const char *key) {
    smoa_gguf_str s = {"", 0};
    smoa_gguf_get_str(g, key, &s);
    char *copy = malloc(s.len + 1);
    if (copy) {
        memcpy(copy, s.data, s.len);
        copy[s.len] = '\0';
    }
    return copy;
}

/* Reads "<arch>.<suffix>" as a u32; 0 when absent. A present value of the
 * wrong type or out of range is a format error. */
static smoa_status read_arch_u32(const smoa_model *m, const char *suffix, uint32_t *out,
                                 smoa_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->architecture, suffix);
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(m->gguf, key);
    uint64_t v = 0;
    *out = 0;
    if (!kv) return SMOA_OK;
    if (!smoa_gguf_kv_u64(kv, &v) || v > UINT32_MAX)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "metadata '%s' must be a non-negative integer below 2^32",
                              key);
    *out = (uint32_t)v;
    return SMOA_OK;
}

static smoa_status read_hparams(smoa_model *m, smoa_error *err) {
    smoa_hparams *hp = &m->hparams;
    smoa_status st;
    if ((st = read_arch_u32(m, "context_length", &hp->n_ctx_train, err)) ||
        (st = read_arch_u32(m, "embedding_length", &hp->n_embd, err)) ||
        (st = read_arch_u32(m, "block_count", &hp->n_layer, err)) ||
        (st = read_arch_u32(m, "attention.head_count", &hp->n_head, err)) ||
        (st = read_arch_u32(m, "attention.head_count_kv", &hp->n_head_kv, err)) ||
        (st = read_arch_u32(m, "feed_forward_length", &hp->n_ff, err)) ||
        (st = read_arch_u32(m, "vocab_size", &hp->n_vocab, err)))
        return st;
    if (!hp->n_head_kv) hp->n_head_kv = hp->n_head; /* absent means no grouping */
    const smoa_gguf_kv *tokens = smoa_gguf_find_kv(m->gguf, "tokenizer.ggml.tokens");
    if (!hp->n_vocab && tokens && tokens->type == SMOA_GGUF_ARRAY && tokens->array_count <= UINT32_MAX)
        hp->n_vocab = (uint32_t)tokens->array_count;
    for (uint64_t i = 0; i < m->gguf->n_tensors; i++) m->n_params += m->gguf->tensors[i].n_elements;
    return SMOA_OK;
}

static smoa_status check_architecture(const smoa_model *m, smoa_error *err) {
    size_t n = sizeof supported_architectures / sizeof supported_architectures[0];
    for (size_t i = 0; i < n; i++)
        if (strcmp(m->architecture, supported_architectures[i]) == 0) return SMOA_OK;
    if (!m->architecture[0])
        return smoa_error_set(err, SMOA_ERR_FORMAT, "general.architecture is missing");
    return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                          "architecture '%s' is not supported (supported: llama)", m->architecture);
}

static smoa_status load_into(smoa_model *m, const char *path, uint32_t mode, smoa_error *err) {
    smoa_status st = smoa_gguf_open_file(path, &m->gguf, err);
    if (st != SMOA_OK) return st;
    m->architecture = dup_gguf_str(m->gguf, "general.architecture");
    m->name = dup_gguf_str(m->gguf, "general.name");
    if (!m->architecture || !m->name) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    if (smoa_gguf_find_kv(m->gguf, "tokenizer.chat_template")) {
        m->chat_template = dup_gguf_str(m->gguf, "tokenizer.chat_template");
        if (!m->chat_template) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    if ((st = read_hparams(m, err)) != SMOA_OK) return st;
    if (mode == SMOA_LOAD_FULL) {
        if ((st = check_architecture(m, err)) != SMOA_OK) return st;
        if ((st = smoa_llama_load(m->gguf, &m->llama, err)) != SMOA_OK) return st;
        m->runnable = true;
    }
    if (mode != SMOA_LOAD_METADATA) {
        if ((st = smoa_vocab_load(m->gguf, &m->vocab, err)) != SMOA_OK) return st;
        m->hparams.n_vocab = smoa_vocab_n_tokens(m->vocab);
    }
    return SMOA_OK;
}

smoa_status smoa_model_load(smoa_ctx *ctx, const char *path, const smoa_model_options *options,
                            smoa_model **out_model) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!out_model) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "out_model is NULL");
    *out_model = NULL;
    smoa_model_options opts;
    smoa_status st = read_model_options(options, &opts, err);
    if (st != SMOA_OK) return st;
    smoa_model *m = calloc(1, sizeof *m);
    if (!m) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    st = load_into(m, path, opts.load_mode, err);
    if (st != SMOA_OK) {
        smoa_log(ctx, SMOA_LOG_ERROR, "%s", err->message);
        smoa_model_free(m);
        return st;
    }
    smoa_log(ctx, SMOA_LOG_INFO, "loaded %s: %s, %" PRIu64 " tensors, %" PRIu64 " parameters", path,
             m->architecture, m->gguf->n_tensors, m->n_params);
    *out_model = m;
    return SMOA_OK;
}

void smoa_model_free(smoa_model *model) {
    if (!model) return;
    smoa_vocab_free(model->vocab);
    smoa_llama_free(&model->llama);
    smoa_gguf_close(model->gguf);
    free(model->architecture);
    free(model->name);
    free(model->chat_template);
    free(model);
}

/* ------------------------------------------------------------------------ */
/* Metadata queries                                                         */

const char *smoa_model_architecture(const smoa_model *m) { return m ? m->architecture : NULL; }
const char *smoa_model_name(const smoa_model *m) { return m ? m->name : NULL; }
uint64_t smoa_model_file_size(const smoa_model *m) { return m ? m->gguf->size : 0; }
uint64_t smoa_model_n_params(const smoa_model *m) { return m ? m->n_params : 0; }
uint32_t smoa_model_n_vocab(const smoa_model *m) { return m ? m->hparams.n_vocab : 0; }
uint32_t smoa_model_n_ctx_train(const smoa_model *m) { return m ? m->hparams.n_ctx_train : 0; }
uint32_t smoa_model_n_embd(const smoa_model *m) { return m ? m->hparams.n_embd : 0; }
uint32_t smoa_model_n_layer(const smoa_model *m) { return m ? m->hparams.n_layer : 0; }
uint32_t smoa_model_n_head(const smoa_model *m) { return m ? m->hparams.n_head : 0; }
uint32_t smoa_model_n_head_kv(const smoa_model *m) { return m ? m->hparams.n_head_kv : 0; }
uint32_t smoa_model_n_ff(const smoa_model *m) { return m ? m->hparams.n_ff : 0; }
const char *smoa_model_chat_template(const smoa_model *m) { return m ? m->chat_template : NULL; }
uint64_t smoa_model_meta_count(const smoa_model *m) { return m ? m->gguf->n_kv : 0; }
uint64_t smoa_model_n_tensors(const smoa_model *m) { return m ? m->gguf->n_tensors : 0; }

const char *smoa_model_meta_key(const smoa_model *m, uint64_t index) {
    return m && index < m->gguf->n_kv ? m->gguf->kv[index].key : NULL;
}

smoa_status smoa_model_meta_str(smoa_ctx *ctx, const smoa_model *m, const char *key, char *buf,
                                size_t cap, size_t *n_out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!m || !key || !n_out || (!buf && cap))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "model, key, n_out and buf are required");
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(m->gguf, key);
    if (!kv) return smoa_error_set(err, SMOA_ERR_NOT_FOUND, "metadata key '%s' not found", key);
    *n_out = smoa_gguf_kv_format(kv, buf, cap);
    if (*n_out >= cap)
        return smoa_error_set(err, SMOA_ERR_BUFFER_TOO_SMALL, "'%s' needs %zu bytes plus NUL", key, *n_out);
    return SMOA_OK;
}

const char *smoa_tensor_type_name(uint32_t type) { return smoa_type_name_any(type); }

smoa_status smoa_model_tensor_info(smoa_ctx *ctx, const smoa_model *m, uint64_t index,
                                   smoa_tensor_info *out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!m || !out || out->struct_size < sizeof(uint32_t))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "model and out_info (with struct_size set) are required");
    if (index >= m->gguf->n_tensors)
        return smoa_error_set(err, SMOA_ERR_NOT_FOUND, "tensor index %" PRIu64 " out of range (%" PRIu64 " tensors)",
                              index, m->gguf->n_tensors);
    const smoa_gguf_tensor *t = &m->gguf->tensors[index];
    smoa_tensor_info info = {
        .struct_size = sizeof info,
        .name = t->name,
        .type_name = smoa_type_name_any(t->type),
        .type = t->type,
        .n_dims = t->n_dims,
        .offset = m->gguf->data_offset + t->offset,
        .n_bytes = t->n_bytes,
    };
    memcpy(info.dims, t->ne, sizeof info.dims);
    uint32_t caller_size = out->struct_size;
    memcpy(out, &info, caller_size < sizeof info ? caller_size : sizeof info);
    out->struct_size = caller_size;
    return SMOA_OK;
}
