"""Start, join, layout, leave and dissolve through the panel's buttons, with LED/text feedback."""

from __future__ import annotations

import pytest

from hil import timings
from hil.operator import Operator
from hil.rig import Rig, shows_idle, shows_in_meeting
from roomagent.control.state import RoomState

pytestmark = [pytest.mark.anyio, pytest.mark.hil]


async def _press_for_call(
    rig: Rig, operator: Operator, scenario: str, button: int, action: str
) -> float:
    """Tap `button`; record press → Call/Meeting on the wire (simulator) and return the press."""
    pressed = await operator.tap(button)
    sent = await rig.call_sent(action, pressed)
    if sent is not None:
        timings.record(scenario, f"press → {action} on the wire", sent - pressed)
    return pressed


async def _until_in_meeting(rig: Rig, scenario: str, pressed: float) -> None:
    shown = await rig.panel_shows(shows_in_meeting)
    timings.record(scenario, "press → in-meeting LEDs", shown - pressed)
    event = rig.rooms_event_time("JoinMeetingCompleted", pressed)
    if event is not None:
        timings.record(scenario, "event → LED frame", shown - event)
    assert rig.state() is RoomState.IN_MEETING


async def test_join_layout_leave(rig: Rig, operator: Operator, scenario: str) -> None:
    pressed = await _press_for_call(rig, operator, scenario, 2, "JoinMeeting")
    await _until_in_meeting(rig, scenario, pressed)
    code = rig.settings.meeting_code
    assert rig.agent.status()["meeting"]["code"] == code

    before = len(rig.actions(4))
    pressed = await _press_for_call(rig, operator, scenario, 4, "SwitchLayout")
    done = await rig.action_done(4, before)
    assert done["kind"] == "action", done["message"]
    timings.record(scenario, "press → layout switched", rig.agent_clock() - pressed)

    pressed = await _press_for_call(rig, operator, scenario, 3, "LeaveMeeting")
    shown = await rig.panel_shows(shows_idle)
    timings.record(scenario, "press → idle LEDs", shown - pressed)
    if rig.sim is not None:
        assert [p["action"] for p in rig.meeting_calls()] == [
            "JoinMeeting",
            "SwitchLayout",
            "LeaveMeeting",
        ]
        assert rig.meeting_calls("JoinMeeting")[0]["action_params"]["meeting_code"] == code
        assert rig.meeting_calls("SwitchLayout")[0]["action_params"]["switch_type"] == 2


async def test_start_then_dissolve_by_holding(rig: Rig, operator: Operator, scenario: str) -> None:
    pressed = await _press_for_call(rig, operator, scenario, 1, "StartMeeting")
    await _until_in_meeting(rig, scenario, pressed)
    if rig.panel_emulator is not None:
        # The joining LED blinked before it went steady.
        changes = [c for _, c in rig.panel_changes]
        assert changes.index("led 1 blink") < changes.index("led 1 on")

    pressed = await operator.long_press(3)  # hold: dissolve, and not leave first
    sent = await rig.call_sent("DissolveMeeting", pressed)
    if sent is not None:
        timings.record(scenario, "hold start → DissolveMeeting", sent - pressed)
    shown = await rig.panel_shows(shows_idle)
    timings.record(scenario, "hold start → idle LEDs", shown - pressed)
    if rig.sim is not None:
        assert [p["action"] for p in rig.meeting_calls()] == ["StartMeeting", "DissolveMeeting"]
