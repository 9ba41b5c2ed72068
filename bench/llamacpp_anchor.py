#!/usr/bin/env python3
"""llamacpp_anchor.py - the figures of bench_decode, measured with llama.cpp.

    python3 bench/llamacpp_anchor.py [MODEL.gguf] [--threads N] [--reps N] [--tsv]

MODEL defaults to $SMOA_MODEL. Uses llama-cpp-python's low-level API (the
ctypes mirror of llama.h), as llama-bench and llama-batched-bench drive
llama.cpp:
  prefill   512 tokens in one llama_decode (n_batch = n_ubatch = 512) into
            an empty KV cache;
  decode    128 steps of 1, 4 and 8 sequences after a 16-token prompt each,
            every step one llama_batch holding one token per sequence
            (distinct seq ids); only llama_decode + llama_synchronize are
            timed, the greedy argmax of each sequence's logits is not.
Token ids are the same arithmetic sequences as bench_decode.c's. Weight bytes
per step are llama_model_size() (every tensor). Memory bandwidth is a property
of the machine, not of the engine: bench_decode measures it. --tsv prints
"key<TAB>value<TAB>label" lines for bench/run_cpu.sh.

The installed package (0.3.36) was built with GGML_NATIVE=OFF: ggml's CPU
backend has AVX2/FMA/F16C kernels and no AVX-512 ones (see the "# llama.cpp
system info" line, from llama_print_system_info()).
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

import llama_cpp as L
import numpy as np

PREFILL_TOKENS = 512
PROMPT_TOKENS = 16
DECODE_TOKENS = 128
MAX_SEQS = 8
SEQ_CELLS = 640  # KV cells per sequence: the 512-token prefill fits in one
GGML_LOG_LEVEL_ERROR = 4  # ggml.h's enum ggml_log_level; the binding has no name for it


def token_at(start, i, n_vocab):
    """Token i of the stream that starts at `start` (bench_decode.c's formula)."""
    return (start + 7919 * i) % n_vocab


@L.llama_log_callback
def _quiet_log(level, text, user_data):
    """Drops llama.cpp's load-time chatter; errors still reach stderr."""
    if level == GGML_LOG_LEVEL_ERROR:
        sys.stderr.write(text.decode(errors="replace"))


class Anchor:
    def __init__(self, path, threads):
        L.llama_log_set(_quiet_log, None)
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        mp.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            sys.exit(f"llamacpp_anchor: cannot load {path}")
        cp = L.llama_context_default_params()
        cp.n_ctx = SEQ_CELLS * MAX_SEQS
        cp.n_seq_max = MAX_SEQS
        cp.n_batch = cp.n_ubatch = PREFILL_TOKENS
        cp.n_threads = cp.n_threads_batch = threads
        cp.no_perf = True
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            sys.exit("llamacpp_anchor: cannot create a context")
        self.memory = L.llama_get_memory(self.ctx)
        self.n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))
        self.batch = L.llama_batch_init(PREFILL_TOKENS, 0, 1)

    def close(self):
        L.llama_batch_free(self.batch)
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)

    def fill(self, entries):
        """entries: (token, pos, seq, wants_logits) for each batch row."""
        b = self.batch
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(entries)

    def timed_decode(self):
        t0 = time.perf_counter()
        rc = L.llama_decode(self.ctx, self.batch)
        L.llama_synchronize(self.ctx)
        seconds = time.perf_counter() - t0
        if rc != 0:
            sys.exit(f"llamacpp_anchor: llama_decode returned {rc}")
        return seconds

    def argmax(self, row):
        logits = L.llama_get_logits_ith(self.ctx, row)
        return int(np.ctypeslib.as_array(logits, shape=(self.n_vocab,)).argmax())

    def prefill_rate(self):
        L.llama_memory_clear(self.memory, True)
        last = PREFILL_TOKENS - 1
        self.fill([(token_at(1000, i, self.n_vocab), i, 0, i == last)
                   for i in range(PREFILL_TOKENS)])
        return PREFILL_TOKENS / self.timed_decode()

    def decode_rate(self, n):
        """Aggregate tokens/s of n sequences decoding together."""
        L.llama_memory_clear(self.memory, True)
        next_tokens = []
        for s in range(n):  # each prompt on its own, as bench_decode does
            self.fill([(token_at(2000 + 100 * s, i, self.n_vocab), i, s,
                        i == PROMPT_TOKENS - 1) for i in range(PROMPT_TOKENS)])
            self.timed_decode()
            next_tokens.append(self.argmax(PROMPT_TOKENS - 1))
        seconds = 0.0
        for step in range(DECODE_TOKENS):
            pos = PROMPT_TOKENS + step
            self.fill([(next_tokens[s], pos, s, True) for s in range(n)])
            seconds += self.timed_decode()
            next_tokens = [self.argmax(s) for s in range(n)]
        return n * DECODE_TOKENS / seconds


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", default=os.environ.get("SMOA_MODEL"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tsv", action="store_true")
    args = ap.parse_args()
    if not args.model:
        ap.error("no model (give a path or set SMOA_MODEL)")
    return args


def measure(anchor, reps):
    anchor.prefill_rate()  # warm-up: maps the weights in, sizes the buffers
    anchor.decode_rate(MAX_SEQS)
    runs = {"prefill": [], "decode1": [], "decode4": [], "decode8": []}
    for _ in range(reps):
        runs["prefill"].append(anchor.prefill_rate())
        for n in (1, 4, 8):
            runs[f"decode{n}"].append(anchor.decode_rate(n))
    return {k: statistics.median(v) for k, v in runs.items()}


def report_rows(m, weight_gb):
    return [
        ("prefill", "prefill 512 tokens (tok/s)", "%.1f", m["prefill"]),
        ("decode1", "decode, 1 sequence (tok/s)", "%.1f", m["decode1"]),
        ("decode4", "decode, 4 sequences (aggregate tok/s)", "%.1f", m["decode4"]),
        ("decode8", "decode, 8 sequences (aggregate tok/s)", "%.1f", m["decode8"]),
        ("ratio4", "batch-4 / batch-1", "%.2f", m["decode4"] / m["decode1"]),
        ("ratio8", "batch-8 / batch-1", "%.2f", m["decode8"] / m["decode1"]),
        ("weight_mb", "weight bytes per decode step (MB)", "%.1f", weight_gb * 1e3),
        ("gbs1", "effective GB/s, 1 sequence", "%.1f", weight_gb * m["decode1"]),
        ("gbs4", "effective GB/s, 4 sequences", "%.1f", weight_gb * m["decode4"] / 4),
        ("gbs8", "effective GB/s, 8 sequences", "%.1f", weight_gb * m["decode8"] / 8),
    ]


def main():
    args = parse_args()
    anchor = Anchor(args.model, args.threads)
    system_info = L.llama_print_system_info().decode().strip()
    weight_gb = L.llama_model_size(anchor.model) * 1e-9
    rows = report_rows(measure(anchor, args.reps), weight_gb)
    anchor.close()
    if args.tsv:
        print(f"# llama.cpp system info: {system_info}")
        for key, label, _, value in rows:
            print(f"{key}\t{value:.6g}\t{label}")
        return
    print(f"llamacpp_anchor: llama-cpp-python {L.__version__} (GGML_NATIVE=OFF, no AVX-512), "
          f"{args.threads} threads, median of {args.reps} runs")
    print(f"llama.cpp system info: {system_info}\n")
    print("| metric | llama.cpp |\n|---|---:|")
    for _, label, fmt, value in rows:
        print(f"| {label} | {fmt % value} |")


if __name__ == "__main__":
    main()
