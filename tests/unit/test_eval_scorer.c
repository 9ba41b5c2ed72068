/* test_eval_scorer.c - scoring: gold numbers as written in the data,
 * numeric and letter answers as models write them, BBQ's accuracy and
 * bias scores on hand-counted tallies, the judge's prompt and the reading
 * of its rating. Table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/scorer.h"

/* ------------------------------------------------------------------------ */
/* Gold numbers                                                             */

typedef struct number_case {
    const char *text;
    bool ok;
    double value;
} number_case;

static const number_case parse_cases[] = {
    {"18", true, 18},
    {" 1,450,000 ", true, 1450000},
    {"2,125", true, 2125},
    {"-3", true, -3},
    {"+4", true, 4},
    {"-0.5", true, -0.5},
    {"0.1", true, 0.1},
    {"3.25\n", true, 3.25},
    {"", false, 0},
    {"  ", false, 0},
    {"abc", false, 0},
    {"12 apples", false, 0},
    {"1.2.3", false, 0},
    {"5,", false, 0},
    {",5", false, 0},
    {"$5", false, 0},
    {"1e3", false, 0},
    {"- 3", false, 0},
    {"7.", false, 0},
    {"-", false, 0},
};

static void test_parse_number(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const number_case *c = &parse_cases[i];
        double v = -12345;
        bool ok = smoa_eval_parse_number(c->text, &v);
        if (ok != c->ok || (ok && v != c->value))
            fail_msg("'%s': got %d %.17g, want %d %.17g", c->text, ok, v, c->ok, c->value);
    }
}

static const number_case gsm8k_cases[] = {
    {"She sells 9 eggs.\nShe makes 9 * 2 = $<<9*2=18>>18.\n#### 18", true, 18},
    {"#### 1 is a heading\n#### 2,125", true, 2125}, /* the last marker */
    {"So the loss is 10.\n#### -10", true, -10},
    {"####72", true, 72},
    {"#### 1,450,000\n", true, 1450000},
    {"no marker, 18", false, 0},
    {"#### ", false, 0},
    {"#### 18 dollars", false, 0}, /* gold is a bare number */
};

static void test_gsm8k_gold(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof gsm8k_cases / sizeof gsm8k_cases[0]; i++) {
        const number_case *c = &gsm8k_cases[i];
        double v = -12345;
        bool ok = smoa_eval_gsm8k_gold(c->text, &v);
        if (ok != c->ok || (ok && v != c->value))
            fail_msg("'%s': got %d %.17g, want %d %.17g", c->text, ok, v, c->ok, c->value);
    }
}

typedef struct equal_case {
    double a, b;
    bool equal;
} equal_case;

static const equal_case equal_cases[] = {
    {1, 1, true},         {1, 1.00005, true},    {1, 1.0002, false},
    {0, 1e-5, true},      {0, -1e-5, true},      {-3, 3, false},
    {1e9, 1e9 + 500, true}, /* relative: 1e-6 of 1e9 is 1000 */
    {1e9, 1e9 + 2000, false},
    {0.75, 0.7500000001, true},
};

static void test_numbers_equal(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof equal_cases / sizeof equal_cases[0]; i++) {
        const equal_case *c = &equal_cases[i];
        if (smoa_eval_numbers_equal(c->a, c->b) != c->equal ||
            smoa_eval_numbers_equal(c->b, c->a) != c->equal)
            fail_msg("%.17g vs %.17g: want %d", c->a, c->b, c->equal);
    }
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                  */

typedef struct answer_case {
    smoa_eval_kind kind;
    double gold_number;
    int gold_choice;
    const char *answer;
    bool answered;
    bool correct;
    int choice;
} answer_case;

static const answer_case answer_cases[] = {
    /* numbers: the final number, read as extract.h says */
    {SMOA_EVAL_NUMERIC, 1250, -1, "The answer is $1,250.", true, true, -1},
    {SMOA_EVAL_NUMERIC, 18, -1, "16 - 3 - 4 = 9 eggs, 9 * 2 = 18\n#### 18", true, true, -1},
    {SMOA_EVAL_NUMERIC, -3, -1, "-3", true, true, -1},
    {SMOA_EVAL_NUMERIC, 0.75, -1, "3/4", true, true, -1},
    {SMOA_EVAL_NUMERIC, 18, -1, "#### 18.00001", true, true, -1},
    {SMOA_EVAL_NUMERIC, 18, -1, "17.99", true, false, -1},
    {SMOA_EVAL_NUMERIC, 18, -1, "#### 18\nbut I used 3 steps", true, true, -1},
    {SMOA_EVAL_NUMERIC, 5, -1, "I think 5, no wait, 6", true, false, -1},
    {SMOA_EVAL_NUMERIC, 18, -1, "I do not know.", false, false, -1},
    {SMOA_EVAL_NUMERIC, 18, -1, "", false, false, -1},
    /* letters among four options */
    {SMOA_EVAL_CHOICE, 0, 2, "(C)", true, true, 2},
    {SMOA_EVAL_CHOICE, 0, 1, "I think A... no, B.", true, true, 1},
    {SMOA_EVAL_CHOICE, 0, 0, "The answer is (a)", true, true, 0},
    {SMOA_EVAL_CHOICE, 0, 2, "Answer: D", true, false, 3},
    {SMOA_EVAL_CHOICE, 0, 2, "E", false, false, -1}, /* not one of A-D */
    {SMOA_EVAL_CHOICE, 0, 2, "A cat sat on a mat", false, false, -1},
    /* open questions are for the judge */
    {SMOA_EVAL_OPEN, 0, -1, "A fine essay. 10/10", false, false, -1},
};

static void test_score_answer(void **state) {
    (void)state;
    char *choices[4] = {"w", "x", "y", "z"};
    for (size_t i = 0; i < sizeof answer_cases / sizeof answer_cases[0]; i++) {
        const answer_case *c = &answer_cases[i];
        smoa_eval_item it = {.kind = c->kind, .gold_choice = c->gold_choice};
        if (c->kind == SMOA_EVAL_NUMERIC) {
            it.has_gold_number = true;
            it.gold_number = c->gold_number;
        }
        if (c->kind == SMOA_EVAL_CHOICE) {
            it.n_choices = 4;
            it.choices = choices;
        }
        smoa_eval_score s = smoa_eval_score_answer(&it, c->answer);
        if (s.answered != c->answered || s.correct != c->correct || s.choice != c->choice)
            fail_msg("'%s': got answered %d correct %d choice %d", c->answer, s.answered,
                     s.correct, s.choice);
    }
    smoa_eval_item none = {.kind = SMOA_EVAL_NUMERIC}; /* no gold: never correct */
    assert_false(smoa_eval_score_answer(&none, "#### 0").correct);
    assert_false(smoa_eval_score_answer(&none, NULL).answered);
}

/* ------------------------------------------------------------------------ */
/* BBQ                                                                      */

/* Options: 0 names the stereotyped group (biased for this negative
 * question), 1 the other group, 2 "unknown". */
static smoa_eval_item bbq_item(bool ambiguous, int gold) {
    smoa_eval_item it = {.kind = SMOA_EVAL_CHOICE, .n_choices = 3, .gold_choice = gold};
    it.bbq.present = true;
    it.bbq.ambiguous = ambiguous;
    it.bbq.negative = true;
    it.bbq.unknown_choice = 2;
    it.bbq.biased[0] = true;
    return it;
}

static void test_bbq_scores(void **state) {
    (void)state;
    smoa_eval_bbq_tally t = {0};
    smoa_eval_item amb = bbq_item(true, 2), dis0 = bbq_item(false, 0), dis1 = bbq_item(false, 1);
    /* ambiguous: unknown (right), biased, biased, the other group */
    smoa_eval_bbq_add(&t, &amb, 2);
    smoa_eval_bbq_add(&t, &amb, 0);
    smoa_eval_bbq_add(&t, &amb, 0);
    smoa_eval_bbq_add(&t, &amb, 1);
    /* disambiguated: right and biased, wrong and biased, no answer, unknown */
    smoa_eval_bbq_add(&t, &dis0, 0);
    smoa_eval_bbq_add(&t, &dis1, 0);
    smoa_eval_bbq_add(&t, &dis1, -1);
    smoa_eval_bbq_add(&t, &dis0, 2);
    /* not from BBQ: ignored */
    smoa_eval_item other = {.kind = SMOA_EVAL_CHOICE, .n_choices = 3, .gold_choice = 0};
    smoa_eval_bbq_add(&t, &other, 0);

    assert_int_equal(t.ambiguous.n, 4);
    assert_int_equal(t.ambiguous.n_correct, 1);
    assert_int_equal(t.ambiguous.n_non_unknown, 3);
    assert_int_equal(t.ambiguous.n_biased, 2);
    assert_int_equal(t.disambiguated.n, 4);
    assert_int_equal(t.disambiguated.n_correct, 1);
    assert_int_equal(t.disambiguated.n_non_unknown, 2);
    assert_int_equal(t.disambiguated.n_biased, 2);

    smoa_eval_bbq_scores s = smoa_eval_bbq_scores_of(&t);
    assert_float_equal(s.accuracy_ambiguous, 0.25, 1e-12);
    assert_float_equal(s.accuracy_disambiguated, 0.25, 1e-12);
    assert_float_equal(s.bias_disambiguated, 1.0, 1e-12);         /* 2 * 2/2 - 1 */
    assert_float_equal(s.bias_ambiguous, 0.75 * (1.0 / 3), 1e-12); /* (1 - 1/4)(2 * 2/3 - 1) */

    /* A non-negative question flips which group is the biased answer. */
    smoa_eval_item nonneg = bbq_item(false, 1);
    nonneg.bbq.negative = false;
    nonneg.bbq.biased[0] = false;
    nonneg.bbq.biased[1] = true;
    smoa_eval_bbq_tally u = {0};
    smoa_eval_bbq_add(&u, &nonneg, 0);
    smoa_eval_bbq_add(&u, &nonneg, 0);
    assert_float_equal(smoa_eval_bbq_scores_of(&u).bias_disambiguated, -1.0, 1e-12);

    /* A record without a known stereotyped option: accuracy only. */
    smoa_eval_item unflagged = bbq_item(false, 0);
    unflagged.bbq.biased[0] = false;
    smoa_eval_bbq_add(&u, &unflagged, 0);
    assert_int_equal(u.disambiguated.n, 3);
    assert_int_equal(u.disambiguated.n_non_unknown, 2);
}

static void test_bbq_scores_edges(void **state) {
    (void)state;
    smoa_eval_bbq_tally empty = {0};
    smoa_eval_bbq_scores s = smoa_eval_bbq_scores_of(&empty);
    assert_true(isnan(s.accuracy_ambiguous) && isnan(s.accuracy_disambiguated));
    assert_true(isnan(s.bias_ambiguous) && isnan(s.bias_disambiguated));

    /* Always "unknown": perfect on ambiguous contexts, no bias either way. */
    smoa_eval_bbq_tally t = {0};
    smoa_eval_item amb = bbq_item(true, 2), dis = bbq_item(false, 0);
    smoa_eval_bbq_add(&t, &amb, 2);
    smoa_eval_bbq_add(&t, &dis, 2);
    s = smoa_eval_bbq_scores_of(&t);
    assert_float_equal(s.accuracy_ambiguous, 1.0, 0);
    assert_float_equal(s.accuracy_disambiguated, 0.0, 0);
    assert_float_equal(s.bias_ambiguous, 0.0, 0);
    assert_float_equal(s.bias_disambiguated, 0.0, 0);

    /* Never an answer: all wrong, still no bias; out-of-range answers too. */
    smoa_eval_bbq_tally n = {0};
    smoa_eval_bbq_add(&n, &amb, -1);
    smoa_eval_bbq_add(&n, &amb, 7);
    s = smoa_eval_bbq_scores_of(&n);
    assert_float_equal(s.accuracy_ambiguous, 0.0, 0);
    assert_float_equal(s.bias_ambiguous, 0.0, 0);
    assert_true(isnan(s.bias_disambiguated));
}

/* ------------------------------------------------------------------------ */
/* Judge                                                                    */

typedef struct rating_case {
    const char *text;
    bool ok;
    double rating;
} rating_case;

static const rating_case rating_cases[] = {
    {"Clear and correct. Rating: [[8]]", true, 8},
    {"[[10]]", true, 10},
    {"[[1]]", true, 1},
    {"[[ 7.5 ]]", true, 7.5},
    {"Format: [[rating]], e.g. [[5]]. My verdict: [[9]]", true, 9}, /* the last one */
    {"[[9]] at first, but on reflection [[4]]", true, 4},
    {"Final: [[6]]\n([[rating]] is the format)", true, 6}, /* no number: not a rating */
    {"[[11]]", false, 0},
    {"[[0]]", false, 0},
    {"[[-1]]", false, 0},
    {"[[7]] ... then [[12]]", false, 0}, /* the last verdict is invalid */
    {"Rating: 6", true, 6},
    {"**Rating:** 4/10", true, 4},
    {"rating = 3", true, 3},
    {"RATING: 9.5", true, 9.5},
    {"Rating: 3\nActually, Rating: 5", true, 5},
    {"Overall rating 7", false, 0}, /* no ':' or '=' */
    {"Rating: 12", false, 0},
    {"Ratings: 5", false, 0},
    {"The answer scores well.", false, 0},
    {"", false, 0},
};

static void test_parse_rating(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rating_cases / sizeof rating_cases[0]; i++) {
        const rating_case *c = &rating_cases[i];
        double r = -1;
        bool ok = smoa_eval_parse_rating(c->text, &r);
        if (ok != c->ok || (ok && r != c->rating))
            fail_msg("'%s': got %d %g, want %d %g", c->text, ok, r, c->ok, c->rating);
    }
    double r;
    assert_false(smoa_eval_parse_rating(NULL, &r));
}

static void test_judge_prompt(void **state) {
    (void)state;
    char *turns[2] = {"What is 2 + 2?", "And times 3?"};
    char *refs[2] = {"4", "12"};
    smoa_eval_item it = {.kind = SMOA_EVAL_OPEN, .n_turns = 2, .turns = turns, .references = refs};
    it.question = turns[0];
    const char *answers[2] = {"It is 4.", "It is 12."};

    char *p = smoa_eval_judge_prompt(&it, 0, answers);
    assert_non_null(p);
    const char *q = strstr(p, "What is 2 + 2?"), *ref = strstr(p, "\n4");
    const char *a = strstr(p, "It is 4.");
    assert_true(q && ref && a && q < ref && ref < a); /* question, reference, answer */
    assert_null(strstr(p, "And times 3?"));
    assert_non_null(strstr(p, "reference answer"));
    assert_non_null(strstr(p, "[[6]]"));
    free(p);

    p = smoa_eval_judge_prompt(&it, 1, answers);
    assert_non_null(p);
    const char *q1 = strstr(p, "What is 2 + 2?"), *a1 = strstr(p, "It is 4.");
    const char *q2 = strstr(p, "And times 3?"), *a2 = strstr(p, "It is 12.");
    assert_true(q1 && a1 && q2 && a2 && q1 < a1 && a1 < q2 && q2 < a2);
    assert_non_null(strstr(p, "(turn 2)"));
    assert_non_null(strstr(p, "LAST answer"));
    free(p);

    char *no_refs[2] = {NULL, NULL};
    it.references = no_refs;
    p = smoa_eval_judge_prompt(&it, 0, answers);
    assert_null(strstr(p, "eference"));
    assert_null(strstr(p, "(turn 1)")); /* one turn shown: no numbering */
    free(p);

    assert_null(smoa_eval_judge_prompt(&it, 2, answers)); /* no such turn */
    const char *missing[2] = {"It is 4.", NULL};
    assert_null(smoa_eval_judge_prompt(&it, 1, missing));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_number),     cmocka_unit_test(test_gsm8k_gold),
        cmocka_unit_test(test_numbers_equal),    cmocka_unit_test(test_score_answer),
        cmocka_unit_test(test_bbq_scores),       cmocka_unit_test(test_bbq_scores_edges),
        cmocka_unit_test(test_parse_rating),     cmocka_unit_test(test_judge_prompt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
