"""method='interval': branch and bound over the box, against brute-force truths on tiny nets."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mpmath

from certify import Network, lipschitz
from certify.model.activations import get as get_activation
from certify.methods.branch_and_bound import (activation_relaxation, box_bound, jacobian_enclosure,
                                      symbolic_preactivations)
from certify.arith.interval import Interval
from lipschitz_reference import random_two_layer, sampled_max, two_layer_box_truth
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)
NORMS = st.sampled_from([1, 2, math.inf])
from tests.lipbab import lipbab_net


@settings(derandomize=True, max_examples=examples(20), deadline=None)
@given(SEEDS, NORMS)
def test_interval_sound_on_random_relu_boxes(seed, p):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 4))
    k = int(rng.integers(1, 5))
    W, b, A, c = random_two_layer(rng, d, k, int(rng.integers(1, 3)))
    lo, hi = -float(rng.random()), float(rng.random()) + 0.1
    net = Network.from_arrays([W, A], [b, c], "relu")
    truth = two_layer_box_truth(W, b, A, lo, hi, p)
    cert = lipschitz(net, norm=p, domain=(lo, hi), method="interval", time_limit=0.5,
                     node_limit=400)
    assert cert.lower <= truth * (1 + 1e-12)
    assert truth <= cert.upper
    assert cert.status in ("converged", "time_limit", "node_limit", "resolution_limit")


def test_interval_closes_gap_on_one_dimensional_net():
    net = Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
                              [np.array([0.0, -1.0]), np.array([0.0])], "relu")
    cert = lipschitz(net, domain=(-3, 3), method="interval", tol=1e-9)
    assert cert.exact and cert.status == "converged"
    assert cert.lower <= 1.0 <= cert.upper <= 1.0 + 1e-9
    # on (-1, 0) only the flat piece: constant 0 there
    cert = lipschitz(net, domain=(-0.9, -0.1), method="interval")
    assert cert.upper <= 1e-150 and cert.status == "converged"


@settings(derandomize=True, max_examples=examples(8), deadline=None)
@given(SEEDS, st.sampled_from(["tanh", "sigmoid", "softplus"]), NORMS)
def test_interval_upper_dominates_dense_sampling_for_smooth_nets(seed, act, p):
    rng = np.random.default_rng(seed)
    net = Network.from_arrays([rng.standard_normal((6, 2)), rng.standard_normal((2, 6))],
                              [rng.standard_normal(6), rng.standard_normal(2)], act)
    cert = lipschitz(net, norm=p, domain=(-1.0, 1.5), method="interval", time_limit=0.5)
    assert sampled_max(net, -1.0, 1.5, p, n=4000, seed=seed) <= cert.upper
    assert cert.lower <= cert.upper
    assert cert.verify().ok


def test_global_domain_falls_back_with_a_note():
    net = Network.from_arrays([np.eye(2), np.ones((1, 2))], None, "relu")
    cert = lipschitz(net, norm=1, method="interval")
    assert cert.method == "naive" and "fell back" in cert.details["note"]
    from certify.methods.branch_and_bound import interval_lipschitz
    cert = interval_lipschitz(net, 2, None)  # the method itself; lipschitz() may intersect
    assert cert.method == "sdp"              # with a smaller naive upper end
    best = lipschitz(net, norm=2, method="interval")
    assert best.upper <= cert.upper and best.verify().ok


def test_verify_replays_split_tree_and_detects_tampering():
    rng = np.random.default_rng(2)
    net = Network.from_arrays([rng.standard_normal((5, 2)), rng.standard_normal((1, 5))],
                              [rng.standard_normal(5), np.zeros(1)], "relu")
    cert = lipschitz(net, norm=2, domain=(-1, 1), method="interval", node_limit=200)
    assert cert.details["nodes"] > 1
    assert cert.verify().ok
    bad = dataclasses.replace(cert, upper=cert.upper * 0.5, lower=0.0, witness=None)
    assert not bad.verify().checks["upper"]


def test_lipbab_smallest_contains_published_l2_value():
    net = lipbab_net("sdnet_10_15_10_3")
    cert = lipschitz(net, norm=2, domain=(0.0, 0.1), method="interval", time_limit=10)
    assert cert.lower <= 9.530716922306004 <= cert.upper


@pytest.mark.parametrize("name,p,value", [("sdnet_10_20_15_10_3", 2, 40.05651016370293),
                                          ("sdnet_10_30_30_30_3", 2, 19.462799793264388),
                                          ("sdnet_10_15_10_3", 1, 10.41286850374477),
                                          ("sdnet_10_15_10_3", math.inf, 16.274810805318676)])
def test_lipbab_networks_contain_published_values_short_run(name, p, value):
    net = lipbab_net(name)
    cert = lipschitz(net, norm=p, domain=(0.0, 0.1), method="interval", time_limit=1)
    assert cert.lower <= value <= cert.upper


# ------------------------------------------------------------------ linear relaxation (symbolic bounds)

_MP = {  # independent references, evaluated at 200 bits
    "relu": lambda z: max(z, 0), "leaky_relu:0.1": lambda z: z if z >= 0 else z * mpmath.mpf(0.1),  # the float slope
    "abs": abs, "hardtanh": lambda z: min(max(z, -1), 1), "tanh": mpmath.tanh,
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)), "softplus": lambda z: mpmath.log1p(mpmath.exp(z)),
    "poly:2": lambda z: z ** 2, "poly:3": lambda z: z ** 3,
}


@settings(derandomize=True, max_examples=examples(40), deadline=None)
@given(SEEDS, st.sampled_from(sorted(_MP)))
def test_activation_relaxation_encloses_the_activation(seed, spec):
    rng = np.random.default_rng(seed)
    n = 12
    scale = 10.0 ** rng.uniform(-3, 1, n)
    a, b = np.sort(rng.standard_normal((2, n)) * scale, axis=0)
    b[:3] = a[:3]                     # point intervals
    a[3:5], b[3:5] = 0.0, np.abs(b[3:5]) + 1e-3   # intervals ending at the breakpoint
    a[5:7], b[5:7] = -np.abs(a[5:7]) - 1e-3, 0.0
    aL, bL, aU, bU = activation_relaxation(get_activation(spec), Interval(a, b))
    f = _MP[spec]
    with mpmath.workprec(200):
        for i in range(n):
            for t in [0.0, 1.0, *rng.random(6)]:
                z = a[i] + t * (b[i] - a[i]) if t not in (0.0, 1.0) else (a[i] if t == 0 else b[i])
                z = min(max(z, a[i]), b[i])
                fz = f(mpmath.mpf(z))
                assert mpmath.mpf(aL[i]) * z + mpmath.mpf(bL[i]) <= fz, (spec, i, z)
                assert fz <= mpmath.mpf(aU[i]) * z + mpmath.mpf(bU[i]), (spec, i, z)


def _random_deep(rng, act):
    d = int(rng.integers(1, 4))
    widths = [d] + [int(rng.integers(2, 7)) for _ in range(int(rng.integers(2, 5)))] + [2]
    Ws = [rng.standard_normal((widths[i + 1], widths[i])) for i in range(len(widths) - 1)]
    bs = [rng.standard_normal(w) * 0.5 for w in widths[1:]]
    return Network.from_arrays(Ws, bs, act)


@settings(derandomize=True, max_examples=examples(30), deadline=None)
@given(SEEDS, st.sampled_from(["relu", "leaky_relu:0.1", "abs", "hardtanh", "tanh", "sigmoid",
                               "softplus"]))
def test_symbolic_preactivations_contain_samples_and_refine_ibp(seed, act):
    rng = np.random.default_rng(seed)
    net = _random_deep(rng, act)
    lo = rng.uniform(-1, 0, net.input_dim)
    hi = lo + rng.uniform(0.01, 1.5, net.input_dim)
    sym = symbolic_preactivations(net, lo, hi)
    ibp = net.interval_forward(Interval(lo, hi))
    X = lo + (hi - lo) * rng.random((300, net.input_dim))
    X[:2] = lo, hi
    for l, pre in enumerate(net.preactivations(X)[:net.hidden_layers]):
        assert np.all(ibp[l].lo <= sym[l].lo) and np.all(sym[l].hi <= ibp[l].hi)
        # float samples: slack for their own rounding only (1e-12 relative to the magnitudes)
        slack = 1e-12 * (1 + np.abs(pre).max())
        assert np.all(sym[l].lo <= pre + slack) and np.all(pre - slack <= sym[l].hi), l
    J = net.jacobian(X)
    enc = jacobian_enclosure(net, lo, hi)
    assert np.all(enc.lo <= J + 1e-12) and np.all(J - 1e-12 <= enc.hi)


@settings(derandomize=True, max_examples=examples(6), deadline=None)
@given(SEEDS, NORMS)
def test_interval_sound_on_deep_relu_boxes_against_exact(seed, p):
    rng = np.random.default_rng(seed)
    net = _random_deep(rng, "relu")
    lo, hi = -float(rng.random()), float(rng.random()) + 0.1
    truth = lipschitz(net, norm=p, domain=(lo, hi), method="exact", time_limit=5)
    cert = lipschitz(net, norm=p, domain=(lo, hi), method="interval", node_limit=300)
    assert truth.lower <= cert.upper
    assert cert.lower <= truth.upper
    assert cert.verify().ok


def test_symbolic_box_bound_is_tighter_on_deep_lipbab_nets():
    lo, hi = np.zeros(10), np.full(10, 0.1)
    for name, factor in [("sdnet_10_20_15_10_3", 0.5), ("sdnet_10_30_30_30_3", 0.5)]:
        net = lipbab_net(name)
        assert box_bound(net, lo, hi, 2, symbolic=True) <= factor * box_bound(net, lo, hi, 2, symbolic=False)


def test_verify_replays_with_the_recorded_propagation():
    rng = np.random.default_rng(5)
    net = _random_deep(rng, "tanh")
    for symbolic in (True, False):
        cert = lipschitz(net, norm=2, domain=(-1, 1), method="interval", node_limit=60,
                         symbolic=symbolic)
        assert cert.details["symbolic"] is symbolic and cert.verify().ok
    # a certificate without the flag (older format) is replayed with plain interval propagation
    details = {k: v for k, v in cert.details.items() if k != "symbolic"}
    assert dataclasses.replace(cert, details=details).verify().ok
