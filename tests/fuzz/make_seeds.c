/* make_seeds.c - writes a small seed corpus for fuzz_gguf: a tiny BPE
 * vocabulary with merges and a chat template, and tensors of every
 * supported type. usage: make_seeds DIR */
#include <stdio.h>
#include <string.h>

#include "model/gguf_writer.h"
#include "model/tensor_types.h"

static int write_seed(smoa_gguf_writer *w, const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    smoa_error err;
    int rc = smoa_gguf_writer_to_file(w, path, &err) == SMOA_OK ? 0 : 1;
    if (rc) fprintf(stderr, "%s\n", err.message);
    smoa_gguf_writer_free(w);
    return rc;
}

static int vocab_seed(const char *dir) {
    static const char *const tokens[] = {"<|im_start|>", "<|im_end|>", "H", "e", "l", "o", "\xc4\xa0", "w",
                                         "r", "d", "He", "ll", "llo", "Hello", "\xc4\xa0w", "1", "2"};
    enum { N = sizeof tokens / sizeof tokens[0] };
    int32_t types[N];
    for (int i = 0; i < N; i++) types[i] = i < 2 ? 3 : 1; /* control, normal */
    static const char *const merges[] = {"H e", "l l", "ll o", "He llo", "\xc4\xa0 w"};
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_str(w, "general.architecture", "llama");
    smoa_gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2");
    smoa_gguf_writer_add_str(w, "tokenizer.ggml.pre", "smollm");
    smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", tokens, N);
    smoa_gguf_writer_add_i32_array(w, "tokenizer.ggml.token_type", types, N);
    smoa_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", merges, 5);
    smoa_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 0);
    smoa_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 1);
    smoa_gguf_writer_add_str(w, "tokenizer.chat_template",
                             "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}");
    return write_seed(w, dir, "vocab.gguf");
}

static int tensor_seed(const char *dir) {
    static const uint32_t types[] = {SMOA_TYPE_F32,  SMOA_TYPE_F16,  SMOA_TYPE_BF16, SMOA_TYPE_Q8_0,
                                     SMOA_TYPE_Q4_0, SMOA_TYPE_Q4_1, SMOA_TYPE_Q5_0, SMOA_TYPE_Q5_1,
                                     SMOA_TYPE_Q4_K, SMOA_TYPE_Q5_K, SMOA_TYPE_Q6_K};
    static unsigned char data[1024];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
    data[0] = data[1] = 0; /* some f16 scales stay finite */
    smoa_gguf_writer *w = smoa_gguf_writer_new();
    smoa_gguf_writer_add_str(w, "general.architecture", "llama");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu", i);
        const uint64_t ne[] = {256};
        smoa_gguf_writer_add_tensor(w, name, types[i], 1, ne, data);
    }
    return write_seed(w, dir, "tensors.gguf");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    return vocab_seed(argv[1]) | tensor_seed(argv[1]);
}
