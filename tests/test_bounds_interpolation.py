"""minimal_interpolation: rigorous against exact rationals; approximate fit soundness."""

import flint
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import bounds
from bounds.errors import ParameterError
from bounds.interpolation import minimal_lipschitz, minimal_lipschitz_approx

MI = bounds.get("minimal_interpolation")


def to_fmpq(v):
    """An mpmath number (finite) as an exact rational."""
    man, exp = mpmath.mpf(v).man_exp
    if not man:
        return flint.fmpq(0)
    return flint.fmpq(man) * flint.fmpq(2) ** exp


def exact_max_ratio_sq(X, y, norm="l2"):
    """max_{i<j} |y_i - y_j|^q / ||x_i - x_j||^q in exact rationals (q = 2 for l2, 1 else).

    Returns (value, q) with value an fmpq, or None for a conflicting duplicate.
    """
    best = flint.fmpq(0)
    n = len(y)
    Q = [[flint.fmpq(*float(v).as_integer_ratio()) for v in row] for row in X]
    Y = [flint.fmpq(*float(v).as_integer_ratio()) for v in y]
    for i in range(n):
        for j in range(i):
            diffs = [a - b for a, b in zip(Q[i], Q[j])]
            dy = abs(Y[i] - Y[j])
            if norm == "l2":
                den, num = sum((t * t for t in diffs), flint.fmpq(0)), dy * dy
            elif norm == "l1":
                den, num = sum((abs(t) for t in diffs), flint.fmpq(0)), dy
            else:
                den, num = max(abs(t) for t in diffs), dy
            if den == 0:
                if num != 0:
                    return None
                continue
            best = max(best, num / den)
    return best


coords = st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-3, 3.0, 1 + 2 ** -40, 1e-300, 7.25])
labels = st.sampled_from([-1.0, 1.0, 0.0, 0.5, 1e-8, -0.75])


@settings(max_examples=60)
@given(data=st.data(), n=st.integers(1, 9), d=st.integers(1, 4),
       norm=st.sampled_from(["l2", "l1", "linf"]))
def test_exact_fit_rigorous_and_tight(data, n, d, norm):
    X = data.draw(hnp.arrays(np.float64, (n, d), elements=coords | st.floats(-10, 10)))
    y = data.draw(hnp.arrays(np.float64, (n,), elements=labels))
    r = minimal_lipschitz(X, y, norm=norm, chunk=data.draw(st.integers(1, 4)))
    exact = exact_max_ratio_sq(X, y, norm)
    if exact is None:
        assert r.value == mpmath.inf and r.quantities["conflict"] is not None
        return
    v = to_fmpq(r.value)
    if norm == "l2":
        assert v * v <= exact                                       # rounded down: sound
        assert flint.arb(v * v) >= flint.arb(exact) * (1 - flint.arb(2) ** -48)   # tight
    else:
        assert v <= exact
        assert flint.arb(v) >= flint.arb(exact) * (1 - flint.arb(2) ** -49)
    assert float(r) <= r.value


def test_random_data_against_float_brute_force_and_pair():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(150, 5)), rng.choice([-1.0, 1.0], 150)
    r = MI.from_data(X, y)
    i, j = r.quantities["pair"]
    assert np.isclose(abs(y[i] - y[j]) / np.linalg.norm(X[i] - X[j]), float(r), rtol=1e-14)
    brute = max(abs(y[a] - y[b]) / np.linalg.norm(X[a] - X[b])
                for a in range(150) for b in range(a))
    assert np.isclose(float(r), brute, rtol=1e-14)
    assert r.rigorous and r.quantities["ratio_lower"] <= r.value <= r.quantities["ratio_upper"]


def test_duplicates_and_trivial_cases():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
    assert MI.from_data(X, np.array([1.0, 1.0, -1.0])).value < mpmath.inf   # same label: fine
    assert MI.from_data(X, np.array([1.0, -1.0, 1.0])).value == mpmath.inf  # conflict: +inf
    assert MI.from_data(X[:1], np.array([1.0])).value == 0
    assert MI.from_data(X, np.zeros(3)).value == 0
    # near-duplicates (difference underflows when squared) are certified, not dropped
    Xt = np.array([[0.0], [1e-300]])
    r = MI.from_data(Xt, np.array([0.0, 1.0]))
    assert r.value > mpmath.mpf(10) ** 299 and r.value < mpmath.inf


@pytest.mark.parametrize("X,y,param", [
    (np.zeros((3,)), np.zeros(3), "X"), (np.zeros((3, 2)), np.zeros(2), "y"),
    (np.array([[np.nan, 0.0]]), np.zeros(1), "X"), (np.zeros((2, 1)), np.array([0, np.inf]), "y"),
    (np.zeros((0, 2)), np.zeros(0), "X"), ([["a"]], [1.0], "X"),
])
def test_bad_data_raises(X, y, param):
    with pytest.raises(ParameterError) as exc:
        MI.from_data(X, y)
    assert exc.value.parameter == param


def test_bad_options_raise():
    X, y = np.zeros((2, 1)), np.zeros(2)
    with pytest.raises(ParameterError, match="norm"):
        MI.from_data(X, y, norm="l3")
    with pytest.raises(ParameterError, match="tau"):
        MI.from_data(X, y, tau=-1)
    with pytest.raises(ParameterError, match="max_points"):
        minimal_lipschitz_approx(np.zeros((5, 1)), np.zeros(5), 0.1, max_points=4)


def test_pair_form_of_the_record():
    assert MI.lower_bound(dy=2, dx="0.5") == 4
    with pytest.raises(ParameterError, match="'dx'"):
        MI.lower_bound(dy=2, dx=0)


def _exact_lipschitz_of_values(X, z, norm):
    return exact_max_ratio_sq(X, z, norm)


@pytest.mark.parametrize("seed,norm", [(0, "l2"), (1, "l1"), (2, "linf")])
def test_approximate_fit_certificate_is_sound_and_tight(seed, norm):
    rng = np.random.default_rng(seed)
    n, d = 25, 2
    X, y = rng.normal(size=(n, d)), rng.choice([-1.0, 1.0], n)
    exact_sq = exact_max_ratio_sq(X, y, norm)
    for tau in (0.0, 0.05, 0.3):
        r = MI.from_data(X, y, tau=tau, norm=norm)
        assert r.rigorous and r.quantities["status"] == "optimal"
        v = to_fmpq(r.value)
        # sound: below the Lipschitz constant of a feasible fit (the exact interpolant for
        # tau = 0; the solver's z shrunk towards y until it is exactly feasible otherwise)
        z = r.quantities["z"]
        if tau == 0:
            feasible = exact_sq
        else:
            for shrink in (1.0, 0.999, 0.99, 0.9):
                zz = y + shrink * (z - y)
                # exact MSE of the (float) fitted values zz
                mse = sum((flint.fmpq(*float(a).as_integer_ratio())
                           - flint.fmpq(*float(b).as_integer_ratio())) ** 2
                          for a, b in zip(zz, y)) / n
                if mse <= flint.fmpq(*float(tau).as_integer_ratio()):
                    break
            feasible = _exact_lipschitz_of_values(X, zz, norm)
        lhs = v * v if norm == "l2" else v
        assert lhs <= feasible
        # tight: close to the solver's objective
        assert float(r) == pytest.approx(r.quantities["solver_value"], rel=1e-4, abs=1e-7)
    # a budget above the label variance lets a constant fit: the certificate gives ~0
    big = MI.from_data(X, y, tau=2.0, norm=norm)
    assert big.value <= 1e-6
