"""Events produced while the broker is away wait here: bounded, oldest dropped and counted."""

from __future__ import annotations

from collections import deque
from typing import Any

import anyio

OUTBOX_LIMIT = 1000  # [assumption] ~ a busy day's events; a week-long outage keeps the newest


class Outbox:
    def __init__(self, limit: int = OUTBOX_LIMIT) -> None:
        self._items: deque[dict[str, Any]] = deque()
        self.limit = limit
        self.dropped = 0
        self._wake = anyio.Event()

    def put(self, item: dict[str, Any]) -> None:
        """Sync and never blocking (called from the agent's watch callback)."""
        if len(self._items) >= self.limit:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._wake.set()

    def peek(self) -> dict[str, Any] | None:
        return self._items[0] if self._items else None

    def pop(self) -> None:
        """Remove the item `peek` returned, once it has been published."""
        if self._items:
            self._items.popleft()

    async def wait(self) -> None:
        """Until there is something to send."""
        while not self._items:
            self._wake = anyio.Event()
            await self._wake.wait()

    def __len__(self) -> int:
        return len(self._items)
