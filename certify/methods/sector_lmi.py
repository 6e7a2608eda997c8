"""One hidden layer, per-neuron slope sectors: LipSDP-Neuron reduced to a (d+m)-square LMI.

The net is ``f(x) = A s(W x + b) + b2`` with ``W`` (k x d), ``A`` (m x k) and neuron ``j``'s
activation slope-restricted in the *sector* ``[alpha_j, beta_j]`` (``alpha_j = beta_j`` for a neuron
whose slope is known, e.g. a ReLU fixed active or inactive by a branch and bound).  With
``c = (alpha + beta) / 2``, ``r = beta - alpha``, multipliers ``t_j > 0`` (for ``r_j > 0``) and

.. math:: M(\\rho, t) = \\begin{pmatrix} \\rho I_d - \\tfrac12 W^T \\mathrm{diag}(t) W & W^T \\mathrm{diag}(c) A^T \\\\
          A\\,\\mathrm{diag}(c)\\,W & I_m - \\tfrac12 A\\,\\mathrm{diag}(r^2 / t)\\,A^T \\end{pmatrix},

``M(rho, t) > 0`` implies ``||J||_2 <= sqrt(rho)`` for every Jacobian ``J = A diag(s) W`` with
``s_j`` in ``[alpha_j, beta_j]``, hence ``Lip_2(f) <= sqrt(rho)`` on every set where the slopes stay
in their sectors.  Proof (docs/methods/sector_lmi.md): write each activation as
``alpha_j y + r_j phi_j(y)`` with ``phi_j`` slope-restricted in ``[0, 1]``; LipSDP-Neuron's
(d+k)-square LMI for that net is ``N - C C^T >= 0`` with ``N = [[rho I, -W^T T], [-T W, 2T]]``; two
Schur complements turn it into ``M >= 0``.  Only ``t`` (k numbers) and ``rho`` are unknowns and the
matrix is (d+m)-square, so a 32-input, 1024-neuron, 1-output layer is a 33-square LMI.

Solving (floating point, heuristic): Clarabel, called directly (no cvxpy canonicalisation), on
``min rho`` over ``(rho, t, sigma)`` with ``M``'s lower block written ``I - 1/2 A diag(sigma) A^T``
and one rotated second-order cone ``sigma_j t_j >= r_j^2`` per neuron (tight at the optimum).

Checking (rigorous): :func:`check_sector_lmi` encloses ``M(rho, t)`` in a midpoint-radius ball with
outward-rounded products (``c``, ``r``, ``r^2 / t`` included) and proves it positive definite with
:func:`certify.arith.definite.prove_positive_definite`; :func:`checked_sector_bound` finds the least
``rho`` that passes.  Only checked values are returned as bounds.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from certify.arith.definite import midrad_add, prove_positive_definite
from certify.arith.interval import U, inflate_upper, midrad_matmul

__all__ = ["SectorLMIError", "sector_parameters", "sector_rho", "sector_lmi_enclosure",
           "check_sector_lmi", "checked_sector_bound", "solve_sector_lmi", "feasible_multipliers"]


class SectorLMIError(RuntimeError):
    """The sector LMI could not be solved or no tried ``rho`` passed the rigorous check."""


def _active(alpha, beta):
    return np.flatnonzero(np.asarray(beta, dtype=float) > np.asarray(alpha, dtype=float))


def sector_parameters(W, A, alpha, beta):
    """Float ``H = W^T diag(c) A^T`` (d x m), and ``(Wu, Au)``: the rows of ``W`` and columns of
    ``A diag(r)`` of the neurons with ``r_j > 0`` (the only ones carrying a multiplier)."""
    W = np.asarray(W, dtype=float)
    A = np.asarray(A, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    c = 0.5 * (alpha + beta)
    H = W.T @ (c[:, None] * A.T)
    u = _active(alpha, beta)
    return H, W[u], A[:, u] * (beta - alpha)[u][None, :]


def feasible_multipliers(W, A, alpha, beta) -> np.ndarray:
    """A strictly feasible ``t`` (for the neurons with ``r_j > 0``): ``t_j = r_j ||A_j|| sum_i r_i ||A_i||``.

    Then ``1/2 A diag(r^2/t) A^T <= 1/2 sum_j (r_j^2 / t_j) ||A_j||^2 I = I / 2``, so the lower block
    of ``M`` is positive definite and a finite ``rho`` exists.
    """
    _, _, Au = sector_parameters(W, A, alpha, beta)
    s = np.linalg.norm(Au, axis=0)
    tot = float(s.sum())
    if tot == 0.0:
        return np.ones(Au.shape[1])
    return np.maximum(s * tot, 1e-300)


def sector_rho(W, A, alpha, beta, t) -> float:
    """Float least ``rho`` with ``M(rho, t) >= 0``: ``lambda_max(1/2 W^T T W + H Q^{-1} H^T)``.

    ``inf`` if the lower block ``Q = I - 1/2 A diag(r^2/t) A^T`` is not positive definite.
    """
    H, Wu, Au = sector_parameters(W, A, alpha, beta)
    t = np.asarray(t, dtype=float)
    m = Au.shape[0]
    if np.any(~(t > 0)):
        return math.inf
    Q = np.eye(m) - 0.5 * (Au / t[None, :]) @ Au.T
    try:
        Lq = np.linalg.cholesky((Q + Q.T) / 2)
    except np.linalg.LinAlgError:
        return math.inf
    Y = np.linalg.solve(Lq, H.T)                     # Q^{-1} = Lq^-T Lq^-1
    S = 0.5 * (Wu.T * t[None, :]) @ Wu + Y.T @ Y
    return float(np.linalg.eigvalsh((S + S.T) / 2)[-1])


def sector_lmi_enclosure(W, A, alpha, beta, rho, t):
    """Midpoint-radius enclosure ``(Mm, Mr)`` of ``M(rho, t)`` (all inputs exact floats)."""
    W = np.asarray(W, dtype=float)
    A = np.asarray(A, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    t = np.asarray(t, dtype=float)
    k, d = W.shape
    m = A.shape[0]
    # c = (alpha + beta) / 2: one rounded sum, an exact halving (barring underflow, covered by
    # the absolute term of inflate_upper)
    cm = 0.5 * (alpha + beta)
    cr = inflate_upper(np.abs(cm) * U, 1)
    Wc = W * cm[:, None]
    Wcr = inflate_upper(np.abs(Wc) * U + np.abs(W) * cr[:, None], 2)
    Hm, Hr = midrad_matmul(Wc.T, Wcr.T, A.T, None)   # d x m
    u = _active(alpha, beta)
    Wu = W[u]
    tu = t
    # r = beta - alpha (one rounding), then r^2 / t: enclosed from the ends of r's ball
    rm = (beta - alpha)[u]
    rr = np.abs(rm) * U
    r_hi = inflate_upper(np.abs(rm) + rr, 2)
    r_lo = np.maximum(np.abs(rm) - rr, 0.0) * (1.0 - 4 * U)
    hi = inflate_upper(r_hi * r_hi / tu, 3)
    lo = r_lo * r_lo / tu * (1.0 - 8 * U)
    vm = 0.5 * (lo + hi)
    vr = inflate_upper(0.5 * (hi - lo) + np.abs(vm) * U, 2)
    Av = A[:, u] * vm[None, :]
    Avr = inflate_upper(np.abs(Av) * U + np.abs(A[:, u]) * vr[None, :], 2)
    Pm, Pr = midrad_matmul(Av, Avr, A[:, u].T, None)  # A diag(r^2/t) A^T
    Qm, Qr = midrad_add(np.eye(m), None, 0.5 * Pm, 0.5 * Pr, sign=-1.0)
    WT = Wu.T * tu[None, :]
    WTr = np.abs(WT) * U
    Gm, Gr = midrad_matmul(WT, WTr, Wu, None)          # W^T diag(t) W
    Tm, Tr = midrad_add(rho * np.eye(d), None, 0.5 * Gm, 0.5 * Gr, sign=-1.0)
    Mm = np.block([[Tm, Hm], [Hm.T, Qm]])
    Mr = np.block([[Tr, Hr], [Hr.T, Qr]])
    return Mm, inflate_upper(Mr, 1)


def check_sector_lmi(W, A, alpha, beta, rho, t) -> tuple[bool, str]:
    """Prove ``M(rho, t) > 0`` rigorously (hence ``Lip_2 <= sqrt(rho)`` inside the sectors)."""
    t = np.asarray(t, dtype=float)
    u = _active(alpha, beta)
    if t.shape != u.shape:
        return False, f"expected {u.size} multipliers (neurons with beta > alpha), got {t.size}"
    if not (math.isfinite(rho) and rho > 0) or np.any(~np.isfinite(t)) or np.any(~(t > 0)):
        return False, "rho must be positive and every multiplier finite and positive"
    Mm, Mr = sector_lmi_enclosure(W, A, alpha, beta, rho, t)
    ok, _, msg = prove_positive_definite(Mm, Mr)
    return ok, msg


def checked_sector_bound(W, A, alpha, beta, t, *, max_repairs: int = 8, rho_float=None):
    """Least checked ``sqrt(rho)`` found by inflating the float least ``rho``.

    Returns
    -------
    (L, rho, log) : (float, float, list of str)
        ``M(rho, t) > 0`` was proved and ``L >= sqrt(rho)`` (rounded up).

    Raises
    ------
    SectorLMIError
        When ``t`` is infeasible or no inflation passes the check.
    """
    W = np.asarray(W, dtype=float)
    rho_float = sector_rho(W, A, alpha, beta, t) if rho_float is None else rho_float
    if not math.isfinite(rho_float):
        raise SectorLMIError("the multipliers leave I - A diag(r^2/t) A^T / 2 indefinite: no finite rho")
    scale = max(rho_float, 1e-300)
    log = []
    delta = 1e-10
    for _ in range(max_repairs):
        rho = math.nextafter(max(rho_float, 0.0) * (1 + delta) + delta * scale + 1e-290, math.inf)
        ok, msg = check_sector_lmi(W, A, alpha, beta, rho, t)
        log.append(f"check rho={rho!r}: {msg}")
        if ok:
            L = math.nextafter(math.nextafter(math.sqrt(rho), math.inf), math.inf)
            return L, rho, log
        delta *= 10
    raise SectorLMIError("could not certify the sector LMI; log:\n" + "\n".join(log))


def solve_sector_lmi(W, A, alpha, beta, *, time_limit=None, tol=1e-8, stop=None):
    """Floating-point minimiser ``t`` of ``rho`` subject to ``M(rho, t) >= 0`` (Clarabel; not checked).

    Parameters
    ----------
    W : (k, d) array
    A : (m, k) array
    alpha, beta : (k,) arrays
        Per-neuron slope sectors (``alpha_j <= beta_j``).
    time_limit : float, optional
        Clarabel's time limit; a stopped solve still returns its last ``t`` (a check decides).
    tol : float
        Clarabel's relative gap and feasibility tolerances.
    stop : callable, optional
        Polled by Clarabel after every iteration; a true value stops the solve (Ctrl-C: the
        caller's budget flag).

    Returns
    -------
    (t, info) : (ndarray, dict)
        Multipliers of the neurons with ``beta_j > alpha_j``; ``info`` has the solver status,
        ``rho_solver``, iterations and time.
    """
    import clarabel

    H, Wu, Au = sector_parameters(W, A, alpha, beta)
    d, m = H.shape
    ku = Wu.shape[0]
    t0 = time.perf_counter()
    if ku == 0:
        return np.zeros(0), {"status": "no multipliers", "rho_solver": sector_rho(W, A, alpha, beta, []),
                             "iterations": 0, "solve_time": 0.0}
    # scale so that ||W|| = ||A|| = 1 (LipSDP is homogeneous: t scales with ||A||^2)
    sw = max(float(np.linalg.norm(Wu, 2)), 1e-300)
    sa = max(float(np.linalg.norm(Au, 2)), 1e-300)
    Wn, An, Hn = Wu / sw, Au / sa, H / (sw * sa)
    n = d + m
    # Clarabel's PSD triangle: upper triangle, column-major, off-diagonals times sqrt(2)
    I, J = np.triu_indices(n)
    order = np.lexsort((I, J))
    I, J = I[order], J[order]
    sc = np.where(I == J, 1.0, math.sqrt(2.0))
    nsv = I.size
    # x = [rho, t (ku), sigma (ku)];  cone rows: s = b - A x
    M0 = np.zeros((n, n))
    M0[:d, d:] = Hn
    M0[d:, :d] = Hn.T
    M0[d:, d:] = np.eye(m)
    b_psd = M0[I, J] * sc
    top = (I < d) & (J < d)
    bot = (I >= d) & (J >= d)
    col_rho = np.where(top & (I == J), -1.0, 0.0)
    # t_j enters as -1/2 w_j w_j^T: A = +1/2 svec(w w^T)
    Tcols = np.zeros((nsv, ku))
    Tcols[top] = (0.5 * Wn[:, I[top]] * Wn[:, J[top]] * sc[top][None, :]).T
    Scols = np.zeros((nsv, ku))
    Scols[bot] = (0.5 * An[I[bot] - d, :] * An[J[bot] - d, :] * sc[bot][:, None])
    A_psd = sp.hstack([sp.csc_matrix(col_rho[:, None]), sp.csc_matrix(Tcols), sp.csc_matrix(Scols)])
    # rotated cones sigma_j t_j >= 1 (after scaling r into An): (t+s, 2, t-s) in SOC
    rows = np.arange(3 * ku)
    jj = np.repeat(np.arange(ku), 3)
    kind = np.tile(np.arange(3), ku)
    ri, ci, vv = [], [], []
    for k_, sgn_t, sgn_s in ((0, -1.0, -1.0), (2, -1.0, 1.0)):
        sel = rows[kind == k_]
        ri += [sel, sel]
        ci += [1 + jj[sel], 1 + ku + jj[sel]]
        vv += [np.full(sel.size, sgn_t), np.full(sel.size, sgn_s)]
    A_soc = sp.csc_matrix((np.concatenate(vv), (np.concatenate(ri), np.concatenate(ci))),
                          shape=(3 * ku, 1 + 2 * ku))
    b_soc = np.where(kind == 1, 2.0, 0.0)
    Amat = sp.vstack([A_psd, A_soc]).tocsc()
    bvec = np.concatenate([b_psd, b_soc])
    q = np.zeros(1 + 2 * ku)
    q[0] = 1.0
    cones = [clarabel.PSDTriangleConeT(n)] + [clarabel.SecondOrderConeT(3)] * ku
    st = clarabel.DefaultSettings()
    st.verbose = False
    st.tol_gap_rel = st.tol_gap_abs = tol
    st.tol_feas = tol
    if time_limit is not None:
        st.time_limit = max(float(time_limit), 0.01)
    solver = clarabel.DefaultSolver(sp.csc_matrix((q.size, q.size)), q, Amat, bvec, cones, st)
    if stop is not None:
        solver.set_termination_callback(lambda info: bool(stop()))
    sol = solver.solve()
    x = np.asarray(sol.x, dtype=float)
    t = x[1:1 + ku] * sa * sa
    return t, {"status": str(sol.status), "rho_solver": float(x[0]) * (sw * sa) ** 2,
               "iterations": int(sol.iterations), "solve_time": time.perf_counter() - t0}
