"""Soundness of the spectral proxy bound (D1).

Independent references: the exact supremum Z_+ = sup_{||u||<=1} sum_i y_i relu(u . x_i) in the
plane (enumeration of the arcs of the arrangement, see :func:`relu_sup_2d`), exact expectations over
all 2^n sign vectors, and interpolating zero-bias ReLU networks built by min-norm least squares.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import bounds
from bounds.errors import ParameterError
from bounds.two_layer_spectral import activation_properties, spectral_bound

SETTINGS = settings(derandomize=True, max_examples=25, deadline=None)


def relu_sup_2d(X, w):
    """Exact sup over the unit disc of g(u) = sum_i w_i relu(u . x_i), x_i in R^2, w real.

    g is positively homogeneous, so the sup is max(0, max over the circle). On each arc between
    consecutive zeros of the u . x_i the active set S is fixed and g(u) = u . v_S, whose maximum on
    the arc is at an end point or at the direction of v_S if that direction lies inside the arc.
    """
    X = np.asarray(X, float)
    ang = np.arctan2(X[:, 1], X[:, 0])
    keep = np.linalg.norm(X, axis=1) > 0
    brk = np.sort(np.mod(np.concatenate([ang[keep] + np.pi / 2, ang[keep] - np.pi / 2]), 2 * np.pi))
    if len(brk) == 0:
        return 0.0
    g = lambda th: float(np.dot(w, np.maximum(X @ np.array([np.cos(th), np.sin(th)]), 0.0)))
    best = 0.0
    ends = list(brk) + [brk[0] + 2 * np.pi]
    for a, b in zip(ends[:-1], ends[1:]):
        best = max(best, g(a), g(b))
        mid = (a + b) / 2
        act = X @ np.array([np.cos(mid), np.sin(mid)]) > 0
        v = (w[act, None] * X[act]).sum(0)
        if np.linalg.norm(v) > 0:
            phi = np.mod(np.arctan2(v[1], v[0]) - a, 2 * np.pi) + a
            if a <= phi <= b:
                best = max(best, float(np.linalg.norm(v)))
    return best


def test_relu_sup_2d_against_a_dense_grid():
    rng = np.random.default_rng(1)
    for _ in range(20):
        X = rng.standard_normal((6, 2)); w = rng.standard_normal(6)
        th = np.linspace(0, 2 * np.pi, 200001)
        grid = max(0.0, float(np.max(np.maximum(np.outer(np.cos(th), X[:, 0]) + np.outer(np.sin(th), X[:, 1]), 0) @ w)))
        exact = relu_sup_2d(X, w)
        assert grid <= exact + 1e-12
        # g is Lipschitz in the angle with constant sum |w_i| ||x_i||: the grid is that close
        assert exact - grid <= (th[1] - th[0]) * np.dot(np.abs(w), np.linalg.norm(X, axis=1))


@settings(derandomize=True, max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9))
def test_expected_sup_and_its_concentration_constants(seed, n):
    """The three probabilistic ingredients, checked exactly over all 2^n sign vectors."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) * rng.uniform(0.1, 2.0, (n, 1))
    fro, op = np.linalg.norm(X), np.linalg.norm(X, 2)
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    Z = {tuple(s): relu_sup_2d(X, s) for s in signs}
    # contraction + Jensen: E Z_+ <= E ||sum y_i x_i|| <= ||X||_F
    assert np.mean(list(Z.values())) <= fro + 1e-12
    # bounded differences 2 ||x_i|| (McDiarmid)
    for s in signs:
        for i in range(n):
            t = s.copy(); t[i] = -t[i]
            assert abs(Z[tuple(s)] - Z[tuple(t)]) <= 2 * np.linalg.norm(X[i]) + 1e-12
    # Lipschitz constant ||X||_op of y -> Z_+(y) on real vectors (convex concentration step)
    for _ in range(20):
        u, v = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
        assert abs(relu_sup_2d(X, u) - relu_sup_2d(X, v)) <= op * np.linalg.norm(u - v) + 1e-12


def _interpolating_net(rng, n, d, k, psi):
    W = rng.standard_normal((k, d))
    X = rng.standard_normal((n, d))
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1.0)
    y = rng.choice([-1.0, 1.0], n)
    H = psi(X @ W.T)
    a = np.linalg.lstsq(H, y, rcond=None)[0]
    return X, y, W, a, H @ a


PSI = {"relu": lambda z: np.maximum(z, 0), "abs": np.abs, "linear": lambda z: z,
       "leaky_relu:0.1": lambda z: np.maximum(z, 0.1 * z), "leaky_relu:2": lambda z: np.maximum(z, 2 * z),
       "leaky_relu:3": lambda z: np.maximum(z, 3 * z)}


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 25), d=st.integers(1, 8),
       act=st.sampled_from(sorted(PSI)), delta=st.sampled_from([None, 0.5, 0.01]))
def test_proxy_of_interpolating_nets_exceeds_the_bound(seed, n, d, act, delta):
    rng = np.random.default_rng(seed)
    k = n + int(rng.integers(0, 6))
    X, y, W, a, f = _interpolating_net(rng, n, d, k, PSI[act])
    gamma = float(np.mean(y * f))
    if gamma <= 1e-6:
        return
    lip_psi = activation_properties(act).lipschitz
    proxy = lip_psi * np.linalg.norm(a) * np.linalg.norm(W, 2)
    b = spectral_bound(X, y, k, margin=gamma * (1 - 1e-9), activation=act, delta=delta)
    # deterministic form: always below the proxy
    assert float(b.quantities["deterministic"]) <= proxy * (1 + 1e-9)
    # the deterministic steps the probabilistic form rests on
    norms = np.linalg.norm(W, axis=1)
    U = W / np.where(norms > 0, norms, 1)[:, None]
    Zl = np.abs((y[:, None] * PSI[act](X @ U.T)).sum(0))           # |sum_i y_i psi(u_l . x_i)|
    assert n * gamma <= np.sum(np.abs(a) * norms * Zl) * (1 + 1e-9) + 1e-9
    assert np.sum(np.abs(a) * norms) <= np.linalg.norm(a) * math.sqrt(min(k, d)) * np.linalg.norm(W, 2) * (1 + 1e-12)
    assert np.max(Zl) <= lip_psi * math.sqrt(n) * np.linalg.norm(X, 2) * (1 + 1e-12)


def test_record_formula_against_math():
    t = bounds.get("two_layer_spectral")
    assert t.status.value == "derived" and t.norm == "l2" and "PROXY" in t.conclusion
    for n, k, d, delta in [(1000, 10, 100, 0.01), (50, 80, 20, 0.5), (10**6, 3, 3, 1e-9)]:
        ref = math.sqrt(n / min(k, d)) / (1 + math.sqrt(2 * math.log(2 / delta)))
        assert float(t.lower_bound(n=n, k=k, d=d, delta=delta)) == pytest.approx(ref, rel=1e-13)


def test_data_form_on_unit_vectors_dominates_the_n_only_form():
    # with ||x_i|| <= 1, ||X||_F <= sqrt(n): the data form is never below the n-only form
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 30)); X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = rng.choice([-1.0, 1.0], 400)
    b = bounds.get("two_layer_spectral").from_data(X, y, k=5, delta=0.05)
    n_only = bounds.get("two_layer_spectral").lower_bound(n=400, k=5, d=30, delta=0.05)
    assert b.value >= n_only
    assert b.quantities["frobenius"] >= math.sqrt(400) * (1 - 1e-15)


def test_activation_checks():
    t = bounds.get("two_layer_spectral")
    X, y = np.eye(3), np.array([1.0, -1.0, 1.0])
    for bad in ("tanh", "sigmoid", "poly:2", "swish", 3):
        with pytest.raises(ParameterError, match="activation"):
            t.from_data(X, y, k=2, activation=bad)
    assert activation_properties("leaky_relu:2").lipschitz == 2.0
    assert activation_properties("relu").nonnegative and not activation_properties("linear").nonnegative
    with pytest.raises(ParameterError, match="delta"):
        t.from_data(X, y, k=2, delta=1.0)
    with pytest.raises(ParameterError, match="margin"):
        t.from_data(X, y, k=2, margin=-1)
