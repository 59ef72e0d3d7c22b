"""README is a way in: short, and every docs page is reachable from it by links that resolve
inside the repository."""

import re
from pathlib import Path

from tests.conftest import ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")


def links(page: Path) -> list[Path]:
    """The repository files a markdown page links to (anchors dropped)."""
    targets = []
    for target in LINK.findall(page.read_text()):
        assert not re.match(r"[a-z]+://", target), f"{page}: link outside the repository: {target}"
        path = target.split("#")[0]
        if path:
            targets.append((page.parent / path).resolve())
    return targets


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_every_link_resolves_and_every_docs_page_is_reachable_from_the_readme():
    seen, todo = set(), [(ROOT / "README.md").resolve()]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        for target in links(page):
            assert target.exists(), f"{page.relative_to(ROOT)} links to a missing {target}"
            if target.suffix == ".md":
                todo.append(target)
    pages = {p.resolve() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - seen == set()
