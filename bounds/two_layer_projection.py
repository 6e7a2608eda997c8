"""Projection bound for k-neuron networks [BLN21, Theorem 6 made explicit].

A two-layer network ``f(x) = sum_l a_l psi(w_l . x + b_l)`` with ``k`` neurons depends on ``x`` only
through the orthogonal projection ``P`` onto ``span{w_l}`` (rank ``r <= min(k, d)``). If the class
means of ``f`` on the data differ by ``m`` (``m = 2`` for an exact fit of signs), then for any
activation, weights and biases

    Lip(f) >= m * sqrt( n_+ n_- / (lambda_1(M) + ... + lambda_r(M)) ),
    M = sum_{y_i = +1, y_j = -1} (x_i - x_j)(x_i - x_j)^T

(proof: ``docs/proofs/two_layer_projection.md``). Two records live here:

* ``two_layer_projection``: the deterministic, data-dependent bound (:func:`projection_bound`);
* ``two_layer_undercomplete``: its probabilistic corollary for uniform data on the sphere with random
  signs, explicit in ``n, d, k, delta`` (matrix Chernoff; ``docs/proofs/two_layer_undercomplete.md``).

The verified Ky Fan sum (``bounds._verified.ky_fan_upper``: a rigorous upper bound on the sum of
the ``r`` largest eigenvalues of a symmetric Arb matrix, checked in ball arithmetic) and the sample
validation are shared with the other data-dependent entries in ``bounds._verified``.
"""

from __future__ import annotations


import flint
import numpy as np
import sympy

from ._verified import (arb_lower, arb_matrix, arb_of_input, arb_of_mpf, arb_precision, check_data,
                        check_width, ky_fan_upper, width_data_fn)
from .errors import ParameterError
from .params import integer, positive, probability
from .theorem import DataBound, Hypothesis, Status, Theorem, TrivialFloor
from .activation import activation_properties
from .two_layer import bln21_citation

__all__ = ["opposite_pair_scatter", "projection_bound", "chernoff_level",
           "TWO_LAYER_PROJECTION", "TWO_LAYER_UNDERCOMPLETE", "ENTRIES"]


# ----------------------------------------------------------------------------------------------
# the projection bound
# ----------------------------------------------------------------------------------------------

def opposite_pair_scatter(X, y) -> flint.arb_mat:
    """Arb enclosure of ``M = sum_{y_i=+1, y_j=-1} (x_i - x_j)(x_i - x_j)^T``.

    Closed form without the ``n_+ n_-`` loop:
    ``M = n_- C_+ + n_+ C_- + n_+ n_- (mu_+ - mu_-)(mu_+ - mu_-)^T`` with class means ``mu`` and
    centred scatter matrices ``C`` (centring keeps the enclosures tight).
    """
    Xa, ya = check_data(X, y)
    Xp, Xm = Xa[ya > 0], Xa[ya < 0]
    n_p, n_m = len(Xp), len(Xm)
    if n_p == 0 or n_m == 0:
        raise ParameterError("y", f"n_+={n_p}, n_-={n_m}", "both labels present")

    def centred(Z):
        Za = arb_matrix(Z)
        mu = flint.arb_mat(1, Z.shape[0], [1] * Z.shape[0]) * Za * flint.arb(1) / Z.shape[0]
        U = Za - flint.arb_mat(Z.shape[0], 1, [1] * Z.shape[0]) * mu
        return U.transpose() * U, mu

    Cp, mup = centred(Xp)
    Cm, mum = centred(Xm)
    dm = (mup - mum).transpose()
    return Cp * n_m + Cm * n_p + dm * dm.transpose() * (n_p * n_m)


def _class_gap(n_p, n_m, gap, mse, max_abs_error) -> tuple[flint.arb, str]:
    """Lower bound on the class-mean gap of f, from whichever fit statement was given."""
    given = {name: v for name, v in (("gap", gap), ("mse", mse), ("max_abs_error", max_abs_error))
             if v is not None}
    if len(given) > 1:
        name = sorted(given)[1]
        raise ParameterError(name, given[name], "at most one of gap, mse, max_abs_error")
    n = n_p + n_m
    if gap is not None:
        return arb_of_input(gap, positive("gap", "").validate(gap)), "class-mean gap given"
    if mse is not None:
        tau = arb_of_input(mse, positive("mse", "").validate(mse))
        m = 2 - flint.arb(n) * (tau / (n_p * n_m)).sqrt()
        if not (m > 0):
            raise ParameterError("mse", mse, f"< 4 n_+ n_- / n^2 = {4 * n_p * n_m / n**2:.6g}",
                                 "the fit is too loose for a positive class-mean gap")
        return m, "gap >= 2 - n sqrt(mse / (n_+ n_-))"
    if max_abs_error is not None:
        e = probability("max_abs_error", "").validate(max_abs_error)
        return 2 - 2 * arb_of_input(max_abs_error, e), "gap >= 2 - 2 max|f(x_i) - y_i|"
    return flint.arb(2), "exact fit of signs: gap = 2"


def projection_bound(X, y, k, *, gap=None, mse=None, max_abs_error=None,
                     activation=None) -> DataBound:
    """Deterministic lower bound on the global Lipschitz constant of any k-neuron fit.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels in {-1, +1}; both must occur.
    k : int
        Number of neurons (any activation, any weights and biases).
    gap : float, optional
        A lower bound on ``mean_{y_i=+1} f(x_i) - mean_{y_i=-1} f(x_i)``.
    mse : float, optional
        Training mean squared error ``(1/n) sum (f(x_i) - y_i)^2 <= mse`` instead of ``gap``.
    max_abs_error : float, optional
        ``max |f(x_i) - y_i| <= max_abs_error < 1`` instead of ``gap``.
        Without any of the three: exact fit, gap 2.
    activation : str, optional
        Checked for a known name only; the bound holds for every activation.

    Returns
    -------
    DataBound
        ``value`` rounded down (Arb); ``quantities`` holds ``n_plus``, ``n_minus``, ``r``, the
        verified ``ky_fan`` upper bound and its float ``ky_fan_estimate``, and the ``gap``.

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0]]); y = np.array([1, -1])
    >>> b = projection_bound(X, y, k=1)   # |f(x1) - f(x2)| = 2 over a distance 2
    >>> 1 - 1e-12 < b.value <= 1
    True
    """
    if activation is not None:
        activation_properties(activation)
    k = check_width(k)
    Xa, ya = check_data(X, y)
    n_p, n_m = int(np.sum(ya > 0)), int(np.sum(ya < 0))
    r = min(k, Xa.shape[1])
    with arb_precision():
        M = opposite_pair_scatter(Xa, ya)
        m, how = _class_gap(n_p, n_m, gap, mse, max_abs_error)
        kf = ky_fan_upper(M, r)
        value = m * (flint.arb(n_p * n_m) / arb_of_mpf(kf.value)).sqrt() if kf.value > 0 else None
    if value is None:
        raise ParameterError("X", "all points of each class coincide", "data with M != 0",
                             "opposite classes at the same points cannot be fitted")
    return DataBound(
        value=arb_lower(value), theorem_id="two_layer_projection",
        method=f"Arb closed-form scatter, Ky Fan {kf.method}; {how}", rigorous=True,
        quantities={"n_plus": n_p, "n_minus": n_m, "r": r, "ky_fan": kf.value,
                    "ky_fan_estimate": kf.estimate, "gap": arb_lower(m)},
        guarantee=TWO_LAYER_PROJECTION.conclusion)


# ----------------------------------------------------------------------------------------------
# records
# ----------------------------------------------------------------------------------------------

_m, _np_, _nm, _kf = (positive("m", "class-mean gap of f (2 for an exact fit of signs)", default=2),
                      integer("n_plus", "number of points labelled +1"),
                      integer("n_minus", "number of points labelled -1"),
                      positive("ky_fan", "upper bound on lambda_1(M)+...+lambda_r(M), r = min(k, d)"))

TWO_LAYER_PROJECTION = Theorem(
    id="two_layer_projection",
    title="Projection bound for k-neuron networks, deterministic and data-dependent",
    citation=bln21_citation("Theorem 6",
                  "Makes explicit the undercomplete-case argument (a k-neuron network factors "
                  "through a rank-min(k,d) projection) as a deterministic data-dependent inequality."),
    status=Status.DERIVED,
    parameters=(_m, _np_, _nm, _kf),
    expr=_m.symbol * sympy.sqrt(_np_.symbol * _nm.symbol / _kf.symbol),
    assumptions=(
        "f(x) = sum_{l<=k} a_l psi(w_l . x + b_l): any activation psi, any weights and biases",
        "m <= mean_{y_i=+1} f(x_i) - mean_{y_i=-1} f(x_i) (m = 2 for f(x_i) = y_i)",
        "ky_fan >= sum of the min(k, d) largest eigenvalues of "
        "M = sum_{y_i=+1, y_j=-1} (x_i - x_j)(x_i - x_j)^T",
    ),
    conclusion=("Deterministically, every k-neuron two-layer network whose class means on the data "
                "differ by at least m has global l2 Lipschitz constant >= m sqrt(n_+ n_- / ky_fan) "
                "(also on any set containing the data and its projections, e.g. the unit ball when "
                "||x_i|| <= 1)."),
    lipschitz_domain="global",
    norm="l2",
    notes=("Bounds the true Lipschitz constant (not a proxy). Use from_data(X, y, k=..., "
           "[gap=|mse=|max_abs_error=]) for the verified Arb evaluation. "
           "Proof: docs/proofs/two_layer_projection.md."),
    data_fn=width_data_fn(projection_bound),
)


class LambertW0(sympy.Function):
    """Principal branch of Lambert's W on ``[-1/e, inf)``, real valued.

    A SymPy function that prints to ``scipy.special.lambertw(...).real`` in the NumPy path and to
    ``mpmath.lambertw`` in the mpmath path (SymPy's own ``LambertW`` has no NumPy printer).
    """

    def fdiff(self, argindex=1):
        # W'(z) = 1 / (e^W (1 + W)), regular at z = 0 (unlike W / (z (1 + W)))
        w = LambertW0(self.args[0])
        return 1 / (sympy.exp(w) * (1 + w))

    def _eval_evalf(self, prec):
        return sympy.LambertW(self.args[0])._eval_evalf(prec)

    def _numpycode(self, printer):
        # the argument is >= -1/e by construction, but its float rounding may fall just below,
        # where scipy returns NaN: clamp to the first double above -1/e (W_0 increases, so the
        # clamp can only raise W_0 by ~1e-8, towards a smaller bound)
        return "%s(%s(%s, -0.3678794411714423)).real" % (
            printer._module_format("scipy.special.lambertw"), printer._module_format("numpy.maximum"),
            printer._print(self.args[0]))

    def _mpmathcode(self, printer):
        return "%s(%s).real" % (printer._module_format("mpmath.lambertw"),
                                printer._print(self.args[0]))

    def _latex(self, printer):
        return r"W_0\left(%s\right)" % printer._print(self.args[0])

    @staticmethod
    def _arb_(z):
        """Arb's principal branch, rigorous (used by Theorem.lower_bound's enclosure).

        Near the branch point a ball of the argument straddles ``-1/e`` and Arb returns NaN;
        here the argument is ``(c - 1)/e >= -1/e`` by construction, and ``W_0`` increases on
        ``[-1/e, inf)`` from ``-1``: the ball from ``-1`` (or ``W_0`` of the lower end) to
        ``W_0`` of a point above both the upper end and ``-1/e`` contains the value.
        """
        w = z.lambertw()
        if w.is_finite():
            return w
        branch = -1 / flint.arb(1).exp()
        lo = flint.arb(z.lower())
        low = lo.lambertw() if lo > branch else flint.arb(-1)
        top = flint.arb(max(z.upper(), branch.upper())).lambertw()
        if not (low.is_finite() and top.is_finite()):
            return w
        mid = (flint.arb(low.lower()) + flint.arb(top.upper())) / 2
        rad = (flint.arb(top.upper()) - flint.arb(low.lower())) / 2
        return flint.arb(mid.mid(), (abs(rad) + mid.rad()).upper())


def chernoff_level(c):
    """SymPy expression of the root ``u >= 1`` of ``u log u - u + 1 = c`` (``c >= 0``).

    ``u = e * exp(W_0((c - 1)/e))``; the matrix Chernoff tail
    ``d [e^(u-1) / u^u]^(n/d)`` equals ``delta/2`` at ``c = (d/n) log(2d/delta)``.
    """
    return sympy.E * sympy.exp(LambertW0((c - 1) / sympy.E))


_n, _d, _k, _delta = (integer("n", "number of samples"), integer("d", "input dimension"),
                      integer("k", "number of neurons"),
                      probability("delta", "failure probability"))
_u = chernoff_level(_d.symbol / _n.symbol * sympy.log(2 * _d.symbol / _delta.symbol))
_r = sympy.Min(_k.symbol, _d.symbol)

TWO_LAYER_UNDERCOMPLETE = Theorem(
    id="two_layer_undercomplete",
    title="Undercomplete two-layer law on the sphere (probabilistic corollary of the projection bound)",
    citation=bln21_citation("Theorem 6",
                  "Explicit-constant version of the undercomplete case (n ~ d, k <= d) for x_i "
                  "uniform on the unit sphere and uniform random signs."),
    status=Status.DERIVED,
    failure_level=sympy.Symbol("delta", positive=True),
    parameters=(_n, _d, _k, _delta),
    expr=sympy.sqrt((1 - 2 * sympy.log(4 / _delta.symbol) / _n.symbol)
                    * sympy.Max(1, _d.symbol / (_r * _u))),
    hypothesis_list=(
        Hypothesis("labels_balanced_enough", "Hoeffding slack keeps n_+ n_- > 0",
                   2 * sympy.log(4 / _delta.symbol), _n.symbol, strict=True),
    ),
    assumptions=(
        "x_1..x_n i.i.d. uniform on the unit sphere S^{d-1}",
        "y_1..y_n i.i.d. uniform on {-1, +1}, independent of the x_i",
        "f(x) = sum_{l<=k} a_l psi(w_l . x + b_l) with f(x_i) = y_i (any activation, weights, biases)",
    ),
    conclusion=("With probability >= 1 - delta over the sample, every k-neuron two-layer network that "
                "fits the labels exactly has global l2 Lipschitz constant >= the bound "
                "sqrt((1 - 2 log(4/delta)/n) max(1, d/(min(k,d) u))), u = e exp(W0((c-1)/e)), "
                "c = (d/n) log(2d/delta)."),
    lipschitz_domain="global",
    norm="l2",
    notes=("u is the matrix Chernoff level: lambda_max(sum x_i x_i^T) <= u n/d with probability "
           ">= 1 - delta/2 [Tropp 2015, Thm 5.1.1]; the other delta/2 is Hoeffding for n_+ n_-. "
           "For n ~ d, u is a constant (about 4 to 10), so the bound is of order sqrt(d/k). "
           "Proof: docs/proofs/two_layer_undercomplete.md."),
    trivial_floor=TrivialFloor(1, "exact fit of +-1 labels, both signs present, on the unit "
                                  "sphere (diameter 2): Lip(f) >= 2/2"),
)

ENTRIES = (TWO_LAYER_PROJECTION, TWO_LAYER_UNDERCOMPLETE)
