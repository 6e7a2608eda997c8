"""Exact rational arithmetic on the linear regions of a piecewise-linear network.

Every float64 weight, bias, breakpoint and slope is a dyadic rational, so a region's affine maps,
its Jacobian and the membership of a point in its interior can be decided *exactly* with
python-flint's ``fmpq``/``fmpq_mat``.  This module is the trusted core of the exact method
(:mod:`certify.methods.exact`): the branch and bound runs in floating point and only its conclusions are
re-checked here.

Conventions
-----------
* A hidden neuron's activation has breakpoints ``t_1 < ... < t_m`` and ``m + 1`` affine pieces,
  numbered ``0 .. m`` from left to right; on piece ``j`` it equals ``s_j z + c_j``.
* A *pattern* is a sequence with one integer array per hidden layer (piece index of every neuron).
* The *region* of a pattern is the set of inputs whose pre-activations lie in the open pieces
  (neurons whose pre-activation is constant on the region may sit on a breakpoint: their slope does
  not enter the Jacobian, see :meth:`ExactNet.strictly_inside`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import flint
import numpy as np
from flint import arb, fmpq, fmpq_mat

from bounds.errors import ParameterError

# one implementation of the float <-> ball rounding helpers (re-exported for certify.methods.exact)
from certify.arith.witness import arb_ceil, arb_floor

__all__ = [
    "PLSpec",
    "pl_spec",
    "network_arrays",
    "to_fmpq",
    "ExactNet",
    "opnorm_ball",
    "arb_floor",
    "arb_ceil",
    "verify_empty_interior",
]


# ----------------------------------------------------------------------------------------------
# piecewise-linear activations
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PLSpec:
    """Piecewise-linear activation: breakpoints, and slope and intercept of every piece.

    All numbers are float64 values that are taken as exact rationals.
    """

    name: str
    breakpoints: tuple
    slopes: tuple
    intercepts: tuple

    @property
    def n_pieces(self) -> int:
        return len(self.slopes)


def _leaky(alpha: float) -> PLSpec:
    return PLSpec("leaky_relu", (0.0,), (float(alpha), 1.0), (0.0, 0.0))


_TABLE = {
    "relu": PLSpec("relu", (0.0,), (0.0, 1.0), (0.0, 0.0)),
    "abs": PLSpec("abs", (0.0,), (-1.0, 1.0), (0.0, 0.0)),
    "hardtanh": PLSpec("hardtanh", (-1.0, 1.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 1.0)),
    "identity": PLSpec("identity", (), (1.0,), (0.0,)),
    "linear": PLSpec("identity", (), (1.0,), (0.0,)),
}


def pl_spec(act) -> PLSpec:
    """The :class:`PLSpec` of an activation given by name or as an activation object.

    Parameters
    ----------
    act : str or object
        ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"leaky_relu:<alpha>"``, ``"abs"``,
        ``"hardtanh"``, ``"identity"``, or an object with ``name`` (and ``param`` for leaky ReLU),
        such as :class:`certify.model.activations.Activation`.

    Raises
    ------
    ParameterError
        For a smooth or unknown activation.
    """
    if isinstance(act, PLSpec):
        return act
    if isinstance(act, str):
        name, _, param = act.strip().lower().partition(":")
        param = float(param) if param else None
    else:
        name = str(getattr(act, "name", "")).lower()
        param = getattr(act, "param", None)
    name = {"leakyrelu": "leaky_relu", "leaky": "leaky_relu", "hard_tanh": "hardtanh",
            "absolute": "abs"}.get(name, name)
    if name == "leaky_relu":
        alpha = 0.01 if param is None else float(param)
        if not math.isfinite(alpha):
            raise ParameterError("activation", act, "leaky_relu with a finite slope")
        return _leaky(alpha)
    if name == "poly" and param is not None and float(param) == 1.0:
        name = "identity"  # z**1
    if name in _TABLE:
        return _TABLE[name]
    raise ParameterError("activation", act, "a piecewise-linear activation: relu, leaky_relu, abs, "
                         "hardtanh or identity", "the exact method needs finitely many linear regions")


def network_arrays(net):
    """``(weights, biases, specs)`` of a network object: float64 lists and :class:`PLSpec` per layer.

    Accepts a :class:`certify.model.network.Network` (or anything with ``weights``, ``biases`` and
    ``activations``; weights in the ``(out, in)`` convention).
    """
    try:
        ws = [np.asarray(w, dtype=np.float64) for w in net.weights]
        bs = [np.asarray(b, dtype=np.float64) for b in net.biases]
        acts = list(net.activations)
    except AttributeError:
        raise ParameterError("net", net, "a certify.Network (weights, biases, activations)") from None
    if len(acts) == 1 and len(ws) > 2:
        acts = acts * (len(ws) - 1)
    if len(acts) != len(ws) - 1:
        raise ParameterError("net", net, "one activation per hidden layer")
    return ws, bs, [pl_spec(a) for a in acts]


def to_fmpq(v) -> fmpq:
    """The float64 (or int) ``v`` as an exact rational."""
    if isinstance(v, fmpq):
        return v
    n, d = float(v).as_integer_ratio()
    return fmpq(n, d)


def _qmat(a: np.ndarray) -> fmpq_mat:
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    return fmpq_mat(a.shape[0], a.shape[1], [to_fmpq(v) for v in a.ravel().tolist()])


def _qcol(v) -> fmpq_mat:
    v = [to_fmpq(x) for x in v]
    return fmpq_mat(len(v), 1, v)


# ----------------------------------------------------------------------------------------------
# exact network
# ----------------------------------------------------------------------------------------------

class ExactNet:
    """A network in exact rational arithmetic, for checking region membership and Jacobians.

    Parameters
    ----------
    weights, biases : lists of float64 arrays ((out, in) convention)
    specs : list of :class:`PLSpec`, one per hidden layer
    passthrough : list of (bool array or None), optional
        Neurons that are identity pass-throughs in a layer whose spec is not the identity (the
        comparator networks of GroupSort layers): their pattern entry must be the last piece, whose
        slope is 1 and intercept 0, and they carry no region constraint.
    """

    def __init__(self, weights, biases, specs, passthrough=None):
        self.W = [_qmat(w) for w in weights]
        self.b = [_qcol(b) for b in biases]
        self.specs = list(specs)
        self.bp = [[to_fmpq(t) for t in s.breakpoints] for s in specs]
        self.slope = [[to_fmpq(t) for t in s.slopes] for s in specs]
        self.icpt = [[to_fmpq(t) for t in s.intercepts] for s in specs]
        self.passthrough = list(passthrough) if passthrough is not None else [None] * len(self.specs)
        self.d = self.W[0].ncols()
        self.m = self.W[-1].nrows()

    @classmethod
    def from_network(cls, net) -> "ExactNet":
        return cls(*network_arrays(net))

    # ------------------------------------------------------------------ affine maps of a pattern
    def preactivation_map(self, layer: int, pattern) -> tuple[fmpq_mat, fmpq_mat]:
        """Exact ``(M, c)`` with ``z_layer(x) = M x + c`` on the region of ``pattern``.

        Only ``pattern[:layer]`` is used (the layers before ``layer``).
        """
        M, c = self.W[0], self.b[0]
        for l in range(layer):
            M, c = self._next(l, M, c, pattern[l])
        return M, c

    def _next(self, l, M, c, pieces):
        """Affine map of layer ``l + 1`` from that of layer ``l`` and layer ``l``'s pieces."""
        n = M.nrows()
        s = [self.slope[l][int(p)] for p in pieces]
        e = [self.icpt[l][int(p)] for p in pieces]
        DM = fmpq_mat(n, M.ncols(), [s[i] * M[i, j] for i in range(n) for j in range(M.ncols())])
        h = fmpq_mat(n, 1, [s[i] * c[i, 0] + e[i] for i in range(n)])
        return self.W[l + 1] * DM, self.W[l + 1] * h + self.b[l + 1]

    def jacobian(self, pattern) -> fmpq_mat:
        """Exact Jacobian (m x d) of the network on the region of a full pattern."""
        M, _ = self.preactivation_map(len(self.specs), pattern)
        return M

    def constraint_rows(self, pattern, neurons):
        """Exact half-spaces ``a . x <= r`` describing the piece ranges of some neurons.

        Parameters
        ----------
        pattern : sequence of int arrays
            Fixed pieces of every layer before the deepest layer listed in ``neurons``.
        neurons : iterable of (layer, index, lo_piece, hi_piece)
            The neuron's pre-activation must lie in pieces ``lo_piece .. hi_piece``.

        Returns
        -------
        list of (list of fmpq, fmpq)
        """
        by_layer: dict[int, list] = {}
        for layer, i, plo, phi in neurons:
            by_layer.setdefault(int(layer), []).append((int(i), int(plo), int(phi)))
        rows = []
        M, c = self.W[0], self.b[0]
        top = max(by_layer) if by_layer else -1
        for l in range(top + 1):
            if l > 0:
                M, c = self._next(l - 1, M, c, pattern[l - 1])
            for i, plo, phi in by_layer.get(l, ()):
                a = [M[i, j] for j in range(M.ncols())]
                if plo > 0:  # z >= t_plo  <=>  -a.x <= c - t
                    rows.append(([-v for v in a], c[i, 0] - self.bp[l][plo - 1]))
                if phi < len(self.bp[l]):  # z <= t_{phi+1}
                    rows.append((a, self.bp[l][phi] - c[i, 0]))
        return rows

    # ------------------------------------------------------------------ membership
    def strictly_inside(self, x, pattern, box=None) -> bool:
        """Whether ``x`` is an interior point of the region of the full ``pattern``, decided exactly.

        Every pre-activation must lie in the open piece the pattern assigns, except that a neuron
        whose pre-activation has an exactly zero gradient (given the earlier layers' pieces, which
        hold on a neighbourhood of ``x``) may sit anywhere in its closed piece: it is then constant
        near ``x`` and its slope multiplies a zero row of the Jacobian.  With ``box=(lo, hi)`` the
        point must also lie in the closed box (the open region then meets the box's interior).
        """
        xq = [to_fmpq(v) for v in np.asarray(x, dtype=np.float64).ravel()]
        if len(xq) != self.d:
            return False
        if box is not None:
            lo, hi = box
            if not all(to_fmpq(l) <= v <= to_fmpq(h) for v, l, h in zip(xq, lo, hi)):
                return False
        xcol = fmpq_mat(self.d, 1, xq)
        M, c = self.W[0], self.b[0]
        for l, pieces in enumerate(pattern):
            z = M * xcol + c
            bp = self.bp[l]
            mask = self.passthrough[l]
            for i, p in enumerate(pieces):
                p = int(p)
                if mask is not None and mask[i]:
                    if p != len(bp):
                        return False
                    continue
                zi = z[i, 0]
                lo_ok = p == 0 or zi > bp[p - 1]
                hi_ok = p == len(bp) or zi < bp[p]
                if lo_ok and hi_ok:
                    continue
                closed = (p == 0 or zi >= bp[p - 1]) and (p == len(bp) or zi <= bp[p])
                if not (closed and all(M[i, j] == 0 for j in range(M.ncols()))):
                    return False
            M, c = self._next(l, M, c, pieces)
        return True


# ----------------------------------------------------------------------------------------------
# norms
# ----------------------------------------------------------------------------------------------

def opnorm_ball(J: fmpq_mat, norm, prec: int = 128) -> arb:
    """Ball enclosing the induced operator norm ``||J||_{p->p}`` of an exact rational matrix.

    l1 and linf are computed exactly (a rational, returned as an exact or tightly rounded ball);
    l2 is the square root of the largest root of the characteristic polynomial of the smaller
    Gram matrix, isolated rigorously by Arb (``fmpq_poly.complex_roots``).
    """
    m, d = J.nrows(), J.ncols()
    with flint.ctx.workprec(prec):
        if norm == 1:
            return arb(max(sum((abs(J[i, j]) for i in range(m)), fmpq(0)) for j in range(d)))
        if norm == math.inf:
            return arb(max(sum((abs(J[i, j]) for j in range(d)), fmpq(0)) for i in range(m)))
        if m == 1 or d == 1:
            return arb(sum((J[i, j] ** 2 for i in range(m) for j in range(d)), fmpq(0))).sqrt()
        G = J * J.transpose() if m <= d else J.transpose() * J
        roots = [r.real for r, _ in G.charpoly().complex_roots()]
        # The Gram matrix is PSD, so every root is real and >= 0.  lambda_max lies below the largest
        # upper end of the root balls and above every lower end (it is >= every root).  The ends
        # are compared exactly in Arb: choosing "the" ball by float(upper) could pick the wrong one
        # of two balls whose ends round to the same float, and lose the largest eigenvalue.
        hi = roots[0].upper()
        lo = arb(0)
        for r in roots:
            if r.upper() > hi:
                hi = r.upper()
            if r.lower() > lo:
                lo = r.lower()
        return lo.union(hi).sqrt()


# ----------------------------------------------------------------------------------------------
# Farkas certificates of empty interiors
# ----------------------------------------------------------------------------------------------

def _nullspace(A: fmpq_mat) -> list[list[fmpq]]:
    """Exact basis of the right null space of ``A`` (list of vectors)."""
    R, rank = A.rref()
    n = A.ncols()
    pivots = []
    r = 0
    for j in range(n):
        if r < rank and R[r, j] != 0:
            pivots.append(j)
            r += 1
    free = [j for j in range(n) if j not in pivots]
    basis = []
    for f in free:
        v = [fmpq(0)] * n
        v[f] = fmpq(1)
        for row, pj in enumerate(pivots):
            v[pj] = -R[row, f]
        basis.append(v)
    return basis


def verify_empty_interior(rows, y_hint, support_tol: float = 1e-9) -> bool:
    """Exactly certify that the polyhedron ``{x : a_i . x <= r_i}`` has an empty interior.

    Certificate (Motzkin/Gordan): ``y >= 0``, ``y != 0``, ``sum_i y_i a_i = 0`` and
    ``sum_i y_i r_i <= 0`` over rows with ``a_i != 0``; then ``a_i . x < r_i`` for all ``i`` is
    impossible, and for nonzero rows the interior of the closed polyhedron is exactly that strict
    system.  Rows with ``a_i = 0`` are redundant when ``r_i >= 0`` and make the set empty when
    ``r_i < 0``.

    The float hint ``y_hint`` (e.g. LP duals) only selects the support; ``y`` itself is an exact
    null vector of the support's rows, fitted to the hint and then checked exactly.

    Parameters
    ----------
    rows : list of (list of fmpq, fmpq)
    y_hint : array_like of float, one per row

    Returns
    -------
    bool
        True only if the certificate checks in exact arithmetic.
    """
    y_hint = np.asarray(y_hint, dtype=np.float64)
    if len(rows) == 0 or y_hint.shape != (len(rows),):
        return False
    nonzero = []
    for i, (a, r) in enumerate(rows):
        if all(v == 0 for v in a):
            if r < 0:
                return True
        else:
            nonzero.append(i)
    y_hint = np.where(np.isfinite(y_hint), np.maximum(y_hint, 0.0), 0.0)
    ymax = float(np.max(y_hint[nonzero])) if nonzero else 0.0
    if ymax <= 0:
        return False
    for tol in (support_tol, 1e-6, 1e-12, 0.0):
        S = [i for i in nonzero if y_hint[i] > tol * ymax]
        if _check_support(rows, S, y_hint):
            return True
    return False


def _check_support(rows, S, y_hint) -> bool:
    if not S:
        return False
    d = len(rows[0][0])
    AT = fmpq_mat(d, len(S), [rows[i][0][j] for j in range(d) for i in S])
    basis = _nullspace(AT)
    if not basis:
        return False
    # coefficients z with N z ~ y_hint[S] (least squares in floats), then exact y = N z
    N = np.array([[float(v[k]) for v in basis] for k in range(len(S))])
    z, *_ = np.linalg.lstsq(N, y_hint[S], rcond=None)
    candidates = [z]
    if len(basis) == 1:
        candidates = [np.array([1.0]), np.array([-1.0])]
    for zc in candidates:
        zq = [to_fmpq(v) for v in zc]
        y = [sum((basis[k][i] * zq[k] for k in range(len(basis))), fmpq(0)) for i in range(len(S))]
        if any(v < 0 for v in y) or all(v == 0 for v in y):
            continue
        if sum((y[t] * rows[i][1] for t, i in enumerate(S)), fmpq(0)) <= 0:
            return True
    return False
