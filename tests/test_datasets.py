"""Shipped example networks (certify.datasets) and the skip-when-absent rule for external data."""

import fnmatch
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import certify
from bounds.errors import ParameterError
from certify import datasets
from certify.errors import DataNotFoundError, UnsupportedError

ROOT = Path(__file__).resolve().parents[1]


def test_names_are_the_exlipbab_files():
    assert datasets.names() == sorted(datasets.names())
    assert len(datasets.names()) == 7
    assert {"iris_4x6x6x3_relu", "wine_11x12x12x1_relu", "bike_13x20x16x8x3_relu"} <= set(datasets.names())
    assert certify.datasets is datasets or certify.datasets.load is datasets.load


@pytest.mark.parametrize("name", datasets.names())
def test_load_matches_the_file_name_and_the_raw_arrays(name):
    widths = tuple(int(w) for w in name.split("_")[1].split("x"))
    try:
        net = datasets.load(name)
    except UnsupportedError as exc:  # GroupSort networks need GroupSort support in certify.model
        assert "groupsort" in name and name in str(exc)
        return
    assert net.widths == widths
    raw = np.load(datasets.path(name))
    x = np.random.default_rng(0).standard_normal(widths[0])
    h = x
    for i in range(1, net.depth):
        h = np.maximum(raw[f"W{i}"] @ h + raw[f"b{i}"], 0.0)
    np.testing.assert_allclose(net(x), raw[f"W{net.depth}"] @ h + raw[f"b{net.depth}"], rtol=1e-12)


def test_unknown_name_lists_the_names():
    with pytest.raises(ParameterError, match="iris_4x6x6x3_relu"):
        datasets.load("mnist")


def test_licence_and_provenance_ship_with_the_data():
    assert "MIT License" in datasets.license_text() and "Splittgerber" in datasets.license_text()
    assert "ExLipBaB" in datasets.readme_text() and "11.634355134114875" in datasets.readme_text()


def test_pyproject_package_data_covers_every_shipped_file():
    """A non-editable install gets the data too (checked once by hand with ``pip install .``)."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["certify.model"]
    data = ROOT / "certify" / "model" / "data" / "exlipbab"
    files = [p.relative_to(ROOT / "certify" / "model").as_posix() for p in data.iterdir()]
    assert len(files) == 9  # 7 networks, LICENSE.md, README.md
    assert all(any(fnmatch.fnmatch(f, pat) for pat in patterns) for f in files)


def test_external_honours_lawrob_data(tmp_path, monkeypatch):
    (tmp_path / "lipbab").mkdir()
    np.savez(tmp_path / "lipbab" / "sdnet_1_1.npz", W1=np.ones((1, 1)), b1=np.zeros(1))
    monkeypatch.setenv("LAWROB_DATA", str(tmp_path))
    assert datasets.external("lipbab") == tmp_path / "lipbab"
    monkeypatch.setenv("LAWROB_DATA", str(tmp_path / "nowhere"))
    assert datasets.external_dir("lipbab") is None
    with pytest.raises(DataNotFoundError, match="LAWROB_DATA.*nowhere"):
        datasets.external("lipbab")


def test_docs_skip_visibly_without_external_data(tmp_path):
    """A doc example needing the LipBaB networks is reported as skipped, with the reason, not failed."""
    env = {**os.environ, "LAWROB_DATA": str(tmp_path / "nowhere")}
    out = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider",
                          "docs/network.md"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"1 skipped", out.stdout) and "not distributed" in out.stdout


def test_no_code_builds_shared_paths_itself():
    """Only certify.model.datasets knows about ../shared; docs and tests go through it."""
    offenders = []
    for p in [*ROOT.glob("docs/**/*.md"), *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py"),
              *ROOT.glob("certify/**/*.py"), *ROOT.glob("bounds/**/*.py"), ROOT / "README.md"]:
        if p.name in ("datasets.py", "test_datasets.py"):
            continue
        text = p.read_text(encoding="utf-8")
        if re.search(r'"shared"|/work/shared|["\']\.\./shared', text):
            offenders.append(p.relative_to(ROOT).as_posix())
    assert offenders == []
