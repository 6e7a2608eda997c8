"""Soundness of the projection bound (D2), its corollary and the verified Ky Fan sums.

References are independent of the code under test: mpmath eigenvalues at 40 digits, exact rational
pair sums (Fraction), and the exact global Lipschitz constant of ReLU networks with k <= d and full
row rank W, max over activation subsets S of ||sum_{l in S} a_l w_l|| (every pattern occurs).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import flint
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import brentq

import bounds
from bounds._verified import arb_lower, arb_upper, ky_fan_upper
from bounds.errors import HypothesisError, ParameterError
from bounds.two_layer_projection import opposite_pair_scatter, projection_bound

SETTINGS = settings(derandomize=True, max_examples=25, deadline=None)


def _mp_ky_fan(A, r):
    with mpmath.workdps(40):
        ev = mpmath.eigsy(mpmath.matrix(A.tolist()), eigvals_only=True)
        ev = sorted((ev[i] for i in range(A.shape[0])), reverse=True)
        return mpmath.fsum(ev[:r])


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 9), kind=st.sampled_from(
    ["general", "psd_low_rank", "repeated", "tiny_scale", "zero"]))
def test_ky_fan_upper_is_a_tight_upper_bound(seed, d, kind):
    rng = np.random.default_rng(seed)
    if kind == "general":
        B = rng.standard_normal((d, d)); A = B + B.T
    elif kind == "psd_low_rank":
        B = rng.standard_normal((d, max(1, d // 3))); A = B @ B.T
    elif kind == "repeated":
        Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
        A = Q @ np.diag(np.repeat([3.0, -1.0], d)[:d]) @ Q.T
        A = (A + A.T) / 2
    elif kind == "tiny_scale":
        B = rng.standard_normal((d, d)) * 1e-150; A = B + B.T
    else:
        A = np.zeros((d, d))
    for r in range(1, d + 1):
        kf = ky_fan_upper(flint.arb_mat(A.tolist()), r)
        truth = _mp_ky_fan(A, r)
        assert kf.value >= truth
        scale = max(float(np.abs(A).max()), 1e-300) * d
        assert kf.value - truth <= 1e-9 * scale


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9), d=st.integers(1, 4))
def test_scatter_encloses_the_exact_pair_sum(seed, n, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.choice([1e-3, 1.0, 1e3])
    y = np.array([1.0, -1.0] + list(rng.choice([-1.0, 1.0], n - 2)))
    M = opposite_pair_scatter(X, y)
    F = [[Fraction(float(v)) for v in row] for row in X]
    for a in range(d):
        for b in range(d):
            exact = sum((F[i][a] - F[j][a]) * (F[i][b] - F[j][b])
                        for i in range(n) for j in range(n) if y[i] > 0 > y[j])
            lo, hi = arb_lower(M[a, b]), arb_upper(M[a, b])
            assert _frac(lo) <= exact <= _frac(hi)


def _frac(v):
    sign, man, exp, _ = v._mpf_
    return Fraction((-1) ** sign * int(man)) * Fraction(2) ** int(exp)


def _relu_net(rng, d, k):
    while True:
        W = rng.standard_normal((k, d))
        if np.linalg.matrix_rank(W) == k:
            return W, rng.standard_normal(k), rng.standard_normal(k)


def _exact_lipschitz(W, a):
    """Global l2 Lipschitz constant of x -> sum a_l relu(w_l x + b_l), W full row rank (k <= d)."""
    k = len(a)
    return max(np.linalg.norm((a[list(S)][:, None] * W[list(S)]).sum(0)) if S else 0.0
               for m in range(k + 1) for S in itertools.combinations(range(k), m))


def _forward(X, W, b, a):
    return np.maximum(X @ W.T + b, 0.0) @ a


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 6), n=st.integers(2, 30),
       labels=st.sampled_from(["sign_of_f", "random"]))
def test_projection_bound_below_exact_relu_lipschitz(seed, d, n, labels):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, d + 1))
    W, b, a = _relu_net(rng, d, k)
    X = rng.standard_normal((n, d))
    f = _forward(X, W, b, a)
    y = np.sign(f) if labels == "sign_of_f" else rng.choice([-1.0, 1.0], n)
    y[y == 0] = 1.0
    if len(set(y)) < 2:
        y[0] = -y[0]
    gap = f[y > 0].mean() - f[y < 0].mean()
    if gap <= 1e-9:
        a, f, gap = -a, -f, -gap
    if gap <= 1e-9:
        return
    lip = _exact_lipschitz(W, a)
    bound = projection_bound(X, y, k, gap=gap * (1 - 1e-12))
    assert float(bound.value) <= lip * (1 + 1e-9)
    # same network seen through the mse hypothesis, after rescaling it to fit the labels on average
    s = np.dot(f, y) / np.dot(f, f)
    tau = float(np.mean((s * f - y) ** 2)) * (1 + 1e-12)
    n_p, n_m = np.sum(y > 0), np.sum(y < 0)
    if tau < 4 * n_p * n_m / n**2 * (1 - 1e-9):
        assert float(projection_bound(X, y, k, mse=tau).value) <= abs(s) * lip * (1 + 1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 6))
def test_interpolating_relu_nets_obey_the_exact_fit_bound(seed, d):
    # k <= d neurons interpolate n <= k points: min-norm output weights over random (W, b)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, d + 1))
    n = int(rng.integers(2, k + 1))
    W, b, _ = _relu_net(rng, d, k)
    X = rng.standard_normal((n, d))
    y = np.array([1.0, -1.0] + list(rng.choice([-1.0, 1.0], n - 2)))
    H = np.maximum(X @ W.T + b, 0.0)
    a = np.linalg.lstsq(H, y, rcond=None)[0]
    err = float(np.max(np.abs(H @ a - y)))
    if err > 1e-6:
        return  # a dead unit pattern made the system singular; nothing fits exactly
    lip = _exact_lipschitz(W, a)
    bound = projection_bound(X, y, k, max_abs_error=err + 1e-12, activation="relu")
    assert float(bound.value) <= lip * (1 + 1e-9)


def test_projection_is_tight_on_a_linear_fit():
    # x -> <e_1, x> fits two opposite points on the axis with Lip 1 = the bound
    X = np.array([[1.0, 0.3], [-1.0, 0.3]])
    y = np.array([1.0, -1.0])
    b = projection_bound(X, y, 1)
    assert 1 - 1e-12 < b.value <= 1


def test_projection_record_formula_and_errors():
    t = bounds.get("two_layer_projection")
    assert t.status.value == "derived" and t.lipschitz_domain == "global" and t.norm == "l2"
    assert float(t.lower_bound(m=2, n_plus=3, n_minus=5, ky_fan=7)) == pytest.approx(
        2 * math.sqrt(15 / 7), rel=1e-14)
    X = np.eye(3)
    with pytest.raises(ParameterError, match="'y'"):
        t.from_data(X, [1, 1, 1], k=1)
    with pytest.raises(ParameterError, match="'y'"):
        t.from_data(X, [1, 0, -1], k=1)
    with pytest.raises(ParameterError, match="'k'"):
        t.from_data(X, [1, -1, 1], k=0)
    with pytest.raises(ParameterError, match="'mse'"):
        t.from_data(X, [1, -1, 1], k=1, mse=2.0)
    with pytest.raises(ParameterError, match="'X'"):
        t.from_data(np.array([[np.nan, 0, 0]] * 3), [1, -1, 1], k=1)
    with pytest.raises(ParameterError, match="activation"):
        t.from_data(X, [1, -1, 1], k=1, activation="swish")


def _u_reference(n, d, delta):
    c = d / n * math.log(2 * d / delta)
    return brentq(lambda u: u * math.log(u) - u + 1 - c, 1.0, 1e6)


@pytest.mark.parametrize("n,d,k,delta", [(1000, 1000, 1, 0.01), (200, 100, 7, 0.1),
                                         (5000, 50, 200, 1e-6), (64, 64, 64, 0.5)])
def test_undercomplete_matches_an_independent_evaluation(n, d, k, delta):
    t = bounds.get("two_layer_undercomplete")
    u = _u_reference(n, d, delta)
    # the Chernoff tail at level u is exactly delta/2
    assert d * math.exp(-(n / d) * (u * math.log(u) - u + 1)) == pytest.approx(delta / 2, rel=1e-9)
    ref = math.sqrt((1 - 2 * math.log(4 / delta) / n) * max(1.0, d / (min(k, d) * u)))
    assert float(t.lower_bound(n=n, d=d, k=k, delta=delta)) == pytest.approx(ref, rel=1e-10)
    assert float(t.evaluate(n=n, d=d, k=k, delta=delta)) == pytest.approx(ref, rel=1e-10)


def test_undercomplete_hypothesis_and_domain():
    t = bounds.get("two_layer_undercomplete")
    with pytest.raises(HypothesisError):
        t.lower_bound(n=5, d=5, k=1, delta=0.01)   # 2 log(400) > 5
    with pytest.raises(ParameterError):
        t.lower_bound(n=100, d=10, k=1, delta=1.5)


def test_undercomplete_solve_for_n_brackets_the_level():
    t = bounds.get("two_layer_undercomplete")
    res = t.solve("n", lip=5, d=1000, k=1, delta=0.01)
    n = int(res.value)
    assert t.lower_bound(n=n, d=1000, k=1, delta=0.01) <= 5 < t.lower_bound(n=n + 1, d=1000, k=1, delta=0.01)
