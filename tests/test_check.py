"""The theorem checker: verdicts on constructed instances, instance parameters, counterexample files."""

import dataclasses
import math

import mpmath
import numpy as np
import pytest
import sympy

import bounds
from bounds.data import DataModel, Measure, target_plus_noise, symmetric_noise
from bounds.errors import NotEvaluableError, ParameterError
from bounds.params import positive
from bounds.theorem import Citation, Status, Theorem
from certify import Network, lipschitz
from certify.harness.check import check, load_counterexample, mse_upper, output_enclosure
from certify.harness.fit import random_features

SPHERE2 = DataModel(Measure.sphere(2))


def _two_point_floor() -> Theorem:
    """A true deterministic statement: f(x_1) = y_1, f(x_2) = y_2 forces Lip(f) >= gap/dist."""
    gap, dist = positive("gap", "|y_1 - y_2|"), positive("dist", "||x_1 - x_2||")
    return Theorem(
        id="two_point_floor", title="two-point Lipschitz floor",
        citation=Citation("test", "test", "test", 2024), status=Status.DERIVED,
        parameters=(gap, dist), expr=gap.symbol / dist.symbol,
        conclusion="every f with f(x_i) = y_i has Lip(f) >= |y_1 - y_2| / ||x_1 - x_2||")


def _identity_net():
    # relu(x) - relu(-x) = x on R: Lipschitz constant exactly 1
    return Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])], None, "relu")


def _half(certifier=lipschitz):
    def unsound(net, **kw):
        cert = certifier(net, **kw)
        return dataclasses.replace(cert, upper=0.5 * cert.upper, lower=0.5 * cert.lower)
    return unsound


# -- verdicts ------------------------------------------------------------------------------------

def test_consistent_on_tight_deterministic_instance():
    X, y = np.array([[-1.0], [1.0]]), np.array([-1.0, 1.0])
    res = check(_two_point_floor(), X, y, _identity_net(), gap=2, dist=2)
    assert res.verdict == "consistent" and not res.probabilistic and res.delta is None
    assert res.ratio == pytest.approx(1.0, rel=1e-9)      # the exact certifier meets the floor
    assert res.upper >= 1.0


def test_unsound_certifier_is_caught_as_violation(tmp_path):
    X, y = np.array([[-1.0], [1.0]]), np.array([-1.0, 1.0])
    th = _two_point_floor()
    res = check(th, X, y, _identity_net(), certifier=_half(), gap=2, dist=2, seed=123)
    assert res.verdict == "violated" and not res.probabilistic
    assert res.upper == pytest.approx(0.5) and float(res.bound) == 1.0
    assert any("DETERMINISTIC" in n for n in res.notes)
    # the counterexample file reproduces the instance and the verdict
    path = tmp_path / "cex.npz"
    res.save(path)
    back = load_counterexample(path)
    assert np.array_equal(back["X"], X) and np.array_equal(back["y"], y)
    assert back["network"] == _identity_net()
    assert back["meta"]["verdict"] == "violated" and back["meta"]["seed"] == 123
    again = check(th, back["X"], back["y"], back["network"], certifier=_half(), **back["params"])
    assert again.verdict == "violated"


def test_consistent_on_honest_fit_with_catalogue_entry():
    X, y = SPHERE2.sample(30, seed=0)
    fit = random_features(X, y, 60, seed=1)
    res = check("any_model", X, y, fit, model=SPHERE2, eps=0.9, delta=0.9)
    assert res.verdict == "consistent" and res.probabilistic
    assert res.delta == pytest.approx(1.8)                # the statement holds w.p. 1 - 2 delta
    assert res.ratio >= 1 and res.upper >= float(res.bound)
    lo, hi = res.domain                                  # Lip on the support: a box around S^1
    assert np.all(lo <= -1) and np.all(hi >= 1)
    assert res.sources == {"n": "instance", "d": "instance", "R": "model", "eps": "user", "delta": "user"}
    # the certified upper bound dominates the network's slope between data points
    f = fit.network(X)[:, 0]
    q = np.abs(f[:, None] - f[None]) / (np.linalg.norm(X[:, None] - X[None], axis=-1) + np.eye(30))
    assert q.max() <= res.upper


def test_probabilistic_violation_is_flagged_with_delta():
    X, y = SPHERE2.sample(30, seed=0)
    fit = random_features(X, y, 60, seed=1)

    def tiny(net, **kw):
        cert = lipschitz(net, method="naive", **kw)
        return dataclasses.replace(cert, upper=1e-9 * cert.upper, lower=0.0)

    res = check("any_model", X, y, fit, model=SPHERE2, eps=0.9, delta=0.9, certifier=tiny)
    assert res.verdict == "violated" and res.probabilistic and res.delta == pytest.approx(1.8)
    assert any("probabilistic" in n for n in res.notes)
    assert "delta" in str(res)


def test_not_applicable_when_sample_too_small():
    X, y = SPHERE2.sample(12, seed=0)
    fit = random_features(X, y, 24, seed=1)
    res = check("universal_law", X, y, fit, model=SPHERE2, eps=0.5, delta=0.1)
    assert res.verdict == "not_applicable" and [h.name for h in res.failed] == ["sample_size"]
    assert res.certificate is None and res.bound is None


def test_not_applicable_when_fit_is_not_good_enough():
    X, y = SPHERE2.sample(30, seed=0)
    zero = Network.from_arrays([np.ones((3, 2)), np.zeros((1, 3))], None, "relu")
    res = check("any_model", X, y, zero, model=SPHERE2, eps=0.5, delta=0.5)
    assert res.verdict == "not_applicable"
    (h,) = res.failed
    assert h.name == "fit_level" and float(h.lhs) == pytest.approx(1.0) and float(h.rhs) == 0.5


def test_not_applicable_for_unbounded_support_and_infinite_class():
    g = DataModel(Measure.gaussian(3))
    X, y = g.sample(20, seed=0)
    fit = random_features(X, y, 40, seed=0)
    res = check("universal_law", X, y, fit, model=g, eps=0.5, delta=0.1)
    assert res.verdict == "not_applicable" and "bounded_support" in [h.name for h in res.failed]
    res = check("finite_class", X, y, fit, model=g, eps=0.5, delta=0.1)
    assert res.verdict == "not_applicable" and "class_is_finite" in [h.name for h in res.failed]
    assert str(res).startswith("finite_class: not_applicable: hypotheses fail: class_is_finite (F finite")


def test_bad_requests_raise():
    X, y = SPHERE2.sample(10, seed=0)
    fit = random_features(X, y, 20, seed=0)
    with pytest.raises(ParameterError, match="eps"):
        check("any_model", X, y, fit, model=SPHERE2, delta=0.1)
    with pytest.raises(ParameterError, match="sigma2"):
        check("any_model", X, y, fit, R=1, eps=0.5, delta=0.1)
    with pytest.raises(NotEvaluableError):
        check("two_layer_conjecture", X, y, fit)
    with pytest.raises(ValueError):
        check("any_model", X[:, :1], y, fit, model=SPHERE2, eps=0.5, delta=0.1)


# -- instance parameters -------------------------------------------------------------------------

def test_universal_law_class_quantities():
    """p, the class diameter 2 W_max sqrt(p) and J = sqrt(D (1 + R^2)) (W_max sqrt(2p))^(D-1), by hand."""
    d, k = 5, 16
    m = DataModel(Measure.sphere(d, r=2.0))
    X, y = m.sample(12, seed=0)
    fit = random_features(X, y, k, seed=1)
    net = fit.network
    res = check("universal_law", X, y, net, model=m, eps=0.5, delta=0.1)
    p = d * k + k + k + 1
    wmax_net = max(np.max(np.abs(a)) for a in net.weights + net.biases)
    wmax = max(1.0, 2.0 ** math.ceil(math.log2(wmax_net)))
    assert res.params["p"] == p
    assert float(res.params["W"]) == pytest.approx(2 * wmax * math.sqrt(p), rel=1e-14)
    # the repaired J of docs/proofs/deep_networks.md (D = 2, Q = 1, R = 2)
    J = math.sqrt(2 * (1 + 2.0**2)) * wmax * math.sqrt(2 * p)
    assert float(res.params["J"]) == pytest.approx(J, rel=1e-12)
    assert res.params["c"] == sympy.Rational(4 * 5, 4)      # r^2 d/(d-1)
    # a fixed class: weight_bound is used, and refused when the network is outside it
    res2 = check("universal_law", X, y, net, model=m, eps=0.5, delta=0.1, weight_bound=64)
    assert float(res2.params["W"]) == pytest.approx(2 * 64 * math.sqrt(p), rel=1e-14)
    res3 = check("universal_law", X, y, net, model=m, eps=0.5, delta=0.1, weight_bound=wmax_net / 2)
    assert "weights_in_class" in [h.name for h in res3.failed]


def test_deep_network_parameters():
    m = DataModel(Measure.cube(3))
    X, y = m.sample(10, seed=0)
    net = random_features(X, y, 8, seed=0).network
    res = check("deep_networks", X, y, net, model=m, eps=0.5, delta=0.1)
    assert res.params["D"] == 2 and res.params["R"] >= 0.5 and res.params["p"] == net.n_params
    # the B(w) <= Bbar subclass is 'unproved' (docs/errata.md): refused like a conjecture
    with pytest.raises(NotEvaluableError):
        check("deep_networks_bbar", X, y, net, model=m, eps=0.5, delta=0.1)


def test_fit_level_uses_rigorous_mse():
    X, y = SPHERE2.sample(40, seed=3)
    net = random_features(X, y, 10, seed=0).network
    f = net(X)[:, 0]
    mse = float(np.mean((f - y) ** 2))
    up = mse_upper(net, X, y)
    assert mse <= up <= mse * (1 + 1e-10)
    assert np.all(output_enclosure(net, X, chunk_entries=7).contains(net(X)))


def test_noise_level_from_exact_sigma2():
    lab = target_plus_noise(None, symmetric_noise(0.5, 1), 0.0)      # sigma^2 = 1/4
    m = DataModel(Measure.sphere(2), lab)
    X, y = m.sample(30, seed=0)
    fit = random_features(X, y, 60, seed=1)
    res = check("any_model", X, y, fit, model=m, eps=0.2, delta=0.9)
    (h,) = [h for h in res.hypotheses if h.name == "fit_level"]
    assert h.rhs == mpmath.mpf(1) / 4 - mpmath.mpf(0.2)


# -- data-dependent (deterministic) catalogue entries ------------------------------------------------

X2, Y2 = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0])
# f(x) = relu(x_1) - relu(-x_1) = x_1 fits exactly with Lipschitz constant exactly 1, which is both
# the minimal interpolation constant and the projection bound m sqrt(n+ n- / ky_fan) = 2 sqrt(1/4)
X1NET = Network.from_arrays([np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, -1.0]])], None, "relu")


@pytest.mark.parametrize("theorem_id", ["minimal_interpolation", "two_layer_projection"])
def test_deterministic_entries_tight_instance(theorem_id):
    res = check(theorem_id, X2, Y2, X1NET)
    assert res.verdict == "consistent" and not res.probabilistic
    assert float(res.bound) == pytest.approx(1.0, rel=1e-9) and res.ratio == pytest.approx(1.0, rel=1e-6)
    bad = check(theorem_id, X2, Y2, X1NET, certifier=_half())
    assert bad.verdict == "violated" and not bad.probabilistic and bad.delta is None


def test_polynomial_entry_on_unit_ball():
    # f = x_1^2 - x_2^2 interpolates e_1 -> 1, e_2 -> -1; bound 2 on the unit ball, and the
    # certification box [-1, 1]^2 (a superset) has Lip = max ||(2 x_1, -2 x_2)|| = 2 sqrt 2
    net = Network.from_arrays([np.eye(2), np.array([[1.0, -1.0]])], None, "poly:2")
    X, y = np.eye(2), np.array([1.0, -1.0])
    res = check("polynomial_activation", X, y, net)
    assert res.verdict == "consistent" and float(res.bound) == pytest.approx(2.0, rel=1e-9)
    assert res.upper >= 2 * math.sqrt(2) * (1 - 1e-9)
    lo, hi = res.domain
    assert np.all(lo <= -1) and np.all(hi >= 1)
    assert check("polynomial_activation", X, y, net, certifier=_half()).verdict == "violated"
    relu = Network.from_arrays([np.eye(2), np.array([[1.0, -1.0]])], None, "relu")
    assert check("polynomial_activation", X, y, relu).verdict == "not_applicable"


def test_spectral_proxy_entry():
    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    net = Network.from_arrays([W, np.array([[1.0, -1.0]])], None, "relu")   # relu(x1) - relu(x2)
    X, y = np.eye(2), np.array([1.0, -1.0])
    res = check("two_layer_spectral", X, y, net)
    assert res.quantity == "spectral_proxy" and res.verdict == "consistent"
    # proxy = Lip(relu) ||a||_2 ||W||_op = sqrt 2, certified from above
    assert math.sqrt(2) <= res.upper <= math.sqrt(2) * (1 + 1e-12)
    assert res.upper >= float(res.bound)
    biased = Network.from_arrays([W, np.array([[1.0, -1.0]])], [np.array([0.1, 0.0]), None], "relu")
    assert check("two_layer_spectral", X, y, biased).verdict == "not_applicable"
    assert check("two_layer_spectral", X, np.array([1.0, 0.5]), net).verdict == "not_applicable"


def test_undercomplete_entry_scales_by_certified_gap():
    m = DataModel(Measure.sphere(4))
    X, y = m.sample(8, seed=1000)
    fit = random_features(X, y, 12, seed=2000)
    res = check("two_layer_undercomplete", X, y, fit, model=m, delta=0.1)
    full = bounds.get("two_layer_undercomplete").lower_bound(n=8, d=4, k=12, delta=0.1)
    f = fit.network(X)[:, 0]
    gap = f[y > 0].mean() - f[y < 0].mean()
    assert res.verdict == "consistent" and res.probabilistic
    assert float(res.bound) <= float(full) * min(1, gap / 2) * (1 + 1e-12)
    assert float(res.bound) >= float(full) * min(1, gap / 2) * (1 - 1e-9)
    m2 = DataModel(Measure.sphere(4, r=2))
    X, y = m2.sample(8, seed=1)
    res = check("two_layer_undercomplete", X, y, random_features(X, y, 12, seed=0), model=m2, delta=0.1)
    assert res.verdict == "not_applicable" and res.failed[0].name == "sphere_random_signs"


# -- soundness cross-check on random instances ---------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from bounds.strategies import two_layer_networks  # noqa: E402
from certify.model.network import two_layer  # noqa: E402


@settings(derandomize=True, max_examples=12, deadline=None)
@given(two_layer_networks(st.integers(1, 3), st.integers(1, 4), max_weight=2.0),
       st.integers(2, 6), st.integers(0, 2 ** 31))
def test_deterministic_floor_never_violated_by_honest_certifier(weights, n, seed):
    """Labels produced by the network itself: the minimal-interpolation floor (SOCP with a rigorous
    MSE budget) can never exceed the exact certified constant of a network that fits them."""
    W, a, b = weights
    net = two_layer(W, a, b)
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, W.shape[1]))
    y = net(X)[:, 0]
    res = check("minimal_interpolation", X, y, net)
    assert res.verdict == "consistent" and res.upper >= float(res.bound)


def test_proxy_entry_without_adapter_is_refused():
    th = dataclasses.replace(_two_point_floor(), quantity=r"\|a\|_2")
    X, y = np.array([[-1.0], [1.0]]), np.array([-1.0, 1.0])
    with pytest.raises(ValueError, match="not Lip"):
        check(th, X, y, _identity_net(), gap=2, dist=2)
