"""LipSDP-Neuron (Fazlyab et al., 2019) with a rigorous a-posteriori check of the certificate.

For a network whose hidden activations are slope-restricted in ``[alpha_i, beta_i]``, every
feasible point ``(rho, T_1, ..., T_{L-1})`` (``T_i`` diagonal, nonnegative) of the linear matrix
inequality ``M(rho, T) <= 0`` proves ``Lip_2(f) <= sqrt(rho)`` on all of R^d.  ``M`` is the
block-tridiagonal matrix derived in ``docs/methods/sdp.md``:

* ``M[0,0] = -rho I - 2 alpha_1 beta_1 W_1^T T_1 W_1``
* ``M[i,i] = -2 T_i - 2 alpha_{i+1} beta_{i+1} W_{i+1}^T T_{i+1} W_{i+1}``  (1 <= i <= L-2)
* ``M[L-1,L-1] = -2 T_{L-1} + W_L^T W_L``
* ``M[i-1,i] = M[i,i-1]^T = (alpha_i + beta_i) W_i^T T_i``  (1 <= i <= L-1)

The SDP is solved in floating point (cvxpy + Clarabel); its answer is *not* trusted.  Instead:

1. the multipliers are clipped to ``T >= 0`` and the smallest ``rho`` feasible for *these*
   multipliers is recomputed by a Schur complement, ``rho(T) = lambda_max(B^T D^{-1} B - C)``;
2. ``L = sqrt(rho(T)) (1 + delta)`` is rounded to a float, and ``-M(L^2, T) >= 0`` is proved in
   Arb ball arithmetic: with a float Cholesky factor ``R`` of ``-M - s I``, the residual
   ``E = -M - s I - R^T R`` is enclosed in Arb and ``||E||_inf <= s`` implies
   ``-M >= R^T R + (s - ||E||) I >= 0``;
3. on failure ``delta`` grows (repair by inflating ``L``), and if the multipliers themselves are
   not strictly feasible the SDP is re-solved with a larger margin.

Only a value that passed step 2 is ever reported.  :func:`verify_sdp` (registered as the
``"sdp"`` verifier) repeats step 2 from the stored multipliers, independently of the solve.
"""

from __future__ import annotations

import math
import time

import flint
import numpy as np

from bounds._verified import solve_float_program
from bounds.errors import ParameterError

from certify.errors import UnsupportedError

from certify.methods.budget import budget_for, reject_unknown_options
from certify.methods.certificate import make_certificate, register_verifier
from certify.methods.layer_lmi import available_memory
from certify.methods.lower import lower_bound
from certify.arith.witness import _to_arb_mat, arb_ceil

__all__ = ["sdp_lipschitz", "slope_restricted", "lipsdp_matrix_float", "check_lmi",
           "verify_sdp", "SDPError", "SDPTooLargeError", "sdp_memory_estimate"]


class SDPError(RuntimeError):
    """The SDP could not be solved or its answer could not be turned into a checked certificate.

    ``method="auto"`` falls back to the naive bound when this happens.
    """


class SDPTooLargeError(SDPError, MemoryError):
    """The SDP would not fit in memory; refused before the solver allocates anything.

    Attributes
    ----------
    required, available : int
        Estimated bytes, and the budget they were compared with.
    """

    def __init__(self, what, required, available):
        self.required, self.available = int(required), int(available)
        super().__init__(f"{what} needs about {required / 2**30:.2f} GiB, more than the "
                         f"{available / 2**30:.2f} GiB allowed (max_memory=...); use "
                         "method='compositional' for deep nets")


def sdp_memory_estimate(net, formulation="auto") -> int:
    """Bytes the dense LipSDP solve (cvxpy + Clarabel) needs: its KKT system holds a dense block
    of side ``n (n + 1) / 2`` for the ``n``-square LMI (n = inputs + hidden neurons); a
    one-hidden-layer net uses the sector form (:mod:`certify.methods.sector_lmi`) or the structured
    solver (:mod:`certify.methods.layer_lmi`) instead, whichever :func:`_use_sector` picks."""
    from certify.methods.layer_lmi import layer_memory_estimate

    if len(net.weights) == 2 and formulation != "dense":
        k, d = net.weights[0].shape
        if formulation == "sector" or (formulation == "auto" and _use_sector(net, None)):
            return sector_memory_estimate(d, net.weights[1].shape[0], k)
        return layer_memory_estimate(d, k)
    n = sum(_sizes(net))
    m = n * (n + 1) // 2
    return int(8 * (2 * m * m + 40 * n * n) + 200 * 2**20)


def _slopes(net):
    out = []
    for i, act in enumerate(net.activations):
        sb = act.slope_bounds
        if sb is None:
            return None
        a, b = float(sb[0]), float(sb[1])
        out.append((a, b))
    return out


def slope_restricted(net) -> bool:
    """Whether every hidden activation has known slope bounds ``[alpha, beta]``."""
    return _slopes(net) is not None


# ---------------------------------------------------------------------------------------------
# the LMI
# ---------------------------------------------------------------------------------------------

def _blocks(net, ts, slopes, lib):
    """Block entries of M without the ``-rho I`` term, in a given arithmetic.

    ``lib`` provides ``diag_right(W, t)`` (W^T diag t), ``gram(W, t)`` (W^T diag t W),
    ``scale(c, X)``, ``add``, ``wtw(W)``, ``diag(t)`` and the scalar coefficient maps ``plus(a, b)``
    and ``times(c, a, b)`` for that arithmetic (in Arb the coefficients ``alpha + beta`` and
    ``-2 alpha beta`` must not be rounded).
    """
    ws = net.weights
    L = len(ws)
    diag, off = {}, {}
    for i in range(L):  # block i belongs to x_i (x_0 = input)
        blk = None
        if 1 <= i <= L - 1:
            blk = lib.scale(-2, lib.diag(ts[i - 1]))
        if i + 1 <= L - 1:
            a, b = slopes[i]
            if a * b != 0:
                g = lib.scale(lib.times(-2.0, a, b), lib.gram(ws[i], ts[i]))
                blk = g if blk is None else lib.add(blk, g)
        if i == L - 1:
            g = lib.wtw(ws[L - 1])
            blk = g if blk is None else lib.add(blk, g)
        diag[i] = blk
    for i in range(1, L):
        a, b = slopes[i - 1]
        off[(i - 1, i)] = lib.scale(lib.plus(a, b), lib.diag_right(ws[i - 1], ts[i - 1]))
    return diag, off


class _NumpyLib:
    plus = staticmethod(lambda a, b: a + b)
    times = staticmethod(lambda c, a, b: c * a * b)

    @staticmethod
    def diag(t):
        return np.diag(t)

    @staticmethod
    def scale(c, X):
        return c * X

    @staticmethod
    def add(X, Y):
        return X + Y

    @staticmethod
    def gram(W, t):
        return W.T @ (t[:, None] * W)

    @staticmethod
    def wtw(W):
        return W.T @ W

    @staticmethod
    def diag_right(W, t):
        return W.T * t[None, :]


class _ArbLib:
    plus = staticmethod(lambda a, b: flint.arb(a) + flint.arb(b))
    times = staticmethod(lambda c, a, b: flint.arb(c) * flint.arb(a) * flint.arb(b))

    @staticmethod
    def diag(t):
        n = len(t)
        D = flint.arb_mat(n, n)
        for j in range(n):
            D[j, j] = flint.arb(float(t[j]))
        return D

    @staticmethod
    def scale(c, X):
        return flint.arb(c) * X

    @staticmethod
    def add(X, Y):
        return X + Y

    @staticmethod
    def gram(W, t):
        return _ArbLib.diag_right(W, t) * _to_arb_mat(W)

    @staticmethod
    def wtw(W):
        A = _to_arb_mat(W)
        return A.transpose() * A

    @staticmethod
    def diag_right(W, t):
        # the float product W^T diag(t) would be rounded; the Arb product is exact at 128 bits
        return _to_arb_mat(W).transpose() * _ArbLib.diag(t)


def _sizes(net):
    return [net.input_dim] + [int(w.shape[0]) for w in net.weights[:-1]]


def lipsdp_matrix_float(net, rho, ts, slopes=None) -> np.ndarray:
    """The LipSDP-Neuron matrix ``M(rho, T)`` in float64 (for diagnostics and the Schur step)."""
    slopes = _slopes(net) if slopes is None else slopes
    diag, off = _blocks(net, ts, slopes, _NumpyLib)
    sizes = _sizes(net)
    offs = np.concatenate([[0], np.cumsum(sizes)])
    n = int(offs[-1])
    M = np.zeros((n, n))
    for i, blk in diag.items():
        if blk is not None:
            M[offs[i]:offs[i + 1], offs[i]:offs[i + 1]] = blk
    for (i, j), blk in off.items():
        M[offs[i]:offs[i + 1], offs[j]:offs[j + 1]] = blk
        M[offs[j]:offs[j + 1], offs[i]:offs[i + 1]] = blk.T
    M[:sizes[0], :sizes[0]] -= rho * np.eye(sizes[0])
    return M


def _neg_matrix_arb(net, L_float, ts, slopes) -> flint.arb_mat:
    """``-M(L^2, T)`` as an Arb matrix (every entry an exact or tightly enclosed ball)."""
    diag, off = _blocks(net, ts, slopes, _ArbLib)
    sizes = _sizes(net)
    offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    n = int(offs[-1])
    N = flint.arb_mat(n, n)
    for i, blk in diag.items():
        if blk is None:
            continue
        o = offs[i]
        for r in range(sizes[i]):
            for c in range(sizes[i]):
                N[o + r, o + c] = -blk[r, c]
    for (i, j), blk in off.items():
        oi, oj = offs[i], offs[j]
        for r in range(sizes[i]):
            for c in range(sizes[j]):
                v = -blk[r, c]
                N[oi + r, oj + c] = v
                N[oj + c, oi + r] = v
    rho = flint.arb(L_float) ** 2  # exact: a double squared fits in 128 bits
    for r in range(sizes[0]):
        N[r, r] = N[r, r] + rho
    return N


def check_lmi(net, L_float, ts, slopes=None, prec: int = 128) -> tuple[bool, str]:
    """Prove ``M(L^2, T) <= 0`` (negative semidefinite) in Arb, or report why not.

    Returns
    -------
    (ok, message)
    """
    slopes = _slopes(net) if slopes is None else slopes
    ts = [np.maximum(np.asarray(t, dtype=np.float64), 0.0) for t in ts]
    with flint.ctx.workprec(prec):
        N = _neg_matrix_arb(net, float(L_float), ts, slopes)
        n = N.nrows()
        Nf = np.array([[float(N[i, j].mid()) for j in range(n)] for i in range(n)])
        lam_min = float(np.linalg.eigvalsh((Nf + Nf.T) / 2)[0])
        if not lam_min > 0:
            return False, f"-M is not positive definite in floating point (lambda_min ~ {lam_min:.3e})"
        s = 0.5 * lam_min
        try:
            R = np.linalg.cholesky(Nf - s * np.eye(n)).T  # upper triangular, Nf - sI ~ R^T R
        except np.linalg.LinAlgError:
            return False, "float Cholesky of -M - sI failed"
        Ra = _to_arb_mat(R)
        E = N - Ra.transpose() * Ra
        for i in range(n):
            E[i, i] = E[i, i] - flint.arb(s)
        # ||E||_2 <= ||E||_inf for symmetric E; bound each row sum from above
        bound = max(arb_ceil(sum((abs(E[i, j]) for j in range(n)), flint.arb(0))) for i in range(n))
        ok = bound < s * (1 - 1e-12)
        return ok, (f"-M(L^2,T) = R^T R + {s:.3e} I + E with ||E||_inf <= {bound:.3e} "
                    f"({'<' if ok else '>='} {s:.3e})")


# ---------------------------------------------------------------------------------------------
# solving
# ---------------------------------------------------------------------------------------------

def _solve_sdp(net, slopes, margin, solver, time_limit=None):
    import cvxpy as cp

    ws = net.weights
    L = len(ws)
    sizes = _sizes(net)
    ts = [cp.Variable(sizes[i + 1], nonneg=True) for i in range(L - 1)]
    rho = cp.Variable(nonneg=True)

    class _CvxLib:
        plus = staticmethod(lambda a, b: a + b)
        times = staticmethod(lambda c, a, b: c * a * b)
        diag = staticmethod(cp.diag)
        scale = staticmethod(lambda c, X: c * X)
        add = staticmethod(lambda X, Y: X + Y)
        gram = staticmethod(lambda W, t: W.T @ cp.diag(t) @ W)
        wtw = staticmethod(lambda W: cp.Constant(W.T @ W))
        diag_right = staticmethod(lambda W, t: W.T @ cp.diag(t))

    diag, off = _blocks(net, ts, slopes, _CvxLib)
    rows = []
    for i in range(L):
        row = []
        for j in range(L):
            if i == j:
                blk = diag[i]
                if i == 0:
                    blk = -rho * np.eye(sizes[0]) if blk is None else blk - rho * np.eye(sizes[0])
                row.append(blk if blk is not None else np.zeros((sizes[i], sizes[j])))
            elif (i, j) in off:
                row.append(off[(i, j)])
            elif (j, i) in off:
                row.append(off[(j, i)].T)
            else:
                row.append(np.zeros((sizes[i], sizes[j])))
        rows.append(row)
    M = cp.bmat(rows)
    n = sum(sizes)
    cons = [(M + M.T) / 2 << -margin * np.eye(n)]
    prob = cp.Problem(cp.Minimize(rho), cons)
    t0 = time.perf_counter()
    kwargs = {}
    if time_limit is not None and solver.upper() == "CLARABEL":
        kwargs["time_limit"] = max(float(time_limit), 1e-3)
    try:
        # an inaccurate float answer is fine (it is checked in ball arithmetic): its warning goes
        # into the status, which the repair log records, not to the user's session
        inaccurate = solve_float_program(prob, solver=solver, **kwargs)
    except (cp.error.SolverError, ValueError, OverflowError, ArithmeticError) as exc:
        # cvxpy refuses NaN/Inf data (weights near overflow) with a plain ValueError
        raise SDPError(f"SDP solver {solver} failed: {str(exc).splitlines()[0]}") from exc
    if prob.status == "user_limit":
        raise _OutOfBudget("time_limit")
    if prob.status not in ("optimal", "optimal_inaccurate") or rho.value is None:
        raise SDPError(f"SDP solver {solver} returned status {prob.status!r}")
    status = prob.status + (f" (cvxpy: {inaccurate[0]})" if inaccurate else "")
    return float(rho.value), [np.asarray(t.value, dtype=float).reshape(-1) for t in ts], \
        time.perf_counter() - t0, status


def _tight_rho(net, ts, slopes) -> float:
    """Smallest rho with M(rho, T) <= 0 for fixed T (float Schur complement), or inf."""
    d = net.input_dim
    M0 = lipsdp_matrix_float(net, 0.0, ts, slopes)
    C = -M0[:d, :d]          # -M = [[rho I + C, -B^T], [-B, D]]
    B = -M0[d:, :d]
    D = -M0[d:, d:]
    D = (D + D.T) / 2
    try:
        cho = np.linalg.cholesky(D)
    except np.linalg.LinAlgError:
        return math.inf
    Y = np.linalg.solve(cho, B)  # B^T D^{-1} B = Y^T Y
    S = Y.T @ Y - C
    return float(np.linalg.eigvalsh((S + S.T) / 2)[-1])


class _OutOfBudget(Exception):
    """The time limit (or a Ctrl-C) stopped the SDP before a checked certificate existed."""


#: Seconds per ``n^3`` (``n`` = number of LMI rows) of one :func:`check_lmi` in Arb (2-core
#: reference machine, rounded up): a check that cannot finish in the time left is not started.
CHECK_SECONDS_PER_CUBE = 3e-6


def estimated_solve_seconds(net) -> float:
    """Cost model of one LipSDP solve with Clarabel: ``120 (n / 112)^4.5`` s for ``n`` LMI rows.

    Fitted on the 2-core reference machine (n = 50: 2 s, 75: 18 s, 112: 117 s).  Clarabel checks
    its own time limit only between interior-point iterations, and one iteration of a large LMI
    can take minutes, so a solve that cannot finish in the time left is not started.
    """
    n = sum(_sizes(net))
    return 120.0 * (n / 112.0) ** 4.5


def _structured_upper(net, slopes, time_limit, max_memory):
    """One hidden layer: the (d+k)-square LMI with k+1 unknowns (:mod:`certify.methods.layer_lmi`)."""
    from certify.arith.interval import midrad_matmul
    from certify.methods.layer_lmi import (LayerLMIError, ProblemTooLargeError, checked_least_c,
                                           check_layer_lmi, feasible_start, solve_layer_lmi)

    W1, W2 = net.weights
    a, b = slopes[0]
    V = W2.T @ W2
    t0 = feasible_start(V)
    try:
        t, info = solve_layer_lmi(W1, a, b, V=V, time_limit=time_limit, max_memory=max_memory, t0=t0)
    except ProblemTooLargeError as exc:
        raise SDPTooLargeError(f"the structured LipSDP with layer sizes {_sizes(net)}",
                               exc.required, exc.available) from exc
    t = np.maximum(t, 0.0)
    Vm, Vr = midrad_matmul(W2.T, None, W2, None)
    t1 = time.perf_counter()
    try:
        c, log = checked_least_c(W1, a, b, t, V=Vm, Vr=Vr, c_float=info["c_float"])
        L = math.nextafter(math.nextafter(math.sqrt(c), math.inf), math.inf)
        ok, msg = check_layer_lmi(W1, a, b, math.nextafter(L * L, -math.inf), t, V=Vm, Vr=Vr)
    except LayerLMIError as exc:
        raise SDPError(str(exc)) from exc
    if not ok:
        raise SDPError("structured LipSDP: final check failed: " + msg)
    return L, {"multipliers": [t], "slopes": slopes, "formulation": "structured",
               "rho_solver": info["c_barrier"], "solve_time": info["solve_time"],
               "check_time": time.perf_counter() - t1, "log": info["log"] + log + [msg],
               "solver": "structured barrier"}


def _sector_upper(net, slopes, time_limit, max_memory, budget=None):
    """One hidden layer: the reduced (d+m)-square LMI with k+1 unknowns (:mod:`certify.methods.sector_lmi`).

    The solver's multipliers are checked; so is the always-feasible start
    (:func:`~certify.methods.sector_lmi.feasible_multipliers`), and the smaller checked bound is kept,
    so a solve stopped by the time limit still gives a rigorous (looser) bound.
    """
    from certify.methods.sector_lmi import (SectorLMIError, checked_sector_bound,
                                            feasible_multipliers, solve_sector_lmi)

    W1, W2 = net.weights
    k, d = W1.shape
    need = sector_memory_estimate(d, W2.shape[0], k)
    memory = int(0.6 * available_memory()) if max_memory is None else int(max_memory)
    if need > memory:
        raise SDPTooLargeError(f"the sector LipSDP with layer sizes {_sizes(net)}", need, memory)
    al, be = np.full(k, slopes[0][0]), np.full(k, slopes[0][1])
    t, info = solve_sector_lmi(W1, W2, al, be, time_limit=time_limit,
                               stop=None if budget is None else budget.stop_reason)
    t1 = time.perf_counter()
    best, log = None, [f"Clarabel: {info['status']}, {info['iterations']} iterations, "
                       f"rho {info['rho_solver']:.9g}"]
    for name, tt in (("solver", np.maximum(t, 1e-300)), ("start", feasible_multipliers(W1, W2, al, be))):
        try:
            L, rho, lg = checked_sector_bound(W1, W2, al, be, tt)
        except SectorLMIError as exc:
            log.append(f"{name} multipliers: {str(exc).splitlines()[0]}")
            continue
        log += [f"{name} multipliers: {lg[-1]}"]
        if best is None or L < best[0]:
            best = (L, tt)
    if best is None:
        raise SDPError("sector LipSDP: no multipliers passed the check; log:\n" + "\n".join(log))
    return best[0], {"multipliers": [best[1]], "slopes": slopes, "formulation": "sector",
                     "rho_solver": info["rho_solver"], "solve_time": info["solve_time"],
                     "check_time": time.perf_counter() - t1, "log": log, "solver": "clarabel (sector LMI)"}


def sector_memory_estimate(d: int, m: int, k: int) -> int:
    """Peak bytes of the sector LMI's Clarabel solve: the dense (d+m)-square PSD block's
    ``n(n+1)/2``-square KKT part (twice), its ``n(n+1)/2 x k`` coupling columns (thrice), plus slack."""
    n = d + m
    nsv = n * (n + 1) // 2
    return int(8 * (2 * nsv * nsv + 3 * nsv * k + 40 * k) + 64 * 2**20)


def _use_sector(net, max_memory) -> bool:
    """Sector form for a one-hidden-layer net when it is the cheaper of the two exact reformulations.

    Both give the same optimum.  Measured on the 2-core machine (d = 32, m = 1): the structured
    barrier takes 0.2 s at k = 64 and 1.5 s at k = 256 but does not converge in a minute at
    k = 1024, where Clarabel on the sector form takes about 20 s (0.9 s and 5 s at k = 64, 256).
    The sector form's cost grows with ``(d+m)^4`` (its PSD block) and linearly in ``k``, the
    barrier's with ``k^3``: the switch is at ``(d+m)(d+m+1)/2 <= k``, or wherever only the sector
    form fits in memory.
    """
    from certify.methods.layer_lmi import layer_memory_estimate
    W1, W2 = net.weights
    k, d = W1.shape
    n = d + W2.shape[0]
    budget = int(0.6 * available_memory()) if max_memory is None else int(max_memory)
    sector = sector_memory_estimate(d, n - d, k)
    return (n * (n + 1) // 2 <= k and sector <= budget) or (
        layer_memory_estimate(d, k) > budget >= sector)


def sdp_upper(net, *, solver="CLARABEL", margin=None, max_repairs=8, time_limit=None,
              max_memory=None, formulation="auto", budget=None):
    """Checked LipSDP-Neuron upper bound on the global l2 Lipschitz constant.

    Returns
    -------
    (L, details) : (float, dict)
        ``L`` passed :func:`check_lmi`; ``details`` has the multipliers, timings and the repair log.
    """
    slopes = _slopes(net)
    if slopes is None:
        bad = [a.name for a in net.activations if a.slope_bounds is None]
        raise ParameterError("activation", bad[0], "a slope-restricted activation (known [alpha, beta])",
                             "method='sdp' needs slope bounds for every hidden activation")
    with np.errstate(over="ignore"):
        scale = max(1.0, float(np.linalg.norm(net.weights[-1], 2)) ** 2)
    top = max(float(np.max(np.abs(w))) for w in net.weights)
    big = max([top] + [abs(v) for ab in slopes for v in ab])
    if not (math.isfinite(scale) and big < 1e140):
        raise SDPError(f"weights or slopes up to {big:.3g}: the LMI's entries would overflow "
                       "float64 (use method='naive' or 'interval')")
    if formulation not in ("auto", "sector", "structured", "dense"):
        raise ParameterError("formulation", formulation, "'auto', 'sector', 'structured' or 'dense'")
    if formulation in ("sector", "structured") and len(net.weights) != 2:
        raise ParameterError("formulation", formulation, "'auto' or 'dense' for a deep net",
                             f"the {formulation} LMI is for one hidden layer")
    if len(net.weights) == 2 and (formulation == "sector" or (
            formulation == "auto" and _use_sector(net, max_memory))):
        return _sector_upper(net, slopes, time_limit, max_memory, budget)
    if len(net.weights) == 2 and formulation != "dense":
        return _structured_upper(net, slopes, time_limit, max_memory)

    need = sdp_memory_estimate(net, "dense")
    memory = int(0.6 * available_memory()) if max_memory is None else int(max_memory)
    if need > memory:
        raise SDPTooLargeError(f"LipSDP for layer sizes {_sizes(net)}", need, memory)
    margin = 1e-7 * scale if margin is None else margin
    log, solve_time, check_time = [], 0.0, 0.0
    n_rows = sum(_sizes(net))
    for attempt in range(3):
        if budget is not None and budget.stop_reason():
            raise _OutOfBudget(budget.stop_reason())
        left = None if budget is None else budget.remaining()
        if left is not None and estimated_solve_seconds(net) > left:
            raise _OutOfBudget("time_limit")
        rho_solver, ts, st, status = _solve_sdp(net, slopes, margin, solver, time_limit=left)
        solve_time += st
        ts = [np.maximum(t, 0.0) for t in ts]
        rho = _tight_rho(net, ts, slopes)
        log.append(f"solve {attempt}: margin {margin:.1e}, status {status}, rho_solver {rho_solver:.9g}, "
                   f"rho(T) {rho:.9g}")
        if math.isfinite(rho) and rho > 0:
            delta = 1e-9
            for _ in range(max_repairs):
                if budget is not None and (budget.stop_reason() or (
                        budget.remaining() is not None
                        and CHECK_SECONDS_PER_CUBE * n_rows ** 3 > budget.remaining())):
                    raise _OutOfBudget(budget.stop_reason() or "time_limit")
                L = math.nextafter(math.sqrt(rho) * (1 + delta), math.inf)
                t0 = time.perf_counter()
                ok, msg = check_lmi(net, L, ts, slopes)
                check_time += time.perf_counter() - t0
                log.append(f"check L={L!r}: {msg}")
                if ok:
                    return L, {"multipliers": ts, "slopes": slopes, "rho_solver": rho_solver,
                               "solve_time": solve_time, "check_time": check_time,
                               "margin": margin, "log": log, "solver": solver}
                delta *= 10
        margin *= 100
    raise SDPError("could not certify the LipSDP solution; log:\n" + "\n".join(log))


def _refuse_groupsort(net):
    """LipSDP's quadratic constraints are for elementwise slope-restricted activations.

    GroupSort couples the neurons of a block (its Jacobian is a permutation, not a diagonal with
    entries in ``[alpha, beta]``), so no layer-wise multiplier of this formulation is known to be
    valid for it; the exact method (comparator networks) and the naive product (GroupSort is
    1-Lipschitz in every p-norm) cover it instead.
    """
    for i, act in enumerate(net.activations):
        if not getattr(act, "elementwise", True):
            raise UnsupportedError(f"method='sdp': hidden layer {i} is {act.spec} (GroupSort), which is not an "
                                   "elementwise slope-restricted activation, so LipSDP does not apply; use "
                                   "method='exact' or 'naive'")


def sdp_lipschitz(net, norm, domain, *, tol=1e-9, time_limit=None, node_limit=None,
                  solver="CLARABEL", margin=None, lower_options=None, max_memory=None,
                  formulation="auto", **options):
    """Global l2 Lipschitz upper bound by LipSDP-Neuron, checked in ball arithmetic.

    Parameters
    ----------
    net : certify.Network
        Every hidden activation must be slope-restricted.
    norm : 2
        Only the l2 norm is supported.
    domain : None or (lo, hi)
        The bound is global; a box only restricts the lower-bound search (the certificate then
        still holds on the box, since the global constant dominates the local one).
    solver : str
        cvxpy solver name (default Clarabel).
    margin : float, optional
        LMI margin used in the solve (default ``1e-7 * max(1, ||W_L||_2^2)``).
    max_memory : int, optional
        Byte budget (default 60% of the available memory); a larger problem raises
        :class:`SDPTooLargeError` before anything is allocated.
    formulation : {"auto", "structured", "dense"}
        One hidden layer: "auto" uses the structured (d+k)-square LMI with k+1 unknowns
        (:mod:`certify.methods.layer_lmi`), which needs ``time_limit`` only for its Newton steps
        (every iterate is feasible, so a limit loosens rather than voids the bound); "dense" is
        the generic cvxpy formulation.

    Returns
    -------
    Certificate
        ``details`` holds ``multipliers``, ``solve_time``, ``check_time`` and the repair ``log``.
    """
    reject_unknown_options("sdp", options, ["solver", "margin", "lower_options"])
    if norm != 2:
        raise ParameterError("norm", norm, "2 (LipSDP bounds the l2 Lipschitz constant)")
    _refuse_groupsort(net)
    from certify.methods.naive import naive_lipschitz, naive_upper
    t0 = time.perf_counter()
    budget = budget_for(time_limit)
    if len(net.weights) == 1:  # an affine map: the spectral norm is the constant
        return naive_lipschitz(net, norm, domain, tol=tol, time_limit=budget.remaining(),
                               lower_options=lower_options)
    left = budget.remaining()
    try:
        # the Newton steps get 80% of the time left: the check and the witness search follow
        upper, details = sdp_upper(net, solver=solver, margin=margin,
                                   time_limit=None if left is None else 0.8 * left,
                                   max_memory=max_memory, formulation=formulation, budget=budget)
    except _OutOfBudget as stop:
        # the best rigorous enclosure so far: the naive product (LipSDP never had a checked value)
        up, info = naive_upper(net, norm, budget)
        info["note"] = f"LipSDP stopped ({stop}) before a checked certificate; naive product bound"
        return make_certificate(net, norm, domain, "naive", up, None, tol=tol, status=str(stop),
                                elapsed=time.perf_counter() - t0, details=info)
    except (OverflowError, FloatingPointError, np.linalg.LinAlgError) as exc:
        raise SDPError(f"LipSDP failed in floating point: {exc!r}") from exc
    lo_opts = {"n_starts": 256, "n_ascents": 6, "iters": 40}
    lo_opts.update(lower_options or {})
    if budget.remaining() is not None:
        lo_opts.setdefault("time_limit", 0.6 * budget.remaining())
    witness = None if budget.stop_reason() else lower_bound(net, norm, domain, **lo_opts)
    return make_certificate(net, norm, domain, "sdp", upper, witness, tol=tol,
                            status=budget.stop_reason() or "bound",
                            elapsed=time.perf_counter() - t0, details=details)


def verify_sdp(cert) -> tuple[bool, str]:
    """Re-prove ``M(upper^2, T) <= 0`` in Arb from the stored multipliers."""
    ts = cert.details.get("multipliers")
    if ts is None:
        return False, "no multipliers stored"
    slopes = _slopes(cert.network)  # from the activations, not from the stored details
    if cert.details.get("formulation") == "sector":
        from certify.methods.sector_lmi import check_sector_lmi

        W1, W2 = cert.network.weights
        k = W1.shape[0]
        rho = math.nextafter(cert.upper * cert.upper, -math.inf)  # <= upper^2; M grows with rho
        return check_sector_lmi(W1, W2, np.full(k, slopes[0][0]), np.full(k, slopes[0][1]), rho,
                                np.asarray(ts[0], dtype=float))
    if cert.details.get("formulation") == "structured":
        from certify.arith.interval import midrad_matmul
        from certify.methods.layer_lmi import check_layer_lmi

        W1, W2 = cert.network.weights
        Vm, Vr = midrad_matmul(W2.T, None, W2, None)
        c = math.nextafter(cert.upper * cert.upper, -math.inf)  # <= upper^2; F grows with c
        return check_layer_lmi(W1, *slopes[0], c, ts[0], V=Vm, Vr=Vr)
    return check_lmi(cert.network, cert.upper, ts, slopes)


register_verifier("sdp", verify_sdp)
