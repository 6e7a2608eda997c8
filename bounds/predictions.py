"""The real-data predictions of [BS21, Section 1.1], reproduced from the formula.

The universal law says a smooth (``Lip(f) = O(1)``) interpolation of noisy
labels needs ``p >~ n d`` parameters (up to the log factor
``log(60 W J / eps)`` and the constants). With an *effective* dimension
``d`` in place of the input dimension, [BS21] reads off:

=========  =======  ============  ===================  ====================
data       n        input dim     effective d          predicted p ~ n d
=========  =======  ============  ===================  ====================
MNIST      6e4      784           15 to 150            1e6 to 1e7
ImageNet   1.4e7    ~2e5          1e3 to 1e4 (~2e3)    1e10 to 1e11
=========  =======  ============  ===================  ====================

:func:`predictions` recomputes the last column, optionally divides by a log
factor, and optionally shows what Theorem 3 gives *with its explicit
constants* (which are far from tight: the ``2^9`` and the hypotheses make the
explicit numbers orders of magnitude smaller).

Examples
--------
>>> import bounds
>>> table = bounds.predictions()
>>> [(r.data, r.p_low, r.p_high) for r in table.rows]
[('MNIST', 900000.0, 9000000.0), ('ImageNet', 14000000000.0, 140000000000.0)]
>>> [r.order_of_magnitude for r in table.rows]
[(6, 7), (10, 11)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import ParameterError

__all__ = ["PredictionRow", "Predictions", "predictions", "DATASETS"]


@dataclass(frozen=True)
class _Dataset:
    name: str
    n: float
    input_dim: float
    d_eff: tuple[float, float]
    d_eff_note: str
    paper_prediction: str
    observed: str


#: The two data sets of [BS21, Section 1.1], as the paper describes them.
DATASETS = (
    _Dataset("MNIST", 6e4, 784, (15, 150), "15 to 150 (paper)", "1e6 to 1e7",
             "robust models appear at 2e5 to 3e6 params"),
    _Dataset("ImageNet", 1.4e7, 2e5, (1e3, 1e4),
             "'a couple of orders of magnitude smaller' than ~2e5: 1e3 to 1e4 "
             "(paper's point ~2e3)", "at least 1e10 to 1e11",
             "robust models had 1e8 to 1e9 params"),
)


@dataclass(frozen=True)
class PredictionRow:
    """One data set: ``p ~ n d / log_factor`` over the effective-dimension range.

    ``theorem3`` (when requested) maps ``"low"``/``"high"`` to the
    :class:`~bounds.theorem.SolveResult` of ``universal_law.solve("p", ...)``.
    """

    data: str
    n: float
    input_dim: float
    d_eff_low: float
    d_eff_high: float
    d_eff_note: str
    p_low: float
    p_high: float
    paper_prediction: str
    observed: str
    theorem3: dict = field(default_factory=dict)

    @property
    def order_of_magnitude(self) -> tuple[int, int]:
        """``round(log10 p)`` at both ends."""
        return (round(math.log10(self.p_low)), round(math.log10(self.p_high)))


@dataclass(frozen=True)
class Predictions:
    """The table, with the assumptions it rests on."""

    rows: tuple
    assumptions: tuple
    log_factor: float | None

    def to_markdown(self) -> str:
        """A Markdown table plus the assumptions as a bullet list."""
        head = ["data", "n", "input dim", "effective d", "predicted p ~ n d"
                + ("" if self.log_factor is None else f" / {self.log_factor:g}"),
                "paper", "observed"]
        with3 = any(r.theorem3 for r in self.rows)
        if with3:
            head.append("Theorem 3, explicit constants: least p")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = [r.data, f"{r.n:.3g}", f"{r.input_dim:.3g}",
                     f"{r.d_eff_low:g} to {r.d_eff_high:g}",
                     f"{r.p_low:.2g} to {r.p_high:.2g}", r.paper_prediction, r.observed]
            if with3:
                cells.append(" to ".join(
                    ("-" if s.value is None else f"{float(s.value):.3g}")
                    + ("" if s.within_hypotheses else " (hyp. fail)")
                    for s in (r.theorem3["low"], r.theorem3["high"])))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines += [f"- {a}" for a in self.assumptions]
        return "\n".join(lines)


def predictions(*, log_factor: float | None = None, explicit: dict | None = None) -> Predictions:
    """Recompute [BS21, Section 1.1]'s parameter-count predictions.

    Parameters
    ----------
    log_factor : float, optional
        Divide ``n d`` by this (e.g. an estimate of ``log(60 W J / eps)``);
        ``None`` ignores the log factor, as the paper does.
    explicit : dict, optional
        Keyword arguments ``lip, eps, delta, W, J`` (and optionally ``c``,
        ``K``) for ``universal_law.solve("p", ...)``: the least ``p``
        compatible with ``Lip(f) <= lip`` by Theorem 3 with its explicit
        constants, at both ends of the effective-dimension range.

    Returns
    -------
    Predictions
    """
    if log_factor is not None:
        if isinstance(log_factor, bool) or not isinstance(log_factor, (int, float)) \
                or not math.isfinite(log_factor) or log_factor <= 0:
            raise ParameterError("log_factor", log_factor, "(0, inf) or None")
    assumptions = [
        "p ~ n d: the universal law with Lip(f) = O(1), noisy labels (sigma^2 = Theta(1)) and "
        "eps = Theta(1); universal constants dropped",
        "d is an effective dimension of the data (the images concentrate like a "
        "d-dimensional isoperimetric measure), not the pixel count",
        ("the log factor log(60 W J / eps) is ignored, as in [BS21]" if log_factor is None
         else f"the log factor is taken to be {log_factor:g}"),
    ]
    rows = []
    for ds in DATASETS:
        lf = 1.0 if log_factor is None else float(log_factor)
        th3 = {}
        if explicit is not None:
            th3 = _theorem3(ds, explicit)
        rows.append(PredictionRow(ds.name, ds.n, ds.input_dim, ds.d_eff[0], ds.d_eff[1],
                                  ds.d_eff_note, ds.n * ds.d_eff[0] / lf,
                                  ds.n * ds.d_eff[1] / lf, ds.paper_prediction, ds.observed,
                                  th3))
    if explicit is not None:
        assumptions.append("Theorem 3 column: universal_law.solve('p', " + ", ".join(
            f"{k}={v}" for k, v in explicit.items()) + ") at both effective dimensions, "
            "explicit constants of the NeurIPS 2021 text; '(hyp. fail)' marks values outside "
            "the theorem's hypotheses")
    return Predictions(tuple(rows), tuple(assumptions), log_factor)


def _theorem3(ds: _Dataset, explicit: dict) -> dict:
    from .catalog import get
    law = get("universal_law")
    out = {}
    for key, d in zip(("low", "high"), ds.d_eff):
        # outside the hypotheses the value is still shown, marked '(hyp. fail)'
        out[key] = law.solve("p", n=int(ds.n), d=int(d), check=False, **explicit)
    return out
