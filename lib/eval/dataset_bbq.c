/* dataset_bbq.c - BBQ: one JSON Lines file per category under bbq/data/.
 * Each record: context, question, ans0..ans2, label, context_condition
 * (ambig/disambig), question_polarity (neg/nonneg), answer_info (per
 * option [text, group]; group "unknown" marks the can't-tell option) and
 * additional_metadata.stereotyped_groups. Ids "bbq/<category>/<example_id>".
 *
 * The biased option, after the paper: the option naming a stereotyped
 * group for a negative question, the other group's option for a
 * non-negative one. An option names a stereotyped group when its group
 * label or its text equals one of them, ignoring case ("old" for the label
 * of "grandfather"; the text "British" where the label is a region). */
#include "eval/dataset_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BBQ_OPTIONS 3

static const char *const option_keys[BBQ_OPTIONS] = {"ans0", "ans1", "ans2"};

typedef struct bbq_answer_info {
    const char *text[BBQ_OPTIONS];
    const char *group[BBQ_OPTIONS];
} bbq_answer_info;

static bool read_answer_info(const json_t *record, bbq_answer_info *info) {
    const json_t *all = json_object_get(record, "answer_info");
    for (int i = 0; i < BBQ_OPTIONS; i++) {
        const json_t *pair = json_object_get(all, option_keys[i]);
        info->text[i] = json_string_value(json_array_get(pair, 0));
        info->group[i] = json_string_value(json_array_get(pair, 1));
        if (!info->text[i] || !info->group[i]) return false;
    }
    return true;
}

/* The one option whose group is "unknown"; -1 when not exactly one. */
static int unknown_option(const bbq_answer_info *info) {
    int found = -1;
    for (int i = 0; i < BBQ_OPTIONS; i++) {
        if (strcmp(info->group[i], "unknown") != 0) continue;
        if (found >= 0) return -1;
        found = i;
    }
    return found;
}

static bool is_stereotyped(const json_t *groups, const char *text, const char *group) {
    for (size_t k = 0; k < json_array_size(groups); k++) {
        const char *g = json_string_value(json_array_get(groups, k));
        if (g && (strcasecmp(g, text) == 0 || strcasecmp(g, group) == 0)) return true;
    }
    return false;
}

static void flag_biased(smoa_eval_bbq *bbq, const bbq_answer_info *info, const json_t *record) {
    const json_t *groups =
        json_object_get(json_object_get(record, "additional_metadata"), "stereotyped_groups");
    int target = -1, n_targets = 0;
    for (int i = 0; i < BBQ_OPTIONS; i++) {
        if (i != bbq->unknown_choice && is_stereotyped(groups, info->text[i], info->group[i])) {
            target = i;
            n_targets++;
        }
    }
    if (n_targets != 1) return; /* can't tell: no flags, so no bias counted */
    for (int i = 0; i < BBQ_OPTIONS; i++)
        if (i != bbq->unknown_choice) bbq->biased[i] = (i == target) == bbq->negative;
}

/* "a" or "b" -> 0 or 1; -1 for anything else. */
static int one_of(const char *s, const char *a, const char *b) {
    return !s ? -1 : strcmp(s, a) == 0 ? 0 : strcmp(s, b) == 0 ? 1 : -1;
}

static void bbq_record(smoa_eval_builder *b, const char *file, size_t line, json_t *record,
                       void *user) {
    (void)user;
    const char *category = smoa_eval_json_string(record, "category");
    const char *context = smoa_eval_json_string(record, "context");
    const char *question = smoa_eval_json_string(record, "question");
    const json_t *example_id = json_object_get(record, "example_id");
    const json_t *label = json_object_get(record, "label");
    int condition = one_of(smoa_eval_json_string(record, "context_condition"), "ambig", "disambig");
    int polarity = one_of(smoa_eval_json_string(record, "question_polarity"), "neg", "nonneg");
    const char *options[BBQ_OPTIONS];
    bool have_options = true;
    for (int i = 0; i < BBQ_OPTIONS; i++) {
        options[i] = smoa_eval_json_string(record, option_keys[i]);
        have_options = have_options && options[i];
    }
    bbq_answer_info info;
    if (!category || !context || !question || !json_is_integer(example_id) || !have_options) {
        smoa_eval_warn(b, file, line, "needs \"example_id\", \"category\", \"context\", "
                                      "\"question\" and \"ans0\" to \"ans2\"");
        return;
    }
    if (!json_is_integer(label) || json_integer_value(label) < 0 ||
        json_integer_value(label) >= BBQ_OPTIONS) {
        smoa_eval_warn(b, file, line, "\"label\" is not 0, 1 or 2");
        return;
    }
    if (condition < 0 || polarity < 0) {
        smoa_eval_warn(b, file, line, "\"context_condition\" must be ambig/disambig and "
                                      "\"question_polarity\" neg/nonneg");
        return;
    }
    if (!read_answer_info(record, &info) || unknown_option(&info) < 0) {
        smoa_eval_warn(b, file, line, "\"answer_info\" needs [text, group] for ans0 to ans2, "
                                      "exactly one with the group \"unknown\"");
        return;
    }

    smoa_eval_item it;
    smoa_eval_item_init(&it);
    it.kind = SMOA_EVAL_CHOICE;
    it.gold_choice = (int)json_integer_value(label);
    it.bbq.present = true;
    it.bbq.ambiguous = condition == 0;
    it.bbq.negative = polarity == 0;
    it.bbq.unknown_choice = unknown_option(&info);
    flag_biased(&it.bbq, &info, record);
    it.id = smoa_eval_printf("%s/%s/%lld", b->ds->name, category,
                             (long long)json_integer_value(example_id));
    it.category = smoa_eval_strdup(category);
    if (smoa_eval_item_alloc_turns(&it, 1))
        it.turns[0] = smoa_eval_printf("%s %s", context, question);
    if (smoa_eval_item_alloc_choices(&it, BBQ_OPTIONS))
        for (int i = 0; i < BBQ_OPTIONS; i++) it.choices[i] = smoa_eval_strdup(options[i]);
    smoa_eval_builder_add(b, &it, file, line);
}

smoa_status smoa_eval_load_bbq(smoa_eval_builder *b, const char *dir, smoa_error *err) {
    char *data_dir = smoa_eval_path_join(dir, "bbq/data");
    char **names = NULL;
    size_t n = 0;
    smoa_status st = data_dir ? smoa_eval_list_dir(data_dir, ".jsonl", &names, &n, err)
                              : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "loading bbq");
    if (st == SMOA_OK && n == 0)
        st = smoa_error_set(err, SMOA_ERR_IO, "no '*.jsonl' file in '%s'", data_dir);
    for (size_t i = 0; st == SMOA_OK && i < n && !b->oom; i++)
        st = smoa_eval_each_jsonl_file(b, data_dir, names[i], bbq_record, NULL, err);
    smoa_eval_free_strings(names, n);
    free(data_dir);
    return st;
}
