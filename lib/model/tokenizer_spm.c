/* tokenizer_spm.c - SentencePiece encoding by scores, and its decoding. */
#include "model/tokenizer_spm.h"

#include <string.h>

#include "model/tokenizer_utf8.h"

#define SPACE_MARK "\xE2\x96\x81" /* U+2581, SentencePiece's visible space */
#define SPACE_MARK_LEN 3

typedef struct spm_text {
    const smoa_vocab *v;
    const char *text;  /* escaped */
} spm_text;

static bool is_space_mark(const char *s, size_t avail) {
    return avail >= SPACE_MARK_LEN && memcmp(s, SPACE_MARK, SPACE_MARK_LEN) == 0;
}

/* Tokens text can produce: normal and user-defined ones (control, unknown,
 * unused and byte tokens never come from merging characters, as in
 * SentencePiece). */
static bool is_text_type(uint8_t type) {
    return type == SMOA_TOKEN_NORMAL || type == SMOA_TOKEN_USER_DEFINED;
}

static int32_t text_token(const smoa_vocab *v, const char *s, size_t len) {
    int32_t id = smoa_text_index_find(&v->by_text, s, len);
    return id >= 0 && is_text_type(v->types[id]) ? id : -1;
}

static bool judge_by_score(const void *ctx, const smoa_symbol *left, const smoa_symbol *right,
                           smoa_merge_candidate *c) {
    const spm_text *t = ctx;
    int32_t id = text_token(t->v, t->text + left->start, left->len + right->len);
    if (id < 0) return false;
    c->priority = -(double)t->v->scores[id]; /* the highest score merges first */
    c->result = id;
    return true;
}

static bool escape_spaces(smoa_strbuf *sb, const char *text, size_t len, bool space_prefix) {
    sb->len = 0;
    if (space_prefix && !smoa_strbuf_append(sb, SPACE_MARK, SPACE_MARK_LEN)) return false;
    for (size_t i = 0, run = 0; i <= len; i++) {
        if (i < len && text[i] != ' ') continue;
        if (!smoa_strbuf_append(sb, text + run, i - run)) return false;
        if (i < len && !smoa_strbuf_append(sb, SPACE_MARK, SPACE_MARK_LEN)) return false;
        run = i + 1;
    }
    return true;
}

/* True when t has a '▁' right after a character other than '▁'. */
static bool has_inner_space_mark(const char *t, size_t len) {
    bool after_other = false;
    for (size_t i = 0; i < len;) {
        bool mark = is_space_mark(t + i, len - i);
        if (mark && after_other) return true;
        after_other = !mark;
        i += mark ? SPACE_MARK_LEN : smoa_utf8_char_len((unsigned char)t[i]);
    }
    return false;
}

void smoa_spm_load(smoa_vocab *v) {
    v->spm_word_pieces = true;
    for (uint32_t id = 0; id < v->n_tokens; id++)
        if (is_text_type(v->types[id]) && has_inner_space_mark(v->texts[id], v->lens[id])) {
            v->spm_word_pieces = false;
            return;
        }
}

/* The end of the word at s[start..n): its run of '▁', then everything up to
 * the next '▁'. */
static size_t word_end(const char *s, size_t n, size_t start) {
    size_t i = start;
    while (is_space_mark(s + i, n - i)) i += SPACE_MARK_LEN;
    while (i < n && !is_space_mark(s + i, n - i)) i += smoa_utf8_char_len((unsigned char)s[i]);
    return i;
}

/* Merges the characters of s[0..n) (escaped text) and emits the tokens. */
static smoa_status encode_span(const smoa_vocab *v, smoa_merger *m, const char *s, size_t n,
                               smoa_token_sink *out, smoa_error *err) {
    size_t n_chars = 0;
    for (size_t i = 0; i < n; i += smoa_utf8_char_len((unsigned char)s[i])) n_chars++;
    if (smoa_merger_reset(m, n_chars) != SMOA_OK)
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0, k = 0; k < n_chars; k++) {
        size_t char_len = smoa_utf8_char_len((unsigned char)s[i]);
        m->symbols[k] = (smoa_symbol){.start = (uint32_t)i, .len = (uint32_t)char_len,
                                      .id = text_token(v, s + i, char_len)};
        i += char_len;
    }
    smoa_merger_link(m);
    spm_text ctx = {v, s};
    if (smoa_merger_run(m, judge_by_score, &ctx) != SMOA_OK)
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (int32_t k = n_chars ? 0 : -1; k >= 0; k = m->symbols[k].next) {
        const smoa_symbol *sym = &m->symbols[k];
        if (sym->id >= 0) smoa_sink_push(out, sym->id);
        else smoa_push_byte_fallback(v, s + sym->start, sym->len, out);
    }
    return SMOA_OK;
}

smoa_status smoa_spm_encode(const smoa_vocab *v, smoa_merger *m, smoa_strbuf *scratch,
                            const char *text, size_t len, bool space_prefix,
                            smoa_token_sink *out, smoa_error *err) {
    if (!escape_spaces(scratch, text, len, space_prefix))
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    const char *s = scratch->data;
    size_t n = scratch->len;
    for (size_t start = 0, end; start < n; start = end) {
        end = v->spm_word_pieces ? word_end(s, n, start) : n;
        smoa_status st = encode_span(v, m, s + start, end - start, out, err);
        if (st != SMOA_OK) return st;
    }
    return SMOA_OK;
}

void smoa_spm_decode_token(const smoa_vocab *v, int32_t id, bool strip_space,
                           smoa_byte_sink *out) {
    const char *text = v->texts[id];
    size_t len = v->lens[id], run = 0;
    for (size_t i = 0; i < len;) {
        if (!is_space_mark(text + i, len - i)) {
            i++;
            continue;
        }
        smoa_sink_write(out, text + run, i - run);
        if (!(strip_space && i == 0)) smoa_sink_write(out, " ", 1);
        i += SPACE_MARK_LEN;
        run = i;
    }
    smoa_sink_write(out, text + run, len - run);
}
