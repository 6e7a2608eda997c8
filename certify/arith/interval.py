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

Hot loops that cannot afford :class:`Interval` objects (the branch and bound of
:mod:`certify.methods.exact`) use the midpoint-radius kernels on plain arrays with leading batch axes:
:func:`midrad_matmul` (the kernel of :func:`matmul`), :func:`midrad_mul`, :func:`midrad_affine_box`,
:func:`inflate_upper`, :func:`sym_lambda_max_upper_batch` (interval Cholesky) and
:func:`opnorm_upper_midrad`.

Infinite endpoints are allowed (``lo`` may be ``-inf``, ``hi`` may be ``+inf``) and arise from
overflow; they are always sound, if uninformative.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from bounds.errors import ParameterError

from certify.errors import DomainError, ShapeError, shown

__all__ = [
    "Interval", "UpperBound", "Enclosure", "LIBM_ULPS",
    "matmul", "hull", "intersect", "stack", "concatenate",
    "sqrt", "exp", "log", "log1p", "expm1", "tanh",
    "opnorm_upper", "spectral_norm_enclosure", "sym_lambda_max_upper",
    "midrad", "inflate_upper", "midrad_matmul", "midrad_mul", "midrad_affine_box",
    "midrad_scale_rows", "midrad_affine_combine",
    "sym_lambda_max_upper_batch", "opnorm_upper_midrad",
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
        raise RuntimeError("certify.arith.interval needs IEEE binary64 round-to-nearest with gradual "
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


_TWO_TINY = 2.0 * TINY      # 2^-1021 = 2^53 * 2^-1074


@lru_cache(maxsize=None)
def _mul_bound_up(k: int, ratio: bool) -> float:
    """A float ``c >= f / (1 - u)^2`` with ``f = 1 / (1 - gamma_k)`` (or ``gamma_k / (1 - gamma_k)``
    when ``ratio``), for the two-operation upper bound ``fl(fl(P c) + 2^-1021)`` used below.

    Rounding argument: for ``P >= 0`` and round-to-nearest, ``fl(P c) >= P c (1 - u) - 2^-1075``
    (relative error in the normal range, half an ulp of a subnormal otherwise) and, the sum being
    >= 2^-1021 (normal), ``fl(a + 2^-1021) >= (a + 2^-1021)(1 - u)``; so the result is at least
    ``f P + (2^-1021 - 2^-1075)(1 - u) >= f P + 2^52 2^-1074``, which covers the absolute
    underflow terms of the callers, at most ``(2 k / (1 - gamma_k) + k) 2^-1074``, whenever
    ``3 k <= 2^52``.
    """
    if 3 * k > 2 ** 52:
        raise ShapeError(f"inner dimension {k} too large for the a priori rounding-error bound")
    g = _gamma_frac(k) if k > 0 else Fraction(0)
    f = g / (1 - g) if ratio else 1 / (1 - g)
    return _ceil_float(f / (1 - Fraction(1, 2 ** 53)) ** 2)


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
            raise DomainError(f"cannot convert {shown(v)} to an enclosing interval: {exc}") from None
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
        return midrad(self.lo, self.hi)

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
    with np.errstate(all="ignore"):
        c, rad = midrad_matmul(mA, rA, mB, rB)
        lo = _down(c - rad)
        hi = _up(c + rad)
        if not (np.isfinite(c).all() and np.isfinite(rad).all()):
            bad = ~(np.isfinite(c) & np.isfinite(rad))     # overflow: give up there, soundly
            lo = np.where(bad, -_INF, lo)
            hi = np.where(bad, _INF, hi)
    return Interval._new(lo, hi)


# ------------------------------------------------------------------------------- midpoint-radius kernels
#
# Array kernels on (mid, rad) pairs of plain float arrays, for callers that run many small interval
# computations in a loop (certify.methods.exact's branch and bound) and cannot afford Interval objects.
# A pair ``(m, r)`` stands for every real array ``x`` with ``|x - m| <= r`` elementwise, exactly;
# ``r = None`` means a point (radius zero).  Every kernel accepts leading batch axes (numpy
# broadcasting) and returns a pair with the same meaning.

ABS_TINY = 1e-290     # absorbs every underflow in inflate_upper (normal, so no subnormal slowdown)


def midrad(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """``(mid, rad)`` with ``[lo, hi]`` contained in ``[mid - rad, mid + rad]`` exactly.

    ``mid = 0.5 lo + 0.5 hi`` (no overflow), clipped into ``[lo, hi]``; ``rad`` is the computed
    ``max(hi - mid, mid - lo)`` moved one float up (:func:`_up_pos`), or 0 for a point.
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    with np.errstate(all="ignore"):
        m = 0.5 * lo + 0.5 * hi            # no overflow, unlike (lo + hi) / 2
        bad = ~np.isfinite(m)
        if bad.any():
            m = np.where(bad, 0.0, m)
        m = np.clip(m, lo, hi)             # halving subnormals can land outside
        d = np.maximum(hi - m, m - lo)
        r = np.where(d == 0.0, 0.0, _up_pos(d))
    return m, r


def inflate_upper(r, n: int):
    """Turn a float-computed sum of at most ``n`` nonnegative terms into an upper bound of its exact value.

    Returns ``r (1 + 4 (n + 4) u) + (n + 1) 1e-290``.  Rounding argument: if each term is exact or a
    single correctly rounded product/sum of exact nonnegative numbers and the float sum is
    accumulated in any order, the exact value is at most ``r / (1 - gamma_{n+1}) + (n + 1) 2^-1074``
    (Higham, Lemma 3.1, plus one subnormal half-ulp per rounding).  The multiplication and the
    addition here round to nearest, losing at most a factor ``(1 - u)^2``; for ``n u <= 1/16``,
    ``(1 + 4 (n + 4) u)(1 - u)^2 >= 1 / (1 - gamma_{n+1})``, and ``1e-290`` exceeds ``2^-1074``
    by far.  Works elementwise on arrays.
    """
    return r * (1.0 + 4.0 * (n + 4) * U) + (n + 1) * ABS_TINY


def midrad_matmul(mA, rA, mB, rB) -> tuple[np.ndarray, np.ndarray]:
    """Enclosure ``(C, R)`` of ``{A @ B : |A - mA| <= rA, |B - mB| <= rB}`` (numpy ``matmul`` shapes).

    ``C = fl(mA @ mB)`` and, with ``k`` the inner dimension and ``gamma_k = k u / (1 - k u)``,
    ``R >= |mA| (rB + gamma_k |mB|) + rA (|mB| + rB) + k 2^-1074``, evaluated as (at most two)
    nonnegative BLAS products and rounded upward with their own a priori bound
    ``|fl(x^T y) - x^T y| <= gamma_k x^T y + k 2^-1074`` for ``x, y >= 0`` (any summation order,
    FMA allowed, gradual underflow).  ``rA`` / ``rB`` may be ``None`` (point operands).  This is
    the kernel of :func:`matmul`; it takes leading batch axes.  Overflow gives infinite ``C`` or
    ``R`` (with numpy's warnings unless the caller silences them).
    """
    try:
        c = mA @ mB
    except ValueError:
        raise ShapeError(f"matmul: shapes {np.shape(mA)} and {np.shape(mB)} are not aligned") from None
    k = np.shape(mA)[-1]
    if 3 * k > 2 ** 52:
        raise ShapeError(f"matmul: inner dimension {k} too large")
    # Underflow: each k-term dot product has absolute error at most k 2^-1074 beyond the relative
    # part; TINY = 2^-1022 >= 2^52 * 2^-1074 covers up to three such terms.  Below, the in-place
    # pairs ``*= _ONE_PLUS; += TINY`` are :func:`_up_pos` (one float up), written out because this
    # kernel runs millions of times on tiny matrices in certify.methods.exact; the final scaling is the
    # two-operation bound of :func:`_mul_bound_up`.
    absA = np.abs(mA)
    if rA is None and rB is None:
        # rad <= gamma_k (P + k eta) / (1 - gamma_k) + k eta <= c P + 2 k eta  (c < 1)
        # (_mul_bound_up covers the 2 k eta)
        rad = np.asarray(absA @ np.abs(mB)) * _mul_bound_up(k, True)
        rad += _TWO_TINY
        return c, rad
    g = _gamma_up(k)
    if rB is None:          # (rA + gamma_k |mA|) |mB|
        prod = np.asarray(_rad_plus_gamma_up(rA, absA, g) @ np.abs(mB))
    else:
        absB = np.abs(mB)
        prod = np.asarray(absA @ _rad_plus_gamma_up(rB, absB, g))   # |mA| (rB + gamma_k |mB|)
        if rA is not None:                      # + rA (|mB| + rB)
            # two k-products rather than one 2k-product of concatenations: the larger size
            # crosses OpenBLAS's threading threshold, which is slow on a busy machine
            u = absB + rB
            u *= _ONE_PLUS
            u += TINY
            prod = prod + rA @ u
            prod *= _ONE_PLUS
            prod += TINY
    # the exact nonnegative product(s) are <= (prod + 2 k eta) / (1 - gamma_k); the mid
    # product adds k eta more (_mul_bound_up covers 3 k eta)
    prod = prod * _mul_bound_up(k, False)
    prod += _TWO_TINY
    return c, prod


def _rad_plus_gamma_up(r, absm, g):
    """Upper bound of ``r + g |m|`` (nonnegative): ``_up_pos(r + _up_pos(absm * g))``, in place."""
    t = absm * g
    t *= _ONE_PLUS
    t += TINY
    t += r
    t *= _ONE_PLUS
    t += TINY
    return t


def midrad_mul(a, ar, s, sr) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise enclosure of ``{x * y : |x - a| <= ar, |y - s| <= sr}`` (``ar`` may be ``None``).

    ``x y - fl(a s) = (a s - fl(a s)) + a (y - s) + (x - a) y``, so the radius
    ``u |fl(a s)| + |a| sr + ar (|s| + sr)`` (the first term: one correctly rounded product,
    ``|a s - fl(a s)| <= u |fl(a s)|`` up to underflow) is passed through :func:`inflate_upper`
    as a sum of two terms.  With ``a`` a matrix and ``s`` a row vector this is ``A @ diag(s)``.
    """
    prod = a * s
    R = np.abs(a) * sr + np.abs(prod) * U
    if ar is not None:
        R = R + ar * (np.abs(s) + sr)
    return prod, inflate_upper(R, 2)


def midrad_affine_box(M, Mr, c, cr, xm, xr) -> tuple[np.ndarray, np.ndarray]:
    """Rigorous ``(lo, hi)`` of ``M x + c`` over the box ``|x - xm| <= xr`` (``M``, ``c`` with radii).

    ``M x`` is enclosed by :func:`midrad_matmul`; adding ``c`` is one rounding per entry (``u |z|``,
    added before :func:`inflate_upper`), and the endpoints are moved one float outward.
    """
    z, zr = midrad_matmul(M, Mr, xm[:, None], xr[:, None])
    z = z[:, 0] + c
    zr = inflate_upper(zr[:, 0] + np.abs(z) * U + (0.0 if cr is None else cr), 2)
    return np.nextafter(z - zr, -np.inf), np.nextafter(z + zr, np.inf)


def midrad_scale_rows(a, b, rb, pos_f, neg_f):
    """Affine function ``a_i * f_i(x) + b_i`` (with radii) from two affine functions of ``x``.

    ``f = pos_f`` in the rows where ``a >= 0``, else ``neg_f``; an affine function is a tuple
    ``(M, Mr, c, cr)`` meaning ``M x + c`` with entrywise radii ``Mr``, ``cr`` (``None`` for 0),
    and ``rb`` is a radius on ``b``.  With ``pos_f`` a lower and ``neg_f`` an upper function of some
    ``z`` (``lo_f(x) <= z <= hi_f(x)``), the result is a lower function of ``a z + b``; swap them
    for an upper one.  This is the per-neuron step of symbolic interval (linear relaxation)
    propagation, shared by :mod:`certify.methods.exact` and :mod:`certify.methods.branch_and_bound`.
    """
    sel = (a >= 0)[:, None]
    M = np.where(sel, pos_f[0], neg_f[0])
    Mr = np.where(sel, 0.0 if pos_f[1] is None else pos_f[1], 0.0 if neg_f[1] is None else neg_f[1])
    c = np.where(a >= 0, pos_f[2], neg_f[2])
    cr = np.where(a >= 0, 0.0 if pos_f[3] is None else pos_f[3],
                  0.0 if neg_f[3] is None else neg_f[3])
    Mn = a[:, None] * M
    Mrn = inflate_upper(np.abs(a)[:, None] * Mr + np.abs(Mn) * U, 2)
    cn = a * c + b
    crn = inflate_upper(np.abs(a) * cr + (np.abs(a * c) + np.abs(cn)) * U + rb, 3)
    return Mn, Mrn, cn, crn


def midrad_affine_combine(Wp, F1, Wn, F2, bias):
    """``Wp @ F1 + Wn @ F2 + bias`` for affine functions ``F = (M, Mr, c, cr)``, with radii.

    With ``Wp = max(W, 0)``, ``Wn = min(W, 0)``, ``F1`` lower and ``F2`` upper functions of the
    activations, this is a lower function of ``W h + bias`` (swap ``F1``, ``F2`` for an upper one).
    """
    A1, A1r = midrad_matmul(Wp, None, F1[0], F1[1])
    A2, A2r = midrad_matmul(Wn, None, F2[0], F2[1])
    c1, c1r = midrad_matmul(Wp, None, F1[2][:, None], F1[3][:, None])
    c2, c2r = midrad_matmul(Wn, None, F2[2][:, None], F2[3][:, None])
    M = A1 + A2
    Mr = inflate_upper(A1r + A2r + np.abs(M) * U, 2)
    c = c1[:, 0] + c2[:, 0] + bias
    cr = inflate_upper(c1r[:, 0] + c2r[:, 0] + 2 * np.abs(c) * U
                       + (np.abs(c1[:, 0]) + np.abs(c2[:, 0])) * U, 3)
    return M, Mr, c, cr


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
        # exact <= (fl(x @ y) + k eta) / (1 - gamma_k): see _mul_bound_up
        prod = np.asarray(x @ y) * _mul_bound_up(k, False)
        prod += _TWO_TINY
        return prod


def _nonneg_sum_upper(x: np.ndarray, axis=None) -> np.ndarray:
    """Upper bound on the sum of nonnegative floats (additions never underflow)."""
    n = x.size if axis is None else x.shape[axis]
    with np.errstate(all="ignore"):
        return _up_pos(np.sum(x, axis=axis) * _inv_one_minus_gamma_up(max(n - 1, 0)))


def _sqrt_up(v: float) -> float:
    return math.nextafter(math.sqrt(v), _INF) if v > 0 else 0.0 if v == 0 else _INF


_EIGH_PERRON_MAX = 64    # Gram matrices up to this size: Perron vector by eigh


def _perron_upper(p: np.ndarray, gram: bool, iters: int = 300) -> float:
    """Collatz-Wielandt upper bound on rho(p^T p) (``gram``) or rho(p) for nonnegative ``p``.

    For any positive vector x, ``rho(K) <= max_i (K x)_i / x_i`` when ``K >= 0``; x comes from a
    floating-point eigendecomposition of the smaller Gram matrix (``gram`` and at most
    ``_EIGH_PERRON_MAX`` columns; ``K`` is then an upward-rounded Gram matrix, which dominates the
    exact one) or a power iteration, and the ratio is evaluated with upward rounding
    (:func:`_nonneg_matmul_upper`, then one rounded division moved up), so the choice of x only
    affects tightness.
    """
    if p.size == 0 or not p.any():
        return 0.0
    if not np.isfinite(p).all():
        return _INF
    floor = 2.0 ** -40
    if gram and p.shape[1] > p.shape[0]:
        p = p.T                              # rho(p^T p) = rho(p p^T): the smaller Gram matrix
    n = p.shape[1]
    if gram and n <= _EIGH_PERRON_MAX:
        # Small Gram matrix: enclose it from above once (0 <= p^T p <= Gu entrywise, so
        # rho(p^T p) <= rho(Gu) by Perron-Frobenius) and take x from LAPACK, no iteration.
        Gu = _nonneg_matmul_upper(p.T, p)
        if Gu.max() < _INF:                  # else overflow: fall through to the power iteration
            v = np.abs(np.linalg.eigh(Gu)[1][:, -1])     # a unit vector: v.max() > 0
            x = np.maximum(v / v.max(), floor)
            # (Gu x)_i / x_i: nonnegative quotients, so _up_pos moves each one float up
            return float(_up_pos(_nonneg_matmul_upper(Gu, x) / x).max())
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
    # subnormal entries would need a factor above the largest double: cap it (2**1000 * 1e-310
    # is still far below 1, which is all the scaling needs to avoid underflow in the products)
    s = math.ldexp(1.0, min(-math.frexp(top)[1], 1000))
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


# ------------------------------------------------------------------------------- batched midpoint-radius norms

class _FloatOps:
    """Outward-rounding elementwise operations on Python floats (one matrix: no numpy overhead)."""

    dn = staticmethod(lambda v: math.nextafter(v, -_INF))
    up = staticmethod(lambda v: math.nextafter(v, _INF))
    max = staticmethod(max)
    min = staticmethod(min)
    sqrt = staticmethod(math.sqrt)
    where = staticmethod(lambda c, x, y: x if c else y)
    any = staticmethod(bool)


class _ArrayOps:
    """The same operations on arrays of shape (B,): one entry of every matrix of a batch."""

    dn = staticmethod(lambda v: np.nextafter(v, -_INF))
    up = staticmethod(lambda v: np.nextafter(v, _INF))
    max = staticmethod(np.maximum)
    min = staticmethod(np.minimum)
    sqrt = staticmethod(np.sqrt)
    where = staticmethod(np.where)
    any = staticmethod(np.any)


def _interval_cholesky_ok(mu, S: np.ndarray, Sr: np.ndarray):
    """Interval Cholesky of ``mu I - (S +- Sr)`` for a batch (B, n, n); True where it proves definiteness.

    Every entry of ``L`` is kept as ``[lo, hi]``; each ``+ - * /`` and ``sqrt`` is one correctly
    rounded operation whose result is then moved one float outward (``nextafter``), so each
    ``[lo, hi]`` contains the exact value for every symmetric matrix of the interval.  A positive
    lower end of every pivot proves that all of them are positive definite, i.e. ``lambda_max < mu``.
    A batch of one runs on Python floats (same operations, same results, less overhead); the
    result is then a bool, otherwise a bool array of shape (B,).
    """
    B, n = S.shape[0], S.shape[1]
    o = _FloatOps if B == 1 else _ArrayOps
    LO = o.dn(-S - Sr) if B > 1 else np.nextafter(-S[0] - Sr[0], -_INF)
    HI = o.up(-S + Sr) if B > 1 else np.nextafter(-S[0] + Sr[0], _INF)
    if B == 1:
        lo, hi, mu = LO.tolist(), HI.tolist(), float(np.asarray(mu).ravel()[0])
    else:
        lo = [[LO[:, i, j] for j in range(n)] for i in range(n)]
        hi = [[HI[:, i, j] for j in range(n)] for i in range(n)]
    for i in range(n):
        lo[i][i] = o.dn(lo[i][i] + mu)
        hi[i][i] = o.up(hi[i][i] + mu)
    Llo = [[0.0] * n for _ in range(n)]
    Lhi = [[0.0] * n for _ in range(n)]
    ok = True if B == 1 else np.ones(B, dtype=bool)
    for j in range(n):
        dlo, dhi = lo[j][j], hi[j][j]
        for k in range(j):
            a, b = Llo[j][k], Lhi[j][k]
            sq_hi = o.up(o.max(a * a, b * b))
            sq_lo = o.where((a <= 0) & (b >= 0), 0.0, o.dn(o.min(a * a, b * b)))
            dlo, dhi = o.dn(dlo - sq_hi), o.up(dhi - sq_lo)
        ok = ok & (dlo > 0)
        if not o.any(ok):
            return ok
        dlo = o.where(ok, dlo, 1.0)        # failed matrices: keep going with harmless values
        dhi = o.max(dhi, dlo)
        r_lo, r_hi = o.dn(o.dn(o.sqrt(dlo))), o.up(o.sqrt(dhi))   # one more ulp keeps r_lo > 0
        Llo[j][j], Lhi[j][j] = r_lo, r_hi
        for i in range(j + 1, n):
            alo, ahi = lo[i][j], hi[i][j]
            for k in range(j):
                p1, p2 = Llo[i][k] * Llo[j][k], Llo[i][k] * Lhi[j][k]
                p3, p4 = Lhi[i][k] * Llo[j][k], Lhi[i][k] * Lhi[j][k]
                alo = o.dn(alo - o.up(o.max(o.max(p1, p2), o.max(p3, p4))))
                ahi = o.up(ahi - o.dn(o.min(o.min(p1, p2), o.min(p3, p4))))
            q1, q2, q3, q4 = alo / r_lo, alo / r_hi, ahi / r_lo, ahi / r_hi
            Llo[i][j] = o.dn(o.min(o.min(q1, q2), o.min(q3, q4)))
            Lhi[i][j] = o.up(o.max(o.max(q1, q2), o.max(q3, q4)))
    return ok


def sym_lambda_max_upper_batch(S, Sr) -> np.ndarray:
    """Rigorous upper bounds of ``lambda_max`` over symmetric interval matrices ``S +- Sr``, batched.

    Parameters
    ----------
    S, Sr : ndarray, shape (..., n, n)
        Midpoints and (nonnegative) radii; only the symmetric members of each interval matter.

    Returns
    -------
    ndarray, shape (...)
        For each matrix a trial ``mu = lambda_max(float) + pad`` accepted when the outward-rounded
        interval Cholesky factorisation of ``mu I - (S +- Sr)`` succeeds (that proves ``mu I - S'``
        positive definite for every symmetric ``S'`` in the interval); ``pad`` grows 16-fold per
        failure, and after 8 failures the Gershgorin bound (upward-summed row sums of ``|S| + Sr``)
        is used.  ``pad`` is ``1e-12 max|S| + ||Sr||_F``: a heuristic (the Cholesky is the proof).
        Faster than :func:`sym_lambda_max_upper` for many small matrices, and unlike it the
        radius enters the factorisation instead of a Weyl term.
    """
    S = np.asarray(S, dtype=np.float64)
    Sr = np.zeros_like(S) if Sr is None else np.asarray(Sr, dtype=np.float64)
    if Sr.shape != S.shape:
        Sr = np.broadcast_to(Sr, S.shape)
    shape = S.shape[:-2]
    n = S.shape[-1]
    S = S.reshape(-1, n, n)
    Sr = Sr.reshape(-1, n, n)
    B = S.shape[0]
    lam = np.linalg.eigvalsh(0.5 * (S + np.swapaxes(S, 1, 2)))[:, -1]
    pad = (1e-12 * (np.abs(S).max(axis=(1, 2)) + Sr.max(axis=(1, 2)))
           + np.sqrt((Sr * Sr).sum(axis=(1, 2))) + ABS_TINY)
    out = np.full(B, np.inf)
    todo = np.arange(B)
    for _ in range(8):
        mu = lam[todo] + pad[todo]
        ok = np.asarray(_interval_cholesky_ok(mu, S[todo], Sr[todo]), dtype=bool).reshape(-1)
        out[todo[ok]] = mu[ok]
        todo = todo[~ok]
        if todo.size == 0:
            return out.reshape(shape)
        pad[todo] *= 16.0
    out[todo] = inflate_upper((np.abs(S[todo]) + Sr[todo]).sum(2), n).max(1)  # Gershgorin
    return out.reshape(shape)


def opnorm_upper_midrad(J, Jr, p, skip_below: float = 0.0) -> float:
    """Rigorous upper bound of ``max ||A||_{p->p}`` over ``|A - J| <= Jr`` (one matrix or a batch).

    Parameters
    ----------
    J, Jr : ndarray, shape (m, d) or (..., m, d)
        Midpoints and radii (``Jr`` may be ``None``); with batch axes the maximum over the batch.
    p : {1, 2, math.inf}
    skip_below : float
        Batches only: matrices whose Frobenius bound is ``<= skip_below`` keep that bound instead
        of the eigenvalue enclosure (they cannot raise the result above ``skip_below`` anyway).

    Notes
    -----
    ``N = |J| + Jr`` (rounded up) dominates every ``|A|``.  l1 / linf: the largest column / row
    sum of ``N`` (:func:`inflate_upper`).  l2: the minimum of

    * ``||N||_F`` (a vector, or every batch member);
    * ``sqrt(lambda_max(J J^T)) + ||Jr||``, with :func:`sym_lambda_max_upper_batch` applied to
      the :func:`midrad_matmul` enclosure of the smaller Gram matrix and ``||Jr||`` its Frobenius
      norm (batch) or a Collatz-Wielandt bound (single matrix);
    * for a single matrix also a Collatz-Wielandt bound on ``||N||_2``.
    """
    J = np.asarray(J, dtype=np.float64)
    Jr = np.zeros_like(J) if Jr is None else np.asarray(Jr, dtype=np.float64)
    if Jr.shape != J.shape:
        Jr = np.broadcast_to(Jr, J.shape)
    m, d = J.shape[-2:]
    N = inflate_upper(np.abs(J) + Jr, 1)
    if p == _INF:
        return float(inflate_upper(N.sum(-1), d).max())
    if p == 1:
        return float(inflate_upper(N.sum(-2), m).max())
    top = float(N.max()) if N.size else 0.0
    if 0.0 < top < _INF and not (2.0 ** -200 <= top <= 2.0 ** 200):
        return _opnorm2_rescaled(J, Jr, top, skip_below)
    if J.ndim == 2:
        if m == 1 or d == 1:
            return _sqrt_up(float(inflate_upper((N * N).sum(), m * d)))
        best = _two_norm_nonneg_upper(N)
        mid = math.sqrt(max(0.0, float(sym_lambda_max_upper_batch(*_gram(J)))))
        other = math.nextafter(math.nextafter(mid, _INF) + _two_norm_nonneg_upper(Jr), _INF)
        return min(best, other)
    J, Jr, N = J.reshape(-1, m, d), Jr.reshape(-1, m, d), N.reshape(-1, m, d)
    frob = np.nextafter(np.sqrt(inflate_upper((N * N).sum(axis=(1, 2)), m * d)), np.inf)
    if m == 1 or d == 1:
        return float(frob.max())
    need = frob > skip_below
    if not need.any():
        return float(frob.max())
    J, Jr = J[need], Jr[need]
    lam = sym_lambda_max_upper_batch(*_gram(J))
    mid = np.nextafter(np.sqrt(np.maximum(lam, 0.0)), np.inf)
    rad = np.nextafter(np.sqrt(inflate_upper((Jr * Jr).sum(axis=(1, 2)), m * d)), np.inf)
    best = float(np.minimum(np.nextafter(mid + rad, np.inf), frob[need]).max())
    return max(best, float(frob[~need].max()) if (~need).any() else 0.0)


def _opnorm2_rescaled(J, Jr, top, skip_below):
    """l2 bound of :func:`opnorm_upper_midrad` for entries near overflow or underflow.

    Squares of entries beyond 2^512 overflow (a true 1e160 would be bounded by ``inf``) and squares
    below 2^-537 vanish into the absolute underflow terms, so the matrices are scaled by a power of
    two ``s`` with ``max N s`` near 1 first.  Scaling down may round entries that become subnormal;
    the rounding error (at most 2^-1075 per entry) joins the radii, so the scaled set still
    contains ``s A`` for every ``A`` in the original one, and the bound is divided by ``s``
    rounded upward.
    """
    s = math.ldexp(1.0, max(-1000, min(1000, -math.frexp(top)[1])))
    with np.errstate(all="ignore"):
        Js = J * s
        Jrs = Jr * s
        if s < 1.0:
            Jrs = inflate_upper(Jrs, 1) + ETA
    r = opnorm_upper_midrad(Js, Jrs, 2, skip_below * s)
    with np.errstate(all="ignore"):
        return float(_up(np.float64(r) / s))


def _gram(J):
    """Midpoint-radius enclosure of the smaller Gram matrix ``J J^T`` or ``J^T J`` (batched)."""
    Jt = np.swapaxes(J, -1, -2)
    return midrad_matmul(J, None, Jt, None) if J.shape[-2] <= J.shape[-1] else midrad_matmul(Jt, None, J, None)
