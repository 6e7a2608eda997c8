"""Parameters of the theorems: names in the papers' notation, domains, validation.

A :class:`Parameter` knows its SymPy symbol, its domain and its meaning, and
turns a user value into an exact-enough mpmath number (scalar path) or a
float64 array (vectorized path), raising :class:`~bounds.errors.ParameterError`
for anything outside the domain. Validation never coerces silently: ``n=2.5``
is refused, not rounded.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np
import sympy

from .errors import ParameterError

__all__ = ["Parameter", "integer", "positive", "probability", "real", "at_least"]


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
            raise ParameterError(self.name, value, self.domain_str())
        return x

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
                return mpmath.mpf(value.strip())
            if isinstance(value, numbers.Integral):
                return mpmath.mpf(int(value))
            if isinstance(value, (numbers.Real, np.floating)):
                return mpmath.mpf(float(value))
        except (TypeError, ValueError):
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
            naming the first offending entry (by index) and the allowed range.
        """
        try:
            arr = np.asarray(value)
        except Exception:  # pragma: no cover - numpy accepts almost anything
            raise ParameterError(self.name, value, self.domain_str(), "not array-like")
        if arr.dtype == object:
            # e.g. exact SymPy constants; the float path rounds them to nearest
            try:
                if any(isinstance(v, (bool, np.bool_, str)) for v in arr.flat):
                    raise TypeError
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ParameterError(self.name, value, self.domain_str(),
                                     "not a numeric array") from None
        if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number)):
            raise ParameterError(self.name, value, self.domain_str(), "not a numeric array")
        if np.iscomplexobj(arr):
            raise ParameterError(self.name, value, self.domain_str(), "complex values")
        arr = np.asarray(arr, dtype=np.float64)
        # one fused pass in the common case; NaN fails every comparison and
        # +-inf fails the finiteness bound, so this also screens non-finite values
        lo_ok = arr > self.low if (self.low_open or math.isinf(self.low)) else arr >= self.low
        hi_ok = arr < self.high if (self.high_open or math.isinf(self.high)) else arr <= self.high
        good = lo_ok & hi_ok
        if self.integer:
            good &= np.floor(arr) == arr
        if good.all():
            return arr
        self._raise_array_error(arr)

    def _raise_array_error(self, arr: np.ndarray):
        """Name the first offending entry and why it is refused."""
        bad = ~np.isfinite(arr)
        why = "not finite"
        if not bad.any():
            lo_ok = arr > self.low if self.low_open else arr >= self.low
            hi_ok = arr < self.high if self.high_open else arr <= self.high
            bad = ~(lo_ok & hi_ok)
            why = "outside the domain"
            if not bad.any():
                bad = np.floor(arr) != arr
                why = "must be an integer"
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
        raise ParameterError(self.name, float(arr[idx]), self.domain_str(),
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
