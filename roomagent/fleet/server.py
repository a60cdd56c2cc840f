"""`roomagent fleet serve`: the fleet page and `/metrics` for every room on the broker.

It is the diagnostics server (roomagent.web.server.WebServer) with other content: the same
login, rate limit, Origin rule, security headers and session cookie, its own static files
(roomagent/fleet/static), its own live socket at /api and fleet-wide gauges at /metrics.

Socket protocol (JSON text frames): the server sends `{"type": "snapshot", "rooms": [row…],
"broker": {...}}` once, then `{"type": "rooms", "rooms": [changed rows]}` batches and
`{"type": "broker", ...}`; the page may send `{"get": "events", "room": "site/room"}` and
gets `{"type": "events", "room", "events": [...]}` (newest last).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from roomagent import __version__
from roomagent.config.model import WebSection
from roomagent.fleet.broker import Broker
from roomagent.fleet.tools import BrokerUnreachable, watch
from roomagent.fleet.view import Change, FleetView
from roomagent.logsetup import kv, scrub
from roomagent.web.server import WebServer, load_assets

log = logging.getLogger("roomagent.fleet.page")

PUSH_INTERVAL_S = 0.05  # changes within 50 ms go to a page as one batch
RETRY_S = 2.0  # the broker gone: try again this often (the page says so meanwhile)
MAX_REQUEST = 4096  # the page only asks for a room's events


class _PageFacade:
    """The part of the agent facade the base server touches (version for /metrics, a
    watch for its hub); the fleet page has no room of its own to act on."""

    def status(self) -> dict[str, Any]:
        return {"version": __version__}

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return []

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        raise LookupError("the fleet page runs no actions; use `roomagent fleet call`")

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        raise LookupError("the fleet page has no devices")

    async def press(self, device: str, button: int, kind: str = "press") -> Any:
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
        broker: Broker,
        web_config: WebSection,
        password: str | None,
        password_hash: str | None,
        prefix: str = "roomagent",
        **options: Any,
    ) -> None:
        super().__init__(_PageFacade(), web_config, password, password_hash, **options)
        self.broker = broker
        self.view = FleetView(prefix)
        self.assets = load_assets("roomagent.fleet")
        self.broker_connected = False
        self.broker_error: str | None = None
        self.pages: set[_Page] = set()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_FleetCollector(self))

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._follow_broker)
            port = await tg.start(super().run)
            task_status.started(port)

    # ---- the broker side -----------------------------------------------------------------

    async def _follow_broker(self) -> None:
        while True:
            try:
                await watch(
                    self.broker,
                    self._on_change,
                    prefix=self.view.prefix,
                    view=self.view,
                    ready=lambda: self._broker_state(True, None),
                )
            except BrokerUnreachable as exc:
                self._broker_state(False, str(exc))
            await anyio.sleep(RETRY_S)

    def _broker_state(self, connected: bool, error: str | None) -> None:
        if (connected, error) != (self.broker_connected, self.broker_error):
            log.info(
                "fleet broker %s",
                "connected" if connected else "unreachable",
                extra=kv(broker=self.broker.url, error=error),
            )
        self.broker_connected, self.broker_error = connected, error
        for page in self.pages:
            page.broker_changed = True
            page.wake.set()

    def _on_change(self, change: Change) -> None:
        for page in self.pages:
            page.dirty.add(change.record.key)
            page.wake.set()

    def _broker_info(self) -> dict[str, Any]:
        return {
            "type": "broker",
            "url": self.broker.url,
            "connected": self.broker_connected,
            "error": self.broker_error,
        }

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
                {"type": "snapshot", "rooms": self.view.rows(), "broker": self._broker_info()},
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
        while True:
            await page.wake.wait()
            await anyio.sleep(PUSH_INTERVAL_S)
            page.wake = anyio.Event()
            keys, page.dirty = page.dirty, set()
            rows = [self.view.rooms[k].summary() for k in keys if k in self.view.rooms]
            gone = [k for k in keys if k not in self.view.rooms]
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
        record = self.view.rooms.get(str(data.get("room"))) if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("get") != "events":
            self.counters.api_errors += 1
            await self._send(connection, {"type": "error", "error": 'expected {"get": "events"}'})
            return
        events = list(record.events) if record is not None else []
        await self._send(connection, {"type": "events", "room": data.get("room"), "events": events})

    async def _send(self, connection: ServerConnection, frame: dict[str, Any]) -> None:
        await connection.send(json.dumps(scrub(frame), ensure_ascii=False))


class _FleetCollector:
    """Per-room gauges read from the view at scrape time (a room that left leaves no
    stale series behind)."""

    def __init__(self, server: FleetPageServer) -> None:
        self.server = server

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
        for row in self.server.view.rows():
            key = [row["site"], row["room_id"]]
            families["up"].add_metric(key, 1.0 if row["online"] else 0.0)
            families["link"].add_metric(key, 1.0 if row["link"] == "ready" else 0.0)
            families["offline"].add_metric(key, float(len(row["devices_offline"])))
            families["meeting"].add_metric(key, 1.0 if row["state"] == "in_meeting" else 0.0)
        yield from families.values()
        rooms = GaugeMetricFamily("roomagent_fleet_rooms", "rooms known to the broker")
        rooms.add_metric([], float(len(self.server.view.rooms)))
        yield rooms
        connected = GaugeMetricFamily("roomagent_fleet_broker_connected", "1 when connected")
        connected.add_metric([], 1.0 if self.server.broker_connected else 0.0)
        yield connected
