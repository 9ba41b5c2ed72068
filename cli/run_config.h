/* run_config.h - `smoa run --config FILE`: run settings as JSON. */
#ifndef SMOA_CLI_RUN_CONFIG_H
#define SMOA_CLI_RUN_CONFIG_H

#include "smoa.h"

/* The settings a run takes from the command line or a config file. */
typedef struct cli_run_settings {
    smoa_run_options options;
    const char *model;
    int threads;
    const char *roles[16];   /* from the file, when it lists them */
    int moderator_set;       /* the moderator was chosen (flag or file)  */
    /* "agents" of the file: per proposer, NULL / -1 / 0 where not given */
    size_t n_agents;
    const char *agent_model[16];
    const char *agent_role[16];
    float agent_temperature[16];
    uint32_t agent_max_tokens[16];
    const char *judge_model;       /* NULL: the shared model               */
    const char *aggregator_model;  /* NULL: the shared model               */
} cli_run_settings;

/* Reads FILE into s (keys as documented in docs/config.md); the strings stay
 * valid until cli_run_config_free. Prints one line and returns non-zero for
 * a missing file, bad JSON, an unknown key or a value of the wrong type. */
int cli_run_config_load(const char *path, cli_run_settings *s, void **keep);
void cli_run_config_free(void *keep);

/* Name tables shared with the command-line flags. */
extern const char *const cli_mode_names[3];
extern const char *const cli_judge_names[3];
extern const char *const cli_moderator_names[4];
int cli_pick(const char *arg, const char *const *names, int n, const char *what);

#endif
