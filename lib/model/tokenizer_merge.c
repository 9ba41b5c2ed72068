/* tokenizer_merge.c - symbol list plus a binary min-heap of merge candidates. */
#include "model/tokenizer_merge.h"

#include <stdlib.h>

/* Grows *array (of elem bytes each) to hold at least need elements. */
static bool grow(void **array, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    if (n > SIZE_MAX / elem) return false;
    void *p = realloc(*array, n * elem);
    if (!p) return false;
    *array = p;
    *cap = n;
    return true;
}

smoa_status smoa_merger_reset(smoa_merger *m, size_t n) {
    if (n > INT32_MAX || !grow((void **)&m->symbols, &m->cap_symbols, n, sizeof *m->symbols))
        return SMOA_ERR_OUT_OF_MEMORY;
    m->n_symbols = n;
    m->n_heap = 0;
    return SMOA_OK;
}

void smoa_merger_link(smoa_merger *m) {
    for (size_t i = 0; i < m->n_symbols; i++) {
        m->symbols[i].prev = (int32_t)i - 1;
        m->symbols[i].next = i + 1 < m->n_symbols ? (int32_t)i + 1 : -1;
    }
}

/* Heap order: lower priority first; among equals, the leftmost pair. */
static bool comes_before(const smoa_merge_candidate *a, const smoa_merge_candidate *b) {
    if (a->priority != b->priority) return a->priority < b->priority;
    return a->left < b->left;
}

static bool heap_push(smoa_merger *m, const smoa_merge_candidate *c) {
    if (!grow((void **)&m->heap, &m->cap_heap, m->n_heap + 1, sizeof *m->heap)) return false;
    size_t i = m->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!comes_before(c, &m->heap[parent])) break;
        m->heap[i] = m->heap[parent];
        i = parent;
    }
    m->heap[i] = *c;
    return true;
}

static smoa_merge_candidate heap_pop(smoa_merger *m) {
    smoa_merge_candidate top = m->heap[0];
    smoa_merge_candidate last = m->heap[--m->n_heap];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= m->n_heap) break;
        if (child + 1 < m->n_heap && comes_before(&m->heap[child + 1], &m->heap[child])) child++;
        if (!comes_before(&m->heap[child], &last)) break;
        m->heap[i] = m->heap[child];
        i = child;
    }
    if (m->n_heap) m->heap[i] = last;
    return top;
}

/* Queues the pair (left, right) when both exist and the judge allows it. */
static bool consider(smoa_merger *m, int32_t left, int32_t right, smoa_merge_judge judge,
                     const void *ctx) {
    if (left < 0 || right < 0) return true;
    const smoa_symbol *l = &m->symbols[left], *r = &m->symbols[right];
    smoa_merge_candidate c = {.left = left, .right = right, .len = l->len + r->len};
    if (!judge(ctx, l, r, &c)) return true;
    return heap_push(m, &c);
}

/* A candidate is current when its two symbols are still adjacent and have
 * the sizes they had when it was queued. Symbols only ever grow to the
 * right, so position plus sizes pin down the text. */
static bool is_current(const smoa_merger *m, const smoa_merge_candidate *c) {
    const smoa_symbol *l = &m->symbols[c->left], *r = &m->symbols[c->right];
    return l->len && r->len && l->next == c->right && l->len + r->len == c->len;
}

smoa_status smoa_merger_run(smoa_merger *m, smoa_merge_judge judge, const void *ctx) {
    for (size_t i = 0; i + 1 < m->n_symbols; i++)
        if (!consider(m, (int32_t)i, (int32_t)i + 1, judge, ctx)) return SMOA_ERR_OUT_OF_MEMORY;
    while (m->n_heap) {
        smoa_merge_candidate c = heap_pop(m);
        if (!is_current(m, &c)) continue;
        smoa_symbol *l = &m->symbols[c.left], *r = &m->symbols[c.right];
        l->len += r->len;
        l->id = c.result;
        l->next = r->next;
        r->len = 0;
        if (l->next >= 0) m->symbols[l->next].prev = c.left;
        if (!consider(m, l->prev, c.left, judge, ctx) || !consider(m, c.left, l->next, judge, ctx))
            return SMOA_ERR_OUT_OF_MEMORY;
    }
    return SMOA_OK;
}

void smoa_merger_free(smoa_merger *m) {
    free(m->symbols);
    free(m->heap);
    *m = (smoa_merger){0};
}
