/* dataset.c - finds a set by name or path and loads it. */
#include "eval/dataset_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATA_DIR_ENV "SMOA_DATA_DIR"

typedef enum set_format {
    SET_GSM8K, SET_SVAMP, SET_MMLU, SET_MMLU_DEV, SET_BBQ, SET_MTBENCH
} set_format;

static const struct named_set {
    const char *name;
    set_format format;
} named_sets[] = {
    {"gsm8k", SET_GSM8K}, {"svamp", SET_SVAMP}, {"mmlu", SET_MMLU},
    {"mmlu-dev", SET_MMLU_DEV}, {"bbq", SET_BBQ}, {"mt-bench", SET_MTBENCH},
};

static bool is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *smoa_eval_data_dir(void) {
    const char *env = getenv(DATA_DIR_ENV);
    if (env && env[0]) return env;
    /* Both set by the build: a build tree reads its own sources' copy. */
    return is_directory(SMOA_SOURCE_DATA_DIR) ? SMOA_SOURCE_DATA_DIR : SMOA_INSTALL_DATA_DIR;
}

static smoa_status load_named(smoa_eval_builder *b, set_format format, smoa_error *err) {
    const char *dir = smoa_eval_data_dir();
    smoa_status st = SMOA_OK;
    switch (format) {
    case SET_GSM8K: st = smoa_eval_load_gsm8k(b, dir, err); break;
    case SET_SVAMP: st = smoa_eval_load_svamp(b, dir, err); break;
    case SET_MMLU: st = smoa_eval_load_mmlu(b, dir, "val", err); break;
    case SET_MMLU_DEV: st = smoa_eval_load_mmlu(b, dir, "dev", err); break;
    case SET_BBQ: st = smoa_eval_load_bbq(b, dir, err); break;
    case SET_MTBENCH: st = smoa_eval_load_mtbench(b, dir, err); break;
    }
    if (st == SMOA_ERR_IO && err) {
        char detail[sizeof err->message];
        memcpy(detail, err->message, sizeof detail);
        smoa_error_set(err, st, "%s (the data directory is %s; set " DATA_DIR_ENV " to change it)",
                       detail, dir);
    }
    return st;
}

static bool has_extension(const char *path, const char *ext) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) && strcmp(dot, ext) == 0;
}

/* "dir/questions.jsonl" -> "questions" */
static char *file_stem(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *stem = malloc(n + 1);
    if (!stem) return NULL;
    memcpy(stem, base, n);
    stem[n] = '\0';
    return stem;
}

static const struct named_set *find_named(const char *name) {
    for (size_t i = 0; i < sizeof named_sets / sizeof named_sets[0]; i++)
        if (strcmp(named_sets[i].name, name) == 0) return &named_sets[i];
    return NULL;
}

static smoa_status load_any(smoa_eval_builder *b, const char *name_or_path,
                            const struct named_set *set, smoa_error *err) {
    if (set) return load_named(b, set->format, err);
    if (has_extension(name_or_path, ".jsonl"))
        return smoa_eval_load_user_jsonl(b, name_or_path, err);
    if (has_extension(name_or_path, ".csv")) return smoa_eval_load_user_csv(b, name_or_path, err);
    return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                          "'%s' is neither a data set (gsm8k, svamp, mmlu, mmlu-dev, bbq, "
                          "mt-bench) nor a .jsonl or .csv file",
                          name_or_path);
}

smoa_status smoa_eval_dataset_load(const char *name_or_path, smoa_eval_dataset **out,
                                   smoa_error *err) {
    if (!out) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "no place for the data set");
    *out = NULL;
    if (!name_or_path || !name_or_path[0])
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "no data set named");
    const struct named_set *set = find_named(name_or_path);
    char *stem = set ? NULL : file_stem(name_or_path);
    smoa_eval_builder b;
    bool ready = (set || stem) && smoa_eval_builder_init(&b, set ? set->name : stem);
    free(stem);
    if (!ready) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "loading '%s'", name_or_path);

    smoa_status st = load_any(&b, name_or_path, set, err);
    if (st == SMOA_OK && b.oom)
        st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "loading '%s'", name_or_path);
    if (st == SMOA_OK && b.ds->n_items == 0) {
        const smoa_eval_dataset *ds = b.ds;
        st = ds->n_warnings
                 ? smoa_error_set(err, SMOA_ERR_FORMAT,
                                  "'%s' holds no valid record (%zu skipped; the first: %s)",
                                  name_or_path, ds->n_warnings, ds->warnings[0])
                 : smoa_error_set(err, SMOA_ERR_FORMAT, "'%s' holds no record", name_or_path);
    }
    if (st != SMOA_OK) {
        smoa_eval_builder_discard(&b);
        return st;
    }
    *out = smoa_eval_builder_finish(&b);
    return SMOA_OK;
}
