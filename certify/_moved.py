"""The module paths of ``certify`` 0.1 (one flat folder), importable for one more release.

``import certify.interval`` and the like still work: they give the module at its new path and
emit a :class:`DeprecationWarning` naming it.  The aliases go away in the release after 0.2
(CHANGELOG.md lists them).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

#: old path -> new path
MOVED = {
    "certify.interval": "certify.arith.interval",
    "certify.witness": "certify.arith.witness",
    "certify.regions": "certify.arith.regions",
    "certify.activations": "certify.model.activations",
    "certify.network": "certify.model.network",
    "certify.certificate": "certify.methods.certificate",
    "certify.lower": "certify.methods.lower",
    "certify.naive": "certify.methods.naive",
    "certify.sdp": "certify.methods.sdp",
    "certify.branch_and_bound": "certify.methods.branch_and_bound",
    "certify.exact": "certify.methods.exact",
    "certify.lipschitz": "certify.methods.dispatch",
    "certify.check": "certify.harness.check",
    "certify.fit": "certify.harness.fit",
    "certify.statistics": "certify.harness.statistics",
    "certify.experiment": "certify.harness.experiment",
    "certify.proofsteps": "certify.harness.proofsteps",
    "certify.tables": "bounds.tables",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve an old path to the module at its new one (the same object, not a copy)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"module {spec.name} has moved to {new}; the old path will be removed in "
                      "the next release", DeprecationWarning, stacklevel=3)
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # the module at the new path is already executed


class _Package(types.ModuleType):
    """``certify`` itself: importing an old submodule path must not replace the functions
    ``certify.lipschitz`` and ``certify.check`` by the modules of the same name (the import system
    binds every imported submodule as an attribute of its package)."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and f"{self.__name__}.{name}" in MOVED \
                and callable(self.__dict__.get(name)):
            return
        super().__setattr__(name, value)


def install(package: types.ModuleType) -> None:
    """Register the aliases (once) and protect ``package``'s public functions."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
    package.__class__ = _Package
