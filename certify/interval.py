"""Vectorized interval arithmetic with outward rounding, and rigorous matrix-norm bounds.

An :class:`Interval` holds two float64 arrays ``lo <= hi`` of any shape and stands for the set of
real arrays ``x`` with ``lo <= x <= hi`` elementwise.  Every operation returns an interval that
contains the exact real result for every choice of points in the operands.

How rigour is obtained (details and measured widths in ``docs/arithmetic.md``):

* The basic operations ``+ - * /`` and ``sqrt`` are correctly rounded in IEEE 754 binary64 with
  round-to-nearest, so moving the computed endpoint one float outward (``np.nextafter``) gives a
  valid bound.  :func:`check_floating_point_environment` runs at import and refuses to continue
  if rounding is not to-nearest or subnormals are flushed to zero.
* Matrix products and sums go through BLAS / numpy's pairwise summation in an unknown order;
  they are covered by the a priori bound ``|fl(x^T y) - x^T y| <= gamma_k |x|^T |y| + k 2^-1074``
  (any summation order, FMA allowed, gradual underflow), ``gamma_k = k u / (1 - k u)``,
  ``u = 2^-53``, evaluated with upward rounding.
* ``exp``, ``log``, ``log1p``, ``expm1`` and ``tanh`` use numpy's results widened outward by
  :data:`LIBM_ULPS` floats.  This relies on numpy's implementations being accurate to within that
  many ulps; the test suite measures their error against Arb on this machine.

Infinite endpoints are allowed (``lo`` may be ``-inf``, ``hi`` may be ``+inf``) and arise from
overflow; they are always sound, if uninformative.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from bounds.errors import ParameterError

from .errors import DomainError, ShapeError

__all__ = [
    "Interval", "UpperBound", "Enclosure", "LIBM_ULPS",
    "matmul", "hull", "intersect", "stack", "concatenate",
    "sqrt", "exp", "log", "log1p", "expm1", "tanh",
    "opnorm_upper", "spectral_norm_enclosure", "sym_lambda_max_upper",
    "check_floating_point_environment",
]

U = 2.0 ** -53                 # unit roundoff of binary64, round-to-nearest
ETA = 2.0 ** -1074             # smallest positive subnormal
TINY = 2.0 ** -1022            # smallest positive normal; >= k * ETA for every k <= 2^52.  Used
                               # instead of subnormal constants: subnormal operands cost x86 CPUs
                               # a microcode assist per element (a 20x slowdown of matmul)
LIBM_ULPS = 4                  # assumed max error (in ulps) of numpy's exp/log/log1p/expm1/tanh
_ONE_PLUS = 1.0 + 2.0 ** -52   # x * _ONE_PLUS >= next float above x for x >= 2^-1022
_INF = math.inf


# ------------------------------------------------------------------------------- environment

def check_floating_point_environment() -> None:
    """Raise ``RuntimeError`` unless float64 arithmetic rounds to nearest with gradual underflow.

    Everything in this module relies on it; a library that switched the FPU to flush-to-zero or to
    a directed rounding mode would silently break the enclosures.
    """
    one = np.array([1.0, -1.0])
    sgn = np.array([1.0, -1.0])
    ulp = 2.0 ** -52
    tiny = np.array([2.0 ** -1022])
    ok = (np.all(one + sgn * (0.75 * ulp) == one + sgn * ulp)   # 0.75 ulp rounds away: not down/zero
          and np.all(one + sgn * (0.25 * ulp) == one)            # 0.25 ulp rounds back: not up
          and (tiny * 0.5)[0] == 2.0 ** -1023                    # subnormals are produced...
          and (tiny * 0.5)[0] * 2.0 == 2.0 ** -1022              # ...and read back (no DAZ)
          and 1.0 + 0.75 * ulp == 1.0 + ulp and 1.0 + 0.25 * ulp == 1.0)
    if not ok:
        raise RuntimeError("certify.interval needs IEEE binary64 round-to-nearest with gradual "
                           "underflow; the current floating-point environment differs (flush-to-zero "
                           "or a directed rounding mode), so no enclosure would be rigorous")


check_floating_point_environment()


# ------------------------------------------------------------------------------- rounding helpers

_C_UP = 2.0 ** -53 * (1.0 + 2.0 ** -52)   # |x| * _C_UP exceeds half the gap above |x| (normal x)
_MAXF = float(np.finfo(np.float64).max)


def _up(x):
    """Upper bound on the exact value of a correctly rounded result ``x`` (usually ``x`` + 1 ulp).

    ``x + (|x| 2^-53 (1 + 2^-52) + 2^-1022)`` lies strictly beyond the midpoint between ``x`` and
    the next float, so round-to-nearest lands on that next float or further; the ``2^-1022`` term
    covers subnormal and zero ``x``.  Same effect as ``np.nextafter(x, inf)`` but ~10x faster.
    An overflowed ``-inf`` becomes ``-max_float`` (the exact value is below it).
    """
    with np.errstate(all="ignore"):
        r = x + (np.abs(x) * _C_UP + TINY)
        nan = np.isnan(r)
        if nan.any():
            r = np.where(nan & ~np.isnan(x), -_MAXF, r)
    return r


def _down(x):
    """Lower bound on the exact value of a correctly rounded result ``x``; mirror of :func:`_up`."""
    with np.errstate(all="ignore"):
        r = x - (np.abs(x) * _C_UP + TINY)
        nan = np.isnan(r)
        if nan.any():
            r = np.where(nan & ~np.isnan(x), _MAXF, r)
    return r


def _sum_round(s, direction: int):
    """Outward bound for a single correctly rounded addition: a zero sum is exact (no underflow in
    addition under gradual underflow), so it is kept at zero."""
    r = _down(s) if direction < 0 else _up(s)
    zero = s == 0.0
    return np.where(zero, 0.0, r) if zero.any() else r


def _up_pos(x):
    """Cheap upper bound for a correctly rounded *nonnegative* result ``x`` (about 6x faster than nextafter).

    For normal ``x`` the product ``x * (1 + 2^-52)`` is exactly at least one ulp above ``x``, so its
    rounding is at least the next float; adding ``2^-1022`` covers subnormal ``x`` (whose rounding
    error is at most ``2^-1075``).
    """
    return x * _ONE_PLUS + TINY


def _widen(lo, hi, steps: int):
    for _ in range(steps):
        lo = _down(lo)
        hi = _up(hi)
    return lo, hi


def _ceil_float(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, _INF)


@lru_cache(maxsize=None)
def _gamma_up(k: int) -> float:
    """A float >= gamma_k = k u / (1 - k u)."""
    if k <= 0:
        return 0.0
    ku = Fraction(k) * Fraction(1, 2 ** 53)
    if ku >= Fraction(1, 2):
        raise ShapeError(f"inner dimension {k} too large for the a priori rounding-error bound")
    return _ceil_float(ku / (1 - ku))


@lru_cache(maxsize=None)
def _gamma_ratio_up(k: int) -> float:
    """A float >= gamma_k / (1 - gamma_k): bounds the error of a sum in terms of its computed value."""
    if k <= 0:
        return 0.0
    g = _gamma_frac(k)
    return _ceil_float(g / (1 - g))


@lru_cache(maxsize=None)
def _inv_one_minus_gamma_up(k: int) -> float:
    """A float >= 1 / (1 - gamma_k)."""
    if k <= 0:
        return 1.0
    ku = Fraction(k) * Fraction(1, 2 ** 53)
    gamma = ku / (1 - ku)
    return _ceil_float(1 / (1 - gamma))


# ------------------------------------------------------------------------------- conversion

def _fraction_bounds(q: Fraction) -> tuple[float, float]:
    try:
        f = float(q)
    except OverflowError:
        big = np.finfo(np.float64).max
        return (big, _INF) if q > 0 else (-_INF, -big)
    fq = Fraction(f)
    if fq == q:
        return f, f
    return (f, math.nextafter(f, _INF)) if fq < q else (math.nextafter(f, -_INF), f)


def _object_bounds(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.empty(arr.shape)
    hi = np.empty(arr.shape)
    for idx, v in np.ndenumerate(arr):
        if isinstance(v, float | np.floating):
            lo[idx] = hi[idx] = float(v)
            continue
        try:
            q = Fraction(v) if not isinstance(v, str) else Fraction(v.strip())
        except (ValueError, TypeError) as exc:
            raise DomainError(f"cannot convert {v!r} to an enclosing interval: {exc}") from None
        lo[idx], hi[idx] = _fraction_bounds(q)
    return lo, hi


def _to_bounds(x) -> tuple[np.ndarray, np.ndarray]:
    """Float64 arrays ``lo <= x <= hi`` enclosing the exact value(s) ``x`` (no copy for float64 input)."""
    if isinstance(x, Interval):
        return x.lo, x.hi
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize <= 8:
        return (arr, arr) if arr.dtype == np.float64 else (arr.astype(np.float64),) * 2
    if kind == "b":
        f = arr.astype(np.float64)
        return f, f
    if kind in "iu":
        f = arr.astype(np.float64)
        inexact = np.abs(f) > 2.0 ** 53     # integers beyond 2^53 may have been rounded
        if not inexact.any():
            return f, f
        return np.where(inexact, _down(f), f), np.where(inexact, _up(f), f)
    if kind == "f":                          # longdouble: compare exactly in extended precision
        f = arr.astype(np.float64)
        back = f.astype(arr.dtype)
        return np.where(back > arr, _down(f), f), np.where(back < arr, _up(f), f)
    if kind in "OU":
        return _object_bounds(arr)
    raise DomainError(f"cannot build a real interval from data of dtype {arr.dtype}")


def _as_interval(x) -> "Interval":
    if isinstance(x, Interval):
        return x
    lo, hi = _to_bounds(x)
    _validate(lo, hi)
    # views, so that marking them read-only leaves the caller's array writeable
    return Interval._new(lo.view(), hi.view())


def _validate(lo: np.ndarray, hi: np.ndarray) -> None:
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise DomainError("interval endpoints must not be NaN")
    bad = lo > hi
    if bad.any():
        i = np.argwhere(bad)[0] if bad.ndim else ()
        raise DomainError(f"interval with lo > hi at index {tuple(int(j) for j in i)}: "
                          f"lo={float(lo[tuple(i)])!r}, hi={float(hi[tuple(i)])!r}")
    if (lo == _INF).any() or (hi == -_INF).any():
        raise DomainError("interval endpoints must satisfy lo < +inf and hi > -inf "
                          "(an interval is a set of real numbers)")


def _broadcast(*arrays):
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        raise ShapeError("shapes do not broadcast: " + ", ".join(str(np.shape(a)) for a in arrays)) from None


# ------------------------------------------------------------------------------- the class

class Interval:
    """An array of closed real intervals ``[lo, hi]`` with outward-rounded arithmetic.

    Parameters
    ----------
    lo, hi : array_like
        Endpoints, broadcast to a common shape.  ``hi`` defaults to ``lo`` (a point interval).
        Non-float input (Python ints beyond 2^53, ``Fraction``, decimal strings such as ``"0.1"``)
        is enclosed exactly: ``Interval("0.1")`` contains the real number 1/10.

    Raises
    ------
    DomainError
        If an endpoint is NaN, ``lo > hi`` somewhere, ``lo = +inf`` or ``hi = -inf``.

    Examples
    --------
    >>> x = Interval([1.0, -2.0], [2.0, 3.0])
    >>> (x * x).hi
    array([4., 9.])
    >>> tenth = Interval("0.1")          # 1/10 is not a float: two adjacent floats enclose it
    >>> bool(tenth.lo < tenth.hi)
    True
    >>> bool((tenth * 10).contains(1.0))
    True
    """

    __slots__ = ("lo", "hi")
    __array_ufunc__ = None  # make numpy defer to our reflected operators (ndarray @ Interval etc.)

    def __init__(self, lo, hi=None):
        lo_lo, lo_hi = _to_bounds(lo)
        hi_lo, hi_hi = (lo_lo, lo_hi) if hi is None else _to_bounds(hi)
        a, b = _broadcast(np.array(lo_lo, dtype=np.float64), np.array(hi_hi, dtype=np.float64))
        _validate(a, b)
        self._set(np.array(a), np.array(b))

    def _set(self, lo, hi):
        lo.flags.writeable = False
        hi.flags.writeable = False
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def _new(cls, lo, hi) -> "Interval":
        """Wrap already-valid float64 arrays (internal; no validation, no copy)."""
        obj = cls.__new__(cls)
        lo = np.asarray(lo, dtype=np.float64)
        hi = np.asarray(hi, dtype=np.float64)
        if lo.shape != hi.shape:
            lo, hi = np.broadcast_arrays(lo, hi)
        obj._set(lo, hi)
        return obj

    def __setattr__(self, name, value):
        raise AttributeError("Interval is immutable")

    # ---- constructors
    @classmethod
    def point(cls, x) -> "Interval":
        """The tightest interval containing the exact value(s) ``x`` (degenerate for floats)."""
        return cls(x)

    @classmethod
    def from_midrad(cls, mid, rad) -> "Interval":
        """The interval ``[mid - rad, mid + rad]``, rounded outward."""
        m = np.asarray(mid, dtype=np.float64)
        r = np.asarray(rad, dtype=np.float64)
        if np.isnan(r).any() or (r < 0).any():
            raise DomainError("from_midrad: rad must be >= 0 and not NaN")
        with np.errstate(all="ignore"):
            lo, hi = _down(m - r), _up(m + r)
        _validate(lo, hi)
        return cls._new(lo, hi)

    # ---- basic attributes
    @property
    def shape(self) -> tuple:
        return self.lo.shape

    @property
    def ndim(self) -> int:
        return self.lo.ndim

    @property
    def size(self) -> int:
        return self.lo.size

    def __len__(self) -> int:
        return len(self.lo)

    def __getitem__(self, idx) -> "Interval":
        return Interval._new(self.lo[idx], self.hi[idx])

    @property
    def T(self) -> "Interval":
        return Interval._new(self.lo.T, self.hi.T)

    def transpose(self, *axes) -> "Interval":
        return Interval._new(self.lo.transpose(*axes), self.hi.transpose(*axes))

    def reshape(self, *shape) -> "Interval":
        return Interval._new(self.lo.reshape(*shape), self.hi.reshape(*shape))

    def __repr__(self) -> str:
        if self.ndim == 0:
            return f"Interval({float(self.lo)!r}, {float(self.hi)!r})"
        return f"Interval(lo={self.lo!r}, hi={self.hi!r})"

    # ---- derived quantities
    @property
    def mid(self) -> np.ndarray:
        """A float point of each interval, near its centre (finite whenever possible, always inside)."""
        return self.midrad()[0]

    @property
    def rad(self) -> np.ndarray:
        """An upper bound on the distance from :attr:`mid` to either endpoint."""
        return self.midrad()[1]

    def midrad(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mid, rad)`` with ``[lo, hi]`` contained in ``[mid - rad, mid + rad]`` exactly."""
        lo, hi = self.lo, self.hi
        with np.errstate(all="ignore"):
            m = 0.5 * lo + 0.5 * hi            # no overflow, unlike (lo + hi) / 2
            bad = ~np.isfinite(m)
            if bad.any():
                m = np.where(bad, 0.0, m)
            m = np.clip(m, lo, hi)             # halving subnormals can land outside
            d = np.maximum(hi - m, m - lo)
            r = np.where(d == 0.0, 0.0, _up_pos(d))
        return m, r

    @property
    def width(self) -> np.ndarray:
        """An upper bound on ``hi - lo``."""
        with np.errstate(all="ignore"):
            d = self.hi - self.lo
            return np.where(d == 0.0, 0.0, _up_pos(d))

    @property
    def mag(self) -> np.ndarray:
        """``max |x|`` over the interval (exact)."""
        return np.maximum(np.abs(self.lo), np.abs(self.hi))

    @property
    def mig(self) -> np.ndarray:
        """``min |x|`` over the interval (exact)."""
        return np.where(self.lo > 0, self.lo, np.where(self.hi < 0, -self.hi, 0.0))

    def is_point(self) -> np.ndarray:
        return self.lo == self.hi

    # ---- set operations
    def contains(self, x) -> np.ndarray:
        """Elementwise: does the interval certainly contain ``x`` (a point array or an Interval)?"""
        xlo, xhi = _to_bounds(x)
        return (self.lo <= xlo) & (xhi <= self.hi)

    def subset(self, other) -> np.ndarray:
        """Elementwise: is this interval contained in ``other``?"""
        return _as_interval(other).contains(self)

    def hull(self, other) -> "Interval":
        return hull(self, other)

    def intersect(self, other) -> "Interval":
        return intersect(self, other)

    # ---- arithmetic
    def __neg__(self) -> "Interval":
        return Interval._new(-self.hi, -self.lo)

    def __pos__(self) -> "Interval":
        return self

    def __add__(self, other) -> "Interval":
        b = _as_interval(other)
        with np.errstate(all="ignore"):
            return Interval._new(*_broadcast(_sum_round(self.lo + b.lo, -1), _sum_round(self.hi + b.hi, 1)))

    __radd__ = __add__

    def __sub__(self, other) -> "Interval":
        b = _as_interval(other)
        with np.errstate(all="ignore"):
            return Interval._new(*_broadcast(_sum_round(self.lo - b.hi, -1), _sum_round(self.hi - b.lo, 1)))

    def __rsub__(self, other) -> "Interval":
        return _as_interval(other) - self

    def __mul__(self, other) -> "Interval":
        b = _as_interval(other)
        return Interval._new(*_mul_bounds(self.lo, self.hi, b.lo, b.hi))

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Interval":
        b = _as_interval(other)
        if ((b.lo <= 0) & (b.hi >= 0)).any():
            raise DomainError("division by an interval that contains 0")
        with np.errstate(all="ignore"):
            q = (self.lo / b.lo, self.lo / b.hi, self.hi / b.lo, self.hi / b.hi)
            # inf/inf is NaN; the remaining corners still bound the quotient set (fmin/fmax skip NaN)
            lo = np.fmin(np.fmin(q[0], q[1]), np.fmin(q[2], q[3]))
            hi = np.fmax(np.fmax(q[0], q[1]), np.fmax(q[2], q[3]))
            return Interval._new(*_broadcast(_down(lo), _up(hi)))

    def __rtruediv__(self, other) -> "Interval":
        return _as_interval(other) / self

    def __pow__(self, n) -> "Interval":
        if not (isinstance(n, int | np.integer) and n >= 0):
            raise ParameterError("n", n, "a nonnegative integer", "Interval ** n")
        return _power(self, int(n))

    def __matmul__(self, other) -> "Interval":
        return matmul(self, other)

    def __rmatmul__(self, other) -> "Interval":
        return matmul(other, self)

    def square(self) -> "Interval":
        """``x**2`` without the dependency problem of ``x * x``."""
        return _power(self, 2)

    def __abs__(self) -> "Interval":
        return Interval._new(self.mig, self.mag)

    abs = __abs__

    def sum(self, axis=None, keepdims: bool = False) -> "Interval":
        """Sum along ``axis`` (all axes by default) with an a priori rounding-error bound."""
        return Interval._new(_sum_bound(self.lo, axis, keepdims, -1),
                             _sum_bound(self.hi, axis, keepdims, +1))

    # transcendental methods (module functions below do the work)
    def sqrt(self) -> "Interval":
        return sqrt(self)

    def exp(self) -> "Interval":
        return exp(self)

    def log(self) -> "Interval":
        return log(self)

    def log1p(self) -> "Interval":
        return log1p(self)

    def expm1(self) -> "Interval":
        return expm1(self)

    def tanh(self) -> "Interval":
        return tanh(self)


# ------------------------------------------------------------------------------- elementwise kernels

def _mul_bounds(alo, ahi, blo, bhi):
    corners = ((alo, blo), (alo, bhi), (ahi, blo), (ahi, bhi))
    with np.errstate(all="ignore"):
        p = [x * y for x, y in corners]
        # 0 * inf gives NaN; a zero endpoint times an unbounded one contributes 0 (the operands are
        # real numbers), and fmin/fmax return that corner's partner, which already bounds it
        lo = np.fmin(np.fmin(p[0], p[1]), np.fmin(p[2], p[3]))
        hi = np.fmax(np.fmax(p[0], p[1]), np.fmax(p[2], p[3]))
        if np.isnan(lo).any():      # every corner was 0 * inf: the product is exactly 0
            lo = np.where(np.isnan(lo), 0.0, lo)
            hi = np.where(np.isnan(hi), 0.0, hi)
        lo_r, hi_r = _down(lo), _up(hi)
        zero_lo, zero_hi = lo == 0.0, hi == 0.0
        if zero_lo.any() or zero_hi.any():
            # a zero corner is exact unless it underflowed (both factors nonzero); then a zero
            # extreme needs no widening, since every other corner's rounding kept its sign
            under = np.zeros(np.shape(lo), dtype=bool)
            for (x, y), q in zip(corners, p):
                under |= (q == 0.0) & (x != 0.0) & (y != 0.0)
            lo_r = np.where(zero_lo & ~under, 0.0, lo_r)
            hi_r = np.where(zero_hi & ~under, 0.0, hi_r)
        return _broadcast(lo_r, hi_r)


def _pow_nonneg(x: np.ndarray, n: int, upward: bool) -> np.ndarray:
    """Bound on ``x**n`` for ``x >= 0`` by square-and-multiply, rounding every product one way."""
    step = _up if upward else (lambda v: np.maximum(_down(v), 0.0))
    result = np.ones_like(x)
    base = x
    first = True
    with np.errstate(all="ignore"):
        while n:
            if n & 1:
                result = base.copy() if first else step(result * base)
                first = False
            n >>= 1
            if n:
                base = step(base * base)
    return result


def _power(a: Interval, n: int) -> Interval:
    if n == 0:
        return Interval._new(np.ones(a.shape), np.ones(a.shape))
    if n == 1:
        return a
    if n % 2 == 0:
        return Interval._new(_pow_nonneg(a.mig, n, False), _pow_nonneg(a.mag, n, True))
    # odd powers are increasing: x^n = sign(x) |x|^n at each endpoint
    lo = np.where(a.lo >= 0, _pow_nonneg(np.abs(a.lo), n, False), -_pow_nonneg(np.abs(a.lo), n, True))
    hi = np.where(a.hi >= 0, _pow_nonneg(np.abs(a.hi), n, True), -_pow_nonneg(np.abs(a.hi), n, False))
    return Interval._new(lo, hi)


def _sum_bound(x: np.ndarray, axis, keepdims: bool, direction: int) -> np.ndarray:
    """Lower (direction -1) or upper (+1) bound on the exact sum of ``x`` along ``axis``."""
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    with np.errstate(all="ignore"):
        s = np.sum(x, axis=axis, keepdims=keepdims)
        if n <= 1:
            return np.asarray(s, dtype=np.float64)
        # |fl(sum) - sum| <= gamma_{n-1} sum|x_i| <= gamma_{n-1}/(1-gamma_{n-1}) fl(sum|x_i|)
        err = _up_pos(np.sum(np.abs(x), axis=axis, keepdims=keepdims) * _gamma_ratio_up(n - 1))
        if direction < 0:
            out = _down(s - err)
            return np.where(np.isnan(out), -_INF, out)
        out = _up(s + err)
        return np.where(np.isnan(out), _INF, out)


@lru_cache(maxsize=None)
def _gamma_frac(k: int) -> Fraction:
    ku = Fraction(k, 2 ** 53)
    return ku / (1 - ku)


# ------------------------------------------------------------------------------- set functions

def hull(a, b) -> Interval:
    """Smallest interval containing both operands (elementwise)."""
    a, b = _as_interval(a), _as_interval(b)
    return Interval._new(*_broadcast(np.minimum(a.lo, b.lo), np.maximum(a.hi, b.hi)))


def intersect(a, b) -> Interval:
    """Elementwise intersection; raises :class:`DomainError` if some intersection is empty."""
    a, b = _as_interval(a), _as_interval(b)
    lo, hi = _broadcast(np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi))
    if (lo > hi).any():
        raise DomainError("intersect: the intervals are disjoint in some entry")
    return Interval._new(lo, hi)


def stack(items, axis: int = 0) -> Interval:
    items = [_as_interval(x) for x in items]
    return Interval._new(np.stack([x.lo for x in items], axis), np.stack([x.hi for x in items], axis))


def concatenate(items, axis: int = 0) -> Interval:
    items = [_as_interval(x) for x in items]
    return Interval._new(np.concatenate([x.lo for x in items], axis),
                         np.concatenate([x.hi for x in items], axis))


# ------------------------------------------------------------------------------- elementary functions

def sqrt(x) -> Interval:
    """Square root (correctly rounded in IEEE 754, so one ulp of widening suffices)."""
    x = _as_interval(x)
    if (x.lo < 0).any():
        raise DomainError("sqrt of an interval reaching below 0")
    with np.errstate(all="ignore"):
        return Interval._new(np.maximum(_down(np.sqrt(x.lo)), 0.0), _up(np.sqrt(x.hi)))


def _monotone(x: Interval, f, lo_clip=None, hi_clip=None) -> Interval:
    """Increasing libm function ``f``: evaluate at the endpoints and widen by LIBM_ULPS floats."""
    with np.errstate(all="ignore"):
        lo, hi = _widen(f(x.lo), f(x.hi), LIBM_ULPS)
    if lo_clip is not None:
        lo = np.maximum(lo, lo_clip)
        hi = np.maximum(hi, lo_clip)
    if hi_clip is not None:
        lo = np.minimum(lo, hi_clip)
        hi = np.minimum(hi, hi_clip)
    return Interval._new(lo, hi)


def exp(x) -> Interval:
    """``exp`` (numpy's value widened by :data:`LIBM_ULPS` ulps; clipped to ``>= 0``)."""
    x = _as_interval(x)
    return _monotone(x, np.exp, lo_clip=0.0)


def expm1(x) -> Interval:
    x = _as_interval(x)
    return _monotone(x, np.expm1, lo_clip=-1.0)


def log(x) -> Interval:
    """Natural logarithm; ``lo = 0`` gives a lower bound of ``-inf``."""
    x = _as_interval(x)
    if (x.lo < 0).any():
        raise DomainError("log of an interval reaching below 0")
    return _monotone(x, np.log)


def log1p(x) -> Interval:
    x = _as_interval(x)
    if (x.lo < -1).any():
        raise DomainError("log1p of an interval reaching below -1")
    return _monotone(x, np.log1p)


def tanh(x) -> Interval:
    x = _as_interval(x)
    return _monotone(x, np.tanh, lo_clip=-1.0, hi_clip=1.0)


# ------------------------------------------------------------------------------- matrix product

def _operand(x):
    """``(lo, hi, is_point)`` of a matrix operand, without copying float64 arrays."""
    if isinstance(x, Interval):
        return x.lo, x.hi, np.array_equal(x.lo, x.hi)
    lo, hi = _to_bounds(x)
    return lo, hi, lo is hi or np.array_equal(lo, hi)


def _matmul_elementwise(a: Interval, b: Interval) -> Interval:
    """Fallback for unbounded entries: broadcast elementwise products, then an interval sum."""
    squeeze_a = a.ndim == 1
    squeeze_b = b.ndim == 1
    if squeeze_a:
        a = a.reshape(1, -1)
    if squeeze_b:
        b = b.reshape(-1, 1)
    if a.shape[-1] != b.shape[-2]:
        raise ShapeError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape}")
    prod = Interval._new(a.lo[..., :, :, None], a.hi[..., :, :, None]) * \
        Interval._new(b.lo[..., None, :, :], b.hi[..., None, :, :])
    out = prod.sum(axis=-2)
    if squeeze_b:
        out = out[..., 0]
    if squeeze_a:
        out = out[..., 0] if squeeze_b else out[..., 0, :]
    return out


def matmul(a, b) -> Interval:
    """Rigorous enclosure of ``A @ B`` for interval or point operands (numpy ``matmul`` shapes).

    Midpoint-radius evaluation: ``C = fl(mA @ mB)`` and the radius bound

    ``|mA| (rB + gamma_k |mB|) + rA (|mB| + rB) + k 2^-1074``,

    evaluated as one nonnegative BLAS product and rounded upward with its own a priori error bound.
    The product of two point matrices is thus enclosed too.  Entries with infinite endpoints
    fall back to an elementwise evaluation.
    """
    alo, ahi, a_point = _operand(a)
    blo, bhi, b_point = _operand(b)
    if alo.ndim == 0 or blo.ndim == 0:
        raise ShapeError("matmul: scalar operands are not allowed, use *")
    finite = (np.isfinite(alo).all() and (a_point or np.isfinite(ahi).all())
              and np.isfinite(blo).all() and (b_point or np.isfinite(bhi).all()))
    if not finite:
        _validate(alo, ahi)
        _validate(blo, bhi)
        return _matmul_elementwise(Interval._new(alo.view(), ahi.view()),
                                   Interval._new(blo.view(), bhi.view()))
    mA, rA = (alo, None) if a_point else Interval._new(alo, ahi).midrad()
    mB, rB = (blo, None) if b_point else Interval._new(blo, bhi).midrad()
    try:
        with np.errstate(all="ignore"):
            c = mA @ mB
    except ValueError:
        raise ShapeError(f"matmul: shapes {mA.shape} and {mB.shape} are not aligned") from None
    k = mA.shape[-1]
    if 3 * k > 2 ** 52:
        raise ShapeError(f"matmul: inner dimension {k} too large")
    # Underflow: each k-term dot product has absolute error at most k 2^-1074 beyond the relative
    # part; TINY = 2^-1022 >= 2^52 * 2^-1074 covers up to three such terms.
    with np.errstate(all="ignore"):
        if rA is None and rB is None:
            # rad <= gamma_k (P + k eta) / (1 - gamma_k) + k eta <= c P + 2 k eta  (c < 1)
            prod = np.abs(mA) @ np.abs(mB)
            rad = _up_pos(_up_pos(prod * _gamma_ratio_up(k)) + TINY)
        else:
            g = _gamma_up(k)
            if rB is None:          # (rA + gamma_k |mA|) |mB|
                prod = _up_pos(rA + _up_pos(np.abs(mA) * g)) @ np.abs(mB)
            elif rA is None:        # |mA| (rB + gamma_k |mB|)
                prod = np.abs(mA) @ _up_pos(rB + _up_pos(np.abs(mB) * g))
            else:                   # |mA| (rB + gamma_k |mB|) + rA (|mB| + rB)
                # two k-products rather than one 2k-product of concatenations: the larger size
                # crosses OpenBLAS's threading threshold, which is slow on a busy machine
                absB = np.abs(mB)
                p1 = np.abs(mA) @ _up_pos(rB + _up_pos(absB * g))
                p2 = rA @ _up_pos(absB + rB)
                prod = _up_pos(p1 + p2)
            # the exact nonnegative product(s) are <= (prod + 2 k eta) / (1 - gamma_k); the mid
            # product adds k eta more
            rad = _up_pos(_up_pos(prod + TINY) * _inv_one_minus_gamma_up(k))
        lo = _down(c - rad)
        hi = _up(c + rad)
        if not (np.isfinite(c).all() and np.isfinite(rad).all()):
            bad = ~(np.isfinite(c) & np.isfinite(rad))     # overflow: give up there, soundly
            lo = np.where(bad, -_INF, lo)
            hi = np.where(bad, _INF, hi)
    return Interval._new(lo, hi)


# ------------------------------------------------------------------------------- result objects

class UpperBound(float):
    """A rigorous upper bound (a ``float``) that remembers how it was obtained.

    Attributes
    ----------
    method : str
        Which of the candidate bounds was the smallest.
    candidates : dict
        Every rigorous bound that was computed, by name.
    """

    def __new__(cls, value: float, method: str = "", candidates: dict | None = None):
        obj = super().__new__(cls, value)
        obj.method = method
        obj.candidates = dict(candidates or {})
        return obj

    def __repr__(self) -> str:
        return f"UpperBound({float(self)!r}, method={self.method!r})"

    def __reduce__(self):
        return (UpperBound, (float(self), self.method, self.candidates))


class Enclosure(tuple):
    """A rigorous enclosure ``(lo, hi)`` of a real number; unpacks as a pair.

    Attributes
    ----------
    lo, hi : float
    method : str
    info : dict
    """

    def __new__(cls, lo: float, hi: float, method: str = "", info: dict | None = None):
        obj = super().__new__(cls, (float(lo), float(hi)))
        obj.method = method
        obj.info = dict(info or {})
        return obj

    @property
    def lo(self) -> float:
        return self[0]

    @property
    def hi(self) -> float:
        return self[1]

    @property
    def rel_width(self) -> float:
        return (self[1] - self[0]) / abs(self[1]) if self[1] else 0.0

    def __repr__(self) -> str:
        return f"Enclosure(lo={self[0]!r}, hi={self[1]!r}, method={self.method!r})"

    def __reduce__(self):
        return (Enclosure, (self[0], self[1], self.method, self.info))


# ------------------------------------------------------------------------------- nonnegative linear algebra

def _nonneg_matmul_upper(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Upper bound on ``x @ y`` for elementwise nonnegative float arrays."""
    k = x.shape[-1]
    with np.errstate(all="ignore"):
        prod = x @ y
        return _up_pos(_up_pos(prod + TINY) * _inv_one_minus_gamma_up(k))


def _nonneg_sum_upper(x: np.ndarray, axis=None) -> np.ndarray:
    """Upper bound on the sum of nonnegative floats (additions never underflow)."""
    n = x.size if axis is None else x.shape[axis]
    with np.errstate(all="ignore"):
        return _up_pos(np.sum(x, axis=axis) * _inv_one_minus_gamma_up(max(n - 1, 0)))


def _sqrt_up(v: float) -> float:
    return math.nextafter(math.sqrt(v), _INF) if v > 0 else 0.0 if v == 0 else _INF


def _perron_upper(p: np.ndarray, gram: bool, iters: int = 300) -> float:
    """Collatz-Wielandt upper bound on rho(p^T p) (``gram``) or rho(p) for nonnegative ``p``.

    For any positive vector x, ``rho(K) <= max_i (K x)_i / x_i`` when ``K >= 0``; x comes from a
    floating-point power iteration and the ratio is evaluated with upward rounding.
    """
    if p.size == 0 or not p.any():
        return 0.0
    if not np.isfinite(p).all():
        return _INF
    n = p.shape[1]
    floor = 2.0 ** -40
    x = np.ones(n)
    prev = _INF
    with np.errstate(all="ignore"):
        for _ in range(iters):
            y = p.T @ (p @ x) if gram else p @ x
            top = y.max()
            if not (top > 0 and np.isfinite(top)):
                break
            ratio = (y / x).max()
            x = np.maximum(y / top, floor)
            if abs(prev - ratio) <= 1e-15 * ratio:
                break
            prev = ratio
        y = _nonneg_matmul_upper(p, x)
        if gram:
            y = _nonneg_matmul_upper(p.T, y)
        return float(_up(y / x).max())


def _two_norm_nonneg_upper(p: np.ndarray) -> float:
    """Upper bound on ``||p||_2`` for a nonnegative matrix (also bounds ``||M||_2`` for ``|M| <= p``)."""
    return _sqrt_up(_perron_upper(p, gram=True))


# ------------------------------------------------------------------------------- operator norms

def _matrix_bounds(m, what: str) -> Interval:
    a = _as_interval(m)
    if a.ndim != 2:
        raise ShapeError(f"{what}: expected a 2-D matrix, got shape {a.shape}")
    return a


def _check_norm(norm):
    if norm == 1 or norm == 2 or norm == _INF:
        return _INF if norm == _INF else int(norm)
    raise ParameterError("norm", norm, "1, 2 or numpy.inf")


def opnorm_upper(m, norm) -> UpperBound:
    """Rigorous upper bound on ``sup_{M in [M]} ||M||_{p -> p}`` for an interval or point matrix.

    Parameters
    ----------
    m : Interval or array_like, shape (r, c)
    norm : {1, 2, numpy.inf}
        1: max column absolute sum; inf: max row absolute sum (of ``mag(M)``, summed upward).
        2: the minimum of ``sqrt(||M||_1 ||M||_inf)``, a Collatz-Wielandt bound on ``|| |M| ||_2``,
        and ``||mid||_2 + || rad ||_2`` with ``||mid||_2`` from :func:`spectral_norm_enclosure`.

    Returns
    -------
    UpperBound
        A float with ``.method`` and ``.candidates``.

    Examples
    --------
    >>> import numpy as np
    >>> b = opnorm_upper(np.array([[1.0, -2.0], [3.0, 4.0]]), 1)   # exact value 6
    >>> 6.0 <= b < 6.0 + 1e-14, b.method
    (True, 'max column sum of |M|')
    """
    p = _check_norm(norm)
    a = _matrix_bounds(m, "opnorm_upper")
    mag = a.mag
    if mag.size == 0:
        return UpperBound(0.0, "empty", {})
    if not np.isfinite(mag).all():
        return UpperBound(_INF, "unbounded entries", {})
    col = float(_nonneg_sum_upper(mag, axis=0).max())
    row = float(_nonneg_sum_upper(mag, axis=1).max())
    if p == 1:
        return UpperBound(col, "max column sum of |M|", {"l1": col})
    if p == _INF:
        return UpperBound(row, "max row sum of |M|", {"linf": row})
    cands = {"sqrt(l1*linf)": _sqrt_up(float(_up(col * row)))}
    cands["collatz-wielandt |M|"] = _two_norm_nonneg_upper(mag)
    mid, rad = (a.lo, None) if np.array_equal(a.lo, a.hi) else a.midrad()
    spec = spectral_norm_enclosure(mid).hi
    if rad is None:
        cands["spectral(mid)"] = spec
    else:
        cands["spectral(mid) + ||rad||"] = float(_up(spec + _two_norm_nonneg_upper(rad)))
    method = min(cands, key=cands.get)
    return UpperBound(cands[method], method, cands)


# ------------------------------------------------------------------------------- symmetric eigenvalues

def _cholesky(a: np.ndarray) -> np.ndarray | None:
    """Plain right-looking floating-point Cholesky ``a = R^T R`` (upper R); None on a nonpositive pivot.

    Written out (rather than LAPACK) so that every operation is a single IEEE rounding, which is
    what the backward-error bound of Higham, *Accuracy and Stability*, Thm 10.3 assumes.
    """
    a = np.array(a, dtype=np.float64)
    n = a.shape[0]
    r = np.zeros_like(a)
    for k in range(n):
        d = a[k, k]
        if not d > 0:
            return None
        rkk = math.sqrt(d)
        r[k, k] = rkk
        row = a[k, k + 1:] / rkk
        r[k, k + 1:] = row
        if k + 1 < n:
            a[k + 1:, k + 1:] -= np.multiply.outer(row, row)
    return r


def _cholesky_backward_error_upper(r: np.ndarray) -> float:
    """Upper bound on ``||Delta A||_2`` where ``R^T R = A + Delta A`` for the computed factor ``R``.

    ``|Delta A| <= gamma_{n+1} |R|^T |R|`` (Higham Thm 10.3), so ``||Delta A||_2 <= gamma_{n+1}
    || |R| ||_2^2``; underflow adds at most ``(n + max r_ii) 2^-1074`` per entry.
    """
    n = r.shape[0]
    ab = np.abs(r)
    frob2 = float(_nonneg_sum_upper(_up_pos(ab * ab)))
    norm2sq = min(frob2, _perron_upper(ab, gram=True))
    delta = float(_up(_gamma_up(n + 1) * norm2sq))
    under = float(_up(n * (n + float(ab.diagonal().max()) + 1.0) * ETA))
    return float(_up(delta + under))


def _lambda_max_point_upper(m: np.ndarray) -> tuple[float, dict]:
    """Upper bound on lambda_max of a finite symmetric float matrix via a certified Cholesky.

    If floating-point Cholesky of ``A <= mu I - M`` (diagonal rounded down) runs to completion then
    ``A + Delta A`` is PSD, hence ``lambda_max(M) <= mu + ||Delta A||_2``.
    """
    n = m.shape[0]
    if not m.any():
        return 0.0, {"shift": 0.0}
    w = np.linalg.eigvalsh(m)
    lam = float(w[-1])
    spread = max(abs(float(w[0])), abs(lam))
    shift = 8.0 * (n + 2) * U * spread + 2.0 ** -1000
    diag = np.diag(m)
    for attempt in range(80):
        mu = lam + shift
        if not math.isfinite(mu):
            break
        a = -m
        with np.errstate(all="ignore"):
            np.fill_diagonal(a, _down(mu - diag))
        r = _cholesky(a)
        if r is not None:
            delta = _cholesky_backward_error_upper(r)
            return float(_up(mu + delta)), {"mu": mu, "delta": delta, "attempts": attempt + 1,
                                            "float_lambda_max": lam}
        shift *= 4.0
    return _INF, {"failed": True}


def _symmetric_bounds(s, what: str) -> tuple[np.ndarray, np.ndarray]:
    a = _matrix_bounds(s, what)
    if a.shape[0] != a.shape[1]:
        raise ShapeError(f"{what}: expected a square matrix, got shape {a.shape}")
    lo, hi = a.lo, a.hi
    if np.array_equal(lo, hi):
        if not np.array_equal(lo, lo.T):
            raise DomainError(f"{what}: the point matrix is not exactly symmetric "
                              "(symmetrize it, or pass an Interval that contains both triangles)")
        return lo, hi
    # only the symmetric members of [S] matter: intersect [S] with its transpose
    lo2, hi2 = np.maximum(lo, lo.T), np.minimum(hi, hi.T)
    if (lo2 > hi2).any():
        raise DomainError(f"{what}: the interval matrix contains no symmetric matrix")
    return lo2, hi2


def _pow2_scale(x: np.ndarray) -> float:
    """A power of two ``s`` with ``s * x`` exactly representable and ``max|s x|`` near 1 (or 1.0)."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top == 0.0 or not math.isfinite(top):
        return 1.0
    s = math.ldexp(1.0, -math.frexp(top)[1])
    if s == 1.0:
        return 1.0
    with np.errstate(all="ignore"):
        if not np.array_equal((x * s) / s, x):
            return 1.0
    return s


def sym_lambda_max_upper(s) -> UpperBound:
    """Rigorous upper bound on ``lambda_max(S)`` for every symmetric ``S`` in a point or interval matrix.

    Candidates (the smallest is returned): a Gershgorin bound ``max_i (hi_ii + sum_{j != i}
    mag_ij)``, and ``lambda_max(mid) + ||rad||_2`` (Weyl) where ``lambda_max(mid)`` is certified by a
    floating-point Cholesky of ``mu I - mid`` with Higham's backward-error bound, and ``||rad||_2``
    by a Collatz-Wielandt bound.

    Raises
    ------
    ShapeError
        If ``S`` is not square.
    DomainError
        If a point ``S`` is not exactly symmetric, or an interval ``S`` has no symmetric member, or
        has NaN entries.

    Examples
    --------
    >>> import numpy as np
    >>> b = sym_lambda_max_upper(np.array([[2.0, 1.0], [1.0, 2.0]]))   # exact value 3
    >>> 3.0 <= b < 3.0 + 1e-13
    True
    """
    lo, hi = _symmetric_bounds(s, "sym_lambda_max_upper")
    n = lo.shape[0]
    if n == 0:
        raise ShapeError("sym_lambda_max_upper: empty matrix")
    iv = Interval._new(lo, hi)
    mag = iv.mag
    offd = mag.copy()
    np.fill_diagonal(offd, 0.0)
    with np.errstate(all="ignore"):
        gersh = float(_up(np.diag(hi) + _nonneg_sum_upper(offd, axis=1)).max())
    cands = {"gershgorin": gersh}
    if np.isfinite(lo).all() and np.isfinite(hi).all():
        point = np.array_equal(lo, hi)
        mid, rad = (lo, None) if point else iv.midrad()
        scale = _pow2_scale(mid)
        lam, info = _lambda_max_point_upper(mid * scale)
        if math.isfinite(lam):
            lam = float(_up(lam / scale)) if scale != 1.0 else lam
            if point:
                cands["cholesky"] = lam
            else:
                cands["cholesky(mid) + ||rad||"] = float(_up(lam + _perron_upper(rad, gram=False)))
    method = min(cands, key=cands.get)
    return UpperBound(cands[method], method, cands)


# ------------------------------------------------------------------------------- spectral norm

def spectral_norm_enclosure(w) -> Enclosure:
    """Rigorous enclosure ``(lo, hi)`` of ``||W||_2`` (largest singular value) of a point matrix.

    ``lo``: ``||W v|| / ||v||`` for the floating-point top right singular vector ``v``, evaluated in
    interval arithmetic.  ``hi``: square root of :func:`sym_lambda_max_upper` applied to an
    interval enclosure of ``W^T W`` (or ``W W^T``, whichever is smaller).  The matrix is first
    scaled by a power of two (exactly) to avoid overflow.  Relative width is about
    ``k u || |W| ||_2^2 / ||W||_2^2`` for inner dimension ``k``: around 1e-14 for small
    well-conditioned matrices.

    Raises
    ------
    ShapeError
        If ``W`` is not 2-D.
    DomainError
        If ``W`` has non-finite entries or is an interval matrix (use :func:`opnorm_upper`).

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = spectral_norm_enclosure(np.array([[3.0, 0.0], [4.0, 0.0]]))   # exact value 5
    >>> lo <= 5.0 <= hi and hi - lo < 1e-13
    True
    """
    if isinstance(w, Interval):
        if not np.array_equal(w.lo, w.hi):
            raise DomainError("spectral_norm_enclosure takes a point matrix; use opnorm_upper(M, 2) "
                              "for interval matrices")
        w = w.lo
    lo_b, hi_b = _to_bounds(w)
    if not np.array_equal(lo_b, hi_b):
        raise DomainError("spectral_norm_enclosure: entries are not exactly representable floats")
    a = np.asarray(lo_b, dtype=np.float64)
    if a.ndim != 2:
        raise ShapeError(f"spectral_norm_enclosure: expected a 2-D matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise DomainError("spectral_norm_enclosure: matrix has non-finite entries")
    if a.size == 0 or not a.any():
        return Enclosure(0.0, 0.0, "zero matrix")
    scale = _pow2_scale(a)
    a = a * scale
    if a.shape[0] < a.shape[1]:
        a = a.T                       # same singular values, smaller Gram matrix
    gram = matmul(a.T, a)
    lam = sym_lambda_max_upper(gram)
    hi = _sqrt_up(float(lam))
    _, _, vt = np.linalg.svd(a, full_matrices=False)
    v = vt[0]
    wv = matmul(a, v)
    ratio = wv.square().sum() / Interval._new(v, v).square().sum()
    lo = float(ratio.sqrt().lo)
    lo = max(lo, 0.0)
    if scale != 1.0:
        lo = float(_down(lo / scale))
        hi = float(_up(hi / scale))
    return Enclosure(lo, hi, "rayleigh quotient / certified cholesky of the gram matrix",
                     {"lambda_max_method": lam.method, "scale": scale})
