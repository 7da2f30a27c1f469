"""tuned_client: Python client of the tuned hyperparameter-tuning daemon.

Inside a command workload (a program tuned runs per segment)::

    t = tuned_client.trial()
    for step in t.steps():
        ...
        t.report(step, val_loss=loss)
    t.save(state)

Standard library only; Python 3.9 or newer. The version's first number is the protocol
version it speaks (``PROTOCOL_VERSION``).
"""

from ._version import PROTOCOL_VERSION, __version__
from .errors import TrialDiverged, TrialSetupError, TunedError
from .metrics import format_line, is_metric_name
from .trial import Trial, rng_state, trial

__all__ = [
    "PROTOCOL_VERSION",
    "__version__",
    "trial",
    "Trial",
    "rng_state",
    "format_line",
    "is_metric_name",
    "TunedError",
    "TrialSetupError",
    "TrialDiverged",
]
