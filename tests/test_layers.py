"""The architecture as a test: ``bounds`` never imports ``certify``, and inside ``certify`` a module
imports only from its own layer or lower ones (the rule is written at the top of
``certify/__init__.py`` and in ``docs/index.md``).

Every import statement is read from the source (module level and inside functions), so a lazy
import that breaks the rule fails here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: layer of each part of ``certify``, lowest first; a subpackage's modules share its layer
LAYERS = {
    "certify.errors": 0,
    "certify.inputs": 0,
    "certify.arith": 1,
    "certify.model": 2,
    "certify.methods": 3,
    "certify.harness": 4,
    "certify.report": 5,
    "certify.__main__": 6,
    "certify._moved": 6,
    "certify": 6,  # the package itself: its __init__ re-exports from every layer
}
LAYER_NAMES = ["base", "arith", "model", "methods", "harness", "report", "cli / package"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    """Layer of a ``certify`` module (longest matching prefix); KeyError if it has none."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in LAYERS:
            return LAYERS[key]
    raise KeyError(module)


def imported_modules(path: Path, source: str | None = None):
    """Yield ``(lineno, module)`` for every import in ``path``, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            for alias in node.names:
                # `from certify import datasets` imports the submodule when there is one
                sub = f"{mod}.{alias.name}"
                sub_path = ROOT / Path(*sub.split("."))
                yield node.lineno, sub if (sub_path.with_suffix(".py").exists()
                                           or sub_path.is_dir()) else mod


def sources(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def test_bounds_never_imports_certify():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {mod}"
           for p in sources("bounds") for line, mod in imported_modules(p)
           if mod == "certify" or mod.startswith("certify.")]
    assert not bad, "bounds must not import certify:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", sources("certify"), ids=lambda p: str(p.relative_to(ROOT)))
def test_certify_imports_respect_layers(path):
    me = module_name(path)
    try:
        mine = layer_of(me)
    except KeyError:
        pytest.fail(f"{me} belongs to no layer: put it in a subpackage or add it to LAYERS "
                    "(and to the rule in certify/__init__.py and docs/index.md)")
    bad = []
    for line, mod in imported_modules(path):
        if mod != "certify" and not mod.startswith("certify."):
            continue
        theirs = layer_of(mod)
        if theirs > mine:
            bad.append(f"line {line}: {me} ({LAYER_NAMES[mine]}) imports {mod} "
                       f"({LAYER_NAMES[theirs]})")
    assert not bad, "\n".join(bad)


def test_layer_check_catches_an_upward_import():
    """The checker itself: a lazy import of a method inside an arith module is reported."""
    probe = ROOT / "certify" / "arith" / "probe.py"
    found = list(imported_modules(probe, "def f():\n    from ..methods.naive import x\n"))
    assert found == [(2, "certify.methods.naive")]
    assert layer_of("certify.methods.naive") > layer_of(module_name(probe))


@pytest.mark.parametrize("old", sorted(__import__("certify._moved").
                                       _moved.MOVED))
def test_old_module_paths_still_import_with_a_warning(old):
    import importlib
    import sys

    import certify
    from certify._moved import MOVED

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=MOVED[old].replace(".", r"\.")):
        mod = importlib.import_module(old)
    assert mod is importlib.import_module(MOVED[old])
    # the package's functions keep their names although modules of the same name were imported
    assert callable(certify.lipschitz) and callable(certify.check)
    assert certify.lipschitz.__module__ == "certify.methods.dispatch"
    assert certify.check.__module__ == "certify.harness.check"
