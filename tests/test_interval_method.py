"""method='interval': branch and bound over the box, against brute-force truths on tiny nets."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from certify import Network, lipschitz
from lipschitz_reference import random_two_layer, sampled_max, two_layer_box_truth
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)
NORMS = st.sampled_from([1, 2, math.inf])
LIPBAB = "/work/shared/data/lipbab/"


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
    cert = lipschitz(net, norm=2, method="interval")
    assert cert.method == "sdp"


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
    net = Network.from_npz(LIPBAB + "sdnet_10_15_10_3.npz")
    cert = lipschitz(net, norm=2, domain=(0.0, 0.1), method="interval", time_limit=10)
    assert cert.lower <= 9.530716922306004 <= cert.upper


@pytest.mark.parametrize("name,p,value", [("sdnet_10_20_15_10_3", 2, 40.05651016370293),
                                          ("sdnet_10_30_30_30_3", 2, 19.462799793264388),
                                          ("sdnet_10_15_10_3", 1, 10.41286850374477),
                                          ("sdnet_10_15_10_3", math.inf, 16.274810805318676)])
def test_lipbab_networks_contain_published_values_short_run(name, p, value):
    net = Network.from_npz(LIPBAB + name + ".npz")
    cert = lipschitz(net, norm=p, domain=(0.0, 0.1), method="interval", time_limit=1)
    assert cert.lower <= value <= cert.upper
