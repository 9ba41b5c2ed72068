/* orchestrator.c - one query through single, MoA or SMoA mode.
 *
 *   SMoA: layer 1: n role-played proposers answer together (one batch)
 *         -> judge keeps k of the n -> moderator: stop? -> layer 2..L:
 *         proposers refine the k kept (roles kept) -> ... -> the judge
 *         selects after the last layer too -> aggregator answers from k.
 *   MoA:  the same without roles, judge or stop: every response goes on.
 *   single: the aggregator model answers alone.
 * Every call, choice and stop decision goes into the run's trace. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent_call.h"
#include "agents/extract.h"
#include "agents/judge_parse.h"
#include "agents/prompts.h"
#include "agents/roles.h"
#include "agents/run.h"
#include "core/context.h"
#include "core/options.h"
#include "engine/session.h"
#include "model/tokenizer_utf8.h"
#include "model/vocab.h"

#define MAX_PROPOSERS 16
#define MAX_LAYERS 8
#define RESPONSE_CLIP_BYTES 1500 /* each response as shown to later calls */

typedef struct orchestra {
    smoa_ctx *ctx;
    smoa_session *session;              /* the query's: default for every agent */
    smoa_session *judge_session;
    smoa_session *aggregator_session;
    smoa_agent_spec agents[MAX_PROPOSERS]; /* resolved: a session each      */
    smoa_run *run;
    smoa_run_options o;
    const char *question;
    smoa_error *err;
    const char *roles[MAX_PROPOSERS];   /* NULL for MoA (no personas)         */
    smoa_strbuf responses[MAX_PROPOSERS]; /* the last layer's answers        */
    smoa_strbuf systems[MAX_PROPOSERS]; /* ... their prompts' system and user */
    smoa_strbuf users[MAX_PROPOSERS];   /* messages (user empty: the question) */
    smoa_call_cache caches[MAX_PROPOSERS]; /* their sequences, for the self judge */
    bool usable[MAX_PROPOSERS];         /* false: the call failed or is empty */
    int32_t kept[MAX_PROPOSERS];        /* indices going forward              */
    char *written_roles[MAX_PROPOSERS]; /* personas the model wrote (owned)   */
    size_t n_written_roles;
    size_t n_kept;
    uint64_t call_seed;                 /* advances with every call           */
} orchestra;

void smoa_run_options_init_sized(smoa_run_options *options, size_t size) {
    const smoa_run_options defaults = {.struct_size = sizeof defaults, .mode = SMOA_MODE_SMOA, .n_proposers = 4,
                                       .k = 2, .n_layers = 2, .judge = SMOA_JUDGE_GENERATIVE,
                                       .moderator = SMOA_MODERATOR_JUDGE, .temperature = 0.7f, .max_tokens = 256,
                                       .judge_max_tokens = 256, .aggregator_max_tokens = 256, .seed = 42};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

void smoa_agent_spec_init_sized(smoa_agent_spec *spec, size_t size) {
    const smoa_agent_spec defaults = {.struct_size = sizeof defaults, .temperature = -1.0f};
    smoa_options_fill(spec, size, &defaults, sizeof defaults);
}

/* Sequences a batch of m calls holds at once: one each, plus the shared
 * prefix's while it is forked. */
static uint32_t sequences_for(uint32_t m) { return m > 1 ? m + 1 : m; }

/* Every session must hold its largest batch: its proposers, the scoring
 * judge's n prompts, one call otherwise. */
static smoa_status check_capacity(const orchestra *q, smoa_error *err) {
    const smoa_run_options *o = &q->o;
    smoa_session *used[MAX_PROPOSERS + 2];
    uint32_t need[MAX_PROPOSERS + 2] = {0};
    size_t n_used = 0;
    for (size_t i = 0; i < o->n_proposers + 2; i++) {
        smoa_session *s = i < o->n_proposers ? q->agents[i].session
                          : i == o->n_proposers ? q->judge_session : q->aggregator_session;
        uint32_t batch = i < o->n_proposers ? 1 : i == o->n_proposers && o->judge == SMOA_JUDGE_SCORE ? o->n_proposers : 1;
        size_t j = 0;
        while (j < n_used && used[j] != s) j++;
        if (j == n_used) used[n_used++] = s;
        need[j] = i < o->n_proposers ? need[j] + 1 : need[j] > batch ? need[j] : batch;
    }
    for (size_t j = 0; j < n_used; j++)
        if (used[j]->opts.n_seq_max < sequences_for(need[j]))
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                                  "a session holds %u sequences; its agents need n_seq_max >= %u",
                                  used[j]->opts.n_seq_max, sequences_for(need[j]));
    return SMOA_OK;
}

/* Each proposer's spec with its session filled in (the query's by default). */
static smoa_status resolve_agents(orchestra *q, smoa_error *err) {
    q->judge_session = q->o.judge_session ? q->o.judge_session : q->session;
    q->aggregator_session = q->o.aggregator_session ? q->o.aggregator_session : q->session;
    for (size_t i = 0; i < q->o.n_proposers; i++) {
        smoa_agent_spec *a = &q->agents[i];
        smoa_agent_spec_init(a);
        if (q->o.agents) {
            if (!q->o.agents[i]) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "agents[%zu] is NULL", i);
            smoa_status st = smoa_options_read(a, sizeof *a, q->o.agents[i], "smoa_agent_spec", err);
            if (st) return st;
        }
        if (!a->session) a->session = q->session;
        if (!isfinite(a->temperature))
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "agent %zu: temperature is not finite", i);
        if (a->role && !a->role[0]) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "agent %zu: empty role", i);
    }
    return check_capacity(q, err);
}

static smoa_status check_options(const smoa_run_options *o, smoa_error *err) {
    if (o->mode > SMOA_MODE_SMOA || o->judge > SMOA_JUDGE_SELF || o->moderator > SMOA_MODERATOR_NONE)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "unknown mode, judge or moderator kind");
    if (o->n_proposers < 1 || o->n_proposers > MAX_PROPOSERS || o->k < 1 || o->k > o->n_proposers ||
        o->n_layers < 1 || o->n_layers > MAX_LAYERS)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "need 1 <= k <= n <= %d and 1 <= layers <= %d (n %u, k %u, layers %u)", MAX_PROPOSERS,
                              MAX_LAYERS, o->n_proposers, o->k, o->n_layers);
    if (o->answer_choices == 1 || o->answer_choices > 26)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "answer_choices must be 0 or 2..26 (got %u)",
                              o->answer_choices);
    if (!(o->temperature >= 0) || !isfinite(o->temperature) || !o->max_tokens || !o->judge_max_tokens ||
        !o->aggregator_max_tokens)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "temperature must be >= 0 and token budgets > 0");
    for (uint32_t i = 0; o->roles && i < o->n_proposers; i++)
        if (!o->roles[i] || !o->roles[i][0])
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "role %u is NULL or empty", i);
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Trace helpers                                                            */

static json_t *call_json(const smoa_agent_call *c, int agent, const char *role) {
    return json_pack("{s:i, s:s?, s:s?, s:s?, s:s%, s:i, s:i, s:s, s:f}", "agent", agent, "role", role, "system",
                     c->system, "user", c->user, "text", c->response.data ? c->response.data : "", c->response.len,
                     "prompt_tokens",
                     (int)c->prompt_tokens, "generated_tokens", (int)c->generated_tokens, "stop",
                     smoa_stop_reason_str(c->stop), "seconds", c->seconds);
}

static json_t *indices_json(const int32_t *idx, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer(idx[i]));
    return a;
}

/* ------------------------------------------------------------------------ */
/* Proposers                                                                */

/* The system message of proposer i in a layer: the synthesis instructions
 * and the kept responses after layer 1, preceded by its role when roles go
 * into the system message. */
static bool proposer_system(orchestra *q, size_t layer, size_t i, smoa_strbuf *out) {
    const char *role = q->o.role_in_system ? q->roles[i] : NULL;
    if (layer == 0) return role ? smoa_strbuf_append_str(out, role) : true;
    const char *kept[MAX_PROPOSERS];
    for (size_t j = 0; j < q->n_kept; j++) kept[j] = q->responses[q->kept[j]].data;
    return smoa_prompt_synthesis(out, role, kept, q->n_kept, RESPONSE_CLIP_BYTES);
}

/* Proposer i's messages in the current layer, as propose() built them. */
static const char *system_of(const orchestra *q, size_t i) { return q->systems[i].len ? q->systems[i].data : NULL; }
static const char *user_of(const orchestra *q, size_t i) { return q->users[i].len ? q->users[i].data : q->question; }

/* Runs a batch of calls on session s; members[j] is the index of batch[j]
 * among all the calls. */
typedef smoa_status (*batch_fn)(orchestra *q, smoa_session *s, smoa_agent_call *batch, const size_t *members,
                                size_t m, void *arg);

/* Runs calls in one batch per session (model), the batches in turn;
 * sessions[i] is call i's (NULL: leave call i alone). Results (and
 * ownership) go back into calls. */
static smoa_status per_session(orchestra *q, smoa_session *const *sessions, smoa_agent_call *calls, size_t n,
                               batch_fn fn, void *arg) {
    bool done[MAX_PROPOSERS] = {false};
    smoa_status st = SMOA_OK;
    for (size_t first = 0; first < n && st == SMOA_OK; first++) {
        if (done[first] || !sessions[first]) continue;
        smoa_agent_call batch[MAX_PROPOSERS];
        size_t members[MAX_PROPOSERS], m = 0;
        for (size_t i = first; i < n; i++)
            if (!done[i] && sessions[i] == sessions[first]) members[m] = i, batch[m++] = calls[i], done[i] = true;
        st = fn(q, sessions[first], batch, members, m, arg);
        for (size_t j = 0; j < m; j++) calls[members[j]] = batch[j];
    }
    return st;
}

static smoa_status generate_batch(orchestra *q, smoa_session *s, smoa_agent_call *batch, const size_t *members,
                                  size_t m, void *arg) {
    (void)members;
    return smoa_agents_generate(q->ctx, s, q->run, batch, m, arg, q->err);
}

/* The self judge rates each response in the proposer's own conversation,
 * so the proposers' sequences are kept until it has. */
static bool keeps_sequences(const orchestra *q) { return q->o.mode == SMOA_MODE_SMOA && q->o.judge == SMOA_JUDGE_SELF; }

static void release_caches(orchestra *q) {
    for (size_t i = 0; i < q->o.n_proposers; i++) smoa_call_cache_release(q->agents[i].session, &q->caches[i]);
}

static smoa_status propose(orchestra *q, size_t layer, json_t *layer_json) {
    size_t n = q->o.n_proposers;
    smoa_agent_call calls[MAX_PROPOSERS] = {0};
    smoa_session *sessions[MAX_PROPOSERS];
    smoa_status st = SMOA_OK;
    for (size_t i = 0; i < n && st == SMOA_OK; i++) {
        bool role_in_user = q->roles[i] && !q->o.role_in_system;
        q->systems[i].len = q->users[i].len = 0;
        if (!proposer_system(q, layer, i, &q->systems[i]) ||
            (role_in_user && !smoa_prompt_in_role(&q->users[i], q->question, q->roles[i])))
            st = smoa_error_set(q->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        calls[i].system = system_of(q, i);
        calls[i].user = user_of(q, i);
        calls[i].seed = q->call_seed++;
        calls[i].own_temperature = q->agents[i].temperature >= 0;
        calls[i].temperature = q->agents[i].temperature;
        calls[i].max_tokens = q->agents[i].max_tokens;
        sessions[i] = q->agents[i].session;
    }
    smoa_call_settings cs = {q->o.temperature, q->o.max_tokens, SMOA_STAGE_PROPOSE, NULL, NULL, q->o.cancel,
                             keeps_sequences(q)};
    if (st == SMOA_OK) st = per_session(q, sessions, calls, n, generate_batch, &cs);
    json_t *proposers = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *entry = call_json(&calls[i], (int)i, q->roles[i]);
        json_object_set_new(entry, "model", json_string(q->agents[i].session->model->name));
        json_array_append_new(proposers, entry);
        smoa_strbuf_free(&q->responses[i]);
        q->responses[i] = calls[i].response; /* ownership moves */
        calls[i].response = (smoa_strbuf){0};
        q->caches[i] = calls[i].kept;
        q->usable[i] = q->responses[i].len > 0 && calls[i].stop != SMOA_STOP_ERROR;
    }
    json_object_set_new(layer_json, "proposers", proposers);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Judges                                                                   */

/* Indices of the usable responses; a failed call's response is dropped. */
static size_t usable_indices(const orchestra *q, int32_t *idx) {
    size_t n = 0;
    for (size_t i = 0; i < q->o.n_proposers; i++)
        if (q->usable[i]) idx[n++] = (int32_t)i;
    return n;
}

/* The token a word starts with (the word itself in a real vocabulary; its
 * first byte in a bytes-only one), or -1. */
static int32_t word_token(const smoa_vocab *v, const char *word) {
    int32_t ids[16];
    size_t n;
    smoa_status st = smoa_vocab_tokenize(v, word, strlen(word), 0, ids, 16, &n, NULL);
    return st == SMOA_OK && n >= 1 ? ids[0] : -1;
}

/* The tokens "Yes" and "No" start with in s's vocabulary. */
static smoa_status verdict_ids(const smoa_session *s, int32_t ids[2], smoa_error *err) {
    size_t n_yes, n_no;
    const char *const *yes = smoa_prompt_verdict_words(SMOA_VERDICT_YES, &n_yes);
    const char *const *no = smoa_prompt_verdict_words(SMOA_VERDICT_NO, &n_no);
    ids[0] = word_token(s->model->vocab, yes[0]);
    ids[1] = word_token(s->model->vocab, no[0]);
    if (ids[0] < 0 || ids[0] == ids[1])
        return smoa_error_set(err, SMOA_ERR_UNSUPPORTED, "the vocabulary cannot tell '%s' from '%s'", yes[0], no[0]);
    return SMOA_OK;
}

/* Logits of "Yes" and "No" after each call's prompt: pair[2i], pair[2i+1]
 * for call members[j] = i. */
static smoa_status score_batch(orchestra *q, smoa_session *s, smoa_agent_call *batch, const size_t *members, size_t m,
                               void *arg) {
    float *pair = arg, got[MAX_PROPOSERS * 2];
    int32_t ids[2];
    smoa_status st = verdict_ids(s, ids, q->err);
    if (st == SMOA_OK) st = smoa_agents_score(s, q->run, SMOA_STAGE_JUDGE, batch, m, ids, 2, got, q->err);
    for (size_t j = 0; st == SMOA_OK && j < m; j++) memcpy(&pair[2 * members[j]], &got[2 * j], sizeof got[0] * 2);
    return st;
}

/* Candidate c's scoring call: a fresh prompt to the judge model ("score"),
 * or the verdict question asked in the proposer's own conversation, whose
 * KV cache is still there ("self"). */
static bool scoring_call(orchestra *q, int32_t c, smoa_strbuf *user, smoa_agent_call *call) {
    if (q->o.judge == SMOA_JUDGE_SELF) {
        *call = (smoa_agent_call){.system = system_of(q, (size_t)c), .user = user_of(q, (size_t)c),
                                  .reply = q->responses[c].data, .follow_up = smoa_prompt_self_verdict(),
                                  .resume = &q->caches[c]};
        return true;
    }
    if (!smoa_prompt_score(user, q->question, q->responses[c].data, RESPONSE_CLIP_BYTES)) return false;
    call->user = user->data;
    return true;
}

/* The self judge's verdicts that did not fit the KV budget while every
 * kept conversation held its pages, asked again now that those are free
 * (from scratch: their caches went with the first try). */
static smoa_status rescore_unfitted(orchestra *q, smoa_session *const *sessions, smoa_agent_call *calls, size_t n,
                                    float *pair) {
    smoa_session *again[MAX_PROPOSERS];
    for (size_t i = 0; i < n; i++) again[i] = calls[i].stop == SMOA_STOP_CONTEXT ? sessions[i] : NULL;
    return per_session(q, again, calls, n, score_batch, pair);
}

/* Scoring judges: log-odds of "Yes" over "No" as the first word of the
 * verdict, one prefill per response (batched), then top-k gating. */
static smoa_status judge_by_score(orchestra *q, const int32_t *cand, size_t n_cand, json_t *judge) {
    bool self = q->o.judge == SMOA_JUDGE_SELF;
    smoa_agent_call calls[MAX_PROPOSERS] = {0};
    smoa_strbuf users[MAX_PROPOSERS] = {0};
    smoa_session *sessions[MAX_PROPOSERS];
    smoa_status st = SMOA_OK;
    for (size_t i = 0; i < n_cand && st == SMOA_OK; i++) {
        sessions[i] = self ? q->agents[cand[i]].session : q->judge_session;
        if (!scoring_call(q, cand[i], &users[i], &calls[i]))
            st = smoa_error_set(q->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    float pair[MAX_PROPOSERS * 2], scores[MAX_PROPOSERS], weights[MAX_PROPOSERS];
    if (st == SMOA_OK) st = per_session(q, sessions, calls, n_cand, score_batch, pair);
    if (st == SMOA_OK && self) st = rescore_unfitted(q, sessions, calls, n_cand, pair);
    json_t *scored = json_array();
    for (size_t i = 0; i < n_cand; i++) {
        /* a response whose scoring prompt did not fit ranks last */
        bool scored_ok = st == SMOA_OK && calls[i].stop != SMOA_STOP_CONTEXT;
        scores[i] = scored_ok ? pair[2 * i] - pair[2 * i + 1] : -INFINITY;
        json_array_append_new(scored, json_pack("{s:i, s:o, s:i}", "agent", cand[i], "yes_minus_no",
                                                scored_ok ? json_real(scores[i]) : json_null(), "prompt_tokens",
                                                (int)calls[i].prompt_tokens));
        smoa_strbuf_free(&users[i]);
    }
    size_t k = q->o.k < n_cand ? q->o.k : n_cand;
    int32_t top[MAX_PROPOSERS];
    if (st == SMOA_OK)
        st = smoa_session_topk_gating(q->judge_session, scores, 1, (int)n_cand, (int)k, top, weights, q->err);
    q->n_kept = st == SMOA_OK ? k : 0;
    for (size_t j = 0; j < q->n_kept; j++) q->kept[j] = cand[top[j]];
    json_object_set_new(judge, "kind", json_string(self ? "self" : "score"));
    json_object_set_new(judge, "scores", scored);
    return st;
}

/* One generative judge/moderator call over the candidates. */
static smoa_status judge_call(orchestra *q, smoa_judge_ask ask, const int32_t *cand, size_t n_cand,
                              smoa_judge_result *r, json_t *out) {
    const char *texts[MAX_PROPOSERS];
    for (size_t i = 0; i < n_cand; i++) texts[i] = q->responses[cand[i]].data;
    smoa_strbuf prompt = {0};
    smoa_agent_call call = {.seed = q->call_seed++};
    if (!smoa_prompt_judge(&prompt, ask, q->question, texts, n_cand, q->o.k, RESPONSE_CLIP_BYTES)) {
        smoa_strbuf_free(&prompt);
        return smoa_error_set(q->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    call.user = prompt.data;
    smoa_stage stage = ask == SMOA_JUDGE_ASK_END ? SMOA_STAGE_MODERATE : SMOA_STAGE_JUDGE;
    smoa_call_settings cs = {q->o.temperature, q->o.judge_max_tokens, stage, NULL, NULL, q->o.cancel, false};
    smoa_status st = smoa_agents_generate(q->ctx, q->judge_session, q->run, &call, 1, &cs, q->err);
    unsigned fields = ask == SMOA_JUDGE_ASK_SELECT ? SMOA_JUDGE_EXPECT_SELECTION
                      : ask == SMOA_JUDGE_ASK_END  ? SMOA_JUDGE_EXPECT_END
                                                   : SMOA_JUDGE_EXPECT_BOTH;
    smoa_judge_params jp = {(int32_t)n_cand, (int32_t)q->o.k, q->o.seed + q->call_seed, fields};
    if (st == SMOA_OK)
        st = smoa_judge_parse(call.response.data ? call.response.data : "", call.response.len, &jp, r, q->err);
    json_object_set_new(out, "call", call_json(&call, -1, NULL));
    if (st == SMOA_OK)
        json_object_set_new(out, "parse", json_pack("{s:b, s:s, s:s, s:b}", "parsed_ok", r->parsed_ok, "method",
                                                    smoa_judge_method_name(r->method), "note", r->note, "end", r->end));
    smoa_agent_call_free(&call);
    smoa_strbuf_free(&prompt);
    return st;
}

static smoa_status judge_generative(orchestra *q, const int32_t *cand, size_t n_cand, bool last, bool *end,
                                    json_t *judge) {
    bool both = q->o.moderator == SMOA_MODERATOR_JUDGE && !q->o.separate_moderator && !last;
    smoa_judge_result r;
    smoa_status st = judge_call(q, both ? SMOA_JUDGE_ASK_BOTH : SMOA_JUDGE_ASK_SELECT, cand, n_cand, &r, judge);
    if (st) return st;
    q->n_kept = (size_t)r.n_chosen;
    for (int32_t j = 0; j < r.n_chosen; j++) q->kept[j] = cand[r.chosen[j]];
    json_object_set_new(judge, "kind", json_string("generative"));
    *end = both && r.end;
    return SMOA_OK;
}

/* Keeps every usable response (MoA), or the judge's top k (SMoA). After the
 * last layer there is nothing left to stop, so the judge only selects. */
static smoa_status select_responses(orchestra *q, bool last, bool *judge_says_end, json_t *layer_json) {
    int32_t cand[MAX_PROPOSERS];
    size_t n_cand = usable_indices(q, cand);
    *judge_says_end = false;
    if (n_cand == 0) return smoa_error_set(q->err, SMOA_ERR_BACKEND, "every proposer of the layer failed");
    for (size_t i = 0; i < q->o.n_proposers; i++) /* their pages go to the judge */
        if (!q->usable[i]) smoa_call_cache_release(q->agents[i].session, &q->caches[i]);
    json_t *judge = json_object();
    json_object_set_new(layer_json, "judge", judge);
    smoa_status st = SMOA_OK;
    if (q->o.mode != SMOA_MODE_SMOA || n_cand <= q->o.k) { /* nothing to choose */
        memcpy(q->kept, cand, n_cand * sizeof *cand);
        q->n_kept = n_cand;
        json_object_set_new(judge, "kind", json_string("none"));
    } else if (q->o.judge == SMOA_JUDGE_GENERATIVE) {
        st = judge_generative(q, cand, n_cand, last, judge_says_end, judge);
    } else {
        st = judge_by_score(q, cand, n_cand, judge);
    }
    release_caches(q);
    json_object_set_new(layer_json, "kept", indices_json(q->kept, q->n_kept));
    return st;
}

/* ------------------------------------------------------------------------ */
/* Moderator                                                                */

static smoa_status moderate(orchestra *q, bool judge_says_end, bool *stop, json_t *layer_json) {
    const char *texts[MAX_PROPOSERS];
    for (size_t j = 0; j < q->n_kept; j++) texts[j] = q->responses[q->kept[j]].data;
    const char *reason = "continue";
    smoa_status st = SMOA_OK;
    *stop = false;
    switch (q->o.moderator) {
    case SMOA_MODERATOR_JUDGE:
        /* its own call when asked, or when the judge scores and so writes no flag */
        if (q->o.separate_moderator || q->o.judge != SMOA_JUDGE_GENERATIVE) {
            smoa_judge_result r;
            json_t *mod = json_object();
            st = judge_call(q, SMOA_JUDGE_ASK_END, q->kept, q->n_kept, &r, mod);
            *stop = st == SMOA_OK && r.end;
            json_object_set_new(layer_json, "moderator", mod);
        } else {
            *stop = judge_says_end;
        }
        reason = *stop ? "the judge ended the debate" : reason;
        break;
    case SMOA_MODERATOR_AGREE_NUMBER:
    case SMOA_MODERATOR_AGREE_CHOICE: {
        smoa_answer_kind kind = q->o.moderator == SMOA_MODERATOR_AGREE_NUMBER ? SMOA_ANSWER_NUMBER : SMOA_ANSWER_CHOICE;
        int n_choices = q->o.answer_choices ? (int)q->o.answer_choices : 4; /* letters A-D unless told */
        *stop = q->n_kept > 1 && smoa_answers_agree(texts, q->n_kept, kind, n_choices);
        reason = *stop ? "the kept responses agree on their final answer" : reason;
        break;
    }
    default: break;
    }
    json_object_set_new(layer_json, "stop", json_pack("{s:b, s:s}", "decided", *stop, "reason", reason));
    return st;
}

/* ------------------------------------------------------------------------ */
/* Aggregator and the answer                                                */

/* Forwards the answer's bytes to the caller, noting the time to the first. */
static int stream_answer(int32_t seq, int32_t token, const char *piece, size_t len, void *user) {
    (void)seq;
    orchestra *q = user;
    if (q->run->ttft < 0 && len > 0) q->run->ttft = smoa_now() - q->run->start;
    return q->o.on_answer ? q->o.on_answer(-1, token, piece, len, q->o.user_data) : 0;
}

/* Multiple choice by likelihood: the letter the aggregator would most
 * likely write first. Letters that are no single token in the vocabulary
 * make the question unanswerable this way (UNSUPPORTED). */
static smoa_status choose_by_likelihood(orchestra *q, smoa_agent_call *call) {
    const smoa_vocab *v = q->aggregator_session->model->vocab;
    int32_t ids[26];
    for (uint32_t i = 0; i < q->o.answer_choices; i++) {
        char letter[2] = {(char)('A' + i), 0};
        ids[i] = word_token(v, letter);
        for (uint32_t j = 0; j < i; j++)
            if (ids[i] < 0 || ids[i] == ids[j])
                return smoa_error_set(q->err, SMOA_ERR_UNSUPPORTED, "the vocabulary has no token for option %s",
                                      letter);
    }
    smoa_run *run = q->run;
    smoa_status st = smoa_agents_score(q->aggregator_session, run, SMOA_STAGE_AGGREGATE, call, 1, ids, q->o.answer_choices,
                                       run->choice_logits, q->err);
    if (st == SMOA_OK && call->stop == SMOA_STOP_CONTEXT)
        return smoa_error_set(q->err, SMOA_ERR_CONTEXT_FULL, "the aggregator's prompt does not fit the context");
    if (st) return st;
    run->choice = 0;
    for (uint32_t i = 1; i < q->o.answer_choices; i++) /* ties go to the earlier letter */
        if (run->choice_logits[i] > run->choice_logits[run->choice]) run->choice = (int32_t)i;
    char letter = (char)('A' + run->choice);
    if (!smoa_strbuf_append(&call->response, &letter, 1)) return smoa_error_set(q->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    run->ttft = smoa_now() - run->start;
    if (q->o.on_answer) q->o.on_answer(-1, ids[run->choice], &letter, 1, q->o.user_data);
    return SMOA_OK;
}

/* The final answer: from the kept responses (MoA, SMoA), or directly. */
static smoa_status aggregate(orchestra *q, bool from_responses) {
    smoa_strbuf system = {0};
    smoa_agent_call call = {.user = q->question, .seed = q->call_seed++};
    if (from_responses) {
        const char *kept[MAX_PROPOSERS];
        for (size_t j = 0; j < q->n_kept; j++) kept[j] = q->responses[q->kept[j]].data;
        if (!smoa_prompt_synthesis(&system, NULL, kept, q->n_kept, RESPONSE_CLIP_BYTES))
            return smoa_error_set(q->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        call.system = system.data;
    }
    smoa_call_settings cs = {q->o.temperature, q->o.aggregator_max_tokens, SMOA_STAGE_AGGREGATE, stream_answer, q,
                             q->o.cancel, false};
    smoa_status st = q->o.answer_choices ? choose_by_likelihood(q, &call)
                                         : smoa_agents_generate(q->ctx, q->aggregator_session, q->run, &call, 1, &cs,
                                                                q->err);
    json_t *aggregator = call_json(&call, -1, NULL);
    if (q->o.answer_choices && st == SMOA_OK) {
        json_t *logits = json_array();
        for (uint32_t i = 0; i < q->o.answer_choices; i++)
            json_array_append_new(logits, json_real(q->run->choice_logits[i]));
        json_object_set_new(aggregator, "choice_logits", logits);
    }
    json_object_set_new(q->run->trace, "aggregator", aggregator);
    if (st == SMOA_OK && call.stop == SMOA_STOP_CONTEXT)
        st = smoa_error_set(q->err, SMOA_ERR_CONTEXT_FULL, "the aggregator's prompt does not fit the context");
    if (st == SMOA_OK) {
        q->run->answer = call.response;
        call.response = (smoa_strbuf){0};
    }
    smoa_agent_call_free(&call);
    smoa_strbuf_free(&system);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The layers                                                               */

static smoa_status run_layers(orchestra *q) {
    for (size_t layer = 0; layer < q->o.n_layers; layer++) {
        json_t *layer_json = json_pack("{s:i}", "layer", (int)layer + 1);
        json_array_append_new(q->run->layers, layer_json);
        bool judge_says_end = false, stop = false, last = layer + 1 == q->o.n_layers;
        smoa_status st = propose(q, layer, layer_json);
        if (st == SMOA_OK) st = select_responses(q, last, &judge_says_end, layer_json);
        q->run->layers_run = (uint32_t)layer + 1;
        if (st) return st;
        if (q->o.mode == SMOA_MODE_SMOA && !last && (st = moderate(q, judge_says_end, &stop, layer_json))) return st;
        if (stop) break;
    }
    return SMOA_OK;
}

/* Personas: none for MoA; the user's, the model's for the task, or ours. */
static smoa_status set_roles(orchestra *q) {
    size_t n_default;
    const char *const *defaults = smoa_prompt_default_roles(&n_default);
    bool agent_roles = false;
    for (size_t i = 0; i < q->o.n_proposers; i++) agent_roles = agent_roles || q->agents[i].role;
    const char *source = q->o.mode != SMOA_MODE_SMOA ? "none" : q->o.roles || agent_roles ? "user" : "default";
    if (q->o.mode == SMOA_MODE_SMOA && !q->o.roles && q->o.task) {
        smoa_status st = smoa_roles_for_task(q->ctx, q->aggregator_session, q->run, q->o.task, q->o.roles_cache,
                                             q->o.n_proposers, q->o.seed, q->o.temperature, q->written_roles, &source,
                                             q->err);
        if (st) return st;
        q->n_written_roles = q->o.n_proposers;
    }
    json_t *roles = json_array();
    for (size_t i = 0; i < q->o.n_proposers; i++) {
        q->roles[i] = q->o.mode != SMOA_MODE_SMOA ? NULL
                      : q->agents[i].role        ? q->agents[i].role
                      : q->n_written_roles       ? q->written_roles[i]
                      : q->o.roles               ? q->o.roles[i]
                                                 : defaults[i % n_default];
        json_array_append_new(roles, q->roles[i] ? json_string(q->roles[i]) : json_null());
    }
    json_object_set_new(q->run->trace, "roles", roles);
    json_object_set_new(q->run->trace, "roles_source", json_string(source));
    return SMOA_OK;
}

smoa_status smoa_run_query(smoa_ctx *ctx, smoa_session *session, const char *question,
                           const smoa_run_options *options, smoa_run **out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!session || !question || !out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session, question and out are required");
    *out = NULL;
    if (!question[0]) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the question is empty");
    size_t bad;
    if (!smoa_utf8_validate(question, strlen(question), &bad))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "the question is not valid UTF-8 (byte %zu)", bad);
    orchestra q = {.ctx = ctx, .session = session, .question = question, .err = err};
    smoa_run_options_init(&q.o);
    smoa_status st = smoa_options_read(&q.o, sizeof q.o, options, "smoa_run_options", err);
    if (st || (st = check_options(&q.o, err)) || (st = resolve_agents(&q, err))) return st;
    q.call_seed = q.o.seed;
    q.run = smoa_run_new(question, &q.o);
    if (!q.run) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    st = set_roles(&q);
    if (st == SMOA_OK && q.o.mode == SMOA_MODE_SINGLE) st = aggregate(&q, false);
    else if (st == SMOA_OK && (st = run_layers(&q)) == SMOA_OK) st = aggregate(&q, true);
    release_caches(&q);
    for (size_t i = 0; i < MAX_PROPOSERS; i++) {
        smoa_strbuf_free(&q.responses[i]);
        smoa_strbuf_free(&q.systems[i]);
        smoa_strbuf_free(&q.users[i]);
    }
    for (size_t i = 0; i < q.n_written_roles; i++) free(q.written_roles[i]);
    if (st == SMOA_OK && !smoa_run_finish(q.run)) st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    if (st) {
        smoa_run_free(q.run);
        return st;
    }
    *out = q.run;
    return SMOA_OK;
}
