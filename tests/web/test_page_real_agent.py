"""End to end in Chromium: the page → the real Agent → the Rooms simulator and a virtual
camera on a pseudo-terminal, and the simulator's events back onto the page live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from playwright.async_api import expect

from roomagent.app import App
from roomagent.config.model import AgentConfig, CalendarSection
from roomagent.demo import CAMERA_PROFILE, PANEL_PROFILE, demo_config
from roomagent.devices.profiles import load_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.clouds import YunzhijiaCloud
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator

from .test_page_browser import CHROMIUM, open_page, screenshots

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

ROOMS_PASSWORD = "sim-rooms-pw-5150"
WEB_PASSWORD = "page-pw-8086-e2e"
CLOUD_TOKEN = "yzj-token-page-e2e"


def room_config(
    sim: RoomsSimulator, panel: PanelEmulator, camera: CameraEmulator, tmp_path: Path
) -> AgentConfig:
    """The demo room on these simulators, its passwords in files, state in tmp_path."""
    (tmp_path / "rooms.pw").write_text(ROOMS_PASSWORD + "\n")
    (tmp_path / "web.pw").write_text(WEB_PASSWORD + "\n")
    config = demo_config(sim.url, panel.path, camera.path, 0)
    config.rooms.password_file = tmp_path / "rooms.pw"
    config.web.password_file = tmp_path / "web.pw"
    config.discovery.enabled = False  # tests stay on 127.0.0.1
    config.state_dir = tmp_path
    return config


async def test_page_drives_the_real_agent_against_the_simulators(tmp_path: Path) -> None:
    camera = CameraEmulator(load_profile(CAMERA_PROFILE))
    panel = PanelEmulator(load_profile(PANEL_PROFILE))
    async with RoomsSimulator(password=ROOMS_PASSWORD) as sim, camera, panel:
        config = room_config(sim, panel, camera, tmp_path)
        agent = App(config, base_dir=tmp_path)
        async with anyio.create_task_group() as tg:
            await tg.start(agent.run)
            with anyio.fail_after(10):
                await agent.core.wait_settled()
            assert agent.web is not None
            async with open_page(agent.web.url, config.web.user, WEB_PASSWORD) as page:
                await expect(page.locator("#room-name")).to_have_text("Demo room")
                await expect(page.locator("#health-text")).to_have_text("Room is working")
                await expect(page.locator("#links")).to_contain_text("Connected")

                await page.get_by_role("button", name="Preset 3").click()
                await expect(page.locator("#result")).to_have_text("Camera preset 3: done.")
                assert camera.state.last_recalled == 3

                await page.get_by_role("button", name="Start meeting").click()
                # The simulator's JoinMeetingCompleted event reaches the page by itself.
                await expect(page.locator("#meeting-status")).to_contain_text("In a meeting")
                await expect(page.locator("#meeting-code")).not_to_have_text("—")
                await screenshots(page, "real-agent")

                await page.get_by_role("button", name="Leave meeting").click()
                await expect(page.locator("#meeting-status")).to_contain_text("No meeting")

                # Keypad presses read as sentences; a refusal becomes the last error, shown
                # with its time and as resolved (nothing is wrong with the room itself).
                await panel.tap(3)  # leave, with no meeting to leave
                events = page.locator("#events")
                await expect(events).to_contain_text(
                    "Button 3 → leave meeting: not done — Not in a meeting"
                )
                await expect(page.locator("#last-error-text")).to_have_text(
                    "Leave meeting: not done — Not in a meeting"
                )
                await expect(page.locator("#last-error-when")).to_contain_text("just now")
                await expect(page.locator("#last-error-state")).to_contain_text("Resolved")
                await expect(page.locator("#health-text")).to_have_text("Room is working")
                await expect(events.locator(".is-last-error")).to_contain_text("Button 3")
                await panel.tap(1)  # start
                await expect(events).to_contain_text("Button 1 → start meeting: done")
                await expect(events).to_contain_text("Button 1 pressed")
                await screenshots(page, "real-agent-presses")
                html = await page.content()
                assert ROOMS_PASSWORD not in html and WEB_PASSWORD not in html
            tg.cancel_scope.cancel()


def with_calendar(config: AgentConfig, cloud: YunzhijiaCloud, token_file: Path) -> None:
    config.calendar = CalendarSection(yunzhijia=cloud.section(token_file))


async def test_page_books_and_ends_the_room_through_the_real_calendar(tmp_path: Path) -> None:
    """Book/End on the page → the real Agent → the room calendar → the loopback Yunzhijia
    cloud (real HTTP); the outcome comes back in the agent's words."""
    (tmp_path / "yzj.token").write_text(CLOUD_TOKEN)
    camera = CameraEmulator(load_profile(CAMERA_PROFILE))
    panel = PanelEmulator(load_profile(PANEL_PROFILE))
    with YunzhijiaCloud(CLOUD_TOKEN) as cloud:
        later = datetime.now(UTC) + timedelta(hours=2)
        cloud.add_booking("23F会议室", later, later + timedelta(minutes=30), topic="Design crit")
        async with RoomsSimulator(password=ROOMS_PASSWORD) as sim, camera, panel:
            config = room_config(sim, panel, camera, tmp_path)
            with_calendar(config, cloud, tmp_path / "yzj.token")
            agent = App(config, base_dir=tmp_path)
            async with anyio.create_task_group() as tg:
                await tg.start(agent.run)
                with anyio.fail_after(10):
                    await agent.core.wait_settled()
                assert agent.web is not None
                async with open_page(agent.web.url, config.web.user, WEB_PASSWORD) as page:
                    await expect(page.locator("#cal-next")).to_contain_text("Design crit")
                    result = page.locator("#calendar-result")
                    await page.get_by_role("button", name="Book this room (30 min)").click()
                    await expect(result).to_contain_text(
                        "Book this room (30 min): Room booked until "
                    )
                    await expect(page.locator("#cal-current")).to_contain_text("Ad-hoc meeting")
                    assert len(cloud.requests_to("create")) == 1

                    await page.get_by_role("button", name="End booking now").click()
                    await expect(result).to_contain_text("End booking now: Booking ended at ")
                    assert len(cloud.requests_to("modify")) == 1
                    events = page.locator("#events")
                    await expect(events).to_contain_text("Book this room: Room booked until ")
                    await expect(events).to_contain_text("End booking: Booking ended at ")
                    await screenshots(page, "real-agent-calendar")
                    assert CLOUD_TOKEN not in await page.content()
                tg.cancel_scope.cancel()
