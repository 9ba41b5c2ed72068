/* agent_call.c - batched model calls for agents (see agent_call.h). */
#include "agents/agent_call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "engine/session.h"
#include "model/chat_template.h"
#include "model/tokenizer_utf8.h"
#include "model/vocab.h"

/* Below this many shared tokens a fork saves less than it costs. */
#define MIN_SHARED_PREFIX 8

typedef struct call_tokens {
    int32_t *ids;    /* [n] the rendered prompt                            */
    uint32_t n;
    uint32_t cached; /* its first tokens already in the sequence's KV cache */
    int32_t seq;     /* -1 while it has none                               */
    bool failed;
} call_tokens;

void smoa_agent_call_free(smoa_agent_call *call) { smoa_strbuf_free(&call->response); }

void smoa_call_cache_release(smoa_session *s, smoa_call_cache *cache) {
    if (cache->n) smoa_seq_free(s, cache->seq);
    free(cache->tokens);
    *cache = (smoa_call_cache){0};
}

/* The call's messages rendered with the model's chat template (plain ChatML
 * when it has none) and tokenized with its special tokens: [system,] user
 * [, assistant reply, user follow-up], then the opening of the answer. */
static smoa_status render(const smoa_model *m, const smoa_agent_call *c, call_tokens *out, smoa_error *err) {
    const char *roles[4], *contents[4];
    size_t n_msg = 0;
    if (c->system) roles[n_msg] = "system", contents[n_msg++] = c->system;
    roles[n_msg] = "user", contents[n_msg++] = c->user;
    if (c->follow_up) {
        roles[n_msg] = "assistant", contents[n_msg++] = c->reply ? c->reply : "";
        roles[n_msg] = "user", contents[n_msg++] = c->follow_up;
    }
    smoa_strbuf text = {0};
    const char *tmpl = m->chat_template ? m->chat_template : "chatml";
    smoa_status st = smoa_chat_template_render(tmpl, roles, contents, n_msg, true, &text, err);
    size_t n = 0;
    if (st == SMOA_OK) {
        st = smoa_vocab_tokenize(m->vocab, text.data, text.len, SMOA_TOKENIZE_PARSE_SPECIAL, NULL, 0, &n, err);
        if (st == SMOA_ERR_BUFFER_TOO_SMALL || st == SMOA_OK) {
            out->ids = malloc((n ? n : 1) * sizeof *out->ids);
            st = out->ids ? smoa_vocab_tokenize(m->vocab, text.data, text.len, SMOA_TOKENIZE_PARSE_SPECIAL, out->ids,
                                                n, &n, err)
                          : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        }
    }
    out->n = (uint32_t)n;
    out->seq = -1;
    smoa_strbuf_free(&text);
    return st;
}

/* Tokens a and b have in common at their start. */
static uint32_t shared_start(const int32_t *a, uint32_t na, const int32_t *b, uint32_t nb) {
    uint32_t j = 0;
    while (j < na && j < nb && a[j] == b[j]) j++;
    return j;
}

/* Longest token prefix all prompts without a sequence share, leaving each
 * at least one token of its own (the token whose logits start its answer);
 * *first is the first such prompt. */
static uint32_t common_prefix(const call_tokens *t, size_t n, const call_tokens **first_out) {
    const call_tokens *first = NULL;
    uint32_t len = 0;
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].seq >= 0) continue;
        if (!first) first = &t[i], len = t[i].n;
        len = shared_start(t[i].ids, t[i].n, first->ids, len);
        if (len >= t[i].n) len = t[i].n - 1;
        fresh++;
    }
    *first_out = first;
    return fresh > 1 ? len : 0;
}

/* Takes over the kept sequence of a call that continues a conversation: its
 * tokens up to the first that differs from the prompt stay (all but the
 * prompt's last at most), the rest goes. */
static void resume_sequence(smoa_session *s, smoa_call_cache *cache, call_tokens *t) {
    if (!cache || !cache->n) return;
    if (smoa_session_check_seq(s, cache->seq, NULL) == SMOA_OK && smoa_seq_length(s, cache->seq) == cache->n) {
        uint32_t keep = shared_start(t->ids, t->n, cache->tokens, cache->n);
        t->cached = keep < t->n ? keep : t->n - 1;
        t->seq = cache->seq;
        smoa_session_truncate_seq(s, t->seq, t->cached);
        cache->n = 0; /* the call owns the sequence now */
    }
    smoa_call_cache_release(s, cache);
}

/* Keeps a finished call's sequence and the tokens it holds: the prompt and
 * every generated token but the last, which was sampled, never decoded. */
static void keep_sequence(smoa_session *s, call_tokens *t, const int32_t *generated, uint32_t n_generated,
                          smoa_call_cache *out) {
    uint32_t n = t->n + (n_generated ? n_generated - 1 : 0);
    if (t->seq < 0 || t->failed || smoa_seq_length(s, t->seq) != n) return;
    int32_t *tokens = realloc(t->ids, n * sizeof *tokens);
    if (!tokens) return; /* the call's result stands; nothing is kept */
    memcpy(tokens + t->n, generated, (n - t->n) * sizeof *tokens);
    *out = (smoa_call_cache){t->seq, tokens, n};
    t->ids = NULL;
    t->seq = -1;
}

static void release(smoa_session *s, call_tokens *t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (t[i].seq >= 0) smoa_seq_free(s, t[i].seq);
        free(t[i].ids);
    }
    free(t);
}

/* Marks the call holding seq failed and frees the sequence. */
static void drop_sequence(smoa_session *s, call_tokens *t, size_t n, int32_t seq) {
    for (size_t j = 0; j < n; j++)
        if (t[j].seq == seq) {
            t[j].failed = true;
            t[j].seq = -1;
        }
    smoa_seq_free(s, seq);
}

/* A shared prefix of the fresh calls' prompts, prefilled once in a base
 * sequence that they then share; returns its length (0: none). */
static uint32_t prefill_shared_prefix(smoa_session *s, const call_tokens *t, size_t n, int32_t *base,
                                      smoa_error *err) {
    const call_tokens *first;
    uint32_t shared = common_prefix(t, n, &first);
    *base = -1;
    if (shared < MIN_SHARED_PREFIX) return 0;
    if (smoa_session_new_seq(s, base, err) != SMOA_OK) return 0;
    smoa_seq_tokens e = {*base, first->ids, shared};
    if (smoa_session_run(s, &e, 1, err) == SMOA_OK) return shared;
    smoa_seq_free(s, *base);
    *base = -1;
    return 0;
}

/* Gives every call a sequence holding its prompt: the rest of a resumed
 * conversation, or a new one sharing the common prefix; *prefilled counts
 * the tokens computed. Calls whose prompt cannot fit are marked failed. */
static smoa_status prefill_all(smoa_session *s, smoa_agent_call *calls, call_tokens *t, size_t n,
                               uint64_t *prefilled, smoa_error *err) {
    for (size_t i = 0; i < n; i++) resume_sequence(s, calls[i].resume, &t[i]);
    int32_t base;
    uint32_t shared = prefill_shared_prefix(s, t, n, &base, err);
    *prefilled = shared;
    smoa_seq_tokens *entries = malloc(n * sizeof *entries);
    smoa_status st = entries ? SMOA_OK : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    size_t n_entries = 0;
    for (size_t i = 0; st == SMOA_OK && i < n; i++) {
        if (t[i].seq < 0) {
            if ((st = smoa_session_new_seq(s, &t[i].seq, err)) != SMOA_OK) break;
            if (shared) smoa_kv_seq_share(&s->pool, &s->seqs[t[i].seq].kv, &s->seqs[base].kv);
            t[i].cached = shared;
        }
        if (t[i].n > s->opts.n_ctx) t[i].failed = true;
        else entries[n_entries++] = (smoa_seq_tokens){t[i].seq, t[i].ids + t[i].cached, t[i].n - t[i].cached};
    }
    if (base >= 0) smoa_seq_free(s, base);
    bool at_once = st == SMOA_OK && n_entries && smoa_session_run(s, entries, n_entries, err) == SMOA_OK;
    for (size_t i = 0; st == SMOA_OK && i < n_entries; i++) {
        /* e.g. the KV budget cannot hold them all at once: one by one, and
         * a call that does not fit gives its pages back to the next */
        if (!at_once && smoa_session_run(s, &entries[i], 1, err) != SMOA_OK) {
            drop_sequence(s, t, n, entries[i].seq);
            continue;
        }
        *prefilled += entries[i].n;
    }
    free(entries);
    return st == SMOA_OK ? (smoa_error_clear(err), SMOA_OK) : st;
}

static smoa_status render_all(const smoa_model *m, smoa_agent_call *calls, size_t n, call_tokens **out,
                              smoa_error *err) {
    call_tokens *t = calloc(n, sizeof *t);
    if (!t) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) t[i].seq = -1;
    for (size_t i = 0; i < n; i++) {
        smoa_status st = render(m, &calls[i], &t[i], err);
        if (st) {
            for (size_t j = 0; j <= i; j++) free(t[j].ids);
            free(t);
            return st;
        }
        calls[i].prompt_tokens = t[i].n;
    }
    *out = t;
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */

static smoa_status generate_prefilled(smoa_ctx *ctx, smoa_session *s, smoa_agent_call *calls, call_tokens *t, size_t n,
                                      const smoa_call_settings *cs, smoa_error *err) {
    int32_t *seqs = malloc(n * sizeof *seqs);
    smoa_sampling_options *so = malloc(n * sizeof *so);
    const smoa_sampling_options **per_seq = malloc(n * sizeof *per_seq);
    size_t *which = malloc(n * sizeof *which);
    uint32_t *budgets = malloc(n * sizeof *budgets);
    smoa_status st = seqs && so && per_seq && which && budgets
                         ? SMOA_OK
                         : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    size_t m = 0;
    for (size_t i = 0; st == SMOA_OK && i < n; i++) {
        if (t[i].failed) {
            calls[i].stop = SMOA_STOP_CONTEXT;
            continue;
        }
        smoa_sampling_options_init(&so[m]);
        so[m].temperature = calls[i].own_temperature ? calls[i].temperature : cs->temperature;
        so[m].seed = calls[i].seed;
        budgets[m] = calls[i].max_tokens ? calls[i].max_tokens : cs->max_tokens;
        per_seq[m] = &so[m];
        seqs[m] = t[i].seq;
        which[m++] = i;
    }
    smoa_generation *g = NULL;
    if (st == SMOA_OK && m) {
        smoa_generate_options o;
        smoa_generate_options_init(&o);
        o.max_tokens_per_seq = budgets;
        o.sampling_per_seq = per_seq;
        o.on_token = cs->stream;
        o.user_data = cs->user_data;
        o.cancel = cs->cancel;
        st = smoa_generate(ctx, s, seqs, m, &o, &g);
        if (st != SMOA_OK && st != SMOA_ERR_CANCELLED && err != &ctx->error) *err = ctx->error;
    }
    for (size_t j = 0; g && j < m; j++) {
        smoa_agent_call *c = &calls[which[j]];
        size_t len;
        const char *text = smoa_generation_text(g, j, &len);
        /* a response cut inside a character must still be valid text */
        if (!smoa_utf8_repair(text, len, &c->response)) st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        c->generated_tokens = smoa_generation_n_tokens(g, j);
        c->stop = smoa_generation_stop_reason(g, j);
        if (cs->keep) keep_sequence(s, &t[which[j]], smoa_generation_tokens(g, j), c->generated_tokens, &c->kept);
    }
    smoa_generation_free(g);
    free(seqs);
    free(budgets);
    free(so);
    free(per_seq);
    free(which);
    return st;
}

static void account(smoa_run *run, smoa_stage stage, const smoa_agent_call *calls, size_t n, uint64_t prefilled,
                    double seconds) {
    for (size_t i = 0; i < n; i++) /* the batch's wall time and shared prefill go to its first call */
        smoa_run_count(run, stage, calls[i].prompt_tokens, i == 0 ? prefilled : 0, calls[i].generated_tokens,
                       i == 0 ? seconds : 0);
}

/* What happens once every call's prompt is prefilled. */
typedef smoa_status (*after_prefill_fn)(smoa_session *s, smoa_agent_call *calls, call_tokens *t, size_t n, void *arg,
                                        smoa_error *err);

/* Render, prefill, the step, release, account: the frame of every batch. */
static smoa_status run_calls(smoa_session *s, smoa_run *run, smoa_stage stage, smoa_agent_call *calls, size_t n,
                             after_prefill_fn step, void *arg, smoa_error *err) {
    double t0 = smoa_now();
    call_tokens *t = NULL;
    uint64_t prefilled = 0;
    smoa_status st = render_all(s->model, calls, n, &t, err);
    if (st) return st;
    st = prefill_all(s, calls, t, n, &prefilled, err);
    if (st == SMOA_OK) st = step(s, calls, t, n, arg, err);
    release(s, t, n);
    double seconds = smoa_now() - t0;
    for (size_t i = 0; i < n; i++) calls[i].seconds = seconds;
    account(run, stage, calls, n, prefilled, seconds);
    return st;
}

typedef struct generate_args {
    smoa_ctx *ctx;
    const smoa_call_settings *settings;
} generate_args;

static smoa_status generate_step(smoa_session *s, smoa_agent_call *calls, call_tokens *t, size_t n, void *arg,
                                 smoa_error *err) {
    generate_args *a = arg;
    return generate_prefilled(a->ctx, s, calls, t, n, a->settings, err);
}

smoa_status smoa_agents_generate(smoa_ctx *ctx, smoa_session *s, smoa_run *run, smoa_agent_call *calls, size_t n,
                                 const smoa_call_settings *cs, smoa_error *err) {
    generate_args a = {ctx, cs};
    return run_calls(s, run, cs->stage, calls, n, generate_step, &a, err);
}

typedef struct score_args {
    const int32_t *ids;
    size_t n_ids;
    float *out;
} score_args;

static smoa_status score_step(smoa_session *s, smoa_agent_call *calls, call_tokens *t, size_t n, void *arg,
                              smoa_error *err) {
    (void)err;
    score_args *a = arg;
    for (size_t i = 0; i < n; i++) {
        const float *logits = t[i].failed ? NULL : smoa_seq_logits(s, t[i].seq);
        calls[i].stop = logits ? SMOA_STOP_NONE : SMOA_STOP_CONTEXT;
        for (size_t j = 0; j < a->n_ids; j++) a->out[i * a->n_ids + j] = logits ? logits[a->ids[j]] : -INFINITY;
    }
    return SMOA_OK;
}

smoa_status smoa_agents_score(smoa_session *s, smoa_run *run, smoa_stage stage, smoa_agent_call *calls, size_t n,
                              const int32_t *ids, size_t n_ids, float *out, smoa_error *err) {
    score_args a = {ids, n_ids, out};
    return run_calls(s, run, stage, calls, n, score_step, &a, err);
}
