/* test_tokenizer_vectors.c - golden token ids for one vocabulary.
 *
 *   test_tokenizer_vectors [--parse-special] <vocab.gguf> <cases.inp> <ids.out>
 *
 * The .inp/.out format is llama.cpp's test-tokenizer-0: every case in .inp is
 * followed by "\n__ggml_vocab_test__\n"; .out has one line of ids per case.
 * Each case is tokenized without BOS/EOS (special tokens parsed only with
 * --parse-special) and must give exactly the expected ids. Then:
 *   - detokenize(tokenize(s)) must give s back byte for byte, for every case
 *     whose tokens hold no unknown token (the one lossy step), rendering
 *     special tokens when they were parsed;
 *   - tokenizing all cases from several threads at once must give the same
 *     ids (a loaded vocab is shared read-only).
 * Exit status: 0 pass, 1 fail, 77 skip (vocabulary file absent). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "model/vocab.h"

#define SEPARATOR "\n__ggml_vocab_test__\n"
#define N_THREADS 4
#define SKIP 77

typedef struct ids {
    int32_t *v;
    size_t n;
} ids;

typedef struct test_case {
    const char *text;
    size_t len;
    ids expected;
} test_case;

typedef struct suite {
    const smoa_vocab *vocab;
    uint32_t flags;
    test_case *cases;
    size_t n_cases;
} suite;

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *size = n;
    return buf;
}

/* Splits .inp in place into cases. */
static size_t split_cases(char *inp, size_t size, test_case **out) {
    size_t n = 0, sep = strlen(SEPARATOR);
    test_case *cases = NULL;
    for (char *p = inp, *end = inp + size, *hit; p < end; p = hit + sep) {
        hit = strstr(p, SEPARATOR);
        if (!hit) break; /* text after the last separator is not a case */
        cases = realloc(cases, (n + 1) * sizeof *cases);
        cases[n++] = (test_case){p, (size_t)(hit - p), {NULL, 0}};
    }
    *out = cases;
    return n;
}

static ids parse_ids(char *line) {
    ids r = {NULL, 0};
    for (char *tok = strtok(line, " \r"); tok; tok = strtok(NULL, " \r")) {
        r.v = realloc(r.v, (r.n + 1) * sizeof *r.v);
        r.v[r.n++] = (int32_t)strtol(tok, NULL, 10);
    }
    return r;
}

/* Fills each case's expected ids from .out; false when the line count differs. */
static bool read_expected(char *out, test_case *cases, size_t n_cases) {
    size_t i = 0;
    for (char *line = out; *line; i++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (i < n_cases) cases[i].expected = parse_ids(line);
        if (!nl) {
            i++;
            break;
        }
        line = nl + 1;
    }
    return i == n_cases;
}

static ids tokenize(const smoa_vocab *v, const char *text, size_t len, uint32_t flags) {
    ids r = {NULL, 0};
    size_t n = 0;
    smoa_error err = {0};
    smoa_status st = smoa_vocab_tokenize(v, text, len, flags, NULL, 0, &n, &err);
    if (st == SMOA_ERR_BUFFER_TOO_SMALL) {
        r.v = malloc(n * sizeof *r.v);
        st = smoa_vocab_tokenize(v, text, len, flags, r.v, n, &r.n, &err);
    }
    if (st != SMOA_OK && st != SMOA_ERR_BUFFER_TOO_SMALL) {
        fprintf(stderr, "tokenize failed: %s\n", err.message);
        r.n = SIZE_MAX;
    }
    return r;
}

static void print_escaped(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\x%02X", c);
        else putchar(c);
    }
    putchar('"');
}

/* Ids with the text each one decodes to. */
static void print_ids(const smoa_vocab *v, const char *label, ids r) {
    printf("  %s:", label);
    for (size_t i = 0; i < r.n; i++) {
        char piece[256];
        size_t n = 0;
        smoa_vocab_detokenize(v, &r.v[i], 1, SMOA_DETOKENIZE_RENDER_SPECIAL, piece, sizeof piece,
                              &n, NULL);
        printf(" %d=", r.v[i]);
        print_escaped(piece, n < sizeof piece ? n : sizeof piece - 1);
    }
    putchar('\n');
}

static bool same_ids(ids a, ids b) {
    return a.n == b.n && (a.n == 0 || memcmp(a.v, b.v, a.n * sizeof *a.v) == 0);
}

static bool check_ids(const suite *s, size_t i, ids got) {
    const test_case *c = &s->cases[i];
    if (same_ids(got, c->expected)) return true;
    printf("case %zu: ", i);
    print_escaped(c->text, c->len);
    putchar('\n');
    print_ids(s->vocab, "expected", c->expected);
    if (got.n == SIZE_MAX) printf("  got: an error\n");
    else print_ids(s->vocab, "got     ", got);
    return false;
}

static bool has_unknown_token(const smoa_vocab *v, ids r) {
    for (size_t i = 0; i < r.n; i++) {
        const char *t = smoa_vocab_token_text(v, r.v[i]);
        if (strcmp(t, "<unk>") == 0 || strcmp(t, "[UNK]") == 0) return true;
    }
    return false;
}

static bool check_round_trip(const suite *s, size_t i, ids got) {
    const test_case *c = &s->cases[i];
    if (has_unknown_token(s->vocab, got)) return true;
    uint32_t flags = s->flags & SMOA_TOKENIZE_PARSE_SPECIAL ? SMOA_DETOKENIZE_RENDER_SPECIAL : 0;
    size_t cap = c->len * 4 + 16, n = 0;
    char *text = malloc(cap);
    smoa_error err = {0};
    smoa_status st = smoa_vocab_detokenize(s->vocab, got.v, got.n, flags, text, cap, &n, &err);
    bool ok = st == SMOA_OK && n == c->len && memcmp(text, c->text, n) == 0;
    if (!ok) {
        printf("case %zu does not round-trip (%s): ", i, st == SMOA_OK ? "ok" : err.message);
        print_escaped(c->text, c->len);
        printf(" -> ");
        print_escaped(text, st == SMOA_OK ? n : 0);
        putchar('\n');
    }
    free(text);
    return ok;
}

static void *tokenize_all(void *arg) {
    const suite *s = arg;
    intptr_t failures = 0;
    for (int rep = 0; rep < 4; rep++)
        for (size_t i = 0; i < s->n_cases; i++) {
            ids got = tokenize(s->vocab, s->cases[i].text, s->cases[i].len, s->flags);
            failures += !same_ids(got, s->cases[i].expected);
            free(got.v);
        }
    return (void *)failures;
}

static bool check_threads(const suite *s) {
    pthread_t threads[N_THREADS];
    intptr_t failures = 0;
    for (int t = 0; t < N_THREADS; t++) pthread_create(&threads[t], NULL, tokenize_all, (void *)s);
    for (int t = 0; t < N_THREADS; t++) {
        void *r;
        pthread_join(threads[t], &r);
        failures += (intptr_t)r;
    }
    if (failures) printf("%ld mismatches when tokenizing from %d threads\n", (long)failures,
                         N_THREADS);
    return failures == 0;
}

static int run(const suite *s) {
    size_t bad_ids = 0, bad_trips = 0;
    for (size_t i = 0; i < s->n_cases; i++) {
        ids got = tokenize(s->vocab, s->cases[i].text, s->cases[i].len, s->flags);
        bad_ids += !check_ids(s, i, got);
        if (got.n != SIZE_MAX) bad_trips += !check_round_trip(s, i, got);
        free(got.v);
    }
    bool threads_ok = check_threads(s);
    printf("%zu cases: %zu id mismatches, %zu round-trip failures, threads %s\n", s->n_cases,
           bad_ids, bad_trips, threads_ok ? "ok" : "FAILED");
    return bad_ids || bad_trips || !threads_ok;
}

int main(int argc, char **argv) {
    uint32_t flags = 0;
    if (argc > 1 && strcmp(argv[1], "--parse-special") == 0) {
        flags = SMOA_TOKENIZE_PARSE_SPECIAL;
        argv++, argc--;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s [--parse-special] <vocab.gguf> <cases.inp> <ids.out>\n",
                argv[0]);
        return 2;
    }
    smoa_error err = {0};
    smoa_gguf *g = NULL;
    FILE *probe = argv[1][0] ? fopen(argv[1], "rb") : NULL;
    if (!probe) {
        printf("SKIP: vocabulary '%s' not found (set SMOA_DEFAULT_MODEL_PATH for the default "
               "model)\n", argv[1]);
        return SKIP;
    }
    fclose(probe);
    size_t inp_size, out_size;
    char *inp = read_file(argv[2], &inp_size), *out = read_file(argv[3], &out_size);
    if (!inp || !out) {
        fprintf(stderr, "cannot read %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    suite s = {.flags = flags};
    s.n_cases = split_cases(inp, inp_size, &s.cases);
    if (!read_expected(out, s.cases, s.n_cases)) {
        fprintf(stderr, "%s does not have one line per case of %s (%zu)\n", argv[3], argv[2],
                s.n_cases);
        return 1;
    }
    smoa_vocab *v = NULL;
    if (smoa_gguf_open_file(argv[1], &g, &err) != SMOA_OK ||
        smoa_vocab_load(g, &v, &err) != SMOA_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    s.vocab = v;
    printf("%s: %s / %s, %u tokens\n", argv[1], smoa_vocab_model_name(v), smoa_vocab_pre_name(v),
           smoa_vocab_n_tokens(v));
    int rc = run(&s);
    for (size_t i = 0; i < s.n_cases; i++) free(s.cases[i].expected.v);
    free(s.cases);
    free(inp);
    free(out);
    smoa_vocab_free(v);
    smoa_gguf_close(g);
    return rc;
}
