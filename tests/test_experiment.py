"""The sqrt(n/k) experiment: slope statistics, certified margins, soundness of the floor, figure."""

import math

import numpy as np
import pytest
from scipy import stats

from bounds.errors import ParameterError
from certify.harness.experiment import certified_margin, fit_slope, sqrt_nk_experiment
from certify.model.network import two_layer


def test_fit_slope_recovers_exponent_and_ci_coverage():
    rng = np.random.default_rng(0)
    x = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 4)
    covered = 0
    for _ in range(200):
        y = 3.0 * x ** 0.5 * np.exp(0.2 * rng.standard_normal(x.size))
        covered += fit_slope(x, y).contains(0.5)
    # a 95% t-interval covers the true slope in about 95% of repetitions
    lo, hi = stats.binom.ppf([0.001, 0.999], 200, 0.95)
    assert lo <= covered <= hi


def test_fit_slope_exact_power_law_and_errors():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    f = fit_slope(x, 5 * x ** -1.5)
    assert f.slope == pytest.approx(-1.5, abs=1e-12) and f.ci_high - f.ci_low < 1e-9
    with pytest.raises(ParameterError):
        fit_slope([1, 2], [1, 2])
    with pytest.raises(ParameterError):
        fit_slope([1, 2, 3], [1, -2, 3])
    with pytest.raises(ParameterError):
        fit_slope([2, 2, 2], [1, 2, 3])
    with pytest.raises(ParameterError):
        fit_slope(x, x, confidence=1.0)


def test_certified_margin_is_a_lower_bound():
    # f(x) = relu(x1) - relu(-x1) = x1; margins y_i x_i1 computed by hand
    net = two_layer(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0]))
    X = np.array([[0.5, 3.0], [-2.0, 1.0], [0.1, 0.0]])
    y = np.array([1.0, -1.0, 1.0])
    m = certified_margin(net, X, y)
    assert m <= 0.1 and m >= 0.1 * (1 - 1e-12)


def test_small_experiment_is_sound_and_plots(tmp_path):
    res = sqrt_nk_experiment(d=8, ks=(2,), ratios=(1, 2, 4), seeds=(0,), max_iter=200)
    assert len(res.points) == 3
    for p in res.usable:
        assert p.margin >= 1.0
        assert p.lower <= p.upper
        # the rigorous floor never exceeds the certified constant
        assert math.isnan(p.projection) or p.projection <= p.upper
        # ||a|| ||W||_op bounds Lip for activations with slopes in [0, 1] (float, so a tolerance)
        assert p.proxy >= p.lower * (1 - 1e-9)
    assert res.floor_respected()
    paths = res.plot(tmp_path / "fig")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert "slope" in res.summary() or res.slope is None
    assert len(res.to_table().rows) == 3


def test_experiment_bad_input():
    with pytest.raises(ParameterError):
        sqrt_nk_experiment(d=4, ks=(8,))
    with pytest.raises(ParameterError):
        sqrt_nk_experiment(d=4, ks=(2,), ratios=(0,))
    with pytest.raises(ValueError):
        sqrt_nk_experiment(d=4, ks=(2,), activation="nonsense")


def test_best_of_several_fits_never_worse():
    kw = dict(d=8, ks=(2,), ratios=(2, 4), seeds=(0,), max_iter=200)
    one = sqrt_nk_experiment(**kw)
    two = sqrt_nk_experiment(**kw, fits_per_sample=2)
    assert [p.fits for p in two.points] == [2, 2]
    for a, b in zip(one.points, two.points):
        if a.usable:
            # the first of the two fits is the single fit, so the kept constant cannot be larger
            assert b.usable and b.upper <= a.upper
    with pytest.raises(ParameterError):
        sqrt_nk_experiment(**kw, fits_per_sample=0)
