"""Tests of evaluation through the binding: Session.evaluate(), report() and
summary().

A tiny synthetic model answers tests/data/eval_runner/small.jsonl (two
numeric questions, two multiple-choice ones, one open question with two
turns) in all three modes, so an evaluation takes about a second. Its answers
are noise: the tests check what is written, counted and resumed, never how
many answers are right.
"""
import json
import os
import pathlib
import tempfile
import unittest

import smoa

HERE = pathlib.Path(__file__).resolve().parent
SMALL = HERE.parent / "data" / "eval_runner" / "small.jsonl"
SHAPE = dict(n_vocab=512, n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=128, n_ctx=1024,
             weight_type=smoa.TensorType.Q8_0, embd_type=smoa.TensorType.Q8_0, seed=5)
FAST = dict(max_tokens=8)  # per call: the evaluations stay quick
MODES = ("single", "moa", "smoa")
ITEMS = ("add", "mul", "prime", "vowel", "haiku")
CHOICES = {"prime": 4, "vowel": 3}  # the multiple-choice items and their option counts


def read_results(out_dir):
    with open(os.path.join(out_dir, "results.jsonl"), encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def without_timings(value):
    """Results with their wall-clock times ("seconds") left out, to compare two
    evaluations."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


class EvalCase(unittest.TestCase):
    """A synthetic model, one session, and one complete evaluation of the small
    set (results and progress), shared by the class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "tiny.gguf")
        smoa.write_synthetic_model(path, **SHAPE)
        cls.model = smoa.Model(path)
        cls.session = smoa.Session(cls.model, n_seq_max=8, n_threads=1)
        cls.out_dir = os.path.join(cls.tmp.name, "complete")
        cls.progress = []
        cls.evaluate(cls.out_dir, on_progress=cls.progress.append)
        cls.results = read_results(cls.out_dir)

    @classmethod
    def tearDownClass(cls):
        cls.session.close()
        cls.model.close()
        cls.tmp.cleanup()

    @classmethod
    def evaluate(cls, out_dir, **options):
        cls.session.evaluate(SMALL, out_dir, **dict(FAST, **options))

    def new_dir(self):
        return tempfile.mkdtemp(dir=self.tmp.name)


class EvaluateTest(EvalCase):
    def test_every_item_in_every_mode_once(self):
        self.assertEqual(len(self.results), len(ITEMS) * len(MODES))
        self.assertEqual({(r["item"], r["mode"]) for r in self.results},
                         {(f"small/{item}", mode) for item in ITEMS for mode in MODES})
        self.assertTrue(all(r["status"] == "ok" for r in self.results),
                        [r.get("error") for r in self.results])

    def test_multiple_choice_is_scored_by_likelihood(self):
        for record in self.results:
            item = record["item"].split("/")[1]
            if item in CHOICES:
                self.assertEqual(record["scorer"], "likelihood")
                self.assertIn(record["prediction"], list("ABCD"[:CHOICES[item]]))
                self.assertEqual(record["answer"], record["prediction"])
            else:
                self.assertEqual(record["scorer"], "rating" if item == "haiku" else "numeric")

    def test_progress_follows_the_results(self):
        self.assertEqual([(p.item, p.mode) for p in self.progress],
                         [(r["item"], r["mode"]) for r in self.results])
        self.assertEqual([p.done for p in self.progress], list(range(1, 16)))
        for p in self.progress:
            self.assertEqual((p.dataset, p.total, p.resumed), ("small", 15, 0))
            self.assertLessEqual(p.done, p.total)
            self.assertGreaterEqual(p.elapsed, 0)
        self.assertIsNotNone(self.progress[0].eta)
        self.assertEqual(self.progress[-1].eta, 0)
        # Verdicts: every item but the open one (rated, not right or wrong).
        last = self.progress[-1]
        for mode in MODES:
            verdicts = [r["correct"] for r in self.results
                        if r["mode"] == mode and r["correct"] is not None]
            self.assertEqual(last.mode_done[mode], len(verdicts), mode)
            self.assertEqual(last.mode_correct[mode], sum(verdicts), mode)

    def test_a_second_call_appends_nothing(self):
        again = []
        self.evaluate(self.out_dir, on_progress=again.append)
        self.assertEqual(read_results(self.out_dir), self.results)
        self.assertEqual(again, [])  # called after each pair it runs: none

    def test_an_exception_in_on_progress_stops_it_and_the_next_call_resumes(self):
        out_dir = self.new_dir()
        calls = []

        def on_progress(progress):
            calls.append(progress)
            if progress.done == 4:
                raise KeyError("from the callback")

        with self.assertRaises(KeyError):
            self.evaluate(out_dir, on_progress=on_progress)
        self.assertEqual(len(calls), 4)
        first = read_results(out_dir)
        self.assertEqual(len(first), 4)
        resumed = []
        self.evaluate(out_dir, on_progress=resumed.append)
        self.assertEqual(len(resumed), 11)
        self.assertEqual((resumed[0].resumed, resumed[0].done), (4, 5))
        self.assertEqual(read_results(out_dir)[:4], first)
        self.assertEqual(without_timings(read_results(out_dir)), without_timings(self.results))

    def test_cancel_flag_stops_it_before_the_first_query(self):
        out_dir = self.new_dir()
        cancel = smoa.CancelFlag()
        cancel.set()
        with self.assertRaises(smoa.SmoaError) as caught:
            self.evaluate(out_dir, cancel=cancel)
        self.assertEqual(caught.exception.status, smoa.Status.ERR_CANCELLED)
        self.assertEqual(read_results(out_dir), [])

    def test_modes_and_limit_select_the_pairs(self):
        out_dir = self.new_dir()
        self.evaluate(out_dir, modes=["smoa", "single"], limit=2)
        results = read_results(out_dir)
        self.assertEqual(len(results), 4)
        self.assertEqual({r["mode"] for r in results}, {"single", "smoa"})
        self.assertEqual(len({r["item"] for r in results}), 2)

    def test_run_options_are_recorded_and_a_change_is_refused(self):
        out_dir = self.new_dir()
        self.evaluate(out_dir, modes=["single"], limit=1, n=3, k=1, role_in_system=True,
                      model_name="tiny", command="test")
        with open(os.path.join(out_dir, "run.json"), encoding="utf-8") as run_json:
            recorded = json.load(run_json)
        self.assertEqual(recorded["commands"], ["test"])
        settings = recorded["settings"]
        self.assertEqual((settings["n"], settings["k"], settings["role_in_system"],
                          settings["model"], settings["max_tokens"]), (3, 1, True, "tiny", 8))
        with self.assertRaises(smoa.SmoaError) as caught:
            self.evaluate(out_dir, modes=["single"], limit=1, n=4, model_name="tiny")
        self.assertEqual(caught.exception.status, smoa.Status.ERR_INVALID_ARGUMENT)
        self.assertIn("other settings", caught.exception.message)

    def test_unknown_names_are_refused_by_the_binding(self):
        for options in (dict(modes=["dense"]), dict(scorer="vote"), dict(moderator="agree")):
            with self.assertRaises(ValueError, msg=options):
                self.evaluate(self.new_dir(), **options)
        # What each item decides cannot be given.
        for options in (dict(mode="single"), dict(answer_choices=4), dict(on_answer=print)):
            with self.assertRaises(TypeError, msg=options):
                self.evaluate(self.new_dir(), **options)


class ReportTest(EvalCase):
    def test_report_is_written(self):
        path = smoa.report(self.out_dir)
        self.assertEqual(path, os.path.join(self.out_dir, "report.md"))
        with open(path, encoding="utf-8") as report:
            text = report.read()
        self.assertIn("small", text)
        for mode in MODES:
            self.assertIn(mode, text)

    def test_summary_counts_the_results(self):
        summary = smoa.summary(self.out_dir)
        self.assertEqual([(r.dataset, r.mode) for r in summary.results],
                         [("small", mode) for mode in MODES])
        for result in summary.results:
            records = [r for r in self.results if r["mode"] == result.mode]
            self.assertEqual(result.items, len(records))
            self.assertEqual(result.errors, 0)
            self.assertEqual(result.correct, sum(r["correct"] is True for r in records))
            self.assertLessEqual(result.accuracy_low, result.accuracy)
            self.assertLessEqual(result.accuracy, result.accuracy_high)
            tokens = [r["tokens"]["prompt"] + r["tokens"]["generated"] for r in records]
            self.assertAlmostEqual(result.total_tokens, sum(tokens) / len(tokens))
        # Four proposers each in MoA and SMoA, every response counted.
        self.assertEqual([a.mode for a in summary.agents], ["moa"] * 4 + ["smoa"] * 4)
        for agent in summary.agents:
            records = [r for r in self.results if r["mode"] == agent.mode]
            responses = [a for r in records for a in r["agents"] if a["name"] == agent.name]
            self.assertEqual(agent.responses, len(responses), agent.name)
            self.assertEqual(agent.kept, sum(a["kept"] for a in responses), agent.name)

    def test_a_directory_without_results_is_an_error(self):
        with self.assertRaises(smoa.SmoaError) as caught:
            smoa.summary(self.new_dir())
        self.assertEqual(caught.exception.status, smoa.Status.ERR_IO)
        self.assertTrue(caught.exception.message)


if __name__ == "__main__":
    unittest.main()
