"""Symbolic proof-step checks: they pass on the catalogue and fail on mutated constants."""

import dataclasses

import pytest
import sympy

import bounds
from bounds.params import integer, positive, probability
from certify.harness import proofsteps as ps


def _get(tid):
    if tid not in bounds.ids():
        pytest.skip(f"catalogue has no {tid!r} yet")
    return bounds.get(tid)


def test_every_present_record_is_proved():
    results = ps.run_all()
    assert [r.name for r in results] == list(ps.CHECKS)
    for r in results:
        if r.status == "missing":
            continue
        assert r.holds and r.status == "proved", str(r)
    assert sum(r.status == "proved" for r in results) >= 4


def test_universal_net_term_identity_is_exact():
    r = ps.universal_law_net_term()
    assert r.holds
    assert r.expressions["residual"] == 0
    assert r.numeric["max_rel_diff"] <= ps.IDENTITY_RTOL


@pytest.mark.parametrize("factor", [2, sympy.Rational(1, 2), sympy.Rational(513, 512)])
def test_universal_wrong_constant_fails(factor):
    # factor 2 is 2^9 -> 2^8 in the bound; 513/512 is a tiny error the 50-digit check still sees
    rec = _get("universal_law")
    bad = dataclasses.replace(rec, expr=rec.expr * factor)
    r = ps.universal_law_net_term(bad)
    assert not r.holds and r.status == "fails"
    assert r.expressions["residual"] != 0


def _replace_hypothesis(rec, name, **changes):
    hyps = tuple(dataclasses.replace(h, **changes) if h.name == name else h
                 for h in rec.hypothesis_list)
    return dataclasses.replace(rec, hypothesis_list=hyps)


@pytest.mark.parametrize("scale", [sympy.Rational(1, 8), 8])
def test_universal_wrong_sample_size_fails(scale):
    # 8^4 -> 8^3 (too weak: unsound) and 8^4 -> 8^5 (stronger than the theorem: unfaithful)
    rec = _get("universal_law")
    h = ps._find_hypothesis(rec, ("n", "eps", "delta", "K"))
    bad = _replace_hypothesis(rec, h.name, lhs=h.lhs * scale)
    r = ps.universal_law_sample_size(bad)
    assert not r.holds and r.status == "fails"
    assert r.numeric["disagreements"] > 0


def test_finite_class_checks_and_mutations():
    rec = _get("finite_class")
    assert ps.finite_class_solved_form(rec).holds
    assert ps.finite_class_validity(rec).holds
    # 64 -> 32 in the solved form
    assert ps.finite_class_solved_form(dataclasses.replace(rec, expr=rec.expr * 2)).status == "fails"
    # 8^3 -> 8^2 in the validity condition
    h = ps._find_hypothesis(rec, ("n", "eps", "delta", "K"))
    bad = _replace_hypothesis(rec, h.name, lhs=h.lhs / 8)
    assert ps.finite_class_validity(bad).status == "fails"


def test_deep_networks_checks_and_mutations():
    rec = _get("deep_networks")
    assert ps.deep_networks_constants(rec).holds
    D, Q, R, W, p = (rec.symbols[k] for k in ("D", "Q", "R", "W", "p"))
    # J with exponent D in place of D - 1
    wrong_J = rec.expr.subs(D, D + 1)
    assert ps.deep_networks_constants(dataclasses.replace(rec, expr=wrong_J)).status == "fails"
    # the source's J = R (WQp)^D (false for small R with biases, docs/errata.md) fails
    from bounds.universal import DIAM_DEEP, J_DEEP_SOURCE
    uni = _get("universal_law")
    source = uni.expr.subs({uni.symbols["W"]: DIAM_DEEP, uni.symbols["J"]: J_DEEP_SOURCE},
                           simultaneous=True)
    r = ps.deep_networks_constants(dataclasses.replace(rec, expr=source))
    assert not r.holds and r.status == "fails"
    # a W domain that allows W < 1 makes the domination of the proof's J unproved
    params = tuple(dataclasses.replace(q, low=0.0, low_open=True) if q.name == "W" else q
                   for q in rec.parameters)
    r = ps.deep_networks_constants(dataclasses.replace(rec, parameters=params))
    assert not r.holds and "NOT proved" in r.detail


def test_any_model_checks_and_mutations():
    rec = _get("any_model")
    assert ps.any_model_constant(rec).holds and ps.any_model_sample_size(rec).holds
    # the working sheet's eps/(32R) (4x weaker than the proof) is not what the proof gives
    r = ps.any_model_constant(dataclasses.replace(rec, expr=rec.expr / 4))
    assert not r.holds and r.status == "fails"
    r = ps.any_model_constant(dataclasses.replace(rec, expr=rec.expr * sympy.Rational(65, 64)))
    assert r.status == "fails"
    # McDiarmid's 8 -> 4 in t_1
    h = rec.hypothesis_list[0]
    n, delta = rec.symbols["n"], rec.symbols["delta"]
    ell = sympy.log(1 / delta)
    assert sympy.simplify(h.lhs - sympy.sqrt(8 * ell / n) - sympy.sqrt(ell / (2 * n))) == 0
    bad = _replace_hypothesis(rec, h.name, lhs=sympy.sqrt(4 * ell / n) + sympy.sqrt(ell / (2 * n)))
    assert ps.any_model_sample_size(bad).status == "fails"


def test_universal_law_sharp_checks():
    rec = _get("universal_law_sharp")
    for check in (ps.universal_law_sharp_net_term, ps.universal_law_sharp_sample_size,
                  ps.universal_law_sharp_margin):
        r = check(rec)
        assert r.holds and r.status == "proved", str(r)


@pytest.mark.parametrize("factor", [sympy.Rational(64, 63), sympy.Rational(1025, 1024), 8])
def test_universal_law_sharp_wrong_constant_fails(factor):
    # 64 -> 63; a tiny error; and 2^9 -> 2^6 without the margin/net that pays for it
    rec = _get("universal_law_sharp")
    r = ps.universal_law_sharp_net_term(dataclasses.replace(rec, expr=rec.expr * factor))
    assert not r.holds and r.status == "fails"


def test_universal_law_sharp_net_size_and_margin_mutations_fail():
    rec = _get("universal_law_sharp")
    eps, W, J = (rec.symbols[k] for k in ("eps", "W", "J"))
    # a net count (1 + 16 WJ/eps)^p (radius eps/8 paid as if eps/16)
    smaller_net = rec.expr.subs(sympy.log(1 + 32 * W * J / eps), sympy.log(1 + 16 * W * J / eps))
    assert smaller_net != rec.expr
    assert ps.universal_law_sharp_net_term(dataclasses.replace(rec, expr=smaller_net)).status == "fails"
    # the margin eps' without the sqrt(1 - eps) factor's cost halved: eps - (eps/16) sqrt(1 - eps) - ...
    cheaper = rec.expr.subs(sympy.sqrt(1 - eps), sympy.sqrt(1 - eps) / 2)
    assert cheaper != rec.expr
    assert ps.universal_law_sharp_net_term(dataclasses.replace(rec, expr=cheaper)).status == "fails"


@pytest.mark.parametrize("scale", [sympy.Rational(1, 8), 8])
def test_universal_law_sharp_wrong_sample_size_fails(scale):
    rec = _get("universal_law_sharp")
    h = ps._find_hypothesis(rec, ("n", "eps", "delta", "K"))
    r = ps.universal_law_sharp_sample_size(_replace_hypothesis(rec, h.name, lhs=h.lhs * scale))
    assert not r.holds and r.status == "fails"


def test_universal_law_sharp_margin_fails_on_a_wrong_margin(monkeypatch):
    # a margin eps' = eps - rho sqrt(1 - eps) - rho^2 (half the cross term) is not what the
    # triangle inequality gives: the slack goes negative
    monkeypatch.setattr(ps, "_sharp_margin", lambda e: (e / 16, e - e / 16 * sympy.sqrt(1 - e)
                                                        - (e / 16) ** 2))
    r = ps.universal_law_sharp_margin()
    assert not r.holds and r.status == "fails"


def _bounded_support_record(exponent=8):
    uni = _get("universal_law")
    params = (integer("n", "n"), integer("p", "p"), probability("eps", "e"),
              probability("delta", "d"), positive("D", "support diameter"), positive("W", "W"),
              positive("J", "J"), integer("K", "K", default=1))
    s = {q.name: q.symbol for q in params}
    expr = (s["eps"] / (2**exponent * s["D"])
            * sympy.sqrt(s["n"] / (s["p"] * sympy.log(60 * s["W"] * s["J"] / s["eps"])
                                   + sympy.log(4 / s["delta"]))))
    h = ps._find_hypothesis(uni, ("n", "eps", "delta", "K"))
    subs = {uni.symbols[k]: s[k] for k in ("n", "eps", "delta", "K")}
    hyp = dataclasses.replace(h, lhs=h.lhs.subs(subs), rhs=h.rhs.subs(subs))
    return dataclasses.replace(uni, id="bounded_support", parameters=params, expr=expr,
                               hypothesis_list=(hyp,))


def test_bounded_support_from_universal():
    if "bounded_support" in bounds.ids():
        assert ps.bounded_support_from_universal().holds
    assert ps.bounded_support_from_universal(_bounded_support_record(8)).holds
    r = ps.bounded_support_from_universal(_bounded_support_record(7))
    assert not r.holds and r.status == "fails"


def test_missing_parameter_is_reported_not_raised():
    rec = _get("universal_law")
    params = tuple(q for q in rec.parameters if q.name != "J")
    r = ps.universal_law_net_term(dataclasses.replace(rec, parameters=params))
    assert r.status == "missing" and not r.holds and "J" in r.detail
