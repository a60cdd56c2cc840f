"""The fleet as a live feed for the fleet page: follows the broker (retrying while it is
away) into a FleetView and tells watchers which room changed. The page server
(roomagent.web.fleet_page) reads it through its FleetFeed protocol."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio

from roomagent.fleet.broker import Broker
from roomagent.fleet.tools import BrokerUnreachable, watch
from roomagent.fleet.view import Change, FleetView
from roomagent.logsetup import kv
from roomagent.watchers import Watchers

log = logging.getLogger("roomagent.fleet.feed")

RETRY_S = 2.0  # the broker gone: try again this often (the page says so meanwhile)

# watcher(key): "site/room" changed; watcher(None): the broker's state changed
FeedWatcher = Callable[[str | None], None]


class BrokerFeed:
    def __init__(self, broker: Broker, prefix: str = "roomagent") -> None:
        self.broker = broker
        self.view = FleetView(prefix)
        self.connected = False
        self.error: str | None = None
        self._watchers: Watchers[[str | None]] = Watchers(log, "fleet page")

    async def run(self) -> None:
        """Follow the broker until cancelled."""
        while True:
            try:
                await watch(
                    self.broker,
                    self._on_change,
                    prefix=self.view.prefix,
                    view=self.view,
                    ready=lambda: self._state(True, None),
                )
            except BrokerUnreachable as exc:
                self._state(False, str(exc))
            await anyio.sleep(RETRY_S)

    def _state(self, connected: bool, error: str | None) -> None:
        if (connected, error) != (self.connected, self.error):
            word = "connected" if connected else "unreachable"
            log.info("fleet broker %s", word, extra=kv(broker=self.broker.url, error=error))
        self.connected, self.error = connected, error
        self._tell(None)

    def _on_change(self, change: Change) -> None:
        self._tell(change.record.key)

    def _tell(self, key: str | None) -> None:
        self._watchers.emit(key)

    # ---- what the page reads -------------------------------------------------------------

    def watch(self, watcher: FeedWatcher) -> Callable[[], None]:
        return self._watchers.watch(watcher)

    def rows(self) -> list[dict[str, Any]]:
        return self.view.rows()

    def row(self, key: str) -> dict[str, Any] | None:
        record = self.view.rooms.get(key)
        return record.summary() if record is not None else None

    def events(self, key: str) -> list[dict[str, Any]]:
        record = self.view.rooms.get(key)
        return list(record.events) if record is not None else []

    def broker_state(self) -> dict[str, Any]:
        return {"url": self.broker.url, "connected": self.connected, "error": self.error}
