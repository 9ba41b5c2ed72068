/* test_chat_template.c - chat template recognition and rendering.
 *
 * Golden vectors: tests/data/chat/vectors.txt holds conversations rendered by
 * Jinja2 through real model templates (scripts/make_chat_vectors.py). Every
 * case must render byte for byte the same, appended to what the buffer held,
 * or fail with SMOA_ERR_INVALID_ARGUMENT (buffer untouched) where the real
 * template raises. Table-driven tests cover recognition, unknown templates,
 * bad roles and NULL arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/chat_template.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CHAT_DATA SMOA_TEST_DATA "/chat/"
#define MAX_MESSAGES 32
#define MAX_REPORTED_FAILURES 10

/* ------------------------------------------------------------------------ */
/* Files and the escaped text of vectors.txt */

static char *read_whole_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    smoa_strbuf sb = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_true(smoa_strbuf_append(&sb, chunk, n));
    fclose(f);
    assert_true(smoa_strbuf_append(&sb, "", 0)); /* NUL-terminated even when empty */
    return sb.data;
}

static char *copy_span(const char *start, const char *end) {
    char *copy = malloc((size_t)(end - start) + 1);
    assert_non_null(copy);
    memcpy(copy, start, (size_t)(end - start));
    copy[end - start] = '\0';
    return copy;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    fail_msg("bad hex digit '%c' in vectors.txt", c);
    return 0;
}

/* Undoes the script's escaping (\\ \n \r \t \xHH); returns a malloc'd string. */
static char *unescape(const char *s) {
    char *out = malloc(strlen(s) + 1);
    assert_non_null(out);
    char *o = out;
    while (*s) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        switch (s[1]) {
        case '\\': *o++ = '\\'; s += 2; break;
        case 'n': *o++ = '\n'; s += 2; break;
        case 'r': *o++ = '\r'; s += 2; break;
        case 't': *o++ = '\t'; s += 2; break;
        case 'x': *o++ = (char)(hex_value(s[2]) * 16 + hex_value(s[3])); s += 4; break;
        default: fail_msg("bad escape in vectors.txt: %.8s", s);
        }
    }
    *o = '\0';
    return out;
}

/* ------------------------------------------------------------------------ */
/* Golden vectors */

typedef struct vector_template {
    char name[64];
    char family[16];
    int same_as_family_name;
    char *text;
} vector_template;

typedef struct vector_case {
    char id[64];
    int prompt;
    size_t n;
    char *roles[MAX_MESSAGES];
    char *contents[MAX_MESSAGES];
} vector_case;

typedef struct vector_run {
    vector_template tmpl;
    vector_case c;
    size_t n_templates, n_cases, n_failures;
} vector_run;

static void clear_case(vector_case *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->roles[i]);
        free(c->contents[i]);
    }
    memset(c, 0, sizeof *c);
}

static void report_failure(vector_run *run, const char *how, const char *detail) {
    if (++run->n_failures <= MAX_REPORTED_FAILURES)
        print_message("[%s] case %s (prompt %d): %s\n%s\n", run->tmpl.name, run->c.id,
                      run->c.prompt, how, detail);
}

/* Renders the current case with template_text after a prefix, and compares
 * with the expectation: a rendering, or (expected == NULL) a refusal. */
static void check_case(vector_run *run, const char *template_text, const char *expected) {
    static const char prefix[] = "prefix:";
    smoa_strbuf out = {0};
    smoa_error err = {0};
    assert_true(smoa_strbuf_append_str(&out, prefix));
    smoa_status st = smoa_chat_template_render(template_text, (const char *const *)run->c.roles,
                                               (const char *const *)run->c.contents, run->c.n,
                                               run->c.prompt != 0, &out, &err);
    const char *rendered = out.data + strlen(prefix);
    if (expected && st != SMOA_OK) {
        report_failure(run, "failed", err.message);
    } else if (expected && strcmp(rendered, expected) != 0) {
        smoa_strbuf both = {0};
        assert_true(smoa_strbuf_append_str(&both, "expected: ") &&
                    smoa_strbuf_append_str(&both, expected) &&
                    smoa_strbuf_append_str(&both, "\ngot:      ") &&
                    smoa_strbuf_append_str(&both, rendered));
        report_failure(run, "differs", both.data);
        smoa_strbuf_free(&both);
    } else if (!expected && (st != SMOA_ERR_INVALID_ARGUMENT || strcmp(out.data, prefix) != 0)) {
        report_failure(run, "should be refused like the real template", rendered);
    } else if (!expected && err.message[0] == '\0') {
        report_failure(run, "refused without a message", "");
    }
    smoa_strbuf_free(&out);
}

static void check_case_both_ways(vector_run *run, const char *expected) {
    run->n_cases++;
    check_case(run, run->tmpl.text, expected);
    if (run->tmpl.same_as_family_name) check_case(run, run->tmpl.family, expected);
}

static void start_template(vector_run *run, const char *args) {
    free(run->tmpl.text);
    memset(&run->tmpl, 0, sizeof run->tmpl);
    assert_int_equal(sscanf(args, "%63s %15s %d", run->tmpl.name, run->tmpl.family,
                            &run->tmpl.same_as_family_name), 3);
    char path[512];
    snprintf(path, sizeof path, CHAT_DATA "%s.template", run->tmpl.name);
    run->tmpl.text = read_whole_file(path);
    run->n_templates++;
    const char *family = smoa_chat_template_family_of(run->tmpl.text);
    if (!family || strcmp(family, run->tmpl.family) != 0)
        report_failure(run, "recognised as", family ? family : "(nothing)");
}

static void add_message(vector_run *run, const char *args) {
    const char *space = strchr(args, ' ');
    assert_non_null(space);
    assert_true(run->c.n < MAX_MESSAGES);
    run->c.roles[run->c.n] = copy_span(args, space);
    run->c.contents[run->c.n] = unescape(space + 1);
    run->c.n++;
}

static void run_vector_line(vector_run *run, const char *keyword, const char *args) {
    if (strcmp(keyword, "template") == 0) {
        start_template(run, args);
    } else if (strcmp(keyword, "case") == 0) {
        clear_case(&run->c);
        assert_int_equal(sscanf(args, "%63s %d", run->c.id, &run->c.prompt), 2);
    } else if (strcmp(keyword, "msg") == 0) {
        add_message(run, args);
    } else if (strcmp(keyword, "expect") == 0) {
        char *expected = unescape(args);
        check_case_both_ways(run, expected);
        free(expected);
    } else if (strcmp(keyword, "raises") == 0) {
        check_case_both_ways(run, NULL);
    } else if (strcmp(keyword, "skip") != 0) {
        fail_msg("unknown line in vectors.txt: %s %s", keyword, args);
    }
}

static void test_golden_vectors(void **state) {
    (void)state;
    char *file = read_whole_file(CHAT_DATA "vectors.txt");
    vector_run run = {0};
    for (char *line = file; *line;) {
        char *end = strchr(line, '\n');
        char *next = end ? end + 1 : line + strlen(line);
        if (end) *end = '\0';
        if (*line && *line != '#') {
            char *space = strchr(line, ' ');
            if (space) *space = '\0';
            run_vector_line(&run, line, space ? space + 1 : "");
        }
        line = next;
    }
    clear_case(&run.c);
    free(run.tmpl.text);
    free(file);
    print_message("%zu templates, %zu cases, %zu failures\n", run.n_templates, run.n_cases,
                  run.n_failures);
    assert_true(run.n_templates >= 9);
    assert_true(run.n_cases >= 200);
    assert_int_equal(run.n_failures, 0);
}

/* ------------------------------------------------------------------------ */
/* Recognition */

static void test_recognises_families(void **state) {
    (void)state;
    static const struct {
        const char *label, *text, *family;
    } cases[] = {
        {"family name chatml", "chatml", "chatml"},
        {"family name llama3", "llama3", "llama3"},
        {"family name gemma", "gemma", "gemma"},
        {"family name mistral", "mistral", "mistral"},
        {"names are exact", "ChatML", NULL},
        {"names are exact (space)", "chatml ", NULL},
        {"no llama2 name", "llama2", NULL},
        {"empty", "", NULL},
        {"llama 3.1 (date header not reproduced)",
         "{{- bos_token }}{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}"
         "{{- \"Cutting Knowledge Date: December 2023\\n\" }}{{- \"<|eot_id|>\" }}",
         "llama3"},
        {"phi-4 is not chatml",
         "{{'<|im_start|>' + message['role'] + '<|im_sep|>' + message['content'] + '<|im_end|>'}}",
         NULL},
        {"smolvlm is not chatml", "<|im_start|>User:{{ m }}<end_of_utterance>\n<|im_end|>", NULL},
        {"mistral v7",
         "{{ '[SYSTEM_PROMPT]' + s + '[/SYSTEM_PROMPT]' }}{{ '[INST]' + c + '[/INST]' }}", NULL},
        {"mistral v3 with tools",
         "{{- '[AVAILABLE_TOOLS] [' }}{{- '[INST] ' + message['content'] + ' [/INST]' }}"
         "{{- ' ' + message['content'] + eos_token }}",
         NULL},
        {"llama2 variant without a bos per turn",
         "{% set content = '<<SYS>>\\n' + s + '\\n<</SYS>>\\n\\n' + c %}"
         "{{ '[INST] ' + content.strip() + ' [/INST]' }}"
         "{{ ' ' + content.strip() + ' ' + eos_token }}",
         NULL},
        {"zephyr", "{{ '<|user|>\\n' + message['content'] + eos_token }}", NULL},
        {"alpaca", "### Instruction:\n{{ message['content'] }}\n### Response:", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = smoa_chat_template_family_of(cases[i].text);
        if (!cases[i].family ? got != NULL : !got || strcmp(got, cases[i].family) != 0)
            fail_msg("%s: expected %s, got %s", cases[i].label,
                     cases[i].family ? cases[i].family : "NULL", got ? got : "NULL");
    }
    assert_null(smoa_chat_template_family_of(NULL));
}

/* ------------------------------------------------------------------------ */
/* Refusals */

static const char *const ONE_ROLE[] = {"user"};
static const char *const ONE_CONTENT[] = {"Hello"};

static void expect_refusal(smoa_status expected, const char *template_text,
                           const char *const *roles, const char *const *contents, size_t n,
                           const char *message_part) {
    smoa_strbuf out = {0};
    smoa_error err = {0};
    assert_int_equal(smoa_chat_template_render(template_text, roles, contents, n, true, &out, &err),
                     expected);
    assert_int_equal(err.status, expected);
    if (!strstr(err.message, message_part))
        fail_msg("message \"%s\" does not mention \"%s\"", err.message, message_part);
    assert_int_equal(out.len, 0);
    smoa_strbuf_free(&out);
}

static void test_unknown_template_is_unsupported(void **state) {
    (void)state;
    static const char *const unknown[] = {
        "{{ '<|user|>\\n' + message['content'] + eos_token }}",
        "",
        "{{ '[SYSTEM_PROMPT]' }}{{ '[INST]' + c + '[/INST]' }}",
    };
    for (size_t i = 0; i < ARRAY_LEN(unknown); i++)
        expect_refusal(SMOA_ERR_UNSUPPORTED, unknown[i], ONE_ROLE, ONE_CONTENT, 1,
                       "not recognised");
}

static void test_rejects_bad_roles(void **state) {
    (void)state;
    static const struct {
        const char *roles[3];
        const char *message_part;
    } cases[] = {
        {{"user", "tool", "user"}, "message 1: unknown role \"tool\""},
        {{"System", "user", "assistant"}, "message 0: unknown role \"System\""},
        {{"user", "assistant", ""}, "message 2: unknown role \"\""},
        {{"user ", "assistant", "user"}, "message 0: unknown role \"user \""},
    };
    static const char *const contents[] = {"a", "b", "c"};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        expect_refusal(SMOA_ERR_INVALID_ARGUMENT, "chatml", cases[i].roles, contents, 3,
                       cases[i].message_part);
}

static void test_alternation_errors_name_the_message(void **state) {
    (void)state;
    static const char *const roles[] = {"system", "user", "user"};
    static const char *const contents[] = {"s", "a", "b"};
    static const char *const strict[] = {"gemma", "mistral"};
    for (size_t i = 0; i < ARRAY_LEN(strict); i++)
        expect_refusal(SMOA_ERR_INVALID_ARGUMENT, strict[i], roles, contents, 3,
                       "message 2: role \"user\"");
}

static void test_rejects_null_arguments(void **state) {
    (void)state;
    static const char *const null_role[] = {"user", NULL};
    static const char *const null_content[] = {NULL, "x"};
    static const char *const two_roles[] = {"user", "assistant"};
    static const char *const two_contents[] = {"a", "b"};
    expect_refusal(SMOA_ERR_INVALID_ARGUMENT, NULL, ONE_ROLE, ONE_CONTENT, 1, "template is NULL");
    expect_refusal(SMOA_ERR_INVALID_ARGUMENT, "chatml", NULL, ONE_CONTENT, 1, "roles is NULL");
    expect_refusal(SMOA_ERR_INVALID_ARGUMENT, "chatml", ONE_ROLE, NULL, 1, "contents is NULL");
    expect_refusal(SMOA_ERR_INVALID_ARGUMENT, "chatml", ONE_ROLE, ONE_CONTENT, 0, "no messages");
    expect_refusal(SMOA_ERR_INVALID_ARGUMENT, "chatml", null_role, two_contents, 2,
                   "message 1: role is NULL");
    expect_refusal(SMOA_ERR_INVALID_ARGUMENT, "chatml", two_roles, null_content, 2,
                   "message 0: content is NULL");

    smoa_error err = {0};
    assert_int_equal(
        smoa_chat_template_render("chatml", ONE_ROLE, ONE_CONTENT, 1, true, NULL, &err),
        SMOA_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "out is NULL"));
    /* err itself is optional */
    assert_int_equal(smoa_chat_template_render("chatml", NULL, NULL, 1, true, NULL, NULL),
                     SMOA_ERR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------ */
/* The default system message of ChatML templates */

static void expect_rendering(const char *template_text, const char *expected) {
    smoa_strbuf out = {0};
    smoa_error err = {0};
    assert_int_equal(smoa_chat_template_render(template_text, ONE_ROLE, ONE_CONTENT, 1, false,
                                               &out, &err),
                     SMOA_OK);
    assert_string_equal(out.data, expected);
    smoa_strbuf_free(&out);
}

static void test_default_system_comes_from_a_template_literal(void **state) {
    (void)state;
    static const char turn[] = "<|im_start|>user\nHello<|im_end|>\n";
    static const struct {
        const char *label, *template_text, *system;
    } cases[] = {
        {"escapes decoded, double quotes",
         "{% if messages[0]['role'] != 'system' %}"
         "{{ \"<|im_start|>system\\nSay \\\"hi\\\" \\u00e9\\x21\\tok<|im_end|>\\n\" }}{% endif %}"
         "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}",
         "Say \"hi\" \xc3\xa9!\tok"},
        {"empty default system is still a system turn",
         "{{ '<|im_start|>system\\n<|im_end|>\\n' }}{{ '<|im_start|>' }}",
         ""},
        {"open and end in different literals: no default",
         "{{ '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
         NULL},
        {"text outside tags and comments is not a literal",
         "<|im_start|>system\n'No'<|im_end|>\n{# '<|im_start|>system\\nNo<|im_end|>' #}"
         "{{ '<|im_start|>' }}",
         NULL},
        {"unknown escapes kept",
         "{{ '<|im_start|>system\\nC:\\\\dir \\q<|im_end|>\\n' }}",
         "C:\\dir \\q"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        smoa_strbuf expected = {0};
        if (cases[i].system)
            assert_true(smoa_strbuf_append_str(&expected, "<|im_start|>system\n") &&
                        smoa_strbuf_append_str(&expected, cases[i].system) &&
                        smoa_strbuf_append_str(&expected, "<|im_end|>\n"));
        assert_true(smoa_strbuf_append_str(&expected, turn));
        print_message("%s\n", cases[i].label);
        expect_rendering(cases[i].template_text, expected.data);
        smoa_strbuf_free(&expected);
    }
    /* A family name never carries one. */
    expect_rendering("chatml", turn);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vectors),
        cmocka_unit_test(test_recognises_families),
        cmocka_unit_test(test_unknown_template_is_unsupported),
        cmocka_unit_test(test_rejects_bad_roles),
        cmocka_unit_test(test_alternation_errors_name_the_message),
        cmocka_unit_test(test_rejects_null_arguments),
        cmocka_unit_test(test_default_system_comes_from_a_template_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
