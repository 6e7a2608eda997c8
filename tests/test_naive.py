"""method='naive': the product of rigorously enclosed layer norms, against brute-force truths."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bounds.errors import ParameterError
from certify import Network, lipschitz
from lipschitz_reference import random_two_layer, two_layer_global_truth
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)
NORMS = st.sampled_from([1, 2, math.inf])


@settings(derandomize=True, max_examples=examples(30), deadline=None)
@given(SEEDS, NORMS)
def test_naive_sound_on_random_two_layer_relu(seed, p):
    rng = np.random.default_rng(seed)
    d, k, m = int(rng.integers(2, 5)), 0, int(rng.integers(1, 3))
    k = int(rng.integers(1, d + 1))
    W, b, A, c = random_two_layer(rng, d, k, m)
    net = Network.from_arrays([W, A], [b, c], "relu")
    truth = two_layer_global_truth(W, A, p)
    cert = lipschitz(net, norm=p, method="naive", lower_options={"n_starts": 32, "n_ascents": 2})
    assert cert.rigorous
    assert cert.lower <= truth * (1 + 1e-12) + 1e-300
    assert truth <= cert.upper
    # the naive bound is exactly the product of the layer norms (up to rounding)
    prod = np.linalg.norm(W, p) * np.linalg.norm(A, p)
    assert prod <= cert.upper <= prod * (1 + 1e-12)


def test_hand_built_network_naive_is_two():
    # relu(x) - relu(-x - 1) has Lipschitz constant 1; the pattern-free product bound is 2
    net = Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
                              [np.array([0.0, -1.0]), np.array([0.0])], "relu")
    for p in (1, 2, math.inf):
        cert = lipschitz(net, norm=p, method="naive")
        assert 2.0 <= cert.upper <= 2.0 * (1 + 1e-12)
        assert cert.lower == 1.0            # the witness finds a slope-1 point exactly
        assert cert.verify().ok


def test_naive_verify_and_details():
    rng = np.random.default_rng(3)
    net = Network.from_arrays([rng.standard_normal((6, 4)), rng.standard_normal((5, 6)),
                               rng.standard_normal((2, 5))], None, "tanh")
    cert = lipschitz(net, norm=2, method="naive")
    assert cert.verify().ok
    assert len(cert.details["layer_norms"]) == 3
    assert cert.status == "bound" and not cert.exact


def test_naive_rejects_non_lipschitz_activation():
    net = Network.from_arrays([np.ones((2, 2)), np.ones((1, 2))], None, "poly:2")
    with pytest.raises(ParameterError):
        lipschitz(net, method="naive")


@settings(derandomize=True, max_examples=examples(300), deadline=None)
@given(st.floats(min_value=0.0, max_value=1e300, allow_subnormal=True),
       st.floats(min_value=0.0, max_value=1e300, allow_subnormal=True))
def test_mul_up_is_an_upper_bound_of_the_exact_product(a, b):
    from fractions import Fraction
    from certify.methods.naive import mul_up
    r = mul_up(a, b)
    # an overflow to +inf is still an upper bound; anything finite is compared exactly
    assert r == math.inf or Fraction(r) >= Fraction(a) * Fraction(b)
    assert mul_up(1e-200, 1e-200) > 0.0      # underflowing product: not 0


def test_mul_up_zero_only_for_a_zero_factor():
    from certify.methods.naive import mul_up
    assert mul_up(0.0, 5e-324) == 0.0 and mul_up(5e-324, 5e-324) > 0.0
