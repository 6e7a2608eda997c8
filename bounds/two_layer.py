"""[BLN21] The two-layer law of robustness: the conjecture.

Only the conjecture lives here (status ``conjecture``: recorded, never
evaluated). The proved, derived two-layer entries are in
:mod:`bounds.two_layer_spectral`, :mod:`bounds.two_layer_projection` and
:mod:`bounds.polynomial`; :data:`BLN21` is the shared citation.

Examples
--------
>>> import bounds
>>> t = bounds.get("two_layer_conjecture")
>>> print(t.latex())
\\operatorname{Lip}(f) \\geq \\frac{c_{conj} \\sqrt{n}}{\\sqrt{k}}
>>> t.lower_bound(n=1000, d=100, k=10)
Traceback (most recent call last):
...
bounds.errors.NotEvaluableError: two_layer_conjecture has status 'conjecture' and is not evaluated as a proved bound: ...
"""

from __future__ import annotations

import dataclasses

import sympy

from .params import integer
from .theorem import Citation, Status, Theorem

__all__ = ["BLN21", "bln21_citation", "C_CONJ", "ENTRIES"]

BLN21 = Citation(
    authors="S. Bubeck, Y. Li, D. Nagaraj",
    title="A law of robustness for two-layers neural networks",
    venue="COLT (PMLR 134:804-820)",
    year=2021,
    arxiv="2009.14444",
)


def bln21_citation(theorem: str, note: str) -> Citation:
    """The shared [BLN21] citation, with the statement made explicit and a provenance note."""
    return dataclasses.replace(
        BLN21, theorem=theorem,
        note=note + " The source states this only up to universal constants; the explicit "
                    "constants are derived for this toolkit (docs/proofs/) and are ours, not the "
                    "paper's. Paper text not re-read for this entry: the statement follows the "
                    "project's reference sheet (shared/reference/theorems.md, section 5).")


#: The conjecture's unspecified constant (a symbol, never a number).
C_CONJ = sympy.Symbol("c_conj", positive=True)

N = integer("n", "number of data points")
D_IN = integer("d", "input dimension")
K_NEURONS = integer("k", "number of neurons")
n, k = N.symbol, K_NEURONS.symbol

TWO_LAYER_CONJECTURE = Theorem(
    id="two_layer_conjecture",
    title="Two-layer law of robustness (conjecture)",
    citation=dataclasses.replace(BLN21, theorem="Conjecture 1"),
    status=Status.CONJECTURE,
    parameters=(N, D_IN, K_NEURONS),
    expr=C_CONJ * sympy.sqrt(n / k),
    assumptions=(
        "x_i i.i.d. uniform on S^{d-1} (or N(0, I_d/d)), y_i i.i.d. uniform on {-1, +1}",
        "f in F_k(psi) = {x -> sum_{l=1}^k a_l psi(w_l . x + b_l)}, psi a fixed activation",
        "f(x_i) = y_i for every i (exact interpolation)",
    ),
    conclusion=("conjectured: with high probability every f in F_k(psi) interpolating the data "
                "has Lip(f) >= c sqrt(n/k) for a constant c that the source leaves unspecified"),
    refusal=("an open conjecture with an unspecified constant c_conj; the proved two-layer "
             "results are the entries two_layer_spectral, two_layer_projection, "
             "two_layer_undercomplete and polynomial_activation, and the universal law"),
)

ENTRIES = (TWO_LAYER_CONJECTURE,)
