"""Against the real daemon (`tuned serve` from $TUNED_BIN): a command workload written with
trial() tuned end to end, every Client method, and the daemon's errors as exceptions."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any, Dict, List, Optional

try:
    from . import support
except ImportError:  # run from inside tests/
    import support  # type: ignore[no-redef]

import tuned_client

DAEMON: Optional[support.Daemon] = None
WORK = ""

# A command workload written with trial(): noisy gradient descent on one weight, its state
# (weight and RNG) checkpointed as JSON. It reports what it saw of the contract as metrics.
TRAIN = textwrap.dedent("""\
    import random, sys
    import tuned_client

    t = tuned_client.trial()
    lr, batch, width = t.config["lr"], t.config["batch_size"], t.config["width"]
    for key, value, kind in (("lr", lr, float), ("batch_size", batch, int), ("width", width, int)):
        if type(value) is not kind:
            sys.exit(f"{key} arrived as {type(value).__name__}, not {kind.__name__}")
    state = t.load()
    if state is None:
        w, rng = 0.0, random.Random(t.seed)
    else:
        w, rng = state["w"], random.Random()
        rng.setstate(tuned_client.rng_state(state["rng"]))
    for step in t.steps():
        x = sum(rng.gauss(3.0, 1.0) for _ in range(batch)) / batch
        w -= lr * 2 * (w - x)
        if step % 5 == 0 or step == t.end_step:
            t.report(step, {"val_loss": (w - 3.0) ** 2, "train_loss": (w - x) ** 2, "lr": lr,
                            "contract/batch": batch, "contract/width": width, "contract/seed": t.seed, "contract/start": t.start_step,
                            "contract/resumed": int(t.resumed)})
    t.save({"w": w, "rng": rng.getstate()})
""")

SLOW = textwrap.dedent("""\
    import time, tuned_client
    t = tuned_client.trial()
    for step in t.steps():
        time.sleep(0.05)
        t.report(step, val_loss=1.0 / step)
    t.save({})
""")

DIVERGE = textwrap.dedent("""\
    import tuned_client
    t = tuned_client.trial()
    for step in t.steps():
        t.report(step, val_loss=float("nan") if step == 3 else 1.0)
    t.save({})
""")


def setUpModule() -> None:
    global DAEMON, WORK
    DAEMON = support.Daemon(workers=2).start()
    WORK = tempfile.mkdtemp(prefix="tc-e2e-")
    for name, text in (("train.py", TRAIN), ("slow.py", SLOW), ("diverge.py", DIVERGE)):
        with open(os.path.join(WORK, name), "w") as f:
            f.write(text)


def tearDownModule() -> None:
    if DAEMON is not None:
        DAEMON.stop()
    shutil.rmtree(WORK, ignore_errors=True)


def command_task(script: str, *, name: str, trials: int, steps: int, segment: int, seed: int = 7) -> Dict[str, Any]:
    return {
        "name": name,
        "workload": {"kind": "command", "command": [sys.executable, os.path.join(WORK, script)],
                     "env": {"PYTHONPATH": support.SRC}},
        "search": {"optimizer": "sgd", "lr": {"log_uniform": [0.01, 0.3]}, "batch_size": {"choice": [2, 4]},
                   "width": {"int_uniform": [1, 9]}},  # an own key of the program
        "strategy": {"kind": "random", "trials": trials, "max_retries": 0},
        "budget": {"steps": steps, "segment_steps": segment, "seed": seed},
        "objective": {"metric": "val_loss", "mode": "min"},
    }


def client() -> tuned_client.Client:
    assert DAEMON is not None
    return DAEMON.client()


def diagnose(c: tuned_client.Client, task_id: int) -> str:
    try:
        logs = c.call("trial.logs", {"task_id": task_id})
    except tuned_client.TunedError as e:
        logs = str(e)
    assert DAEMON is not None
    return f"trial.logs: {json.dumps(logs, indent=1)[:3000]}\ndaemon log:\n{DAEMON.log_tail()}"


@support.limit_all(45)
class CommandWorkloadTests(unittest.TestCase):
    def test_trial_workload_random_search_resumes_bit_exact(self) -> None:
        """2 trials × 2 segments; each trial's curve equals one uninterrupted run of the script."""
        with client() as c:
            task_id = c.submit(command_task("train.py", name="py-trial", trials=2, steps=20, segment=10))
            progress = io.StringIO()
            final = c.wait(task_id, file=progress)
            self.assertEqual(final.status, "completed", diagnose(c, task_id))
            self.assertIn(f"task {task_id} completed: 40/40 steps (100%), best val_loss", progress.getvalue())
            results = c.results(task_id)
            self.assertEqual(len(results.trials), 2)
            curves = c.call("task.curves", {"task_id": task_id})
        by_trial = {t["trial_id"]: {s["name"]: s for s in t["series"]} for t in curves["trials"]}
        for row in results.trials:
            with self.subTest(trial=row.trial_id):
                self.assertEqual((row.status, row.steps_done), ("completed", 20))
                series = by_trial[row.trial_id]
                # The contract as the program saw it: typed values (else it exits), the task's seed,
                # and segments [0, 10) fresh and [10, 20) restored from the first's checkpoint.
                self.assertEqual(series["contract/batch"]["values"], [row.config["batch_size"]] * 4)
                self.assertEqual(series["contract/width"]["values"], [row.config["width"]] * 4)
                self.assertEqual(series["contract/seed"]["values"], [7] * 4)
                self.assertEqual(series["contract/start"]["values"], [0, 0, 10, 10])
                self.assertEqual(series["contract/resumed"]["values"], [0, 0, 1, 1])
                # The same program run by hand in one segment, with the trial's config and seed.
                reference = self.run_by_hand(row.config, seed=7, steps=20)
                for metric in ("val_loss", "train_loss", "lr"):
                    self.assertEqual(series[metric]["steps"], [5, 10, 15, 20])
                    self.assertEqual(series[metric]["values"], [r[metric] for r in reference],
                                     f"{metric} of trial {row.trial_id} differs from one uninterrupted run")
                self.assertEqual(row.final_metrics["val_loss"], reference[-1]["val_loss"])
        best = min(results.trials, key=lambda t: t.final_metrics["val_loss"])
        self.assertEqual(results.best.trial_id if results.best else None, best.trial_id)
        self.assertEqual(results.best_config, best.config)

    def run_by_hand(self, config: Dict[str, Any], *, seed: int, steps: int) -> List[Dict[str, float]]:
        tmp = tempfile.mkdtemp(prefix="tc-ref-")
        try:
            out = subprocess.run(
                [sys.executable, os.path.join(WORK, "train.py"), "--config", json.dumps(config), "--seed", str(seed),
                 "--steps", str(steps), "--checkpoint-dir", tmp],
                env={"PYTHONPATH": support.SRC, "PATH": os.environ.get("PATH", "")},
                capture_output=True, text=True, timeout=20)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = []
        for line in out.stdout.splitlines():
            tokens = dict(tok.split("=", 1) for tok in line.split()[1:])
            rows.append({k: float(v) for k, v in tokens.items()})
        return rows

    def test_a_nan_loss_reported_through_trial_diverges_the_trial(self) -> None:
        with client() as c:
            task_id = c.submit(command_task("diverge.py", name="py-diverge", trials=1, steps=10, segment=10))
            final = c.wait(task_id, progress=False)
            self.assertEqual(final.status, "failed", diagnose(c, task_id))
            [row] = c.trials(task_id)
            self.assertEqual(row.status, "diverged", diagnose(c, task_id))
            self.assertEqual(row.reason, "the loss became NaN or infinite at step 3")

    def test_submit_a_toml_file_status_trials_and_cancel(self) -> None:
        task_file = os.path.join(WORK, "slow.toml")
        with open(task_file, "w") as f:
            f.write(textwrap.dedent(f"""\
                name = "py-slow"
                [workload]
                kind = "command"
                command = [{json.dumps(sys.executable)}, "slow.py"]   # relative to this file's folder
                env = {{ PYTHONPATH = {json.dumps(support.SRC)} }}
                [search]
                optimizer = "sgd"
                lr = 0.1
                [strategy]
                kind = "random"
                trials = 1
                [budget]
                steps = 2000
                [objective]
                metric = "val_loss"
                """))
        with client() as c:
            task_id = c.submit(task_file)
            support.wait_for(lambda: [m.status for m in c.status(task_id).members] == ["running"],
                             20, "the slow task's trial to start")
            t = c.status(task_id)
            self.assertEqual((t.task_id, t.name, t.status, t.workload), (task_id, "py-slow", "running", "command"))
            self.assertEqual(t.objective, tuned_client.Objective("val_loss", "min", "final"))
            self.assertEqual([m.status for m in t.members], ["running"])
            self.assertEqual(t.members[0].config, {"lr": 0.1, "optimizer": "sgd"})
            self.assertIn(task_id, [s.task_id for s in c.tasks(status=["running"])])
            with self.assertRaises(tuned_client.WaitTimeout) as cm:
                c.wait(task_id, progress=False, timeout=0.5)
            self.assertIn(f"task {task_id} has not ended within 0.5 s (running", str(cm.exception))
            self.assertEqual(c.cancel(task_id), "cancelled")
            final = c.wait(task_id, progress=False, timeout=20)
            self.assertEqual(final.status, "cancelled")
            self.assertEqual(c.cancel(task_id), "cancelled")  # a finished task: its final status, no error
            # The worker stops the running program; the trial is then `stopped`.
            support.wait_for(lambda: [r.status for r in c.trials(task_id)] == ["stopped"], 15, "the trial to stop")


@support.limit_all(20)
class ClientMethodTests(unittest.TestCase):
    def test_daemon_status(self) -> None:
        assert DAEMON is not None
        with client() as c:
            s = c.daemon_status()
        self.assertEqual(s.protocol_version, tuned_client.PROTOCOL_VERSION)
        self.assertEqual(s.socket, DAEMON.socket)
        self.assertEqual(s.store.path, DAEMON.store)
        self.assertEqual(s.workers.configured, 2)
        self.assertRegex(s.version, r"^\d+\.\d+\.\d+")
        self.assertEqual(s.pid, DAEMON.proc.pid if DAEMON.proc else None)

    def test_recommend_from_a_dict_and_a_file(self) -> None:
        with client() as c:
            r = c.recommend({"model_kind": "mlp", "parameter_count": 4810, "dataset_size": 1797}, top_k=2)
            self.assertEqual(len(r.options), 2)
            self.assertTrue(r.policy)
            self.assertIn("optimizer", r.options[0].config)
            self.assertLessEqual(r.options[0].loss_low, r.options[0].loss_high)
            self.assertIn("depth", r.missing_features)
            f = c.recommend(os.path.join(support.REPO, "examples", "features-digits-mlp.toml"))
            self.assertEqual(len(f.options), 1)
            self.assertNotIn("depth", f.missing_features)

    def test_wrong_types_and_unknown_ids_raise_with_the_daemons_message(self) -> None:
        with client() as c:
            for call in (c.status, c.results, c.trials, c.cancel, c.wait):
                with self.subTest(method=call.__name__):
                    with self.assertRaises(tuned_client.TaskNotFound) as cm:
                        call(987654)
                    self.assertEqual(cm.exception.code, -32000)
                    self.assertEqual(str(cm.exception), "no task 987654 (see `tunectl list`)")
                    self.assertEqual(cm.exception.task_id, 987654)
            for bad in ("7", 1.5, None, True):
                with self.subTest(task_id=bad):
                    with self.assertRaises(tuned_client.InvalidParams) as cm2:
                        c.status(bad)  # type: ignore[arg-type]
                    self.assertEqual(cm2.exception.code, -32602)
                    self.assertEqual(cm2.exception.field, "task_id")
                    self.assertIn("`task_id`", str(cm2.exception))
            with self.assertRaises(tuned_client.InvalidParams) as cm3:
                c.trials(1, status=["bogus"])
            self.assertIn('"bogus" is not one of', str(cm3.exception))
            with self.assertRaises(tuned_client.InvalidParams) as cm4:
                c.recommend({"model_kind": "mlp"}, top_k=0)
            self.assertEqual(cm4.exception.field, "top_k")
            self.assertEqual(c.daemon_status().protocol_version, 1)  # the connection survived every error

    def test_submit_warnings_arrive_as_python_warnings(self) -> None:
        task = command_task("diverge.py", name="py-warned", trials=1, steps=10, segment=10)
        task["search"]["weight_decy"] = 0.01  # an own key one letter from tuned's weight_decay
        with client() as c:
            with self.assertWarns(tuned_client.SubmitWarning) as cm:
                task_id = c.submit(task)
            c.cancel(task_id)
        self.assertIn("weight_decy", str(cm.warning))
        self.assertIn("weight_decay", str(cm.warning))

    def test_a_task_that_does_not_validate_lists_every_problem(self) -> None:
        task = {
            "name": "bad",
            "workload": {"kind": "rosenbrock"},
            "search": {"optimizer": "sgd", "lr": {"log_uniform": [1.0, 1e-3]}},
            "budget": {"steps": -5},
        }
        with client() as c:
            with self.assertRaises(tuned_client.ValidationFailed) as cm:
                c.submit(task)
            problems = cm.exception.problems
            self.assertEqual([(p.field, p.file) for p in problems],
                             [("search.lr", "<task dict>"), ("budget.steps", "<task dict>")])
            self.assertTrue(all(isinstance(p.line, int) for p in problems))
            self.assertIn("log_uniform range is inverted", problems[0].message)
            self.assertEqual(str(cm.exception).splitlines(), [str(p) for p in problems])
            with self.assertRaises(tuned_client.ValidationFailed) as cm2:
                c.recommend({"model_kind": "banana", "parameter_count": "many"})
            self.assertEqual([p.field for p in cm2.exception.problems], ["model_kind", "parameter_count"])
            # Refused before reaching the daemon: what the client itself can tell.
            with self.assertRaises(FileNotFoundError):
                c.submit(os.path.join(WORK, "missing.toml"))
            with self.assertRaises(ValueError) as cm3:
                c.submit({**task, "budget": {"steps": float("inf")}})
            self.assertIn("NaN or infinite number at budget.steps", str(cm3.exception))
            with self.assertRaises(TypeError):
                c.submit(42)  # type: ignore[arg-type]


if __name__ == "__main__":
    unittest.main()
