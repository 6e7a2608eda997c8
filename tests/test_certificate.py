"""Certificate/Witness objects, input validation of certify.lipschitz, and witness evaluation."""

import dataclasses
import math
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bounds.errors import ParameterError
from certify import Network, lipschitz
from certify.methods.certificate import normalize_domain, normalize_norm
from certify.arith.witness import KinkError, jacobian_norm_ball, pair_quotient_ball, point_witness

SEEDS = st.integers(0, 2**32 - 1)


def _hand_net():
    # relu(x) - relu(-x - 1): slope 1 on (-inf, -1) and (0, inf), 0 in between... plus 1 on both:
    # derivative is 1 for x > 0, 1 for x < -1, 0 on (-1, 0): Lipschitz constant exactly 1
    return Network.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, -1.0]])],
                               [np.array([0.0, -1.0]), np.array([0.0])], "relu")


@pytest.mark.parametrize("spelling,expected", [(1, 1), (2, 2), (np.inf, math.inf), ("l1", 1),
                                               ("L2", 2), ("linf", math.inf), ("inf", math.inf),
                                               (2.0, 2), (np.float64(1), 1)])
def test_norm_spellings(spelling, expected):
    assert normalize_norm(spelling) == expected


@pytest.mark.parametrize("bad", [3, 0, "l3", True, None, float("nan"), "fro", -1])
def test_bad_norm_rejected(bad):
    with pytest.raises(ParameterError) as e:
        normalize_norm(bad)
    assert "norm" in str(e.value)


def test_domain_broadcast_and_errors():
    lo, hi = normalize_domain((0, [1, 2, 3]), 3)
    assert lo.tolist() == [0, 0, 0] and hi.tolist() == [1, 2, 3]
    for bad in [(1, 0), ([0, 0, 0], [1, np.nan, 1]), ((0, 0), (1, 1)), (0, np.inf), "box",
                (0, 1, 2), ([[0]], [[1]])]:
        with pytest.raises(ParameterError):
            normalize_domain(bad, 3)


@pytest.mark.parametrize("kwargs", [dict(norm=3), dict(method="magic"), dict(domain=(1, 0)),
                                    dict(domain=([0, 0], [1, 1])), dict(domain=(0, float("nan"))),
                                    dict(tol=0), dict(tol=-1), dict(time_limit=0),
                                    dict(node_limit=0), dict(node_limit=1.5)])
def test_lipschitz_rejects_bad_input(kwargs):
    with pytest.raises(ParameterError):
        lipschitz(_hand_net(), **kwargs)


def test_degenerate_box_is_refused():
    # a single point: Lip over {x} is 0, yet a point witness would report |f'(0.5)| = 1 > 0, an
    # unsound lower end; it must not crash or give NaN either: a typed error naming the problem
    with pytest.raises(ParameterError, match="flat box"):
        lipschitz(_hand_net(), domain=(0.5, 0.5), method="interval", time_limit=2)


def test_str_and_properties():
    cert = lipschitz(_hand_net(), norm="l2", domain=(-3, 3), method="interval", time_limit=5)
    s = str(cert)
    assert "l2" in s and "interval" in s and "rigorous" in s and "box [-3, 3]^1" in s
    assert cert.width == cert.upper - cert.lower
    assert 0 <= cert.gap <= 1
    assert cert.exact and cert.lower <= 1.0 <= cert.upper


def test_verify_detects_tampering():
    cert = lipschitz(_hand_net(), norm=2, method="naive")
    assert cert.verify().ok
    # a lower bound above what the witness proves
    bad = dataclasses.replace(cert, lower=cert.lower * 1.5)
    res = bad.verify()
    assert not res.ok and not res.checks["witness"]
    # an upper bound below the recomputed product
    bad = dataclasses.replace(cert, upper=cert.upper * 0.9)
    res = bad.verify()
    assert not res.checks["upper"]
    # no verifier for an unknown method: reported, not silently accepted
    bad = dataclasses.replace(cert, method="unknown")
    assert not bad.verify().checks["upper"]


def _random_relu_net(seed, d=3, widths=(4, 3), m=2):
    rng = np.random.default_rng(seed)
    dims = (d, *widths, m)
    ws = [rng.standard_normal((dims[i + 1], dims[i])) for i in range(len(dims) - 1)]
    bs = [rng.standard_normal(dims[i + 1]) for i in range(len(dims) - 1)]
    return Network.from_arrays(ws, bs, "relu")


def _fraction_jacobian(net, x):
    """Exact rational Jacobian at a point off all kinks (independent of certify.arith.witness)."""
    h = [Fraction(float(v)) for v in x]
    J = None
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        W = [[Fraction(float(v)) for v in row] for row in w]
        z = [sum(W[r][c] * h[c] for c in range(len(h))) + Fraction(float(b[r])) for r in range(len(W))]
        J = W if J is None else [[sum(W[r][q] * J[q][c] for q in range(len(J))) for c in range(len(J[0]))]
                                 for r in range(len(W))]
        if i < len(net.weights) - 1:
            assert all(v != 0 for v in z)
            D = [1 if v > 0 else 0 for v in z]
            J = [[D[r] * J[r][c] for c in range(len(J[0]))] for r in range(len(J))]
            h = [max(v, Fraction(0)) for v in z]
    return J


@settings(derandomize=True, max_examples=25, deadline=None)
@given(SEEDS)
def test_jacobian_norm_ball_matches_exact_rationals(seed):
    net = _random_relu_net(seed)
    x = np.random.default_rng(seed + 1).standard_normal(net.input_dim)
    J = _fraction_jacobian(net, x)
    l1 = max(sum(abs(J[r][c]) for r in range(len(J))) for c in range(len(J[0])))
    linf = max(sum(abs(v) for v in row) for row in J)
    for p, exact in ((1, l1), (math.inf, linf)):
        ball = jacobian_norm_ball(net, x, p)
        with flint.ctx.workprec(512):  # the exact rational as a (much) thinner ball
            q = flint.arb(flint.fmpq(exact.numerator, exact.denominator))
        assert ball.contains(q)
        assert ball.rad() < 1e-25 * (1 + abs(float(exact)))
    Jf = np.array([[float(v) for v in row] for row in J])
    ball = jacobian_norm_ball(net, x, 2)
    ref = np.linalg.norm(Jf, 2)
    assert abs(float(ball.mid()) - ref) <= 1e-12 * max(1.0, ref)
    # the exact l2 norm: largest eigenvalue of the 2x2 Gram matrix J J^T = [[a, b], [b, c]] is
    # (a + c + sqrt((a - c)^2 + 4 b^2)) / 2, with a rational radicand
    assert len(J) == 2
    a, b, c = (sum(u * v for u, v in zip(J[i], J[j])) for i, j in ((0, 0), (0, 1), (1, 1)))
    disc = (a - c) ** 2 + 4 * b ** 2
    with flint.ctx.workprec(512):
        q = lambda f: flint.arb(flint.fmpq(f.numerator, f.denominator))  # noqa: E731
        exact_l2 = ((q(a + c) + q(disc).sqrt()) / 2).sqrt()
    assert ball.contains(exact_l2)
    w = point_witness(net, x, 2)
    assert w.value <= ref * (1 + 1e-12) and w.value >= ref * (1 - 1e-12)


def test_pair_quotient_of_linear_map_is_exact():
    W = np.array([[2.0, 0.0], [0.0, -3.0]])
    net = Network.from_arrays([W], [np.array([1.0, 1.0])])
    ball = pair_quotient_ball(net, [0.0, 0.0], [0.0, 1.0], 2)
    assert ball.contains(flint.arb(3))
    ball = pair_quotient_ball(net, [0.0, 0.0], [1.0, 1.0], 1)   # |2| + |-3| over 2
    assert ball.contains(flint.arb(2.5))
    with pytest.raises(ParameterError):
        pair_quotient_ball(net, [1.0, 1.0], [1.0, 1.0], 2)


def test_kink_requires_a_realisable_pattern():
    # f = relu(x) - relu(x) == 0; at x = 0 the pattern (on, off) has Jacobian 1 but is not
    # realised by any region, so it must be refused (its norm would exceed Lip = 0)
    net = Network.from_arrays([np.array([[1.0], [1.0]]), np.array([[1.0, -1.0]])], None, "relu")
    with pytest.raises(KinkError):
        jacobian_norm_ball(net, [0.0], 2)
    with pytest.raises(KinkError):
        jacobian_norm_ball(net, [0.0], 2, pattern=[[1, 0]])
    assert jacobian_norm_ball(net, [0.0], 2, pattern=[[1, 1]]).contains(flint.arb(0))
    # the hand net at its kink x = 0: both one-sided patterns exist, but only the right one
    # stays inside the domain [0, 1]
    hand = _hand_net()
    assert jacobian_norm_ball(hand, [0.0], 2, pattern=[[1, 0]]).contains(flint.arb(1))
    assert jacobian_norm_ball(hand, [0.0], 2, pattern=[[0, 0]]).contains(flint.arb(0))
    with pytest.raises(KinkError):
        jacobian_norm_ball(hand, [0.0], 2, pattern=[[0, 0]], domain=([0.0], [1.0]))


def test_smooth_witness_matches_float_jacobian():
    rng = np.random.default_rng(7)
    for act in ("tanh", "sigmoid", "softplus"):
        net = Network.from_arrays([rng.standard_normal((5, 3)), rng.standard_normal((2, 5))],
                                  [rng.standard_normal(5), rng.standard_normal(2)], act)
        x = rng.standard_normal(3)
        ref = np.linalg.norm(net.jacobian(x), 2)
        ball = jacobian_norm_ball(net, x, 2)
        assert abs(float(ball.mid()) - ref) <= 1e-12 * ref
        assert ball.rad() < 1e-20


def test_flat_box_is_refused():
    # f(x) = x1 on [0,0] x [0,1] has constant 0 there, but a point witness would report 1
    import numpy as np
    import pytest
    from bounds.errors import ParameterError
    from certify import Network, lipschitz
    net = Network.from_arrays([np.array([[1.0, 0.0]])], [np.zeros(1)])
    for method in ("naive", "interval", "exact"):
        with pytest.raises(ParameterError, match="flat box"):
            lipschitz(net, norm=2, domain=([0.0, 0.0], [0.0, 1.0]), method=method)
