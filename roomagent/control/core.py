"""The room core: joins the Rooms session, the serial devices and the calendar through the
room state machine. Button events become actions, room changes become panel feedback and
history events; it is the facade the web server and the fleet bridge use
(docs/architecture.md, "control → web").

The core builds none of its parts: the composition root (roomagent/app.py) builds them and
hands each generation over with `attach` (again after a restart).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from roomagent.config.model import AgentConfig
from roomagent.config.vocab import spoken
from roomagent.control.actions import (
    ACTION_MODELS,
    ActionError,
    ActionNotApplicable,
    ActionNotConfigured,
    ActionRunner,
    ActionSuperseded,
    parse_action,
    result_of,
)
from roomagent.control.bindings import Bound, ButtonHandler, Key, build_table
from roomagent.control.feedback import BUSY_SECONDS, NOTICE_SECONDS, PanelFeedback
from roomagent.control.history import BOOKKEEPING_DELAY_S, History, Watcher
from roomagent.control.host import CoreHost
from roomagent.control.model import ButtonPhase, FleetStatus, KnownMeeting, RoomStatus
from roomagent.control.panels_view import PanelsView
from roomagent.control.state import RoomState, RoomStateMachine, RoomView
from roomagent.control.status import build_status, room_info
from roomagent.devices.device import Device, DeviceEvent
from roomagent.logsetup import scrub
from roomagent.rooms import LinkState, RoomsChange, RoomsSession
from roomagent.waits import Later

if TYPE_CHECKING:  # the calendar (and httpx under it) is imported only when configured
    from roomagent.control.cloud_meetings import CloudMeetings
    from roomagent.scheduling.calendar import RoomCalendar

log = logging.getLogger("roomagent.agent")

# The "Next:" line changes with the clock, not only with calendar updates.
CALENDAR_TICK_SECONDS = 30.0
# Actions whose success no room state shows (no LED follows a booking): their result is shown
# on the panel's message line, like a refusal but without the red blink.
CONFIRMED_ACTIONS = ("calendar.book_now", "calendar.end_early")
# Room states in which the room counts as used (the calendar's optional no-show release).
IN_USE_STATES = (RoomState.IN_MEETING, RoomState.WAITING_ROOM)
# On shutdown or restart, how long the stops of running camera moves may take before the
# devices close anyway (systemd's stop timeout is a few seconds for the whole agent).
MOVE_STOP_SECONDS = 1.0


class RoomCore(CoreHost):
    def __init__(
        self,
        config: AgentConfig,
        *,
        history: History | None = None,
        notice_seconds: float = NOTICE_SECONDS,
    ) -> None:
        self.config = config
        self.history = history or History()
        self.notice_seconds = notice_seconds
        self.started_at = time.monotonic()
        self.machine = RoomStateMachine()
        self.runner = ActionRunner(self)
        self.session: RoomsSession | None = None
        self.devices: dict[str, Device] = {}
        self.panels: dict[str, PanelFeedback] = {}
        self.calendar: RoomCalendar | None = None
        self.clouds: CloudMeetings | None = None  # set by the app when a cloud is configured
        # The fleet bridge's state, set by the app while [mqtt] is configured (status.fleet).
        self.fleet_report: Callable[[], FleetStatus] | None = None
        self.table: dict[Key, Bound] = build_table(config.bindings)
        self.handler: ButtonHandler | None = None
        self.views = self._make_views()  # the page's virtual panels and PTZ pads
        self._link_note = ""
        # The meeting last seen with the link ready: (status, code, title, time.time()), kept
        # raw on the event path; `known_meeting` types it for the status.
        self._known: tuple[str, str | None, str | None, float] | None = None
        # Set on every view change, made only while someone waits (asyncio's own: no backend
        # look-up per change, and usable from a press's first step outside any task).
        self._view_event: asyncio.Event | None = None
        self.later = Later(BOOKKEEPING_DELAY_S)  # bookkeeping behind the press or event
        self._status_queued = False  # a status update is in `later` already
        self.machine.update(room=config.room.name)

    # ---- a generation of parts ------------------------------------------------------------

    def attach(
        self,
        tg: TaskGroup,
        session: RoomsSession,
        devices: dict[str, Device],
        calendar: RoomCalendar | None,
    ) -> None:
        """Adopt freshly built parts (the app runs them); starts feedback and the ticker."""
        config = self.config
        self.machine = RoomStateMachine()
        self.machine.update(room=config.room.name)
        self.session, self.devices, self.calendar = session, devices, calendar
        session.watch(self._on_rooms)
        self.panels = {}
        for name, device in devices.items():
            device.watch(functools.partial(self._on_device, name))
            self.machine.set_device(name, False)
            if device.kind == "panel":
                text = device.profile.line.text if device.profile.line else None
                feedback = PanelFeedback(
                    name,
                    config.feedback,
                    functools.partial(_send_to, device),
                    text_width=text.max_length if text else None,
                )
                self.panels[name] = feedback
                tg.start_soon(feedback.run)
        self.handler = ButtonHandler(self.table, self.runner, tg, self._report, self._busy)
        self.views = self._make_views()
        self.views.start(tg)
        if calendar is not None:
            calendar.watch(self._calendar_changed)
            tg.start_soon(self._calendar_ticker)
        if self.clouds is not None:
            self.clouds.watch(self._view_changed)
        self._view_changed()

    def _make_views(self) -> PanelsView:
        rules = lambda: self.config.feedback  # noqa: E731  (a retune swaps the config)
        return PanelsView(self.devices, lambda: self.table, rules, self.history.emit)

    def retune(self, config: AgentConfig) -> None:
        """A reload that needs no restart: bindings, feedback and the room name in place."""
        self.config = config
        self.table = build_table(config.bindings)
        if self.handler is not None:
            self.handler.table = self.table
        for panel in self.panels.values():
            panel.set_rules(config.feedback)
        self.machine.update(room=config.room.name)
        self._view_changed()

    async def stop_moves(self) -> None:
        """Stop every held or timed camera move (bounded: shutdown must stay quick)."""
        with anyio.move_on_after(MOVE_STOP_SECONDS, shield=True):
            async with anyio.create_task_group() as tg:
                if self.handler is not None:
                    tg.start_soon(self.handler.stop_all)
                tg.start_soon(self.runner.stop_timed)

    async def _calendar_ticker(self) -> None:
        while True:
            self._calendar_changed()
            self._note_room_use()  # a meeting that outlasts a booking start uses the new one
            await anyio.sleep(CALENDAR_TICK_SECONDS)

    def _note_room_use(self) -> None:
        if self.calendar is not None and self.machine.view.state in IN_USE_STATES:
            self.calendar.note_in_use()

    async def wait_view(self, predicate: Callable[[RoomView], bool]) -> RoomView:
        """Until the room view satisfies `predicate` (callers bound it with a timeout)."""
        while not predicate(self.machine.view):
            if self._view_event is None:
                self._view_event = asyncio.Event()
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

    # ---- inputs ---------------------------------------------------------------------------

    def _on_rooms(self, change: RoomsChange) -> None:
        session = self.session
        if session is None:
            return
        mirror = session.mirror
        if change.kind == "link":
            ready = change.link == LinkState.READY
            reason = None if ready else session.last_error
            note = "Rooms link ready" if ready else f"Rooms client offline: {reason}"
            if not ready and self._known is not None and self.machine.link_ready:
                self._known = (*self._known[:3], time.time())
            self.machine.set_link(ready, reason)
            # The session logs every attempt; the room's history only needs what changed.
            if note != self._link_note and (ready or reason):
                self._link_note = note
                level = logging.INFO if ready else logging.WARNING
                fields = {"link": change.link.value} | ({} if ready else {"reason": reason})
                self.record("rooms", "link", note, level=level, **fields)
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
            self.later(self._view_changed)
        if self.machine.link_ready:
            self._known = (mirror.status.label, mirror.meeting_code, mirror.title, time.time())
        if change.kind == "event" and change.event is not None:
            module, name = change.event.module, change.event.name
            what = f"{module} event {name}"
            self.later(self.record, "rooms", "event", what, module=module, event=name)

    def _on_device(self, name: str, ev: DeviceEvent) -> None:
        if ev.kind == "button" and ev.button is not None and ev.action is not None:
            handler = self.handler
            handled = handler.handle(name, ev.button, ev.action) if handler else False
            if handled or ev.action == ButtonPhase.PRESS:
                # After the action's first step (which sends): history, log line and page
                # update never delay a press. _report is deferred the same way, so the
                # history keeps its order (press, then its outcome).
                message = f"button {ev.button} {ev.action}"
                self.later(
                    self.record,
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
                self.record(name, "closed", f"{name} closed", level=logging.INFO, device=name)
            else:
                detail = f": {ev.detail}" if ev.detail else ""
                level = logging.INFO if online else logging.WARNING
                device = self.devices.get(name)
                fields: dict[str, Any] = (
                    {"port": device.port if device else None} if online else {"reason": ev.detail}
                )
                message = f"{name} {ev.kind}{detail}"
                self.record(name, ev.kind, message, level=level, device=name, **fields)
            self._view_changed()
        elif ev.kind == "error":
            message = f"{name}: {ev.detail}"
            self.record(
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

    # ---- outputs --------------------------------------------------------------------------

    def _report(
        self, device: str, button: int, label: str, error: ActionError | None, result: str
    ) -> None:
        # Deferred twice, as _busy: an action refused in its first step (run in the press's
        # own callback) reports before the press itself is queued; the history keeps the
        # order press, then outcome.
        self.later(self.later, self._report_now, device, button, label, error, result)

    def _busy(self, device: str, button: int, label: str) -> None:
        """A press of a key whose action is still running: acknowledged, not started again."""
        panel = self.panels.get(device)
        if panel is not None:
            panel.notice(button, f"busy… {label}", min(BUSY_SECONDS, self.notice_seconds))
        self.history.count_action(label, "busy")
        # Deferred twice: the press itself is recorded (deferred once) after this call returns,
        # and the history keeps the order press, then busy.
        message = f"button {button}: busy… {label} still running"
        record = functools.partial(
            self.record, device, "busy", message, device=device, button=button, action=label
        )
        self.later(self.later, record)

    def _report_now(
        self, device: str, button: int, label: str, error: ActionError | None, result: str
    ) -> None:
        """An action started by a button finished: log it, and show failures on the panel
        (and the outcome of actions no LED follows)."""
        self.history.count_action(label, result_of(error))
        fields: dict[str, Any] = {"device": device, "button": button, "action": label}
        panel = self.panels.get(device)
        if error is None:
            message = f"button {button}: {label}: {result}"
            self.record(device, "action", message, ok=True, outcome=result, **fields)
            if panel is not None and label in CONFIRMED_ACTIONS:
                panel.notice(None, result, self.notice_seconds)
            return
        if isinstance(error, ActionSuperseded):
            # A newer press won: nothing failed, the panel shows nothing extra.
            message = f"button {button}: {label}: skipped for a newer press"
            self.record(device, "superseded", message, ok=False, reason=error.message, **fields)
            return
        where = f"{label} {error.where}" if error.where else label
        if error.where:
            fields["step"] = error.where
        message = f"button {button}: {where}: {error.message}"
        # A press the room's state makes pointless ("Not in a meeting") is history, not the
        # room's last error: nothing is wrong with the room (the page shows it "not done").
        pointless = isinstance(error, ActionNotApplicable) and not isinstance(
            error, ActionNotConfigured
        )
        if pointless:
            fields["result"] = "not_applicable"
        self.record(
            device,
            "refused",
            message,
            level=logging.INFO if pointless else logging.WARNING,
            error=None if pointless else f"{where}: {error.message}",
            ok=False,
            reason=error.message,
            **fields,
        )
        if panel is not None:
            panel.notice(button, error.message, self.notice_seconds)

    def _view_changed(self) -> None:
        view = self.machine.view
        for panel in self.panels.values():
            panel.update(view)
        changed, self._view_event = self._view_event, None
        if changed is not None:
            changed.set()
        if not self._status_queued:  # a burst of changes: one update, read when it runs
            self._status_queued = True
            self.later(self._status_changed)

    def _status_changed(self) -> None:
        self._status_queued = False
        self.history.emit({"type": "status", "room": room_info(self).model_dump(mode="json")})

    def record(self, source: str, kind: str, message: str, **fields: Any) -> None:
        """One history event (History.record); also for the app's own parts."""
        self.history.record(source, kind, message, **fields)

    # ---- the facade (control → web) -------------------------------------------------------

    def known_meeting(self) -> KnownMeeting | None:
        if self._known is None:
            return None
        status, code, title, at = self._known
        when = datetime.fromtimestamp(at).astimezone()
        return KnownMeeting(status=status, code=code, title=title, at=when)

    def status_model(self) -> RoomStatus:
        self.later.flush()
        return build_status(self, self.known_meeting())

    def status(self) -> dict[str, Any]:
        return self.status_model().dump()

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        self.later.flush()
        return self.history.recent(limit)

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        """Run one action (or a macro: {"action": [steps]}); raises ActionError on failure."""
        steps = action.get("action")
        name = "macro" if isinstance(steps, list) else str(steps)
        try:
            if isinstance(steps, list):
                result = await self.runner.run_macro([parse_action(s) for s in steps])
            else:
                result = await self.runner.run(parse_action(action))
        except ActionError as exc:
            if name in ACTION_MODELS or name == "macro":
                self.history.count_action(name, result_of(exc))
            raise
        self.history.count_action(name, "ok")
        self.record("api", "action", f"{name}: {result}", action=name, ok=True, outcome=result)
        return {"action": name, "result": result}

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        target = self.devices.get(device)
        if target is None:
            raise LookupError(f"unknown device {device!r}; devices: {', '.join(self.devices)}")
        try:
            reply = await target.command(command, *args)
        finally:
            panel = self.panels.get(device)
            if panel is not None:  # a test of a panel's LEDs or lines ends by itself
                panel.tested()
        self.views.after_command(device, command)  # a switched camera reports again
        message = f"{device} {command} {' '.join(map(str, args))}".strip()
        self.record("api", "device", message, device=device, command=command, args=list(args))
        return {
            "device": device,
            "command": command,
            "reply": None if reply is None else str(reply),
        }

    async def press(
        self, device: str, button: int, kind: ButtonPhase = ButtonPhase.PRESS
    ) -> dict[str, Any]:
        """A virtual button: the same path as a real panel's button event."""
        if device not in self.devices:
            raise LookupError(f"unknown device {device!r}; devices: {', '.join(self.devices)}")
        if kind not in ButtonPhase.__members__.values():
            raise ValueError(f"kind must be {spoken(ButtonPhase)}")
        handled = self.handler.handle(device, button, kind) if self.handler else False
        message = f"virtual {device} button {button} {kind}"
        self.record("api", "button", message, device=device, button=button, how=kind)
        return {"device": device, "button": button, "kind": kind, "handled": handled}

    def config_view(self) -> dict[str, Any]:
        data: dict[str, Any] = scrub(self.config.model_dump(mode="json"))
        return data

    def watch(self, callback: Watcher) -> Callable[[], None]:
        return self.history.watch(callback)


async def _send_to(device: Device, command: str, args: list[Any], extra: dict[str, Any]) -> object:
    return await device.command(command, *args, **extra)
