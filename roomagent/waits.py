"""Waiting for an asyncio event with a time limit, on a loop timer rather than a cancel scope.

On the press and event paths (a Rooms call's answer, a panel's ack, the panel feedback's next
wake) entering an anyio cancel scope costs several times the wait itself; a timer that ends
the wait does the same job. A bottom-layer piece: the Rooms session, the serial drivers and
the room core share it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable


async def wait_set(
    event: asyncio.Event, seconds: float, on_timeout: Callable[[], None] | None = None
) -> None:
    """Until `event` is set; after `seconds` (never when infinite) `on_timeout()` runs, which
    must set it (default: it is set)."""
    timer = (
        asyncio.get_running_loop().call_later(seconds, on_timeout or event.set)
        if math.isfinite(seconds)
        else None
    )
    try:
        await event.wait()
    finally:
        if timer is not None:
            timer.cancel()
