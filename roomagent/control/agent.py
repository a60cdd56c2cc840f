"""The agent: one Rooms session, the room's serial devices, the calendar, the diagnostics
page and the mDNS announcement, owned by one task group, joined by the room state machine.

It implements the facade the web server uses (docs/architecture.md, "control → web").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup

from roomagent import __version__
from roomagent.config.model import AgentConfig
from roomagent.config.secrets import SecretUnavailable, read_secret
from roomagent.control.actions import (
    ActionFailed,
    ActionNotApplicable,
    ActionRunner,
    RoomsRequest,
    parse_action,
)
from roomagent.control.bindings import Bound, ButtonHandler, Key, build_table
from roomagent.control.feedback import BUSY_SECONDS, NOTICE_SECONDS, PanelFeedback
from roomagent.control.state import RoomState, RoomStateMachine, RoomView
from roomagent.devices.checks import device_profile
from roomagent.devices.device import Device, DeviceEvent
from roomagent.devices.errors import DeviceError
from roomagent.fleet.bridge import BridgeSettings, FleetBridge  # fleet plane (issue 12)
from roomagent.fleet.broker import BrokerConfigError  # fleet plane (issue 12)
from roomagent.logsetup import kv, scrub
from roomagent.rooms import LinkState, RoomsChange, RoomsError, RoomsRefused, RoomsSession

log = logging.getLogger("roomagent.agent")

EVENT_HISTORY = 500
# What a history event carries beside {ts, source, kind, message} (README, "events"): the
# message is prose that may be reworded; clients build their words from these fields.
EVENT_FIELDS = {
    "device": "the device the event is about (a panel for button events)",
    "button": "button number",
    "how": "press | hold | release",
    "action": "action name, e.g. meeting.leave, or macro",
    "ok": "true: the action was done; false: refused or failed",
    "outcome": "what a done action returned",
    "reason": "why: refused, offline, link down, device error",
    "step": "where a macro failed, e.g. step 3 (meeting.layout)",
    "port": "the serial port a device came online on",
    "link": "the Rooms link state: ready, connecting, disconnected, auth_failed",
    "module": "a Rooms event's module, e.g. ZoomRoom",
    "event": "a Rooms event's name, e.g. JoinMeetingCompleted",
    "command": "a device command sent from the API",
    "args": "that command's arguments",
}
# On shutdown or restart, how long the stops of running camera moves may take before the
# devices close anyway (systemd's stop timeout is a few seconds for the whole agent).
MOVE_STOP_SECONDS = 1.0
# The "Next:" line changes with the clock, not only with calendar updates.
CALENDAR_TICK_SECONDS = 30.0
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
    "mqtt",  # fleet plane (issue 12)
)
# Actions whose success no room state shows (no LED follows a booking): their result is shown
# on the panel's message line, like a refusal but without the red blink.
CONFIRMED_ACTIONS = ("calendar.book_now", "calendar.end_early")
# Room states in which the room counts as used (the calendar's optional no-show release).
IN_USE_STATES = (RoomState.IN_MEETING, RoomState.WAITING_ROOM)
NO_CALENDAR = "no room calendar configured"


@functools.cache
def machine_id() -> str:
    """A stable id for discovery: /etc/machine-id (shortened), else the host name. Read
    once: every status update names the room, and a file read per update is waste."""
    try:
        return Path("/etc/machine-id").read_text().strip()[:12] or socket.gethostname()
    except OSError:
        return socket.gethostname()


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        base_dir: Path | None = None,
        notice_seconds: float = NOTICE_SECONDS,
    ) -> None:
        self.config = config
        self.notice_seconds = notice_seconds
        self.base_dir = base_dir or Path(".")
        self.started_at = time.monotonic()
        self.machine = RoomStateMachine()
        self.runner = ActionRunner(self)
        self.session: RoomsSession | None = None
        self.devices: dict[str, Device] = {}
        self.panels: dict[str, PanelFeedback] = {}
        self.calendar: Any = None
        self.web: Any = None
        self.announcer: Any = None
        self.fleet: FleetBridge | None = None  # fleet plane (issue 12)
        self.last_error: str | None = None
        self.last_error_at: str | None = None  # `ts` of the event that set last_error
        self.table: dict[Key, Bound] = build_table(config.bindings)
        self.handler: ButtonHandler | None = None
        self._events: deque[dict[str, Any]] = deque(maxlen=EVENT_HISTORY)
        self._watchers: list[Callable[[dict[str, Any]], None]] = []
        self._restart = anyio.Event()
        self._tg: TaskGroup | None = None
        self._link_note = ""
        self._view_event = anyio.Event()
        self.machine.update(room=config.room.name)

    # ---- lifecycle ------------------------------------------------------------------------

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run every part until cancelled; a reload that needs it restarts the parts.

        Whether cancelled or restarting, every camera move still under way gets its stop
        before the devices close: a camera is never left moving."""
        started = False
        while True:
            self._restart = anyio.Event()
            async with anyio.create_task_group() as tg:
                parts: anyio.CancelScope = await tg.start(self._run_parts)
                if not started:
                    started = True
                    task_status.started(self)
                try:
                    await self._restart.wait()
                    log.info("restarting parts for the new configuration")
                finally:
                    await self.stop_moves()
                    parts.cancel()

    async def _run_parts(self, *, task_status: Any) -> None:
        # Shielded: cancelling the agent must not close the devices before stop_moves ran;
        # run() cancels this scope itself right after.
        with anyio.CancelScope(shield=True) as parts:
            try:
                async with anyio.create_task_group() as tg:
                    self._tg = tg
                    await self._start_parts(tg)
                    task_status.started(parts)
            finally:
                self._tg = None

    async def stop_moves(self) -> None:
        """Stop every held or timed camera move (bounded: shutdown must stay quick)."""
        with anyio.move_on_after(MOVE_STOP_SECONDS, shield=True):
            async with anyio.create_task_group() as tg:
                if self.handler is not None:
                    tg.start_soon(self.handler.stop_all)
                tg.start_soon(self.runner.stop_timed)

    async def _start_parts(self, tg: TaskGroup) -> None:
        config = self.config
        self.web = self.announcer = self.calendar = None
        self.machine = RoomStateMachine()
        self.machine.update(room=config.room.name)
        self.session = self._make_session(config)
        self.session.watch(self._on_rooms)
        tg.start_soon(self.session.run)
        self.devices = {}
        self.panels = {}
        for section in config.devices:
            # Resolved as check-config resolves it: relative paths from the config's folder.
            profile = device_profile(config, section, self.base_dir)
            device = Device(section.name, section.port, profile, address=section.address)
            self.devices[section.name] = device
            device.watch(self._device_watcher(section.name))
            self.machine.set_device(section.name, False)
            if device.kind == "panel":
                text = profile.line.text if profile.line else None
                feedback = PanelFeedback(
                    section.name,
                    config.feedback,
                    self._panel_sender(device),
                    text_width=text.max_length if text else None,
                )
                self.panels[section.name] = feedback
                tg.start_soon(feedback.run)
            tg.start_soon(device.run)
        self.handler = ButtonHandler(self.table, self.runner, tg, self._report, self._busy)
        self._start_calendar(tg)
        await self._start_web(tg)
        await self._start_discovery(tg)
        # ---- fleet plane (issue 12): the MQTT bridge, a peer part beside the web server ----
        self.fleet = None
        if config.mqtt is not None:
            try:
                self.fleet = FleetBridge(self, BridgeSettings.from_config(config, self.base_dir))
                tg.start_soon(self._optional, "fleet bridge", self.fleet.run)
            except (SecretUnavailable, BrokerConfigError) as exc:
                self._record("fleet", "error", f"fleet plane off: {exc}", level=logging.ERROR)
        # ---- end fleet plane ----
        self._view_changed()

    def _relative(self, path: Path | None) -> Path | None:
        """Secret files named in the config are relative to the config file's folder."""
        return path if path is None or path.is_absolute() else self.base_dir / path

    def _make_session(self, config: AgentConfig) -> RoomsSession:
        rooms = config.rooms
        try:
            password = read_secret(
                rooms.password_env, self._relative(rooms.password_file), what="Rooms password"
            )
        except SecretUnavailable as exc:
            self._record("rooms", "error", str(exc), level=logging.ERROR)
            password = None
        if not password:
            log.warning("no Rooms password set", extra=kv(env=rooms.password_env))
        return RoomsSession.from_section(rooms, password or "")

    def _start_calendar(self, tg: TaskGroup) -> None:
        from roomagent.scheduling.calendar import RoomCalendar

        self.calendar = RoomCalendar.from_config(self.config)
        if self.calendar is None:
            return
        self.calendar.watch(self._calendar_changed)
        tg.start_soon(self._optional, "calendar", self.calendar.run)
        tg.start_soon(self._calendar_ticker)

    async def _calendar_ticker(self) -> None:
        while True:
            self._calendar_changed()
            self._note_room_use()  # a meeting that outlasts a booking start uses the new one
            await anyio.sleep(CALENDAR_TICK_SECONDS)

    def _note_room_use(self) -> None:
        if self.calendar is not None and self.machine.view.state in IN_USE_STATES:
            self.calendar.note_in_use()

    async def _start_web(self, tg: TaskGroup) -> None:
        web = self.config.web
        if not web.enabled:
            return
        from roomagent.web.auth import WebAuthError
        from roomagent.web.server import WebServer

        try:
            password = read_secret(
                web.password_env, self._relative(web.password_file), what="web password"
            )
            self.web = WebServer(self, web, password, web.password_hash)
        except (SecretUnavailable, WebAuthError) as exc:
            self._record("web", "error", f"diagnostics page off: {exc}", level=logging.ERROR)
            self.web = None
            return
        try:
            await tg.start(self.web.run)
        except OSError as exc:
            msg = f"diagnostics page off: cannot listen on {web.listen}:{web.port}: {exc.strerror}"
            self._record("web", "error", msg, level=logging.ERROR)
            self.web = None
            return
        log.info("diagnostics page", extra=kv(url=self.web.url))

    async def _start_discovery(self, tg: TaskGroup) -> None:
        if not self.config.discovery.enabled or self.web is None or self.web.port is None:
            return
        from roomagent.discovery.mdns import Announcer, announce_interfaces

        listen = self.config.web.listen
        interfaces = announce_interfaces(listen)
        if interfaces == []:
            msg = f"mDNS announcement off: no IPv4 address to announce for listen = {listen!r}"
            self._record("agent", "error", msg, level=logging.WARNING)
            return
        self.announcer = Announcer(
            self.config.room.name,
            self.config.room.id or machine_id(),
            self.web.port,
            __version__,
            page_port=self.web.port,
            state=self.machine.view.state.value,
            interfaces=interfaces,
        )
        tg.start_soon(self._optional, "mDNS announcement", self.announcer.run)

    async def _optional(self, what: str, func: Callable[[], Awaitable[None]]) -> None:
        """Run a part the room can live without: its failure is logged, not fatal."""
        try:
            await func()
        except Exception as exc:
            self._record("agent", "error", f"{what} off: {exc}", level=logging.ERROR)

    async def wait_view(self, predicate: Callable[[RoomView], bool]) -> RoomView:
        """Until the room view satisfies `predicate` (callers bound it with a timeout)."""
        while not predicate(self.machine.view):
            await self._view_event.wait()
        return self.machine.view

    async def wait_settled(self) -> RoomView:
        """Until the Rooms link is up, every device is online and every panel shows it."""
        while True:
            view = await self.wait_view(
                lambda v: v.state is not RoomState.ROOMS_OFFLINE and not v.devices_offline
            )
            for panel in list(self.panels.values()):
                await panel.wait_synced()
            if self.machine.view == view:
                return view

    def request_restart(self) -> None:
        self._restart.set()

    def reload(self, config: AgentConfig, base_dir: Path | None = None) -> str:
        """Adopt a new, already validated config. Bindings, feedback and the room name are
        swapped in place; changes to connections restart the parts. Returns what was done."""
        old = self.config
        self.config = config
        self.base_dir = base_dir or self.base_dir
        self.table = build_table(config.bindings)
        restart = [s for s in RESTART_SECTIONS if getattr(old, s) != getattr(config, s)]
        if restart:
            self.request_restart()
            return "restarting " + ", ".join(restart)
        if self.handler is not None:
            self.handler.table = self.table
        for panel in self.panels.values():
            panel.set_rules(config.feedback)
        self.machine.update(room=config.room.name)
        self._view_changed()
        return "bindings and feedback updated"

    # ---- inputs ---------------------------------------------------------------------------

    def _on_rooms(self, change: RoomsChange) -> None:
        session = self.session
        if session is None:
            return
        if change.kind == "link":
            ready = change.link == LinkState.READY
            reason = None if ready else session.last_error
            note = "Rooms link ready" if ready else f"Rooms client offline: {reason}"
            self.machine.set_link(ready, reason)
            # The session logs every attempt; the room's history only needs what changed.
            if note != self._link_note and (ready or reason):
                self._link_note = note
                level = logging.INFO if ready else logging.WARNING
                fields = {"link": change.link.value} | ({} if ready else {"reason": reason})
                self._record("rooms", "link", note, level=level, **fields)
        mirror = session.mirror
        changed = self.machine.set_meeting(
            mirror.status, mirror.meeting_code, mirror.title, mirror.host_present
        )
        # The panel's LEDs are woken at once; the history, the log line and a page refresh
        # that changes nothing on the panel wait until the feedback has written its frame.
        if changed or change.kind == "link":
            self._view_changed()
            if changed:
                self._note_room_use()
        elif change.kind == "mirror":  # the meeting moved in ways the page shows
            _after_ready_tasks(self._view_changed)
        if change.kind == "event" and change.event is not None:
            module, name = change.event.module, change.event.name
            what = f"{module} event {name}"
            _after_ready_tasks(self._record, "rooms", "event", what, module=module, event=name)

    def _device_watcher(self, name: str) -> Callable[[DeviceEvent], None]:
        return lambda ev: self._on_device(name, ev)

    def _on_device(self, name: str, ev: DeviceEvent) -> None:
        if ev.kind == "button" and ev.button is not None and ev.action is not None:
            handler = self.handler
            handled = handler.handle(name, ev.button, ev.action) if handler else False
            if handled or ev.action == "press":
                # After the action's first step (which sends): history, log line and page
                # update never delay a press. _report is deferred the same way, so the
                # history keeps its order (press, then its outcome).
                message = f"button {ev.button} {ev.action}"
                _after_ready_tasks(
                    self._record,
                    name,
                    "button",
                    message,
                    device=name,
                    button=ev.button,
                    how=ev.action,
                )
            return
        if ev.kind in ("online", "offline"):
            online = ev.kind == "online"
            self.machine.set_device(name, online)
            panel = self.panels.get(name)
            if online and panel is not None:
                panel.resend_all()
            if not online and self.handler is not None:
                self.handler.release_all(name)
            if not online and ev.detail == "stopped":  # closed by our own shutdown
                self._record(name, "closed", f"{name} closed", level=logging.INFO, device=name)
            else:
                detail = f": {ev.detail}" if ev.detail else ""
                level = logging.INFO if online else logging.WARNING
                device = self.devices.get(name)
                fields: dict[str, Any] = (
                    {"port": device.port if device else None} if online else {"reason": ev.detail}
                )
                message = f"{name} {ev.kind}{detail}"
                self._record(name, ev.kind, message, level=level, device=name, **fields)
            self._view_changed()
        elif ev.kind == "error":
            message = f"{name}: {ev.detail}"
            self._record(
                name, "error", message, level=logging.WARNING, device=name, reason=ev.detail
            )

    def _calendar_changed(self) -> None:
        calendar = self.calendar
        if calendar is None:
            return
        booking = calendar.next()
        self.machine.update(
            next_title=booking.title if booking else None,
            next_start=booking.start.astimezone().strftime("%H:%M") if booking else None,
            next_code=booking.meeting_code if booking else None,
        )
        self._view_changed()

    # ---- what ActionRunner needs (ActionHost) ---------------------------------------------

    def room_state(self) -> RoomState:
        return self.machine.view.state

    def set_join_in_flight(self, flag: bool) -> None:
        if self.machine.set_join_in_flight(flag):
            self._view_changed()

    def join_target(self) -> tuple[str, str] | None:
        calendar = self.calendar
        if calendar is None:
            return None
        for booking in (calendar.current(), calendar.next()):
            if booking is not None and booking.meeting_code:
                return booking.meeting_code, booking.title
        return None

    async def rooms_call(self, request: RoomsRequest) -> str:
        session = self.session
        if session is None:
            raise ActionFailed("Rooms client offline")
        try:
            event = await session.call(request.name, request.params, wait=True)
        except RoomsRefused as exc:
            # The panel gets the Rooms client's own words; the log gets the code too.
            log.warning("rooms refused", extra=kv(action=request.name, reason=str(exc)))
            raise ActionFailed(exc.message) from None
        except RoomsError as exc:
            raise ActionFailed(str(exc)) from None
        return f"{request.name}: {event.name if event else 'accepted'}"

    async def book_room(self, minutes: int, title: str | None) -> str:
        from roomagent.scheduling.http import CloudError

        calendar = self.calendar
        if calendar is None:
            raise ActionNotApplicable(NO_CALENDAR)
        options = {"title": title} if title else {}
        try:
            await calendar.book_now(minutes, **options)
        except CloudError as exc:
            raise ActionFailed(exc.message) from exc
        booking = calendar.current()
        return f"Room booked until {booking.end.astimezone():%H:%M}" if booking else "Room booked"

    async def end_booking(self) -> str:
        from roomagent.scheduling.http import CloudError

        calendar = self.calendar
        if calendar is None:
            raise ActionNotApplicable(NO_CALENDAR)
        try:
            ended = await calendar.end_early()
        except CloudError as exc:
            raise ActionFailed(exc.message) from exc
        return f"Booking ended at {ended.end.astimezone():%H:%M}"

    async def camera_command(self, camera: str, command: str, args: list[Any]) -> str:
        device = self.devices.get(camera)
        if device is None:
            raise ActionFailed(f"no camera named {camera!r}")
        args = _clamp_speeds(device, command, args)
        try:
            await device.command(command, *args)
        except DeviceError as exc:
            raise ActionFailed(f"{camera}: {exc.reason}") from None
        return f"{camera} {command} {' '.join(map(str, args))}".strip()

    # ---- outputs --------------------------------------------------------------------------

    def _panel_sender(self, device: Device) -> Callable[[str, list[Any], dict[str, Any]], Any]:
        async def send(command: str, args: list[Any], extra: dict[str, Any]) -> object:
            return await device.command(command, *args, **extra)

        return send

    def _report(self, device: str, button: int, label: str, error: str | None, result: str) -> None:
        _after_ready_tasks(self._report_now, device, button, label, error, result)

    def _busy(self, device: str, button: int, label: str) -> None:
        """A press of a key whose action is still running: acknowledged, not started again."""
        panel = self.panels.get(device)
        if panel is not None:
            panel.notice(button, f"busy… {label}", min(BUSY_SECONDS, self.notice_seconds))
        # Deferred twice: the press itself is recorded (deferred once) after this call returns,
        # and the history keeps the order press, then busy.
        message = f"button {button}: busy… {label} still running"
        record = functools.partial(
            self._record, device, "busy", message, device=device, button=button, action=label
        )
        _after_ready_tasks(_after_ready_tasks, record)

    def _report_now(
        self, device: str, button: int, label: str, error: str | None, result: str
    ) -> None:
        """An action started by a button finished: log it, and show failures on the panel
        (and the outcome of actions no LED follows)."""
        fields: dict[str, Any] = {"device": device, "button": button, "action": label}
        if error is None:
            message = f"button {button}: {label}: {result}"
            self._record(device, "action", message, ok=True, outcome=result, **fields)
            panel = self.panels.get(device)
            if panel is not None and label in CONFIRMED_ACTIONS:
                panel.notice(None, result, self.notice_seconds)
            return
        where = f"{label} {result}" if result else label
        if result:
            fields["step"] = result
        message = f"button {button}: {where}: {error}"
        self._record(
            device,
            "refused",
            message,
            level=logging.WARNING,
            error=f"{where}: {error}",
            ok=False,
            reason=error,
            **fields,
        )
        panel = self.panels.get(device)
        if panel is not None:
            panel.notice(button, error, self.notice_seconds)

    def _view_changed(self) -> None:
        view = self.machine.view
        for panel in self.panels.values():
            panel.update(view)
        if self.announcer is not None:
            self.announcer.update(state=view.state.value)
        changed, self._view_event = self._view_event, anyio.Event()
        changed.set()
        self._emit({"type": "status", "room": self._room_dict(view)})

    def _record(
        self,
        source: str,
        kind: str,
        message: str,
        *,
        level: int = logging.INFO,
        error: str | None = None,
        **fields: Any,
    ) -> None:
        """One history event. `message` is prose for the log and people; the page and API
        clients read the structured `fields` beside it (EVENT_FIELDS), never the prose.
        `error` (or any record at ERROR level) becomes the agent's last error, timed by
        this event so the page can say when it happened and find its event."""
        event = {
            "ts": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "source": source,
            "kind": kind,
            "message": message,
            **fields,
        }
        self._events.append(event)
        if error is None and level >= logging.ERROR:
            error = message
        if error is not None:
            self.last_error, self.last_error_at = error, str(event["ts"])
        log.log(level, message, extra=kv(source=source, kind=kind, **fields))
        self._emit({"type": "event", "event": event})

    def _emit(self, update: dict[str, Any]) -> None:
        for callback in list(self._watchers):
            try:
                callback(update)
            except Exception:  # a watcher's bug must not break the room
                log.warning("agent watcher failed", exc_info=True)

    # ---- the facade (control → web) -------------------------------------------------------

    def _room_dict(self, view: RoomView) -> dict[str, Any]:
        return {
            "name": self.config.room.name,
            "id": self.config.room.id or machine_id(),
            "state": view.state.value,
            "devices_offline": sorted(view.devices_offline),
        }

    def status(self) -> dict[str, Any]:
        view = self.machine.view
        session = self.session
        mirror = session.mirror if session else None
        calendar = self.calendar
        return {
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "room": self._room_dict(view),
            "rooms": {
                "link": session.link.value if session else "disconnected",
                "url": self.config.rooms.url,
                "last_error": session.last_error if session else None,
            },
            "meeting": {
                "status": mirror.status.name.lower() if mirror else "idle",
                "code": view.meeting_code,
                "title": view.meeting_title,
                "host_present": view.host_present,
            },
            "devices": [
                {
                    "name": name,
                    "kind": device.kind,
                    "profile": section.profile,
                    "port": section.port,
                    "online": device.online,
                    "reason": device.offline_reason,
                    "counters": dict(device.counters),
                }
                for (name, device), section in zip(
                    self.devices.items(), self.config.devices, strict=False
                )
            ],
            "calendar": _calendar_dict(calendar),
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return list(self._events)[-limit:] if limit > 0 else []

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        """Run one action (or a macro: {"action": [steps]}); raises ActionError on failure."""
        steps = action.get("action")
        if isinstance(steps, list):
            result = await self.runner.run_macro([parse_action(s) for s in steps])
            name = "macro"
        else:
            parsed = parse_action(action)
            name = parsed.action
            result = await self.runner.run(parsed)
        self._record("api", "action", f"{name}: {result}", action=name, ok=True, outcome=result)
        return {"action": name, "result": result}

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        target = self.devices.get(device)
        if target is None:
            raise LookupError(f"unknown device {device!r}; devices: {', '.join(self.devices)}")
        reply = await target.command(command, *args)
        message = f"{device} {command} {' '.join(map(str, args))}".strip()
        self._record("api", "device", message, device=device, command=command, args=list(args))
        return {
            "device": device,
            "command": command,
            "reply": None if reply is None else str(reply),
        }

    async def press(self, device: str, button: int, kind: str = "press") -> dict[str, Any]:
        """A virtual button: the same path as a real panel's button event."""
        if device not in self.devices:
            raise LookupError(f"unknown device {device!r}; devices: {', '.join(self.devices)}")
        if kind not in ("press", "hold", "release"):
            raise ValueError("kind must be press, hold or release")
        handled = self.handler.handle(device, button, kind) if self.handler else False
        message = f"virtual {device} button {button} {kind}"
        self._record("api", "button", message, device=device, button=button, how=kind)
        return {"device": device, "button": button, "kind": kind, "handled": handled}

    def config_view(self) -> dict[str, Any]:
        data: dict[str, Any] = scrub(self.config.model_dump(mode="json"))
        return data

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self._watchers.append(callback)

        def unsubscribe() -> None:
            if callback in self._watchers:
                self._watchers.remove(callback)

        return unsubscribe


def _after_ready_tasks(func: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run `func(*args, **kwargs)` once the tasks already scheduled (a just-started action)
    have taken their next step. The agent runs on anyio's asyncio backend, whose ready queue
    is FIFO: callbacks deferred here keep their order among themselves."""
    if kwargs:
        func = functools.partial(func, **kwargs)
    asyncio.get_running_loop().call_soon(func, *args)


def _clamp_speeds(device: Device, command: str, args: list[Any]) -> list[Any]:
    """Pan/tilt speeds clamped to this camera's ranges: bindings and the page use one scale
    for every model, and a tilt range a step shorter than pan must not fail the move."""
    section = device.profile.visca or device.profile.pelco
    if command != "pt_drive" or section is None or len(args) != 3:
        return args
    pan, tilt = section.pan_speed, section.tilt_speed
    return [args[0], min(max(args[1], pan.min), pan.max), min(max(args[2], tilt.min), tilt.max)]


def _calendar_dict(calendar: Any) -> dict[str, Any] | None:
    if calendar is None:
        return None
    current, upcoming = calendar.current(), calendar.next()
    return {
        "current": current.as_dict() if current else None,
        "next": upcoming.as_dict() if upcoming else None,
        "today": [b.as_dict() for b in calendar.today()],
    }
