"""Regression tests for the certify-side findings of issue 14 (one test per item, each failing before)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from certify import Network, lipschitz

# ---------------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("method", ["naive", "interval", "sdp", "exact", "auto"])
@pytest.mark.parametrize("act", ["identity", "linear", "poly:1"])
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
