/* vocab.c - loading the vocabulary from GGUF metadata, checking that the
 * tokenizer keys agree with each other, and the read-only accessors.
 * Tokenizing and detokenizing live in tokenizer.c. */
#include "model/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tokenizer_bpe.h"
#include "model/tokenizer_special.h"
#include "model/tokenizer_spm.h"
#include "model/tokenizer_utf8.h"
#include "model/vocab_internal.h"

/* Texts of the tokens that end a turn or a document. They are end-of-
 * generation only when the vocab marks them as control tokens: then the
 * model emits them as structure, never as content, and a chat that goes on
 * past them would be the model writing the next turn itself. The same text
 * as a normal token is ordinary output and must not stop generation. */
static const char *const END_MARKERS[] = {
    "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|endoftext|>", "<|end_of_text|>",
    "<end_of_turn>", "<|end|>", "<EOT>", "<end_of_utterance>",
    /* File-boundary markers of code models (llama.cpp's FIM repo/sep/pad):
     * after one, the model has left the answer and started another file. */
    "<reponame>", "<|repo_name|>", "<|fim_repo|>", "<|file_sep|>", "<|fim_pad|>",
};

static smoa_status out_of_memory(smoa_error *err) {
    return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
}

static smoa_status load_kind(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    smoa_gguf_str model;
    if (!smoa_gguf_get_str(g, "tokenizer.ggml.model", &model))
        return smoa_error_set(err, SMOA_ERR_NOT_FOUND,
                              "tokenizer.ggml.model is missing: the file has no tokenizer");
    if (model.len == 4 && memcmp(model.data, "gpt2", 4) == 0) {
        v->kind = SMOA_VOCAB_BPE;
        v->model_name = "gpt2";
    } else if (model.len == 5 && memcmp(model.data, "llama", 5) == 0) {
        v->kind = SMOA_VOCAB_SPM;
        v->model_name = "llama";
    } else {
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "tokenizer.ggml.model '%.*s' is not supported (only 'gpt2', "
                              "byte-level BPE, and 'llama', SentencePiece)",
                              (int)(model.len > 64 ? 64 : model.len), model.data);
    }
    return SMOA_OK;
}

/* Copies the token texts into one NUL-terminated arena. */
static smoa_status load_texts(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, "tokenizer.ggml.tokens");
    if (!kv || kv->type != SMOA_GGUF_ARRAY || kv->array_type != SMOA_GGUF_STRING)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tokenizer.ggml.tokens (an array of strings) is missing");
    if (kv->array_count == 0 || kv->array_count > INT32_MAX)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "tokenizer.ggml.tokens has %llu entries",
                              (unsigned long long)kv->array_count);
    uint32_t n = (uint32_t)kv->array_count;
    smoa_gguf_str *strs = malloc(n * sizeof *strs);
    v->texts = malloc(n * sizeof *v->texts);
    v->lens = malloc(n * sizeof *v->lens);
    if (!strs || !v->texts || !v->lens) {
        free(strs);
        return out_of_memory(err);
    }
    smoa_gguf_kv_str_array(kv, strs);
    /* The strings lie inside the file, so their sum cannot overflow. */
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t len = strs[i].len;
        if (len > UINT32_MAX) {
            free(strs);
            return smoa_error_set(err, SMOA_ERR_FORMAT, "token %u text is %llu bytes long", i,
                                  (unsigned long long)len);
        }
        total += (size_t)len + 1;
    }
    v->text_arena = malloc(total);
    if (!v->text_arena) {
        free(strs);
        return out_of_memory(err);
    }
    char *p = v->text_arena;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(p, strs[i].data, strs[i].len);
        p[strs[i].len] = '\0';
        v->texts[i] = p;
        v->lens[i] = (uint32_t)strs[i].len;
        p += strs[i].len + 1;
    }
    free(strs);
    v->n_tokens = n;
    return SMOA_OK;
}

/* An optional per-token array must have one entry per token. */
static smoa_status per_token_array(const smoa_vocab *v, const smoa_gguf *g, const char *key,
                                   const smoa_gguf_kv **out, smoa_error *err) {
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, key);
    *out = NULL;
    if (!kv) return SMOA_OK;
    if (kv->type != SMOA_GGUF_ARRAY)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "%s is not an array", key);
    if (kv->array_count != v->n_tokens)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "%s has %llu entries but tokenizer.ggml.tokens has %u", key,
                              (unsigned long long)kv->array_count, v->n_tokens);
    *out = kv;
    return SMOA_OK;
}

static smoa_status load_types(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    const smoa_gguf_kv *kv;
    smoa_status st = per_token_array(v, g, "tokenizer.ggml.token_type", &kv, err);
    if (st != SMOA_OK) return st;
    v->types = malloc(v->n_tokens);
    if (!v->types) return out_of_memory(err);
    for (uint32_t i = 0; i < v->n_tokens; i++) {
        int64_t t = SMOA_TOKEN_NORMAL; /* absent key: all normal */
        if (kv && !smoa_gguf_kv_array_i64(kv, i, &t))
            return smoa_error_set(err, SMOA_ERR_FORMAT,
                                  "tokenizer.ggml.token_type is not an integer array");
        if (t < SMOA_TOKEN_NORMAL || t > SMOA_TOKEN_BYTE)
            return smoa_error_set(err, SMOA_ERR_FORMAT,
                                  "tokenizer.ggml.token_type[%u] = %lld is not a token type (1..6)",
                                  i, (long long)t);
        v->types[i] = (uint8_t)t;
    }
    return SMOA_OK;
}

static smoa_status load_scores(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    const smoa_gguf_kv *kv;
    smoa_status st = per_token_array(v, g, "tokenizer.ggml.scores", &kv, err);
    if (st != SMOA_OK) return st;
    v->scores = calloc(v->n_tokens, sizeof *v->scores); /* absent key: all 0 */
    if (!v->scores) return out_of_memory(err);
    for (uint32_t i = 0; kv && i < v->n_tokens; i++) {
        double s;
        if (!smoa_gguf_kv_array_f64(kv, i, &s))
            return smoa_error_set(err, SMOA_ERR_FORMAT, "tokenizer.ggml.scores is not numeric");
        v->scores[i] = (float)s;
    }
    return SMOA_OK;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int smoa_vocab_byte_token_value(const char *text, size_t len) {
    if (len != 6 || memcmp(text, "<0x", 3) != 0 || text[5] != '>') return -1;
    int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static smoa_status check_byte_tokens(const smoa_vocab *v, smoa_error *err) {
    for (uint32_t i = 0; i < v->n_tokens; i++)
        if (v->types[i] == SMOA_TOKEN_BYTE && smoa_vocab_byte_token_value(v->texts[i], v->lens[i]) < 0)
            return smoa_error_set(err, SMOA_ERR_FORMAT,
                                  "token %u is a byte token but its text '%.16s' is not <0xXX>",
                                  i, v->texts[i]);
    return SMOA_OK;
}

/* A special id: the key's value, or fallback when the key is absent. A
 * negative value means "none"; one past the vocabulary is an error. */
static smoa_status load_token_id(const smoa_vocab *v, const smoa_gguf *g, const char *key,
                                 int32_t fallback, int32_t *out, smoa_error *err) {
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, key);
    int64_t id;
    if (!kv) {
        *out = fallback < (int64_t)v->n_tokens ? fallback : -1;
        return SMOA_OK;
    }
    if (!smoa_gguf_kv_i64(kv, &id))
        return smoa_error_set(err, SMOA_ERR_FORMAT, "%s is not an integer", key);
    if (id >= (int64_t)v->n_tokens)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "%s = %lld is outside the vocabulary (%u tokens)",
                              key, (long long)id, v->n_tokens);
    *out = id < 0 ? -1 : (int32_t)id;
    return SMOA_OK;
}

static smoa_status load_flag(const smoa_gguf *g, const char *key, bool fallback, bool *out,
                             smoa_error *err) {
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, key);
    *out = fallback;
    if (kv && !smoa_gguf_kv_bool(kv, out))
        return smoa_error_set(err, SMOA_ERR_FORMAT, "%s is not a bool", key);
    return SMOA_OK;
}

static void mark_eog(smoa_vocab *v, int32_t id) {
    if (id >= 0) v->is_eog[id] = true;
}

/* BOS/EOS/UNK, the add_* flags and the end-of-generation set. Defaults
 * follow llama.cpp: SentencePiece vocabs use <unk>=0, <s>=1, </s>=2, add BOS
 * and prepend a space; byte-level BPE adds nothing unless the keys say so. */
static smoa_status load_specials(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    bool spm = v->kind == SMOA_VOCAB_SPM;
    int32_t eot = -1, eom = -1;
    smoa_status st;
    if ((st = load_token_id(v, g, "tokenizer.ggml.bos_token_id", spm ? 1 : -1, &v->bos, err)) ||
        (st = load_token_id(v, g, "tokenizer.ggml.eos_token_id", spm ? 2 : -1, &v->eos, err)) ||
        (st = load_token_id(v, g, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1, &v->unk, err)) ||
        (st = load_token_id(v, g, "tokenizer.ggml.eot_token_id", -1, &eot, err)) ||
        (st = load_token_id(v, g, "tokenizer.ggml.eom_token_id", -1, &eom, err)) ||
        (st = load_flag(g, "tokenizer.ggml.add_bos_token", spm, &v->add_bos, err)) ||
        (st = load_flag(g, "tokenizer.ggml.add_eos_token", false, &v->add_eos, err)) ||
        (st = load_flag(g, "tokenizer.ggml.add_space_prefix", spm, &v->add_space_prefix, err)))
        return st;
    if (v->add_bos && v->bos < 0)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tokenizer.ggml.add_bos_token is true but there is no BOS token");
    if (v->add_eos && v->eos < 0)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tokenizer.ggml.add_eos_token is true but there is no EOS token");
    v->is_eog = calloc(v->n_tokens, sizeof *v->is_eog);
    if (!v->is_eog) return out_of_memory(err);
    mark_eog(v, v->eos);
    mark_eog(v, eot);
    mark_eog(v, eom);
    for (size_t i = 0; i < sizeof END_MARKERS / sizeof END_MARKERS[0]; i++) {
        int32_t id = smoa_text_index_find(&v->by_text, END_MARKERS[i], strlen(END_MARKERS[i]));
        if (id >= 0 && v->types[id] == SMOA_TOKEN_CONTROL) mark_eog(v, id);
    }
    return SMOA_OK;
}

/* What each byte becomes when no token covers it: its <0xXX> byte token,
 * else the unknown token, else nothing. */
static void load_byte_fallback(smoa_vocab *v) {
    for (int b = 0; b < 256; b++) {
        char text[7];
        snprintf(text, sizeof text, "<0x%02X>", b);
        int32_t id = smoa_text_index_find(&v->by_text, text, 6);
        v->byte_fallback[b] = id >= 0 && v->types[id] == SMOA_TOKEN_BYTE ? id : v->unk;
    }
}

/* The pre type as written, or "default" (what llama.cpp calls an absent
 * one); byte-level BPE refuses an absent one later, SentencePiece has none. */
static smoa_status load_pre_name(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    smoa_gguf_str pre = {"default", 7};
    smoa_gguf_get_str(g, "tokenizer.ggml.pre", &pre);
    v->pre_name = malloc(pre.len + 1);
    if (!v->pre_name) return out_of_memory(err);
    memcpy(v->pre_name, pre.data, pre.len);
    v->pre_name[pre.len] = '\0';
    return SMOA_OK;
}

static smoa_status load_all(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    smoa_status st;
    if ((st = load_kind(v, g, err)) || (st = load_pre_name(v, g, err)) ||
        (st = load_texts(v, g, err)) || (st = load_types(v, g, err)) ||
        (st = load_scores(v, g, err)) || (st = check_byte_tokens(v, err)))
        return st;
    if (!smoa_text_index_build(&v->by_text, (const char *const *)v->texts, v->lens, v->n_tokens))
        return out_of_memory(err);
    if ((st = load_specials(v, g, err)) || (st = smoa_special_collect(v, err))) return st;
    load_byte_fallback(v);
    if (v->kind == SMOA_VOCAB_SPM) {
        smoa_spm_load(v);
        return SMOA_OK;
    }
    return smoa_bpe_load(v, g, err);
}

smoa_status smoa_vocab_load(const smoa_gguf *g, smoa_vocab **out, smoa_error *err) {
    *out = NULL;
    smoa_vocab *v = calloc(1, sizeof *v);
    if (!v) return out_of_memory(err);
    smoa_status st = load_all(v, g, err);
    if (st != SMOA_OK) {
        smoa_vocab_free(v);
        return st;
    }
    *out = v;
    return SMOA_OK;
}

void smoa_vocab_free(smoa_vocab *v) {
    if (!v) return;
    smoa_pretokenizer_free(v->pre);
    smoa_merge_index_free(&v->merges);
    smoa_text_index_free(&v->by_text);
    free(v->specials);
    free(v->is_eog);
    free(v->scores);
    free(v->types);
    free(v->lens);
    free(v->texts);
    free(v->text_arena);
    free(v->pre_name);
    free(v);
}

uint32_t smoa_vocab_n_tokens(const smoa_vocab *v) { return v->n_tokens; }
const char *smoa_vocab_model_name(const smoa_vocab *v) { return v->model_name; }
const char *smoa_vocab_pre_name(const smoa_vocab *v) { return v->pre_name; }
int32_t smoa_vocab_bos(const smoa_vocab *v) { return v->bos; }
int32_t smoa_vocab_eos(const smoa_vocab *v) { return v->eos; }

bool smoa_vocab_is_eog(const smoa_vocab *v, int32_t token) {
    return token >= 0 && (uint32_t)token < v->n_tokens && v->is_eog[token];
}

const char *smoa_vocab_token_text(const smoa_vocab *v, int32_t token) {
    return token >= 0 && (uint32_t)token < v->n_tokens ? v->texts[token] : NULL;
}
