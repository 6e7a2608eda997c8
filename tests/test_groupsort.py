"""GroupSort(G): model, enclosures and every method against an independent brute force over block orderings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounds.errors import ParameterError
from certify import Network, lipschitz
from certify.arith.interval import Interval
from certify.arith.witness import KinkError, jacobian_norm_ball, pair_quotient_ball
from certify.errors import ShapeError, UnsupportedError
from certify.model.activations import get
from certify.model.groupsort import (comparator_lowering, groupsort, groupsort_interval,
                                     sort_permutation, sorting_network)
from tests.lipschitz_reference import groupsort_truth

SETTINGS = settings(derandomize=True, max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
NORMS = [1, 2, math.inf]


@st.composite
def groupsort_nets(draw, max_combos=300):
    """Small GroupSort networks whose block orderings a brute force can enumerate."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    d = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(1, 2))
    widths, groups, combos = [d], [], 1
    for _ in range(n_hidden):
        G = draw(st.sampled_from([1, 2, 3, 4]))
        blocks = draw(st.integers(1, 3 if G <= 2 else 1))
        fact = math.factorial(G) ** blocks
        if combos * fact > max_combos:
            G, blocks, fact = 2, 1, 2
        combos *= fact
        widths.append(G * blocks)
        groups.append(G)
    widths.append(draw(st.integers(1, 2)))
    ws = [rng.standard_normal((widths[i + 1], widths[i])) for i in range(len(widths) - 1)]
    bs = [rng.standard_normal(widths[i + 1]) for i in range(len(widths) - 1)]
    return Network.from_arrays(ws, bs, [f"groupsort:{G}" for G in groups])


def _truth(net, p, box=None):
    lo, hi = (None, None) if box is None else box
    if lo is not None:
        lo = np.full(net.input_dim, lo, dtype=float)
        hi = np.full(net.input_dim, hi, dtype=float)
    return groupsort_truth(net.weights, net.biases, [a.group for a in net.activations], p, lo, hi)


# ---------------------------------------------------------------- the activation

def test_values_and_permutation():
    z = np.array([3.0, 1.0, -1.0, 2.0, 5.0, 0.0])
    assert groupsort(z, 2).tolist() == [1.0, 3.0, -1.0, 2.0, 0.0, 5.0]
    assert groupsort(z, 3).tolist() == [-1.0, 1.0, 3.0, 0.0, 2.0, 5.0]
    assert groupsort(z, 6).tolist() == sorted(z.tolist())
    perm = sort_permutation(z, 3)
    assert np.array_equal(z[perm], groupsort(z, 3))
    assert get("maxmin") == get("groupsort:2")
    act = get("groupsort:3")
    assert not act.elementwise and act.piecewise_linear and act.lipschitz == 1.0
    assert act.slope_bounds is None and act.spec == "groupsort:3"


@pytest.mark.parametrize("bad", [0, -2, 1.5, "x", True])
def test_bad_group_size(bad):
    with pytest.raises(ParameterError, match="G"):
        get("groupsort").__class__("groupsort", bad)


def test_width_not_divisible_names_the_layer():
    with pytest.raises(ShapeError, match=r"hidden layer 1 .*divisible by 3, got width 4"):
        Network.from_arrays([np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 4))], None,
                            ["groupsort:3", "groupsort:3"])
    with pytest.raises(ParameterError, match="group size"):
        get("groupsort")


def test_elementwise_only_methods_refuse():
    act = get("groupsort:2")
    with pytest.raises(UnsupportedError, match="not elementwise"):
        act.breakpoints
    with pytest.raises(UnsupportedError, match="whole layers"):
        act.derivative(np.zeros(2))


@given(st.integers(0, 10**6), st.sampled_from([1, 2, 3, 4]))
@SETTINGS
def test_interval_image_is_exact_range(seed, G):
    rng = np.random.default_rng(seed)
    lo = rng.standard_normal(2 * G)
    hi = lo + rng.random(2 * G) * rng.choice([0.0, 1.0, 3.0])
    img = groupsort_interval(Interval(lo, hi), G)
    X = lo + (hi - lo) * rng.random((400, 2 * G))
    Y = groupsort(X, G)
    assert np.all(Y >= img.lo) and np.all(Y <= img.hi)
    # the ends are attained (by the corner lo and the corner hi)
    assert np.array_equal(groupsort(lo, G), img.lo) and np.array_equal(groupsort(hi, G), img.hi)


@given(groupsort_nets())
@SETTINGS
def test_jacobian_matches_finite_differences_and_interval_encloses(net):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, net.input_dim))
    J = net.jacobian(X)
    h = 1e-7
    for x, Jx in zip(X[:5], J[:5]):
        fd = np.array([(net(x + h * e) - net(x - h * e)) / (2 * h) for e in np.eye(net.input_dim)]).T
        assert np.allclose(fd, Jx, atol=1e-5 * (1 + np.abs(Jx).max()))
    box = Interval(np.full(net.input_dim, -1.0), np.full(net.input_dim, 1.0))
    JI = net.jacobian_interval(box)
    Xb = rng.uniform(-1, 1, (200, net.input_dim))
    Jb = net.jacobian(Xb)
    assert np.all(Jb >= JI.lo) and np.all(Jb <= JI.hi)
    out = net.interval_forward(box)[-1]
    Y = net(Xb)
    assert np.all(Y >= out.lo) and np.all(Y <= out.hi)


def test_arb_witness_and_kinks():
    net = Network.from_arrays([np.eye(2), np.array([[1.0, 2.0]])], None, "maxmin")
    assert float(jacobian_norm_ball(net, np.array([0.0, 1.0]), 2).mid()) == pytest.approx(math.sqrt(5))
    with pytest.raises(KinkError):
        jacobian_norm_ball(net, np.array([1.0, 1.0]), 2)
    q = pair_quotient_ball(net, np.array([0.0, 1.0]), np.array([1.0, 0.0]), 1)
    assert abs(float(q.mid())) < 1e-12     # f is symmetric in its inputs


# ---------------------------------------------------------------- lowering

@pytest.mark.parametrize("G", [2, 3, 4, 5, 6])
def test_sorting_networks_sort_all_zero_one_inputs(G):
    import itertools
    for bits in itertools.product([0, 1], repeat=G):
        v = list(bits)
        for stage in sorting_network(G):
            for i, j in stage:
                v[i], v[j] = min(v[i], v[j]), max(v[i], v[j])
        assert v == sorted(bits)


@given(groupsort_nets())
@SETTINGS
def test_comparator_lowering_is_the_same_function(net):
    """Evaluated in exact rationals, the lowered network equals the GroupSort network."""
    from fractions import Fraction as Q
    ws, bs, acts, masks, _ = comparator_lowering(net)
    rng = np.random.default_rng(1)

    def affine(w, b, h):
        return [sum((Q(float(w[r, c])) * h[c] for c in range(len(h))), Q(float(b[r])))
                for r in range(w.shape[0])]

    for x in rng.standard_normal((4, net.input_dim)) * 3:
        h = [Q(float(v)) for v in x]
        for i in range(len(ws)):
            z = affine(ws[i], bs[i], h)
            if i < len(ws) - 1:
                m = masks[i]
                h = [v if acts[i] == "identity" or (m is not None and m[k]) else max(v, Q(0))
                     for k, v in enumerate(z)]
        low = z
        h = [Q(float(v)) for v in x]
        for i in range(net.depth):
            z = affine(net.weights[i], net.biases[i], h)
            if i < net.hidden_layers:
                G = net.activations[i].group
                h = [v for s in range(0, len(z), G) for v in sorted(z[s:s + G])]
        assert low == z


# ---------------------------------------------------------------- methods against brute force

@pytest.mark.parametrize("p", NORMS)
@given(net=groupsort_nets())
@SETTINGS
def test_exact_matches_brute_force(p, net):
    for box in (None, (-1.0, 1.0)):
        truth = _truth(net, p, box)
        cert = lipschitz(net, p, domain=box, method="exact", time_limit=60)
        assert cert.status == "converged"
        slack = 1e-9 * (1 + truth)
        assert cert.lower - slack <= truth <= cert.upper + slack


@pytest.mark.parametrize("p", NORMS)
@given(net=groupsort_nets(max_combos=40))
@settings(derandomize=True, max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_naive_and_interval_enclose_brute_force(p, net):
    truth = _truth(net, p)
    cert = lipschitz(net, p, method="naive")
    assert cert.lower <= truth * (1 + 1e-9) + 1e-12 and truth <= cert.upper * (1 + 1e-12)
    box_truth = _truth(net, p, (-1.0, 1.0))
    cert = lipschitz(net, p, domain=(-1.0, 1.0), method="interval", time_limit=0.3)
    assert cert.lower <= box_truth * (1 + 1e-9) + 1e-12 and box_truth <= cert.upper * (1 + 1e-12)


def test_sdp_refuses_groupsort():
    net = Network.from_arrays([np.eye(2), np.ones((1, 2))], None, "maxmin")
    with pytest.raises(UnsupportedError, match="GroupSort"):
        lipschitz(net, 2, method="sdp")


def test_auto_picks_exact_and_npz_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    net = Network.from_arrays([rng.standard_normal((4, 2)), rng.standard_normal((1, 4))], None,
                              "groupsort:4")
    net.to_npz(tmp_path / "gs.npz")
    again = Network.from_npz(tmp_path / "gs.npz")
    assert again == net and again.activations[0].group == 4
    cert = lipschitz(again, 2)
    assert cert.status == "converged" and cert.details.get("upper_method", cert.method) == "exact"
    assert cert.verify()


def test_unfinished_exact_search_is_capped_by_the_naive_product():
    rng = np.random.default_rng(5)
    net = Network.from_arrays([rng.standard_normal((8, 4)), rng.standard_normal((8, 8)),
                               rng.standard_normal((1, 8))], None,
                              "groupsort:4")
    cert = lipschitz(net, 2, method="exact", node_limit=2)
    naive = lipschitz(net, 2, method="naive")
    assert cert.status == "node_limit" and cert.upper <= naive.upper
    assert cert.details["naive_cap"] == naive.upper


def test_groupsort_is_not_a_two_layer_class_network():
    net = Network.from_arrays([np.eye(2), np.ones((1, 2))], [None, np.zeros(1)], "maxmin")
    with pytest.raises(UnsupportedError, match="not elementwise"):
        net.as_two_layer()


@pytest.mark.parametrize("node_limit", [3, None])
def test_exact_groupsort_verify_replays_and_rejects_a_lowered_upper(node_limit):
    """verify() replays the comparator-network search (or recomputes the naive cap that bounds an
    unfinished one); an upper end lowered below what either proves is rejected."""
    import dataclasses
    rng = np.random.default_rng(5)
    net = Network.from_arrays([rng.standard_normal((6, 3)), rng.standard_normal((6, 6)),
                               rng.standard_normal((1, 6))], None, "groupsort:3")
    cert = lipschitz(net, 2, method="exact", node_limit=node_limit)
    assert cert.verify().ok
    lowered = dataclasses.replace(cert, upper=cert.lower if node_limit else 0.99 * cert.lower)
    assert not lowered.verify().ok
