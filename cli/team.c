/* team.c - loading a run's models once each (see team.h). */
#include "team.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The session of the model at path (NULL: the shared one), loading it the
 * first time; NULL after printing why it cannot be loaded. */
static smoa_session *session_for(cli_team *t, const cli_run_settings *rs, const char *path) {
    for (size_t i = 0; i < t->n_models; i++)
        if (path == t->paths[i] || (path && t->paths[i] && strcmp(path, t->paths[i]) == 0)) return t->sessions[i];
    size_t i = t->n_models;
    if (path) {
        smoa_model_options mo;
        smoa_model_options_init(&mo);
        smoa_status st = smoa_model_load(t->ctx, path, &mo, &t->models[i]);
        if (st) return fprintf(stderr, "smoa: cannot load model %s: %s\n", path, smoa_ctx_last_error(t->ctx)), NULL;
    }
    smoa_session_options so;
    smoa_session_options_init(&so);
    so.n_seq_max = rs->options.n_proposers + 1; /* a whole layer, or the scoring judge's prompts */
    so.n_threads = rs->threads;
    t->paths[i] = path;
    t->n_models++;
    smoa_status st = smoa_session_create(t->ctx, t->models[i], &so, &t->sessions[i]);
    if (st) {
        cli_fail(t->ctx, "cannot start a session", st);
        return NULL;
    }
    return t->sessions[i];
}

static int wire_agents(cli_team *t, cli_run_settings *rs) {
    if (rs->n_agents != rs->options.n_proposers) {
        fprintf(stderr, "smoa: the config lists %zu agents but n is %u\n", rs->n_agents, rs->options.n_proposers);
        return 1;
    }
    for (size_t i = 0; i < rs->n_agents; i++) {
        smoa_agent_spec *a = &t->specs[i];
        smoa_agent_spec_init(a);
        if (!(a->session = session_for(t, rs, rs->agent_model[i]))) return 1;
        a->role = rs->agent_role[i];
        a->temperature = rs->agent_temperature[i];
        a->max_tokens = rs->agent_max_tokens[i];
        t->spec_ptrs[i] = a;
    }
    rs->options.agents = t->spec_ptrs;
    return 0;
}

int cli_team_open(cli_run_settings *rs, cli_team *team) {
    memset(team, 0, sizeof *team);
    if (cli_open(rs->model, SMOA_LOAD_FULL, &team->ctx, &team->models[0]) != 0) return 1;
    int rc = session_for(team, rs, NULL) ? 0 : 1;
    if (rc == 0 && rs->n_agents) rc = wire_agents(team, rs);
    if (rc == 0 && rs->judge_model && !(rs->options.judge_session = session_for(team, rs, rs->judge_model))) rc = 1;
    if (rc == 0 && rs->aggregator_model &&
        !(rs->options.aggregator_session = session_for(team, rs, rs->aggregator_model)))
        rc = 1;
    if (rc) cli_team_close(team);
    return rc;
}

void cli_team_close(cli_team *team) {
    for (size_t i = 0; i < team->n_models; i++) smoa_session_destroy(team->sessions[i]);
    for (size_t i = 0; i < CLI_TEAM_MAX_MODELS; i++) smoa_model_free(team->models[i]);
    smoa_ctx_destroy(team->ctx);
    memset(team, 0, sizeof *team);
}
