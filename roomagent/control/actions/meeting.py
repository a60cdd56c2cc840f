"""Meeting actions: each becomes one Call/Meeting on the Rooms session (rooms-csapi.md §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from roomagent.control.actions.base import (
    ActionHost,
    ActionModel,
    ActionNotApplicable,
    RoomsRequest,
    required,
)
from roomagent.control.state import RoomState

if TYPE_CHECKING:
    from roomagent.control.actions.runner import ActionRunner

ROOMS_OFFLINE = "Rooms client offline"


class _MeetingAction(ActionModel):
    # check, prepared request, session call: plain code and asyncio up to the frame's send
    # (tests/control/test_hot_path.py holds it to that).
    eager: ClassVar[bool] = True

    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        if state is RoomState.ROOMS_OFFLINE:
            return ROOMS_OFFLINE
        return None if state is RoomState.IN_MEETING else "Not in a meeting"

    @required
    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        """The Call/Meeting that carries it out in `state`."""
        raise NotImplementedError

    async def run(self, runner: ActionRunner) -> str:
        return await runner.call(self)


class _JoinAction(_MeetingAction):
    """Starting or joining: one at a time, only from an idle room."""

    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        if state is RoomState.ROOMS_OFFLINE:
            return ROOMS_OFFLINE
        if join_busy or state is RoomState.JOINING:
            return "Join already in progress"
        return None if state is RoomState.IDLE else "Already in a meeting"

    def join_code(self, host: ActionHost) -> str | None:
        """The code to join, when it comes from outside the action (the calendar)."""
        return None

    async def run(self, runner: ActionRunner) -> str:
        return await runner.join(self)


class MeetingStart(_JoinAction):
    """Start an instant meeting (or the room's personal meeting room)."""

    action: Literal["meeting.start"]
    meeting_type: Literal["instant", "pmi"] = "instant"

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        return RoomsRequest("StartMeeting", {"meeting_type": self.meeting_type})


class MeetingJoin(_JoinAction):
    """Join a meeting by its code."""

    action: Literal["meeting.join"]
    meeting_code: str = Field(
        pattern=r"^[0-9][0-9 \-]{4,18}[0-9]$",
        description='a quoted string of 6-20 digits, e.g. "123456789"',
    )
    password: str = ""
    mic_enable: bool = True
    camera_enable: bool = True

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        params = {
            "meeting_code": self.meeting_code.replace(" ", "").replace("-", ""),
            "password": self.password,
            "mic_enable": self.mic_enable,
            "camera_enable": self.camera_enable,
        }
        return RoomsRequest("JoinMeeting", params)


class MeetingJoinNext(_JoinAction):
    """Join the current or next booked meeting that carries a meeting code (calendar)."""

    action: Literal["meeting.join_next"]
    mic_enable: bool = True
    camera_enable: bool = True

    def join_code(self, host: ActionHost) -> str | None:
        target = host.join_target()
        if target is None:
            raise ActionNotApplicable("No booked meeting with a code")
        return target[0]

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        params: dict[str, Any] = {"meeting_code": join_code or "", "password": ""}
        params |= {"mic_enable": self.mic_enable, "camera_enable": self.camera_enable}
        return RoomsRequest("JoinMeeting", params)


class MeetingLeave(_MeetingAction):
    """Leave the meeting (in the waiting room: leave the waiting room)."""

    action: Literal["meeting.leave"]

    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        if state is RoomState.ROOMS_OFFLINE:
            return ROOMS_OFFLINE
        # Leave in the waiting room means "leave the waiting room": what a person expects.
        ok = (RoomState.IN_MEETING, RoomState.WAITING_ROOM)
        return None if state in ok else "Not in a meeting"

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        name = "LeaveWaitingRoom" if state is RoomState.WAITING_ROOM else "LeaveMeeting"
        return RoomsRequest(name, {})


class MeetingDissolve(_MeetingAction):
    """End the meeting for everyone (host or co-host only)."""

    action: Literal["meeting.dissolve"]

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        return RoomsRequest("DissolveMeeting", {})


class MeetingLeaveWaitingRoom(_MeetingAction):
    """Leave the waiting room."""

    action: Literal["meeting.leave_waiting_room"]

    def refusal(self, state: RoomState, join_busy: bool) -> str | None:
        if state is RoomState.ROOMS_OFFLINE:
            return ROOMS_OFFLINE
        return None if state is RoomState.WAITING_ROOM else "Not in the waiting room"

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        return RoomsRequest("LeaveWaitingRoom", {})


class MeetingLayout(_MeetingAction):
    """Switch the screen layout (switch_type 1 grid, 2 speaker, 3 speaker variant, 4 list
    right, 5 top L, 6 bottom L, 7 picture-in-frame)."""

    action: Literal["meeting.layout"]
    switch_type: int = Field(ge=1, le=7)
    show_voice_active: bool | None = None

    def request(self, state: RoomState, join_code: str | None = None) -> RoomsRequest:
        layout: dict[str, Any] = {"switch_type": self.switch_type}
        if self.show_voice_active is not None:
            layout["show_voice_active"] = self.show_voice_active
        return RoomsRequest("SwitchLayout", layout)


JoinAction = _JoinAction
MeetingAction = _MeetingAction
