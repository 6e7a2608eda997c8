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
    # J = R (WQp)^(D+1) in place of R (WQp)^D
    wrong_J = rec.expr.subs(D, D + 1)
    assert ps.deep_networks_constants(dataclasses.replace(rec, expr=wrong_J)).status == "fails"
    # without the hypothesis excluding D = 1, Q > 1 the domination of Lemma 3.1 fails
    no_hyp = dataclasses.replace(rec, hypothesis_list=tuple(
        h for h in rec.hypothesis_list if not ({s.name for s in h.lhs.free_symbols | h.rhs.free_symbols}
                                               <= {"D", "Q", "p", "W", "R"})))
    r = ps.deep_networks_constants(no_hyp)
    assert not r.holds and "no hypothesis excludes" in r.detail


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
