/*
 * smoa.h - the public C API of libsmoa, a Sparse Mixture-of-Agents engine.
 *
 * This is the only public header. Everything here is C (usable from C++),
 * uses fixed-width types, and follows three rules that keep the ABI stable:
 *
 *   1. Handles are opaque (smoa_ctx, smoa_model): created and destroyed by
 *      the library; their layout is never visible.
 *   2. The only public structs are versioned option structs. Their first field
 *      is `uint32_t struct_size`; fill them with smoa_*_options_init() (an
 *      inline function that passes the caller's sizeof, so a newer library
 *      never writes past an older caller's struct) and pass them by pointer.
 *      Fields are only ever appended; the library reads
 *      min(struct_size, sizeof(what it knows)).
 *   3. Every fallible function returns smoa_status. smoa_status_str() names the
 *      code; smoa_ctx_last_error() gives the detailed message of the last
 *      failure on that context. The library never aborts, exits or prints on
 *      its own (use the log callback).
 *
 * Threading: a smoa_ctx is used by one thread at a time; distinct contexts are
 * independent and may be used concurrently. A loaded smoa_model is read-only
 * after smoa_model_load() returns: any number of threads may tokenize or
 * format chats with it at once, each through its own smoa_ctx.
 *
 * Strings are UTF-8. Functions that write into a caller buffer follow one
 * pattern: they write at most `cap` bytes/items, always store the full
 * required count in *n_out, and return SMOA_ERR_BUFFER_TOO_SMALL when it did
 * not fit (call again with a bigger buffer). Text outputs are NUL-terminated
 * when they fit; *n_out excludes the NUL.
 */
#ifndef SMOA_H
#define SMOA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(SMOA_SHARED)
#  ifdef SMOA_BUILD
#    define SMOA_API __declspec(dllexport)
#  else
#    define SMOA_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SMOA_API __attribute__((visibility("default")))
#else
#  define SMOA_API
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */

#define SMOA_VERSION_MAJOR 0
#define SMOA_VERSION_MINOR 1
#define SMOA_VERSION_PATCH 0
/* MAJOR*10000 + MINOR*100 + PATCH, comparable with smoa_version_number(). */
#define SMOA_VERSION_NUMBER \
    (SMOA_VERSION_MAJOR * 10000 + SMOA_VERSION_MINOR * 100 + SMOA_VERSION_PATCH)

/* The library's version as "MAJOR.MINOR.PATCH" (static string). */
SMOA_API const char *smoa_version(void);
/* The library's version as SMOA_VERSION_NUMBER, to compare with the header. */
SMOA_API uint32_t smoa_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */

typedef enum smoa_status {
    SMOA_OK = 0,
    SMOA_ERR_INVALID_ARGUMENT = 1, /* NULL handle, bad option value, ...    */
    SMOA_ERR_OUT_OF_MEMORY = 2,
    SMOA_ERR_IO = 3,               /* file missing, unreadable, mmap failed */
    SMOA_ERR_FORMAT = 4,           /* corrupt, truncated or hostile file    */
    SMOA_ERR_UNSUPPORTED = 5,      /* valid but not handled: tensor type,
                                      architecture, tokenizer, template    */
    SMOA_ERR_BUFFER_TOO_SMALL = 6, /* see *n_out for the size needed        */
    SMOA_ERR_NOT_FOUND = 7,        /* metadata key, tensor, token absent    */
    SMOA_ERR_BACKEND = 8,          /* device or backend failure             */
    SMOA_ERR_CONTEXT_FULL = 9,     /* a sequence reached n_ctx, or the KV
                                      cache budget is used up               */
    SMOA_ERR_CANCELLED = 10        /* the caller's cancel flag was set      */
} smoa_status;

/* A static, human-readable name for a status ("format error", ...). */
SMOA_API const char *smoa_status_str(smoa_status status);

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */

typedef enum smoa_log_level {
    SMOA_LOG_DEBUG = 0,
    SMOA_LOG_INFO = 1,
    SMOA_LOG_WARN = 2,
    SMOA_LOG_ERROR = 3,
    SMOA_LOG_NONE = 4 /* as a threshold: log nothing */
} smoa_log_level;

/* Receives one complete message (no trailing newline). Called on the thread
 * that made the library call. */
typedef void (*smoa_log_fn)(smoa_log_level level, const char *message, void *user_data);

/* ------------------------------------------------------------------------ */
/* Context                                                                  */

typedef struct smoa_ctx smoa_ctx;

typedef struct smoa_ctx_options {
    uint32_t struct_size;      /* sizeof(smoa_ctx_options)                  */
    smoa_log_fn log_fn;        /* NULL: no logging                          */
    void *log_user_data;       /* passed to log_fn                          */
    smoa_log_level log_level;  /* messages below this level are dropped     */
    int32_t n_threads;         /* worker threads; 0 = number of CPUs        */
} smoa_ctx_options;

SMOA_API void smoa_ctx_options_init_sized(smoa_ctx_options *options, size_t size);
static inline void smoa_ctx_options_init(smoa_ctx_options *options) {
    smoa_ctx_options_init_sized(options, sizeof *options);
}

/* options may be NULL (defaults). */
SMOA_API smoa_status smoa_ctx_create(const smoa_ctx_options *options, smoa_ctx **out_ctx);
SMOA_API void smoa_ctx_destroy(smoa_ctx *ctx);

/* The message of the last failure on ctx ("" if none). Valid until the next
 * call on ctx. */
SMOA_API const char *smoa_ctx_last_error(const smoa_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */

typedef struct smoa_model smoa_model;

typedef enum smoa_load_mode {
    SMOA_LOAD_FULL = 0,     /* everything needed to run the model           */
    SMOA_LOAD_VOCAB = 1,    /* metadata, tensor list and tokenizer; the
                               architecture is not checked                  */
    SMOA_LOAD_METADATA = 2  /* metadata and tensor list only (any GGUF)     */
} smoa_load_mode;

typedef struct smoa_model_options {
    uint32_t struct_size; /* sizeof(smoa_model_options)                      */
    uint32_t load_mode;   /* smoa_load_mode; default SMOA_LOAD_FULL          */
} smoa_model_options;

SMOA_API void smoa_model_options_init_sized(smoa_model_options *options, size_t size);
static inline void smoa_model_options_init(smoa_model_options *options) {
    smoa_model_options_init_sized(options, sizeof *options);
}

/* Loads a GGUF v3 file (memory-mapped). options may be NULL. On failure,
 * *out_model is NULL and smoa_ctx_last_error(ctx) says what and where. The
 * model does not keep ctx: it may outlive it and be used with other contexts. */
SMOA_API smoa_status smoa_model_load(smoa_ctx *ctx, const char *path,
                                     const smoa_model_options *options,
                                     smoa_model **out_model);
SMOA_API void smoa_model_free(smoa_model *model);

/* Metadata. Integers are 0 when the file does not say (vocab-only files).
 * Tokenizer functions need SMOA_LOAD_VOCAB or FULL: on a metadata-only model
 * they fail with SMOA_ERR_INVALID_ARGUMENT (getters return -1 / NULL). */
SMOA_API const char *smoa_model_architecture(const smoa_model *model); /* "llama" */
SMOA_API const char *smoa_model_name(const smoa_model *model);         /* general.name or "" */
SMOA_API uint64_t smoa_model_file_size(const smoa_model *model);       /* bytes */
SMOA_API uint64_t smoa_model_n_params(const smoa_model *model);        /* elements in all tensors */
SMOA_API uint32_t smoa_model_n_vocab(const smoa_model *model);
SMOA_API uint32_t smoa_model_n_ctx_train(const smoa_model *model);
SMOA_API uint32_t smoa_model_n_embd(const smoa_model *model);
SMOA_API uint32_t smoa_model_n_layer(const smoa_model *model);
SMOA_API uint32_t smoa_model_n_head(const smoa_model *model);
SMOA_API uint32_t smoa_model_n_head_kv(const smoa_model *model);
SMOA_API uint32_t smoa_model_n_ff(const smoa_model *model);

/* Any metadata value rendered as text (numbers in decimal, arrays as
 * "[a, b, ...]" shortened after a few elements). SMOA_ERR_NOT_FOUND if the
 * key is absent. */
SMOA_API smoa_status smoa_model_meta_str(smoa_ctx *ctx, const smoa_model *model,
                                         const char *key, char *buf, size_t cap,
                                         size_t *n_out);
SMOA_API uint64_t smoa_model_meta_count(const smoa_model *model);
/* Key of the i-th metadata entry in file order, NULL when out of range. */
SMOA_API const char *smoa_model_meta_key(const smoa_model *model, uint64_t index);

/* Tensors, in file order. */
typedef struct smoa_tensor_info {
    uint32_t struct_size;  /* sizeof(smoa_tensor_info), set by the caller  */
    const char *name;      /* owned by the model                           */
    const char *type_name; /* "Q4_1", "F32", ...                          */
    uint32_t type;         /* ggml type id as stored in the file          */
    uint32_t n_dims;
    uint64_t dims[4];      /* dims[0] is the contiguous (row) dimension    */
    uint64_t offset;       /* byte offset of the data within the file      */
    uint64_t n_bytes;
} smoa_tensor_info;

SMOA_API uint64_t smoa_model_n_tensors(const smoa_model *model);
SMOA_API smoa_status smoa_model_tensor_info(smoa_ctx *ctx, const smoa_model *model,
                                            uint64_t index, smoa_tensor_info *out_info);

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                */

/* Token ids are int32_t. Special ids are -1 when the model has none. */
SMOA_API int32_t smoa_token_bos(const smoa_model *model);
SMOA_API int32_t smoa_token_eos(const smoa_model *model);
/* 1 if generation should stop at this token (eos, eot, eom, ...). */
SMOA_API int smoa_token_is_eog(const smoa_model *model, int32_t token);
/* The token's text as stored in the vocabulary (not decoded). */
SMOA_API const char *smoa_token_text(const smoa_model *model, int32_t token);
/* "gpt2" (byte-level BPE) or "llama" (SentencePiece). */
SMOA_API const char *smoa_model_tokenizer_model(const smoa_model *model);
SMOA_API const char *smoa_model_tokenizer_pre(const smoa_model *model);

enum {
    SMOA_TOKENIZE_ADD_SPECIAL = 1u << 0,  /* add BOS/EOS as the model asks    */
    SMOA_TOKENIZE_PARSE_SPECIAL = 1u << 1 /* "<|im_start|>" in text -> its id */
};

/* text_len bytes of text (need not be NUL-terminated). */
SMOA_API smoa_status smoa_tokenize(smoa_ctx *ctx, const smoa_model *model,
                                   const char *text, size_t text_len, uint32_t flags,
                                   int32_t *tokens, size_t cap, size_t *n_out);

enum {
    SMOA_DETOKENIZE_RENDER_SPECIAL = 1u << 0, /* write control tokens' text  */
    SMOA_DETOKENIZE_CONTINUATION = 1u << 1    /* the tokens continue earlier
                                                 text: keep a leading space
                                                 (SentencePiece strips it at
                                                 the start of a text); use it
                                                 when streaming token by token */
};

/* Exact bytes of the tokens (which may end inside a UTF-8 sequence). */
SMOA_API smoa_status smoa_detokenize(smoa_ctx *ctx, const smoa_model *model,
                                     const int32_t *tokens, size_t n_tokens, uint32_t flags,
                                     char *buf, size_t cap, size_t *n_out);

/* ------------------------------------------------------------------------ */
/* Chat templates                                                           */

/* The model's tokenizer.chat_template, or NULL when it has none. */
SMOA_API const char *smoa_model_chat_template(const smoa_model *model);

/* The family a template is recognised as: "chatml", "llama3", "gemma",
 * "mistral" (the [INST] family, incl. Llama-2), or NULL when unknown.
 * template_text may also be one of those names. */
SMOA_API const char *smoa_chat_template_family(const char *template_text);

/* Renders n messages (parallel arrays of roles and contents; roles are
 * "system", "user", "assistant") with template_text, or with the model's
 * template when template_text is NULL. add_assistant_prompt != 0 appends the
 * opening of an assistant turn. An unrecognised template is
 * SMOA_ERR_UNSUPPORTED, never a guess. */
SMOA_API smoa_status smoa_chat_format(smoa_ctx *ctx, const smoa_model *model,
                                      const char *template_text,
                                      const char *const *roles,
                                      const char *const *contents, size_t n_messages,
                                      int add_assistant_prompt,
                                      char *buf, size_t cap, size_t *n_out);

/* ------------------------------------------------------------------------ */
/* Sessions: running a model                                                */

/* A session holds what inference on one model needs: the compute backend,
 * the KV cache (paged, with a token budget shared by all sequences) and the
 * logits of the last step. A session is used by one thread at a time, like
 * its context; several sessions may share one model. */
typedef struct smoa_session smoa_session;

typedef enum smoa_device {
    SMOA_DEVICE_AUTO = 0, /* CUDA when built in and a device is present,
                             else the CPU; $SMOA_DEVICE=cpu|cuda overrides;
                             smoa_session_device() says which runs          */
    SMOA_DEVICE_CPU = 1,
    SMOA_DEVICE_CUDA = 2
} smoa_device;

typedef struct smoa_session_options {
    uint32_t struct_size; /* sizeof(smoa_session_options)                    */
    uint32_t n_ctx;       /* most tokens one sequence may hold; 0: the
                             model's training context, at most 4096         */
    uint32_t n_seq_max;   /* sequences alive at once; 0: 16                  */
    uint32_t kv_tokens;   /* KV cache budget in tokens over all sequences
                             (shared prefixes count once); 0: 4 * n_ctx     */
    uint32_t n_batch;     /* most tokens per forward pass; 0: 512           */
    int32_t n_threads;    /* CPU threads; 0: the context's n_threads        */
    uint32_t device;      /* smoa_device                                    */
} smoa_session_options;

SMOA_API void smoa_session_options_init_sized(smoa_session_options *options, size_t size);
static inline void smoa_session_options_init(smoa_session_options *options) {
    smoa_session_options_init_sized(options, sizeof *options);
}

/* The model must be loaded with SMOA_LOAD_FULL and outlive the session. */
SMOA_API smoa_status smoa_session_create(smoa_ctx *ctx, const smoa_model *model,
                                         const smoa_session_options *options,
                                         smoa_session **out_session);
SMOA_API void smoa_session_destroy(smoa_session *session);
/* "cpu" or "cuda". */
SMOA_API const char *smoa_session_device(const smoa_session *session);
SMOA_API const smoa_model *smoa_session_model(const smoa_session *session);
SMOA_API uint32_t smoa_session_n_ctx(const smoa_session *session);

/* Sequences are small integer ids within a session. */
SMOA_API smoa_status smoa_seq_create(smoa_ctx *ctx, smoa_session *session, int32_t *out_seq);
/* A new sequence that starts with everything src holds (its KV cache pages
 * are shared, not copied), e.g. agents answering after one shared prompt. */
SMOA_API smoa_status smoa_seq_fork(smoa_ctx *ctx, smoa_session *session, int32_t src,
                                   int32_t *out_seq);
SMOA_API void smoa_seq_free(smoa_session *session, int32_t seq);
/* Drops the sequence's tokens from position n on (n <= its length), e.g.
 * to re-prefill a chat from where a new rendering of it differs. */
SMOA_API smoa_status smoa_seq_truncate(smoa_ctx *ctx, smoa_session *session, int32_t seq,
                                       uint32_t n);
/* Tokens the sequence holds (its next position). */
SMOA_API uint32_t smoa_seq_length(const smoa_session *session, int32_t seq);

/* Appends tokens to one sequence (split into forward passes of n_batch);
 * afterwards smoa_seq_logits(seq) holds the logits after the last token.
 * An empty prompt is SMOA_ERR_INVALID_ARGUMENT; more tokens than n_ctx or
 * than the KV budget is SMOA_ERR_CONTEXT_FULL and leaves the sequence as
 * it was. */
SMOA_API smoa_status smoa_prefill(smoa_ctx *ctx, smoa_session *session, int32_t seq,
                                  const int32_t *tokens, size_t n_tokens);
/* One token for each of n distinct sequences, in one forward pass. */
SMOA_API smoa_status smoa_decode(smoa_ctx *ctx, smoa_session *session, const int32_t *seqs,
                                 const int32_t *tokens, size_t n);
/* [n_vocab] logits after the sequence's last token, or NULL when its last
 * step produced none. Valid until the next prefill, decode or generate
 * that involves the sequence. */
SMOA_API const float *smoa_seq_logits(const smoa_session *session, int32_t seq);
/* [n_embd] final hidden state (after the output norm) at the same point. */
SMOA_API const float *smoa_seq_hidden(const smoa_session *session, int32_t seq);

/* ------------------------------------------------------------------------ */
/* Sampling and generation                                                  */

typedef struct smoa_sampling_options {
    uint32_t struct_size;
    float temperature;        /* 0: greedy (argmax)                          */
    int32_t top_k;            /* 0: off                                      */
    float top_p;              /* 1: off                                      */
    float min_p;              /* 0: off                                      */
    float repeat_penalty;     /* 1: off                                      */
    float frequency_penalty;  /* 0: off                                      */
    float presence_penalty;   /* 0: off                                      */
    int32_t penalty_last_n;   /* tokens the penalties look back; -1: all     */
    uint64_t seed;
} smoa_sampling_options;

/* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, penalties off,
 * penalty_last_n 64, seed 0. */
SMOA_API void smoa_sampling_options_init_sized(smoa_sampling_options *options, size_t size);
static inline void smoa_sampling_options_init(smoa_sampling_options *options) {
    smoa_sampling_options_init_sized(options, sizeof *options);
}
/* SMOA_ERR_INVALID_ARGUMENT naming the field for values out of range
 * (negative or NaN temperature, top_p outside [0, 1], ...). */
SMOA_API smoa_status smoa_sampling_options_check(smoa_ctx *ctx, const smoa_sampling_options *options);

typedef enum smoa_stop_reason {
    SMOA_STOP_NONE = 0,        /* still running (or never started)          */
    SMOA_STOP_EOG = 1,         /* the model's end-of-generation token       */
    SMOA_STOP_STRING = 2,      /* a stop string (not included in the text)  */
    SMOA_STOP_MAX_TOKENS = 3,
    SMOA_STOP_CONTEXT = 4,     /* n_ctx or the KV budget ran out            */
    SMOA_STOP_CALLBACK = 5,    /* the token callback asked to stop          */
    SMOA_STOP_CANCELLED = 6,
    SMOA_STOP_ERROR = 7        /* this sequence failed; the others went on  */
} smoa_stop_reason;

/* Called with each sequence's new text as it is produced (bytes; a piece
 * may end inside a UTF-8 character, the next one completes it). Return 0
 * to go on, non-zero to stop that sequence. */
typedef int (*smoa_token_fn)(int32_t seq, int32_t token, const char *piece, size_t piece_len,
                             void *user_data);

typedef struct smoa_generate_options {
    uint32_t struct_size;
    uint32_t max_tokens;                      /* per sequence; 0: 256         */
    const uint32_t *max_tokens_per_seq;       /* [n_seqs] or NULL              */
    const smoa_sampling_options *sampling;    /* for all sequences; NULL: defaults */
    const smoa_sampling_options *const *sampling_per_seq; /* [n_seqs] or NULL */
    const char *const *stop;                  /* stop strings                  */
    size_t n_stop;
    smoa_token_fn on_token;
    void *user_data;
    const volatile int32_t *cancel;           /* non-zero: stop everything     */
} smoa_generate_options;

SMOA_API void smoa_generate_options_init_sized(smoa_generate_options *options, size_t size);
static inline void smoa_generate_options_init(smoa_generate_options *options) {
    smoa_generate_options_init_sized(options, sizeof *options);
}

/* The outcome of one smoa_generate call, one entry per sequence. */
typedef struct smoa_generation smoa_generation;

/* Continues n sequences (each already prefilled, so each has logits) until
 * every one has stopped, decoding all running ones together in each step
 * (a finished sequence leaves the batch). Returns SMOA_OK when every
 * sequence stopped, even if some of them stopped with SMOA_STOP_ERROR (the
 * others went on); SMOA_ERR_CANCELLED when the cancel flag was seen. *out
 * is filled in both cases and freed with smoa_generation_free; on any other
 * status it is NULL.
 *
 * Afterwards each sequence holds its generated tokens except the last one
 * (sampled from the final logits, never fed back: an end-of-generation
 * token needs no forward pass), and smoa_seq_logits gives the logits that
 * chose it. To go on from there, prefill that last token first. The
 * callback is not called again for a sequence once it asked to stop. */
SMOA_API smoa_status smoa_generate(smoa_ctx *ctx, smoa_session *session, const int32_t *seqs,
                                   size_t n_seqs, const smoa_generate_options *options,
                                   smoa_generation **out);
SMOA_API void smoa_generation_free(smoa_generation *generation);
SMOA_API size_t smoa_generation_count(const smoa_generation *generation);
/* Generated text of entry i (NUL-terminated; *len without the NUL). */
SMOA_API const char *smoa_generation_text(const smoa_generation *generation, size_t i,
                                          size_t *len);
SMOA_API uint32_t smoa_generation_n_tokens(const smoa_generation *generation, size_t i);
SMOA_API const int32_t *smoa_generation_tokens(const smoa_generation *generation, size_t i);
SMOA_API smoa_stop_reason smoa_generation_stop_reason(const smoa_generation *generation,
                                                      size_t i);
SMOA_API const char *smoa_stop_reason_str(smoa_stop_reason reason);

/* ------------------------------------------------------------------------ */
/* Multi-agent runs: single, MoA and SMoA                                   */

typedef enum smoa_mode {
    SMOA_MODE_SINGLE = 0, /* one agent answers                              */
    SMOA_MODE_MOA = 1,    /* dense: every response goes forward, no stop    */
    SMOA_MODE_SMOA = 2    /* roles, top-k selection, early stop             */
} smoa_mode;

typedef enum smoa_judge_kind {
    SMOA_JUDGE_GENERATIVE = 0, /* the judge writes reasoning + JSON choice  */
    SMOA_JUDGE_SCORE = 1,      /* P(yes) per response from one prefill each,
                                  then top-k of the scores                  */
    SMOA_JUDGE_SELF = 2        /* P(yes) to a verdict question asked in each
                                  proposer's own conversation, on its model:
                                  its KV cache is reused, so only the
                                  question is computed; then top-k. Agents
                                  on different models each rate their own
                                  answers, on scales that need not agree:
                                  SMOA_JUDGE_SCORE has one judge model      */
} smoa_judge_kind;

typedef enum smoa_moderator_kind {
    SMOA_MODERATOR_JUDGE = 0,            /* the generative judge's end flag  */
    SMOA_MODERATOR_AGREE_NUMBER = 1,     /* kept responses end in one number */
    SMOA_MODERATOR_AGREE_CHOICE = 2,     /* ... or pick one option letter   */
    SMOA_MODERATOR_NONE = 3
} smoa_moderator_kind;

/* One proposer's own model and settings (smoa_run_options.agents): agents
 * of one session decode together in one batch; different sessions (models)
 * take turns. */
typedef struct smoa_agent_spec {
    uint32_t struct_size;
    smoa_session *session;         /* its model; NULL: the query's session   */
    const char *role;              /* its persona; NULL: from roles or the
                                      defaults (SMoA; MoA uses none)         */
    float temperature;             /* < 0 (default): the run's temperature   */
    uint32_t max_tokens;           /* 0 (default): the run's max_tokens      */
} smoa_agent_spec;

SMOA_API void smoa_agent_spec_init_sized(smoa_agent_spec *spec, size_t size);
static inline void smoa_agent_spec_init(smoa_agent_spec *spec) {
    smoa_agent_spec_init_sized(spec, sizeof *spec);
}

typedef struct smoa_run_options {
    uint32_t struct_size;
    uint32_t mode;                 /* smoa_mode; default SMOA_MODE_SMOA       */
    uint32_t n_proposers;          /* n; default 4                            */
    uint32_t k;                    /* kept per layer; default 2               */
    uint32_t n_layers;             /* proposer rounds; default 2              */
    uint32_t judge;                /* smoa_judge_kind                         */
    uint32_t moderator;            /* smoa_moderator_kind                     */
    uint32_t separate_moderator;   /* 1: moderator is its own call (generative) */
    float temperature;             /* every call; default 0.7                 */
    uint32_t max_tokens;           /* per proposer response; default 256      */
    uint32_t judge_max_tokens;     /* default 256                             */
    uint32_t aggregator_max_tokens; /* default 256                            */
    uint64_t seed;                 /* sampling and judge fallbacks; default 42 */
    const char *const *roles;      /* n personas, or NULL for the defaults   */
    smoa_token_fn on_answer;       /* the final answer, streamed (seq -1)     */
    void *user_data;
    const volatile int32_t *cancel;
    const char *task;              /* with roles NULL (SMoA): the model writes
                                      n personas for this task description,
                                      once per task if roles_cache is set    */
    const char *roles_cache;       /* file of personas, one per line: used
                                      when it holds n, else (re)written      */
    uint32_t answer_choices;       /* 0: the aggregator writes the answer; 2..26:
                                      the question is multiple choice with
                                      options A.. and the aggregator answers
                                      by likelihood: the letter whose token is
                                      most probable first, no generation
                                      (smoa_run_choice)                       */
    const smoa_agent_spec *const *agents; /* [n_proposers] or NULL: each
                                      proposer's model, role and budget      */
    smoa_session *judge_session;   /* the judge's and moderator's model; NULL:
                                      the query's session                    */
    smoa_session *aggregator_session; /* the aggregator's (it also writes the
                                      roles); NULL: the query's session      */
    uint32_t role_in_system;       /* 0 (default): each persona follows the
                                      question in its user message, so the
                                      system message (with the kept responses)
                                      and the question are prefilled once for
                                      all proposers; 1: the persona opens its
                                      own system message (nothing shared)    */
} smoa_run_options;

SMOA_API void smoa_run_options_init_sized(smoa_run_options *options, size_t size);
static inline void smoa_run_options_init(smoa_run_options *options) {
    smoa_run_options_init_sized(options, sizeof *options);
}

/* The outcome of one query: answer, trace and cost account. */
typedef struct smoa_run smoa_run;

/* Answers one question. By default every agent uses the session's model
 * (sharing its weights; the session needs n_seq_max >= n_proposers + 1);
 * options.agents, judge_session and aggregator_session put agents on other
 * loaded models (each session needs n_seq_max >= its proposers + 1, and
 * the judge's >= n_proposers + 1 for the scoring judge). On success
 * *out holds the answer, the trace and the costs; a failure of one agent
 * drops its response and is recorded in the trace. */
SMOA_API smoa_status smoa_run_query(smoa_ctx *ctx, smoa_session *session, const char *question,
                                    const smoa_run_options *options, smoa_run **out);
SMOA_API void smoa_run_free(smoa_run *run);
SMOA_API const char *smoa_run_answer(const smoa_run *run, size_t *len);
/* Every prompt, response, score, choice and stop decision, with tokens and
 * times, as JSON (schema: docs/trace.md). */
SMOA_API const char *smoa_run_trace_json(const smoa_run *run, size_t *len);

typedef enum smoa_stage {
    SMOA_STAGE_PROPOSE = 0,
    SMOA_STAGE_JUDGE = 1,
    SMOA_STAGE_MODERATE = 2,
    SMOA_STAGE_AGGREGATE = 3,
    SMOA_STAGE_TOTAL = 4
} smoa_stage;

typedef struct smoa_cost {
    uint32_t struct_size;
    uint64_t prompt_tokens;    /* summed over the stage's calls, each call's
                                  whole prompt (the papers' cost metric)    */
    uint64_t prefill_tokens;   /* prompt tokens actually computed (shared
                                  prefixes once)                            */
    uint64_t generated_tokens;
    uint32_t calls;            /* model calls (one per agent response)     */
    double seconds;            /* wall time                                */
} smoa_cost;

SMOA_API smoa_status smoa_run_cost(const smoa_run *run, smoa_stage stage, smoa_cost *out);
/* Seconds from the start of the query to the first answer byte. */
SMOA_API double smoa_run_ttft(const smoa_run *run);
/* Proposer rounds run (fewer than n_layers after an early stop). */
SMOA_API uint32_t smoa_run_layers(const smoa_run *run);
/* With answer_choices set: the chosen option (0 = A), and when logits is
 * not NULL the aggregator's next-token logits of the letters A.. in
 * logits[0..answer_choices). -1 for a run without answer_choices. */
SMOA_API int32_t smoa_run_choice(const smoa_run *run, float *logits);

/* ------------------------------------------------------------------------ */
/* Evaluation: data sets in every mode, resumable, with a report           */

typedef enum smoa_eval_scorer {
    SMOA_EVAL_SCORER_AUTO = 0,       /* likelihood for multiple choice      */
    SMOA_EVAL_SCORER_GENERATE = 1,   /* multiple choice: the letter the
                                        written answer names                */
    SMOA_EVAL_SCORER_LIKELIHOOD = 2  /* multiple choice: the most likely
                                        first letter (answer_choices)       */
} smoa_eval_scorer;

/* Where an evaluation stands, after each (item, mode) it finishes. */
typedef struct smoa_eval_progress {
    uint32_t struct_size;
    const char *dataset;
    const char *item;          /* the one just finished                    */
    uint32_t mode;             /* its smoa_mode                            */
    uint32_t done;             /* (item, mode) pairs finished, resumed ones
                                  included                                 */
    uint32_t total;
    uint32_t resumed;          /* found finished in the results file       */
    uint32_t mode_done[3];     /* per smoa_mode: items with a verdict      */
    uint32_t mode_correct[3];  /* per smoa_mode: of those, correct         */
    double elapsed;            /* seconds in this call                     */
    double eta;                /* seconds left, estimated; -1: unknown     */
} smoa_eval_progress;

typedef void (*smoa_eval_progress_fn)(const smoa_eval_progress *progress, void *user_data);

typedef struct smoa_eval_options {
    uint32_t struct_size;
    const char *dataset;       /* gsm8k, svamp, mmlu, mmlu-dev, bbq, mt-bench,
                                  or the path of a .jsonl / .csv file (schema:
                                  docs/eval.md)                            */
    const char *out_dir;       /* results.jsonl, run.json, report.md; required,
                                  created when absent                      */
    uint32_t modes;            /* bit (1 << smoa_mode) per mode; default all */
    uint32_t limit;            /* items, a seeded sample; 0: all           */
    uint64_t seed;             /* the sample and every run; default 42      */
    uint32_t scorer;           /* smoa_eval_scorer                         */
    int32_t moderator;         /* -1 (default): by the data set (agreement on
                                  the number, on the letter, the judge for
                                  open questions); else smoa_moderator_kind */
    const smoa_run_options *run; /* per query (mode, seed, moderator and
                                  answer_choices are set per item); NULL:
                                  defaults                                 */
    const char *command;       /* recorded in run.json (e.g. the CLI line)  */
    const char *model_name;    /* recorded in run.json                     */
    smoa_eval_progress_fn on_progress;
    void *user_data;
    const volatile int32_t *cancel;
} smoa_eval_options;

SMOA_API void smoa_eval_options_init_sized(smoa_eval_options *options, size_t size);
static inline void smoa_eval_options_init(smoa_eval_options *options) {
    smoa_eval_options_init_sized(options, sizeof *options);
}

/* Runs every selected item in every mode with the session's model and
 * appends one line per (item, mode) to out_dir/results.jsonl as soon as it
 * is scored. Items already in that file are not run again, so a run that
 * was interrupted (or cancelled: SMOA_ERR_CANCELLED) resumes where it
 * stopped. An item whose query fails is recorded with its error and the run
 * goes on. SMOA_ERR_INVALID_ARGUMENT when out_dir holds a run made with
 * different settings. */
SMOA_API smoa_status smoa_eval_run(smoa_ctx *ctx, smoa_session *session, const smoa_eval_options *options);

/* Writes dir/report.md and the plot dir/accuracy_vs_tokens.png from
 * dir/results.jsonl (layout: docs/eval.md). */
SMOA_API smoa_status smoa_eval_report(smoa_ctx *ctx, const char *dir);

/* The numbers of the report, for programs: per (data set, mode) and per
 * agent, read from dir/results.jsonl. It may be read while an evaluation
 * is still writing there (live statistics). */
typedef struct smoa_eval_summary smoa_eval_summary;

typedef struct smoa_eval_mode_result {
    uint32_t struct_size;
    const char *dataset;       /* valid while the summary lives            */
    uint32_t mode;             /* smoa_mode                                */
    uint32_t rated;            /* 1: judged by rating (MT-bench), no accuracy */
    uint64_t items, errors, correct;
    double accuracy, accuracy_low, accuracy_high; /* 0..1, Wilson 95%      */
    uint64_t rated_items;
    double rating, rating_low, rating_high;       /* mean rating, 95% t    */
    /* means per item */
    double prompt_tokens, prefill_tokens, generated_tokens, total_tokens;
    double calls, seconds;
} smoa_eval_mode_result;

/* One agent (by name: "agent 2: <first words of its role>") of one mode,
 * over every data set in the directory. */
typedef struct smoa_eval_agent_stats {
    uint32_t struct_size;
    const char *name;          /* valid while the summary lives            */
    uint32_t mode;             /* SMOA_MODE_MOA or SMOA_MODE_SMOA          */
    uint64_t responses;
    uint64_t kept;             /* responses the judge passed on            */
    uint64_t failures;
    double mean_score;         /* the scoring judge's; NaN without one     */
    double mean_generated_tokens;
    double mean_seconds;
} smoa_eval_agent_stats;

SMOA_API smoa_status smoa_eval_summary_load(smoa_ctx *ctx, const char *dir, smoa_eval_summary **out);
SMOA_API void smoa_eval_summary_free(smoa_eval_summary *summary);
/* Results in data set order, each data set's modes single, moa, smoa. */
SMOA_API size_t smoa_eval_summary_n_results(const smoa_eval_summary *summary);
SMOA_API smoa_status smoa_eval_summary_result(const smoa_eval_summary *summary, size_t i,
                                              smoa_eval_mode_result *out);
SMOA_API size_t smoa_eval_summary_n_agents(const smoa_eval_summary *summary);
SMOA_API smoa_status smoa_eval_summary_agent(const smoa_eval_summary *summary, size_t i,
                                             smoa_eval_agent_stats *out);

/* ------------------------------------------------------------------------ */
/* Synthetic models                                                         */

/* A valid llama GGUF with random weights, for tests and benchmarks where
 * real weights cannot be shipped. Its vocabulary is byte-level BPE (256
 * byte tokens, ChatML specials, no merges) padded to n_vocab, with a
 * ChatML chat template; it generates noise, deterministically. */
typedef struct smoa_synthetic_options {
    uint32_t struct_size;
    uint32_t n_vocab;       /* >= 259; default 49152                        */
    uint32_t n_embd;        /* default 576 (SmolLM2-135M's shape)           */
    uint32_t n_layer;       /* default 30                                   */
    uint32_t n_head;        /* default 9                                    */
    uint32_t n_head_kv;     /* default 3                                    */
    uint32_t n_ff;          /* default 1536                                 */
    uint32_t n_ctx;         /* default 8192                                 */
    uint32_t weight_type;   /* ggml type id of the layer matrices; default Q4_1 */
    uint32_t embd_type;     /* of token_embd; default Q8_0                  */
    uint32_t tied_output;   /* 1 (default): no output.weight                */
    uint64_t seed;
} smoa_synthetic_options;

SMOA_API void smoa_synthetic_options_init_sized(smoa_synthetic_options *options, size_t size);
static inline void smoa_synthetic_options_init(smoa_synthetic_options *options) {
    smoa_synthetic_options_init_sized(options, sizeof *options);
}
/* The name of a ggml tensor type id ("Q4_1"), or NULL for an unknown id. */
SMOA_API const char *smoa_tensor_type_name(uint32_t type);
SMOA_API smoa_status smoa_synthetic_write(smoa_ctx *ctx, const char *path,
                                          const smoa_synthetic_options *options);

/* ------------------------------------------------------------------------ */
/* Backends                                                                 */

/* 1 if this build includes the CUDA backend. */
SMOA_API int smoa_has_cuda(void);
/* Number of usable CUDA devices (0 without CUDA or without a device). */
SMOA_API int smoa_cuda_device_count(void);

#ifdef __cplusplus
}
#endif

#endif /* SMOA_H */
