"""Pelco-D / Pelco-P over a real pty: exact bytes, fire-and-forget, pacing, emulator state."""

from __future__ import annotations

import time

import anyio
import pytest
from devices_support import FarEnd, make_profile, running

from roomagent.devices import Device, DeviceError, load_profile
from roomagent.sim.camera import CameraEmulator

pytestmark = pytest.mark.anyio
H = bytes.fromhex


@pytest.mark.parametrize(
    ("command", "args", "sent"),
    [
        ("preset_recall", (1,), "FF 01 00 07 00 01 09"),
        ("preset_set", (2,), "FF 01 00 03 00 02 06"),
        ("preset_reset", (2,), "FF 01 00 05 00 02 08"),
        ("home", (), "FF 01 00 07 00 22 2A"),
        ("pan_left", (), "FF 01 00 04 20 00 25"),
        ("pan_right", (0x3F,), "FF 01 00 02 3F 00 42"),
        ("tilt_up", (), "FF 01 00 08 00 20 29"),
        ("tilt_down", (), "FF 01 00 10 00 20 31"),
        ("pt_stop", (), "FF 01 00 00 00 00 01"),
        ("zoom_tele", (), "FF 01 00 20 00 00 21"),
        ("zoom_wide", (), "FF 01 00 40 00 00 41"),
        ("zoom_stop", (), "FF 01 00 00 00 00 01"),
        ("power_on", (), "FF 01 88 00 00 00 89"),
        ("power_off", (), "FF 01 08 00 00 00 09"),
        ("focus_near", (), "FF 01 01 00 00 00 02"),
    ],
)
async def test_pelco_d_bytes(
    far_end: FarEnd, command: str, args: tuple[int, ...], sent: str
) -> None:
    device = Device("cam", far_end.path, load_profile("pelco-d"))
    async with running(device):
        assert await device.command(command, *args) == {}  # succeeds once written
        assert await far_end.pelco_frame() == H(sent)


async def test_pelco_p_bytes_and_address(far_end: FarEnd) -> None:
    device = Device("cam", far_end.path, load_profile("pelco-p"), address=3)
    async with running(device):
        await device.command("preset_recall", 1)
        assert await far_end.pelco_frame("pelco-p") == H("A0 03 00 07 00 01 AF 0A")


async def test_pelco_has_no_inquiries(far_end: FarEnd) -> None:
    device = Device("cam", far_end.path, load_profile("pelco-d"))
    async with running(device):
        with pytest.raises(DeviceError, match="do not answer inquiries"):
            await device.command("inquire_power")


async def test_pacing_between_frames(far_end: FarEnd) -> None:
    profile = make_profile('family = "pelco-d"\n[pelco]\nmin_interval_ms = 150\n')
    device = Device("cam", far_end.path, profile)
    async with running(device), anyio.create_task_group() as tg:
        tg.start_soon(device.command, "pan_left")
        tg.start_soon(device.command, "pt_stop")
        await far_end.pelco_frame()
        first = time.monotonic()
        await far_end.pelco_frame()
        # Lower bound only: a slow machine may space them further apart, never closer.
        assert time.monotonic() - first >= 0.12


async def test_pelco_emulator_applies_frames() -> None:
    profile = load_profile("pelco-d")
    async with CameraEmulator(profile, address=1) as camera:
        device = Device("cam", camera.path, profile)
        async with running(device):
            await device.command("preset_set", 5)
            await device.command("pan_right")
            with anyio.fail_after(5):
                await camera.wait_until(lambda: camera.state.moving == {"pt": "right"})
            assert 5 in camera.state.presets
            await device.command("pt_stop")
            await device.command("preset_recall", 5)
            await camera.wait_received(4)
            assert camera.state.moving == {}
            assert camera.state.last_recalled == 5
