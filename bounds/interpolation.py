"""The minimal interpolating Lipschitz constant (McShane-Whitney), exact and approximate.

Every function ``f`` with ``f(x_i) = y_i`` satisfies, for every pair,
``Lip(f) >= |y_i - y_j| / ||x_i - x_j||``; the McShane extension
``f(x) = min_i (y_i + L ||x - x_i||)`` with ``L = max_{i != j} |y_i - y_j| / ||x_i - x_j||``
attains the maximum, so that maximum is *exactly* the least Lipschitz
constant of an interpolant, for every norm and every model class.

Two data-dependent forms, both returning a :class:`~bounds.theorem.DataBound`
whose value is rounded *down*:

* exact fit (:func:`minimal_lipschitz`): float screening of all pairs
  (vectorized, chunked), then the best candidates re-evaluated in Arb ball
  arithmetic from the exact float data; the value is the largest certified
  lower endpoint. Conflicting duplicates (same ``x``, different ``y``) give
  ``+inf``; identical duplicates are ignored.
* approximate fit, training MSE ``<= tau`` (:func:`minimal_lipschitz_approx`):
  the second-order cone program ``min L  s.t.  |z_i - z_j| <= L ||x_i - x_j||,
  (1/n) ||z - y||^2 <= tau`` is solved by Clarabel (through cvxpy), and its
  dual multipliers are turned into a weak-duality certificate evaluated in
  exact rational / Arb arithmetic: the returned value is a rigorous lower
  bound whatever the solver's accuracy; the solver's objective is reported
  separately and is *not* rigorous.

Examples
--------
>>> import numpy as np, bounds
>>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5]])
>>> y = np.array([1.0, -1.0, -1.0])
>>> r = bounds.get("minimal_interpolation").from_data(X, y)
>>> float(r), r.quantities["pair"], r.rigorous
(4.0, (0, 2), True)
"""

from __future__ import annotations

import math

import flint
import mpmath
import numpy as np

from ._verified import (arb_lower, arb_of_input, arb_precision, arb_upper, check_data,
                        solve_float_program)
from .errors import ParameterError
from .params import at_least, positive
from .theorem import Citation, DataBound, Status, Theorem

__all__ = ["minimal_lipschitz", "minimal_lipschitz_approx", "NORMS", "ENTRIES"]

NORMS = ("l2", "l1", "linf")

#: Float screening keeps every pair within this relative distance of the float maximum
#: (float rounding of a ratio is ~d * 2^-53, far smaller), capped at MAX_CERTIFY pairs.
SCREEN_RTOL = 1e-6
MAX_CERTIFY = 64

MCSHANE = Citation(
    authors="E. J. McShane; H. Whitney",
    title="Extension of range of functions; Analytic extensions of differentiable functions "
          "defined in closed sets",
    venue="Bull. AMS 40 (1934); Trans. AMS 36 (1934)",
    year=1934,
    version_checked="classical; statement standard (real-valued Lipschitz extension on a "
                    "metric space)",
)


# -- validation -------------------------------------------------------------
def _check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ParameterError("norm", norm, "one of " + ", ".join(NORMS))
    return norm


def _float_norms(diff: np.ndarray, norm: str) -> np.ndarray:
    a = np.abs(diff)
    if norm == "l1":
        return a.sum(axis=-1)
    if norm == "linf":
        return a.max(axis=-1)
    # scaled l2, so that tiny or huge differences neither underflow nor overflow
    s = a.max(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return s * np.sqrt(np.sum((a / np.where(s > 0, s, 1.0)[..., None]) ** 2, axis=-1))


# -- Arb helpers ------------------------------------------------------------
def _arb_norm(u: np.ndarray, v: np.ndarray, norm: str) -> flint.arb:
    """A ball containing ``||u - v||`` (exact float inputs)."""
    diffs = [abs(flint.arb(float(a)) - flint.arb(float(b))) for a, b in zip(u, v)]
    if norm == "l1":
        return sum(diffs, flint.arb(0))
    if norm == "linf":
        out = flint.arb(0)
        for t in diffs:
            out = out.max(t)
        return out
    return sum((t * t for t in diffs), flint.arb(0)).sqrt()


def _out_bits() -> int:
    """Mantissa bits of the returned numbers: mpmath's working precision, at least a double's."""
    return max(mpmath.mp.prec, 53)


# -- exact fit ----------------------------------------------------------------
def _screen(X: np.ndarray, y: np.ndarray, norm: str, chunk: int):
    """Float ratios of all pairs i < j; the best candidates and conflicting duplicates."""
    n = X.shape[0]
    best_i, best_j, best_r = [], [], []
    conflict = None
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        # rows start..stop against every later row
        rows = np.arange(start, stop)
        counts = n - 1 - rows
        I = np.repeat(rows, counts)
        J = np.arange(I.size) - np.repeat(np.cumsum(counts) - counts, counts) + I + 1
        if I.size == 0:
            continue
        with np.errstate(over="ignore"):      # +-inf differences are certified in Arb below
            diff = X[I] - X[J]
        same = ~diff.any(axis=1)          # x - y == 0 exactly iff x == y in IEEE arithmetic
        dy = np.abs(y[I] - y[J])
        clash = same & (y[I] != y[J])
        if clash.any() and conflict is None:
            k = int(np.argmax(clash))
            conflict = (int(I[k]), int(J[k]))
        dist = _float_norms(diff, norm)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(same, 0.0, dy / dist)
        r = np.where(np.isnan(r), np.inf, r)       # 0/0 after underflow: certify it
        take = min(MAX_CERTIFY, r.size)
        idx = np.argpartition(-r, take - 1)[:take]
        best_i.append(I[idx]), best_j.append(J[idx]), best_r.append(r[idx])
    if not best_r:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0), conflict
    I, J, r = (np.concatenate(a) for a in (best_i, best_j, best_r))
    order = np.argsort(-r, kind="stable")
    I, J, r = I[order], J[order], r[order]
    finite = r[np.isfinite(r)]
    top = finite[0] if finite.size else 0.0
    keep = (~np.isfinite(r)) | (r >= top * (1 - SCREEN_RTOL))
    keep &= r > 0
    keep[MAX_CERTIFY:] = False
    return I[keep], J[keep], r[keep], conflict


def minimal_lipschitz(X, y, *, norm: str = "l2", chunk: int = 256,
                      theorem_id: str = "minimal_interpolation") -> DataBound:
    """Least Lipschitz constant of an interpolant of ``(X, y)``, rounded down.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    norm : {"l2", "l1", "linf"}
        Norm on the inputs (the Lipschitz constant is w.r.t. this norm).
    chunk : int
        Rows per screening block (memory ``~ chunk * n * d`` floats).

    Returns
    -------
    DataBound
        ``value``: the largest Arb-certified lower endpoint of
        ``|y_i - y_j| / ||x_i - x_j||`` over the screened candidates (a
        rigorous lower bound on the exact maximum, equal to it up to the
        ball radius when the screening picked the maximizing pair).
        ``quantities``: the maximizing ``pair``, its ratio ball ``ratio_lower``
        and ``ratio_upper``, the float screening maximum, the number of
        certified pairs, and ``conflict`` (a duplicate pair with different
        labels, which makes the value ``+inf``).
    """
    Xa, ya = check_data(X, y, signs=False)
    norm = _check_norm(norm)
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ParameterError("chunk", chunk, "integers >= 1")
    guarantee = ("every f : R^d -> R with f(x_i) = y_i for all i has Lip(f) >= value "
                 f"({norm} norm on inputs); value <= the exact minimal constant")
    I, J, r, conflict = _screen(Xa, ya, norm, int(chunk))
    if conflict is not None:
        return DataBound(mpmath.inf, theorem_id, "exact duplicate inputs with different labels",
                         True, {"pair": conflict, "conflict": conflict, "norm": norm},
                         guarantee=guarantee + "; here no interpolant exists at all")
    best, best_pair, best_ball = mpmath.mpf(0), None, None
    with arb_precision():
        for i, j in zip(I.tolist(), J.tolist()):
            dist = _arb_norm(Xa[i], Xa[j], norm)
            ratio = abs(flint.arb(float(ya[i])) - flint.arb(float(ya[j]))) / dist
            if not ratio.is_finite():
                continue
            lo = arb_lower(ratio, _out_bits())
            if lo > best:
                best, best_pair, best_ball = lo, (i, j), ratio
    q = {"pair": best_pair, "norm": norm, "n_certified": int(len(I)),
         "screening_max_float": float(r[0]) if len(r) else 0.0, "conflict": None}
    if best_ball is not None:
        q["ratio_lower"], q["ratio_upper"] = (arb_lower(best_ball, _out_bits()),
                                             arb_upper(best_ball, _out_bits()))
    return DataBound(best, theorem_id, "float screening of all pairs + Arb ball certification",
                     True, q, guarantee=guarantee)


# -- approximate fit ----------------------------------------------------------
def _pairs(n: int):
    return np.triu_indices(n, k=1)


def minimal_lipschitz_approx(X, y, tau, *, norm: str = "l2", max_points: int = 400,
                             theorem_id: str = "minimal_interpolation") -> DataBound:
    """Least Lipschitz constant among functions with training MSE ``<= tau``.

    Solves ``min L s.t. |z_i - z_j| <= L ||x_i - x_j|| (all pairs),
    (1/n) ||z - y||^2 <= tau`` with Clarabel, then certifies a lower bound
    from the dual multipliers ``mu_ij`` (any real numbers work)::

        L >= ( g.y - sqrt(n tau) ||g|| ) / sum_ij |mu_ij| ||x_i - x_j||,
        g = sum_ij mu_ij (e_i - e_j),

    because ``sum mu_ij (z_i - z_j) <= L sum |mu_ij| ||x_i - x_j||`` and
    ``g.z >= g.y - ||g|| ||z - y|| >= g.y - ||g|| sqrt(n tau)``. The
    certificate is evaluated in exact rationals and Arb balls, so ``value``
    is rigorous (rounded down) whatever the solver's tolerance; only its
    tightness depends on the solver.

    Parameters
    ----------
    tau : float
        MSE budget, ``>= 0``.
    max_points : int
        Refuse larger ``n`` (the program has ``n (n-1)`` linear constraints).

    Returns
    -------
    DataBound
        ``value`` (rigorous), and in ``quantities`` the solver's objective
        ``solver_value`` (not rigorous), its status, the fitted values ``z``
        and the number of dual multipliers used by the certificate.
    """
    import cvxpy as cp

    Xa, ya = check_data(X, y, signs=False)
    norm = _check_norm(norm)
    tau_v = at_least("tau", "training MSE budget", 0.0).validate(tau)
    n = Xa.shape[0]
    if n > max_points:
        raise ParameterError("X", f"{n} points", f"at most max_points={max_points} points",
                             "the program has n(n-1) constraints; raise max_points to insist")
    guarantee = ("every f : R^d -> R with (1/n) sum_i (f(x_i) - y_i)^2 <= tau has "
                 f"Lip(f) >= value ({norm} norm on inputs)")
    I, J = _pairs(n)
    dist = _float_norms(Xa[I] - Xa[J], norm)
    if n == 1 or I.size == 0:
        return DataBound(mpmath.mpf(0), theorem_id, "trivial (one point)", True,
                         {"solver_value": 0.0, "tau": float(tau)}, guarantee=guarantee)
    z, L = cp.Variable(n), cp.Variable(nonneg=True)
    B = np.zeros((I.size, n))
    B[np.arange(I.size), I] = 1.0
    B[np.arange(I.size), J] = -1.0
    up = B @ z <= L * dist
    down = -(B @ z) <= L * dist
    fit = cp.sum_squares(z - ya) <= n * float(tau_v)
    prob = cp.Problem(cp.Minimize(L), [up, down, fit])
    try:
        solver_warnings = solve_float_program(prob, solver=cp.CLARABEL)
    except cp.SolverError as exc:  # pragma: no cover - reported, never silently zero
        raise RuntimeError(f"Clarabel failed on the approximate-fit program: {exc}") from exc
    q = {"solver": "Clarabel", "status": prob.status, "solver_warnings": solver_warnings,
         "tau": float(tau), "norm": norm,
         "solver_value": float(L.value) if L.value is not None else math.nan,
         "z": None if z.value is None else np.asarray(z.value, dtype=float)}
    if up.dual_value is None or down.dual_value is None:
        return DataBound(mpmath.mpf(0), theorem_id, "SOCP failed; trivial bound 0", True, q,
                         guarantee=guarantee)
    mu = np.asarray(up.dual_value, float) - np.asarray(down.dual_value, float)
    # the ball of tau as the user wrote it ("0.01" is not a double), not of its rounding
    value, used = _dual_certificate(Xa, ya, arb_of_input(tau, tau_v), I, J, mu, norm)
    q["n_multipliers"] = used
    return DataBound(value, theorem_id,
                     "SOCP (cvxpy + Clarabel) + exact weak-duality certificate", True, q,
                     guarantee=guarantee)


def _dual_certificate(X, y, tau, I, J, mu, norm, drop=1e-9):
    """Rigorous ``max(0, (g.y - sqrt(n tau)||g||) / sum |mu| D)`` for the given multipliers.

    ``tau`` is a ball (``flint.arb``) containing the MSE budget.

    Multipliers below ``drop * max|mu|`` are set to zero (a different, still
    valid, choice of multipliers that keeps the exact evaluation small).
    """
    n = X.shape[0]
    big = np.max(np.abs(mu)) if mu.size else 0.0
    if not np.isfinite(big) or big == 0:
        return mpmath.mpf(0), 0
    keep = np.nonzero(np.abs(mu) > drop * big)[0]
    g = [flint.fmpq(0)] * n
    with arb_precision():
        den = flint.arb(0)
        for k in keep.tolist():
            m = flint.fmpq(*float(mu[k]).as_integer_ratio())
            i, j = int(I[k]), int(J[k])
            g[i] += m
            g[j] -= m
            den += abs(flint.arb(m)) * _arb_norm(X[i], X[j], norm)
        gy = sum((gi * flint.fmpq(*float(yi).as_integer_ratio()) for gi, yi in zip(g, y)),
                 flint.fmpq(0))
        gg = sum((gi * gi for gi in g), flint.fmpq(0))
        num = flint.arb(gy) - (tau * n * flint.arb(gg)).sqrt()
        if not (num > 0) or not (den > 0):
            return mpmath.mpf(0), int(keep.size)
        return arb_lower(num / den, _out_bits()), int(keep.size)


def _from_data(theorem, X, y, *, tau=None, norm: str = "l2", **kw) -> DataBound:
    """``from_data`` of the record: exact fit, or MSE ``<= tau`` when ``tau`` is given."""
    if tau is None:
        return minimal_lipschitz(X, y, norm=norm, theorem_id=theorem.id, **kw)
    return minimal_lipschitz_approx(X, y, tau, norm=norm, theorem_id=theorem.id, **kw)


DY = at_least("dy", "label gap |y_i - y_j| of one pair", 0.0)
DX = positive("dx", "input distance ||x_i - x_j|| of the same pair")

MINIMAL_INTERPOLATION = Theorem(
    id="minimal_interpolation",
    title="Minimal interpolating Lipschitz constant (McShane-Whitney)",
    citation=MCSHANE,
    status=Status.STATED,
    parameters=(DY, DX),
    expr=DY.symbol / DX.symbol,
    assumptions=("f(x_i) = y_i for the pair (exact fit); for the whole sample use from_data, "
                 "whose maximum over pairs is attained by the McShane extension",
                 "any model class, any norm on the inputs (the Lipschitz constant is w.r.t. "
                 "that norm)"),
    conclusion=("every f with f(x_i) = y_i and f(x_j) = y_j has Lip(f) >= |y_i - y_j| / "
                "||x_i - x_j||; over the sample, max_{i != j} of it is exactly the least "
                "Lipschitz constant of an interpolant (from_data; from_data(..., tau=...) for "
                "training MSE <= tau)"),
    lipschitz_domain="global",
    notes=("Deterministic (no probability). from_data is rigorous: Arb-certified, rounded "
           "down; +inf for duplicate inputs with different labels."),
    data_fn=_from_data,
)

ENTRIES = (MINIMAL_INTERPOLATION,)
