/* fuzz_gguf.c - libFuzzer target: arbitrary bytes as a GGUF file.
 *
 * Parses the input; when it parses, touches everything a model load would:
 * formats every metadata value, dequantizes the first row of each tensor,
 * builds the vocabulary and tokenizes a fixed text, recognises and renders
 * the chat template. Any crash, sanitizer report or leak is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "model/chat_template.h"
#include "model/gguf.h"
#include "model/tensor_types.h"
#include "model/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ROW = 1 << 14 };

static void touch_metadata(const smoa_gguf *g) {
    char buf[256];
    for (uint64_t i = 0; i < g->n_kv; i++) smoa_gguf_kv_format(&g->kv[i], buf, sizeof buf);
}

static void touch_tensors(const smoa_gguf *g) {
    static float row[MAX_ROW];
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const smoa_gguf_tensor *t = &g->tensors[i];
        if (t->ne[0] <= MAX_ROW) smoa_dequantize(t->type, t->data, row, t->ne[0]);
    }
}

static void touch_vocab(const smoa_gguf *g) {
    smoa_vocab *v;
    if (smoa_vocab_load(g, &v, NULL) != SMOA_OK) return;
    static const char text[] = "Hello world! 12345 <|im_start|>user\n\xe4\xbd\xa0\xe5\xa5\xbd \xff";
    int32_t ids[256];
    char back[1024];
    size_t n, n_back;
    if (smoa_vocab_tokenize(v, text, sizeof text - 1, SMOA_TOKENIZE_PARSE_SPECIAL | SMOA_TOKENIZE_ADD_SPECIAL,
                            ids, 256, &n, NULL) == SMOA_OK)
        smoa_vocab_detokenize(v, ids, n, SMOA_DETOKENIZE_RENDER_SPECIAL, back, sizeof back, &n_back, NULL);
    smoa_vocab_free(v);
}

static void touch_chat_template(const smoa_gguf *g) {
    smoa_gguf_str s;
    if (!smoa_gguf_get_str(g, "tokenizer.chat_template", &s)) return;
    char *tmpl = malloc(s.len + 1);
    if (!tmpl) return;
    memcpy(tmpl, s.data, s.len);
    tmpl[s.len] = '\0';
    const char *roles[] = {"system", "user", "assistant", "user"};
    const char *contents[] = {"s", "u", "a", "u2"};
    smoa_strbuf out = {0};
    smoa_chat_template_render(tmpl, roles, contents, 4, true, &out, NULL);
    smoa_strbuf_free(&out);
    free(tmpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    smoa_gguf *g;
    if (smoa_gguf_open_memory(data, size, &g, NULL) != SMOA_OK) return 0;
    touch_metadata(g);
    touch_tensors(g);
    touch_vocab(g);
    touch_chat_template(g);
    smoa_gguf_close(g);
    return 0;
}
