"""The pure parts: room state derivation, feedback rendering, notices fitted to a panel."""

from __future__ import annotations

from roomagent.config.model import FeedbackSection
from roomagent.control.actions import (
    MeetingJoin,
    MeetingLeave,
    MeetingStart,
    not_applicable_reason,
    parse_action,
    rooms_request,
)
from roomagent.control.feedback import fit, notice_line, render
from roomagent.control.state import RoomState, RoomStateMachine, RoomView
from roomagent.rooms.models import MeetingStatus


def test_state_follows_link_mirror_and_own_join() -> None:
    machine = RoomStateMachine()
    assert machine.view.state is RoomState.ROOMS_OFFLINE
    assert machine.set_link(True)
    assert machine.view.state is RoomState.IDLE
    machine.set_join_in_flight(True)
    assert machine.view.state is RoomState.JOINING  # shown before the client says so
    machine.set_meeting(MeetingStatus.IN_MEETING, "123456789", "Weekly", True)
    machine.set_join_in_flight(False)
    assert machine.view.state is RoomState.IN_MEETING
    assert machine.view.fields()["meeting_code"] == "123 456 789"
    machine.set_meeting(MeetingStatus.SCREEN_CAST, None, None, None)
    assert machine.view.state is RoomState.IDLE and machine.view.meeting_code is None
    machine.set_link(False, "connection refused")
    assert machine.view.state is RoomState.ROOMS_OFFLINE
    assert not machine.update()  # nothing changed → no feedback traffic


def test_device_offline_condition_excludes_the_panel_itself() -> None:
    view = RoomView(state=RoomState.IDLE, devices_offline=frozenset({"panel"}))
    assert view.conditions(exclude_device="panel") == {"idle"}
    view = RoomView(state=RoomState.IDLE, devices_offline=frozenset({"panel", "camera"}))
    assert view.conditions(exclude_device="panel") == {"idle", "device_offline"}
    assert view.fields()["offline_devices"] == "camera, panel"


def _rule(**kw: object) -> FeedbackSection:
    return FeedbackSection.model_validate({"device": "panel", **kw})


def test_render_first_matching_rule_wins_and_unmatched_is_off_or_blank() -> None:
    rules = [
        _rule(led=1, when="joining", mode="blink"),
        _rule(led=1, when="in_meeting"),
        _rule(led=2, when="rooms_offline", colour="red"),
        _rule(text_line=1, when="in_meeting", text="In {meeting_code}"),
        _rule(text_line=1, when="idle", text="{room}: ready"),
        _rule(text_line=2, when="idle", text="Next: {next_meeting}"),
        _rule(device="other", led=9, when="idle"),
    ]
    meeting = RoomView(state=RoomState.IN_MEETING, meeting_code="987654321")
    frame = render(rules, meeting, "panel")
    assert frame.leds == {1: ("on", None), 2: ("off", None)}
    assert frame.texts == {1: "In 987 654 321", 2: ""}
    idle = render(rules, RoomView(state=RoomState.IDLE, room="3A"), "panel")
    assert idle.texts == {1: "3A: ready", 2: "Next: none"}
    assert notice_line(rules, "panel") == 2 and notice_line(rules, "nobody") == 1


def test_notices_fit_the_panel_line() -> None:
    assert fit("Not in a meeting", 40) == "Not in a meeting"
    assert fit("not enough participants for a layout switch", 20) == "not enough.."
    assert len(fit("x" * 100, 16)) == 16


def test_where_actions_apply() -> None:
    start = MeetingStart(action="meeting.start")
    assert not_applicable_reason(start, RoomState.IDLE, False) is None
    assert not_applicable_reason(start, RoomState.IDLE, True) == "Join already in progress"
    assert not_applicable_reason(start, RoomState.IN_MEETING, False) == "Already in a meeting"
    assert not_applicable_reason(start, RoomState.ROOMS_OFFLINE, False) == "Rooms client offline"
    leave = MeetingLeave(action="meeting.leave")
    assert not_applicable_reason(leave, RoomState.IDLE, False) == "Not in a meeting"
    assert rooms_request(leave, RoomState.WAITING_ROOM).name == "LeaveWaitingRoom"
    join = parse_action({"action": "meeting.join", "meeting_code": "123-456-789"})
    assert isinstance(join, MeetingJoin)
    assert rooms_request(join, RoomState.IDLE).params["meeting_code"] == "123456789"
