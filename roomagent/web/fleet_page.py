"""`roomagent fleet serve`: the fleet page and `/metrics` for every room on the broker.

It is the diagnostics server (roomagent.web.server.WebServer) with other content: the same
login, rate limit, Origin rule, security headers and session cookie, the fleet's static
files (roomagent/fleet/static, named by the caller), its own live socket at /api and
fleet-wide gauges at /metrics. The rooms come from a FleetFeed (roomagent.fleet.feed
implements it), as the diagnostics page's room comes from the AgentFacade.

Socket protocol (JSON text frames): the server sends `{"type": "snapshot", "rooms": [row…],
"broker": {...}}` once, then `{"type": "rooms", "rooms": [changed rows]}` batches and
`{"type": "broker", ...}`; the page may send `{"get": "events", "room": "site/room"}` and
gets `{"type": "events", "room", "events": [...]}` (newest last).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

import anyio
import anyio.abc
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from roomagent import __version__
from roomagent.config.model import WebSection
from roomagent.config.vocab import ButtonPhase, RoomState
from roomagent.control.model import RoomStatus
from roomagent.logsetup import scrub
from roomagent.rooms import LinkState
from roomagent.web.server import WebServer, load_assets

log = logging.getLogger("roomagent.fleet.page")

PUSH_INTERVAL_S = 0.05  # changes within 50 ms go to a page as one batch
MAX_REQUEST = 4096  # the page only asks for a room's events


class FleetFeed(Protocol):
    """Every room as the broker shows it (roomagent.fleet.feed.BrokerFeed)."""

    def rows(self) -> list[dict[str, Any]]:
        """One summary per room (room_id, site, online, state, link, devices_offline, …),
        problems first."""
        ...

    def row(self, key: str) -> dict[str, Any] | None:
        """The summary of room "site/room", None when it is gone."""
        ...

    def events(self, key: str) -> list[dict[str, Any]]:
        """That room's last events, newest last."""
        ...

    def broker_state(self) -> dict[str, Any]:
        """{url, connected, error}."""
        ...

    def watch(self, watcher: Callable[[str | None], None]) -> Callable[[], None]:
        """`watcher(key)` when a room changed, `watcher(None)` when the broker's state did."""
        ...


class _PageFacade:
    """The part of the agent facade the base server touches (version for /metrics, a
    watch for its hub); the fleet page has no room of its own to act on."""

    def status(self) -> dict[str, Any]:
        return {"version": __version__}

    def status_model(self) -> RoomStatus:
        raise LookupError("the fleet page has no room of its own")

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return []

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        raise LookupError("the fleet page runs no actions; use `roomagent fleet call`")

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        raise LookupError("the fleet page has no devices")

    async def press(self, device: str, button: int, kind: ButtonPhase = ButtonPhase.PRESS) -> Any:
        raise LookupError("the fleet page has no panels")

    def config_view(self) -> dict[str, Any]:
        return {}

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        return lambda: None


class _Page:
    """One open page: the room keys changed since its last batch."""

    def __init__(self) -> None:
        self.dirty: set[str] = set()
        self.broker_changed = False
        self.wake = anyio.Event()


class FleetPageServer(WebServer):
    def __init__(
        self,
        feed: FleetFeed,
        web_config: WebSection,
        password: str | None,
        password_hash: str | None,
        assets_package: str,
        **options: Any,
    ) -> None:
        super().__init__(_PageFacade(), web_config, password, password_hash, **options)
        self.feed = feed
        self.assets = load_assets(assets_package)
        self.pages: set[_Page] = set()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_FleetCollector(feed))

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        unwatch = self.feed.watch(self._on_change)
        try:
            await super().run(task_status=task_status)
        finally:
            unwatch()

    def _on_change(self, key: str | None) -> None:
        for page in self.pages:
            if key is None:
                page.broker_changed = True
            else:
                page.dirty.add(key)
            page.wake.set()

    def _broker_info(self) -> dict[str, Any]:
        return {"type": "broker", **self.feed.broker_state()}

    def _status_for_metrics(self) -> None:
        return None  # no room of its own: /metrics is the fleet's (below)

    # ---- HTTP: everything the base serves, with the fleet's /metrics ---------------------

    async def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        response = await super()._route(connection, request)
        # The base has checked Origin and credentials; only its answer's body is replaced.
        path = request.path.split("?", 1)[0]
        if path == "/metrics" and response is not None and response.status_code == 200:
            text = generate_latest(self.registry)
            return self._respond(200, text, "text/plain; version=0.0.4; charset=utf-8")
        return response

    # ---- the live socket -----------------------------------------------------------------

    async def _connection(self, connection: ServerConnection) -> None:
        page = _Page()
        self.pages.add(page)
        self.counters.api_connections += 1
        try:
            await self._send(
                connection,
                {"type": "snapshot", "rooms": self.feed.rows(), "broker": self._broker_info()},
            )
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._push, connection, page)
                try:
                    async for message in connection:
                        await self._request(connection, message)
                except ConnectionClosed:
                    pass
                tg.cancel_scope.cancel()
        except ConnectionClosed:
            pass
        finally:
            self.pages.discard(page)
            self.counters.api_connections -= 1

    async def _push(self, connection: ServerConnection, page: _Page) -> None:
        last_sent = -PUSH_INTERVAL_S
        while True:
            await page.wake.wait()
            # Leading edge: a lone change goes out at once; changes right after a send wait
            # for the rest of the window and go out together.
            await anyio.sleep(max(0.0, last_sent + PUSH_INTERVAL_S - anyio.current_time()))
            last_sent = anyio.current_time()
            page.wake = anyio.Event()
            keys, page.dirty = page.dirty, set()
            found = {k: self.feed.row(k) for k in keys}
            rows = [row for row in found.values() if row is not None]
            gone = [k for k, row in found.items() if row is None]
            if rows or gone:
                await self._send(connection, {"type": "rooms", "rooms": rows, "gone": gone})
            if page.broker_changed:
                page.broker_changed = False
                await self._send(connection, self._broker_info())

    async def _request(self, connection: ServerConnection, message: str | bytes) -> None:
        self.counters.api_requests += 1
        try:
            data = json.loads(message) if len(message) <= MAX_REQUEST else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("get") != "events":
            self.counters.api_errors += 1
            await self._send(connection, {"type": "error", "error": 'expected {"get": "events"}'})
            return
        room = str(data.get("room"))
        await self._send(
            connection, {"type": "events", "room": room, "events": self.feed.events(room)}
        )

    async def _send(self, connection: ServerConnection, frame: dict[str, Any]) -> None:
        await connection.send(json.dumps(scrub(frame), ensure_ascii=False))


class _FleetCollector:
    """Per-room gauges read from the view at scrape time (a room that left leaves no
    stale series behind)."""

    def __init__(self, feed: FleetFeed) -> None:
        self.feed = feed

    def collect(self) -> Any:
        labels = ["site", "room"]
        families = {
            "up": GaugeMetricFamily(
                "roomagent_fleet_room_up", "1 when the agent is online", labels=labels
            ),
            "link": GaugeMetricFamily(
                "roomagent_fleet_room_link_ready", "1 when the Rooms link is ready", labels=labels
            ),
            "offline": GaugeMetricFamily(
                "roomagent_fleet_room_devices_offline", "serial devices offline", labels=labels
            ),
            "meeting": GaugeMetricFamily(
                "roomagent_fleet_room_in_meeting", "1 while in a meeting", labels=labels
            ),
        }
        rows = self.feed.rows()
        for row in rows:
            key = [row["site"], row["room_id"]]
            families["up"].add_metric(key, 1.0 if row["online"] else 0.0)
            families["link"].add_metric(key, 1.0 if row["link"] == LinkState.READY else 0.0)
            families["offline"].add_metric(key, float(len(row["devices_offline"])))
            in_meeting = row["state"] == RoomState.IN_MEETING
            families["meeting"].add_metric(key, 1.0 if in_meeting else 0.0)
        yield from families.values()
        rooms = GaugeMetricFamily("roomagent_fleet_rooms", "rooms known to the broker")
        rooms.add_metric([], float(len(rows)))
        yield rooms
        connected = GaugeMetricFamily("roomagent_fleet_broker_connected", "1 when connected")
        connected.add_metric([], 1.0 if self.feed.broker_state()["connected"] else 0.0)
        yield connected
