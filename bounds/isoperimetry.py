"""Isoperimetry [BS21, Definition 1.1] and the constants ``c`` of standard measures.

A probability measure ``mu`` on ``R^d`` is *c-isoperimetric* if for every
bounded L-Lipschitz ``f`` and every ``t >= 0``::

    P_{x ~ mu}(|f(x) - E f| >= t) <= 2 exp(-d t^2 / (2 c L^2)).

The source names examples but gives no value of ``c``; the values of
:func:`constant` are **derived** here (short proofs in
``docs/theorems/isoperimetry.md``):

==================  =====================================  ================
measure             description                            ``c``
==================  =====================================  ================
``"gaussian"``      ``N(0, I_d/d)``                        ``1``
``"sphere"``        uniform on the sphere of radius ``r``  ``r^2 d/(d-1)``
``"cube"``          uniform on a solid cube of diameter 1  ``1/(2 pi)``
``"bounded"``       any law with support of diameter ``D``  ``d D^2/4``
==================  =====================================  ================

The discrete cube is refused (:class:`NotIsoperimetricError`).

Examples
--------
>>> constant("sphere", d=3)
3/2
>>> constant("cube", d=10)
1/(2*pi)
>>> constant("hypercube", d=10)
Traceback (most recent call last):
...
bounds.isoperimetry.NotIsoperimetricError: parameter 'measure'='hypercube' is invalid: allowed one of gaussian, sphere, cube, bounded (the discrete cube {-1, +1}^d/sqrt(d) is not O(1)-isoperimetric for Lipschitz functions on R^d: ...)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
import sympy

from .errors import NotEvaluableError, ParameterError
from .params import at_least, integer, positive
from .theorem import Citation, Status, Theorem
from .universal import BS21

__all__ = ["constant", "MEASURES", "NotIsoperimetricError", "ConcentrationRecord",
           "tail_bound", "ENTRIES"]

#: The measures :func:`constant` knows, with the extra parameter each needs.
MEASURES = {"gaussian": (), "sphere": ("r",), "cube": (), "bounded": ("D",)}

_DISCRETE = ("discrete_cube", "hypercube", "boolean", "boolean_cube", "rademacher")
_DISCRETE_WHY = (
    "the discrete cube {-1, +1}^d/sqrt(d) is not O(1)-isoperimetric for Lipschitz functions "
    "on R^d: the l2 distance to the half of the cube with at most d/2 coordinates equal to +1 "
    "is 1-Lipschitz and fluctuates by order d^(-1/4), while c = O(1) forces fluctuations of "
    "order d^(-1/2). Its support has diameter 2, so measure='bounded' with D=2 (c = d) is "
    "valid; the theorems then lose their dimension gain")


class NotIsoperimetricError(ParameterError):
    """The measure has no dimension-free isoperimetry constant in this sense."""


def _exact(name: str, value, low_open: bool = True) -> sympy.Expr:
    """A positive real as an exact SymPy number (floats are exact binary fractions).

    >>> import mpmath
    >>> _exact("D", mpmath.mp.make_mpf((0, 2**60 + 1, -60, 61)))   # 1 + 2^-60, every bit kept
    1152921504606846977/1152921504606846976
    """
    par = positive(name, name) if low_open else at_least(name, name, 0.0)
    par.validate(value)
    if isinstance(value, sympy.Basic):
        return sympy.nsimplify(value) if value.is_Float else value
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, (int, np.integer)):
        return sympy.Integer(int(value))
    if isinstance(value, mpmath.mpf):
        # value.man_exp, not mpmath.mpf(value): the latter rounds a wide mantissa to nearest
        man, exp = value.man_exp
        return sympy.Integer(man) * sympy.Integer(2) ** exp
    return sympy.Rational(float(value))


def constant(measure: str, *, d: int, r=1, D=None) -> sympy.Expr:
    """The isoperimetry constant ``c`` of a standard measure on ``R^d`` (derived).

    Parameters
    ----------
    measure : {"gaussian", "sphere", "cube", "bounded"}
    d : int
        Dimension (``>= 2`` for the sphere).
    r : float
        Radius of the sphere (default 1).
    D : float
        Diameter of the support (``"bounded"`` only).

    Returns
    -------
    sympy.Expr
        The exact constant (``float()`` gives a number; the catalogue's
        entries accept SymPy numbers and evaluate them at their precision).
        A larger ``c`` is always valid too.

    Raises
    ------
    NotIsoperimetricError
        for the discrete cube (and aliases), or an unknown measure.
    ParameterError
        for a bad ``d``, ``r`` or ``D``.
    """
    if not isinstance(measure, str):
        raise ParameterError("measure", measure, "one of " + ", ".join(MEASURES))
    key = measure.strip().lower()
    if key in _DISCRETE:
        raise NotIsoperimetricError("measure", measure, "one of " + ", ".join(MEASURES),
                                    _DISCRETE_WHY)
    if key not in MEASURES:
        raise NotIsoperimetricError("measure", measure, "one of " + ", ".join(MEASURES),
                                    "unknown measure")
    dim = int(integer("d", "dimension", low=2 if key == "sphere" else 1).validate(d))
    if key == "gaussian":
        return sympy.Integer(1)
    if key == "cube":
        return 1 / (2 * sympy.pi)
    if key == "sphere":
        rr = _exact("r", r)
        return rr ** 2 * sympy.Rational(dim, dim - 1)
    if D is None:
        raise ParameterError("D", None, "(0, inf)", "the support diameter is required")
    DD = _exact("D", D)
    return sympy.Integer(dim) * DD ** 2 / 4


# -- the catalogue record ------------------------------------------------------
D_DIM = integer("d", "dimension of the ambient space")
C_ISO = positive("c", "isoperimetry constant")
T_DEV = at_least("t", "deviation from the mean", 0.0)
L_LIP = positive("L", "Lipschitz constant of f")
d, c, t, L = (q.symbol for q in (D_DIM, C_ISO, T_DEV, L_LIP))

_REASON = ("its expression is the concentration tail bound P(|f - E f| >= t) of Definition 1.1, "
           "not a Lipschitz lower bound; use bounds.isoperimetry.tail_bound(...) or "
           "bounds.isoperimetry.constant(measure, d=...)")


@dataclass(frozen=True)
class ConcentrationRecord(Theorem):
    """A record whose ``expr`` is a tail bound, not a lower bound on ``Lip(f)``.

    ``lower_bound``, ``evaluate`` and ``solve`` refuse with
    :class:`~bounds.errors.NotEvaluableError` (a tail probability returned
    where callers expect a Lipschitz floor would be a silent misuse);
    :meth:`tail_bound` evaluates it.
    """

    def _refuse(self):
        raise NotEvaluableError(self.id, str(self.status), _REASON, what="a Lipschitz lower bound")

    def lower_bound(self, **params):
        self._refuse()

    def evaluate(self, **arrays):
        self._refuse()

    def solve(self, unknown, **params):
        self._refuse()

    def latex(self) -> str:
        return (r"\mathbb{P}\left(|f(x) - \mathbb{E} f| \geq t\right) \leq "
                + sympy.latex(self.expr))

    def tail_bound(self, *, precision: int | None = None, **params) -> mpmath.mpf:
        """``2 exp(-d t^2/(2 c L^2))`` at validated parameters, in mpmath."""
        dps = int(precision) if precision is not None else mpmath.mp.dps
        if dps < 1:
            raise ParameterError("precision", precision, "integers >= 1")
        with mpmath.workdps(dps + 10):
            vals = self.validate(**params)
            value = self._mp_fn(*(vals[p.name] for p in self.parameters))
        with mpmath.workdps(dps):
            return +value


ISOPERIMETRY = ConcentrationRecord(
    id="isoperimetry",
    title="c-isoperimetry (concentration of Lipschitz functions) and constants of standard measures",
    citation=dataclasses.replace(BS21, theorem="Definition 1.1",
                                 note="values of c derived by the toolkit (the source gives none)"),
    status=Status.DERIVED,
    parameters=(D_DIM, C_ISO, T_DEV, L_LIP),
    expr=2 * sympy.exp(-d * t ** 2 / (2 * c * L ** 2)),
    assumptions=("mu is c-isoperimetric (for the standard measures, c = constant(measure, ...))",
                 "f : R^d -> R is bounded and L-Lipschitz (l2)"),
    conclusion="P_{x~mu}(|f(x) - E f| >= t) <= 2 exp(-d t^2/(2 c L^2)) for every t >= 0",
    notes=("Definition 1.1 is stated; the constants of constant() are derived "
           "(docs/theorems/isoperimetry.md). Not a Lipschitz lower bound: lower_bound, "
           "evaluate and solve refuse."),
    refusal=_REASON,
)


def tail_bound(*, precision: int | None = None, **params) -> mpmath.mpf:
    """Definition 1.1's tail bound; see :meth:`ConcentrationRecord.tail_bound`.

    >>> float(tail_bound(d=100, c=1, t=0.5, L=1))  # 2 exp(-12.5)
    7.453306344157342e-06
    """
    return ISOPERIMETRY.tail_bound(precision=precision, **params)


ENTRIES = (ISOPERIMETRY,)
