/* test_judge_parse.c - the judge / moderator answer parser.
 *
 * A table of model answers, each with the selection, end flag, events,
 * reading method and reasoning it must give. Where the rules draw at random
 * the table gives the set the draw comes from; every such draw is also
 * checked to be k distinct valid indices and to repeat with the same seed.
 * Then: seeds, argument checks, bounds (long reasoning, long lists, deep
 * nesting, numbers beyond double), the format helper, the names, and a
 * property loop over random texts: whatever the bytes, the result holds
 * distinct in-range ascending indices, valid UTF-8 text, and is the same on
 * a second call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/judge_parse.h"
#include "core/rng.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum {
    BOTH = SMOA_JUDGE_EXPECT_BOTH,
    SEL = SMOA_JUDGE_EXPECT_SELECTION,
    END = SMOA_JUDGE_EXPECT_END
};
enum {
    E_UNPARSABLE = SMOA_JUDGE_EVENT_UNPARSABLE,
    E_EMPTY = SMOA_JUDGE_EVENT_EMPTY,
    E_ONE_BASED = SMOA_JUDGE_EVENT_ONE_BASED,
    E_RANGE = SMOA_JUDGE_EVENT_OUT_OF_RANGE,
    E_DUPS = SMOA_JUDGE_EVENT_DUPLICATES,
    E_MANY = SMOA_JUDGE_EVENT_TOO_MANY,
    E_FEWER = SMOA_JUDGE_EVENT_FEWER,
    E_NO_END = SMOA_JUDGE_EVENT_END_MISSING
};
enum {
    M_NONE = SMOA_JUDGE_METHOD_NONE,
    M_JSON = SMOA_JUDGE_METHOD_JSON,
    M_REPAIRED = SMOA_JUDGE_METHOD_REPAIRED,
    M_SCAN = SMOA_JUDGE_METHOD_KEY_SCAN
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static smoa_judge_params params_of(int32_t n, int32_t k, unsigned fields, uint64_t seed) {
    smoa_judge_params p = {.n = n, .k = k, .seed = seed, .fields = fields};
    return p;
}

static void parse_ok(const char *text, size_t len, const smoa_judge_params *p,
                     smoa_judge_result *r) {
    smoa_error err = {0};
    smoa_status st = smoa_judge_parse(text, len, p, r, &err);
    if (st != SMOA_OK) fail_msg("smoa_judge_parse: %s", err.message);
}

/* Bytes of the UTF-8 character led by c, 0 for a byte that cannot lead. */
static size_t lead_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 0;
}

/* Structure only (lead byte and continuation bytes): the parser's own
 * check is stricter, this one is independent of it. */
static bool valid_utf8(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t n = lead_len(*u);
        if (n == 0) return false;
        for (size_t i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80) return false;
        u += n;
    }
    return true;
}

static bool nul_terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

/* What must hold for any text: with a selection expected, 1..min(k, n)
 * distinct ascending indices in [0, n); terminated, valid UTF-8 text. */
static void check_invariants(const smoa_judge_params *p, const smoa_judge_result *r) {
    int32_t target = p->k < p->n ? p->k : p->n;
    if (p->fields & SMOA_JUDGE_EXPECT_SELECTION) {
        assert_in_range(r->n_chosen, 1, target);
        for (int32_t i = 0; i < r->n_chosen; i++) {
            assert_in_range(r->chosen[i], 0, p->n - 1);
            if (i > 0) assert_true(r->chosen[i - 1] < r->chosen[i]);
        }
    } else {
        assert_int_equal(r->n_chosen, 0);
    }
    if (!(p->fields & SMOA_JUDGE_EXPECT_END)) assert_false(r->end);
    assert_true(nul_terminated(r->reasoning, sizeof r->reasoning));
    assert_true(nul_terminated(r->note, sizeof r->note));
    assert_true(valid_utf8(r->reasoning));
    assert_true(r->note[0] != '\0');
}

static bool contains(const int32_t *set, int32_t n, int32_t v) {
    for (int32_t i = 0; i < n; i++)
        if (set[i] == v) return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */

typedef struct judge_case {
    const char *name;
    const char *text;
    size_t len;        /* 0: strlen(text)                                  */
    int32_t n, k;      /* 0: the defaults 4 and 2                          */
    unsigned fields;   /* 0: both                                          */
    int32_t chosen[8]; /* expected, ascending, when not drawn at random    */
    int32_t n_chosen;
    bool random;       /* drawn at random from pool (all of [0, n) if empty) */
    int32_t pool[8];
    int32_t n_pool;
    bool end;
    unsigned events;
    int method;
    const char *reasoning; /* exact expected reasoning, or NULL: unchecked */
} judge_case;

static const judge_case cases[] = {
    /* Clean answers */
    {.name = "clean json",
     .text = "{\"reasoning\": \"0 and 2 are correct\", \"selected\": [0, 2], \"end\": false}",
     .chosen = {0, 2}, .n_chosen = 2, .method = M_JSON, .reasoning = "0 and 2 are correct"},
    {.name = "model order is not kept: ascending",
     .text = "{\"selected\": [3, 1], \"end\": true}",
     .chosen = {1, 3}, .n_chosen = 2, .end = true, .method = M_JSON, .reasoning = ""},
    {.name = "fenced json after prose",
     .text = "Here is my verdict.\n```json\n{\"selected\": [1, 2], \"end\": false}\n```\n",
     .chosen = {1, 2}, .n_chosen = 2, .method = M_JSON, .reasoning = "Here is my verdict."},
    {.name = "reasoning before json",
     .text = "Response 0 is wrong; 1 and 3 agree.\n{\"selected\": [1, 3], \"end\": true}",
     .chosen = {1, 3}, .n_chosen = 2, .end = true, .method = M_JSON,
     .reasoning = "Response 0 is wrong; 1 and 3 agree."},
    {.name = "reasoning after json",
     .text = "```json\n{\"selected\": [0, 1], \"end\": false}\n```\nBoth are right.",
     .chosen = {0, 1}, .n_chosen = 2, .method = M_JSON, .reasoning = "Both are right."},
    {.name = "think block with a stray brace",
     .text = "<think>set {a, b</think>\n{\"selected\": [0, 3], \"end\": false}",
     .chosen = {0, 3}, .n_chosen = 2, .method = M_JSON, .reasoning = "<think>set {a, b</think>"},
    {.name = "nested object",
     .text = "{\"verdict\": {\"selected\": [1, 2], \"end\": true}}",
     .chosen = {1, 2}, .n_chosen = 2, .end = true, .method = M_JSON},
    /* Repairs */
    {.name = "single quotes and Python False",
     .text = "{'selected': [0, 3], 'end': False}",
     .chosen = {0, 3}, .n_chosen = 2, .method = M_REPAIRED},
    {.name = "single-quoted string with an apostrophe",
     .text = "{'reasoning': 'it's fine', 'selected': [1, 2], 'end': False}",
     .chosen = {1, 2}, .n_chosen = 2, .method = M_REPAIRED, .reasoning = "it's fine"},
    {.name = "Python True",
     .text = "{\"selected\": [2, 3], \"end\": True}",
     .chosen = {2, 3}, .n_chosen = 2, .end = true, .method = M_REPAIRED},
    {.name = "trailing commas",
     .text = "{\"selected\": [0, 1,], \"end\": false,}",
     .chosen = {0, 1}, .n_chosen = 2, .method = M_REPAIRED},
    {.name = "unquoted keys, comment",
     .text = "{selected: [0, 2], // the best two\n end: yes}",
     .chosen = {0, 2}, .n_chosen = 2, .end = true, .method = M_REPAIRED},
    {.name = "raw newline inside a string",
     .text = "{\"reasoning\": \"line1\nline2\", \"selected\": [0, 1], \"end\": false}",
     .chosen = {0, 1}, .n_chosen = 2, .method = M_REPAIRED, .reasoning = "line1\nline2"},
    {.name = "invalid UTF-8 inside a string",
     .text = "{\"reasoning\": \"bad \xff byte\", \"selected\": [0, 1], \"end\": false}",
     .chosen = {0, 1}, .n_chosen = 2, .method = M_REPAIRED, .reasoning = "bad ? byte"},
    /* Index forms */
    {.name = "indices as strings",
     .text = "{\"selected\": [\"1\", \"2\"], \"end\": false}",
     .chosen = {1, 2}, .n_chosen = 2, .method = M_JSON},
    {.name = "list inside a string, end \"no\"",
     .text = "{\"selected\": \"[0, 3]\", \"end\": \"no\"}",
     .chosen = {0, 3}, .n_chosen = 2, .method = M_JSON},
    {.name = "one number",
     .text = "{\"selected\": 3, \"end\": true}",
     .chosen = {3}, .n_chosen = 1, .end = true, .events = E_FEWER, .method = M_JSON},
    {.name = "1-based numbers",
     .text = "{\"selected\": [1, 4], \"end\": false}",
     .chosen = {0, 3}, .n_chosen = 2, .events = E_ONE_BASED, .method = M_JSON},
    {.name = "1-based labels in a string",
     .text = "{\"selected\": \"Response 2 and Response 4\", \"end\": false}",
     .chosen = {1, 3}, .n_chosen = 2, .events = E_ONE_BASED, .method = M_JSON},
    {.name = "ambiguous [1, 2] is 0-based",
     .text = "{\"selected\": [1, 2], \"end\": false}",
     .chosen = {1, 2}, .n_chosen = 2, .method = M_JSON},
    {.name = "alias keys",
     .text = "{\"best_indices\": [1, 2], \"stop\": true}",
     .chosen = {1, 2}, .n_chosen = 2, .end = true, .method = M_JSON},
    {.name = "camelCase keys, end as 1",
     .text = "{\"chosenResponses\": [0, 3], \"shouldEnd\": 1}",
     .chosen = {0, 3}, .n_chosen = 2, .end = true, .method = M_JSON},
    {.name = "first selection key of an object wins",
     .text = "{\"selected\": [0, 1], \"best\": [2, 3], \"end\": false}",
     .chosen = {0, 1}, .n_chosen = 2, .method = M_JSON},
    {.name = "end_reason is reasoning, not the flag",
     .text = "{\"selected\": [0, 1], \"end_reason\": \"they agree\", \"end\": true}",
     .chosen = {0, 1}, .n_chosen = 2, .end = true, .method = M_JSON, .reasoning = "they agree"},
    /* Fallbacks */
    {.name = "out of range -> random k",
     .text = "{\"selected\": [1, 7], \"end\": false}",
     .random = true, .events = E_RANGE, .method = M_JSON},
    {.name = "negative -> random k",
     .text = "{\"selected\": [-1, 2], \"end\": false}",
     .random = true, .events = E_RANGE, .method = M_JSON},
    {.name = "n with 0 is not 1-based -> random k",
     .text = "{\"selected\": [0, 4], \"end\": false}",
     .random = true, .events = E_RANGE, .method = M_JSON},
    {.name = "huge number -> random k",
     .text = "{\"selected\": [99999999999999999999999999999999, 1], \"end\": false}",
     .random = true, .events = E_RANGE, .method = M_JSON},
    {.name = "more than k -> k of the given",
     .text = "{\"selected\": [0, 1, 3], \"end\": false}",
     .random = true, .pool = {0, 1, 3}, .n_pool = 3, .events = E_MANY, .method = M_JSON},
    {.name = "fewer than k kept",
     .text = "{\"selected\": [2], \"end\": false}",
     .chosen = {2}, .n_chosen = 1, .events = E_FEWER, .method = M_JSON},
    {.name = "duplicates dropped",
     .text = "{\"selected\": [1, 1, 2], \"end\": false}",
     .chosen = {1, 2}, .n_chosen = 2, .events = E_DUPS, .method = M_JSON},
    {.name = "duplicates leave fewer",
     .text = "{\"selected\": [3, 3], \"end\": false}",
     .chosen = {3}, .n_chosen = 1, .events = E_DUPS | E_FEWER, .method = M_JSON},
    {.name = "duplicates then too many",
     .text = "{\"selected\": [2, 0, 2, 1, 0], \"end\": false}",
     .random = true, .pool = {0, 1, 2}, .n_pool = 3, .events = E_DUPS | E_MANY, .method = M_JSON},
    {.name = "empty list -> random k",
     .text = "{\"selected\": [], \"end\": true}",
     .random = true, .end = true, .events = E_EMPTY, .method = M_JSON},
    {.name = "words for a selection -> random k",
     .text = "{\"selected\": \"the second one\", \"end\": false}",
     .random = true, .events = E_UNPARSABLE, .method = M_JSON},
    {.name = "non-integer index -> random k",
     .text = "{\"selected\": [1.5, 2], \"end\": false}",
     .random = true, .events = E_UNPARSABLE, .method = M_JSON},
    /* End flag */
    {.name = "end missing -> continue",
     .text = "{\"selected\": [0, 1]}",
     .chosen = {0, 1}, .n_chosen = 2, .events = E_NO_END, .method = M_JSON},
    {.name = "end \"yes\"",
     .text = "{\"selected\": [0, 1], \"end\": \"yes\"}",
     .chosen = {0, 1}, .n_chosen = 2, .end = true, .method = M_JSON},
    {.name = "end \"True\"",
     .text = "{\"selected\": [0, 1], \"end\": \"True\"}",
     .chosen = {0, 1}, .n_chosen = 2, .end = true, .method = M_JSON},
    {.name = "end \"maybe\" is unreadable -> continue",
     .text = "{\"selected\": [0, 1], \"end\": \"maybe\"}",
     .chosen = {0, 1}, .n_chosen = 2, .events = E_NO_END, .method = M_JSON},
    /* Cut-off answers */
    {.name = "truncated in a literal",
     .text = "{\"reasoning\": \"Both agree\", \"selected\": [0, 2], \"end\": tr",
     .chosen = {0, 2}, .n_chosen = 2, .events = E_NO_END, .method = M_REPAIRED,
     .reasoning = "Both agree"},
    {.name = "truncated in a key",
     .text = "Fine.\n{\"selected\": [1, 3], \"en",
     .chosen = {1, 3}, .n_chosen = 2, .events = E_NO_END, .method = M_REPAIRED,
     .reasoning = "Fine."},
    {.name = "truncated in the list",
     .text = "{\"reasoning\": \"x\", \"selected\": [2, 3",
     .chosen = {2, 3}, .n_chosen = 2, .events = E_NO_END, .method = M_REPAIRED},
    {.name = "truncated in the reasoning",
     .text = "{\"reasoning\": \"I think response",
     .random = true, .events = E_UNPARSABLE | E_NO_END, .method = M_NONE,
     .reasoning = "{\"reasoning\": \"I think response"},
    {.name = "cut-off answer after an echoed example",
     .text = "Format: {\"selected\": [0, 1], \"end\": false}\n"
             "Answer: {\"selected\": [2, 3], \"end\": fal",
     .chosen = {2, 3}, .n_chosen = 2, .events = E_NO_END, .method = M_REPAIRED},
    {.name = "complete answer, then a repetition cut off in its key",
     .text = "{\"selected\": [1, 2], \"end\": false}\n{\"selected",
     .chosen = {1, 2}, .n_chosen = 2, .method = M_JSON},
    /* Which object */
    {.name = "two objects: the last wins",
     .text = "Format: {\"selected\": [0, 1], \"end\": false}\n"
             "Answer: {\"selected\": [2, 3], \"end\": true}",
     .chosen = {2, 3}, .n_chosen = 2, .end = true, .method = M_JSON},
    {.name = "a later object without the keys is skipped",
     .text = "{\"selected\": [0, 2], \"end\": true} and {\"note\": 1}",
     .chosen = {0, 2}, .n_chosen = 2, .end = true, .method = M_JSON},
    /* Key scan */
    {.name = "plain lines",
     .text = "Reasoning: all fine\nSelected: 1, 3\nEnd: yes",
     .chosen = {1, 3}, .n_chosen = 2, .end = true, .method = M_SCAN,
     .reasoning = "Reasoning: all fine"},
    {.name = "markdown bold keys",
     .text = "**Selected responses**: 0 and 2\n**End debate**: no",
     .chosen = {0, 2}, .n_chosen = 2, .method = M_SCAN, .reasoning = ""},
    {.name = "key = list",
     .text = "I pick: selected = [0, 2]; end = false",
     .chosen = {0, 2}, .n_chosen = 2, .method = M_SCAN},
    {.name = "broken object read by scan",
     .text = "{\"selected\": [0, 3] \"end\": true}",
     .chosen = {0, 3}, .n_chosen = 2, .end = true, .method = M_SCAN},
    /* Nothing usable */
    {.name = "empty output",
     .text = "",
     .random = true, .events = E_UNPARSABLE | E_NO_END, .method = M_NONE, .reasoning = ""},
    {.name = "prose only",
     .text = "I cannot decide.",
     .random = true, .events = E_UNPARSABLE | E_NO_END, .method = M_NONE,
     .reasoning = "I cannot decide."},
    {.name = "binary garbage",
     .text = "\xff\xfe\x00\x01{\x80}:\xc3[\"", .len = 11,
     .random = true, .events = E_UNPARSABLE | E_NO_END, .method = M_NONE},
    /* n, k and fields */
    {.name = "n = 1, k > n",
     .text = "{\"selected\": [0], \"end\": true}", .n = 1,
     .chosen = {0}, .n_chosen = 1, .end = true, .method = M_JSON},
    {.name = "n = 1, 1-based",
     .text = "{\"selected\": [1], \"end\": false}", .n = 1,
     .chosen = {0}, .n_chosen = 1, .events = E_ONE_BASED, .method = M_JSON},
    {.name = "k >= n keeps all",
     .text = "{\"selected\": [0, 1, 2]}", .n = 3, .k = 5, .fields = SEL,
     .chosen = {0, 1, 2}, .n_chosen = 3, .method = M_JSON},
    {.name = "k >= n, unparsable: all of them",
     .text = "no idea", .n = 3, .k = 3, .fields = SEL,
     .chosen = {0, 1, 2}, .n_chosen = 3, .events = E_UNPARSABLE, .method = M_NONE},
    {.name = "selection only: no end event",
     .text = "{\"selected\": [0, 1]}", .fields = SEL,
     .chosen = {0, 1}, .n_chosen = 2, .method = M_JSON},
    {.name = "moderator only",
     .text = "{\"reasoning\": \"They agree.\", \"end\": true}", .n = -1, .fields = END,
     .end = true, .method = M_JSON, .reasoning = "They agree."},
    {.name = "moderator only, no flag",
     .text = "I think we should continue.", .n = -1, .fields = END,
     .events = E_NO_END, .method = M_NONE, .reasoning = "I think we should continue."},
    {.name = "moderator ignores a selection-only object",
     .text = "{\"selected\": [0, 1]}", .n = -1, .fields = END,
     .events = E_NO_END, .method = M_NONE},
};

static smoa_judge_params case_params(const judge_case *c, uint64_t seed) {
    int32_t n = c->n == 0 ? 4 : c->n < 0 ? 0 : c->n;
    int32_t k = c->k == 0 ? (c->n < 0 ? 0 : 2) : c->k;
    return params_of(n, k, c->fields ? c->fields : BOTH, seed);
}

static void check_random_draw(const judge_case *c, const smoa_judge_params *p,
                              const smoa_judge_result *r) {
    int32_t target = p->k < p->n ? p->k : p->n;
    assert_int_equal(r->n_chosen, target);
    for (int32_t i = 0; i < r->n_chosen; i++)
        if (c->n_pool > 0 && !contains(c->pool, c->n_pool, r->chosen[i]))
            fail_msg("%s: %d is not one of the given indices", c->name, r->chosen[i]);
    smoa_judge_result again;
    parse_ok(c->text, c->len ? c->len : strlen(c->text), p, &again);
    assert_memory_equal(r->chosen, again.chosen, sizeof r->chosen);
}

static void check_case(const judge_case *c) {
    smoa_judge_params p = case_params(c, 42);
    smoa_judge_result r;
    parse_ok(c->text, c->len ? c->len : strlen(c->text), &p, &r);
    print_message("  %-45s %s | %s\n", c->name, smoa_judge_method_name(r.method), r.note);
    check_invariants(&p, &r);
    if (c->random) {
        check_random_draw(c, &p, &r);
    } else {
        assert_int_equal(r.n_chosen, c->n_chosen);
        assert_memory_equal(r.chosen, c->chosen, (size_t)c->n_chosen * sizeof c->chosen[0]);
    }
    if (r.end != c->end) fail_msg("%s: end %d", c->name, r.end);
    if (r.events != c->events) fail_msg("%s: events 0x%x, want 0x%x", c->name, r.events, c->events);
    if ((int)r.method != c->method)
        fail_msg("%s: method %s", c->name, smoa_judge_method_name(r.method));
    if (c->reasoning && strcmp(r.reasoning, c->reasoning) != 0)
        fail_msg("%s: reasoning \"%s\"", c->name, r.reasoning);
    bool all_read = c->method != M_NONE && !(c->events & (E_UNPARSABLE | E_NO_END));
    assert_int_equal(r.parsed_ok, all_read);
}

static void test_table(void **state) {
    (void)state;
    assert_true(ARRAY_LEN(cases) >= 30);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) check_case(&cases[i]);
}

/* ------------------------------------------------------------------------ */
/* Seeds                                                                    */

/* Same seed, same pick; over many seeds every index turns up and more than
 * one pick is seen. */
static void test_seeded_fallback(void **state) {
    (void)state;
    const char *text = "{\"selected\": [9, 9], \"end\": false}";
    bool seen_index[8] = {false};
    smoa_judge_result first, r;
    smoa_judge_params p = params_of(8, 3, BOTH, 0);
    parse_ok(text, strlen(text), &p, &first);
    bool differs = false;
    for (uint64_t seed = 0; seed < 64; seed++) {
        p.seed = seed;
        parse_ok(text, strlen(text), &p, &r);
        check_invariants(&p, &r);
        assert_int_equal(r.n_chosen, 3);
        for (int32_t i = 0; i < 3; i++) seen_index[r.chosen[i]] = true;
        differs |= memcmp(r.chosen, first.chosen, sizeof r.chosen) != 0;
        smoa_judge_result again;
        parse_ok(text, strlen(text), &p, &again);
        assert_memory_equal(&r, &again, sizeof r);
    }
    assert_true(differs);
    for (int i = 0; i < 8; i++) assert_true(seen_index[i]);
}

/* ------------------------------------------------------------------------ */
/* Arguments and bounds                                                     */

static void test_invalid_arguments(void **state) {
    (void)state;
    smoa_judge_result r;
    smoa_error err = {0};
    smoa_judge_params p = params_of(4, 2, BOTH, 1);
    assert_int_equal(smoa_judge_parse("{}", 2, NULL, &r, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_judge_parse("{}", 2, &p, NULL, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_judge_parse(NULL, 3, &p, &r, &err), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_judge_parse(NULL, 0, &p, &r, &err), SMOA_OK);
    const smoa_judge_params bad[] = {
        params_of(0, 2, BOTH, 1), params_of(SMOA_JUDGE_MAX_N + 1, 2, BOTH, 1),
        params_of(4, 0, SEL, 1),  params_of(4, 2, 0, 1),
        params_of(4, 2, 8, 1),
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        err.message[0] = '\0';
        assert_int_equal(smoa_judge_parse("{}", 2, &bad[i], &r, &err), SMOA_ERR_INVALID_ARGUMENT);
        assert_true(err.message[0] != '\0');
        assert_int_equal(r.n_chosen, 0);
    }
    smoa_judge_params most = params_of(SMOA_JUDGE_MAX_N, SMOA_JUDGE_MAX_N, SEL, 1);
    parse_ok("[]", 2, &most, &r);
    assert_int_equal(r.n_chosen, SMOA_JUDGE_MAX_N);
}

/* A long reasoning is cut to fit, on a character boundary. */
static void test_long_reasoning(void **state) {
    (void)state;
    smoa_strbuf text = {0};
    assert_true(smoa_strbuf_append_str(&text, "{\"reasoning\": \""));
    for (int i = 0; i < 3000; i++) assert_true(smoa_strbuf_append_str(&text, "\xc3\xa9"));
    assert_true(smoa_strbuf_append_str(&text, "\", \"selected\": [0, 1], \"end\": true}"));
    smoa_judge_params p = params_of(4, 2, BOTH, 1);
    smoa_judge_result r;
    parse_ok(text.data, text.len, &p, &r);
    assert_int_equal(r.method, M_JSON);
    assert_true(r.end);
    assert_true(strlen(r.reasoning) >= SMOA_JUDGE_REASONING_MAX - 3);
    assert_true(strlen(r.reasoning) < SMOA_JUDGE_REASONING_MAX);
    assert_true(valid_utf8(r.reasoning));
    smoa_strbuf_free(&text);
}

/* More entries than the parser reads: unreadable, not a crash. */
static void test_long_list(void **state) {
    (void)state;
    smoa_strbuf text = {0};
    assert_true(smoa_strbuf_append_str(&text, "{\"selected\": ["));
    for (int i = 0; i < 1000; i++) assert_true(smoa_strbuf_append_str(&text, i ? ", 1" : "1"));
    assert_true(smoa_strbuf_append_str(&text, "], \"end\": true}"));
    smoa_judge_params p = params_of(4, 2, BOTH, 1);
    smoa_judge_result r;
    parse_ok(text.data, text.len, &p, &r);
    check_invariants(&p, &r);
    assert_int_equal(r.events, E_UNPARSABLE);
    assert_true(r.end);
    smoa_strbuf_free(&text);
}

/* A number beyond double's range fails jansson and the repair; the key scan
 * reads it, saturated, as out of range. */
static void test_number_beyond_double(void **state) {
    (void)state;
    smoa_strbuf text = {0};
    assert_true(smoa_strbuf_append_str(&text, "{\"selected\": [1, "));
    for (int i = 0; i < 400; i++) assert_true(smoa_strbuf_append_str(&text, "9"));
    assert_true(smoa_strbuf_append_str(&text, "], \"end\": true}"));
    smoa_judge_params p = params_of(4, 2, BOTH, 1);
    smoa_judge_result r;
    parse_ok(text.data, text.len, &p, &r);
    check_invariants(&p, &r);
    assert_int_equal(r.method, M_SCAN);
    assert_int_equal(r.events, E_RANGE);
    assert_true(r.end);
    smoa_strbuf_free(&text);
}

/* Nesting deeper than anything followed, open and closed. */
static void test_deep_nesting(void **state) {
    (void)state;
    smoa_strbuf text = {0};
    for (int i = 0; i < 500; i++) assert_true(smoa_strbuf_append_str(&text, "{\"a\": ["));
    assert_true(smoa_strbuf_append_str(&text, "{\"selected\": [1, 2], \"end\": true}"));
    smoa_judge_params p = params_of(4, 2, BOTH, 1);
    smoa_judge_result r;
    parse_ok(text.data, text.len, &p, &r);
    check_invariants(&p, &r);
    assert_int_equal(r.chosen[0], 1);
    assert_int_equal(r.chosen[1], 2);
    for (int i = 0; i < 500; i++) assert_true(smoa_strbuf_append_str(&text, "]}"));
    parse_ok(text.data, text.len, &p, &r);
    check_invariants(&p, &r);
    smoa_strbuf_free(&text);
}

/* ------------------------------------------------------------------------ */
/* Format and names                                                         */

static void test_format(void **state) {
    (void)state;
    smoa_judge_params p = params_of(4, 2, BOTH, 7);
    smoa_strbuf fmt = {0};
    assert_int_equal(smoa_judge_format(&p, &fmt, NULL), SMOA_OK);
    assert_string_equal(fmt.data, "{\"reasoning\": \"<why, in a few sentences>\", "
                                  "\"selected\": [<2 distinct indices from 0 to 3>], "
                                  "\"end\": <true to stop the debate, false to go on>}");
    /* Echoed alone, the format selects nothing and sets no flag. */
    smoa_judge_result r;
    parse_ok(fmt.data, fmt.len, &p, &r);
    assert_int_equal(r.method, M_NONE);
    assert_int_equal(r.events, E_UNPARSABLE | E_NO_END);
    /* Echoed before the answer, the answer wins. */
    assert_true(smoa_strbuf_append_str(
        &fmt, "\nOK: {\"reasoning\": \"r\", \"selected\": [3, 0], \"end\": true}"));
    parse_ok(fmt.data, fmt.len, &p, &r);
    assert_int_equal(r.method, M_JSON);
    assert_int_equal(r.n_chosen, 2);
    assert_int_equal(r.chosen[0], 0);
    assert_int_equal(r.chosen[1], 3);
    assert_true(r.end);
    smoa_strbuf_free(&fmt);
    smoa_judge_params judge_only = params_of(5, 1, SEL, 7), moderator = params_of(0, 0, END, 7);
    assert_int_equal(smoa_judge_format(&judge_only, &fmt, NULL), SMOA_OK);
    assert_string_equal(fmt.data, "{\"reasoning\": \"<why, in a few sentences>\", \"selected\": "
                                  "[<1 distinct index from 0 to 4>]}");
    smoa_strbuf_free(&fmt);
    assert_int_equal(smoa_judge_format(&moderator, &fmt, NULL), SMOA_OK);
    assert_string_equal(fmt.data, "{\"reasoning\": \"<why, in a few sentences>\", "
                                  "\"end\": <true to stop the debate, false to go on>}");
    smoa_strbuf_free(&fmt);
    smoa_judge_params bad = params_of(0, 2, SEL, 7);
    assert_int_equal(smoa_judge_format(&bad, &fmt, NULL), SMOA_ERR_INVALID_ARGUMENT);
    assert_int_equal(smoa_judge_format(NULL, &fmt, NULL), SMOA_ERR_INVALID_ARGUMENT);
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(smoa_judge_method_name(SMOA_JUDGE_METHOD_NONE), "none");
    assert_string_equal(smoa_judge_method_name(SMOA_JUDGE_METHOD_JSON), "json");
    assert_string_equal(smoa_judge_method_name(SMOA_JUDGE_METHOD_REPAIRED), "repaired json");
    assert_string_equal(smoa_judge_method_name(SMOA_JUDGE_METHOD_KEY_SCAN), "key scan");
    assert_string_equal(smoa_judge_method_name((smoa_judge_method)99), "?");
    const char *names[] = {"unparsable", "empty",    "one-based", "out-of-range",
                           "duplicates", "too-many", "fewer",     "end-missing"};
    for (unsigned i = 0; i < ARRAY_LEN(names); i++)
        assert_string_equal(smoa_judge_event_name((smoa_judge_event)(1u << i)), names[i]);
    assert_string_equal(smoa_judge_event_name((smoa_judge_event)0), "?");
    assert_string_equal(smoa_judge_event_name((smoa_judge_event)3), "?");
}

/* ------------------------------------------------------------------------ */
/* Property loop                                                            */

/* Pieces that make random texts look like answers often enough to reach
 * every reader, and break them in every way. */
static const char *const pieces[] = {
    "{", "}", "[", "]", "\"", "'", ":", ",", " ", "\n", "0", "1", "2", "3", "4", "7", "-1",
    "99999999999999999999", "\"selected\"", "'end'", "selected", "end", "\"reasoning\"", "true",
    "True", "no", "yes", "null", "```json", "\\", "\\u12", "Response 2", "and", "**", "=",
    "\xff", "\xc3", "\xe2\x82", "\x00", "1.5", "#", "//", "(", ")", "best", "{\"selected\": [",
};

static void append_random_piece(smoa_rng *rng, smoa_strbuf *text, const char *const *list,
                                size_t n) {
    const char *piece = list[smoa_rng_below(rng, n)];
    assert_true(smoa_strbuf_append(text, piece, piece[0] ? strlen(piece) : 1));
}

/* A well-formed answer with random keys and values, sometimes cut short or
 * with one byte changed. */
static void random_answer(smoa_rng *rng, smoa_strbuf *text) {
    static const char *const keys[] = {
        "\"selected\"", "\"best\"", "\"chosen_ids\"", "\"reasoning\"",
        "\"end\"",      "\"stop\"", "\"x\"",          "\"done\"",
    };
    static const char *const values[] = {
        "[0, 1]", "[3, 1, 2]", "[]", "[1, 1]", "2", "\"[0, 4]\"", "true", "false", "\"yes\"",
        "null", "[-1]", "{\"selected\": [2]}", "\"text\"", "1e300", "[\"1\", 2]", "[[0], [1]]",
    };
    assert_true(smoa_strbuf_append_str(text, "{"));
    uint64_t members = smoa_rng_below(rng, 4);
    for (uint64_t i = 0; i < members; i++) {
        if (i) assert_true(smoa_strbuf_append_str(text, ", "));
        append_random_piece(rng, text, keys, ARRAY_LEN(keys));
        assert_true(smoa_strbuf_append_str(text, ": "));
        append_random_piece(rng, text, values, ARRAY_LEN(values));
    }
    assert_true(smoa_strbuf_append_str(text, "}"));
    if (smoa_rng_below(rng, 4) == 0) text->len = smoa_rng_below(rng, text->len + 1);
    if (smoa_rng_below(rng, 4) == 0 && text->len > 0)
        text->data[smoa_rng_below(rng, text->len)] = (char)smoa_rng_below(rng, 256);
}

static void random_text(smoa_rng *rng, smoa_strbuf *text) {
    text->len = 0;
    assert_true(smoa_strbuf_append(text, "", 0));
    uint64_t mode = smoa_rng_below(rng, 4), count = smoa_rng_below(rng, 40);
    for (uint64_t i = 0; i < count; i++) {
        if (mode == 0) {
            char b = (char)smoa_rng_below(rng, 256);
            assert_true(smoa_strbuf_append(text, &b, 1));
        } else {
            append_random_piece(rng, text, pieces, ARRAY_LEN(pieces));
        }
        if (mode == 1 && smoa_rng_below(rng, 8) == 0) random_answer(rng, text);
    }
    if (mode == 2) random_answer(rng, text);
}

static void test_random_texts(void **state) {
    (void)state;
    smoa_rng rng;
    smoa_rng_seed(&rng, 2024);
    smoa_strbuf text = {0};
    int methods[4] = {0};
    for (int iter = 0; iter < 50000; iter++) {
        random_text(&rng, &text);
        int32_t n = 1 + (int32_t)smoa_rng_below(&rng, 8);
        int32_t k = 1 + (int32_t)smoa_rng_below(&rng, 9);
        unsigned fields = 1 + (unsigned)smoa_rng_below(&rng, 3);
        smoa_judge_params p = params_of(n, k, fields, smoa_rng_next(&rng));
        smoa_judge_result r, again;
        parse_ok(text.data, text.len, &p, &r);
        check_invariants(&p, &r);
        parse_ok(text.data, text.len, &p, &again);
        assert_memory_equal(&r, &again, sizeof r);
        methods[r.method]++;
    }
    print_message("  methods: none %d, json %d, repaired %d, key scan %d\n", methods[0], methods[1],
                  methods[2], methods[3]);
    for (int m = 0; m < 4; m++) assert_true(methods[m] > 0);
    smoa_strbuf_free(&text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_seeded_fallback),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_long_reasoning),
        cmocka_unit_test(test_long_list),
        cmocka_unit_test(test_number_beyond_double),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_random_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
