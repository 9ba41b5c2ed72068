/* agent_call.h - running several agents' model calls as one batch: render
 * each call's messages with the chat template, prefill all prompts
 * together (their common token prefix once, then forked; or the rest of a
 * kept conversation), generate all together, and account tokens and time. */
#ifndef SMOA_AGENTS_AGENT_CALL_H
#define SMOA_AGENTS_AGENT_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agents/run.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "smoa.h"

/* A finished call's sequence, kept for a follow-up call on the same
 * session: the tokens its KV cache holds, in order. */
typedef struct smoa_call_cache {
    int32_t seq;
    int32_t *tokens;             /* [n]                                     */
    uint32_t n;                  /* 0: nothing kept                         */
} smoa_call_cache;

typedef struct smoa_agent_call {
    /* in */
    const char *system;          /* NULL: no system message                */
    const char *user;
    const char *reply;           /* with follow_up: the assistant's answer  */
    const char *follow_up;       /* to user, and the user's next message    */
    smoa_call_cache *resume;     /* a kept sequence of this conversation:
                                    its longest common token prefix with
                                    this prompt is reused, not recomputed;
                                    the call takes it over (NULL: none)     */
    uint64_t seed;
    bool own_temperature;        /* use `temperature`, not the settings'    */
    float temperature;
    uint32_t max_tokens;         /* 0: the settings'                        */
    /* out */
    uint32_t prompt_tokens;
    smoa_strbuf response;
    uint32_t generated_tokens;
    smoa_stop_reason stop;
    double seconds;
    smoa_call_cache kept;        /* with settings.keep: the call's sequence
                                    (n 0 when it could not be kept)         */
} smoa_agent_call;

typedef struct smoa_call_settings {
    float temperature;
    uint32_t max_tokens;
    smoa_stage stage;            /* whose account the calls go to           */
    smoa_token_fn stream;        /* streams call 0's text (the aggregator)  */
    void *user_data;
    const volatile int32_t *cancel;
    bool keep;                   /* keep each call's sequence (call.kept)   */
} smoa_call_settings;

/* Runs every call to completion. A call that fails on its own (its prompt
 * does not fit, its sequence errs) ends with stop SMOA_STOP_ERROR or
 * SMOA_STOP_CONTEXT and an empty response; the others go on. */
smoa_status smoa_agents_generate(smoa_ctx *ctx, smoa_session *s, smoa_run *run, smoa_agent_call *calls, size_t n,
                                 const smoa_call_settings *settings, smoa_error *err);

/* Prefills each call's prompt (up to the opening of the assistant turn)
 * and returns, per call, the next-token logits at the given token ids:
 * out[i * n_ids + j] (-inf for a call whose prompt did not fit, whose stop
 * is then SMOA_STOP_CONTEXT). No generation. */
smoa_status smoa_agents_score(smoa_session *s, smoa_run *run, smoa_stage stage, smoa_agent_call *calls, size_t n,
                              const int32_t *ids, size_t n_ids, float *out, smoa_error *err);

/* Frees the response (not the kept sequence: smoa_call_cache_release). */
void smoa_agent_call_free(smoa_agent_call *call);
/* Frees a kept sequence (it lives in session s) and its tokens; a no-op
 * for a cache that holds nothing. */
void smoa_call_cache_release(smoa_session *s, smoa_call_cache *cache);

#endif
