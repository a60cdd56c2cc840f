"""A camera is never left moving: shutdown and a restart on reload stop held and timed moves
before the ports close (real ptys, the camera emulator judges what arrived on the wire)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.control.conftest import Room, running_room
from tests.control.test_room import _pt_stops

pytestmark = pytest.mark.anyio

HELD_LEFT = 7  # demo config: camera.move left, held


async def _hold_left(room: Room) -> None:
    await room.panel.press(HELD_LEFT)
    await room.until(lambda: room.camera.state.moving.get("pt") == "left")


async def test_shutdown_mid_hold_stops_the_camera(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await _hold_left(room)
        await room.stop_agent()
        await room.until(lambda: "pt" not in room.camera.state.moving)
        assert _pt_stops(room) == 1


async def test_shutdown_during_a_timed_move_stops_the_camera(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        move = {"action": "camera.move", "camera": "camera", "direction": "up", "seconds": 10}
        async with anyio.create_task_group() as tg:
            tg.start_soon(room.agent.perform, move)
            await room.until(lambda: room.camera.state.moving.get("pt") == "up")
            await room.stop_agent()
            await room.until(lambda: "pt" not in room.camera.state.moving)
            tg.cancel_scope.cancel()  # the API caller's wait; its stop went out already
        assert _pt_stops(room) == 1


async def test_reload_restart_mid_hold_stops_the_camera_first(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await _hold_left(room)
        config = room.agent.config
        rooms = config.rooms.model_copy(update={"call_timeout": config.rooms.call_timeout + 1})
        done = room.app.reload(config.model_copy(update={"rooms": rooms}))
        assert done == "restarting rooms"
        await room.until(lambda: "pt" not in room.camera.state.moving)
        assert _pt_stops(room) == 1
        with anyio.fail_after(5):
            await room.agent.wait_settled()
        # The release after the restart has no move to stop; a new hold works as before.
        await room.panel.release(HELD_LEFT)
        await _hold_left(room)
        await room.panel.release(HELD_LEFT)
        await room.until(lambda: _pt_stops(room) == 2)
