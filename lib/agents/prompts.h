/* prompts.h - the texts the SMoA orchestrator sends to its models.
 *
 * Every builder appends message CONTENT (a system or user text) to a strbuf;
 * the chat template turns messages into the model's prompt elsewhere. The
 * texts are deliberately short and plain: the default model (SmolLM2-135M)
 * has a small context and follows short instructions best.
 *
 * Builders return false only when memory runs out, and then leave the buffer
 * as it was. Responses quoted inside a prompt are stripped of surrounding
 * whitespace and clipped to max_response_bytes (0 = no limit) at a UTF-8
 * character boundary, followed by SMOA_PROMPT_CLIP_MARKER when cut. */
#ifndef SMOA_AGENTS_PROMPTS_H
#define SMOA_AGENTS_PROMPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/strbuf.h"

/* Appended to a quoted response that was cut to fit its byte budget. */
#define SMOA_PROMPT_CLIP_MARKER " [...]"

/* Written in place of a response that is empty (after stripping), so the
 * numbering stays visible to the model. */
#define SMOA_PROMPT_EMPTY_RESPONSE "(empty)"

/* Parsed roles longer than this are cut (at a UTF-8 boundary): a persona is
 * one sentence, and a runaway line would eat a small model's context. */
#define SMOA_PROMPT_ROLE_MAX_BYTES 300

/* ---- Roles (personas, used as a proposer's system message) ---- */

/* The built-in personas, each one sentence naming an occupation, a
 * personality and a point of view; all distinct. Static storage. Role i goes
 * to proposer i (the caller wraps around when it has more proposers). */
const char *const *smoa_prompt_default_roles(size_t *n_roles);

/* The request to the aggregator model that writes n_roles personas for a
 * task, given a one-paragraph description of it. Asks for one persona per
 * line, numbered, each starting with "You are". */
bool smoa_prompt_role_request(smoa_strbuf *out, const char *task_description, size_t n_roles);

/* Reads up to max_roles personas from a model's answer to the role request.
 * Copies go to roles[0 .. *n_found-1] (malloc'd, free them with
 * smoa_prompt_free_roles); *n_found may be below max_roles, 0 included, and
 * the caller then regenerates or pads with the default roles. Returns false
 * only when memory runs out (nothing is then left allocated).
 *
 * Rules, line by line (CR LF accepted):
 *   - list markers are stripped: "1." "1)" "(1)" "1:" "-" "*" "+" and the
 *     bullet U+2022, and labels such as "Persona 2:" or "Role:";
 *   - Markdown emphasis ("**", "__"), surrounding quotes (straight or curly)
 *     and a trailing comma are removed; a one-line list of quoted strings
 *     (["You are ...", "You are ..."], maybe after a lead-in such as
 *     "Personas:") gives one role per string;
 *   - a line is a STRONG candidate when it had a list marker or a label, was
 *     quoted, or starts with "You are"; when any strong candidate exists only
 *     those count, so chatter around a list ("Sure! Here they are:", "Hope
 *     this helps") is ignored. Otherwise every line counts except headers
 *     (lines ending with ':');
 *   - lines with fewer than 3 letters, and repeats of an earlier role
 *     (ignoring case), are skipped; roles are cut to
 *     SMOA_PROMPT_ROLE_MAX_BYTES. */
bool smoa_prompt_parse_roles(const char *text, size_t max_roles, char **roles, size_t *n_found);

void smoa_prompt_free_roles(char **roles, size_t n_roles);

/* ---- Synthesis (layer >= 2 proposers and the aggregator) ---- */

/* The system message of a proposer in layer >= 2, or of the aggregator: the
 * role first when given (role may be NULL or ""), then an instruction to
 * combine the reference responses critically (they may be wrong or biased)
 * into one better answer, then the responses numbered "Response 1:" ..
 * "Response k:". */
bool smoa_prompt_synthesis(smoa_strbuf *out, const char *role, const char *const *responses,
                           size_t n_responses, size_t max_response_bytes);

/* A proposer's user message when its persona follows the question (the
 * default layout): the question, a blank line, then the persona and a
 * request to answer in it. Every proposer's prompt then starts with the
 * same system message and question, which are prefilled once. */
bool smoa_prompt_in_role(smoa_strbuf *out, const char *question, const char *role);

/* ---- Generative judge and moderator ---- */

typedef enum smoa_judge_ask {
    SMOA_JUDGE_ASK_SELECT, /* judge alone: {"selected": [...]}             */
    SMOA_JUDGE_ASK_END,    /* moderator alone: {"end": true|false}          */
    SMOA_JUDGE_ASK_BOTH    /* one call, as in the reference code: both keys */
} smoa_judge_ask;

/* The judge's user message: the question, the responses numbered from 0
 * ("Response 0:" ..), then the request to weigh correctness, fluency,
 * relevance and quality, give reasons first and end with a JSON object
 * choosing exactly k responses ("selected") and/or saying whether the
 * responses already agree ("end"). The format example uses letters as
 * placeholders ([a, b]) so it suggests no particular indices; its "end" is
 * false, the conservative default. Meant for 1 <= k <= n_responses. */
bool smoa_prompt_judge(smoa_strbuf *out, smoa_judge_ask ask, const char *question,
                       const char *const *responses, size_t n_responses, size_t k,
                       size_t max_response_bytes);

/* ---- Scoring judge ---- */

/* The scoring judge's user message: the question and ONE response, then a
 * request to answer with a single word, Yes or No. The orchestrator reads
 * the probability of the verdict words at the first generated position. */
bool smoa_prompt_score(smoa_strbuf *out, const char *question, const char *response,
                       size_t max_response_bytes);

/* The self judge's follow-up: asked in the proposer's own conversation,
 * after its answer, for the same one-word verdict. */
const char *smoa_prompt_self_verdict(void);

typedef enum smoa_verdict { SMOA_VERDICT_NO = 0, SMOA_VERDICT_YES = 1 } smoa_verdict;

/* The spellings of a verdict to look up as single tokens: {"Yes", " Yes"}
 * or {"No", " No"}. The bare form comes first: it is the one a model writes
 * at the start of its turn when the template ends the assistant header with
 * a newline (ChatML, Llama 3, Gemma). The leading-space form is what
 * SentencePiece vocabularies and "[/INST] answer" templates produce. The
 * caller sums the probabilities of the forms that are single tokens in its
 * vocabulary and ignores the others. Static storage. */
const char *const *smoa_prompt_verdict_words(smoa_verdict verdict, size_t *n_words);

#endif
