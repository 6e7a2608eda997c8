"""The theorem record: statement, provenance, hypotheses and lower bound.

A :class:`Theorem` is a frozen record. Its lower bound is a SymPy expression
whose every constant is explicit; it is evaluated

* in mpmath at any precision (:meth:`Theorem.lower_bound`), after validating
  the parameters and checking the hypotheses, and
* in NumPy, vectorized over broadcast arrays (:meth:`Theorem.evaluate`), with
  NaN *and a mask* wherever a hypothesis fails.

Hypotheses are SymPy inequalities ``lhs <= rhs`` (or ``<``) in the parameters,
so that the same statement is checked in both paths and printed in the docs.
Assumptions that no number can check (``mu is c-isoperimetric``) are listed
in :attr:`Theorem.assumptions` and reported, never silently dropped.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping

import mpmath
import numpy as np
import sympy

from .errors import (HypothesisError, MissingParameterError, NotEvaluableError, ParameterError,
                     UndecidedHypothesisError, UnknownParameterError)
from .params import Parameter
from .rounding import nstr_directed

__all__ = ["Status", "Citation", "Hypothesis", "HypothesisResult", "BoundValue",
           "SolveResult", "DataBound", "Theorem", "TrivialFloor"]

#: Guard digits used when checking hypotheses and solving, on top of the
#: requested precision, so that a check is never decided by rounding noise.
GUARD_DIGITS = 10


class Status(str, enum.Enum):
    """Provenance of an entry (see ``docs/conventions.md``)."""

    STATED = "stated"          # statement and constants read in the source text
    DERIVED = "derived"        # explicit constants derived by us, proved in docs/proofs/
    CONJECTURE = "conjecture"  # open; never evaluated as a bound
    WITHDRAWN = "withdrawn"    # claimed then withdrawn; never evaluated
    UNPROVED = "unproved"      # stated, but the source's proof has a gap we could not repair;
                               # refused like a conjecture (see docs/errata.md)

    def __str__(self):
        return self.value


@dataclass(frozen=True)
class Citation:
    """Where a statement comes from, and which text of it was checked."""

    authors: str
    title: str
    venue: str
    year: int
    arxiv: str | None = None
    theorem: str | None = None
    version_checked: str | None = None
    note: str | None = None

    def __str__(self):
        s = f"{self.authors}, {self.title}, {self.venue} {self.year}"
        if self.arxiv:
            s += f", arXiv:{self.arxiv}"
        if self.theorem:
            s += f", {self.theorem}"
        if self.version_checked:
            s += f" (text checked: {self.version_checked})"
        return s


@dataclass(frozen=True)
class HypothesisResult:
    """Outcome of one hypothesis at given parameters.

    ``lhs`` and ``rhs`` are the computed sides (mpmath numbers), so a failed
    check says by how much it fails. ``decided_by`` says how the verdict was
    reached: ``"balls"`` (proved in python-flint ball arithmetic from the
    parameters as given), ``"undecided"`` (the balls could not separate the
    sides even at high precision: counted as failing, the safe side), or
    ``"mpmath"`` (a side has no ball-arithmetic rule).
    """

    name: str
    holds: bool
    lhs: object
    rhs: object
    relation: str
    description: str
    decided_by: str = "mpmath"

    def __bool__(self):
        return bool(self.holds)

    @property
    def undecided(self) -> bool:
        """True when the balls could not decide it (counted as failing, the safe side)."""
        return self.decided_by == "undecided"

    def describe(self) -> str:
        """The hypothesis with its computed sides, without a verdict."""
        return (f"{self.name} [{self.description}]: "
                f"{mpmath.nstr(self.lhs, 8)} {self.relation} {mpmath.nstr(self.rhs, 8)}")

    def __str__(self):
        verdict = "UNDECIDED" if self.undecided else ("holds" if self.holds else "FAILS")
        return f"{self.describe()} {verdict}"


@dataclass(frozen=True)
class Hypothesis:
    """A named hypothesis ``lhs <= rhs`` (``strict``: ``lhs < rhs``).

    Both sides are SymPy expressions in the theorem's parameter symbols.
    """

    name: str
    description: str
    lhs: sympy.Expr
    rhs: sympy.Expr
    strict: bool = False

    def __post_init__(self):
        # plain numbers (``0 <= ...``) are accepted and made SymPy expressions
        object.__setattr__(self, "lhs", sympy.sympify(self.lhs))
        object.__setattr__(self, "rhs", sympy.sympify(self.rhs))

    @property
    def relation(self) -> str:
        return "<" if self.strict else "<="

    def as_relational(self) -> sympy.Rel:
        return (sympy.StrictLessThan if self.strict else sympy.LessThan)(
            self.lhs, self.rhs, evaluate=False)

    def latex(self) -> str:
        return sympy.latex(self.as_relational())

    @cached_property
    def _mp(self) -> tuple[Callable, Callable, tuple]:
        syms = tuple(sorted((self.lhs.free_symbols | self.rhs.free_symbols), key=str))
        return (sympy.lambdify(syms, self.lhs, modules="mpmath"),
                sympy.lambdify(syms, self.rhs, modules="mpmath"), syms)

    @cached_property
    def _np(self) -> tuple[Callable, Callable, tuple]:
        syms = tuple(sorted((self.lhs.free_symbols | self.rhs.free_symbols), key=str))
        return (_FloatFn(syms, self.lhs), _FloatFn(syms, self.rhs), syms)

    def check(self, values: Mapping[str, object]) -> HypothesisResult:
        """Decide the hypothesis in mpmath at the working precision."""
        flhs, frhs, syms = self._mp
        args = [values[s.name] for s in syms]
        lhs, rhs = flhs(*args), frhs(*args)
        holds = bool(lhs < rhs) if self.strict else bool(lhs <= rhs)
        return HypothesisResult(self.name, holds, lhs, rhs, self.relation, self.description)

    def decide(self, balls_at: Callable[[int], dict], bits: int) -> bool | None:
        """Decide the hypothesis in ball arithmetic, raising the precision as needed.

        ``balls_at(bits)`` returns ``{symbol: flint.arb}``. Returns True
        (proved to hold), False (proved to fail) or None (undecided at
        :func:`max_decision_bits` of ``bits``, or a side without a
        ball-arithmetic rule).
        """
        from ._verified import arb_eval, arb_precision
        top = max_decision_bits(bits)
        while bits <= top:
            try:
                with arb_precision(bits):
                    env = balls_at(bits)
                    lhs, rhs = arb_eval(self.lhs, env), arb_eval(self.rhs, env)
                    if self.strict:
                        if lhs < rhs:
                            return True
                        if lhs >= rhs:
                            return False
                    else:
                        if lhs <= rhs:
                            return True
                        if lhs > rhs:
                            return False
            except (NotImplementedError, FloatingPointError, ValueError, TypeError, KeyError):
                return None
            bits = min(bits * 4, top) if bits < top else top + 1
        return None

    def check_array(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """Vectorized check: a boolean array (True where the hypothesis holds).

        The arrays need not be broadcast to a common shape beforehand.
        """
        flhs, frhs, syms = self._np
        args = [arrays[s.name] for s in syms]
        lhs, rhs = flhs(*args), frhs(*args)
        holds = lhs < rhs if self.strict else lhs <= rhs
        # both sides overflowed: float64 cannot decide, count it as failing (masked)
        return np.asarray(holds & ~(np.isinf(lhs) & np.isinf(rhs)))


def max_decision_bits(bits: int) -> int:
    """Highest ball precision tried when deciding a hypothesis that starts at ``bits``.

    At least 4096 bits and 16 times the starting precision, so that a high requested
    precision (``precision=1300`` starts at ~4400 bits) still gets its rounds of refinement.
    """
    return max(4096, 16 * int(bits))


class BoundValue(mpmath.mpf):
    """An mpmath number that remembers what it guarantees.

    Behaves as an ``mpf`` in arithmetic (results of arithmetic are plain
    ``mpf``); carries the theorem id, whether the theorem's hypotheses hold
    at the parameters, and the failed hypotheses when evaluated with
    ``check=False``. For records with a trivial floor, ``floor`` is its value
    and ``vacuous`` is True when the bound does not exceed it (both None
    for records without one; see ``docs/conventions.md``).

    It prints at the precision it was computed at (``precision`` digits,
    not the global ``mp.dps``), rounded *down* when it is rigorous, so the
    printed number is still a valid lower bound:

    >>> import bounds
    >>> v = bounds.get("minimal_interpolation").lower_bound(dy=2, dx=3, precision=30)
    >>> print(v)
    0.666666666666666666666666666666
    >>> v
    BoundValue(0.666666666666666666666666666666, minimal_interpolation)
    """

    __slots__ = ("theorem_id", "within_hypotheses", "failed", "guarantee", "enclosure",
                 "floor", "vacuous", "digits")

    def __new__(cls, value, theorem_id: str, within_hypotheses: bool,
                failed: tuple = (), guarantee: str = "", enclosure: tuple | None = None,
                digits: int | None = None):
        self = mpmath.mpf.__new__(cls, value)
        self.theorem_id = theorem_id
        self.within_hypotheses = within_hypotheses
        self.failed = tuple(failed)
        self.guarantee = guarantee
        self.enclosure = enclosure
        self.digits = int(digits) if digits is not None else mpmath.mp.dps
        self.floor = self.vacuous = None     # set by _marks_vacuity (records with a trivial floor)
        return self

    @property
    def rigorous(self) -> bool:
        """True when the value is the lower end of a ball enclosure of the formula (rounded down)."""
        return self.enclosure is not None

    def __str__(self):
        return nstr_directed(self, self.digits, "down" if self.rigorous else "nearest")

    def __repr__(self):
        tag = "" if self.within_hypotheses else ", OUTSIDE HYPOTHESES"
        return f"BoundValue({self}, {self.theorem_id}{tag})"


#: ``SolveResult.status`` values.
SOLVED, EVERY_VALUE, NO_VALUE = "solved", "every_value", "no_value"


@dataclass(frozen=True, repr=False)
class SolveResult:
    """Solution of ``bound(unknown) = lip`` for one parameter.

    Prints as a short summary (like :class:`scipy.optimize.RootResults`).

    Attributes
    ----------
    unknown : str
    value : int, mpmath.mpf or None
        The extreme admissible value: the smallest (``direction='min'``) or
        largest (``'max'``) value of ``unknown`` for which the bound does not
        exceed ``lip``, rounded inward to an integer (a Python ``int``) for
        integer parameters. With ``status='every_value'`` the end of the
        domain when it belongs to the domain (``p = 1``), else None; with
        ``status='no_value'`` None.
    direction : str
        ``'min'`` or ``'max'``.
    exact : bool
        True when SymPy inverted the bound in closed form (``solution`` holds
        the formula); False for a certified numerical bracket.
    bracket : tuple
        ``(lo, hi)`` containing the real root; for ``'every_value'`` and
        ``'no_value'`` the span of the domain that was searched.
    solution : sympy.Expr or None
    hypotheses : list of HypothesisResult
        The hypotheses at ``value`` (at ``no_value``/``every_value`` without
        an attained end: only those not involving ``unknown``).
    certified : bool
        True when ball arithmetic (python-flint, from the parameters as
        given) proves that the bound at ``value`` is ``<= lip`` and, past it
        (the neighbouring integer, the other end of ``bracket`` for real
        unknowns, or for a closed form the point at relative distance
        ``10**-precision`` beyond ``value``), ``> lip``: ``value`` is then
        provably admissible and provably extreme up to that distance. For
        ``'every_value'`` at a domain end: the bound there is proved ``<= lip``;
        for ``'no_value'``: the bound is proved ``> lip`` at the domain's end
        where it is smallest (uncertified for an open or infinite end).
    status : str
        ``'solved'``; ``'every_value'`` (the bound never exceeds ``lip``: the
        theorem rules out no value of ``unknown``); ``'no_value'`` (the bound
        exceeds ``lip`` on the whole searched domain: no value of ``unknown``
        allows ``Lip(f) <= lip``).
    digits : int
        Decimal digits of the computation (used when printing).
        provably admissible and provably extreme up to that distance.
    floor : mpmath.mpf or None
        The record's trivial floor at ``value`` (None: the record has none).
    informative : bool or None
        False when ``lip`` does not exceed the trivial floor (no fit in the
        floor's setting has ``Lip(f) <= lip`` anyway, so the answer says
        nothing), or when no value of ``unknown`` makes the bound exceed the
        floor; None without a floor. ``note`` says which, in words.
    note : str
    """

    unknown: str
    value: object
    direction: str
    exact: bool
    bracket: tuple
    solution: object
    lip: object
    hypotheses: list
    certified: bool = False
    status: str = SOLVED
    digits: int = 15
    floor: object = None
    informative: bool | None = None
    note: str = ""

    @property
    def within_hypotheses(self) -> bool:
        return all(self.hypotheses)

    @property
    def message(self) -> str:
        """The answer in words."""
        word = "least" if self.direction == "min" else "largest"
        lip = nstr_directed(self.lip, self.digits)
        if self.status == NO_VALUE:
            return (f"no {self.unknown} in the searched range allows Lip(f) <= {lip}: the bound "
                    f"exceeds {lip} for every value")
        if self.status == EVERY_VALUE:
            return (f"every {self.unknown} allows Lip(f) <= {lip}: the bound never exceeds {lip}"
                    + ("" if self.value is None else
                       f" ({word} value of the domain: {self._shown(self.value)})"))
        return f"{word} {self.unknown} with bound <= {lip}: {self._shown(self.value)}"

    def _shown(self, v) -> str:
        if v is None:
            return "-"
        if isinstance(v, int):
            text = str(v)
            # an integer longer than the working precision: its digits are not all meaningful
            return text if len(text) <= max(self.digits, 20) else (
                f"{text[0]}.{text[1:self.digits]}e+{len(text) - 1} (an integer of {len(text)} digits)")
        # printed on the admissible side, so the printed value is admissible too
        return nstr_directed(v, self.digits, "up" if self.direction == "min" else "down")

    def __repr__(self):
        if self.exact:
            method = f"closed form {self.unknown} = {self.solution}"
        elif self.status == SOLVED:
            method = (f"bisection, bracket [{nstr_directed(self.bracket[0], 12)}, "
                      f"{nstr_directed(self.bracket[1], 12)}]")
        else:
            method = (f"search of {self.unknown} over [{nstr_directed(self.bracket[0], 6)}, "
                      f"{nstr_directed(self.bracket[1], 6)}]")
        failed = [h.name for h in self.hypotheses if not h]
        rows = [("status", f"{self.status}: {self.message}"),
                ("value", self._shown(self.value)),
                ("method", method),
                ("certified", str(self.certified)),
                ("hypotheses", "hold" if not failed else "FAIL: " + ", ".join(failed))]
        if self.note:
            rows.append(("note", ("NOT INFORMATIVE: " if self.informative is False else "")
                         + self.note))
        w = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.rjust(w)}: {v}" for k, v in rows)

    __str__ = __repr__


@dataclass(frozen=True)
class DataBound:
    """A data-dependent lower bound on ``Lip(f)`` computed from a sample.

    Attributes
    ----------
    value : mpmath.mpf
        The bound. When ``rigorous`` is True it is rounded *down* (computed in
        exact or ball arithmetic from the float data), so it never exceeds the
        mathematical value of the formula on this data.
    theorem_id : str
    method : str
        How it was computed (e.g. ``"arb pairwise quotients"``).
    rigorous : bool
    quantities : dict
        The computed data quantities entering the formula (``n_plus``,
        ``ky_fan_sum``, witnesses such as the maximizing pair...).
    within_hypotheses : bool
    failed : tuple of HypothesisResult
    guarantee : str
        What the number guarantees, in words.
    """

    value: object
    theorem_id: str
    method: str
    rigorous: bool
    quantities: dict = field(default_factory=dict)
    within_hypotheses: bool = True
    failed: tuple = ()
    guarantee: str = ""

    def __float__(self):
        """The value as a float, rounded down (a valid lower bound whatever its mantissa width).

        >>> import mpmath
        >>> v = mpmath.mp.make_mpf((0, 2**60 - 1, -60, 60))      # 1 - 2^-60, 60 bits
        >>> f = float(DataBound(v, "t", "m", True))
        >>> f <= v, f
        (True, 0.9999999999999999)
        """
        # round down, so that the float is still a valid lower bound; compare with the value
        # itself, not mpmath.mpf(value), which rounds a wide mantissa to nearest first
        v = self.value
        f = float(v)
        return float(np.nextafter(f, -np.inf)) if f > v else f


@dataclass(frozen=True)
class TrivialFloor:
    """A lower bound on the bounded quantity that holds for trivial reasons in the same setting.

    A bound that does not exceed it is *vacuous* there: valid, but saying nothing a user did not
    know (``bounded_support``: an exact fit of +-1 labels on a support of diameter ``D`` already
    has ``Lip(f) >= 2/D``).

    Attributes
    ----------
    expr : sympy.Expr
        The floor, in the record's parameters.
    setting : str
        When and why it holds, in words.
    """

    expr: sympy.Expr
    setting: str

    def __post_init__(self):
        object.__setattr__(self, "expr", sympy.sympify(self.expr))


#: Parameter names whose LaTeX differs from SymPy's default rendering.
_LATEX_NAMES = {"eps": r"\varepsilon", "logF": r"\log|F|", "sigma2": r"\sigma^2",
                "gamma": r"\gamma", "tau": r"\tau"}


def _stable(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite ``log(a*b/c)`` as ``log a + log b - log c`` for the float path.

    The product inside a log can overflow in float64 (``(W sqrt(2Qp))^(D-1)`` of deep networks) while
    the log itself is moderate; expanding keeps the vectorized path finite.
    """
    return sympy.expand_log(expr, force=True)


def _with_expm1(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite ``a**e - 1`` (``e`` not an integer) as ``expm1(e log a)`` for the float path.

    ``(eps n / 4)**(1/d) - 1`` at ``d = 1e12`` loses six digits to cancellation in float64;
    ``expm1`` keeps them.
    """
    from sympy.codegen.cfunctions import expm1

    def cancels(e):
        if not e.is_Add or len(e.args) != 2 or sympy.S.NegativeOne not in e.args:
            return False
        other = e.args[0] if e.args[1] == -1 else e.args[1]
        return other.is_Pow and not other.exp.is_Integer

    def rewrite(e):
        p = e.args[0] if e.args[1] == -1 else e.args[1]
        return expm1(p.exp * sympy.log(p.base))

    return expr.replace(cancels, rewrite)


class _FloatFn:
    """A SymPy expression compiled for NumPy, fast with a stable fallback.

    The expression is first evaluated as written (fewest operations); if a
    float64 overflow or underflow occurred anywhere, it is evaluated again
    with its logs expanded (:func:`_stable`), which cannot overflow inside a
    log. Invalid operations (``sqrt`` of a negative outside the hypotheses)
    are left to the caller's mask.
    """

    def __init__(self, syms, expr):
        expr = _with_expm1(sympy.sympify(expr))
        self.fast = sympy.lambdify(syms, expr, modules="numpy")
        stable = _stable(expr)
        self.stable = self.fast if stable == expr else sympy.lambdify(syms, stable, modules="numpy")

    def __call__(self, *args):
        flagged = []
        with np.errstate(over="call", under="call", invalid="ignore", divide="ignore",
                         call=lambda kind, flag: flagged.append(kind)):
            out = self.fast(*args)
        if flagged and self.stable is not self.fast:
            with np.errstate(all="ignore"):
                out = self.stable(*args)
        return out


# -- vacuity: results that do not beat the record's trivial floor -------------------------------
# Kept apart from the evaluation code: the wrappers below only add the marks.

def _floor_at(theorem, params: Mapping[str, object]):
    """The record's trivial floor at validated scalar parameters (mpmath), or None."""
    tf = theorem.trivial_floor
    if tf is None:
        return None
    values = theorem.validate(**params)
    syms = sorted(tf.expr.free_symbols, key=str)
    f = sympy.lambdify(syms, tf.expr, modules="mpmath")
    return mpmath.mpf(f(*(values[s.name] for s in syms)))


def _marks_vacuity(lower_bound: Callable) -> Callable:
    """Set ``floor`` and ``vacuous`` (value not above the floor) on a :class:`BoundValue`."""
    @functools.wraps(lower_bound)
    def wrapper(self, *args, **kwargs):
        value = lower_bound(self, *args, **kwargs)
        if self.trivial_floor is not None:
            params = {k: v for k, v in kwargs.items() if k in self.parameter_names}
            with mpmath.workdps(mpmath.mp.dps + GUARD_DIGITS):
                value.floor = _floor_at(self, params)
                value.vacuous = not value > value.floor
        return value
    return wrapper


def _marks_vacuity_array(evaluate: Callable) -> Callable:
    """Attach ``floor`` and ``vacuous`` (masked like the values) to :meth:`Theorem.evaluate`'s result."""
    @functools.wraps(evaluate)
    def wrapper(self, **arrays):
        out = evaluate(self, **arrays)
        tf = self.trivial_floor
        if tf is None:
            out.floor = out.vacuous = None
            return out
        full = self._complete(arrays)
        syms = sorted(tf.expr.free_symbols, key=str)
        # masked and unrepresentable entries hold placeholders: their values are masked anyway
        vals = [self.parameter(s.name).validate_array_masked(full[s.name])[0] for s in syms]
        floor = np.broadcast_to(np.asarray(_FloatFn(syms, tf.expr)(*vals), dtype=np.float64),
                                out.shape)
        out.floor = floor
        out.vacuous = np.ma.MaskedArray(~(out.data > floor), mask=np.ma.getmaskarray(out))
        return out
    return wrapper


def _notes_informativeness(solve: Callable) -> Callable:
    """Fill :class:`SolveResult`'s ``floor``, ``informative`` and ``note``.

    Not informative when ``lip`` does not exceed the floor (the premise "a fit with
    ``Lip(f) <= lip``" is already impossible in the floor's setting), or when the bound stays at
    or below the floor over the whole domain of the unknown (it is monotone there: ``solve``
    checks; its supremum is approached at the end of the domain it increases towards).
    """
    @functools.wraps(solve)
    def wrapper(self, unknown, *args, **kwargs):
        res = solve(self, unknown, *args, **kwargs)
        if self.trivial_floor is None:
            return res
        params = {k: v for k, v in kwargs.items() if k in self.parameter_names}
        par = self.parameter(unknown)
        with mpmath.workdps(mpmath.mp.dps + GUARD_DIGITS):
            floor = _floor_at(self, {**params, unknown: res.value}) \
                if res.value is not None and par._in_domain(res.value) else None
            notes = []
            if floor is not None and not res.lip > floor:
                notes.append(f"lip = {mpmath.nstr(res.lip, 6)} does not exceed the trivial floor "
                             f"{mpmath.nstr(floor, 6)} ({self.trivial_floor.setting}): no such fit "
                             f"has Lip(f) <= lip anyway, so this answer says nothing")
            ends = _sample_points(par)
            end = max(ends) if res.direction == "max" else min(ends)
            try:
                top = self.lower_bound(check=False, **{**params, unknown: end})
                top_floor = _floor_at(self, {**params, unknown: end})
                if not top > top_floor:
                    notes.append(f"no value of {unknown} in {par.domain_str()} makes the bound "
                                 f"exceed the trivial floor ({self.trivial_floor.setting}): its "
                                 f"supremum, near {unknown} = {mpmath.nstr(end, 6)}, is "
                                 f"{mpmath.nstr(top, 6)} <= {mpmath.nstr(top_floor, 6)}")
            except (ValueError, ArithmeticError):
                pass
        return dataclasses.replace(res, floor=floor, informative=not notes, note="; ".join(notes))
    return wrapper


@dataclass(frozen=True)
class Theorem:
    """A law-of-robustness statement with an explicit lower bound on ``Lip(f)``.

    Parameters
    ----------
    id : str
        Stable identifier (part of the public API).
    title : str
    citation : Citation
    status : Status
    parameters : tuple of Parameter
    expr : sympy.Expr or None
        The lower bound on the Lipschitz constant, all constants explicit.
        ``None`` only for withdrawn entries.
    hypothesis_list : tuple of Hypothesis
        Checked hypotheses.
    assumptions : tuple of str
        Hypotheses that are not checkable from the parameters (stated, listed
        in results and docs).
    conclusion : str
        The statement in words (what holds, with which probability, for which f).
    lipschitz_domain : str
        Where the Lipschitz constant is meant: ``"global"`` (all of R^d),
        ``"support"`` (the data distribution's support), ``"sphere"``,
        ``"unit_ball"``.
    norm : str
        Norm of the Lipschitz constant (``"l2"`` throughout the catalogue).
    notes : str
    refusal : str
        Why a conjecture/withdrawn entry is not evaluated.
    quantity : str
        LaTeX of the quantity the bound is on: ``\\operatorname{Lip}(f)`` for
        most entries; a proxy such as ``\\|a\\|_2 \\|W\\|_{op}`` for the
        spectral-norm law, so that the printed inequality says what is bounded.
    trivial_floor : TrivialFloor, optional
        What every fit in the record's setting satisfies anyway; results not above it are
        marked ``vacuous`` (:meth:`lower_bound`, :meth:`evaluate`, tables, CLI, :meth:`solve`).
    erratum : str
        For an entry whose source statement fails as written: what the source says and where it
        fails (the entry is then ``derived`` with our repair, or ``unproved``); listed in
        ``docs/errata.md``.
    failure_level : sympy.Expr, optional
        Probability with which the conclusion may fail, in the parameters
        (``delta``, or ``2*delta`` for statements holding w.p. ``1 - 2 delta``);
        ``None`` for deterministic statements, which must never fail.
    data_fn : callable, optional
        For data-dependent entries: ``data_fn(theorem, X, y, **kw) -> DataBound``,
        exposed as :meth:`from_data`.
    """

    id: str
    title: str
    citation: Citation
    status: Status
    parameters: tuple[Parameter, ...]
    expr: sympy.Expr | None
    hypothesis_list: tuple[Hypothesis, ...] = ()
    assumptions: tuple[str, ...] = ()
    conclusion: str = ""
    lipschitz_domain: str = "global"
    norm: str = "l2"
    notes: str = ""
    refusal: str = ""
    quantity: str = r"\operatorname{Lip}(f)"
    failure_level: sympy.Expr | None = None
    data_fn: Callable | None = field(default=None, compare=False, repr=False)
    trivial_floor: TrivialFloor | None = None
    erratum: str = ""

    # -- metadata ---------------------------------------------------------
    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise UnknownParameterError(name, self.parameter_names)

    @property
    def symbols(self) -> dict[str, sympy.Symbol]:
        return {p.name: p.symbol for p in self.parameters}

    @property
    def evaluable(self) -> bool:
        return self.status in (Status.STATED, Status.DERIVED) and self.expr is not None

    def latex(self) -> str:
        r"""The bound as a LaTeX inequality ``\operatorname{Lip}(f) \geq ...``.

        The left side is :attr:`quantity` (a proxy for proxy bounds).
        """
        if self.expr is None:
            return ""
        names = {p.symbol: _LATEX_NAMES[p.name] for p in self.parameters if p.name in _LATEX_NAMES}
        return self.quantity + r" \geq " + sympy.latex(self.expr, symbol_names=names)

    def __str__(self):
        return f"{self.id} ({self.status}): {self.title}"

    # -- validation -------------------------------------------------------
    def _refuse_if_not_evaluable(self):
        if not self.evaluable:
            raise NotEvaluableError(self.id, str(self.status),
                                    self.refusal or "no proved bound")

    def _complete(self, params: Mapping[str, object]) -> dict[str, object]:
        known = self.parameter_names
        for name in params:
            if name not in known:
                raise UnknownParameterError(name, known)
        out = {}
        for p in self.parameters:
            if p.name in params:
                out[p.name] = params[p.name]
            elif p.default is not None:
                out[p.name] = p.default
            else:
                raise MissingParameterError(p.name, p.domain_str())
        return out

    def validate(self, **params) -> dict[str, mpmath.mpf]:
        """Validate scalar parameters; return them as mpmath numbers."""
        full = self._complete(params)
        return {p.name: p.validate(full[p.name]) for p in self.parameters}

    # -- scalar path ------------------------------------------------------
    def hypotheses(self, **params) -> list[HypothesisResult]:
        """Check every hypothesis at the given parameters.

        Returns the list of results (each truthy when it holds) with the
        computed quantities; parameters are validated first.
        """
        with mpmath.workdps(max(mpmath.mp.dps, 15) + GUARD_DIGITS):
            values = self.validate(**params)
            return self._check_hypotheses(params, values)

    def _check_hypotheses(self, params, values, hypotheses=None) -> list[HypothesisResult]:
        """Each hypothesis decided in balls when possible (mpmath gives the reported sides).

        A hypothesis the balls cannot decide counts as failing: a bound is
        never reported as valid on the strength of rounding noise (its
        ``decided_by`` is ``'undecided'``; :meth:`lower_bound` raises
        :class:`~bounds.errors.UndecidedHypothesisError` for it, not
        :class:`~bounds.errors.HypothesisError`).
        """
        from ._verified import arb_of_input
        full = self._complete(params)

        def balls_at(bits):
            return {p.symbol: arb_of_input(full[p.name], values[p.name]) for p in self.parameters}

        bits = int(mpmath.mp.dps * 3.33) + 16
        out = []
        for h in self.hypothesis_list if hypotheses is None else hypotheses:
            r = h.check(values)
            verdict = h.decide(balls_at, bits)
            if verdict is None and any(isinstance(a, sympy.Function) and not hasattr(a, "_arb_")
                                       for a in (h.lhs - h.rhs).atoms(sympy.Function)):
                out.append(r)       # no ball rule for some function: mpmath's verdict stands
                continue
            out.append(dataclasses.replace(r, holds=bool(verdict),
                                           decided_by="balls" if verdict is not None else "undecided"))
        return out

    @cached_property
    def _mp_fn(self) -> Callable:
        syms = [p.symbol for p in self.parameters]
        return sympy.lambdify(syms, self.expr, modules="mpmath")

    @_marks_vacuity
    def lower_bound(self, *, precision: int | None = None, check: bool = True,
                    **params) -> BoundValue:
        """The lower bound on ``Lip(f)``, as an mpmath number.

        Parameters
        ----------
        precision : int, optional
            Decimal digits of the evaluation (default: mpmath's ``mp.dps``).
        check : bool
            If True (default) a failed hypothesis raises
            :class:`~bounds.errors.HypothesisError`; if False the value is
            returned with ``within_hypotheses=False`` and the failures.
        **params
            The theorem's parameters, by name.

        Returns
        -------
        BoundValue
        """
        self._refuse_if_not_evaluable()
        dps = int(precision) if precision is not None else mpmath.mp.dps
        if dps < 1:
            raise ParameterError("precision", precision, "integers >= 1")
        with mpmath.workdps(dps + GUARD_DIGITS):
            values = self.validate(**params)
            results = self._check_hypotheses(params, values)
            failed = [r for r in results if not r.holds]
            if check:
                self._raise_failed(failed)
            value = self._mp_fn(*(values[p.name] for p in self.parameters))
            if isinstance(value, mpmath.mpc):
                if value.imag != 0:
                    if failed:
                        raise HypothesisError(self.id, failed,
                                              "The formula is not even real here, so it is not "
                                              "evaluated, not even with check=False.")
                    raise FloatingPointError(f"{self.id}: non-real value inside the hypotheses")
                value = value.real
            enclosure = self._enclosure(params, values, dps)
        with mpmath.workdps(dps):
            if enclosure is None:
                # computed with guard digits: rounded down, not to nearest, to the precision
                return BoundValue(_round_to_prec(value, up=False), self.id, not failed, failed,
                                  self.conclusion, digits=dps)
            lo = _round_to_prec(enclosure[0], up=False)
            return BoundValue(lo, self.id, not failed, failed, self.conclusion, enclosure,
                              digits=dps)

    def _raise_failed(self, failed: list, detail: str | None = None):
        """Raise for failed hypotheses: proved failures first, then undecided ones."""
        proved = [r for r in failed if not r.undecided]
        if proved:
            raise HypothesisError(self.id, proved, detail)
        if failed:
            bits = max_decision_bits(int(mpmath.mp.dps * 3.33) + 16)
            raise UndecidedHypothesisError(self.id, failed, bits)

    def _enclosure(self, params, values, dps) -> tuple | None:
        """Ball-arithmetic enclosure ``(lo, hi)`` of the bound, or None if none can be had.

        The precision is raised (up to 16 times) while cancellation leaves the ball wider than
        the requested digits: ``x**(1/d) - 1`` at ``d = 2e17`` loses 17 digits.
        """
        from ._verified import arb_eval, arb_lower, arb_of_input, arb_precision, arb_upper
        full = self._complete(params)
        bits = start = int((dps + GUARD_DIGITS) * 3.33) + 16
        want = int(dps * 3.33) + 8
        try:
            while True:
                with arb_precision(bits):
                    env = {p.symbol: arb_of_input(full[p.name], values[p.name])
                           for p in self.parameters}
                    ball = arb_eval(self.expr, env)
                    if not ball.is_finite():
                        return None
                    if ball.rel_accuracy_bits() >= want or bits >= 16 * start:
                        return arb_lower(ball), arb_upper(ball)
                bits *= 4
        except (NotImplementedError, FloatingPointError, ValueError, TypeError, KeyError):
            return None

    # -- vectorized path --------------------------------------------------
    @cached_property
    def _np_fn(self) -> Callable:
        return _FloatFn([p.symbol for p in self.parameters], self.expr)

    @_marks_vacuity_array
    def evaluate(self, **arrays) -> np.ma.MaskedArray:
        """Vectorized lower bound over broadcast parameter arrays.

        Returns a ``numpy.ma.MaskedArray`` of float64: entries where a
        hypothesis fails are NaN in ``.data`` and masked (``.mask`` True).
        Entries that float64 cannot represent are masked too, one by one:
        a valid parameter beyond float64's range (``n=10**400``), a value
        that overflows (``dx=1e-320``: ``+inf`` in ``.data``) and a
        hypothesis whose float sides both overflow; :meth:`lower_bound`
        evaluates those exactly. Masked input entries stay masked.
        Domain violations (``eps >= 1``, NaN, non-integer ``n``) raise
        :class:`~bounds.errors.ParameterError` naming the first bad entry.
        Parameters are validated and combined without first broadcasting
        them, so scalar parameters cost nothing per grid point.

        Examples
        --------
        >>> import numpy as np, bounds
        >>> v = bounds.get("universal_law").evaluate(n=np.array([1e3, 1e9]), d=100, p=10**6,
        ...                                          eps=0.5, delta=0.01, W=10, J=10)
        >>> v.mask.tolist()
        [True, False]
        >>> t = bounds.get("minimal_interpolation")
        >>> t.evaluate(dy=1, dx=np.array([0.5, 1e-320])).tolist()   # 1e320 overflows float64
        [2.0, None]
        """
        self._refuse_if_not_evaluable()
        full = self._complete(arrays)
        vals, skip = {}, np.zeros((), dtype=bool)
        for p in self.parameters:
            vals[p.name], s = p.validate_array_masked(full[p.name])
            skip = skip | s if s.any() else skip
        try:
            shape = np.broadcast_shapes(*(v.shape for v in vals.values()))
        except ValueError:
            raise ParameterError("arrays", {k: v.shape for k, v in vals.items()},
                                 "shapes that broadcast together") from None
        ok = np.ones((), dtype=bool)
        for h in self.hypothesis_list:
            ok = ok & h.check_array(vals)
        out = np.asarray(self._np_fn(*(vals[p.name] for p in self.parameters)), dtype=np.float64)
        ok = np.broadcast_to(ok, shape)
        out = np.broadcast_to(out, shape)
        # inside the hypotheses a non-finite float value is an overflow (the bound is real
        # there): masked, with +inf in .data when it overflowed upwards
        mask = ~ok | np.broadcast_to(skip, shape) | ~np.isfinite(out)
        data = np.where(mask, np.where(ok & (out == np.inf), np.inf, np.nan), out)
        return np.ma.MaskedArray(data, mask=mask)

    # -- data-dependent form ----------------------------------------------
    def from_data(self, X, y, **kwargs) -> DataBound:
        """The bound that holds for the given sample ``X`` (n x d), ``y`` (n,).

        Only for entries with a data-dependent form (``data_fn``).
        """
        if self.data_fn is None:
            raise NotEvaluableError(self.id, str(self.status), "this entry has no data-dependent form")
        if self.status in (Status.CONJECTURE, Status.WITHDRAWN):
            self._refuse_if_not_evaluable()
        return self.data_fn(self, X, y, **kwargs)

    # -- inversion --------------------------------------------------------
    @_notes_informativeness
    def solve(self, unknown: str, *, lip, precision: int | None = None, check: bool = True,
              **params) -> SolveResult:
        """Extreme value of one parameter at which the bound reaches ``lip``.

        The bound must be monotone in ``unknown`` at the given values of the
        other parameters; this is decided from the sign of the SymPy
        derivative (symbolically when SymPy can, else on a grid spanning the
        whole domain), and a non-monotone bound is refused. If the bound
        decreases in ``unknown`` (e.g. ``p``), the answer is the *smallest*
        value for which the bound is ``<= lip``: below it, no fit with
        ``Lip(f) <= lip`` is possible. If it increases (e.g. ``n``), it is
        the *largest* such value.

        Closed form when SymPy can invert the bound (checked numerically
        before it is trusted); otherwise bisection at raised precision, with
        the bracket returned. Integer unknowns are rounded to the admissible
        side, re-checked at the integer and returned as ``int``.

        When the bound never exceeds ``lip`` (every value is admissible) or
        exceeds it on the whole searched domain (none is), that is the answer
        (``status='every_value'`` / ``'no_value'``), not an error.

        As :meth:`lower_bound`, a hypothesis that fails (those not involving
        ``unknown`` before solving, all of them at the solution) raises
        :class:`~bounds.errors.HypothesisError` unless ``check=False``; the
        result then lists the failures in ``hypotheses``.

        Examples
        --------
        >>> import bounds
        >>> law = bounds.get("universal_law")
        >>> r = law.solve("p", lip=1, n=10**9, d=1000, eps=0.5, delta=0.01, W=10, J=10)
        >>> r.direction, r.exact, type(r.value)
        ('min', True, <class 'int'>)
        >>> print(law.solve("p", lip=1000, n=10**9, d=1000, eps=0.5, delta=0.01, W=10, J=10))
            status: every_value: every p allows Lip(f) <= 1000.0: the bound never exceeds 1000.0 (least value of the domain: 1)
             value: 1
            method: search of p over [2.0, 1.0e+1000]
         certified: True
        hypotheses: hold

        A real unknown in closed form is certified against a point just past it:

        >>> t = bounds.get("minimal_interpolation")
        >>> r = t.solve("dy", lip=3, dx=1)
        >>> r.exact, r.certified, r.value <= 3 < r.value * (1 + 1e-15)
        (True, True, True)
        """
        self._refuse_if_not_evaluable()
        par = self.parameter(unknown)
        if unknown in params:
            raise ParameterError(unknown, params[unknown], "omitted (it is the unknown)")
        dps = int(precision) if precision is not None else mpmath.mp.dps
        if dps < 1:
            raise ParameterError("precision", precision, "integers >= 1")
        lip_p = Parameter("lip", "target Lipschitz level", low=0.0)
        with mpmath.workdps(dps + GUARD_DIGITS):
            L = lip_p.validate(lip)
            guess = _placeholder(par)
            fixed = {k: v for k, v in self._complete({**params, unknown: guess}).items()
                     if k != unknown}
            fixed = {k: self.parameter(k).validate(v) for k, v in fixed.items()}
            # hypotheses without the unknown hold or fail whatever the answer: decide them first
            pre = self._check_hypotheses(
                {**params, unknown: guess}, {**fixed, unknown: mpmath.mpf(guess)},
                [h for h in self.hypothesis_list
                 if par.symbol not in h.lhs.free_symbols | h.rhs.free_symbols])
            if check:
                self._raise_failed([r for r in pre if not r], _SOLVE_ANYWAY)
            x = par.symbol
            subs = {self.symbols[k]: sympy.Float(v, dps + GUARD_DIGITS) for k, v in fixed.items()}
            f = _real_valued(sympy.lambdify(x, self.expr.subs(subs), modules="mpmath"))
            direction = self._direction(par, subs)
            solution, root, bracket, status = self._invert(x, unknown, fixed, L, f, par)
            value, certified = root, False
            if status == SOLVED:
                if par.integer:
                    value = mpmath.ceil(root) if direction == "min" else mpmath.floor(root)
                    # guard against a closed form landing one ulp on the wrong side
                    if direction == "min" and f(value) > L:
                        value += 1
                    if direction == "max" and f(value) > L:
                        value -= 1
            elif status == EVERY_VALUE:
                value = _attained_end(par, direction)
            else:
                # no value: certified when the bound is proved > lip where it is smallest
                low_end = _attained_end(par, "max" if direction == "min" else "min")
                if low_end is not None:
                    certified = self._certify_solution(params, fixed, unknown, par, lip, L,
                                                       low_end, direction, bracket, dps, True)[1]
                value = None
            if value is not None:
                value, certified = self._certify_solution(
                    params, fixed, unknown, par, lip, L, value, direction,
                    bracket if status == SOLVED else (value, value), dps)
            hyps = pre
            if value is not None and par._in_domain(value):
                hyps = self._check_hypotheses({**params, unknown: value}, {**fixed, unknown: value})
                if check:
                    self._raise_failed(
                        [r for r in hyps if not r],
                        f"They fail at the solution {unknown} = {mpmath.nstr(value, 15)}. "
                        + _SOLVE_ANYWAY)
        with mpmath.workdps(dps):
            if value is not None:
                # to the working precision on the admissible side, so the certificate still holds
                value = int(value) if par.integer else _round_to_prec(value, direction == "min")
            return SolveResult(unknown, value, direction, solution is not None,
                               tuple(+b for b in bracket), solution, +L, hyps, certified,
                               status, dps)

    def _certify_solution(self, params, fixed, unknown, par, lip, L, value, direction,
                          bracket, dps, refute: bool = False) -> tuple:
        """Prove in balls that ``value`` is admissible and (up to the bracket) extreme.

        An integer answer whose admissibility the balls cannot prove is moved
        one step further into the admissible side (at most a few times); a
        real answer is left as is and reported uncertified. With ``refute``,
        prove instead that ``value`` is *not* admissible (bound > lip).
        """
        from ._verified import arb_eval, arb_of_input, arb_of_mpf, arb_precision
        bits = int((dps + GUARD_DIGITS) * 3.33) + 16
        step = 1 if direction == "min" else -1
        try:
            with arb_precision(bits):
                full = self._complete({**params, unknown: _placeholder(par)})
                env = {self.symbols[k]: arb_of_input(full[k], fixed[k]) for k in fixed}
                lip_ball = arb_of_input(lip, L)

                def above(v):   # proven bound(v) > lip
                    return bool(arb_eval(self.expr, {**env, par.symbol: arb_of_mpf(v)}) > lip_ball)

                def admissible(v):   # proven bound(v) <= lip
                    return bool(arb_eval(self.expr, {**env, par.symbol: arb_of_mpf(v)}) <= lip_ball)

                if refute:
                    return value, above(value)

                if par.integer:
                    for _ in range(4):
                        if admissible(value):
                            break
                        value += step
                    else:
                        return value, False
                    past = value - step
                    return value, (not par._in_domain(past)) or above(past)
                other = bracket[0] if value == bracket[1] else bracket[1]
                if other == value:
                    # a closed form has a zero-width bracket: without a point past the
                    # answer, 'extreme' would be unproved; take one at relative 10^-dps
                    other = value - step * abs(value) * mpmath.mpf(10) ** (-dps)
                return value, admissible(value) and (
                    other == value or not par._in_domain(other) or above(other))
        except (NotImplementedError, FloatingPointError, ValueError, TypeError, KeyError):
            return value, False

    def _direction(self, par: Parameter, subs: dict) -> str:
        """``'min'`` if the bound decreases in ``par`` at these values, ``'max'`` if it increases.

        The derivative's sign is taken from SymPy's assumptions when they
        decide it, else from its values on a grid over the whole domain
        (log-spaced towards open or infinite ends); a sign change means the
        bound is not monotone and the inversion is refused.
        """
        x = par.symbol
        g = sympy.diff(self.expr, x).subs(subs)
        if g == 0:
            raise ParameterError(par.name, None, "a parameter the bound depends on",
                                 f"{self.id}'s bound does not involve {par.name}")
        if g.is_positive:
            return "max"
        if g.is_negative:
            return "min"
        gf = _real_valued(sympy.lambdify(x, g, modules="mpmath"))
        signs = set()
        for t in _sample_points(par):
            v = gf(t)
            if v is not None and mpmath.isfinite(v) and v != 0:
                signs.add(v > 0)
        if len(signs) != 1:
            raise ParameterError(par.name, None, "a parameter in which the bound is monotone",
                                 "the derivative of the bound changes sign (or is undefined) "
                                 "on the domain at these values of the other parameters")
        return "max" if signs.pop() else "min"

    def closed_form(self, unknown: str) -> sympy.Expr | None:
        """The bound solved for ``unknown`` in closed form, or None.

        The result is an expression in the other parameters and the symbol
        ``lip``; ``None`` when SymPy finds no unique real positive inverse,
        or when the unknown sits inside a log/exp (``sympy.solve`` can then
        run for minutes, and the numerical bracket is as good). Logs that do
        not involve the unknown are frozen as symbols while solving, so the
        answer keeps them intact (``log(60 J W/eps)``, not a sum of logs).

        Examples
        --------
        >>> import bounds, sympy
        >>> sol = bounds.get("universal_law").closed_form("p")
        >>> sorted(str(a) for a in sol.atoms(sympy.log))
        ['log(4/delta)', 'log(60*J*W/eps)']
        >>> print(sympy.fraction(sol)[1])
        262144*c*lip**2*log(60*J*W/eps)
        """
        cache = self.__dict__.setdefault("_closed_forms", {})
        if unknown not in cache:
            cache[unknown] = _closed_form(self.expr, self.parameter(unknown).symbol)
        return cache[unknown]

    def _invert(self, x, unknown, fixed, L, f, par):
        """``(closed form or None, root, bracket, status)`` of ``f = L``."""
        sol = self.closed_form(unknown)
        if sol is not None:
            subs = {self.symbols[k]: sympy.Float(v, mpmath.mp.dps) for k, v in fixed.items()}
            subs[LIP] = sympy.Float(L, mpmath.mp.dps)
            try:
                v = mpmath.mpf(sympy.Float(sol.subs(subs).evalf(mpmath.mp.dps), mpmath.mp.dps))
            except (TypeError, ValueError):
                v = None
            # the closed form is trusted only after it is checked numerically
            fv = f(v) if v is not None and par._in_domain(v) else None
            if fv is not None and mpmath.almosteq(
                    fv, L, rel_eps=mpmath.mpf(10) ** (-mpmath.mp.dps + GUARD_DIGITS)):
                return sol, v, (v, v), SOLVED
        return (None,) + self._bisect(f, L, par)

    def _bisect(self, f, L, par):
        """Bisection of ``f = L`` on a bracket found on a grid over the whole domain.

        The grid (:func:`_sample_points`) spans the domain, log-spaced towards
        open or infinite ends; points where the bound is undefined (e.g. a
        negative log-covering number) are skipped, so the bracket lies where
        the formula is real. Returns ``(root, bracket, status)``; without a
        sign change on the grid the status says on which side the bound lies
        (``'every_value'``: ``<= L`` throughout; ``'no_value'``: ``> L``), the
        root is None and the bracket is the searched span.
        """
        vals, bracket = [], None
        for far in (False, True):
            pts = _sample_points(par, far)
            vals += [(t, _gap(f, t, L)) for t in pts]
            vals = sorted(((t, g) for t, g in vals if mpmath.isfinite(g)), key=lambda v: v[0])
            bracket = next(((a, ga, b, gb) for (a, ga), (b, gb) in zip(vals, vals[1:])
                            if ga * gb <= 0), None)
            if bracket is not None:
                break
        if bracket is None:
            if not vals:
                raise ParameterError(par.name, None, par.domain_str(),
                                     f"the bound is undefined on the whole domain of "
                                     f"{par.name} at these values of the other parameters")
            status = EVERY_VALUE if all(g <= 0 for _, g in vals) else NO_VALUE
            return None, (vals[0][0], vals[-1][0]), status
        lo, glo, hi, ghi = bracket
        for _ in range(4 * mpmath.mp.prec):
            # geometric steps across orders of magnitude, then arithmetic ones
            mid = mpmath.sqrt(lo * hi) if lo > 0 and hi > 4 * lo else (lo + hi) / 2
            if mid == lo or mid == hi:
                break
            gm = _gap(f, mid, L)
            if not mpmath.isfinite(gm):
                break
            if gm * glo > 0:
                lo, glo = mid, gm
            else:
                hi, ghi = mid, gm
        # return the end of the bracket on the admissible side (bound <= lip)
        return (hi if glo > 0 else lo), (lo, hi), SOLVED


#: The symbol of the target Lipschitz level in closed forms.
LIP = sympy.Symbol("lip", positive=True)


def _closed_form(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr | None:
    """Solve ``expr = lip`` for ``x``; a readable unique solution or None."""
    transcendental = any(x in a.free_symbols for a in expr.atoms(sympy.log, sympy.exp))
    if transcendental:
        return None
    frozen = {a: sympy.Dummy(f"frozen{i}", positive=True)
              for i, a in enumerate(sorted(expr.atoms(sympy.log, sympy.exp), key=str))}
    # solve over the positive reals: an integer-assumed symbol would make
    # SymPy drop every non-integer root
    t = sympy.Dummy(x.name, positive=True)
    try:
        sols = sympy.solve(sympy.Eq(expr.xreplace(frozen).subs(x, t), LIP), t,
                           check=False, simplify=False)
    except (NotImplementedError, TypeError, ValueError):
        return None
    if len(sols) != 1:
        return None
    back = {v: k for k, v in frozen.items()}
    return sympy.factor_terms(sympy.together(sols[0])).xreplace(back)


def _real_valued(fn: Callable) -> Callable:
    """Wrap an mpmath function: None where it fails or is not real."""
    def g(t):
        try:
            v = fn(t)
        except (ValueError, ZeroDivisionError, TypeError):
            return None
        if isinstance(v, mpmath.mpc):
            if v.imag != 0:
                return None
            v = v.real
        return mpmath.mpf(v)
    return g


def _gap(f: Callable, t, L):
    """``f(t) - L``, NaN where f is undefined (so no bracket is formed there)."""
    v = f(t)
    return mpmath.nan if v is None else v - L


def _sample_points(par: Parameter, far: bool = False) -> list:
    """Points spanning a parameter's domain, log-spaced towards open/infinite ends.

    With ``far``, only points further out (``10^400``, ``10^1000``; ``10^-1000`` from an open
    end), searched when the regular grid finds no crossing: an integer answer may be ``10^400``,
    a root may sit at ``delta = 1e-1000``. (Further out, ``x^D`` at ``D = 10^4000`` takes minutes.)
    """
    lo, hi = par.low, par.high
    pts = []
    if math.isinf(lo) and math.isinf(hi):
        ks = [40, 100, 300] if far else range(-6, 30)
        pts = [s * mpmath.mpf(10) ** k for k in ks for s in (-1, 1)]
    elif math.isinf(hi):
        base = mpmath.mpf(lo)
        ks = [400, 1000] if far else range(-8, 300, 2)
        pts = [base + mpmath.mpf(10) ** k for k in ks]
        if par.integer:
            pts = [mpmath.ceil(t) for t in pts] + ([] if far else [base + 1, base + 2, base + 3])
    else:
        a, b = mpmath.mpf(lo), mpmath.mpf(hi)
        pts = [] if far else [a + (b - a) * mpmath.mpf(k) / 64 for k in range(1, 64)]
        ks = [20, 50, 100, 300, 1000] if far else range(2, 12)
        pts += [a + (b - a) * mpmath.mpf(10) ** (-k) for k in ks]
        pts += [b - (b - a) * mpmath.mpf(10) ** (-k) for k in ks]
    return [t for t in pts if par._in_domain(t)]


def _round_to_prec(x, up: bool):
    """``x`` rounded to the working precision, up or down (never to nearest)."""
    if not x or not mpmath.isfinite(x):
        return +x
    sign, man, exp, bc = x._mpf_
    return mpmath.mp.make_mpf(mpmath.libmp.normalize(
        sign, man, exp, bc, mpmath.mp.prec,
        mpmath.libmp.round_ceiling if up else mpmath.libmp.round_floor))


_SOLVE_ANYWAY = ("Pass check=False to solve anyway (the result then lists the failed "
                 "hypotheses).")


def _attained_end(par: Parameter, direction: str):
    """The domain's end in the solving direction if it belongs to the domain, else None."""
    end, is_open = (par.low, par.low_open) if direction == "min" else (par.high, par.high_open)
    if math.isinf(end) or is_open:
        return None
    return mpmath.mpf(end)


def _placeholder(par: Parameter):
    """A valid value for the unknown so that ``_complete`` does not complain."""
    if not math.isinf(par.low):
        return par.low + (1 if par.integer or math.isinf(par.high) else (par.high - par.low) / 2)
    return 1
