"""The documentation covers the catalogue and the methods, and its relative links resolve.

Rules checked (see ``docs/index.md``):

* every catalogue id has ``docs/theorems/<id>.md``, whose title names the id and its status, and
  every theorem page belongs to a catalogue id;
* every ``derived`` entry has ``docs/proofs/<id>.md``, linked from its theorem page, unless it is
  one of :data:`PROOF_ON_THEOREM_PAGE` (its proofs are a section of its theorem page); every proof
  page belongs to a derived entry;
* every method of ``certify.METHODS`` has ``docs/methods/<name>.md``;
* ``docs/index.md`` links every other page under ``docs/``;
* every relative link in ``README.md``, ``docs/*.md`` and ``docs/*/*.md`` points to an existing file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bounds
import certify

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Derived entries whose proofs are short enough to live on the theorem page itself:
#: id -> (heading of the section holding the proofs, why there is no docs/proofs page).
PROOF_ON_THEOREM_PAGE = {
    "isoperimetry": ("## Constants (derived) and proofs",
                     "four one-paragraph proofs of the constants c of standard measures "
                     "(Gaussian concentration, log-Sobolev on the sphere, a Lipschitz push-forward "
                     "for the cube, Hoeffding's lemma); the record is not a Lipschitz lower bound"),
}

_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def relative_links(markdown: str) -> list[str]:
    """Targets of the inline Markdown links that point to local files (fenced code is skipped).

    Fragments are dropped; links with a scheme (``https:``, ``mailto:``) and pure ``#anchors``
    are not local files.
    """
    text = _FENCE.sub("", markdown)
    out = []
    for target in _LINK.findall(text):
        if _SCHEME.match(target) or target.startswith("#"):
            continue
        out.append(target.split("#", 1)[0])
    return out


def broken_links(page: Path) -> list[str]:
    """The relative link targets of ``page`` that do not resolve to an existing file."""
    return [t for t in relative_links(page.read_text(encoding="utf-8"))
            if not (page.parent / t).is_file()]


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted(DOCS.glob("*/*.md"))]


def _title(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0]


# -- the checker itself can fail ---------------------------------------------------------------

def test_link_parser_on_a_known_sample(tmp_path):
    md = ("See [a](a.md), [`b`](sub/b.md#part), ![img](fig.png), [web](https://x.org/y.md),\n"
          "[anchor](#top), [mail](mailto:me@x.org) and [missing](gone.md).\n"
          "```python\n>>> x = [1](2)\n```\n- item\n  ```python\n  y = [3](4)\n  ```\n")
    assert relative_links(md) == ["a.md", "sub/b.md", "fig.png", "gone.md"]
    (tmp_path / "sub").mkdir()
    for name in ("a.md", "sub/b.md", "fig.png"):
        (tmp_path / name).write_text("")
    page = tmp_path / "page.md"
    page.write_text(md)
    assert broken_links(page) == ["gone.md"]


# -- theorem pages -----------------------------------------------------------------------------

@pytest.mark.parametrize("theorem_id", bounds.ids())
def test_every_entry_has_a_theorem_page_naming_its_status(theorem_id):
    page = DOCS / "theorems" / f"{theorem_id}.md"
    assert page.is_file(), f"missing {page.relative_to(ROOT)}"
    title = _title(page)
    status = bounds.get(theorem_id).status.value
    assert title.startswith("# ") and f"`{theorem_id}`" in title, title
    assert f"status: {status}" in title, f"{page.name}: title does not say 'status: {status}'"


def test_no_orphan_theorem_pages():
    assert {p.stem for p in (DOCS / "theorems").glob("*.md")} <= set(bounds.ids())


# -- proofs of derived entries -----------------------------------------------------------------

_DERIVED = [t.id for t in bounds.catalog() if t.status is bounds.Status.DERIVED]


@pytest.mark.parametrize("theorem_id", _DERIVED)
def test_every_derived_entry_has_its_proof(theorem_id):
    theorem_page = (DOCS / "theorems" / f"{theorem_id}.md").read_text(encoding="utf-8")
    proof = DOCS / "proofs" / f"{theorem_id}.md"
    if theorem_id in PROOF_ON_THEOREM_PAGE:
        heading, _reason = PROOF_ON_THEOREM_PAGE[theorem_id]
        assert not proof.exists(), f"{theorem_id} now has a proof page: drop the exception"
        assert heading in theorem_page.splitlines(), f"{theorem_id}: no section {heading!r}"
        return
    assert proof.is_file(), f"derived entry {theorem_id} has no docs/proofs/{theorem_id}.md"
    assert f"../proofs/{theorem_id}.md" in relative_links(theorem_page), \
        f"docs/theorems/{theorem_id}.md does not link its proof"


def test_exceptions_are_derived_entries():
    assert set(PROOF_ON_THEOREM_PAGE) <= set(_DERIVED)


def test_no_orphan_proof_pages():
    assert {p.stem for p in (DOCS / "proofs").glob("*.md")} <= set(_DERIVED)


# -- methods, index, links ---------------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(certify.METHODS))
def test_every_method_has_a_page(method):
    assert (DOCS / "methods" / f"{method}.md").is_file(), f"missing docs/methods/{method}.md"


def test_index_links_every_page():
    index = DOCS / "index.md"
    linked = {(index.parent / t).resolve() for t in relative_links(index.read_text(encoding="utf-8"))}
    pages = {p.resolve() for p in _pages() if p.parent != ROOT and p != index}
    missing = sorted(str(p.relative_to(DOCS)) for p in pages - linked)
    assert not missing, f"docs/index.md does not link {missing}"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert broken_links(page) == [], f"{page.relative_to(ROOT)}: broken links"
