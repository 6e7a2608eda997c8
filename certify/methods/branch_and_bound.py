"""Interval branch and bound over the input box (any activation, any of the three norms).

On a convex domain ``D`` the Lipschitz constant of a locally Lipschitz ``f`` w.r.t. ``||.||_p`` on
inputs and outputs is ``sup_{x in D} ||J||_{p->p}`` over all Clarke generalized Jacobians ``J`` of
``f`` at points of ``D`` (Clarke's mean value theorem gives ``<=``, differentiable points give
``>=``).  For vector outputs this is the induced operator norm; convexity of the box is what
makes the mean value argument work.

Upper bound on a sub-box ``B``: :func:`jacobian_enclosure` encloses every Clarke Jacobian over
``B`` in an interval matrix (pre-activation enclosures by linear relaxation, see
:func:`symbolic_preactivations`, intersected with interval bound propagation; activation
derivative ranges; products chained from the output side), and
:func:`certify.arith.interval.opnorm_upper` bounds ``sup ||M||_{p->p}`` over that interval matrix
(l1/linf: column/row sums of magnitudes; l2: the least of ``sqrt(||.||_1 ||.||_inf)``, a
Collatz-Wielandt bound and ``||mid||_2 + ||rad||_2``).  All of it is outward rounded.

Search: best-first on the box bound.  The box with the largest bound is bisected along the
coordinate with the largest *smear* ``width_k * sum_j |W_1[j, k]|`` (the coordinate whose
uncertainty moves the first-layer pre-activations most).  The global upper bound is the largest
bound of an open leaf; the lower bound is the best witnessed ``||J(x)||`` (centres of new boxes,
plus periodic local ascent inside the worst box, evaluated in Arb).  The search stops when
``upper - lower <= tol * upper``, or at the time/node limit (anytime: the enclosure is valid at
every moment).

The whole split tree is stored in the certificate (``details["splits"]``), so
:func:`verify_interval` can rebuild the leaves, confirm that they tile the domain by
construction, and recompute every leaf bound.
"""

from __future__ import annotations

import heapq
import math
import time

import numpy as np

from certify.methods.budget import budget_for, reject_unknown_options
from certify.methods.certificate import gap_closed, make_certificate, register_verifier
from certify.arith.interval import (Interval, midrad, midrad_affine_box, midrad_affine_combine,
                       midrad_scale_rows, opnorm_upper)
from certify.methods.lower import _es_ascent, _fd_ascent, batch_jacobian_norms, best_witness, lower_bound

__all__ = ["interval_lipschitz", "box_bound", "verify_interval", "symbolic_preactivations",
           "jacobian_enclosure",
           "activation_relaxation"]


# activations that are convex on (-inf, 0] and concave on [0, inf)
_SIGMOIDAL = ("tanh", "sigmoid")


def _convex(act) -> bool:
    if act.piecewise_linear:
        return bool(np.all(np.diff(act.slopes) >= 0))
    return act.name == "softplus" or (act.name == "poly" and act.param % 2 == 0)


def _chord(act, zl, zu, fl, fu, upper: bool):
    """A line through (outward-rounded) endpoint values: above ``act`` at both ends if ``upper``."""
    width = zu.hi - zl.lo
    ok = width > 0
    ends = (fl.hi, fu.hi) if upper else (fl.lo, fu.lo)
    with np.errstate(all="ignore"):
        a = np.where(ok, (ends[1] - ends[0]) / np.where(ok, width, 1.0), 0.0)
    a = np.where(np.isfinite(a), a, 0.0)
    t1, t2 = fl - zl * a, fu - zu * a
    b = np.maximum(t1.hi, t2.hi) if upper else np.minimum(t1.lo, t2.lo)
    return a, b


def activation_relaxation(act, z: Interval):
    """Affine bounds ``aL z + bL <= act(z) <= aU z + bU`` for every ``z`` in ``Z`` (per neuron).

    Candidates, all rigorous (intercepts outward rounded, slopes exact floats):

    * the mean value theorem anchored at either end (Lebourg's for the Clarke derivative of a
      piecewise-linear activation): with ``act'`` in ``[d_lo, d_hi]`` on ``Z = [l, u]``,
      ``act(l) + d_lo (z - l) <= act(z) <= act(l) + d_hi (z - l)`` and
      ``act(u) + d_hi (z - u) <= act(z) <= act(u) + d_lo (z - u)``; a neuron whose derivative is a
      point (a stable piece) is thereby exact;
    * the constants ``min``/``max`` of ``act`` over ``Z`` (plain interval propagation);
    * the chord above a convex function (relu, leaky relu, abs, softplus, even powers; tanh and
      sigmoid when ``u <= 0``) and below a concave one (tanh and sigmoid when ``l >= 0``): a line
      above (below) the function at both ends of the interval is above (below) it in between.

    Each side keeps the candidate that is best at the midpoint of ``Z`` (a heuristic: soundness
    does not depend on the choice).

    A GroupSort layer (not elementwise) gets the constants of its exact blockwise image: every
    sorted output lies between the order statistics of the lower and of the upper ends.

    Returns
    -------
    aL, bL, aU, bU : numpy.ndarray
    """
    if not act.elementwise:
        img = act.interval(z)
        zero = np.zeros_like(z.lo)
        return zero, img.lo, zero.copy(), img.hi
    d = act.derivative_interval(z)
    zl, zu = Interval(z.lo), Interval(z.hi)
    fl, fu = act.interval(zl), act.interval(zu)
    img = act.interval(z)
    lower = [(d.lo, (fl - zl * d.lo).lo), (d.hi, (fu - zu * d.hi).lo),
             (np.zeros_like(z.lo), img.lo)]
    upper = [(d.hi, (fl - zl * d.hi).hi), (d.lo, (fu - zu * d.lo).hi),
             (np.zeros_like(z.lo), img.hi)]
    sig = act.name in _SIGMOIDAL
    if _convex(act) or sig:
        a, b = _chord(act, zl, zu, fl, fu, upper=True)
        keep = np.full(z.shape, True) if not sig else z.hi <= 0
        upper.append((np.where(keep, a, 0.0), np.where(keep, b, img.hi)))
    if sig:
        a, b = _chord(act, zl, zu, fl, fu, upper=False)
        keep = z.lo >= 0
        lower.append((np.where(keep, a, 0.0), np.where(keep, b, img.lo)))
    zm = midrad(z.lo, z.hi)[0]
    return (*_best(lower, zm, -1.0), *_best(upper, zm, 1.0))


def _best(cands, zm, sign):
    """The finite candidate line with the least ``sign * (a zm + b)`` per neuron."""
    a = np.zeros_like(zm)
    b = np.full_like(zm, sign * np.inf)
    score = np.full_like(zm, np.inf)
    with np.errstate(all="ignore"):
        for ca, cb in cands:
            ok = np.isfinite(ca) & np.isfinite(cb)
            sc = np.where(ok, sign * (ca * zm + cb), np.inf)
            better = ok & (sc < score)
            a, b, score = np.where(better, ca, a), np.where(better, cb, b), np.where(better, sc, score)
    return a, b


def symbolic_preactivations(net, lo, hi) -> list[Interval]:
    """Rigorous enclosures of the hidden pre-activations over ``[lo, hi]`` by linear relaxation.

    Symbolic interval propagation (as in :mod:`certify.methods.exact`): every hidden pre-activation is
    kept between two affine functions of ``x`` with rigorous radii
    (:func:`certify.arith.interval.midrad_scale_rows`, :func:`certify.arith.interval.midrad_affine_combine`),
    each activation replaced by the affine bounds of :func:`activation_relaxation`; the functions
    are evaluated over the box (:func:`certify.arith.interval.midrad_affine_box`) and intersected with
    plain interval propagation of the previous layer's (already intersected) enclosure and with
    the enclosure of :meth:`Network.interval_forward` (interval products in midpoint-radius form
    are inclusion monotone only up to rounding, so that last intersection is what makes each
    enclosure inside the plain one).
    """
    box = Interval(lo, hi)
    xm, xr = midrad(lo, hi)
    W, bias = net.weights, net.biases
    plain = net.interval_forward(box)
    z = plain[0]
    lo_f = hi_f = (W[0], None, bias[0], None)  # z_0 is exactly affine in x
    pre = [z]
    for l in range(net.hidden_layers - 1):
        act = net.activations[l]
        aL, bL, aU, bU = activation_relaxation(act, z)
        HL = midrad_scale_rows(aL, bL, 0.0, lo_f, hi_f)
        HU = midrad_scale_rows(aU, bU, 0.0, hi_f, lo_f)
        Wp, Wn = np.maximum(W[l + 1], 0.0), np.minimum(W[l + 1], 0.0)
        lo_f = midrad_affine_combine(Wp, HL, Wn, HU, bias[l + 1])
        hi_f = midrad_affine_combine(Wp, HU, Wn, HL, bias[l + 1])
        ibp = W[l + 1] @ act.interval(z) + bias[l + 1]
        with np.errstate(all="ignore"):  # fmax / fmin drop a NaN from an overflowed relaxation
            zlo = np.fmax(np.maximum(ibp.lo, plain[l + 1].lo), midrad_affine_box(*lo_f, xm, xr)[0])
            zhi = np.fmin(np.minimum(ibp.hi, plain[l + 1].hi), midrad_affine_box(*hi_f, xm, xr)[1])
        z = Interval(zlo, zhi)
        pre.append(z)
    return pre


def jacobian_enclosure(net, lo, hi, symbolic: bool = True) -> Interval:
    """Interval matrix containing every Clarke Jacobian of ``net`` over ``[lo, hi]``.

    ``symbolic=False`` is :meth:`Network.jacobian_interval` (plain interval propagation);
    ``symbolic=True`` takes the pre-activation enclosures of :func:`symbolic_preactivations`.
    """
    if not symbolic or net.hidden_layers < 2:  # one hidden layer: both are the same enclosure
        return net.jacobian_interval(Interval(lo, hi))
    box = Interval(lo, hi)
    return net.jacobian_interval(box, pre=symbolic_preactivations(net, lo, hi))


def box_bound(net, lo, hi, norm, symbolic: bool = True) -> float:
    """Rigorous upper bound on ``sup_{x in [lo, hi]} ||J_f(x)||_{p->p}`` (Clarke Jacobians)."""
    return float(opnorm_upper(jacobian_enclosure(net, lo, hi, symbolic), norm))


def _split_coordinate(lo, hi, smear_weights):
    width = hi - lo
    score = width * smear_weights
    if not np.any(score > 0):
        score = width
    return int(np.argmax(score))


def _children(lo, hi, k, m):
    """The two halves ``[lo, hi]`` cut at ``x_k = m`` (shared by the search and its replay)."""
    hi1 = hi.copy()
    hi1[k] = m
    lo2 = lo.copy()
    lo2[k] = m
    return (lo, hi1), (lo2, hi)


def _bisect(lo, hi, k):
    m = lo[k] + 0.5 * (hi[k] - lo[k])
    if not (lo[k] < m < hi[k]):  # the box is one float wide in this coordinate
        return None
    return (m, *_children(lo, hi, k, m))


def _fallback_global(net, norm, tol, time_limit):
    """Interval branch and bound needs a box: use LipSDP (l2, slope-restricted) or the naive product."""
    import dataclasses

    from certify.methods.naive import naive_lipschitz
    from certify.methods.sdp import sdp_lipschitz, slope_restricted

    if norm == 2 and slope_restricted(net) and len(net.weights) > 1:
        cert = sdp_lipschitz(net, norm, None, tol=tol, time_limit=time_limit)
    else:
        cert = naive_lipschitz(net, norm, None, tol=tol, time_limit=time_limit)
    details = dict(cert.details)
    details["note"] = (f"method='interval' needs a box domain; domain=None fell back to "
                       f"method={cert.method!r}")
    return dataclasses.replace(cert, details=details)


def interval_lipschitz(net, norm, domain, *, tol=1e-9, time_limit=None, node_limit=None,
                       lower_options=None, ascent_every: int = 200, seed: int = 0,
                       atol: float = 1e-100, symbolic: bool = True, **options):
    """Interval branch and bound for the Lipschitz constant on a box.

    Parameters
    ----------
    net : certify.Network
    norm : {1, 2, math.inf}
    domain : (lo, hi) or None
        ``None`` falls back to LipSDP/naive (see :func:`_fallback_global`) with a note in details.
    tol : float
        Relative gap at which to stop.
    time_limit : float, optional
        Seconds (checked between nodes).
    node_limit : int, optional
        Maximal number of bounded boxes.
    lower_options : dict, optional
        Options of the initial :func:`certify.methods.lower.lower_bound` search.
    ascent_every : int
        Run a local ascent inside the current worst box every this many nodes.
    seed : int
    atol : float
        Absolute gap at which to stop as well: the interval layer's a priori underflow terms make
        the bound of a region with zero Jacobian about 1e-154 rather than 0.
    symbolic : bool
        Pre-activation enclosures by linear relaxation (:func:`symbolic_preactivations`, default)
        or by plain interval propagation (``False``).

    Returns
    -------
    Certificate
        ``details``: ``nodes`` (boxes bounded), ``leaves`` (open boxes at the end), ``splits``
        (the split tree), ``max_depth``, ``symbolic``.
    """
    reject_unknown_options("interval", options,
                           ["lower_options", "ascent_every", "seed", "atol", "symbolic"])
    if domain is None:
        return _fallback_global(net, norm, tol, time_limit)
    t0 = time.perf_counter()
    budget = budget_for(time_limit)
    rng = np.random.default_rng(seed)
    lo0, hi0 = (np.array(domain[0], dtype=float), np.array(domain[1], dtype=float))
    smear_w = np.abs(net.weights[0]).sum(axis=0)

    lo_opts = {"n_starts": 64, "n_ascents": 3, "iters": 20, "seed": seed}
    lo_opts.update(lower_options or {})
    if budget.remaining() is not None:
        lo_opts.setdefault("time_limit", 0.1 * budget.remaining())
    witness = lower_bound(net, norm, (lo0, hi0), **lo_opts)
    best_lower = 0.0 if witness is None else witness.value

    splits: dict[int, tuple[int, float]] = {}  # node id -> (coordinate, split point)
    nodes = 1
    ub0 = box_bound(net, lo0, hi0, norm, symbolic)
    heap = [(-ub0, 0, 0, lo0, hi0)]  # (-bound, node id, depth, lo, hi)
    next_id = 1
    status = "running"
    max_depth = 0
    while True:
        upper = -heap[0][0]
        if gap_closed(best_lower, upper, tol, atol):
            status = "converged"
            break
        budget.update(nodes, best_lower, upper)
        if budget.stop_reason():
            status = budget.stop_reason()
            break
        if node_limit is not None and nodes >= node_limit:
            status = "node_limit"
            break
        negb, nid, depth, lo, hi = heapq.heappop(heap)
        k = _split_coordinate(lo, hi, smear_w)
        cut = _bisect(lo, hi, k)
        if cut is None:  # cannot split further: keep its bound as final
            heapq.heappush(heap, (negb, nid, depth, lo, hi))
            status = "resolution_limit"
            break
        m, (l1, h1), (l2, h2) = cut
        splits[nid] = (k, m)
        centres = np.vstack([(l1 + h1) / 2, (l2 + h2) / 2])
        for (cl, ch) in ((l1, h1), (l2, h2)):
            b = min(box_bound(net, cl, ch, norm, symbolic), -negb)  # a child never needs more than its parent
            nodes += 1
            heapq.heappush(heap, (-b, next_id, depth + 1, cl, ch))
            next_id += 1
        max_depth = max(max_depth, depth + 1)
        g = batch_jacobian_norms(net, centres, norm)
        cand = [centres[i] for i in np.argsort(-g) if g[i] > best_lower]
        if nodes % ascent_every < 2:
            _, _, _, wl, wh = heap[0]
            x0 = (wl + wh) / 2
            gx = float(batch_jacobian_norms(net, x0, norm)[0])
            if getattr(net, "piecewise_linear", False):
                x, gx = _es_ascent(net, x0, gx, norm, (wl, wh), rng, 15, 2 * net.input_dim)
            else:
                x, gx = _fd_ascent(net, x0, gx, norm, (wl, wh), 10)
            if gx > best_lower:
                cand.append(x)
        if cand:
            w = best_witness(net, cand[:2], norm, (lo0, hi0), rng)
            if w is not None and w.value > best_lower:
                witness, best_lower = w, w.value

    upper = -heap[0][0]
    details = {"nodes": nodes, "leaves": len(heap), "max_depth": max_depth, "splits": splits,
               "domain_box": (lo0, hi0), "symbolic": bool(symbolic)}
    return make_certificate(net, norm, domain, "interval", upper, witness, tol=tol,
                            status=status, elapsed=time.perf_counter() - t0, details=details)


def _leaf_bounds(net, norm, domain, splits, symbolic):
    """Replay a split tree; return the leaf boxes with their bounds (min over the path to the root).

    ``splits`` maps a node id to its (coordinate, split point), in the order the splits were made
    (children of the s-th split got ids ``2s + 1`` and ``2s + 2``), as recorded by
    :func:`interval_lipschitz`.
    """
    lo0, hi0 = (np.array(domain[0], dtype=float), np.array(domain[1], dtype=float))
    boxes = {0: (lo0, hi0, box_bound(net, lo0, hi0, norm, symbolic))}
    next_id = 1
    budget = budget_for(None)
    for nid, (k, m) in splits.items():
        if budget.stop_reason():
            raise ValueError(f"replay stopped ({budget.stop_reason()}) after {next_id} boxes")
        lo, hi, b = boxes.pop(nid)
        if not (lo[k] < m < hi[k]):
            raise ValueError(f"split of node {nid} at {m} is outside its box")
        for cl, ch in _children(lo, hi, k, m):
            boxes[next_id] = (cl, ch, min(b, box_bound(net, cl, ch, norm, symbolic)))
            next_id += 1
    return boxes


def verify_interval(cert) -> tuple[bool, str]:
    """Replay the split tree and recompute every node bound.

    The children of a split are ``[lo, m]`` and ``[m, hi]`` in one coordinate, so the leaves tile
    the domain by construction; each leaf's bound (the least bound on its path to the root) is
    recomputed from scratch and must not exceed ``upper``.
    """
    splits = cert.details.get("splits")
    if splits is None or cert.domain is None:
        return False, "no split tree stored"
    try:
        # certificates from before the linear relaxation carry no flag: plain interval propagation
        leaves = _leaf_bounds(cert.network, cert.norm, cert.domain, splits,
                              bool(cert.details.get("symbolic", False)))
    except (KeyError, ValueError) as exc:
        return False, f"split tree is inconsistent: {exc}"
    worst = max(b for _, _, b in leaves.values())
    ok = worst <= cert.upper
    return ok, (f"{len(leaves)} leaves tile the box; largest recomputed leaf bound {worst!r} "
                f"{'<=' if ok else '>'} upper {cert.upper!r}")


register_verifier("interval", verify_interval)
