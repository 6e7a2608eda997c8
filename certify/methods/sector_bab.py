"""Branch and bound over neuron slope sectors (one hidden layer, global l2), node bounds by the sector LMI.

For ``f(x) = A s(W x + b) + b2`` with every activation slope-restricted in ``[a, b]``, every
(generalised) Jacobian is ``A diag(s) W`` with ``s`` in the box ``[a, b]^k``; the l2 norm is convex
in ``s``, so ``Lip_2(f) <= max`` over the box's *vertices*.  A node fixes some neurons' slopes to
``a`` or ``b`` (the rest stay in ``[a, b]``); its upper bound is the checked sector LMI
(:func:`certify.methods.sector_lmi.checked_sector_bound`) with the root's multipliers restricted to
the free neurons -- never re-solved, so a node costs one (d+m)-square eigenvalue problem and one
ball-arithmetic positive-definiteness proof.  Restricting multipliers keeps a node's bound below
its parent's (fixing a slope to a sector end makes its quadratic constraint an equality, so the
parent's LMI restricted to that subspace is the child's).

Splits follow a static order (largest ``(b - a) ||A_j|| ||w_j||`` first), best-first on the bound.
The search proves ``Lip_2 <= max`` over the open and closed leaves; nodes whose bound is at most
the best witnessed lower bound are closed.  The certificate stores the root multipliers, the split
order and the leaves as bit strings; :func:`verify_sector_bab` checks that the leaves partition the
vertex set (a prefix-free code with Kraft sum exactly one) and re-proves every leaf's LMI at
``rho = upper^2``.

What it cannot do: it ignores *which* slope patterns occur (realisability; the pre-activations of
a wide layer are coupled through ``x``).  Its upper end therefore converges to the vertex maximum
``max_s ||A diag(s) W||_2`` over all ``2^k`` patterns, which for ``k >> d`` lies well above the true
constant (see docs/methods/sector_bab.md); :mod:`certify.methods.exact` handles realisability, at
a cost that grows with the number of regions.
"""

from __future__ import annotations

import heapq
import math
import time

import numpy as np

from bounds.errors import ParameterError

from certify.errors import UnsupportedError
from certify.methods.budget import budget_for, reject_unknown_options
from certify.methods.certificate import make_certificate, register_verifier
from certify.methods.lower import lower_bound
from certify.methods.sdp import SDPError
from certify.methods.sector_lmi import (SectorLMIError, checked_sector_bound, feasible_multipliers,
                                        solve_sector_lmi)

__all__ = ["sector_bab_lipschitz", "verify_sector_bab"]


def _layer(net):
    if len(net.weights) != 2:
        raise UnsupportedError(f"method='sector_bab' is for one hidden layer; this net has "
                               f"{len(net.weights) - 1}")
    act = net.activations[0]
    if not getattr(act, "elementwise", True) or act.slope_bounds is None:
        raise UnsupportedError(f"method='sector_bab' needs an elementwise slope-restricted activation; "
                               f"{act.spec} is not")
    a, b = (float(v) for v in act.slope_bounds)
    W, A = (np.asarray(w, dtype=float) for w in net.weights)
    return W, A, a, b


def split_order(W, A, a, b) -> np.ndarray:
    """Static split order: neurons by decreasing ``(b - a) ||A_j|| ||w_j||``, ties by index."""
    score = (b - a) * np.linalg.norm(A, axis=0) * np.linalg.norm(W, axis=1)
    return np.lexsort((np.arange(score.size), -score))


class _Tree:
    """Sectors of a node from its bit string (bit i: the i-th neuron of ``order`` at ``a`` (0) or ``b`` (1))."""

    def __init__(self, W, A, a, b, order, t_root):
        self.W, self.A, self.a, self.b = W, A, a, b
        self.order = np.asarray(order)
        self.t_root = np.asarray(t_root, dtype=float)
        self.k = W.shape[0]

    def sectors(self, bits):
        al = np.full(self.k, self.a)
        be = np.full(self.k, self.b)
        if len(bits):
            idx = self.order[:len(bits)]
            v = np.where(np.asarray(bits, dtype=bool), self.b, self.a)
            al[idx] = v
            be[idx] = v
        free = np.ones(self.k, dtype=bool)
        free[self.order[:len(bits)]] = False
        t = self.t_root[free] if self.b > self.a else np.zeros(0)
        return al, be, t

    def bound(self, bits):
        al, be, t = self.sectors(bits)
        return checked_sector_bound(self.W, self.A, al, be, t)[0]


def sector_bab_lipschitz(net, norm=2, domain=None, *, tol=1e-9, time_limit=None, node_limit=None,
                         multipliers=None, incumbent=None, lower_options=None, **options):
    """Global l2 Lipschitz upper bound of a one-hidden-layer net by sector branch and bound.

    Parameters
    ----------
    net : certify.Network
        One hidden layer, elementwise slope-restricted activation.
    norm : 2
    domain : None or (lo, hi)
        The bound is global (hence valid on any box); a box only restricts the witness search.
    multipliers : (k,) array, optional
        Root multipliers in the convention of :mod:`certify.methods.sector_lmi` (e.g. from
        ``method="sdp"`` with ``formulation="sector"``); default: solved here with Clarabel.
    incumbent : float, optional
        A verified lower bound (e.g. another method's witness value): nodes whose upper bound is
        at most this are closed.
    lower_options : dict, optional
        Passed to :func:`certify.methods.lower.lower_bound` for this method's own witness.

    Returns
    -------
    Certificate
        ``details``: ``multipliers`` (root), ``order``, ``leaves`` (bit strings), ``nodes``.
    """
    reject_unknown_options("sector_bab", options)
    if norm != 2:
        raise ParameterError("norm", norm, "2 (the sector LMI bounds the l2 Lipschitz constant)")
    W, A, a, b = _layer(net)
    t_start = time.perf_counter()
    budget = budget_for(time_limit)
    k = W.shape[0]
    al0, be0 = np.full(k, a), np.full(k, b)
    log = []
    if b > a:
        if multipliers is None:
            left = budget.remaining()
            t, info = solve_sector_lmi(W, A, al0, be0, time_limit=None if left is None else 0.5 * left,
                                       stop=budget.stop_reason)
            log.append(f"root multipliers: Clarabel {info['status']} in {info['solve_time']:.2f} s")
        else:
            t = np.asarray(multipliers, dtype=float)
            if t.shape != (k,):
                raise ParameterError("multipliers", f"shape {t.shape}", f"shape ({k},)")
            log.append("root multipliers: given")
        t = np.maximum(t, 1e-300)
    else:
        t = np.zeros(k)
    order = split_order(W, A, a, b)
    tree = _Tree(W, A, a, b, order, t)
    try:
        root = tree.bound(())
    except SectorLMIError:
        tree.t_root = feasible_multipliers(W, A, al0, be0) if b > a else t
        log.append("root multipliers infeasible: replaced by the feasible start")
        try:
            root = tree.bound(())
        except SectorLMIError as exc:
            raise SDPError(f"sector_bab: no checked root bound: {str(exc).splitlines()[0]}") from exc
    lo_opts = {"n_starts": 32, "n_ascents": 2, "iters": 20}
    lo_opts.update(lower_options or {})
    if budget.remaining() is not None:
        lo_opts.setdefault("time_limit", 0.05 * budget.remaining())
    witness = lower_bound(net, 2, domain, **lo_opts)
    best_lower = max(0.0 if witness is None else witness.value,
                     -math.inf if incumbent is None else float(incumbent))
    heap = [(-root, 0, ())]
    closed = []            # (bound, bits) of leaves no longer split
    counter, nodes = 1, 1
    status = "bound"
    depth_max = k if b > a else 0
    while heap:
        stop = budget.stop_reason()
        if stop is None and node_limit is not None and nodes >= node_limit:
            stop = "node_limit"
        if stop:
            status = stop
            break
        neg, _, bits = heap[0]
        if -neg <= best_lower * (1 + tol) or len(bits) >= depth_max:
            # the largest open bound is (nearly) witnessed, or a vertex: nothing left to split
            if len(bits) >= depth_max and -neg > best_lower * (1 + tol):
                heapq.heappop(heap)
                closed.append((-neg, bits))
                continue
            break
        heapq.heappop(heap)
        kids = []
        for v in (0, 1):
            try:
                kids.append((tree.bound(bits + (v,)), bits + (v,)))
            except SectorLMIError:     # rounding made the inherited multipliers fail: keep the parent
                kids = None
                break
        nodes += 2
        if kids is None:
            closed.append((-neg, bits))
            continue
        for ub, child in kids:
            if ub <= best_lower:
                closed.append((ub, child))
            else:
                heapq.heappush(heap, (-ub, counter, child))
                counter += 1
        if nodes % 64 == 0:
            budget.update(nodes, best_lower, max(-heap[0][0] if heap else 0.0,
                                                 max((c[0] for c in closed), default=0.0)))
    leaves = [(-n, bits) for n, _, bits in heap] + closed
    upper = max(ub for ub, _ in leaves)
    details = {"multipliers": tree.t_root, "order": order, "leaves": [_pack(bits) for _, bits in leaves],
               "nodes": nodes, "root_upper": root, "log": log, "incumbent": incumbent}
    if witness is not None and witness.value > upper:
        raise AssertionError(f"soundness violation: witness {witness.value} > sector upper {upper}")
    return make_certificate(net, 2, domain, "sector_bab", upper, witness, tol=tol, status=status,
                            elapsed=time.perf_counter() - t_start, details=details)


def _pack(bits) -> str:
    return "".join("1" if v else "0" for v in bits)


def _complete_partition(codes) -> tuple[bool, str]:
    """Whether bit strings are the leaves of a full binary tree: prefix-free, Kraft sum exactly 1."""
    if not codes:
        return False, "no leaves"
    srt = sorted(codes)
    for x, y in zip(srt, srt[1:]):
        if y.startswith(x):
            return False, f"leaf {x!r} is a prefix of leaf {y!r}"
    depth = max(len(c) for c in codes)
    total = sum(1 << (depth - len(c)) for c in codes)
    if total != 1 << depth:
        return False, f"leaves cover {total} of {1 << depth} vertex classes at depth {depth}"
    return True, f"{len(codes)} leaves partition the slope vertices"


def verify_sector_bab(cert) -> tuple[bool, str]:
    """Re-prove every leaf's sector LMI at ``rho = upper^2`` and that the leaves cover every vertex."""
    d = cert.details
    try:
        W, A, a, b = _layer(cert.network)
    except UnsupportedError as exc:
        return False, str(exc)
    codes = list(d.get("leaves", []))
    ok, msg = _complete_partition(codes)
    if not ok:
        return False, msg
    order = np.asarray(d["order"])
    if sorted(order.tolist()) != list(range(W.shape[0])):
        return False, "the split order is not a permutation of the neurons"
    if any(len(c) > (W.shape[0] if b > a else 0) for c in codes):
        return False, "a leaf fixes more neurons than the layer has free"
    tree = _Tree(W, A, a, b, order, d["multipliers"])
    from certify.methods.sector_lmi import check_sector_lmi
    rho = math.nextafter(cert.upper * cert.upper, -math.inf)
    budget = budget_for(None)     # Certificate.verify(time_limit=...) sets it
    for i, c in enumerate(codes):
        if i % 64 == 0 and budget.stop_reason():
            return False, f"verification stopped ({budget.stop_reason()}) after {i} of {len(codes)} leaves"
        al, be, t = tree.sectors(tuple(ch == "1" for ch in c))
        ok, why = check_sector_lmi(W, A, al, be, rho, t)
        if not ok:
            return False, f"leaf {c!r}: {why}"
    return True, msg + f"; every leaf's LMI holds at rho = upper^2"


register_verifier("sector_bab", verify_sector_bab)
