/* prompts.c - prompt texts and builders for proposers, judge, moderator,
 * scorer and role writer, and the parser of model-written roles.
 *
 * The wording is this project's own (the published systems' prompts are
 * described in shared/reference/smoa.md, not copied). Instructions come
 * after the material they refer to: small models follow what they read
 * last. */
#include "agents/prompts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Writing with one out-of-memory check at the end                          */

typedef struct writer {
    smoa_strbuf *sb;
    size_t start; /* length before this builder, restored on failure */
    bool ok;
} writer;

static writer writer_begin(smoa_strbuf *sb) {
    writer w = {sb, sb->len, true};
    return w;
}

static void put(writer *w, const char *bytes, size_t n) {
    if (w->ok) w->ok = smoa_strbuf_append(w->sb, bytes, n);
}

static void put_str(writer *w, const char *s) { put(w, s, strlen(s)); }

static void put_size(writer *w, size_t value) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%zu", value);
    put(w, digits, (size_t)n);
}

/* Leaves the buffer as it was when anything failed. */
static bool writer_end(writer *w) {
    if (!w->ok) {
        w->sb->len = w->start;
        if (w->sb->data) w->sb->data[w->start] = '\0';
    }
    return w->ok;
}

/* ------------------------------------------------------------------------ */
/* Quoting responses                                                        */

/* ASCII classes, independent of the host program's locale. */
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static char to_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim_span(const char **s, size_t *len) {
    while (*len > 0 && is_space(**s)) (*s)++, (*len)--;
    while (*len > 0 && is_space((*s)[*len - 1])) (*len)--;
}

/* The longest prefix of s[0..len) of at most max bytes that ends on a UTF-8
 * character boundary (never inside a multi-byte sequence). */
static size_t utf8_clip(const char *s, size_t len, size_t max) {
    if (len <= max) return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    return cut;
}

static void put_response(writer *w, const char *text, size_t max_bytes) {
    size_t len = text ? strlen(text) : 0;
    trim_span(&text, &len);
    if (len == 0) {
        put_str(w, SMOA_PROMPT_EMPTY_RESPONSE);
        return;
    }
    size_t kept = max_bytes ? utf8_clip(text, len, max_bytes) : len;
    bool clipped = kept < len;
    while (clipped && kept > 0 && is_space(text[kept - 1])) kept--; /* no "word  [...]" */
    put(w, text, kept);
    if (clipped) put_str(w, SMOA_PROMPT_CLIP_MARKER);
}

/* "Response <first>:\n...\n\nResponse <first+1>:\n..." */
static void put_responses(writer *w, const char *const *responses, size_t n, size_t first,
                          size_t max_bytes) {
    for (size_t i = 0; i < n; i++) {
        put_str(w, i ? "\n\nResponse " : "Response ");
        put_size(w, first + i);
        put_str(w, ":\n");
        put_response(w, responses[i], max_bytes);
    }
}

/* ------------------------------------------------------------------------ */
/* Roles                                                                    */

static const char *const default_roles[] = {
    "You are a careful mathematician who checks every step and trusts only what can be shown.",
    "You are a pragmatic engineer who prefers simple answers that work in practice.",
    "You are a skeptical reviewer who hunts for mistakes and questions every claim.",
    "You are a patient teacher who explains things plainly, one step at a time.",
    "You are a curious scientist who weighs the evidence before believing anything.",
    "You are a fair-minded lawyer who hears every side and treats all groups of people alike.",
    "You are a cautious doctor who gives clear advice and points out the risks.",
    "You are a thoughtful historian who puts each question in its wider context.",
    "You are a concise editor who cuts needless words and values a clear answer.",
    "You are a practical economist who thinks about costs, incentives and trade-offs.",
};

const char *const *smoa_prompt_default_roles(size_t *n_roles) {
    *n_roles = sizeof default_roles / sizeof default_roles[0];
    return default_roles;
}

bool smoa_prompt_role_request(smoa_strbuf *out, const char *task_description, size_t n_roles) {
    writer w = writer_begin(out);
    const char *task = task_description ? task_description : "";
    size_t task_len = strlen(task);
    trim_span(&task, &task_len);
    put_str(&w, "Task: ");
    put(&w, task, task_len);
    put_str(&w, "\n\nWrite ");
    put_size(&w, n_roles);
    put_str(&w, n_roles == 1 ? " expert persona" : " different expert personas");
    put_str(&w, " for answering questions in this task. Each persona is one sentence that "
                "starts with \"You are\" and names an occupation, a personality and a point "
                "of view. Write one persona per line, numbered 1., 2., and so on, and "
                "nothing else.");
    return writer_end(&w);
}

/* --- parsing the role writer's answer --- */

typedef struct role_parse {
    bool collecting; /* second pass: keep qualifying candidates      */
    bool saw_strong; /* first pass: some candidate is strong          */
    char **roles;
    size_t n, max;
    smoa_strbuf scratch; /* one cleaned candidate */
} role_parse;

/* prefix is lower case ASCII or exact bytes. */
static bool starts_with_ci(const char *s, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    if (len < n) return false;
    for (size_t i = 0; i < n; i++)
        if (to_lower(s[i]) != prefix[i]) return false;
    return true;
}

/* Letters: ASCII ones, and every non-ASCII character (counted by its lead
 * byte) so that roles in other scripts are not taken for filler. */
static size_t count_letters(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ascii_letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        n += ascii_letter || c >= 0xC0;
    }
    return n;
}

/* "1." "12)" "3:" "(4)": digits and a closing mark, then a space or the end. */
static size_t number_marker_len(const char *s, size_t len) {
    size_t i = s[0] == '(' ? 1 : 0, digits = 0;
    while (i < len && is_digit(s[i]) && digits < 3) i++, digits++;
    if (digits == 0 || i >= len) return 0;
    if (s[0] == '(' ? s[i] != ')' : !strchr(".):", s[i])) return 0;
    i++;
    return i == len || is_space(s[i]) ? i : 0;
}

/* "- " "* " "+ " and U+2022 (the bullet), then a space. */
static size_t bullet_marker_len(const char *s, size_t len) {
    size_t n = 0;
    if (strchr("-*+", s[0])) n = 1;
    else if (starts_with_ci(s, len, "\xE2\x80\xA2")) n = 3;
    return n && n < len && is_space(s[n]) ? n : 0;
}

/* "Persona 2:", "Role:", "Agent 3 -", "Expert 1." and the like. */
static size_t label_marker_len(const char *s, size_t len) {
    static const char *const labels[] = {"persona", "role", "agent", "expert"};
    for (size_t l = 0; l < sizeof labels / sizeof labels[0]; l++) {
        if (!starts_with_ci(s, len, labels[l])) continue;
        size_t i = strlen(labels[l]);
        while (i < len && s[i] == ' ') i++;
        while (i < len && is_digit(s[i])) i++;
        while (i < len && s[i] == ' ') i++;
        if (i >= len || !strchr(":.-", s[i])) return 0;
        i++;
        return i == len || is_space(s[i]) ? i : 0;
    }
    return 0;
}

/* Strips leading list markers and labels ("1. Persona 1: ..."); true when
 * there was one. */
static bool strip_markers(const char **s, size_t *len) {
    bool marked = false;
    for (;;) {
        trim_span(s, len);
        if (*len == 0) return marked;
        size_t n = number_marker_len(*s, *len);
        if (!n) n = bullet_marker_len(*s, *len);
        if (!n) n = label_marker_len(*s, *len);
        if (!n) return marked;
        *s += n, *len -= n;
        marked = true;
    }
}

static size_t quote_len_at_start(const char *s, size_t len) {
    if (len >= 1 && (s[0] == '"' || s[0] == '\'')) return 1;
    if (starts_with_ci(s, len, "\xE2\x80\x9C")) return 3; /* U+201C */
    return 0;
}

static size_t quote_len_at_end(const char *s, size_t len) {
    if (len >= 1 && (s[len - 1] == '"' || s[len - 1] == '\'')) return 1;
    if (len >= 3 && memcmp(s + len - 3, "\xE2\x80\x9D", 3) == 0) return 3; /* U+201D */
    return 0;
}

/* Removes a trailing comma and surrounding quotes; true when quoted. */
static bool strip_quotes(const char **s, size_t *len) {
    if (*len > 0 && (*s)[*len - 1] == ',') (*len)--;
    trim_span(s, len);
    size_t open = quote_len_at_start(*s, *len);
    if (!open) return false;
    *s += open, *len -= open;
    *len -= quote_len_at_end(*s, *len);
    trim_span(s, len);
    return true;
}

/* Copies item into the scratch buffer without Markdown emphasis markers. */
static bool copy_without_emphasis(smoa_strbuf *scratch, const char *item, size_t len) {
    scratch->len = 0;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        bool emphasis = i + 1 < len && (item[i] == '*' || item[i] == '_') && item[i + 1] == item[i];
        if (!emphasis) continue;
        if (!smoa_strbuf_append(scratch, item + run, i - run)) return false;
        i++;
        run = i + 1;
    }
    return smoa_strbuf_append(scratch, item + run, len - run);
}

static bool already_have(const role_parse *p, const char *s, size_t len) {
    for (size_t i = 0; i < p->n; i++) {
        if (strlen(p->roles[i]) != len) continue;
        bool same = true;
        for (size_t j = 0; j < len && same; j++)
            same = to_lower(p->roles[i][j]) == to_lower(s[j]);
        if (same) return true;
    }
    return false;
}

static bool keep_role(role_parse *p, const char *s, size_t len) {
    len = utf8_clip(s, len, SMOA_PROMPT_ROLE_MAX_BYTES);
    trim_span(&s, &len);
    if (already_have(p, s, len)) return true;
    char *copy = malloc(len + 1);
    if (!copy) return false;
    memcpy(copy, s, len);
    copy[len] = '\0';
    p->roles[p->n++] = copy;
    return true;
}

/* Cleans one candidate; in the first pass notes whether it is strong, in
 * the second keeps it when it qualifies. False only on out of memory. */
static bool offer_candidate(role_parse *p, const char *item, size_t len, bool marked) {
    if (p->n >= p->max) return true;
    if (!copy_without_emphasis(&p->scratch, item, len)) return false;
    const char *s = p->scratch.data;
    len = p->scratch.len;
    marked |= strip_markers(&s, &len);
    bool quoted = strip_quotes(&s, &len);
    if (count_letters(s, len) < 3 || s[len - 1] == ':') return true; /* filler or header */
    bool strong = marked || quoted || starts_with_ci(s, len, "you are");
    if (!p->collecting) {
        p->saw_strong |= strong;
        return true;
    }
    return strong || !p->saw_strong ? keep_role(p, s, len) : true;
}

/* A line holding a list of quoted strings, ["You are a ...", "You are a ..."]
 * (maybe after a lead-in): each string is a candidate. Returns false when
 * the line has no such list. */
static bool offer_quoted_list(role_parse *p, const char *line, size_t len, bool *ok) {
    const char *end = line + len;
    const char *open = memchr(line, '[', len);
    if (!open) return false;
    const char *q = open + 1;
    while (q < end && is_space(*q)) q++;
    if (q >= end || *q != '"') return false;
    while (q && *ok) {
        const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));
        if (!close) break;
        *ok = offer_candidate(p, q + 1, (size_t)(close - q - 1), true);
        q = close + 1 < end ? memchr(close + 1, '"', (size_t)(end - close - 1)) : NULL;
    }
    return true;
}

static bool scan_lines(role_parse *p, const char *text) {
    bool ok = true;
    while (*text && ok) {
        size_t len = strcspn(text, "\n");
        const char *line = text;
        text += len + (text[len] == '\n');
        trim_span(&line, &len);
        if (len == 0) continue;
        if (!offer_quoted_list(p, line, len, &ok)) ok = offer_candidate(p, line, len, false);
    }
    return ok;
}

void smoa_prompt_free_roles(char **roles, size_t n_roles) {
    for (size_t i = 0; i < n_roles; i++) {
        free(roles[i]);
        roles[i] = NULL;
    }
}

bool smoa_prompt_parse_roles(const char *text, size_t max_roles, char **roles, size_t *n_found) {
    role_parse p = {.roles = roles, .max = max_roles};
    *n_found = 0;
    const char *input = text ? text : "";
    /* pass 1 finds whether any strong candidate exists, pass 2 collects */
    bool ok = scan_lines(&p, input);
    p.collecting = true;
    ok = ok && scan_lines(&p, input);
    smoa_strbuf_free(&p.scratch);
    if (!ok) {
        smoa_prompt_free_roles(roles, p.n);
        return false;
    }
    *n_found = p.n;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Synthesis                                                                */

bool smoa_prompt_synthesis(smoa_strbuf *out, const char *role, const char *const *responses,
                           size_t n_responses, size_t max_response_bytes) {
    writer w = writer_begin(out);
    if (role && *role) {
        put_str(&w, role);
        put_str(&w, "\n\n");
    }
    put_str(&w, "Below are responses from other assistants to the user's question. Some may "
                "be wrong or biased. Check them critically and write one better answer of "
                "your own: correct, clear and well organised. Do not just copy them.\n\n");
    put_responses(&w, responses, n_responses, 1, max_response_bytes);
    return writer_end(&w);
}

bool smoa_prompt_in_role(smoa_strbuf *out, const char *question, const char *role) {
    writer w = writer_begin(out);
    put_str(&w, question);
    put_str(&w, "\n\n");
    put_str(&w, role);
    put_str(&w, " Answer in that role.");
    return writer_end(&w);
}

/* ------------------------------------------------------------------------ */
/* Judge and moderator                                                      */

/* "[a, b]": k placeholders (the first three, then "..."), so the example
 * does not suggest particular responses. */
static void put_selection_placeholder(writer *w, size_t k) {
    static const char *const letters[] = {"a", "b", "c"};
    put_str(w, "[");
    for (size_t i = 0; i < k && i < 3; i++) {
        if (i) put_str(w, ", ");
        put_str(w, letters[i]);
    }
    if (k > 3) put_str(w, ", ...");
    put_str(w, "]");
}

static void put_best_k(writer *w, size_t k) {
    if (k == 1) {
        put_str(w, "the best response");
        return;
    }
    put_str(w, "the ");
    put_size(w, k);
    put_str(w, " best responses");
}

static void put_judge_request(writer *w, smoa_judge_ask ask, size_t n, size_t k) {
    bool select = ask != SMOA_JUDGE_ASK_END, end = ask != SMOA_JUDGE_ASK_SELECT;
    if (!select) {
        put_str(w, "Do the responses above agree on the answer, so that more debate is not "
                   "needed?\nFirst give your reasons briefly. Then end with a JSON object: "
                   "{\"end\": true} if they agree, {\"end\": false} if not.");
        return;
    }
    put_str(w, "Judge the responses above for correctness, fluency, relevance and quality, "
               "and choose ");
    put_best_k(w, k);
    put_str(w, ".");
    if (end) put_str(w, " Also decide whether the responses already agree, so that more debate "
                        "is not needed.");
    put_str(w, "\nFirst give your reasons briefly. Then end with a JSON object like this:\n"
               "{\"selected\": ");
    put_selection_placeholder(w, k);
    put_str(w, end ? ", \"end\": false}\n" : "}\n");
    put_str(w, "In \"selected\", list exactly ");
    put_size(w, k);
    put_str(w, k == 1 ? " response number (0 to " : " response numbers (0 to ");
    put_size(w, n ? n - 1 : 0);
    put_str(w, ").");
    if (end) put_str(w, " Set \"end\" to true if the responses agree, else false.");
}

bool smoa_prompt_judge(smoa_strbuf *out, smoa_judge_ask ask, const char *question,
                       const char *const *responses, size_t n_responses, size_t k,
                       size_t max_response_bytes) {
    writer w = writer_begin(out);
    put_str(&w, "Question:\n");
    put_str(&w, question ? question : "");
    put_str(&w, "\n\n");
    put_responses(&w, responses, n_responses, 0, max_response_bytes);
    put_str(&w, "\n\n");
    put_judge_request(&w, ask, n_responses, k);
    return writer_end(&w);
}

/* ------------------------------------------------------------------------ */
/* Scoring judge                                                            */

bool smoa_prompt_score(smoa_strbuf *out, const char *question, const char *response,
                       size_t max_response_bytes) {
    writer w = writer_begin(out);
    put_str(&w, "Question:\n");
    put_str(&w, question ? question : "");
    put_str(&w, "\n\nResponse:\n");
    put_response(&w, response, max_response_bytes);
    put_str(&w, "\n\nIs this response correct and helpful? Answer with one word: Yes or No.");
    return writer_end(&w);
}

const char *smoa_prompt_self_verdict(void) {
    return "Look again at your answer above. Is it correct and helpful? Answer with one word: Yes or No.";
}

const char *const *smoa_prompt_verdict_words(smoa_verdict verdict, size_t *n_words) {
    static const char *const yes[] = {"Yes", " Yes"};
    static const char *const no[] = {"No", " No"};
    *n_words = 2;
    return verdict == SMOA_VERDICT_YES ? yes : no;
}
