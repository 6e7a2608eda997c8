"""certify.model.activations: API, conventions, and rigour of the enclosures against Arb."""

from __future__ import annotations

import math

import flint
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounds.errors import ParameterError
from certify.model.activations import SUPPORTED, Activation, get, leaky_relu, poly
from certify.errors import UnsupportedError
from certify.arith.interval import Interval

SETTINGS = settings(derandomize=True, max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

ALL = [get("relu"), leaky_relu(0.01), leaky_relu(0.3), leaky_relu(2.5), get("abs"), get("hardtanh"),
       get("tanh"), get("sigmoid"), get("softplus"), get("identity"), poly(1), poly(2), poly(3), poly(4)]
IDS = [a.spec for a in ALL]


@pytest.fixture(autouse=True)
def _arb_precision():
    old = flint.ctx.prec
    # tanh(800) = 1 - 2e-695: deciding its position relative to 1.0 needs ~2400 bits
    flint.ctx.prec = 2600
    yield
    flint.ctx.prec = old


# ---------------------------------------------------------------- Arb references

def _arb_value(act: Activation, x: flint.arb) -> flint.arb:
    n, p = act.name, act.param
    zero = flint.arb(0)
    if n == "relu":
        return x if x > zero else zero
    if n == "leaky_relu":
        return x if x >= zero else flint.arb(p) * x
    if n == "abs":
        return abs(x)
    if n == "hardtanh":
        return flint.arb(-1) if x < -1 else flint.arb(1) if x > 1 else x
    if n == "tanh":
        return x.tanh()
    if n == "sigmoid":
        return 1 / (1 + (-x).exp())
    if n == "softplus":
        return x.exp().log1p() if x <= zero else x + (-x).exp().log1p()
    if n == "identity":
        return x
    return x ** p


def _arb_derivative(act: Activation, x: flint.arb) -> flint.arb:
    """Classical derivative at a point where the activation is differentiable."""
    n, p = act.name, act.param
    if n == "tanh":
        return 1 - x.tanh() ** 2
    if n == "sigmoid":
        s = 1 / (1 + (-x).exp())
        return s * (1 - s)
    if n == "softplus":
        return 1 / (1 + (-x).exp())
    if n == "poly":
        return p * x ** (p - 1)
    raise AssertionError(n)


def _inside(v: flint.arb, lo: float, hi: float) -> bool:
    return (lo == -math.inf or flint.arb(lo) <= v) and (hi == math.inf or v <= flint.arb(hi))


def _not_outside(v: flint.arb, lo: float, hi: float) -> bool:
    """False only if Arb proves ``v`` outside ``[lo, hi]``.  Used for difference quotients, which can
    sit within 1e-600 of an exact endpoint (sigmoid slopes near 0 vs the bound 1/4), beyond any
    precision worth paying for."""
    return not ((lo != -math.inf and v < flint.arb(lo)) or (hi != math.inf and v > flint.arb(hi)))


# ---------------------------------------------------------------- strategies

elems = st.one_of(st.floats(-6.0, 6.0), st.floats(-800.0, 800.0),
                  st.sampled_from([0.0, -1.0, 1.0, 5e-324, -1e-300, 8.0, -8.0, 1e-8, 36.7, -745.5]))


@st.composite
def boxes(draw, n=5):
    a = np.array(draw(st.lists(elems, min_size=n, max_size=n)))
    b = np.array(draw(st.lists(elems, min_size=n, max_size=n)))
    return Interval(np.minimum(a, b), np.maximum(a, b))


def _points(z: Interval, i: int, rng) -> list[float]:
    lo, hi = float(z.lo[i]), float(z.hi[i])
    pts = [lo, hi] + [float(v) for v in rng.uniform(lo, hi, 3)]
    pts += [b for b in (-1.0, 0.0, 1.0) if lo <= b <= hi]
    return pts


def _limit_poly(act, z: Interval) -> Interval:
    # keep z^q inside the float range so Arb comparisons are meaningful
    if act.name == "poly":
        return Interval(np.clip(z.lo, -1e6, 1e6), np.clip(z.hi, -1e6, 1e6))
    return z


# ---------------------------------------------------------------- get / construction

def test_get_parses_every_supported_spec():
    assert get("relu") == Activation("relu")
    assert get(" ReLU ") == Activation("relu")
    assert get("leaky_relu").param == 0.01
    assert get("leaky_relu:0.2") == leaky_relu(0.2)
    assert get("linear") == get("identity") == Activation("identity")
    assert get("poly:3") == get("x^3") == poly(3)
    for name in SUPPORTED:
        spec = {"poly": "poly:2", "groupsort": "groupsort:2"}.get(name, name)
        act = get(spec)
        assert act.name == name and get(act.spec) == act
    act = get("tanh")
    assert get(act) is act


@pytest.mark.parametrize("spec", ["gelu", "relu6", "", "poly", 3])
def test_get_rejects_unknown_names_listing_supported(spec):
    with pytest.raises((UnsupportedError, ParameterError)) as err:
        get(spec)
    if isinstance(err.value, UnsupportedError):
        assert "relu" in str(err.value) and "softplus" in str(err.value)


@pytest.mark.parametrize("spec", ["leaky_relu:-0.1", "leaky_relu:nan", "leaky_relu:abc", "poly:0",
                                  "poly:2.5", "x^-1", "tanh:3"])
def test_bad_parameters_raise_parameter_error(spec):
    with pytest.raises(ParameterError):
        get(spec)


def test_activations_are_frozen_and_hashable():
    a = get("relu")
    with pytest.raises(AttributeError):
        a.name = "tanh"
    assert len({get("relu"), Activation("relu"), leaky_relu(0.01), get("leaky_relu")}) == 2


# ---------------------------------------------------------------- declared properties

def test_piecewise_linear_data_match_the_specification():
    assert (get("relu").breakpoints, get("relu").slopes) == ((0.0,), (0.0, 1.0))
    assert (leaky_relu(0.2).breakpoints, leaky_relu(0.2).slopes) == ((0.0,), (0.2, 1.0))
    assert (get("abs").breakpoints, get("abs").slopes) == ((0.0,), (-1.0, 1.0))
    assert (get("hardtanh").breakpoints, get("hardtanh").slopes) == ((-1.0, 1.0), (0.0, 1.0, 0.0))
    assert (get("identity").breakpoints, get("identity").slopes) == ((), (1.0,))
    for a in ALL:
        if a.piecewise_linear:
            assert len(a.slopes) == len(a.breakpoints) + 1
        else:
            with pytest.raises(UnsupportedError):
                a.breakpoints
    assert [a.spec for a in ALL if a.positively_homogeneous] == \
        ["relu", "leaky_relu:0.01", "leaky_relu:0.3", "leaky_relu:2.5", "abs", "identity", "poly:1"]
    assert poly(2).slope_bounds is None and poly(2).lipschitz is None
    assert get("sigmoid").slope_bounds == (0.0, 0.25) and leaky_relu(2.5).slope_bounds == (1.0, 2.5)
    assert all(isinstance(a.latex(), str) and a.latex() for a in ALL)


@pytest.mark.parametrize("act", ALL, ids=IDS)
def test_slope_bounds_and_lipschitz_hold_on_random_pairs(act):
    if act.slope_bounds is None:
        return
    alpha, beta = act.slope_bounds
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-5, 5, 300), rng.uniform(-5, 5, 300)
    for x, y in zip(a, b):
        if x == y:
            continue
        q = (_arb_value(act, flint.arb(y)) - _arb_value(act, flint.arb(x))) / (flint.arb(y) - flint.arb(x))
        assert flint.arb(alpha) <= q <= flint.arb(beta) or q.contains(alpha) or q.contains(beta)
        assert abs(q) <= flint.arb(act.lipschitz) or q.contains(act.lipschitz)


@pytest.mark.parametrize("act", [a for a in ALL if a.positively_homogeneous], ids=lambda a: a.spec)
def test_positive_homogeneity(act):
    z = np.array([-3.5, -1.0, 0.0, 0.25, 7.0])
    np.testing.assert_array_equal(act(4.0 * z), 4.0 * act(z))


@pytest.mark.parametrize("act", ALL, ids=IDS)
def test_float_evaluation_matches_arb(act):
    z = np.array([-40.0, -3.0, -1.0, -0.5, 0.0, 1e-9, 0.5, 1.0, 2.0, 30.0])
    vals = act(z)
    for x, v in zip(z, vals):
        ref = _arb_value(act, flint.arb(float(x)))
        assert abs(flint.arb(float(v)) - ref) <= flint.arb(4e-16) * (abs(ref) + flint.arb(1e-300))


def test_derivative_uses_right_derivative_at_kinks():
    kinks = np.array([0.0, -1.0, 1.0])
    assert get("relu").derivative(0.0) == 1.0
    assert get("abs").derivative(0.0) == 1.0
    assert leaky_relu(0.1).derivative(0.0) == 1.0 and leaky_relu(0.1).derivative(-1e-300) == 0.1
    np.testing.assert_array_equal(get("hardtanh").derivative(kinks), [1.0, 1.0, 0.0])
    for a in ALL:
        if a.piecewise_linear:
            z = np.concatenate([kinks, np.linspace(-3, 3, 13)])
            idx = np.searchsorted(np.asarray(a.breakpoints), z, side="right")
            np.testing.assert_array_equal(a.derivative(z), np.asarray(a.slopes)[idx])


# ---------------------------------------------------------------- rigorous enclosures

@pytest.mark.parametrize("act", ALL, ids=IDS)
@SETTINGS
@given(z=boxes(), seed=st.integers(0, 2 ** 31))
def test_interval_encloses_arb_values_and_is_tight(act, z, seed):
    z = _limit_poly(act, z)
    out = act.interval(z)
    rng = np.random.default_rng(seed)
    for i in range(z.size):
        vals = []
        for x in _points(z, i, rng):
            v = _arb_value(act, flint.arb(x))
            assert _inside(v, float(out.lo[i]), float(out.hi[i])), (act.spec, x, v, out[i])
            vals.append(v)
        # tightness: the enclosure exceeds the sampled range by little more than the
        # unsampled part of the true range (monotone ones: endpoints are sampled, so a few ulps)
        if act.name not in ("abs", "poly", "hardtanh") or act.param in (1, None):
            top = max(vals, key=lambda r: float(r.mid()))
            bottom = min(vals, key=lambda r: float(r.mid()))
            slack = 64 * 2.2e-16 * (abs(float(top.mid())) + abs(float(bottom.mid()))) + 1e-300
            if act.name in ("relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity") or \
                    act.name == "poly" and act.param == 1:
                assert float(out.hi[i]) - float(top.mid()) <= slack
                assert float(bottom.mid()) - float(out.lo[i]) <= slack


@pytest.mark.parametrize("act", ALL, ids=IDS)
@SETTINGS
@given(z=boxes(), seed=st.integers(0, 2 ** 31))
def test_derivative_interval_contains_all_difference_quotients(act, z, seed):
    """Mean value theorem: every slope between two points of Z lies in derivative_interval(Z)."""
    z = _limit_poly(act, z)
    d = act.derivative_interval(z)
    rng = np.random.default_rng(seed)
    for i in range(z.size):
        lo, hi = float(d.lo[i]), float(d.hi[i])
        pts = _points(z, i, rng)
        for a in pts:
            for b in pts:
                if a < b:
                    q = (_arb_value(act, flint.arb(b)) - _arb_value(act, flint.arb(a))) / \
                        (flint.arb(b) - flint.arb(a))
                    assert _not_outside(q, lo, hi), (act.spec, a, b, q, d[i])
            fd = float(act.derivative(a))          # a float value: allow its rounding error
            assert lo - 1e-15 * abs(fd) <= fd <= hi + 1e-15 * abs(fd)
            if not act.piecewise_linear:
                assert _inside(_arb_derivative(act, flint.arb(a)), lo, hi), (act.spec, a)


def test_derivative_interval_includes_both_sides_of_kinks():
    at0 = Interval(0.0, 0.0)
    assert (get("relu").derivative_interval(at0).lo, get("relu").derivative_interval(at0).hi) == (0.0, 1.0)
    d = get("abs").derivative_interval(Interval(-0.0, 2.0))
    assert (float(d.lo), float(d.hi)) == (-1.0, 1.0)
    d = get("hardtanh").derivative_interval(Interval(1.0, 3.0))
    assert (float(d.lo), float(d.hi)) == (0.0, 1.0)
    d = get("hardtanh").derivative_interval(Interval(-0.5, 0.5))
    assert (float(d.lo), float(d.hi)) == (1.0, 1.0)
    d = leaky_relu(0.2).derivative_interval(Interval(-2.0, -1.0))
    assert (float(d.lo), float(d.hi)) == (0.2, 0.2)


@pytest.mark.parametrize("act", ALL, ids=IDS)
def test_unbounded_boxes_give_sound_results(act):
    z = Interval([-np.inf, -np.inf, 2.0], [np.inf, -3.0, np.inf])
    out = act.interval(z)
    d = act.derivative_interval(z)
    assert not np.isnan(out.lo).any() and not np.isnan(d.lo).any()
    for x, i in ((-1e5, 0), (1e5, 0), (-1e4, 1), (1e4, 2), (-50.0, 0), (50.0, 2), (-50.0, 1)):
        if act.name in ("tanh", "sigmoid") and abs(x) > 50:
            continue                            # 1 - tanh(1e4) is beyond Arb's 2600 bits here
        v = _arb_value(act, flint.arb(x))
        assert _inside(v, float(out.lo[i]), float(out.hi[i]))
