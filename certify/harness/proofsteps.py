"""Symbolic checks that the catalogue's constants follow from the proofs' tail bounds.

Each check reads the bound (and hypotheses) **from the catalogue record** under test, rebuilds the
tail bound of the proof skeleton in ``shared/reference/theorems.md`` (sections 2-4, 6) with SymPy,
and proves the step the proof needs:

* an *identity* (``tail term == delta/2`` at the record's bound) is proved by simplifying
  ``exponent - log(target)`` to exactly zero, then re-checked numerically at random admissible
  points at 50 significant digits;
* an *equivalence* (``hypothesis  <=>  tail term <= delta/2``) is proved by writing
  ``log(term) - log(delta/2) = r * (lhs - rhs)`` with a factor ``r`` that SymPy proves positive
  (``lhs <= rhs`` is the record's hypothesis), then re-checked numerically on both sides of the
  hypothesis' boundary;
* an *inequality* between constants (the Lemma 3.1 parameter-Lipschitz constant) is proved by
  writing the log of the ratio as a sum SymPy proves non-negative on the record's domain.

A wrong constant in a record (``2**8`` for ``2**9``, ``8**3`` for ``8**4``) makes the check fail:
the functions take the record as an argument so that tests can pass a mutated copy.

Examples
--------
>>> from certify.harness.proofsteps import run_all
>>> results = run_all()              # doctest: +SKIP
>>> all(r.holds for r in results)    # doctest: +SKIP
True
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import sympy

import bounds
from bounds.errors import UnknownTheoremError

__all__ = ["ProofStepResult", "CHECKS", "run_all", "universal_law_net_term",
           "universal_law_sample_size", "finite_class_solved_form", "finite_class_validity",
           "bounded_support_from_universal", "deep_networks_constants", "any_model_constant",
           "any_model_sample_size", "universal_law_sharp_net_term",
           "universal_law_sharp_sample_size", "universal_law_sharp_margin"]

#: Digits of the numerical re-check, and the relative agreement required of an identity.
NUMERIC_DPS = 50
IDENTITY_RTOL = mpmath.mpf(10) ** -40
#: Random admissible points per numerical re-check (seeded: the report is reproducible).
N_POINTS = 12


@dataclass(frozen=True)
class ProofStepResult:
    """Outcome of one symbolic proof-step check.

    Attributes
    ----------
    name : str
        Short id of the step (``"universal_law/net_term"``).
    theorem_id : str
        The catalogue record the constants were read from.
    holds : bool
        True iff the step is proved symbolically *and* the numerical re-check agrees.
    status : str
        ``"proved"`` (symbolic proof and numerics agree), ``"fails"`` (numerics contradict the
        step: the constant is wrong), ``"inconclusive"`` (numerics agree but SymPy could not
        finish the proof; ``holds`` is then False), or ``"missing"`` (the record or a parameter
        the step needs is not in the catalogue).
    detail : str
        What was shown, in words, with the residual when the step fails.
    expressions : dict[str, sympy.Expr]
        The expressions involved (record's bound, the rebuilt tail term, the simplified residual,
        the positive factor of an equivalence ...).
    numeric : dict
        The numerical re-check: number of points and the worst relative discrepancy (identity) or
        the number of sign disagreements (equivalence).
    """

    name: str
    theorem_id: str
    holds: bool
    status: str
    detail: str
    expressions: dict = field(default_factory=dict)
    numeric: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.holds)

    def __str__(self) -> str:
        return f"{self.name} [{self.theorem_id}]: {self.status.upper()} - {self.detail}"


class _Missing(Exception):
    """A record or parameter a check needs is absent (reported as status 'missing')."""


# ------------------------------------------------------------------------------------------------
# reading records
# ------------------------------------------------------------------------------------------------

def _record(record, theorem_id: str):
    if record is not None:
        return record
    try:
        return bounds.get(theorem_id)
    except UnknownTheoremError as exc:
        raise _Missing(f"catalogue has no record {theorem_id!r} ({exc})") from None


def _symbols(record, *names):
    syms = record.symbols
    missing = [nm for nm in names if nm not in syms]
    if missing:
        raise _Missing(f"record {record.id!r} has no parameter(s) {', '.join(missing)} "
                       f"(has: {', '.join(syms)})")
    return [syms[nm] for nm in names]


def _bound(record):
    if record.expr is None:
        raise _Missing(f"record {record.id!r} has no bound expression")
    return record.expr


def _find_hypothesis(record, must_contain: tuple[str, ...]):
    """The record's hypothesis whose symbols include all of ``must_contain`` (unique)."""
    want = set(must_contain)
    hits = [h for h in record.hypothesis_list
            if want <= {s.name for s in (h.lhs.free_symbols | h.rhs.free_symbols)}]
    if not hits:
        names = ", ".join(h.name for h in record.hypothesis_list) or "none"
        raise _Missing(f"record {record.id!r} has no hypothesis in {', '.join(sorted(want))} "
                       f"(hypotheses: {names})")
    if len(hits) > 1:
        raise _Missing(f"record {record.id!r} has several hypotheses in {', '.join(sorted(want))}: "
                       + ", ".join(h.name for h in hits))
    return hits[0]


# ------------------------------------------------------------------------------------------------
# symbolic and numerical machinery
# ------------------------------------------------------------------------------------------------

def _normal(expr):
    """A normal form in which identities between logs and powers of positive symbols show up."""
    e = sympy.expand_log(sympy.expand_power_base(sympy.powsimp(expr, force=True), force=True),
                         force=True)
    return sympy.simplify(e)


def _is_zero(expr) -> bool:
    return _normal(expr) == 0


def _sample_point(record, rng: random.Random, overrides: dict | None = None) -> dict:
    """A random admissible point of the record's parameters (logs of sizes kept positive)."""
    point = {}
    for par in record.parameters:
        lo = par.low if par.low > -mpmath.inf else 1.0
        hi = par.high
        if par.integer:
            base = int(max(lo, 1) + (1 if par.low_open and max(lo, 1) == lo else 0))
            top = base + int(10 ** rng.uniform(0, 5))
            if hi < mpmath.inf:
                top = min(top, int(hi) - (1 if par.high_open else 0))
            point[par.name] = mpmath.mpf(rng.randint(base, max(base, top)))
        elif hi < mpmath.inf:
            a, b = max(lo, 0.0), hi
            point[par.name] = mpmath.mpf(a + (b - a) * rng.uniform(0.02, 0.98))
        else:
            # sizes >= 1 so that log(60 W J / eps) and friends are positive, as in any use
            point[par.name] = mpmath.mpf(max(lo, 1.0) * 10 ** rng.uniform(0, 3))
    point.update(overrides or {})
    return point


def _evaluate(expr, point: dict):
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    f = sympy.lambdify(syms, expr, modules="mpmath")
    return f(*(point[s.name] for s in syms))


def _identity_numeric(records, lhs, rhs, seed: int) -> dict:
    """Worst relative discrepancy of ``lhs == rhs`` at random points, at NUMERIC_DPS digits."""
    rng = random.Random(seed)
    worst = mpmath.mpf(0)
    with mpmath.workdps(NUMERIC_DPS):
        for _ in range(N_POINTS):
            point = {}
            for rec in records:
                point.update(_sample_point(rec, rng, point))
            a, b = _evaluate(lhs, point), _evaluate(rhs, point)
            rel = abs(a - b) / max(abs(a), abs(b), mpmath.mpf(10) ** (-NUMERIC_DPS))
            worst = max(worst, rel)
    return {"points": N_POINTS, "digits": NUMERIC_DPS, "max_rel_diff": worst,
            "agrees": bool(worst <= IDENTITY_RTOL)}


def _prove_identity(name, record, lhs, rhs, *, log_form, seed, records=None, what="",
                    extra=None) -> ProofStepResult:
    """Prove ``lhs == rhs`` (via ``log_form``, an expression that is 0 iff they are equal)."""
    residual = _normal(log_form)
    numeric = _identity_numeric(records or [record], lhs, rhs, seed)
    exprs = {"lhs": lhs, "rhs": rhs, "residual": residual, **(extra or {})}
    if residual == 0 and numeric["agrees"]:
        status, holds = "proved", True
        detail = f"{what}: residual simplifies to 0; {numeric['points']} random points agree to " \
                 f"{mpmath.nstr(numeric['max_rel_diff'], 3)} relative at {NUMERIC_DPS} digits"
    elif numeric["agrees"]:
        status, holds = "inconclusive", False
        detail = f"{what}: numerics agree ({mpmath.nstr(numeric['max_rel_diff'], 3)}) but SymPy " \
                 f"left the residual {residual}"
    else:
        status, holds = "fails", False
        detail = f"{what}: FALSE: residual {residual} (relative discrepancy up to " \
                 f"{mpmath.nstr(numeric['max_rel_diff'], 3)} at random points)"
    return ProofStepResult(name, record.id, holds, status, detail, exprs, numeric)


def _prove_equivalence(name, record, hypothesis, log_term, log_target, *, seed, solve_for,
                       what="") -> ProofStepResult:
    """Prove ``hyp.lhs <= hyp.rhs  <=>  log_term <= log_target``.

    With ``g = log_term - log_target`` and ``h = hyp.lhs - hyp.rhs`` it suffices that ``g / h``
    is a positive expression: then ``g`` and ``h`` have the same sign everywhere.  The numerical
    re-check evaluates both sides at points placed just inside and just outside the hypothesis'
    boundary (found by solving ``h = 0`` for ``solve_for``).
    """
    g = sympy.expand_log(log_term - log_target, force=True)
    h = sympy.expand_log(hypothesis.lhs - hypothesis.rhs, force=True)
    ratio = sympy.simplify(sympy.cancel(sympy.together(g / h)))
    positive = ratio.is_positive is True
    exprs = {"log_term_minus_log_target": g, "hypothesis_lhs_minus_rhs": h, "factor": ratio,
             "hypothesis": hypothesis.as_relational()}
    numeric = _equivalence_numeric(record, hypothesis, g, h, solve_for, seed)
    if positive and numeric["agrees"]:
        status, holds = "proved", True
        detail = (f"{what}: log(term) - log(target) = ({ratio}) * (hypothesis lhs - rhs), a "
                  f"positive factor, so hypothesis '{hypothesis.name}' <=> term <= target; "
                  f"{numeric['points']} points on both sides of the boundary agree")
    elif numeric["agrees"]:
        status, holds = "inconclusive", False
        detail = f"{what}: numerics agree but SymPy could not prove the factor {ratio} positive"
    else:
        status, holds = "fails", False
        detail = (f"{what}: FALSE: hypothesis '{hypothesis.name}' and term <= target disagree at "
                  f"{numeric['disagreements']} of {numeric['points']} points near the boundary "
                  f"(factor {ratio})")
    return ProofStepResult(name, record.id, holds, status, detail, exprs, numeric)


def _equivalence_numeric(record, hypothesis, g, h, solve_for: str, seed: int) -> dict:
    rng = random.Random(seed)
    x = record.symbols[solve_for]
    t = sympy.Dummy("t", positive=True)
    # the boundary h = 0 solved for one variable, so that points straddle it closely
    roots = [r for r in sympy.solve(h.subs(x, t), t) if r.is_real is not False]
    disagreements, points = 0, 0
    with mpmath.workdps(NUMERIC_DPS):
        for _ in range(N_POINTS):
            point = _sample_point(record, rng)
            point.pop(solve_for)
            for r in roots:
                x0 = _evaluate(r, point) if r.free_symbols else mpmath.mpf(sympy.N(r, NUMERIC_DPS))
                if not (mpmath.isfinite(x0) and x0 > 0):
                    continue
                for factor in (mpmath.mpf("0.999"), mpmath.mpf("1.001"), mpmath.mpf(2), mpmath.mpf("0.5")):
                    pt = dict(point, **{solve_for: x0 * factor})
                    hv, gv = _evaluate(h, pt), _evaluate(g, pt)
                    holds_h = hv < 0 if hypothesis.strict else hv <= 0
                    points += 1
                    disagreements += int(bool(holds_h) != bool(gv <= 0))
    return {"points": points, "disagreements": disagreements,
            "agrees": points > 0 and disagreements == 0}


# ------------------------------------------------------------------------------------------------
# the checks
# ------------------------------------------------------------------------------------------------

def _guarded(fn: Callable) -> Callable:
    """Turn a missing record/parameter into a 'missing' result instead of an exception."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _Missing as exc:
            rec = args[0] if args else kwargs.get("record")
            return ProofStepResult(fn.__name__, getattr(rec, "id", "?"), False, "missing",
                                   str(exc))
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _prove_half_delta_term(name, rec, exponent, delta, L, *, seed, what) -> ProofStepResult:
    """``2 exp(exponent) = delta/2`` at ``L``, the record's bound: a solved form's second term.

    Both Theorem 2 and Theorem 3 are solved for ``L`` by making this term exactly
    ``delta/2``; the log form ``exponent - log(delta/4)`` avoids ``exp`` overflow.
    """
    return _prove_identity(
        name, rec, 2 * sympy.exp(exponent), delta / 2,
        log_form=exponent - sympy.log(delta / 4), seed=seed, what=what,
        extra={"bound": L, "exponent": exponent})


def _prove_mixture_term(name, rec, *, power: int, seed: int) -> ProofStepResult:
    """The record's sample-size hypothesis <=> ``4K exp(-n eps^2/(8^power K)) <= delta/2``.

    The mixture term of [BS21] Theorems 2 and 3 differs only in the power of 8.
    """
    n, eps, delta, K = _symbols(rec, "n", "eps", "delta", "K")
    hyp = _find_hypothesis(rec, ("n", "eps", "delta", "K"))
    log_term = sympy.log(4 * K) - n * eps**2 / (8**power * K)
    return _prove_equivalence(
        name, rec, hyp, log_term, sympy.log(delta / 2), seed=seed,
        solve_for="n", what=f"4K exp(-n eps^2/(8^{power} K)) <= delta/2")


@_guarded
def universal_law_net_term(record=None) -> ProofStepResult:
    """[BS21, Thm 3] The net term of Theorem 2 (``eps/2``, ``2L``) is exactly ``delta/2`` at the bound.

    Theorem 2 applied to an ``eps/(6J)``-net of size ``(60 W J/eps)^p`` with ``eps/2`` and ``2L``
    contributes ``2 exp(p log(60WJ/eps) - eps^2 n d / (8^6 c L^2))``; with ``L`` the record's bound
    this must equal ``delta/2``.
    """
    rec = _record(record, "universal_law")
    n, d, p, eps, delta, c, W, J = _symbols(rec, "n", "d", "p", "eps", "delta", "c", "W", "J")
    L = _bound(rec)
    exponent = p * sympy.log(60 * W * J / eps) - eps**2 * n * d / (8**6 * c * L**2)
    return _prove_half_delta_term(
        "universal_law/net_term", rec, exponent, delta, L, seed=1,
        what="2 exp(p log(60WJ/eps) - eps^2 n d/(8^6 c L^2)) = delta/2 at L = record bound")


@_guarded
def universal_law_sample_size(record=None) -> ProofStepResult:
    """[BS21, Thm 3] The sample-size hypothesis <=> ``4K exp(-n eps^2/(8^4 K)) <= delta/2``."""
    return _prove_mixture_term("universal_law/sample_size", _record(record, "universal_law"),
                               power=4, seed=2)


def _class_size_term(rec):
    """``log|F|`` of the finite-class record, whichever of the usual spellings it uses."""
    syms = rec.symbols
    for name in ("log_F", "logF", "log_card_F", "log_size"):
        if name in syms:
            return syms[name]
    for name in ("F", "card_F", "F_size", "size_F", "N"):
        if name in syms:
            return sympy.log(syms[name])
    raise _Missing(f"record {rec.id!r} has no class-size parameter (|F| or log|F|); "
                   f"has: {', '.join(syms)}")


@_guarded
def finite_class_solved_form(record=None) -> ProofStepResult:
    """[BS21, Thm 2] The solved Lipschitz form makes the second term exactly ``delta/2``.

    ``2 exp(log|F| - eps^2 n d / (8^4 c L^2)) = delta/2`` at ``L`` the record's bound.
    """
    rec = _record(record, "finite_class")
    n, d, eps, delta, c = _symbols(rec, "n", "d", "eps", "delta", "c")
    logF = _class_size_term(rec)
    L = _bound(rec)
    exponent = logF - eps**2 * n * d / (8**4 * c * L**2)
    return _prove_half_delta_term(
        "finite_class/solved_form", rec, exponent, delta, L, seed=3,
        what="2 exp(log|F| - eps^2 n d/(8^4 c L^2)) = delta/2 at L = record bound")


@_guarded
def finite_class_validity(record=None) -> ProofStepResult:
    """[BS21, Thm 2] The validity condition <=> ``4K exp(-n eps^2/(8^3 K)) <= delta/2``."""
    return _prove_mixture_term("finite_class/validity", _record(record, "finite_class"),
                               power=3, seed=4)


def _find_record(candidates: tuple[str, ...]):
    for tid in candidates:
        if tid in bounds.ids():
            return bounds.get(tid)
    raise _Missing(f"catalogue has none of the records {', '.join(candidates)}")


BOUNDED_SUPPORT_IDS = ("bounded_support", "whz_bounded_support", "universal_law_bounded_support")


@_guarded
def bounded_support_from_universal(record=None, universal=None) -> ProofStepResult:
    """[WHZ23, derived] The bounded-support bound is the universal law with ``c = d D^2/4``.

    Also requires the record's sample-size hypothesis to be the universal law's (the same
    equivalence as :func:`universal_law_sample_size`).
    """
    rec = record if record is not None else _find_record(BOUNDED_SUPPORT_IDS)
    uni = _record(universal, "universal_law")
    (D,) = _symbols(rec, "D")
    (c, d) = _symbols(uni, "c", "d")
    target = _bound(uni).subs(c, d * D**2 / 4)
    mine = _bound(rec)
    ident = _prove_identity(
        "bounded_support/from_universal", rec, mine, target, log_form=mine - target, seed=5,
        records=[rec, uni], what="record bound = universal_law bound with c = d D^2/4",
        extra={"bound": mine, "universal_with_c": target})
    hyp = universal_law_sample_size.__wrapped__(rec)
    holds = ident.holds and hyp.holds
    status = "proved" if holds else ("fails" if "fails" in (ident.status, hyp.status)
                                     else ident.status if not ident.holds else hyp.status)
    return dataclasses.replace(ident, holds=holds, status=status,
                               detail=ident.detail + "; sample-size hypothesis: " + hyp.detail,
                               expressions={**ident.expressions, **{"hypothesis_" + k: v for k, v
                                                                    in hyp.expressions.items()}})


def _nonnegative_on_domain(expr, record, names) -> bool:
    """Prove ``expr >= 0`` given each named parameter ``>= 1`` (substitute ``x = 1 + t``, t >= 0)."""
    subs = {}
    for nm in names:
        s = record.symbols[nm]
        t = sympy.Symbol(f"t_{nm}", nonnegative=True, integer=bool(s.is_integer))
        subs[s] = 1 + t
    return sympy.expand(sympy.expand_log(expr.subs(subs), force=True)).is_nonnegative is True


def _domain_at_least_one(record, name) -> bool:
    """Whether the record's parameter domain forces ``name >= 1``."""
    par = record.parameter(name)
    return bool(par.low > 1 or (par.low == 1 and not par.low_open) or (par.integer and par.low >= 1))


def _deep_J_claimed(rec):
    """The repaired parameter-Lipschitz constant of ``docs/proofs/deep_networks.md``, as shipped."""
    p, Wd, Q, R, D = _symbols(rec, "p", "W", "Q", "R", "D")
    return sympy.sqrt(Q * D * (1 + R**2)) * (Wd * sympy.sqrt(2 * Q * p)) ** (D - 1)


@_guarded
def deep_networks_constants(record=None, universal=None) -> ProofStepResult:
    """[BS21, Sec. 3, repaired] ``J`` and the diameter of the deep-network entry.

    Three parts, all required:

    1. the record's bound is Theorem 3's with diameter ``2 W sqrt(p)`` and the shipped
       ``J = sqrt(Q D (1 + R^2)) (W sqrt(2 Q p))^(D - 1)``;
    2. ``2 W sqrt(p)`` is the diameter of ``[-W, W]^p``;
    3. the shipped ``J`` is at least the proof's ``sqrt(Q D (1 + R^2)) (1 + Q p W^2)^((D - 1)/2)``
       (``docs/proofs/deep_networks.md``, telescoping over layers) on the record's domain
       (``W, p, Q, D >= 1``): ``2 Q p W^2 - (1 + Q p W^2)`` is a polynomial with non-negative
       coefficients in ``W - 1, p - 1, Q - 1``, and ``D - 1 >= 0``.

    The source's ``J = R (W Q p)^D`` fails part 1 (and is false for small ``R``, docs/errata.md).
    """
    rec = _record(record, "deep_networks")
    uni = _record(universal, "universal_law")
    n, d, p, Wd, Q, R, D = _symbols(rec, "n", "d", "p", "W", "Q", "R", "D")
    Wu, Ju, pu = _symbols(uni, "W", "J", "p")
    diameter = 2 * Wd * sympy.sqrt(p)
    J_claimed = _deep_J_claimed(rec)
    J_proof = sympy.sqrt(Q * D * (1 + R**2)) * (1 + Q * p * Wd**2) ** ((D - 1) / 2)
    target = _bound(uni).subs({Wu: diameter, Ju: J_claimed, pu: p}, simultaneous=True)
    mine = _bound(rec)
    ident = _prove_identity(
        "deep_networks/constants", rec, mine, target, log_form=mine - target, seed=6,
        records=[rec], what="record bound = universal_law bound with diameter 2W sqrt(p), "
                            "J = sqrt(QD(1+R^2)) (W sqrt(2Qp))^(D-1)",
        extra={"bound": mine, "universal_substituted": target})
    # the diameter of the cube [-W, W]^p is its diagonal, sqrt(p (2W)^2)
    diag_ok = _is_zero(sympy.sqrt(p * (2 * Wd) ** 2) - diameter)
    need = [nm for nm in ("W", "p", "Q", "D") if not _domain_at_least_one(rec, nm)]
    gap = 2 * Q * p * Wd**2 - (1 + Q * p * Wd**2)
    dominates = not need and _nonnegative_on_domain(gap, rec, ("W", "p", "Q")) \
        and _nonnegative_on_domain(D - 1, rec, ("D",))
    parts = [ident.detail, f"diameter of [-W,W]^p is 2W sqrt(p): {'yes' if diag_ok else 'NO'}",
             "shipped J >= the proof's sqrt(QD(1+R^2)) (1 + QpW^2)^((D-1)/2): "
             + ("proved (2QpW^2 >= 1 + QpW^2 for W, p, Q >= 1)" if dominates else
                f"NOT proved (domain does not force {', '.join(need) or 'the inequality'})")]
    holds = ident.holds and diag_ok and dominates
    status = "proved" if holds else ("inconclusive" if ident.status == "inconclusive"
                                     and diag_ok and dominates else "fails")
    return dataclasses.replace(ident, holds=holds, status=status, detail="; ".join(parts),
                               expressions={**ident.expressions, "J_claimed": J_claimed,
                                            "J_proof": J_proof, "domination_gap": gap})


@_guarded
def any_model_constant(record=None) -> ProofStepResult:
    """[WHZ23, derived] The any-model bound is the proof's ``eps/(4r)`` with ``(1 + 2R/r)^d = eps n/4``.

    ``docs/proofs/any_model.md``: cells of radius ``r = 2R/((eps n/4)^(1/d) - 1)`` number at most
    ``(1 + 2R/r)^d``, which must be exactly the ``eps n/4`` cells the loss budget allows; the fit
    gap gives ``L r >= eps/4``. Both identities are proved; the record's bound must be ``eps/(4r)``.
    """
    rec = _record(record, "any_model")
    n, d, R, eps = _symbols(rec, "n", "d", "R", "eps")
    N = eps * n / 4
    r = 2 * R / (N ** (1 / d) - 1)
    cells_ok = _is_zero((1 + 2 * R / r) ** d - N)
    L = eps / (4 * r)
    mine = _bound(rec)
    ident = _prove_identity("any_model/constant", rec, mine, L, log_form=mine - L, seed=8,
                            what="record bound = eps/(4r), r = 2R/((eps n/4)^(1/d) - 1)",
                            extra={"bound": mine, "proof_bound": L, "radius": r})
    holds = ident.holds and cells_ok
    detail = ident.detail + f"; (1 + 2R/r)^d = eps n/4: {'proved' if cells_ok else 'NOT proved'}"
    return dataclasses.replace(ident, holds=holds,
                               status=ident.status if cells_ok else "fails", detail=detail)


@_guarded
def any_model_sample_size(record=None) -> ProofStepResult:
    """[WHZ23, derived] The hypothesis is ``t_1 + t_2 <= eps/4`` with the proof's deviations.

    ``t_1``: McDiarmid with differences ``4/n``, ``exp(-n t^2/8) = delta``; ``t_2``: Hoeffding on
    ``[0, 1]``, ``exp(-2 n t^2) = delta``. Both are solved here and the record's hypothesis must
    be ``t_1 + t_2 <= eps/4`` exactly (``lhs - rhs`` identical).
    """
    rec = _record(record, "any_model")
    n, delta, eps = _symbols(rec, "n", "delta", "eps")
    t = sympy.Symbol("t", positive=True)
    ell = sympy.Symbol("ell", positive=True)      # log(1/delta) > 0 for delta in (0, 1)
    (t1,) = sympy.solve(sympy.Eq(n * t**2 / 8, ell), t)
    (t2,) = sympy.solve(sympy.Eq(2 * n * t**2, ell), t)
    t1, t2 = (v.subs(ell, sympy.log(1 / delta)) for v in (t1, t2))
    hyp = _find_hypothesis(rec, ("n", "delta", "eps"))
    mine = hyp.lhs - hyp.rhs
    proof = t1 + t2 - eps / 4
    return _prove_identity("any_model/sample_size", rec, mine, proof, log_form=mine - proof,
                           seed=9, what="hypothesis lhs - rhs = t_1 + t_2 - eps/4",
                           extra={"t_1": t1, "t_2": t2})


#: The sharp proof's choices (docs/proofs/universal_law_sharp.md): net radius rho = eps/16 in
#: sup norm; the fit margin left for Theorem 2 is eps - 2 rho sqrt(1 - eps) - rho^2.
def _sharp_margin(eps):
    rho = eps / 16
    return rho, eps - 2 * rho * sympy.sqrt(1 - eps) - rho**2


@_guarded
def universal_law_sharp_net_term(record=None) -> ProofStepResult:
    """[derived] Theorem 2's net term at ``eps'`` on the ``rho/J``-net is ``delta/2`` at the bound.

    An internal ``rho/J``-net of a set of diameter ``W`` in ``R^p`` has at most
    ``(1 + 2 W J/rho)^p`` points; Theorem 2 with margin ``eps'`` and the same ``L`` contributes
    ``2 exp(p log(1 + 2WJ/rho) - eps'^2 n d/(8^4 c L^2))``, which must equal ``delta/2`` at
    ``L`` = the record's bound.
    """
    rec = _record(record, "universal_law_sharp")
    n, d, p, eps, delta, c, W, J = _symbols(rec, "n", "d", "p", "eps", "delta", "c", "W", "J")
    rho, eps1 = _sharp_margin(eps)
    L = _bound(rec)
    exponent = p * sympy.log(1 + 2 * W * J / rho) - eps1**2 * n * d / (8**4 * c * L**2)
    return _prove_half_delta_term(
        "universal_law_sharp/net_term", rec, exponent, delta, L, seed=10,
        what="2 exp(p log(1 + 2WJ/rho) - eps'^2 n d/(8^4 c L^2)) = delta/2 at L = record bound, "
             "rho = eps/16, eps' = eps - 2 rho sqrt(1 - eps) - rho^2")


@_guarded
def universal_law_sharp_sample_size(record=None) -> ProofStepResult:
    """[derived] The hypothesis <=> Theorem 2's mixture term at ``eps'`` is ``<= delta/2``."""
    rec = _record(record, "universal_law_sharp")
    n, eps, delta, K = _symbols(rec, "n", "eps", "delta", "K")
    _, eps1 = _sharp_margin(eps)
    hyp = _find_hypothesis(rec, ("n", "eps", "delta", "K"))
    log_term = sympy.log(4 * K) - n * eps1**2 / (8**3 * K)
    return _prove_equivalence(
        "universal_law_sharp/sample_size", rec, hyp, log_term, sympy.log(delta / 2), seed=11,
        solve_for="n", what="4K exp(-n eps'^2/(8^3 K)) <= delta/2")


@_guarded
def universal_law_sharp_margin(record=None) -> ProofStepResult:
    """[derived] Moving a fit to its net point costs at most ``eps - eps'`` of MSE margin.

    With ``||f - g||_inf <= rho`` and ``MSE(f) <= sigma^2 - eps``,
    ``MSE(g) <= (sqrt(sigma^2 - eps) + rho)^2``; the gap to ``sigma^2 - eps'`` is exactly
    ``2 rho (sqrt(1 - eps) - sqrt(sigma^2 - eps))``, non-negative as ``sigma^2 <= 1``. Also
    ``eps' > 0``: ``eps'/eps = 1 - sqrt(1 - eps)/8 - eps/256 >= 1 - 1/8 - 1/256``. Proved
    symbolically; re-checked at random ``(eps, sigma^2)`` with ``eps <= sigma^2 <= 1``.
    """
    rec = _record(record, "universal_law_sharp")
    (eps,) = _symbols(rec, "eps")
    s2 = sympy.Symbol("sigma2", positive=True)
    rho, eps1 = _sharp_margin(eps)
    gap = (s2 - eps1) - (sympy.sqrt(s2 - eps) + rho) ** 2
    claimed = 2 * rho * (sympy.sqrt(1 - eps) - sympy.sqrt(s2 - eps))
    ok_gap = _is_zero(sympy.expand(gap - claimed))
    ratio = sympy.expand(eps1 / eps)
    ok_pos = _is_zero(ratio - (1 - sympy.sqrt(1 - eps) / 8 - eps / 256))
    rng = random.Random(12)
    worst = mpmath.inf
    with mpmath.workdps(NUMERIC_DPS):
        for _ in range(N_POINTS):
            e = mpmath.mpf(rng.uniform(0.001, 0.999))
            v = e + (1 - e) * mpmath.mpf(rng.uniform(0, 1))
            worst = min(worst, _evaluate(gap, {"eps": e, "sigma2": v}),
                        _evaluate(eps1, {"eps": e}))
    holds = ok_gap and ok_pos and worst >= 0
    detail = (f"MSE(g) <= sigma^2 - eps' with slack 2 rho (sqrt(1-eps) - sqrt(sigma^2-eps)): "
              f"{'proved' if ok_gap else 'NOT proved'}; eps'/eps = 1 - sqrt(1-eps)/8 - eps/256 > 0: "
              f"{'proved' if ok_pos else 'NOT proved'}; smallest slack at {N_POINTS} random points "
              f"{mpmath.nstr(worst, 3)}")
    return ProofStepResult("universal_law_sharp/margin", rec.id, holds,
                           "proved" if holds else "fails", detail,
                           {"gap": gap, "claimed_gap": claimed, "eps_prime": eps1},
                           {"points": N_POINTS, "min_slack": worst})


#: name -> check, in the order of theorems.md
CHECKS: dict[str, Callable[..., ProofStepResult]] = {
    "universal_law/net_term": universal_law_net_term,
    "universal_law/sample_size": universal_law_sample_size,
    "finite_class/solved_form": finite_class_solved_form,
    "finite_class/validity": finite_class_validity,
    "bounded_support/from_universal": bounded_support_from_universal,
    "deep_networks/constants": deep_networks_constants,
    "any_model/constant": any_model_constant,
    "any_model/sample_size": any_model_sample_size,
    "universal_law_sharp/net_term": universal_law_sharp_net_term,
    "universal_law_sharp/sample_size": universal_law_sharp_sample_size,
    "universal_law_sharp/margin": universal_law_sharp_margin,
}


def run_all() -> list[ProofStepResult]:
    """Run every check of :data:`CHECKS` against the current catalogue.

    Returns
    -------
    list of ProofStepResult
        In the order of :data:`CHECKS`. A check whose record is not (yet) in the catalogue
        returns status ``"missing"`` rather than raising.
    """
    out = []
    for name, fn in CHECKS.items():
        res = fn()
        if res.status == "missing":
            res = dataclasses.replace(res, name=name)
        out.append(res)
    return out
