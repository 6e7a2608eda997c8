"""GroupSort(G): sort consecutive blocks of ``G`` neurons ascending (Anil, Lucas, Grosse 2019).

``G = 2`` is MaxMin, ``G`` equal to the layer width is FullSort.  GroupSort is continuous and
piecewise linear: on the region where every block has a fixed strict ordering it is a permutation
``P``, so its Jacobian there is a permutation matrix, an isometry of every p-norm (hence the
activation is 1-Lipschitz in l1, l2 and linf alike).  Where entries of a block tie, the Clarke
generalized Jacobian is the convex hull of the permutation matrices of the orderings that break
the ties.

This module holds everything about GroupSort that is not elementwise:

* :func:`groupsort` and :func:`sort_permutation` (float evaluation, the permutation at a point);
* :func:`groupsort_interval` (exact image of a box: the ``k``-th order statistic is nondecreasing
  in every argument, so its range over a box is ``[k-th smallest lower end, k-th smallest upper
  end]``; no rounding happens);
* :func:`rank_ranges` and :func:`permute_columns_hull` (enclosure of ``J P`` over all Clarke
  Jacobians ``P`` on a box);
* :func:`sorting_network` and :func:`comparator_lowering` (an equivalent network whose hidden
  activations are ReLU on comparators and the identity elsewhere, with weights built from the
  original ones and integers only, so no rounding; the exact method works on it).
"""

from __future__ import annotations

import numpy as np

from certify.arith.interval import Interval
from certify.errors import ShapeError

__all__ = ["groupsort", "sort_permutation", "groupsort_interval", "rank_ranges",
           "permute_columns", "permute_columns_hull", "sorting_network", "comparator_lowering",
           "check_width", "block_reversal"]


def check_width(n: int, G: int, where: str) -> None:
    """Raise :class:`ShapeError` unless a layer of width ``n`` splits into blocks of ``G``."""
    if n % G:
        raise ShapeError(f"{where}: GroupSort with group size G={G} needs a width divisible by {G}, "
                         f"got width {n}")


def block_reversal(n: int, G: int) -> np.ndarray:
    """Indices ``perm`` reversing every block of ``G``: a descending sort is ``groupsort(z)[perm]``.

    The reversal is an involution, so ``W[:, perm]`` folds it exactly into the next layer.

    >>> block_reversal(6, 3)
    array([2, 1, 0, 5, 4, 3])
    """
    check_width(n, G, "block reversal")
    return np.array([s + G - 1 - r for s in range(0, n, G) for r in range(G)], dtype=np.intp)


def _blocks(z: np.ndarray, G: int) -> np.ndarray:
    check_width(z.shape[-1], G, "groupsort input")
    return z.reshape(z.shape[:-1] + (z.shape[-1] // G, G))


def groupsort(z, G: int) -> np.ndarray:
    """Sort consecutive blocks of ``G`` entries of the last axis ascending.

    >>> groupsort(np.array([3.0, 1.0, -1.0, 2.0]), 2)
    array([ 1.,  3., -1.,  2.])
    >>> groupsort(np.array([3.0, 1.0, -1.0, 2.0]), 4)
    array([-1.,  1.,  2.,  3.])
    """
    z = np.asarray(z, dtype=np.float64)
    return np.sort(_blocks(z, G), axis=-1).reshape(z.shape)


def sort_permutation(z, G: int) -> np.ndarray:
    """Indices ``perm`` with ``groupsort(z)[..., k] == z[..., perm[..., k]]`` (stable on ties).

    A tie is broken by position, which gives one element of the Clarke Jacobian.
    """
    z = np.asarray(z, dtype=np.float64)
    blocks = _blocks(z, G)
    order = np.argsort(blocks, axis=-1, kind="stable")
    start = (np.arange(z.shape[-1] // G) * G)[:, None]
    return (order + start).reshape(z.shape)


def permute_columns(J: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """``J @ P`` for the permutation matrix ``P[k, perm[k]] = 1`` (batched over leading axes).

    Column ``perm[k]`` of the result is column ``k`` of ``J``.
    """
    J = np.asarray(J)
    out = np.empty_like(J)
    idx = np.broadcast_to(perm[..., None, :], J.shape)
    np.put_along_axis(out, idx, J, axis=-1)
    return out


def groupsort_interval(z: Interval, G: int) -> Interval:
    """Exact range of :func:`groupsort` over the box ``z`` (order statistics are monotone)."""
    return Interval(groupsort(z.lo, G), groupsort(z.hi, G))


def rank_ranges(z: Interval, G: int) -> tuple[np.ndarray, np.ndarray]:
    """For every entry ``i``: the least and largest rank (0-based, within its block) it can take.

    Entry ``j`` is certainly below ``i`` on the box (and on a neighbourhood of it) when
    ``hi_j < lo_i``; ties at the ends count as undecided.  Every ordering realised at a point of
    the box or as a limit of nearby orderings (hence every permutation in a Clarke Jacobian) gives
    ``i`` a rank in ``[rank_lo_i, rank_hi_i]``.
    """
    lo, hi = _blocks(z.lo, G), _blocks(z.hi, G)
    below = (hi[..., None, :] < lo[..., :, None]).sum(-1)   # j certainly below i
    above = (lo[..., None, :] > hi[..., :, None]).sum(-1)   # j certainly above i
    return below.reshape(z.shape), (G - 1 - above).reshape(z.shape)


def permute_columns_hull(J: Interval, z: Interval, G: int) -> Interval:
    """Interval matrix containing ``A P`` for every ``A`` in ``J`` and every Clarke Jacobian ``P``
    of GroupSort at points of the box ``z``.

    Column ``i`` of ``A P`` (for ``P`` a convex combination of permutation matrices) is a convex
    combination of the columns ``k`` of ``A`` at the ranks ``i`` can take, so the hull of those
    columns of ``J`` contains it.  Only minima and maxima are taken: no rounding.
    """
    n = z.shape[-1]
    rlo, rhi = rank_ranges(z, G)
    start = (np.arange(n) // G) * G
    lo = np.full(J.shape, np.inf)
    hi = np.full(J.shape, -np.inf)
    for r in range(G):
        ok = (rlo <= r) & (r <= rhi)
        k = start + r
        lo = np.where(ok, np.minimum(lo, J.lo[..., k]), lo)
        hi = np.where(ok, np.maximum(hi, J.hi[..., k]), hi)
    return Interval(lo, hi)


# ----------------------------------------------------------------------------------------------
# lowering to comparators (for the exact method)
# ----------------------------------------------------------------------------------------------

_OPTIMAL = {
    1: [],
    2: [[(0, 1)]],
    3: [[(0, 1)], [(1, 2)], [(0, 1)]],
    4: [[(0, 1), (2, 3)], [(0, 2), (1, 3)], [(1, 2)]],
}


def sorting_network(G: int) -> list[list[tuple[int, int]]]:
    """Stages of comparators ``(i, j)``, ``i < j``, that sort ``G`` values (min to ``i``, max to ``j``).

    Optimal networks for ``G <= 4``, odd-even transposition sort (``G`` stages) beyond.

    >>> sorting_network(4)
    [[(0, 1), (2, 3)], [(0, 2), (1, 3)], [(1, 2)]]
    """
    if G in _OPTIMAL:
        return [list(s) for s in _OPTIMAL[G]]
    return [[(i, i + 1) for i in range(t % 2, G - 1, 2)] for t in range(G)]


def comparator_lowering(net):
    """An equivalent network with ReLU comparators and identity pass-throughs for GroupSort layers.

    A comparator ``(u_i, u_j) -> (min, max)`` is ``r = relu(u_i - u_j)``, ``min = u_i - r``,
    ``max = u_j + r``.  Each GroupSort layer ``z = W h + b`` becomes: the layer ``z`` with the
    identity activation; one layer per stage of :func:`sorting_network`, whose neurons are the
    comparators (ReLU) followed by all current wires (identity); and a last identity layer that
    forms the sorted wires.  Every new weight matrix has integer entries, and the original
    matrices are kept as they are, so the lowered network computes exactly the same function
    (no rounding), and every region of it with all comparators strict lies in a region of the
    original where every block is strictly ordered (in a sorting network, values adjacent in the
    sorted order are compared directly).

    Returns
    -------
    weights, biases : lists of float64 arrays
    activations : list of str
        ``"relu"`` or ``"identity"`` per lowered hidden layer (original specs for elementwise layers).
    passthrough : list of bool arrays or None
        For a mixed layer, True where a neuron is an identity pass-through (its activation is the
        identity although the layer's is ``"relu"``); ``None`` for uniform layers.
    origin : list of int
        Index of the original hidden layer each lowered hidden layer comes from.
    """
    ws, bs, acts, masks, origin = [], [], [], [], []
    L = len(net.weights)
    for l in range(L):
        ws.append(np.asarray(net.weights[l], dtype=np.float64))
        bs.append(np.asarray(net.biases[l], dtype=np.float64))
        if l == L - 1:
            break
        act = net.activations[l]
        if act.elementwise:
            acts.append(act.spec)
            masks.append(None)
            origin.append(l)
            continue
        G = int(act.group)
        n = ws[-1].shape[0]
        acts.append("identity")
        masks.append(None)
        origin.append(l)
        T = np.eye(n)                    # wires as a linear map of the last lowered layer's outputs
        for stage in sorting_network(G):
            comps = [(b * G + i, b * G + j) for b in range(n // G) for (i, j) in stage]
            C = np.array([T[i] - T[j] for i, j in comps])      # integer rows: exact
            ws.append(np.vstack([C, T]))
            bs.append(np.zeros(len(comps) + n))
            acts.append("relu")
            masks.append(np.r_[np.zeros(len(comps), bool), np.ones(n, bool)])
            origin.append(l)
            A = np.zeros((n, len(comps)))
            for c, (i, j) in enumerate(comps):
                A[i, c], A[j, c] = -1.0, 1.0
            T = np.hstack([A, np.eye(n)])
        ws.append(T)
        bs.append(np.zeros(n))
        acts.append("identity")
        masks.append(None)
        origin.append(l)
    return ws, bs, acts, masks, origin
