/* dataset_io.c - reading data files: whole files, directory listings,
 * JSON Lines with line numbers, and the small string helpers the loaders
 * share. */
#include "eval/dataset_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define UTF8_BOM "\xEF\xBB\xBF"

smoa_status smoa_eval_read_file(const char *path, char **data, size_t *len, smoa_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return smoa_error_set(err, SMOA_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            size_t cap_new = cap ? cap * 2 : 65536;
            char *grown = realloc(buf, cap_new + 1);
            if (!grown) {
                free(buf);
                fclose(f);
                return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "reading '%s'", path);
            }
            buf = grown;
            cap = cap_new;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool failed = ferror(f) != 0;
    int read_errno = errno;
    fclose(f);
    if (failed) {
        free(buf);
        return smoa_error_set(err, SMOA_ERR_IO, "cannot read '%s': %s", path, strerror(read_errno));
    }
    size_t skip = n >= 3 && memcmp(buf, UTF8_BOM, 3) == 0 ? 3 : 0;
    memmove(buf, buf + skip, n - skip);
    buf[n - skip] = '\0';
    *data = buf;
    *len = n - skip;
    return SMOA_OK;
}

char *smoa_eval_path_join(const char *dir, const char *rel) {
    return smoa_eval_printf("%s/%s", dir, rel);
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && memcmp(s + n - k, suffix, k) == 0;
}

smoa_status smoa_eval_list_dir(const char *dir, const char *suffix, char ***names, size_t *n,
                               smoa_error *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return smoa_error_set(err, SMOA_ERR_IO, "cannot open '%s': %s", dir, strerror(errno));
    char **list = NULL;
    size_t count = 0, cap = 0;
    bool oom = false;
    for (struct dirent *e; !oom && (e = readdir(d)) != NULL;) {
        if (!ends_with(e->d_name, suffix)) continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(list, cap * sizeof *list);
            if (!grown) {
                oom = true;
                break;
            }
            list = grown;
        }
        if ((list[count] = smoa_eval_strdup(e->d_name)) == NULL) oom = true;
        else count++;
    }
    closedir(d);
    if (oom) {
        smoa_eval_free_strings(list, count);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "listing '%s'", dir);
    }
    if (count) qsort(list, count, sizeof *list, compare_strings);
    *names = list;
    *n = count;
    return SMOA_OK;
}

static bool is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

void smoa_eval_each_jsonl(smoa_eval_builder *b, const char *file, const char *data, size_t len,
                          smoa_eval_json_record_fn fn, void *user) {
    size_t line = 0;
    for (size_t pos = 0; pos < len && !b->oom;) {
        const char *start = data + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL);
        line++;
        if (n && start[n - 1] == '\r') n--;
        if (is_blank(start, n)) continue;
        json_error_t jerr;
        json_t *record = json_loadb(start, n, 0, &jerr);
        if (!record) {
            smoa_eval_warn(b, file, line, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
            continue;
        }
        if (json_is_object(record)) fn(b, file, line, record, user);
        else smoa_eval_warn(b, file, line, "not a JSON object");
        json_decref(record);
    }
}

/* Reads dir/rel (rel alone when dir is NULL); *path is the joined path. */
static smoa_status read_at(const char *dir, const char *rel, char **path, char **data, size_t *len,
                           smoa_error *err) {
    *data = NULL;
    *path = dir ? smoa_eval_path_join(dir, rel) : smoa_eval_strdup(rel);
    if (!*path) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "reading '%s'", rel);
    return smoa_eval_read_file(*path, data, len, err);
}

smoa_status smoa_eval_each_jsonl_file(smoa_eval_builder *b, const char *dir, const char *rel,
                                      smoa_eval_json_record_fn fn, void *user, smoa_error *err) {
    char *path, *data;
    size_t len;
    smoa_status st = read_at(dir, rel, &path, &data, &len, err);
    if (st == SMOA_OK) smoa_eval_each_jsonl(b, path, data, len, fn, user);
    free(data);
    free(path);
    return st;
}

smoa_status smoa_eval_each_csv_file(smoa_eval_builder *b, const char *dir, const char *rel,
                                    smoa_eval_csv_record_fn fn, void *user, smoa_error *err) {
    char *path, *data;
    size_t len;
    smoa_status st = read_at(dir, rel, &path, &data, &len, err);
    if (st == SMOA_OK) smoa_eval_each_csv(b, path, data, len, fn, user);
    free(data);
    free(path);
    return st;
}

char *smoa_eval_strdup(const char *s) {
    return s ? strdup(s) : NULL;
}

char *smoa_eval_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *smoa_eval_json_string(const json_t *object, const char *key) {
    const json_t *v = json_object_get(object, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int smoa_eval_option_index(const char *s, size_t n_options) {
    s += strspn(s, " \t");
    char upper = (char)(*s & ~0x20);
    if (upper < 'A' || upper >= 'A' + (int)n_options) return -1;
    if (s[1 + strspn(s + 1, " \t\r\n")] != '\0') return -1;
    return upper - 'A';
}

uint64_t smoa_eval_hash(const char *s, uint64_t seed) {
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    /* FNV's bits are poorly mixed for ids that differ in one digit; pass
     * the hash and the seed through the RNG's seeding to spread them. */
    smoa_rng rng;
    smoa_rng_seed(&rng, seed);
    uint64_t salt = smoa_rng_next(&rng);
    smoa_rng_seed(&rng, h ^ salt);
    return smoa_rng_next(&rng);
}
