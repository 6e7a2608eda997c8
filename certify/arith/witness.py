"""Witnessed lower bounds: Jacobian norms and difference quotients evaluated in Arb ball arithmetic.

Any point ``x`` of the domain at which ``f`` is differentiable gives
``Lip_p(f; D) >= ||J_f(x)||_{p->p}``, and any pair gives
``Lip_p(f; D) >= ||f(x) - f(y)||_p / ||x - y||_p``.  The functions here evaluate both quantities
in Arb ball arithmetic from the exact binary64 weights, so the lower end of the returned ball is a
rigorous lower bound, independent of floating-point rounding in the code that found the point.

Arithmetic
----------
Weights, biases and points are converted to Arb exactly (every binary64 number is a dyadic
rational).  Products and sums are enclosed at ``prec`` bits.  Activations are evaluated with Arb's
own elementary functions (``tanh``, ``exp``, ``log1p``, ``erf``); piecewise-linear activations use
their breakpoints and slopes, which are assumed to be exactly representable binary64 numbers (true
for ReLU, leaky ReLU with a binary64 slope, hardtanh, abs, identity).

Kinks
-----
For a piecewise-linear network ``f`` is not differentiable where a pre-activation sits on a
breakpoint.  :func:`jacobian_norm_ball` then raises :class:`KinkError` unless an activation
``pattern`` is given.  A pattern is accepted only after it is *shown* to be realised by an open
region touching ``x`` (within the domain): a direction ``v`` that moves every tied neuron strictly
into the pattern's piece is found by a small LP, and a point ``x' = x + t v`` whose pre-activations
are all strictly inside the pattern's pieces (checked in Arb) is exhibited.  The Jacobian is then
evaluated at ``x'``, where it equals the pattern's Jacobian.  A pattern that is not realisable
(e.g. "one copy of a duplicated neuron on, the other off") is rejected, because its Jacobian can
exceed the Lipschitz constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import flint
import numpy as np

from bounds.errors import ParameterError

from certify.inputs import normalize_domain, normalize_norm

__all__ = [
    "Witness",
    "KinkError",
    "jacobian_ball",
    "jacobian_norm_ball",
    "pair_quotient_ball",
    "point_witness",
    "pair_witness",
    "arb_floor",
    "arb_ceil",
    "arb_matrix_norm",
]


@dataclass(frozen=True, eq=False)
class Witness:
    """Evidence for a lower bound on the Lipschitz constant.

    Attributes
    ----------
    kind : {"point", "pair"}
        ``"point"``: ``value`` lower-bounds :math:`\\|J_f(x)\\|_{p\\to p}` at a point where ``f``
        is differentiable (or, for piecewise-linear nets at a kink, the Jacobian of the one-sided
        activation ``pattern``, whose region is verified to touch ``x``); ``"pair"``: ``value``
        lower-bounds :math:`\\|f(x)-f(x_2)\\|_p/\\|x-x_2\\|_p`.
    x, x2 : numpy.ndarray
        The point(s); ``x2`` is ``None`` for ``"point"``.
    value : float
        Rigorous lower end of the ball below (rounded down to a float).
    value_ball : str
        The Arb ball the value was read from.
    pattern : tuple or None
        Activation pattern used at a kink (see :func:`certify.arith.witness.jacobian_norm_ball`).
    """

    kind: str
    x: np.ndarray
    x2: np.ndarray | None
    value: float
    value_ball: str
    pattern: tuple | None = None

    def recompute(self, net, norm, domain=None):
        """Re-evaluate the witness in ball arithmetic; returns a ``flint.arb``."""
        if self.kind == "point":
            return jacobian_norm_ball(net, self.x, norm, pattern=self.pattern, domain=domain)
        if self.kind == "pair":
            return pair_quotient_ball(net, self.x, self.x2, norm)
        raise ParameterError("kind", self.kind, "'point' or 'pair'")


class KinkError(ValueError):
    """The point lies (within ball precision) on a kink of a piecewise-linear activation."""


# ---------------------------------------------------------------------------------------------
# float <-> arb helpers
# ---------------------------------------------------------------------------------------------

def arb_floor(a: flint.arb) -> float:
    """Largest-ish binary64 number certainly ``<=`` every point of the ball ``a``."""
    if not a.is_finite():
        return -math.inf
    f = float(a.mid() - a.rad())  # nearest float to the lower end; step down until certain
    while not (flint.arb(f) <= a):
        f = float(np.nextafter(f, -np.inf))
    return f


def arb_ceil(a: flint.arb) -> float:
    """Smallest-ish binary64 number certainly ``>=`` every point of the ball ``a``."""
    if not a.is_finite():
        return math.inf
    return -arb_floor(-a)


def _arb_max(values):
    """Ball enclosing the max of a list of balls: [max of lower ends, max of upper ends]."""
    out = values[0]
    for v in values[1:]:
        out = out.max(v)
    return out


def _to_arb_mat(a: np.ndarray) -> flint.arb_mat:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    return flint.arb_mat([[float(v) for v in row] for row in a])


# ---------------------------------------------------------------------------------------------
# activations in Arb
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _ArbActivation:
    """Arb evaluation of one activation: piecewise-linear data or smooth value/derivative maps."""

    name: str
    breakpoints: tuple = ()
    slopes: tuple = ()
    values_at_breakpoints: tuple = ()
    smooth_value: object = None
    smooth_deriv: object = None
    group: int = 0   # GroupSort block size (0 for elementwise activations)

    @property
    def piecewise_linear(self) -> bool:
        return self.smooth_value is None

    def piece(self, z: flint.arb):
        """Index k of the open piece (b_{k-1}, b_k) certainly containing z, or None if z touches a breakpoint."""
        k = 0
        for b in self.breakpoints:
            bb = flint.arb(b)
            if z < bb:
                return k
            if z > bb:
                k += 1
                continue
            return None
        return k

    def touching(self, z: flint.arb) -> list[int]:
        """Indices of breakpoints the ball z overlaps."""
        return [i for i, b in enumerate(self.breakpoints) if z.overlaps(flint.arb(b))]

    def value(self, z: flint.arb) -> flint.arb:
        if not self.piecewise_linear:
            return self.smooth_value(z)
        return _arb_union([self._piece_value(k, z) for k in self._pieces_overlapping(z)])

    def _pieces_overlapping(self, z):
        """Indices of the closed pieces [b_{k-1}, b_k] that the ball z may meet."""
        ks = []
        for k in range(len(self.slopes)):
            below = k > 0 and bool(z < flint.arb(self.breakpoints[k - 1]))
            above = k < len(self.breakpoints) and bool(z > flint.arb(self.breakpoints[k]))
            if not (below or above):
                ks.append(k)
        return ks

    def _piece_value(self, k, z):
        # each affine piece is anchored at one of its breakpoints (the PL function is continuous)
        if not self.breakpoints:  # one linear piece through the origin (identity, poly:1)
            return flint.arb(self.slopes[0]) * z
        if k < len(self.breakpoints):
            b, fb = self.breakpoints[k], self.values_at_breakpoints[k]
        else:
            b, fb = self.breakpoints[k - 1], self.values_at_breakpoints[k - 1]
        return flint.arb(fb) + flint.arb(self.slopes[k]) * (z - flint.arb(b))

    def deriv(self, z: flint.arb, piece=None) -> flint.arb:
        if not self.piecewise_linear:
            return self.smooth_deriv(z)
        k = self.piece(z) if piece is None else piece
        if k is None:
            raise KinkError(f"pre-activation {z} lies on a kink of {self.name}")
        return flint.arb(self.slopes[k])


def _arb_cmp(a, b) -> int:
    return -1 if a < b else (1 if a > b else 0)


def _arb_groupsort(z: list, G: int) -> list:
    """Ball enclosure of GroupSort of a list of balls.

    The ``k``-th order statistic is nondecreasing in every argument, so it lies between the
    ``k``-th smallest lower end and the ``k``-th smallest upper end (exact points, sorted exactly).
    """
    import functools

    key = functools.cmp_to_key(_arb_cmp)
    out = []
    for s in range(0, len(z), G):
        lows = sorted((v.lower() for v in z[s:s + G]), key=key)
        highs = sorted((v.upper() for v in z[s:s + G]), key=key)
        out.extend(lo.union(hi) for lo, hi in zip(lows, highs))
    return out


def _arb_sort_permutation(z: list, G: int) -> list[int]:
    """``perm`` with ``groupsort(z)[k] = z[perm[k]]``, when every block is certainly strictly ordered.

    Raises :class:`KinkError` when two balls of a block overlap (a tie may be a kink).
    """
    perm = []
    for s in range(0, len(z), G):
        idx = list(range(s, s + G))
        for a in idx:
            for b in idx:
                if a < b and not (z[a] < z[b] or z[a] > z[b]):
                    raise KinkError(f"entries {a} and {b} of a GroupSort block may tie ({z[a]}, {z[b]})")
        perm.extend(sorted(idx, key=lambda i: sum(1 for j in idx if z[j] < z[i])))
    return perm


def _arb_union(balls):
    out = balls[0]
    for b in balls[1:]:
        out = out.union(b)
    return out


def _sigmoid(z):
    return 1 / (1 + (-z).exp())


_SMOOTH = {
    "tanh": (lambda z: z.tanh(), lambda z: 1 - z.tanh() ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "logistic": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "softplus": (lambda z: z.exp().log1p(), _sigmoid),
    "silu": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z)))),
    "swish": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z)))),
    "gelu": (lambda z: z * (1 + (z / flint.arb(2).sqrt()).erf()) / 2,
             lambda z: (1 + (z / flint.arb(2).sqrt()).erf()) / 2
             + z * (-(z * z) / 2).exp() / (2 * flint.arb.pi()).sqrt()),
}


def _activation_name(act) -> str:
    name = getattr(act, "name", None)
    if name is None and isinstance(act, str):
        name = act
    if name is None:
        name = type(act).__name__
    return str(name).lower()


def arb_activation(act) -> _ArbActivation:
    """Build the Arb evaluator of an activation object (from :mod:`certify.model.activations`).

    Smooth activations are recognised by name; piecewise-linear ones are read from their
    ``breakpoints`` and ``slopes`` attributes, with values at the breakpoints taken from the float
    implementation (exact for the supported activations, whose breakpoint values are binary64).
    """
    name = _activation_name(act)
    if name in _SMOOTH:
        v, d = _SMOOTH[name]
        return _ArbActivation(name=name, smooth_value=v, smooth_deriv=d)
    if name == "poly" and int(act.param) == 1:
        return _ArbActivation(name=name, breakpoints=(), slopes=(1.0,), values_at_breakpoints=())
    if name == "poly":
        q = int(act.param)
        return _ArbActivation(name=name, smooth_value=lambda z: z ** q,
                              smooth_deriv=lambda z: q * z ** (q - 1))
    if name == "groupsort":
        return _ArbActivation(name=name, group=int(act.param))
    if name in ("identity", "linear", "none"):
        return _ArbActivation(name=name, breakpoints=(), slopes=(1.0,), values_at_breakpoints=())
    if getattr(act, "piecewise_linear", False):
        bps = tuple(float(b) for b in np.atleast_1d(act.breakpoints))
        slopes = tuple(float(s) for s in np.atleast_1d(act.slopes))
        if len(slopes) != len(bps) + 1:
            raise ParameterError("activation", name, "piecewise-linear with len(slopes) == len(breakpoints) + 1")
        vals = tuple(float(v) for v in np.atleast_1d(act(np.array(bps, dtype=np.float64)))) if bps else ()
        return _ArbActivation(name=name, breakpoints=bps, slopes=slopes, values_at_breakpoints=vals)
    raise ParameterError("activation", name,
                         "one of " + ", ".join(sorted(_SMOOTH)) + " or a piecewise-linear activation",
                         "no ball-arithmetic evaluation is available for it")


# ---------------------------------------------------------------------------------------------
# network access
# ---------------------------------------------------------------------------------------------

def _layers(net):
    """(weights, biases, hidden activations) with one activation per hidden layer."""
    ws = [np.asarray(w, dtype=np.float64) for w in net.weights]
    bs = [np.asarray(b, dtype=np.float64).reshape(-1) for b in net.biases]
    acts = net.activations
    if not isinstance(acts, (list, tuple)):
        acts = [acts] * (len(ws) - 1)
    acts = list(acts)[: len(ws) - 1]
    return ws, bs, acts


_ARB_CACHE_ATTR = "_certify_arb_cache"


def _arb_layers(net):
    """Cached exact Arb copies of the weights (the network is treated as immutable)."""
    ws, bs, acts = _layers(net)
    key = tuple(id(w) for w in net.weights)
    cache = getattr(net, "__dict__", {}).get(_ARB_CACHE_ATTR)
    if cache is not None and cache[0] == key:
        return cache[1]
    data = ([_to_arb_mat(w) for w in ws], [_to_arb_mat(b) for b in bs],
            [arb_activation(a) for a in acts], ws, bs)
    try:
        object.__setattr__(net, _ARB_CACHE_ATTR, (key, data))
    except (AttributeError, TypeError):
        pass
    return data


def _check_point(net, x, name="x"):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    d = np.asarray(net.weights[0]).shape[1]
    if x.shape != (d,):
        raise ParameterError(name, x.shape, f"a vector of length {d}")
    if not np.all(np.isfinite(x)):
        raise ParameterError(name, x, "finite coordinates")
    return x


def _forward_arb(net, x, prec):
    """Pre-activations (list of arb_mat columns) and output of the network at x, in Arb."""
    aws, abs_, aacts, _, _ = _arb_layers(net)
    h = _to_arb_mat(x)
    pre = []
    for i, (w, b) in enumerate(zip(aws, abs_)):
        z = w * h + b
        if i == len(aws) - 1:
            return pre, z
        pre.append(z)
        act = aacts[i]
        if act.group:
            h = flint.arb_mat([[v] for v in _arb_groupsort([z[j, 0] for j in range(z.nrows())], act.group)])
            continue
        h = flint.arb_mat([[act.value(z[j, 0])] for j in range(z.nrows())])
    raise AssertionError("unreachable")


def _jacobian_from_pre(net, pre, pattern=None):
    aws, _, aacts, _, _ = _arb_layers(net)
    J = aws[0]
    for i, z in enumerate(pre):
        act = aacts[i]
        if act.group:  # a permutation of the rows: row k of P J is row perm[k] of J
            perm = _arb_sort_permutation([z[j, 0] for j in range(z.nrows())], act.group)
            J = aws[i + 1] * flint.arb_mat([[J[p, c] for c in range(J.ncols())] for p in perm])
            continue
        ds = [act.deriv(z[j, 0], None if pattern is None else int(pattern[i][j]))
              for j in range(z.nrows())]
        # scale rows of J by the activation derivatives, then apply the next weight matrix
        n, d = J.nrows(), J.ncols()
        J = flint.arb_mat([[ds[r] * J[r, c] for c in range(d)] for r in range(n)])
        J = aws[i + 1] * J
    return J


# ---------------------------------------------------------------------------------------------
# kinks and patterns
# ---------------------------------------------------------------------------------------------

def _pattern_ok_strict(net, pre, pattern) -> bool:
    _, _, aacts, _, _ = _arb_layers(net)
    for i, z in enumerate(pre):
        act = aacts[i]
        if not act.piecewise_linear:
            continue
        for j in range(z.nrows()):
            if act.piece(z[j, 0]) != int(pattern[i][j]):
                return False
    return True


def _normalize_pattern(net, pattern):
    _, _, aacts, ws, _ = _arb_layers(net)
    if len(pattern) != len(aacts):
        raise ParameterError("pattern", pattern, f"one entry per hidden layer ({len(aacts)})")
    out = []
    for i, p in enumerate(pattern):
        if aacts[i].group:
            raise ParameterError("pattern", pattern, "None for networks with GroupSort layers (a witness "
                                 "point must have every block strictly ordered)")
        if not aacts[i].piecewise_linear:
            raise ParameterError("pattern", pattern, "None for networks with smooth activations")
        p = np.asarray(p).astype(np.int64).reshape(-1)
        if p.shape[0] != ws[i].shape[0] or np.any(p < 0) or np.any(p >= len(aacts[i].slopes)):
            raise ParameterError("pattern", pattern,
                                 f"layer {i}: {ws[i].shape[0]} piece indices in [0, {len(aacts[i].slopes)})")
        out.append(tuple(int(v) for v in p))
    return tuple(out)


def _realising_point(net, x, pattern, domain, prec):
    """A point x' in the domain, near x, strictly inside the region of ``pattern``; or raise KinkError."""
    from scipy.optimize import linprog

    _, _, aacts, ws, bs = _arb_layers(net)
    pre, _ = _forward_arb(net, x, prec)
    # float linearisation under the pattern: z_i(x + v) ~ z_i(x) + G_i v
    rows, signs = [], []
    G = ws[0].copy()
    for i, z in enumerate(pre):
        act = aacts[i]
        for j in range(z.nrows()):
            zj, k = z[j, 0], pattern[i][j]
            if act.piece(zj) == k:
                continue
            touch = act.touching(zj)
            # the ball may only touch the two breakpoints bounding piece k
            if any(t not in (k - 1, k) for t in touch) or not touch:
                raise KinkError(f"pattern entry ({i},{j})={k} is inconsistent with pre-activation {zj}")
            for t in touch:
                rows.append(G[j])
                signs.append(1.0 if t == k - 1 else -1.0)
        slopes = np.array([act.slopes[k] for k in pattern[i]])
        G = ws[i + 1] @ (slopes[:, None] * G)
    d = x.shape[0]
    if rows:
        A = np.array(rows) * np.array(signs)[:, None]
        # maximise m subject to A v >= m, -1 <= v <= 1, and v pointing into the box at active faces
        c = np.zeros(d + 1)
        c[-1] = -1.0
        A_ub = np.hstack([-A, np.ones((A.shape[0], 1))])
        bounds = [(-1.0, 1.0)] * d + [(None, 1.0)]
        if domain is not None:
            lo, hi = domain
            for q in range(d):
                l, h = bounds[q]
                if x[q] <= lo[q]:
                    l = 0.0
                if x[q] >= hi[q]:
                    h = 0.0
                bounds[q] = (l, h)
        res = linprog(c, A_ub=A_ub, b_ub=np.zeros(A.shape[0]), bounds=bounds, method="highs")
        if res.status != 0 or res.x[-1] <= 0:
            raise KinkError("the activation pattern is not realised by any region touching x "
                            "(no direction enters it)")
        v = res.x[:d]
    else:
        v = np.zeros(d)
    scale = max(1.0, float(np.max(np.abs(x))))
    t = 1e-4 * scale
    for _ in range(80):
        xp = x + t * v
        if domain is not None:
            xp = np.clip(xp, domain[0], domain[1])
        pre_p, _ = _forward_arb(net, xp, prec)
        if _pattern_ok_strict(net, pre_p, pattern):
            return xp, pre_p
        t *= 0.5
    raise KinkError("could not exhibit a point strictly inside the pattern's region near x")


# ---------------------------------------------------------------------------------------------
# norms in Arb
# ---------------------------------------------------------------------------------------------

def arb_matrix_norm(J: flint.arb_mat, norm) -> flint.arb:
    """Ball enclosing the induced operator norm ``||J||_{p->p}`` of an Arb matrix.

    l1: max column abs sum; linf: max row abs sum; l2: square root of the largest eigenvalue of
    the smaller Gram matrix, enclosed below by a Rayleigh quotient and above by a rigorous
    eigenvalue enclosure (``acb_mat.eig``), falling back to the Gershgorin bound.
    """
    p = normalize_norm(norm)
    m, d = J.nrows(), J.ncols()
    if p == 1:
        return _arb_max([sum((abs(J[i, j]) for i in range(m)), flint.arb(0)) for j in range(d)])
    if p == math.inf:
        return _arb_max([sum((abs(J[i, j]) for j in range(d)), flint.arb(0)) for i in range(m)])
    if m == 1 or d == 1:
        return sum((J[i, j] ** 2 for i in range(m) for j in range(d)), flint.arb(0)).sqrt()
    A = J * J.transpose() if m <= d else J.transpose() * J
    n = A.nrows()
    Af = np.array([[float(A[i, j].mid()) for j in range(n)] for i in range(n)])
    w, V = np.linalg.eigh((Af + Af.T) / 2)
    v = _to_arb_mat(V[:, -1])
    lam_lo = (v.transpose() * A * v)[0, 0] / (v.transpose() * v)[0, 0]
    lam_hi = None
    try:
        eigs = flint.acb_mat(A).eig(multiple=True)
        lam_hi = _arb_max([e.real for e in eigs])
    except (ValueError, ZeroDivisionError):
        pass
    if lam_hi is None or not lam_hi.is_finite():
        lam_hi = _arb_max([sum((abs(A[i, j]) for j in range(n)), flint.arb(0)) for i in range(n)])
    # Rayleigh quotient <= lambda_max <= eigenvalue enclosure: the union contains lambda_max
    lam = lam_lo.union(lam_hi)
    return lam.nonnegative_part().sqrt()


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------

def jacobian_ball(net, x, pattern=None, domain=None, prec: int = 128) -> flint.arb_mat:
    """Arb enclosure of the Jacobian ``J_f(x)`` (shape (m, d)).

    See :func:`jacobian_norm_ball` for ``pattern`` and ``domain``.
    """
    x = _check_point(net, x)
    dom = normalize_domain(domain, x.shape[0]) if domain is not None else None
    with flint.ctx.workprec(prec):
        if pattern is not None:
            pattern = _normalize_pattern(net, pattern)
            pre, _ = _forward_arb(net, x, prec)
            if not _pattern_ok_strict(net, pre, pattern):
                _, pre = _realising_point(net, x, pattern, dom, prec)
            return _jacobian_from_pre(net, pre, pattern)
        pre, _ = _forward_arb(net, x, prec)
        return _jacobian_from_pre(net, pre)


def jacobian_norm_ball(net, x, norm=2, *, pattern=None, domain=None, prec: int = 128) -> flint.arb:
    """Arb ball enclosing ``||J_f(x)||_{p->p}``, a rigorous lower bound on the Lipschitz constant.

    Parameters
    ----------
    net : certify.Network
    x : array_like, shape (d,)
    norm : {1, 2, inf, "l1", "l2", "linf"}
    pattern : sequence of int arrays, optional
        Piece index per hidden neuron (for ReLU: 0 inactive, 1 active).  Needed only when ``x``
        lies on a kink; it is accepted only if a nearby point of ``domain`` strictly inside the
        pattern's region is exhibited (see the module docstring).
    domain : (lo, hi), optional
        Box that the realising point must stay in (when a pattern is used).
    prec : int
        Arb working precision in bits.

    Returns
    -------
    flint.arb

    Raises
    ------
    KinkError
        ``x`` is on a kink and no (realisable) ``pattern`` was given.
    """
    p = normalize_norm(norm)
    J = jacobian_ball(net, x, pattern=pattern, domain=domain, prec=prec)
    with flint.ctx.workprec(prec):
        return arb_matrix_norm(J, p)


def _arb_vec_norm(v, p):
    if p == 1:
        return sum((abs(a) for a in v), flint.arb(0))
    if p == math.inf:
        return _arb_max([abs(a) for a in v])
    return sum((a * a for a in v), flint.arb(0)).sqrt()


def pair_quotient_ball(net, x1, x2, norm=2, *, prec: int = 128) -> flint.arb:
    """Arb ball enclosing ``||f(x1) - f(x2)||_p / ||x1 - x2||_p``.

    Raises
    ------
    ParameterError
        If ``x1 == x2``.
    """
    p = normalize_norm(norm)
    x1 = _check_point(net, x1, "x1")
    x2 = _check_point(net, x2, "x2")
    if np.array_equal(x1, x2):
        raise ParameterError("x2", x2, "a point different from x1")
    with flint.ctx.workprec(prec):
        _, y1 = _forward_arb(net, x1, prec)
        _, y2 = _forward_arb(net, x2, prec)
        num = _arb_vec_norm([y1[i, 0] - y2[i, 0] for i in range(y1.nrows())], p)
        den = _arb_vec_norm([flint.arb(a) - flint.arb(b) for a, b in zip(x1, x2)], p)
        return num / den


def point_witness(net, x, norm=2, *, pattern=None, domain=None, prec: int = 128) -> Witness:
    """A :class:`~certify.methods.certificate.Witness` of kind ``"point"`` at ``x``."""
    ball = jacobian_norm_ball(net, x, norm, pattern=pattern, domain=domain, prec=prec)
    x = np.array(x, dtype=np.float64).reshape(-1)
    x.setflags(write=False)
    pat = None if pattern is None else _normalize_pattern(net, pattern)
    return Witness(kind="point", x=x, x2=None, value=max(0.0, arb_floor(ball)),
                   value_ball=ball.str(radius=True), pattern=pat)


def pair_witness(net, x1, x2, norm=2, *, prec: int = 128) -> Witness:
    """A :class:`~certify.methods.certificate.Witness` of kind ``"pair"``."""
    ball = pair_quotient_ball(net, x1, x2, norm, prec=prec)
    a = np.array(x1, dtype=np.float64).reshape(-1)
    b = np.array(x2, dtype=np.float64).reshape(-1)
    a.setflags(write=False)
    b.setflags(write=False)
    return Witness(kind="pair", x=a, x2=b, value=max(0.0, arb_floor(ball)),
                   value_ball=ball.str(radius=True))
