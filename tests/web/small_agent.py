"""A small but real agent behind the web facade, for driving the server in tests.

Its status and events are built on the real typed model (roomagent.control.model), so it
cannot drift from what the real room core sends.

It keeps a meeting state, devices, events and watchers the way the real Agent does, validates
actions with the real action schema, and refuses like the Rooms client does — so the web
server is exercised through its one interface without a mock library.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import anyio

from roomagent.control.actions import ActionFailed, ActionNotApplicable, parse_action
from roomagent.control.model import (
    CalendarStatus,
    DeviceStatus,
    HistoryEvent,
    MeetingStatusInfo,
    RoomInfo,
    RoomsLinkStatus,
    RoomStatus,
)
from roomagent.control.state import RoomState
from roomagent.logsetup import register_secret
from roomagent.rooms.errors import RoomsRefused

ROOMS_PASSWORD = "Rooms-Secret-4711"
MEETING_PASSCODE = "Pass-9135"


class SmallAgent:
    def __init__(self, room: str = "Huddle 3A") -> None:
        register_secret(ROOMS_PASSWORD)
        register_secret(MEETING_PASSCODE)
        self.room = room
        self.started = time.monotonic()
        self.link = "ready"
        self.meeting: dict[str, Any] = {"status": "idle"}
        self.devices: dict[str, dict[str, Any]] = {
            "cam1": {"kind": "camera", "profile": "sony-visca", "port": "/dev/ttyUSB1"},
            "panel": {"kind": "panel", "profile": "generic-ascii-keypad", "port": "/dev/ttyUSB0"},
        }
        for device in self.devices.values():
            device.update(online=True, reason=None, counters={"frames_in": 0, "errors": 0})
        self.calendar: dict[str, Any] | None = None
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.actions: dict[str, dict[str, int]] = {}
        self.events: list[dict[str, Any]] = []
        self.commands: list[tuple[str, str, list[Any]]] = []
        self.presses: list[tuple[str, int, str]] = []
        self.refuse_next: RoomsRefused | None = None
        self.hold: anyio.Event | None = None  # set: perform waits for it (a slow join)
        self.holding = anyio.Event()
        self._watchers: list[Callable[[dict[str, Any]], None]] = []
        self.status_builds = 0  # how often a status was built (the server should share them)

    # -- the facade ---------------------------------------------------------------------

    def status_model(self) -> RoomStatus:
        """Built on the real typed model (roomagent.control.model.RoomStatus)."""
        self.status_builds += 1
        state = (
            RoomState.ROOMS_OFFLINE if self.link != "ready" else RoomState(self.meeting["status"])
        )
        meeting = {k: v for k, v in self.meeting.items() if k != "password"}
        return RoomStatus(
            version="0.1.0",
            uptime_s=round(time.monotonic() - self.started, 1),
            room=RoomInfo(name=self.room, id="room-3a", state=state),
            rooms=RoomsLinkStatus(
                link=self.link,
                url="ws://127.0.0.1:6295",
                last_error=None if self.link == "ready" else "connection refused",
                counters={"frames_in": 12, "reconnects": 0},
            ),
            meeting=MeetingStatusInfo.model_validate(meeting),
            devices=[DeviceStatus(name=name, **info) for name, info in self.devices.items()],
            calendar=None
            if self.calendar is None
            else CalendarStatus.model_validate(self.calendar),
            actions=self.actions,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
        )

    def status(self) -> dict[str, Any]:
        status = self.status_model().dump()
        # A careless agent could leak the passcode; the server must still mask it.
        if "password" in self.meeting:
            status["meeting"]["password"] = self.meeting["password"]
        return status

    def recent_events(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.events[-limit:]

    async def perform(self, action: dict[str, Any]) -> dict[str, Any]:
        parsed = parse_action(action)
        name = parsed.action
        if self.hold is not None:
            self.holding.set()
            await self.hold.wait()
        if self.refuse_next is not None:
            refusal, self.refuse_next = self.refuse_next, None
            self._event(
                "rooms", "refused", str(refusal), action=name, ok=False, reason=refusal.message
            )
            raise ActionFailed(str(refusal)) from refusal
        if name.startswith("calendar.") and self.calendar is None:
            raise ActionNotApplicable("no room calendar configured")
        if name == "calendar.book_now":
            return self._book(int(action.get("minutes", 30)))
        if name == "calendar.end_early":
            return self._end_booking()
        if name == "meeting.join_next":
            booked = (self.calendar or {}).get("current") or {}
            action = {**action, "meeting_code": booked.get("meeting_code", "")}
        if name in ("meeting.start", "meeting.join", "meeting.join_next"):
            if self.meeting["status"] != "idle":
                raise ActionNotApplicable("Already in a meeting")
            code = action.get("meeting_code", "123456789")
            self.meeting = {
                "status": "in_meeting",
                "code": str(code).replace(" ", ""),
                "title": "Weekly sync",
                "host_present": True,
                "password": MEETING_PASSCODE,
            }
        elif name in ("meeting.leave", "meeting.dissolve"):
            if self.meeting["status"] != "in_meeting":
                raise ActionNotApplicable("Not in a meeting")
            self.meeting = {"status": "idle"}
        elif name.startswith("camera."):
            camera = action["camera"]
            if camera not in self.devices:
                raise ActionFailed(f"no device named {camera!r}")
            self.commands.append((camera, name, [action.get("preset")]))
        return self._done(name, "done")

    # Like the room calendar: a booking from now, refused in words when the room is taken.
    def _book(self, minutes: int) -> dict[str, Any]:
        calendar = self.calendar or {}
        now = datetime.now().astimezone()
        end = now + timedelta(minutes=minutes)
        current, upcoming = calendar.get("current"), calendar.get("next")
        if current:
            raise ActionNotApplicable(f"the room is booked until {current['end'][11:16]}")
        if upcoming and datetime.fromisoformat(upcoming["start"]) < end:
            raise ActionNotApplicable(f"the room is booked from {upcoming['start'][11:16]}")
        booking = {
            "order_id": f"adhoc-{len(calendar.get('today', []))}",
            "title": "Ad-hoc meeting",
            "start": now.isoformat(),
            "end": end.isoformat(),
            "booked_by": None,
            "meeting_code": None,
        }
        calendar.update(current=booking, today=[booking, *calendar.get("today", [])])
        return self._done("calendar.book_now", f"Room booked until {end:%H:%M}")

    def _end_booking(self) -> dict[str, Any]:
        calendar = self.calendar or {}
        if not calendar.get("current"):
            raise ActionNotApplicable("no booking in progress")
        calendar["current"] = None
        now = datetime.now().astimezone()
        return self._done("calendar.end_early", f"Booking ended at {now:%H:%M}")

    def _done(self, name: str, result: str) -> dict[str, Any]:
        """An API action done, recorded as the real agent does."""
        self._event("api", "action", f"{name}: {result}", action=name, ok=True, outcome=result)
        return {"action": name, "result": result}

    async def device_command(self, device: str, command: str, args: list[Any]) -> dict[str, Any]:
        if device not in self.devices:
            raise KeyError(f"no device named {device!r}")
        self.commands.append((device, command, list(args)))
        message = f"{device} {command} {' '.join(map(str, args))}".strip()
        self._event("api", "device", message, device=device, command=command, args=list(args))
        return {"device": device, "reply": "ok"}

    async def press(self, device: str, button: int, kind: str = "press") -> None:
        self.presses.append((device, button, kind))
        message = f"virtual {device} button {button} {kind}"
        self._event("api", "button", message, device=device, button=button, how=kind)

    def config_view(self) -> dict[str, Any]:
        return {
            "room": {"name": self.room},
            "rooms": {"url": "ws://127.0.0.1:6295", "password": "***"},
            "web": {"user": "admin", "password_hash": "***", "password_env": "X"},
        }

    def watch(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback)

    # -- test controls -------------------------------------------------------------------

    def set_device(self, name: str, online: bool, reason: str | None = None) -> None:
        # The real agent's wording: "cam1 online: cam1 online on /dev/…", "cam1 offline: why",
        # and its fields.
        self.devices[name].update(online=online, reason=reason)
        port = self.devices[name]["port"]
        detail = f"{name} online on {port}" if online else reason or "not answering"
        fields = {"port": port} if online else {"reason": reason or "not answering"}
        kind = "online" if online else "offline"
        self._event(name, kind, f"{name} {kind}: {detail}", device=name, **fields)

    def set_link(self, link: str, reason: str | None = None) -> None:
        """The Rooms link changes, recorded like the real agent does."""
        self.link = link
        ready = link == "ready"
        message = "Rooms link ready" if ready else f"Rooms client offline: {reason}"
        fields = {} if ready else {"reason": reason}
        self._event("rooms", "link", message, link=link, **fields)

    def fail(self, source: str, kind: str, message: str, seconds_ago: float = 0) -> None:
        """An error the agent records in its history and keeps as its last error."""
        self.last_error = message
        self._event(source, kind, message, seconds_ago)
        self.last_error_at = self.events[-1]["ts"]

    def _event(
        self, source: str, kind: str, message: str, seconds_ago: float = 0, **fields: Any
    ) -> None:
        """One history event: the real agent's {ts, source, kind, message} plus its
        structured fields (roomagent.control.model.EVENT_FIELDS)."""
        when = datetime.now().astimezone() - timedelta(seconds=seconds_ago)
        ts = when.isoformat(timespec="milliseconds")
        event = HistoryEvent(ts=ts, source=source, kind=kind, message=message, **fields)
        self.events.append(event.dump())
        self.changed({"kind": kind, "source": source})

    def changed(self, update: dict[str, Any]) -> None:
        for callback in list(self._watchers):
            callback(update)
