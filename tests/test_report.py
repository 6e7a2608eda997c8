"""The end-to-end report: quick run, verdicts, files, degradation when parts are missing."""

import io
from pathlib import Path

import numpy as np
import pytest

from certify import report as rp


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return rp.build_report(out, quick=True, progress=rp.Progress(io.StringIO()))


def test_quick_report_all_verdicts_acceptable(quick_report):
    rep = quick_report
    assert rep.errors == [], [s.body for s in rep.errors]
    assert rep.violated == [], rep.violated
    counts = rep.counts()
    assert counts["consistent"] >= 10
    keys = [s.key for s in rep.sections]
    assert keys == [k for k, _, _ in rp.SECTIONS]
    # every section ran for real, except data that may be absent on this machine
    for s in rep.sections:
        if s.key != "lipbab" or rp.lipbab_dir() is not None:
            assert s.status == "done", (s.key, s.body)
    assert rep.elapsed < 120


def test_quick_report_files(quick_report):
    out = Path(quick_report.out)
    text = (out / "report.md").read_text()
    assert "## Summary" in text and "VIOLATIONS" not in text
    for stem in ("catalogue", "predictions", "bounds_universal_law"):
        for ext in ("md", "tex", "csv"):
            assert (out / "tables" / f"{stem}.{ext}").stat().st_size > 0
    figs = list((out / "figures").glob("sqrt_nk_*.png"))
    assert figs and all(f.with_suffix(".pdf").exists() for f in figs)
    assert (out / "figures" / "digits.png").exists() and (out / "tables" / "digits.csv").exists()


def test_report_workers_give_the_serial_verdicts(tmp_path):
    serial = rp.build_report(tmp_path / "a", quick=True, progress=False, only=("checks",))
    pooled = rp.build_report(tmp_path / "b", quick=True, progress=False, only=("checks",), workers=2)
    assert [(i.name, i.verdict, i.detail) for _, i in pooled.items] == \
        [(i.name, i.verdict, i.detail) for _, i in serial.items]
    with pytest.raises(ValueError, match="workers"):
        rp.build_report(tmp_path / "c", quick=True, progress=False, only=("checks",), workers=0)


def test_proofsteps_section_reads_catalogue(quick_report):
    sec = next(s for s in quick_report.sections if s.key == "proofsteps")
    assert sum(it.verdict == "consistent" for it in sec.items) >= 4


def test_violation_is_printed_first(tmp_path):
    sec = rp.Section("x", "Fake", items=[rp.Item("ok one", "consistent"),
                                          rp.Item("bad one", "violated", "upper < bound")])
    rep = rp.Report(tmp_path, [sec], 0.1, True)
    text = rep.markdown()
    assert text.index("VIOLATIONS") < text.index("## Summary")
    assert "**VIOLATED** [Fake] bad one: upper < bound" in text
    assert not rep.ok
    with pytest.raises(ValueError):
        rp.Item("x", "fine")


def test_failing_section_is_reported_not_hidden(tmp_path, monkeypatch):
    def boom(ctx, sec):
        raise RuntimeError("exploded")

    def absent(ctx, sec):
        import certify.does_not_exist  # noqa: F401

    monkeypatch.setattr(rp, "SECTIONS", (("a", "Boom", boom), ("b", "Absent", absent)))
    rep = rp.build_report(tmp_path, quick=True, progress=False)
    assert [s.status for s in rep.sections] == ["error", "missing"]
    assert not rep.ok
    text = (tmp_path / "report.md").read_text()
    assert "SECTIONS THAT FAILED TO RUN" in text and "exploded" in text


def test_lipbab_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LAWROB_DATA", str(tmp_path))
    (tmp_path / "lipbab").mkdir()
    (tmp_path / "lipbab" / "sdnet_1.npz").write_bytes(b"")
    assert rp.lipbab_dir() == tmp_path / "lipbab"
    monkeypatch.setenv("LAWROB_DATA", str(tmp_path / "nowhere"))
    found = rp.lipbab_dir()
    assert found is None or found.name == "lipbab"


def test_lipbab_missing_is_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(rp, "lipbab_dir", lambda: None)
    rep = rp.build_report(tmp_path, quick=True, progress=False, only=("lipbab",))
    assert rep.sections[0].status == "missing" and "LAWROB_DATA" in rep.sections[0].body


def test_progress_bar_text():
    buf = io.StringIO()
    p = rp.Progress(buf, width=10)
    p.update(5, 10, "half")
    assert "[#####-----] 5/10 half" in buf.getvalue()


def test_spline_interpolant_is_exact_and_its_constant_is_the_max_slope():
    from certify import lipschitz
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.5, 0.5, 40)
    y = rng.choice([-1.0, 1.0], 40)
    net = rp.spline_interpolant(x, y)
    assert np.max(np.abs(net(x[:, None])[:, 0] - y)) < 1e-9
    o = np.argsort(x)
    slopes = np.abs(np.diff(y[o]) / np.diff(x[o]))
    cert = lipschitz(net, norm=2, domain=None)
    assert cert.lower <= slopes.max() * (1 + 1e-9) and cert.upper >= slopes.max() * (1 - 1e-9)
    with pytest.raises(ValueError):
        rp.spline_interpolant(np.array([0.0, 0.0, 1.0]), np.array([1.0, -1.0, 1.0]))


def test_quick_report_texts_a_reader_needs(quick_report):
    """The link to docs/report.md resolves from --out; bound tables state c and K; descriptive
    items say what 'consistent' means; LaTeX captions are short."""
    import re
    out = Path(quick_report.out)
    text = (out / "report.md").read_text()
    link = re.search(r"\[docs/report\.md\]\(([^)]+)\)", text)
    assert link and (out / link.group(1)).resolve() == (Path(rp.__file__).parents[1] / "docs" / "report.md")
    assert "for a descriptive item" in text
    for item in (it for _, it in quick_report.items if "log-log slope" in it.name):
        assert "tests nothing" in item.detail
    tex = (out / "tables" / "bounds_universal_law.tex").read_text()
    assert r"$c = \num{1}$" in tex and r"$K = \num{1}$" in tex
    for f in (out / "tables").glob("*.tex"):
        for cap in re.findall(r"\\caption\{(.*)\}", f.read_text()):
            assert len(cap) < 400, (f.name, len(cap))


def test_failure_rate_says_why_trials_are_not_counted():
    from bounds.data import DataModel, Measure
    from bounds.theorem import HypothesisResult
    from certify.harness.statistics import TrialOutcome, failure_rate

    class _Detail:
        failed = [HypothesisResult("sample_size", False, 1, 0, "<=", "n large enough")]

    def trial(X, y, seed):
        return TrialOutcome(False, applicable=seed % 2 == 0, detail=_Detail())

    r = failure_rate(trial, DataModel(Measure.sphere(3)), n_trials=20, seed=0, n=5, delta=0.1)
    text = str(r)
    missing = r.n_trials - r.n_applicable
    assert missing > 0 and f"{missing} of 20 trials not counted" in text
    assert f"sample_size failed in {missing}" in text
