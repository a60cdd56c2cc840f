"""Fixtures for the control tests: real Rooms simulator, real ptys with device emulators."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
