/* generate.c - generation for many sequences at once: sample each running
 * sequence's next token, stop it on end-of-generation, a stop string, its
 * token budget, the context or the callback, and decode all the others
 * together in one forward pass (continuous batching). */
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/options.h"
#include "core/strbuf.h"
#include "engine/sampler.h"
#include "engine/session.h"

#define DEFAULT_MAX_TOKENS 256

typedef struct gen_entry {
    int32_t seq;
    smoa_sampler *sampler;
    uint32_t max_tokens;
    smoa_strbuf text;      /* generated text (stop string excluded)        */
    size_t emitted;        /* bytes of text already passed to on_token     */
    int32_t *tokens;       /* [max_tokens] generated token ids             */
    uint32_t n_tokens;
    smoa_stop_reason reason;
} gen_entry;

struct smoa_generation {
    size_t n;
    gen_entry *entries;
};

void smoa_generate_options_init_sized(smoa_generate_options *options, size_t size) {
    const smoa_generate_options defaults = {.struct_size = sizeof defaults, .max_tokens = DEFAULT_MAX_TOKENS};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

void smoa_sampling_options_init_sized(smoa_sampling_options *options, size_t size) {
    smoa_sampler_params p;
    smoa_sampler_params_default(&p);
    const smoa_sampling_options defaults = {sizeof defaults, p.temperature, p.top_k, p.top_p, p.min_p,
                                            p.repeat_penalty, p.frequency_penalty, p.presence_penalty,
                                            p.penalty_last_n, p.seed};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

const char *smoa_stop_reason_str(smoa_stop_reason r) {
    switch (r) {
    case SMOA_STOP_NONE: return "none";
    case SMOA_STOP_EOG: return "end of generation";
    case SMOA_STOP_STRING: return "stop string";
    case SMOA_STOP_MAX_TOKENS: return "max tokens";
    case SMOA_STOP_CONTEXT: return "context full";
    case SMOA_STOP_CALLBACK: return "stopped by callback";
    case SMOA_STOP_CANCELLED: return "cancelled";
    case SMOA_STOP_ERROR: return "error";
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Result object                                                            */

void smoa_generation_free(smoa_generation *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) {
        smoa_sampler_free(g->entries[i].sampler);
        smoa_strbuf_free(&g->entries[i].text);
        free(g->entries[i].tokens);
    }
    free(g->entries);
    free(g);
}

size_t smoa_generation_count(const smoa_generation *g) { return g ? g->n : 0; }

const char *smoa_generation_text(const smoa_generation *g, size_t i, size_t *len) {
    if (!g || i >= g->n) return NULL;
    if (len) *len = g->entries[i].text.len;
    return g->entries[i].text.data ? g->entries[i].text.data : "";
}

uint32_t smoa_generation_n_tokens(const smoa_generation *g, size_t i) {
    return g && i < g->n ? g->entries[i].n_tokens : 0;
}

const int32_t *smoa_generation_tokens(const smoa_generation *g, size_t i) {
    return g && i < g->n ? g->entries[i].tokens : NULL;
}

smoa_stop_reason smoa_generation_stop_reason(const smoa_generation *g, size_t i) {
    return g && i < g->n ? g->entries[i].reason : SMOA_STOP_NONE;
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */

/* NULL gives the defaults. */
static smoa_status to_sampler_params(const smoa_sampling_options *in, smoa_sampler_params *p, smoa_error *err) {
    smoa_sampling_options o;
    smoa_sampling_options_init(&o);
    smoa_status st = smoa_options_read(&o, sizeof o, in, "smoa_sampling_options", err);
    *p = (smoa_sampler_params){o.temperature, o.top_k, o.top_p, o.min_p, o.repeat_penalty,
                               o.frequency_penalty, o.presence_penalty, o.penalty_last_n, o.seed};
    return st;
}

smoa_status smoa_sampling_options_check(smoa_ctx *ctx, const smoa_sampling_options *options) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!options) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "options is NULL");
    smoa_sampler_params p;
    smoa_status st = to_sampler_params(options, &p, err);
    return st ? st : smoa_sampler_params_validate(&p, err);
}

static smoa_status read_generate_options(const smoa_generate_options *in, smoa_generate_options *o,
                                         smoa_error *err) {
    smoa_generate_options_init(o);
    smoa_status st = smoa_options_read(o, sizeof *o, in, "smoa_generate_options", err);
    if (st) return st;
    if (o->n_stop && !o->stop) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "n_stop > 0 but stop is NULL");
    for (size_t i = 0; i < o->n_stop; i++)
        if (!o->stop[i] || !o->stop[i][0])
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "stop string %zu is NULL or empty", i);
    return SMOA_OK;
}

static smoa_status check_seqs(const smoa_session *s, const int32_t *seqs, size_t n, smoa_error *err) {
    for (size_t i = 0; i < n; i++) {
        smoa_status st = smoa_session_check_seq(s, seqs[i], err);
        if (st) return st;
        if (!s->seqs[seqs[i]].has_logits)
            return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sequence %d has no logits: prefill it first", seqs[i]);
        for (size_t j = 0; j < i; j++)
            if (seqs[j] == seqs[i])
                return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sequence %d is listed twice", seqs[i]);
    }
    return SMOA_OK;
}

static smoa_status init_entry(const smoa_session *s, const smoa_generate_options *o, size_t i, int32_t seq,
                              gen_entry *e, smoa_error *err) {
    e->seq = seq;
    e->max_tokens = o->max_tokens_per_seq ? o->max_tokens_per_seq[i] : o->max_tokens;
    if (e->max_tokens == 0) e->max_tokens = DEFAULT_MAX_TOKENS;
    e->tokens = malloc(e->max_tokens * sizeof *e->tokens);
    if (!e->tokens) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    const smoa_sampling_options *so = o->sampling_per_seq ? o->sampling_per_seq[i] : o->sampling;
    smoa_sampler_params p;
    smoa_status st = to_sampler_params(so, &p, err);
    return st ? st : smoa_sampler_create(&p, s->m->n_vocab, &e->sampler, err);
}

/* ------------------------------------------------------------------------ */
/* One step of one sequence                                                 */

static size_t longest_stop(const smoa_generate_options *o) {
    size_t longest = 0;
    for (size_t i = 0; i < o->n_stop; i++) {
        size_t n = strlen(o->stop[i]);
        if (n > longest) longest = n;
    }
    return longest;
}

/* Ends the text at the first stop string found in its last `window`
 * bytes (stop strings can only complete there). */
static bool cut_at_stop_string(const smoa_generate_options *o, smoa_strbuf *text, size_t window) {
    size_t from = text->len > window ? text->len - window : 0;
    size_t best = text->len;
    for (size_t i = 0; i < o->n_stop; i++) {
        size_t n = strlen(o->stop[i]);
        for (size_t at = from; at + n <= text->len; at++)
            if (at < best && memcmp(text->data + at, o->stop[i], n) == 0) best = at;
    }
    if (best == text->len) return false;
    text->len = best;
    text->data[best] = '\0';
    return true;
}

/* Passes new text to the callback, holding back the bytes that could still
 * become the start of a stop string while the sequence runs. */
static void emit(const smoa_generate_options *o, gen_entry *e, int32_t token, size_t hold_back) {
    size_t limit = e->reason == SMOA_STOP_NONE && e->text.len > hold_back ? e->text.len - hold_back
                   : e->reason == SMOA_STOP_NONE                          ? 0
                                                                          : e->text.len;
    if (!o->on_token || limit <= e->emitted || e->reason == SMOA_STOP_CALLBACK) return;
    int stop = o->on_token(e->seq, token, e->text.data + e->emitted, limit - e->emitted, o->user_data);
    e->emitted = limit;
    if (stop && e->reason == SMOA_STOP_NONE) e->reason = SMOA_STOP_CALLBACK;
}

/* Appends the token's text (*n bytes) to text. */
static smoa_status append_piece(const smoa_vocab *v, int32_t token, smoa_strbuf *text, size_t *n, smoa_error *err) {
    char piece[256];
    smoa_status st = smoa_vocab_detokenize(v, &token, 1, SMOA_DETOKENIZE_CONTINUATION, piece, sizeof piece, n, err);
    if (st == SMOA_OK) return smoa_strbuf_append(text, piece, *n) ? SMOA_OK : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    if (st != SMOA_ERR_BUFFER_TOO_SMALL) return st;
    char *long_piece = malloc(*n + 1); /* rare: a token of more than 255 bytes */
    if (!long_piece) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    st = smoa_vocab_detokenize(v, &token, 1, SMOA_DETOKENIZE_CONTINUATION, long_piece, *n + 1, n, err);
    if (st == SMOA_OK && !smoa_strbuf_append(text, long_piece, *n)) st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    free(long_piece);
    return st;
}

/* Samples and records this sequence's next token; sets e->reason when it
 * ends here. *next is the token to decode when it goes on. */
static smoa_status step_entry(const smoa_session *s, const smoa_generate_options *o, gen_entry *e,
                              size_t stop_len, int32_t *next, smoa_error *err) {
    const float *logits = s->logits + (size_t)e->seq * s->m->n_vocab;
    int32_t token;
    smoa_status st = smoa_sampler_sample(e->sampler, logits, &token, err);
    if (st || (st = smoa_sampler_accept(e->sampler, token, err))) return st;
    e->tokens[e->n_tokens++] = token;
    if (smoa_vocab_is_eog(s->model->vocab, token)) {
        e->reason = SMOA_STOP_EOG;
    } else {
        size_t n;
        if ((st = append_piece(s->model->vocab, token, &e->text, &n, err))) return st;
        if (stop_len && cut_at_stop_string(o, &e->text, n + stop_len - 1)) e->reason = SMOA_STOP_STRING;
    }
    if (e->reason == SMOA_STOP_NONE && e->n_tokens == e->max_tokens) e->reason = SMOA_STOP_MAX_TOKENS;
    emit(o, e, token, stop_len ? stop_len - 1 : 0);
    *next = token;
    return SMOA_OK;
}

/* One sequence's failure (e.g. non-finite logits) ends that sequence with
 * SMOA_STOP_ERROR and leaves the others running; running out of memory
 * ends the whole call. */
static smoa_status step_or_drop(smoa_ctx *ctx, const smoa_session *s, const smoa_generate_options *o, gen_entry *e,
                                size_t stop_len, int32_t *next, smoa_error *err) {
    smoa_status st = step_entry(s, o, e, stop_len, next, err);
    if (st == SMOA_OK || st == SMOA_ERR_OUT_OF_MEMORY) return st;
    smoa_log(ctx, SMOA_LOG_WARN, "sequence %d stopped: %s", e->seq, err->message);
    e->reason = SMOA_STOP_ERROR;
    smoa_error_clear(err);
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */

/* Decodes the running entries' tokens; entries whose sequence cannot grow
 * (n_ctx or the KV budget) stop with SMOA_STOP_CONTEXT and the rest go on. */
static smoa_status decode_running(smoa_session *s, gen_entry *entries, const int32_t *next, size_t n,
                                  smoa_seq_tokens *batch, smoa_error *err) {
    for (;;) {
        size_t nb = 0;
        for (size_t i = 0; i < n; i++) {
            if (entries[i].reason != SMOA_STOP_NONE) continue;
            if (s->seqs[entries[i].seq].kv.length >= s->opts.n_ctx) {
                entries[i].reason = SMOA_STOP_CONTEXT;
                continue;
            }
            batch[nb++] = (smoa_seq_tokens){entries[i].seq, &next[i], 1};
        }
        if (nb == 0) return SMOA_OK;
        smoa_status st = smoa_session_run(s, batch, nb, err);
        if (st != SMOA_ERR_CONTEXT_FULL) return st;
        /* the shared budget ran out: the last sequence gives way */
        for (size_t i = n; i-- > 0;)
            if (entries[i].seq == batch[nb - 1].seq) entries[i].reason = SMOA_STOP_CONTEXT;
    }
}

static smoa_status run_loop(smoa_ctx *ctx, smoa_session *s, const smoa_generate_options *o, smoa_generation *g,
                            smoa_error *err) {
    size_t stop_len = longest_stop(o);
    int32_t *next = calloc(g->n, sizeof *next);
    smoa_seq_tokens *batch = malloc(g->n * sizeof *batch);
    smoa_status st = next && batch ? SMOA_OK : smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (bool running = true; st == SMOA_OK && running;) {
        if (o->cancel && *o->cancel) {
            for (size_t i = 0; i < g->n; i++)
                if (g->entries[i].reason == SMOA_STOP_NONE) g->entries[i].reason = SMOA_STOP_CANCELLED;
            st = smoa_error_set(err, SMOA_ERR_CANCELLED, "generation cancelled");
            break;
        }
        for (size_t i = 0; i < g->n && st == SMOA_OK; i++)
            if (g->entries[i].reason == SMOA_STOP_NONE) st = step_or_drop(ctx, s, o, &g->entries[i], stop_len, &next[i], err);
        if (st == SMOA_OK) st = decode_running(s, g->entries, next, g->n, batch, err);
        running = false;
        for (size_t i = 0; i < g->n; i++) running |= g->entries[i].reason == SMOA_STOP_NONE;
    }
    for (size_t i = 0; i < g->n; i++) emit(o, &g->entries[i], next ? next[i] : -1, 0); /* held-back text */
    free(next);
    free(batch);
    return st;
}

smoa_status smoa_generate(smoa_ctx *ctx, smoa_session *s, const int32_t *seqs, size_t n_seqs,
                          const smoa_generate_options *options, smoa_generation **out) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!s || !out || !seqs || n_seqs == 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session, sequences and out are required");
    *out = NULL;
    smoa_generate_options o;
    smoa_status st = read_generate_options(options, &o, err);
    if (st || (st = check_seqs(s, seqs, n_seqs, err))) return st;
    smoa_generation *g = calloc(1, sizeof *g);
    if (g) g->entries = calloc(n_seqs, sizeof *g->entries);
    if (!g || !g->entries) {
        free(g);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    g->n = n_seqs;
    for (size_t i = 0; i < n_seqs && st == SMOA_OK; i++) st = init_entry(s, &o, i, seqs[i], &g->entries[i], err);
    if (st == SMOA_OK) st = run_loop(ctx, s, &o, g, err);
    if (st != SMOA_OK && st != SMOA_ERR_CANCELLED) {
        smoa_generation_free(g);
        return st;
    }
    *out = g;
    return st;
}
