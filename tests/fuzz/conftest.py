"""Fuzz fixtures: the anyio backend and the count of inputs each fuzz test ran."""

from __future__ import annotations

import pytest

from tests.fuzz.fuzz_support import INPUTS


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not INPUTS:
        return
    terminalreporter.section("fuzz inputs run")
    for test, count in sorted(INPUTS.items()):
        terminalreporter.write_line(f"{test:<60} {count:>7}")
    terminalreporter.write_line(f"{'total':<60} {sum(INPUTS.values()):>7}")
