"""Catalogue, validation, typed errors, hypotheses, monotonicity and the CLI."""

import math

import mpmath
import numpy as np
import pytest
import sympy

import bounds
from bounds.__main__ import main
from bounds.errors import (HypothesisError, NotEvaluableError, ParameterError,
                           UnknownParameterError, UnknownTheoremError)
from bounds.params import integer, positive
from bounds.theorem import Citation, Status, Theorem

UL = bounds.get("universal_law")
GOOD = dict(n=10 ** 9, d=1000, p=10 ** 6, eps=0.5, delta=0.01, W=10, J=10)

MY_IDS = {"universal_law", "finite_class", "deep_networks", "deep_networks_bbar", "isoperimetry",
          "two_layer_conjecture", "weight_bounded_rademacher", "minimal_interpolation",
          "bounded_support", "any_model"}


def test_catalogue_holds_the_contract_ids_with_metadata():
    ids = set(bounds.ids())
    assert MY_IDS <= ids
    for t in bounds.catalog():
        assert isinstance(t.status, Status) and t.citation.authors and t.conclusion
    assert bounds.get("universal_law").citation.version_checked.startswith("NeurIPS 2021")
    statuses = {i: str(bounds.get(i).status) for i in MY_IDS}
    assert statuses["two_layer_conjecture"] == "conjecture"
    assert statuses["weight_bounded_rademacher"] == "withdrawn"
    assert statuses["bounded_support"] == statuses["any_model"] == "derived"
    assert statuses["isoperimetry"] == "derived"


def test_unknown_id_suggests_nearest():
    with pytest.raises(UnknownTheoremError, match="did you mean 'universal_law'"):
        bounds.get("universal_lw")
    with pytest.raises(UnknownTheoremError):
        bounds.get(3)
    with pytest.raises(ValueError):
        bounds.get("zzzzzzzzzz")


@pytest.mark.parametrize("name,value", [
    ("n", 0), ("n", -5), ("n", 2.5), ("n", "abc"), ("n", True), ("d", 0), ("p", 1.5),
    ("eps", 0), ("eps", 1), ("eps", 1.5), ("eps", -0.1), ("delta", 0), ("delta", 1),
    ("c", 0), ("c", -1), ("W", 0), ("J", -2), ("K", 0), ("n", math.nan), ("eps", math.nan),
    ("W", math.inf), ("J", -math.inf), ("n", math.inf), ("eps", 1 + 2j), ("c", None),
])
def test_bad_scalar_raises_typed_error_naming_parameter(name, value):
    with pytest.raises(ParameterError) as exc:
        UL.lower_bound(**{**GOOD, name: value})
    assert exc.value.parameter == name
    assert "allowed" in str(exc.value)


@pytest.mark.parametrize("name,value", [
    ("n", [1e9, 2.5]), ("n", [1e9, 0]), ("eps", [0.5, 1.0]), ("delta", [0.1, np.nan]),
    ("W", [1, np.inf]), ("c", [1, -1]), ("J", [0, 1]), ("p", ["a", "b"]), ("d", [True, False]),
])
def test_bad_array_raises_typed_error_with_index(name, value):
    with pytest.raises(ParameterError) as exc:
        UL.evaluate(**{**GOOD, name: np.array(value)})
    assert exc.value.parameter == name


def test_unknown_and_missing_parameters():
    with pytest.raises(UnknownParameterError, match="allowed parameters are"):
        UL.lower_bound(**GOOD, foo=1)
    with pytest.raises(UnknownParameterError):
        UL.evaluate(**GOOD, k=3)
    missing = dict(GOOD)
    del missing["W"]
    with pytest.raises(ParameterError, match="missing required parameter .W."):
        UL.lower_bound(**missing)
    with pytest.raises(ParameterError, match="precision"):
        UL.lower_bound(**GOOD, precision=0)


def test_hypothesis_error_names_every_failed_hypothesis():
    bad = {**GOOD, "n": 10, "W": 1e-6, "J": 1e-6}
    with pytest.raises(HypothesisError) as exc:
        UL.lower_bound(**bad)
    names = {h.name for h in exc.value.failed}
    assert names == {"sample_size", "net_nonempty"}
    assert "sample_size" in str(exc.value) and "net_nonempty" in str(exc.value)
    v = UL.lower_bound(**{**bad, "W": 1, "J": 1}, check=False)
    assert not v.within_hypotheses and [h.name for h in v.failed] == ["sample_size"]
    assert "OUTSIDE" in repr(v)
    res = UL.hypotheses(**bad)
    assert [bool(h) for h in res] == [False, False]


def test_boundary_of_hypothesis_is_decided_exactly():
    # n eps^2 = 4096 log(8/delta) exactly at delta = 8 exp(-n eps^2/4096)
    n, eps = 4096 * 10, mpmath.mpf("0.5")
    with mpmath.workdps(60):
        delta = 8 * mpmath.exp(-n * eps ** 2 / 4096)
        above = delta * (1 + mpmath.mpf(10) ** -30)
        below = delta * (1 - mpmath.mpf(10) ** -30)
        # decided at the caller's precision (plus guard digits)
        assert not UL.hypotheses(**{**GOOD, "n": n, "delta": below})[0]
        assert UL.hypotheses(**{**GOOD, "n": n, "delta": above})[0]


def test_precision_is_honoured():
    v50 = UL.lower_bound(**GOOD, precision=50)
    v15 = UL.lower_bound(**GOOD, precision=15)
    assert abs(v50 - v15) / v50 < 1e-14
    assert len(mpmath.nstr(v50, 50).replace("0.", "")) >= 40
    assert isinstance(v50, mpmath.mpf) and v50.theorem_id == "universal_law"


def test_non_evaluable_entries_refuse_everything_numeric():
    for tid, params in (("two_layer_conjecture", dict(n=10, d=3, k=2)),
                        ("weight_bounded_rademacher", dict(n=10, k=2))):
        t = bounds.get(tid)
        for call in (lambda: t.lower_bound(**params), lambda: t.evaluate(**params),
                     lambda: t.solve("n", lip=1, **{k: v for k, v in params.items() if k != "n"})):
            with pytest.raises(NotEvaluableError):
                call()
    assert "c_{conj}" in bounds.get("two_layer_conjecture").latex()
    w = bounds.get("weight_bounded_rademacher")
    assert w.expr is None and "does not resolve the conjecture as claimed" in w.refusal


def _toy(expr_fn, name="x"):
    x = positive(name, "toy parameter")
    return Theorem(id="toy", title="toy", citation=Citation("a", "b", "c", 2000),
                   status=Status.STATED, parameters=(x,), expr=expr_fn(x.symbol))


def test_solve_refuses_non_monotone_bound():
    t = _toy(lambda x: (x - 2) ** 2 + 1)
    with pytest.raises(ParameterError, match="monotone"):
        t.solve("x", lip=2)
    inc = _toy(lambda x: sympy.sqrt(x))
    r = inc.solve("x", lip=3)
    assert r.direction == "max" and r.exact and mpmath.almosteq(r.value, 9)
    dec = _toy(lambda x: 1 / (x + sympy.log(x + 1)))     # transcendental: bisection
    r = dec.solve("x", lip=mpmath.mpf("0.25"), precision=30)
    assert r.direction == "min" and not r.exact
    with mpmath.workdps(30):
        assert mpmath.almosteq(1 / (r.value + mpmath.log(r.value + 1)), mpmath.mpf("0.25"),
                               rel_eps=mpmath.mpf(10) ** -25)


def test_closed_form_is_readable():
    sol = UL.closed_form("p")
    logs = {str(a) for a in sol.atoms(sympy.log)}
    assert logs == {"log(4/delta)", "log(60*J*W/eps)"}
    assert UL.closed_form("eps") is None          # eps sits inside the log


def test_latex_and_str():
    assert UL.latex().startswith(r"\operatorname{Lip}(f) \geq")
    assert "universal_law (stated)" in str(UL)


# -- CLI ------------------------------------------------------------------------
def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


ARGS = ["n=1e6", "d=100", "p=1e5", "eps=0.5", "delta=0.01", "W=10", "J=10"]


def test_cli_list_show_eval(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and all(i in out for i in MY_IDS)
    code, out, _ = run(capsys, "show", "universal_law")
    assert code == 0 and "sample_size" in out and "NeurIPS 2021" in out
    code, out, _ = run(capsys, "eval", "universal_law", *ARGS, "--precision", "30")
    with mpmath.workdps(40):
        want = mpmath.mpf("0.5") / 512 * mpmath.sqrt(
            mpmath.mpf(10) ** 8 / (10 ** 5 * mpmath.log(12000) + mpmath.log(400)))
    assert code == 0 and mpmath.nstr(want, 30) in out


def test_cli_errors_and_no_check(capsys):
    bad = list(ARGS)
    bad[0] = "n=1e3"
    code, _, err = run(capsys, "eval", "universal_law", *bad)
    assert code == 3 and "sample_size" in err
    code, out, _ = run(capsys, "eval", "universal_law", *bad, "--no-check")
    assert code == 0 and "OUTSIDE" in out
    code, _, err = run(capsys, "eval", "universl_law", *ARGS)
    assert code == 2 and "did you mean" in err
    code, _, err = run(capsys, "eval", "universal_law", *ARGS, "--foo", "1")
    assert code == 2 and "foo" in err
    code, _, err = run(capsys, "eval", "two_layer_conjecture", "n=3", "d=3", "k=3")
    assert code == 2 and "conjecture" in err


def test_cli_table_formats_and_solve(capsys):
    fixed = ["d=100", "eps=0.5", "delta=0.01", "W=10", "J=10"]
    for fmt, marker in (("md", "|---:|"), ("csv", "n,p,bound,hypotheses"), ("latex", r"\begin{tabular}")):
        code, out, _ = run(capsys, "table", "universal_law", "--grid", "n=1e3,1e8",
                           "--grid", "p=1e4,1e6", *fixed, "--format", fmt)
        assert code == 0 and marker in out and "sample" in out   # the failing hypothesis is named
    code, out, _ = run(capsys, "solve", "universal_law", "--unknown", "p", "--lip", "0.001",
                       "n=1e9", *fixed)
    assert code == 0 and "least p" in out and "closed form" in out


def test_check_false_refuses_a_non_real_formula():
    # 60 W J < eps and p large: the log-covering term is negative enough to make sqrt complex
    with pytest.raises(HypothesisError, match="not even real"):
        UL.lower_bound(**{**GOOD, "W": 1e-6, "J": 1e-6}, check=False)
    out = UL.evaluate(**{**GOOD, "W": 1e-6, "J": 1e-6})
    assert out.mask.all()
