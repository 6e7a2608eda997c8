"""Tests of the exact method (certify.methods.exact) against published values and an independent brute force.

The brute force below shares no code with certify.methods.exact / certify.arith.regions: it enumerates every
activation pattern, decides with scipy's LP whether the pattern's region has an interior point in the
box (or in R^d), and takes the largest Jacobian norm among those regions.
"""

from __future__ import annotations

import itertools
import math

import flint
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from bounds.errors import ParameterError
from certify.methods.exact import exact_lipschitz
from certify.model.network import Network
from tests.lipbab import lipbab_net
from tests.scale import examples


# LipBaB's published values on [0, 0.1]^10 (anchors.md): l2, l1, linf
PUBLISHED = {
    "sdnet_10_15_10_3": (9.530716922306004, 10.41286850374477, 16.274810805318676),
    "sdnet_10_20_15_10_3": (40.05651016370293, 48.04897158493324, 72.28569774866806),
    "sdnet_10_30_30_30_3": (19.462799793264388, 19.369311332018757, 39.11036425646691),
}
NORMS = (2, 1, math.inf)

# activation name -> (breakpoints, slopes, intercepts), written out independently of the package
PIECES = {
    "relu": ((0.0,), (0.0, 1.0), (0.0, 0.0)),
    "leaky_relu:0.1": ((0.0,), (0.1, 1.0), (0.0, 0.0)),
    "abs": ((0.0,), (-1.0, 1.0), (0.0, 0.0)),
    "hardtanh": ((-1.0, 1.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 1.0)),
}


# ----------------------------------------------------------------------------------------------
# independent brute force
# ----------------------------------------------------------------------------------------------

def _opnorm(J, p):
    if p == 2:
        return float(np.linalg.norm(J, 2))
    return float(np.linalg.norm(J, 1 if p == 1 else np.inf))


def brute_force(weights, biases, act, p, box):
    """Max of ||J_R|| over all patterns R whose region has an interior point (in the box)."""
    bps, slopes, icpts = PIECES[act]
    widths = [w.shape[0] for w in weights[:-1]]
    d = weights[0].shape[1]
    best = 0.0
    for flat in itertools.product(range(len(slopes)), repeat=sum(widths)):
        rows, rhs = [], []
        M, c = weights[0], biases[0]
        pos = 0
        for l, n in enumerate(widths):
            pieces = flat[pos:pos + n]
            pos += n
            for i, j in enumerate(pieces):
                if j > 0:  # z_i >= bps[j-1]
                    rows.append(-M[i]); rhs.append(c[i] - bps[j - 1])
                if j < len(bps):  # z_i <= bps[j]
                    rows.append(M[i]); rhs.append(bps[j] - c[i])
            s = np.array([slopes[j] for j in pieces])
            e = np.array([icpts[j] for j in pieces])
            M, c = weights[l + 1] @ (s[:, None] * M), weights[l + 1] @ (s * c + e) + biases[l + 1]
        if _interior(np.array(rows).reshape(-1, d), np.array(rhs), box):
            best = max(best, _opnorm(M, p))
    return best


def _interior(A, r, box):
    """Chebyshev LP: does {A x < r} (intersected with the open box) contain a ball?"""
    d = A.shape[1]
    if box is not None:
        A = np.vstack([A, np.eye(d), -np.eye(d)])
        r = np.r_[r, box[1], -box[0]]
    if A.shape[0] == 0:
        return True
    nrm = np.linalg.norm(A, axis=1)
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[A, nrm], b_ub=r,
                  bounds=[(None, None)] * d + [(None, 1.0)], method="highs")
    return res.status == 0 and -res.fun > 1e-7


def random_net(seed, d, widths, m, act, scale=1.0):
    rng = np.random.default_rng(seed)
    dims = [d, *widths, m]
    ws = [rng.normal(size=(dims[i + 1], dims[i])) for i in range(len(dims) - 1)]
    bs = [rng.normal(size=dims[i + 1]) * scale for i in range(len(dims) - 1)]
    return ws, bs


# ----------------------------------------------------------------------------------------------
# published networks
# ----------------------------------------------------------------------------------------------

_lipbab = lipbab_net


@pytest.mark.parametrize("name", ["sdnet_10_15_10_3", "sdnet_10_20_15_10_3"])
@pytest.mark.parametrize("k", range(3))
def test_published_values_small(name, k):
    c = exact_lipschitz(_lipbab(name), NORMS[k], (np.zeros(10), np.full(10, 0.1)))
    ref = PUBLISHED[name][k]
    assert c.exact and c.status == "converged" and c.rigorous
    assert c.upper - c.lower <= 1e-9 * c.upper
    assert abs(c.lower - ref) <= 1e-9 * ref and abs(c.upper - ref) <= 1e-9 * ref


@pytest.mark.parametrize("k", range(3))
def test_published_values_large(k):
    c = exact_lipschitz(_lipbab("sdnet_10_30_30_30_3"), NORMS[k], (np.zeros(10), np.full(10, 0.1)))
    ref = PUBLISHED["sdnet_10_30_30_30_3"][k]
    assert c.exact and abs(c.lower - ref) <= 1e-9 * ref and abs(c.upper - ref) <= 1e-9 * ref


def test_published_witness_is_independently_verified():
    net = _lipbab("sdnet_10_15_10_3")
    c = exact_lipschitz(net, 2, (np.zeros(10), np.full(10, 0.1)))
    x = c.witness.x
    assert np.all((0 <= x) & (x <= 0.1))
    # an independent Arb evaluation (certify.arith.witness) of the Jacobian norm at the witness point
    from certify.arith.witness import jacobian_norm_ball
    ball = jacobian_norm_ball(net, x, 2)
    assert flint.arb(c.lower) <= ball
    assert ball.upper() <= flint.arb(c.upper)


# ----------------------------------------------------------------------------------------------
# soundness against the brute force
# ----------------------------------------------------------------------------------------------

def _check_against_brute(ws, bs, act, p, box, budget=256):
    net = Network.from_arrays(ws, bs, act)
    # the smallest budget also switches the symbolic bounds off, so both code paths are checked
    c = exact_lipschitz(net, p, box, enum_budget=budget, symbolic=budget != 1)
    ref = brute_force(ws, bs, act, p, box)
    # the brute force is plain floating point: allow its rounding, nothing more
    slack = 1e-9 * max(1.0, ref)
    assert c.lower <= ref + slack, (c, ref)
    assert c.upper >= ref - slack, (c, ref)
    assert c.exact, (c, c.details)
    if c.witness is not None:
        assert c.lower <= _opnorm(net.jacobian(c.witness.x), p) * (1 + 1e-12) + 1e-300
    return c, ref


@settings(derandomize=True, max_examples=examples(150), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 3),
       widths=st.sampled_from([(3,), (5,), (2, 2), (3, 2), (2, 2, 2)]),
       m=st.integers(1, 2), act=st.sampled_from(["relu", "leaky_relu:0.1", "abs"]),
       p=st.sampled_from(NORMS), local=st.booleans(), budget=st.sampled_from([1, 4, 256]))
def test_soundness_two_piece(seed, d, widths, m, act, p, local, budget):
    ws, bs = random_net(seed, d, widths, m, act)
    box = (np.full(d, -0.7), np.full(d, 0.9)) if local else None
    _check_against_brute(ws, bs, act, p, box, budget)


@settings(derandomize=True, max_examples=examples(50), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 2),
       widths=st.sampled_from([(2,), (3,), (2, 2)]), m=st.integers(1, 2),
       p=st.sampled_from(NORMS), local=st.booleans(), budget=st.sampled_from([1, 9, 256]))
def test_soundness_hardtanh(seed, d, widths, m, p, local, budget):
    ws, bs = random_net(seed, d, widths, m, "hardtanh")
    ws = [2.0 * w for w in ws]  # make the saturated pieces reachable in the box
    box = (np.full(d, -1.0), np.full(d, 1.5)) if local else None
    _check_against_brute(ws, bs, "hardtanh", p, box, budget)


@pytest.mark.parametrize("act", ["relu", "abs", "hardtanh"])
@pytest.mark.parametrize("p", NORMS)
def test_two_layer_full_rank_needs_no_lp(act, p):
    # k <= d neurons with a full-row-rank first layer: every pattern is realised globally
    ws, bs = random_net(7, 6, (4,), 2, act)
    c, ref = _check_against_brute(ws, bs, act, p, None)
    assert c.details["lps"] == 0


def test_verify_accepts_certificate():
    net = _lipbab("sdnet_10_15_10_3")
    c = exact_lipschitz(net, math.inf, (np.zeros(10), np.full(10, 0.1)))
    res = c.verify()
    assert res.ok, str(res)


def test_hand_built_constant_one():
    # f(x) = relu(x) - relu(-x - 1) has slope 1 for x > 0, 0 on (-1, 0) and 1 for x < -1
    net = Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
                              [np.array([0.0, -1.0]), np.zeros(1)], "relu")
    for p in NORMS:
        c = exact_lipschitz(net, p)
        assert 1.0 - 1e-12 <= c.lower <= 1.0 <= c.upper <= 1.0 + 1e-12 and c.exact
        c = exact_lipschitz(net, p, (np.array([-0.9]), np.array([-0.1])))  # the flat part only
        assert c.lower == 0.0 and c.upper <= 1e-12


def test_duplicated_neurons_are_not_lost():
    # two identical neurons: the patterns where they differ are flat (empty interior) and must be
    # pruned by an exact certificate, while the constant 2 * |w| must be found
    w = np.array([[1.0, 2.0], [1.0, 2.0]])
    net = Network.from_arrays([w, np.array([[1.0, 1.0]])], [np.array([0.5, 0.5]), np.zeros(1)])
    c = exact_lipschitz(net, 2)
    assert c.exact and abs(c.upper - 2 * math.sqrt(5)) <= 1e-12 and c.lower <= 2 * math.sqrt(5)


def test_dead_neuron_on_breakpoint():
    # a zero-weight, zero-bias neuron sits on the ReLU kink everywhere; the constant is unaffected
    net = Network.from_arrays([np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[7.0, 1.0]])],
                              [np.zeros(2), np.zeros(1)])
    for box in (None, (np.zeros(2), np.ones(2))):
        c = exact_lipschitz(net, 2, box)
        assert c.exact and c.lower <= 5.0 <= c.upper and c.upper - 5.0 <= 1e-12


def test_affine_network():
    W = np.array([[3.0, -4.0]])
    net = Network.from_arrays([W], [np.zeros(1)])
    c = exact_lipschitz(net, 2, (np.zeros(2), np.ones(2)))
    assert 5.0 - 1e-12 <= c.lower <= 5.0 <= c.upper <= 5.0 + 1e-12


# ----------------------------------------------------------------------------------------------
# anytime behaviour and input validation
# ----------------------------------------------------------------------------------------------

def test_node_limit_returns_rigorous_enclosure():
    net = _lipbab("sdnet_10_30_30_30_3")
    box = (np.zeros(10), np.full(10, 0.1))
    for k, p in enumerate(NORMS):
        c = exact_lipschitz(net, p, box, node_limit=30)
        ref = PUBLISHED["sdnet_10_30_30_30_3"][k]
        assert c.status == "node_limit" and not c.exact
        assert c.lower <= ref <= c.upper
        assert c.details["nodes"] >= 30


def test_time_limit_returns_rigorous_enclosure():
    net = _lipbab("sdnet_10_30_30_30_3")
    c = exact_lipschitz(net, math.inf, (np.zeros(10), np.full(10, 1.0)), time_limit=0.3)
    assert c.status == "time_limit" and not c.exact
    assert 0 < c.lower <= c.upper < math.inf
    from certify.arith.witness import jacobian_norm_ball
    assert flint.arb(c.lower) <= jacobian_norm_ball(net, c.witness.x, math.inf)


def test_bad_input():
    net = _lipbab("sdnet_10_15_10_3")
    with pytest.raises(ParameterError):
        exact_lipschitz(net, 3)
    with pytest.raises(ParameterError):
        exact_lipschitz(net, 2, (np.zeros(10), np.zeros(10)))
    with pytest.raises(ParameterError):
        exact_lipschitz(net, 2, None, tol=-1.0)
    with pytest.raises(ParameterError):
        exact_lipschitz(net, 2, None, bogus=1)
    with pytest.raises(ParameterError):
        exact_lipschitz(net, 2, None, enum_budget=0)
    with pytest.raises(ParameterError):
        exact_lipschitz(net, 2, None, symbolic="yes")
    smooth = Network.from_arrays([np.eye(2), np.ones((1, 2))], None, "tanh")
    with pytest.raises(ParameterError):
        exact_lipschitz(smooth, 2)
