"""Experiment campaigns: declarative sweeps of independent seeded trials, on any executor, stored row by row.

A **campaign** is one task run on every trial of a sweep: the points of a grid (or an explicit
list of points) times a list of seeds.  Each trial is independent and gets its point and its seed,
so the rows do not depend on where or in which order the trials run: the same campaign gives the
same rows serially, on a local process pool or on a Dask cluster.

* :class:`Spec` -- the sweep (``task``, ``grid`` / ``points``, ``seeds``, ``fixed``,
  ``time_limit``); :meth:`Spec.from_toml` reads the TOML form used by
  ``python -m certify campaign SPEC.toml``.  Unknown keys are an error.
* :func:`run` -- runs the trials on a :class:`concurrent.futures.Executor` (default: a local process
  pool over all cores; ``client.get_executor()`` of :mod:`dask.distributed` for a cluster) and
  appends every finished trial at once to a :class:`Store` (JSON Lines, one row per trial).
  Re-running resumes: finished trials are skipped.
* :func:`map_trials` -- the engine underneath, for callers that want results in memory
  (``failure_rate``, the report's checks and experiment): ordered results, per-trial time limit,
  progress, errors recorded per trial instead of aborting the sweep.

The task's signature is ``task(point: dict, seed: int) -> dict`` (a mapping of JSON values:
numbers, strings, booleans, ``None``, lists); :func:`check_trial` is the built-in
``sample -> fit -> certify -> check`` task.  Storage format, reproducibility and the cluster set-up
are argued in ``docs/campaigns.md``.

Examples
--------
>>> spec = Spec(task="certify.harness.campaign:example_task", grid={"a": [1, 2]}, seeds=[0, 1])
>>> [(t.point["a"], t.seed) for t in spec.trials()]
[(1, 0), (1, 1), (2, 0), (2, 1)]
>>> res = run(spec, workers=1, progress=False)
>>> [row["result"]["value"] for row in res.rows]
[1, 2, 2, 3]
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import importlib
import itertools
import json
import math
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from bounds.errors import ParameterError

__all__ = ["Spec", "Trial", "TrialResult", "CampaignResult", "Store", "CampaignError",
           "SpecError", "StoreError", "TrialTimeout", "run", "map_trials", "dask_executor",
           "check_trial", "example_task", "FORMAT", "SPEC_KEYS"]

#: Identifier written in every store's header line; a file with another one is foreign.
FORMAT = "lawrob-campaign-jsonl/1"
#: The keys a spec may have (anything else is a :class:`SpecError`).
SPEC_KEYS = ("name", "description", "task", "grid", "points", "seeds", "fixed", "time_limit")
#: Seconds a trial may overrun its time limit before the driver gives up on it (the worker's own
#: alarm normally stops it at the limit; this catches code that does not return to Python).
HARD_LIMIT_GRACE = 5.0


class CampaignError(ValueError):
    """A campaign cannot run as asked (the message says why and what to do)."""


class SpecError(CampaignError):
    """A malformed campaign spec: unknown key, wrong type, empty sweep, unresolvable task."""


class StoreError(CampaignError):
    """An output folder that cannot be resumed safely: another spec's rows, a corrupt or foreign file."""


class TrialTimeout(Exception):
    """Raised inside a trial that exceeded the campaign's per-trial time limit."""


# ------------------------------------------------------------------------------------------------
# the spec
# ------------------------------------------------------------------------------------------------

def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _json_value(v, where: str):
    """``v`` as plain JSON data (numpy scalars and arrays converted); non-finite floats -> None."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.ndarray):
        return [_json_value(x, where) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_json_value(x, where) for x in v]
    if isinstance(v, Mapping):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r} is not a string")
            out[k] = _json_value(x, f"{where}.{k}")
        return out
    raise TypeError(f"{where}: {type(v).__name__} value {v!r:.60} is not storable "
                    "(numbers, strings, booleans, None, lists and string-keyed mappings are)")


def _task_name(task) -> str:
    if isinstance(task, str):
        return task
    mod, qual = getattr(task, "__module__", None), getattr(task, "__qualname__", None)
    if mod and qual and "<" not in qual:
        return f"{mod}:{qual}"
    return repr(task)


def resolve_task(task) -> Callable:
    """The callable named by ``"package.module:function"`` (or ``package.module.function``)."""
    if callable(task):
        return task
    if not isinstance(task, str) or not task:
        raise SpecError(f"task: expected 'module:function' or a callable, got {task!r}")
    mod, sep, attr = task.partition(":")
    if not sep:
        mod, _, attr = task.rpartition(".")
    if not mod or not attr:
        raise SpecError(f"task {task!r}: expected 'package.module:function'")
    try:
        obj = importlib.import_module(mod)
    except ImportError as exc:
        raise SpecError(f"task {task!r}: cannot import module {mod!r} ({exc})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SpecError(f"task {task!r}: module {mod!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SpecError(f"task {task!r} is not callable")
    return obj


@dataclass(frozen=True)
class Trial:
    """One trial: its index in the sweep, its point (grid values and fixed values) and its seed."""

    index: int
    point: dict
    seed: int

    @property
    def key(self) -> str:
        """Identity of the trial (hash of point and seed): what resuming matches on."""
        return hashlib.sha256(_canonical({"point": self.point, "seed": self.seed}).encode()).hexdigest()[:20]


@dataclass(frozen=True, eq=False)
class Spec:
    """A campaign: one task over ``points x seeds``.

    Parameters
    ----------
    task : str or callable
        ``"package.module:function"`` (required to store rows: the name enters the spec's hash)
        or a callable ``task(point, seed) -> dict``.
    grid : dict, optional
        ``name -> list of values``; the points are the Cartesian product, the last key varying
        fastest.
    points : list of dict, optional
        Explicit points; with ``grid`` too, every point is combined with every grid point.
    seeds : int or list of int
        The seeds of every point (an int ``N`` means ``0 .. N-1``).
    fixed : dict, optional
        Values added to every point (must not repeat a grid or point key).
    time_limit : float, optional
        Seconds per trial; a trial over it is stopped and recorded with status ``"timeout"``.
    name, description : str
        For people; ``name`` also enters the hash.
    """

    task: object
    grid: dict = field(default_factory=dict)
    points: tuple = ()
    seeds: tuple = (0,)
    fixed: dict = field(default_factory=dict)
    time_limit: float | None = None
    name: str = ""
    description: str = ""

    def __post_init__(self):
        if not (callable(self.task) or isinstance(self.task, str)):
            raise SpecError(f"task: expected 'module:function' or a callable, got {self.task!r}")
        if not isinstance(self.grid, Mapping):
            raise SpecError(f"grid: expected a table of name = [values], got {self.grid!r}")
        grid = {}
        for k, vals in self.grid.items():
            if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or not len(vals):
                raise SpecError(f"grid.{k}: expected a non-empty list of values, got {vals!r}")
            grid[str(k)] = [_spec_value(v, f"grid.{k}") for v in vals]
        object.__setattr__(self, "grid", grid)
        pts = self.points
        if isinstance(pts, Mapping) or not isinstance(pts, Sequence):
            raise SpecError(f"points: expected a list of tables, got {pts!r}")
        if not all(isinstance(p, Mapping) for p in pts):
            raise SpecError("points: every point must be a table (name = value)")
        object.__setattr__(self, "points", tuple(_spec_value(dict(p), "points") for p in pts))
        if not isinstance(self.fixed, Mapping):
            raise SpecError(f"fixed: expected a table of name = value, got {self.fixed!r}")
        object.__setattr__(self, "fixed", _spec_value(dict(self.fixed), "fixed"))
        seeds = self.seeds
        if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
            if seeds < 1:
                raise SpecError(f"seeds: an integer count must be >= 1, got {seeds}")
            seeds = tuple(range(int(seeds)))
        elif isinstance(seeds, Sequence) and not isinstance(seeds, str) and len(seeds) \
                and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
            seeds = tuple(int(s) for s in seeds)
            if len(set(seeds)) != len(seeds):
                raise SpecError(f"seeds: repeated seeds in {list(seeds)}")
        else:
            raise SpecError(f"seeds: expected a count >= 1 or a non-empty list of integers, got {seeds!r}")
        object.__setattr__(self, "seeds", seeds)
        if self.time_limit is not None:
            try:
                tl = float(self.time_limit)
            except (TypeError, ValueError):
                tl = math.nan
            if not tl > 0 or not math.isfinite(tl):
                raise SpecError(f"time_limit: expected a positive number of seconds, got {self.time_limit!r}")
            object.__setattr__(self, "time_limit", tl)
        for name in ("name", "description"):
            if not isinstance(getattr(self, name), str):
                raise SpecError(f"{name}: expected a string, got {getattr(self, name)!r}")
        keys = set(self.grid)
        for p in self.points:
            clash = keys & set(p)
            if clash:
                raise SpecError(f"points and grid both set {sorted(clash)}")
        for p in self.points or ({},):
            clash = (keys | set(p)) & set(self.fixed)
            if clash:
                raise SpecError(f"fixed repeats swept keys {sorted(clash)}")

    # -- construction -----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping) -> "Spec":
        """A spec from a mapping (the parsed TOML); unknown keys are a :class:`SpecError`."""
        if not isinstance(data, Mapping):
            raise SpecError(f"a campaign spec is a table, got {type(data).__name__}")
        if "campaign" in data and isinstance(data["campaign"], Mapping):
            # TOML form: [campaign] holds the scalars, [grid], [fixed] and [[points]] the rest
            data = {**data["campaign"], **{k: v for k, v in data.items() if k != "campaign"}}
        unknown = sorted(set(data) - set(SPEC_KEYS))
        if unknown:
            raise SpecError(f"unknown key(s) {unknown} in the campaign spec; allowed: {list(SPEC_KEYS)}")
        if "task" not in data:
            raise SpecError("the campaign spec has no 'task' (e.g. task = 'certify.harness.campaign:check_trial')")
        return cls(**{k: data[k] for k in SPEC_KEYS if k in data})

    @classmethod
    def from_toml(cls, path) -> "Spec":
        """Read a spec from a TOML file (see ``docs/campaigns.md`` for the layout)."""
        import tomllib
        path = Path(path)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path}: not valid TOML ({exc})") from None
        return cls.from_dict(data)

    # -- derived ------------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The normalised spec as plain data (what the hash is computed from)."""
        return {"name": self.name, "description": self.description, "task": _task_name(self.task),
                "grid": self.grid, "points": list(self.points), "seeds": list(self.seeds),
                "fixed": self.fixed, "time_limit": self.time_limit}

    @property
    def hash(self) -> str:
        """SHA-256 (first 16 hex digits) of the normalised spec, without the description."""
        d = self.to_dict()
        d.pop("description")
        return hashlib.sha256(_canonical(d).encode()).hexdigest()[:16]

    def point_list(self) -> list:
        base = list(self.points) or [{}]
        names = list(self.grid)
        combos = list(itertools.product(*(self.grid[k] for k in names))) if names else [()]
        return [{**p, **dict(zip(names, c)), **self.fixed} for p in base for c in combos]

    def trials(self) -> list:
        """Every trial, points outer and seeds inner; ``index`` is the position in this list."""
        pts = self.point_list()
        return [Trial(i * len(self.seeds) + j, p, s)
                for i, p in enumerate(pts) for j, s in enumerate(self.seeds)]

    def __len__(self) -> int:
        return len(self.point_list()) * len(self.seeds)


def _spec_value(v, where):
    try:
        return _json_value(v, where)
    except TypeError as exc:
        raise SpecError(str(exc)) from None


# ------------------------------------------------------------------------------------------------
# running one trial (in the worker)
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrialResult:
    """What a worker returns for one trial of :func:`map_trials`.

    ``status`` is ``"ok"`` (``value`` holds the task's return value), ``"error"`` (the task
    raised: ``error`` holds the exception's text and the last traceback lines) or
    ``"timeout"`` (over the time limit).
    """

    status: str
    value: object = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _alarm(signum, frame):
    raise TrialTimeout()


def _format_error(exc: BaseException) -> str:
    """``Type: message (in function, line N)``: the innermost frame without its file path, so that
    the text is the same on every executor and machine (cloudpickled code has no file)."""
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        f = frames[-1]
        text += f" (in {f.name}, line {f.lineno})"
    return text


def _execute(fn, args: tuple, time_limit: float | None) -> TrialResult:
    """Run ``fn(*args)`` and turn the outcome into a :class:`TrialResult` (never raises).

    The time limit is enforced with ``SIGALRM`` where that is possible (the main thread of a
    process, as in a process pool or a serial run); in other threads (Dask's worker threads) the
    driver enforces it instead, see :func:`map_trials`.
    """
    t0 = time.perf_counter()
    armed = bool(time_limit) and hasattr(signal, "setitimer") \
        and threading.current_thread() is threading.main_thread()
    old = None
    try:
        if armed:
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, float(time_limit))
        value = fn(*args)
        status, error = "ok", None
    except TrialTimeout:
        value, status = None, "timeout"
        error = f"TrialTimeout: the trial exceeded the time limit of {time_limit:g} s"
    except Exception as exc:  # noqa: BLE001 - a failing trial is a row, not the end of the sweep
        value, status, error = None, "error", _format_error(exc)
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return TrialResult(status, value, error, time.perf_counter() - t0)


class _Pickled:
    """A callable shipped with cloudpickle (lambdas and closures cannot be pickled by reference)."""

    def __init__(self, fn):
        import cloudpickle
        self.blob = cloudpickle.dumps(fn)
        self._fn = None

    def __getstate__(self):
        return {"blob": self.blob}

    def __setstate__(self, state):
        self.blob, self._fn = state["blob"], None

    def __call__(self, *args):
        if self._fn is None:
            self._fn = pickle.loads(self.blob)
        return self._fn(*args)


def _picklable(obj) -> bool:
    try:
        pickle.dumps(obj)
        return True
    except Exception:  # noqa: BLE001 - any pickling failure
        return False


def _shippable(fn):
    try:
        pickle.dumps(fn)
        return fn
    except Exception:  # noqa: BLE001 - any pickling failure: fall back to cloudpickle
        try:
            return _Pickled(fn)
        except ImportError:
            raise CampaignError(
                f"the task {fn!r} cannot be pickled by reference (a lambda or closure?) and "
                "cloudpickle is not installed: define it at module level") from None


# ------------------------------------------------------------------------------------------------
# executors
# ------------------------------------------------------------------------------------------------

class _Serial:
    """Runs each submitted call at once in this process (``workers=1``: no pool, no pickling)."""

    _max_workers = 1

    def submit(self, fn, *args):
        f = cf.Future()
        f.set_result(fn(*args))
        return f

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def _capacity(executor) -> int:
    """How many trials ``executor`` runs at once (bounds the trials in flight)."""
    n = getattr(executor, "_max_workers", None)
    if n:
        return int(n)
    client = getattr(executor, "_client", None)  # dask.distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, int(sum(client.nthreads().values())))
        except Exception:  # noqa: BLE001 - fall through to the default
            pass
    return os.cpu_count() or 1


_THREADS = ("{what} would run trials concurrently as threads of one process: the working precision of "
            "mpmath and python-flint is global to a process, so concurrent trials could change "
            "each other's precision (and results). Use processes with one thread each: {fix}")


def _refuse_threads(executor) -> None:
    """Refuse executors that run several trials at once in one process (see :data:`_THREADS`)."""
    if isinstance(executor, cf.ThreadPoolExecutor) and executor._max_workers > 1:
        raise CampaignError(_THREADS.format(what="a ThreadPoolExecutor with several threads",
                                            fix="a ProcessPoolExecutor or workers=N"))
    client = getattr(executor, "_client", None)
    if client is None:
        return
    try:
        nthreads = client.nthreads()
        pids = client.run(os.getpid)
    except Exception:  # noqa: BLE001 - cannot inspect: the scheduler will say what is wrong
        return
    per_process = {}
    for addr, pid in pids.items():
        host = addr.rsplit(":", 1)[0]
        per_process[(host, pid)] = per_process.get((host, pid), 0) + int(nthreads.get(addr, 1))
    if any(n > 1 for n in per_process.values()):
        raise CampaignError(_THREADS.format(
            what="the Dask cluster's workers",
            fix="'dask worker ADDRESS --nthreads 1 --nworkers N', or "
                "LocalCluster(processes=True, threads_per_worker=1)"))


def dask_executor(address: str):
    """``(client, executor)`` for a running Dask scheduler at ``address`` (``tcp://host:8786``).

    Raises
    ------
    CampaignError
        When ``dask.distributed`` is not installed (``pip install 'lawrob[dask]'``) or the scheduler
        cannot be reached.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise CampaignError("running on a Dask scheduler needs dask.distributed: "
                            "pip install 'lawrob[dask]'") from None
    try:
        client = Client(address, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise CampaignError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
    return client, client.get_executor()


def _kill_pool(pool) -> None:
    """Stop a process pool whose worker is stuck: kill its processes (no other way to stop a call)."""
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            p.kill()
        except Exception:  # noqa: BLE001 - already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _progress_bar(progress, total: int, initial: int, desc: str):
    """A callable ``update(done, label)`` and a ``close()``: tqdm on stderr, a callback, or nothing."""
    if progress is None or progress is False:
        return (lambda done, label="": None), (lambda: None)
    if callable(progress) and progress is not True:
        return (lambda done, label="": progress(done, total, label)), (lambda: None)
    from tqdm.auto import tqdm
    # disable=None: silent when stderr is not a terminal (logs of cluster jobs stay readable)
    bar = tqdm(total=total, initial=initial, desc=desc or "trials", unit="trial", file=sys.stderr,
               dynamic_ncols=True, smoothing=0.1, disable=None)
    state = {"done": initial}

    def update(done, label=""):
        bar.update(done - state["done"])
        state["done"] = done
    return update, bar.close


def map_trials(fn: Callable, args: Iterable[tuple], *, executor=None, workers: int | None = None,
               time_limit: float | None = None, progress=None, desc: str = "",
               on_result: Callable[[int, TrialResult], None] | None = None,
               max_in_flight: int | None = None) -> list:
    """Run ``fn(*a)`` for every ``a`` in ``args`` on an executor; results in input order.

    Parameters
    ----------
    fn : callable
        Shipped to the workers by reference, or with cloudpickle if it is a lambda or closure.
    args : iterable of tuple
    executor : concurrent.futures.Executor, optional
        Any executor (a ``ProcessPoolExecutor``, ``client.get_executor()`` of Dask ...) that runs
        one trial at a time per process; not shut down here.  Several trials as threads of one
        process are refused (:class:`CampaignError`): mpmath's and flint's precision are global
        to a process.  Default: ``workers == 1`` runs in this process, otherwise a process pool of
        ``workers`` processes (default: all cores) is created and shut down.
    workers : int, optional
    time_limit : float, optional
        Seconds per call.  A call over it becomes ``TrialResult("timeout")``: stopped by an alarm
        in the worker, or, if it does not return within :data:`HARD_LIMIT_GRACE` more seconds,
        abandoned by the driver (a pool created here is then killed and restarted; a slot of a
        given executor stays busy until the call returns, and fewer calls are kept in flight).
    progress : bool or callable, optional
        ``True``: a tqdm bar on stderr (done/total, rate, ETA; only when stderr is a terminal); a callable
        ``progress(done, total, label)``; ``None``/``False``: silent.
    on_result : callable, optional
        ``on_result(i, result)`` in the driver as soon as call ``i`` finishes (e.g. to store it).
    max_in_flight : int, optional
        Calls submitted at once (default: the executor's capacity).  Bounding it makes the time
        limit measurable from submission and limits what a killed driver loses.

    Returns
    -------
    list of TrialResult
    """
    args = list(args)
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers < 1):
        raise ParameterError("workers", workers, "integers >= 1")
    if time_limit is not None and not (float(time_limit) > 0):
        raise ParameterError("time_limit", time_limit, "positive seconds or None")
    own = executor is None
    if own:
        n = workers or os.cpu_count() or 1
        executor = _Serial() if n == 1 else cf.ProcessPoolExecutor(max_workers=n)
    serial = isinstance(executor, _Serial)
    if not own:
        _refuse_threads(executor)
    call = fn if serial else _shippable(fn)
    window = max(1, int(max_in_flight or _capacity(executor)))
    results = [None] * len(args)
    pending = deque(range(len(args)))
    in_flight = {}  # future -> (index, submitted at)
    update, close = _progress_bar(progress, len(args), 0, desc)
    done_count = 0
    hard = None if time_limit is None else float(time_limit) + HARD_LIMIT_GRACE

    def finish(i, res):
        nonlocal done_count
        results[i] = res
        done_count += 1
        if on_result is not None:
            on_result(i, res)
        update(done_count, f"{res.status}")

    try:
        while pending or in_flight:
            while pending and len(in_flight) < window:
                i = pending.popleft()
                job, a = call, args[i]
                if not serial and not _picklable(a):
                    # a closure among the arguments (e.g. a statement defined in a function)
                    job, a = _Pickled(functools.partial(fn, *a)), ()
                try:
                    fut = executor.submit(_execute, job, a, time_limit)
                except Exception as exc:  # noqa: BLE001 - e.g. a shut-down executor
                    raise CampaignError(f"the executor refused a trial: {exc}") from exc
                in_flight[fut] = (i, time.monotonic())
            timeout = None
            if hard is not None:
                oldest = min(t for _, t in in_flight.values())
                timeout = max(0.05, oldest + hard - time.monotonic())
            done, _ = cf.wait(list(in_flight), timeout=timeout, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                i, _ = in_flight.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - lost worker, unpicklable result ...
                    res = TrialResult("error", None, f"the executor failed on this trial: "
                                                     f"{type(exc).__name__}: {exc}")
                finish(i, res)
            if hard is None:
                continue
            now = time.monotonic()
            stuck = [f for f, (_, t) in in_flight.items() if now - t > hard]
            if not stuck:
                continue
            for fut in stuck:
                i, t = in_flight.pop(fut)
                fut.cancel()
                finish(i, TrialResult("timeout", None,
                                      f"TrialTimeout: no result {now - t:.1f} s after submission "
                                      f"(time limit {time_limit:g} s); the worker was "
                                      + ("restarted" if own else "abandoned"), now - t))
            if own and not serial:
                # the stuck processes hold the pool: kill it and resubmit the innocent trials
                _kill_pool(executor)
                for fut, (i, _) in sorted(in_flight.items(), key=lambda kv: -kv[1][0]):
                    pending.appendleft(i)
                in_flight.clear()
                executor = cf.ProcessPoolExecutor(max_workers=window)
            else:
                window -= len(stuck)
                if window < 1:
                    raise CampaignError("every worker of the executor is stuck in a trial over "
                                        "the time limit; restart the workers and re-run to resume")
    except KeyboardInterrupt:
        if own and not serial:
            _kill_pool(executor)  # Ctrl-C: stop now; what on_result stored is kept
            own = False
        raise
    finally:
        close()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return results


# ------------------------------------------------------------------------------------------------
# storage
# ------------------------------------------------------------------------------------------------

def _without_description(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "description"}


class Store:
    """The rows of one campaign in an output folder, one JSON line per finished trial.

    The folder holds ``spec.json`` (the normalised spec, for people) and
    ``rows-<spec hash>.jsonl``: a header line ``{"format", "spec_hash", "spec"}`` then one row per
    finished trial, each written with one ``write`` of a complete line, flushed and (by default)
    fsync'ed before the next trial is handled.  A process killed mid-way leaves at most one
    incomplete last line, which :meth:`open` cuts off (reported in :attr:`repaired`).

    Opening refuses (:class:`StoreError`) a folder holding another spec's rows, a rows file whose
    header or any complete line does not parse, rows that do not belong to the spec, files it did
    not write, and a rows file locked by another running campaign.
    """

    def __init__(self, folder, spec: Spec, *, fsync: bool = True):
        self.folder = Path(folder)
        self.spec = spec
        self.fsync = fsync
        self.path = self.folder / f"rows-{spec.hash}.jsonl"
        self.rows = {}          # trial key -> row
        self.repaired = 0       # bytes of an incomplete last line cut off on open
        self._fh = None

    def open(self) -> "Store":
        f = self.folder
        if f.exists() and not f.is_dir():
            raise StoreError(f"{f} exists and is not a folder")
        f.mkdir(parents=True, exist_ok=True)
        others = sorted(p.name for p in f.iterdir()
                        if p.name not in ("spec.json", self.path.name) and not p.name.startswith("."))
        theirs = [n for n in others if n.startswith("rows-") and n.endswith(".jsonl")]
        if theirs:
            raise StoreError(f"{f} holds the rows of another campaign ({', '.join(theirs)}; this "
                             f"spec's hash is {self.spec.hash}): choose another output folder, or "
                             "delete it to start over; rows of different specs are never merged")
        if others:
            raise StoreError(f"{f} holds files this campaign did not write ({', '.join(others)}): "
                             "use an empty or new output folder")
        spec_file = f / "spec.json"
        if spec_file.exists():
            try:
                old = json.loads(spec_file.read_text())
            except ValueError:
                raise StoreError(f"{spec_file} is not valid JSON: corrupt or foreign") from None
            if not isinstance(old, dict) or old.get("spec_hash") != self.spec.hash:
                raise StoreError(f"{spec_file} describes another campaign (spec hash "
                                 f"{old.get('spec_hash') if isinstance(old, dict) else '?'}, this "
                                 f"one {self.spec.hash}): choose another output folder")
        header = {"format": FORMAT, "spec_hash": self.spec.hash, "spec": self.spec.to_dict()}
        if self.path.exists():
            self._load(header)
        else:
            with open(self.path, "x") as fh:
                fh.write(_canonical(header) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        if not spec_file.exists():
            spec_file.write_text(json.dumps({"spec_hash": self.spec.hash, **self.spec.to_dict()},
                                            indent=2) + "\n")
        self._fh = open(self.path, "a")
        try:
            import fcntl
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock, documented
            pass
        except OSError:
            self._fh.close()
            self._fh = None
            raise StoreError(f"{self.path} is in use by another running campaign") from None
        return self

    def _load(self, header) -> None:
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                raise StoreError(f"{self.path}: no complete header line: corrupt or foreign")
            # a kill during a write leaves an incomplete last line: the trial is run again
            self.repaired = len(data) - cut
            with open(self.path, "r+b") as fh:
                fh.truncate(cut)
            data = data[:cut]
        lines = data.decode("utf-8", errors="replace").split("\n")[:-1]
        try:
            got = json.loads(lines[0])
        except ValueError:
            raise StoreError(f"{self.path}: the header line is not JSON: corrupt or foreign") from None
        if not isinstance(got, dict) or got.get("format") != FORMAT:
            raise StoreError(f"{self.path}: not a campaign rows file of format {FORMAT}")
        if got.get("spec_hash") != self.spec.hash or not isinstance(got.get("spec"), dict) \
                or _without_description(got["spec"]) != _without_description(header["spec"]):
            raise StoreError(f"{self.path}: written by another spec (hash {got.get('spec_hash')}, "
                             f"this one {self.spec.hash})")
        keys = {t.key: t for t in self.spec.trials()}
        for no, line in enumerate(lines[1:], start=2):
            try:
                row = json.loads(line)
            except ValueError:
                raise StoreError(f"{self.path}, line {no}: not valid JSON (corrupt file; it is "
                                 "never rewritten: move it away to start over)") from None
            if not isinstance(row, dict) or not {"trial", "key", "seed", "point", "status"} <= set(row):
                raise StoreError(f"{self.path}, line {no}: not a campaign row")
            t = keys.get(row["key"])
            if t is None or t.index != row["trial"] or t.seed != row["seed"] or t.point != row["point"]:
                raise StoreError(f"{self.path}, line {no}: a row that is not a trial of this spec")
            if row["key"] in self.rows:
                raise StoreError(f"{self.path}, line {no}: trial {row['trial']} stored twice")
            self.rows[row["key"]] = row

    def append(self, row: dict) -> None:
        line = _canonical(row) + "\n"
        self._fh.write(line)
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.rows[row["key"]] = row

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------------------------
# running a campaign
# ------------------------------------------------------------------------------------------------

@dataclass
class CampaignResult:
    """Rows of a campaign, in trial order, and how this run went.

    Each row: ``trial`` (index), ``key``, ``point``, ``seed``, ``status`` (``"ok"``, ``"error"``,
    ``"timeout"``), ``error`` (text or ``None``), ``result`` (the task's mapping, or ``None``),
    ``seconds`` (wall time of the trial: the only field that is not reproducible).
    """

    spec: Spec
    rows: list
    n_run: int
    n_resumed: int
    elapsed: float
    store: Path | None = None
    repaired: int = 0

    @property
    def failed(self) -> list:
        return [r for r in self.rows if r["status"] != "ok"]

    @property
    def complete(self) -> bool:
        return len(self.rows) == len(self.spec)

    def reproducible_rows(self) -> list:
        """The rows without ``seconds``: equal for every run of the same spec."""
        return [{k: v for k, v in r.items() if k != "seconds"} for r in self.rows]

    def records(self) -> list:
        """Flat dicts: point values, the result's fields, then ``seed``, ``status``, ``error``,
        ``seconds`` (these four win over result fields of the same name)."""
        return [{**r["point"], **(r["result"] or {}), "seed": r["seed"], "status": r["status"],
                 "error": r["error"], "seconds": r["seconds"]} for r in self.rows]

    def summary(self) -> str:
        n_fail = len(self.failed)
        s = (f"campaign {self.spec.name or self.spec.hash}: {len(self.rows)}/{len(self.spec)} trials "
             f"({self.n_run} run now, {self.n_resumed} resumed), {n_fail} failed, "
             f"{self.elapsed:.1f} s")
        if self.store is not None:
            s += f"; rows in {self.store}"
        return s


def _importable(task) -> bool:
    try:
        return resolve_task(_task_name(task)) is task
    except SpecError:
        return False


def _row(trial: Trial, res: TrialResult) -> dict:
    status, error, result = res.status, res.error, None
    if status == "ok":
        value = res.value
        if not isinstance(value, Mapping):
            value = {"value": value}
        try:
            result = _json_value(value, "result")
        except TypeError as exc:
            status, error = "error", f"the task returned a value that cannot be stored: {exc}"
    return {"trial": trial.index, "key": trial.key, "point": trial.point, "seed": trial.seed,
            "status": status, "error": error, "result": result, "seconds": round(res.seconds, 6)}


def run(spec: Spec, executor=None, store=None, *, workers: int | None = None, progress=True,
        fsync: bool = True) -> CampaignResult:
    """Run (or resume) a campaign.

    Parameters
    ----------
    spec : Spec, mapping or path to a TOML file
    executor : concurrent.futures.Executor, optional
        Where trials run (``client.get_executor()`` for a Dask cluster).  Default: see ``workers``.
    store : path, optional
        Output folder: every finished trial is appended to ``rows-<hash>.jsonl`` there at once,
        and trials already stored are skipped (resume).  ``None``: rows only in memory.
    workers : int, optional
        Without ``executor``: ``1`` runs serially in this process, ``N`` a local process pool of
        ``N`` processes; default all cores.
    progress : bool or callable
        A tqdm bar on stderr (trials done/total, rate, ETA), a callback
        ``progress(done, total, label)``, or nothing.
    fsync : bool
        ``os.fsync`` after every row (survives a power cut, not only a killed process).

    Returns
    -------
    CampaignResult
        Rows of every finished trial (run now or before), failed trials included.
    """
    if isinstance(spec, (str, os.PathLike)):
        spec = Spec.from_toml(spec)
    elif isinstance(spec, Mapping):
        spec = Spec.from_dict(spec)
    if not isinstance(spec, Spec):
        raise ParameterError("spec", type(spec).__name__, "a Spec, a mapping or a TOML path")
    if store is not None and not isinstance(spec.task, str) and not _importable(spec.task):
        raise SpecError(f"task {spec.task!r}: stored campaigns need an importable module-level "
                        "function (its 'module:function' name enters the spec's hash)")
    task = resolve_task(spec.task)
    t0 = time.perf_counter()
    trials = spec.trials()
    st = Store(store, spec, fsync=fsync).open() if store is not None else None
    try:
        done = dict(st.rows) if st is not None else {}
        todo = [t for t in trials if t.key not in done]

        def on_result(i, res):
            row = _row(todo[i], res)
            done[row["key"]] = row
            if st is not None:
                st.append(row)

        if todo:
            offset = len(trials) - len(todo)
            close = None
            if progress is True:
                update, close = _progress_bar(True, len(trials), offset, spec.name or "campaign")
                bar = lambda d, total, label: update(offset + d, label)  # noqa: E731
            elif callable(progress):
                bar = lambda d, total, label: progress(offset + d, len(trials), label)  # noqa: E731
            else:
                bar = None
            try:
                map_trials(task, [(dict(t.point), t.seed) for t in todo], executor=executor,
                           workers=workers, time_limit=spec.time_limit, progress=bar,
                           on_result=on_result)
            finally:
                if close is not None:
                    close()
        rows = [done[t.key] for t in trials if t.key in done]
        return CampaignResult(spec, rows, len(todo), len(trials) - len(todo),
                              time.perf_counter() - t0,
                              None if st is None else st.path, 0 if st is None else st.repaired)
    finally:
        if st is not None:
            st.close()


# ------------------------------------------------------------------------------------------------
# tasks
# ------------------------------------------------------------------------------------------------

def example_task(point: dict, seed: int) -> dict:
    """``{"value": a + seed}``: the smallest task (documentation and tests)."""
    return {"value": point["a"] + seed}


def _fitter(name: str, k: int):
    from certify.harness.fit import margin_fit, random_features
    if name == "random_features":
        return lambda X, y, s: random_features(X, y, k=k, seed=s)
    if name == "margin_fit":
        return lambda X, y, s: margin_fit(X, y, k, seed=s)
    raise ParameterError("fitter", name, "'random_features' or 'margin_fit'")


def check_trial(point: dict, seed: int) -> dict:
    """The ``sample -> fit -> certify -> check`` task.

    Point keys: ``theorem`` (catalogue id), ``n``, ``d``, ``measure`` (``"sphere"`` or
    ``"cube"``, default sphere), ``k`` (width, default ``2 n``), ``fitter``
    (``"random_features"`` or ``"margin_fit"``), ``method`` (certification method, default
    ``"auto"``), ``cert_time_limit`` (seconds); any other key is a theorem parameter (``eps``,
    ``delta`` ...).  The sample and the fit are drawn from ``seed``.

    Returns the verdict, the certified enclosure, the bound and whether the hypotheses held.
    """
    import bounds
    from bounds.data import DataModel, Measure
    from certify.harness.check import check
    p = dict(point)
    tid = p.pop("theorem")
    n, d = int(p.pop("n")), int(p.pop("d"))
    measure = p.pop("measure", "sphere")
    if measure not in ("sphere", "cube"):
        raise ParameterError("measure", measure, "'sphere' or 'cube'")
    k = int(p.pop("k", 2 * n))
    fitter = _fitter(p.pop("fitter", "random_features"), k)
    opts = {"method": p.pop("method", "auto")}
    if "cert_time_limit" in p:
        opts["time_limit"] = float(p.pop("cert_time_limit"))
    model = DataModel(getattr(Measure, measure)(d))
    X, y = model.sample(n, seed=seed)
    fit = fitter(X, y, seed)
    r = check(bounds.get(tid), X, y, fit, model=model, seed=seed, certifier_options=opts, **p)
    return {"verdict": r.verdict, "lower": r.lower, "upper": r.upper,
            "bound": None if r.bound is None else float(r.bound),
            "ratio": r.ratio, "failed_hypotheses": [h.name for h in r.failed],
            "fit_exact": bool(getattr(fit, "success", True))}
