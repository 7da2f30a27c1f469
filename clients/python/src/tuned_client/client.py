"""Outside: drive the daemon over its Unix socket (JSON-RPC 2.0, one object per line).

::

    import tuned_client
    c = tuned_client.Client()                    # $TUNED_SOCKET, else /run/tuned/tuned.sock
    task_id = c.submit("task.toml")              # or a dict in the task-file structure
    c.wait(task_id)                              # progress on stderr until it ends
    r = c.results(task_id)
    print(r.best, r.best_config)

The protocol is docs/PROTOCOL.md.
"""

from __future__ import annotations

import errno
import json
import math
import os
import select
import socket as _socket
import sys
import threading
import time
import warnings
from typing import IO, Any, Callable, Dict, List, Mapping, NoReturn, Optional, Sequence, Tuple, Union

from ._version import PROTOCOL_VERSION, __version__
from .errors import (
    DaemonError,
    InvalidParams,
    MethodNotFound,
    ProtocolVersionError,
    SubmitWarning,
    TunedConnectionError,
    WaitTimeout,
    daemon_error,
)
from .study import Study
from .types import DaemonStatus, Recommendation, Results, Task, TaskSummary, TrialRow, number

__all__ = ["Client", "DEFAULT_SOCKET", "resolve_socket"]

PathLike = Union[str, "os.PathLike[str]"]

#: The socket of the installed service.
DEFAULT_SOCKET = "/run/tuned/tuned.sock"
#: The longest reply line the client accepts (as tunectl).
MAX_REPLY_BYTES = 64 * 1024 * 1024


def resolve_socket(socket: Optional[PathLike] = None) -> str:
    """``socket`` if given, else ``$TUNED_SOCKET``, else ``/run/tuned/tuned.sock``."""
    if socket is not None:
        return os.fspath(socket)
    return os.environ.get("TUNED_SOCKET") or DEFAULT_SOCKET


class _Connection:
    """One socket: requests out, replies (matched by id) and notifications in."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.sock = _connect(path, timeout)
        self.buffer = bytearray()
        self.next_id = 1

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def closed_by_peer(self) -> bool:
        """True when the daemon has closed this connection (e.g. its idle timeout)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            return self.sock.recv(1, _socket.MSG_PEEK | _socket.MSG_DONTWAIT) == b""
        except (OSError, ValueError):
            return True

    def send(self, method: str, params: Any) -> int:
        rid = self.next_id
        self.next_id += 1
        msg: Dict[str, Any] = {"id": rid, "jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        line = json.dumps(_wire(msg), separators=(",", ":"), sort_keys=True, allow_nan=False) + "\n"
        try:
            self.sock.sendall(line.encode("utf-8"))
        except OSError as e:
            raise TunedConnectionError(
                "connection_closed", f"the connection to the daemon at {self.path} broke while sending {method} "
                f"({e.strerror or e}); is it still running?", self.path) from None
        return rid

    def read_message(self, deadline: Optional[float], what: str) -> Dict[str, Any]:
        while True:
            nl = self.buffer.find(b"\n")
            if nl >= 0:
                raw = bytes(self.buffer[:nl])
                del self.buffer[: nl + 1]
                if not raw.strip():
                    continue
                try:
                    msg = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise TunedConnectionError(
                        "protocol_violation", f"the daemon at {self.path} sent a line that is not JSON: {raw[:200]!r}",
                        self.path) from None
                if not isinstance(msg, dict):
                    raise TunedConnectionError(
                        "protocol_violation", f"the daemon at {self.path} sent a non-object: {raw[:200]!r}", self.path)
                return msg
            if len(self.buffer) > MAX_REPLY_BYTES:
                raise TunedConnectionError(
                    "response_too_large", f"a reply from the daemon exceeded {MAX_REPLY_BYTES} bytes", self.path)
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise TunedConnectionError(
                    "timeout", f"no reply from the daemon at {self.path} to {what} within {self.timeout:g} s", self.path)
            self.sock.settimeout(wait)
            try:
                chunk = self.sock.recv(1 << 16)
            except _socket.timeout:
                continue
            except InterruptedError:
                continue
            except OSError as e:
                raise TunedConnectionError(
                    "connection_closed", f"the connection to the daemon at {self.path} broke ({e.strerror or e})",
                    self.path) from None
            if not chunk:
                raise TunedConnectionError(
                    "connection_closed", f"the daemon at {self.path} closed the connection during {what} "
                    "(did it stop or restart?)", self.path)
            self.buffer += chunk

    def call(
        self, method: str, params: Any, timeout: Optional[float],
        on_notification: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> Any:
        rid = self.send(method, params)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            msg = self.read_message(deadline, method)
            if "id" not in msg:  # a notification (task.watch)
                if on_notification is not None:
                    on_notification(msg)
                continue
            if msg.get("id") != rid:
                if msg.get("id") is None and "error" in msg:
                    raise daemon_error(msg["error"], method)
                continue  # a stale reply of an abandoned call
            if "error" in msg:
                raise daemon_error(msg["error"], method)
            return msg.get("result")


def _connect(path: str, timeout: float) -> _socket.socket:
    if len(os.fsencode(path)) >= 108:
        raise TunedConnectionError(
            "bad_socket_path", f"the socket path {path} is too long for a Unix socket (at most 107 bytes); "
            "use a shorter path or a relative one", path)
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError as e:
        s.close()
        code = e.errno
        if code in (errno.ENOENT, errno.ENOTDIR):
            raise TunedConnectionError(
                "no_daemon", f"no daemon at {path} (no such socket): start one with "
                f"`tuned serve --socket {path} --store STORE.db`, `sudo systemctl start tuned`, "
                "or point TUNED_SOCKET / Client(socket=...) at the right socket", path) from None
        if code == errno.ECONNREFUSED:
            raise TunedConnectionError(
                "stale_socket", f"nobody is listening on {path}: the daemon is not running (a stale socket "
                "file); start it again", path) from None
        if code in (errno.EACCES, errno.EPERM):
            raise TunedConnectionError(
                "permission_denied", f"permission denied on {path}: join the socket's group "
                "(sudo usermod -aG tuned $USER, then log in again)", path) from None
        if code == errno.ENOTSOCK:
            raise TunedConnectionError("bad_socket_path", f"{path} is not a socket", path) from None
        raise TunedConnectionError("io", f"cannot connect to {path}: {e.strerror or e}", path) from None
    return s


def _wire(v: Any) -> Any:
    """Non-finite floats as the protocol's strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: _wire(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_wire(x) for x in v]
    return v


def _nonfinite_path(v: Any, path: str = "") -> Optional[str]:
    if isinstance(v, float) and not math.isfinite(v):
        return path or "(top level)"
    if isinstance(v, dict):
        for k, x in v.items():
            p = _nonfinite_path(x, f"{path}.{k}" if path else str(k))
            if p:
                return p
    if isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            p = _nonfinite_path(x, f"{path}[{i}]")
            if p:
                return p
    return None


def _file_text(path: PathLike, what: str) -> Tuple[str, str, str, str]:
    """(text, format, file name, absolute folder) of a task or features file."""
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower()
    if ext not in (".toml", ".json"):
        raise ValueError(f"{p}: a {what} must be named *.toml or *.json (or pass a dict)")
    full = os.path.abspath(p)
    if os.path.isdir(full):
        raise IsADirectoryError(f"{p} is a folder; give the {what} inside it")
    try:
        with open(full, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such file (relative to {os.getcwd()})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{p} is not UTF-8 text; save it as UTF-8") from None
    return text, ext[1:], os.path.basename(full), os.path.dirname(full)


def _dict_json(d: Mapping[str, Any], what: str) -> str:
    bad = _nonfinite_path(d)
    if bad:
        raise ValueError(f"the {what} has a NaN or infinite number at {bad}, which JSON cannot carry")
    try:
        return json.dumps(d, indent=2, allow_nan=False)
    except TypeError as e:
        raise TypeError(f"the {what} must hold only JSON values (str, int, float, bool, list, dict): {e}") from None


class Client:
    """A connection to a tuned daemon.

    ``Client(socket=None, *, timeout=30.0, check_version=True)``: the socket is ``socket``,
    else ``$TUNED_SOCKET``, else ``/run/tuned/tuned.sock``. It connects at once and, unless
    ``check_version`` is False, checks that the daemon speaks this client's protocol version
    (``tuned_client.PROTOCOL_VERSION``), raising :class:`ProtocolVersionError` naming both.

    Every method raises :class:`DaemonError` (a subclass per code: :class:`TaskNotFound`,
    :class:`InvalidParams`, :class:`ValidationFailed` with ``.problems``, …) carrying the
    daemon's ``code``, ``message`` and ``data`` when the daemon refuses, and
    :class:`TunedConnectionError` when it cannot be reached. Parameters are passed to the
    daemon as given: the daemon validates them and its message is the error's.

    A connection closed by the daemon's idle timeout is re-opened on the next call. A Client
    may be shared by threads (calls are serialised); it is a context manager.
    """

    def __init__(self, socket: Optional[PathLike] = None, *, timeout: float = 30.0, check_version: bool = True) -> None:
        self.socket_path = resolve_socket(socket)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._conn: Optional[_Connection] = _Connection(self.socket_path, timeout)
        if check_version:
            try:
                self.check_protocol(self._raw_call("daemon.status", None))
            except BaseException:
                self.close()
                raise

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection (a later call opens a new one)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(socket={self.socket_path!r})"

    def check_protocol(self, status: Mapping[str, Any]) -> None:
        """Raises :class:`ProtocolVersionError` unless ``status`` (a ``daemon.status`` reply)
        has this client's protocol version."""
        theirs = status.get("protocol_version") if isinstance(status, Mapping) else None
        if theirs == PROTOCOL_VERSION and not isinstance(theirs, bool):
            return
        daemon_version = status.get("version", "unknown") if isinstance(status, Mapping) else "unknown"
        shown = "no protocol version" if theirs is None else f"protocol version {theirs}"
        raise ProtocolVersionError(
            f"protocol version mismatch: tuned-client {__version__} speaks protocol version {PROTOCOL_VERSION}, "
            f"but the daemon at {self.socket_path} (tuned {daemon_version}) speaks {shown}; install the client "
            "that comes with this daemon (pip install <its source tree>/clients/python), "
            "or pass check_version=False at your own risk",
            PROTOCOL_VERSION, theirs, daemon_version)

    def _raw_call(self, method: str, params: Any, timeout: Optional[float] = None) -> Any:
        with self._lock:
            if self._conn is not None and self._conn.closed_by_peer():
                self._conn.close()
                self._conn = None
            if self._conn is None:
                self._conn = _Connection(self.socket_path, self.timeout)
            conn = self._conn
            try:
                return conn.call(method, params, self.timeout if timeout is None else timeout)
            except TunedConnectionError:
                conn.close()
                self._conn = None
                raise

    def call(self, method: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None) -> Any:
        """Any method of docs/PROTOCOL.md, raw: its ``result`` as decoded JSON.

        ``c.call("task.curves", {"task_id": 3, "metrics": ["val_loss"]})``.
        """
        return self._raw_call(method, dict(params) if params is not None else None, timeout)

    # -- tasks ------------------------------------------------------------------------------

    def submit(self, task: Union[PathLike, Mapping[str, Any]], *, base_dir: Optional[PathLike] = None) -> int:
        """Submits a task; returns its id.

        ``task`` is a task file's path (``*.toml`` or ``*.json``; relative paths inside it
        resolve against its folder) or a dict with the task file's structure
        (docs/TASKFILE.md), sent as JSON; its relative paths resolve against ``base_dir``,
        default the current directory. A task that does not validate raises
        :class:`ValidationFailed` listing every problem (``.problems``: file, line, field,
        message). What the daemon accepted but wants you to see (an own key that looks like a
        misspelt one of tuned's) comes as a :class:`SubmitWarning` (``warnings.warn``), one per line.
        """
        if isinstance(task, Mapping):
            params: Dict[str, Any] = {
                "text": _dict_json(task, "task"), "format": "json", "filename": "<task dict>",
                "base_dir": os.path.abspath(os.fspath(base_dir) if base_dir is not None else os.getcwd()),
            }
        elif isinstance(task, (str, os.PathLike)):
            text, fmt, name, folder = _file_text(task, "task file")
            params = {"text": text, "format": fmt, "filename": name,
                      "base_dir": os.path.abspath(os.fspath(base_dir)) if base_dir is not None else folder}
        else:
            raise TypeError(f"submit() takes a task file's path or a dict, got {type(task).__name__}")
        result = self._raw_call("task.submit", params)
        for line in result.get("warnings") or []:
            warnings.warn(SubmitWarning(str(line)), stacklevel=2)
        return int(result["task_id"])

    def status(self, task_id: int) -> Task:
        """The task's state (``task.get``): status, steps done, best so far, members."""
        return Task.from_wire(self._raw_call("task.get", {"task_id": task_id}))

    def tasks(self, status: Optional[Sequence[str]] = None, limit: Optional[int] = None) -> List[TaskSummary]:
        """Every task (newest first), or those with the given statuses (``task.list``)."""
        params: Dict[str, Any] = {}
        if status is not None:
            params["status"] = [status] if isinstance(status, str) else list(status)
        if limit is not None:
            params["limit"] = limit
        return [TaskSummary.from_wire(t) for t in self._raw_call("task.list", params)]

    def results(self, task_id: int) -> Results:
        """The task's best configuration and value, and every trial (``task.results``)."""
        return Results.from_wire(self._raw_call("task.results", {"task_id": task_id}))

    def trials(self, task_id: int, status: Optional[Sequence[str]] = None) -> List[TrialRow]:
        """The task's trials (``trial.list``), optionally only those with the given statuses."""
        params: Dict[str, Any] = {"task_id": task_id}
        if status is not None:
            params["status"] = [status] if isinstance(status, str) else list(status)
        return [TrialRow.from_wire(t) for t in self._raw_call("trial.list", params)]

    def cancel(self, task_id: int) -> str:
        """Cancels the task; returns its status afterwards (``cancelled``, or the final status
        it had already reached — cancelling a finished task is not an error)."""
        return str(self._raw_call("task.cancel", {"task_id": task_id})["status"])

    def wait(
        self,
        task_id: int,
        progress: bool = True,
        *,
        timeout: Optional[float] = None,
        interval: float = 1.0,
        file: Optional[IO[str]] = None,
    ) -> Task:
        """Blocks until the task is completed, failed or cancelled; returns its final state.

        Follows ``task.watch`` notifications on a connection of its own (polls ``task.get``
        every ``interval`` seconds if the daemon lacks ``task.watch``). With ``progress``,
        prints a line to ``file`` (default stderr) whenever status, steps or best change.
        ``timeout`` (seconds, default none) raises :class:`WaitTimeout`; the task goes on.
        Interrupting (Ctrl-C) stops waiting, not the task: use :meth:`cancel` for that.
        """
        out = file if file is not None else sys.stderr
        deadline = None if timeout is None else time.monotonic() + timeout
        printer = _ProgressPrinter(task_id, out) if progress else None
        conn = _Connection(self.socket_path, self.timeout)
        try:
            try:
                detail = conn.call("task.watch", {"task_id": task_id, "interval_seconds": interval}, self.timeout)
            except MethodNotFound:
                detail = None
            if detail is None:
                return self._poll(task_id, printer, deadline, interval, timeout)
            if printer is not None:
                printer.objective = (detail.get("objective") or {}).get("metric")
                printer.show(detail)
            finished = detail.get("status") in ("completed", "failed", "cancelled")
            while not finished:
                try:
                    msg = conn.read_message(deadline, f"task.watch of task {task_id}")
                except TunedConnectionError as e:
                    if e.kind == "timeout" and deadline is not None and time.monotonic() >= deadline:
                        self._timed_out(task_id, timeout)
                    raise
                method = msg.get("method")
                params = msg.get("params") or {}
                if method == "task.progress" and printer is not None:
                    printer.show(params)
                elif method == "task.finished":
                    finished = True
        finally:
            conn.close()
        final = self.status(task_id)
        if printer is not None:
            printer.finish(final)
        return final

    def _poll(
        self, task_id: int, printer: Optional["_ProgressPrinter"], deadline: Optional[float], interval: float,
        timeout: Optional[float],
    ) -> Task:
        while True:
            t = self.status(task_id)
            if printer is not None:
                printer.objective = t.objective.metric
                printer.show(t.raw)
            if t.done:
                if printer is not None:
                    printer.finish(t)
                return t
            if deadline is not None and time.monotonic() >= deadline:
                self._timed_out(task_id, timeout)
            time.sleep(max(0.25, interval))

    def _timed_out(self, task_id: int, timeout: Optional[float]) -> NoReturn:
        try:
            t = self.status(task_id)
            where = f"{t.status}, {t.steps_done}/{t.steps_total} steps"
        except (DaemonError, TunedConnectionError):
            where = "state unknown"
        raise WaitTimeout(
            f"task {task_id} has not ended within {timeout or 0:g} s ({where}); it goes on: wait() again, "
            f"or cancel({task_id})", task_id)

    # -- meta -------------------------------------------------------------------------------

    def recommend(self, features: Union[PathLike, Mapping[str, Any]], *, top_k: int = 1) -> Recommendation:
        """Zero-shot configurations for a task described by its features (docs/META.md).

        ``features`` is a features file's path (``*.toml``/``*.json``) or a dict
        (``{"model_kind": "mlp", "parameter_count": 4810, …}``). A bad feature raises
        :class:`ValidationFailed` naming each.
        """
        params: Dict[str, Any] = {"top_k": top_k}
        if isinstance(features, Mapping):
            _dict_json(features, "features")
            params["features"] = dict(features)
        elif isinstance(features, (str, os.PathLike)):
            text, _fmt, _name, _folder = _file_text(features, "features file")
            params["text"] = text
            params["filename"] = os.fspath(features)
        else:
            raise TypeError(f"recommend() takes a features file's path or a dict, got {type(features).__name__}")
        return Recommendation.from_wire(self._raw_call("recommend", params))

    def daemon_status(self) -> DaemonStatus:
        """``daemon.status``: versions, workers, task counts, socket, store (``store.error``
        is set while a full or failing disk pauses the daemon)."""
        return DaemonStatus.from_wire(self._raw_call("daemon.status", None))

    # -- ask/tell (issue 13, item 4) ------------------------------------------------------

    def create_study(self, task: Union[PathLike, Mapping[str, Any]], *, base_dir: Optional[PathLike] = None,
                     client_id: Optional[str] = None, lease_seconds: float = 60.0) -> Study:
        """Submits an external task (``[workload] kind = "external"``) and returns its
        :class:`Study`, to run its segments from this process (``study.ask()`` …)."""
        task_id = self.submit(task, base_dir=base_dir)
        return self.study(task_id, client_id=client_id, lease_seconds=lease_seconds)

    def study(self, task_id: int, *, client_id: Optional[str] = None, lease_seconds: float = 60.0) -> Study:
        """The :class:`Study` of an external task already submitted (by you). Raises
        :class:`InvalidParams` for a task the workers run, :class:`TaskNotFound` for none."""
        t = self.status(task_id)
        if t.workload != "external":
            raise InvalidParams(
                -32602, f"task {task_id} is run by the daemon's workers (workload {t.workload!r}); "
                "ask/tell is for tasks whose [workload] kind = \"external\"", None)
        return Study(self, task_id, client_id=client_id, lease_seconds=lease_seconds)


class _ProgressPrinter:
    """One line per visible change of a watched task."""

    def __init__(self, task_id: int, out: IO[str]) -> None:
        self.task_id = task_id
        self.out = out
        self.objective: Optional[str] = None
        self.last: Optional[Tuple[Any, ...]] = None

    def show(self, d: Mapping[str, Any]) -> None:
        status = d.get("status")
        done, total = int(d.get("steps_done", 0)), int(d.get("steps_total", 0))
        best = d.get("best")
        key = (status, done, total, json.dumps(best, sort_keys=True), d.get("paused"))
        if key == self.last:
            return
        self.last = key
        pct = f" ({100 * done // total}%)" if total > 0 else ""
        parts = [f"task {self.task_id} {status}: {done}/{total} steps{pct}"]
        if isinstance(best, dict):
            parts.append(f"best {self.objective or 'objective'} {_fmt(number(best.get('value')))} "
                         f"(trial {best.get('trial_id')}, step {best.get('step')})")
        eta = d.get("eta_seconds")
        if eta is not None and status == "running":
            parts.append(f"eta {float(eta):.0f} s")
        if d.get("paused"):
            parts.append(f"paused: {d['paused']}")
        self.out.write(", ".join(parts) + "\n")
        self.out.flush()

    def finish(self, t: Task) -> None:
        self.show(t.raw)
        if t.error:
            self.out.write(f"task {self.task_id} {t.status}: {t.error}\n")
            self.out.flush()


def _fmt(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.6g}"
