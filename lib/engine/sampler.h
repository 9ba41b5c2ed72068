/* sampler.h - picks the next token of one sequence from its logits.
 *
 * A sampler belongs to one sequence: it owns that sequence's random stream
 * and the window of its last accepted tokens (for the repetition penalties).
 * The caller runs sample() on each step's logits, then accept() on the token
 * it keeps (normally the one just sampled, but also forced or prompt tokens
 * it wants penalised), and reset() to start a new sequence.
 *
 * Pipeline of sample(), for temperature > 0:
 *   penalties -> temperature -> top-k -> softmax -> top-p -> min-p
 *   -> renormalise -> draw.
 * With temperature == 0 it is greedy: the penalised logits' argmax (lowest
 * id on ties), with no use of the random stream.
 *
 * Logits may be -inf (masked tokens, never picked). NaN or +inf logits, or a
 * vocabulary that is entirely -inf, are refused with a status: never a crash
 * or a silently arbitrary token.
 *
 * Not thread-safe: one thread at a time per sampler; distinct samplers are
 * independent. */
#ifndef SMOA_ENGINE_SAMPLER_H
#define SMOA_ENGINE_SAMPLER_H

#include <stdint.h>

#include "core/error.h"

typedef struct smoa_sampler_params {
    float temperature;       /* 0 = greedy; else logits are divided by it    */
    int32_t top_k;           /* keep the k most likely; 0 = off              */
    float top_p;             /* nucleus: smallest set with mass >= p; 1 = off */
    float min_p;             /* drop p < min_p * p_max; 0 = off              */
    float repeat_penalty;    /* > 0; seen tokens: positive logits divided by
                                it, negative ones multiplied; 1 = off        */
    float frequency_penalty; /* subtracted once per occurrence; 0 = off      */
    float presence_penalty;  /* subtracted once if seen at all; 0 = off      */
    int32_t penalty_last_n;  /* window of accepted tokens the penalties look
                                at; 0 = none, -1 = all since reset          */
    uint64_t seed;           /* the random stream's seed (any value)         */
} smoa_sampler_params;

/* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, penalties off
 * (1 / 0 / 0) over the last 64 tokens, seed 0. */
void smoa_sampler_params_default(smoa_sampler_params *params);

/* SMOA_ERR_INVALID_ARGUMENT, with a message naming the field and its value,
 * when a value is NaN or infinite, temperature < 0, top_k < 0, top_p or
 * min_p outside [0, 1], repeat_penalty <= 0 or penalty_last_n < -1. */
smoa_status smoa_sampler_params_validate(const smoa_sampler_params *params, smoa_error *err);

typedef struct smoa_sampler smoa_sampler;

/* A sampler for logits of n_vocab entries; params are validated and copied. */
smoa_status smoa_sampler_create(const smoa_sampler_params *params, int32_t n_vocab,
                                smoa_sampler **out, smoa_error *err);
void smoa_sampler_free(smoa_sampler *sampler);

/* Picks a token from logits[n_vocab] (left unchanged) into *out_token.
 * SMOA_ERR_INVALID_ARGUMENT for a NaN or +inf logit or when every logit is
 * -inf; *out_token is then -1. */
smoa_status smoa_sampler_sample(smoa_sampler *sampler, const float *logits,
                                int32_t *out_token, smoa_error *err);

/* Records token as part of the sequence, for the penalties.
 * SMOA_ERR_INVALID_ARGUMENT when it is not in [0, n_vocab). */
smoa_status smoa_sampler_accept(smoa_sampler *sampler, int32_t token, smoa_error *err);

/* Forgets the accepted tokens and restarts the random stream from the seed,
 * so a reset sampler repeats its first sequence exactly. */
void smoa_sampler_reset(smoa_sampler *sampler);

#endif
