/* tokenizer_bpe.c - byte-level BPE: the byte map, merge loading, encoding. */
#include "model/tokenizer_bpe.h"

#include <stdlib.h>
#include <string.h>

#include "model/tokenizer_utf8.h"

/* Bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF are printable and map to
 * themselves; the 68 others (0x00-0x20, 0x7F-0xA0, 0xAD) map, in byte
 * order, to U+0100..U+0143. */
uint32_t smoa_bpe_byte_char(unsigned char b) {
    if (b <= 0x20) return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0) return 0x121 + (b - 0x7F);
    if (b == 0xAD) return 0x143;
    return b;
}

/* The inverse: the byte for cp, or -1 when cp is outside the map. */
static int char_to_byte(uint32_t cp) {
    if (cp <= 0xFF) return cp == smoa_bpe_byte_char((unsigned char)cp) ? (int)cp : -1;
    if (cp <= 0x120) return (int)(cp - 0x100);
    if (cp <= 0x142) return (int)(0x7F + (cp - 0x121));
    if (cp == 0x143) return 0xAD;
    return -1;
}

static void load_byte_tokens(smoa_vocab *v) {
    for (int b = 0; b < 256; b++) {
        char utf8[4];
        size_t n = smoa_utf8_encode(smoa_bpe_byte_char((unsigned char)b), utf8);
        v->byte_token[b] = smoa_text_index_find(&v->by_text, utf8, n);
    }
}

/* Looks up both sides of merge i ("left right") and their concatenation. */
static smoa_status load_merge(smoa_vocab *v, uint64_t i, smoa_gguf_str s, char **joined,
                              size_t *joined_cap, smoa_error *err) {
    /* The separator is the first space after position 0, so a left side
     * that is itself a space-like character still parses. */
    const char *space = s.len > 1 ? memchr(s.data + 1, ' ', s.len - 1) : NULL;
    if (!space)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tokenizer.ggml.merges[%llu] '%.*s' has no space between its sides",
                              (unsigned long long)i, (int)(s.len > 64 ? 64 : s.len), s.data);
    size_t left_len = (size_t)(space - s.data), right_len = s.len - left_len - 1;
    if (left_len + right_len > *joined_cap) {
        char *p = realloc(*joined, left_len + right_len);
        if (!p) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        *joined = p;
        *joined_cap = left_len + right_len;
    }
    memcpy(*joined, s.data, left_len);
    memcpy(*joined + left_len, space + 1, right_len);
    int32_t left = smoa_text_index_find(&v->by_text, s.data, left_len);
    int32_t right = smoa_text_index_find(&v->by_text, space + 1, right_len);
    int32_t result = smoa_text_index_find(&v->by_text, *joined, left_len + right_len);
    if (left < 0 || right < 0 || result < 0)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tokenizer.ggml.merges[%llu] '%.*s': %s is not a token",
                              (unsigned long long)i, (int)(s.len > 64 ? 64 : s.len), s.data,
                              left < 0 ? "the left side" : right < 0 ? "the right side" : "the result");
    smoa_merge_index_add(&v->merges, left, right, (smoa_merge_rule){(uint32_t)i, result});
    return SMOA_OK;
}

static smoa_status load_merges(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    const smoa_gguf_kv *kv = smoa_gguf_find_kv(g, "tokenizer.ggml.merges");
    if (!kv || kv->type != SMOA_GGUF_ARRAY || kv->array_type != SMOA_GGUF_STRING)
        return smoa_error_set(err, SMOA_ERR_FORMAT,
                              "tokenizer.ggml.merges (an array of strings) is missing");
    if (kv->array_count > UINT32_MAX)
        return smoa_error_set(err, SMOA_ERR_FORMAT, "tokenizer.ggml.merges has %llu entries",
                              (unsigned long long)kv->array_count);
    smoa_gguf_str *merges = malloc((kv->array_count ? kv->array_count : 1) * sizeof *merges);
    if (!merges || !smoa_merge_index_init(&v->merges, kv->array_count)) {
        free(merges);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    smoa_gguf_kv_str_array(kv, merges);
    char *joined = NULL;
    size_t joined_cap = 0;
    smoa_status st = SMOA_OK;
    for (uint64_t i = 0; i < kv->array_count && st == SMOA_OK; i++)
        st = load_merge(v, i, merges[i], &joined, &joined_cap, err);
    free(joined);
    free(merges);
    return st;
}

static smoa_status load_pretokenizer(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    if (!smoa_gguf_find_kv(g, "tokenizer.ggml.pre"))
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "tokenizer.ggml.pre is missing: the pre-tokenizer of this "
                              "byte-level BPE vocabulary is unknown");
    return smoa_pretokenizer_create(v->pre_name, &v->pre, err);
}

smoa_status smoa_bpe_load(smoa_vocab *v, const smoa_gguf *g, smoa_error *err) {
    smoa_status st = load_pretokenizer(v, g, err);
    if (st != SMOA_OK) return st;
    load_byte_tokens(v);
    return load_merges(v, g, err);
}

typedef struct piece_encoder {
    const smoa_vocab *v;
    smoa_merger *m;
    smoa_token_sink *out;
    smoa_error *err;
} piece_encoder;

static bool judge_by_rank(const void *ctx, const smoa_symbol *left, const smoa_symbol *right,
                          smoa_merge_candidate *c) {
    const smoa_vocab *v = ctx;
    if (left->id < 0 || right->id < 0) return false;
    const smoa_merge_rule *rule = smoa_merge_index_find(&v->merges, left->id, right->id);
    if (!rule) return false;
    c->priority = rule->rank;
    c->result = rule->result;
    return true;
}

static smoa_status encode_piece(void *user, const char *piece, size_t len) {
    piece_encoder *e = user;
    smoa_merger *m = e->m;
    if (smoa_merger_reset(m, len) != SMOA_OK)
        return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < len; i++)
        m->symbols[i] = (smoa_symbol){.start = (uint32_t)i, .len = 1,
                                      .id = e->v->byte_token[(unsigned char)piece[i]]};
    smoa_merger_link(m);
    if (smoa_merger_run(m, judge_by_rank, e->v) != SMOA_OK)
        return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t i = 0; i >= 0; i = m->symbols[i].next) {
        const smoa_symbol *s = &m->symbols[i];
        if (s->id >= 0) smoa_sink_push(e->out, s->id);
        else smoa_push_byte_fallback(e->v, piece + s->start, s->len, e->out);
    }
    return SMOA_OK;
}

smoa_status smoa_bpe_encode(const smoa_vocab *v, smoa_merger *m, const char *text, size_t len,
                            smoa_token_sink *out, smoa_error *err) {
    piece_encoder e = {v, m, out, err};
    return smoa_pretokenizer_split(v->pre, text, len, encode_piece, &e, err);
}

void smoa_bpe_decode_token(const smoa_vocab *v, int32_t id, smoa_byte_sink *out) {
    const char *text = v->texts[id];
    size_t len = v->lens[id];
    for (size_t i = 0; i < len;) {
        size_t n;
        int b = char_to_byte(smoa_utf8_decode(text + i, len - i, &n));
        if (b >= 0) {
            char byte = (char)b;
            smoa_sink_write(out, &byte, 1);
        } else {
            smoa_sink_write(out, text + i, n);
        }
        i += n;
    }
}
