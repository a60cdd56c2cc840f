"""The coverage-guided harness, run briefly when atheris is installed (it is optional)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.fuzz_support import INPUTS

RUNS = 30_000


def test_atheris_harness_finds_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris not installed (pip install atheris)")
    harness = Path(__file__).with_name("atheris_harness.py")
    done = subprocess.run(
        [sys.executable, str(harness), f"-runs={RUNS}", "-max_len=512", "-seed=1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # crash-* files, if any, land here
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = re.search(r"Done (\d+) runs", done.stderr)
    assert runs is not None, done.stderr[-1000:]
    INPUTS["atheris: parsers + Rooms frames (libFuzzer runs)"] += int(runs.group(1))
