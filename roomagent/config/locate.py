"""Map a key path such as ("devices", 1, "profile") to its line in a TOML text.

tomllib reports no positions for values, so errors found after parsing are located by a
small line scanner: table headers, array-of-table headers and `key =` lines. Good enough to
point a person at the right line; falls back to the enclosing table.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")

Path = tuple[str | int, ...]


def _split_dotted(name: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in name.split("."))


def index_lines(text: str) -> dict[Path, int]:
    index: dict[Path, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    current: Path = ()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if m := _ARRAY_HEADER.match(line):
            name = _split_dotted(m.group(1))
            counts[name] = counts.get(name, -1) + 1
            current = (*name, counts[name])
            index.setdefault(current, lineno)
        elif m := _HEADER.match(line):
            current = _split_dotted(m.group(1))
            index.setdefault(current, lineno)
        elif m := _KEY.match(line):
            index.setdefault((*current, *_split_dotted(m.group(1))), lineno)
    return index


def locate(index: dict[Path, int], loc: Path) -> int | None:
    """The line of the longest prefix of `loc` that the text defines."""
    parts = tuple(p for p in loc if isinstance(p, int) or not p.startswith(("function-", "list[")))
    for end in range(len(parts), 0, -1):
        if parts[:end] in index:
            return index[parts[:end]]
    return None
