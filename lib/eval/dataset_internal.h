/* dataset_internal.h - what the per-format loaders share: a builder that
 * collects items and warnings, file reading, and record iteration over
 * JSON Lines and CSV with line numbers. Not for use outside lib/eval. */
#ifndef SMOA_EVAL_DATASET_INTERNAL_H
#define SMOA_EVAL_DATASET_INTERNAL_H

#include <jansson.h>

#include "eval/dataset.h"

/* ------------------------------------------------------------------------ */
/* Builder                                                                  */

typedef struct smoa_eval_builder {
    smoa_eval_dataset *ds;
    size_t cap_items;
    size_t cap_warnings;
    size_t *id_slots; /* open-addressing set of item index + 1 (0 = empty) */
    size_t n_id_slots;
    bool oom;         /* an allocation failed: the load fails at the end */
} smoa_eval_builder;

bool smoa_eval_builder_init(smoa_eval_builder *b, const char *name);
/* Hands the dataset over (NULL when the builder ran out of memory). */
smoa_eval_dataset *smoa_eval_builder_finish(smoa_eval_builder *b);
void smoa_eval_builder_discard(smoa_eval_builder *b);

/* Records "file:line: reason" (line 0 leaves the line out). */
void smoa_eval_warn(smoa_eval_builder *b, const char *file, size_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* An empty item: no gold, gold_choice and bbq.unknown_choice -1. */
void smoa_eval_item_init(smoa_eval_item *it);
/* Allocates n_turns empty turns and references (false on memory). */
bool smoa_eval_item_alloc_turns(smoa_eval_item *it, size_t n_turns);
bool smoa_eval_item_alloc_choices(smoa_eval_item *it, size_t n_choices);
/* Frees what the item owns and leaves it empty. */
void smoa_eval_item_clear(smoa_eval_item *it);

/* Moves a checked item into the set and leaves *it empty; question is
 * made turns[0]. A NULL id, turn or choice is taken for a failed
 * allocation.
 * An id already in the set is skipped with a warning. On memory failure
 * the item is freed and b->oom set. */
void smoa_eval_builder_add(smoa_eval_builder *b, smoa_eval_item *it, const char *file,
                           size_t line);

/* The item of the set with this id, or NULL. */
smoa_eval_item *smoa_eval_builder_find(const smoa_eval_builder *b, const char *id);

/* ------------------------------------------------------------------------ */
/* Files and records                                                        */

/* The whole file, NUL-terminated, a leading UTF-8 byte order mark removed.
 * SMOA_ERR_IO naming the path when it cannot be read. */
smoa_status smoa_eval_read_file(const char *path, char **data, size_t *len, smoa_error *err);

/* malloc'd "dir/rel". */
char *smoa_eval_path_join(const char *dir, const char *rel);

/* The names in dir that end with suffix, sorted bytewise; SMOA_ERR_IO when
 * dir cannot be listed. Free with smoa_eval_free_strings. */
smoa_status smoa_eval_list_dir(const char *dir, const char *suffix, char ***names, size_t *n,
                               smoa_error *err);
void smoa_eval_free_strings(char **strings, size_t n);

/* Called per record with the line it starts on; records failing a check
 * are skipped through smoa_eval_warn. */
typedef void (*smoa_eval_json_record_fn)(smoa_eval_builder *b, const char *file, size_t line,
                                         json_t *record, void *user);
typedef void (*smoa_eval_csv_record_fn)(smoa_eval_builder *b, const char *file, size_t line,
                                        char **fields, size_t n_fields, void *user);

/* One JSON object per line; blank lines skipped, a '\r' before the '\n'
 * allowed; lines that are not JSON objects are warnings. */
void smoa_eval_each_jsonl(smoa_eval_builder *b, const char *file, const char *data, size_t len,
                          smoa_eval_json_record_fn fn, void *user);

/* RFC 4180 CSV (quoted fields may hold commas, doubled quotes and
 * newlines; CRLF or LF), read leniently: a stray quote in an unquoted
 * field is kept as a character. An unterminated quote is a warning for
 * the record it opens. Fields are NUL-terminated and not trimmed; fn may
 * keep one by setting its slot to NULL. */
void smoa_eval_each_csv(smoa_eval_builder *b, const char *file, const char *data, size_t len,
                        smoa_eval_csv_record_fn fn, void *user);

/* The same over a file: dir/rel, or rel alone when dir is NULL. Warnings
 * name the file by that path. SMOA_ERR_IO when it cannot be read. */
smoa_status smoa_eval_each_jsonl_file(smoa_eval_builder *b, const char *dir, const char *rel,
                                      smoa_eval_json_record_fn fn, void *user, smoa_error *err);
smoa_status smoa_eval_each_csv_file(smoa_eval_builder *b, const char *dir, const char *rel,
                                    smoa_eval_csv_record_fn fn, void *user, smoa_error *err);

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

char *smoa_eval_strdup(const char *s); /* NULL for NULL */
char *smoa_eval_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* The string member `key`, or NULL when absent or not a string. */
const char *smoa_eval_json_string(const json_t *object, const char *key);
/* The option a letter names ("B", " b " -> 1), among n_options; -1 when
 * the text is not one such letter. */
int smoa_eval_option_index(const char *s, size_t n_options);
/* FNV-1a of a string, mixed with seed (the id hash of the builder and of
 * the selection). */
uint64_t smoa_eval_hash(const char *s, uint64_t seed);

/* Loaders of the named sets (one file each). */
smoa_status smoa_eval_load_gsm8k(smoa_eval_builder *b, const char *dir, smoa_error *err);
smoa_status smoa_eval_load_svamp(smoa_eval_builder *b, const char *dir, smoa_error *err);
smoa_status smoa_eval_load_mmlu(smoa_eval_builder *b, const char *dir, const char *split,
                                smoa_error *err);
smoa_status smoa_eval_load_bbq(smoa_eval_builder *b, const char *dir, smoa_error *err);
smoa_status smoa_eval_load_mtbench(smoa_eval_builder *b, const char *dir, smoa_error *err);
/* A record of a user's file, read but not yet checked. Strings are
 * borrowed. */
typedef struct smoa_eval_user_record {
    const char *id; /* NULL: "<set>/line-<line number>" */
    const char *category;
    const char *const *turns; /* the question, or each turn's text */
    size_t n_turns;
    const char *const *references; /* per turn, entries may be NULL */
    size_t n_references;
    const char *const *choices;
    size_t n_choices;
    const char *answer_text; /* a number or an option letter, as text */
    bool has_answer_number;
    double answer_number;
    const char *label_text; /* an option letter */
    bool has_label_index;
    long long label_index; /* a 0-based option */
} smoa_eval_user_record;

/* Checks a record (warning and skipping when it is not valid), makes its
 * item and adds it. */
void smoa_eval_add_user_record(smoa_eval_builder *b, const char *file, size_t line,
                               const smoa_eval_user_record *r);

/* A user's .jsonl or .csv file. */
smoa_status smoa_eval_load_user_jsonl(smoa_eval_builder *b, const char *path, smoa_error *err);
smoa_status smoa_eval_load_user_csv(smoa_eval_builder *b, const char *path, smoa_error *err);

#endif
