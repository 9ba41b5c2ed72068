/* test_prompts.c - the prompt builders (every response present, numbering,
 * k, clipping at UTF-8 boundaries) and the parser of model-written roles on
 * messy outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agents/prompts.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static bool contains(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Whether s is valid UTF-8 (structure only; enough to catch a cut
 * sequence). */
static bool valid_utf8(const char *s, size_t len) {
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || i + n > len) return false;
        for (size_t j = 1; j < n; j++)
            if (((unsigned char)s[i + j] & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Default roles                                                            */

static void test_default_roles(void **state) {
    (void)state;
    size_t n = 0;
    const char *const *roles = smoa_prompt_default_roles(&n);
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(roles[i]);
        assert_true(len > 20);
        assert_true(starts_with(roles[i], "You are "));
        /* one sentence: a full stop at the end and nowhere else */
        assert_int_equal(roles[i][len - 1], '.');
        assert_ptr_equal(strchr(roles[i], '.'), roles[i] + len - 1);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(roles[i], roles[j]);
    }
}

/* ------------------------------------------------------------------------ */
/* Role request and parser                                                  */

static void test_role_request(void **state) {
    (void)state;
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_role_request(&sb, "  Grade-school math word problems.\n", 4));
    assert_true(starts_with(sb.data, "Task: Grade-school math word problems.\n\n"));
    assert_true(contains(sb.data, "Write 4 different expert personas"));
    assert_true(contains(sb.data, "\"You are\""));
    assert_true(contains(sb.data, "one persona per line"));
    smoa_strbuf_free(&sb);

    assert_true(smoa_prompt_role_request(&sb, NULL, 1));
    assert_true(contains(sb.data, "Write 1 expert persona "));
    smoa_strbuf_free(&sb);
}

typedef struct roles_case {
    const char *name;
    const char *text;
    size_t max;
    size_t n_expected;
    const char *expected[5];
} roles_case;

static const roles_case roles_cases[] = {
    {"numbered", "1. You are a chef.\n2. You are a nurse.\n3. You are a pilot.\n4. You are a judge.", 4, 4,
     {"You are a chef.", "You are a nurse.", "You are a pilot.", "You are a judge."}},
    {"bullets", "- You are a chef.\n* You are a nurse.\n\xE2\x80\xA2 You are a pilot.\n+ You are a judge.", 4, 4,
     {"You are a chef.", "You are a nurse.", "You are a pilot.", "You are a judge."}},
    {"chatter around the list",
     "Sure! Here are 3 personas:\n\n1. You are a chef who loves spice.\n2. You are a nurse.\n"
     "3. You are a pilot.\n\nI hope these help!",
     3, 3, {"You are a chef who loves spice.", "You are a nurse.", "You are a pilot."}},
    {"fewer than asked", "1. You are a chef.\n2. You are a nurse.", 4, 2, {"You are a chef.", "You are a nurse."}},
    {"more than asked", "1) You are a chef.\n2) You are a nurse.\n3) You are a pilot.\n4) You are a judge.\n"
     "5) You are a poet.",
     3, 3, {"You are a chef.", "You are a nurse.", "You are a pilot."}},
    {"empty", "", 4, 0, {NULL}},
    {"blank lines only", " \n\n\t\r\n", 4, 0, {NULL}},
    {"chatter only", "I cannot help with that.", 4, 1, {"I cannot help with that."}},
    {"quoted lines", "\"You are a chef.\"\n'You are a nurse.'\n\xE2\x80\x9CYou are a pilot.\xE2\x80\x9D", 4, 3,
     {"You are a chef.", "You are a nurse.", "You are a pilot."}},
    {"one-line list", "Personas: [\"You are a chef.\", \"You are a nurse.\"]", 4, 2,
     {"You are a chef.", "You are a nurse."}},
    {"one-line list alone", "[\"You are a chef.\", \"You are a nurse.\", \"You are a pilot.\"]", 4, 3,
     {"You are a chef.", "You are a nurse.", "You are a pilot."}},
    {"multi-line list", "[\n  \"You are a chef.\",\n  \"You are a nurse.\",\n]", 4, 2,
     {"You are a chef.", "You are a nurse."}},
    {"bold labels", "**Persona 1:** You are a baker.\n**Persona 2:** You are a judge.\n**Role 3 -** You are a monk.",
     4, 3, {"You are a baker.", "You are a judge.", "You are a monk."}},
    {"CRLF, (1) and blank lines", "(1) You are a chef.\r\n\r\n(2) You are a nurse.\r\n", 4, 2,
     {"You are a chef.", "You are a nurse."}},
    {"plain lines and a header", "Here you go:\nA chemist who loves precision.\nA poet with a dreamy view.", 4, 2,
     {"A chemist who loves precision.", "A poet with a dreamy view."}},
    {"duplicates", "1. You are a chef.\n2. you are a CHEF.\n3. You are a nurse.", 4, 2,
     {"You are a chef.", "You are a nurse."}},
    {"number alone, role below", "1.\nYou are a chef.\n2.\nYou are a nurse.", 4, 2,
     {"You are a chef.", "You are a nurse."}},
    {"unnumbered role among numbered", "Personas:\n1. You are a chef.\nYou are a nurse.\n2. You are a pilot.\nEnjoy!",
     4, 3, {"You are a chef.", "You are a nurse.", "You are a pilot."}},
    {"number-like text is no marker", "3.5 stars is a rating for a hotel critic.", 4, 1,
     {"3.5 stars is a rating for a hotel critic."}},
    {"another script", "1. \xE4\xBD\xA0\xE6\x98\xAF\xE5\x8C\xBB\xE7\x94\x9F\n2. Tu es un m\xC3\xA9" "decin.", 4, 2,
     {"\xE4\xBD\xA0\xE6\x98\xAF\xE5\x8C\xBB\xE7\x94\x9F", "Tu es un m\xC3\xA9" "decin."}},
    {"trailing comma and bold", "- **You are a chef.**,\n- __You are a nurse.__", 4, 2,
     {"You are a chef.", "You are a nurse."}},
};

static void check_roles_case(const roles_case *c) {
    char *roles[8] = {0};
    size_t n = 99;
    assert_true(smoa_prompt_parse_roles(c->text, c->max, roles, &n));
    if (n != c->n_expected) fail_msg("roles case \"%s\": %zu roles, want %zu", c->name, n, c->n_expected);
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i], c->expected[i]) != 0)
            fail_msg("roles case \"%s\": role %zu is \"%s\", want \"%s\"", c->name, i, roles[i], c->expected[i]);
    smoa_prompt_free_roles(roles, n);
}

static void test_parse_roles_messy(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof roles_cases / sizeof roles_cases[0]; i++) check_roles_case(&roles_cases[i]);
}

static void test_parse_roles_limits(void **state) {
    (void)state;
    char *roles[2] = {0};
    size_t n = 99;
    assert_true(smoa_prompt_parse_roles(NULL, 2, roles, &n));
    assert_int_equal(n, 0);
    assert_true(smoa_prompt_parse_roles("1. You are a chef.", 0, roles, &n));
    assert_int_equal(n, 0);

    /* a runaway line is cut at a character boundary */
    char line[2000] = "1. You are ";
    while (strlen(line) + 3 < sizeof line) strcat(line, "\xC3\xA9"); /* U+00E9, 2 bytes */
    assert_true(smoa_prompt_parse_roles(line, 2, roles, &n));
    assert_int_equal(n, 1);
    size_t len = strlen(roles[0]);
    assert_true(len <= SMOA_PROMPT_ROLE_MAX_BYTES && len >= SMOA_PROMPT_ROLE_MAX_BYTES - 1);
    assert_true(valid_utf8(roles[0], len));
    smoa_prompt_free_roles(roles, n);
    assert_null(roles[0]);
}

/* ------------------------------------------------------------------------ */
/* Synthesis                                                                */

static const char *const three[] = {"  Paris.\n", "It is Lyon", "Marseille, surely."};

static void test_synthesis(void **state) {
    (void)state;
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_synthesis(&sb, NULL, three, 3, 0));
    assert_true(starts_with(sb.data, "Below are responses"));
    assert_true(contains(sb.data, "wrong or biased"));
    assert_true(contains(sb.data, "\n\nResponse 1:\nParis.\n\nResponse 2:\nIt is Lyon\n\nResponse 3:\nMarseille, surely."));
    assert_false(contains(sb.data, "Response 0:"));
    assert_false(contains(sb.data, "Response 4:"));
    /* the response text ends the message: nothing after the last one */
    assert_true(sb.len >= strlen("surely.") && strcmp(sb.data + sb.len - strlen("surely."), "surely.") == 0);
    smoa_strbuf_free(&sb);

    /* the role comes first; an empty role counts as none */
    assert_true(smoa_prompt_synthesis(&sb, "You are a careful geographer.", three, 3, 0));
    assert_true(starts_with(sb.data, "You are a careful geographer.\n\nBelow are responses"));
    smoa_strbuf_free(&sb);
    assert_true(smoa_prompt_synthesis(&sb, "", three, 3, 0));
    assert_true(starts_with(sb.data, "Below are responses"));
    smoa_strbuf_free(&sb);

    /* appends to what the buffer holds; empty responses stay numbered */
    const char *blank[] = {"", NULL, " \n"};
    assert_true(smoa_strbuf_append_str(&sb, "PREFIX|"));
    assert_true(smoa_prompt_synthesis(&sb, NULL, blank, 3, 0));
    assert_true(starts_with(sb.data, "PREFIX|Below are responses"));
    assert_true(contains(sb.data, "Response 1:\n" SMOA_PROMPT_EMPTY_RESPONSE "\n\nResponse 2:\n"
                                  SMOA_PROMPT_EMPTY_RESPONSE "\n\nResponse 3:\n" SMOA_PROMPT_EMPTY_RESPONSE));
    smoa_strbuf_free(&sb);
}

/* The text quoted after "Response 1:\n" in a one-response synthesis. */
static const char *quoted_response(const smoa_strbuf *sb) {
    const char *at = strstr(sb->data, "Response 1:\n");
    assert_non_null(at);
    return at + strlen("Response 1:\n");
}

static void test_clipping_at_utf8_boundaries(void **state) {
    (void)state;
    /* 1-, 2-, 3- and 4-byte characters */
    const char *text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E" "bc\xC3\xA9\xF0\x9D\x84\x9E" "d";
    const char *responses[] = {text};
    size_t len = strlen(text);
    for (size_t max = 1; max <= len + 1; max++) {
        smoa_strbuf sb = {0};
        assert_true(smoa_prompt_synthesis(&sb, NULL, responses, 1, max));
        const char *quoted = quoted_response(&sb);
        size_t quoted_len = strlen(quoted);
        if (max >= len) {
            assert_string_equal(quoted, text);
        } else {
            size_t marker = strlen(SMOA_PROMPT_CLIP_MARKER);
            assert_true(quoted_len >= marker);
            size_t kept = quoted_len - marker;
            assert_string_equal(quoted + kept, SMOA_PROMPT_CLIP_MARKER);
            assert_true(kept <= max && kept + 3 >= max); /* backs off at most 3 bytes */
            assert_memory_equal(quoted, text, kept);
            assert_true(valid_utf8(quoted, kept));
        }
        smoa_strbuf_free(&sb);
    }

    /* a cut after a space drops the space before the marker */
    const char *words[] = {"hello world"};
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_synthesis(&sb, NULL, words, 1, 6));
    assert_string_equal(quoted_response(&sb), "hello" SMOA_PROMPT_CLIP_MARKER);
    smoa_strbuf_free(&sb);
}

/* ------------------------------------------------------------------------ */
/* Judge                                                                    */

static const char *const four[] = {"Paris", "Lyon", "Paris, France", "Nice"};

static void test_judge_both(void **state) {
    (void)state;
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_judge(&sb, SMOA_JUDGE_ASK_BOTH, "Capital of France?", four, 4, 2, 0));
    assert_true(starts_with(sb.data, "Question:\nCapital of France?\n\n"));
    assert_true(contains(sb.data, "Response 0:\nParis\n\nResponse 1:\nLyon\n\nResponse 2:\nParis, France\n\n"
                                  "Response 3:\nNice\n\n"));
    assert_false(contains(sb.data, "Response 4:"));
    assert_true(contains(sb.data, "correctness, fluency, relevance and quality"));
    assert_true(contains(sb.data, "the 2 best responses"));
    assert_true(contains(sb.data, "{\"selected\": [a, b], \"end\": false}"));
    assert_true(contains(sb.data, "exactly 2 response numbers (0 to 3)"));
    assert_true(contains(sb.data, "already agree"));
    assert_true(contains(sb.data, "First give your reasons"));
    /* the instruction comes after the material */
    assert_true(strstr(sb.data, "Judge the responses") > strstr(sb.data, "Response 3:"));
    smoa_strbuf_free(&sb);
}

static void test_judge_variants_and_k(void **state) {
    (void)state;
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_judge(&sb, SMOA_JUDGE_ASK_SELECT, "Q?", four, 4, 2, 0));
    assert_true(contains(sb.data, "{\"selected\": [a, b]}"));
    assert_false(contains(sb.data, "\"end\""));
    assert_false(contains(sb.data, "agree"));
    smoa_strbuf_free(&sb);

    assert_true(smoa_prompt_judge(&sb, SMOA_JUDGE_ASK_END, "Q?", four, 4, 2, 0));
    assert_true(contains(sb.data, "Response 3:\nNice"));
    assert_true(contains(sb.data, "{\"end\": true}"));
    assert_true(contains(sb.data, "{\"end\": false}"));
    assert_false(contains(sb.data, "selected"));
    smoa_strbuf_free(&sb);

    assert_true(smoa_prompt_judge(&sb, SMOA_JUDGE_ASK_BOTH, "Q?", four, 4, 1, 0));
    assert_true(contains(sb.data, "choose the best response."));
    assert_true(contains(sb.data, "[a], \"end\""));
    assert_true(contains(sb.data, "exactly 1 response number (0 to 3)"));
    smoa_strbuf_free(&sb);

    const char *six[] = {"1", "2", "3", "4", "5", "6"};
    assert_true(smoa_prompt_judge(&sb, SMOA_JUDGE_ASK_SELECT, "Q?", six, 6, 5, 0));
    assert_true(contains(sb.data, "[a, b, c, ...]"));
    assert_true(contains(sb.data, "exactly 5 response numbers (0 to 5)"));
    assert_true(contains(sb.data, "Response 5:\n6"));
    smoa_strbuf_free(&sb);
}

static void test_judge_clips_responses(void **state) {
    (void)state;
    const char *long_ones[] = {"abcdefghij", "short"};
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_judge(&sb, SMOA_JUDGE_ASK_BOTH, "Q?", long_ones, 2, 1, 4));
    assert_true(contains(sb.data, "Response 0:\nabcd" SMOA_PROMPT_CLIP_MARKER "\n\n"));
    assert_true(contains(sb.data, "Response 1:\nshor" SMOA_PROMPT_CLIP_MARKER "\n\n"));
    smoa_strbuf_free(&sb);
}

/* ------------------------------------------------------------------------ */
/* Scoring judge                                                            */

static void test_score_prompt_and_verdicts(void **state) {
    (void)state;
    smoa_strbuf sb = {0};
    assert_true(smoa_prompt_score(&sb, "What is 2 + 2?", " 4 \n", 0));
    assert_string_equal(sb.data, "Question:\nWhat is 2 + 2?\n\nResponse:\n4\n\n"
                                 "Is this response correct and helpful? Answer with one word: Yes or No.");
    smoa_strbuf_free(&sb);
    assert_true(smoa_prompt_score(&sb, "Q?", "a long answer", 6));
    assert_true(contains(sb.data, "Response:\na long" SMOA_PROMPT_CLIP_MARKER "\n\n"));
    smoa_strbuf_free(&sb);

    size_t n = 0;
    const char *const *yes = smoa_prompt_verdict_words(SMOA_VERDICT_YES, &n);
    assert_int_equal(n, 2);
    assert_string_equal(yes[0], "Yes");
    assert_string_equal(yes[1], " Yes");
    const char *const *no = smoa_prompt_verdict_words(SMOA_VERDICT_NO, &n);
    assert_int_equal(n, 2);
    assert_string_equal(no[0], "No");
    assert_string_equal(no[1], " No");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_roles),
        cmocka_unit_test(test_role_request),
        cmocka_unit_test(test_parse_roles_messy),
        cmocka_unit_test(test_parse_roles_limits),
        cmocka_unit_test(test_synthesis),
        cmocka_unit_test(test_clipping_at_utf8_boundaries),
        cmocka_unit_test(test_judge_both),
        cmocka_unit_test(test_judge_variants_and_k),
        cmocka_unit_test(test_judge_clips_responses),
        cmocka_unit_test(test_score_prompt_and_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
