"""The session's picture of the room's meeting state, fed by Query data and events."""

from __future__ import annotations

from typing import Any, TypeVar

from roomagent.rooms.models import (
    LayoutInfo,
    LayoutSwitchInfo,
    MeetingInfo,
    MeetingModule,
    MeetingStatus,
    RoleType,
    RoomsEvent,
    SwitchType,
    Wire,
)

_W = TypeVar("_W", bound=Wire)

# Read-only stand-in while the module has no meeting_info (not a new model per property read).
_NO_INFO = MeetingInfo()

# What an ending event leaves (shared: models are replaced on change, never edited in place).
_IDLE_INFO = MeetingInfo(meeting_status=MeetingStatus.IDLE)
# An event's status goes to the watchers (the panel's LEDs) at once (settle_status); the
# validation and merge of the rest of its payload (codes, titles, people, the layout), the
# slowest step of an event on a process woken cold, waits this long: enough for the LED frame
# just written to reach the keypad, even one sharing this loop (the demo, the bench), short
# against anything a person reads. The session runs pending merges before its next frame.
MERGE_DELAY_S = 0.001
# Events after which the room is no longer in (or waiting for) a meeting.
_ENDING_EVENTS = frozenset({"LeaveMeeting", "DissolveMeeting", "LeaveWaitingRoom"})
# What they leave: meeting-only nodes vanish with the meeting; screens and the list stay.
_ENDED: dict[str, Any] = {"meeting_info": _IDLE_INFO, "self_info": None, "layout_info": None}


def _merge(old: _W | None, new: _W | None) -> _W | None:
    """`old` updated with the fields `new` actually carries, nested nodes merged the same way.

    Field by field on the models themselves: a dump of `new` would put plain dicts where
    nested models belong (model_copy does not validate), and the next event on that node
    would find a dict."""
    if new is None:
        return old
    if old is None:
        return new
    update: dict[str, Any] = {}
    for name in new.model_fields_set:
        value = getattr(new, name)
        if value is None:
            continue
        current = getattr(old, name, None)
        update[name] = _merge(current, value) if isinstance(value, Wire) else value
    return old.model_copy(update=update) if update else old


class MeetingMirror:
    """Meeting module state. `known` is False until the first Query after a (re)connect."""

    def __init__(self) -> None:
        self.module = MeetingModule()
        self.known = False
        # as_dict() of (module, known): every update compares before/after and observers ask
        # for it once more, so one event built it three times. The models are replaced on
        # every change, never edited in place, so the module's identity is the cache key.
        self._view: tuple[MeetingModule, bool, dict[str, Any]] | None = None

    # ---- readable views ----

    @property
    def _info(self) -> MeetingInfo:
        return self.module.meeting_info or _NO_INFO

    @property
    def status(self) -> MeetingStatus:
        status = self._info.meeting_status
        return MeetingStatus.IDLE if status is None else status

    @property
    def meeting_code(self) -> str | None:
        return self._info.meeting_code or None

    @property
    def formatted_meeting_code(self) -> str | None:
        return self._info.formatted_meeting_code or None

    @property
    def title(self) -> str | None:
        return self._info.meeting_title or None

    @property
    def host_present(self) -> bool | None:
        status = self._info.host_status
        return None if status is None else bool(status)

    @property
    def is_host(self) -> bool:
        me = self.module.self_info
        return bool(me and me.host)

    @property
    def is_co_host(self) -> bool:
        me = self.module.self_info
        return bool(me and me.co_host)

    @property
    def role(self) -> RoleType | None:
        me = self.module.self_info
        return me.role_type if me else None

    @property
    def layout(self) -> SwitchType | None:
        layout = self.module.layout_info
        switch = layout.layout_switch_info if layout else None
        return switch.current_switch_type if switch else None

    def as_dict(self) -> dict[str, Any]:
        """What the diagnostics page and `status` show. Never the meeting passcode."""
        return dict(self._shown())  # a copy: callers may keep or change theirs

    def _shown(self) -> dict[str, Any]:
        view = self._view
        if view is None or view[0] is not self.module or view[1] != self.known:
            view = self._view = (self.module, self.known, self._build_dict())
        return view[2]

    def _build_dict(self) -> dict[str, Any]:
        status = self.status
        layout = self.layout
        role = self.role
        return {
            "known": self.known,
            "status": status.label,
            "status_code": int(status),
            "meeting_code": self.meeting_code,
            "formatted_meeting_code": self.formatted_meeting_code,
            "title": self.title,
            "host_present": self.host_present,
            "is_host": self.is_host,
            "is_co_host": self.is_co_host,
            "role": role.label if role is not None else None,
            "layout": int(layout) if layout is not None else None,
            "layout_name": layout.label if layout is not None else None,
        }

    # ---- updates (each returns whether the visible state changed) ----

    def replace(self, module: MeetingModule) -> bool:
        before = self._shown()  # the cached dict itself: a change builds a new one
        self.module = module
        self.known = True
        return self._shown() != before

    def forget(self) -> bool:
        """On disconnect: keep the last picture but mark it stale."""
        before = self.known
        self.known = False
        return before

    def settle_status(self, event: RoomsEvent) -> bool:
        """Apply the meeting status an event settles on before its payload is validated: the
        name of an ending or waiting-room event, or a join's plain `meeting_status` number
        (or none). The panel's LEDs follow the status, so they need not wait for the
        validation of the whole payload (the slowest step of an event on a cold process);
        `apply_event` then merges the payload as before. True when the mirror changed."""
        status = _settled_status(event)
        if status is None:
            return False
        module = self.module
        info = module.meeting_info
        if event.name in _ENDING_EVENTS:
            if info is _IDLE_INFO and module.self_info is None and module.layout_info is None:
                return False  # ended already
            self.module = module.model_copy(update=_ENDED)
            return True
        if info is not None and info.meeting_status is status:
            return False
        info = (info or MeetingInfo()).model_copy(update={"meeting_status": status})
        self.module = module.model_copy(update={"meeting_info": info})
        return True

    def apply_event(self, event: RoomsEvent) -> bool:
        """Update from an Event/Meeting. Raises pydantic.ValidationError on wrong types."""
        if event.module != "Meeting":
            return False
        before = self._shown()
        payload = event.meeting()
        module = self.module
        if event.name == "JoinMeetingCompleted":
            info = _merge(module.meeting_info, payload.meeting_info) or MeetingInfo()
            if payload.meeting_info is None or payload.meeting_info.meeting_status is None:
                info = info.model_copy(update={"meeting_status": MeetingStatus.IN_MEETING})
            me = _merge(module.self_info, payload.self_user_info or payload.self_info)
            module = module.model_copy(update={"meeting_info": info, "self_info": me})
        elif event.name == "JoinWaitingRoom":
            info = _merge(module.meeting_info, payload.meeting_info) or MeetingInfo()
            info = info.model_copy(update={"meeting_status": MeetingStatus.WAITING_ROOM})
            module = module.model_copy(update={"meeting_info": info})
        elif event.name in _ENDING_EVENTS:
            module = module.model_copy(update=_ENDED)
        elif event.name == "LayoutSwitchChanged":
            module = module.model_copy(update={"layout_info": self._layout_from(payload, event)})
        self.module = module
        return self._shown() != before

    def _layout_from(self, payload: Any, event: RoomsEvent) -> LayoutInfo:
        layout = _merge(self.module.layout_info, payload.layout_info) or LayoutInfo()
        switch = _merge(layout.layout_switch_info, payload.layout_switch_info)
        # Some clients put the new type right in the payload: accept either name.
        for key in ("current_switch_type", "switch_type"):
            value = event.payload.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                switch = (switch or LayoutSwitchInfo()).model_copy(
                    update={"current_switch_type": SwitchType(value)}
                )
                break
        return layout.model_copy(update={"layout_switch_info": switch})


def _settled_status(event: RoomsEvent) -> MeetingStatus | None:
    """The status `settle_status` may apply ahead of validation; None: only the payload tells."""
    if event.module != "Meeting":
        return None
    if event.name in _ENDING_EVENTS:
        return MeetingStatus.IDLE
    if event.name == "JoinWaitingRoom":
        return MeetingStatus.WAITING_ROOM
    if event.name != "JoinMeetingCompleted":
        return None
    info = event.payload.get("meeting_info")
    raw = info.get("meeting_status") if isinstance(info, dict) else None
    if raw is None:
        return MeetingStatus.IN_MEETING  # as apply_event: a join without a status is in it
    # A plain int is what validation accepts as is (an unknown one is kept as UNKNOWN_<n>);
    # anything else waits for the validation's verdict.
    return MeetingStatus(raw) if type(raw) is int else None
