/* model.h - the smoa_model handle: a mapped GGUF file, its hyperparameters
 * and its vocabulary. */
#ifndef SMOA_MODEL_MODEL_H
#define SMOA_MODEL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "model/gguf.h"
#include "model/llama.h"
#include "model/vocab.h"
#include "smoa.h"

typedef struct smoa_hparams {
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t n_ff;
} smoa_hparams;

struct smoa_model {
    smoa_gguf *gguf;
    smoa_vocab *vocab;     /* NULL for SMOA_LOAD_METADATA */
    char *architecture;    /* general.architecture        */
    char *name;            /* general.name or ""          */
    char *chat_template;   /* NULL when absent            */
    smoa_hparams hparams;
    uint64_t n_params;
    bool runnable;         /* loaded with SMOA_LOAD_FULL: llama is valid  */
    smoa_llama llama;
};

#endif
