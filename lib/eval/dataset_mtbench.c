/* dataset_mtbench.c - MT-bench: mt_bench/question.jsonl ({"question_id",
 * "category", "turns": [..]}) and the GPT-4 reference answers of the math,
 * reasoning and coding questions in mt_bench/reference_answer/gpt-4.jsonl
 * ({"question_id", "choices": [{"turns": [..]}]}), as FastChat's judge
 * uses them. The short "reference" hints some questions carry are not
 * used. Ids "mt-bench/<question_id>". */
#include "eval/dataset_internal.h"

#include <stdlib.h>

static char *item_id(const smoa_eval_builder *b, const json_t *record) {
    const json_t *qid = json_object_get(record, "question_id");
    if (!json_is_integer(qid)) return NULL;
    return smoa_eval_printf("%s/%lld", b->ds->name, (long long)json_integer_value(qid));
}

/* The turns array when every element is a string, else NULL. */
static const json_t *string_array(const json_t *array) {
    if (!json_is_array(array) || json_array_size(array) == 0) return NULL;
    for (size_t t = 0; t < json_array_size(array); t++)
        if (!json_is_string(json_array_get(array, t))) return NULL;
    return array;
}

static void question_record(smoa_eval_builder *b, const char *file, size_t line, json_t *record,
                            void *user) {
    (void)user;
    const json_t *turns = string_array(json_object_get(record, "turns"));
    if (!json_is_integer(json_object_get(record, "question_id")) || !turns) {
        smoa_eval_warn(b, file, line, "needs the integer \"question_id\" and \"turns\", a "
                                      "non-empty list of strings");
        return;
    }
    smoa_eval_item it;
    smoa_eval_item_init(&it);
    it.kind = SMOA_EVAL_OPEN;
    it.id = item_id(b, record);
    it.category = smoa_eval_strdup(smoa_eval_json_string(record, "category"));
    if (smoa_eval_item_alloc_turns(&it, json_array_size(turns)))
        for (size_t t = 0; t < it.n_turns; t++)
            it.turns[t] = smoa_eval_strdup(json_string_value(json_array_get(turns, t)));
    smoa_eval_builder_add(b, &it, file, line);
}

static void reference_record(smoa_eval_builder *b, const char *file, size_t line, json_t *record,
                             void *user) {
    (void)user;
    const json_t *choice = json_array_get(json_object_get(record, "choices"), 0);
    const json_t *turns = string_array(json_object_get(choice, "turns"));
    bool has_qid = json_is_integer(json_object_get(record, "question_id"));
    char *id = item_id(b, record);
    smoa_eval_item *it = id ? smoa_eval_builder_find(b, id) : NULL;
    if (has_qid && !id) b->oom = true;
    else if (!turns || !has_qid)
        smoa_eval_warn(b, file, line, "needs the integer \"question_id\" and "
                                      "\"choices\": [{\"turns\": [strings]}]");
    else if (!it)
        smoa_eval_warn(b, file, line, "no question has this \"question_id\"");
    for (size_t t = 0; it && turns && t < it->n_turns && t < json_array_size(turns); t++) {
        free(it->references[t]);
        it->references[t] = smoa_eval_strdup(json_string_value(json_array_get(turns, t)));
        if (!it->references[t]) b->oom = true;
    }
    free(id);
}

smoa_status smoa_eval_load_mtbench(smoa_eval_builder *b, const char *dir, smoa_error *err) {
    smoa_status st =
        smoa_eval_each_jsonl_file(b, dir, "mt_bench/question.jsonl", question_record, NULL, err);
    if (st != SMOA_OK) return st;
    return smoa_eval_each_jsonl_file(b, dir, "mt_bench/reference_answer/gpt-4.jsonl",
                                     reference_record, NULL, err);
}
