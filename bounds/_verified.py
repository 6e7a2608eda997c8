"""Verified arithmetic and validated samples shared by the data-dependent bounds.

Private module (the catalogue skips modules whose name starts with ``_``); the theorem modules
``two_layer_projection``, ``two_layer_spectral``, ``polynomial`` and ``interpolation`` import from
here.

* Conversions between Arb balls and mpmath numbers: :func:`arb_lower` and :func:`arb_upper` read
  an end point of a ball, rounded *outward* (down for the lower end, up for the upper end), so the
  mpmath number is still a valid bound; :func:`arb_of_mpf` turns a number into an exact ball.
* :func:`arb_matrix`: exact Arb copy of a float64 matrix.
* :func:`ky_fan_upper`: verified upper bound on the sum of the ``r`` largest eigenvalues of a
  symmetric matrix (a dual certificate checked in ball arithmetic), returned as a
  :class:`KyFanBound`.
* :func:`check_data`, :func:`check_width`, :func:`width_data_fn`: validation of samples ``(X, y)``
  and of the number of neurons ``k``, with :class:`~bounds.errors.ParameterError` naming the
  offending argument.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from dataclasses import dataclass

import flint
import mpmath
import numpy as np

from .errors import ParameterError

__all__ = ["solve_float_program", "ARB_PREC", "arb_precision", "arb_lower", "arb_upper", "arb_of_mpf", "arb_of_input",
           "arb_eval", "arb_matrix",
           "KyFanBound", "ky_fan_upper", "check_data", "check_width", "width_data_fn", "exact_float64"]

#: Working precision (bits) of the ball arithmetic on data. Float64 inputs are exact at any
#: precision; 128 bits keep the enclosures of Gram matrices far below float64 resolution.
ARB_PREC = 128


# ----------------------------------------------------------------------------------------------
# precision and conversions
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def arb_precision(bits: int = ARB_PREC):
    """Temporarily raise python-flint's global working precision to at least ``bits``.

    Parameters
    ----------
    bits : int
        Minimum working precision in bits; a higher precision already in force is kept.

    Notes
    -----
    The previous precision is restored on exit, also when the block raises.

    >>> import flint
    >>> with arb_precision(300):
    ...     flint.ctx.prec >= 300
    True
    """
    old = flint.ctx.prec
    flint.ctx.prec = max(int(bits), old)
    try:
        yield
    finally:
        flint.ctx.prec = old


def _mpf_of_arf(x: flint.arf, bits: int | None, rounding: str) -> mpmath.mpf:
    """An Arb float as an mpmath number: exact, or rounded to ``bits`` in direction ``rounding``."""
    man, exp = x.man_exp()
    if bits is None:
        raw = mpmath.libmp.from_man_exp(int(man), int(exp))
    else:
        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits < 1:
            raise ParameterError("bits", bits, "None or integers >= 1", "mantissa bits of the result")
        raw = mpmath.libmp.from_man_exp(int(man), int(exp), int(bits), rounding)
    # make_mpf keeps every bit of ``raw``: mpmath.mpf(...) would round to the context precision
    return mpmath.mp.make_mpf(raw)


def _finite(x: flint.arb) -> flint.arb:
    if not x.is_finite():
        raise FloatingPointError("non-finite ball in a rigorous computation")
    return x


def arb_lower(x: flint.arb, bits: int | None = None) -> mpmath.mpf:
    """A lower bound on every point of a ball, as an mpmath number.

    Parameters
    ----------
    x : flint.arb
        A finite ball.
    bits : int, optional
        Round the result *down* to this many mantissa bits. Without it the result carries every
        bit of the ball's lower end point.

    Returns
    -------
    mpmath.mpf
        The lower end point of ``x`` (python-flint rounds it down to its working precision),
        rounded down to ``bits`` when given; never above any point of the ball. The number may
        have more mantissa bits than ``mpmath.mp.prec``.

    Raises
    ------
    FloatingPointError
        If ``x`` is not finite (infinite or NaN midpoint or radius).

    >>> import flint
    >>> arb_lower(flint.arb(1, 0.25)) <= 0.75     # Arb may round the radius up, never down
    True
    >>> arb_lower(flint.arb(1) / 3, bits=4)    # 1/3 rounded down to 4 bits: 5/16
    mpf('0.3125')
    """
    return _mpf_of_arf(_finite(x).lower(), bits, mpmath.libmp.round_floor)


def arb_upper(x: flint.arb, bits: int | None = None) -> mpmath.mpf:
    """An upper bound on every point of a ball, as an mpmath number.

    Parameters
    ----------
    x : flint.arb
        A finite ball.
    bits : int, optional
        Round the result *up* to this many mantissa bits. Without it the result carries every bit
        of the ball's upper end point.

    Returns
    -------
    mpmath.mpf
        The upper end point of ``x`` (python-flint rounds it up to its working precision), rounded
        up to ``bits`` when given; never below any point of the ball.

    Raises
    ------
    FloatingPointError
        If ``x`` is not finite.

    >>> import flint
    >>> arb_upper(flint.arb(1, 0.25)) >= 1.25
    True
    >>> arb_upper(flint.arb(1) / 3, bits=4)    # 1/3 rounded up to 4 bits: 11/32
    mpf('0.34375')
    """
    return _mpf_of_arf(_finite(x).upper(), bits, mpmath.libmp.round_ceiling)


def arb_of_mpf(v) -> flint.arb:
    """Exact Arb ball (radius 0) of an mpmath number, float or integer.

    Parameters
    ----------
    v : mpmath.mpf, float or int
        A finite number. An ``mpf`` keeps every mantissa bit, also beyond ``mpmath.mp.prec``
        (the end points returned by :func:`arb_upper` are such numbers).

    Returns
    -------
    flint.arb
        The ball ``[v +/- 0]``, whatever python-flint's working precision.

    Raises
    ------
    FloatingPointError
        If ``v`` is infinite or NaN.
    TypeError
        For any other type (strings or fractions would need a rounding direction).

    >>> import mpmath
    >>> wide = mpmath.mp.make_mpf((0, 2**100 + 1, -100, 101))    # 1 + 2^-100
    >>> arb_of_mpf(wide) - 1 == flint.arb(2) ** -100
    True
    """
    if isinstance(v, mpmath.mpf):
        # v._mpf_, not mpmath.mpf(v)._mpf_: the latter rounds to the context precision (to
        # nearest), which can move an upper bound below the number it bounds
        sign, man, exp, _ = v._mpf_
        if not man and exp:
            raise FloatingPointError("non-finite mpmath number in a rigorous computation")
        return flint.arb(flint.arf(((-1) ** sign * int(man), int(exp))))
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            raise FloatingPointError("non-finite float in a rigorous computation")
        return flint.arb(float(v))
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return flint.arb(int(v))
    raise TypeError(f"arb_of_mpf: expected mpmath.mpf, float or int, got {type(v).__name__}")


def arb_of_input(value, fallback: mpmath.mpf) -> flint.arb:
    """A ball containing a user's parameter value *as the user wrote it*.

    Decimal strings (``"0.1"``, read by :func:`bounds.params.decimal_string`, as the scalar path
    reads them), fractions, ``decimal.Decimal`` and ``numpy.longdouble`` are enclosed exactly
    (``0.1`` is not a double; a longdouble is wider than one); ints, floats and mpmath numbers
    are exact balls. Anything else (a SymPy number, say) falls back to the validated mpmath
    value, widened by one unit of its last place so that the rounding done while validating is
    covered.
    """
    from fractions import Fraction
    import numbers
    import sympy
    from .params import decimal_string, exact_fraction
    if isinstance(value, str):
        text = decimal_string(value)
        if text is None:
            raise ValueError(f"not a decimal literal: {value!r}")
        return flint.arb(text)
    exact = exact_fraction(value)
    if exact is not None:
        value = exact
    if isinstance(value, Fraction):
        return flint.arb(flint.fmpq(value.numerator, value.denominator))
    if isinstance(value, sympy.Rational):
        return flint.arb(flint.fmpq(int(value.p), int(value.q)))
    if isinstance(value, (mpmath.mpf, float, np.floating)):
        return arb_of_mpf(value)
    if isinstance(value, (numbers.Integral, np.integer)):
        return flint.arb(int(value))
    ball = arb_of_mpf(fallback)
    return ball + flint.arb(0, abs(ball) * flint.arb(2) ** (-mpmath.mp.prec + 1))


def _arb_pow(base: flint.arb, e, env: dict) -> flint.arb:
    import sympy
    if e.is_Integer:
        return base ** int(e)
    if e == sympy.Rational(1, 2):
        return base.sqrt()
    if e == sympy.Rational(-1, 2):
        return 1 / base.sqrt()
    return base ** arb_eval(e, env)


def arb_eval(expr, env: dict) -> flint.arb:
    """Evaluate a SymPy expression in ball arithmetic.

    Parameters
    ----------
    expr : sympy.Expr
        Built from rationals, ``pi``, ``E``, symbols, ``+ * **``, ``log``, ``exp``, ``sqrt``,
        ``Min``, ``Max`` and functions that define ``_arb_`` (a method taking the evaluated
        argument balls).
    env : dict
        ``{symbol: flint.arb}`` for every free symbol.

    Returns
    -------
    flint.arb
        A ball containing the exact value (at python-flint's working precision).

    Raises
    ------
    NotImplementedError
        For a node it cannot evaluate rigorously (the caller then reports no enclosure).

    >>> import sympy
    >>> x = sympy.Symbol("x", positive=True)
    >>> ball = arb_eval(sympy.sqrt(x) / 3 + sympy.log(x), {x: flint.arb(2)})
    >>> ball.contains(flint.arb(2).sqrt() / 3 + flint.arb(2).log())
    True
    """
    import sympy
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Integer:
        return flint.arb(int(expr))
    if expr.is_Rational:
        return flint.arb(flint.fmpq(int(expr.p), int(expr.q)))
    if expr is sympy.pi:
        return flint.arb.pi()
    if expr is sympy.E:
        return flint.arb(1).exp()
    if expr.is_Add:
        out = flint.arb(0)
        for a in expr.args:
            out += arb_eval(a, env)
        return out
    if expr.is_Mul:
        out = flint.arb(1)
        for a in expr.args:
            out *= arb_eval(a, env)
        return out
    if expr.is_Pow:
        return _arb_pow(arb_eval(expr.base, env), expr.exp, env)
    if isinstance(expr, sympy.log):
        return arb_eval(expr.args[0], env).log()
    if isinstance(expr, sympy.exp):
        return arb_eval(expr.args[0], env).exp()
    if isinstance(expr, (sympy.Min, sympy.Max)):
        vals = [arb_eval(a, env) for a in expr.args]
        out = vals[0]
        for v in vals[1:]:
            out = out.min(v) if isinstance(expr, sympy.Min) else out.max(v)
        return out
    if hasattr(expr, "_arb_"):
        return expr._arb_(*(arb_eval(a, env) for a in expr.args))
    raise NotImplementedError(f"no ball-arithmetic rule for {type(expr).__name__}")


# ----------------------------------------------------------------------------------------------
# matrices and Ky Fan sums
# ----------------------------------------------------------------------------------------------

def arb_matrix(A) -> flint.arb_mat:
    """Exact Arb copy of a float64 matrix (every double is representable).

    Parameters
    ----------
    A : array_like, shape (m, n)
        Converted with ``numpy.asarray(A, dtype=float64)``; ``m`` or ``n`` may be 0.

    Returns
    -------
    flint.arb_mat
        Entries are exact balls (radius 0).
    """
    A = np.asarray(A, dtype=np.float64)
    return flint.arb_mat(A.tolist()) if A.size else flint.arb_mat(A.shape[0], A.shape[1])


def _mid_array(A: flint.arb_mat) -> np.ndarray:
    return np.array([[float(v.mid()) for v in row] for row in A.tolist()], dtype=np.float64)


@dataclass(frozen=True)
class KyFanBound:
    """Rigorous upper bound on ``lambda_1(A) + ... + lambda_r(A)`` for a symmetric ``A``.

    Attributes
    ----------
    value : mpmath.mpf
        The upper bound (upper end point of an Arb ball, not rounded to ``mpmath.mp.prec``).
    r : int
    estimate : float
        Floating-point value of the sum (``numpy.linalg.eigh``), for comparison.
    method : str
        ``"trace"`` (``r >= dim``) or ``"dual certificate"``.
    t, eps : float
        Certificate parameters: ``A <= (t + eps) I + Z`` with ``Z >= 0``, so the sum is at most
        ``r (t + eps) + tr Z``.
    """

    value: object
    r: int
    estimate: float
    method: str
    t: float = 0.0
    eps: float = 0.0


def _check_ky_fan_args(A, r) -> int:
    if A.ncols() != A.nrows():
        raise ParameterError("A", (A.nrows(), A.ncols()), "a square matrix")
    if int(r) != r or r < 1:
        raise ParameterError("r", r, "integers >= 1")
    return int(r)


def ky_fan_upper(A: flint.arb_mat, r: int, *, max_tries: int = 40) -> KyFanBound:
    """Verified upper bound on the sum of the ``r`` largest eigenvalues of a symmetric matrix.

    Parameters
    ----------
    A : flint.arb_mat
        Enclosure of a real symmetric ``d x d`` matrix (each entry a ball containing the true entry).
    r : int
        Number of eigenvalues, ``r >= 1``.
    max_tries : int
        How many times the certificate's slack may be multiplied by 4 before giving up.

    Returns
    -------
    KyFanBound

    Raises
    ------
    ParameterError
        If ``A`` is not square or ``r`` is not an integer ``>= 1``.
    FloatingPointError
        If no certificate could be verified (e.g. entries with huge radii).

    Notes
    -----
    Dual certificate (Ky Fan's maximum principle): if ``A <= s I + Z`` with ``Z >= 0`` then for every
    rank-``r`` orthogonal projection ``P``, ``tr(PA) <= s r + tr(PZ) <= s r + tr(Z)``. From a float
    eigendecomposition ``A ~ Q diag(lam) Q^T`` we take ``t = lam_{r+1}``,
    ``Z = Q_r diag(lam_j - t)_+ Q_r^T`` (positive semidefinite by construction, whatever the rounding
    in ``Q``) and ``s = t + eps``. ``s I + Z - A >= 0`` is proved by showing that the congruent matrix
    ``Q^T (s I + Z - A) Q`` is strictly diagonally dominant with positive diagonal (Gershgorin) in
    Arb; this also proves ``Q`` invertible, so the congruence preserves definiteness (Sylvester).

    >>> import flint
    >>> b = ky_fan_upper(flint.arb_mat([[2, 1], [1, 2]]), 1)
    >>> 3 <= float(b.value) < 3 + 1e-9
    True
    """
    r = _check_ky_fan_args(A, r)
    shift = _binary_magnitude(A)
    if not -400 <= shift <= 400:
        # entries beyond float64's comfortable range (data of 1e308 squared): the certificate is
        # built from float eigenvectors, so scale by an exact power of two first and back after
        scaled = ky_fan_upper(A * flint.arb(2) ** (-shift), r, max_tries=max_tries)
        with arb_precision():
            value = arb_upper(arb_of_mpf(scaled.value) * flint.arb(2) ** shift)
        try:
            estimate = math.ldexp(scaled.estimate, shift)
        except OverflowError:
            estimate = math.copysign(math.inf, scaled.estimate)
        return dataclasses.replace(scaled, value=value, estimate=estimate,
                                   method=scaled.method + f" (scaled by 2^{-shift})")
    d = A.nrows()
    mid = _mid_array(A)
    mid = (mid + mid.T) / 2
    lam, Q = np.linalg.eigh(mid)
    lam, Q = lam[::-1], Q[:, ::-1].copy()
    estimate = float(np.sum(lam[:r]))
    if r >= d:
        tr = sum((A[i, i] for i in range(d)), flint.arb(0))
        return KyFanBound(arb_upper(tr), r, estimate, "trace")
    t = float(lam[r])
    D = np.maximum(lam[:r] - t, 0.0)
    Qa, Qr = arb_matrix(Q), arb_matrix(Q[:, :r])
    G = Qa.transpose() * Qa
    P = Qa.transpose() * Qr
    C = P * flint.arb_mat(r, r, [D[i] if i == j else 0 for i in range(r) for j in range(r)]) \
        * P.transpose()
    B0 = (C - Qa.transpose() * A * Qa + G * flint.arb(t)).tolist()
    Gl = G.tolist()
    scale = max(float(np.max(np.abs(lam))), np.finfo(float).tiny)
    # first guess of the slack from the float picture, then multiplied until Arb proves it
    off = [sum(float(abs(B0[i][j]).upper()) for j in range(d) if j != i) for i in range(d)]
    diag = [float(B0[i][i].lower()) for i in range(d)]
    eps = max(max(o - g for o, g in zip(off, diag)), 0.0) * 2 + scale * 1e-15
    for _ in range(max_tries):
        e = flint.arb(eps)
        if _diagonally_dominant(B0, Gl, e):
            trZ = sum((flint.arb(D[j]) * Gl[j][j] for j in range(r)), flint.arb(0))
            bound = flint.arb(r) * (flint.arb(t) + e) + trZ
            return KyFanBound(arb_upper(bound), r, estimate, "dual certificate", t, eps)
        eps *= 4
    raise FloatingPointError("ky_fan_upper: could not verify the certificate "
                             f"(d={d}, r={r}, last eps={eps:.3g})")


def _binary_magnitude(A: flint.arb_mat) -> int:
    """Binary exponent of the largest midpoint of ``A`` (0 for a zero matrix)."""
    top = None
    for row in A.tolist():
        for v in row:
            man, exp = v.mid().man_exp()
            if man != 0:
                e = int(exp) + int(abs(int(man))).bit_length()
                top = e if top is None else max(top, e)
    return 0 if top is None else top


def _diagonally_dominant(B0, Gl, e: flint.arb) -> bool:
    """Arb proof that ``B0 + e G`` is strictly diagonally dominant with a positive diagonal."""
    d = len(B0)
    for i in range(d):
        dii = B0[i][i] + e * Gl[i][i]
        s = flint.arb(0)
        for j in range(d):
            if j != i:
                s += abs(B0[i][j] + e * Gl[i][j])
        if not (dii - s > 0):
            return False
    return True


# ----------------------------------------------------------------------------------------------
# samples and widths
# ----------------------------------------------------------------------------------------------

def _first_non_finite(a: np.ndarray):
    idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
    return idx if len(idx) > 1 else idx[0]


def exact_float64(name: str, value, allowed: str) -> np.ndarray:
    """``value`` as a float64 array, refused unless every entry converts *exactly*.

    The data-dependent bounds compute in ball arithmetic from float64 data: an entry that
    float64 would round (an integer beyond 2^53, a ``longdouble``, a ``Fraction`` or ``Decimal``
    like 0.1) would make the bound one of other data, possibly above the truth for the data as
    given. Such data is refused, as are masked entries (their hidden values would be used),
    complex numbers, booleans and strings. Non-finite entries pass through (checked by the caller).

    Raises
    ------
    ParameterError
        naming ``name``, the first offending entry and its index.

    >>> exact_float64("X", [[2**53 + 1]], "data")
    Traceback (most recent call last):
    ...
    bounds.errors.ParameterError: parameter 'X'=9007199254740993 is invalid: allowed data exactly representable in float64 (entry at index (0, 0) would be rounded to 9007199254740992.0)
    """
    from fractions import Fraction
    if isinstance(value, np.ma.MaskedArray):
        if np.ma.getmaskarray(value).any():
            idx = tuple(int(i) for i in np.argwhere(np.ma.getmaskarray(value))[0])
            raise ParameterError(name, "masked array", allowed, f"masked entry at index {idx}")
        value = np.ma.getdata(value)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise ParameterError(name, type(value).__name__, allowed) from None
    kind = raw.dtype.kind
    if kind in "bcUSVMm":
        why = {"b": "booleans are not numbers here", "c": "complex values"}.get(kind, "not numeric")
        raise ParameterError(name, f"{raw.dtype} array", allowed, why)
    if kind in "iuf" and raw.dtype.itemsize <= 8 and not (kind in "iu" and raw.dtype.itemsize == 8):
        return raw.astype(np.float64)       # float16/32/64 and small ints: exact
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            out = raw.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        out = None
    if out is None or kind == "O":
        # entry by entry: Python ints, Fractions, Decimals, mpmath/NumPy scalars
        out = np.empty(raw.shape, dtype=np.float64)
        for idx, v in np.ndenumerate(raw):
            if isinstance(v, (bool, np.bool_, str, complex, np.complexfloating)):
                raise ParameterError(name, v, allowed, f"not a real number at index {idx}")
            try:
                f = float(v)
            except (TypeError, ValueError, OverflowError):
                raise ParameterError(name, v, allowed + " (in float64's range)",
                                     f"entry at index {idx}") from None
            out[idx] = f
            try:
                rounded = np.isfinite(f) and _exact_value(v) != Fraction(f)
            except (TypeError, ValueError):
                raise ParameterError(name, v, allowed, f"not a real number at index {idx}") from None
            if rounded:
                raise ParameterError(name, v, allowed + " exactly representable in float64",
                                     f"entry at index {idx} would be rounded to {f!r}")
        return out
    # wide ints and longdouble: compare the round trip
    finite = np.isfinite(out)
    if kind == "f":
        exact = np.where(finite, out.astype(raw.dtype) == raw, ~np.isfinite(raw))
    else:
        exact = np.abs(raw) <= 2 ** 53
        for idx in zip(*np.nonzero(~exact)):
            exact[idx] = int(out[idx]) == int(raw[idx])
    if not exact.all():
        idx = tuple(int(i) for i in np.argwhere(~exact)[0])
        raise ParameterError(name, raw[idx], allowed + " exactly representable in float64",
                             f"entry at index {idx} would be rounded to {float(out[idx])!r}")
    return out


def _exact_value(v):
    """The exact rational value of a real scalar (ints, floats, Fractions, Decimals, mpf)."""
    from fractions import Fraction
    from .params import exact_fraction
    exact = exact_fraction(v)
    if exact is not None:
        return exact
    if isinstance(v, mpmath.mpf):
        man, exp = v.man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    if isinstance(v, np.generic):
        v = v.item()
    return Fraction(v)


def _check_inputs(X) -> np.ndarray:
    allowed = "a finite real (n, d) array"
    Xa = exact_float64("X", X, allowed)
    if Xa.ndim != 2 or Xa.shape[0] < 1 or Xa.shape[1] < 1:
        raise ParameterError("X", f"shape {Xa.shape}", allowed + " with n, d >= 1")
    if not np.all(np.isfinite(Xa)):
        idx = _first_non_finite(Xa)
        raise ParameterError("X", float(Xa[idx]), allowed, f"non-finite entry at index {idx}")
    return Xa


def _check_labels(y, n: int, signs: bool) -> np.ndarray:
    allowed = "labels in {-1, +1}" if signs else "finite real labels"
    ya = exact_float64("y", y, allowed)
    if ya.shape != (n,):
        raise ParameterError("y", f"shape {ya.shape}", f"{allowed}, shape ({n},) to match X")
    if signs and not np.all((ya == 1) | (ya == -1)):
        raise ParameterError("y", "values outside {-1, +1}", allowed)
    if not np.all(np.isfinite(ya)):
        idx = _first_non_finite(ya)
        raise ParameterError("y", float(ya[idx]), allowed, f"non-finite entry at index {idx}")
    return ya


def check_data(X, y, *, signs: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate a sample ``(X, y)``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Finite real inputs, ``n, d >= 1``.
    y : array_like, shape (n,)
        Labels: in {-1, +1} when ``signs`` (the default), otherwise any finite reals.
    signs : bool
        Whether the labels must be signs.

    Returns
    -------
    X, y : numpy.ndarray
        float64 copies (or views) of the inputs.

    Raises
    ------
    ParameterError
        naming ``X`` or ``y`` and the allowed values.

    >>> check_data([[0.0], [1.0]], [1, 2])
    Traceback (most recent call last):
    ...
    bounds.errors.ParameterError: parameter 'y'='values outside {-1, +1}' is invalid: allowed labels in {-1, +1}
    >>> check_data([[0.0], [1.0]], [1, 2], signs=False)[1]
    array([1., 2.])
    """
    Xa = _check_inputs(X)
    return Xa, _check_labels(y, Xa.shape[0], signs)


def check_width(k) -> int:
    """Validate the number of neurons ``k``.

    Parameters
    ----------
    k : int
        An integer (Python or NumPy, not bool) ``>= 1``.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        naming ``k``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError("k", k, "integers >= 1", "number of neurons")
    return int(k)


def width_data_fn(bound):
    """A ``Theorem.data_fn`` that calls ``bound(X, y, **kw)`` and insists on the keyword ``k``.

    Parameters
    ----------
    bound : callable
        ``bound(X, y, k, **options) -> DataBound``.

    Returns
    -------
    callable
        ``data_fn(theorem, X, y, **kw)``; raises :class:`~bounds.errors.ParameterError` naming
        ``k`` when the number of neurons is missing.
    """
    def data_fn(theorem, X, y, **kw):
        if "k" not in kw:
            raise ParameterError("k", None, "integers >= 1", "required: number of neurons")
        return bound(X, y, **kw)

    data_fn.__name__ = data_fn.__qualname__ = f"{bound.__name__}_data_fn"
    data_fn.__doc__ = f"``from_data`` of the record: :func:`{bound.__name__}`, ``k`` required."
    return data_fn


def solve_float_program(problem, **solve_options) -> list[str]:
    """``problem.solve(**solve_options)`` for a cvxpy problem whose answer is certified afterwards.

    cvxpy warns ``Solution may be inaccurate`` (a ``UserWarning``) when the solver stops short of
    its tolerances.  The callers never trust the float answer (it is re-checked in exact or ball
    arithmetic), so the warning is not the user's business: it is caught here and returned, for the
    caller to record next to the solver status, instead of leaking into the user's session.

    Returns
    -------
    list of str
        The messages of the warnings caught (empty when the solve was clean).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem.solve(**solve_options)
    kept = []
    for w in caught:
        if issubclass(w.category, UserWarning) and "inaccurate" in str(w.message):
            kept.append(str(w.message).strip())
        else:  # anything else is re-issued as it came
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return kept
