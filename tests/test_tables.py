"""Tables: values agree with the catalogue, rounding is downward, renderings are well formed."""

import csv
import io
import shutil
import subprocess
from decimal import Decimal

import mpmath
import pytest

import bounds
from bounds.errors import NotEvaluableError, ParameterError, UnknownParameterError
from bounds import tables
from bounds.tables import Column, Table, table

FIXED = dict(d=100, eps=0.5, delta=0.01, W=10, J=10)


def _t():
    return table("universal_law", grid={"n": [10**3, 10**6, 10**9], "p": [10**3, 10**6]}, fixed=FIXED)


def test_grid_rows_match_catalogue_and_hypotheses():
    t = _t()
    assert len(t.rows) == 6
    rec = bounds.get("universal_law")
    for row in t.rows:
        params = {k: row[k] for k in ("n", "p", *FIXED)}
        hyps = rec.hypotheses(**params)
        if all(hyps):
            assert row["hypotheses"] == "holds"
            # the table evaluates at 30 digits; both are rounded down from a ball enclosure
            ref = rec.lower_bound(precision=30, **params)
            assert row["bound"] <= ref.enclosure[0]
            assert mpmath.almosteq(row["bound"], ref, 1e-25)
        else:
            assert row["bound"] is None
            assert row["hypotheses"] == "fails: " + ", ".join(h.name for h in hyps if not h)
    # n = 1000 violates the sample-size hypothesis 8^4 log(8/delta) <= n eps^2
    assert [r["hypotheses"] for r in t.rows][:2] == ["fails: sample_size"] * 2


def test_displayed_lower_bounds_are_rounded_down():
    t = _t()
    md = t.to_markdown()
    for row in t.rows:
        if row["bound"] is not None:
            shown = tables._sig(row["bound"], 4, floor=True)
            assert shown in md
            assert Decimal(shown) <= tables._exact_decimal(row["bound"])
            assert Decimal(tables._sig(row["bound"], 4, floor=False)) >= Decimal(shown)
    # CSV lower bounds never exceed the mpmath value
    rows = list(csv.DictReader(io.StringIO(t.to_csv())))
    for r, row in zip(rows, t.rows):
        if row["bound"] is not None:
            assert mpmath.mpf(r["bound"]) <= row["bound"]


@pytest.mark.parametrize("v, floor, want", [(9.99995, True, "9.999"), (9.99995, False, "10"),
                                            (1234567.0, True, "1.234e6"), (2.5e-7, False, "2.5e-7"),
                                            (60000, True, "60000"), (-1.23456, True, "-1.235")])
def test_sig(v, floor, want):
    assert tables._sig(v, 4, floor) == want


def test_latex_structure_and_escaping():
    tex = _t().to_latex()
    inf_row = Table("t", [Column("x")], [{"x": float("inf")}]).to_latex()
    assert r"\num{inf}" not in inf_row and "inf" in inf_row
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\num{1e9}" in tex and r"$\varepsilon = \num{0.5}$" in tex.split(r"\caption")[1]
    assert tex.startswith("% needs \\usepackage{booktabs, siunitx, amsmath}")
    assert "universal\\_law" in tex
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    for line in body.strip().splitlines():
        assert line.count("&") == len(_t().columns) - 1
    assert tables.latex_escape("a_b & 50% <x>") == r"a\_b \& 50\% \textless{}x\textgreater{}"


def test_constants_and_defaults_go_to_the_caption():
    t = _t()
    assert [c.key for c in t.columns] == ["n", "p", "bound", "hypotheses"]
    assert t.constants == {**FIXED, "c": 1, "K": 1}
    caption = t.to_latex().split(r"\caption{")[1].split("\n")[0]
    assert r"$c = \num{1}$" in caption and r"$K = \num{1}$" in caption
    assert len(caption) < 300 and "Bubeck" not in caption      # provenance goes to the note
    assert "Fixed: d = 100, eps = 0.5" in t.to_markdown()


def test_pivot_into_a_matrix_with_empty_cells_where_hypotheses_fail():
    t = _t()
    m = t.pivot("n", "p")
    assert [c.key for c in m.columns] == ["n", "p=1000", "p=1000000"]
    assert len(m.rows) == 3 and m.rows[0]["p=1000"] is None      # n = 1000: sample_size fails
    for row in t.rows:
        assert m.rows[[10**3, 10**6, 10**9].index(row["n"])][f"p={row['p']}"] is row["bound"]
    tex = m.to_latex()
    assert r"$p = \num{1000}$" in tex and r"\num{1000} &  &  \\" in tex
    assert any("sample_size fails" in n and "n = 1000, p = 1000" in n for n in m.notes)
    assert m.to_csv() == t.to_csv() and m.to_json() == t.to_json()    # data: one row per point
    assert t.to_json()["rows"][0]["bound"] is None and t.to_json()["constants"]["K"] == 1
    with pytest.raises(ParameterError):
        t.pivot("n", "q")
    three = table("universal_law", grid={"n": [10**6], "p": [10**3], "d": [10, 100]},
                  fixed={k: v for k, v in FIXED.items() if k != "d"})
    with pytest.raises(ParameterError, match="varies"):
        three.pivot("n", "p")


def test_save_writes_three_files(tmp_path):
    paths = _t().save(tmp_path / "out", "ul")
    assert sorted(p.suffix for p in paths.values()) == [".csv", ".md", ".tex"]
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert len(rows) == 6 and "formula_value" in rows[0] and rows[0]["within_hypotheses"] == "false"


def test_bad_input():
    with pytest.raises(UnknownParameterError):
        table("universal_law", grid={"nn": [1]}, fixed=FIXED)
    with pytest.raises(ParameterError):
        table("universal_law", grid={}, fixed=FIXED)
    with pytest.raises(ParameterError):
        table("universal_law", grid={"n": [10**6]}, fixed={**FIXED, "n": 5, "p": 10})
    with pytest.raises(ParameterError):
        table("universal_law", grid={"n": []}, fixed=FIXED)
    with pytest.raises(ParameterError):
        Column("x", kind="weird")
    conj = [t.id for t in bounds.catalog() if not t.evaluable]
    if conj:
        with pytest.raises(NotEvaluableError):
            table(conj[0], grid={bounds.get(conj[0]).parameters[0].name: [1]})


def test_predictions_and_catalogue_tables():
    pt = tables.predictions_table()
    assert [r["data"] for r in pt.rows] == ["MNIST", "ImageNet"]
    # p ~ n d from the formula: MNIST n = 6e4 and d_eff = 15..150
    assert pt.rows[0]["p_low"] == pytest.approx(6e4 * 15) and pt.rows[0]["p_high"] == pytest.approx(6e4 * 150)
    assert "MNIST" in pt.to_markdown() and r"\num{900000}" in pt.to_latex() and r"\num{1.4e11}" in pt.to_latex()
    ct = tables.catalogue_table()
    assert {r["id"] for r in ct.rows} == set(bounds.ids())


def test_latex_compiles(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    doc = ("\\documentclass{article}\\usepackage{booktabs}\\usepackage{siunitx}"
           "\\usepackage{amsmath}"
           "\\begin{document}" + _t().to_latex() + _t().pivot("n", "p").to_latex()
           + tables.predictions_table().to_latex()
           + tables.catalogue_table().to_latex() + "See Table~\\ref{tab:universal_law}."
           + "\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc)
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                       cwd=tmp_path, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout.decode(errors="replace")[-2000:]


def test_pivot_keeps_per_point_annotations_in_the_notes():
    t = table("any_model", grid={"d": [2, 3, 5], "n": [3000, 10**6]}, fixed={"R": 1, "eps": 0.9, "delta": 0.1})
    m = t.pivot("d", "n")
    vac = [f"d = {r['d']}, n = {r['n']}" for r in t.rows if r.get("vacuous") == "yes"]
    assert vac and any(note.startswith("vacuous: yes at ") and all(v in note for v in vac) for note in m.notes)
    assert [c.key for c in m.columns] == ["d", "n=3000", "n=1000000"]
