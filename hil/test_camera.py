"""Camera presets from panel buttons, and a held move that stops on release."""

from __future__ import annotations

import pytest

from hil import timings
from hil.operator import Operator
from hil.rig import Rig

pytestmark = [pytest.mark.anyio, pytest.mark.hil]

PT_STOP_TAIL = bytes([0x03, 0x03, 0xFF])  # VISCA pan-tilt drive … 03 03 FF = stop
PT_DRIVE = bytes([0x01, 0x06, 0x01])


def pt_stops(frames: list[bytes]) -> int:
    return sum(1 for f in frames if f[1:4] == PT_DRIVE and f.endswith(PT_STOP_TAIL))


async def test_presets_from_buttons(rig: Rig, operator: Operator, scenario: str) -> None:
    camera = rig.camera_emulator
    for button, preset in ((5, 1), (6, 2), (5, 1)):
        before = len(rig.actions(button))
        pressed = await operator.tap(button)
        done = await rig.action_done(button, before)
        assert done["kind"] == "action", done["message"]
        timings.record(scenario, "press → preset recall completed", rig.agent_clock() - pressed)
        if camera is not None:
            assert camera.state.last_recalled == preset


async def test_held_move_stops_on_release(rig: Rig, operator: Operator, scenario: str) -> None:
    camera = rig.camera_emulator
    pressed = await operator.press(7)
    if camera is not None:
        await rig.until_polled(lambda: camera.state.moving.get("pt") == "left")
        timings.record(scenario, "press → camera moving", rig.agent_clock() - pressed)
    released = await operator.release(7)
    if camera is not None:
        await rig.until_polled(lambda: "pt" not in camera.state.moving)
        timings.record(scenario, "release → camera stopped", rig.agent_clock() - released)
        assert pt_stops(camera.received) == 1
    refused = [e for e in rig.actions(7) if e["kind"] == "refused"]
    assert not refused, refused
