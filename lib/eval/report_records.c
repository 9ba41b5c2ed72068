/* report_records.c - results.jsonl into typed records: parse each line,
 * skip and count the bad ones, keep the last line of each key. */
#include "eval/report_records.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Fields, read leniently: a missing or mistyped field reads as absent      */

/* Counts: integers, or reals within the range doubles hold exactly (a
 * cast from beyond int64_t's range would be undefined). */
static int64_t int_field(const json_t *object, const char *key) {
    const json_t *v = json_object_get(object, key);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    double d = json_is_real(v) ? json_real_value(v) : 0.0;
    return d > -9e15 && d < 9e15 ? (int64_t)d : 0;
}

static double real_field(const json_t *object, const char *key) {
    const json_t *v = json_object_get(object, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static bool bool_field(const json_t *object, const char *key) {
    return json_is_true(json_object_get(object, key));
}

static const char *string_field(const json_t *object, const char *key) {
    return json_string_value(json_object_get(object, key));
}

static bool parse_mode(const char *name, smoa_mode *mode) {
    static const smoa_mode modes[] = {SMOA_MODE_SINGLE, SMOA_MODE_MOA, SMOA_MODE_SMOA};
    for (size_t i = 0; name && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(name, smoa_eval_mode_name(modes[i])) == 0) {
            *mode = modes[i];
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* One record                                                               */

static void free_record(eval_record *r) {
    for (size_t i = 0; i < r->n_agents; i++) free(r->agents[i].name);
    free(r->agents);
    free(r->dataset);
    free(r->item);
    free(r->error);
}

static void read_bbq(const json_t *object, eval_record *r) {
    const json_t *bbq = json_object_get(object, "bbq");
    const char *context = string_field(bbq, "context");
    if (!context) return;
    r->bbq_ambig = strcmp(context, "ambig") == 0;
    r->has_bbq = r->bbq_ambig || strcmp(context, "disambig") == 0;
    r->bbq_predicted_unknown = bool_field(bbq, "predicted_unknown");
    r->bbq_predicted_biased = bool_field(bbq, "predicted_biased");
}

static void read_outcome(const json_t *object, eval_record *r) {
    const char *scorer = string_field(object, "scorer");
    const char *status = string_field(object, "status");
    r->rated_scorer = scorer && strcmp(scorer, "rating") == 0;
    r->failed = status && strcmp(status, "error") == 0;
    const json_t *correct = json_object_get(object, "correct");
    r->has_correct = json_is_boolean(correct);
    r->correct = json_is_true(correct);
    const json_t *rating = json_object_get(object, "rating");
    r->has_rating = json_is_number(rating);
    r->rating = r->has_rating ? json_number_value(rating) : 0.0;
    const json_t *prediction = json_object_get(object, "prediction");
    r->has_prediction = prediction && !json_is_null(prediction);
    read_bbq(object, r);
}

static void read_cost(const json_t *object, eval_record *r) {
    const json_t *tokens = json_object_get(object, "tokens");
    r->prompt_tokens = int_field(tokens, "prompt");
    r->prefill_tokens = int_field(tokens, "prefill");
    r->generated_tokens = int_field(tokens, "generated");
    r->calls = int_field(object, "calls");
    r->seconds = real_field(object, "seconds");
}

static bool read_agent(const json_t *object, eval_agent_record *a) {
    const char *name = string_field(object, "name");
    a->name = strdup(name ? name : "(unnamed)");
    if (!a->name) return false;
    a->kept = bool_field(object, "kept");
    const json_t *score = json_object_get(object, "score");
    a->has_score = json_is_number(score);
    a->score = a->has_score ? json_number_value(score) : 0.0;
    a->generated_tokens = int_field(object, "generated_tokens");
    a->seconds = real_field(object, "seconds");
    a->failed = bool_field(object, "failed");
    return true;
}

static bool read_agents(const json_t *object, eval_record *r) {
    const json_t *agents = json_object_get(object, "agents");
    size_t n = json_array_size(agents); /* 0 when not an array */
    if (n == 0) return true;
    r->agents = calloc(n, sizeof *r->agents);
    if (!r->agents) return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *agent = json_array_get(agents, i);
        if (!json_is_object(agent)) continue;
        if (!read_agent(agent, &r->agents[r->n_agents])) return false;
        r->n_agents++;
    }
    return true;
}

/* Fills *r from one parsed line. Returns SMOA_ERR_FORMAT when the line
 * lacks the key fields, SMOA_ERR_OUT_OF_MEMORY; *r is freed on failure. */
static smoa_status read_record(const json_t *object, eval_record *r) {
    const char *dataset = string_field(object, "dataset");
    const char *item = string_field(object, "item");
    if (!dataset || !item || !parse_mode(string_field(object, "mode"), &r->mode))
        return SMOA_ERR_FORMAT;
    const char *error = string_field(object, "error");
    r->dataset = strdup(dataset);
    r->item = strdup(item);
    r->error = error ? strdup(error) : NULL;
    read_outcome(object, r);
    read_cost(object, r);
    bool ok = r->dataset && r->item && (r->error || !error) && read_agents(object, r);
    if (ok) return SMOA_OK;
    free_record(r);
    return SMOA_ERR_OUT_OF_MEMORY;
}

/* ------------------------------------------------------------------------ */
/* The file                                                                 */

char *eval_run_file(const char *dir, const char *name) {
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(n);
    if (path) snprintf(path, n, "%s/%s", dir, name);
    return path;
}

static bool is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return false;
    return true;
}

static void count_skipped(eval_record_set *set, int64_t line) {
    if (set->skipped_lines < SMOA_EVAL_SKIPPED_LINES_KEPT)
        set->first_skipped[set->skipped_lines] = line;
    set->skipped_lines++;
}

static bool append_record(eval_record_set *set, size_t *cap, const eval_record *r) {
    if (set->n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 64;
        eval_record *grown = realloc(set->records, grown_cap * sizeof *grown);
        if (!grown) return false;
        set->records = grown;
        *cap = grown_cap;
    }
    set->records[set->n++] = *r;
    return true;
}

/* Parses one non-blank line into the set, or counts it as skipped. */
static smoa_status read_line(eval_record_set *set, size_t *cap, const char *text, size_t len,
                             int64_t line) {
    json_error_t jerr;
    json_t *object = json_loadb(text, len, JSON_ALLOW_NUL, &jerr); /* answers may hold NUL */
    eval_record r = {.line = line};
    smoa_status st = json_is_object(object) ? read_record(object, &r) : SMOA_ERR_FORMAT;
    json_decref(object);
    if (st == SMOA_ERR_FORMAT) {
        count_skipped(set, line);
        return SMOA_OK;
    }
    if (st != SMOA_OK) return st;
    if (append_record(set, cap, &r)) return SMOA_OK;
    free_record(&r);
    return SMOA_ERR_OUT_OF_MEMORY;
}

static smoa_status read_lines(FILE *f, const char *path, eval_record_set *set, smoa_error *err) {
    char *text = NULL;
    size_t text_cap = 0, records_cap = 0;
    int64_t line = 0;
    smoa_status st = SMOA_OK;
    for (ssize_t len; st == SMOA_OK && (len = getline(&text, &text_cap, f)) >= 0;) {
        line++;
        if (is_blank(text, (size_t)len)) continue;
        set->lines++;
        st = read_line(set, &records_cap, text, (size_t)len, line);
    }
    int read_errno = errno;
    free(text);
    if (st != SMOA_OK) return smoa_error_set(err, st, "%s: out of memory at line %lld", path,
                                             (long long)line);
    if (ferror(f))
        return smoa_error_set(err, SMOA_ERR_IO, "%s: read failed after line %lld: %s", path,
                              (long long)line, strerror(read_errno));
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Last line wins                                                           */

static int compare_key_then_line(const void *pa, const void *pb) {
    const eval_record *a = pa, *b = pb;
    int c = strcmp(a->dataset, b->dataset);
    if (c == 0) c = strcmp(a->item, b->item);
    if (c == 0) c = (int)a->mode - (int)b->mode;
    if (c == 0) c = (a->line > b->line) - (a->line < b->line);
    return c;
}

bool eval_records_same_item(const eval_record *a, const eval_record *b) {
    return strcmp(a->dataset, b->dataset) == 0 && strcmp(a->item, b->item) == 0;
}

static bool same_key(const eval_record *a, const eval_record *b) {
    return a->mode == b->mode && eval_records_same_item(a, b);
}

/* Sorts by key and, of the lines sharing a key, keeps the last written. */
static void keep_last_of_each_key(eval_record_set *set) {
    if (set->n == 0) return;
    qsort(set->records, set->n, sizeof *set->records, compare_key_then_line);
    size_t kept = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (i + 1 < set->n && same_key(&set->records[i], &set->records[i + 1])) {
            free_record(&set->records[i]);
            set->replaced_lines++;
            continue;
        }
        set->records[kept++] = set->records[i];
    }
    set->n = kept;
}

smoa_status eval_records_read(const char *path, eval_record_set *set, smoa_error *err) {
    memset(set, 0, sizeof *set);
    FILE *f = fopen(path, "rb");
    if (!f) return smoa_error_set(err, SMOA_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    smoa_status st = read_lines(f, path, set, err);
    fclose(f);
    if (st != SMOA_OK) {
        eval_records_free(set);
        return st;
    }
    keep_last_of_each_key(set);
    return SMOA_OK;
}

void eval_records_free(eval_record_set *set) {
    for (size_t i = 0; i < set->n; i++) free_record(&set->records[i]);
    free(set->records);
    set->records = NULL;
    set->n = 0;
}
