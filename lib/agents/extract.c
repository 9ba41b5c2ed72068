/* extract.c - final-answer extraction (numbers, choice letters) and the
 * agreement check built on it. The rules are documented in extract.h.
 *
 * Character classes are ASCII and written out here rather than taken from
 * <ctype.h>, whose answers depend on the host program's locale. */
#include "agents/extract.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Characters and words                                                     */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static char to_lower(char c) { return is_upper(c) ? (char)(c - 'A' + 'a') : c; }
static char to_upper(char c) { return is_lower(c) ? (char)(c - 'a' + 'A') : c; }

/* Length of word at s when s starts with it (any case) and the word ends
 * there (no letter follows); else 0. word is lower case. */
static size_t word_at(const char *s, const char *word) {
    size_t n = 0;
    for (; word[n]; n++)
        if (to_lower(s[n]) != word[n]) return 0;
    return is_alpha(s[n]) ? 0 : n;
}

/* Whether a whole word starts at p (no letter before it). */
static bool word_starts(const char *text, const char *p) { return p == text || !is_alpha(p[-1]); }

/* ------------------------------------------------------------------------ */
/* Number tokens                                                            */

static size_t minus_len(const char *s) {
    if (s[0] == '-') return 1;
    return strncmp(s, "\xE2\x88\x92", 3) == 0 ? 3 : 0; /* U+2212 */
}

static size_t currency_len(const char *s) {
    if (s[0] == '$') return 1;
    if (strncmp(s, "\xE2\x82\xAC", 3) == 0) return 3; /* U+20AC euro  */
    if (strncmp(s, "\xC2\xA3", 2) == 0) return 2;     /* U+00A3 pound */
    return 0;
}

static bool three_digits_then_no_digit(const char *s) {
    return is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && !is_digit(s[3]);
}

/* Reads digits into *mantissa; returns how many. */
static size_t read_digits(const char **s, double *mantissa) {
    size_t n = 0;
    for (; is_digit(**s); (*s)++, n++) *mantissa = *mantissa * 10.0 + (**s - '0');
    return n;
}

/* "1,234.5", "42", ".5"; then "/b" makes a fraction unless the numerator
 * follows a '/' or another "/digit" follows (a date). */
static bool read_plain_number(const char *s, char prev, double *value, const char **end) {
    double mantissa = 0.0;
    size_t first_group = read_digits(&s, &mantissa);
    bool grouped = false;
    while (first_group >= 1 && first_group <= 3 && s[0] == ',' && three_digits_then_no_digit(s + 1)) {
        s++;
        read_digits(&s, &mantissa);
        grouped = true;
    }
    size_t decimals = 0;
    if (s[0] == '.' && is_digit(s[1])) {
        s++;
        decimals = read_digits(&s, &mantissa);
    }
    if (first_group == 0 && decimals == 0) return false;
    double scale = 1.0;
    for (size_t i = 0; i < decimals; i++) scale *= 10.0;
    *value = mantissa / scale;
    if (!grouped && decimals == 0 && first_group > 0 && prev != '/' && s[0] == '/' && is_digit(s[1])) {
        const char *t = s + 1;
        double denominator = 0.0;
        read_digits(&t, &denominator);
        bool date = t[0] == '/' && is_digit(t[1]);
        if (denominator != 0.0 && !date) {
            *value /= denominator;
            s = t;
        }
    }
    *end = s;
    return true;
}

/* \frac{a}{b}, \dfrac{a}{b}, \tfrac{a}{b} with integer or decimal a, b
 * (a may be negative). */
static bool read_latex_fraction(const char *s, double *value, const char **end) {
    static const char *const commands[] = {"\\frac{", "\\dfrac{", "\\tfrac{"};
    size_t n = 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0] && !n; i++)
        if (strncmp(s, commands[i], strlen(commands[i])) == 0) n = strlen(commands[i]);
    if (!n) return false;
    s += n;
    size_t minus = minus_len(s);
    double numerator, denominator;
    if (!read_plain_number(s + minus, '{', &numerator, &s) || strncmp(s, "}{", 2) != 0) return false;
    if (!read_plain_number(s + 2, '{', &denominator, &s) || s[0] != '}' || denominator == 0.0)
        return false;
    *value = (minus ? -numerator : numerator) / denominator;
    *end = s + 1;
    return true;
}

/* A number token starting exactly at p: [minus] [currency] (\frac | plain). */
static bool read_number_at(const char *text, const char *p, double *value, const char **end) {
    char prev = p > text ? p[-1] : ' ';
    if (is_alnum(prev) || prev == '.') return false;
    const char *s = p;
    size_t minus = minus_len(s);
    if (minus && prev == ')') return false;
    s += minus;
    s += currency_len(s);
    double v;
    if (!read_latex_fraction(s, &v, end) && !read_plain_number(s, s == p ? prev : ' ', &v, end))
        return false;
    if (!isfinite(v)) return false;
    *value = minus ? -v : v;
    return true;
}

/* The first (or last) number token that starts in [from, to). */
static bool find_number(const char *text, const char *from, const char *to, bool last,
                        double *value) {
    bool found = false;
    for (const char *p = from; p < to && *p;) {
        const char *end;
        double v;
        if (!read_number_at(text, p, &v, &end)) {
            p++;
            continue;
        }
        *value = v;
        found = true;
        if (!last) break;
        p = end;
    }
    return found;
}

static const char *text_end(const char *text) { return text + strlen(text); }

/* ------------------------------------------------------------------------ */
/* Where the final number is                                                */

/* "#### 72": the number must follow the marker directly. */
static bool number_after_hashes(const char *text, double *value) {
    bool found = false;
    for (const char *m = strstr(text, "####"); m; m = strstr(m + 4, "####")) {
        const char *p = m + 4;
        while (*p == '#' || *p == ' ' || *p == '\t') p++;
        const char *end;
        double v;
        if (read_number_at(text, p, &v, &end)) {
            *value = v;
            found = true;
        }
    }
    return found;
}

/* End of the brace group opened just before s (or the text's end). */
static const char *closing_brace(const char *s) {
    int depth = 1;
    for (; *s; s++) {
        if (*s == '{') depth++;
        else if (*s == '}' && --depth == 0) return s;
    }
    return s;
}

static bool number_in_boxed(const char *text, double *value) {
    bool found = false;
    for (const char *m = strstr(text, "\\boxed{"); m; m = strstr(m + 1, "\\boxed{")) {
        const char *inside = m + strlen("\\boxed{");
        double v;
        if (find_number(text, inside, closing_brace(inside), true, &v)) {
            *value = v;
            found = true;
        }
    }
    return found;
}

/* After "answer" (p just past the word): emphasis, then "is", ':' or '='.
 * Returns where the number may start, or NULL. */
static const char *after_answer_cue(const char *p) {
    while (*p == ' ' || *p == '*' || *p == '_') p++;
    if (word_at(p, "is")) return p + 2;
    return *p == ':' || *p == '=' ? p + 1 : NULL;
}

static bool number_after_answer_phrase(const char *text, double *value) {
    enum { WINDOW = 48 };
    bool found = false;
    for (const char *p = text; *p; p++) {
        size_t n = word_starts(text, p) ? word_at(p, "answer") : 0;
        const char *from = n ? after_answer_cue(p + n) : NULL;
        if (!from) continue;
        size_t line = strcspn(from, "\n");
        const char *to = from + (line < WINDOW ? line : WINDOW);
        double v;
        if (find_number(text, from, to, false, &v)) {
            *value = v;
            found = true;
        }
    }
    return found;
}

bool smoa_extract_number(const char *text, double *value) {
    if (!text) return false;
    return number_after_hashes(text, value) || number_in_boxed(text, value) ||
           number_after_answer_phrase(text, value) ||
           find_number(text, text, text_end(text), true, value);
}

/* ------------------------------------------------------------------------ */
/* Choice letters                                                           */

static bool letter_in_range(char c, int n_choices) {
    char upper = to_upper(c);
    return is_upper(upper) && upper - 'A' < n_choices;
}

/* "b", "(C).", "**d**": one letter and only decoration around it. */
static bool whole_text_letter(const char *text, int n_choices, char *letter) {
    static const char decoration[] = " \t\r\n*_().[]{}:'\"";
    const char *s = text + strspn(text, decoration);
    size_t len = strlen(s);
    while (len > 0 && strchr(decoration, s[len - 1])) len--;
    if (len != 1 || !letter_in_range(s[0], n_choices)) return false;
    *letter = to_upper(s[0]);
    return true;
}

static size_t cue_at(const char *s) {
    static const char *const cues[] = {"answer", "choose", "chose", "selected", "select", "picked", "pick"};
    for (size_t i = 0; i < sizeof cues / sizeof cues[0]; i++) {
        size_t n = word_at(s, cues[i]);
        if (n) return n;
    }
    return 0;
}

/* Skips decoration and filler words between a cue and its letter. */
static const char *skip_filler(const char *s) {
    static const char *const fillers[] = {"is",     "be",     "would",  "will", "the",
                                          "option", "choice", "letter", "answer"};
    for (;;) {
        s += strspn(s, " \t*_:=([{\"'");
        size_t n = 0;
        for (size_t i = 0; i < sizeof fillers / sizeof fillers[0] && !n; i++) n = word_at(s, fillers[i]);
        if (!n) return s;
        s += n;
    }
}

/* A lower-case letter followed by a word is the article "a", not a choice. */
static bool standalone_letter(const char *s, int n_choices) {
    if (!letter_in_range(s[0], n_choices) || is_alnum(s[1])) return false;
    if (is_upper(s[0])) return true;
    const char *next = s + 1 + strspn(s + 1, " \t");
    return next == s + 1 || !is_alpha(*next);
}

static bool letter_after_cue(const char *text, int n_choices, char *letter) {
    bool found = false;
    for (const char *p = text; *p; p++) {
        size_t n = word_starts(text, p) ? cue_at(p) : 0;
        if (!n) continue;
        const char *s = skip_filler(p + n);
        if (standalone_letter(s, n_choices)) {
            *letter = to_upper(*s);
            found = true;
        }
    }
    return found;
}

static bool is_choice_form(const char *text, const char *p, int n_choices) {
    char open = p > text ? p[-1] : ' ';
    if (!is_upper(p[0]) || !letter_in_range(p[0], n_choices)) return false;
    if ((open == '(' && p[1] == ')') || (open == '[' && p[1] == ']') || (open == '{' && p[1] == '}'))
        return true;
    if (p - text >= 2 && strncmp(p - 2, "**", 2) == 0 && strncmp(p + 1, "**", 2) == 0) return true;
    return p[1] == ')' && !is_alnum(open);
}

static bool letter_in_choice_form(const char *text, int n_choices, char *letter) {
    bool found = false;
    for (const char *p = text; *p; p++) {
        if (is_choice_form(text, p, n_choices)) {
            *letter = *p;
            found = true;
        }
    }
    return found;
}

/* "... B." "I'd say C": an upper-case letter that ends its phrase. */
static bool letter_ending_phrase(const char *text, int n_choices, char *letter) {
    bool found = false;
    for (const char *p = text; *p; p++) {
        char prev = p > text ? p[-1] : ' ';
        if (!is_upper(*p) || !letter_in_range(*p, n_choices) || is_alnum(prev) || prev == '.') continue;
        const char *next = p + 1 + strspn(p + 1, " \t");
        if (*next == '\0' || strchr("\r\n.,;!?)\"'*", *next)) {
            *letter = *p;
            found = true;
        }
    }
    return found;
}

bool smoa_extract_choice(const char *text, int n_choices, char *letter) {
    if (!text || n_choices < 1 || n_choices > 26) return false;
    return whole_text_letter(text, n_choices, letter) || letter_after_cue(text, n_choices, letter) ||
           letter_in_choice_form(text, n_choices, letter) ||
           letter_ending_phrase(text, n_choices, letter);
}

/* ------------------------------------------------------------------------ */
/* Agreement                                                                */

static bool numbers_equal(double a, double b) {
    double scale = fmax(fabs(a), fabs(b));
    return a == b || fabs(a - b) <= 1e-6 * scale;
}

/* One text's answer as a number (a letter as its code), so both kinds
 * compare alike: distinct letters differ far beyond the tolerance. */
static bool answer_of(const char *text, smoa_answer_kind kind, int n_choices, double *answer) {
    if (kind == SMOA_ANSWER_NUMBER) return smoa_extract_number(text, answer);
    char letter;
    if (!smoa_extract_choice(text, n_choices, &letter)) return false;
    *answer = letter;
    return true;
}

bool smoa_answers_agree(const char *const *texts, size_t n_texts, smoa_answer_kind kind,
                        int n_choices) {
    double first, other;
    if (n_texts == 0 || !answer_of(texts[0], kind, n_choices, &first)) return false;
    for (size_t i = 1; i < n_texts; i++)
        if (!answer_of(texts[i], kind, n_choices, &other) || !numbers_equal(first, other))
            return false;
    return true;
}
