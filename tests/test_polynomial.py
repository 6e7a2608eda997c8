"""Soundness of the polynomial-activation bounds (D3 and degree q >= 3).

Independent references: for quadratic networks the Lipschitz constant on the unit ball is
2 ||A||_op exactly (numpy eigenvalues, with a relative slack far above their error); with biases
2 (||A||_op + ||c||) is an upper bound. For cubic networks 3 ||A_(1)||_op (first-mode unfolding)
is an upper bound on 3 ||A||_inj = Lip; in the plane ||A||_inj is also computed on a dense circle
grid with its Lipschitz correction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import bounds
from bounds.errors import ParameterError
from bounds.polynomial import polynomial_bound

SETTINGS = settings(derandomize=True, max_examples=25, deadline=None)


def _quadratic(rng, n, d, k, fit):
    X = rng.standard_normal((n, d))
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1.0)
    y = rng.choice([-1.0, 1.0], n)
    W = rng.standard_normal((k, d))
    H = (X @ W.T) ** 2
    a = np.linalg.lstsq(H, y, rcond=None)[0] if fit else rng.standard_normal(k)
    return X, y, W, a, H @ a


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), d=st.integers(1, 6),
       fit=st.booleans())
def test_quadratic_bound_below_two_op_norm(seed, n, d, fit):
    rng = np.random.default_rng(seed)
    k = n + 2 if fit else int(rng.integers(1, d + 2))
    X, y, W, a, f = _quadratic(rng, n, d, k, fit)
    gamma = float(np.mean(y * f))
    if gamma <= 1e-9:
        a, f, gamma = -a, -f, -gamma
    if gamma <= 1e-9:
        return
    A = (W.T * a) @ W
    lip = 2 * np.max(np.abs(np.linalg.eigvalsh(A)))
    b = polynomial_bound(X, y, k, margin=gamma * (1 - 1e-9))
    assert float(b.value) <= lip * (1 + 1e-9) + 1e-12
    proxy = np.sum(np.abs(a) * np.linalg.norm(W, axis=1) ** 2)
    assert float(b.quantities["proxy_bound"]) <= proxy * (1 + 1e-9) + 1e-12


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), d=st.integers(1, 6))
def test_quadratic_with_biases_below_an_upper_bound_on_lip(seed, n, d):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, d + 3))
    X = rng.standard_normal((n, d))
    y = np.array([1.0, -1.0] + list(rng.choice([-1.0, 1.0], n - 2)))
    W, bb, a = rng.standard_normal((k, d)), rng.standard_normal(k) * 3, rng.standard_normal(k)
    f = ((X @ W.T + bb) ** 2) @ a
    gamma = (f[y > 0].mean() - f[y < 0].mean()) / 2
    if gamma < 0:
        a, f, gamma = -a, -f, -gamma
    if gamma <= 1e-9:
        return
    A, c = (W.T * a) @ W, W.T @ (a * bb)
    lip_upper = 2 * (np.max(np.abs(np.linalg.eigvalsh(A))) + np.linalg.norm(c))
    b = polynomial_bound(X, y, k, margin=gamma * (1 - 1e-9), biases=True)
    assert float(b.value) <= lip_upper * (1 + 1e-9)


def test_quadratic_bound_is_tight_on_a_diagonal_example():
    X = np.eye(3)
    y = np.array([1.0, -1.0, 1.0])
    b = polynomial_bound(X, y, 3, activation="poly:2")   # f = x1^2 - x2^2 + x3^2, Lip = 2
    assert 2 - 1e-12 < b.value <= 2


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), d=st.integers(1, 4),
       q=st.sampled_from([3, 4]))
def test_higher_degree_bound_below_unfolding_upper_bound(seed, n, d, q):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    X = rng.standard_normal((n, d))
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1.0)
    y = rng.choice([-1.0, 1.0], n)
    W, a = rng.standard_normal((k, d)), rng.standard_normal(k)
    f = ((X @ W.T) ** q) @ a
    gamma = float(np.mean(y * f))
    if gamma < 0:
        a, f, gamma = -a, -f, -gamma
    if gamma <= 1e-9:
        return
    A = a[0] * _outer_power(W[0], q)
    for l in range(1, k):
        A = A + a[l] * _outer_power(W[l], q)
    lip_upper = q * np.linalg.norm(A.reshape(d, d ** (q - 1)), 2)
    b = polynomial_bound(X, y, k, q=q, margin=gamma * (1 - 1e-9))
    assert float(b.value) <= lip_upper * (1 + 1e-9)
    proxy = np.sum(np.abs(a) * np.linalg.norm(W, axis=1) ** q)
    assert float(b.quantities["proxy_bound"]) <= proxy * (1 + 1e-9)


def _outer_power(w, q):
    T = w
    for _ in range(q - 1):
        T = np.multiply.outer(T, w)
    return T


def test_cubic_bound_below_grid_injective_norm_in_the_plane():
    rng = np.random.default_rng(7)
    th = np.linspace(0, 2 * np.pi, 100001)
    U = np.stack([np.cos(th), np.sin(th)], 1)
    for _ in range(15):
        k = int(rng.integers(1, 4))
        X = rng.standard_normal((30, 2)); X /= np.linalg.norm(X, axis=1, keepdims=True)
        y = rng.choice([-1.0, 1.0], 30)
        W, a = rng.standard_normal((k, 2)), rng.standard_normal(k)
        f = ((X @ W.T) ** 3) @ a
        if np.mean(y * f) < 0:
            a, f = -a, -f
        gamma = float(np.mean(y * f))
        vals = ((U @ W.T) ** 3) @ a
        # |d/dtheta A(u,u,u)| <= 3 ||A||_inj <= 3 sum |a_l| ||w_l||^3
        slack = (th[1] - th[0]) * 3 * np.sum(np.abs(a) * np.linalg.norm(W, axis=1) ** 3)
        lip = 3 * (np.max(np.abs(vals)) + slack)          # Lip on the ball = 3 ||A||_inj (Banach)
        b = polynomial_bound(X, y, k, q=3, margin=gamma * (1 - 1e-9))
        assert float(b.value) <= lip


def test_record_and_errors():
    t = bounds.get("polynomial_activation")
    assert t.status.value == "derived" and t.lipschitz_domain == "unit_ball" and t.norm == "l2"
    assert float(t.lower_bound(q=2, n=10, gamma=1, D=4)) == pytest.approx(5.0, rel=1e-14)
    X, y = np.eye(3), np.array([1.0, -1.0, 1.0])
    with pytest.raises(ParameterError, match="'q'"):
        polynomial_bound(X, y, 2, q=1)
    with pytest.raises(ParameterError, match="'q'"):
        polynomial_bound(X, y, 2, q=3, activation="poly:2")
    with pytest.raises(ParameterError, match="activation"):
        polynomial_bound(X, y, 2, activation="relu")
    with pytest.raises(ParameterError, match="biases"):
        polynomial_bound(X, y, 2, q=3, biases=True)
    with pytest.raises(ParameterError, match="'X'"):
        polynomial_bound(np.ones((10, 200)), np.ones(10), 2, q=4)
