"""The import rules of docs/architecture.md, read from the source: every `import` of every
module under roomagent/, also those inside functions (a lazy import does not dodge a rule)."""

from __future__ import annotations

import ast
from pathlib import Path

import roomagent

ROOT = Path(roomagent.__file__).parent

# Which parts each part may import (besides itself). Top to bottom: cli/app/demo → web,
# discovery, fleet → control → rooms, devices, scheduling → config, logsetup, service.
BASE = {"roomagent", "config", "logsetup"}
ALLOWED: dict[str, set[str]] = {
    "roomagent": set(),  # the package's __init__ (its version)
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
TOP = {"cli", "app", "demo", "demo_terminal", "__main__"}  # may import anything


def part_of(module: str) -> str:
    """`roomagent.control.core` → `control`; `roomagent.app` → `app`."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "roomagent"]


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
