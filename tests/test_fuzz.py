"""Standing differential fuzz of certify.lipschitz (issue 14): every method on seeded random networks.

Space: 1-4 affine layers, widths 1-30, inputs 1-12, outputs 1-4, every activation, weight scales
1e-8..1e6, boxes 1e-9..1e6 wide or global, norms 1, 2, inf.  Invariants, per network:

* no exception but the documented typed ones (ValueError subclasses for input a method does not
  take, :class:`SDPError` when LipSDP cannot produce a checked certificate);
* every enclosure is ordered and rigorous; ``exact=True`` only with finite ends within ``tol``;
* enclosures of all methods intersect: every ``lower`` <= every other method's ``upper``;
* every ``upper`` >= Jacobian norms sampled by an independent implementation (own forward pass and
  derivatives below, not :meth:`Network.jacobian`) and >= difference quotients; a sample within
  1e-6 (relative) of ``upper`` is re-evaluated in mpmath at 50 digits before it counts;
* time limits are honoured within :data:`SLACK` seconds;
* ``auto``'s upper end is never above ``naive``'s, nor above an ``sdp`` run that finished within
  a quarter of the limit (``auto``'s lower end is never below ``naive``'s witness either).

The default run is small (a few seconds).  ``LAWROB_FUZZ=N`` runs N networks over the whole
space (the scale-up recorded in ``docs/methods/fuzz.md``).
"""

from __future__ import annotations

import math
import os
import time

import cvxpy  # noqa: F401  (imported once here: its first import takes seconds, not a method's time)
import mpmath
import numpy as np
import pytest

from bounds.errors import ParameterError
from certify import Network, lipschitz
from certify.errors import DomainError, ShapeError, UnsupportedError
from certify.methods.sdp import SDPError

METHODS = ("naive", "interval", "sdp", "exact", "sector_bab", "compositional", "compositional:fast",
           "auto")
#: a method name with options (``name:mode``)
VARIANTS = {"compositional:fast": ("compositional", {"mode": "fast"})}
ACTIVATIONS = ("relu", "leaky_relu", "abs", "hardtanh", "tanh", "sigmoid", "softplus", "identity",
               "poly:1", "poly:2", "poly:3")
#: documented typed errors (a method refusing a norm, an activation or an unbounded domain)
TYPED = (ParameterError, UnsupportedError, DomainError, ShapeError, SDPError)
#: seconds a method may overrun its time limit (solver set-up, one node, one Arb witness)
SLACK = 3.0

N_SCALE = int(os.environ.get("LAWROB_FUZZ", "0") or 0)


# ---------------------------------------------------------------------------- independent reference

def _act(name, param, z, deriv=False, mp=False):
    """Activation value or derivative (right derivative at kinks), written independently."""
    if mp:
        exp, tanh, log1p = mpmath.exp, mpmath.tanh, mpmath.log1p
    else:
        exp, tanh, log1p = np.exp, np.tanh, np.log1p
    if name == "relu":
        return (1 if z >= 0 else 0) if deriv else max(z, 0)
    if name == "leaky_relu":
        return (1 if z >= 0 else param) if deriv else (z if z >= 0 else param * z)
    if name == "abs":
        return (1 if z >= 0 else -1) if deriv else abs(z)
    if name == "hardtanh":
        return (1 if -1 <= z < 1 else 0) if deriv else min(max(z, -1), 1)
    if name == "tanh":
        return 1 - tanh(z) ** 2 if deriv else tanh(z)
    if name == "sigmoid":
        s = 1 / (1 + exp(-z)) if z >= 0 else exp(z) / (1 + exp(z))
        return s * (1 - s) if deriv else s
    if name == "softplus":
        s = 1 / (1 + exp(-z)) if z >= 0 else exp(z) / (1 + exp(z))
        return s if deriv else (z + log1p(exp(-z)) if z >= 0 else log1p(exp(z)))
    if name == "identity":
        return 1 if deriv else z
    if name == "poly":
        return param * z ** (param - 1) if deriv else z ** param
    raise AssertionError(name)


def _forward_jac(net, x, mp=False):
    """(f(x), J(x)) by an independent forward-mode pass (floats, or mpmath at the current dps)."""
    conv = (lambda a: mpmath.matrix(a.tolist())) if mp else (lambda a: np.asarray(a, dtype=float))
    h = mpmath.matrix([[v] for v in x]) if mp else np.asarray(x, dtype=float).reshape(-1, 1)
    J = mpmath.eye(len(x)) if mp else np.eye(len(x))
    L = len(net.weights)
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        W = conv(w)
        B = mpmath.matrix([[v] for v in b.tolist()]) if mp else np.asarray(b, dtype=float).reshape(-1, 1)
        z = W * h + B if mp else W @ h + B
        J = W * J if mp else W @ J
        if i < L - 1:
            a = net.activations[i]
            n = z.rows if mp else z.shape[0]
            d = [_act(a.name, a.param, z[j, 0] if mp else float(z[j, 0]), True, mp) for j in range(n)]
            hv = [_act(a.name, a.param, z[j, 0] if mp else float(z[j, 0]), False, mp) for j in range(n)]
            if mp:
                h = mpmath.matrix([[v] for v in hv])
                J = mpmath.diag(d) * J
            else:
                h = np.array(hv, dtype=float).reshape(-1, 1)
                J = np.array(d, dtype=float).reshape(-1, 1) * J
        else:
            h = z
    return h, J


def _opnorm(J, p, mp=False):
    if mp:
        rows, cols = J.rows, J.cols
        if p == 1:
            return max(sum(abs(J[i, j]) for i in range(rows)) for j in range(cols))
        if p == math.inf:
            return max(sum(abs(J[i, j]) for j in range(cols)) for i in range(rows))
        return max(mpmath.svd_r(J, compute_uv=False))
    if p == 1:
        return float(np.abs(J).sum(0).max())
    if p == math.inf:
        return float(np.abs(J).sum(1).max())
    return float(np.linalg.norm(J, 2))


def _vnorm(v, p, mp=False):
    vals = [abs(v[i, 0]) for i in range(v.rows)] if mp else np.abs(np.ravel(v)).tolist()
    if p == 1:
        return sum(vals)
    if p == math.inf:
        return max(vals)
    return mpmath.sqrt(sum(t * t for t in vals)) if mp else math.sqrt(sum(t * t for t in vals))


def _samples(net, domain, rng, n):
    d = net.input_dim
    if domain is None:
        scales = 10.0 ** rng.uniform(-3, 3, size=(n, 1))
        return rng.standard_normal((n, d)) * scales
    lo, hi = domain
    t = rng.random((n, d))
    return np.clip(lo * (1 - t) + hi * t, lo, hi)


def _sampled_violation(net, p, domain, upper, rng, n=24):
    """A sampled Jacobian norm or difference quotient above ``upper`` (checked at 50 digits), or None."""
    X = _samples(net, domain, rng, n)
    for x in X:
        with np.errstate(all="ignore"):
            fx, J = _forward_jac(net, x)
            g = _opnorm(J, p)
        if math.isfinite(g) and g >= upper * (1 - 1e-6):
            with mpmath.workdps(50):
                gm = _opnorm(_forward_jac(net, [mpmath.mpf(float(v)) for v in x], mp=True)[1], p, mp=True)
            # at a kink the right derivative is one Clarke Jacobian: a lower bound all the same
            if gm > mpmath.mpf(upper) * (1 + mpmath.mpf(10) ** -30):
                return f"Jacobian norm {gm} at x={x.tolist()} > upper {upper!r}"
        width = 1e-6 * (1.0 if domain is None else float(np.max(domain[1] / 2 - domain[0] / 2)))
        y = x + width * rng.standard_normal(x.shape)
        if domain is not None:
            y = np.clip(y, *domain)
        if np.array_equal(x, y):
            continue
        with np.errstate(all="ignore"):
            fy, _ = _forward_jac(net, y)
            q = _vnorm(fx - fy, p) / _vnorm((x - y).reshape(-1, 1), p)
        if math.isfinite(q) and q >= upper * (1 - 1e-6):
            with mpmath.workdps(50):
                xm = [mpmath.mpf(float(v)) for v in x]
                ym = [mpmath.mpf(float(v)) for v in y]
                fxm, _ = _forward_jac(net, xm, mp=True)
                fym, _ = _forward_jac(net, ym, mp=True)
                qm = _vnorm(fxm - fym, p, mp=True) / _vnorm(mpmath.matrix([[a - b] for a, b in zip(xm, ym)]), p, mp=True)
            if qm > mpmath.mpf(upper) * (1 + mpmath.mpf(10) ** -30):
                return f"difference quotient {qm} at x={x.tolist()} > upper {upper!r}"
    return None


# ---------------------------------------------------------------------------- random cases

def random_case(rng, full: bool):
    """A random (network, norm, domain) over the whole space (``full``) or a small corner of it."""
    depth = int(rng.integers(1, 5 if full else 4))
    d = int(rng.integers(1, 13 if full else 5))
    m = int(rng.integers(1, 5 if full else 3))
    widths = [d] + [int(rng.integers(1, 31 if full else 7)) for _ in range(depth - 1)] + [m]
    scale = 10.0 ** rng.uniform(-8, 6) if full else 10.0 ** rng.uniform(-2, 2)
    ws = [rng.standard_normal((widths[i + 1], widths[i])) * scale / math.sqrt(widths[i])
          for i in range(depth)]
    bs = [rng.standard_normal(widths[i + 1]) * scale for i in range(depth)]
    act = str(rng.choice(ACTIVATIONS))
    if act == "leaky_relu":
        act = f"leaky_relu:{float(10.0 ** rng.uniform(-3, 0)):.3g}"
    net = Network.from_arrays(ws, bs, act)
    p = [1, 2, math.inf][int(rng.integers(0, 3))]
    if rng.random() < 0.3:
        domain = None
    else:
        width = 10.0 ** rng.uniform(-9, 6) if full else 10.0 ** rng.uniform(-3, 1)
        centre = rng.standard_normal(d) * (10.0 ** rng.uniform(-1, 3))
        domain = (centre - width / 2, centre + width / 2)
    return net, p, domain


def run_case(seed, full, time_limit):
    """Run every method on one random case; returns (certificates, findings) or raises on a bug."""
    rng = np.random.default_rng(seed)
    net, p, domain = random_case(rng, full)
    certs, problems = {}, []
    for method in METHODS:
        t0 = time.perf_counter()
        try:
            name, opts = VARIANTS.get(method, (method, {}))
            cert = lipschitz(net, p, domain, method=name, time_limit=time_limit, **opts)
        except TYPED:
            continue
        took = time.perf_counter() - t0
        if took > time_limit + SLACK:
            problems.append(f"{method}: {took:.1f} s for time_limit={time_limit}")
        if not (0.0 <= cert.lower <= cert.upper and cert.rigorous):
            problems.append(f"{method}: enclosure [{cert.lower!r}, {cert.upper!r}] not ordered/rigorous")
        if cert.exact and not (math.isfinite(cert.upper)
                               and cert.upper - cert.lower <= 1e-9 * cert.upper):
            problems.append(f"{method}: exact=True with [{cert.lower!r}, {cert.upper!r}]")
        if math.isfinite(cert.upper):
            bad = _sampled_violation(net, p, cert.domain, cert.upper, rng)
            if bad:
                problems.append(f"{method}: UNSOUND: {bad}")
        certs[method] = cert
    for a, ca in certs.items():
        for b, cb in certs.items():
            if ca.lower > cb.upper:
                problems.append(f"UNSOUND: lower of {a} {ca.lower!r} > upper of {b} {cb.upper!r}")
    # issue 10: auto is never wider than naive (its first stage), nor than an sdp run that finished
    # within the share of the limit auto gives its SDP stage (the same deterministic computation)
    auto = certs.get("auto")
    for other in ("naive", "sdp"):
        o = certs.get(other)
        if auto is None or o is None or o.elapsed > 0.25 * time_limit:
            continue
        if auto.upper > o.upper * (1 + 1e-12) or auto.lower < o.lower * (1 - 1e-12) and other == "naive":
            problems.append(f"auto [{auto.lower!r}, {auto.upper!r}] wider than {other} "
                            f"[{o.lower!r}, {o.upper!r}]")
    return (net, p, domain), certs, problems


@pytest.mark.parametrize("seed", range(8))
def test_fuzz_small(seed):
    case, certs, problems = run_case(seed, full=False, time_limit=1.0)
    assert certs, f"no method accepted {case}"
    assert not problems, (case, problems)


@pytest.mark.skipif(N_SCALE <= 0, reason="scale-up: set LAWROB_FUZZ=N to fuzz N networks over the whole space")
def test_fuzz_scale_up():
    counts = {m: 0 for m in METHODS}
    unsound, problems = 0, []
    for seed in range(1000, 1000 + N_SCALE):
        case, certs, probs = run_case(seed, full=True, time_limit=2.0)
        for m in certs:
            counts[m] += 1
        unsound += sum("UNSOUND" in q for q in probs)
        problems += [(seed, q) for q in probs]
    print(f"\nfuzz scale-up: {N_SCALE} networks; certificates per method {counts}; "
          f"unsound {unsound}; other findings {len(problems) - unsound}")
    for seed, q in problems:
        print(f"  seed {seed}: {q}")
    assert not problems


def test_fuzz_detects_a_lowered_upper():
    """The reference check can fail: half the true constant is caught as unsound."""
    net = Network.from_arrays([np.array([[2.0, -1.0], [0.5, 1.0]]), np.array([[1.0, 3.0]])],
                              [np.array([0.1, -0.2]), np.array([0.0])], "tanh")
    cert = lipschitz(net, 2, (-1, 1), method="interval")
    assert _sampled_violation(net, 2, cert.domain, cert.upper, np.random.default_rng(0)) is None
    assert _sampled_violation(net, 2, cert.domain, cert.lower / 2, np.random.default_rng(0))
