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
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize_scalar

from bounds.errors import ParameterError

from certify.arith.interval import midrad_matmul
from certify.methods.certificate import make_certificate, register_verifier
from certify.methods.layer_lmi import (LayerLMIError, check_layer_lmi, checked_least_c, least_c,
                                       solve_layer_lmi)
from certify.methods.lower import lower_bound

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


def compositional_upper(net, *, multipliers="diagonal", time_limit=None, eta=1e-3,
                        max_memory=None):
    """Checked compositional LipSDP upper bound; returns ``(upper, details)``."""
    if multipliers not in ("diagonal", "scalar"):
        raise ParameterError("multipliers", multipliers, "'diagonal' or 'scalar'")
    slopes = _slopes_or_raise(net)
    ws = [np.asarray(w, dtype=np.float64) for w in net.weights]
    L = len(ws)
    t_start = time.perf_counter()
    G = np.eye(ws[0].shape[1])
    cs, ts, qs, log = [], [], [G], []
    for i in range(L - 1):
        W, (a, b) = ws[i], slopes[i]
        last = i == L - 2
        V = ws[i + 1].T @ ws[i + 1]                # target (exact for the last layer)
        Vr = None
        if last:
            V, Vr = midrad_matmul(ws[L - 1].T, None, ws[L - 1], None)
        Wt = _whiten(W, G)
        if multipliers == "scalar":
            t = _scalar_multiplier(Wt, V, a, b)
        else:
            left = None
            if time_limit is not None:
                left = max(0.0, time_limit - (time.perf_counter() - t_start)) / (L - 1 - i)
            s = np.sqrt(np.maximum(np.diag(V), 0.0))
            t0 = np.maximum(0.55 * s * s.sum(), 1e-9 * max(float(s.max(initial=0.0)), 1e-300) ** 2)
            t, info = solve_layer_lmi(W, a, b, G=G, V=V, time_limit=left, max_memory=max_memory,
                                      t0=t0, rel_gap=1e-4)
            log += [f"layer {i + 1}: " + m for m in info["log"]]
        t = np.maximum(t, 0.0)
        c, clog = checked_least_c(W, a, b, t, G=G, V=V, Vr=Vr, c_float=least_c(Wt, V, a, b, t))
        log += [f"layer {i + 1}: " + m for m in clog[-1:]]
        cs.append(c)
        ts.append(t)
        if not last:
            Q = _handoff(W, a, b, c, t, G, eta)
            # the layer LMI with V = Q (exact float data) is what gets certified
            ok, msg = check_layer_lmi(W, a, b, c, t, G=G, V=Q)
            if not ok:
                c, clog = checked_least_c(W, a, b, t, G=G, V=Q)
                cs[-1] = c                     # raised for V = Q instead
            G = Q
            qs.append(Q)
    import flint
    with flint.ctx.workprec(128):
        prod = flint.arb(1)
        for c in cs:
            prod *= flint.arb(c)
        up = prod.sqrt()
        upper = float(up.mid() + up.rad())
        upper = math.nextafter(upper, math.inf)
    return upper, {"c": cs, "multipliers": ts, "handoff": qs, "slopes": slopes,
                   "formulation": f"compositional ({multipliers})", "log": log,
                   "solve_time": time.perf_counter() - t_start}


def compositional_lipschitz(net, norm, domain, *, tol=1e-9, time_limit=None, node_limit=None,
                            multipliers="diagonal", lower_options=None, max_memory=None, **options):
    """Global l2 upper bound by the compositional LipSDP, every layer certificate checked.

    Parameters
    ----------
    net : certify.Network
        Every hidden activation slope-restricted.
    norm : 2
    domain : None or (lo, hi)
        The bound is global (so also valid on a box); a box only restricts the witness search.
    multipliers : {"diagonal", "scalar"}
        Per-layer diagonal multipliers from the structured layer LMI (tighter) or scalar ones
        (faster; the analogue of ECLipsE-Fast).
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
    if len(net.weights) == 1:
        from certify.methods.naive import naive_lipschitz
        return naive_lipschitz(net, norm, domain, tol=tol, lower_options=lower_options)
    upper, details = compositional_upper(net, multipliers=multipliers,
                                         time_limit=None if time_limit is None else 0.8 * time_limit,
                                         max_memory=max_memory)
    lo_opts = {"n_starts": 128, "n_ascents": 4, "iters": 30}
    if time_limit is not None:
        lo_opts["time_limit"] = 0.1 * time_limit
    lo_opts.update(lower_options or {})
    witness = lower_bound(net, norm, domain, **lo_opts)
    return make_certificate(net, norm, domain, "compositional", upper, witness, tol=tol,
                            elapsed=time.perf_counter() - t0, details=details)


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
        ok, msg = check_layer_lmi(ws[i], *slopes[i], cs[i], ts[i], G=qs[i], V=V, Vr=Vr)
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
