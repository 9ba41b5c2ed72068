/* tokenizer_merge.h - the merge loop shared by BPE and SentencePiece.
 *
 * A piece of text starts as a list of symbols (bytes for BPE, characters for
 * SentencePiece). Every adjacent pair that could merge is queued with a
 * priority; the best pair (lowest priority value, then leftmost) merges,
 * and the pairs it forms with its new neighbours are queued. Entries made
 * stale by an earlier merge are skipped when they come out of the queue.
 * The two tokenizers differ only in how they judge a pair (the candidate
 * callback): BPE by merge rank, SentencePiece by the merged token's score. */
#ifndef SMOA_MODEL_TOKENIZER_MERGE_H
#define SMOA_MODEL_TOKENIZER_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smoa.h"

/* A run of bytes of the piece. Symbols are indexed by their position in the
 * initial list; merged-away symbols keep len == 0. */
typedef struct smoa_symbol {
    uint32_t start;  /* byte offset in the piece */
    uint32_t len;    /* bytes; 0 once merged into its left neighbour */
    int32_t prev;    /* index of the previous live symbol, -1 at the start */
    int32_t next;    /* index of the next live symbol, -1 at the end */
    int32_t id;      /* token id of the symbol's text, -1 when it has none */
} smoa_symbol;

typedef struct smoa_merge_candidate {
    double priority; /* lower merges first */
    int32_t left;    /* symbol indices */
    int32_t right;
    uint32_t len;    /* left.len + right.len when queued: detects staleness */
    int32_t result;  /* token id of the merged symbol */
} smoa_merge_candidate;

/* Fills c->priority and c->result when left and right (adjacent symbols) may
 * merge; returns false when they may not. */
typedef bool (*smoa_merge_judge)(const void *ctx, const smoa_symbol *left,
                                 const smoa_symbol *right, smoa_merge_candidate *c);

/* Scratch memory, reused across pieces of one tokenize call. */
typedef struct smoa_merger {
    smoa_symbol *symbols;
    size_t n_symbols;
    size_t cap_symbols;
    smoa_merge_candidate *heap;
    size_t n_heap;
    size_t cap_heap;
} smoa_merger;

/* Makes room for n symbols and sets n_symbols = n; the caller then fills
 * start, len and id (smoa_merger_link sets prev and next). */
smoa_status smoa_merger_reset(smoa_merger *m, size_t n);
void smoa_merger_link(smoa_merger *m);
/* Runs the merge loop to the end. SMOA_ERR_OUT_OF_MEMORY is the only failure. */
smoa_status smoa_merger_run(smoa_merger *m, smoa_merge_judge judge, const void *ctx);
void smoa_merger_free(smoa_merger *m);

#endif
