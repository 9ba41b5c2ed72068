/* dataset_select.c - the seeded, resumable choice of items for a run:
 * items sorted by a hash of (seed, id), ties broken by the id. */
#include "eval/dataset_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct keyed_item {
    uint64_t key;
    const char *id;
    size_t index;
} keyed_item;

static int compare_keyed(const void *a, const void *b) {
    const keyed_item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return strcmp(x->id, y->id);
}

smoa_status smoa_eval_dataset_select(const smoa_eval_dataset *ds, size_t limit, uint64_t seed,
                                     size_t *order, size_t *n_selected) {
    size_t n = ds->n_items;
    size_t take = limit && limit < n ? limit : n;
    *n_selected = 0;
    keyed_item *keyed = malloc((n ? n : 1) * sizeof *keyed);
    if (!keyed) return SMOA_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++)
        keyed[i] = (keyed_item){smoa_eval_hash(ds->items[i].id, seed), ds->items[i].id, i};
    qsort(keyed, n, sizeof *keyed, compare_keyed);
    for (size_t i = 0; i < take; i++) order[i] = keyed[i].index;
    free(keyed);
    *n_selected = take;
    return SMOA_OK;
}
