"""Issue 12: errata found by checking the proofs, vacuity marks, the sharp universal law.

Each test here fails on the code before issue 12 (the source's deep-network ``J``, the refused
subclass evaluated, the spectral value divided by ``Lip(psi)``, ``any_model``'s ``eps/(32R)``, no
vacuity marks, no ``universal_law_sharp``) and passes after.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds.errors import NotEvaluableError, ParameterError
from bounds.universal import deep_network_parameters

ROOT = Path(__file__).resolve().parents[1]
DN = bounds.get("deep_networks")


# -- 1. deep networks: the repaired J, sigma(0) = 0, the refused subclass ----------------------

def _random_network(rng, widths, Q, skip):
    """A depth-D network with biases, optional skip connections and parameter sharing.

    Returns ``(p, f)`` with ``f(w, x)`` the scalar output; every matrix entry and bias is one of the
    ``p`` parameters (each used by at most ``Q`` entries) or a fixed zero.
    """
    D = len(widths) - 1
    shapes = []
    for j in range(1, D + 1):
        sources = range(j) if skip else [j - 1]
        shapes.append((widths[j], sum(widths[i] for i in sources) + 1))   # last column: bias
    total = sum(a * b for a, b in shapes)
    order = rng.permutation(total)
    idx = np.full(total, -1)
    p, pos = 0, 0
    while pos < total:
        if rng.random() < 0.1:                 # a fixed-zero entry
            pos += 1
            continue
        size = int(rng.integers(1, Q + 1))
        idx[order[pos:pos + size]] = p
        p, pos = p + 1, pos + size
    p = max(p, 1)
    blocks, start = [], 0
    for a, b in shapes:
        blocks.append(idx[start:start + a * b].reshape(a, b))
        start += a * b

    def f(w, x):
        hs = [np.asarray(x, dtype=float)]
        for j, block in enumerate(blocks, start=1):
            M = np.where(block >= 0, w[np.maximum(block, 0)], 0.0)
            state = np.concatenate(hs if skip else hs[-1:])
            z = M[:, :-1] @ state + M[:, -1]
            hs.append(np.tanh(z) if j % 2 else np.maximum(z, 0.0))
        return float(hs[-1][0])

    return p, f


def _J_RECORD(p, D, W, R, Q):
    from bounds.universal import J_DEEP
    syms = {s.name: s for s in J_DEEP.free_symbols}
    f = sympy.lambdify([syms[k] for k in ("p", "D", "W", "R", "Q")], J_DEEP, modules="math")
    return f(p, D, W, R, Q)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), D=st.integers(1, 4), Q=st.integers(1, 3),
       skip=st.booleans(), R=st.sampled_from([1e-3, 0.01, 0.5, 1.0, 3.0]),
       W=st.sampled_from([1.0, 1.5, 3.0]))
def test_repaired_J_bounds_parameter_changes_by_brute_force(seed, D, Q, skip, R, W):
    rng = np.random.default_rng(seed)
    widths = [int(rng.integers(1, 4)) for _ in range(D)] + [1]
    p, f = _random_network(rng, widths, Q, skip)
    J = _J_RECORD(p, D, W, R, Q)                        # the shipped record's J
    worst = 0.0
    for _ in range(40):
        w1 = rng.choice([-W, W], p) * rng.uniform(0.5, 1, p)
        w2 = w1 + rng.normal(0, 1e-3 if rng.random() < 0.5 else W, p)
        w2 = np.clip(w2, -W, W)
        x = rng.normal(size=widths[0])
        x *= R / max(np.linalg.norm(x), 1e-300)
        dw = np.linalg.norm(w1 - w2)
        if dw > 0:
            worst = max(worst, abs(f(w1, x) - f(w2, x)) / dw)
    assert worst <= J * (1 + 1e-9)


def test_source_J_fails_and_repaired_J_holds_on_the_errata_counterexample():
    # widths [1, 1, 1] with biases, R = 0.01, W = 1: changing the output bias by 0.5 moves f(0) by 0.5
    q = deep_network_parameters([1, 1, 1], W=1, R=0.01)
    assert q.p == 4 and q.D == 2
    change, dw = 0.5, 0.5
    source_J = 0.01 * (1 * 1 * q.p) ** 2
    assert change > source_J * dw                       # the source's J = R (WQp)^D is false here
    assert change <= q.J * dw                           # the shipped one is not
    # the record evaluates Theorem 3 with the same J
    with mpmath.workdps(30):
        J_rec = mpmath.sqrt(1 * 2 * (1 + mpmath.mpf("0.01") ** 2)) * (mpmath.sqrt(2 * 4)) ** 1
    assert mpmath.almosteq(q.J, J_rec, rel_eps=1e-12)


def test_deep_network_parameters_refuses_sigma_at_zero():
    with pytest.raises(ParameterError, match="sigma0"):
        deep_network_parameters([3, 3, 1], W=1, R=1, sigma0=0.5)
    assert deep_network_parameters([3, 3, 1], W=1, R=1, sigma0=0).p == 16
    assert any("sigma(0) = 0" in a for a in DN.assumptions)


def test_check_reports_activations_not_zero_at_zero():
    from bounds.data import DataModel, Measure
    from certify import Network
    from certify.harness.check import check
    m = DataModel(Measure.cube(2))
    X, y = m.sample(6, seed=0)
    rng = np.random.default_rng(0)
    net = Network.from_arrays([rng.normal(size=(4, 2)), rng.normal(size=(1, 4))], None, "sigmoid")
    res = check("deep_networks", X, y, net, model=m, eps=0.5, delta=0.1)
    failed = [h.name for h in res.failed]
    assert "activations_zero_at_zero" in failed and res.verdict == "not_applicable"


def test_deep_networks_status_and_erratum():
    assert DN.status is bounds.Status.DERIVED and "R (W Q p)^D" in DN.erratum
    assert not any(h.name == "J_dominates_lemma" for h in DN.hypothesis_list)
    # the repaired J is proved for D = 1, Q > 1 too
    assert DN.lower_bound(n=10**12, d=100, p=1000, D=1, Q=2, W=2, R=1, eps=0.5,
                          delta=0.01).within_hypotheses


def test_bbar_subclass_is_refused_with_its_counterexample():
    t = bounds.get("deep_networks_bbar")
    assert t.status is bounds.Status.UNPROVED and not t.evaluable
    assert "B(5, 5, 1) = 25" in t.refusal
    with pytest.raises(NotEvaluableError):
        t.lower_bound(n=10**12, d=100, p=10**6, Bbar=100, W=2, R=1, eps=0.5, delta=0.01)
    with pytest.raises(NotEvaluableError):
        t.evaluate(n=1e12, d=100, p=1e6, Bbar=100, W=2, R=1, eps=0.5, delta=0.01)
    page = (ROOT / "docs" / "theorems" / "deep_networks_bbar.md").read_text()
    assert "(10, 10, 25)" in page


def test_errata_page_lists_every_erratum_and_is_linked():
    errata = (ROOT / "docs" / "errata.md").read_text()
    ids = sorted(t.id for t in bounds.catalog() if t.erratum)
    assert ids == ["deep_networks", "deep_networks_bbar"]
    for tid in ids:
        assert f"`{tid}`" in errata
    assert "(errata.md)" in (ROOT / "docs" / "index.md").read_text()
    assert len(re.findall(r"^```python$", errata, re.M)) >= 4       # executable counterexamples


# -- 2. two_layer_spectral: value and label agree ------------------------------------------------

def test_spectral_value_bounds_the_labelled_proxy_for_slope_above_one():
    from bounds.two_layer_spectral import spectral_bound
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 5))
    y = rng.choice([-1.0, 1.0], 12)
    for delta in (None, 0.05):
        lin = spectral_bound(X, y, 4, activation="linear", delta=delta)
        leaky = spectral_bound(X, y, 4, activation="leaky_relu:3", delta=delta)
        # the bound on L_psi ||a|| ||W|| does not depend on L_psi (every Z bound scales with it)
        assert float(leaky.value) == pytest.approx(float(lin.value), rel=1e-12)
    assert "L_psi ||a||_2 ||W||_op" in leaky.guarantee


def test_check_compares_the_spectral_bound_with_the_same_proxy_for_slope_three():
    from certify import Network
    from certify.harness.check import check
    W = np.eye(2)
    net = Network.from_arrays([W, np.array([[1.0, -1.0]])], None, "leaky_relu:3")
    X, y = np.eye(2), np.array([1.0, -1.0])       # f(e1) = 1, f(e2) = -1: margin 1
    res = check("two_layer_spectral", X, y, net)
    assert res.quantity == "spectral_proxy" and res.verdict == "consistent"
    # proxy 3 sqrt(2); bound gamma n / (sqrt(r) sqrt(n) ||X||_op) = 1 (it was 1/3)
    assert float(res.bound) == pytest.approx(1.0, rel=1e-9)
    assert res.upper == pytest.approx(3 * math.sqrt(2), rel=1e-9)


# -- 3. any_model ships the proof's eps/(8R) ----------------------------------------------------

def test_any_model_ships_eps_over_8R():
    am = bounds.get("any_model")
    n, d, R, eps = 10**6, 2, 1, mpmath.mpf("0.5")
    want = eps / (8 * R) * ((eps * n / 4) ** (mpmath.mpf(1) / d) - 1)
    assert mpmath.almosteq(am.lower_bound(n=n, d=d, R=R, eps="0.5", delta=0.01), want, 1e-12)


# -- 4. vacuity is visible ----------------------------------------------------------------------

def test_lower_bound_and_evaluate_mark_vacuous_results():
    am = bounds.get("any_model")
    kw = dict(n=3000, R=1, eps=0.9, delta=0.1)
    marks = [am.lower_bound(d=d, **kw) for d in (2, 3, 5)]
    assert [v.vacuous for v in marks] == [False, True, True]
    assert all(v.floor == 1 for v in marks)
    arr = am.evaluate(d=np.array([2, 3, 5]), **kw)
    assert arr.vacuous.tolist() == [False, True, True] and arr.floor.tolist() == [1, 1, 1]
    bs = bounds.get("bounded_support").lower_bound(n=10**9, p=10**3, D=2, eps=0.5, delta=0.01,
                                                   W=10, J=10)
    assert bs.floor == 1 and bs.vacuous
    sp = bounds.get("two_layer_spectral").lower_bound(n=100, k=100, d=100, delta=0.01)
    assert sp.floor == 1 and sp.vacuous                 # 0.46 < gamma = 1
    assert bounds.get("universal_law").lower_bound(
        n=10**9, d=100, p=10**6, eps=0.5, delta=0.01, W=10, J=10).vacuous is None


def test_floors_are_exposed_per_record():
    floors = {t.id: str(t.trivial_floor.expr) for t in bounds.catalog() if t.trivial_floor}
    assert floors == {"any_model": "1/R", "bounded_support": "2/D", "deep_networks": "1/R",
                      "two_layer_spectral": "gamma", "two_layer_undercomplete": "1"}


def test_tables_and_catalogue_show_vacuity():
    from bounds.tables import catalogue_table, table
    t = table("any_model", grid={"d": [2, 3, 5]}, fixed=dict(n=3000, R=1, eps=0.9, delta=0.1))
    assert [r["vacuous"] for r in t.rows] == ["no", "yes", "yes"]
    assert "vacuous" in t.to_markdown() and "trivial floor" in t.to_markdown()
    cat = {r["id"]: r["floor"] for r in catalogue_table().rows}
    assert cat["bounded_support"] == "2/D" and cat["universal_law"] == ""


def test_cli_notes_vacuity(capsys):
    from bounds.__main__ import main
    assert main(["eval", "any_model", "n=3000", "d=5", "R=1", "eps=0.9", "delta=0.1"]) == 0
    assert "VACUOUS" in capsys.readouterr().out
    assert main(["table", "any_model", "--grid", "d=2,5", "n=3000", "R=1", "eps=0.9",
                 "delta=0.1"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| 2 ") or r.startswith("| 5 ")]
    assert rows[0].split("|")[4].strip() == "no" and rows[1].split("|")[4].strip() == "yes"
    assert main(["solve", "two_layer_spectral", "--unknown", "delta", "--lip", "0.1", "n=10",
                 "k=50", "d=100"]) == 0
    assert "NOT INFORMATIVE" in capsys.readouterr().out


def test_solve_says_when_no_value_is_informative():
    sp = bounds.get("two_layer_spectral")
    r = sp.solve("delta", lip=0.1, n=10, k=50, d=100)    # sup over delta is 0.205 < gamma = 1
    assert r.informative is False and "no value of delta" in r.note
    r = sp.solve("n", lip=3, k=50, d=100, delta=0.01)
    assert r.informative is True and r.note == "" and r.floor == 1
    r = bounds.get("bounded_support").solve("n", lip=0.5, p=10**3, D=2, eps=0.5, delta=0.01,
                                            W=10, J=10)
    assert r.informative is False and "does not exceed the trivial floor" in r.note


# -- 5. universal_law_sharp ---------------------------------------------------------------------

def test_universal_law_sharp_is_a_derived_entry_next_to_the_stated_one():
    assert "universal_law" in bounds.ids()
    sharp = bounds.get("universal_law_sharp")
    assert sharp.status is bounds.Status.DERIVED
    assert (ROOT / "docs" / "proofs" / "universal_law_sharp.md").is_file()
    kw = dict(n=10**8, d=100, p=10**6, eps=0.5, delta=0.01, W=10, J=10)
    factor = sharp.lower_bound(**kw) / bounds.get("universal_law").lower_bound(**kw)
    assert 7.5 < factor < 7.6


def test_universal_law_sharp_against_the_proof_by_hand():
    # eps' and the bound recomputed from the proof's steps, independently of the record
    for n, d, p, eps, delta, c, W, J, K in [(10**8, 100, 10**6, "0.5", "0.01", 1, 10, 10, 1),
                                             (10**12, 3, 7, "0.99", "0.3", 2, "0.5", 3, 4)]:
        with mpmath.workdps(40):
            e, dl = mpmath.mpf(eps), mpmath.mpf(delta)
            rho = e / 16
            e1 = e - 2 * rho * mpmath.sqrt(1 - e) - rho**2
            netlog = p * mpmath.log(1 + 2 * mpmath.mpf(W) * J / rho)
            L = e1 / (64 * mpmath.sqrt(c)) * mpmath.sqrt(n * d / (netlog + mpmath.log(4 / dl)))
            # Theorem 2's two terms at (eps', L) on the net: each <= delta/2
            term2 = 2 * mpmath.exp(netlog - e1**2 * n * d / (8**4 * c * L**2))
            term1 = 4 * K * mpmath.exp(-n * e1**2 / (8**3 * K))
            assert mpmath.almosteq(term2, dl / 2, rel_eps=mpmath.mpf(10) ** -30)
            got = bounds.get("universal_law_sharp").lower_bound(
                n=n, d=d, p=p, eps=eps, delta=delta, c=c, W=W, J=J, K=K, precision=30)
            assert mpmath.almosteq(got, L, rel_eps=mpmath.mpf(10) ** -25)
            assert got.within_hypotheses == bool(term1 <= dl / 2)


def test_report_bound_tables_show_the_sharp_factor_and_vacuity():
    from certify.report import BOUND_TABLES
    entries = {e[0]: e for e in BOUND_TABLES}
    assert entries["universal_law_sharp"][3] == "universal_law"
    assert entries["universal_law_sharp"][1:3] == entries["universal_law"][1:3]
    from bounds.tables import table
    tid, grid, fixed, ref = entries["universal_law_sharp"]
    t = table(tid, grid=grid, fixed=fixed, reference=ref)
    factors = [r["factor"] for r in t.rows]
    assert "ref. fails" in factors                                   # n = 1e5: stated law void
    assert all(7 < float(f) < 8 for f in factors if f != "ref. fails")
    assert "any_model" in entries


def test_check_plans_universal_law_sharp_like_the_stated_law():
    from bounds.data import DataModel, Measure
    from certify.harness.check import check
    from certify.harness.fit import random_features
    m = DataModel(Measure.cube(3))
    X, y = m.sample(10, seed=0)
    net = random_features(X, y, 8, seed=0).network
    stated = check("universal_law", X, y, net, model=m, eps=0.5, delta=0.1)
    sharp = check("universal_law_sharp", X, y, net, model=m, eps=0.5, delta=0.1)
    for k in ("p", "W", "J", "n", "d"):
        assert float(sharp.params[k]) == float(stated.params[k])
    assert sharp.verdict == "not_applicable"            # n = 10 is far below the sample size
    assert "sample_size" in [h.name for h in sharp.failed]


def test_cli_show_prints_floor_and_erratum(capsys):
    from bounds.__main__ import main
    assert main(["show", "deep_networks"]) == 0
    out = capsys.readouterr().out
    assert "trivial floor: 1/R" in out and "erratum" in out and "R (W Q p)^D" in out
