/* dataset_gsm8k.c - GSM8K test: {"question", "answer"} per line, the gold
 * number after the solution's last "####". Ids are "gsm8k/<line - 1>", so
 * they stay put when a line before is skipped. */
#include "eval/dataset_internal.h"
#include "eval/scorer.h"

static void gsm8k_record(smoa_eval_builder *b, const char *file, size_t line, json_t *record,
                         void *user) {
    (void)user;
    const char *question = smoa_eval_json_string(record, "question");
    const char *solution = smoa_eval_json_string(record, "answer");
    double gold;
    if (!question || !solution) {
        smoa_eval_warn(b, file, line, "needs the strings \"question\" and \"answer\"");
        return;
    }
    if (!smoa_eval_gsm8k_gold(solution, &gold)) {
        smoa_eval_warn(b, file, line, "no number after the last \"####\" of \"answer\"");
        return;
    }
    smoa_eval_item it;
    smoa_eval_item_init(&it);
    it.kind = SMOA_EVAL_NUMERIC;
    it.has_gold_number = true;
    it.gold_number = gold;
    it.id = smoa_eval_printf("%s/%zu", b->ds->name, line - 1);
    if (smoa_eval_item_alloc_turns(&it, 1)) it.turns[0] = smoa_eval_strdup(question);
    smoa_eval_builder_add(b, &it, file, line);
}

smoa_status smoa_eval_load_gsm8k(smoa_eval_builder *b, const char *dir, smoa_error *err) {
    return smoa_eval_each_jsonl_file(b, dir, "gsm8k/test.jsonl", gsm8k_record, NULL, err);
}
