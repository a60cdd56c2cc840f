"""VISCA over a real pty: exact bytes, ACK/completion per socket, queueing, oddities, errors."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from devices_support import FAST_TIMEOUTS, FAST_VISCA, FarEnd, make_profile, running

from roomagent.devices import Device, DeviceError, DeviceTimeout, load_profile, visca
from roomagent.devices.errors import DeviceSuperseded
from roomagent.sim.camera import CameraEmulator

H = bytes.fromhex
pytestmark = pytest.mark.anyio


def fast_device(far: FarEnd, text: str = FAST_VISCA) -> Device:
    return Device("cam", far.path, make_profile(text), backoff_initial=0.05, backoff_cap=0.2)


@pytest.mark.parametrize(
    ("command", "args", "sent"),
    [
        ("power_on", (), "81 01 04 00 02 FF"),
        ("power_off", (), "81 01 04 00 03 FF"),
        ("preset_recall", (3,), "81 01 04 3F 02 03 FF"),
        ("preset_set", ("4",), "81 01 04 3F 01 04 FF"),
        ("preset_reset", (5,), "81 01 04 3F 00 05 FF"),
        ("home", (), "81 01 06 04 FF"),
        ("zoom_tele", (), "81 01 04 07 02 FF"),
        ("zoom_tele", (6,), "81 01 04 07 26 FF"),
        ("zoom_wide", (), "81 01 04 07 03 FF"),
        ("zoom_stop", (), "81 01 04 07 00 FF"),
        ("pan_left", (), "81 01 06 01 0C 0A 01 03 FF"),
        ("pan_right", (0x18,), "81 01 06 01 18 0A 02 03 FF"),
        ("tilt_down", (0x17,), "81 01 06 01 0C 17 03 02 FF"),
        ("tilt_up", (), "81 01 06 01 0C 0A 03 01 FF"),
        ("tilt_down", (), "81 01 06 01 0C 0A 03 02 FF"),
        ("pt_drive", ("up_left", 2, 3), "81 01 06 01 02 03 01 01 FF"),
        ("pt_stop", (), "81 01 06 01 01 01 03 03 FF"),
        ("focus_auto", (), "81 01 04 38 02 FF"),
        ("focus_manual", (), "81 01 04 38 03 FF"),
        ("focus_one_push", (), "81 01 04 18 01 FF"),
        ("focus_far", (), "81 01 04 08 02 FF"),
        ("focus_near", (2,), "81 01 04 08 32 FF"),
        ("focus_stop", (), "81 01 04 08 00 FF"),
    ],
)
async def test_command_bytes_and_ack_completion(
    far_end: FarEnd, command: str, args: tuple[object, ...], sent: str
) -> None:
    device = fast_device(far_end)
    async with running(device), anyio.create_task_group() as tg:
        done = anyio.Event()

        async def go() -> None:
            assert await device.command(command, *args) == {}
            done.set()

        tg.start_soon(go)
        assert await far_end.visca_frame() == H(sent)
        await far_end.send(visca.ack(1, 1))
        assert not done.is_set()  # an ACK alone is not the outcome
        await far_end.send(visca.completion(1, 1))
        await done.wait()


@pytest.mark.parametrize(
    ("command", "sent", "answer", "result"),
    [
        ("inquire_power", "81 09 04 00 FF", "90 50 02 FF", {"power": "on"}),
        ("inquire_power", "81 09 04 00 FF", "90 50 03 FF", {"power": "off"}),
        ("inquire_zoom", "81 09 04 47 FF", "90 50 00 04 00 00 FF", {"zoom": 0x400}),
        ("inquire_focus_mode", "81 09 04 38 FF", "90 50 02 FF", {"focus": "auto"}),
        (
            "inquire_pan_tilt",
            "81 09 06 12 FF",
            "90 50 0F 0F 0F 0F 00 00 00 05 FF",
            {"pan": -1, "tilt": 5},
        ),
        (
            "inquire_version",
            "81 09 00 02 FF",
            "90 50 00 20 05 1A 01 00 02 FF",
            {"vendor": "0020", "model": "051A", "rom": "0100", "sockets": 2},
        ),
    ],
)
async def test_inquiries(
    far_end: FarEnd, command: str, sent: str, answer: str, result: dict[str, object]
) -> None:
    device = fast_device(far_end)
    async with running(device), anyio.create_task_group() as tg:
        got: list[dict[str, object]] = []

        async def go() -> None:
            got.append(await device.command(command))

        tg.start_soon(go)
        assert await far_end.visca_frame() == H(sent)
        await far_end.send(H(answer))
    assert got == [result]


@pytest.mark.parametrize(("code", "reason"), sorted(visca.ERROR_REASONS.items()))
async def test_error_replies_fail_the_command(far_end: FarEnd, code: int, reason: str) -> None:
    device = fast_device(far_end)
    async with running(device) as events, anyio.create_task_group() as tg:
        errors: list[str] = []

        async def go() -> None:
            with pytest.raises(DeviceError) as info:
                await device.command("preset_recall", 1)
            errors.append(info.value.reason)

        tg.start_soon(go)
        await far_end.visca_frame()
        if code == 0x04:  # cancelled names the socket the command was running in
            await far_end.send(visca.ack(1, 2))
            await far_end.send(visca.error(1, 2, code))
        else:
            await far_end.send(visca.error(1, 0, code))
        await events.wait("error")
    assert errors == [reason]


async def test_two_sockets_then_queue_locally(far_end: FarEnd) -> None:
    # Three commands aiming different parts of the camera (position, zoom, focus): none makes
    # another moot, so all three go out, never more than two at once.
    device = fast_device(far_end)
    commands = {1: ("preset_recall", 1), 2: ("zoom_tele",), 3: ("focus_far",)}
    frames = {1: visca.preset(1, "recall", 1), 2: visca.zoom(1, "tele"), 3: visca.focus(1, "far")}
    async with running(device), anyio.create_task_group() as tg:
        finished: list[int] = []

        async def run(n: int) -> None:
            await device.command(*commands[n])
            finished.append(n)

        for n in (1, 2, 3):
            tg.start_soon(run, n)
            await anyio.lowlevel.checkpoint()  # fix the queue order
        assert await far_end.visca_frame() == frames[1]
        await far_end.send(visca.ack(1, 1))
        assert await far_end.visca_frame() == frames[2]
        await far_end.send(visca.ack(1, 2))
        # Both sockets busy: the third command waits here, the camera is not flooded.
        with anyio.move_on_after(0.2):
            await far_end.visca_frame()
            pytest.fail("a third command was sent while both sockets were busy")
        # Completions interleave: socket 2 finishes first.
        await far_end.send(visca.completion(1, 2))
        assert await far_end.visca_frame() == frames[3]
        await far_end.send(visca.ack(1, 2))
        await far_end.send(visca.completion(1, 1) + visca.completion(1, 2))
    assert finished[0] == 2 and sorted(finished) == [1, 2, 3]


async def test_the_newest_preset_wins_over_queued_ones(far_end: FarEnd) -> None:
    """Presets 1, 2, 3, 4 pressed while preset 1 waits for its ACK: 2 and 3 are skipped (never
    sent), 4 goes out once the camera has a socket free — the camera ends where the last
    press points."""
    device = fast_device(far_end)
    outcome: dict[int, str] = {}

    async def recall(n: int) -> None:
        try:
            await device.command("preset_recall", n)
            outcome[n] = "done"
        except DeviceSuperseded:
            outcome[n] = "superseded"

    async with running(device), anyio.create_task_group() as tg:
        for n in (1, 2, 3, 4):
            tg.start_soon(recall, n)
            await anyio.lowlevel.checkpoint()
        assert await far_end.visca_frame() == visca.preset(1, "recall", 1)
        await far_end.send(visca.ack(1, 1))
        assert await far_end.visca_frame() == visca.preset(1, "recall", 4)
        await far_end.send(visca.ack(1, 2) + visca.completion(1, 1) + visca.completion(1, 2))
    assert outcome == {1: "done", 2: "superseded", 3: "superseded", 4: "done"}
    assert device.counters["superseded"] == 2


async def test_buffer_full_decoded_and_emulator_answers_it() -> None:
    profile = load_profile("sony-visca")
    async with CameraEmulator(profile) as camera:
        device = Device("cam", camera.path, profile)
        async with running(device):
            camera.sockets.update({1: b"x", 2: b"y"})  # another controller keeps both busy
            with pytest.raises(DeviceError, match=r"^command buffer full$"):
                await device.command("home")


async def test_odd_replies_are_tolerated(far_end: FarEnd) -> None:
    device = fast_device(far_end)
    async with running(device), anyio.create_task_group() as tg:
        results: list[str] = []

        async def go() -> None:
            await device.command("home")
            results.append("home")

        tg.start_soon(go)
        await far_end.visca_frame()
        # completion for an empty socket, an unknown frame and garbage, then the real answers
        await far_end.send(H("90 52 FF 90 7E 01 FF 13 37 00") + visca.ack(1, 1))
        await far_end.send(visca.completion(1, 1))
    assert results == ["home"]
    counters = device.counters
    assert counters["odd_completions"] == 1
    assert counters["unknown_frames"] == 1
    assert counters["dropped_bytes"] == 3


async def test_socket_reuse_finishes_the_old_command(far_end: FarEnd) -> None:
    device = fast_device(far_end)
    async with running(device), anyio.create_task_group() as tg:
        done: list[int] = []

        async def recall(n: int) -> None:
            await device.command("preset_recall", n)
            done.append(n)

        tg.start_soon(recall, 1)
        await far_end.visca_frame()
        await far_end.send(visca.ack(1, 1))
        tg.start_soon(recall, 2)
        await far_end.visca_frame()
        await far_end.send(visca.ack(1, 1))  # the camera reuses socket 1
        await far_end.send(visca.completion(1, 1))
    assert sorted(done) == [1, 2]
    assert device.counters["socket_reused"] == 1


async def test_fixed_reply_address_quirk(far_end: FarEnd) -> None:
    text = 'family = "visca"\n' + FAST_TIMEOUTS + "[visca]\nstartup = []\nreply_address = 1\n"
    device = Device("cam", far_end.path, make_profile(text), address=3)
    async with running(device), anyio.create_task_group() as tg:
        tg.start_soon(device.command, "preset_recall", 2)
        assert await far_end.visca_frame() == H("83 01 04 3F 02 02 FF")
        await far_end.send(H("90 41 FF 90 51 FF"))  # answers from address 1, not 3
    assert device.counters["reply_address_mismatch"] == 0


async def test_stop_is_sent_even_if_the_start_got_no_answer(far_end: FarEnd) -> None:
    device = fast_device(far_end)
    async with running(device), anyio.create_task_group() as tg:
        with pytest.raises(DeviceTimeout, match="no ACK"):
            await device.command("pan_left")
        assert (await far_end.visca_frame())[-3:-1] == bytes([0x01, 0x03])
        tg.start_soon(device.command, "pt_stop")
        assert await far_end.visca_frame() == H("81 01 06 01 01 01 03 03 FF")
        await far_end.send(visca.ack(1, 1) + visca.completion(1, 1))


async def test_stop_supersedes_an_unsent_start(far_end: FarEnd) -> None:
    device = fast_device(far_end)
    async with running(device), anyio.create_task_group() as tg:
        outcome: list[str] = []

        async def start() -> None:
            try:
                await device.command("zoom_tele")
                outcome.append("sent")
            except DeviceError as exc:
                outcome.append(exc.reason)

        tg.start_soon(device.command, "preset_recall", 1)
        await far_end.visca_frame()  # the recall is waiting for its ACK: nothing else goes
        tg.start_soon(start)
        await anyio.lowlevel.checkpoint()
        tg.start_soon(device.command, "zoom_stop")
        await anyio.lowlevel.checkpoint()
        await far_end.send(visca.ack(1, 1))
        assert await far_end.visca_frame() == H("81 01 04 07 00 FF")
        await far_end.send(visca.ack(1, 2) + visca.completion(1, 2) + visca.completion(1, 1))
    assert outcome == ["superseded by a stop before it was sent"]


async def test_emulated_camera_powers_off_and_on_again() -> None:
    """The VISCA emulator (sim/camera.py) through the real driver on a pty: after power_off
    it refuses motion as a real camera does (0x41 not executable) and still accepts
    power_on — and after that every motion works again."""
    profile = load_profile("sony-visca")
    async with CameraEmulator(profile) as camera:
        device = Device("cam", camera.path, profile)
        async with running(device):
            await device.command("power_off")
            assert camera.state.power is False
            assert await device.command("inquire_power") == {"power": "off"}
            with pytest.raises(DeviceError, match="not executable"):
                await device.command("preset_recall", 2)
            await device.command("power_on")
            assert camera.state.power is True
            assert await device.command("inquire_power") == {"power": "on"}
            await device.command("preset_recall", 2)
            assert camera.state.last_recalled == 2
