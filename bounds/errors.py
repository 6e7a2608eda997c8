"""Typed errors of the toolkit.

Every error raised for bad input is a :class:`ValueError` subclass that names
the offending parameter and the allowed range, so that callers can catch
``ValueError`` generically or the precise class when they care.
"""

from __future__ import annotations

__all__ = [
    "ParameterError",
    "MissingParameterError",
    "UnknownParameterError",
    "HypothesisError",
    "UnknownTheoremError",
    "NotEvaluableError",
    "UndecidedHypothesisError",
]


def show(value) -> str:
    """A value as a user wrote it, for error messages: no NumPy or mpmath reprs.

    >>> import numpy as np
    >>> show(np.float64(1.0)), show(np.int64(3)), show("1e6"), show(np.array([1.0, 2.0]))
    ('1.0', '3', "'1e6'", '[1.0, 2.0]')
    """
    import numpy as np
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        items = [show(v) for v in flat[:6].tolist()]
        text = ", ".join(items) + (", ..." if flat.size > 6 else "")
        return f"[{text}]" if value.ndim <= 1 else f"array of shape {value.shape}: [{text}]"
    if isinstance(value, np.generic):
        if isinstance(value, np.floating) and value.dtype.itemsize > 8:
            return np.format_float_scientific(value, unique=True, trim="-")
        return show(value.item())
    if isinstance(value, (tuple, list)):
        inner = ", ".join(show(v) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        if isinstance(value, tuple):
            return f"({inner}{',' if len(value) == 1 else ''})"
        return f"[{inner}]"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 40:
        digits = str(abs(value))
        return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:13]}e+{len(digits) - 1} (an int)"
    try:
        import mpmath
        if isinstance(value, mpmath.mpf):
            return mpmath.nstr(value, 17)
    except ImportError:  # pragma: no cover - mpmath is a dependency
        pass
    return repr(value)


class ParameterError(ValueError):
    """A parameter is missing, of the wrong type, or outside its domain.

    Attributes
    ----------
    parameter : str
        Name of the offending parameter (the papers' notation, e.g. ``"eps"``).
    value : object
        The value that was passed.
    allowed : str
        Human-readable description of the allowed range, e.g. ``"(0, 1)"``.
    """

    def __init__(self, parameter: str, value: object, allowed: str, detail: str = ""):
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        self.detail = detail
        msg = f"parameter {parameter!r}={show(value)} is invalid: allowed {allowed}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class MissingParameterError(ParameterError):
    """A required parameter (one without a default) was not passed."""

    def __init__(self, parameter: str, allowed: str):
        super().__init__(parameter, None, allowed)
        self.args = (f"missing required parameter {parameter!r} (allowed {allowed})",)


class UnknownParameterError(ParameterError):
    """A keyword that is not a parameter of the theorem was passed."""

    def __init__(self, parameter: str, known: tuple[str, ...] | list[str]):
        self.known = tuple(known)
        super().__init__(parameter, None, "one of " + ", ".join(self.known),
                         "unknown parameter name")
        self.args = (f"unknown parameter {parameter!r}: allowed parameters are "
                     + ", ".join(self.known),)


class HypothesisError(ValueError):
    """One or more hypotheses of a theorem fail at the given parameters.

    Attributes
    ----------
    theorem_id : str
    failed : list
        The failed :class:`bounds.theorem.HypothesisResult` objects, each with
        its name and computed quantities.
    """

    def __init__(self, theorem_id: str, failed: list, detail: str | None = None):
        self.theorem_id = theorem_id
        self.failed = list(failed)
        parts = "; ".join(str(h) for h in self.failed)
        if detail is None:
            detail = ("Pass check=False to evaluate anyway (the result is then marked "
                      "as outside the theorem's hypotheses).")
        super().__init__(f"{theorem_id}: hypotheses fail: {parts}. {detail}")


class UnknownTheoremError(ValueError):
    """No catalogue entry has this id; the message suggests the nearest ids."""

    def __init__(self, theorem_id: str, suggestions: list[str]):
        self.theorem_id = theorem_id
        self.suggestions = list(suggestions)
        msg = f"unknown theorem id {theorem_id!r}"
        if self.suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(msg)


class NotEvaluableError(ValueError):
    """The entry is a conjecture or a withdrawn claim: it has no proved bound."""

    def __init__(self, theorem_id: str, status: str, reason: str, what: str = "a proved bound"):
        self.theorem_id = theorem_id
        self.status = status
        self.reason = reason
        super().__init__(f"{theorem_id} has status {status!r} and is not evaluated as "
                         f"{what}: {reason}")


class UndecidedHypothesisError(ValueError):
    """A hypothesis that the toolkit could not decide: an internal limit, not a failed hypothesis.

    Raised when the ball enclosures of both sides of a hypothesis still overlap at the
    highest precision tried (the sides are equal, or equal far below the working precision,
    e.g. ``eps = 60 W J`` exactly in a hypothesis with logs). The parameters may well satisfy
    the theorem; the toolkit cannot prove it either way.

    Attributes
    ----------
    theorem_id : str
    undecided : list
        The :class:`bounds.theorem.HypothesisResult` objects (``decided_by='undecided'``).
    bits : int
        The highest ball precision tried.
    """

    def __init__(self, theorem_id: str, undecided: list, bits: int):
        self.theorem_id = theorem_id
        self.undecided = list(undecided)
        self.bits = bits
        names = ", ".join(h.name for h in self.undecided)
        parts = "; ".join(h.describe() for h in self.undecided)
        super().__init__(
            f"{theorem_id}: cannot decide hypothesis {names} at these parameters: {parts}; "
            f"the ball enclosures of both sides still overlap at {bits} bits (the sides are "
            "equal, or equal far below the working precision). This is a limit of the toolkit, "
            "not a failed hypothesis; pass check=False to evaluate anyway (the result is then "
            "marked as not proved to be within the hypotheses).")
