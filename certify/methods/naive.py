"""The naive bound: product of layer operator norms and activation Lipschitz constants.

For ``f = W_L o s_{L-1} o W_{L-1} o ... o s_1 o W_1`` (plus biases, which do not matter),

.. math:: \\mathrm{Lip}_p(f) \\le \\prod_{i=1}^{L} \\|W_i\\|_{p\\to p} \\prod_{i=1}^{L-1} \\mathrm{Lip}(s_i),

valid globally and hence on every box.  Each operator norm is enclosed rigorously (l1/linf: max
column/row absolute sums with outward rounding; l2: :func:`certify.arith.interval.spectral_norm_enclosure`,
not power iteration) and the product is rounded upward.  The lower end comes from a witnessed
local search (:mod:`certify.methods.lower`).  The independent check recomputes every norm in Arb
(:func:`certify.arith.witness.arb_matrix_norm`).
"""

from __future__ import annotations

import math
import time

import flint
import numpy as np

from bounds.errors import ParameterError

from certify.methods.budget import budget_for, reject_unknown_options
from certify.methods.certificate import make_certificate, register_verifier
from certify.arith.interval import (Interval, _sqrt_up, opnorm_upper, opnorm_upper_midrad,
                                    spectral_norm_enclosure)
from certify.methods.lower import lower_bound
from certify.arith.witness import _to_arb_mat, arb_matrix_norm

__all__ = ["naive_lipschitz", "layer_norm_uppers", "mul_up", "cheap_l2_upper"]


def mul_up(a: float, b: float) -> float:
    """An upper bound on ``a * b`` for nonnegative floats (round-to-nearest, then one ulp up).

    Only an exact zero factor gives 0: a product that underflows to 0 is moved up to the
    smallest subnormal, which is above it.

    >>> mul_up(1e-200, 1e-200) > 0.0
    True
    >>> mul_up(0.0, 3.0)
    0.0
    """
    if a == 0.0 or b == 0.0:
        return 0.0
    return math.nextafter(a * b, math.inf)


#: Seconds per ``m n min(m, n)`` of :func:`spectral_norm_enclosure` (measured on the 2-core
#: reference machine, rounded up): the cost model that decides whether it fits in the time left.
SPECTRAL_SECONDS_PER_FLOP = 2e-7


def cheap_l2_upper(w) -> float:
    """``min(||W||_F, sqrt(||W||_1 ||W||_inf))``, rigorous and linear in the size of ``W``."""
    a = np.abs(np.asarray(w, dtype=np.float64))
    m, n = a.shape
    return opnorm_upper_midrad(a.reshape(1, 1, -1), None, 2) if a.size == 1 else min(
        opnorm_upper_midrad(a.reshape(1, 1, -1), None, 2),  # Frobenius norm (a 1-row matrix)
        _sqrt_up(mul_up(opnorm_upper_midrad(a, None, 1), opnorm_upper_midrad(a, None, math.inf))))


def layer_norm_uppers(net, norm, budget=None) -> list[float]:
    """Rigorous upper bounds on ``||W_i||_{p->p}`` for every layer.

    For l2, a layer whose spectral-norm enclosure would not fit in the budget's time left (cost
    model :data:`SPECTRAL_SECONDS_PER_FLOP`) gets :func:`cheap_l2_upper` instead.
    """
    out = []
    for w in net.weights:
        if norm == 2:
            m, n = w.shape
            left = None if budget is None else budget.remaining()
            if left is not None and (SPECTRAL_SECONDS_PER_FLOP * m * n * min(m, n) > 0.25 * left
                                     or budget.stop_reason()):
                out.append(float(cheap_l2_upper(w)))
            else:
                out.append(float(spectral_norm_enclosure(w)[1]))
        else:
            out.append(float(opnorm_upper(Interval(w, w), norm)))
    return out


def _activation_lipschitz(net) -> list[float]:
    lips = [a.lipschitz for a in net.activations]
    for i, (a, lip) in enumerate(zip(net.activations, lips)):
        if lip is None:
            raise ParameterError("activation", a.name,
                                 "a globally Lipschitz activation for method='naive'",
                                 f"hidden layer {i} is not globally Lipschitz; use method='interval' on a box")
    return [float(v) for v in lips]


def naive_upper(net, norm, budget=None) -> tuple[float, dict]:
    """The naive product bound and its factors."""
    norms = layer_norm_uppers(net, norm, budget)
    lips = _activation_lipschitz(net)
    upper = 1.0
    for v in norms + lips:
        upper = mul_up(upper, v)
    return upper, {"layer_norms": norms, "activation_lipschitz": lips}


def naive_lipschitz(net, norm, domain, *, tol=1e-9, time_limit=None, node_limit=None,
                    lower_options=None, **options):
    """Naive product bound with a witnessed lower bound.

    Parameters
    ----------
    net : certify.Network
    norm : {1, 2, math.inf}
    domain : None or (lo, hi)
        Only used for the lower bound (the upper bound is global).
    lower_options : dict, optional
        Passed to :func:`certify.methods.lower.lower_bound` (``n_starts``, ``seed``, ...).

    Returns
    -------
    Certificate
        ``status="bound"`` unless the gap happens to be within ``tol``.
    """
    reject_unknown_options("naive", options, ["lower_options"])
    t0 = time.perf_counter()
    budget = budget_for(time_limit)
    upper, info = naive_upper(net, norm, budget)
    budget.offer(make_certificate(net, norm, domain, "naive", upper, None, tol=tol, details=info))
    lo_opts = {"n_starts": 128, "n_ascents": 4, "iters": 30}
    lo_opts.update(lower_options or {})
    left = budget.remaining()
    if left is not None:
        lo_opts.setdefault("time_limit", 0.8 * left)
    witness = None if budget.stop_reason() else lower_bound(net, norm, domain, **lo_opts)
    return make_certificate(net, norm, domain, "naive", upper, witness, tol=tol,
                            status=budget.stop_reason() or "bound",
                            elapsed=time.perf_counter() - t0, details=info)


#: Seconds per ``m n min(m, n)`` of an Arb spectral norm (:func:`arb_matrix_norm`), rounded up.
ARB_SPECTRAL_SECONDS_PER_FLOP = 2e-6


def _arb_cheap_l2(w):
    """``min(||W||_F, sqrt(||W||_1 ||W||_inf))`` in Arb: linear in the size of ``W``."""
    A = _to_arb_mat(w)
    m, n = A.nrows(), A.ncols()
    frob = sum((A[i, j] ** 2 for i in range(m) for j in range(n)), flint.arb(0)).sqrt()
    col = max((sum((abs(A[i, j]) for i in range(m)), flint.arb(0)) for j in range(n)),
              key=lambda b: b.mid() + b.rad())
    row = max((sum((abs(A[i, j]) for j in range(n)), flint.arb(0)) for i in range(m)),
              key=lambda b: b.mid() + b.rad())
    alt = (col * row).sqrt()
    return frob if frob.mid() + frob.rad() <= alt.mid() + alt.rad() else alt


def verify_naive(cert) -> tuple[bool, str]:
    """Recompute the product of layer norms in Arb and check ``upper`` dominates it.

    l2: the linear-cost bounds of :func:`_arb_cheap_l2` first; the Arb spectral norms only if
    those do not suffice and fit in the time left (a verification honours its time limit).
    """
    net = cert.network
    budget = budget_for(None)
    lips = _activation_lipschitz(net)
    upper = float(cert.upper)
    with flint.ctx.workprec(128):
        def product(norm_of):
            prod = flint.arb(1)
            for w in net.weights:
                prod *= norm_of(w)
            for lip in lips:
                prod *= flint.arb(lip)
            return prod
        cheap = sum(3e-6 * w.size for w in net.weights)
        if budget.remaining() is not None and cheap > budget.remaining():
            return False, f"the Arb re-check needs about {cheap:.0f} s, {budget.remaining():.0f} s left"
        if cert.norm == 2:
            prod = product(_arb_cheap_l2)
            if bool(prod <= flint.arb(cert.upper)):
                return True, (f"Arb product of Frobenius-type layer bounds {prod.str(radius=True)} "
                              f"<= upper {upper!r}")
            cost = sum(ARB_SPECTRAL_SECONDS_PER_FLOP * w.shape[0] * w.shape[1] * min(w.shape)
                       for w in net.weights)
            left = budget.remaining()
            if left is not None and cost > left:
                return False, f"Arb spectral norms need about {cost:.0f} s, {left:.0f} s left"
        prod = product(lambda w: arb_matrix_norm(_to_arb_mat(w), cert.norm))
        ok = bool(prod <= flint.arb(cert.upper))
    return ok, f"Arb product of layer norms {prod.str(radius=True)} <= upper {upper!r}"


register_verifier("naive", verify_naive)
