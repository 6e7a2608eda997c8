"""Standing differential fuzz of ``bounds`` (issue 14): every record, every entry point, hostile inputs.

Inputs come from :func:`bounds.strategies.parameter_inputs` / :func:`~bounds.strategies.data_inputs`:
every accepted spelling (ints, floats, NumPy scalars, ``longdouble``, ``Fraction``, ``Decimal``,
integer and decimal strings), magnitudes from ``1e-330`` to ``10**400``, invalid values, masked
and empty arrays. Invariants:

* only the documented typed errors (``ParameterError``, ``HypothesisError``,
  ``UndecidedHypothesisError``), and ``ParameterError`` exactly when an input is invalid; no
  warnings;
* a refused hypothesis really fails, an accepted one really holds (decided independently in
  mpmath at 150 digits from the exact inputs, unless the two sides agree to 100 digits);
* ``lower_bound`` is below an independent 150-digit mpmath evaluation of the formula from the exact
  inputs, and close to it; ``evaluate`` agrees with it, masking only what float64 cannot hold;
* ``solve``'s certified answers are admissible (and extreme) by the independent evaluation;
* ``from_data`` is below an independent reference (exact rationals for the interpolation constant,
  150-digit symmetric eigenvalues for the spectral quantities) or refuses the data.

Scale-up: ``LAWROB_FUZZ_SCALE=20 pytest tests/test_fuzz_bounds.py`` multiplies the examples.
"""

import math
import os
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bounds
from bounds.errors import (HypothesisError, NotEvaluableError, ParameterError,
                           UndecidedHypothesisError)
from bounds.strategies import data_inputs, exact_value, parameter_inputs

#: nothing may leak a warning into a user's session either
pytestmark = pytest.mark.filterwarnings("error")
SCALE = max(1, int(os.environ.get("LAWROB_FUZZ_SCALE", "1")))


def _evaluates(t) -> bool:
    """Whether the record computes a Lipschitz bound (isoperimetry's formula is a tail bound)."""
    try:
        t.lower_bound()
    except NotEvaluableError:
        return False
    except ParameterError:
        return True
    return True


EVALUABLE = [t.id for t in bounds.catalog() if _evaluates(t)]
REF_DPS = 150


def fuzz_settings(examples: int):
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


# -- independent reference ----------------------------------------------------------------------
def _mp(v):
    """An input (or a default) as an mpmath number at the working precision."""
    if isinstance(v, sympy.Basic):
        return mpmath.mpf(sympy.N(v, mpmath.mp.dps + 10))
    q = exact_value(v)
    return mpmath.mpf(q.numerator) / q.denominator


def _full(t, params):
    return {p.name: params[p.name] if p.name in params else p.default for p in t.parameters}


def _formula_at(t, params, dps):
    with mpmath.workdps(dps):
        full = _full(t, params)
        fn = sympy.lambdify([p.symbol for p in t.parameters], t.expr, modules="mpmath")
        try:
            v = fn(*(_mp(full[p.name]) for p in t.parameters))
        except (ValueError, ZeroDivisionError):
            return None
        if isinstance(v, mpmath.mpc):
            if v.imag != 0:
                return None
            v = v.real
        return +v


def reference(t, params):
    """The formula from the exact inputs, good to ``REF_DPS`` digits (None where it is not real).

    Evaluated at doubling precisions until two agree: cancellation (``x**(1/d) - 1`` at
    ``d = 10**124``) eats as many digits as the inputs have.
    """
    # start past the digits of the inputs: at d = 10**300 fewer digits give 0 twice in a row
    width = max((max(len(str(q.numerator)), len(str(q.denominator)))
                 for q in (exact_value(v) for v in params.values())), default=0)
    dps = REF_DPS + width
    prev = _formula_at(t, params, dps)
    for _ in range(5):
        dps *= 2
        cur = _formula_at(t, params, dps)
        if prev is None or cur is None:
            return cur
        with mpmath.workdps(dps):
            if abs(cur - prev) <= abs(cur) * mpmath.mpf(10) ** -(REF_DPS - 10):
                return cur
        prev = cur
    raise AssertionError(f"no stable reference for {t.id} at {params}")


def reference_hypotheses(t, params):
    """``{name: True/False/None}``: each hypothesis at ``REF_DPS`` digits (None: sides too close)."""
    out = {}
    with mpmath.workdps(REF_DPS):
        full = _full(t, params)
        for h in t.hypothesis_list:
            syms = sorted(h.lhs.free_symbols | h.rhs.free_symbols, key=str)
            args = [_mp(full[s.name]) for s in syms]
            try:
                lhs = sympy.lambdify(syms, h.lhs, modules="mpmath")(*args)
                rhs = sympy.lambdify(syms, h.rhs, modules="mpmath")(*args)
            except (ValueError, ZeroDivisionError):
                out[h.name] = None
                continue
            if isinstance(lhs, mpmath.mpc) or isinstance(rhs, mpmath.mpc):
                out[h.name] = None
                continue
            scale = max(abs(lhs), abs(rhs), mpmath.mpf(10) ** -300)
            if abs(lhs - rhs) <= scale * mpmath.mpf(10) ** -100:
                out[h.name] = None
            else:
                out[h.name] = bool(lhs < rhs)
    return out


def _float_holds(par, x) -> bool:
    """Whether float64 holds the input ``x`` inside ``par``'s domain, not subnormal."""
    q = exact_value(x)
    try:
        f = float(q)
    except OverflowError:
        return False
    return math.isfinite(f) and par._in_domain(f) and (f == 0 or abs(f) > 1e-300)


def _close_below(value, ref, digits):
    """``value <= ref`` (up to the reference's own rounding) and within ``10^-digits`` of it."""
    with mpmath.workdps(REF_DPS):
        tol = abs(ref) * mpmath.mpf(10) ** -(REF_DPS - 20)
        assert value <= ref + tol, (value, ref)
        assert ref - value <= abs(ref) * mpmath.mpf(10) ** -digits + tol, (value, ref)


# -- lower_bound / evaluate / solve ---------------------------------------------------------------
@pytest.mark.parametrize("tid", EVALUABLE)
def test_lower_bound_and_evaluate(tid):
    t = bounds.get(tid)

    @fuzz_settings(12)
    @given(parameter_inputs(tid), st.sampled_from([15, 30]))
    def run(drawn, precision):
        params, bad = drawn
        try:
            v = t.lower_bound(precision=precision, **params)
        except ParameterError as exc:
            assert bad, f"valid inputs refused: {exc}"
            assert exc.parameter in bad
            if not any(isinstance(params[b], list) for b in bad):    # a list is an array there
                with pytest.raises(ParameterError):
                    t.evaluate(**params)
            return
        except (HypothesisError, UndecidedHypothesisError) as exc:
            assert not bad
            ref_h = reference_hypotheses(t, params)
            names = [h.name for h in (exc.failed if isinstance(exc, HypothesisError)
                                      else exc.undecided)]
            if isinstance(exc, HypothesisError):
                assert all(ref_h[n] is not True for n in names), (names, ref_h)
            # float64 agrees with a failure that is not a near tie
            out = t.evaluate(**params)
            if any(ref_h[n] is False for n in names):
                assert out.mask.all()
            return
        assert not bad, f"invalid input {bad} accepted"
        ref_h = reference_hypotheses(t, params)
        assert all(r is not False for r in ref_h.values()), ref_h
        ref = reference(t, params)
        assert ref is not None
        _close_below(v, ref, precision - 2 if v.rigorous else precision - 3)
        assert len(str(v).lstrip("-0.").replace(".", "").split("e")[0]) <= precision
        out = t.evaluate(**params)
        assert out.shape == ()
        if not out.mask:
            assert float(out) == pytest.approx(float(v), rel=1e-6, abs=1e-300)
        else:
            # masked only where float64 cannot hold a parameter, the value or a hypothesis side
            assert not all(_float_holds(t.parameter(k), x) for k, x in params.items()) \
                or not (1e-300 < abs(v) < 1e307), (params, v)

    run()


@pytest.mark.parametrize("tid", EVALUABLE)
def test_evaluate_masks_one_bad_element(tid):
    t = bounds.get(tid)

    @fuzz_settings(4)
    @given(parameter_inputs(tid, invalid=0))
    def run(drawn):
        params, _ = drawn
        name = t.parameters[0].name
        try:
            one = t.evaluate(**params)
        except ParameterError:
            return          # e.g. a 400-digit float string outside float64 with a finite domain
        p0 = t.parameters[0]
        huge = 10 ** 400 if math.isinf(p0.high) else None
        col = np.ma.masked_array(np.array([params[name], params[name], huge or params[name]],
                                          dtype=object), mask=[False, True, False])
        out = t.evaluate(**{**params, name: col})
        assert out.shape == (3,) and out.mask[1]
        if huge is not None:
            assert out.mask[2]
        assert bool(out.mask[0]) == bool(one.mask)
        if not one.mask:
            assert out[0] == float(one)

    run()


@pytest.mark.parametrize("tid", EVALUABLE)
def test_solve(tid):
    t = bounds.get(tid)

    @fuzz_settings(3)
    @given(parameter_inputs(tid, invalid=0), st.data())
    def run(drawn, data):
        params, _ = drawn
        unknown = data.draw(st.sampled_from([p.name for p in t.parameters]))
        rest = {k: v for k, v in params.items() if k != unknown}
        ref = reference(t, params)
        if ref is None or not mpmath.isfinite(ref) or ref <= 0:
            return
        lip = mpmath.nstr(ref * mpmath.mpf(10) ** data.draw(st.integers(-3, 3)), 20)
        try:
            r = t.solve(unknown, lip=lip, check=False, **rest)
        except ParameterError as exc:
            # documented refusals: the bound does not involve the unknown / is not monotone /
            # is undefined on the domain
            assert exc.parameter == unknown, exc
            return
        par = t.parameter(unknown)
        assert r.status in ("solved", "every_value", "no_value") and r.unknown == unknown
        assert "SolveResult(" not in str(r)
        if r.value is None:
            return
        if par.integer:
            assert type(r.value) is int
        if r.certified:
            L = exact_value(lip)
            with mpmath.workdps(REF_DPS):
                at = reference(t, {**rest, unknown: r.value})
                assert at is not None and at <= _mp(L) * (1 + mpmath.mpf(10) ** -100)
                if par.integer and r.status == "solved":
                    past = r.value - (1 if r.direction == "min" else -1)
                    if par._in_domain(past):
                        assert reference(t, {**rest, unknown: past}) > _mp(L)

    run()


def test_non_evaluable_records_refuse_every_entry_point():
    for t in bounds.catalog():
        if t.id in EVALUABLE:
            continue
        params = {p.name: 10 for p in t.parameters}
        for call in (lambda: t.lower_bound(**params), lambda: t.evaluate(**params),
                     lambda: t.solve(t.parameters[0].name, lip=1)):
            with pytest.raises(NotEvaluableError):
                call()


# -- from_data ------------------------------------------------------------------------------------
def _exact_matrix(X):
    return [[exact_value(v) for v in row] for row in np.asarray(X, dtype=object)]


def _float64_exact(X) -> bool:
    """Whether every entry of ``X`` is a float64 exactly (what from_data must insist on)."""
    if isinstance(X, np.ma.MaskedArray) and np.ma.getmaskarray(X).any():
        return False
    try:
        return all(Fraction(float(v)) == exact_value(v) and math.isfinite(float(v))
                   for v in np.ma.getdata(np.asarray(X, dtype=object)).ravel())
    except (OverflowError, ValueError):
        return False


def _sym_eigs(M):
    """Eigenvalues (descending) of a symmetric matrix of Fractions, at REF_DPS digits."""
    with mpmath.workdps(REF_DPS):
        A = mpmath.matrix([[mpmath.mpf(q.numerator) / q.denominator for q in row] for row in M])
        return sorted((mpmath.mpf(e) for e in mpmath.eigsy(A, eigvals_only=True)), reverse=True)


def _gram(rows):
    d = len(rows[0]) if rows else 0
    return [[sum((r[i] * r[j] for r in rows), Fraction(0)) for j in range(d)] for i in range(d)]


def ref_minimal(X, y):
    """max |dy|^2 / ||dx||^2 over pairs, exactly; inf for conflicting duplicates."""
    best = Fraction(0)
    for i in range(len(y)):
        for j in range(i):
            dx2 = sum(((a - b) ** 2 for a, b in zip(X[i], X[j])), Fraction(0))
            dy2 = (y[i] - y[j]) ** 2
            if dx2 == 0:
                if dy2:
                    return math.inf
                continue
            best = max(best, dy2 / dx2)
    return best


def ref_projection(X, y, k):
    P = [x for x, s in zip(X, y) if s > 0]
    M_ = [x for x, s in zip(X, y) if s < 0]
    d = len(X[0])
    M = [[Fraction(0)] * d for _ in range(d)]
    for a in P:
        for b in M_:
            diff = [u - v for u, v in zip(a, b)]
            for i in range(d):
                for j in range(d):
                    M[i][j] += diff[i] * diff[j]
    ky = sum(_sym_eigs(M)[:min(k, d)])
    with mpmath.workdps(REF_DPS):
        return 2 * mpmath.sqrt(len(P) * len(M_) / ky) if ky > 0 else None


def ref_spectral(X, y, k):
    """relu (psi >= 0), margin 1, deterministic: n / sqrt(r) / max_s sqrt(n_s) ||X_s||_op."""
    n, d = len(X), len(X[0])
    with mpmath.workdps(REF_DPS):
        z = 0
        for s in (1, -1):
            rows = [x for x, t in zip(X, y) if t == s]
            if rows:
                z = max(z, mpmath.sqrt(len(rows) * max(_sym_eigs(_gram(rows))[0], 0)))
        return n / mpmath.sqrt(min(k, d)) / z if z > 0 else None


def ref_polynomial(X, y, k):
    """q = 2: 2 n / (sum of the r largest singular values of T = sum y_i x_i x_i^T)."""
    d = len(X[0])
    T = [[sum((s * x[i] * x[j] for x, s in zip(X, y)), Fraction(0)) for j in range(d)]
         for i in range(d)]
    sv = sorted((abs(e) for e in _sym_eigs(T)), reverse=True)
    D = sum(sv[:min(k, d)])
    with mpmath.workdps(REF_DPS):
        return 2 * len(X) / D if D > 0 else None


DATA_REFS = {"minimal_interpolation": (False, ref_minimal),
             "two_layer_projection": (True, ref_projection),
             "two_layer_spectral": (True, ref_spectral),
             "polynomial_activation": (True, ref_polynomial)}


def test_every_data_entry_is_fuzzed():
    assert {t.id for t in bounds.catalog() if t.data_fn is not None} == set(DATA_REFS)


@pytest.mark.parametrize("tid", sorted(DATA_REFS))
def test_from_data(tid):
    t = bounds.get(tid)
    signs, ref_fn = DATA_REFS[tid]

    @fuzz_settings(12)
    @given(data_inputs(signs=signs), st.integers(1, 3))
    def run(sample, k):
        X, y = sample
        kw = {} if tid == "minimal_interpolation" else {"k": k}
        try:
            r = t.from_data(X, y, **kw)
        except ParameterError as exc:
            # refused: data float64 cannot hold exactly, empty, masked, or a documented
            # degenerate sample (one class only, coinciding classes)
            assert exc.parameter in ("X", "y"), exc
            if _float64_exact(X) and len(y) >= 1:
                assert tid != "minimal_interpolation", exc
            return
        assert _float64_exact(X), "data float64 would round was accepted"
        assert r.rigorous
        Xe, ye = _exact_matrix(X), [exact_value(v) for v in y]
        ref = ref_fn(Xe, ye, k) if tid != "minimal_interpolation" else ref_fn(Xe, ye)
        if tid == "minimal_interpolation":
            if ref == math.inf:
                assert r.value == mpmath.inf
            else:
                man, exp = r.value.man_exp
                val = Fraction(int(man)) * Fraction(2) ** int(exp) if man else Fraction(0)
                assert val ** 2 <= ref
            return
        if ref is None:
            return
        with mpmath.workdps(REF_DPS):
            assert r.value <= ref * (1 + mpmath.mpf(10) ** -100), (r.value, ref)
            # and not absurdly loose: the certificates lose little on these small samples
            assert r.value >= ref * (1 - mpmath.mpf(10) ** -6) or ref < mpmath.mpf(10) ** -290

    run()
