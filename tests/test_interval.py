"""Soundness and tightness of certify.arith.interval against exact rationals and Arb balls.

References are independent of the code under test: Python ``Fraction`` / flint ``fmpq_mat`` for
the exact value of +, -, *, /, sums and matrix products of floats, and Arb (python-flint, 200+
bits) for transcendental functions and eigenvalues.
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounds.errors import ParameterError
from certify.errors import DomainError, ShapeError
from certify.arith.interval import (LIBM_ULPS, Enclosure, Interval, UpperBound, check_floating_point_environment,
                              exp, expm1, hull, intersect, log, log1p, matmul, midrad_affine_box,
                              midrad_matmul, midrad_mul, opnorm_upper, opnorm_upper_midrad,
                              spectral_norm_enclosure, sqrt, sym_lambda_max_upper,
                              sym_lambda_max_upper_batch, tanh)

SETTINGS = settings(derandomize=True, max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TINY = 2.0 ** -1022


@pytest.fixture(autouse=True)
def _arb_precision():
    old = flint.ctx.prec
    flint.ctx.prec = 256
    yield
    flint.ctx.prec = old


# ---------------------------------------------------------------- strategies

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
adversarial = st.one_of(
    finite,                                                    # whole range, subnormals included
    st.floats(8.0, 1e6), st.floats(-1e6, -8.0),                # LipBaB's rounding fails at >= 8
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.0 ** -1022, 1e308, -1e308, 2.0 ** 53 + 2,
                     0.1, 1.0 / 3.0, 1.0 - 2.0 ** -53, 8.0, 9.999999999999998]),
)


@st.composite
def intervals(draw, n=12, elems=adversarial):
    a = np.array(draw(st.lists(elems, min_size=n, max_size=n)))
    b = np.array(draw(st.lists(elems, min_size=n, max_size=n)))
    return Interval(np.minimum(a, b), np.maximum(a, b))


def _fr(x: float) -> Fraction:
    return Fraction(float(x))


def _ulp(x: float) -> float:
    return math.ulp(abs(x)) if math.isfinite(x) else 0.0


def _assert_encloses(iv: Interval, idx, exact: Fraction):
    lo, hi = float(iv.lo[idx]), float(iv.hi[idx])
    assert lo == -math.inf or _fr(lo) <= exact, (idx, lo, float(exact))
    assert hi == math.inf or exact <= _fr(hi), (idx, hi, float(exact))


def _assert_tight(iv: Interval, idx, exact_lo: Fraction, exact_hi: Fraction, ulps=2):
    """Each endpoint within ``ulps`` ulps (plus 2^-1022 for zeros) of the exact range."""
    lo, hi = float(iv.lo[idx]), float(iv.hi[idx])
    big = Fraction(10) ** 307
    if math.isfinite(lo) and abs(exact_lo) < big:
        assert exact_lo - _fr(lo) <= _fr(ulps * _ulp(float(exact_lo)) + 2 * TINY), (idx, lo, exact_lo)
    if math.isfinite(hi) and abs(exact_hi) < big:
        assert _fr(hi) - exact_hi <= _fr(ulps * _ulp(float(exact_hi)) + 2 * TINY), (idx, hi, exact_hi)


# ---------------------------------------------------------------- construction

def test_floating_point_environment_is_round_to_nearest():
    check_floating_point_environment()


@pytest.mark.parametrize("lo,hi", [(1.0, 0.0), (np.nan, 1.0), (0.0, np.nan), (np.inf, np.inf),
                                   (-np.inf, -np.inf)])
def test_invalid_intervals_raise_domain_error(lo, hi):
    with pytest.raises(DomainError):
        Interval(lo, hi)


def test_exact_conversion_of_non_float_input():
    tenth = Interval("0.1")
    assert _fr(tenth.lo) < Fraction(1, 10) < _fr(tenth.hi)
    big = Interval(2 ** 60 + 1)
    assert _fr(big.lo) <= 2 ** 60 + 1 <= _fr(big.hi) and big.lo < big.hi
    third = Interval(Fraction(1, 3))
    assert _fr(third.lo) < Fraction(1, 3) < _fr(third.hi)
    assert bool((Interval("0.1") * 10).contains(1.0))
    assert Interval(0.5).lo == Interval(0.5).hi == 0.5


def test_immutable_and_callers_array_stays_writeable():
    a = np.array([1.0, 2.0])
    x = Interval(0.0, 1.0) * a
    a[0] = 5.0                          # must not raise: the caller's array was not frozen
    with pytest.raises(ValueError):
        x.lo[0] = 3.0
    with pytest.raises(AttributeError):
        x.lo = np.zeros(2)


def test_basic_properties():
    x = Interval([[1.0, -2.0], [-3.0, 0.5]], [[2.0, 3.0], [-1.0, 0.5]])
    assert x.shape == (2, 2) and x.ndim == 2 and x.T.lo[0, 1] == -3.0
    np.testing.assert_array_equal(x.mag, [[2.0, 3.0], [3.0, 0.5]])
    np.testing.assert_array_equal(x.mig, [[1.0, 0.0], [1.0, 0.5]])
    m, r = x.midrad()
    for i in np.ndindex(x.shape):
        assert _fr(m[i]) - _fr(r[i]) <= _fr(x.lo[i]) and _fr(x.hi[i]) <= _fr(m[i]) + _fr(r[i])
        assert _fr(x.width[i]) >= _fr(x.hi[i]) - _fr(x.lo[i])
    assert x[0, 1].lo == -2.0 and x[1].shape == (2,)
    assert np.all(x.contains(x.mid)) and np.all(x.subset(hull(x, 0.0)))
    assert intersect(x, Interval(-1.0, 1.0)).hi[0, 0] == 1.0
    with pytest.raises(DomainError):
        intersect(Interval(0.0, 1.0), Interval(2.0, 3.0))


# ---------------------------------------------------------------- elementwise arithmetic

def _check_binary(x: Interval, y: Interval, op, exact_op, tight=True):
    z = op(x, y)
    for i in range(x.size):
        corners = [exact_op(_fr(a), _fr(b)) for a in (x.lo[i], x.hi[i]) for b in (y.lo[i], y.hi[i])]
        for c in corners:
            _assert_encloses(z, i, c)
        if tight:
            _assert_tight(z, i, min(corners), max(corners))


@SETTINGS
@given(intervals(), intervals())
def test_add_sub_mul_enclose_exact_range_tightly(x, y):
    _check_binary(x, y, lambda a, b: a + b, lambda a, b: a + b)
    _check_binary(x, y, lambda a, b: a - b, lambda a, b: a - b)
    _check_binary(x, y, lambda a, b: a * b, lambda a, b: a * b)


@SETTINGS
@given(intervals(), intervals(elems=st.one_of(st.floats(1e-300, 1e300), st.floats(-1e300, -1e-300))))
def test_division_encloses_exact_range(x, y):
    ok = (y.lo > 0) | (y.hi < 0)
    y = Interval(np.where(ok, y.lo, 1.0), np.where(ok, y.hi, 2.0))
    _check_binary(x, y, lambda a, b: a / b, lambda a, b: a / b)


def test_division_by_interval_containing_zero_raises():
    with pytest.raises(DomainError):
        Interval(1.0, 2.0) / Interval(-1.0, 1.0)


@SETTINGS
@given(intervals(elems=st.floats(-1e60, 1e60)), st.integers(0, 7))
def test_integer_powers_and_square(x, n):
    z = x ** n
    sq = x.square()
    for i in range(x.size):
        pts = [_fr(x.lo[i]), _fr(x.hi[i])]
        if x.lo[i] < 0 < x.hi[i]:
            pts.append(Fraction(0))
        vals = [p ** n for p in pts]
        for v in vals:
            _assert_encloses(z, i, v)
        _assert_tight(z, i, min(vals), max(vals), ulps=2 * max(n, 1))
        sqv = [p * p for p in pts]
        _assert_tight(sq, i, min(sqv), max(sqv))
        assert sq.lo[i] >= 0.0


def test_unbounded_operands_are_handled_soundly():
    x = Interval([0.0, -np.inf, 0.0], [0.0, np.inf, 1.0])
    y = Interval([-np.inf, 1.0, 1.0], [np.inf, 2.0, np.inf])
    z = x * y
    assert z.lo[0] == 0.0 and z.hi[0] == 0.0          # 0 * (anything real) = 0
    assert z.lo[1] == -np.inf and z.hi[1] == np.inf
    assert z.lo[2] <= 0.0 and z.hi[2] == np.inf
    big = Interval(1e308) + 1e308                       # overflow: lower end stays finite and valid
    assert big.hi == np.inf and big.lo <= 2e308 and np.isfinite(big.lo)


@SETTINGS
@given(st.lists(adversarial, min_size=1, max_size=40), st.lists(adversarial, min_size=1, max_size=40))
def test_sum_encloses_exact_sum(a, b):
    n = min(len(a), len(b))
    lo = np.minimum(a[:n], b[:n])
    hi = np.maximum(a[:n], b[:n])
    s = Interval(lo, hi).sum()
    if np.isfinite(s.lo):
        assert _fr(s.lo) <= sum(_fr(v) for v in lo)
    if np.isfinite(s.hi):
        assert sum(_fr(v) for v in hi) <= _fr(s.hi)


def test_numpy_interop_defers_to_interval():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = Interval(a, a + 1)
    assert isinstance(a @ x, Interval) and isinstance(a + x, Interval) and isinstance(2.0 * x, Interval)
    assert isinstance(a - x, Interval) and isinstance(1.0 / (x + 1.0), Interval)


# ---------------------------------------------------------------- transcendental functions

_FUNCS = {
    "exp": (exp, lambda v: v.exp(), st.floats(-745.0, 709.0)),
    "expm1": (expm1, lambda v: v.expm1(), st.floats(-745.0, 709.0)),
    "log": (log, lambda v: v.log(), st.floats(5e-324, 1e308)),
    "log1p": (log1p, lambda v: v.log1p(), st.floats(-0.9999999, 1e308)),
    "tanh": (tanh, lambda v: v.tanh(), st.floats(-30.0, 30.0)),
    "sqrt": (sqrt, lambda v: v.sqrt(), st.floats(0.0, 1e308)),
}


@pytest.mark.parametrize("name", sorted(_FUNCS))
@settings(derandomize=True, max_examples=40, deadline=None)
@given(data=st.data())
def test_transcendental_enclosures_contain_arb_values(name, data):
    ours, ref, elems = _FUNCS[name]
    x = data.draw(intervals(n=6, elems=st.one_of(elems, st.sampled_from([0.0, 1.0, 8.0, 1e-300]))))
    lo = np.clip(x.lo, *_domain(name))
    hi = np.clip(x.hi, *_domain(name))
    x = Interval(np.minimum(lo, hi), np.maximum(lo, hi))
    y = ours(x)
    flint.ctx.prec = 1200       # resolves expm1(-745) from -1 and similar extremes
    for i in range(x.size):
        for p in (x.lo[i], x.hi[i], x.mid[i]):
            v = ref(flint.arb(float(p)))
            assert flint.arb(float(y.lo[i])) <= v <= flint.arb(float(y.hi[i])), (name, p)
        # tightness: the enclosure is the exact range widened by a few ulps only
        a_lo, a_hi = ref(flint.arb(float(x.lo[i]))), ref(flint.arb(float(x.hi[i])))
        # (an ulp doubles when the widening crosses a power of two)
        slack_lo = 2 * (LIBM_ULPS + 1) * _ulp(float(a_lo.mid())) + 4 * LIBM_ULPS * TINY
        slack_hi = 2 * (LIBM_ULPS + 1) * _ulp(float(a_hi.mid())) + 4 * LIBM_ULPS * TINY
        assert a_lo - flint.arb(float(y.lo[i])) <= flint.arb(slack_lo)
        assert flint.arb(float(y.hi[i])) - a_hi <= flint.arb(slack_hi)


def _domain(name):
    return {"exp": (-745.0, 709.0), "expm1": (-745.0, 709.0), "log": (5e-324, 1e308),
            "log1p": (-0.9999999, 1e308), "tanh": (-1e308, 1e308), "sqrt": (0.0, 1e308)}[name]


def test_numpy_libm_error_is_within_assumed_ulps():
    """The libm assumption behind exp/log/log1p/expm1/tanh, measured against Arb on this machine."""
    rng = np.random.default_rng(12345)
    pts = {
        "exp": np.concatenate([rng.uniform(-745, 709, 3000), rng.uniform(-1, 1, 1000)]),
        "expm1": np.concatenate([rng.uniform(-40, 709, 2000), rng.uniform(-1e-5, 1e-5, 1000)]),
        "log": np.concatenate([np.exp(rng.uniform(-700, 700, 2000)), rng.uniform(0.5, 2, 1000)]),
        "log1p": np.concatenate([rng.uniform(-0.99, 10, 2000), rng.uniform(-1e-8, 1e-8, 1000)]),
        "tanh": np.concatenate([rng.uniform(-20, 20, 2000), rng.uniform(-1e-4, 1e-4, 1000)]),
    }
    worst = {}
    for name, xs in pts.items():
        got = getattr(np, name)(xs)
        w = 0.0
        for x, g in zip(xs, got):
            exact = getattr(flint.arb(float(x)), name)()
            err = abs(flint.arb(float(g)) - exact)
            w = max(w, float((err / math.ulp(abs(float(exact.mid())))).upper()))
        worst[name] = w
    assert max(worst.values()) <= LIBM_ULPS, worst


def test_domain_errors_of_elementary_functions():
    with pytest.raises(DomainError):
        sqrt(Interval(-1.0, 1.0))
    with pytest.raises(DomainError):
        log(Interval(-1.0, 1.0))
    assert log(Interval(0.0, 1.0)).lo == -np.inf


# ---------------------------------------------------------------- matrix products

def _fmpq_mat(a: np.ndarray) -> flint.fmpq_mat:
    return flint.fmpq_mat([[flint.fmpq(*float(v).as_integer_ratio()) for v in row] for row in a])


def _fmpq_float(q) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def _check_product_contains(c: Interval, a_pt: np.ndarray, b_pt: np.ndarray):
    exact = _fmpq_mat(a_pt) * _fmpq_mat(b_pt)
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            _assert_encloses(c, (i, j), _fmpq_float(exact[i, j]))


matrix_elems = st.one_of(st.floats(-10.0, 10.0), st.floats(-1e150, 1e150),
                         st.sampled_from([0.0, 5e-324, -1e-310, 1e-200, 8.5, -123456.789]))


@st.composite
def interval_matrices(draw, m, k, elems=matrix_elems, point=False):
    a = np.array(draw(st.lists(elems, min_size=m * k, max_size=m * k))).reshape(m, k)
    if point:
        return Interval(a)
    rad = np.array(draw(st.lists(st.sampled_from([0.0, 1e-12, 1e-3, 1.0]), min_size=m * k,
                                 max_size=m * k))).reshape(m, k)
    return Interval.from_midrad(a, rad * np.abs(a) + rad * 1e-300)


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 7), st.integers(1, 6), st.data())
def test_matmul_contains_exact_products_of_members(m, k, n, data):
    pa, pb = data.draw(st.booleans()), data.draw(st.booleans())
    a = data.draw(interval_matrices(m, k, point=pa))
    b = data.draw(interval_matrices(k, n, point=pb))
    c = a @ b
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    for _ in range(3):   # vertex members of the operands
        a_pt = np.where(rng.random(a.shape) < 0.5, a.lo, a.hi)
        b_pt = np.where(rng.random(b.shape) < 0.5, b.lo, b.hi)
        _check_product_contains(c, a_pt, b_pt)
    # point @ interval and interval @ point paths
    _check_product_contains(a.lo @ b, a.lo, b.hi)
    _check_product_contains(a @ b.hi, a.lo, b.hi)
    _check_product_contains(matmul(a.hi, b.lo), a.hi, b.lo)


def test_matmul_width_close_to_arb():
    rng = np.random.default_rng(7)
    ma, mb = rng.standard_normal((16, 16)), rng.standard_normal((16, 16))
    a = Interval.from_midrad(ma, 1e-6)
    b = Interval.from_midrad(mb, 1e-6)
    c = a @ b

    def balls(x):
        return flint.arb_mat([[flint.arb(float(m), float(r)) for m, r in zip(mr, rr)]
                              for mr, rr in zip(x.mid, x.rad)])
    flint.ctx.prec = 53
    ref = balls(a) * balls(b)
    ref_w = np.array([[2 * float(ref[i, j].rad()) for j in range(16)] for i in range(16)])
    ratio = c.width / ref_w
    assert ratio.max() < 1.05 and ratio.min() > 0.5


def test_matmul_shapes_batched_and_vectors():
    rng = np.random.default_rng(3)
    a = Interval.from_midrad(rng.standard_normal((5, 4, 3)), 1e-3)
    b = Interval.from_midrad(rng.standard_normal((3, 2)), 1e-3)
    c = a @ b
    assert c.shape == (5, 4, 2)
    for t in range(5):
        _check_product_contains(c[t], a.mid[t], b.mid)
    v = rng.standard_normal(3)
    assert (a[0] @ v).shape == (4,) and (v @ b).shape == (2,) and matmul(v, v).shape == ()
    with pytest.raises(ShapeError):
        a[0] @ Interval(np.ones((4, 2)))


def test_matmul_unbounded_falls_back_soundly():
    a = Interval([[1.0, -np.inf]], [[2.0, 0.0]])
    b = Interval([[1.0], [0.0]], [[1.0], [3.0]])
    c = a @ b
    assert c.lo[0, 0] == -np.inf and c.hi[0, 0] >= 2.0


def test_matmul_overflow_gives_unbounded_not_wrong():
    a = np.full((2, 2), 1e300)
    c = matmul(a, a)
    assert np.all(c.hi == np.inf)


# ---------------------------------------------------------------- norms

def _exact_abs_sums(a: np.ndarray, axis: int) -> Fraction:
    fr = [[abs(_fr(v)) for v in row] for row in a]
    if axis == 0:
        fr = list(map(list, zip(*fr)))
    return max(sum(r) for r in fr)


def _arb_lambda_max(g: flint.fmpq_mat):
    ev = flint.acb_mat(flint.arb_mat(g)).eig(multiple=True)
    return max((e.real for e in ev), key=lambda r: float(r.mid()))


def _arb_spectral_norm(a: np.ndarray):
    q = _fmpq_mat(a)
    g = q.transpose() * q if a.shape[0] >= a.shape[1] else q * q.transpose()
    return _arb_lambda_max(g).nonnegative_part().sqrt()


@SETTINGS
@given(st.integers(1, 7), st.integers(1, 7), st.data())
def test_opnorm_l1_linf_exact_and_sound(m, n, data):
    a = data.draw(interval_matrices(m, n))
    for p, axis in ((1, 0), (np.inf, 1)):
        ub = opnorm_upper(a, p)
        exact = _exact_abs_sums(a.mag, axis)
        assert isinstance(ub, UpperBound)
        if math.isfinite(ub):
            assert exact <= _fr(ub) <= exact * (1 + Fraction(1, 10 ** 12)) + Fraction(1, 10 ** 300)


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_opnorm_l2_is_above_every_member(m, n, data):
    a = data.draw(interval_matrices(m, n, elems=st.floats(-10, 10)))
    ub = opnorm_upper(a, 2)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    for _ in range(2):
        pt = np.where(rng.random(a.shape) < 0.5, a.lo, a.hi)
        true = _arb_spectral_norm(pt)
        assert not (flint.arb(float(ub)) < true)
        assert flint.arb(float(ub)) >= true or true.rad() > 0 and float(ub) >= float(true.mid())


def test_opnorm_rejects_bad_norm_and_shape():
    with pytest.raises(ParameterError):
        opnorm_upper(np.eye(2), 3)
    with pytest.raises(ShapeError):
        opnorm_upper(np.ones(3), 1)


@SETTINGS
@given(st.integers(1, 8), st.integers(1, 8), st.sampled_from([1.0, 1e-200, 1e200, 2.0 ** 600]), st.data())
def test_spectral_norm_enclosure_contains_arb_value_and_is_tight(m, n, scale, data):
    seed = data.draw(st.integers(0, 2 ** 31))
    a = np.random.default_rng(seed).standard_normal((m, n)) * scale
    enc = spectral_norm_enclosure(a)
    true = _arb_spectral_norm(a / scale) * flint.arb(scale)
    assert isinstance(enc, Enclosure)
    assert flint.arb(enc.lo) <= true <= flint.arb(enc.hi)
    assert enc.hi - enc.lo <= 1e-12 * enc.hi


def test_spectral_norm_special_matrices():
    assert tuple(spectral_norm_enclosure(np.zeros((3, 2)))) == (0.0, 0.0)
    lo, hi = spectral_norm_enclosure(np.array([[3.0, 4.0]]))
    assert lo <= 5.0 <= hi and hi - lo < 1e-14
    lo, hi = spectral_norm_enclosure(np.eye(5) * 8.0)          # repeated singular values
    assert lo <= 8.0 <= hi and hi - lo < 1e-13
    rank1 = np.outer(np.arange(1.0, 7.0), np.ones(4))
    true = math.sqrt(sum(v * v for v in range(1, 7)) * 4)
    lo, hi = spectral_norm_enclosure(rank1)
    assert lo <= true <= hi
    with pytest.raises(DomainError):
        spectral_norm_enclosure(np.array([[np.nan]]))


def test_spectral_norm_medium_matrix_is_tight():
    a = np.random.default_rng(11).standard_normal((120, 80))
    enc = spectral_norm_enclosure(a)
    s = np.linalg.svd(a, compute_uv=False)[0]
    assert enc.lo <= s * (1 + 1e-14) and s * (1 - 1e-14) <= enc.hi
    assert enc.rel_width < 1e-12


@SETTINGS
@given(st.integers(1, 7), st.sampled_from([1.0, -1.0, 1e-100, 1e100]), st.booleans(), st.data())
def test_sym_lambda_max_upper_is_sound_and_tight(n, scale, interval, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    b = rng.standard_normal((n, n))
    s = (b + b.T) * scale
    s = s - np.eye(n) * abs(scale) * 3 if data.draw(st.booleans()) else s
    true = _arb_lambda_max(_fmpq_mat(s))
    if interval:
        iv = Interval.from_midrad(s, 1e-6 * abs(scale))
        ub = sym_lambda_max_upper(iv)
        assert flint.arb(float(ub)) >= true
        # Weyl: the bound may exceed lambda_max(mid) by about ||rad||_2 <= n * 1e-6 |scale|
        assert float(ub) - float(true.mid()) <= 2 * n * 1e-6 * abs(scale) + 1e-12 * abs(float(true.mid()))
    else:
        ub = sym_lambda_max_upper(s)
        assert flint.arb(float(ub)) >= true
        tol = 1e-13 * float(np.abs(np.linalg.eigvalsh(s)).max()) + 1e-300
        assert float(ub) - float(true.mid()) <= tol


def test_sym_lambda_max_rejects_nonsymmetric():
    with pytest.raises(DomainError):
        sym_lambda_max_upper(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ShapeError):
        sym_lambda_max_upper(np.ones((2, 3)))
    # an interval matrix with a symmetric member is fine, and the bound covers that member
    iv = Interval([[1.0, 0.0], [1.5, 1.0]], [[1.0, 2.0], [3.0, 1.0]])
    assert sym_lambda_max_upper(iv) >= 3.0


def test_results_carry_their_method():
    ub = opnorm_upper(np.array([[1.0, 2.0], [3.0, 4.0]]), 2)
    assert ub.method in ub.candidates and float(ub) == min(ub.candidates.values())
    enc = spectral_norm_enclosure(np.array([[1.0, 2.0], [3.0, 4.0]]))
    lo, hi = enc
    assert enc.lo == lo and enc.method


# ---------------------------------------------------------------- batched midpoint-radius kernels

BATCH_SETTINGS = settings(derandomize=True, max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


def _midrad_pair(draw, shape, point_ok=True):
    n = int(np.prod(shape))
    m = np.array(draw(st.lists(matrix_elems, min_size=n, max_size=n))).reshape(shape)
    if point_ok and draw(st.booleans()):
        return m, None
    scale = np.array(draw(st.lists(st.sampled_from([0.0, 1e-12, 1e-3, 1.0]), min_size=n,
                                   max_size=n))).reshape(shape)
    return m, scale * np.abs(m) + scale * 1e-300


def _assert_midrad_contains(c, rad, exact_fn, idx):
    if not (math.isfinite(c[idx]) and math.isfinite(rad[idx])):
        return
    e = exact_fn(idx)
    assert abs(e - _fr(c[idx])) <= _fr(rad[idx]), (idx, float(e), c[idx], rad[idx])


@BATCH_SETTINGS
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3), st.data())
def test_midrad_matmul_batched_contains_every_slice(batch, m, k, n, data):
    mA, rA = _midrad_pair(data.draw, (batch, m, k))
    mB, rB = _midrad_pair(data.draw, (k, n) if data.draw(st.booleans()) else (batch, k, n))
    c, rad = midrad_matmul(mA, rA, mB, rB)
    assert c.shape == rad.shape == (batch, m, n)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    for _ in range(2):
        # a member of each operand; deviations are applied in exact rationals (m +- r may round)
        sa = rng.choice([-1, 1], size=mA.shape) if rA is not None else None
        sb = rng.choice([-1, 1], size=mB.shape) if rB is not None else None

        def member(mid, r, sgn, idx):
            q = _fr(mid[idx])
            return q if r is None else q + sgn[idx] * _fr(r[idx])

        for b in range(batch):
            bb = (b,) if mB.ndim == 3 else ()

            def exact(idx, b=b, bb=bb):
                _, i, j = idx
                return sum(member(mA, rA, sa, (b, i, t)) * member(mB, rB, sb, bb + (t, j))
                           for t in range(k))

            for i in range(m):
                for j in range(n):
                    _assert_midrad_contains(c, rad, exact, (b, i, j))


@BATCH_SETTINGS
@given(st.integers(1, 4), st.integers(1, 5), st.data())
def test_midrad_mul_and_affine_box_contain_exact_values(m, d, data):
    g, gr = _midrad_pair(data.draw, (2, m, d))
    s, sr = _midrad_pair(data.draw, (2, 1, d), point_ok=False)
    p, pr = midrad_mul(g, gr, s, sr)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    sg = rng.choice([-1, 1], size=g.shape)
    ss = rng.choice([-1, 1], size=s.shape)
    for idx in np.ndindex(p.shape):
        x = _fr(g[idx]) + (0 if gr is None else sg[idx] * _fr(gr[idx]))
        sidx = (idx[0], 0, idx[2])
        y = _fr(s[sidx]) + ss[sidx] * _fr(sr[sidx])
        _assert_midrad_contains(p, pr, lambda _i: x * y, idx)
    # affine image of a box: every vertex value lies in [lo, hi]
    M = np.array(data.draw(st.lists(st.floats(-10, 10), min_size=m * d, max_size=m * d))).reshape(m, d)
    c = np.array(data.draw(st.lists(st.floats(-10, 10), min_size=m, max_size=m)))
    xm = rng.standard_normal(d)
    xr = np.abs(rng.standard_normal(d))
    lo, hi = midrad_affine_box(M, None, c, None, xm, xr)
    for _ in range(4):
        x = [_fr(a) + sgn * _fr(b) for a, b, sgn in zip(xm, xr, rng.choice([-1, 1], size=d))]
        for i in range(m):
            z = sum(_fr(M[i, j]) * x[j] for j in range(d)) + _fr(c[i])
            assert _fr(lo[i]) <= z <= _fr(hi[i])


def _sym_member(rng, S, Sr):
    E = rng.choice([-1.0, 1.0], size=S.shape)
    E = np.triu(E) + np.triu(E, 1).T
    return [[_fr(S[i, j]) + int(E[i, j]) * _fr(Sr[i, j]) for j in range(S.shape[1])]
            for i in range(S.shape[0])]


def _q(rows) -> flint.fmpq_mat:
    return flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in r] for r in rows])


def _lambda_max_roots(g: flint.fmpq_mat):
    """Largest eigenvalue of a rational symmetric matrix: Arb's isolated roots of its exact
    characteristic polynomial (robust at any scale, unlike a floating eigen-solver)."""
    return max((r.real for r, _ in g.charpoly().complex_roots()), key=lambda x: float(x.upper()))


@BATCH_SETTINGS
@given(st.integers(1, 4), st.integers(1, 5), st.sampled_from([1.0, 1e-100, 1e100]),
       st.sampled_from([0.0, 1e-14, 1e-6]), st.data())
def test_sym_lambda_max_upper_batch_contains_arb(batch, n, scale, rel, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    b = rng.standard_normal((batch, n, n))
    S = (b + np.swapaxes(b, 1, 2)) * scale
    Sr = rel * np.abs(S) + rel * scale * np.abs(rng.standard_normal((batch, n, n)))
    Sr = np.maximum(Sr, np.swapaxes(Sr, 1, 2))
    ub = sym_lambda_max_upper_batch(S, Sr)
    assert ub.shape == (batch,)
    for t in range(batch):
        for _ in range(2):   # members of the interval, lambda_max by Arb
            lam = _lambda_max_roots(_q(_sym_member(rng, S[t], Sr[t])))
            assert flint.arb(float(ub[t])) >= lam
        # tight: the trial shift is 1e-12 max|S| + ||Sr||_F, at most 16x if the first fails
        true = float(_lambda_max_roots(_q([[_fr(v) for v in r] for r in S[t]])).mid())
        slack = 16 * (1e-12 * np.abs(S[t]).max() + np.sqrt((Sr[t] ** 2).sum())) + 1e-280
        assert float(ub[t]) - true <= slack + 2 * n * Sr[t].max()
        # one matrix alone (Python-float Cholesky) gives the same bound as inside the batch
        assert float(sym_lambda_max_upper_batch(S[t], Sr[t])) == ub[t]


def _arb_opnorm(rows, p):
    if p in (1, np.inf):    # exact rationals
        sums = ([sum(abs(r[j]) for r in rows) for j in range(len(rows[0]))] if p == 1
                else [sum(abs(v) for v in r) for r in rows])
        top = max(sums)
        return flint.arb(flint.fmpq(top.numerator, top.denominator))
    q = _q(rows)
    g = q.transpose() * q if len(rows) >= len(rows[0]) else q * q.transpose()
    return _lambda_max_roots(g).nonnegative_part().sqrt()


@BATCH_SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.sampled_from([1, 2, np.inf]),
       st.sampled_from([0.0, 1e-13, 1e-4]), st.data())
def test_opnorm_upper_midrad_batched_contains_arb(batch, m, d, p, rel, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    J = rng.standard_normal((batch, m, d)) * data.draw(st.sampled_from([1.0, 1e-80, 1e80]))
    Jr = rel * np.abs(J) * rng.random((batch, m, d))
    ub = opnorm_upper_midrad(J, Jr, p)
    singles = [opnorm_upper_midrad(J[t], Jr[t], p) for t in range(batch)]
    truths = []
    for t in range(batch):
        for _ in range(2):
            sgn = rng.choice([-1, 1], size=(m, d))
            rows = [[_fr(J[t, i, j]) + int(sgn[i, j]) * _fr(Jr[t, i, j]) for j in range(d)]
                    for i in range(m)]
            true = _arb_opnorm(rows, p)
            assert flint.arb(ub) >= true and flint.arb(singles[t]) >= true
        truths.append(float(_arb_opnorm([[_fr(v) for v in r] for r in J[t]], p).mid()))
    # tight up to the radius (||Jr|| <= ||Jr||_F) and rounding
    slack = max(math.sqrt(float((Jr[t] ** 2).sum())) * math.sqrt(m * d) for t in range(batch))
    assert ub <= max(truths) * (1 + 1e-10) + slack
    assert max(singles) <= max(truths) * (1 + 1e-10) + slack
    # a skip threshold never lowers the bound below a member's norm
    assert opnorm_upper_midrad(J, Jr, p, skip_below=ub) >= max(truths) * (1 - 1e-12)
