"""tuned_client.trial(): the TUNED_* contract, metric lines, atomic checkpoints (no daemon)."""

from __future__ import annotations

import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    from . import support
except ImportError:  # run from inside tests/
    import support  # type: ignore[no-redef]

import tuned_client
from tuned_client import TrialDiverged, TrialSetupError

EXAMPLE = os.path.join(support.PACKAGE, "examples", "quickstart_trial.py")


def managed_env(tmp: str, **overrides: str) -> dict:
    env = {
        "TUNED_CONFIG": '{"batch_size":64,"lr":0.003,"optimizer":"adamw","schedule":{"kind":"constant"}}',
        "TUNED_SEED": "42",
        "TUNED_START_STEP": "100",
        "TUNED_END_STEP": "200",
        "TUNED_RESTORE_DIR": os.path.join(tmp, "restore"),
        "TUNED_CHECKPOINT_DIR": os.path.join(tmp, "ckpt"),
        "TUNED_TASK": "3",
        "TUNED_TRIAL": "7",
        "TUNED_SEGMENT": "19",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@support.limit_all(10)
class ManagedTrialTests(unittest.TestCase):
    """Under tuned (TUNED_SEGMENT set): the variables, exactly as the worker sets them."""

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tc-trial-")
        os.makedirs(os.path.join(self.tmp, "restore"))
        os.makedirs(os.path.join(self.tmp, "ckpt"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_reads_every_variable_with_its_type(self) -> None:
        t = tuned_client.trial(argv=["--config", '{"lr": 9}', "--steps", "5"], environ=managed_env(self.tmp))
        self.assertTrue(t.managed)
        self.assertEqual(t.config, {"batch_size": 64, "lr": 0.003, "optimizer": "adamw", "schedule": {"kind": "constant"}})
        self.assertIs(type(t.config["batch_size"]), int)  # ints stay ints
        self.assertIs(type(t.config["lr"]), float)
        self.assertEqual((t.seed, t.start_step, t.end_step), (42, 100, 200))
        self.assertEqual(t.restore_dir, os.path.join(self.tmp, "restore"))
        self.assertTrue(t.resumed)
        self.assertEqual(t.checkpoint_dir, os.path.join(self.tmp, "ckpt"))
        self.assertEqual((t.task_id, t.trial_id, t.segment_id), (3, 7, 19))
        self.assertEqual(list(t.steps()), list(range(101, 201)))  # the command line was not read

    def test_empty_restore_dir_is_a_fresh_start(self) -> None:
        t = tuned_client.trial(environ=managed_env(self.tmp, TUNED_RESTORE_DIR="", TUNED_START_STEP="0"))
        self.assertIsNone(t.restore_dir)
        self.assertFalse(t.resumed)
        self.assertIsNone(t.load())
        self.assertEqual(t.load(default={"w": 0}), {"w": 0})
        self.assertEqual(t.steps(), range(1, 201))

    def test_malformed_variables_name_the_variable(self) -> None:
        cases = [
            ({"TUNED_START_STEP": "abc"}, "TUNED_START_STEP must be a non-negative integer, got 'abc'"),
            ({"TUNED_SEED": "-1"}, "TUNED_SEED must be a non-negative integer, got -1"),
            ({"TUNED_END_STEP": "50"}, "TUNED_END_STEP (50) is before TUNED_START_STEP (100)"),
            ({"TUNED_CONFIG": "[1, 2]"}, "TUNED_CONFIG must be a JSON object"),
            ({"TUNED_CONFIG": "{lr: 1}"}, "TUNED_CONFIG is not valid JSON"),
            ({"TUNED_CHECKPOINT_DIR": None}, "TUNED_CHECKPOINT_DIR is not set, but TUNED_SEGMENT is"),
        ]
        for overrides, message in cases:
            with self.subTest(overrides=overrides):
                with self.assertRaises(TrialSetupError) as cm:
                    tuned_client.trial(environ=managed_env(self.tmp, **overrides))
                self.assertIn(message, str(cm.exception))


@support.limit_all(10)
class StandAloneTrialTests(unittest.TestCase):
    """By hand: command-line options, then TUNED_* variables, then defaults."""

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tc-trial-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_defaults_without_anything(self) -> None:
        t = tuned_client.trial(argv=[], environ={}, quiet=True)
        self.addCleanup(shutil.rmtree, t.checkpoint_dir, True)
        self.assertFalse(t.managed)
        self.assertEqual(t.config, {})
        self.assertEqual((t.seed, t.start_step, t.end_step), (0, 0, 100))
        self.assertIsNone(t.restore_dir)
        self.assertTrue(os.path.isdir(t.checkpoint_dir))
        self.assertEqual(os.listdir(t.checkpoint_dir), [])

    def test_options_win_over_variables_and_defaults(self) -> None:
        cfg = os.path.join(self.tmp, "cfg.json")
        with open(cfg, "w") as f:
            f.write('{"lr": 0.5, "batch_size": 8}')
        ckpt = os.path.join(self.tmp, "c")
        t = tuned_client.trial(
            argv=["train.py-arg", "--config", "@" + cfg, "--seed=9", "--steps", "30", "--checkpoint-dir", ckpt, "--other", "x"],
            environ={"TUNED_CONFIG": '{"lr": 1}', "TUNED_SEED": "1", "TUNED_END_STEP": "7"},
            default_config={"lr": 0.1}, default_steps=5, quiet=True)
        self.assertEqual(t.config, {"lr": 0.5, "batch_size": 8})
        self.assertEqual((t.seed, t.start_step, t.end_step), (9, 0, 30))
        self.assertEqual(t.checkpoint_dir, ckpt)
        self.assertTrue(os.path.isdir(ckpt))
        t2 = tuned_client.trial(argv=[], environ={"TUNED_CONFIG": '{"lr": 1}', "TUNED_END_STEP": "7",
                                                  "TUNED_CHECKPOINT_DIR": ckpt}, default_config={"lr": 0.1}, quiet=True)
        self.assertEqual((t2.config, t2.end_step), ({"lr": 1}, 7))
        t3 = tuned_client.trial(argv=[], environ={"TUNED_CHECKPOINT_DIR": ckpt}, default_config={"lr": 0.1},
                                default_steps=12, quiet=True)
        self.assertEqual((t3.config, t3.end_step), ({"lr": 0.1}, 12))

    def test_bad_options_are_clear_errors(self) -> None:
        cases = [
            (["--restore", self.tmp], "--restore %s needs --start-step N" % self.tmp),
            (["--config", "{oops"], "--config is not valid JSON"),
            (["--config", "@/nonexistent/c.json"], "--config @/nonexistent/c.json: cannot read the file"),
            (["--steps", "ten"], "--steps must be a non-negative integer, got 'ten'"),
            (["--start-step", "50", "--steps", "10"], "the end step 10 is before the start step 50"),
            (["--restore", "/nonexistent/ck", "--start-step", "5"], "/nonexistent/ck, is not a directory"),
            (["--seed"], "--seed needs a value"),
        ]
        for argv, message in cases:
            with self.subTest(argv=argv):
                with self.assertRaises(TrialSetupError) as cm:
                    tuned_client.trial(argv=argv, environ={"TUNED_CHECKPOINT_DIR": self.tmp}, quiet=True)
                self.assertIn(message, str(cm.exception))

    def test_announces_a_stand_alone_run_on_stderr(self) -> None:
        out = subprocess.run(
            [sys.executable, "-c", "import tuned_client; tuned_client.trial(default_config={'lr': 0.1}, default_steps=7)",
             "--checkpoint-dir", self.tmp],
            env={"PYTHONPATH": support.SRC, "PATH": os.environ.get("PATH", "")}, capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "")
        self.assertIn('stand-alone run (not under tuned): config {"lr": 0.1}, seed 0, steps 0->7', out.stderr)


@support.limit_all(10)
class ReportTests(unittest.TestCase):
    """report(): the exact line of the grammar, or an exception before anything is printed."""

    def setUp(self) -> None:
        self.out = io.StringIO()
        self.t = tuned_client.Trial(config={}, seed=0, start_step=0, end_step=10, restore_dir=None,
                                    checkpoint_dir=tempfile.gettempdir(), out=self.out)

    def test_prints_the_grammar_and_round_trips_doubles(self) -> None:
        line = self.t.report(12, {"val/acc": 0.91, "bleu-4": 31}, train_loss=0.1 + 0.2, lr=3e-4, gns=1e-05)
        self.assertEqual(line, "tuned: step=12 val/acc=0.91 bleu-4=31 train_loss=0.30000000000000004 lr=0.0003 gns=1e-05")
        self.assertEqual(self.out.getvalue(), line + "\n")
        self.assertEqual(float("0.30000000000000004"), 0.1 + 0.2)

    def test_numbers_that_are_not_floats(self) -> None:
        class Scalar:  # a numpy scalar or a 0-d tensor: has __float__
            def __float__(self) -> float:
                return 0.25

        class Index:  # a numpy integer as the step
            def __index__(self) -> int:
                return 5

        self.assertEqual(self.t.report(Index(), loss=Scalar()), "tuned: step=5 loss=0.25")

    def test_rejects_bad_names_values_and_steps_printing_nothing(self) -> None:
        bad = [
            (lambda: self.t.report(1, {"1st": 0.5}), ValueError, "metric name '1st' is not allowed"),
            (lambda: self.t.report(1, {"val loss": 0.5}), ValueError, "metric name 'val loss' is not allowed"),
            (lambda: self.t.report(1, {"précision": 0.5}), ValueError, "is not allowed"),
            (lambda: self.t.report(1, {"a=b": 0.5}), ValueError, "is not allowed"),
            (lambda: self.t.report(1, {"": 0.5}), ValueError, "is not allowed"),
            (lambda: self.t.report(1, step=3), ValueError, "'step' is the step number"),
            (lambda: self.t.report(1, gns=1.0, gradient_noise_scale=2.0), ValueError, "given twice"),
            (lambda: self.t.report(1, {"lr": 1}, lr=2), ValueError, "given twice"),
            (lambda: self.t.report(1, val_loss="0.5"), TypeError, "metric 'val_loss' must be a number, got str '0.5'"),
            (lambda: self.t.report(1, val_loss=None), TypeError, "must be a number, got NoneType"),
            (lambda: self.t.report(1, ok=True), TypeError, "must be a number, got bool"),
            (lambda: self.t.report(1, z=1j), TypeError, "must be a number, got complex"),
            (lambda: self.t.report(1, big=10 ** 400), ValueError, "beyond a double's range"),
            (lambda: self.t.report(-1, loss=0.5), ValueError, "non-negative integer"),
            (lambda: self.t.report(1.5, loss=0.5), TypeError, "non-negative integer"),
            (lambda: self.t.report(True, loss=0.5), TypeError, "non-negative integer"),
            (lambda: self.t.report("3", loss=0.5), TypeError, "non-negative integer"),
            (lambda: self.t.report(1, [("loss", 0.5)]), TypeError, "mapping of metrics"),
        ]
        for call, kind, message in bad:
            with self.subTest(message=message):
                with self.assertRaises(kind) as cm:
                    call()
                self.assertIn(message, str(cm.exception))
        self.assertEqual(self.out.getvalue(), "")

    def test_non_finite_loss_is_printed_then_raises(self) -> None:
        with self.assertRaises(TrialDiverged) as cm:
            self.t.report(7, val_loss=float("nan"), lr=0.1)
        self.assertEqual(self.out.getvalue(), "tuned: step=7 val_loss=nan lr=0.1\n")
        self.assertEqual((cm.exception.step, cm.exception.metric), (7, "val_loss"))
        self.assertIn("val_loss is nan at step 7: the segment ends as diverged", str(cm.exception))
        with self.assertRaises(TrialDiverged):
            self.t.report(8, loss=float("-inf"))
        self.assertTrue(self.out.getvalue().endswith("tuned: step=8 loss=-inf\n"))

    def test_non_finite_other_metrics_are_just_recorded(self) -> None:
        self.assertEqual(self.t.report(9, grad_norm=float("inf"), ratio=float("nan"), loss_scale=float("inf")),
                         "tuned: step=9 grad_norm=inf ratio=nan loss_scale=inf")

    def test_stdout_is_flushed_for_every_line(self) -> None:
        script = ("import tuned_client, time\n"
                  "t = tuned_client.Trial(config={}, seed=0, start_step=0, end_step=1, restore_dir=None, checkpoint_dir='.')\n"
                  "t.report(1, loss=0.5)\ntime.sleep(30)\n")
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={"PYTHONPATH": support.SRC, "PATH": os.environ.get("PATH", "")})
        try:
            self.assertEqual(p.stdout.readline(), "tuned: step=1 loss=0.5\n")  # arrives while it sleeps
        finally:
            p.kill()
            p.wait()
            p.stdout.close()


@support.limit_all(10)
class CheckpointTests(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tc-ckpt-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ckpt = os.path.join(self.tmp, "ckpt")
        os.makedirs(self.ckpt)
        self.t = tuned_client.Trial(config={}, seed=0, start_step=0, end_step=10, restore_dir=None,
                                    checkpoint_dir=self.ckpt, managed=True)

    def resumed(self) -> tuned_client.Trial:
        return tuned_client.Trial(config={}, seed=0, start_step=10, end_step=20, restore_dir=self.ckpt,
                                  checkpoint_dir=os.path.join(self.tmp, "next"), managed=True)

    def test_json_round_trip_and_nothing_else_left(self) -> None:
        rng = random.Random(5)
        rng.random()
        path = self.t.save({"w": [1.5, -2.0], "rng": rng.getstate(), "nan": math.nan})
        self.assertEqual(path, os.path.join(self.ckpt, "state.json"))
        self.assertEqual(os.listdir(self.ckpt), ["state.json"])
        state = self.resumed().load()
        self.assertEqual(state["w"], [1.5, -2.0])
        self.assertTrue(math.isnan(state["nan"]))
        again = random.Random()
        again.setstate(tuned_client.rng_state(state["rng"]))
        self.assertEqual(again.random(), rng.random())

    def test_pickle_by_extension_keeps_tuples(self) -> None:
        self.t.save({"rng": random.Random(1).getstate(), "t": (1, 2)}, name="state.pkl")
        state = self.resumed().load("state.pkl")
        self.assertEqual(state["t"], (1, 2))
        self.assertEqual(state["rng"], random.Random(1).getstate())

    def test_callback_gets_a_temporary_path_with_the_same_suffix(self) -> None:
        seen = []

        def write(p: str) -> None:
            seen.append(p)
            self.assertFalse(os.path.exists(os.path.join(self.ckpt, "sub", "model.npy")))
            with open(p, "wb") as f:
                f.write(b"\x00weights")

        path = self.t.save(write, name="sub/model.npy")
        self.assertEqual(path, os.path.join(self.ckpt, "sub", "model.npy"))
        self.assertTrue(seen[0].endswith(".npy") and os.path.dirname(seen[0]) == os.path.dirname(path))
        self.assertEqual(os.listdir(os.path.join(self.ckpt, "sub")), ["model.npy"])
        def read(p: str) -> bytes:
            with open(p, "rb") as f:
                return f.read()

        self.assertEqual(self.resumed().load("sub/model.npy", loader=read), b"\x00weights")

    def test_callback_writing_a_directory(self) -> None:
        def write(p: str) -> None:
            os.makedirs(os.path.join(p, "shards"))
            with open(os.path.join(p, "shards", "0.bin"), "wb") as f:
                f.write(b"x")

        self.t.save(write, name="model")
        self.t.save(write, name="model")  # again: replaces the directory
        self.assertEqual(sorted(os.listdir(self.ckpt)), ["model"])
        self.assertTrue(os.path.isfile(os.path.join(self.ckpt, "model", "shards", "0.bin")))

    def test_a_failed_save_keeps_the_previous_file_and_leaves_no_temporary(self) -> None:
        self.t.save({"v": 1})

        def crash(p: str) -> None:
            with open(p, "w") as f:
                f.write('{"v": 2, "half')
            raise RuntimeError("disk on fire")

        with self.assertRaises(RuntimeError):
            self.t.save(crash)
        with self.assertRaises(FileNotFoundError) as cm:
            self.t.save(lambda p: None)
        self.assertIn("wrote nothing at the path it was given", str(cm.exception))
        with self.assertRaises(TypeError) as cm2:
            self.t.save({"f": object()})
        self.assertIn("cannot save dict as JSON", str(cm2.exception))
        self.assertEqual(os.listdir(self.ckpt), ["state.json"])
        self.assertEqual(self.resumed().load(), {"v": 1})

    def test_names_must_stay_inside_the_directory(self) -> None:
        for name in ["../escape.json", "/etc/x.json", "", "a/../../b", "."]:
            with self.subTest(name=name):
                with self.assertRaises(ValueError):
                    self.t.save({}, name=name)
        self.assertEqual(os.listdir(self.ckpt), [])

    def test_load_of_a_missing_file_lists_what_is_there(self) -> None:
        self.t.save({"v": 1}, name="other.json")
        with self.assertRaises(FileNotFoundError) as cm:
            self.resumed().load()
        self.assertIn("has no state.json (it holds: other.json)", str(cm.exception))


@support.limit_all(20)
class QuickstartExampleTests(unittest.TestCase):
    """examples/quickstart_trial.py by hand: two segments through a checkpoint equal one run."""

    def run_example(self, *args: str) -> list:
        out = subprocess.run([sys.executable, EXAMPLE, "--config", '{"lr": 0.3, "momentum": 0.8, "batch_size": 8}',
                              "--seed", "4", *args],
                             env={"PYTHONPATH": support.SRC, "PATH": os.environ.get("PATH", "")},
                             capture_output=True, text=True, timeout=15)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [line for line in out.stdout.splitlines() if line.startswith("tuned:")]

    def test_resume_is_exact(self) -> None:
        tmp = tempfile.mkdtemp(prefix="tc-qs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        whole = self.run_example("--steps", "80", "--checkpoint-dir", os.path.join(tmp, "whole"))
        first = self.run_example("--steps", "40", "--checkpoint-dir", os.path.join(tmp, "a"))
        second = self.run_example("--restore", os.path.join(tmp, "a"), "--start-step", "40", "--steps", "80",
                                  "--checkpoint-dir", os.path.join(tmp, "b"))
        self.assertEqual(len(whole), 4)
        self.assertEqual(first + second, whole)
        with open(os.path.join(tmp, "whole", "state.json")) as f, open(os.path.join(tmp, "b", "state.json")) as g:
            self.assertEqual(json.load(f), json.load(g))


@support.limit_all(20)
class DocumentedExampleTests(unittest.TestCase):
    """docs/COMMAND_WORKLOADS.md: its by-hand example (the first ```python block, which the
    Swift CommandSegmentTests run) and its tuned_client version (the ```py block of "From
    Python") print the same lines, and the client version resumes exactly."""

    def setUp(self) -> None:
        with open(os.path.join(support.REPO, "docs", "COMMAND_WORKLOADS.md"), encoding="utf-8") as f:
            doc = f.read()
        self.raw = doc.split("```python\n", 1)[1].split("```", 1)[0]
        section = doc.split("## From Python: `tuned_client`", 1)[1]
        self.client = section.split("```py\n", 1)[1].split("```", 1)[0]
        self.tmp = tempfile.mkdtemp(prefix="tc-doc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_segment(self, code: str, start: int, end: int, restore: str, checkpoint: str) -> str:
        os.makedirs(checkpoint, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": support.SRC, "TUNED_CONFIG": '{"lr":0.1}',
               "TUNED_SEED": "1", "TUNED_START_STEP": str(start), "TUNED_END_STEP": str(end),
               "TUNED_RESTORE_DIR": restore, "TUNED_CHECKPOINT_DIR": checkpoint,
               "TUNED_TASK": "1", "TUNED_TRIAL": "1", "TUNED_SEGMENT": "1"}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=15)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr, "")
        return out.stdout

    def test_the_client_version_prints_what_the_raw_contract_prints(self) -> None:
        raw = self.run_segment(self.raw, 0, 55, "", os.path.join(self.tmp, "raw"))
        whole = self.run_segment(self.client, 0, 55, "", os.path.join(self.tmp, "whole"))
        self.assertEqual(len(raw.splitlines()), 6)
        self.assertEqual(whole, raw)
        first = self.run_segment(self.client, 0, 30, "", os.path.join(self.tmp, "a"))
        second = self.run_segment(self.client, 30, 55, os.path.join(self.tmp, "a"), os.path.join(self.tmp, "b"))
        self.assertEqual(first + second, whole)


if __name__ == "__main__":
    unittest.main()
