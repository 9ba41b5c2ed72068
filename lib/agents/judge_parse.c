/* judge_parse.c - reads the judge's and moderator's answer (see
 * judge_parse.h for the rules).
 *
 * Layout: small text helpers; key classification; index lists read from
 * text; fields read from a jansson object; the object finder; the JSON
 * repair pass; the key scan; then the decision (fallbacks, order, note).
 * Every loop is bounded by the input length, so hostile text costs time in
 * proportion to its size and never more than a few work buffers of it. */
#include "agents/judge_parse.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

enum {
    MAX_LIST = 256,       /* entries read from one selection                */
    MAX_CANDIDATES = 16,  /* last complete objects tried as the answer      */
    MAX_OPEN = 64,        /* nesting followed by the finder and the repair  */
    MAX_KEY = 48,         /* bytes before a ':' the key scan looks at       */
    MAX_WORD = 24,        /* longer words in keys match nothing             */
    MAX_JSON_DEPTH = 4,   /* nested objects / arrays searched for fields    */
    MAX_SCAN_STRING = 512 /* bytes of a quoted value the key scan reads     */
};

/* Far outside any index, small enough for int64_t arithmetic. */
#define INDEX_CLAMP ((int64_t)1 << 40)

/* ------------------------------------------------------------------------ */
/* Text helpers (ASCII only: no locale)                                     */

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_space(char c) {
    return is_blank(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static char to_lower(char c) { return is_upper(c) ? (char)(c - 'A' + 'a') : c; }

static bool is_hex(char c) {
    return is_digit(c) || (to_lower(c) >= 'a' && to_lower(c) <= 'f');
}

static bool is_hex4(const char *s) {
    return is_hex(s[0]) && is_hex(s[1]) && is_hex(s[2]) && is_hex(s[3]);
}

/* Length of the valid UTF-8 character at s (1 to 4 bytes), or 0 for NUL and
 * for a byte that starts no valid character (overlong forms, surrogates,
 * values above U+10FFFF and cut-off sequences included). */
static size_t utf8_char_len(const unsigned char *s, size_t len) {
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (len < need || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return need;
}

/* Copies src[len] into dst[cap] as valid UTF-8, NUL-terminated: NULs and
 * bytes that start no valid character become '?'; the copy stops before a
 * character that would not fit. */
static void copy_utf8(char *dst, size_t cap, const char *src, size_t len) {
    size_t o = 0, i = 0;
    while (i < len) {
        size_t n = utf8_char_len((const unsigned char *)src + i, len - i);
        size_t put = n ? n : 1;
        if (o + put >= cap) break;
        if (n) memcpy(dst + o, src + i, n);
        else dst[o] = '?';
        o += put;
        i += put;
    }
    dst[o] = '\0';
}

/* Reads the first word of s (after blanks, quotes and '*'): 1 for
 * true/yes/y/1, 0 for false/no/n/0 (any case), -1 for anything else. */
static int read_bool_word(const char *s, size_t len) {
    static const char *const yes[] = {"true", "yes", "y", "1", NULL};
    static const char *const no[] = {"false", "no", "n", "0", NULL};
    size_t i = 0, w = 0;
    char word[8];
    while (i < len && (is_space(s[i]) || s[i] == '"' || s[i] == '\'' || s[i] == '*')) i++;
    while (i < len && is_alnum(s[i]) && w < sizeof word - 1) word[w++] = to_lower(s[i++]);
    if (w == 0 || (i < len && is_alnum(s[i]))) return -1;
    word[w] = '\0';
    for (int j = 0; yes[j]; j++)
        if (strcmp(word, yes[j]) == 0) return 1;
    for (int j = 0; no[j]; j++)
        if (strcmp(word, no[j]) == 0) return 0;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */

typedef enum key_kind { KEY_OTHER, KEY_SELECTION, KEY_END, KEY_REASONING } key_kind;

static const char *const selection_words[] = {
    "selected", "selection", "select", "chosen", "choice", "choices", "choose", "indices",
    "index", "indexes", "best", "keep", "kept", "top", "pick", "picked", NULL};
static const char *const end_words[] = {"end", "stop", "done", "finish", "finished",
                                        "terminate", "halt", NULL};
static const char *const reasoning_words[] = {
    "reasoning", "reason", "reasons", "rationale", "explanation", "justification",
    "analysis", "thoughts", "thought", "thinking", "evaluation", "critique", NULL};

static bool word_in(const char *word, const char *const *list) {
    for (; *list; list++)
        if (strcmp(word, *list) == 0) return true;
    return false;
}

/* Words are runs of letters, also cut where a capital follows a small
 * letter, so "selected_responses", "bestIndices" and "Chosen ids" all split
 * into their words. */
static key_kind classify_key(const char *key, size_t len) {
    bool selection = false, end = false, reasoning = false;
    size_t i = 0;
    while (i < len) {
        if (!is_alpha(key[i])) {
            i++;
            continue;
        }
        char word[MAX_WORD + 1];
        size_t w = 0;
        do {
            if (w < MAX_WORD) word[w] = to_lower(key[i]);
            w++;
            i++;
        } while (i < len && is_alpha(key[i]) && !(is_upper(key[i]) && is_lower(key[i - 1])));
        if (w > MAX_WORD) continue;
        word[w] = '\0';
        selection |= word_in(word, selection_words);
        end |= word_in(word, end_words);
        reasoning |= word_in(word, reasoning_words);
    }
    return reasoning ? KEY_REASONING : selection ? KEY_SELECTION : end ? KEY_END : KEY_OTHER;
}

/* ------------------------------------------------------------------------ */
/* Index lists                                                              */

typedef struct index_list {
    int64_t values[MAX_LIST];
    int32_t count;
    bool unreadable; /* an entry that is no integer, or too many entries   */
} index_list;

static void list_push(index_list *l, int64_t v) {
    if (l->count == MAX_LIST) l->unreadable = true;
    else l->values[l->count++] = v;
}

static void list_push_number(index_list *l, double v) {
    if (!(v == floor(v))) { /* NaN too */
        l->unreadable = true;
        return;
    }
    const double clamp = (double)INDEX_CLAMP;
    list_push(l, v > clamp ? INDEX_CLAMP : v < -clamp ? -INDEX_CLAMP : (int64_t)v);
}

typedef struct cursor {
    const char *s;
    size_t len, pos;
} cursor;

static bool at_end(const cursor *c) { return c->pos >= c->len; }
static char peek(const cursor *c) { return at_end(c) ? '\0' : c->s[c->pos]; }

static void skip_blanks(cursor *c, bool newlines) {
    while (!at_end(c) && (newlines ? is_space(peek(c)) : is_blank(peek(c)))) c->pos++;
}

static bool take_char(cursor *c, char ch) {
    if (at_end(c) || peek(c) != ch) return false;
    c->pos++;
    return true;
}

/* Takes word (lower case) when the text has it in any case, as a whole word. */
static bool take_word(cursor *c, const char *word) {
    size_t n = strlen(word);
    if (c->len - c->pos < n) return false;
    for (size_t i = 0; i < n; i++)
        if (to_lower(c->s[c->pos + i]) != word[i]) return false;
    if (c->pos + n < c->len && is_alpha(c->s[c->pos + n])) return false;
    c->pos += n;
    return true;
}

/* [+-]digits, saturating at INDEX_CLAMP; "1.5" is not an integer. */
static bool take_int(cursor *c, int64_t *v) {
    size_t start = c->pos;
    bool negative = take_char(c, '-');
    if (!negative) take_char(c, '+');
    if (!is_digit(peek(c))) {
        c->pos = start;
        return false;
    }
    int64_t x = 0;
    while (is_digit(peek(c))) {
        if (x < INDEX_CLAMP) x = x * 10 + (peek(c) - '0');
        c->pos++;
    }
    if (peek(c) == '.' && c->pos + 1 < c->len && is_digit(c->s[c->pos + 1])) {
        c->pos = start;
        return false;
    }
    if (x > INDEX_CLAMP) x = INDEX_CLAMP;
    *v = negative ? -x : x;
    return true;
}

/* item := [label] ['#'] [quote] integer [quote], as in "Response 2", "#2",
 * "'2'". */
static bool take_item(cursor *c, bool newlines, int64_t *v) {
    static const char *const labels[] = {"responses", "response", "answers", "answer",
                                         "candidates", "candidate", "agent", "option", NULL};
    size_t start = c->pos;
    for (int i = 0; labels[i]; i++) {
        if (take_word(c, labels[i])) {
            skip_blanks(c, newlines);
            break;
        }
    }
    take_char(c, '#');
    bool quoted = take_char(c, '"') || take_char(c, '\'');
    if (!take_int(c, v)) {
        c->pos = start;
        return false;
    }
    if (quoted && !take_char(c, '"')) take_char(c, '\'');
    return true;
}

/* Blanks, an optional , ; / or &, then an optional "and". */
static void take_separator(cursor *c, bool newlines) {
    skip_blanks(c, newlines);
    if (take_char(c, ',') || take_char(c, ';') || take_char(c, '/') || take_char(c, '&'))
        skip_blanks(c, newlines);
    if (take_word(c, "and")) skip_blanks(c, newlines);
}

/* list := [open] item (separator item)* [close], with ( or [ as opener;
 * entries go to l. Newlines separate entries only inside brackets. Stops at
 * the first byte that fits no item; returns the number of entries read. */
static int32_t take_index_list(cursor *c, index_list *l) {
    skip_blanks(c, false);
    char close = take_char(c, '[') ? ']' : take_char(c, '(') ? ')' : '\0';
    bool newlines = close != '\0';
    int32_t items = 0;
    int64_t v;
    skip_blanks(c, newlines);
    if (take_item(c, newlines, &v)) {
        list_push(l, v);
        items++;
        for (;;) {
            size_t after_item = c->pos; /* a separator without an item is not taken */
            take_separator(c, newlines);
            if (!take_item(c, newlines, &v)) {
                c->pos = after_item;
                break;
            }
            list_push(l, v);
            items++;
        }
    }
    if (close) {
        skip_blanks(c, newlines);
        take_char(c, close);
    }
    return items;
}

/* A string given as the selection must be an index list and nothing else
 * (a final '.' allowed): "the second one" is unreadable, not "no entries". */
static void read_index_string(const char *s, size_t len, index_list *l) {
    cursor c = {s, len, 0};
    take_index_list(&c, l);
    skip_blanks(&c, true);
    take_char(&c, '.');
    skip_blanks(&c, true);
    if (!at_end(&c)) l->unreadable = true;
}

/* ------------------------------------------------------------------------ */
/* The answer as read, before the rules                                     */

typedef enum field_state { FIELD_ABSENT, FIELD_UNREADABLE, FIELD_READ } field_state;

typedef struct answer {
    field_state selection_state;
    index_list selection;
    field_state end_state;
    bool end;
    char reasoning[SMOA_JUDGE_REASONING_MAX]; /* from a reasoning key, or "" */
    size_t prose_end;   /* prose reasoning: the text before this offset...  */
    size_t after_begin; /* ...or, when there is none, from this one on      */
    smoa_judge_method method;
} answer;

static void answer_reset(answer *a, size_t prose_end, size_t after_begin) {
    memset(a, 0, sizeof *a);
    a->prose_end = prose_end;
    a->after_begin = after_begin;
}

static bool found_expected(const answer *a, unsigned fields) {
    return ((fields & SMOA_JUDGE_EXPECT_SELECTION) && a->selection_state != FIELD_ABSENT) ||
           ((fields & SMOA_JUDGE_EXPECT_END) && a->end_state != FIELD_ABSENT);
}

static bool read_something(const answer *a, unsigned fields) {
    return ((fields & SMOA_JUDGE_EXPECT_SELECTION) && a->selection_state == FIELD_READ) ||
           ((fields & SMOA_JUDGE_EXPECT_END) && a->end_state == FIELD_READ);
}

/* ------------------------------------------------------------------------ */
/* Fields of a JSON object                                                  */

static void collect_json_indices(json_t *v, index_list *l, int depth) {
    if (json_is_array(v) && depth < MAX_JSON_DEPTH) {
        for (size_t i = 0; i < json_array_size(v); i++)
            collect_json_indices(json_array_get(v, i), l, depth + 1);
    } else if (json_is_number(v)) {
        list_push_number(l, json_number_value(v));
    } else if (json_is_string(v)) {
        read_index_string(json_string_value(v), json_string_length(v), l);
    } else {
        l->unreadable = true;
    }
}

static field_state read_json_end(json_t *v, bool *end) {
    int b = -1;
    if (json_is_boolean(v)) b = json_is_true(v);
    else if (json_is_number(v))
        b = json_number_value(v) == 1 ? 1 : json_number_value(v) == 0 ? 0 : -1;
    else if (json_is_string(v)) b = read_bool_word(json_string_value(v), json_string_length(v));
    if (b < 0) return FIELD_UNREADABLE;
    *end = b == 1;
    return FIELD_READ;
}

/* Takes one member when its key names a field not yet found. */
static void take_json_member(const char *key, json_t *v, unsigned fields, answer *a) {
    switch (classify_key(key, strlen(key))) {
    case KEY_SELECTION:
        if (!(fields & SMOA_JUDGE_EXPECT_SELECTION) || a->selection_state != FIELD_ABSENT) break;
        collect_json_indices(v, &a->selection, 0);
        a->selection_state = a->selection.unreadable ? FIELD_UNREADABLE : FIELD_READ;
        break;
    case KEY_END:
        if ((fields & SMOA_JUDGE_EXPECT_END) && a->end_state == FIELD_ABSENT)
            a->end_state = read_json_end(v, &a->end);
        break;
    case KEY_REASONING:
        if (!a->reasoning[0] && json_is_string(v))
            copy_utf8(a->reasoning, sizeof a->reasoning, json_string_value(v),
                      json_string_length(v));
        break;
    case KEY_OTHER: break;
    }
}

/* Top-level members first (in the text's order: jansson keeps insertion
 * order), then nested objects for what is still missing. */
static void take_json_fields(json_t *obj, unsigned fields, answer *a, int depth) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) take_json_member(key, v, fields, a);
    if (depth >= MAX_JSON_DEPTH) return;
    json_object_foreach(obj, key, v) {
        if (json_is_object(v)) take_json_fields(v, fields, a, depth + 1);
    }
}

/* Reads s[len] as one JSON object into a (left as is when it is not one);
 * SMOA_ERR_OUT_OF_MEMORY only when jansson ran out. Text after the object
 * is ignored. */
static smoa_status read_json(const char *s, size_t len, unsigned fields, answer *a) {
    json_error_t error;
    json_t *root = json_loadb(s, len, JSON_DECODE_INT_AS_REAL | JSON_DISABLE_EOF_CHECK, &error);
    if (!root)
        return json_error_code(&error) == json_error_out_of_memory ? SMOA_ERR_OUT_OF_MEMORY
                                                                   : SMOA_OK;
    if (json_is_object(root)) take_json_fields(root, fields, a, 0);
    json_decref(root);
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Candidate objects                                                        */

typedef struct span {
    size_t begin, end;
    bool complete;
} span;

typedef struct object_finder {
    span done[MAX_CANDIDATES]; /* outermost complete objects, oldest first */
    int n_done;
    size_t open[MAX_OPEN];     /* where the open braces are               */
    size_t depth;              /* may exceed MAX_OPEN: deeper ones untracked */
} object_finder;

/* A closing object replaces the ones it contains; the oldest is forgotten
 * when the list is full. */
static void finder_close(object_finder *f, size_t begin, size_t end) {
    while (f->n_done > 0 && f->done[f->n_done - 1].begin >= begin) f->n_done--;
    if (f->n_done == MAX_CANDIDATES) {
        memmove(f->done, f->done + 1, (MAX_CANDIDATES - 1) * sizeof f->done[0]);
        f->n_done--;
    }
    f->done[f->n_done++] = (span){begin, end, true};
}

/* Braces in double-quoted strings are skipped; strings are only tracked
 * inside braces, where prose apostrophes and quotes cannot derail it. */
static void finder_scan(object_finder *f, const char *text, size_t len) {
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"' && f->depth > 0) {
            in_string = true;
        } else if (c == '{') {
            if (f->depth < MAX_OPEN) f->open[f->depth] = i;
            f->depth++;
        } else if (c == '}' && f->depth > 0) {
            f->depth--;
            if (f->depth < MAX_OPEN) finder_close(f, f->open[f->depth], i + 1);
        }
    }
}

/* The try order, latest first: the complete objects from the last, with
 * the object still open at the end of the text (a cut-off answer) tried
 * after the complete ones nested in it and before those preceding it.
 * Returns how many were written to out[MAX_CANDIDATES + 1]. */
static int find_candidates(const char *text, size_t len, span *out) {
    object_finder f = {0};
    finder_scan(&f, text, len);
    int count = 0, i = f.n_done - 1;
    if (f.depth > 0) {
        size_t tail = f.open[0];
        for (; i >= 0 && f.done[i].begin > tail; i--) out[count++] = f.done[i];
        out[count++] = (span){tail, len, false};
    }
    for (; i >= 0; i--) out[count++] = f.done[i];
    return count;
}

/* ------------------------------------------------------------------------ */
/* Repair pass: near-JSON to JSON                                           */

typedef struct rewriter {
    const char *in;
    size_t len, pos;
    smoa_strbuf out;
    char closers[MAX_OPEN];
    int depth;
    size_t key_end; /* output length just after the last string written
                       where an object's key goes                          */
    bool oom;       /* the output buffer could not grow                      */
    bool too_deep;  /* nested deeper than MAX_OPEN: not repaired            */
} rewriter;

static void emit(rewriter *w, const char *s, size_t n) {
    if (!w->oom && !smoa_strbuf_append(&w->out, s, n)) w->oom = true;
}

static void emit_char(rewriter *w, char c) { emit(w, &c, 1); }

/* Output length without trailing spaces. */
static size_t trimmed_len(const rewriter *w) {
    size_t i = w->out.len;
    while (i > 0 && is_space(w->out.data[i - 1])) i--;
    return i;
}

/* The last non-space byte written, '\0' when none. Only asked outside
 * strings, where that byte is never inside one. */
static char last_written(const rewriter *w) {
    size_t i = trimmed_len(w);
    return i ? w->out.data[i - 1] : '\0';
}

static void cut_output(rewriter *w, size_t len) {
    w->out.len = len;
    if (w->out.data) w->out.data[len] = '\0';
}

static void drop_trailing_comma(rewriter *w) {
    size_t i = trimmed_len(w);
    if (i > 0 && w->out.data[i - 1] == ',') cut_output(w, i - 1);
}

/* The next non-space input byte from pos, '\0' at the end. */
static char next_significant(const rewriter *w, size_t pos) {
    while (pos < w->len && is_space(w->in[pos])) pos++;
    return pos < w->len ? w->in[pos] : '\0';
}

/* A single quote opens a string only where a key or value starts... */
static bool opens_single_quoted(const rewriter *w) {
    char last = last_written(w);
    return last == '\0' || strchr("{[,:", last) != NULL;
}

/* ...and closes it only before , } ] : or the end; any other is an
 * apostrophe ("it's"). */
static bool closes_single_quoted(const rewriter *w) {
    char next = next_significant(w, w->pos + 1);
    return next == '\0' || strchr(",}]:", next) != NULL;
}

static void rewrite_escape(rewriter *w, char quote) {
    char next = w->pos + 1 < w->len ? w->in[w->pos + 1] : '\0';
    bool unicode = next == 'u' && w->len - w->pos >= 6 && is_hex4(w->in + w->pos + 2);
    if (quote == '\'' && next == '\'') {
        emit_char(w, '\'');
        w->pos += 2;
    } else if (next != '\0' && strchr("\"\\/bfnrt", next)) {
        emit(w, w->in + w->pos, 2);
        w->pos += 2;
    } else if (unicode) {
        emit(w, w->in + w->pos, 6);
        w->pos += 6;
    } else { /* a lone backslash stands for itself */
        emit(w, "\\\\", 2);
        w->pos++;
    }
}

static void emit_control(rewriter *w, unsigned char c) {
    char buf[8];
    switch (c) {
    case '\n': emit(w, "\\n", 2); break;
    case '\r': emit(w, "\\r", 2); break;
    case '\t': emit(w, "\\t", 2); break;
    default:
        snprintf(buf, sizeof buf, "\\u%04x", c);
        emit(w, buf, 6);
    }
}

/* Copies the string opened by quote at pos as a valid JSON string; one cut
 * off by the end of the text is closed. */
static void rewrite_string(rewriter *w, char quote) {
    char before = last_written(w);
    bool key = w->depth > 0 && w->closers[w->depth - 1] == '}' && (before == '{' || before == ',');
    w->pos++;
    emit_char(w, '"');
    while (w->pos < w->len && !w->oom) {
        const unsigned char *p = (const unsigned char *)w->in + w->pos;
        char c = (char)*p;
        if (c == quote && (quote == '"' || closes_single_quoted(w))) {
            w->pos++;
            break;
        }
        if (c == '\\') {
            rewrite_escape(w, quote);
        } else if (c == '"') { /* inside a single-quoted string */
            emit(w, "\\\"", 2);
            w->pos++;
        } else if (c != '\0' && *p < 0x20) {
            emit_control(w, *p);
            w->pos++;
        } else {
            size_t n = utf8_char_len(p, w->len - w->pos);
            if (n) emit(w, (const char *)p, n);
            else emit_char(w, '?');
            w->pos += n ? n : 1;
        }
    }
    emit_char(w, '"');
    if (key) w->key_end = w->out.len;
}

static void open_container(rewriter *w, char c) {
    if (w->depth == MAX_OPEN) {
        w->too_deep = true;
        return;
    }
    w->closers[w->depth++] = c == '{' ? '}' : ']';
    emit_char(w, c);
    w->pos++;
}

/* Closes the containers left open inside this one ("[1, 2}"); a closer
 * that matches no open container is dropped. */
static void close_container(rewriter *w, char c) {
    int match = w->depth - 1;
    while (match >= 0 && w->closers[match] != c) match--;
    while (match >= 0 && w->depth > match) {
        drop_trailing_comma(w);
        emit_char(w, w->closers[--w->depth]);
    }
    w->pos++;
}

/* Barewords: a key when a ':' follows; Python and English booleans and
 * None become JSON's; anything else is copied (and fails the parse). */
static void rewrite_word(rewriter *w) {
    static const char *const from[] = {"true", "false", "yes", "no", "none", "null", NULL};
    static const char *const to[] = {"true", "false", "true", "false", "null", "null"};
    size_t start = w->pos;
    while (w->pos < w->len && (is_alnum(w->in[w->pos]) || w->in[w->pos] == '_')) w->pos++;
    size_t n = w->pos - start;
    if (next_significant(w, w->pos) == ':') {
        emit_char(w, '"');
        emit(w, w->in + start, n);
        emit_char(w, '"');
        return;
    }
    for (int i = 0; from[i]; i++) {
        cursor c = {w->in + start, n, 0};
        if (strlen(from[i]) == n && take_word(&c, from[i])) {
            emit(w, to[i], strlen(to[i]));
            return;
        }
    }
    emit(w, w->in + start, n);
}

/* Outside strings: a // comment runs to the end of the line; '+' (not
 * JSON), non-ASCII and control bytes other than spaces are dropped. */
static void rewrite_other(rewriter *w) {
    char c = w->in[w->pos];
    if (c == '/' && w->pos + 1 < w->len && w->in[w->pos + 1] == '/') {
        while (w->pos < w->len && w->in[w->pos] != '\n') w->pos++;
        return;
    }
    bool keep = c != '+' && (unsigned char)c < 0x80 && ((unsigned char)c >= 0x20 || is_space(c));
    if (keep) emit_char(w, c);
    w->pos++;
}

/* A bareword cut off at the end ("tr" of true) is dropped. */
static void drop_partial_word(rewriter *w) {
    size_t end = trimmed_len(w), start = end;
    while (start > 0 && is_alpha(w->out.data[start - 1])) start--;
    if (start == end) return;
    static const char *const whole[] = {"true", "false", "null", NULL};
    for (int i = 0; whole[i]; i++) {
        size_t n = strlen(whole[i]);
        if (end - start == n && memcmp(w->out.data + start, whole[i], n) == 0) return;
    }
    cut_output(w, start);
}

/* A cut-off answer: a partial bareword is dropped, a key left without a
 * value ("en" of "end") and a value owed after ':' get null, then every
 * open container is closed (trailing commas dropped). */
static void close_truncated(rewriter *w) {
    drop_partial_word(w);
    if (w->key_end && w->key_end == trimmed_len(w)) emit(w, ":", 1);
    if (last_written(w) == ':') emit(w, "null", 4);
    while (w->depth > 0) {
        drop_trailing_comma(w);
        emit_char(w, w->closers[--w->depth]);
    }
}

/* Rewrites s[len] into w->out; false when it could not (see rewriter). */
static bool repair_json(rewriter *w) {
    while (w->pos < w->len && !w->oom && !w->too_deep) {
        char c = w->in[w->pos];
        if (c == '"' || (c == '\'' && opens_single_quoted(w))) rewrite_string(w, c);
        else if (c == '{' || c == '[') open_container(w, c);
        else if (c == '}' || c == ']') close_container(w, c);
        else if (is_alpha(c) || c == '_') rewrite_word(w);
        else rewrite_other(w);
    }
    close_truncated(w);
    return !w->oom && !w->too_deep;
}

static smoa_status read_repaired_json(const char *s, size_t len, unsigned fields, answer *a) {
    rewriter w = {.in = s, .len = len};
    smoa_status status = SMOA_OK;
    if (repair_json(&w)) status = read_json(w.out.data, w.out.len, fields, a);
    else if (w.oom) status = SMOA_ERR_OUT_OF_MEMORY;
    smoa_strbuf_free(&w.out);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Key scan                                                                 */

static bool is_key_char(char c) { return is_alnum(c) || c == '_' || c == '-' || c == ' '; }

/* The key before the ':' or '=' at sep: skips blanks, closing quotes and
 * markdown '*', then takes up to MAX_KEY key characters on the same line. */
static size_t key_before(const char *text, size_t begin, size_t sep, size_t *key_end) {
    size_t i = sep;
    while (i > begin && (is_blank(text[i - 1]) || text[i - 1] == '"' || text[i - 1] == '\'' ||
                         text[i - 1] == '*'))
        i--;
    *key_end = i;
    while (i > begin && *key_end - i < MAX_KEY && is_key_char(text[i - 1])) i--;
    return i;
}

/* A value in quotes on one line: its content range, or false. */
static bool quoted_value(cursor *c, size_t *b, size_t *e) {
    char q = peek(c);
    if (q != '"' && q != '\'') return false;
    size_t i = c->pos + 1, limit = c->pos + 1 + MAX_SCAN_STRING;
    while (i < c->len && i < limit && c->s[i] != q && c->s[i] != '\n') i++;
    if (i >= c->len || c->s[i] != q) return false;
    *b = c->pos + 1;
    *e = i;
    return true;
}

/* The selection after a key: a quoted list, or a list up to the first byte
 * that fits none. Read only when it has entries. */
static bool scan_selection(cursor *c, index_list *l) {
    size_t b, e;
    while (!at_end(c) && (is_blank(peek(c)) || peek(c) == '*')) c->pos++;
    if (quoted_value(c, &b, &e)) read_index_string(c->s + b, e - b, l);
    else take_index_list(c, l);
    return l->count > 0 && !l->unreadable;
}

typedef struct scan_hit {
    bool selection, end; /* found                                          */
    size_t first_key;    /* where the earliest key kept starts             */
    size_t selection_key, end_key;
} scan_hit;

/* One "key: value" at the separator sep; the later hit replaces an earlier. */
static void scan_one(const char *text, size_t begin, size_t end, size_t sep, unsigned fields,
                     answer *a, scan_hit *hit) {
    size_t key_end, key_begin = key_before(text, begin, sep, &key_end);
    if (key_begin == key_end) return;
    key_kind kind = classify_key(text + key_begin, key_end - key_begin);
    cursor c = {text, end, sep + 1};
    if (kind == KEY_SELECTION && (fields & SMOA_JUDGE_EXPECT_SELECTION)) {
        index_list l;
        l.count = 0;
        l.unreadable = false;
        if (!scan_selection(&c, &l)) return;
        a->selection = l;
        a->selection_state = FIELD_READ;
        hit->selection = true;
        hit->selection_key = key_begin;
    } else if (kind == KEY_END && (fields & SMOA_JUDGE_EXPECT_END)) {
        int b = read_bool_word(text + c.pos, end - c.pos);
        if (b < 0) return;
        a->end = b == 1;
        a->end_state = FIELD_READ;
        hit->end = true;
        hit->end_key = key_begin;
    }
}

/* Scans text[begin, end); hit->first_key is end when nothing was found. */
static void scan_keys(const char *text, size_t begin, size_t end, unsigned fields, answer *a,
                      scan_hit *hit) {
    memset(hit, 0, sizeof *hit);
    for (size_t i = begin; i < end; i++)
        if (text[i] == ':' || text[i] == '=') scan_one(text, begin, end, i, fields, a, hit);
    size_t first = end;
    if (hit->selection && hit->selection_key < first) first = hit->selection_key;
    if (hit->end && hit->end_key < first) first = hit->end_key;
    hit->first_key = first;
}

/* ------------------------------------------------------------------------ */
/* Finding the answer                                                       */

/* Strict JSON, then repaired JSON, then a key scan of the candidate. */
static smoa_status read_candidate(const char *text, const span *sp, unsigned fields, answer *a) {
    const char *s = text + sp->begin;
    size_t n = sp->end - sp->begin;
    smoa_status status;
    answer_reset(a, sp->begin, sp->end);
    if (sp->complete) {
        if ((status = read_json(s, n, fields, a)) != SMOA_OK) return status;
        a->method = SMOA_JUDGE_METHOD_JSON;
        if (found_expected(a, fields)) return SMOA_OK;
        answer_reset(a, sp->begin, sp->end);
    }
    if ((status = read_repaired_json(s, n, fields, a)) != SMOA_OK) return status;
    a->method = SMOA_JUDGE_METHOD_REPAIRED;
    if (found_expected(a, fields)) return SMOA_OK;
    answer_reset(a, sp->begin, sp->end);
    scan_hit hit;
    scan_keys(text, sp->begin, sp->end, fields, a, &hit);
    if (found_expected(a, fields)) a->method = SMOA_JUDGE_METHOD_KEY_SCAN;
    return SMOA_OK;
}

static size_t line_start(const char *text, size_t pos) {
    while (pos > 0 && text[pos - 1] != '\n') pos--;
    return pos;
}

static smoa_status find_answer(const char *text, size_t len, unsigned fields, answer *a) {
    span candidates[MAX_CANDIDATES + 1];
    int count = find_candidates(text, len, candidates);
    for (int i = 0; i < count; i++) {
        smoa_status status = read_candidate(text, &candidates[i], fields, a);
        if (status != SMOA_OK) return status;
        /* A cut-off object counts only if it gave a value: small models often
         * write a complete answer, then repeat it until cut off mid-key. */
        if (a->method != SMOA_JUDGE_METHOD_NONE && (candidates[i].complete || read_something(a, fields)))
            return SMOA_OK;
    }
    scan_hit hit;
    answer_reset(a, len, len);
    scan_keys(text, 0, len, fields, a, &hit);
    if (found_expected(a, fields)) {
        a->method = SMOA_JUDGE_METHOD_KEY_SCAN;
        a->prose_end = line_start(text, hit.first_key);
    }
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Result                                                                   */

static void note_add(smoa_judge_result *out, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void note_add(smoa_judge_result *out, const char *fmt, ...) {
    size_t used = strlen(out->note);
    if (used + 3 >= sizeof out->note) return;
    if (used) {
        memcpy(out->note + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->note + used, sizeof out->note - used, fmt, ap);
    va_end(ap);
}

static int compare_int32(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* Partial Fisher-Yates: pool[0, take) becomes a uniform random subset of
 * pool[0, m), in an order fixed by the random stream. */
static void shuffle_prefix(int32_t *pool, int32_t m, int32_t take, smoa_rng *rng) {
    for (int32_t i = 0; i < take; i++) {
        int32_t j = i + (int32_t)smoa_rng_below(rng, (uint64_t)(m - i));
        int32_t t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
    }
}

static void choose_at_random(smoa_judge_result *out, int32_t n, int32_t take, smoa_rng *rng) {
    int32_t pool[SMOA_JUDGE_MAX_N];
    for (int32_t i = 0; i < n; i++) pool[i] = i;
    shuffle_prefix(pool, n, take, rng);
    memcpy(out->chosen, pool, (size_t)take * sizeof pool[0]);
    out->n_chosen = take;
}

static bool looks_one_based(const index_list *l, int32_t n) {
    bool has_n = false, has_zero = false;
    for (int32_t i = 0; i < l->count; i++) {
        has_n |= l->values[i] == n;
        has_zero |= l->values[i] == 0;
    }
    return has_n && !has_zero;
}

/* The first entry outside [0, n), or -1 when all are in range. */
static int32_t first_out_of_range(const index_list *l, int32_t n) {
    for (int32_t i = 0; i < l->count; i++)
        if (l->values[i] < 0 || l->values[i] >= n) return i;
    return -1;
}

/* Copies the distinct entries (first occurrence kept) to out->chosen. */
static void keep_distinct(const index_list *l, smoa_judge_result *out) {
    bool seen[SMOA_JUDGE_MAX_N] = {false};
    out->n_chosen = 0;
    for (int32_t i = 0; i < l->count; i++) {
        int32_t v = (int32_t)l->values[i];
        if (seen[v]) continue;
        seen[v] = true;
        out->chosen[out->n_chosen++] = v;
    }
}

/* The rules of judge_parse.h, in their order, over an index list. */
static void decide_from_list(index_list *l, const smoa_judge_params *p, int32_t target,
                             smoa_rng *rng, smoa_judge_result *out) {
    if (l->count == 0) {
        out->events |= SMOA_JUDGE_EVENT_EMPTY;
        choose_at_random(out, p->n, target, rng);
        note_add(out, "empty selection: %d chosen at random", target);
        return;
    }
    if (looks_one_based(l, p->n)) {
        for (int32_t i = 0; i < l->count; i++) l->values[i]--;
        out->events |= SMOA_JUDGE_EVENT_ONE_BASED;
        note_add(out, "indices read as 1-based");
    }
    int32_t bad = first_out_of_range(l, p->n);
    if (bad >= 0) {
        out->events |= SMOA_JUDGE_EVENT_OUT_OF_RANGE;
        choose_at_random(out, p->n, target, rng);
        int64_t v = l->values[bad];
        if (v == INDEX_CLAMP || v == -INDEX_CLAMP)
            note_add(out, "huge index outside [0, %d): %d chosen at random", p->n, target);
        else
            note_add(out, "index %lld outside [0, %d): %d chosen at random", (long long)v, p->n,
                     target);
        return;
    }
    keep_distinct(l, out);
    if (out->n_chosen < l->count) {
        out->events |= SMOA_JUDGE_EVENT_DUPLICATES;
        note_add(out, "%d repeats dropped", l->count - out->n_chosen);
    }
    if (out->n_chosen > target) {
        out->events |= SMOA_JUDGE_EVENT_TOO_MANY;
        note_add(out, "%d distinct indices for k = %d: %d of them kept at random", out->n_chosen,
                 p->k, target);
        shuffle_prefix(out->chosen, out->n_chosen, target, rng);
        out->n_chosen = target;
    } else if (out->n_chosen < target) {
        out->events |= SMOA_JUDGE_EVENT_FEWER;
        note_add(out, "only %d for k = %d: kept as given", out->n_chosen, p->k);
    }
}

static void decide_selection(answer *a, const smoa_judge_params *p, smoa_judge_result *out) {
    int32_t target = p->k < p->n ? p->k : p->n;
    smoa_rng rng;
    smoa_rng_seed(&rng, p->seed);
    if (a->selection_state == FIELD_READ) {
        decide_from_list(&a->selection, p, target, &rng, out);
    } else {
        out->events |= SMOA_JUDGE_EVENT_UNPARSABLE;
        choose_at_random(out, p->n, target, &rng);
        note_add(out, "selection %s: %d chosen at random",
                 a->selection_state == FIELD_ABSENT ? "not found" : "unreadable", target);
    }
    qsort(out->chosen, (size_t)out->n_chosen, sizeof out->chosen[0], compare_int32);
}

static void decide_end(const answer *a, smoa_judge_result *out) {
    if (a->end_state == FIELD_READ) {
        out->end = a->end;
        return;
    }
    out->events |= SMOA_JUDGE_EVENT_END_MISSING;
    note_add(out, "end flag %s: continue",
             a->end_state == FIELD_ABSENT ? "not found" : "unreadable");
}

/* Trims spaces and a code fence line at either end ("```json" before an
 * answer, "```" after it). */
static void trim_prose(const char *text, size_t *b, size_t *e) {
    while (*e > *b && is_space(text[*e - 1])) (*e)--;
    while (*b < *e && is_space(text[*b])) (*b)++;
    size_t last_line = line_start(text, *e);
    if (last_line < *b) last_line = *b;
    if (*e - last_line >= 3 && memcmp(text + last_line, "```", 3) == 0) *e = last_line;
    if (*e - *b >= 3 && memcmp(text + *b, "```", 3) == 0)
        while (*b < *e && text[*b] != '\n') (*b)++;
    while (*e > *b && is_space(text[*e - 1])) (*e)--;
    while (*b < *e && is_space(text[*b])) (*b)++;
}

/* The prose before the answer; when there is none, the prose after it. */
static void copy_prose(const char *text, size_t len, const answer *a, smoa_judge_result *out) {
    size_t b = 0, e = a->prose_end;
    trim_prose(text, &b, &e);
    if (b == e) {
        b = a->after_begin;
        e = len;
        trim_prose(text, &b, &e);
    }
    copy_utf8(out->reasoning, sizeof out->reasoning, text + b, e - b);
}

static smoa_status check_params(const smoa_judge_params *p, smoa_error *err) {
    if (p->fields == 0 || (p->fields & ~(unsigned)SMOA_JUDGE_EXPECT_BOTH))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "judge: fields 0x%x is not a non-empty set of "
                              "SMOA_JUDGE_EXPECT_* bits",
                              p->fields);
    if (!(p->fields & SMOA_JUDGE_EXPECT_SELECTION)) return SMOA_OK;
    if (p->n < 1 || p->n > SMOA_JUDGE_MAX_N)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "judge: n = %d outside [1, %d]",
                              (int)p->n, SMOA_JUDGE_MAX_N);
    if (p->k < 1)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "judge: k = %d is not positive",
                              (int)p->k);
    return SMOA_OK;
}

smoa_status smoa_judge_parse(const char *text, size_t len, const smoa_judge_params *params,
                             smoa_judge_result *out, smoa_error *err) {
    if (!out) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "judge: out is NULL");
    memset(out, 0, sizeof *out);
    if (!params) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "judge: params is NULL");
    if (!text && len > 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "judge: text is NULL with len %zu",
                              len);
    smoa_status status = check_params(params, err);
    if (status != SMOA_OK) return status;
    if (!text) text = "";

    answer a;
    status = find_answer(text, len, params->fields, &a);
    if (status != SMOA_OK)
        return smoa_error_set(err, status, "judge: out of memory while parsing the answer");
    out->method = a.method;
    if (a.method == SMOA_JUDGE_METHOD_NONE) note_add(out, "no answer found");
    else note_add(out, "read by %s", smoa_judge_method_name(a.method));
    if (params->fields & SMOA_JUDGE_EXPECT_SELECTION) decide_selection(&a, params, out);
    if (params->fields & SMOA_JUDGE_EXPECT_END) decide_end(&a, out);
    bool selection_ok = !(params->fields & SMOA_JUDGE_EXPECT_SELECTION) ||
                        a.selection_state == FIELD_READ;
    bool end_ok = !(params->fields & SMOA_JUDGE_EXPECT_END) || a.end_state == FIELD_READ;
    out->parsed_ok = a.method != SMOA_JUDGE_METHOD_NONE && selection_ok && end_ok;
    if (a.reasoning[0]) memcpy(out->reasoning, a.reasoning, sizeof out->reasoning);
    else copy_prose(text, len, &a, out);
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Format and names                                                         */

smoa_status smoa_judge_format(const smoa_judge_params *params, smoa_strbuf *out, smoa_error *err) {
    if (!params || !out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "judge format: NULL argument");
    smoa_status status = check_params(params, err);
    if (status != SMOA_OK) return status;
    char selection[160] = "";
    if (params->fields & SMOA_JUDGE_EXPECT_SELECTION) {
        int32_t keep = params->k < params->n ? params->k : params->n;
        snprintf(selection, sizeof selection, ", \"selected\": [<%d distinct %s from 0 to %d>]",
                 (int)keep, keep == 1 ? "index" : "indices", (int)params->n - 1);
    }
    const char *end = (params->fields & SMOA_JUDGE_EXPECT_END)
                          ? ", \"end\": <true to stop the debate, false to go on>"
                          : "";
    bool ok = smoa_strbuf_append_str(out, "{\"reasoning\": \"<why, in a few sentences>\"") &&
              smoa_strbuf_append_str(out, selection) && smoa_strbuf_append_str(out, end) &&
              smoa_strbuf_append_str(out, "}");
    if (!ok) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "judge format: out of memory");
    return SMOA_OK;
}

const char *smoa_judge_method_name(smoa_judge_method method) {
    switch (method) {
    case SMOA_JUDGE_METHOD_NONE: return "none";
    case SMOA_JUDGE_METHOD_JSON: return "json";
    case SMOA_JUDGE_METHOD_REPAIRED: return "repaired json";
    case SMOA_JUDGE_METHOD_KEY_SCAN: return "key scan";
    }
    return "?";
}

const char *smoa_judge_event_name(smoa_judge_event event) {
    switch (event) {
    case SMOA_JUDGE_EVENT_UNPARSABLE: return "unparsable";
    case SMOA_JUDGE_EVENT_EMPTY: return "empty";
    case SMOA_JUDGE_EVENT_ONE_BASED: return "one-based";
    case SMOA_JUDGE_EVENT_OUT_OF_RANGE: return "out-of-range";
    case SMOA_JUDGE_EVENT_DUPLICATES: return "duplicates";
    case SMOA_JUDGE_EVENT_TOO_MANY: return "too-many";
    case SMOA_JUDGE_EVENT_FEWER: return "fewer";
    case SMOA_JUDGE_EVENT_END_MISSING: return "end-missing";
    }
    return "?";
}
