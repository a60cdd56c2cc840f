"""The simulated Rooms client's meeting: its state, the data.meeting tree and the six actions.

The meeting half of RoomsSimulator (roomagent/sim/rooms.py), kept apart from the wire: the
actions check their params and the state, then schedule a transition through `_later`, which
emits the seed's events through `_emit`; the simulator supplies both hooks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Literal

import anyio.lowlevel

from roomagent.rooms import codes
from roomagent.rooms.models import MeetingStatus, RoleType

Role = Literal["host", "co-host", "attendee"]
_ROLE_TYPES: dict[str, RoleType] = {
    "host": RoleType.HOST,
    "co-host": RoleType.CO_HOST,
    "attendee": RoleType.ATTENDEE,
}


class Refusal(Exception):
    """A request the client answers with a non-zero error_code (not a JSON-RPC error)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or codes.describe(code))
        self.code = code
        self.message = message or codes.describe(code)


def format_code(code: str) -> str:
    """123456789 → "123 456 789" (how the Rooms client shows a meeting code)."""
    return " ".join(code[i : i + 3] for i in range(0, len(code), 3))


class SimulatedMeeting:
    """Meeting state and actions; RoomsSimulator sets the knobs and supplies the hooks."""

    # Behaviour knobs, set in RoomsSimulator.__init__ (tests flip them).
    logged_in: bool
    can_start: bool
    waiting_room_codes: set[str]
    meeting_passwords: dict[str, str]
    join_role: Role
    join_participants: int
    host_present: bool
    pmi_code: str

    # ---- hooks the simulator supplies ----

    def _later(self, transition: Callable[[], None]) -> None:
        raise NotImplementedError

    def _emit(self, name: str, payload: dict[str, Any], module: str = "Meeting") -> None:
        raise NotImplementedError

    # ---- state ----

    def reset_state(self) -> None:
        self.status = MeetingStatus.IDLE
        self.role: Role = "attendee"
        self.participants = 1
        self.switch_type = 1
        self.show_voice_active = True
        self.meeting_code = ""
        self.meeting_title = ""
        self.meeting_type = 0
        self.meeting_password = ""
        self.begin_time = 0
        self.mic_on = True
        self.camera_on = True

    def meeting_tree(self) -> dict[str, Any]:
        """data.meeting as the seed's example shapes it."""
        in_meeting = self.status == MeetingStatus.IN_MEETING
        role_type = _ROLE_TYPES[self.role] if in_meeting else RoleType.UNKNOWN
        enable = in_meeting and self.participants >= 2
        host_status = self.role == "host" or self.host_present
        return {
            "multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""},
            "layout_info": {
                "main_screen_layout_info": {
                    "layout_model": 0,
                    "show_small_view": True,
                    "layout_type": 0,
                },
                "layout_switch_info": {
                    "current_switch_type": self.switch_type,
                    "layout_switch_enable": enable,
                    "layout_switch_list": [
                        {"switch_type": t, "enable": enable}
                        | ({"show_voice_active": self.show_voice_active} if t == 2 else {})
                        for t in range(1, 8)
                    ],
                },
            },
            "meeting_info": self._meeting_info() | {"host_status": int(bool(host_status))},
            "self_info": {
                "share_user_info": {
                    "app_uid": "sim-uid-1",
                    "app_id": "sim-corp",
                    "user_id": "sim-user-1" if in_meeting else "",
                    "host": in_meeting and self.role == "host",
                    "co_host": in_meeting and self.role == "co-host",
                    "instance_id": 5,
                    "user_type": 1,
                    "is_creator": in_meeting and self.role == "host",
                    "role_type": int(role_type),
                    "video_on": in_meeting and self.camera_on,
                    "audio_on": in_meeting and self.mic_on,
                    "screen_sharing": False,
                    "screen_share_type": 0,
                    "web_sharing": False,
                    "nickname": "Simulated Room",
                }
            },
            "meeting_list": [
                {
                    "meeting_title": "Weekly sync",
                    "meeting_time": {"begin_time": 1686207304, "end_time": 1686210904},
                    "meeting_creator_name": "Alice",
                    "meeting_code": "612345789",
                    "meeting_id": "1000001",
                    "meeting_type": 1,
                    "formatted_meeting_code": format_code("612345789"),
                }
            ],
        }

    def _meeting_info(self) -> dict[str, Any]:
        active = self.status in (MeetingStatus.IN_MEETING, MeetingStatus.WAITING_ROOM)
        code = self.meeting_code if active else ""
        return {
            "meeting_status": int(self.status),
            "meeting_type": self.meeting_type if active else -1,
            "meeting_title": self.meeting_title if active else "",
            "meeting_code": code,
            "meeting_password": self.meeting_password if active else "",
            "meeting_time": {
                "begin_time": self.begin_time if active else 0,
                "end_time": self.begin_time + 3600 if active else 0,
            },
            "formatted_meeting_code": format_code(code) if code else "",
            "meeting_creator_name": ("Simulated Room" if self.role == "host" else "Alice")
            if active
            else "",
            "meeting_url": f"https://meeting.tencent.com/dm/{code}" if code else "",
        }

    def _self_user_info(self) -> dict[str, Any]:
        # Events carry the flat form (the Query example nests it): clients must take both.
        return dict(self.meeting_tree()["self_info"]["share_user_info"])

    # ---- the six actions ----

    def _call(self, action: Any, action_params: Any) -> None:
        if action_params is None:
            action_params = {}
        if not isinstance(action_params, dict):
            raise Refusal(codes.INVALID_PARAMS, "action_params must be an object")
        handler = self._actions().get(action) if isinstance(action, str) else None
        if handler is None:
            raise Refusal(codes.UNKNOWN_METHOD, f"unknown action {action}")
        handler(action_params)

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        return {
            "StartMeeting": self._start_meeting,
            "JoinMeeting": self._join_meeting,
            "DissolveMeeting": self._dissolve_meeting,
            "LeaveMeeting": self._leave_meeting,
            "LeaveWaitingRoom": self._leave_waiting_room,
            "SwitchLayout": self._switch_layout,
        }

    def _require(self, status: MeetingStatus) -> None:
        if self.status != status:
            raise Refusal(codes.WRONG_MEETING_STATE, f"not allowed while {self.status.label}")

    def _start_meeting(self, p: dict[str, Any]) -> None:
        kind = p.get("meeting_type", "instant")
        if kind not in ("instant", "pmi"):
            raise Refusal(codes.INVALID_PARAMS, "meeting_type must be instant or pmi")
        if not (self.logged_in and self.can_start):
            raise Refusal(codes.NO_MEETING_CAPABILITY)
        self._require(MeetingStatus.IDLE)
        self.status = MeetingStatus.JOINING
        code = self.pmi_code if kind == "pmi" else _new_code()

        def enter() -> None:
            self._enter(code, "Simulated Room's quick meeting", "host", 1, password="")
            self._emit_joined()

        self._later(enter)

    def _join_meeting(self, p: dict[str, Any]) -> None:
        code, password = p.get("meeting_code"), p.get("password", "")
        if not isinstance(code, str) or not code.isdigit():
            raise Refusal(codes.INVALID_PARAMS, "meeting_code must be a string of digits")
        if not isinstance(password, str):
            raise Refusal(codes.INVALID_PARAMS, "password must be a string")
        for key in ("mic_enable", "camera_enable"):
            if key in p and not isinstance(p[key], bool):
                raise Refusal(codes.INVALID_PARAMS, f"{key} must be true or false")
        if not self.logged_in:
            raise Refusal(codes.NO_MEETING_CAPABILITY)
        self._require(MeetingStatus.IDLE)
        if self.meeting_passwords.get(code, password) != password:
            raise Refusal(codes.INVALID_PARAMS, "wrong meeting password")
        self.mic_on = p.get("mic_enable", True)
        self.camera_on = p.get("camera_enable", True)
        self.status = MeetingStatus.JOINING

        def arrive() -> None:
            if code in self.waiting_room_codes:
                self._enter(code, f"Meeting {format_code(code)}", self.join_role, 0, password)
                self.status = MeetingStatus.WAITING_ROOM
                self._emit("JoinWaitingRoom", {"meeting_info": self._meeting_info()})
                return
            self._enter(
                code,
                f"Meeting {format_code(code)}",
                self.join_role,
                self.join_participants,
                password,
            )
            self._emit_joined()

        self._later(arrive)

    def _dissolve_meeting(self, p: dict[str, Any]) -> None:
        self._require(MeetingStatus.IN_MEETING)
        if self.role not in ("host", "co-host"):
            raise Refusal(codes.NOT_HOST)
        self._later(lambda: self._end("DissolveMeeting"))

    def _leave_meeting(self, p: dict[str, Any]) -> None:
        self._require(MeetingStatus.IN_MEETING)
        self._later(lambda: self._end("LeaveMeeting"))

    def _leave_waiting_room(self, p: dict[str, Any]) -> None:
        self._require(MeetingStatus.WAITING_ROOM)
        self._later(lambda: self._end("LeaveWaitingRoom"))

    def _switch_layout(self, p: dict[str, Any]) -> None:
        kind, voice = p.get("switch_type"), p.get("show_voice_active")
        if isinstance(kind, bool) or not isinstance(kind, int) or not 1 <= kind <= 7:
            raise Refusal(codes.INVALID_PARAMS, "switch_type must be an integer 1-7")
        if voice is not None and not isinstance(voice, bool):
            raise Refusal(codes.INVALID_PARAMS, "show_voice_active must be true or false")
        self._require(MeetingStatus.IN_MEETING)
        if self.participants < 2:
            raise Refusal(codes.TOO_FEW_PARTICIPANTS)

        def switch() -> None:
            first_speaker = kind == 2 and self.switch_type != 2
            self.switch_type = kind
            if kind == 2:
                # Seed: the first switch to the speaker layout always shows the small window.
                self.show_voice_active = True if first_speaker or voice is None else voice
            info = self.meeting_tree()["layout_info"]["layout_switch_info"]
            self._emit("LayoutSwitchChanged", {"layout_switch_info": info})

        self._later(switch)

    # ---- transitions and events ----

    def _enter(self, code: str, title: str, role: Role, participants: int, password: str) -> None:
        self.status = MeetingStatus.IN_MEETING
        self.meeting_code = code
        self.meeting_title = title
        self.role = role
        self.participants = participants
        self.meeting_password = password
        self.begin_time = int(time.time())

    def _end(self, event: str) -> None:
        info = self._meeting_info()
        self.reset_state()
        self._emit(event, {"meeting_info": info | {"meeting_status": 0}})

    def _emit_joined(self) -> None:
        self._emit(
            "JoinMeetingCompleted",
            {
                "meeting_info": self._meeting_info(),
                "self_user_info": self._self_user_info(),
                "device_info": {"device_name": "Simulated Room"},
                "mic_info": {"enable": self.mic_on},
                "speaker_info": {"enable": True},
                "camera_info": {"enable": self.camera_on},
            },
        )

    # ---- what the far end does ----

    async def admit(self) -> None:
        """The host lets the room in from the waiting room."""
        if self.status != MeetingStatus.WAITING_ROOM:
            raise RuntimeError("the room is not in the waiting room")
        self.status = MeetingStatus.IN_MEETING
        self.participants = max(self.join_participants, 2)
        self._emit_joined()
        await anyio.lowlevel.checkpoint()

    async def end_meeting(self) -> None:
        """The host ends the meeting from elsewhere: the room gets DissolveMeeting."""
        if self.status in (MeetingStatus.IN_MEETING, MeetingStatus.WAITING_ROOM):
            self._end("DissolveMeeting")
        await anyio.lowlevel.checkpoint()


def _new_code() -> str:
    return str(random.randint(100_000_000, 999_999_999))
