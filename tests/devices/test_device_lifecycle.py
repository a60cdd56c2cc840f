"""Supervised Device over a real pty with the camera emulator: unplug, replug, restarts."""

from __future__ import annotations

import shutil
import termios
from pathlib import Path

import anyio
import pytest
from devices_support import FAST_TIMEOUTS, FarEnd, make_profile, running

from roomagent.devices import Device, DeviceError, DeviceOffline, PortOpenError, run_command, visca
from roomagent.sim.camera import CameraEmulator

pytestmark = pytest.mark.anyio
H = bytes.fromhex
# Sony start-up with short timeouts so a silent camera is noticed quickly.
STARTUP_VISCA = (
    'family = "visca"\n'
    + FAST_TIMEOUTS
    + '[visca]\nstartup = ["address_set", "if_clear", "inquire_power", "inquire_pan_tilt"]\n'
)
STARTUP_FRAMES = [
    H("88 30 01 FF"),
    H("81 01 00 01 FF"),
    H("81 09 04 00 FF"),
    H("81 09 06 12 FF"),
]


def make_device(path: str) -> Device:
    return Device("cam", path, make_profile(STARTUP_VISCA), backoff_initial=0.02, backoff_cap=0.1)


async def test_start_up_sequence_runs_before_online() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        device = make_device(camera.path)
        assert not device.online and device.offline_reason == "not opened yet"
        async with running(device):
            assert camera.received == STARTUP_FRAMES
            assert device.online and device.offline_reason is None
            assert await device.command("inquire_power") == {"power": "on"}


async def test_unplug_mid_command_fails_it_and_never_replays() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        camera.completion_delay = 30.0  # the preset move is still running when we unplug
        device = make_device(camera.path)
        async with running(device) as events, anyio.create_task_group() as tg:
            failures: list[str] = []

            async def recall() -> None:
                with pytest.raises(DeviceError) as info:
                    await device.command("preset_recall", 7)
                failures.append(info.value.reason)

            tg.start_soon(recall)
            await camera.wait_received(len(STARTUP_FRAMES) + 1)
            camera.unplug()
            offline = await events.wait("offline")
            assert "port lost" in offline.detail
            assert not device.online and "port lost" in (device.offline_reason or "")
            with pytest.raises(DeviceOffline):
                await device.command("pan_left")
            camera.received.clear()
            camera.replug()
            await events.wait("online", after=events.items.index(offline))
            # After replug: only the start-up sequence, never the recall or the pan.
            assert camera.received == STARTUP_FRAMES
        assert failures and "went offline" in failures[0]
        assert device.counters["reopens"] >= 1
        assert device.counters["port_losses"] == 1


async def test_power_up_announcement_reruns_start_up() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        device = make_device(camera.path)
        async with running(device) as events:
            seen = len(events.items)
            await camera.power_cycle()
            await events.wait("offline", after=seen)
            await events.wait("online", after=seen)
            assert camera.received[len(STARTUP_FRAMES) :] == STARTUP_FRAMES
            assert device.counters["announcements"] == 1


async def test_silent_camera_goes_offline_then_recovers() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        camera.mute()
        device = make_device(camera.path)
        async with running(device, wait_online=False) as events:
            offline = await events.wait(lambda e: e.kind == "offline" and "start-up" in e.detail)
            assert "no answer" in offline.detail
            camera.unmute()
            await events.wait("online")
            assert device.online


async def test_garbage_is_counted_and_the_device_stays_online() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        device = make_device(camera.path)
        async with running(device):
            await camera.send_raw(b"\x00\x13\x37\x42")
            assert await device.command("inquire_power") == {"power": "on"}
            assert device.counters["dropped_bytes"] == 4
            assert device.online


async def test_port_is_opened_exclusively() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        device = make_device(camera.path)
        async with running(device):
            with pytest.raises(PortOpenError, match="cannot open"):
                await run_command(camera.path, profile, "inquire_power")


async def test_missing_port_is_a_port_open_error() -> None:
    with pytest.raises(PortOpenError, match="no such file"):
        await run_command("/nonexistent/ttyUSB9", make_profile(STARTUP_VISCA), "home")


async def test_one_shot_respects_overall_limit() -> None:
    profile = make_profile(STARTUP_VISCA)
    async with CameraEmulator(profile) as camera:
        camera.mute()
        with pytest.raises(DeviceError, match=r"no outcome within 0\.1 s|no ACK"):
            await run_command(camera.path, profile, "home", limit_s=0.1)
        assert camera.received == [visca.home(1)]


async def test_emulator_attaches_to_a_socat_pair(tmp_path: Path) -> None:
    """Attach mode: the emulator on one end of `socat pty,raw,echo=0 pty,raw,echo=0`."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.skip("socat is not installed")
    agent_end, device_end = tmp_path / "agent", tmp_path / "device"
    args = [
        socat, "-d", "-d",
        f"pty,raw,echo=0,link={agent_end}", f"pty,raw,echo=0,link={device_end}",
    ]  # fmt: skip
    async with await anyio.open_process(args) as proc:
        try:
            assert proc.stderr is not None
            seen = b""
            with anyio.fail_after(5):
                while b"starting data transfer loop" not in seen:  # links exist by now
                    seen += await proc.stderr.receive()
            profile = make_profile(STARTUP_VISCA)
            async with CameraEmulator(profile, port=str(device_end)) as camera:
                assert camera.path == str(device_end)
                device = make_device(str(agent_end))
                async with running(device):
                    assert await device.command("inquire_power") == {"power": "on"}
                with pytest.raises(RuntimeError, match="cannot be unplugged"):
                    camera.unplug()
        finally:
            proc.terminate()


async def test_serial_settings_come_from_the_profile(far_end: FarEnd) -> None:
    text = (
        'family = "pelco-d"\n[serial]\nbaud = 19200\ndata_bits = 7\nparity = "even"\n'
        'stop_bits = 2\nflow_control = "none"\n'
    )
    device = Device("cam", far_end.path, make_profile(text))
    async with running(device):
        assert far_end.port.fd is not None
        # A pty pair shares one termios: the far end sees what the agent set.
        iflag, _oflag, cflag, lflag, ispeed, _ospeed, _cc = termios.tcgetattr(far_end.port.fd)
        assert ispeed == termios.B19200
        assert cflag & termios.CSTOPB
        # (Linux ptys force CS8 and no parity, so data bits and parity cannot be seen here.)
        assert not lflag & (termios.ICANON | termios.ECHO)  # raw
        assert not iflag & termios.IXON
