/* synthetic.c - writes llama GGUF files with random weights of any shape
 * and tensor type, for tests and benchmarks (the GPU machine has no real
 * model). Deterministic for a seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/options.h"
#include "core/rng.h"
#include "model/gguf_writer.h"
#include "model/quantize.h"
#include "model/tensor_types.h"
#include "model/tokenizer_bpe.h"
#include "model/tokenizer_utf8.h"

#define N_SPECIAL 3 /* <|endoftext|>, <|im_start|>, <|im_end|> after the bytes */

static const char chatml_template[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

void smoa_synthetic_options_init_sized(smoa_synthetic_options *options, size_t size) {
    const smoa_synthetic_options defaults = {
        .struct_size = sizeof defaults, .n_vocab = 49152, .n_embd = 576, .n_layer = 30, .n_head = 9,
        .n_head_kv = 3, .n_ff = 1536, .n_ctx = 8192, .weight_type = SMOA_TYPE_Q4_1,
        .embd_type = SMOA_TYPE_Q8_0, .tied_output = 1};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

static smoa_status check_options(const smoa_synthetic_options *o, smoa_error *err) {
    uint64_t row;
    if (o->n_vocab < 256 + N_SPECIAL || o->n_vocab > (1u << 24) || !o->n_embd || !o->n_layer || !o->n_head ||
        !o->n_head_kv || !o->n_ff || !o->n_ctx || o->n_head % o->n_head_kv || o->n_embd % o->n_head ||
        (o->n_embd / o->n_head) % 2)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "invalid synthetic shape (vocab %u, embd %u, layers %u, heads %u/%u, ff %u)", o->n_vocab,
                              o->n_embd, o->n_layer, o->n_head, o->n_head_kv, o->n_ff);
    const uint32_t types[] = {o->weight_type, o->embd_type};
    const uint32_t widths[] = {o->n_embd, o->n_ff};
    for (int t = 0; t < 2; t++)
        for (int w = 0; w < 2; w++)
            if (!smoa_type_row_bytes(types[t], widths[w], &row))
                return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                      "type %s cannot hold rows of %u values (block size)",
                                      smoa_type_name_any(types[t]) ? smoa_type_name_any(types[t]) : "?", widths[w]);
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Vocabulary: the 256 byte-level symbols, the specials, then padding.      */

static bool add_vocab(smoa_gguf_writer *w, uint32_t n_vocab) {
    char **tokens = calloc(n_vocab, sizeof *tokens);
    int32_t *types = malloc(n_vocab * sizeof *types);
    bool ok = tokens && types;
    static const char *const specials[N_SPECIAL] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    for (uint32_t i = 0; ok && i < n_vocab; i++) {
        tokens[i] = malloc(32);
        if (!(ok = tokens[i] != NULL)) break;
        if (i < 256) { /* the byte's symbol */
            tokens[i][smoa_utf8_encode(smoa_bpe_byte_char((unsigned char)i), tokens[i])] = '\0';
            types[i] = 1; /* normal */
        } else if (i < 256 + N_SPECIAL) {
            strcpy(tokens[i], specials[i - 256]);
            types[i] = 3; /* control */
        } else {
            snprintf(tokens[i], 32, "<unused_%u>", i);
            types[i] = 5; /* unused */
        }
    }
    ok = ok && smoa_gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2") &&
         smoa_gguf_writer_add_str(w, "tokenizer.ggml.pre", "gpt2") &&
         smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n_vocab) &&
         smoa_gguf_writer_add_i32_array(w, "tokenizer.ggml.token_type", types, n_vocab) &&
         smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", NULL, 0) &&
         smoa_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 257) &&
         smoa_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 258) &&
         smoa_gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", false) &&
         smoa_gguf_writer_add_str(w, "tokenizer.chat_template", chatml_template);
    for (uint32_t i = 0; tokens && i < n_vocab; i++) free(tokens[i]);
    free(tokens);
    free(types);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Tensors                                                                  */

/* n_out rows of n_in values, uniform with the variance of a 1/sqrt(n_in)
 * initialisation, quantized to type. */
static bool add_matrix(smoa_gguf_writer *w, smoa_rng *rng, const char *name, uint32_t type, uint32_t n_in,
                       uint32_t n_out) {
    uint64_t row_bytes;
    smoa_type_row_bytes(type, n_in, &row_bytes);
    float *row = malloc(n_in * sizeof *row);
    uint8_t *data = malloc((size_t)row_bytes * n_out);
    bool ok = row && data;
    float scale = sqrtf(3.0f / (float)n_in);
    for (uint32_t r = 0; ok && r < n_out; r++) {
        for (uint32_t i = 0; i < n_in; i++) row[i] = (2.0f * smoa_rng_float(rng) - 1.0f) * scale;
        ok = smoa_quantize(type, row, data + (size_t)r * row_bytes, n_in);
    }
    const uint64_t ne[] = {n_in, n_out};
    ok = ok && smoa_gguf_writer_add_tensor(w, name, type, 2, ne, data);
    free(row);
    free(data);
    return ok;
}

static bool add_norm(smoa_gguf_writer *w, smoa_rng *rng, const char *name, uint32_t n) {
    float *v = malloc(n * sizeof *v);
    bool ok = v != NULL;
    for (uint32_t i = 0; ok && i < n; i++) v[i] = 1.0f + 0.1f * (smoa_rng_float(rng) - 0.5f);
    const uint64_t ne[] = {n};
    ok = ok && smoa_gguf_writer_add_tensor(w, name, SMOA_TYPE_F32, 1, ne, v);
    free(v);
    return ok;
}

static bool add_layer(smoa_gguf_writer *w, smoa_rng *rng, const smoa_synthetic_options *o, uint32_t il) {
    char name[64];
    uint32_t hd = o->n_embd / o->n_head, kv = o->n_head_kv * hd, t = o->weight_type;
#define BLK(s) (snprintf(name, sizeof name, "blk.%u.%s", il, s), name)
    return add_norm(w, rng, BLK("attn_norm.weight"), o->n_embd) &&
           add_matrix(w, rng, BLK("attn_q.weight"), t, o->n_embd, o->n_embd) &&
           add_matrix(w, rng, BLK("attn_k.weight"), t, o->n_embd, kv) &&
           add_matrix(w, rng, BLK("attn_v.weight"), t, o->n_embd, kv) &&
           add_matrix(w, rng, BLK("attn_output.weight"), t, o->n_embd, o->n_embd) &&
           add_norm(w, rng, BLK("ffn_norm.weight"), o->n_embd) &&
           add_matrix(w, rng, BLK("ffn_gate.weight"), t, o->n_embd, o->n_ff) &&
           add_matrix(w, rng, BLK("ffn_up.weight"), t, o->n_embd, o->n_ff) &&
           add_matrix(w, rng, BLK("ffn_down.weight"), t, o->n_ff, o->n_embd);
#undef BLK
}

static bool add_metadata(smoa_gguf_writer *w, const smoa_synthetic_options *o) {
    return smoa_gguf_writer_add_str(w, "general.architecture", "llama") &&
           smoa_gguf_writer_add_str(w, "general.name", "synthetic llama (random weights)") &&
           smoa_gguf_writer_add_u32(w, "llama.context_length", o->n_ctx) &&
           smoa_gguf_writer_add_u32(w, "llama.embedding_length", o->n_embd) &&
           smoa_gguf_writer_add_u32(w, "llama.block_count", o->n_layer) &&
           smoa_gguf_writer_add_u32(w, "llama.feed_forward_length", o->n_ff) &&
           smoa_gguf_writer_add_u32(w, "llama.attention.head_count", o->n_head) &&
           smoa_gguf_writer_add_u32(w, "llama.attention.head_count_kv", o->n_head_kv) &&
           smoa_gguf_writer_add_u32(w, "llama.rope.dimension_count", o->n_embd / o->n_head) &&
           smoa_gguf_writer_add_f32(w, "llama.rope.freq_base", 100000.0f) &&
           smoa_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f) &&
           smoa_gguf_writer_add_u32(w, "general.quantization_version", 2);
}

static bool build(smoa_gguf_writer *w, const smoa_synthetic_options *o) {
    smoa_rng rng;
    smoa_rng_seed(&rng, o->seed);
    bool ok = add_metadata(w, o) && add_vocab(w, o->n_vocab) &&
              add_matrix(w, &rng, "token_embd.weight", o->embd_type, o->n_embd, o->n_vocab);
    for (uint32_t il = 0; ok && il < o->n_layer; il++) ok = add_layer(w, &rng, o, il);
    ok = ok && add_norm(w, &rng, "output_norm.weight", o->n_embd);
    if (ok && !o->tied_output) ok = add_matrix(w, &rng, "output.weight", o->weight_type, o->n_embd, o->n_vocab);
    return ok;
}

smoa_status smoa_synthetic_write(smoa_ctx *ctx, const char *path, const smoa_synthetic_options *options) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!path) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "path is NULL");
    smoa_synthetic_options o;
    smoa_synthetic_options_init(&o);
    smoa_status st = smoa_options_read(&o, sizeof o, options, "smoa_synthetic_options", err);
    if (st == SMOA_OK) st = check_options(&o, err);
    if (st) return st;
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    if (!w || !build(w, &o)) st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory building the model");
    else st = smoa_gguf_writer_to_file(w, path, err);
    smoa_gguf_writer_free(w);
    return st;
}
