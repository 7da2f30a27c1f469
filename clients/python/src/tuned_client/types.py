"""The daemon's replies as dataclasses (docs/PROTOCOL.md; Sources/TunedRPC/Methods).

Field names are the wire's (snake_case). Non-finite numbers, which travel as the strings
``"NaN"``, ``"Infinity"``, ``"-Infinity"``, are floats here. Every object keeps the reply it
was made from in ``raw`` (fields a newer daemon adds are there).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

__all__ = [
    "Objective",
    "Best",
    "Member",
    "Task",
    "TaskSummary",
    "TrialRow",
    "Results",
    "Workers",
    "StoreInfo",
    "DaemonStatus",
    "RecommendedOption",
    "NearestTask",
    "Recommendation",
    "FINAL_STATUSES",
]

#: Task statuses after which nothing changes.
FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number(v: Any) -> Optional[float]:
    """A wire number (or ``"NaN"``/``"Infinity"``/``"-Infinity"``) as a float; None stays None."""
    if v is None:
        return None
    if isinstance(v, str):
        if v in _NONFINITE:
            return _NONFINITE[v]
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _opt_int(v: Any) -> Optional[int]:
    return None if v is None else int(v)


def _metrics(v: Any) -> Dict[str, float]:
    if not isinstance(v, dict):
        return {}
    out: Dict[str, float] = {}
    for k, x in v.items():
        f = number(x)
        if f is not None:
            out[k] = f
    return out


@dataclass
class Objective:
    """What a task optimises: ``metric`` (``val_loss``, or a command workload's own such as
    ``bleu``), ``mode`` (``min``/``max``) and ``select`` (``final`` or ``best``: which value
    along a trial's curve is the trial's; None from a daemon that predates it)."""

    metric: str
    mode: str
    select: Optional[str] = None

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "Objective":
        return cls(metric=d["metric"], mode=d["mode"], select=d.get("select"))


@dataclass
class Best:
    """The best objective value so far, the trial that reached it and at which step."""

    value: float
    trial_id: int
    step: int

    @classmethod
    def from_wire(cls, d: Optional[Dict[str, Any]]) -> Optional["Best"]:
        if d is None:
            return None
        v = number(d["value"])
        assert v is not None
        return cls(value=v, trial_id=int(d["trial_id"]), step=int(d["step"]))


@dataclass
class Member:
    """One trial (or PBT member) as ``status``/``wait`` show it."""

    trial_id: int
    member: int
    status: str
    step: int
    config: Dict[str, Any]
    last_metric: Optional[float] = None
    worker_id: Optional[str] = None

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "Member":
        return cls(
            trial_id=int(d["trial_id"]), member=int(d["member"]), status=d["status"], step=int(d["step"]),
            config=d.get("config") or {}, last_metric=number(d.get("last_metric")), worker_id=d.get("worker_id"))


@dataclass
class Task:
    """A task's state (``task.get``): status, progress, best so far, members."""

    task_id: int
    name: str
    status: str
    strategy: str
    workload: str
    objective: Objective
    members: List[Member]
    steps_done: int
    steps_total: int
    best: Optional[Best] = None
    eta_seconds: Optional[float] = None
    created_at: Optional[float] = None
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    error: Optional[str] = None
    paused: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the task is ``completed``, ``failed`` or ``cancelled``."""
        return self.status in FINAL_STATUSES

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "Task":
        return cls(
            task_id=int(d["task_id"]), name=d["name"], status=d["status"], strategy=d["strategy"],
            workload=d["workload"], objective=Objective.from_wire(d["objective"]),
            members=[Member.from_wire(m) for m in d.get("members") or []],
            steps_done=int(d["steps_done"]), steps_total=int(d["steps_total"]), best=Best.from_wire(d.get("best")),
            eta_seconds=number(d.get("eta_seconds")), created_at=number(d.get("created_at")),
            started_at=number(d.get("started_at")), finished_at=number(d.get("finished_at")), error=d.get("error"),
            paused=d.get("paused"), raw=d)


@dataclass
class TaskSummary:
    """One row of ``task.list``."""

    task_id: int
    name: str
    status: str
    strategy: str
    workload: str
    steps_done: int
    steps_total: int
    best: Optional[Best] = None
    created_at: Optional[float] = None
    finished_at: Optional[float] = None
    paused: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "TaskSummary":
        return cls(
            task_id=int(d["task_id"]), name=d["name"], status=d["status"], strategy=d["strategy"],
            workload=d["workload"], steps_done=int(d["steps_done"]), steps_total=int(d["steps_total"]),
            best=Best.from_wire(d.get("best")), created_at=number(d.get("created_at")),
            finished_at=number(d.get("finished_at")), paused=d.get("paused"), raw=d)


@dataclass
class TrialRow:
    """One trial of ``results``/``trials``: configuration, progress, final metrics.

    ``objective_value`` is its value under the objective's ``select`` (what ranks it; None
    from older daemons), ``best_metric`` the best value along its curve."""

    trial_id: int
    member: int
    status: str
    config: Dict[str, Any]
    steps_done: int
    final_metrics: Dict[str, float]
    best_metric: Optional[float] = None
    objective_value: Optional[float] = None
    parent_trial_id: Optional[int] = None
    error: Optional[str] = None
    reason: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "TrialRow":
        return cls(
            trial_id=int(d["trial_id"]), member=int(d["member"]), status=d["status"], config=d.get("config") or {},
            steps_done=int(d["steps_done"]), final_metrics=_metrics(d.get("final_metrics")),
            best_metric=number(d.get("best_metric")), objective_value=number(d.get("objective_value")),
            parent_trial_id=_opt_int(d.get("parent_trial_id")), error=d.get("error"), reason=d.get("reason"), raw=d)

    def to_record(self) -> Dict[str, Any]:
        """A flat dict: the trial's fields, ``config.KEY`` and ``metric.NAME`` columns."""
        rec: Dict[str, Any] = {
            "trial_id": self.trial_id, "member": self.member, "status": self.status, "steps_done": self.steps_done,
            "objective_value": self.objective_value, "best_metric": self.best_metric,
            "parent_trial_id": self.parent_trial_id, "reason": self.reason,
        }
        for k in sorted(self.config):
            rec[f"config.{k}"] = self.config[k]
        for k in sorted(self.final_metrics):
            rec[f"metric.{k}"] = self.final_metrics[k]
        return rec


@dataclass
class Results:
    """``task.results``: the best configuration and value, and every trial."""

    task_id: int
    status: str
    objective: Objective
    best_config: Optional[Dict[str, Any]]
    best: Optional[Best]
    final_metrics: Dict[str, float]
    trials: List[TrialRow]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "Results":
        return cls(
            task_id=int(d["task_id"]), status=d["status"], objective=Objective.from_wire(d["objective"]),
            best_config=d.get("best_config"), best=Best.from_wire(d.get("best")),
            final_metrics=_metrics(d.get("final_metrics")), trials=[TrialRow.from_wire(t) for t in d.get("trials") or []],
            raw=d)

    def to_records(self) -> List[Dict[str, Any]]:
        """One flat dict per trial (see :meth:`TrialRow.to_record`)."""
        return [t.to_record() for t in self.trials]

    def to_pandas(self) -> Any:
        """The trials as a ``pandas.DataFrame`` indexed by ``trial_id`` (pandas must be installed).

        Columns: ``member``, ``status``, ``steps_done``, ``objective_value``, ``best_metric``, ``parent_trial_id``,
        ``reason``, then ``config.KEY`` and ``metric.NAME`` for every key and metric.
        """
        try:
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                "Results.to_pandas() needs pandas, which is not installed: pip install pandas "
                "(or use Results.to_records(), a list of dicts)") from None
        frame = pandas.DataFrame.from_records(self.to_records())
        if "trial_id" in getattr(frame, "columns", ()):
            frame = frame.set_index("trial_id")
        return frame


@dataclass
class Workers:
    configured: int
    alive: int
    busy: int


@dataclass
class StoreInfo:
    path: str
    size_bytes: Optional[int] = None
    error: Optional[str] = None


@dataclass
class DaemonStatus:
    """``daemon.status``: version, protocol version, workers, task counts, socket, store."""

    version: str
    protocol_version: int
    uptime_seconds: float
    pid: int
    workers: Workers
    tasks: Dict[str, int]
    socket: str
    store: StoreInfo
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "DaemonStatus":
        w = d.get("workers") or {}
        s = d.get("store") or {}
        return cls(
            version=d["version"], protocol_version=int(d["protocol_version"]),
            uptime_seconds=float(d.get("uptime_seconds", 0)), pid=int(d.get("pid", 0)),
            workers=Workers(int(w.get("configured", 0)), int(w.get("alive", 0)), int(w.get("busy", 0))),
            tasks={k: int(v) for k, v in (d.get("tasks") or {}).items()}, socket=d.get("socket", ""),
            store=StoreInfo(path=s.get("path", ""), size_bytes=_opt_int(s.get("size_bytes")), error=s.get("error")),
            raw=d)


@dataclass
class RecommendedOption:
    optimizer: str
    config: Dict[str, Any]
    predicted_loss: float
    loss_low: float
    loss_high: float
    hypergradient_beta: float
    state_bytes_per_parameter: Optional[float] = None
    parameter_groups: Optional[str] = None

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "RecommendedOption":
        return cls(
            optimizer=d["optimizer"], config=d.get("config") or {}, predicted_loss=number(d["predicted_loss"]) or 0.0,
            loss_low=number(d["loss_low"]) or 0.0, loss_high=number(d["loss_high"]) or 0.0,
            hypergradient_beta=number(d.get("hypergradient_beta")) or 0.0,
            state_bytes_per_parameter=number(d.get("state_bytes_per_parameter")),
            parameter_groups=d.get("parameter_groups"))


@dataclass
class NearestTask:
    name: str
    distance: float
    best_loss: float
    best_config: Dict[str, Any]
    id: Optional[int] = None

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "NearestTask":
        return cls(
            name=d["name"], distance=number(d["distance"]) or 0.0, best_loss=number(d["best_loss"]) or 0.0,
            best_config=d.get("best_config") or {}, id=_opt_int(d.get("id")))


@dataclass
class Recommendation:
    """``recommend``: ranked configurations for a task described by its features."""

    policy: str
    options: List[RecommendedOption]
    confidence: float
    missing_features: List[str]
    excluded: Dict[str, str]
    nearest: List[NearestTask]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, d: Dict[str, Any]) -> "Recommendation":
        return cls(
            policy=d["policy"], options=[RecommendedOption.from_wire(o) for o in d.get("options") or []],
            confidence=float(d.get("confidence", 0)), missing_features=list(d.get("missing_features") or []),
            excluded=dict(d.get("excluded") or {}), nearest=[NearestTask.from_wire(n) for n in d.get("nearest") or []],
            raw=d)
