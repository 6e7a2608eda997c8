"""Typed errors of the toolkit.

Every error raised for bad input is a :class:`ValueError` subclass that names
the offending parameter and the allowed range, so that callers can catch
``ValueError`` generically or the precise class when they care.
"""

from __future__ import annotations

__all__ = [
    "ParameterError",
    "UnknownParameterError",
    "HypothesisError",
    "UnknownTheoremError",
    "NotEvaluableError",
]


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
        msg = f"parameter {parameter!r}={value!r} is invalid: allowed {allowed}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


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
