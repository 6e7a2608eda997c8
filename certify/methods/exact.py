"""Exact Lipschitz constants of piecewise-linear networks by branch and bound over activation patterns.

For a network whose activations are piecewise linear (ReLU, leaky ReLU, abs, hardtanh), the input
space splits into finitely many polyhedral *linear regions* on which the Jacobian is constant, and
on a box ``D`` (or on all of R^d) the Lipschitz constant in the induced p-norm is

.. math:: \\mathrm{Lip}_p(f; D) = \\max \\{ \\|J_R\\|_{p\\to p} : R \\text{ a region with }
          \\operatorname{int}(R \\cap D) \\ne \\emptyset \\},

(regions of measure zero do not matter: a continuous piecewise-linear function's constant is attained
on full-dimensional pieces).  :func:`exact_lipschitz` computes this maximum by a best-first branch
and bound and returns a rigorous enclosure ``[lower, upper]`` with ``upper - lower <= tol * upper``.

Search (floating point, heuristics only affect speed)
    Nodes are partial patterns: every neuron carries a range of pieces.  Layers are decided in
    order, so the current layer's pre-activations are affine on the node and splits are half-spaces.
    Neurons are fixed for free when a rigorous interval bound of their pre-activation over the box
    (for the node's fixed prefix) lies in one piece.  A node's bound is an outward-rounded interval
    Jacobian over all completions.  The neuron split is the one of the current layer whose slope
    uncertainty contributes most to the interval Jacobian.  Feasibility (non-empty interior) is
    decided by a Chebyshev-centre LP (HiGHS); a child that contains the parent's interior point
    needs no LP.

What is verified (see ``docs/methods/exact.md``)
    * pruning a node as empty: an exact rational Farkas certificate (:func:`regions.verify_empty_interior`);
      when the float LP says "empty" but the certificate fails, the node is kept;
    * node bounds: interval arithmetic with a priori rounding-error terms (the batched
      midpoint-radius kernels of :mod:`certify.arith.interval`, whose docstrings give the rounding arguments);
    * leaves: the region's Jacobian is computed in rationals and its norm enclosed by Arb;
    * the lower bound: a point verified in rationals to be interior to a region, and that region's
      Jacobian norm in ball arithmetic.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import math
import os
import sys
import time

import numpy as np
from flint import fmpq

from bounds.errors import ParameterError

from certify.methods.budget import budget_for
from certify.methods.certificate import (Witness, gap_closed, make_certificate, normalize_domain,
                                         normalize_norm, register_verifier)
from certify.arith.interval import (ABS_TINY, U, inflate_upper, midrad, midrad_affine_box,
                       midrad_affine_combine, midrad_matmul, midrad_scale_rows,
                       midrad_mul, opnorm_upper_midrad)
from certify.arith.regions import (ExactNet, arb_ceil, arb_floor, network_arrays, opnorm_ball, pl_spec,
                                   to_fmpq, verify_empty_interior)
from certify.model.groupsort import comparator_lowering

__all__ = ["exact_lipschitz", "ExactSearch"]

# ----------------------------------------------------------------------------------------------
# LP: Chebyshev-centre feasibility of a node's open region
# ----------------------------------------------------------------------------------------------

def _dual_proves_empty(A, Ar, r, rr, y, xm, xr) -> bool:
    """Rigorous weak-duality proof that ``{x in box : a_i . x <= r_i}`` is empty.

    For ``y >= 0``, every feasible ``x`` has ``sum_i y_i (a_i . x - r_i) <= 0``; if an
    outward-rounded lower bound of that sum over the box (``|x - xm| <= xr``) and over the row
    enclosures (``|a_i - A_i| <= Ar_i``, ``|r_i - r| <= rr_i``) is positive, there is no such ``x``.
    """
    y = np.maximum(y, 0.0)
    if not np.any(y > 0):
        return False
    g, gr = midrad_matmul(y[None, :], None, A, Ar)  # enclosure of sum_i y_i a_i
    g, gr = g[0], gr[0]
    v, vr = midrad_matmul(g[None, :], None, xm[:, None], None)
    v, vr = float(v[0, 0]), float(vr[0, 0])
    yr = float(y @ r)
    # every term of E is non-negative: rounding of v and y.r, the box and row/rhs radii
    E = (vr + float(np.abs(g) @ xr) + float(gr @ (np.abs(xm) + xr)) + float(y @ rr)
         + float(y @ np.abs(r)) * (len(r) + 2) * U)
    E = float(inflate_upper(np.array(E), len(r) + 2 * len(xm) + 4))
    lower = v - yr - E  # <= min over the box of sum_i y_i (a_i . x - r_i), up to this rounding
    return lower > 4 * U * (abs(v) + abs(yr) + E) + ABS_TINY


def _silent_highs(highspy):
    """A ``highspy.Highs()`` whose start-up banner does not reach stdout.

    HiGHS prints ``Running HiGHS ... Copyright`` from C++ when the first instance is constructed,
    before ``output_flag`` can be switched off; a user's stdout (a pipe, a REPL, the report) must
    carry results only.  So file descriptor 1 points to ``os.devnull`` for the constructor alone,
    with C's stdio buffer flushed before it is restored.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                h = highspy.Highs()
            finally:
                try:
                    ctypes.CDLL(None).fflush(None)
                except (OSError, AttributeError):  # no C runtime to flush (not POSIX)
                    pass
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


class _ChebyshevLP:
    """Chebyshev-centre LP ``max s : A x + ||A_i|| s <= r, x in box, s <= cap`` solved with HiGHS.

    One solver instance is reused for every node (creating a HiGHS object costs more than solving
    these small LPs).  Only the *float* answer comes from here; emptiness is certified elsewhere.
    """

    def __init__(self, d, box, cap=1.0):
        import highspy

        self.hs = highspy
        self.h = _silent_highs(highspy)
        self.d = d
        self.box = box
        inf = highspy.kHighsInf
        self.cost = np.r_[np.zeros(d), -1.0]
        if box is None:
            self.col_lo = np.r_[np.full(d, -inf), -inf]
            self.col_hi = np.r_[np.full(d, inf), cap]
        else:
            self.col_lo = np.r_[box[0], -inf]
            self.col_hi = np.r_[box[1], cap]

    def solve(self, A, r):
        """Returns ``(s, x, y)``: the margin (``-inf`` on failure), the centre and a Farkas hint.

        The hint has one non-negative weight per row of ``A`` followed by the ``2 d`` box rows
        ``x <= hi`` and ``-x <= -lo``; it is meaningful when ``s <= 0``.
        """
        hs, d = self.hs, self.d
        n = A.shape[0]
        lp = hs.HighsLp()
        lp.num_col_ = d + 1
        lp.num_row_ = n
        lp.col_cost_ = self.cost
        lp.col_lower_ = self.col_lo
        lp.col_upper_ = self.col_hi
        lp.row_lower_ = np.full(n, -hs.kHighsInf)
        lp.row_upper_ = np.asarray(r, dtype=np.float64)
        lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.arange(0, n * (d + 1) + 1, d + 1, dtype=np.int32)
        lp.a_matrix_.index_ = np.tile(np.arange(d + 1, dtype=np.int32), n)
        val = np.empty((n, d + 1))
        val[:, :d] = A
        val[:, d] = np.sqrt((A * A).sum(1))
        lp.a_matrix_.value_ = val.ravel()
        self.h.passModel(lp)
        self.h.run()
        if self.h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            return -math.inf, None, None
        sol = self.h.getSolution()
        xs = np.array(sol.col_value)
        y = np.maximum(-np.array(sol.row_dual), 0.0)
        yb = np.zeros(2 * d)
        if self.box is not None:
            cd = np.abs(np.array(sol.col_dual)[:d])
            x = xs[:d]
            at_hi = np.abs(x - self.box[1]) <= np.abs(x - self.box[0])
            yb[:d] = np.where(at_hi, cd, 0.0)
            yb[d:] = np.where(at_hi, 0.0, cd)
        return float(xs[d]), xs[:d], np.concatenate([y, yb])


# ----------------------------------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------------------------------

class _Node:
    __slots__ = ("nid", "ub", "k", "plo", "phi", "zlo", "zhi", "M", "Mr", "c", "cr", "A", "r", "split",
                 "keys", "x", "fresh", "leaf", "ball", "checked", "refined", "Ar", "rr")

    def __lt__(self, other):  # heap ties
        return id(self) < id(other)


class ExactSearch:
    """State of one exact branch and bound (use :func:`exact_lipschitz`).

    Parameters
    ----------
    weights, biases, specs
        As returned by :func:`certify.arith.regions.network_arrays`.
    norm : {1, 2, math.inf}
    box : None or (lo, hi) float arrays
    tol : float
        Relative gap at which the search stops.
    passthrough : list of (bool array or None), optional
        Per hidden layer, the neurons of a ReLU layer that are identity pass-throughs (GroupSort
        networks lowered by :func:`certify.model.groupsort.comparator_lowering`): they are pinned to
        the slope-1 piece and carry no region constraint.
    """

    def __init__(self, weights, biases, specs, norm, box, tol=1e-9, enum_budget=256,
                 symbolic=True, passthrough=None):
        self.W = [np.ascontiguousarray(w) for w in weights]
        self.b = [np.asarray(v) for v in biases]
        self.specs = specs
        self.p = norm
        self.box = box
        self.tol = tol
        self.nh = len(specs)
        self.d = self.W[0].shape[1]
        self.pt = list(passthrough) if passthrough is not None else [None] * self.nh
        for l, m in enumerate(self.pt):
            if m is not None and (specs[l].slopes[-1], specs[l].intercepts[-1]) != (1.0, 0.0):
                raise ParameterError("passthrough", l, "masks on layers whose last piece is the identity")
        self.exact = ExactNet(weights, biases, specs, passthrough=self.pt)
        self.bps = [np.asarray(s.breakpoints, dtype=np.float64) for s in specs]
        self.slopes = [np.asarray(s.slopes, dtype=np.float64) for s in specs]
        self.icpts = [np.asarray(s.intercepts, dtype=np.float64) for s in specs]
        self._slope_tables()
        self.lp = _ChebyshevLP(self.d, box)
        self.enum_budget = int(enum_budget)
        self._combo_cache = {}
        self.symbolic = symbolic
        self.convex = [bool(np.all(np.diff(sl) >= 0)) for sl in self.slopes]
        self.stats = dict(nodes=0, lps=0, farkas_ok=0, farkas_failed=0, dual_empty=0,
                          leaves=0, witness_checks=0, witness_rejected=0, pruned_by_bound=0)
        self.lower = 0.0
        self.lower_ball = None
        self.witness = None
        self.unresolved = []  # (ub, reason) of leaves whose upper bound stays in the result
        self.closed_max = 0.0
        self.heap = []
        # the proof: node id -> (layer, neuron, child ids) of every split, and the LP multipliers
        # that proved a node empty; :meth:`replay` re-checks the upper bound from these alone
        self.tree = {}
        self.empty = {}
        self.next_id = 1
        # Two-layer fast path: globally, if W_1 has full row rank (decided exactly), every
        # pattern of the single hidden layer is realised, so no LP is ever needed.
        self.all_feasible = (box is None and self.nh == 1 and self.pt[0] is None and self.W[0].shape[0] <= self.d
                             and self.exact.W[0].rank() == self.W[0].shape[0])
        if box is not None:
            self.xm, self.xr = midrad(box[0], box[1])

    # ------------------------------------------------------------------ tables
    def _slope_tables(self):
        self.smid, self.srad, self.sabs = [], [], []
        for s in self.slopes:
            k = len(s)
            lo = np.array([[s[a:b + 1].min() if b >= a else 0 for b in range(k)] for a in range(k)])
            hi = np.array([[s[a:b + 1].max() if b >= a else 0 for b in range(k)] for a in range(k)])
            m, r = midrad(lo, hi)
            self.smid.append(m)
            self.srad.append(r)
            self.sabs.append(np.maximum(np.abs(lo), np.abs(hi)))

    def _pieces_of(self, l, zlo, zhi):
        """Piece ranges whose open pieces meet ``[zlo, zhi]`` (at least one piece)."""
        bp = self.bps[l]
        plo = np.searchsorted(bp, zlo, side="right")
        phi = np.searchsorted(bp, zhi, side="left")
        # [t, t] meets no open piece: the pre-activation is constant there, any piece is exact
        return np.minimum(plo, phi), np.maximum(plo, phi)

    def _pin(self, l, plo, phi):
        """Pass-through neurons of layer ``l`` always sit on the last (identity) piece."""
        m = self.pt[l]
        if m is None:
            return plo, phi
        top = len(self.slopes[l]) - 1
        return np.where(m, top, plo), (None if phi is None else np.where(m, top, phi))

    def _act_interval(self, l, zlo, zhi):
        """Rigorous image of ``[zlo, zhi]`` under the activation of hidden layer ``l``."""
        if self.pt[l] is not None:
            lo, hi = self._act_interval_pl(l, zlo, zhi)
            m = self.pt[l]
            return np.where(m, zlo, lo), np.where(m, zhi, hi)
        return self._act_interval_pl(l, zlo, zhi)

    def _act_interval_pl(self, l, zlo, zhi):
        s, c, bp = self.slopes[l], self.icpts[l], self.bps[l]
        pl = np.searchsorted(bp, zlo, side="right")
        ph = np.searchsorted(bp, zhi, side="left")
        vlo = s[np.minimum(pl, len(s) - 1)] * zlo + c[np.minimum(pl, len(s) - 1)]
        vhi = s[np.minimum(ph, len(s) - 1)] * zhi + c[np.minimum(ph, len(s) - 1)]
        lo, hi = np.minimum(vlo, vhi), np.maximum(vlo, vhi)
        for j, t in enumerate(bp):  # breakpoints inside the interval
            inside = (zlo < t) & (t < zhi)
            if inside.any():
                vt = s[j] * t + c[j]
                lo = np.where(inside, np.minimum(lo, vt), lo)
                hi = np.where(inside, np.maximum(hi, vt), hi)
        return np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)

    def _forward_bounds(self, l, zlo, zhi, node):
        """Propagate rigorous bounds from hidden layer ``l`` to the deeper layers, narrowing ranges."""
        for m in range(l, self.nh - 1):
            hlo, hhi = self._act_interval(m, zlo, zhi)
            hm, hr = midrad(hlo, hhi)
            zlo, zhi = midrad_affine_box(self.W[m + 1], None, self.b[m + 1], None, hm, hr)
            self._narrow(node, m + 1, zlo, zhi)
            zlo, zhi = node.zlo[m + 1], node.zhi[m + 1]

    def _symbolic_bounds(self, node):
        """Linear-relaxation (symbolic interval) bounds for the layers after the current one.

        The current layer's pre-activation is exactly affine in ``x``.  Each later pre-activation is
        kept between two affine functions of ``x`` (with rigorous radii): stable neurons pass their
        piece exactly; unstable neurons of a convex activation (relu, leaky relu, abs) are bounded
        above by the chord over their bounds and below by one of their pieces (a convex piecewise-
        linear function lies above each of its pieces); other unstable neurons get constant bounds.
        The affine bounds are evaluated over the box to narrow the later layers' ranges.
        """
        k = node.k
        lo_f = hi_f = (node.M, node.Mr, node.c, node.cr)  # z_k is exactly affine
        for l in range(k, self.nh - 1):
            zl, zu = node.zlo[l], node.zhi[l]
            pl, ph = node.plo[l], node.phi[l]
            s, e = self.slopes[l], self.icpts[l]
            n = zl.shape[0]
            # per neuron: h >= aL * (lower or upper function) + bL, h <= aU * (...) + bU
            aL = s[pl].copy()
            bL = e[pl].copy()
            aU = s[pl].copy()
            bU = e[pl].copy()
            rL = np.zeros(n)  # radius on the intercepts
            rU = np.zeros(n)
            und = pl != ph
            if und.any():
                if self.convex[l]:
                    u_side = (zu - self._bp_mid(l, pl)) >= (self._bp_mid(l, pl) - zl)
                    j = np.where(u_side, ph, pl)
                    aL[und], bL[und] = s[j[und]], e[j[und]]
                    vl_hi = self._act_interval(l, zl, zl)[1]
                    vu_hi = self._act_interval(l, zu, zu)[1]
                    width = zu - zl
                    a = np.where(width > 0, (vu_hi - vl_hi) / np.where(width > 0, width, 1.0), 0.0)
                    p1, p2 = a * zl, a * zu
                    t1 = np.nextafter(vl_hi - p1, np.inf) + 2 * np.abs(p1) * U
                    t2 = np.nextafter(vu_hi - p2, np.inf) + 2 * np.abs(p2) * U
                    aU[und] = a[und]
                    bU[und] = np.nextafter(np.maximum(t1, t2), np.inf)[und]
                else:
                    hlo, hhi = self._act_interval(l, zl, zu)
                    aL[und], bL[und] = 0.0, hlo[und]
                    aU[und], bU[und] = 0.0, hhi[und]
            HL = self._scaled_rows(aL, bL, rL, lo_f, hi_f)
            HU = self._scaled_rows(aU, bU, rU, hi_f, lo_f)
            Wp = np.maximum(self.W[l + 1], 0.0)
            Wn = np.minimum(self.W[l + 1], 0.0)
            lo_f = self._combine(Wp, HL, Wn, HU, self.b[l + 1])
            hi_f = self._combine(Wp, HU, Wn, HL, self.b[l + 1])
            zlo = midrad_affine_box(*lo_f, self.xm, self.xr)[0]
            zhi = midrad_affine_box(*hi_f, self.xm, self.xr)[1]
            self._narrow(node, l + 1, zlo, zhi)

    def _bp_mid(self, l, pl):
        bp = self.bps[l]
        return bp[np.minimum(pl, len(bp) - 1)] if bp.size else np.zeros_like(pl, dtype=float)

    # shared with the interval branch and bound (certify.arith.interval)
    _scaled_rows = staticmethod(midrad_scale_rows)
    _combine = staticmethod(midrad_affine_combine)

    def _narrow(self, node, l, zlo, zhi):
        zlo = np.maximum(zlo, node.zlo[l])
        zhi = np.minimum(zhi, node.zhi[l])
        bad = zlo > zhi  # only when the region misses the box; keep the old (valid) bounds then
        zlo = np.where(bad, node.zlo[l], zlo)
        zhi = np.where(bad, node.zhi[l], zhi)
        plo, phi = self._pieces_of(l, zlo, zhi)
        nlo = np.maximum(plo, node.plo[l])
        nhi = np.minimum(phi, node.phi[l])
        conflict = nlo > nhi  # constant pre-activation on a breakpoint: keep a valid range
        nlo = np.where(conflict, np.minimum(plo, node.plo[l]), nlo)
        nhi = np.where(conflict, np.maximum(phi, node.phi[l]), nhi)
        nlo, nhi = self._pin(l, nlo, nhi)
        node.zlo = list(node.zlo)
        node.zhi = list(node.zhi)
        node.plo = list(node.plo)
        node.phi = list(node.phi)
        node.zlo[l], node.zhi[l], node.plo[l], node.phi[l] = zlo, zhi, nlo, nhi

    # ------------------------------------------------------------------ nodes
    def root(self):
        node = _Node()
        node.nid = 0
        node.k = 0
        node.M, node.Mr, node.c, node.cr = self.W[0], None, self.b[0], None
        node.A = np.zeros((0, self.d))
        node.r = np.zeros(0)
        node.Ar = np.zeros((0, self.d))
        node.rr = np.zeros(0)
        node.split = {}
        node.ball = None
        node.checked = False
        node.plo = [np.zeros(len(b), dtype=np.int64) for b in self.b[:-1]]
        node.phi = [np.full(len(b), len(s) - 1, dtype=np.int64) for b, s in zip(self.b, self.slopes)]
        for l in range(self.nh):
            node.plo[l], node.phi[l] = self._pin(l, node.plo[l], node.phi[l])
        node.zlo = [np.full(len(b), -np.inf) for b in self.b[:-1]]
        node.zhi = [np.full(len(b), np.inf) for b in self.b[:-1]]
        node.x = self.xm.copy() if self.box is not None else np.zeros(self.d)
        node.leaf = self.nh == 0
        node.keys = []
        node.fresh = True
        if self.nh > 0 and self.box is not None:
            zlo, zhi = midrad_affine_box(self.W[0], None, self.b[0], None, self.xm, self.xr)
            self._narrow(node, 0, zlo, zhi)
            self._forward_bounds(0, node.zlo[0], node.zhi[0], node)
            if self.symbolic:
                self._symbolic_bounds(node)
        self._advance(node)
        return node

    def _advance(self, node):
        """Move past fully decided layers, computing the next affine map and rigorous bounds."""
        while not node.leaf and np.all(node.plo[node.k] == node.phi[node.k]):
            k = node.k
            if k == self.nh - 1:
                node.leaf = True
                break
            pcs = node.plo[k]
            s, e = self.slopes[k][pcs], self.icpts[k][pcs]
            DM, DMr = midrad_mul(node.M.T, None if node.Mr is None else node.Mr.T, s, 0.0)
            M, Mr = midrad_matmul(self.W[k + 1], None, DM.T, DMr.T)
            h = s * node.c + e
            hr = inflate_upper((np.abs(s * node.c) + np.abs(h)) * U
                          + (0.0 if node.cr is None else np.abs(s) * node.cr), 2)
            c, cr = midrad_matmul(self.W[k + 1], None, h[:, None], hr[:, None])
            c = c[:, 0] + self.b[k + 1]
            cr = inflate_upper(cr[:, 0] + np.abs(c) * U, 2)
            node.M, node.Mr, node.c, node.cr = M, Mr, c, cr
            node.k = k + 1
            if self.box is not None:
                zlo, zhi = midrad_affine_box(M, Mr, c, cr, self.xm, self.xr)
                self._narrow(node, k + 1, zlo, zhi)
                self._forward_bounds(k + 1, node.zlo[k + 1], node.zhi[k + 1], node)
                if self.symbolic:
                    self._symbolic_bounds(node)

    def _backward(self, node):
        """Interval enclosure of ``W_L D_{L-1} ... W_{k+1}`` (the part above the current layer)."""
        G, Gr = self.W[-1], None
        for l in range(self.nh - 1, node.k, -1):
            sm = self.smid[l][node.plo[l], node.phi[l]]
            sr = self.srad[l][node.plo[l], node.phi[l]]
            G, Gr = midrad_mul(G, Gr, sm, sr)
            G, Gr = midrad_matmul(G, Gr, self.W[l], None)
        return G, Gr

    def _jacobian_enclosure(self, node):
        if self.nh == 0:
            return self.W[0], np.zeros_like(self.W[0])
        G, Gr = self._backward(node)
        k = node.k
        sm = self.smid[k][node.plo[k], node.phi[k]]
        sr = self.srad[k][node.plo[k], node.phi[k]]
        G, Gr = midrad_mul(G, Gr, sm, sr)
        return midrad_matmul(G, Gr, node.M, node.Mr)

    def _bound(self, node):
        J, Jr = self._jacobian_enclosure(node)
        node.ub = opnorm_upper_midrad(J, Jr, self.p)
        node.refined = self.enum_budget <= 1 or node.leaf
        return J, Jr

    def _combos(self, sizes):
        """All index tuples of a product of ranges ``0..q-1`` (cached by the sizes)."""
        C = self._combo_cache.get(sizes)
        if C is None:
            C = np.array(list(itertools.product(*[range(q) for q in sizes])),
                         dtype=np.int64).reshape(-1, len(sizes))
            self._combo_cache[sizes] = C
        return C

    def _enum_bound(self, node):
        """Bound over completions that enumerates the most influential undecided neurons.

        The neurons whose slope uncertainty contributes most to the interval Jacobian get every
        piece in turn (at most ``enum_budget`` combinations, evaluated as one batch); the others keep
        their slope intervals.  The maximum over the batch of rigorous norm bounds is a bound over
        all completions, much tighter than a single interval Jacobian.
        """
        k, nh = node.k, self.nh
        back = {}
        G, Gr = self.W[-1], None
        for l in range(nh - 1, k - 1, -1):
            back[l] = (G, Gr)
            if l > k:
                G, Gr = midrad_mul(G, Gr, self.smid[l][node.plo[l], node.phi[l]],
                                    self.srad[l][node.plo[l], node.phi[l]])
                G, Gr = midrad_matmul(G, Gr, self.W[l], None)
        cand = []
        P = np.abs(node.M) if node.Mr is None else np.abs(node.M) + node.Mr
        for l in range(k, nh):
            und = np.flatnonzero(node.plo[l] != node.phi[l])
            if und.size:
                G, Gr = back[l]
                col = np.abs(G[:, und]).sum(0) if Gr is None else (np.abs(G[:, und]) + Gr[:, und]).sum(0)
                score = self.srad[l][node.plo[l][und], node.phi[l][und]] * col * P[und].sum(1)
                cand.extend(zip(score.tolist(), [l] * und.size, und.tolist()))
            if l < nh - 1:
                P = np.abs(self.W[l + 1]) @ (self.sabs[l][node.plo[l], node.phi[l]][:, None] * P)
        cand.sort(reverse=True)
        # cap the batch by arithmetic, not only by count: wide layers make every combination dearer
        m = self.W[-1].shape[0]
        per = m * (sum(self.W[l].size for l in range(k + 1, nh)) + node.M.size)
        budget = min(self.enum_budget, max(16, 1 << int(math.log2(max(1.0, 3e5 / per)))))
        chosen, size = [], 1
        for _, l, i in cand:
            q = int(node.phi[l][i] - node.plo[l][i] + 1)
            if size * q > budget:
                continue
            chosen.append((l, i))
            size *= q
        if not chosen:
            return math.inf
        C = self._combos(tuple(int(node.phi[l][i] - node.plo[l][i] + 1) for l, i in chosen))
        C = C + np.array([node.plo[l][i] for l, i in chosen], dtype=np.int64)
        Bn = C.shape[0]
        sm, sr = {}, {}
        for l in range(k, nh):
            sm[l] = np.repeat(self.smid[l][node.plo[l], node.phi[l]][None, :], Bn, 0)
            sr[l] = np.repeat(self.srad[l][node.plo[l], node.phi[l]][None, :], Bn, 0)
        for e, (l, i) in enumerate(chosen):
            sm[l][:, i] = self.slopes[l][C[:, e]]
            sr[l][:, i] = 0.0
        G, Gr = self.W[-1][None, :, :], None
        for l in range(nh - 1, k, -1):
            G, Gr = midrad_mul(G, Gr, sm[l][:, None, :], sr[l][:, None, :])
            G, Gr = midrad_matmul(G, Gr, self.W[l], None)
        G, Gr = midrad_mul(G, Gr, sm[k][:, None, :], sr[k][:, None, :])
        J, Jr = midrad_matmul(G, Gr, node.M, node.Mr)
        if self.all_feasible and len(chosen) == len(cand):
            # every completion is a realised region: the best one is a witness candidate
            if self.p == 2:
                vals = np.linalg.norm(J, 2, axis=(1, 2))
            else:
                vals = np.abs(J).sum(2 if self.p == math.inf else 1).max(1)
            best = int(np.argmax(vals))
            pattern = [node.plo[l].copy() for l in range(nh)]
            for e, (l, i) in enumerate(chosen):
                pattern[l][i] = C[best, e]
            if vals[best] > self.lower * (1 + 1e-13):
                self._try_witness(self._point_for(pattern), pattern)
        return opnorm_upper_midrad(J, Jr, self.p, self.lower)

    # ------------------------------------------------------------------ witnesses
    def _float_pattern(self, x):
        pattern, h = [], x
        for l in range(self.nh):
            z = self.W[l] @ h + self.b[l]
            pc = self._pin(l, np.searchsorted(self.bps[l], z, side="right"), None)[0]
            pattern.append(pc)
            h = self.slopes[l][pc] * z + self.icpts[l][pc]
        return pattern

    def _float_jac(self, pattern):
        J = self.W[0]
        for l in range(self.nh):
            J = self.W[l + 1] @ (self.slopes[l][pattern[l]][:, None] * J)
        return J

    def _float_norm(self, J):
        if self.p == 2:
            return float(np.linalg.norm(J, 2))
        return float(np.linalg.norm(J, 1 if self.p == 1 else np.inf))

    def _try_witness(self, x, pattern=None, force=False):
        """Verify ``x`` as an interior point of its region and raise the lower bound if it helps."""
        if x is None:
            return False
        if self.box is not None:
            x = np.clip(x, self.box[0], self.box[1])
        if pattern is None:
            pattern = self._float_pattern(x)
        val = self._float_norm(self._float_jac(pattern))
        if not force and val <= self.lower * (1 + 1e-13):
            return False
        self.stats["witness_checks"] += 1
        if not self.exact.strictly_inside(x, pattern, self.box):
            self.stats["witness_rejected"] += 1
            return False
        ball = opnorm_ball(self.exact.jacobian(pattern), self.p)
        lo = arb_floor(ball)
        if lo > self.lower:
            self.lower, self.lower_ball = lo, ball
            self.witness = (np.array(x, dtype=np.float64), [np.array(q) for q in pattern])
            return True
        return False

    # ------------------------------------------------------------------ feasibility
    def _farkas_rows(self, node):
        neurons = [(l, i, node.plo[l][i], node.phi[l][i]) for (l, i) in node.split]
        rows = self.exact.constraint_rows(node.plo, neurons)
        # the same order as the LP rows: one or two rows per split neuron -> rebuild the hint map
        if self.box is not None:
            d = self.d
            for j in range(d):
                e = [fmpq(0)] * d
                e[j] = fmpq(1)
                rows.append((e, to_fmpq(self.box[1][j])))
            for j in range(d):
                e = [fmpq(0)] * d
                e[j] = fmpq(-1)
                rows.append((e, -to_fmpq(self.box[0][j])))
        return rows

    def _feasible(self, node):
        """Decide a child's interior: True (point found), False (certified empty), None (unknown)."""
        node.fresh = False
        if node.A.shape[0] == 0:
            return True
        if node.x is not None:
            row = node.A[-1] @ node.x - node.r[-1]
            if row < -1e-9 * (1.0 + np.abs(node.A[-1]).sum() * np.abs(node.x).max() + abs(node.r[-1])):
                return True
        if self.all_feasible:
            node.x = None
            return True
        self.stats["lps"] += 1
        s, x, y = self.lp.solve(node.A, node.r)
        scale = 1.0 if self.box is None else 2 * float(np.max(self.box[1] / 2 - self.box[0] / 2))
        if s > 1e-10 * scale:
            node.x = x
            node.fresh = True
            return True
        node.x = None
        if y is None:  # HiGHS failed or found the LP infeasible (a zero row with negative rhs)
            y = np.ones(len(node.r) + 2 * self.d)
        if self._proves_empty(node, y):
            self.empty[node.nid] = y
            return False
        return None

    def _proves_empty(self, node, y):
        """Rigorous emptiness of a node's open region from LP multipliers ``y`` (dual or Farkas)."""
        if self.box is not None and _dual_proves_empty(node.A, node.Ar, node.r, node.rr,
                                                       y[:len(node.r)], self.xm, self.xr):
            self.stats["dual_empty"] += 1
            return True
        return self._certify_empty(node, y)

    def _certify_empty(self, node, y):
        # map LP row duals (rows in creation order) onto the exact rows (grouped per neuron)
        rows = self._farkas_rows(node)
        hint = np.zeros(len(rows))
        pos = {}
        t = 0
        for (l, i) in node.split:
            lo, hi = node.plo[l][i], node.phi[l][i]
            if lo > 0:
                pos[(l, i, "ge")] = t
                t += 1
            if hi < len(self.bps[l]):
                pos[(l, i, "le")] = t
                t += 1
        for j, key in enumerate(node.keys):
            if key in pos:
                hint[pos[key]] += y[j]
        hint[t:] = y[len(node.r):] if self.box is not None else 0.0
        ok = verify_empty_interior(rows, hint)
        self.stats["farkas_ok" if ok else "farkas_failed"] += 1
        return ok

    # ------------------------------------------------------------------ branching
    def _children(self, node):
        k = node.k
        und = np.flatnonzero(node.plo[k] != node.phi[k])
        G, Gr = self._backward(node)
        width = self.srad[k][node.plo[k][und], node.phi[k][und]]
        col = (np.abs(G[:, und]) + (0.0 if Gr is None else Gr[:, und])).sum(0)
        row = np.abs(node.M[und]).sum(1)
        i = int(und[np.argmax(width * col * row)])
        out = self._split(node, i)
        self.tree[node.nid] = (k, i, tuple(ch.nid for ch in out))
        return out

    def _split(self, node, i):
        """The two children of ``node`` split at the middle breakpoint of neuron ``i`` of its layer."""
        k = node.k
        lo, hi = int(node.plo[k][i]), int(node.phi[k][i])
        mid = (lo + hi) // 2
        t = self.bps[k][mid]
        out = []
        for side, (a, b) in (("le", (lo, mid)), ("ge", (mid + 1, hi))):
            ch = _Node()
            ch.k = k
            ch.M, ch.Mr, ch.c, ch.cr = node.M, node.Mr, node.c, node.cr
            ch.plo, ch.phi = list(node.plo), list(node.phi)
            ch.plo[k] = node.plo[k].copy()
            ch.phi[k] = node.phi[k].copy()
            ch.plo[k][i], ch.phi[k][i] = a, b
            ch.zlo, ch.zhi = node.zlo, node.zhi
            arow = node.M[i] if side == "le" else -node.M[i]
            rhs = (t - node.c[i]) if side == "le" else (node.c[i] - t)
            ch.A = np.vstack([node.A, arow[None, :]])
            ch.r = np.r_[node.r, rhs]
            # radii of the float row and right-hand side around the exact ones
            ch.Ar = np.vstack([node.Ar, np.zeros((1, self.d)) if node.Mr is None else node.Mr[i:i + 1]])
            ch.rr = np.r_[node.rr, inflate_upper(abs(rhs) * U + (0.0 if node.cr is None else node.cr[i]), 2)]
            ch.keys = node.keys + [(k, i, side)]
            ch.split = dict(node.split)
            ch.split[(k, i)] = True
            ch.x = node.x
            ch.leaf = False
            ch.ball = None
            ch.checked = False
            ch.nid = self.next_id
            self.next_id += 1
            out.append(ch)
        return out

    # ------------------------------------------------------------------ main loop
    def global_upper(self):
        top = -self.heap[0][0] if self.heap else 0.0
        unres = max((u for u, _ in self.unresolved), default=0.0)
        return max(top, unres, self.closed_max, self.lower)

    def _push(self, node):
        if node.ub <= self.lower:
            self.stats["pruned_by_bound"] += 1
            self.closed_max = max(self.closed_max, self.lower)
            return
        heapq.heappush(self.heap, (-node.ub, node))

    def _new_node(self, node):
        """Feasibility, advancing, bounding and witnessing of a freshly created node."""
        feas = self._feasible(node)
        if feas is False:
            return None
        self._advance(node)
        self._bound(node)
        if feas is True and node.x is not None and node.fresh:
            self._try_witness(node.x)
        return node

    def _close_leaf(self, node):
        """Exact treatment of a leaf popped from the queue."""
        pattern = node.plo
        if node.ball is None:
            self.stats["leaves"] += 1
            node.ball = opnorm_ball(self.exact.jacobian(pattern), self.p)
            node.ub = min(node.ub, arb_ceil(node.ball))
            ok = False
            if node.x is None and self.all_feasible:
                node.x = self._point_for(pattern)
            if node.x is not None:
                ok = self._leaf_witness(node)
            node.checked = ok
            if ok or node.ub > self.lower:
                heapq.heappush(self.heap, (-node.ub, node))
            return
        if node.checked:
            self.closed_max = max(self.closed_max, node.ub)
        else:
            reason = "no verified interior point" if node.x is not None else "emptiness not certified"
            self.unresolved.append((node.ub, reason))

    def _point_for(self, pattern):
        """A point mapped by a full-row-rank first layer to the middle of the pattern's pieces."""
        bp = self.bps[0]
        ext = np.r_[bp[0] - 2.0, bp, bp[-1] + 2.0] if bp.size else np.array([-1.0, 1.0])
        pc = np.asarray(pattern[0])
        target = 0.5 * (ext[pc] + ext[pc + 1])
        x, *_ = np.linalg.lstsq(self.W[0], target - self.b[0], rcond=None)
        return x

    def _leaf_witness(self, node):
        pattern = node.plo
        if self.exact.strictly_inside(np.clip(node.x, *self.box) if self.box is not None else node.x,
                                      pattern, self.box):
            self._try_witness(node.x, pattern, force=True)
            return True
        rng = np.random.default_rng(0)
        for _ in range(4):
            x = node.x + rng.normal(size=self.d) * 1e-9 * (1 + np.abs(node.x).max())
            if self.box is not None:
                x = np.clip(x, *self.box)
            if self.exact.strictly_inside(x, pattern, self.box):
                node.x = x
                self._try_witness(x, pattern, force=True)
                return True
        return False

    def replay(self, tree, empty, upper, budget=None):
        """Re-check ``upper`` from a recorded search tree; returns ``(ok, message)``.

        Every node is rebuilt from the root by the recorded splits (the two children of a split
        partition the parent's completions, so the terminal nodes cover every activation
        pattern); each terminal node must be proved empty by its recorded multipliers or have a
        rigorous bound ``<= upper``: its interval Jacobian bound, else its enumeration bound, else,
        for a leaf, the Arb enclosure of its exact Jacobian's norm.
        """
        budget = budget_for(None) if budget is None else budget
        upper = float(upper)
        self.lower = upper  # no witness search during a replay (bounds below upper suffice)
        root = self.root()
        self._bound(root)
        stack, checked, worst = [root], 0, 0.0
        while stack:
            if budget.stop_reason():
                return False, f"replay stopped ({budget.stop_reason()}) after {checked} nodes"
            node = stack.pop()
            checked += 1
            if node.nid in tree:
                k, i, ids = tree[node.nid]
                if node.leaf or k != node.k or node.plo[k][i] == node.phi[k][i]:
                    return False, f"node {node.nid}: recorded split ({k}, {i}) does not apply"
                children = self._split(node, i)
                for ch, cid in zip(children, ids):
                    ch.nid = cid
                    self._advance(ch)
                    self._bound(ch)
                stack.extend(children)
                continue
            if node.nid in empty and self._proves_empty(node, np.asarray(empty[node.nid])):
                continue
            b = node.ub
            if b > upper and not node.leaf:
                b = min(b, self._enum_bound(node))
            if b > upper and node.leaf:
                b = min(b, arb_ceil(opnorm_ball(self.exact.jacobian(node.plo), self.p)))
            if not b <= upper:
                return False, (f"terminal node {node.nid} has bound {float(b)!r} > upper {upper!r} "
                               f"({checked} nodes replayed)")
            worst = max(worst, float(b))
        return True, (f"replayed {checked} nodes ({len(tree)} splits, {len(empty)} proved empty); "
                      f"largest terminal bound {worst!r} <= upper {upper!r}")

    def run(self, time_limit=None, node_limit=None, budget=None):
        """Search until the gap closes or a limit is hit; returns the status string."""
        budget = budget_for(time_limit) if budget is None else budget
        root = self.root()
        self._bound(root)
        self._try_witness(root.x)
        self.heap = []
        heapq.heappush(self.heap, (-root.ub, root))
        self.stats["nodes"] = 1
        while self.heap:
            gub = self.global_upper()
            if gap_closed(self.lower, gub, self.tol):
                return "converged"
            budget.update(self.stats["nodes"], self.lower, gub)
            if budget.stop_reason():
                return budget.stop_reason()
            if node_limit is not None and self.stats["nodes"] >= node_limit:
                return "node_limit"
            _, node = heapq.heappop(self.heap)
            if node.ub <= self.lower:
                self.closed_max = max(self.closed_max, self.lower)
                continue
            if node.leaf:
                self._close_leaf(node)
                continue
            if not node.refined:  # lazy: the expensive bound only for nodes that reach the top
                node.refined = True
                node.ub = min(node.ub, self._enum_bound(node))
                self._push(node)
                continue
            for ch in self._children(node):
                self.stats["nodes"] += 1
                ch = self._new_node(ch)
                if ch is not None:
                    self._push(ch)
        gub = self.global_upper()
        return "converged" if gap_closed(self.lower, gub, self.tol) else "exhausted"


def _search_arrays(net):
    """Weights, biases, :class:`PLSpec` and pass-through masks of the network the search runs on.

    GroupSort layers are replaced by their comparator networks (same function, exactly); the
    search's regions are then orderings of the blocks, split one comparison at a time.
    """
    if all(getattr(a, "elementwise", True) for a in getattr(net, "activations", ())):
        return (*network_arrays(net), None)
    ws, bs, acts, masks, _ = comparator_lowering(net)
    return ws, bs, [pl_spec(a) for a in acts], masks


def exact_lipschitz(net, norm=2, domain=None, tol=1e-9, time_limit=None, node_limit=None,
                    **options):
    """Exact Lipschitz constant of a piecewise-linear network, as a rigorous enclosure.

    Parameters
    ----------
    net : certify.Network
        Hidden activations must be piecewise linear (relu, leaky_relu, abs, hardtanh, identity,
        groupsort:G).  A GroupSort layer is searched through its comparator network
        (:func:`certify.model.groupsort.comparator_lowering`): a split is one comparison
        ``z_i <= z_j`` inside a block, a leaf one ordering of every block.
    norm : {1, 2, numpy.inf, "l1", "l2", "linf"}
        Same p-norm on inputs and outputs (operator norm of the Jacobian).
    domain : None or (lo, hi)
        Box with ``lo < hi`` in every coordinate, or ``None`` for all of R^d.
    tol : float
        Stop when ``upper - lower <= tol * upper``.
    time_limit, node_limit : float, int, optional
        Anytime limits: the enclosure reached so far is returned (``status`` says which limit).
    **options
        ``enum_budget`` (int, default 256): how many slope combinations of the most influential
        undecided neurons a node's bound enumerates (1 turns it off: plain interval Jacobian).
        ``symbolic`` (bool, default True): linear-relaxation bounds for the later layers' pre-
        activations (False: plain interval propagation, as LipBaB).
        ``incumbent`` (float): a rigorous lower bound known beforehand (prunes nodes below it;
        the returned ``lower`` is only this run's own witness).

    Returns
    -------
    certify.methods.certificate.Certificate
        ``method="exact"``; ``details`` holds the search statistics.
    """
    t0 = time.perf_counter()
    p = normalize_norm(norm)
    ws, bs, specs, passthrough = _search_arrays(net)
    d = ws[0].shape[1]
    box = normalize_domain(domain, d)
    if box is not None and np.any(box[0] >= box[1]):
        raise ParameterError("domain", domain, "a box with lo < hi in every coordinate",
                             "a flat box has no interior; fix those inputs in the network instead")
    if not (isinstance(tol, (int, float)) and tol >= 0 and math.isfinite(tol)):
        raise ParameterError("tol", tol, "a finite number >= 0")
    unknown = sorted(set(options) - {"enum_budget", "symbolic", "incumbent"})
    if unknown:
        raise ParameterError(unknown[0], options[unknown[0]],
                             "the options enum_budget, symbolic, incumbent", "unknown keyword")
    incumbent = options.get("incumbent")
    if incumbent is not None and not (isinstance(incumbent, (int, float)) and 0 <= incumbent < math.inf):
        raise ParameterError("incumbent", incumbent, "a finite number >= 0 (a rigorous lower bound)")
    symbolic = options.get("symbolic", True)
    if not isinstance(symbolic, (bool, np.bool_)):
        raise ParameterError("symbolic", symbolic, "True or False")
    budget = options.get("enum_budget", 256)
    if not (isinstance(budget, (int, np.integer)) and budget >= 1):
        raise ParameterError("enum_budget", budget, "an integer >= 1")
    search = ExactSearch(ws, bs, specs, p, box, tol=tol, enum_budget=int(budget),
                         symbolic=bool(symbolic), passthrough=passthrough)
    if incumbent:
        # A rigorous lower bound found elsewhere (method="auto" passes its best witness): nodes
        # whose bound is below it are pruned; global_upper() keeps it as a floor, so pruning
        # cannot lower the upper end below the true constant.
        search.lower = float(incumbent)
    status = search.run(time_limit=time_limit, node_limit=node_limit)
    upper = search.global_upper()
    cap = None
    if passthrough is not None and status != "converged":
        # GroupSort is 1-Lipschitz in every p-norm, so the product of layer norms bounds the constant
        # on every domain; an unfinished search over comparators is often looser than that
        from certify.methods.naive import naive_upper
        cap = naive_upper(net, p)[0]
        upper = min(upper, max(cap, search.lower))
    witness = None
    if search.witness is not None:
        x, pattern = search.witness
        # Shave 1e-13 (relative) off the verified value: still a rigorous lower bound, and it leaves
        # room for independent re-evaluations at lower precision (Certificate.verify) to confirm it.
        value = min(search.lower, arb_floor(search.lower_ball * (1 - 1e-13)))
        witness = Witness(kind="point", x=x, x2=None, value=value,
                          value_ball=str(search.lower_ball), pattern=None)
    details = dict(search.stats)
    details["tol"] = tol
    details["tree"] = search.tree
    details["empty"] = search.empty
    details["enum_budget"] = int(budget)
    details["symbolic"] = bool(symbolic)
    details["unresolved"] = list(search.unresolved)
    details["open_nodes"] = len(search.heap)
    if cap is not None:
        details["naive_cap"] = cap   # the reported upper is min(search, naive product)
    if search.witness is not None:
        details["witness_pattern"] = tuple(tuple(int(v) for v in q) for q in search.witness[1])
    return make_certificate(net, p, box, "exact", upper, witness, tol=tol, status=status,
                            elapsed=time.perf_counter() - t0, details=details, rigorous=True)


def _replay_upper(cert) -> tuple[bool, str]:
    """Upper-bound check for :meth:`Certificate.verify`: replay the recorded search tree.

    See :meth:`ExactSearch.replay`; a lowered ``upper`` fails at the terminal node whose bound
    exceeds it.
    """
    tree, empty = cert.details.get("tree"), cert.details.get("empty")
    if tree is None or empty is None:
        return False, "no search tree stored"
    if "naive_cap" in cert.details:
        # the upper end may be the naive product (an unfinished GroupSort search): recompute it
        from certify.methods.naive import naive_upper
        cap = naive_upper(cert.network, cert.norm)[0]
        if cert.upper >= cap:
            return True, f"upper >= the recomputed naive product {cap!r}"
    ws, bs, specs, passthrough = _search_arrays(cert.network)
    search = ExactSearch(ws, bs, specs, cert.norm, cert.domain, tol=cert.details.get("tol", 1e-9),
                         enum_budget=cert.details.get("enum_budget", 256),
                         symbolic=cert.details.get("symbolic", True), passthrough=passthrough)
    return search.replay(tree, empty, cert.upper)


register_verifier("exact", _replay_upper)
