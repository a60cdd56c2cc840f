"""Regenerate the docs' tables from the registries: `python3 tools/docs_tables.py` rewrites
them, `--check` exits 1 when a doc has drifted (tests/test_docs.py runs the same check)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roomagent.docs_tables import drifted, write

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    if "--check" in sys.argv:
        stale = drifted(root)
        for path in stale:
            print(f"{path}: out of date; run python3 tools/docs_tables.py", file=sys.stderr)
        sys.exit(1 if stale else 0)
    for path in write(root):
        print(f"wrote {path}")
