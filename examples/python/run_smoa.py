#!/usr/bin/env python3
"""Answers one question with Sparse Mixture-of-Agents and prints what it cost.

    PYTHONPATH=python SMOA_LIBRARY=build/libsmoa.so.0 \\
        python3 examples/python/run_smoa.py "What is 12 times 7?" --trace trace.json

Several role-played agents, all sharing one model, propose answers; a judge
keeps the best k; after each layer a moderator may end the debate; an
aggregator writes the final answer, which streams to stdout. The cost of each
stage then goes to stderr, and with --trace the run's trace (JSON, see
docs/trace.md) to a file.

The model is --model, else $SMOA_MODEL, else SmolLM2-135M-Instruct.Q4_1.gguf in
the folder scripts/fetch-model.sh caches it in ($SMOA_CACHE_DIR, else
$XDG_CACHE_HOME/smoa, else ~/.cache/smoa), as for the smoa CLI.
"""
import argparse
import codecs
import json
import os
import pathlib
import sys

import smoa

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path():
    if os.environ.get("SMOA_MODEL"):
        return os.environ["SMOA_MODEL"]
    cache = os.environ.get("SMOA_CACHE_DIR")
    if not cache:
        xdg = os.environ.get("XDG_CACHE_HOME")
        cache = os.path.join(xdg, "smoa") if xdg else pathlib.Path.home() / ".cache" / "smoa"
    return os.path.join(cache, MODEL_FILE)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("question")
    parser.add_argument("--model", default=default_model_path())
    parser.add_argument("--mode", choices=["smoa", "moa", "single"], default="smoa")
    parser.add_argument("-n", type=int, default=4, help="proposers per layer (default 4)")
    parser.add_argument("-k", type=int, default=2, help="responses kept per layer (default 2)")
    parser.add_argument("--max-tokens", type=int, default=256, help="per call (default 256)")
    parser.add_argument("--threads", type=int, default=0, help="0 (default): every CPU")
    parser.add_argument("--trace", help="write the run's trace (JSON) to this file")
    return parser.parse_args()


def print_costs(result):
    """Model calls, prompt tokens (every call's whole prompt), tokens actually
    prefilled (a prefix shared by a batch of calls counts once), generated
    tokens and wall time, per stage."""
    print(f"\n{'stage':10} {'calls':>6} {'prompt':>8} {'prefill':>8} {'generated':>10} "
          f"{'seconds':>8}", file=sys.stderr)
    for stage, cost in result.costs.items():
        print(f"{stage:10} {cost['calls']:6} {cost['prompt_tokens']:8} {cost['prefill_tokens']:8} "
              f"{cost['generated_tokens']:10} {cost['seconds']:8.2f}", file=sys.stderr)
    ttft = "no answer" if result.ttft is None else f"first answer byte after {result.ttft:.2f} s"
    print(f"layers run: {result.layers}, {ttft}", file=sys.stderr)


def main(args):
    # One session holds every agent's sequence: n proposers plus one.
    with smoa.Model(args.model) as model, \
            smoa.Session(model, n_seq_max=args.n + 1, n_threads=args.threads) as session:
        # A piece may end inside a UTF-8 character: decode the stream as one.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

        def on_answer(piece):
            sys.stdout.write(decoder.decode(piece))
            sys.stdout.flush()

        result = session.run(args.question, mode=args.mode, n=args.n, k=args.k,
                             max_tokens=args.max_tokens, on_answer=on_answer)
        print(decoder.decode(b"", final=True))
        print_costs(result)
        if args.trace:
            with open(args.trace, "w", encoding="utf-8") as out:
                json.dump(result.trace, out, indent=2)
            print(f"trace written to {args.trace}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main(parse_args())
    except smoa.SmoaError as err:
        sys.exit(f"error: {err}")
    except KeyboardInterrupt:  # raised in on_answer: the run was cancelled first
        sys.exit(130)
