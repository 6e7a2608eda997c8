"""Failure-rate statistics: Clopper-Pearson intervals, known failure rates, theorem trials."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.stats import binom

from bounds.data import DataModel, Measure
from bounds.errors import ParameterError
from certify import lipschitz
from certify.harness.statistics import TrialOutcome, clopper_pearson, failure_rate

CUBE1 = DataModel(Measure.cube(1))


def _p_sum_above(n, t):
    """P(sum of n random signs > t), exactly."""
    return sum(math.comb(n, j) for j in range(n + 1) if 2 * j - n > t) / 2 ** n


def test_clopper_pearson_closed_forms():
    n, a = 50, 0.05
    assert clopper_pearson(0, n, 0.95) == (0.0, pytest.approx(1 - (a / 2) ** (1 / n), rel=1e-10))
    lo, hi = clopper_pearson(n, n, 0.95)
    assert hi == 1.0 and lo == pytest.approx((a / 2) ** (1 / n), rel=1e-10)
    # definition: at the ends, the binomial tail probabilities equal a/2
    k = 7
    lo, hi = clopper_pearson(k, n, 0.95)
    assert binom.sf(k - 1, n, lo) == pytest.approx(a / 2, rel=1e-8)
    assert binom.cdf(k, n, hi) == pytest.approx(a / 2, rel=1e-8)
    with pytest.raises(ParameterError):
        clopper_pearson(3, 2)
    with pytest.raises(ParameterError):
        clopper_pearson(1, 2, confidence=1.0)


def test_known_failure_rate_consistent_and_violated():
    n, t = 10, 4
    p = _p_sum_above(n, t)                                     # 56/1024
    stmt = lambda X, y, seed: bool(y.sum() > t)               # noqa: E731
    ok = failure_rate(stmt, CUBE1, n_trials=600, seed=1, n=n, delta=0.1)
    assert ok.verdict == "consistent"
    assert ok.ci[0] <= p <= ok.ci[1]
    assert ok.n_applicable == 600 and ok.rate == ok.n_failures / 600
    bad = failure_rate(stmt, CUBE1, n_trials=600, seed=1, n=n, delta=0.01)
    assert bad.verdict == "violated" and bad.ci[0] > 0.01
    # the same seed gives the same trials
    again = failure_rate(stmt, CUBE1, n_trials=600, seed=1, n=n, delta=0.1)
    assert again.n_failures == ok.n_failures and again.seeds == ok.seeds


def test_interval_coverage_over_repetitions():
    """The 90% interval covers the true rate in about 90% (at least) of 200 repetitions."""
    p = _p_sum_above(6, 2)                                     # 7/64
    covered = 0
    for s in range(200):
        r = failure_rate(lambda X, y, seed: bool(y.sum() > 2), CUBE1, n_trials=40, seed=s, n=6,
                         delta=0.5, confidence=0.9)
        covered += r.ci[0] <= p <= r.ci[1]
    # Clopper-Pearson is conservative: coverage >= 90%; 200 Bernoulli(0.9) trials stay above 0.82
    assert covered / 200 >= 0.82


def test_ratios_and_inapplicable_trials():
    def stmt(X, y, seed):
        if y[0] < 0:
            return TrialOutcome(False, applicable=False)
        return TrialOutcome(False, observed=2.0 + abs(y.sum()), bound=1.0)
    r = failure_rate(stmt, CUBE1, n_trials=200, seed=0, n=4, delta=0.05)
    assert 60 < r.n_applicable < 140 and r.n_failures == 0 and r.verdict == "consistent"
    assert r.ratio_quantiles[0.05] >= 2.0 and r.ratio_median in (2.0, 4.0)
    assert len(r.ratios) == r.n_applicable
    none = failure_rate(lambda X, y, s: TrialOutcome(False, applicable=False), CUBE1, 5, n=2, delta=0.1)
    assert none.verdict == "not_applicable"


def test_theorem_trials_and_unsound_certifier():
    model = DataModel(Measure.sphere(3))
    # n = 600 >= 567 makes any_model's sample-size hypothesis hold at eps = 0.9, delta = 0.1
    opts = dict(eps=0.9, delta=0.1, certifier_options={"method": "naive"})
    r = failure_rate("any_model", model, n_trials=3, seed=0, n=600, **opts)
    assert r.n_applicable == 3 and r.verdict == "consistent" and r.n_failures == 0
    assert r.delta == pytest.approx(0.2)                       # 1 - 2 delta statement
    assert np.all(r.ratios >= 1)

    def tiny(net, **kw):
        cert = lipschitz(net, **kw)
        return dataclasses.replace(cert, upper=1e-12 * cert.upper, lower=0.0)

    bad = failure_rate("any_model", model, n_trials=3, seed=0, n=600, certifier=tiny, **opts)
    # 3 failures out of 3: the 95% Clopper-Pearson lower end 0.025^(1/3) = 0.29 exceeds 0.2
    assert bad.n_applicable == 3 and bad.n_failures == 3 and bad.verdict == "violated"
    assert bad.failures()[0].detail.verdict == "violated"


def test_bad_arguments():
    with pytest.raises(ParameterError):
        failure_rate(lambda X, y, s: False, CUBE1, n_trials=0, n=2, delta=0.1)
    with pytest.raises(ParameterError):
        failure_rate(lambda X, y, s: False, CUBE1, n_trials=3, n=2)
    with pytest.raises(ParameterError):
        failure_rate(lambda X, y, s: "yes", CUBE1, n_trials=3, n=2, delta=0.1)
