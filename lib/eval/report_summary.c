/* report_summary.c - records aggregated into the numbers of report.h: per
 * (dataset, mode) groups, paired comparisons, agent statistics, failures,
 * and the run's command and settings. */
#include "eval/report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/report_records.h"

enum { N_MODES = 3 };

/* The comparisons of every dataset, in report order. */
static const smoa_mode comparisons[][2] = {
    {SMOA_MODE_SMOA, SMOA_MODE_MOA},
    {SMOA_MODE_SMOA, SMOA_MODE_SINGLE},
    {SMOA_MODE_MOA, SMOA_MODE_SINGLE},
};
enum { N_COMPARISONS = sizeof comparisons / sizeof comparisons[0] };

const char *smoa_eval_mode_name(smoa_mode mode) {
    switch (mode) {
    case SMOA_MODE_SINGLE: return "single";
    case SMOA_MODE_MOA: return "moa";
    case SMOA_MODE_SMOA: return "smoa";
    }
    return "unknown";
}

/* Grows *array (of elem-sized items, *cap of them) to hold n + 1. */
static bool reserve_one(void **array, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return true;
    size_t grown_cap = *cap ? *cap * 2 : 16;
    void *grown = realloc(*array, grown_cap * elem);
    if (!grown) return false;
    *array = grown;
    *cap = grown_cap;
    return true;
}

static bool answered_right(const eval_record *r) {
    return !r->failed && r->has_correct && r->correct;
}

static double mean_or_nan(double sum, int64_t n) { return n > 0 ? sum / (double)n : NAN; }

/* ------------------------------------------------------------------------ */
/* Datasets                                                                 */

static smoa_status collect_datasets(const eval_record_set *set, smoa_eval_summary *s) {
    s->datasets = calloc(set->n, sizeof *s->datasets); /* at most one per record */
    if (!s->datasets) return SMOA_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < set->n; i++) {
        const char *name = set->records[i].dataset;
        if (s->n_datasets && strcmp(s->datasets[s->n_datasets - 1], name) == 0) continue;
        s->datasets[s->n_datasets] = strdup(name);
        if (!s->datasets[s->n_datasets]) return SMOA_ERR_OUT_OF_MEMORY;
        s->n_datasets++;
    }
    return SMOA_OK;
}

/* A record rated instead of marked right or wrong. */
static bool is_rated_record(const eval_record *r) {
    return r->rated_scorer || (!r->has_correct && r->has_rating);
}

/* ------------------------------------------------------------------------ */
/* Groups: one accumulator per (dataset, mode)                              */

typedef struct group_acc {
    int64_t items, errors, correct;
    int64_t prompt, prefill, generated, calls;
    double seconds;
    smoa_mean_acc rating;
    bool rated, has_bbq;
    smoa_eval_bbq_outcome bbq;
} group_acc;

static void add_bbq(smoa_eval_bbq_outcome *b, const eval_record *r) {
    bool right = answered_right(r);
    bool gave_answer = !r->failed && r->has_prediction && !r->bbq_predicted_unknown;
    bool biased = gave_answer && r->bbq_predicted_biased;
    if (r->bbq_ambig) {
        b->ambig_items++;
        b->ambig_correct += right;
        b->ambig_non_unknown += gave_answer;
        b->ambig_biased += biased;
    } else {
        b->disambig_items++;
        b->disambig_correct += right;
        b->disambig_non_unknown += gave_answer;
        b->disambig_biased += biased;
    }
}

static void add_to_group(group_acc *g, const eval_record *r) {
    g->items++;
    g->errors += r->failed;
    g->correct += answered_right(r);
    if (!r->failed && r->has_rating) smoa_stats_mean_add(&g->rating, r->rating);
    g->prompt += r->prompt_tokens;
    g->prefill += r->prefill_tokens;
    g->generated += r->generated_tokens;
    g->calls += r->calls;
    g->seconds += r->seconds;
    if (r->has_bbq) {
        g->has_bbq = true;
        add_bbq(&g->bbq, r);
    }
}

/* 2 * biased / non_unknown - 1, the BBQ paper's bias score. */
static double bias_ratio(int64_t biased, int64_t non_unknown) {
    return non_unknown > 0 ? 2.0 * (double)biased / (double)non_unknown - 1.0 : NAN;
}

static void finish_bbq(smoa_eval_bbq_outcome *b) {
    b->ambig_accuracy = smoa_stats_wilson(b->ambig_correct, b->ambig_items);
    b->disambig_accuracy = smoa_stats_wilson(b->disambig_correct, b->disambig_items);
    b->bias_disambig = bias_ratio(b->disambig_biased, b->disambig_non_unknown);
    b->bias_ambig = (1.0 - b->ambig_accuracy.estimate) *
                    bias_ratio(b->ambig_biased, b->ambig_non_unknown);
}

static smoa_eval_group finish_group(const group_acc *g, const char *dataset, smoa_mode mode) {
    smoa_eval_group out = {
        .dataset = dataset,
        .mode = mode,
        .rated = g->rated,
        .items = g->items,
        .errors = g->errors,
        .correct = g->correct,
        .accuracy = smoa_stats_wilson(g->correct, g->items),
        .rated_items = g->rating.n,
        .rating = smoa_stats_mean_interval(&g->rating),
        .prompt_tokens = mean_or_nan((double)g->prompt, g->items),
        .prefill_tokens = mean_or_nan((double)g->prefill, g->items),
        .generated_tokens = mean_or_nan((double)g->generated, g->items),
        .total_tokens = mean_or_nan((double)(g->prompt + g->generated), g->items),
        .calls = mean_or_nan((double)g->calls, g->items),
        .seconds = mean_or_nan(g->seconds, g->items),
        .has_bbq = g->has_bbq,
        .bbq = g->bbq,
    };
    if (out.has_bbq) finish_bbq(&out.bbq);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Paired comparisons                                                       */

static void add_pair(smoa_eval_paired *p, const eval_record *a, const eval_record *b) {
    if (p->rated) {
        if (a->failed || b->failed || !a->has_rating || !b->has_rating) return;
        p->n++;
        p->both += a->rating == b->rating;
        p->a_only += a->rating > b->rating;
        p->b_only += a->rating < b->rating;
        return;
    }
    bool a_right = answered_right(a), b_right = answered_right(b);
    p->n++;
    p->both += a_right && b_right;
    p->a_only += a_right && !b_right;
    p->b_only += !a_right && b_right;
}

static double paired_p(const smoa_eval_paired *p) {
    if (p->n == 0) return NAN;
    return p->rated ? smoa_stats_sign_test(p->a_only, p->b_only)
                    : smoa_stats_mcnemar_exact(p->a_only, p->b_only);
}

/* ------------------------------------------------------------------------ */
/* Groups and pairs of every dataset                                        */

typedef struct dataset_acc {
    group_acc groups[N_MODES];
    smoa_eval_paired pairs[N_COMPARISONS];
} dataset_acc;

/* Feeds the records of one item (one per mode at most) to its dataset. */
static void add_item(dataset_acc *d, const eval_record *const by_mode[N_MODES]) {
    for (int m = 0; m < N_MODES; m++)
        if (by_mode[m]) add_to_group(&d->groups[m], by_mode[m]);
    for (int c = 0; c < N_COMPARISONS; c++) {
        const eval_record *a = by_mode[comparisons[c][0]], *b = by_mode[comparisons[c][1]];
        if (a && b) add_pair(&d->pairs[c], a, b);
    }
}

static void accumulate(const eval_record_set *set, const smoa_eval_summary *s, dataset_acc *acc) {
    size_t d = 0;
    for (size_t i = 0; i < set->n;) {
        while (strcmp(s->datasets[d], set->records[i].dataset) != 0) d++;
        const eval_record *by_mode[N_MODES] = {NULL, NULL, NULL};
        size_t j = i;
        for (; j < set->n && eval_records_same_item(&set->records[i], &set->records[j]); j++)
            by_mode[set->records[j].mode] = &set->records[j];
        add_item(&acc[d], by_mode);
        i = j;
    }
}

static void set_rated(dataset_acc *d, bool rated) {
    for (int m = 0; m < N_MODES; m++) d->groups[m].rated = rated;
    for (int c = 0; c < N_COMPARISONS; c++) d->pairs[c].rated = rated;
}

/* Marks every group and pair of a dataset as rated when it has rated
 * records and no right/wrong verdict (a user's file that mixes the two is
 * reported by accuracy, its ratings aside); before the counting, which
 * compares ratings in rated pairs. */
static void spread_rated_flags(const eval_record_set *set, const smoa_eval_summary *s,
                               dataset_acc *acc) {
    for (int pass = 0; pass < 2; pass++) {
        size_t d = 0;
        for (size_t i = 0; i < set->n; i++) {
            const eval_record *r = &set->records[i];
            while (strcmp(s->datasets[d], r->dataset) != 0) d++;
            if (pass == 0 && is_rated_record(r)) set_rated(&acc[d], true);
            if (pass == 1 && r->has_correct) set_rated(&acc[d], false);
        }
    }
}

static void emit_dataset(smoa_eval_summary *s, const dataset_acc *d, const char *dataset) {
    for (int m = 0; m < N_MODES; m++)
        if (d->groups[m].items > 0)
            s->groups[s->n_groups++] = finish_group(&d->groups[m], dataset, (smoa_mode)m);
    for (int c = 0; c < N_COMPARISONS; c++) {
        smoa_mode a = comparisons[c][0], b = comparisons[c][1];
        if (d->groups[a].items == 0 || d->groups[b].items == 0) continue;
        smoa_eval_paired p = d->pairs[c];
        p.dataset = dataset;
        p.a = a;
        p.b = b;
        p.p = paired_p(&p);
        s->paired[s->n_paired++] = p;
    }
}

static smoa_status build_groups(const eval_record_set *set, smoa_eval_summary *s) {
    dataset_acc *acc = calloc(s->n_datasets, sizeof *acc);
    s->groups = calloc(s->n_datasets * N_MODES, sizeof *s->groups);
    s->paired = calloc(s->n_datasets * N_COMPARISONS, sizeof *s->paired);
    if (!acc || !s->groups || !s->paired) {
        free(acc);
        return SMOA_ERR_OUT_OF_MEMORY;
    }
    spread_rated_flags(set, s, acc);
    accumulate(set, s, acc);
    for (size_t d = 0; d < s->n_datasets; d++) emit_dataset(s, &acc[d], s->datasets[d]);
    free(acc);
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Agents (moa and smoa)                                                    */

typedef struct agent_sums {
    smoa_eval_agent stats;
    double score, generated_tokens, seconds;
} agent_sums;

typedef struct agent_table {
    agent_sums *rows;
    size_t n, cap;
} agent_table;

static agent_sums *find_or_add_agent(agent_table *t, const char *name, smoa_mode mode) {
    for (size_t i = 0; i < t->n; i++)
        if (t->rows[i].stats.mode == mode && strcmp(t->rows[i].stats.name, name) == 0)
            return &t->rows[i];
    if (!reserve_one((void **)&t->rows, &t->cap, t->n, sizeof *t->rows)) return NULL;
    char *copy = strdup(name);
    if (!copy) return NULL;
    agent_sums fresh = {.stats = {.name = copy, .mode = mode}};
    t->rows[t->n] = fresh;
    return &t->rows[t->n++];
}

static smoa_status add_agents_of_mode(const eval_record_set *set, agent_table *t,
                                      smoa_mode mode) {
    for (size_t i = 0; i < set->n; i++) {
        const eval_record *r = &set->records[i];
        if (r->mode != mode) continue;
        for (size_t k = 0; k < r->n_agents; k++) {
            const eval_agent_record *a = &r->agents[k];
            agent_sums *row = find_or_add_agent(t, a->name, mode);
            if (!row) return SMOA_ERR_OUT_OF_MEMORY;
            row->stats.responses++;
            row->stats.kept += a->kept;
            row->stats.failures += a->failed;
            row->stats.scored += a->has_score;
            row->score += a->has_score ? a->score : 0.0;
            row->generated_tokens += (double)a->generated_tokens;
            row->seconds += a->seconds;
        }
    }
    return SMOA_OK;
}

/* The table's names pass to the summary, which frees them. */
static smoa_status build_agents(const eval_record_set *set, smoa_eval_summary *s) {
    agent_table t = {0};
    smoa_status st = add_agents_of_mode(set, &t, SMOA_MODE_MOA);
    if (st == SMOA_OK) st = add_agents_of_mode(set, &t, SMOA_MODE_SMOA);
    if (st == SMOA_OK && t.n > 0 && !(s->agents = calloc(t.n, sizeof *s->agents)))
        st = SMOA_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < t.n; i++) {
        smoa_eval_agent a = t.rows[i].stats;
        if (st != SMOA_OK) {
            free((char *)a.name);
            continue;
        }
        a.mean_score = mean_or_nan(t.rows[i].score, a.scored);
        a.mean_generated_tokens = mean_or_nan(t.rows[i].generated_tokens, a.responses);
        a.mean_seconds = mean_or_nan(t.rows[i].seconds, a.responses);
        s->agents[s->n_agents++] = a;
    }
    free(t.rows);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Failures                                                                 */

static const char *dataset_name(const smoa_eval_summary *s, const char *name) {
    for (size_t d = 0; d < s->n_datasets; d++)
        if (strcmp(s->datasets[d], name) == 0) return s->datasets[d];
    return NULL; /* not reached: every record's dataset was collected */
}

static smoa_status build_failures(const eval_record_set *set, smoa_eval_summary *s) {
    size_t cap = 0;
    for (size_t i = 0; i < set->n; i++) {
        const eval_record *r = &set->records[i];
        if (!r->failed) continue;
        if (!reserve_one((void **)&s->failures, &cap, s->n_failures, sizeof *s->failures))
            return SMOA_ERR_OUT_OF_MEMORY;
        smoa_eval_failure *f = &s->failures[s->n_failures];
        f->dataset = dataset_name(s, r->dataset);
        f->mode = r->mode;
        f->item = strdup(r->item);
        f->message = strdup(r->error ? r->error : "(no message)");
        s->n_failures++; /* counted first, so free() releases a half-made entry */
        if (!f->item || !f->message) return SMOA_ERR_OUT_OF_MEMORY;
    }
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* run.json                                                                 */

/* Six significant digits: a float option such as 0.7f reads as 0.7. */
static char *setting_text(const json_t *value) {
    if (json_is_string(value)) return strdup(json_string_value(value));
    return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
}

static smoa_status read_settings(const json_t *settings, smoa_eval_summary *s) {
    size_t n = json_object_size(settings);
    if (n == 0) return SMOA_OK;
    s->settings = calloc(n, sizeof *s->settings);
    if (!s->settings) return SMOA_ERR_OUT_OF_MEMORY;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)settings, key, value) {
        smoa_eval_setting *kv = &s->settings[s->n_settings++];
        kv->key = strdup(key);
        kv->value = setting_text(value);
        if (!kv->key || !kv->value) return SMOA_ERR_OUT_OF_MEMORY;
    }
    return SMOA_OK;
}

static smoa_status note_run_json_problem(smoa_eval_summary *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static smoa_status note_run_json_problem(smoa_eval_summary *s, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s->run_json_problem = strdup(text);
    return s->run_json_problem ? SMOA_OK : SMOA_ERR_OUT_OF_MEMORY;
}

/* run.json is optional: absent is fine, unreadable or malformed is noted
 * in the summary (and the report) rather than failing it. */
static smoa_status read_run_json(const char *dir, smoa_eval_summary *s) {
    char *path = eval_run_file(dir, "run.json");
    if (!path) return SMOA_ERR_OUT_OF_MEMORY;
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f) return errno == ENOENT ? SMOA_OK
                                   : note_run_json_problem(s, "cannot open: %s", strerror(errno));
    json_error_t jerr;
    json_t *run = json_loadf(f, 0, &jerr);
    fclose(f);
    smoa_status st = SMOA_OK;
    if (!json_is_object(run)) {
        st = run ? note_run_json_problem(s, "not a JSON object")
                 : note_run_json_problem(s, "line %d: %s", jerr.line, jerr.text);
    } else {
        const char *command = json_string_value(json_object_get(run, "command"));
        if (command && !(s->command = strdup(command))) st = SMOA_ERR_OUT_OF_MEMORY;
        if (st == SMOA_OK) st = read_settings(json_object_get(run, "settings"), s);
    }
    json_decref(run);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Load, look up, free                                                      */

static smoa_status summarise(const char *dir, const eval_record_set *set, smoa_eval_summary *s) {
    s->lines = set->lines;
    s->skipped_lines = set->skipped_lines;
    s->replaced_lines = set->replaced_lines;
    memcpy(s->skipped_line_numbers, set->first_skipped, sizeof s->skipped_line_numbers);
    smoa_status st = collect_datasets(set, s);
    if (st == SMOA_OK) st = build_groups(set, s);
    if (st == SMOA_OK) st = build_agents(set, s);
    if (st == SMOA_OK) st = build_failures(set, s);
    if (st == SMOA_OK) st = read_run_json(dir, s);
    return st;
}

smoa_status smoa_eval_summary_read(const char *dir, smoa_eval_summary **out, smoa_error *err) {
    if (!out) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "no summary to fill");
    *out = NULL;
    if (!dir) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "no run directory");
    char *path = eval_run_file(dir, "results.jsonl");
    if (!path) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    eval_record_set set;
    smoa_status st = eval_records_read(path, &set, err);
    if (st == SMOA_OK && set.n == 0)
        st = smoa_error_set(err, SMOA_ERR_FORMAT,
                            "%s holds no results (%lld lines, %lld malformed)", path,
                            (long long)set.lines, (long long)set.skipped_lines);
    smoa_eval_summary *s = NULL;
    if (st == SMOA_OK && !(s = calloc(1, sizeof *s)))
        st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == SMOA_OK && summarise(dir, &set, s) != SMOA_OK)
        st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory summarising %s", path);
    eval_records_free(&set);
    free(path);
    if (st != SMOA_OK) {
        smoa_eval_summary_free(s);
        return st;
    }
    *out = s;
    return SMOA_OK;
}

const smoa_eval_group *smoa_eval_summary_group(const smoa_eval_summary *s, const char *dataset,
                                               smoa_mode mode) {
    for (size_t i = 0; s && dataset && i < s->n_groups; i++)
        if (s->groups[i].mode == mode && strcmp(s->groups[i].dataset, dataset) == 0)
            return &s->groups[i];
    return NULL;
}

const smoa_eval_paired *smoa_eval_summary_paired(const smoa_eval_summary *s, const char *dataset,
                                                 smoa_mode a, smoa_mode b) {
    for (size_t i = 0; s && dataset && i < s->n_paired; i++) {
        const smoa_eval_paired *p = &s->paired[i];
        if (p->a == a && p->b == b && strcmp(p->dataset, dataset) == 0) return p;
    }
    return NULL;
}

void smoa_eval_summary_free(smoa_eval_summary *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_datasets; i++) free(s->datasets[i]);
    for (size_t i = 0; i < s->n_agents; i++) free((char *)s->agents[i].name);
    for (size_t i = 0; i < s->n_failures; i++) {
        free((char *)s->failures[i].item);
        free((char *)s->failures[i].message);
    }
    for (size_t i = 0; i < s->n_settings; i++) {
        free((char *)s->settings[i].key);
        free((char *)s->settings[i].value);
    }
    free(s->datasets);
    free(s->groups);
    free(s->paired);
    free(s->agents);
    free(s->failures);
    free(s->settings);
    free(s->command);
    free(s->run_json_problem);
    free(s);
}
