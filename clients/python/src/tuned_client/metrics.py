"""Formatting ``tuned:`` metric lines (docs/COMMAND_WORKLOADS.md, "Metric lines").

The grammar, as Sources/TunedWorker/MetricLine.swift parses it::

    line   = "tuned:" { blank token } [ blank ]
    token  = key "=" value
    key    = ( letter | "_" ) { letter | digit | "_" | "." | "-" | "/" }      ASCII
    value  = decimal number | nan | inf | -inf | …
    step   = the key "step", a non-negative integer, exactly once

:func:`format_line` refuses anything the daemon would drop with a warning, so a metric is
never lost silently.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Mapping, Tuple

__all__ = ["format_line", "is_metric_name", "is_loss", "ALIASES"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*\Z")

#: Names the daemon records under another name.
ALIASES = {"gns": "gradient_noise_scale"}


def is_metric_name(name: str) -> bool:
    """Whether ``name`` is a key of the metric-line grammar (ASCII, as above)."""
    return isinstance(name, str) and _KEY.match(name) is not None


def is_loss(name: str) -> bool:
    """A metric whose non-finite value means divergence: ``loss`` or a name ending in ``_loss``."""
    return name == "loss" or name.endswith("_loss")


def _step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"step must be a non-negative integer (completed steps), got {type(step).__name__} {step!r}")
    s = int(step.__index__())
    if s < 0:
        raise ValueError(f"step must be a non-negative integer (completed steps), got {s}")
    return s


def _value(name: str, value: Any) -> Tuple[str, float]:
    """The token text of a metric value, and the value as a float."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"metric {name!r} must be a number, got {type(value).__name__} {value!r}")
    if isinstance(value, int):
        try:
            return str(value), float(value)
        except OverflowError:
            raise ValueError(f"metric {name!r} = {value} is beyond a double's range") from None
    try:
        f = float(value)  # floats, numpy scalars, 0-d tensors, Decimal, Fraction
    except (TypeError, ValueError):
        raise TypeError(f"metric {name!r} must be a number, got {type(value).__name__} {value!r}") from None
    # repr gives the shortest text that parses back to the same double (nan, inf, -inf, 1e-05).
    return repr(f), f


def format_line(step: Any, metrics: Mapping[str, Any]) -> Tuple[str, List[Tuple[str, float]]]:
    """The ``tuned:`` line for ``step`` and ``metrics``, and the (name, value) pairs in it.

    Raises TypeError for a step or value that is not a number and ValueError for a name
    outside the grammar, a negative step, the name ``step``, or a name given twice (``gns``
    is ``gradient_noise_scale``).
    """
    s = _step(step)
    tokens = [f"step={s}"]
    pairs: List[Tuple[str, float]] = []
    seen: Dict[str, str] = {}
    for name, value in metrics.items():
        if not is_metric_name(name):
            raise ValueError(
                f"metric name {name!r} is not allowed: use ASCII letters, digits and _ . - /, "
                "starting with a letter or _ (e.g. val_loss, val/acc)")
        if name == "step":
            raise ValueError("'step' is the step number, not a metric: pass it as report()'s first argument")
        canonical = ALIASES.get(name, name)
        if canonical in seen:
            raise ValueError(f"metric {canonical!r} given twice (as {seen[canonical]!r} and {name!r})")
        seen[canonical] = name
        text, f = _value(name, value)
        tokens.append(f"{name}={text}")
        pairs.append((canonical, f))
    return "tuned: " + " ".join(tokens), pairs


def first_nonfinite_loss(pairs: List[Tuple[str, float]]) -> Tuple[str, float]:
    """The first (name, value) whose name is a loss and whose value is NaN or infinite, or ("", 0)."""
    for name, value in pairs:
        if is_loss(name) and not math.isfinite(value):
            return name, value
    return "", 0.0
