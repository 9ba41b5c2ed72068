/* run_flags.h - the command-line flags of a run's settings, shared by
 * `smoa run` and `smoa eval` (each adds its own flags to the table). */
#ifndef SMOA_CLI_RUN_FLAGS_H
#define SMOA_CLI_RUN_FLAGS_H

#include <getopt.h>
#include <stdio.h>

#include "run_config.h"

/* getopt_long codes of the shared flags start here; a command's own flags
 * use codes below it. */
enum { CLI_RUN_FLAG_BASE = 1000 };

/* The shared entries of a getopt_long table (no terminator). */
extern const struct option cli_run_flag_options[];
extern const size_t cli_n_run_flag_options;

/* Their help lines. */
void cli_run_flags_usage(FILE *out);

/* Applies one shared flag (c from getopt_long) to rs. Returns 0, or 2
 * after printing why the value is bad. 'm' (--model), 'n', 'k' and 't' are
 * shared short options. */
int cli_run_flag(int c, const char *arg, cli_run_settings *rs);

/* True for the codes cli_run_flag handles. */
int cli_is_run_flag(int c);

/* Reads --config FILE first, wherever it stands, so that the other flags
 * override it. */
int cli_run_config_flag(int argc, char **argv, cli_run_settings *rs, void **keep);

/* Parses an integer flag value within lo..hi; prints why not and returns -1. */
int cli_number(const char *arg, long lo, long hi, const char *what, long *out);

#endif
