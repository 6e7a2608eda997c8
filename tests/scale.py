"""Scale of the soundness property tests.

The default run keeps the suite fast; ``LAWROB_SOUNDNESS_SCALE=20 pytest tests/test_exact.py ...``
runs every soundness property on twenty times as many random networks (thousands) against the
brute-force references. Figures of such runs are recorded in ``docs/methods/``.
"""

import os

SOUNDNESS_SCALE = max(1, int(os.environ.get("LAWROB_SOUNDNESS_SCALE", "1")))


def examples(n: int) -> int:
    """``n`` random instances, times ``LAWROB_SOUNDNESS_SCALE``."""
    return n * SOUNDNESS_SCALE
