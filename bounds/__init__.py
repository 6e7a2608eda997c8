"""Catalogue of law-of-robustness theorems with explicit constants.

>>> import bounds
>>> t = bounds.get("universal_law")
>>> t.status.value
'stated'
"""

from .catalog import catalog, get, ids
from .errors import (HypothesisError, NotEvaluableError, ParameterError,
                     UnknownParameterError, UnknownTheoremError)
# imported eagerly: a lazy wrapper would be shadowed by the submodule of the same name
# as soon as the catalogue imports bounds.predictions
from .predictions import predictions
from .theorem import (BoundValue, Citation, DataBound, Hypothesis, SolveResult, Status,
                      Theorem, TrivialFloor)

__all__ = ["catalog", "get", "ids", "predictions", "Theorem", "Status", "Citation",
           "Hypothesis", "BoundValue", "SolveResult", "DataBound", "ParameterError",
           "UnknownParameterError", "HypothesisError", "UnknownTheoremError",
           "NotEvaluableError", "TrivialFloor"]

