"""Rigor of the scalar path: ``lower_bound`` is the rounded-down lower end of a ball enclosure.

The enclosure is computed by ``bounds._verified.arb_eval`` (python-flint balls); the reference here
is an independent evaluation of the same formula in mpmath at 80 digits, far beyond the requested
precision, so a ball that misses it, or a value above it, is a bug of the ball evaluator.
"""

from __future__ import annotations

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings

import bounds
from bounds.strategies import theorem_parameters

EVALUABLE = [t.id for t in bounds.catalog() if t.evaluable]


def _reference(t, params, dps=80):
    with mpmath.workdps(dps):
        vals = [mpmath.mpf(params.get(p.name, p.default)) for p in t.parameters]
        return t._mp_fn(*vals)


def _check(theorem_id, params, precision):
    t = bounds.get(theorem_id)
    v = t.lower_bound(precision=precision, **params)
    assert v.rigorous, f"{theorem_id}: no ball enclosure"
    lo, hi = v.enclosure
    exact = _reference(t, params)
    with mpmath.workdps(80):
        assert lo <= exact <= hi
        assert v <= lo                                 # rounded down, never up
        assert hi - lo <= abs(exact) * mpmath.mpf(10) ** (-precision - 5)
        assert exact - v <= abs(exact) * mpmath.mpf(10) ** (-precision + 1)


@pytest.mark.parametrize("theorem_id", [i for i in EVALUABLE if i != "isoperimetry"])
def test_lower_bound_is_rounded_down_from_a_ball(theorem_id):
    @settings(max_examples=25, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(theorem_parameters(theorem_id))
    def run(params):
        for precision in (15, 40):
            _check(theorem_id, params, precision)
    run()


def test_decimal_strings_are_enclosed_exactly():
    # "0.1" is not a double: the ball must contain the bound at eps = 1/10 exactly
    t = bounds.get("universal_law")
    params = dict(n=10**12, d=100, p=10**6, eps="0.1", delta="0.01", W=10, J=100)
    v = t.lower_bound(precision=30, **params)
    with mpmath.workdps(100):
        exact = t._mp_fn(*(mpmath.mpf(params.get(p.name, p.default)) for p in t.parameters))
        assert v.enclosure[0] <= exact <= v.enclosure[1]
        # the double nearest to 0.1 gives a different value, outside the 30-digit enclosure
        near = t._mp_fn(*(mpmath.mpf(float(params[p.name])) if p.name in ("eps", "delta")
                          else mpmath.mpf(params.get(p.name, p.default)) for p in t.parameters))
        assert not (v.enclosure[0] <= near <= v.enclosure[1])


@pytest.mark.parametrize("unknown, lip, params", [
    ("p", 1, dict(n=10**12, d=100, eps=0.1, delta=0.01, W=10, J=100)),
    ("n", 1, dict(p=10**6, d=100, eps=0.1, delta=0.01, W=10, J=100)),
    ("d", "0.7", dict(p=10**6, n=10**12, eps="0.1", delta=0.01, W=10, J=100)),
    ("eps", 1, dict(p=10**6, n=10**12, d=100, delta=0.01, W=10, J=100)),
])
def test_solve_is_certified_and_extreme(unknown, lip, params):
    t = bounds.get("universal_law")
    r = t.solve(unknown, lip=lip, **params)
    assert r.certified
    step = 1 if r.direction == "min" else -1
    with mpmath.workdps(80):
        L = mpmath.mpf(lip)

        def bound(v):
            full = {**params, unknown: v}
            return t._mp_fn(*(mpmath.mpf(full.get(p.name, p.default)) for p in t.parameters))

        assert bound(r.value) <= L
        past = r.value - step if t.parameter(unknown).integer else (
            r.bracket[0] if r.value == r.bracket[1] else r.bracket[1])
        if past != r.value:
            assert bound(past) > L


@pytest.mark.parametrize("offset, holds", [("7", True), ("5", False)])
def test_hypothesis_within_1e_minus_43_of_its_boundary_is_decided_in_balls(offset, holds):
    # net_nonempty: eps <= 60 W J. With W = 1/2 and J = 1/60 -/+ 1e-44 (written as a decimal),
    # 60 W J = 1/2 +/- 3e-43: a 25-digit evaluation cannot tell, the balls (raising precision) can.
    t = bounds.get("universal_law")
    J = "0.0166666666666666666666666666666666666666666" + offset   # 1/60 + 3.3e-45 or - 1.7e-44
    params = dict(n=10**12, d=100, p=10**6, eps=0.5, delta=0.01, W=0.5, J=J)
    res = {h.name: h for h in t.hypotheses(**params)}
    assert res["net_nonempty"].decided_by == "balls"
    assert res["net_nonempty"].holds is holds
    with mpmath.workdps(100):   # independent decision in exact decimal arithmetic
        assert (mpmath.mpf("0.5") <= 60 * mpmath.mpf("0.5") * mpmath.mpf(J)) is holds
