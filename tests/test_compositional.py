"""The compositional LipSDP's fast mode (#10): reduced layer check and chained bound, against
independent references.

- the reduced (Schur-complement) layer check never accepts a layer LMI that exact rational
  LDL^T says is not positive definite, on instances built at the boundary;
- the chained bound is never below the brute-force maximum over activation patterns
  (tests/test_exact.py) nor below a sampled Jacobian norm or difference quotient checked at 50
  digits (tests/test_fuzz.py's random networks), and its certificate re-verifies.
"""

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import HealthCheck, given, settings, strategies as st

from bounds.errors import ParameterError
from certify import Network, lipschitz
from certify.methods.compositional import (_gram_enclosure, _inverse_factor, compositional_lipschitz,
                                           compositional_upper, schur_check)
from certify.methods.layer_lmi import LayerLMIError, ProblemTooLargeError
from certify.methods.sdp import SDPError
from certify.methods.lower import lower_bound
from lipschitz_reference import fraction_pd
from tests.scale import examples
from tests.test_exact import brute_force, random_net
from tests.test_fuzz import _sampled_violation, random_case

SEEDS = st.integers(0, 2**32 - 1)
LOW = {"n_starts": 8, "n_ascents": 0}


def _exact_layer_matrix(W, a, b, c, t, G, Q):
    """The layer LMI F(c, t) in exact rationals from the float data."""
    k, d = W.shape
    Fr = [[Fraction(0)] * (d + k) for _ in range(d + k)]
    ab2 = 2 * Fraction(a) * Fraction(b)
    apb = Fraction(a) + Fraction(b)
    W_ = [[Fraction(float(x)) for x in row] for row in W]
    t_ = [Fraction(float(x)) for x in t]
    for i in range(d):
        for j in range(d):
            Fr[i][j] = Fraction(c) * Fraction(float(G[i, j])) + ab2 * sum(W_[l][i] * t_[l] * W_[l][j] for l in range(k))
        for l in range(k):
            Fr[i][d + l] = Fr[d + l][i] = -apb * W_[l][i] * t_[l]
    for l in range(k):
        for m in range(k):
            Fr[d + l][d + m] = -Fraction(float(Q[l, m])) + (2 * t_[l] if l == m else 0)
    return Fr


@settings(derandomize=True, max_examples=examples(60), deadline=None)
@given(SEEDS, st.integers(1, 4), st.integers(1, 4), st.booleans(), st.booleans(),
       st.sampled_from([(0.0, 1.0), (0.1, 1.0), (0.0, 0.25), (0.5, 2.0)]),
       st.sampled_from([1e-2, 1e-9, 1e-14, 0.0, -1e-14, -1e-9]))
def test_schur_check_never_accepts_an_indefinite_layer(seed, d, k, identity, scalar, slopes, eps):
    rng = np.random.default_rng(seed)
    a, b = slopes
    W = rng.standard_normal((k, d))
    if identity:
        G = np.eye(d)
    else:
        B = rng.standard_normal((d, d))
        G = B @ B.T + 0.1 * np.eye(d)
        G = (G + G.T) / 2
    t = np.full(k, float(rng.uniform(0.2, 3))) if scalar else rng.uniform(0.2, 3, k)
    # the output metric at the boundary of the reduced LMI (the 2ab block dropped), then moved by
    # eps; c is large enough that 2T - X > 0 (else no output metric Q >= 0 would do)
    X1 = (a + b) ** 2 * (W * t[:, None]) @ np.linalg.solve(G, (W * t[:, None]).T)
    h = 1 / np.sqrt(2 * t)
    c = float(rng.uniform(1.2, 4)) * float(np.linalg.eigvalsh(h[:, None] * X1 * h[None, :])[-1]) + 1e-3
    X = X1 / c
    Q = (1 - eps) * (2 * np.diag(t) - X)
    Q = (Q + Q.T) / 2
    ginfo = (None, 1.0) if identity else _inverse_factor(G)
    assert ginfo is not None
    S, Sr = _gram_enclosure(ginfo[0], W)
    ok, msg = schur_check(S, Sr, ginfo[1], a, b, c, t, Q)
    if ok:
        assert fraction_pd(_exact_layer_matrix(W, a, b, c, t, G, Q)), msg
    if eps == 1e-2 and (a * b == 0):
        assert ok, msg       # a clear margin is proved (the check is not vacuous)


@settings(derandomize=True, max_examples=examples(20), deadline=None)
@given(SEEDS, st.integers(1, 5), st.sampled_from([1.0, 1e-3, 1e-8]))
def test_inverse_factor_bound_is_sound(seed, n, ridge):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    G = B @ B.T + ridge * np.eye(n)
    G = (G + G.T) / 2
    out = _inverse_factor(G)
    if ridge == 1.0:
        assert out is not None
    if out is None:
        return
    Z, lam = out
    # 0 < lam < lambda_min(Z G Z^T), decided in exact rationals
    Zf = [[Fraction(float(x)) for x in row] for row in Z]
    Gf = [[Fraction(float(x)) for x in row] for row in G]
    ZG = [[sum(Zf[i][p] * Gf[p][q] for p in range(n)) for q in range(n)] for i in range(n)]
    N = [[sum(ZG[i][q] * Zf[j][q] for q in range(n)) for j in range(n)] for i in range(n)]
    assert lam > 0
    assert fraction_pd([[N[i][j] - (Fraction(lam) if i == j else 0) for j in range(n)] for i in range(n)])


@settings(derandomize=True, max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 3),
       widths=st.sampled_from([(3,), (5,), (2, 2), (3, 2), (2, 3), (2, 2, 2)]),
       m=st.integers(1, 2), act=st.sampled_from(["relu", "leaky_relu:0.1", "abs"]))
def test_fast_mode_never_below_the_brute_force(seed, d, widths, m, act):
    ws, bs = random_net(seed, d, widths, m, act)
    net = Network.from_arrays(ws, bs, act)
    upper, det = compositional_upper(net, mode="fast")
    ref = brute_force(ws, bs, act, 2, None)
    assert upper >= ref * (1 - 1e-9), (upper, ref, det["log"])
    if act != "relu":          # abs: a b < 0; leaky_relu:0.1: the 2ab block matters; general path
        assert set(det["checks"]) == {"general"}
    else:
        assert "reduced" in det["checks"] or len(ws) == 1


@pytest.mark.parametrize("seed", range(12))
def test_fast_mode_in_the_differential_fuzz(seed):
    rng = np.random.default_rng(1000 + seed)
    net, _, domain = random_case(rng, full=seed % 2 == 1)
    try:   # the method itself: lipschitz() would intersect with naive's enclosure
        cert = compositional_lipschitz(net, 2, domain, mode="fast", lower_options=LOW)
    except (ParameterError, SDPError):   # no slope bounds; an uncheckable general layer
        return
    assert cert.rigorous and cert.lower <= cert.upper
    assert _sampled_violation(net, 2, cert.domain, cert.upper, rng) is None
    if len(net.weights) > 1:
        assert cert.details["mode"] == "fast"
        res = cert.verify()
        assert res.ok, str(res)
    # an independent lower end (a witnessed Jacobian norm) never exceeds it
    w = lower_bound(net, 2, domain, n_starts=16, n_ascents=1)
    assert w is None or w.value <= cert.upper


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "leaky_relu", "abs"])
def test_fast_certificate_verifies_and_detects_tampering(act):
    rng = np.random.default_rng(7)
    sizes = [5, 9, 7, 6, 2]
    ws = [rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]) for i in range(4)]
    net = Network.from_arrays(ws, None, act)
    fast = compositional_lipschitz(net, 2, None, mode="fast", lower_options=LOW)
    assert fast.verify().ok
    naive = lipschitz(net, 2, method="naive", lower_options=LOW)
    # abs (a + b = 0): scalar multipliers reproduce the norm product, up to the hand-off margins
    assert fast.upper <= naive.upper * (1.01 if act == "abs" else 1.0)
    for i in range(3):
        cs = list(fast.details["c"])
        cs[i] *= 0.9    # leaky ReLU: the dropped 2ab block leaves ~2% slack in c
        bad = dataclasses.replace(fast, details={**fast.details, "c": cs})
        assert not bad.verify().ok
    q = [np.array(x) for x in fast.details["handoff"]]
    q[1] = q[1] * 1.01
    assert not dataclasses.replace(fast, details={**fast.details, "handoff": q}).verify().ok


def test_fast_is_close_to_the_full_scalar_mode_and_options_are_checked():
    rng = np.random.default_rng(3)
    sizes = [6, 12, 12, 1]
    ws = [rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]) for i in range(3)]
    net = Network.from_arrays(ws, None, "relu")
    fast, _ = compositional_upper(net, mode="fast")
    scalar, _ = compositional_upper(net, multipliers="scalar")
    full, _ = compositional_upper(net)
    # the same heuristic (the next layer's Gram matrix as target), searched and checked two ways
    assert abs(fast / scalar - 1) < 1e-3
    assert full <= fast
    with pytest.raises(ParameterError):
        compositional_upper(net, mode="quick")
    with pytest.raises(ParameterError):
        compositional_upper(net, mode="fast", multipliers="diagonal")
    with pytest.raises(ProblemTooLargeError):      # refused before anything is allocated
        compositional_upper(net, mode="fast", max_memory=2**20)


def test_a_zero_layer_gives_zero():
    rng = np.random.default_rng(0)
    net = Network.from_arrays([rng.standard_normal((4, 3)), np.zeros((5, 4)), rng.standard_normal((2, 5))],
                              None, "relu")
    for mode in ("fast", "full"):
        cert = compositional_lipschitz(net, 2, None, mode=mode, lower_options=LOW)
        assert cert.upper == 0.0 and cert.verify().ok


def test_full_mode_falls_back_to_fast_when_a_layer_check_fails(monkeypatch):
    import certify.methods.compositional as comp

    def refuse(*args, **kwargs):
        raise LayerLMIError("could not certify the layer LMI")

    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(sh) for sh in [(6, 3), (6, 6), (2, 6)]]
    net = Network.from_arrays(ws, None, "relu")
    monkeypatch.setattr(comp, "_general_layer_check", refuse)   # the full path's checks only
    cert = compositional_lipschitz(net, 2, None, lower_options=LOW)
    assert cert.details["mode"] == "fast" and "fast mode used" in cert.details["log"][0]
    monkeypatch.undo()
    assert cert.verify().ok
    assert cert.upper <= lipschitz(net, 2, method="naive", lower_options=LOW).upper


def test_no_checkable_layer_is_a_typed_error():
    # identity layers: slopes [1, 1] make every layer LMI singular, so neither check can prove it
    rng = np.random.default_rng(1015)
    ws = [rng.standard_normal(sh) for sh in [(19, 5), (12, 19), (2, 12)]]
    net = Network.from_arrays(ws, [rng.standard_normal(s) for s in (19, 12, 2)], "identity")
    for mode in ("full", "fast"):
        try:
            cert = compositional_lipschitz(net, 2, None, mode=mode, lower_options=LOW)
        except SDPError as exc:
            assert "no checked layer certificate" in str(exc)
        else:   # if a check does pass, the bound must still hold
            assert np.linalg.norm(ws[2] @ ws[1] @ ws[0], 2) <= cert.upper
