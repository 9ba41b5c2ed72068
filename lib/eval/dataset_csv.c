/* dataset_csv.c - CSV records with the line each starts on, read with
 * libcsv. libcsv knows nothing of lines, so the text is fed one line at a
 * time: the line a record starts on is the first non-blank line fed while
 * no record is open.
 *
 * Quoting is strict but for one case: a quote inside an unquoted field is
 * a character, as Python's csv module reads it (with which the shipped
 * sets' counts were checked; MMLU has 'Truth?",' in one question). Text
 * after a closing quote ("a"b) drops its record, and parsing resumes on
 * the next line; libcsv's lenient mode would instead read on to the next
 * quote, swallowing the lines between. A quote left open at the end of
 * the file drops the record it opens. */
#include "eval/dataset_internal.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

typedef struct csv_reader {
    smoa_eval_builder *b;
    const char *file;
    smoa_eval_csv_record_fn fn;
    void *user;
    char **fields;
    size_t n_fields;
    size_t cap_fields;
    size_t line;        /* the line being fed (1-based)              */
    size_t record_line; /* where the open record began; 0: none open */
} csv_reader;

static void drop_fields(csv_reader *r) {
    for (size_t i = 0; i < r->n_fields; i++) free(r->fields[i]);
    r->n_fields = 0;
}

static void on_field(void *bytes, size_t len, void *data) {
    csv_reader *r = data;
    if (r->record_line == 0) r->record_line = r->line; /* a record after a bare CR */
    if (r->b->oom) return;
    if (r->n_fields == r->cap_fields) {
        size_t cap = r->cap_fields ? r->cap_fields * 2 : 8;
        char **grown = realloc(r->fields, cap * sizeof *grown);
        if (!grown) {
            r->b->oom = true;
            return;
        }
        r->fields = grown;
        r->cap_fields = cap;
    }
    char *field = malloc(len + 1);
    if (!field) {
        r->b->oom = true;
        return;
    }
    if (len) memcpy(field, bytes, len);
    field[len] = '\0';
    r->fields[r->n_fields++] = field;
}

static bool is_blank_field(const char *s) {
    return s[strspn(s, " \t\r")] == '\0';
}

static void on_record(int terminator, void *data) {
    (void)terminator;
    csv_reader *r = data;
    bool whitespace_line = r->n_fields == 1 && is_blank_field(r->fields[0]);
    if (!r->b->oom && r->n_fields && !whitespace_line)
        r->fn(r->b, r->file, r->record_line, r->fields, r->n_fields, r->user);
    drop_fields(r);
    r->record_line = 0;
}

/* Fields are taken as written: no trimming of spaces around them. */
static int never_space(unsigned char c) {
    (void)c;
    return 0;
}

#define STRICT_OPTIONS (CSV_STRICT | CSV_STRICT_FINI)

static bool start_parser(struct csv_parser *p) {
    if (csv_init(p, STRICT_OPTIONS) != 0) return false;
    csv_set_space_func(p, never_space);
    return true;
}

/* Feeds one line; false at text after a closing quote (or on memory, with
 * b->oom set). */
static bool feed_line(csv_reader *r, struct csv_parser *p, const char *s, size_t n) {
    size_t done = 0;
    for (;;) {
        done += csv_parse(p, s + done, n - done, on_field, on_record, r);
        if (done == n) return true;
        if (csv_error(p) != CSV_EPARSE) {
            r->b->oom = true;
            return false;
        }
        /* Strict mode stops right at the offending byte: a quote there is
         * one inside an unquoted field, taken as is in lenient mode. */
        if (s[done] != '"') return false;
        csv_set_opts(p, CSV_STRICT_FINI);
        done += csv_parse(p, s + done, 1, on_field, on_record, r);
        csv_set_opts(p, STRICT_OPTIONS);
    }
}

static bool blank_line(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return false;
    return true;
}

void smoa_eval_each_csv(smoa_eval_builder *b, const char *file, const char *data, size_t len,
                        smoa_eval_csv_record_fn fn, void *user) {
    csv_reader r = {.b = b, .file = file, .fn = fn, .user = user};
    struct csv_parser p;
    if (!start_parser(&p)) {
        b->oom = true;
        return;
    }
    for (size_t pos = 0; pos < len && !b->oom;) {
        const char *start = data + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) + 1 : len - pos;
        pos += n;
        r.line++;
        if (r.record_line == 0 && !blank_line(start, n)) r.record_line = r.line;
        if (feed_line(&r, &p, start, n) || b->oom) continue;
        smoa_eval_warn(b, file, r.record_line, "text after a closing quote (a quote inside a "
                                               "quoted field is written twice): record skipped");
        drop_fields(&r);
        r.record_line = 0;
        csv_free(&p);
        if (!start_parser(&p)) b->oom = true;
    }
    if (!b->oom && csv_fini(&p, on_field, on_record, &r) != 0) {
        smoa_eval_warn(b, file, r.record_line,
                       "unterminated quoted field (it runs to the end of the file): "
                       "record skipped");
    }
    drop_fields(&r);
    free(r.fields);
    csv_free(&p);
}
