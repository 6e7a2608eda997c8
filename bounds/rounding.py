"""Decimal display of rigorous numbers, rounded in the direction that keeps them valid.

A printed lower bound must not exceed the number it prints, nor a printed upper bound fall
below it: :func:`mpmath.nstr` rounds to nearest, so its text is moved one unit in the last
shown digit when it lands on the wrong side.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import math

import mpmath

__all__ = ["nstr_directed"]


def nstr_directed(x, digits: int, rounding: str = "nearest") -> str:
    """``x`` to ``digits`` significant digits; ``rounding='down'``/``'up'`` never crosses ``x``.

    Parameters
    ----------
    x : mpmath.mpf, float, int or None
        ``None`` prints as ``-``.
    digits : int
    rounding : {"nearest", "down", "up"}

    >>> import mpmath
    >>> third = mpmath.mpf(2) / 3
    >>> nstr_directed(third, 3), nstr_directed(third, 3, "down"), nstr_directed(-third, 3, "up")
    ('0.667', '0.666', '-0.666')
    >>> nstr_directed(71.0575, 4, "down"), nstr_directed(71.0575, 4, "up"), nstr_directed(2**70 + 1, 3, "up")
    ('71.05', '71.06', '1.19e+21')
    """
    if x is None:
        return "-"
    if isinstance(x, mpmath.mpf):
        text = mpmath.nstr(x, digits)
    else:
        # mpmath.nstr prints a Python float or int as str() does (all its digits): convert first,
        # at a precision that keeps an int exact
        bits = abs(int(x)).bit_length() if isinstance(x, int) or (math.isfinite(x) and x == int(x)) else 0
        with mpmath.workprec(max(mpmath.mp.prec, 64, bits + 8)):
            text = mpmath.nstr(mpmath.mpf(x), digits)
    if rounding == "nearest" or not mpmath.isfinite(x):
        return text
    if isinstance(x, mpmath.mpf):
        # x.man_exp, not mpmath.mpf(x): the latter may round a wide mantissa
        man, exp = x.man_exp
        exact = Fraction(man) * Fraction(2) ** exp
    else:  # int or float: Fraction is exact (mpmath.mpf(int) rounds beyond the working precision)
        exact = Fraction(x)
    shown = Decimal(text)
    with localcontext() as ctx:
        ctx.prec = digits
        if rounding == "down" and Fraction(shown) > exact:
            return str(shown.next_minus()).replace("E", "e")
        if rounding == "up" and Fraction(shown) < exact:
            return str(shown.next_plus()).replace("E", "e")
    return text
