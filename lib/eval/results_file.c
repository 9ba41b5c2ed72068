/* results_file.c - reading back, repairing and appending results.jsonl. */
#include "eval/results_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_SEP "\x1f" /* cannot occur in a set name, an item id or a mode */

static char *make_key(const char *dataset, const char *item, const char *mode) {
    size_t n = strlen(dataset) + strlen(item) + strlen(mode) + 3;
    char *key = malloc(n);
    if (key) snprintf(key, n, "%s" KEY_SEP "%s" KEY_SEP "%s", dataset, item, mode);
    return key;
}

static int compare_done(const void *a, const void *b) {
    return strcmp(((const smoa_eval_done *)a)->key, ((const smoa_eval_done *)b)->key);
}

/* Records one complete line; false only when memory runs out. */
static bool note_line(smoa_eval_results *r, const char *line, size_t len, size_t *cap) {
    json_error_t e;
    json_t *rec = json_loadb(line, len, JSON_ALLOW_NUL, &e); /* answers may hold NUL */
    const char *dataset = json_string_value(json_object_get(rec, "dataset"));
    const char *item = json_string_value(json_object_get(rec, "item"));
    const char *mode = json_string_value(json_object_get(rec, "mode"));
    if (!dataset || !item || !mode) {
        r->n_bad_lines++;
        json_decref(rec);
        return true;
    }
    if (r->n_done == *cap) {
        size_t grown = *cap ? 2 * *cap : 64;
        smoa_eval_done *d = realloc(r->done, grown * sizeof *d);
        if (!d) return json_decref(rec), false;
        r->done = d, *cap = grown;
    }
    json_t *correct = json_object_get(rec, "correct");
    r->done[r->n_done].correct = json_is_boolean(correct) ? json_is_true(correct) : -1;
    r->done[r->n_done].key = make_key(dataset, item, mode);
    json_decref(rec);
    return r->done[r->n_done++].key != NULL;
}

/* Reads every complete line; *complete_len is where the last one ends. */
static smoa_status read_lines(FILE *f, const char *path, smoa_eval_results *r, long *complete_len,
                              smoa_error *err) {
    char *line = NULL;
    size_t line_cap = 0, cap = 0;
    ssize_t n;
    *complete_len = 0;
    while ((n = getline(&line, &line_cap, f)) > 0) {
        if (line[n - 1] != '\n') break; /* cut off by an interruption */
        if (!note_line(r, line, (size_t)n, &cap)) {
            free(line);
            return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
        }
        *complete_len += n;
    }
    free(line);
    if (ferror(f)) return smoa_error_set(err, SMOA_ERR_IO, "%s: %s", path, strerror(errno));
    if (r->n_done) qsort(r->done, r->n_done, sizeof *r->done, compare_done);
    return SMOA_OK;
}

smoa_status smoa_eval_results_open(const char *path, smoa_eval_results *r, smoa_error *err) {
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "a+");
    if (!f) return smoa_error_set(err, SMOA_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    rewind(f);
    long complete_len;
    smoa_status st = read_lines(f, path, r, &complete_len, err);
    struct stat sb;
    if (st == SMOA_OK && fstat(fileno(f), &sb) == 0 && sb.st_size > complete_len) {
        if (fflush(f) != 0 || ftruncate(fileno(f), complete_len) != 0)
            st = smoa_error_set(err, SMOA_ERR_IO, "cannot drop the cut-off last line of %s: %s", path,
                                strerror(errno));
        r->repaired_tail = true;
    }
    r->f = f;
    if (st) smoa_eval_results_close(r);
    return st;
}

const smoa_eval_done *smoa_eval_results_find(const smoa_eval_results *r, const char *dataset, const char *item,
                                             const char *mode) {
    if (!r->n_done) return NULL;
    smoa_eval_done probe = {.key = make_key(dataset, item, mode)};
    if (!probe.key) return NULL;
    const smoa_eval_done *hit = bsearch(&probe, r->done, r->n_done, sizeof *r->done, compare_done);
    free(probe.key);
    return hit;
}

smoa_status smoa_eval_results_append(smoa_eval_results *r, const json_t *record, smoa_error *err) {
    char *text = json_dumps(record, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!text) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    bool ok = fputs(text, r->f) >= 0 && fputc('\n', r->f) != EOF && fflush(r->f) == 0;
    free(text);
    return ok ? SMOA_OK : smoa_error_set(err, SMOA_ERR_IO, "writing results: %s", strerror(errno));
}

void smoa_eval_results_close(smoa_eval_results *r) {
    if (r->f) fclose(r->f);
    for (size_t i = 0; i < r->n_done; i++) free(r->done[i].key);
    free(r->done);
    memset(r, 0, sizeof *r);
}
