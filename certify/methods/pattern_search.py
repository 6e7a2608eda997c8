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

from certify.methods.budget import budget_for
from certify.methods.lower import batch_jacobian_norms, best_witness, lower_bound

__all__ = ["pattern_lower_bound"]


def _left(deadline) -> float:
    """Seconds left before ``deadline``; 0 once the enclosing run is stopped (Ctrl-C, its limit)."""
    if budget_for(None).stop_reason():
        return 0.0
    return deadline - time.perf_counter()


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
    while flips < max_flips and _left(deadline) > 0:
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


def _milp_pattern(W, b, c, box, radius, time_limit):
    """Pattern maximising ``sum_j c_j z_j`` (``z_j`` = neuron j on its upper piece) over the regions
    meeting ``box`` (or ``[-radius, radius]^d``): a big-M MILP (HiGHS via :func:`scipy.optimize.milp`).

    A point on several breakpoint hyperplanes may take either piece on each, and in general position
    every such choice is the pattern of a nearby region, so the optimum is a region's pattern; the
    caller confirms it with the Chebyshev-centre LP anyway.  Returns ``z`` (0/1 array) or ``None``.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    k, d = W.shape
    lo, hi = (np.full(d, -radius), np.full(d, radius)) if box is None else (box[0], box[1])
    # |w_j x + b_j| <= M_j on the box
    mid, half = (hi + lo) / 2, (hi - lo) / 2
    M = np.abs(W @ mid + b) + np.abs(W) @ half + 1e-9
    cons = LinearConstraint(np.hstack([W, -np.diag(M)]), -M - b, -b)   # z=1: wx+b >= 0; z=0: <= 0
    res = milp(np.concatenate([np.zeros(d), -c]), constraints=[cons],
               bounds=Bounds(np.concatenate([lo, np.zeros(k)]), np.concatenate([hi, np.ones(k)])),
               integrality=np.concatenate([np.zeros(d), np.ones(k)]),
               options={"time_limit": max(float(time_limit), 0.05), "disp": False})
    if res.x is None:
        return None
    return np.round(res.x[d:]).astype(int)


def _ascent_weights(W, A, slopes, piece):
    """``c_j = (u^T A_j)(w_j^T v)(slope_1 - slope_0)``, ``(u, v)`` the top singular pair of the
    Jacobian of ``piece`` (two-piece activations): switching neuron j to its upper piece changes
    ``u^T J v`` by ``c_j``; zeros for a zero Jacobian."""
    J = (A * slopes[piece][None, :]) @ W
    if not np.any(J):
        return np.zeros(W.shape[0])
    U, _, Vt = np.linalg.svd(J, full_matrices=False)
    return (U[:, 0] @ A) * (W @ Vt[0]) * (slopes[1] - slopes[0])


def _vertex_pattern(W, A, slopes, rng, iters=30):
    """A slope vertex with large ``||A diag(s) W||`` ignoring realisability (power-type iteration);
    it only supplies a starting direction for :func:`_milp_ascent`."""
    gain = (rng.standard_normal(A.shape[0]) @ A) * (W @ rng.standard_normal(W.shape[1]))
    piece = np.where(gain * (slopes[1] - slopes[0]) > 0, 1, 0)     # from a random direction pair
    for _ in range(iters):
        c = _ascent_weights(W, A, slopes, piece)
        if not np.any(c):
            break
        new = np.where(c > 0, 1, 0)
        if np.array_equal(new, piece):
            break
        piece = new
    return piece


def _smooth_ascent(W, b, A, slopes, piece, rng, scale, box, deadline, batch=256):
    """Alternate: top singular pair ``(u, v)`` of the Jacobian of ``piece``, then projected gradient
    ascent, from ``batch`` random points, of ``sum_j c_j sigmoid((w_j x + b_j) / tau)`` with
    ``c_j = (u^T A_j)(w_j^T v)(slope_1 - slope_0)`` as ``tau`` shrinks from 0.3 to 0.003 (a smoothed
    ``u^T J(x) v``); the best end point's region gives the next pattern.  Returns [(value, point)]."""
    d = W.shape[1]
    out = []
    best = -math.inf
    stale = 0
    for _ in range(40):
        if _left(deadline) <= 0 or stale >= 2:
            break
        c = _ascent_weights(W, A, slopes, piece)
        if box is None:
            X = rng.standard_normal((batch, d)) * 0.5 * scale
        else:
            X = box[0] + (box[1] - box[0]) * rng.random((batch, d))
        for tau in np.geomspace(0.3 * scale, 0.003 * scale, 12):
            if _left(deadline) <= 0:
                break
            for _ in range(25):
                with np.errstate(over="ignore"):
                    S = 1.0 / (1.0 + np.exp(-np.clip((X @ W.T + b) / tau, -50.0, 50.0)))
                g = ((S * (1.0 - S) / tau) * c) @ W
                X = X + 0.5 * tau * g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-300)
                if box is not None:
                    X = np.clip(X, box[0], box[1])
        P = (X @ W.T + b > 0).astype(int)
        top = np.argsort(-(P @ c))[:8]             # best smoothed values; rank them by the true norm
        vals = [float(np.linalg.norm((A * slopes[q][None, :]) @ W, 2)) for q in P[top]]
        i = int(top[int(np.argmax(vals))])
        val = max(vals)
        out.append((val, X[i]))
        stale = stale + 1 if val <= best * (1 + 1e-9) else 0
        best = max(best, val)
        piece = P[i]
    return out


def _milp_ascent(W, b, A, bps, slopes, piece, box, radius, deadline, per_round):
    """Alternate: top singular pair (u, v) of the Jacobian of ``piece``, then the region
    maximising ``u^T J v`` by :func:`_milp_pattern`, confirmed by LP; returns [(value, point)]."""
    edges = np.concatenate([[-np.inf], bps, [np.inf]])
    out = []
    for _ in range(50):
        left = _left(deadline)
        if left < 0.1:
            break
        c = _ascent_weights(W, A, slopes, piece)
        z = _milp_pattern(W, b, c, box, radius, min(per_round, left))
        if z is None:
            break
        margin, xc = _region_lp(W, b, edges[z], edges[z + 1], box)
        if not (margin > 1e-9 and xc is not None) or np.array_equal(z, piece):
            break
        piece = z
        out.append((float(np.linalg.norm((A * slopes[z][None, :]) @ W, 2)), xc))
    return out


def pattern_lower_bound(net, norm=2, domain=None, *, time_limit: float = 10.0, n_starts: int = 64,
                        max_flips: int = 400, seed: int = 0, start_points=None,
                        milp_share: float = 0.6, milp_round: float = 5.0):
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
    two_piece = len(slopes) == 2 and bps.size == 1 and bps[0] == 0.0
    found = []
    if two_piece:
        # 1. smoothed directional ascent (cheap per step, scales to wide layers)
        found += _smooth_ascent(W, b, A, slopes, _vertex_pattern(W, A, slopes, rng), rng, scale,
                                domain, t0 + 0.4 * time_limit)
    # 2. single-flip climbs from the best points so far and from the random sample
    climb_end = deadline - (milp_share * 0.6 * time_limit if two_piece else 0.0)
    starts = [x for _, x in sorted(found, key=lambda t: -t[0])[:2]] + list(X)
    for x in starts:
        if _left(climb_end) <= 0:
            break
        found.append(_climb(W, b, A, bps, slopes, x, domain, climb_end, max_flips))
    found.sort(key=lambda t: -t[0])
    if two_piece and milp_share > 0:
        # 3. MILP jumps from the best patterns
        radius = 5.0 * scale
        for _, xb in found[:3]:
            if _left(deadline) < 0.1:
                break
            piece = np.searchsorted(bps, W @ xb + b)
            for v, xm in _milp_ascent(W, b, A, bps, slopes, piece, domain, radius, deadline,
                                      max(milp_round, W.shape[0] / 100.0)):
                found.append(_climb(W, b, A, bps, slopes, xm, domain, deadline, max_flips)
                             if _left(deadline) > 0 else (v, xm))
        found.sort(key=lambda t: -t[0])
    pts = [x for _, x in found[:3]]
    return best_witness(net, pts, 2, domain) if pts else None
