"""HIL fixtures: the room under test (`rig`), hands in the room (`operator`), timing table.

Mode comes from ROOMAGENT_HIL_* (see hil/README.md); without them every part is virtual.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hil import timings
from hil.operator import Operator
from hil.rig import HilConfigError, HilSettings, Rig, RigNotReady, running_rig


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def hil_settings() -> HilSettings:
    try:
        return HilSettings.from_env(os.environ)
    except HilConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture
def say(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """Talk to the person at the rack: straight to the terminal, past output capture."""
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def line(text: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(text, bold=True)
            else:
                print(text, flush=True)

    return line


@pytest.fixture
async def rig(hil_settings: HilSettings, tmp_path: Path) -> AsyncIterator[Rig]:
    problem = ""
    try:
        async with running_rig(hil_settings, tmp_path) as room:
            yield room
    except RigNotReady as exc:
        problem = str(exc)
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture
def operator(rig: Rig, say: Callable[[str], None]) -> Operator:
    return Operator(rig, say)


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> str:
    """The name timings are filed under: the test's name without `test_`."""
    return request.node.name.removeprefix("test_")


def pytest_report_header(config: pytest.Config) -> str | None:
    try:
        return HilSettings.from_env(os.environ).describe()
    except HilConfigError as exc:
        return f"HIL: {exc}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    rows = timings.table()
    if not rows:
        return
    terminalreporter.section("HIL timings")
    for row in rows:
        terminalreporter.write_line(row)
