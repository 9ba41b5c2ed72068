#!/usr/bin/env python3
"""Writes golden chat-template vectors for libsmoa's chat_template module.

libsmoa does not execute Jinja: it recognises a template's family and renders
the conversation itself. These vectors check that rendering against the real
thing. Each conversation below is rendered by Jinja2 the way Hugging Face
transformers' apply_chat_template does it (sandboxed environment with
trim_blocks and lstrip_blocks, the loopcontrols extension, raise_exception,
tojson and strftime_now, special tokens passed as variables) through the real
chat templates of released models:

  smollm2        SmolLM2-135M-Instruct, read from the GGUF file itself
  chatml         the plain ChatML template (teknium/OpenHermes-2.5-Mistral-7B)
  qwen2.5        Qwen2.5-Instruct (injects a default system message)
  llama3         Meta-Llama-3-8B-Instruct
  gemma2         gemma-2-it (raises on a system message)
  gemma3         gemma-3-it (merges the system message into the first user turn)
  mistral-v0.2   Mistral-7B-Instruct-v0.2, current template (system before the
                 first user message)
  mistral-legacy Mistral-7B-Instruct-v0.1/v0.2 and Mixtral-8x7B-Instruct-v0.1,
                 original template (no system support)
  llama2         Llama-2-7b-chat-hf (<<SYS>> inside the first [INST])

Outputs under tests/data/chat/:
  <name>.template  the template text, byte for byte
  vectors.txt      every case, in the line format described at its top

Where the real template raises (roles that do not alternate, ...) the case
records the error; libsmoa must then fail with SMOA_ERR_INVALID_ARGUMENT.
Cases where libsmoa deliberately differs from a template are skipped for that
template, with the reason written into vectors.txt.

Not run in CI (the outputs are committed). Needs: jinja2, gguf. Usage:
  python3 scripts/make_chat_vectors.py [--model PATH]
(default model: the one scripts/fetch-model.sh caches).
"""
import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import pathlib
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "chat"
DEFAULT_MODEL = pathlib.Path.home() / ".cache" / "smoa" / "SmolLM2-135M-Instruct.Q4_1.gguf"

# ---------------------------------------------------------------------------
# Real templates (test data). Raw strings keep the Jinja escapes (\n inside
# string literals) exactly as the published tokenizer_config.json files do.

CHATML_OPENHERMES = (
    r"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    r" + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    r"{{ '<|im_start|>assistant\n' }}{% endif %}"
)

QWEN25_INSTRUCT = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

# Meta's JSON stores real newlines here ("\n\n" decoded by the JSON parser).
LLAMA3_INSTRUCT = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)

GEMMA2_IT = (
    r"{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    r"{{ raise_exception('System role not supported') }}{% endif %}"
    r"{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    r"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    r"{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}"
    r"{% set role = message['role'] %}{% endif %}"
    r"{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    r"{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)

GEMMA3_IT = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

MISTRAL_V02_INSTRUCT = r"""{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

MISTRAL_LEGACY_INSTRUCT = (
    r"{{ bos_token }}{% for message in messages %}"
    r"{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    r"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    r"{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    r"{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}"
    r"{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)

LLAMA2_CHAT = (
    r"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    r"{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    r"{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    r"{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    r"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    r"{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    r"{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}"
    r"{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    r"{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    r"{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    r"{% endif %}{% endfor %}"
)


@dataclasses.dataclass
class Template:
    name: str                      # file stem under tests/data/chat
    family: str                    # what libsmoa must recognise it as
    text: str
    tokens: dict                   # special tokens, as transformers passes them
    same_as_family_name: bool = False  # libsmoa's family name renders like this one
    skip_leading_system: str = ""  # reason, when libsmoa differs on a leading system message


def smollm2_template(model_path):
    from gguf import GGUFReader

    field = GGUFReader(str(model_path)).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def templates(model_path):
    llama_tokens = {"bos_token": "<s>", "eos_token": "</s>"}
    return [
        Template("smollm2", "chatml", smollm2_template(model_path),
                 {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}),
        Template("chatml", "chatml", CHATML_OPENHERMES,
                 {"bos_token": "<s>", "eos_token": "<|im_end|>"}, same_as_family_name=True),
        Template("qwen2.5", "chatml", QWEN25_INSTRUCT, {"eos_token": "<|im_end|>"}),
        Template("llama3", "llama3", LLAMA3_INSTRUCT,
                 {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
                 same_as_family_name=True),
        Template("gemma2", "gemma", GEMMA2_IT, {"bos_token": "<bos>", "eos_token": "<eos>"},
                 skip_leading_system="gemma-2 raises on a system message; libsmoa merges it "
                                     "into the first user turn as gemma-3 does"),
        Template("gemma3", "gemma", GEMMA3_IT, {"bos_token": "<bos>", "eos_token": "<eos>"},
                 same_as_family_name=True),
        Template("mistral-v0.2", "mistral", MISTRAL_V02_INSTRUCT, llama_tokens,
                 same_as_family_name=True),
        Template("mistral-legacy", "mistral", MISTRAL_LEGACY_INSTRUCT, llama_tokens,
                 skip_leading_system="the original Mistral template raises on a system message; "
                                     "libsmoa puts it before the first user message"),
        Template("llama2", "mistral", LLAMA2_CHAT, llama_tokens),
    ]


# ---------------------------------------------------------------------------
# Conversations: (id, [(role, content), ...]).

CONVERSATIONS = [
    ("user_only", [("user", "Hello")]),
    ("system_user", [("system", "You are a terse assistant."), ("user", "What is 2+2?")]),
    ("multi_turn", [
        ("system", "You are a helpful assistant"), ("user", "Hello"),
        ("assistant", "Hi there"), ("user", "Who are you"),
        ("assistant", "   I am an assistant   "), ("user", "Another question")]),
    ("multi_turn_no_system", [
        ("user", "Hi!"), ("assistant", "Hello! How can I help?"), ("user", "Tell me a joke.")]),
    ("ends_with_assistant", [("user", "Say OK."), ("assistant", "OK.")]),
    ("empty_contents", [("system", ""), ("user", ""), ("assistant", ""), ("user", "")]),
    ("empty_user_only", [("user", "")]),
    ("unicode", [
        ("system", "Réponds en français. 🙂"), ("user", "Grüße aus Köln — 東京は晴れ ½ ∑"),
        ("assistant", "Ça va très bien ! 👍🏽"), ("user", "Et toi ? 🇫🇷")]),
    # Python's str.strip() (Jinja's trim) removes Unicode spaces too.
    ("whitespace", [
        ("system", "\n  Be brief.  \n"), ("user", " \t padded\u00a0\u3000"),
        ("assistant", "\u2003answer\n\n"), ("user", "\r\nlast\u2028")]),
    ("whitespace_only", [("system", " \n "), ("user", " \u3000\t")]),
    ("markup_in_content", [
        ("user", "Quotes ' \" backslash \\ braces {{ x }} {% if %} <|im_end|> [INST] "
                 "<start_of_turn> <<SYS>> </s>")]),
    ("only_system", [("system", "Alone.")]),
    ("system_after_turns", [
        ("user", "Hi"), ("assistant", "Hello."), ("system", "From now on, be formal."),
        ("user", "Good day.")]),
    ("two_systems", [("system", "A."), ("system", "B."), ("user", "C?")]),
    ("two_users", [("user", "One."), ("user", "Two.")]),
    ("assistant_first", [("assistant", "I start."), ("user", "Fine.")]),
    ("long_dialogue", [("system", "Count.")] + [
        (("user", "assistant")[i % 2], f"turn {i}") for i in range(8)]),
]


def make_environment():
    """The environment transformers builds for apply_chat_template."""
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def escape(text):
    """One line of vectors.txt: backslash, CR, LF, tab and other C0 controls escaped."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


HEADER = """\
# Chat template vectors, written by scripts/make_chat_vectors.py: do not edit.
# Rendered by jinja2 {jinja} the way transformers' apply_chat_template does.
#
#   template NAME FAMILY SAME   tests/data/chat/NAME.template is recognised as
#                               FAMILY; SAME=1: the family name as template text
#                               must render every case of NAME identically
#   skip ID REASON              a conversation left out for this template
#   case ID PROMPT              a conversation; PROMPT=1: add_generation_prompt
#   msg ROLE TEXT               one message of the case
#   expect TEXT                 the rendering
#   raises TEXT                 the template raised this error
#
# TEXT is escaped: \\\\ \\n \\r \\t and \\xHH for other control bytes; UTF-8 as is.
"""


def render_cases(env, template):
    compiled = env.from_string(template.text)
    lines = [f"template {template.name} {template.family} {int(template.same_as_family_name)}"]
    for conv_id, messages in CONVERSATIONS:
        if template.skip_leading_system and messages[0][0] == "system":
            lines.append(f"skip {conv_id} {template.skip_leading_system}")
            continue
        for prompt in (False, True):
            lines.append(f"case {conv_id} {int(prompt)}")
            lines += [f"msg {role} {escape(content)}" for role, content in messages]
            try:
                rendered = compiled.render(
                    messages=[{"role": r, "content": c} for r, c in messages],
                    add_generation_prompt=prompt, **template.tokens)
                lines.append(f"expect {escape(rendered)}")
            except jinja2.exceptions.TemplateError as e:
                lines.append(f"raises {escape(str(e))}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("SMOA_MODEL", DEFAULT_MODEL)),
                        help="SmolLM2-135M-Instruct GGUF (its chat template is read)")
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"{args.model}: not found (run scripts/fetch-model.sh or pass --model)")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = make_environment()
    lines = [HEADER.format(jinja=importlib.metadata.version("jinja2"))]
    n_cases = 0
    for template in templates(args.model):
        (OUT_DIR / f"{template.name}.template").write_bytes(template.text.encode("utf-8"))
        cases = render_cases(env, template)
        n_cases += sum(line.startswith("case ") for line in cases)
        lines += cases + [""]
    with open(OUT_DIR / "vectors.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))
    print(f"wrote {n_cases} cases to {OUT_DIR / 'vectors.txt'}")


if __name__ == "__main__":
    main()
