"""Fixtures for the Rooms tests: a real simulator on a loopback port, a running session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from roomagent.rooms import RoomsChange, RoomsSession
from roomagent.sim.rooms import RoomsSimulator

PASSWORD = "s3cret-room"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sim() -> AsyncIterator[RoomsSimulator]:
    async with RoomsSimulator(password=PASSWORD, event_delay=0.02) as simulator:
        yield simulator


@asynccontextmanager
async def running(session: RoomsSession, ready: bool = True) -> AsyncIterator[RoomsSession]:
    """Run `session` in the background for the block (cancelled on exit)."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(session.run)
        if ready:
            await session.wait_ready(5)
        yield session
        tg.cancel_scope.cancel()


def make_session(url: str, **overrides: Any) -> RoomsSession:
    options: dict[str, Any] = {
        "call_timeout": 2.0,
        "outcome_timeout": 3.0,
        "ping_interval": 5.0,
        "backoff_cap": 0.5,
    }
    options.update(overrides)
    password = options.pop("password", PASSWORD)
    return RoomsSession(url, password, **options)


async def wait_for(predicate: Callable[[], bool], session: RoomsSession, within: float = 5) -> None:
    """Wait until `predicate()` holds, woken by the session's own change notifications."""
    changed = anyio.Event()

    def on_change(change: RoomsChange) -> None:
        changed.set()

    unsubscribe = session.watch(on_change)
    try:
        with anyio.fail_after(within):
            while not predicate():
                await changed.wait()
                changed = anyio.Event()
    finally:
        unsubscribe()
