/* fuzz_eval.c - libFuzzer target: arbitrary bytes as the files an
 * evaluation reads. The first byte picks the reader: a user's data set as
 * JSONL or as CSV (eval/dataset.h), or a results.jsonl summarised for the
 * report (eval/report.h). A loaded set must keep its promises (ids,
 * questions, options, gold in range, a prompt for every item); any crash,
 * sanitizer report or leak is a finding too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/dataset.h"
#include "eval/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok) {
    if (!ok) abort();
}

static void write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    require(f != NULL);
    require(fwrite(data, 1, size, f) == size);
    require(fclose(f) == 0);
}

static void check_item(const smoa_eval_item *it) {
    require(it->id && it->question && it->n_turns >= 1 && it->turns[0] == it->question);
    require(it->kind != SMOA_EVAL_CHOICE || (it->n_choices >= 2 && it->n_choices <= 26));
    require(it->gold_choice >= -1 && it->gold_choice < (int)it->n_choices);
    for (size_t t = 0; t < it->n_turns; t++) {
        char *prompt = smoa_eval_item_prompt(it, t);
        require(prompt != NULL);
        free(prompt);
    }
}

static void load_dataset(const char *path) {
    smoa_eval_dataset *ds = NULL;
    smoa_error err = {0};
    if (smoa_eval_dataset_load(path, &ds, &err) != SMOA_OK) {
        require(ds == NULL && err.message[0]); /* a failure always says why */
        return;
    }
    require(ds->n_items >= 1);
    for (size_t i = 0; i < ds->n_items; i++) check_item(&ds->items[i]);
    size_t *order = malloc(ds->n_items * sizeof *order), n = 0;
    require(order && smoa_eval_dataset_select(ds, 3, 42, order, &n) == SMOA_OK && n <= 3);
    free(order);
    smoa_eval_dataset_free(ds);
}

static void summarise_results(const char *dir) {
    smoa_eval_summary *s = NULL;
    smoa_error err = {0};
    if (smoa_eval_summary_read(dir, &s, &err) != SMOA_OK) {
        require(err.message[0]);
        return;
    }
    for (size_t i = 0; i < s->n_groups; i++) require(s->groups[i].correct <= s->groups[i].items);
    smoa_eval_summary_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char dir[64], path[96];
    snprintf(dir, sizeof dir, "/tmp/smoa_fuzz_eval_%ld", (long)getpid());
    mkdir(dir, 0700);
    switch (data[0] % 3) {
    case 0: snprintf(path, sizeof path, "%s/user.jsonl", dir); break;
    case 1: snprintf(path, sizeof path, "%s/user.csv", dir); break;
    default: snprintf(path, sizeof path, "%s/results.jsonl", dir); break;
    }
    write_file(path, data + 1, size - 1);
    if (data[0] % 3 < 2) load_dataset(path);
    else summarise_results(dir);
    unlink(path);
    return 0;
}
