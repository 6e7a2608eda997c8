"""Isoperimetry constants (derived) and the isoperimetry record."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds.errors import NotEvaluableError, ParameterError
from bounds.isoperimetry import NotIsoperimetricError, constant, tail_bound


@settings(max_examples=30)
@given(d=st.integers(2, 10 ** 6), r=st.fractions(min_value="1/1000", max_value=1000))
def test_constants_exact_values(d, r):
    assert constant("gaussian", d=d) == 1
    assert constant("cube", d=d) == 1 / (2 * sympy.pi)
    assert constant("sphere", d=d, r=r) == sympy.Rational(r.numerator, r.denominator) ** 2 \
        * sympy.Rational(d, d - 1)
    assert constant("bounded", d=d, D=r) == d * sympy.Rational(r.numerator, r.denominator) ** 2 / 4


def test_float_inputs_are_taken_exactly():
    assert constant("sphere", d=3, r=0.1) == sympy.Rational(0.1) ** 2 * sympy.Rational(3, 2)
    assert float(constant("cube", d=5)) == pytest.approx(1 / (2 * np.pi), rel=1e-15)


@pytest.mark.parametrize("name", ["discrete_cube", "hypercube", "boolean", "Hypercube"])
def test_discrete_cube_is_refused_with_explanation(name):
    with pytest.raises(NotIsoperimetricError, match="not O\\(1\\)-isoperimetric") as exc:
        constant(name, d=10)
    assert isinstance(exc.value, ValueError) and exc.value.parameter == "measure"


def test_bad_inputs():
    with pytest.raises(NotIsoperimetricError, match="unknown measure"):
        constant("torus", d=3)
    with pytest.raises(ParameterError, match="'d'"):
        constant("sphere", d=1)
    with pytest.raises(ParameterError, match="'d'"):
        constant("gaussian", d=0)
    with pytest.raises(ParameterError, match="'D'"):
        constant("bounded", d=3)
    with pytest.raises(ParameterError, match="'r'"):
        constant("sphere", d=3, r=-1)
    with pytest.raises(ParameterError):
        constant(3, d=3)


def _empirical_tail(values, t):
    return np.mean(np.abs(values - values.mean()) >= t)


@pytest.mark.parametrize("measure", ["gaussian", "sphere", "cube", "bounded"])
def test_tail_bound_dominates_monte_carlo_for_lipschitz_test_functions(measure):
    """Sanity check of the derived constants on 1-Lipschitz test functions.

    The linear function u.x (and, for the cube, the distance to a corner) must have empirical
    tails below 2 exp(-d t^2 / (2c)) up to sampling error.
    """
    rng = np.random.default_rng(7)
    d, m = 20, 40000
    if measure == "gaussian":
        X = rng.normal(size=(m, d)) / np.sqrt(d)
    elif measure == "sphere":
        X = rng.normal(size=(m, d))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    elif measure == "cube":
        X = rng.uniform(-0.5, 0.5, size=(m, d)) / np.sqrt(d)
    else:
        X = rng.choice([-0.5, 0.5], size=(m, d)) / np.sqrt(d)    # diameter D = 1
    c = float(constant(measure, d=d, D=1) if measure == "bounded" else constant(measure, d=d))
    u = np.ones(d) / np.sqrt(d)
    tests = [X @ u, X[:, 0]]
    if measure == "cube":
        tests.append(np.linalg.norm(X - 0.5 / np.sqrt(d), axis=1))
    for f in tests:
        for t in np.linspace(0.02, 0.6, 15):
            bound = 2 * np.exp(-d * t ** 2 / (2 * c))
            assert _empirical_tail(f, t) <= bound + 4 * np.sqrt(bound / m) + 5 / m


def test_isoperimetry_record_refuses_lipschitz_evaluation_and_gives_tail():
    rec = bounds.get("isoperimetry")
    for call in (lambda: rec.lower_bound(d=3, c=1, t=1, L=1),
                 lambda: rec.evaluate(d=3, c=1, t=1, L=1),
                 lambda: rec.solve("t", lip=1, d=3, c=1, L=1)):
        with pytest.raises(NotEvaluableError, match="Lipschitz lower bound"):
            call()
    with mpmath.workdps(50):
        want = 2 * mpmath.exp(-mpmath.mpf(100) * mpmath.mpf("0.3") ** 2 / (2 * mpmath.mpf(2) * 4))
    got = tail_bound(d=100, c=2, t="0.3", L=2, precision=50)
    assert abs(got - want) / want < mpmath.mpf(10) ** -45
    assert rec.latex().startswith(r"\mathbb{P}")
    with pytest.raises(ParameterError, match="'t'"):
        tail_bound(d=3, c=1, t=-1, L=1)
