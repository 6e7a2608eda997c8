"""Example networks shipped with the package: ``certify.datasets.load(name)``, ``names()``.

Re-export of :mod:`certify.model.datasets` (which documents the functions).
"""

from certify.model.datasets import *  # noqa: F401,F403
from certify.model.datasets import __all__  # noqa: F401
