"""Ask/tell: drive an external task from your own loop (docs/PROTOCOL.md, "Ask/tell").

A task whose ``[workload] kind = "external"`` has no program: the daemon's workers never run
it. Your loop asks for a segment, trains it, reports metrics and tells how it ended::

    study = client.create_study("task.toml")          # or client.study(task_id)
    while (t := study.ask()) is not None:             # None once the task has ended
        state = t.load(default={"w": 0.0})            # the checkpoint to continue from, if any
        for step in t.steps():
            ...train one step with t.config...
            t.report(step, val_loss=loss)             # study.report: metrics, and the heartbeat
        t.save(state)                                 # into t.checkpoint_dir, atomically
        study.tell(t)                                 # ok, with t.checkpoint_dir

Every strategy works unchanged: under PBT a segment may start from another member's
checkpoint with a perturbed configuration (``t.exploit`` says how to restore), exactly as a
worker is told. A segment asked and never told expires after ``lease_seconds`` without a
report and is asked again.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from .errors import LeaseExpired, StudyFinished, TrialDiverged
from .metrics import first_nonfinite_loss, format_line
from .trial import Trial

if TYPE_CHECKING:
    from .client import Client
    from .types import Results, Task

__all__ = ["Study", "AskedTrial"]


class AskedTrial(Trial):
    """One segment asked from a study: a :class:`Trial` (``config``, ``seed``, ``steps()``,
    ``restore_dir``, ``checkpoint_dir``, ``save``, ``load``) whose ``report`` goes to the
    daemon instead of stdout.

    ``exploit`` is None for a plain resume, else ``"keep_optimizer_state"`` or
    ``"reset_optimizer_state"``: ``restore_dir`` is another member's checkpoint (a PBT
    exploit) — take the weights and the step from it, the hyperparameters from ``config``,
    and keep or reset the optimizer's state as it says.
    """

    def __init__(self, study: "Study", segment: Mapping[str, Any], seed: int, exploit: Optional[str]) -> None:
        config = segment.get("config")
        super().__init__(
            config=dict(config) if isinstance(config, Mapping) else {}, seed=seed,
            start_step=int(segment["start_step"]), end_step=int(segment["end_step"]),
            restore_dir=segment.get("restore_checkpoint"), checkpoint_dir=str(segment["checkpoint_dir"]),
            task_id=int(segment["task_id"]), trial_id=int(segment["trial_id"]), segment_id=int(segment["segment_id"]),
            managed=True)
        self.exploit = exploit
        self.lease_seconds = float(segment.get("lease_seconds", 60))
        self._study = study
        self.told = False

    def report(self, step: int, metrics: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> str:
        """Sends ``study.report`` (validated like a metric line); returns the line it stands for.

        A loss (``loss`` or ``…_loss``) that is NaN or infinite tells the segment *diverged*
        and raises :class:`TrialDiverged`, as a command workload's would end.
        """
        merged: Dict[str, Any] = dict(metrics or {})
        merged.update(kwargs)
        line, pairs = format_line(step, merged)
        self._study.report(self, step, merged)
        name, value = first_nonfinite_loss(pairs)
        if name:
            self._study.tell(self, state="diverged", error=f"{name} = {value} at step {step}")
            raise TrialDiverged(f"{name} became {value} at step {step}: the segment was told diverged", int(step), name, value)
        return line


class Study:
    """An external task, driven by this process. Get one from :meth:`Client.create_study` or
    :meth:`Client.study`. ``client_id`` names this loop among concurrent ones of yours
    (default: the connection's pid)."""

    def __init__(self, client: "Client", task_id: int, *, client_id: Optional[str] = None,
                 lease_seconds: float = 60.0) -> None:
        self.client = client
        self.task_id = int(task_id)
        self.client_id = client_id
        self.lease_seconds = lease_seconds
        self.finished = False

    def __repr__(self) -> str:
        return f"Study(task_id={self.task_id}, client_id={self.client_id!r}, finished={self.finished})"

    def _params(self, **extra: Any) -> Dict[str, Any]:
        p: Dict[str, Any] = {"task_id": self.task_id}
        if self.client_id is not None:
            p["client_id"] = self.client_id
        p.update(extra)
        return p

    def ask(self, *, timeout: Optional[float] = None) -> Optional[AskedTrial]:
        """The next segment to run, waiting (long polls of 5 s) while none is ready — the other
        members' segments in flight, a PBT barrier. Returns None once the task has ended;
        raises :class:`TimeoutError` after ``timeout`` seconds without a segment."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = 5.0 if deadline is None else max(0.0, min(5.0, deadline - time.monotonic()))
            r = self.client.call(
                "study.ask", self._params(wait_seconds=wait, lease_seconds=self.lease_seconds), timeout=wait + 30)
            if r.get("finished"):
                self.finished = True
                return None
            seg = r.get("segment")
            if seg is not None:
                return AskedTrial(self, seg, int(r.get("seed") or 0), r.get("exploit"))
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"study {self.task_id}: no segment ready within {timeout} s")
            time.sleep(float(r.get("retry_after_seconds") or 0) if wait == 0 else 0)

    def report(self, t: AskedTrial, step: int, metrics: Mapping[str, Any]) -> bool:
        """Sends metrics of ``t`` at ``step`` (also its heartbeat); True when the daemon says
        stop (the task was cancelled or ended). Usually called as ``t.report(step, …)``."""
        _, pairs = format_line(step, metrics)
        points: List[Dict[str, Any]] = [{"step": int(step), "name": n, "value": _wire(v)} for n, v in pairs]
        r = self._segment_call("study.report", t, metrics=points)
        return bool(r.get("stop"))

    def tell(self, t: AskedTrial, *, checkpoint: Optional[str] = None, state: str = "ok",
             error: Optional[str] = None) -> str:
        """Ends ``t``: ``state`` ``"ok"`` (its state written into ``checkpoint``, default
        ``t.checkpoint_dir``), ``"failed"`` (with ``error``) or ``"diverged"``. Returns how the
        daemon took it (``"diverged"`` for an ok whose reported loss was not finite)."""
        if state not in ("ok", "failed", "diverged"):
            raise ValueError(f"state must be 'ok', 'failed' or 'diverged', got {state!r}")
        if t.told:
            raise ValueError(f"segment {t.segment_id} was already told")
        params: Dict[str, Any] = {"status": state}
        if state == "ok":
            params["checkpoint"] = checkpoint if checkpoint is not None else t.checkpoint_dir
        if error is not None:
            params["error"] = str(error)
        r = self._segment_call("study.tell", t, **params)
        t.told = True
        return str(r.get("status", state))

    def status(self) -> "Task":
        return self.client.status(self.task_id)

    def results(self) -> "Results":
        return self.client.results(self.task_id)

    def _segment_call(self, method: str, t: AskedTrial, **params: Any) -> Dict[str, Any]:
        if t.task_id != self.task_id:
            raise ValueError(f"segment {t.segment_id} belongs to task {t.task_id}, not to this study's {self.task_id}")
        try:
            return dict(self.client.call(method, self._params(segment_id=t.segment_id, **params)))
        except LeaseExpired as e:
            if self.client.status(self.task_id).status in ("completed", "failed", "cancelled"):
                self.finished = True
                raise StudyFinished(f"study {self.task_id} has ended; segment {t.segment_id} can no longer be "
                                    f"reported on or told ({method})") from e
            raise


def _wire(v: float) -> Any:
    """A metric value as the protocol carries it: non-finite values as strings."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v
