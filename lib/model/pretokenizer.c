/* pretokenizer.c - regex lists per pre type, run with PCRE2 (UTF + Unicode
 * properties, JIT-compiled once when the vocab loads).
 *
 * The lists are those llama.cpp associates with each tokenizer.ggml.pre name
 * (src/llama-vocab.cpp), which reproduce the HF tokenizers' pre-tokenizers.
 * Character classes written with non-ASCII literals there are spelled with
 * \x{...} escapes here. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/pretokenizer.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "model/tokenizer_utf8.h"

#define MAX_REGEXES 6

/* Whitespace as Unicode's White_Space property (category Z, \t to \r and
 * U+0085), which is what \s means to the HF tokenizers and llama.cpp.
 * PCRE2's \s and \p{Xsp} (before 10.43) also take U+180E MONGOLIAN VOWEL
 * SEPARATOR, a format character since Unicode 6.3. */
#define WS "\\t-\\r\\x{85}\\p{Z}"
#define SPACE "[" WS "]"
#define NOT_SPACE "[^" WS "]"

/* The GPT-2 pattern: contractions, letters, numbers, other symbols, each
 * with at most one leading space; whitespace keeps its last space for the
 * word that follows. */
#define GPT2_REGEX                                                                  \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+|" SPACE \
    "+(?!" NOT_SPACE ")|" SPACE "+"

/* CJK ideographs, a wide span of scripts below them, and Hangul. */
#define DEEPSEEK_CJK_REGEX "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"

/* Cased letters (Unicode general category LC), one optional space before. */
#define DEEPSEEK_LLM_LETTERS_REGEX                                                              \
    SPACE "?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"          \
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"      \
    "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"               \
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}" \
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"             \
    "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"             \
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}"      \
    "\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"     \
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"             \
    "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"      \
    "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}"      \
    "\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"               \
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}"              \
    "\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}"             \
    "\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"             \
    "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"         \
    "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"     \
    "\\x{1E900}-\\x{1E943}]+"

typedef struct pre_type {
    const char *names[8];              /* tokenizer.ggml.pre values, NULL-terminated */
    const char *regexes[MAX_REGEXES];  /* applied in order, NULL-terminated */
} pre_type;

static const pre_type PRE_TYPES[] = {
    {{"gpt2", "gpt-2", "mpt", "olmo", "jais", NULL}, {GPT2_REGEX, NULL}},
    /* Every digit its own piece first, then GPT-2. */
    {{"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", NULL},
     {"\\p{N}", GPT2_REGEX, NULL}},
    /* Punctuation runs first; then GPT-2; then numbers in groups of three. */
    {{"falcon", NULL}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_REGEX, "[0-9][0-9][0-9]", NULL}},
    {{"deepseek-llm", NULL},
     {"[\\r\\n]", DEEPSEEK_LLM_LETTERS_REGEX,
      SPACE "?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
      SPACE "+$", DEEPSEEK_CJK_REGEX, "\\p{N}+"}},
    {{"deepseek-coder", NULL},
     {"[\\r\\n]", SPACE "?\\p{L}+", SPACE "?\\p{P}+", DEEPSEEK_CJK_REGEX, "\\p{N}", NULL}},
};

struct smoa_pretokenizer {
    size_t n_regexes;
    pcre2_code *regexes[MAX_REGEXES];
};

static const pre_type *find_pre_type(const char *name) {
    for (size_t t = 0; t < sizeof PRE_TYPES / sizeof PRE_TYPES[0]; t++)
        for (const char *const *n = PRE_TYPES[t].names; *n; n++)
            if (strcmp(*n, name) == 0) return &PRE_TYPES[t];
    return NULL;
}

static smoa_status pcre2_failure(smoa_status status, const char *what, int code, smoa_error *err) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    return smoa_error_set(err, status, "%s: %s", what, (const char *)message);
}

smoa_status smoa_pretokenizer_create(const char *name, smoa_pretokenizer **out, smoa_error *err) {
    *out = NULL;
    const pre_type *type = find_pre_type(name);
    if (!type)
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "tokenizer.ggml.pre '%s' is not a supported pre-tokenizer", name);
    smoa_pretokenizer *p = calloc(1, sizeof *p);
    if (!p) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (; p->n_regexes < MAX_REGEXES && type->regexes[p->n_regexes]; p->n_regexes++) {
        int code;
        PCRE2_SIZE offset;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)type->regexes[p->n_regexes], PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &code,
                                       &offset, NULL);
        if (!re) {
            smoa_pretokenizer_free(p);
            return pcre2_failure(SMOA_ERR_UNSUPPORTED, "cannot compile the pre-tokenizer regex",
                                 code, err);
        }
        /* Without JIT (unsupported platform) the interpreter gives the same
         * matches, only slower, so a JIT failure is not an error. */
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        p->regexes[p->n_regexes] = re;
    }
    *out = p;
    return SMOA_OK;
}

void smoa_pretokenizer_free(smoa_pretokenizer *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_regexes; i++) pcre2_code_free(p->regexes[i]);
    free(p);
}

typedef struct split_state {
    const smoa_pretokenizer *p;
    pcre2_match_data *match;
    smoa_piece_fn fn;
    void *user;
    smoa_error *err;
} split_state;

static smoa_status split_stage(split_state *s, size_t stage, const char *text, size_t len);

/* Hands a non-empty span to the next regex, or out when none is left. */
static smoa_status pass_on(split_state *s, size_t stage, const char *text, size_t len) {
    if (!len) return SMOA_OK;
    if (stage == s->p->n_regexes) return s->fn(s->user, text, len);
    return split_stage(s, stage, text, len);
}

/* Matches are searched within this span only, so anchors and lookaheads see
 * the span's ends, as they do in llama.cpp and HF. */
static smoa_status split_stage(split_state *s, size_t stage, const char *text, size_t len) {
    size_t pos = 0, unmatched_from = 0;
    smoa_status st;
    while (pos <= len) {
        int rc = pcre2_match(s->p->regexes[stage], (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK,
                             s->match, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0)
            return pcre2_failure(SMOA_ERR_UNSUPPORTED, "pre-tokenizer regex failed", rc, s->err);
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->match);
        size_t start = ov[0], end = ov[1];
        if (end == start) { /* an empty match splits nothing: step over one character */
            pos = start + (start < len ? smoa_utf8_char_len((unsigned char)text[start]) : 1);
            continue;
        }
        if ((st = pass_on(s, stage + 1, text + unmatched_from, start - unmatched_from)) != SMOA_OK ||
            (st = pass_on(s, stage + 1, text + start, end - start)) != SMOA_OK)
            return st;
        unmatched_from = pos = end;
    }
    return pass_on(s, stage + 1, text + unmatched_from, len - unmatched_from);
}

smoa_status smoa_pretokenizer_split(const smoa_pretokenizer *p, const char *text, size_t len,
                                    smoa_piece_fn fn, void *user, smoa_error *err) {
    /* One ovector pair is enough: only the whole match is used. */
    split_state s = {p, pcre2_match_data_create(1, NULL), fn, user, err};
    if (!s.match) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    smoa_status st = pass_on(&s, 0, text, len);
    pcre2_match_data_free(s.match);
    return st;
}
