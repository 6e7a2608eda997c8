"""Nothing but results on stdout: no solver banners, no solver warnings."""

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from bounds._verified import solve_float_program

ROOT = Path(__file__).resolve().parents[1]


def test_exact_certification_prints_nothing_in_a_fresh_process():
    """HiGHS prints its banner on the first ``Highs()`` of a process: a fresh process is needed."""
    code = ("import certify\n"
            "c = certify.lipschitz(certify.datasets.load('iris_4x6x6x3_relu'), norm=2, method='exact')\n"
            "print('upper', c.upper > 11)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout == "upper True\n"
    assert "HiGHS" not in out.stderr


def test_silent_highs_with_capfd(capfd):
    highspy = pytest.importorskip("highspy")
    from certify.methods.exact import _silent_highs
    print("before")
    h = _silent_highs(highspy)
    print("after")
    assert capfd.readouterr().out == "before\nafter\n"
    assert h.getOptionValue("output_flag")[-1] is False


class _FakeProblem:
    def __init__(self, *messages):
        self.messages = messages

    def solve(self, **options):
        for cat, msg in self.messages:
            warnings.warn(msg, cat)


def test_inaccurate_solution_warning_is_recorded_not_leaked():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any leak fails the test
        got = solve_float_program(_FakeProblem((UserWarning, "Solution may be inaccurate. Try ...")))
    assert got == ["Solution may be inaccurate. Try ..."]


def test_other_warnings_still_reach_the_caller():
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert solve_float_program(_FakeProblem((RuntimeWarning, "overflow"))) == []


def test_sdp_repair_log_carries_the_solver_status():
    import numpy as np
    from certify import Network, lipschitz
    rng = np.random.default_rng(3)
    net = Network.from_arrays([rng.standard_normal((6, 3)), rng.standard_normal((1, 6))], activation="relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        cert = lipschitz(net, norm=2, method="sdp")
    assert any("status optimal" in line for line in cert.details["log"])


def test_messages_show_numbers_as_written_not_numpy_reprs():
    import numpy as np
    from certify import Network, lipschitz
    net = Network.from_arrays([np.ones((2, 2)), np.ones((1, 2))], activation="relu")
    with pytest.raises(ValueError) as e:
        lipschitz(net, norm=2, domain=(np.array([1.0, 0.0]), np.array([0.0, 1.0])), method="naive")
    assert "lo[0]=1.0 > hi[0]=0.0" in str(e.value)
    cert = lipschitz(net, norm=2, domain=(np.zeros(2), np.ones(2)), method="exact")
    import dataclasses
    cert = dataclasses.replace(cert, lower=np.float64(cert.lower), upper=np.float64(cert.upper))
    text = " ".join(cert.verify().messages)
    assert "np.float64" not in text and "ordered: 0 <= " in text
