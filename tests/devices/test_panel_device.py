"""Panels over a real pty with the panel emulator: handshake, LEDs, text, buttons, keepalive."""

from __future__ import annotations

from pathlib import Path

import pytest
from devices_support import FarEnd, make_profile, running

from roomagent.devices import Device, DeviceError, DeviceTimeout, Profile, load_profile
from roomagent.devices.errors import CommandUsageError
from roomagent.sim.panel import PanelEmulator

pytestmark = pytest.mark.anyio


async def test_kramer_handshake_led_text_and_buttons() -> None:
    profile = load_profile("kramer-p3000-keypad")
    async with PanelEmulator(profile) as panel:
        device = Device("keypad", panel.path, profile)
        async with running(device) as events:
            assert device.kind == "panel"
            assert panel.received == ["#"]  # handshake before online
            await device.command("led", 1, "blink", colour="red")
            await device.command("led", 2, "on")
            await device.command("text", 1, "In meeting")
            assert panel.received[1:] == [
                "#01@RGB 1,255,0,0,2",
                "#01@RGB 2,0,255,0,1",
                '#01@LCD 1,"In meeting"',
            ]
            assert panel.leds == {1: ("blink", "red"), 2: ("on", "green")}
            assert panel.text == {1: "In meeting"}
            await panel.press(3)
            await panel.hold(3)
            await panel.release(3)
            await events.wait(lambda e: e.kind == "button" and e.action == "release")
            buttons = [(e.button, e.action) for e in events.of("button")]
            assert buttons == [(3, "press"), (3, "hold"), (3, "release")]


async def test_kramer_error_reply_is_decoded() -> None:
    profile = load_profile("kramer-p3000-keypad")
    async with PanelEmulator(profile) as panel:
        device = Device("keypad", panel.path, profile)
        async with running(device):
            panel.inject_error(3)
            with pytest.raises(DeviceError, match=r"parameter out of range \(ERR 003\)"):
                await device.command("led", 1, "on")


async def test_lutron_led_is_fire_and_forget_and_buttons() -> None:
    profile = load_profile("lutron-seetouch-keypad")
    async with PanelEmulator(profile, address=5) as panel:
        device = Device("keypad", panel.path, profile, address=5)
        async with running(device) as events:
            await device.command("led", 2, "on")
            await panel.wait_received(1)
            assert panel.received == ["#DEVICE,5,82,9,1"]
            assert panel.leds == {2: ("on", None)}
            with pytest.raises(CommandUsageError, match="no text display"):
                await device.command("text", 1, "x")
            await panel.tap(4)
            await events.wait(lambda e: e.kind == "button" and e.action == "release")
            assert [(e.button, e.action) for e in events.of("button")] == [
                (4, "press"),
                (4, "release"),
            ]


def _generic_with_short_hold() -> Profile:
    shipped = Path(load_profile("generic-ascii-keypad").source).read_text(encoding="utf-8")
    return make_profile(shipped.replace("hold_ms = 800", "hold_ms = 60"))


async def test_generic_synthesises_hold_once() -> None:
    profile = _generic_with_short_hold()
    async with PanelEmulator(profile) as panel:
        device = Device("keypad", panel.path, profile)
        async with running(device) as events:
            await panel.press(2)  # the board reports press and release only
            hold = await events.wait(lambda e: e.action == "hold")
            assert hold.button == 2
            await panel.hold(2)  # a board that does send HOLD must not double it
            await panel.release(2)
            await events.wait(lambda e: e.action == "release")
            assert [e.action for e in events.of("button")] == ["press", "hold", "release"]
            await panel.tap(3)  # a quick tap is no hold
            await events.wait(lambda e: e.action == "release" and e.button == 3)
            assert [e.action for e in events.of("button") if e.button == 3] == [
                "press",
                "release",
            ]


async def test_generic_led_text_ack_and_bad_colour() -> None:
    profile = load_profile("generic-ascii-keypad")
    async with PanelEmulator(profile) as panel:
        device = Device("keypad", panel.path, profile)
        async with running(device):
            await device.command("led", 4, "off")
            await device.command("text", 2, "Hello")
            assert panel.received[-2:] == ["LED 4 OFF", "TEXT 2 Hello"]
            with pytest.raises(CommandUsageError, match="LED number must be 1–32"):
                await device.command("led", 99, "on")
            panel.inject_error(2)
            with pytest.raises(DeviceError, match=r"bad argument \(ERR 2\)"):
                await device.command("led", 1, "on")


KEEPALIVE = """
family = "line"
[timeouts]
ack = 0.2
[line]
button_template = "BTN {n} {action}"
button_actions = { PRESS = "press", RELEASE = "release" }
inbound = [{ event = "button", pattern = '^BTN (?P<button>\\d+) (?P<action>PRESS|RELEASE)$' },
           { event = "ack", pattern = '^OK$' }]
ack_template = "OK"
[line.keepalive]
send = "PING"
expect = "^PONG$"
reply = "PONG"
interval = 0.05
timeout = 0.1
misses = 2
[line.led]
template = "LED {n} {mode}"
modes = { on = "ON", off = "OFF", blink = "BLINK" }
"""


async def test_keepalive_failure_takes_the_panel_offline_and_back() -> None:
    profile = make_profile(KEEPALIVE)
    async with PanelEmulator(profile) as panel:
        device = Device("keypad", panel.path, profile, backoff_initial=0.02, backoff_cap=0.05)
        async with running(device) as events:
            await panel.wait_received(1)
            assert panel.received[0] == "PING"
            panel.mute()
            offline = await events.wait("offline")
            assert "keepalive" in offline.detail
            with pytest.raises(DeviceError):
                await device.command("led", 1, "on")
            panel.unmute()
            await events.wait("online", after=events.items.index(offline))


async def test_handshake_failure_is_a_timeout(far_end: FarEnd) -> None:
    device = Device("keypad", far_end.path, load_profile("generic-ascii-keypad"))
    async with running(device, wait_online=False) as events:
        assert await far_end.line() == "PING"
        offline = await events.wait(lambda e: e.kind == "offline" and "handshake" in e.detail)
        assert "no answer" in offline.detail
        assert isinstance(DeviceTimeout("x"), DeviceError)
