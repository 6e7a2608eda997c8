"""Hypothesis strategies for property-testing statements, in the style of ``hypothesis.extra.numpy``.

This module needs `hypothesis <https://hypothesis.readthedocs.io>`_ (the ``test`` extra:
``pip install lawrob[test]``); it is imported lazily, so ``import bounds`` never needs it.

* :func:`data_models` -- :class:`~bounds.data.DataModel` instances (sphere, Gaussian, cube, shifted
  mixtures; random signs or bounded target plus noise with exact ``sigma2``);
* :func:`samples` -- ``(X, y)`` drawn from a model (fixed or drawn);
* :func:`theorem_parameters` -- valid parameter dicts for a catalogue entry, respecting the
  domains and, optionally, the hypotheses;
* :func:`two_layer_networks` -- weights ``(W, a, b)`` of ``x -> sum_l a_l psi(w_l . x + b_l)`` as
  arrays (build a network with ``certify.model.network.two_layer(W, a, b)``);
* :func:`parameter_inputs` and :func:`data_inputs` -- hostile inputs as users write them (every
  accepted spelling, magnitudes from subnormal to ``10**400``, invalid values), for differential
  fuzzing of ``lower_bound`` / ``evaluate`` / ``solve`` / ``from_data``; :func:`exact_value`
  reads any of them as an exact rational, the reference side of such a test.

Property-testing a statement takes a few lines.  For instance, "the universal law's bound grows
with ``n``" (a monotonicity every correct version of the bound satisfies):

>>> from hypothesis import given, settings
>>> import bounds
>>> from bounds.strategies import theorem_parameters
>>> law = bounds.get("universal_law")
>>> @settings(derandomize=True, max_examples=20, deadline=None)
... @given(theorem_parameters("universal_law"))
... def test_monotone_in_n(params):
...     more = dict(params, n=2 * params["n"])
...     assert law.lower_bound(**more) > law.lower_bound(**params)
>>> test_monotone_in_n()

And a data-dependent property, "random labels have ``sigma2`` = 1 and lie in {-1, 1}":

>>> import numpy as np
>>> from bounds.strategies import data_models, samples
>>> @settings(derandomize=True, max_examples=10, deadline=None)
... @given(samples(data_models(noisy=False), n=5))
... def test_signs(sample):
...     X, y = sample
...     assert set(np.unique(y)) <= {-1.0, 1.0}
>>> test_signs()
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from .data import DataModel, Measure, Labels, random_signs_labels, symmetric_noise, MEASURES

__all__ = ["data_models", "samples", "theorem_parameters", "two_layer_networks", "TwoLayerWeights",
           "parameter_inputs", "data_inputs", "exact_value", "INVALID"]

#: Upper ends of the drawn ranges for unbounded integer parameters (log-uniform draws).
INT_CAPS = {"n": 10 ** 12}
DEFAULT_INT_CAP = 10 ** 6
#: Log-uniform range of unbounded positive real parameters.
REAL_RANGE = (1e-3, 1e3)


def _st():
    try:
        import hypothesis.strategies as st
    except ImportError as exc:  # pragma: no cover - hypothesis is a test extra
        raise ImportError("bounds.strategies needs hypothesis: pip install 'lawrob[test]'") from exc
    return st


def _as_strategy(value, st):
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


class TwoLayerWeights(NamedTuple):
    """Weights of ``f(x) = sum_l a_l psi(w_l . x + b_l)``, in ``certify.model.network.two_layer``'s order."""

    W: np.ndarray
    a: np.ndarray
    b: np.ndarray


def _bounded_target(v: np.ndarray, bound: float):
    """``x -> bound * tanh(v . x)``: a smooth target with ``sup |target| <= bound``."""
    def target(X):
        return bound * np.tanh(np.asarray(X) @ v)
    return target


def data_models(d=None, measures=MEASURES, max_components: int = 1, noisy: bool = True):
    """Strategy for :class:`~bounds.data.DataModel` instances.

    Parameters
    ----------
    d : int or strategy, optional
        Input dimension; default integers in ``[2, 8]`` (the sphere needs ``d >= 2`` to be
        isoperimetric with a finite constant).
    measures : sequence of str
        Base measures to draw from.
    max_components : int
        Mixtures of up to this many shifted components (1: no mixtures).
    noisy : bool
        Also draw labels ``y = target(x) + noise`` (bounded tanh target, symmetric noise with
        rational ``s, q``, hence exact ``sigma2``); otherwise only random signs.
    """
    st = _st()
    dims = _as_strategy(d, st) if d is not None else st.integers(2, 8)

    @st.composite
    def build(draw):
        dim = draw(dims)
        K = draw(st.integers(1, max_components))

        def base():
            name = draw(st.sampled_from(tuple(measures)))
            if name == "sphere":
                return Measure.sphere(dim, draw(st.sampled_from([0.5, 1.0, 2.0])))
            return Measure.gaussian(dim) if name == "gaussian" else Measure.cube(dim)

        if K == 1:
            measure = base()
        else:
            comps = []
            for _ in range(K):
                shift = draw(st.lists(st.integers(-4, 4), min_size=dim, max_size=dim))
                comps.append(base().shifted(np.asarray(shift, float) / 2))
            raw = draw(st.lists(st.integers(1, 5), min_size=K, max_size=K))
            measure = Measure.mixture(comps, [w / sum(raw) for w in raw])
        if noisy and draw(st.booleans()):
            s = Fraction(draw(st.integers(1, 4)), 4)
            q = Fraction(draw(st.integers(1, 4)), 4)
            v = np.asarray(draw(st.lists(st.integers(-3, 3), min_size=dim, max_size=dim)), float)
            tb = float(1 - s)
            labels = Labels(symmetric_noise(s, q), _bounded_target(v, tb) if tb > 0 else None, tb,
                            name="target_plus_noise")
        else:
            labels = random_signs_labels()
        return DataModel(measure, labels)

    return build()


def samples(model, n=None):
    """Strategy for ``(X, y)`` drawn from ``model`` (a DataModel or a strategy of them).

    ``n``: int or strategy (default integers in ``[1, 50]``).  The sample is produced by the
    model's seeded sampler from a drawn seed, so shrinking and replay are deterministic.
    """
    st = _st()
    models = _as_strategy(model, st)
    sizes = _as_strategy(n, st) if n is not None else st.integers(1, 50)

    @st.composite
    def build(draw):
        m = draw(models)
        return m.sample(draw(sizes), seed=draw(st.integers(0, 2 ** 32 - 1)))

    return build()


def _log_uniform(draw, st, lo: float, hi: float) -> float:
    u = draw(st.floats(0.0, 1.0, allow_nan=False))
    return float(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))))


def _parameter(draw, st, par):
    """A value inside ``par``'s domain: log-uniform over wide ranges, never on an open end."""
    lo, hi = par.low, par.high
    if par.integer:
        a = int(lo) + (1 if par.low_open else 0)
        b = (int(hi) - (1 if par.high_open else 0)) if math.isfinite(hi) else \
            INT_CAPS.get(par.name, DEFAULT_INT_CAP)
        a = max(a, 1) if not math.isfinite(lo) else a
        if b - a <= 1000 or a < 1:
            return draw(st.integers(a, b))
        return max(a, min(b, int(round(_log_uniform(draw, st, a, b)))))
    if math.isfinite(lo) and math.isfinite(hi):
        x = draw(st.floats(lo, hi, allow_nan=False, exclude_min=par.low_open, exclude_max=par.high_open))
        # keep away from the ends by a relative 1e-9 so that logs of (1 - x) stay moderate
        pad = 1e-9 * (hi - lo)
        return min(max(x, lo + pad), hi - pad)
    if math.isfinite(lo):
        return lo + _log_uniform(draw, st, *REAL_RANGE)
    return draw(st.floats(-1e3, 1e3, allow_nan=False))


def theorem_parameters(theorem_id, hypotheses: bool = True, fixed: dict | None = None):
    """Strategy for valid parameter dicts of a catalogue entry.

    Parameters
    ----------
    theorem_id : str or Theorem
    hypotheses : bool
        Only draw points where every checkable hypothesis holds.  Failing draws are first
        repaired by multiplying ``n`` by 10 (up to ``10^12``; the sample-size hypotheses are
        monotone in ``n``), then filtered out.
    fixed : dict, optional
        Parameters held fixed (e.g. ``{"c": 1, "K": 1}``).

    Returns
    -------
    strategy of dict
        ``{name: value}`` for every parameter, ready for ``theorem.lower_bound(**params)``.
    """
    st = _st()
    from .catalog import get
    th = get(theorem_id) if isinstance(theorem_id, str) else theorem_id
    th._refuse_if_not_evaluable()
    fixed = dict(fixed or {})

    @st.composite
    def build(draw):
        from hypothesis import assume
        params = {}
        for par in th.parameters:
            params[par.name] = fixed[par.name] if par.name in fixed else _parameter(draw, st, par)
        if hypotheses:
            ok = all(th.hypotheses(**params))
            while not ok and "n" in params and "n" not in fixed and params["n"] * 10 <= INT_CAPS["n"]:
                params["n"] = params["n"] * 10
                ok = all(th.hypotheses(**params))
            assume(ok)
        return params

    return build()


def two_layer_networks(d, k, max_weight: float = 2.0, bias: bool = True):
    """Strategy for the weights :class:`TwoLayerWeights` ``(W, a, b)`` of a width-``k`` network on ``R^d``.

    Entries are finite floats in ``[-max_weight, max_weight]`` (``d``, ``k``: ints or strategies);
    ``b`` is zero when ``bias=False``.  Arrays, not ``certify`` networks: ``bounds`` never
    imports ``certify``.
    """
    st = _st()
    from hypothesis.extra.numpy import arrays
    dims, widths = _as_strategy(d, st), _as_strategy(k, st)
    elems = st.floats(-max_weight, max_weight, allow_nan=False, allow_subnormal=False, width=64)

    @st.composite
    def build(draw):
        dd, kk = draw(dims), draw(widths)
        W = draw(arrays(np.float64, (kk, dd), elements=elems))
        a = draw(arrays(np.float64, (kk,), elements=elems))
        b = draw(arrays(np.float64, (kk,), elements=elems)) if bias else np.zeros(kk)
        return TwoLayerWeights(W, a, b)

    return build()


# ----------------------------------------------------------------------------------------------
# hostile inputs: every spelling a user may pass, extreme magnitudes, invalid values
# ----------------------------------------------------------------------------------------------

class _Invalid(NamedTuple):
    """Marker wrapper: this draw is outside the accepted inputs (the call must refuse it)."""

    value: object


#: Values no parameter accepts (besides the domain violations drawn per parameter).
INVALID = (math.nan, math.inf, -math.inf, True, None, 1 + 2j, "abc", "1e", "nan", "inf", "0x10",
           [1.0, 2.0])


def exact_value(v):
    """The exact rational value of a finite real input, as :class:`fractions.Fraction`.

    Accepts what :func:`parameter_inputs` draws: ints, floats, NumPy scalars (``longdouble``
    included), ``Fraction``, ``Decimal``, mpmath numbers and decimal strings (``"1_000"``).

    >>> exact_value("0.1"), exact_value(0.5), exact_value(np.longdouble(3))
    (Fraction(1, 10), Fraction(1, 2), Fraction(3, 1))
    """
    from .params import exact_rational
    q = exact_rational(v)
    if q is None:
        raise ValueError(f"not a finite real number: {v!r}")
    return q


def _spell(draw, st, q: Fraction, integer: bool):
    """One of the accepted spellings of the exact number ``q`` (or a rounding of it)."""
    from decimal import Decimal
    spellings = ["fraction", "decimal_string"]
    if q.denominator == 1:
        spellings += ["int", "int_string", "decimal"]
        if abs(q) < 2 ** 63:
            spellings.append("np_int64")
    fin = abs(q) < Fraction(1.7976931348623157e308) and (q == 0 or abs(q) > Fraction(2.2250738585072014e-308))
    if fin:
        spellings += ["float", "np_float64", "longdouble"]
        if q == 0 or Fraction(1.2e-38) < abs(q) < Fraction(3.4e38):
            spellings.append("np_float32")
    if q.denominator != 1 and fin:
        spellings.append("decimal")
    how = draw(st.sampled_from(spellings))
    f = float(q) if fin else None
    if how == "int":
        return int(q)
    if how == "int_string":
        text = str(int(q))
        if len(text) > 4 and draw(st.booleans()):      # underscores, as Python allows
            text = text[0] + "_" + text[1:]
        return text
    if how == "np_int64":
        return np.int64(int(q))
    if how == "float":
        return f
    if how == "np_float64":
        return np.float64(f)
    if how == "np_float32":
        return np.float32(f)
    if how == "longdouble":
        return np.longdouble(q.numerator) / np.longdouble(q.denominator) \
            if abs(q.numerator) < 2 ** 1000 and q.denominator < 2 ** 1000 else np.longdouble(f)
    if how == "decimal":
        return Decimal(q.numerator) / Decimal(q.denominator) if q.denominator != 1 else Decimal(int(q))
    if how == "decimal_string":
        return _decimal_text(q)
    return q


def _decimal_text(q: Fraction) -> str:
    """A decimal string close to ``q`` (exact when ``q`` is a terminating decimal)."""
    from decimal import Decimal, localcontext
    with localcontext() as ctx:
        ctx.prec = 30
        return format(Decimal(q.numerator) / Decimal(q.denominator), "e")


def _magnitude(draw, st, lo_exp: int = -330, hi_exp: int = 400) -> Fraction:
    """A positive rational ``m * 10^e``, ``e`` anywhere in ``[lo_exp, hi_exp]``."""
    e = draw(st.one_of(st.integers(-6, 12), st.integers(lo_exp, hi_exp)))
    m = draw(st.integers(1, 10 ** 6))
    return Fraction(m) * Fraction(10) ** (e - 6)


def _valid_number(draw, st, par) -> Fraction:
    lo, hi = par.low, par.high
    if par.integer:
        a = int(lo) + (1 if par.low_open else 0)
        if draw(st.booleans()):
            return Fraction(draw(st.integers(a, a + 20)))
        return Fraction(a + max(0, int(_magnitude(draw, st, 0, 400))))
    if math.isfinite(lo) and math.isfinite(hi):
        a, b = Fraction(lo), Fraction(hi)
        where = draw(st.sampled_from(["low", "high", "middle"]))
        if where == "middle":
            return a + (b - a) * Fraction(draw(st.integers(1, 999)), 1000)
        t = min(_magnitude(draw, st, -400, -1), Fraction(1, 2))
        return a + (b - a) * t if where == "low" else b - (b - a) * t
    if math.isfinite(lo):
        x = Fraction(lo) + _magnitude(draw, st)
        return x if (x > lo or not par.low_open) else x + 1
    if math.isfinite(hi):
        return Fraction(hi) - _magnitude(draw, st)
    return _magnitude(draw, st) * draw(st.sampled_from([-1, 1]))


def _invalid_number(draw, st, par):
    """A value outside ``par``'s domain or no number at all (wrapped in :class:`_Invalid`)."""
    bad = list(INVALID)
    if math.isfinite(par.low):
        bad.append(par.low - 1)
        if par.low_open:
            bad.append(par.low)
    if math.isfinite(par.high):
        bad.append(par.high + 1)
        if par.high_open:
            bad.append(par.high)
    if par.integer:
        bad += [2.5, "2.5", Fraction(5, 2)]
    return _Invalid(draw(st.sampled_from(bad)))


def parameter_inputs(theorem_id, invalid: float = 0.1):
    """Strategy for parameter dicts of a record as users write them, valid or not.

    Every parameter is drawn as an exact number anywhere in its domain (from ``10**-330`` to
    ``10**400``, close to open ends, small integers and 400-digit ones), then spelled as an int,
    float, NumPy scalar (``int64``, ``float32``, ``float64``, ``longdouble``), ``Fraction``,
    ``Decimal``, integer or decimal string (underscores included). With probability ``invalid``
    per parameter it is instead outside the domain or no number at all (:data:`INVALID`).

    Returns
    -------
    strategy of (dict, set)
        The parameters, ready for ``lower_bound(**params)``, and the names whose value is
        invalid (the call must then raise :class:`~bounds.errors.ParameterError`).
    """
    st = _st()
    from .catalog import get
    th = get(theorem_id) if isinstance(theorem_id, str) else theorem_id
    th._refuse_if_not_evaluable()

    @st.composite
    def build(draw):
        params, bad = {}, set()
        for par in th.parameters:
            if invalid > 0 and draw(st.floats(0, 1)) < invalid:
                params[par.name] = _invalid_number(draw, st, par).value
                bad.add(par.name)
            else:
                q = _valid_number(draw, st, par)
                v = _spell(draw, st, q, par.integer)
                # a float32 or decimal-string spelling may round onto an open end: keep it valid
                e = exact_value(v)
                if not par._in_domain(e) or (par.integer and e.denominator != 1):
                    v = q
                params[par.name] = v
        return params, bad

    return build()


def data_inputs(signs: bool = True, max_n: int = 6, max_d: int = 3):
    """Strategy for samples ``(X, y)`` as users pass them, valid or not.

    ``X`` entries span ``1e-300`` to ``1e300`` (and exact zeros, duplicates, integers beyond
    ``2**53``); the arrays come as float64, float32, ``longdouble``, int64, object arrays of
    Python ints / ``Fraction`` / ``Decimal``, masked arrays, empty arrays or nested lists.
    ``y`` holds signs (``signs=True``) or reals.

    Returns
    -------
    strategy of (X, y)
    """
    st = _st()
    from decimal import Decimal

    @st.composite
    def build(draw):
        n = draw(st.integers(0, max_n))
        d = draw(st.integers(1, max_d))
        scale = 10.0 ** draw(st.sampled_from([0, 0, -150, 150, -300, 300]))
        vals = draw(st.lists(st.integers(-4, 4), min_size=n * d, max_size=n * d))
        X = np.asarray(vals, dtype=np.float64).reshape(n, d) * scale
        if signs:
            y = np.asarray(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
        else:
            y = np.asarray(draw(st.lists(st.integers(-8, 8), min_size=n, max_size=n)), float) / 4
        kind = draw(st.sampled_from(["float64", "float64", "float32", "longdouble", "int64",
                                     "big_int", "object", "masked", "list"]))
        if kind == "float32":
            with np.errstate(over="ignore"):        # 1e300 becomes inf: refused downstream
                X = X.astype(np.float32)
        elif kind == "longdouble":
            X = X.astype(np.longdouble)
            if n and draw(st.booleans()):
                X = X / 3                                   # not representable in float64
        elif kind == "int64":
            X = np.asarray(vals, dtype=np.int64).reshape(n, d) * draw(st.sampled_from([1, 2 ** 40]))
            if n and draw(st.booleans()):
                X[0, 0] = 2 ** 53 + 1                       # rounds in float64
        elif kind == "big_int":
            X = np.asarray([[int(v) * 10 ** 30 + draw(st.integers(0, 1)) for v in row]
                            for row in np.asarray(vals).reshape(n, d)], dtype=object)
        elif kind == "object":
            conv = draw(st.sampled_from([Fraction, lambda v: Decimal(repr(v)), float]))
            X = np.asarray([[conv(float(v)) for v in row] for row in X], dtype=object).reshape(n, d)
        elif kind == "masked":
            mask = np.zeros(X.shape, dtype=bool)
            if X.size and draw(st.booleans()):
                mask.flat[0] = True
            X = np.ma.masked_array(X, mask=mask)
        elif kind == "list":
            X = X.tolist()
        return X, y

    return build()
