/* dataset_user_csv.c - a user's CSV file: a header row names the columns
 * question (required), id, category, answer, label, reference and the
 * options, either A, B, C, ... or choice_1, choice_2, ... (any case;
 * other columns are ignored). See data/README.md. */
#include "eval/dataset_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_OPTIONS 26

typedef enum column_role {
    COLUMN_IGNORED, COLUMN_QUESTION, COLUMN_ID, COLUMN_CATEGORY,
    COLUMN_ANSWER, COLUMN_LABEL, COLUMN_REFERENCE, COLUMN_OPTION
} column_role;

typedef struct csv_layout {
    bool seen_header;
    bool usable;           /* the header was valid                  */
    size_t n_columns;
    column_role *roles;    /* [n_columns]                           */
    int *option_of;        /* [n_columns]: the option of an OPTION  */
    size_t n_options;
} csv_layout;

static const struct { const char *name; column_role role; } named_columns[] = {
    {"question", COLUMN_QUESTION}, {"id", COLUMN_ID},         {"category", COLUMN_CATEGORY},
    {"answer", COLUMN_ANSWER},     {"label", COLUMN_LABEL},   {"reference", COLUMN_REFERENCE},
};

/* The option a column name stands for ("C" or "choice_3" -> 2), or -1. */
static int option_column(const char *name) {
    if (name[0] && !name[1]) {
        char upper = (char)(name[0] & ~0x20);
        return upper >= 'A' && upper <= 'Z' ? upper - 'A' : -1;
    }
    if (strncasecmp(name, "choice_", 7) != 0) return -1;
    const char *digits = name + 7;
    size_t n = strspn(digits, "0123456789");
    if (n == 0 || n > 2 || digits[n] != '\0') return -1;
    int k = atoi(digits);
    return k >= 1 && k <= MAX_OPTIONS ? k - 1 : -1;
}

/* The column's name, spaces around it removed, in a buffer. */
static void column_name(const char *field, char *buf, size_t size) {
    field += strspn(field, " \t");
    size_t n = strlen(field);
    while (n && strchr(" \t\r\n", field[n - 1])) n--;
    snprintf(buf, size, "%.*s", (int)n, field);
}

static column_role role_of(const char *name, int *option) {
    *option = option_column(name);
    if (*option >= 0) return COLUMN_OPTION;
    for (size_t i = 0; i < sizeof named_columns / sizeof named_columns[0]; i++)
        if (strcasecmp(name, named_columns[i].name) == 0) return named_columns[i].role;
    return COLUMN_IGNORED;
}

/* Reads the header; a reason when it cannot be used, else NULL. */
static const char *read_header(csv_layout *layout, char **fields, size_t n, bool *oom) {
    layout->roles = calloc(n, sizeof *layout->roles);
    layout->option_of = calloc(n, sizeof *layout->option_of);
    if (!layout->roles || !layout->option_of) {
        *oom = true;
        return NULL;
    }
    layout->n_columns = n;
    bool seen[COLUMN_OPTION + MAX_OPTIONS] = {false};
    for (size_t c = 0; c < n; c++) {
        char name[64];
        column_name(fields[c], name, sizeof name);
        column_role role = role_of(name, &layout->option_of[c]);
        size_t slot = role == COLUMN_OPTION ? COLUMN_OPTION + (size_t)layout->option_of[c] : role;
        if (role != COLUMN_IGNORED && seen[slot]) return "a column is named twice";
        seen[slot] = true;
        layout->roles[c] = role;
        if (role == COLUMN_OPTION && (size_t)layout->option_of[c] + 1 > layout->n_options)
            layout->n_options = (size_t)layout->option_of[c] + 1;
    }
    if (!seen[COLUMN_QUESTION]) return "the header row has no \"question\" column";
    for (size_t k = 0; k < layout->n_options; k++)
        if (!seen[COLUMN_OPTION + k]) return "the option columns skip a letter or number";
    return NULL;
}

/* label: a 0-based index when all digits, else a letter. */
static void read_label(const char *text, smoa_eval_user_record *r) {
    const char *p = text + strspn(text, " \t");
    size_t digits = strspn(p, "0123456789");
    if (digits && digits < 9 && p[digits + strspn(p + digits, " \t")] == '\0') {
        r->has_label_index = true;
        r->label_index = atoll(p);
    } else {
        r->label_text = text;
    }
}

static const char *nonempty(const char *s) {
    return s && s[strspn(s, " \t\r\n")] ? s : NULL;
}

/* Maps a row onto a record whose question, reference and options are
 * kept in the caller's *question, *reference and options[]; a reason when
 * it cannot be, else NULL. */
static const char *read_row(const csv_layout *layout, char **fields, const char **question,
                            const char **reference, const char **options,
                            smoa_eval_user_record *r) {
    for (size_t c = 0; c < layout->n_columns; c++) {
        const char *f = fields[c];
        switch (layout->roles[c]) {
        case COLUMN_QUESTION: *question = nonempty(f); break;
        case COLUMN_ID: r->id = nonempty(f); break;
        case COLUMN_CATEGORY: r->category = nonempty(f); break;
        case COLUMN_ANSWER: r->answer_text = nonempty(f); break;
        case COLUMN_LABEL: if (nonempty(f)) read_label(f, r); break;
        case COLUMN_REFERENCE: *reference = nonempty(f); break;
        case COLUMN_OPTION: options[layout->option_of[c]] = nonempty(f); break;
        case COLUMN_IGNORED: break;
        }
    }
    if (!*question) return "the question is empty";
    /* Rows may fill fewer options than there are columns: empty ones at
     * the end are left out, a gap before a filled one is an error. */
    size_t n = layout->n_options;
    while (n && !options[n - 1]) n--;
    for (size_t k = 0; k < n; k++)
        if (!options[k]) return "an option is empty while a later one is not";
    r->n_choices = n;
    r->choices = options;
    r->turns = question;
    r->n_turns = 1;
    r->references = reference;
    r->n_references = *reference != NULL;
    return NULL;
}

static void csv_row(smoa_eval_builder *b, const char *file, size_t line, char **fields,
                    size_t n_fields, void *user) {
    csv_layout *layout = user;
    if (!layout->seen_header) {
        layout->seen_header = true;
        const char *problem = read_header(layout, fields, n_fields, &b->oom);
        if (problem) smoa_eval_warn(b, file, line, "%s: the file is not read", problem);
        layout->usable = !problem && !b->oom;
        return;
    }
    if (!layout->usable) return;
    if (n_fields != layout->n_columns) {
        smoa_eval_warn(b, file, line, "%zu fields where the header has %zu", n_fields,
                       layout->n_columns);
        return;
    }
    const char *question = NULL, *reference = NULL, *options[MAX_OPTIONS] = {NULL};
    smoa_eval_user_record r = {0};
    const char *problem = read_row(layout, fields, &question, &reference, options, &r);
    if (problem) smoa_eval_warn(b, file, line, "%s", problem);
    else smoa_eval_add_user_record(b, file, line, &r);
}

smoa_status smoa_eval_load_user_csv(smoa_eval_builder *b, const char *path, smoa_error *err) {
    csv_layout layout = {0};
    smoa_status st = smoa_eval_each_csv_file(b, NULL, path, csv_row, &layout, err);
    free(layout.roles);
    free(layout.option_of);
    return st;
}
