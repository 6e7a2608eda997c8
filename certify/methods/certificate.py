"""Certificates: a Lipschitz enclosure together with how it was obtained and how to re-check it.

A :class:`Certificate` is the result object of :func:`certify.lipschitz`.  It carries the
enclosure ``[lower, upper]`` of the Lipschitz constant

.. math:: \\mathrm{Lip}_p(f; D) = \\sup_{x \\ne y \\in D} \\|f(x) - f(y)\\|_p / \\|x - y\\|_p ,

the norm ``p``, the domain ``D`` (a box, or ``None`` for all of :math:`\\mathbb{R}^d`), the method, a
:class:`Witness` for the lower bound, and whatever the method needs to re-check its upper bound.
:meth:`Certificate.verify` re-derives the witness value in ball arithmetic and calls the method's
registered upper-bound verifier, independently of the code path that produced the numbers.

The module also owns the normalisation of the two inputs every method shares, the norm and the
domain (:func:`normalize_norm`, :func:`normalize_domain`), so that all methods reject bad input
with the same typed errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from bounds.errors import ParameterError

__all__ = [
    "Witness",
    "Certificate",
    "VerificationResult",
    "normalize_norm",
    "normalize_domain",
    "norm_label",
    "register_verifier",
    "VERIFIERS",
    "make_certificate",
    "gap_closed",
]

_NORM_ALIASES = {
    1: 1, 2: 2, math.inf: math.inf,
    "1": 1, "2": 2, "l1": 1, "l2": 2, "linf": math.inf, "inf": math.inf, "l_inf": math.inf,
    "infinity": math.inf,
}


def normalize_norm(norm) -> float | int:
    """Return the canonical norm (``1``, ``2`` or ``math.inf``) for a user-supplied spelling.

    Parameters
    ----------
    norm : {1, 2, numpy.inf, "l1", "l2", "linf", "inf"}

    Returns
    -------
    int or float
        ``1``, ``2`` or ``math.inf``.

    Raises
    ------
    ParameterError
        For any other value (including ``True``/``False`` and NaN).
    """
    key = norm.strip().lower() if isinstance(norm, str) else norm
    if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float, np.integer,
                                                                       np.floating)):
        # complex numbers (2+0j == 2), arrays and other objects that compare equal to a norm
        raise ParameterError("norm", norm, "1, 2, numpy.inf, 'l1', 'l2', 'linf' or 'inf'")
    if isinstance(key, (int, float, np.integer, np.floating)) and not isinstance(key, str):
        key = float(key)
        if key == 1.0:
            return 1
        if key == 2.0:
            return 2
        if key == math.inf:
            return math.inf
        raise ParameterError("norm", norm, "1, 2, numpy.inf, 'l1', 'l2', 'linf' or 'inf'")
    try:
        return _NORM_ALIASES[key]
    except (KeyError, TypeError):
        raise ParameterError("norm", norm, "1, 2, numpy.inf, 'l1', 'l2', 'linf' or 'inf'") from None


def norm_label(norm) -> str:
    """``"l1"``, ``"l2"`` or ``"linf"`` for a canonical norm."""
    return {1: "l1", 2: "l2", math.inf: "linf"}[normalize_norm(norm)]


def normalize_domain(domain, dim: int):
    """Validate a box domain and broadcast it to ``dim`` coordinates.

    Parameters
    ----------
    domain : None or (lo, hi)
        ``None`` means all of :math:`\\mathbb{R}^d`.  ``lo`` and ``hi`` are scalars or arrays
        broadcastable to shape ``(dim,)``.
    dim : int
        Input dimension of the network.

    Returns
    -------
    None or tuple of two float64 arrays of shape (dim,)
        Read-only copies.

    Raises
    ------
    ParameterError
        If the box is not a pair, has the wrong dimension, contains NaN or infinite ends, or has
        some ``lo[i] > hi[i]`` (empty box) or ``lo[i] == hi[i]`` (flat box: on a set of lower
        dimension the Jacobian norm at a point is not a lower bound of the constant, so witnessed
        lower ends would be wrong; restrict the network to the affine slice instead).
    """
    if domain is None:
        return None
    allowed = f"None or a pair (lo, hi) of scalars/arrays broadcastable to shape ({dim},) with lo < hi"
    if not isinstance(domain, (tuple, list, np.ndarray)) or isinstance(domain, np.ma.MaskedArray):
        # a set {lo, hi} has no order, a dict unpacks its keys
        raise ParameterError("domain", domain, allowed, "expected a tuple or list (lo, hi)")
    try:
        lo, hi = domain
    except (TypeError, ValueError):
        raise ParameterError("domain", domain, allowed, "expected a pair (lo, hi)") from None
    ends = []
    for name, end in (("lo", lo), ("hi", hi)):
        if isinstance(end, np.ma.MaskedArray):
            raise ParameterError("domain", domain, allowed,
                                 f"{name} is a masked array; pass the box ends as plain numbers")
        try:
            arr = np.asarray(end)
        except (TypeError, ValueError):
            raise ParameterError("domain", domain, allowed, "box ends must be real numbers") from None
        if arr.dtype.kind not in "biuf" or arr.dtype.kind == "b":
            # strings would be parsed by NumPy, booleans read as 0/1, objects are unknown
            raise ParameterError("domain", domain, allowed,
                                 f"{name} must be real numbers, got dtype {arr.dtype}")
        ends.append(np.array(arr, dtype=np.float64))
    lo, hi = ends
    for name, arr in (("lo", lo), ("hi", hi)):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, dim)):
            raise ParameterError("domain", domain, allowed,
                                 f"{name} has shape {arr.shape}, the network has {dim} inputs")
    lo = np.broadcast_to(lo, (dim,)).astype(np.float64)
    hi = np.broadcast_to(hi, (dim,)).astype(np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ParameterError("domain", domain, allowed, "box ends must be finite (no NaN or inf); "
                             "use domain=None for all of R^d")
    if np.any(lo > hi):
        bad = int(np.flatnonzero(lo > hi)[0])
        raise ParameterError("domain", domain, allowed,
                             f"empty box: lo[{bad}]={lo[bad]!r} > hi[{bad}]={hi[bad]!r}")
    if np.any(lo == hi):
        bad = int(np.flatnonzero(lo == hi)[0])
        raise ParameterError("domain", domain, allowed,
                             f"flat box: lo[{bad}] == hi[{bad}] == {lo[bad]!r}; the Lipschitz constant "
                             "on a lower-dimensional set is not what the methods certify")
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi


@dataclass(frozen=True, eq=False)
class Witness:
    """Evidence for a lower bound on the Lipschitz constant.

    Attributes
    ----------
    kind : {"point", "pair"}
        ``"point"``: ``value`` lower-bounds :math:`\\|J_f(x)\\|_{p\\to p}` at a point where ``f``
        is differentiable (or, for piecewise-linear nets at a kink, the Jacobian of the one-sided
        activation ``pattern``, whose region is verified to touch ``x``); ``"pair"``: ``value``
        lower-bounds :math:`\\|f(x)-f(x_2)\\|_p/\\|x-x_2\\|_p`.
    x, x2 : numpy.ndarray
        The point(s); ``x2`` is ``None`` for ``"point"``.
    value : float
        Rigorous lower end of the ball below (rounded down to a float).
    value_ball : str
        The Arb ball the value was read from.
    pattern : tuple or None
        Activation pattern used at a kink (see :func:`certify.arith.witness.jacobian_norm_ball`).
    """

    kind: str
    x: np.ndarray
    x2: np.ndarray | None
    value: float
    value_ball: str
    pattern: tuple | None = None

    def recompute(self, net, norm, domain=None):
        """Re-evaluate the witness in ball arithmetic; returns a ``flint.arb``."""
        from certify.arith.witness import jacobian_norm_ball, pair_quotient_ball
        if self.kind == "point":
            return jacobian_norm_ball(net, self.x, norm, pattern=self.pattern, domain=domain)
        if self.kind == "pair":
            return pair_quotient_ball(net, self.x, self.x2, norm)
        raise ParameterError("kind", self.kind, "'point' or 'pair'")


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of :meth:`Certificate.verify`.

    Attributes
    ----------
    ok : bool
        True iff every check passed.
    checks : dict[str, bool]
        Named checks (``"ordered"``, ``"witness_in_domain"``, ``"witness"``, ``"upper"``).
    messages : list[str]
        One line per check explaining the outcome.
    """

    ok: bool
    checks: dict
    messages: list

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "verified" if self.ok else "NOT verified"
        return head + "\n" + "\n".join("  " + m for m in self.messages)


#: method name -> callable(certificate) -> (ok: bool, message: str) re-checking the upper bound.
VERIFIERS: dict[str, Callable[["Certificate"], tuple[bool, str]]] = {}


def register_verifier(method: str, fn: Callable[["Certificate"], tuple[bool, str]]) -> None:
    """Register the independent upper-bound re-check of a method.

    The callable receives the :class:`Certificate` and returns ``(ok, message)``.  It must
    recompute the upper bound (or check the method's proof object stored in
    ``certificate.details``) without trusting floating-point results of the producing run.
    """
    VERIFIERS[method] = fn


@dataclass(frozen=True, eq=False)
class Certificate:
    """A guaranteed enclosure of a Lipschitz constant and how it was obtained.

    Attributes
    ----------
    lower, upper : float
        ``lower <= Lip <= upper``.  ``upper`` is always rigorous; ``lower`` is rigorous when
        ``rigorous`` is True (it is then the rounded-down value of a ball-arithmetic witness).
    norm : {1, 2, math.inf}
        The p of the induced operator norm (same norm on inputs and outputs).
    domain : None or (lo, hi)
        Input box, or ``None`` for all of R^d.
    method : str
        Name of the method that produced the upper bound.
    rigorous : bool
    exact : bool
        ``upper - lower <= tol * upper`` with a finite ``upper``.
    status : str
        ``"converged"``, ``"time_limit"``, ``"node_limit"``, ``"interrupted"`` (Ctrl-C),
        ``"bound"`` (a one-shot bound that does not try to close the gap), ``"overflow"`` (the
        upper end is infinite: rigorous but vacuous), ...
    witness : Witness or None
    elapsed : float
        Wall-clock seconds.
    details : dict
        Method-specific information (node counts, solve/check times, proof data).
    network : object
        The network the certificate is about (used by :meth:`verify`).
    """

    lower: float
    upper: float
    norm: Any
    domain: Any
    method: str
    rigorous: bool
    exact: bool
    status: str
    witness: Witness | None = None
    elapsed: float = 0.0
    details: dict = field(default_factory=dict)
    network: Any = None

    @property
    def width(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    @property
    def gap(self) -> float:
        """Relative gap ``(upper - lower) / upper`` (0 when ``upper == 0``)."""
        return 0.0 if self.upper == 0 else (self.upper - self.lower) / self.upper

    def _domain_str(self) -> str:
        if self.domain is None:
            return "global"
        lo, hi = self.domain
        if np.all(lo == lo[0]) and np.all(hi == hi[0]):
            return f"box [{lo[0]:g}, {hi[0]:g}]^{lo.shape[0]}"
        return f"box {len(lo)}-dim"

    def __str__(self) -> str:
        tag = "rigorous" if self.rigorous else "NOT rigorous"
        if self.exact:
            tag += ", exact"
        return (f"[{self.lower:.10g}, {self.upper:.10g}] ({norm_label(self.norm)}, "
                f"{self._domain_str()}, {self.method}, {tag}, {self.status})")

    def verify(self, time_limit=None) -> VerificationResult:
        """Re-check the certificate independently.

        Parameters
        ----------
        time_limit : float, optional
            Seconds for the upper-bound re-check (a replay that does not finish in time fails the
            ``upper`` check with a message saying so).

        Checks
        ------
        ordered
            ``0 <= lower <= upper`` and ``upper`` finite.
        witness_in_domain
            The witness point(s) lie in the domain box.
        witness
            The witness recomputed in ball arithmetic certainly exceeds ``lower`` (with no
            witness, ``lower`` must be 0).
        upper
            The method's registered verifier (see :func:`register_verifier`) or a callable
            ``details["verifier"]`` accepts the upper bound.

        Returns
        -------
        VerificationResult
        """
        checks: dict[str, bool] = {}
        msgs: list[str] = []

        ok = bool(np.isfinite(self.upper) and 0.0 <= self.lower <= self.upper)
        checks["ordered"] = ok
        msgs.append(f"ordered: 0 <= {self.lower!r} <= {self.upper!r}: {ok}")

        w = self.witness
        if w is None:
            ok = self.lower <= 0.0
            checks["witness"] = ok
            msgs.append(f"witness: none; lower must be 0: {ok}")
        else:
            inside = True
            if self.domain is not None:
                lo, hi = self.domain
                pts = [w.x] if w.x2 is None else [w.x, w.x2]
                inside = all(bool(np.all(lo <= p) and np.all(p <= hi)) for p in pts)
            checks["witness_in_domain"] = inside
            msgs.append(f"witness_in_domain: {inside}")
            try:
                import flint
                ball = w.recompute(self.network, self.norm, self.domain)
                ok = bool(flint.arb(self.lower) <= ball)
                msgs.append(f"witness: recomputed {w.kind} value {ball} >= lower {self.lower!r}: {ok}")
            except Exception as exc:  # a failing re-evaluation is a failed check, not a crash
                ok = False
                msgs.append(f"witness: re-evaluation failed: {exc!r}")
            checks["witness"] = ok

        fn = self.details.get("verifier") or VERIFIERS.get(self.method)
        if fn is None:
            checks["upper"] = False
            msgs.append(f"upper: no verifier registered for method {self.method!r}")
        else:
            from certify.methods.budget import Budget, running
            try:
                with running(Budget(time_limit, progress=False)):
                    ok, msg = fn(self)
                ok = bool(ok)
            except Exception as exc:
                ok, msg = False, f"verifier raised {exc!r}"
            checks["upper"] = ok
            msgs.append(f"upper: {msg}: {ok}")

        return VerificationResult(ok=all(checks.values()), checks=checks, messages=msgs)


def gap_closed(lower, upper, tol, atol=0.0) -> bool:
    """``upper - lower <= tol * upper + atol`` with a finite ``upper`` (an infinite end never closes)."""
    return bool(math.isfinite(upper) and upper - lower <= tol * upper + atol)


def make_certificate(net, norm, domain, method, upper, witness=None, *, tol=1e-9,
                     status="bound", elapsed=0.0, details=None, rigorous=True) -> Certificate:
    """Assemble a :class:`Certificate`, deriving ``lower`` from the witness and ``exact`` from ``tol``.

    ``lower`` is the witness value (0 without witness), clipped to ``upper`` never: a witness
    above the upper bound signals a soundness bug, so it raises ``AssertionError`` instead.
    """
    lower = 0.0 if witness is None else float(witness.value)
    upper = float(upper)
    if lower > upper:
        raise AssertionError(f"soundness violation: witnessed lower {lower!r} > upper {upper!r} "
                             f"({method})")
    exact = gap_closed(lower, upper, tol)
    if exact and status in ("bound", "running"):
        status = "converged"
    if not math.isfinite(upper) and status == "converged":
        status = "overflow"  # an infinite upper end is rigorous but says nothing: never "converged"
    return Certificate(lower=lower, upper=upper, norm=normalize_norm(norm), domain=domain,
                       method=method, rigorous=rigorous, exact=exact, status=status,
                       witness=witness, elapsed=float(elapsed), details=dict(details or {}),
                       network=net)
