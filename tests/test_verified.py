"""Direct tests of bounds._verified against independent references.

References: exact rationals (fractions.Fraction) built from the mantissa and exponent of the inputs,
mpmath eigenvalues at 80 significant digits, and exact traces; never the code's own output.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction

import flint
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bounds._verified import (ARB_PREC, arb_lower, arb_matrix, arb_of_mpf, arb_precision,
                              arb_upper, check_data, check_width, ky_fan_upper, width_data_fn)
from bounds.errors import ParameterError
from bounds.two_layer_projection import projection_bound

SETTINGS = settings(derandomize=True, max_examples=60, deadline=None)

mantissas = st.integers(-(2**300), 2**300)
exponents = st.integers(-10**6, 10**6)
floats = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)


def _frac(v: mpmath.mpf) -> Fraction:
    sign, man, exp, _ = v._mpf_
    assert man or not exp, "non-finite"
    return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)


def _mpf(man: int, exp: int) -> mpmath.mpf:
    """The exact number man * 2^exp as an mpf (no rounding, whatever mpmath.mp.prec)."""
    return mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(man, exp))


def _bits(v: mpmath.mpf) -> int:
    return int(v._mpf_[3])


@contextlib.contextmanager
def _flint_prec(bits):
    old = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = old


# ----------------------------------------------------------------------------------------------
# conversions
# ----------------------------------------------------------------------------------------------

@SETTINGS
@given(man=mantissas, exp=exponents)
def test_mpf_to_arb_to_mpf_is_exact_both_ways(man, exp):
    truth = Fraction(man) * Fraction(2) ** exp
    v = _mpf(man, exp)
    assert _frac(v) == truth                         # the reference itself is exact
    with _flint_prec(53):                           # conversion into Arb ignores the precision
        ball = arb_of_mpf(v)
    assert ball.is_exact()
    with _flint_prec(320):                          # 300-bit mantissas fit: read back exactly
        assert _frac(arb_lower(ball)) == truth
        assert _frac(arb_upper(ball)) == truth


@SETTINGS
@given(x=floats)
def test_floats_including_subnormals_and_extremes_convert_exactly(x):
    truth = Fraction(x)
    for v in (x, np.float64(x), mpmath.mpf(x)):
        ball = arb_of_mpf(v)
        assert ball.is_exact()
        assert _frac(arb_lower(ball)) == truth == _frac(arb_upper(ball))


@pytest.mark.parametrize("x", [5e-324, -5e-324, 2.2250738585072014e-308, -1.7976931348623157e308,
                               1.7976931348623157e308, -0.0, 0.0, -1.5])
def test_float_edge_cases(x):
    assert _frac(arb_lower(arb_of_mpf(x))) == Fraction(x)
    row = arb_matrix([[x, -x]])
    assert [_frac(arb_upper(row[0, j])) for j in range(2)] == [Fraction(x), -Fraction(x)]


def test_integers_beyond_double_precision_convert_exactly():
    n = 2**200 + 1
    with _flint_prec(53):
        assert arb_of_mpf(n).is_exact()
        assert arb_of_mpf(np.int64(-(2**62) - 1)).is_exact()
    with _flint_prec(256):
        assert _frac(arb_lower(arb_of_mpf(n))) == n


def test_wide_mpf_is_not_rounded_to_the_mpmath_context():
    # regression: mpmath.mpf(v) re-rounds v to mp.prec (nearest); an upper bound such as
    # KyFanBound.value could come out below the number it bounds
    v = _mpf(2**100 + 1, -100)
    with mpmath.workprec(53):
        ball = arb_of_mpf(v)
    assert ball.is_exact() and ball - 1 == flint.arb(2) ** -100


@SETTINGS
@given(a=st.floats(0.25, 8.0), b=st.floats(-8.0, 8.0))
def test_projection_bound_below_the_exact_two_point_constant(a, b):
    # two points: the least Lipschitz constant of an interpolant is 2 / |x1 - x2|, and the
    # linear one-neuron network f(x) = (2 x - x1 - x2) / (x1 - x2) attains it
    x1, x2 = b + a, b                                # a >= 0.25, |b| <= 8: never equal
    bound = projection_bound(np.array([[x1], [x2]]), np.array([1.0, -1.0]), k=1)
    assert _frac(bound.value) <= Fraction(2) / abs(Fraction(x1) - Fraction(x2))


@SETTINGS
@given(p=st.integers(-(10**30), 10**30), q=st.integers(1, 10**30),
       prec=st.sampled_from([53, 128, 300]), bits=st.one_of(st.none(), st.integers(1, 200)))
def test_end_points_enclose_and_round_outward(p, q, prec, bits):
    truth = Fraction(p, q)
    with _flint_prec(prec):
        ball = flint.arb(p) / q
        lo, hi = arb_lower(ball), arb_upper(ball)
        lo_b, hi_b = arb_lower(ball, bits), arb_upper(ball, bits)
    assert _frac(lo) <= truth <= _frac(hi)
    assert _frac(lo_b) <= _frac(lo) and _frac(hi) <= _frac(hi_b)     # rounding is outward only
    if bits is not None:
        assert _bits(lo_b) <= bits and _bits(hi_b) <= bits
        # and by less than one unit in the last of the ``bits`` places
        assert _frac(lo) - _frac(lo_b) <= abs(_frac(lo)) * Fraction(2) ** (1 - bits)
        assert _frac(hi_b) - _frac(hi) <= abs(_frac(hi)) * Fraction(2) ** (1 - bits)
    # one rounding of the quotient plus one of each end point, at the working precision
    assert _frac(hi) - _frac(lo) <= abs(truth) * Fraction(2) ** (4 - prec)


@SETTINGS
@given(man=st.integers(2**60, 2**200), exp=st.integers(-300, 300), neg=st.booleans())
def test_end_points_of_an_exact_ball_wider_than_the_working_precision(man, exp, neg):
    man = -man if neg else man
    truth = Fraction(man) * Fraction(2) ** exp
    ball = arb_of_mpf(_mpf(man, exp))
    with _flint_prec(53):
        lo, hi = arb_lower(ball), arb_upper(ball)
    assert _frac(lo) <= truth <= _frac(hi)
    assert _frac(hi) - _frac(lo) <= abs(truth) * Fraction(2) ** -51


def test_transcendental_balls_enclose_60_digit_values():
    with mpmath.workdps(60), arb_precision():
        for k in range(1, 40):
            for ball, ref in ((flint.arb(k).sqrt(), mpmath.sqrt(k)), (flint.arb(k).log(), mpmath.log(k)),
                              (-flint.arb(k).exp(), -mpmath.exp(k))):
                truth = _frac(ref)
                lo, hi = _frac(arb_lower(ball)), _frac(arb_upper(ball))
                # mpmath's value is within 1e-58 of the truth; the ball is far wider than that
                slack = abs(truth) * Fraction(1, 10**55)
                assert lo - slack <= truth <= hi + slack


def test_non_finite_and_bad_input_raise():
    for bad in (flint.arb("nan"), flint.arb(1, "inf"), flint.arb(1) / 0):
        with pytest.raises(FloatingPointError):
            arb_lower(bad)
        with pytest.raises(FloatingPointError):
            arb_upper(bad)
    for bad in (mpmath.inf, -mpmath.inf, mpmath.nan, float("inf"), np.float64("nan")):
        with pytest.raises(FloatingPointError):
            arb_of_mpf(bad)
    for bad in ("0.1", Fraction(1, 3), True):
        with pytest.raises(TypeError):
            arb_of_mpf(bad)
    for bits in (0, -3, 2.5, True):
        with pytest.raises(ParameterError, match="'bits'"):
            arb_lower(flint.arb(1) / 3, bits)


def test_arb_precision_raises_only_and_restores():
    with _flint_prec(60):
        with arb_precision():
            assert flint.ctx.prec == ARB_PREC
        with _flint_prec(500), arb_precision(200):
            assert flint.ctx.prec == 500                # never lowered
        with pytest.raises(RuntimeError), arb_precision(300):
            raise RuntimeError
        assert flint.ctx.prec == 60


def test_arb_matrix_is_exact_and_handles_empty_shapes():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 3)) * np.array([1e-310, 1.0, 1e300])
    M = arb_matrix(A)
    assert (M.nrows(), M.ncols()) == (4, 3)
    for i in range(4):
        for j in range(3):
            assert M[i, j].is_exact() and _frac(arb_lower(M[i, j])) == Fraction(float(A[i, j]))
    for shape in ((0, 3), (3, 0), (0, 0)):
        E = arb_matrix(np.zeros(shape))
        assert (E.nrows(), E.ncols()) == shape


# ----------------------------------------------------------------------------------------------
# Ky Fan sums
# ----------------------------------------------------------------------------------------------

#: The reference eigenvalues are computed at REF_DPS digits, so their sums are within
#: 10^-(REF_DPS - 5) of the spectral radius: far below the certificates' slack (~1e-15).
REF_DPS = 80


def _mp_eigenvalues(A):
    with mpmath.workdps(REF_DPS):
        ev = mpmath.eigsy(mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in A]),
                          eigvals_only=True)
        return sorted((ev[i] for i in range(len(A))), reverse=True)


def _symmetric(rng, d, kind):
    if kind == "general":
        B = rng.standard_normal((d, d))
        return (B + B.T) * rng.choice([1e-100, 1e-3, 1.0, 1e5, 1e100])
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    if kind == "repeated":
        lam = rng.choice([-2.0, 0.5, 3.0], size=d)
    elif kind == "zero_eigenvalues":
        lam = rng.standard_normal(d) * (rng.random(d) < 0.5)
    elif kind == "psd_low_rank":
        lam = np.abs(rng.standard_normal(d)) * (np.arange(d) < max(1, d // 3))
    else:  # nearly tied top eigenvalues
        lam = 1.0 + 1e-12 * rng.standard_normal(d)
    A = Q @ np.diag(lam) @ Q.T
    return (A + A.T) / 2


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 8), kind=st.sampled_from(
    ["general", "repeated", "zero_eigenvalues", "psd_low_rank", "near_tie"]))
def test_ky_fan_upper_bounds_the_80_digit_sum_and_is_tight(seed, d, kind):
    rng = np.random.default_rng(seed)
    A = _symmetric(rng, d, kind)
    ev = _mp_eigenvalues(A)
    with mpmath.workdps(REF_DPS):
        scale = max(abs(ev[0]), abs(ev[-1]))
        ref_err = mpmath.mpf(10) ** (5 - REF_DPS) * scale * d
        for r in range(1, d + 1):
            kf = ky_fan_upper(flint.arb_mat(A.tolist()), r)
            truth = mpmath.fsum(ev[:r])
            assert kf.value >= truth - ref_err, (r, kf)
            # the certificate's slack is a few ulps of the spectral radius per eigenvalue
            assert kf.value - truth <= 1e-12 * r * d * scale + mpmath.mpf(10) ** -300, (r, kf)
            assert kf.method == ("trace" if r >= d else "dual certificate")


def test_ky_fan_upper_of_the_zero_matrix():
    for d in (1, 3, 6):
        for r in range(1, d + 1):
            kf = ky_fan_upper(flint.arb_mat(d, d), r)
            # exact through the trace; the dual certificate keeps a slack of a few subnormals
            assert kf.value == 0 if r >= d else 0 <= kf.value <= 1e-300


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 6))
def test_trace_branch_bounds_the_exact_trace(seed, d):
    # entries of very different magnitudes: the trace is not a double, and must not be rounded down
    rng = np.random.default_rng(seed)
    A = np.diag(rng.standard_normal(d) * 2.0 ** rng.integers(-80, 80, d))
    exact = sum(Fraction(float(v)) for v in np.diag(A))
    with arb_precision():
        kf = ky_fan_upper(arb_matrix(A), d)
    assert _frac(kf.value) >= exact
    assert _frac(kf.value) - exact <= abs(exact) * Fraction(2) ** -100 + Fraction(2) ** -2000


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 6))
def test_ky_fan_upper_bounds_every_matrix_in_a_ball_enclosure(seed, d):
    rng = np.random.default_rng(seed)
    A = _symmetric(rng, d, "general")
    rad = 1e-6 * float(np.abs(A).max())
    ball = flint.arb_mat([[flint.arb(float(A[i, j]), rad) for j in range(d)] for i in range(d)])
    r = int(rng.integers(1, d))
    kf = ky_fan_upper(ball, r)
    for _ in range(5):
        E = rng.uniform(-rad, rad, (d, d))
        E = np.triu(E) + np.triu(E, 1).T                # symmetric, every entry within the radius
        with mpmath.workdps(REF_DPS):
            ev = _mp_eigenvalues(A + E)
            assert kf.value >= mpmath.fsum(ev[:r]) - mpmath.mpf(10) ** (5 - REF_DPS) * abs(ev[0]) * d


def test_ky_fan_upper_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="'A'"):
        ky_fan_upper(flint.arb_mat(2, 3), 1)
    for r in (0, 1.5, -1):
        with pytest.raises(ParameterError, match="'r'"):
            ky_fan_upper(flint.arb_mat(2, 2), r)


# ----------------------------------------------------------------------------------------------
# samples and widths
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("X,y,signs,param", [
    (np.zeros(3), np.ones(3), True, "X"), (np.zeros((0, 2)), np.ones(0), True, "X"),
    (np.zeros((2, 0)), np.ones(2), True, "X"), ([["a"]], [1.0], True, "X"),
    ([[1.0], [np.inf]], [1.0, -1.0], True, "X"), ([[1.0], [2.0]], [1.0], True, "y"),
    ([[1.0], [2.0]], [1.0, 0.5], True, "y"), ([[1.0], [2.0]], [1.0, np.nan], True, "y"),
    ([[1.0], [2.0]], [1.0, np.nan], False, "y"), ([[1.0], [2.0]], [[1.0, 2.0]], False, "y"),
    ([[1.0], [2.0]], ["x", "y"], False, "y"),
])
def test_check_data_names_the_bad_argument(X, y, signs, param):
    with pytest.raises(ParameterError) as exc:
        check_data(X, y, signs=signs)
    assert exc.value.parameter == param


def test_check_data_accepts_and_converts():
    X, y = check_data([[1, 2], [3, 4]], [1, -1])
    assert X.dtype == y.dtype == np.float64 and X.shape == (2, 2) and list(y) == [1.0, -1.0]
    assert list(check_data([[0.0]], [0.25], signs=False)[1]) == [0.25]


def test_non_finite_input_is_located():
    with pytest.raises(ParameterError, match=r"index \(1, 0\)"):
        check_data([[1.0, 2.0], [np.nan, 0.0]], [1, -1])


def test_check_width():
    assert check_width(np.int64(3)) == 3 and isinstance(check_width(np.int64(3)), int)
    for bad in (0, -1, 2.5, True, "3", None):
        with pytest.raises(ParameterError, match="'k'"):
            check_width(bad)


def test_width_data_fn_requires_k():
    calls = []

    def bound(X, y, k, **kw):
        calls.append((k, kw))
        return "ok"

    fn = width_data_fn(bound)
    with pytest.raises(ParameterError, match="'k'"):
        fn(None, [[0.0]], [1.0])
    assert fn(None, [[0.0]], [1.0], k=2, delta=0.1) == "ok" and calls == [(2, {"delta": 0.1})]
    assert "bound" in fn.__name__
