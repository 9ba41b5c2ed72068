/* fuzz_tokenize.c - libFuzzer target: arbitrary text through real
 * vocabularies (byte-level BPE and SentencePiece). The first byte picks the
 * vocabulary and the flags. Any crash or sanitizer report is a bug, and so
 * is a byte-level BPE round trip that does not give the text back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "model/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N_VOCABS = 3, MAX_TOKENS = 1 << 14 };

static const char *const vocab_files[N_VOCABS] = {
    SMOA_TEST_DATA "/vocab/ggml-vocab-gpt-2.gguf",        /* byte-level BPE: round trips */
    SMOA_TEST_DATA "/vocab/ggml-vocab-deepseek-llm.gguf", /* BPE with a long regex list */
    SMOA_TEST_DATA "/vocab/ggml-vocab-llama-spm.gguf",    /* SentencePiece              */
};

/* Loaded once and kept for the whole run (reachable, so not leaks). */
static smoa_gguf *files[N_VOCABS];
static smoa_vocab *vocabs[N_VOCABS];

static void load_vocabs(void) {
    for (int i = 0; i < N_VOCABS; i++)
        if (smoa_gguf_open_file(vocab_files[i], &files[i], NULL) != SMOA_OK ||
            smoa_vocab_load(files[i], &vocabs[i], NULL) != SMOA_OK)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int32_t ids[MAX_TOKENS];
    static char back[MAX_TOKENS * 16];
    if (!vocabs[0]) load_vocabs();
    if (size < 1) return 0;
    int which = data[0] % N_VOCABS;
    uint32_t flags = (data[0] >> 2) & (SMOA_TOKENIZE_ADD_SPECIAL | SMOA_TOKENIZE_PARSE_SPECIAL);
    const char *text = (const char *)data + 1;
    size_t len = size - 1, n, n_back;
    smoa_status st = smoa_vocab_tokenize(vocabs[which], text, len, flags, ids, MAX_TOKENS, &n, NULL);
    if (st == SMOA_ERR_INVALID_ARGUMENT || st == SMOA_ERR_BUFFER_TOO_SMALL) return 0; /* invalid UTF-8, huge */
    if (st != SMOA_OK) abort();
    if (smoa_vocab_detokenize(vocabs[which], ids, n, SMOA_DETOKENIZE_RENDER_SPECIAL, back, sizeof back, &n_back,
                              NULL) != SMOA_OK)
        abort();
    if (which == 0 && flags == 0 && (n_back != len || memcmp(back, text, len) != 0)) abort();
    return 0;
}
