"""Tests of multi-agent runs through the binding: Session.run() in single, MoA
and SMoA mode, multiple choice by likelihood, and agents on two models.

A tiny synthetic model answers (random weights, byte-level vocabulary), so the
runs take a fraction of a second each; its text is noise, so the tests check
the shape of a run (calls per stage, what the judge kept, the trace) and
compare runs with each other, never with expected text. The generative judge
reads no choice from noise and falls back to k responses chosen at random from
the seed, which still exercises every step. Sessions run on one thread, as in
test_session.
"""
import codecs
import os
import tempfile
import unittest

import smoa

SHAPE = dict(n_vocab=512, n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=128, n_ctx=1024,
             weight_type=smoa.TensorType.Q8_0, embd_type=smoa.TensorType.Q8_0, seed=5)
QUESTION = "What is 12 times 7?"
FAST = dict(max_tokens=8)  # per call: the runs stay quick, the prompts stay small
N_SEQ_MAX = 8              # n + 1 sequences at once: room for n = 4 proposers, not for 8
TIMING_KEYS = {"seconds", "wall_seconds", "ttft_seconds"}

# The library's answer is its raw bytes with every byte that does not start a
# valid UTF-8 sequence replaced by U+FFFD: the same replacement, in Python.
codecs.register_error("smoa_test_each_byte", lambda err: ("\ufffd", err.start + 1))


def without_timings(value):
    """A trace with its wall-clock times left out, to compare two runs."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


class RunCase(unittest.TestCase):
    """A synthetic model and one session, shared by the class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "tiny.gguf")
        smoa.write_synthetic_model(path, **SHAPE)
        cls.model = smoa.Model(path)
        cls.session = smoa.Session(cls.model, n_seq_max=N_SEQ_MAX, n_threads=1)

    @classmethod
    def tearDownClass(cls):
        cls.session.close()
        cls.model.close()
        cls.tmp.cleanup()

    def run_query(self, **options):
        return self.session.run(QUESTION, **dict(FAST, **options))

    def assert_calls(self, result, **per_stage):
        calls = {stage: result.cost(stage)["calls"] for stage in per_stage}
        self.assertEqual(calls, per_stage)

    def assert_invalid(self, **options):
        with self.assertRaises(smoa.SmoaError) as caught:
            self.run_query(**options)
        self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT, options)
        self.assertTrue(caught.exception.message, options)


class CallCountTest(RunCase):
    def test_smoa_without_moderator(self):
        # Per layer 4 proposers and 1 judge, over 2 layers; then the aggregator.
        result = self.run_query(mode="smoa", moderator="none")
        self.assert_calls(result, propose=8, judge=2, moderate=0, aggregate=1, total=11)
        self.assertEqual(result.layers, 2)
        self.assertEqual([layer["judge"]["kind"] for layer in result.trace["layers"]],
                         ["generative", "generative"])

    def test_smoa_with_a_separate_moderator(self):
        # The moderator asks after every layer but the last; noise never ends it.
        result = self.run_query(mode="smoa", moderator="judge", separate_moderator=True)
        self.assert_calls(result, propose=8, judge=2, moderate=1, aggregate=1, total=12)
        first, last = result.trace["layers"]
        self.assertIn("moderator", first)
        self.assertEqual(first["stop"], {"decided": False, "reason": "continue"})
        self.assertNotIn("stop", last)

    def test_smoa_with_the_scoring_judge(self):
        # One scoring prompt per response, nothing generated.
        result = self.run_query(mode="smoa", judge="score", moderator="none")
        self.assert_calls(result, propose=8, judge=8, aggregate=1, total=17)
        self.assertEqual(result.cost(smoa.Stage.JUDGE)["generated_tokens"], 0)

    def test_moa(self):
        result = self.run_query(mode="moa")
        self.assert_calls(result, propose=8, judge=0, moderate=0, aggregate=1, total=9)
        for layer in result.trace["layers"]:
            self.assertEqual(layer["kept"], [0, 1, 2, 3])
            self.assertEqual(layer["judge"], {"kind": "none"})
            self.assertEqual([p["role"] for p in layer["proposers"]], [None] * 4)
        self.assertEqual(result.trace["roles_source"], "none")

    def test_single(self):
        result = self.run_query(mode="single")
        self.assert_calls(result, propose=0, judge=0, aggregate=1, total=1)
        self.assertEqual(result.layers, 0)
        self.assertEqual(result.trace["layers"], [])

    def test_the_session_gets_every_sequence_back(self):
        self.run_query()
        seqs = [self.session.new_sequence() for _ in range(N_SEQ_MAX)]
        for seq in seqs:
            self.session.free(seq)


class ResultTest(RunCase):
    def test_kept_lists_are_valid(self):
        for judge in ("generative", "score", "self"):
            for seed in range(3):
                result = self.run_query(judge=judge, moderator="none", n=4, k=2, seed=seed)
                for layer in result.trace["layers"]:
                    kept = layer["kept"]
                    self.assertTrue(1 <= len(kept) <= 2, kept)
                    self.assertEqual(len(set(kept)), len(kept), kept)
                    self.assertTrue(set(kept) <= set(range(4)), kept)
                    if judge != "generative":  # the top k of the scores
                        scores = {s["agent"]: s["yes_minus_no"] for s in layer["judge"]["scores"]}
                        self.assertEqual(len(kept), 2)
                        self.assertGreaterEqual(min(scores[i] for i in kept),
                                                max(v for i, v in scores.items() if i not in kept))

    def test_same_seed_same_run(self):
        first, second = self.run_query(seed=7), self.run_query(seed=7)
        self.assertEqual(first.answer, second.answer)
        self.assertEqual(without_timings(first.trace), without_timings(second.trace))
        self.assertNotEqual(self.run_query(seed=8).answer, first.answer)

    def test_costs_agree_with_the_trace(self):
        result = self.run_query()
        self.assertEqual(result.costs, result.trace["cost"])
        self.assertEqual(result.cost(), result.cost("total"))
        self.assertEqual(result.cost(smoa.Stage.PROPOSE), result.costs["propose"])
        total = result.cost()
        for key in ("prompt_tokens", "prefill_tokens", "generated_tokens", "calls"):
            self.assertEqual(total[key], sum(result.cost(s)[key] for s in list(smoa.Stage)[:-1]))
        self.assertLessEqual(total["prefill_tokens"], total["prompt_tokens"])
        self.assertEqual(result.layers, result.trace["layers_run"])
        self.assertEqual(result.answer, result.trace["answer"])
        self.assertEqual(result.ttft, result.trace["ttft_seconds"])
        self.assertLessEqual(result.ttft, result.trace["wall_seconds"])

    def test_trace_echoes_the_options(self):
        roles = ["You are terse.", "You are verbose.", "You are kind."]
        result = self.run_query(n=3, k=1, layers=1, judge="score", moderator="number",
                                temperature=0.5, max_tokens=6, aggregator_max_tokens=5, seed=9,
                                roles=roles, role_in_system=True)
        self.assertEqual(result.trace["options"], dict(
            mode="smoa", n=3, k=1, layers=1, judge="score", moderator="agree-number",
            separate_moderator=False, temperature=0.5, max_tokens=6, judge_max_tokens=6,
            aggregator_max_tokens=5, seed=9, answer_choices=0, role_in_system=True))
        self.assertEqual(result.trace["question"], QUESTION)
        self.assertEqual((result.trace["roles"], result.trace["roles_source"]), (roles, "user"))
        [layer] = result.trace["layers"]
        self.assertEqual([p["role"] for p in layer["proposers"]], roles)
        self.assertTrue(all(p["generated_tokens"] <= 6 for p in layer["proposers"]))
        self.assertLessEqual(result.trace["aggregator"]["generated_tokens"], 5)

    def test_role_in_system_moves_the_persona(self):
        roles = ["You are terse.", "You are kind."]
        for role_in_system in (False, True):
            result = self.run_query(n=2, k=1, layers=1, roles=roles, role_in_system=role_in_system)
            [layer] = result.trace["layers"]
            for proposer, role in zip(layer["proposers"], roles):
                if role_in_system:  # the persona is the system message, the question the user's
                    self.assertEqual((proposer["system"], proposer["user"]), (role, QUESTION))
                else:  # no system message: the persona follows the shared question
                    self.assertIsNone(proposer["system"])
                    self.assertTrue(proposer["user"].startswith(QUESTION + "\n"), proposer["user"])
                    self.assertIn(role, proposer["user"])

    def test_personas_for_a_task_are_written_once(self):
        cache = os.path.join(self.tmp.name, "roles.txt")
        first = self.run_query(task="Multiply two numbers.", roles_cache=cache)
        roles = first.trace["roles"]
        self.assertIn(first.trace["roles_source"], ("model", "model+defaults"))
        self.assertGreater(first.cost("propose")["calls"], 8)  # the writing call(s) too
        with open(cache, encoding="utf-8", newline="") as written:
            self.assertEqual(written.read(), "".join(role + "\n" for role in roles))
        second = self.run_query(task="Multiply two numbers.", roles_cache=cache)
        self.assertEqual((second.trace["roles"], second.trace["roles_source"]), (roles, "cache"))
        self.assert_calls(second, propose=8, total=11)
        self.assertEqual([p["role"] for p in second.trace["layers"][0]["proposers"]], roles)


class ChoiceTest(RunCase):
    def test_multiple_choice_is_answered_by_likelihood(self):
        for mode, n_choices in (("single", 4), ("smoa", 4), ("smoa", 2)):
            result = self.run_query(mode=mode, answer_choices=n_choices)
            self.assertIn(result.choice, range(n_choices))
            self.assertEqual(result.answer, "ABCD"[result.choice])
            logits = result.choice_logits
            self.assertEqual(len(logits), n_choices)
            self.assertEqual(logits.index(max(logits)), result.choice)  # ties: the earlier letter
            for ours, traced in zip(logits, result.trace["aggregator"]["choice_logits"]):
                self.assertAlmostEqual(ours, traced, places=5)
            # One prefill, nothing generated.
            self.assertEqual(result.cost("aggregate")["calls"], 1)
            self.assertEqual(result.cost("aggregate")["generated_tokens"], 0)
            self.assertEqual(result.trace["options"]["answer_choices"], n_choices)

    def test_a_written_answer_chooses_nothing(self):
        result = self.run_query(mode="single")
        self.assertEqual((result.choice, result.choice_logits), (None, None))

    def test_bad_counts_are_refused_by_the_library(self):
        self.assert_invalid(answer_choices=1)
        self.assert_invalid(answer_choices=27)


class AgentsTest(RunCase):
    """Agents on two models, as in tests/unit/test_orchestrator.c: the query's
    session and a smaller model's session holding 3 sequences."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = os.path.join(cls.tmp.name, "other.gguf")
        smoa.write_synthetic_model(path, **dict(SHAPE, n_vocab=400, n_embd=32, n_layer=1,
                                                n_head=2, n_head_kv=1, n_ff=64, seed=9))
        cls.other_model = smoa.Model(path)
        cls.other = smoa.Session(cls.other_model, n_seq_max=3, n_threads=1)

    @classmethod
    def tearDownClass(cls):
        cls.other.close()
        cls.other_model.close()
        super().tearDownClass()

    def agents(self):
        """Budgets 5, 9 and 3; the second with its own role, the third on the other model."""
        return [smoa.Agent(max_tokens=5),
                smoa.Agent(role="You are a terse accountant.", max_tokens=9),
                smoa.Agent(session=self.other, max_tokens=3)]

    def run_agents(self, **options):
        return self.run_query(**dict(dict(n=3, k=1, layers=1, moderator="none",
                                          agents=self.agents()), **options))

    def test_each_agent_keeps_its_budget_and_role(self):
        result = self.run_agents(judge_session=self.other, aggregator_session=self.other)
        [layer] = result.trace["layers"]
        generated = [p["generated_tokens"] for p in layer["proposers"]]
        self.assertEqual(len(generated), 3)
        for tokens, budget in zip(generated, (5, 9, 3)):
            self.assertLessEqual(tokens, budget)
        self.assertGreater(generated[1], FAST["max_tokens"])  # its own budget, not the run's
        self.assertEqual(layer["proposers"][1]["role"], "You are a terse accountant.")
        self.assert_calls(result, propose=3, judge=1, aggregate=1, total=5)

    def test_the_aggregator_runs_on_its_session(self):
        here = self.run_agents(mode="moa")
        there = self.run_agents(mode="moa", aggregator_session=self.other)
        self.assertEqual(without_timings(here.trace["layers"]),
                         without_timings(there.trace["layers"]))
        self.assertNotEqual(here.answer, there.answer)  # another model's noise

    def test_the_judge_runs_on_its_session(self):
        # The scoring judge scores 3 prompts at once: the other session holds only 3.
        with self.assertRaises(smoa.SmoaError) as caught:
            self.run_agents(judge="score", judge_session=self.other)
        self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT)
        self.assertIn("n_seq_max >= 4", caught.exception.message)
        self.assert_calls(self.run_agents(judge="score"), judge=3)

    def test_sessions_made_for_the_call_live_through_it(self):
        # Only the run holds these sessions (the generator is consumed inside).
        agents = (smoa.Agent(session=smoa.Session(self.other_model, n_seq_max=2, n_threads=1))
                  for _ in range(3))
        result = self.run_agents(agents=agents)
        self.assert_calls(result, propose=3)

    def test_agents_must_be_one_per_proposer(self):
        with self.assertRaises(ValueError):
            self.run_agents(agents=self.agents()[:2])
        with self.assertRaises(TypeError):
            self.run_agents(agents=[smoa.Agent(), smoa.Agent(), self.other])

    def test_a_closed_session_is_refused(self):
        with smoa.Session(self.other_model, n_seq_max=2, n_threads=1) as closed:
            pass
        with self.assertRaises(ValueError):
            self.run_agents(agents=[smoa.Agent(), smoa.Agent(), smoa.Agent(session=closed)])
        with self.assertRaises(ValueError):
            self.run_agents(aggregator_session=closed)

    def test_bad_agent_settings_are_refused_by_the_library(self):
        self.assert_invalid(n=2, k=1, agents=[smoa.Agent(), smoa.Agent(role="")])
        self.assert_invalid(n=2, k=1, agents=[smoa.Agent(), smoa.Agent(temperature=float("inf"))])


class StreamingTest(RunCase):
    def test_pieces_make_the_answer(self):
        pieces = []
        result = self.run_query(on_answer=pieces.append, max_tokens=16)
        self.assertGreater(len(pieces), 1)
        self.assertTrue(all(isinstance(p, bytes) for p in pieces))
        self.assertEqual(b"".join(pieces).decode("utf-8", "smoa_test_each_byte"), result.answer)
        self.assertIsNotNone(result.ttft)

    def test_a_truthy_return_ends_the_answer(self):
        pieces = []

        def on_answer(piece):
            pieces.append(piece)
            return True

        result = self.run_query(on_answer=on_answer, max_tokens=16)
        self.assertEqual(len(pieces), 1)
        self.assertEqual(pieces[0].decode("utf-8", "smoa_test_each_byte"), result.answer)
        self.assertEqual(result.trace["aggregator"]["stop"], "stopped by callback")

    def test_exception_in_the_callback_is_raised_after_the_run(self):
        calls = []

        def on_answer(piece):
            calls.append(piece)
            raise KeyError("from the callback")

        with self.assertRaises(KeyError):
            self.run_query(on_answer=on_answer)
        self.assertEqual(len(calls), 1)  # not called again once it failed
        self.assertEqual(self.run_query(mode="single").cost()["calls"], 1)  # the session goes on

    def test_cancel_flag_stops_the_run(self):
        cancel = smoa.CancelFlag()
        cancel.set()
        with self.assertRaises(smoa.SmoaError) as caught:
            self.run_query(cancel=cancel)
        self.assertEqual(caught.exception.status, smoa.Status.ERR_CANCELLED)
        self.assertTrue(cancel.is_set())  # never cleared by the run


class OptionsTest(RunCase):
    def test_bad_values_are_refused_by_the_library(self):
        self.assert_invalid(n=4, k=5)
        self.assert_invalid(n=0)
        self.assert_invalid(n=17)
        self.assert_invalid(k=0)
        self.assert_invalid(layers=0)
        self.assert_invalid(layers=9)
        self.assert_invalid(n=N_SEQ_MAX)  # needs n + 1 sequences
        self.assert_invalid(temperature=-1.0)
        self.assert_invalid(temperature=float("nan"))
        self.assert_invalid(max_tokens=0)
        self.assert_invalid(judge_max_tokens=0)
        self.assert_invalid(aggregator_max_tokens=0)
        self.assert_invalid(n=2, roles=["You are terse.", ""])
        with self.assertRaises(smoa.SmoaError) as caught:
            self.session.run("", **FAST)
        self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT)

    def test_unknown_names_are_refused_by_the_binding(self):
        for options in (dict(mode="dense"), dict(judge="vote"), dict(moderator="agree-number"),
                        dict(n=2, roles=["You are terse."]), dict(mode=2)):
            with self.assertRaises(ValueError, msg=options):
                self.run_query(**options)


if __name__ == "__main__":
    unittest.main()
