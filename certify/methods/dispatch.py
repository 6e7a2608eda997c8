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

import numpy as np

from bounds.errors import ParameterError

from certify.methods.budget import DEFAULT_TIME_LIMIT, Budget, running
from certify.methods.certificate import Certificate, make_certificate, normalize_domain, normalize_norm
from certify.model.network import Network
from certify.methods.naive import naive_lipschitz, naive_upper
from certify.methods.branch_and_bound import interval_lipschitz
from certify.methods.sdp import sdp_lipschitz, slope_restricted
from certify.methods.exact import exact_lipschitz
from certify.methods.compositional import compositional_lipschitz
from certify.methods.sector_bab import sector_bab_lipschitz
from certify.methods.portfolio import AUTO_TIME_LIMIT, auto_lipschitz

__all__ = ["lipschitz", "METHODS", "choose_method", "AUTO_TIME_LIMIT", "DEFAULT_TIME_LIMIT"]

#: public method name -> implementation
METHODS = {
    "naive": naive_lipschitz,
    "interval": interval_lipschitz,
    "sdp": sdp_lipschitz,
    "exact": exact_lipschitz,
    "compositional": compositional_lipschitz,
    "sector_bab": sector_bab_lipschitz,
}

# AUTO_TIME_LIMIT (certify.methods.portfolio): seconds "auto" uses when no time_limit is set.
# DEFAULT_TIME_LIMIT (certify.methods.budget): the default time_limit of lipschitz(), any method.


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


def lipschitz(net, norm=2, domain=None, method="auto", tol=1e-9, time_limit=DEFAULT_TIME_LIMIT,
              node_limit=None, progress=None, **options) -> Certificate:
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
    time_limit : float or None
        Seconds (default :data:`DEFAULT_TIME_LIMIT`, whichever method runs); ``None`` or
        ``math.inf`` for no limit.  When it runs out, the best rigorous enclosure found so far is
        returned with ``status="time_limit"``.
    node_limit : int, optional
        Branch-and-bound node budget.
    progress : bool, optional
        A progress line on stderr (elapsed time, nodes, current enclosure): ``None`` (default)
        shows it only when stderr is a terminal.
    **options
        Passed to the method; a keyword the method does not take raises ParameterError.

    Ctrl-C (a first SIGINT in the main thread) stops the run: the best rigorous enclosure so far
    is returned with ``status="interrupted"``.  The certificate is the intersection of every
    rigorous enclosure computed during the call (see :func:`certify.methods.budget.intersect`).

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
    if not isinstance(net, Network):
        raise ParameterError("net", net if not isinstance(net, str) else repr(net)[:80],
                             "a certify.Network", "load a file with certify.Network.from_npz(path)")
    p = normalize_norm(norm)
    dom = normalize_domain(domain, int(net.input_dim))
    tol = _check_positive("tol", tol, allow_none=False)
    time_limit = _check_positive("time_limit", time_limit)
    if time_limit is not None and math.isinf(time_limit):
        time_limit = None
    if node_limit is not None:
        if (isinstance(node_limit, bool) or not isinstance(node_limit, (int, float, np.integer, np.floating))
                or not float(node_limit).is_integer() or node_limit < 1):
            raise ParameterError("node_limit", node_limit, "a positive integer or None")
        node_limit = int(node_limit)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise ParameterError("progress", progress, "True, False or None")
    if not isinstance(method, str) or (method != "auto" and method not in METHODS):
        raise ParameterError("method", method, "one of " + ", ".join(["auto", *METHODS]))
    name = "auto" if method == "auto" else method
    fn = auto_lipschitz if method == "auto" else METHODS[method]
    budget = Budget(time_limit, progress)
    budget.tol = tol
    with running(budget):
        try:
            if all(a.lipschitz is not None for a in net.activations):
                # a cheap rigorous upper end first: what Ctrl-C returns if nothing better exists,
                # and part of the final intersection (a 0.2 s budget: spectral norms only where
                # they are cheap, Frobenius-type bounds elsewhere)
                up, info = naive_upper(net, p, Budget(0.2, progress=False))
                budget.offer(make_certificate(net, p, dom, "naive", up, None, tol=tol,
                                              details=info))
            cert = fn(net, p, dom, tol=tol, time_limit=time_limit, node_limit=node_limit,
                      **options)
            cert = budget.offer(cert)
        except KeyboardInterrupt:  # a second Ctrl-C: the method did not get to return
            budget.interrupt()
            cert = budget.best
            if cert is None:  # nothing rigorous yet: the trivial enclosure
                cert = make_certificate(net, p, dom, name, math.inf, None, tol=tol)
        if budget.interrupted and not cert.exact:
            cert = dataclasses.replace(cert, status="interrupted")
    return dataclasses.replace(cert, elapsed=budget.elapsed())
