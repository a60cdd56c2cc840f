"""Wire models of the CSAPI Meeting module: enums, Query data, action_params, events.

Tolerant on the way in (extra fields ignored, missing fields None, unknown enum values kept
as UNKNOWN_<n>, both nestings the seed shows; peer text bounded and cleaned, rooms.text);
strict on the way out (action_params are validated before anything is sent).
`meeting_password` / `password` never appear in a repr or a display dict in clear.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from roomagent.rooms.errors import RoomsBadRequest
from roomagent.rooms.text import LIST_MAX, Code, Name, Title, Url, cut_list

# Keys whose values are meeting passcodes: masked wherever data is shown to people.
SECRET_KEYS = frozenset({"meeting_password", "password"})
MASK = "***"


def masked(data: Any) -> Any:
    """A copy of `data` with every non-empty secret value replaced by "***"."""
    if isinstance(data, dict):
        return {
            k: (MASK if k in SECRET_KEYS and v not in (None, "") else masked(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data


class TolerantIntEnum(enum.IntEnum):
    """An IntEnum that keeps values newer clients send as UNKNOWN_<n> instead of failing."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            member = int.__new__(cls, value)
            member._name_ = f"UNKNOWN_{value}"
            member._value_ = value
            return member
        return None

    @property
    def label(self) -> str:
        return self.name.lower()


class MeetingStatus(TolerantIntEnum):
    IDLE = 0  # 会前: pre-meeting
    IN_MEETING = 1
    JOINING = 2
    WAITING_ROOM = 3
    SCREEN_CAST = 4  # pre-meeting screen cast
    PSTN_CALL = 5  # pre-meeting PSTN call


class MeetingType(TolerantIntEnum):
    UNKNOWN = -1
    ONE_OFF = 0
    RECURRING = 1
    WECHAT = 2
    SCREEN_CAST = 4


class MultiScreenStatus(TolerantIntEnum):
    SINGLE = 0
    DUAL_EXTENDED = 1
    DUAL_MIRRORED = 2


class LayoutType(TolerantIntEnum):
    # The seed's example sends 0, which its table does not define: kept as UNKNOWN_0.
    HOST_MODE = 1
    GRID = 2
    CUSTOM = 3


class LayoutModel(TolerantIntEnum):
    NONE = 0
    SHOW_SELF_1 = 1
    SHOW_SELF_2 = 2
    SHOW_SELF_3 = 3


class SwitchType(TolerantIntEnum):
    GRID = 1
    SPEAKER = 2
    SPEAKER_ALT = 3
    MEMBER_LIST_RIGHT = 4
    TOP_L = 5
    BOTTOM_L = 6
    PICTURE_IN_FRAME = 7  # 回型


class HostStatus(TolerantIntEnum):
    ABSENT = 0
    PRESENT = 1


class UserType(TolerantIntEnum):
    NORMAL = 1
    PSTN = 2


class RoleType(TolerantIntEnum):
    UNKNOWN = 0
    HOST = 1
    CO_HOST = 2
    ATTENDEE = 3
    INTERNAL_GUEST = 4
    EXTERNAL_GUEST = 5
    EXTERNAL_GUEST_6 = 6
    EXTERNAL_GUEST_7 = 7
    INTERPRETER = 8


class ScreenShareType(TolerantIntEnum):
    SCREEN = 0
    WHITEBOARD = 1


class Wire(BaseModel):
    """Base of inbound models: newer clients add fields, older ones omit them."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict for display, without None fields and with passcodes masked."""
        result: dict[str, Any] = masked(self.model_dump(mode="json", exclude_none=True))
        return result


def _lift(data: Any, nested_key: str, keys: tuple[str, ...] | None = None) -> Any:
    """Copy the fields of data[nested_key] up beside it (fields already there win)."""
    if not isinstance(data, dict) or not isinstance(data.get(nested_key), dict):
        return data
    inner = data[nested_key]
    lifted = {k: v for k, v in inner.items() if keys is None or k in keys}
    return {**lifted, **data}


class MultiScreenInfo(Wire):
    multi_screen_status: MultiScreenStatus | None = None
    main_monitor_id: Name | None = None


class ScreenLayoutInfo(Wire):
    layout_model: LayoutModel | None = None
    show_small_view: bool | None = None
    layout_type: LayoutType | None = None


class LayoutSwitchItem(Wire):
    switch_type: SwitchType | None = None
    enable: bool | None = None
    show_voice_active: bool | None = None


class LayoutSwitchInfo(Wire):
    current_switch_type: SwitchType | None = None
    layout_switch_enable: bool | None = None
    layout_switch_list: list[LayoutSwitchItem] | None = None


class LayoutInfo(Wire):
    main_screen_layout_info: ScreenLayoutInfo | None = None
    secondary_screen_layout_info: ScreenLayoutInfo | None = None
    layout_switch_info: LayoutSwitchInfo | None = None


class MeetingTime(Wire):
    begin_time: int | None = None
    end_time: int | None = None


class _TimedEntry(Wire):
    """Spec: begin_time/end_time flat; the seed's example nests them in meeting_time{}.

    Both are accepted; after validation both forms are filled.
    """

    begin_time: int | None = None
    end_time: int | None = None
    meeting_time: MeetingTime | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat_times(cls, data: Any) -> Any:
        return _lift(data, "meeting_time", ("begin_time", "end_time"))

    @model_validator(mode="after")
    def _nested_times(self) -> _TimedEntry:
        if self.meeting_time is None and (self.begin_time or self.end_time) is not None:
            self.meeting_time = MeetingTime(begin_time=self.begin_time, end_time=self.end_time)
        return self


class MeetingInfo(_TimedEntry):
    meeting_status: MeetingStatus | None = None
    meeting_type: MeetingType | None = None
    meeting_title: Title | None = None
    meeting_code: Code | None = None
    meeting_password: Name | None = Field(default=None, repr=False)
    formatted_meeting_code: Code | None = None
    meeting_creator_name: Name | None = None
    host_status: HostStatus | None = None
    meeting_url: Url | None = None


class SelfInfo(Wire):
    """The seed's example nests these fields in self_info.share_user_info: both accepted."""

    app_uid: Name | None = None
    app_id: Name | None = None
    user_id: Name | None = None
    host: bool | None = None
    co_host: bool | None = None
    instance_id: int | None = None
    user_type: UserType | None = None
    is_creator: bool | None = None
    role_type: RoleType | None = None
    video_on: bool | None = None
    audio_on: bool | None = None
    screen_sharing: bool | None = None
    screen_share_type: ScreenShareType | None = None
    web_sharing: bool | None = None
    nickname: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat_self(cls, data: Any) -> Any:
        return _lift(data, "share_user_info")


class MeetingListItem(_TimedEntry):
    meeting_title: Title | None = None
    meeting_creator_name: Name | None = None
    meeting_code: Code | None = None
    meeting_id: Name | None = None
    meeting_type: MeetingType | None = None
    formatted_meeting_code: Code | None = None


_LAYOUT_PARTS = ("main_screen_layout_info", "secondary_screen_layout_info", "layout_switch_info")


class MeetingModule(Wire):
    """`data.meeting` of Query ["Meeting"]."""

    multi_scree_info: MultiScreenInfo | None = None  # sic: the vendor's spelling
    layout_info: LayoutInfo | None = None
    meeting_info: MeetingInfo | None = None
    self_info: SelfInfo | None = None
    share_user_info: dict[str, Any] | None = None
    meeting_list: Annotated[list[MeetingListItem], AfterValidator(cut_list(LIST_MAX))] | None = None

    @model_validator(mode="before")
    @classmethod
    def _nested_layout(cls, data: Any) -> Any:
        # The seed's output table lists the layout parts beside layout_info; its example
        # nests them inside it. Accept both by folding the flat ones in.
        if not isinstance(data, dict) or not any(k in data for k in _LAYOUT_PARTS):
            return data
        layout = dict(data.get("layout_info") or {})
        for key in _LAYOUT_PARTS:
            if key in data:
                layout.setdefault(key, data[key])
        return {**data, "layout_info": layout}


class MeetingEventPayload(Wire):
    """The payload of an Event/Meeting notification (whatever the event name)."""

    meeting_info: MeetingInfo | None = None
    self_user_info: SelfInfo | None = None
    self_info: SelfInfo | None = None
    layout_info: LayoutInfo | None = None
    layout_switch_info: LayoutSwitchInfo | None = None
    device_info: dict[str, Any] | None = None
    mic_info: dict[str, Any] | None = None
    speaker_info: dict[str, Any] | None = None
    camera_info: dict[str, Any] | None = None


# ---- action_params (outbound: strict, validated before sending) ----


class ActionParams(BaseModel):
    """Base of action_params models: unknown keys are a local error, not a silent drop."""

    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any] | None:
        """The action_params object to send (None when the action takes none)."""
        data = self.model_dump(exclude_none=True)
        return data or None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = masked(self.model_dump(exclude_none=True))
        return result


class NoParams(ActionParams):
    pass


class StartMeetingParams(ActionParams):
    meeting_type: Literal["instant", "pmi"] = "instant"


_CODE_SEPARATORS = re.compile(r"[\s\-]")


class JoinMeetingParams(ActionParams):
    # A code given as a number stays a string ("123456789"), never an int on the wire.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    meeting_code: str
    password: str = Field(default="", repr=False)  # seed: "" when the meeting has none
    mic_enable: bool | None = None
    camera_enable: bool | None = None

    @field_validator("meeting_code")
    @classmethod
    def _digits(cls, value: str) -> str:
        # People type "123 456 789" or "123-456-789"; the wire wants the bare digits.
        code = _CODE_SEPARATORS.sub("", value)
        if not re.fullmatch(r"\d{6,20}", code):
            raise ValueError("meeting_code must be 6-20 digits (spaces and dashes allowed)")
        return code

    def wire(self) -> dict[str, Any]:
        # password is always sent (the seed: empty when there is none).
        return self.model_dump(exclude_none=True)


class SwitchLayoutParams(ActionParams):
    switch_type: int = Field(ge=1, le=7)
    show_voice_active: bool | None = None  # speaker layouts only


@dataclass(frozen=True)
class ActionSpec:
    name: str
    params: type[ActionParams]
    outcomes: frozenset[str]  # Event/Meeting sub_events that finish the action


# The six Call/Meeting actions (spec §4). JoinWaitingRoom as a JoinMeeting outcome is a
# spec [assumption]. The seed's header names SwitchLayout's call "LayoutSwitchChanged", but
# its request example sends "SwitchLayout": the example wins; the event is LayoutSwitchChanged.
ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("StartMeeting", StartMeetingParams, frozenset({"JoinMeetingCompleted"})),
        ActionSpec(
            "JoinMeeting", JoinMeetingParams, frozenset({"JoinMeetingCompleted", "JoinWaitingRoom"})
        ),
        ActionSpec("DissolveMeeting", NoParams, frozenset({"DissolveMeeting"})),
        ActionSpec("LeaveMeeting", NoParams, frozenset({"LeaveMeeting"})),
        ActionSpec("LeaveWaitingRoom", NoParams, frozenset({"LeaveWaitingRoom"})),
        ActionSpec("SwitchLayout", SwitchLayoutParams, frozenset({"LayoutSwitchChanged"})),
    )
}

# The events the mirror understands: exactly the actions' outcomes.
KNOWN_EVENTS: frozenset[str] = frozenset().union(*(spec.outcomes for spec in ACTIONS.values()))


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


_ACTION_ALIASES = {_squash(name): name for name in ACTIONS}


def resolve_action(name: str) -> ActionSpec | None:
    """The action for `name`, accepting JoinMeeting, join_meeting, join-meeting, joinmeeting."""
    canonical = _ACTION_ALIASES.get(_squash(name))
    return ACTIONS[canonical] if canonical else None


def validation_summary(exc: ValidationError) -> str:
    """Pydantic errors as one plain line, without echoing input values (they may be secret)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "parameters"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown parameter {where}")
        elif err["type"] == "missing":
            parts.append(f"{where} is required")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def validate_action(
    action: str, params: Mapping[str, Any] | ActionParams | None = None
) -> tuple[ActionSpec, ActionParams]:
    """Check an action and its parameters before anything is sent (RoomsBadRequest if not).

    Strings are converted the way the model declares (CLI `key=value`): "2" → 2 for
    switch_type, "true" → True for mic_enable; meeting_code stays a string.
    """
    spec = resolve_action(action)
    if spec is None:
        raise RoomsBadRequest(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    if isinstance(params, spec.params):
        return spec, params
    if isinstance(params, ActionParams):
        raise RoomsBadRequest(f"{spec.name}: parameters of another action given")
    try:
        return spec, spec.params.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise RoomsBadRequest(f"{spec.name}: {validation_summary(exc)}") from None


@dataclass(frozen=True)
class RoomsEvent:
    """One notification from the Rooms client (`Event/<module>`, named by its sub_event)."""

    module: str
    name: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.module == "Meeting" and self.name in KNOWN_EVENTS

    def meeting(self) -> MeetingEventPayload:
        """The payload as a Meeting event (raises pydantic.ValidationError on wrong types)."""
        return MeetingEventPayload.model_validate(self.payload)

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "event": self.name, "payload": masked(self.payload)}

    def __repr__(self) -> str:
        return f"RoomsEvent(module={self.module!r}, name={self.name!r})"
