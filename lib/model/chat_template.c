/* chat_template.c - chat templates by family, without a Jinja engine.
 *
 * A model's tokenizer.chat_template is recognised by distinctive markers and
 * mapped to a dialect; each dialect renders a conversation byte for byte as
 * the real template does under Hugging Face transformers (checked by the
 * golden vectors of scripts/make_chat_vectors.py):
 *
 *   chatml          <|im_start|>role\n...<|im_end|>\n (SmolLM2, Qwen2.5); a
 *                   default system turn written as one string literal in the
 *                   template is injected when the chat has no system message
 *   llama3          <|begin_of_text|> + <|start_header_id|>role<|end_header_id|>
 *                   \n\n + trimmed content + <|eot_id|> (Llama 3)
 *   gemma           <bos> + <start_of_turn>user|model\n...<end_of_turn>\n,
 *                   the system message merged into the first user turn (Gemma 3)
 *   mistral_v1      <s> [INST] ... [/INST] answer</s>, the system message
 *                   before the first user message (Mistral-7B-Instruct-v0.2)
 *   mistral_legacy  <s>[INST] ... [/INST]answer</s>, the original Mistral and
 *                   Mixtral template
 *   llama2          <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] answer </s>
 * The last three are the public family "mistral".
 *
 * Deliberate differences from the real templates:
 *   - Llama 3.1+ templates (recognised as llama3) also write a system turn with
 *     "Cutting Knowledge Date" / "Today Date" lines; we render the Llama 3
 *     form without them, as llama.cpp's built-in llama3 format does.
 *   - Gemma 2 and the original Mistral template raise on a system message; we
 *     merge it into the first user message (Gemma 3 / Mistral v0.2 style).
 *   - The strictly alternating templates (gemma, mistral) reject a system
 *     message anywhere but first, even where the real template would render
 *     or silently drop it.
 *   - ChatML templates that change output for reasoning (Qwen3's <think>
 *     blocks) are rendered as plain ChatML. */
#include "model/chat_template.h"

#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Output with a sticky out-of-memory flag, so renderers read as straight lines. */

typedef struct writer {
    smoa_strbuf *out;
    bool failed;
} writer;

static void put(writer *w, const char *bytes, size_t n) {
    if (!w->failed && !smoa_strbuf_append(w->out, bytes, n)) w->failed = true;
}

static void put_str(writer *w, const char *s) { put(w, s, strlen(s)); }

/* ------------------------------------------------------------------------ */
/* Python's str.strip(), which Jinja's trim filter is: Unicode whitespace. */

static bool is_python_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
           cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Decodes the UTF-8 sequence at s (n > 0 bytes available). Returns its length,
 * or 0 when the bytes are not valid UTF-8 (they then count as no space). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    *cp = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> len));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    return len;
}

static size_t leading_space_len(const char *s, size_t n) {
    uint32_t cp;
    size_t len = utf8_decode((const unsigned char *)s, n, &cp);
    return len && is_python_space(cp) ? len : 0;
}

/* Length of the whitespace character that ends s[0..n), or 0. */
static size_t trailing_space_len(const char *s, size_t n) {
    size_t start = n - 1;
    while (start > 0 && n - start < 4 && ((unsigned char)s[start] & 0xC0) == 0x80) start--;
    size_t len = leading_space_len(s + start, n - start);
    return start + len == n ? len : 0;
}

static void put_stripped(writer *w, const char *s, size_t n) {
    size_t len;
    while (n > 0 && (len = leading_space_len(s, n)) > 0) s += len, n -= len;
    while (n > 0 && (len = trailing_space_len(s, n)) > 0) n -= len;
    put(w, s, n);
}

/* ------------------------------------------------------------------------ */
/* Jinja string literals: where a ChatML template keeps its default system. */

typedef struct jinja_scanner {
    const char *p;
    bool in_tag; /* inside {{ ... }} or {% ... %} */
} jinja_scanner;

/* Finds the next string literal inside a Jinja tag (text outside tags and
 * {# comments #} is skipped) and points *body, with *len bytes, at the raw
 * text between its quotes. Returns false at the end of the template. */
static bool next_jinja_literal(jinja_scanner *sc, const char **body, size_t *len) {
    const char *p = sc->p;
    while (*p) {
        if (!sc->in_tag) {
            if (p[0] == '{' && (p[1] == '{' || p[1] == '%')) {
                sc->in_tag = true;
                p += 2;
            } else if (p[0] == '{' && p[1] == '#') {
                const char *close = strstr(p + 2, "#}");
                p = close ? close + 2 : p + strlen(p);
            } else {
                p++;
            }
        } else if ((p[0] == '}' || p[0] == '%') && p[1] == '}') {
            sc->in_tag = false;
            p += 2;
        } else if (*p == '\'' || *p == '"') {
            const char quote = *p++;
            const char *start = p;
            while (*p && *p != quote) p += (p[0] == '\\' && p[1]) ? 2 : 1;
            if (!*p) break; /* unterminated: no literal */
            *body = start;
            *len = (size_t)(p - start);
            sc->p = p + 1;
            return true;
        } else {
            p++;
        }
    }
    sc->p = p;
    return false;
}

static size_t utf8_encode(uint32_t cp, char *buf) {
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads exactly n hex digits; false if they are not all there. */
static bool parse_hex(const char *s, size_t available, size_t n, uint32_t *value) {
    if (available < n) return false;
    *value = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        uint32_t digit = c >= '0' && c <= '9' ? (uint32_t)(c - '0')
                       : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                       : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10) : 16;
        if (digit == 16) return false;
        *value = *value * 16 + digit;
    }
    return true;
}

/* The value of a Jinja literal's escape at s[0] == '\\'. Jinja decodes
 * literals as Python does; octal and \N{name} escapes are kept verbatim here
 * (no known template uses them), like unknown escapes. Returns the escape's
 * length in the template, or 0 to keep the backslash as a plain byte. */
static size_t decode_escape(const char *s, size_t n, char *buf, size_t *buf_len) {
    static const char simple_from[] = "ntr\\'\"abfv";
    static const char simple_to[] = "\n\t\r\\'\"\a\b\f\v";
    if (n < 2) return 0;
    const char *simple = s[1] ? strchr(simple_from, s[1]) : NULL;
    if (simple) {
        buf[0] = simple_to[simple - simple_from];
        *buf_len = 1;
        return 2;
    }
    size_t digits = s[1] == 'x' ? 2 : s[1] == 'u' ? 4 : s[1] == 'U' ? 8 : 0;
    uint32_t cp;
    if (digits == 0 || !parse_hex(s + 2, n - 2, digits, &cp) || cp > 0x10FFFF) return 0;
    *buf_len = utf8_encode(cp, buf);
    return 2 + digits;
}

static bool append_unescaped(smoa_strbuf *sb, const char *raw, size_t n) {
    while (n > 0) {
        char decoded[4];
        size_t decoded_len = 0;
        size_t used = raw[0] == '\\' ? decode_escape(raw, n, decoded, &decoded_len) : 0;
        if (used == 0) {
            used = 1;
            decoded[0] = raw[0];
            decoded_len = 1;
        }
        if (!smoa_strbuf_append(sb, decoded, decoded_len)) return false;
        raw += used;
        n -= used;
    }
    return true;
}

static const char CHATML_SYSTEM_OPEN[] = "<|im_start|>system\n";
static const char CHATML_END[] = "<|im_end|>";

/* SmolLM2 and Qwen2.5 write a fixed system turn when the chat has none, as
 * one literal: '<|im_start|>system\n...<|im_end|>\n'. Copies that literal's
 * system text into *text and sets *found; no literal is not an error. */
static smoa_status find_default_system(const char *template_text, smoa_strbuf *text,
                                       bool *found, smoa_error *err) {
    smoa_strbuf literal = {0};
    jinja_scanner sc = {template_text, false};
    const char *body;
    size_t len;
    smoa_status st = SMOA_OK;
    *found = false;
    while (!*found && next_jinja_literal(&sc, &body, &len)) {
        literal.len = 0; /* reuse the buffer; data[len] is NUL again after an append */
        if (!append_unescaped(&literal, body, len)) {
            st = SMOA_ERR_OUT_OF_MEMORY;
            break;
        }
        const char *open = literal.len ? strstr(literal.data, CHATML_SYSTEM_OPEN) : NULL;
        const char *start = open ? open + strlen(CHATML_SYSTEM_OPEN) : NULL;
        const char *end = start ? strstr(start, CHATML_END) : NULL;
        if (!end) continue;
        if (!smoa_strbuf_append(text, start, (size_t)(end - start))) {
            st = SMOA_ERR_OUT_OF_MEMORY;
            break;
        }
        *found = true;
    }
    smoa_strbuf_free(&literal);
    if (st != SMOA_OK)
        return smoa_error_set(err, st, "chat template: out of memory reading its default "
                                       "system message");
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Conversations and the dialects that render them. */

typedef struct conversation {
    const char *const *roles;
    const char *const *contents;
    size_t n;
    bool add_assistant_prompt;
    /* chatml only: the template's own system turn for chats without one */
    bool has_default_system;
    const char *default_system;
} conversation;

static bool has_role(const conversation *c, size_t i, const char *role) {
    return strcmp(c->roles[i], role) == 0;
}

/* Index of the first turn after an optional leading system message. */
static size_t first_turn(const conversation *c) { return has_role(c, 0, "system") ? 1 : 0; }

/* The leading system message that a merging dialect puts in the first turn. */
static const char *system_for_turn(const conversation *c, size_t i) {
    return i == 1 && first_turn(c) == 1 ? c->contents[0] : NULL;
}

static void put_chatml_turn(writer *w, const char *role, const char *content) {
    put_str(w, "<|im_start|>");
    put_str(w, role);
    put_str(w, "\n");
    put_str(w, content);
    put_str(w, "<|im_end|>\n");
}

static void render_chatml(writer *w, const conversation *c) {
    if (c->has_default_system && !has_role(c, 0, "system"))
        put_chatml_turn(w, "system", c->default_system);
    for (size_t i = 0; i < c->n; i++) put_chatml_turn(w, c->roles[i], c->contents[i]);
    if (c->add_assistant_prompt) put_str(w, "<|im_start|>assistant\n");
}

static void render_llama3(writer *w, const conversation *c) {
    put_str(w, "<|begin_of_text|>");
    for (size_t i = 0; i < c->n; i++) {
        put_str(w, "<|start_header_id|>");
        put_str(w, c->roles[i]);
        put_str(w, "<|end_header_id|>\n\n");
        put_stripped(w, c->contents[i], strlen(c->contents[i]));
        put_str(w, "<|eot_id|>");
    }
    if (c->add_assistant_prompt) put_str(w, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

static void render_gemma(writer *w, const conversation *c) {
    put_str(w, "<bos>");
    for (size_t i = first_turn(c); i < c->n; i++) {
        const char *system = system_for_turn(c, i);
        put_str(w, has_role(c, i, "user") ? "<start_of_turn>user\n" : "<start_of_turn>model\n");
        if (system) { /* Gemma 3 keeps the system text as is, trims the turn's own */
            put_str(w, system);
            put_str(w, "\n\n");
        }
        put_stripped(w, c->contents[i], strlen(c->contents[i]));
        put_str(w, "<end_of_turn>\n");
    }
    if (c->add_assistant_prompt) put_str(w, "<start_of_turn>model\n");
}

/* Mistral's [INST] dialects; add_assistant_prompt has no effect because an
 * open "[/INST]" already asks for the answer. spaced: the v1 template puts a
 * space before "[INST]" and before each answer. */
static void render_inst(writer *w, const conversation *c, bool spaced) {
    const char *space = spaced ? " " : "";
    put_str(w, "<s>");
    for (size_t i = first_turn(c); i < c->n; i++) {
        const char *system = system_for_turn(c, i);
        put_str(w, space);
        if (has_role(c, i, "user")) {
            put_str(w, "[INST] ");
            if (system) {
                put_str(w, system);
                put_str(w, "\n\n");
            }
            put_str(w, c->contents[i]);
            put_str(w, " [/INST]");
        } else {
            put_str(w, c->contents[i]);
            put_str(w, "</s>");
        }
    }
}

static void render_mistral_v1(writer *w, const conversation *c) { render_inst(w, c, true); }

static void render_mistral_legacy(writer *w, const conversation *c) { render_inst(w, c, false); }

/* Llama 2 strips the first user turn together with its <<SYS>> block, so an
 * empty message also loses the block's trailing newlines: build, then strip. */
static void render_llama2(writer *w, const conversation *c) {
    smoa_strbuf turn = {0};
    writer turn_w = {&turn, false};
    for (size_t i = first_turn(c); i < c->n && !turn_w.failed; i++) {
        const char *system = system_for_turn(c, i);
        turn.len = 0;
        if (system) {
            put_str(&turn_w, "<<SYS>>\n");
            put_str(&turn_w, system);
            put_str(&turn_w, "\n<</SYS>>\n\n");
        }
        put_str(&turn_w, c->contents[i]);
        bool user = has_role(c, i, "user");
        put_str(w, user ? "<s>[INST] " : " ");
        put_stripped(w, turn.data ? turn.data : "", turn.len);
        put_str(w, user ? " [/INST]" : " </s>");
    }
    if (turn_w.failed) w->failed = true;
    smoa_strbuf_free(&turn);
}

typedef enum chat_dialect {
    DIALECT_NONE,
    DIALECT_CHATML,
    DIALECT_LLAMA3,
    DIALECT_GEMMA,
    DIALECT_MISTRAL_V1,
    DIALECT_MISTRAL_LEGACY,
    DIALECT_LLAMA2
} chat_dialect;

static const struct dialect_info {
    const char *family;
    bool alternating; /* the template raises unless user/assistant alternate */
    void (*render)(writer *, const conversation *);
} DIALECTS[] = {
    [DIALECT_CHATML] = {"chatml", false, render_chatml},
    [DIALECT_LLAMA3] = {"llama3", false, render_llama3},
    [DIALECT_GEMMA] = {"gemma", true, render_gemma},
    [DIALECT_MISTRAL_V1] = {"mistral", true, render_mistral_v1},
    [DIALECT_MISTRAL_LEGACY] = {"mistral", true, render_mistral_legacy},
    [DIALECT_LLAMA2] = {"mistral", true, render_llama2},
};

/* ------------------------------------------------------------------------ */
/* Recognition: the first rule whose markers are all present and whose
 * exclusions are all absent names the dialect. Order matters: Llama 2
 * templates also contain the legacy Mistral markers. */

static const struct dialect_rule {
    chat_dialect dialect;
    const char *required[4];
    const char *excluded[4];
} RULES[] = {
    /* Phi-4 (<|im_sep|>) and SmolVLM (<end_of_utterance>) look like ChatML but are not. */
    {DIALECT_CHATML, {"<|im_start|>", "<|im_end|>"}, {"<|im_sep|>", "<end_of_utterance>"}},
    {DIALECT_LLAMA3, {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}, {0}},
    {DIALECT_GEMMA, {"<start_of_turn>", "<end_of_turn>"}, {0}},
    /* Newer Mistral formats ([SYSTEM_PROMPT], tool calls) render differently. */
    {DIALECT_LLAMA2, {"<<SYS>>", "bos_token + '[INST] '", "content.strip()", " [/INST]"},
     {"[SYSTEM_PROMPT]", "[AVAILABLE_TOOLS]"}},
    {DIALECT_MISTRAL_V1, {"' [INST] '", " [/INST]'", "eos_token"},
     {"<<SYS>>", "[SYSTEM_PROMPT]", "[AVAILABLE_TOOLS]"}},
    {DIALECT_MISTRAL_LEGACY, {"'[INST] '", " [/INST]'", "eos_token"},
     {"<<SYS>>", "[SYSTEM_PROMPT]", "[AVAILABLE_TOOLS]"}},
};

/* A family name given as the template, and the dialect it stands for. */
static const struct {
    const char *name;
    chat_dialect dialect;
} FAMILY_NAMES[] = {
    {"chatml", DIALECT_CHATML},
    {"llama3", DIALECT_LLAMA3},
    {"gemma", DIALECT_GEMMA},
    {"mistral", DIALECT_MISTRAL_V1},
};

static chat_dialect dialect_of_name(const char *template_text) {
    for (size_t i = 0; i < sizeof FAMILY_NAMES / sizeof FAMILY_NAMES[0]; i++)
        if (strcmp(template_text, FAMILY_NAMES[i].name) == 0) return FAMILY_NAMES[i].dialect;
    return DIALECT_NONE;
}

static bool rule_matches(const struct dialect_rule *rule, const char *template_text) {
    for (size_t i = 0; i < 4 && rule->required[i]; i++)
        if (!strstr(template_text, rule->required[i])) return false;
    for (size_t i = 0; i < 4 && rule->excluded[i]; i++)
        if (strstr(template_text, rule->excluded[i])) return false;
    return true;
}

static chat_dialect detect_dialect(const char *template_text) {
    chat_dialect named = dialect_of_name(template_text);
    if (named != DIALECT_NONE) return named;
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (rule_matches(&RULES[i], template_text)) return RULES[i].dialect;
    return DIALECT_NONE;
}

const char *smoa_chat_template_family_of(const char *template_text) {
    if (!template_text) return NULL;
    chat_dialect dialect = detect_dialect(template_text);
    return dialect == DIALECT_NONE ? NULL : DIALECTS[dialect].family;
}

/* ------------------------------------------------------------------------ */
/* Validation, then rendering. */

static smoa_status check_messages(const conversation *c, smoa_error *err) {
    for (size_t i = 0; i < c->n; i++) {
        if (!c->roles[i] || !c->contents[i])
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "chat message %zu: %s is NULL",
                                  i, c->roles[i] ? "content" : "role");
        if (!has_role(c, i, "system") && !has_role(c, i, "user") && !has_role(c, i, "assistant"))
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                  "chat message %zu: unknown role \"%.40s\" (expected system, "
                                  "user or assistant)", i, c->roles[i]);
    }
    return SMOA_OK;
}

/* Gemma and the [INST] templates raise unless, after an optional leading
 * system message, turns alternate user, assistant, user, ... */
static smoa_status check_alternation(const conversation *c, const char *family,
                                     smoa_error *err) {
    const size_t first = first_turn(c);
    for (size_t i = first; i < c->n; i++) {
        const char *expected = (i - first) % 2 == 0 ? "user" : "assistant";
        if (!has_role(c, i, expected))
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                  "chat message %zu: role \"%s\" where the %s template needs "
                                  "\"%s\" (after an optional leading system message, roles "
                                  "must alternate user/assistant)", i, c->roles[i], family,
                                  expected);
    }
    return SMOA_OK;
}

static smoa_status check_arguments(const char *template_text, const char *const *roles,
                                   const char *const *contents, size_t n_messages,
                                   const smoa_strbuf *out, smoa_error *err) {
    if (!template_text || !out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "chat template render: %s is NULL",
                              template_text ? "out" : "template");
    if (n_messages == 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "chat template render: no messages");
    if (!roles || !contents)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "chat template render: %s is NULL",
                              roles ? "contents" : "roles");
    return SMOA_OK;
}

/* Appends the rendering to out, or leaves out as it was when memory runs out. */
static smoa_status render_into(smoa_strbuf *out, const struct dialect_info *info,
                               const conversation *c, smoa_error *err) {
    const size_t start = out->len;
    writer w = {out, false};
    info->render(&w, c);
    if (!w.failed) return SMOA_OK;
    out->len = start; /* strbuf has no truncate: drop the partial turns by hand */
    if (out->data) out->data[start] = '\0';
    return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "chat template render: out of memory");
}

smoa_status smoa_chat_template_render(const char *template_text, const char *const *roles,
                                      const char *const *contents, size_t n_messages,
                                      bool add_assistant_prompt, smoa_strbuf *out,
                                      smoa_error *err) {
    smoa_status st = check_arguments(template_text, roles, contents, n_messages, out, err);
    if (st != SMOA_OK) return st;
    const chat_dialect dialect = detect_dialect(template_text);
    if (dialect == DIALECT_NONE)
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED,
                              "chat template not recognised (known: ChatML, Llama 3, Gemma, "
                              "Mistral [INST] and Llama 2); pass a family name (chatml, llama3, "
                              "gemma, mistral) as the template to choose one");
    const struct dialect_info *info = &DIALECTS[dialect];
    conversation c = {roles, contents, n_messages, add_assistant_prompt, false, ""};
    st = check_messages(&c, err);
    if (st == SMOA_OK && info->alternating) st = check_alternation(&c, info->family, err);
    if (st != SMOA_OK) return st;

    /* A family name carries no default system message; real ChatML text may. */
    smoa_strbuf default_system = {0};
    if (dialect == DIALECT_CHATML && dialect_of_name(template_text) == DIALECT_NONE) {
        st = find_default_system(template_text, &default_system, &c.has_default_system, err);
        if (default_system.data) c.default_system = default_system.data;
    }
    if (st == SMOA_OK) st = render_into(out, info, &c, err);
    smoa_strbuf_free(&default_system);
    return st;
}
