"""Lower bounds for one-hidden-layer piecewise-linear nets by local search over activation patterns.

For ``f(x) = A s(W x + b) + c`` with ``s`` piecewise linear, the Jacobian on the linear region of
pattern ``S`` (one piece per neuron) is ``A diag(slope_S) W``, and the Lipschitz constant is the
largest ``||A diag(slope_S) W||`` over the patterns whose region has interior in the domain.
This search climbs over patterns: from the pattern of a starting point, it tries the single-neuron
flips with the largest first-order gain of the norm (``u^T A_j w_j^T v`` times the slope change,
``u, v`` the top singular vectors), keeps a flip when a Chebyshev-centre LP (HiGHS) finds the
flipped region has interior, and stops when no candidate flip helps.  Many starts are run inside
a time budget.

Only the final candidates matter for rigour: each LP centre is evaluated by
:func:`certify.methods.lower.best_witness` (ball arithmetic, the point verified off the kinks),
so the search is heuristic and the returned lower bound is rigorous.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import linprog

from certify.methods.lower import batch_jacobian_norms, best_witness, lower_bound

__all__ = ["pattern_lower_bound"]


def _pieces(act):
    bps = np.asarray(act.breakpoints, dtype=float)
    return bps, np.asarray(act.slopes, dtype=float)


def _region_lp(W, b, lo_z, hi_z, box):
    """Chebyshev centre of ``{x : lo_z < W x + b < hi_z} (and x in box)``; returns (margin, x)."""
    k, d = W.shape
    nrm = np.linalg.norm(W, axis=1)
    rows, rhs = [], []
    fin_hi = np.isfinite(hi_z)
    fin_lo = np.isfinite(lo_z)
    # W x + b + r ||w|| <= hi ;  -(W x + b) + r ||w|| <= -lo
    rows.append(np.hstack([W[fin_hi], nrm[fin_hi, None]]))
    rhs.append(hi_z[fin_hi] - b[fin_hi])
    rows.append(np.hstack([-W[fin_lo], nrm[fin_lo, None]]))
    rhs.append(b[fin_lo] - lo_z[fin_lo])
    A_ub = np.vstack(rows)
    b_ub = np.concatenate(rhs)
    if box is None:
        bounds = [(None, None)] * d + [(None, 1.0)]
    else:
        bounds = [(float(l), float(h)) for l, h in zip(*box)] + [(None, 1.0)]
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        return -math.inf, None
    return float(res.x[-1]), res.x[:d]


def _climb(W, b, A, bps, slopes, x, box, deadline, max_flips):
    z = W @ x + b
    piece = np.searchsorted(bps, z)                 # neuron j is on piece piece[j]
    edges = np.concatenate([[-np.inf], bps, [np.inf]])
    best_x, flips = x, 0

    def jac(pc):
        return (A * slopes[pc][None, :]) @ W

    J = jac(piece)
    val = float(np.linalg.norm(J, 2))
    while flips < max_flips and time.perf_counter() < deadline:
        U, s, Vt = np.linalg.svd(J, full_matrices=False)
        u, v = U[:, 0], Vt[0]
        base = (u @ A) * (W @ v)                     # d/d slope_j of u^T J v
        cand = []
        for step in (-1, 1):
            npc = piece + step
            ok = (npc >= 0) & (npc < len(slopes))
            gain = np.where(ok, base * (slopes[np.clip(npc, 0, len(slopes) - 1)] - slopes[piece]), -np.inf)
            for j in np.argsort(-gain)[:6]:
                if gain[j] > 1e-12 * max(val, 1e-300):
                    cand.append((gain[j], j, step))
        cand.sort(key=lambda c: -c[0])
        moved = False
        for _, j, step in cand[:8]:
            trial = piece.copy()
            trial[j] += step
            Jt = jac(trial)
            vt = float(np.linalg.norm(Jt, 2))
            if vt <= val * (1 + 1e-12):
                continue
            margin, xc = _region_lp(W, b, edges[trial], edges[trial + 1], box)
            if margin > 1e-9 and xc is not None:
                piece, J, val, best_x, moved = trial, Jt, vt, xc, True
                flips += 1
                break
        if not moved:
            break
    return val, best_x


def pattern_lower_bound(net, norm=2, domain=None, *, time_limit: float = 10.0, n_starts: int = 64,
                        max_flips: int = 400, seed: int = 0, start_points=None):
    """Rigorous lower bound for a one-hidden-layer piecewise-linear net by pattern local search.

    Parameters
    ----------
    net : certify.Network
        One hidden layer, piecewise-linear activation, l2 norm.
    time_limit : float
        Seconds for the search (the final ball-arithmetic evaluation is extra, milliseconds).
    n_starts : int
        Starting points (the best of a Gaussian multi-start sample, plus ``start_points``).

    Returns
    -------
    Witness or None
    """
    if len(net.weights) != 2 or not getattr(net, "piecewise_linear", False) or norm != 2:
        raise ValueError("pattern_lower_bound needs a one-hidden-layer piecewise-linear net and norm=2")
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    W, A = (np.asarray(w, dtype=float) for w in net.weights)
    b = np.asarray(net.biases[0], dtype=float)
    bps, slopes = _pieces(net.activations[0])
    rng = np.random.default_rng(seed)
    d = W.shape[1]
    scale = max(1.0, float(np.median(np.abs(b) / np.maximum(np.linalg.norm(W, axis=1), 1e-300))))
    X = rng.standard_normal((8 * n_starts, d)) * scale
    if domain is not None:
        X = domain[0] + (domain[1] - domain[0]) * rng.random((8 * n_starts, d))
    g = batch_jacobian_norms(net, X, 2)
    X = X[np.argsort(-g)[:n_starts]]
    if start_points is not None:
        X = np.vstack([np.atleast_2d(start_points), X])
    found = []
    for x in X:
        if time.perf_counter() > deadline:
            break
        val, xb = _climb(W, b, A, bps, slopes, x, domain, deadline, max_flips)
        found.append((val, xb))
    found.sort(key=lambda t: -t[0])
    pts = [x for _, x in found[:3]]
    return best_witness(net, pts, 2, domain) if pts else None
