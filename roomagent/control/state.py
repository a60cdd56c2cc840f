"""The room state machine: what the room is doing, derived from the Rooms link, the meeting
mirror, an in-flight join and device health. Feedback and bindings only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# The vocabularies live in config (the config names them); the room core re-exports them.
from roomagent.config.vocab import RoomCondition, RoomState

# CSAPI meeting_status → room state (rooms-csapi.md §3). 4 (pre-meeting screen cast) and
# 5 (pre-meeting PSTN call) are not meetings a room controller can leave: treat as idle.
_MEETING_STATUS = {
    0: RoomState.IDLE,
    1: RoomState.IN_MEETING,
    2: RoomState.JOINING,
    3: RoomState.WAITING_ROOM,
    4: RoomState.IDLE,
    5: RoomState.IDLE,
}


@dataclass(frozen=True)
class RoomView:
    """Everything feedback shows, as one immutable value (compared to detect changes)."""

    state: RoomState = RoomState.ROOMS_OFFLINE
    room: str = ""
    meeting_code: str | None = None
    meeting_title: str | None = None
    host_present: bool | None = None
    devices_offline: frozenset[str] = frozenset()
    next_title: str | None = None
    next_start: str | None = None  # "HH:MM" local time
    next_code: str | None = None
    rooms_error: str | None = None
    join_in_flight: bool = False

    def conditions(self, exclude_device: str | None = None) -> set[str]:
        """The `when` conditions that hold now. A panel's own absence is not shown on it
        (it could not show anything), so `exclude_device` drops it from device_offline."""
        found = {self.state.value}
        if self.devices_offline - {exclude_device}:
            found.add(RoomCondition.DEVICE_OFFLINE)
        return found

    def fields(self) -> dict[str, str]:
        """Values for text templates; missing ones render as empty strings."""
        return {
            "room": self.room,
            "state": self.state.value,
            "meeting_code": format_meeting_code(self.meeting_code),
            "meeting_title": self.meeting_title or "",
            "next_title": self.next_title or "",
            "next_start": self.next_start or "",
            "next_code": format_meeting_code(self.next_code),
            # "none" rather than blank so a line such as "Next: {next_meeting}" reads well.
            "next_meeting": " ".join(p for p in (self.next_start, self.next_title) if p) or "none",
            "offline_devices": ", ".join(sorted(self.devices_offline)),
            "rooms_error": self.rooms_error or "",
        }


def format_meeting_code(code: str | None) -> str:
    """Show 9-digit codes as people read them: 123 456 789."""
    if not code:
        return ""
    digits = code.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) == 9:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return code


def meeting_state(status: object) -> RoomState:
    """Map a mirror status (IntEnum or int) to a room state; unknown values count as idle."""
    try:
        return _MEETING_STATUS.get(int(status), RoomState.IDLE)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return RoomState.IDLE


TEMPLATE_FIELDS = tuple(RoomView().fields())


@dataclass
class RoomStateMachine:
    """Holds the inputs and derives the RoomView; `update` returns True when it changed."""

    link_ready: bool = False
    meeting_status: RoomState = RoomState.IDLE
    join_in_flight: bool = False
    devices_offline: set[str] = field(default_factory=set)
    view: RoomView = field(default_factory=RoomView)

    def derive_state(self) -> RoomState:
        if not self.link_ready:
            return RoomState.ROOMS_OFFLINE
        if self.meeting_status is RoomState.IDLE and self.join_in_flight:
            # The client reports "joining" late or not at all: show our own join at once.
            return RoomState.JOINING
        return self.meeting_status

    def update(self, **changes: object) -> bool:
        """Apply view field changes (meeting_code, next_title, …) and re-derive the state."""
        old = self.view
        view_changes = {k: v for k, v in changes.items() if k in RoomView.__dataclass_fields__}
        self.view = replace(
            self.view,
            **view_changes,  # type: ignore[arg-type]
            state=self.derive_state(),
            devices_offline=frozenset(self.devices_offline),
            join_in_flight=self.join_in_flight,
        )
        return self.view != old

    def set_link(self, ready: bool, error: str | None = None) -> bool:
        self.link_ready = ready
        return self.update(rooms_error=error)

    def set_meeting(
        self, status: object, code: str | None, title: str | None, host_present: bool | None
    ) -> bool:
        self.meeting_status = meeting_state(status)
        in_meeting = self.meeting_status in (RoomState.IN_MEETING, RoomState.WAITING_ROOM)
        return self.update(
            meeting_code=code if in_meeting else None,
            meeting_title=title if in_meeting else None,
            host_present=host_present if in_meeting else None,
        )

    def set_join_in_flight(self, flag: bool) -> bool:
        self.join_in_flight = flag
        return self.update()

    def set_device(self, name: str, online: bool) -> bool:
        if online:
            self.devices_offline.discard(name)
        else:
            self.devices_offline.add(name)
        return self.update()
