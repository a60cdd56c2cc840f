"""Live updates: one watch on the agent, fanned out to every subscribed API socket.

The agent's callback must never block, so it only appends to each subscriber's bounded
list and wakes its sender. A burst of changes becomes one `update` notification; a client
too slow to keep up loses its backlog and gets a full status instead (`resync: true`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from roomagent.web.facade import AgentFacade

log = logging.getLogger(__name__)

MAX_PENDING = 200  # changes held for one client before it is resynced instead
COALESCE_S = 0.05  # at most one notification per client per 50 ms; a burst goes out as one


class Subscriber:
    """One API socket's subscription: pending changes and a wake-up for its sender."""

    def __init__(self, events_limit: int) -> None:
        self.events_limit = events_limit
        self.pending: list[dict[str, Any]] = []
        self.resync = False
        self.dropped = 0
        self._wake = anyio.Event()
        self._last_sent = -COALESCE_S

    def offer(self, change: dict[str, Any]) -> None:
        if self.resync:
            self.dropped += 1
        elif len(self.pending) >= MAX_PENDING:
            self.dropped += len(self.pending) + 1
            self.pending.clear()
            self.resync = True
        else:
            self.pending.append(change)
        self._wake.set()

    async def next_batch(self) -> tuple[list[dict[str, Any]], bool]:
        await self._wake.wait()
        # Leading edge: a lone change goes out at once; changes right after a send wait for
        # the rest of the window and go out together.
        await anyio.sleep(max(0.0, self._last_sent + COALESCE_S - anyio.current_time()))
        self._last_sent = anyio.current_time()
        self._wake = anyio.Event()
        batch, resync = self.pending, self.resync
        self.pending, self.resync = [], False
        return batch, resync


class UpdateHub:
    """Registers one agent watch while running; subscribers come and go with sockets."""

    def __init__(self, agent: AgentFacade) -> None:
        self.agent = agent
        self.subscribers: set[Subscriber] = set()
        self._dropped_gone = 0  # drops of subscribers that have since gone away

    def _on_change(self, change: dict[str, Any]) -> None:
        for subscriber in list(self.subscribers):
            subscriber.offer(change if isinstance(change, dict) else {"change": str(change)})

    def start(self) -> Callable[[], None]:
        return self.agent.watch(self._on_change)

    def dropped(self) -> int:
        return self._dropped_gone + sum(s.dropped for s in self.subscribers)

    async def pump(
        self,
        subscriber: Subscriber,
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """Send `update` params to one socket until cancelled (socket closed/unsubscribed)."""
        self.subscribers.add(subscriber)
        try:
            while True:
                changes, resync = await subscriber.next_batch()
                try:
                    params: dict[str, Any] = {"status": self.agent.status()}
                    if subscriber.events_limit:
                        params["events"] = self.agent.recent_events(subscriber.events_limit)
                except Exception:  # an unwell agent must not end the client's socket
                    log.warning("agent status failed; update skipped", exc_info=True)
                    subscriber.resync = True
                    continue
                if resync:
                    params["resync"] = True
                    log.info("api client too slow; resynced with full status")
                else:
                    params["changes"] = changes
                await send(params)
        finally:
            self.subscribers.discard(subscriber)
            self._dropped_gone += subscriber.dropped
