/* dataset_user_jsonl.c - a user's JSON Lines file: one object per line
 * with "question" or "turns", and optionally "id", "category", "choices",
 * "label", "answer" and "reference" (data/README.md). */
#include "eval/dataset_internal.h"

#include <stdlib.h>

/* The strings of a JSON list (nulls allowed where allow_null), or of a
 * lone string, borrowed. NULL with *bad set when it is neither (an empty
 * list included: it says nothing); NULL with b->oom set on memory. */
static const char **string_list(smoa_eval_builder *b, const json_t *v, bool allow_null, size_t *n,
                                bool *bad) {
    *n = 0;
    if (!v) return NULL;
    bool lone = json_is_string(v);
    size_t count = lone ? 1 : json_array_size(v);
    if (!count) {
        *bad = true;
        return NULL;
    }
    const char **list = calloc(count, sizeof *list);
    if (!list) {
        b->oom = true;
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *e = lone ? v : json_array_get(v, i);
        if (json_is_string(e)) list[i] = json_string_value(e);
        else if (!json_is_null(e) || !allow_null) *bad = true;
    }
    if (*bad) {
        free(list);
        return NULL;
    }
    *n = count;
    return list;
}

/* id: a string, or an integer written in buf. */
static bool read_id(const json_t *v, char *buf, size_t size, const char **id) {
    *id = NULL;
    if (!v) return true;
    if (json_is_string(v)) *id = json_string_value(v);
    else if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        *id = buf;
    }
    return *id != NULL;
}

static bool read_answer(const json_t *v, smoa_eval_user_record *r) {
    if (!v) return true;
    if (json_is_number(v)) {
        r->has_answer_number = true;
        r->answer_number = json_number_value(v);
        return true;
    }
    r->answer_text = json_string_value(v);
    return r->answer_text != NULL;
}

static bool read_label(const json_t *v, smoa_eval_user_record *r) {
    if (!v) return true;
    if (json_is_integer(v)) {
        r->has_label_index = true;
        r->label_index = json_integer_value(v);
        return true;
    }
    r->label_text = json_string_value(v);
    return r->label_text != NULL;
}

/* What is wrong with the record's fields, or NULL; fills the scalar
 * fields of r (id written into id_buf when an integer). */
static const char *read_scalars(const json_t *record, smoa_eval_user_record *r, char *id_buf,
                                size_t id_size) {
    const json_t *category = json_object_get(record, "category");
    r->category = json_string_value(category);
    if (!read_id(json_object_get(record, "id"), id_buf, id_size, &r->id))
        return "\"id\" must be a string or an integer";
    if (category && !r->category) return "\"category\" must be a string";
    if (!read_answer(json_object_get(record, "answer"), r))
        return "\"answer\" must be a number or a string";
    if (!read_label(json_object_get(record, "label"), r))
        return "\"label\" must be an integer or a letter";
    return NULL;
}

static void user_record(smoa_eval_builder *b, const char *file, size_t line, json_t *record,
                        void *user) {
    (void)user;
    smoa_eval_user_record r = {0};
    const json_t *question = json_object_get(record, "question");
    const json_t *turns = json_object_get(record, "turns");
    const json_t *choices = json_object_get(record, "choices");
    bool bad_turns = (question && turns) || (!question && !turns) ||
                     (question && !json_is_string(question));
    bool bad_choices = choices && !json_is_array(choices);
    bool bad_refs = false;
    const char **turn_list =
        string_list(b, turns ? turns : question, false, &r.n_turns, &bad_turns);
    const char **ref_list =
        string_list(b, json_object_get(record, "reference"), true, &r.n_references, &bad_refs);
    const char **choice_list = string_list(b, choices, false, &r.n_choices, &bad_choices);
    r.turns = turn_list;
    r.references = ref_list;
    r.choices = choice_list;
    char id_buf[32];
    const char *problem =
        bad_turns     ? "needs \"question\" (a string) or \"turns\" (a list of strings)"
        : bad_choices ? "\"choices\" must be a list of strings"
        : bad_refs    ? "\"reference\" must be a string or a list of strings"
                      : read_scalars(record, &r, id_buf, sizeof id_buf);
    if (problem) smoa_eval_warn(b, file, line, "%s", problem);
    else if (!b->oom) smoa_eval_add_user_record(b, file, line, &r);
    free(turn_list);
    free(ref_list);
    free(choice_list);
}

smoa_status smoa_eval_load_user_jsonl(smoa_eval_builder *b, const char *path, smoa_error *err) {
    return smoa_eval_each_jsonl_file(b, NULL, path, user_record, NULL, err);
}
