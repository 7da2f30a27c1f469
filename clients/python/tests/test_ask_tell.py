"""Ask/tell against the real daemon: a loop of this process runs a sync PBT task entirely
through Study.ask/report/tell and gets the same result as the daemon's workers running an
equivalent command program; a loop killed mid-segment loses nothing (the segment expires
and is asked again); a NaN loss diverges; mistakes give clear exceptions."""

from __future__ import annotations

import os
import shutil
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

#: The training both sides run, from its config: w ← w − lr·2(w − 3), val_loss = (w − 3)² + offset/100.
STEP = "w -= lr * 2 * (w - 3.0)"
PROGRAM = textwrap.dedent(f"""\
    import tuned_client
    t = tuned_client.trial()
    lr, offset = t.config["lr"], t.config["offset"]
    w = t.load(default={{"w": 0.0}})["w"]
    for step in t.steps():
        {STEP}
        t.report(step, val_loss=(w - 3.0) ** 2 + offset / 100)
    t.save({{"w": w}})
""")


def setUpModule() -> None:
    global DAEMON, WORK
    DAEMON = support.Daemon(workers=2).start()
    WORK = tempfile.mkdtemp(prefix="tc-at-")
    with open(os.path.join(WORK, "program.py"), "w") as f:
        f.write(PROGRAM)


def tearDownModule() -> None:
    if DAEMON is not None:
        DAEMON.stop()
    shutil.rmtree(WORK, ignore_errors=True)


def pbt_task(kind: str, *, population: int = 4, steps: int = 40, interval: int = 10) -> Dict[str, Any]:
    workload: Dict[str, Any] = {"kind": kind}
    if kind == "command":
        workload.update(command=[sys.executable, os.path.join(WORK, "program.py")], env={"PYTHONPATH": support.SRC})
    return {
        "name": f"ask-tell-{kind}",
        "workload": workload,
        "search": {"lr": {"log_uniform": [1e-3, 3e-1]}, "offset": {"int_uniform": [1, 5]}},
        "strategy": {"kind": "pbt", "population": population, "interval": interval, "quantile": 0.25,
                     "synchronous": True, "mutate": ["lr"]},
        "budget": {"steps": steps, "seed": 5},
        "objective": {"metric": "val_loss", "mode": "min"},
    }


def run_segment(study: tuned_client.Study, t: tuned_client.AskedTrial) -> None:
    lr, offset = t.config["lr"], t.config["offset"]
    w = t.load(default={"w": 0.0})["w"]
    for step in t.steps():
        w -= lr * 2 * (w - 3.0)  # STEP, as the program runs it
        t.report(step, val_loss=(w - 3.0) ** 2 + offset / 100)
    t.save({"w": w})
    study.tell(t)


def summary(r: tuned_client.Results) -> List[Any]:
    rows = sorted(r.trials, key=lambda t: t.member)
    return [(t.member, t.status, t.steps_done, t.config, t.final_metrics.get("val_loss")) for t in rows] + [
        (r.best.value if r.best else None, r.best_config)]


@support.limit_all(90)
class AskTellTests(unittest.TestCase):
    def test_a_loop_runs_sync_pbt_as_the_workers_do(self) -> None:
        assert DAEMON is not None
        with DAEMON.client() as c:
            reference_id = c.submit(pbt_task("command"))
            self.assertEqual(c.wait(reference_id, progress=False).status, "completed")
            reference = c.results(reference_id)

            study = c.create_study(pbt_task("external"), client_id="loop-1")
            asked, exploits = 0, 0
            while (t := study.ask(timeout=60)) is not None:
                asked += 1
                exploits += t.exploit is not None
                self.assertIsInstance(t.config["offset"], int)
                run_segment(study, t)
            self.assertEqual(asked, 16)  # 4 members × 4 intervals
            self.assertGreater(exploits, 0, "PBT exploited through ask/tell")
            self.assertTrue(study.finished)
            self.assertEqual(summary(study.results()), summary(reference))
            # A finished study: nothing to ask; the task shows like any other.
            self.assertIsNone(study.ask())
            self.assertEqual(c.status(study.task_id).workload, "external")

    def test_a_killed_loop_loses_nothing(self) -> None:
        """A loop that asked with a 1 s lease and died: its segment expires and is asked again;
        the task completes with every member's steps."""
        assert DAEMON is not None
        task = pbt_task("external", population=2, steps=20)
        with DAEMON.client() as c:
            dead = c.create_study(task, client_id="dead", lease_seconds=1)
            lost = dead.ask(timeout=30)
            assert lost is not None
            lost.report(lost.start_step + 1, val_loss=9.0)  # reported, never told
        with DAEMON.client() as c:
            study = c.study(dead.task_id, client_id="alive")
            seen = []
            while (t := study.ask(timeout=60)) is not None:
                seen.append(t.segment_id)
                run_segment(study, t)
            self.assertIn(lost.segment_id, seen, "the abandoned segment was asked again")
            r = study.results()
            self.assertEqual([(t.status, t.steps_done) for t in r.trials], [("completed", 20)] * 2)
            curves = c.call("task.curves", {"task_id": study.task_id, "metrics": ["val_loss"]})
            for trial in curves["trials"]:
                steps = trial["series"][0]["steps"]
                self.assertEqual(steps, list(range(1, 21)), "every step's metric, each once")

    def test_two_loops_share_an_async_pbt_and_an_asha_task(self) -> None:
        """Two concurrent loops (threads, each with its own connection and client_id) drive an
        async PBT task, then an ASHA task, to completion; both get work."""
        import threading
        assert DAEMON is not None
        tasks = [pbt_task("external", population=4, steps=40, interval=10)]
        tasks[0]["strategy"]["synchronous"] = False
        asha = pbt_task("external", steps=90)
        asha["strategy"] = {"kind": "asha", "trials": 6, "reduction_factor": 3}
        tasks.append(asha)
        for task in tasks:
            with DAEMON.client() as c:
                task_id = c.submit(task)
            counts: Dict[str, int] = {}
            errors: List[BaseException] = []

            def loop(name: str) -> None:
                try:
                    with DAEMON.client() as c:  # type: ignore[union-attr]
                        study = c.study(task_id, client_id=name)
                        while (t := study.ask(timeout=60)) is not None:
                            counts[name] = counts.get(name, 0) + 1
                            run_segment(study, t)
                except BaseException as e:  # noqa: BLE001 — reported by the main thread
                    errors.append(e)

            threads = [threading.Thread(target=loop, args=(n,)) for n in ("a", "b")]
            for th in threads:
                th.start()
            for th in threads:
                th.join(80)
            self.assertEqual(errors, [])
            with DAEMON.client() as c:
                r = c.results(task_id)
                self.assertEqual(c.status(task_id).status, "completed", task["strategy"])
            self.assertTrue(all(t.status in ("completed", "stopped") for t in r.trials), [t.status for t in r.trials])
            self.assertGreater(counts.get("a", 0), 0, f"{task['strategy']['kind']}: {counts}")
            self.assertGreater(counts.get("b", 0), 0, f"{task['strategy']['kind']}: {counts}")

    def test_a_nan_loss_diverges_and_mistakes_are_clear(self) -> None:
        assert DAEMON is not None
        task = pbt_task("external", population=1, steps=10)
        task["strategy"] = {"kind": "random", "trials": 1}
        with DAEMON.client() as c:
            study = c.create_study(task)
            t = study.ask(timeout=30)
            assert t is not None
            with self.assertRaises(TypeError):
                t.report(1, val_loss="0.3")  # not a number: refused before it is sent
            with self.assertRaises(ValueError):
                t.report(1, **{"val loss": 0.3})
            with self.assertRaises(tuned_client.TrialDiverged):
                t.report(1, val_loss=float("nan"))
            self.assertEqual(c.wait(study.task_id, progress=False).status, "failed")
            self.assertEqual([r.status for r in study.results().trials], ["diverged"])
            with self.assertRaises(tuned_client.StudyFinished):
                study.report(t, 2, {"val_loss": 1.0})
            # A task the workers run is no study; an unknown one is an error naming it.
            command_id = c.submit(pbt_task("command", population=1, steps=10) | {"strategy": {"kind": "random", "trials": 1}})
            with self.assertRaises(tuned_client.InvalidParams):
                c.study(command_id)
            with self.assertRaises(tuned_client.TaskNotFound):
                c.study(99999)
            with self.assertRaises(tuned_client.InvalidParams) as e:
                c.call("study.ask", {"task_id": command_id})
            self.assertIn("external", str(e.exception))


if __name__ == "__main__":
    unittest.main()
