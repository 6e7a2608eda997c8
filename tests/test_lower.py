"""Witnessed lower bounds (certify.methods.lower): never above the truth, and tight on easy instances."""

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from certify import Network
from certify.methods.certificate import normalize_domain
from certify.methods.lower import lower_bound
from certify.arith.witness import jacobian_norm_ball, pair_quotient_ball
from lipschitz_reference import random_two_layer, two_layer_box_truth, two_layer_global_truth
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)


@settings(derandomize=True, max_examples=examples(25), deadline=None)
@given(SEEDS, st.sampled_from([1, 2, math.inf]), st.booleans())
def test_lower_never_exceeds_truth(seed, p, boxed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 4))
    k = int(rng.integers(1, d + 1))
    W, b, A, c = random_two_layer(rng, d, k, int(rng.integers(1, 3)))
    net = Network.from_arrays([W, A], [b, c], "relu")
    if boxed:
        dom = normalize_domain((-0.5, 1.0), d)
        truth = two_layer_box_truth(W, b, A, -0.5, 1.0, p)
    else:
        dom = None
        truth = two_layer_global_truth(W, A, p)
    w = lower_bound(net, p, dom, n_starts=64, n_ascents=3, iters=20, seed=seed)
    assert w is not None
    assert w.value <= truth * (1 + 1e-12)
    if dom is not None:
        assert np.all(dom[0] <= w.x) and np.all(w.x <= dom[1])
    # the stored ball and the recomputation agree
    assert float(w.recompute(net, p, dom).mid()) >= w.value


def test_lower_finds_the_max_region_of_a_one_dimensional_net():
    # slopes 1, 3, -1 on (-inf, 0), (0, 1), (1, inf): Lip = 3, attained only on (0, 1)
    net = Network.from_arrays([np.array([[1.0], [1.0], [1.0]]), np.array([[1.0, 2.0, -4.0]])],
                              [np.array([0.0, 0.0, -1.0]), np.array([0.0])], "relu")
    w = lower_bound(net, 2, None, seed=1)
    assert w.value == 3.0


def test_smooth_lower_close_to_dense_sampling():
    rng = np.random.default_rng(5)
    net = Network.from_arrays([rng.standard_normal((8, 2)), rng.standard_normal((1, 8))],
                              [rng.standard_normal(8), np.zeros(1)], "tanh")
    dom = normalize_domain((-2.0, 2.0), 2)
    w = lower_bound(net, 2, dom, seed=0)
    g = np.linspace(-2, 2, 401)
    X = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    grid = float(np.linalg.norm(net.jacobian(X)[:, 0, :], axis=1).max())
    # local ascent should reach (or beat) a fine grid
    assert w.value >= grid * (1 - 1e-3)


def test_pair_quotient_below_pointwise_sup():
    rng = np.random.default_rng(11)
    net = Network.from_arrays([rng.standard_normal((4, 2)), rng.standard_normal((2, 4))], None, "sigmoid")
    x, y = rng.standard_normal(2), rng.standard_normal(2)
    q = pair_quotient_ball(net, x, y, 2)
    ts = np.linspace(0, 1, 2001)
    pts = x[None, :] + ts[:, None] * (y - x)[None, :]
    sup = float(np.linalg.norm(net.jacobian(pts), 2, axis=(1, 2)).max())
    assert float(q.mid()) <= sup * (1 + 1e-9)
    assert float(jacobian_norm_ball(net, x, 2).mid()) <= sup * (1 + 1e-9)
