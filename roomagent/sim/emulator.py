"""What the camera and panel emulators share: the port, the read loop, the task group."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self

import anyio
from anyio.abc import TaskGroup, TaskStatus

from roomagent.devices.profiles import Profile
from roomagent.sim.pty import PortGone, VirtualPort


class SerialEmulator(ABC):
    """A device on the far end of a serial line, speaking its profile's protocol."""

    def __init__(self, profile: Profile, name: str, port: str | None = None) -> None:
        self.profile = profile
        self.port = VirtualPort(name, attach=port)
        self.received: list[Any] = []  # every frame / line the device got, in order
        self.muted = False
        self._tg: TaskGroup | None = None
        self._outer: TaskGroup | None = None
        self._received_changed = anyio.Event()

    @property
    def path(self) -> str:
        return self.port.path

    def record(self, item: Any) -> None:
        self.received.append(item)
        self.note_activity()

    def note_activity(self) -> None:
        """Something arrived or the emulated state changed: wake whoever waits on it."""
        self._received_changed.set()
        self._received_changed = anyio.Event()

    async def wait_received(self, count: int) -> list[Any]:
        """Until at least `count` frames/lines have arrived (tests await this, no sleeps)."""
        while len(self.received) < count:
            await self._received_changed.wait()
        return self.received

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Until `predicate()` holds, re-checked on every frame and state change."""
        while not predicate():
            await self._received_changed.wait()

    # ---- faults a test or a person can inject ----

    def unplug(self) -> None:
        self.port.unplug()
        self.on_unplug()

    def replug(self) -> None:
        self.port.replug()

    def mute(self) -> None:
        self.muted = True

    def unmute(self) -> None:
        self.muted = False

    async def send_raw(self, data: bytes) -> None:
        await self.port.write(data)

    async def send_garbage(self, size: int = 24, seed: int | None = None) -> bytes:
        junk = random.Random(seed).randbytes(size)
        await self.port.write(junk)
        return junk

    # ---- running ----

    def spawn(self, func: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._tg is not None:
            self._tg.start_soon(func)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                task_status.started()
                while True:
                    try:
                        data = await self.port.read()
                    except PortGone:
                        await self.port.plugged.wait()
                        continue
                    await self.handle(data)
        finally:
            self._tg = None

    async def __aenter__(self) -> Self:
        self._outer = anyio.create_task_group()
        await self._outer.__aenter__()
        await self._outer.start(self.run)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:  # fmt: skip
        assert self._outer is not None
        self._outer.cancel_scope.cancel()
        try:
            return await self._outer.__aexit__(exc_type, exc, tb)
        finally:
            self.port.close()

    @abstractmethod
    async def handle(self, data: bytes) -> None:
        """Bytes from the controller."""

    def on_unplug(self) -> None:
        """Forget per-connection state (sockets in flight, partial frames)."""
        return None
