"""Exceptions of tuned_client.

Everything the client raises on purpose derives from :class:`TunedError`:

- :class:`DaemonError` and its subclasses: the daemon answered with a JSON-RPC error; they
  carry its ``code``, ``message`` and ``data`` (docs/PROTOCOL.md, "Error codes").
- :class:`TunedConnectionError`: no daemon, a stale socket, no permission, a timeout.
- :class:`ProtocolVersionError`: the daemon speaks another protocol version.
- :class:`TrialSetupError`, :class:`TrialDiverged`: inside a command workload.
- :class:`WaitTimeout`: :meth:`Client.wait` ran out of time.
- :class:`SubmitWarning` (a warning, not an exception): what ``task.submit`` accepted with a remark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Type

__all__ = [
    "TunedError",
    "DaemonError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "TaskNotFound",
    "ValidationFailed",
    "Problem",
    "Unauthorized",
    "TooManyConnections",
    "RequestTooLarge",
    "StoreUnavailable",
    "Cancelled",
    "LeaseExpired",
    "ShuttingDown",
    "TunedConnectionError",
    "ProtocolVersionError",
    "TrialSetupError",
    "TrialDiverged",
    "WaitTimeout",
    "SubmitWarning",
    "StudyFinished",
]


class TunedError(Exception):
    """Base class of every error tuned_client raises on purpose."""


class DaemonError(TunedError):
    """The daemon answered a request with an error.

    Attributes:
        code: the JSON-RPC error code (``-32000`` task not found, ``-32602`` invalid params, …;
            an unknown code is kept as it came).
        message: the daemon's message, written for a person (one line per problem).
        data: the error's structured ``data`` (a dict), or None.
        method: the method that was called.
    """

    def __init__(self, code: int, message: str, data: Any = None, method: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.method = method

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class ParseError(DaemonError):
    """-32700: the daemon could not parse the request (a client bug)."""


class InvalidRequest(DaemonError):
    """-32600: JSON but not a valid request (a client bug)."""


class MethodNotFound(DaemonError):
    """-32601: the daemon does not know the method (an older daemon?)."""


class InvalidParams(DaemonError):
    """-32602: a parameter is missing, of the wrong type or out of range.

    ``field`` is its path (``task_id``, ``metrics[1].value``) when the daemon names it.
    """

    @property
    def field(self) -> Optional[str]:
        return self.data.get("field") if isinstance(self.data, dict) else None


class InternalError(DaemonError):
    """-32603: a bug or unexpected failure inside the daemon (see its log)."""


class TaskNotFound(DaemonError):
    """-32000: no task has this id."""

    @property
    def task_id(self) -> Optional[int]:
        return self.data.get("task_id") if isinstance(self.data, dict) else None


@dataclass(frozen=True)
class Problem:
    """One problem of a task file (or features file) the daemon refused."""

    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    field: Optional[str] = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return where + field + self.message


class ValidationFailed(DaemonError):
    """-32001: a task file or a features file does not validate.

    ``problems`` lists **every** problem the daemon found, each with its file, line, column
    (when known), field and message; ``str(error)`` is one ``FILE:LINE: field: message``
    line per problem.
    """

    @property
    def problems(self) -> List[Problem]:
        raw = self.data.get("problems") if isinstance(self.data, dict) else None
        out: List[Problem] = []
        if isinstance(raw, list):
            for p in raw:
                if isinstance(p, dict):
                    out.append(Problem(
                        message=str(p.get("message", "")), file=p.get("file"), line=p.get("line"),
                        column=p.get("column"), field=p.get("field")))
        if not out:
            out = [Problem(message=line) for line in self.message.splitlines() if line]
        return out


class Unauthorized(DaemonError):
    """-32002: this user may not use the socket (join its group), or may not do this."""


class TooManyConnections(DaemonError):
    """-32003: the daemon serves its maximum number of client connections."""


class RequestTooLarge(DaemonError):
    """-32004: the request line exceeded the daemon's limit (1 MiB)."""


class StoreUnavailable(DaemonError):
    """-32005: the daemon's store cannot be written or read; nothing was committed."""


class Cancelled(DaemonError):
    """-32006: the task was cancelled."""


class LeaseExpired(DaemonError):
    """-32007: a segment's lease expired (worker methods)."""


class ShuttingDown(DaemonError):
    """-32008: the daemon is stopping and takes no new work."""


_BY_CODE: Dict[int, Type[DaemonError]] = {
    -32700: ParseError,
    -32600: InvalidRequest,
    -32601: MethodNotFound,
    -32602: InvalidParams,
    -32603: InternalError,
    -32000: TaskNotFound,
    -32001: ValidationFailed,
    -32002: Unauthorized,
    -32003: TooManyConnections,
    -32004: RequestTooLarge,
    -32005: StoreUnavailable,
    -32006: Cancelled,
    -32007: LeaseExpired,
    -32008: ShuttingDown,
}


def daemon_error(error: Any, method: Optional[str] = None) -> DaemonError:
    """The exception for a reply's ``error`` member (unknown codes: a plain DaemonError)."""
    if not isinstance(error, dict):
        return DaemonError(-32603, f"malformed error reply: {error!r}", None, method)
    code = error.get("code")
    message = error.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        code = -32603
    if not isinstance(message, str):
        message = f"error {code} without a message"
    cls = _BY_CODE.get(code, DaemonError)
    return cls(code, message, error.get("data"), method)


class TunedConnectionError(TunedError):
    """The daemon could not be reached, or the connection broke.

    ``kind`` says which: ``no_daemon`` (no socket file), ``stale_socket`` (nobody listens),
    ``permission_denied`` (join the socket's group), ``bad_socket_path``,
    ``connection_closed``, ``timeout``, ``response_too_large``, ``protocol_violation``, ``io``.
    """

    def __init__(self, kind: str, message: str, socket_path: Optional[str] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.socket_path = socket_path


class ProtocolVersionError(TunedError):
    """The daemon speaks a protocol version other than this client's."""

    def __init__(self, message: str, client_protocol: int, daemon_protocol: Any, daemon_version: Any) -> None:
        super().__init__(message)
        self.client_protocol = client_protocol
        self.daemon_protocol = daemon_protocol
        self.daemon_version = daemon_version


class TrialSetupError(TunedError, ValueError):
    """A ``TUNED_*`` variable or a stand-alone command-line option is missing or malformed."""


class TrialDiverged(TunedError, ArithmeticError):
    """A loss reported through :meth:`Trial.report` is NaN or infinite.

    The metric line was printed before this was raised: under tuned the segment ends as
    ``diverged`` at that step (the worker stops the program), exactly as the contract says.
    Raising stops your loop instead of training on with NaNs; catch it if you want otherwise.
    """

    def __init__(self, message: str, step: int, metric: str, value: float) -> None:
        super().__init__(message)
        self.step = step
        self.metric = metric
        self.value = value


class WaitTimeout(TunedError, TimeoutError):
    """:meth:`Client.wait` gave up before the task ended (the task goes on)."""

    def __init__(self, message: str, task_id: int) -> None:
        super().__init__(message)
        self.task_id = task_id


class SubmitWarning(UserWarning):
    """A line of ``task.submit``'s ``warnings``: accepted, but worth a look (e.g. an own key
    ``weight_decy`` that looks like tuned's ``weight_decay``)."""


class StudyFinished(TunedError):
    """The study's task has ended: there is nothing left to ask, report or tell."""
