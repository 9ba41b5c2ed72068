/* vocab_hash.c - open addressing tables with linear probing, sized to at
 * most half full so probes stay short. */
#include "model/vocab_hash.h"

#include <stdlib.h>
#include <string.h>

/* The smallest power of two that is at least twice n (and at least 16). */
static size_t table_capacity(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    return cap;
}

/* FNV-1a: short keys, good spread, no alignment needs. */
static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The splitmix64 finalizer: every key bit affects every slot bit. */
static uint64_t hash_u64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static bool same_text(const smoa_text_index *ix, int32_t id, const char *text, size_t len) {
    return ix->lens[id] == len && memcmp(ix->texts[id], text, len) == 0;
}

bool smoa_text_index_build(smoa_text_index *ix, const char *const *texts,
                           const uint32_t *lens, uint32_t n) {
    size_t cap = table_capacity(n);
    ix->slots = malloc(cap * sizeof *ix->slots);
    if (!ix->slots) return false;
    memset(ix->slots, 0xFF, cap * sizeof *ix->slots); /* all -1 */
    ix->mask = cap - 1;
    ix->texts = texts;
    ix->lens = lens;
    for (uint32_t id = 0; id < n; id++) {
        size_t i = hash_bytes(texts[id], lens[id]) & ix->mask;
        while (ix->slots[i] >= 0 && !same_text(ix, ix->slots[i], texts[id], lens[id]))
            i = (i + 1) & ix->mask;
        ix->slots[i] = (int32_t)id;
    }
    return true;
}

int32_t smoa_text_index_find(const smoa_text_index *ix, const char *text, size_t len) {
    size_t i = hash_bytes(text, len) & ix->mask;
    for (;;) {
        int32_t id = ix->slots[i];
        if (id < 0 || same_text(ix, id, text, len)) return id;
        i = (i + 1) & ix->mask;
    }
}

void smoa_text_index_free(smoa_text_index *ix) {
    free(ix->slots);
    ix->slots = NULL;
}

static uint64_t pair_key(int32_t left, int32_t right) {
    return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

bool smoa_merge_index_init(smoa_merge_index *ix, size_t n) {
    size_t cap = table_capacity(n);
    ix->slots = malloc(cap * sizeof *ix->slots);
    if (!ix->slots) return false;
    for (size_t i = 0; i < cap; i++) ix->slots[i].key = UINT64_MAX;
    ix->mask = cap - 1;
    return true;
}

void smoa_merge_index_add(smoa_merge_index *ix, int32_t left, int32_t right, smoa_merge_rule rule) {
    uint64_t key = pair_key(left, right);
    size_t i = hash_u64(key) & ix->mask;
    while (ix->slots[i].key != UINT64_MAX) {
        if (ix->slots[i].key == key) return;
        i = (i + 1) & ix->mask;
    }
    ix->slots[i].key = key;
    ix->slots[i].rule = rule;
}

const smoa_merge_rule *smoa_merge_index_find(const smoa_merge_index *ix, int32_t left,
                                             int32_t right) {
    uint64_t key = pair_key(left, right);
    size_t i = hash_u64(key) & ix->mask;
    for (;;) {
        const smoa_merge_slot *s = &ix->slots[i];
        if (s->key == key) return &s->rule;
        if (s->key == UINT64_MAX) return NULL;
        i = (i + 1) & ix->mask;
    }
}

void smoa_merge_index_free(smoa_merge_index *ix) {
    free(ix->slots);
    ix->slots = NULL;
}
