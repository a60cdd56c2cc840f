"""The docs' tables, generated from the registries: the actions (docs/actions.md), the
history event fields (docs/api.md) and the shipped firmware profiles (docs/profiles.md).

Each table sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->` in its file;
`tools/docs_tables.py` rewrites them and tests/test_docs.py fails when one has drifted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from roomagent.control.actions.params import actions_markdown
from roomagent.control.model import EVENT_FIELDS
from roomagent.devices.profiles import list_profiles, load_profile


def event_fields_markdown() -> str:
    lines = ["| field | what it holds |", "|---|---|"]
    lines += [f"| `{name}` | {words} |" for name, words in EVENT_FIELDS.items()]
    return "\n".join(lines) + "\n"


def profiles_markdown() -> str:
    lines = ["| profile | family | kind | models |", "|---|---|---|---|"]
    for name in list_profiles():
        profile = load_profile(name)
        lines.append(f"| `{name}` | {profile.family} | {profile.kind} | {profile.model or '—'} |")
    return "\n".join(lines) + "\n"


# (file under the repository root, table name) → the table's text
TABLES: dict[tuple[str, str], Callable[[], str]] = {
    ("docs/actions.md", "actions"): actions_markdown,
    ("docs/api.md", "event-fields"): event_fields_markdown,
    ("docs/profiles.md", "profiles"): profiles_markdown,
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end: {re.escape(name)} -->)",
        re.S,
    )


def render(text: str, name: str, table: str) -> str:
    """`text` with the named table's block replaced (ValueError when it has no block)."""
    pattern = _block(name)
    if not pattern.search(text):
        raise ValueError(f"no <!-- generated: {name} --> block")
    return pattern.sub(lambda m: m.group(1) + table + m.group(3), text, count=1)


def drifted(root: Path) -> list[Path]:
    """The files whose generated tables differ from the registries."""
    stale = []
    for (file, name), make in TABLES.items():
        path = root / file
        text = path.read_text(encoding="utf-8")
        if render(text, name, make()) != text:
            stale.append(path)
    return stale


def write(root: Path) -> list[Path]:
    written = []
    for (file, name), make in TABLES.items():
        path = root / file
        text = path.read_text(encoding="utf-8")
        new = render(text, name, make())
        if new != text:
            path.write_text(new, encoding="utf-8")
            written.append(path)
    return written
