"""Normalisation of the inputs every certification method shares: the norm and the domain.

All methods (and the witnesses that lower-bound them) go through :func:`normalize_norm` and
:func:`normalize_domain`, so that bad input is rejected everywhere with the same typed errors.
This is the base layer of :mod:`certify`: it imports nothing from the package but its errors.
"""

from __future__ import annotations

import math

import numpy as np

from bounds.errors import ParameterError

from certify.errors import shown

__all__ = ["normalize_norm", "normalize_domain", "norm_label"]

_NORM_ALIASES = {
    1: 1, 2: 2, math.inf: math.inf,
    "1": 1, "2": 2, "l1": 1, "l2": 2, "linf": math.inf, "inf": math.inf, "l_inf": math.inf,
    "infinity": math.inf,
}


def normalize_norm(norm) -> float | int:
    """Return the canonical norm (``1``, ``2`` or ``math.inf``) for a user-supplied spelling.

    Parameters
    ----------
    norm : {1, 2, numpy.inf, "l1", "l2", "linf", "inf"}

    Returns
    -------
    int or float
        ``1``, ``2`` or ``math.inf``.

    Raises
    ------
    ParameterError
        For any other value (including ``True``/``False`` and NaN).
    """
    key = norm.strip().lower() if isinstance(norm, str) else norm
    if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float, np.integer,
                                                                       np.floating)):
        # complex numbers (2+0j == 2), arrays and other objects that compare equal to a norm
        raise ParameterError("norm", norm, "1, 2, numpy.inf, 'l1', 'l2', 'linf' or 'inf'")
    if isinstance(key, (int, float, np.integer, np.floating)) and not isinstance(key, str):
        key = float(key)
        if key == 1.0:
            return 1
        if key == 2.0:
            return 2
        if key == math.inf:
            return math.inf
        raise ParameterError("norm", norm, "1, 2, numpy.inf, 'l1', 'l2', 'linf' or 'inf'")
    try:
        return _NORM_ALIASES[key]
    except (KeyError, TypeError):
        raise ParameterError("norm", norm, "1, 2, numpy.inf, 'l1', 'l2', 'linf' or 'inf'") from None


def norm_label(norm) -> str:
    """``"l1"``, ``"l2"`` or ``"linf"`` for a canonical norm."""
    return {1: "l1", 2: "l2", math.inf: "linf"}[normalize_norm(norm)]


def normalize_domain(domain, dim: int):
    """Validate a box domain and broadcast it to ``dim`` coordinates.

    Parameters
    ----------
    domain : None or (lo, hi)
        ``None`` means all of :math:`\\mathbb{R}^d`.  ``lo`` and ``hi`` are scalars or arrays
        broadcastable to shape ``(dim,)``.
    dim : int
        Input dimension of the network.

    Returns
    -------
    None or tuple of two float64 arrays of shape (dim,)
        Read-only copies.

    Raises
    ------
    ParameterError
        If the box is not a pair, has the wrong dimension, contains NaN or infinite ends, or has
        some ``lo[i] > hi[i]`` (empty box) or ``lo[i] == hi[i]`` (flat box: on a set of lower
        dimension the Jacobian norm at a point is not a lower bound of the constant, so witnessed
        lower ends would be wrong; restrict the network to the affine slice instead).
    """
    if domain is None:
        return None
    allowed = f"None or a pair (lo, hi) of scalars/arrays broadcastable to shape ({dim},) with lo < hi"
    if not isinstance(domain, (tuple, list, np.ndarray)) or isinstance(domain, np.ma.MaskedArray):
        # a set {lo, hi} has no order, a dict unpacks its keys
        raise ParameterError("domain", domain, allowed, "expected a tuple or list (lo, hi)")
    try:
        lo, hi = domain
    except (TypeError, ValueError):
        raise ParameterError("domain", domain, allowed, "expected a pair (lo, hi)") from None
    ends = []
    for name, end in (("lo", lo), ("hi", hi)):
        if isinstance(end, np.ma.MaskedArray):
            raise ParameterError("domain", domain, allowed,
                                 f"{name} is a masked array; pass the box ends as plain numbers")
        try:
            arr = np.asarray(end)
        except (TypeError, ValueError):
            raise ParameterError("domain", domain, allowed, "box ends must be real numbers") from None
        if arr.dtype.kind not in "iuf":
            # strings would be parsed by NumPy, booleans read as 0/1, objects are unknown
            raise ParameterError("domain", domain, allowed,
                                 f"{name} must be real numbers, got dtype {arr.dtype}")
        ends.append(np.array(arr, dtype=np.float64))
    lo, hi = ends
    for name, arr in (("lo", lo), ("hi", hi)):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, dim)):
            raise ParameterError("domain", domain, allowed,
                                 f"{name} has shape {arr.shape}, the network has {dim} inputs")
    lo = np.broadcast_to(lo, (dim,)).astype(np.float64)
    hi = np.broadcast_to(hi, (dim,)).astype(np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ParameterError("domain", domain, allowed, "box ends must be finite (no NaN or inf); "
                             "use domain=None for all of R^d")
    if np.any(lo > hi):
        bad = int(np.flatnonzero(lo > hi)[0])
        raise ParameterError("domain", domain, allowed,
                             f"empty box: lo[{bad}]={shown(lo[bad])} > hi[{bad}]={shown(hi[bad])}")
    if np.any(lo == hi):
        bad = int(np.flatnonzero(lo == hi)[0])
        raise ParameterError("domain", domain, allowed,
                             f"flat box: lo[{bad}] == hi[{bad}] == {shown(lo[bad])}; the Lipschitz constant "
                             "on a lower-dimensional set is not what the methods certify")
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi
