/* dataset_mmlu.c - MMLU (hendrycks/test): one header-less CSV per subject,
 * rows "question,A,B,C,D,answer-letter". The subject is the file name less
 * "_<split>.csv"; ids "<set>/<subject>/<row>", row counted from 0 over all
 * records, skipped ones included, so ids stay put. */
#include "eval/dataset_internal.h"

#include <stdlib.h>
#include <string.h>

#define MMLU_OPTIONS 4

typedef struct mmlu_file {
    const char *subject;
    size_t row;
} mmlu_file;

static void mmlu_record(smoa_eval_builder *b, const char *file, size_t line, char **fields,
                        size_t n_fields, void *user) {
    mmlu_file *f = user;
    size_t row = f->row++;
    if (n_fields != MMLU_OPTIONS + 2) {
        smoa_eval_warn(b, file, line, "%zu fields, expected 6 (question, A, B, C, D, answer)",
                       n_fields);
        return;
    }
    int gold = smoa_eval_option_index(fields[MMLU_OPTIONS + 1], MMLU_OPTIONS);
    if (gold < 0) {
        smoa_eval_warn(b, file, line, "answer '%.16s' is not a letter A to D",
                       fields[MMLU_OPTIONS + 1]);
        return;
    }
    smoa_eval_item it;
    smoa_eval_item_init(&it);
    it.kind = SMOA_EVAL_CHOICE;
    it.gold_choice = gold;
    it.id = smoa_eval_printf("%s/%s/%zu", b->ds->name, f->subject, row);
    it.category = smoa_eval_strdup(f->subject);
    if (smoa_eval_item_alloc_turns(&it, 1)) {
        it.turns[0] = fields[0];
        fields[0] = NULL;
    }
    if (smoa_eval_item_alloc_choices(&it, MMLU_OPTIONS)) {
        for (size_t i = 0; i < MMLU_OPTIONS; i++) {
            it.choices[i] = fields[1 + i];
            fields[1 + i] = NULL;
        }
    }
    smoa_eval_builder_add(b, &it, file, line);
}

static smoa_status load_subject(smoa_eval_builder *b, const char *split_dir, const char *name,
                                size_t suffix_len, smoa_error *err) {
    char *subject = smoa_eval_strdup(name);
    if (!subject) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "loading mmlu");
    subject[strlen(subject) - suffix_len] = '\0';
    mmlu_file f = {.subject = subject};
    smoa_status st = smoa_eval_each_csv_file(b, split_dir, name, mmlu_record, &f, err);
    free(subject);
    return st;
}

smoa_status smoa_eval_load_mmlu(smoa_eval_builder *b, const char *dir, const char *split,
                                smoa_error *err) {
    char *split_dir = smoa_eval_printf("%s/mmlu/data/%s", dir, split);
    char *suffix = smoa_eval_printf("_%s.csv", split);
    char **names = NULL;
    size_t n = 0;
    smoa_status st = split_dir && suffix
                         ? smoa_eval_list_dir(split_dir, suffix, &names, &n, err)
                         : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "loading mmlu");
    if (st == SMOA_OK && n == 0)
        st = smoa_error_set(err, SMOA_ERR_IO, "no '*%s' file in '%s'", suffix, split_dir);
    for (size_t i = 0; st == SMOA_OK && i < n && !b->oom; i++)
        st = load_subject(b, split_dir, names[i], strlen(suffix), err);
    smoa_eval_free_strings(names, n);
    free(suffix);
    free(split_dir);
    return st;
}
