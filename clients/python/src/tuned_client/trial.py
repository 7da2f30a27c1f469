"""Inside a command workload: the segment tuned asked for, metric lines, checkpoints.

::

    import random, tuned_client

    t = tuned_client.trial()                     # reads TUNED_* (or stand-alone defaults)
    lr = t.config["lr"]                          # hyperparameters: always from t.config
    state = t.load() or {"w": 0.0, "rng": None}  # state: from the checkpoint (None on a fresh start)
    rng = random.Random(t.seed)
    if state["rng"] is not None:
        rng.setstate(tuned_client.rng_state(state["rng"]))
    w = state["w"]
    for step in t.steps():                       # start_step+1 … end_step
        w -= lr * 2 * (w - rng.gauss(3.0, 0.1))
        if step % 10 == 0 or step == t.end_step:
            t.report(step, val_loss=(w - 3.0) ** 2, lr=lr)
    t.save({"w": w, "rng": rng.getstate()})      # atomically, into TUNED_CHECKPOINT_DIR

The contract this implements is docs/COMMAND_WORKLOADS.md.

**Exploit safety.** Under population-based training a member that exploits another resumes
from *that member's* checkpoint with a perturbed configuration: ``t.restore_dir`` may hold
another trial's files and ``t.config`` differ from the one they were written with. Take the
*state* (weights, optimizer moments, RNG state, data position) from the checkpoint and the
*hyperparameters* (lr, weight decay, …) from ``t.config``, never from the checkpoint; treat
``t.restore_dir`` as read-only (several members may share it).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import tempfile
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from .errors import TrialDiverged, TrialSetupError
from .metrics import first_nonfinite_loss, format_line

__all__ = ["Trial", "trial", "rng_state"]

_PICKLE_SUFFIXES = (".pkl", ".pickle")


def rng_state(state: Any) -> Any:
    """``random.Random.getstate()`` back from JSON (which turned its tuples into lists).

    ``rng.setstate(tuned_client.rng_state(t.load()["rng"]))``.
    """
    if isinstance(state, (list, tuple)):
        return tuple(rng_state(x) for x in state)
    return state


class Trial:
    """One segment of one trial: what to train, and the means to report and checkpoint.

    Get it from :func:`trial`. Attributes:

    - ``config`` (dict): the trial's configuration, ``TUNED_CONFIG`` as JSON types: an
      integer key (``batch_size``, an ``int_uniform`` key of yours) is an ``int``, a float key
      a ``float`` even when whole (``1.0``), strings and booleans stay so. (Daemons before
      that rule printed a whole float as ``1``; ``float(...)`` is harmless where it matters.)
    - ``seed`` (int): the trial's seed, for initialisation and data order.
    - ``start_step`` / ``end_step`` (int): train from ``start_step`` (completed steps so far)
      until ``end_step`` steps are done.
    - ``restore_dir`` (str or None): the checkpoint to resume from; None on a fresh start.
    - ``checkpoint_dir`` (str): where this segment's checkpoint goes (empty at the start).
    - ``task_id``, ``trial_id``, ``segment_id`` (int or None): ids, when run by tuned.
    - ``managed`` (bool): True when run by tuned, False when run by hand.
    """

    def __init__(
        self,
        *,
        config: Dict[str, Any],
        seed: int,
        start_step: int,
        end_step: int,
        restore_dir: Optional[str],
        checkpoint_dir: str,
        task_id: Optional[int] = None,
        trial_id: Optional[int] = None,
        segment_id: Optional[int] = None,
        managed: bool = False,
        out: Optional[IO[str]] = None,
    ) -> None:
        self.config = config
        self.seed = seed
        self.start_step = start_step
        self.end_step = end_step
        self.restore_dir = restore_dir
        self.checkpoint_dir = checkpoint_dir
        self.task_id = task_id
        self.trial_id = trial_id
        self.segment_id = segment_id
        self.managed = managed
        self._out = out
        self._hinted = False

    def __repr__(self) -> str:
        return (
            f"Trial(config={self.config!r}, seed={self.seed}, steps={self.start_step}->{self.end_step}, "
            f"restore_dir={self.restore_dir!r}, checkpoint_dir={self.checkpoint_dir!r}, managed={self.managed})")

    @property
    def resumed(self) -> bool:
        """True when this segment continues from a checkpoint (``restore_dir`` is set)."""
        return self.restore_dir is not None

    def steps(self) -> range:
        """The step numbers of this segment: ``start_step + 1`` … ``end_step``.

        Each is the number of steps *completed* once that iteration's update is done — the
        number :meth:`report` wants. ``for step in t.steps(): train_one_step(); t.report(step, …)``.
        """
        return range(self.start_step + 1, self.end_step + 1)

    # -- metrics --------------------------------------------------------------------------

    def report(self, step: int, metrics: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> str:
        """Prints the metric line ``tuned: step=STEP name=value …`` and flushes stdout.

        ``step`` is the number of completed steps (a non-negative int). Metrics come as
        keyword arguments (``val_loss=0.3``) and/or a mapping, for names that are not Python
        identifiers (``t.report(step, {"val/acc": 0.9})``). Names must follow the grammar
        (ASCII letters, digits, ``_ . - /``, not starting with a digit); values must be
        numbers (int, float, or anything with ``__float__``: numpy scalars, 0-d tensors).

        Non-finite values are printed (``nan``, ``inf``): for ``loss`` or a name ending in
        ``_loss`` this ends the segment as *diverged* under tuned, so after printing the
        line :class:`TrialDiverged` is raised; for other metrics they are just recorded.

        Returns the line. Raises TypeError / ValueError (nothing printed) for bad input.
        """
        merged: Dict[str, Any] = {}
        if metrics is not None:
            if not isinstance(metrics, Mapping):
                raise TypeError(f"report()'s second argument must be a mapping of metrics, got {type(metrics).__name__}")
            merged.update(metrics)
        for k, v in kwargs.items():
            if k in merged:
                raise ValueError(f"metric {k!r} given twice (in the mapping and as a keyword)")
            merged[k] = v
        line, pairs = format_line(step, merged)
        out = self._out if self._out is not None else sys.stdout
        out.write(line + "\n")
        out.flush()
        name, value = first_nonfinite_loss(pairs)
        if name:
            raise TrialDiverged(
                f"{name} is {value} at step {int(step)}: the segment ends as diverged "
                "(tuned stops the program; no checkpoint is kept)", int(step), name, value)
        return line

    # -- checkpoints ----------------------------------------------------------------------

    def checkpoint_path(self, name: str) -> str:
        """The path of ``name`` inside ``checkpoint_dir`` (for files you write yourself)."""
        return os.path.join(self.checkpoint_dir, _relative(name))

    def restore_path(self, name: str) -> Optional[str]:
        """The path of ``name`` inside ``restore_dir``, or None on a fresh start."""
        if self.restore_dir is None:
            return None
        return os.path.join(self.restore_dir, _relative(name))

    def save(self, obj_or_callback: Union[Any, Callable[[str], Any]], name: str = "state.json") -> str:
        """Writes ``name`` into the checkpoint directory atomically; returns its path.

        - An object is written as JSON (``name`` ending in ``.pkl``/``.pickle``: pickled,
          which keeps tuples — e.g. ``random.Random.getstate()`` — and other Python types).
        - A callable is called with a temporary path in the same directory, which it must
          write (a file or a directory): ``t.save(lambda p: torch.save(model.state_dict(), p),
          name="model.pt")``. The temporary name ends like ``name``, so tools that add a
          suffix (``numpy.save``) do not.

        The data is written under a temporary name, flushed to disk (fsync), then renamed
        over ``name`` and the directory synced: a crash leaves the old file or the new one,
        never half of one. ``name`` may contain subdirectories, but not ``..``.
        """
        final = self.checkpoint_path(name)
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(final)}")
        _remove(tmp)
        try:
            if callable(obj_or_callback):
                obj_or_callback(tmp)
                if not os.path.lexists(tmp):
                    raise FileNotFoundError(
                        f"the save callback wrote nothing at the path it was given ({tmp}); "
                        "it must write exactly that path")
                _fsync_tree(tmp)
            elif final.endswith(_PICKLE_SUFFIXES):
                with open(tmp, "wb") as f:
                    pickle.dump(obj_or_callback, f, protocol=pickle.HIGHEST_PROTOCOL)
                    f.flush()
                    os.fsync(f.fileno())
            else:
                try:
                    text = json.dumps(obj_or_callback)
                except (TypeError, ValueError) as e:
                    raise TypeError(
                        f"cannot save {type(obj_or_callback).__name__} as JSON ({e}); pass a callback that writes "
                        "the file (lambda path: torch.save(obj, path)) or a name ending in .pkl") from e
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
            if os.path.isdir(tmp) and os.path.isdir(final):
                old = os.path.join(folder, f".old-{os.getpid()}-{os.path.basename(final)}")
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, final)
            _fsync_dir(folder)
        except BaseException:
            _remove(tmp)
            raise
        if not self.managed and not self._hinted:
            self._hinted = True
            print(
                f"tuned_client: checkpoint written to {self.checkpoint_dir}; continue from it with "
                f"--restore {self.checkpoint_dir} --start-step {self.end_step} --steps N", file=sys.stderr)
        return final

    def load(self, name: str = "state.json", *, loader: Optional[Callable[[str], Any]] = None, default: Any = None) -> Any:
        """Reads ``name`` from the checkpoint to resume from; ``default`` on a fresh start.

        JSON by default (``.pkl``/``.pickle``: unpickled); with ``loader`` the path is
        passed to it (``t.load("model.pt", loader=torch.load)``). A restore directory without
        ``name`` raises FileNotFoundError listing what it does hold.
        """
        path = self.restore_path(name)
        if path is None:
            return default
        if not os.path.lexists(path):
            assert self.restore_dir is not None
            held = _listing(self.restore_dir)
            raise FileNotFoundError(
                f"the checkpoint to restore ({self.restore_dir}) has no {name} "
                f"(it holds: {', '.join(held) if held else 'nothing'}); was it saved with "
                f"t.save(..., name={name!r})?")
        if loader is not None:
            return loader(path)
        if path.endswith(_PICKLE_SUFFIXES):
            with open(path, "rb") as f:
                return pickle.load(f)
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def trial(
    argv: Optional[Sequence[str]] = None,
    *,
    default_config: Optional[Mapping[str, Any]] = None,
    default_steps: int = 100,
    environ: Optional[Mapping[str, str]] = None,
    quiet: bool = False,
) -> Trial:
    """The segment this program should run.

    **Under tuned** (``TUNED_SEGMENT`` is set) everything comes from the ``TUNED_*``
    variables (docs/COMMAND_WORKLOADS.md); the command line is not read, and a missing or
    malformed variable raises :class:`TrialSetupError`.

    **By hand** (for debugging) each value is the command-line option if given, else the
    ``TUNED_*`` variable if set, else a default:

    ========================  ====================  =========================================
    option                    variable              default
    ========================  ====================  =========================================
    ``--config JSON|@FILE``   ``TUNED_CONFIG``      ``default_config``, else ``{}``
    ``--seed N``              ``TUNED_SEED``        0
    ``--start-step N``        ``TUNED_START_STEP``  0 (required with ``--restore``)
    ``--steps N``             ``TUNED_END_STEP``    ``default_steps`` (the end step)
    ``--restore DIR``         ``TUNED_RESTORE_DIR`` none: a fresh start
    ``--checkpoint-dir DIR``  ``TUNED_CHECKPOINT_DIR``  a new temporary directory
    ========================  ====================  =========================================

    Options not listed are left alone (``argv`` defaults to ``sys.argv[1:]``; pass ``argv=[]``
    if your own argument parser owns the command line). By hand, one line on stderr says
    what was chosen (``quiet=True`` silences it).
    """
    env = os.environ if environ is None else environ
    if "TUNED_SEGMENT" in env:
        return _managed(env)
    args = _options(list(sys.argv[1:] if argv is None else argv))

    def pick(option: str, variable: str) -> Optional[str]:
        if option in args:
            return args[option]
        return env.get(variable)

    config_text = pick("--config", "TUNED_CONFIG")
    if config_text is not None:
        source = "--config" if "--config" in args else "TUNED_CONFIG"
        if source == "--config" and config_text.startswith("@"):
            try:
                with open(config_text[1:], encoding="utf-8") as f:
                    config_text = f.read()
            except OSError as e:
                raise TrialSetupError(f"--config {config_text}: cannot read the file ({e.strerror})") from None
        config = _config(source, config_text)
    else:
        config = dict(default_config or {})
    seed_text = pick("--seed", "TUNED_SEED")
    seed = _int("--seed" if "--seed" in args else "TUNED_SEED", seed_text) if seed_text else 0
    restore = pick("--restore", "TUNED_RESTORE_DIR") or None
    start_text = pick("--start-step", "TUNED_START_STEP")
    if start_text:
        start = _int("--start-step" if "--start-step" in args else "TUNED_START_STEP", start_text)
    elif restore is not None:
        raise TrialSetupError(
            f"--restore {restore} needs --start-step N: the step its checkpoint was written at "
            "(the end step of the run that wrote it)")
    else:
        start = 0
    end_text = pick("--steps", "TUNED_END_STEP")
    if end_text:
        end = _int("--steps" if "--steps" in args else "TUNED_END_STEP", end_text)
    else:
        if isinstance(default_steps, bool) or not isinstance(default_steps, int) or default_steps < 0:
            raise TrialSetupError(f"default_steps must be a non-negative int, got {default_steps!r}")
        end = default_steps
    if end < start:
        raise TrialSetupError(f"the end step {end} is before the start step {start}; give --steps N with N >= {start}")
    if restore is not None and not os.path.isdir(restore):
        raise TrialSetupError(f"the checkpoint to restore, {restore}, is not a directory")
    checkpoint = pick("--checkpoint-dir", "TUNED_CHECKPOINT_DIR")
    if checkpoint:
        os.makedirs(checkpoint, exist_ok=True)
    else:
        checkpoint = tempfile.mkdtemp(prefix="tuned-trial-")
    t = Trial(config=config, seed=seed, start_step=start, end_step=end, restore_dir=restore,
              checkpoint_dir=checkpoint, managed=False)
    if not quiet:
        resume = f", restoring {restore}" if restore else ""
        print(
            f"tuned_client: stand-alone run (not under tuned): config {json.dumps(config, sort_keys=True)}, "
            f"seed {seed}, steps {start}->{end}{resume}, checkpoint dir {checkpoint}", file=sys.stderr)
    return t


# -- helpers --------------------------------------------------------------------------------

_OPTIONS = ("--config", "--seed", "--start-step", "--steps", "--restore", "--checkpoint-dir")


def _options(argv: List[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        key, eq, value = a.partition("=")
        if key in _OPTIONS:
            if not eq:
                if i + 1 >= len(argv):
                    raise TrialSetupError(f"{key} needs a value")
                value = argv[i + 1]
                i += 1
            out[key] = value
        i += 1
    return out


def _managed(env: Mapping[str, str]) -> Trial:
    def need(name: str) -> str:
        v = env.get(name)
        if v is None:
            raise TrialSetupError(
                f"{name} is not set, but TUNED_SEGMENT is: this program is not being run by a tuned worker "
                "as docs/COMMAND_WORKLOADS.md describes (unset TUNED_SEGMENT to run it by hand)")
        return v

    def opt_int(name: str) -> Optional[int]:
        v = env.get(name)
        return _int(name, v) if v else None

    config = _config("TUNED_CONFIG", need("TUNED_CONFIG"))
    seed = _int("TUNED_SEED", need("TUNED_SEED"))
    start = _int("TUNED_START_STEP", need("TUNED_START_STEP"))
    end = _int("TUNED_END_STEP", need("TUNED_END_STEP"))
    if end < start:
        raise TrialSetupError(f"TUNED_END_STEP ({end}) is before TUNED_START_STEP ({start})")
    checkpoint = need("TUNED_CHECKPOINT_DIR")
    if not checkpoint:
        raise TrialSetupError("TUNED_CHECKPOINT_DIR is empty: tuned always gives a directory")
    restore = env.get("TUNED_RESTORE_DIR") or None
    return Trial(
        config=config, seed=seed, start_step=start, end_step=end, restore_dir=restore, checkpoint_dir=checkpoint,
        task_id=opt_int("TUNED_TASK"), trial_id=opt_int("TUNED_TRIAL"), segment_id=opt_int("TUNED_SEGMENT"),
        managed=True)


def _int(name: str, text: Optional[str]) -> int:
    try:
        v = int(str(text).strip())
    except ValueError:
        raise TrialSetupError(f"{name} must be a non-negative integer, got {text!r}") from None
    if v < 0:
        raise TrialSetupError(f"{name} must be a non-negative integer, got {v}")
    return v


def _config(name: str, text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise TrialSetupError(f"{name} is not valid JSON ({e}): {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise TrialSetupError(f"{name} must be a JSON object such as {{\"lr\": 0.01}}, got {text[:200]!r}")
    return value


def _relative(name: str) -> str:
    if not isinstance(name, str) or not name or "\0" in name:
        raise ValueError(f"a checkpoint file name must be a non-empty string, got {name!r}")
    norm = os.path.normpath(name)
    if os.path.isabs(name) or norm == "." or norm.split(os.sep)[0] == "..":
        raise ValueError(f"a checkpoint file name must be relative and stay inside the directory, got {name!r}")
    return norm


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        try:
            os.unlink(path)
        except OSError:
            pass


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(path: str) -> None:
    if os.path.islink(path):
        return
    if os.path.isdir(path):
        for root, _dirs, files in os.walk(path):
            for f in files:
                p = os.path.join(root, f)
                if not os.path.islink(p):
                    _fsync_file(p)
            _fsync_dir(root)
    else:
        _fsync_file(path)


def _listing(folder: str) -> List[str]:
    out: List[str] = []
    for root, _dirs, files in os.walk(folder):
        for f in files:
            out.append(os.path.relpath(os.path.join(root, f), folder))
    return sorted(out)[:20]
