"""``method="auto"``: a portfolio of rigorous methods inside one time limit, intersected.

Order (each stage gets what the previous ones left of the limit):

1. ``naive`` (milliseconds; skipped for activations that are not globally Lipschitz), then for
   deep nets (l2, slope-restricted) ``compositional`` in ``mode="fast"`` (milliseconds to a second);
2. the checked SDP where it applies (l2 norm, slope-restricted activations): the sector form or
   the structured LMI for one hidden layer, the dense LipSDP when its memory estimate fits and the net is small,
   else the compositional bound (:mod:`certify.methods.compositional`); at most
   ``sdp_share`` of the limit;
3. for one-hidden-layer piecewise-linear nets (l2), a lower-bound local search over activation
   patterns with LP realisability (:mod:`certify.methods.pattern_search`), at most
   ``pattern_share`` of the limit;
4. branch and bound with the rest: for the global l2 constant of one hidden layer wider than its
   input, ``sector_bab`` (:mod:`certify.methods.sector_bab`, seeded with the SDP's multipliers and
   the best witnessed lower bound), preceded by ``exact`` with half the time left when the layer
   has at most :data:`FEW_REGIONS` linear regions; otherwise ``exact`` for piecewise-linear nets
   (seeded with the best witnessed lower bound, which prunes), ``interval`` on a box.

The answer is the intersection of every enclosure computed: ``lower`` = the best witness,
``upper`` = the least checked upper bound, so it is never wider than any stage's answer.
``details["upper_method"]`` / ``details["lower_method"]`` name the stage that supplied each end,
``details["runs"]`` lists every stage (enclosure, seconds, status or the error that stopped it),
and ``details["upper_certificate"]`` is the stage certificate that :meth:`Certificate.verify`
re-checks.
"""

from __future__ import annotations

import dataclasses
import math
import time

from certify.methods.certificate import VERIFIERS, make_certificate, register_verifier

__all__ = ["auto_lipschitz", "AUTO_TIME_LIMIT"]

#: Seconds ``method="auto"`` uses when the caller sets no ``time_limit``.
AUTO_TIME_LIMIT = 60.0

#: Dense LipSDP (cvxpy) is tried for deep nets only up to this LMI size (inputs + hidden).
DENSE_SDP_MAX_SIZE = 160


def _stages(net, norm, domain):
    from certify.methods.sdp import slope_restricted

    stages = []
    if all(a.lipschitz is not None for a in net.activations):
        stages.append("naive")
    if norm == 2 and slope_restricted(net) and len(net.weights) > 2 \
            and all(a.elementwise for a in net.activations):
        stages.append("compositional_fast")   # milliseconds to a second: an early checked l2 bound
    if norm == 2 and slope_restricted(net) and len(net.weights) > 1:
        if len(net.weights) == 2 or sum([net.input_dim] + [w.shape[0] for w in net.weights[:-1]]) \
                <= DENSE_SDP_MAX_SIZE:
            stages.append("sdp")
        else:
            stages.append("compositional")
    if getattr(net, "piecewise_linear", False) and len(net.weights) == 2 and norm == 2 \
            and net.activations[0].elementwise:   # the pattern search needs scalar pieces (not GroupSort)
        stages.append("pattern")
    sector = _sector_bab_applies(net, norm, domain)
    if getattr(net, "piecewise_linear", False) and (not sector or _few_regions(net)):
        stages.append("exact")
    elif domain is not None and not sector:
        stages.append("interval")
    if sector:
        stages.append("sector_bab")
    return stages


#: ``exact`` runs before ``sector_bab`` when the layer has at most this many linear regions
#: (``sum_{i <= d} C(k, i)``, the most ``k`` hyperplanes can cut ``R^d`` into).
FEW_REGIONS = 100_000


def _few_regions(net) -> bool:
    """Whether a one-hidden-layer net has few enough regions for ``exact`` to be worth a first try:
    it sees which slope patterns occur (``relu(x) - relu(-x)`` is 1-Lipschitz, while every slope
    vertex bound, ``sector_bab``'s included, gives 2)."""
    k, d = net.weights[0].shape
    total, term = 1, 1
    for i in range(1, min(d, k) + 1):
        term = term * (k - i + 1) // i
        total += term
        if total > FEW_REGIONS:
            return False
    return True


def _sector_bab_applies(net, norm, domain) -> bool:
    """Sector branch and bound replaces ``exact`` for the global l2 constant of one wide hidden layer.

    With ``k <= d`` neurons every slope pattern occurs (full-rank ``W``), ``exact`` converges to the
    true constant and its region reasoning costs little; beyond, regions multiply and the sector
    LMI's node bounds move the upper end much further in the same time (measured:
    d = 32, k = 64, 20 s: exact 1.86, sector_bab 1.087, from the SDP's 1.134).
    """
    from certify.methods.sdp import slope_restricted

    return (norm == 2 and domain is None and len(net.weights) == 2 and slope_restricted(net)
            and net.activations[0].elementwise and net.weights[0].shape[0] > net.input_dim)


def _sector_multipliers(cert):
    """Root multipliers for ``sector_bab`` from an SDP certificate (``None`` if it has none).

    The structured LMI's multiplier of neuron j weighs ``(s - a y)(b y - s)``; the sector form's
    weighs ``phi (y - phi)`` with ``s = a y + (b - a) phi``, hence the factor ``(b - a)^2``.
    """
    if cert is None or cert.method != "sdp":
        return None
    form = cert.details.get("formulation")
    ts = cert.details.get("multipliers")
    if form not in ("sector", "structured") or not ts:
        return None
    t = [float(v) for v in ts[0]]
    if form == "structured":
        a, b = cert.details["slopes"][0]
        t = [(b - a) ** 2 * v for v in t]
    return t


def _pattern_stage(net, norm, domain, *, time_limit, start, **_):
    from certify.methods.pattern_search import pattern_lower_bound

    return pattern_lower_bound(net, norm, domain, time_limit=time_limit,
                               start_points=None if start is None else start.x)


def auto_lipschitz(net, norm, domain, *, tol=1e-9, time_limit=None, node_limit=None,
                   sdp_share: float | None = None, pattern_share: float | None = None, lower_options=None,
                   **options):
    """Portfolio of rigorous methods; returns the intersection of their enclosures.

    Parameters
    ----------
    time_limit : float, optional
        Total seconds for all stages (default :data:`AUTO_TIME_LIMIT`).  The stages check the
        clock themselves; the total overshoots by at most the final witness/check evaluations
        (measured: well under a second for the benchmark nets plus 5%).
    sdp_share : float, optional
        Largest fraction of the limit the SDP stage may use; default 0.6 for one hidden layer of
        at least 128 neurons (where branch and bound rarely moves the upper end), else 0.4.
    pattern_share : float, optional
        Largest fraction for the pattern search (lower end); default 0.35 for one hidden layer of
        at least 128 neurons (where the lower end is the looser one), else 0.25.
    **options
        Passed to the branch-and-bound stage.

    Returns
    -------
    Certificate
        ``method="auto"``; see the module docstring for ``details``.
    """
    from certify.methods.dispatch import METHODS  # dispatch imports this module

    t0 = time.perf_counter()
    limit = AUTO_TIME_LIMIT if time_limit is None else float(time_limit)
    stages = _stages(net, norm, domain)
    wide = len(net.weights) == 2 and net.weights[0].shape[0] >= 128
    if sdp_share is None:
        sdp_share = 0.6 if wide else 0.4
    if pattern_share is None:
        pattern_share = 0.35 if wide else 0.25
    if not stages:
        from certify.errors import UnsupportedError
        bad = [a.spec for a in net.activations if a.lipschitz is None]
        raise UnsupportedError(f"method='auto': no method bounds this request: activation {bad[0]} is "
                               "not globally Lipschitz (the global constant is infinite unless it is "
                               "unused); pass a bounded domain" if bad and domain is None else
                               "method='auto': no method applies to this request")
    if options and not {"exact", "interval"} & set(stages):
        from certify.methods.budget import reject_unknown_options
        reject_unknown_options("auto", options)   # they were meant for a stage that does not run
    runs, certs = [], []
    best_lower = pattern_witness = None
    for name in stages:
        left = limit - (time.perf_counter() - t0)
        if left <= 0:
            runs.append({"method": name, "status": "skipped: no time left"})
            continue
        kw = {}
        budget = left
        if name in ("sdp", "compositional"):
            budget = max(min(sdp_share * limit, left), 0.0)
        if name == "exact" and "sector_bab" in stages:
            budget = 0.5 * left         # the rest for sector_bab, unless exact converges
        if name == "pattern":
            s0 = time.perf_counter()
            w = _pattern_stage(net, norm, domain, time_limit=min(pattern_share * limit, left),
                               start=best_lower)
            runs.append({"method": name, "lower": None if w is None else w.value,
                         "elapsed": time.perf_counter() - s0, "status": "lower bound search"})
            if w is not None and (best_lower is None or w.value > best_lower.value):
                best_lower, pattern_witness = w, w
            continue
        if name in ("exact", "sector_bab") and best_lower is not None:
            kw["incumbent"] = best_lower.value
        if name == "sector_bab":
            kw["multipliers"] = _sector_multipliers(next((c for c in certs if c.method == "sdp"), None))
            kw["lower_options"] = {"n_starts": 16, "n_ascents": 1, "iters": 10, **(lower_options or {})}
        if name in ("exact", "interval"):
            kw.update(options)
        if name == "naive":      # naive's own witness search, so auto's lower end is never below it
            kw["lower_options"] = dict(lower_options or {})
        if name in ("sdp", "compositional"):
            # a light extra witness search: naive, the pattern search and branch and bound do the lower end
            kw["lower_options"] = {"n_starts": 64, "n_ascents": 2, "iters": 20,
                                   "time_limit": 0.05 * limit, **(lower_options or {})}
        if name == "compositional_fast":
            kw = {"mode": "fast", "lower_options": {"n_starts": 16, "n_ascents": 1, "iters": 10,
                                                    **(lower_options or {})}}
        s0 = time.perf_counter()
        try:
            cert = METHODS[name.split("_fast")[0]](net, norm, domain, tol=tol, time_limit=budget,
                                        node_limit=node_limit if name in ("exact", "interval", "sector_bab")
                                        else None,
                                        **kw)
        except (RuntimeError, MemoryError, ValueError) as exc:
            runs.append({"method": name, "status": f"failed: {type(exc).__name__}: {exc}"[:300],
                         "elapsed": time.perf_counter() - s0})
            continue
        runs.append({"method": name, "lower": cert.lower, "upper": cert.upper,
                     "elapsed": time.perf_counter() - s0, "status": cert.status})
        certs.append(cert)
        if cert.witness is not None and (best_lower is None or cert.lower > best_lower.value):
            best_lower = cert.witness
        best_upper = min(c.upper for c in certs)
        lo = 0.0 if best_lower is None else best_lower.value
        if best_upper - lo <= tol * best_upper:
            break
    if not certs:
        raise RuntimeError("method='auto': every stage failed: " + "; ".join(r["status"] for r in runs))
    up_cert = min(certs, key=lambda c: c.upper)
    lo_cert = max(certs, key=lambda c: c.lower)
    lower_method, lower_witness = lo_cert.method, lo_cert.witness
    if pattern_witness is not None and pattern_witness.value > lo_cert.lower:
        lower_method, lower_witness = "pattern", pattern_witness
    limited = any(r.get("status") in ("time_limit", "node_limit") or "no time" in str(r.get("status"))
                  for r in runs)
    status = "time_limit" if limited else "bound"   # make_certificate turns a closed gap into "converged"
    details = {"upper_method": up_cert.method, "lower_method": lower_method, "runs": runs,
               "upper_certificate": up_cert, "time_limit": limit}
    cert = make_certificate(net, norm, domain, "auto", up_cert.upper, lower_witness, tol=tol,
                            status=status, elapsed=time.perf_counter() - t0, details=details)
    return cert


def verify_auto(cert) -> tuple[bool, str]:
    """Re-check the stage certificate that supplied the upper end with that method's verifier."""
    sub = cert.details.get("upper_certificate")
    if sub is None:
        return False, "no stage certificate stored"
    fn = sub.details.get("verifier") or VERIFIERS.get(sub.method)
    if fn is None:
        return False, f"no verifier for stage {sub.method!r}"
    if sub.network is not cert.network or sub.upper > cert.upper:
        return False, "stage certificate is about another network or a larger bound"
    ok, msg = fn(sub)
    return ok, f"upper from {sub.method}: {msg}"


register_verifier("auto", verify_auto)
