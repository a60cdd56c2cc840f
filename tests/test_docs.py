"""The README stays a front door and the docs' generated tables stay in step with the
registries they are generated from (tools/docs_tables.py rewrites them)."""

from __future__ import annotations

import re
from pathlib import Path

from roomagent.docs_tables import drifted

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) <= 12 * 1024, f"README.md is {len(readme)} bytes; move reference to docs/"


def test_every_doc_link_resolves() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_generated_tables_match_the_registries() -> None:
    stale = [str(p.relative_to(ROOT)) for p in drifted(ROOT)]
    assert stale == [], "run python3 tools/docs_tables.py"
