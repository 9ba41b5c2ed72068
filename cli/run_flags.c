/* run_flags.c - flags of a run's settings (see run_flags.h). */
#include "run_flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    F_MODE = CLI_RUN_FLAG_BASE, F_LAYERS, F_JUDGE, F_MODERATOR, F_SEPARATE, F_TEMP, F_MAX_TOKENS, F_SEED, F_TASK,
    F_ROLES_CACHE, F_CONFIG, F_END
};

const struct option cli_run_flag_options[] = {
    {"model", required_argument, NULL, 'm'},         {"mode", required_argument, NULL, F_MODE},
    {"layers", required_argument, NULL, F_LAYERS},   {"judge", required_argument, NULL, F_JUDGE},
    {"moderator", required_argument, NULL, F_MODERATOR}, {"separate-moderator", no_argument, NULL, F_SEPARATE},
    {"temp", required_argument, NULL, F_TEMP},       {"max-tokens", required_argument, NULL, F_MAX_TOKENS},
    {"seed", required_argument, NULL, F_SEED},       {"task", required_argument, NULL, F_TASK},
    {"roles-cache", required_argument, NULL, F_ROLES_CACHE}, {"config", required_argument, NULL, F_CONFIG},
    {"threads", required_argument, NULL, 't'},
};
const size_t cli_n_run_flag_options = sizeof cli_run_flag_options / sizeof cli_run_flag_options[0];

void cli_run_flags_usage(FILE *out) {
    fprintf(out,
            "  --model PATH           GGUF model (default: $SMOA_MODEL or the default model)\n"
            "  --mode single|moa|smoa default smoa\n"
            "  -n N                   proposers (default 4)\n"
            "  -k K                   responses kept per layer (default 2)\n"
            "  --layers L             proposer rounds (default 2)\n"
            "  --judge generative|score|self (default generative)\n"
            "  --moderator judge|number|choice|none (default judge)\n"
            "  --separate-moderator   judge and moderator as two calls\n"
            "  --temp T               every call's temperature (default 0.7)\n"
            "  --max-tokens N         per response (default 256)\n"
            "  --seed S               (default 42)\n"
            "  -t, --threads N        CPU threads\n"
            "  --task TEXT            with no roles: the model writes personas for this task\n"
            "  --roles-cache FILE     keep those personas in FILE (written once per task)\n"
            "  --config FILE          settings as JSON (docs/config.md); later flags override\n");
}

int cli_number(const char *arg, long lo, long hi, const char *what, long *out) {
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "smoa: %s expects an integer in %ld..%ld, got '%s'\n", what, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_is_run_flag(int c) { return c == 'm' || c == 'n' || c == 'k' || c == 't' || (c >= F_MODE && c < F_END); }

static int pick(const char *arg, const char *const *names, int n, const char *what, uint32_t *out) {
    int v = cli_pick(arg, names, n, what);
    if (v < 0) return 2;
    *out = (uint32_t)v;
    return 0;
}

int cli_run_flag(int c, const char *arg, cli_run_settings *rs) {
    smoa_run_options *o = &rs->options;
    long n;
    switch (c) {
    case 'm': rs->model = arg; return 0;
    case F_MODE: return pick(arg, cli_mode_names, 3, "mode", &o->mode);
    case F_JUDGE: return pick(arg, cli_judge_names, 3, "judge", &o->judge);
    case F_MODERATOR: rs->moderator_set = 1; return pick(arg, cli_moderator_names, 4, "moderator", &o->moderator);
    case 'n': if (cli_number(arg, 1, 16, "-n", &n)) return 2; o->n_proposers = (uint32_t)n; return 0;
    case 'k': if (cli_number(arg, 1, 16, "-k", &n)) return 2; o->k = (uint32_t)n; return 0;
    case F_LAYERS: if (cli_number(arg, 1, 8, "--layers", &n)) return 2; o->n_layers = (uint32_t)n; return 0;
    case F_SEPARATE: o->separate_moderator = 1; return 0;
    case F_TEMP: {
        char *end;
        o->temperature = strtof(arg, &end);
        if (end == arg || *end || !(o->temperature >= 0)) return fprintf(stderr, "smoa: bad --temp %s\n", arg), 2;
        return 0;
    }
    case F_MAX_TOKENS:
        if (cli_number(arg, 1, 1 << 16, "--max-tokens", &n)) return 2;
        o->max_tokens = o->judge_max_tokens = o->aggregator_max_tokens = (uint32_t)n;
        return 0;
    case F_SEED: if (cli_number(arg, 0, 0x7fffffffL, "--seed", &n)) return 2; o->seed = (uint64_t)n; return 0;
    case F_TASK: o->task = arg; return 0;
    case F_ROLES_CACHE: o->roles_cache = arg; return 0;
    case F_CONFIG: return 0; /* read before the other flags */
    case 't': if (cli_number(arg, 1, 1024, "--threads", &n)) return 2; rs->threads = (int)n; return 0;
    default: return 2;
    }
}

int cli_run_config_flag(int argc, char **argv, cli_run_settings *rs, void **keep) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0) return cli_run_config_load(argv[i + 1], rs, keep);
    return 0;
}
