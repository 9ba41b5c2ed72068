/* main.c - the smoa command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: smoa <command> [options]\n"
            "\n"
            "commands:\n"
            "  run        answer a question with several agents (single, MoA or SMoA)\n"
            "  eval       score single, MoA and SMoA on a data set, with a report\n"
            "  info       print a GGUF model's metadata, tensors and tokenizer\n"
            "  tokenize   show the tokens of a chat prompt (or of raw text)\n"
            "  generate   continue a prompt, streaming the tokens\n"
            "  chat       talk with the model (its chat template applied)\n"
            "  synth      write a llama GGUF with random weights (tests, benchmarks)\n"
            "  version    print the library version\n"
            "\n"
            "Run 'smoa <command> --help' for a command's options. Without --model, the\n"
            "model is $SMOA_MODEL or the default model fetched by smoa-fetch-model.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0) return cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cli_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0) return cli_info(argc - 1, argv + 1);
    if (strcmp(cmd, "tokenize") == 0) return cli_tokenize(argc - 1, argv + 1);
    if (strcmp(cmd, "generate") == 0) return cli_generate(argc - 1, argv + 1);
    if (strcmp(cmd, "chat") == 0) return cli_chat(argc - 1, argv + 1);
    if (strcmp(cmd, "synth") == 0) return cli_synth(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("smoa %s (CUDA backend %s)\n", smoa_version(), smoa_has_cuda() ? "built" : "not built");
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "smoa: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
