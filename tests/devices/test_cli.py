"""`roomagent device`, `profiles` and `sim` as a person runs them: real processes, real ptys."""

from __future__ import annotations

import subprocess
import sys

import anyio
import pytest
from devices_support import running

from roomagent.devices import Device, load_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.panel import PanelEmulator

pytestmark = pytest.mark.anyio
H = bytes.fromhex
CLI = [sys.executable, "-m", "roomagent"]


async def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(20):
        return await anyio.run_process([*CLI, *args], check=False)


async def test_visca_preset_recall_and_inquiry_exit_0() -> None:
    async with CameraEmulator(load_profile("sony-visca")) as camera:
        done = await cli("device", camera.path, "sony-visca", "preset_recall", "3")
        assert done.returncode == 0, done.stderr
        assert camera.received == [H("81 01 04 3F 02 03 FF")]
        assert camera.state.last_recalled == 3
        done = await cli("device", camera.path, "sony-visca", "inquire_power")
        assert (done.returncode, done.stdout.decode()) == (0, "power: on\n")


async def test_pelco_preset_recall_bytes() -> None:
    async with CameraEmulator(load_profile("pelco-d")) as camera:
        done = await cli("device", camera.path, "pelco-d", "preset_recall", "1")
        assert done.returncode == 0, done.stderr
        await camera.wait_received(1)
        assert camera.received == [H("FF 01 00 07 00 01 09")]


async def test_device_error_and_timeout_exit_1() -> None:
    async with CameraEmulator(load_profile("sony-visca"), address=2) as camera:
        camera.sockets.update({1: b"busy", 2: b"busy"})
        done = await cli("device", camera.path, "sony-visca", "home", "--address", "2")
        assert done.returncode == 1
        assert b"command buffer full" in done.stderr
        assert b"Traceback" not in done.stderr
        camera.mute()
        done = await cli("device", camera.path, "sony-visca", "home", "--timeout", "0.2")
        assert done.returncode == 1 and b"within 0.2 s" in done.stderr


async def test_usage_errors_exit_1_and_send_nothing() -> None:
    async with CameraEmulator(load_profile("sony-visca")) as camera:
        # The problem in one line, not the camera's whole vocabulary (27 commands).
        for args, problem in (
            (["frobnicate"], b"unknown camera command 'frobnicate' (`roomagent device --help`"),
            (["preset_recal", "3"], b"did you mean preset_recall"),
            (["preset_recall"], b"usage: preset_recall N (got no arguments)"),
            (["preset_recall", "x"], b"preset number must be a number (got 'x')"),
        ):
            done = await cli("device", camera.path, "sony-visca", *args)
            assert done.returncode == 1, args
            assert problem in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
            assert b"inquire_version" not in done.stderr and b"pt_drive" not in done.stderr
        done = await cli("device", camera.path, "no-such-profile", "home")
        assert done.returncode == 1 and b"unknown profile" in done.stderr
        assert camera.received == []


async def test_port_cannot_be_opened_exit_2() -> None:
    done = await cli("device", "/dev/does-not-exist", "sony-visca", "home")
    assert done.returncode == 2
    assert done.stderr.decode().startswith("roomagent: error: cannot open /dev/does-not-exist")


async def test_panel_commands() -> None:
    profile = load_profile("kramer-p3000-keypad")
    async with PanelEmulator(profile) as panel:
        done = await cli("device", panel.path, "kramer-p3000-keypad", "led", "2", "blink", "red")
        assert done.returncode == 0, done.stderr
        assert panel.leds == {2: ("blink", "red")}
        done = await cli("device", panel.path, "kramer-p3000-keypad", "led", "2", "pink")
        assert done.returncode == 1 and b"on, off or blink" in done.stderr


async def test_profiles_lists_shipped() -> None:
    done = await cli("profiles")
    assert done.returncode == 0
    assert b"sony-visca" in done.stdout and b"kramer-p3000-keypad" in done.stdout


async def test_sim_camera_prints_its_path_and_serves_it() -> None:
    async with await anyio.open_process(
        [*CLI, "sim", "camera", "--profile", "sony-visca"], stdin=subprocess.DEVNULL
    ) as proc:
        try:
            assert proc.stdout is not None
            with anyio.fail_after(10):
                first = b""
                while not first.endswith(b"\n"):
                    first += await proc.stdout.receive(1)
            line = first.decode().strip()
            assert line.startswith("camera emulator (sony-visca) on /")
            path = line.rsplit(" ", 1)[1]
            done = await cli("device", path, "sony-visca", "inquire_power")
            assert (done.returncode, done.stdout) == (0, b"power: on\n")
        finally:
            proc.terminate()


async def test_sim_panel_keyboard_taps_and_shows_leds() -> None:
    profile = load_profile("generic-ascii-keypad")
    async with await anyio.open_process([*CLI, "sim", "panel", "--profile", profile.name]) as proc:
        try:
            assert proc.stdout is not None and proc.stdin is not None
            out = b""
            with anyio.fail_after(10):
                while out.count(b"\n") < 2:
                    out += await proc.stdout.receive()
            path = out.split(b"\n")[0].decode().rsplit(" ", 1)[1]
            device = Device("keypad", path, profile)
            async with running(device) as events:
                await proc.stdin.send(b"4\n")
                await events.wait(lambda e: e.kind == "button" and e.action == "release")
                assert [(e.button, e.action) for e in events.of("button")] == [
                    (4, "press"),
                    (4, "release"),
                ]
                await device.command("led", 4, "blink")
            with anyio.fail_after(5):
                while b"led 4 blink" not in out:
                    out += await proc.stdout.receive()
        finally:
            proc.terminate()
