"""The Client against a fake daemon (a Unix socket in a thread): version check, errors,
reconnection, polling, timeouts, result types. The real daemon: test_end_to_end.py."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import types
import unittest
from typing import Any, Callable, Dict, List, Optional

try:
    from . import support
except ImportError:  # run from inside tests/
    import support  # type: ignore[no-redef]

import tuned_client
from tuned_client import ProtocolVersionError, TunedConnectionError

STATUS = {
    "version": "0.1.0", "protocol_version": tuned_client.PROTOCOL_VERSION, "uptime_seconds": 1.5, "pid": 42,
    "workers": {"configured": 2, "alive": 2, "busy": 0}, "tasks": {"running": 1}, "socket": "x",
    "store": {"path": "/s/tuned.db", "size_bytes": 4096},
}

Handler = Callable[[Dict[str, Any]], Optional[Dict[str, Any]]]


class FakeDaemon:
    """Answers each request line with handler(request): a reply's `result`/`error` members,
    or None for no reply; a reply's `_then` lists notifications sent after it. With close_after_reply, closes each connection after one reply."""

    def __init__(self, handler: Handler, close_after_reply: bool = False) -> None:
        self.dir = tempfile.mkdtemp(prefix="tc-fake-")
        self.path = os.path.join(self.dir, "f.sock")
        self.handler = handler
        self.close_after_reply = close_after_reply
        self.requests: List[Dict[str, Any]] = []
        self.connections = 0
        self.closed = threading.Event()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.connection, args=(conn,), daemon=True).start()

    def connection(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    req = json.loads(line)
                    self.requests.append(req)
                    reply = self.handler(req)
                    if reply is None:
                        continue
                    then = reply.pop("_then", [])
                    msg = {"jsonrpc": "2.0", "id": req.get("id"), **reply}
                    conn.sendall(json.dumps(msg).encode() + b"\n")
                    for n in then:  # notifications after the reply (task.watch)
                        conn.sendall(json.dumps({"jsonrpc": "2.0", **n}).encode() + b"\n")
                    if self.close_after_reply:
                        conn.shutdown(socket.SHUT_RDWR)
                        self.closed.set()
                        return

    def close(self) -> None:
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def answering(**results: Any) -> Handler:
    def handle(req: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        value = results.get(req["method"].replace(".", "_"))
        if callable(value):
            return value(req)
        if value is None:
            return {"error": {"code": -32601, "message": f"method not found: {req['method']}"}}
        return {"result": value}

    return handle


@support.limit_all(10)
class ProtocolVersionTests(unittest.TestCase):
    def fake(self, status: Dict[str, Any]) -> FakeDaemon:
        d = FakeDaemon(answering(daemon_status=status))
        self.addCleanup(d.close)
        return d

    def test_a_mismatch_is_a_clear_error_naming_both(self) -> None:
        d = self.fake({**STATUS, "protocol_version": 2, "version": "9.9.9"})
        with self.assertRaises(ProtocolVersionError) as cm:
            tuned_client.Client(d.path)
        e = cm.exception
        self.assertEqual((e.client_protocol, e.daemon_protocol, e.daemon_version), (1, 2, "9.9.9"))
        msg = str(e)
        self.assertIn(f"tuned-client {tuned_client.__version__} speaks protocol version 1", msg)
        self.assertIn(f"the daemon at {d.path} (tuned 9.9.9) speaks protocol version 2", msg)
        self.assertIn("install the client that comes with this daemon", msg)

    def test_a_status_without_protocol_version(self) -> None:
        d = self.fake({k: v for k, v in STATUS.items() if k != "protocol_version"})
        with self.assertRaises(ProtocolVersionError) as cm:
            tuned_client.Client(d.path)
        self.assertIn("speaks no protocol version", str(cm.exception))

    def test_a_match_connects_and_check_version_false_skips_it(self) -> None:
        d = self.fake(STATUS)
        with tuned_client.Client(d.path) as c:
            self.assertEqual(c.daemon_status().protocol_version, 1)
        self.assertEqual([r["method"] for r in d.requests], ["daemon.status", "daemon.status"])
        d2 = self.fake({**STATUS, "protocol_version": 7})
        with tuned_client.Client(d2.path, check_version=False) as c:
            self.assertEqual(c.daemon_status().protocol_version, 7)

    def test_the_version_is_tied_to_the_daemons_protocol(self) -> None:
        self.assertEqual(tuned_client.__version__.split(".")[0], str(tuned_client.PROTOCOL_VERSION))
        swift = os.path.join(support.REPO, "Sources", "TunedRPC", "Methods", "RPCMethod.swift")
        with open(swift, encoding="utf-8") as f:
            m = re.search(r"public let rpcProtocolVersion = (\d+)", f.read())
        self.assertIsNotNone(m, "rpcProtocolVersion not found in RPCMethod.swift")
        assert m is not None
        self.assertEqual(int(m.group(1)), tuned_client.PROTOCOL_VERSION,
                         "the daemon's protocol version changed: update clients/python/src/tuned_client/_version.py")
        with open(os.path.join(support.PACKAGE, "pyproject.toml"), encoding="utf-8") as f:
            self.assertIn('version = { attr = "tuned_client._version.__version__" }', f.read())


@support.limit_all(10)
class ErrorTests(unittest.TestCase):
    def test_no_daemon(self) -> None:
        path = os.path.join(tempfile.gettempdir(), "tc-none", "t.sock")
        with self.assertRaises(TunedConnectionError) as cm:
            tuned_client.Client(path)
        self.assertEqual(cm.exception.kind, "no_daemon")
        self.assertIn(f"no daemon at {path}", str(cm.exception))
        self.assertIn("tuned serve --socket", str(cm.exception))

    def test_stale_socket(self) -> None:
        tmp = tempfile.mkdtemp(prefix="tc-stale-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "t.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()  # the file stays, nobody listens
        with self.assertRaises(TunedConnectionError) as cm:
            tuned_client.Client(path)
        self.assertEqual(cm.exception.kind, "stale_socket")

    def test_socket_from_the_environment(self) -> None:
        old = os.environ.get("TUNED_SOCKET")
        os.environ["TUNED_SOCKET"] = "/nonexistent/env.sock"
        try:
            self.assertEqual(tuned_client.resolve_socket(), "/nonexistent/env.sock")
            self.assertEqual(tuned_client.resolve_socket("/x.sock"), "/x.sock")
            del os.environ["TUNED_SOCKET"]
            self.assertEqual(tuned_client.resolve_socket(), "/run/tuned/tuned.sock")
        finally:
            if old is not None:
                os.environ["TUNED_SOCKET"] = old
            else:
                os.environ.pop("TUNED_SOCKET", None)

    def test_daemon_errors_become_typed_exceptions(self) -> None:
        problems = [
            {"file": "t.toml", "line": 11, "field": "[search] lr", "message": "log_uniform range is inverted"},
            {"file": "t.toml", "line": 19, "column": 3, "field": "[budget] steps", "message": "must be ≥ 1"},
        ]
        d = FakeDaemon(answering(
            daemon_status=STATUS,
            task_submit=lambda r: {"error": {"code": -32001, "message": "t.toml:11: …\nt.toml:19: …",
                                             "data": {"file": "t.toml", "line": 11, "problems": problems}}},
            task_get=lambda r: {"error": {"code": -31999, "message": "a code from the future", "data": {"x": 1}}},
        ))
        self.addCleanup(d.close)
        tmp = tempfile.mkdtemp(prefix="tc-sub-")
        self.addCleanup(shutil.rmtree, tmp, True)
        task = os.path.join(tmp, "t.toml")
        with open(task, "w") as f:
            f.write('name = "x"\n')
        with tuned_client.Client(d.path) as c:
            with self.assertRaises(tuned_client.ValidationFailed) as cm:
                c.submit(task)
            e = cm.exception
            self.assertEqual(e.code, -32001)
            self.assertEqual([str(p) for p in e.problems], [
                "t.toml:11: [search] lr: log_uniform range is inverted", "t.toml:19:3: [budget] steps: must be ≥ 1"])
            sent = d.requests[-1]["params"]
            self.assertEqual(sent, {"text": 'name = "x"\n', "format": "toml", "filename": "t.toml", "base_dir": tmp})
            with self.assertRaises(tuned_client.DaemonError) as cm2:
                c.status(1)
            self.assertIs(type(cm2.exception), tuned_client.DaemonError)
            self.assertEqual((cm2.exception.code, str(cm2.exception), cm2.exception.data),
                             (-31999, "a code from the future", {"x": 1}))

    def test_a_silent_daemon_times_out(self) -> None:
        d = FakeDaemon(lambda r: {"result": STATUS} if r["method"] == "daemon.status" else None)
        self.addCleanup(d.close)
        with tuned_client.Client(d.path, timeout=0.3) as c:
            with self.assertRaises(TunedConnectionError) as cm:
                c.status(1)
        self.assertEqual(cm.exception.kind, "timeout")
        self.assertIn("no reply from the daemon", str(cm.exception))


@support.limit_all(10)
class ConnectionTests(unittest.TestCase):
    def test_reconnects_after_the_daemon_closed_an_idle_connection(self) -> None:
        d = FakeDaemon(answering(daemon_status=STATUS), close_after_reply=True)
        self.addCleanup(d.close)
        c = tuned_client.Client(d.path)
        self.addCleanup(c.close)
        self.assertTrue(d.closed.wait(5))
        self.assertEqual(c.daemon_status().pid, 42)  # the closed connection is noticed and replaced
        self.assertEqual(d.connections, 2)

    def test_notifications_between_replies_are_skipped(self) -> None:
        def handle(req: Dict[str, Any]) -> Optional[Dict[str, Any]]:
            return {"result": STATUS}

        d = FakeDaemon(handle)
        self.addCleanup(d.close)
        with tuned_client.Client(d.path) as c:
            # A notification the daemon might interleave (task.watch) before a reply.
            conn = c._conn
            assert conn is not None
            conn.buffer += b'{"jsonrpc":"2.0","method":"task.progress","params":{"task_id":1}}\n'
            self.assertEqual(c.daemon_status().version, "0.1.0")

    def test_non_finite_parameters_travel_as_strings(self) -> None:
        d = FakeDaemon(answering(daemon_status=STATUS, x_y={"ok": True}))
        self.addCleanup(d.close)
        with tuned_client.Client(d.path) as c:
            c.call("x.y", {"a": math.nan, "b": [math.inf, -math.inf, 1.5]})
        self.assertEqual(d.requests[-1]["params"], {"a": "NaN", "b": ["Infinity", "-Infinity", 1.5]})


def detail(status: str, done: int, best: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    d = {"task_id": 5, "name": "t", "status": status, "strategy": "random", "workload": "command",
         "objective": {"metric": "val_loss", "mode": "min"}, "members": [], "steps_done": done, "steps_total": 40,
         "created_at": 1.0}
    if best:
        d["best"] = best
    return d


@support.limit_all(15)
class WaitTests(unittest.TestCase):
    def test_polls_task_get_when_the_daemon_has_no_task_watch(self) -> None:
        states = iter([detail("queued", 0), detail("running", 20, {"value": "NaN", "trial_id": 1, "step": 20}),
                       detail("completed", 40, {"value": 0.5, "trial_id": 2, "step": 40})])
        last: List[Dict[str, Any]] = []

        def get(req: Dict[str, Any]) -> Dict[str, Any]:
            if not last or last[-1]["status"] != "completed":
                last.append(next(states))
            return {"result": last[-1]}

        d = FakeDaemon(answering(daemon_status=STATUS, task_get=get))  # task.watch: method not found
        self.addCleanup(d.close)
        out = io.StringIO()
        with tuned_client.Client(d.path) as c:
            t = c.wait(5, interval=0.01, file=out)
        self.assertEqual((t.status, t.steps_done, t.best.value if t.best else None), ("completed", 40, 0.5))
        self.assertTrue(t.done)
        self.assertEqual(out.getvalue().splitlines(), [
            "task 5 queued: 0/40 steps (0%)",
            "task 5 running: 20/40 steps (50%), best val_loss nan (trial 1, step 20)",
            "task 5 completed: 40/40 steps (100%), best val_loss 0.5 (trial 2, step 40)",
        ])
        self.assertIn("task.watch", [r["method"] for r in d.requests])

    def test_follows_task_watch_notifications(self) -> None:
        progress = {"task_id": 5, "status": "running", "steps_total": 40, "members": []}

        def handle(req: Dict[str, Any]) -> Optional[Dict[str, Any]]:
            if req["method"] == "daemon.status":
                return {"result": STATUS}
            if req["method"] == "task.get":
                return {"result": detail("completed", 40, {"value": 0.25, "trial_id": 2, "step": 40})}
            return {"result": detail("running", 10), "_then": [  # task.watch: its reply, then notifications
                {"method": "task.progress", "params": {**progress, "steps_done": 10, "at": 1.5}},  # unchanged: not shown
                {"method": "task.progress", "params": {**progress, "steps_done": 30, "at": 2.0}},
                {"method": "task.progress", "params": {**progress, "status": "completed", "steps_done": 40, "at": 3.0,
                                                       "best": {"value": 0.25, "trial_id": 2, "step": 40}}},
                {"method": "task.finished", "params": {"task_id": 5, "status": "completed", "finished_at": 3.0}},
            ]}

        d = FakeDaemon(handle)
        self.addCleanup(d.close)
        out = io.StringIO()
        with tuned_client.Client(d.path) as c:
            t = c.wait(5, file=out)
        self.assertEqual(t.status, "completed")
        self.assertEqual(out.getvalue().splitlines(), [
            "task 5 running: 10/40 steps (25%)",
            "task 5 running: 30/40 steps (75%)",
            "task 5 completed: 40/40 steps (100%), best val_loss 0.25 (trial 2, step 40)",
        ])
        watch = [r for r in d.requests if r["method"] == "task.watch"]
        self.assertEqual(watch[0]["params"], {"task_id": 5, "interval_seconds": 1.0})

    def test_a_timeout_says_the_task_goes_on(self) -> None:
        d = FakeDaemon(answering(daemon_status=STATUS, task_get=detail("running", 10)))
        self.addCleanup(d.close)
        with tuned_client.Client(d.path) as c:
            with self.assertRaises(tuned_client.WaitTimeout) as cm:
                c.wait(5, progress=False, timeout=0.3, interval=0.05)
        self.assertIn("task 5 has not ended within 0.3 s (running, 10/40 steps); it goes on", str(cm.exception))
        self.assertIsInstance(cm.exception, TimeoutError)


@support.limit_all(10)
class ResultTypeTests(unittest.TestCase):
    RESULTS = {
        "task_id": 3, "status": "completed", "objective": {"metric": "val_loss", "mode": "min", "select": "best"},
        "best_config": {"optimizer": "sgd", "lr": 0.1}, "best": {"value": 0.2, "trial_id": 2, "step": 20},
        "final_metrics": {"val_loss": 0.2}, "future_field": 1,
        "trials": [
            {"trial_id": 2, "member": 1, "status": "completed", "config": {"optimizer": "sgd", "lr": 0.1},
             "steps_done": 20, "final_metrics": {"val_loss": 0.2, "lr": 0.1}, "best_metric": 0.2,
             "objective_value": 0.2},
            {"trial_id": 1, "member": 0, "status": "diverged", "config": {"optimizer": "sgd", "lr": 9},
             "steps_done": 5, "final_metrics": {"val_loss": "NaN", "lr": 9}, "reason": "diverged at step 5"},
        ],
    }

    def test_results_are_dataclasses_with_floats_for_non_finite(self) -> None:
        r = tuned_client.Results.from_wire(self.RESULTS)
        self.assertEqual(r.best, tuned_client.Best(value=0.2, trial_id=2, step=20))
        self.assertEqual(r.objective, tuned_client.Objective("val_loss", "min", "best"))
        self.assertEqual((r.trials[0].objective_value, r.trials[1].objective_value), (0.2, None))
        self.assertTrue(math.isnan(r.trials[1].final_metrics["val_loss"]))
        self.assertEqual(r.raw["future_field"], 1)
        self.assertEqual(r.to_records()[1], {
            "trial_id": 1, "member": 0, "status": "diverged", "steps_done": 5, "objective_value": None,
            "best_metric": None,
            "parent_trial_id": None, "reason": "diverged at step 5", "config.lr": 9, "config.optimizer": "sgd",
            "metric.lr": 9.0, "metric.val_loss": r.trials[1].final_metrics["val_loss"]})

    def test_to_pandas_uses_pandas_when_importable(self) -> None:
        r = tuned_client.Results.from_wire(self.RESULTS)
        saved = sys.modules.get("pandas")
        try:
            sys.modules["pandas"] = None  # type: ignore[assignment]  # "not installed"
            with self.assertRaises(ImportError) as cm:
                r.to_pandas()
            self.assertIn("needs pandas, which is not installed: pip install pandas", str(cm.exception))

            class Frame:
                columns = ("trial_id", "member")

                def __init__(self, records: Any) -> None:
                    self.records, self.index = records, None

                @classmethod
                def from_records(cls, records: Any) -> "Frame":
                    return cls(records)

                def set_index(self, name: str) -> "Frame":
                    self.index = name
                    return self

            sys.modules["pandas"] = types.SimpleNamespace(DataFrame=Frame)  # type: ignore[assignment]
            frame = r.to_pandas()
            self.assertEqual((frame.records, frame.index), (r.to_records(), "trial_id"))
        finally:
            if saved is None:
                sys.modules.pop("pandas", None)
            else:
                sys.modules["pandas"] = saved


if __name__ == "__main__":
    unittest.main()
