/* kv_pages.h - the KV cache's bookkeeping: fixed-size pages of token slots
 * shared by all sequences of a session, with reference counts so that a
 * forked sequence shares its parent's prefix instead of copying it.
 *
 * A backend stores K and V per slot (slot = page * SMOA_KV_PAGE + offset);
 * this module only decides which slots a sequence's positions live in. A
 * sequence only ever appends, so the one page that may need copying before
 * a write is a shared, partly filled last page (copy-on-write). */
#ifndef SMOA_ENGINE_KV_PAGES_H
#define SMOA_ENGINE_KV_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define SMOA_KV_PAGE 16 /* token slots per page */

typedef struct smoa_kv_pool {
    uint32_t n_pages;
    uint32_t *refcount;  /* [n_pages]; 0 = free                            */
    uint32_t *free_list; /* [n_pages] stack of free page ids               */
    uint32_t n_free;
} smoa_kv_pool;

typedef struct smoa_kv_seq {
    uint32_t *pages;     /* [max_pages] page ids of positions 0, 16, ...   */
    uint32_t n_pages;    /* pages in use                                   */
    uint32_t length;     /* tokens held                                    */
} smoa_kv_seq;

/* Copies one whole page's slots (all layers) from src to dst. */
typedef void (*smoa_kv_copy_fn)(void *backend, uint32_t dst_page, uint32_t src_page);

smoa_status smoa_kv_pool_init(smoa_kv_pool *pool, uint32_t n_pages, smoa_error *err);
void smoa_kv_pool_free(smoa_kv_pool *pool);

/* Makes room for positions [length, length + n) of seq: copies a shared last
 * page, takes new pages. SMOA_ERR_CONTEXT_FULL (seq unchanged) when the pool
 * or the sequence's max_pages runs out. Does not change seq->length. */
smoa_status smoa_kv_seq_reserve(smoa_kv_pool *pool, smoa_kv_seq *seq, uint32_t max_pages, uint32_t n,
                                smoa_kv_copy_fn copy, void *backend, smoa_error *err);
/* dst (empty) shares every page of src. */
void smoa_kv_seq_share(smoa_kv_pool *pool, smoa_kv_seq *dst, const smoa_kv_seq *src);
/* Gives back pages past seq->length (undoes a reserve that was not used). */
void smoa_kv_seq_trim(smoa_kv_pool *pool, smoa_kv_seq *seq);
/* Gives all pages back (those no other sequence holds become free). */
void smoa_kv_seq_release(smoa_kv_pool *pool, smoa_kv_seq *seq);

static inline uint32_t smoa_kv_slot(const smoa_kv_seq *seq, uint32_t pos) {
    return seq->pages[pos / SMOA_KV_PAGE] * SMOA_KV_PAGE + pos % SMOA_KV_PAGE;
}

#endif
