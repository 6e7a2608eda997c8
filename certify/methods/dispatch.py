"""Entry point: :func:`lipschitz` validates the request and dispatches to a certification method.

Methods are registered in :data:`METHODS` under their public names.  Every method is a callable

``fn(net, norm, domain, *, tol, time_limit, node_limit, **options) -> Certificate``

receiving the canonical norm (``1``, ``2`` or ``math.inf``) and the normalised domain (``None`` or
a pair of float arrays, see :func:`certify.methods.certificate.normalize_domain`).  The dispatcher records
the total wall-clock time in ``Certificate.elapsed``.
"""

from __future__ import annotations

import dataclasses
import math
import time

from bounds.errors import ParameterError

from certify.methods.certificate import Certificate, normalize_domain, normalize_norm
from certify.methods.naive import naive_lipschitz
from certify.methods.branch_and_bound import interval_lipschitz
from certify.methods.sdp import sdp_lipschitz, slope_restricted
from certify.methods.exact import exact_lipschitz
from certify.methods.compositional import compositional_lipschitz
from certify.methods.portfolio import AUTO_TIME_LIMIT, auto_lipschitz

__all__ = ["lipschitz", "METHODS", "choose_method", "AUTO_TIME_LIMIT"]

#: public method name -> implementation
METHODS = {
    "naive": naive_lipschitz,
    "interval": interval_lipschitz,
    "sdp": sdp_lipschitz,
    "exact": exact_lipschitz,
    "compositional": compositional_lipschitz,
}

# AUTO_TIME_LIMIT (certify.methods.portfolio): seconds "auto" uses when no time_limit is set.


def choose_method(net, norm, domain) -> str:
    """The branch-and-bound (or single) method best suited to a request.

    ``method="auto"`` no longer picks one method: it runs the portfolio of
    :func:`certify.methods.portfolio.auto_lipschitz`, whose last stage is this choice.
    Exact for piecewise-linear networks; otherwise interval
    branch and bound on a box; otherwise LipSDP for the global l2 constant of a slope-restricted
    network; otherwise the naive product.
    """
    if getattr(net, "piecewise_linear", False):
        return "exact"
    if domain is not None:
        return "interval"
    if norm == 2 and slope_restricted(net):
        return "sdp"
    return "naive"


def _check_positive(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a positive number or None") from None
    if not (v > 0) or math.isnan(v):
        raise ParameterError(name, value, "a positive number or None")
    return v


def lipschitz(net, norm=2, domain=None, method="auto", tol=1e-9, time_limit=None,
              node_limit=None, **options) -> Certificate:
    """Certified enclosure of the Lipschitz constant of a network.

    Parameters
    ----------
    net : certify.Network
    norm : {1, 2, numpy.inf, "l1", "l2", "linf", "inf"}
        The same p-norm is used on inputs and outputs, so for vector outputs the constant is the
        induced operator norm ``sup ||J_f(x)||_{p->p}`` (on a convex domain).
    domain : None or (lo, hi)
        ``None`` for all of R^d, or a box whose ends are scalars or arrays broadcast to d.
    method : {"auto", "naive", "interval", "sdp", "exact", "compositional"}
        "auto" runs a portfolio inside ``time_limit`` and intersects the enclosures
        (:func:`certify.methods.portfolio.auto_lipschitz`).
    tol : float
        Relative tolerance: stop once ``upper - lower <= tol * upper``.
    time_limit : float, optional
        Seconds; anytime methods return their best enclosure with ``status="time_limit"``.
        With ``method="auto"`` and no limit, the portfolio gets :data:`AUTO_TIME_LIMIT` seconds.
    node_limit : int, optional
        Branch-and-bound node budget.
    **options
        Passed to the method.

    Returns
    -------
    Certificate

    Raises
    ------
    ParameterError
        Unsupported norm or method, invalid box, invalid tolerance or limits.

    Examples
    --------
    >>> import numpy as np
    >>> from certify import Network, lipschitz
    >>> net = Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
    ...                           [np.array([0.0, -1.0]), np.array([0.0])], "relu")
    >>> cert = lipschitz(net, norm=2, method="naive")
    >>> cert.upper >= 1.0 and cert.rigorous
    True
    """
    p = normalize_norm(norm)
    dom = normalize_domain(domain, int(net.input_dim))
    tol = _check_positive("tol", tol, allow_none=False)
    time_limit = _check_positive("time_limit", time_limit)
    if node_limit is not None:
        if isinstance(node_limit, bool) or not float(node_limit).is_integer() or node_limit < 1:
            raise ParameterError("node_limit", node_limit, "a positive integer or None")
        node_limit = int(node_limit)
    if not isinstance(method, str) or (method != "auto" and method not in METHODS):
        raise ParameterError("method", method, "one of " + ", ".join(["auto", *METHODS]))
    t0 = time.perf_counter()
    fn = auto_lipschitz if method == "auto" else METHODS[method]
    cert = fn(net, p, dom, tol=tol, time_limit=time_limit, node_limit=node_limit, **options)
    return dataclasses.replace(cert, elapsed=time.perf_counter() - t0)
