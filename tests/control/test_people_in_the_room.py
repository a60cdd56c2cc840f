"""Issue 13's room behaviour, over real ptys and the Rooms simulator: the newest camera press
wins, a feedback test ends by itself, and a meeting is never shown stale while the link is
down."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from roomagent.control.feedback import TEST_SECONDS
from tests.control.conftest import WAIT_S, running_room

pytestmark = pytest.mark.anyio

PRESET_1, PRESET_2 = 5, 6  # demo config: camera.preset 1 and 2


async def test_a_burst_of_preset_presses_ends_at_the_last_one(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        room.camera.completion_delay = 0.3  # a preset takes a while to arrive
        most_sockets = 0

        async def watch_sockets() -> None:
            nonlocal most_sockets
            while True:
                most_sockets = max(most_sockets, len(room.camera.sockets))
                await anyio.sleep(0.005)

        camera = room.agent.devices["camera"]
        errors_before = camera.counters["errors"]
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch_sockets)
            for button in (PRESET_1, PRESET_2, PRESET_1, PRESET_2, PRESET_1, PRESET_2, PRESET_1):
                await room.panel.tap(button)
            await room.until(lambda: not room.camera.sockets and not camera._driver._pending)  # type: ignore[attr-defined]
            await anyio.sleep(0.35)  # anything still coming would have completed by now
            tg.cancel_scope.cancel()
        assert room.camera.state.last_recalled == 1
        assert most_sockets <= 2
        assert camera.counters["errors"] == errors_before  # never "command buffer full"
        assert camera.counters["superseded"] >= 1
        events = room.agent.recent_events()
        assert not [e for e in events if e["kind"] in ("refused", "busy")]
        assert any(e["kind"] == "superseded" for e in events)
        assert room.agent.status()["actions"]["camera.preset"]["ok"] >= 2


async def test_a_led_test_from_the_api_ends_by_itself(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        assert room.led(1) == "off"
        await room.agent.device_command("panel", "led", [1, "blink"])
        await room.agent.device_command("panel", "text", [1, "TEST"])
        await room.panel_shows(lambda p: room.led(1) == "blink" and p.text.get(1) == "TEST")
        started = anyio.current_time()
        with anyio.fail_after(TEST_SECONDS + WAIT_S):
            while not (room.led(1) == "off" and room.panel.text.get(1) == "Demo room: ready"):
                await room.panel.wait_change()
        assert anyio.current_time() - started <= 5.0
        # Room changes during and after the test still reach the panel.
        await room.panel.tap(1)
        await room.panel_shows(lambda p: room.led(1) == "on")


async def test_the_meeting_is_unknown_while_the_link_is_down(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.tap(2)  # join 123456789
        await room.panel_shows(lambda p: p.text.get(1) == "In meeting 123 456 789")
        meeting = room.agent.status()["meeting"]
        assert meeting["status"] == "in_meeting" and meeting["code"] == "123456789"
        assert meeting["last_known"] is None

        await room.sim.kill()
        with anyio.fail_after(WAIT_S):
            await room.agent.wait_view(lambda v: v.state.value == "rooms_offline")
        meeting = room.agent.status()["meeting"]
        assert meeting["status"] == "unknown"
        assert meeting["code"] is None and meeting["title"] is None
        known = meeting["last_known"]
        assert known["status"] == "in_meeting" and known["code"] == "123456789"
        assert known["at"]  # when it was last known
        assert room.agent.status_model().meeting.last_known is not None
