"""Parameters of the theorems: names in the papers' notation, domains, validation.

A :class:`Parameter` knows its SymPy symbol, its domain and its meaning, and
turns a user value into an exact-enough mpmath number (scalar path) or a
float64 array (vectorized path), raising :class:`~bounds.errors.ParameterError`
for anything outside the domain. Validation never coerces silently: ``n=2.5``
is refused, not rounded.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np
import sympy

from .errors import ParameterError

__all__ = ["Parameter", "integer", "positive", "probability", "real", "at_least",
           "decimal_string", "exact_fraction", "exact_rational"]

#: A decimal literal: optional sign, digits with an optional point, optional exponent; Python's
#: underscores are allowed between digits (``"1_000"``). No ``inf``, ``nan``, hex or spaces inside.
_DECIMAL = re.compile(r"[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)"
                      r"(?:[eE][+-]?\d(?:_?\d)*)?")


def decimal_string(text: str) -> str | None:
    """A decimal literal in the canonical form that mpmath and python-flint both parse, or None.

    Both paths of the toolkit (mpmath values, Arb balls) must read a user's string as the same
    number: underscores are removed and anything that is not a plain decimal literal is refused.

    >>> decimal_string(" 1_000.5e-3 "), decimal_string("1e6"), decimal_string("inf")
    ('1000.5e-3', '1e6', None)
    """
    t = text.strip()
    return t.replace("_", "") if _DECIMAL.fullmatch(t) else None


def exact_fraction(value) -> Fraction | None:
    """The exact rational value of a number that is not a plain double, or None.

    For ``numpy.longdouble`` (wider than float64) and ``decimal.Decimal``: converting them with
    ``float()`` would round.
    """
    if isinstance(value, np.floating) and value.dtype.itemsize > 8 and np.isfinite(value):
        return Fraction(*value.as_integer_ratio())
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return Fraction(value)
    return None


def exact_rational(value) -> Fraction | None:
    """The exact rational value of a finite real input, or None (not a finite real number).

    Reads ints, floats, NumPy scalars (``longdouble`` included), ``Fraction``, ``Decimal``,
    mpmath numbers and decimal strings (:func:`decimal_string`); booleans are not numbers here.

    >>> exact_rational("0.1"), exact_rational(0.5), exact_rational(True)
    (Fraction(1, 10), Fraction(1, 2), None)
    """
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, str):
        text = decimal_string(value)
        return None if text is None else Fraction(decimal.Decimal(text))
    exact = exact_fraction(value)
    if exact is not None:
        return exact
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            return None
        man, exp = value.man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (int, Fraction)) or (isinstance(value, float) and math.isfinite(value)):
        return Fraction(value)
    return None


@dataclass(frozen=True)
class Parameter:
    """One parameter of a theorem.

    Parameters
    ----------
    name : str
        The papers' notation (``n, d, p, k, eps, delta, c, W, J, K`` ...).
    meaning : str
        One line saying what the parameter is.
    low, high : float
        Domain end points (``-inf``/``inf`` for none).
    low_open, high_open : bool
        Whether the end points are excluded.
    integer : bool
        Whether the parameter must be an integer.
    default : object, optional
        Value used when the caller omits the parameter (``None``: required).

    Examples
    --------
    >>> eps = probability("eps", "accuracy margin below the noise level")
    >>> eps.domain_str()
    '(0, 1)'
    >>> eps.validate(0.5)
    mpf('0.5')
    >>> eps.validate(1.0)
    Traceback (most recent call last):
    ...
    bounds.errors.ParameterError: parameter 'eps'=1.0 is invalid: allowed (0, 1)
    """

    name: str
    meaning: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True
    integer: bool = False
    default: object = None
    symbol: sympy.Symbol = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        assumptions = {}
        if self.low >= 0:
            assumptions["nonnegative"] = True
            if self.low > 0 or self.low_open:
                assumptions["positive"] = True
        if self.integer:
            assumptions["integer"] = True
        object.__setattr__(self, "symbol", sympy.Symbol(self.name, real=True, **assumptions))

    # -- descriptions -----------------------------------------------------
    def domain_str(self) -> str:
        """The allowed range, as used in error messages and docs."""
        def fmt(v):
            if math.isinf(v):
                return "inf" if v > 0 else "-inf"
            return repr(int(v)) if float(v).is_integer() else repr(v)
        if self.integer:
            lo = int(self.low) + (1 if self.low_open else 0)
            if math.isinf(self.high):
                return f"integers >= {lo}"
            hi = int(self.high) - (1 if self.high_open else 0)
            return f"integers in [{lo}, {hi}]"
        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{left}{fmt(self.low)}, {fmt(self.high)}{right}"

    # -- scalar path ------------------------------------------------------
    def validate(self, value) -> mpmath.mpf:
        """Check a scalar and return it as an exact mpmath number.

        Accepted: Python ``int``/``float``/``Fraction``, NumPy scalars,
        SymPy numbers, mpmath ``mpf``, and decimal strings (``"1e12"``,
        parsed at the working precision, so ``"0.1"`` is as exact as asked).
        """
        x = self._to_mpf(value)
        if not mpmath.isfinite(x):
            raise ParameterError(self.name, value, self.domain_str(), "not a finite number")
        if self.integer and not mpmath.isint(x):
            raise ParameterError(self.name, value, self.domain_str(), "must be an integer")
        if not self._in_domain(x):
            x = self._inside(value)
        return x

    def _inside(self, value) -> mpmath.mpf:
        """A valid input that rounding at the working precision moved out of the domain.

        ``eps = "0.99999999999999999999999999999"`` rounds to 1 at 25 digits: it is read with
        as many bits as it takes to stay inside (the number keeps them through the arithmetic
        that follows), instead of being refused for a rounding the user did not make.
        """
        exact = exact_rational(value)
        if exact is None or not self._in_domain(exact):
            raise ParameterError(self.name, value, self.domain_str())
        prec = mpmath.mp.prec
        while prec <= 1 << 16:
            prec *= 4
            with mpmath.workprec(prec):
                x = mpmath.mpf(exact.numerator) / exact.denominator
            if self._in_domain(x):
                return x
        raise ParameterError(self.name, value, self.domain_str(),
                             "closer to an end of the domain than 65536 bits resolve")

    def _to_mpf(self, value):
        if isinstance(value, bool):
            raise ParameterError(self.name, value, self.domain_str(), "booleans are not numbers here")
        try:
            if isinstance(value, mpmath.mpf):
                return value
            if isinstance(value, Fraction):
                return mpmath.mpf(value.numerator) / value.denominator
            if isinstance(value, sympy.Basic):
                if not value.is_number:
                    raise TypeError
                v = sympy.N(value, mpmath.mp.dps + 5)
                if not v.is_real:
                    raise TypeError
                return mpmath.mpf(v)
            if isinstance(value, str):
                text = decimal_string(value)
                if text is None:
                    raise ValueError
                return mpmath.mpf(text)
            exact = exact_fraction(value)
            if exact is not None:
                return mpmath.mpf(exact.numerator) / exact.denominator
            if isinstance(value, decimal.Decimal):
                return mpmath.mpf(str(value))     # a non-finite Decimal: refused by the caller
            if isinstance(value, numbers.Integral):
                return mpmath.mpf(int(value))
            if isinstance(value, (numbers.Real, np.floating)):
                return mpmath.mpf(float(value))
        except (TypeError, ValueError, OverflowError):
            pass
        raise ParameterError(self.name, value, self.domain_str(), "not a real number")

    def _in_domain(self, x) -> bool:
        lo_ok = x > self.low if self.low_open else x >= self.low
        hi_ok = x < self.high if self.high_open else x <= self.high
        return bool(lo_ok and hi_ok)

    # -- vectorized path --------------------------------------------------
    def validate_array(self, value) -> np.ndarray:
        """Check every entry of an array-like; return it as float64.

        Raises
        ------
        ParameterError
            naming the first offending entry (by index) and the allowed range, also for a valid
            number beyond float64's range (``10**400``) and for masked entries: use
            :meth:`Theorem.evaluate`, which masks those, or the scalar path.
        """
        arr, skip = self.validate_array_masked(value)
        if skip.any():
            idx = tuple(int(i) for i in np.argwhere(skip)[0]) if skip.ndim else ()
            raise ParameterError(self.name, value, self.domain_str(),
                                 f"masked or beyond float64's range at index {idx}")
        return arr

    def validate_array_masked(self, value) -> tuple[np.ndarray, np.ndarray]:
        """Check every entry; return ``(float64 array, skip)``.

        ``skip`` is True at masked entries (of a ``numpy.ma.MaskedArray``) and at valid numbers
        that float64 cannot represent (``10**400``, a huge ``longdouble``); those entries of the
        array hold a valid placeholder. Object and string arrays are read entry by entry as the
        scalar path reads them (``"1e6"``, ``Fraction``, ``Decimal``, huge ``int``).

        Raises
        ------
        ParameterError
            naming the first offending entry (by index) and the allowed range.
        """
        masked = None
        if isinstance(value, np.ma.MaskedArray):
            masked = np.ma.getmaskarray(value)
            value = np.ma.getdata(value)
        try:
            arr = np.asarray(value)
        except Exception:  # pragma: no cover - numpy accepts almost anything
            raise ParameterError(self.name, value, self.domain_str(), "not array-like") from None
        if arr.dtype.kind in "OUS" or (arr.dtype.kind == "f" and arr.dtype.itemsize > 8):
            # read entry by entry, exactly (a longdouble or "0.1" is not a double)
            arr, skip = self._object_array(arr, masked)
            return arr, skip if masked is None else (skip | masked)
        if arr.dtype.kind not in "iuf":
            why = "complex values" if arr.dtype.kind == "c" else (
                "booleans are not numbers here" if arr.dtype.kind == "b" else "not a numeric array")
            raise ParameterError(self.name, value, self.domain_str(), why)
        arr = np.asarray(arr, dtype=np.float64)
        # one fused pass in the common case; NaN fails every comparison and
        # +-inf fails the finiteness bound, so this also screens non-finite values
        lo_ok = arr > self.low if (self.low_open or math.isinf(self.low)) else arr >= self.low
        hi_ok = arr < self.high if (self.high_open or math.isinf(self.high)) else arr <= self.high
        good = lo_ok & hi_ok
        if self.integer:
            good &= np.floor(arr) == arr
        if masked is None:
            if not good.all():
                self._raise_array_error(arr, ~good)
            return arr, np.zeros(arr.shape, dtype=bool)
        if not (good | masked).all():
            self._raise_array_error(arr, ~(good | masked))
        return np.where(masked, self._inner_point(), arr), masked

    def _object_array(self, arr: np.ndarray, masked) -> tuple[np.ndarray, np.ndarray]:
        """Entries of an object/string array read by the scalar rules; huge ones flagged."""
        out = np.empty(arr.shape, dtype=np.float64)
        huge = np.zeros(arr.shape, dtype=bool)
        for idx, v in np.ndenumerate(arr):
            if masked is not None and masked[idx]:
                out[idx] = self._inner_point()
                continue
            try:
                x = self.validate(v.item() if isinstance(v, np.generic) and v.dtype.kind in "US"
                                  else v)
            except ParameterError as exc:
                where = [exc.detail] if exc.detail else []
                where += [f"at index {idx}"] if idx else []
                raise ParameterError(self.name, v, self.domain_str(), " ".join(where)) from None
            f = float(x)
            # valid, but float64 cannot hold it inside the domain (10**400, 1 - 1e-30)
            huge[idx] = not (math.isfinite(f) and self._in_domain(f)
                             and (not self.integer or f.is_integer()))
            out[idx] = self._inner_point() if huge[idx] else f
        return out, huge

    def _inner_point(self) -> float:
        """A point of the domain, standing in for masked or unrepresentable entries."""
        lo, hi = self.low, self.high
        if math.isinf(lo) and math.isinf(hi):
            return 0.0
        if math.isinf(hi):
            return lo + 1
        if math.isinf(lo):
            return hi - 1
        mid = (lo + hi) / 2
        return float(math.floor(mid)) if self.integer else mid

    def _raise_array_error(self, arr: np.ndarray, bad: np.ndarray):
        """Name the first offending entry and why it is refused."""
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
        v = float(arr[idx])
        if not math.isfinite(v):
            why = "not finite"
        elif not self._in_domain(v):
            why = "outside the domain"
        else:
            why = "must be an integer"
        raise ParameterError(self.name, v, self.domain_str(),
                             f"{why} at index {idx}" if idx else why)


def integer(name: str, meaning: str, low: int = 1, **kw) -> Parameter:
    """An integer parameter ``>= low`` (counts: ``n, d, p, k, K``)."""
    return Parameter(name, meaning, low=low, low_open=False, integer=True, **kw)


def positive(name: str, meaning: str, **kw) -> Parameter:
    """A real parameter in ``(0, inf)`` (``c, W, J, L`` ...)."""
    return Parameter(name, meaning, low=0.0, low_open=True, **kw)


def at_least(name: str, meaning: str, low: float, **kw) -> Parameter:
    """A real parameter in ``[low, inf)``."""
    return Parameter(name, meaning, low=low, low_open=False, **kw)


def probability(name: str, meaning: str, **kw) -> Parameter:
    """A real parameter in the open interval ``(0, 1)`` (``eps, delta``)."""
    return Parameter(name, meaning, low=0.0, high=1.0, **kw)


def real(name: str, meaning: str, **kw) -> Parameter:
    """An unrestricted finite real parameter."""
    return Parameter(name, meaning, **kw)
