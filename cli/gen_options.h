/* gen_options.h - the options `smoa generate` and `smoa chat` share:
 * model, session size, threads and sampling. */
#ifndef SMOA_CLI_GEN_OPTIONS_H
#define SMOA_CLI_GEN_OPTIONS_H

#include <getopt.h>

#include "smoa.h"

typedef struct cli_gen_options {
    const char *model;
    smoa_session_options session;
    smoa_sampling_options sampling;
    uint32_t max_tokens;
} cli_gen_options;

/* getopt_long entries for the shared options (values >= 1000). */
#define CLI_GEN_LONG_OPTIONS                                                               \
    {"model", required_argument, NULL, 'm'}, {"temp", required_argument, NULL, 1000},      \
        {"seed", required_argument, NULL, 1001}, {"top-k", required_argument, NULL, 1002}, \
        {"top-p", required_argument, NULL, 1003}, {"min-p", required_argument, NULL, 1004}, \
        {"repeat-penalty", required_argument, NULL, 1005},                                  \
        {"threads", required_argument, NULL, 't'}, {"ctx", required_argument, NULL, 'c'},   \
        {"n-predict", required_argument, NULL, 'n'}

#define CLI_GEN_SHORT_OPTIONS "m:t:c:n:"

#define CLI_GEN_USAGE                                                                   \
    "  --model PATH         GGUF model (default: $SMOA_MODEL or the default model)\n"  \
    "  -n, --n-predict N    most tokens to generate (default 256)\n"                   \
    "  --temp T             temperature; 0 = greedy (default 0.8)\n"                  \
    "  --seed S             random seed (default 0)\n"                                 \
    "  --top-k K  --top-p P  --min-p P  --repeat-penalty R   sampling filters\n"       \
    "  -t, --threads N      CPU threads (default: all)\n"                              \
    "  -c, --ctx N          context size per sequence (default: model, max 4096)\n"

void cli_gen_options_init(cli_gen_options *g);
/* Handles one shared option: 1 handled, 0 not a shared option, -1 bad value
 * (message printed). */
int cli_gen_option(cli_gen_options *g, int opt, const char *arg);

#endif
