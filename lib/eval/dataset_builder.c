/* dataset_builder.c - collects the items and warnings of a load, refusing
 * duplicate ids, and frees items and sets. */
#include "eval/dataset_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAPACITY 64

/* Grows *array (of elem bytes each) so that it holds at least need. */
static bool reserve(void **array, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t cap_new = *cap ? *cap : FIRST_CAPACITY;
    while (cap_new < need) cap_new *= 2;
    if (cap_new > (size_t)-1 / elem) return false;
    void *grown = realloc(*array, cap_new * elem);
    if (!grown) return false;
    *array = grown;
    *cap = cap_new;
    return true;
}

bool smoa_eval_builder_init(smoa_eval_builder *b, const char *name) {
    memset(b, 0, sizeof *b);
    b->ds = calloc(1, sizeof *b->ds);
    if (b->ds && (b->ds->name = smoa_eval_strdup(name)) != NULL) return true;
    free(b->ds);
    b->ds = NULL;
    return false;
}

smoa_eval_dataset *smoa_eval_builder_finish(smoa_eval_builder *b) {
    free(b->id_slots);
    if (b->oom) {
        smoa_eval_dataset_free(b->ds);
        b->ds = NULL;
    }
    smoa_eval_dataset *ds = b->ds;
    memset(b, 0, sizeof *b);
    return ds;
}

void smoa_eval_builder_discard(smoa_eval_builder *b) {
    b->oom = true;
    smoa_eval_builder_finish(b);
}

void smoa_eval_warn(smoa_eval_builder *b, const char *file, size_t line, const char *fmt, ...) {
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    smoa_eval_dataset *ds = b->ds;
    char *text = line ? smoa_eval_printf("%s:%zu: %s", file, line, reason)
                      : smoa_eval_printf("%s: %s", file, reason);
    if (!text || !reserve((void **)&ds->warnings, &b->cap_warnings, ds->n_warnings + 1,
                          sizeof *ds->warnings)) {
        free(text);
        b->oom = true;
        return;
    }
    ds->warnings[ds->n_warnings++] = text;
}

void smoa_eval_item_init(smoa_eval_item *it) {
    memset(it, 0, sizeof *it);
    it->gold_choice = -1;
    it->bbq.unknown_choice = -1;
}

bool smoa_eval_item_alloc_turns(smoa_eval_item *it, size_t n_turns) {
    it->turns = calloc(n_turns, sizeof *it->turns);
    it->references = calloc(n_turns, sizeof *it->references);
    it->n_turns = n_turns;
    return it->turns && it->references;
}

bool smoa_eval_item_alloc_choices(smoa_eval_item *it, size_t n_choices) {
    it->choices = calloc(n_choices, sizeof *it->choices);
    it->n_choices = n_choices;
    return it->choices != NULL;
}

void smoa_eval_item_clear(smoa_eval_item *it) {
    free(it->id);
    free(it->category);
    smoa_eval_free_strings(it->turns, it->n_turns);
    smoa_eval_free_strings(it->references, it->n_turns);
    smoa_eval_free_strings(it->choices, it->n_choices);
    smoa_eval_item_init(it);
}

/* ------------------------------------------------------------------------ */
/* The id set: open addressing over item indices, kept at most half full.   */

static size_t *id_slot(const smoa_eval_builder *b, const char *id) {
    size_t mask = b->n_id_slots - 1;
    size_t i = (size_t)smoa_eval_hash(id, 0) & mask;
    while (b->id_slots[i] && strcmp(b->ds->items[b->id_slots[i] - 1].id, id) != 0)
        i = (i + 1) & mask;
    return &b->id_slots[i];
}

static bool grow_id_set(smoa_eval_builder *b) {
    size_t n_new = b->n_id_slots ? b->n_id_slots * 2 : 2 * FIRST_CAPACITY;
    size_t *slots = calloc(n_new, sizeof *slots);
    if (!slots) return false;
    free(b->id_slots);
    b->id_slots = slots;
    b->n_id_slots = n_new;
    for (size_t k = 0; k < b->ds->n_items; k++) *id_slot(b, b->ds->items[k].id) = k + 1;
    return true;
}

/* Every string a loader must set is there: a NULL means an allocation
 * failed on the way. */
static bool is_complete(const smoa_eval_item *it) {
    if (!it->id || !it->turns || !it->references || !it->n_turns) return false;
    for (size_t t = 0; t < it->n_turns; t++)
        if (!it->turns[t]) return false;
    if (it->n_choices && !it->choices) return false;
    for (size_t i = 0; i < it->n_choices; i++)
        if (!it->choices[i]) return false;
    return true;
}

smoa_eval_item *smoa_eval_builder_find(const smoa_eval_builder *b, const char *id) {
    if (!b->n_id_slots) return NULL;
    size_t slot = *id_slot(b, id);
    return slot ? &b->ds->items[slot - 1] : NULL;
}

void smoa_eval_builder_add(smoa_eval_builder *b, smoa_eval_item *it, const char *file,
                           size_t line) {
    smoa_eval_dataset *ds = b->ds;
    if (!is_complete(it) ||
        !reserve((void **)&ds->items, &b->cap_items, ds->n_items + 1, sizeof *ds->items) ||
        (2 * (ds->n_items + 1) > b->n_id_slots && !grow_id_set(b))) {
        smoa_eval_item_clear(it);
        b->oom = true;
        return;
    }
    size_t *slot = id_slot(b, it->id);
    if (*slot) {
        smoa_eval_warn(b, file, line, "duplicate id '%s': record skipped", it->id);
        smoa_eval_item_clear(it);
        return;
    }
    it->question = it->turns[0];
    ds->items[ds->n_items] = *it;
    *slot = ++ds->n_items;
    smoa_eval_item_init(it);
}

void smoa_eval_dataset_free(smoa_eval_dataset *ds) {
    if (!ds) return;
    for (size_t i = 0; i < ds->n_items; i++) smoa_eval_item_clear(&ds->items[i]);
    free(ds->items);
    smoa_eval_free_strings(ds->warnings, ds->n_warnings);
    free(ds->name);
    free(ds);
}

void smoa_eval_free_strings(char **strings, size_t n) {
    if (!strings) return;
    for (size_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
}
