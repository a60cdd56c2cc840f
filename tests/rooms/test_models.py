"""Wire models: both nestings, tolerance, readable enums, action_params conversion, masking."""

from __future__ import annotations

import pytest

from roomagent.rooms.errors import RoomsBadRequest
from roomagent.rooms.mirror import MeetingMirror
from roomagent.rooms.models import (
    JoinMeetingParams,
    LayoutSwitchInfo,
    LayoutType,
    MeetingModule,
    MeetingStatus,
    RoleType,
    RoomsEvent,
    SwitchType,
    masked,
    resolve_action,
    validate_action,
)

# The seed's Query example (abridged): layout_type 0, times in meeting_time{},
# self fields in self_info.share_user_info.
SEED_EXAMPLE = {
    "multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""},
    "layout_info": {
        "main_screen_layout_info": {"layout_model": 0, "show_small_view": True, "layout_type": 0},
        "layout_switch_info": {
            "current_switch_type": 1,
            "layout_switch_enable": True,
            "layout_switch_list": [
                {"switch_type": 1, "enable": True},
                {"switch_type": 2, "enable": True, "show_voice_active": True},
            ],
        },
    },
    "meeting_info": {
        "meeting_status": 1,
        "meeting_type": 0,
        "meeting_title": "Weekly",
        "meeting_code": "123456789",
        "meeting_password": "4321",
        "meeting_time": {"begin_time": 1686207304, "end_time": 1686207502},
        "formatted_meeting_code": "123 456 789",
        "host_status": 1,
    },
    "self_info": {"share_user_info": {"host": True, "co_host": False, "role_type": 1}},
    "meeting_list": [
        {"meeting_title": "X", "meeting_time": {"begin_time": 1, "end_time": 2}, "meeting_type": 1}
    ],
}


def test_seed_example_parses_with_nested_forms() -> None:
    module = MeetingModule.model_validate(SEED_EXAMPLE)
    info = module.meeting_info
    assert info is not None and info.meeting_status is MeetingStatus.IN_MEETING
    assert (info.begin_time, info.end_time) == (1686207304, 1686207502)
    assert module.self_info is not None and module.self_info.role_type is RoleType.HOST
    assert module.self_info.host is True
    assert module.meeting_list is not None and module.meeting_list[0].end_time == 2
    layout = module.layout_info
    assert layout is not None and layout.main_screen_layout_info is not None
    assert layout.main_screen_layout_info.layout_type == 0  # undefined in the table: kept
    assert layout.main_screen_layout_info.layout_type.name == "UNKNOWN_0"


def test_flat_forms_parse_the_same() -> None:
    flat = {
        "meeting_info": {"meeting_status": 3, "begin_time": 10, "end_time": 20},
        "self_info": {"co_host": True, "role_type": 2},
        "main_screen_layout_info": {"layout_type": 2},
        "layout_switch_info": {"current_switch_type": 7},
    }
    module = MeetingModule.model_validate(flat)
    assert module.meeting_info is not None
    assert module.meeting_info.meeting_status is MeetingStatus.WAITING_ROOM
    assert module.meeting_info.meeting_time is not None
    assert module.meeting_info.meeting_time.end_time == 20
    assert module.self_info is not None and module.self_info.role_type is RoleType.CO_HOST
    assert module.layout_info is not None
    assert module.layout_info.main_screen_layout_info is not None
    assert module.layout_info.main_screen_layout_info.layout_type is LayoutType.GRID
    assert module.layout_info.layout_switch_info is not None
    assert module.layout_info.layout_switch_info.current_switch_type is SwitchType.PICTURE_IN_FRAME


def test_tolerates_missing_extra_and_unknown_values() -> None:
    module = MeetingModule.model_validate(
        {"meeting_info": {"meeting_status": 42, "new_field": [1]}, "brand_new_node": {}}
    )
    assert module.meeting_info is not None
    assert module.meeting_info.meeting_status == 42
    assert module.meeting_info.meeting_status.name == "UNKNOWN_42"
    assert module.self_info is None
    assert MeetingModule.model_validate({}).meeting_info is None


def test_meeting_password_never_in_repr_or_display() -> None:
    module = MeetingModule.model_validate(SEED_EXAMPLE)
    assert "4321" not in repr(module)
    assert module.as_dict()["meeting_info"]["meeting_password"] == "***"
    assert masked({"a": [{"meeting_password": ""}]}) == {"a": [{"meeting_password": ""}]}
    params = JoinMeetingParams(meeting_code="123456789", password="9876")
    assert "9876" not in repr(params) and "9876" not in str(params.as_dict())
    event = RoomsEvent(
        "Meeting", "JoinMeetingCompleted", {"meeting_info": SEED_EXAMPLE["meeting_info"]}
    )
    assert "4321" not in str(event.as_dict()) and "4321" not in repr(event)


@pytest.mark.parametrize(
    ("action", "given", "wire"),
    [
        ("StartMeeting", {}, {"meeting_type": "instant"}),
        ("start_meeting", {"meeting_type": "pmi"}, {"meeting_type": "pmi"}),
        (
            "JoinMeeting",
            {"meeting_code": "123456789", "mic_enable": "true", "camera_enable": "false"},
            {
                "meeting_code": "123456789",
                "password": "",
                "mic_enable": True,
                "camera_enable": False,
            },
        ),
        (
            "join-meeting",
            {"meeting_code": 123456789},
            {"meeting_code": "123456789", "password": ""},
        ),
        (
            "JoinMeeting",
            {"meeting_code": "123 456 789"},
            {"meeting_code": "123456789", "password": ""},
        ),
        (
            "JoinMeeting",
            {"meeting_code": "012345678"},
            {"meeting_code": "012345678", "password": ""},
        ),
        ("SwitchLayout", {"switch_type": "2"}, {"switch_type": 2}),
        (
            "switchlayout",
            {"switch_type": 2, "show_voice_active": "false"},
            {"switch_type": 2, "show_voice_active": False},
        ),
        ("LeaveMeeting", {}, None),
        ("DissolveMeeting", None, None),
        ("LeaveWaitingRoom", {}, None),
    ],
)
def test_action_params_convert_to_declared_types(action: str, given: object, wire: object) -> None:
    spec, params = validate_action(action, given)  # type: ignore[arg-type]
    assert params.wire() == wire
    assert resolve_action(action) is spec


@pytest.mark.parametrize(
    ("action", "given", "complaint"),
    [
        ("JoinMeeting", {}, "meeting_code is required"),
        ("JoinMeeting", {"meeting_code": "abc"}, "meeting_code"),
        ("JoinMeeting", {"meeting_code": "123456789", "mic_enable": "maybe"}, "mic_enable"),
        ("SwitchLayout", {"switch_type": "8"}, "switch_type"),
        ("SwitchLayout", {"switch_type": "x"}, "switch_type"),
        ("SwitchLayout", {}, "switch_type is required"),
        ("StartMeeting", {"meeting_type": "huge"}, "meeting_type"),
        ("LeaveMeeting", {"force": "1"}, "unknown parameter force"),
        ("FlyToTheMoon", {}, "unknown action"),
    ],
)
def test_bad_action_params_are_local_errors(
    action: str, given: dict[str, str], complaint: str
) -> None:
    with pytest.raises(RoomsBadRequest) as info:
        validate_action(action, given)
    assert complaint in str(info.value)


def test_bad_request_does_not_echo_passcode() -> None:
    with pytest.raises(RoomsBadRequest) as info:
        validate_action("JoinMeeting", {"meeting_code": "1", "password": "topsecret", "x": "y"})
    assert "topsecret" not in str(info.value)


def test_mirror_follows_events() -> None:
    mirror = MeetingMirror()
    assert mirror.status is MeetingStatus.IDLE and not mirror.known
    mirror.replace(MeetingModule.model_validate({"meeting_info": {"meeting_status": 0}}))
    joined = RoomsEvent(
        "Meeting",
        "JoinMeetingCompleted",
        {
            "meeting_info": {"meeting_code": "555666777", "host_status": 0},
            "self_user_info": {"host": True},
        },
    )
    assert mirror.apply_event(joined)
    assert mirror.status is MeetingStatus.IN_MEETING
    assert (mirror.meeting_code, mirror.host_present, mirror.is_host) == ("555666777", False, True)
    assert mirror.apply_event(
        RoomsEvent("Meeting", "LayoutSwitchChanged", {"current_switch_type": 4})
    )
    assert mirror.layout is SwitchType.MEMBER_LIST_RIGHT
    assert mirror.apply_event(RoomsEvent("Meeting", "LeaveMeeting", {}))
    assert mirror.status is MeetingStatus.IDLE and mirror.meeting_code is None
    assert mirror.as_dict()["status"] == "idle"
    assert not mirror.apply_event(RoomsEvent("Meeting", "SomethingNew", {}))


def test_mirror_merges_nested_nodes_event_after_event() -> None:
    """A peer that sends the Query's nested shape in every LayoutSwitchChanged: the second
    event must find typed nodes (it found a plain dict and failed), and a node's fields that
    an event leaves out are kept."""
    mirror = MeetingMirror()
    nested = {"layout_info": {"layout_switch_info": {"current_switch_type": 2}}}
    enable = {"layout_info": {"layout_switch_info": {"layout_switch_enable": True}}}
    again = {"layout_info": {"layout_switch_info": {"current_switch_type": 3}}}
    for payload in (nested, enable, again):
        mirror.apply_event(RoomsEvent("Meeting", "LayoutSwitchChanged", payload))
    assert mirror.layout is SwitchType(3)
    layout = mirror.module.layout_info
    assert layout is not None and isinstance(layout.layout_switch_info, LayoutSwitchInfo)
    assert layout.layout_switch_info.layout_switch_enable is True
    assert mirror.as_dict()["layout"] == 3


def test_settle_status_is_what_the_merge_would_say_and_the_merge_adds_the_rest() -> None:
    """The status goes first (the panel's LEDs follow it); the merge that follows agrees with
    it and adds the codes; an event whose status only the payload can tell waits for it."""
    mirror = MeetingMirror()
    mirror.replace(MeetingModule.model_validate({"meeting_info": {"meeting_status": 3}}))
    admitted = RoomsEvent(
        "Meeting",
        "JoinMeetingCompleted",
        {"meeting_info": {"meeting_status": 1, "meeting_code": "9"}},
    )
    assert mirror.settle_status(admitted)
    assert mirror.status is MeetingStatus.IN_MEETING and mirror.meeting_code is None
    assert mirror.apply_event(admitted)  # the code arrives with the merge
    assert mirror.status is MeetingStatus.IN_MEETING and mirror.meeting_code == "9"
    assert not mirror.settle_status(admitted)  # nothing new
    odd = RoomsEvent("Meeting", "JoinMeetingCompleted", {"meeting_info": {"meeting_status": "1"}})
    assert not mirror.settle_status(odd)  # not a plain number: validation decides
    assert not mirror.settle_status(RoomsEvent("Meeting", "LayoutSwitchChanged", {}))
    ended = RoomsEvent("Meeting", "DissolveMeeting", {"meeting_info": {"meeting_code": []}})
    assert mirror.settle_status(ended)
    assert mirror.status is MeetingStatus.IDLE and mirror.meeting_code is None
