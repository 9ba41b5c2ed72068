/* fuzz_judge.c - libFuzzer target: arbitrary bytes as a judge's answer.
 *
 * The first bytes choose the call: n (1..SMOA_JUDGE_MAX_N), k (1..n+2, so
 * k > n is covered), the expected fields and the seed; the rest is the
 * model's text. Whatever the text, the result must hold its promises
 * (judge_parse.h) and be the same on a second call; a broken promise aborts
 * so that the fuzzer reports it, as does any crash, sanitizer report or
 * leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agents/judge_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { HEADER = 11 }; /* n, k, fields, 8 bytes of seed */

static void require(bool ok) {
    if (!ok) abort();
}

/* Bytes of the UTF-8 character led by c, 0 for a byte that cannot lead. */
static size_t lead_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 0;
}

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

static void check_selection(const smoa_judge_params *p, const smoa_judge_result *r) {
    if (!(p->fields & SMOA_JUDGE_EXPECT_SELECTION)) {
        require(r->n_chosen == 0);
        return;
    }
    int32_t target = p->k < p->n ? p->k : p->n;
    require(r->n_chosen >= 1 && r->n_chosen <= target);
    for (int32_t i = 0; i < r->n_chosen; i++) {
        require(r->chosen[i] >= 0 && r->chosen[i] < p->n);
        require(i == 0 || r->chosen[i - 1] < r->chosen[i]); /* ascending, so distinct */
    }
    /* A random fallback always gives exactly min(k, n). */
    unsigned random = SMOA_JUDGE_EVENT_UNPARSABLE | SMOA_JUDGE_EVENT_EMPTY |
                      SMOA_JUDGE_EVENT_OUT_OF_RANGE | SMOA_JUDGE_EVENT_TOO_MANY;
    if (r->events & random) require(r->n_chosen == target);
    if (r->n_chosen < target) require(r->events & SMOA_JUDGE_EVENT_FEWER);
}

static void check_result(const smoa_judge_params *p, const smoa_judge_result *r) {
    check_selection(p, r);
    if (!(p->fields & SMOA_JUDGE_EXPECT_END)) require(!r->end);
    if (r->events & SMOA_JUDGE_EVENT_END_MISSING) require(!r->end);
    if (r->parsed_ok) require(r->method != SMOA_JUDGE_METHOD_NONE);
    require(memchr(r->reasoning, '\0', sizeof r->reasoning) != NULL);
    require(memchr(r->note, '\0', sizeof r->note) != NULL);
    require(valid_utf8(r->reasoning));
    require(r->note[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < HEADER) return 0;
    smoa_judge_params p;
    p.n = 1 + data[0] % SMOA_JUDGE_MAX_N;
    p.k = 1 + data[1] % (p.n + 2);
    p.fields = 1u + data[2] % 3u;
    memcpy(&p.seed, data + 3, sizeof p.seed);
    const char *text = (const char *)data + HEADER;
    size_t len = size - HEADER;

    static smoa_judge_result first, second;
    require(smoa_judge_parse(text, len, &p, &first, NULL) == SMOA_OK);
    check_result(&p, &first);
    require(smoa_judge_parse(text, len, &p, &second, NULL) == SMOA_OK);
    require(memcmp(&first, &second, sizeof first) == 0);
    return 0;
}
