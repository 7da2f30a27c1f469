"""tuned_client: Python client of the tuned hyperparameter-tuning daemon.

Inside a command workload (a program tuned runs per segment)::

    t = tuned_client.trial()
    for step in t.steps():
        ...
        t.report(step, val_loss=loss)
    t.save(state)

Outside, over the daemon's socket::

    c = tuned_client.Client()
    task_id = c.submit("task.toml")
    c.wait(task_id)
    print(c.results(task_id).best_config)

Standard library only; Python 3.9 or newer. The version's first number is the protocol
version it speaks (``PROTOCOL_VERSION``); see clients/python/README.md.
"""

from ._version import PROTOCOL_VERSION, __version__
from .client import DEFAULT_SOCKET, Client, resolve_socket
from . import errors as _errors
from .errors import *  # noqa: F401,F403 — every exception; their names are errors.__all__
from .metrics import format_line, is_metric_name
from .study import AskedTrial, Study
from .trial import Trial, rng_state, trial
from .types import (
    Best,
    DaemonStatus,
    Member,
    NearestTask,
    Objective,
    Recommendation,
    RecommendedOption,
    Results,
    StoreInfo,
    Task,
    TaskSummary,
    TrialRow,
    Workers,
)

__all__ = [
    "AskedTrial",
    "Study",
    "PROTOCOL_VERSION",
    "__version__",
    "trial",
    "Trial",
    "rng_state",
    "format_line",
    "is_metric_name",
    "Client",
    "DEFAULT_SOCKET",
    "resolve_socket",
    "Best",
    "DaemonStatus",
    "Member",
    "NearestTask",
    "Objective",
    "Recommendation",
    "RecommendedOption",
    "Results",
    "StoreInfo",
    "Task",
    "TaskSummary",
    "TrialRow",
    "Workers",
] + _errors.__all__
