"""bounded_support and any_model (derived): hand formulas and the derivation's relations."""

import mpmath
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds.isoperimetry import constant

BS = bounds.get("bounded_support")
AM = bounds.get("any_model")
UL = bounds.get("universal_law")
RTOL = mpmath.mpf("1e-12")

probs = st.floats(-6, -0.0001).map(lambda e: 10 ** e)
log_int = lambda lo, hi: st.floats(lo, hi).map(lambda e: max(1, int(round(10 ** e))))  # noqa: E731
log_real = lambda lo, hi: st.floats(lo, hi).map(lambda e: 10 ** e)  # noqa: E731


@settings(max_examples=40)
@given(n=log_int(0, 12), d=log_int(0, 5), p=log_int(0, 15), D=log_real(-3, 3), eps=probs,
       delta=probs, W=log_real(0, 4), J=log_real(0, 4))
def test_bounded_support_is_universal_law_with_hoeffding_constant(n, d, p, D, eps, delta, W, J):
    got = BS.lower_bound(n=n, p=p, D=D, eps=eps, delta=delta, W=W, J=J, precision=50,
                         check=False)
    with mpmath.workdps(60):
        n_, p_, D_, eps_, delta_, W_, J_ = map(mpmath.mpf, (n, p, D, eps, delta, W, J))
        hand = eps_ / (256 * D_) * mpmath.sqrt(n_ / (p_ * mpmath.log(60 * W_ * J_ / eps_)
                                                    + mpmath.log(4 / delta_)))
    assert abs(got - hand) / hand < RTOL
    via = UL.lower_bound(n=n, d=d, p=p, eps=eps, delta=delta, W=W, J=J, precision=50,
                         c=constant("bounded", d=d, D=D), check=False)
    assert abs(got - via) / hand < RTOL
    assert got.within_hypotheses == via.within_hypotheses


@settings(max_examples=40)
@given(n=log_int(0, 12), d=st.integers(1, 2000), R=log_real(-3, 3), eps=probs, delta=probs)
def test_any_model_matches_hand_formula(n, d, R, eps, delta):
    got = AM.lower_bound(n=n, d=d, R=R, eps=eps, delta=delta, precision=50, check=False)
    with mpmath.workdps(60):
        n_, d_, R_, eps_, delta_ = map(mpmath.mpf, (n, d, R, eps, delta))
        hand = eps_ / (8 * R_) * ((eps_ * n_ / 4) ** (1 / d_) - 1)
        ok = (mpmath.sqrt(8 * mpmath.log(1 / delta_) / n_)
              + mpmath.sqrt(mpmath.log(1 / delta_) / (2 * n_))) <= eps_ / 4
    if hand != 0:
        assert abs(got - hand) / abs(hand) < RTOL
    assert got.within_hypotheses == ok


def test_any_model_vectorized_agrees():
    rng = np.random.default_rng(3)
    m = 200
    g = dict(n=np.round(10 ** rng.uniform(4, 12, m)), d=rng.integers(1, 50, m).astype(float),
             R=10 ** rng.uniform(-2, 2, m), eps=rng.uniform(0.05, 0.95, m),
             delta=10 ** rng.uniform(-6, -1, m))
    out = AM.evaluate(**g)
    assert out.count() > 50
    for i in np.flatnonzero(~out.mask):
        with mpmath.workdps(30):
            want = AM.lower_bound(**{k: float(v[i]) if k not in ("n", "d") else int(v[i])
                                     for k, v in g.items()})
        assert abs(out.data[i] - want) <= 1e-12 * abs(want) + 1e-300


def test_any_model_covering_constant_relation():
    """The proof's radius r = 2R/((eps n/4)^(1/d) - 1) gives eps/(4r) = the record's bound (issue 12)."""
    n, d, R, eps = 10 ** 8, 3, 2, mpmath.mpf("0.5")
    r = 2 * R / ((eps * n / 4) ** (mpmath.mpf(1) / d) - 1)
    # covering count of the proof: (1 + 2R/r)^d = eps n / 4 exactly
    assert mpmath.almosteq((1 + 2 * R / r) ** d, eps * n / 4)
    v = AM.lower_bound(n=n, d=d, R=R, eps=eps, delta=0.01)
    assert mpmath.almosteq(eps / (4 * r), v)
