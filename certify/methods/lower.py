"""Witnessed lower bounds on the Lipschitz constant by multi-start local search.

Search is heuristic and done in floating point; only the *final* candidates are evaluated in ball
arithmetic (:func:`certify.arith.witness.point_witness`), so the returned value is a rigorous lower bound
whatever the search did.

Search strategy
---------------
1. Sample starting points: uniformly in the box (plus its centre and a few corners), or, for the
   global constant, Gaussian points at several scales around the origin (so that bounded and
   unbounded linear regions of a piecewise-linear net are both visited).
2. Local ascent on ``g(x) = ||J_f(x)||_{p->p}`` from the best starts:

   * smooth networks: gradient ascent with a central finite-difference gradient of ``g`` (``g`` is
     computed from the analytic Jacobian, so one gradient costs ``2 d`` Jacobians), projected onto
     the box, with step halving;
   * piecewise-linear networks: ``g`` is constant on each linear region, so gradients are useless;
     instead a (1+lambda) evolution strategy perturbs the incumbent at shrinking scales, which walks
     into adjacent regions with larger Jacobian norm.

3. The best few distinct points are evaluated in Arb; a point that lies on a kink is skipped, and a
   pair quotient around the best point is the fallback witness.
"""

from __future__ import annotations

import math
import time

import numpy as np

from certify.methods.budget import budget_for
from certify.methods.certificate import Witness, normalize_norm
from certify.arith.witness import KinkError, pair_witness, point_witness

__all__ = ["lower_bound", "batch_jacobian_norms"]


#: Seconds per network weight of one ball-arithmetic point witness (2-core reference machine,
#: rounded up): witnesses that would not fit in a time limit are not evaluated.
ARB_SECONDS_PER_WEIGHT = 3e-6


def batch_jacobian_norms(net, X, norm) -> np.ndarray:
    """Float ``||J_f(x)||_{p->p}`` for each row of ``X`` (no rigour; used to steer the search)."""
    J = net.jacobian(np.atleast_2d(X))
    p = normalize_norm(norm)
    with np.errstate(over="ignore", invalid="ignore"):  # steering only: inf is a fine score
        return _jacobian_norms(J, p)


def _jacobian_norms(J, p):
    if p == 1:
        return np.abs(J).sum(axis=1).max(axis=1)
    if p == math.inf:
        return np.abs(J).sum(axis=2).max(axis=1)
    if J.shape[1] == 1:
        return np.linalg.norm(J[:, 0, :], axis=1)
    return np.linalg.norm(J, ord=2, axis=(1, 2))


def _global_scale(net) -> float:
    """Length scale at which the first layer's hyperplanes sit: typical |b| / ||w||."""
    w, b = net.weights[0], net.biases[0]
    with np.errstate(over="ignore"):  # a row norm beyond float64 only means "scale ~ 0": a heuristic
        r = np.abs(b) / np.maximum(np.linalg.norm(w, axis=1), 1e-300)
    return float(max(1.0, np.median(r)))


def _starts(net, domain, n, rng):
    d = net.input_dim
    if domain is None:
        s = _global_scale(net)
        scales = s * np.array([0.1, 1.0, 3.0, 10.0])
        X = rng.standard_normal((n, d)) * scales[rng.integers(0, len(scales), n)][:, None]
        return np.vstack([np.zeros((1, d)), X])
    lo, hi = domain
    t = rng.random((n, d))
    X = np.clip(lo * (1 - t) + hi * t, lo, hi)  # hi - lo may overflow for boxes near 1e308
    corners = np.where(rng.random((min(8, n), d)) < 0.5, lo, hi)
    return np.vstack([lo / 2 + hi / 2, corners, X])


def _project(X, domain):
    return X if domain is None else np.clip(X, domain[0], domain[1])


def _step_scale(net, domain):
    if domain is None:
        return _global_scale(net)
    half = float(np.max(domain[1] / 2 - domain[0] / 2))  # no overflow for boxes near 1e308
    return min(2 * half, 1e300) or 1.0


def _es_ascent(net, x, gx, norm, domain, rng, iters, pop, deadline=None):
    """(1+lambda) evolution strategy with a shrinking step; good for piecewise-constant g."""
    sigma = 0.25 * _step_scale(net, domain)
    d = x.shape[0]
    for _ in range(iters):
        if deadline is not None and time.perf_counter() > deadline:
            break
        cand = _project(x + sigma * rng.standard_normal((pop, d)), domain)
        g = batch_jacobian_norms(net, cand, norm)
        k = int(np.argmax(g))
        if g[k] > gx:
            x, gx = cand[k], float(g[k])
        else:
            sigma *= 0.6
            if sigma < 1e-9 * _step_scale(net, domain):
                break
    return x, gx


def _fd_ascent(net, x, gx, norm, domain, iters, deadline=None, point_cost=0.0):
    """Projected gradient ascent with a central finite-difference gradient and step halving.

    ``point_cost``: seconds per Jacobian evaluation; a gradient (``2 d`` of them) that would end
    after ``deadline`` is not started.
    """
    d = x.shape[0]
    scale = _step_scale(net, domain)
    h = 1e-6 * max(scale, 1.0)
    step = 0.1 * scale
    E = np.eye(d) * h
    for _ in range(iters):
        if deadline is not None and time.perf_counter() + 2 * d * point_cost > deadline:
            break
        with np.errstate(over="ignore"):
            X = _project(np.vstack([x + E, x - E]), domain)
        if not np.all(np.isfinite(X)):
            break
        g = batch_jacobian_norms(net, X, norm)
        grad = (g[:d] - g[d:]) / (2 * h)
        nrm = np.linalg.norm(grad)
        if not np.isfinite(nrm) or nrm == 0:
            break
        while step > 1e-12 * scale:
            y = _project(x + step * grad / nrm, domain)
            gy = float(batch_jacobian_norms(net, y, norm)[0])
            if gy > gx:
                x, gx = y, gy
                step *= 1.5
                break
            step *= 0.5
        else:
            break
    return x, gx


def lower_bound(net, norm=2, domain=None, *, n_starts: int = 256, n_ascents: int = 8,
                iters: int = 60, seed: int = 0, time_limit: float | None = None,
                extra_points=None) -> Witness | None:
    """Best witnessed lower bound found by multi-start local search.

    Parameters
    ----------
    net : certify.Network
    norm : {1, 2, inf}
    domain : None or (lo, hi)
        Normalised box (see :func:`certify.methods.certificate.normalize_domain`) or ``None``.
    n_starts : int
        Random starting points scored in float.
    n_ascents : int
        How many of the best starts are refined by local ascent.
    iters : int
        Iterations per ascent.
    seed : int
        Seed of the NumPy generator (results are reproducible).
    time_limit : float, optional
        Budget in seconds for the search; the final Arb evaluation of the candidates may take up
        to half as much again (candidates whose estimated cost does not fit are skipped).
    extra_points : array_like (k, d), optional
        Additional candidates (e.g. box centres from a branch and bound).

    Returns
    -------
    Witness or None
        The witness with the largest rigorous value, or ``None`` if no candidate could be
        evaluated (e.g. all on kinks and the pair fallback degenerate).
    """
    p = normalize_norm(norm)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    X = _starts(net, domain, n_starts, rng)
    if extra_points is not None:
        X = np.vstack([X, _project(np.atleast_2d(np.asarray(extra_points, dtype=float)), domain)])
    t1 = time.perf_counter()
    g = batch_jacobian_norms(net, X, p)
    point_cost = (time.perf_counter() - t1) / len(X)
    order = np.argsort(-g)
    pl = bool(getattr(net, "piecewise_linear", False))
    results = []
    budget = budget_for(None)  # the enclosing run's: a Ctrl-C there stops the search too
    for idx in order[:n_ascents]:
        if (time_limit is not None and time.perf_counter() - t0 > time_limit) or budget.stop_reason():
            break
        x, gx = X[idx].copy(), float(g[idx])
        if pl:
            x, gx = _es_ascent(net, x, gx, p, domain, rng, iters, pop=4 * net.input_dim,
                               deadline=deadline)
        else:
            x, gx = _fd_ascent(net, x, gx, p, domain, iters, deadline=deadline,
                               point_cost=point_cost)
        results.append((gx, x))
    results.append((float(g[order[0]]), X[order[0]]))
    results.sort(key=lambda t: -t[0])
    keep = 3
    if time_limit is not None:  # the ball-arithmetic evaluation must fit in the limit too
        per_point = ARB_SECONDS_PER_WEIGHT * sum(w.size for w in net.weights)
        keep = min(3, int((t0 + 1.5 * time_limit - time.perf_counter()) // max(per_point, 1e-9)))
        if keep < 1:
            return None
    return best_witness(net, [x for _, x in results[:keep]], p, domain, rng)


def best_witness(net, points, norm, domain, rng=None) -> Witness | None:
    """Evaluate candidate points rigorously and return the best :class:`Witness`.

    A candidate on a kink is nudged (a few tiny random moves inside the domain); a pair quotient
    around the first candidate is the fallback.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    best = None
    for x in points:
        w = _point_or_nudged(net, x, norm, domain, rng)
        if w is not None and (best is None or w.value > best.value):
            best = w
    if best is None and len(points):
        x = np.asarray(points[0], dtype=float)
        h = 1e-6 * _step_scale(net, domain)
        y = _project(x + h * rng.standard_normal(x.shape), domain)
        if not np.array_equal(x, y):
            best = pair_witness(net, x, y, norm)
    return best


def _point_or_nudged(net, x, norm, domain, rng, tries: int = 5):
    x = np.asarray(x, dtype=float)
    h = 1e-9 * _step_scale(net, domain)
    for _ in range(tries):
        try:
            return point_witness(net, x, norm, domain=domain)
        except KinkError:
            x = _project(x + h * rng.standard_normal(x.shape), domain)
            h *= 10
    return None
