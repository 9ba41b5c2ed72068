/* sampler.c - token sampling for one sequence (see sampler.h).
 *
 * Speed without sorting the vocabulary. One pass over the logits applies the
 * penalties, refuses NaN/+inf, skips -inf and keeps the candidates:
 *   - with top-k on, only the k best, in a heap whose root is the worst kept
 *     candidate. A token enters only when it beats the root, which after the
 *     first few hundred tokens is rare, so the pass costs about one
 *     comparison per token and everything after it works on k entries;
 *   - with top-k off, every unmasked token.
 * Softmax then runs over the candidates only and min-p is a linear filter.
 * Top-p needs a ranking, but only near its cut: candidates are put in
 * buckets a quarter of an octave of probability wide, one pass sums each
 * bucket's mass, and only the bucket where the running mass reaches p is
 * sorted (all buckets before it are in, all after it out). The cost is a few
 * linear passes plus a sort of one bucket, usually a handful of tokens; only
 * a nearly flat distribution puts many tokens in one bucket.
 *
 * Candidates are ranked by value, then by lower id, a strict total order, so
 * every result is the same whatever the sort's or the heap's internal order.
 */
#include "engine/sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* A token still in the running. value is its penalised logit while the
 * candidates are gathered, then its unnormalised probability. */
typedef struct candidate {
    int32_t id;
    float value;
} candidate;

struct smoa_sampler {
    smoa_sampler_params params;
    int32_t n_vocab;
    smoa_rng rng;
    candidate *cand;  /* [capacity]: work space of sample()              */
    size_t capacity;  /* top_k when top-k is on, else n_vocab            */
    /* Penalty window, absent (NULL) when the penalties are off. */
    uint32_t *counts; /* [n_vocab]: occurrences within the window        */
    int32_t *ring;    /* window tokens, oldest at ring_head once full;
                         grows up to penalty_last_n (unused for -1)     */
    int32_t ring_cap, ring_len, ring_head;
};

/* Bit pattern of 1.0f: weights are in [0, 1], and for non-negative floats
 * the bit pattern grows with the value. */
#define ONE_BITS 0x3F800000u
/* Weight buckets: 4 per octave (the pattern's top 2 mantissa bits) from 1
 * down to 0, which has one of its own. */
enum { BUCKET_SHIFT = 21, N_BUCKETS = (ONE_BITS >> BUCKET_SHIFT) + 1 };

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */

void smoa_sampler_params_default(smoa_sampler_params *params) {
    *params = (smoa_sampler_params){
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .frequency_penalty = 0.0f,
        .presence_penalty = 0.0f,
        .penalty_last_n = 64,
        .seed = 0,
    };
}

static bool in_unit_interval(float x) {
    return x >= 0.0f && x <= 1.0f; /* false for NaN */
}

smoa_status smoa_sampler_params_validate(const smoa_sampler_params *p, smoa_error *err) {
    const smoa_status bad = SMOA_ERR_INVALID_ARGUMENT;
    if (!p)
        return smoa_error_set(err, bad, "sampler: no parameters given");
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return smoa_error_set(err, bad, "sampler: temperature must be finite and >= 0 (got %g)",
                              (double)p->temperature);
    if (p->top_k < 0)
        return smoa_error_set(err, bad, "sampler: top_k must be >= 0, 0 = off (got %d)",
                              (int)p->top_k);
    if (!in_unit_interval(p->top_p))
        return smoa_error_set(err, bad, "sampler: top_p must be in [0, 1] (got %g)",
                              (double)p->top_p);
    if (!in_unit_interval(p->min_p))
        return smoa_error_set(err, bad, "sampler: min_p must be in [0, 1] (got %g)",
                              (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
        return smoa_error_set(err, bad, "sampler: repeat_penalty must be finite and > 0 (got %g)",
                              (double)p->repeat_penalty);
    if (!isfinite(p->frequency_penalty))
        return smoa_error_set(err, bad, "sampler: frequency_penalty must be finite (got %g)",
                              (double)p->frequency_penalty);
    if (!isfinite(p->presence_penalty))
        return smoa_error_set(err, bad, "sampler: presence_penalty must be finite (got %g)",
                              (double)p->presence_penalty);
    if (p->penalty_last_n < -1)
        return smoa_error_set(err, bad,
                              "sampler: penalty_last_n must be >= -1, -1 = all tokens (got %d)",
                              (int)p->penalty_last_n);
    return SMOA_OK;
}

static bool penalties_on(const smoa_sampler_params *p) {
    return p->penalty_last_n != 0 &&
           (p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f ||
            p->presence_penalty != 0.0f);
}

/* ------------------------------------------------------------------------ */
/* Lifetime and the penalty window                                          */

smoa_status smoa_sampler_create(const smoa_sampler_params *params, int32_t n_vocab,
                                smoa_sampler **out, smoa_error *err) {
    if (!out)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sampler: no output pointer");
    *out = NULL;
    smoa_status st = smoa_sampler_params_validate(params, err);
    if (st != SMOA_OK)
        return st;
    if (n_vocab <= 0)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "sampler: n_vocab must be > 0 (got %d)", (int)n_vocab);

    smoa_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "sampler: out of memory");
    s->params = *params;
    s->n_vocab = n_vocab;
    const bool top_k_on = params->top_k > 0 && params->top_k < n_vocab;
    s->capacity = (size_t)(top_k_on ? params->top_k : n_vocab);
    s->cand = malloc(s->capacity * sizeof *s->cand);
    if (penalties_on(params))
        s->counts = calloc((size_t)n_vocab, sizeof *s->counts);
    if (!s->cand || (penalties_on(params) && !s->counts)) {
        smoa_sampler_free(s);
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY,
                              "sampler: out of memory (vocabulary of %d tokens)", (int)n_vocab);
    }
    smoa_rng_seed(&s->rng, params->seed);
    *out = s;
    return SMOA_OK;
}

void smoa_sampler_free(smoa_sampler *s) {
    if (!s)
        return;
    free(s->cand);
    free(s->counts);
    free(s->ring);
    free(s);
}

void smoa_sampler_reset(smoa_sampler *s) {
    if (!s)
        return;
    if (s->counts)
        memset(s->counts, 0, (size_t)s->n_vocab * sizeof *s->counts);
    s->ring_len = 0;
    s->ring_head = 0;
    smoa_rng_seed(&s->rng, s->params.seed);
}

/* Makes room for one more token in a ring that is not yet full. It grows
 * on demand, so a large penalty_last_n costs memory only once used. */
static smoa_status ring_reserve(smoa_sampler *s, smoa_error *err) {
    if (s->ring_len < s->ring_cap)
        return SMOA_OK;
    const int64_t wanted = s->ring_cap > 0 ? (int64_t)s->ring_cap * 2 : 64;
    const int32_t limit = s->params.penalty_last_n;
    const int32_t new_cap = wanted < limit ? (int32_t)wanted : limit;
    int32_t *grown = NULL;
    if ((size_t)new_cap <= SIZE_MAX / sizeof *grown)
        grown = realloc(s->ring, (size_t)new_cap * sizeof *grown);
    if (!grown)
        return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY,
                              "sampler: out of memory (penalty window of %d tokens)", (int)new_cap);
    s->ring = grown;
    s->ring_cap = new_cap;
    return SMOA_OK;
}

/* Adds token to a window of penalty_last_n > 0 tokens, evicting the oldest
 * once it is full. Until then the ring is a plain array (head 0). */
static smoa_status window_push(smoa_sampler *s, int32_t token, smoa_error *err) {
    const int32_t limit = s->params.penalty_last_n;
    if (s->ring_len == limit) {
        s->counts[s->ring[s->ring_head]]--;
        s->ring[s->ring_head] = token;
        s->ring_head = (s->ring_head + 1) % limit;
    } else {
        smoa_status st = ring_reserve(s, err);
        if (st != SMOA_OK)
            return st;
        s->ring[s->ring_len++] = token;
    }
    s->counts[token]++;
    return SMOA_OK;
}

smoa_status smoa_sampler_accept(smoa_sampler *s, int32_t token, smoa_error *err) {
    if (!s)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "sampler: NULL sampler");
    if (token < 0 || token >= s->n_vocab)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "sampler: accepted token %d is outside the vocabulary [0, %d)",
                              (int)token, (int)s->n_vocab);
    if (!s->counts)
        return SMOA_OK;
    if (s->params.penalty_last_n > 0)
        return window_push(s, token, err);
    /* -1: every token since reset counts and none leaves; saturate rather
     * than wrap on absurdly long sequences. */
    if (s->counts[token] != UINT32_MAX)
        s->counts[token]++;
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* Logits                                                                   */

/* Token i's logit after the penalties: the repeat penalty pushes it towards
 * less likely (divide if positive, multiply if negative), then frequency and
 * presence subtract per occurrence and once. counts is the sampler's (NULL
 * when the penalties are off), passed by the caller so that its hot loop
 * keeps it in a register. */
static float adjusted_logit(const smoa_sampler_params *p, const uint32_t *counts,
                            const float *logits, int32_t i) {
    const float logit = logits[i];
    const uint32_t count = counts ? counts[i] : 0;
    if (count == 0)
        return logit;
    const float repeated = logit > 0.0f ? logit / p->repeat_penalty : logit * p->repeat_penalty;
    return repeated - (float)count * p->frequency_penalty - p->presence_penalty;
}

/* The failure for an adjusted logit that is NaN or +inf. */
static smoa_status refuse_logit(const float *logits, int32_t i, float adjusted, smoa_error *err) {
    const smoa_status bad = SMOA_ERR_INVALID_ARGUMENT;
    if (isnan(logits[i]))
        return smoa_error_set(err, bad, "sampler: the logit of token %d is NaN", (int)i);
    if (isinf(logits[i]))
        return smoa_error_set(err, bad,
                              "sampler: the logit of token %d is +inf (mask tokens with -inf)",
                              (int)i);
    return smoa_error_set(err, bad,
                          "sampler: the penalties turned the logit of token %d (%g) into %g",
                          (int)i, (double)logits[i], (double)adjusted);
}

static smoa_status refuse_all_masked(smoa_error *err) {
    return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                          "sampler: every logit is -inf, no token can be picked");
}

/* ------------------------------------------------------------------------ */
/* Ranking: value first, lower id on ties                                   */

static bool ranks_before(candidate a, candidate b) {
    return a.value > b.value || (a.value == b.value && a.id < b.id);
}

static int compare_rank(const void *pa, const void *pb) {
    const candidate *a = pa, *b = pb;
    return ranks_before(*a, *b) ? -1 : ranks_before(*b, *a) ? 1 : 0;
}

/* Heaps here keep their worst candidate at the root: the one to evict when
 * a better one comes. */
static void sift_down(candidate *heap, size_t n, size_t i) {
    for (;;) {
        size_t worst = i;
        const size_t left = 2 * i + 1, right = left + 1;
        if (left < n && ranks_before(heap[worst], heap[left]))
            worst = left;
        if (right < n && ranks_before(heap[worst], heap[right]))
            worst = right;
        if (worst == i)
            return;
        const candidate tmp = heap[i];
        heap[i] = heap[worst];
        heap[worst] = tmp;
        i = worst;
    }
}

static void heapify(candidate *heap, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift_down(heap, n, i);
}

/* ------------------------------------------------------------------------ */
/* Sampling stages                                                          */

static smoa_status sample_greedy(const smoa_sampler *s, const float *logits, int32_t *out_token,
                                 smoa_error *err) {
    const uint32_t *counts = s->counts;
    int32_t best = -1;
    float best_value = -INFINITY;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        const float v = adjusted_logit(&s->params, counts, logits, i);
        if (v <= best_value)
            continue; /* masked, or no better: the lowest id wins ties */
        if (!(v < INFINITY)) /* NaN and +inf fail the test above too */
            return refuse_logit(logits, i, v, err);
        best_value = v;
        best = i;
    }
    if (best < 0)
        return refuse_all_masked(err);
    *out_token = best;
    return SMOA_OK;
}

/* Fills s->cand with the unmasked tokens, or only the top_k best of them
 * (see the file comment).
 *
 * The hot path is one comparison per token: `v <= bar`, where bar is the
 * heap root's value once the heap is full and -inf before. It skips masked
 * tokens and those that cannot enter, and lets NaN and +inf through to the
 * check. Ties with the root stay out, which is right: ids arrive in
 * increasing order, so an equal value ranks after the root. The loop keeps
 * no running maximum, which would live in memory across sift_down calls. */
static smoa_status gather(smoa_sampler *s, const float *logits, size_t *out_count,
                          smoa_error *err) {
    const uint32_t *counts = s->counts;
    const size_t limit = s->capacity;
    const bool top_k_on = limit < (size_t)s->n_vocab;
    candidate *cand = s->cand;
    size_t count = 0;
    float bar = -INFINITY;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        const float v = adjusted_logit(&s->params, counts, logits, i);
        if (v <= bar)
            continue;
        if (!(v < INFINITY))
            return refuse_logit(logits, i, v, err);
        if (count < limit) {
            cand[count++] = (candidate){i, v};
            if (top_k_on && count == limit) {
                heapify(cand, limit);
                bar = cand[0].value;
            }
        } else {
            cand[0] = (candidate){i, v};
            sift_down(cand, limit, 0);
            bar = cand[0].value;
        }
    }
    if (count == 0)
        return refuse_all_masked(err);
    *out_count = count;
    return SMOA_OK;
}

/* The next two run over the whole vocabulary when top-k is off. Four
 * independent lanes let the CPU overlap what one running value would chain
 * (a max or an add each waiting for the previous one). */
static float max_value(const candidate *c, size_t count) {
    float lane[4] = {c[0].value, c[0].value, c[0].value, c[0].value};
    size_t i = 0;
    for (; i + 4 <= count; i += 4)
        for (size_t k = 0; k < 4; k++)
            lane[k] = c[i + k].value > lane[k] ? c[i + k].value : lane[k];
    for (; i < count; i++)
        lane[0] = c[i].value > lane[0] ? c[i].value : lane[0];
    const float a = lane[0] > lane[1] ? lane[0] : lane[1];
    const float b = lane[2] > lane[3] ? lane[2] : lane[3];
    return a > b ? a : b;
}

static double sum_values(const candidate *c, size_t count) {
    double lane[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= count; i += 4)
        for (size_t k = 0; k < 4; k++)
            lane[k] += c[i + k].value;
    for (; i < count; i++)
        lane[0] += c[i].value;
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

/* Temperature and softmax: replaces each value with exp((v - max) / T), so
 * the best candidate gets exactly 1. Subtracting the maximum first keeps
 * every exponent <= 0 even for tiny temperatures. */
static void to_weights(candidate *c, size_t count, float max, float temperature) {
    for (size_t i = 0; i < count; i++)
        c[i].value = expf((c[i].value - max) / temperature);
}

/* min-p: keeps the candidates whose weight is >= min_p times the best
 * weight, which is 1. Returns the new count (the best always stays). */
static size_t keep_min_p(candidate *c, size_t count, float min_p) {
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        c[kept] = c[i]; /* branch-free: overwritten unless kept */
        kept += c[i].value >= min_p;
    }
    return kept;
}

/* A weight's bucket: 0 for 1.0, one more per quarter octave below. */
static uint32_t weight_bucket(float weight) {
    uint32_t bits;
    memcpy(&bits, &weight, sizeof bits);
    return bits >= ONE_BITS ? 0 : (ONE_BITS - bits) >> BUCKET_SHIFT;
}

/* Moves the candidates in buckets below `limit` to the front; returns how
 * many there are. */
static size_t move_buckets_below(candidate *c, size_t count, uint32_t limit) {
    size_t moved = 0;
    for (size_t i = 0; i < count; i++) {
        if (weight_bucket(c[i].value) < limit) {
            const candidate tmp = c[moved];
            c[moved++] = c[i];
            c[i] = tmp;
        }
    }
    return moved;
}

/* top-p: keeps the smallest best-first prefix holding `target` weight (at
 * least one candidate). See the file comment. */
static size_t keep_nucleus(candidate *c, size_t count, double target) {
    double bucket_mass[N_BUCKETS] = {0.0};
    for (size_t i = 0; i < count; i++)
        bucket_mass[weight_bucket(c[i].value)] += c[i].value;
    uint32_t edge = 0;
    double mass = 0.0;
    while (edge < N_BUCKETS && mass + bucket_mass[edge] < target)
        mass += bucket_mass[edge++];
    if (edge == N_BUCKETS)
        return count; /* rounding left the target above the total */

    const size_t n_before = move_buckets_below(c, count, edge);
    const size_t n_edge = move_buckets_below(c + n_before, count - n_before, edge + 1);
    candidate *ranked = c + n_before;
    qsort(ranked, n_edge, sizeof *ranked, compare_rank);
    for (size_t i = 0; i < n_edge; i++) {
        mass += ranked[i].value;
        if (mass >= target)
            return n_before + i + 1;
    }
    return n_before + n_edge;
}

/* Draws one candidate with probability weight / total weight. */
static int32_t draw(const candidate *c, size_t count, smoa_rng *rng) {
    const double r = smoa_rng_double(rng) * sum_values(c, count);
    double mass = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < count; i++) {
        if (c[i].value > 0.0f) {
            mass += c[i].value;
            last = i;
            if (mass > r)
                return c[i].id;
        }
    }
    return c[last].id; /* rounding put r at the very top: the last one with weight */
}

smoa_status smoa_sampler_sample(smoa_sampler *s, const float *logits, int32_t *out_token,
                                smoa_error *err) {
    if (out_token)
        *out_token = -1;
    if (!s || !logits || !out_token)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT,
                              "sampler: NULL sampler, logits or output");
    const smoa_sampler_params *p = &s->params;
    if (p->temperature == 0.0f)
        return sample_greedy(s, logits, out_token, err);

    size_t count = 0;
    smoa_status st = gather(s, logits, &count, err);
    if (st != SMOA_OK)
        return st;
    to_weights(s->cand, count, max_value(s->cand, count), p->temperature);
    const double mass = p->top_p < 1.0f ? sum_values(s->cand, count) : 0.0;
    /* min-p runs before top-p although the pipeline puts it after: both keep
     * a best-first prefix of the same ranking and ratios to p_max survive
     * renormalising, so together they keep the shorter prefix either way.
     * Filtering first leaves top-p less to rank. Top-p still measures its
     * mass against the whole top-k set (`mass`). */
    if (p->min_p > 0.0f)
        count = keep_min_p(s->cand, count, p->min_p);
    if (p->top_p < 1.0f)
        count = keep_nucleus(s->cand, count, (double)p->top_p * mass);
    *out_token = draw(s->cand, count, &s->rng);
    return SMOA_OK;
}
