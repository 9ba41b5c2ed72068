/* extract.h - final answers read out of free text: a number or a
 * multiple-choice letter, and whether several texts give the same one.
 *
 * Used by the agreement moderator (stop the debate when the proposers agree)
 * and by the evaluation scorers. Pure functions on NUL-terminated UTF-8; no
 * allocation; locale-independent.
 *
 * NUMBERS. Where the answer is looked for, first rule that finds one wins:
 *   1. "####" (GSM8K style) directly followed by a number ("#### 72");
 *      Markdown headings such as "#### Step 1" are not markers;
 *   2. the last \boxed{...} holding a number: the LAST number inside;
 *   3. the last "answer is" / "answer:" / "answer =" (any case, "answer" a
 *      whole word, Markdown emphasis allowed: "**Answer:** 7") followed,
 *      on the same line and within 48 bytes, by a number: the FIRST one;
 *   4. otherwise the last number of the text ("I think 3 but actually 4"
 *      gives 4).
 * What a number is:
 *   - digits with an optional decimal part ("3.5", ".5"); commas are
 *     thousand separators only between groups of exactly three digits after
 *     a first group of one to three ("2,000" = 2000, "1,234.5"), so the list
 *     "1,2,3" is three numbers;
 *   - a minus sign ("-" or U+2212) when it does not follow a letter, digit
 *     or ')' ("x = -5" is -5, "5-3" reads 5 and 3);
 *   - currency signs ($, U+20AC euro, U+00A3 pound) before it and units or
 *     "%" after it are ignored ("$1,250.50" = 1250.5, "3.5%" = 3.5,
 *     "42 apples" = 42);
 *   - "a/b" between integers is a fraction (0.75 for "3/4"), and so is
 *     \frac{a}{b} (also \dfrac, \tfrac); a zero denominator is no fraction;
 *   - a digit right after a letter starts no number ("x2", "H2O", "mp3"),
 *     nor one after '.' (so "1.2.3" reads 1.2 only);
 *   - no exponents, no spaced or dotted thousands ("1 000", "1.000,5"),
 *     no mixed numbers ("1 1/2" reads 1 and 0.5, so 0.5).
 * Dates are not understood: "12/25/2023" is read as 12, 25 and 2023 (a/b
 * followed by another "/digit" is no fraction) and "2023-12-25" as 2023,
 * 12 and 25, so as a last number a date gives its last component.
 *
 * CHOICES among the first n_choices letters (A.. ; 1 to 26), returned upper
 * case. First rule that finds one wins:
 *   1. the whole text is one letter, bracketing and punctuation aside
 *      ("b", "(C).", "**d**"), in either case;
 *   2. the last cue: "answer", "choose", "chose", "select", "selected",
 *      "pick" or "picked" (whole words, any case), then only spaces,
 *      decoration (* _ : = ( [ { " ') and the filler words "is", "be",
 *      "would", "will", "the", "option", "choice", "letter", "answer",
 *      then a standalone letter: "The answer is (B)", "Answer: d",
 *      "I choose option A". Either case counts, but a lower-case letter
 *      followed by a word is the article ("the answer is a cat");
 *   3. the last upper-case letter written as a choice: "(B)", "[B]", "{B}",
 *      "**B**", or "B)" not inside a word;
 *   4. the last standalone upper-case letter that ends its phrase: followed
 *      (after spaces) by the end, a newline or . , ; ! ? ) " ' *, and not
 *      after '.' ("U.S.A.") - e.g. "so I pick... B." or "I'd say C".
 * Hence the article: "A cat sat on a mat" yields nothing, as "A" is
 * followed by a word and not written as a choice; for the same reason "B is
 * right" yields nothing without a cue. ':' does not end a phrase, so the
 * "A:" of a Q/A transcript is not a choice. Known limit: a text that only
 * re-lists the options ("A) 5 B) 6 C) 7 D) 8") reads as its last one; with
 * nine or more choices the pronoun in "So do I." counts as choice I. */
#ifndef SMOA_AGENTS_EXTRACT_H
#define SMOA_AGENTS_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum smoa_answer_kind {
    SMOA_ANSWER_NUMBER, /* a numeric final answer         */
    SMOA_ANSWER_CHOICE  /* a multiple-choice letter (A..) */
} smoa_answer_kind;

/* True and *value set when text holds a (finite) number, by the rules
 * above. */
bool smoa_extract_number(const char *text, double *value);

/* True and *letter ('A'.. upper case) set when text names one of the first
 * n_choices letters; false also when n_choices is not within 1..26. */
bool smoa_extract_choice(const char *text, int n_choices, char *letter);

/* True when n_texts >= 1, every text has an answer of the given kind and
 * all answers are equal: numbers within a relative tolerance of 1e-6,
 * letters exactly. n_choices is used for SMOA_ANSWER_CHOICE only. */
bool smoa_answers_agree(const char *const *texts, size_t n_texts, smoa_answer_kind kind,
                        int n_choices);

#endif
