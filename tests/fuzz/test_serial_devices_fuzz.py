"""Live devices on real ptys fed hostile bytes by their emulators: the agent's Device stays
up, keeps its counters, and the next valid input (a button, a reply) gets through."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import given

from roomagent.devices import Device, DeviceError, load_profile
from roomagent.devices.base import DeviceEvent
from roomagent.devices.line import LineDialect
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.emulator import SerialEmulator
from roomagent.sim.panel import PanelEmulator
from tests.fuzz.fuzz_support import LIVE_FUZZ, camera_corpus, panel_corpus, ran, streams

PROBE_BUTTON = 2  # not in the panel corpus: its press after the garbage is the resync proof
SETTLE_S = 5.0


class LiveDevice:
    """A Device and its emulator on one pty, driven from the test thread through a portal."""

    def __init__(self, portal: BlockingPortal, device: Device, emulator: SerialEmulator) -> None:
        self.portal, self.device, self.emulator = portal, device, emulator
        self.buttons: list[tuple[int | None, str | None]] = []
        self._event = anyio.Event()
        device.watch(self._on_event)

    def _on_event(self, ev: DeviceEvent) -> None:
        if ev.kind == "button":
            self.buttons.append((ev.button, ev.action))
        self._event.set()
        self._event = anyio.Event()

    async def until(self, predicate: Any) -> None:
        with anyio.fail_after(SETTLE_S):
            while not predicate():
                await self._event.wait()


@contextlib.contextmanager
def live_device(emulator: SerialEmulator, profile: str) -> Iterator[LiveDevice]:
    with start_blocking_portal("asyncio") as portal:
        with portal.wrap_async_context_manager(emulator):
            # Reply-shaped garbage can fail a start-up and cost a reopen: keep those quick.
            device = Device("fuzzed", emulator.path, profile, backoff_initial=0.05, backoff_cap=0.2)
            running = portal.start_task_soon(device.run)
            live = LiveDevice(portal, device, emulator)
            portal.call(live.until, lambda: device.online)
            yield live
            running.cancel()


@pytest.fixture(scope="module")
def panel() -> Iterator[LiveDevice]:
    with live_device(
        PanelEmulator(load_profile("generic-ascii-keypad")), "generic-ascii-keypad"
    ) as live:
        yield live


@pytest.fixture(scope="module")
def camera() -> Iterator[LiveDevice]:
    with live_device(CameraEmulator(load_profile("sony-visca")), "sony-visca") as live:
        yield live


PANEL_DIALECT = LineDialect(load_profile("generic-ascii-keypad").line, 1)  # type: ignore[arg-type]


@LIVE_FUZZ
@given(streams(panel_corpus(PANEL_DIALECT)))
def test_panel_device_survives_garbage(panel: LiveDevice, garbage: bytes) -> None:
    ran("panel device: garbage then a press")
    seen = len(panel.buttons)

    async def send() -> None:
        await panel.emulator.send_raw(garbage + b"\r\n")
        await panel.emulator.press(PROBE_BUTTON)  # type: ignore[attr-defined]
        await panel.emulator.release(PROBE_BUTTON)  # type: ignore[attr-defined]
        await panel.until(lambda: (PROBE_BUTTON, "release") in panel.buttons[seen:])

    panel.portal.call(send)
    assert panel.device.online
    assert (PROBE_BUTTON, "press") in panel.buttons[seen:]


@LIVE_FUZZ
@given(streams(camera_corpus(load_profile("sony-visca"))))
def test_camera_device_survives_garbage(camera: LiveDevice, garbage: bytes) -> None:
    ran("camera device: garbage then an inquiry")
    device = camera.device

    async def send() -> dict[str, Any]:
        await camera.emulator.send_raw(garbage + b"\xff")
        for _ in range(3):
            # Garbage may hold a power-up announcement: the device restarts, then answers.
            await camera.until(lambda: device.online)
            with contextlib.suppress(DeviceError):
                return await device.command("inquire_power")
        raise AssertionError(f"no answer after garbage; counters {device.counters}")

    reply = camera.portal.call(send)
    assert reply is not None
    assert device.counters.get("parser_failures", 0) == 0
