"""The fault matrix against `roomagent run`: for each fault the process survives, says what
happened in one clear log line (never a traceback), and recovers on its own."""

from __future__ import annotations

import signal
from collections.abc import Callable

import anyio
import pytest

from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import GARBAGE_KINDS
from tests.faults.agent_process import WAIT_S
from tests.faults.conftest import FaultRoom

pytestmark = pytest.mark.anyio

PRESET_RECALL = bytes([0x01, 0x04, 0x3F, 0x02])


async def panel_shows(panel: PanelEmulator, predicate: Callable[[PanelEmulator], bool]) -> None:
    with anyio.fail_after(WAIT_S):
        while not predicate(panel):
            await panel.wait_change()


def text(n: int, value: str) -> Callable[[PanelEmulator], bool]:
    return lambda p: p.text.get(n) == value


async def start_meeting_works(fr: FaultRoom) -> None:
    """The room still does its job: a press starts a meeting and the panel shows it."""
    before = len(fr.room.sim.calls("Call/Meeting"))
    await fr.room.panel.tap(1)
    await panel_shows(fr.room.panel, lambda p: p.text.get(1, "").startswith("In meeting"))
    assert len(fr.room.sim.calls("Call/Meeting")) == before + 1


async def test_rooms_killed_mid_call(fault_room: FaultRoom) -> None:
    sim, panel, agent = fault_room.room.sim, fault_room.room.panel, fault_room.agent
    sim.event_delay = 1.0  # the call is accepted, its outcome still pending
    mark = agent.mark()
    await panel.tap(1)
    await panel_shows(panel, text(1, "Joining..."))
    await sim.kill()
    line = await agent.wait_for("Rooms client offline", after=mark)
    assert "level=warning" in line and "disconnected" in line
    refused = await agent.wait_for("kind=refused", after=mark)
    assert "button 1: meeting.start" in refused
    await panel_shows(panel, text(1, "Rooms client offline"))
    assert agent.alive
    await sim.restart()
    await agent.wait_for("Rooms link ready", after=mark)
    await panel_shows(panel, text(1, "Demo room: ready"))
    sim.event_delay = 0.05
    await start_meeting_works(fault_room)


async def test_half_open_tcp(fault_room: FaultRoom) -> None:
    sim, panel, agent = fault_room.room.sim, fault_room.room.panel, fault_room.agent
    mark = agent.mark()
    sim.stall()  # the socket stays up, nothing is read: no pongs, no answers
    line = await agent.wait_for("Rooms client offline", after=mark)
    assert "level=warning" in line
    await panel_shows(panel, text(1, "Rooms client offline"))
    assert agent.alive
    sim.resume()
    await agent.wait_for("Rooms link ready", after=mark)
    await panel_shows(panel, text(1, "Demo room: ready"))
    await start_meeting_works(fault_room)


async def test_garbage_from_the_rooms_peer(fault_room: FaultRoom) -> None:
    sim, agent = fault_room.room.sim, fault_room.agent
    mark = agent.mark()
    for kind in GARBAGE_KINDS:
        await sim.send_garbage(kind)  # type: ignore[arg-type]
    await agent.wait_for("rooms bad frame dropped", "reason=", after=mark)
    await agent.wait_for("rooms response to unknown id dropped", after=mark)
    await agent.wait_for("rooms unknown event", after=mark)
    # The 2 MB frame is over the 1 MB cap: that link is closed and a new one made.
    await agent.wait_for("rooms frame over the size cap", after=mark)
    await agent.wait_for("Rooms link ready", after=mark)
    assert agent.alive
    await start_meeting_works(fault_room)


async def test_port_vanishes_while_a_command_is_in_flight(fault_room: FaultRoom) -> None:
    camera, panel, agent = fault_room.room.camera, fault_room.room.panel, fault_room.agent
    camera.mute()  # the camera takes the preset recall and never answers: it is in flight
    mark = agent.mark()
    await panel.tap(5)
    await camera.wait_until(lambda: any(f[1:5] == PRESET_RECALL for f in camera.received))
    camera.unplug()
    line = await agent.wait_for("camera offline", "kind=offline", after=mark)
    assert "level=warning" in line and "port lost" in line
    refused = await agent.wait_for("kind=refused", after=mark)
    assert "button 5: camera.preset" in refused and "camera" in refused
    await panel_shows(panel, text(2, "Offline: camera"))
    assert agent.alive
    camera.unmute()
    camera.replug()
    await agent.wait_for("camera online", after=mark)
    await panel_shows(panel, lambda p: not p.text.get(2))
    # The recall that was in flight is not replayed; a new press works.
    camera.state.last_recalled = None
    await panel.tap(5)
    await camera.wait_until(lambda: camera.state.last_recalled == 1)


async def test_reload_with_a_bad_file_keeps_the_old_config(fault_room: FaultRoom) -> None:
    config, panel, agent = fault_room.config, fault_room.room.panel, fault_room.agent
    good = config.read_text()
    for bad in (
        good.replace("button = 5\n", 'button = "five"\n', 1),  # a wrong type
        good + "\n[room\n",  # not TOML at all
    ):
        config.write_text(bad)
        mark = agent.mark()
        agent.signal(signal.SIGHUP)
        line = await agent.wait_for("config reload refused; keeping the running config", after=mark)
        assert "level=error" in line and "room.toml:" in line
        await anyio.sleep(0.2)  # anything else it logs about the reload arrives now
        assert len(agent.matching("config reload", after=mark)) == 1  # one line, no traceback
        assert agent.alive
    await start_meeting_works(fault_room)  # still running on the old bindings
    config.write_text(good.replace('name = "Demo room"', 'name = "Lab room"', 1))
    mark = agent.mark()
    agent.signal(signal.SIGHUP)
    await agent.wait_for("config reloaded", after=mark)
    await panel.tap(3)  # leave: back to idle, under the new name
    await panel_shows(panel, text(1, "Lab room: ready"))
