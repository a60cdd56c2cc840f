"""Fixtures for the serial device tests (real pseudo-terminals, never mocks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from devices_support import FarEnd


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def far_end() -> Iterator[FarEnd]:
    far = FarEnd()
    yield far
    far.close()
