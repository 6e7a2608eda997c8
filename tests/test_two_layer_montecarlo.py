"""Monte Carlo failure rates of the probabilistic two-layer statements against their delta.

Each statement says "with probability >= 1 - delta, <event>". We sample the data model, decide the
event exactly (or conservatively: counting as a failure every case the event is not *proved*), and
check that the 99% Clopper-Pearson interval of the failure rate lies below delta (its upper end is
<= delta). The numbers are recorded in docs/proofs/two_layer_spectral.md and
docs/proofs/two_layer_undercomplete.md; ``python -m tests.test_two_layer_montecarlo`` prints them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta

import bounds
from tests.test_two_layer_spectral import relu_sup_2d

CONFIDENCE = 0.99


def clopper_pearson(failures: int, trials: int, confidence: float = CONFIDENCE):
    """Two-sided Clopper-Pearson interval for a binomial proportion."""
    a = 1 - confidence
    lo = 0.0 if failures == 0 else float(beta.ppf(a / 2, failures, trials - failures + 1))
    hi = 1.0 if failures == trials else float(beta.ppf(1 - a / 2, failures + 1, trials - failures))
    return lo, hi


def _sphere(rng, n, d):
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def spectral_failure_rates(trials=2000, n=40, d=5, delta=0.5, seed=0):
    """Failure rates of the Z thresholds behind ``two_layer_spectral`` (linear psi: Z = ||sum y_i x_i||;
    ReLU in the plane: Z exact by arc enumeration)."""
    rng = np.random.default_rng(seed)
    out = {}
    fail_n = fail_data = 0
    for _ in range(trials):
        X = _sphere(rng, n, d)
        y = rng.choice([-1.0, 1.0], n)
        Z = np.linalg.norm(y @ X)
        fro, op = np.linalg.norm(X), np.linalg.norm(X, 2)
        L = math.sqrt(2 * math.log(2 / delta))
        fail_n += Z > math.sqrt(n) * (1 + L)
        fail_data += Z > fro + min(fro, 2 * op) * L
    out["linear, sqrt(n) threshold"] = (fail_n, trials)
    out["linear, data threshold"] = (fail_data, trials)
    fail_relu = 0
    n2 = 30
    for _ in range(trials // 4):
        X = _sphere(rng, n2, 2)
        y = rng.choice([-1.0, 1.0], n2)
        Z = max(relu_sup_2d(X, y), relu_sup_2d(X, -y))
        fro, op = np.linalg.norm(X), np.linalg.norm(X, 2)
        fail_relu += Z > fro + min(fro, 2 * op) * math.sqrt(2 * math.log(2 / delta))
    out["relu d=2, data threshold"] = (fail_relu, trials // 4)
    return out


def undercomplete_failure_rates(trials=2000, n=30, d=30, ks=(1, 3), delta=0.5, seed=1):
    """Rate at which the projection bound on the sample is below the ``two_layer_undercomplete`` value
    (an upper estimate of the corollary's failure rate)."""
    rng = np.random.default_rng(seed)
    t = bounds.get("two_layer_undercomplete")
    out = {}
    B = {k: float(t.lower_bound(n=n, d=d, k=k, delta=delta)) for k in ks}
    fails = {k: 0 for k in ks}
    for _ in range(trials):
        X = _sphere(rng, n, d)
        y = rng.choice([-1.0, 1.0], n)
        Xp, Xm = X[y > 0], X[y < 0]
        n_p, n_m = len(Xp), len(Xm)
        if n_p == 0 or n_m == 0:
            for k in ks:
                fails[k] += 1
            continue
        dp, dm = Xp - Xp.mean(0), Xm - Xm.mean(0)
        dmu = Xp.mean(0) - Xm.mean(0)
        M = n_m * dp.T @ dp + n_p * dm.T @ dm + n_p * n_m * np.outer(dmu, dmu)
        lam = np.sort(np.linalg.eigvalsh(M))[::-1]
        for k in ks:
            proj = 2 * math.sqrt(n_p * n_m / lam[:min(k, d)].sum())
            fails[k] += proj < B[k]
    for k in ks:
        out[f"sphere n={n} d={d} k={k}, bound {B[k]:.3f}"] = (fails[k], trials)
    return out


@pytest.mark.slow
def test_spectral_failure_rate_below_delta():
    delta = 0.5
    for name, (f, N) in spectral_failure_rates(delta=delta).items():
        lo, hi = clopper_pearson(f, N)
        assert hi <= delta, (name, f, N, lo, hi)


@pytest.mark.slow
def test_undercomplete_failure_rate_below_delta():
    delta = 0.5
    for name, (f, N) in undercomplete_failure_rates(delta=delta).items():
        lo, hi = clopper_pearson(f, N)
        assert hi <= delta, (name, f, N, lo, hi)


def test_clopper_pearson_reference_values():
    # 0 failures in N: upper end solves (1 - p)^N = alpha/2
    lo, hi = clopper_pearson(0, 1000)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.005 ** (1 / 1000), rel=1e-9)
    lo, hi = clopper_pearson(50, 100)
    assert lo < 0.5 < hi and hi - 0.5 == pytest.approx(0.5 - lo, rel=1e-9)


if __name__ == "__main__":  # pragma: no cover
    for name, (f, N) in {**spectral_failure_rates(), **undercomplete_failure_rates()}.items():
        lo, hi = clopper_pearson(f, N)
        print(f"{name}: {f}/{N} failures, {CONFIDENCE:.0%} Clopper-Pearson [{lo:.4g}, {hi:.4g}]")
