"""The repository explains itself: every link and every repository path its documents name resolves
inside a clone, and the licence they promise is there."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# A code span names a repository path when it starts at one of the clone's top-level entries
# (`var/`, made by `make run`, is not in a clone).
TOP_LEVEL = sorted(p.name for p in ROOT.iterdir() if p.name not in {".git", ".venv", "var"} and p.name[0] != "_")
REPO_PATH = re.compile(rf"^(?:{'|'.join(map(re.escape, TOP_LEVEL))})(?:/[\w.\-]+)*/?$")


def _targets(document: Path) -> list[Path]:
    """What a document names: its relative links (from its folder) and its code spans that are
    repository paths (from the root; `path: symbol` names the path before the colon)."""
    text = document.read_text()
    links = [document.parent / t.split("#")[0] for t in MARKDOWN_LINK.findall(text) if not re.match(r"[a-z]+:|#", t)]
    spans = [span.split(":")[0] for span in CODE_SPAN.findall(text)]
    return links + [ROOT / span for span in spans if REPO_PATH.match(span)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_and_repository_path_a_document_names_exists_in_the_clone(document):
    targets = _targets(document)
    assert targets, f"{document.name} names no file at all"
    broken = [str(t) for t in targets if not t.resolve().is_relative_to(ROOT.resolve()) or not t.exists()]
    assert broken == [], f"{document.name} names what a clone does not have"


def test_no_document_points_outside_the_repository():
    outside = [(d.name, t) for d in DOCUMENTS for t in MARKDOWN_LINK.findall(d.read_text()) if t.startswith("../")]
    assert outside == []
    assert not any("shared/design" in d.read_text() for d in DOCUMENTS)


def test_the_whole_repository_is_offered_under_the_mit_licence():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in licence
    assert re.search(r"\[MIT[^\]]*\]\(LICENSE\)", (ROOT / "README.md").read_text())
