"""What the latency work must keep: validated Rooms params reused per binding, and a
history that still reads press → outcome although both are written after the action."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomagent.control.actions import parse_action, prepared_request
from roomagent.control.history import Later
from roomagent.control.state import RoomState
from roomagent.rooms.models import SwitchLayoutParams
from tests.control.conftest import running_room


def test_rooms_params_are_validated_once_per_binding_action() -> None:
    layout = parse_action({"action": "meeting.layout", "switch_type": 2})
    first = prepared_request(layout, RoomState.IN_MEETING)
    assert first.name == "SwitchLayout"
    assert isinstance(first.params, SwitchLayoutParams) and first.params.switch_type == 2
    assert prepared_request(layout, RoomState.IN_MEETING) is first
    leave = parse_action({"action": "meeting.leave"})
    assert prepared_request(leave, RoomState.WAITING_ROOM).name == "LeaveWaitingRoom"
    assert prepared_request(leave, RoomState.IN_MEETING).name == "LeaveMeeting"


@pytest.mark.anyio
async def test_history_keeps_the_button_before_its_refusal(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.tap(3)  # Leave while idle: refused at once, in the action's first step
        await room.panel_shows(lambda p: p.text.get(2) == "Not in a meeting")
        kinds = [(e["kind"], e["message"]) for e in room.agent.recent_events()]
        press = kinds.index(("button", "button 3 release"))  # a tap acts on release
        refused = next(i for i, k in enumerate(kinds) if k[0] == "refused")
        assert press < refused


@pytest.mark.anyio
async def test_bookkeeping_waits_behind_the_path_keeps_its_order_and_survives_a_stop(
    tmp_path: Path,
) -> None:
    """History lines queued behind a press run in order, an item's own follow-ups after it,
    any read of the history first runs what is queued, and a shutdown loses none."""
    async with running_room(tmp_path) as room:
        core = room.agent
        core.later = Later(delay=60.0)  # nothing runs by its timer within this test
        heard: list[str] = []
        core.watch(lambda u: heard.append(u["event"]["message"]) if u["type"] == "event" else None)
        core.later(core.record, "test", "note", "first")
        core.later(core.later, core.record, "test", "note", "third")  # queued by an item
        core.later(core.record, "test", "note", "second")
        assert heard == []  # nothing on the path: all of it waits
        assert [e["message"] for e in core.recent_events()][-3:] == ["first", "second", "third"]
        core.later(core.record, "test", "note", "at shutdown")
        await room.stop_agent()
        assert heard[-1] == "at shutdown"  # the watcher heard it: it ran before the loop ended
