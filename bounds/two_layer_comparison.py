"""The derived two-layer constants against the sqrt(n/k) conjecture, on the conjecture's data model.

Data: ``x_i`` uniform on the unit sphere ``S^{d-1}``, ``y_i`` uniform random signs (seeded). For
each ``(n, d, k)`` the rows give the conjectured scale ``sqrt(n/k)`` (constant taken as 1, which the
conjecture does not specify) and the proved bounds of this toolkit:

* ``spectral``: ``two_layer_spectral`` in ``n, k, d, delta`` -- a bound on the *proxy*
  ``||a||_2 ||W||_op`` (ReLU), not on ``Lip(f)``;
* ``spectral_data``: its data-dependent form on the sampled data (proxy as well);
* ``projection``: ``two_layer_projection`` on the sampled data (true global ``Lip(f)``, any activation,
  exact fit);
* ``undercomplete``: ``two_layer_undercomplete`` in ``n, d, k, delta`` (true ``Lip(f)``).

Regenerate the table of ``docs/two_layer_vs_conjecture.md`` with
``python -m bounds.two_layer_comparison``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .polynomial import polynomial_bound
from .two_layer_projection import TWO_LAYER_UNDERCOMPLETE, projection_bound
from .two_layer_spectral import TWO_LAYER_SPECTRAL, spectral_bound

__all__ = ["ComparisonRow", "PolynomialRow", "comparison_rows", "polynomial_rows", "to_markdown",
           "DEFAULT_CASES", "sphere_sample"]

#: (n, d, k): undercomplete n ~ d, then wider networks and more data.
DEFAULT_CASES = ((100, 100, 1), (100, 100, 10), (200, 100, 10), (400, 200, 20),
                 (1000, 100, 10), (1000, 100, 100), (2000, 50, 1000))


def sphere_sample(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform on ``S^{d-1}`` and ``n`` uniform signs (normalised Gaussians)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, rng.choice(np.array([-1.0, 1.0]), size=n)


@dataclass(frozen=True)
class ComparisonRow:
    """One ``(n, d, k)`` case: the conjectured scale and each derived bound (floats, rounded down)."""

    n: int
    d: int
    k: int
    delta: float
    conjecture: float
    spectral: float
    spectral_data: float
    projection: float
    undercomplete: float | None

    def ratio(self, name: str) -> float | None:
        """Bound divided by ``sqrt(n/k)``."""
        v = getattr(self, name)
        return None if v is None else v / self.conjecture


def comparison_rows(cases=DEFAULT_CASES, delta: float = 0.01, seed: int = 0) -> list[ComparisonRow]:
    """Evaluate every derived two-layer bound on sampled sphere data for each ``(n, d, k)``.

    >>> row, = comparison_rows([(40, 20, 2)])
    >>> row.conjecture == (40 / 2) ** 0.5 and row.projection > 0 and row.undercomplete > 0
    True
    """
    rows = []
    for i, (n, d, k) in enumerate(cases):
        X, y = sphere_sample(n, d, seed + i)
        spec = float(TWO_LAYER_SPECTRAL.lower_bound(n=n, k=k, d=d, delta=delta))
        spec_data = float(spectral_bound(X, y, k, delta=delta))
        proj = float(projection_bound(X, y, k))
        hyps = TWO_LAYER_UNDERCOMPLETE.hypotheses(n=n, d=d, k=k, delta=delta)
        under = float(TWO_LAYER_UNDERCOMPLETE.lower_bound(n=n, d=d, k=k, delta=delta)) \
            if all(hyps) else None
        rows.append(ComparisonRow(n, d, k, delta, math.sqrt(n / k), spec, spec_data, proj, under))
    return rows


@dataclass(frozen=True)
class PolynomialRow:
    """Degree-q case with ``n ~ d^q``: the bound on ``Lip`` on the unit ball, against ``sqrt(n/k)``."""

    n: int
    d: int
    k: int
    q: int
    conjecture: float
    lipschitz_bound: float
    proxy_bound: float


def polynomial_rows(cases=((100, 10, 1, 2), (100, 10, 10, 2), (400, 20, 5, 2), (1000, 10, 1, 3),
                           (1000, 10, 10, 3)), seed: int = 100) -> list[PolynomialRow]:
    """``polynomial_activation`` on sampled sphere data, ``n ~ d^q``."""
    rows = []
    for i, (n, d, k, q) in enumerate(cases):
        X, y = sphere_sample(n, d, seed + i)
        b = polynomial_bound(X, y, k, q=q)
        rows.append(PolynomialRow(n, d, k, q, math.sqrt(n / k), float(b),
                                  float(b.quantities["proxy_bound"])))
    return rows


def _fmt(v, ref=None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3g}" if ref is None else f"{v:.3g} ({v / ref:.2f})"


def to_markdown(rows=None, poly_rows=None) -> str:
    """The comparison tables in Markdown (each bound followed by its ratio to ``sqrt(n/k)``)."""
    rows = comparison_rows() if rows is None else rows
    poly_rows = polynomial_rows() if poly_rows is None else poly_rows
    out = ["| n | d | k | sqrt(n/k) | spectral, proxy (n,k,d,delta) | spectral, proxy (data) "
           "| projection, Lip (data) | undercomplete, Lip (n,d,k,delta) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r.conjecture
        out.append(f"| {r.n} | {r.d} | {r.k} | {c:.3g} | {_fmt(r.spectral, c)} | "
                   f"{_fmt(r.spectral_data, c)} | {_fmt(r.projection, c)} | "
                   f"{_fmt(r.undercomplete, c)} |")
    out += ["", "| n | d | k | q | sqrt(n/k) | Lip on unit ball (data) | proxy sum abs(a_l) norm(w_l)^q (data) |",
            "|---|---|---|---|---|---|---|"]
    for p in poly_rows:
        out.append(f"| {p.n} | {p.d} | {p.k} | {p.q} | {p.conjecture:.3g} | "
                   f"{_fmt(p.lipschitz_bound, p.conjecture)} | {_fmt(p.proxy_bound, p.conjecture)} |")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(to_markdown())
