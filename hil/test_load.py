"""A burst of presses (no duplicate joins, nothing lost) and a slow or stalled Rooms client."""

from __future__ import annotations

import anyio
import pytest

from hil import timings
from hil.operator import Operator
from hil.rig import Rig, shows_idle, shows_in_meeting, shows_rooms_offline
from hil.test_recovery import needs_simulator
from roomagent.control.state import RoomState

pytestmark = [pytest.mark.anyio, pytest.mark.hil]

PRESET_RECALL = bytes([0x01, 0x04, 0x3F, 0x02])  # VISCA body of "recall preset n"
BURST_GAP_S = 0.03  # a person hammering a keypad: ~30 presses a second
SLOW_EVENT_DELAY_S = 2.0


async def test_burst_of_join_presses_joins_once(
    rig: Rig, operator: Operator, scenario: str
) -> None:
    """Start and join hammered while a join is in flight: one call, the rest answered or
    debounced (a repeat of the key still running is ignored, another key is refused)."""
    if rig.sim is not None:
        rig.sim.event_delay = 1.0  # the join stays in flight while the burst arrives
    start = rig.agent_clock()
    pressed = await operator.burst([2, 1] * 6, BURST_GAP_S)
    assert pressed >= 1
    shown = await rig.panel_shows(shows_in_meeting)
    timings.record(scenario, "burst → in meeting", shown - start)
    outcomes = rig.actions(1) + rig.actions(2)
    assert len([e for e in outcomes if e["kind"] == "action"]) == 1, outcomes
    refused = [e for e in outcomes if e["kind"] == "refused"]
    # "Join already in progress" while it runs; "Already in a meeting" once a quick client is in.
    assert all("already" in e["message"].lower() for e in refused), refused
    if rig.sim is not None:
        assert len(rig.meeting_calls()) == 1
        assert refused  # the other key was told, not silently dropped
    await rig.panel_shows(lambda s: s.led(1) == "on" and not s.text(2), 5.0)  # notices gone


async def test_burst_of_preset_presses_loses_nothing(
    rig: Rig, operator: Operator, scenario: str
) -> None:
    camera = rig.camera_emulator
    buttons = [5, 6] * 10
    before = {b: len(rig.actions(b)) for b in (5, 6)}
    start = rig.agent_clock()
    pressed = await operator.burst(buttons, BURST_GAP_S)

    def finished() -> int:
        return sum(len(rig.actions(b)) - before[b] for b in (5, 6))

    await rig.until(lambda: finished() >= pressed)
    timings.record(scenario, f"{pressed} preset presses → all done", rig.agent_clock() - start)
    failed = [e for b in (5, 6) for e in rig.actions(b)[before[b] :] if e["kind"] != "action"]
    assert not failed, failed
    assert finished() == pressed
    if camera is not None:
        recalls = [f for f in camera.received if f[1:5] == PRESET_RECALL]
        assert len(recalls) == pressed  # each press reached the camera exactly once
        assert camera.state.last_recalled == 2  # the last press wins


async def test_slow_rooms_client(rig: Rig, operator: Operator, scenario: str) -> None:
    needs_simulator(rig, "slows the simulator's answers down")
    sim = rig.sim
    assert sim is not None
    sim.event_delay = SLOW_EVENT_DELAY_S
    pressed = await operator.tap(1)
    shown = await rig.panel_shows(lambda s: s.led(1) == "blink" and s.text(1) == "Joining...")
    timings.record(scenario, "press → joining feedback (slow client)", shown - pressed)
    shown = await rig.panel_shows(shows_in_meeting, SLOW_EVENT_DELAY_S + 5)
    timings.record(scenario, "press → in meeting (2 s event delay)", shown - pressed)


async def test_stalled_rooms_client(rig: Rig, operator: Operator, scenario: str) -> None:
    needs_simulator(rig, "stalls the simulator (half-open TCP)")
    sim = rig.sim
    assert sim is not None
    await operator.tap(2)
    await rig.panel_shows(shows_in_meeting)
    # A short stall: the leave is answered late, the link survives.
    sim.stall()
    pressed = await operator.tap(3)
    await anyio.sleep(0.3)
    assert rig.state() is RoomState.IN_MEETING
    sim.resume()
    shown = await rig.panel_shows(shows_idle)
    timings.record(scenario, "leave during 0.3 s stall → idle", shown - pressed)
    # A long stall: no pongs, the agent declares the link dead and recovers after resume.
    session = rig.agent.session
    assert session is not None
    reconnects = session.counters["reconnects"]
    stalled = rig.agent_clock()
    sim.stall()
    shown = await rig.panel_shows(shows_rooms_offline)
    timings.record(scenario, "stall → panel shows offline", shown - stalled)
    resumed = rig.agent_clock()
    sim.resume()
    await rig.until(lambda: rig.agent.status()["rooms"]["link"] == "ready")
    shown = await rig.panel_shows(shows_idle)
    timings.record(scenario, "resume → ready again", shown - resumed)
    assert session.counters["reconnects"] > reconnects
