/* bench_tokenize.c - tokenizer throughput on about 1 MB of text.
 *
 *   bench_tokenize [model.gguf] [text-file ...]
 *
 * The model is the argument, else $SMOA_MODEL (only its metadata is read:
 * the vocabulary). Each corpus (built-in English prose, source code, multilingual
 * text, or the given files) is repeated to 1 MiB and tokenized 5 times with
 * no special flags; the table gives the median time. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "model/gguf.h"
#include "model/vocab.h"

#define TARGET_BYTES (1u << 20)
#define RUNS 5

static const char PROSE[] =
    "The committee met on a grey Tuesday morning to decide, once and for all, whether the "
    "old bridge should be repaired or replaced. Repairs would cost $1.2 million and take "
    "eight months; a new span, nearly three times as much. \"We've patched it since 1987,\" "
    "said the engineer, \"and it isn't getting any younger.\" Nobody disagreed.\n\n";

static const char CODE[] =
    "static int parse_header(const uint8_t *buf, size_t len, struct header *out) {\n"
    "    if (len < 24) return -EINVAL;\n"
    "    memcpy(&out->magic, buf, 4);\n"
    "    for (size_t i = 0; i < out->n_fields; i++) {\n"
    "        out->fields[i] = read_u32(buf + 8 + 4 * i); // little-endian\n"
    "    }\n"
    "    return out->magic == 0x46554747 ? 0 : -EPROTO;\n"
    "}\n\n";

static const char MULTILINGUAL[] =
    "Grüße aus München! Привет, как дела? 你好，世界。こんにちは、元気ですか？ "
    "안녕하세요. Cửa Việt, ελληνικά, עברית, العربية 🦙🚀 3.14159 × 2 = 6.28318\n";

/* seed repeated (whole copies) up to TARGET_BYTES. */
static char *repeat_to_target(const char *seed, size_t seed_len, size_t *len) {
    size_t copies = TARGET_BYTES / seed_len ? TARGET_BYTES / seed_len : 1;
    char *text = malloc(copies * seed_len);
    if (!text) return NULL;
    for (size_t i = 0; i < copies; i++) memcpy(text + i * seed_len, seed, seed_len);
    *len = copies * seed_len;
    return text;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size > 0 ? malloc((size_t)size) : NULL;
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)size : 0;
    return buf;
}

static int bench(const smoa_vocab *vocab, const char *name, const char *seed, size_t seed_len) {
    size_t len = 0, n = 0;
    char *text = repeat_to_target(seed, seed_len, &len);
    int32_t *ids = malloc(len * sizeof *ids); /* at most one token per byte */
    if (!text || !ids) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double times[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = bench_now();
        smoa_error err = {0};
        smoa_status st = smoa_vocab_tokenize(vocab, text, len, 0, ids, len, &n, &err);
        times[r] = bench_now() - t0;
        if (st != SMOA_OK) {
            fprintf(stderr, "%s: %s\n", name, err.message);
            return 1;
        }
    }
    double mb = (double)len / (1024.0 * 1024.0), s = bench_median(times, RUNS);
    printf("| %-14.14s | %5.2f | %9zu | %8.4f | %6.1f |\n", name, mb, n, s, mb / s);
    free(ids);
    free(text);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : getenv("SMOA_MODEL");
    if (!path || !*path) {
        fprintf(stderr, "usage: %s [model.gguf] [text-file ...] (or set SMOA_MODEL)\n", argv[0]);
        return 2;
    }
    smoa_error err = {0};
    smoa_gguf *g = NULL;
    smoa_vocab *vocab = NULL;
    if (smoa_gguf_open_file(path, &g, &err) != SMOA_OK ||
        smoa_vocab_load(g, &vocab, &err) != SMOA_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        smoa_gguf_close(g);
        return 1;
    }
    printf("vocabulary: %s (%s / %s, %u tokens), median of %d runs\n\n", path,
           smoa_vocab_model_name(vocab), smoa_vocab_pre_name(vocab), smoa_vocab_n_tokens(vocab),
           RUNS);
    printf("| corpus         |    MB |    tokens |  seconds |   MB/s |\n");
    printf("| -------------- | ----- | --------- | -------- | ------ |\n");
    int rc = 0;
    if (argc > 2) {
        for (int i = 2; i < argc && !rc; i++) {
            size_t len;
            char *seed = read_file(argv[i], &len);
            if (!seed) {
                fprintf(stderr, "cannot read %s\n", argv[i]);
                rc = 1;
                break;
            }
            const char *base = strrchr(argv[i], '/');
            rc = bench(vocab, base ? base + 1 : argv[i], seed, len);
            free(seed);
        }
    } else {
        rc = bench(vocab, "prose", PROSE, sizeof PROSE - 1) ||
             bench(vocab, "code", CODE, sizeof CODE - 1) ||
             bench(vocab, "multilingual", MULTILINGUAL, sizeof MULTILINGUAL - 1);
    }
    smoa_vocab_free(vocab);
    smoa_gguf_close(g);
    return rc;
}
