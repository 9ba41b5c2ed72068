/* vocab_hash.h - the two lookups the tokenizers make in their inner loops:
 * token text -> id, and (left id, right id) -> BPE merge. Both are open
 * addressing tables built once at load and read-only afterwards. */
#ifndef SMOA_MODEL_VOCAB_HASH_H
#define SMOA_MODEL_VOCAB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Maps byte strings to ids; the strings live elsewhere (the vocab's token
 * table), reached through texts[id] / lens[id]. */
typedef struct smoa_text_index {
    int32_t *slots;      /* id, or -1 when empty */
    size_t mask;         /* capacity - 1 (capacity is a power of two) */
    const char *const *texts;
    const uint32_t *lens;
} smoa_text_index;

/* Indexes ids 0..n-1. When two ids share a text the higher id wins, as in
 * llama.cpp (later entries override earlier ones). False when out of memory. */
bool smoa_text_index_build(smoa_text_index *ix, const char *const *texts,
                           const uint32_t *lens, uint32_t n);
int32_t smoa_text_index_find(const smoa_text_index *ix, const char *text, size_t len);
void smoa_text_index_free(smoa_text_index *ix);

typedef struct smoa_merge_rule {
    uint32_t rank;    /* index in tokenizer.ggml.merges: lower merges first */
    int32_t result;   /* id of left + right */
} smoa_merge_rule;

typedef struct smoa_merge_slot {
    uint64_t key;     /* left << 32 | right; UINT64_MAX when empty */
    smoa_merge_rule rule;
} smoa_merge_slot;

typedef struct smoa_merge_index {
    smoa_merge_slot *slots;
    size_t mask;
} smoa_merge_index;

/* Room for n rules. False when out of memory. */
bool smoa_merge_index_init(smoa_merge_index *ix, size_t n);
/* Adds a rule unless the pair already has one (the first, lower rank wins).
 * Never fails: init reserved the room. */
void smoa_merge_index_add(smoa_merge_index *ix, int32_t left, int32_t right, smoa_merge_rule rule);
/* The rule for the pair, or NULL. */
const smoa_merge_rule *smoa_merge_index_find(const smoa_merge_index *ix, int32_t left,
                                             int32_t right);
void smoa_merge_index_free(smoa_merge_index *ix);

#endif
