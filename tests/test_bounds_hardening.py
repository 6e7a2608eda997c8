"""Hardening of bounds (issue 14 items 6-8, issue 9 items 5 and 7): each test failed before its fix.

* exactness of from_data (data that float64 would round is refused, never silently rounded);
* hypotheses the balls cannot decide raise a typed internal-limit error, not a failed hypothesis;
* evaluate masks the elements float64 cannot represent instead of failing the whole array;
* solve: refusals consistent with lower_bound, 'every value'/'no value' answers, int unknowns,
  a short summary; BoundValue prints at its own precision, rounded down;
* error messages without NumPy reprs; "missing required parameter".
"""

from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import bounds
from bounds.__main__ import main
from bounds.errors import (HypothesisError, MissingParameterError, ParameterError,
                           UndecidedHypothesisError)

UL = bounds.get("universal_law")
MI = bounds.get("minimal_interpolation")
GOOD = dict(n=10 ** 9, d=1000, p=10 ** 6, eps=0.5, delta=0.01, W=10, J=10)
#: every record with a data-dependent form, with its required keywords and valid data
DATA_ENTRIES = [
    ("minimal_interpolation", {}),
    ("polynomial_activation", {"k": 1}),
    ("two_layer_projection", {"k": 1}),
    ("two_layer_spectral", {"k": 1}),
]


def test_every_data_entry_is_covered():
    assert {t.id for t in bounds.catalog() if t.data_fn is not None} == {i for i, _ in DATA_ENTRIES}


def _exact(v) -> Fraction:
    man, exp = mpmath.mpf(v).man_exp if not isinstance(v, mpmath.mpf) else v.man_exp
    return Fraction(int(man)) * Fraction(2) ** int(exp)


# -- item 6: from_data encloses the data as given or refuses it ---------------------------------
def test_minimal_interpolation_refuses_integers_that_float64_rounds():
    # the reproducer: 2^60 + 1 rounds to 2^60, which gave 2^-59 > 2 / (2^60 + 1) marked rigorous
    with pytest.raises(ParameterError, match="exactly representable") as exc:
        MI.from_data(np.array([[0], [2 ** 60 + 1]]), np.array([1, -1]))
    assert exc.value.parameter == "X" and "1152921504606846977" in str(exc.value)
    r = MI.from_data(np.array([[0], [2 ** 60]]), np.array([1, -1]))     # representable: exact
    assert _exact(r.value) <= Fraction(2, 2 ** 60)


@pytest.mark.parametrize("tid, kw", DATA_ENTRIES)
@pytest.mark.parametrize("bad", [
    np.array([[0.0], [1.0]], dtype=np.longdouble) / 10,            # 0.1 in longdouble
    np.array([[0], [2 ** 53 + 1]], dtype=np.int64),
    [[0], [10 ** 30 + 1]],                                           # Python ints, object array
    [[Fraction(0)], [Fraction(1, 3)]],
    [[Decimal("0")], [Decimal("0.1")]],
    np.ma.masked_array([[0.0], [1.0]], mask=[[False], [True]]),
    np.array([[0.0], [1j]]),
    np.array([[False], [True]]),
    [["0"], ["1"]],
])
def test_every_from_data_refuses_inputs_it_cannot_use_exactly(tid, kw, bad):
    with pytest.raises(ParameterError) as exc:
        bounds.get(tid).from_data(bad, np.array([1, -1]), **kw)
    assert exc.value.parameter == "X"


@pytest.mark.parametrize("tid, kw", DATA_ENTRIES)
def test_every_from_data_accepts_exactly_representable_wide_types(tid, kw):
    X = np.array([[0.5, 0.0], [0.0, -0.25], [0.25, 0.25]])
    y = np.array([1, -1, 1])
    ref = bounds.get(tid).from_data(X, y, **kw)
    for Xw, yw in ((X.astype(np.longdouble), y.astype(np.longdouble)),
                   (X.astype(object), [Fraction(1), -1, Decimal(1)]),
                   (X.astype(np.float32), y.astype(np.int8))):
        assert bounds.get(tid).from_data(Xw, yw, **kw).value == ref.value


def test_labels_are_checked_as_strictly_as_inputs():
    with pytest.raises(ParameterError) as exc:
        MI.from_data([[0.0], [1.0]], np.array([0, 1], dtype=np.longdouble) / 10)
    assert exc.value.parameter == "y"


def test_longdouble_parameter_enters_the_enclosure_exactly():
    # float(longdouble 0.1) rounds UP (0.1000000000000000055...): the bound from the rounded
    # value would exceed dy / dx for the dy given
    dy = np.longdouble(1) / 10
    v = MI.lower_bound(dy=dy, dx=1, precision=30)
    assert v.rigorous and _exact(v) <= Fraction(*dy.as_integer_ratio())
    assert _exact(v) < Fraction(float(dy))
    d = MI.lower_bound(dy=Decimal("0.1"), dx=1, precision=30)
    assert _exact(d) <= Fraction(1, 10) and Fraction(1, 10) - _exact(d) < Fraction(1, 10 ** 29)


# -- item 7: an undecidable hypothesis is an internal limit, not the user's failure -------------
def test_high_precision_decides_the_hypotheses():
    v1300 = UL.lower_bound(precision=1300, **GOOD)
    v1200 = UL.lower_bound(precision=1200, **GOOD)
    assert v1300.within_hypotheses and abs(v1300 - v1200) <= mpmath.mpf(10) ** -1190


def test_underscored_decimal_string_is_read_alike_everywhere():
    assert UL.lower_bound(**{**GOOD, "J": "1_0"}) == UL.lower_bound(**GOOD)
    with pytest.raises(ParameterError) as exc:
        UL.lower_bound(**{**GOOD, "J": "1__0"})
    assert exc.value.parameter == "J"


def test_undecidable_hypothesis_raises_a_typed_internal_limit():
    # eps = 60 W J exactly, but "0.01" is no double: the balls of both sides overlap forever
    params = {**GOOD, "eps": "0.6", "W": 1, "J": "0.01"}
    with pytest.raises(UndecidedHypothesisError, match="limit of the toolkit") as exc:
        UL.lower_bound(**params)
    assert not isinstance(exc.value, HypothesisError)
    assert [h.name for h in exc.value.undecided] == ["net_nonempty"]
    v = UL.lower_bound(check=False, **params)
    assert not v.within_hypotheses and v.failed[0].undecided and "UNDECIDED" in str(v.failed[0])
    # a decided failure still is the user's
    with pytest.raises(HypothesisError, match="FAILS"):
        UL.lower_bound(**{**params, "J": "0.009"})


# -- item 8: evaluate masks one element, never fails the call ------------------------------------
def test_evaluate_masks_integers_beyond_float64():
    out = UL.evaluate(**{**GOOD, "n": np.array([10 ** 9, 10 ** 400], dtype=object)})
    assert out.mask.tolist() == [False, True]
    assert out[0] == pytest.approx(float(UL.lower_bound(**GOOD)), rel=1e-12)
    assert UL.evaluate(**{**GOOD, "p": 10 ** 400}).mask.all()


def test_evaluate_masks_overflowing_values():
    out = MI.evaluate(dy=1, dx=np.array([1e-320, 0.5]))
    assert out.mask.tolist() == [True, False] and out.data[0] == np.inf and out[1] == 2
    assert MI.lower_bound(dy=1, dx=1e-320) > mpmath.mpf(10) ** 319    # the scalar path is exact
    und = bounds.get("two_layer_undercomplete")
    out = und.evaluate(n=np.array([1e300, 1e4]), d=10, k=2, delta=0.1)
    assert not out.mask[1] and np.isfinite(out[1])


def test_evaluate_keeps_masked_input_entries_masked_and_reads_strings():
    n = np.ma.masked_array([10 ** 9, -5], mask=[False, True])     # a masked bad entry is skipped
    out = UL.evaluate(**{**GOOD, "n": n})
    assert out.mask.tolist() == [False, True]
    assert UL.evaluate(**{**GOOD, "n": np.array(["1e9", "1_000_000_000"])}).tolist() == [out[0]] * 2
    assert UL.evaluate(**{**GOOD, "n": np.array([], dtype=float)}).shape == (0,)
    with pytest.raises(ParameterError) as exc:
        UL.evaluate(**{**GOOD, "n": np.array([1e9, 2.5])})
    assert exc.value.parameter == "n" and "index (1,)" in str(exc.value)


def test_polynomial_activation_with_huge_data():
    X = np.array([[1e308], [1.0]])
    r = bounds.get("polynomial_activation").from_data(X, np.array([1, -1]), k=1)
    # T = 1e616 - 1, sigma_1 = |T|, bound = 2 * 2 / sigma_1 (exact rationals)
    exact = Fraction(4) / (Fraction(1e308) ** 2 - 1)
    assert 0 < _exact(r.value) <= exact and _exact(r.value) > exact * (1 - Fraction(1, 10 ** 9))


# -- issue 9 item 5: solve ----------------------------------------------------------------------
def test_solve_refuses_outside_the_hypotheses_like_lower_bound():
    params = dict(n=10 ** 6, d=100, eps=0.1, delta=0.01, W=10, J=10)
    with pytest.raises(HypothesisError, match="sample_size"):
        UL.lower_bound(p=10, **params)
    with pytest.raises(HypothesisError, match="sample_size.*check=False to solve anyway"):
        UL.solve("p", lip=0.1, **params)
    r = UL.solve("p", lip=0.1, check=False, **params)
    assert not r.within_hypotheses and "FAIL: sample_size" in str(r)


def test_solve_answers_every_value_and_no_value():
    params = dict(n=10 ** 6, d=100, eps=0.5, delta=0.01, W=10, J=10)
    top = UL.lower_bound(p=1, **params)           # the bound's largest value (p = 1)
    r = UL.solve("p", lip=2 * top, **params)
    assert r.status == "every_value" and r.value == 1 and r.certified
    assert "every p allows" in str(r)
    spectral = bounds.get("two_layer_spectral")        # increasing in n, n >= 1
    r = spectral.solve("n", lip="1e-3", k=1, d=1, delta=0.5)
    assert r.status == "no_value" and r.value is None and r.certified
    assert spectral.lower_bound(n=1, k=1, d=1, delta=0.5) > mpmath.mpf("1e-3")
    r = UL.solve("p", lip=top / 2, **params)
    assert r.status == "solved" and type(r.value) is int


def test_solve_prints_a_summary():
    r = UL.solve("p", lip=1, **{k: v for k, v in GOOD.items() if k != "p"})
    text = repr(r)
    assert "SolveResult(" not in text and text == str(r)
    lines = dict(line.strip().split(": ", 1) for line in text.splitlines())
    assert lines["value"] == str(r.value) and lines["certified"] == "True"
    assert lines["status"].startswith("solved: least p with bound <= 1.0")


def test_cli_solve_refuses_outside_hypotheses_unless_no_check(capsys):
    args = ["solve", "universal_law", "n=1e6", "d=100", "eps=0.1", "delta=0.01", "W=10", "J=10",
            "--unknown", "p", "--lip", "0.1"]
    assert main(args) == 3
    assert main(args + ["--no-check"]) == 0
    out = capsys.readouterr().out
    assert "OUTSIDE THE HYPOTHESES" in out and "status: solved" in out
    assert main(args + ["--no-check", "--json"]) == 0
    import json
    got = json.loads(capsys.readouterr().out)
    assert got["status"] == "solved" and isinstance(got["value"], int) and not got["within_hypotheses"]


def test_bound_value_prints_at_its_precision_rounded_down():
    v = UL.lower_bound(precision=30, **GOOD)
    text = str(v)
    digits = text.replace("0.", "", 1).lstrip("0")
    assert len(digits) == 30
    assert Fraction(Decimal(text)) <= _exact(v.enclosure[0]) or Fraction(Decimal(text)) <= _exact(v)
    assert _exact(v) - Fraction(Decimal(text)) < Fraction(1, 10 ** 30)
    assert text in repr(v)
    third = MI.lower_bound(dy=2, dx=3, precision=20)
    assert str(third) == "0.66666666666666666666"          # nearest would print ...67


# -- issue 9 item 7: messages -------------------------------------------------------------------
def test_messages_show_values_as_written():
    with pytest.raises(ParameterError) as exc:
        UL.lower_bound(**{**GOOD, "eps": np.float64(1.0)})
    assert "np.float64" not in str(exc.value) and "'eps'=1.0" in str(exc.value)
    with pytest.raises(ParameterError) as exc:
        UL.lower_bound(**{**GOOD, "n": np.int64(0)})
    assert "'n'=0 " in str(exc.value)
    missing = {k: v for k, v in GOOD.items() if k != "J"}
    with pytest.raises(MissingParameterError, match="^missing required parameter 'J'"):
        UL.lower_bound(**missing)
    with pytest.raises(MissingParameterError, match="^missing required parameter 'J'"):
        UL.evaluate(**missing)


def test_directed_printing_of_a_wide_int_never_crosses_it():
    """An int wider than mpmath's working precision is compared exactly (mpf(int) would round it)."""
    from fractions import Fraction

    from bounds.rounding import nstr_directed
    x = 10**40 + 1
    down, up = nstr_directed(x, 5, "down"), nstr_directed(x, 5, "up")
    assert Fraction(down) <= x <= Fraction(up)
    x = 2**200 - 1
    assert Fraction(nstr_directed(x, 60, "down")) <= x <= Fraction(nstr_directed(x, 60, "up"))
