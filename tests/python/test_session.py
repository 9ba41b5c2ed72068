"""Tests of running models through the binding: sessions, sequences, generation.

Most tests use a tiny synthetic model (random weights, byte-level vocabulary)
written to a temporary folder, so they always run and take milliseconds; its
text is noise, so they compare runs with each other rather than with expected
text. The tests marked needs_model run SMOA_MODEL. Every session runs on one
thread: the models are small, and threads that wait on each other in OpenMP
barriers slow down badly when the machine is busy with other work.
"""
import math
import os
import tempfile
import threading
import unittest

import smoa
from test_binding import MODEL_PATH, needs_model

SHAPE = dict(n_vocab=320, n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=128, n_ctx=512,
             weight_type=smoa.TensorType.Q8_0, embd_type=smoa.TensorType.Q8_0, seed=2)
# Every token stays possible: varied bytes from the synthetic model, where
# greedy decoding soon repeats one token.
NOISY = dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)


def argmax(values):
    return max(range(len(values)), key=values.__getitem__)


class SyntheticCase(unittest.TestCase):
    """A synthetic model shared by the class; sessions made per test."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "tiny.gguf")
        smoa.write_synthetic_model(cls.path, **SHAPE)
        cls.model = smoa.Model(cls.path)
        cls.prompt = cls.model.tokenize(cls.model.chat_format([("user", "Hello there")]),
                                        parse_special=True)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()
        cls.tmp.cleanup()

    def session(self, **options):
        session = smoa.Session(self.model, n_threads=1, **options)
        self.addCleanup(session.close)
        return session

    def prefilled(self, session, prompt=None):
        seq = session.new_sequence()
        session.prefill(seq, self.prompt if prompt is None else prompt)
        return seq

    def generate_one(self, session, prompt=None, **options):
        return session.generate([self.prefilled(session, prompt)], **options)[0]

    def assert_status(self, status, fn, *args, **kwargs):
        with self.assertRaises(smoa.SmoaError) as caught:
            fn(*args, **kwargs)
        self.assertEqual(caught.exception.status, status, caught.exception)
        self.assertTrue(caught.exception.message)
        return caught.exception


# --- synthetic models --------------------------------------------------------


class SyntheticModelTest(SyntheticCase):
    def test_file_has_the_shape_asked_for(self):
        m = self.model
        self.assertEqual(m.architecture, "llama")
        self.assertEqual((m.n_vocab, m.n_embd, m.n_layer, m.n_head, m.n_head_kv, m.n_ff,
                          m.n_ctx_train), (320, 64, 2, 4, 2, 128, 512))
        types = {t.name: t.type_name for t in m.tensors}
        self.assertEqual(types["token_embd.weight"], "Q8_0")
        self.assertEqual(types["blk.1.ffn_down.weight"], "Q8_0")
        self.assertNotIn("output.weight", types)  # tied_output by default
        self.assertEqual(smoa.chat_template_family(m.chat_template), "chatml")
        self.assertTrue(m.is_eog(m.tokenize("<|im_end|>", parse_special=True)[0]))

    def test_same_seed_same_file(self):
        again = os.path.join(self.tmp.name, "again.gguf")
        other = os.path.join(self.tmp.name, "other.gguf")
        smoa.write_synthetic_model(again, **SHAPE)
        smoa.write_synthetic_model(other, **dict(SHAPE, seed=3, tied_output=0))
        with open(self.path, "rb") as a, open(again, "rb") as b:
            self.assertEqual(a.read(), b.read())
        with smoa.Model(other, smoa.LoadMode.METADATA) as m:
            self.assertIn("output.weight", [t.name for t in m.tensors])

    def test_bad_shape_is_refused(self):
        path = os.path.join(self.tmp.name, "bad.gguf")
        err = self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, smoa.write_synthetic_model,
                                 path, **dict(SHAPE, n_head=3))  # 64 is not a multiple of 3
        self.assertIn("heads", err.message)
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, smoa.write_synthetic_model,
                           path, **dict(SHAPE, weight_type=smoa.TensorType.Q4_K))  # 64 < 256
        self.assertFalse(os.path.exists(path))
        with self.assertRaises(TypeError):
            smoa.write_synthetic_model(path, n_layers=2)

    def test_tensor_type_names(self):
        for t in smoa.TensorType:
            self.assertEqual(smoa.tensor_type_name(t), t.name)
        self.assertIsNone(smoa.tensor_type_name(10 ** 6))


# --- sessions and sequences ------------------------------------------------------


class SessionTest(SyntheticCase):
    def test_lifecycle(self):
        with smoa.Session(self.model, n_ctx=64, n_seq_max=3, n_threads=1,
                          device="cpu") as session:
            self.assertEqual(session.device, "cpu")
            self.assertEqual(session.n_ctx, 64)
            self.assertIs(session.model, self.model)
            self.assertEqual(smoa.load_library().smoa_session_model(session.handle),
                             self.model.handle.value)
            seqs = [session.new_sequence() for _ in range(3)]
            self.assertEqual(len(set(seqs)), 3)
            self.assertEqual([session.length(s) for s in seqs], [0, 0, 0])
            self.assert_status(smoa.Status.ERR_CONTEXT_FULL, session.new_sequence)
            session.free(seqs[1])
            self.assertEqual(session.new_sequence(), seqs[1])  # the id is reused
        session.close()  # twice is harmless
        with self.assertRaises(ValueError):
            session.new_sequence()

    def test_defaults_come_from_the_model(self):
        session = self.session()
        self.assertEqual(session.n_ctx, 512)  # the training context (under 4096)

    def test_bad_options_are_refused(self):
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, smoa.Session, self.model,
                           n_ctx=1024)  # more than the training context
        with smoa.Model(self.path, smoa.LoadMode.VOCAB) as vocab_only:
            err = self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, smoa.Session, vocab_only)
        self.assertIn("SMOA_LOAD_FULL", err.message)

    def test_cuda_without_cuda_is_unsupported(self):
        if smoa.has_cuda():
            self.skipTest("this build has CUDA")
        self.assert_status(smoa.Status.ERR_UNSUPPORTED, smoa.Session, self.model,
                           device=smoa.Device.CUDA)

    def test_closed_model_is_refused(self):
        model = smoa.Model(self.path)
        session = smoa.Session(model, n_threads=1)
        model.close()
        with self.assertRaises(ValueError):
            session.new_sequence()
        session.close()

    def test_prefill_gives_logits_and_hidden_state(self):
        session = self.session()
        seq = session.new_sequence()
        self.assertIsNone(session.logits(seq))
        self.assertIsNone(session.hidden(seq))
        session.prefill(seq, self.prompt)
        self.assertEqual(session.length(seq), len(self.prompt))
        logits, hidden = session.logits(seq), session.hidden(seq)
        self.assertEqual((logits.typecode, len(logits)), ("f", self.model.n_vocab))
        self.assertEqual(len(hidden), self.model.n_embd)
        self.assertTrue(all(math.isfinite(v) for v in logits))
        self.assertTrue(all(math.isfinite(v) for v in hidden))
        [result] = session.generate([seq], max_tokens=1, sampling=smoa.Sampling.greedy())
        self.assertEqual(result.tokens, [argmax(logits)])
        session.decode({seq: result.tokens[0]})
        self.assertNotEqual(session.logits(seq), logits)  # a copy: the earlier one stays
        self.assertIsNone(session.logits(999))

    def test_decode_matches_prefill(self):
        session = self.session()
        a, b = self.prefilled(session), self.prefilled(session, self.prompt[:-3])
        session.decode({a: 65, b: 66})
        session.decode([b], [67])
        fresh_a = self.prefilled(session, self.prompt + [65])
        fresh_b = self.prefilled(session, self.prompt[:-3] + [66, 67])
        for seq, fresh in ((a, fresh_a), (b, fresh_b)):
            self.assertEqual(session.length(seq), session.length(fresh))
            for x, y in zip(session.logits(seq), session.logits(fresh)):
                self.assertAlmostEqual(x, y, delta=1e-3 * (1 + abs(y)))
        with self.assertRaises(ValueError):
            session.decode([a, b], [1])
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.decode, [a, a], [1, 2])
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.decode,
                           {a: self.model.n_vocab})

    def test_truncate_then_prefill_again(self):
        session = self.session()
        seq = self.prefilled(session, self.prompt + [70, 71, 72])
        session.truncate(seq, len(self.prompt) - 1)
        self.assertEqual(session.length(seq), len(self.prompt) - 1)
        self.assertIsNone(session.logits(seq))  # they belonged to a dropped token
        session.prefill(seq, self.prompt[-1:])
        fresh = self.prefilled(session)
        self.assertEqual(list(session.logits(seq)), list(session.logits(fresh)))
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.truncate, seq, 1000)

    def test_fork_copies_the_state(self):
        session = self.session()
        src = self.prefilled(session)
        fork = session.fork(src)
        self.assertNotEqual(fork, src)
        self.assertEqual(session.length(fork), len(self.prompt))
        self.assertEqual(session.logits(fork), session.logits(src))
        self.assertEqual(session.hidden(fork), session.hidden(src))
        session.free(src)  # the fork keeps the shared pages
        self.assertEqual(session.generate([fork], max_tokens=4)[0].stop_reason,
                         smoa.StopReason.MAX_TOKENS)
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.fork, src)

    def test_prompt_too_long_is_context_full(self):
        session = self.session(n_ctx=16)
        seq = session.new_sequence()
        err = self.assert_status(smoa.Status.ERR_CONTEXT_FULL, session.prefill, seq,
                                 self.prompt[:10] * 2)
        self.assertIn("16", err.message)
        self.assertEqual(session.length(seq), 0)  # left as it was
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.prefill, seq, [])

    def test_kv_budget_is_context_full(self):
        session = self.session(n_ctx=64, kv_tokens=32)
        self.prefilled(session, self.prompt[:20])
        self.assert_status(smoa.Status.ERR_CONTEXT_FULL, self.prefilled, session,
                           self.prompt[:20])


# --- generation --------------------------------------------------------------


class GenerateTest(SyntheticCase):
    def test_greedy_is_deterministic_across_sessions(self):
        first = self.generate_one(self.session(), max_tokens=24, sampling=smoa.Sampling.greedy())
        second = self.generate_one(self.session(), max_tokens=24,
                                   sampling=smoa.Sampling.greedy())
        self.assertEqual(first, second)
        self.assertEqual(first.stop_reason, smoa.StopReason.MAX_TOKENS)
        self.assertEqual(len(first.tokens), 24)
        self.assertEqual(first.text, first.raw.decode("utf-8", errors="replace"))

    def test_batch_equals_single_runs(self):
        session = self.session()
        seqs = [self.prefilled(session) for _ in range(3)]
        greedy = session.generate(seqs, max_tokens=16, sampling=smoa.Sampling.greedy())
        sampling = [smoa.Sampling(seed=s, **NOISY) for s in (1, 2, 3)]
        seqs = [self.prefilled(session) for _ in range(3)]
        sampled = session.generate(seqs, max_tokens=16, sampling=sampling)
        for i in range(3):
            self.assertEqual(greedy[i], self.generate_one(
                self.session(), max_tokens=16, sampling=smoa.Sampling.greedy()))
            self.assertEqual(sampled[i], self.generate_one(
                self.session(), max_tokens=16, sampling=sampling[i]))
        self.assertEqual(greedy[0], greedy[2])
        self.assertNotEqual(sampled[0].tokens, sampled[1].tokens)

    def test_fork_equals_fresh_prefill(self):
        session = self.session()
        base = self.prefilled(session)
        forks = [session.fork(base), session.fork(base)]
        from_forks = session.generate(forks, max_tokens=16, sampling=smoa.Sampling.greedy())
        fresh = self.generate_one(session, max_tokens=16, sampling=smoa.Sampling.greedy())
        self.assertEqual(from_forks, [fresh, fresh])
        self.assertEqual(session.length(base), len(self.prompt))  # forks wrote their own pages

    def test_max_tokens_per_sequence(self):
        session = self.session()
        seqs = [self.prefilled(session) for _ in range(3)]
        results = session.generate(seqs, max_tokens=[3, 1, 5], sampling=smoa.Sampling.greedy())
        self.assertEqual([len(r.tokens) for r in results], [3, 1, 5])
        with self.assertRaises(ValueError):
            session.generate(seqs, max_tokens=[3, 1])

    def test_sequence_holds_all_generated_tokens_but_the_last(self):
        session = self.session()
        seq = self.prefilled(session)
        [result] = session.generate([seq], max_tokens=8, sampling=smoa.Sampling.greedy())
        self.assertEqual(session.length(seq), len(self.prompt) + 7)
        # The logits are still those that chose the last token.
        self.assertEqual(argmax(session.logits(seq)), result.tokens[-1])

    def test_stop_string_ends_the_text(self):
        session = self.session()
        base = self.prefilled(session)
        sampling = smoa.Sampling(seed=4, **NOISY)
        [full] = session.generate([session.fork(base)], max_tokens=48, sampling=sampling)
        self.assertGreater(len(full.raw), 24, "the synthetic text is too short for this test")
        stop = full.raw[12:15].replace(b"\0", b"")
        [cut] = session.generate([session.fork(base)], max_tokens=48, sampling=sampling,
                                 stop=[stop, "never in this noise \u00e9\u00e9\u00e9"])
        self.assertEqual(cut.stop_reason, smoa.StopReason.STRING)
        self.assertEqual(cut.raw, full.raw[:full.raw.find(stop)])
        self.assertEqual(cut.tokens, full.tokens[:len(cut.tokens)])

    def test_streamed_pieces_make_the_text(self):
        session = self.session()
        seqs = [self.prefilled(session) for _ in range(3)]
        for stop in ([], ["\n", "xyz"]):  # with stop strings, pieces are held back
            with self.subTest(stop=stop):
                forks = [session.fork(seq) for seq in seqs]
                pieces = {seq: [] for seq in forks}
                tokens = {seq: [] for seq in forks}

                def on_token(seq, token, piece):
                    pieces[seq].append(piece)
                    tokens[seq].append(token)

                sampling = [smoa.Sampling(seed=s, **NOISY) for s in (5, 6, 7)]
                results = session.generate(forks, max_tokens=32, sampling=sampling, stop=stop,
                                           on_token=on_token)
                for seq, result in zip(forks, results):
                    self.assertEqual(b"".join(pieces[seq]), result.raw)
                    self.assertTrue(set(tokens[seq]) <= set(result.tokens))
                    session.free(seq)

    def test_callback_stops_its_sequence(self):
        session = self.session()
        seqs = [self.prefilled(session) for _ in range(2)]
        stopped = []

        def on_token(seq, token, piece):
            if seq == seqs[1]:
                stopped.append(token)
                return True
            return None

        results = session.generate(seqs, max_tokens=32, sampling=smoa.Sampling(seed=1, **NOISY),
                                   on_token=on_token)
        self.assertEqual([r.stop_reason for r in results],
                         [smoa.StopReason.MAX_TOKENS, smoa.StopReason.CALLBACK])
        self.assertEqual(results[1].tokens[-1], stopped[0])
        self.assertEqual(len(stopped), 1)

    def test_cancel_returns_what_was_made(self):
        def set_in_a_thread(flag):
            thread = threading.Thread(target=flag.set)
            thread.start()
            thread.join()

        for how in (smoa.CancelFlag.set, set_in_a_thread):
            with self.subTest(how=how.__name__):
                self.assert_cancelled_at_the_fifth_piece(how)

    def assert_cancelled_at_the_fifth_piece(self, cancel_with):
        session = self.session()
        seqs = [self.prefilled(session) for _ in range(2)]
        cancel = smoa.CancelFlag()
        calls = []

        def on_token(seq, token, piece):
            calls.append(seq)
            if len(calls) == 5:
                cancel_with(cancel)

        results = session.generate(seqs, max_tokens=32, sampling=smoa.Sampling(seed=2, **NOISY),
                                   on_token=on_token, cancel=cancel)
        self.assertTrue(cancel.is_set())  # generate never clears it
        for seq, result in zip(seqs, results):
            self.assertEqual(result.stop_reason, smoa.StopReason.CANCELLED)
            self.assertLess(len(result.tokens), 32)
            self.assertGreaterEqual(len(result.tokens), calls.count(seq))
            # Cancelled between steps: every token made was decoded.
            self.assertEqual(session.length(seq), len(self.prompt) + len(result.tokens))

    def test_flag_set_before_the_start_cancels_at_once(self):
        session = self.session()
        cancel = smoa.CancelFlag()
        cancel.set()
        result = self.generate_one(session, cancel=cancel)
        self.assertEqual((result.stop_reason, result.tokens, result.raw),
                         (smoa.StopReason.CANCELLED, [], b""))
        cancel.clear()
        self.assertFalse(cancel.is_set())
        self.assertEqual(self.generate_one(session, max_tokens=2, cancel=cancel).stop_reason,
                         smoa.StopReason.MAX_TOKENS)

    def test_exception_in_callback_is_raised_after_the_generation(self):
        session = self.session()
        seqs = [self.prefilled(session) for _ in range(2)]
        calls = []

        def on_token(seq, token, piece):
            calls.append(seq)
            if len(calls) == 3:
                raise KeyError("from the callback")

        with self.assertRaises(KeyError):
            session.generate(seqs, max_tokens=64, sampling=smoa.Sampling(seed=3, **NOISY),
                             on_token=on_token)
        self.assertEqual(len(calls), 3)  # not called again once it failed
        self.assertLess(session.length(seqs[0]), len(self.prompt) + 64)  # stopped early
        fresh = [self.prefilled(session)]  # the session goes on working
        self.assertEqual(session.generate(fresh, max_tokens=2)[0].stop_reason,
                         smoa.StopReason.MAX_TOKENS)

    def test_generation_stops_at_the_context_size(self):
        session = self.session(n_ctx=16)
        seq = self.prefilled(session, self.prompt[:10])
        [result] = session.generate([seq], max_tokens=100, sampling=smoa.Sampling.greedy())
        self.assertEqual(result.stop_reason, smoa.StopReason.CONTEXT)
        self.assertEqual(len(result.tokens), 16 - 10 + 1)  # the last one is never decoded
        self.assertEqual(session.length(seq), 16)

    def test_invalid_sampling_is_refused(self):
        bad = smoa.Sampling(temperature=-1)
        err = self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, bad.check)
        self.assertIn("temperature", err.message)
        session = self.session()
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, self.generate_one, session,
                           sampling=bad)
        seqs = [self.prefilled(session) for _ in range(2)]
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.generate, seqs,
                           sampling=[smoa.Sampling(), smoa.Sampling(top_p=2)])
        with self.assertRaises(TypeError):
            smoa.Sampling(temprature=0.5)

    def test_sampling_defaults_are_the_library_s(self):
        s = smoa.Sampling(top_k=7)
        self.assertAlmostEqual(s.temperature, 0.8, places=6)
        self.assertEqual((s.top_k, s.penalty_last_n, s.seed), (7, 64, 0))
        self.assertEqual(repr(s), "Sampling(top_k=7)")
        s.check()
        with self.assertRaises(AttributeError):
            s.no_such_field

    def test_generate_needs_logits(self):
        session = self.session()
        err = self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.generate,
                                 [session.new_sequence()])
        self.assertIn("prefill", err.message)
        seq = self.prefilled(session)
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.generate, [seq, seq])
        self.assert_status(smoa.Status.ERR_INVALID_ARGUMENT, session.generate, [seq], stop=[""])


# --- with the default model -------------------------------------------------


@needs_model
class RealModelTest(unittest.TestCase):
    QUESTION = "What is the capital of France?"

    @classmethod
    def setUpClass(cls):
        cls.model = smoa.Model(MODEL_PATH)
        cls.session = smoa.Session(cls.model, n_ctx=256, n_threads=1)

    @classmethod
    def tearDownClass(cls):
        cls.session.close()
        cls.model.close()

    def test_chat_answer(self):
        prompt = self.model.chat_format([("user", self.QUESTION)])
        seq = self.session.new_sequence()
        self.addCleanup(self.session.free, seq)
        self.session.prefill(seq, self.model.tokenize(prompt, parse_special=True))
        logits = self.session.logits(seq)
        self.assertEqual(len(logits), 49152)
        self.assertTrue(all(math.isfinite(v) for v in logits))
        [answer] = self.session.generate([seq], max_tokens=16, sampling=smoa.Sampling.greedy())
        self.assertEqual(answer.tokens[0], argmax(logits))
        self.assertIn(answer.stop_reason, (smoa.StopReason.MAX_TOKENS, smoa.StopReason.EOG))
        # Greedy, the 135M model does not name Paris ("L'Étoile, la
        # Marseillaise, la femme au"): this asserts words, not facts.
        text = answer.raw.decode("utf-8")  # complete characters, no replacement
        self.assertGreaterEqual(len([w for w in text.split() if w[:1].isalpha()]), 3, text)


if __name__ == "__main__":
    unittest.main()
