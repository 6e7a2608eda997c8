"""The sector LMI (certify.methods.sector_lmi) against independent references.

* soundness: the checked bound is >= the brute-force maximum of ||A diag(s) W||_2 over the vertices
  of the sector box (the norm is convex in s, so that maximum is the sector relaxation's target and
  the true Lipschitz constant of every net whose slopes stay in the sectors);
* exactness of the check: a matrix the check calls positive definite is positive definite in exact
  rationals (LDL^T pivots of the float midpoint plus the proved margin);
* equivalence: for uniform ReLU sectors the optimum equals the (d+k)-square LipSDP-Neuron optimum,
  and the solver's multipliers pass that (independent) check too;
* tampering: a rho below the brute-force maximum squared never passes.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from certify.methods.layer_lmi import check_layer_lmi, least_c
from certify.methods.sector_lmi import (SectorLMIError, check_sector_lmi, checked_sector_bound,
                                        feasible_multipliers, sector_lmi_enclosure, sector_rho,
                                        solve_sector_lmi)
from lipschitz_reference import fraction_pd
from tests.scale import examples

SEEDS = st.integers(0, 2**32 - 1)


def _vertex_max(W, A, alpha, beta) -> float:
    best = 0.0
    for s in itertools.product(*[sorted({a, b}) for a, b in zip(alpha, beta)]):
        best = max(best, float(np.linalg.norm((A * np.array(s)[None, :]) @ W, 2)))
    return best


def _random_sectors(rng, k):
    """Each neuron: ReLU unstable [0, 1], fixed active [1, 1], fixed inactive [0, 0], or leaky."""
    kinds = rng.integers(0, 4, size=k)
    alpha = np.where(kinds == 1, 1.0, np.where(kinds == 3, 0.1, 0.0))
    beta = np.where(kinds == 2, 0.0, 1.0)
    return alpha, beta


@settings(derandomize=True, max_examples=examples(25), deadline=None)
@given(SEEDS)
def test_checked_bound_is_above_the_vertex_maximum(seed):
    rng = np.random.default_rng(seed)
    d, k, m = int(rng.integers(1, 6)), int(rng.integers(1, 9)), int(rng.integers(1, 3))
    W = rng.standard_normal((k, d)) * 10.0 ** rng.integers(-3, 3)
    A = rng.standard_normal((m, k))
    alpha, beta = _random_sectors(rng, k)
    truth = _vertex_max(W, A, alpha, beta)
    for t in (solve_sector_lmi(W, A, alpha, beta)[0], feasible_multipliers(W, A, alpha, beta)):
        try:
            L, rho, _ = checked_sector_bound(W, A, alpha, beta, np.maximum(t, 1e-300))
        except SectorLMIError:
            continue
        assert truth <= L
        assert check_sector_lmi(W, A, alpha, beta, rho, np.maximum(t, 1e-300))[0]
        # tampering: below the truth nothing may pass
        if truth > 0:
            assert not check_sector_lmi(W, A, alpha, beta, truth * truth * (1 - 1e-6),
                                        np.maximum(t, 1e-300))[0]


@settings(derandomize=True, max_examples=examples(15), deadline=None)
@given(SEEDS)
def test_a_passed_check_is_exactly_positive_definite(seed):
    rng = np.random.default_rng(seed)
    d, k = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    W, A = rng.standard_normal((k, d)), rng.standard_normal((1, k))
    alpha, beta = _random_sectors(rng, k)
    t = feasible_multipliers(W, A, alpha, beta)
    rho = sector_rho(W, A, alpha, beta, t) * (1 + 10.0 ** -rng.integers(3, 12))
    ok = check_sector_lmi(W, A, alpha, beta, rho, t)[0]
    # a relative margin >= 1e-9 must pass (rho = 0: every neuron off, the check wants rho > 0)
    assert ok or rho < sector_rho(W, A, alpha, beta, t) * (1 + 1e-9) or rho == 0
    if ok:
        # the exact matrix, built in rationals from the same floats
        from fractions import Fraction as F
        u = np.flatnonzero(beta > alpha)
        c = [(F(a) + F(b)) / 2 for a, b in zip(alpha, beta)]
        r = [F(b) - F(a) for a, b in zip(alpha, beta)]
        n = d + 1
        M = [[F(0)] * n for _ in range(n)]
        for i in range(d):
            for j in range(d):
                M[i][j] = (F(rho) if i == j else F(0)) - sum(
                    F(t[q]) * F(W[u[q], i]) * F(W[u[q], j]) for q in range(u.size)) / 2
            M[i][d] = M[d][i] = sum(F(W[l, i]) * c[l] * F(A[0, l]) for l in range(k))
        M[d][d] = 1 - sum(r[u[q]] ** 2 / F(t[q]) * F(A[0, u[q]]) ** 2 for q in range(u.size)) / 2
        assert fraction_pd(M)


@settings(derandomize=True, max_examples=examples(6), deadline=None)
@given(SEEDS)
def test_uniform_relu_sectors_match_the_full_lipsdp(seed):
    rng = np.random.default_rng(seed)
    d, k = int(rng.integers(2, 8)), int(rng.integers(2, 24))
    W, A = rng.standard_normal((k, d)), rng.standard_normal((1, k))
    alpha, beta = np.zeros(k), np.ones(k)
    t, info = solve_sector_lmi(W, A, alpha, beta)
    L, rho, _ = checked_sector_bound(W, A, alpha, beta, t)
    # the same multipliers in the (d+k)-square LMI of certify.methods.layer_lmi
    c_full = least_c(W, A.T @ A, 0.0, 1.0, t)
    assert c_full == pytest.approx(rho, rel=1e-6)
    assert check_layer_lmi(W, 0.0, 1.0, rho * (1 + 1e-7), t, V=A.T @ A)[0]


def test_enclosure_contains_the_float_matrix_and_errors_are_typed():
    rng = np.random.default_rng(3)
    W, A = rng.standard_normal((6, 3)), rng.standard_normal((2, 6))
    alpha, beta = np.full(6, 0.1), np.ones(6)
    t = feasible_multipliers(W, A, alpha, beta)
    Mm, Mr = sector_lmi_enclosure(W, A, alpha, beta, 5.0, t)
    assert Mm.shape == (5, 5) and np.all(Mr >= 0) and np.all(Mr <= 1e-12 * (1 + np.abs(Mm)))
    with pytest.raises(SectorLMIError):
        checked_sector_bound(W, A, alpha, beta, t * 1e-9)    # lower block indefinite
    assert not check_sector_lmi(W, A, alpha, beta, 5.0, t[:3])[0]
    assert not check_sector_lmi(W, A, alpha, beta, -1.0, t)[0]
    # no unstable neuron: the bound is ||A diag(alpha) W|| itself
    L, _, _ = checked_sector_bound(W, A, alpha, alpha, np.zeros(0))
    assert np.linalg.norm((A * alpha) @ W, 2) <= L <= np.linalg.norm((A * alpha) @ W, 2) * (1 + 1e-8)
