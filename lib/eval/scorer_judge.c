/* scorer_judge.c - the LLM judge's prompt for open questions and the
 * reading of its 1-10 rating. */
#include "eval/scorer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

#define RATING_MIN 1.0
#define RATING_MAX 10.0

static const char judge_task[] =
    "You are an impartial judge of an AI assistant's answer. Rate how helpful, correct, "
    "relevant, thorough and clear the answer is. Do not reward length or confidence for "
    "their own sake.";
static const char judge_task_reference[] =
    " A reference answer is given; check correctness against it: an answer that contradicts "
    "it is wrong, however well written.";
static const char judge_task_turns[] =
    " Judge only the assistant's LAST answer; the earlier turns are context.";
static const char judge_format[] =
    "\n\nFirst explain your judgement in a few sentences. Then give a rating from 1 (worst) "
    "to 10 (best), written exactly like this: [[6]]";

static bool append_section(smoa_strbuf *sb, const char *title, size_t turn, bool numbered,
                           const char *text) {
    char heading[96];
    if (numbered) snprintf(heading, sizeof heading, "\n\n### %s (turn %zu)\n", title, turn + 1);
    else snprintf(heading, sizeof heading, "\n\n### %s\n", title);
    return smoa_strbuf_append_str(sb, heading) && smoa_strbuf_append_str(sb, text);
}

static bool has_reference(const smoa_eval_item *item, size_t up_to_turn) {
    for (size_t t = 0; item->references && t <= up_to_turn; t++)
        if (item->references[t] && item->references[t][0]) return true;
    return false;
}

char *smoa_eval_judge_prompt(const smoa_eval_item *item, size_t turn, const char *const *answers) {
    if (!item || !answers || turn >= item->n_turns) return NULL;
    for (size_t t = 0; t <= turn; t++)
        if (!answers[t]) return NULL;
    bool numbered = turn > 0;
    smoa_strbuf sb = {0};
    bool ok = smoa_strbuf_append_str(&sb, judge_task) &&
              (!has_reference(item, turn) || smoa_strbuf_append_str(&sb, judge_task_reference)) &&
              (!numbered || smoa_strbuf_append_str(&sb, judge_task_turns));
    for (size_t t = 0; ok && t <= turn; t++) {
        const char *ref = item->references ? item->references[t] : NULL;
        ok = append_section(&sb, "User", t, numbered, item->turns[t]) &&
             (!ref || !ref[0] || append_section(&sb, "Reference answer", t, numbered, ref)) &&
             append_section(&sb, "Assistant", t, numbered, answers[t]);
    }
    ok = ok && smoa_strbuf_append_str(&sb, judge_format);
    if (!ok) smoa_strbuf_free(&sb);
    return sb.data;
}

/* ------------------------------------------------------------------------ */
/* Ratings                                                                  */

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A number at p ("7", "8.5", "-1"); *end past it. */
static bool read_number(const char *p, double *value, const char **end) {
    bool negative = *p == '-';
    p += negative;
    if (!is_digit(*p)) return false;
    double v = 0, scale = 1;
    for (; is_digit(*p); p++) v = v * 10 + (*p - '0');
    if (*p == '.' && is_digit(p[1])) {
        for (p++; is_digit(*p); p++) {
            v = v * 10 + (*p - '0');
            scale *= 10;
        }
    }
    *value = (negative ? -v : v) / scale;
    *end = p;
    return true;
}

static const char *skip_spaces(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* The number of the last "[[ N ]]"; false when none holds a number. */
static bool last_bracketed(const char *text, double *value) {
    bool found = false;
    for (const char *p = strstr(text, "[["); p; p = strstr(p + 2, "[[")) {
        double v;
        const char *end;
        if (read_number(skip_spaces(p + 2), &v, &end) && strncmp(skip_spaces(end), "]]", 2) == 0) {
            *value = v;
            found = true;
        }
    }
    return found;
}

/* `word` (lower case) at p in any case, not inside a longer word. */
static bool word_at(const char *text, const char *p, const char *word) {
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != word[i]) return false;
    return (p == text || !is_letter(p[-1])) && !is_letter(p[n]);
}

/* The number after the last "rating" followed by ':' or '=' (Markdown
 * emphasis and spaces allowed around them). */
static bool last_labelled(const char *text, double *value) {
    bool found = false;
    for (const char *p = text; *p; p++) {
        if (!word_at(text, p, "rating")) continue;
        const char *q = p + 6;
        q += strspn(q, "*_ \t");
        if (*q != ':' && *q != '=') continue;
        q += 1 + strspn(q + 1, "*_ \t");
        double v;
        const char *end;
        if (read_number(q, &v, &end)) {
            *value = v;
            found = true;
        }
    }
    return found;
}

bool smoa_eval_parse_rating(const char *text, double *rating) {
    double v;
    if (!text || !(last_bracketed(text, &v) || last_labelled(text, &v))) return false;
    if (v < RATING_MIN || v > RATING_MAX) return false;
    *rating = v;
    return true;
}
