#!/usr/bin/env python3
"""Formats a chat with a model's own template and shows its tokens.

    PYTHONPATH=python SMOA_LIBRARY=build/libsmoa.so.0 \
        python3 examples/python/tokenize_chat.py "$(scripts/fetch-model.sh | tail -n1)"
"""
import sys

import smoa


def main(model_path, question="What is the capital of France?"):
    print(f"libsmoa {smoa.version()} (CUDA: {'yes' if smoa.has_cuda() else 'no'})")
    # The tokenizer and template are all this needs, not the weights.
    with smoa.Model(model_path, smoa.LoadMode.VOCAB) as model:
        print(f"model: {model.name} ({model.architecture}, {model.n_vocab} tokens)")
        prompt = model.chat_format([("system", "You answer in one sentence."),
                                    ("user", question)])
        print(prompt)
        # The template writes special tokens as text: parse them back to ids.
        ids = model.tokenize(prompt, parse_special=True)
        print(f"{len(ids)} tokens:")
        for token in ids:
            piece = model.detokenize([token], render_special=True)
            print(f"{token:6d}  {piece!r}")


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(f"usage: {sys.argv[0]} MODEL.gguf [QUESTION]")
    try:
        main(*sys.argv[1:])
    except smoa.SmoaError as err:
        sys.exit(f"error: {err}")
