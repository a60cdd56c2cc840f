"""Event payloads merged into the mirror a moment behind the status they settle on.

An event's status goes to the watchers (the panel's LEDs) at once; validating and merging the
rest of its payload (codes, titles, people, the layout) is the slowest step of an event on a
process woken cold, so it waits MERGE_DELAY_S: long enough for the LED frame just written to
reach the keypad, even when the keypad shares this loop (the demo, the bench), short against
anything a person reads. Merges run in arrival order, and before anything else touches the
mirror: the session flushes them before it handles the next frame.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from roomagent.rooms.models import RoomsEvent

MERGE_DELAY_S = 0.001

Merge = Callable[[RoomsEvent, bool], None]


class PendingMerges:
    def __init__(self, merge: Merge, delay: float = MERGE_DELAY_S) -> None:
        self._merge = merge
        self._delay = delay
        self._queue: deque[tuple[RoomsEvent, bool]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, event: RoomsEvent, settled: bool) -> None:
        """Merge `event` soon (`settled`: its status already changed the mirror)."""
        self._queue.append((event, settled))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._delay, self.flush)

    def flush(self) -> None:
        """Merge everything queued, now."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        queue = self._queue
        while queue:
            self._merge(*queue.popleft())
