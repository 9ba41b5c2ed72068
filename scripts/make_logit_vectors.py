#!/usr/bin/env python3
"""Writes golden logit vectors for libsmoa's CPU inference engine (SmolLM2-135M-Instruct).

The logits come from an implementation independent of libsmoa: llama.cpp,
through llama-cpp-python. For each prompt (plain text, chat, code, math) the
file holds the prompt's token ids, the top-10 (id, logit) pairs at every
position, and a 64-token greedy continuation with the top-1/top-2 logit margin
at every step, so that a test can tell a real mismatch from a near-tie.

The same prompts also go through llama.cpp with smaller batch sizes, and
through a plain float64 forward pass in numpy (class Reference) over the same
dequantized weights. How far these are from the golden logits, written into
the README, is a guide to the tolerance libsmoa's engine should be held to.

Outputs, under tests/data/golden/:
  smollm2-q4_1.txt      the golden vectors (llama.cpp), in the format the README describes
  smollm2-q4_1-f64.txt  the same from the float64 pass, for tight checks of an f32 engine
  smollm2-q4_1.inp      the prompt texts, in llama.cpp's test-tokenizer-0 format
  README.md             format, settings, package versions, the measured spreads

Not run in CI (the outputs are committed). Needs: llama-cpp-python, numpy,
gguf, jinja2. Usage:
  python3 scripts/make_logit_vectors.py [--model PATH]
(default model: the one scripts/fetch-model.sh caches).
"""
import argparse
import dataclasses
import hashlib
import importlib.metadata
import os
import pathlib
import subprocess
import sys

# numpy's BLAS gets the same 2 threads as llama.cpp; must be set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import numpy as np  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "golden"
VECTORS_NAME = "smollm2-q4_1.txt"        # from llama.cpp: the golden vectors
REFERENCE_NAME = "smollm2-q4_1-f64.txt"  # from the float64 numpy pass, same format
PROMPTS_NAME = "smollm2-q4_1.inp"
FORMAT_VERSION = 1
GOLDEN_DIGITS = 6       # significant digits: plenty, given llama.cpp's own rounding
REFERENCE_DIGITS = 8    # the float64 file backs tight tolerances (float32 is ~1e-4 off)
SEPARATOR = "\n__ggml_vocab_test__\n"

TOP_K = 10
N_GREEDY = 64
N_THREADS = 2
N_CTX = 1024            # longest prompt + N_GREEDY must fit
GOLDEN_BATCH = 1024     # >= every prompt: each prompt is one batch (and one ubatch)
SPREAD_BATCHES = [1, 2, 16, 128]  # compared against GOLDEN_BATCH in the README
NEAR_TIE = 0.1          # greedy margins below this are listed in the README
MARGIN_LIMITS = [0.1, 0.5, 1, 2]  # the README counts greedy margins below each

LONG_STORY = """\
The lighthouse on Marrow Point had not warned a ship in forty years, but Ilse Varga kept it \
running anyway. Every evening she climbed the one hundred and twelve steps, wound the clockwork \
that turned the lens, and wrote three lines in a logbook that nobody had asked her to keep: the \
wind, the colour of the sea, and one thing she had noticed that day.

Most entries were small. "A gull with a bent foot, again." "Fog came in from the south, which it \
never does." "The baker's boy whistled the same four notes all afternoon." Over the years the \
logbooks filled a whole shelf, then a second, and the village began to treat them as a kind of \
memory that belonged to everyone. When old Tomas could not remember the winter the harbour froze, \
Ilse found the page. When the school wanted to know when the swallows usually arrived, she counted \
the dates across thirty springs and gave them an answer to the day.

In the autumn of her sixty-third year a surveyor came from the capital with a leather case and a \
polite letter. The light was to be automated. A small solar panel and a battery would do the work \
of the clockwork, and a sensor would decide when dusk had fallen. He was kind about it. He admired \
the brass, asked to see the lens, and said that her service had been exemplary. Then he asked, \
almost as an afterthought, what she planned to do with the logbooks.

Ilse had not thought about it. She walked him down the steps without answering, made him tea, and \
watched him drive away along the coast road. That night she did not climb the tower, because the \
sensor was already doing it for her, and for the first time in decades she had an evening with \
nothing in it.

She spent it reading. She began with the first book, written in a careful hand she barely \
recognised as her own, and read until the candle burned down. By the end of the week she had \
decided. She would copy the most useful entries into a single volume, arranged not by date but by \
subject: weather, birds, boats, people, and a last chapter simply called "things that changed". \
The village printer offered to bind it. The school asked for two copies.

The new light works perfectly. It has never missed a dusk. But on clear nights, people in the \
village say, you can still see a second, smaller light in the keeper's cottage, where someone is \
writing three lines in a book."""

CODE_SNIPPET = """\
#include <stddef.h>

/* Returns the index of the largest value in values[0..n), or -1 when n is 0. */
static long index_of_max(const float *values, size_t n)
{
    if (n == 0)
        return -1;
"""

MATH_QUESTION = (
    "Question: A train leaves at 9:40 and travels 150 km at an average speed of 60 km/h. "
    "At what time does it arrive?\nAnswer:")

# Conversations, rendered with the model's own ChatML template.
CHAT_SHORT = [("user", "Name three primary colours.")]
CHAT_LONG = [
    ("system", "You are a patient cooking assistant. Keep answers practical and short."),
    ("user", "I have flour, eggs, milk, butter and a little sugar. What can I make for "
             "breakfast without going to the shop?"),
    ("assistant", "Pancakes are the easiest choice. Whisk 200 g of flour with 2 eggs and 300 ml "
                  "of milk until smooth, add a pinch of sugar, and let the batter rest for ten "
                  "minutes. Melt a little butter in a hot pan, pour in a thin layer, and turn it "
                  "once the edges lift, after about a minute."),
    ("user", "They came out thick and a bit rubbery. What did I do wrong?"),
    ("assistant", "Thick, rubbery pancakes usually mean the batter was too stiff or was mixed "
                  "too long. Add a splash more milk so it pours like single cream, stir only "
                  "until the lumps are gone, and keep the pan hot but not smoking."),
    ("user", "Thanks. Can I keep the leftover batter until tomorrow, and how should I store it?"),
]


@dataclasses.dataclass
class Prompt:
    name: str
    text: str
    parse_special: bool  # chat prompts: <|im_start|> etc. become their ids


def render_chat(template_text, messages):
    """Renders as transformers' apply_chat_template does (sandbox, trim/lstrip blocks)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    msgs = [{"role": role, "content": content} for role, content in messages]
    return env.from_string(template_text).render(messages=msgs, add_generation_prompt=True)


def build_prompts(chat_template):
    return [
        Prompt("plain-short", "The capital of France is", False),
        Prompt("plain-long", LONG_STORY, False),
        Prompt("chat-short", render_chat(chat_template, CHAT_SHORT), True),
        Prompt("chat-long", render_chat(chat_template, CHAT_LONG), True),
        Prompt("code", CODE_SNIPPET, False),
        Prompt("math", MATH_QUESTION, False),
    ]


def load_llama(model_path, n_batch):
    """One context; n_ubatch = n_batch so a batch is never split further."""
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(model_path), n_ctx=N_CTX, n_batch=n_batch, n_ubatch=n_batch,
        n_threads=N_THREADS, n_threads_batch=N_THREADS, logits_all=True,
        flash_attn=False, seed=0, verbose=False)


def tokenize(llm, prompt):
    # The model's add_bos_token is false: nothing is added.
    return list(llm.tokenize(prompt.text.encode("utf-8"), add_bos=False,
                             special=prompt.parse_special))


def prompt_logits(llm, tokens):
    """Logits for every prompt position (n_tokens x n_vocab), from a fresh context."""
    llm.reset()
    llm.eval(tokens)
    return np.array(llm.scores[:len(tokens)], dtype=np.float32)


def top_k(row, k=TOP_K):
    """The k largest logits, highest first; equal logits by increasing id."""
    order = np.lexsort((np.arange(row.size), -row))[:k]
    return [(int(i), float(row[i])) for i in order]


def margin(row):
    """top-1 logit minus top-2 logit: how safe the argmax is."""
    best2 = np.partition(row, -2)[-2:]
    return float(best2[1] - best2[0])


def greedy(feed, last_logits):
    """N_GREEDY argmax steps after the prompt; feed(token) returns the next logits.

    No sampler: plain argmax over the logits, so no repeat penalty or other
    default is involved. End-of-generation tokens do not stop it.
    """
    ids, margins = [], []
    row = last_logits
    for step in range(N_GREEDY):
        token = int(np.argmax(row))
        ids.append(token)
        margins.append(margin(row))
        if step + 1 < N_GREEDY:
            row = feed(token)
    return ids, margins


def llama_feed(llm):
    """One token per eval, as a generation loop does."""
    def feed(token):
        llm.eval([token])
        return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
    return feed


def fmt(value, digits=6):
    return f"{value:.{digits}g}"


def vector_lines(prompt, tokens, logits, greedy_ids, greedy_margins, digits):
    lines = [f"prompt {prompt.name} {len(tokens)}",
             "tokens " + " ".join(map(str, tokens))]
    for pos, row in enumerate(logits):
        pairs = " ".join(f"{i}:{fmt(v, digits)}" for i, v in top_k(row))
        lines.append(f"{pos} {pairs}")
    lines.append(f"greedy {len(greedy_ids)} " + " ".join(map(str, greedy_ids)))
    lines.append(f"margin {len(greedy_margins)} " +
                 " ".join(fmt(m, digits) for m in greedy_margins))
    lines.append("end")
    return lines


def header_lines(source, model_path, model_sha256, n_vocab, n_prompts):
    return [f"smoa-golden-logits {FORMAT_VERSION}",
            f"source {source}",
            f"model {model_path.name} {model_sha256}",
            f"n_vocab {n_vocab}",
            f"top_k {TOP_K}",
            f"n_prompts {n_prompts}"]


def first_difference(a, b):
    """First index where two id lists differ, or None when they are equal."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)


@dataclasses.dataclass
class Spread:
    """How far one computation's prompt logits are from the golden ones."""
    label: str
    top10_diffs: list = dataclasses.field(default_factory=list)  # per position: max |diff|
    full_max: float = 0.0      # max |diff| over the whole vocabulary
    gap_max: float = 0.0       # max change of the golden top-1 minus top-2 gap
    top1_changes: int = 0      # positions whose argmax differs
    greedy_diffs: list = dataclasses.field(default_factory=list)  # (prompt, step, margin)

    def add_logits(self, golden, other):
        for g_row, o_row in zip(golden, other):
            ids = [i for i, _ in top_k(g_row)]
            self.top10_diffs.append(float(np.max(np.abs(g_row[ids] - o_row[ids]))))
            self.full_max = max(self.full_max, float(np.max(np.abs(g_row - o_row))))
            gap_change = (g_row[ids[0]] - g_row[ids[1]]) - (o_row[ids[0]] - o_row[ids[1]])
            self.gap_max = max(self.gap_max, abs(float(gap_change)))
            self.top1_changes += int(np.argmax(g_row) != np.argmax(o_row))

    def add_greedy(self, name, golden_ids, golden_margins, ids):
        step = first_difference(golden_ids, ids)
        if step is not None:
            self.greedy_diffs.append((name, step, golden_margins[step]))


def run_llama(llm, tokens):
    """(prompt logits, greedy ids, greedy margins) for one prompt, from a fresh context."""
    logits = prompt_logits(llm, tokens)
    return (logits, *greedy(llama_feed(llm), logits[-1]))


def measure_spread(model_path, prompts, token_lists, golden):
    """llama.cpp with smaller batches against its own golden logits."""
    spreads = []
    for n_batch in SPREAD_BATCHES:
        llm = load_llama(model_path, n_batch)
        results = [run_llama(llm, tokens) for tokens in token_lists]
        spreads.append(compare(f"llama.cpp, n_batch {n_batch}", prompts, golden, results))
        del llm
    return spreads


class Reference:
    """A plain float64 forward pass over the dequantized GGUF weights, with a KV cache.

    A second check on llama.cpp, independent of it and of libsmoa: no
    activation quantization, no f16 cache, so it shows how far llama.cpp's own
    roundings move the logits. Llama architecture only (RMSNorm, RoPE on
    adjacent pairs, GQA, SwiGLU). dtype float32 shows what f32 arithmetic alone
    changes.
    """

    def __init__(self, model_path, dtype=np.float64):
        import gguf

        self.dtype = dtype
        reader = gguf.GGUFReader(str(model_path))
        meta = {k: f.contents() for k, f in reader.fields.items() if k.startswith("llama.")}
        self.n_head = meta["llama.attention.head_count"]
        self.n_head_kv = meta["llama.attention.head_count_kv"]
        self.eps = meta["llama.attention.layer_norm_rms_epsilon"]
        self.rope_base = meta["llama.rope.freq_base"]
        self.head_dim = meta["llama.embedding_length"] // self.n_head
        tensors = {t.name: t for t in reader.tensors}
        self.weights = {name: self._dequantize(t, dtype) for name, t in tensors.items()}
        self.n_layer = meta["llama.block_count"]
        self.reset()

    @staticmethod
    def _dequantize(tensor, dtype):
        from gguf import quants

        rows = quants.dequantize(tensor.data, tensor.tensor_type)
        shape = [int(n) for n in reversed(tensor.shape)]  # GGUF lists the fastest axis first
        # A fresh contiguous copy: a view into the file's buffer makes BLAS slow.
        return np.array(rows, dtype=dtype, copy=True).reshape(shape)

    def reset(self):
        self.keys = [[] for _ in range(self.n_layer)]
        self.values = [[] for _ in range(self.n_layer)]
        self.n_past = 0

    def _rms_norm(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def _rope(self, x, positions):
        # llama.cpp's "normal" RoPE: rotates adjacent pairs (the GGUF converter
        # permuted q and k for it).
        freqs = self.rope_base ** (-np.arange(0, self.head_dim, 2) / self.head_dim)
        angles = positions[:, None, None] * freqs
        cos, sin = np.cos(angles).astype(self.dtype), np.sin(angles).astype(self.dtype)
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def _attention(self, layer, h, positions):
        w = self.weights
        n, group = len(h), self.n_head // self.n_head_kv

        def project(name, heads):
            return (h @ w[f"blk.{layer}.{name}.weight"].T).reshape(n, heads, -1)

        q = self._rope(project("attn_q", self.n_head), positions)
        k = self._rope(project("attn_k", self.n_head_kv), positions)
        v = project("attn_v", self.n_head_kv)
        self.keys[layer].append(k)
        self.values[layer].append(v)
        keys, values = np.concatenate(self.keys[layer]), np.concatenate(self.values[layer])
        causal = positions[:, None] < np.arange(len(keys))[None, :]
        out = np.empty((n, self.n_head, self.head_dim), dtype=self.dtype)
        for head in range(self.n_head):
            scores = q[:, head] @ keys[:, head // group].T / self.dtype(np.sqrt(self.head_dim))
            scores[causal] = -np.inf
            probs = np.exp(scores - scores.max(axis=1, keepdims=True))
            out[:, head] = (probs / probs.sum(axis=1, keepdims=True)) @ values[:, head // group]
        return out.reshape(n, -1) @ w[f"blk.{layer}.attn_output.weight"].T

    def _feed_forward(self, layer, h):
        w = self.weights
        gate = h @ w[f"blk.{layer}.ffn_gate.weight"].T
        up = h @ w[f"blk.{layer}.ffn_up.weight"].T
        return (gate / (1 + np.exp(-gate)) * up) @ w[f"blk.{layer}.ffn_down.weight"].T

    def eval(self, tokens):
        """Logits (len(tokens) x n_vocab) after the cached tokens."""
        w = self.weights
        positions = np.arange(self.n_past, self.n_past + len(tokens), dtype=np.float64)
        x = w["token_embd.weight"][tokens]
        for layer in range(self.n_layer):
            x = x + self._attention(layer, self._rms_norm(x, w[f"blk.{layer}.attn_norm.weight"]),
                                    positions)
            x = x + self._feed_forward(layer, self._rms_norm(x, w[f"blk.{layer}.ffn_norm.weight"]))
        self.n_past += len(tokens)
        output = w.get("output.weight", w["token_embd.weight"])  # tied when absent
        return self._rms_norm(x, w["output_norm.weight"]) @ output.T

    def feed(self, token):
        return self.eval([token])[-1]


def run_reference(reference, token_lists):
    """Per prompt: (prompt logits, greedy ids, greedy margins) from the numpy pass."""
    results = []
    for tokens in token_lists:
        reference.reset()
        logits = reference.eval(tokens)
        results.append((logits, *greedy(reference.feed, logits[-1])))
    return results


def compare(label, prompts, golden, other):
    """A Spread of `other` (logits, ids, margins per prompt) against `golden`."""
    spread = Spread(label)
    for prompt, (logits, ids, margins), (o_logits, o_ids, _) in zip(prompts, golden, other):
        spread.add_logits(logits, o_logits)
        spread.add_greedy(prompt.name, ids, margins, o_ids)
    print(f"  {label}: top-10 max {max(spread.top10_diffs):.4g}", file=sys.stderr)
    return spread


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions():
    names = ["llama-cpp-python", "numpy", "gguf", "jinja2"]
    return {n: importlib.metadata.version(n) for n in names}


def default_model():
    fetch = REPO / "scripts" / "fetch-model.sh"
    out = subprocess.run([str(fetch)], check=True, stdout=subprocess.PIPE, text=True).stdout
    return pathlib.Path(out.strip().splitlines()[-1])


def count_below(values, limit):
    return sum(1 for v in values if v < limit)


def prompt_rows(prompts, token_lists, golden, exact):
    rows = []
    for prompt, tokens, (_, _, margins), (_, _, exact_margins) in zip(
            prompts, token_lists, golden, exact):
        special = "parsed" if prompt.parse_special else "not parsed"
        counts = " / ".join(str(count_below(margins, limit)) for limit in MARGIN_LIMITS)
        rows.append(f"| `{prompt.name}` | {len(tokens)} | {special} | {fmt(min(margins))} | "
                    f"{counts} | {fmt(min(exact_margins))} |")
    return "\n".join(rows)


def near_tie_rows(prompts, golden):
    rows = []
    for prompt, (_, ids, margins) in zip(prompts, golden):
        for step, (m, token) in enumerate(zip(margins, ids)):
            if m < NEAR_TIE:
                rows.append(f"| `{prompt.name}` | {step} | {token} | {fmt(m)} |")
    return "\n".join(rows) or "| (none) | | | |"


def describe_greedy(spread):
    if not spread.greedy_diffs:
        return "all identical"
    return "; ".join(f"`{name}` from step {step} (margin {fmt(m)})"
                     for name, step, m in spread.greedy_diffs)


def spread_rows(spreads):
    return "\n".join(
        f"| {s.label} | {fmt(max(s.top10_diffs))} | {fmt(float(np.median(s.top10_diffs)))} | "
        f"{fmt(s.full_max)} | {fmt(s.gap_max)} | {s.top1_changes} of {len(s.top10_diffs)} | "
        f"{describe_greedy(s)} |"
        for s in spreads)


def file_facts(name):
    path = OUT_DIR / name
    return f"{path.stat().st_size} bytes, sha256 `{sha256_of(path)}`"


def write_readme(model_path, model_sha256, system_info, prompts, token_lists, golden, exact,
                 spreads, f32_spread):
    versions = "\n".join(f"| {n} | {v} |" for n, v in package_versions().items())
    text = README_TEMPLATE.format(
        model=model_path.name, model_sha256=model_sha256, vectors=VECTORS_NAME,
        reference=REFERENCE_NAME, prompts_file=PROMPTS_NAME,
        vectors_facts=file_facts(VECTORS_NAME), reference_facts=file_facts(REFERENCE_NAME),
        golden_digits=GOLDEN_DIGITS, reference_digits=REFERENCE_DIGITS, version=FORMAT_VERSION, top_k=TOP_K, n_greedy=N_GREEDY, n_threads=N_THREADS,
        n_ctx=N_CTX, golden_batch=GOLDEN_BATCH, near_tie=NEAR_TIE,
        margin_limits=" / ".join(f"< {m}" for m in MARGIN_LIMITS),
        prompt_rows=prompt_rows(prompts, token_lists, golden, exact),
        near_ties=near_tie_rows(prompts, golden),
        spread_rows=spread_rows(spreads), f32_row=spread_rows([f32_spread]),
        versions=versions, system_info=system_info.strip())
    (OUT_DIR / "README.md").write_text(text, encoding="utf-8")


README_TEMPLATE = """\
# Logit golden vectors for SmolLM2-135M-Instruct (Q4_1)

Written by `scripts/make_logit_vectors.py` (do not edit by hand; rerun it).
Model: `{model}` (the default model, `scripts/fetch-model.sh`),
sha256 `{model_sha256}`.

| file | what |
| --- | --- |
| `{vectors}` | **the golden vectors, from llama.cpp**: for each prompt its token ids, the top-{top_k} logits at every position, a {n_greedy}-token greedy continuation and its margins ({vectors_facts}) |
| `{reference}` | the same, from a plain float64 computation (see below), for a tight check of an engine that keeps activations in f32 ({reference_facts}) |
| `{prompts_file}` | the prompt texts, in file order, in llama.cpp's `test-tokenizer-0` format (each followed by `"\\n__ggml_vocab_test__\\n"`), for a test that starts from text |

## Prompts

| name | tokens | special tokens in the text | smallest greedy margin | greedy margins {margin_limits} | smallest margin, float64 |
| --- | --- | --- | --- | --- | --- |
{prompt_rows}

`chat-short` and `chat-long` are rendered with the model's own
`tokenizer.chat_template` (ChatML) by jinja2, with the generation prompt
(`<|im_start|>assistant\\n`) at the end. `chat-short` has no system message, so
the template adds its default one; `chat-long` has its own system message and
three user turns. Token ids come from llama.cpp's tokenizer
(`tokenize(text, add_bos=False, special=...)`, special tokens parsed only for
the chat prompts); no BOS is added, as the model's `add_bos_token` is false.
Both files use the same ids.

## File format (version {version})

Plain text, fields separated by single spaces, one record per line, so that a
C test can read it with `fscanf`:

```
smoa-golden-logits {version}
source <llama.cpp or numpy-float64>
model <file name> <sha256>
n_vocab <n>
top_k <k>
n_prompts <p>
```

then, `p` times:

```
prompt <name> <n_tokens>
tokens <id> ... (n_tokens ids)
<pos> <id>:<logit> ... (k pairs; one such line for each pos = 0 .. n_tokens-1)
greedy <n> <id> ... (n ids)
margin <n> <m> ... (n values)
end
```

* Line `<pos>` holds the logits predicting the token after position `pos`
  (after `tokens[0..pos]`), highest first; equal logits by increasing id.
  Values have {golden_digits} significant digits in `{vectors}`, {reference_digits} in
  `{reference}` (`%.<n>g`; read with `%f` or `%lf`); logits are raw (no
  softmax, no temperature).
* `greedy`: {n_greedy} tokens, each the argmax of the logits before it: the
  first from the last prompt position, each next one after feeding the
  previous one. Plain argmax over the logits (no sampler, so no repeat
  penalty or other default); end-of-generation tokens (`<|im_end|>` = 2,
  `<|endoftext|>` = 0) do not stop it, so a test that stops at them compares
  a prefix.
* `margin`: at each greedy step, top-1 logit minus top-2 logit. Where it is
  small, a different but equally valid computation may pick the other token,
  and everything after it may differ (see below).

## Settings

`{vectors}`: llama.cpp through llama-cpp-python, independent of libsmoa:
`Llama(n_ctx={n_ctx}, n_batch={golden_batch}, n_ubatch={golden_batch}, n_threads={n_threads},
n_threads_batch={n_threads}, logits_all=True, flash_attn=False)`. Each prompt
goes through in one `eval` from an empty KV cache, so as one batch (one
ubatch); the greedy tokens then go one by one. K and V are cached in f16
(llama.cpp's default). llama.cpp's CPU matrix products quantize the
activations (to Q8_1 against Q4_1 weights, to Q8_0 against the Q8_0 output
matrix), so its logits are not those of an exact computation.

`{reference}`: class `Reference` in the script: the weights dequantized by the
`gguf` package to float64, then RMSNorm, RoPE (adjacent pairs, llama.cpp's
"normal" mode), grouped-query attention, SwiGLU and the tied output matrix,
all in float64 numpy, with no activation quantization and a float64 KV cache.
It is independent of libsmoa and of llama.cpp's arithmetic, and agrees with
llama.cpp up to the rounding discussed below. Its greedy continuation is its
own argmax (so it may part from llama.cpp's after a near-tie).

llama.cpp CPU features: `{system_info}`

| package | version |
| --- | --- |
{versions}

## How exact are the llama.cpp logits?

`{vectors}` compared with: llama.cpp itself with the prompt split into
batches (`n_batch` = `n_ubatch` = the size given, each batch attending to the
cached ones, the greedy tokens one by one as before); and the float64 pass,
`{reference}`.

Columns: at each position of each prompt, the largest absolute difference
over the golden top-{top_k} ids, then its maximum and median over all
positions; the largest absolute difference over the whole vocabulary; the
largest change of the gap between the golden top-1 and top-2 logits (what
decides an argmax); prompt positions whose argmax differs; and where each
greedy continuation first departs from the golden one, with the golden
margin at that step.

| computation | top-{top_k} diff, max | top-{top_k} diff, median | all logits, max | top-1/top-2 gap change, max | argmax changes | greedy continuations |
| --- | --- | --- | --- | --- | --- | --- |
{spread_rows}

And the same numpy pass in float32 against `{reference}`, which shows what
f32 arithmetic alone does:

| computation | top-{top_k} diff, max | top-{top_k} diff, median | all logits, max | top-1/top-2 gap change, max | argmax changes | greedy continuations |
| --- | --- | --- | --- | --- | --- | --- |
{f32_row}

What this means for a test of libsmoa's engine:

* llama.cpp rounds the activations to 8 bits (one scale per block of 32
  values) before each product with a quantized weight matrix, and this model
  is sensitive to such rounding: even at position 0, where attention plays no
  part, its logits are some tenths of a logit from the float64 ones. Its
  single-token path (`n_ubatch` 1: the `n_batch 1` row, and the last token of
  an odd-length prompt in the `n_batch 2` row) differs from its multi-token
  path by about as much, so neither is the one right answer.
* Against `{vectors}`: hold the top-{top_k} logits to an absolute tolerance a
  little above the largest difference in the first table (whatever the
  engine does with its activations), and require the same argmax only where
  the golden top-1/top-2 gap is larger than the largest gap change there.
* Against `{reference}`: an engine that keeps activations in f32 can be held
  to a tolerance near the float32 row, far tighter; one that quantizes
  activations cannot.
* Greedy continuations: compare token by token only up to the first step
  whose margin is below the chosen gap tolerance; after a step that flips,
  everything may differ. Or feed the file's greedy tokens to the engine
  (as a prompt continuation) and check the argmax at every step whose margin
  is above the tolerance.

## Near-ties in the llama.cpp greedy continuations

Steps whose margin is below {near_tie}:

| prompt | step | token | margin |
| --- | --- | --- | --- |
{near_ties}
"""


def write_prompts_file(prompts):
    text = "".join(p.text + SEPARATOR for p in prompts)
    (OUT_DIR / PROMPTS_NAME).write_bytes(text.encode("utf-8"))


def make_golden(llm, prompts, token_lists):
    """Per prompt: (prompt logits, greedy ids, greedy margins), from one llama.cpp context."""
    golden = []
    for prompt, tokens in zip(prompts, token_lists):
        golden.append(run_llama(llm, tokens))
        print(f"{prompt.name}: {len(tokens)} tokens, greedy {llm.detokenize(golden[-1][1])!r}",
              file=sys.stderr)
    return golden


def write_vectors(name, source, digits, model, prompts, token_lists, results):
    """model: (path, sha256, n_vocab)."""
    lines = header_lines(source, *model, len(prompts))
    for prompt, tokens, (logits, ids, margins) in zip(prompts, token_lists, results):
        lines += vector_lines(prompt, tokens, logits, ids, margins, digits)
    path = OUT_DIR / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=pathlib.Path, help="SmolLM2-135M-Instruct Q4_1 GGUF")
    args = parser.parse_args()
    model_path = args.model or default_model()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    import llama_cpp

    llm = load_llama(model_path, GOLDEN_BATCH)
    prompts = build_prompts(llm.metadata["tokenizer.chat_template"])
    token_lists = [tokenize(llm, p) for p in prompts]
    longest = max(map(len, token_lists))
    assert longest <= GOLDEN_BATCH and longest + N_GREEDY <= N_CTX, longest
    model_sha256 = sha256_of(model_path)
    model = (model_path, model_sha256, llm.n_vocab())

    golden = make_golden(llm, prompts, token_lists)
    del llm
    write_vectors(VECTORS_NAME, "llama.cpp", GOLDEN_DIGITS, model, prompts, token_lists, golden)
    write_prompts_file(prompts)
    spreads = measure_spread(model_path, prompts, token_lists, golden)

    exact = run_reference(Reference(model_path, np.float64), token_lists)
    write_vectors(REFERENCE_NAME, "numpy-float64", REFERENCE_DIGITS, model, prompts, token_lists,
                  exact)
    spreads.append(compare("numpy float64 pass", prompts, golden, exact))
    single = run_reference(Reference(model_path, np.float32), token_lists)
    f32_spread = compare("numpy float32 pass", prompts, exact, single)

    write_readme(model_path, model_sha256, llama_cpp.llama_print_system_info().decode(),
                 prompts, token_lists, golden, exact, spreads, f32_spread)
    print(f"wrote {len(prompts)} prompts to {OUT_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
