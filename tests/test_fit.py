"""Fitters: they fit (MSE ~ 0, margins >= 1), count parameters honestly, and the cap construction's
derived Lipschitz bounds hold."""

import math

import numpy as np
import pytest

from bounds.data import gaussian, random_signs, sphere
from bounds.errors import ParameterError
from certify import lipschitz
from certify.harness.fit import cap_construction, fit_quality, margin_fit, random_features


def _independent_quality(net, X, y):
    W, b, a = net.as_two_layer()
    f = np.maximum(X @ W.T + b, 0) @ a if net.activations[0].name == "relu" else None
    return f


@pytest.mark.parametrize("n,d,k", [(10, 3, 25), (30, 5, 60), (50, 2, 120)])
def test_random_features_interpolates(n, d, k):
    X, y = sphere(n, d, seed=n), random_signs(n, seed=d)
    fit = random_features(X, y, k, seed=1)
    f = _independent_quality(fit.network, X, y)
    assert np.max(np.abs(f - y)) < 1e-7
    assert fit.success and fit.max_residual < 1e-7 and fit.train_mse < 1e-14
    assert fit.n_params == k * d + k + k + 1            # W, b, a, and the (zero) output bias
    assert fit.n_trained == k
    assert fit.network.biases[1][0] == 0.0


def test_random_features_underparametrized_is_least_squares():
    n, d, k = 40, 3, 10
    X, y = gaussian(n, d, seed=0), random_signs(n, seed=1)
    fit = random_features(X, y, k, seed=2)
    assert not fit.success
    W, b, _ = fit.network.as_two_layer()
    Phi = np.maximum(X @ W.T + b, 0)
    # the least-squares residual is orthogonal to the feature space
    f = fit.network(X)[:, 0]
    assert np.max(np.abs(Phi.T @ (f - y))) < 1e-9 * n
    assert fit.train_mse <= np.mean(y ** 2)


def test_random_features_other_activation_and_seed():
    X, y = sphere(20, 4, seed=0), random_signs(20, seed=1)
    f1 = random_features(X, y, 30, activation="tanh", seed=5)
    f2 = random_features(X, y, 30, activation="tanh", seed=5)
    assert f1.network == f2.network and f1.success
    assert f1.network.activations[0].name == "tanh"


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic"])
def test_margin_fit_reaches_margin(loss):
    n, d, k = 40, 10, 20
    X, y = sphere(n, d, seed=3), random_signs(n, seed=4)
    fit = margin_fit(X, y, k, margin=1.0, seed=0, loss=loss)
    W, b, a = fit.network.as_two_layer()
    margins = y * (np.maximum(X @ W.T + b, 0) @ a)
    assert fit.success and np.min(margins) >= 1.0
    assert math.isclose(fit.min_margin, np.min(margins), rel_tol=1e-12)
    assert fit.n_params == k * d + 2 * k + 1


def test_margin_fit_reports_failure_honestly():
    # opposite labels on the same point: no network has both margins >= 1
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0, 1.0])
    fit = margin_fit(X, y, 4, seed=0, max_iter=50, restarts=1)
    assert not fit.success and fit.min_margin < 1.0 and "margin" in fit.message


def test_cap_construction_fits_and_counts():
    n, d = 25, 4
    X, y = sphere(n, d, r=2.0, seed=5), random_signs(n, seed=6)
    fit = cap_construction(X, y)
    assert fit.success and fit.max_residual < 1e-10
    assert fit.network.widths == (d, 2 * n, 1)
    assert fit.n_params == 2 * n * (d + 2) + 1


def test_cap_construction_lipschitz_derivation():
    """The derived bounds: 2 max|y| / ((1-t) r) on the sphere, ||X||_op ||y|| / ((1-t) r^2)
    globally -- against sampled difference quotients on the sphere and the certified constant."""
    n, d, r = 12, 3, 1.5
    X, y = sphere(n, d, r=r, seed=7), random_signs(n, seed=8)
    fit = cap_construction(X, y)
    net = fit.network
    t = fit.details["t"]
    assert math.isclose(fit.details["lipschitz_sphere_upper"], 2 / ((1 - t) * r), rel_tol=1e-12)
    P = sphere(4000, d, r=r, seed=9)
    f = net(P)[:, 0]
    i, j = np.triu_indices(len(P), 1)
    sel = np.random.default_rng(0).choice(len(i), 200000, replace=False)
    q = np.abs(f[i[sel]] - f[j[sel]]) / np.linalg.norm(P[i[sel]] - P[j[sel]], axis=1)
    assert q.max() <= fit.details["lipschitz_sphere_upper"]
    cert = lipschitz(net, method="naive")
    assert cert.lower <= fit.details["lipschitz_global_upper"]
    # the global bound also dominates every difference quotient off the sphere
    Q = gaussian(4000, d, seed=10) * 3
    g = net(Q)[:, 0]
    q2 = np.abs(g[:-1] - g[1:]) / np.linalg.norm(Q[:-1] - Q[1:], axis=1)
    assert q2.max() <= fit.details["lipschitz_global_upper"]


def test_cap_construction_bad_input():
    X = sphere(5, 3, seed=0)
    with pytest.raises(ParameterError):
        cap_construction(X * np.array([[1.0], [1.0], [1.0], [1.0], [2.0]]), np.ones(5))
    with pytest.raises(ParameterError):
        cap_construction(np.vstack([X, X[:1]]), np.ones(6))
    with pytest.raises(ParameterError):
        cap_construction(X, np.ones(5), t=1.0)


def test_fit_quality_and_errors():
    X, y = sphere(10, 3, seed=0), random_signs(10, seed=1)
    fit = random_features(X, y, 5, seed=0)
    q = fit_quality(fit.network, X, y)
    f = fit.network(X)[:, 0]
    assert q["train_mse"] == pytest.approx(np.mean((f - y) ** 2), rel=1e-15)
    with pytest.raises(ParameterError):
        random_features(X, y, 0)
    with pytest.raises(ParameterError):
        margin_fit(X, y, 3, margin=-1)
    with pytest.raises(ValueError):
        random_features(X, y[:5], 5)
