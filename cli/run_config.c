/* run_config.c - run settings from a JSON file (jansson). */
#include "run_config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

const char *const cli_mode_names[3] = {"single", "moa", "smoa"};
const char *const cli_judge_names[3] = {"generative", "score", "self"};
const char *const cli_moderator_names[4] = {"judge", "number", "choice", "none"};

int cli_pick(const char *arg, const char *const *names, int n, const char *what) {
    for (int i = 0; i < n; i++)
        if (strcmp(arg, names[i]) == 0) return i;
    fprintf(stderr, "smoa: unknown %s '%s'\n", what, arg);
    return -1;
}

static int bad(const char *path, const char *key, const char *want) {
    fprintf(stderr, "smoa: %s: \"%s\" must be %s\n", path, key, want);
    return 1;
}

static int read_uint(const char *path, const char *key, json_t *v, long max, uint32_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return bad(path, key, "a non-negative integer in range");
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int read_name(const char *path, const char *key, json_t *v, const char *const *names, int n, uint32_t *out) {
    int i = json_is_string(v) ? cli_pick(json_string_value(v), names, n, key) : -1;
    if (i < 0) return bad(path, key, "one of the documented names");
    *out = (uint32_t)i;
    return 0;
}

static int read_roles(const char *path, json_t *v, cli_run_settings *s) {
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
        return bad(path, "roles", "an array of 1 to 16 strings");
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i))) return bad(path, "roles", "an array of strings");
        s->roles[i] = json_string_value(json_array_get(v, i));
    }
    s->options.roles = s->roles;
    s->options.n_proposers = (uint32_t)json_array_size(v);
    return 0;
}

static int read_string(const char *path, const char *key, json_t *v, const char **out) {
    if (!json_is_string(v)) return bad(path, key, "a string");
    *out = json_string_value(v);
    return 0;
}

static int read_agent(const char *path, json_t *a, size_t i, cli_run_settings *s) {
    if (!json_is_object(a)) return bad(path, "agents", "an array of objects");
    const char *key;
    json_t *v;
    s->agent_temperature[i] = -1.0f;
    json_object_foreach(a, key, v) {
        int rc = 0;
        if (!strcmp(key, "model")) rc = read_string(path, "agents[].model", v, &s->agent_model[i]);
        else if (!strcmp(key, "role")) rc = read_string(path, "agents[].role", v, &s->agent_role[i]);
        else if (!strcmp(key, "max_tokens")) rc = read_uint(path, "agents[].max_tokens", v, 1 << 16, &s->agent_max_tokens[i]);
        else if (!strcmp(key, "temperature")) {
            if (!json_is_number(v) || json_number_value(v) < 0) return bad(path, "agents[].temperature", "a number >= 0");
            s->agent_temperature[i] = (float)json_number_value(v);
        } else {
            fprintf(stderr, "smoa: %s: unknown key \"agents[].%s\" (see docs/config.md)\n", path, key);
            return 1;
        }
        if (rc) return rc;
    }
    return 0;
}

/* "agents": one object per proposer; also sets n. */
static int read_agents(const char *path, json_t *v, cli_run_settings *s) {
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
        return bad(path, "agents", "an array of 1 to 16 objects");
    for (size_t i = 0; i < json_array_size(v); i++)
        if (read_agent(path, json_array_get(v, i), i, s)) return 1;
    s->n_agents = json_array_size(v);
    s->options.n_proposers = (uint32_t)s->n_agents;
    return 0;
}

/* One key of the file into s. */
static int read_key(const char *path, const char *key, json_t *v, cli_run_settings *s) {
    smoa_run_options *o = &s->options;
    uint32_t u;
    if (!strcmp(key, "model")) return read_string(path, key, v, &s->model);
    if (!strcmp(key, "task")) return read_string(path, key, v, &o->task);
    if (!strcmp(key, "roles_cache")) return read_string(path, key, v, &o->roles_cache);
    if (!strcmp(key, "roles")) return read_roles(path, v, s);
    if (!strcmp(key, "agents")) return read_agents(path, v, s);
    if (!strcmp(key, "judge_model")) return read_string(path, key, v, &s->judge_model);
    if (!strcmp(key, "aggregator_model")) return read_string(path, key, v, &s->aggregator_model);
    if (!strcmp(key, "mode")) return read_name(path, key, v, cli_mode_names, 3, &o->mode);
    if (!strcmp(key, "judge")) return read_name(path, key, v, cli_judge_names, 3, &o->judge);
    if (!strcmp(key, "moderator")) {
        s->moderator_set = 1;
        return read_name(path, key, v, cli_moderator_names, 4, &o->moderator);
    }
    if (!strcmp(key, "n")) return read_uint(path, key, v, 16, &o->n_proposers);
    if (!strcmp(key, "k")) return read_uint(path, key, v, 16, &o->k);
    if (!strcmp(key, "layers")) return read_uint(path, key, v, 8, &o->n_layers);
    if (!strcmp(key, "max_tokens")) return read_uint(path, key, v, 1 << 16, &o->max_tokens);
    if (!strcmp(key, "judge_max_tokens")) return read_uint(path, key, v, 1 << 16, &o->judge_max_tokens);
    if (!strcmp(key, "aggregator_max_tokens")) return read_uint(path, key, v, 1 << 16, &o->aggregator_max_tokens);
    if (!strcmp(key, "threads")) {
        if (read_uint(path, key, v, 1024, &u)) return 1;
        s->threads = (int)u;
        return 0;
    }
    if (!strcmp(key, "separate_moderator")) {
        if (!json_is_boolean(v)) return bad(path, key, "true or false");
        o->separate_moderator = json_is_true(v);
        return 0;
    }
    if (!strcmp(key, "temperature")) {
        if (!json_is_number(v) || json_number_value(v) < 0) return bad(path, key, "a number >= 0");
        o->temperature = (float)json_number_value(v);
        return 0;
    }
    if (!strcmp(key, "seed")) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) return bad(path, key, "a non-negative integer");
        o->seed = (uint64_t)json_integer_value(v);
        return 0;
    }
    fprintf(stderr, "smoa: %s: unknown key \"%s\" (see docs/config.md)\n", path, key);
    return 1;
}

int cli_run_config_load(const char *path, cli_run_settings *s, void **keep) {
    json_error_t e;
    json_t *root = json_load_file(path, 0, &e);
    *keep = root;
    if (!root) {
        fprintf(stderr, "smoa: %s:%d: %s\n", path, e.line, e.text);
        return 1;
    }
    if (!json_is_object(root)) return bad(path, "(top level)", "an object");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) if (read_key(path, key, v, s)) return 1;
    return 0;
}

void cli_run_config_free(void *keep) { json_decref(keep); }
