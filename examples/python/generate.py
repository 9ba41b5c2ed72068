#!/usr/bin/env python3
"""Asks a model one question and streams its answer, then prints the speed.

    PYTHONPATH=python SMOA_LIBRARY=build/libsmoa.so.0 \
        python3 examples/python/generate.py What is the capital of France?

The model is --model, else $SMOA_MODEL, else SmolLM2-135M-Instruct.Q4_1.gguf in
the folder scripts/fetch-model.sh caches it in ($SMOA_CACHE_DIR, else
$XDG_CACHE_HOME/smoa, else ~/.cache/smoa), as for the smoa CLI.
"""
import argparse
import codecs
import os
import pathlib
import sys
import time

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
    parser.add_argument("question", nargs="*", help="default: What is the capital of France?")
    parser.add_argument("--model", default=default_model_path())
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.0, help="0 (default): greedy")
    parser.add_argument("--threads", type=int, default=0, help="0 (default): every CPU")
    return parser.parse_args()


def main(args):
    question = " ".join(args.question) or "What is the capital of France?"
    with smoa.Model(args.model) as model, smoa.Session(model, n_threads=args.threads) as session:
        prompt = model.chat_format([("user", question)])
        # The template writes special tokens as text: parse them back to ids.
        ids = model.tokenize(prompt, parse_special=True)
        seq = session.new_sequence()
        start = time.perf_counter()
        session.prefill(seq, ids)
        prefilled = time.perf_counter()

        # A piece may end inside a UTF-8 character: decode the stream as one.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

        def on_token(_seq, _token, piece):
            sys.stdout.write(decoder.decode(piece))
            sys.stdout.flush()

        [answer] = session.generate([seq], max_tokens=args.max_tokens,
                                    sampling=smoa.Sampling(temperature=args.temperature),
                                    on_token=on_token)
        done = time.perf_counter()
        print(decoder.decode(b"", final=True))
        print(f"\n[{model.name} on {session.device}: prompt {len(ids)} tokens in "
              f"{prefilled - start:.2f} s ({len(ids) / (prefilled - start):.1f} tokens/s), "
              f"answer {len(answer.tokens)} tokens in {done - prefilled:.2f} s "
              f"({len(answer.tokens) / (done - prefilled):.1f} tokens/s), "
              f"stopped: {smoa.stop_reason_str(answer.stop_reason)}]", file=sys.stderr)


if __name__ == "__main__":
    try:
        main(parse_args())
    except smoa.SmoaError as err:
        sys.exit(f"error: {err}")
    except KeyboardInterrupt:  # raised in on_token: the generation was cancelled first
        sys.exit(130)
