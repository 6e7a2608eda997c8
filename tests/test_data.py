"""Data models: samplers' distributions, exact sigma^2 against Monte Carlo, parameters, errors."""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

import bounds
from bounds.data import (DataModel, Labels, Measure, Noise, cube, gaussian, mixture,
                         random_signs, random_signs_labels, sphere, symmetric_noise,
                         target_plus_noise)
from bounds.errors import ParameterError

Z = 5.0  # z-score tolerance of the Monte Carlo checks (two-sided p ~ 6e-7 per check)


# -- samplers -------------------------------------------------------------------------------

@pytest.mark.parametrize("r", [0.5, 1.0, 3.0])
def test_sphere_norms(r):
    X = sphere(500, 7, r=r, seed=1)
    assert X.shape == (500, 7)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), r, rtol=1e-14)


def test_sphere_is_rotation_invariant_in_distribution():
    # E x = 0 and E x x^T = r^2 I / d for the uniform measure on the sphere
    n, d = 40000, 4
    X = sphere(n, d, seed=2)
    assert np.all(np.abs(X.mean(axis=0)) < Z * math.sqrt(1 / d / n))
    cov = X.T @ X / n
    # Var(x_1^2) = E x_1^4 - 1/d^2 = 3/(d(d+2)) - 1/d^2 on the unit sphere
    se = math.sqrt((3 / (d * (d + 2)) - 1 / d ** 2) / n)
    assert np.all(np.abs(np.diag(cov) - 1 / d) < Z * se)


def test_gaussian_moments():
    n, d = 40000, 5
    X = gaussian(n, d, seed=3)
    sq = np.sum(X ** 2, axis=1)           # d * ||x||^2 ~ chi^2_d: mean 1, variance 2/d
    assert abs(sq.mean() - 1) < Z * math.sqrt(2 / d / n)
    assert np.all(np.abs(X.mean(axis=0)) < Z * math.sqrt(1 / d / n))
    cov = X.T @ X / n
    off = cov[~np.eye(d, dtype=bool)]
    assert np.all(np.abs(off) < Z / d / math.sqrt(n))


def test_cube_diameter_and_uniformity():
    n, d = 20000, 4
    X = cube(n, d, seed=4)
    h = 0.5 / math.sqrt(d)
    assert np.all(np.abs(X) <= h)
    # opposite corners are at distance exactly 1
    assert math.isclose(np.linalg.norm(np.full(d, 2 * h)), 1.0, rel_tol=1e-15)
    # uniform on [-h, h]: variance h^2/3 per coordinate, Var(x^2) = h^4 (1/5 - 1/9)
    v = (X ** 2).mean(axis=0)
    assert np.all(np.abs(v - h ** 2 / 3) < Z * math.sqrt(h ** 4 * (1 / 5 - 1 / 9) / n))
    # the sample reaches close to the faces
    assert np.all(X.max(axis=0) > 0.99 * h) and np.all(X.min(axis=0) < -0.99 * h)


def test_seeds_reproduce_and_differ():
    assert np.array_equal(sphere(5, 3, seed=7), sphere(5, 3, seed=7))
    assert not np.array_equal(sphere(5, 3, seed=7), sphere(5, 3, seed=8))
    rng = np.random.default_rng(0)
    assert sphere(5, 3, seed=rng).shape == (5, 3)
    assert set(np.unique(random_signs(200, seed=1))) == {-1.0, 1.0}


def test_mixture_frequencies_and_components():
    comps = [Measure.sphere(3).shifted([5, 0, 0]), Measure.cube(3).shifted([-5, 0, 0])]
    X, which = mixture(comps, [0.3, 0.7], 10000, seed=5, return_components=True)
    p0 = np.mean(which == 0)
    assert abs(p0 - 0.3) < Z * math.sqrt(0.3 * 0.7 / 10000)
    np.testing.assert_allclose(np.linalg.norm(X[which == 0] - [5, 0, 0], axis=1), 1.0, rtol=1e-12)
    assert np.all(np.abs(X[which == 1] - [-5, 0, 0]) <= 0.5 / math.sqrt(3) + 1e-15)


def test_mixture_accepts_callables_and_checks_dimensions():
    X = mixture([lambda m, rng: np.zeros((m, 2)), lambda m, rng: np.ones((m, 2))], [0.5, 0.5], 50, seed=0)
    assert set(np.unique(X)) <= {0.0, 1.0}
    with pytest.raises(ParameterError):
        mixture([lambda m, rng: np.zeros((m, 2)), lambda m, rng: np.ones((m, 3))], [0.5, 0.5], 50, seed=0)
    with pytest.raises(ParameterError):
        mixture([Measure.cube(2)], [0.5], 10)


@pytest.mark.parametrize("call", [
    lambda: sphere(0, 3), lambda: sphere(3, 0), lambda: sphere(3, 2, r=-1.0),
    lambda: gaussian(2.5, 3), lambda: cube(3, True), lambda: random_signs(-1),
])
def test_sampler_bad_input(call):
    with pytest.raises(ParameterError):
        call()


# -- labels and sigma^2 ----------------------------------------------------------------------

def test_symmetric_noise_variance_exact():
    assert symmetric_noise(Fraction(1, 2), Fraction(3, 10)).variance == Fraction(3, 40)
    assert symmetric_noise(1, 1).variance == 1
    # floats are converted exactly: 0.1 is not 1/10
    assert symmetric_noise(0.5, 0.1).variance == Fraction(1, 4) * Fraction(0.1)


@pytest.mark.parametrize("s,q", [(Fraction(1, 2), Fraction(3, 10)), (Fraction(1, 4), Fraction(1)),
                                 (Fraction(3, 4), Fraction(1, 8))])
def test_sigma2_exact_matches_monte_carlo(s, q):
    """E Var(y|x) estimated two ways: pooled squared deviations from the target, and repeated
    labels at fixed inputs (the within-x sample variance), both within a CLT interval."""
    labels = target_plus_noise(lambda X: (1 - s) * np.tanh(X[:, 0] + X[:, 1]), symmetric_noise(s, q),
                               float(1 - s))
    model = DataModel(Measure.gaussian(3), labels)
    sigma2 = float(model.sigma2)
    assert model.sigma2 == s ** 2 * q
    n = 100000
    X, y = model.sample(n, seed=11)
    dev2 = (y - labels.target(X)) ** 2
    assert abs(dev2.mean() - sigma2) < Z * dev2.std() / math.sqrt(n)
    # repeated labels at 200 fixed inputs, 400 draws each: mean of within-x unbiased variances
    Xf = np.repeat(X[:200], 400, axis=0)
    yf = labels.sample(Xf, seed=12).reshape(200, 400)
    within = yf.var(axis=1, ddof=1)
    assert abs(within.mean() - sigma2) < Z * within.std() / math.sqrt(200) + 1e-12


def test_random_signs_labels():
    lab = random_signs_labels()
    assert lab.sigma2 == 1
    y = lab.sample(np.zeros((1000, 2)), seed=0)
    assert set(np.unique(y)) == {-1.0, 1.0}


def test_label_models_refuse_leaving_the_unit_interval():
    with pytest.raises(ParameterError):
        target_plus_noise(lambda X: X[:, 0], symmetric_noise(0.5, 1), 0.6)   # 0.6 + 0.5 > 1
    lab = target_plus_noise(lambda X: 2 * X[:, 0], symmetric_noise(0.5, 1), 0.5)
    with pytest.raises(ParameterError, match="target"):
        lab.sample(np.array([[1.0, 0.0]]), seed=0)                           # |target| = 2 > 0.5
    with pytest.raises(ParameterError):
        Noise((1, 0), (Fraction(1, 2), Fraction(1, 2)))                        # mean 1/2, not 0
    with pytest.raises(ParameterError):
        Noise((1, -1), (0.5, 0.6))
    with pytest.raises(ParameterError):
        symmetric_noise(0.5, 0)
    with pytest.raises(ParameterError):
        Labels(symmetric_noise(1, 1), None, 0.5)


# -- the model's theorem parameters -----------------------------------------------------------

def test_isoperimetry_constants_and_support():
    m = DataModel(Measure.sphere(10, r=2))
    assert m.c == sympy.Rational(40, 9)                       # r^2 d/(d-1)
    assert DataModel(Measure.gaussian(4)).c == 1
    assert DataModel(Measure.cube(4)).c == 1 / (2 * sympy.pi)
    mix = Measure.mixture([Measure.cube(3).shifted([1, 1, 1]), Measure.sphere(3)])
    assert mix.K == 2 and mix.c == sympy.Rational(3, 2)
    assert math.isclose(mix.radius, 0.5 + math.sqrt(3), rel_tol=1e-15) and mix.radius >= 0.5 + math.sqrt(3)
    lo, hi = mix.support_box()
    pts = mix.sample_inputs(2000, seed=0)
    assert np.all(pts >= lo) and np.all(pts <= hi)
    assert np.all(np.linalg.norm(pts, axis=1) <= mix.radius)
    with pytest.raises(ParameterError):
        Measure.gaussian(3).support_box()
    assert math.isinf(Measure.gaussian(3).radius)
    with pytest.raises(ParameterError):
        Measure.sphere(1).c                                     # two points: not isoperimetric


def test_mixture_diameter_bounds_sample_distances():
    mix = Measure.mixture([Measure.sphere(2).shifted([3, 0]), Measure.cube(2)], [0.5, 0.5])
    X = mix.sample_inputs(400, seed=1)
    dist = np.linalg.norm(X[:, None] - X[None], axis=-1)
    assert dist.max() <= mix.diameter
    assert dist.max() > 0.9 * (3 + 1 + 0.5)                    # and it is not absurdly loose


def test_theorem_parameters_respect_meanings():
    m = DataModel(Measure.sphere(6), target_plus_noise(None, symmetric_noise(0.5, 0.5), 0.0))
    full = m.theorem_parameters()
    assert full["sigma2"] == 0.125 and full["K"] == 1 and full["R"] >= 1 and full["D"] == 2.0
    deep = m.theorem_parameters(bounds.get("deep_networks"))
    assert "D" not in deep and deep["R"] >= 1                  # D is the depth there
    assert m.theorem_parameters(bounds.get("bounded_support"))["D"] == 2.0
    law = m.theorem_parameters(bounds.get("universal_law"))
    assert set(law) == {"d", "c", "K"}
    v = bounds.get("universal_law").lower_bound(n=10 ** 7, p=100, eps=0.5, delta=0.1, W=10, J=10, **law)
    assert v > 0
