"""Typed errors of :mod:`certify`.

All but :class:`DataNotFoundError` (a :class:`FileNotFoundError`) are :class:`ValueError` subclasses,
so callers may catch ``ValueError`` generically.  Errors
about a single named parameter use :class:`bounds.errors.ParameterError` directly.
"""

from __future__ import annotations

__all__ = ["UnsupportedError", "ShapeError", "DomainError", "DataNotFoundError", "shown"]


def shown(x) -> str:
    """A value for a message, as the user would write it: NumPy scalars as Python numbers.

    >>> import numpy as np
    >>> shown(np.float64(1.0)), shown(np.int64(3)), shown(0.1), shown("relu")
    ('1.0', '3', '0.1', "'relu'")
    """
    item = getattr(x, "item", None)
    if item is not None and getattr(x, "shape", None) == ():
        x = item()
    return repr(x)


class UnsupportedError(ValueError):
    """A feature, activation or option that :mod:`certify` does not (yet) handle.

    The message names what was asked for and, where there is a finite list, what is supported.
    """


class ShapeError(ValueError):
    """Arrays or intervals whose shapes do not fit together (the message gives both shapes)."""


class DomainError(ValueError):
    """A value outside the mathematical domain of an operation.

    Examples: an interval with ``lo > hi`` or a NaN endpoint, ``sqrt`` or ``log`` of an interval
    reaching below zero, division by an interval containing zero.
    """


class DataNotFoundError(FileNotFoundError):
    """External data (e.g. the LipBaB networks, which are not distributed) is not installed.

    The message says where it was looked for and how to point to it (``LAWROB_DATA``).  Examples
    and tests that need such data skip when this is raised.
    """
