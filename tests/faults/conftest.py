"""Fault-matrix fixtures: the simulator and emulators here, `roomagent run` as a child."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from roomagent.demo import VirtualRoom, virtual_room
from tests.faults.agent_process import AgentProcess, config_text, running_agent

ROOMS_PASSWORD = "fault-matrix-pw"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class FaultRoom:
    room: VirtualRoom
    agent: AgentProcess
    config: Path


@pytest.fixture
async def fault_room(tmp_path: Path) -> AsyncIterator[FaultRoom]:
    async with virtual_room(ROOMS_PASSWORD, web=False, discovery=False, event_delay=0.05) as room:
        config = tmp_path / "room.toml"
        config.write_text(config_text(room.sim.url, room.panel.path, room.camera.path))
        async with running_agent(config, ROOMS_PASSWORD) as agent:
            yield FaultRoom(room, agent, config)
