/* dataset_user.c - items from a user's file: the checks and the item model
 * shared by the JSON Lines and CSV readers (the format is described in
 * data/README.md, "Your own questions"). */
#include "eval/dataset_internal.h"

#include <stdlib.h>

#include "eval/scorer.h"

#define MAX_CHOICES 26

/* The gold option: label (an index or a letter), else answer (a letter);
 * -1 with a warning when neither names one of the options. */
static int gold_option(smoa_eval_builder *b, const char *file, size_t line,
                       const smoa_eval_user_record *r) {
    int gold = -1;
    if (r->has_label_index) {
        bool in_range = r->label_index >= 0 && (size_t)r->label_index < r->n_choices;
        gold = in_range ? (int)r->label_index : -1;
    } else if (r->label_text) {
        gold = smoa_eval_option_index(r->label_text, r->n_choices);
    } else if (r->answer_text) {
        gold = smoa_eval_option_index(r->answer_text, r->n_choices);
    } else {
        smoa_eval_warn(b, file, line, "a question with choices needs \"label\" (0-based index "
                                      "or letter) or \"answer\" (letter)");
        return -1;
    }
    if (gold < 0)
        smoa_eval_warn(b, file, line, "the label or answer names none of the %zu choices (0 to "
                                      "%zu, or A to %c)", r->n_choices, r->n_choices - 1,
                       (char)('A' + r->n_choices - 1));
    return gold;
}

/* Sets the kind and gold of it; false (with a warning) when they clash. */
static bool set_kind(smoa_eval_builder *b, const char *file, size_t line,
                     const smoa_eval_user_record *r, smoa_eval_item *it) {
    bool has_answer = r->answer_text || r->has_answer_number;
    if (r->n_turns > 1 && (r->n_choices || has_answer)) {
        smoa_eval_warn(b, file, line, "a question of several turns is open: no choices or answer");
        return false;
    }
    if (r->n_choices) {
        if (r->n_choices < 2 || r->n_choices > MAX_CHOICES) {
            smoa_eval_warn(b, file, line, "%zu choices: 2 to 26 are possible", r->n_choices);
            return false;
        }
        it->kind = SMOA_EVAL_CHOICE;
        it->gold_choice = gold_option(b, file, line, r);
        return it->gold_choice >= 0;
    }
    if (r->label_text || r->has_label_index) {
        smoa_eval_warn(b, file, line, "\"label\" without choices");
        return false;
    }
    it->kind = has_answer ? SMOA_EVAL_NUMERIC : SMOA_EVAL_OPEN;
    it->has_gold_number = has_answer;
    it->gold_number = r->answer_number;
    if (r->answer_text && !smoa_eval_parse_number(r->answer_text, &it->gold_number)) {
        smoa_eval_warn(b, file, line, "the answer '%.40s' is not a number (an open question's "
                                      "model answer goes in \"reference\")", r->answer_text);
        return false;
    }
    return true;
}

static char **copy_strings(const char *const *strings, size_t n, size_t n_alloc) {
    char **copy = calloc(n_alloc ? n_alloc : 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++) copy[i] = smoa_eval_strdup(strings[i]);
    return copy;
}

void smoa_eval_add_user_record(smoa_eval_builder *b, const char *file, size_t line,
                               const smoa_eval_user_record *r) {
    if (r->n_turns == 0) {
        smoa_eval_warn(b, file, line, "no question");
        return;
    }
    if (r->n_references > r->n_turns) {
        smoa_eval_warn(b, file, line, "more references than turns");
        return;
    }
    smoa_eval_item it;
    smoa_eval_item_init(&it);
    if (!set_kind(b, file, line, r, &it)) return;
    it.id = r->id ? smoa_eval_printf("%s/%s", b->ds->name, r->id)
                  : smoa_eval_printf("%s/line-%zu", b->ds->name, line);
    it.category = smoa_eval_strdup(r->category);
    it.n_turns = r->n_turns;
    it.turns = copy_strings(r->turns, r->n_turns, r->n_turns);
    it.references = copy_strings(r->references, r->n_references, r->n_turns);
    it.n_choices = r->n_choices;
    it.choices = r->n_choices ? copy_strings(r->choices, r->n_choices, r->n_choices) : NULL;
    smoa_eval_builder_add(b, &it, file, line);
}
