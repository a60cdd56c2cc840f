"""The real App on a config, and the page open on it in Chromium (for the end-to-end tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from playwright.async_api import Page

from roomagent.app import App
from roomagent.config.model import AgentConfig
from roomagent.demo import demo_config
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator

from .test_page_browser import open_page


def demo_room_config(
    sim: RoomsSimulator,
    panel: PanelEmulator,
    camera: CameraEmulator,
    tmp_path: Path,
    passwords: tuple[str, str],
) -> AgentConfig:
    """The demo room on these simulators: (Rooms, web) passwords in files, state in tmp_path,
    discovery off (tests stay on 127.0.0.1)."""
    (tmp_path / "rooms.pw").write_text(passwords[0] + "\n")
    (tmp_path / "web.pw").write_text(passwords[1] + "\n")
    config = demo_config(sim.url, panel.path, camera.path, 0)
    config.rooms.password_file = tmp_path / "rooms.pw"
    config.web.password_file = tmp_path / "web.pw"
    config.discovery.enabled = False
    config.state_dir = tmp_path
    return config


@asynccontextmanager
async def app_page(
    config: AgentConfig, base_dir: Path, web_password: str
) -> AsyncIterator[tuple[App, Page]]:
    """Start the App, wait until the room has settled, open its page; stop it all after."""
    agent = App(config, base_dir=base_dir)
    async with anyio.create_task_group() as tg:
        await tg.start(agent.run)
        with anyio.fail_after(10):
            await agent.core.wait_settled()
        assert agent.web is not None
        async with open_page(agent.web.url, config.web.user, web_password) as page:
            yield agent, page
        tg.cancel_scope.cancel()
