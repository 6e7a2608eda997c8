"""[BS21] The universal law of robustness: Theorem 2, Theorem 3, Section 3.

Entries
-------
``finite_class``
    Theorem 2 (finite function class): the stated failure-probability
    inequality (:attr:`FiniteClassTheorem.probability_expr`,
    :func:`failure_probability`) and its solved Lipschitz form (``expr``).
``universal_law``
    Theorem 3 (smoothly parametrized classes).
``deep_networks``, ``deep_networks_bbar``
    Section 3: Theorem 3 applied to depth-``D`` networks with bounded,
    possibly shared weights (Lemma 3.1).

All constants are the ones of the NeurIPS 2021 text (= arXiv v1); see
``docs/theorems/universal_law.md`` for the version note.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import flint
import mpmath
import sympy
from sympy import Rational, log, sqrt

from .errors import ParameterError
from .params import Parameter, at_least, integer, positive, probability
from .theorem import Citation, Hypothesis, Status, Theorem, TrivialFloor

__all__ = ["BS21", "ENTRIES", "FiniteClassTheorem", "failure_probability",
           "deep_network_parameters", "DeepNetworkParameters"]

#: The source, as read (the version matters: later versions were not read).
BS21 = Citation(
    authors="S. Bubeck, M. Sellke",
    title="A universal law of robustness via isoperimetry",
    venue="NeurIPS",
    year=2021,
    arxiv="2105.12806",
    version_checked="NeurIPS 2021 submission text (= arXiv v1); arXiv v2-v4, "
                    "camera-ready and JACM 2023 versions not read",
)

# -- shared parameters (papers' notation) -----------------------------------
N = integer("n", "number of i.i.d. samples (x_i, y_i)")
D_IN = integer("d", "input dimension (x_i in R^d)")
P = integer("p", "number of parameters (w in R^p)")
EPS = probability("eps", "margin: training MSE <= sigma^2 - eps")
DELTA = probability("delta", "failure probability")
C_ISO = positive("c", "isoperimetry constant of each mixture component", default=1)
W_DIAM = positive("W", "diameter bound of the parameter set")
J_LIP = positive("J", "Lipschitz constant of w -> f_w in sup norm")
K_MIX = integer("K", "number of mixture components of mu", default=1)

n, d, p, eps, delta, c, W, J, K = (q.symbol for q in
                                   (N, D_IN, P, EPS, DELTA, C_ISO, W_DIAM, J_LIP, K_MIX))

_MIXTURE = ("mu is a mixture of K probability measures on R^d, each c-isoperimetric "
            "(Definition 1.1) with the same c")
_NOISE = "sigma^2 := E_mu[Var(y | x)] > 0 and y in [-1, 1]"
_IID = "(x_i, y_i), i = 1..n, i.i.d. from the joint law with x-marginal mu"


def _mixture_hypothesis(exponent: int) -> Hypothesis:
    """``8^exponent K log(8K/delta) <= n eps^2``, in log-free-overflow form."""
    return Hypothesis(
        "sample_size",
        f"8^{exponent} K log(8K/delta) <= n eps^2 (controls the mixture term)",
        8 ** exponent * K * log(8 * K / delta), n * eps ** 2)


def _universal_expr(c_expr, d_expr, p_expr, W_expr, J_expr):
    """Theorem 3's bound with the given class quantities substituted."""
    return (eps / (2 ** 9 * sqrt(c_expr))
            * sqrt(n * d_expr / (p_expr * log(60 * W_expr * J_expr / eps) + log(4 / delta))))


def _net_hypothesis(product, log_form: bool = False) -> Hypothesis:
    """The cover of the proof has at least one point: ``eps <= 60 W J``.

    Not in the statement: for ``60 W J < eps`` the formula would use a
    negative log-covering number, which no covering argument supports, so
    the toolkit refuses it. Enlarging ``W`` or ``J`` (always legitimate: they
    are upper bounds) restores it. ``log_form`` compares logs, expanded, so
    that ``J = R (WQp)^D`` never overflows in the float path.
    """
    desc = ("eps <= 60 W J, i.e. log(60 W J / eps) >= 0 (toolkit-added: the eps/(6J)-net "
            "has at least one point)")
    if log_form:
        return Hypothesis("net_nonempty", desc, log(eps),
                          sympy.expand_log(log(product), force=True))
    return Hypothesis("net_nonempty", desc, eps, product)


def _theorem3_hypotheses(W_expr, J_expr, log_form: bool = False) -> tuple[Hypothesis, ...]:
    """Theorem 3's hypotheses at the class quantities ``W_expr``, ``J_expr``.

    The net hypothesis must use the same ``60 W J`` as the bound's logarithm, so every record
    that applies Theorem 3 takes both from here.
    """
    return (_mixture_hypothesis(4), _net_hypothesis(60 * W_expr * J_expr, log_form=log_form))


def _theorem3_record(*, id: str, title: str, theorem: str, parameters: tuple[Parameter, ...],
                     W_expr, J_expr, log_form: bool = False, status: Status = Status.STATED,
                     extra_hypotheses: tuple[Hypothesis, ...] = (), **fields) -> Theorem:
    """A [BS21] record: Theorem 3 with the class quantities ``W_expr``, ``J_expr``.

    ``fields`` (assumptions, conclusion, notes) are passed to :class:`Theorem` unchanged.
    """
    return Theorem(
        id=id,
        title=title,
        citation=dataclasses.replace(BS21, theorem=theorem),
        status=status,
        failure_level=sympy.Symbol("delta", positive=True),
        parameters=parameters,
        expr=_universal_expr(c, d, p, W_expr, J_expr),
        hypothesis_list=_theorem3_hypotheses(W_expr, J_expr, log_form) + tuple(extra_hypotheses),
        **fields)


# -- Theorem 3 ----------------------------------------------------------------
UNIVERSAL_LAW = _theorem3_record(
    id="universal_law",
    title="Universal law of robustness (smoothly parametrized classes)",
    theorem="Theorem 3",
    parameters=(N, D_IN, P, EPS, DELTA, C_ISO, W_DIAM, J_LIP, K_MIX),
    W_expr=W,
    J_expr=J,
    assumptions=(
        _MIXTURE,
        _NOISE,
        _IID,
        "F = {f_w : w in Wset}, Wset subset of R^p with diam(Wset) <= W, and "
        "||f_w1 - f_w2||_inf <= J ||w1 - w2|| for all w1, w2 in Wset",
    ),
    conclusion=("with probability at least 1 - delta over the sample, every f in F whose "
                "empirical MSE (1/n) sum_i (f(x_i) - y_i)^2 is <= sigma^2 - eps has "
                "Lip(f) >= the bound (l2 Lipschitz constant on R^d)"),
    notes=("Constants as in the NeurIPS 2021 submission text (= arXiv v1). The hypothesis "
           "'net_nonempty' (eps <= 60 W J) is added by the toolkit; see docs."),
)


# -- Theorem 3 with sharper constants (derived) ------------------------------------------------
#: The net's sup-norm radius in the sharp proof (docs/proofs/universal_law_sharp.md): rho = eps/16.
EPS_NET = eps / 16
#: The margin left for Theorem 2 after moving to the net: eps' = eps - 2 rho sqrt(1 - eps) - rho^2.
EPS_SHARP = eps - 2 * EPS_NET * sqrt(1 - eps) - EPS_NET ** 2

UNIVERSAL_LAW_SHARP = Theorem(
    id="universal_law_sharp",
    title="Universal law of robustness with sharper explicit constants (derived)",
    citation=dataclasses.replace(BS21, theorem="Theorem 3, re-derived from Theorem 2 with "
                                               "sharper constants"),
    status=Status.DERIVED,
    failure_level=sympy.Symbol("delta", positive=True),
    parameters=(N, D_IN, P, EPS, DELTA, C_ISO, W_DIAM, J_LIP, K_MIX),
    expr=(EPS_SHARP / (64 * sqrt(c))
          * sqrt(n * d / (p * log(1 + 32 * W * J / eps) + log(4 / delta)))),
    hypothesis_list=(Hypothesis(
        "sample_size",
        "8^3 K log(8K/delta) <= n eps'^2, eps' = eps - (eps/8) sqrt(1 - eps) - eps^2/256 "
        "(Theorem 2's mixture term at eps' is <= delta/2)",
        8 ** 3 * K * log(8 * K / delta), n * EPS_SHARP ** 2),),
    assumptions=UNIVERSAL_LAW.assumptions,
    conclusion=UNIVERSAL_LAW.conclusion,
    notes=("Derived: Theorem 2 (stated) applied to an internal (eps/16)/J-net of the "
           "Lipschitz-constrained class, of size (1 + 32 W J/eps)^p, at margin eps' = eps - "
           "(eps/8) sqrt(1 - eps) - eps^2/256 and the same L; proof in "
           "docs/proofs/universal_law_sharp.md. About 7x the stated bound at the report's "
           "parameters, with an 8x (and more) weaker sample-size hypothesis. Never replaces "
           "universal_law, whose constants are the source's."),
)


# -- Theorem 2 ----------------------------------------------------------------
LOGF = at_least("logF", "log|F|, natural log of the (finite) class size", 0.0)
L_LIP = positive("L", "Lipschitz level in the event 'Lip(f) <= L'")
logF, L = LOGF.symbol, L_LIP.symbol


@dataclass(frozen=True)
class FiniteClassTheorem(Theorem):
    """Theorem 2 record: the solved bound (``expr``) plus the stated inequality.

    Attributes
    ----------
    probability_expr : sympy.Expr
        The stated upper bound on ``P(exists f in F: MSE <= sigma^2 - eps and
        Lip(f) <= L)``, in ``n, d, K, c, eps, L, logF``.
    """

    probability_expr: sympy.Expr = None

    def failure_probability(self, *, precision: int | None = None, **params) -> mpmath.mpf:
        """Evaluate :attr:`probability_expr` (validated parameters, mpmath).

        Parameters: ``n, d, K, c, eps, L, logF`` (``K``, ``c`` default to 1).
        The value may exceed 1 (the inequality is then void).
        """
        return failure_probability(precision=precision, **params)


_PROB_PARAMS = (N, D_IN, K_MIX, C_ISO, EPS, L_LIP, LOGF)
_PROB_EXPR = (4 * K * sympy.exp(-n * eps ** 2 / (8 ** 3 * K))
              + 2 * sympy.exp(logF - eps ** 2 * n * d / (8 ** 4 * c * L ** 2)))
_prob_fn = sympy.lambdify([q.symbol for q in _PROB_PARAMS], _PROB_EXPR, modules="mpmath")


def failure_probability(*, precision: int | None = None, **params) -> mpmath.mpf:
    """Theorem 2's bound on the probability that a bad smooth fit exists.

    ``4 K exp(-n eps^2/(8^3 K)) + 2 exp(logF - eps^2 n d/(8^4 c L^2))``.

    Examples
    --------
    >>> v = failure_probability(n=10**6, d=100, eps=0.5, L=1, logF=1000)
    >>> v < 1e-100
    True
    """
    known = {q.name: q for q in _PROB_PARAMS}
    for name in params:
        if name not in known:
            from .errors import UnknownParameterError
            raise UnknownParameterError(name, tuple(known))
    dps = int(precision) if precision is not None else mpmath.mp.dps
    if dps < 1:
        raise ParameterError("precision", precision, "integers >= 1")
    with mpmath.workdps(dps + 10):
        vals = []
        for q in _PROB_PARAMS:
            if q.name not in params and q.default is None:
                from .errors import MissingParameterError
                raise MissingParameterError(q.name, q.domain_str())
            vals.append(q.validate(params.get(q.name, q.default)))
        value = _prob_fn(*vals)
    with mpmath.workdps(dps):
        return +value


FINITE_CLASS = FiniteClassTheorem(
    id="finite_class",
    title="Law of robustness for a finite function class",
    citation=dataclasses.replace(BS21, theorem="Theorem 2"),
    status=Status.STATED,
    failure_level=sympy.Symbol("delta", positive=True),
    parameters=(N, D_IN, EPS, DELTA, C_ISO, LOGF, K_MIX),
    expr=eps / (64 * sqrt(c)) * sqrt(n * d / (logF + log(4 / delta))),
    hypothesis_list=(Hypothesis(
        "sample_size",
        "8^3 K log(8K/delta) <= n eps^2 (makes the mixture term <= delta/2)",
        8 ** 3 * K * log(8 * K / delta), n * eps ** 2),),
    assumptions=(_MIXTURE, _NOISE, _IID, "F is finite, with log|F| <= logF"),
    conclusion=("with probability at least 1 - delta, every f in F with empirical MSE "
                "<= sigma^2 - eps has Lip(f) >= the bound"),
    notes=("Status 'stated': the inequality and every constant are the source's; the solved "
           "form is two lines of algebra (each term <= delta/2), re-checked symbolically in "
           "tests/test_bounds_universal.py. 'derived' is reserved for constants the source "
           "does not give."),
    probability_expr=_PROB_EXPR,
)


# -- Section 3: deep networks -------------------------------------------------
DEPTH = integer("D", "depth: number of weight layers")
Q_SHARE = integer("Q", "sharing: each parameter feeds at most Q matrix entries or biases",
                  default=1)
W_BOUND = at_least("W", "weight bound: w in [-W, W]^p (Lemma 3.1 needs W >= 1)", 1.0)
R_IN = positive("R", "input radius: ||x|| <= R on the support")
BBAR = positive("Bbar", "bound on B(w) = max_i prod_{j != i} ||W_j||_op on the subclass")
Dep, Q, Wb, R, Bbar = (q.symbol for q in (DEPTH, Q_SHARE, W_BOUND, R_IN, BBAR))

_NET_ASSUMPTIONS = (
    _MIXTURE, _NOISE, _IID,
    "depth-D network with layers L_1..L_D, connections L_i -> L_j only for i < j (L_0 the "
    "input), activations 1-Lipschitz with sigma(0) = 0 (relu, leaky relu with slope <= 1, "
    "tanh, abs, identity; not sigmoid or softplus)",
    "parameters w in [-W, W]^p, shared through an index map: each parameter feeds at most "
    "Q matrix entries or biases",
    "inputs satisfy ||x|| <= R on the support of mu",
)

#: The parameter-Lipschitz constant of depth-D networks, derived (docs/proofs/deep_networks.md):
#: sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1). It replaces [BS21]'s R (W Q p)^D, which fails
#: for small R when the network has biases (docs/errata.md).
J_DEEP = sqrt(Q * Dep * (1 + R ** 2)) * (Wb * sqrt(2 * Q * p)) ** (Dep - 1)
#: [BS21] Section 3's J, as the source writes it (kept for the errata and the proof-step check).
J_DEEP_SOURCE = R * (Wb * Q * p) ** Dep
#: The diameter of [-W, W]^p.
DIAM_DEEP = 2 * Wb * sqrt(p)
#: Theorem 3's J on the subclass B(w) <= Bbar [BS21, Section 3]: Bbar Q R sqrt(p).
J_BBAR = Bbar * Q * R * sqrt(p)

_DEEP_ERRATUM = (
    "[BS21] Section 3 applies Theorem 3 with J = R (W Q p)^D, from Lemma 3.1 "
    "(|f_w1(x) - f_w2(x)| <= Bbar Q R sqrt(p) ||w1 - w2||). As written this fails in two "
    "corners. (1) Biases move the output independently of R: widths [1, 1, 1], R = 0.01, W = 1, "
    "p = 4 give J = 0.16, yet changing only the output bias by 0.5 changes f(0) by 0.5 > 0.16 * 0.5. "
    "(2) The lemma needs sigma(0) = 0 (the source says only '1-Lipschitz activations'): with "
    "sigma = sigmoid and all weights 0 except the output weight, f(0) = w_out/2 moves with w_out "
    "even at R -> 0. The toolkit's repair, proved in docs/proofs/deep_networks.md: "
    "J = sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1) with sigma(0) = 0 assumed.")

#: Exact fits of +-1 labels with both signs present: two inputs within 2R of each other differ
#: by 2 in value.
_FLOOR_BALL = TrivialFloor(1 / R, "exact fit of +-1 labels, both signs present, on inputs with "
                                  "||x|| <= R: Lip(f) >= 2/(2R)")

DEEP_NETWORKS = _theorem3_record(
    id="deep_networks",
    title="Universal law for deep networks with bounded, shared weights",
    theorem="Section 3 (Lemma 3.1 and Theorem 3), J repaired",
    parameters=(N, D_IN, P, DEPTH, W_BOUND, R_IN, EPS, DELTA, C_ISO, Q_SHARE, K_MIX),
    W_expr=DIAM_DEEP,
    J_expr=J_DEEP,
    log_form=True,
    status=Status.DERIVED,
    assumptions=_NET_ASSUMPTIONS,
    conclusion=("with probability at least 1 - delta, every network of the class with "
                "empirical MSE <= sigma^2 - eps has Lip(f) >= the bound (Theorem 3 with "
                "diameter 2 W sqrt(p) and J = sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1))"),
    notes=("Derived: Theorem 3 (stated) with the parameter-Lipschitz constant proved in "
           "docs/proofs/deep_networks.md, replacing the source's J = R (W Q p)^D (see erratum). "
           "Evaluated through Theorem 3 with explicit W and J, not the Omega~ of the source. "
           "Logs are expanded so that (W sqrt(2Qp))^(D-1) never overflows."),
    trivial_floor=_FLOOR_BALL,
    erratum=_DEEP_ERRATUM,
)

_BBAR_REFUSAL = (
    "Lemma 3.1's path argument bounds |f_w1(x) - f_w2(x)| by integrating the gradient along the "
    "segment [w1, w2], which needs the class {B(w) <= Bbar} to be convex. It is not: with three "
    "scalar layers, B(10, 0, 1) = B(0, 10, 1) = 10 but B(5, 5, 1) = 25 at the midpoint. The "
    "toolkit has no repaired argument, so this entry is not evaluated (docs/errata.md).")

DEEP_NETWORKS_BBAR = dataclasses.replace(_theorem3_record(
    id="deep_networks_bbar",
    title="Universal law for deep networks, subclass with B(w) <= Bbar (proof has a gap)",
    theorem="Section 3 (Lemma 3.1 and Theorem 3)",
    parameters=(N, D_IN, P, BBAR, W_BOUND, R_IN, EPS, DELTA, C_ISO, Q_SHARE, K_MIX),
    W_expr=DIAM_DEEP,
    J_expr=J_BBAR,
    log_form=True,
    status=Status.UNPROVED,
    assumptions=_NET_ASSUMPTIONS + (
        "the class is restricted to weights with B(w) <= Bbar, "
        "B(w) = max_i prod_{j != i} ||W_j||_op",),
    conclusion=("claimed by the source: with probability at least 1 - delta, every network of "
                "the subclass with empirical MSE <= sigma^2 - eps has Lip(f) >= Theorem 3's bound "
                "with diameter 2 W sqrt(p) and J = Bbar Q R sqrt(p). NOT evaluated: the proof "
                "has a gap (see refusal)."),
    refusal=_BBAR_REFUSAL,
    erratum=("[BS21] Section 3 states the subclass bound Omega~(sqrt(nd/(p log Bbar))) via "
             "Lemma 3.1 with J = Bbar Q R sqrt(p). " + _BBAR_REFUSAL),
))


@dataclass(frozen=True)
class DeepNetworkParameters:
    """Theorem 3's class quantities for a depth-``D`` network.

    Attributes
    ----------
    p, D, d : int
        Parameter count, depth (number of weight layers), input dimension.
    W, R, Q : float
    diameter : mpmath.mpf
        ``2 W sqrt(p)``, rounded up (an upper bound on the class diameter).
    log_J : mpmath.mpf
        ``log J`` with ``J = sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1)``, the parameter-Lipschitz
        constant of ``docs/proofs/deep_networks.md`` (``J`` itself may overflow float64),
        rounded up.

    Both are upper ends of ball enclosures: larger class quantities only lower the bound, so
    Theorem 3 evaluated with them stays valid.
    """

    p: int
    D: int
    d: int
    W: object
    R: object
    Q: int
    diameter: object
    log_J: object

    @property
    def J(self) -> mpmath.mpf:
        """``sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1)`` as an mpmath number (no overflow), rounded up."""
        from ._verified import arb_of_mpf, arb_precision, arb_upper
        with arb_precision():
            return arb_upper(arb_of_mpf(self.log_J).exp())

    def theorem_parameters(self) -> dict:
        """Keyword arguments for ``bounds.get('deep_networks')``."""
        return {"p": self.p, "D": self.D, "d": self.d, "W": self.W, "R": self.R, "Q": self.Q}


def deep_network_parameters(widths: Sequence[int], W, R, Q: int = 1, *,
                            biases: bool = True, sigma0=0) -> DeepNetworkParameters:
    """Class quantities of a fully connected chain ``widths[0] -> ... -> widths[-1]``.

    Parameters
    ----------
    widths : sequence of int
        Layer widths, input first; ``D = len(widths) - 1`` weight layers.
    W : float
        Weight bound (``>= 1``).
    R : float
        Input radius.
    Q : int
        Sharing factor (1: no sharing).
    biases : bool
        Count one bias per non-input unit.
    sigma0 : float
        ``max |sigma(0)|`` over the activations. The parameter-Lipschitz constant ``J`` is proved
        for ``sigma(0) = 0`` only (with ``sigma(0) != 0`` the output moves with the last layer's
        weights even at ``R = 0``, docs/errata.md): anything else is refused.

    Raises
    ------
    ParameterError
        Bad widths, ``W < 1``, ``R <= 0``, or ``sigma0 != 0``.

    Examples
    --------
    >>> q = deep_network_parameters([784, 100, 10], W=1, R=1)
    >>> q.p, q.D, q.d
    (79510, 2, 784)
    """
    ws = list(widths)
    if len(ws) < 2:
        raise ParameterError("widths", widths, "at least two layer widths (input and output)")
    for i, w in enumerate(ws):
        if isinstance(w, bool) or not isinstance(w, int) and not (
                hasattr(w, "__index__")):
            raise ParameterError("widths", widths, "positive integers", f"entry {i} is {w!r}")
        if int(w) < 1:
            raise ParameterError("widths", widths, "positive integers", f"entry {i} is {w!r}")
    ws = [int(w) for w in ws]
    s0 = Parameter("sigma0", "max |sigma(0)| over the activations", low=0.0,
                   low_open=False).validate(sigma0)
    if s0 != 0:
        raise ParameterError("sigma0", sigma0, "0 (activations with sigma(0) = 0: relu, tanh, "
                             "leaky relu, abs, identity)",
                             "the deep-network J is proved only for sigma(0) = 0; with a sigmoid "
                             "or softplus the output moves with the last weights even at R = 0")
    p_count = sum(a * b for a, b in zip(ws[:-1], ws[1:])) + (sum(ws[1:]) if biases else 0)
    Wv = W_BOUND.validate(W)
    Rv = R_IN.validate(R)
    Qv = Q_SHARE.validate(Q)
    depth = len(ws) - 1
    from ._verified import arb_of_input, arb_precision, arb_upper
    with arb_precision():
        Wb, Rb, Qb = arb_of_input(W, Wv), arb_of_input(R, Rv), arb_of_input(Q, Qv)
        diameter = arb_upper(2 * Wb * flint.arb(p_count).sqrt())
        # J = sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1), docs/proofs/deep_networks.md
        log_J = arb_upper((Qb * depth * (1 + Rb * Rb)).log() / 2
                          + (depth - 1) * (Wb * (2 * Qb * p_count).sqrt()).log())
    return DeepNetworkParameters(p=p_count, D=depth, d=ws[0], W=W, R=R, Q=int(Qv),
                                 diameter=diameter, log_J=log_J)


ENTRIES = (UNIVERSAL_LAW, UNIVERSAL_LAW_SHARP, FINITE_CLASS, DEEP_NETWORKS, DEEP_NETWORKS_BBAR)
