"""Tests of the ctypes binding (python/smoa) against the built libsmoa.

Environment: SMOA_LIBRARY (the library; else the binding searches), SMOA_MODEL
(SmolLM2-135M-Instruct.Q4_1.gguf; tests that need it are skipped without it).
Standard library only.
"""
import ctypes
import importlib.util
import os
import pathlib
import struct
import tempfile
import unittest

import smoa

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
GOLDEN = REPO / "tests" / "data" / "tokenizer"
SEPARATOR = "\n__ggml_vocab_test__\n"
MODEL_PATH = os.environ.get("SMOA_MODEL", "")
needs_model = unittest.skipUnless(
    MODEL_PATH and os.path.isfile(MODEL_PATH),
    "SMOA_MODEL is not set to an existing file (scripts/fetch-model.sh fetches it)")


def read_golden(stem):
    """(strings, token id lists) of a llama.cpp-format .inp/.out pair."""
    # Bytes, not read_text: universal newlines would turn "\r\n" into "\n".
    pieces = (GOLDEN / f"{stem}.inp").read_bytes().decode("utf-8").split(SEPARATOR)
    strings = pieces[:-1]  # every string is followed by the separator
    lines = (GOLDEN / f"{stem}.out").read_bytes().decode("ascii").split("\n")[:-1]
    ids = [[int(t) for t in line.split()] for line in lines]
    assert len(strings) == len(ids), f"{stem}: .inp and .out disagree on the count"
    return strings, ids


def golden_chats():
    """The conversations behind smollm2-chat.inp, from the script that wrote it."""
    path = REPO / "scripts" / "make_tokenizer_vectors.py"
    spec = importlib.util.spec_from_file_location("make_tokenizer_vectors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CHATS


# --- small GGUF files for the error paths ----------------------------------

GGUF_TYPE_STRING = 8


def gguf_header(version=3, n_tensors=0, n_kv=0, magic=b"GGUF"):
    return magic + struct.pack("<IQQ", version, n_tensors, n_kv)


def gguf_string(text):
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def gguf_kv_string(key, value):
    return gguf_string(key) + struct.pack("<I", GGUF_TYPE_STRING) + gguf_string(value)


class TempFiles(unittest.TestCase):
    def write_temp(self, data, suffix=".gguf"):
        fd, path = tempfile.mkstemp(suffix=suffix)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        self.addCleanup(os.remove, path)
        return path

    def assert_load_fails(self, path, statuses):
        """Loading path raises SmoaError with one of statuses and a message."""
        with smoa.Context() as ctx:
            with self.assertRaises(smoa.SmoaError) as caught:
                smoa.Model(path, context=ctx)
            err = caught.exception
            self.assertIn(err.status, statuses, f"{path}: {err}")
            self.assertTrue(err.message, "the library gives no message")
            self.assertEqual(ctx.last_error, err.message)
        return err


# --- always run --------------------------------------------------------------


class LibraryTest(unittest.TestCase):
    def test_version_matches_header(self):
        text = smoa.version()
        self.assertRegex(text, r"^\d+\.\d+\.\d+$")
        major, minor, patch = map(int, text.split("."))
        self.assertEqual(smoa.version_number(), major * 10000 + minor * 100 + patch)
        header_major, header_minor, _ = smoa._capi.HEADER_VERSION
        self.assertEqual(major, header_major, "library and binding disagree on the ABI")
        self.assertGreaterEqual(minor, header_minor)

    def test_status_strings_are_distinct(self):
        names = [smoa.status_str(s) for s in smoa.Status]
        for status, name in zip(smoa.Status, names):
            self.assertTrue(name, f"{status!r} has no text")
        self.assertEqual(len(set(names)), len(names), names)

    def test_cuda_queries(self):
        self.assertIsInstance(smoa.has_cuda(), bool)
        count = smoa.cuda_device_count()
        self.assertGreaterEqual(count, 0)
        if not smoa.has_cuda():
            self.assertEqual(count, 0)

    def test_chat_template_family_names(self):
        for family in ("chatml", "llama3", "gemma", "mistral"):
            self.assertEqual(smoa.chat_template_family(family), family)
        self.assertIsNone(smoa.chat_template_family("{{ something unknown }}"))

    def test_context_logs_through_callback(self):
        messages = []
        with smoa.Context(log=lambda level, msg: messages.append((level, msg)),
                          log_level=smoa.LogLevel.DEBUG) as ctx:
            with self.assertRaises(smoa.SmoaError):
                smoa.Model("/nonexistent/model.gguf", context=ctx)
        for level, msg in messages:  # whatever was logged arrived intact
            self.assertIsInstance(level, smoa.LogLevel)
            self.assertIsInstance(msg, str)

    def test_closed_context_is_refused(self):
        ctx = smoa.Context()
        ctx.close()
        ctx.close()  # twice is harmless
        with self.assertRaises(ValueError):
            ctx.last_error


class LoadErrorTest(TempFiles):
    def test_missing_file_is_io_error_naming_the_path(self):
        path = os.path.join(tempfile.gettempdir(), "smoa-no-such-dir", "missing-model.gguf")
        err = self.assert_load_fails(path, {smoa.Status.ERR_IO})
        self.assertIn(path, err.message)

    def test_bad_magic_is_format_error(self):
        self.assert_load_fails(self.write_temp(gguf_header(magic=b"GGML") + bytes(64)),
                               {smoa.Status.ERR_FORMAT})

    def test_truncated_metadata_is_format_error(self):
        # Two entries announced, one and a half written.
        data = (gguf_header(n_kv=2) + gguf_kv_string("general.architecture", "llama")
                + gguf_string("general.name")[:10])
        self.assert_load_fails(self.write_temp(data), {smoa.Status.ERR_FORMAT})

    def test_huge_string_length_is_format_error(self):
        data = gguf_header(n_kv=1) + struct.pack("<Q", 1 << 62) + b"general"
        self.assert_load_fails(self.write_temp(data), {smoa.Status.ERR_FORMAT})

    def test_header_only_is_format_error(self):
        self.assert_load_fails(self.write_temp(b"GGUF\x03\x00"), {smoa.Status.ERR_FORMAT})

    def test_other_gguf_version_is_refused(self):
        self.assert_load_fails(self.write_temp(gguf_header(version=2) + bytes(64)),
                               {smoa.Status.ERR_FORMAT, smoa.Status.ERR_UNSUPPORTED})

    @needs_model
    def test_truncated_model_is_format_error(self):
        with open(MODEL_PATH, "rb") as f:
            head = f.read(4 << 20)  # metadata and a few tensors, not all of them
        self.assert_load_fails(self.write_temp(head), {smoa.Status.ERR_FORMAT})

    def test_context_recovers_after_failure(self):
        with smoa.Context() as ctx:
            with self.assertRaises(smoa.SmoaError):
                smoa.Model(self.write_temp(b"not a gguf file at all"), context=ctx)
            self.assertNotEqual(ctx.last_error, "")


# --- with the default model -------------------------------------------------


@needs_model
class ModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = smoa.Model(MODEL_PATH)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def test_hyperparameters(self):
        m = self.model
        self.assertEqual(m.architecture, "llama")
        self.assertEqual(m.name, "Smollm2 135M 8k Lc100K Mix1 Ep2")
        self.assertEqual(m.file_size, os.path.getsize(MODEL_PATH))
        self.assertEqual((m.n_vocab, m.n_ctx_train, m.n_embd, m.n_layer),
                         (49152, 8192, 576, 30))
        self.assertEqual((m.n_head, m.n_head_kv, m.n_ff), (9, 3, 1536))
        self.assertEqual((m.tokenizer_model, m.tokenizer_pre), ("gpt2", "smollm"))

    def test_metadata(self):
        keys = self.model.metadata_keys()
        self.assertEqual(len(keys), 33)
        self.assertEqual(keys[0], "general.architecture")
        self.assertEqual(self.model.meta("general.architecture"), "llama")
        self.assertEqual(self.model.meta("llama.block_count"), "30")
        self.assertEqual(self.model.meta("tokenizer.ggml.bos_token_id"), "1")
        self.assertTrue(self.model.meta("tokenizer.ggml.tokens").startswith("["))
        with self.assertRaises(KeyError):
            self.model.meta("no.such.key")
        self.assertEqual(list(self.model.metadata), keys)

    def test_tensors(self):
        tensors = self.model.tensors
        self.assertEqual(len(tensors), 272)
        by_name = {t.name: t for t in tensors}
        self.assertEqual(len(by_name), len(tensors), "tensor names repeat")
        self.assertEqual(by_name["token_embd.weight"].dims, (576, 49152))
        self.assertEqual(by_name["blk.0.attn_norm.weight"].type_name, "F32")
        for t in tensors:
            self.assertLessEqual(t.offset + t.n_bytes, self.model.file_size, t.name)
        n_params = sum(_product(t.dims) for t in tensors)
        self.assertEqual(self.model.n_params, n_params)

    def test_special_tokens(self):
        m = self.model
        self.assertEqual((m.bos, m.eos), (1, 2))
        self.assertEqual(m.token_text(1), "<|im_start|>")
        self.assertEqual(m.token_text(2), "<|im_end|>")
        self.assertTrue(m.is_eog(2))
        self.assertFalse(m.is_eog(17))  # "!"

    def test_tokenize_matches_llama_cpp(self):
        self.assert_golden("smollm2", parse_special=False)

    def test_tokenize_chat_with_special_tokens_matches_llama_cpp(self):
        self.assert_golden("smollm2-chat", parse_special=True)

    def assert_golden(self, stem, parse_special):
        strings, expected = read_golden(stem)
        for i, (text, ids) in enumerate(zip(strings, expected)):
            with self.subTest(stem=stem, index=i, text=text[:50]):
                self.assertEqual(self.model.tokenize(text, parse_special=parse_special), ids)

    def test_detokenize_round_trips(self):
        strings, expected = read_golden("smollm2")
        for i, (text, ids) in enumerate(zip(strings, expected)):
            with self.subTest(index=i, text=text[:50]):
                self.assertEqual(self.model.detokenize(ids), text.encode("utf-8"))

    def test_detokenize_special_tokens(self):
        ids = self.model.tokenize("<|im_start|>user", parse_special=True)
        self.assertEqual(ids[0], 1)
        self.assertEqual(self.model.detokenize(ids, render_special=True), b"<|im_start|>user")
        self.assertEqual(self.model.detokenize(ids), b"user")

    def test_detokenize_may_end_inside_a_character(self):
        ids = self.model.tokenize("🤖")
        self.assertGreater(len(ids), 1)
        self.assertEqual(b"".join(self.model.detokenize([t]) for t in ids), "🤖".encode())

    def test_add_special_follows_the_model(self):
        # This model's GGUF says add_bos_token = false and asks for no EOS.
        self.assertEqual(self.model.tokenize("Hello", add_special=True),
                         self.model.tokenize("Hello"))

    def test_tokenize_accepts_bytes_with_nul(self):
        self.assertEqual(self.model.tokenize(b"a\x00b"), self.model.tokenize("a\x00b"))
        self.assertEqual(self.model.detokenize(self.model.tokenize(b"a\x00b")), b"a\x00b")

    def test_bad_input_is_an_error_not_a_crash(self):
        with self.assertRaises(smoa.SmoaError) as caught:
            self.model.tokenize(b"ok \xc3 then invalid UTF-8")
        self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT)
        with self.assertRaises(smoa.SmoaError) as caught:
            self.model.detokenize([17, self.model.n_vocab])
        self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT)
        self.assertIn(str(self.model.n_vocab), caught.exception.message)

    def test_tokenize_reports_size_when_buffer_is_small(self):
        text = b"The quick brown fox jumps over the lazy dog."
        expected = self.model.tokenize(text)
        lib, ctx = smoa.load_library(), self.model.context
        tokens = (ctypes.c_int32 * 3)()
        needed = ctypes.c_size_t()
        status = lib.smoa_tokenize(ctx.handle, self.model.handle, text, len(text), 0,
                                   tokens, 3, ctypes.byref(needed))
        self.assertEqual(status, smoa.Status.ERR_BUFFER_TOO_SMALL)
        self.assertEqual(needed.value, len(expected))

    def test_chat_format_matches_template(self):
        chats = golden_chats()
        rendered, _ = read_golden("smollm2-chat")
        for i, ((messages, add_prompt), text) in enumerate(zip(chats, rendered)):
            with self.subTest(index=i):
                self.assertEqual(self.model.chat_format(messages, add_prompt), text)

    def test_chat_format_accepts_dicts_and_family_name(self):
        messages = [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"}]
        expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        self.assertEqual(self.model.chat_format(messages, add_assistant_prompt=False), expected)
        self.assertEqual(
            self.model.chat_format(messages, template="chatml"),
            expected + "<|im_start|>assistant\n")

    def test_long_outputs_grow_the_buffer(self):
        # Both are longer than the binding's first buffer.
        self.assertEqual(self.model.meta("tokenizer.chat_template"), self.model.chat_template)
        text = self.model.chat_format([("user", "x" * 5000)], add_assistant_prompt=False)
        self.assertTrue(text.endswith("x" * 5000 + "<|im_end|>\n"))

    def test_chat_template_is_chatml(self):
        self.assertEqual(smoa.chat_template_family(self.model.chat_template), "chatml")

    def test_unknown_template_is_unsupported(self):
        with self.assertRaises(smoa.SmoaError) as caught:
            self.model.chat_format([("user", "Hi")], template="{{ unknown }}")
        self.assertEqual(caught.exception.status, smoa.Status.ERR_UNSUPPORTED)

    def test_vocab_load(self):
        with smoa.Model(MODEL_PATH, smoa.LoadMode.VOCAB) as m:
            self.assertEqual(m.n_vocab, 49152)
            self.assertEqual(m.tokenize("Hello world"), self.model.tokenize("Hello world"))
            self.assertEqual(len(m.tensors), 272)

    def test_metadata_load_has_no_tokenizer(self):
        with smoa.Model(MODEL_PATH, smoa.LoadMode.METADATA) as m:
            self.assertEqual(m.architecture, "llama")
            self.assertEqual(len(m.tensors), 272)
            self.assertIsNone(m.bos)
            self.assertIsNone(m.token_text(1))
            with self.assertRaises(smoa.SmoaError) as caught:
                m.tokenize("Hello")
            self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT)


class SentencePieceTest(unittest.TestCase):
    """llama.cpp's SentencePiece vocabulary file (committed, no weights)."""

    def test_continuation_keeps_the_leading_space(self):
        path = REPO / "tests" / "data" / "vocab" / "ggml-vocab-llama-spm.gguf"
        with smoa.Model(path, smoa.LoadMode.VOCAB) as m:
            hello, world = m.tokenize("Hello world")
            self.assertEqual(m.detokenize([hello, world]), b"Hello world")
            self.assertEqual(m.detokenize([world]), b"world")  # the start of a text
            self.assertEqual(m.detokenize([world], continuation=True), b" world")


class GoldenFilesTest(unittest.TestCase):
    """The committed vectors are well formed (no library needed)."""

    def test_pairs_are_consistent(self):
        plain, _ = read_golden("smollm2")
        chats, chat_ids = read_golden("smollm2-chat")
        self.assertGreaterEqual(len(plain), 46)
        self.assertEqual(plain[-len(chats):], chats, "chat prompts close smollm2.inp")
        for ids in chat_ids:
            self.assertEqual(ids[0], 1, "a chat prompt starts with <|im_start|>")
        self.assertTrue(all(c.startswith("<|im_start|>") for c in chats))


def _product(dims):
    result = 1
    for d in dims:
        result *= d
    return result


if __name__ == "__main__":
    unittest.main()
