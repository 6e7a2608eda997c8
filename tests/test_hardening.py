"""Regression tests for the certify-side findings of issue 14 (one test per item, each failing before)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from certify import Network, lipschitz

# ---------------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("method,act", [(m, a) for m in ["naive", "interval", "exact", "auto"]
                                        for a in ["identity", "linear", "poly:1"]]
                         + [("sdp", "identity")])
def test_linear_activation_every_method(method, act):
    net = Network.from_arrays([np.array([[1.0, 2.0]]), np.array([[3.0]])], None, act)
    cert = lipschitz(net, 2, (0, 1), method=method)
    true = 3 * math.sqrt(5)
    assert cert.lower <= true <= cert.upper
    assert cert.lower > 0.999 * true
    assert cert.verify().ok


# ---------------------------------------------------------------------------------- item 2


@pytest.mark.parametrize("method,domain", [("naive", None), ("interval", (0, 1)), ("exact", (0, 1))])
@pytest.mark.parametrize("weights", [[[[1e-310]]], [[[1e-160]], [[1e-160]]]])
def test_subnormal_weights(method, domain, weights):
    net = Network.from_arrays([np.array(w) for w in weights])
    cert = lipschitz(net, 2, domain, method=method)
    true = math.prod(w[0][0] for w in weights)
    assert cert.lower <= true <= cert.upper
    assert math.isfinite(cert.upper)


# ---------------------------------------------------------------------------------- item 3


@pytest.mark.parametrize("build,domain,true", [
    (lambda: Network.from_arrays([np.eye(2), np.eye(2)], None, "leaky_relu:1e160"), (-1, 1), 1e160),
    (lambda: Network.from_arrays([np.array([[1e160]]), np.array([[1.0]])]), (0, 1), 1e160),
])
@pytest.mark.parametrize("norm", [1, 2, math.inf])
def test_huge_weights_give_finite_exact_enclosure(build, domain, true, norm):
    cert = lipschitz(build(), norm, domain, method="exact")
    assert math.isfinite(cert.upper)
    assert cert.lower <= true * (1 + 1e-12) and true * (1 - 1e-12) <= cert.upper
    assert cert.exact and cert.verify().ok


def test_infinite_upper_is_never_exact():
    from certify.methods.certificate import gap_closed, make_certificate
    net = Network.from_arrays([np.array([[1.0]])])
    cert = make_certificate(net, 2, None, "naive", math.inf, None, status="converged")
    assert not cert.exact and cert.status != "converged"
    assert not gap_closed(1.0, math.inf, 1e-9)


# ---------------------------------------------------------------------------------- item 5


def test_poly1_network_auto_exact():
    net = Network.from_arrays([np.array([[2.0, 0.0], [0.0, 1.0]]), np.eye(2)], None, "poly:1")
    assert net.piecewise_linear
    cert = lipschitz(net, 2, None)
    assert cert.exact and abs(cert.upper - 2.0) < 1e-8


# ---------------------------------------------------------------------------------- item 11


@pytest.mark.parametrize("norm,domain", [(2, None), (1, (-1, 1)), (math.inf, (0, 2)), (2, (-1, 1))])
def test_exact_verify_replays_tree_and_rejects_lowered_upper(norm, domain):
    import dataclasses
    rng = np.random.default_rng(3)
    net = Network.from_arrays([rng.standard_normal((6, 3)), rng.standard_normal((5, 6)),
                               rng.standard_normal((2, 5))], [rng.standard_normal(6),
                                                              rng.standard_normal(5), np.zeros(2)])
    cert = lipschitz(net, norm, domain, method="exact", time_limit=30)
    assert cert.exact and len(cert.details["tree"]) > 0
    res = cert.verify()
    assert res.ok and "replayed" in str(res)
    lowered = dataclasses.replace(cert, upper=cert.lower)
    bad = lowered.verify()
    assert not bad.ok and not bad.checks["upper"]


# ------------------------------------------------------------------ time limits, Ctrl-C (#9 item 4, #14 items 4, 10)


def _deep_tanh(seed=0, widths=(8, 16, 16, 1)):
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((widths[i + 1], widths[i])) for i in range(len(widths) - 1)]
    return Network.from_arrays(ws, [rng.standard_normal(w) for w in widths[1:]], "tanh")


def _sigint_after(seconds, times=1):
    import os
    import signal
    import threading

    def fire():
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
            import time
            time.sleep(0.05)
    t = threading.Timer(seconds, fire)
    t.start()
    return t


@pytest.mark.parametrize("method,domain", [("interval", (-1, 1)), ("exact", (-1, 1))])
def test_ctrl_c_returns_best_enclosure_interrupted(method, domain):
    import time
    widths = (8, 16, 16, 1)
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((widths[i + 1], widths[i])) for i in range(3)]
    act = "tanh" if method == "interval" else "relu"
    net = Network.from_arrays(ws, [rng.standard_normal(w) for w in widths[1:]], act)
    t = _sigint_after(1.0)
    t0 = time.perf_counter()
    cert = lipschitz(net, 1, domain, method=method, time_limit=60, tol=1e-12)
    t.join()
    assert time.perf_counter() - t0 < 10
    assert cert.status == "interrupted" and cert.rigorous and math.isfinite(cert.upper)
    assert cert.lower > 0 and cert.verify(time_limit=30).ok


def test_second_ctrl_c_still_returns_a_rigorous_enclosure(monkeypatch):
    import certify.methods.dispatch as dispatch

    def hangs(net, norm, domain, **kw):
        raise KeyboardInterrupt  # what a second Ctrl-C does inside a method
    monkeypatch.setitem(dispatch.METHODS, "interval", hangs)
    net = _deep_tanh()
    cert = lipschitz(net, 2, (-1, 1), method="interval")
    assert cert.status == "interrupted" and cert.method == "naive"
    assert math.isfinite(cert.upper) and cert.verify().ok


@pytest.mark.parametrize("method,domain", [("naive", None), ("interval", (-1, 1)), ("sdp", None),
                                           ("exact", (-1, 1))])
def test_every_method_honours_time_limit(method, domain):
    import time
    widths = (20, 60, 60, 60, 3) if method != "naive" else (2000, 2000, 1)
    rng = np.random.default_rng(2)
    ws = [rng.standard_normal((widths[i + 1], widths[i])) / math.sqrt(widths[i])
          for i in range(len(widths) - 1)]
    net = Network.from_arrays(ws, None, "relu" if method == "exact" else "tanh")
    t0 = time.perf_counter()
    cert = lipschitz(net, 2, domain, method=method, time_limit=1.0, tol=1e-12)
    took = time.perf_counter() - t0
    assert took < 1.0 + 3.0, took  # stated slack: 3 s (solver set-up, one node, one witness)
    assert cert.rigorous and math.isfinite(cert.upper) and not cert.exact


def test_default_time_limit_applies_to_every_method():
    import inspect
    from certify.methods.budget import DEFAULT_TIME_LIMIT
    sig = inspect.signature(lipschitz)
    assert sig.parameters["time_limit"].default == DEFAULT_TIME_LIMIT


def test_auto_falls_back_when_sdp_fails():
    net = Network.from_arrays([np.array([[1e200]]), np.array([[1.0]])], None, "tanh")
    cert = lipschitz(net, 2, None)
    assert cert.rigorous and cert.lower <= 1e200 <= cert.upper
    from certify.methods.sdp import SDPError
    with pytest.raises(SDPError):
        lipschitz(net, 2, None, method="sdp")


def test_intersection_keeps_the_better_ends():
    import dataclasses
    from certify.methods.budget import intersect
    net = _deep_tanh()
    a = lipschitz(net, 2, (-1, 1), method="naive")
    b = lipschitz(net, 2, (-1, 1), method="interval", time_limit=2)
    c = intersect(b, dataclasses.replace(a, lower=0.0, witness=None))
    assert c.upper == min(a.upper, b.upper) and c.lower == b.lower
    assert c.verify().ok


# ------------------------------------------------------------------ item 9: input handling


@pytest.mark.parametrize("kwargs", [
    dict(norm=2 + 0j), dict(domain={0, 1}), dict(domain=("0", "1")),
    dict(domain=(np.ma.masked_array([0.0, 0.0], [True, False]), 1.0)),
    dict(node_limit="3"), dict(method="naive", bogus=1), dict(method="interval", domain=(0, 1), bogus=1),
    dict(method="sdp", bogus=1), dict(progress="yes"),
])
def test_bad_input_is_a_parameter_error(kwargs):
    from bounds.errors import ParameterError
    net = Network.from_arrays([np.eye(2), np.eye(2)], None, "tanh")
    with pytest.raises(ParameterError):
        lipschitz(net, **kwargs)


@pytest.mark.parametrize("net", ["f.npz", None, np.eye(2)])
def test_non_network_is_a_parameter_error(net):
    from bounds.errors import ParameterError
    with pytest.raises(ParameterError, match="Network"):
        lipschitz(net)


@pytest.mark.parametrize("act", ["tanh", "softplus", "sigmoid", "relu"])
def test_huge_box(act):
    net = Network.from_arrays([np.eye(2), np.eye(2)], None, act)
    cert = lipschitz(net, 2, (-1e308, 1e308), time_limit=5)
    true = 0.25 if act == "sigmoid" else 1.0
    assert cert.lower <= true <= cert.upper


def test_from_npz_wrong_files(tmp_path):
    from bounds.errors import ParameterError
    bad = tmp_path / "bad.npz"
    bad.write_text("hello")
    with pytest.raises(ParameterError, match="not a NumPy .npz archive"):
        Network.from_npz(bad)
    npy = tmp_path / "a.npy"
    np.save(npy, np.eye(2))
    with pytest.raises(ParameterError, match="single .npy array"):
        Network.from_npz(npy)


def test_cli_prints_interrupted_enclosure_and_exits_nonzero(monkeypatch, tmp_path, capsys):
    import certify.methods.dispatch as dispatch
    from certify.__main__ import EXIT_INTERRUPTED, main

    def hangs(net, norm, domain, **kw):
        raise KeyboardInterrupt
    monkeypatch.setitem(dispatch.METHODS, "interval", hangs)
    path = tmp_path / "net.npz"
    _deep_tanh().to_npz(path)
    rc = main(["lipschitz", str(path), "--box", "-1", "1", "--method", "interval", "--time-limit", "20"])
    out = capsys.readouterr()
    assert rc == EXIT_INTERRUPTED != 0
    assert "interrupted" in out.out and "upper = " in out.out


def test_cli_help_shows_default_time_limit(capsys):
    from certify.__main__ import main
    from certify.methods.budget import DEFAULT_TIME_LIMIT
    with pytest.raises(SystemExit):
        main(["lipschitz", "--help"])
    assert f"default {DEFAULT_TIME_LIMIT:g}" in capsys.readouterr().out.replace("\n", " ")


def test_progress_line_only_when_asked(capsys):
    net = _deep_tanh()
    lipschitz(net, 2, (-1, 1), method="interval", time_limit=0.5, progress=False)
    assert capsys.readouterr().err == ""
    lipschitz(net, 2, (-1, 1), method="interval", time_limit=0.5, progress=True)
    err = capsys.readouterr().err
    assert "certify:" in err and "nodes" in err


@pytest.mark.parametrize("method", ["sector_bab", "auto"])
def test_ctrl_c_in_wide_one_hidden_layer_returns_rigorous_enclosure(method):
    """Ctrl-C reaches Clarabel (termination callback) and the sector branch and bound (#10)."""
    import time
    rng = np.random.default_rng(3)
    d, k = 16, 300
    net = Network.from_arrays([rng.standard_normal((k, d)) / d ** 0.5, rng.standard_normal((1, k)) / k ** 0.5],
                              [0.1 * rng.standard_normal(k), np.zeros(1)], "relu")
    t = _sigint_after(1.0)
    t0 = time.perf_counter()
    cert = lipschitz(net, 2, method=method, time_limit=60)
    t.join()
    assert time.perf_counter() - t0 < 10
    assert cert.status == "interrupted" and cert.rigorous and math.isfinite(cert.upper)
    naive = lipschitz(net, 2, method="naive")
    assert cert.upper <= naive.upper and cert.verify(time_limit=30).checks["upper"]
