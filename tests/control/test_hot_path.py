"""What the latency work must keep: validated Rooms params reused per binding, a history
that still reads press → outcome although both are written after the action, and a meeting
action's first step (its Call on the wire) run in the press's own callback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import pytest

from roomagent.config.vocab import ButtonPhase
from roomagent.control.actions import parse_action, prepared_request
from roomagent.control.bindings import Workers
from roomagent.control.state import RoomState
from roomagent.rooms.models import SwitchLayoutParams
from roomagent.waits import Later
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


@pytest.mark.anyio
async def test_a_meeting_press_sends_its_call_within_the_press_callback(tmp_path: Path) -> None:
    """The panel's reader callback runs outside any task; a meeting action's first step runs
    right there (no anyio before its first wait), so the Call is written before it returns."""
    async with running_room(tmp_path, event_delay=0.0) as room:
        session, handler = room.agent.session, room.agent.handler
        assert session is not None and handler is not None
        sent: list[int] = []

        def press() -> None:  # what the panel's reader callback does
            assert asyncio.current_task() is None
            before = session.counters["frames_out"]
            handler.handle("panel", 1, ButtonPhase.PRESS)  # meeting.start
            sent.append(session.counters["frames_out"] - before)

        asyncio.get_running_loop().call_soon(press)
        await room.agent.wait_view(lambda v: v.state is RoomState.IN_MEETING)
        assert sent == [1]
        await room.until(lambda: any(e["kind"] == "action" for e in room.agent.recent_events()))
        done = [e for e in room.agent.recent_events() if e["kind"] == "action"]
        assert done[-1]["ok"] and done[-1]["outcome"].startswith("StartMeeting")
        assert room.meeting_calls("StartMeeting")


@pytest.mark.anyio
async def test_an_eager_job_goes_on_in_a_worker_and_can_be_cancelled() -> None:
    loop = asyncio.get_running_loop()
    steps: list[str] = []
    gate = loop.create_future()
    answered = asyncio.Event()

    async def job() -> None:
        steps.append("first")
        try:
            steps.append(f"got {await gate}")
            answered.set()
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            steps.append("cancelled")
            raise

    async with anyio.create_task_group() as tg:
        workers = Workers(tg)
        workers.run(job, eager=True)
        assert steps == ["first"]  # before run() returned, outside any task
        gate.set_result("answer")
        with anyio.fail_after(5):
            await answered.wait()
        assert steps == ["first", "got answer"]
        tg.cancel_scope.cancel()
    assert steps[-1] == "cancelled"
