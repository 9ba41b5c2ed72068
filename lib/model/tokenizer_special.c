/* tokenizer_special.c - the special-token list and the partition of text. */
#include "model/tokenizer_special.h"

#include <stdlib.h>
#include <string.h>

#include "model/tokenizer_utf8.h"

typedef struct special_key {
    uint32_t len;
    int32_t id;
} special_key;

/* Longest text first; the lower id first among equals (a total order, so
 * the result does not depend on the sort algorithm). */
static int by_length_then_id(const void *a, const void *b) {
    const special_key *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool is_candidate(const smoa_vocab *v, int32_t id) {
    uint8_t t = v->types[id];
    if (t != SMOA_TOKEN_CONTROL && t != SMOA_TOKEN_USER_DEFINED && t != SMOA_TOKEN_UNKNOWN)
        return false;
    return v->lens[id] > 0 && smoa_utf8_validate(v->texts[id], v->lens[id], NULL);
}

smoa_status smoa_special_collect(smoa_vocab *v, smoa_error *err) {
    size_t n = 0;
    for (uint32_t id = 0; id < v->n_tokens; id++) n += is_candidate(v, (int32_t)id);
    special_key *keys = malloc((n ? n : 1) * sizeof *keys);
    v->specials = malloc((n ? n : 1) * sizeof *v->specials);
    if (!keys || !v->specials) {
        free(keys);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (uint32_t id = 0; id < v->n_tokens; id++)
        if (is_candidate(v, (int32_t)id))
            keys[v->n_specials++] = (special_key){v->lens[id], (int32_t)id};
    qsort(keys, v->n_specials, sizeof *keys, by_length_then_id);
    for (size_t i = 0; i < v->n_specials; i++) v->specials[i] = keys[i].id;
    free(keys);
    return SMOA_OK;
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m) {
    if (m > n) return NULL;
    const char *last = hay + (n - m);
    for (const char *p = hay; p <= last; p++) {
        p = memchr(p, needle[0], (size_t)(last - p) + 1);
        if (!p) return NULL;
        if (memcmp(p, needle, m) == 0) return p;
    }
    return NULL;
}

static bool push_fragment(smoa_fragments *f, size_t start, size_t len, int32_t token) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        smoa_fragment *p = realloc(f->items, cap * sizeof *p);
        if (!p) return false;
        f->items = p;
        f->cap = cap;
    }
    f->items[f->n++] = (smoa_fragment){start, len, token};
    return true;
}

/* Copies the fragments of in to out, splitting raw ones at every occurrence
 * of token id. */
static bool split_at_token(const smoa_vocab *v, const char *text, const smoa_fragments *in,
                           int32_t id, smoa_fragments *out) {
    const char *needle = v->texts[id];
    size_t m = v->lens[id];
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        smoa_fragment f = in->items[i];
        if (f.token >= 0) {
            if (!push_fragment(out, f.start, f.len, f.token)) return false;
            continue;
        }
        size_t pos = f.start, end = f.start + f.len;
        const char *hit;
        while ((hit = find_bytes(text + pos, end - pos, needle, m))) {
            size_t at = (size_t)(hit - text);
            if (at > pos && !push_fragment(out, pos, at - pos, -1)) return false;
            if (!push_fragment(out, at, m, id)) return false;
            pos = at + m;
        }
        if (pos < end && !push_fragment(out, pos, end - pos, -1)) return false;
    }
    return true;
}

smoa_status smoa_special_partition(const smoa_vocab *v, const char *text, size_t len,
                                   bool parse_special, smoa_fragments *out,
                                   smoa_fragments *spare, smoa_error *err) {
    out->n = 0;
    if (len && !push_fragment(out, 0, len, -1))
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t k = 0; k < v->n_specials; k++) {
        int32_t id = v->specials[k];
        if (!parse_special && v->types[id] != SMOA_TOKEN_USER_DEFINED) continue;
        /* Most special tokens never occur: one scan of the whole text rules
         * them out before any fragment is rebuilt. */
        if (!find_bytes(text, len, v->texts[id], v->lens[id])) continue;
        if (!split_at_token(v, text, out, id, spare))
            return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        smoa_fragments swap = *out;
        *out = *spare;
        *spare = swap;
    }
    return SMOA_OK;
}

void smoa_fragments_free(smoa_fragments *f) {
    free(f->items);
    *f = (smoa_fragments){0};
}
