"""The import rules of docs/architecture.md, read from the source: every `import` of every
module under roomagent/, also those inside functions (a lazy import does not dodge a rule)."""

from __future__ import annotations

import re
from pathlib import Path

import roomagent

ROOT = Path(roomagent.__file__).parent

# Which parts each part may import (besides itself). Top to bottom: cli/app/demo → web,
# discovery, fleet → control → rooms, devices, scheduling → config, logsetup, watchers, waits,
# service.
BASE = {"roomagent", "config", "logsetup", "watchers", "waits"}
ALLOWED: dict[str, set[str]] = {
    "roomagent": set(),  # the package's __init__ (its version)
    "watchers": set(),  # the one way a part keeps its watchers
    "waits": set(),  # loop timers: an event wait with a time limit, work run a moment later
    "config": {"roomagent", "logsetup"},
    "logsetup": {"roomagent"},
    "service": {"roomagent", "logsetup"},
    "rooms": BASE,
    "devices": BASE,
    "scheduling": BASE,
    "control": BASE | {"rooms", "devices", "scheduling"},
    "web": BASE | {"control", "rooms", "devices", "scheduling"},
    "discovery": BASE,
    "fleet": BASE | {"control", "rooms", "devices", "scheduling"},
    # The simulators build on the wire models and codecs they imitate.
    "sim": BASE | {"rooms", "devices", "scheduling"},
}
TOP = {"cli", "app", "demo", "demo_terminal", "docs_tables", "__main__"}  # may import anything


def part_of(module: str) -> str:
    """`roomagent.control.core` → `control`; `roomagent.app` → `app`."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


# Every import statement naming a roomagent module, also inside functions (indented) and
# multi-line ones (the module is on the first line). Read as text, not with ast: ast.parse can
# fail with a SystemError late in a long pytest run (CPython 3.11, recursion-depth bookkeeping).
_IMPORT = re.compile(
    r"^\s*(?:from\s+(roomagent[\w.]*)\s+import\b|import\s+(roomagent[\w.]*))", re.M
)


def imports(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _IMPORT.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.append((line, match.group(1) or match.group(2)))
    return found


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


def test_every_part_imports_only_what_is_below_it() -> None:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        here = part_of(module_name(path))
        if here in TOP:
            continue
        assert here in ALLOWED, f"{path}: part {here!r} has no place in the layering"
        for line, name in imports(path):
            there = part_of(name)
            if there != here and there not in ALLOWED[here]:
                problems.append(f"{path.relative_to(ROOT.parent)}:{line}: {here} imports {name}")
    assert problems == []


def test_the_simulators_serve_only_the_top() -> None:
    """sim/ is for the demo, the CLI's `sim` commands, tests and benchmarks."""
    assert all("sim" not in allowed for part, allowed in ALLOWED.items() if part != "sim")


def test_no_module_is_longer_than_500_lines() -> None:
    long = {}
    for path in ROOT.rglob("*.py"):
        name = str(path.relative_to(ROOT.parent))
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > 500:
            long[name] = lines
    assert long == {}
