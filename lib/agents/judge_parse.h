/* judge_parse.h - reads the SMoA judge's and moderator's answer.
 *
 * The judge keeps the best k of the n responses of a layer; the moderator
 * says whether the debate should end. Both answer in text that is meant to be
 * JSON, {"reasoning": "...", "selected": [0, 2], "end": false}, but a model's
 * text is often not: prose around it, code fences, single quotes, Python
 * booleans, trailing commas, numbers as strings, 1-based numbers, an output
 * cut off by the token budget. smoa_judge_parse reads what it can and applies
 * the seeded fallbacks of the reference implementation, so it always returns
 * a usable selection (a pure function: no model, no I/O, no shared state,
 * so calls may run on any threads at once).
 *
 * Where the answer is looked for, in this order:
 *   1. Candidate objects: the outermost balanced {...} spans (braces inside
 *      double-quoted strings skipped), plus the outermost object still open
 *      at the end of the text (a cut-off answer). The LAST is tried first:
 *      models write their reasoning first and often echo the requested
 *      format before the real answer. So complete objects are tried from
 *      the last one, and the open one after the complete objects nested in
 *      it (a stray '{' in the prose) but before the earlier ones. Only the
 *      last 16 complete objects are considered.
 *   2. Each candidate is read as strict JSON (jansson); failing that, as JSON
 *      after a repair pass (single-quoted strings where they open a key or
 *      value, True/False/None and yes/no barewords, unquoted keys, trailing
 *      commas, // comments, raw control characters and bad escapes inside
 *      strings, invalid UTF-8, and an unfinished string, value or bracket
 *      closed at the end); failing that, by the key scan of step 3 limited
 *      to the candidate. The first candidate holding a key of an expected
 *      field is the answer; fields it lacks count as missing.
 *   3. With no such candidate, a key scan of the whole text: every
 *      `key: value` or `key = value` (key quoted or not, markdown ** allowed,
 *      on one line) whose key names an expected field and whose value reads
 *      (unreadable ones are skipped: prose is noisy); the last occurrence of
 *      each field wins. Values outside brackets end at the line's end.
 *
 * Keys are split into words (at non-letters and at camelCase humps) and
 * matched case-insensitively by word:
 *   selection: selected, selection, select, chosen, choice, choices, choose,
 *              indices, index, indexes, best, keep, kept, top, pick, picked
 *              ("selected_responses", "bestIndices", "chosen ids", ...);
 *   end:       end, stop, done, finish, finished, terminate, halt
 *              ("end", "end_debate", "shouldStop", "done", ...);
 *   reasoning: reasoning, reason, reasons, rationale, explanation,
 *              justification, analysis, thoughts, thought, thinking,
 *              evaluation, critique.
 * A key with words of several kinds is a reasoning key first ("end_reason"),
 * then a selection key. Within one JSON object the first key of a kind wins;
 * nested objects are searched (4 levels) for kinds not found at the top.
 *
 * Values:
 *   selection: a number, or an array of numbers, strings and nested arrays
 *     (flattened), or a string holding a list: "2", "[1, 3]", "1 and 3",
 *     "Response 1, Response 3", "#2". A non-integer number, a string that is
 *     not such a list, or any other value makes the selection unreadable.
 *     More than 256 entries is unreadable too. In JSON a selection key that
 *     is present but unreadable still makes its object the answer.
 *   end: true/false, 1/0, or a string or bareword whose first word is
 *     true/yes/y/1 or false/no/n/0 (any case). Anything else is unreadable.
 *
 * Rules applied to the selection, in order (k' = min(k, n)):
 *   - none found or unreadable -> k' indices drawn at random (UNPARSABLE);
 *   - an empty list -> k' at random (EMPTY);
 *   - 1-based answers: the list is shifted down by one when it contains n
 *     and does not contain 0 (ONE_BASED). Otherwise it is taken as 0-based,
 *     as the prompt asks: "[1, 2]" with n = 4 stays {1, 2};
 *   - any entry outside [0, n) (negative, too large, overflowing) -> k' at
 *     random (OUT_OF_RANGE);
 *   - repeated entries are dropped, the first kept (DUPLICATES);
 *   - more than k' distinct entries -> k' of them at random (TOO_MANY);
 *   - fewer than k' are kept as given (FEWER).
 * Random draws use xoshiro256** seeded with params->seed (partial
 * Fisher-Yates), so the same text and seed give the same result. Callers
 * should vary the seed per query and layer.
 *
 * The chosen indices are returned in ascending order, not in the model's
 * order: the selection is a set (top-k gating), and a canonical order makes
 * the next layer's prompt depend only on which responses were kept (shared
 * prompt prefixes, reproducible traces) rather than on how the judge listed
 * them.
 *
 * The end flag: absent or unreadable -> false, the debate goes on
 * (END_MISSING). Fields not expected are not reported.
 *
 * Reasoning: the string of a reasoning key in the answer's object; else the
 * prose before the answer, or after it when there is none (code fence lines
 * removed); when nothing was found, the whole text. Always valid UTF-8
 * (bad bytes and NULs become '?'), cut at a character boundary to fit
 * SMOA_JUDGE_REASONING_MAX. */
#ifndef SMOA_AGENTS_JUDGE_PARSE_H
#define SMOA_AGENTS_JUDGE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/strbuf.h"

#define SMOA_JUDGE_MAX_N 64           /* most responses one judge call sees   */
#define SMOA_JUDGE_REASONING_MAX 2048 /* bytes, NUL included                  */
#define SMOA_JUDGE_NOTE_MAX 256       /* bytes, NUL included                  */

/* What the call was asked to produce: the judge and the moderator may be one
 * call (both) or two. */
typedef enum smoa_judge_fields {
    SMOA_JUDGE_EXPECT_SELECTION = 1u << 0,
    SMOA_JUDGE_EXPECT_END = 1u << 1,
    SMOA_JUDGE_EXPECT_BOTH = SMOA_JUDGE_EXPECT_SELECTION | SMOA_JUDGE_EXPECT_END
} smoa_judge_fields;

typedef struct smoa_judge_params {
    int32_t n;       /* responses judged, 1..SMOA_JUDGE_MAX_N               */
    int32_t k;       /* responses to keep, >= 1 (k >= n keeps up to n)       */
    uint64_t seed;   /* of the fallbacks' random draws                       */
    unsigned fields; /* smoa_judge_fields bits, not 0; n and k are ignored
                        (may be 0) without SMOA_JUDGE_EXPECT_SELECTION      */
} smoa_judge_params;

/* How the answer was read. */
typedef enum smoa_judge_method {
    SMOA_JUDGE_METHOD_NONE = 0,     /* nothing expected was found            */
    SMOA_JUDGE_METHOD_JSON = 1,     /* strict JSON                           */
    SMOA_JUDGE_METHOD_REPAIRED = 2, /* JSON after the repair pass            */
    SMOA_JUDGE_METHOD_KEY_SCAN = 3  /* key: value scanning                   */
} smoa_judge_method;

/* What happened on the way (bits of smoa_judge_result.events; 0 = none). */
typedef enum smoa_judge_event {
    SMOA_JUDGE_EVENT_UNPARSABLE = 1u << 0,   /* no readable selection: random k */
    SMOA_JUDGE_EVENT_EMPTY = 1u << 1,        /* empty selection: random k       */
    SMOA_JUDGE_EVENT_ONE_BASED = 1u << 2,    /* read as 1-based, shifted down   */
    SMOA_JUDGE_EVENT_OUT_OF_RANGE = 1u << 3, /* index outside [0, n): random k  */
    SMOA_JUDGE_EVENT_DUPLICATES = 1u << 4,   /* repeated indices dropped        */
    SMOA_JUDGE_EVENT_TOO_MANY = 1u << 5,     /* more than k: random k of them   */
    SMOA_JUDGE_EVENT_FEWER = 1u << 6,        /* fewer than k: kept as given     */
    SMOA_JUDGE_EVENT_END_MISSING = 1u << 7   /* no readable end flag: continue  */
} smoa_judge_event;

typedef struct smoa_judge_result {
    /* Distinct, ascending, in [0, n); n_chosen is min(k, n), or fewer when
     * the model validly chose fewer; 0 when the selection is not expected. */
    int32_t chosen[SMOA_JUDGE_MAX_N];
    int32_t n_chosen;
    bool end;                  /* stop the debate; false unless read as true */
    bool parsed_ok;            /* every expected field was found and read    */
    smoa_judge_method method;
    unsigned events;           /* smoa_judge_event bits                      */
    char reasoning[SMOA_JUDGE_REASONING_MAX]; /* see above; may be ""        */
    char note[SMOA_JUDGE_NOTE_MAX];           /* one line for the trace      */
} smoa_judge_result;

/* Reads text[len] (any bytes; NULL only with len 0) into *out, which is fully
 * written whatever the status. SMOA_ERR_INVALID_ARGUMENT for a NULL params
 * or out, or params out of range; SMOA_ERR_OUT_OF_MEMORY when a work buffer
 * cannot be had. Never fails because of the text. */
smoa_status smoa_judge_parse(const char *text, size_t len, const smoa_judge_params *params,
                             smoa_judge_result *out, smoa_error *err);

/* Appends to out the answer format to show the model, with the canonical key
 * names the parser reads and <...> placeholders for the values, e.g.
 *   {"reasoning": "<...>", "selected": [<2 distinct indices from 0 to 3>],
 *    "end": <true to stop the debate, false to go on>}
 * The placeholders are never read as an answer, so a model that echoes the
 * format before answering does not select anything by it. */
smoa_status smoa_judge_format(const smoa_judge_params *params, smoa_strbuf *out,
                              smoa_error *err);

/* "none", "json", "repaired json", "key scan"; "?" for other values. */
const char *smoa_judge_method_name(smoa_judge_method method);

/* "unparsable", "empty", "one-based", "out-of-range", "duplicates",
 * "too-many", "fewer", "end-missing" for one event bit; "?" otherwise. */
const char *smoa_judge_event_name(smoa_judge_event event);

#endif
