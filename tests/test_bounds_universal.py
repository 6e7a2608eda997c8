"""universal_law, finite_class, deep_networks: values against hand-written mpmath formulas.

The reference formulas are typed again here from theorems.md (sections 2-4); they never use
the records' SymPy expressions.
"""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds.errors import HypothesisError, NotEvaluableError, ParameterError, UnknownParameterError
from bounds.universal import deep_network_parameters, failure_probability

UL = bounds.get("universal_law")
FC = bounds.get("finite_class")
DN = bounds.get("deep_networks")
DNB = bounds.get("deep_networks_bbar")
DPS = 50
RTOL = mpmath.mpf("1e-12")


# -- hand formulas (mpmath, at the caller's precision) ------------------------
def ref_universal(n, d, p, eps, delta, W, J, c=1):
    n, d, p, eps, delta, W, J, c = map(mpmath.mpf, (n, d, p, eps, delta, W, J, c))
    return eps / (512 * mpmath.sqrt(c)) * mpmath.sqrt(
        n * d / (p * mpmath.log(60 * W * J / eps) + mpmath.log(4 / delta)))


def ref_universal_ok(n, eps, delta, W, J, K=1):
    n, eps, delta, W, J = map(mpmath.mpf, (n, eps, delta, W, J))
    return 4096 * K * mpmath.log(8 * K / delta) <= n * eps ** 2 and eps <= 60 * W * J


def ref_J_deep(p, D, W, R, Q=1):
    """The repaired parameter-Lipschitz constant (docs/proofs/deep_networks.md)."""
    W, R, p, Q = map(mpmath.mpf, (W, R, p, Q))
    return mpmath.sqrt(Q * D * (1 + R ** 2)) * (W * mpmath.sqrt(2 * Q * p)) ** (D - 1)


def ref_deep(n, d, p, D, W, R, eps, delta, c=1, Q=1):
    return ref_universal(n, d, p, eps, delta, 2 * mpmath.mpf(W) * mpmath.sqrt(p),
                         ref_J_deep(p, D, W, R, Q), c)


def ref_finite(n, d, eps, delta, logF, c=1):
    n, d, eps, delta, logF, c = map(mpmath.mpf, (n, d, eps, delta, logF, c))
    return eps / (64 * mpmath.sqrt(c)) * mpmath.sqrt(n * d / (logF + mpmath.log(4 / delta)))


def ref_failure(n, d, K, c, eps, L, logF):
    n, d, K, c, eps, L, logF = map(mpmath.mpf, (n, d, K, c, eps, L, logF))
    return (4 * K * mpmath.exp(-n * eps ** 2 / (8 ** 3 * K))
            + 2 * mpmath.exp(logF - eps ** 2 * n * d / (8 ** 4 * c * L ** 2)))


def rel(a, b):
    return abs(mpmath.mpf(a) - b) / abs(b)


# -- strategies: parameters over many orders of magnitude ---------------------
def log_int(lo, hi):
    return st.floats(lo, hi).map(lambda e: max(1, int(round(10 ** e))))


def log_real(lo, hi):
    return st.floats(lo, hi).map(lambda e: 10 ** e)


probs = st.floats(-6, -0.0001).map(lambda e: 10 ** e)


@settings(max_examples=60)
@given(n=log_int(0, 12), d=log_int(0, 5), p=log_int(0, 15), eps=probs, delta=probs,
       W=log_real(-3, 6), J=log_real(-3, 6), c=log_real(-2, 3))
def test_universal_matches_hand_formula(n, d, p, eps, delta, W, J, c):
    got = UL.lower_bound(n=n, d=d, p=p, eps=eps, delta=delta, W=W, J=J, c=c,
                         precision=DPS, check=False)
    with mpmath.workdps(DPS + 10):
        ok = ref_universal_ok(n, eps, delta, W, J)
        if mpmath.mpf(60) * W * J >= eps:  # the formula is real-valued there
            want = ref_universal(n, d, p, eps, delta, W, J, c)
            with mpmath.workdps(DPS):
                assert rel(got, want) < RTOL
    assert got.within_hypotheses == ok


@settings(max_examples=40)
@given(n=log_int(0, 12), d=log_int(0, 5), eps=probs, delta=probs, logF=log_real(-3, 15),
       c=log_real(-2, 3))
def test_finite_class_matches_hand_formula(n, d, eps, delta, logF, c):
    got = FC.lower_bound(n=n, d=d, eps=eps, delta=delta, logF=logF, c=c, precision=DPS,
                         check=False)
    with mpmath.workdps(DPS + 10):
        want = ref_finite(n, d, eps, delta, logF, c)
        ok = 512 * mpmath.log(8 / mpmath.mpf(delta)) <= n * mpmath.mpf(eps) ** 2
    assert rel(got, want) < RTOL
    assert got.within_hypotheses == ok


@settings(max_examples=40)
@given(n=log_int(3, 12), d=log_int(0, 4), eps=probs, delta=probs, logF=log_real(-3, 12),
       c=log_real(-2, 2), K=st.integers(1, 50))
def test_finite_class_solved_form_makes_failure_probability_at_most_delta(n, d, eps, delta,
                                                                         logF, c, K):
    """At L = the solved bound, the stated inequality gives failure probability <= delta."""
    with mpmath.workdps(DPS):
        L = FC.lower_bound(n=n, d=d, eps=eps, delta=delta, logF=logF, c=c, K=K, check=False)
        second = 2 * mpmath.exp(mpmath.mpf(logF) - mpmath.mpf(eps) ** 2 * n * d
                                / (4096 * mpmath.mpf(c) * L ** 2))
        assert rel(second, mpmath.mpf(delta) / 2) < RTOL
        total = failure_probability(n=n, d=d, K=K, c=c, eps=eps, L=L, logF=logF)
        assert rel(total, ref_failure(n, d, K, c, eps, L, logF)) < RTOL
        if FC.hypotheses(n=n, d=d, eps=eps, delta=delta, logF=logF, c=c, K=K)[0]:
            assert total <= mpmath.mpf(delta) * (1 + RTOL)


def test_finite_class_solved_form_is_the_algebra_of_the_stated_inequality():
    """Substituting L = expr in the stated second term gives exactly delta/2 (symbolically)."""
    s = {x.name: x for x in FC.probability_expr.free_symbols | FC.expr.free_symbols}
    second = [t for t in FC.probability_expr.args if t.has(s["logF"])][0]
    at_bound = second.subs(s["L"], FC.expr)
    residual = sympy.expand_log(sympy.log(at_bound) - sympy.log(s["delta"] / 2), force=True)
    assert sympy.simplify(residual) == 0
    # and the first term is <= delta/2 exactly when the record's hypothesis holds
    first = [t for t in FC.probability_expr.args if not t.has(s["logF"])][0]
    hyp = FC.hypothesis_list[0]
    ratio = sympy.simplify(sympy.expand_log(sympy.log(first) - sympy.log(s["delta"] / 2),
                                            force=True) / (hyp.lhs - hyp.rhs))
    assert ratio.is_positive


def test_failure_probability_refuses_bad_input():
    with pytest.raises(UnknownParameterError):
        failure_probability(n=10, d=1, eps=0.5, L=1, logF=0, delta=0.1)
    with pytest.raises(ParameterError, match="logF"):
        failure_probability(n=10, d=1, eps=0.5, L=1, logF=-1)
    with pytest.raises(ParameterError, match="'L'"):
        failure_probability(n=10, d=1, eps=0.5, logF=1)


@settings(max_examples=30)
@given(n=log_int(0, 12), d=log_int(0, 4), p=log_int(0, 15), D=st.integers(1, 100),
       W=log_real(0, 2), R=log_real(-2, 2), Q=st.integers(1, 5), eps=probs, delta=probs)
def test_deep_networks_matches_hand_formula_deep_and_wide(n, d, p, D, W, R, Q, eps, delta):
    got = DN.lower_bound(n=n, d=d, p=p, D=D, W=W, R=R, Q=Q, eps=eps, delta=delta,
                         precision=DPS, check=False)
    with mpmath.workdps(DPS + 10):
        want = ref_deep(n, d, p, D, W, R, eps, delta, Q=Q)
    assert rel(got, want) < RTOL


def test_deep_networks_has_no_J_dominance_hypothesis_any_more():
    # the repaired J needs no D >= 2 or Q = 1 restriction: D = 1, Q = 2 is within the hypotheses
    base = dict(n=10 ** 12, d=100, p=1000, W=2, R=1, eps=0.5, delta=0.01)
    assert DN.lower_bound(D=1, Q=2, **base).within_hypotheses
    assert [h.name for h in DN.hypothesis_list] == ["sample_size", "net_nonempty"]


def test_deep_network_parameters_and_bbar():
    q = deep_network_parameters([784, 100, 10], W=1, R=1)
    assert (q.p, q.D, q.d) == (784 * 100 + 100 + 100 * 10 + 10, 2, 784)
    assert mpmath.almosteq(q.J, ref_J_deep(q.p, 2, 1, 1))
    q2 = deep_network_parameters([5, 5, 5], W=2, R=3, Q=2, biases=False)
    assert q2.p == 50 and mpmath.almosteq(q2.log_J, mpmath.log(ref_J_deep(50, 2, 2, 3, 2)))
    deep = deep_network_parameters([10] * 101, W=3, R=1)   # D = 100: J ~ 1e300+, no overflow
    assert mpmath.isfinite(deep.log_J) and deep.D == 100
    kw = dict(n=10 ** 9, eps=0.5, delta=0.01, **deep.theorem_parameters())
    assert DN.lower_bound(**kw) > 0
    for bad in ([10], [10, 0], [10, 2.5], "abc"):
        with pytest.raises(ParameterError):
            deep_network_parameters(bad, W=1, R=1)
    with pytest.raises(ParameterError, match="'W'"):
        deep_network_parameters([3, 3], W=0.5, R=1)
    # the Bbar variant is refused: Lemma 3.1's path argument has a gap (docs/errata.md)
    with pytest.raises(NotEvaluableError, match="convex"):
        DNB.lower_bound(n=10 ** 9, d=50, p=1000, Bbar=7, W=2, R=1.5, Q=3, eps=0.5, delta=0.01)


# -- vectorized path -----------------------------------------------------------
def _grid(rng, m):
    return dict(n=np.round(10 ** rng.uniform(0, 12, m)), d=np.round(10 ** rng.uniform(0, 4, m)),
                p=np.round(10 ** rng.uniform(0, 15, m)), eps=10 ** rng.uniform(-6, -0.01, m),
                delta=10 ** rng.uniform(-6, -0.01, m), W=10 ** rng.uniform(0, 3, m),
                J=10 ** rng.uniform(0, 3, m), c=10 ** rng.uniform(-1, 1, m))


@pytest.mark.parametrize("seed", [0, 1])
def test_universal_vectorized_agrees_with_mpmath(seed):
    rng = np.random.default_rng(seed)
    g = _grid(rng, 150)
    out = UL.evaluate(**g)
    assert out.shape == (150,)
    for i in range(150):
        kw = {k: float(v[i]) for k, v in g.items()}
        kw["n"], kw["d"], kw["p"] = int(kw["n"]), int(kw["d"]), int(kw["p"])
        with mpmath.workdps(30):
            ok = ref_universal_ok(kw["n"], kw["eps"], kw["delta"], kw["W"], kw["J"])
            assert bool(out.mask[i]) == (not ok)
            if ok:
                assert rel(out.data[i], ref_universal(**kw)) < 1e-12
            else:
                assert np.isnan(out.data[i])


def test_universal_vectorized_survives_overflow_inside_the_log():
    # 60 W J overflows float64; the stable (expanded-log) path must take over
    out = UL.evaluate(n=1e12, d=100, p=1e6, eps=0.5, delta=0.01, W=1e200, J=1e200)
    with mpmath.workdps(30):
        want = ref_universal(10 ** 12, 100, 10 ** 6, 0.5, 0.01, mpmath.mpf(1e200), mpmath.mpf(1e200))
    assert rel(float(out), want) < 1e-12


@pytest.mark.parametrize("seed", [0, 1])
def test_deep_networks_vectorized_no_overflow(seed):
    rng = np.random.default_rng(seed)
    m = 60
    g = dict(n=np.round(10 ** rng.uniform(6, 12, m)), d=np.round(10 ** rng.uniform(0, 3, m)),
             p=np.round(10 ** rng.uniform(1, 15, m)), D=rng.integers(2, 101, m).astype(float),
             W=10 ** rng.uniform(0, 2, m), R=10 ** rng.uniform(-1, 1, m),
             Q=rng.integers(1, 4, m).astype(float), eps=rng.uniform(0.05, 0.95, m),
             delta=10 ** rng.uniform(-6, -1, m))
    out = DN.evaluate(**g)
    assert np.isfinite(out.compressed()).all()
    for i in range(m):
        kw = {k: float(v[i]) for k, v in g.items()}
        for k in ("n", "d", "p", "D", "Q"):
            kw[k] = int(kw[k])
        if not out.mask[i]:
            with mpmath.workdps(30):
                assert rel(out.data[i], ref_deep(**kw)) < 1e-12


def test_vectorized_broadcasting_and_scalar_defaults():
    out = UL.evaluate(n=np.array([[1e9], [1e10]]), d=np.array([10, 100, 1000]), p=1e6,
                      eps=0.5, delta=0.01, W=10, J=10)
    assert out.shape == (2, 3) and not out.mask.any()
    assert rel(out[1, 2], ref_universal(10 ** 10, 1000, 10 ** 6, 0.5, 0.01, 10, 10)) < 1e-12


# -- solve --------------------------------------------------------------------
BASE = dict(n=10 ** 9, d=1000, p=10 ** 6, eps=0.5, delta=0.01, W=10, J=10)


def _without(k):
    return {a: b for a, b in BASE.items() if a != k}


def test_solve_p_is_least_and_exact():
    r = UL.solve("p", lip=0.05, precision=30, **_without("p"))
    assert r.exact and r.direction == "min"
    v = int(r.value)
    assert ref_universal(BASE["n"], BASE["d"], v, 0.5, 0.01, 10, 10) <= 0.05
    assert ref_universal(BASE["n"], BASE["d"], v - 1, 0.5, 0.01, 10, 10) > 0.05


def test_solve_n_is_largest_and_exact():
    r = UL.solve("n", lip=0.05, **_without("n"))
    assert r.exact and r.direction == "max"
    v = int(r.value)
    assert ref_universal(v, 1000, 10 ** 6, 0.5, 0.01, 10, 10) <= 0.05
    assert ref_universal(v + 1, 1000, 10 ** 6, 0.5, 0.01, 10, 10) > 0.05


@pytest.mark.parametrize("unknown,direction", [("eps", "max"), ("W", "min"), ("J", "min"),
                                               ("c", "min"), ("d", "max")])
def test_solve_other_parameters_round_trip(unknown, direction):
    lip = 0.9 * ref_universal(**BASE)
    r = UL.solve(unknown, lip=lip, precision=30, **_without(unknown))
    assert r.direction == direction
    kw = {**BASE, unknown: r.value}
    if unknown == "d":
        assert ref_universal(**kw) <= lip < ref_universal(**{**kw, "d": r.value + 1})
    else:
        with mpmath.workdps(30):
            assert rel(ref_universal(**kw), mpmath.mpf(lip)) < 1e-20


def test_solve_refusals():
    with pytest.raises(ParameterError, match="does not involve K"):
        UL.solve("K", lip=1, **BASE)
    # no delta gets the bound down to 1e-9: an answer, not an error
    r = UL.solve("delta", lip=1e-9, **_without("delta"))
    assert r.status == "no_value" and r.value is None and "no delta" in str(r)
    with pytest.raises(ParameterError, match="unknown"):
        UL.solve("p", lip=1, **BASE)
    with pytest.raises(UnknownParameterError):
        UL.solve("q", lip=1, **BASE)


def test_solve_deep_networks_by_bisection():
    kw = dict(n=10 ** 12, d=100, D=10, W=2, R=1, eps=0.5, delta=0.01)
    r = DN.solve("p", lip=0.01, precision=30, **kw)
    assert not r.exact and r.direction == "min"
    v = int(r.value)
    assert ref_deep(p=v, **kw) <= 0.01 < ref_deep(p=v - 1, **kw)


def test_deep_network_parameters_are_rounded_up():
    # class quantities enter Theorem 3 as W and J: they must never be below the true values
    import mpmath
    from bounds.universal import deep_network_parameters
    q = deep_network_parameters([784, 100, 10], W="1.1", R="0.3", Q=2)
    with mpmath.workdps(80):
        p = mpmath.mpf(q.p)
        assert q.diameter >= 2 * mpmath.mpf("1.1") * mpmath.sqrt(p)
        J = ref_J_deep(p, 2, mpmath.mpf("1.1"), mpmath.mpf("0.3"), 2)
        assert q.log_J >= mpmath.log(J)
        assert q.J >= J
        assert q.diameter - 2 * mpmath.mpf("1.1") * mpmath.sqrt(p) <= 1e-25 * q.diameter
