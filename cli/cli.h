/* cli.h - shared pieces of the smoa command's subcommands. */
#ifndef SMOA_CLI_H
#define SMOA_CLI_H

#include <stddef.h>

#include "smoa.h"

#define CLI_DEFAULT_MODEL_FILE "SmolLM2-135M-Instruct.Q4_1.gguf"

/* Each subcommand: argc/argv start at the subcommand's name. Returns the
 * process exit status. */
int cli_info(int argc, char **argv);
int cli_tokenize(int argc, char **argv);
int cli_generate(int argc, char **argv);
int cli_chat(int argc, char **argv);
int cli_synth(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_eval(int argc, char **argv);

/* --model's value, else $SMOA_MODEL, else the fetched default model's cache
 * path. Writes into buf; returns buf. */
const char *cli_model_path(const char *option, char *buf, size_t cap);

/* Creates a context and loads the model named by --model's value (option,
 * may be NULL: see cli_model_path). On failure prints one line
 * "smoa: cannot load model: <why>" (plus how to fetch the default model
 * when that is what is missing) and returns non-zero. */
int cli_open(const char *option, smoa_load_mode mode, smoa_ctx **ctx, smoa_model **model);

/* Prints a one-line error for a failed call on ctx. */
void cli_fail(smoa_ctx *ctx, const char *what, smoa_status status);

#endif
