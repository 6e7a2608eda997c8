"""Compositional (layer-by-layer) LipSDP bound for deep nets, checked layer by layer.

In the spirit of ECLipsE (Xu and Sivaranjani, NeurIPS 2024): the block-tridiagonal LipSDP-Neuron
LMI of an L-layer net is split into one small LMI per hidden layer.  With ``Q_0 = I``,
``Q_{L-1} = W_L^T W_L`` and float "hand-off" matrices ``Q_1, ..., Q_{L-2}``, layer ``i`` (weights
``W_i``, slopes ``[a_i, b_i]``) must satisfy

.. math:: F_i = \\begin{pmatrix} c_i Q_{i-1} + 2a_ib_i W_i^T T_i W_i & -(a_i+b_i) W_i^T T_i \\\\
          -(a_i+b_i) T_i W_i & 2T_i - Q_i \\end{pmatrix} \\succeq 0 .

If every ``F_i >= 0`` then ``Lip_2(f) <= sqrt(c_1 c_2 ... c_{L-1})``.  Proof: scale ``F_i`` by
``s_i = c_{i+1} ... c_{L-1}`` (so ``s_{i-1} = c_i s_i``) and add the embedded blocks: the
``Q_i`` terms cancel and the sum is ``-M(rho, T')`` of LipSDP-Neuron with ``rho = s_0`` and
``T'_i = s_i T_i``, which is then negative semidefinite.  (``docs/methods/compositional.md``.)

Choosing the multipliers (heuristic, floating point): layer ``i`` solves its own layer LMI with
the *next* layer's Gram matrix ``W_{i+1}^T W_{i+1}`` as output metric
(:func:`certify.methods.layer_lmi.solve_layer_lmi`, ``multipliers="diagonal"``) or with
``T_i = tau I`` and a one-dimensional search (``multipliers="scalar"``, fast); the hand-off is
``Q_i = (1 - eta) x`` the Schur complement ``2T_i - (a+b)^2 T_i W_i (c_i Q_{i-1} + ...)^{-1} W_i^T T_i``.

Checking (rigorous): each ``F_i > 0`` is proved by :func:`certify.methods.layer_lmi.check_layer_lmi`
(midpoint-radius enclosure, residual of a float Cholesky), the product of the ``c_i`` is rounded
upward and its square root too.  The verifier repeats every layer check from the stored data.

Fast mode (``mode="fast"``): scalar multipliers ``T_i = tau_i I`` from a cutting-plane search over
``lambda_max(V + s W G^{-1} W^T)`` (k-square eigenproblems only, :func:`_scalar_search`) and the
reduced check :func:`schur_check`, which proves ``F_i >= 0`` through a k-square Schur complement
(``docs/methods/compositional.md`` has the argument); about ECLipsE-Fast's cost.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize_scalar

from bounds.errors import ParameterError

from certify.arith.definite import norm2_upper_nonneg, midrad_add, midrad_scale, prove_positive_definite
from certify.arith.interval import inflate_upper, midrad_matmul
from certify.methods.certificate import make_certificate, register_verifier
from certify.methods.layer_lmi import (LayerLMIError, ProblemTooLargeError, available_memory,
                                       check_layer_lmi, checked_least_c, feasible_start, least_c,
                                       single_threaded_blas,
                                       solve_layer_lmi)
from certify.methods.lower import lower_bound
from certify.methods.sdp import SDPError

__all__ = ["compositional_lipschitz", "compositional_upper", "verify_compositional"]


def _slopes_or_raise(net):
    out = []
    for a in net.activations:
        if a.slope_bounds is None:
            raise ParameterError("activation", a.name, "a slope-restricted activation (known [alpha, beta])",
                                 "method='compositional' needs slope bounds for every hidden activation")
        out.append((float(a.slope_bounds[0]), float(a.slope_bounds[1])))
    return out


def _whiten(W, G):
    Lg = np.linalg.cholesky((G + G.T) / 2)
    return sla.solve_triangular(Lg, W.T, lower=True).T


def _scalar_multiplier(Wt, V, a, b):
    """Best ``t = tau * 1`` for the layer LMI (golden-section search on log tau)."""
    k = Wt.shape[0]
    lam = max(float(np.linalg.eigvalsh((V + V.T) / 2)[-1]), 1e-300)

    def f(u):
        return least_c(Wt, V, a, b, np.full(k, math.exp(u)))

    lo = math.log(0.5 * lam * (1 + 1e-9)) if lam > 1e-300 else -50.0
    res = minimize_scalar(f, bounds=(lo + 1e-9, lo + 12.0), method="bounded",
                          options={"xatol": 1e-4})
    return np.full(k, math.exp(res.x))


def _handoff(W, a, b, c, t, G, eta):
    """``(1 - eta)`` x the Schur complement of the layer LMI's top block (float, symmetric)."""
    top = c * G
    if a * b != 0:
        top = top + 2.0 * a * b * ((W.T * t) @ W)
    Bo = (a + b) * (W.T * t)                       # d x k
    cho = np.linalg.cholesky((top + top.T) / 2)
    Y = sla.solve_triangular(cho, Bo, lower=True)
    S = 2.0 * np.diag(t) - Y.T @ Y
    Q = (1.0 - eta) * (S + S.T) / 2
    return Q


# ------------------------------------------------------------------------------------------
# fast mode: scalar multipliers from a k x k search, each layer checked in reduced (Schur) form
# ------------------------------------------------------------------------------------------

def _top_eigenpair(A):
    """Largest eigenvalue and a unit eigenvector of a symmetric float matrix (LAPACK dsyevr)."""
    n = A.shape[0]
    if not np.isfinite(A).all():          # overflow: the caller gives up on the fast path
        return math.nan, None
    w, z, m, _, info = sla.lapack.dsyevr(A, compute_v=1, range="I", il=n, iu=n)
    if info != 0 or m != 1:
        w, z = np.linalg.eigh(A)
        return float(w[-1]), z[:, -1]
    return float(w[0]), z[:, 0]


def _scalar_search(M, V, *, rtol=1e-2, max_evals=20):
    """Minimise ``h(s) = lambda_max(V + s M)^2 / s`` over ``s > 0``; returns ``(s, g(s), evals)``.

    Heuristic (floating point).  With ``T = tau I`` and an activation with ``a b = 0`` the layer LMI
    holds iff ``V + (a+b)^2 tau^2 M / c <= 2 tau I`` (``M = W G^{-1} W^T``), so at
    ``s = (a+b)^2 tau^2 / c`` the best choice is ``tau = g(s) / 2`` and ``c = (a+b)^2 h(s) / 4``.

    Cutting planes (Kelley): at each ``s_j`` the top eigenvector ``v_j`` gives the tangent
    ``g(s) >= p_j + q_j s`` (``p_j = v_j^T V v_j``, ``q_j = v_j^T M v_j``; ``g`` is convex), so
    ``m(s) = max_j (p_j + q_j s)^2 / s <= h(s)`` everywhere.  ``log m`` is convex in ``log s``
    (as ``log h`` is), so its minimiser is a stationary point ``s = p_j / q_j`` of one tangent or
    the crossing of two: all are tried, the best is the next ``s``.  Stops when the best ``h``
    found is within ``rtol`` of ``min m`` (a float estimate of optimality: a kink at a multiple
    top eigenvalue is found in a few steps, where a root search on ``h'`` would crawl).
    """
    trv, trm = float(np.trace(V)), float(np.trace(M))
    if not (trv > 0 and trm > 0 and math.isfinite(trv) and math.isfinite(trm)):
        return None
    best = (math.inf, None, None)
    P, Qs = [], []
    s = trv / trm
    for evals in range(1, max_evals + 1):
        g, v = _top_eigenpair(V + s * M)
        if not (g > 0 and math.isfinite(g)):
            return None
        if g * g / s < best[0]:
            best = (g * g / s, s, g)
        P.append(max(float(v @ (V @ v)), 0.0))
        Qs.append(max(float(v @ (M @ v)), 0.0))
        # a handful of lines: plain Python beats numpy's per-call overhead here
        lines = list(zip(P, Qs))
        cands = [pj / qj for pj, qj in lines if qj > 0 and pj > 0]
        cands += [(pi - pj) / (qj - qi) for i, (pi, qi) in enumerate(lines)
                  for pj, qj in lines[i + 1:] if qj != qi and (pi - pj) / (qj - qi) > 0]
        s_next, m_min = s * 8.0, 0.0
        if cands:
            m_min = math.inf
            for x in cands:
                mx = max(pj + qj * x for pj, qj in lines)
                if mx * mx / x < m_min:
                    s_next, m_min = x, mx * mx / x
        if best[0] <= m_min * (1 + rtol) or abs(s_next - s) <= 1e-12 * s:
            break
        s = s_next
    return best[1], best[2], evals


def _ball_upper(expr) -> float:
    """Upper end of an Arb ball as a float (rounded up)."""
    return math.nextafter(float(expr.mid() + expr.rad()), math.inf)


def _inverse_factor(G):
    """Float ``Z`` (inverse Cholesky factor of ``G``) and a proved ``0 < lam <= lambda_min(Z G Z^T)``.

    ``lam > 0`` also proves ``G > 0`` and ``Z`` invertible; ``Z`` itself is arbitrary (no accuracy
    is assumed): ``Z G Z^T`` is enclosed with outward-rounded products and
    ``lambda_min >= 1 - ||Z G Z^T - I||_2``.  Returns None if that does not come out positive.
    """
    n = G.shape[0]
    try:
        Lg = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        return None
    Z, info = sla.lapack.dtrtri(Lg, lower=1)
    if info != 0:
        return None
    Z = np.tril(Z)
    A, Ar = midrad_matmul(Z, None, G, None)
    N, Nr = midrad_matmul(A, Ar, Z.T, None)
    E, Er = midrad_add(N, Nr, np.eye(n), None, sign=-1.0)
    dev = norm2_upper_nonneg(inflate_upper(np.abs(E) + Er, 2))
    lam = math.nextafter(1.0 - dev, -math.inf)
    if not lam > 0.5:         # a badly conditioned metric: the general check is more accurate
        return None
    return Z, lam


def _gram_enclosure(Z, W):
    """Enclosure of ``P^T P`` with ``P = Z W^T`` (``Z = None``: the identity)."""
    if Z is None:
        return midrad_matmul(W, None, W.T, None)
    P, Pr = midrad_matmul(Z, None, W.T, None)
    return midrad_matmul(P.T, Pr.T, P, Pr)


def schur_check(S, Sr, lam, a, b, c, t, Q, Qr=None):
    """Prove the layer LMI ``F(c, t) >= 0`` in reduced form, for slopes with ``a b >= 0``.

    Parameters
    ----------
    S, Sr : (k, k) arrays
        Enclosure of ``P^T P`` with ``P = Z W^T`` for some invertible ``Z`` (:func:`_gram_enclosure`).
    lam : float
        Proved lower bound of ``lambda_min(Z G Z^T) > 0`` (``G`` the input metric; 1 for ``G = I``).
    a, b : float
        Slope bounds, ``a b >= 0``.
    c : float
        The layer's scalar.
    t : (k,) array
        Nonnegative multipliers.
    Q, Qr : (k, k) arrays
        The output metric (hand-off, or an enclosure of ``W_L^T W_L``).

    Returns
    -------
    (ok, message)

    Notes
    -----
    ``F >= F_0`` with ``F_0`` the LMI without its ``2ab W^T T W`` block (PSD since ``ab >= 0``);
    the congruence ``diag(Z, I)`` turns ``F_0`` into ``[[c Z G Z^T, Z B], [B^T Z^T, D]]`` with
    ``B = -(a+b) W^T T`` and ``D = 2T - Q``, which dominates ``[[c lam I, Z B], [.., D]]``; that is
    PSD iff ``D - (a+b)^2 T P^T P T / (c lam) >= 0`` (Schur complement).  The factor
    ``(a+b)^2 / (c lam)`` is rounded up (``P^T P >= 0``, so rounding it up only strengthens the
    claim) and ``T S T`` is enclosed entrywise.  Cost: k-square matrices only.
    """
    import flint

    if not (a * b >= 0 and math.isfinite(c) and c > 0 and lam > 0):
        return False, "needs a b >= 0, c > 0 and lam > 0"
    t = np.asarray(t, dtype=np.float64)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        return False, "multipliers must be finite and nonnegative"
    scalar = bool(np.all(t == t[0]))
    with flint.ctx.workprec(106):
        fb = (flint.arb(a) + flint.arb(b)) ** 2 / (flint.arb(c) * flint.arb(lam))
        if scalar:                          # scalar multipliers: fold t^2 into the factor
            fb = fb * flint.arb(float(t[0])) ** 2
        f = _ball_upper(fb)
    if scalar:
        X, Xr = midrad_scale(f, S, Sr)
    else:                                   # t_i t_j S_ij f: three roundings per entry
        tt = np.outer(t, t)
        X = f * (tt * S)
        Xr = inflate_upper(np.abs(X) * 4.0 * 2.0 ** -53 + f * (tt * Sr), 3)
    D, Dr = midrad_add(np.diag(2.0 * t), None, Q, Qr, sign=-1.0)
    Mm, Mr = midrad_add(D, Dr, X, Xr, sign=-1.0)
    ok, margin, msg = prove_positive_definite(Mm, Mr)
    return ok, "reduced check: " + msg


#: the fast mode drops the ``2ab W^T T W`` block, which costs up to a relative ``4ab / (a+b)^2``
#: in ``c`` (one neuron: ``c = (a+b)^2 v w^2`` against ``(a^2 + b^2) v w^2``-ish); above this
#: share (e.g. leaky ReLU with slope > ~0.0125, the identity) a layer takes the general path
REDUCED_MAX_LOSS = 0.05


def _reduced_applies(a, b) -> bool:
    return a * b >= 0 and a + b > 0 and 4.0 * a * b <= REDUCED_MAX_LOSS * (a + b) ** 2


def _fast_layer(W, a, b, G, ginfo, V, Vr, Vtarget, last, eta, log, i):
    """One layer of the fast mode; returns ``(c, t, Q)`` or None (then the caller falls back)."""
    if not _reduced_applies(a, b) or ginfo is None:
        return None
    Z, lam = ginfo
    S, Sr = _gram_enclosure(Z, W)
    M = (S + S.T) / 2
    found = _scalar_search(M, (Vtarget + Vtarget.T) / 2)
    if found is None:
        return None
    s, g, evals = found
    tau = 0.5 * g
    c0 = (a + b) ** 2 * g * g / (4.0 * s)
    k = W.shape[0]
    t = np.full(k, tau)
    Q = None
    if not last:
        Q = (1.0 - eta) * (2.0 * tau * np.eye(k) - ((a + b) ** 2 * tau * tau / c0) * M)
        Q = (Q + Q.T) / 2                    # exactly symmetric
    delta = 1e-9
    for _ in range(7):
        c = math.nextafter(c0 * (1 + delta), math.inf)
        ok, msg = schur_check(S, Sr, lam, a, b, c, t, V if last else Q, Vr if last else None)
        if ok:
            log.append(f"layer {i + 1}: tau={tau:.6g} after {evals} eigenvalue evaluations; c={c!r}: {msg}")
            return c, t, Q
        delta *= 10
    log.append(f"layer {i + 1}: reduced check failed ({msg}); general check")
    return None


def _fast_memory_check(ws, max_memory):
    """Refuse (before allocating) a net whose fast-mode layer would not fit."""
    budget = None if max_memory is None else int(max_memory)
    for W in ws[:-1]:
        k, d = W.shape
        need = 8 * (16 * k * k + 4 * d * k) + 64 * 2**20   # k-square work matrices, P = Z W^T
        if budget is None and need > 2**28:    # reading /proc/meminfo costs more than a small net
            budget = int(0.6 * available_memory())
        if budget is not None and need > budget:
            raise ProblemTooLargeError(f"the fast compositional layer with d={d}, k={k}", need, budget)


def _fast_upper(net, slopes, ws, eta):
    """The fast mode of :func:`compositional_upper` (see there)."""
    # few, mid-sized BLAS calls: on a shared 2-core machine OpenBLAS's threads mostly wait on
    # each other (a 256-square Cholesky measured 15x slower with two threads under load)
    if max(max(w.shape) for w in ws) <= 64:   # BLAS does not thread such sizes: skip the switch
        return _fast_upper_body(net, slopes, ws, eta)
    with single_threaded_blas():
        return _fast_upper_body(net, slopes, ws, eta)


def _fast_upper_body(net, slopes, ws, eta):
    L = len(ws)
    t_start = time.perf_counter()
    d0 = ws[0].shape[1]
    G, ginfo = np.eye(d0), (None, 1.0)
    cs, ts, qs, log, checks = [], [], [G], [], []
    for i in range(L - 1):
        W, (a, b) = ws[i], slopes[i]
        last = i == L - 2
        if last:
            V, Vr = midrad_matmul(ws[L - 1].T, None, ws[L - 1], None)
            Vt = V
        else:
            V, Vr = None, None
            Vt = ws[i + 1].T @ ws[i + 1]
        out = _fast_layer(W, a, b, G, ginfo, V, Vr, Vt, last, eta, log, i)
        if out is not None:
            c, t, Q = out
            checks.append("reduced")
        else:                                # general path: the same LMI, (d+k)-square check
            Wt = _whiten(W, G)
            t = np.maximum(_scalar_multiplier(Wt, Vt if not last else V, a, b), 0.0)
            c, Q, clog = _general_layer_check(W, a, b, t, G, Wt, V if last else Vt, Vr, last, eta)
            log += [f"layer {i + 1}: " + m for m in clog]
            checks.append("general")
        cs.append(c)
        ts.append(t)
        if not last:
            G = Q
            qs.append(Q)
            ginfo = _inverse_factor(Q)
    return cs, ts, qs, log, checks, time.perf_counter() - t_start


def _general_layer_check(W, a, b, t, G, Wt, V, Vr, last, eta):
    """Checked ``c`` for multipliers ``t`` and, unless ``last``, the checked hand-off ``Q``."""
    c, clog = checked_least_c(W, a, b, t, G=G, V=V, Vr=Vr, c_float=least_c(Wt, V, a, b, t))
    log = clog[-1:]
    Q = None
    if not last:
        Q = _handoff(W, a, b, c, t, G, eta)
        # the layer LMI with V = Q (exact float data) is what gets certified
        ok, msg = check_layer_lmi(W, a, b, c, t, G=G, V=Q)
        if not ok:
            c, clog = checked_least_c(W, a, b, t, G=G, V=Q)   # raised for V = Q instead
            log += clog[-1:]
    return c, Q, log


def _sqrt_product_upper(cs) -> float:
    import flint

    with flint.ctx.workprec(128):
        prod = flint.arb(1)
        for c in cs:
            prod *= flint.arb(c)
        return _ball_upper(prod.sqrt())


MODES = ("full", "fast")


def compositional_upper(net, *, multipliers=None, mode="full", time_limit=None, eta=1e-3,
                        max_memory=None):
    """Checked compositional LipSDP upper bound; returns ``(upper, details)``.

    ``mode="full"`` (default): per-layer multipliers from the structured barrier solver
    (``multipliers="diagonal"``, default) or a scalar search over the (d+k)-square layer LMI
    (``"scalar"``), each layer proved on the full LMI.  ``mode="fast"``: scalar multipliers from
    a search over k-square matrices (:func:`_scalar_search`) and the reduced check
    :func:`schur_check`; a layer it cannot handle (``a b < 0``, an ill-conditioned hand-off, a
    failed reduced check) takes the general path, recorded in ``details["checks"]``.
    """
    if mode not in MODES:
        raise ParameterError("mode", mode, "'full' or 'fast'")
    if multipliers is None:
        multipliers = "diagonal" if mode == "full" else "scalar"
    if multipliers not in ("diagonal", "scalar"):
        raise ParameterError("multipliers", multipliers, "'diagonal' or 'scalar'")
    if mode == "fast" and multipliers != "scalar":
        raise ParameterError("multipliers", multipliers, "'scalar' (or None) with mode='fast'")
    slopes = _slopes_or_raise(net)
    if mode == "fast":     # no early stop: every layer is needed, and each costs one layer width's work
        ws = [np.asarray(w, dtype=np.float64) for w in net.weights]
        _fast_memory_check(ws, max_memory)
        cs, ts, qs, log, checks, took = _fast_upper(net, slopes, ws, eta)
        return _sqrt_product_upper(cs), {
            "c": cs, "multipliers": ts, "handoff": qs, "slopes": slopes, "checks": checks,
            "formulation": "compositional (fast: scalar)", "mode": "fast", "log": log,
            "solve_time": took}
    ws = [np.asarray(w, dtype=np.float64) for w in net.weights]
    L = len(ws)
    t_start = time.perf_counter()
    G = np.eye(ws[0].shape[1])
    cs, ts, qs, log = [], [], [G], []
    for i in range(L - 1):
        W, (a, b) = ws[i], slopes[i]
        last = i == L - 2
        if last:                                   # the output Gram matrix, enclosed
            V, Vr = midrad_matmul(ws[L - 1].T, None, ws[L - 1], None)
        else:                                      # a target only: any PSD matrix is valid
            V, Vr = ws[i + 1].T @ ws[i + 1], None
        Wt = _whiten(W, G)
        if multipliers == "scalar":
            t = _scalar_multiplier(Wt, V, a, b)
        else:
            left = None
            if time_limit is not None:
                left = max(0.0, time_limit - (time.perf_counter() - t_start)) / (L - 1 - i)
            t, info = solve_layer_lmi(W, a, b, G=G, V=V, time_limit=left, max_memory=max_memory,
                                      t0=feasible_start(V), rel_gap=1e-4)
            log += [f"layer {i + 1}: " + m for m in info["log"]]
        t = np.maximum(t, 0.0)
        c, Q, clog = _general_layer_check(W, a, b, t, G, Wt, V, Vr, last, eta)
        log += [f"layer {i + 1}: " + m for m in clog]
        cs.append(c)
        ts.append(t)
        if not last:
            G = Q
            qs.append(Q)
    upper = _sqrt_product_upper(cs)
    return upper, {"c": cs, "multipliers": ts, "handoff": qs, "slopes": slopes,
                   "checks": ["general"] * len(cs), "mode": "full",
                   "formulation": f"compositional ({multipliers})", "log": log,
                   "solve_time": time.perf_counter() - t_start}


def compositional_lipschitz(net, norm, domain, *, tol=1e-9, time_limit=None, node_limit=None,
                            multipliers=None, mode="full", lower_options=None, max_memory=None,
                            **options):
    """Global l2 upper bound by the compositional LipSDP, every layer certificate checked.

    Parameters
    ----------
    net : certify.Network
        Every hidden activation slope-restricted.
    norm : 2
    domain : None or (lo, hi)
        The bound is global (so also valid on a box); a box only restricts the witness search.
    mode : {"full", "fast"}
        ``"full"`` (default): multipliers from the structured layer LMI, every layer proved on its
        (d+k)-square LMI.  ``"fast"``: scalar multipliers from a k-square search, every layer
        proved by the reduced check :func:`schur_check` (about ECLipsE-Fast's cost; looser than
        ``"full"``).  Both are rigorous.
    multipliers : {"diagonal", "scalar"}, optional
        With ``mode="full"``: per-layer diagonal multipliers (default, tighter) or scalar ones.
        ``mode="fast"`` takes only ``"scalar"``.
    time_limit : float, optional
        Seconds for the layer solves (every iterate is feasible: a limit loosens the bound).

    Returns
    -------
    Certificate
        ``method="compositional"``; ``details`` holds ``c`` (per layer), ``multipliers``,
        ``handoff`` (the Q_i) and a ``log``.
    """
    if norm != 2:
        raise ParameterError("norm", norm, "2 (the compositional LipSDP bounds the l2 constant)")
    t0 = time.perf_counter()
    if len(net.weights) == 1 or any(not np.any(w) for w in net.weights):
        # one layer, or a zero weight matrix (a constant net, where the layer LMIs degenerate):
        # the norm product is exact
        from certify.methods.naive import naive_lipschitz
        return naive_lipschitz(net, norm, domain, tol=tol, lower_options=lower_options)
    try:
        upper, details = compositional_upper(net, multipliers=multipliers, mode=mode,
                                             time_limit=None if time_limit is None else 0.8 * time_limit,
                                             max_memory=max_memory)
    except LayerLMIError as exc:
        if isinstance(exc, ProblemTooLargeError):
            raise
        if mode == "fast":
            raise SDPError(f"compositional (fast): no checked layer certificate: "
                           f"{str(exc).splitlines()[0]}") from exc
        # the full path's solver and check have absolute floors that a badly scaled net (weights
        # ~1e-8 or ~1e6) defeats; the fast path is scale-free: a rigorous bound beats an error
        try:
            upper, details = compositional_upper(net, mode="fast", max_memory=max_memory)
        except LayerLMIError as exc2:
            # e.g. identity layers (slopes [1, 1]: the layer LMI is singular, never strictly
            # feasible) or sectors with a b < 0 that neither check proves
            raise SDPError(f"compositional: no checked layer certificate (full: "
                           f"{str(exc).splitlines()[0]}; fast: {str(exc2).splitlines()[0]}); "
                           "use method='naive' or 'sdp'") from exc2
        details["log"] = [f"full mode failed ({str(exc).splitlines()[0]}); fast mode used"] + details["log"]
    lo_opts = {"n_starts": 128, "n_ascents": 4, "iters": 30}
    if time_limit is not None:
        lo_opts["time_limit"] = 0.1 * time_limit
    lo_opts.update(lower_options or {})
    witness = lower_bound(net, norm, domain, **lo_opts)
    return make_certificate(net, norm, domain, "compositional", upper, witness, tol=tol,
                            elapsed=time.perf_counter() - t0, details=details)


def _verify_layer(W, a, b, c, t, G, identity, V, Vr):
    """Prove one stored layer LMI: the reduced check where it applies, else the full one."""
    if a * b >= 0 and a + b > 0:
        ginfo = (None, 1.0) if identity else _inverse_factor(np.asarray(G, dtype=np.float64))
        if ginfo is not None:
            S, Sr = _gram_enclosure(ginfo[0], W)
            ok, msg = schur_check(S, Sr, ginfo[1], a, b, c, t, V, Vr)
            if ok:
                return ok, msg
    return check_layer_lmi(W, a, b, c, t, G=G, V=V, Vr=Vr)


def verify_compositional(cert) -> tuple[bool, str]:
    """Re-prove every layer LMI from the stored ``c``, multipliers and hand-off matrices."""
    import flint

    net = cert.network
    d = cert.details
    try:
        cs, ts, qs = d["c"], d["multipliers"], d["handoff"]
    except KeyError:
        return False, "no layer data stored"
    ws = net.weights
    L = len(ws)
    slopes = _slopes_or_raise(net)
    if len(cs) != L - 1 or len(ts) != L - 1 or len(qs) != L - 1:
        return False, "layer data does not match the network"
    if not np.array_equal(qs[0], np.eye(ws[0].shape[1])):
        return False, "Q_0 must be the identity"
    if not all(np.array_equal(q, np.asarray(q).T) for q in qs):
        return False, "hand-off matrices must be exactly symmetric"
    msgs = []
    for i in range(L - 1):
        if i == L - 2:
            V, Vr = midrad_matmul(ws[L - 1].T, None, ws[L - 1], None)
        else:
            V, Vr = qs[i + 1], None
        ok, msg = _verify_layer(np.asarray(ws[i], dtype=np.float64), *slopes[i], cs[i], ts[i],
                                qs[i], i == 0, V, Vr)
        if not ok:
            return False, f"layer {i + 1}: {msg}"
        msgs.append(f"layer {i + 1} ok")
    with flint.ctx.workprec(128):
        prod = flint.arb(1)
        for c in cs:
            prod *= flint.arb(c)
        ok = bool(prod.sqrt() <= flint.arb(cert.upper))
    return ok, f"{L - 1} layer LMIs proved; sqrt(prod c_i) = {prod.sqrt().str(radius=True)} <= {cert.upper!r}: {ok}"


register_verifier("compositional", verify_compositional)
