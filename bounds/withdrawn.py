"""Withdrawn claims, recorded so that nobody cites them as proved bounds.

Examples
--------
>>> import bounds
>>> bounds.get("weight_bounded_rademacher").lower_bound(n=10, k=2)
Traceback (most recent call last):
...
bounds.errors.NotEvaluableError: weight_bounded_rademacher has status 'withdrawn' and is not evaluated as a proved bound: withdrawn by the authors: "the main result does not resolve the conjecture as claimed"
"""

from __future__ import annotations

from .params import integer
from .theorem import Citation, Status, Theorem

__all__ = ["HB21", "ENTRIES"]

HB21 = Citation(
    authors="H. Husain, B. Balle",
    title="A law of robustness for weight-bounded neural networks",
    venue="arXiv preprint (withdrawn)",
    year=2021,
    arxiv="2102.08093",
    version_checked="abstract-level claim and withdrawal notice only",
)

_QUOTE = '"the main result does not resolve the conjecture as claimed"'

WEIGHT_BOUNDED_RADEMACHER = Theorem(
    id="weight_bounded_rademacher",
    title="Law of robustness for classes of bounded Rademacher complexity (withdrawn)",
    citation=HB21,
    status=Status.WITHDRAWN,
    parameters=(integer("n", "number of data points"), integer("k", "number of neurons")),
    expr=None,
    conclusion=("claimed (abstract level): a Lipschitz lower bound for any function class of "
                "bounded Rademacher complexity, giving sqrt(n/k) for weight-bounded two-layer "
                "networks with k neurons and log n constant-size layers for deep networks. "
                "Withdrawn by the authors: " + _QUOTE),
    refusal="withdrawn by the authors: " + _QUOTE,
    notes="No bound expression is recorded: the claimed constants were never established.",
)

ENTRIES = (WEIGHT_BOUNDED_RADEMACHER,)
