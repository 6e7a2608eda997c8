"""Activation functions with float evaluation and rigorous interval enclosures.

Each activation is a frozen :class:`Activation` ``(name, param)``; :func:`get` builds one from a
string such as ``"relu"``, ``"leaky_relu:0.2"``, ``"poly:3"`` or ``"groupsort:2"``.

All activations are elementwise except ``groupsort:G`` (Anil, Lucas, Grosse 2019): the layer's
neurons are split into consecutive blocks of ``G`` and each block is sorted ascending (``G = 2`` is
MaxMin, alias ``"maxmin"``; ``G`` equal to the width is FullSort).  It acts on whole layers, so its
float evaluation, Jacobian and enclosures live in :mod:`certify.model.groupsort` and
:class:`Activation` only carries its descriptive properties (``elementwise`` is False).

Conventions
-----------
* :meth:`Activation.derivative` returns the *right* derivative at kinks (``relu'(0) = 1``,
  ``abs'(0) = 1``, ``hardtanh'(-1) = 1``, ``hardtanh'(1) = 0``): one element of the Clarke
  generalized derivative, matching ``slopes[searchsorted(breakpoints, z, side="right")]``.
* :meth:`Activation.derivative_interval` encloses the union of the Clarke generalized derivatives
  over the whole input interval, so both one-sided slopes at a kink are included.  By the mean
  value theorem for Lipschitz functions it contains every difference quotient
  ``(psi(b) - psi(a)) / (b - a)`` with ``a, b`` in the interval.
* :meth:`Activation.interval` encloses the exact range ``psi(Z)``, rounded outward.  Smooth
  activations are built from :mod:`certify.arith.interval`'s ``exp``/``log1p``/``tanh`` and so inherit
  its libm assumption (see ``docs/arithmetic.md``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from bounds.errors import ParameterError

from certify.errors import UnsupportedError
from certify.arith.interval import Interval, exp, log1p
from certify.model.groupsort import groupsort, groupsort_interval

__all__ = ["Activation", "get", "leaky_relu", "poly", "SUPPORTED"]

SUPPORTED = ("relu", "leaky_relu", "abs", "hardtanh", "tanh", "sigmoid", "softplus", "identity", "poly",
             "groupsort")
_ALIASES = {"linear": "identity", "leakyrelu": "leaky_relu", "leaky-relu": "leaky_relu",
            "absolute": "abs", "hard_tanh": "hardtanh", "id": "identity", "group_sort": "groupsort"}
_DEFAULT_LEAKY_SLOPE = 0.01

# breakpoints and slopes of the piecewise-linear ones (leaky_relu and poly are filled in per instance)
_PWL = {
    "relu": ((0.0,), (0.0, 1.0)),
    "abs": ((0.0,), (-1.0, 1.0)),
    "hardtanh": ((-1.0, 1.0), (0.0, 1.0, 0.0)),
    "identity": ((), (1.0,)),
}

# below exp(-700) ~ 1e-304 the bell-shaped derivatives are treated as [0, tiny]
_BELL_CUTOFF = 350.0
_MAXF = float(np.finfo(np.float64).max)


def _supported_message(name) -> str:
    return (f"unsupported activation {name!r}; supported: " + ", ".join(SUPPORTED)
            + " (with parameters as 'leaky_relu:0.2', 'poly:3' or 'x^3', 'groupsort:G'; 'maxmin' means "
            "groupsort:2, 'linear' means identity)")


def _check_leaky_slope(s) -> float:
    if isinstance(s, bool) or not isinstance(s, numbers.Real):
        raise ParameterError("slope", s, "a finite real number >= 0", "leaky_relu slope")
    s = float(s)
    if not (math.isfinite(s) and s >= 0.0):
        raise ParameterError("slope", s, "a finite real number >= 0", "leaky_relu slope")
    return s


def _check_degree(q) -> int:
    ok = (isinstance(q, numbers.Integral) and not isinstance(q, bool)) or \
        (isinstance(q, float) and q.is_integer())
    if not ok or int(q) < 1:
        raise ParameterError("q", q, "an integer >= 1", "degree of the poly activation z^q")
    return int(q)


def _check_group(g) -> int:
    ok = (isinstance(g, numbers.Integral) and not isinstance(g, bool)) or \
        (isinstance(g, float) and g.is_integer())
    if not ok or int(g) < 1:
        raise ParameterError("G", g, "an integer >= 1", "group size of the groupsort activation")
    return int(g)


def _as_iv(z) -> Interval:
    return z if isinstance(z, Interval) else Interval(z)


@dataclass(frozen=True)
class Activation:
    """A scalar activation function ``psi`` applied elementwise.

    Parameters
    ----------
    name : str
        One of :data:`SUPPORTED` (``"linear"`` is accepted for ``"identity"``).
    param : float or int or None
        Slope for ``leaky_relu`` (default 0.01, any finite value >= 0); degree ``q >= 1`` for
        ``poly`` (``psi(z) = z**q``); ``None`` for the others.

    Examples
    --------
    >>> act = Activation("leaky_relu", 0.1)
    >>> act(np.array([-2.0, 3.0]))
    array([-0.2,  3. ])
    >>> act.breakpoints, act.slopes, act.slope_bounds
    ((0.0,), (0.1, 1.0), (0.1, 1.0))
    """

    name: str
    param: float | int | None = None

    def __post_init__(self):
        name = str(self.name).strip().lower()
        name = _ALIASES.get(name, name)
        if name not in SUPPORTED:
            raise UnsupportedError(_supported_message(self.name))
        param = self.param
        if name == "leaky_relu":
            param = _DEFAULT_LEAKY_SLOPE if param is None else _check_leaky_slope(param)
        elif name == "poly":
            if param is None:
                raise ParameterError("q", None, "an integer >= 1", "poly needs its degree, e.g. 'poly:3'")
            param = _check_degree(param)
        elif name == "groupsort":
            if param is None:
                raise ParameterError("G", None, "an integer >= 1",
                                     "groupsort needs its group size, e.g. 'groupsort:2' (MaxMin)")
            param = _check_group(param)
        elif param is not None:
            raise ParameterError("param", param, "None", f"activation {name!r} takes no parameter")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "param", param)

    # ------------------------------------------------------------------ descriptive properties
    @property
    def spec(self) -> str:
        """A string that :func:`get` maps back to this activation."""
        return self.name if self.param is None else f"{self.name}:{self.param!r}"

    @property
    def elementwise(self) -> bool:
        """Whether the activation acts on each neuron separately (all but ``groupsort``)."""
        return self.name != "groupsort"

    @property
    def group(self) -> int | None:
        """Block size ``G`` of ``groupsort`` (``None`` for elementwise activations)."""
        return self.param if self.name == "groupsort" else None

    @property
    def piecewise_linear(self) -> bool:
        if self.name == "groupsort":   # linear on each ordering of each block; no scalar breakpoints
            return True
        return self.name in _PWL or self.name == "leaky_relu" or (self.name == "poly" and self.param == 1)

    def _pwl_data(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        if self.name in _PWL:
            return _PWL[self.name]
        if self.name == "leaky_relu":
            return (0.0,), (float(self.param), 1.0)
        if self.name == "poly" and self.param == 1:
            return (), (1.0,)
        if self.name == "groupsort":
            raise UnsupportedError(f"activation {self.spec!r} is not elementwise: it has no scalar "
                                   "breakpoints/slopes (see certify.model.groupsort)")
        raise UnsupportedError(f"activation {self.spec!r} is not piecewise linear: it has no "
                               "breakpoints/slopes (check .piecewise_linear first)")

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """Increasing kink locations (piecewise-linear activations only; else UnsupportedError)."""
        return self._pwl_data()[0]

    @property
    def slopes(self) -> tuple[float, ...]:
        """Slope of each linear piece, left to right; ``len(slopes) == len(breakpoints) + 1``."""
        return self._pwl_data()[1]

    @property
    def slope_bounds(self) -> tuple[float, float] | None:
        """``(alpha, beta)`` with ``alpha <= (psi(a) - psi(b)) / (a - b) <= beta`` for all ``a != b``.

        ``None`` when no global bounds exist (``poly`` with ``q >= 2``) or the activation is not
        elementwise (``groupsort``: its slopes are permutations, not scalars).
        """
        n, p = self.name, self.param
        if n == "groupsort":
            return None
        if n == "leaky_relu":
            return (min(p, 1.0), max(p, 1.0))
        if n == "poly":
            return (1.0, 1.0) if p == 1 else None
        return {"relu": (0.0, 1.0), "abs": (-1.0, 1.0), "hardtanh": (0.0, 1.0), "tanh": (0.0, 1.0),
                "sigmoid": (0.0, 0.25), "softplus": (0.0, 1.0), "identity": (1.0, 1.0)}[n]

    @property
    def lipschitz(self) -> float | None:
        """Global Lipschitz constant (``None`` if infinite), the same in every p-norm.

        ``groupsort`` is 1-Lipschitz in every p-norm: it is continuous and piecewise linear, and its
        Jacobian on every piece is a permutation matrix, an isometry of every p-norm.
        """
        if self.name == "groupsort":
            return 1.0
        sb = self.slope_bounds
        return None if sb is None else max(abs(sb[0]), abs(sb[1]))

    @property
    def positively_homogeneous(self) -> bool:
        """``psi(c z) = c psi(z)`` for all ``c > 0`` (degree one)."""
        return self.name in ("relu", "leaky_relu", "abs", "identity", "groupsort") or \
            (self.name == "poly" and self.param == 1)

    def latex(self) -> str:
        n, p = self.name, self.param
        return {
            "relu": r"\max(z, 0)",
            "leaky_relu": rf"\max(z, {p!r} z)" if p is not None and p <= 1 else rf"\min(z, {p!r} z)",
            "abs": r"|z|",
            "hardtanh": r"\max(-1, \min(1, z))",
            "tanh": r"\tanh(z)",
            "sigmoid": r"\frac{1}{1 + e^{-z}}",
            "softplus": r"\log(1 + e^{z})",
            "identity": r"z",
            "poly": rf"z^{{{p}}}",
            "groupsort": rf"\mathrm{{GroupSort}}_{{{p}}}(z)",
        }[n]

    def __str__(self) -> str:
        return self.spec

    # ------------------------------------------------------------------ float evaluation
    def _elementwise_only(self, what):
        if self.name == "groupsort":
            raise UnsupportedError(f"activation {self.spec!r} acts on whole layers, not elementwise: "
                                   f"use certify.model.groupsort for its {what}")

    def __call__(self, z) -> np.ndarray:
        """Elementwise value; ``groupsort`` sorts consecutive blocks along the last axis."""
        z = np.asarray(z, dtype=np.float64)
        n, p = self.name, self.param
        if n == "groupsort":
            return groupsort(z, p)
        if n == "relu":
            return np.maximum(z, 0.0)
        if n == "leaky_relu":
            return np.where(z >= 0, z, p * z)
        if n == "abs":
            return np.abs(z)
        if n == "hardtanh":
            return np.clip(z, -1.0, 1.0)
        if n == "tanh":
            return np.tanh(z)
        if n == "sigmoid":
            return expit(z)
        if n == "softplus":
            return np.logaddexp(0.0, z)
        if n == "identity":
            return z.copy()
        return z ** p

    def derivative(self, z) -> np.ndarray:
        """Derivative; the right derivative at kinks (see module docstring)."""
        self._elementwise_only("Jacobian")
        z = np.asarray(z, dtype=np.float64)
        if self.piecewise_linear:
            bps, slopes = self._pwl_data()
            return np.asarray(slopes)[np.searchsorted(np.asarray(bps), z, side="right")]
        n, p = self.name, self.param
        with np.errstate(over="ignore"):
            if n == "tanh":              # 1 - tanh^2 would cancel for large |z|
                return 1.0 / np.cosh(z) ** 2
            if n == "sigmoid":
                return expit(z) * expit(-z)
        if n == "softplus":
            return expit(z)
        return p * z ** (p - 1)

    # ------------------------------------------------------------------ rigorous enclosures
    def interval(self, z) -> Interval:
        """Rigorous enclosure of ``{psi(x) : x in Z}`` (elementwise; blockwise for ``groupsort``)."""
        z = _as_iv(z)
        if self.name == "groupsort":
            return groupsort_interval(z, self.param)
        lo, hi = z.lo, z.hi
        n, p = self.name, self.param
        if n == "relu" or (n == "leaky_relu" and p == 0.0):
            return Interval(np.maximum(lo, 0.0), np.maximum(hi, 0.0))
        if n == "leaky_relu":           # increasing; p * x is the only rounded operation
            low = np.where(lo >= 0, lo, (Interval(np.maximum(lo, -_MAXF)) * p).lo)
            low = np.where(lo == -np.inf, -np.inf, low)
            high = np.where(hi >= 0, hi, (Interval(np.minimum(hi, 0.0)) * p).hi)
            return Interval(low, high)
        if n == "abs":
            return abs(z)
        if n == "hardtanh":
            return Interval(np.clip(lo, -1.0, 1.0), np.clip(hi, -1.0, 1.0))
        if n == "identity":
            return z
        if n == "tanh":
            return z.tanh()
        if n == "sigmoid":
            return Interval(np.clip(_sigmoid_points(lo).lo, 0.0, 1.0),
                            np.clip(_sigmoid_points(hi).hi, 0.0, 1.0))
        if n == "softplus":
            return Interval(np.maximum(_softplus_points(lo).lo, 0.0), _softplus_points(hi).hi)
        return z ** p

    def derivative_interval(self, z) -> Interval:
        """Rigorous enclosure of all Clarke generalized derivatives of ``psi`` over ``Z``."""
        self._elementwise_only("Jacobian enclosure")
        z = _as_iv(z)
        if self.piecewise_linear:
            return _pwl_derivative_hull(z, *self._pwl_data())
        n, p = self.name, self.param
        if n == "tanh":       # sech^2 = 4E / (1 + E)^2, E = exp(-2|z|): decreasing in |z|
            return _bell(z, lambda x: 4.0 * exp(Interval(-2.0 * x)) / (1.0 + exp(Interval(-2.0 * x))).square(),
                         top=1.0)
        if n == "sigmoid":    # s(1 - s) = E / (1 + E)^2, E = exp(-|z|)
            return _bell(z, lambda x: exp(Interval(-x)) / (1.0 + exp(Interval(-x))).square(), top=0.25)
        if n == "softplus":   # derivative is the sigmoid, increasing
            return Activation("sigmoid").interval(z)
        return p * z ** (p - 1)


# ---------------------------------------------------------------------------- enclosure helpers

def _pwl_derivative_hull(z: Interval, bps, slopes) -> Interval:
    """Hull of the slopes of every closed piece ``[b_{k-1}, b_k]`` that meets ``[lo, hi]`` (exact)."""
    lo = np.full(z.shape, np.inf)
    hi = np.full(z.shape, -np.inf)
    edges = (-np.inf,) + tuple(bps) + (np.inf,)
    for k, s in enumerate(slopes):
        meets = (z.lo <= edges[k + 1]) & (z.hi >= edges[k])
        lo = np.where(meets, np.minimum(lo, s), lo)
        hi = np.where(meets, np.maximum(hi, s), hi)
    return Interval(lo, hi)


def _sigmoid_points(x: np.ndarray) -> Interval:
    """Enclosure of ``1 / (1 + exp(-x))`` at each point of ``x``."""
    xm = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        arg = np.clip(-xm, -745.0, 745.0)      # beyond, exp is 0 or inf anyway; avoids -inf points
    out = 1.0 / (1.0 + exp(Interval(arg)))
    # clipping changed the point only where sigma is within 1e-300 of 0 or 1: widen to [0, 1] there
    clipped = arg != -xm
    return Interval(np.where(clipped & (xm < 0), 0.0, out.lo), np.where(clipped & (xm > 0), 1.0, out.hi))


def _softplus_points(x: np.ndarray) -> Interval:
    """Enclosure of ``log(1 + exp(x))``: ``log1p(exp(x))`` for ``x <= 0``, ``x + log1p(exp(-x))`` else."""
    x = np.asarray(x, dtype=np.float64)
    neg = np.minimum(x, 0.0)
    pos = np.minimum(np.maximum(x, 0.0), _MAXF)     # +inf is patched below
    a = log1p(exp(Interval(np.maximum(neg, -745.0))))
    a_lo = np.where(neg < -745.0, 0.0, a.lo)
    b = Interval(pos) + log1p(exp(Interval(-np.minimum(pos, 745.0))))
    b_hi = np.where(pos > 745.0, (Interval(pos) + 2.0 ** -1000).hi, b.hi)   # log1p(e^-x) < e^-x
    b_hi = np.where(x == np.inf, np.inf, b_hi)
    return Interval(np.where(x <= 0, a_lo, b.lo), np.where(x <= 0, a.hi, b_hi))


def _bell(z: Interval, f, top: float) -> Interval:
    """Range over ``Z`` of an even function decreasing in ``|z|``, given its point enclosure ``f``."""
    mig = np.minimum(z.mig, _BELL_CUTOFF)      # smaller |z| -> larger value: still an upper bound
    mag = z.mag
    upper = f(mig).hi
    lower = np.where(mag > _BELL_CUTOFF, 0.0, f(np.minimum(mag, _BELL_CUTOFF)).lo)
    return Interval(np.clip(lower, 0.0, top), np.clip(upper, 0.0, top))


# ---------------------------------------------------------------------------- constructors

def leaky_relu(slope: float = _DEFAULT_LEAKY_SLOPE) -> Activation:
    """``max(z, slope z)`` (``min`` for slope > 1)."""
    return Activation("leaky_relu", slope)


def poly(q: int) -> Activation:
    """``z ** q`` for an integer ``q >= 1``."""
    return Activation("poly", q)


def _parse_number(text: str, name: str):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ParameterError("param", text, "a number", f"parameter of {name!r}") from None


def get(spec) -> Activation:
    """Activation from an :class:`Activation` or a string.

    Strings: ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"leaky_relu:0.2"``, ``"abs"``,
    ``"hardtanh"``, ``"tanh"``, ``"sigmoid"``, ``"softplus"``, ``"identity"`` / ``"linear"``,
    ``"poly:3"`` or ``"x^3"``, ``"groupsort:G"`` (``"maxmin"`` is ``"groupsort:2"``).  Case and
    surrounding spaces are ignored.

    Raises
    ------
    UnsupportedError
        For an unknown name (the message lists the supported ones).
    bounds.errors.ParameterError
        For a bad parameter (negative slope, non-integer degree, ...).

    Examples
    --------
    >>> get("leaky_relu:0.2") == leaky_relu(0.2)
    True
    >>> get("x^3").param
    3
    """
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str):
        raise UnsupportedError(f"activation spec must be an Activation or a string, got "
                               f"{type(spec).__name__}; " + _supported_message(spec))
    text = spec.strip().lower().replace(" ", "")
    if text.startswith("x^") or text.startswith("z^"):
        return Activation("poly", _parse_number(text[2:], "poly"))
    if text == "maxmin":
        return Activation("groupsort", 2)
    name, sep, arg = text.partition(":")
    name = _ALIASES.get(name, name)
    if name not in SUPPORTED:
        raise UnsupportedError(_supported_message(spec))
    if not sep:
        return Activation(name)
    return Activation(name, _parse_number(arg, name))
