"""The run budget every certification method shares: deadline, progress line, Ctrl-C, best so far.

:func:`certify.lipschitz` opens one :class:`Budget` per call (:func:`running`); a method asks for it
with :func:`budget_for` (a method called directly, outside :func:`certify.lipschitz`, gets a fresh
one built from its own ``time_limit``), so nested calls (a fallback, a portfolio) share a single
deadline and a single progress line.

* **deadline**: :meth:`Budget.stop_reason` says ``"time_limit"`` once the limit has passed;
  :meth:`Budget.remaining` gives the seconds left, for solvers that take their own limit;
* **Ctrl-C**: inside :func:`running` the first SIGINT only sets a flag (``stop_reason`` then says
  ``"interrupted"`` and the method returns what it has); a second one raises
  :class:`KeyboardInterrupt` as usual, and :func:`certify.lipschitz` then returns the best
  certificate offered so far;
* **best so far**: :meth:`Budget.offer` keeps the intersection of every rigorous enclosure a
  method produced (their intersection is rigorous), so nothing better is ever discarded;
* **progress**: :meth:`Budget.update` refreshes a tqdm line on stderr (elapsed time, nodes, current
  enclosure); it is shown only when stderr is a terminal, unless asked for.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import signal
import sys
import threading
import time

from bounds.errors import ParameterError

__all__ = ["Budget", "running", "budget_for", "reject_unknown_options", "intersect",
           "DEFAULT_TIME_LIMIT"]

#: Seconds granted to a call of :func:`certify.lipschitz` that sets no ``time_limit``, whichever
#: method runs.  Pass ``time_limit=math.inf`` for no limit at all.
DEFAULT_TIME_LIMIT = 60.0

_CURRENT: contextvars.ContextVar["Budget | None"] = contextvars.ContextVar("certify_budget",
                                                                          default=None)


class Budget:
    """Deadline, interrupt flag, progress line and best enclosure of one certification run.

    Parameters
    ----------
    time_limit : float or None
        Seconds from now; ``None`` or ``inf`` for no limit.
    progress : bool or None
        ``True`` always shows a progress line on stderr, ``False`` never, ``None`` (default) only
        when stderr is a terminal.
    """

    def __init__(self, time_limit=None, progress=None, parent=None):
        self.parent = parent
        self.tol = 1e-9  # relative gap at which an intersection counts as exact (set by lipschitz)
        self.t0 = time.perf_counter()
        self.time_limit = None if time_limit is None or math.isinf(time_limit) else float(time_limit)
        self.deadline = None if self.time_limit is None else self.t0 + self.time_limit
        self.interrupted = False
        self.best = None
        self.nodes = 0
        if progress is None:
            progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self._show = bool(progress)
        self._bar = None
        self._last = 0.0

    # ------------------------------------------------------------------ time
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a limit."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.perf_counter())

    def stop_reason(self) -> str | None:
        """``"interrupted"``, ``"time_limit"`` or ``None`` (keep going)."""
        if self.parent is not None and self.parent.stop_reason():
            return self.parent.stop_reason()
        if self.interrupted:
            return "interrupted"
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return "time_limit"
        return None

    def interrupt(self) -> None:
        """What a first Ctrl-C does: ask every method to stop and return what it has."""
        self.interrupted = True

    # ------------------------------------------------------------------ best so far
    def offer(self, cert):
        """Intersect a rigorous certificate into the best enclosure; returns the new best."""
        if self.parent is not None:
            self.parent.offer(cert)
        if cert is not None and cert.rigorous:
            self.best = cert if self.best is None else intersect(cert, self.best, self.tol)
        return self.best

    # ------------------------------------------------------------------ progress
    def update(self, nodes=None, lower=None, upper=None, force=False) -> None:
        """Refresh the progress line (at most ten times a second)."""
        if self.parent is not None:
            return self.parent.update(nodes, lower, upper, force)
        if nodes is not None:
            self.nodes = int(nodes)
        if not self._show:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        if self._bar is None:
            from tqdm import tqdm
            self._bar = tqdm(total=None, file=sys.stderr, leave=False, dynamic_ncols=True,
                             bar_format="{desc}{postfix}")
        enc = "" if upper is None else f"[{0.0 if lower is None else lower:.8g}, {upper:.8g}]"
        limit = "" if self.time_limit is None else f"/{self.time_limit:.0f}"
        self._bar.set_description_str(f"certify: {self.elapsed():.1f}{limit} s, "
                                      f"{self.nodes} nodes {enc}", refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


_STOPS = ("interrupted", "time_limit", "node_limit", "resolution_limit")


def intersect(a, b, tol=1e-9):
    """The intersection of two rigorous enclosures of the same constant, as one certificate.

    The upper end, its method, proof data and status come from the certificate with the smaller
    upper end; the lower end and witness from the one with the larger lower end
    (:meth:`Certificate.verify` re-checks a witness independently of the method).  ``exact``
    is re-derived with the relative tolerance ``tol``.
    """
    up = a if a.upper <= b.upper else b  # ties go to ``a``
    low = a if a.lower >= b.lower else b
    details = dict(up.details)
    lower = max(a.lower, b.lower)
    if low is not up:
        details["lower_from"] = low.method
    exact = up.exact or bool(math.isfinite(up.upper) and up.upper - lower <= tol * up.upper)
    status = up.status
    if exact:
        status = "converged"
    else:  # a method stopped early must not hide behind a one-shot bound's "bound"
        stopped = [c.status for c in (a, b) if c.status in _STOPS]
        status = stopped[0] if stopped else status
    return dataclasses.replace(up, lower=lower, witness=low.witness, details=details,
                               exact=exact, status=status)


def budget_for(time_limit=None) -> Budget:
    """The budget of the enclosing :func:`running` block, or a fresh one for ``time_limit``.

    Inside a run, a method's own (smaller) ``time_limit`` narrows the shared deadline for the
    method's work, never widens it.
    """
    cur = _CURRENT.get()
    if cur is None:
        return Budget(time_limit, progress=False)
    if time_limit is not None and not math.isinf(time_limit):
        end = time.perf_counter() + float(time_limit)
        if cur.deadline is None or end < cur.deadline - 1e-6:
            return Budget(time_limit, progress=False, parent=cur)
    return cur


@contextlib.contextmanager
def running(budget: Budget):
    """Make ``budget`` the current one; in the main thread a first Ctrl-C only sets its flag."""
    token = _CURRENT.set(budget)
    previous = None
    if threading.current_thread() is threading.main_thread():
        def _handler(signum, frame):
            if budget.interrupted:  # second Ctrl-C: the user insists
                raise KeyboardInterrupt
            budget.interrupt()
        try:
            previous = signal.signal(signal.SIGINT, _handler)
        except ValueError:  # not allowed here (embedded interpreters)
            previous = None
    try:
        yield budget
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        _CURRENT.reset(token)
        budget.close()


def reject_unknown_options(method: str, options: dict, known=()) -> None:
    """Raise :class:`ParameterError` for the first keyword a method does not take."""
    if options:
        name = sorted(options)[0]
        allowed = ("the options " + ", ".join(sorted(known))) if known else "no extra options"
        raise ParameterError(name, options[name], allowed,
                             f"unknown keyword for method={method!r}")
