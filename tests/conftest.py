"""Shared test configuration: the seeded Hypothesis profile used everywhere."""

from hypothesis import settings

# derandomized: the same examples on every run (CI is reproducible); no deadline, because
# 50-digit mpmath evaluations and SymPy lambdification on first use are slow but correct
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")
