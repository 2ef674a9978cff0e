"""Every relative link of the documentation resolves: the file exists, and an anchor names a heading in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.paths import REPO_ROOT

PAGES = sorted(
    {
        *REPO_ROOT.glob("*.md"),
        *REPO_ROOT.glob("docs/*.md"),
        *REPO_ROOT.glob("modules/*/README.md"),
        *REPO_ROOT.glob("examples/*/README.md"),
    }
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids (lower case, punctuation but hyphens dropped, spaces turned into hyphens) and the
    `<a name="...">` anchors that terraform-docs' tables link to."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = re.findall(r"(?m)^#{1,6} (.*)$", text)
    named = set(re.findall(r'<a name="([^"]+)"></a>', text))
    return named | {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def links(page: Path) -> list[str]:
    return [target for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))]


def test_the_pages_are_found() -> None:
    names = {page.relative_to(REPO_ROOT).as_posix() for page in PAGES}
    assert {"README.md", "CONTRIBUTING.md", "docs/audit.md", "docs/behaviour.md", "docs/upgrading.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[page.relative_to(REPO_ROOT).as_posix() for page in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.replace("\\_", "_").partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(REPO_ROOT)}")
    assert not broken, f"{page.relative_to(REPO_ROOT)}: " + "; ".join(broken)
