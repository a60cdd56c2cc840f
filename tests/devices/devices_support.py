"""Helpers for the serial device tests: real pseudo-terminals, a raw far end, event waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from roomagent.devices import Device, DeviceEvent, Profile
from roomagent.devices.line import LineFramer
from roomagent.devices.pelco import FRAME_LEN
from roomagent.devices.profiles import parse_profile
from roomagent.devices.visca import ViscaFramer
from roomagent.sim.pty import VirtualPort


def make_profile(text: str, name: str = "test-model") -> Profile:
    return parse_profile(text, f"{name}.toml", name)


FAST_TIMEOUTS = """
[timeouts]
ack = 0.3
completion = 1.0
inquiry = 0.3
offline_after = 100
"""
# A VISCA model with short timeouts and no start-up (tests answer every byte themselves).
FAST_VISCA = 'family = "visca"\n' + FAST_TIMEOUTS + "[visca]\nstartup = []\n"


class FarEnd:
    """The device side of a pty, driven byte by byte by a test."""

    def __init__(self) -> None:
        self.port = VirtualPort("test-far-end")
        self.path = self.port.path
        self._visca = ViscaFramer()
        self._frames: list[bytes] = []
        self._lines: list[str] = []
        self._line_framer = LineFramer((b"\r\n", b"\r", b"\n"))
        self._raw = bytearray()

    async def visca_frame(self) -> bytes:
        with anyio.fail_after(5):
            while not self._frames:
                self._frames += self._visca.feed(await self.port.read())
        return self._frames.pop(0)

    async def line(self) -> str:
        with anyio.fail_after(5):
            while not self._lines:
                self._lines += self._line_framer.feed(await self.port.read())
        return self._lines.pop(0)

    async def pelco_frame(self, variant: str = "pelco-d") -> bytes:
        size = FRAME_LEN[variant]  # type: ignore[index]
        with anyio.fail_after(5):
            while len(self._raw) < size:
                self._raw += await self.port.read()
        frame, self._raw = bytes(self._raw[:size]), self._raw[size:]
        return frame

    async def send(self, data: bytes | str) -> None:
        await self.port.write(data.encode() if isinstance(data, str) else data)

    def close(self) -> None:
        self.port.close()


class Events:
    """Collects a device's events; `await events.wait(kind)` instead of sleeping."""

    def __init__(self, device: Device) -> None:
        self.items: list[DeviceEvent] = []
        self._changed = anyio.Event()
        device.watch(self._on)

    def _on(self, ev: DeviceEvent) -> None:
        self.items.append(ev)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait(self, pred: Callable[[DeviceEvent], bool] | str, after: int = 0) -> DeviceEvent:
        test = (lambda e: e.kind == pred) if isinstance(pred, str) else pred
        with anyio.fail_after(5):
            while True:
                hit = next((e for e in self.items[after:] if test(e)), None)
                if hit is not None:
                    return hit
                await self._changed.wait()

    def of(self, kind: str) -> list[DeviceEvent]:
        return [e for e in self.items if e.kind == kind]


@asynccontextmanager
async def running(device: Device, wait_online: bool = True) -> AsyncIterator[Events]:
    events = Events(device)
    async with anyio.create_task_group() as tg:
        tg.start_soon(device.run)
        if wait_online:
            await events.wait("online")
        yield events
        tg.cancel_scope.cancel()


def profile_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path
