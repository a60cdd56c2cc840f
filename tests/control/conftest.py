"""Fixtures for the control tests: real Rooms simulator, real ptys with device emulators."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.abc
import pytest

from roomagent.app import App
from roomagent.config.model import AgentConfig
from roomagent.control.core import RoomCore
from roomagent.demo import virtual_room
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


ROOMS_PASSWORD = "sim-secret-pw"
WAIT_S = 5.0


@dataclass
class Room:
    """A whole room on loopback: simulator, virtual camera and keypad, and the agent."""

    sim: RoomsSimulator
    camera: CameraEmulator
    panel: PanelEmulator
    agent: RoomCore
    app: App
    changes: list[str] = field(default_factory=list)
    agent_scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    agent_done: anyio.Event = field(default_factory=anyio.Event)

    async def stop_agent(self) -> None:
        """Cancel the agent as a shutdown does, and wait until it has finished."""
        self.agent_scope.cancel()
        with anyio.fail_after(WAIT_S):
            await self.agent_done.wait()

    async def panel_shows(self, predicate: Callable[[PanelEmulator], bool]) -> None:
        """Until the keypad shows what `predicate` wants (awaits its LED/text changes)."""
        with anyio.fail_after(WAIT_S):
            while not predicate(self.panel):
                await self.panel.wait_change()

    def led(self, n: int) -> str:
        return self.panel.leds.get(n, ("off", None))[0]

    def meeting_calls(self, action: str | None = None) -> list[dict[str, object]]:
        return [
            p
            for _, p in self.sim.calls("Call/Meeting")
            if action is None or p.get("action") == action
        ]

    async def until(self, predicate: Callable[[], bool]) -> None:
        """For state with no change event: the camera emulator's frames and movement."""
        with anyio.fail_after(WAIT_S):
            while not predicate():  # noqa: ASYNC110 (the emulator offers no event to await)
                await anyio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_room(
    tmp_path: Path,
    *,
    event_delay: float = 0.05,
    configure: Callable[[AgentConfig], AgentConfig] | None = None,
) -> AsyncIterator[Room]:
    secret = tmp_path / "rooms.pw"
    secret.write_text(ROOMS_PASSWORD + "\n")
    async with virtual_room(
        ROOMS_PASSWORD, web=False, discovery=False, event_delay=event_delay, password_file=secret
    ) as parts:
        config = configure(parts.config) if configure else parts.config
        app = App(config, notice_seconds=1.0)  # short notices keep the tests quick
        agent = app.core
        room = Room(parts.sim, parts.camera, parts.panel, agent, app)
        parts.panel.on_change = room.changes.append

        async def run_agent(*, task_status: anyio.abc.TaskStatus[App]) -> None:
            with room.agent_scope:
                await app.run(task_status=task_status)
            room.agent_done.set()

        async with anyio.create_task_group() as tg:
            await tg.start(run_agent)
            with anyio.fail_after(WAIT_S):
                await agent.wait_settled()
            await room.panel_shows(
                lambda p: (
                    p.text.get(1) == "Demo room: ready"
                    and p.leds.get(16, ("off",))[0] == "off"
                    and not p.text.get(2)
                )
            )
            yield room
            tg.cancel_scope.cancel()
