"""The composition root: builds the room's parts as peers and owns their life.

Parts: the Rooms session, the serial devices, the room calendar, the room core that joins
them (roomagent.control.core.RoomCore), the diagnostics web server, the mDNS announcer — and
the fleet bridge, which slots in as one more peer in `_start_peers`. The app starts them in
one task group, stops them (every camera move gets its stop first), and on a reload either
retunes the core in place or restarts the parts.

Parts that are not configured are not imported (the web server, zeroconf, the calendar and
its HTTP client cost memory on a small room box), hence the imports inside the builders.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from roomagent import __version__
from roomagent.config.loader import Checker, load_config, parse_config
from roomagent.config.model import AgentConfig
from roomagent.config.secrets import SecretUnavailable, read_secret
from roomagent.control.checks import CONFIG_CHECKS
from roomagent.control.core import RoomCore
from roomagent.control.feedback import NOTICE_SECONDS
from roomagent.control.history import History, Update
from roomagent.control.status import room_id
from roomagent.devices.checks import device_profile
from roomagent.devices.device import Device
from roomagent.logsetup import kv
from roomagent.rooms import RoomsSession

if TYPE_CHECKING:
    from roomagent.control.cloud_meetings import CloudMeetings
    from roomagent.discovery.mdns import Announcer
    from roomagent.fleet.bridge import FleetBridge
    from roomagent.scheduling.calendar import RoomCalendar
    from roomagent.web.server import WebServer

log = logging.getLogger("roomagent.agent")

# Config sections that need the parts restarted; the rest is swapped in place on reload.
RESTART_SECTIONS = (
    "rooms",
    "devices",
    "web",
    "discovery",
    "calendar",
    "cloud",
    "profiles_dirs",
    "state_dir",
    "mqtt",
)


def load_room_config(path: Path | str, extra_checks: Sequence[Checker] = ()) -> AgentConfig:
    """A room config file with every cross-package check (profiles, bindings, feedback)."""
    return load_config(path, checks=(*CONFIG_CHECKS, *extra_checks))


def parse_room_config(text: str, file: str = "<config>", base: Path | None = None) -> AgentConfig:
    return parse_config(text, file, base, checks=CONFIG_CHECKS)


class App:
    """One room agent. `await tg.start(app.run)` returns once every part has started."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        base_dir: Path | None = None,
        notice_seconds: float = NOTICE_SECONDS,
    ) -> None:
        self.config = config
        self.base_dir = base_dir or Path(".")
        self.history = History()
        self.core = RoomCore(config, history=self.history, notice_seconds=notice_seconds)
        self.web: WebServer | None = None
        self.announcer: Announcer | None = None
        self.fleet: FleetBridge | None = None
        self._restart = anyio.Event()
        self.history.watch(self._on_update)

    # ---- lifecycle ------------------------------------------------------------------------

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run every part until cancelled; a reload that needs it restarts the parts.

        Whether cancelled or restarting, every camera move still under way gets its stop
        before the devices close: a camera is never left moving."""
        started = False
        while True:
            self._restart = anyio.Event()
            try:
                async with anyio.create_task_group() as tg:
                    parts: anyio.CancelScope = await tg.start(self._run_parts)
                    if not started:
                        started = True
                        task_status.started(self)
                    try:
                        await self._restart.wait()
                        log.info("restarting parts for the new configuration")
                    finally:
                        await self.core.stop_moves()
                        parts.cancel()
            finally:
                self.core.later.flush()  # the parts' last history and log lines are not lost

    async def _run_parts(self, *, task_status: Any) -> None:
        # Shielded: cancelling the app must not close the devices before stop_moves ran;
        # run() cancels this scope itself right after.
        with anyio.CancelScope(shield=True) as parts:
            async with anyio.create_task_group() as tg:
                await self._start_peers(tg)
                task_status.started(parts)

    async def _start_peers(self, tg: TaskGroup) -> None:
        self.web = self.announcer = self.fleet = None
        session = self._session()
        tg.start_soon(session.run)
        devices = self._devices()
        for device in devices.values():
            tg.start_soon(device.run)
        calendar = self._calendar()
        if calendar is not None:
            tg.start_soon(self._optional, "calendar", calendar.run)
        clouds = self.core.clouds = self._clouds()
        if clouds is not None:
            tg.start_soon(self._optional, "clouds", functools.partial(clouds.run, calendar))
        self.core.attach(tg, session, devices, calendar)
        self.web = await self._start_web(tg)
        self.announcer = self._start_discovery(tg)
        self.fleet = self._start_fleet(tg)

    def request_restart(self) -> None:
        self._restart.set()

    def reload(self, config: AgentConfig, base_dir: Path | None = None) -> str:
        """Adopt a new, already validated config. Bindings, feedback and the room name are
        swapped in place; changes to connections restart the parts. Returns what was done."""
        old = self.config
        self.config = config
        self.base_dir = base_dir or self.base_dir
        restart = [s for s in RESTART_SECTIONS if getattr(old, s) != getattr(config, s)]
        self.core.retune(config)
        if restart:
            self.request_restart()
            return "restarting " + ", ".join(restart)
        return "bindings and feedback updated"

    # ---- the parts ------------------------------------------------------------------------

    def _relative(self, path: Path | None) -> Path | None:
        """Secret files named in the config are relative to the config file's folder."""
        return path if path is None or path.is_absolute() else self.base_dir / path

    def _session(self) -> RoomsSession:
        rooms = self.config.rooms
        try:
            password = read_secret(
                rooms.password_env, self._relative(rooms.password_file), what="Rooms password"
            )
        except SecretUnavailable as exc:
            self.core.record("rooms", "error", str(exc), level=logging.ERROR)
            password = None
        if not password:
            log.warning("no Rooms password set", extra=kv(env=rooms.password_env))
        return RoomsSession.from_section(rooms, password or "")

    def _devices(self) -> dict[str, Device]:
        devices = {}
        for section in self.config.devices:
            # Resolved as check-config resolves it: relative paths from the config's folder.
            profile = device_profile(self.config, section, self.base_dir)
            devices[section.name] = Device(
                section.name, section.port, profile, address=section.address
            )
        return devices

    def _calendar(self) -> RoomCalendar | None:
        section = self.config.calendar
        if all(getattr(section, provider) is None for provider in type(section).model_fields):
            return None
        from roomagent.scheduling.calendar import RoomCalendar

        return RoomCalendar.from_config(self.config)

    def _clouds(self) -> CloudMeetings | None:
        if self.config.cloud.huawei is None and self.config.cloud.quanshi is None:
            return None
        from roomagent.control.cloud_meetings import CloudMeetings

        return CloudMeetings(self.config)

    async def _start_web(self, tg: TaskGroup) -> WebServer | None:
        web = self.config.web
        if not web.enabled:
            return None
        from roomagent.web.auth import WebAuthError
        from roomagent.web.server import WebServer
        from roomagent.web.tls_settings import TlsConfigError, tls_mode

        try:
            password = read_secret(
                web.password_env, self._relative(web.password_file), what="web password"
            )
            tls = None  # plain HTTP (loopback, or tls = "off"): no certificate machinery
            if tls_mode(web) != "off":
                # The certificate names the mDNS host: zeroconf loads only with TLS or mDNS on.
                from roomagent.discovery.mdns import mdns_host_name
                from roomagent.web.tls import server_tls

                tls = server_tls(
                    web,
                    state_dir=self.config.state_dir,
                    base_dir=self.base_dir,
                    mdns_name=mdns_host_name(room_id(self.config)),
                )
            server = WebServer(self.core, web, password, web.password_hash, tls=tls)
        except (SecretUnavailable, WebAuthError, TlsConfigError) as exc:
            self.core.record("web", "error", f"diagnostics page off: {exc}", level=logging.ERROR)
            return None
        try:
            await tg.start(server.run)
        except OSError as exc:
            msg = f"diagnostics page off: cannot listen on {web.listen}:{web.port}: {exc.strerror}"
            self.core.record("web", "error", msg, level=logging.ERROR)
            return None
        log.info("diagnostics page", extra=kv(url=server.url))
        return server

    def _start_discovery(self, tg: TaskGroup) -> Announcer | None:
        web = self.web
        if not self.config.discovery.enabled or web is None or web.port is None:
            return None
        from roomagent.discovery.mdns import Announcer, announce_interfaces

        listen = self.config.web.listen
        interfaces = announce_interfaces(listen)
        if interfaces == []:
            msg = f"mDNS announcement off: no IPv4 address to announce for listen = {listen!r}"
            self.core.record("agent", "error", msg, level=logging.WARNING)
            return None
        announcer = Announcer(
            self.config.room.name,
            room_id(self.config),
            web.port,
            __version__,
            page_port=web.port,
            state=self.core.machine.view.state.value,
            interfaces=interfaces,
        )
        tls = web.tls_summary()  # the scheme, and the fingerprint for tools that pin it
        announcer.update(scheme=tls["scheme"], fp=tls.get("fingerprint"))
        tg.start_soon(self._optional, "mDNS announcement", announcer.run)
        return announcer

    def _start_fleet(self, tg: TaskGroup) -> FleetBridge | None:
        """The MQTT bridge (docs/fleet.md), a peer of the web server reading self.core."""
        self.core.fleet_report = None
        if self.config.mqtt is None:
            return None
        from roomagent.control.model import FleetStatus
        from roomagent.fleet.bridge import BridgeSettings, FleetBridge
        from roomagent.fleet.broker import BrokerConfigError

        try:
            settings = BridgeSettings.from_config(self.config, self.base_dir)
        except (SecretUnavailable, BrokerConfigError) as exc:
            self.core.record("fleet", "error", f"fleet plane off: {exc}", level=logging.ERROR)
            off = FleetStatus(state="disabled", last_error=f"fleet plane off: {exc}")
            self.core.fleet_report = lambda: off
            return None
        bridge = FleetBridge(self.core, settings, on_change=self._fleet_changed)
        self.core.fleet_report = bridge.report
        tg.start_soon(self._optional, "fleet bridge", bridge.run)
        return bridge

    def _fleet_changed(self) -> None:
        # The page (and any watcher) re-reads the status, where status.fleet is.
        self.history.emit({"type": "fleet"})

    async def _optional(self, what: str, func: Callable[[], Awaitable[None]]) -> None:
        """Run a part the room can live without: its failure is logged, not fatal."""
        try:
            await func()
        except Exception as exc:
            self.core.record("agent", "error", f"{what} off: {exc}", level=logging.ERROR)

    def _on_update(self, update: Update) -> None:
        if update["type"] == "status" and self.announcer is not None:
            self.announcer.update(state=update["room"]["state"])
