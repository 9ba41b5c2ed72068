/* test_vocab.c - the vocabulary and tokenizer on small vocabs built in memory
 * (so each test names exactly which token, merge or key matters), plus a few
 * checks on the default model's vocab when $SMOA_MODEL names it.
 *
 * Invalid UTF-8 in text is refused with SMOA_ERR_INVALID_ARGUMENT and the
 * offset of the first bad byte, rather than replaced with U+FFFD as llama.cpp
 * does: a silent replacement would change the text the model sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/vocab.h"

/* ------------------------------------------------------------------------ */
/* Building vocabs                                                          */

enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, BYTE = 6 };
enum { MAX_TOKENS = 300, OMIT = -100 };

/* The metadata of a vocab; fields left at OMIT (ints) or NULL are not written. */
typedef struct vocab_spec {
    const char *model;
    const char *pre;
    char texts[MAX_TOKENS][16];
    const char *tokens[MAX_TOKENS];
    int32_t types[MAX_TOKENS];
    float scores[MAX_TOKENS];
    size_t n_tokens;
    size_t n_types;  /* entries of token_type written; 0: one per token */
    bool with_scores;
    size_t n_scores; /* entries of scores written; 0: one per token */
    const char *merges[16];
    size_t n_merges;
    int64_t bos, eos, unk;
    int add_bos, add_eos;
} vocab_spec;

typedef struct loaded {
    uint8_t *bytes;
    smoa_gguf *gguf;
    smoa_vocab *vocab;
    smoa_error err;
} loaded;

static int32_t add_token(vocab_spec *s, const char *text, int32_t type, float score) {
    size_t id = s->n_tokens++;
    assert_true(id < MAX_TOKENS && strlen(text) < sizeof s->texts[id]);
    strcpy(s->texts[id], text);
    s->tokens[id] = s->texts[id];
    s->types[id] = type;
    s->scores[id] = score;
    return (int32_t)id;
}

static void spec_init(vocab_spec *s, const char *model, const char *pre) {
    memset(s, 0, sizeof *s);
    s->model = model;
    s->pre = pre;
    s->bos = s->eos = s->unk = OMIT;
    s->add_bos = s->add_eos = OMIT;
}

static smoa_status load(const vocab_spec *s, loaded *out) {
    memset(out, 0, sizeof *out);
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    assert_non_null(w);
    if (s->model) assert_true(smoa_gguf_writer_add_str(w, "tokenizer.ggml.model", s->model));
    if (s->pre) assert_true(smoa_gguf_writer_add_str(w, "tokenizer.ggml.pre", s->pre));
    if (s->n_tokens)
        assert_true(smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", s->tokens,
                                                   s->n_tokens));
    if (s->n_tokens)
        assert_true(smoa_gguf_writer_add_i32_array(w, "tokenizer.ggml.token_type", s->types,
                                                   s->n_types ? s->n_types : s->n_tokens));
    if (s->with_scores)
        assert_true(smoa_gguf_writer_add_f32_array(w, "tokenizer.ggml.scores", s->scores,
                                                   s->n_scores ? s->n_scores : s->n_tokens));
    if (s->n_merges)
        assert_true(smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", s->merges,
                                                   s->n_merges));
    if (s->bos != OMIT) assert_true(smoa_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)s->bos));
    if (s->eos != OMIT) assert_true(smoa_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)s->eos));
    if (s->unk != OMIT) assert_true(smoa_gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)s->unk));
    if (s->add_bos != OMIT) assert_true(smoa_gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", s->add_bos));
    if (s->add_eos != OMIT) assert_true(smoa_gguf_writer_add_bool(w, "tokenizer.ggml.add_eos_token", s->add_eos));
    size_t size;
    assert_int_equal(smoa_gguf_writer_to_memory(w, &out->bytes, &size, NULL), SMOA_OK);
    smoa_gguf_writer_free(w);
    assert_int_equal(smoa_gguf_open_memory(out->bytes, size, &out->gguf, &out->err), SMOA_OK);
    smoa_status st = smoa_vocab_load(out->gguf, &out->vocab, &out->err);
    assert_true((st == SMOA_OK) == (out->vocab != NULL));
    return st;
}

static void release(loaded *l) {
    smoa_vocab_free(l->vocab);
    smoa_gguf_close(l->gguf);
    free(l->bytes);
}

/* The load fails with status and a message that mentions `words`. */
static void expect_load_error(const vocab_spec *s, smoa_status status, const char *words) {
    loaded l;
    assert_int_equal(load(s, &l), status);
    if (!strstr(l.err.message, words)) fail_msg("message '%s' lacks '%s'", l.err.message, words);
    release(&l);
}

/* GPT-2's byte-level character for byte b, as UTF-8. */
static void byte_char(unsigned b, char out[3]) {
    unsigned cp = b <= 0x20 ? 0x100 + b : b >= 0x7F && b <= 0xA0 ? 0x121 + (b - 0x7F)
                : b == 0xAD ? 0x143 : b;
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = '\0';
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = '\0';
    }
}

/* Ids of the byte-level BPE fixture. */
enum {
    ENDOFTEXT = 0, IM_START = 1, IM_END = 2, USER_TOOL = 3, IM_PREFIX = 4, END_OF_TURN = 5,
    FIRST_BYTE = 6
};
#define BYTE_ID(b) (FIRST_BYTE + (b))

/* A byte-level BPE vocab: special tokens, all 256 byte characters, and a
 * few merges ("a b" before "b c" unless swapped). */
static void bpe_spec(vocab_spec *s, bool swap_abc) {
    spec_init(s, "gpt2", "gpt2");
    add_token(s, "<|endoftext|>", CONTROL, 0);
    add_token(s, "<|im_start|>", CONTROL, 0);
    add_token(s, "<|im_end|>", CONTROL, 0);
    add_token(s, "[[x]]", USER_DEFINED, 0);
    add_token(s, "<|im", CONTROL, 0);
    add_token(s, "<end_of_turn>", NORMAL, 0); /* looks like an end marker, but is text */
    for (unsigned b = 0; b < 256; b++) {
        char c[3];
        byte_char(b, c);
        add_token(s, c, NORMAL, 0);
    }
    static const char *const merges[] = {"h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o"};
    static const char *const results[] = {"he", "ll", "hell", "hello", "Ġw", "Ġwo"};
    for (size_t i = 0; i < 6; i++) {
        s->merges[s->n_merges++] = merges[i];
        add_token(s, results[i], NORMAL, 0);
    }
    s->merges[s->n_merges++] = swap_abc ? "b c" : "a b";
    s->merges[s->n_merges++] = swap_abc ? "a b" : "b c";
    add_token(s, "ab", NORMAL, 0);
    add_token(s, "bc", NORMAL, 0);
    s->bos = IM_START;
    s->eos = IM_END;
}

static int32_t id_of(const smoa_vocab *v, const char *text) {
    for (uint32_t i = 0; i < smoa_vocab_n_tokens(v); i++)
        if (strcmp(smoa_vocab_token_text(v, (int32_t)i), text) == 0) return (int32_t)i;
    fail_msg("no token '%s'", text);
    return -1;
}

/* Tokenizes text and checks the ids against expected[0..n). */
static void expect_ids(const smoa_vocab *v, const char *text, uint32_t flags,
                       const int32_t *expected, size_t n) {
    int32_t got[64];
    size_t n_got = 0;
    smoa_error err = {0};
    assert_int_equal(smoa_vocab_tokenize(v, text, strlen(text), flags, got, 64, &n_got, &err),
                     SMOA_OK);
    assert_int_equal(n_got, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], expected[i]);
}

/* Detokenizes and checks the exact bytes. */
static void expect_text(const smoa_vocab *v, const int32_t *ids, size_t n, uint32_t flags,
                        const char *expected, size_t expected_len) {
    char buf[256];
    size_t len = 0;
    assert_int_equal(smoa_vocab_detokenize(v, ids, n, flags, buf, sizeof buf, &len, NULL), SMOA_OK);
    assert_int_equal(len, expected_len);
    assert_memory_equal(buf, expected, len);
    assert_int_equal(buf[len], '\0');
}

/* ------------------------------------------------------------------------ */
/* Byte-level BPE                                                           */

static void test_bpe_merges_by_rank(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    assert_string_equal(smoa_vocab_model_name(l.vocab), "gpt2");
    assert_string_equal(smoa_vocab_pre_name(l.vocab), "gpt2");
    const int32_t hello_wo[] = {id_of(l.vocab, "hello"), id_of(l.vocab, "Ġwo")};
    expect_ids(l.vocab, "hello wo", 0, hello_wo, 2);
    const int32_t ab_c[] = {id_of(l.vocab, "ab"), BYTE_ID('c')};
    expect_ids(l.vocab, "abc", 0, ab_c, 2);
    release(&l);

    bpe_spec(&s, true); /* "b c" now ranks first */
    assert_int_equal(load(&s, &l), SMOA_OK);
    const int32_t a_bc[] = {BYTE_ID('a'), id_of(l.vocab, "bc")};
    expect_ids(l.vocab, "abc", 0, a_bc, 2);
    release(&l);
}

static void test_bpe_pre_tokenizer_and_bytes(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    /* Pieces "he", "'s" (a contraction) and "é" (a letter): no merge crosses
     * a piece, and é is two byte tokens. */
    const int32_t pieces[] = {id_of(l.vocab, "he"), BYTE_ID('\''), BYTE_ID('s'),
                              BYTE_ID(0xC3), BYTE_ID(0xA9)};
    expect_ids(l.vocab, "he's\xC3\xA9", 0, pieces, 5);
    /* Decoding one byte of a two-byte character gives exactly that byte. */
    expect_text(l.vocab, &pieces[3], 1, 0, "\xC3", 1);
    expect_text(l.vocab, pieces, 5, 0, "he's\xC3\xA9", 6);
    release(&l);
}

static void test_special_tokens_partition(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    const smoa_vocab *v = l.vocab;
    int32_t hello = id_of(v, "hello");

    /* Control tokens are text unless PARSE_SPECIAL... */
    int32_t ids[64];
    size_t n = 0;
    const char *chat = "<|im_start|>hello<|im_end|>";
    assert_int_equal(smoa_vocab_tokenize(v, chat, strlen(chat), 0, ids, 64, &n, NULL), SMOA_OK);
    for (size_t i = 0; i < n; i++) assert_true(ids[i] >= FIRST_BYTE);
    /* ...which splits them out, the longest first ("<|im_start|>", not "<|im"). */
    const int32_t parsed[] = {IM_START, hello, IM_END};
    expect_ids(v, chat, SMOA_TOKENIZE_PARSE_SPECIAL, parsed, 3);
    const int32_t prefix[] = {IM_PREFIX, BYTE_ID('x')};
    expect_ids(v, "<|imx", SMOA_TOKENIZE_PARSE_SPECIAL, prefix, 2);
    /* User-defined tokens are split out always. */
    const int32_t user[] = {hello, USER_TOOL, hello};
    expect_ids(v, "hello[[x]]hello", 0, user, 3);

    /* Detokenizing shows control tokens only when asked; user-defined always. */
    expect_text(v, parsed, 3, 0, "hello", 5);
    expect_text(v, parsed, 3, SMOA_DETOKENIZE_RENDER_SPECIAL, chat, strlen(chat));
    expect_text(v, user, 3, 0, "hello[[x]]hello", 15);
    release(&l);
}

static void test_add_special_and_eog(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    int32_t hello = id_of(l.vocab, "hello");
    /* Byte-level BPE adds nothing unless the keys say so. */
    const int32_t plain[] = {hello};
    expect_ids(l.vocab, "hello", SMOA_TOKENIZE_ADD_SPECIAL, plain, 1);
    assert_int_equal(smoa_vocab_bos(l.vocab), IM_START);
    assert_int_equal(smoa_vocab_eos(l.vocab), IM_END);
    /* EOG: the eos, and control tokens that read as end markers. */
    assert_true(smoa_vocab_is_eog(l.vocab, IM_END));
    assert_true(smoa_vocab_is_eog(l.vocab, ENDOFTEXT));
    assert_false(smoa_vocab_is_eog(l.vocab, END_OF_TURN)); /* a normal token */
    assert_false(smoa_vocab_is_eog(l.vocab, IM_START));
    assert_false(smoa_vocab_is_eog(l.vocab, -1));
    assert_false(smoa_vocab_is_eog(l.vocab, 100000));
    assert_null(smoa_vocab_token_text(l.vocab, -1));
    assert_null(smoa_vocab_token_text(l.vocab, 100000));
    release(&l);

    s.add_bos = 1;
    s.add_eos = 1;
    assert_int_equal(load(&s, &l), SMOA_OK);
    const int32_t wrapped[] = {IM_START, hello, IM_END};
    expect_ids(l.vocab, "hello", SMOA_TOKENIZE_ADD_SPECIAL, wrapped, 3);
    expect_ids(l.vocab, "hello", 0, plain, 1);
    const int32_t only[] = {IM_START, IM_END};
    expect_ids(l.vocab, "", SMOA_TOKENIZE_ADD_SPECIAL, only, 2);
    release(&l);
}

static void test_buffer_protocol(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    const smoa_vocab *v = l.vocab;
    const char *text = "hello wo abc";
    int32_t ids[8] = {0};
    size_t n = 99;
    smoa_error err = {0};
    /* Counting only. */
    assert_int_equal(smoa_vocab_tokenize(v, text, strlen(text), 0, NULL, 0, &n, &err),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 5);
    /* A short buffer gets the first ids and the full count. */
    assert_int_equal(smoa_vocab_tokenize(v, text, strlen(text), 0, ids, 2, &n, &err),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 5);
    assert_int_equal(ids[0], id_of(v, "hello"));
    assert_int_equal(ids[2], 0); /* untouched */
    assert_int_equal(smoa_vocab_tokenize(v, text, strlen(text), 0, ids, 5, &n, &err), SMOA_OK);
    assert_int_equal(n, 5);
    /* Empty text: zero tokens, fine with no buffer at all. */
    assert_int_equal(smoa_vocab_tokenize(v, "", 0, 0, NULL, 0, &n, &err), SMOA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(smoa_vocab_tokenize(v, NULL, 0, 0, NULL, 0, &n, &err), SMOA_OK);

    /* Detokenize: the text fits when its NUL does too. */
    char buf[16];
    memset(buf, '#', sizeof buf);
    assert_int_equal(smoa_vocab_detokenize(v, ids, 5, 0, buf, 12, &n, &err),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, text, 12);
    assert_int_equal(smoa_vocab_detokenize(v, ids, 5, 0, NULL, 0, &n, &err),
                     SMOA_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 12);
    assert_int_equal(smoa_vocab_detokenize(v, ids, 5, 0, buf, 13, &n, &err), SMOA_OK);
    assert_string_equal(buf, text);
    assert_int_equal(smoa_vocab_detokenize(v, ids, 0, 0, buf, 1, &n, &err), SMOA_OK);
    assert_int_equal(n, 0);
    assert_string_equal(buf, "");
    release(&l);
}

static void test_bad_arguments(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    const smoa_vocab *v = l.vocab;
    int32_t ids[8];
    char buf[16];
    size_t n;
    smoa_error err = {0};

    const int32_t bad_ids[][2] = {{5, -1}, {5, 100000}, {INT32_MIN, 5}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(smoa_vocab_detokenize(v, bad_ids[i], 2, 0, buf, sizeof buf, &n, &err),
                         SMOA_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(err.message, "outside the vocabulary"));
    }
    assert_int_equal(smoa_vocab_tokenize(v, "a", 1, 1u << 7, ids, 8, &n, &err),
                     SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_vocab_detokenize(v, ids, 0, 1u << 5, buf, 8, &n, &err),
                     SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_vocab_tokenize(v, NULL, 3, 0, ids, 8, &n, &err),
                     SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_vocab_tokenize(v, "a", 1, 0, NULL, 8, &n, &err),
                     SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_vocab_tokenize(v, "a", 1, 0, ids, 8, NULL, &err),
                     SMOA_ERR_INVALID_ARGUMENT);
    release(&l);
}

static void test_invalid_utf8_is_refused(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    bpe_spec(&s, false);
    assert_int_equal(load(&s, &l), SMOA_OK);
    static const struct {
        const char *text;
        const char *offset;
    } cases[] = {
        {"ab\xC3(", "offset 2"},        /* lead byte without its continuation */
        {"\xC0\xAF", "offset 0"},       /* overlong '/' */
        {"x\xED\xA0\x80", "offset 1"},  /* UTF-16 surrogate */
        {"xy\xF4\x90\x80\x80", "offset 2"}, /* above U+10FFFF */
        {"hello\xE2\x82", "offset 5"},  /* cut short at the end */
        {"\x80", "offset 0"},           /* stray continuation byte */
        {"\xFF", "offset 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t ids[16];
        size_t n = 7;
        smoa_error err = {0};
        assert_int_equal(smoa_vocab_tokenize(l.vocab, cases[i].text, strlen(cases[i].text), 0,
                                             ids, 16, &n, &err),
                         SMOA_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(err.message, "not valid UTF-8"));
        assert_non_null(strstr(err.message, cases[i].offset));
        assert_int_equal(n, 0);
    }
    /* NUL is valid UTF-8, and byte-level BPE keeps it. */
    const int32_t nul[] = {BYTE_ID('a'), BYTE_ID(0), BYTE_ID('b')};
    int32_t ids[4];
    size_t n;
    assert_int_equal(smoa_vocab_tokenize(l.vocab, "a\0b", 3, 0, ids, 4, &n, NULL), SMOA_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(ids, nul, sizeof nul);
    release(&l);
}

/* ------------------------------------------------------------------------ */
/* Hostile or inconsistent metadata                                         */

static void test_unsupported_tokenizers(void **state) {
    (void)state;
    vocab_spec s;
    bpe_spec(&s, false);
    s.pre = "qwen-future";
    expect_load_error(&s, SMOA_ERR_UNSUPPORTED, "'qwen-future'");
    s.pre = NULL;
    expect_load_error(&s, SMOA_ERR_UNSUPPORTED, "tokenizer.ggml.pre is missing");
    s.pre = "gpt2";
    s.model = "bert";
    expect_load_error(&s, SMOA_ERR_UNSUPPORTED, "'bert'");
    s.model = NULL;
    expect_load_error(&s, SMOA_ERR_NOT_FOUND, "tokenizer.ggml.model");
}

static void test_inconsistent_metadata(void **state) {
    (void)state;
    vocab_spec s;

    bpe_spec(&s, false);
    s.n_types = s.n_tokens - 1;
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.token_type has");

    bpe_spec(&s, false);
    s.types[7] = 9;
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.token_type[7] = 9");

    bpe_spec(&s, false);
    s.with_scores = true;
    s.n_scores = 3;
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.scores has 3 entries");

    bpe_spec(&s, false);
    s.merges[0] = "he";
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.merges[0] 'he' has no space");

    bpe_spec(&s, false);
    s.merges[1] = "l zz";
    expect_load_error(&s, SMOA_ERR_FORMAT, "the right side is not a token");

    bpe_spec(&s, false);
    s.merges[2] = "a c"; /* both sides exist, "ac" does not */
    expect_load_error(&s, SMOA_ERR_FORMAT, "the result is not a token");

    bpe_spec(&s, false);
    s.n_merges = 0;
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.merges");

    bpe_spec(&s, false);
    s.eos = 5000;
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.eos_token_id = 5000");

    bpe_spec(&s, false);
    s.bos = OMIT;
    s.add_bos = 1;
    expect_load_error(&s, SMOA_ERR_FORMAT, "add_bos_token is true but there is no BOS");

    bpe_spec(&s, false);
    s.types[FIRST_BYTE + 'q'] = BYTE;
    expect_load_error(&s, SMOA_ERR_FORMAT, "is not <0xXX>");

    spec_init(&s, "gpt2", "gpt2");
    expect_load_error(&s, SMOA_ERR_FORMAT, "tokenizer.ggml.tokens");
}

/* ------------------------------------------------------------------------ */
/* SentencePiece                                                            */

#define SP "\xE2\x96\x81" /* U+2581 */

/* <unk>, <s>, </s>, optionally the 256 byte tokens, then pieces by score. */
static void spm_spec(vocab_spec *s, bool byte_tokens) {
    spec_init(s, "llama", NULL);
    s->with_scores = true;
    add_token(s, "<unk>", UNKNOWN, 0);
    add_token(s, "<s>", CONTROL, 0);
    add_token(s, "</s>", CONTROL, 0);
    if (byte_tokens)
        for (unsigned b = 0; b < 256; b++) {
            char text[8];
            snprintf(text, sizeof text, "<0x%02X>", b);
            add_token(s, text, BYTE, 0);
        }
    static const struct {
        const char *text;
        float score;
    } pieces[] = {
        {SP, -1}, {"h", -2}, {"e", -2}, {"l", -2}, {"o", -2}, {"a", -2}, {"b", -2}, {"c", -2},
        {"he", -5}, {"ll", -4}, {"llo", -6}, {SP "h", -7}, {SP "he", -8}, {SP "hello", -3},
        {"ab", -20}, {"bc", -10},
    };
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        add_token(s, pieces[i].text, NORMAL, pieces[i].score);
}

static void test_spm_encode_decode(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    spm_spec(&s, true);
    assert_int_equal(load(&s, &l), SMOA_OK);
    const smoa_vocab *v = l.vocab;
    assert_string_equal(smoa_vocab_model_name(v), "llama");
    assert_string_equal(smoa_vocab_pre_name(v), "default");
    assert_int_equal(smoa_vocab_bos(v), 1); /* SentencePiece defaults */
    assert_int_equal(smoa_vocab_eos(v), 2);
    int32_t hello = id_of(v, SP "hello"), sp = id_of(v, SP);

    /* A space is prepended; merging follows scores ("bc" beats "ab"). */
    const int32_t one[] = {hello};
    expect_ids(v, "hello", 0, one, 1);
    const int32_t abc[] = {sp, id_of(v, "a"), id_of(v, "bc")};
    expect_ids(v, "abc", 0, abc, 3);
    /* An unknown character falls back to its bytes. */
    const int32_t bytes[] = {sp, id_of(v, "<0xC3>"), id_of(v, "<0xA9>")};
    expect_ids(v, "\xC3\xA9", 0, bytes, 3);
    /* ADD_SPECIAL adds BOS (SentencePiece's default). */
    const int32_t with_bos[] = {1, hello};
    expect_ids(v, "hello", SMOA_TOKENIZE_ADD_SPECIAL, with_bos, 2);

    /* Decoding drops the prefixed space once, after any unrendered BOS. */
    expect_text(v, one, 1, 0, "hello", 5);
    expect_text(v, with_bos, 2, 0, "hello", 5);
    expect_text(v, with_bos, 2, SMOA_DETOKENIZE_RENDER_SPECIAL, "<s> hello", 9);
    const int32_t two[] = {hello, hello};
    expect_text(v, two, 2, 0, "hello hello", 11);
    const int32_t spaced[] = {sp, hello}; /* " hello" encodes as ▁ ▁hello */
    expect_ids(v, " hello", 0, spaced, 2);
    expect_text(v, spaced, 2, 0, " hello", 6);
    expect_text(v, bytes, 3, 0, "\xC3\xA9", 2);
    release(&l);
}

static void test_spm_without_byte_tokens_uses_unk(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    spm_spec(&s, false);
    s.add_bos = 0;
    assert_int_equal(load(&s, &l), SMOA_OK);
    const int32_t ids[] = {id_of(l.vocab, SP), 0, 0, id_of(l.vocab, "a")};
    expect_ids(l.vocab, "\xC3\xA9" "a", 0, ids, 4);
    const int32_t hello[] = {id_of(l.vocab, SP "hello")};
    expect_ids(l.vocab, "hello", SMOA_TOKENIZE_ADD_SPECIAL, hello, 1);
    /* <unk> is markup: shown only when special tokens are rendered. */
    expect_text(l.vocab, ids, 4, 0, "a", 1);
    expect_text(l.vocab, ids, 4, SMOA_DETOKENIZE_RENDER_SPECIAL, "<unk><unk>a", 11);
    release(&l);
}

/* Merging goes word by word only when no token spans a word start: here
 * "a▁b" does, and "a b" must still become it. */
static void test_spm_token_across_words(void **state) {
    (void)state;
    vocab_spec s;
    loaded l;
    spm_spec(&s, true);
    add_token(&s, SP "b", NORMAL, -1);
    add_token(&s, "a" SP "b", NORMAL, -0.5f);
    assert_int_equal(load(&s, &l), SMOA_OK);
    const int32_t ids[] = {id_of(l.vocab, SP), id_of(l.vocab, "a" SP "b")};
    expect_ids(l.vocab, "a b", 0, ids, 2);
    expect_text(l.vocab, ids, 2, 0, "a b", 3);
    release(&l);
}

/* ------------------------------------------------------------------------ */
/* The default model                                                        */

static void test_default_model_vocab(void **state) {
    (void)state;
    const char *path = getenv("SMOA_MODEL");
    FILE *f = path && *path ? fopen(path, "rb") : NULL;
    if (!f) {
        print_message("SKIP: SMOA_MODEL is unset or absent\n");
        skip();
    }
    fclose(f);
    smoa_gguf *g = NULL;
    smoa_vocab *v = NULL;
    smoa_error err = {0};
    assert_int_equal(smoa_gguf_open_file(path, &g, &err), SMOA_OK);
    assert_int_equal(smoa_vocab_load(g, &v, &err), SMOA_OK);
    assert_string_equal(smoa_vocab_pre_name(v), "smollm");
    assert_string_equal(smoa_vocab_token_text(v, 1), "<|im_start|>");
    /* EOG: <|endoftext|>, <|im_end|> (eos) and <reponame>, as in llama.cpp. */
    for (int32_t id = 0; id < 20; id++)
        assert_int_equal(smoa_vocab_is_eog(v, id), id == 0 || id == 2 || id == 4);
    /* No BOS is added: the file says add_bos_token = false. */
    const int32_t hi[] = {1, 4093, 198, 19556, 2};
    expect_ids(v, "<|im_start|>user\nHello<|im_end|>", SMOA_TOKENIZE_PARSE_SPECIAL |
               SMOA_TOKENIZE_ADD_SPECIAL, hi, 5);
    smoa_vocab_free(v);
    smoa_gguf_close(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bpe_merges_by_rank),
        cmocka_unit_test(test_bpe_pre_tokenizer_and_bytes),
        cmocka_unit_test(test_special_tokens_partition),
        cmocka_unit_test(test_add_special_and_eog),
        cmocka_unit_test(test_buffer_protocol),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_invalid_utf8_is_refused),
        cmocka_unit_test(test_unsupported_tokenizers),
        cmocka_unit_test(test_inconsistent_metadata),
        cmocka_unit_test(test_spm_encode_decode),
        cmocka_unit_test(test_spm_without_byte_tokens_uses_unk),
        cmocka_unit_test(test_spm_token_across_words),
        cmocka_unit_test(test_default_model_vocab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
