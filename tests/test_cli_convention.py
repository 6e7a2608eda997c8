"""One CLI convention for ``python -m bounds`` and ``python -m certify``: name=value parameters,
--help listing them, errors in CLI words, --json with the schema of docs/cli.md, exit codes."""

import json
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest

from bounds.__main__ import main as bounds_main
from certify.__main__ import main as certify_main
from certify.model.network import two_layer

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ["n=1e6", "d=100", "p=1e5", "eps=0.5", "delta=0.01", "W=10", "J=10"]
FIXED = ["d=100", "eps=0.5", "delta=0.01", "W=10", "J=10"]


def _run(main, capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _doc_section(command: str) -> str:
    """The docs/cli.md section documenting ``command``'s JSON."""
    text = (ROOT / "docs" / "cli.md").read_text()
    return text.split(f"### JSON of `{command}`")[1].split("###")[0]


def _documented(keys, command):
    section = _doc_section(command)
    missing = [k for k in keys if f"`{k}`" not in section]
    assert missing == [], f"{command}: keys not documented in docs/cli.md: {missing}"


def test_help_lists_the_parameters_of_the_named_entry(capsys):
    with pytest.raises(SystemExit) as e:
        bounds_main(["eval", "universal_law", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "name=value" in out
    for name in ("n", "d", "p", "eps", "delta", "W", "J", "c", "K"):
        assert re.search(rf"^  {name}\s", out, re.M), name
    with pytest.raises(SystemExit):
        bounds_main(["table", "--help"])
    assert "python -m bounds show ID" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        certify_main(["check", "--help"])
    assert "name=value" in capsys.readouterr().out


def test_errors_speak_cli(capsys):
    code, out, err = _run(bounds_main, capsys, "eval", "universal_law", "n=1e3", *PARAMS[1:])
    assert code == 3 and out == ""
    assert "--no-check" in err and "check=False" not in err and "sample_size" in err
    code, _, err = _run(bounds_main, capsys, "eval", "universal_law", "n", *PARAMS[1:])
    assert code == 2 and "name=value" in err


def test_legacy_forms_still_read_with_a_note(capsys):
    legacy = [t for kv in PARAMS for t in ("--" + kv.split("=")[0], kv.split("=")[1])]
    code, out_old, err = _run(bounds_main, capsys, "eval", "universal_law", *legacy)
    assert code == 0 and "deprecated" in err and "n=1e6" in err
    code, out_new, err = _run(bounds_main, capsys, "eval", "universal_law", *PARAMS)
    assert code == 0 and out_new == out_old and err == ""


def test_eval_json(capsys):
    code, out, err = _run(bounds_main, capsys, "eval", "universal_law", *PARAMS, "--json",
                          "--precision", "30")
    assert code == 0 and err == ""
    doc = json.loads(out)
    _documented(doc, "bounds eval")
    with mpmath.workdps(50):
        want = mpmath.mpf("0.5") / 512 * mpmath.sqrt(
            mpmath.mpf(10) ** 8 / (10 ** 5 * mpmath.log(12000) + mpmath.log(400)))
        shown = mpmath.mpf(doc["lower_bound"])
        assert shown <= want and want - shown < mpmath.mpf(10) ** -31
    assert doc["within_hypotheses"] is True and doc["parameters"]["n"] == "1e6"
    assert {h["name"] for h in doc["hypotheses"]} == {"sample_size", "net_nonempty"}


def test_solve_and_table_json(capsys):
    code, out, _ = _run(bounds_main, capsys, "solve", "universal_law", "--unknown", "p",
                        "--lip", "0.001", "n=1e9", *FIXED, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["direction"] == "min" and float(doc["value"]) > 0
    _documented(doc, "bounds solve")
    code, out, _ = _run(bounds_main, capsys, "table", "universal_law", "--grid", "n=1e3,1e8",
                        "--grid", "p=1e4,1e6", *FIXED, "--json")
    doc = json.loads(out)
    assert code == 0 and len(doc["rows"]) == 4
    _documented(doc, "bounds table")
    assert [r["bound"] is None for r in doc["rows"]] == [True, True, False, False]
    assert doc["constants"]["c"] == 1 and doc["constants"]["K"] == 1


def test_table_cli_is_the_library_renderer(capsys):
    from bounds.tables import table
    code, out, _ = _run(bounds_main, capsys, "table", "universal_law", "--grid", "n=1e3,1e8",
                        "--grid", "p=1e4,1e6", *FIXED, "--format", "latex")
    lib = table("universal_law", grid={"n": ["1e3", "1e8"], "p": ["1e4", "1e6"]},
                fixed=dict(kv.split("=") for kv in FIXED), precision=15).pivot("n", "p")
    assert code == 0 and out == lib.to_latex()
    assert out.startswith("% needs \\usepackage{booktabs, siunitx, amsmath}")
    assert r"\toprule" in out and r"\hline" not in out
    assert r"\num{1e3} &  &  \\" in out                  # hypotheses fail: empty, not a value
    assert "0.0010076" not in out                         # the formula's value there is not shown


def _files(tmp_path):
    net = two_layer(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([3.0, -3.0]))
    net.to_npz(tmp_path / "net.npz")
    X = np.array([[1 / 3, 0.0], [-1 / 3, 0.5], [1 / 3, 1.0]])
    np.savez(tmp_path / "data.npz", X=X, y=np.array([1.0, -1.0, 1.0]))
    return str(tmp_path / "data.npz"), str(tmp_path / "net.npz")


def test_certify_json_and_shipped_models(tmp_path, capsys):
    data, model = _files(tmp_path)
    code, out, _ = _run(certify_main, capsys, "lipschitz", model, "--box", "-1", "1", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["lower"] <= 3 <= doc["upper"] and doc["verification"]["ok"]
    _documented(doc, "certify lipschitz")
    code, out, _ = _run(certify_main, capsys, "lipschitz", "iris_4x6x6x3_relu", "--json",
                        "--no-verify")
    doc = json.loads(out)
    assert code == 0 and doc["lower"] <= 11.634355134114875 <= doc["upper"]
    code, out, _ = _run(certify_main, capsys, "check", "minimal_interpolation", data, model,
                        "--json", "tau=0")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "consistent" and doc["bound"] <= 2.4
    _documented(doc, "certify check")


def test_certify_check_parameters_are_name_value(tmp_path, capsys):
    data, model = _files(tmp_path)
    code, _, err = _run(certify_main, capsys, "check", "minimal_interpolation", data, model, "tau")
    assert code == 2 and "name=value" in err
    code, out, _ = _run(certify_main, capsys, "check", "minimal_interpolation", data, model,
                        "--param", "tau=0")
    assert code == 0 and "consistent" in out


def test_readme_commands_run_as_written(capsys):
    """Every ``python -m bounds/certify`` command quoted in the README (but the long report) runs."""
    import shlex
    text = (ROOT / "README.md").read_text()
    cmds = re.findall(r"`(python -m (?:bounds|certify) [^`]+)`", text)
    assert len(cmds) >= 4 and not any("..." in c for c in cmds)
    ran = 0
    for cmd in cmds:
        argv = shlex.split(cmd)
        if argv[3] == "report":
            continue
        main = bounds_main if argv[2] == "bounds" else certify_main
        code = main(argv[3:])
        out = capsys.readouterr()
        assert code == 0 and out.out, (cmd, out.err)
        ran += 1
    assert ran >= 4
