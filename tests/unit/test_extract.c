/* test_extract.c - final-answer extraction: numbers and choice letters
 * (table-driven, each row a text and what must come out of it) and the
 * agreement check. The rules under test are written in agents/extract.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "agents/extract.h"

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

typedef struct number_case {
    const char *text;
    bool found;
    double value;
} number_case;

static const number_case number_cases[] = {
    /* GSM8K marker, which beats every other number */
    {"She sold 48 in April and 24 in May.\n#### 72", true, 72},
    {"#### $1,250.50", true, 1250.5},
    {"#### -3", true, -3},
    {"#### 9\nThat is 3 times 3.", true, 9},
    {"#### Step 1: add 3 and 4\nSo we get 7", true, 7}, /* a heading, not a marker */
    /* \boxed{}: the last box, the last number in it */
    {"\\boxed{42}", true, 42},
    {"So x = \\boxed{5}. Check: 5 + 2 = 7", true, 5},
    {"\\boxed{\\frac{3}{4}}", true, 0.75},
    {"\\boxed{-\\dfrac{1}{2}}", true, -0.5},
    {"\\boxed{2 + 3 = 5}", true, 5},
    {"First \\boxed{1}, then \\boxed{2}; 3 steps", true, 2},
    /* answer phrases: the first number after the last phrase that has one */
    {"The answer is 12 apples; the other 5 were eaten.", true, 12},
    {"**Answer:** 7\n\nThat took 3 steps.", true, 7},
    {"Final answer: -15", true, -15},
    {"answer = 3/4 of the 8 cakes", true, 0.75},
    {"The answer is: $18. It took 2 days.", true, 18},
    {"The answer is 5. Wait, let me recheck. The answer is 6. Done in 2 steps.", true, 6},
    {"The answer is 10.\nCheck: 2 + 2 = 4. So the answer is clear.", true, 10},
    {"Answer:\n\n42", true, 42},                       /* phrase on its own line: last number */
    {"I answered 5 questions and got 3 right.", true, 3}, /* "answered" is no phrase */
    {"The answers: 3 and 9", true, 9},
    /* the last number */
    {"I think 3 but actually 4", true, 4},
    {"2,000", true, 2000},
    {"1,2,3", true, 3},
    {"a list: 10, 20, 30", true, 30},
    {"It is 1,234,567 people", true, 1234567},
    {"1,234.5", true, 1234.5},
    {"It costs $1,250.50.", true, 1250.5},
    {"\xE2\x82\xAC" "30 or \xC2\xA3" "25", true, 25},
    {"There are 42 apples.", true, 42},
    {"The rate is 3.5%", true, 3.5},
    {"x = -5", true, -5},
    {"-$5", true, -5},
    {"The temperature fell to \xE2\x88\x92" "12 degrees", true, -12},
    {"5-3", true, 3}, /* a minus after a digit is an operator */
    {"(2)-1", true, 1},
    {"half is 1/2", true, 0.5},
    {"1 1/2 cups", true, 0.5}, /* no mixed numbers */
    {"1/0", true, 0},          /* no fraction: 1 and 0 */
    {"costs .5 dollars", true, 0.5},
    {"Version 1.2.3", true, 1.2},
    {"We met on 12/25/2023", true, 2023}, /* a date: its last component */
    {"On 2023-12-25 we met", true, 25},
    {"The result is 3.", true, 3},
    {"COVID-19", true, 19},
    {"3x + 2 = 11", true, 11},
    {"H2O has x2 atoms", false, 0},
    {"No numbers here.", false, 0},
    {"", false, 0},
};

static void test_number_table(void **state) {
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof number_cases / sizeof number_cases[0]; i++) {
        const number_case *c = &number_cases[i];
        double value = NAN;
        bool found = smoa_extract_number(c->text, &value);
        bool ok = found == c->found && (!found || fabs(value - c->value) <= 1e-9 * fmax(1.0, fabs(c->value)));
        if (!ok) {
            print_error("number case %zu \"%s\": got %s %g, want %s %g\n", i, c->text,
                        found ? "found" : "none", value, c->found ? "found" : "none", c->value);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_number_null_and_precision(void **state) {
    (void)state;
    double value = 0;
    assert_false(smoa_extract_number(NULL, &value));
    assert_true(smoa_extract_number("0.1", &value));
    assert_true(value == 0.1); /* mantissa / power of ten: correctly rounded */
    assert_true(smoa_extract_number("123456789012345", &value));
    assert_true(value == 123456789012345.0);
}

/* ------------------------------------------------------------------------ */
/* Choices                                                                  */

typedef struct choice_case {
    const char *text;
    int n_choices;
    char letter; /* 0: none */
} choice_case;

static const choice_case choice_cases[] = {
    /* the whole text is the letter */
    {"B)", 4, 'B'},
    {"**C**", 4, 'C'},
    {"b", 4, 'B'},
    {"(C).", 4, 'C'},
    /* cues */
    {"The answer is (B)", 4, 'B'},
    {"Answer: d", 4, 'D'},
    {"I choose option A", 4, 'A'},
    {"select C", 4, 'C'},
    {"The correct answer is C because it is the only prime.", 4, 'C'},
    {"The answer is A because the others are too large.", 4, 'A'},
    {"The answer is the letter C", 4, 'C'},
    {"The answer is **D**.", 4, 'D'},
    {"Answer: (c) 25", 4, 'C'},
    {"Both (A) and (B) look fine, but the answer is A", 4, 'A'},
    {"The answer is option B. Option C is wrong because it is too big.", 4, 'B'},
    {"The answer is A.", 1, 'A'},
    {"Answer: E", 5, 'E'},
    /* letters written as choices */
    {"\\boxed{B}", 4, 'B'},
    {"[D]", 4, 'D'},
    {"Looking at the options, (A) is too small and (D) is right.", 4, 'D'},
    {"A) 5\nB) 6\nC) 7\nD) 8", 4, 'D'}, /* known limit: re-listed options */
    /* a letter that ends its phrase */
    {"I'd say C", 4, 'C'},
    {"I will answer a few questions first. The best is B.", 4, 'B'},
    /* false hits refused */
    {"A cat sat on a mat.", 4, 0},
    {"the answer is a cat", 4, 0},
    {"Let me pick a number.", 4, 0},
    {"I think B is right", 4, 0},
    {"Vitamin C is good for you", 4, 0},
    {"A: Paris is the capital.", 4, 0},
    {"The U.S.A. is large.", 4, 0},
    {"There are (a) two ways and (b) three ways.", 4, 0},
    {"Answer: E", 4, 0},
    {"The answer is D", 3, 0},
    {"Alice and Bob", 4, 0},
    {"", 4, 0},
};

static void test_choice_table(void **state) {
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof choice_cases / sizeof choice_cases[0]; i++) {
        const choice_case *c = &choice_cases[i];
        char letter = 0;
        bool found = smoa_extract_choice(c->text, c->n_choices, &letter);
        if (found != (c->letter != 0) || (found && letter != c->letter)) {
            print_error("choice case %zu \"%s\" (%d choices): got %c, want %c\n", i, c->text,
                        c->n_choices, found ? letter : '-', c->letter ? c->letter : '-');
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_choice_bad_arguments(void **state) {
    (void)state;
    char letter = 0;
    assert_false(smoa_extract_choice("B", 0, &letter));
    assert_false(smoa_extract_choice("B", 27, &letter));
    assert_false(smoa_extract_choice(NULL, 4, &letter));
    assert_true(smoa_extract_choice("Z", 26, &letter));
    assert_int_equal(letter, 'Z');
}

/* ------------------------------------------------------------------------ */
/* Agreement                                                                */

static void test_agree_numbers(void **state) {
    (void)state;
    const char *same[] = {"#### 12", "The answer is 12.", "I got 12.0 in the end"};
    assert_true(smoa_answers_agree(same, 3, SMOA_ANSWER_NUMBER, 0));
    const char *differ[] = {"12", "13"};
    assert_false(smoa_answers_agree(differ, 2, SMOA_ANSWER_NUMBER, 0));
    const char *missing[] = {"12", "no number at all"};
    assert_false(smoa_answers_agree(missing, 2, SMOA_ANSWER_NUMBER, 0));
    /* relative tolerance 1e-6 */
    const char *close[] = {"1000000", "1000000.5"};
    assert_true(smoa_answers_agree(close, 2, SMOA_ANSWER_NUMBER, 0));
    const char *apart[] = {"1000000", "1000002"};
    assert_false(smoa_answers_agree(apart, 2, SMOA_ANSWER_NUMBER, 0));
    const char *zeros[] = {"0", "-0", "0.0"};
    assert_true(smoa_answers_agree(zeros, 3, SMOA_ANSWER_NUMBER, 0));
    const char *tiny[] = {"0", "0.000001"};
    assert_false(smoa_answers_agree(tiny, 2, SMOA_ANSWER_NUMBER, 0));
    const char *forms[] = {"3/4", "0.75", "\\boxed{\\frac{3}{4}}"};
    assert_true(smoa_answers_agree(forms, 3, SMOA_ANSWER_NUMBER, 0));
    const char *one[] = {"7"};
    assert_true(smoa_answers_agree(one, 1, SMOA_ANSWER_NUMBER, 0));
    assert_false(smoa_answers_agree(NULL, 0, SMOA_ANSWER_NUMBER, 0));
}

static void test_agree_choices(void **state) {
    (void)state;
    const char *same[] = {"The answer is (B)", "B", "I choose option b"};
    assert_true(smoa_answers_agree(same, 3, SMOA_ANSWER_CHOICE, 4));
    const char *differ[] = {"A)", "B)"};
    assert_false(smoa_answers_agree(differ, 2, SMOA_ANSWER_CHOICE, 4));
    const char *missing[] = {"C", "A cat sat on a mat."};
    assert_false(smoa_answers_agree(missing, 2, SMOA_ANSWER_CHOICE, 4));
    const char *out_of_range[] = {"D", "D"};
    assert_false(smoa_answers_agree(out_of_range, 2, SMOA_ANSWER_CHOICE, 3));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_table),
        cmocka_unit_test(test_number_null_and_precision),
        cmocka_unit_test(test_choice_table),
        cmocka_unit_test(test_choice_bad_arguments),
        cmocka_unit_test(test_agree_numbers),
        cmocka_unit_test(test_agree_choices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
