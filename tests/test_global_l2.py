"""Global l2 bounds at width (#10): structured LipSDP, compositional LipSDP, pattern search, auto.

Soundness is tested against independent references: exact rational LDL^T for definiteness,
the brute-force pattern maximum of tests/lipschitz_reference.py for two-layer nets (k <= d), and
sampled Jacobian norms for deep nets.
"""

import dataclasses
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from certify import Network, lipschitz
from certify.arith.definite import prove_positive_definite
from certify.methods.pattern_search import pattern_lower_bound
from certify.methods.sdp import SDPTooLargeError
from lipschitz_reference import fraction_pd, random_two_layer, sampled_max, two_layer_global_truth
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)
LOW = {"n_starts": 16, "n_ascents": 1}


def _exact_pd(M, minus=0) -> bool:
    """Positive definiteness of ``M - minus * I`` (float ``M``) decided in exact rationals (LDL^T
    pivots); ``minus`` is subtracted as a Fraction, so nothing is rounded."""
    n = len(M)
    return fraction_pd([[Fraction(float(M[i][j])) - (Fraction(minus) if i == j else 0)
                         for j in range(n)] for i in range(n)])


@settings(derandomize=True, max_examples=examples(40), deadline=None)
@given(SEEDS, st.integers(1, 6), st.sampled_from([1e-1, 1e-8, 1e-13, 0.0, -1e-13]))
def test_prove_positive_definite_never_wrong(seed, n, shift):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    M = B @ B.T
    lam = np.linalg.eigvalsh(M)[0]
    M = M - (lam - shift * max(1.0, abs(lam))) * np.eye(n)   # lambda_min near the boundary
    M = (M + M.T) / 2
    ok, margin, _ = prove_positive_definite(M)
    if ok:
        assert _exact_pd(M)
        assert _exact_pd(M, minus=margin) or margin < 1e-300


@settings(derandomize=True, max_examples=examples(6), deadline=None)
@given(SEEDS, st.sampled_from(["sector", "structured"]))
def test_structured_sdp_sound_and_equal_to_dense(seed, formulation):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 6))
    k = int(rng.integers(1, d + 1))
    W, b, A, c = random_two_layer(rng, d, k, int(rng.integers(1, 3)))
    net = Network.from_arrays([W, A], [b, c], "relu")
    truth = two_layer_global_truth(W, A, 2)
    from certify.methods.sdp import sdp_lipschitz  # the method itself: lipschitz() may intersect
    cert = sdp_lipschitz(net, 2, None, lower_options=LOW,  # with a smaller naive upper end
                         formulation=formulation)
    assert cert.details["formulation"] == formulation
    assert truth <= cert.upper and cert.lower <= truth * (1 + 1e-12)
    assert cert.verify().ok
    dense = sdp_lipschitz(net, 2, None, formulation="dense", lower_options=LOW)
    assert cert.upper <= dense.upper * (1 + 1e-4)
    # tampering: a bound below the certified LMI's optimum must not verify
    bad = dataclasses.replace(cert, upper=cert.upper * (1 - 1e-3))
    if bad.upper < truth:
        assert not bad.verify().checks["upper"]


@settings(derandomize=True, max_examples=examples(4), deadline=None)
@given(SEEDS, st.sampled_from(["relu", "tanh", "leaky_relu", "sigmoid"]),
       st.sampled_from(["diagonal", "scalar"]))
def test_compositional_sound_on_deep_nets(seed, act, mult):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(2, 5))] + [int(rng.integers(2, 7)) for _ in range(int(rng.integers(2, 4)))] + [1]
    ws = [rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    net = Network.from_arrays(ws, [rng.standard_normal(s) for s in sizes[1:]], act)
    cert = lipschitz(net, 2, method="compositional", multipliers=mult, lower_options=LOW)
    assert sampled_max(net, -4, 4, 2, n=4000, seed=seed) <= cert.upper
    assert cert.verify().ok
    naive = lipschitz(net, 2, method="naive", lower_options=LOW)
    assert cert.upper <= naive.upper * (1 + 1e-6)
    tampered = dataclasses.replace(cert, details={**cert.details, "c": [c * 0.5 for c in cert.details["c"]]})
    assert not tampered.verify().checks["upper"] or cert.upper == 0


@settings(derandomize=True, max_examples=examples(10), deadline=None)
@given(SEEDS)
def test_pattern_search_lower_is_sound(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 6))
    k = int(rng.integers(1, d + 1))
    W, b, A, c = random_two_layer(rng, d, k, 1)
    net = Network.from_arrays([W, A], [b, c], "relu")
    truth = two_layer_global_truth(W, A, 2)
    w = pattern_lower_bound(net, 2, None, time_limit=1.0, n_starts=4)
    assert w is not None and w.value <= truth * (1 + 1e-12)
    assert w.value >= truth * (1 - 1e-9)   # k <= d: every pattern is realisable, the climb reaches the top


def _bench_like_nets():
    rng = np.random.default_rng(10)
    out = []
    for d, k in [(8, 4), (8, 24), (32, 64)]:
        W = rng.standard_normal((k, d)) / np.sqrt(d)
        A = rng.standard_normal((1, k)) / np.sqrt(k)
        out.append(Network.from_arrays([W, A], [0.1 * rng.standard_normal(k), np.zeros(1)], "relu"))
    ws = [rng.standard_normal((6, 4)), rng.standard_normal((6, 6)), rng.standard_normal((2, 6))]
    out.append(Network.from_arrays(ws, None, "tanh"))
    return out


@pytest.mark.parametrize("i", range(4))
def test_auto_never_wider_than_naive_or_sdp_and_within_time(i):
    net = _bench_like_nets()[i]
    limit, slack = 3.0, 4.0    # stated slack: final evaluations after the last stage, and load on a shared machine
    t0 = time.perf_counter()
    auto = lipschitz(net, 2, time_limit=limit)
    wall = time.perf_counter() - t0
    assert wall <= limit + slack
    for m in ("naive", "sdp"):
        other = lipschitz(net, 2, method=m, lower_options=LOW)
        assert auto.upper <= other.upper
    res = auto.verify()
    assert res.ok, str(res)
    assert auto.details["upper_method"] in {r["method"] for r in auto.details["runs"]}


def test_sdp_refuses_what_does_not_fit():
    rng = np.random.default_rng(0)
    net = Network.from_arrays([rng.standard_normal((64, 8)), rng.standard_normal((1, 64))], None, "relu")
    with pytest.raises(SDPTooLargeError) as err:
        lipschitz(net, 2, method="sdp", max_memory=10**6)
    assert err.value.required > err.value.available
    deep = Network.from_arrays([rng.standard_normal((30, 8)), rng.standard_normal((30, 30)),
                                rng.standard_normal((1, 30))], None, "relu")
    with pytest.raises(SDPTooLargeError):
        lipschitz(deep, 2, method="sdp", max_memory=10**6)


@pytest.mark.parametrize("scale", [1e-20, 1e-150, 1e20, 1e150])
def test_prove_positive_definite_equilibrates_badly_scaled_blocks(scale):
    # a PD matrix whose blocks differ by `scale`: unprovable at the float eigen-solver's absolute
    # resolution without the exact power-of-two congruence; the margin stays a proved lower bound
    M = np.array([[scale, 0.5 * scale ** 0.5, 0.0], [0.5 * scale ** 0.5, 1.0, 0.3], [0.0, 0.3, 1.0]])
    ok, margin, msg = prove_positive_definite(M, np.abs(M) * 1e-15)
    assert ok, msg
    assert _exact_pd(M, minus=margin) and margin > 0
    # the congruence does not let an indefinite ball through
    bad = M.copy()
    bad[0, 1] = bad[1, 0] = 1.01 * scale ** 0.5
    assert not prove_positive_definite(bad)[0]
