/* kv_pages.c - page allocation, sharing and copy-on-write for the KV cache. */
#include "engine/kv_pages.h"

#include <stdlib.h>
#include <string.h>

smoa_status smoa_kv_pool_init(smoa_kv_pool *pool, uint32_t n_pages, smoa_error *err) {
    memset(pool, 0, sizeof *pool);
    pool->refcount = calloc(n_pages ? n_pages : 1, sizeof *pool->refcount);
    pool->free_list = malloc((n_pages ? n_pages : 1) * sizeof *pool->free_list);
    if (!pool->refcount || !pool->free_list) {
        smoa_kv_pool_free(pool);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory for %u KV pages", n_pages);
    }
    pool->n_pages = n_pages;
    /* hand out low page ids first: pop from the end of the stack */
    for (uint32_t i = 0; i < n_pages; i++) pool->free_list[i] = n_pages - 1 - i;
    pool->n_free = n_pages;
    return SMOA_OK;
}

void smoa_kv_pool_free(smoa_kv_pool *pool) {
    free(pool->refcount);
    free(pool->free_list);
    memset(pool, 0, sizeof *pool);
}

static uint32_t take_page(smoa_kv_pool *pool) {
    uint32_t page = pool->free_list[--pool->n_free];
    pool->refcount[page] = 1;
    return page;
}

static void drop_page(smoa_kv_pool *pool, uint32_t page) {
    if (--pool->refcount[page] == 0) pool->free_list[pool->n_free++] = page;
}

smoa_status smoa_kv_seq_reserve(smoa_kv_pool *pool, smoa_kv_seq *seq, uint32_t max_pages, uint32_t n,
                                smoa_kv_copy_fn copy, void *backend, smoa_error *err) {
    uint64_t new_length = (uint64_t)seq->length + n;
    uint64_t pages_needed = (new_length + SMOA_KV_PAGE - 1) / SMOA_KV_PAGE;
    bool last_partial = seq->length % SMOA_KV_PAGE != 0;
    bool cow = n > 0 && last_partial && pool->refcount[seq->pages[seq->n_pages - 1]] > 1;
    uint64_t fresh = pages_needed > seq->n_pages ? pages_needed - seq->n_pages : 0;
    if (pages_needed > max_pages)
        return smoa_error_set(err, SMOA_ERR_CONTEXT_FULL,
                              "sequence would hold %llu tokens, more than the context size of %u",
                              (unsigned long long)new_length, max_pages * SMOA_KV_PAGE);
    if (fresh + cow > pool->n_free)
        return smoa_error_set(err, SMOA_ERR_CONTEXT_FULL,
                              "the KV cache budget of %u tokens is used up (%u tokens free)",
                              pool->n_pages * SMOA_KV_PAGE, pool->n_free * SMOA_KV_PAGE);
    if (cow) {
        uint32_t shared = seq->pages[seq->n_pages - 1];
        uint32_t own = take_page(pool);
        copy(backend, own, shared);
        drop_page(pool, shared);
        seq->pages[seq->n_pages - 1] = own;
    }
    while (seq->n_pages < pages_needed) seq->pages[seq->n_pages++] = take_page(pool);
    return SMOA_OK;
}

void smoa_kv_seq_share(smoa_kv_pool *pool, smoa_kv_seq *dst, const smoa_kv_seq *src) {
    memcpy(dst->pages, src->pages, src->n_pages * sizeof *src->pages);
    dst->n_pages = src->n_pages;
    dst->length = src->length;
    for (uint32_t i = 0; i < src->n_pages; i++) pool->refcount[src->pages[i]]++;
}

void smoa_kv_seq_trim(smoa_kv_pool *pool, smoa_kv_seq *seq) {
    uint32_t keep = (seq->length + SMOA_KV_PAGE - 1) / SMOA_KV_PAGE;
    while (seq->n_pages > keep) drop_page(pool, seq->pages[--seq->n_pages]);
}

void smoa_kv_seq_release(smoa_kv_pool *pool, smoa_kv_seq *seq) {
    for (uint32_t i = 0; i < seq->n_pages; i++) drop_page(pool, seq->pages[i]);
    seq->n_pages = 0;
    seq->length = 0;
}
