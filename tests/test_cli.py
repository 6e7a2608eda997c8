"""``python -m certify``: report (quick, in a subprocess), lipschitz and check subcommands."""

import subprocess
import sys

import numpy as np
import pytest

from certify.__main__ import main
from certify.model.network import two_layer


def test_report_quick_subprocess(tmp_path):
    out = tmp_path / "rep"
    r = subprocess.run([sys.executable, "-m", "certify", "report", "--quick", "--out", str(out)],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "report written to" in r.stdout
    assert "[" in r.stderr and "/" in r.stderr          # progress output on stderr
    assert (out / "report.md").exists()


def _net_file(tmp_path):
    # f(x) = 3 relu(x1) - 3 relu(-x1) = 3 x1: Lipschitz constant exactly 3 in every norm
    net = two_layer(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([3.0, -3.0]))
    path = tmp_path / "net.npz"
    net.to_npz(path)
    return path


def test_lipschitz_command(tmp_path, capsys):
    path = _net_file(tmp_path)
    assert main(["lipschitz", str(path), "--norm", "2", "--box", "-1", "1"]) == 0
    out = capsys.readouterr().out
    assert "Lipschitz constant enclosure: [3, 3]" in out and "verified" in out


def test_lipschitz_bad_norm(tmp_path, capsys):
    path = _net_file(tmp_path)
    assert main(["lipschitz", str(path), "--norm", "7"]) == 2
    assert "norm" in capsys.readouterr().err


def test_missing_file(tmp_path, capsys):
    assert main(["lipschitz", str(tmp_path / "nope.npz")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_check_command(tmp_path, capsys):
    path = _net_file(tmp_path)
    # f = 3 x1 interpolates these labels; the McShane floor is 2 / ||(2/3, -1/2)|| = 2.4 <= 3
    X = np.array([[1 / 3, 0.0], [-1 / 3, 0.5], [1 / 3, 1.0]])
    np.savez(tmp_path / "data.npz", X=X, y=np.array([1.0, -1.0, 1.0]))
    code = main(["check", "minimal_interpolation", str(tmp_path / "data.npz"), str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "minimal_interpolation: consistent" in out, out
    assert "bound 2.4" in out


@pytest.mark.parametrize("module", ["bounds", "certify"])
def test_a_closed_pipe_ends_quietly(module):
    """`python -m bounds ... | head -1`: no traceback on stderr when the reader stops early."""
    code = (f"import sys; sys.argv = ['{module}', '--help']\n"
            f"import {module}.__main__ as m\n"
            "from bounds._cli import run\n"
            "def main():\n"
            "    for _ in range(20000):\n"
            "        print('a line of output ' * 8)\n"
            "    return 0\n"
            "run(main)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err
