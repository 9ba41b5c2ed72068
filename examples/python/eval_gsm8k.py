#!/usr/bin/env python3
"""Evaluates a model on a few GSM8K questions in single, MoA and SMoA mode.

    PYTHONPATH=python SMOA_LIBRARY=build/libsmoa.so.0 \\
        python3 examples/python/eval_gsm8k.py [MODEL] --out runs/gsm8k-example

The three modes answer the same seeded sample of questions (--limit, 3 by
default) with the same budgets. Each (question, mode) is scored as soon as it
is answered and appended to OUT/results.jsonl, with a progress line on
stderr. Ctrl-C stops after the query under way; running the same command
again resumes, and a bigger --limit extends the sample. At the end the report
(OUT/report.md) is written and its path printed, with each mode's accuracy
and cost.

The model is MODEL, else $SMOA_MODEL, else the cached
SmolLM2-135M-Instruct.Q4_1.gguf, as for run_smoa.py.
"""
import argparse
import sys

import smoa
from run_smoa import default_model_path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", default=default_model_path())
    parser.add_argument("--out", default="runs/gsm8k-example", help="results and report folder")
    parser.add_argument("--limit", type=int, default=3, help="questions (default 3)")
    parser.add_argument("--max-tokens", type=int, default=256, help="per call (default 256)")
    parser.add_argument("--threads", type=int, default=0, help="0 (default): every CPU")
    return parser.parse_args()


def show(progress):
    """One line per (question, mode) done: the running score of each mode."""
    scores = ", ".join(f"{mode} {progress.mode_correct[mode]}/{progress.mode_done[mode]}"
                       for mode in progress.mode_done)
    left = "?" if progress.eta is None else f"{progress.eta:.0f} s"
    print(f"[{progress.done}/{progress.total}] {progress.item} {progress.mode}: "
          f"correct {scores}; time left {left}", file=sys.stderr)


def main(args):
    # The default SMoA run has 4 proposers: the session holds 4 + 1 sequences.
    with smoa.Model(args.model) as model, \
            smoa.Session(model, n_seq_max=5, n_threads=args.threads) as session:
        session.evaluate("gsm8k", args.out, limit=args.limit, max_tokens=args.max_tokens,
                         model_name=args.model, command=" ".join(sys.argv), on_progress=show)
    print(f"report: {smoa.report(args.out)}")
    for result in smoa.summary(args.out).results:
        print(f"{result.mode:6}: {result.correct}/{result.items} correct, "
              f"{result.total_tokens:.0f} tokens and {result.calls:.0f} calls per question")


if __name__ == "__main__":
    try:
        main(parse_args())
    except smoa.SmoaError as err:
        sys.exit(f"error: {err}")
    except KeyboardInterrupt:  # raised in on_progress: the evaluation was cancelled first
        sys.exit(130)
