"""Sector branch and bound (certify.methods.sector_bab) against independent references.

* the brute-force true constant over realisable patterns (tests/test_exact.py's LP enumeration)
  and the brute-force vertex maximum max_s ||A diag(s) W|| over all slope vertices: the upper end
  is >= both, and a search run to the end lands on the vertex maximum (it cannot see realisability);
* sampled Jacobian norms for smooth slope-restricted activations;
* the certificate: verify() re-proves every leaf; dropped leaves, a lowered upper end or altered
  multipliers are rejected.
"""

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bounds.errors import ParameterError
from certify import Network, lipschitz
from certify.errors import UnsupportedError
from lipschitz_reference import sampled_max
from tests.scale import examples
from tests.test_exact import brute_force, random_net

SLOPES = {"relu": (0.0, 1.0), "leaky_relu:0.1": (0.1, 1.0), "abs": (-1.0, 1.0)}


def vertex_max(W, A, a, b) -> float:
    return max(float(np.linalg.norm((A * np.array(s)[None, :]) @ W, 2))
               for s in itertools.product((a, b), repeat=W.shape[0]))


@settings(derandomize=True, max_examples=examples(30), deadline=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 3), k=st.integers(1, 7), m=st.integers(1, 2),
       act=st.sampled_from(sorted(SLOPES)))
def test_upper_is_above_the_truth_and_lands_on_the_vertex_maximum(seed, d, k, m, act):
    ws, bs = random_net(seed, d, (k,), m, act)
    net = Network.from_arrays(ws, bs, act)
    cert = lipschitz(net, 2, method="sector_bab", time_limit=30)
    truth = brute_force(ws, bs, act, 2, None)
    vmax = vertex_max(ws[0], ws[1], *SLOPES[act])
    assert truth * (1 - 1e-9) <= vmax * (1 + 1e-9)
    assert cert.lower <= truth * (1 + 1e-9) and vmax <= cert.upper
    assert cert.status in ("bound", "converged")                  # ran to the end
    assert cert.upper <= max(vmax, cert.lower) * (1 + 1e-6)
    assert cert.verify().ok


@settings(derandomize=True, max_examples=examples(6), deadline=None)
@given(seed=st.integers(0, 2**31 - 1), act=st.sampled_from(["tanh", "sigmoid", "softplus"]))
def test_smooth_activations_against_sampled_jacobians(seed, act):
    rng = np.random.default_rng(seed)
    d, k = int(rng.integers(1, 4)), int(rng.integers(2, 9))
    net = Network.from_arrays([rng.standard_normal((k, d)), rng.standard_normal((1, k))],
                              [rng.standard_normal(k), np.zeros(1)], act)
    cert = lipschitz(net, 2, method="sector_bab", time_limit=20)
    assert sampled_max(net, -4, 4, 2, n=3000, seed=seed) <= cert.upper
    assert cert.verify().ok


def test_certificate_tampering_is_caught():
    ws, bs = random_net(3, 3, (6,), 1, "relu")
    net = Network.from_arrays(ws, bs, "relu")
    cert = lipschitz(net, 2, method="sector_bab", time_limit=20)
    assert cert.verify().ok
    leaves = cert.details["leaves"]
    assert len(leaves) > 1
    dropped = dataclasses.replace(cert, details={**cert.details, "leaves": leaves[1:]})
    assert not dropped.verify().checks["upper"]
    lowered = dataclasses.replace(cert, upper=cert.upper * (1 - 1e-3))
    assert not lowered.verify().checks["upper"]
    t = np.asarray(cert.details["multipliers"]) * 1e-6
    bad_t = dataclasses.replace(cert, details={**cert.details, "multipliers": t})
    assert not bad_t.verify().checks["upper"]


def test_time_and_node_limits_return_rigorous_enclosures():
    rng = np.random.default_rng(0)
    W, A = rng.standard_normal((40, 6)) / 6 ** 0.5, rng.standard_normal((1, 40)) / 40 ** 0.5
    net = Network.from_arrays([W, A], [0.1 * rng.standard_normal(40), np.zeros(1)], "relu")
    sdp = lipschitz(net, 2, method="sdp")
    c = lipschitz(net, 2, method="sector_bab", node_limit=50)
    assert c.status == "node_limit" and c.upper <= sdp.upper * (1 + 1e-9) and c.verify().ok
    c = lipschitz(net, 2, method="sector_bab", time_limit=0.5)
    assert c.status == "time_limit" and c.verify().ok
    assert c.upper >= lipschitz(net, 2, method="exact", time_limit=5).lower
    slow = c.verify(time_limit=1e-6)          # a verification out of time fails, saying so
    assert not slow.checks["upper"] and "stopped" in str(slow)


def test_refusals_are_typed():
    rng = np.random.default_rng(1)
    deep = Network.from_arrays([rng.standard_normal((3, 2)), rng.standard_normal((3, 3)),
                                rng.standard_normal((1, 3))], None, "relu")
    with pytest.raises(UnsupportedError):
        lipschitz(deep, 2, method="sector_bab")
    two = Network.from_arrays([rng.standard_normal((3, 2)), rng.standard_normal((1, 3))], None, "relu")
    with pytest.raises(ParameterError):
        lipschitz(two, 1, method="sector_bab")
    with pytest.raises(UnsupportedError):
        lipschitz(Network.from_arrays([rng.standard_normal((4, 2)), rng.standard_normal((1, 4))], None,
                                      "groupsort:2"), 2, method="sector_bab")
    with pytest.raises(ParameterError):
        lipschitz(two, 2, method="sector_bab", multipliers=[1.0])
