"""The room recovers: Rooms client restart mid-meeting, a dropped link, a pulled cable, a camera
power-cycle. Each records how long detection and recovery took."""

from __future__ import annotations

import pytest

from hil import timings
from hil.operator import RESTART_S, Operator
from hil.rig import (
    Rig,
    shows_all_well,
    shows_device_offline,
    shows_idle,
    shows_in_meeting,
    shows_rooms_offline,
)
from roomagent.control.state import RoomState
from roomagent.rooms.models import MeetingStatus

pytestmark = [pytest.mark.anyio, pytest.mark.hil]

IF_CLEAR = bytes([0x81, 0x01, 0x00, 0x01, 0xFF])  # first command of the start-up sequence


def needs_simulator(rig: Rig, why: str) -> None:
    if rig.sim is None:
        pytest.skip(f"virtual mode only: {why} (ROOMAGENT_HIL_ROOMS_URL points at a real client)")


async def join(rig: Rig, operator: Operator) -> None:
    await operator.tap(2)
    await rig.panel_shows(shows_in_meeting)


async def mirror_matches_client(rig: Rig) -> None:
    """The agent's mirror says what the Rooms client says when asked afresh."""
    session = rig.agent.session
    assert session is not None
    data = await session.query(["Meeting"])
    status = data["meeting"]["meeting_info"]["meeting_status"]
    assert MeetingStatus(status) == session.mirror.status


async def test_rooms_client_restart_mid_meeting(
    rig: Rig, operator: Operator, scenario: str
) -> None:
    await join(rig, operator)
    gone = await operator.restart_rooms()
    shown = await rig.panel_shows(shows_rooms_offline)
    timings.record(scenario, "Rooms gone → panel shows offline", shown - gone)
    await operator.rooms_back()
    back = rig.agent_clock()
    shown = await rig.panel_shows(
        lambda s: not shows_rooms_offline(s) and s.led(16) == "off", RESTART_S
    )
    # A person restarts the real client in one go: there the figure includes the restart.
    label = "Rooms back → panel recovered" if rig.sim else "Rooms gone → recovered (restart incl.)"
    timings.record(scenario, label, shown - back if rig.sim else shown - gone)
    await mirror_matches_client(rig)
    if rig.sim is not None:  # a restarted simulator starts idle: the mirror must say so too
        assert rig.state() is RoomState.IDLE
        await rig.panel_shows(shows_idle)


async def test_dropped_link_keeps_the_meeting(rig: Rig, operator: Operator, scenario: str) -> None:
    needs_simulator(rig, "cuts the TCP connections inside the simulator")
    assert rig.sim is not None
    await join(rig, operator)
    session = rig.agent.session
    assert session is not None
    reconnects = session.counters["reconnects"]
    cut = rig.agent_clock()
    rig.sim.drop_connections()
    await rig.until(lambda: session.counters["reconnects"] > reconnects)
    await rig.until(lambda: rig.agent.status()["rooms"]["link"] == "ready")
    timings.record(scenario, "link cut → ready again", rig.agent_clock() - cut)
    await rig.panel_shows(shows_in_meeting)
    assert rig.agent.status()["meeting"]["code"] == rig.settings.meeting_code
    await mirror_matches_client(rig)
    assert [p["action"] for p in rig.meeting_calls()] == ["JoinMeeting"]  # nothing replayed


async def test_camera_unplug_replug(rig: Rig, operator: Operator, scenario: str) -> None:
    camera = rig.camera_emulator
    device = rig.agent.devices["camera"]
    clears = camera.received.count(IF_CLEAR) if camera else 0
    reopens = device.counters["reopens"]
    pulled = await operator.unplug("camera")
    shown = await rig.panel_shows(shows_device_offline("camera"))
    timings.record(scenario, "unplug → panel shows offline", shown - pulled)
    assert not rig.agent.devices["camera"].online
    plugged = await operator.replug("camera")
    shown = await rig.panel_shows(shows_all_well)
    timings.record(scenario, "replug → online, panel clear", shown - plugged)
    assert rig.agent.devices["camera"].online
    assert device.counters["reopens"] > reopens
    if camera is not None:  # the start-up sequence ran again on the new connection
        await rig.until_polled(lambda: camera.received.count(IF_CLEAR) > clears)
    before = len(rig.actions(5))
    await operator.tap(5)
    assert (await rig.action_done(5, before))["kind"] == "action"


async def test_panel_unplug_replug(rig: Rig, operator: Operator, scenario: str) -> None:
    pulled = await operator.unplug("panel")
    await rig.until(lambda: "panel" in rig.agent.machine.view.devices_offline)
    timings.record(scenario, "unplug → agent sees panel offline", rig.agent_clock() - pulled)
    panel = rig.panel_emulator
    if panel is not None:  # forget what it showed: the agent must send everything again
        panel.leds.clear()
        panel.text.clear()
    plugged = await operator.replug("panel")
    shown = await rig.panel_shows(lambda s: shows_idle(s) and shows_all_well(s))
    timings.record(scenario, "replug → panel shows the room again", shown - plugged)
    rig.watch_panel_device()
    await join(rig, operator)  # and its buttons work again


async def test_camera_power_cycle(rig: Rig, operator: Operator, scenario: str) -> None:
    camera = rig.camera_emulator
    device = rig.agent.devices["camera"]
    announced = device.counters.get("announcements", 0)
    clears = camera.received.count(IF_CLEAR) if camera else 0
    cycled = await operator.power_cycle_camera()
    await rig.until(lambda: device.counters.get("announcements", 0) > announced)
    if camera is not None:
        await rig.until_polled(lambda: camera.received.count(IF_CLEAR) > clears)
    await rig.until(lambda: device.online)
    timings.record(scenario, "power-up announcement → start-up done", rig.agent_clock() - cycled)
    before = len(rig.actions(6))
    await operator.tap(6)
    assert (await rig.action_done(6, before))["kind"] == "action"
    if camera is not None:
        assert camera.state.last_recalled == 2
