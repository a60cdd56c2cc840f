"""Loop timers for the press and event paths: a wait with a time limit, and work run later.

`wait_set`: on the press and event paths (a Rooms call's answer, a panel's ack, the panel
feedback's next wake) entering an anyio cancel scope costs several times the wait itself; a
timer that ends the wait does the same job. `Later`: what need not precede the frame on the
wire (the core's bookkeeping, the session's merge of an event's payload) runs a moment after
it, in order. A bottom-layer piece: the Rooms session, the serial drivers and the room core
share it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("roomagent")


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


class Later:
    """Work kept off the path to the wire: run in the order queued, `delay` seconds after the
    first of a batch was queued, or at once by `flush()`. An item may queue more; they run
    after it."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._queue: deque[Callable[[], None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def __call__(self, func: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        self._queue.append(functools.partial(func, *args, **kwargs))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._delay, self.flush)

    def flush(self) -> None:
        """Run what is queued now (also on demand: whoever reads the result sees it all)."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        queue = self._queue
        while queue:
            try:
                queue.popleft()()
            except Exception:  # one item's bug must not drop the rest
                log.exception("deferred work failed")
