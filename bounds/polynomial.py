"""Polynomial activations [BLN21, Theorems 7-9 made explicit]: Lipschitz constant on the unit ball.

For ``psi(z) = z^q`` a k-neuron network ``f(x) = sum_l a_l (w_l . x)^q`` is the symmetric form
``f(x) = A(x, ..., x)`` of the tensor ``A = sum_l a_l w_l^{(x)q}``, and its Lipschitz constant on
the unit ball is exactly ``q ||A||_inj`` (Banach's theorem on symmetric multilinear forms). An
average margin ``(1/n) sum_i y_i f(x_i) >= gamma`` gives ``n gamma <= <A, T_q>`` with
``T_q = sum_i y_i x_i^{(x)q}``, and the rank-``k`` structure of ``A`` bounds ``<A, T_q>`` by
``||A||_inj D_q`` with a data functional ``D_q``:

* ``q = 2``: ``D_2 = sigma_1(T) + ... + sigma_k(T)`` (von Neumann), so ``Lip >= 2 n gamma / D_2``;
  with biases, class-balanced weights remove the constant term and
  ``D_2 = ||T_alpha||_(k) + 2 ||s_alpha||`` (see the proof);
* ``q >= 3``: ``D_q = r^((q-1)/2) sqrt(lambda_1(G) + ... + lambda_r(G))``, ``r = min(k, d)``,
  ``G = T_(1) T_(1)^T`` for the first-mode unfolding ``T_(1)`` (nuclear-norm duality).

The bound is ``Lip_ball(f) >= q n gamma / D_q``; ``quantities['proxy_bound']`` also gives the
weaker-hypothesis proxy bound ``sum_l |a_l| ||w_l||^q >= n gamma / ||T_(1)||_op``.
Proof: ``docs/proofs/polynomial_activation.md``.
"""

from __future__ import annotations

import flint
import numpy as np

from ._verified import (arb_lower, arb_matrix, arb_of_input, arb_of_mpf, arb_precision,
                        arb_upper, check_data, check_width, ky_fan_upper, width_data_fn)
from .errors import ParameterError
from .params import integer, positive
from .theorem import DataBound, Status, Theorem
from .activation import activation_properties
from .two_layer import bln21_citation

__all__ = ["polynomial_bound", "POLYNOMIAL_ACTIVATION", "ENTRIES", "MAX_UNFOLDING_ENTRIES"]

#: Largest ``n * d^(q-1)`` for which the unfolding is formed (ball arithmetic, Python loops).
MAX_UNFOLDING_ENTRIES = 2_000_000


def _degree(q, activation) -> int:
    if activation is not None:
        props = activation_properties(activation)
        if props.degree is None or props.degree < 2:
            raise ParameterError("activation", activation, "poly:<q> with q >= 2")
        if q is not None and q != props.degree:
            raise ParameterError("q", q, f"{props.degree} (the degree of activation {activation!r})")
        return props.degree
    if q is None:
        return 2
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
        raise ParameterError("q", q, "integers >= 2")
    return int(q)


def _dilation(T: flint.arb_mat) -> flint.arb_mat:
    """``[[0, T], [T^T, 0]]``: its ``k`` largest eigenvalues are the ``k`` largest singular values."""
    a, b = T.nrows(), T.ncols()
    T_l, Tt = T.tolist(), T.transpose().tolist()
    rows = [[flint.arb(0)] * a + T_l[i] for i in range(a)] + \
           [Tt[j] + [flint.arb(0)] * b for j in range(b)]
    return flint.arb_mat(rows)


def _unfolding_rows(X: np.ndarray, q: int) -> flint.arb_mat:
    """Exact ``n x d^(q-1)`` matrix whose rows are ``x_i^{(x)(q-1)}`` (working precision suffices)."""
    rows = []
    for x in X.tolist():
        xa = [flint.arb(v) for v in x]
        row = xa
        for _ in range(q - 2):
            row = [u * v for u in row for v in xa]
        rows.append(row)
    return flint.arb_mat(rows)


def polynomial_bound(X, y, k, *, q=None, activation=None, margin=1.0, biases=False) -> DataBound:
    """Lower bound on the Lipschitz constant on the unit ball of degree-q k-neuron fits.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels in {-1, +1}.
    k : int
        Number of neurons.
    q : int, optional
        Degree (default 2, or from ``activation="poly:q"``).
    margin : float
        ``gamma``. Zero biases: ``(1/n) sum_i y_i f(x_i) >= gamma``. With ``biases=True``
        (``q = 2`` only): ``(mean_{+} f - mean_{-} f) / 2 >= gamma``. Exact fit: ``gamma = 1``.
    biases : bool
        Allow ``f(x) = sum_l a_l (w_l . x + b_l)^2``.

    Returns
    -------
    DataBound
        ``value`` = ``q n gamma / D_q`` rounded down; ``quantities``: ``D`` (upper bound),
        ``proxy_bound`` (zero biases only), ``r``, ``q``.

    >>> import numpy as np
    >>> X = np.eye(2); y = np.array([1, -1])
    >>> b = polynomial_bound(X, y, k=2)   # f = x1^2 - x2^2 fits; Lip on the ball = 2
    >>> 2 - 1e-12 < b.value <= 2
    True
    """
    q = _degree(q, activation)
    k = check_width(k)
    Xa, ya = check_data(X, y)
    n, d = Xa.shape
    r = min(k, d)
    gamma = positive("margin", "margin").validate(margin)
    if biases and q != 2:
        raise ParameterError("biases", biases, "False for q >= 3", "biases are handled for q = 2 only")
    if q >= 3 and n * d ** (q - 1) > MAX_UNFOLDING_ENTRIES:
        raise ParameterError("X", f"n d^(q-1) = {n * d ** (q - 1)}",
                             f"n d^(q-1) <= {MAX_UNFOLDING_ENTRIES}", "unfolding too large")
    with arb_precision(53 * q + 64):
        quantities = {"q": q, "r": r, "n": n, "gamma": gamma}
        if q == 2 and biases:
            n_p, n_m = int(np.sum(ya > 0)), int(np.sum(ya < 0))
            if n_p == 0 or n_m == 0:
                raise ParameterError("y", f"n_+={n_p}, n_-={n_m}", "both labels present")
            Xp, Xm = arb_matrix(Xa[ya > 0]), arb_matrix(Xa[ya < 0])
            half = flint.arb(n) / 2
            T = (Xp.transpose() * Xp / n_p - Xm.transpose() * Xm / n_m) * half
            s = (flint.arb_mat(1, n_p, [1] * n_p) * Xp / n_p
                 - flint.arb_mat(1, n_m, [1] * n_m) * Xm / n_m) * half
            s_norm = (s * s.transpose())[0, 0].sqrt()
            kf = ky_fan_upper(_dilation(T), r)
            D = arb_of_mpf(kf.value) + 2 * s_norm
            how = "q=2 with biases: D = ||T_alpha||_(k) + 2||s_alpha|| (class-balanced weights)"
        elif q == 2:
            Xf = arb_matrix(Xa)
            T = arb_matrix(Xa * ya[:, None]).transpose() * Xf
            kf = ky_fan_upper(_dilation(T), r)
            D = arb_of_mpf(kf.value)
            top = ky_fan_upper(_dilation(T), 1).value
            quantities["proxy_bound"] = arb_lower(arb_of_input(margin, gamma) * n / arb_of_mpf(top))
            how = "q=2: D = sigma_1(T)+...+sigma_k(T) (von Neumann)"
        else:
            T1 = arb_matrix(Xa * ya[:, None]).transpose() * _unfolding_rows(Xa, q)
            G = T1 * T1.transpose()
            kf = ky_fan_upper(G, r)
            D = flint.arb(r) ** (flint.arb(q - 1) / 2) * arb_of_mpf(kf.value).sqrt()
            top = ky_fan_upper(G, 1).value
            quantities["proxy_bound"] = arb_lower(arb_of_input(margin, gamma) * n / arb_of_mpf(top).sqrt())
            how = f"q={q}: D = r^((q-1)/2) sqrt(lambda_1(G)+...+lambda_r(G)) (nuclear-norm duality)"
        value = flint.arb(q) * n * arb_of_input(margin, gamma) / D
        quantities["D"] = arb_upper(D)
    return DataBound(value=arb_lower(value), theorem_id="polynomial_activation",
                     method="Arb, Ky Fan dual certificate; " + how, rigorous=True,
                     quantities=quantities, guarantee=POLYNOMIAL_ACTIVATION.conclusion)


_q = integer("q", "degree of the activation psi(z) = z^q", low=2)
_n = integer("n", "number of samples")
_gamma = positive("gamma", "average margin (1/n) sum y_i f(x_i) (1 for an exact fit)", default=1)
_D = positive("D", "data functional D_q >= sup{<A, T_q> : rank A <= k, ||A||_inj <= 1}")

POLYNOMIAL_ACTIVATION = Theorem(
    id="polynomial_activation",
    title="Polynomial activations z^q: Lipschitz constant on the unit ball of k-neuron fits",
    citation=bln21_citation("Theorems 7-9",
                  "Makes explicit the polynomial-activation results (Lipschitz constant on the unit "
                  "ball); deterministic and data-dependent, degree 2 via von Neumann's trace "
                  "inequality and degree q >= 3 via nuclear-norm duality."),
    status=Status.DERIVED,
    parameters=(_q, _n, _gamma, _D),
    expr=_q.symbol * _n.symbol * _gamma.symbol / _D.symbol,
    assumptions=(
        "f(x) = sum_{l<=k} a_l (w_l . x)^q (zero biases; q = 2 also with biases, see from_data)",
        "(1/n) sum_i y_i f(x_i) >= gamma (gamma = 1 for f(x_i) = y_i, y_i in {-1, +1})",
        "D >= sigma_1(T)+...+sigma_k(T) for q = 2, T = sum_i y_i x_i x_i^T; "
        "D >= r^((q-1)/2) sqrt(lambda_1(G)+...+lambda_r(G)) for q >= 3 (r = min(k, d), "
        "G = T_(1) T_(1)^T, T_(1) the d x d^(q-1) unfolding of sum_i y_i x_i^{(x)q})",
    ),
    conclusion=("Deterministically, every such f has Lipschitz constant on the unit ball "
                "q ||A||_inj >= q n gamma / D."),
    lipschitz_domain="unit_ball",
    norm="l2",
    notes=("True Lipschitz constant on the unit ball (not a proxy). Regime n ~ d^q: for random "
           "signs ||T_q||_F^2 ~ n, and the bound is of order q gamma sqrt(n d) / r^(q/2). "
           "from_data(X, y, k=..., q=..., margin=..., biases=...) evaluates D in Arb. "
           "Proof: docs/proofs/polynomial_activation.md."),
    data_fn=width_data_fn(polynomial_bound),
)

ENTRIES = (POLYNOMIAL_ACTIVATION,)
