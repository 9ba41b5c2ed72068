#!/usr/bin/env python3
"""Writes golden tokenizer vectors for libsmoa's default model (SmolLM2-135M-Instruct).

The ids come from an implementation independent of libsmoa: llama.cpp, through
llama-cpp-python. They are cross-checked against Hugging Face `tokenizers`
built from the same GGUF vocabulary in two ways: as transformers' GGUF
converter builds it (the code behind AutoTokenizer(gguf_file=...)), and with
the pre-tokenizer of SmolLM2's own tokenizer.json (digits split one by one,
then the GPT-2 byte-level regex).

Outputs, in llama.cpp's test-tokenizer-0 format, under tests/data/tokenizer/:
  smollm2.inp / .out       every string, special tokens NOT parsed
  smollm2-chat.inp / .out  the chat-formatted strings, special tokens parsed
  README.md                what is where, the package versions, the cross-check

Not run in CI (the outputs are committed). Needs: llama-cpp-python, gguf,
tokenizers, transformers, jinja2. Usage:
  python3 scripts/make_tokenizer_vectors.py [--model PATH]
(default model: the one scripts/fetch-model.sh caches).
"""
import argparse
import importlib.metadata
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "tokenizer"
LLAMA_CPP_INP = REPO.parent / "shared" / "data" / "tokenizer" / "ggml-vocab-gpt-2.gguf.inp"
SEPARATOR = "\n__ggml_vocab_test__\n"

# Strings beyond llama.cpp's 46: prose, numbers, code and scripts the model meets.
EXTRA_STRINGS = [
    "The quick brown fox jumps over the lazy dog. It wasn't the fox's first jump, "
    "and it won't be the last: foxes, as everyone knows, are persistent animals.",
    "Sparse Mixture-of-Agents lets several small models propose answers; a judge keeps "
    "the best k responses, and an aggregator writes the final one.\n\n"
    "Each layer refines the previous selection until the moderator sees agreement.",
    "I'm sure you're right, but he'll say we'd better check. They've done it; it's DONE.",
    "  Leading spaces, trailing spaces   ",
    "Tabs\tbetween\twords\tand a line\r\nwith CRLF\rand a lone CR",
    "0 1 12 123 1234 12345 123456 1234567 12345678 123456789",
    "3.14159 -42 +7 1,234,567.89 1e-10 6.02E23 0x1F 0b1010 1_000_000",
    "Total:  42, next:\n\n7, tab:\t\t9,   100",
    "x² + y³ = z⁴; ½ + ¼ = ¾; ①②③; ١٢٣ ४५६",
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * 2 = $18 every day.",
    "On 2024-11-25 at 13:45:07 UTC, version v0.1.0 shipped (build #4096, 99.9% uptime).",
    "int main(void) {\n    for (int i = 0; i < 10; ++i) {\n        printf(\"%d\\n\", i);\n    }\n    return 0;\n}\n",
    "def tokenize(text: str) -> list[int]:\n    \"\"\"Return ids.\"\"\"\n    return [ord(c) for c in text]  # TODO\n",
    '{"question": "What is 2+2?", "answer": 4, "tags": ["math", "easy"], "ok": true}',
    "Café naïve résumé coöperate façade jalapeño Ångström straße",
    "Ελληνικά, русский язык, עברית, العربية, हिन्दी, ไทย",
    "日本語のテキストと中文文本，还有한국어 문장입니다。",
    "Emoji: 👋🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🤖🚀✨",
    "e\u0301 vs \u00e9; non\u00a0breaking\u2009thin\u200bzero-width",
    "Math: ∀x ∈ ℝ, x² ≥ 0; ∑ᵢ aᵢ ≈ π/√2 → ∞",
    "<|im_start|> and <|im_end|> written as plain text",
    "https://example.com/path?query=value&n=10#anchor user@example.org",
]

# Conversations rendered with the model's ChatML template.
CHATS = [
    ([("user", "What is 2+2?")], True),
    ([("system", "You are a careful math tutor."),
      ("user", "Natalia sold clips to 48 of her friends in April. How many in May?")], True),
    ([("system", "Answer in one word."),
      ("user", "Capital of France?"),
      ("assistant", "Paris"),
      ("user", "And of Italy?")], True),
    ([("user", "Say hi."), ("assistant", "Hi!")], False),
    ([("user", "Explain what <|endoftext|> means\nin two lines.")], True),
]


def read_llama_cpp_strings():
    """The 46 strings of llama.cpp's tokenizer tests (all its .inp files are equal)."""
    text = LLAMA_CPP_INP.read_bytes().decode("utf-8")  # bytes: keep any \r
    pieces = text.split(SEPARATOR)
    assert pieces[-1] == "", "every string is followed by the separator"
    return pieces[:-1]


def render_chats(template_text):
    """Each conversation rendered by jinja2 from the template in the GGUF."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    template = env.from_string(template_text)
    rendered = []
    for messages, add_prompt in CHATS:
        msgs = [{"role": role, "content": content} for role, content in messages]
        rendered.append(template.render(messages=msgs, add_generation_prompt=add_prompt))
    return rendered


def load_llama_cpp(model_path):
    import llama_cpp

    return llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)


def llama_cpp_tokenize(llm, text, parse_special):
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=parse_special))


def gguf_tokenizer_dict(model_path):
    """The tokenizer metadata in the shape transformers' GGUF converter takes.

    transformers' own reader imports torch, so the gguf package reads it here.
    """
    import gguf
    from transformers.integrations.gguf.gguf_tokenizer_mapping import GGUF_TOKENIZER_MAPPING

    reader = gguf.GGUFReader(str(model_path))
    renames = GGUF_TOKENIZER_MAPPING["tokenizer"]
    result = {}
    for key, name in renames.items():
        field = reader.fields.get("tokenizer." + key)
        if field is not None:
            result[name] = field.contents()
    arch = reader.fields["general.architecture"].contents()
    return arch, result


def hf_tokenizers(model_path):
    """Two HF tokenizers: transformers' GGUF conversion, and SmolLM2's pre-tokenizer."""
    from tokenizers import pre_tokenizers
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer

    arch, tokenizer_dict = gguf_tokenizer_dict(model_path)
    converted, _ = convert_gguf_tokenizer(arch, tokenizer_dict)
    smollm2, _ = convert_gguf_tokenizer(arch, tokenizer_dict)
    # As in SmolLM2's tokenizer.json (and llama.cpp's "smollm" pre-tokenizer).
    smollm2.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    return {"transformers-gguf": converted, "smollm2-tokenizer.json": smollm2}


def hf_tokenize(tokenizer, text, parse_special):
    tokenizer.encode_special_tokens = not parse_special
    return tokenizer.encode(text, add_special_tokens=False).ids


def cross_check(name, tokenizer, strings, expected, parse_special):
    """Indexes of strings where tokenizer disagrees with llama.cpp."""
    mismatches = []
    for i, (text, ids) in enumerate(zip(strings, expected)):
        got = hf_tokenize(tokenizer, text, parse_special)
        if got != ids:
            mismatches.append(i)
            print(f"  {name}: string {i} {text[:40]!r}\n    llama.cpp {ids}\n    hf        {got}",
                  file=sys.stderr)
    return mismatches


def write_pair(stem, strings, token_lists):
    (OUT_DIR / f"{stem}.inp").write_bytes("".join(s + SEPARATOR for s in strings).encode("utf-8"))
    lines = ["".join(f" {t}" for t in ids) + "\n" for ids in token_lists]
    (OUT_DIR / f"{stem}.out").write_bytes("".join(lines).encode("utf-8"))


def package_versions():
    names = ["llama-cpp-python", "tokenizers", "transformers", "gguf", "jinja2"]
    return {n: importlib.metadata.version(n) for n in names}


def default_model():
    fetch = REPO / "scripts" / "fetch-model.sh"
    out = subprocess.run([str(fetch)], check=True, stdout=subprocess.PIPE, text=True).stdout
    return pathlib.Path(out.strip().splitlines()[-1])


def describe_mismatches(mismatches, n):
    if not mismatches:
        return f"agrees on all {n}"
    return f"differs on {len(mismatches)} of {n} (strings {', '.join(map(str, mismatches))})"


def write_readme(model_path, versions, n_plain, n_chat, n_llama_cpp, checks):
    version_lines = "\n".join(f"| {n} | {v} |" for n, v in versions.items())
    check_lines = "\n".join(
        f"| {name} | {mode} | {describe_mismatches(m, n)} |" for name, mode, m, n in checks)
    text = README_TEMPLATE.format(
        model=model_path.name, n_plain=n_plain, n_chat=n_chat, n_llama_cpp=n_llama_cpp,
        n_extra=len(EXTRA_STRINGS), versions=version_lines, checks=check_lines)
    (OUT_DIR / "README.md").write_text(text, encoding="utf-8")


README_TEMPLATE = """\
# Tokenizer golden vectors for SmolLM2-135M-Instruct

Written by `scripts/make_tokenizer_vectors.py` (do not edit by hand; rerun it).
Model: `{model}` (the default model, `scripts/fetch-model.sh`), tokenizer
`gpt2` (byte-level BPE) with pre-tokenizer `smollm`.

Format (llama.cpp's `test-tokenizer-0`): in `.inp`, every string is followed by
`"\\n__ggml_vocab_test__\\n"`; `.out` has one line per string, each id preceded
by a space, an empty line for zero tokens. No BOS or EOS is added.

| files | strings | special tokens in the text |
| --- | --- | --- |
| `smollm2.inp` / `smollm2.out` | {n_plain} | **not parsed**: `<\\|im_start\\|>` is plain text, split into ordinary tokens (`SMOA_TOKENIZE_PARSE_SPECIAL` off) |
| `smollm2-chat.inp` / `smollm2-chat.out` | {n_chat} | **parsed**: `<\\|im_start\\|>` becomes its id, 1 (`SMOA_TOKENIZE_PARSE_SPECIAL` on) |

`smollm2.inp` holds, in order: the {n_llama_cpp} strings of llama.cpp's tokenizer tests
(`shared/data/tokenizer/ggml-vocab-gpt-2.gguf.inp`), {n_extra} more (prose,
numbers, code, several scripts, emoji, special-token text), then the {n_chat}
chat prompts. `smollm2-chat.inp` holds the same {n_chat} chat prompts: conversations
rendered with the model's own `tokenizer.chat_template` (ChatML) by jinja2.

## Source of the ids

llama.cpp through llama-cpp-python (`Llama(vocab_only=True)`,
`tokenize(text, add_bos=False, special=...)`), independent of libsmoa.

| package | version |
| --- | --- |
{versions}

## Cross-check

The same vocabulary and merges, read with the `gguf` package, run through
Hugging Face `tokenizers` with two pre-tokenizers:

* `transformers-gguf`: as transformers' GGUF converter builds it (the code
  behind `AutoTokenizer.from_pretrained(..., gguf_file=...)`; called directly
  because transformers' GGUF reader needs torch). It does not know the
  `smollm` pre-tokenizer and falls back to plain GPT-2 splitting.
* `smollm2-tokenizer.json`: the pre-tokenizer of SmolLM2's own
  `tokenizer.json`: `Digits(individual_digits=True)`, then `ByteLevel` with the
  GPT-2 regex.

| implementation | special tokens | result against llama.cpp |
| --- | --- | --- |
{checks}

Where `transformers-gguf` differs, whitespace comes before a numeric
character (`4 ½`, `:  42`, `\\n\\n7`, `; ①`). GPT-2's regex keeps one space
with a number (` ?\\p{{N}}+`) and cuts a whitespace run before its last
character; SmolLM2 first splits every numeric character off on its own
(`Digits` in its tokenizer.json, `\\p{{N}}` in llama.cpp's `smollm`
pre-tokenizer), so the whitespace before it stays one piece (`"  "` is one
token, 256). The digits themselves come out one per token either way: no
token in the vocabulary joins a numeric character to anything. SmolLM2's own
pre-tokenizer agrees with llama.cpp on every string, so llama.cpp's ids are
the right ones; transformers' GGUF conversion does not know `smollm` and is
wrong for this model on such strings.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=pathlib.Path, help="SmolLM2-135M-Instruct GGUF")
    args = parser.parse_args()
    model_path = args.model or default_model()
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    llm = load_llama_cpp(model_path)
    chats = render_chats(llm.metadata["tokenizer.chat_template"])
    llama_cpp_strings = read_llama_cpp_strings()
    plain = llama_cpp_strings + EXTRA_STRINGS + chats
    plain_ids = [llama_cpp_tokenize(llm, s, False) for s in plain]
    chat_ids = [llama_cpp_tokenize(llm, s, True) for s in chats]
    write_pair("smollm2", plain, plain_ids)
    write_pair("smollm2-chat", chats, chat_ids)

    checks = []
    for name, tokenizer in hf_tokenizers(model_path).items():
        for mode, strings, ids, parse in (("not parsed", plain, plain_ids, False),
                                          ("parsed", chats, chat_ids, True)):
            checks.append((name, mode, cross_check(name, tokenizer, strings, ids, parse),
                           len(strings)))
    write_readme(model_path, package_versions(), len(plain), len(chats),
                 len(llama_cpp_strings), checks)
    print(f"wrote {len(plain)} + {len(chats)} vectors to {OUT_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
