"""Shared by the tests: the source tree on sys.path, time limits, a real daemon.

The daemon is the built binary: ``$TUNED_BIN/tuned`` (default: the repository's
``.build/debug``). When ``TUNED_BIN`` is unset and nothing is built there, the end-to-end
tests are skipped with a message; when it is set (as scripts/test.sh does), a missing binary
is an error.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Any, Callable, Optional, TypeVar

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)  # clients/python
SRC = os.path.join(PACKAGE, "src")
REPO = os.path.dirname(os.path.dirname(PACKAGE))
if SRC not in sys.path:
    sys.path.insert(0, SRC)

import tuned_client  # noqa: E402  (the source tree's, not an installed one)

assert os.path.dirname(tuned_client.__file__) == os.path.join(SRC, "tuned_client"), tuned_client.__file__

F = TypeVar("F", bound=Callable[..., Any])


class TestTimeout(AssertionError):
    """A test ran past its time limit."""


def time_limit(seconds: float) -> Callable[[F], F]:
    """Fails the test (SIGALRM in the main thread) if it runs longer than ``seconds``."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            def on_alarm(signum: int, frame: Any) -> None:
                raise TestTimeout(f"{fn.__qualname__} exceeded its time limit of {seconds:g} s")

            old = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                return fn(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)

        return wrapper  # type: ignore[return-value]

    return deco


def limit_all(seconds: float) -> Callable[[type], type]:
    """A class decorator: every ``test_*`` method gets ``time_limit(seconds)``."""

    def deco(cls: type) -> type:
        for name in list(vars(cls)):
            if name.startswith("test"):
                setattr(cls, name, time_limit(seconds)(getattr(cls, name)))
        return cls

    return deco


def tuned_binary() -> str:
    explicit = os.environ.get("TUNED_BIN")
    folder = explicit or os.path.join(REPO, ".build", "debug")
    path = os.path.join(folder, "tuned")
    if not os.access(path, os.X_OK):
        if explicit:
            raise RuntimeError(f"TUNED_BIN={explicit}, but {path} is not an executable; build with `swift build`")
        raise unittest.SkipTest(f"no daemon binary at {path}: run `swift build` or set TUNED_BIN to its folder")
    return path


class Daemon:
    """A real ``tuned serve`` in a temporary directory (socket, store, log)."""

    def __init__(self, workers: int = 2, lease_seconds: float = 10) -> None:
        self.binary = tuned_binary()
        # Short: a Unix socket's path is limited to 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="tc-")
        self.socket = os.path.join(self.dir, "t.sock")
        self.store = os.path.join(self.dir, "store", "tuned.db")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 30) -> "Daemon":
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--socket", self.socket, "--store", self.store, "--workers", str(self.workers),
             "--lease-seconds", str(self.lease_seconds)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with tuned_client.Client(self.socket, timeout=5) as c:
                    c.daemon_status()
                return self
            except tuned_client.TunedConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the daemon did not answer within {timeout:g} s:\n{self.log_tail()}")

    def client(self, **kwargs: Any) -> tuned_client.Client:
        return tuned_client.Client(self.socket, **kwargs)

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
