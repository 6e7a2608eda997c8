"""Certificates: a Lipschitz enclosure together with how it was obtained and how to re-check it.

A :class:`Certificate` is the result object of :func:`certify.lipschitz`.  It carries the
enclosure ``[lower, upper]`` of the Lipschitz constant

.. math:: \\mathrm{Lip}_p(f; D) = \\sup_{x \\ne y \\in D} \\|f(x) - f(y)\\|_p / \\|x - y\\|_p ,

the norm ``p``, the domain ``D`` (a box, or ``None`` for all of :math:`\\mathbb{R}^d`), the method, a
:class:`Witness` for the lower bound, and whatever the method needs to re-check its upper bound.
:meth:`Certificate.verify` re-derives the witness value in ball arithmetic and calls the method's
registered upper-bound verifier, independently of the code path that produced the numbers.

The normalisation of the two inputs every method shares, the norm and the domain, lives in
:mod:`certify.inputs` and the :class:`Witness` record in :mod:`certify.arith.witness`; both are
re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


from certify.arith.witness import Witness
from certify.errors import shown
from certify.inputs import norm_label, normalize_domain, normalize_norm

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
        msgs.append(f"ordered: 0 <= {shown(self.lower)} <= {shown(self.upper)}: {ok}")

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
                msgs.append(f"witness: recomputed {w.kind} value {ball} >= lower {shown(self.lower)}: {ok}")
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
        raise AssertionError(f"soundness violation: witnessed lower {shown(lower)} > upper {shown(upper)} "
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
