"""Independent reference Lipschitz constants for tiny networks (used by the certify method tests).

Nothing here imports :mod:`certify` beyond building networks: the truths come from brute force over
activation patterns, exact rational arithmetic (``fractions.Fraction``) for the l1/linf operator
norms, and LP feasibility (scipy HiGHS) for "does this pattern occur inside the box".
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
from scipy.optimize import linprog


def opnorm_exact(J, p) -> float:
    """||J||_{p->p}: exact (Fraction) for l1/linf, numpy SVD for l2."""
    J = np.asarray(J, dtype=float)
    if p == 2:
        return float(np.linalg.norm(J, 2)) if J.size else 0.0
    F = [[Fraction(float(v)) for v in row] for row in J]
    if p == 1:
        return float(max(sum(abs(F[i][j]) for i in range(len(F))) for j in range(len(F[0]))))
    return float(max(sum(abs(v) for v in row) for row in F))


def random_two_layer(rng, d, k, m, scale=1.0):
    """Weights (W (k,d), b (k,), A (m,k), c (m,)) of a random two-layer ReLU net with full row rank W."""
    while True:
        W = rng.standard_normal((k, d)) * scale
        if k > d or np.linalg.matrix_rank(W) == k:
            break
    b = rng.standard_normal(k) * scale
    A = rng.standard_normal((m, k))
    c = rng.standard_normal(m)
    return W, b, A, c


def two_layer_global_truth(W, A, p) -> float:
    """Global Lip of x -> A relu(W x + b) for full-row-rank W (k <= d): every pattern occurs.

    For such W the map x -> W x + b is onto R^k, so all 2^k sign patterns have open regions, and the
    constant is the max over subsets S of ||A[:, S] W[S, :]||_{p->p}.
    """
    k = W.shape[0]
    assert k <= W.shape[1] and np.linalg.matrix_rank(W) == k
    best = 0.0
    for S in itertools.product([0, 1], repeat=k):
        s = np.array(S, dtype=float)
        best = max(best, opnorm_exact((A * s[None, :]) @ W, p))
    return best


def _pattern_has_interior(W, b, S, lo, hi) -> bool:
    """Does {x in [lo, hi] : (2 S_l - 1)(w_l . x + b_l) > 0 for all l} have interior points?"""
    k, d = W.shape
    sg = 2.0 * np.asarray(S, dtype=float) - 1.0
    # maximise t subject to sg_l (w_l x + b_l) >= t, lo <= x <= hi, t <= 1
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-(sg[:, None] * W), np.ones((k, 1))])
    b_ub = sg * b
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(l, h) for l, h in zip(lo, hi)] + [(None, 1.0)],
                  method="highs")
    return res.status == 0 and -res.fun > 1e-9


def two_layer_box_truth(W, b, A, lo, hi, p) -> float:
    """Lip on the box of x -> A relu(W x + b): max over patterns whose region meets the box's interior."""
    k, d = W.shape
    lo = np.broadcast_to(np.asarray(lo, dtype=float), (d,))
    hi = np.broadcast_to(np.asarray(hi, dtype=float), (d,))
    best = 0.0
    for S in itertools.product([0, 1], repeat=k):
        if _pattern_has_interior(W, b, S, lo, hi):
            s = np.array(S, dtype=float)
            best = max(best, opnorm_exact((A * s[None, :]) @ W, p))
    return best


def sampled_max(net, lo, hi, p, n=20000, seed=0) -> float:
    """Max of ||J(x)||_{p->p} over uniform samples of the box (a lower bound on the truth)."""
    rng = np.random.default_rng(seed)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), (net.input_dim,))
    hi = np.broadcast_to(np.asarray(hi, dtype=float), (net.input_dim,))
    X = lo + (hi - lo) * rng.random((n, net.input_dim))
    J = net.jacobian(X)
    if p == 1:
        return float(np.abs(J).sum(axis=1).max())
    if p == math.inf:
        return float(np.abs(J).sum(axis=2).max())
    return float(np.linalg.norm(J, 2, axis=(1, 2)).max())


def _block_orderings(n, G):
    """Every choice of one ordering (a tuple of indices, smallest first) per block of G."""
    per_block = [list(itertools.permutations(range(s, s + G))) for s in range(0, n, G)]
    return list(itertools.product(*per_block))


def groupsort_truth(weights, biases, groups, p, lo=None, hi=None, margin=1e-9):
    """Lip_p of a GroupSort network by brute force over the orderings of every block of every layer.

    ``f = W_L GS_{G_{L-1}}( ... GS_{G_1}(W_1 x + b_1) ...) + b_L``.  For each choice of one strict
    ordering per block and layer, an LP decides whether the region where those orderings hold (with
    margin ``t > margin``; inside the box if given) has interior points; the constant is the max of
    ``||W_L P_{L-1} ... P_1 W_1||`` over those regions (permutation matrices ``P``).  Independent of
    certify: only numpy and scipy.
    """
    d = weights[0].shape[1]
    bounds = [(None, None)] * d if lo is None else [(float(a), float(b)) for a, b in zip(lo, hi)]
    best = 0.0

    def rec(l, M, c, cons):
        nonlocal best
        if l == len(weights) - 1:      # M is the output's (constant) Jacobian on this region
            best = max(best, opnorm_exact(M, p))
            return
        G = groups[l]
        n = M.shape[0]
        for order in _block_orderings(n, G):
            perm = [i for blk in order for i in blk]     # output k is input perm[k]
            new = list(cons)
            for blk in order:
                for a, b in zip(blk[:-1], blk[1:]):      # z_a + t <= z_b
                    new.append((M[a] - M[b], c[b] - c[a]))
            if new and not _has_interior(new, bounds, d, margin):
                continue
            PM, Pc = M[perm], c[perm]
            rec(l + 1, weights[l + 1] @ PM, weights[l + 1] @ Pc + biases[l + 1], new)

    rec(0, np.asarray(weights[0], float), np.asarray(biases[0], float), [])
    return best


def _has_interior(cons, bounds, d, margin):
    """max t s.t. a . x + t <= r for every (a, r) in cons, x in bounds, t <= 1; is t > margin?"""
    A = np.array([r for r, _ in cons])
    rhs = np.array([v for _, v in cons])
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.hstack([A, np.ones((len(cons), 1))]),
                  b_ub=rhs, bounds=bounds + [(None, 1.0)], method="highs")
    return res.status == 0 and -res.fun > margin


def fraction_pd(A) -> bool:
    """Positive definiteness of a symmetric matrix of Fractions (list of rows), decided exactly
    by the pivots of LDL^T (all positive)."""
    n = len(A)
    A = [list(row) for row in A]
    for k in range(n):
        if A[k][k] <= 0:
            return False
        for i in range(k + 1, n):
            f = A[i][k] / A[k][k]
            for j in range(k + 1, n):
                A[i][j] -= f * A[k][j]
    return True
