"""The one-hidden-layer LipSDP-Neuron LMI at scale: a structured interior-point solver and a fast check.

For one layer ``x -> W x + b`` followed by an activation slope-restricted in ``[a, b]``, a
positive definite "input metric" ``G`` (d x d) and a positive semidefinite "output metric" ``V``
(k x k), the *layer LMI* is

.. math:: F(c, t) = \\begin{pmatrix} c\\,G + 2ab\\,W^T T W & -(a+b)\\,W^T T \\\\
          -(a+b)\\,T W & 2T - V \\end{pmatrix} \\succeq 0, \\qquad T = \\mathrm{diag}(t),\\ t \\ge 0 .

With ``G = I`` and ``V = W_2^T W_2`` it is LipSDP-Neuron for the net ``x -> W_2 s(W_1 x + b_1) + b_2``
(``Lip_2 <= sqrt(c)``); :mod:`certify.methods.compositional` chains it layer by layer.

Solving (floating point, heuristic): ``c`` and the ``k`` multipliers are the only unknowns, so a
primal barrier method (``tau c - log det F - sum log t``) is run with Newton steps whose Hessian
``H_ij = tr(F^{-1} G_i F^{-1} G_j)`` is assembled from four k x k blocks of ``F^{-1}`` (each
``G_j`` has rank two) -- no lifting of the (d+k)-square matrix variable, so memory is
``O((d+k)^2)`` and a Newton step costs one (d+k)-square inverse and one (k+1)-square solve.

Checking (rigorous): for the final ``t`` the least ``c`` is recomputed by a Schur complement,
inflated, and ``F(c, t) > 0`` is proved by :func:`certify.arith.definite.prove_positive_definite`
on a midpoint-radius enclosure of ``F`` built with outward-rounded products.  Only checked values
are ever returned.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import scipy.linalg as sla

from certify.arith.definite import midrad_add, midrad_scale, prove_positive_definite
from certify.arith.interval import U, inflate_upper, midrad_matmul

__all__ = ["LayerLMIError", "ProblemTooLargeError", "solve_layer_lmi", "layer_lmi_enclosure", "feasible_start",
           "check_layer_lmi", "least_c", "layer_memory_estimate", "available_memory"]


_CONTROLLER = []


def single_threaded_blas():
    """A context in which BLAS runs on one thread (the threadpoolctl controller is built once: ~30 ms).

    Many small factorisations: OpenBLAS's threads only fight each other (100x slower measured on
    a loaded 2-core machine).
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


class LayerLMIError(RuntimeError):
    """The layer LMI could not be solved or its solution could not be checked."""


class ProblemTooLargeError(LayerLMIError, MemoryError):
    """The problem would need more memory than allowed; refused before allocating anything.

    Attributes
    ----------
    required, available : int
        Estimated bytes needed, and the budget it was compared with.
    """

    def __init__(self, what: str, required: int, available: int):
        self.required = int(required)
        self.available = int(available)
        super().__init__(f"{what} needs about {required / 2**30:.2f} GiB, more than the "
                         f"{available / 2**30:.2f} GiB allowed (pass max_memory=... in bytes to "
                         "change the budget, or use a cheaper method)")


def available_memory() -> int:
    """Bytes the kernel reports as available (MemAvailable), or 4 GiB if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def layer_memory_estimate(d: int, k: int) -> int:
    """Peak bytes of :func:`solve_layer_lmi` plus its check for a d-input, k-neuron layer.

    About a dozen (d+k)-square float64 work matrices (F, its factor and inverse, the check's
    enclosure and residual) and a dozen k-square ones (Hessian blocks).
    """
    n = d + k
    return int(8 * (14 * n * n + 14 * k * k) + 64 * 2**20)


def _check_memory(d, k, max_memory):
    need = layer_memory_estimate(d, k)
    budget = int(0.6 * available_memory()) if max_memory is None else int(max_memory)
    if need > budget:
        raise ProblemTooLargeError(f"the layer LMI with d={d}, k={k}", need, budget)


def feasible_start(V) -> np.ndarray:
    """Multipliers with ``2T - V > 0`` for a PSD ``V`` (weighted Cauchy-Schwarz):
    ``t_j = 0.55 s_j sum_i s_i`` with ``s_j = sqrt(V_jj)``, floored away from zero."""
    s = np.sqrt(np.maximum(np.diag(V), 0.0))
    return np.maximum(0.55 * s * s.sum(), 1e-9 * max(float(s.max(initial=0.0)), 1e-300) ** 2)


def _kmat(a, b):
    return np.array([[2.0 * a * b, -(a + b)], [-(a + b), 2.0]])


def _assemble(Wt, V, a, b, c, t):
    """F(c, t) in float, in coordinates where G = I."""
    k, d = Wt.shape
    F = np.empty((d + k, d + k))
    WtT = Wt.T * t[None, :]                     # W^T T (d x k)
    top = c * np.eye(d)
    if a * b != 0:
        top = top + 2.0 * a * b * (WtT @ Wt)
    F[:d, :d] = top
    F[:d, d:] = -(a + b) * WtT
    F[d:, :d] = F[:d, d:].T
    F[d:, d:] = -V
    F[np.arange(d, d + k), np.arange(d, d + k)] += 2.0 * t
    return F


def least_c(Wt, V, a, b, t) -> float:
    """Least ``c`` with ``F(c, t) >= 0`` in coordinates where ``G = I`` (float; ``inf`` if none)."""
    k, d = Wt.shape
    D = 2.0 * np.diag(t) - V
    try:
        cho = np.linalg.cholesky((D + D.T) / 2)
    except np.linalg.LinAlgError:
        return math.inf
    Bo = -(a + b) * (Wt.T * t[None, :])          # d x k
    Y = sla.solve_triangular(cho, Bo.T, lower=True)   # D^{-1} = cho^-T cho^-1
    S = Y.T @ Y
    if a * b != 0:
        S = S - 2.0 * a * b * ((Wt.T * t[None, :]) @ Wt)
    return float(np.linalg.eigvalsh((S + S.T) / 2)[-1])


def _factor(Wt, V, a, b, c, t):
    """Lower Cholesky factor of F(c, t) and the barrier's log-det terms, or None if infeasible."""
    if np.any(t <= 0) or not np.isfinite(c):
        return None
    F = _assemble(Wt, V, a, b, c, t)
    Lc, info = sla.lapack.dpotrf(F, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        return None
    return Lc, 2.0 * float(np.log(np.diag(Lc)).sum()) + float(np.log(t).sum())


def _newton_system(Wt, a, b, t, tau, K, Lc):
    """Gradient and Hessian of ``tau c - log det F - sum log t`` from the Cholesky factor of F."""
    k, d = Wt.shape
    Z, info = sla.lapack.dpotri(Lc, lower=1)
    if info != 0:
        return None
    Z = np.tril(Z) + np.tril(Z, -1).T
    Zxx, Zxh, Zhh = Z[:d, :d], Z[:d, d:], Z[d:, d:]
    U1 = Wt @ Zxx                                # k x d
    A = U1 @ Wt.T                                # w_i^T Zxx w_j
    B = Wt @ Zxh                                 # w_i^T Zxh e_j
    X = {(0, 0): A, (0, 1): B, (1, 0): B.T, (1, 1): Zhh}
    # H_ij = tr(Z G_i Z G_j) with G_j = P_j K P_j^T, P_j = [(w_j, 0), e_{d+j}]:
    #      = sum K[be, ga] K[al, de] (P_i^T Z P_j)[be, al] (P_i^T Z P_j)[ga, de]
    H = np.zeros((k, k))
    for al in (0, 1):
        for be in (0, 1):
            for ga in (0, 1):
                for de in (0, 1):
                    coef = K[be, ga] * K[al, de]
                    if coef != 0.0:
                        H += coef * (X[(be, al)] * X[(ga, de)])
    with np.errstate(over="ignore"):            # a multiplier driven to ~1e-160: huge, not inf
        H[np.diag_indices(k)] += np.minimum(1.0 / t ** 2, 1e300)
    trG = K[0, 0] * np.diag(A) + 2.0 * K[0, 1] * np.diag(B) + K[1, 1] * np.diag(Zhh)
    gt = -trG - 1.0 / t
    gc = tau - float(np.trace(Zxx))
    U2 = Zxh.T                                   # k x d
    hct = (K[0, 0] * np.einsum("ij,ij->i", U1, U1) + 2.0 * K[0, 1] * np.einsum("ij,ij->i", U1, U2)
           + K[1, 1] * np.einsum("ij,ij->i", U2, U2))
    hcc = float(np.sum(Zxx * Zxx))
    Hf = np.empty((k + 1, k + 1))
    Hf[0, 0], Hf[0, 1:], Hf[1:, 0], Hf[1:, 1:] = hcc, hct, hct, H
    return np.concatenate([[gc], gt]), Hf


def _barrier_value(Wt, V, a, b, c, t, tau):
    fac = _factor(Wt, V, a, b, c, t)
    return (math.inf, None) if fac is None else (tau * c - fac[1], fac[0])


def _barrier(Wt, V, a, b, c, t, *, rel_gap, deadline, mu=4.0, max_newton=600):
    """Primal barrier path following from a strictly feasible (c, t); returns (c, t, log).

    Every iterate is strictly feasible, so stopping at the deadline only loosens the bound.
    """
    k, d = Wt.shape
    K = _kmat(a, b)
    nu = d + 2 * k                               # barrier parameter: (d+k)-square LMI + k signs
    tau = nu / max(c, 1e-300)
    newton = 0
    log = []
    f0, Lc = _barrier_value(Wt, V, a, b, c, t, tau)
    if Lc is None:
        raise LayerLMIError("the starting point of the barrier method is not strictly feasible")
    while True:
        for _ in range(80):
            if newton >= max_newton or time.perf_counter() > deadline:
                log.append(f"status time_limit: stopped after {newton} Newton steps, barrier gap {nu / tau:.2e}")
                return c, t, log
            sysm = _newton_system(Wt, a, b, t, tau, K, Lc)
            if sysm is None:
                break
            g, H = sysm
            newton += 1
            scale = np.sqrt(np.maximum(np.diag(H), 1e-300))
            Hs = H / scale[:, None] / scale[None, :]
            try:
                step = -sla.cho_solve(sla.cho_factor(Hs + 1e-12 * np.eye(k + 1)), g / scale) / scale
            except sla.LinAlgError:
                step = -np.linalg.lstsq(Hs, g / scale, rcond=None)[0] / scale
            dec = float(-g @ step)
            if dec < 0.2:                        # close enough to the central path
                break
            neg = step[1:] < 0
            s = 1.0 if not neg.any() else min(1.0, 0.99 * float(np.min(-t[neg] / step[1:][neg])))
            while s > 1e-10:
                c2, t2 = c + s * step[0], t + s * step[1:]
                f2, L2 = _barrier_value(Wt, V, a, b, c2, t2, tau)
                if f2 <= f0 - 0.25 * s * dec:
                    break
                s *= 0.5
            else:
                break
            c, t, f0, Lc = c2, t2, f2, L2
        if nu / tau <= rel_gap * c:
            log.append(f"status optimal: {newton} Newton steps, barrier gap {nu / tau:.2e}")
            return c, t, log
        tau *= mu
        f0 = tau * c - (2.0 * float(np.log(np.diag(Lc)).sum()) + float(np.log(t).sum()))


def solve_layer_lmi(W, a, b, G=None, V=None, *, rel_gap=1e-5, time_limit=None, max_memory=None,
                    t0=None):
    """Floating-point minimiser ``(c, t)`` of ``c`` subject to the layer LMI (not yet checked).

    Parameters
    ----------
    W : (k, d) array
        The layer's weight matrix.
    a, b : float
        Slope bounds of the activation.
    G : (d, d) array, optional
        Positive definite input metric (default identity).
    V : (k, k) array
        Positive semidefinite output metric (e.g. ``W_2^T W_2``).
    rel_gap : float
        Barrier stopping rule: duality-gap bound ``<= rel_gap * c``.
    time_limit : float, optional
        Seconds for the Newton iterations (the iterate is always strictly feasible, so stopping
        early only loosens the bound).
    max_memory : int, optional
        Byte budget; default 60% of the available memory.  Checked before any allocation.

    Returns
    -------
    (t, info) : (ndarray, dict)
        Nonnegative multipliers; ``info`` has the float ``c`` and a log.

    Raises
    ------
    ProblemTooLargeError
        When :func:`layer_memory_estimate` exceeds the budget.
    """
    W = np.asarray(W, dtype=np.float64)
    k, d = W.shape
    _check_memory(d, k, max_memory)
    V = np.zeros((k, k)) if V is None else np.asarray(V, dtype=np.float64)
    if G is None:
        Wt = W
    else:
        Lg = np.linalg.cholesky((G + G.T) / 2)
        Wt = sla.solve_triangular(Lg, W.T, lower=True).T      # W L^{-T}
    deadline = math.inf if time_limit is None else time.perf_counter() + time_limit
    lam = float(np.linalg.eigvalsh((V + V.T) / 2)[-1]) if k else 0.0
    base = max(lam, 1e-12 * max(1.0, float(np.abs(W).max(initial=0.0)) ** 2), 1e-300)
    t = np.full(k, base) if t0 is None else np.maximum(np.asarray(t0, dtype=float), 1e-3 * base)
    D = 2.0 * np.diag(t) - V
    if np.linalg.eigvalsh((D + D.T) / 2)[0] <= 0:
        t = np.full(k, base)
    c0 = least_c(Wt, V, a, b, t)
    c = 2.0 * abs(c0) + 1e-9 * max(1.0, abs(c0)) + 1e-300
    t1 = time.perf_counter()
    # Many small factorisations: OpenBLAS's threads only fight each other (100x slower measured
    # on a loaded 2-core machine), so the solve runs single-threaded.
    with single_threaded_blas():
        c, t, log = _barrier(Wt, V, a, b, c, t, rel_gap=rel_gap, deadline=deadline)
    return t, {"c_barrier": c, "c_float": least_c(Wt, V, a, b, t), "log": log,
               "solve_time": time.perf_counter() - t1}


# ------------------------------------------------------------------------------------------
# rigorous check
# ------------------------------------------------------------------------------------------

def _ball_scalar_product(x: float, y: float):
    p = x * y
    return p, abs(p) * U


def _scale_ball(cm, cr, Xm, Xr):
    """Enclosure of ``c * X`` for a ball scalar ``(cm, cr)`` and a ball matrix ``(Xm, Xr)``."""
    Pm, Pr = midrad_scale(cm, Xm, Xr)
    if cr:
        Pr = inflate_upper(Pr + cr * (np.abs(Xm) + (0.0 if Xr is None else Xr)), 2)
    return Pm, Pr


def layer_lmi_enclosure(W, a, b, c, t, G=None, V=None, Vr=None):
    """Midpoint-radius enclosure ``(Fm, Fr)`` of ``F(c, t)`` (all inputs are exact floats).

    ``V`` may come with a radius ``Vr`` (e.g. an enclosure of ``W_2^T W_2``).
    """
    W = np.asarray(W, dtype=np.float64)
    k, d = W.shape
    t = np.asarray(t, dtype=np.float64)
    Gm = np.eye(d) if G is None else np.asarray(G, dtype=np.float64)
    # W^T T: one rounding per entry
    WT = W.T * t[None, :]
    WTr = np.abs(WT) * U
    top, topr = midrad_scale(float(c), Gm, None)
    if a * b != 0:
        ab2, ab2r = _ball_scalar_product(2.0 * a, b)        # 2a is exact
        Gm2, Gr2 = midrad_matmul(WT, WTr, W, None)
        Gm2, Gr2 = _scale_ball(ab2, ab2r, Gm2, Gr2)
        top, topr = midrad_add(top, topr, Gm2, Gr2)
    apb = a + b
    apbr = abs(apb) * U
    off, offr = _scale_ball(-apb, apbr, WT, WTr)
    Vm = np.zeros((k, k)) if V is None else np.asarray(V, dtype=np.float64)
    bot, botr = midrad_add(np.diag(2.0 * t), None, Vm, Vr, sign=-1.0)
    Fm = np.block([[top, off], [off.T, bot]])
    Fr = np.block([[topr, offr], [offr.T, botr]])
    return Fm, Fr


def check_layer_lmi(W, a, b, c, t, G=None, V=None, Vr=None):
    """Prove ``F(c, t) > 0`` rigorously; returns ``(ok, message)``."""
    if not (math.isfinite(c) and c > 0) or np.any(~np.isfinite(t)) or np.any(np.asarray(t) < 0):
        return False, "c must be positive and t finite and nonnegative"
    with single_threaded_blas():
        Fm, Fr = layer_lmi_enclosure(W, a, b, c, t, G, V, Vr)
        ok, margin, msg = prove_positive_definite(Fm, Fr)
    return ok, msg


def checked_least_c(W, a, b, t, G=None, V=None, Vr=None, max_repairs=8, c_float=None):
    """Smallest checked ``c`` found by inflating the float least ``c``; returns ``(c, log)``.

    Raises
    ------
    LayerLMIError
        If no inflation up to ``1e-9 * 10^max_repairs`` passes the check.
    """
    W = np.asarray(W, dtype=np.float64)
    if c_float is None:
        if G is None:
            Wt = W
        else:
            Lg = np.linalg.cholesky((G + G.T) / 2)
            Wt = sla.solve_triangular(Lg, W.T, lower=True).T
        c_float = least_c(Wt, V if V is not None else np.zeros((W.shape[0],) * 2), a, b, t)
    log = []
    if not math.isfinite(c_float):
        raise LayerLMIError("the multipliers make 2T - V singular: no finite c")
    c_float = max(c_float, 1e-300)
    delta = 1e-9
    for _ in range(max_repairs):
        c = math.nextafter(c_float * (1 + delta) + delta * 1e-12, math.inf)
        ok, msg = check_layer_lmi(W, a, b, c, t, G, V, Vr)
        log.append(f"check c={c!r}: {msg}")
        if ok:
            return c, log
        delta *= 10
    raise LayerLMIError("could not certify the layer LMI; log:\n" + "\n".join(log))
