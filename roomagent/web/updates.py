"""Live updates: one watch on the agent, fanned out to every subscribed API socket.

The agent's callback must never block, so it only appends to each subscriber's bounded
list and wakes its sender. A burst of changes becomes one `update` notification; a client
too slow to keep up loses its backlog and gets a full status instead (`resync: true`).
The status (and the recent events) an update carries is built once for the sockets whose
batches follow the same change, not once per socket.
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


class _Snapshot:
    """One status, and the recent events per limit the sockets ask for, built on first use."""

    def __init__(self, agent: AgentFacade, generation: int, at: float) -> None:
        self.agent = agent
        self.generation = generation
        self.at = at
        self.status = agent.status()
        self._events: dict[int, list[dict[str, Any]]] = {}

    def events(self, limit: int) -> list[dict[str, Any]]:
        if limit not in self._events:
            self._events[limit] = self.agent.recent_events(limit)
        return self._events[limit]


class UpdateHub:
    """Registers one agent watch while running; subscribers come and go with sockets."""

    def __init__(self, agent: AgentFacade) -> None:
        self.agent = agent
        self.subscribers: set[Subscriber] = set()
        self._dropped_gone = 0  # drops of subscribers that have since gone away
        self._generation = 0  # changes seen: what the shared snapshot was built after
        self._shared: _Snapshot | None = None

    def _on_change(self, change: dict[str, Any]) -> None:
        self._generation += 1
        for subscriber in list(self.subscribers):
            subscriber.offer(change if isinstance(change, dict) else {"change": str(change)})

    def start(self) -> Callable[[], None]:
        return self.agent.watch(self._on_change)

    def _snapshot(self) -> _Snapshot:
        """The agent's state for the batches that follow the latest change: every socket
        woken by it shares one status (each dumps it to its own frame, none changes it).
        Rebuilt after the next change, and after a coalescing window (uptime, counters)."""
        now = anyio.current_time()
        shared = self._shared
        if shared is None or shared.generation != self._generation or now - shared.at > COALESCE_S:
            shared = self._shared = _Snapshot(self.agent, self._generation, now)
        return shared

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
                    shared = self._snapshot()
                    params: dict[str, Any] = {"status": shared.status}
                    if subscriber.events_limit:
                        params["events"] = shared.events(subscriber.events_limit)
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
