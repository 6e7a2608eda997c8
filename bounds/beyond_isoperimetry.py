"""[WHZ23] Laws of robustness beyond isoperimetry, with constants derived here.

Entries
-------
``bounded_support``
    Theorem 3 [BS21] with the bounded-support constant ``c = d D^2/4``
    (Hoeffding): ``Lip(f) >= eps/(2^8 D) sqrt(n/(p log(60WJ/eps) + log(4/delta)))``.
    Derived; proof in ``docs/proofs/bounded_support.md``.
``any_model``
    A floor for *every* function (no parametrization): support in the ball of
    radius ``R``; ``Lip(f) >= eps/(8 R) ((eps n/4)^(1/d) - 1)``. Derived;
    the published constants could not be read, so the statement was re-proved
    here (``docs/proofs/any_model.md``; the working sheet's ``eps/(32R)`` is 4x
    weaker than what the proof gives).
"""

from __future__ import annotations

import dataclasses

import sympy
from sympy import log, sqrt

from .params import integer, positive, probability
from .theorem import Citation, Hypothesis, Status, Theorem, TrivialFloor
from .universal import (BS21, C_ISO, D_IN, DELTA, EPS, J_LIP, K_MIX, N, P, W_DIAM,
                        _theorem3_hypotheses)

__all__ = ["WHZ23", "ENTRIES"]

WHZ23 = Citation(
    authors="Y. Wu, H. Huang, H. Zhang",
    title="A law of robustness beyond isoperimetry",
    venue="ICML",
    year=2023,
    version_checked="not read: the explicit constants of this record are derived by the "
                    "toolkit and are not attributed to the paper",
)

D_SUPP = positive("D", "diameter of the support of the input distribution")
R_BALL = positive("R", "radius of a ball centred at 0 containing the support")
n, p, eps, delta, W, J, K, d = (q.symbol for q in (N, P, EPS, DELTA, W_DIAM, J_LIP, K_MIX, D_IN))
Dsupp, R = D_SUPP.symbol, R_BALL.symbol

#: Theorem 3 with c = d D^2/4, simplified (d cancels).
_BOUNDED_EXPR = eps / (2 ** 8 * Dsupp) * sqrt(n / (p * log(60 * W * J / eps) + log(4 / delta)))

BOUNDED_SUPPORT = Theorem(
    id="bounded_support",
    title="Universal law for inputs of bounded support (no isoperimetry)",
    citation=dataclasses.replace(WHZ23, theorem="bounded-support law (form derived from "
                                 "[BS21] Theorem 3)"),
    status=Status.DERIVED,
    failure_level=sympy.Symbol("delta", positive=True),
    parameters=(N, P, D_SUPP, EPS, DELTA, W_DIAM, J_LIP, K_MIX),
    expr=_BOUNDED_EXPR,
    hypothesis_list=_theorem3_hypotheses(W, J),
    assumptions=(
        "mu is a mixture of K probability measures on R^d, each supported in a set of "
        "diameter <= D (then each is (d D^2/4)-isoperimetric, by Hoeffding's lemma)",
        "sigma^2 := E_mu[Var(y | x)] > 0 and y in [-1, 1]",
        "(x_i, y_i), i = 1..n, i.i.d.",
        "F = {f_w : w in Wset}, diam(Wset) <= W, ||f_w1 - f_w2||_inf <= J ||w1 - w2||",
    ),
    conclusion=("with probability at least 1 - delta, every f in F with empirical MSE "
                "<= sigma^2 - eps has Lip(f) >= the bound (no dimension gain: d cancels)"),
    trivial_floor=TrivialFloor(2 / Dsupp, "exact fit of +-1 labels, both signs present, on a "
                                          "support of diameter D: Lip(f) >= 2/D"),
    notes=("Derived: [BS21] Theorem 3 (stated) with c = d D^2/4 (derived, "
           "docs/theorems/isoperimetry.md); proof in docs/proofs/bounded_support.md. "
           f"Theorem 3's text: {BS21.version_checked}."),
)

#: The any-model bound: a covering argument, no parametrization.
_ANY_EXPR = eps / (8 * R) * ((eps * n / 4) ** (1 / d) - 1)

ANY_MODEL = Theorem(
    id="any_model",
    title="Lipschitz floor for any model fitting below the noise level (bounded support)",
    citation=dataclasses.replace(WHZ23, theorem="any-model law (re-derived)"),
    status=Status.DERIVED,
    failure_level=2 * sympy.Symbol("delta", positive=True),
    parameters=(N, D_IN, R_BALL, EPS, DELTA),
    expr=_ANY_EXPR,
    hypothesis_list=(Hypothesis(
        "sample_size",
        "sqrt(8 log(1/delta)/n) + sqrt(log(1/delta)/(2n)) <= eps/4 (both concentration "
        "deviations of the proof fit in eps/4)",
        sqrt(8 * log(1 / delta) / n) + sqrt(log(1 / delta) / (2 * n)), eps / 4),),
    assumptions=(
        "the input distribution is supported in the closed l2 ball of radius R centred at 0",
        "y in [-1, 1] and sigma^2 := E[Var(y | x)] > 0",
        "(x_i, y_i), i = 1..n, i.i.d.",
        "f : R^d -> R is any function (no class, no parametrization); Lip(f) is its l2 "
        "Lipschitz constant on the support",
    ),
    conclusion=("with probability at least 1 - 2 delta, every f with empirical MSE "
                "<= sigma^2 - eps has Lip(f) >= the bound (the bound is <= 0, hence void, "
                "when eps n <= 4)"),
    lipschitz_domain="support",
    notes=("Derived and proved in docs/proofs/any_model.md (covering by (1 + 2R/r)^d balls, "
           "McDiarmid over labels, Hoeffding over conditional variances). The constant eps/(8R) "
           "is the proof's; the working sheet's eps/(32R) was 4x weaker."),
    trivial_floor=TrivialFloor(1 / R, "exact fit of +-1 labels, both signs present, on a support "
                                      "in the ball of radius R: Lip(f) >= 2/(2R)"),
)

ENTRIES = (BOUNDED_SUPPORT, ANY_MODEL)
