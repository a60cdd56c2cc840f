"""End to end over real sockets and ptys: keypad → agent → Rooms simulator / camera → panel."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from roomagent.control.actions import ActionFailed, ActionNotApplicable
from tests.control.conftest import ROOMS_PASSWORD, Room, running_room

pytestmark = pytest.mark.anyio

PT_STOP_TAIL = bytes([0x03, 0x03, 0xFF])  # VISCA pan-tilt drive …  03 03 FF = stop


def _pt_stops(room: Room) -> int:
    return sum(
        1 for f in room.camera.received if f[1:4] == bytes([1, 6, 1]) and f.endswith(PT_STOP_TAIL)
    )


async def _join(room: Room) -> None:
    await room.panel.tap(2)
    await room.panel_shows(lambda p: p.text.get(1) == "In meeting 123 456 789")


async def test_press_starts_a_meeting_and_the_led_follows(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.tap(1)
        await room.panel_shows(
            lambda p: (
                room.led(1) == room.led(3) == "on" and p.text.get(1, "").startswith("In meeting ")
            )
        )
        assert room.meeting_calls() == [
            {"action": "StartMeeting", "action_params": {"meeting_type": "instant"}}
        ]
        assert room.agent.status()["room"]["state"] == "in_meeting"
        # The blinking "joining" LED came before the steady one.
        assert room.changes.index("led 1 blink") < room.changes.index("led 1 on")


async def test_join_sends_the_code_and_leave_returns_to_idle(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await _join(room)
        params = room.meeting_calls("JoinMeeting")[0]["action_params"]
        assert params == {
            "meeting_code": "123456789",
            "password": "",
            "mic_enable": True,
            "camera_enable": True,
        }
        await room.panel.tap(3)
        await room.panel_shows(
            lambda p: p.text.get(1) == "Demo room: ready" and room.led(1) == room.led(3) == "off"
        )
        assert room.meeting_calls("LeaveMeeting")


async def test_macro_runs_its_steps_in_order_with_the_delay(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await _join(room)
        await room.panel.tap(10)
        await room.until(lambda: room.camera.state.last_recalled == 2)
        recalled_at = anyio.current_time()
        assert not room.meeting_calls("SwitchLayout")  # still in the 1 s delay
        layout = await room.sim.next_call("Call/Meeting")
        assert anyio.current_time() - recalled_at >= 0.9
        assert layout[1] == {"action": "SwitchLayout", "action_params": {"switch_type": 1}}


async def test_held_move_runs_while_pressed_and_stops_on_release(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.press(7)
        await room.until(lambda: room.camera.state.moving.get("pt") == "left")
        await room.panel.release(7)
        await room.until(lambda: "pt" not in room.camera.state.moving)
        assert _pt_stops(room) == 1


async def test_stop_is_sent_even_when_the_camera_does_not_answer(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        room.camera.mute()
        await room.panel.press(8)
        await room.until(lambda: any(f.endswith(bytes([2, 3, 0xFF])) for f in room.camera.received))
        await room.panel.release(8)
        await room.until(lambda: _pt_stops(room) == 1)


async def test_panel_lost_mid_hold_stops_the_camera(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.press(7)
        await room.until(lambda: room.camera.state.moving.get("pt") == "left")
        room.panel.unplug()
        await room.until(lambda: "pt" not in room.camera.state.moving)
        assert _pt_stops(room) == 1


async def test_second_press_during_a_join_does_not_start_a_second_join(tmp_path: Path) -> None:
    async with running_room(tmp_path, event_delay=0.8) as room:
        await room.panel.tap(1)
        await room.panel_shows(lambda p: p.text.get(1) == "Joining...")
        await room.panel.tap(1)
        await room.panel.tap(2)
        # Text and LED frames go out one by one: await both rather than assume their order.
        await room.panel_shows(
            lambda p: p.text.get(2) == "Join already in progress" and room.led(2) == "blink"
        )
        await room.panel_shows(lambda p: p.text.get(1, "").startswith("In meeting"))
        assert [p["action"] for p in room.meeting_calls()] == ["StartMeeting"]


async def test_press_of_a_key_still_running_is_acknowledged_not_repeated(tmp_path: Path) -> None:
    async with running_room(tmp_path, event_delay=0.8) as room:
        await room.panel.tap(1)
        await room.panel_shows(lambda p: p.text.get(1) == "Joining...")
        joining = len(room.changes)
        await room.panel.tap(1)  # the same key again while its start is in flight
        # The keypad has no colours: the red notice blink is sent as a plain blink.
        await room.panel_shows(
            lambda p: (
                p.text.get(2) == "busy… meeting.start" and "led 1 blink" in room.changes[joining:]
            )
        )
        kinds = [(e["kind"], e["message"]) for e in room.agent.recent_events()]
        busy = kinds.index(("busy", "button 1: busy… meeting.start still running"))
        assert kinds[busy - 1] == ("button", "button 1 press")  # recorded after its press
        # The notice goes by itself; the join goes on, and the LED shows what the rules say.
        await room.panel_shows(
            lambda p: (
                p.text.get(2) == ""
                and p.text.get(1, "").startswith("In meeting")
                and p.leds[1] == ("on", None)
            )
        )
        assert [p["action"] for p in room.meeting_calls()] == ["StartMeeting"]
        assert room.agent.status()["last_error"] is None  # acknowledged, not an error


async def test_refusal_is_shown_on_the_panel_with_the_rooms_message(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.tap(1)  # a quick meeting: the room is alone in it
        await room.panel_shows(lambda p: p.text.get(1, "").startswith("In meeting"))
        await room.panel.tap(4)  # layout switch needs 2+ participants → 2003
        await room.panel_shows(lambda p: p.text.get(2, "").startswith("not enough participants"))
        assert room.panel.leds[4][0] == "blink"
        refused = [e for e in room.agent.recent_events() if e["kind"] == "refused"]
        assert "not enough participants" in refused[-1]["message"]
        assert room.agent.status()["last_error"].startswith("meeting.layout: not enough")
        # The notice goes away by itself and the LED returns to what the rules say.
        await room.panel_shows(lambda p: p.leds[4][0] == "off" and p.text.get(2) == "")


async def test_press_that_cannot_apply_blinks_and_sends_nothing(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.tap(3)  # Leave, but the room is idle
        await room.panel_shows(lambda p: p.text.get(2) == "Not in a meeting")
        assert room.panel.leds[3] == ("blink", "red") or room.panel.leds[3][0] == "blink"
        assert room.meeting_calls() == []


async def test_rooms_restart_shows_offline_then_recovers(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.sim.kill()
        await room.panel_shows(lambda p: p.text.get(1) == "Rooms client offline")
        assert room.led(16) == "blink"
        await room.panel.tap(1)  # no silent queueing: refused at once, shown on the panel
        await room.panel_shows(lambda p: p.text.get(2) == "Rooms client offline")
        await room.sim.restart()
        await room.panel_shows(lambda p: p.text.get(1) == "Demo room: ready")
        await room.panel_shows(lambda p: p.leds[16][0] == "off")
        assert room.meeting_calls() == []


async def test_device_unplug_shows_offline_and_recovers(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        room.camera.unplug()
        await room.panel_shows(lambda p: p.text.get(2) == "Offline: camera")
        await room.panel_shows(lambda p: room.led(16) == "on")
        await room.panel.tap(5)
        await room.panel_shows(lambda p: p.text.get(2, "").startswith("camera: "))
        room.camera.replug()
        await room.panel_shows(lambda p: p.leds[16][0] == "off" and p.text.get(2) == "")
        status = room.agent.status()
        assert all(d["online"] for d in status["devices"])
        await room.panel.tap(5)
        await room.until(lambda: room.camera.state.last_recalled == 1)


async def test_facade_perform_press_and_masked_config(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        agent = room.agent
        done = await agent.perform({"action": "camera.preset", "camera": "camera", "preset": 2})
        assert done["action"] == "camera.preset" and room.camera.state.last_recalled == 2
        # One speed scale for every camera: 24 is beyond this model's tilt range (1-23).
        moved = await agent.perform(
            {
                "action": "camera.move",
                "camera": "camera",
                "direction": "up",
                "speed": 24,
                "seconds": 0.1,
            }
        )
        assert moved["result"] == "pt_drive for 0.1 s" and "pt" not in room.camera.state.moving
        with pytest.raises(ActionFailed, match="unknown action 'x'"):
            await agent.perform({"action": "x"})
        with pytest.raises(ActionNotApplicable, match="Not in a meeting"):
            await agent.perform({"action": "meeting.leave"})
        pressed = await agent.press("panel", 1)
        assert pressed["handled"]
        await room.panel_shows(lambda p: p.leds.get(1, ("off",))[0] == "on")
        reply = await agent.device_command("camera", "inquire_power", [])
        assert reply["device"] == "camera"
        with pytest.raises(LookupError):
            await agent.device_command("nope", "home", [])
        secret = agent.config.model_copy(
            update={
                "bindings": [
                    *agent.config.bindings,
                    agent.config.bindings[1].model_copy(update={"button": 20}),
                ]
            }
        )
        secret.bindings[-1].__pydantic_extra__["password"] = "123456"  # type: ignore[index]
        agent.config = secret
        view = agent.config_view()
        assert view["bindings"][-1]["password"] == "***"
        assert ROOMS_PASSWORD not in str(view) and ROOMS_PASSWORD not in str(agent.status())
        kinds = {e["kind"] for e in agent.recent_events()}
        assert {"button", "action", "link", "online", "event"} <= kinds


async def test_tap_leaves_but_hold_dissolves_without_leaving_first(tmp_path: Path) -> None:
    async with running_room(tmp_path) as room:
        await room.panel.tap(1)  # a quick meeting: the room is its host
        await room.panel_shows(lambda p: p.text.get(1, "").startswith("In meeting"))
        await room.panel.press(3)  # the keypad reports no HOLD: the agent makes one at 800 ms
        _, params = await room.sim.next_call("Call/Meeting")
        assert params == {"action": "DissolveMeeting"}
        await room.panel.release(3)
        await room.panel_shows(lambda p: p.text.get(1) == "Demo room: ready")
        assert not room.meeting_calls("LeaveMeeting")
