"""The sqrt(n/k) experiment: slope statistics, certified margins, soundness of the floor, figure."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy import stats

from bounds.errors import ParameterError
from certify.harness.experiment import (ExperimentPoint, ExperimentResult, certified_margin,
                                        fit_slope, slope_range, sqrt_nk_experiment)
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


def test_fit_slope_with_groups_is_least_squares_with_one_intercept_per_group():
    rng = np.random.default_rng(1)
    x = np.array([1, 2, 4, 8, 1, 2, 4, 1, 2, 1.0])
    groups = [2, 2, 2, 2, 64, 64, 64, 256, 256, 512]
    y = np.exp(rng.standard_normal(x.size)) * x ** 0.3 * np.array([1, 1, 1, 1, 9, 9, 9, 50, 50, 7])
    f = fit_slope(x, y, groups=groups)
    # independent reference: ordinary least squares with indicator columns, covariance s^2 (A'A)^-1
    names = sorted(set(groups))
    A = np.column_stack([np.log(x)] + [[g == h for g in groups] for h in names]).astype(float)
    coef, rss, rank, _ = np.linalg.lstsq(A, np.log(y), rcond=None)
    dof = x.size - rank
    se = math.sqrt(rss[0] / dof * np.linalg.inv(A.T @ A)[0, 0])
    assert f.slope == pytest.approx(coef[0], abs=1e-12) and f.stderr == pytest.approx(se, rel=1e-9)
    half = stats.t.ppf(0.975, dof) * se
    assert (f.ci_low, f.ci_high) == pytest.approx((coef[0] - half, coef[0] + half), abs=1e-9)
    assert f.intercepts == pytest.approx(dict(zip(names, coef[1:])), abs=1e-9)
    # a balanced design (same x in every group) gives the pooled slope
    xb = np.tile([1.0, 2.0, 4.0], 3)
    yb = np.exp(rng.standard_normal(9))
    assert fit_slope(xb, yb, groups=[1, 1, 1, 2, 2, 2, 3, 3, 3]).slope == pytest.approx(
        fit_slope(xb, yb).slope, abs=1e-12)
    with pytest.raises(ParameterError):
        fit_slope([1, 1, 2, 2], [1, 2, 3, 4], groups=[1, 2, 3, 4])   # x constant within groups
    with pytest.raises(ParameterError):
        fit_slope([1, 2, 1], [1, 2, 3], groups=[1, 1, 2])   # no residual freedom
    with pytest.raises(ParameterError):
        fit_slope([1, 2, 4], [1, 2, 3], groups=[1, 1])


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
    if res.slope is not None:
        # all enclosures closed at k <= d: the three slopes agree
        assert res.slope_lower.slope == pytest.approx(res.slope.slope, abs=1e-6)
        assert res.slope_range[0] <= res.slope.slope + 1e-9 and res.slope.slope - 1e-9 <= res.slope_range[1]


@pytest.mark.parametrize("kw, name", [
    (dict(ks=(0,)), "ks"), (dict(ks=(2.5,)), "ks"), (dict(ks=()), "ks"), (dict(ks=(True,)), "ks"),
    (dict(d=0), "d"), (dict(ratios=(0,)), "ratios"), (dict(ratios=()), "ratios"),
    (dict(ratios={2: (1,)}), "ratios"), (dict(ratios={2: (1,), 3: (1,), 5: (1,)}), "ratios"),
    (dict(ratios={2: (1,), 3: (-1,)}), "ratios[3]"), (dict(seeds=(-1,)), "seeds"),
    (dict(time_limit=0), "time_limit"), (dict(time_limit={2: 1.0, 3: math.inf}), "time_limit[3]"),
    (dict(max_iter={2: 10, 3: 0}), "max_iter[3]"), (dict(restarts=-1), "restarts"),
    (dict(fits_per_sample=0), "fits_per_sample"), (dict(confidence=1.0), "confidence")])
def test_experiment_bad_input_names_the_parameter(kw, name):
    args = dict(d=4, ks=(2, 3), ratios=(1,), seeds=(0,))
    with pytest.raises(ParameterError) as err:
        sqrt_nk_experiment(**{**args, **kw})
    assert err.value.parameter == name


def test_experiment_unknown_activation():
    with pytest.raises(ValueError):
        sqrt_nk_experiment(d=4, ks=(2,), activation="nonsense")


def test_widths_above_d_and_per_width_grids():
    # k = 12 > d = 3: allowed (it used to be refused); each width runs its own grid
    res = sqrt_nk_experiment(d=3, ks=(2, 12), ratios={2: (1, 2), 12: (1,)}, seeds={2: (0,), 12: (1,)},
                             max_iter=200, time_limit={2: 5.0, 12: 2.0})
    assert [(p.k, p.n, p.seed) for p in res.points] == [(2, 2, 0), (2, 4, 0), (12, 12, 1)]
    assert res.config["grid"][12]["time_limit"] == 2.0 and res.config["grid"][2]["ratios"] == (1.0, 2.0)
    wide = res.points[-1]
    assert wide.k > wide.d and wide.lower <= wide.upper and 0 <= wide.gap < 1
    assert wide.upper_method and wide.lower_method   # auto names the stage behind each end
    assert "k in [12]: n/k in [1], seeds [1]" in res.summary()
    assert "k=12:" in res.gap_description()
    table = res.to_table()
    assert [c.key for c in table.columns][5:8] == ["lower", "upper", "gap"]
    assert any("upper envelope" in n for n in table.notes)
    csv = table.to_csv().splitlines()
    gap_col = csv[0].split(",").index("gap")
    assert float(csv[-1].split(",")[gap_col]) == pytest.approx(wide.gap, rel=1e-12, abs=1e-300)


def _point(n, k, lower, upper, seed=0):
    return ExperimentPoint(n=n, k=k, d=4, seed=seed, ratio=n / k, fit_success=True, margin=1.0,
                           lower=lower, upper=upper, method="auto", exact=lower == upper,
                           projection=0.5, proxy=upper, seconds=0.0)


def test_summary_shows_each_open_enclosure_and_its_gap_rounded_outward():
    pts = [_point(2, 2, 3.0, 3.0), _point(4, 2, 4.0, 4.0), _point(64, 64, 2.0, 3.00001),
           _point(128, 64, 1.23456, 4.56789), _point(2, 2, 5.0, 5.0, seed=1)]
    res = ExperimentResult(pts, None, None, {"d": 4, "grid": {}}, 0.0)
    text = res.gap_description()
    assert "k=2: all 3 enclosures closed" in text
    # lower ends rounded down, upper ends up, gaps (33.3%, 73.0%) rounded up
    assert "n=64 seed 0: [2.0, 3.001] gap 33.4%" in text
    assert "n=128 seed 0: [1.234, 4.568] gap 73.0%" in text
    assert "k=64: 0 of 2 enclosures closed, the open ones with gap median 53.2%, max 73.0%" in text
    assert pts[3].gap == pytest.approx((4.56789 - 1.23456) / 4.56789)
    assert math.isnan(_point(2, 2, math.nan, 1.0).gap)


@given(st.lists(st.tuples(st.floats(0.1, 10), st.floats(0.1, 10), st.floats(1.0, 3.0)),
                min_size=2, max_size=7), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_slope_range_is_the_range_over_the_enclosures(rows, rnd):
    x = np.array([r[0] for r in rows])
    assume(np.ptp(np.log(x)) > 1e-3)
    lo = np.array([r[1] for r in rows])
    hi = lo * np.array([r[2] for r in rows])
    bottom, top = slope_range(x, lo, hi)
    # independent reference: the slope of every vertex of the box (np.polyfit on the logs)
    vertex = [np.polyfit(np.log(x), np.log(np.where(bits, hi, lo)), 1)[0]
              for bits in itertools.product([False, True], repeat=len(x))]
    assert bottom == pytest.approx(min(vertex), abs=1e-9) and top == pytest.approx(max(vertex), abs=1e-9)
    inside = np.exp(np.log(lo) + np.array([rnd.random() for _ in x]) * np.log(hi / lo))
    s = np.polyfit(np.log(x), np.log(inside), 1)[0]
    assert bottom - 1e-9 <= s <= top + 1e-9
    # with groups: the range of fit_slope(..., groups) over the same vertices
    groups = [i % 2 for i in range(len(x))]
    try:
        gb, gt = slope_range(x, lo, hi, groups=groups)
    except ParameterError:
        return   # x constant within both groups
    gv = []
    for bits in itertools.product([False, True], repeat=len(x)):
        try:
            gv.append(fit_slope(x, np.where(bits, hi, lo), groups=groups).slope)
        except ParameterError:
            return   # too few points for a fit's degrees of freedom
    assert gb == pytest.approx(min(gv), abs=1e-9) and gt == pytest.approx(max(gv), abs=1e-9)


def test_slope_range_errors():
    with pytest.raises(ParameterError):
        slope_range([1.0], [1.0], [1.0])
    with pytest.raises(ParameterError):
        slope_range([1.0, 2.0], [2.0, 1.0], [1.0, 2.0])
    with pytest.raises(ParameterError):
        slope_range([2.0, 2.0], [1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ParameterError):
        slope_range([1.0, 2.0], [0.0, 1.0], [1.0, 2.0])


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
