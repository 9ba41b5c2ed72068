/* common.c - model path resolution, loading and error reporting for the CLI. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char *cli_model_path(const char *option, char *buf, size_t cap) {
    const char *env = getenv("SMOA_MODEL");
    const char *cache = getenv("SMOA_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (option && option[0]) snprintf(buf, cap, "%s", option);
    else if (env && env[0]) snprintf(buf, cap, "%s", env);
    else if (cache && cache[0]) snprintf(buf, cap, "%s/%s", cache, CLI_DEFAULT_MODEL_FILE);
    else if (xdg && xdg[0]) snprintf(buf, cap, "%s/smoa/%s", xdg, CLI_DEFAULT_MODEL_FILE);
    else snprintf(buf, cap, "%s/.cache/smoa/%s", home ? home : ".", CLI_DEFAULT_MODEL_FILE);
    return buf;
}

static void log_to_stderr(smoa_log_level level, const char *message, void *user_data) {
    (void)user_data;
    static const char *const names[] = {"debug", "info", "warning", "error"};
    if (level >= SMOA_LOG_ERROR) return; /* failures reach the user once, through cli_fail */
    fprintf(stderr, "smoa: %s: %s\n", names[level < SMOA_LOG_NONE ? level : SMOA_LOG_ERROR], message);
}

void cli_fail(smoa_ctx *ctx, const char *what, smoa_status status) {
    const char *detail = ctx ? smoa_ctx_last_error(ctx) : "";
    fprintf(stderr, "smoa: %s: %s\n", what, detail[0] ? detail : smoa_status_str(status));
}

int cli_open(const char *option, smoa_load_mode mode, smoa_ctx **ctx, smoa_model **model) {
    char path[4096];
    const char *env = getenv("SMOA_MODEL");
    bool is_default = !(option && option[0]) && !(env && env[0]);
    cli_model_path(option, path, sizeof path);
    smoa_ctx_options co;
    smoa_ctx_options_init(&co);
    co.log_fn = log_to_stderr;
    co.log_level = SMOA_LOG_WARN;
    smoa_status st = smoa_ctx_create(&co, ctx);
    if (st != SMOA_OK) {
        fprintf(stderr, "smoa: cannot create a context: %s\n", smoa_status_str(st));
        return 1;
    }
    smoa_model_options mo;
    smoa_model_options_init(&mo);
    mo.load_mode = mode;
    st = smoa_model_load(*ctx, path, &mo, model);
    if (st != SMOA_OK) {
        if (st == SMOA_ERR_IO && is_default)
            fprintf(stderr, "smoa: cannot load model: %s\n"
                            "smoa: fetch the default model with scripts/fetch-model.sh (installed as "
                            "smoa-fetch-model), or pass --model PATH\n",
                    smoa_ctx_last_error(*ctx));
        else
            cli_fail(*ctx, "cannot load model", st);
        smoa_ctx_destroy(*ctx);
        *ctx = NULL;
        return 1;
    }
    return 0;
}
