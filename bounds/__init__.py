"""Catalogue of law-of-robustness theorems with explicit constants.

>>> import bounds
>>> t = bounds.get("universal_law")
>>> t.status.value
'stated'
"""

from .catalog import catalog, get, ids
from .errors import (HypothesisError, NotEvaluableError, ParameterError,
                     UnknownParameterError, UnknownTheoremError)
from .theorem import BoundValue, Citation, Hypothesis, SolveResult, Status, Theorem

__all__ = ["catalog", "get", "ids", "predictions", "Theorem", "Status", "Citation",
           "Hypothesis", "BoundValue", "SolveResult", "ParameterError",
           "UnknownParameterError", "HypothesisError", "UnknownTheoremError",
           "NotEvaluableError"]


def predictions(*args, **kwargs):
    """The real-data predictions of [BS21, Section 1.1]; see :mod:`bounds.predictions`."""
    from .predictions import predictions as _predictions
    return _predictions(*args, **kwargs)
