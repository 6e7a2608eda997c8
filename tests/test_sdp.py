"""method='sdp': LipSDP-Neuron checked in ball arithmetic; anchors, soundness, tamper detection."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bounds.errors import ParameterError
from certify import Network, lipschitz
from certify.methods.sdp import check_lmi
from lipschitz_reference import random_two_layer, sampled_max, two_layer_global_truth
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)
from tests.lipbab import lipbab_net
ANCHORS = [("sdnet_10_15_10_3", 41.427015), ("sdnet_10_20_15_10_3", 107.279435),
           pytest.param("sdnet_10_30_30_30_3", 90.260937, marks=pytest.mark.slow)]


@pytest.mark.parametrize("name,anchor", ANCHORS)
def test_reproduces_lipsdp_anchors(name, anchor):
    net = lipbab_net(name)
    cert = lipschitz(net, norm=2, method="sdp", lower_options={"n_starts": 32, "n_ascents": 1})
    assert abs(cert.upper - anchor) <= 1e-4 * anchor
    assert cert.details["solve_time"] > 0 and cert.details["check_time"] > 0
    res = cert.verify()
    assert res.ok, str(res)


@settings(derandomize=True, max_examples=examples(15), deadline=None)
@given(SEEDS)
def test_sdp_sound_on_random_two_layer_relu(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 5))
    k = int(rng.integers(1, d + 1))
    W, b, A, c = random_two_layer(rng, d, k, int(rng.integers(1, 3)))
    net = Network.from_arrays([W, A], [b, c], "relu")
    truth = two_layer_global_truth(W, A, 2)
    cert = lipschitz(net, norm=2, method="sdp", lower_options={"n_starts": 32, "n_ascents": 2})
    assert cert.lower <= truth * (1 + 1e-12)
    assert truth <= cert.upper
    # LipSDP is never worse than the naive product
    assert cert.upper <= np.linalg.norm(W, 2) * np.linalg.norm(A, 2) * (1 + 1e-6)


@settings(derandomize=True, max_examples=examples(6), deadline=None)
@given(SEEDS, st.sampled_from(["tanh", "sigmoid", "leaky_relu", "softplus"]))
def test_sdp_dominates_sampling_for_other_activations(seed, act):
    rng = np.random.default_rng(seed)
    net = Network.from_arrays([rng.standard_normal((5, 2)), rng.standard_normal((4, 5)),
                               rng.standard_normal((1, 4))], None, act)
    cert = lipschitz(net, norm=2, method="sdp", lower_options={"n_starts": 32, "n_ascents": 1})
    assert sampled_max(net, -3, 3, 2, n=3000, seed=seed) <= cert.upper
    assert cert.verify().ok


def test_hand_built_network():
    net = Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
                              [np.array([0.0, -1.0]), np.array([0.0])], "relu")
    cert = lipschitz(net, norm=2, method="sdp")
    assert cert.lower <= 1.0 <= cert.upper <= 2.0 * (1 + 1e-6)


def test_check_rejects_values_below_the_truth():
    net = lipbab_net("sdnet_10_15_10_3")
    cert = lipschitz(net, norm=2, method="sdp", lower_options={"n_starts": 16, "n_ascents": 1})
    ts = cert.details["multipliers"]
    assert check_lmi(net, cert.upper, ts)[0]
    # below the certified value the same multipliers cannot work, and neither can any L below
    # the witnessed lower bound
    assert not check_lmi(net, cert.upper * (1 - 1e-6), ts)[0]
    assert not check_lmi(net, cert.lower * 0.999, ts)[0]
    bad = dataclasses.replace(cert, upper=cert.upper * (1 - 1e-6))
    assert not bad.verify().checks["upper"]
    # negative multipliers are not valid multipliers: the check clips them to zero
    neg = [-t for t in ts]
    assert not check_lmi(net, cert.upper, neg)[0]


def test_bad_input():
    net = Network.from_arrays([np.eye(2), np.ones((1, 2))], None, "relu")
    with pytest.raises(ParameterError):
        lipschitz(net, norm=1, method="sdp")
    with pytest.raises(ParameterError):
        lipschitz(net, norm=math.inf, method="sdp")
    poly = Network.from_arrays([np.eye(2), np.ones((1, 2))], None, "poly:3")
    with pytest.raises(ParameterError):
        lipschitz(poly, norm=2, method="sdp")


def test_affine_network_is_its_spectral_norm():
    W = np.array([[3.0, 0.0], [4.0, 0.0]])
    cert = lipschitz(Network.from_arrays([W], None), norm=2, method="sdp")
    assert cert.lower <= 5.0 <= cert.upper <= 5.0 * (1 + 1e-12)
