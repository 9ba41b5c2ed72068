/* team.h - the models and sessions behind a run: the shared model (--model)
 * and any others the config names for agents, the judge or the aggregator,
 * each file loaded once, with one session per model. */
#ifndef SMOA_CLI_TEAM_H
#define SMOA_CLI_TEAM_H

#include "run_config.h"

enum { CLI_TEAM_MAX_MODELS = 19 }; /* shared + 16 agents + judge + aggregator */

typedef struct cli_team {
    smoa_ctx *ctx;
    size_t n_models;
    const char *paths[CLI_TEAM_MAX_MODELS];     /* NULL: the shared model   */
    smoa_model *models[CLI_TEAM_MAX_MODELS];    /* [0] is the shared model  */
    smoa_session *sessions[CLI_TEAM_MAX_MODELS];
    smoa_agent_spec specs[16];
    const smoa_agent_spec *spec_ptrs[16];
} cli_team;

/* Loads the models of rs and wires their sessions into rs->options; the
 * query runs on team->sessions[0]. Prints one line and returns non-zero on
 * failure (the team is then closed). */
int cli_team_open(cli_run_settings *rs, cli_team *team);
void cli_team_close(cli_team *team);

#endif
