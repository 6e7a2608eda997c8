"""bounds.predictions reproduces theorems.md section 7 from p ~ n d."""

import math

import mpmath

import pytest

import bounds
from bounds.errors import ParameterError


def test_rows_reproduce_the_papers_orders_of_magnitude():
    t = bounds.predictions()
    rows = {r.data: r for r in t.rows}
    # MNIST: n = 6e4, d_eff 15..150 -> 9e5..9e6, i.e. "1e6 to 1e7"
    assert rows["MNIST"].p_low == 6e4 * 15 and rows["MNIST"].p_high == 6e4 * 150
    assert rows["MNIST"].order_of_magnitude == (6, 7)
    # ImageNet: n = 1.4e7, d_eff 1e3..1e4 -> "1e10 to 1e11"
    assert rows["ImageNet"].order_of_magnitude == (10, 11)
    md = t.to_markdown()
    assert "| MNIST |" in md and "| ImageNet |" in md and "log factor" in md


def test_log_factor_and_explicit_theorem3_column():
    t = bounds.predictions(log_factor=10)
    assert t.rows[0].p_low == pytest.approx(6e4 * 15 / 10)
    e = bounds.predictions(explicit=dict(lip=1e-3, eps=0.9, delta=0.01, W=10, J=10))
    for r in e.rows:
        lo, hi = r.theorem3["low"], r.theorem3["high"]
        assert lo.direction == "min" and lo.value < hi.value
        law = bounds.get("universal_law")
        v = law.lower_bound(n=int(r.n), d=int(r.d_eff_low), p=int(lo.value), eps=0.9,
                            delta=0.01, W=10, J=10, check=False)
        assert v <= 1e-3
    # independently: Theorem 3 solved for p by hand, p_min = ceil((n d (eps / (2^9 lip))^2
    # - log(4/delta)) / log(60 W J / eps)), and p_min - 1 parameters must violate the target
    with mpmath.workdps(50):
        for r in e.rows:
            for key, d in (("low", r.d_eff_low), ("high", r.d_eff_high)):
                n, eps, lip = mpmath.mpf(r.n), mpmath.mpf(0.9), mpmath.mpf(1e-3)
                net_term = n * d * (eps / (2 ** 9 * lip)) ** 2 - mpmath.log(4 / mpmath.mpf(0.01))
                p_min = mpmath.ceil(net_term / mpmath.log(60 * 10 * 10 / eps))
                assert r.theorem3[key].value == p_min
                above = law.lower_bound(n=int(r.n), d=int(d), p=int(p_min) - 1, eps=0.9,
                                        delta=0.01, W=10, J=10, check=False)
                assert above > 1e-3
    assert "Theorem 3" in e.to_markdown()
    for bad in (0, -1, math.nan, "x", True):
        with pytest.raises(ParameterError):
            bounds.predictions(log_factor=bad)
