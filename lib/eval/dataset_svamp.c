/* dataset_svamp.c - SVAMP: one JSON array of {"ID", "Body", "Question",
 * "Answer", "Type", ...}. The question is Body + " " + Question (the
 * authors' own prompt), the gold the numeric Answer; ids "svamp/<ID>". */
#include "eval/dataset_internal.h"

#include <stdlib.h>

#define SVAMP_FILE "svamp/SVAMP.json"

static void svamp_record(smoa_eval_builder *b, const char *file, size_t index, json_t *record) {
    const char *id = smoa_eval_json_string(record, "ID");
    const char *body = smoa_eval_json_string(record, "Body");
    const char *question = smoa_eval_json_string(record, "Question");
    const json_t *answer = json_object_get(record, "Answer");
    if (!id || !body || !question || !json_is_number(answer)) {
        smoa_eval_warn(b, file, 0, "record %zu: needs the strings \"ID\", \"Body\", \"Question\" "
                                   "and the number \"Answer\"", index);
        return;
    }
    smoa_eval_item it;
    smoa_eval_item_init(&it);
    it.kind = SMOA_EVAL_NUMERIC;
    it.has_gold_number = true;
    it.gold_number = json_number_value(answer);
    it.id = smoa_eval_printf("%s/%s", b->ds->name, id);
    it.category = smoa_eval_strdup(smoa_eval_json_string(record, "Type"));
    if (smoa_eval_item_alloc_turns(&it, 1)) it.turns[0] = smoa_eval_printf("%s %s", body, question);
    smoa_eval_builder_add(b, &it, file, 0);
}

smoa_status smoa_eval_load_svamp(smoa_eval_builder *b, const char *dir, smoa_error *err) {
    char *path = smoa_eval_path_join(dir, SVAMP_FILE);
    if (!path) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "loading svamp");
    char *data;
    size_t len;
    smoa_status st = smoa_eval_read_file(path, &data, &len, err);
    if (st == SMOA_OK) {
        json_error_t jerr;
        json_t *root = json_loadb(data, len, 0, &jerr);
        size_t line = jerr.line > 0 ? (size_t)jerr.line : 0;
        if (!root) smoa_eval_warn(b, path, line, "invalid JSON: %s", jerr.text);
        else if (!json_is_array(root)) smoa_eval_warn(b, path, 0, "not a JSON array");
        for (size_t i = 0; json_is_array(root) && i < json_array_size(root) && !b->oom; i++) {
            json_t *record = json_array_get(root, i);
            if (json_is_object(record)) svamp_record(b, path, i, record);
            else smoa_eval_warn(b, path, 0, "record %zu: not a JSON object", i);
        }
        json_decref(root);
    }
    free(data);
    free(path);
    return st;
}
