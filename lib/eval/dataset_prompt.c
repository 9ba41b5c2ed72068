/* dataset_prompt.c - the text a model is asked for an item: the question,
 * its options, and how to write the final answer so that the scorer finds
 * it (eval/scorer.h). */
#include "eval/dataset.h"

#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"

static const char numeric_instruction[] =
    "\n\nSolve the problem step by step. Then write the final answer, a number only, on the "
    "last line as \"#### <number>\".";

/* "A. first\nB. second\n" then the instruction naming the letters. */
static bool append_options(smoa_strbuf *sb, const smoa_eval_item *it) {
    bool ok = smoa_strbuf_append_str(sb, "\n");
    for (size_t i = 0; ok && i < it->n_choices; i++) {
        char label[8];
        snprintf(label, sizeof label, "\n%c. ", (char)('A' + i));
        ok = smoa_strbuf_append_str(sb, label) && smoa_strbuf_append_str(sb, it->choices[i]);
    }
    char instruction[80];
    snprintf(instruction, sizeof instruction,
             "\n\nAnswer with the letter of the correct option (A to %c).",
             (char)('A' + it->n_choices - 1));
    return ok && smoa_strbuf_append_str(sb, instruction);
}

char *smoa_eval_item_prompt(const smoa_eval_item *item, size_t turn) {
    if (!item || turn >= item->n_turns) return NULL;
    smoa_strbuf sb = {0};
    bool ok = smoa_strbuf_append_str(&sb, item->turns[turn]);
    if (ok && item->kind == SMOA_EVAL_NUMERIC)
        ok = smoa_strbuf_append_str(&sb, numeric_instruction);
    if (ok && item->kind == SMOA_EVAL_CHOICE && item->n_choices) ok = append_options(&sb, item);
    if (!ok) smoa_strbuf_free(&sb);
    return sb.data;
}
