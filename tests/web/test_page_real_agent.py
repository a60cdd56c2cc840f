"""End to end in Chromium: the page → the real Agent → the Rooms simulator and a virtual
camera on a pseudo-terminal, and the simulator's events back onto the page live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import expect

from roomagent.config.model import AgentConfig, CalendarSection
from roomagent.demo import CAMERA_PROFILE, PANEL_PROFILE
from roomagent.devices.profiles import load_profile
from roomagent.sim.camera import CameraEmulator
from roomagent.sim.clouds import YunzhijiaCloud
from roomagent.sim.panel import PanelEmulator
from roomagent.sim.rooms import RoomsSimulator

from .real_room import app_page, demo_room_config
from .test_page_browser import BROWSER_TESTS, screenshots

pytestmark = BROWSER_TESTS

ROOMS_PASSWORD = "sim-rooms-pw-5150"
WEB_PASSWORD = "page-pw-8086-e2e"
CLOUD_TOKEN = "yzj-token-page-e2e"
PASSWORDS = (ROOMS_PASSWORD, WEB_PASSWORD)


async def test_page_drives_the_real_agent_against_the_simulators(tmp_path: Path) -> None:
    camera = CameraEmulator(load_profile(CAMERA_PROFILE))
    panel = PanelEmulator(load_profile(PANEL_PROFILE))
    async with RoomsSimulator(password=ROOMS_PASSWORD) as sim, camera, panel:
        config = demo_room_config(sim, panel, camera, tmp_path, PASSWORDS)
        async with app_page(config, tmp_path, WEB_PASSWORD) as (_, page):
            await expect(page.locator("#room-name")).to_have_text("Demo room")
            await expect(page.locator("#health-text")).to_have_text("Room is working")
            await expect(page.locator("#links")).to_contain_text("Connected")

            await page.get_by_role("button", name="Preset 3", exact=True).click()
            await expect(page.locator("#result")).to_have_text("Camera preset 3: done.")
            assert camera.state.last_recalled == 3

            await page.get_by_role("button", name="Start meeting", exact=True).click()
            # The simulator's JoinMeetingCompleted event reaches the page by itself.
            await expect(page.locator("#meeting-status")).to_contain_text("In a meeting")
            await expect(page.locator("#meeting-code")).not_to_have_text("—")
            await screenshots(page, "real-agent")

            await page.get_by_role("button", name="Leave meeting", exact=True).click()
            await expect(page.locator("#meeting-status")).to_contain_text("No meeting")

            # Keypad presses read as sentences, one row per action; a press the room
            # cannot act on is "not done" in the history, not the room's last error.
            await panel.tap(3)  # leave, with no meeting to leave
            events = page.locator("#events")
            await expect(events).to_contain_text(
                "Button 3 → leave meeting: not done — Not in a meeting"
            )
            await expect(page.locator("#last-error")).to_be_hidden()
            await expect(events.locator(".is-last-error")).to_have_count(0)
            await expect(page.locator("#health-text")).to_have_text("Room is working")
            await panel.tap(1)  # start
            await expect(events).to_contain_text("Button 1 → start meeting: done")
            await expect(events).not_to_contain_text("Button 1 pressed")
            await screenshots(page, "real-agent-presses")
            html = await page.content()
            assert ROOMS_PASSWORD not in html and WEB_PASSWORD not in html


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
            config = demo_room_config(sim, panel, camera, tmp_path, PASSWORDS)
            with_calendar(config, cloud, tmp_path / "yzj.token")
            async with app_page(config, tmp_path, WEB_PASSWORD) as (_, page):
                await expect(page.locator("#cal-next")).to_contain_text("Design crit")
                result = page.locator("#calendar-result")
                await page.get_by_role("button", name="Book this room (30 min)").click()
                await expect(result).to_contain_text("Book this room (30 min): Room booked until ")
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
