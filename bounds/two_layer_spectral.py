"""Spectral-norm two-layer law [BLN21, Theorem 5 made explicit]: a bound on a Lipschitz *proxy*.

For ``f(x) = sum_l a_l psi(w_l . x)`` (zero biases, ``psi`` positively homogeneous and
``L_psi``-Lipschitz) with average margin ``(1/n) sum_i y_i f(x_i) >= gamma`` on random signs,

    L_psi ||a||_2 ||W||_op >= gamma sqrt(n / min(k, d)) / (1 + sqrt(2 log(2/delta)))

with probability ``>= 1 - delta`` over the labels, for any fixed inputs with ``||x_i|| <= 1``.
This is **not** a bound on ``Lip(f)``: ``L_psi ||a||_2 ||W||_op`` is an upper bound on ``Lip(f)``,
so a lower bound on it says nothing about ``Lip(f)`` itself. Proof, with the exact versions of the
contraction and concentration inequalities used: ``docs/proofs/two_layer_spectral.md``.

The data-dependent form (:func:`spectral_bound`) replaces ``sqrt(n)`` by ``||X||_F`` (no norm
assumption on the ``x_i``), sharpens the deviation term with ``2 ||X||_op`` (concentration of convex
Lipschitz functions), and always includes a deterministic variant, valid for every labelling.

The module also keeps the table of activation properties the two-layer entries check
(:func:`activation_properties`); ``bounds`` never imports ``certify``.
"""

from __future__ import annotations


import flint
import mpmath
import numpy as np
import sympy

from ._verified import (arb_lower, arb_matrix, arb_of_input, arb_of_mpf, arb_precision,
                        arb_upper, check_data, check_width, ky_fan_upper, width_data_fn)
from .errors import ParameterError
from .params import integer, positive, probability
from .theorem import DataBound, Status, Theorem, TrivialFloor
from .activation import ActivationProperties, activation_properties
from .two_layer import bln21_citation

__all__ = ["ActivationProperties", "activation_properties", "spectral_bound",
           "TWO_LAYER_SPECTRAL", "ENTRIES"]


def _spectral_activation(activation) -> ActivationProperties:
    props = activation_properties(activation)
    if not (props.positively_homogeneous and props.lipschitz is not None):
        raise ParameterError("activation", activation,
                             "positively homogeneous Lipschitz activations (relu, abs, linear, "
                             "leaky_relu:<slope>)",
                             "two_layer_spectral needs psi(t z) = t psi(z) for t >= 0")
    return props


def _gram(X: np.ndarray) -> flint.arb_mat:
    """Arb enclosure of ``X^T X``."""
    Xa = arb_matrix(X)
    return Xa.transpose() * Xa


def _lambda_max_upper(X: np.ndarray) -> mpmath.mpf:
    """Verified upper bound on ``||X||_op^2 = lambda_max(X^T X)``."""
    if X.shape[0] == 0:
        return mpmath.mpf(0)
    return ky_fan_upper(_gram(X), 1).value


def spectral_bound(X, y, k, *, delta=None, margin=1.0, activation="relu") -> DataBound:
    """Data-dependent lower bound on the proxy ``L_psi ||a||_2 ||W||_op`` of any zero-bias fit.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs (any norms).
    y : array_like, shape (n,)
        Labels in {-1, +1}.
    k : int
        Number of neurons.
    delta : float in (0, 1), optional
        If given, also the probabilistic bound, valid with probability ``>= 1 - delta`` when the
        labels are i.i.d. uniform signs independent of ``X``; the larger of the two is returned.
        Without it only the deterministic bound (valid for every labelling) is computed.
    margin : float
        ``gamma`` with ``(1/n) sum_i y_i f(x_i) >= gamma`` (1 for an exact fit; ``1 - sqrt(mse)``
        for a fit of training mean squared error ``mse``).
    activation : str
        Must be positively homogeneous and Lipschitz (``relu``, ``abs``, ``linear``,
        ``leaky_relu:<slope>``).

    Returns
    -------
    DataBound
        ``quantities``: ``frobenius`` (upper bound on ``||X||_F``), ``op`` (upper bound on
        ``||X||_op``), ``deterministic`` and, with ``delta``, ``probabilistic`` bounds.

    >>> import numpy as np
    >>> X = np.eye(4); y = np.array([1, -1, 1, -1])
    >>> b = spectral_bound(X, y, k=4)        # Z <= sqrt(n_+) ||X_+||_op = sqrt(2), n = 4
    >>> round(float(b.value), 6)              # 4 / (sqrt(4) sqrt(2))
    1.414214
    """
    props = _spectral_activation(activation)
    k = check_width(k)
    Xa, ya = check_data(X, y)
    n, d = Xa.shape
    r = min(k, d)
    gamma = positive("margin", "average margin (1/n) sum y_i f(x_i)").validate(margin)
    with arb_precision():
        scale = arb_of_input(margin, gamma) * n / flint.arb(r).sqrt()
        gram = _gram(Xa)
        op = arb_of_mpf(ky_fan_upper(gram, 1).value).sqrt()
        fro = sum((gram[j, j] for j in range(d)), flint.arb(0)).sqrt()
        if props.nonnegative:
            z_p, z_m = ((flint.arb(int(np.sum(ya == s))) * arb_of_mpf(_lambda_max_upper(Xa[ya == s])))
                        .sqrt() for s in (1.0, -1.0))
            # Arb's max encloses the larger true value; picking a ball by float(upper) could
            # pick the smaller one when the two upper ends round to the same double
            z_det = z_p.max(z_m)
            det_how = "Z <= max_s sqrt(n_s) ||X_s||_op (psi >= 0)"
        else:
            z_det = flint.arb(n).sqrt() * op
            det_how = "Z <= sqrt(n) ||X||_op"
        if not z_det > 0:
            # X = 0: a zero-bias homogeneous network vanishes on the data, no margin is possible
            raise ParameterError("X", "all inputs are 0", "data with some x_i != 0",
                                 "a zero-bias fit has f(x_i) = 0: no margin gamma > 0 is possible")
        # every Z bound below is for psi with Lip(psi) = 1; a general psi multiplies Z by L_psi,
        # so gamma n / (sqrt(r) Z) bounds L_psi ||a||_2 ||W||_op itself: no division by L_psi
        det = scale / z_det
        quantities = {"n": n, "r": r, "gamma": gamma, "lipschitz_psi": props.lipschitz,
                      "frobenius": arb_upper(fro), "op": arb_upper(op),
                      "deterministic": arb_lower(det)}
        value, method = det, "deterministic: " + det_how
        if delta is not None:
            dl = arb_of_input(delta, probability("delta", "failure probability").validate(delta))
            dev = min(fro, 2 * op, key=lambda z: float(z.upper()))
            z_prob = fro + dev * (2 * (2 / dl).log()).sqrt()
            prob = scale / z_prob
            quantities["probabilistic"] = arb_lower(prob)
            if float(prob.lower()) > float(det.lower()):
                value, method = prob, ("probabilistic (1 - delta over random signs): "
                                       "Z <= ||X||_F + min(||X||_F, 2||X||_op) sqrt(2 log(2/delta))")
    return DataBound(value=arb_lower(value), theorem_id="two_layer_spectral",
                     method="Arb; " + method, rigorous=True, quantities=quantities,
                     guarantee=("lower bound on the PROXY L_psi ||a||_2 ||W||_op of every zero-bias "
                                "k-neuron fit with average margin >= gamma, not on Lip(f)"
                                + ("" if delta is None else
                                   "; with probability >= 1 - delta over uniform random signs")))


_n, _k, _d = (integer("n", "number of samples"), integer("k", "number of neurons"),
              integer("d", "input dimension"))
_delta = probability("delta", "failure probability over the random labels")
_gamma = positive("gamma", "average margin (1/n) sum y_i f(x_i) (1 for an exact fit)", default=1)

TWO_LAYER_SPECTRAL = Theorem(
    id="two_layer_spectral",
    title="Spectral-norm two-layer law: lower bound on the proxy Lip(psi) ||a||_2 ||W||_op",
    citation=bln21_citation("Theorem 5",
                  "Makes explicit the spectral-norm version of the two-layer law (zero biases, "
                  "positively homogeneous activation), which bounds the proxy "
                  "Lip(psi) ||a||_2 ||W||_op rather than Lip(f)."),
    status=Status.DERIVED,
    failure_level=sympy.Symbol("delta", positive=True),
    parameters=(_n, _k, _d, _delta, _gamma),
    expr=_gamma.symbol * sympy.sqrt(_n.symbol / sympy.Min(_k.symbol, _d.symbol))
    / (1 + sympy.sqrt(2 * sympy.log(2 / _delta.symbol))),
    assumptions=(
        "x_1..x_n fixed (or independent of y) with ||x_i|| <= 1",
        "y_1..y_n i.i.d. uniform on {-1, +1}",
        "f(x) = sum_{l<=k} a_l psi(w_l . x), zero biases, psi positively homogeneous and "
        "Lip(psi)-Lipschitz (relu, leaky relu, abs, linear)",
        "(1/n) sum_i y_i f(x_i) >= gamma (gamma = 1 if y_i f(x_i) >= 1, e.g. f(x_i) = y_i)",
    ),
    conclusion=("With probability >= 1 - delta over the labels, every such f satisfies "
                "Lip(psi) ||a||_2 ||W||_op >= gamma sqrt(n / min(k, d)) / (1 + sqrt(2 log(2/delta))). "
                "This bounds the PROXY Lip(psi) ||a||_2 ||W||_op >= Lip(f), not Lip(f)."),
    lipschitz_domain="global",
    norm="l2",
    quantity=r"\operatorname{Lip}(\psi)\,\|a\|_2\,\|W\|_{\mathrm{op}}",
    notes=("Proxy bound: the quantity bounded is Lip(psi) ||a||_2 ||W||_op, an upper bound on the "
           "global Lipschitz constant, so this is NOT a lower bound on Lip(f). from_data(X, y, k=..., "
           "delta=..., margin=..., activation=...) gives the data-dependent form (||X||_F in place "
           "of sqrt(n), no norm assumption) and a deterministic variant. "
           "Proof: docs/proofs/two_layer_spectral.md."),
    data_fn=width_data_fn(spectral_bound),
    trivial_floor=TrivialFloor(
        _gamma.symbol, "every zero-bias fit with average margin gamma on inputs with ||x_i|| <= 1: "
                       "f(0) = 0, so gamma <= (1/n) sum |f(x_i)| <= Lip(f) <= the proxy"),
)

ENTRIES = (TWO_LAYER_SPECTRAL,)
