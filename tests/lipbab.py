"""The LipBaB networks for the tests: used only when present, otherwise the tests skip visibly.

They are not distributed with lawrob (no licence); :func:`certify.datasets.external_dir` finds
them through ``LAWROB_DATA`` (or ``../shared/data/lipbab`` next to a developer's checkout).
"""

import pytest

from certify.datasets import external_dir
from certify.model.network import Network

LIPBAB_DIR = external_dir("lipbab")
#: Paths of the LipBaB ``.npz`` files, or ``[]`` when absent (a parametrized test then skips).
LIPBAB_FILES = sorted(LIPBAB_DIR.glob("sdnet_*.npz")) if LIPBAB_DIR is not None else []
SKIP_REASON = "LipBaB networks not available (not distributed; set LAWROB_DATA to a directory holding lipbab/)"
needs_lipbab = pytest.mark.skipif(LIPBAB_DIR is None, reason=SKIP_REASON)


def lipbab_net(name: str) -> Network:
    """The LipBaB network ``name`` (e.g. ``"sdnet_10_15_10_3"``); skips the calling test if absent."""
    if LIPBAB_DIR is None:
        pytest.skip(SKIP_REASON)
    return Network.from_npz(LIPBAB_DIR / f"{name}.npz")
