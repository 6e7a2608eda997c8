"""Tests of certify.model.network: construction, evaluation, Jacobians, file formats and rigorous enclosures.

Soundness of the interval methods is checked against an independent reference: the network
re-evaluated in Arb ball arithmetic at 300 bits (exact for the piecewise-linear activations, whose
values are rationals of the float inputs), with activations re-implemented here from their
mathematical definitions rather than taken from certify.model.activations.
"""

from __future__ import annotations

import math

import flint
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bounds.errors import ParameterError
from certify.errors import DomainError, ShapeError, UnsupportedError
from certify.arith.interval import Interval
from certify.model.network import Network, two_layer

from tests.lipbab import LIPBAB_FILES, needs_lipbab

SETTINGS = dict(derandomize=True, deadline=None)

# ------------------------------------------------------------------------------------------------
# independent reference definitions of the activations
# ------------------------------------------------------------------------------------------------
# For a piecewise-linear activation: breakpoints and the slope of each piece (left to right); the
# value is continuous and anchored by value_at_zero-free formulas below.  For smooth ones: the
# float function, the Arb function and the Arb derivative.


def _pl(breakpoints, slopes, fn):
    return {"pl": True, "breakpoints": breakpoints, "slopes": slopes, "float": fn}


def _sig(z):
    return 1 / (1 + (-z).exp())


REF = {
    "relu": _pl((0.0,), (0.0, 1.0), lambda z: max(z, 0.0)),
    "leaky_relu:0.2": _pl((0.0,), (0.2, 1.0), lambda z: z if z >= 0 else 0.2 * z),
    "abs": _pl((0.0,), (-1.0, 1.0), abs),
    "hardtanh": _pl((-1.0, 1.0), (0.0, 1.0, 0.0), lambda z: min(max(z, -1.0), 1.0)),
    "identity": _pl((), (1.0,), lambda z: z),
    "tanh": {"pl": False, "float": math.tanh, "arb": lambda z: z.tanh(),
             "darb": lambda z: 1 - z.tanh() ** 2},
    "sigmoid": {"pl": False, "float": lambda z: 1 / (1 + math.exp(-z)), "arb": _sig,
                "darb": lambda z: _sig(z) * (1 - _sig(z))},
    "softplus": {"pl": False, "float": lambda z: math.log1p(math.exp(z)), "arb": lambda z: z.exp().log1p(),
                 "darb": _sig},
    "poly:3": {"pl": False, "float": lambda z: z ** 3, "arb": lambda z: z ** 3, "darb": lambda z: 3 * z ** 2},
}
ACTS = sorted(REF)
PL_ACTS = [a for a in ACTS if REF[a]["pl"]]


class _Prec:
    """Set flint's working precision for a block and restore it afterwards."""

    def __init__(self, bits):
        self.bits = bits

    def __enter__(self):
        self.old = flint.ctx.prec
        flint.ctx.prec = self.bits

    def __exit__(self, *exc):
        flint.ctx.prec = self.old


def _arb_piece(spec, z):
    """Piece index of the exact value z (right-continuous at breakpoints); z must be decidable."""
    bps = REF[spec]["breakpoints"]
    k = 0
    for b in bps:
        if z >= flint.arb(b):
            k += 1
        elif not z < flint.arb(b):
            raise AssertionError(f"reference value {z} is not exact enough to decide its piece")
    return k


def _arb_value(spec, z):
    ref = REF[spec]
    if not ref["pl"]:
        return ref["arb"](z)
    k = _arb_piece(spec, z)
    bps, slopes = ref["breakpoints"], ref["slopes"]
    if not bps:
        return z
    anchor = bps[k] if k < len(bps) else bps[k - 1]
    return flint.arb(ref["float"](anchor)) + flint.arb(slopes[k]) * (z - flint.arb(anchor))


def _arb_derivatives(spec, z):
    """All one-sided derivatives at z (two at a kink, one elsewhere) for PL; the derivative for smooth."""
    ref = REF[spec]
    if not ref["pl"]:
        return [ref["darb"](z)]
    k = _arb_piece(spec, z)
    out = [flint.arb(ref["slopes"][k])]
    if k > 0 and z == flint.arb(ref["breakpoints"][k - 1]):
        out.append(flint.arb(ref["slopes"][k - 1]))
    return out


def arb_forward(weights, biases, specs, x):
    """Exact-ish (300-bit Arb) pre-activations of every layer at the float point x."""
    with _Prec(300):
        a = [flint.arb(float(v)) for v in x]
        pre = []
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = [sum((flint.arb(float(w[r, c])) * a[c] for c in range(w.shape[1])), flint.arb(float(b[r])))
                 for r in range(w.shape[0])]
            pre.append(z)
            if i < len(specs):
                a = [_arb_value(specs[i], zz) for zz in z]
        return pre


def arb_jacobians(weights, biases, specs, x, rng, n_choices=4):
    """Reference Jacobians at x: the right-derivative one and random left/right mixes at kinks."""
    pre = arb_forward(weights, biases, specs, x)
    with _Prec(300):
        ders = [[_arb_derivatives(specs[i], z) for z in pre[i]] for i in range(len(specs))]
        out = []
        for choice in range(n_choices):
            J = flint.arb_mat([[float(v) for v in row] for row in weights[0]])
            for i in range(len(specs)):
                picks = [d[0] if choice == 0 else d[int(rng.integers(len(d)))] for d in ders[i]]
                J = flint.arb_mat([[picks[r] * J[r, c] for c in range(J.ncols())] for r in range(J.nrows())])
                J = flint.arb_mat([[float(v) for v in row] for row in weights[i + 1]]) * J
            out.append(J)
        return out


def contains_arb(lo, hi, ball) -> bool:
    with _Prec(300):
        return bool(flint.arb(float(lo)) <= ball) and bool(ball <= flint.arb(float(hi)))


def loop_forward(weights, biases, specs, x):
    """Hand-written scalar loop of f(x) = W_L s(... s(W_1 x + b_1) ...) + b_L."""
    a = [float(v) for v in x]
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = [sum(w[r][c] * a[c] for c in range(len(a))) + b[r] for r in range(len(b))]
        a = [REF[specs[i]]["float"](v) for v in z] if i < len(specs) else z
    return np.array(a)


# ------------------------------------------------------------------------------------------------
# random networks
# ------------------------------------------------------------------------------------------------

def random_arrays(rng, widths, scale=1.0):
    ws = [rng.normal(size=(widths[i + 1], widths[i])) * scale / math.sqrt(widths[i])
          for i in range(len(widths) - 1)]
    bs = [rng.normal(size=widths[i + 1]) * 0.5 for i in range(len(widths) - 1)]
    return ws, bs


def random_specs(rng, n_hidden, act):
    if act == "mixed":
        return [ACTS[int(j)] for j in rng.integers(len(ACTS), size=n_hidden)]
    return [act] * n_hidden


net_cases = st.tuples(st.integers(0, 2 ** 32 - 1),
                      st.sampled_from(ACTS + ["mixed"]),
                      st.lists(st.integers(1, 4), min_size=2, max_size=4))


def build(case):
    seed, act, widths = case
    rng = np.random.default_rng(seed)
    ws, bs = random_arrays(rng, widths)
    specs = random_specs(rng, len(widths) - 2, act)
    return rng, ws, bs, specs, Network.from_arrays(ws, bs, specs)


def random_box(rng, d):
    lo = rng.normal(size=d)
    width = rng.choice([0.0, 1e-6, 0.1, 1.0], size=d)
    return lo, lo + width


def points_in(rng, lo, hi, n):
    corners = [np.where(rng.integers(2, size=lo.shape) == 1, hi, lo) for _ in range(2)]
    inner = [np.clip(lo + rng.random(lo.shape) * (hi - lo), lo, hi) for _ in range(n)]
    return corners + inner


# ------------------------------------------------------------------------------------------------
# construction, properties, value semantics
# ------------------------------------------------------------------------------------------------

def test_architecture_properties():
    ws = [np.ones((4, 3)), np.ones((2, 4)), np.ones((1, 2))]
    net = Network.from_arrays(ws, activation=["relu", "tanh"])
    assert net.input_dim == 3 and net.output_dim == 1
    assert net.depth == 3 and net.hidden_layers == 2
    assert net.widths == (3, 4, 2, 1)
    assert net.n_params == 12 + 4 + 8 + 2 + 2 + 1
    assert not net.piecewise_linear
    assert Network.from_arrays(ws, activation="abs").piecewise_linear
    assert [a.name for a in net.activations] == ["relu", "tanh"]
    assert all(np.array_equal(b, np.zeros(w.shape[0])) for w, b in zip(net.weights, net.biases))
    assert all(w.dtype == np.float64 and b.dtype == np.float64 for w, b in zip(net.weights, net.biases))
    assert "3 -> 4 -> 2 -> 1" in repr(net) and "relu" in repr(net) and "tanh" in repr(net)


def test_network_is_immutable_and_copies_its_input():
    w = np.array([[1.0, 2.0]])
    net = Network.from_arrays([w])
    w[0, 0] = 99.0
    assert net.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError):
        net.weights[0][0, 0] = 5.0
    with pytest.raises(ValueError):
        net.biases[0][0] = 5.0
    with pytest.raises(AttributeError):
        net.weights = ()


def test_equality_and_hash_by_value():
    rng = np.random.default_rng(0)
    ws, bs = random_arrays(rng, [3, 4, 2])
    a = Network.from_arrays(ws, bs, "tanh")
    b = Network.from_arrays([w.copy() for w in ws], [b.copy() for b in bs], "tanh")
    assert a == b and hash(a) == hash(b)
    assert a != Network.from_arrays(ws, bs, "relu")
    ws2 = [w.copy() for w in ws]
    ws2[1][0, 0] = np.nextafter(ws2[1][0, 0], np.inf)
    assert a != Network.from_arrays(ws2, bs, "tanh")
    # -0.0 == 0.0: equal networks must hash alike
    z1 = Network.from_arrays([np.array([[0.0]])], [np.array([0.0])])
    z2 = Network.from_arrays([np.array([[-0.0]])], [np.array([-0.0])])
    assert z1 == z2 and hash(z1) == hash(z2)
    assert Network.from_arrays(ws, bs, "leaky_relu:0.2") != Network.from_arrays(ws, bs, "leaky_relu:0.3")


def test_single_layer_is_affine():
    W = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    b = np.array([0.25, -4.0])
    net = Network.from_arrays([W], [b])
    assert net.hidden_layers == 0 and net.activations == ()
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(net(x), np.array([1.0 - 4.0 + 1.5 + 0.25, 3.0 - 3.0 - 4.0]))
    np.testing.assert_array_equal(net.jacobian(x), W)
    enc = net.interval_forward(Interval(x, x))
    assert len(enc) == 1 and np.all(enc[0].lo <= net(x)) and np.all(net(x) <= enc[0].hi)
    J = net.jacobian_interval(Interval(x - 1, x + 1))
    assert np.all(J.lo <= W) and np.all(W <= J.hi)


def test_integer_and_float32_weights_are_converted_exactly():
    net = Network.from_arrays([np.array([[1, 2]], dtype=np.int64)], [np.array([3], dtype=np.int32)])
    assert net.weights[0].dtype == np.float64 and net(np.array([1.0, 1.0]))[0] == 6.0
    w32 = np.array([[0.1]], dtype=np.float32)
    assert Network.from_arrays([w32]).weights[0][0, 0] == float(w32[0, 0])


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------

def test_shape_mismatch_names_the_layer():
    with pytest.raises(ShapeError, match=r"weights\[2\].*layer 2"):
        Network.from_arrays([np.ones((4, 3)), np.ones((5, 4)), np.ones((1, 4))])


def test_bias_length_names_the_layer():
    with pytest.raises(ShapeError, match=r"biases\[1\]"):
        Network.from_arrays([np.ones((4, 3)), np.ones((2, 4))], [np.zeros(4), np.zeros(3)])
    with pytest.raises(ShapeError, match="biases"):
        Network.from_arrays([np.ones((4, 3)), np.ones((2, 4))], [np.zeros(4)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_and_biases(bad):
    w = np.ones((2, 2))
    w[1, 0] = bad
    with pytest.raises(DomainError, match=r"weights\[1\].*non-finite"):
        Network.from_arrays([np.ones((2, 3)), w])
    with pytest.raises(DomainError, match=r"biases\[0\]"):
        Network.from_arrays([np.ones((2, 3))], [np.array([0.0, bad])])


def test_bad_weight_shapes_and_types():
    with pytest.raises(ShapeError, match=r"weights\[0\].*2-D"):
        Network.from_arrays([np.ones(3)])
    with pytest.raises(ShapeError, match="single 2-D array"):
        Network.from_arrays(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="at least one layer"):
        Network.from_arrays([])
    with pytest.raises(ShapeError, match="empty dimension"):
        Network.from_arrays([np.ones((0, 3))])
    with pytest.raises(DomainError, match="real numbers"):
        Network.from_arrays([np.ones((2, 2), dtype=complex)])
    with pytest.raises(DomainError, match="not exactly representable"):
        Network.from_arrays([np.array([[2 ** 60 + 1]], dtype=np.int64)])


def test_unknown_activation_and_wrong_list_length():
    with pytest.raises(UnsupportedError, match="hidden layer 1"):
        Network.from_arrays([np.ones((2, 2))] * 3, activation=["relu", "no_such_activation"])
    with pytest.raises(UnsupportedError):
        Network.from_arrays([np.ones((2, 2))] * 2, activation="no_such_activation")
    with pytest.raises(ShapeError, match="3 activation.*2 hidden layer"):
        Network.from_arrays([np.ones((2, 2))] * 3, activation=["relu"] * 3)
    with pytest.raises(ParameterError, match="hidden layer 0"):
        Network.from_arrays([np.ones((2, 2))] * 2, activation="leaky_relu:-1")
    with pytest.raises(ShapeError, match="0 hidden layer"):
        Network.from_arrays([np.ones((2, 2))], activation=["relu"])


def test_bad_inputs_to_evaluation():
    net = Network.from_arrays([np.ones((4, 3)), np.ones((2, 4))])
    for x in (np.ones(4), np.ones((5, 2)), np.ones((2, 2, 3)), 1.0):
        for method in (net, net.jacobian, net.preactivations, net.activation_pattern):
            with pytest.raises(ShapeError, match="x: expected shape"):
                method(x)
    with pytest.raises(DomainError, match="x: contains a non-finite"):
        net(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(DomainError, match="x:"):
        net.jacobian(np.array([[0.0, 0.0, np.inf]]))
    with pytest.raises(ShapeError, match="box"):
        net.interval_forward(Interval(np.zeros(4), np.ones(4)))
    with pytest.raises(ShapeError, match="box"):
        net.jacobian_interval((np.zeros(3), np.ones(3)))
    with pytest.raises(DomainError, match="box"):
        net.interval_forward(Interval(np.full(3, -np.inf), np.ones(3)))


# ------------------------------------------------------------------------------------------------
# forward pass and Jacobian
# ------------------------------------------------------------------------------------------------

@given(net_cases)
@settings(max_examples=60, **SETTINGS)
def test_forward_matches_hand_written_loop(case):
    rng, ws, bs, specs, net = build(case)
    X = rng.normal(size=(5, net.input_dim)) * 2
    Y = net(X)
    assert Y.shape == (5, net.output_dim)
    for x, y in zip(X, Y):
        ref = loop_forward(ws, bs, specs, x)
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(net(x), y, rtol=1e-14, atol=1e-15)  # BLAS may round batches differently
    out, pre = net.forward(X, return_preactivations=True)
    assert len(pre) == net.depth and np.array_equal(pre[-1], out)
    assert all(p.shape == (5, n) for p, n in zip(pre, net.widths[1:]))


@given(net_cases)
@settings(max_examples=60, **SETTINGS)
def test_jacobian_matches_arb_reference(case):
    """The float Jacobian equals the exact one (right derivatives) up to rounding, for every activation."""
    rng, ws, bs, specs, net = build(case)
    X = rng.normal(size=(3, net.input_dim))
    Js = net.jacobian(X)
    assert Js.shape == (3, net.output_dim, net.input_dim)
    for x, J in zip(X, Js):
        ref = arb_jacobians(ws, bs, specs, x, rng, n_choices=1)[0]
        ref = np.array([[float(ref[r, c].mid()) for c in range(ref.ncols())] for r in range(ref.nrows())])
        scale = 1.0 + np.abs(ref).max()
        np.testing.assert_allclose(J, ref, rtol=1e-11, atol=1e-13 * scale)
        np.testing.assert_allclose(net.jacobian(x), J, rtol=1e-13, atol=1e-15 * scale)


@given(net_cases)
@settings(max_examples=40, **SETTINGS)
def test_jacobian_matches_central_differences(case):
    rng, ws, bs, specs, net = build(case)
    x = rng.normal(size=net.input_dim)
    h = 1e-6
    if any(REF[s]["pl"] for s in specs):
        # stay inside one linear region: every pre-activation far from its kinks
        pre = net.preactivations(x)
        for s, z in zip(specs, pre):
            for b in REF[s]["breakpoints"]:
                assume(np.min(np.abs(z - b)) > 1e-3)
    fd = np.empty((net.output_dim, net.input_dim))
    for j in range(net.input_dim):
        e = np.zeros(net.input_dim)
        e[j] = h
        fd[:, j] = (net(x + e) - net(x - e)) / (2 * h)
    J = net.jacobian(x)
    np.testing.assert_allclose(J, fd, rtol=1e-5, atol=1e-6 * (1 + np.abs(J).max()))


@pytest.mark.parametrize("spec, z, right, left", [
    ("relu", 0.0, 1.0, 0.0),
    ("leaky_relu:0.2", 0.0, 1.0, 0.2),
    ("abs", 0.0, 1.0, -1.0),
    ("hardtanh", -1.0, 1.0, 0.0),
    ("hardtanh", 1.0, 0.0, 1.0),
])
def test_jacobian_uses_right_derivative_at_kinks(spec, z, right, left):
    # f(x) = 3 * act(x + z): the hidden pre-activation sits exactly on the kink at x = 0
    net = Network.from_arrays([np.array([[1.0]]), np.array([[3.0]])], [np.array([z]), None], spec)
    assert net.jacobian(np.array([0.0]))[0, 0] == 3.0 * right
    # the Clarke Jacobian over any box around the kink contains both one-sided derivatives
    J = net.jacobian_interval(Interval([-1e-9], [1e-9]))
    assert J.lo[0, 0] <= 3.0 * min(left, right) and 3.0 * max(left, right) <= J.hi[0, 0]


def test_activation_pattern():
    W1 = np.array([[1.0], [-1.0], [2.0]])
    net = Network.from_arrays([W1, np.ones((1, 3))], [np.array([0.0, 0.5, -3.0]), None], "hardtanh")
    # z = (x, -x + 0.5, 2x - 3); hardtanh pieces: 0 below -1, 1 on [-1, 1), 2 from 1 on
    np.testing.assert_array_equal(net.activation_pattern(np.array([1.0]))[0], [2, 1, 1])
    np.testing.assert_array_equal(net.activation_pattern(np.array([-1.0]))[0], [1, 2, 0])
    relu = Network.from_arrays([W1, np.ones((1, 3))], [np.array([0.0, 0.5, -3.0]), None], "relu")
    pats = relu.activation_pattern(np.array([[0.0], [1.0], [2.0]]))
    np.testing.assert_array_equal(pats[0], [[1, 1, 0], [1, 0, 0], [1, 0, 1]])
    with pytest.raises(UnsupportedError, match="tanh"):
        Network.from_arrays([W1, np.ones((1, 3))], activation="tanh").activation_pattern(np.array([0.0]))


@given(net_cases)
@settings(max_examples=30, **SETTINGS)
def test_activation_pattern_selects_the_derivative(case):
    rng, ws, bs, specs, net = build(case)
    assume(net.piecewise_linear)
    X = rng.normal(size=(4, net.input_dim))
    pats = net.activation_pattern(X)
    pre = net.preactivations(X)
    for spec, act, pat, z in zip(specs, net.activations, pats, pre):
        bps = REF[spec]["breakpoints"]
        expected = sum((z >= b).astype(int) for b in bps) if bps else np.zeros(z.shape, int)
        np.testing.assert_array_equal(pat, expected)
        np.testing.assert_array_equal(np.asarray(REF[spec]["slopes"])[pat], act.derivative(z))


# ------------------------------------------------------------------------------------------------
# rigorous enclosures
# ------------------------------------------------------------------------------------------------

@given(net_cases)
@settings(max_examples=250, **SETTINGS)
def test_interval_forward_contains_exact_preactivations(case):
    rng, ws, bs, specs, net = build(case)
    lo, hi = random_box(rng, net.input_dim)
    enc = net.interval_forward(Interval(lo, hi))
    assert [e.shape for e in enc] == [(n,) for n in net.widths[1:]]
    for x in points_in(rng, lo, hi, 4):
        pre = arb_forward(ws, bs, specs, x)
        for layer, (e, z) in enumerate(zip(enc, pre)):
            for j, ball in enumerate(z):
                assert contains_arb(e.lo[j], e.hi[j], ball), (layer, j, e.lo[j], e.hi[j], ball)


def test_interval_forward_of_a_point_box_is_tight_and_sound():
    rng = np.random.default_rng(5)
    ws, bs = random_arrays(rng, [6, 8, 8, 2])
    for spec in ACTS:
        net = Network.from_arrays(ws, bs, spec)
        x = rng.normal(size=6)
        enc = net.interval_forward(Interval(x, x))
        ref = arb_forward(ws, bs, [spec] * 2, x)
        for e, z in zip(enc, ref):
            assert all(contains_arb(e.lo[j], e.hi[j], z[j]) for j in range(len(z)))
            assert np.all(e.hi - e.lo <= 1e-12 * (1 + np.abs(e.lo))), spec


@given(net_cases)
@settings(max_examples=250, **SETTINGS)
def test_jacobian_interval_contains_exact_jacobians(case):
    rng, ws, bs, specs, net = build(case)
    lo, hi = random_box(rng, net.input_dim)
    J = net.jacobian_interval(Interval(lo, hi))
    assert J.shape == (net.output_dim, net.input_dim)
    for x in points_in(rng, lo, hi, 3):
        for ref in arb_jacobians(ws, bs, specs, x, rng, n_choices=1):
            for r in range(ref.nrows()):
                for c in range(ref.ncols()):
                    assert contains_arb(J.lo[r, c], J.hi[r, c], ref[r, c])


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(PL_ACTS), st.lists(st.integers(1, 4), min_size=2, max_size=4))
@settings(max_examples=200, **SETTINGS)
def test_jacobian_interval_contains_clarke_jacobians_at_kinks(seed, act, widths):
    """First-layer biases on a breakpoint put x = 0 on kinks; every left/right mix must be enclosed."""
    rng = np.random.default_rng(seed)
    ws, bs = random_arrays(rng, widths)
    bps = REF[act]["breakpoints"]
    if bps:
        bs[0] = np.where(rng.random(widths[1]) < 0.7, -rng.choice(bps, size=widths[1]), bs[0])
    specs = [act] * (len(widths) - 2)
    net = Network.from_arrays(ws, bs, specs)
    x = np.zeros(widths[0])
    rad = rng.choice([0.0, 1e-3, 0.5])
    J = net.jacobian_interval(Interval(x - rad, x + rad))
    for ref in arb_jacobians(ws, bs, specs, x, rng, n_choices=6):
        for r in range(ref.nrows()):
            for c in range(ref.ncols()):
                assert contains_arb(J.lo[r, c], J.hi[r, c], ref[r, c])


# ------------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------------

@given(case=net_cases)
@settings(max_examples=25, **SETTINGS)
def test_npz_round_trip(case, tmp_path_factory):
    _, ws, bs, specs, net = build(case)
    path = tmp_path_factory.mktemp("npz") / "net.npz"
    net.to_npz(path)
    back = Network.from_npz(path)
    assert back == net and hash(back) == hash(net)
    assert [a.name for a in back.activations] == [a.name for a in net.activations]
    with np.load(path) as data:
        assert sorted(k for k in data.files if k != "activations") == sorted(
            [f"W{i}" for i in range(1, net.depth + 1)] + [f"b{i}" for i in range(1, net.depth + 1)])
        for i in range(net.depth):
            assert np.array_equal(data[f"W{i + 1}"], ws[i]) and np.array_equal(data[f"b{i + 1}"], bs[i])


def test_npz_activation_override_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    ws, bs = random_arrays(rng, [3, 4, 2])
    net = Network.from_arrays(ws, bs, "tanh")
    net.to_npz(tmp_path / "n.npz")
    assert Network.from_npz(tmp_path / "n.npz", activation="relu") == Network.from_arrays(ws, bs, "relu")
    np.savez(tmp_path / "plain.npz", W1=ws[0], b1=bs[0], W2=ws[1], b2=bs[1])
    assert Network.from_npz(tmp_path / "plain.npz") == Network.from_arrays(ws, bs, "relu")
    np.savez(tmp_path / "missing.npz", W1=ws[0], b1=bs[0], W2=ws[1])
    with pytest.raises(ShapeError, match="b2 is missing"):
        Network.from_npz(tmp_path / "missing.npz")
    np.savez(tmp_path / "gap.npz", W1=ws[0], b1=bs[0], W3=ws[1], b3=bs[1])
    with pytest.raises(ShapeError, match="W2 is missing"):
        Network.from_npz(tmp_path / "gap.npz")
    np.savez(tmp_path / "extra.npz", W1=ws[0], b1=bs[0], coefs=ws[1])
    with pytest.raises(ShapeError, match="unexpected key"):
        Network.from_npz(tmp_path / "extra.npz")
    np.savez(tmp_path / "chain.npz", W1=ws[0], b1=bs[0], W2=ws[1].T, b2=bs[1])
    with pytest.raises(ShapeError, match=r"weights\[1\].*W2"):
        Network.from_npz(tmp_path / "chain.npz")


@needs_lipbab
@pytest.mark.parametrize("path", LIPBAB_FILES, ids=lambda p: p.name)
def test_lipbab_networks(path):
    net = Network.from_npz(path)
    hidden = tuple(int(t) for t in path.name[len("sdnet_"):-len(".npz")].split("_"))
    assert net.widths == hidden and net.input_dim == 10 and net.output_dim == 3
    assert all(a.name == "relu" for a in net.activations)
    raw = np.load(path)
    L = net.depth
    X = np.random.default_rng(0).random((50, 10)) * 0.1
    for x in X:
        h = x
        for i in range(1, L):
            h = np.maximum(raw[f"W{i}"] @ h + raw[f"b{i}"], 0.0)
        np.testing.assert_allclose(net(x), raw[f"W{L}"] @ h + raw[f"b{L}"], rtol=1e-13, atol=1e-13)


# Published exact local Lipschitz constants on [0, 0.1]^10 (l1 and linf operator norms), LipBaB.
LIPBAB_PUBLISHED = {
    "sdnet_10_15_10_3.npz": (10.41286850374477, 16.274810805318676),
    "sdnet_10_20_15_10_3.npz": (48.04897158493324, 72.28569774866806),
    "sdnet_10_30_30_30_3.npz": (19.369311332018757, 39.11036425646691),
}


@needs_lipbab
@pytest.mark.parametrize("path", LIPBAB_FILES, ids=lambda p: p.name)
def test_lipbab_jacobians_against_published_constants(path):
    """Sampled Jacobian norms stay below the published maxima; the interval enclosure stays above."""
    l1, linf = LIPBAB_PUBLISHED[path.name]
    net = Network.from_npz(path)
    X = np.random.default_rng(1).random((3000, 10)) * 0.1
    Js = np.abs(net.jacobian(X))
    sampled_l1 = Js.sum(axis=1).max()     # max column sum
    sampled_linf = Js.sum(axis=2).max()   # max row sum
    assert sampled_l1 <= l1 * (1 + 1e-12) and sampled_linf <= linf * (1 + 1e-12)
    assert sampled_l1 >= 0.85 * l1 and sampled_linf >= 0.85 * linf  # 3000 samples reach 89-100%
    J = net.jacobian_interval(Interval(np.zeros(10), np.full(10, 0.1)))
    mag = np.maximum(np.abs(J.lo), np.abs(J.hi))
    assert mag.sum(axis=0).max() >= l1 and mag.sum(axis=1).max() >= linf


# ------------------------------------------------------------------------------------------------
# two-layer networks and derived networks
# ------------------------------------------------------------------------------------------------

@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(ACTS), st.integers(1, 6), st.integers(1, 5), st.booleans())
@settings(max_examples=40, **SETTINGS)
def test_two_layer_formula_and_round_trip(seed, act, k, d, with_bias):
    rng = np.random.default_rng(seed)
    W, a = rng.normal(size=(k, d)), rng.normal(size=k)
    b = rng.normal(size=k) if with_bias else None
    net = two_layer(W, a, b, activation=act)
    assert net.widths == (d, k, 1) and net.biases[1][0] == 0.0
    X = rng.normal(size=(4, d))
    for x in X:
        bb = np.zeros(k) if b is None else b
        ref = sum(a[l] * REF[act]["float"](float(W[l] @ x + bb[l])) for l in range(k))
        np.testing.assert_allclose(net(x), [ref], rtol=1e-12, atol=1e-12)
    W2, b2, a2 = net.as_two_layer()
    assert np.array_equal(W2, W) and np.array_equal(a2, a) and np.array_equal(b2, np.zeros(k) if b is None else b)


def test_two_layer_errors():
    with pytest.raises(ShapeError, match="a: has shape"):
        two_layer(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ShapeError, match="W: must be a 2-D"):
        two_layer(np.ones(3), np.ones(3))
    with pytest.raises(ShapeError, match="widths"):
        Network.from_arrays([np.ones((2, 2))] * 3).as_two_layer()
    with pytest.raises(ShapeError, match="widths"):
        Network.from_arrays([np.ones((3, 2)), np.ones((2, 3))]).as_two_layer()
    with pytest.raises(DomainError, match="output bias"):
        Network.from_arrays([np.ones((3, 2)), np.ones((1, 3))], [None, np.array([0.5])]).as_two_layer()


def test_scaled_and_with_weights():
    rng = np.random.default_rng(3)
    ws, bs = random_arrays(rng, [3, 5, 2])
    net = Network.from_arrays(ws, bs, "softplus")
    X = rng.normal(size=(6, 3))
    np.testing.assert_array_equal(net.scaled(4.0)(X), 4.0 * net(X))  # power of two: exact
    np.testing.assert_array_equal(net.scaled(4.0).jacobian(X), 4.0 * net.jacobian(X))
    with pytest.raises(DomainError, match="factor"):
        net.scaled(np.nan)
    other = net.with_weights(activation="relu")
    assert other == Network.from_arrays(ws, bs, "relu")
    assert net.with_weights() == net
    with pytest.raises(ShapeError, match=r"weights\[1\]"):
        net.with_weights(weights=[ws[0], np.ones((2, 4))])


# ------------------------------------------------------------------------------------------------
# PyTorch import (optional dependency)
# ------------------------------------------------------------------------------------------------

def test_from_torch_matches_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    cases = [
        (nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)), ["relu"]),
        (nn.Sequential(nn.Linear(4, 5), nn.LeakyReLU(0.1), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 3)),
         ["leaky_relu", "tanh"]),
        (nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 5, bias=False), nn.Softplus(),
                       nn.Sequential(nn.Linear(5, 4), nn.Hardtanh()), nn.Linear(4, 1)),
         ["sigmoid", "softplus", "hardtanh"]),
        (nn.Sequential(nn.Linear(4, 3), nn.Identity(), nn.Linear(3, 2), nn.Linear(2, 2)), ["identity", "identity"]),
    ]
    X = np.random.default_rng(0).normal(size=(7, 4)) * 3
    for module, names in cases:
        net = Network.from_torch(module)
        assert [a.name for a in net.activations] == names
        with torch.no_grad():
            ref = module.double()(torch.from_numpy(X)).numpy()
        np.testing.assert_allclose(net(X), ref, rtol=1e-10, atol=1e-12)
    lrelu = Network.from_torch(nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.1), nn.Linear(2, 1)))
    assert lrelu.activations[0].param == 0.1


def test_from_torch_float32_weights_are_exact():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 2)
    net = Network.from_torch(torch.nn.Sequential(lin))
    np.testing.assert_array_equal(net.weights[0], lin.weight.detach().numpy().astype(np.float64))


def test_from_torch_rejects_unsupported():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    bad = [
        (nn.Sequential(nn.Linear(2, 2), nn.ELU(), nn.Linear(2, 1)), "ELU.*not supported"),
        (nn.Sequential(nn.Linear(2, 2), nn.ReLU6(), nn.Linear(2, 1)), "ReLU6.*not supported"),
        (nn.Sequential(nn.Linear(2, 2), nn.ReLU()), "output layer must be linear"),
        (nn.Sequential(nn.ReLU(), nn.Linear(2, 1)), "before the first Linear"),
        (nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh(), nn.Linear(2, 1)), "two activations"),
        (nn.Sequential(nn.Linear(2, 2), nn.Softplus(beta=2), nn.Linear(2, 1)), "beta"),
        (nn.Sequential(nn.Linear(2, 2), nn.Hardtanh(0, 1), nn.Linear(2, 1)), "Hardtanh"),
        (nn.Sequential(nn.Linear(2, 2), nn.Flatten(), nn.Linear(2, 1)), "Flatten"),
        (nn.Sequential(), "no nn.Linear"),
    ]
    for module, msg in bad:
        with pytest.raises(UnsupportedError, match=msg):
            Network.from_torch(module)
