"""Example networks: the ExLipBaB networks shipped with the package, and external data sets.

The ExLipBaB networks (T. Splittgerber, "ExLipBaB: Exact Lipschitz Constant Computation for
Piecewise Linear Neural Networks", 2026; MIT licence) are small fully connected networks trained
on UCI data sets.  They are installed with the package, with their licence and provenance
(:func:`license_text`, :func:`readme_text`), and load by name:

>>> from certify import datasets
>>> datasets.names()[:3]
['abalone_9x16x16x1_groupsort4', 'bike_13x20x16x8x3_relu', 'iris_4x6x6x3_groupsort2']
>>> datasets.load("iris_4x6x6x3_relu")
Network(4 -> 6 -> 6 -> 3, activations=[relu, relu], n_params=93)
>>> "MIT License" in datasets.license_text()
True

Other collections (the LipBaB networks, which carry no licence and are never shipped) are looked
up outside the package by :func:`external_dir`: in ``$LAWROB_DATA/<name>`` or ``$LAWROB_DATA``
itself when that is set, otherwise in ``../shared/data/<name>`` next to a source checkout.  :func:`external` returns the
directory or raises :class:`DataNotFoundError` saying where it looked.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from certify.errors import DataNotFoundError, UnsupportedError
from certify.model.network import Network

__all__ = ["names", "load", "path", "license_text", "readme_text", "external_dir", "external",
           "DataNotFoundError"]

_PACKAGE_DIR = ("data", "exlipbab")
#: Hidden activation from the file name's last part: ``relu`` or ``groupsortG``.
_ACTIVATION = re.compile(r"_(relu|groupsort(\d+))$")


def _root():
    return resources.files("certify.model").joinpath(*_PACKAGE_DIR)


def names() -> list[str]:
    """Names of the shipped networks (file names without ``.npz``), sorted."""
    return sorted(p.name[:-4] for p in _root().iterdir() if p.name.endswith(".npz"))


def path(name: str) -> Path:
    """Path of the shipped ``.npz`` file of network ``name`` (keys ``W1, b1, ..., WL, bL``).

    Raises
    ------
    bounds.errors.ParameterError
        Unknown name (the message lists :func:`names`).
    """
    from bounds.errors import ParameterError
    if not isinstance(name, str) or name not in names():
        raise ParameterError("name", name, "one of " + ", ".join(names()))
    return Path(str(_root().joinpath(name + ".npz")))


def load(name: str) -> Network:
    """The shipped network ``name`` as a :class:`~certify.Network`.

    The hidden activation is the one the file name states (``..._relu``, ``..._groupsortG``).

    Raises
    ------
    bounds.errors.ParameterError
        Unknown name.
    UnsupportedError
        The network's activation is not supported by this version.
    """
    file = path(name)
    m = _ACTIVATION.search(name)
    activation = "relu" if m.group(2) is None else f"groupsort:{m.group(2)}"
    try:
        return Network.from_npz(file, activation=activation)
    except UnsupportedError as exc:
        raise UnsupportedError(f"dataset {name!r} uses the activation {activation!r}: {exc}") from None


def license_text() -> str:
    """The MIT licence of the shipped ExLipBaB networks."""
    return _root().joinpath("LICENSE.md").read_text(encoding="utf-8")


def readme_text() -> str:
    """Provenance of the shipped networks: source, conversion, format, published constants."""
    return _root().joinpath("README.md").read_text(encoding="utf-8")


def _candidates(collection: str) -> list[Path]:
    env = os.environ.get("LAWROB_DATA")
    if env:  # set: the only place looked at
        return [Path(env) / collection, Path(env)]
    # a source checkout next to the project's shared data (developers); a user's clone has none
    repo = Path(__file__).resolve().parents[2]
    return [repo.parent / "shared" / "data" / collection]


def _holds(directory: Path, collection: str) -> bool:
    pattern = "sdnet_*.npz" if collection == "lipbab" else "*.npz"
    return directory.is_dir() and any(directory.glob(pattern))


def external_dir(collection: str = "lipbab") -> Path | None:
    """The directory holding an external collection of networks (e.g. ``"lipbab"``), or None.

    Looked up in ``$LAWROB_DATA/<collection>`` and ``$LAWROB_DATA`` itself (if it holds the files)
    when ``LAWROB_DATA`` is set, otherwise in ``../shared/data/<collection>`` next to the source
    checkout of this package.
    """
    for c in _candidates(collection):
        if _holds(c, collection):
            return c
    return None


def external(collection: str = "lipbab") -> Path:
    """Like :func:`external_dir`, but raises :class:`DataNotFoundError` when nothing is found.

    The LipBaB networks carry no licence and are not distributed with this package; examples and
    tests that use them skip when this raises.
    """
    found = external_dir(collection)
    if found is None:
        looked = ", ".join(str(c) for c in _candidates(collection))
        raise DataNotFoundError(
            f"the {collection!r} networks are not installed (they are not distributed with lawrob): "
            f"set LAWROB_DATA to a directory holding {collection}/ (looked in: {looked})")
    return found
