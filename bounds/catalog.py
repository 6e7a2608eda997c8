"""The catalogue: every entry module of :mod:`bounds` registers its records.

An entry module is any module of the package that defines a module-level
``ENTRIES`` tuple of :class:`~bounds.theorem.Theorem` records; the catalogue
collects them once, in module order, and refuses duplicate ids.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import lru_cache

from .errors import UnknownTheoremError
from .theorem import Theorem

__all__ = ["catalog", "get", "ids"]


@lru_cache(maxsize=1)
def _registry() -> dict[str, Theorem]:
    import bounds
    reg: dict[str, Theorem] = {}
    for info in sorted(pkgutil.iter_modules(bounds.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bounds.{info.name}")
        for entry in getattr(module, "ENTRIES", ()):
            if entry.id in reg:
                raise RuntimeError(f"duplicate theorem id {entry.id!r} in bounds.{info.name}")
            reg[entry.id] = entry
    return reg


def catalog() -> list[Theorem]:
    """All records, sorted by id.

    >>> import bounds
    >>> ids = [t.id for t in bounds.catalog()]
    >>> "universal_law" in ids
    True
    """
    return [v for _, v in sorted(_registry().items())]


def ids() -> list[str]:
    """All theorem ids, sorted."""
    return sorted(_registry())


def get(theorem_id: str) -> Theorem:
    """The record with this id.

    Raises
    ------
    UnknownTheoremError
        with the nearest ids as suggestions.

    >>> import bounds
    >>> bounds.get("universal_lw")
    Traceback (most recent call last):
    ...
    bounds.errors.UnknownTheoremError: unknown theorem id 'universal_lw'; did you mean 'universal_law' or 'universal_law_sharp'?
    """
    reg = _registry()
    if not isinstance(theorem_id, str) or theorem_id not in reg:
        key = theorem_id if isinstance(theorem_id, str) else repr(theorem_id)
        raise UnknownTheoremError(key, difflib.get_close_matches(key, list(reg), n=2, cutoff=0.5))
    return reg[theorem_id]
