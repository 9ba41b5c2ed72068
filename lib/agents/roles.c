/* roles.c - model-written personas with a file cache. */
#include "agents/roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent_call.h"
#include "agents/prompts.h"
#include "core/context.h"

#define ROLE_TOKENS_EACH 48 /* budget per persona of the writing call */

/* Roles from the cache file, one per non-empty line; how many were read. */
static size_t read_cache(const char *path, size_t n, char **roles) {
    FILE *f = path ? fopen(path, "r") : NULL;
    size_t found = 0;
    char line[SMOA_PROMPT_ROLE_MAX_BYTES + 2];
    while (f && found < n && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] && (roles[found] = strdup(line)) != NULL) found++;
    }
    if (f) fclose(f);
    return found;
}

static void write_cache(smoa_ctx *ctx, const char *path, char *const *roles, size_t n) {
    FILE *f = fopen(path, "w");
    bool ok = f != NULL;
    for (size_t i = 0; ok && i < n; i++) ok = fprintf(f, "%s\n", roles[i]) > 0;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) smoa_log(ctx, SMOA_LOG_WARN, "cannot write the roles cache '%s'", path);
}

static bool already_have(char *const *roles, size_t n, const char *role) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i], role) == 0) return true;
    return false;
}

/* Text a person could have written: no control bytes, no U+FFFD (the mark
 * of bytes that were not text). */
static bool plausible(const char *role) {
    for (const unsigned char *p = (const unsigned char *)role; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return strstr(role, "\xEF\xBF\xBD") == NULL;
}

/* One writing call; appends the new distinct personas to roles. */
static smoa_status ask_model(smoa_ctx *ctx, smoa_session *s, smoa_run *run, const char *task, size_t n, uint64_t seed,
                             float temperature, char **roles, size_t *have, smoa_error *err) {
    smoa_strbuf request = {0};
    if (!smoa_prompt_role_request(&request, task, n)) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    smoa_agent_call call = {.user = request.data, .seed = seed};
    smoa_call_settings cs = {temperature, (uint32_t)(ROLE_TOKENS_EACH * n), SMOA_STAGE_PROPOSE, NULL, NULL, NULL, false};
    smoa_status st = smoa_agents_generate(ctx, s, run, &call, 1, &cs, err);
    char *parsed[64];
    size_t n_parsed = 0;
    if (st == SMOA_OK && !smoa_prompt_parse_roles(call.response.data ? call.response.data : "", n, parsed, &n_parsed))
        st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < n_parsed; i++) {
        if (*have < n && plausible(parsed[i]) && !already_have(roles, *have, parsed[i])) roles[(*have)++] = parsed[i];
        else free(parsed[i]);
    }
    smoa_agent_call_free(&call);
    smoa_strbuf_free(&request);
    return st;
}

smoa_status smoa_roles_for_task(smoa_ctx *ctx, smoa_session *s, smoa_run *run, const char *task,
                                const char *cache_path, size_t n, uint64_t seed, float temperature, char **roles,
                                const char **source, smoa_error *err) {
    size_t have = read_cache(cache_path, n, roles);
    if (have == n) {
        *source = "cache";
        return SMOA_OK;
    }
    for (size_t i = 0; i < have; i++) free(roles[i]);
    have = 0;
    smoa_status st = SMOA_OK;
    for (int attempt = 0; attempt < 2 && have < n && st == SMOA_OK; attempt++)
        st = ask_model(ctx, s, run, task, n, seed + (uint64_t)attempt, temperature, roles, &have, err);
    *source = have == n ? "model" : "model+defaults";
    size_t n_default;
    const char *const *defaults = smoa_prompt_default_roles(&n_default);
    for (size_t i = 0; st == SMOA_OK && have < n; i++) {
        const char *fallback = defaults[i % n_default];
        if (i < n_default && already_have(roles, have, fallback)) continue; /* later laps may repeat */
        if ((roles[have] = strdup(fallback)) != NULL) have++;
        else st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    if (st) {
        for (size_t i = 0; i < have; i++) free(roles[i]);
        return st;
    }
    if (cache_path) write_cache(ctx, cache_path, roles, n);
    return SMOA_OK;
}
